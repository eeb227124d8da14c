//! The index directory: manifest, segment files, writer lock, cleanup.

pub(crate) mod dir;
pub(crate) mod manifest;
pub(crate) mod objects;

pub(crate) use dir::{IndexDir, WriterLock, crash_point};
pub(crate) use manifest::{Manifest, SegmentMeta};
pub(crate) use objects::Objects;
