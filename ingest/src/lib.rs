//! x
pub mod parse_objects;
