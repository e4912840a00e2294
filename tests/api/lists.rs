//! Lists that scale (issue 18): students searched by number or name (accent-insensitive),
//! filtered by department, level and course, paged with the total.

use crate::helpers::{TestApp, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn students_are_searched_filtered_and_paged_with_their_total() {
    let app = TestApp::spawn().await;
    for n in 1..=12 {
        let department = if n % 2 == 0 { "Physics" } else { "History" };
        let body = json!({"id": format!("S{n:02}"), "name": format!("Student {n}"), "department": department, "level": "L1"});
        expect_json(
            app.post("/api/students", &app.admin, body).await,
            StatusCode::CREATED,
        )
        .await;
    }
    app.create_student("S99", "Zoë Ñúñez").await;
    app.create_course("CS101").await;
    for id in ["S01", "S02", "S99"] {
        app.enroll("CS101", id, "2026-09-01").await;
    }

    let first = expect_json(
        app.get("/api/students?limit=5", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["total"], 13);
    assert_eq!(ids(&first), ["S01", "S02", "S03", "S04", "S05"]);
    let last = expect_json(
        app.get("/api/students?limit=5&offset=10", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&last), ["S11", "S12", "S99"]);

    let accents = expect_json(
        app.get("/api/students?q=zoe%20nunez", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (ids(&accents), accents["total"].as_i64()),
        (vec!["S99"], Some(1))
    );
    let physics = expect_json(
        app.get("/api/students?department=physics&limit=2", &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (ids(&physics), physics["total"].as_i64()),
        (vec!["S02", "S04"], Some(6))
    );
    let course = expect_json(
        app.get("/api/students?course=CS101&department=Physics", &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&course), ["S02"]);

    // A teacher pages only their own students; an unknown course is 404.
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let theirs = expect_json(
        app.get("/api/students?limit=50", &teacher).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (ids(&theirs), theirs["total"].as_i64()),
        (vec!["S01", "S02", "S99"], Some(3))
    );
    let unknown = app.get("/api/students?course=NOPE1", &app.admin).await;
    expect_problem(unknown, StatusCode::NOT_FOUND, "not_found").await;
    for bad in [
        "limit=0",
        "limit=501",
        "offset=-1",
        "limit=ten",
        "colour=red",
    ] {
        let refused = app.get(&format!("/api/students?{bad}"), &app.admin).await;
        expect_problem(refused, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    }
    // Without parameters the answer keeps its earlier shape: every student, a bare array.
    let all = expect_json(app.get("/api/students", &app.admin).await, StatusCode::OK).await;
    assert_eq!(all.as_array().unwrap().len(), 13);
}

#[tokio::test]
async fn accounts_are_listed_by_role_and_state_and_paged_with_their_total() {
    let app = TestApp::spawn().await;
    for name in ["ada", "bob", "cy"] {
        app.create_user(name, "teacher", None).await;
    }
    let (dora, _) = app.create_user("dora", "teacher", None).await;
    app.delete(&format!("/api/users/{dora}"), &app.admin).await;
    let (eve, _) = app.create_user("eve", "teacher", None).await;
    app.post(
        &format!("/api/users/{eve}/password-reset"),
        &app.admin,
        json!({}),
    )
    .await;
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_string())
            .collect()
    };
    let teachers = expect_json(
        app.get("/api/users?role=teacher&limit=2", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (names(&teachers), teachers["total"].as_i64()),
        (vec!["ada".to_string(), "bob".into()], Some(5))
    );
    let disabled = expect_json(
        app.get("/api/users?state=disabled", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(names(&disabled), ["dora"]);
    let pending = expect_json(
        app.get("/api/users?state=must_change_password", &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(names(&pending), ["eve"]);
    let admins = expect_json(
        app.get("/api/users?role=admin&state=active", &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (names(&admins), admins["total"].as_i64()),
        (vec!["admin".to_string()], Some(1))
    );
    for bad in ["role=boss", "state=asleep", "limit=0"] {
        let refused = app.get(&format!("/api/users?{bad}"), &app.admin).await;
        expect_problem(refused, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    }
}
