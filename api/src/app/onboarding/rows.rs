//! The rows of a student import made into students: each row's values checked field by
//! field, compared with what is stored, and classed as new, changed (which fields), unchanged
//! or in error (which fields, why). A blank cell keeps what is stored.

use super::columns::{Field, Mapping};
use super::table::Table;
use super::values::{self, DateOrder};
use crate::app::error::FieldProblem;
use domain::{CourseId, StudentId};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// A student's stored fields, as an import compares and writes them.
pub use crate::app::students::StudentView as Student;

/// What an import does with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A student the system does not have yet.
    New,
    /// A known student whose fields differ.
    Changed,
    /// A known student the row does not change.
    Unchanged,
    /// A row that cannot be imported; nothing of it is written.
    Error,
}

/// One row of the report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowResult {
    /// The row number as the spreadsheet shows it.
    pub row: usize,
    /// The student number, when the row has one.
    pub id: Option<String>,
    /// What happens (or happened) to the row.
    pub outcome: Outcome,
    /// For `changed`: the fields that change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<&'static str>,
    /// For `error`: each field's problem.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// A row that can be imported: the student as it will be stored, and the courses the row
/// names.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The student as stored after the import.
    pub student: Student,
    /// Whether it is written (new or changed).
    pub write: bool,
    /// Courses named in the row's course column.
    pub courses: Vec<CourseId>,
}

/// Longest text per field, in characters.
fn max_len(field: Field) -> usize {
    match field {
        Field::Name => 200,
        Field::Email => 254,
        Field::Department => 100,
        Field::Level => 50,
        Field::Phone => 40,
        _ => 500,
    }
}

/// Classifies every row against the stored students (`stored`, by id).
pub fn classify(
    table: &Table,
    mapping: &Mapping,
    order: DateOrder,
    stored: &HashMap<String, Student>,
) -> (Vec<RowResult>, Vec<Accepted>) {
    let mut results = Vec::with_capacity(table.rows.len());
    let mut accepted = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (row, cells) in &table.rows {
        let cell = |field| {
            mapping
                .column(field)
                .and_then(|c| cells.get(c))
                .cloned()
                .unwrap_or(super::table::Cell::Empty)
        };
        let mut problems = Vec::new();
        let id = values::text(&cell(Field::Id));
        let checked_id = match id.as_deref().map(StudentId::parse) {
            None => {
                problem(&mut problems, Field::Id, "is missing".into());
                None
            }
            Some(Err(e)) => {
                problem(
                    &mut problems,
                    Field::Id,
                    format!("\"{}\" {e}", id.clone().unwrap_or_default()),
                );
                None
            }
            Some(Ok(id)) => Some(id),
        };
        if let Some(id) = &checked_id {
            if let Some(first) = seen.insert(id.to_string(), *row) {
                problem(
                    &mut problems,
                    Field::Id,
                    format!("{id} is also on row {first}"),
                );
                seen.insert(id.to_string(), first);
            }
            if stored.get(id.as_str()).is_some_and(|s| s.erased) {
                problem(
                    &mut problems,
                    Field::Id,
                    format!(
                        "the personal data of student {id} was erased; it is not imported again"
                    ),
                );
            }
        }
        let before = checked_id.as_ref().and_then(|id| stored.get(id.as_str()));
        let mut student = before.cloned().unwrap_or_else(|| Student {
            id: checked_id
                .as_ref()
                .map(|i| i.to_string())
                .unwrap_or_default(),
            active: true,
            ..Student::default()
        });
        fill(&mut student, &cell, order, &mut problems);
        if student.name.is_none() {
            problem(&mut problems, Field::Name, "is missing".into());
        }
        let courses = course_codes(&cell(Field::Course), &mut problems);
        if !problems.is_empty() {
            results.push(RowResult {
                row: *row,
                id,
                outcome: Outcome::Error,
                fields: Vec::new(),
                errors: problems,
            });
            continue;
        }
        let (outcome, fields) = match before {
            None => (Outcome::New, Vec::new()),
            Some(before) => {
                let fields = differences(before, &student);
                let outcome = if fields.is_empty() {
                    Outcome::Unchanged
                } else {
                    Outcome::Changed
                };
                (outcome, fields)
            }
        };
        results.push(RowResult {
            row: *row,
            id,
            outcome,
            fields,
            errors: Vec::new(),
        });
        accepted.push(Accepted {
            student,
            write: outcome != Outcome::Unchanged,
            courses,
        });
    }
    (results, accepted)
}

fn problem(problems: &mut Vec<FieldProblem>, field: Field, detail: String) {
    problems.push(FieldProblem {
        field: field.name().to_string(),
        detail,
        code: None,
    });
}

/// Sets the fields the row has a value for; a blank cell keeps what is stored.
fn fill(
    student: &mut Student,
    cell: &dyn Fn(Field) -> super::table::Cell,
    order: DateOrder,
    problems: &mut Vec<FieldProblem>,
) {
    for field in [Field::Name, Field::Department, Field::Level, Field::Phone] {
        if let Some(value) = values::text(&cell(field)) {
            if value.chars().count() > max_len(field) {
                problem(
                    problems,
                    field,
                    format!("is longer than {} characters", max_len(field)),
                );
                continue;
            }
            let slot = match field {
                Field::Name => &mut student.name,
                Field::Department => &mut student.department,
                Field::Level => &mut student.level,
                _ => &mut student.phone,
            };
            *slot = Some(value);
        }
    }
    match values::email(&cell(Field::Email)) {
        Ok(Some(email)) => student.email = Some(email),
        Ok(None) => {}
        Err(reason) => problem(problems, Field::Email, reason),
    }
    match values::active(&cell(Field::Active)) {
        Ok(Some(active)) => student.active = active,
        Ok(None) => {}
        Err(reason) => problem(problems, Field::Active, reason),
    }
    match values::date(&cell(Field::RegisteredOn), order) {
        Ok(Some(date)) => student.registered_on = Some(date),
        Ok(None) => {}
        Err(reason) => problem(problems, Field::RegisteredOn, reason),
    }
}

fn course_codes(cell: &super::table::Cell, problems: &mut Vec<FieldProblem>) -> Vec<CourseId> {
    let (courses, refused) = values::course_codes(cell);
    for reason in refused {
        problem(problems, Field::Course, reason);
    }
    courses
}

/// The fields in which `after` differs from `before`.
fn differences(before: &Student, after: &Student) -> Vec<&'static str> {
    let pairs = [
        (Field::Name, before.name != after.name),
        (Field::Email, before.email != after.email),
        (Field::Department, before.department != after.department),
        (Field::Level, before.level != after.level),
        (Field::Phone, before.phone != after.phone),
        (Field::Active, before.active != after.active),
        (
            Field::RegisteredOn,
            before.registered_on != after.registered_on,
        ),
    ];
    pairs
        .into_iter()
        .filter(|(_, differs)| *differs)
        .map(|(f, _)| f.name())
        .collect()
}
