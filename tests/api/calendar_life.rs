//! The calendar as a school lives it, through the real API and NATS: closed days previewed
//! and then cancelling the sessions on them (by each course's local day) and skipped by new
//! terms; registers closed on schedule by the actor `system`, caught up after a restart and
//! never closed twice; secret iCalendar feeds in local time until revoked; a week of marks
//! across a DST change.

use crate::helpers::{
    TestApp, expect_json, expect_problem, problem_fields, roster_row, wait_until,
};
use attendance::startup::Application;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

async fn course(app: &TestApp, code: &str, zone: &str) {
    let body = json!({"code": code, "name": format!("Course {code}"), "time_zone": zone});
    expect_json(
        app.post("/api/courses", &app.admin, body).await,
        StatusCode::CREATED,
    )
    .await;
}

async fn session(app: &TestApp, course: &str, title: &str, starts_at: &str) -> String {
    let path = format!("/api/courses/{course}/sessions");
    let body = json!({"title": title, "starts_at": starts_at, "duration_minutes": 60});
    let done = expect_json(app.post(&path, &app.admin, body).await, StatusCode::CREATED).await;
    done["id"].as_str().unwrap().to_string()
}

/// The course's sessions by id: (date, cancelled).
async fn sessions(app: &TestApp, course: &str) -> Vec<Value> {
    let path = format!("/api/courses/{course}/sessions");
    let listed = expect_json(app.get(&path, &app.admin).await, StatusCode::OK).await;
    listed
        .as_array()
        .cloned()
        .unwrap_or_else(|| listed["sessions"].as_array().unwrap().clone())
}

fn cancelled(sessions: &[Value], id: &str) -> bool {
    let found = sessions.iter().find(|s| s["id"] == id);
    found.unwrap_or_else(|| panic!("{id} in {sessions:?}"))["cancelled"] == true
}

