//! Counting a reader's answers against the truth: per kind of row (right, held, wrong),
//! per kind of fill (filled, unsure, empty, score range), and reading speed.

use super::{Expect, Fill, RowFills, expect, row_kind};
use crate::omr::{BubbleDecision, PageRead, RowDecision};
use std::collections::BTreeMap;
use std::time::Duration;

/// Decisions on bubbles of one kind of fill.
#[derive(Default)]
pub struct BubbleTally {
    pub filled: u32,
    pub unsure: u32,
    pub empty: u32,
    pub lowest: Option<f32>,
    pub highest: Option<f32>,
}

/// Answers on rows of one kind: right, held for a person, recorded wrongly.
#[derive(Default)]
pub struct RowTally {
    pub right: u32,
    pub held: u32,
    pub wrong: u32,
}

/// Counts of a reader's answers against the truth, and its speed.
#[derive(Default)]
pub struct Tally {
    /// Pages read (or failed).
    pub pages: u32,
    /// Of which upside down.
    pub upside_down: u32,
    /// Per kind of row ([`row_kind`]).
    pub rows: BTreeMap<String, RowTally>,
    /// Per kind of fill.
    pub bubbles: BTreeMap<Fill, BubbleTally>,
    /// Every answer the truth does not accept, and every page that could not be read.
    pub failures: Vec<String>,
    /// Time spent making the scans.
    pub making: Duration,
    /// Time spent reading them.
    pub reading: Duration,
    /// Pages read and the time it took, per scan resolution.
    pub speed: BTreeMap<u32, (u32, Duration)>,
}

impl Tally {
    /// Counts one page's rows against the fills they were made with.
    pub fn page(&mut self, read: &PageRead, fills: &[RowFills], label: &str) {
        for (row, fills) in read.rows.iter().zip(fills) {
            let truth = expect(fills);
            let tally = self.rows.entry(row_kind(fills)).or_default();
            if truth.is_wrong_recording(row.decision) {
                tally.wrong += 1;
            } else if matches!(row.decision, RowDecision::Held(_))
                && !matches!(truth, Expect::SeveralFilled)
            {
                tally.held += 1;
            } else {
                tally.right += 1;
            }
            if !truth.accepts(row.decision) {
                let fill: Vec<String> = row
                    .bubbles
                    .iter()
                    .map(|b| format!("{:.3}", b.fill))
                    .collect();
                self.failures.push(format!(
                    "{label} row {}: {fills:?} read as {:?} (fills {})",
                    row.row,
                    row.decision,
                    fill.join(" ")
                ));
            }
            for (bubble, fill) in row.bubbles.iter().zip(fills) {
                let t = self.bubbles.entry(*fill).or_default();
                match bubble.decision {
                    BubbleDecision::Filled => t.filled += 1,
                    BubbleDecision::Unsure => t.unsure += 1,
                    BubbleDecision::Empty => t.empty += 1,
                }
                t.lowest = Some(t.lowest.map_or(bubble.fill, |v| v.min(bubble.fill)));
                t.highest = Some(t.highest.map_or(bubble.fill, |v| v.max(bubble.fill)));
                if fill.is_clear() && bubble.decision != BubbleDecision::Filled {
                    self.failures.push(format!(
                        "{label} row {}: {fill:?} bubble read {:?} ({:.3})",
                        row.row, bubble.decision, bubble.fill
                    ));
                }
            }
        }
    }

    /// Counts a page made in `making` and read in `reading`.
    pub fn timing(&mut self, dpi: f32, upside_down: bool, making: Duration, reading: Duration) {
        self.pages += 1;
        self.upside_down += u32::from(upside_down);
        self.making += making;
        self.reading += reading;
        let speed = self.speed.entry(dpi as u32).or_default();
        speed.0 += 1;
        speed.1 += reading;
    }

    /// Rows recorded wrongly.
    pub fn wrong(&self) -> u32 {
        self.rows.values().map(|t| t.wrong).sum()
    }

    /// Prints the counts and speeds.
    pub fn report(&self) {
        let rows: u32 = self.rows.values().map(|t| t.right + t.held + t.wrong).sum();
        let held: u32 = self.rows.values().map(|t| t.held).sum();
        println!(
            "{} pages ({} upside down), {rows} rows, {} bubbles",
            self.pages,
            self.upside_down,
            rows * 3
        );
        println!("{:<22} {:>6} {:>6} {:>6}", "row", "right", "held", "wrong");
        for (kind, t) in &self.rows {
            println!("{kind:<22} {:>6} {:>6} {:>6}", t.right, t.held, t.wrong);
        }
        println!(
            "held for review: {held} of {rows} rows ({:.1} %)",
            100.0 * held as f32 / rows as f32
        );
        println!(
            "{:<10} {:>7} {:>7} {:>7} {:>7} {:>7}",
            "bubble", "filled", "unsure", "empty", "min", "max"
        );
        for (fill, t) in &self.bubbles {
            println!(
                "{:<10} {:>7} {:>7} {:>7} {:>7.3} {:>7.3}",
                fill.name(),
                t.filled,
                t.unsure,
                t.empty,
                t.lowest.unwrap_or(0.0),
                t.highest.unwrap_or(0.0)
            );
        }
        let per_s = |d: Duration| self.pages as f64 / d.as_secs_f64().max(1e-9);
        for (dpi, (pages, time)) in &self.speed {
            let rate = f64::from(*pages) / time.as_secs_f64().max(1e-9);
            println!("reading at {dpi} dpi: {rate:.1} pages/s ({pages} pages)");
        }
        println!(
            "reading: {:.1} pages/s; making the scans: {:.1} pages/s",
            per_s(self.reading),
            per_s(self.making)
        );
    }
}
