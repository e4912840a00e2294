//! `attendance sheet read scan.pdf --session ID`: what importing the scan would do to that
//! session's register, row by row, recording nothing. The register decides each row
//! ([`Register::sheet_row_outcome`]), as it does for the import, from the same rows
//! ([`api::app::import::sheet_rows`]).

use anyhow::Context;
use api::app::store::{self, Stores};
use api::auth::users::usernames;
use domain::register::{Register, RowOutcome};
use sheets::omr::RowRead;
use sheets::{Layout, QrPayload};
use std::collections::{BTreeMap, HashMap};

/// One session's register as it is now, asked what each scanned row would do to it.
pub struct Preview {
    session: String,
    register: Register,
    /// Usernames of the people who set the register's marks, by user id.
    names: HashMap<String, String>,
    /// Rows by what the import would do.
    tally: BTreeMap<&'static str, u32>,
}

impl Preview {
    /// The register of `session` as stored now.
    pub async fn load(pool: &sqlx::PgPool, stores: &Stores, session: &str) -> anyhow::Result<Self> {
        let (register, _) = store::load(&stores.registers, session)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let setters: Vec<String> = register
            .roster
            .values()
            .flatten()
            .map(|mark| mark.by.user_id.to_string())
            .collect();
        let names = usernames(pool, &setters)
            .await
            .context("reading usernames")?;
        Ok(Preview {
            session: session.to_string(),
            register: Register::clone(&register),
            names,
            tally: BTreeMap::new(),
        })
    }

    /// What the import would do with each row of a page (in row order), or why it would do
    /// nothing with the page. `layout` is the session's sheet.
    pub fn page(
        &mut self,
        sha256: Option<&str>,
        layout: Option<&Layout>,
        qr: &QrPayload,
        rows: &[RowRead],
    ) -> Result<Vec<String>, String> {
        if qr.session_id != self.session {
            return Err(format!("not session {}: not previewed", self.session));
        }
        let layout = layout.ok_or("the session's sheet could not be built")?;
        if let Some(sha256) = sha256
            && !self.register.sheets.insert(sha256.to_string())
        {
            return Err("already imported: the import would record nothing".into());
        }
        let (rows, _, _) = api::app::import::sheet_rows(layout, qr, rows).map_err(|p| p.detail)?;
        Ok(rows
            .iter()
            .map(|row| self.describe(self.register.sheet_row_outcome(row)))
            .collect())
    }

    fn describe(&mut self, outcome: RowOutcome) -> String {
        let (kind, text) = match outcome {
            RowOutcome::Record(status) => ("record", format!("record {status}")),
            RowOutcome::Agree => ("agree", "agree: the register says the same".into()),
            RowOutcome::Keep(status) => (
                "keep",
                format!("keep: an empty row leaves the register's {status}"),
            ),
            RowOutcome::Replace { from, to, reason } => {
                ("correct", format!("correct {from} -> {to} ({reason})"))
            }
            RowOutcome::HeldUnclear(held) => {
                ("held unclear", format!("HELD unclear: {}", held.reason))
            }
            RowOutcome::HeldConflict(held) => {
                let text = match &held.conflict {
                    Some(conflict) => {
                        let id = conflict.set_by.user_id.as_str();
                        let who = self.names.get(id).map_or(id, String::as_str);
                        conflict.describe(who)
                    }
                    None => held.reason,
                };
                ("held conflict", format!("HELD conflict: {text}"))
            }
        };
        *self.tally.entry(kind).or_default() += 1;
        text
    }

    /// The rows of the session's pages by what the import would do.
    pub fn summary(&self) -> String {
        let counts: Vec<String> = [
            "record",
            "correct",
            "agree",
            "keep",
            "held unclear",
            "held conflict",
        ]
        .iter()
        .map(|kind| format!("{kind} {}", self.tally.get(kind).copied().unwrap_or(0)))
        .collect();
        format!(
            "session {}, the import would: {}",
            self.session,
            counts.join(", ")
        )
    }
}
