//! `GET /admin/users`: the accounts, by role; `POST /admin/users` creates one (a student's
//! names its student number); `POST /admin/users/{id}/disable` disables one (its tokens stop
//! working at once), `.../enable` enables it again; `.../reset` resets its password to a
//! one-time password shown once on the answer. The same checks and use cases as
//! `POST /api/users` and the account calls (`api::auth::account`); a refused form is shown
//! again with what was entered and the problem next to its field. Administrators only.

use crate::error::PageError;
use crate::form::Fields;
use crate::i18n::Catalogue;
use crate::pages::admin::admin;
use crate::session::SignedIn;
use crate::templates::{Nav, html, html_with};
use api::AppState;
use api::auth::account;
use api::auth::changes::{self, ChangedBy};
use api::auth::users::{self, CreateUserError};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::{Role, StudentId, UserId};
use serde::Deserialize;

/// The users page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(show).post(create))
        .route("/admin/users/{id}/disable", post(disable))
        .route("/admin/users/{id}/enable", post(enable))
        .route("/admin/users/{id}/reset", post(reset))
}

/// One account's line.
pub struct Line {
    id: String,
    username: String,
    role: &'static str,
    student: String,
    disabled: bool,
    me: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    role: String,
    roles: [(&'static str, &'static str); 3],
    /// The creation form's text fields: name, label, input type.
    fields: [(&'static str, &'static str, &'static str); 3],
    lines: Vec<Line>,
    /// What was entered in the creation form.
    entered: (String, String, String),
    /// The problem and the field it is about.
    problem: Option<(&'static str, String)>,
    notice: Option<&'static str>,
    /// After a reset: the account's username and its one-time password, shown this once.
    one_time: Option<(String, String)>,
}

impl UsersPage {
    fn problem_of(&self, field: &str) -> Option<&String> {
        self.problem
            .as_ref()
            .filter(|(f, _)| *f == field)
            .map(|(_, p)| p)
    }
}

/// `?role=` to list one role; `?done=` after a form.
#[derive(Deserialize)]
pub struct Filter {
    role: Option<String>,
    done: Option<String>,
}

fn role_label(t: &'static Catalogue, role: Role) -> &'static str {
    match role {
        Role::Admin => t.role_admin,
        Role::Teacher => t.role_teacher,
        Role::Student => t.role_student,
    }
}

async fn page_of(
    state: &AppState,
    page: &SignedIn,
    role: Option<Role>,
    entered: (String, String, String),
    problem: Option<(&'static str, String)>,
) -> Result<UsersPage, PageError> {
    let t = page.t;
    let accounts = users::list(state.pool()).await.map_err(|e| page.fail(e))?;
    let lines = accounts
        .into_iter()
        .filter(|a| role.is_none_or(|r| a.role == r))
        .map(|a| Line {
            me: a.id == page.user.id,
            id: a.id.to_string(),
            username: a.username,
            role: role_label(t, a.role),
            student: a.student_id.map(|s| s.to_string()).unwrap_or_default(),
            disabled: a.disabled,
        })
        .collect();
    Ok(UsersPage {
        t,
        nav: Nav::of(page),
        csrf: page.csrf.clone(),
        role: role.map(|r| r.as_str().to_string()).unwrap_or_default(),
        roles: [
            ("admin", t.role_admin),
            ("teacher", t.role_teacher),
            ("student", t.role_student),
        ],
        fields: [
            ("username", t.username, "text"),
            ("password", t.password, "password"),
            ("student", t.student_number_if_student, "text"),
        ],
        lines,
        entered,
        problem,
        notice: None,
        one_time: None,
    })
}

async fn show(
    State(state): State<AppState>,
    page: SignedIn,
    Query(filter): Query<Filter>,
) -> Result<Response, PageError> {
    admin(&page)?;
    let role = filter.role.as_deref().and_then(Role::parse);
    let mut view = page_of(&state, &page, role, Default::default(), None).await?;
    view.notice = match filter.done.as_deref() {
        Some("created") => Some(page.t.account_created),
        Some("disabled") => Some(page.t.account_disabled),
        Some("enabled") => Some(page.t.account.account_enabled),
        _ => None,
    };
    html(&view)
}

/// The account the creation form asks for, or the problem and its field.
async fn check(
    state: &AppState,
    t: &'static Catalogue,
    form: &Fields,
) -> Result<(String, String, Role, Option<StudentId>), (&'static str, String)> {
    let username = form.text("username").trim().to_string();
    if username.is_empty() || username.chars().count() > 64 {
        return Err(("username", t.username_needed.to_string()));
    }
    api::auth::username::key(&username).map_err(|e| ("username", e.to_string()))?;
    let password = form.text("password");
    api::auth::password::check_policy(&password, &username).map_err(|e| ("password", e))?;
    let role = Role::parse(&form.text("role")).ok_or(("role", t.choose_role.to_string()))?;
    let number = form.text("student").trim().to_string();
    let student = match (role, number.is_empty()) {
        (Role::Student, true) => return Err(("student", t.student_number_needed.to_string())),
        (Role::Student, false) => {
            let id = StudentId::parse(number.clone()).map_err(|e| ("student", e.to_string()))?;
            match api::app::students::find(state.pool(), &id).await {
                Ok(Some(s)) if !s.erased => Some(id),
                _ => return Err(("student", format!("{}: {number}", t.no_such_student))),
            }
        }
        (_, false) => return Err(("student", t.student_number_only_students.to_string())),
        (_, true) => None,
    };
    Ok((username, password, role, student))
}

async fn create(
    State(state): State<AppState>,
    page: SignedIn,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    admin(&page)?;
    let t = page.t;
    let problem = match check(&state, t, &form).await {
        Ok((username, password, role, student)) => {
            let account = users::NewAccount {
                username: &username,
                password,
                role,
                student_id: student.as_ref(),
                must_change_password: false,
                email: None,
            };
            let by = ChangedBy::user(&page.user.id);
            match users::create(state.pool(), account, &by).await {
                Ok(created) => {
                    tracing::info!(user_id = %created.id, role = %created.role, by = %page.user.id, "user created");
                    return Ok(Redirect::to("/admin/users?done=created").into_response());
                }
                Err(CreateUserError::UsernameTaken) => ("username", t.username_taken.to_string()),
                Err(CreateUserError::InvalidUsername(e)) => ("username", e.to_string()),
                Err(other) => return Err(page.fail(api::app::AppError::internal(other))),
            }
        }
        Err(problem) => problem,
    };
    let entered = (
        form.text("username"),
        form.text("role"),
        form.text("student"),
    );
    let view = page_of(&state, &page, None, entered, Some(problem)).await?;
    html_with(StatusCode::UNPROCESSABLE_ENTITY, &view)
}

async fn disable(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    admin(&page)?;
    let missing = || PageError::not_found().in_language(page.t);
    let id = UserId::parse(id).map_err(|_| missing())?;
    if id == page.user.id {
        let problem = ("form", page.t.cannot_disable_self.to_string());
        let view = page_of(&state, &page, None, Default::default(), Some(problem)).await?;
        return html_with(StatusCode::CONFLICT, &view);
    }
    let by = ChangedBy::user(&page.user.id);
    if !changes::set_disabled(state.pool(), state.accounts(), &id, true, &by)
        .await
        .map_err(|e| page.fail(e))?
    {
        return Err(missing());
    }
    tracing::info!(user_id = %id, by = %page.user.id, "user disabled");
    Ok(Redirect::to("/admin/users?done=disabled").into_response())
}

fn user_id(page: &SignedIn, id: String) -> Result<UserId, PageError> {
    UserId::parse(id).map_err(|_| PageError::not_found().in_language(page.t))
}

async fn enable(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    admin(&page)?;
    let id = user_id(&page, id)?;
    account::set_disabled(&state, &page.user, &id, false)
        .await
        .map_err(|e| page.fail(e))?;
    Ok(Redirect::to("/admin/users?done=enabled").into_response())
}

/// Resets the account's password; the answer is the users page with the one-time password
/// (never stored in a link or a redirect, and the page is never cached).
async fn reset(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    admin(&page)?;
    let id = user_id(&page, id)?;
    let secret = account::reset_password(&state, &page.user, &id)
        .await
        .map_err(|e| page.fail(e))?;
    let username = users::by_id(state.pool(), id.as_str())
        .await
        .map_err(|e| page.fail(e))?
        .map(|u| u.username)
        .unwrap_or_default();
    let mut view = page_of(&state, &page, None, Default::default(), None).await?;
    view.one_time = Some((username, secret));
    html(&view)
}
