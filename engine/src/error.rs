//! The engine's one error type.

use std::path::PathBuf;

use crate::segment::FORMAT_VERSION;

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the engine. Each variant carries what a user needs to act.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory holds no index (no `MANIFEST`).
    #[error("no index at {0}")]
    NotFound(PathBuf),
    /// A file of the index is damaged; `offset` is where the damage was noticed, when known.
    #[error("{path}: corrupt{}: {reason}", offset.map(|o| format!(" at offset {o}")).unwrap_or_default())]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Byte offset of the damaged part, when known.
        offset: Option<u64>,
        /// What is wrong.
        reason: String,
    },
    /// A segment written by another format version.
    #[error("{path}: format v{found}, this build reads v{FORMAT_VERSION}")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version found in its header.
        found: u16,
    },
    /// An I/O error on a named path.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An argument that the engine cannot accept (bad time range, bad polygon, …).
    #[error("invalid input: {0}")]
    Invalid(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(
        path: impl Into<PathBuf>,
        offset: Option<u64>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Corrupt {
            path: path.into(),
            offset,
            reason: reason.into(),
        }
    }

    /// True when the error means the index is missing or damaged (the CLI exits 2 for these).
    pub fn is_index_error(&self) -> bool {
        matches!(
            self,
            Error::NotFound(_) | Error::Corrupt { .. } | Error::UnsupportedVersion { .. }
        )
    }
}
