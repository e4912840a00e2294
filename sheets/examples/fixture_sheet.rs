//! Writes `sheet.png` and `rows.txt` for the scanner-encoding fixtures
//! (`sheets/tests/fixtures`): a 100 dpi ideal scan of a 12-student sheet whose rows are in
//! turn present, late, excused and absent, in solid marks.
//!
//! `cargo run -p attendance-sheets --example fixture_sheet -- sheets/tests/fixtures`

use rand::SeedableRng;
use rand::rngs::StdRng;
use sheets::Layout;
use sheets::simulate::{Fill, ScanOptions, scan_page};

const ROWS: [&str; 4] = ["present", "late", "excused", "absent"];

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let ids: Vec<String> = (1..=12).map(|n| format!("FX{n:03}")).collect();
    let layout = Layout::new("fixture-session-26", &ids);
    let page = &layout.pages[0];
    let fills: Vec<[Fill; 3]> = (0..page.rows.len())
        .map(|i| {
            let mut row = [Fill::Empty; 3];
            if let Some(bubble) = row.get_mut(i % 4) {
                *bubble = Fill::Solid;
            }
            row
        })
        .collect();
    let rows: String = (0..page.rows.len())
        .map(|i| ROWS[i % 4].to_owned() + "\n")
        .collect();
    let mut rng = StdRng::seed_from_u64(26);
    let image = scan_page(page, &fills, &ScanOptions::ideal(100.0), &mut rng);
    let written = image
        .save(format!("{dir}/sheet.png"))
        .and_then(|()| std::fs::write(format!("{dir}/rows.txt"), rows).map_err(Into::into));
    if let Err(e) = written {
        eprintln!("cannot write the fixture: {e}");
        std::process::exit(1);
    }
}
