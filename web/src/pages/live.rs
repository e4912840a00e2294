//! What an open register or statistics page listens to and fetches to update itself:
//! `GET /sessions/{id}/live` and `GET /courses/{id}/live` are server-sent events (one
//! `change` event per stored event of that session or course, its data the event's global
//! position; `0` when the page fell behind and should simply fetch again), fed from the
//! process's one subscription ([`crate::live::Hub`]). The page then fetches
//! `GET /sessions/{id}/marks?min_position=P` (the marks, JSON) or
//! `GET /courses/{id}/statistics?min_position=P` (the statistics table, HTML), which answer
//! once the read model holds position P (or say they do not yet: `caught_up` false, or
//! `data-caught-up="false"`). Staff of the course only, like the pages themselves.

use crate::error::PageError;
use crate::i18n::Catalogue;
use crate::live::{Change, Hub};
use crate::pages::course::{StudentLine, statistics};
use crate::pages::register::staff_session;
use crate::session::SignedIn;
use crate::templates::html;
use api::AppState;
use api::app::courses::load_course;
use api::app::freshness::wait_for;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::{NaiveDate, Utc};
use domain::CourseId;
use futures::Stream;
use projections::course_stats::store::CourseStatsProjection;
use projections::projector::Projection;
use projections::register_views::store::RegisterViewsProjection;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

/// How long one event stream stays open: the browser then connects again, and is signed
/// in again (a revoked session stops receiving within this time).
const STREAM_LIFETIME: Duration = Duration::from_secs(300);
/// How long a fragment waits for the read model to reach the position asked for.
const FRESHNESS_WAIT_MS: u64 = 10_000;

/// The live routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sessions/{id}/live", get(session_feed))
        .route("/sessions/{id}/marks", get(marks))
        .route("/courses/{id}/live", get(course_feed))
        .route("/courses/{id}/statistics", get(course_statistics))
}

/// `?min_position=P`.
#[derive(Deserialize)]
pub struct Since {
    min_position: Option<String>,
}

impl Since {
    /// The position asked for; anything but a number asks for none.
    fn position(&self) -> Option<i64> {
        self.min_position.as_deref().and_then(|p| p.parse().ok())
    }
}

/// The marks of a register as the read model holds them.
#[derive(Serialize)]
struct Marks {
    /// Whether the read model holds the position asked for.
    caught_up: bool,
    /// The position it reflects.
    position: i64,
    /// Each student's status (`""` while unmarked).
    marks: BTreeMap<String, &'static str>,
    /// The register's state, as the page words it.
    state: &'static str,
}

async fn session_feed(
    State(state): State<AppState>,
    Extension(hub): Extension<Hub>,
    page: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let ctx = staff_session(&state, &page, &id, false).await?;
    let session = ctx.session_id.to_string();
    Ok(feed(hub.subscribe(), move |c| {
        c.session.as_deref() == Some(session.as_str())
    })
    .into_response())
}

async fn course_feed(
    State(state): State<AppState>,
    Extension(hub): Extension<Hub>,
    page: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (course, _) = staff_course(&state, &page, id).await?;
    Ok(feed(hub.subscribe(), move |c| c.course == course.as_str()).into_response())
}

/// The changes `keep` selects, as server-sent events, for [`STREAM_LIFETIME`].
fn feed(
    receiver: broadcast::Receiver<Change>,
    keep: impl Fn(&Change) -> bool + Send + 'static,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let until = Instant::now() + STREAM_LIFETIME;
    let changes =
        futures::stream::unfold((receiver, keep), move |(mut receiver, keep)| async move {
            loop {
                let next = tokio::time::timeout_at(until, receiver.recv()).await;
                let position = match next {
                    Err(_) | Ok(Err(RecvError::Closed)) => return None,
                    Ok(Err(RecvError::Lagged(_))) => 0,
                    Ok(Ok(change)) if keep(&change) => change.position,
                    Ok(Ok(_)) => continue,
                };
                let event = Event::default().event("change").data(position.to_string());
                return Some((Ok(event), (receiver, keep)));
            }
        });
    Sse::new(changes).keep_alive(KeepAlive::default())
}

async fn marks(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    Query(since): Query<Since>,
) -> Result<Response, PageError> {
    let ctx = staff_session(&state, &page, &id, false).await?;
    let name = RegisterViewsProjection::NAME;
    let fresh = wait_for(&state, name, since.position(), Some(FRESHNESS_WAIT_MS))
        .await
        .map_err(|e| page.fail(e))?;
    let view = projections::projector::find::<RegisterViewsProjection>(
        state.pool(),
        ctx.session_id.as_str(),
    )
    .await
    .map_err(|e| page.fail(e))?
    .unwrap_or_default();
    let t = page.t;
    let state = match (view.cancelled, view.opened, view.closed) {
        (true, _, _) => t.state_cancelled,
        (_, false, _) => t.state_not_open,
        (_, _, true) => t.state_closed,
        _ => t.state_open,
    };
    let marks = view
        .rows
        .into_iter()
        .filter(|(_, row)| !row.removed)
        .map(|(student, row)| (student, row.status.map_or("", |s| s.as_str())))
        .collect();
    let answer = Marks {
        caught_up: fresh.caught_up,
        position: fresh.position,
        marks,
        state,
    };
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(answer),
    )
        .into_response())
}

/// The statistics table alone, as the course page shows it.
#[derive(Template)]
#[template(path = "course_stats.html")]
struct StatisticsFragment {
    t: &'static Catalogue,
    students: Vec<StudentLine>,
    caught_up: bool,
}

async fn course_statistics(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    Query(since): Query<Since>,
) -> Result<Response, PageError> {
    let (course, today) = staff_course(&state, &page, id).await?;
    let name = CourseStatsProjection::NAME;
    let fresh = wait_for(&state, name, since.position(), Some(FRESHNESS_WAIT_MS))
        .await
        .map_err(|e| page.fail(e))?;
    let doc = projections::projector::find::<CourseStatsProjection>(state.pool(), course.as_str())
        .await
        .map_err(|e| page.fail(e))?
        .unwrap_or_default();
    let students = statistics(&state, page.t, &doc, today)
        .await
        .map_err(|e| page.fail(e))?;
    html(&StatisticsFragment {
        t: page.t,
        students,
        caught_up: fresh.caught_up,
    })
}

/// The course and its day today, if the caller is on its staff; otherwise the page of a
/// course that does not exist.
async fn staff_course(
    state: &AppState,
    page: &SignedIn,
    id: String,
) -> Result<(CourseId, NaiveDate), PageError> {
    let missing = || PageError::not_found().in_language(page.t);
    let id = CourseId::parse(id).map_err(|_| missing())?;
    let (course, _) = load_course(state, &id).await.map_err(|e| page.fail(e))?;
    page.user
        .require_course_staff(&course)
        .map_err(|_| missing())?;
    Ok((id, course.day_of(Utc::now())))
}
