//! `GET /`: what the signed-in account works on. Teachers and administrators see today's
//! and this week's sessions of the courses they may read, each with its register's state;
//! students see their courses with their rate and whether they are at risk.

use crate::error::PageError;
use crate::format::{number, percent, when};
use crate::i18n::Catalogue;
use crate::session::SignedIn;
use crate::templates::{Nav, html};
use api::AppState;
use api::app::access::visible_courses;
use api::app::store;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Duration, Utc};
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
    pub marked: String,
    /// Students on the roster.
    pub roster: String,
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
    /// The early warning's banner about the student's own standing (students only).
    banner: Vec<String>,
}

/// The home page of the signed-in account.
pub async fn show(State(state): State<AppState>, page: SignedIn) -> Result<Response, PageError> {
    let staff = page.user.role != Role::Student;
    let banner = if staff {
        Vec::new()
    } else {
        crate::pages::warnings::student_banner(&state, &page)
            .await
            .map_err(|e| page.fail(e))?
    };
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
        banner,
    })
}

/// Today's sessions, and this week's (Monday to Sunday), of the courses the caller may
/// read, by start; "today" and "this week" in each course's own zone.
async fn sessions(
    state: &AppState,
    page: &SignedIn,
) -> Result<(Vec<SessionLine>, Vec<SessionLine>), PageError> {
    let now = Utc::now();
    let mut found = Vec::new();
    for (course, _) in visible_courses(state, &page.user).await? {
        let code = course
            .id
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default();
        let day = course.day_of(now);
        let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
        let sunday = monday + Duration::days(6);
        for (id, session) in &course.sessions {
            let date = course.day_of(session.starts_at);
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
                date == day,
                session.starts_at,
                SessionLine {
                    id: id.to_string(),
                    course: code.clone(),
                    title: session.title.clone(),
                    starts: when(t, &course.time_zone, session.starts_at),
                    state: state_label,
                    marked: number(t, register.roster.values().filter(|m| m.is_some()).count()),
                    roster: number(t, roster),
                },
            ));
        }
    }
    found.sort_by_key(|(_, starts, _)| *starts);
    let today = found
        .iter()
        .filter(|(today, _, _)| *today)
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
        marked: line.marked.clone(),
        roster: line.roster.clone(),
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
        let figures = doc.map(|d| d.student(student.as_str(), course.day_of(Utc::now())));
        courses.push(StudentCourse {
            name: course.details.name.clone(),
            rate: figures
                .as_ref()
                .and_then(|f| f.rate)
                .map(|r| percent(page.t, r)),
            at_risk: figures.is_some_and(|f| f.at_risk),
            id,
        });
    }
    Ok(courses)
}
