//! The only time module: [`Timestamp`] (Unix epoch milliseconds), RFC 3339 in and out, and
//! durations such as `90s`, `5m`, `24h`.
//!
//! Input times are RFC 3339 with any offset (`2021-10-07T12:00:00.5+02:00`) or an integer of
//! epoch milliseconds. Sub-millisecond digits are rounded down (towards the past) to the
//! millisecond, the resolution of the index. Output is always RFC 3339 UTC with exactly three
//! fractional digits: `2021-10-07T10:00:00.500Z`.
//!
//! ```
//! use deconflict_engine::time::{Timestamp, parse_duration_ms};
//! let t: Timestamp = "2021-10-07T12:00:00.5+02:00".parse().unwrap();
//! assert_eq!(t.to_string(), "2021-10-07T10:00:00.500Z");
//! assert_eq!("1633600800500".parse::<Timestamp>().unwrap(), t);
//! assert_eq!(parse_duration_ms("5m").unwrap(), 300_000);
//! ```

use std::fmt;
use std::str::FromStr;

/// Milliseconds in one second.
pub const MS_PER_S: i64 = 1000;

/// Earliest representable time (0000-01-01T00:00:00.000Z), in epoch milliseconds.
pub const MIN_MS: i64 = -62_167_219_200_000;
/// Latest representable time (end of year 9999), in epoch milliseconds.
pub const MAX_MS: i64 = 253_402_300_799_999;

/// A point in time: milliseconds since 1970-01-01T00:00:00Z.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Timestamp(pub i64);

/// Why a time or duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Empty input.
    #[error("empty time")]
    Empty,
    /// Not RFC 3339 and not an integer.
    #[error("invalid time {0:?}: expected RFC 3339 with an offset or epoch milliseconds")]
    Invalid(String),
    /// Outside years 0000..=9999.
    #[error("time {0:?} out of range")]
    OutOfRange(String),
    /// A duration that is not `N`, `Ns`, `Nm`, `Nh` or `Nd`.
    #[error("invalid duration {0:?}: expected seconds or a number with s, m, h or d")]
    InvalidDuration(String),
}

impl Timestamp {
    /// The earliest time the index can hold.
    pub const MIN: Timestamp = Timestamp(MIN_MS);
    /// The latest time the index can hold.
    pub const MAX: Timestamp = Timestamp(MAX_MS);

    /// Epoch milliseconds.
    pub fn ms(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (any offset) or integer epoch milliseconds.
    pub fn parse(s: &str) -> Result<Timestamp, TimeError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(TimeError::Empty);
        }
        let b = s.as_bytes();
        let digits = if b[0] == b'-' || b[0] == b'+' {
            &b[1..]
        } else {
            b
        };
        if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
            let ms: i64 = s.parse().map_err(|_| TimeError::OutOfRange(s.to_owned()))?;
            return Timestamp::from_ms(ms).ok_or_else(|| TimeError::OutOfRange(s.to_owned()));
        }
        let ts: jiff::Timestamp = s.parse().map_err(|_| TimeError::Invalid(s.to_owned()))?;
        let ms = ts.as_nanosecond().div_euclid(1_000_000);
        i64::try_from(ms)
            .ok()
            .and_then(Timestamp::from_ms)
            .ok_or_else(|| TimeError::OutOfRange(s.to_owned()))
    }

    /// A timestamp from epoch milliseconds, if within the representable range.
    pub fn from_ms(ms: i64) -> Option<Timestamp> {
        (MIN_MS..=MAX_MS).contains(&ms).then_some(Timestamp(ms))
    }

    /// Adds a signed number of milliseconds, saturating at the representable range.
    #[must_use]
    pub fn offset(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms).clamp(MIN_MS, MAX_MS))
    }

    /// Writes RFC 3339 UTC with milliseconds into `out` without allocating.
    pub fn write_rfc3339(self, out: &mut impl fmt::Write) -> fmt::Result {
        let ms = self.0.rem_euclid(1000);
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        // MIN_MS..=MAX_MS keeps the year within 0000..=9999.
        write!(
            out,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) — H. Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_rfc3339(f)
    }
}

