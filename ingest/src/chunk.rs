//! Cutting a decompressed input into chunks that end at a record boundary.
//!
//! Invariants:
//! - every chunk but the last of a file ends just after a `\n` that ends a record: for NDJSON any
//!   `\n`, for CSV a `\n` outside quotes, found with the same quoting rules as
//!   [`crate::parse::csv`] (a field is quoted only when its first byte is `"`; `""` inside is a
//!   quote; bytes after the closing quote are literal). Parsing chunk by chunk therefore gives
//!   the same rows as parsing the whole file;
//! - `first_line` of a chunk is the 1-based physical line of its first byte;
//! - a UTF-8 byte-order mark at the start of the content is removed before anything else;
//! - a gzip stream that is truncated or corrupt ends the file: the rows before the last complete
//!   record are kept and the chunk carries the damage, to be reported as one reject.

use std::io::{self, Read};

use crate::error::IngestError;
use crate::source::Source;

/// Default chunk size: about 4 MiB per chunk.
pub const DEFAULT_CHUNK_SIZE: usize = 4 << 20;
/// Largest single record accepted (a bigger one is almost always an unbalanced quote).
pub const MAX_RECORD_BYTES: usize = 64 << 20;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How records are delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// One record per physical line.
    Lines,
    /// CSV: a `\n` inside a quoted field does not end the record.
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CsvState {
    StartField,
    InField,
    InQuoted,
    QuoteInQuoted,
}

/// Finds record boundaries incrementally, keeping the quoting state between calls.
#[derive(Debug)]
struct Scanner {
    framing: Framing,
    state: CsvState,
}

impl Scanner {
    fn new(framing: Framing) -> Self {
        Scanner {
            framing,
            state: CsvState::StartField,
        }
    }

    /// Index just after the first (`first`) or last boundary `\n` in `bytes`, updating the state
    /// up to that point (`first`) or to the end.
    fn scan(&mut self, bytes: &[u8], first: bool) -> Option<usize> {
        if self.framing == Framing::Lines {
            return if first {
                memchr::memchr(b'\n', bytes)
            } else {
                memchr::memrchr(b'\n', bytes)
            }
            .map(|i| i + 1);
        }
        // Fast path: outside quotes and no quote ahead means every `\n` is a boundary.
        if !first
            && matches!(self.state, CsvState::StartField | CsvState::InField)
            && memchr::memchr(b'"', bytes).is_none()
        {
            if let Some(&last) = bytes.last() {
                self.state = if matches!(last, b',' | b'\n') {
                    CsvState::StartField
                } else {
                    CsvState::InField
                };
            }
            return memchr::memrchr(b'\n', bytes).map(|i| i + 1);
        }
        let mut found = None;
        for (i, &b) in bytes.iter().enumerate() {
            self.state = match (self.state, b) {
                (CsvState::StartField, b'"') => CsvState::InQuoted,
                (CsvState::InQuoted, b'"') => CsvState::QuoteInQuoted,
                (CsvState::InQuoted, _) => CsvState::InQuoted,
                (CsvState::QuoteInQuoted, b'"') => CsvState::InQuoted,
                (_, b',') => CsvState::StartField,
                (_, b'\n') => {
                    found = Some(i + 1);
                    if first {
                        self.state = CsvState::StartField;
                        return found;
                    }
                    CsvState::StartField
                }
                _ => CsvState::InField,
            };
        }
        found
    }
}

/// A piece of one file, ready to parse.
#[derive(Debug)]
pub(crate) struct RawChunk {
    /// Line number of the first byte.
    pub first_line: u64,
    /// Whole records (the last chunk of a file may end without a terminator).
    pub bytes: Vec<u8>,
    /// Set when the gzip stream broke after these bytes: (line, reason) of the reject to emit.
    pub damage: Option<(u64, String)>,
}

/// Reads one source and cuts it into [`RawChunk`]s.
pub(crate) struct Chunker {
    source: Source,
    chunk_size: usize,
    buf: Vec<u8>,
    /// Bytes of `buf` already seen by the scanner.
    scanned: usize,
    /// End of the last complete record in `buf` (0 = none).
    boundary: usize,
    scanner: Scanner,
    next_line: u64,
    eof: bool,
    damage: Option<String>,
    done: bool,
}

impl Chunker {
    pub(crate) fn new(source: Source, chunk_size: usize) -> Self {
        Chunker {
            source,
            chunk_size: chunk_size.max(1),
            buf: Vec::new(),
            scanned: 0,
            boundary: 0,
            scanner: Scanner::new(Framing::Lines),
            next_line: 1,
            eof: false,
            damage: None,
            done: false,
        }
    }

    /// The name of the source.
    pub(crate) fn name(&self) -> &str {
        &self.source.name
    }

    /// Reads up to `want` more bytes. Sets `eof` at the end or when the gzip stream breaks.
    fn fill(&mut self, want: usize) -> Result<(), IngestError> {
        let old = self.buf.len();
        self.buf.resize(old + want.max(1), 0);
        loop {
            match self.source.read(&mut self.buf[old..]) {
                Ok(n) => {
                    self.buf.truncate(old + n);
                    self.eof |= n == 0;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(old);
                    let corrupt = matches!(
                        e.kind(),
                        io::ErrorKind::InvalidData
                            | io::ErrorKind::InvalidInput
                            | io::ErrorKind::UnexpectedEof
                    );
                    if self.source.is_gzip() && corrupt {
                        self.eof = true;
                        self.damage = Some(format!("truncated or corrupt gzip stream: {e}"));
                        return Ok(());
                    }
                    return Err(IngestError::io(&self.source.name, e));
                }
            }
        }
    }

