//! Bulk onboarding: a school's spreadsheet of students made into students (and enrolments)
//! in one go, with a preview first.
//!
//! A file (CSV, XLSX, XLS, XLSB or ODS) is read into rows ([`table`]), its headers mapped to
//! fields ([`columns`]), each row checked and compared with what is stored ([`rows`]). A dry
//! run answers that report and writes nothing; otherwise the rows without errors are written
//! in one transaction (rows in error are left out and listed), and each course named (for the
//! whole file, or per row in a course column) gets one command enrolling all its students, all
//! or nothing. Importing the same file again changes nothing.

mod account_rows;
pub mod accounts;
pub mod columns;
pub mod marks;
pub mod rows;
pub mod table;
pub mod values;

use crate::app::error::{AppError, FieldProblem};
use crate::app::store::{self, CommandMeta, Source, Stores};
use crate::app::students::{COLUMNS, search_key};
use chrono::NaiveDate;
use columns::{Field, Mapping};
use domain::course::CourseCommand;
use domain::{Actor, CourseId, StudentId};
use rows::{Accepted, Outcome, RowResult, Student};
use serde::Serialize;
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;
use values::DateOrder;

/// What an import is asked to do besides reading the file.
#[derive(Debug, Clone, Default)]
pub struct StudentImport {
    /// Only report; write nothing.
    pub dry_run: bool,
    /// Header (as written) to field name, `""` to ignore a column; overrides the aliases.
    pub mapping: HashMap<String, String>,
    /// How ambiguous slash dates are read.
    pub date_order: DateOrder,
    /// Enrol every imported student in this course.
    pub course: Option<CourseId>,
    /// First day of the enrolments (the whole file's course and a course column alike).
    pub effective_from: Option<NaiveDate>,
}

/// Who imports, and from where.
pub struct Importer<'a> {
    /// The database.
    pub pool: &'a PgPool,
    /// The write side, for enrolments.
    pub stores: &'a Stores,
    /// Who imports (an administrator).
    pub actor: Actor,
    /// The request id stored with the enrolment events.
    pub request_id: String,
    /// API or command line.
    pub source: Source,
}

/// New enrolments of one course.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Enrolments {
    /// The course.
    pub course: String,
    /// Students enrolled by this import (or, in a dry run, who would be).
    pub enrolled: usize,
    /// Students of the file already enrolled.
    pub already: usize,
}

/// The answer of an import, dry run or not.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// Whether this was only a preview.
    pub dry_run: bool,
    /// Data rows in the file.
    pub rows: usize,
    /// Rows of new students.
    pub new: usize,
    /// Rows that change a student.
    pub changed: usize,
    /// Rows that change nothing.
    pub unchanged: usize,
    /// Rows in error (not imported).
    pub errors: usize,
    /// Which header each field was read from.
    pub columns: BTreeMap<&'static str, String>,
    /// Headers mapped to no field (ignored).
    pub unknown_columns: Vec<String>,
    /// Enrolments per course.
    pub enrolments: Vec<Enrolments>,
    /// Every row, in file order.
    pub results: Vec<RowResult>,
}

