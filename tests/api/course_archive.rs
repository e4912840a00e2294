//! Archived courses and course lists that scale (issue 18): an archived course is hidden
//! from lists unless asked for, takes no new sessions, and keeps its history; course lists
//! filter by department, semester, teacher and text, paged with their total, on indexes.

use crate::helpers::{TestApp, expect_json, expect_problem};
use crate::read_side::{marked_course, read};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn codes(list: &Value) -> Vec<&str> {
    let items = list["items"].as_array().or(list.as_array());
    items
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_archived_course_is_hidden_takes_no_session_and_keeps_its_history() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    app.create_course("MA101").await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let refused = app
        .post("/api/courses/CS101/archive", &teacher, json!({}))
        .await;
    expect_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;

    let body = json!({"reason": "not offered from 2027"});
    let archived = expect_json(
        app.post("/api/courses/CS101/archive", &app.admin, body.clone())
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(archived["changed"], true);
    let again = expect_json(
        app.post("/api/courses/CS101/archive", &app.admin, body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["changed"], false);

    // Hidden from the plain list, for the admin and for its teacher; shown when asked for.
    let all = expect_json(app.get("/api/courses", &app.admin).await, StatusCode::OK).await;
    assert_eq!(codes(&all), ["MA101"]);
    let mine = expect_json(app.get("/api/courses", &teacher).await, StatusCode::OK).await;
    assert_eq!(codes(&mine), Vec::<&str>::new());
    let at = archived["position"].as_i64().unwrap();
    let only = read(&app, "/api/courses?archived=true", &app.admin, at).await;
    assert_eq!((codes(&only), &only["total"]), (vec!["CS101"], &json!(1)));
    let both = read(&app, "/api/courses?include_archived=true", &app.admin, at).await;
    assert_eq!(codes(&both), ["CS101", "MA101"]);
    let in_use = read(&app, "/api/courses?limit=10", &app.admin, at).await;
    assert_eq!(codes(&in_use), ["MA101"]);

    // No new session, one by one or by term.
    let session =
        json!({"title": "Lecture 9", "starts_at": "2026-10-05T09:00:00Z", "duration_minutes": 90});
    let refused = app
        .post("/api/courses/CS101/sessions", &app.admin, session.clone())
        .await;
    expect_problem(refused, StatusCode::CONFLICT, "course_archived").await;
    let term = json!({"weekdays": ["mon"], "at": "09:00", "duration_minutes": 90,
                      "first_date": "2026-10-05", "last_date": "2026-10-19"});
    let refused = app
        .post("/api/courses/CS101/schedule", &app.admin, term)
        .await;
    expect_problem(refused, StatusCode::CONFLICT, "course_archived").await;

    // Its history reads as before.
    let course = expect_json(
        app.get("/api/courses/CS101", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&course["archived"], &course["sessions"]),
        (&json!(true), &json!(3))
    );
    let stats = read(&app, "/api/courses/CS101/statistics", &app.admin, position).await;
    assert_eq!(stats["students"].as_array().unwrap().len(), 3);
    let report = app
        .get("/api/reports/course/CS101?format=csv", &app.admin)
        .await;
    assert_eq!(report.status(), StatusCode::OK);
    let student = read(&app, "/api/attendance/student/S1", &app.admin, position).await;
    assert_eq!(student["total"], 3);

    let restored = expect_json(
        app.post("/api/courses/CS101/restore", &app.admin, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(restored["changed"], true);
    expect_json(
        app.post("/api/courses/CS101/sessions", &app.admin, session)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let events = app.events_of("course", "CS101").await;
    assert!(
        events.ends_with(&[
            "CourseArchived".to_string(),
            "CourseRestored".to_string(),
            "SessionScheduled".to_string()
        ]),
        "{events:?}"
    );
}

async fn course(app: &TestApp, code: &str, name: &str, department: &str, semester: &str) {
    let body = json!({"code": code, "name": name, "department": department, "semester": semester});
    expect_json(
        app.post("/api/courses", &app.admin, body).await,
        StatusCode::CREATED,
    )
    .await;
}

#[tokio::test]
async fn course_lists_are_filtered_searched_and_paged_for_what_each_role_may_see() {
    let app = TestApp::spawn().await;
    for n in 1..=9 {
        let department = if n % 3 == 0 {
            "Mathematics"
        } else {
            "Computer Science"
        };
        let semester = if n <= 5 { "2026-fall" } else { "2027-spring" };
        course(
            &app,
            &format!("C{n:02}"),
            &format!("Course {n}"),
            department,
            semester,
        )
        .await;
    }
    course(
        &app,
        "ES201",
        "Introducción a la Economía",
        "Economics",
        "2026-fall",
    )
    .await;
    let (ada, teacher) = app.teacher_of("ada", "C01").await;
    expect_json(
        app.post(
            "/api/courses/C04/teachers",
            &app.admin,
            json!({"user_id": ada}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    app.create_student("S1", "Ada Obi").await;
    app.enroll("C02", "S1", "2026-09-01").await;
    let (_, student) = app.create_user("s1", "student", Some("S1")).await;
    let at = app.latest_position().await;

    let first = read(&app, "/api/courses?limit=4", &app.admin, at).await;
    assert_eq!(
        (codes(&first), &first["total"]),
        (vec!["C01", "C02", "C03", "C04"], &json!(10))
    );
    let last = read(&app, "/api/courses?limit=4&offset=8", &app.admin, at).await;
    assert_eq!(codes(&last), ["C09", "ES201"]);
    let maths = read(&app, "/api/courses?department=mathematics", &app.admin, at).await;
    assert_eq!(codes(&maths), ["C03", "C06", "C09"]);
    let spring = read(
        &app,
        "/api/courses?department=Computer%20Science&semester=2027-spring",
        &app.admin,
        at,
    )
    .await;
    assert_eq!(codes(&spring), ["C07", "C08"]);
    let taught = read(&app, &format!("/api/courses?teacher={ada}"), &app.admin, at).await;
    assert_eq!(codes(&taught), ["C01", "C04"]);
    let accents = read(&app, "/api/courses?q=introduccion%20a%20la", &app.admin, at).await;
    assert_eq!(codes(&accents), ["ES201"]);
    let by_code = read(&app, "/api/courses?q=c0", &app.admin, at).await;
    assert_eq!(by_code["total"], 9);

    // A teacher pages their own courses, a student the courses they were enrolled in:
    // as the plain lists show them.
    let theirs = read(&app, "/api/courses?limit=50", &teacher, at).await;
    assert_eq!(codes(&theirs), ["C01", "C04"]);
    let plain = expect_json(app.get("/api/courses", &teacher).await, StatusCode::OK).await;
    assert_eq!(codes(&plain), codes(&theirs));
    let enrolled = read(&app, "/api/courses?limit=50", &student, at).await;
    assert_eq!(codes(&enrolled), ["C02"]);
    let filtered = read(&app, "/api/courses?department=mathematics", &teacher, at).await;
    assert_eq!(filtered["total"], 0);

    let bad = app.get("/api/courses?limit=0", &app.admin).await;
    expect_problem(bad, StatusCode::BAD_REQUEST, "invalid_parameter").await;
}

#[tokio::test]
async fn the_course_list_filters_use_their_indexes_on_thousands_of_courses() {
    let app = TestApp::spawn().await;
    sqlx::query(
        "INSERT INTO rm_courses (course_id, name, department, semester, teachers, archived, search_key)
         SELECT 'C' || g, 'Course ' || g, 'Dept ' || (g % 50), 'S' || (g % 8),
                ARRAY['t' || (g % 200)], g % 10 = 0, 'c' || g || ' course ' || g
           FROM generate_series(1, 5000) g",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE rm_courses")
        .execute(&app.pool)
        .await
        .unwrap();
    let plan = |sql: &'static str| async {
        let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&app.pool).await.unwrap();
        rows.join("\n")
    };
    let department = plan(
        "EXPLAIN SELECT course_id FROM rm_courses WHERE lower(department) = lower('Dept 7')
           AND NOT archived ORDER BY course_id LIMIT 50",
    )
    .await;
    assert!(department.contains("rm_courses_department"), "{department}");
    let teacher =
        plan("EXPLAIN SELECT count(*) FROM rm_courses WHERE teachers @> ARRAY['t17']::text[]")
            .await;
    assert!(teacher.contains("rm_courses_teachers"), "{teacher}");
}
