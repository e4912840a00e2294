//! The reader's pure pieces, and whole pages drawn with plain squares and discs.

use super::*;
use crate::layout::{FIDUCIAL_SIDE, Layout, PAGE_HEIGHT, PAGE_WIDTH, QR_RECT, fiducial_centres};
use image::Luma;

const SCALE: f32 = 2.5;

fn blank() -> GrayImage {
    let (w, h) = ((PAGE_WIDTH * SCALE) as u32, (PAGE_HEIGHT * SCALE) as u32);
    GrayImage::from_pixel(w, h, Luma([240]))
}

/// Paints the points `(x, y)` (pt) for which `inside` holds within the given box.
fn paint(
    image: &mut GrayImage,
    (x0, y0, x1, y1): (f32, f32, f32, f32),
    inside: impl Fn(f32, f32) -> bool,
) {
    let t = Affine::nominal(SCALE);
    let (u0, v1) = t.apply((x0, y0));
    let (u1, v0) = t.apply((x1, y1));
    for v in v0 as u32..v1 as u32 + 1 {
        for u in u0 as u32..u1 as u32 + 1 {
            let (x, y) = (
                (u as f32 + 0.5) / SCALE,
                PAGE_HEIGHT - (v as f32 + 0.5) / SCALE,
            );
            if inside(x, y) {
                image.put_pixel(u, v, Luma([25]));
            }
        }
    }
}

fn with_fiducials() -> GrayImage {
    let mut image = blank();
    for (cx, cy) in fiducial_centres() {
        let half = FIDUCIAL_SIDE / 2.0;
        paint(
            &mut image,
            (cx - half, cy - half, cx + half, cy + half),
            |_, _| true,
        );
    }
    image
}

fn with_qr(mut image: GrayImage, text: &str) -> GrayImage {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .expect("a short text fits");
    let n = code.width();
    let colors = code.to_colors();
    let (left, bottom, size) = QR_RECT;
    let module = size / (n + 8) as f32;
    paint(
        &mut image,
        (left, bottom, left + size, bottom + size),
        |x, y| {
            let col = ((x - left) / module).floor() as i64 - 4;
            let row = ((bottom + size - y) / module).floor() as i64 - 4;
            (0..n as i64).contains(&col)
                && (0..n as i64).contains(&row)
                && colors[row as usize * n + col as usize] == qrcode::Color::Dark
        },
    );
    image
}

/// Prints the bubbles' rings of the first `rows` rows, as a sheet has them.
fn print_rings(image: &mut GrayImage, rows: usize) {
    for b in (0..rows).flat_map(layout::row_bubbles) {
        let reach = b.r + layout::BUBBLE_OUTLINE;
        paint(
            image,
            (b.x - reach, b.y - reach, b.x + reach, b.y + reach),
            |x, y| ((x - b.x).hypot(y - b.y) - b.r).abs() <= layout::BUBBLE_OUTLINE / 2.0,
        );
    }
}

fn fill_bubble(image: &mut GrayImage, row: usize, column: usize) {
    let b = layout::row_bubbles(row)[column];
    paint(
        image,
        (b.x - b.r, b.y - b.r, b.x + b.r, b.y + b.r),
        |x, y| (x - b.x).hypot(y - b.y) <= b.r,
    );
}

#[test]
fn scores_are_decided_by_the_two_thresholds() {
    let t = Thresholds {
        empty_below: 0.1,
        filled_above: 0.4,
    };
    assert_eq!(t.decide(0.02), BubbleDecision::Empty);
    assert_eq!(t.decide(0.25), BubbleDecision::Unsure);
    assert_eq!(t.decide(0.9), BubbleDecision::Filled);
    assert_eq!(t.certainty(0.25), 0.0);
    assert_eq!(t.certainty(0.0), 1.0);
    assert!((t.certainty(0.7) - 0.5).abs() < 1e-6);
}

#[test]
fn a_row_is_recorded_only_when_it_is_unambiguous() {
    use BubbleDecision::{Empty as E, Filled as F, Unsure as U};
    assert_eq!(decide_row([E, F, E]), RowDecision::Mark(Status::Late));
    assert_eq!(decide_row([E, E, E]), RowDecision::Absent);
    assert_eq!(
        decide_row([F, E, F]),
        RowDecision::Held(HoldReason::SeveralFilled)
    );
    assert_eq!(
        decide_row([F, U, F]),
        RowDecision::Held(HoldReason::SeveralFilled)
    );
    assert_eq!(decide_row([F, U, E]), RowDecision::Held(HoldReason::Unsure));
    assert_eq!(decide_row([E, E, U]), RowDecision::Held(HoldReason::Unsure));
}

#[test]
fn hold_reasons_read_as_sentences() {
    assert_eq!(
        HoldReason::SeveralFilled.to_string(),
        "two or more bubbles filled"
    );
    assert_eq!(
        HoldReason::Unsure.to_string(),
        "a bubble is neither clearly filled nor clearly empty"
    );
}

#[test]
fn a_blank_page_has_no_corner_marks() {
    assert_eq!(
        read_page(&blank(), &Thresholds::default()).err(),
        Some(ReadError::NoFiducials)
    );
}

#[test]
fn noise_has_no_corner_marks() {
    let mut state = 0x2545_f491_u32;
    let noise = GrayImage::from_fn(1240, 1754, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        Luma([(state >> 24) as u8])
    });
    assert_eq!(
        read_page(&noise, &Thresholds::default()).err(),
        Some(ReadError::NoFiducials)
    );
}

