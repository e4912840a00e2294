//! Reading dates and times from requests with errors that show the expected form.
//!
//! chrono's own messages ("premature end of input", "input contains invalid characters") say
//! what went wrong inside the parser, not what to send. Every date and time a client sends
//! goes through these functions (`#[serde(deserialize_with = ...)]`), so a mistake answers
//! `expected a date like 2026-09-07` or `expected an RFC 3339 time like 2026-09-07T09:00:00Z`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde::de::{Deserializer, Error};

/// What a date must look like.
pub const DATE_FORM: &str = "expected a date like 2026-09-07";
/// What a time must look like.
pub const TIME_FORM: &str = "expected an RFC 3339 time like 2026-09-07T09:00:00Z";

fn parse_date<E: Error>(text: &str) -> Result<NaiveDate, E> {
    text.parse()
        .map_err(|_| E::custom(format!("{DATE_FORM}, got {text:?}")))
}

fn parse_time<E: Error>(text: &str) -> Result<DateTime<Utc>, E> {
    // The same parser as chrono's own Deserialize, so every value accepted before still is.
    text.parse::<DateTime<Utc>>()
        .map_err(|_| E::custom(format!("{TIME_FORM}, got {text:?}")))
}

/// A value that must be a string, with the form named when it is something else.
fn text<'de, D: Deserializer<'de>>(d: D, form: &str) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(text) => Ok(text),
        other => Err(D::Error::custom(format!("{form}, got {other}"))),
    }
}

/// A required date (`YYYY-MM-DD`).
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    parse_date(&text(d, DATE_FORM)?)
}

/// An optional date; use with `#[serde(default)]`.
pub fn option_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => parse_date(&text).map(Some),
        Some(other) => Err(D::Error::custom(format!("{DATE_FORM}, got {other}"))),
    }
}

/// A required RFC 3339 time.
pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    parse_time(&text(d, TIME_FORM)?)
}

/// An optional RFC 3339 time; use with `#[serde(default)]`.
pub fn option_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => parse_time(&text).map(Some),
        Some(other) => Err(D::Error::custom(format!("{TIME_FORM}, got {other}"))),
    }
}

/// Writes a time shown in a course's zone as RFC 3339 with its offset
/// (`2026-11-02T09:00:00-06:00`); a zero offset is written `Z`, as UTC times always were.
pub fn local_time<S: serde::Serializer>(
    at: &DateTime<chrono::FixedOffset>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Body {
        #[serde(deserialize_with = "date")]
        day: NaiveDate,
        #[serde(default, deserialize_with = "option_time")]
        at: Option<DateTime<Utc>>,
    }

    #[test]
    fn a_bad_date_names_the_expected_form() {
        let error = serde_json::from_str::<Body>(r#"{"day":"2026-09"}"#).unwrap_err();
        assert!(error.to_string().starts_with(DATE_FORM), "{error}");
    }

    #[test]
    fn a_bad_time_names_the_expected_form() {
        let error =
            serde_json::from_str::<Body>(r#"{"day":"2026-09-07","at":"tomorrow"}"#).unwrap_err();
        assert!(error.to_string().starts_with(TIME_FORM), "{error}");
    }

    #[test]
    fn good_values_and_a_missing_optional_one_are_read() {
        let body: Body = serde_json::from_str(r#"{"day":"2026-09-07"}"#).unwrap();
        assert_eq!(body.day.to_string(), "2026-09-07");
        assert!(body.at.is_none());
        let body: Body =
            serde_json::from_str(r#"{"day":"2026-09-07","at":"2026-09-07T09:00:00+02:00"}"#)
                .unwrap();
        assert_eq!(body.at.unwrap().to_rfc3339(), "2026-09-07T07:00:00+00:00");
    }
}
