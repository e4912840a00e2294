//! Authorization, table-driven: for each route group, anonymous callers get 401, the roles
//! the rules exclude get 403 (and nothing is written), and the allowed roles succeed.
//!
//! The cast: `admin`; `ada`, teacher of CS101; `bob`, teacher of CS202 only; student
//! accounts `s1` (S1) and `s2` (S2), both enrolled in CS101; `s4` (S4), enrolled in CS202 only.

use crate::helpers::{TestApp, expect_json, roster_row};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    Anonymous,
    Admin,
    /// Teacher of CS101.
    Teacher,
    /// Teacher of CS202 only.
    OtherTeacher,
    /// S1, enrolled in CS101.
    Student,
    /// S2, a classmate of S1.
    Classmate,
    /// S4, enrolled in CS202 only.
    Outsider,
}

pub(crate) use Who::*;

pub(crate) struct World {
    pub(crate) app: TestApp,
    /// The CS101 session on 2026-09-07.
    pub(crate) session: String,
    /// A second CS101 session, to cancel.
    pub(crate) spare_session: String,
    /// A teacher account nobody teaches with yet.
    spare_teacher: String,
    /// A teacher account to disable.
    victim: String,
    pub(crate) teacher: String,
    pub(crate) other_teacher: String,
    pub(crate) student: String,
    pub(crate) classmate: String,
    pub(crate) outsider: String,
}

impl World {
    pub(crate) async fn new() -> World {
        let app = TestApp::spawn().await;
        let session = app.course_with_session().await;
        let spare_session = app
            .schedule("CS101", "Lecture 2", "2026-09-14T09:00:00Z")
            .await;
        app.create_course("CS202").await;
        app.create_student("S4", "Kofi Mensah").await;
        app.enroll("CS202", "S4", "2026-09-01").await;
        for id in ["S5", "S9"] {
            app.create_student(id, &format!("Student {id}")).await;
        }
        let (_, teacher) = app.teacher_of("ada", "CS101").await;
        let (_, other_teacher) = app.teacher_of("bob", "CS202").await;
        let (spare_teacher, _) = app.create_user("carol", "teacher", None).await;
        let (victim, _) = app.create_user("victim", "teacher", None).await;
        let (_, student) = app.create_user("s1", "student", Some("S1")).await;
        let (_, classmate) = app.create_user("s2", "student", Some("S2")).await;
        let (_, outsider) = app.create_user("s4", "student", Some("S4")).await;
        World {
            app,
            session,
            spare_session,
            spare_teacher,
            victim,
            teacher,
            other_teacher,
            student,
            classmate,
            outsider,
        }
    }

    pub(crate) fn token(&self, who: Who) -> Option<&str> {
        match who {
            Anonymous => None,
            Admin => Some(&self.app.admin),
            Teacher => Some(&self.teacher),
            OtherTeacher => Some(&self.other_teacher),
            Student => Some(&self.student),
            Classmate => Some(&self.classmate),
            Outsider => Some(&self.outsider),
        }
    }

    async fn send(&self, who: Who, case: &Case) -> (StatusCode, Option<String>, String) {
        let mut request = self
            .app
            .request(case.method.clone(), &case.path, self.token(who));
        if let Some(body) = &case.body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        (status, content_type, response.text().await.unwrap())
    }

    /// Runs the cases in order; returns every mismatch.
    pub(crate) async fn check(&self, cases: &[Case]) -> Vec<String> {
        let mut failures = Vec::new();
        for case in cases {
            let before = self.app.event_count().await;
            for who in case.denied() {
                let (status, content_type, body) = self.send(who, case).await;
                let (expected, code) = if who == Anonymous {
                    (StatusCode::UNAUTHORIZED, "unauthorized")
                } else if case.hide.contains(&who) {
                    (StatusCode::NOT_FOUND, "not_found")
                } else {
                    (StatusCode::FORBIDDEN, "forbidden")
                };
                let problem: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                if status != expected
                    || problem["code"] != code
                    || content_type.as_deref() != Some("application/problem+json")
                {
                    failures.push(format!(
                        "{} {} as {who:?}: expected {expected} {code}, got {status} {body}",
                        case.method, case.path
                    ));
                }
            }
            let after = self.app.event_count().await;
            if after != before {
                failures.push(format!(
                    "{} {}: refused requests wrote {} events",
                    case.method,
                    case.path,
                    after - before
                ));
            }
            for (who, expected) in &case.allow {
                let (status, _, body) = self.send(*who, case).await;
                if status != *expected {
                    failures.push(format!(
                        "{} {} as {who:?}: expected {expected}, got {status} {body}",
                        case.method, case.path
                    ));
                }
            }
        }
        failures
    }
}

