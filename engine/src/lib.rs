//! # Deconflict engine
//!
//! A spatiotemporal index of track reports over immutable, memory-mapped segments, and the
//! deconfliction rules of the Deconflict contract.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod geodesy;
pub mod model;
pub mod time;

pub use error::{Error, Result};
