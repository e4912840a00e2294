//! The HTTP side of the limits ([`crate::limits`]): the middleware that puts heavy requests
//! through the heavy gate with a time limit on every request, and the one that holds
//! `POST /api/auth/login` (and the pages' sign-in form) to each client's rate ([`crate::auth::rate`]).

use crate::auth::rate::client_address;
use crate::error::ApiError;
use crate::limits::{RETRY_AFTER, is_heavy};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// Middleware: every request within the time limit; heavy ones through the heavy gate and
/// on the blocking pool, so that a fold or a render never occupies an async worker.
pub async fn bound_work(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limits = state.limits();
    let timeout = limits.config.request_timeout;
    let heavy = is_heavy(
        request.method(),
        request.uri().path(),
        request.uri().query(),
    );
    let answer = async {
        if !heavy {
            return Ok(next.run(request).await);
        }
        let _pass = limits.heavy.enter().await?;
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || runtime.block_on(next.run(request)))
            .await
            .map_err(ApiError::internal)
    };
    match tokio::time::timeout(timeout, answer).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => error.into_response(),
        Err(_) => ApiError::Unavailable {
            detail: format!("the request took longer than {} s", timeout.as_secs()),
            retry_after: RETRY_AFTER,
        }
        .into_response(),
    }
}

/// Middleware: `POST /api/auth/login` beyond the client's rate is answered 429 with
/// `Retry-After`, before any database work or hashing.
pub async fn limit_logins(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // The web pages' sign-in form spends the same budget as the JSON login.
    let path = request.uri().path();
    if request.method() != Method::POST || !matches!(path, "/api/auth/login" | "/sign-in") {
        return next.run(request).await;
    }
    let limits = state.limits();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let header = limits.config.trusted_proxy_header.as_deref();
    let client =
        client_address(request.headers(), peer, header).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    match limits.logins.take(client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => ApiError::TooManyAttempts { retry_after }.into_response(),
    }
}
