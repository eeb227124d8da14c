//! CSV track files: a header row, then one report per record.
//!
//! Quoting follows RFC 4180 as the `csv` crate reads it: a field is quoted when its first byte is
//! `"`; inside, `""` is a quote and newlines and commas are data; bytes after the closing quote
//! are kept literally. Records end at `\n` outside quotes, with an optional `\r` before it. The
//! same rules cut the file into chunks ([`crate::chunk`]), so results never depend on where
//! chunks end. A record that starts on line N is reported as line N even when it spans several.

use crate::error::IngestError;
use crate::parse::ParsedChunk;
use crate::reject::{Reject, raw_text};
use crate::validate::{Field, RowFields, report_from};

/// Column names, in the order of [`RowFields`].
const COLUMNS: [&str; 6] = ["id", "time", "lon", "lat", "alt", "side"];
/// How many of [`COLUMNS`] are required.
const REQUIRED: usize = 4;

/// Which field of a record holds each of the six known columns.
#[derive(Debug, Clone)]
pub(crate) struct CsvHeader {
    cols: [Option<usize>; 6],
    width: usize,
}

impl CsvHeader {
    /// Reads the header record (with its terminator) found at `line` of `path`.
    pub(crate) fn parse(record: &[u8], path: &str, line: u64) -> Result<CsvHeader, IngestError> {
        let mut rec = Record::default();
        let end = read_record(record, 0, &mut rec);
        let mut cols = [None; 6];
        for (i, name) in rec.fields().enumerate() {
            let name = name.trim_ascii();
            if let Some(k) = COLUMNS
                .iter()
                .position(|c| c.as_bytes().eq_ignore_ascii_case(name))
            {
                if cols[k].is_some() {
                    return Err(IngestError::DuplicateColumn {
                        path: path.to_owned(),
                        line,
                        column: COLUMNS[k],
                    });
                }
                cols[k] = Some(i);
            }
        }
        if let Some(k) = (0..REQUIRED).find(|&k| cols[k].is_none()) {
            return Err(IngestError::MissingColumn {
                path: path.to_owned(),
                line,
                column: COLUMNS[k],
                header: raw_text(&record[..end.text_end]),
            });
        }
        Ok(CsvHeader {
            cols,
            width: rec.ends.len(),
        })
    }
}

/// The unquoted fields of one record, stored back to back.
#[derive(Debug, Default)]
struct Record {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Record {
    fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(s, e)| &self.bytes[s..e])
    }

    fn end_field(&mut self) {
        self.ends.push(self.bytes.len());
    }
}

/// Where a record ended in the buffer.
#[derive(Debug)]
struct RecordEnd {
    /// Start of the next record.
    next: usize,
    /// End of the record's text, without `\r\n` / `\n`.
    text_end: usize,
    /// `\n` bytes inside the record's quoted fields.
    inner_newlines: u64,
    /// The input ended inside a quoted field.
    unterminated: bool,
}

/// Reads the record starting at `buf[start]` into `rec`.
fn read_record(buf: &[u8], start: usize, rec: &mut Record) -> RecordEnd {
    rec.bytes.clear();
    rec.ends.clear();
    let mut i = start;
    let mut inner_newlines = 0;
    loop {
        if buf.get(i) == Some(&b'"') {
            i += 1;
            loop {
                let Some(q) = memchr::memchr(b'"', &buf[i..]) else {
                    inner_newlines += memchr::memchr_iter(b'\n', &buf[i..]).count() as u64;
                    rec.bytes.extend_from_slice(&buf[i..]);
                    rec.end_field();
                    return RecordEnd {
                        next: buf.len(),
                        text_end: buf.len(),
                        inner_newlines,
                        unterminated: true,
                    };
                };
                inner_newlines += memchr::memchr_iter(b'\n', &buf[i..i + q]).count() as u64;
                rec.bytes.extend_from_slice(&buf[i..i + q]);
                i += q + 1;
                if buf.get(i) == Some(&b'"') {
                    rec.bytes.push(b'"');
                    i += 1;
                } else {
                    break;
                }
            }
        }
        // Unquoted field, or the literal rest of a quoted one.
        let Some(k) = memchr::memchr2(b',', b'\n', &buf[i..]) else {
            rec.bytes.extend_from_slice(&buf[i..]);
            let mut text_end = buf.len();
            if text_end > i && buf[text_end - 1] == b'\r' {
                rec.bytes.pop();
                text_end -= 1;
            }
            rec.end_field();
            return RecordEnd {
                next: buf.len(),
                text_end,
                inner_newlines,
                unterminated: false,
            };
        };
        rec.bytes.extend_from_slice(&buf[i..i + k]);
        i += k;
        if buf[i] == b',' {
            rec.end_field();
            i += 1;
            continue;
        }
        // `\n`: the `\r` before it, if any, was the last byte of this unquoted part.
        let mut text_end = i;
        if k > 0 && buf[i - 1] == b'\r' {
            rec.bytes.pop();
            text_end -= 1;
        }
        rec.end_field();
        return RecordEnd {
            next: i + 1,
            text_end,
            inner_newlines,
            unterminated: false,
        };
    }
}

