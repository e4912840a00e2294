//! `attendance sheet generate|read`: print a session's bubble sheet, or read a scanned PDF
//! offline (the same OMR as the API's import) and print the marks without recording them,
//! with `--session` also what importing them would do to that session's register.

mod preview;

use crate::config::Connections;
use crate::startup;
use anyhow::{Context, bail};
use api::app::store::Stores;
use api::app::{self, register};
use domain::SessionId;
use indicatif::{ProgressBar, ProgressStyle};
use sheets::document::{Options, read_files};
use sheets::input::Limits;
use sheets::omr::{RowDecision, Thresholds};
use std::collections::HashMap;
use std::path::PathBuf;

/// `attendance sheet ...`
#[derive(Debug, clap::Subcommand)]
pub enum SheetCommand {
    /// Write the printable A4 sheet of a session.
    Generate {
        /// Session id.
        #[arg(long)]
        session: String,
        /// Output PDF.
        #[arg(short = 'o', long)]
        output: PathBuf,
        /// Database.
        #[command(flatten)]
        connections: Connections,
    },
    /// Read scanned PDFs or phone photos and print what each page says (nothing is recorded).
    Read {
        /// The scanned PDFs and photos (JPEG or PNG, one page each), read as one upload,
        /// pages in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write each page, bubbles outlined by decision, as `page-<n>.png` here.
        #[arg(long)]
        png_dir: Option<PathBuf>,
        /// Resolution for vector pages.
        #[arg(long, default_value_t = 150.0)]
        dpi: f32,
        /// Name the students of each row from the database (the sheet's roster); without
        /// it rows are printed by number.
        #[arg(long)]
        students: bool,
        /// For this session's pages, print what the import would do with each row, from its
        /// register as it is now: record, correct, agree, keep, held unclear, or held conflict
        /// with the register's value and who set it (nothing is recorded).
        #[arg(long)]
        session: Option<String>,
        /// Database (with --students or --session).
        #[command(flatten)]
        connections: Connections,
    },
}

/// Runs a sheet command.
pub async fn run(command: SheetCommand) -> anyhow::Result<()> {
    match command {
        SheetCommand::Generate {
            session,
            output,
            connections,
        } => {
            let pool = startup::database(&connections).await?;
            let stores = Stores::new(&pool);
            let info = session_sheet(&stores, &pool, &session).await?;
            let students = info.roster.len();
            let (pdf, layout) = sheets::generate::sheet_pdf(&info)?;
            std::fs::write(&output, pdf)
                .with_context(|| format!("writing {}", output.display()))?;
            eprintln!(
                "wrote {}: {} page(s), {students} student(s)",
                output.display(),
                layout.pages.len()
            );
            Ok(())
        }
        SheetCommand::Read {
            files,
            png_dir,
            dpi,
            students,
            session,
            connections,
        } => {
            let database = (students || session.is_some()).then_some(connections);
            read(files, png_dir, dpi, database, session).await
        }
    }
}

async fn session_sheet(
    stores: &Stores,
    pool: &sqlx::PgPool,
    session: &str,
) -> anyhow::Result<sheets::SheetInfo> {
    let session_id = SessionId::parse(session).context("session id")?;
    let ctx = register::find_session(stores, pool, session_id).await?;
    Ok(app::sheets::sheet_info_from(stores, pool, &ctx).await?)
}

