//! The K entities nearest a point at a time, on interpolated positions.

use std::collections::HashMap;

use crate::error::Result;
use crate::geodesy::{circle_bbox, distance_m};
use crate::segment::BoxFilter;
use crate::snapshot::Snapshot;
use crate::time::Timestamp;
use crate::trajectory::{entity_rows, position_at};

/// One answer of a nearest query.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Neighbour {
    /// Entity id.
    pub id: String,
    /// Side of the report at or just before the time asked.
    pub side: String,
    /// Longitude at that time (interpolated), degrees.
    pub lon: f64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Altitude in metres, `None` when unknown.
    pub alt: Option<f64>,
    /// Geodesic distance from the query point, metres.
    pub distance_m: f64,
}

/// First search radius; it grows ×4 until K entities are inside it or it covers the globe.
const FIRST_RADIUS_M: f64 = 20_000.0;
/// Beyond this radius the search box is the whole world.
const WORLD_RADIUS_M: f64 = 20_100_000.0;

impl Snapshot {
    /// The `k` entities nearest `(lon, lat)` at `t`, nearest first, ties broken by id.
    /// Positions are interpolated between reports at most `max_gap_ms` apart. Only entities
    /// whose trajectory (or seam between segments) passes near the point at `t` are looked at.
    ///
    /// ```
    /// # use deconflict_engine::{Engine, ReportBatch, model::Report, time::Timestamp};
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let engine = Engine::create(dir.path()).unwrap();
    /// # let mut w = engine.writer().unwrap();
    /// # let mut b = ReportBatch::new();
    /// # for (id, lon) in [("A", 0.0), ("B", 0.5)] {
    /// #     for t in [0, 60_000] { b.push(&Report::new(id, "blue", Timestamp(t), lon, 0.0, None).unwrap()).unwrap(); }
    /// # }
    /// # w.add(b).unwrap(); w.commit().unwrap();
    /// let near = engine.snapshot().nearest(0.4, 0.0, Timestamp(30_000), 1, 60_000).unwrap();
    /// assert_eq!(near[0].id, "B");
    /// ```
    pub fn nearest(
        &self,
        lon: f64,
        lat: f64,
        t: Timestamp,
        k: usize,
        max_gap_ms: i64,
    ) -> Result<Vec<Neighbour>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let mut seen: HashMap<String, Option<Neighbour>> = HashMap::new();
        let mut radius = FIRST_RADIUS_M;
        loop {
            let b = circle_bbox(lon, lat, radius);
            let filter = BoxFilter::new(&b, (t.0, t.0), None);
            let fresh: Vec<String> = self
                .piece_candidates(&filter, max_gap_ms)?
                .into_iter()
                .filter(|id| !seen.contains_key(id))
                .collect();
            for id in fresh {
                let parts = entity_rows(self.segments(), &id)?;
                if let Some((f, side)) = position_at(&parts, t, max_gap_ms) {
                    let d = distance_m((lon, lat), (f.lon, f.lat));
                    let n = Neighbour {
                        side: side.to_owned(),
                        id: id.clone(),
                        lon: f.lon,
                        lat: f.lat,
                        alt: f.alt,
                        distance_m: d,
                    };
                    seen.insert(id, Some(n));
                } else {
                    seen.insert(id, None);
                }
            }
            let inside = seen
                .values()
                .flatten()
                .filter(|n| n.distance_m <= radius)
                .count();
            if inside >= k || radius >= WORLD_RADIUS_M {
                let mut all: Vec<Neighbour> = seen.into_values().flatten().collect();
                all.sort_by(|a, b| {
                    a.distance_m
                        .total_cmp(&b.distance_m)
                        .then_with(|| a.id.cmp(&b.id))
                });
                // Only answers inside the searched radius are certain to be the nearest.
                all.retain(|n| n.distance_m <= radius);
                all.truncate(k);
                return Ok(all);
            }
            radius = (radius * 4.0).min(WORLD_RADIUS_M);
        }
    }
}
