//! What the hostile tests share: the routes of the OpenAPI document with real ids for their
//! path parameters, a valid body per command, and the check that an answer is never a 5xx
//! and that every error is a complete problem document.

use crate::helpers::{TestApp, expect_json};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

/// The OpenAPI document the running app serves.
pub async fn openapi(app: &TestApp) -> Value {
    let response = app
        .request(Method::GET, "/api/openapi.json", None)
        .send()
        .await
        .expect("request sent");
    expect_json(response, StatusCode::OK).await
}

/// One operation of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Its method.
    pub method: Method,
    /// Its path as the document writes it (`/api/courses/{id}`).
    pub template: String,
    /// Its description in the document.
    pub spec: Value,
}

impl Operation {
    /// `POST /api/courses/{id}`, for messages.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// The names of its path parameters, in order.
    pub fn path_params(&self) -> Vec<String> {
        self.template
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_string)
            .collect()
    }

    /// Its query parameters: (name, required).
    pub fn query_params(&self) -> Vec<(String, bool)> {
        self.spec["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .map(|p| {
                let name = p["name"].as_str().unwrap_or_default().to_string();
                (name, p["required"] == true)
            })
            .collect()
    }

    /// Whether it takes a JSON body.
    pub fn takes_json(&self) -> bool {
        !self.spec["requestBody"]["content"]["application/json"].is_null()
    }
}

/// Every operation of the document, sorted by path then method.
pub fn operations(doc: &Value) -> Vec<Operation> {
    let mut all = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for (method, spec) in item.as_object().expect("path item") {
            if let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) {
                all.push(Operation {
                    method,
                    template: template.clone(),
                    spec: spec.clone(),
                });
            }
        }
    }
    all.sort_by(|a, b| (&a.template, a.method.as_str()).cmp(&(&b.template, b.method.as_str())));
    all
}

/// The property names of an operation's JSON body schema (following `$ref` and `allOf`).
pub fn body_fields(doc: &Value, op: &Operation) -> Vec<String> {
    let schema = &op.spec["requestBody"]["content"]["application/json"]["schema"];
    let mut fields = Vec::new();
    collect_fields(doc, schema, &mut fields);
    fields
}

fn collect_fields(doc: &Value, schema: &Value, fields: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return collect_fields(doc, &doc["components"]["schemas"][name], fields);
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        collect_fields(doc, part, fields);
    }
    if let Some(properties) = schema["properties"].as_object() {
        fields.extend(properties.keys().cloned());
    }
}

/// Real ids of a small seeded data set, to put in path templates.
#[derive(Debug, Clone)]
pub struct Ids {
    /// A course (CS101).
    pub course: String,
    /// A session of that course.
    pub session: String,
    /// Another session of that course.
    pub spare_session: String,
    /// A student enrolled in it (S1).
    pub student: String,
    /// A user account (a teacher).
    pub user: String,
    /// A sheet import job id (need not exist).
    pub job: String,
}

/// What kind of value a path parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A course code, session id, student number, job id or page: malformed ones are 400.
    Checked,
    /// A user id: any string is looked up (unknown ones are 404).
    Looked,
}

impl Ids {
    /// CS101 with S1..S3 and two sessions (S1 marked present in the first), and a teacher
    /// account.
    pub async fn seed(app: &TestApp) -> Ids {
        let session = app.course_with_session().await;
        let spare_session = app
            .schedule("CS101", "Lecture 2", "2026-09-14T09:00:00Z")
            .await;
        let (user, _) = app.create_user("hostile-teacher", "teacher", None).await;
        let marked = app.record(&app.admin, &session, "S1", "present").await;
        expect_json(marked, StatusCode::CREATED).await;
        Ids {
            course: "CS101".into(),
            session,
            spare_session,
            student: "S1".into(),
            user,
            job: uuid::Uuid::now_v7().to_string(),
        }
    }

