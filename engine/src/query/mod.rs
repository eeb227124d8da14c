//! Queries over a snapshot: windows (box, circle, polygon × time × altitude × side) and tracks.

mod nearest;
mod range;
mod report;
pub(crate) mod track;

pub use nearest::{Neighbour, NeighbourRef};
pub use range::{Area, WindowQuery};
pub(crate) use range::{ReportIter, for_each_match};
pub use report::ReportRef;
pub use track::TrackIter;
