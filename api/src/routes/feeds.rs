//! Calendar feeds: `POST|GET /api/calendar/feeds`, `DELETE /api/calendar/feeds/{id}`, and the
//! feed itself, `GET /api/calendar/ics/{token}.ics`, which a calendar app fetches without
//! signing in (the token in the URL is the secret; revoke the feed to stop it).

use crate::app::feeds;
use crate::auth::CurrentUser;
use crate::checks::course_id;
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What a new feed lists.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedBody {
    /// A course the caller may read; absent: the caller's own sessions (a teacher's courses,
    /// a student's enrolments).
    pub course_id: Option<String>,
}

/// A calendar feed (its token only in the answer that created it).
#[derive(Serialize, ToSchema)]
pub struct FeedView {
    /// Id, to revoke the feed by.
    pub id: String,
    /// The course it lists; null for the owner's own sessions.
    pub course_id: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The secret URL to subscribe to: shown only when the feed is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl FeedView {
    fn new(feed: feeds::Feed, url: Option<String>) -> Self {
        FeedView {
            id: feed.id,
            course_id: feed.course_id.map(|c| c.to_string()),
            created_at: feed.created_at,
            revoked_at: feed.revoked_at,
            url,
        }
    }
}

/// The caller's feeds.
#[derive(Serialize, ToSchema)]
pub struct FeedList {
    /// Newest first.
    pub feeds: Vec<FeedView>,
}

/// Creates a secret calendar feed of the caller's sessions, or of a course the caller may
/// read. The answer holds its URL once; keep it like a password (anyone with it reads the
/// sessions' titles and times).
#[utoipa::path(
    post, path = "/api/calendar/feeds", operation_id = "create_calendar_feed", tag = "calendar",
    security(("bearer" = [])),
    request_body(content = FeedBody, description = "Which sessions the feed lists.",
        example = json!({"course_id": "CS101"})),
    responses(
        (status = 201, description = "The feed, with its secret URL (shown this once).", body = FeedView),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(body): AppJson<FeedBody>,
) -> Result<(StatusCode, Json<FeedView>), ApiError> {
    let course = body
        .course_id
        .as_deref()
        .map(|c| course_id("course_id", c))
        .transpose()?;
    let created = feeds::create(&state, &user, course).await?;
    let url = format!(
        "{}/api/calendar/ics/{}.ics",
        state.config().public_url,
        created.token
    );
    Ok((
        StatusCode::CREATED,
        Json(FeedView::new(created.feed, Some(url))),
    ))
}

/// Lists the caller's feeds (never their tokens).
#[utoipa::path(
    get, path = "/api/calendar/feeds", operation_id = "list_calendar_feeds", tag = "calendar",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's feeds, newest first.", body = FeedList))
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<FeedList>, ApiError> {
    let feeds = feeds::list(&state, &user)
        .await?
        .into_iter()
        .map(|f| FeedView::new(f, None))
        .collect();
    Ok(Json(FeedList { feeds }))
}

/// Whether something changed.
#[derive(Serialize, ToSchema)]
pub struct Revoked {
    /// False when the feed was revoked already.
    pub changed: bool,
}

/// Revokes a feed (its owner or an administrator): its URL answers 404 from now on.
#[utoipa::path(
    delete, path = "/api/calendar/feeds/{id}", operation_id = "revoke_calendar_feed", tag = "calendar",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "feed id")),
    responses(
        (status = 200, description = "The feed is revoked.", body = Revoked),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Json<Revoked>, ApiError> {
    let changed = feeds::revoke(&state, &user, &id).await?;
    Ok(Json(Revoked { changed }))
}

/// The feed itself, for calendar apps (no sign-in: the token is the secret). iCalendar with
/// times in each course's zone; cancelled sessions are `STATUS:CANCELLED`. 404 for an
/// unknown or revoked token, or when the feed's owner may no longer read what it lists.
#[utoipa::path(
    get, path = "/api/calendar/ics/{file}", operation_id = "calendar_feed", tag = "calendar",
    params(("file" = String, Path, description = "the feed's token followed by `.ics`")),
    responses(
        (status = 200, description = "The calendar.", content_type = "text/calendar", body = String),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn ics(
    State(state): State<AppState>,
    AppPath(file): AppPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let missing = || {
        ApiError::from(crate::app::AppError::NotFound(
            "no such calendar feed".into(),
        ))
    };
    let token = file.strip_suffix(".ics").ok_or_else(missing)?;
    let text = feeds::render(&state, token, Utc::now())
        .await?
        .ok_or_else(missing)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        text,
    ))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(revoke))
        .routes(routes!(ics))
}