#[tokio::test]
async fn a_closure_is_previewed_then_cancels_the_sessions_on_its_local_day_and_terms_skip_it() {
    let app = TestApp::spawn().await;
    course(&app, "CHI", "America/Chicago").await;
    course(&app, "AKL", "Pacific/Auckland").await;
    // On 26 November local: 09:00 CST, 23:30 CST (05:30 UTC on the 27th), and 08:00 NZDT
    // (19:00 UTC on the 25th). Not on it: 09:00 CST on the 25th, 08:00 NZDT on the 27th.
    let chi_morning = session(&app, "CHI", "Morning", "2026-11-26T15:00:00Z").await;
    let chi_night = session(&app, "CHI", "Night", "2026-11-27T05:30:00Z").await;
    let chi_before = session(&app, "CHI", "Day before", "2026-11-25T15:00:00Z").await;
    let akl_morning = session(&app, "AKL", "Morning", "2026-11-25T19:00:00Z").await;
    let akl_after = session(&app, "AKL", "Day after", "2026-11-26T19:00:00Z").await;

    let body = json!({"date": "2026-11-26", "reason": "Thanksgiving", "dry_run": true});
    let preview = expect_json(
        app.post("/api/calendar/closures", &app.admin, body).await,
        StatusCode::OK,
    )
    .await;
    let mut listed: Vec<&str> = preview["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    listed.sort();
    let mut expected = vec![
        chi_morning.as_str(),
        chi_night.as_str(),
        akl_morning.as_str(),
    ];
    expected.sort();
    assert_eq!(listed, expected, "{preview}");
    assert_eq!(preview["new_days"], json!(["2026-11-26"]));
    // The dry run wrote nothing.
    assert!(!cancelled(&sessions(&app, "CHI").await, &chi_morning));
    let closures = expect_json(
        app.get("/api/calendar/closures", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closures["closures"], json!([]), "{closures}");

    // Refused input changes nothing and names the field.
    for (body, field) in [
        (json!({"date": "2026-11-26", "reason": "  "}), "reason"),
        (
            json!({"date": "2026-11-26", "until": "2026-11-20", "reason": "x"}),
            "until",
        ),
    ] {
        let refused = app.post("/api/calendar/closures", &app.admin, body).await;
        let problem =
            expect_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
        assert_eq!(
            problem_fields(&problem),
            vec![field.to_string()],
            "{problem}"
        );
    }

    let body = json!({"date": "2026-11-26", "reason": "Thanksgiving"});
    let declared = expect_json(
        app.post("/api/calendar/closures", &app.admin, body.clone())
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        declared["sessions"].as_array().unwrap().len(),
        3,
        "{declared}"
    );
    let chi = sessions(&app, "CHI").await;
    assert!(cancelled(&chi, &chi_morning) && cancelled(&chi, &chi_night));
    assert!(!cancelled(&chi, &chi_before));
    let akl = sessions(&app, "AKL").await;
    assert!(cancelled(&akl, &akl_morning) && !cancelled(&akl, &akl_after));
    // Each cancellation is an event of its course naming the closure.
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT payload->'SessionCancelled'->>'reason' FROM events \
         WHERE aggregate_type = 'course' AND event_type = 'SessionCancelled' ORDER BY global_position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(reasons, vec!["closure: Thanksgiving"; 3]);
    // Declaring it again changes nothing.
    let again = expect_json(
        app.post("/api/calendar/closures", &app.admin, body).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["new_days"], json!([]), "{again}");
    assert_eq!(again["sessions"], json!([]), "{again}");
    let listed = expect_json(
        app.get(
            "/api/calendar/closures?from=2026-11-01&to=2026-11-30",
            &app.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["closures"][0]["date"], "2026-11-26", "{listed}");
    assert_eq!(listed["closures"][0]["reason"], "Thanksgiving");

    // A new term in Chicago (Monday to Friday) skips the closed day.
    let timetable = json!({"weekdays": ["mon", "tue", "wed", "thu", "fri"], "at": "09:00",
        "duration_minutes": 50, "first_date": "2026-11-23", "last_date": "2026-11-27"});
    let term = expect_json(
        app.post("/api/courses/CHI/schedule", &app.admin, timetable)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let dates: Vec<&str> = term["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-27"],
        "{term}"
    );
    assert_eq!(term["skipped_closures"], json!(["2026-11-26"]));

    // Removing the day frees it for new terms; the cancelled sessions stay cancelled.
    let removed = expect_json(
        app.delete("/api/calendar/closures/2026-11-26", &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(removed["changed"], true);
    assert!(cancelled(&sessions(&app, "CHI").await, &chi_morning));
}

/// Starts another `serve` of the same database and stream (a restart), with the scheduler
/// every 200 ms; returns its base URL and the switch that stops it.
async fn restart(
    app: &TestApp,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let mut config = app.config.clone();
    config.no_scheduler = false;
    config.scheduler_every_secs = 0.2;
    let started = Application::build(&config)
        .await
        .expect("the restarted server starts");
    let base = format!("http://{}", started.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        started
            .run_until(async move {
                let _ = stopped.await;
            })
            .await
            .expect("the restarted server stops cleanly");
    });
    (base, stop, task)
}

async fn closed_events(app: &TestApp, session: &str) -> Vec<(String, Value)> {
    sqlx::query_as::<_, (String, sqlx::types::Json<Value>)>(
        "SELECT payload->'RegisterClosed'->'by'->>'user_id', metadata FROM events \
         WHERE aggregate_type = 'register' AND aggregate_id = $1 AND event_type = 'RegisterClosed'",
    )
    .bind(session)
    .fetch_all(&app.pool)
    .await
    .unwrap()
    .into_iter()
    .map(|(by, meta)| (by, meta.0))
    .collect()
}

#[tokio::test]
async fn registers_close_on_schedule_after_a_restart_as_the_system_and_never_twice() {
    // The first process runs no scheduler: the registers are overdue when the next starts.
    let app = TestApp::spawn_with(|c| c.no_scheduler = true).await;
    course(&app, "AKL", "Pacific/Auckland").await;
    for id in ["S1", "S2", "S3"] {
        app.create_student(id, id).await;
        app.enroll("AKL", id, "2026-01-01").await;
    }
    let now = chrono::Utc::now();
    let at = |hours: i64| (now + chrono::Duration::hours(hours)).to_rfc3339();
    // Ended two hours ago; a person marked S1. Another starts tomorrow.
    let past = session(&app, "AKL", "Yesterday's", &at(-3)).await;
    let future = session(&app, "AKL", "Tomorrow's", &at(24)).await;
    expect_json(
        app.record(&app.admin, &past, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    let policy = json!({"weights": {"present": 1.0, "late": 1.0, "excused": 1.0, "absent": 0.0},
        "count_excused": false, "at_risk_below": 75.0, "close_after_minutes": 60});
    let set = expect_json(
        app.put("/api/courses/AKL/policy", &app.admin, policy).await,
        StatusCode::OK,
    )
    .await;
    let course = expect_json(
        app.get("/api/courses/AKL", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        course["policy"]["close_after_minutes"], 60,
        "{course} after {set}"
    );
    let too_late = json!({"weights": {"present": 1.0, "late": 1.0, "excused": 1.0, "absent": 0.0},
        "count_excused": false, "at_risk_below": 75.0, "close_after_minutes": 50000});
    let refused = app
        .put("/api/courses/AKL/policy", &app.admin, too_late)
        .await;
    expect_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert!(closed_events(&app, &past).await.is_empty());

    // "Restart": a process with the scheduler catches up with the overdue register.
    let (_, stop, task) = restart(&app).await;
    wait_until(Duration::from_secs(30), || async {
        !closed_events(&app, &past).await.is_empty()
    })
    .await;
    let closed = closed_events(&app, &past).await;
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].0, "system", "closed by the system actor");
    assert_eq!(closed[0].1["source"], "scheduler", "{:?}", closed[0].1);
    let view = app.session_view(&app.admin, &past).await;
    assert_eq!(view["closed"], true, "{view}");
    assert_eq!(
        roster_row(&view, "S1")["status"],
        "present",
        "a person's mark stays"
    );
    for student in ["S2", "S3"] {
        assert_eq!(roster_row(&view, student)["status"], "absent", "{view}");
    }
    assert!(closed_events(&app, &future).await.is_empty(), "not yet due");

    // A person reopens it; the scheduler, restarted, leaves it open.
    let reopen = json!({"reason": "S2 was on a field trip"});
    expect_json(
        app.post(&format!("/api/sessions/{past}/reopen"), &app.admin, reopen)
            .await,
        StatusCode::OK,
    )
    .await;
    let _ = stop.send(());
    task.await.unwrap();
    // A register that becomes due now shows when the next process has done a round.
    let witness = session(&app, "AKL", "Earlier today", &at(-4)).await;
    let (_, stop, task) = restart(&app).await;
    wait_until(Duration::from_secs(30), || async {
        !closed_events(&app, &witness).await.is_empty()
    })
    .await;
    assert_eq!(
        closed_events(&app, &past).await.len(),
        1,
        "never closed twice"
    );
    let view = app.session_view(&app.admin, &past).await;
    assert_eq!(view["closed"], false, "{view}");
    let _ = stop.send(());
    task.await.unwrap();
}

#[tokio::test]
async fn a_calendar_feed_lists_a_students_sessions_in_local_time_until_it_is_revoked() {
    let app = TestApp::spawn().await;
    course(&app, "CHI", "America/Chicago").await;
    course(&app, "OTHER", "UTC").await;
    app.create_student("S1", "Sam").await;
    app.enroll("CHI", "S1", "2026-01-01").await;
    let (_, student) = app.create_user("sam", "student", Some("S1")).await;
    let kept = session(
        &app,
        "CHI",
        "Lecture; one",
        &(chrono::Utc::now() + chrono::Duration::days(3))
            .format("%Y-%m-%dT15:00:00Z")
            .to_string(),
    )
    .await;
    let dropped = session(
        &app,
        "CHI",
        "Lecture two",
        &(chrono::Utc::now() + chrono::Duration::days(4))
            .format("%Y-%m-%dT15:00:00Z")
            .to_string(),
    )
    .await;
    let elsewhere = session(
        &app,
        "OTHER",
        "Not mine",
        &(chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339(),
    )
    .await;
    let cancel = json!({"reason": "teacher ill"});
    expect_json(
        app.post(
            &format!("/api/courses/CHI/sessions/{dropped}/cancel"),
            &app.admin,
            cancel,
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let feed = expect_json(
        app.post("/api/calendar/feeds", &student, json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    let url = feed["url"]
        .as_str()
        .expect("the secret URL, once")
        .to_string();
    assert!(url.ends_with(".ics"), "{url}");
    let listed = expect_json(
        app.get("/api/calendar/feeds", &student).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["feeds"][0]["id"], feed["id"]);
    assert!(
        listed["feeds"][0].get("url").is_none(),
        "the token is never shown again: {listed}"
    );

    // No sign-in: the token in the URL is the key.
    let answer = app.client.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let text = answer.text().await.unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
    assert!(
        text.contains("BEGIN:VTIMEZONE\r\nTZID:America/Chicago\r\n"),
        "{text}"
    );
    assert!(text.contains(&format!("UID:{kept}@")), "{text}");
    assert!(text.contains("SUMMARY:CHI: Lecture\\; one"), "{text}");
    assert!(text.contains("DTSTART;TZID=America/Chicago:"), "{text}");
    let cancelled_event = text
        .split("BEGIN:VEVENT")
        .find(|e| e.contains(&dropped))
        .expect("the cancelled session is listed");
    assert!(
        cancelled_event.contains("STATUS:CANCELLED"),
        "{cancelled_event}"
    );
    assert!(
        !text.contains(&elsewhere),
        "only the student's own sessions"
    );

    // Administrators name a course; a teacher of another course may not have this one's.
    let admin_own = app.post("/api/calendar/feeds", &app.admin, json!({})).await;
    expect_problem(admin_own, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let (_, stranger) = app.teacher_of("tom", "OTHER").await;
    let refused = app
        .post(
            "/api/calendar/feeds",
            &stranger,
            json!({"course_id": "CHI"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // Nobody else can revoke it, or learn that it exists.
    let path = format!("/api/calendar/feeds/{}", feed["id"].as_str().unwrap());
    let foreign = app.delete(&path, &stranger).await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);

    let revoked = expect_json(app.delete(&path, &student).await, StatusCode::OK).await;
    assert_eq!(revoked["changed"], true);
    let gone = app.client.get(&url).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let guessed = app
        .client
        .get(format!("{}/api/calendar/ics/guess.ics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(guessed.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_week_of_marks_across_the_end_of_summer_time_keeps_every_local_day() {
    let app = TestApp::spawn().await;
    course(&app, "CHI", "America/Chicago").await;
    app.create_student("S1", "Sam").await;
    app.enroll("CHI", "S1", "2026-10-01").await;
    // Chicago leaves summer time on Sunday 1 November 2026 at 02:00.
    let timetable = json!({"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "at": "08:00", "duration_minutes": 50, "first_date": "2026-10-29", "last_date": "2026-11-04"});
    let term = expect_json(
        app.post("/api/courses/CHI/schedule", &app.admin, timetable)
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
    assert_eq!(starts[2], "2026-10-31T08:00:00-05:00");
    assert_eq!(starts[3], "2026-11-01T08:00:00-06:00");
    // One mark per local day through the seed's look-up by date.
    let mut last = Value::Null;
    for day in [
        "2026-10-29",
        "2026-10-30",
        "2026-10-31",
        "2026-11-01",
        "2026-11-02",
        "2026-11-03",
        "2026-11-04",
    ] {
        let status = if day == "2026-11-01" {
            "absent"
        } else {
            "present"
        };
        let body = json!({"course_id": "CHI", "date": day, "student_id": "S1", "status": status});
        last = expect_json(
            app.post("/api/attendance", &app.admin, body).await,
            StatusCode::CREATED,
        )
        .await;
    }
    let position = last["position"].as_i64().unwrap();
    let stats =
        crate::read_side::read(&app, "/api/courses/CHI/statistics", &app.admin, position).await;
    let s1 = stats["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["student_id"] == "S1")
        .unwrap()
        .clone();
    assert_eq!(s1["present"], 6, "{s1}");
    assert_eq!(s1["absent"], 1, "{s1}");
    assert_eq!(s1["last_attended"], "2026-11-04", "{s1}");
    // Every register holds the mark of its own local day.
    for (i, session) in term["sessions"].as_array().unwrap().iter().enumerate() {
        let view = app
            .session_view(&app.admin, session["id"].as_str().unwrap())
            .await;
        let expected = if i == 3 { "absent" } else { "present" };
        assert_eq!(
            roster_row(&view, "S1")["status"],
            expected,
            "{} {view}",
            session["date"]
        );
    }
}
