//! Workload 8: the roll-call page of the 500-student session (`GET /sessions/{id}`, the web
//! pages' heaviest), as an administrator's browser asks for it: time per page (40 requests
//! one after another, after a first one), and its size gzipped and not.

use super::load::Data;
use super::server::Server;
use super::{Figures, Latency, step};
use anyhow::{Context, bail};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, COOKIE};
use std::time::Instant;

/// Pages timed.
const REQUESTS: usize = 40;

/// Measures the roll-call page of the single-mark course's first session.
pub async fn roll_call_page(
    server: &Server,
    data: &Data,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let bar = step("roll-call page", None);
    let session = data.sessions.first().context("a session")?;
    let url = format!("{}/sessions/{session}", server.url);
    // The page reads the token from its cookie, as a signed-in browser sends it.
    let cookie = format!("__Host-attendance={}", server.token);
    let get = |gzip: bool| {
        let request = server.http.get(&url).header(COOKIE, &cookie);
        if gzip {
            request.header(ACCEPT_ENCODING, "gzip")
        } else {
            request
        }
    };
    let plain = get(false).send().await?;
    if !plain.status().is_success() {
        bail!("the roll-call page answered {}", plain.status());
    }
    figures.page_bytes = plain.bytes().await?.len();
    let mut samples = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let page = get(true).send().await?;
        let gzipped = page
            .headers()
            .get(CONTENT_ENCODING)
            .is_some_and(|v| v == "gzip");
        let body = page.bytes().await?;
        samples.push(started.elapsed().as_secs_f64());
        if !gzipped {
            bail!("the roll-call page was not compressed");
        }
        figures.page_gzip_bytes = body.len();
    }
    figures.page_latency = Latency::of(&mut samples);
    bar.finish_and_clear();
    Ok(())
}
