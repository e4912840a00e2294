//! A varied, reproducible batch of marked and scanned pages: rosters of two to three pages,
//! resolutions in turn, a mix of encodings, each page from its own seed so pages can be made
//! on several threads and still come out the same.

use super::{Encoding, RowFills, ScanOptions, random_row, round_trip, scan_page};
use crate::layout::ROWS_PER_PAGE;
use crate::{Layout, PageLayout};
use image::GrayImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Scan resolutions, in turn (fewer at 300 dpi, which takes long to make in a debug build).
pub const DPIS: [f32; 5] = [150.0, 200.0, 300.0, 150.0, 200.0];

/// One page to mark and scan.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Where it comes from, for messages.
    pub label: String,
    /// The page as printed.
    pub page: PageLayout,
    /// Scan resolution.
    pub dpi: f32,
    /// How the scan is stored.
    pub encoding: Encoding,
    /// Seed of the marks and the scan.
    pub seed: u64,
}

/// A sample marked and scanned.
#[derive(Debug, Clone)]
pub struct Made {
    /// The marks, row by row.
    pub fills: Vec<RowFills>,
    /// How it was scanned.
    pub options: ScanOptions,
    /// What a reader gets.
    pub image: GrayImage,
}

/// Pages enough for at least `rows` rows.
pub fn samples(rows: usize, rng: &mut impl Rng) -> Vec<Sample> {
    let mut samples = Vec::new();
    let (mut total, mut session) = (0, 0);
    while total < rows {
        session += 1;
        let layout = Layout::new(&format!("CS101-2026-{session:04}"), &roster(rng));
        for page in layout.pages {
            let dpi = DPIS[samples.len() % DPIS.len()];
            let encoding = random_encoding(dpi, rng);
            total += page.rows.len();
            samples.push(Sample {
                label: format!(
                    "session {session} page {} ({dpi} dpi, {encoding:?})",
                    page.page
                ),
                page,
                dpi,
                encoding,
                seed: rng.random(),
            });
        }
    }
    samples
}

impl Sample {
    /// Marks and scans the page.
    pub fn make(&self) -> Made {
        let mut rng = StdRng::seed_from_u64(self.seed);
        // Light pencil does not survive a bitonal scan: nothing could read it.
        let pencil = self.encoding != Encoding::Bitonal;
        let fills: Vec<RowFills> = self
            .page
            .rows
            .iter()
            .map(|_| random_row(&mut rng, pencil))
            .collect();
        let options = ScanOptions::random(self.dpi, &mut rng);
        let image = round_trip(
            &scan_page(&self.page, &fills, &options, &mut rng),
            self.encoding,
        );
        Made {
            fills,
            options,
            image,
        }
    }
}

/// A roster of two or three pages, the last one nearly full: many rows for few pages.
pub fn roster(rng: &mut impl Rng) -> Vec<String> {
    let n = ROWS_PER_PAGE * rng.random_range(2..=3) - rng.random_range(0..5);
    (0..n)
        .map(|_| format!("S{:07}", rng.random_range(0..10_000_000)))
        .collect()
}

/// How a page is stored: a quarter JPEG (not at 300 dpi: the reader averages those down,
/// which hides JPEG's artefacts, and encoding them is slow in a debug build), a tenth
/// bitonal, the rest lossless grey.
fn random_encoding(dpi: f32, rng: &mut impl Rng) -> Encoding {
    match rng.random_range(0..20) {
        0..6 if dpi < 300.0 => Encoding::Jpeg {
            quality: rng.random_range(50..=90),
        },
        6..8 => Encoding::Bitonal,
        _ => Encoding::Png,
    }
}
