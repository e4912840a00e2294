//! Bulk onboarding over HTTP: `POST /api/imports/students` and `POST /api/imports/users`
//! (multipart: the spreadsheet and the import's options), admin only. A dry run answers the
//! preview and writes nothing.

use crate::app::onboarding::accounts::{self, AccountImportReport};
use crate::app::onboarding::marks::{self, MarkImportReport};
use crate::app::onboarding::values::DateOrder;
use crate::app::onboarding::{self, ImportReport, Importer, StudentImport};
use crate::app::register::load_session_to_write;
use crate::app::store::Source;
use crate::auth::CurrentUser;
use crate::checks::{check_date, course_id, session_id};
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
    let (file, parts) = read_form(multipart.map_err(not_multipart)?).await?;
    let mut options = StudentImport::default();
    for (name, value) in parts {
        option(&mut options, &name, value.trim())?;
    }
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

/// The file and the other parts, by name.
async fn read_form(mut multipart: Multipart) -> Result<(Vec<u8>, Vec<(String, String)>), ApiError> {
    let (mut file, mut parts) = (None, Vec::new());
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
        parts.push((name, value));
    }
    let file = file.ok_or_else(|| {
        ApiError::invalid(
            "file",
            "no file: send the spreadsheet in a part named `file`",
        )
    })?;
    Ok((file, parts))
}

/// Sets one option from its form part.
fn option(options: &mut StudentImport, name: &str, value: &str) -> Result<(), ApiError> {
    match name {
        "dry_run" => options.dry_run = dry_run(value)?,
        "mapping" if !value.is_empty() => options.mapping = mapping(value)?,
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

fn dry_run(value: &str) -> Result<bool, ApiError> {
    match value {
        "true" | "1" | "on" => Ok(true),
        "false" | "0" | "" => Ok(false),
        _ => Err(ApiError::invalid("dry_run", "must be true or false")),
    }
}

fn mapping(value: &str) -> Result<HashMap<String, String>, ApiError> {
    if value.is_empty() {
        return Ok(HashMap::new());
    }
    serde_json::from_str::<HashMap<String, String>>(value).map_err(|e| {
        ApiError::invalid(
            "mapping",
            format!("must be a JSON object of header to field name: {e}"),
        )
    })
}

/// The parts of an account import (multipart/form-data).
#[allow(dead_code)] // documents the form for OpenAPI; the parts are read one by one
#[derive(Deserialize, ToSchema)]
pub struct UserUpload {
    /// The spreadsheet (CSV, XLSX, XLS, XLSB or ODS) with columns `username`, `role` and
    /// optionally `email`, `student_id` (student accounts) and `courses` (codes a teacher
    /// teaches).
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    /// `true` for the preview only.
    dry_run: Option<bool>,
    /// JSON object: header as written -> field (`username`, `role`, `email`, `student_id`,
    /// `courses`), or `""` to ignore the column.
    mapping: Option<String>,
}

/// Imports teachers and other accounts from a spreadsheet (admin only). Each new account's
/// one-time password is in its row of the answer, this once; it must be replaced at first
/// sign-in.
#[utoipa::path(
    post, path = "/api/imports/users", operation_id = "import_users", tag = "users",
    security(("bearer" = [])),
    request_body(content = UserUpload, content_type = "multipart/form-data",
        description = "The spreadsheet in a part named `file`, and the options as parts of their own.",
        example = json!({"file": "<teachers.csv>", "dry_run": "true"})),
    responses(
        (status = 200, description = "What each row did (or, in a dry run, would do); new accounts' one-time passwords.", body = AccountImportReport),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 413, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
        (status = 503, body = crate::error::Problem)
    )
)]
async fn import_users(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<AccountImportReport>, ApiError> {
    user.require_admin()?;
    let (file, parts) = read_form(multipart.map_err(not_multipart)?).await?;
    let (mut preview, mut columns) = (false, HashMap::new());
    for (name, value) in parts {
        match name.as_str() {
            "dry_run" => preview = dry_run(value.trim())?,
            "mapping" => columns = mapping(value.trim())?,
            other => {
                return Err(ApiError::invalid(
                    other,
                    "is not an option of this import (file, dry_run, mapping)",
                ));
            }
        }
    }
    let report = tokio::spawn(async move {
        let importer = Importer {
            pool: state.pool(),
            stores: state.stores(),
            actor: user.actor(),
            request_id,
            source: Source::Api,
        };
        accounts::import_accounts(&importer, &file, preview, &columns).await
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(report))
}

/// The parts of a marks import (multipart/form-data).
#[allow(dead_code)] // documents the form for OpenAPI; the parts are read one by one
#[derive(Deserialize, ToSchema)]
pub struct MarkUpload {
    /// The session whose register the marks go to.
    session_id: String,
    /// The file (CSV or a workbook) with columns `student_id`, `status` and optionally
    /// `remark`.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    /// `true` for the preview only.
    dry_run: Option<bool>,
    /// JSON object: header as written -> field (`student_id`, `status`, `remark`), or `""`.
    mapping: Option<String>,
}

/// Imports a session's marks from a file as one roll call (method `import`), all or nothing
/// (admins and the course's teachers).
#[utoipa::path(
    post, path = "/api/imports/marks", operation_id = "import_marks", tag = "attendance",
    security(("bearer" = [])),
    request_body(content = MarkUpload, content_type = "multipart/form-data",
        description = "The session id and the file in parts of their own.",
        example = json!({"session_id": "01a20e97abab71d585620a59b45afc7d", "file": "<marks.csv>", "dry_run": "true"})),
    responses(
        (status = 200, description = "Per row: recorded (`new`), already so (`unchanged`) or `error`; in a preview nothing is recorded.", body = MarkImportReport),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem),
        (status = 413, body = crate::error::Problem),
        (status = 422, description = "A row is in error (code `roll_call_refused`, each row in `errors`): nothing was recorded; or the file or an option is invalid.", body = crate::error::Problem),
        (status = 503, body = crate::error::Problem)
    )
)]
async fn import_marks(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<MarkImportReport>, ApiError> {
    let (file, parts) = read_form(multipart.map_err(not_multipart)?).await?;
    let (mut session, mut preview, mut columns) = (None, false, HashMap::new());
    for (name, value) in parts {
        match name.as_str() {
            "session_id" => session = Some(session_id("session_id", value.trim())?),
            "dry_run" => preview = dry_run(value.trim())?,
            "mapping" => columns = mapping(value.trim())?,
            other => {
                return Err(ApiError::invalid(
                    other,
                    "is not an option of this import (file, session_id, dry_run, mapping)",
                ));
            }
        }
    }
    let session = session.ok_or_else(|| ApiError::invalid("session_id", "is required"))?;
    let ctx = load_session_to_write(&state, session).await?;
    let report =
        marks::import_marks(&state, &user, request_id, &ctx, &file, preview, &columns).await?;
    Ok(Json(report))
}

fn not_multipart(e: MultipartRejection) -> ApiError {
    ApiError::BadRequest {
        code: "multipart_expected",
        detail: format!("expected a multipart/form-data body with a `file` part: {e}"),
        errors: Vec::new(),
    }
}

fn unreadable(e: MultipartError) -> ApiError {
    multipart_problem(e, IMPORT_LIMIT)
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_students))
        .routes(routes!(import_users))
        .routes(routes!(import_marks))
        // The file's own limit is enforced while reading the part.
        .layer(DefaultBodyLimit::max(IMPORT_LIMIT + 64 * 1024))
}
