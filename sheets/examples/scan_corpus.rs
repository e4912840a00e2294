//! The scan-reading measurement of the README (issue 26): writes a corpus of the simulator's
//! pages as one PDF with their marks, then reads it as the import does, on one thread.
//!
//! ```sh
//! cargo run --release -p attendance-sheets --example scan_corpus -- make /tmp/mixed 1040
//! cargo run --release -p attendance-sheets --example scan_corpus -- make /tmp/jpeg 540 jpeg
//! cargo run --release -p attendance-sheets --example scan_corpus -- read /tmp/mixed
//! cargo run --release -p attendance-sheets --example scan_corpus -- images /tmp/mixed
//! ```
//!
//! `make DIR ROWS [jpeg|bitonal]` writes `DIR.pdf` and `DIR.fills` (every page in the
//! simulator's mix of encodings, or all in one); `read` prints pages/s, rows right, held and
//! wrong, and the process's peak RSS; `images` does the same for the page images alone.

use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use sheets::document::{Options, read_pages};
use sheets::input::{Limits, ScannedPdf};
use sheets::omr::Thresholds;
use sheets::simulate::{Encoding, Fill, RowFills, Tally, samples, wrap_pdf};

/// Fills as written to the `.fills` file: their index here.
const FILLS: [Fill; 7] = [
    Fill::Empty,
    Fill::Solid,
    Fill::Partial,
    Fill::Scribble,
    Fill::Tick,
    Fill::Pencil,
    Fill::Erased,
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["make", base, rows] => make(base, rows, None),
        ["make", base, rows, encoding] => make(base, rows, Some(encoding)),
        ["read", base] => read(base),
        ["images", base] => images(base),
        _ => fail("usage: make DIR ROWS [jpeg|bitonal] | read DIR | images DIR"),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

fn make(base: &str, rows: &str, encoding: Option<&str>) {
    let rows = rows.parse().unwrap_or_else(|_| fail("ROWS is a number"));
    let mut pages = Vec::new();
    let mut fills = String::new();
    for mut sample in samples(rows, &mut StdRng::seed_from_u64(0x5EE7_2026)) {
        sample.encoding = match encoding {
            Some("jpeg") => Encoding::Jpeg { quality: 75 },
            Some("bitonal") => Encoding::Bitonal,
            _ => sample.encoding,
        };
        let made = sample.make();
        for row in &made.fills {
            let codes: Vec<String> = row.iter().map(|f| code(*f).to_string()).collect();
            fills += &(codes.join(",") + ";");
        }
        fills += "\n";
        pages.push((made.image, sample.encoding));
    }
    let written = std::fs::write(format!("{base}.pdf"), wrap_pdf(pages))
        .and_then(|()| std::fs::write(format!("{base}.fills"), fills));
    if let Err(e) = written {
        fail(&format!("cannot write the corpus: {e}"));
    }
}

fn code(fill: Fill) -> usize {
    FILLS.iter().position(|&f| f == fill).unwrap_or(0)
}

fn read_fills(base: &str) -> Vec<Vec<RowFills>> {
    let text = std::fs::read_to_string(format!("{base}.fills"))
        .unwrap_or_else(|e| fail(&format!("cannot read {base}.fills: {e}")));
    let fill = |n: &str| FILLS[n.parse::<usize>().unwrap_or(0).min(FILLS.len() - 1)];
    text.lines()
        .map(|page| {
            page.split(';')
                .filter(|row| !row.is_empty())
                .map(|row| {
                    let mut cells = row.split(',').map(fill);
                    [(); 3].map(|()| cells.next().unwrap_or(Fill::Empty))
                })
                .collect()
        })
        .collect()
}

fn pdf(base: &str) -> Vec<u8> {
    std::fs::read(format!("{base}.pdf")).unwrap_or_else(|e| fail(&format!("{base}.pdf: {e}")))
}

fn read(base: &str) {
    let (bytes, fills) = (pdf(base), read_fills(base));
    let options = Options {
        dpi: 150.0,
        pictures: false,
        workers: 1,
    };
    let (mut tally, mut failed) = (Tally::default(), 0);
    let started = Instant::now();
    let pages = read_pages(
        &bytes,
        Limits::default(),
        options,
        &Thresholds::default(),
        |page| match (&page.read, fills.get(page.index)) {
            (Ok(read), Some(fills)) => tally.page(read, fills, &format!("page {}", page.index)),
            _ => failed += 1,
        },
    )
    .unwrap_or_else(|e| fail(&e.to_string()));
    let seconds = started.elapsed().as_secs_f64();
    let (right, held, wrong) = tally.rows.values().fold((0, 0, 0), |(r, h, w), t| {
        (r + t.right, h + t.held, w + t.wrong)
    });
    println!(
        "{pages} pages in {seconds:.2} s ({:.1} pages/s); rows right {right}, held {held}, \
         wrong {wrong}; pages unread {failed}; peak RSS {}",
        f64::from(pages as u32) / seconds,
        peak_rss()
    );
}

fn images(base: &str) {
    let bytes = pdf(base);
    let started = Instant::now();
    let doc = ScannedPdf::open(&bytes, Limits::default()).unwrap_or_else(|e| fail(&e.to_string()));
    let unread = (0..doc.page_count())
        .filter(|&i| doc.page_image(i, 150.0).is_err())
        .count();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} page images in {seconds:.2} s, {unread} unread; peak RSS {}",
        doc.page_count(),
        peak_rss()
    );
}

/// The process's peak resident set size, as Linux reports it.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_owned)
        })
        .map_or("unknown".into(), |l| {
            l.replace("VmHWM:", "").trim().to_owned()
        })
}
