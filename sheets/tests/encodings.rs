//! Every encoding a scanner's PDF may use reads every mark: each fixture is the same filled
//! sheet, stored the way copiers store pages, in files written by other tools (Pillow,
//! img2pdf, libtiff; `fixtures/make.py` regenerates them, `fixtures/README.md` says how).

use std::path::Path;

use domain::Status;
use sheets::document::{Options, read_pages};
use sheets::input::Limits;
use sheets::omr::{RowDecision, Thresholds};

/// What each row of `fixtures/sheet.png` holds, from `fixtures/rows.txt`.
fn expected_rows() -> Vec<RowDecision> {
    let rows = std::fs::read_to_string(fixture_path("rows.txt")).expect("rows.txt is there");
    rows.lines()
        .map(|row| match row {
            "present" => RowDecision::Mark(Status::Present),
            "late" => RowDecision::Mark(Status::Late),
            "excused" => RowDecision::Mark(Status::Excused),
            "absent" => RowDecision::Absent,
            other => panic!("rows.txt has an unknown row {other:?}"),
        })
        .collect()
}

fn fixture_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The fixture's bytes, checked to hold the encoding the test is about.
fn fixture(name: &str, encodings: &[&str]) -> Vec<u8> {
    let bytes = std::fs::read(fixture_path(name)).expect("the fixture is there");
    for encoding in encodings {
        assert!(
            bytes
                .windows(encoding.len())
                .any(|w| w == encoding.as_bytes()),
            "{name} does not hold {encoding}"
        );
    }
    bytes
}

/// Reads the fixture's one page as the import does, and returns its rows' decisions.
fn rows_read(name: &str, encodings: &[&str]) -> Vec<RowDecision> {
    let bytes = fixture(name, encodings);
    let options = Options {
        dpi: 150.0,
        pictures: false,
        workers: 1,
    };
    let mut rows = Vec::new();
    let pages = read_pages(
        &bytes,
        Limits::default(),
        options,
        &Thresholds::default(),
        |page| {
            let read = page
                .read
                .unwrap_or_else(|e| panic!("{name}: {} ({})", e.detail, e.code));
            assert_eq!(read.qr.session_id, "fixture-session-26", "{name}");
            rows = read.rows.iter().map(|row| row.decision).collect();
        },
    )
    .unwrap_or_else(|e| panic!("{name} opens: {e}"));
    assert_eq!(pages, 1, "{name}");
    rows
}

fn assert_every_mark_read(name: &str, encodings: &[&str]) {
    let expected = expected_rows();
    assert_eq!(expected.len(), 12, "the fixture sheet has 12 rows");
    assert_eq!(rows_read(name, encodings), expected, "{name}");
}

#[test]
fn a_jpeg_2000_scan_reads_every_mark() {
    assert_every_mark_read("jpx.pdf", &["/JPXDecode"]);
}

#[test]
fn a_jbig2_scan_reads_every_mark() {
    assert_every_mark_read("jbig2.pdf", &["/JBIG2Decode"]);
}

#[test]
fn a_jbig2_scan_with_global_segments_reads_every_mark() {
    assert_every_mark_read("jbig2-globals.pdf", &["/JBIG2Decode", "/JBIG2Globals"]);
}

#[test]
fn a_jbig2_ink_mask_over_a_jpeg_background_reads_every_mark() {
    assert_every_mark_read(
        "mrc-jbig2-mask.pdf",
        &["/JBIG2Decode", "/ImageMask true", "/DCTDecode"],
    );
}

#[test]
fn ink_in_a_soft_mask_over_a_jpeg_background_reads_every_mark() {
    assert_every_mark_read("mrc-smask.pdf", &["/SMask", "/DCTDecode"]);
}

#[test]
fn a_cmyk_jpeg_scan_reads_every_mark() {
    assert_every_mark_read("cmyk-jpeg.pdf", &["/DeviceCMYK", "/DCTDecode"]);
}

#[test]
fn a_16_bit_grey_png_scan_reads_every_mark() {
    assert_every_mark_read("grey16-png.pdf", &["/BitsPerComponent 16", "/DeviceGray"]);
}

#[test]
fn an_indexed_colour_scan_reads_every_mark() {
    assert_every_mark_read("indexed-png.pdf", &["/Indexed"]);
}

#[test]
fn an_icc_colour_scan_reads_every_mark() {
    assert_every_mark_read("icc-png.pdf", &["/ICCBased"]);
}
