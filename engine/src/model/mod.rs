//! Plain data: reports, areas, queries. No I/O here.

mod minima;
pub mod operation;
mod report;
pub mod zone;

pub use minima::Minima;
pub use operation::{Operation, Target, Waypoint};
pub use report::{
    ALT_MAX_M, ALT_MIN_M, ALT_UNKNOWN, InvalidReport, MAX_ID_BYTES, Report, alt_from_mm, alt_to_mm,
    deg_from_e7, deg_to_e7, write_e7,
};
pub use zone::{InvalidObject, MAX_RADIUS_M, RingRef, Zone, ZoneKind, ZoneShape};
