//! Administration of courses: create one, assign a teacher, enrol students (the students
//! list is in [`super::students`]). Administrators only (`CurrentUser::require_admin`); everyone else gets a
//! 403 page. Each form runs the same course command as the JSON API.

use crate::error::PageError;
use crate::error::{refusal, uuid_like};
use crate::form::Fields;
use crate::i18n::Catalogue;
use crate::session::SignedIn;
use crate::templates::{Nav, html, html_with};
use api::AppState;
use api::app::AppError;
use api::app::access::visible_courses;
use api::app::courses::{execute, load_course};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, Utc};
use domain::course::{CourseCommand, CourseDetails};
use domain::{CourseId, Role, StudentId, UserId};

/// The administration routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/courses", get(courses).post(create_course))
        .route("/admin/courses/{id}", get(course))
        .route("/admin/courses/{id}/teachers", post(assign_teacher))
        .route("/admin/courses/{id}/enrolments", post(enrol))
        .route("/admin/courses/{id}/time-zone", post(set_time_zone))
}

pub fn admin(page: &SignedIn) -> Result<(), PageError> {
    page.user
        .require_admin()
        .map_err(|_| PageError::forbidden().in_language(page.t))
}

#[derive(Template)]
#[template(path = "admin_courses.html")]
struct CoursesPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    courses: Vec<(String, String)>,
    problem: Option<String>,
    code: String,
    name: String,
}

async fn courses_page(
    state: &AppState,
    page: &SignedIn,
    problem: Option<String>,
    form: Option<&Fields>,
) -> Result<CoursesPage, PageError> {
    let courses = visible_courses(state, &page.user)
        .await
        .map_err(|e| page.fail(e))?;
    Ok(CoursesPage {
        t: page.t,
        nav: Nav::of(page),
        csrf: page.csrf.clone(),
        // An archived course is hidden from the list (its page and history stay reachable).
        courses: courses
            .iter()
            .filter(|(c, _)| !c.archived)
            .map(|(c, _)| {
                (
                    c.id.as_ref().map(|i| i.to_string()).unwrap_or_default(),
                    c.details.name.clone(),
                )
            })
            .collect(),
        problem,
        code: form.map(|f| f.text("code")).unwrap_or_default(),
        name: form.map(|f| f.text("name")).unwrap_or_default(),
    })
}

async fn courses(State(state): State<AppState>, page: SignedIn) -> Result<Response, PageError> {
    admin(&page)?;
    html(&courses_page(&state, &page, None, None).await?)
}

async fn create_course(
    State(state): State<AppState>,
    page: SignedIn,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    admin(&page)?;
    let outcome =
        async {
            let id = CourseId::parse(form.text("code"))
                .map_err(|e| AppError::invalid("code", e.to_string()))?;
            let name = form.text("name");
            if name.is_empty() || name.len() > 200 {
                return Err(AppError::invalid(
                    "name",
                    "give a name of at most 200 characters",
                ));
            }
            let credits =
                match form.text("credits").as_str() {
                    "" => None,
                    text => Some(text.parse::<u32>().ok().filter(|c| *c <= 60).ok_or_else(
                        || AppError::invalid("credits", "a whole number from 0 to 60"),
                    )?),
                };
            let details = CourseDetails {
                name,
                department: None,
                credits,
                semester: None,
            };
            let command = CourseCommand::CreateCourse {
                course_id: id.clone(),
                details,
                // The institution's zone, as the JSON API gives a course created without one.
                time_zone: state.config().time_zone,
                by: page.user.actor(),
                at: Utc::now(),
            };
            execute(&state, &page.user, uuid_like(), &id, command).await?;
            Ok(id)
        }
        .await;
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/admin/courses/{id}")).into_response()),
        Err(error) => {
            let view =
                courses_page(&state, &page, Some(refusal(page.t, error)), Some(&form)).await?;
            html_with(StatusCode::CONFLICT, &view)
        }
    }
}

#[derive(Template)]
#[template(path = "admin_course.html")]
struct CoursePage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    id: String,
    name: String,
    teachers: Vec<String>,
    candidates: Vec<(String, String)>,
    enrolled: Vec<(String, String)>,
    today: String,
    time_zone: String,
    problem: Option<String>,
}

