//! Ownership for the routes `roles.rs` has no row for (reads, history, reports, statistics,
//! sheets and review), with its cast and checker: admin, the course's teacher, another
//! course's teacher, the student, a classmate, a student of another course, anonymous.
//! Every route of the OpenAPI document must have a row here or in `roles.rs`.

use super::support::{Answer, openapi, operations};
use crate::helpers::expect_json;
use crate::roles::{ALL_BUT_ADMIN, Case, OK, Who, Who::*, World, assert_none};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The routes `roles.rs` checks (keep in step with it), and the public ones.
const ELSEWHERE: &[(&str, &str)] = &[
    ("POST", "/api/auth/login"),
    ("GET", "/api/health"),
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("DELETE", "/api/users/{id}"),
    ("POST", "/api/users/{id}/enable"),
    ("POST", "/api/users/{id}/password-reset"),
    ("GET", "/api/users/{id}/changes"),
    // The caller's own account only, whoever they are: `accounts.rs` checks each flow
    // (anonymous 401 included).
    ("POST", "/api/auth/password"),
    ("POST", "/api/auth/refresh"),
    ("POST", "/api/auth/logout"),
    ("POST", "/api/students"),
    ("GET", "/api/students"),
    ("GET", "/api/students/{id}"),
    ("PUT", "/api/students/{id}"),
    ("DELETE", "/api/students/{id}"),
    ("POST", "/api/courses"),
    ("GET", "/api/courses"),
    ("GET", "/api/courses/{id}"),
    ("PUT", "/api/courses/{id}"),
    ("POST", "/api/courses/{id}/teachers"),
    ("DELETE", "/api/courses/{id}/teachers/{user_id}"),
    ("PUT", "/api/courses/{id}/policy"),
    ("POST", "/api/courses/{id}/enrollments"),
    ("DELETE", "/api/courses/{id}/enrollments/{student_id}"),
    ("GET", "/api/courses/{id}/students"),
    ("POST", "/api/courses/{id}/sessions"),
    ("GET", "/api/courses/{id}/sessions"),
    ("POST", "/api/courses/{id}/sessions/{session_id}/cancel"),
    ("POST", "/api/attendance"),
    ("POST", "/api/sessions/{id}/attendance"),
    (
        "POST",
        "/api/sessions/{id}/attendance/{student_id}/correction",
    ),
    ("POST", "/api/sessions/{id}/close"),
    ("GET", "/api/sessions/{id}"),
    // Multipart: checked by `sheet_uploads_by_role` below.
    ("POST", "/api/sheets"),
    // Multipart: checked by `spreadsheet_imports_are_the_admins` below.
    ("POST", "/api/imports/students"),
    // No sign-in by design (the token in the path is the secret): checked by
    // `calendar_life::a_calendar_feed_lists_a_students_sessions_in_local_time_until_it_is_revoked`.
    ("GET", "/api/calendar/ics/{file}"),
    ("POST", "/api/imports/users"),
    // Multipart: checked by `mark_imports_are_the_course_staffs` below.
    ("POST", "/api/imports/marks"),
];

const EVERYONE: &[Who] = &[Admin, Teacher, OtherTeacher, Student, Classmate, Outsider];
const NOT_STAFF: &[Who] = &[OtherTeacher, Student, Classmate, Outsider];
const STAFF: &[Who] = &[Admin, Teacher];
/// Who may not read S1's records: all but admin, CS101's teacher and S1.
const NOT_S1S: &[Who] = &[OtherTeacher, Classmate, Outsider];
const S1S: &[Who] = &[Admin, Teacher, Student];

/// The document template a concrete path belongs to (literal segments beat parameters).
fn template_of<'a>(templates: &'a [String], path: &str) -> Option<&'a String> {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    templates
        .iter()
        .filter_map(|t| {
            let parts: Vec<&str> = t.split('/').collect();
            let fits = parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p.starts_with('{') || p == s);
            fits.then(|| (parts.iter().filter(|p| !p.starts_with('{')).count(), t))
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, t)| t)
}