#[test]
fn corner_marks_without_a_qr_code_are_refused() {
    let mut image = with_fiducials();
    fill_bubble(&mut image, 0, 0);
    assert_eq!(
        read_page(&image, &Thresholds::default()).err(),
        Some(ReadError::NoQr)
    );
}

#[test]
fn a_foreign_qr_code_is_refused() {
    let image = with_qr(with_fiducials(), "https://example.com/not-a-sheet");
    assert_eq!(
        read_page(&image, &Thresholds::default()).err(),
        Some(ReadError::Qr(QrError::Foreign))
    );
}

#[test]
fn a_drawn_page_reads_back_either_way_up() {
    let ids: Vec<String> = (1..=5).map(|i| format!("S{i:03}")).collect();
    let layout = Layout::new("CS101-2026-09-01", &ids);
    let qr = &layout.pages[0].qr;
    let mut image = with_qr(with_fiducials(), &qr.to_string());
    print_rings(&mut image, 5);
    fill_bubble(&mut image, 0, 0);
    fill_bubble(&mut image, 2, 2);
    fill_bubble(&mut image, 3, 0);
    fill_bubble(&mut image, 3, 1);
    let expected = [
        RowDecision::Mark(Status::Present),
        RowDecision::Absent,
        RowDecision::Mark(Status::Excused),
        RowDecision::Held(HoldReason::SeveralFilled),
        RowDecision::Absent,
    ];
    for turned in [false, true] {
        let scan = if turned {
            image::imageops::rotate180(&image)
        } else {
            image.clone()
        };
        let read = read_page(&scan, &Thresholds::default()).expect("a readable page");
        assert_eq!(&read.qr, qr);
        assert_eq!(read.upside_down, turned);
        let decisions: Vec<_> = read.rows.iter().map(|r| r.decision).collect();
        assert_eq!(decisions, expected);
        assert!(read.rotation_deg.abs() < 0.5);
        let png = annotate_png(&read);
        assert!(png.starts_with(b"\x89PNG"));
    }
}

#[test]
fn the_picture_rings_bubbles_by_decision_and_shades_held_rows_amber() {
    // What the README promises of the job's page picture: green rings for filled bubbles,
    // light blue for empty ones, and a held row shaded amber.
    let ids: Vec<String> = (1..=3).map(|i| format!("S{i:03}")).collect();
    let layout = Layout::new("CS101-2026-09-01", &ids);
    let mut image = with_qr(with_fiducials(), &layout.pages[0].qr.to_string());
    print_rings(&mut image, 3);
    fill_bubble(&mut image, 0, 0);
    fill_bubble(&mut image, 1, 0);
    fill_bubble(&mut image, 1, 1);
    let read = read_page(&image, &Thresholds::default()).expect("a readable page");
    assert!(matches!(read.rows[1].decision, RowDecision::Held(_)));
    let picture = image::load_from_memory(&annotate_png(&read))
        .expect("a PNG")
        .to_rgb8();
    let count = |wanted: fn(&[u8; 3]) -> bool| picture.pixels().filter(|p| wanted(&p.0)).count();
    assert!(count(|p| *p == [0, 160, 60]) > 0, "green rings");
    assert!(count(|p| *p == [150, 180, 235]) > 0, "light blue rings");
    // Amber over white paper: 255 * 0.6 + (255, 200, 60) * 0.4 = (255, 233, 177).
    let amber = |p: &[u8; 3]| {
        p.iter()
            .zip([255u8, 233, 177])
            .all(|(a, b)| a.abs_diff(b) <= 1)
    };
    assert!(count(amber) > 100, "an amber band");
}

#[test]
fn an_empty_row_whose_rings_are_not_seen_is_held_not_absent() {
    // Row 2's rings are missing (a shadow, a fold): its empty bubbles prove nothing.
    let ids: Vec<String> = (1..=3).map(|i| format!("S{i:03}")).collect();
    let layout = Layout::new("CS101-2026-09-01", &ids);
    let mut image = with_qr(with_fiducials(), &layout.pages[0].qr.to_string());
    print_rings(&mut image, 3);
    let b = layout::row_bubbles(1);
    let (x0, x1) = (b[0].x - 9.0, b[2].x + 9.0);
    let (y0, y1) = (b[0].y - 9.0, b[0].y + 9.0);
    let t = Affine::nominal(SCALE);
    let (u0, v0) = t.apply((x0, y1));
    let (u1, v1) = t.apply((x1, y0));
    for v in v0 as u32..v1 as u32 {
        for u in u0 as u32..u1 as u32 {
            image.put_pixel(u, v, Luma([240]));
        }
    }
    let read = read_page(&image, &Thresholds::default()).expect("a readable page");
    assert_eq!(read.rows[0].decision, RowDecision::Absent);
    assert_eq!(
        read.rows[1].decision,
        RowDecision::Held(HoldReason::RingNotSeen)
    );
    assert_eq!(read.rows[2].decision, RowDecision::Absent);
    assert!(
        read.rows[1]
            .bubbles
            .iter()
            .all(|b| b.ring_offset_pt.is_none())
    );
    let offset = read.rows[0].bubbles[0].ring_offset_pt.expect("seen");
    assert!(offset.0.abs() < 0.5 && offset.1.abs() < 0.5, "{offset:?}");
}
