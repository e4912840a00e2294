//! Teachers and other accounts from a spreadsheet, the way students are imported: the same
//! reading ([`super::table`]), header matching ([`super::columns`]) and values
//! ([`super::values`]). Each new account gets a one-time password, answered once in the
//! report, and must set its own at first sign-in; the courses a teacher row names get one
//! command per course assigning all its teachers. A dry run writes nothing; importing the
//! same file again changes nothing.

use super::account_rows::{Accepted, Stored, classify, problem};
pub use super::account_rows::{AccountRow, UserField};
use super::columns::{self, Mapping};
use super::rows::Outcome;
use super::table::{self, Cell, Table};
use super::{Importer, values};
use crate::app::error::AppError;
use crate::app::store::{self, CommandMeta};
use crate::auth::account::one_time_password;
use crate::auth::changes::ChangedBy;
use crate::auth::username;
use crate::auth::users::{self, CreateUserError, NewAccount};
use domain::course::CourseCommand;
use domain::{CourseId, UserId};
use serde::Serialize;
use sqlx::PgConnection;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// Teachers assigned to one course.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Assignments {
    /// The course.
    pub course: String,
    /// Teachers assigned by this import (or, in a dry run, who would be).
    pub assigned: usize,
    /// Teachers of the file who already teach it.
    pub already: usize,
}

/// The answer of an account import, dry run or not.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountImportReport {
    /// Whether this was only a preview.
    pub dry_run: bool,
    /// Data rows in the file.
    pub rows: usize,
    /// New accounts.
    pub new: usize,
    /// Accounts the file changes.
    pub changed: usize,
    /// Accounts the file does not change.
    pub unchanged: usize,
    /// Rows in error (not imported).
    pub errors: usize,
    /// Which header each field was read from.
    pub columns: BTreeMap<&'static str, String>,
    /// Headers mapped to no field (ignored).
    pub unknown_columns: Vec<String>,
    /// Teacher assignments per course.
    pub assignments: Vec<Assignments>,
    /// Every row, in file order.
    pub results: Vec<AccountRow>,
}

/// Imports accounts from `bytes` (admin only, checked by the caller).
pub async fn import_accounts(
    importer: &Importer<'_>,
    bytes: &[u8],
    dry_run: bool,
    mapping: &HashMap<String, String>,
) -> Result<AccountImportReport, AppError> {
    let table = table::read(bytes)?;
    let mapping: Mapping<UserField> = columns::map(&table.headers, mapping)?;
    let mut tx = importer.pool.begin().await?;
    let stored = lock_stored(&mut tx, &table, &mapping).await?;
    let students = known_students(&mut tx, &table, &mapping).await?;
    let mut results = Vec::with_capacity(table.rows.len());
    let mut accepted = Vec::new();
    let mut seen = HashMap::new();
    for (row, cells) in &table.rows {
        let cell = |field| {
            mapping
                .column(field)
                .and_then(|c| cells.get(c))
                .cloned()
                .unwrap_or(Cell::Empty)
        };
        let (result, row_accepted) = classify(*row, &cell, &stored, &students, &mut seen);
        if let Some(mut ok) = row_accepted {
            ok.index = results.len();
            accepted.push(ok);
        }
        results.push(result);
    }
    let plans = plan_assignments(importer, &mut results, &mut accepted).await?;
    if dry_run {
        tx.rollback().await?;
    } else {
        write(importer, &mut tx, &mut results, &accepted).await?;
        tx.commit().await?;
        assign(importer, &plans).await?;
    }
    let count = |outcome| results.iter().filter(|r| r.outcome == outcome).count();
    Ok(AccountImportReport {
        dry_run,
        rows: table.rows.len(),
        new: count(Outcome::New),
        changed: count(Outcome::Changed),
        unchanged: count(Outcome::Unchanged),
        errors: count(Outcome::Error),
        columns: mapping.headers(&table.headers),
        unknown_columns: mapping.unknown.clone(),
        assignments: plans
            .iter()
            .map(|p| Assignments {
                course: p.course.to_string(),
                assigned: p.commands.len(),
                already: p.already,
            })
            .collect(),
        results,
    })
}

fn folded_usernames(table: &Table, mapping: &Mapping<UserField>) -> Vec<String> {
    let column = mapping.column(UserField::Username).expect("required");
    table
        .rows
        .iter()
        .filter_map(|(_, cells)| cells.get(column).and_then(values::text))
        .filter_map(|name| username::key(&name).ok())
        .collect()
}

/// The stored accounts the file names (by folded username), locked until the import ends.
async fn lock_stored(
    tx: &mut PgConnection,
    table: &Table,
    mapping: &Mapping<UserField>,
) -> Result<HashMap<String, Stored>, AppError> {
    let rows: Vec<Stored> = sqlx::query_as(
        "SELECT id, username_key, role, email, student_id FROM users
          WHERE username_key = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(folded_usernames(table, mapping))
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|s| (s.username_key.clone(), s))
        .collect())
}