/// CS101's first session marked (S1 present) and read models caught up; a sheet of the
/// second session uploaded by CS101's teacher; returns the job id.
async fn prepare(w: &World) -> String {
    let app = &w.app;
    expect_json(
        app.record(&w.teacher, &w.session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    // CS101 in a department, for the department report's row.
    let details = json!({"name": "Course CS101", "department": "Science"});
    expect_json(app.put("/api/courses/CS101", &app.admin, details).await, OK).await;
    let wait = format!("min_position={}&wait_ms=20000", app.latest_position().await);
    for path in [
        "/api/courses/CS101/statistics",
        "/api/students/S1/summary",
        "/api/attendance",
    ] {
        let read = expect_json(app.get(&format!("{path}?{wait}"), &app.admin).await, OK).await;
        assert_eq!(read["freshness"]["caught_up"], true, "{path}: {read}");
    }
    let sheet = app
        .get(
            &format!("/api/sessions/{}/sheet.pdf", w.spare_session),
            &w.teacher,
        )
        .await;
    let pdf = sheet.bytes().await.unwrap().to_vec();
    let job = expect_json(upload(w, Teacher, pdf).await, StatusCode::CREATED).await;
    job["job_id"].as_str().expect("a job id").to_string()
}

async fn upload(w: &World, who: Who, pdf: Vec<u8>) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(pdf).file_name("scan.pdf");
    let form = reqwest::multipart::Form::new().part("file", part);
    let request = w.app.request(Method::POST, "/api/sheets", w.token(who));
    request.multipart(form).send().await.expect("request sent")
}

fn cases(w: &World, job: &str) -> Vec<Case> {
    let s = &w.session;
    let staff_read = |path: String| {
        Case::new(Method::GET, path)
            .forbid(NOT_STAFF)
            .allow(STAFF, OK)
    };
    let s1_read = |path: &str| Case::new(Method::GET, path).forbid(NOT_S1S).allow(S1S, OK);
    let job_read = |path: String| {
        Case::new(Method::GET, path)
            .allow(STAFF, OK)
            .allow(NOT_STAFF, StatusCode::NOT_FOUND)
    };
    vec![
        Case::new(Method::GET, "/api/auth/me").allow(EVERYONE, OK),
        Case::new(Method::GET, "/api/reports/formats").allow(EVERYONE, OK),
        Case::new(
            Method::GET,
            "/api/me/sessions?from=2026-09-01&to=2026-09-30",
        )
        .allow(EVERYONE, OK),
        Case::new(Method::GET, "/api/metrics")
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
        Case::new(Method::GET, "/api/audit/events?course_id=CS101")
            .forbid(&[OtherTeacher])
            .allow(&[Admin, Teacher, Student, Classmate, Outsider], OK),
        Case::new(Method::GET, "/api/audit/events?student_id=S1")
            .forbid(&[Classmate, Outsider])
            .allow(&[Admin, Teacher, OtherTeacher, Student], OK),
        Case::new(Method::GET, "/api/attendance?student_id=S1")
            .forbid(&[Classmate, Outsider])
            .allow(&[Admin, Teacher, OtherTeacher, Student], OK),
        Case::new(
            Method::GET,
            format!("/api/sessions/{s}/attendance/S1/history"),
        )
        .forbid(NOT_S1S)
        .allow(S1S, OK),
        s1_read("/api/attendance/student/S1"),
        s1_read("/api/students/S1/summary"),
        s1_read("/api/reports/student/S1?course_id=CS101&format=csv"),
        staff_read("/api/attendance/course/CS101".into()),
        staff_read("/api/courses/CS101/statistics".into()),
        staff_read("/api/courses/CS101/at-risk".into()),
        staff_read("/api/reports/course/CS101?format=csv".into()),
        staff_read("/api/reports/at-risk?course_id=CS101&format=csv".into()),
        staff_read(format!("/api/sessions/{s}/sheet.pdf")),
        staff_read(format!("/api/sessions/{s}/sheet/layout")),
        staff_read(format!("/api/sessions/{s}/review")),
        // Nothing is held: staff get past the rule to a 404.
        Case::new(Method::POST, format!("/api/sessions/{s}/review/S1"))
            .body(json!({"status": "late"}))
            .forbid(NOT_STAFF)
            .allow(STAFF, StatusCode::NOT_FOUND),
        // A job is visible to admins and its uploader only; others cannot tell it exists.
        job_read(format!("/api/sheets/{job}")),
        job_read(format!("/api/sheets/{job}/pages/1.png")),
        // The calendar (issue 17): the zone and reopening are the admin's; the timetable and
        // session changes are the course staff's.
        Case::new(Method::PUT, "/api/courses/CS101/time-zone")
            .body(json!({"time_zone": "UTC"}))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
        Case::new(Method::POST, "/api/courses/CS101/schedule")
            .body(
                json!({"weekdays": ["mon"], "at": "09:00", "duration_minutes": 60,
                "first_date": "2026-10-05", "last_date": "2026-10-12"}),
            )
            .forbid(NOT_STAFF)
            .allow(STAFF, StatusCode::CREATED),
        Case::new(
            Method::POST,
            format!("/api/courses/CS101/sessions/{s}/rename"),
        )
        .body(json!({"title": "Lecture one"}))
        .forbid(NOT_STAFF)
        .allow(STAFF, OK),
        Case::new(
            Method::POST,
            format!("/api/courses/CS101/sessions/{s}/reschedule"),
        )
        .body(json!({"duration_minutes": 80, "reason": "shorter"}))
        .forbid(NOT_STAFF)
        .allow(STAFF, OK),
        Case::new(
            Method::POST,
            format!("/api/courses/CS101/sessions/{s}/restore"),
        )
        .body(json!({"reason": "not cancelled: nothing changes"}))
        .forbid(NOT_STAFF)
        .allow(STAFF, OK),
        Case::new(Method::POST, format!("/api/sessions/{s}/reopen"))
            .body(json!({"reason": "not closed: nothing changes"}))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
        // The institution's closed days are the admin's to declare and everyone's to read;
        // a course's calendar feed is for those who may read the course.
        Case::new(Method::GET, "/api/calendar/closures").allow(EVERYONE, OK),
        Case::new(Method::POST, "/api/calendar/closures")
            .body(json!({"date": "2026-12-25", "reason": "Christmas", "dry_run": true}))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
        Case::new(Method::DELETE, "/api/calendar/closures/2026-12-25")
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
        Case::new(Method::GET, "/api/calendar/feeds").allow(EVERYONE, OK),
        Case::new(Method::POST, "/api/calendar/feeds")
            .body(json!({"course_id": "CS101"}))
            .forbid(&[OtherTeacher, Outsider])
            .allow(&[Admin, Teacher, Student, Classmate], StatusCode::CREATED),
        Case::new(Method::DELETE, "/api/calendar/feeds/0123456789abcdef")
            .allow(EVERYONE, StatusCode::NOT_FOUND),
        // The early warning (issue 20): a course's warnings are its staff's; a student's
        // standing and settings are for those who may read the student; the settings are
        // changed by the student themselves or an administrator only.
        staff_read("/api/courses/CS101/warnings".into()),
        s1_read("/api/students/S1/standing"),
        s1_read("/api/students/S1/notifications"),
        Case::new(Method::PUT, "/api/students/S1/notifications")
            .body(json!({"opted_out": false}))
            .forbid(&[Teacher, OtherTeacher, Classmate, Outsider])
            .allow(&[Admin, Student], OK),
        // Self check-in (issue 20): the course staff open, show and close it; only a student
        // checks in (here with a wrong code: 422, nothing recorded).
        Case::new(Method::POST, format!("/api/sessions/{s}/check-in"))
            .body(json!({"late_after_minutes": 10}))
            .forbid(NOT_STAFF)
            .allow(&[Admin], StatusCode::CREATED)
            .allow(&[Teacher], StatusCode::CONFLICT),
        staff_read(format!("/api/sessions/{s}/check-in/code")),
        Case::new(Method::POST, "/api/check-in")
            .body(json!({"session_id": s, "code": "not-a-code"}))
            .forbid(&[Admin, Teacher, OtherTeacher])
            .allow(
                &[Student, Classmate, Outsider],
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        Case::new(Method::DELETE, format!("/api/sessions/{s}/check-in"))
            .forbid(NOT_STAFF)
            .allow(STAFF, OK),
        // The seed's shapes (issue 18). A bulk request is refused to students outright; another
        // course's teacher is answered 200 with every mark refused `forbidden` (checked by
        // `seed_shapes::bulk_marks_are_written_per_session_all_or_nothing`).
        Case::new(Method::POST, "/api/attendance/bulk")
            .body(json!({"records": [{"session_id": s, "student_id": "S1", "status": "present"}]}))
            .forbid(&[Student, Classmate, Outsider])
            .allow(&[Admin, Teacher, OtherTeacher], OK),
        Case::new(Method::GET, "/api/reports/department/Science?format=csv")
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
        // Archiving is the admin's; last, and undone at once, so no other row meets it.
        Case::new(Method::POST, "/api/courses/CS202/archive")
            .body(json!({"reason": "ownership check"}))
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
        Case::new(Method::POST, "/api/courses/CS202/restore")
            .forbid(ALL_BUT_ADMIN)
            .allow(&[Admin], OK),
    ]
}

#[tokio::test]
async fn every_documented_route_has_an_ownership_row_and_the_rows_hold() {
    let w = World::new().await;
    let job = prepare(&w).await;
    let cases = cases(&w, &job);
    let doc = openapi(&w.app).await;
    let ops = operations(&doc);
    let templates: Vec<String> = ops.iter().map(|op| op.template.clone()).collect();
    let mut rows: Vec<(String, String)> = ELSEWHERE
        .iter()
        .map(|(m, t)| (m.to_string(), t.to_string()))
        .collect();
    for case in &cases {
        let template = template_of(&templates, &case.path);
        let template = template.unwrap_or_else(|| panic!("{} is not documented", case.path));
        rows.push((case.method.to_string(), template.clone()));
    }
    let missing: Vec<String> = ops
        .iter()
        .filter(|op| !rows.contains(&(op.method.to_string(), op.template.clone())))
        .map(|op| op.name())
        .collect();
    assert!(
        missing.is_empty(),
        "routes without an ownership row: {missing:?}"
    );
    let stale: Vec<_> = ELSEWHERE
        .iter()
        .filter(|(m, t)| !ops.iter().any(|op| op.method == *m && op.template == *t))
        .collect();
    assert!(
        stale.is_empty(),
        "rows for routes the document no longer has: {stale:?}"
    );
    assert_none(w.check(&cases).await);
}

#[tokio::test]
async fn sheet_uploads_by_role() {
    let w = World::new().await;
    let sheet = w
        .app
        .get(
            &format!("/api/sessions/{}/sheet.pdf", w.session),
            &w.teacher,
        )
        .await;
    let pdf = sheet.bytes().await.unwrap().to_vec();
    let events = w.app.event_count().await;
    let mut failures = Vec::new();
    for (who, status) in [
        (Anonymous, StatusCode::UNAUTHORIZED),
        (Student, StatusCode::FORBIDDEN),
        (Classmate, StatusCode::FORBIDDEN),
        (Outsider, StatusCode::FORBIDDEN),
    ] {
        let answer = Answer::of(upload(&w, who, pdf.clone()).await).await;
        if answer.status != status || answer.flaw().is_some() {
            failures.push(format!(
                "{who:?}: expected {status}, got {} {}",
                answer.status, answer.body
            ));
        }
    }
    assert_eq!(
        w.app.event_count().await,
        events,
        "refused uploads wrote nothing"
    );
    // Another course's teacher gets a job whose page is refused, and writes nothing.
    let job = expect_json(
        upload(&w, OtherTeacher, pdf.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(job["page_errors"], 1, "{job}");
    assert_eq!(job["marks_recorded"], 0, "{job}");
    assert_eq!(
        w.app.event_count().await,
        events,
        "the foreign page wrote nothing"
    );
    let job = expect_json(upload(&w, Teacher, pdf).await, StatusCode::CREATED).await;
    assert_eq!(
        job["marks_recorded"], 3,
        "the course's teacher imports: {job}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn spreadsheet_imports_are_the_admins() {
    let w = World::new().await;
    let csv = b"ID,Name\nS90,Ninety\n".to_vec();
    let import = |who: Who| {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(csv.clone()).file_name("s.csv"),
        );
        let request = w
            .app
            .request(Method::POST, "/api/imports/students", w.token(who));
        async move { request.multipart(form).send().await.expect("request sent") }
    };
    let mut failures = Vec::new();
    for (who, status) in [
        (Anonymous, StatusCode::UNAUTHORIZED),
        (Teacher, StatusCode::FORBIDDEN),
        (OtherTeacher, StatusCode::FORBIDDEN),
        (Student, StatusCode::FORBIDDEN),
        (Classmate, StatusCode::FORBIDDEN),
        (Outsider, StatusCode::FORBIDDEN),
        (Admin, OK),
    ] {
        let answer = Answer::of(import(who).await).await;
        if answer.status != status || answer.flaw().is_some() {
            failures.push(format!(
                "{who:?}: expected {status}, got {} {}",
                answer.status, answer.body
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let imported: i64 = sqlx::query_scalar("SELECT count(*) FROM students WHERE id = 'S90'")
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    assert_eq!(imported, 1, "only the admin's import wrote the student");

    let staff = b"Username,Role\nnewcomer,teacher\n".to_vec();
    let mut failures = Vec::new();
    for (who, status) in [
        (Anonymous, StatusCode::UNAUTHORIZED),
        (Teacher, StatusCode::FORBIDDEN),
        (Student, StatusCode::FORBIDDEN),
        (Admin, OK),
    ] {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(staff.clone()).file_name("staff.csv"),
        );
        let request = w
            .app
            .request(Method::POST, "/api/imports/users", w.token(who));
        let answer = Answer::of(request.multipart(form).send().await.unwrap()).await;
        if answer.status != status || answer.flaw().is_some() {
            failures.push(format!(
                "users, {who:?}: expected {status}, got {} {}",
                answer.status, answer.body
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn mark_imports_are_the_course_staffs() {
    let w = World::new().await;
    let csv = b"Student ID,Status\nS1,present\n".to_vec();
    let mut failures = Vec::new();
    for (who, status) in [
        (Anonymous, StatusCode::UNAUTHORIZED),
        (OtherTeacher, StatusCode::NOT_FOUND),
        (Outsider, StatusCode::NOT_FOUND),
        (Student, StatusCode::FORBIDDEN),
        (Classmate, StatusCode::FORBIDDEN),
        (Teacher, OK),
        (Admin, OK),
    ] {
        let form = reqwest::multipart::Form::new()
            .text("session_id", w.session.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(csv.clone()).file_name("marks.csv"),
            );
        let request = w
            .app
            .request(Method::POST, "/api/imports/marks", w.token(who));
        let answer = Answer::of(request.multipart(form).send().await.unwrap()).await;
        if answer.status != status || answer.flaw().is_some() {
            failures.push(format!(
                "{who:?}: expected {status}, got {} {}",
                answer.status, answer.body
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
