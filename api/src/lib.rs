//! The attendance system's application layer and its REST command and query API.
//!
//! Two rooms, one way: [`app`] owns every use case and the write side and knows no HTTP;
//! the HTTP side calls it. [`router`] assembles the axum router: one router per area in
//! [`routes`] (leaves: parse, authorize through [`app::access`], call, answer), input checks
//! in [`checks`], shared answer shapes in [`views`], JWT auth in [`auth`], problem+json
//! errors in [`error`] (the one place an [`app::AppError`] gets an HTTP status),
//! `Idempotency-Key` replay in [`idempotency`], and the OpenAPI document ([`docs`], problem
//! types from [`catalogue`]) with its docs page.

pub mod app;
pub mod auth;
pub mod catalogue;
pub mod checks;
pub mod dates;
pub mod docs;
pub mod error;
pub mod extract;
pub mod hygiene;
pub mod idempotency;
pub mod limit_layers;
pub mod limits;
mod problem;
pub mod projector_watch;
pub mod redact;
pub mod request_id;
pub mod routes;
pub mod state;
pub mod views;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderName;
use axum::middleware;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub use state::{ApiConfig, AppState, Monitor};

#[derive(OpenApi)]
#[openapi(
    info(title = "Smart Attendance System API", description = "Event-sourced attendance: take, correct and audit attendance; read statistics and reports. Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign in for a bearer token (24 h by default) and read who you are."),
        (name = "users", description = "Accounts (admin only): create administrators, teachers and students' accounts; disable them."),
        (name = "students", description = "Students' personal data; erasing it keeps their attendance history under the student number."),
        (name = "courses", description = "Courses, their teachers and their attendance policy (status weights, at-risk threshold)."),
        (name = "enrollments", description = "Who is enrolled in a course, from which day: a session's roster is the enrolment on its day."),
        (name = "calendar", description = "The institution's closed days (holidays) and secret iCalendar feeds of a person's or a course's sessions."),
        (name = "sessions", description = "Scheduled sessions of a course and their registers (the roster with each student's mark)."),
        (name = "attendance", description = "Marks: one student, a whole roll call, corrections with a reason, closing the register."),
        (name = "check-in", description = "Students checking themselves in: a teacher opens a window and shows a code that changes every 15 s; a signed-in student gives it and is marked present or late with method `self`."),
        (name = "statistics", description = "Read models: rates and counts per course and student, at-risk lists, attendance records."),
        (name = "audit", description = "The event history in commit order, and every value one mark has had."),
        (name = "reports", description = "Course, student and at-risk reports as CSV, XLSX or PDF."),
        (name = "sheets", description = "Printable bubble sheets, scanned-sheet import (OMR) and the review of held rows."),
        (name = "warnings", description = "The early warning: students who fall below a course's at-risk threshold, recover, or reach the absence streak; a student's standing and their notification settings."),
        (name = "health", description = "Health of the database, NATS, the relay and the projectors; Prometheus metrics."),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Every route with its OpenAPI description.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::auth::router())
        .merge(routes::users::router())
        .merge(routes::students::router())
        .merge(routes::courses::router())
        .merge(routes::course_archive::router())
        .merge(routes::enrollments::router())
        .merge(routes::sessions::router())
        .merge(routes::calendar::router())
        .merge(routes::closures::router())
        .merge(routes::feeds::router())
        .merge(routes::timetable::router())
        .merge(routes::me::router())
        .merge(routes::attendance::router())
        .merge(routes::attendance_bulk::router())
        .merge(routes::check_in::router())
        .merge(routes::statistics::router())
        .merge(routes::records::router())
        .merge(routes::audit::router())
        .merge(routes::reports::router())
        .merge(routes::sheets::router())
        .merge(routes::health::router())
        .merge(routes::imports::router())
        .merge(routes::warnings::router())
}

/// Removes what the API keeps only for a while: idempotent responses older than a day and
/// stale login-throttling rows. `serve` runs it every hour.
pub async fn housekeeping(pool: &sqlx::PgPool) -> Result<(u64, u64), sqlx::Error> {
    Ok((
        idempotency::forget_old(pool).await?,
        auth::throttle::forget_stale(pool).await? + auth::revoked::forget_expired(pool).await?,
    ))
}

/// The OpenAPI document, as served, for a server reached at `public_url`.
pub fn openapi(public_url: &str) -> utoipa::openapi::OpenApi {
    let mut doc = api_router().into_openapi();
    docs::finish(&mut doc, public_url);
    doc
}

/// The whole HTTP application: the JSON API alone (every unknown path a problem document).
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new().fallback(problem::not_found))
}

/// The whole HTTP application with `pages` (the web pages, outside `/api`, with the
/// fallback for unknown paths outside `/api`) beside the JSON API, under the same request
/// ids, limits, security headers and logs. Error answers the pages render as HTML stay
/// HTML; everything else is a problem document, and so is every unknown path under `/api`.
pub fn router_with(state: AppState, pages: Router<AppState>) -> Router {
    let (router, mut openapi) = api_router().split_for_parts();
    docs::finish(&mut openapi, &state.config().public_url);
    let request_id = HeaderName::from_static("x-request-id");
    let body_limit = state.config().body_limit;
    router
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi))
        .route("/api/{*rest}", axum::routing::any(problem::not_found))
        .merge(pages)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(hygiene::limit_headers))
        .layer(middleware::from_fn(problem::fallback))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limit_layers::bound_work,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limit_layers::limit_logins,
        ))
        .layer(middleware::from_fn(hygiene::security_headers))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(hygiene::request_span)
                .on_failure(hygiene::log_failure),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(middleware::from_fn(request_id::sanitize))
        .with_state(state)
}
