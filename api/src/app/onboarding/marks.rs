//! A session's marks from a file (student id, status, optional remark), recorded as one roll
//! call with method `import`: all or nothing. The file is read and its headers matched as any
//! import's ([`super::table`], [`super::columns`]); every row is decided on the register as it
//! stands (opened with the session's roster if it is not yet), so the preview says per row
//! what would be recorded and why a row is refused. A file with any row in error records
//! nothing.

use super::columns::{self, FieldSet, Mapping};
use super::rows::Outcome;
use super::table::{self, Cell};
use super::values;
use crate::app::access::CurrentUser;
use crate::app::error::{AppError, FieldProblem};
use crate::app::register::{self, SessionContext};
use crate::app::store;
use crate::state::AppState;
use chrono::Utc;
use cqrs_es::Aggregate;
use domain::register::{Register, RegisterCommand};
use domain::{Method, Status, StudentId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use utoipa::ToSchema;

/// Longest remark.
const MAX_REMARK: usize = 500;

/// A field of a mark row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MarkField {
    /// The student number.
    Student,
    /// `present`, `absent`, `late` or `excused` (or `P`, `A`, `L`, `E`).
    Status,
    /// An optional remark.
    Remark,
}

impl FieldSet for MarkField {
    fn all() -> &'static [Self] {
        &[MarkField::Student, MarkField::Status, MarkField::Remark]
    }
    fn aliases() -> &'static [(Self, &'static [&'static str])] {
        &[
            (
                MarkField::Student,
                &[
                    "studentid",
                    "id",
                    "studentno",
                    "studentnumber",
                    "student",
                    "matricule",
                ],
            ),
            (MarkField::Status, &["status", "attendance", "mark"]),
            (
                MarkField::Remark,
                &["remark", "remarks", "note", "notes", "comment"],
            ),
        ]
    }
    fn required() -> &'static [Self] {
        &[MarkField::Student, MarkField::Status]
    }
    fn label(self) -> &'static str {
        match self {
            MarkField::Student => "student_id",
            MarkField::Status => "status",
            MarkField::Remark => "remark",
        }
    }
}

/// One row of a marks import's report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MarkRow {
    /// The row number as the spreadsheet shows it.
    pub row: usize,
    /// The student number, when the row has one.
    pub student_id: Option<String>,
    /// The status read, when it is one.
    #[schema(value_type = Option<String>)]
    pub status: Option<Status>,
    /// `new` (recorded), `unchanged` (already recorded so) or `error`.
    pub outcome: Outcome,
    /// For `error`: each field's problem (the code says which rule refused it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// The answer of a marks import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MarkImportReport {
    /// Whether this was only a preview.
    pub dry_run: bool,
    /// The session.
    pub session_id: String,
    /// Data rows in the file.
    pub rows: usize,
    /// Marks recorded (or, in a preview, to record).
    pub new: usize,
    /// Rows whose student already has that status.
    pub unchanged: usize,
    /// Rows in error: any makes a real import record nothing.
    pub errors: usize,
    /// Which header each field was read from.
    pub columns: BTreeMap<&'static str, String>,
    /// Headers mapped to no field (ignored).
    pub unknown_columns: Vec<String>,
    /// Every row, in file order.
    pub results: Vec<MarkRow>,
}

/// Imports a session's marks (the course's staff only).
pub async fn import_marks(
    state: &AppState,
    user: &CurrentUser,
    request_id: String,
    ctx: &SessionContext,
    bytes: &[u8],
    dry_run: bool,
    overrides: &HashMap<String, String>,
) -> Result<MarkImportReport, AppError> {
    // Whoever may not read the course learns no more than for a session that does not exist.
    user.require_course_reader(&ctx.course)
        .map_err(|_| AppError::NotFound(format!("session {} does not exist", ctx.session_id)))?;
    user.require_course_staff(&ctx.course)?;
    if ctx.session.cancelled {
        return Err(AppError::conflict(
            "session_cancelled",
            format!("session {} is cancelled", ctx.session_id),
        ));
    }
    let table = table::read(bytes)?;
    let mapping: Mapping<MarkField> = columns::map(&table.headers, overrides)?;
    let (register, _) = store::load(&state.stores().registers, ctx.session_id.as_str()).await?;
    let mut register = (*register).clone();
    if !register.is_open() {
        open(&mut register, user, ctx);
    }
    let mut results = Vec::with_capacity(table.rows.len());
    let mut commands = Vec::new();
    let mut seen = HashSet::new();
    for (row, cells) in &table.rows {
        let cell = |field| {
            mapping
                .column(field)
                .and_then(|c| cells.get(c))
                .cloned()
                .unwrap_or(Cell::Empty)
        };
        let (result, command) = decide_row(*row, &cell, &mut register, user, &mut seen);
        commands.extend(command);
        results.push(result);
    }
    let count = |outcome| {
        results
            .iter()
            .filter(|r: &&MarkRow| r.outcome == outcome)
            .count()
    };
    let report = MarkImportReport {
        dry_run,
        session_id: ctx.session_id.to_string(),
        rows: table.rows.len(),
        new: count(Outcome::New),
        unchanged: count(Outcome::Unchanged),
        errors: count(Outcome::Error),
        columns: mapping.headers(&table.headers),
        unknown_columns: mapping.unknown.clone(),
        results,
    };
    if dry_run {
        return Ok(report);
    }
    if report.errors > 0 {
        return Err(refused(&report));
    }
    if commands.is_empty() {
        return Ok(report);
    }
    register::execute_all(state, user, request_id, ctx, commands).await?;
    Ok(report)
}

