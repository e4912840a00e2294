//! "What's on": `GET /api/me/sessions?from=&to=`, the caller's sessions across their courses
//! (a teacher's courses, a student's enrolments, every course for an admin) with each
//! register's state, days counted in each course's zone.

use crate::app::freshness::{Freshness, wait_for};
use crate::app::whats_on::sessions_of;
use crate::auth::CurrentUser;
use crate::checks::check_query_date;
use crate::error::ApiError;
use crate::extract::AppQuery;
use crate::state::AppState;
use crate::views::SessionSummary;
use axum::Json;
use axum::extract::State;
use chrono::{NaiveDate, Utc};
use domain::Role;
use projections::projector::{Projection, find};
use projections::register_views::store::RegisterViewsProjection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The longest range one request may ask for, in days.
const MAX_DAYS: i64 = 62;

/// The range of local dates, both included.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First local date (default: today, UTC).
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    pub from: Option<NaiveDate>,
    /// Last local date (default: a week after `from`; at most 62 days after it).
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    pub to: Option<NaiveDate>,
}

/// One of the caller's sessions and its register.
#[derive(Serialize, ToSchema)]
pub struct MySession {
    /// The session, its times in its course's zone.
    pub session: SessionSummary,
    /// `not_taken`, `open` or `closed`.
    pub register: &'static str,
    /// Students not marked yet (staff only; null for students).
    pub unmarked: Option<usize>,
}

/// The caller's sessions in the range.
#[derive(Serialize, ToSchema)]
pub struct MySessions {
    /// The sessions by start time.
    pub sessions: Vec<MySession>,
    /// Which position the register states reflect.
    pub freshness: Freshness,
}

fn range(q: &RangeQuery) -> Result<(NaiveDate, NaiveDate), ApiError> {
    check_query_date("from", q.from)?;
    check_query_date("to", q.to)?;
    let from = q.from.unwrap_or_else(|| Utc::now().date_naive());
    let to = q.to.unwrap_or(from + chrono::Duration::days(7));
    if to < from || (to - from).num_days() > MAX_DAYS {
        return Err(ApiError::bad_param(
            "to",
            format!("must be on or after from and at most {MAX_DAYS} days after it"),
        ));
    }
    Ok((from, to))
}

/// The caller's sessions between two local dates, with each register's state.
#[utoipa::path(
    get, path = "/api/me/sessions", operation_id = "list_my_sessions", tag = "sessions",
    security(("bearer" = [])),
    params(RangeQuery),
    responses(
        (status = 200, description = "The caller's sessions in the range, by start.", body = MySessions),
        (status = 400, body = crate::error::Problem)
    )
)]
async fn my_sessions(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<RangeQuery>,
) -> Result<Json<MySessions>, ApiError> {
    let (from, to) = range(&q)?;
    let freshness = wait_for(&state, RegisterViewsProjection::NAME, None, None).await?;
    let mut sessions = Vec::new();
    for listed in sessions_of(&state, &user, from, to).await? {
        let (course, id) = (&listed.course, &listed.session_id);
        let session = &course.sessions[id];
        let view = find::<RegisterViewsProjection>(state.pool(), id.as_str()).await?;
        let view = view.unwrap_or_default();
        let register = match (view.opened, view.closed) {
            (false, _) => "not_taken",
            (true, false) => "open",
            (true, true) => "closed",
        };
        let unmarked = view
            .rows
            .values()
            .filter(|r| !r.removed && r.status.is_none())
            .count();
        sessions.push(MySession {
            session: SessionSummary::new(id, course, session),
            register,
            unmarked: (user.role != Role::Student).then_some(unmarked),
        });
    }
    Ok(Json(MySessions {
        sessions,
        freshness,
    }))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(my_sessions))
}
