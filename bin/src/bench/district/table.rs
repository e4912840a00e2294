//! The district run as a table: one column per size, then full over small.

use super::{CatchUp, District, SizeFigures};

fn mib(bytes: i64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Thousands separated by commas, as in the README's tables.
fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0.0 { format!("-{out}") } else { out }
}

fn ratio(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.2}")).unwrap_or_else(|| "-".into())
}

fn pair(a: Option<f64>, b: Option<f64>) -> String {
    format!("{} / {}", ratio(a), ratio(b))
}

fn waited(secs: Option<f64>) -> String {
    secs.map(|s| format!("{s:.1} s"))
        .unwrap_or_else(|| "gave up at 15 min".into())
}

fn relay(current: &CatchUp) -> String {
    match current.relay_secs {
        Some(s) => format!("{s:.1} s"),
        None => format!("gave up, {} pending", current.relay_pending),
    }
}

fn opt_mib(m: Option<f64>) -> String {
    m.map(|m| format!("{m:.0}")).unwrap_or_else(|| "n/a".into())
}

/// Rows of one size's figures, each with a label and a ratio.
struct Rows<'a> {
    out: String,
    small: &'a SizeFigures,
    full: &'a SizeFigures,
}

impl Rows<'_> {
    fn line(&mut self, label: &str, cell: impl Fn(&SizeFigures) -> String, ratio: String) {
        let (s, f) = (cell(self.small), cell(self.full));
        self.out
            .push_str(&format!("{label:<48} {s:>22} {f:>22} {ratio:>12}\n"));
    }
}

/// The printed table.
pub fn table(d: &District) -> String {
    let r = &d.ratios;
    let mut rows = Rows {
        out: String::new(),
        small: &d.small,
        full: &d.full,
    };
    rows.line(
        &format!("district, {} clients, scale {}", d.clients, d.scale),
        |f| f.plan.name.to_string(),
        "full/small".into(),
    );
    rows.line(
        "students / courses / sessions",
        |f| format!("{} / {} / {}", f.plan.students, f.plan.courses, f.sessions),
        String::new(),
    );
    rows.line(
        "events stored",
        |f| thousands(f.storage.events as f64),
        ratio(Some(
            d.full.storage.events as f64 / d.small.storage.events.max(1) as f64,
        )),
    );
    rows.line(
        "load (students over HTTP, courses direct)",
        |f| format!("{:.1} s", f.load_secs),
        String::new(),
    );
    rows.line(
        "1 roll calls of 200 over HTTP",
        |f| format!("{} marks/s", thousands(f.burst.marks_per_sec)),
        ratio(r.burst_marks_per_sec),
    );
    rows.line(
        "  marks, seconds, errors",
        |f| {
            let b = &f.burst;
            format!(
                "{}, {:.1} s, {}",
                thousands(b.marks as f64),
                b.secs,
                b.errors
            )
        },
        String::new(),
    );
    rows.line(
        "2 read models current after the burst",
        |f| waited(f.current.projectors_secs),
        ratio(r.projectors_current) + " *",
    );
    rows.line(
        "  relay checkpoint covers every event",
        |f| relay(&f.current),
        ratio(r.relay_current) + " *",
    );
    rows.line(
        "  early warning has evaluated every event",
        |f| match f.current.warnings_secs {
            Some(s) => format!(
                "{s:.1} s, {} crossings",
                thousands(f.current.crossings as f64)
            ),
            None => format!(
                "gave up, {} crossings",
                thousands(f.current.crossings as f64)
            ),
        },
        ratio(r.warnings_current) + " *",
    );
    rows.line(
        "3 rebuild of both read models",
        |f| format!("{:.1} s", f.offline.rebuild_secs),
        ratio(r.rebuild) + " *",
    );
    rows.line(
        "  events/s (each read model's counted)",
        |f| thousands(f.offline.rebuild_events_per_sec),
        String::new(),
    );
    rows.line(
        "4 replay --verify",
        |f| format!("{:.1} s", f.offline.verify_secs),
        ratio(r.verify) + " *",
    );
    rows.line(
        "  read models identical",
        |f| {
            if f.offline.verify.identical() {
                "yes"
            } else {
                "NO"
            }
            .into()
        },
        String::new(),
    );
    rows.line(
        "5 statistics + XLSX per course, 5 PDF",
        |f| {
            let reads = &f.reads;
            format!(
                "{} in {:.1} s, {} errors",
                reads.requests, reads.secs, reads.errors
            )
        },
        String::new(),
    );
    rows.line(
        "  server RSS after them / peak, MiB",
        |f| {
            format!(
                "{} / {}",
                opt_mib(f.reads.rss_mib),
                opt_mib(f.reads.peak_rss_mib)
            )
        },
        pair(r.rss, r.peak_rss),
    );
    rows.line(
        "  server RSS when current (before row 3)",
        |f| format!("{} MiB", opt_mib(f.current.rss_mib)),
        String::new(),
    );
    rows.line(
        "6 events table total / heap, MiB",
        |f| {
            format!(
                "{:.1} / {:.1}",
                mib(f.storage.total_bytes),
                mib(f.storage.heap_bytes)
            )
        },
        String::new(),
    );
    rows.line(
        "  indexes / TOAST, MiB",
        |f| {
            format!(
                "{:.1} / {:.1}",
                mib(f.storage.index_bytes),
                mib(f.storage.toast_bytes)
            )
        },
        String::new(),
    );
    rows.line(
        "  bytes per event total / heap",
        |f| {
            format!(
                "{:.0} / {:.0}",
                f.storage.total_per_event(),
                f.storage.heap_per_event()
            )
        },
        pair(r.total_bytes_per_event, r.heap_bytes_per_event),
    );
    rows.out.push_str(
        "* cost per event, full over small: 1.00 is linear, 2.00 twice the cost per event\n",
    );
    rows.out
}
