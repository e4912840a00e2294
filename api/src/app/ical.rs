//! iCalendar (RFC 5545) text for the calendar feeds: one `VEVENT` per session with its times
//! in its course's zone (`DTSTART;TZID=...`), one `VTIMEZONE` per zone with the clock changes
//! that fall in the feed's span, cancelled sessions as `STATUS:CANCELLED`. Lines end in CRLF
//! and are folded at 75 octets; text values are escaped.

use chrono::{DateTime, Duration, Utc};
use domain::Zone;
use domain::zone::ZoneOffset;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One session in a feed.
#[derive(Debug, Clone)]
pub struct Entry {
    /// A stable unique id (the session id and the host).
    pub uid: String,
    /// The title shown.
    pub summary: String,
    /// More text (course name, reasons), if any.
    pub description: Option<String>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// The zone its times are shown in.
    pub zone: Zone,
    /// Whether the session is cancelled.
    pub cancelled: bool,
}

/// A whole calendar named `name`, stamped `now`.
pub fn calendar(name: &str, entries: &[Entry], now: DateTime<Utc>) -> String {
    let mut out = Lines::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.line("PRODID:-//Smart Attendance System//attendance//EN");
    out.line("CALSCALE:GREGORIAN");
    out.line("METHOD:PUBLISH");
    out.line(&format!("X-WR-CALNAME:{}", escape(name)));
    let mut zones: BTreeMap<&'static str, (Zone, DateTime<Utc>, DateTime<Utc>)> = BTreeMap::new();
    for entry in entries.iter().filter(|e| !e.zone.is_utc()) {
        let span =
            zones
                .entry(entry.zone.name())
                .or_insert((entry.zone, entry.starts_at, entry.ends_at));
        span.1 = span.1.min(entry.starts_at);
        span.2 = span.2.max(entry.ends_at);
    }
    for (zone, from, to) in zones.values() {
        time_zone(&mut out, *zone, *from, *to);
    }
    for entry in entries {
        out.line("BEGIN:VEVENT");
        out.line(&format!("UID:{}", escape(&entry.uid)));
        out.line(&format!("DTSTAMP:{}", utc(now)));
        out.line(&format!("DTSTART{}", local(entry.zone, entry.starts_at)));
        out.line(&format!("DTEND{}", local(entry.zone, entry.ends_at)));
        out.line(&format!("SUMMARY:{}", escape(&entry.summary)));
        if let Some(description) = &entry.description {
            out.line(&format!("DESCRIPTION:{}", escape(description)));
        }
        let status = if entry.cancelled {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        out.line(&format!("STATUS:{status}"));
        out.line("TRANSP:OPAQUE");
        out.line("END:VEVENT");
    }
    out.line("END:VCALENDAR");
    out.text
}

/// `;TZID=zone:local` for a zone, or `:...Z` in UTC.
fn local(zone: Zone, at: DateTime<Utc>) -> String {
    if zone.is_utc() {
        format!(":{}", utc(at))
    } else {
        let shown = zone.show(at);
        format!(";TZID={}:{}", zone.name(), shown.format("%Y%m%dT%H%M%S"))
    }
}

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A `VTIMEZONE` with one observance per clock change from a year before `from` to a year
/// after `to` (so a client can place every event), or a single one for a zone without any.
fn time_zone(out: &mut Lines, zone: Zone, from: DateTime<Utc>, to: DateTime<Utc>) {
    let year = Duration::days(366);
    out.line("BEGIN:VTIMEZONE");
    out.line(&format!("TZID:{}", zone.name()));
    let changes = zone.transitions(from - year, to + year);
    if changes.is_empty() {
        let offset = zone.offset_at(from);
        observance(out, &offset, &offset, "19700101T000000");
    }
    for change in changes {
        // DTSTART is the wall-clock time of the change as the clocks showed it before.
        let wall = (change.at.naive_utc() + change.from.utc).format("%Y%m%dT%H%M%S");
        observance(out, &change.from, &change.to, &wall.to_string());
    }
    out.line("END:VTIMEZONE");
}

fn observance(out: &mut Lines, from: &ZoneOffset, to: &ZoneOffset, start: &str) {
    let kind = if to.daylight { "DAYLIGHT" } else { "STANDARD" };
    out.line(&format!("BEGIN:{kind}"));
    out.line(&format!("DTSTART:{start}"));
    out.line(&format!("TZOFFSETFROM:{}", offset(from)));
    out.line(&format!("TZOFFSETTO:{}", offset(to)));
    out.line(&format!("TZNAME:{}", escape(&to.name)));
    out.line(&format!("END:{kind}"));
}

/// `+HHMM` / `-HHMM` (`+HHMMSS` when seconds are needed).
fn offset(offset: &ZoneOffset) -> String {
    let seconds = offset.utc.local_minus_utc();
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, rest) = (s / 3600, s % 3600 / 60, s % 60);
    if rest == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{rest:02}")
    }
}

/// A TEXT value: backslash, semicolon, comma and newlines escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\n' => escaped.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// Content lines, folded at 75 octets without splitting a character.
#[derive(Default)]
struct Lines {
    text: String,
}

impl Lines {
    fn line(&mut self, line: &str) {
        let mut width = 0;
        for c in line.chars() {
            if width + c.len_utf8() > 75 {
                self.text.push_str("\r\n ");
                width = 1;
            }
            self.text.push(c);
            width += c.len_utf8();
        }
        let _ = write!(self.text, "\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn entry(zone: &str, start: &str, cancelled: bool) -> Entry {
        Entry {
            uid: "s1@example.edu".into(),
            summary: "CS101, Lecture 1; room 2".into(),
            description: None,
            starts_at: at(start),
            ends_at: at(start) + Duration::minutes(90),
            zone: Zone::parse(zone).unwrap(),
            cancelled,
        }
    }

    #[test]
    fn a_session_in_chicago_is_shown_in_local_time_with_its_zone() {
        let text = calendar(
            "CS101",
            &[entry("America/Chicago", "2026-11-02T15:00:00Z", false)],
            at("2026-12-03T12:00:00Z"),
        );
        assert!(
            text.contains("DTSTART;TZID=America/Chicago:20261102T090000\r\n"),
            "{text}"
        );
        assert!(text.contains("DTEND;TZID=America/Chicago:20261102T103000\r\n"));
        assert!(text.contains("SUMMARY:CS101\\, Lecture 1\\; room 2\r\n"));
        assert!(text.contains("STATUS:CONFIRMED"));
        // The change back to standard time on 1 November 2026 at 02:00 CDT.
        assert!(text.contains("BEGIN:STANDARD\r\nDTSTART:20261101T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0600\r\nTZNAME:CST\r\n"), "{text}");
        assert!(text.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn a_cancelled_session_is_cancelled_and_utc_needs_no_zone() {
        let text = calendar(
            "me",
            &[entry("UTC", "2026-11-02T09:00:00Z", true)],
            at("2026-12-03T12:00:00Z"),
        );
        assert!(text.contains("DTSTART:20261102T090000Z\r\n"));
        assert!(text.contains("STATUS:CANCELLED"));
        assert!(!text.contains("VTIMEZONE"));
    }

    #[test]
    fn long_lines_are_folded_at_75_octets_between_characters() {
        let mut long = entry("UTC", "2026-11-02T09:00:00Z", false);
        long.summary = "é".repeat(100);
        let text = calendar("me", &[long], at("2026-12-03T12:00:00Z"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}", "é".repeat(100))));
    }
}
