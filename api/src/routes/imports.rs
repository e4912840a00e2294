//! Bulk onboarding over HTTP: `POST /api/imports/students` (multipart: the spreadsheet and
//! the import's options), admin only. A dry run answers the preview and writes nothing.

use crate::app::onboarding::values::DateOrder;
use crate::app::onboarding::{self, ImportReport, Importer, StudentImport};
use crate::app::store::Source;
use crate::auth::CurrentUser;
use crate::checks::{check_date, course_id};
use crate::error::ApiError;
use crate::extract::{RequestId, multipart_problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest spreadsheet accepted, in bytes.
pub const IMPORT_LIMIT: usize = 10 * 1024 * 1024;

/// The parts of an import (multipart/form-data).
#[allow(dead_code)] // documents the form for OpenAPI; the parts are read one by one
#[derive(Deserialize, ToSchema)]
pub struct StudentUpload {
    /// The spreadsheet: CSV (UTF-8; comma, semicolon or tab), XLSX, XLS, XLSB or ODS. The first
    /// sheet's first non-empty row is the header.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    /// `true` for the preview only.
    dry_run: Option<bool>,
    /// JSON object: header as written -> field (`id`, `name`, `email`, `department`, `level`,
    /// `phone`, `active`, `registered_on`, `course`), or `""` to ignore the column.
    mapping: Option<String>,
    /// Enrol every imported student in this course.
    course: Option<String>,
    /// First day of the enrolments (needed with `course` or a course column).
    effective_from: Option<NaiveDate>,
    /// `dmy` (default) or `mdy`: how `03/04/2026` is read.
    date_order: Option<String>,
}

/// Imports students from a spreadsheet (admin only).
#[utoipa::path(
    post, path = "/api/imports/students", operation_id = "import_students", tag = "students",
    security(("bearer" = [])),
    request_body(content = StudentUpload, content_type = "multipart/form-data",
        description = "The spreadsheet in a part named `file`, and the options as parts of their own.",
        example = json!({"file": "<students.xlsx>", "dry_run": "true"})),
    responses(
        (status = 200, description = "What each row did (or, in a dry run, would do).", body = ImportReport),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 413, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
        (status = 503, body = crate::error::Problem)
    )
)]
async fn import_students(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<ImportReport>, ApiError> {
    user.require_admin()?;
    let multipart = multipart.map_err(|e| ApiError::BadRequest {
        code: "multipart_expected",
        detail: format!("expected a multipart/form-data body with a `file` part: {e}"),
        errors: Vec::new(),
    })?;
    let (file, options) = read_form(multipart).await?;
    // The import runs to its end even if the client goes away: the enrolments follow the
    // students it wrote.
    let report = tokio::spawn(async move {
        let importer = Importer {
            pool: state.pool(),
            stores: state.stores(),
            actor: user.actor(),
            request_id,
            source: Source::Api,
        };
        onboarding::import_students(&importer, &file, &options, &|_, _, _| {}).await
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(report))
}

async fn read_form(mut multipart: Multipart) -> Result<(Vec<u8>, StudentImport), ApiError> {
    let (mut file, mut options) = (None, StudentImport::default());
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                if bytes.len() + chunk.len() > IMPORT_LIMIT {
                    return Err(ApiError::PayloadTooLarge {
                        limit: IMPORT_LIMIT,
                    });
                }
                bytes.extend_from_slice(&chunk);
            }
            file = Some(bytes);
            continue;
        }
        let value = field.text().await.map_err(unreadable)?;
        option(&mut options, &name, value.trim())?;
    }
    let file = file.ok_or_else(|| {
        ApiError::invalid(
            "file",
            "no file: send the spreadsheet in a part named `file`",
        )
    })?;
    Ok((file, options))
}

/// Sets one option from its form part.
fn option(options: &mut StudentImport, name: &str, value: &str) -> Result<(), ApiError> {
    match name {
        "dry_run" => {
            options.dry_run = match value {
                "true" | "1" | "on" => true,
                "false" | "0" | "" => false,
                _ => return Err(ApiError::invalid("dry_run", "must be true or false")),
            }
        }
        "mapping" if !value.is_empty() => {
            options.mapping =
                serde_json::from_str::<HashMap<String, String>>(value).map_err(|e| {
                    ApiError::invalid(
                        "mapping",
                        format!("must be a JSON object of header to field name: {e}"),
                    )
                })?
        }
        "course" if !value.is_empty() => options.course = Some(course_id("course", value)?),
        "effective_from" if !value.is_empty() => {
            let date = value
                .parse::<NaiveDate>()
                .map_err(|_| ApiError::invalid("effective_from", "must be a date, YYYY-MM-DD"))?;
            options.effective_from = Some(check_date("effective_from", date)?);
        }
        "date_order" => {
            options.date_order = match value {
                "dmy" | "" => DateOrder::Dmy,
                "mdy" => DateOrder::Mdy,
                _ => return Err(ApiError::invalid("date_order", "must be dmy or mdy")),
            }
        }
        "mapping" | "course" | "effective_from" => {}
        other => {
            return Err(ApiError::invalid(
                other,
                "is not an import option (file, dry_run, mapping, course, effective_from, date_order)",
            ));
        }
    }
    Ok(())
}

fn unreadable(e: MultipartError) -> ApiError {
    multipart_problem(e, IMPORT_LIMIT)
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_students))
        // The file's own limit is enforced while reading the part.
        .layer(DefaultBodyLimit::max(IMPORT_LIMIT + 64 * 1024))
}
