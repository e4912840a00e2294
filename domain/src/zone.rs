//! A course's time zone, and what a "day" is: the local date of an instant in that zone.
//!
//! Every day boundary in the system (roster membership, enrolment dates, the seed `date`
//! look-up, last attended, report columns, streaks) is the local date of a session's start in
//! its course's zone. The zone is data: the IANA database is compiled in (chrono-tz), so no
//! system tzdata is read at run time, and nothing here reads a clock.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An IANA time zone (`Europe/Berlin`), stored and shown by its name. UTC by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Zone(Tz);

/// A name that is not in the IANA time zone database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IANA time zone name (such as Europe/Berlin or America/Chicago)")]
pub struct UnknownZone(pub String);

impl Zone {
    /// Coordinated Universal Time.
    pub const UTC: Zone = Zone(Tz::UTC);

    /// Reads an IANA name, exactly as the database spells it.
    pub fn parse(name: &str) -> Result<Zone, UnknownZone> {
        Tz::from_str(name.trim())
            .map(Zone)
            .map_err(|_| UnknownZone(name.to_string()))
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// Whether this is UTC (a course created in UTC needs no zone event).
    pub fn is_utc(&self) -> bool {
        self.0.name() == "UTC"
    }

    /// The local date of an instant: the "day" of a session that starts then.
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }

    /// An instant shown in this zone, with the offset that applied then.
    pub fn show(&self, at: DateTime<Utc>) -> DateTime<FixedOffset> {
        at.with_timezone(&self.0).fixed_offset()
    }

    /// The instant of a local wall-clock time. A time skipped by a clock change (02:30 on the
    /// night clocks go forward) is taken one hour later, as a wall clock would show it; a time
    /// that happens twice (the night clocks go back) is its first occurrence.
    pub fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => self.instant(local + chrono::Duration::hours(1)),
        }
    }

    /// The offset in force at an instant: its UTC offset, whether it is daylight-saving time,
    /// and its abbreviation (`CST`, `NZDT`; `+0545` style when the database has none).
    pub fn offset_at(&self, at: DateTime<Utc>) -> ZoneOffset {
        use chrono::Offset;
        use chrono_tz::{OffsetComponents, OffsetName};
        let offset = self.0.offset_from_utc_datetime(&at.naive_utc());
        let utc = offset.fix();
        ZoneOffset {
            utc,
            daylight: !offset.dst_offset().is_zero(),
            name: offset
                .abbreviation()
                .map(str::to_string)
                .unwrap_or_else(|| utc.to_string().replace(':', "")),
        }
    }

    /// Every change of offset between two instants, in order (clock changes are at whole
    /// minutes: found hour by hour, then to the minute).
    pub fn transitions(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Transition> {
        let hour = chrono::Duration::hours(1);
        let mut found = Vec::new();
        let mut at = from;
        let mut before = self.offset_at(at);
        while at < to {
            let next = at + hour;
            let after = self.offset_at(next);
            if after != before {
                // The first minute of `after` lies in (at, next].
                let (mut low, mut high) = (at, next);
                while high - low > chrono::Duration::minutes(1) {
                    let middle = low + (high - low) / 2;
                    if self.offset_at(middle) == before {
                        low = middle;
                    } else {
                        high = middle;
                    }
                }
                found.push(Transition {
                    at: high,
                    from: before.clone(),
                    to: after.clone(),
                });
                before = after;
            }
            at = next;
        }
        found
    }
}

/// The offset a zone applies at some instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneOffset {
    /// Offset from UTC.
    pub utc: FixedOffset,
    /// Whether this is daylight-saving (summer) time.
    pub daylight: bool,
    /// Abbreviation, e.g. `CDT`.
    pub name: String,
}

