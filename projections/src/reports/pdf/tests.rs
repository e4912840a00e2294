//! Renders each report and reads the PDF back with lopdf: pages, page sizes, and the text
//! of every text object (decoded through the fonts' ToUnicode maps) with its position.
//!
//! Set `ATTENDANCE_PDF_DUMP=/some/dir` to also write the PDFs there (to look at them).

use super::PdfFormat;
use crate::reports::config::{Orientation, PageSize, ReportConfig};
use crate::reports::model::{AtRiskRow, CourseReportRow, ReportSession, StudentReportRow, letter};
use crate::reports::{AtRiskReport, CourseReport, ReportFormat, RiskLevel, StudentReport};
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::{Status, Tally};
use lopdf::{Document, Encoding, Object};
use std::collections::{BTreeMap, HashSet};

/// A text object: where it starts and what it says.
#[derive(Debug, Clone)]
struct Frag {
    x: f32,
    y: f32,
    text: String,
}

/// What a PDF says, page by page.
struct Read {
    /// Text objects per page.
    pages: Vec<Vec<Frag>>,
    /// Page sizes (pt).
    sizes: Vec<(f32, f32)>,
    /// Font resource names used per page.
    fonts: Vec<Vec<String>>,
    /// Fill colours (`rg`) set per page.
    fills: Vec<Vec<(f32, f32, f32)>>,
}

impl Read {
    fn texts(&self) -> HashSet<&str> {
        self.pages
            .iter()
            .flatten()
            .map(|f| f.text.as_str())
            .collect()
    }

    fn has(&self, text: &str) -> bool {
        self.pages.iter().flatten().any(|f| f.text == text)
    }

    fn page_has(&self, page: usize, text: &str) -> bool {
        self.pages[page].iter().any(|f| f.text == text)
    }
}

fn number(o: &Object) -> f32 {
    o.as_float().unwrap_or(0.0)
}

fn read(bytes: &[u8]) -> Read {
    let doc = Document::load_mem(bytes).expect("a readable PDF");
    let mut out = Read {
        pages: Vec::new(),
        sizes: Vec::new(),
        fonts: Vec::new(),
        fills: Vec::new(),
    };
    for (_, page_id) in doc.get_pages() {
        let page = doc.get_dictionary(page_id).unwrap();
        let media = page.get(b"MediaBox").unwrap().as_array().unwrap();
        out.sizes.push((number(&media[2]), number(&media[3])));
        let fonts = doc.get_page_fonts(page_id).unwrap();
        out.fonts.push(
            fonts
                .keys()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect(),
        );
        let encodings: BTreeMap<Vec<u8>, Encoding> = fonts
            .into_iter()
            .map(|(name, font)| (name, font.get_font_encoding(&doc).unwrap()))
            .collect();
        let content = doc.get_and_decode_page_content(page_id).unwrap();
        let mut frags = Vec::new();
        let mut fills = Vec::new();
        let mut encoding: Option<&Encoding> = None;
        let mut frag: Option<Frag> = None;
        for op in &content.operations {
            let operands = &op.operands;
            match op.operator.as_str() {
                "BT" => {
                    frag = Some(Frag {
                        x: 0.0,
                        y: 0.0,
                        text: String::new(),
                    })
                }
                "Tf" => {
                    encoding = operands
                        .first()
                        .and_then(|o| o.as_name().ok())
                        .and_then(|n| encodings.get(n));
                }
                "Tm" => {
                    if let Some(f) = frag.as_mut().filter(|f| f.text.is_empty()) {
                        f.x = number(&operands[4]);
                        f.y = number(&operands[5]);
                    }
                }
                "Tj" | "TJ" => {
                    let strings: Vec<&Object> = match operands.first() {
                        Some(Object::Array(items)) => items.iter().collect(),
                        Some(o) => vec![o],
                        None => vec![],
                    };
                    for s in strings {
                        if let (Ok(bytes), Some(enc), Some(f)) =
                            (s.as_str(), encoding, frag.as_mut())
                        {
                            f.text.push_str(&enc.bytes_to_string(bytes).unwrap());
                        }
                    }
                }
                "ET" => frags.extend(frag.take()),
                "rg" => fills.push((
                    number(&operands[0]),
                    number(&operands[1]),
                    number(&operands[2]),
                )),
                _ => {}
            }
        }
        out.pages.push(frags);
        out.fills.push(fills);
    }
    out
}