async fn read(
    files: Vec<PathBuf>,
    png_dir: Option<PathBuf>,
    dpi: f32,
    database: Option<Connections>,
    session: Option<String>,
) -> anyhow::Result<()> {
    let files = files
        .iter()
        .map(|f| std::fs::read(f).with_context(|| format!("reading {}", f.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let files: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    if let Some(dir) = &png_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} page {pos}/{len} {per_sec} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let mut outcomes = Vec::new();
    let mut failed_png = None;
    let pages = tokio::task::block_in_place(|| {
        let options = Options {
            dpi,
            pictures: png_dir.is_some(),
            ..Options::default()
        };
        read_files(
            &files,
            Limits::default(),
            options,
            &Thresholds::default(),
            |page| {
                bar.set_length(page.pages as u64);
                if let (Some(dir), Some(picture)) = (&png_dir, &page.picture) {
                    let path = dir.join(format!("page-{}.png", page.index + 1));
                    if let Err(e) = std::fs::write(&path, picture) {
                        failed_png.get_or_insert((path, e));
                    }
                }
                bar.inc(1);
                let read = page.read.map(|r| (r.qr, r.upside_down, r.rows));
                outcomes.push((page.index, page.sha256, read));
            },
        )
    })?;
    bar.finish_and_clear();
    if let Some((path, e)) = failed_png {
        bail!("writing {}: {e}", path.display());
    }
    let elapsed = started.elapsed().as_secs_f64();

    // Student ids per session and page, and their names, when asked for.
    let mut rosters: HashMap<String, Option<sheets::Layout>> = HashMap::new();
    let mut preview = None;
    let mut names: HashMap<String, String> = HashMap::new();
    if let Some(connections) = &database {
        let pool = startup::database(connections).await?;
        let stores = Stores::new(&pool);
        if let Some(session) = &session {
            let info = session_sheet(&stores, &pool, session).await?;
            for entry in &info.roster {
                if let Some(name) = &entry.name {
                    names.insert(entry.student_id.clone(), name.clone());
                }
            }
            rosters.insert(session.clone(), Some(sheets::generate::layout_of(&info)));
            preview = Some(preview::Preview::load(&pool, &stores, session).await?);
        }
        for (_, _, read) in &outcomes {
            if let Ok((qr, _, _)) = read
                && !rosters.contains_key(&qr.session_id)
            {
                let info = session_sheet(&stores, &pool, &qr.session_id).await.ok();
                for entry in info.iter().flat_map(|info| &info.roster) {
                    if let Some(name) = &entry.name {
                        names.insert(entry.student_id.clone(), name.clone());
                    }
                }
                let layout = info.map(|info| sheets::generate::layout_of(&info));
                rosters.insert(qr.session_id.clone(), layout);
            }
        }
    }
    let mut totals = [0u32; 5];
    for (index, sha256, read) in &outcomes {
        match read {
            Err(e) => println!("page {}: {} ({})", index + 1, e.detail, e.code),
            Ok((qr, upside_down, rows)) => {
                let turned = if *upside_down { ", upside down" } else { "" };
                println!(
                    "page {}: session {} sheet page {} of {}{turned}",
                    index + 1,
                    qr.session_id,
                    qr.page,
                    qr.pages
                );
                let page_layout = rosters
                    .get(&qr.session_id)
                    .and_then(|l| l.as_ref())
                    .and_then(|l| l.page(qr.page))
                    .filter(|p| p.qr == *qr);
                if database.is_some() && page_layout.is_none() {
                    println!("  (the session's current roster does not match this page)");
                }
                let layout = rosters.get(&qr.session_id).and_then(|l| l.as_ref());
                let would = preview
                    .as_mut()
                    .map(|p| p.page(sha256.as_deref(), layout, qr, rows));
                if let Some(Err(note)) = &would {
                    println!("  ({note})");
                }
                for (i, row) in rows.iter().enumerate() {
                    let who = page_layout
                        .and_then(|p| p.rows.get(row.row as usize - 1))
                        .map(|r| match names.get(&r.student_id) {
                            Some(name) => format!("{} {name}", r.student_id),
                            None => r.student_id.clone(),
                        })
                        .unwrap_or_else(|| format!("row {}", row.row));
                    let (what, slot) = match &row.decision {
                        RowDecision::Mark(status) => {
                            (status.as_str().to_string(), *status as usize)
                        }
                        RowDecision::Absent => ("absent".to_string(), 3),
                        RowDecision::Held(why) => (format!("HELD for review: {why}"), 4),
                    };
                    totals[slot] += 1;
                    let fills: Vec<String> = row
                        .bubbles
                        .iter()
                        .map(|b| format!("{:.2}", b.fill))
                        .collect();
                    let then = match &would {
                        Some(Ok(outcomes)) => outcomes
                            .get(i)
                            .map(|o| format!("  -> {o}"))
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    println!(
                        "  {who:<20} {what:<12} fills P/L/E {}{then}",
                        fills.join(" ")
                    );
                }
            }
        }
    }
    println!(
        "{pages} page(s) in {elapsed:.2} s ({:.1} pages/s): present {}, late {}, excused {}, absent {}, held for review {}",
        pages as f64 / elapsed.max(1e-9),
        totals[0],
        totals[1],
        totals[2],
        totals[3],
        totals[4]
    );
    if let Some(preview) = &preview {
        println!("{}", preview.summary());
    }
    Ok(())
}