/// Parses the records of `bytes`, whose first byte is on line `first_line` of `file`.
pub(crate) fn parse_chunk(
    header: &CsvHeader,
    file: &str,
    bytes: &[u8],
    first_line: u64,
    out: &mut ParsedChunk,
) {
    let mut rec = Record::default();
    let mut pos = 0;
    let mut line = first_line;
    // Room for the chunk's rows up front (a row is rarely shorter than 40 bytes), instead of
    // growing the vector by copies.
    out.reports.reserve(bytes.len() / 40);
    while pos < bytes.len() {
        let end = read_record(bytes, pos, &mut rec);
        let raw = &bytes[pos..end.text_end];
        match row(header, raw, &rec, &end) {
            Ok(report) => out.reports.push(report),
            Err(reason) => out.rejects.push(Reject {
                file: file.to_owned(),
                line,
                reason,
                raw: raw_text(raw),
            }),
        }
        line += end.inner_newlines + 1;
        pos = end.next;
    }
}

fn row(
    header: &CsvHeader,
    raw: &[u8],
    rec: &Record,
    end: &RecordEnd,
) -> Result<deconflict_engine::model::Report, String> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err("empty line".into());
    }
    if end.unterminated {
        return Err(format!(
            "unterminated quoted field (runs to the end of the file, {} more lines)",
            end.inner_newlines
        ));
    }
    let Ok(text) = std::str::from_utf8(&rec.bytes) else {
        return Err("invalid UTF-8".into());
    };
    let n = rec.ends.len();
    if n != header.width {
        let missing = (0..REQUIRED).find(|&k| header.cols[k].is_some_and(|c| c >= n));
        return Err(match missing {
            Some(k) => format!("missing field {}", COLUMNS[k]),
            None => format!("row has {n} fields, header has {}", header.width),
        });
    }
    let mut fields: RowFields<'_> = [Field::Missing; 6];
    for (f, col) in fields.iter_mut().zip(header.cols) {
        if let Some(c) = col {
            let start = if c == 0 { 0 } else { rec.ends[c - 1] };
            // Field ends sit next to ASCII delimiters, so they are char boundaries.
            *f = Field::Text(text.get(start..rec.ends[c]).ok_or("invalid UTF-8")?);
        }
    }
    report_from(&fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &[u8]) -> (Vec<String>, RecordEnd) {
        let mut rec = Record::default();
        let end = read_record(line, 0, &mut rec);
        (
            rec.fields()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect(),
            end,
        )
    }

    #[test]
    fn splits_quoted_fields() {
        let (f, e) = fields(b"a,\"b,c\",\"d\"\"e\",\"x\ny\"z,\r\nnext");
        assert_eq!(f, ["a", "b,c", "d\"e", "x\nyz", ""]);
        assert_eq!(
            (e.next, e.text_end, e.inner_newlines, e.unterminated),
            (24, 22, 1, false)
        );
        let (f, e) = fields(b"a,b\r");
        assert_eq!(f, ["a", "b"]);
        assert_eq!(e.text_end, 3);
        let (f, e) = fields(b"a,\"open\nrest");
        assert_eq!(f, ["a", "open\nrest"]);
        assert!(e.unterminated);
        let (f, _) = fields(b"");
        assert_eq!(f, [""]);
        let (f, _) = fields(b"x\"y\",z\n");
        assert_eq!(f, ["x\"y\"", "z"]);
    }

    #[test]
    fn header_columns_by_name() {
        let h = CsvHeader::parse(b"\" LAT \",extra,Time,ID,lon\r\n", "f", 1).unwrap();
        assert_eq!(h.cols, [Some(3), Some(2), Some(4), Some(0), None, None]);
        assert_eq!(h.width, 5);
        let e = CsvHeader::parse(b"id,time,lon\n", "f.csv", 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.csv: line 1: CSV header lacks required column \"lat\" (header: \"id,time,lon\")"
        );
        assert!(matches!(
            CsvHeader::parse(b"id,time,lon,lat,Lat\n", "f", 1),
            Err(IngestError::DuplicateColumn { column: "lat", .. })
        ));
    }
}
