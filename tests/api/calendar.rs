//! The school calendar through the real API and NATS: a course's time zone decides every
//! "day" (rosters, the seed `date` look-up, last attended, report columns), a term is
//! scheduled in one request at the same local time across a DST change, and sessions move,
//! come back and are renamed with who and why in the history.

use crate::helpers::{TestApp, expect_json, expect_problem, roster_row};
use crate::read_side::read;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Creates a course with a body of its own (as admin) and returns the answer.
async fn create_course(app: &TestApp, body: Value) -> Value {
    expect_json(
        app.post("/api/courses", &app.admin, body).await,
        StatusCode::CREATED,
    )
    .await
}

/// Schedules a session and returns the answer's session.
async fn schedule(app: &TestApp, course: &str, title: &str, starts_at: &str) -> Value {
    let path = format!("/api/courses/{course}/sessions");
    let body = json!({"title": title, "starts_at": starts_at, "duration_minutes": 60});
    let done = expect_json(app.post(&path, &app.admin, body).await, StatusCode::CREATED).await;
    done["session"].clone()
}

/// The seed-compatible mark: a course, a local date, a student.
async fn mark_by_date(app: &TestApp, course: &str, date: &str, student: &str) -> reqwest::Response {
    let body =
        json!({"course_id": course, "date": date, "student_id": student, "status": "present"});
    app.post("/api/attendance", &app.admin, body).await
}

