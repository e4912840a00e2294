//! Sheets photographed with a phone and uploaded as photos: several JPEG and PNG files in one
//! upload are one job, read page by page; a photo that cannot be trusted is refused with a
//! reason a teacher can act on, and nothing is recorded for it.

use super::{COURSE, course_of, expected_status, layout_of, scenario_row};
use crate::helpers::{TestApp, expect_json, roster_row};
use image::ImageEncoder;
use rand::SeedableRng;
use rand::rngs::StdRng;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use sheets::simulate::{Edge, PhoneOptions, RowFills, photograph, render};
use sheets::{Layout, PageLayout};

/// The rows of `page` filled as in the main scenario.
fn fills(page: &PageLayout) -> Vec<RowFills> {
    page.rows
        .iter()
        .map(|r| scenario_row(r.number as usize - 1))
        .collect()
}

/// Uploads `files` (name, MIME type, bytes) as parts named `file`.
async fn upload_photos(
    app: &TestApp,
    token: &str,
    files: Vec<(&str, &str, Vec<u8>)>,
) -> reqwest::Response {
    let form = files
        .into_iter()
        .fold(Form::new(), |form, (name, mime, bytes)| {
            let part = Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str(mime)
                .unwrap();
            form.part("file", part)
        });
    app.request(reqwest::Method::POST, "/api/sheets", Some(token))
        .multipart(form)
        .send()
        .await
        .expect("request sent")
}

/// Page `n` (from 1) photographed with `options`, as a PNG.
fn png_photo(layout: &Layout, n: usize, options: &PhoneOptions, seed: u64) -> Vec<u8> {
    let page = &layout.pages[n - 1];
    let photo = render(
        page,
        &fills(page),
        options,
        &mut StdRng::seed_from_u64(seed),
    );
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            photo.as_raw(),
            photo.width(),
            photo.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    png
}

/// Page `n` (from 1) photographed with `options`, as a phone's JPEG.
fn jpeg_photo(layout: &Layout, n: usize, options: &PhoneOptions, seed: u64) -> Vec<u8> {
    let page = &layout.pages[n - 1];
    photograph(
        page,
        &fills(page),
        options,
        &mut StdRng::seed_from_u64(seed),
    )
}

#[tokio::test]
async fn photos_of_each_page_in_one_upload_are_one_job_read_page_by_page() {
    let app = TestApp::spawn().await;
    let session = course_of(&app, COURSE, 30).await;
    let (_, teacher) = app.teacher_of("t-omr", COURSE).await;
    let layout = layout_of(&app, &teacher, &session).await;
    let keystoned = PhoneOptions {
        keystone: Some((Edge::Top, 0.05)),
        shadow: 0.25,
        ..PhoneOptions::straight()
    };
    let turned = PhoneOptions {
        keystone: Some((Edge::Left, 0.03)),
        rotation_deg: -8.0,
        fill: 0.8,
        ..PhoneOptions::straight()
    };
    // Page 2 first, as a PNG; then page 1 as a phone's JPEG.
    let files = vec![
        ("page2.png", "image/png", png_photo(&layout, 2, &turned, 2)),
        (
            "page1.jpg",
            "image/jpeg",
            jpeg_photo(&layout, 1, &keystoned, 1),
        ),
    ];
    let job = expect_json(
        upload_photos(&app, &teacher, files).await,
        StatusCode::CREATED,
    )
    .await;
    let held = (0..30).filter(|i| expected_status(*i).is_none()).count();
    assert_eq!(job["pages"], 2, "{job}");
    assert_eq!(job["page_errors"], 0, "{job}");
    assert_eq!(job["held_for_review"], held, "{job}");
    assert_eq!(job["marks_recorded"], 30 - held, "{job}");
    assert_eq!(job["page_results"][0]["sheet_page"], 2, "{job}");
    assert_eq!(job["page_results"][1]["sheet_page"], 1, "{job}");
    let view = app.session_view(&teacher, &session).await;
    for i in 0..30 {
        let student = format!("{COURSE}S{:03}", i + 1);
        let row = roster_row(&view, &student);
        match expected_status(i) {
            Some(status) => assert_eq!(row["status"], status, "{student}: {row}"),
            None => assert_eq!(row["status"], Value::Null, "{student} is held: {row}"),
        }
    }
    // Every ring was seen, near where the page's map put it; the offsets are in the answer.
    let offsets = job["page_results"][1]["rows"][0]["ring_offsets_pt"]
        .as_array()
        .unwrap();
    assert_eq!(offsets.len(), 3, "{job}");
    for offset in offsets {
        let [x, y] = [0, 1].map(|i| offset[i].as_f64().unwrap());
        assert!(x.hypot(y) < 3.0, "{offset}");
    }
    let image = job["page_results"][1]["image"]
        .as_str()
        .unwrap()
        .to_string();
    let png = app.get(&image, &teacher).await;
    assert_eq!(png.status(), StatusCode::OK);
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
}

#[tokio::test]
async fn a_photo_of_a_folded_page_or_a_broken_photo_is_refused_with_a_reason_and_records_nothing() {
    let app = TestApp::spawn().await;
    let session = course_of(&app, COURSE, 5).await;
    let (_, teacher) = app.teacher_of("t-omr", COURSE).await;
    let layout = layout_of(&app, &teacher, &session).await;
    let folded = PhoneOptions {
        fold: 0.75,
        ..PhoneOptions::straight()
    };
    let mut broken = jpeg_photo(&layout, 1, &PhoneOptions::straight(), 3);
    broken.truncate(200);
    let events = app.event_count().await;
    let files = vec![
        (
            "folded.jpg",
            "image/jpeg",
            jpeg_photo(&layout, 1, &folded, 4),
        ),
        ("broken.jpg", "image/jpeg", broken),
    ];
    let job = expect_json(
        upload_photos(&app, &teacher, files).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(job["pages"], 2, "{job}");
    assert_eq!(job["page_errors"], 2, "{job}");
    let folded = &job["page_results"][0]["error"];
    assert_eq!(folded["code"], "distorted_page", "{job}");
    assert!(
        folded["detail"].as_str().unwrap().contains("retake"),
        "{job}"
    );
    assert_eq!(
        job["page_results"][1]["error"]["code"], "unreadable_photo",
        "{job}"
    );
    assert_eq!(job["marks_recorded"], 0, "{job}");
    assert_eq!(app.event_count().await, events, "nothing was recorded");
}
