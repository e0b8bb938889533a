//! Durations as people write them in `cdb.toml` (`"90s"`, `"10m"`, `"1500ms"`, `"1m30s"`) and as
//! the reports print them. A bare number is rejected rather than guessed: `timeout = 90` could
//! mean seconds or milliseconds, and a wrong guess makes a gate silently lenient or flaky.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

use crate::errors::E2eError;

const FORM: &str =
    "write a number with a unit: \"1500ms\", \"90s\", \"10m\", \"1h\" (or combined, \"1m30s\")";

/// Parses `"1500ms"`, `"90s"`, `"10m"`, `"2h"` and concatenations such as `"1m30s"`. Units: `ms`,
/// `s`, `m`, `h`. Whole numbers only, so that every value is exact.
pub fn parse_duration(text: &str) -> Result<Duration, E2eError> {
    let err = |reason: &str| E2eError::Duration {
        value: text.to_string(),
        reason: reason.to_string(),
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(err(&format!("it is empty; {FORM}")));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(err(&format!("expected a number at {rest:?}; {FORM}")));
        }
        let (number, after) = rest.split_at(digits);
        let value: u64 = number.parse().map_err(|_| err("the number is too large"))?;
        let unit_len = after
            .bytes()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        let (unit, after) = after.split_at(unit_len);
        let part = match unit {
            "ms" => Some(Duration::from_millis(value)),
            "s" => Some(Duration::from_secs(value)),
            "m" => value.checked_mul(60).map(Duration::from_secs),
            "h" => value.checked_mul(3600).map(Duration::from_secs),
            "" => return Err(err(&format!("{number} has no unit; {FORM}"))),
            other => return Err(err(&format!("unknown unit {other:?}; {FORM}"))),
        };
        total = part
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| err("the duration is too large"))?;
        rest = after;
    }
    Ok(total)
}

/// Formats a duration for people: `850ms`, `12.3s`, `4m 05s`, `1h 02m`. Stable (reports are
/// snapshot-tested), and it never rounds a value up across a minute.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{}.{}s", ms / 1000, (ms % 1000) / 100)
    } else if ms < 3_600_000 {
        let s = ms / 1000;
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        let m = ms / 60_000;
        format!("{}h {:02}m", m / 60, m % 60)
    }
}

/// Milliseconds as a whole number, for JSON and the history (integers survive every JSON reader
/// exactly).
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `#[serde(deserialize_with = …)]` for a [`Duration`] written as text. The error is raised
/// inside the value's own deserialisation, so `toml` attaches the value's position to it.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    deserializer.deserialize_any(DurationVisitor)
}

/// Like [`deserialize`] for an optional value.
pub fn deserialize_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    deserialize(deserializer).map(Some)
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as \"90s\", \"10m\" or \"1500ms\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        let d = parse_duration(v).map_err(E::custom)?;
        if d.is_zero() {
            return Err(E::custom(format!(
                "invalid duration {v:?}: it must be greater than zero"
            )));
        }
        Ok(d)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        Err(E::custom(format!(
            "invalid duration {v}: a bare number has no unit; write it as text with a unit, e.g. \"{v}s\""
        )))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Err(E::custom(format!(
            "invalid duration {v}: a bare number has no unit; write it as text with a unit, e.g. \"{v}s\""
        )))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        Err(E::custom(format!(
            "invalid duration {v}: write it as text with a whole number and a unit, e.g. \"1500ms\""
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_combinations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(
            parse_duration("1500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(
            parse_duration(" 1h2m3s4ms ").unwrap(),
            Duration::from_millis(3_723_004)
        );
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
    }

    #[test]
    fn rejects_what_it_would_have_to_guess() {
        for bad in [
            "", "90", "1.5s", "-3s", "10 m", "5 mins", "s", "1m30", "10d",
        ] {
            let e = parse_duration(bad).unwrap_err();
            assert!(matches!(e, E2eError::Duration { .. }), "{bad}: {e}");
        }
        let e = parse_duration("90").unwrap_err().to_string();
        assert!(e.contains("has no unit"), "{e}");
        let e = parse_duration("10d").unwrap_err().to_string();
        assert!(e.contains("unknown unit \"d\""), "{e}");
        assert!(parse_duration("99999999999999999999s").is_err());
        assert!(parse_duration("9999999999999999999h").is_err());
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(format_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(format_duration(Duration::from_millis(12_345)), "12.3s");
        assert_eq!(format_duration(Duration::from_millis(59_999)), "59.9s");
        assert_eq!(format_duration(Duration::from_secs(245)), "4m 05s");
        assert_eq!(format_duration(Duration::from_secs(3720)), "1h 02m");
    }
}
