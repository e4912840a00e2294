//! One's own password: an administrator resets an account (the one-time password shown
//! once), its owner signs in with it and is held on the password page until they choose
//! their own (the policy's rule next to the field, in their language), then goes on with a
//! fresh session; an administrator disables and enables an account again; nobody else may
//! reset one.

use super::accessibility::check_here;
use super::browser::Browser;
use super::forgery::{client, form_token};
use super::{TEACHER, school};
use crate::helpers::{ADMIN_PASSWORD, PASSWORD, TestApp};
use fantoccini::Locator;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION};

const NEW_PASSWORD: &str = "a-brand-new-password";

#[tokio::test]
async fn a_reset_account_chooses_its_own_password_before_any_other_page() {
    let app = TestApp::spawn().await;
    school(&app, 1).await;
    let admin = Browser::start(&app.base).await;
    admin.sign_in("admin", ADMIN_PASSWORD).await;
    admin.follow("Users").await;
    admin.press(&format!("Reset password {TEACHER}")).await;
    let text = admin.text().await;
    assert!(text.contains("It is shown only this once"), "{text}");
    let secret = admin
        .client
        .find(Locator::Css("code.secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(secret.len(), 20, "{secret}");

    // Signed in with it, every page leads to the password page.
    let teacher = Browser::start(&app.base).await;
    teacher.client.set_window_size(360, 800).await.unwrap();
    teacher.sign_in(TEACHER, &secret).await;
    assert_eq!(teacher.path().await, "/account/password");
    let text = teacher.text().await;
    assert!(
        text.contains("You signed in with a one-time password"),
        "{text}"
    );
    assert!(!text.contains("Home"), "no other link: {text}");
    teacher.open("/courses/WEB101").await;
    assert_eq!(teacher.path().await, "/account/password");
    let mut found = Vec::new();
    check_here(&teacher, "forced password change", &mut found).await;

    // The policy's rule next to its field; then two new passwords that differ.
    teacher.fill("Current password", &secret).await;
    teacher.fill("New password", "too-short").await;
    teacher.fill("New password again", "too-short").await;
    teacher.press("Change my password").await;
    assert!(teacher.text().await.contains("Use at least 12 characters."));
    let field = teacher.field("New password").await;
    assert_eq!(
        field.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    teacher.fill("Current password", &secret).await;
    teacher.fill("New password", NEW_PASSWORD).await;
    teacher
        .fill("New password again", "something-else-entirely")
        .await;
    teacher.press("Change my password").await;
    assert!(
        teacher
            .text()
            .await
            .contains("The two new passwords differ.")
    );
    check_here(&teacher, "refused password change", &mut found).await;
    assert!(found.is_empty(), "axe-core found:\n{}", found.join("\n"));

    teacher.fill("Current password", &secret).await;
    teacher.fill("New password", NEW_PASSWORD).await;
    teacher.fill("New password again", NEW_PASSWORD).await;
    teacher.press("Change my password").await;
    assert!(
        teacher.text().await.contains("Your password was changed."),
        "{}",
        teacher.text().await
    );
    // The fresh cookie opens every page again.
    teacher.follow("Continue to the home page").await;
    assert_eq!(teacher.path().await, "/");
    assert!(teacher.text().await.contains("Today's sessions"));
    teacher.close().await;
    assert_eq!(
        app.login(TEACHER, &secret).await.status(),
        StatusCode::UNAUTHORIZED,
        "the one-time password is gone"
    );
    assert_eq!(
        app.login(TEACHER, NEW_PASSWORD).await.status(),
        StatusCode::OK
    );

    // Disabled, then enabled again.
    admin.open("/admin/users").await;
    admin.press(&format!("Disable {TEACHER}")).await;
    admin.press(&format!("Enable {TEACHER}")).await;
    assert!(admin.text().await.contains("The account was enabled."));
    assert_eq!(
        app.login(TEACHER, NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    admin.close().await;
}

#[tokio::test]
async fn the_password_page_speaks_arabic_and_only_an_admin_resets_an_account() {
    let app = TestApp::spawn().await;
    school(&app, 1).await;
    let (sam, sam_token) = app.create_user("sam", "student", Some("S001")).await;
    let cookie = format!("__Host-attendance={sam_token}");
    let page = client()
        .get(format!("{}/account/password", app.base))
        .header(COOKIE, &cookie)
        .header(ACCEPT_LANGUAGE, "ar")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("تغيير كلمة المرور"), "{page}");
    let csrf = form_token(&page);
    let refused = client()
        .post(format!("{}/account/password", app.base))
        .header(COOKIE, &cookie)
        .header(ACCEPT_LANGUAGE, "ar")
        .form(&[
            ("csrf", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", "short"),
            ("repeat_password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = refused.text().await.unwrap();
    assert!(text.contains("استخدم ١٢ حرفًا على الأقل."), "{text}");

    // A student's form to reset an account is refused, and the password still works.
    let reset = client()
        .post(format!("{}/admin/users/{sam}/reset", app.base))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::FORBIDDEN);
    assert!(reset.headers().get(LOCATION).is_none());
    assert_eq!(app.login("sam", PASSWORD).await.status(), StatusCode::OK);
}