/// The students (not erased) the file's student column names.
async fn known_students(
    tx: &mut PgConnection,
    table: &Table,
    mapping: &Mapping<UserField>,
) -> Result<Vec<String>, AppError> {
    let Some(column) = mapping.column(UserField::Student) else {
        return Ok(Vec::new());
    };
    let ids: Vec<String> = table
        .rows
        .iter()
        .filter_map(|(_, cells)| cells.get(column).and_then(values::text))
        .collect();
    Ok(
        sqlx::query_scalar("SELECT id FROM students WHERE id = ANY($1) AND erased_at IS NULL")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?,
    )
}

/// One course's teacher assignments as decided on its current state.
struct Plan {
    course: CourseId,
    commands: Vec<CourseCommand>,
    already: usize,
}

/// Decides each course's assignments: a course that does not exist makes its rows errors.
async fn plan_assignments(
    importer: &Importer<'_>,
    results: &mut [AccountRow],
    accepted: &mut Vec<Accepted>,
) -> Result<Vec<Plan>, AppError> {
    let mut wanted: BTreeMap<CourseId, Vec<usize>> = BTreeMap::new();
    for (n, row) in accepted.iter().enumerate() {
        for course in &row.courses {
            wanted.entry(course.clone()).or_default().push(n);
        }
    }
    let mut refused: HashMap<usize, String> = HashMap::new();
    let mut plans = Vec::new();
    for (course_id, rows) in wanted {
        let (course, _) = store::load(&importer.stores.courses, course_id.as_str()).await?;
        if !course.exists() {
            for n in rows {
                refused.insert(n, format!("course {course_id} does not exist"));
            }
            continue;
        }
        let mut plan = Plan {
            course: course_id,
            commands: Vec::new(),
            already: 0,
        };
        for n in rows {
            if course.is_taught_by(&accepted[n].id) {
                plan.already += 1;
                continue;
            }
            plan.commands.push(CourseCommand::AssignTeacher {
                teacher: accepted[n].id.clone(),
                by: importer.actor.clone(),
                at: chrono::Utc::now(),
            });
            let row = &mut results[accepted[n].index];
            if row.outcome == Outcome::Unchanged {
                row.outcome = Outcome::Changed;
            }
            if row.outcome == Outcome::Changed && !row.fields.contains(&"courses") {
                row.fields.push("courses");
            }
        }
        plans.push(plan);
    }
    if refused.is_empty() {
        return Ok(plans);
    }
    let dropped: Vec<UserId> = refused.keys().map(|n| accepted[*n].id.clone()).collect();
    for (n, why) in &refused {
        let row = &mut results[accepted[*n].index];
        row.outcome = Outcome::Error;
        row.fields.clear();
        problem(&mut row.errors, UserField::Courses, why.clone());
    }
    let mut n = 0;
    accepted.retain(|_| {
        n += 1;
        !refused.contains_key(&(n - 1))
    });
    for plan in &mut plans {
        plan.commands.retain(|c| !matches!(c, CourseCommand::AssignTeacher { teacher, .. } if dropped.contains(teacher)));
    }
    Ok(plans)
}

/// Creates the new accounts (each with a fresh one-time password, put in its row) and
/// updates changed e-mail addresses, in the import's transaction.
async fn write(
    importer: &Importer<'_>,
    tx: &mut PgConnection,
    results: &mut [AccountRow],
    accepted: &[Accepted],
) -> Result<(), AppError> {
    let by = ChangedBy::import(&importer.actor.user_id);
    for row in accepted {
        if !row.new {
            if row.email_changed {
                sqlx::query("UPDATE users SET email = $2 WHERE id = $1")
                    .bind(row.id.as_str())
                    .bind(row.email.as_deref())
                    .execute(&mut *tx)
                    .await?;
            }
            continue;
        }
        let secret = one_time_password();
        let hash = users::checked_hash(&row.username, secret.clone())
            .await
            .map_err(account_error)?;
        let account = NewAccount {
            username: &row.username,
            password: String::new(),
            role: row.role,
            student_id: row.student.as_ref(),
            must_change_password: true,
            email: row.email.clone(),
        };
        users::insert(tx, &row.id, &account, &hash, &by)
            .await
            .map_err(account_error)?
            .ok_or_else(|| {
                AppError::conflict(
                    "username_taken",
                    format!(
                        "the username {} was taken meanwhile; import again",
                        row.username
                    ),
                )
            })?;
        results[row.index].one_time_password = Some(secret);
    }
    Ok(())
}

fn account_error(error: CreateUserError) -> AppError {
    match error {
        CreateUserError::Sql(e) => e.into(),
        other => AppError::internal(other),
    }
}

/// One command per course assigning all its teachers of the file.
async fn assign(importer: &Importer<'_>, plans: &[Plan]) -> Result<(), AppError> {
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