async fn course_page(
    state: &AppState,
    page: &SignedIn,
    id: &str,
    problem: Option<String>,
) -> Result<CoursePage, PageError> {
    let missing = || PageError::not_found().in_language(page.t);
    let id = CourseId::parse(id.to_string()).map_err(|_| missing())?;
    let (course, _) = load_course(state, &id).await.map_err(|e| page.fail(e))?;
    let accounts = api::auth::users::list(state.pool())
        .await
        .map_err(|e| page.fail(e))?;
    let teachers = accounts
        .iter()
        .filter(|a| course.is_taught_by(&a.id))
        .map(|a| a.username.clone())
        .collect();
    let candidates = accounts
        .iter()
        .filter(|a| a.role == Role::Teacher && !a.disabled && !course.is_taught_by(&a.id))
        .map(|a| (a.id.to_string(), a.username.clone()))
        .collect();
    let ids: Vec<String> = course.enrollments.keys().map(|s| s.to_string()).collect();
    let names = projections::students::names(state.pool(), ids.clone())
        .await
        .map_err(|e| page.fail(e))?;
    let enrolled = ids
        .into_iter()
        .map(|s| (names.get(&s).cloned().flatten().unwrap_or_default(), s))
        .collect();
    Ok(CoursePage {
        t: page.t,
        nav: Nav::of(page),
        csrf: page.csrf.clone(),
        id: id.to_string(),
        name: course.details.name.clone(),
        teachers,
        candidates,
        enrolled,
        today: course.day_of(Utc::now()).to_string(),
        time_zone: course.time_zone.to_string(),
        problem,
    })
}

async fn course(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    admin(&page)?;
    html(&course_page(&state, &page, &id, None).await?)
}

/// Runs a course command from a form of the course page; a refusal shows the page again.
async fn course_form(
    state: &AppState,
    page: &SignedIn,
    id: &str,
    command: Result<CourseCommand, AppError>,
) -> Result<Response, PageError> {
    let outcome = match command {
        Ok(command) => match CourseId::parse(id.to_string()) {
            Ok(course) => match load_course(state, &course).await {
                Ok(_) => execute(state, &page.user, uuid_like(), &course, command)
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            },
            Err(_) => return Err(PageError::not_found().in_language(page.t)),
        },
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/admin/courses/{id}")).into_response()),
        Err(error) => html_with(
            StatusCode::CONFLICT,
            &course_page(state, page, id, Some(refusal(page.t, error))).await?,
        ),
    }
}

async fn assign_teacher(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    admin(&page)?;
    let teacher = UserId::parse(form.text("teacher"))
        .map_err(|e| AppError::invalid("teacher", e.to_string()));
    let command = match teacher {
        Ok(teacher) => match api::auth::users::by_id(state.pool(), teacher.as_str())
            .await
            .map_err(|e| page.fail(e))?
        {
            Some(a) if a.role == Role::Teacher && !a.disabled => Ok(CourseCommand::AssignTeacher {
                teacher,
                by: page.user.actor(),
                at: Utc::now(),
            }),
            _ => Err(AppError::invalid(
                "teacher",
                "not an active teacher account",
            )),
        },
        Err(e) => Err(e),
    };
    course_form(&state, &page, &id, command).await
}

async fn enrol(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    admin(&page)?;
    let command = async {
        let student = StudentId::parse(form.text("student"))
            .map_err(|e| AppError::invalid("student", e.to_string()))?;
        let from = NaiveDate::parse_from_str(&form.text("from"), "%Y-%m-%d")
            .map_err(|_| AppError::invalid("from", "a date such as 2026-09-07"))?;
        match api::app::students::find(state.pool(), &student).await? {
            Some(s) if !s.erased => {}
            _ => {
                return Err(AppError::invalid(
                    "student",
                    format!("student {student} does not exist"),
                ));
            }
        }
        Ok(CourseCommand::EnrollStudent {
            student_id: student,
            effective_from: from,
            by: page.user.actor(),
            at: Utc::now(),
        })
    }
    .await;
    course_form(&state, &page, &id, command).await
}

/// Sets the zone the course's days are counted in: the same command as
/// `PUT /api/courses/{id}/time-zone`.
async fn set_time_zone(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    admin(&page)?;
    let command = domain::Zone::parse(&form.text("time_zone"))
        .map(|time_zone| CourseCommand::SetTimeZone {
            time_zone,
            by: page.user.actor(),
            at: Utc::now(),
        })
        .map_err(|_| AppError::invalid("time_zone", page.t.calendar.unknown_zone));
    course_form(&state, &page, &id, command).await
}
