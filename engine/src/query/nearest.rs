//! The K entities nearest a point at a time, on interpolated positions.

use std::collections::HashMap;

use crate::error::Result;
use crate::geodesy::{circle_bbox, distance_m};
use crate::segment::BoxFilter;
use crate::snapshot::Snapshot;
use crate::time::Timestamp;
use crate::trajectory::{EntityRows, Fix, position_at};

/// A candidate with a position at the time asked, borrowed from the segments.
struct Found<'s> {
    id: &'s [u8],
    side: &'s str,
    fix: Fix,
    /// At most the geodesic distance from the query point (see [`Ecef::lower_bound_m`]).
    lower_m: f64,
    /// The geodesic distance, NaN until computed.
    distance_m: f64,
}

/// WGS84 semi-major axis, metres.
const WGS84_A: f64 = 6_378_137.0;
/// WGS84 first eccentricity squared.
const WGS84_E2: f64 = 6.694_379_990_141_316e-3;

/// A point on the WGS84 ellipsoid in Earth-centred Cartesian coordinates (metres).
struct Ecef([f64; 3]);

impl Ecef {
    fn new(lon: f64, lat: f64) -> Ecef {
        let (sp, cp) = lat.to_radians().sin_cos();
        let (sl, cl) = lon.to_radians().sin_cos();
        let n = WGS84_A / (1.0 - WGS84_E2 * sp * sp).sqrt();
        Ecef([n * cp * cl, n * cp * sl, n * (1.0 - WGS84_E2) * sp])
    }

    /// A lower bound of the geodesic distance to `(lon, lat)`: the straight chord between the
    /// two points is no longer than any path on the ellipsoid, the geodesic included. The
    /// margin (1e-6 relative + 1 mm) covers the rounding of both computations many times over.
    fn lower_bound_m(&self, lon: f64, lat: f64) -> f64 {
        let o = Ecef::new(lon, lat);
        let d = (0..3)
            .map(|i| (self.0[i] - o.0[i]).powi(2))
            .sum::<f64>()
            .sqrt();
        (d * (1.0 - 1e-6) - 1e-3).max(0.0)
    }
}

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
        let segments = self.segments();
        // Entities looked at so far, by id bytes (borrowed from the segments or the seams), and
        // where each is at `t`, if anywhere: nothing is allocated per candidate.
        let mut seen: HashMap<&[u8], bool, foldhash::fast::RandomState> = HashMap::default();
        let centre = Ecef::new(lon, lat);
        let mut found: Vec<Found<'_>> = Vec::new();
        let mut fresh: Vec<(&[u8], usize, u32)> = Vec::new();
        let mut parts: Vec<EntityRows<'_>> = Vec::with_capacity(segments.len());
        let mut radius = FIRST_RADIUS_M;
        loop {
            let b = circle_bbox(lon, lat, radius);
            let filter = BoxFilter::new(&b, (t.0, t.0), None);
            fresh.clear();
            for (s, seg) in segments.iter().enumerate() {
                let mut last = u32::MAX;
                for run in seg.search(&filter) {
                    let e = run?.entity;
                    if e != last {
                        last = e;
                        let name = seg.entity_name_bytes(e);
                        if !seen.contains_key(name) {
                            fresh.push((name, s, e));
                        }
                    }
                }
            }
            for seam in self
                .seams()?
                .overlapping(filter.time.0, filter.time.1, max_gap_ms)
            {
                if filter.intersects(&seam.bounds) && !seen.contains_key(seam.id.as_bytes()) {
                    fresh.push((seam.id.as_bytes(), usize::MAX, u32::MAX));
                }
            }
            for &(name, s, e) in &fresh {
                if seen.contains_key(name) {
                    continue;
                }
                parts.clear();
                for (s2, seg) in segments.iter().enumerate() {
                    let e2 = if s2 == s {
                        Some(e)
                    } else {
                        seg.find_entity_bytes(name)
                    };
                    if let Some(e2) = e2 {
                        parts.push(EntityRows {
                            seg,
                            rows: seg.entity_rows(e2)?,
                        });
                    }
                }
                let at = position_at(&parts, t, max_gap_ms).map(|(f, side)| {
                    found.push(Found {
                        id: name,
                        side,
                        fix: f,
                        lower_m: centre.lower_bound_m(f.lon, f.lat),
                        distance_m: f64::NAN,
                    });
                    found.len() - 1
                });
                seen.insert(name, at.is_some());
            }
            // The geodesic distance (≈ 6 k instructions) is computed only for candidates that
            // may be among the answers: in order of a proven lower bound, while that bound is
            // within the radius and within the K-th smallest distance found so far. Every
            // candidate left out is certain to be farther than the radius or than K answers,
            // so the answers are those of computing every distance.
            found.sort_unstable_by(|a, b| a.lower_m.total_cmp(&b.lower_m));
            let mut best: Vec<f64> = Vec::with_capacity(k + 1);
            for n in &mut found {
                let kth = if best.len() >= k { best[k - 1] } else { radius };
                if n.lower_m > kth.min(radius) {
                    break;
                }
                if n.distance_m.is_nan() {
                    n.distance_m = distance_m((lon, lat), (n.fix.lon, n.fix.lat));
                }
                if n.distance_m <= radius {
                    let at = best.partition_point(|&d| d <= n.distance_m);
                    best.insert(at, n.distance_m);
                    best.truncate(k);
                }
            }
            let inside = best.len();
            if inside >= k || radius >= WORLD_RADIUS_M {
                // Only answers inside the searched radius are certain to be the nearest.
                found.retain(|n| n.distance_m <= radius);
                found.sort_unstable_by(|a, b| {
                    a.distance_m
                        .total_cmp(&b.distance_m)
                        .then_with(|| a.id.cmp(b.id))
                });
                found.truncate(k);
                return Ok(found
                    .into_iter()
                    .map(|n| Neighbour {
                        id: String::from_utf8_lossy(n.id).into_owned(),
                        side: n.side.to_owned(),
                        lon: n.fix.lon,
                        lat: n.fix.lat,
                        alt: n.fix.alt,
                        distance_m: n.distance_m,
                    })
                    .collect());
            }
            radius = (radius * 4.0).min(WORLD_RADIUS_M);
        }
    }
}
