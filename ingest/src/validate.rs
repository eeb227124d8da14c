//! Raw row fields → a validated [`Report`], or the specific reason it is refused.
//!
//! Both parsers reduce a row to six [`Field`]s (`id`, `time`, `lon`, `lat`, `alt`, `side`) and
//! call [`report_from`]; the rules therefore live here once:
//! - `id`, `time`, `lon`, `lat` are required: absent, null or blank is `missing field X`;
//! - values are trimmed of ASCII whitespace; numbers are read with Rust's `f64` parser, so
//!   `NaN`/`inf` parse and are then refused as `lon is not a finite number`;
//! - `alt` absent, null or blank is unknown; `side` absent, null or blank is `unknown`;
//! - ranges and id length are checked by [`Report::validate`], whose messages are the reasons.
//!
//! Checks run in field order (`id`, `time`, `lon`, `lat`, `alt`, `side`), then ranges, so a row
//! gets one deterministic reason.

use deconflict_engine::model::Report;
use deconflict_engine::time::Timestamp;

/// Side given to reports without one.
pub const UNKNOWN_SIDE: &str = "unknown";

/// One field of a raw row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Field<'a> {
    /// Not present in the row.
    Missing,
    /// JSON `null`.
    Null,
    /// Text (a CSV field or a JSON string, unescaped).
    Text(&'a str),
    /// The literal text of a JSON number.
    Number(&'a str),
    /// Another JSON type; the value names it (`a boolean`, `an array`, `an object`).
    Other(&'static str),
}

/// The six fields of a track row, in the order `id, time, lon, lat, alt, side`.
pub type RowFields<'a> = [Field<'a>; 6];

/// Builds a validated report from raw fields.
///
/// # Errors
/// The reason the row is rejected, ready for [`crate::reject::Reject::reason`].
///
/// ```
/// use deconflict_ingest::validate::{report_from, Field::*};
/// let r = report_from(&[Text("A1"), Number("1633600800500"), Text("36.61"), Text("35.93"), Missing, Missing]).unwrap();
/// assert_eq!((r.lon, r.lat, r.alt, r.side.as_str()), (36.61, 35.93, None, "unknown"));
/// let e = report_from(&[Text("A1"), Text("0"), Text("0"), Text("90.0000001"), Missing, Missing]).unwrap_err();
/// assert_eq!(e, "lat 90.0000001 out of range [-90, 90]");
/// ```
pub fn report_from(f: &RowFields<'_>) -> Result<Report, String> {
    let id = required_text("id", f[0])?;
    let time = time_of(f[1])?;
    let lon = number("lon", f[2])?.ok_or("missing field lon")?;
    let lat = number("lat", f[3])?.ok_or("missing field lat")?;
    let alt = number("alt", f[4])?;
    let side = match f[5] {
        Field::Missing | Field::Null => UNKNOWN_SIDE,
        Field::Text(s) if s.trim_ascii().is_empty() => UNKNOWN_SIDE,
        Field::Text(s) => s.trim_ascii(),
        Field::Number(_) => return Err("side must be a string, not a number".into()),
        Field::Other(kind) => return Err(format!("side must be a string, not {kind}")),
    };
    let r = Report {
        id: id.to_owned(),
        side: side.to_owned(),
        time,
        lon,
        lat,
        alt,
    };
    r.validate().map_err(|e| e.to_string())?;
    Ok(r)
}

fn required_text<'a>(name: &str, f: Field<'a>) -> Result<&'a str, String> {
    match f {
        Field::Text(s) if !s.trim_ascii().is_empty() => Ok(s.trim_ascii()),
        Field::Missing | Field::Null | Field::Text(_) => Err(format!("missing field {name}")),
        Field::Number(_) => Err(format!("{name} must be a string, not a number")),
        Field::Other(kind) => Err(format!("{name} must be a string, not {kind}")),
    }
}

