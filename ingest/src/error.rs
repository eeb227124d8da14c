//! File-level errors of the ingest stage.
//!
//! A bad *row* is never an error here: it becomes a [`crate::reject::Reject`]. An
//! [`IngestError`] means a whole file cannot be read (missing, unreadable, a CSV header without a
//! required column, …); every variant names the file, and the line when there is one.

use std::fmt;
use std::io;

/// Why a whole input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The path does not exist.
    #[error("{path}: no such file")]
    NotFound {
        /// The path as given.
        path: String,
    },
    /// The path is a directory.
    #[error("{path}: is a directory, not a file")]
    IsDirectory {
        /// The path as given.
        path: String,
    },
    /// The file exists but may not be read.
    #[error("{path}: permission denied")]
    PermissionDenied {
        /// The path as given.
        path: String,
    },
    /// The path goes through a loop of symbolic links.
    #[error("{path}: too many levels of symbolic links (symlink loop)")]
    SymlinkLoop {
        /// The path as given.
        path: String,
    },
    /// Any other I/O error while opening or reading.
    #[error("{path}: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The CSV header row lacks a required column.
    #[error(
        "{path}: line {line}: CSV header lacks required column {column:?} (header: {header:?})"
    )]
    MissingColumn {
        /// The file.
        path: String,
        /// Line of the header (1, or later when the header spans quoted newlines).
        line: u64,
        /// The missing column: `id`, `time`, `lon` or `lat`.
        column: &'static str,
        /// The header row as read (lossy UTF-8, capped).
        header: String,
    },
    /// The CSV header names a known column twice, so the value to use is ambiguous.
    #[error("{path}: line {line}: CSV header has column {column:?} twice")]
    DuplicateColumn {
        /// The file.
        path: String,
        /// Line of the header.
        line: u64,
        /// The repeated column.
        column: &'static str,
    },
    /// A single record is larger than the reader accepts (usually an unbalanced quote).
    #[error("{path}: line {line}: record longer than {limit} bytes (an unbalanced quote?)")]
    RecordTooLong {
        /// The file.
        path: String,
        /// Line where the record starts.
        line: u64,
        /// The limit in bytes.
        limit: usize,
    },
    /// A zones or operations file that cannot be read as a whole.
    #[error(transparent)]
    Objects(#[from] crate::parse_objects::FileError),
    /// The index refused the data (missing, corrupt, or an I/O error while writing).
    #[error(transparent)]
    Engine(#[from] deconflict_engine::Error),
    /// More rows were rejected than `--max-rejects` allows; nothing was committed.
    #[error("{rejected} rows rejected, more than --max-rejects {max}: nothing committed")]
    TooManyRejects {
        /// Rows rejected when the ingest stopped.
        rejected: u64,
        /// The limit.
        max: u64,
    },
    /// The segment builder stopped early (its own error is reported instead).
    #[error("segment builder stopped")]
    BuilderStopped,
}

impl IngestError {
    #[must_use]
    /// An I/O error on `path`, mapped to the specific variant when there is one.
    pub fn io(path: &str, source: io::Error) -> Self {
        let path = path.to_owned();
        match source.kind() {
            io::ErrorKind::NotFound => IngestError::NotFound { path },
            io::ErrorKind::IsADirectory => IngestError::IsDirectory { path },
            io::ErrorKind::PermissionDenied => IngestError::PermissionDenied { path },
            _ if is_symlink_loop(&source) => IngestError::SymlinkLoop { path },
            _ => IngestError::Io { path, source },
        }
    }

    /// The file the error is about.
    #[must_use]
    pub fn path(&self) -> &str {
        match self {
            IngestError::NotFound { path }
            | IngestError::IsDirectory { path }
            | IngestError::PermissionDenied { path }
            | IngestError::SymlinkLoop { path }
            | IngestError::Io { path, .. }
            | IngestError::MissingColumn { path, .. }
            | IngestError::DuplicateColumn { path, .. }
            | IngestError::RecordTooLong { path, .. } => path,
            IngestError::Objects(
                crate::parse_objects::FileError::NotJson { file, .. }
                | crate::parse_objects::FileError::Unexpected { file, .. },
            ) => file,
            IngestError::Engine(_)
            | IngestError::TooManyRejects { .. }
            | IngestError::BuilderStopped => "",
        }
    }
}

impl<E: Into<IngestError>> From<ReadError<E>> for IngestError {
    fn from(e: ReadError<E>) -> Self {
        match e {
            ReadError::File(e) => e,
            ReadError::Consumer(e) => e.into(),
        }
    }
}

/// `ELOOP`: `ErrorKind::FilesystemLoop` is not stable yet.
fn is_symlink_loop(e: &io::Error) -> bool {
    const ELOOP: i32 = if cfg!(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )) {
        62
    } else {
        40
    };
    cfg!(unix) && e.raw_os_error() == Some(ELOOP)
}

/// The error of [`crate::parse::read_tracks`]: a file could not be read, or the consumer
/// callback asked to stop.
#[derive(Debug)]
pub enum ReadError<E> {
    /// A file-level error; it names the file.
    File(IngestError),
    /// The error returned by the `on_chunk` callback, unchanged.
    Consumer(E),
}

impl<E: fmt::Display> fmt::Display for ReadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::File(e) => e.fmt(f),
            ReadError::Consumer(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ReadError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::File(e) => e.source(),
            ReadError::Consumer(e) => e.source(),
        }
    }
}

impl<E> From<IngestError> for ReadError<E> {
    fn from(e: IngestError) -> Self {
        ReadError::File(e)
    }
}
