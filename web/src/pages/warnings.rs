//! The early warning in the pages. `GET /warnings`: the students of the caller's courses who
//! fell at risk in the last seven days and are still at risk (administrators and teachers;
//! a student is refused). And the banner a student sees on the home page about their own
//! standing ([`student_banner`]).

use crate::error::PageError;
use crate::format::{percent, when};
use crate::i18n::Catalogue;
use crate::session::SignedIn;
use crate::templates::{Nav, html};
use api::AppState;
use api::app::warnings::read;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::{Duration, Utc};
use domain::Role;

/// The page's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/warnings", get(show))
}

/// One student newly at risk.
pub struct NewlyAtRisk {
    /// Course code.
    pub course: String,
    /// Course name.
    pub course_name: String,
    /// Student number.
    pub student: String,
    /// The rate when they fell at risk.
    pub rate: String,
    /// The threshold then.
    pub threshold: String,
    /// When, in the course's zone.
    pub since: String,
}

#[derive(Template)]
#[template(path = "warnings.html")]
struct WarningsPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    rows: Vec<NewlyAtRisk>,
}

/// How far back "newly" reaches.
const NEWLY_DAYS: i64 = 7;

async fn show(State(state): State<AppState>, page: SignedIn) -> Result<Response, PageError> {
    if page.user.role == Role::Student {
        return Err(PageError::forbidden().in_language(page.t));
    }
    let t = page.t;
    let since = Utc::now() - Duration::days(NEWLY_DAYS);
    let rows = read::newly_at_risk(&state, &page.user, since)
        .await?
        .into_iter()
        .map(|found| {
            let (course, w) = (found.course, found.warning);
            NewlyAtRisk {
                course: w.course_id.clone(),
                course_name: course.details.name.clone(),
                student: w.student_id.clone(),
                rate: w
                    .rate
                    .map(|r| percent(t, r))
                    .unwrap_or_else(|| t.no_rate.to_string()),
                threshold: percent(t, w.at_risk_below),
                since: when(t, &course.time_zone, w.at),
            }
        })
        .collect();
    html(&WarningsPage {
        t,
        nav: Nav::of(&page),
        rows,
    })
}

/// The lines of a student's banner: one per course where their recorded standing is at
/// risk or their absence streak is reached (empty for anyone but a student).
pub async fn student_banner(state: &AppState, page: &SignedIn) -> Result<Vec<String>, PageError> {
    let Some(student) = page.user.student_id.as_ref() else {
        return Ok(Vec::new());
    };
    let t = page.t;
    let standing = read::student_standing(state, &page.user, student).await?;
    let mut lines = Vec::new();
    for course in standing.courses {
        if course.at_risk {
            let rate = course
                .last
                .as_ref()
                .and_then(|w| w.rate)
                .map(|r| percent(t, r))
                .unwrap_or_else(|| t.no_rate.to_string());
            lines.push(format!(
                "{} ({}): {} {rate}",
                course.course_name, course.course_id, t.banner_at_risk
            ));
        }
        if course.absence_streak_reached {
            lines.push(format!(
                "{} ({}): {}",
                course.course_name, course.course_id, t.banner_streak
            ));
        }
    }
    Ok(lines)
}
