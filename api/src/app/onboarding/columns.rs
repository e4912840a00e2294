//! Which column holds which field: header names matched against an alias table (the seed
//! system's spreadsheet headers among them) without regard to case, spaces, underscores,
//! hyphens or dots, and overridable per import. One matcher for every kind of import: each
//! kind names its fields, their aliases and the ones a file needs ([`FieldSet`]).

use crate::app::error::{AppError, FieldProblem};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// A student field a column can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The student number.
    Id,
    /// Full name.
    Name,
    /// E-mail address.
    Email,
    /// Department.
    Department,
    /// Level or year.
    Level,
    /// Telephone.
    Phone,
    /// Whether the student is active.
    Active,
    /// The registration date.
    RegisteredOn,
    /// Course codes to enrol the student in (separated by commas, semicolons or spaces).
    Course,
}

impl Field {
    /// Every field, in the order a report lists them.
    pub const ALL: [Field; 9] = [
        Field::Id,
        Field::Name,
        Field::Email,
        Field::Department,
        Field::Level,
        Field::Phone,
        Field::Active,
        Field::RegisteredOn,
        Field::Course,
    ];

    /// The field's name in a mapping and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Name => "name",
            Field::Email => "email",
            Field::Department => "department",
            Field::Level => "level",
            Field::Phone => "phone",
            Field::Active => "active",
            Field::RegisteredOn => "registered_on",
            Field::Course => "course",
        }
    }
}

/// The fields an import reads, with their default header names.
pub trait FieldSet: Copy + Ord + std::fmt::Debug + 'static {
    /// Every field, in the order a report lists them.
    fn all() -> &'static [Self];
    /// The default header names of each field, folded (see [`fold`]).
    fn aliases() -> &'static [(Self, &'static [&'static str])];
    /// The fields a file must have a column for.
    fn required() -> &'static [Self];
    /// The field's name in a mapping and in reports.
    fn label(self) -> &'static str;
}

impl FieldSet for Field {
    fn all() -> &'static [Self] {
        &Field::ALL
    }
    fn aliases() -> &'static [(Self, &'static [&'static str])] {
        &ALIASES
    }
    fn required() -> &'static [Self] {
        &[Field::Id, Field::Name]
    }
    fn label(self) -> &'static str {
        self.name()
    }
}

fn parse<F: FieldSet>(name: &str) -> Option<F> {
    F::all().iter().copied().find(|f| f.label() == fold(name))
}

/// The default header names of each field, folded (see [`fold`]). The seed system's
/// spreadsheet used `Student_No`, `Full_Name`, `Dept`, `Year`, `Mobile`, `Status` and
/// `Reg_Date`.
pub const ALIASES: [(Field, &[&str]); 9] = [
    (
        Field::Id,
        &[
            "id",
            "studentno",
            "studentnumber",
            "studentid",
            "matricule",
            "number",
        ],
    ),
    (Field::Name, &["name", "fullname", "studentname", "student"]),
    (Field::Email, &["email", "mail", "emailaddress"]),
    (Field::Department, &["department", "dept", "faculty"]),
    (Field::Level, &["level", "year", "grade", "class"]),
    (
        Field::Phone,
        &["phone", "mobile", "telephone", "tel", "phonenumber"],
    ),
    (Field::Active, &["active", "status", "enabled"]),
    (
        Field::RegisteredOn,
        &["registeredon", "regdate", "registrationdate", "registered"],
    ),
    (
        Field::Course,
        &["course", "courses", "coursecode", "coursecodes"],
    ),
];

/// A header as compared: lower case, without spaces, underscores, hyphens or dots.
pub fn fold(header: &str) -> String {
    header
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Which column holds each field, and the headers that hold none.
#[derive(Debug, Clone)]
pub struct Mapping<F = Field> {
    /// Field to column index.
    pub columns: BTreeMap<F, usize>,
    /// Headers mapped to no field (reported, their cells ignored).
    pub unknown: Vec<String>,
}

impl<F: FieldSet> Mapping<F> {
    /// The column of a field, if the file has it.
    pub fn column(&self, field: F) -> Option<usize> {
        self.columns.get(&field).copied()
    }

    /// Which header each field was read from, for a report.
    pub fn headers(&self, headers: &[String]) -> BTreeMap<&'static str, String> {
        self.columns
            .iter()
            .map(|(field, column)| (field.label(), headers[*column].clone()))
            .collect()
    }
}

