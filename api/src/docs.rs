//! The finishing pass over the OpenAPI document: what holds for every route is written here
//! once, not in each route's attribute.
//!
//! - Problem responses are documented as `application/problem+json`, the type the server
//!   answers (RFC 9457), and described from the [catalogue](crate::catalogue).
//! - Every route behind a bearer token documents its 401.
//! - `servers` names the configured public URL.
//!
//! Success responses, operationIds and examples are written by hand beside each route: a
//! generated text would say nothing, and the integration tests refuse a response without a
//! description or a repeated operationId.

use crate::catalogue;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::server::Server;
use utoipa::openapi::{Content, OpenApi, RefOr, Response};

/// The media type of every error response.
pub const PROBLEM_JSON: &str = "application/problem+json";
const PROBLEM_SCHEMA: &str = "#/components/schemas/Problem";

/// Completes the document generated from the routes.
pub fn finish(doc: &mut OpenApi, public_url: &str) {
    doc.servers = Some(vec![Server::new(public_url)]);
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            document_problems(operation);
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

fn document_problems(operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    if operation.security.is_some() {
        responses
            .entry("401".to_string())
            .or_insert_with(|| RefOr::T(Response::new("")));
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let Ok(status) = status.parse::<u16>() else {
            continue;
        };
        if status < 400 {
            continue;
        }
        // A JSON body of its own (the health check's 503) stays; a problem documented as
        // plain JSON (utoipa's default for a body), or without a body, is a problem document.
        if response
            .content
            .get("application/json")
            .is_some_and(|c| !is_problem(c))
        {
            continue;
        }
        response.content.shift_remove("application/json");
        response
            .content
            .insert(PROBLEM_JSON.into(), problem_content());
        if response.description.is_empty() {
            response.description = describe(status);
        }
    }
}

fn is_problem(content: &RefOr<Content>) -> bool {
    matches!(content, RefOr::T(Content { schema: Some(RefOr::Ref(r)), .. }) if r.ref_location == PROBLEM_SCHEMA)
}

fn problem_content() -> RefOr<Content> {
    let schema = utoipa::openapi::Ref::new(PROBLEM_SCHEMA);
    RefOr::T(Content::new(Some(schema)))
}

/// The description of a problem response: the catalogue's problem types of that status,
/// each with its title and when it happens.
pub fn describe(status: u16) -> String {
    let types: Vec<_> = catalogue::with_status(status).collect();
    match types.as_slice() {
        [] => format!("Error {status} (a problem document)."),
        [only] => format!("{}: {} (code `{}`).", only.title, only.when, only.code),
        several => {
            let mut text = format!(
                "A problem document whose `code` says which of these happened (the API's codes \
                 with status {status}; not every one applies to every operation):"
            );
            for p in several {
                text.push_str(&format!("\n- `{}` {}: {}.", p.code, p.title, p.when));
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_with_one_problem_type_reads_as_its_title_and_when() {
        assert_eq!(
            describe(413),
            "Payload too large: the body is larger than the configured limit (code `payload_too_large`)."
        );
    }

    #[test]
    fn a_status_with_several_problem_types_lists_each_code() {
        let text = describe(409);
        assert!(
            text.contains("\n- `correction_required` Correction required: "),
            "{text}"
        );
        assert!(
            text.contains("\n- `course_exists` Course exists: "),
            "{text}"
        );
    }

    #[test]
    fn problem_responses_become_problem_json_and_protected_routes_document_401() {
        let mut doc = crate::openapi("https://attendance.example.edu");
        assert_eq!(
            doc.servers.take().unwrap()[0].url,
            "https://attendance.example.edu"
        );
        let json = serde_json::to_value(&doc).unwrap();
        let create = &json["paths"]["/api/students"]["post"]["responses"];
        assert!(
            create["409"]["content"][PROBLEM_JSON].is_object(),
            "{create}"
        );
        assert!(
            create["409"]["content"]["application/json"].is_null(),
            "{create}"
        );
        assert_eq!(create["401"]["description"], describe(401));
        assert!(json["paths"]["/api/health"]["get"]["responses"]["401"].is_null());
    }
}
