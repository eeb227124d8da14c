//! Shared by the brute-force test suites: build an index generation by generation through the
//! public API, and keep the model the index must equal (first report of each (id, time) wins,
//! in stored precision).

use std::collections::HashSet;

use deconflict_engine::model::{Report, alt_from_mm, alt_to_mm, deg_from_e7, deg_to_e7};
use deconflict_engine::{Engine, ReportBatch};

/// A report as the index stores it (1e-7°, whole millimetres).
pub fn stored(r: &Report) -> Report {
    Report {
        lon: deg_from_e7(deg_to_e7(r.lon)),
        lat: deg_from_e7(deg_to_e7(r.lat)),
        alt: alt_from_mm(alt_to_mm(r.alt)),
        ..r.clone()
    }
}

/// Commits each generation (a list of batches) in order into a new index at `dir`; returns the
/// engine and the deduplicated model of what it must hold.
pub fn build(dir: &std::path::Path, generations: &[Vec<Vec<Report>>]) -> (Engine, Vec<Report>) {
    let engine = Engine::create(dir).unwrap();
    let mut model = Vec::new();
    let mut seen = HashSet::new();
    for generation in generations {
        let mut w = engine.writer().unwrap();
        for batch in generation {
            let mut b = ReportBatch::new();
            for r in batch {
                b.push(r).unwrap();
                if seen.insert((r.id.clone(), r.time)) {
                    model.push(stored(r));
                }
            }
            w.add(b).unwrap();
        }
        w.commit().unwrap();
    }
    (engine, model)
}
