//! Reading the pages' forms: every form is read as its list of fields (so a roll call of
//! 500 students is one list), and the `next` path after signing in is kept local.

use axum::Form;
use axum::extract::{FromRequest, Request};

use crate::error::PageError;

/// A submitted form's fields in order.
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of a field, trimmed, or empty.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").trim().to_string()
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, PageError> {
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|rejection| PageError::bad_form(rejection.body_text()))?;
        Ok(Fields(fields))
    }
}

/// A path to come back to after signing in: only a path of this site (letters, digits,
/// `/`, `-`, `_`, `.`), never another host or a scheme; `/` otherwise.
pub fn next_path(path: &str) -> String {
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= 200
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
    if local {
        path.to_string()
    } else {
        "/".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::next_path;

    #[test]
    fn only_a_local_path_is_followed_after_signing_in() {
        assert_eq!(next_path("/sessions/abc"), "/sessions/abc");
        assert_eq!(next_path("//evil.example/x"), "/");
        assert_eq!(next_path("https://evil.example"), "/");
        assert_eq!(next_path("/a?b=c"), "/");
    }
}