    /// Removes a UTF-8 byte-order mark at the very start. Call first.
    pub(crate) fn strip_bom(&mut self) -> Result<(), IngestError> {
        while self.buf.len() < BOM.len() && !self.eof {
            self.fill(BOM.len() - self.buf.len())?;
        }
        if self.buf.starts_with(BOM) {
            self.buf.drain(..BOM.len());
        }
        Ok(())
    }

    /// The first byte of the content that is not ASCII whitespace, reading as far as needed.
    pub(crate) fn first_non_space(&mut self) -> Result<Option<u8>, IngestError> {
        let mut seen = 0;
        loop {
            if let Some(&b) = self.buf[seen..].iter().find(|b| !b.is_ascii_whitespace()) {
                return Ok(Some(b));
            }
            seen = self.buf.len();
            if self.eof {
                return Ok(None);
            }
            self.fill(self.chunk_size.min(64 * 1024))?;
        }
    }

    /// Takes the first record (the CSV header) and returns it with its line number; `None`
    /// when the content is empty or broke before one complete record.
    pub(crate) fn take_first_record(
        &mut self,
        framing: Framing,
    ) -> Result<Option<(u64, Vec<u8>)>, IngestError> {
        let mut scanner = Scanner::new(framing);
        let mut seen = 0;
        loop {
            if let Some(end) = scanner.scan(&self.buf[seen..], true).map(|i| seen + i) {
                return Ok(Some(self.take_record(end)));
            }
            seen = self.buf.len();
            if self.eof {
                if self.buf.is_empty() || self.damage.is_some() {
                    return Ok(None);
                }
                let end = self.buf.len();
                return Ok(Some(self.take_record(end)));
            }
            self.check_record_len(self.buf.len())?;
            self.fill(self.chunk_size)?;
        }
    }

    fn take_record(&mut self, end: usize) -> (u64, Vec<u8>) {
        let line = self.next_line;
        let record: Vec<u8> = self.buf.drain(..end).collect();
        self.next_line += memchr::memchr_iter(b'\n', &record).count() as u64;
        (line, record)
    }

    fn check_record_len(&self, pending: usize) -> Result<(), IngestError> {
        if pending > MAX_RECORD_BYTES {
            let line = self.next_line
                + memchr::memchr_iter(b'\n', &self.buf[..self.boundary]).count() as u64;
            return Err(IngestError::RecordTooLong {
                path: self.source.name.clone(),
                line,
                limit: MAX_RECORD_BYTES,
            });
        }
        Ok(())
    }

    /// Sets how records are delimited for [`Chunker::next_chunk`].
    pub(crate) fn set_framing(&mut self, framing: Framing) {
        self.scanner = Scanner::new(framing);
        self.scanned = 0;
        self.boundary = 0;
    }

    /// The next chunk, or `None` at the end of the source.
    pub(crate) fn next_chunk(&mut self) -> Result<Option<RawChunk>, IngestError> {
        if self.done {
            return Ok(None);
        }
        loop {
            // Bytes read before the framing was known (BOM, sniffing, header) are scanned here.
            self.scan_new();
            if self.boundary > 0 && self.buf.len() >= self.chunk_size {
                return Ok(Some(self.split(self.boundary)));
            }
            if self.eof {
                self.done = true;
                let end = if self.damage.is_some() {
                    self.boundary
                } else {
                    self.buf.len()
                };
                let mut chunk = self.split(end);
                if let Some(reason) = self.damage.take() {
                    chunk.damage = Some((self.next_line, reason));
                } else if chunk.bytes.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(chunk));
            }
            self.check_record_len(self.buf.len() - self.boundary)?;
            let want = if self.buf.len() < self.chunk_size {
                self.chunk_size - self.buf.len()
            } else {
                self.chunk_size
            };
            self.fill(want)?;
        }
    }

    fn scan_new(&mut self) {
        if let Some(end) = self.scanner.scan(&self.buf[self.scanned..], false) {
            self.boundary = self.scanned + end;
        }
        self.scanned = self.buf.len();
    }

    /// Cuts `buf[..end]` off as a chunk.
    fn split(&mut self, end: usize) -> RawChunk {
        let mut rest =
            Vec::with_capacity(self.chunk_size.min(DEFAULT_CHUNK_SIZE) + (self.buf.len() - end));
        rest.extend_from_slice(&self.buf[end..]);
        let mut bytes = std::mem::replace(&mut self.buf, rest);
        bytes.truncate(end);
        let first_line = self.next_line;
        self.next_line += memchr::memchr_iter(b'\n', &bytes).count() as u64;
        self.scanned -= end.min(self.scanned);
        self.boundary = 0;
        RawChunk {
            first_line,
            bytes,
            damage: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boundaries(framing: Framing, text: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut s = Scanner::new(framing);
        let mut at = 0;
        while let Some(i) = s.scan(&text[at..], true) {
            at += i;
            out.push(at);
        }
        out
    }

    #[test]
    fn csv_boundaries_skip_quoted_newlines() {
        let t = b"a,\"x\ny\",b\n\"q\"\"\n\",c\nd\"e\n,\"\"\n";
        assert_eq!(boundaries(Framing::Csv, t), vec![10, 19, 23, 27]);
        assert_eq!(boundaries(Framing::Lines, t).len(), 6);
    }

    #[test]
    fn last_boundary_matches_first_boundaries() {
        let t = b"a,\"x\ny\",b\n\"q\"\"\n\",c\nd\"e\n,\"\"\nxx";
        for cut in 0..t.len() {
            let mut s = Scanner::new(Framing::Csv);
            let a = s.scan(&t[..cut], false);
            let b = s.scan(&t[cut..], false).map(|i| i + cut);
            let want = boundaries(Framing::Csv, t).last().copied();
            assert_eq!(b.or(a), want, "cut {cut}");
        }
    }
}