fn time_of(f: Field<'_>) -> Result<Timestamp, String> {
    let s = match f {
        Field::Text(s) if !s.trim_ascii().is_empty() => s,
        Field::Number(s) => s,
        Field::Missing | Field::Null | Field::Text(_) => return Err("missing field time".into()),
        Field::Other(kind) => {
            return Err(format!("time must be a string or an integer, not {kind}"));
        }
    };
    if let Some(t) = fast_epoch_ms(s.trim_ascii().as_bytes()).and_then(Timestamp::from_ms) {
        return Ok(t);
    }
    Timestamp::parse(s).map_err(|e| e.to_string())
}

/// Epoch milliseconds written as `[-+]?digits` (at most 18 digits, so no overflow): the value
/// `Timestamp::parse` gives such a string. Anything else (RFC 3339, out of range, …) returns
/// `None` and goes to `Timestamp::parse`, which also words the errors.
fn fast_epoch_ms(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(if neg { -v } else { v })
}

/// `Ok(None)` when absent, null or blank (the caller decides whether that is allowed).
fn number(name: &str, f: Field<'_>) -> Result<Option<f64>, String> {
    let s = match f {
        Field::Missing | Field::Null => return Ok(None),
        Field::Text(s) | Field::Number(s) => s.trim_ascii(),
        Field::Other(kind) => return Err(format!("{name} must be a number, not {kind}")),
    };
    if s.is_empty() {
        return Ok(None);
    }
    if let Some(v) = fast_decimal(s.as_bytes()) {
        return Ok(Some(v));
    }
    match s.parse::<f64>() {
        Ok(v) => Ok(Some(v)),
        Err(_) => Err(format!("{name} {s:?} is not a number")),
    }
}

