//! NDJSON track files: one JSON object per line.
//!
//! Keys are matched case-insensitively (`id`, `time`, `lon`, `lat`, `alt`, `side`); other keys
//! are ignored; a known key given twice is a reject. `time` is an RFC 3339 string or an integer
//! of epoch milliseconds; numbers may be JSON numbers or numeric strings, and a JSON number is
//! read from its literal text with Rust's `f64` parser (correctly rounded). `alt` null or absent
//! is unknown.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::parse::ParsedChunk;
use crate::reject::{Reject, raw_text};
use crate::validate::{Field, RowFields, report_from};

const KEYS: [&str; 6] = ["id", "time", "lon", "lat", "alt", "side"];

/// The known keys of one object, as raw JSON text.
struct RawRow<'a> {
    values: [Option<&'a RawValue>; 6],
    duplicate: Option<&'static str>,
}

/// A key: the index of a known one, or `None`.
struct Key(Option<usize>);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(KEYS.iter().position(|k| k.eq_ignore_ascii_case(v))))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawRow<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RowVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for RowVisitor<'a> {
            type Value = RawRow<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawRow<'a>, A::Error> {
                let mut row = RawRow {
                    values: [None; 6],
                    duplicate: None,
                };
                while let Some(Key(k)) = map.next_key()? {
                    match k {
                        Some(k) => {
                            let v: &'de RawValue = map.next_value()?;
                            if row.values[k].is_some() {
                                row.duplicate.get_or_insert(KEYS[k]);
                            }
                            row.values[k] = Some(v);
                        }
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(row)
            }
        }
        d.deserialize_map(RowVisitor(PhantomData))
    }
}

/// Parses the lines of `bytes`, whose first byte is on line `first_line` of `file`.
pub(crate) fn parse_chunk(file: &str, bytes: &[u8], first_line: u64, out: &mut ParsedChunk) {
    let mut scratch: [String; 6] = Default::default();
    // Room for the chunk's rows up front (an NDJSON row is rarely shorter than 80 bytes).
    out.reports.reserve(bytes.len() / 80);
    let mut line = first_line;
    let mut pos = 0;
    while pos < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        let mut raw = &bytes[pos..end];
        if let [rest @ .., b'\r'] = raw {
            raw = rest;
        }
        match row(raw, &mut scratch) {
            Ok(report) => out.reports.push(report),
            Err(reason) => out.rejects.push(Reject {
                file: file.to_owned(),
                line,
                reason,
                raw: raw_text(raw),
            }),
        }
        line += 1;
        pos = end + 1;
    }
}

fn row(raw: &[u8], scratch: &mut [String; 6]) -> Result<deconflict_engine::model::Report, String> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err("empty line".into());
    }
    let text = std::str::from_utf8(raw).map_err(|_| "invalid UTF-8".to_owned())?;
    let parsed: RawRow<'_> = serde_json::from_str(text).map_err(|e| {
        if e.classify() == serde_json::error::Category::Data {
            format!("not a JSON object: {e}")
        } else {
            format!("invalid JSON: {e}")
        }
    })?;
    if let Some(k) = parsed.duplicate {
        return Err(format!("duplicate field {k}"));
    }
    let mut fields: RowFields<'_> = [Field::Missing; 6];
    for ((f, v), s) in fields.iter_mut().zip(parsed.values).zip(scratch.iter_mut()) {
        if let Some(v) = v {
            *f = field(v, s)?;
        }
    }
    report_from(&fields)
}

fn field<'a>(v: &'a RawValue, scratch: &'a mut String) -> Result<Field<'a>, String> {
    let t = v.get().trim_ascii();
    Ok(match t.as_bytes().first() {
        Some(b'"') => match t.get(1..t.len() - 1) {
            Some(inner) if !inner.contains('\\') => Field::Text(inner),
            _ => {
                *scratch = serde_json::from_str(t).map_err(|e| format!("invalid JSON: {e}"))?;
                Field::Text(scratch)
            }
        },
        Some(b'n') => Field::Null,
        Some(b't' | b'f') => Field::Other("a boolean"),
        Some(b'[') => Field::Other("an array"),
        Some(b'{') => Field::Other("an object"),
        _ => Field::Number(t),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Result<deconflict_engine::model::Report, String> {
        row(line.as_bytes(), &mut Default::default())
    }

    #[test]
    fn objects_with_any_key_case() {
        let r = one(r#"{"ID":"a\"b","Time":1633600800500,"LON":"36.61","lat":35.93,"alt":null,"x":[1,{"y":2}]}"#).unwrap();
        assert_eq!(
            (r.id.as_str(), r.time.ms(), r.lon, r.lat, r.alt),
            ("a\"b", 1_633_600_800_500, 36.61, 35.93, None)
        );
        assert_eq!(r.side, "unknown");
        let r = one(r#"{"id":"a","time":"2021-10-07T12:00:00.5+02:00","lon":1e1,"lat":-0.5,"alt":12.25,"side":"red"}"#).unwrap();
        assert_eq!(
            (r.time.ms(), r.lon, r.alt, r.side.as_str()),
            (1_633_600_800_500, 10.0, Some(12.25), "red")
        );
    }

    #[test]
    fn reasons() {
        assert_eq!(
            one(r#"{"id":"a","time":1,"lon":1}"#).unwrap_err(),
            "missing field lat"
        );
        assert_eq!(
            one(r#"{"id":"a","time":1,"lon":1,"lat":2,"LAT":3}"#).unwrap_err(),
            "duplicate field lat"
        );
        assert_eq!(
            one(r#"{"id":"a","time":1,"lon":true,"lat":2}"#).unwrap_err(),
            "lon must be a number, not a boolean"
        );
        assert!(
            one(r#"{"id":"a","time":1.5,"lon":1,"lat":2}"#)
                .unwrap_err()
                .starts_with("invalid time \"1.5\"")
        );
        assert!(
            one(r#"{"id":"a","#)
                .unwrap_err()
                .starts_with("invalid JSON: ")
        );
        assert!(one("[1,2]").unwrap_err().starts_with("not a JSON object"));
        assert!(
            one(r#"{"id":"a"} x"#)
                .unwrap_err()
                .starts_with("invalid JSON: trailing characters")
        );
        assert_eq!(one(" \t").unwrap_err(), "empty line");
        assert_eq!(
            row(b"{\"id\":\"\xff\"}", &mut Default::default()).unwrap_err(),
            "invalid UTF-8"
        );
    }
}
