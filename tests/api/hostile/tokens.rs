//! Forged tokens that `auth.rs` does not try, each correctly signed with this app's secret
//! unless the point is the key: not yet valid, expired, missing or foreign claims, another
//! key or algorithm. Every one is a 401 problem; a role claim grants nothing by itself.

use super::support::{Answer, assert_none};
use crate::helpers::{TestApp, b64url_encode, expect_problem, jwt_parts};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Sha256, Sha512};

/// A JWT of these header and claims, signed with `key` by the MAC `M`.
fn sign<M: Mac + KeyInit>(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64url_encode(header.to_string().as_bytes()),
        b64url_encode(claims.to_string().as_bytes())
    );
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64url_encode(&mac.finalize().into_bytes()))
}

fn secret(app: &TestApp) -> Vec<u8> {
    let secret = app.config.jwt_secret.as_ref().expect("tests set a secret");
    secret.expose().as_bytes().to_vec()
}

/// The claims of `token` changed by `change` and signed again with the app's secret.
pub(crate) fn resigned(app: &TestApp, token: &str, change: impl Fn(&mut Value)) -> String {
    let (header, mut claims) = jwt_parts(token);
    change(&mut claims);
    sign::<Hmac<Sha256>>(&header, &claims, &secret(app))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn forged_tokens_with_bad_times_claims_keys_or_algorithms_are_401() {
    let app = TestApp::spawn().await;
    // The forging works: the admin's own claims signed again pass.
    let control = resigned(&app, &app.admin, |_| {});
    let me = Answer::of(app.get("/api/auth/me", &control).await).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);

    let remove =
        |claim: &'static str| move |c: &mut Value| drop(c.as_object_mut().unwrap().remove(claim));
    let set = |claim: &'static str, v: Value| move |c: &mut Value| c[claim] = v.clone();
    let (header, claims) = jwt_parts(&app.admin);
    let mut other_key = secret(&app);
    other_key.push(b'!');
    let forged: Vec<(&str, String)> = vec![
        (
            "not valid for an hour (nbf)",
            resigned(&app, &app.admin, set("nbf", json!(now() + 3600))),
        ),
        (
            "expired an hour ago",
            resigned(&app, &app.admin, set("exp", json!(now() - 3600))),
        ),
        (
            "exp as text",
            resigned(&app, &app.admin, set("exp", json!("tomorrow"))),
        ),
        ("no exp", resigned(&app, &app.admin, remove("exp"))),
        ("no sub", resigned(&app, &app.admin, remove("sub"))),
        ("no role", resigned(&app, &app.admin, remove("role"))),
        ("no iss", resigned(&app, &app.admin, remove("iss"))),
        ("no nbf", resigned(&app, &app.admin, remove("nbf"))),
        (
            "another issuer",
            resigned(&app, &app.admin, set("iss", json!("someone-else"))),
        ),
        (
            "an audience",
            resigned(&app, &app.admin, set("aud", json!("another-service"))),
        ),
        (
            "an unknown role",
            resigned(&app, &app.admin, set("role", json!("superuser"))),
        ),
        (
            "an unknown user",
            resigned(&app, &app.admin, set("sub", json!("no-such-user"))),
        ),
        (
            "a key one byte longer",
            sign::<Hmac<Sha256>>(&header, &claims, &other_key),
        ),
        (
            "HS512 with the right key",
            sign::<Hmac<Sha512>>(
                &json!({"alg": "HS512", "typ": "JWT"}),
                &claims,
                &secret(&app),
            ),
        ),
        (
            "HS512 bytes labelled HS256",
            sign::<Hmac<Sha512>>(&header, &claims, &secret(&app)),
        ),
        (
            "no signature",
            format!("{}.", control.rsplit_once('.').unwrap().0),
        ),
    ];
    let mut failures = Vec::new();
    for (what, token) in &forged {
        let response = app.get("/api/auth/me", token).await;
        let challenge = response.headers().get("www-authenticate").cloned();
        let answer = Answer::of(response).await;
        if answer.status != StatusCode::UNAUTHORIZED
            || answer.code() != "unauthorized"
            || answer.flaw().is_some()
            || challenge.is_none()
        {
            failures.push(format!("{what}: {} {}", answer.status, answer.body));
        }
    }
    assert_none("forged tokens", &failures);
}

#[tokio::test]
async fn a_role_claim_grants_nothing_the_account_does_not_have() {
    let app = TestApp::spawn().await;
    let (_, teacher) = app.create_user("tina", "teacher", None).await;
    let promoted = resigned(&app, &teacher, |c| c["role"] = json!("admin"));
    // Correctly signed (as if the secret had leaked), but the account is a teacher's.
    let me =
        crate::helpers::expect_json(app.get("/api/auth/me", &promoted).await, StatusCode::OK).await;
    assert_eq!(me["role"], "teacher", "{me}");
    expect_problem(
        app.get("/api/users", &promoted).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}