/// Writes a PDF under `$ATTENDANCE_PDF_DUMP` when set.
fn dump(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("ATTENDANCE_PDF_DUMP") {
        let _ = std::fs::write(format!("{dir}/{name}.pdf"), bytes);
    }
}

fn at(days: i64, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, hour, 0, 0).unwrap() + Duration::days(days)
}

const ZOE: &str = "Zoë Ñúñez";
const ARABIC: &str = "محمد العلي";
const CJK: &str = "李小龙";
const LONG: &str =
    "Maximiliana Alexandrina Konstantinopoulou-Vanderbilt-Featherstonehaugh the Third";

fn name_of(i: usize) -> Option<String> {
    match i {
        0 => Some(ZOE.into()),
        1 => Some(ARABIC.into()),
        2 => Some(CJK.into()),
        3 => None,
        4 => Some(LONG.into()),
        _ => Some(format!("Student Number {i}")),
    }
}

fn status_of(student: usize, session: usize) -> Option<Status> {
    match (student * 7 + session * 3) % 11 {
        0..=4 => Some(Status::Present),
        5 | 6 => Some(Status::Late),
        7 => Some(Status::Excused),
        8 | 9 => Some(Status::Absent),
        _ => None,
    }
}

fn add(t: &mut Tally, s: Option<Status>) {
    match s {
        Some(Status::Present) => t.present += 1,
        Some(Status::Late) => t.late += 1,
        Some(Status::Excused) => t.excused += 1,
        Some(Status::Absent) => t.absent += 1,
        None => {}
    }
}

fn rate_of(t: &Tally) -> Option<f64> {
    let counted = t.present + t.late + t.absent;
    (counted > 0).then(|| f64::from(t.present + t.late) * 100.0 / f64::from(counted))
}

fn course(students: usize, sessions: usize) -> CourseReport {
    let mut totals = vec![Tally::default(); sessions];
    let students = (0..students)
        .map(|i| {
            let statuses: Vec<Option<Status>> = (0..sessions).map(|j| status_of(i, j)).collect();
            let mut tally = Tally::default();
            for (j, s) in statuses.iter().enumerate() {
                add(&mut tally, *s);
                add(&mut totals[j], *s);
            }
            let rate = rate_of(&tally);
            CourseReportRow {
                student_id: format!("S{:05}", i + 1),
                name: name_of(i),
                statuses,
                tally,
                rate,
                at_risk: rate.is_some_and(|r| r < 75.0),
            }
        })
        .collect();
    CourseReport {
        course_id: "CS101".into(),
        course_name: "Introduction to Programming".into(),
        generated_at: at(100, 10),
        as_of: Some(at(90, 0)),
        threshold: 75.0,
        sessions: (0..sessions)
            .map(|j| ReportSession {
                session_id: format!("sess-{j}"),
                title: format!("Lecture {}", j + 1),
                starts_at: at(j as i64 * 2, 9),
                local_start: at(j as i64 * 2, 9).naive_utc(),
            })
            .collect(),
        students,
        session_totals: totals,
    }
}

fn format() -> PdfFormat {
    PdfFormat::new(&ReportConfig::embedded())
}

fn format_with(page_size: PageSize, orientation: Orientation) -> PdfFormat {
    let mut config = ReportConfig::embedded();
    config.pdf.page_size = page_size;
    config.pdf.orientation = orientation;
    PdfFormat::new(&config)
}