pub(crate) struct Case {
    pub(crate) method: Method,
    pub(crate) path: String,
    body: Option<Value>,
    /// Refused roles besides anonymous (always refused with 401).
    forbid: Vec<Who>,
    /// Roles told the resource does not exist (404), as for one that does not.
    hide: Vec<Who>,
    /// Allowed roles, in order, with the expected status.
    allow: Vec<(Who, StatusCode)>,
}

impl Case {
    pub(crate) fn new(method: Method, path: impl Into<String>) -> Case {
        Case {
            method,
            path: path.into(),
            body: None,
            forbid: Vec::new(),
            hide: Vec::new(),
            allow: Vec::new(),
        }
    }

    pub(crate) fn body(mut self, body: Value) -> Case {
        self.body = Some(body);
        self
    }

    pub(crate) fn forbid(mut self, who: &[Who]) -> Case {
        self.forbid.extend_from_slice(who);
        self
    }

    pub(crate) fn hide(mut self, who: &[Who]) -> Case {
        self.hide.extend_from_slice(who);
        self
    }

    pub(crate) fn allow(mut self, who: &[Who], status: StatusCode) -> Case {
        self.allow.extend(who.iter().map(|w| (*w, status)));
        self
    }

    fn denied(&self) -> Vec<Who> {
        std::iter::once(Anonymous)
            .chain(self.forbid.iter().copied())
            .chain(self.hide.iter().copied())
            .collect()
    }
}

pub(crate) const ALL_BUT_ADMIN: &[Who] = &[Teacher, OtherTeacher, Student, Classmate, Outsider];
pub(crate) const OK: StatusCode = StatusCode::OK;
const CREATED: StatusCode = StatusCode::CREATED;
const NO_CONTENT: StatusCode = StatusCode::NO_CONTENT;

pub(crate) fn assert_none(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "authorization mismatches:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn users_are_managed_by_admins_only() {
    let w = World::new().await;
    let password = "password-for-tests";
    let cases = [
        Case::new(Method::GET, "/api/users")
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
        Case::new(Method::POST, "/api/users")
            .body(json!({"username": "newbie", "password": password, "role": "teacher"}))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], CREATED),
        Case::new(Method::DELETE, format!("/api/users/{}", w.victim))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], NO_CONTENT),
        Case::new(Method::POST, format!("/api/users/{}/enable", w.victim))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], NO_CONTENT),
        Case::new(
            Method::POST,
            format!("/api/users/{}/password-reset", w.victim),
        )
        .forbid(ALL_BUT_ADMIN)
        .allow(&[Admin], OK),
        Case::new(Method::GET, format!("/api/users/{}/changes", w.victim))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
    ];
    assert_none(w.check(&cases).await);
}

#[tokio::test]
async fn students_personal_data_by_role() {
    let w = World::new().await;
    let cases = [
        Case::new(Method::POST, "/api/students")
            .body(json!({"id": "S20", "name": "New Student"}))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], CREATED),
        Case::new(Method::GET, "/api/students")
            .forbid(&[Student, Classmate, Outsider])
            .allow(&[Admin, Teacher, OtherTeacher], OK),
        // A student's record: admin, the student, and the teachers of their courses.
        Case::new(Method::GET, "/api/students/S1")
            .forbid(&[OtherTeacher, Classmate, Outsider])
            .allow(&[Admin, Teacher, Student], OK),
        Case::new(Method::PUT, "/api/students/S1")
            .body(json!({"name": "Ada Obi-Okafor"}))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
        Case::new(Method::DELETE, "/api/students/S9")
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], NO_CONTENT),
    ];
    assert_none(w.check(&cases).await);
}

