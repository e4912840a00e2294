//! A scanned sheet over a register that people already worked on: their marks stand, the
//! rows that differ are held as conflicts, the review keeps or replaces, and
//! `attendance sheet read --session` says all of it before anything is uploaded.

use super::{COURSE, course_of, layout_of, scans, upload};
use crate::helpers::{
    TestApp, attendance_binary, expect_json, expect_problem, postgres_base, roster_row,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sheets::simulate::{Fill, RowFills, wrap_pdf};

fn student(i: usize) -> String {
    format!("{COURSE}S{:03}", i + 1)
}

/// What the paper says, row by row: S001 empty (the excused student), S002 late (marked
/// present by hand), S003 present (unmarked), S004 present (present by hand too), S005
/// excused (present by hand), S006 empty (unmarked). `s003` is S003's row.
fn paper(s003: RowFills) -> impl Fn(usize) -> RowFills {
    use Fill::*;
    move |i| match i {
        1 => [Empty, Solid, Empty],
        2 => s003,
        3 => [Solid, Empty, Empty],
        4 => [Empty, Empty, Solid],
        _ => [Empty, Empty, Empty],
    }
}

async fn history(app: &TestApp, token: &str, session: &str, student: &str) -> Vec<Value> {
    let path = format!("/api/sessions/{session}/attendance/{student}/history");
    let history = expect_json(app.get(&path, token).await, StatusCode::OK).await;
    history["entries"].as_array().unwrap().clone()
}

/// The teacher's day: S001 absent, then excused with a doctor's note; S002, S004 and S005
/// present by hand.
async fn marked_by_hand(app: &TestApp, teacher: &str, session: &str) {
    for (i, status) in [
        (0, "absent"),
        (1, "present"),
        (3, "present"),
        (4, "present"),
    ] {
        let recorded = app.record(teacher, session, &student(i), status).await;
        assert_eq!(recorded.status(), StatusCode::CREATED);
    }
    let path = format!(
        "/api/sessions/{session}/attendance/{}/correction",
        student(0)
    );
    let body = json!({"status": "excused", "reason": "doctor's note"});
    expect_json(app.post(&path, teacher, body).await, StatusCode::OK).await;
}

/// `attendance sheet read <pdf> --session <session>` against the app's database.
fn preview(app: &TestApp, pdf: &[u8], session: &str) -> String {
    let file = std::env::temp_dir().join(format!("scan-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&file, pdf).unwrap();
    let output = std::process::Command::new(attendance_binary())
        .args(["sheet", "read", "--session", session])
        .arg(&file)
        .env(
            "DATABASE_URL",
            format!("{}/{}", postgres_base(), app.database),
        )
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The line of the preview about a student.
fn line<'a>(stdout: &'a str, student: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with(student))
        .unwrap_or_else(|| panic!("no line for {student}:\n{stdout}"))
}

#[tokio::test]
async fn a_scanned_sheet_never_overrides_a_teachers_correction_and_holds_the_rows_that_differ() {
    let app = TestApp::spawn().await;
    let session = course_of(&app, COURSE, 6).await;
    let (_, teacher) = app.teacher_of("t-omr", COURSE).await;
    marked_by_hand(&app, &teacher, &session).await;
    let layout = layout_of(&app, &teacher, &session).await;
    let present = [Fill::Solid, Fill::Empty, Fill::Empty];
    let pdf = wrap_pdf(scans(&layout, paper(present), 11, None));

    // Offline first: what the import would do, nothing recorded.
    let events = app.event_count().await;
    let said = preview(&app, &pdf, &session);
    assert_eq!(
        app.event_count().await,
        events,
        "the preview records nothing"
    );
    assert!(line(&said, &student(0)).contains("keep: an empty row leaves the register's excused"));
    assert!(
        line(&said, &student(1)).contains(
            "HELD conflict: the sheet says late; the register says present, set by t-omr at"
        ),
        "{said}"
    );
    assert!(
        line(&said, &student(2)).contains("record present"),
        "{said}"
    );
    assert!(line(&said, &student(3)).contains("agree"), "{said}");
    assert!(
        said.contains("record 2, correct 0, agree 1, keep 1, held unclear 0, held conflict 2"),
        "{said}"
    );

    // The upload does what the preview said.
    let job = expect_json(upload(&app, &teacher, pdf).await, StatusCode::CREATED).await;
    let page = &job["page_results"][0];
    assert_eq!(page["error"], Value::Null, "{job}");
    assert_eq!(job["held_conflict"], 2, "{job}");
    assert_eq!(job["held_for_review"], 0, "no unclear bubbles: {job}");
    assert_eq!(job["marks_recorded"], 2, "S003 and S006 only: {job}");
    assert_eq!(page["corrections"], 0, "{job}");
    assert_eq!(job["totals"]["held_conflict"], 2, "{job}");
    let outcomes: Vec<&str> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "unchanged",
            "held_conflict",
            "recorded",
            "unchanged",
            "held_conflict",
            "recorded"
        ]
    );
    let conflict = &page["rows"][1]["conflict"];
    assert_eq!(conflict["sheet"], "late");
    assert_eq!(conflict["register"], "present");
    assert_eq!(conflict["method"], "manual");
    assert_eq!(conflict["set_by_username"], "t-omr");

    // The doctor's note stands, and so do the marks taken by hand.
    let view = app.session_view(&teacher, &session).await;
    let excused = roster_row(&view, &student(0));
    assert_eq!(excused["status"], "excused", "{excused}");
    assert_eq!(excused["correction_reason"], "doctor's note", "{excused}");
    for i in [1, 3, 4] {
        let row = roster_row(&view, &student(i));
        assert_eq!(
            (&row["status"], &row["method"]),
            (&json!("present"), &json!("manual"))
        );
    }
    let s001 = history(&app, &teacher, &session, &student(0)).await;
    assert_eq!(
        s001.len(),
        2,
        "absent, then excused; nothing from the sheet: {s001:?}"
    );

    // The review lists both conflicts with both values and who set the register's.
    let review = format!("/api/sessions/{session}/review");
    let queue = expect_json(app.get(&review, &teacher).await, StatusCode::OK).await;
    let held = queue["held"].as_array().unwrap();
    assert_eq!(held.len(), 2, "{queue}");
    assert_eq!(held[0]["student_id"], student(1));
    assert_eq!(held[0]["kind"], "conflict");
    assert!(
        held[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("the sheet says late; the register says present, set by t-omr at "),
        "{queue}"
    );
    assert_eq!(held[0]["current_status"], "present");

    // Keep one, replace the other with a reason; a confused decision is refused.
    let decide = |i: usize| format!("{review}/{}", student(i));
    let both = json!({"keep": true, "status": "late"});
    expect_problem(
        app.post(&decide(1), &teacher, both).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    let kept = expect_json(
        app.post(&decide(1), &teacher, json!({"keep": true})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["status"], "present", "{kept}");
    let body = json!({"status": "excused", "reason": "note handed in at the office"});
    let replaced = expect_json(app.post(&decide(4), &teacher, body).await, StatusCode::OK).await;
    assert_eq!(replaced["status"], "excused", "{replaced}");
    let s005 = history(&app, &teacher, &session, &student(4)).await;
    let last = s005.last().unwrap();
    assert_eq!(last["reason"], "note handed in at the office", "{s005:?}");
    let queue = expect_json(app.get(&review, &teacher).await, StatusCode::OK).await;
    assert_eq!(queue["held"], json!([]), "{queue}");

    // A re-scan may change what the sheet itself recorded, never what a person kept.
    let late = [Fill::Empty, Fill::Solid, Fill::Empty];
    let rescan = wrap_pdf(scans(&layout, paper(late), 12, None));
    let job = expect_json(upload(&app, &teacher, rescan).await, StatusCode::CREATED).await;
    let page = &job["page_results"][0];
    assert_eq!(page["corrections"], 1, "S003 present -> late: {job}");
    assert_eq!(
        page["held_conflict"], 1,
        "S002 is still kept present: {job}"
    );
    let s003 = history(&app, &teacher, &session, &student(2)).await;
    assert_eq!(s003.last().unwrap()["reason"], "sheet re-scan", "{s003:?}");
}
