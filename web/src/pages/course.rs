//! `GET /courses/{id}`: a course as the caller may see it. Its staff see the statistics
//! (each student's rate with a small bar, at-risk students marked in words and colour) and
//! its sessions; a student sees only their own figures and each session's status, with the
//! reason of every correction. Anyone else gets the page of a course that does not exist.

use crate::error::PageError;
use crate::format::{percent, when};
use crate::i18n::Catalogue;
use crate::session::SignedIn;
use crate::templates::{Nav, html};
use api::AppState;
use api::app::courses::load_course;
use api::app::store;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use chrono::{NaiveDate, Utc};
use domain::CourseId;
use domain::course::Course;
use projections::course_stats::CourseStats;
use projections::course_stats::store::CourseStatsProjection;

/// The course page's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/courses/{id}", get(show))
}

/// A student's line of the statistics.
pub struct StudentLine {
    /// Student number.
    pub id: String,
    /// Name.
    pub name: String,
    /// Rate, or none yet.
    pub rate: Option<String>,
    /// The bar's width in percent.
    pub bar: u32,
    /// Below the threshold.
    pub at_risk: bool,
}

/// A session's line: for staff with a link to its register, for a student with their status.
pub struct SessionLine {
    /// Session id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Start.
    pub starts: String,
    /// The student's status (student view), as a label.
    pub status: &'static str,
    /// The reason of the last correction (student view).
    pub reason: String,
}

#[derive(Template)]
#[template(path = "course.html")]
struct CoursePage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    id: String,
    name: String,
    staff: bool,
    students: Vec<StudentLine>,
    sessions: Vec<SessionLine>,
    own_rate: Option<String>,
    own_at_risk: bool,
    student: String,
    caught_up: bool,
    formats: Vec<(String, String)>,
}

async fn show(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let missing = || PageError::not_found().in_language(page.t);
    let id = CourseId::parse(id).map_err(|_| missing())?;
    let (course, _) = load_course(&state, &id).await.map_err(|e| page.fail(e))?;
    page.user
        .require_course_reader(&course)
        .map_err(|_| missing())?;
    let doc = projections::projector::find::<CourseStatsProjection>(state.pool(), id.as_str())
        .await
        .map_err(|e| page.fail(e))?
        .unwrap_or_default();
    let staff = page.user.is_course_staff(&course);
    let mut view = CoursePage {
        t: page.t,
        nav: Nav::of(&page),
        id: id.to_string(),
        name: course.details.name.clone(),
        staff,
        students: Vec::new(),
        sessions: Vec::new(),
        own_rate: None,
        own_at_risk: false,
        caught_up: true,
        formats: crate::pages::reports::formats(&state),
        student: page
            .user
            .student_id
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    };
    if staff {
        let today = course.day_of(Utc::now());
        view.students = statistics(&state, page.t, &doc, today)
            .await
            .map_err(|e| page.fail(e))?;
        view.sessions = sessions(page.t, &course, |_| ("", String::new()));
    } else if let Some(student) = page.user.student_id.clone() {
        let figures = doc.student(student.as_str(), course.day_of(Utc::now()));
        view.own_rate = figures.rate.map(|r| percent(page.t, r));
        view.own_at_risk = figures.at_risk;
        let mut marks = std::collections::HashMap::new();
        for session_id in course.sessions.keys() {
            let (register, _) = store::load(&state.stores().registers, session_id.as_str())
                .await
                .map_err(|e| page.fail(e))?;
            if let Some(Some(mark)) = register.roster.get(&student) {
                marks.insert(
                    session_id.to_string(),
                    (
                        mark.status.as_str(),
                        mark.reason.clone().unwrap_or_default(),
                    ),
                );
            }
        }
        let t = page.t;
        view.sessions = sessions(t, &course, |s| {
            marks
                .get(s)
                .map_or((t.unmarked, String::new()), |(status, reason)| {
                    (t.status_label(status), reason.clone())
                })
        });
    }
    html(&view)
}

/// Every student's figures as of `today` (the course's day), by number, with names.
pub async fn statistics(
    state: &AppState,
    t: &'static Catalogue,
    doc: &CourseStats,
    today: NaiveDate,
) -> Result<Vec<StudentLine>, sqlx::Error> {
    let figures = doc.students(today);
    let ids = figures.iter().map(|f| f.student_id.clone()).collect();
    let names = projections::students::names(state.pool(), ids).await?;
    Ok(figures
        .into_iter()
        .map(|f| StudentLine {
            name: names
                .get(&f.student_id)
                .cloned()
                .flatten()
                .unwrap_or_else(|| f.student_id.clone()),
            rate: f.rate.map(|r| percent(t, r)),
            bar: f.rate.map_or(0, |r| r.clamp(0.0, 100.0).round() as u32),
            at_risk: f.at_risk,
            id: f.student_id,
        })
        .collect())
}

/// The course's sessions by start (cancelled ones left out), each with what `status`
/// says of it (`(label, reason)`).
fn sessions(
    t: &'static Catalogue,
    course: &Course,
    status: impl Fn(&str) -> (&'static str, String),
) -> Vec<SessionLine> {
    let mut lines: Vec<_> = course
        .sessions
        .iter()
        .filter(|(_, s)| !s.cancelled)
        .map(|(id, s)| {
            let (label, reason) = status(id.as_str());
            (
                s.starts_at,
                SessionLine {
                    id: id.to_string(),
                    title: s.title.clone(),
                    starts: when(t, &course.time_zone, s.starts_at),
                    status: label,
                    reason,
                },
            )
        })
        .collect();
    lines.sort_by_key(|(starts, _)| *starts);
    lines.into_iter().map(|(_, line)| line).collect()
}
