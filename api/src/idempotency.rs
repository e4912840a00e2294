//! `Idempotency-Key` on commands: the first response to a key is stored and replayed for
//! a retry with the same key and body, so a command never runs twice.

use crate::auth::bearer_token;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const HEADER: &str = "idempotency-key";
const MAX_KEY_LEN: usize = 200;

/// The middleware: passes through reads and requests without a key.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Reads pass, and so do sign-ins: a stored answer would keep a token in the table.
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || request.uri().path().starts_with("/api/auth/")
    {
        return next.run(request).await;
    }
    let Some(key) = request
        .headers()
        .get(HEADER)
        .map(|v| v.to_str().map(str::to_string))
    else {
        return next.run(request).await;
    };
    let key = match key {
        Ok(key) if !key.is_empty() && key.len() <= MAX_KEY_LEN => key,
        _ => {
            return ApiError::bad_param(
                "Idempotency-Key",
                format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
            )
            .into_response();
        }
    };
    // Keys are scoped per user; without a valid token the handler answers 401 anyway.
    let (parts, body) = request.into_parts();
    let Some(user) = bearer_token(&parts)
        .and_then(|t| state.jwt().verify(t))
        .map(|c| c.sub)
    else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let limit = state.config().body_limit;
    let Ok(bytes) = to_bytes(body, limit).await else {
        return ApiError::PayloadTooLarge { limit }.into_response();
    };
    let hash = request_hash(
        &parts.method,
        parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or(""),
        &bytes,
    );
    match claim(&state, &user, &key, &hash).await {
        Ok(Claim::First) => {}
        Ok(Claim::Replay(response)) => return response,
        Err(error) => return error.into_response(),
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    remember(&state, &user, &key, response).await
}

fn request_hash(method: &Method, path: &str, body: &[u8]) -> String {
    let mut digest = Sha256::new();
    digest.update(method.as_str());
    digest.update([0]);
    digest.update(path);
    digest.update([0]);
    digest.update(body);
    format!("{:x}", digest.finalize())
}

enum Claim {
    First,
    Replay(Response),
}

/// Seconds after which a claimed key without an answer is taken to be abandoned (longer
/// than any request runs).
const ABANDONED_SECS: f64 = 120.0;

/// Takes the key for this request, or answers from the stored first response.
async fn claim(state: &AppState, user: &str, key: &str, hash: &str) -> Result<Claim, ApiError> {
    let inserted = sqlx::query(
        // A claim without an answer after ABANDONED_SECS was left by a request whose release
        // failed (the database went away mid-request): take it over.
        "INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, key) DO UPDATE
            SET request_hash = EXCLUDED.request_hash, created_at = now()
          WHERE idempotency_keys.status IS NULL
            AND idempotency_keys.created_at < now() - make_interval(secs => $4)",
    )
    .bind(user)
    .bind(key)
    .bind(hash)
    .bind(ABANDONED_SECS)
    .execute(state.pool())
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::First);
    }
    let (stored_hash, status, body, content_type): (String, Option<i16>, Option<Vec<u8>>, Option<String>) = sqlx::query_as(
        "SELECT request_hash, status, body, content_type FROM idempotency_keys WHERE user_id = $1 AND key = $2",
    )
    .bind(user)
    .bind(key)
    .fetch_one(state.pool())
    .await?;
    if stored_hash != hash {
        return Err(ApiError::Invalid {
            code: "idempotency_key_reused",
            detail: "this Idempotency-Key was used for a different request".to_string(),
            errors: Vec::new(),
        });
    }
    let (Some(status), Some(body)) = (status, body) else {
        return Err(ApiError::conflict(
            "idempotency_key_in_progress",
            "a request with this Idempotency-Key is still running",
        ));
    };
    let status = StatusCode::from_u16(status as u16).map_err(ApiError::internal)?;
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(Claim::Replay(response))
}

/// Stores a final response for replay; releases the key after a server-side failure so
/// that the client can retry.
async fn remember(state: &AppState, user: &str, key: &str, response: Response) -> Response {
    let status = response.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        let _ = sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2")
            .bind(user)
            .bind(key)
            .execute(state.pool())
            .await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return ApiError::internal("response body unreadable").into_response();
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let stored = sqlx::query(
        "UPDATE idempotency_keys SET status = $3, body = $4, content_type = $5 WHERE user_id = $1 AND key = $2",
    )
    .bind(user)
    .bind(key)
    .bind(status.as_u16() as i16)
    .bind(bytes.as_ref())
    .bind(content_type)
    .execute(state.pool())
    .await;
    if let Err(error) = stored {
        tracing::warn!(%error, "could not store the idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// How long a stored first response is replayed.
pub const KEEP_HOURS: i32 = 24;

/// Removes stored responses older than [`KEEP_HOURS`]; a key may then be used again.
pub async fn forget_old(pool: &sqlx::PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
    )
    .bind(KEEP_HOURS)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
