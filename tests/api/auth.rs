//! Login, tokens, `/api/auth/me`, throttling and account creation.

use crate::helpers::{
    ADMIN_PASSWORD, PASSWORD, TestApp, b64url_encode, expect_json, expect_problem, jwt_parts,
    problem_fields,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn login_answers_a_bearer_token_valid_for_a_day_with_the_account() {
    let app = TestApp::spawn().await;
    let body = expect_json(app.login("admin", ADMIN_PASSWORD).await, StatusCode::OK).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86_400);
    assert_eq!(body["user"]["username"], "admin");
    assert_eq!(body["user"]["role"], "admin");
    assert!(body["user"]["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(
        body["user"].get("password_hash").is_none() && body["user"].get("password").is_none(),
        "no secret in the answer: {body}"
    );
    let token = body["token"].as_str().unwrap();
    let (header, claims) = jwt_parts(token);
    assert_eq!(header["alg"], "HS256", "header: {header}");
    assert_eq!(claims["sub"], body["user"]["id"]);
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 86_400, "claims: {claims}");

    let me = expect_json(app.get("/api/auth/me", token).await, StatusCode::OK).await;
    assert_eq!(me["id"], body["user"]["id"]);
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    assert!(me.get("student_id").is_none(), "me: {me}");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401() {
    let app = TestApp::spawn().await;
    let wrong = app.login("admin", "not-the-password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong_body = wrong.text().await.unwrap();
    let unknown = app.login("nobody-at-all", "not-the-password").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown_body = unknown.text().await.unwrap();
    assert_eq!(
        wrong_body, unknown_body,
        "the answers must not tell them apart"
    );
    let problem: serde_json::Value = serde_json::from_str(&wrong_body).unwrap();
    assert_eq!(problem["code"], "unauthorized");
    assert_eq!(problem["status"], 401);
}

#[tokio::test]
async fn me_describes_each_role_and_a_students_number() {
    let app = TestApp::spawn().await;
    app.create_student("S1", "Ada Obi").await;
    let (teacher_id, teacher) = app.create_user("tina", "teacher", None).await;
    let (student_user, student) = app.create_user("sam", "student", Some("S1")).await;
    let (admin2_id, admin2) = app.create_user("root2", "admin", None).await;

    let me = expect_json(app.get("/api/auth/me", &teacher).await, StatusCode::OK).await;
    assert_eq!(me["id"], teacher_id.as_str());
    assert_eq!(me["username"], "tina");
    assert_eq!(me["role"], "teacher");
    assert!(me.get("student_id").is_none(), "me: {me}");

    let me = expect_json(app.get("/api/auth/me", &student).await, StatusCode::OK).await;
    assert_eq!(me["id"], student_user.as_str());
    assert_eq!(me["username"], "sam");
    assert_eq!(me["role"], "student");
    assert_eq!(me["student_id"], "S1");

    let me = expect_json(app.get("/api/auth/me", &admin2).await, StatusCode::OK).await;
    assert_eq!(me["id"], admin2_id.as_str());
    assert_eq!(me["role"], "admin");
}

#[tokio::test]
async fn missing_garbage_tampered_and_foreign_tokens_are_401() {
    let app = TestApp::spawn().await;
    let anonymous = app
        .request(Method::GET, "/api/auth/me", None)
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer")
    );
    expect_problem(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;

    let garbage = app.get("/api/auth/me", "not-a-jwt").await;
    expect_problem(garbage, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // Basic auth is not a bearer token.
    let basic = app
        .request(Method::GET, "/api/auth/me", None)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    expect_problem(basic, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // Change the claims (make the admin someone else) but keep the signature.
    let (header, mut claims) = jwt_parts(&app.admin);
    claims["username"] = json!("mallory");
    claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 3600);
    let signature = app.admin.rsplit('.').next().unwrap();
    let forged = format!(
        "{}.{}.{signature}",
        b64url_encode(header.to_string().as_bytes()),
        b64url_encode(claims.to_string().as_bytes())
    );
    let tampered = app.get("/api/auth/me", &forged).await;
    expect_problem(tampered, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // A flipped signature character.
    let mut bad_signature = app.admin.clone();
    let last = bad_signature.pop().unwrap();
    bad_signature.push(if last == 'A' { 'B' } else { 'A' });
    let flipped = app.get("/api/auth/me", &bad_signature).await;
    expect_problem(flipped, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // An unsigned token (`alg: none`).
    let (_, claims) = jwt_parts(&app.admin);
    let unsigned = format!(
        "{}.{}.",
        b64url_encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64url_encode(claims.to_string().as_bytes())
    );
    let none = app.get("/api/auth/me", &unsigned).await;
    expect_problem(none, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // A token signed by another installation (another secret).
    let other = TestApp::spawn().await;
    let foreign = app.get("/api/auth/me", &other.admin).await;
    expect_problem(foreign, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn a_disabled_accounts_token_stops_working_at_once() {
    let app = TestApp::spawn().await;
    let (id, token) = app.create_user("tina", "teacher", None).await;
    expect_json(app.get("/api/auth/me", &token).await, StatusCode::OK).await;
    let disabled = app.delete(&format!("/api/users/{id}"), &app.admin).await;
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    expect_problem(
        app.get("/api/auth/me", &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    expect_problem(
        app.get("/api/courses", &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // The account can no longer log in either, with the same answer as a wrong password.
    let login = app.login("tina", PASSWORD).await;
    expect_problem(login, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // The list shows it disabled.
    let users = expect_json(app.get("/api/users", &app.admin).await, StatusCode::OK).await;
    let tina = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "tina")
        .unwrap();
    assert_eq!(tina["disabled"], true);
}

#[tokio::test]
async fn an_admin_cannot_disable_themselves_and_unknown_users_are_404() {
    let app = TestApp::spawn().await;
    let me = expect_json(app.get("/api/auth/me", &app.admin).await, StatusCode::OK).await;
    let own = me["id"].as_str().unwrap();
    expect_problem(
        app.delete(&format!("/api/users/{own}"), &app.admin).await,
        StatusCode::CONFLICT,
        "cannot_disable_self",
    )
    .await;
    expect_problem(
        app.delete("/api/users/no-such-user", &app.admin).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_json(app.get("/api/auth/me", &app.admin).await, StatusCode::OK).await;
}

#[tokio::test]
async fn an_erased_students_account_token_is_refused() {
    let app = TestApp::spawn().await;
    app.create_student("S1", "Ada Obi").await;
    let (_, token) = app.create_user("ada", "student", Some("S1")).await;
    expect_json(app.get("/api/students/S1", &token).await, StatusCode::OK).await;
    let erased = app.delete("/api/students/S1", &app.admin).await;
    assert_eq!(erased.status(), StatusCode::NO_CONTENT);
    expect_problem(
        app.get("/api/auth/me", &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    expect_problem(
        app.login("ada", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn five_failed_logins_lock_the_username_even_for_the_right_password() {
    let app = TestApp::spawn().await;
    app.create_user("tina", "teacher", None).await;
    for attempt in 1..=5 {
        let response = app.login("tina", "wrong-password-123").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt} is an ordinary failure"
        );
    }
    let locked = app.login("tina", PASSWORD).await;
    let retry_after = locked
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse::<u64>().expect("seconds"));
    let problem = expect_problem(locked, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "Retry-After in seconds: {problem}"
    );
    // Other usernames are not affected.
    expect_json(app.login("admin", ADMIN_PASSWORD).await, StatusCode::OK).await;
    // Unknown usernames are throttled the same way (no account enumeration).
    for _ in 0..5 {
        let response = app.login("ghost", "wrong-password-123").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    expect_problem(
        app.login("ghost", "wrong-password-123").await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    )
    .await;
}

#[tokio::test]
async fn a_successful_login_resets_the_failure_count() {
    let app = TestApp::spawn().await;
    app.create_user("tina", "teacher", None).await;
    for _ in 0..4 {
        let response = app.login("tina", "wrong-password-123").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    app.token("tina", PASSWORD).await;
    for _ in 0..4 {
        let response = app.login("tina", "wrong-password-123").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    app.token("tina", PASSWORD).await;
}

#[tokio::test]
async fn there_is_no_open_registration() {
    let app = TestApp::spawn().await;
    let body = json!({"username": "eve", "password": "long-enough-password", "role": "admin"});
    let anonymous = app
        .request(Method::POST, "/api/users", None)
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_problem(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let (_, teacher) = app.create_user("tina", "teacher", None).await;
    expect_problem(
        app.post("/api/users", &teacher, body.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.create_student("S1", "Ada Obi").await;
    let (_, student) = app.create_user("ada", "student", Some("S1")).await;
    expect_problem(
        app.post("/api/users", &student, body.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        app.login("eve", "long-enough-password").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // Listing accounts is for admins only too.
    expect_problem(
        app.get("/api/users", &teacher).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn an_admin_creates_accounts_of_every_role_that_can_log_in() {
    let app = TestApp::spawn().await;
    app.create_student("S1", "Ada Obi").await;
    for (username, role, student) in [
        ("tina", "teacher", None),
        ("ada", "student", Some("S1")),
        ("root2", "admin", None),
    ] {
        let mut body = json!({"username": username, "password": PASSWORD, "role": role});
        if let Some(student) = student {
            body["student_id"] = json!(student);
        }
        let created = expect_json(
            app.post("/api/users", &app.admin, body).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(created["username"], username);
        assert_eq!(created["role"], role);
        assert_eq!(created["disabled"], false);
        assert!(created.get("password").is_none() && created.get("password_hash").is_none());
        let login = expect_json(app.login(username, PASSWORD).await, StatusCode::OK).await;
        assert_eq!(login["user"]["id"], created["id"]);
        assert_eq!(login["user"]["role"], role);
    }
    let users = expect_json(app.get("/api/users", &app.admin).await, StatusCode::OK).await;
    let mut names: Vec<_> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["ada", "admin", "root2", "tina"]);
    assert!(
        users.to_string().find("argon2").is_none(),
        "no hashes listed"
    );
}

#[tokio::test]
async fn account_creation_validates_password_username_and_student_link() {
    let app = TestApp::spawn().await;
    let short = app
        .post(
            "/api/users",
            &app.admin,
            json!({"username": "tina", "password": "123456789", "role": "teacher"}),
        )
        .await;
    let problem = expect_problem(short, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(problem_fields(&problem), ["password"]);

    app.create_user("tina", "teacher", None).await;
    let duplicate = app
        .post(
            "/api/users",
            &app.admin,
            json!({"username": "tina", "password": "another-password", "role": "admin"}),
        )
        .await;
    expect_problem(duplicate, StatusCode::CONFLICT, "username_taken").await;
    // The first account keeps its password and role.
    let login = expect_json(app.login("tina", PASSWORD).await, StatusCode::OK).await;
    assert_eq!(login["user"]["role"], "teacher");

    let unlinked = app
        .post(
            "/api/users",
            &app.admin,
            json!({"username": "sam", "password": PASSWORD, "role": "student"}),
        )
        .await;
    let problem = expect_problem(unlinked, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(problem_fields(&problem), ["student_id"]);

    let unknown_student = app
        .post(
            "/api/users",
            &app.admin,
            json!({"username": "sam", "password": PASSWORD, "role": "student", "student_id": "S404"}),
        )
        .await;
    let problem = expect_problem(
        unknown_student,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["student_id"]);

    let bad_role = app
        .post(
            "/api/users",
            &app.admin,
            json!({"username": "sam", "password": PASSWORD, "role": "superuser"}),
        )
        .await;
    let problem = expect_problem(bad_role, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(problem_fields(&problem), ["role"]);

    let empty_name = app
        .post(
            "/api/users",
            &app.admin,
            json!({"username": "  ", "password": PASSWORD, "role": "teacher"}),
        )
        .await;
    let problem = expect_problem(
        empty_name,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["username"]);

    // None of the refused accounts exists.
    let users = expect_json(app.get("/api/users", &app.admin).await, StatusCode::OK).await;
    assert_eq!(
        users.as_array().unwrap().len(),
        2,
        "admin and tina: {users}"
    );
}