#[tokio::test]
async fn a_chicago_session_at_half_past_eleven_in_the_evening_belongs_to_its_local_day() {
    let app =
        TestApp::spawn_with(|c| c.timezone = domain::Zone::parse("America/Chicago").unwrap()).await;
    let course = create_course(&app, json!({"code": "CHI", "name": "Night class"})).await;
    assert_eq!(course["time_zone"], "America/Chicago", "{course}");
    for (id, from) in [("S1", "2026-09-01"), ("S2", "2026-09-02")] {
        app.create_student(id, id).await;
        app.enroll("CHI", id, from).await;
    }
    // 23:30 CDT on 1 September is 04:30 UTC on 2 September.
    let session = schedule(&app, "CHI", "Late lecture", "2026-09-02T04:30:00Z").await;
    assert_eq!(
        session["starts_at"], "2026-09-01T23:30:00-05:00",
        "{session}"
    );
    assert_eq!(session["date"], "2026-09-01", "{session}");
    // The seed look-up finds it on its local date, not on the UTC one.
    let wrong_day = mark_by_date(&app, "CHI", "2026-09-02", "S1").await;
    assert_eq!(wrong_day.status(), StatusCode::NOT_FOUND);
    let marked = expect_json(
        mark_by_date(&app, "CHI", "2026-09-01", "S1").await,
        StatusCode::CREATED,
    )
    .await;
    // The roster is who was enrolled on 1 September local: S2 starts on the 2nd.
    let id = session["id"].as_str().unwrap();
    let view = app.session_view(&app.admin, id).await;
    assert_eq!(roster_row(&view, "S1")["status"], "present", "{view}");
    let on_roster: Vec<&str> = view["roster"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["student_id"].as_str())
        .collect();
    assert_eq!(on_roster, vec!["S1"], "{view}");
    // Last attended is the local day too.
    let position = marked["position"].as_i64().unwrap();
    let stats = read(&app, "/api/courses/CHI/statistics", &app.admin, position).await;
    let s1 = stats["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["student_id"] == "S1")
        .unwrap_or_else(|| panic!("S1 in {stats}"))
        .clone();
    assert_eq!(s1["last_attended"], "2026-09-01", "{stats}");
}

#[tokio::test]
async fn an_auckland_morning_is_the_previous_day_in_utc_but_its_own_day_in_the_course() {
    let app = TestApp::spawn().await;
    let body = json!({"code": "AKL", "name": "Morning class", "time_zone": "Pacific/Auckland"});
    assert_eq!(
        create_course(&app, body).await["time_zone"],
        "Pacific/Auckland"
    );
    app.create_student("S1", "Aroha").await;
    app.enroll("AKL", "S1", "2026-09-01").await;
    // 08:00 NZST on 1 September is 20:00 UTC on 31 August.
    let session = schedule(&app, "AKL", "Lecture 1", "2026-08-31T20:00:00Z").await;
    assert_eq!(
        session["starts_at"], "2026-09-01T08:00:00+12:00",
        "{session}"
    );
    expect_json(
        mark_by_date(&app, "AKL", "2026-09-01", "S1").await,
        StatusCode::CREATED,
    )
    .await;
    let view = app
        .session_view(&app.admin, session["id"].as_str().unwrap())
        .await;
    assert_eq!(roster_row(&view, "S1")["status"], "present", "{view}");
}

#[tokio::test]
async fn changing_a_course_zone_is_an_event_and_an_unknown_zone_is_refused() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let refused = app
        .put(
            "/api/courses/CS101/time-zone",
            &app.admin,
            json!({"time_zone": "Mars/Olympus"}),
        )
        .await;
    let problem = expect_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("Mars/Olympus"),
        "{problem}"
    );
    let body = json!({"time_zone": "Pacific/Auckland"});
    let done = expect_json(
        app.put("/api/courses/CS101/time-zone", &app.admin, body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["changed"], true);
    let events = app.events_of("course", "CS101").await;
    assert_eq!(
        events.last().map(String::as_str),
        Some("CourseTimeZoneChanged")
    );
    let course = expect_json(
        app.get("/api/courses/CS101", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(course["time_zone"], "Pacific/Auckland");
}

#[tokio::test]
async fn a_term_is_scheduled_in_one_request_at_the_same_local_time_across_a_dst_change() {
    let app = TestApp::spawn().await;
    create_course(
        &app,
        json!({"code": "CHI", "name": "Term", "time_zone": "America/Chicago"}),
    )
    .await;
    let before = app.event_count().await;
    let body = json!({
        "weekdays": ["mon", "wed"], "at": "09:00", "duration_minutes": 90,
        "first_date": "2026-10-26", "last_date": "2026-11-11",
        "title_pattern": "Lecture {n}", "skip_dates": ["2026-11-09"]
    });
    let term = expect_json(
        app.post("/api/courses/CHI/schedule", &app.admin, body)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let starts: Vec<&str> = term["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    // Chicago leaves daylight time on 1 November: 09:00 stays 09:00, the offset changes.
    assert_eq!(
        starts,
        vec![
            "2026-10-26T09:00:00-05:00",
            "2026-10-28T09:00:00-05:00",
            "2026-11-02T09:00:00-06:00",
            "2026-11-04T09:00:00-06:00",
            "2026-11-11T09:00:00-06:00",
        ],
        "{term}"
    );
    assert_eq!(term["sessions"][4]["title"], "Lecture 5");
    assert_eq!(app.event_count().await, before + 5);
    let listed = expect_json(
        app.get("/api/courses/CHI/sessions", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn a_bad_timetable_schedules_nothing_and_says_what_is_wrong() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let before = app.event_count().await;
    let cases = [
        (
            json!({"weekdays": ["mon"], "at": "09:00", "duration_minutes": 90, "first_date": "2026-11-02", "last_date": "2026-10-26"}),
            "last_date",
        ),
        (
            json!({"weekdays": ["someday"], "at": "09:00", "duration_minutes": 90, "first_date": "2026-10-26", "last_date": "2026-11-02"}),
            "weekdays",
        ),
        (
            json!({"weekdays": ["mon"], "at": "9 o'clock", "duration_minutes": 90, "first_date": "2026-10-26", "last_date": "2026-11-02"}),
            "at",
        ),
        (
            json!({"weekdays": [], "at": "09:00", "duration_minutes": 90, "first_date": "2026-10-26", "last_date": "2026-11-02"}),
            "weekdays",
        ),
        (
            json!({"weekdays": ["mon"], "at": "09:00", "duration_minutes": 0, "first_date": "2026-10-26", "last_date": "2026-11-02"}),
            "duration_minutes",
        ),
    ];
    for (body, field) in cases {
        let refused = app
            .post("/api/courses/CS101/schedule", &app.admin, body.clone())
            .await;
        let problem =
            expect_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    assert_eq!(app.event_count().await, before, "nothing was scheduled");
}

#[tokio::test]
async fn a_session_moves_comes_back_and_is_renamed_with_who_and_why_in_the_history() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let base = format!("/api/courses/CS101/sessions/{session}");
    let no_reason = app
        .post(
            &format!("{base}/reschedule"),
            &app.admin,
            json!({"starts_at": "2026-09-08T14:00:00Z", "reason": " "}),
        )
        .await;
    expect_problem(no_reason, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let moved = json!({"starts_at": "2026-09-08T14:00:00Z", "duration_minutes": 60, "reason": "room flooded"});
    expect_json(
        app.post(&format!("{base}/reschedule"), &app.admin, moved)
            .await,
        StatusCode::OK,
    )
    .await;
    expect_json(
        app.post(
            &format!("{base}/cancel"),
            &app.admin,
            json!({"reason": "strike"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let moved_again = json!({"starts_at": "2026-09-09T14:00:00Z", "reason": "still flooded"});
    let refused = app
        .post(&format!("{base}/reschedule"), &app.admin, moved_again)
        .await;
    expect_problem(refused, StatusCode::CONFLICT, "session_cancelled").await;
    expect_json(
        app.post(
            &format!("{base}/restore"),
            &app.admin,
            json!({"reason": "strike called off"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let renamed = json!({"title": "Guest lecture", "reason": "speaker confirmed"});
    let done = expect_json(
        app.post(&format!("{base}/rename"), &app.admin, renamed)
            .await,
        StatusCode::OK,
    )
    .await;
    let listed = expect_json(
        app.get("/api/courses/CS101/sessions", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed[0]["title"], "Guest lecture", "{listed}");
    assert_eq!(listed[0]["starts_at"], "2026-09-08T14:00:00Z", "{listed}");
    assert_eq!(listed[0]["duration_minutes"], 60, "{listed}");
    assert_eq!(listed[0]["cancelled"], false, "{listed}");
    let events = app.events_of("course", "CS101").await;
    let tail: Vec<&str> = events
        .iter()
        .rev()
        .take(4)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        vec![
            "SessionRescheduled",
            "SessionCancelled",
            "SessionRestored",
            "SessionRenamed"
        ]
    );
    // The register view follows the session (read model).
    let position = done["position"].as_i64().unwrap();
    let view = read(
        &app,
        &format!("/api/sessions/{session}"),
        &app.admin,
        position,
    )
    .await;
    assert_eq!(view["session"]["title"], "Guest lecture", "{view}");
}

#[tokio::test]
async fn a_backdated_enrolment_puts_a_late_enrolee_on_an_opened_register() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    app.create_student("S4", "Late Enrolee").await;
    app.enroll("CS101", "S4", "2026-09-10").await;
    expect_json(
        app.record(&app.admin, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    let refused = app.record(&app.admin, &session, "S4", "present").await;
    expect_problem(refused, StatusCode::CONFLICT, "not_on_roster").await;
    // Re-enrolling from an earlier date moves the enrolment's start and amends the register.
    let body = json!({"student_id": "S4", "effective_from": "2026-09-01"});
    let done = expect_json(
        app.post("/api/courses/CS101/enrollments", &app.admin, body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["changed"], true, "{done}");
    assert_eq!(
        app.events_of("register", &session)
            .await
            .last()
            .map(String::as_str),
        Some("RosterAmended")
    );
    expect_json(
        app.record(&app.admin, &session, "S4", "late").await,
        StatusCode::CREATED,
    )
    .await;
    let view = app.session_view(&app.admin, &session).await;
    assert_eq!(roster_row(&view, "S4")["status"], "late", "{view}");
}

#[tokio::test]
async fn a_student_unenrolled_from_a_past_date_is_taken_off_the_register_and_cannot_be_marked() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    expect_json(
        app.record(&app.admin, &session, "S2", "absent").await,
        StatusCode::CREATED,
    )
    .await;
    let path = "/api/courses/CS101/enrollments/S2?effective_from=2026-09-05";
    expect_json(app.delete(path, &app.admin).await, StatusCode::OK).await;
    let refused = app.record(&app.admin, &session, "S2", "present").await;
    let problem = expect_problem(refused, StatusCode::CONFLICT, "removed_from_roster").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("S2"),
        "{problem}"
    );
    let view = app.session_view(&app.admin, &session).await;
    let on_roster: Vec<&str> = view["roster"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["student_id"].as_str())
        .collect();
    assert_eq!(on_roster, vec!["S1", "S3"], "{view}");
}

#[tokio::test]
async fn an_admin_reopens_a_closed_register_with_a_reason() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    expect_json(
        app.record(&teacher, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    expect_json(
        app.post(
            &format!("/api/sessions/{session}/close"),
            &teacher,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let path = format!("/api/sessions/{session}/reopen");
    let by_teacher = app
        .post(&path, &teacher, json!({"reason": "closed too early"}))
        .await;
    assert_eq!(by_teacher.status(), StatusCode::FORBIDDEN);
    let no_reason = app.post(&path, &app.admin, json!({"reason": " "})).await;
    expect_problem(no_reason, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let done = expect_json(
        app.post(&path, &app.admin, json!({"reason": "closed too early"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["changed"], true);
    assert_eq!(
        app.events_of("register", &session)
            .await
            .last()
            .map(String::as_str),
        Some("RegisterReopened")
    );
    let view = app.session_view(&app.admin, &session).await;
    assert_eq!(view["closed"], false, "{view}");
}

/// The rate column of a student's line in a course report CSV.
fn csv_rate(csv: &str, student: &str) -> Option<f64> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next()?.split(',').collect();
    let column = header.iter().position(|h| *h == "rate")?;
    let line = lines.find(|l| l.split(',').next() == Some(student))?;
    line.split(',').nth(column)?.parse().ok()
}

#[tokio::test]
async fn every_route_and_report_gives_one_rate_after_a_cancellation_a_reschedule_and_an_amendment()
{
    let app = TestApp::spawn().await;
    let first = app.course_with_session().await;
    let second = app
        .schedule("CS101", "Lecture 2", "2026-09-08T09:00:00Z")
        .await;
    let third = app
        .schedule("CS101", "Lecture 3", "2026-09-09T09:00:00Z")
        .await;
    let fourth = app
        .schedule("CS101", "Lecture 4", "2026-09-10T09:00:00Z")
        .await;
    for (session, status) in [
        (&first, "absent"),
        (&second, "present"),
        (&third, "late"),
        (&fourth, "present"),
    ] {
        expect_json(
            app.record(&app.admin, session, "S1", status).await,
            StatusCode::CREATED,
        )
        .await;
    }
    // Lecture 2 is cancelled, lecture 3 moves a day earlier, and S1 leaves from 10 September
    // (a past date: lecture 4's register drops them).
    let base = "/api/courses/CS101/sessions";
    expect_json(
        app.post(
            &format!("{base}/{second}/cancel"),
            &app.admin,
            json!({"reason": "strike"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let moved = json!({"starts_at": "2026-09-08T14:00:00Z", "reason": "room swap"});
    expect_json(
        app.post(&format!("{base}/{third}/reschedule"), &app.admin, moved)
            .await,
        StatusCode::OK,
    )
    .await;
    expect_json(
        app.delete(
            "/api/courses/CS101/enrollments/S1?effective_from=2026-09-10",
            &app.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        app.events_of("register", &fourth)
            .await
            .last()
            .map(String::as_str),
        Some("RosterAmended")
    );
    let position = app.latest_position().await;
    // Counted: lecture 1 absent, lecture 3 late: 1 of 2 = 50 %. Counting the cancelled
    // lecture 2 and lecture 4 after leaving would give 3 of 4 = 75 %.
    let stats = read(&app, "/api/courses/CS101/statistics", &app.admin, position).await;
    let s1 = stats["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["student_id"] == "S1")
        .cloned()
        .unwrap_or_else(|| panic!("S1 in {stats}"));
    let summary = read(&app, "/api/students/S1/summary", &app.admin, position).await;
    let course = summary["courses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["course_id"] == "CS101")
        .cloned()
        .unwrap_or_else(|| panic!("CS101 in {summary}"));
    let records = read(
        &app,
        "/api/attendance/student/S1?course_id=CS101",
        &app.admin,
        position,
    )
    .await;
    let counts = read(&app, "/api/attendance/course/CS101", &app.admin, position).await;
    let report = app
        .get("/api/reports/course/CS101?format=csv", &app.admin)
        .await;
    assert_eq!(report.status(), StatusCode::OK);
    let report = report.text().await.unwrap();
    assert_eq!(s1["rate"], 50.0, "statistics: {s1}");
    assert_eq!(course["rate"], 50.0, "summary: {course}");
    assert_eq!(
        records["summary"]["attendance_rate"], 50.0,
        "records: {records}"
    );
    assert_eq!(
        records["summary"]["total_sessions"], 2,
        "records: {records}"
    );
    assert_eq!(csv_rate(&report, "S1"), Some(50.0), "report:\n{report}");
    // The course counts agree with the statistics' totals.
    for status in ["present", "late", "excused", "absent"] {
        assert_eq!(
            counts[status], stats["totals"][status],
            "{status}: {counts} vs {stats}"
        );
    }
    // And the stored read models are what a fold of the whole history gives.
    crate::read_side::assert_matches_the_event_store(&app).await;
}

#[tokio::test]
async fn the_schedule_command_puts_an_auckland_term_on_the_calendar_in_local_time() {
    let app = TestApp::spawn().await;
    let body = json!({"code": "AKL", "name": "Term", "time_zone": "Pacific/Auckland"});
    create_course(&app, body).await;
    let mut command = std::process::Command::new(crate::helpers::attendance_binary());
    command
        .args(["schedule", "AKL", "--weekdays", "mon,thu", "--at", "08:00"])
        .args([
            "--from",
            "2026-09-21",
            "--until",
            "2026-10-01",
            "--skip",
            "2026-09-24",
        ])
        .env(
            "DATABASE_URL",
            format!("{}/{}", crate::helpers::postgres_base(), app.database),
        );
    let printed = crate::helpers::run(command).await;
    // Auckland moves to daylight time on 27 September: 08:00 is +12:00 before, +13:00 after.
    let starts: Vec<&str> = printed
        .lines()
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    assert_eq!(
        starts,
        vec![
            "2026-09-21T08:00:00+12:00",
            "2026-09-28T08:00:00+13:00",
            "2026-10-01T08:00:00+13:00"
        ],
        "{printed}"
    );
    let listed = expect_json(
        app.get("/api/courses/AKL/sessions", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
    assert_eq!(listed[2]["title"], "Lecture 3", "{listed}");
}

#[tokio::test]
async fn whats_on_lists_a_teachers_and_a_students_sessions_with_the_register_state() {
    let app = TestApp::spawn().await;
    let first = app.course_with_session().await;
    let second = app
        .schedule("CS101", "Lecture 2", "2026-09-09T09:00:00Z")
        .await;
    app.schedule("CS101", "Lecture 3", "2026-09-30T09:00:00Z")
        .await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let (_, student) = app.create_user("s2", "student", Some("S2")).await;
    expect_json(
        app.record(&teacher, &first, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    app.session_view(&teacher, &first).await;
    let path = "/api/me/sessions?from=2026-09-07&to=2026-09-13";
    let mine = expect_json(app.get(path, &teacher).await, StatusCode::OK).await;
    let sessions = mine["sessions"].as_array().unwrap();
    let ids: Vec<&str> = sessions
        .iter()
        .map(|s| s["session"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![first.as_str(), second.as_str()], "{mine}");
    assert_eq!(sessions[0]["register"], "open", "{mine}");
    assert_eq!(sessions[0]["unmarked"], 2, "{mine}");
    assert_eq!(sessions[1]["register"], "not_taken", "{mine}");
    let theirs = expect_json(app.get(path, &student).await, StatusCode::OK).await;
    assert_eq!(theirs["sessions"].as_array().unwrap().len(), 2, "{theirs}");
    assert_eq!(theirs["sessions"][0]["unmarked"], Value::Null, "{theirs}");
    let too_long = app
        .get("/api/me/sessions?from=2026-09-01&to=2026-12-31", &teacher)
        .await;
    expect_problem(too_long, StatusCode::BAD_REQUEST, "invalid_parameter").await;
}