#[tokio::test]
async fn courses_by_role() {
    let w = World::new().await;
    let policy = json!({
        "weights": {"present": 1.0, "late": 0.8, "excused": 1.0, "absent": 0.0},
        "count_excused": false,
        "at_risk_below": 75.0
    });
    let cases = [
        Case::new(Method::POST, "/api/courses")
            .body(json!({"code": "CS303", "name": "Compilers"}))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], CREATED),
        Case::new(Method::GET, "/api/courses").allow(
            &[Admin, Teacher, OtherTeacher, Student, Classmate, Outsider],
            OK,
        ),
        Case::new(Method::GET, "/api/courses/CS101")
            .hide(&[OtherTeacher, Outsider])
            .allow(&[Admin, Teacher, Student, Classmate], OK),
        Case::new(Method::PUT, "/api/courses/CS101")
            .body(json!({"name": "Programming 1"}))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
        Case::new(Method::POST, "/api/courses/CS101/teachers")
            .body(json!({"user_id": w.spare_teacher}))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
        Case::new(
            Method::DELETE,
            format!("/api/courses/CS101/teachers/{}", w.spare_teacher),
        )
        .forbid(ALL_BUT_ADMIN)
        .allow(&[Admin], OK),
        Case::new(Method::PUT, "/api/courses/CS101/policy")
            .body(policy)
            .forbid(&[OtherTeacher, Student, Classmate, Outsider])
            .allow(&[Teacher, Admin], OK),
    ];
    assert_none(w.check(&cases).await);
}

#[tokio::test]
async fn enrollments_by_role() {
    let w = World::new().await;
    let cases = [
        Case::new(Method::POST, "/api/courses/CS101/enrollments")
            .body(json!({"student_id": "S5", "effective_from": "2026-09-01"}))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
        Case::new(
            Method::DELETE,
            "/api/courses/CS101/enrollments/S5?effective_from=2026-10-01",
        )
        .forbid(ALL_BUT_ADMIN)
        .allow(&[Admin], OK),
        Case::new(Method::GET, "/api/courses/CS101/students")
            .forbid(&[OtherTeacher, Student, Classmate, Outsider])
            .allow(&[Admin, Teacher], OK),
    ];
    assert_none(w.check(&cases).await);
}

#[tokio::test]
async fn sessions_by_role() {
    let w = World::new().await;
    let cases = [
        Case::new(Method::POST, "/api/courses/CS101/sessions")
            .body(json!({"title": "Lab", "starts_at": "2026-09-08T14:00:00Z", "duration_minutes": 60}))
            .forbid(&[OtherTeacher, Student, Classmate, Outsider])
            .allow(&[Teacher, Admin], CREATED),
        Case::new(Method::GET, "/api/courses/CS101/sessions")
            .forbid(&[OtherTeacher, Outsider])
            .allow(&[Admin, Teacher, Student], OK),
        Case::new(
            Method::POST,
            format!("/api/courses/CS101/sessions/{}/cancel", w.spare_session),
        )
        .body(json!({"reason": "strike"}))
        .forbid(&[OtherTeacher, Student, Classmate, Outsider])
        .allow(&[Teacher], OK),
    ];
    assert_none(w.check(&cases).await);
}

