//! `GET /courses/{id}/policy` and `POST /courses/{id}/policy`: a course's attendance policy
//! as a form (each status's weight, whether excused absences count, the at-risk threshold,
//! the automatic close of registers),
//! for administrators and the course's teachers, as `PUT /api/courses/{id}/policy`. A value
//! that cannot be read, or that the policy refuses, is shown next to its field and nothing
//! changes. Fields this form does not show keep their current values.

use crate::error::{PageError, refusal, uuid_like};
use crate::form::Fields;
use crate::i18n::Catalogue;
use crate::session::SignedIn;
use crate::templates::{Nav, html, html_with};
use api::AppState;
use api::app::courses::{execute, load_course};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Utc;
use domain::course::{Course, CourseCommand};
use domain::policy::PolicyError;
use domain::{AttendancePolicy, CourseId, Status};
use std::collections::HashMap;
use std::sync::Arc;

/// The policy page's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/courses/{id}/policy", get(show).post(submit))
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    id: String,
    name: String,
    /// The weights: stored name, label, value shown.
    weights: Vec<(&'static str, &'static str, String)>,
    count_excused: bool,
    at_risk_below: String,
    /// Minutes after a session's end the register closes by itself; empty: never.
    close_after: String,
    /// Problems by field name.
    problems: HashMap<&'static str, String>,
    saved: bool,
}

impl PolicyPage {
    fn problem(&self, field: &str) -> Option<&String> {
        self.problems.get(field)
    }
}

async fn staff_course(
    state: &AppState,
    page: &SignedIn,
    id: String,
) -> Result<(CourseId, Arc<Course>), PageError> {
    let missing = || PageError::not_found().in_language(page.t);
    let id = CourseId::parse(id).map_err(|_| missing())?;
    let (course, _) = load_course(state, &id).await.map_err(|e| page.fail(e))?;
    page.user
        .require_course_staff(&course)
        .map_err(|_| missing())?;
    Ok((id, course))
}

fn view(page: &SignedIn, id: &CourseId, course: &Course, policy: &AttendancePolicy) -> PolicyPage {
    let t = page.t;
    let w = policy.weights;
    let shown = |v: f64| format!("{v}");
    PolicyPage {
        t,
        nav: Nav::of(page),
        csrf: page.csrf.clone(),
        id: id.to_string(),
        name: course.details.name.clone(),
        weights: vec![
            ("present", t.present, shown(w.present)),
            ("late", t.late, shown(w.late)),
            ("excused", t.excused, shown(w.excused)),
            ("absent", t.absent, shown(w.absent)),
        ],
        count_excused: policy.count_excused,
        at_risk_below: shown(policy.at_risk_below),
        close_after: policy
            .close_after_minutes
            .map(|m| m.to_string())
            .unwrap_or_default(),
        problems: HashMap::new(),
        saved: false,
    }
}

async fn show(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    query: axum::extract::RawQuery,
) -> Result<Response, PageError> {
    let (id, course) = staff_course(&state, &page, id).await?;
    let mut page_view = view(&page, &id, &course, &course.policy);
    page_view.saved = query.0.as_deref() == Some("done=saved");
    html(&page_view)
}

/// Reads the form over the current policy: the policy asked for, or the problems by field.
fn read(
    t: &'static Catalogue,
    form: &Fields,
    current: &AttendancePolicy,
) -> Result<AttendancePolicy, HashMap<&'static str, String>> {
    let mut problems = HashMap::new();
    let mut number = |field: &'static str, max: f64| -> f64 {
        match form.text(field).trim().replace(',', ".").parse::<f64>() {
            Ok(v) if v.is_finite() && (0.0..=max).contains(&v) => v,
            _ => {
                let range = if max > 1.0 {
                    t.between_0_and_100
                } else {
                    t.between_0_and_1
                };
                problems.insert(field, range.to_string());
                0.0
            }
        }
    };
    let mut weights = current.weights;
    weights.present = number("present", 1.0);
    weights.late = number("late", 1.0);
    weights.excused = number("excused", 1.0);
    weights.absent = number("absent", 1.0);
    let at_risk_below = number("at_risk_below", 100.0);
    let close_after = form.text("close_after_minutes");
    let close_after_minutes = match close_after.trim() {
        "" => None,
        text => match text.parse::<u32>() {
            Ok(minutes) => Some(minutes),
            Err(_) => {
                problems.insert("close_after_minutes", t.close_after_range.to_string());
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    // Whatever else a policy holds (fields this form does not show) keeps its value.
    #[allow(clippy::needless_update)]
    let policy = AttendancePolicy {
        weights,
        count_excused: form.get("count_excused").is_some(),
        at_risk_below,
        close_after_minutes,
        ..*current
    };
    match policy.validate() {
        Ok(()) => Ok(policy),
        Err(PolicyError::WeightOutOfRange { status }) => Err(HashMap::from([(
            field_of(status),
            t.between_0_and_1.to_string(),
        )])),
        Err(PolicyError::ThresholdOutOfRange) => Err(HashMap::from([(
            "at_risk_below",
            t.between_0_and_100.to_string(),
        )])),
        Err(PolicyError::CloseAfterOutOfRange) => Err(HashMap::from([(
            "close_after_minutes",
            t.close_after_range.to_string(),
        )])),
        // Not on this form: the policy's streak is kept as it was, which was valid.
        Err(PolicyError::StreakOutOfRange) => Err(HashMap::from([(
            "absence_streak",
            t.close_after_range.to_string(),
        )])),
    }
}

fn field_of(status: Status) -> &'static str {
    status.as_str()
}

async fn submit(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    let (id, course) = staff_course(&state, &page, id).await?;
    let refused = |policy: &AttendancePolicy, problems| {
        let mut shown = view(&page, &id, &course, policy);
        for (value, field) in shown.weights.iter_mut().map(|(f, _, v)| (v, *f)) {
            *value = form.text(field);
        }
        shown.at_risk_below = form.text("at_risk_below");
        shown.close_after = form.text("close_after_minutes");
        shown.count_excused = form.get("count_excused").is_some();
        shown.problems = problems;
        shown
    };
    let policy = match read(page.t, &form, &course.policy) {
        Ok(policy) => policy,
        Err(problems) => {
            return html_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &refused(&course.policy, problems),
            );
        }
    };
    let command = CourseCommand::SetPolicy {
        policy,
        by: page.user.actor(),
        at: Utc::now(),
    };
    if let Err(error) = execute(&state, &page.user, uuid_like(), &id, command).await {
        let problems = HashMap::from([("form", refusal(page.t, error))]);
        return html_with(StatusCode::CONFLICT, &refused(&policy, problems));
    }
    Ok(Redirect::to(&format!("/courses/{id}/policy?done=saved")).into_response())
}