    /// The value for parameter `param` of `template`, chosen by the segment before it.
    pub fn value_for(&self, template: &str, param: &str) -> (String, Kind) {
        let marker = format!("{{{param}}}");
        let before = template.split(&marker).next().unwrap_or_default();
        let parent = before.trim_end_matches('/').rsplit('/').next();
        let value = match (param, parent) {
            ("id", Some("courses" | "course")) | ("course_id", _) => &self.course,
            ("id", Some("sessions")) => &self.session,
            ("id", Some("students" | "student")) | ("student_id", _) => &self.student,
            ("session_id", _) => &self.spare_session,
            ("job_id", _) => &self.job,
            ("page", _) => return ("1.png".into(), Kind::Checked),
            // A closed day: anything but a date is 400.
            ("date", _) => return ("2026-12-25".into(), Kind::Checked),
            // A calendar feed's id or token: any string is looked up (unknown ones are 404).
            ("id", Some("feeds")) => return ("0123456789abcdef".into(), Kind::Looked),
            ("file", Some("ics")) => return ("0123456789abcdef.ics".into(), Kind::Looked),
            ("id", Some("users")) | ("user_id", _) => return (self.user.clone(), Kind::Looked),
            // A department is a name: any string is looked up (one without course is 404).
            ("department", _) => return ("Science".into(), Kind::Looked),
            _ => panic!("no id for {{{param}}} in {template}: teach Ids::value_for about it"),
        };
        (value.clone(), Kind::Checked)
    }

    /// The template with real ids, except `param` which gets the (already encoded) `raw`.
    pub fn fill(&self, template: &str, replace: Option<(&str, &str)>) -> String {
        let mut path = template.to_string();
        for param in template
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        {
            let value = match replace {
                Some((name, raw)) if name == param => raw.to_string(),
                _ => encode(&self.value_for(template, param).0),
            };
            path = path.replace(&format!("{{{param}}}"), &value);
        }
        path
    }

