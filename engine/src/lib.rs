//! # Deconflict engine
//!
//! A spatiotemporal index of track reports over immutable, memory-mapped segments, and the
//! deconfliction rules of the Deconflict contract: is a planned operation separated by time
//! and/or geography from every track, every other operation and every off-limits area?
//!
//! Data flows: reports → [`ReportBatch`] → [`Writer`] (segments on disk) → commit (manifest
//! renamed into place) → [`Snapshot`] published in the [`Engine`] → queries and checks.
//!
//! ## Concurrency model
//!
//! The engine keeps its current [`Snapshot`] behind an atomic pointer (`arc_swap`). A reader
//! takes a snapshot with one atomic load — it never waits, not even while a writer publishes —
//! and every answer it gets from that snapshot is from exactly one generation. A writer (one
//! per index at a time, across processes: an advisory file lock) builds whole segments,
//! commits them by renaming a new manifest into place, then swaps the pointer. Old snapshots
//! stay valid as long as someone holds them: their files stay mapped even after compaction
//! removes them from the directory.
//!
//! ## A planning system, in one example
//!
//! Open the index once, keep it fresh in the background, and ask from as many threads as you
//! like:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use deconflict_engine::{Engine, ReportBatch};
//! use deconflict_engine::geodesy::BBox;
//! use deconflict_engine::model::{Minima, Operation, Report, Target, Waypoint};
//! use deconflict_engine::query::{Area, WindowQuery};
//! use deconflict_engine::time::{TimeRange, Timestamp};
//!
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path();
//! // Somewhere, a bulk ingest job adds reports (here: in-process, through the library).
//! let engine = Arc::new(Engine::create(path).unwrap());
//! let mut writer = engine.writer().unwrap();
//! let mut batch = ReportBatch::new();
//! for i in 0..60 {
//!     let r = Report::new("RED-7", "red", Timestamp(i * 1000), 36.0 + i as f64 * 0.002, 35.5, Some(6000.0)).unwrap();
//!     batch.push(&r).unwrap();
//! }
//! writer.add(batch).unwrap();
//! writer.commit().unwrap();
//!
//! // The planning system: one engine, refreshed by a background thread, shared by workers.
//! let planner = Arc::new(Engine::open(path).unwrap());
//! let _watcher = planner.watch(Duration::from_millis(500));
//! let workers: Vec<_> = (0..4)
//!     .map(|_| {
//!         let engine = Arc::clone(&planner);
//!         std::thread::spawn(move || {
//!             let snap = engine.snapshot(); // one generation for this unit of work
//!             let window = WindowQuery {
//!                 area: Area::BBox(BBox::new(35.9, 35.4, 36.2, 35.6).unwrap()),
//!                 time: TimeRange::new(Timestamp(0), Timestamp(59_000)).unwrap(),
//!                 alt: None,
//!                 side: Some("red".into()),
//!             };
//!             let seen = snap.for_each_report(&window, |_| {}).unwrap();
//!             let at = snap.position_at("RED-7", Timestamp(10_500), 60_000).unwrap().unwrap();
//!             let near = snap.nearest(36.05, 35.5, Timestamp(30_000), 1, 60_000).unwrap();
//!             (seen, at.lon, near[0].id.clone())
//!         })
//!     })
//!     .collect();
//! for w in workers {
//!     let (seen, lon, nearest) = w.join().unwrap();
//!     assert_eq!(seen, 60);
//!     assert!((lon - 36.021).abs() < 1e-9);
//!     assert_eq!(nearest, "RED-7");
//! }
//!
//! // Is a strike through that airspace deconflicted?
//! let op = Operation {
//!     id: "op-1".into(), side: "blue".into(), filed_at: Timestamp(-86_400_000 * 2),
//!     method: "air strike".into(), composition: "2 strike aircraft".into(),
//!     target: Target { lon: 36.3, lat: 35.5, radius_m: 500.0 },
//!     window: TimeRange::new(Timestamp(0), Timestamp(600_000)).unwrap(),
//!     altitude_m: (3000.0, 9000.0), corridor_m: 2000.0,
//!     route: vec![Waypoint { lon: 35.8, lat: 35.5, time: None }, Waypoint { lon: 36.3, lat: 35.5, time: None }],
//!     own_tracks: vec![],
//! };
//! let report = planner.snapshot().check(&op, &Minima::default()).unwrap();
//! assert!(!report.deconflicted); // RED-7 flies along the leg at 6000 m
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod deconflict;
mod engine;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod geodesy;
mod index;
pub mod model;
mod num;
#[doc(hidden)]
pub mod oracle;
pub mod query;
mod seams;
pub(crate) mod segment;
mod snapshot;
pub mod time;
pub mod trajectory;
mod write;

pub use engine::{Engine, Watcher};
pub use error::{Error, Result};
pub use segment::FORMAT_VERSION;
pub use snapshot::{QueryPlan, SegmentInfo, Snapshot};
pub use write::{AddOutcome, BATCH_BYTES_PER_REPORT, CompactOutcome, ReportBatch, Writer};
