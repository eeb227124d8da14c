//! # Deconflict engine
//!
//! A spatiotemporal index of track reports over immutable, memory-mapped segments, and the
//! deconfliction rules of the Deconflict contract.
//!
//! Data flows: reports → [`ReportBatch`] → [`Writer`] (segments on disk) → commit (manifest
//! renamed into place) → [`Snapshot`] published in the [`Engine`] → queries.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod deconflict;
mod engine;
pub mod error;
pub mod geodesy;
mod index;
pub mod model;
#[doc(hidden)]
pub mod oracle;
pub mod query;
mod seams;
pub(crate) mod segment;
mod snapshot;
pub mod time;
pub mod trajectory;
mod write;

pub use engine::Engine;
pub use error::{Error, Result};
pub use segment::FORMAT_VERSION;
pub use snapshot::{QueryPlan, SegmentInfo, Snapshot};
pub use write::{AddOutcome, BATCH_BYTES_PER_REPORT, CompactOutcome, ReportBatch, Writer};
