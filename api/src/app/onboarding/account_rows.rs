//! The rows of an account import made into accounts: each row's values checked field by
//! field, compared with the stored account of the same (folded) username, and classed as new,
//! changed (its e-mail), unchanged or in error (which fields, why). An import never changes a
//! role or a student link.

use super::columns::FieldSet;
use super::rows::Outcome;
use super::table::Cell;
use super::values;
use crate::app::error::FieldProblem;
use crate::auth::username;
use crate::auth::users;
use domain::{CourseId, Role, StudentId, UserId};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// A field of an account row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserField {
    /// Login name.
    Username,
    /// `admin`, `teacher` or `student`.
    Role,
    /// E-mail address.
    Email,
    /// The student number of a student account.
    Student,
    /// Course codes a teacher teaches.
    Courses,
}

impl FieldSet for UserField {
    fn all() -> &'static [Self] {
        &[
            UserField::Username,
            UserField::Role,
            UserField::Email,
            UserField::Student,
            UserField::Courses,
        ]
    }
    fn aliases() -> &'static [(Self, &'static [&'static str])] {
        &[
            (
                UserField::Username,
                &["username", "login", "user", "account"],
            ),
            (UserField::Role, &["role", "type", "accounttype"]),
            (UserField::Email, &["email", "mail", "emailaddress"]),
            (
                UserField::Student,
                &["studentid", "studentno", "studentnumber", "student"],
            ),
            (
                UserField::Courses,
                &[
                    "courses",
                    "course",
                    "coursecodes",
                    "coursestoteach",
                    "teaches",
                ],
            ),
        ]
    }
    fn required() -> &'static [Self] {
        &[UserField::Username, UserField::Role]
    }
    fn label(self) -> &'static str {
        match self {
            UserField::Username => "username",
            UserField::Role => "role",
            UserField::Email => "email",
            UserField::Student => "student_id",
            UserField::Courses => "courses",
        }
    }
}

/// One row of an account import's report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountRow {
    /// The row number as the spreadsheet shows it.
    pub row: usize,
    /// The login name, when the row has one.
    pub username: Option<String>,
    /// `new`, `changed`, `unchanged` or `error`.
    pub outcome: Outcome,
    /// For `changed`: what changes (`email`, `courses`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<&'static str>,
    /// For `error`: each field's problem.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// For a new account of a real import: its one-time password, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_password: Option<String>,
}

/// A stored account, as an import compares it.
#[derive(sqlx::FromRow)]
pub(super) struct Stored {
    pub(super) id: String,
    pub(super) username_key: String,
    pub(super) role: String,
    pub(super) email: Option<String>,
    pub(super) student_id: Option<String>,
}

/// A row that can be imported.
pub(super) struct Accepted {
    pub(super) index: usize,
    pub(super) id: UserId,
    pub(super) username: String,
    pub(super) role: Role,
    pub(super) email: Option<String>,
    pub(super) student: Option<StudentId>,
    pub(super) courses: Vec<CourseId>,
    /// New account (else: existing, `email_changed` tells whether to write).
    pub(super) new: bool,
    pub(super) email_changed: bool,
}

pub(super) fn problem(
    problems: &mut Vec<FieldProblem>,
    field: UserField,
    detail: impl Into<String>,
) {
    problems.push(FieldProblem {
        field: field.label().to_string(),
        detail: detail.into(),
        code: None,
    });
}