/// A change of a zone's offset (a clock change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The first instant of the new offset.
    pub at: DateTime<Utc>,
    /// The offset until then.
    pub from: ZoneOffset,
    /// The offset from then on.
    pub to: ZoneOffset,
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Zone, D::Error> {
        let name = String::deserialize(d)?;
        Zone::parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn chicago() -> Zone {
        Zone::parse("America/Chicago").unwrap()
    }

    fn auckland() -> Zone {
        Zone::parse("Pacific/Auckland").unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn chicago_changes_its_clocks_twice_in_2026_at_2am_local() {
        let changes =
            chicago().transitions(utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"));
        let found: Vec<_> = changes
            .iter()
            .map(|t| {
                (
                    t.at.to_rfc3339(),
                    t.from.name.as_str(),
                    t.to.name.as_str(),
                    t.to.daylight,
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("2026-03-08T08:00:00+00:00".to_string(), "CST", "CDT", true),
                ("2026-11-01T07:00:00+00:00".to_string(), "CDT", "CST", false),
            ]
        );
    }

    #[test]
    fn a_zone_without_clock_changes_has_no_transitions() {
        let tokyo = Zone::parse("Asia/Tokyo").unwrap();
        let changes = tokyo.transitions(utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"));
        assert!(changes.is_empty());
        assert_eq!(
            tokyo
                .offset_at(utc("2026-06-01T00:00:00Z"))
                .utc
                .local_minus_utc(),
            9 * 3600
        );
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn an_unknown_name_is_refused() {
        assert_eq!(
            Zone::parse("Mars/Olympus"),
            Err(UnknownZone("Mars/Olympus".into()))
        );
    }

    #[test]
    fn the_default_zone_is_utc() {
        assert!(Zone::default().is_utc());
        assert_eq!(
            Zone::default().day_of(utc("2026-09-01T23:30:00Z")),
            day(2026, 9, 1)
        );
    }

    #[test]
    fn an_evening_in_chicago_is_the_next_day_in_utc_but_not_locally() {
        // 19:00 CDT (UTC-5) on 1 Sept is 00:00 UTC on 2 Sept.
        assert_eq!(
            chicago().day_of(utc("2026-09-02T00:00:00Z")),
            day(2026, 9, 1)
        );
    }

    #[test]
    fn a_morning_in_auckland_is_the_previous_day_in_utc_but_not_locally() {
        // 08:00 NZST (UTC+12) on 1 Sept is 20:00 UTC on 31 Aug.
        assert_eq!(
            auckland().day_of(utc("2026-08-31T20:00:00Z")),
            day(2026, 9, 1)
        );
    }

    #[test]
    fn half_past_eleven_local_stays_on_its_day_on_both_sides_of_midnight() {
        let late = chicago().instant(day(2026, 9, 1).and_hms_opt(23, 30, 0).unwrap());
        assert_eq!(late, utc("2026-09-02T04:30:00Z"));
        assert_eq!(chicago().day_of(late), day(2026, 9, 1));
        let after = late + chrono::Duration::minutes(31);
        assert_eq!(chicago().day_of(after), day(2026, 9, 2));
    }

    #[test]
    fn the_same_wall_clock_time_moves_in_utc_across_a_dst_change() {
        // Chicago leaves daylight time on Sunday 1 Nov 2026: 09:00 is 14:00 UTC before, 15:00 after.
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        assert_eq!(
            chicago().instant(day(2026, 10, 30).and_time(nine)),
            utc("2026-10-30T14:00:00Z")
        );
        assert_eq!(
            chicago().instant(day(2026, 11, 2).and_time(nine)),
            utc("2026-11-02T15:00:00Z")
        );
        assert_eq!(
            chicago().show(utc("2026-11-02T15:00:00Z")).to_rfc3339(),
            "2026-11-02T09:00:00-06:00"
        );
    }

    #[test]
    fn a_time_skipped_by_the_clock_change_is_taken_an_hour_later() {
        // Auckland springs forward on 27 Sept 2026: 02:30 does not exist, 03:30 NZDT does.
        let skipped = day(2026, 9, 27).and_hms_opt(2, 30, 0).unwrap();
        assert_eq!(auckland().instant(skipped), utc("2026-09-26T14:30:00Z"));
    }

    #[test]
    fn a_zone_is_stored_by_its_name() {
        assert_eq!(
            serde_json::to_string(&chicago()).unwrap(),
            "\"America/Chicago\""
        );
        let back: Zone = serde_json::from_str("\"Pacific/Auckland\"").unwrap();
        assert_eq!(back, auckland());
        assert!(serde_json::from_str::<Zone>("\"Nowhere\"").is_err());
    }
}
