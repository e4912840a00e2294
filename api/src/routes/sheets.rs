//! Paper bubble sheets: print a session's sheet, import scanned pages into its register
//! through the import circuit breaker, and let a person decide the marks held for review.
//!
//! - `GET /api/sessions/{id}/sheet.pdf`, `GET /api/sessions/{id}/sheet/layout`
//! - `POST /api/sheets` (multipart: scanned PDFs and phone photos, JPEG or PNG) -> a job; `GET /api/sheets/{job_id}`,
//!   `GET /api/sheets/{job_id}/pages/{n}.png`
//! - `GET /api/sessions/{id}/review`, `POST /api/sessions/{id}/review/{student_id}`

use crate::app::import::{self, SheetJob};
use crate::app::register::load_session;
use crate::app::sheets::{self as review, Decision, ReviewQueue, sheet_info};
use crate::auth::CurrentUser;
use crate::checks::{check_optional_text, session_id, student_id};
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, RequestId, multipart_problem};
use crate::state::AppState;
use crate::views::MarkAccepted;
use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Status;
use serde::Deserialize;
use sheets::Layout;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// The printable bubble sheet of a session (admins and the course's teachers).
#[utoipa::path(
    get, path = "/api/sessions/{id}/sheet.pdf", operation_id = "get_session_sheet", tag = "sheets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses(
        (status = 200, description = "The printable bubble sheet, an A4 PDF.", content_type = "application/pdf"),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn sheet_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    let ctx = load_session(&state, session_id("id", &id)?).await?;
    user.require_course_staff(&ctx.course)?;
    let info = sheet_info(&state, &ctx).await?;
    let (pdf, _) = tokio::task::spawn_blocking(move || sheets::generate::sheet_pdf(&info))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let mut response = Body::from(pdf).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    let disposition = format!("attachment; filename=\"sheet-{}.pdf\"", ctx.session_id);
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(ApiError::internal)?,
    );
    Ok(response)
}

/// Where every bubble of the session's sheet is (PDF points, origin bottom left), for
/// tools and tests.
#[utoipa::path(
    get, path = "/api/sessions/{id}/sheet/layout", operation_id = "get_session_sheet_layout", tag = "sheets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses(
        (status = 200, description = "Every bubble of the sheet: page, row, student, status, centre `x`/`y` and radius `r` in PDF points."),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn sheet_layout(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Json<Layout>, ApiError> {
    let ctx = load_session(&state, session_id("id", &id)?).await?;
    user.require_course_staff(&ctx.course)?;
    let info = sheet_info(&state, &ctx).await?;
    Ok(Json(sheets::generate::layout_of(&info)))
}

/// The upload form: one or more parts named `file`, each a scanned PDF or a phone's photo
/// of one page (JPEG or PNG); together they are one job, pages in order.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SheetUpload {
    /// A PDF, JPEG or PNG (repeat the part for several files).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Imports sheets: scanned PDFs and phone photos, one page a photo (admins and teachers;
/// each page only into sessions the caller teaches). Answers 503 with Retry-After at once while the import breaker is open.
#[utoipa::path(
    post, path = "/api/sheets", operation_id = "import_sheets", tag = "sheets",
    security(("bearer" = [])),
    request_body(content = SheetUpload, content_type = "multipart/form-data", description = "One or more parts named `file`: scanned PDFs (application/pdf) and phone photos of one page each (image/jpeg, image/png; EXIF orientation honoured), told apart by their first bytes. All files of one upload are one job, pages in order.",
        example = json!({"file": "<the scanned PDF, or a photo of a page>"})),
    responses(
        (status = 201, description = "The import job: what was read and recorded on each page.", body = SheetJob),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 413, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
        (status = 503, body = crate::error::Problem)
    )
)]
async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<SheetJob>), ApiError> {
    if user.role == domain::Role::Student {
        return Err(ApiError::Forbidden(
            "only administrators and teachers may import sheets",
        ));
    }
    // While the store is known to be down, refuse before reading the upload.
    import::refuse_while_open(&state)?;
    let multipart = multipart.map_err(|e| ApiError::BadRequest {
        code: "multipart_expected",
        detail: format!("expected a multipart/form-data body with a `file` part: {e}"),
        errors: Vec::new(),
    })?;
    let files = read_files(multipart, state.config().sheet_upload_limit).await?;
    // The import runs to its end even if the client goes away: no write is left undecided.
    let job = tokio::spawn(import::run(state.clone(), user, request_id, files))
        .await
        .map_err(ApiError::internal)??;
    Ok((StatusCode::CREATED, Json(job)))
}

