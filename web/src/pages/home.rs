//! `GET /`: what the signed-in account works on. Teachers and administrators see today's
//! and this week's sessions of the courses they may read, each with its register's state;
//! students see their courses with their rate and whether they are at risk.

use crate::error::PageError;
use crate::i18n::Catalogue;
use crate::session::SignedIn;
use crate::templates::{Nav, html};
use api::AppState;
use api::app::access::visible_courses;
use api::app::store;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use domain::Role;
use projections::course_stats::store::CourseStatsProjection;

/// One session in the lists.
pub struct SessionLine {
    /// Session id (for the link).
    pub id: String,
    /// Course code.
    pub course: String,
    /// Title.
    pub title: String,
    /// Start, `2026-09-07 09:00`.
    pub starts: String,
    /// The register's state, as a label.
    pub state: &'static str,
    /// Marked students.
    pub marked: usize,
    /// Students on the roster.
    pub roster: usize,
}

/// One course of a student, with their figures.
pub struct StudentCourse {
    /// Course code.
    pub id: String,
    /// Name.
    pub name: String,
    /// Rate, `87.5 %`, or none yet.
    pub rate: Option<String>,
    /// Below the course's threshold.
    pub at_risk: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    staff: bool,
    today: Vec<SessionLine>,
    week: Vec<SessionLine>,
    courses: Vec<StudentCourse>,
}

/// The home page of the signed-in account.
pub async fn show(State(state): State<AppState>, page: SignedIn) -> Result<Response, PageError> {
    let staff = page.user.role != Role::Student;
    let (today, week, courses) = if staff {
        let (today, week) = sessions(&state, &page).await.map_err(|e| page.fail(e))?;
        (today, week, Vec::new())
    } else {
        let courses = student_courses(&state, &page)
            .await
            .map_err(|e| page.fail(e))?;
        (Vec::new(), Vec::new(), courses)
    };
    html(&HomePage {
        t: page.t,
        nav: Nav::of(&page),
        staff,
        today,
        week,
        courses,
    })
}

/// Today's sessions, and this week's (Monday to Sunday, UTC), of the courses the caller
/// may read, by start.
async fn sessions(
    state: &AppState,
    page: &SignedIn,
) -> Result<(Vec<SessionLine>, Vec<SessionLine>), PageError> {
    let day = Utc::now().date_naive();
    let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
    let sunday = monday + Duration::days(6);
    let mut found = Vec::new();
    for (course, _) in visible_courses(state, &page.user).await? {
        let code = course
            .id
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default();
        for (id, session) in &course.sessions {
            let date = session.starts_at.date_naive();
            if date < monday || date > sunday {
                continue;
            }
            let (register, _) = store::load(&state.stores().registers, id.as_str()).await?;
            let roster = if register.is_open() {
                register.roster.len()
            } else {
                course.roster_on(date).len()
            };
            let t = page.t;
            let state_label = match (session.cancelled, register.is_open(), register.closed) {
                (true, _, _) => t.state_cancelled,
                (_, false, _) => t.state_not_open,
                (_, _, true) => t.state_closed,
                _ => t.state_open,
            };
            found.push((
                date,
                session.starts_at,
                SessionLine {
                    id: id.to_string(),
                    course: code.clone(),
                    title: session.title.clone(),
                    starts: session.starts_at.format("%a %Y-%m-%d %H:%M").to_string(),
                    state: state_label,
                    marked: register.roster.values().filter(|m| m.is_some()).count(),
                    roster,
                },
            ));
        }
    }
    found.sort_by_key(|(_, starts, _)| *starts);
    let today = found
        .iter()
        .filter(|(d, _, _)| *d == day)
        .map(|(_, _, l)| clone_line(l))
        .collect();
    let week = found.into_iter().map(|(_, _, line)| line).collect();
    Ok((today, week))
}

fn clone_line(line: &SessionLine) -> SessionLine {
    SessionLine {
        id: line.id.clone(),
        course: line.course.clone(),
        title: line.title.clone(),
        starts: line.starts.clone(),
        state: line.state,
        marked: line.marked,
        roster: line.roster,
    }
}

/// The student's courses with their own figures only.
async fn student_courses(
    state: &AppState,
    page: &SignedIn,
) -> Result<Vec<StudentCourse>, PageError> {
    let Some(student) = page.user.student_id.as_ref() else {
        return Ok(Vec::new());
    };
    let mut courses = Vec::new();
    for (course, _) in visible_courses(state, &page.user).await? {
        let id = course
            .id
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default();
        let doc = projections::projector::find::<CourseStatsProjection>(state.pool(), &id).await?;
        let figures = doc.map(|d| d.student(student.as_str(), today()));
        courses.push(StudentCourse {
            name: course.details.name.clone(),
            rate: figures.as_ref().and_then(|f| f.rate).map(percent),
            at_risk: figures.is_some_and(|f| f.at_risk),
            id,
        });
    }
    Ok(courses)
}

/// Today, UTC.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A rate as shown: one decimal and a percent sign.
pub fn percent(rate: f64) -> String {
    format!("{rate:.1} %")
}