/// Powers of ten exactly representable in `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The common case of a plain decimal `[-+]?digits[.digits]` with at most 15 significant
/// digits, exactly as `str::parse::<f64>` reads it: the digits form an integer `m < 2^53` and
/// the value is `m / 10^k` with `k ≤ 22`, one correctly rounded division of two exact values
/// (Clinger's fast path). Anything else (exponents, more digits, `inf`, …) returns `None`
/// and goes to `str::parse`.
fn fast_decimal(b: &[u8]) -> Option<f64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let mut m: u64 = 0;
    let mut n = 0usize; // digits read
    let mut frac: Option<usize> = None; // digits after the point
    let mut seen_digit = false;
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                seen_digit = true;
                if m == 0 && c == b'0' {
                    // leading zeros are not significant
                } else {
                    n += 1;
                    if n > 15 {
                        return None;
                    }
                }
                m = m * 10 + u64::from(c - b'0');
            }
            b'.' if frac.is_none() => frac = Some(i),
            _ => return None,
        }
    }
    if !seen_digit {
        return None;
    }
    let k = frac.map_or(0, |p| digits.len() - p - 1);
    if k > 22 || (frac.is_some() && k == 0 && digits.len() == 1) {
        return None;
    }
    let v = m as f64 / POW10[k];
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::Field::*;
    use super::*;

    #[test]
    fn fast_epoch_ms_agrees_with_timestamp_parse() {
        for s in [
            "0",
            "-0",
            "+5",
            "1633600800500",
            "-1633600800500",
            "999999999999999999",
            "1000000000000000000",
            "99999999999999999999",
            "12a",
            "",
            "-",
            "+",
            " 12",
            "2021-10-07T10:00:00Z",
            "1e3",
            "00001633600800500",
        ] {
            if let Some(v) = fast_epoch_ms(s.as_bytes()).and_then(Timestamp::from_ms) {
                assert_eq!(Timestamp::parse(s).ok(), Some(v), "{s:?}");
            }
            for f in [Field::Text(s), Field::Number(s)] {
                let reference = match f {
                    Field::Text(s) if s.trim_ascii().is_empty() => Err("missing field time".into()),
                    Field::Text(s) | Field::Number(s) => {
                        Timestamp::parse(s).map_err(|e| e.to_string())
                    }
                    _ => unreachable!(),
                };
                assert_eq!(time_of(f), reference, "{s:?}");
            }
        }
    }

    #[test]
    fn fast_decimal_agrees_with_str_parse() {
        let fixed = [
            "0",
            "-0",
            "+0",
            "1",
            "36.6123456",
            "-179.9999999",
            "180",
            "180.",
            ".5",
            "-.5",
            "0.1",
            "0.30000000000000004",
            "123456789012345",
            "1234567890123456",
            "00000001.5",
            "1e5",
            "1.2.3",
            "-",
            "+",
            ".",
            "",
            "1-",
            "12345.678901234",
            "9007199254740993",
            "0.000000000000000000001",
            "-0.0000000000000000000001",
            "1,5",
            " 1",
        ];
        for s in fixed {
            if let Some(v) = fast_decimal(s.as_bytes()) {
                assert_eq!(Ok(v.to_bits()), s.parse::<f64>().map(f64::to_bits), "{s:?}");
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let int = (x % 400) as i64 - 200;
            let digits = (x >> 20) % 16;
            let frac = (x >> 30) % 10u64.pow(digits as u32).max(1);
            let s = format!("{int}.{frac:0w$}", w = digits as usize);
            let v = fast_decimal(s.as_bytes());
            if let Some(v) = v {
                assert_eq!(v.to_bits(), s.parse::<f64>().unwrap().to_bits(), "{s:?}");
            }
        }
    }

    fn reason(f: RowFields<'_>) -> String {
        report_from(&f).unwrap_err()
    }

    #[test]
    fn reasons_are_specific() {
        let t = Text("10");
        assert_eq!(
            reason([Missing, t, t, t, Missing, Missing]),
            "missing field id"
        );
        assert_eq!(
            reason([Text(" "), t, t, t, Missing, Missing]),
            "missing field id"
        );
        assert_eq!(
            reason([Text("a"), Null, t, t, Missing, Missing]),
            "missing field time"
        );
        assert_eq!(
            reason([Text("a"), t, Text(""), t, Missing, Missing]),
            "missing field lon"
        );
        assert_eq!(
            reason([Text("a"), t, t, Missing, Missing, Missing]),
            "missing field lat"
        );
        assert_eq!(
            reason([Text("a"), t, Text("NaN"), t, Missing, Missing]),
            "lon is not a finite number"
        );
        assert_eq!(
            reason([Text("a"), t, Text("1"), Text("-inf"), Missing, Missing]),
            "lat is not a finite number"
        );
        assert_eq!(
            reason([Text("a"), t, Text("x1"), t, Missing, Missing]),
            "lon \"x1\" is not a number"
        );
        assert_eq!(
            reason([Text("a"), t, Text("-180.0000001"), t, Missing, Missing]),
            "lon -180.0000001 out of range [-180, 180]"
        );
        assert_eq!(
            reason([Text("a"), Text("soon"), t, t, Missing, Missing]),
            "invalid time \"soon\": expected RFC 3339 with an offset or epoch milliseconds"
        );
        assert_eq!(
            reason([Text("a"), t, t, t, Other("a boolean"), Missing]),
            "alt must be a number, not a boolean"
        );
        assert_eq!(
            reason([Number("7"), t, t, t, Missing, Missing]),
            "id must be a string, not a number"
        );
        assert_eq!(
            reason([Text(&"x".repeat(65)), t, t, t, Missing, Missing]),
            "id is 65 bytes, longer than 64"
        );
        assert_eq!(
            reason([Text("a"), t, t, t, Text("100000.1"), Missing]),
            "alt 100000.1 out of range [-1000, 100000]"
        );
    }

    #[test]
    fn accepts_and_trims() {
        let id = "y".repeat(64);
        let r = report_from(&[
            Text(&id),
            Number("5"),
            Text(" -180 "),
            Number("90"),
            Text(" "),
            Text(" red "),
        ])
        .unwrap();
        assert_eq!(r.id, id);
        assert_eq!(
            (r.time.ms(), r.lon, r.lat, r.alt, r.side.as_str()),
            (5, -180.0, 90.0, None, "red")
        );
        let r = report_from(&[
            Text("a"),
            Text("2021-10-07T12:00:00.5+02:00"),
            t1(),
            t1(),
            Number("-12.5"),
            Null,
        ])
        .unwrap();
        assert_eq!(
            (r.time.ms(), r.alt, r.side.as_str()),
            (1_633_600_800_500, Some(-12.5), "unknown")
        );
    }

    fn t1() -> Field<'static> {
        Text("1")
    }
}
