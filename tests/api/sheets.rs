//! Paper sheets end to end: print, fill and scan (simulated), upload, review, re-scan, the
//! import breaker against a failing store, and malformed uploads.

mod conflicts;
mod photos;

use crate::helpers::{
    TestApp, attendance_binary, expect_json, expect_problem, roster_row, wait_until,
};
use lopdf::dictionary;
use rand::SeedableRng;
use rand::rngs::StdRng;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sheets::Layout;
use sheets::simulate::{Encoding, Fill, RowFills, ScanOptions, scan_page, wrap_pdf};
use std::time::Duration;

const COURSE: &str = "OMR1";

/// A course with `n` students (S001..) and one session; returns the session id.
async fn course_of(app: &TestApp, course: &str, n: usize) -> String {
    app.create_course(course).await;
    for i in 1..=n {
        let id = format!("{course}S{i:03}");
        app.create_student(&id, &format!("Student {i} Ødegård"))
            .await;
        app.enroll(course, &id, "2026-09-01").await;
    }
    app.schedule(course, "Lecture 1", "2026-09-07T09:00:00Z")
        .await
}

/// The session's layout, checked against what the API serves.
async fn layout_of(app: &TestApp, token: &str, session: &str) -> Layout {
    let served = expect_json(
        app.get(&format!("/api/sessions/{session}/sheet/layout"), token)
            .await,
        StatusCode::OK,
    )
    .await;
    let students: Vec<String> = served["pages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["rows"].as_array().unwrap().clone())
        .map(|r| r["student_id"].as_str().unwrap().to_string())
        .collect();
    let layout = Layout::new(session, &students);
    // Same pages, QR codes and bubbles as served (floats compared as floats).
    for (page, served) in layout.pages.iter().zip(served["pages"].as_array().unwrap()) {
        assert_eq!(serde_json::to_value(&page.qr).unwrap(), served["qr"]);
        for (row, served) in page.rows.iter().zip(served["rows"].as_array().unwrap()) {
            for (bubble, served) in row
                .bubbles
                .iter()
                .zip(served["bubbles"].as_array().unwrap())
            {
                let near = |a: f32, b: &Value| (f64::from(a) - b.as_f64().unwrap()).abs() < 1e-3;
                assert!(near(bubble.x, &served["x"]) && near(bubble.y, &served["y"]));
            }
        }
    }
    assert_eq!(
        layout.pages.len(),
        served["pages"].as_array().unwrap().len()
    );
    layout
}

fn upload_form(pdf: Vec<u8>) -> Form {
    Form::new().part(
        "file",
        Part::bytes(pdf)
            .file_name("scan.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    )
}

async fn upload(app: &TestApp, token: &str, pdf: Vec<u8>) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/api/sheets", Some(token))
        .multipart(upload_form(pdf))
        .send()
        .await
        .expect("request sent")
}

/// The fills of row `i` (0-based over the whole roster) in the main scenario.
fn scenario_row(i: usize) -> RowFills {
    use Fill::*;
    match i % 6 {
        0 => [Solid, Empty, Empty],
        1 => [Empty, Partial, Empty],
        2 => [Empty, Empty, Scribble],
        3 => [Empty, Empty, Empty],
        4 => [Solid, Solid, Empty], // two marks: held
        _ => [Partial, Empty, Empty],
    }
}

fn expected_status(i: usize) -> Option<&'static str> {
    match i % 6 {
        0 | 5 => Some("present"),
        1 => Some("late"),
        2 => Some("excused"),
        3 => Some("absent"),
        _ => None,
    }
}

/// Scans of every page of the layout, filled by `fills` (row index over the roster).
fn scans(
    layout: &Layout,
    fills: impl Fn(usize) -> RowFills,
    seed: u64,
    upside_down_page: Option<u32>,
) -> Vec<(image::GrayImage, Encoding)> {
    let mut rng = StdRng::seed_from_u64(seed);
    layout
        .pages
        .iter()
        .map(|page| {
            let rows: Vec<RowFills> = page
                .rows
                .iter()
                .map(|r| fills(r.number as usize - 1))
                .collect();
            let mut options = ScanOptions::ideal(200.0);
            options.rotation_deg = 1.5;
            options.noise = 4.0;
            options.upside_down = upside_down_page == Some(page.page);
            let image = scan_page(page, &rows, &options, &mut rng);
            (image, Encoding::Jpeg { quality: 80 })
        })
        .collect()
}

#[tokio::test]
async fn a_session_sheet_prints_and_its_layout_names_every_bubble() {
    let app = TestApp::spawn().await;
    let session = course_of(&app, COURSE, 30).await;
    let (_, teacher) = app.teacher_of("t-omr", COURSE).await;
    let response = app
        .get(&format!("/api/sessions/{session}/sheet.pdf"), &teacher)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let pdf = response.bytes().await.unwrap();
    let doc = lopdf::Document::load_mem(&pdf).expect("a PDF");
    assert_eq!(doc.get_pages().len(), 2, "30 students: 27 + 3 rows");

    let layout = layout_of(&app, &teacher, &session).await;
    assert_eq!(layout.pages[1].rows.len(), 3);
    let served = expect_json(
        app.get(&format!("/api/sessions/{session}/sheet/layout"), &teacher)
            .await,
        StatusCode::OK,
    )
    .await;
    let bubble = &served["pages"][0]["rows"][0]["bubbles"][1];
    assert_eq!(bubble["status"], "late");
    assert!(bubble["x"].as_f64().unwrap() > 0.0 && bubble["r"].as_f64().unwrap() > 5.0);

    // The printed vector sheet reads back: every row empty, so absent.
    let job = expect_json(
        upload(&app, &teacher, pdf.to_vec()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(job["pages"], 2, "{job}");
    assert_eq!(job["totals"]["absent"], 30, "{job}");
    assert_eq!(job["page_errors"], 0, "{job}");

    // Students may not print sheets; unknown sessions are 404.
    app.create_student("OMR-STU", "Stu Dent").await;
    let (_, student) = app.create_user("stu-omr", "student", Some("OMR-STU")).await;
    let denied = app
        .get(&format!("/api/sessions/{session}/sheet.pdf"), &student)
        .await;
    expect_problem(denied, StatusCode::FORBIDDEN, "forbidden").await;
    let missing = app.get("/api/sessions/nope/sheet/layout", &teacher).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn scanned_sheets_are_recorded_held_for_review_and_imported_once() {
    let app = TestApp::spawn().await;
    let session = course_of(&app, COURSE, 30).await;
    let (_, teacher) = app.teacher_of("t-omr", COURSE).await;
    let layout = layout_of(&app, &teacher, &session).await;

    // Pages in reverse order, the first one upside down.
    let mut pages = scans(&layout, scenario_row, 7, Some(1));
    pages.reverse();
    let pdf = wrap_pdf(pages);
    let job = expect_json(
        upload(&app, &teacher, pdf.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    let held: Vec<usize> = (0..30).filter(|i| expected_status(*i).is_none()).collect();
    assert_eq!(job["pages"], 2, "{job}");
    assert_eq!(job["sessions"], json!([session]));
    assert_eq!(job["page_errors"], 0, "{job}");
    assert_eq!(job["held_for_review"], held.len(), "{job}");
    assert_eq!(job["marks_recorded"], 30 - held.len(), "{job}");
    assert_eq!(job["page_results"][0]["sheet_page"], 2);
    assert_eq!(job["page_results"][1]["upside_down"], true);
    assert_eq!(job["breaker"]["state"], "closed");

    let view = app.session_view(&teacher, &session).await;
    for i in 0..30 {
        let student = format!("{COURSE}S{:03}", i + 1);
        let row = roster_row(&view, &student);
        match expected_status(i) {
            Some(status) => {
                assert_eq!(row["status"], status, "{student}: {row}");
                assert_eq!(row["method"], "sheet");
            }
            None => assert_eq!(row["status"], Value::Null, "{student} is held: {row}"),
        }
    }

    // The checked page image.
    let image = job["page_results"][0]["image"]
        .as_str()
        .unwrap()
        .to_string();
    let png = app.get(&image, &teacher).await;
    assert_eq!(png.status(), StatusCode::OK);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let job_id = job["job_id"].as_str().unwrap();
    let again = expect_json(
        app.get(&format!("/api/sheets/{job_id}"), &teacher).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again, job);

    // The review queue lists the held rows; deciding one records it.
    let queue = expect_json(
        app.get(&format!("/api/sessions/{session}/review"), &teacher)
            .await,
        StatusCode::OK,
    )
    .await;
    let listed: Vec<&str> = queue["held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["student_id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = held
        .iter()
        .map(|i| format!("{COURSE}S{:03}", i + 1))
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(queue["held"][0]["candidates"], json!(["present", "late"]));
    let first = &expected[0];
    let decided = expect_json(
        app.post(
            &format!("/api/sessions/{session}/review/{first}"),
            &teacher,
            json!({"status": "late"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(decided["status"], "late");
    let again = app
        .post(
            &format!("/api/sessions/{session}/review/{first}"),
            &teacher,
            json!({"status": "late"}),
        )
        .await;
    expect_problem(again, StatusCode::NOT_FOUND, "not_found").await;

    // The same file again records nothing.
    let events = app.event_count().await;
    let repeat = expect_json(upload(&app, &teacher, pdf).await, StatusCode::CREATED).await;
    assert_eq!(repeat["marks_recorded"], 0, "{repeat}");
    assert!(
        repeat["page_results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["already_imported"] == true)
    );
    assert_eq!(app.event_count().await, events);

    // A re-scan where one bubble changed becomes a correction.
    let rescan = scans(
        &layout,
        |i| {
            if i == 0 {
                [Fill::Empty, Fill::Solid, Fill::Empty]
            } else {
                scenario_row(i)
            }
        },
        8,
        None,
    );
    let job = expect_json(
        upload(&app, &teacher, wrap_pdf(rescan)).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(job["page_results"][0]["corrections"], 1, "{job}");
    let history = expect_json(
        app.get(
            &format!("/api/sessions/{session}/attendance/{COURSE}S001/history"),
            &teacher,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let last = history["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["status"], "late");
    assert_eq!(last["reason"], "sheet re-scan");
}

#[tokio::test]
async fn the_offline_reader_names_the_student_of_each_row() {
    let app = TestApp::spawn().await;
    let session = course_of(&app, COURSE, 3).await;
    let (_, teacher) = app.teacher_of("t-omr", COURSE).await;
    let layout = layout_of(&app, &teacher, &session).await;
    let path = std::env::temp_dir().join(format!("scan-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&path, wrap_pdf(scans(&layout, scenario_row, 7, None))).unwrap();
    let output = std::process::Command::new(attendance_binary())
        .args(["sheet", "read", "--students"])
        .arg(&path)
        .env("DATABASE_URL", &app.config.connections.database_url)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for i in 1..=3 {
        let who = format!("{COURSE}S{i:03} Student {i} Ødegård");
        assert!(stdout.contains(&who), "{who} in:\n{stdout}");
    }
}

#[tokio::test]
async fn pages_that_are_not_ours_or_not_allowed_are_reported_and_not_recorded() {
    let app = TestApp::spawn().await;
    let session = course_of(&app, COURSE, 5).await;
    let other = course_of(&app, "OMR2", 4).await;
    let (_, teacher) = app.teacher_of("t-omr", COURSE).await;
    let own = layout_of(&app, &teacher, &session).await;
    let foreign = layout_of(&app, &app.admin, &other).await;
    let mut pages = scans(&own, |_| [Fill::Solid, Fill::Empty, Fill::Empty], 1, None);
    pages.extend(scans(
        &foreign,
        |_| [Fill::Solid, Fill::Empty, Fill::Empty],
        2,
        None,
    ));
    pages.push((
        image::GrayImage::from_pixel(1240, 1754, image::Luma([250])),
        Encoding::Png,
    ));
    let job = expect_json(
        upload(&app, &teacher, wrap_pdf(pages)).await,
        StatusCode::CREATED,
    )
    .await;
    let results = job["page_results"].as_array().unwrap();
    assert_eq!(results[0]["error"], Value::Null, "{job}");
    assert_eq!(results[0]["marks_recorded"], 5);
    assert_eq!(results[1]["error"]["code"], "forbidden", "{job}");
    assert_eq!(results[2]["error"]["code"], "not_a_sheet", "{job}");
    assert_eq!(job["page_errors"], 2);
    let other_events = app.events_of("register", &other).await;
    assert!(
        other_events.is_empty(),
        "nothing recorded for OMR2: {other_events:?}"
    );

    // A roster change after printing makes the old sheet unusable for that session.
    app.create_student("OMR1S999", "Late Joiner").await;
    app.enroll(COURSE, "OMR1S999", "2026-09-01").await;
    let second = app
        .schedule(COURSE, "Lecture 2", "2026-09-14T09:00:00Z")
        .await;
    let stale = Layout::new(
        &second,
        &own.pages[0]
            .rows
            .iter()
            .map(|r| r.student_id.clone())
            .collect::<Vec<_>>(),
    );
    let job = expect_json(
        upload(
            &app,
            &teacher,
            wrap_pdf(scans(
                &stale,
                |_| [Fill::Solid, Fill::Empty, Fill::Empty],
                3,
                None,
            )),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        job["page_results"][0]["error"]["code"], "roster_changed",
        "{job}"
    );
    assert!(app.events_of("register", &second).await.is_empty());
}

#[tokio::test]
async fn malformed_uploads_get_a_clear_problem_and_change_nothing() {
    let app = TestApp::spawn().await;
    let session = course_of(&app, COURSE, 3).await;
    let (_, teacher) = app.teacher_of("t-omr", COURSE).await;
    let layout = layout_of(&app, &teacher, &session).await;
    let good = wrap_pdf(scans(
        &layout,
        |_| [Fill::Solid, Fill::Empty, Fill::Empty],
        4,
        None,
    ));
    let events = app.event_count().await;

    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "not a PDF",
            b"GIF89a not a pdf at all".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_pdf",
        ),
        (
            "truncated",
            good[..good.len() / 3].to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "damaged_pdf",
        ),
        (
            "zero pages",
            empty_pdf(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_pdf",
        ),
        (
            "encrypted",
            encrypted(&good),
            StatusCode::UNPROCESSABLE_ENTITY,
            "encrypted_pdf",
        ),
        (
            "too many pages",
            many_pages(500),
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_pages",
        ),
        (
            "over the size limit",
            vec![b'%'; 9 * 1024 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (what, bytes, status, code) in cases {
        let problem = expect_problem(upload(&app, &teacher, bytes).await, status, code).await;
        assert!(problem["detail"].as_str().is_some(), "{what}: {problem}");
    }
    // Wrong form shapes.
    let no_file = app
        .request(reqwest::Method::POST, "/api/sheets", Some(&teacher))
        .multipart(Form::new().text("note", "hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_file.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let not_multipart = app
        .post("/api/sheets", &teacher, json!({"file": "x"}))
        .await;
    assert_eq!(not_multipart.status(), StatusCode::BAD_REQUEST);
    // A decompression bomb: a 100 x 100 image whose stream inflates to 64 MB is refused for
    // its page without being inflated.
    let job = expect_json(upload(&app, &teacher, bomb()).await, StatusCode::CREATED).await;
    assert_eq!(
        job["page_results"][0]["error"]["code"], "unreadable_page",
        "{job}"
    );
    assert_eq!(app.event_count().await, events, "nothing was recorded");
}

fn empty_pdf() -> Vec<u8> {
    let mut doc = lopdf::Document::with_version("1.5");
    let pages = doc.add_object(dictionary! {"Type" => "Pages", "Kids" => vec![], "Count" => 0});
    let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages});
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn bomb() -> Vec<u8> {
    use std::io::Write;
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    zlib.write_all(&vec![0u8; 64 * 1024 * 1024]).unwrap();
    let mut doc = lopdf::Document::with_version("1.5");
    let image = doc.add_object(lopdf::Stream::new(
        dictionary! {"Type" => "XObject", "Subtype" => "Image", "Width" => 100, "Height" => 100,
        "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "FlateDecode"},
        zlib.finish().unwrap(),
    ));
    let content = doc.add_object(lopdf::Stream::new(
        dictionary! {},
        b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec(),
    ));
    let pages = doc.new_object_id();
    let page = doc.add_object(dictionary! {"Type" => "Page", "Parent" => pages,
    "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()], "Contents" => content,
    "Resources" => dictionary! {"XObject" => dictionary! {"Im0" => image}}});
    doc.objects.insert(
        pages,
        lopdf::Object::Dictionary(
            dictionary! {"Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1},
        ),
    );
    let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages});
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn many_pages(n: usize) -> Vec<u8> {
    let blank = image::GrayImage::from_pixel(60, 85, image::Luma([255]));
    wrap_pdf((0..n).map(|_| (blank.clone(), Encoding::Png)).collect())
}

fn encrypted(pdf: &[u8]) -> Vec<u8> {
    let mut doc = lopdf::Document::load_mem(pdf).unwrap();
    let encrypt = doc.add_object(dictionary! {
        "Filter" => "Standard", "V" => 1, "R" => 2, "Length" => 40, "P" => -4,
        "O" => lopdf::Object::string_literal(vec![0u8; 32]),
        "U" => lopdf::Object::string_literal(vec![0u8; 32]),
    });
    doc.trailer.set("Encrypt", encrypt);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Drives the import breaker through closed -> open -> half-open -> closed against a store
/// made to fail (its events table renamed away), with nothing half-written.
#[tokio::test]
async fn the_import_breaker_opens_on_a_failing_store_and_closes_when_it_recovers() {
    let app = TestApp::spawn_with(|config| {
        config.import_breaker_open_secs = 1.0;
    })
    .await;
    let session = course_of(&app, COURSE, 4).await;
    let (_, teacher) = app.teacher_of("t-omr", COURSE).await;
    let layout = layout_of(&app, &teacher, &session).await;
    let pdf = wrap_pdf(scans(
        &layout,
        |_| [Fill::Solid, Fill::Empty, Fill::Empty],
        5,
        None,
    ));
    let breaker = |health: &Value| {
        health["breakers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == "sheet_import")
            .cloned()
            .expect("the import breaker is in /api/health")
    };
    let health = async || -> Value {
        app.request(reqwest::Method::GET, "/api/health", Some(&app.admin))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    assert_eq!(breaker(&health().await)["state"], "closed");
    let events_before = app.event_count().await;

    sqlx::query("ALTER TABLE events RENAME TO events_cut")
        .execute(&app.pool)
        .await
        .unwrap();
    for attempt in 1..=3 {
        let response = upload(&app, &teacher, pdf.clone()).await;
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "attempt {attempt}"
        );
        assert!(response.headers().contains_key("retry-after"));
    }
    let open = breaker(&health().await);
    assert_eq!(open["state"], "open", "{open}");
    assert_eq!(open["failures"], 3);

    // Open: refused at once, without reading the file or touching the store.
    let started = std::time::Instant::now();
    let refused = upload(&app, &teacher, pdf.clone()).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(started.elapsed() < Duration::from_secs(1));
    let after = breaker(&health().await);
    assert_eq!(after["failures"], 3, "no call was tried: {after}");

    sqlx::query("ALTER TABLE events_cut RENAME TO events")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        app.event_count().await,
        events_before,
        "nothing half-written"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // Half-open: a trial succeeds; the second success closes it.
    let first = expect_json(
        upload(&app, &teacher, pdf.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["marks_recorded"], 4, "{first}");
    assert_eq!(first["breaker"]["state"], "half_open");
    let second = expect_json(upload(&app, &teacher, pdf).await, StatusCode::CREATED).await;
    assert_eq!(second["breaker"]["state"], "closed");
    assert_eq!(second["marks_recorded"], 0, "imported once: {second}");
    wait_until(Duration::from_secs(5), async || {
        breaker(&health().await)["state"] == "closed"
    })
    .await;
}
