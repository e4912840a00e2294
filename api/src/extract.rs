//! Request extractors that turn every kind of bad input into the API's problem shape.

use crate::error::{ApiError, FieldProblem};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body whose errors name the offending field (`marks[2].status`).
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| {
                value
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge {
                    limit: state.config().body_limit,
                }
            } else {
                ApiError::bad_param("body", rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(AppJson)
    }
}

/// The path (`marks[2].remark`) of the first string holding a NUL character, if any.
fn nul_path(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::String(text) if text.contains('\0') => Some(path.to_string()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, &format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(format!("{path}{key}"));
            }
            let inner = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            nul_path(item, &inner)
        }),
        _ => None,
    }
}

/// Parses JSON, naming the field at fault. Text holding a NUL character (which no text
/// column can store) is refused naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.windows(6).any(|w| w == b"\\u0000")
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(path) = nul_path(&value, "")
    {
        let field = if path.is_empty() {
            "body".to_string()
        } else {
            path
        };
        return Err(field_problem(
            &field,
            "must not contain the NUL character (\\u0000)".to_string(),
        ));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        // serde_json reports some type mismatches (a number where an enum is expected) as
        // syntax errors; a body that parses as JSON has no syntax error.
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        match inner.classify() {
            serde_json::error::Category::Data => field_problem(&path, message),
            serde_json::error::Category::Syntax if well_formed => {
                field_problem(&path, "has the wrong JSON type".to_string())
            }
            _ => ApiError::BadRequest {
                code: "malformed_json",
                detail: format!("the body is not valid JSON: {message}"),
                errors: Vec::new(),
            },
        }
    })
}

fn field_problem(path: &str, message: String) -> ApiError {
    let field = field_name(path, &message);
    ApiError::Invalid {
        code: "invalid_field",
        detail: format!("{field}: {message}"),
        errors: vec![FieldProblem {
            field,
            detail: message,
            code: None,
        }],
    }
}

/// The field a data error is about: the path, completed with the name serde quotes for
/// missing fields (whose path is the enclosing object).
fn field_name(path: &str, message: &str) -> String {
    let quoted = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (path, quoted) {
        // serde_path_to_error already ends the path with an unknown field's name.
        (path, Some(name)) if path == name || path.ends_with(&format!(".{name}")) => {
            path.to_string()
        }
        (".", Some(name)) => name.to_string(),
        (path, Some(name)) => format!("{path}.{name}"),
        (".", None) => "body".to_string(),
        (path, None) => path.to_string(),
    }
}

/// A query string whose errors name the parameter.
pub struct AppQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        if query.contains("%00") {
            return Err(ApiError::bad_param(
                "query",
                "must not contain the NUL character (%00)",
            ));
        }
        let deserializer = serde_urlencoded_deserializer(query);
        deserializer.map(AppQuery)
    }
}

fn serde_urlencoded_deserializer<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::bad_param("query", "the query string is malformed"))?,
    )
    .map(|axum::extract::Query(value)| value)
    .map_err(|rejection| {
        let text = rejection.body_text();
        let detail = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text);
        ApiError::bad_param("query", detail.to_string())
    })
}

/// Path parameters whose rejections (e.g. non-UTF-8 bytes) use the problem shape.
pub struct AppPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for AppPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| AppPath(value))
            .map_err(|rejection| ApiError::bad_param("path", rejection.body_text()))
    }
}

/// The request id set by the request-id layer (`x-request-id`), or a fresh one.
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let id = parts
            .headers
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Ok(RequestId(id))
    }
}

/// Parses a path or query id, answering 400 naming the parameter.
pub fn parse_id<T, E: std::fmt::Display>(
    name: &str,
    value: &str,
    parse: impl FnOnce(String) -> Result<T, E>,
) -> Result<T, ApiError> {
    parse(value.to_string()).map_err(|e| ApiError::bad_param(name, e.to_string()))
}

/// A multipart body that could not be read: too large past `limit` bytes (413), else
/// malformed (400).
pub fn multipart_problem(
    error: axum::extract::multipart::MultipartError,
    limit: usize,
) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge { limit }
    } else {
        ApiError::BadRequest {
            code: "bad_multipart",
            detail: format!(
                "the multipart body could not be read: {}",
                error.body_text()
            ),
            errors: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Row {
        student_id: String,
        status: domain::Status,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        marks: Vec<Row>,
    }

    fn problem(json: &str) -> crate::error::Problem {
        parse_json::<Body>(json.as_bytes()).unwrap_err().problem()
    }

    #[test]
    fn a_bad_value_names_its_json_path() {
        let p = problem(
            r#"{"marks":[{"student_id":"S1","status":"present"},{"student_id":"S2","status":"maybe"}]}"#,
        );
        assert_eq!(
            (p.status, p.errors[0].field.as_str()),
            (422, "marks[1].status")
        );
    }

    #[test]
    fn a_missing_field_is_named() {
        let p = problem(r#"{"marks":[{"student_id":"S1"}]}"#);
        assert_eq!(p.errors[0].field, "marks[0].status");
    }

    #[test]
    fn an_unknown_field_is_named() {
        let p = problem(r#"{"marks":[],"extra":1}"#);
        assert_eq!(p.errors[0].field, "extra");
    }

    #[test]
    fn malformed_json_is_a_400() {
        let p = problem(r#"{"marks": ["#);
        assert_eq!((p.status, p.code.as_str()), (400, "malformed_json"));
    }
}
