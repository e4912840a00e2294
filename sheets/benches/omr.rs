//! Micro-benchmarks of the paper sheets: printing a sheet, reading one scanned page (OMR
//! only, and from the PDF bytes: extraction + OMR, a 200 dpi JPEG and a 300 dpi bitonal
//! scan), at each scan resolution, and reading a phone's 12 MP JPEG photo of a page
//! (decoding, EXIF, reduction, OMR) on one core.
//!
//! `cargo bench -p attendance-sheets`

use rand::SeedableRng;
use rand::rngs::StdRng;
use sheets::document::{Options, read_pages};
use sheets::input::Limits;
use sheets::omr::{Thresholds, read_page};
use sheets::simulate::{
    Edge, Encoding, PhoneOptions, ScanOptions, photograph, random_row, scan_page, wrap_pdf,
};
use sheets::{Layout, RosterEntry, SheetInfo};

fn main() {
    divan::main();
}

/// A full page of 27 filled rows, scanned at `dpi` (turned, noisy).
fn scanned(dpi: f32) -> image::GrayImage {
    let mut rng = StdRng::seed_from_u64(42);
    let ids: Vec<String> = (1..=27).map(|n| format!("S{n:03}")).collect();
    let layout = Layout::new("bench-session", &ids);
    let page = &layout.pages[0];
    let fills: Vec<_> = page
        .rows
        .iter()
        .map(|_| random_row(&mut rng, true))
        .collect();
    let mut options = ScanOptions::random(dpi, &mut rng);
    options.upside_down = false;
    scan_page(page, &fills, &options, &mut rng)
}

#[divan::bench(args = [150.0, 200.0, 300.0], sample_count = 10)]
fn read_one_page_image(bencher: divan::Bencher, dpi: f32) {
    let image = scanned(dpi);
    let thresholds = Thresholds::default();
    bencher.bench(|| read_page(&image, &thresholds).expect("a readable page"));
}

/// Reads a one-page scan PDF (extraction + OMR) and checks all 27 rows came out.
fn read_pdf(pdf: &[u8]) {
    let mut rows = 0;
    read_pages(
        pdf,
        Limits::default(),
        Options::default(),
        &Thresholds::default(),
        |page| {
            rows += page.read.map(|r| r.rows.len()).unwrap_or(0);
        },
    )
    .expect("a readable PDF");
    assert_eq!(rows, 27);
}

#[divan::bench(sample_count = 10)]
fn read_one_jpeg_page_from_pdf_bytes(bencher: divan::Bencher) {
    let pdf = wrap_pdf(vec![(scanned(200.0), Encoding::Jpeg { quality: 75 })]);
    bencher.bench(|| read_pdf(&pdf));
}

#[divan::bench(sample_count = 10)]
fn read_one_bitonal_page_from_pdf_bytes(bencher: divan::Bencher) {
    let pdf = wrap_pdf(vec![(scanned(300.0), Encoding::Bitonal)]);
    bencher.bench(|| read_pdf(&pdf));
}

/// A full page of 27 filled rows photographed at 4032 × 3024 (12.2 MP), 5 % keystone, 4°.
fn photographed_12_mp() -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(12);
    let ids: Vec<String> = (1..=27).map(|n| format!("S{n:03}")).collect();
    let layout = Layout::new("bench-session", &ids);
    let page = &layout.pages[0];
    let fills: Vec<_> = page
        .rows
        .iter()
        .map(|_| random_row(&mut rng, true))
        .collect();
    let options = PhoneOptions {
        size: (3024, 4032),
        keystone: Some((Edge::Top, 0.05)),
        rotation_deg: 4.0,
        shadow: 0.2,
        quality: 88,
        ..PhoneOptions::straight()
    };
    photograph(page, &fills, &options, &mut rng)
}

#[divan::bench(sample_count = 5)]
fn read_one_12_mp_photo(bencher: divan::Bencher) {
    let jpeg = photographed_12_mp();
    let thresholds = Thresholds::default();
    bencher.bench(|| {
        let image = sheets::photo::decode(&jpeg).expect("a photo");
        let read = read_page(&image, &thresholds).expect("a readable page");
        assert_eq!(read.rows.len(), 27);
    });
}

#[divan::bench(sample_count = 5)]
fn print_a_sheet_of_60_students(bencher: divan::Bencher) {
    let info = SheetInfo {
        session_id: "bench-session".into(),
        course_id: "BENCH".into(),
        course_title: "Benchmark course".into(),
        session_title: "Lecture 1".into(),
        starts_at: chrono::DateTime::UNIX_EPOCH,
        roster: (1..=60)
            .map(|n| RosterEntry {
                student_id: format!("S{n:03}"),
                name: Some(format!("Zoë Ødegård {n}")),
            })
            .collect(),
    };
    bencher.bench(|| sheets::generate::sheet_pdf(&info).expect("a sheet"));
}
