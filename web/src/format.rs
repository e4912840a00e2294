//! Dates, times and numbers as a person reads them in their language: instants in the
//! course's zone with the offset shown ("Mon 5 Jan 2026, 09:00 (UTC-06:00)"), day and
//! month names, digits and decimal sign from the catalogue (Arabic: Arabic month names,
//! Arabic-Indic digits, the offset kept left to right inside right-to-left text).

use crate::i18n::Catalogue;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike, Utc};
use domain::Zone;

/// Left-to-right isolate and its end: keeps "UTC+03:00" reading as one token in Arabic.
const LTR_START: char = '\u{2066}';
const LTR_END: char = '\u{2069}';

/// Writes ASCII digits in the language's digits and `.` as its decimal sign.
pub fn digits(t: &Catalogue, text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '0'..='9' => t.digits[(c as u8 - b'0') as usize],
            '.' => t.decimal_sign,
            other => other,
        })
        .collect()
}

/// A whole number in the language's digits.
pub fn number(t: &Catalogue, n: impl std::fmt::Display) -> String {
    digits(t, &n.to_string())
}

/// A rate as shown: one decimal and the language's percent sign.
pub fn percent(t: &Catalogue, rate: f64) -> String {
    t.percent.replace("{n}", &digits(t, &format!("{rate:.1}")))
}

/// A day: "Mon 5 Jan 2026".
pub fn day(t: &Catalogue, date: NaiveDate) -> String {
    let weekday = t.weekdays[date.weekday().num_days_from_monday() as usize];
    let month = t.months[date.month0() as usize];
    t.date_pattern
        .replace("{weekday}", weekday)
        .replace("{day}", &number(t, date.day()))
        .replace("{month}", month)
        .replace("{year}", &number(t, date.year()))
}

/// An instant in `zone`, with the offset: "Mon 5 Jan 2026, 09:00 (UTC-06:00)".
pub fn when(t: &Catalogue, zone: &Zone, at: DateTime<Utc>) -> String {
    let local = zone.show(at);
    let time = digits(t, &format!("{:02}:{:02}", local.hour(), local.minute()));
    t.date_time_pattern
        .replace("{date}", &day(t, local.date_naive()))
        .replace("{time}", &time)
        .replace("{offset}", &offset(t, local.offset()))
}

/// "UTC+03:00", isolated left to right inside right-to-left text.
fn offset(t: &Catalogue, offset: &FixedOffset) -> String {
    let seconds = offset.local_minus_utc();
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    let text = format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60);
    let text = digits(t, &text);
    if t.dir == "rtl" {
        format!("{LTR_START}{text}{LTR_END}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{AR, EN};
    use chrono::TimeZone;

    fn zone(name: &str) -> Zone {
        Zone::parse(name).unwrap()
    }

    #[test]
    fn an_instant_shows_in_the_course_zone_with_its_offset() {
        // 15:00 UTC on Monday 5 January 2026 is 09:00 in Chicago (UTC-6 in winter).
        let at = Utc.with_ymd_and_hms(2026, 1, 5, 15, 0, 0).unwrap();
        assert_eq!(
            when(&EN, &zone("America/Chicago"), at),
            "Mon 5 Jan 2026, 09:00 (UTC-06:00)"
        );
    }

    #[test]
    fn the_local_day_can_differ_from_the_utc_day() {
        // 23:30 UTC on Sunday is already Monday 02:30 in Riyadh (UTC+3).
        let at = Utc.with_ymd_and_hms(2026, 1, 4, 23, 30, 0).unwrap();
        assert!(when(&EN, &zone("Asia/Riyadh"), at).starts_with("Mon 5 Jan 2026, 02:30"));
    }

    #[test]
    fn arabic_has_arabic_names_and_digits() {
        let at = Utc.with_ymd_and_hms(2026, 1, 5, 6, 0, 0).unwrap();
        let shown = when(&AR, &zone("Asia/Riyadh"), at);
        assert!(shown.contains("الاثنين"), "{shown}");
        assert!(shown.contains("يناير"), "{shown}");
        assert!(shown.contains("٢٠٢٦") && shown.contains("٠٩:٠٠"), "{shown}");
        assert!(shown.contains("\u{2066}UTC+٠٣:٠٠\u{2069}"), "{shown}");
    }

    #[test]
    fn a_rate_uses_the_language_decimal_and_percent_signs() {
        assert_eq!(percent(&EN, 87.24), "87.2 %");
        assert_eq!(percent(&AR, 87.24), "٨٧٫٢٪");
    }
}
