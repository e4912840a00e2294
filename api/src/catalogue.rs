//! The catalogue of problem types: every `code` a problem document can carry, with its HTTP
//! status, its title and when it happens.
//!
//! One table, read by the error responses (their `title`) and by the OpenAPI document (the
//! descriptions of the documented problem responses), so that what the server answers and
//! what integrators read cannot drift apart. A code is stable once published: clients branch
//! on it.

/// One problem type: `type` is `/problems/<code>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemType {
    /// The stable machine-readable code.
    pub code: &'static str,
    /// The HTTP status it is answered with.
    pub status: u16,
    /// The short summary, the same for every occurrence (RFC 9457 `title`).
    pub title: &'static str,
    /// When it happens, for a person reading the API documentation.
    pub when: &'static str,
}

const fn problem(
    code: &'static str,
    status: u16,
    title: &'static str,
    when: &'static str,
) -> ProblemType {
    ProblemType {
        code,
        status,
        title,
        when,
    }
}

/// Every problem type the API answers, ordered by status.
// One row per line: the table is read (and reviewed) as a table.
#[rustfmt::skip]
pub const PROBLEM_TYPES: &[ProblemType] = &[
    problem("bad_request", 400, "Bad request", "the request is malformed in a way not named more precisely"),
    problem("invalid_parameter", 400, "Invalid parameter", "a path or query parameter is malformed; `errors` names it"),
    problem("malformed_json", 400, "Malformed JSON", "the body is not valid JSON"),
    problem("multipart_expected", 400, "Multipart body expected", "an upload is not a multipart/form-data body"),
    problem("bad_multipart", 400, "Malformed multipart body", "a multipart upload cannot be read"),
    problem("unknown_format", 400, "Unknown report format", "the report format is unknown or disabled; the detail lists the available ones"),
    problem("unauthorized", 401, "Unauthorized", "the bearer token is missing, malformed, expired or revoked, or the username or password is wrong"),
    problem("forbidden", 403, "Forbidden", "the caller's role or ownership does not allow this (a teacher outside their courses, a student reading another student)"),
    problem("password_change_required", 403, "Password change required", "the account signed in with a one-time password (a reset or an import): only `POST /api/auth/password` and sign-out are allowed until it sets its own"),
    problem("not_found", 404, "Not found", "the resource does not exist or is not visible to the caller, or the route is unknown"),
    problem("student_not_found", 404, "Student not found", "a mark names a student number that does not exist: create the student first"),
    problem("method_not_allowed", 405, "Method not allowed", "the route exists but not with this method"),
    problem("timeout", 408, "Request timeout", "the request took too long"),
    problem("course_exists", 409, "Course exists", "a course with this code already exists"),
    problem("student_exists", 409, "Student exists", "a student with this number already exists"),
    problem("student_erased", 409, "Student erased", "the student's personal data was erased and cannot be changed"),
    problem("username_taken", 409, "Username taken", "an account with this username already exists"),
    problem("cannot_disable_self", 409, "Cannot disable yourself", "an administrator tried to disable their own account"),
    problem("teacher_not_assigned", 409, "Teacher not assigned", "the user is not a teacher of the course"),
    problem("not_enrolled", 409, "Not enrolled", "the student is not enrolled in the course"),
    problem("enrollment_overlaps", 409, "Enrolment overlaps", "the student is already enrolled in the course over these dates"),
    problem("session_exists", 409, "Session exists", "the course already has this session"),
    problem("session_cancelled", 409, "Session cancelled", "the session is cancelled: no attendance is taken for it"),
    problem("course_archived", 409, "Course archived", "the course is archived: it takes no new sessions until an administrator restores it"),
    problem("course_changed", 409, "Course changed", "the course changed while the request was decided (e.g. its time zone): send it again"),
    problem("register_not_open", 409, "Register not open", "the session's register has not been opened"),
    problem("register_already_open", 409, "Register already open", "the session's register was opened before"),
    problem("register_closed", 409, "Register closed", "the register is closed: only corrections are accepted"),
    problem("not_on_roster", 409, "Not on the roster", "the student was not enrolled on the session's day"),
    problem("removed_from_roster", 409, "Removed from the roster", "the student's enrolment changed and no longer covers the session's day: they were taken off its register and their earlier marks there no longer count"),
    problem("correction_required", 409, "Correction required", "the student already has a different status: send a correction with a reason"),
    problem("not_marked", 409, "Not marked", "a correction names a student who has no mark yet"),
    problem("duplicate_row", 409, "Duplicate row", "a roll call names the same student twice"),
    problem("check_in_already_open", 409, "Check-in already open", "check-in for the session is already open: close it before opening another window"),
    problem("check_in_not_open", 409, "Check-in not open", "nobody opened check-in for this session"),
    problem("check_in_not_yet_open", 409, "Check-in not yet open", "the session's check-in window opens later; the detail says when"),
    problem("check_in_closed", 409, "Check-in closed", "the session's check-in window was closed, its time is over, or the register was closed; nothing was recorded"),
    problem("check_in_network", 409, "Network not allowed", "the check-in came from a network the window does not list (the address is the connection's, or the trusted proxy header's when one is configured)"),
    problem("marked_by_staff", 409, "Marked by staff", "the student's mark was set by staff (or a sheet or an import): a check-in never replaces it; the teacher can correct it"),
    problem("concurrent_write", 409, "Concurrent write", "other writes to the same register or course kept winning; retry"),
    problem("idempotency_key_in_progress", 409, "Idempotency key in progress", "a request with this Idempotency-Key is still running"),
    problem("payload_too_large", 413, "Payload too large", "the body is larger than the configured limit"),
    problem("headers_too_large", 431, "Request header fields too large", "the request's headers together are larger than 32 KiB"),
    problem("unsupported_media_type", 415, "Unsupported media type", "the body is not sent as application/json"),
    problem("invalid_field", 422, "Invalid field", "a field of the body is missing, unknown or invalid; `errors` names each one"),
    problem("wrong_password", 422, "Wrong password", "the current password given to change it is wrong (failures count towards the sign-in lockout)"),
    problem("roll_call_refused", 422, "Roll call refused", "rows of a roll call break a rule; `errors` names each row and its code; nothing was recorded"),
    problem("ambiguous_session", 422, "Ambiguous session", "the course has several sessions that day; `errors` lists them: name one"),
    problem("check_in_code_wrong", 422, "Wrong check-in code", "the code is not the one shown for this session (another session's, or mistyped); nothing was recorded and it counts towards the limit of wrong codes"),
    problem("check_in_code_expired", 422, "Check-in code expired", "the code is this session's but older than the previous 15-second step; nothing was recorded and it counts towards the limit of wrong codes"),
    problem("idempotency_key_reused", 422, "Idempotency key reused", "this Idempotency-Key was used for a different request"),
    problem("not_a_pdf", 422, "Not a PDF or a photo", "an uploaded file is not a PDF, a JPEG or a PNG"),
    problem("damaged_pdf", 422, "Damaged PDF", "the uploaded PDF is damaged or truncated"),
    problem("encrypted_pdf", 422, "Encrypted PDF", "the uploaded PDF is encrypted"),
    problem("empty_pdf", 422, "Empty PDF", "the uploaded PDF has no pages"),
    problem("unreadable_spreadsheet", 422, "Unreadable spreadsheet", "an imported file is empty, has no header row, or is neither a workbook (XLSX, XLS, XLSB, ODS) nor UTF-8 CSV; the detail says which"),
    problem("too_many_rows", 422, "Too many rows", "an imported spreadsheet has more rows than an import accepts (50,000): split it"),
    problem("too_many_pages", 422, "Too many pages", "the uploaded PDF has more pages than an import accepts"),
    problem("too_many_attempts", 429, "Too many attempts", "too many failed logins for this username; wait for `Retry-After`"),
    problem("check_in_attempts", 429, "Too many check-in attempts", "the student gave too many wrong check-in codes within a minute; wait for `Retry-After`"),
    problem("internal", 500, "Internal server error", "an unexpected failure; it is logged and never shown"),
    problem("unavailable", 503, "Service unavailable", "the database is unreachable, or the import breaker is open; wait for `Retry-After`"),
];