impl FromStr for Timestamp {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

/// Serde helper: writes a [`Timestamp`] as an RFC 3339 UTC string (`#[serde(serialize_with)]`).
pub fn serialize_rfc3339<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t)
}

/// An inclusive time interval `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimeRange {
    /// First instant included.
    pub start: Timestamp,
    /// Last instant included.
    pub end: Timestamp,
}

impl TimeRange {
    /// `[start, end]`; `None` when `end < start`.
    pub fn new(start: Timestamp, end: Timestamp) -> Option<TimeRange> {
        (start <= end).then_some(TimeRange { start, end })
    }

    /// Every representable instant.
    pub const ALL: TimeRange = TimeRange {
        start: Timestamp::MIN,
        end: Timestamp::MAX,
    };

    /// True when `t` lies inside, bounds included.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t <= self.end
    }

    /// The range widened by `ms` on both sides (saturating).
    #[must_use]
    pub fn widen(&self, ms: i64) -> TimeRange {
        TimeRange {
            start: self.start.offset(-ms),
            end: self.end.offset(ms),
        }
    }

    /// The common part of two ranges, if any.
    pub fn intersect(&self, other: &TimeRange) -> Option<TimeRange> {
        TimeRange::new(self.start.max(other.start), self.end.min(other.end))
    }
}

/// Parses a duration — plain seconds (`90`, `1.5`) or a number with a unit `ms`, `s`, `m`, `h`,
/// `d` — into milliseconds. Negative durations are refused.
pub fn parse_duration_ms(s: &str) -> Result<i64, TimeError> {
    let t = s.trim();
    let bad = || TimeError::InvalidDuration(s.to_owned());
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let factor = match unit {
        "" | "s" => 1e3,
        "ms" => 1.0,
        "m" | "min" => 60e3,
        "h" => 3600e3,
        "d" => 86_400e3,
        _ => return Err(bad()),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    let v: f64 = num.parse().map_err(|_| bad())?;
    let ms = (v * factor).round();
    if !ms.is_finite() || ms > 1e15 {
        return Err(bad());
    }
    Ok(ms as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_and_epoch_ms() {
        let t = Timestamp::parse("2021-10-07T12:00:00.5+02:00").unwrap();
        assert_eq!(t.0, 1_633_600_800_500);
        assert_eq!(Timestamp::parse("1633600800500").unwrap(), t);
        assert_eq!(Timestamp::parse("2021-10-07T10:00:00.5Z").unwrap(), t);
        assert_eq!(Timestamp::parse("-1").unwrap().0, -1);
        // sub-millisecond digits round towards the past, also before 1970
        assert_eq!(Timestamp::parse("1969-12-31T23:59:59.9995Z").unwrap().0, -1);
        assert_eq!(Timestamp::parse("2021-10-07T10:00:00.5009Z").unwrap(), t);
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for bad in [
            "",
            "  ",
            "2021-10-07T10:00:00",
            "yesterday",
            "12:00",
            "1e3",
            "NaN",
            "99999999999999999999",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn formats_utc_with_millis() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            Timestamp(1_633_600_800_500).to_string(),
            "2021-10-07T10:00:00.500Z"
        );
        assert_eq!(
            Timestamp(951_782_400_000).to_string(),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn format_round_trips_through_jiff_everywhere() {
        let mut ms = MIN_MS;
        while ms < MAX_MS {
            let t = Timestamp(ms);
            let s = t.to_string();
            let j = jiff::Timestamp::from_millisecond(ms).unwrap();
            assert_eq!(s, format!("{j:.3}"), "at {ms}");
            assert_eq!(Timestamp::parse(&s).unwrap(), t);
            ms += 7_919_000_000_123;
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("90s").unwrap(), 90_000);
        assert_eq!(parse_duration_ms("90").unwrap(), 90_000);
        assert_eq!(parse_duration_ms("5m").unwrap(), 300_000);
        assert_eq!(parse_duration_ms("24h").unwrap(), 86_400_000);
        assert_eq!(parse_duration_ms("1.5s").unwrap(), 1500);
        assert_eq!(parse_duration_ms("250ms").unwrap(), 250);
        for bad in ["", "-5s", "5x", "s", "1e9", "5 m"] {
            assert!(parse_duration_ms(bad).is_err(), "{bad:?} accepted");
        }
    }
}