#[test]
fn course_register_small() {
    let report = course(8, 6);
    let bytes = format().render_course(&report).unwrap();
    dump("course-small", &bytes);
    assert!(bytes.starts_with(b"%PDF"));
    let pdf = read(&bytes);
    assert_eq!(pdf.pages.len(), 1);
    let (w, h) = pdf.sizes[0];
    assert!(
        (w - 595.3).abs() < 1.0 && (h - 841.9).abs() < 1.0,
        "A4 portrait"
    );
    assert!(pdf.has("Page 1 of 1"));
    assert!(pdf.has("CS101 — Introduction to Programming"));
    assert!(pdf.has("Student ID") && pdf.has("Rate %") && pdf.has("At risk"));
    assert!(pdf.has("2025-01-06 09:00") && pdf.has("Lecture 6"));
    for s in &report.students {
        assert!(pdf.has(&s.student_id), "{}", s.student_id);
        assert!(pdf.has(&super::rate(s.rate)), "rate of {}", s.student_id);
    }
    // Every mark of a row is in that row (same baseline), left to right in session order.
    for s in &report.students {
        let id = pdf.pages[0]
            .iter()
            .find(|f| f.text == s.student_id)
            .unwrap();
        let mut row: Vec<&Frag> = pdf.pages[0]
            .iter()
            .filter(|f| (f.y - id.y).abs() < 0.5 && f.x > id.x)
            .collect();
        row.sort_by(|a, b| a.x.total_cmp(&b.x));
        let texts: Vec<&str> = row.iter().map(|f| f.text.as_str()).collect();
        let letters: Vec<&str> = s
            .statuses
            .iter()
            .map(|st| letter(*st))
            .filter(|l| !l.is_empty())
            .collect();
        let t = s.tally;
        let mut expected: Vec<String> = letters.iter().map(|l| l.to_string()).collect();
        expected.extend([t.present, t.late, t.excused, t.absent].map(|n| n.to_string()));
        expected.push(super::rate(s.rate));
        expected.push(super::yes_no(s.at_risk).into());
        // The name comes first (when there is one).
        let tail = &texts[texts.len() - expected.len()..];
        assert_eq!(
            tail,
            expected.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }
    for l in ["P", "L", "E", "A"] {
        assert!(pdf.has(l), "letter {l}");
    }
    // Totals per session, legend.
    assert!(pdf.has("Total present") && pdf.has("Total absent"));
    assert!(
        pdf.texts()
            .iter()
            .any(|t| t.starts_with("P present · L late"))
    );
    // Names: Latin with diacritics and CJK read back as they are; Arabic in visual order.
    assert!(pdf.has(ZOE));
    assert!(pdf.has(CJK));
    let arabic_visual: String = ARABIC.chars().rev().collect();
    assert!(pdf.has(&arabic_visual));
    // Cut with an ellipsis, never clipped.
    assert!(
        pdf.texts()
            .iter()
            .any(|t| t.starts_with("Maximiliana") && t.ends_with('…'))
    );
    // DejaVu regular, bold and Droid Sans Fallback are all embedded.
    for font in ["F0", "F1", "F2"] {
        assert!(pdf.fonts[0].iter().any(|f| f == font), "{font}");
    }
    // At-risk rows are filled with their level's colour.
    let colours = ReportConfig::embedded().colours;
    for s in report.students.iter().filter(|s| s.at_risk) {
        let (r, g, b) = colours.rgb(RiskLevel::of(s.rate.unwrap()));
        let want = (
            f32::from(r) / 255.0,
            f32::from(g) / 255.0,
            f32::from(b) / 255.0,
        );
        assert!(
            pdf.fills[0].iter().any(|c| (c.0 - want.0).abs() < 0.01
                && (c.1 - want.1).abs() < 0.01
                && (c.2 - want.2).abs() < 0.01),
            "fill of {}",
            s.student_id
        );
    }
    assert!(report.students.iter().any(|s| s.at_risk));
    // The same report gives the same bytes (but for the random file ID in the trailer).
    let again = format().render_course(&report).unwrap();
    let body = |b: &[u8]| b[..b.windows(7).rposition(|w| w == b"trailer").unwrap()].to_vec();
    assert_eq!(body(&again), body(&bytes));
    // Subset fonts keep the file small.
    eprintln!("course register 8 x 6: {} bytes", bytes.len());
    assert!(bytes.len() < 150_000, "{} bytes", bytes.len());
}

#[test]
fn course_register_500_students_60_sessions() {
    let report = course(500, 60);
    let started = std::time::Instant::now();
    let bytes = format().render_course(&report).unwrap();
    let elapsed = started.elapsed();
    eprintln!(
        "course register 500 x 60: {} bytes, rendered in {:?}",
        bytes.len(),
        elapsed
    );
    dump("course-500x60", &bytes);
    let pdf = read(&bytes);
    let n = pdf.pages.len();
    eprintln!("course register 500 x 60: {n} pages");
    assert!(n > 3);
    for (i, page) in pdf.pages.iter().enumerate() {
        let (w, h) = pdf.sizes[i];
        assert!(w > h, "landscape");
        assert!(pdf.page_has(i, &format!("Page {} of {n}", i + 1)));
        assert!(
            pdf.page_has(i, "Student ID"),
            "header row on page {}",
            i + 1
        );
        assert!(pdf.page_has(i, "Name"));
        let dates = page.iter().filter(|f| f.text.starts_with("2025-")).count();
        assert!((1..=20).contains(&dates), "{dates} session columns");
        // Nothing drawn outside the page.
        assert!(
            page.iter()
                .all(|f| f.x >= 0.0 && f.x <= w && f.y >= 0.0 && f.y <= h)
        );
    }
    let texts = pdf.texts();
    for s in &report.students {
        assert!(texts.contains(s.student_id.as_str()), "{}", s.student_id);
        assert!(texts.contains(super::rate(s.rate).as_str()));
    }
    // Every session column appears (its date), the figures once per block of rows.
    for s in &report.sessions {
        assert!(texts.contains(s.starts_at.format("%Y-%m-%d %H:%M").to_string().as_str()));
    }
    let figure_pages = (0..n).filter(|&i| pdf.page_has(i, "Rate %")).count();
    assert_eq!(figure_pages * 3, n, "three slices per block of rows");
    // Each student id is on exactly three pages (one per slice).
    let pages_with_first = (0..n).filter(|&i| pdf.page_has(i, "S00001")).count();
    assert_eq!(pages_with_first, 3);
    // The totals per session, read along each totals row of the last block's pages.
    for (k, label) in [
        "Total present",
        "Total late",
        "Total excused",
        "Total absent",
    ]
    .iter()
    .enumerate()
    {
        let mut got = Vec::new();
        for page in &pdf.pages[n - 3..] {
            let row = page.iter().find(|f| f.text == *label).unwrap();
            let mut cells: Vec<&Frag> = page
                .iter()
                .filter(|f| (f.y - row.y).abs() < 0.5 && f.x > row.x)
                .collect();
            cells.sort_by(|a, b| a.x.total_cmp(&b.x));
            got.extend(cells.iter().map(|f| f.text.clone()));
        }
        let want: Vec<String> = report
            .session_totals
            .iter()
            .map(|t| [t.present, t.late, t.excused, t.absent][k].to_string())
            .collect();
        assert_eq!(got, want, "{label}");
    }
}

fn student() -> StudentReport {
    let rows = (0..5)
        .map(|i| StudentReportRow {
            date: at(i * 7, 9).date_naive(),
            starts_at: at(i * 7, 9),
            title: format!("Seminar {}", i + 1),
            status: [
                Some(Status::Present),
                Some(Status::Late),
                Some(Status::Excused),
                Some(Status::Absent),
                None,
            ][i as usize],
            recorded_at: (i < 4).then(|| at(i * 7, 10)),
            recorded_by: (i < 4).then(|| "teacher.ana".to_string()),
            corrected: i == 3,
            correction_reason: (i == 3).then(|| "doctor's note arrived late".to_string()),
        })
        .collect();
    StudentReport {
        student_id: "S00042".into(),
        name: Some(ARABIC.into()),
        course_id: "MA201".into(),
        course_name: "Linear Algebra 李".into(),
        generated_at: at(60, 12),
        as_of: None,
        tally: Tally {
            present: 1,
            late: 1,
            excused: 1,
            absent: 1,
        },
        rate: Some(66.666_666),
        at_risk: true,
        rows,
    }
}

#[test]
fn student_report() {
    let report = student();
    let bytes = format().render_student(&report).unwrap();
    dump("student", &bytes);
    let pdf = read(&bytes);
    assert_eq!(pdf.pages.len(), 1);
    let (w, h) = pdf.sizes[0];
    assert!(w < h, "portrait");
    assert!(pdf.has("Page 1 of 1"));
    let title: String = format!("{ARABIC} (S00042)");
    assert!(
        pdf.pages[0].iter().any(|f| f.text.contains("S00042")),
        "{title}"
    );
    assert!(pdf.has("MA201 — Linear Algebra 李"));
    assert!(
        pdf.has(
            "Present 1 · Late 1 · Excused 1 · Absent 1 · Rate 66.67 % · At risk: yes (moderate)"
        )
    );
    for text in [
        "2025-01-06",
        "Seminar 1",
        "present",
        "late",
        "excused",
        "absent",
        "2025-01-27 10:00",
        "teacher.ana",
        "yes: doctor's note arrived late",
        "no",
        "Recorded at (UTC)",
    ] {
        assert!(pdf.has(text), "{text}");
    }
    // A long roster of sessions goes over several pages, header repeated.
    let mut long = student();
    let base = long.rows.clone();
    long.rows = (0..200).map(|i| base[i % 5].clone()).collect();
    let pdf = read(&format().render_student(&long).unwrap());
    let n = pdf.pages.len();
    assert!(n >= 3);
    for i in 0..n {
        assert!(pdf.page_has(i, &format!("Page {} of {n}", i + 1)));
        assert!(pdf.page_has(i, "Recorded by"));
    }
    let rows = pdf
        .pages
        .iter()
        .flatten()
        .filter(|f| f.text.starts_with("Seminar"))
        .count();
    assert_eq!(rows, 200);
}

fn at_risk_report(rows: usize) -> AtRiskReport {
    AtRiskReport {
        course_id: None,
        threshold: 75.0,
        generated_at: at(30, 8),
        as_of: Some(at(29, 0)),
        rows: (0..rows)
            .map(|i| {
                let rate = 40.0 + i as f64 * 0.5;
                AtRiskRow {
                    course_id: if i % 2 == 0 { "CS101" } else { "MA201" }.into(),
                    student_id: format!("S{:05}", i + 1),
                    name: name_of(i),
                    tally: Tally {
                        present: 10 + i as u32,
                        late: 2,
                        excused: 1,
                        absent: 9,
                    },
                    rate,
                    level: RiskLevel::of(rate),
                }
            })
            .collect(),
    }
}

#[test]
fn at_risk_report_pages_and_colours() {
    let report = at_risk_report(70);
    let bytes = format().render_at_risk(&report).unwrap();
    dump("at-risk", &bytes);
    let pdf = read(&bytes);
    let n = pdf.pages.len();
    assert_eq!(n, 2);
    assert!(pdf.has("Students at risk — all courses"));
    assert!(pdf.has("Page 1 of 2") && pdf.has("Page 2 of 2"));
    assert!(pdf.page_has(1, "Student ID"));
    for row in &report.rows {
        assert!(pdf.has(&row.student_id));
        assert!(pdf.has(&format!("{:.2}", row.rate)));
    }
    for text in ["critical", "high", "moderate", "40.00", "19", ZOE, CJK] {
        assert!(pdf.has(text), "{text}");
    }
    let colours = ReportConfig::embedded().colours;
    for level in [RiskLevel::Critical, RiskLevel::High, RiskLevel::Moderate] {
        let (r, g, b) = colours.rgb(level);
        let want = (
            f32::from(r) / 255.0,
            f32::from(g) / 255.0,
            f32::from(b) / 255.0,
        );
        assert!(
            pdf.fills
                .iter()
                .flatten()
                .any(|c| (c.0 - want.0).abs() < 0.01
                    && (c.1 - want.1).abs() < 0.01
                    && (c.2 - want.2).abs() < 0.01)
        );
    }
}

#[test]
fn empty_and_odd_inputs_render() {
    let f = format();
    // No students, no sessions.
    let empty = course(0, 0);
    let pdf = read(&f.render_course(&empty).unwrap());
    assert_eq!(pdf.pages.len(), 1);
    assert!(pdf.has("No students") && pdf.has("Page 1 of 1"));
    // Sessions but no students; students but no sessions.
    let pdf = read(&f.render_course(&course(0, 30)).unwrap());
    assert!(pdf.has("Total present"));
    let pdf = read(&f.render_course(&course(3, 0)).unwrap());
    assert!(pdf.has("S00003") && pdf.has("Rate %"));
    // Rows shorter than the sessions, missing totals, odd names and figures.
    let mut odd = course(3, 5);
    odd.students[0].statuses.truncate(2);
    odd.session_totals.clear();
    odd.students[1].name = Some("a\nb\tc\u{0}\u{202E}d".into());
    odd.students[2].name = Some("x".repeat(50_000));
    odd.students[2].rate = Some(f64::NAN);
    odd.students[2].at_risk = true;
    odd.course_name = "🙂 ".repeat(500);
    assert!(f.render_course(&odd).is_ok());
    // Names from anywhere in Unicode go through the whole pipeline.
    let mut seed: u32 = 7;
    let mut random = course(40, 3);
    for s in &mut random.students {
        let name: String = (0..10)
            .filter_map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                char::from_u32((seed >> 8) % 0x3_0000)
            })
            .collect();
        s.name = Some(name);
    }
    let pdf = read(&f.render_course(&random).unwrap());
    assert!(pdf.has("S00040"));
    // Student with nothing.
    let mut nothing = student();
    nothing.rows.clear();
    nothing.name = None;
    nothing.rate = None;
    let pdf = read(&f.render_student(&nothing).unwrap());
    assert!(pdf.has("No sessions"));
    // No one at risk.
    let pdf = read(&f.render_at_risk(&at_risk_report(0)).unwrap());
    assert!(pdf.has("No students at risk") && pdf.has("0 students, lowest rate first"));
}

