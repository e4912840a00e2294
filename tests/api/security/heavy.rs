//! Heavy work (issue 23, item 7): report rendering, sheet imports and `as_of` folds are
//! bounded, so that a burst neither exhausts memory nor stalls the runtime.

use super::support::{ChildServer, slowest_health};
use crate::helpers::{TestApp, expect_json};
use futures::future::join_all;
use futures::{StreamExt, stream};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const STUDENTS: usize = 500;
const SESSIONS: usize = 60;

async fn call(client: &reqwest::Client, token: &str, url: String, body: Value, want: StatusCode) {
    let answer = client
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_json(answer, want).await;
}

/// Course `BIG` with 500 students and 60 sessions, every student marked in every session.
async fn big_course(app: &TestApp, base: &str) {
    let (client, admin) = (&app.client, app.admin.as_str());
    let body = json!({"code": "BIG", "name": "A big course"});
    call(
        client,
        admin,
        format!("{base}/api/courses"),
        body,
        StatusCode::CREATED,
    )
    .await;
    stream::iter(0..STUDENTS)
        .for_each_concurrent(8, |i| async move {
            let id = format!("S{i:04}");
            let student = json!({"id": id, "name": format!("Student {i}")});
            call(
                client,
                admin,
                format!("{base}/api/students"),
                student,
                StatusCode::CREATED,
            )
            .await;
            let enrol = json!({"student_id": id, "effective_from": "2026-09-01"});
            let url = format!("{base}/api/courses/BIG/enrollments");
            call(client, admin, url, enrol, StatusCode::OK).await;
        })
        .await;
    stream::iter(0..SESSIONS)
        .for_each_concurrent(4, |s| async move {
            let starts = format!("2026-09-{:02}T{:02}:00:00Z", 7 + s / 10, 8 + s % 10);
            let body = json!({"title": format!("Lecture {s}"), "starts_at": starts, "duration_minutes": 50});
            let answer = client
                .post(format!("{base}/api/courses/BIG/sessions"))
                .bearer_auth(admin)
                .json(&body)
                .send()
                .await
                .unwrap();
            let session = expect_json(answer, StatusCode::CREATED).await["id"]
                .as_str()
                .unwrap()
                .to_string();
            let statuses = ["present", "late", "absent", "excused"];
            let marks: Vec<Value> = (0..STUDENTS)
                .map(|i| json!({"student_id": format!("S{i:04}"), "status": statuses[(i + s) % 4]}))
                .collect();
            let url = format!("{base}/api/sessions/{session}/attendance");
            call(client, admin, url, json!({"marks": marks}), StatusCode::OK).await;
        })
        .await;
}

// Several test threads, so that reading fifty PDFs never delays the health probe itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_course_pdfs_keep_memory_bounded_and_health_fast() {
    let app = TestApp::spawn_with(|c| {
        c.no_relay = true;
        c.no_projectors = true;
    })
    .await;
    let server = ChildServer::serve(&app, &[]).await;
    let seeded = Instant::now();
    big_course(&app, &server.base).await;
    crate::helpers::wait_until(Duration::from_secs(120), || async {
        let (applied, last): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT min(position) FROM projector_state), (SELECT max(global_position) FROM events)",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        applied >= last
    })
    .await;
    eprintln!("seeded in {:.1} s", seeded.elapsed().as_secs_f64());
    let idle = server.rss_mib();
    // One render alone: a runtime that rendered on its own worker threads would hold the health
    // probe for about this long, so the probe is judged against it rather than against a fixed
    // figure that a loaded two-core machine's scheduling can miss.
    let url = format!("{}/api/reports/course/BIG?format=pdf", server.base);
    let alone = Instant::now();
    let answer = app
        .client
        .get(&url)
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "one PDF alone is rendered");
    let _ = answer.bytes().await;
    let one_render = alone.elapsed();

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(slowest_health(
        app.client.clone(),
        format!("{}/api/health", server.base),
        stop.clone(),
    ));
    let pdfs = (0..50).map(|_| {
        let (client, url, token) = (app.client.clone(), url.clone(), app.admin.clone());
        async move {
            let answer = client.get(url).bearer_auth(token).send().await.unwrap();
            let status = answer.status();
            let retry_after = answer.headers().contains_key("retry-after");
            let _ = answer.bytes().await;
            (status, retry_after)
        }
    });
    let started = Instant::now();
    let answers = join_all(pdfs).await;
    let burst = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let slowest = watcher.await.unwrap();
    let peak = server.peak_rss_mib();
    let ok = answers.iter().filter(|(s, _)| s.is_success()).count();
    eprintln!(
        "one PDF in {} ms; 50 course PDFs in {:.1} s: idle {idle:.0} MiB, peak {peak:.0} MiB; {ok} rendered; slowest health {} ms",
        one_render.as_millis(),
        burst.as_secs_f64(),
        slowest.as_millis()
    );
    for (status, retry_after) in &answers {
        assert!(
            status.is_success() || (*status == StatusCode::SERVICE_UNAVAILABLE && *retry_after),
            "a PDF is rendered or refused with 503 and Retry-After, not {status}"
        );
    }
    assert!(ok >= 1, "some PDFs are rendered");
    assert!(
        peak < 500.0,
        "50 course PDFs raised the server to {peak:.0} MiB"
    );
    let bound = (one_render / 2).max(Duration::from_millis(200));
    assert!(
        slowest < bound,
        "/api/health took {} ms during the burst, a stalled runtime's share of one {} ms render",
        slowest.as_millis(),
        one_render.as_millis()
    );
}
