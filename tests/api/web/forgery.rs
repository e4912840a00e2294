//! Forged requests: a form posted from another site, a form without this session's token,
//! and a token used after signing out, are all refused and change nothing.

use super::browser::Browser;
use super::{TEACHER, school};
use crate::helpers::{PASSWORD, TestApp};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

/// A client that shows redirects instead of following them (to read their cookies).
pub(super) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn cookie_of(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))?
                .split(';')
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no {name} cookie set"))
}

/// The value of the first hidden `csrf` field of a page.
pub(super) fn form_token(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form token") + 19;
    page[at..].split('"').next().unwrap().to_string()
}

/// Signs in through the form as a browser would; returns the session cookie's value.
async fn sign_in(app: &TestApp, username: &str) -> String {
    let http = client();
    let form = http
        .get(format!("{}/sign-in", app.base))
        .send()
        .await
        .unwrap();
    let pre = cookie_of(&form, "__Host-attendance-signin");
    let page = form.text().await.unwrap();
    let signed = http
        .post(format!("{}/sign-in", app.base))
        .header(COOKIE, format!("__Host-attendance-signin={pre}"))
        .form(&[
            ("csrf", form_token(&page)),
            ("username", username.into()),
            ("password", PASSWORD.into()),
            ("next", "/".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    cookie_of(&signed, "__Host-attendance")
}

#[tokio::test]
async fn a_form_without_this_sessions_token_is_refused_and_records_nothing() {
    let app = TestApp::spawn().await;
    let (session, _) = school(&app, 1).await;
    let cookie = format!("__Host-attendance={}", sign_in(&app, TEACHER).await);
    let url = format!("{}/sessions/{session}", app.base);
    let post = |token: Option<&str>| {
        let mut fields = vec![("m.S001", "present".to_string()), ("w.S001", String::new())];
        if let Some(token) = token {
            fields.push(("csrf", token.to_string()));
        }
        client()
            .post(&url)
            .header(COOKIE, &cookie)
            .form(&fields)
            .send()
    };
    for token in [None, Some("0123456789abcdef0123456789abcdef")] {
        let refused = post(token).await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "token {token:?}");
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("not sent from this site")
        );
    }
    assert!(
        app.events_of("register", &session).await.is_empty(),
        "nothing recorded"
    );

    // The page's own token is accepted: the refusals above were for the token alone.
    let page = client()
        .get(&url)
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let accepted = post(Some(&form_token(&page))).await.unwrap();
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    assert!(!app.events_of("register", &session).await.is_empty());
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_and_records_nothing() {
    let app = TestApp::spawn().await;
    let (session, _) = school(&app, 1).await;
    // Another site (localhost is not 127.0.0.1) with a form aimed at the roll call.
    let evil = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let evil_port = evil.local_addr().unwrap().port();
    let page = format!(
        "<!doctype html><html lang=\"en\"><title>Prize</title><form method=\"post\" action=\"{}/sessions/{session}\">\
         <input type=\"hidden\" name=\"m.S001\" value=\"absent\"><input type=\"hidden\" name=\"w.S001\" value=\"\">\
         <button>Claim your prize</button></form></html>",
        app.base
    );
    let site = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move { axum::response::Html(page) }),
    );
    tokio::spawn(async move { axum::serve(evil, site).await });

    let browser = Browser::start(&app.base).await;
    browser.sign_in(TEACHER, PASSWORD).await;
    browser
        .client
        .goto(&format!("http://localhost:{evil_port}/"))
        .await
        .unwrap();
    browser.press("Claim your prize").await;
    let text = browser.text().await;
    assert!(text.contains("not sent from this site"), "{text}");
    assert!(
        app.events_of("register", &session).await.is_empty(),
        "nothing recorded"
    );
    browser.close().await;
}

#[tokio::test]
async fn signing_out_revokes_the_token_for_the_pages_and_the_json_api() {
    let app = TestApp::spawn().await;
    school(&app, 1).await;
    let token = sign_in(&app, TEACHER).await;
    let cookie = format!("__Host-attendance={token}");
    let home = client()
        .get(format!("{}/", app.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let out = client()
        .post(format!("{}/sign-out", app.base))
        .header(COOKIE, &cookie)
        .form(&[("csrf", form_token(&home.text().await.unwrap()))])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);

    let again = client()
        .get(format!("{}/", app.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert!(
        again.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/sign-in")
    );
    let api = app.get("/api/auth/me", &token).await;
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
}