#[tokio::test]
async fn attendance_corrections_and_close_by_role() {
    let w = World::new().await;
    let s = &w.session;
    let staff_only = [OtherTeacher, Student, Classmate, Outsider];
    let cases = [
        // The teacher's mark is new (201); the admin's same mark is already there (200).
        Case::new(Method::POST, "/api/attendance")
            .body(json!({"session_id": s, "student_id": "S1", "status": "present"}))
            .forbid(&staff_only)
            .allow(&[Teacher], StatusCode::CREATED)
            .allow(&[Admin], OK),
        // The seed-style body resolves through the course: same rules.
        Case::new(Method::POST, "/api/attendance")
            .body(json!({"course_id": "CS101", "date": "2026-09-07", "student_id": "S3", "status": "late"}))
            .forbid(&staff_only)
            .allow(&[Teacher], StatusCode::CREATED)
            .allow(&[Admin], OK),
        Case::new(Method::POST, format!("/api/sessions/{s}/attendance"))
            .body(json!({"marks": [{"student_id": "S2", "status": "present"}]}))
            .forbid(&staff_only)
            .allow(&[Teacher, Admin], OK),
        Case::new(
            Method::POST,
            format!("/api/sessions/{s}/attendance/S1/correction"),
        )
        .body(json!({"status": "excused", "reason": "medical note"}))
        .forbid(&staff_only)
        .allow(&[Teacher, Admin], OK),
        Case::new(Method::POST, format!("/api/sessions/{s}/close"))
            .forbid(&staff_only)
            .allow(&[Teacher, Admin], OK),
    ];
    assert_none(w.check(&cases).await);
}

#[tokio::test]
async fn the_session_view_by_role() {
    let w = World::new().await;
    let cases = [
        Case::new(Method::GET, format!("/api/sessions/{}", w.session))
            .hide(&[OtherTeacher, Outsider])
            .allow(&[Admin, Teacher, Student, Classmate], OK),
    ];
    assert_none(w.check(&cases).await);
}

#[tokio::test]
async fn a_student_sees_only_their_own_roster_row_and_record() {
    let w = World::new().await;
    let app = &w.app;
    for (student, status) in [("S1", "late"), ("S2", "absent"), ("S3", "present")] {
        expect_json(
            app.record(&w.teacher, &w.session, student, status).await,
            StatusCode::CREATED,
        )
        .await;
    }
    let staff_view = app.session_view(&w.teacher, &w.session).await;
    assert_eq!(staff_view["roster"].as_array().unwrap().len(), 3);

    let own = app.session_view(&w.student, &w.session).await;
    let rows = own["roster"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "only the student's own row: {own}");
    assert_eq!(rows[0]["student_id"], "S1");
    assert_eq!(rows[0]["status"], "late");
    assert!(
        !own.to_string().contains("S2") && !own.to_string().contains("Zoë"),
        "no classmate data: {own}"
    );
    let classmate = app.session_view(&w.classmate, &w.session).await;
    assert_eq!(classmate["roster"].as_array().unwrap().len(), 1);
    assert_eq!(roster_row(&classmate, "S2")["status"], "absent");

    let record = expect_json(app.get("/api/students/S1", &w.student).await, OK).await;
    assert_eq!(record["id"], "S1");
    assert_eq!(record["name"], "Ada Obi");
}

#[tokio::test]
async fn listings_show_each_caller_only_what_they_may_read() {
    let w = World::new().await;
    let app = &w.app;
    let codes = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap().to_string())
            .collect()
    };
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = expect_json(app.get("/api/courses", &app.admin).await, OK).await;
    assert_eq!(codes(&all), ["CS101", "CS202"]);
    let ada = expect_json(app.get("/api/courses", &w.teacher).await, OK).await;
    assert_eq!(codes(&ada), ["CS101"]);
    let bob = expect_json(app.get("/api/courses", &w.other_teacher).await, OK).await;
    assert_eq!(codes(&bob), ["CS202"]);
    let s1 = expect_json(app.get("/api/courses", &w.student).await, OK).await;
    assert_eq!(codes(&s1), ["CS101"]);
    let s4 = expect_json(app.get("/api/courses", &w.outsider).await, OK).await;
    assert_eq!(codes(&s4), ["CS202"]);

    let students = expect_json(app.get("/api/students", &w.teacher).await, OK).await;
    assert_eq!(ids(&students), ["S1", "S2", "S3"]);
    let students = expect_json(app.get("/api/students", &w.other_teacher).await, OK).await;
    assert_eq!(ids(&students), ["S4"]);
    let students = expect_json(app.get("/api/students", &app.admin).await, OK).await;
    assert_eq!(ids(&students), ["S1", "S2", "S3", "S4", "S5", "S9"]);
}