/// One row checked against the stored accounts and the rows before it (`seen`: folded
/// username -> row).
pub(super) fn classify(
    row: usize,
    cell: &dyn Fn(UserField) -> Cell,
    stored: &HashMap<String, Stored>,
    students: &[String],
    seen: &mut HashMap<String, usize>,
) -> (AccountRow, Option<Accepted>) {
    let mut problems = Vec::new();
    let name = values::text(&cell(UserField::Username));
    let key = match name.as_deref().map(username::key) {
        None => {
            problem(&mut problems, UserField::Username, "is missing");
            None
        }
        Some(Err(why)) => {
            problem(&mut problems, UserField::Username, why.to_string());
            None
        }
        Some(Ok(_)) if name.as_ref().is_some_and(|n| n.chars().count() > 64) => {
            problem(
                &mut problems,
                UserField::Username,
                "is longer than 64 characters",
            );
            None
        }
        Some(Ok(key)) => Some(key),
    };
    if let Some(key) = &key
        && let Some(first) = seen.get(key)
    {
        problem(
            &mut problems,
            UserField::Username,
            format!("is also on row {first}"),
        );
    } else if let Some(key) = &key {
        seen.insert(key.clone(), row);
    }
    let role = match values::text(&cell(UserField::Role)) {
        None => {
            problem(&mut problems, UserField::Role, "is missing");
            None
        }
        Some(text) => {
            let role = Role::parse(&text.to_lowercase());
            if role.is_none() {
                problem(
                    &mut problems,
                    UserField::Role,
                    format!("\"{text}\" is not admin, teacher or student"),
                );
            }
            role
        }
    };
    let email = values::email(&cell(UserField::Email)).unwrap_or_else(|why| {
        problem(&mut problems, UserField::Email, why);
        None
    });
    let student = student_of(&cell(UserField::Student), role, students, &mut problems);
    let (courses, refused) = values::course_codes(&cell(UserField::Courses));
    for why in refused {
        problem(&mut problems, UserField::Courses, why);
    }
    if !courses.is_empty() && role.is_some_and(|r| r != Role::Teacher) {
        problem(
            &mut problems,
            UserField::Courses,
            "only teachers are assigned courses",
        );
    }
    let before = key.as_ref().and_then(|k| stored.get(k));
    if let (Some(before), Some(role)) = (before, role) {
        if before.role != role.as_str() {
            problem(
                &mut problems,
                UserField::Role,
                format!(
                    "the account is {} already; an import does not change a role",
                    before.role
                ),
            );
        }
        if before.student_id.as_deref() != student.as_ref().map(StudentId::as_str) {
            problem(
                &mut problems,
                UserField::Student,
                "differs from the account's student; an import does not change it",
            );
        }
    }
    let mut result = AccountRow {
        row,
        username: name.clone(),
        outcome: Outcome::Error,
        fields: Vec::new(),
        errors: Vec::new(),
        one_time_password: None,
    };
    let (Some(name), Some(role), true) = (name, role, problems.is_empty()) else {
        result.errors = problems;
        return (result, None);
    };
    let email = email.or_else(|| before.and_then(|b| b.email.clone()));
    let email_changed = before.is_some_and(|b| b.email != email);
    result.outcome = match before {
        None => Outcome::New,
        Some(_) if email_changed => Outcome::Changed,
        Some(_) => Outcome::Unchanged,
    };
    if email_changed {
        result.fields.push("email");
    }
    let id = match before {
        Some(b) => UserId::parse(b.id.clone()).unwrap_or_else(|_| users::new_id()),
        None => users::new_id(),
    };
    let accepted = Accepted {
        index: 0,
        id,
        username: name,
        role,
        email,
        student,
        courses,
        new: before.is_none(),
        email_changed,
    };
    (result, Some(accepted))
}

fn student_of(
    cell: &Cell,
    role: Option<Role>,
    students: &[String],
    problems: &mut Vec<FieldProblem>,
) -> Option<StudentId> {
    let text = values::text(cell);
    match (role, text) {
        (Some(Role::Student), None) => {
            problem(
                problems,
                UserField::Student,
                "is required for student accounts",
            );
            None
        }
        (Some(Role::Student), Some(text)) => match StudentId::parse(text.clone()) {
            Ok(id) if students.contains(&id.to_string()) => Some(id),
            Ok(id) => {
                problem(
                    problems,
                    UserField::Student,
                    format!("student {id} does not exist"),
                );
                None
            }
            Err(e) => {
                problem(problems, UserField::Student, format!("\"{text}\" {e}"));
                None
            }
        },
        (_, Some(_)) => {
            problem(problems, UserField::Student, "is only for student accounts");
            None
        }
        (_, None) => None,
    }
}