/// Opens the register in memory as its first command would: the roster of the session's day.
fn open(register: &mut Register, user: &CurrentUser, ctx: &SessionContext) {
    let starts_at = ctx.session.starts_at;
    let command = RegisterCommand::OpenRegister {
        session_id: ctx.session_id.clone(),
        course_id: ctx.course_id.clone(),
        starts_at,
        roster: ctx.course.roster_on(ctx.course.day_of(starts_at)),
        by: user.actor(),
        at: Utc::now(),
    };
    for event in register.decide(command).unwrap_or_default() {
        register.apply(event);
    }
}

/// One row read and decided on the register as the rows before it left it.
fn decide_row(
    row: usize,
    cell: &dyn Fn(MarkField) -> Cell,
    register: &mut Register,
    user: &CurrentUser,
    seen: &mut HashSet<StudentId>,
) -> (MarkRow, Option<RegisterCommand>) {
    let mut errors = Vec::new();
    let text = values::text(&cell(MarkField::Student));
    let student = match text.clone().map(StudentId::parse) {
        None => problem(&mut errors, MarkField::Student, "is missing".into(), None),
        Some(Err(e)) => problem(&mut errors, MarkField::Student, e.to_string(), None),
        Some(Ok(id)) if !seen.insert(id.clone()) => {
            let why = format!("{id} is on an earlier row too");
            problem(&mut errors, MarkField::Student, why, Some("duplicate_row"))
        }
        Some(Ok(id)) => Some(id),
    };
    let status = match values::text(&cell(MarkField::Status)).map(|s| parse_status(&s)) {
        None => problem(&mut errors, MarkField::Status, "is missing".into(), None),
        Some(Err(why)) => problem(&mut errors, MarkField::Status, why, None),
        Some(Ok(status)) => Some(status),
    };
    let remark = values::text(&cell(MarkField::Remark));
    if remark
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REMARK)
    {
        let why = format!("is longer than {MAX_REMARK} characters");
        problem::<()>(&mut errors, MarkField::Remark, why, None);
    }
    let mut result = MarkRow {
        row,
        student_id: text,
        status,
        outcome: Outcome::Error,
        errors: Vec::new(),
    };
    let (Some(student_id), Some(status), true) = (student, status, errors.is_empty()) else {
        result.errors = errors;
        return (result, None);
    };
    let command = RegisterCommand::RecordAttendance {
        student_id,
        status,
        method: Method::Import,
        remark,
        by: user.actor(),
        at: Utc::now(),
    };
    match register.decide(command.clone()) {
        Ok(events) if events.is_empty() => {
            result.outcome = Outcome::Unchanged;
            (result, None)
        }
        Ok(events) => {
            for event in events {
                register.apply(event);
            }
            result.outcome = Outcome::New;
            (result, Some(command))
        }
        Err(refusal) => {
            let refusal = AppError::from(refusal);
            let code = match &refusal {
                AppError::Conflict { code, .. } | AppError::Invalid { code, .. } => Some(*code),
                _ => None,
            };
            problem::<()>(
                &mut result.errors,
                MarkField::Student,
                refusal.to_string(),
                code,
            );
            (result, None)
        }
    }
}

fn problem<T>(
    errors: &mut Vec<FieldProblem>,
    field: MarkField,
    detail: String,
    code: Option<&str>,
) -> Option<T> {
    errors.push(FieldProblem {
        field: field.label().to_string(),
        detail,
        code: code.map(str::to_string),
    });
    None
}

/// A status as spreadsheets write it: the word or its first letter, in any case.
fn parse_status(text: &str) -> Result<Status, String> {
    match text.trim().to_lowercase().as_str() {
        "present" | "p" => Ok(Status::Present),
        "absent" | "a" => Ok(Status::Absent),
        "late" | "l" => Ok(Status::Late),
        "excused" | "e" => Ok(Status::Excused),
        _ => Err(format!(
            "\"{text}\" is not present, absent, late or excused (or P, A, L, E)"
        )),
    }
}

/// The whole file refused: each row in error, named by its row number.
fn refused(report: &MarkImportReport) -> AppError {
    let errors = report
        .results
        .iter()
        .flat_map(|row| {
            row.errors.iter().map(move |p| FieldProblem {
                field: format!("row {}: {}", row.row, p.field),
                detail: p.detail.clone(),
                code: p.code.clone(),
            })
        })
        .collect();
    AppError::Invalid {
        code: "roll_call_refused",
        detail: format!(
            "{} rows of the file are in error; nothing was recorded (send dry_run=true for the preview)",
            report.errors
        ),
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_is_read_as_a_word_or_its_first_letter_in_any_case() {
        assert_eq!(parse_status(" Present "), Ok(Status::Present));
        assert_eq!(parse_status("E"), Ok(Status::Excused));
        assert!(parse_status("here").is_err());
    }
}
