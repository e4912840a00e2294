//! One cell made into one field's value: trimmed, e-mail in lower case, dates in the forms
//! spreadsheets write them (ISO, day/month/year, an Excel serial number), yes/no in several
//! words. A value that cannot be made into its field is a reason a teacher can act on.

use super::table::Cell;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use utoipa::ToSchema;

/// How a date like `03/04/2026` is read when both numbers could be the month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    /// Day first (03/04/2026 is 3 April), as most of the world writes it.
    #[default]
    Dmy,
    /// Month first (03/04/2026 is 4 March), as the United States writes it.
    Mdy,
}

/// Excel's day 0 in the 1900 date system (it counts a 29 February 1900 that never was, so
/// serials from 61 on are counted from 30 December 1899).
fn excel_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid date")
}

/// The cell as text (numbers without a trailing `.0`), or `None` when empty.
pub fn text(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Empty => None,
        Cell::Text(s) => Some(s.clone()),
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some(format!("{}", *n as i64)),
        Cell::Number(n) => Some(n.to_string()),
        Cell::Date(d) => Some(d.to_string()),
        Cell::Bool(b) => Some(b.to_string()),
    }
}

/// Course codes separated by commas, semicolons or spaces, each once; and why each code that
/// is not one was refused.
pub fn course_codes(cell: &Cell) -> (Vec<domain::CourseId>, Vec<String>) {
    let (mut courses, mut refused) = (Vec::new(), Vec::new());
    let Some(text) = text(cell) else {
        return (courses, refused);
    };
    for code in text.split([',', ';', ' ']).filter(|c| !c.is_empty()) {
        match domain::CourseId::parse(code) {
            Ok(course) if !courses.contains(&course) => courses.push(course),
            Ok(_) => {}
            Err(e) => refused.push(format!("\"{code}\" {e}")),
        }
    }
    (courses, refused)
}

/// An e-mail address in lower case.
pub fn email(cell: &Cell) -> Result<Option<String>, String> {
    let Some(value) = text(cell) else {
        return Ok(None);
    };
    let value = value.to_lowercase();
    let valid = value.len() <= 254
        && !value.contains(char::is_whitespace)
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(Some(value))
    } else {
        Err(format!("\"{value}\" is not an e-mail address"))
    }
}

/// Whether the student is active: yes/no, true/false, 1/0, active/inactive (English and a
/// few of the seed's words).
pub fn active(cell: &Cell) -> Result<Option<bool>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Bool(b) => Ok(Some(*b)),
        Cell::Number(n) if *n == 1.0 => Ok(Some(true)),
        Cell::Number(n) if *n == 0.0 => Ok(Some(false)),
        other => {
            let value = text(other).unwrap_or_default().to_lowercase();
            match value.as_str() {
                "yes" | "y" | "true" | "active" | "enrolled" | "current" | "1" | "نشط" => {
                    Ok(Some(true))
                }
                "no" | "n" | "false" | "inactive" | "withdrawn" | "left" | "0" | "غير نشط" => {
                    Ok(Some(false))
                }
                _ => Err(format!(
                    "\"{value}\" is neither active nor inactive (use yes or no)"
                )),
            }
        }
    }
}

/// A date: a date cell, an Excel serial number, `2026-09-01`, `2026/09/01`, `01.09.2026`,
/// `1/9/2026` or `1-9-26` (read by `order` when both could be the month).
pub fn date(cell: &Cell, order: DateOrder) -> Result<Option<NaiveDate>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Date(d) => Ok(Some(*d)),
        Cell::Number(n) => serial(*n).map(Some),
        Cell::Text(s) => match s.parse::<f64>() {
            Ok(n) if !s.contains(['-', '/', '.']) => serial(n).map(Some),
            _ => written(s, order).map(Some),
        },
        Cell::Bool(_) => Err("a true/false cell is not a date".into()),
    }
}

fn serial(n: f64) -> Result<NaiveDate, String> {
    // 1 (1900-01-01) to 2958465 (9999-12-31); a year before 1900 is not a registration date.
    if !(1.0..=2_958_465.0).contains(&n) {
        return Err(format!("{n} is not a date"));
    }
    let days = n.floor() as i64;
    let days = if days < 61 { days + 1 } else { days };
    Ok(excel_epoch() + chrono::Duration::days(days))
}