/// The problem type of a code.
pub fn problem_type(code: &str) -> Option<&'static ProblemType> {
    PROBLEM_TYPES.iter().find(|p| p.code == code)
}

/// The problem types answered with a status.
pub fn with_status(status: u16) -> impl Iterator<Item = &'static ProblemType> {
    PROBLEM_TYPES.iter().filter(move |p| p.status == status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use domain::course::CourseError;
    use domain::register::RegisterError;

    /// The catalogue knows the problem's code, with the status it is answered with.
    fn assert_catalogued(error: ApiError) {
        let problem = error.problem();
        let entry = problem_type(&problem.code)
            .unwrap_or_else(|| panic!("`{}` is not in the catalogue", problem.code));
        assert_eq!(entry.status, problem.status, "status of `{}`", problem.code);
        assert_eq!(entry.title, problem.title, "title of `{}`", problem.code);
    }

    #[test]
    fn codes_are_unique_and_errors_only() {
        for (i, p) in PROBLEM_TYPES.iter().enumerate() {
            assert!(
                PROBLEM_TYPES[..i].iter().all(|q| q.code != p.code),
                "`{}` twice",
                p.code
            );
            assert!((400..600).contains(&p.status), "`{}`", p.code);
            assert!(!p.title.is_empty() && !p.when.is_empty(), "`{}`", p.code);
        }
    }

    #[test]
    fn every_business_rule_answers_a_catalogued_problem() {
        let student = || domain::StudentId::parse("S1").unwrap();
        let session = || domain::SessionId::parse("s1").unwrap();
        for error in [
            CourseError::AlreadyExists,
            CourseError::NotFound,
            CourseError::SessionNotFound(session()),
            CourseError::NameRequired,
            CourseError::TitleRequired,
            CourseError::InvalidDuration,
            CourseError::InvalidPolicy(domain::PolicyError::ThresholdOutOfRange),
            CourseError::TeacherNotAssigned(domain::UserId::parse("u1").unwrap()),
            CourseError::NotEnrolled(student()),
            CourseError::EnrollmentOverlaps(student()),
            CourseError::SessionExists(session()),
            CourseError::SessionCancelled(session()),
        ] {
            assert_catalogued(crate::app::AppError::from(error).into());
        }
        for error in [
            RegisterError::NotOpened,
            RegisterError::AlreadyOpened,
            RegisterError::NotOnRoster(student()),
            RegisterError::CorrectionRequired {
                student_id: student(),
                current: domain::Status::Present,
            },
            RegisterError::ReasonRequired,
            RegisterError::NotMarked(student()),
            RegisterError::Closed,
            RegisterError::EmptyRollCall,
            RegisterError::DuplicateRow(student()),
            RegisterError::NothingToReview(student()),
            RegisterError::RollCallRefused(Vec::new()),
            RegisterError::CheckInAlreadyOpen,
            RegisterError::CheckInNotOpen,
            RegisterError::CheckInClosed,
            RegisterError::NetworkNotAllowed,
            RegisterError::MarkedByStaff {
                current: domain::Status::Absent,
                method: domain::Method::Manual,
            },
            RegisterError::InvalidCheckIn {
                field: "closes_at",
                detail: "too early".into(),
            },
        ] {
            assert_catalogued(crate::app::AppError::from(error).into());
        }
        let wrong = domain::standing::StandingError::WrongStanding {
            course_id: domain::CourseId::parse("CS101").unwrap(),
            student_id: student(),
        };
        assert_catalogued(crate::app::AppError::from(wrong).into());
    }

    #[test]
    fn every_generic_error_answers_a_catalogued_problem() {
        use std::time::Duration;
        let wait = Duration::from_secs(1);
        for error in [
            ApiError::bad_param("id", "bad"),
            ApiError::invalid("name", "empty"),
            ApiError::Unauthorized("no token"),
            ApiError::Forbidden("no"),
            ApiError::PasswordChangeRequired,
            ApiError::NotFound("gone".into()),
            ApiError::PayloadTooLarge { limit: 1 },
            ApiError::UnsupportedMediaType,
            ApiError::TooManyAttempts { retry_after: wait },
            ApiError::Throttled {
                code: "check_in_attempts",
                detail: "wait".into(),
                retry_after: wait,
            },
            ApiError::Unavailable {
                detail: "down".into(),
                retry_after: wait,
            },
            ApiError::internal("boom"),
        ] {
            assert_catalogued(error);
        }
    }

    /// Every code written in the source, as a rule's `code` or a refusal's `conflict(..)`.
    fn codes_in(dir: &std::path::Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                codes_in(&path, found);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("catalogue.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for marker in ["conflict(\"", "code: \""] {
                for (at, _) in text.match_indices(marker) {
                    let rest = &text[at + marker.len()..];
                    let code: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if rest[code.len()..].starts_with('"') && !code.is_empty() {
                        found.push((path.display().to_string(), code));
                    }
                }
            }
        }
    }

    #[test]
    fn every_code_written_in_the_source_is_catalogued() {
        let mut found = Vec::new();
        codes_in(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(found.len() > 10, "the scan found the codes: {found:?}");
        let missing: Vec<_> = found
            .iter()
            .filter(|(_, code)| problem_type(code).is_none())
            .collect();
        assert!(missing.is_empty(), "not in the catalogue: {missing:?}");
    }

    #[test]
    fn the_readme_table_is_the_catalogue() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
        let section = readme
            .split("### Problem codes\n")
            .nth(1)
            .expect("the README has a \"### Problem codes\" section");
        let section = section.split("\n#").next().unwrap();
        let rows: Vec<&str> = section
            .lines()
            .filter(|line| line.starts_with("| `"))
            .collect();
        let expected: Vec<String> = PROBLEM_TYPES
            .iter()
            .map(|p| format!("| `{}` | {} | {} | {} |", p.code, p.status, p.title, p.when))
            .collect();
        assert_eq!(
            rows, expected,
            "the README's problem table (\"| `code` | status | title | when |\") is the catalogue, in order"
        );
    }
}