/// Maps the headers: `overrides` (header as written -> field name, or `""` to ignore a
/// column) first, then the alias table. A file needs a column for each required field (for
/// students an id and a name); a field named by two columns is refused.
pub fn map<F: FieldSet>(
    headers: &[String],
    overrides: &HashMap<String, String>,
) -> Result<Mapping<F>, AppError> {
    let overrides = folded_overrides::<F>(overrides)?;
    let mut mapping = Mapping {
        columns: BTreeMap::new(),
        unknown: Vec::new(),
    };
    for (index, header) in headers.iter().enumerate() {
        let key = fold(header);
        let field = match overrides.get(&key) {
            Some(None) => continue,
            Some(field) => *field,
            None => F::aliases()
                .iter()
                .find(|(_, names)| names.contains(&key.as_str()))
                .map(|(field, _)| *field),
        };
        match field {
            Some(field) => {
                if let Some(first) = mapping.columns.insert(field, index) {
                    return Err(AppError::invalid(
                        "mapping",
                        format!(
                            "columns \"{}\" and \"{header}\" both map to {}; name one in `mapping`",
                            headers[first],
                            field.label()
                        ),
                    ));
                }
            }
            None if !header.trim().is_empty() => mapping.unknown.push(header.clone()),
            None => {}
        }
    }
    for needed in F::required().iter().copied() {
        if mapping.column(needed).is_none() {
            return Err(AppError::invalid(
                "file",
                format!(
                    "no column for {}: the headers are {headers:?}; name it in `mapping`",
                    needed.label()
                ),
            ));
        }
    }
    Ok(mapping)
}

/// The overrides keyed by folded header; `None` ignores the column.
fn folded_overrides<F: FieldSet>(
    overrides: &HashMap<String, String>,
) -> Result<HashMap<String, Option<F>>, AppError> {
    let mut folded = HashMap::new();
    let mut problems = Vec::new();
    for (header, name) in overrides {
        let field = if name.trim().is_empty() {
            None
        } else {
            match parse::<F>(name) {
                Some(field) => Some(field),
                None => {
                    problems.push(FieldProblem {
                        field: format!("mapping.{header}"),
                        detail: format!(
                            "\"{name}\" is not a field; use one of {}",
                            F::all()
                                .iter()
                                .map(|f| f.label())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        code: None,
                    });
                    continue;
                }
            }
        };
        folded.insert(fold(header), field);
    }
    if problems.is_empty() {
        Ok(folded)
    } else {
        Err(AppError::Invalid {
            code: "invalid_field",
            detail: "the mapping names unknown fields".into(),
            errors: problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_seed_headers_map_without_regard_to_case_and_spacing() {
        let h = headers(&[
            "Student_No",
            "FULL NAME",
            "Dept",
            "Year",
            "Mobile",
            "Status",
            "Reg_Date",
            "Notes",
        ]);
        let mapping: Mapping = map(&h, &HashMap::new()).unwrap();
        assert_eq!(mapping.column(Field::Id), Some(0));
        assert_eq!(mapping.column(Field::Name), Some(1));
        assert_eq!(mapping.column(Field::Department), Some(2));
        assert_eq!(mapping.column(Field::Level), Some(3));
        assert_eq!(mapping.column(Field::Phone), Some(4));
        assert_eq!(mapping.column(Field::Active), Some(5));
        assert_eq!(mapping.column(Field::RegisteredOn), Some(6));
        assert_eq!(mapping.unknown, vec!["Notes"]);
    }

    #[test]
    fn a_mapping_names_a_column_the_aliases_do_not_know_and_ignores_another() {
        let h = headers(&["Matric No.", "Name", "Year"]);
        let overrides = HashMap::from([
            ("matric no.".to_string(), "id".to_string()),
            ("Year".to_string(), String::new()),
        ]);
        let mapping: Mapping = map(&h, &overrides).unwrap();
        assert_eq!(mapping.column(Field::Id), Some(0));
        assert_eq!(mapping.column(Field::Level), None);
        assert!(mapping.unknown.is_empty());
    }

    #[test]
    fn a_file_without_an_id_column_is_refused_naming_its_headers() {
        let error = map::<Field>(&headers(&["Name", "Mail"]), &HashMap::new()).unwrap_err();
        assert!(error.to_string().contains("no column for id"), "{error}");
    }

    #[test]
    fn two_columns_for_one_field_are_refused() {
        let error =
            map::<Field>(&headers(&["ID", "Student No", "Name"]), &HashMap::new()).unwrap_err();
        assert!(error.to_string().contains("both map to id"), "{error}");
    }
}