/// Imports students from `bytes`; `progress(done, total)` is told as rows are checked and
/// written.
pub async fn import_students(
    importer: &Importer<'_>,
    bytes: &[u8],
    options: &StudentImport,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<ImportReport, AppError> {
    let table = table::read(bytes)?;
    let mapping: Mapping = columns::map(&table.headers, &options.mapping)?;
    let enrols = mapping.column(Field::Course).is_some() || options.course.is_some();
    if enrols && options.effective_from.is_none() {
        return Err(AppError::invalid(
            "effective_from",
            "is needed to enrol students: the first day they belong to the course",
        ));
    }
    progress("checking", 0, table.rows.len());
    let mut tx = importer.pool.begin().await?;
    let stored = lock_stored(&mut tx, &table, &mapping).await?;
    let (mut results, mut accepted) = rows::classify(&table, &mapping, options.date_order, &stored);
    let plans = plan_enrolments(importer, options, &mut results, &mut accepted).await?;
    progress("checking", table.rows.len(), table.rows.len());
    if options.dry_run {
        tx.rollback().await?;
    } else {
        write(&mut tx, &accepted, progress).await?;
        tx.commit().await?;
        enrol(importer, &plans).await?;
    }
    Ok(report(options.dry_run, &table, &mapping, results, &plans))
}

/// The stored students the file names, locked until the import commits.
async fn lock_stored(
    tx: &mut Transaction<'_, Postgres>,
    table: &table::Table,
    mapping: &Mapping,
) -> Result<HashMap<String, Student>, AppError> {
    let column = mapping
        .column(Field::Id)
        .expect("mapped: checked by columns::map");
    let ids: Vec<String> = table
        .rows
        .iter()
        .filter_map(|(_, cells)| cells.get(column).and_then(values::text))
        .collect();
    let students: Vec<Student> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM students WHERE id = ANY($1) ORDER BY id FOR UPDATE"
    ))
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    Ok(students.into_iter().map(|s| (s.id.clone(), s)).collect())
}

/// One course's enrolments as decided on its current state.
struct Plan {
    course: CourseId,
    commands: Vec<CourseCommand>,
    already: usize,
}

/// Decides each course's enrolments without writing: a course that does not exist makes its
/// rows errors (or, named for the whole file, refuses the import); a student the course
/// refuses (an enrolment that would overlap an earlier one) makes that row an error.
async fn plan_enrolments(
    importer: &Importer<'_>,
    options: &StudentImport,
    results: &mut [RowResult],
    accepted: &mut Vec<Accepted>,
) -> Result<Vec<Plan>, AppError> {
    let Some(from) = options.effective_from else {
        return Ok(Vec::new());
    };
    let mut wanted: BTreeMap<CourseId, Vec<StudentId>> = BTreeMap::new();
    for row in accepted.iter() {
        let id = StudentId::parse(row.student.id.clone()).map_err(AppError::internal)?;
        for course in options.course.iter().chain(&row.courses) {
            wanted.entry(course.clone()).or_default().push(id.clone());
        }
    }
    let mut refused: HashMap<String, FieldProblem> = HashMap::new();
    let mut plans = Vec::new();
    for (course_id, students) in wanted {
        let (course, _) = store::load(&importer.stores.courses, course_id.as_str()).await?;
        if !course.exists() {
            if options.course.as_ref() == Some(&course_id) {
                return Err(AppError::NotFound(format!(
                    "course {course_id} does not exist"
                )));
            }
            for student in &students {
                refused.insert(
                    student.to_string(),
                    course_problem(format!("course {course_id} does not exist")),
                );
            }
            continue;
        }
        let mut plan = Plan {
            course: course_id.clone(),
            commands: Vec::new(),
            already: 0,
        };
        for student_id in students {
            let command = CourseCommand::EnrollStudent {
                student_id: student_id.clone(),
                effective_from: from,
                by: importer.actor.clone(),
                at: chrono::Utc::now(),
            };
            match course.decide(command.clone()) {
                Ok(events) if events.is_empty() => plan.already += 1,
                Ok(_) => plan.commands.push(command),
                Err(e) => {
                    refused.insert(
                        student_id.to_string(),
                        course_problem(format!("{course_id}: {e}")),
                    );
                }
            }
        }
        plans.push(plan);
    }
    if !refused.is_empty() {
        drop_refused(&refused, results, accepted, &mut plans);
    }
    Ok(plans)
}

fn course_problem(detail: String) -> FieldProblem {
    FieldProblem {
        field: Field::Course.name().to_string(),
        detail,
        code: None,
    }
}