    /// A body the command accepts (given the seeded data), for routes that take JSON.
    pub fn valid_body(&self, op: &Operation) -> Option<Value> {
        let body = match (op.method.as_str(), op.template.as_str()) {
            ("POST", "/api/auth/login") => {
                json!({"username": "nobody", "password": "nothing-at-all"})
            }
            ("POST", "/api/users") => {
                json!({"username": "fresh-user", "password": "long-enough-pw", "role": "teacher"})
            }
            ("POST", "/api/students") => json!({"id": "S77", "name": "Seventy Seven"}),
            ("PUT", "/api/students/{id}") | ("PUT", "/api/courses/{id}") => {
                json!({"name": "Renamed"})
            }
            ("POST", "/api/courses") => json!({"code": "CS777", "name": "New course"}),
            ("POST", "/api/courses/{id}/teachers") => json!({"user_id": self.user}),
            ("PUT", "/api/courses/{id}/policy") => json!({
                "weights": {"present": 1.0, "late": 0.5, "excused": 1.0, "absent": 0.0},
                "count_excused": false, "at_risk_below": 70.0
            }),
            ("POST", "/api/courses/{id}/enrollments") => {
                json!({"student_id": "S2", "effective_from": "2026-09-01"})
            }
            ("POST", "/api/courses/{id}/sessions") => {
                json!({"title": "Lab", "starts_at": "2026-10-01T09:00:00Z", "duration_minutes": 60})
            }
            ("POST", "/api/courses/{id}/sessions/{session_id}/cancel") => {
                json!({"reason": "strike"})
            }
            ("POST", "/api/attendance") => {
                json!({"session_id": self.session, "student_id": "S1", "status": "present"})
            }
            ("POST", "/api/sessions/{id}/attendance") => {
                json!({"marks": [{"student_id": "S1", "status": "present"}]})
            }
            ("POST", "/api/sessions/{id}/attendance/{student_id}/correction") => {
                json!({"status": "late", "reason": "typo"})
            }
            ("POST", "/api/sessions/{id}/review/{student_id}") => json!({"status": "late"}),
            ("POST", "/api/courses/{id}/schedule") => json!({
                "weekdays": ["mon"], "at": "09:00", "duration_minutes": 60,
                "first_date": "2026-10-05", "last_date": "2026-10-12"
            }),
            ("PUT", "/api/courses/{id}/time-zone") => json!({"time_zone": "Europe/Berlin"}),
            ("POST", "/api/courses/{id}/sessions/{session_id}/reschedule") => {
                json!({"starts_at": "2026-09-07T10:00:00Z", "reason": "room change"})
            }
            ("POST", "/api/courses/{id}/sessions/{session_id}/restore") => {
                json!({"reason": "back on"})
            }
            ("POST", "/api/courses/{id}/sessions/{session_id}/rename") => {
                json!({"title": "Renamed lecture"})
            }
            ("POST", "/api/sessions/{id}/reopen") => json!({"reason": "closed too early"}),
            ("POST", "/api/courses/{id}/archive") => json!({"reason": "no longer offered"}),
            ("POST", "/api/attendance/bulk") => json!({"records": [
                {"session_id": self.session, "student_id": "S1", "status": "present"}
            ]}),
            ("PUT", "/api/students/{id}/notifications") => json!({"opted_out": false}),
            ("POST", "/api/sessions/{id}/check-in") => json!({"late_after_minutes": 10}),
            ("POST", "/api/check-in") => json!({"session_id": self.session, "code": "123456"}),
            _ if op.takes_json() => panic!("no valid body for {}: add one", op.name()),
            _ => return None,
        };
        Some(body)
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A response, read whole.
#[derive(Debug)]
pub struct Answer {
    /// Its status.
    pub status: StatusCode,
    /// Its content type.
    pub content_type: Option<String>,
    /// Its body as text (lossy).
    pub body: String,
}

impl Answer {
    /// Reads a response.
    pub async fn of(response: Response) -> Answer {
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response.bytes().await.unwrap_or_default();
        Answer {
            status,
            content_type,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// The body as JSON (null when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// What is wrong with it, if anything: a 5xx, or an error that is not a complete
    /// problem document (`type`, `title`, `status`, `detail`, `code`).
    pub fn flaw(&self) -> Option<String> {
        if self.status.is_server_error() {
            return Some(format!("server error {}: {}", self.status, self.body));
        }
        if !self.status.is_client_error() {
            return None;
        }
        if self.content_type.as_deref() != Some("application/problem+json") {
            return Some(format!(
                "{} as {:?}: {}",
                self.status, self.content_type, self.body
            ));
        }
        let problem = self.json();
        let missing: Vec<_> = ["type", "title", "detail", "code"]
            .into_iter()
            .filter(|key| problem[key].as_str().is_none_or(str::is_empty))
            .collect();
        if !missing.is_empty() || problem["status"] != self.status.as_u16() {
            return Some(format!(
                "incomplete problem ({missing:?} missing): {}",
                self.body
            ));
        }
        None
    }

    /// The problem's `code` (empty when there is none).
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }
}

/// Sends a request with an optional JSON body and reads the answer.
pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    let mut request = app.request(method, path, token);
    if let Some(body) = body {
        request = request.json(body);
    }
    Answer::of(request.send().await.expect("request sent")).await
}

/// What hostile requests must not change: the tables, and the rows of the event store and
/// the personal-data tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    /// The tables of the public schema.
    pub tables: Vec<String>,
    /// Stored events.
    pub events: i64,
    /// Student records.
    pub students: i64,
    /// Accounts.
    pub users: i64,
}

impl Counts {
    /// The counts now.
    pub async fn of(app: &TestApp) -> Counts {
        let rows = |table: &str| format!("SELECT count(*) FROM {table}");
        let count = |sql: String| async move {
            sqlx::query_scalar::<_, i64>(&sql)
                .fetch_one(&app.pool)
                .await
                .unwrap()
        };
        Counts {
            tables: sqlx::query_scalar(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            )
            .fetch_all(&app.pool)
            .await
            .unwrap(),
            events: count(rows("events")).await,
            students: count(rows("students")).await,
            users: count(rows("users")).await,
        }
    }
}

/// Asserts no failures, listing them all.
pub fn assert_none(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} failures\n{}",
        failures.len(),
        failures.join("\n")
    );
}
