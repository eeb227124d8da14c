//! # Deconflict ingest
//!
//! The ingest pipeline and the `deconflict` command-line tool. Track files flow
//! [`source`] (file, `-` or gzip) → [`chunk`] (record-aligned pieces) → [`parse`] (CSV or NDJSON,
//! in parallel, in input order) → [`validate`] (a [`deconflict_engine::model::Report`] or a
//! [`reject::Reject`] with its reason and line) → [`pipeline`] (batches, segments, one atomic
//! commit). Zones and operations are read by [`parse_objects`].
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod chunk;
pub mod error;
pub mod generate;
pub mod parse;
pub mod parse_objects;
pub mod pipeline;
pub mod reject;
pub mod source;
pub mod validate;
