//! Rejected rows and the NDJSON file they are written to.
//!
//! Each line of a rejects file is one JSON object `{"file","line","reason","raw"}`: the input
//! file as named on the command line, the 1-based physical line where the row starts, a specific
//! reason, and the row's text (lossy UTF-8, without its line terminator, capped at
//! [`RAW_CAP`] bytes plus `…`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Longest `raw` text kept in a reject, in bytes (a `…` is appended when cut).
pub const RAW_CAP: usize = 4096;

/// A row that was not accepted, with where it was and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reject {
    /// The input file as given (`-` for standard input).
    pub file: String,
    /// 1-based physical line where the row starts.
    pub line: u64,
    /// Why it was rejected, e.g. `lat 90.0000001 out of range [-90, 90]`.
    pub reason: String,
    /// The row's text, lossy UTF-8, without terminator, capped at [`RAW_CAP`] bytes.
    pub raw: String,
}

/// The `raw` text of a row: lossy UTF-8, cut at [`RAW_CAP`] bytes (on a character boundary)
/// with a trailing `…`.
///
/// ```
/// use deconflict_ingest::reject::{raw_text, RAW_CAP};
/// assert_eq!(raw_text(b"a,b\xff"), "a,b\u{FFFD}");
/// let long = raw_text(&vec![b'x'; 10_000]);
/// assert_eq!(long.len(), RAW_CAP + '…'.len_utf8());
/// assert!(long.ends_with('…'));
/// ```
#[must_use]
pub fn raw_text(bytes: &[u8]) -> String {
    let capped = &bytes[..bytes.len().min(RAW_CAP + 4)];
    let mut s = String::from_utf8_lossy(capped).into_owned();
    if s.len() > RAW_CAP || bytes.len() > capped.len() {
        let mut cut = RAW_CAP.min(s.len());
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// Writes rejects as NDJSON, buffered.
///
/// ```
/// use deconflict_ingest::reject::{Reject, RejectWriter};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("r.ndjson");
/// let mut w = RejectWriter::create(&path).unwrap();
/// w.write(&Reject { file: "t.csv".into(), line: 3, reason: "empty line".into(), raw: " ".into() }).unwrap();
/// assert_eq!(w.finish().unwrap(), 1);
/// assert_eq!(std::fs::read_to_string(&path).unwrap(),
///            "{\"file\":\"t.csv\",\"line\":3,\"reason\":\"empty line\",\"raw\":\" \"}\n");
/// ```
#[derive(Debug)]
pub struct RejectWriter {
    out: BufWriter<File>,
    written: u64,
}

impl RejectWriter {
    /// Creates (or truncates) the file at `path`.
    ///
    /// # Errors
    /// The error of creating the file.
    pub fn create(path: impl AsRef<Path>) -> io::Result<RejectWriter> {
        Ok(RejectWriter {
            out: BufWriter::with_capacity(256 * 1024, File::create(path)?),
            written: 0,
        })
    }

    /// Appends one reject as a JSON line.
    ///
    /// # Errors
    /// A write error.
    pub fn write(&mut self, reject: &Reject) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, reject)?;
        self.out.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    /// Flushes and syncs the file; returns how many rejects were written.
    ///
    /// # Errors
    /// A flush or sync error.
    pub fn finish(self) -> io::Result<u64> {
        let file = self
            .out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        Ok(self.written)
    }
}