fn written(s: &str, order: DateOrder) -> Result<NaiveDate, String> {
    let unreadable = || format!("\"{s}\" is not a date (write it as YYYY-MM-DD)");
    let date_part = s.split([' ', 'T']).next().unwrap_or(s);
    let parts: Vec<&str> = date_part.split(['-', '/', '.']).collect();
    let [a, b, c] = parts[..] else {
        return Err(unreadable());
    };
    let numbers: Vec<u32> = [a, b, c]
        .iter()
        .map(|p| p.parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| unreadable())?;
    let (year, month, day) = if a.len() == 4 {
        (numbers[0] as i32, numbers[1], numbers[2])
    } else {
        let year = match c.len() {
            4 => numbers[2] as i32,
            2 => 2000 + numbers[2] as i32,
            _ => return Err(unreadable()),
        };
        let (first, second) = (numbers[0], numbers[1]);
        let day_first = match order {
            _ if first > 12 => true,
            _ if second > 12 => false,
            DateOrder::Dmy => true,
            DateOrder::Mdy => false,
        };
        if day_first {
            (year, second, first)
        } else {
            (year, first, second)
        }
    };
    NaiveDate::from_ymd_opt(year, month, day)
        .filter(|d| d.year() >= 1900)
        .ok_or_else(unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn dates_are_read_in_the_forms_spreadsheets_write() {
        let dmy = DateOrder::Dmy;
        assert_eq!(
            date(&Cell::Text("2026-09-01".into()), dmy),
            Ok(day(2026, 9, 1))
        );
        assert_eq!(
            date(&Cell::Text("2026/09/01".into()), dmy),
            Ok(day(2026, 9, 1))
        );
        assert_eq!(
            date(&Cell::Text("01.09.2026".into()), dmy),
            Ok(day(2026, 9, 1))
        );
        assert_eq!(date(&Cell::Text("1/9/26".into()), dmy), Ok(day(2026, 9, 1)));
        assert_eq!(
            date(&Cell::Text("1/9/26".into()), DateOrder::Mdy),
            Ok(day(2026, 1, 9))
        );
        // 13 cannot be a month, whatever the order says.
        assert_eq!(
            date(&Cell::Text("9/13/2026".into()), dmy),
            Ok(day(2026, 9, 13))
        );
        assert_eq!(
            date(&Cell::Text("2026-09-01 00:00:00".into()), dmy),
            Ok(day(2026, 9, 1))
        );
    }

    #[test]
    fn an_excel_serial_number_is_a_date_in_a_cell_or_as_text() {
        // 46266 days after 1899-12-30 is 2026-09-01.
        assert_eq!(
            date(&Cell::Number(46266.0), DateOrder::Dmy),
            Ok(day(2026, 9, 1))
        );
        assert_eq!(
            date(&Cell::Text("46266".into()), DateOrder::Dmy),
            Ok(day(2026, 9, 1))
        );
        // Before Excel's phantom 29 February 1900: serial 1 is 1 January 1900.
        assert_eq!(
            date(&Cell::Number(1.0), DateOrder::Dmy),
            Ok(day(1900, 1, 1))
        );
    }

    #[test]
    fn a_date_that_is_no_date_says_how_to_write_one() {
        let error = date(&Cell::Text("31/02/2026".into()), DateOrder::Dmy).unwrap_err();
        assert!(error.contains("YYYY-MM-DD"), "{error}");
        assert!(date(&Cell::Text("soon".into()), DateOrder::Dmy).is_err());
    }

    #[test]
    fn e_mail_addresses_are_lower_cased_and_checked() {
        let cell = Cell::Text("Zoe.Nunez@Example.EDU".into());
        assert_eq!(email(&cell), Ok(Some("zoe.nunez@example.edu".into())));
        assert!(email(&Cell::Text("zoe at example".into())).is_err());
        assert!(email(&Cell::Text("zoe@localhost".into())).is_err());
    }

    #[test]
    fn active_reads_yes_no_words_and_booleans() {
        assert_eq!(active(&Cell::Text("Active".into())), Ok(Some(true)));
        assert_eq!(active(&Cell::Text("withdrawn".into())), Ok(Some(false)));
        assert_eq!(active(&Cell::Bool(false)), Ok(Some(false)));
        assert_eq!(active(&Cell::Number(1.0)), Ok(Some(true)));
        assert!(active(&Cell::Text("maybe".into())).is_err());
    }
}
