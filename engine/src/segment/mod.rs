//! Immutable segment files: format, writing, mapping and validated reading.

pub(crate) mod format;
mod mmap;
pub(crate) mod reader;
pub(crate) mod writer;

pub use format::FORMAT_VERSION;
pub(crate) use reader::{BoxFilter, Segment};
pub(crate) use writer::{Row, SegmentInput, write_segment};