/// Rows whose enrolment was refused become errors and are imported nowhere.
fn drop_refused(
    refused: &HashMap<String, FieldProblem>,
    results: &mut [RowResult],
    accepted: &mut Vec<Accepted>,
    plans: &mut [Plan],
) {
    for result in results.iter_mut() {
        let problem = result.id.as_ref().and_then(|id| refused.get(id));
        if let Some(problem) = problem
            && result.outcome != Outcome::Error
        {
            result.outcome = Outcome::Error;
            result.fields.clear();
            result.errors.push(problem.clone());
        }
    }
    accepted.retain(|row| !refused.contains_key(&row.student.id));
    for plan in plans {
        plan.commands.retain(|command| match command {
            CourseCommand::EnrollStudent { student_id, .. } => {
                !refused.contains_key(student_id.as_str())
            }
            _ => true,
        });
    }
}

/// Writes the new and changed students with one statement per thousand rows.
async fn write(
    tx: &mut Transaction<'_, Postgres>,
    accepted: &[Accepted],
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<(), AppError> {
    let writes: Vec<&Student> = accepted
        .iter()
        .filter(|a| a.write)
        .map(|a| &a.student)
        .collect();
    for (n, chunk) in writes.chunks(1000).enumerate() {
        let column =
            |f: fn(&Student) -> Option<String>| chunk.iter().map(|s| f(s)).collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO students (id, name, email, department, level, phone, active, registered_on, search_key)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                  $6::text[], $7::bool[], $8::date[], $9::text[])
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,
                 department = EXCLUDED.department, level = EXCLUDED.level, phone = EXCLUDED.phone,
                 active = EXCLUDED.active, registered_on = EXCLUDED.registered_on,
                 search_key = EXCLUDED.search_key, updated_at = now()
             WHERE students.erased_at IS NULL",
        )
        .bind(chunk.iter().map(|s| s.id.clone()).collect::<Vec<_>>())
        .bind(column(|s| s.name.clone()))
        .bind(column(|s| s.email.clone()))
        .bind(column(|s| s.department.clone()))
        .bind(column(|s| s.level.clone()))
        .bind(column(|s| s.phone.clone()))
        .bind(chunk.iter().map(|s| s.active).collect::<Vec<_>>())
        .bind(chunk.iter().map(|s| s.registered_on).collect::<Vec<_>>())
        .bind(column(|s| s.name.as_deref().map(search_key)))
        .execute(&mut **tx)
        .await?;
        progress(
            "writing",
            (n * 1000 + chunk.len()).min(writes.len()),
            writes.len(),
        );
    }
    Ok(())
}

/// One command per course enrolling all its students of the file.
async fn enrol(importer: &Importer<'_>, plans: &[Plan]) -> Result<(), AppError> {
    for plan in plans.iter().filter(|p| !p.commands.is_empty()) {
        let meta = CommandMeta {
            actor: importer.actor.clone(),
            request_id: importer.request_id.clone(),
            source: importer.source,
            course_id: plan.course.clone(),
        };
        store::execute(
            &importer.stores.courses,
            plan.course.as_str(),
            &meta,
            |_| Ok(plan.commands.clone()),
        )
        .await?;
    }
    Ok(())
}

fn report(
    dry_run: bool,
    table: &table::Table,
    mapping: &Mapping,
    results: Vec<RowResult>,
    plans: &[Plan],
) -> ImportReport {
    let count = |outcome| results.iter().filter(|r| r.outcome == outcome).count();
    ImportReport {
        dry_run,
        rows: table.rows.len(),
        new: count(Outcome::New),
        changed: count(Outcome::Changed),
        unchanged: count(Outcome::Unchanged),
        errors: count(Outcome::Error),
        columns: mapping.headers(&table.headers),
        unknown_columns: mapping.unknown.clone(),
        enrolments: plans
            .iter()
            .map(|p| Enrolments {
                course: p.course.to_string(),
                enrolled: p.commands.len(),
                already: p.already,
            })
            .collect(),
        results,
    }
}
