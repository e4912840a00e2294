//! The administrators' users page: accounts listed by role, an account created (a refused
//! one shown again with the problem next to its field), an account disabled (its session
//! ends at once); nobody else may use it.

use super::browser::Browser;
use super::{TEACHER, school};
use crate::helpers::{ADMIN_PASSWORD, PASSWORD, TestApp};
use fantoccini::Locator;

#[tokio::test]
async fn an_admin_lists_creates_and_disables_accounts() {
    let app = TestApp::spawn().await;
    school(&app, 2).await;
    let admin = Browser::start(&app.base).await;
    admin.sign_in("admin", ADMIN_PASSWORD).await;
    admin.follow("Users").await;
    admin
        .field("Role")
        .await
        .select_by_value("teacher")
        .await
        .unwrap();
    admin.press("Show").await;
    let rows = admin
        .client
        .find_all(Locator::XPath("//tbody/tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "only the one teacher");
    let row = rows[0].text().await.unwrap();
    assert!(row.contains(TEACHER) && row.contains("Teacher"), "{row}");

    // A student account without its student number is refused, next to the field.
    admin.fill("Username", "stu").await;
    admin.fill("Password", "a-long-enough-password").await;
    // The creation form's own role (the filter above is also labelled "Role").
    admin
        .client
        .find(Locator::Id("new-role"))
        .await
        .unwrap()
        .select_by_value("student")
        .await
        .unwrap();
    admin.press("Create the account").await;
    let text = admin.text().await;
    assert!(
        text.contains("A student account needs its student number."),
        "{text}"
    );
    let student = admin.field("Student number (student accounts only)").await;
    assert_eq!(
        student.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(
        admin
            .field("Username")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("stu")
    );
    admin.fill("Password", "a-long-enough-password").await;
    admin
        .fill("Student number (student accounts only)", "S001")
        .await;
    admin.press("Create the account").await;
    assert!(
        admin.text().await.contains("The account was created."),
        "{}",
        admin.text().await
    );

    // The new student signs in; once disabled, their next page asks them to sign in again.
    let student = Browser::start(&app.base).await;
    student.sign_in("stu", "a-long-enough-password").await;
    admin.press("Disable stu").await;
    assert!(admin.text().await.contains("The account was disabled"));
    student.open("/").await;
    assert!(
        student.path().await.starts_with("/sign-in"),
        "{}",
        student.path().await
    );
    student.close().await;

    // Only administrators.
    admin.press("Sign out").await;
    admin.sign_in(TEACHER, PASSWORD).await;
    admin.open("/admin/users").await;
    let text = admin.text().await;
    assert!(
        !text.contains("stu") && !text.contains("Create the account"),
        "{text}"
    );
    admin.close().await;
}