/// The `file` parts of the upload, in order (at most `limit` bytes together).
async fn read_files(mut multipart: Multipart, limit: usize) -> Result<Vec<Vec<u8>>, ApiError> {
    let too_large = |e| multipart_problem(e, limit);
    let (mut files, mut total) = (Vec::new(), 0);
    while let Some(field) = multipart.next_field().await.map_err(too_large)? {
        if field.name() != Some("file") {
            let name = field.name().unwrap_or("").to_string();
            return Err(ApiError::invalid(
                "file",
                format!("unexpected part {name:?}; send the files in parts named `file`"),
            ));
        }
        let mut bytes = Vec::new();
        let mut field = field;
        while let Some(chunk) = field.chunk().await.map_err(too_large)? {
            total += chunk.len();
            if total > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() {
            return Err(ApiError::invalid("file", "the file is empty"));
        }
        files.push(bytes);
    }
    if files.is_empty() {
        return Err(ApiError::invalid(
            "file",
            "no file: send the PDF or the photos in parts named `file`",
        ));
    }
    Ok(files)
}

/// An import job: what each page said and what was recorded.
#[utoipa::path(
    get, path = "/api/sheets/{job_id}", operation_id = "get_sheet_import", tag = "sheets",
    security(("bearer" = [])),
    params(("job_id" = String, Path, description = "job id")),
    responses(
        (status = 200, description = "The import job.", body = SheetJob),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn job(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(job_id): AppPath<String>,
) -> Result<Json<SheetJob>, ApiError> {
    let id = job_uuid(&job_id)?;
    Ok(Json(import::load_job(&state, &user, id).await?))
}

/// A page of an import as PNG, each bubble outlined by its decision: green filled, grey
/// empty, orange uncertain; held rows framed in red.
#[utoipa::path(
    get, path = "/api/sheets/{job_id}/pages/{page}", operation_id = "get_sheet_import_page", tag = "sheets",
    security(("bearer" = [])),
    params(("job_id" = String, Path, description = "job id"), ("page" = String, Path, description = "`<n>.png`, n from 1")),
    responses(
        (status = 200, description = "The page as read, each bubble outlined by what was seen.", content_type = "image/png"),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn page_png(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((job_id, page)): AppPath<(String, String)>,
) -> Result<Response, ApiError> {
    let id = job_uuid(&job_id)?;
    let number: i32 = page
        .strip_suffix(".png")
        .and_then(|n| n.parse().ok())
        .filter(|n| *n >= 1)
        .ok_or_else(|| ApiError::bad_param("page", "expected `<n>.png` with n from 1"))?;
    // Visibility follows the job's.
    import::load_job(&state, &user, id).await?;
    let png = import::page_png(&state, id, number)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("job {id} has no image of page {number}")))?;
    let mut response = Body::from(png).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    Ok(response)
}

fn job_uuid(value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value).map_err(|_| ApiError::bad_param("job_id", "not a job id (a UUID)"))
}

/// Rows of scanned sheets held for review (admins and the course's teachers), read from
/// the register itself so a decision just made is never listed again.
#[utoipa::path(
    get, path = "/api/sessions/{id}/review", operation_id = "list_held_rows", tag = "sheets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses(
        (status = 200, description = "The rows held for review, with their candidate statuses.", body = ReviewQueue),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn review_queue(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Json<ReviewQueue>, ApiError> {
    let queue = review::review_queue(&state, &user, session_id("id", &id)?).await?;
    Ok(Json(queue))
}

/// A decision on a held row: a `status` (with an optional `reason` when it replaces the
/// register's mark), or `{"keep": true}` to keep the register's mark.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `present`, `late`, `excused` or `absent`.
    #[schema(value_type = Option<String>, example = "late")]
    pub status: Option<Status>,
    /// Why the register's mark is replaced (default "review of a held sheet mark").
    pub reason: Option<String>,
    /// Keep the register's mark and clear the hold (instead of a `status`).
    #[serde(default)]
    pub keep: bool,
}

impl ReviewBody {
    /// The decision the body is.
    fn decision(self) -> Result<Decision, ApiError> {
        match (self.keep, self.status, self.reason) {
            (true, None, None) => Ok(Decision::Keep),
            (true, _, _) => Err(ApiError::invalid(
                "keep",
                "keeping the register's mark takes no status and no reason",
            )),
            (false, Some(status), reason) => Ok(Decision::Status {
                status,
                reason: check_optional_text("reason", reason.as_deref(), 500)?,
            }),
            (false, None, _) => Err(ApiError::invalid(
                "status",
                "send a status, or {\"keep\": true} to keep the register's mark",
            )),
        }
    }
}

/// Decides a held row: records (or corrects, by the reviewer) the student's mark, or keeps
/// the register's, and clears the hold.
#[utoipa::path(
    post, path = "/api/sessions/{id}/review/{student_id}", operation_id = "decide_held_row", tag = "sheets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id"), ("student_id" = String, Path, description = "student number")),
    request_body(content = ReviewBody, description = "The status the row should have (with an optional reason), or `keep` to keep the register's mark.",
        example = json!({"status": "late"})),
    responses(
        (status = 200, description = "The mark is recorded, corrected or kept, and the hold cleared.", body = MarkAccepted),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn review_decide(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath((id, student)): AppPath<(String, String)>,
    AppJson(body): AppJson<ReviewBody>,
) -> Result<Json<MarkAccepted>, ApiError> {
    let session = session_id("id", &id)?;
    let student = student_id("student_id", &student)?;
    let decision = body.decision()?;
    let done = review::decide(
        &state,
        &user,
        request_id,
        session.clone(),
        student.clone(),
        decision,
    )
    .await?;
    let status = done.aggregate.status_of(&student);
    Ok(Json(MarkAccepted {
        session_id: session.to_string(),
        status: status.ok_or_else(|| ApiError::internal("a decided row has no mark"))?,
        student_id: student.to_string(),
        version: done.version,
        position: done.position,
        changed: done.changed(),
    }))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    // The upload's own limit (`sheet_upload_limit`) is enforced while reading the part.
    let upload = OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .routes(routes!(sheet_pdf))
        .routes(routes!(sheet_layout))
        .merge(upload)
        .routes(routes!(job))
        .routes(routes!(page_png))
        .routes(routes!(review_queue))
        .routes(routes!(review_decide))
}