#[test]
fn page_size_and_orientation_follow_the_configuration() {
    let small = course(3, 12);
    let wide = course(3, 13);
    let size = |f: &PdfFormat, r: &CourseReport| read(&f.render_course(r).unwrap()).sizes[0];
    let auto = format_with(PageSize::A4, Orientation::Auto);
    let (w, h) = size(&auto, &small);
    assert!(w < h, "12 sessions: portrait");
    let (w, h) = size(&auto, &wide);
    assert!(w > h, "13 sessions: landscape");
    let letter = format_with(PageSize::Letter, Orientation::Landscape);
    let (w, h) = size(&letter, &small);
    assert!((w - 792.0).abs() < 1.0 && (h - 612.0).abs() < 1.0);
    let portrait = format_with(PageSize::Letter, Orientation::Portrait);
    let pdf = read(&portrait.render_course(&course(4, 60)).unwrap());
    assert!(
        pdf.sizes
            .iter()
            .all(|(w, h)| (w - 612.0).abs() < 1.0 && h > w)
    );
    // Portrait holds fewer sessions per page, but every session is still there.
    for j in 0..60 {
        assert!(pdf.has(&at(j * 2, 9).format("%Y-%m-%d %H:%M").to_string()));
    }
    let at_risk = read(&letter.render_at_risk(&at_risk_report(3)).unwrap());
    assert!(at_risk.sizes[0].0 > at_risk.sizes[0].1);
}
