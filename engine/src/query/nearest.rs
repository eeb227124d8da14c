//! The K entities nearest a point at a time, on interpolated positions.

use std::collections::HashSet;
use std::ops::Range;

use crate::error::Result;
use crate::geodesy::{MIN_RADIUS_M, WGS84_A, WGS84_E2, circle_bbox, distance_m, sin_cos_small};
use crate::model::deg_from_e7;
use crate::segment::format::Bounds;
use crate::segment::{BoxFilter, EntityRows, Segment};
use crate::snapshot::Snapshot;
use crate::time::Timestamp;
use crate::trajectory::{Fix, RowPosition, position_at_row, position_within};

/// A candidate with a position at the time asked. Its id and side stay where they are in the
/// segments until it is one of the answers.
struct Found<'s> {
    /// The position at the time asked.
    lon: f64,
    lat: f64,
    alt: Alt,
    /// At most and at least the geodesic distance from the query point (see [`Ecef::bounds_m`]).
    lower_m: f64,
    upper_m: f64,
    /// The geodesic distance, NaN until computed.
    distance_m: f64,
    /// A segment holding the entity, and its number there.
    id: (&'s Segment, u32),
    /// The row of the report at or before the time asked (whose side the position has).
    side: (&'s Segment, usize),
}

impl Found<'_> {
    fn id(&self) -> &[u8] {
        self.id.0.entity_name_bytes(self.id.1)
    }
}

/// A candidate's altitude: known, or to be interpolated between two rows of its side's segment
/// (read only for the answers).
#[derive(Clone, Copy)]
enum Alt {
    Known(Option<f64>),
    Rows { before: usize, after: usize },
}

type FastSet<T> = HashSet<T, foldhash::fast::RandomState>;

/// The query point on the WGS84 ellipsoid in Earth-centred Cartesian coordinates (metres),
/// with what it takes to place points near it without trigonometric calls.
struct Ecef {
    xyz: [f64; 3],
    lon: f64,
    lat: f64,
    lat_rad: f64,
    /// sin and cos of the latitude and of the longitude.
    lat_sc: (f64, f64),
    lon_sc: (f64, f64),
}

/// Within this angle (radians, ≈ 2.9°) of the query point, sines and cosines are taken from
/// the query point's by the angle-sum formulas and series of the difference.
const SERIES_MAX_RAD: f64 = 0.05;

/// ECEF coordinates from the sines and cosines of latitude and longitude.
fn ecef((sp, cp): (f64, f64), (sl, cl): (f64, f64)) -> [f64; 3] {
    let n = WGS84_A / (1.0 - WGS84_E2 * sp * sp).sqrt();
    [n * cp * cl, n * cp * sl, n * (1.0 - WGS84_E2) * sp]
}

impl Ecef {
    fn new(lon: f64, lat: f64) -> Ecef {
        let lat_rad = lat.to_radians();
        let (lat_sc, lon_sc) = (lat_rad.sin_cos(), lon.to_radians().sin_cos());
        Ecef {
            xyz: ecef(lat_sc, lon_sc),
            lon,
            lat,
            lat_rad,
            lat_sc,
            lon_sc,
        }
    }

    /// The ECEF coordinates of `(lon, lat)`: near the query point from the angle-sum formulas
    /// (sin(a + d) = sin a cos d + cos a sin d; exact up to a few ulps, like `sin_cos`), else
    /// from `sin_cos`.
    fn point(&self, lon: f64, lat: f64) -> [f64; 3] {
        let dlat = lat.to_radians() - self.lat_rad;
        let dlon = crate::geodesy::lon_delta(self.lon, lon).to_radians();
        if dlat.abs() > SERIES_MAX_RAD || dlon.abs() > SERIES_MAX_RAD {
            return ecef(lat.to_radians().sin_cos(), lon.to_radians().sin_cos());
        }
        let sum =
            |(sa, ca): (f64, f64), (sd, cd): (f64, f64)| (sa * cd + ca * sd, ca * cd - sa * sd);
        ecef(
            sum(self.lat_sc, sin_cos_small(dlat)),
            sum(self.lon_sc, sin_cos_small(dlon)),
        )
    }

    /// Bounds `(lower, upper)` of the geodesic distance to `(lon, lat)`, from the straight chord
    /// `c` between the two points.
    ///
    /// * Lower: the chord is no longer than any path on the ellipsoid, the geodesic included.
    /// * Upper: the plane through the two points and the Earth's centre cuts the ellipsoid in an
    ///   ellipse with semi-axes `a` and `b' ∈ [b, a]`, whose curvature is at most `a / b'² ≤
    ///   1 / ρ` with `ρ = b² / a` ([`MIN_RADIUS_M`]). Its shorter arc between the points is a
    ///   path on the ellipsoid, so at least as long as the geodesic; for `c ≤`
    ///   [`UPPER_CHORD_MAX_M`] it spans at most 0.16 rad of the centre (`c ≥ 2 b sin(θ / 2)`), so
    ///   it is far shorter than `π ρ`, and Schur's comparison theorem (a curve of curvature
    ///   `≤ 1 / ρ` has a chord at least that of the circular arc of radius `ρ` and the same
    ///   length) gives `arc ≤ 2 ρ asin(c / 2ρ) ≤ c / √(1 − (c / 2ρ)²)` (as `θ ≤ tan θ`).
    ///   Beyond that chord the upper bound is infinite.
    ///
    /// The margins (1e-6 relative + 1 mm either way) cover the rounding of both computations
    /// and geographiclib's error many times over (errors of ≈ 1e-15 relative, nanometres at the
    /// Earth's radius; geographiclib ≈ 15 nm).
    fn bounds_m(&self, lon: f64, lat: f64) -> (f64, f64) {
        let o = self.point(lon, lat);
        let c = (0..3)
            .map(|i| (self.xyz[i] - o[i]).powi(2))
            .sum::<f64>()
            .sqrt();
        let lower = (c * (1.0 - 1e-6) - 1e-3).max(0.0);
        let upper = if c <= UPPER_CHORD_MAX_M {
            let x = c / (2.0 * MIN_RADIUS_M);
            c / (1.0 - x * x).sqrt() * (1.0 + 1e-6) + 1e-3
        } else {
            f64::INFINITY
        };
        (lower, upper)
    }
}

/// The longest chord given a finite upper bound of the geodesic distance (see
/// [`Ecef::bounds_m`]); farther candidates get their exact distance at once.
const UPPER_CHORD_MAX_M: f64 = 1_000_000.0;

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

/// One answer of [`Snapshot::nearest_refs`]: a [`Neighbour`] whose id and side are borrowed
/// from the snapshot's segments instead of copied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NeighbourRef<'s> {
    /// Entity id.
    pub id: &'s str,
    /// Side of the report at or just before the time asked.
    pub side: &'s str,
    /// Longitude at that time (interpolated), degrees.
    pub lon: f64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Altitude in metres, `None` when unknown.
    pub alt: Option<f64>,
    /// Geodesic distance from the query point, metres.
    pub distance_m: f64,
}

impl NeighbourRef<'_> {
    /// The answer with its id and side copied.
    pub fn to_neighbour(&self) -> Neighbour {
        Neighbour {
            id: self.id.to_owned(),
            side: self.side.to_owned(),
            lon: self.lon,
            lat: self.lat,
            alt: self.alt,
            distance_m: self.distance_m,
        }
    }
}

/// A run (or seam) the search returned whose entity has not been resolved yet.
struct Lead<'s> {
    /// How far its entity may be from the query point (see [`Nearness`]; for ordering only).
    score: f64,
    bounds: Bounds,
    /// Segment index and entity number (`usize::MAX` and `u32::MAX` for a seam).
    seg: usize,
    entity: u32,
    /// The run's rows.
    rows: Range<usize>,
    /// The id, for an entity with rows in several segments.
    shared: Option<&'s [u8]>,
}

/// The key of an entity whose rows are all in segment `s`.
fn key(s: usize, e: u32) -> u64 {
    (s as u64) << 32 | u64::from(e)
}

/// Orders leads by an estimate of how far their entity is from the query point at `t`, with no
/// trigonometry per box and no guarantee either (the pruning relies on proven tests only). A run
/// spans a few minutes of flight, so its box is about the path: the estimate is the nearest of
/// the four points a straight flight across the box's diagonals would reach at `t` (degrees,
/// longitude scaled by the cosine of the latitude).
struct Nearness {
    lon: f64,
    lat: f64,
    t: i64,
    lon_scale: f64,
}

impl Nearness {
    fn new(lon: f64, lat: f64, t: i64) -> Nearness {
        Nearness {
            lon: lon * 1e7,
            lat: lat * 1e7,
            t,
            lon_scale: lat.to_radians().cos(),
        }
    }

    fn score(&self, b: &Bounds) -> f64 {
        let span = b.t_max.saturating_sub(b.t_min) as f64;
        let f = if span > 0.0 {
            ((self.t.saturating_sub(b.t_min)) as f64 / span).clamp(0.0, 1.0)
        } else {
            0.5
        };
        // The nearer of `lo + f (hi - lo)` and `hi - f (hi - lo)` to `v`.
        let near = |v: f64, lo: i32, hi: i32| {
            let (lo, hi) = (f64::from(lo), f64::from(hi));
            let d = f * (hi - lo);
            (v - lo - d).abs().min((v - hi + d).abs())
        };
        let dlat = near(self.lat, b.lat_min, b.lat_max);
        let dlon = [0.0, -3.6e9, 3.6e9]
            .iter()
            .map(|k| near(self.lon + k, b.lon_min, b.lon_max))
            .fold(f64::INFINITY, f64::min)
            * self.lon_scale;
        dlat * dlat + dlon * dlon
    }
}

/// What a nearest query asks.
struct Query {
    lon: f64,
    lat: f64,
    t: i64,
    k: usize,
}

/// The K smallest upper bounds of the candidates' distances so far. Once there are K, the K-th
/// (`kth`) bounds the K-th nearest distance from above, so an entity farther than it is not an
/// answer: neither a candidate whose lower bound exceeds it, nor the entity of a run whose box
/// misses the box of the circle of that radius (its position at `t` lies in some box of it that
/// the search returns).
struct Cut {
    k: usize,
    uppers: Vec<f64>,
    /// The box filter of the circle through the K-th upper bound, built when first needed.
    prune: Option<BoxFilter>,
}

impl Cut {
    fn new(k: usize) -> Cut {
        Cut {
            k,
            uppers: Vec::with_capacity(k.min(1024) + 1),
            prune: None,
        }
    }

    /// The K-th smallest upper bound; infinite while fewer than K candidates are known.
    fn kth(&self) -> f64 {
        if self.uppers.len() >= self.k {
            self.uppers[self.k - 1]
        } else {
            f64::INFINITY
        }
    }

    fn add(&mut self, upper: f64) {
        if upper >= self.kth() {
            return;
        }
        let at = self.uppers.partition_point(|&u| u <= upper);
        self.uppers.insert(at, upper);
        self.uppers.truncate(self.k);
        self.prune = None;
    }

    /// True when no entity with a run of box `b` can be an answer.
    fn excludes(&mut self, q: &Query, b: &Bounds) -> bool {
        let kth = self.kth();
        if kth.is_infinite() {
            return false;
        }
        !self
            .prune
            .get_or_insert_with(|| {
                BoxFilter::new(&circle_bbox(q.lon, q.lat, kth), (q.t, q.t), None)
            })
            .intersects(b)
    }
}

/// Turns leads into candidates, each entity once: its exact position at the time asked.
struct Resolver<'s> {
    segments: &'s [std::sync::Arc<Segment>],
    /// Entities resolved so far: those whose rows are all in one segment by (segment, entity
    /// number), the others by id bytes (borrowed from the segments or the seams).
    seen: FastSet<u64>,
    seen_shared: FastSet<&'s [u8]>,
    parts: Vec<EntityRows<'s>>,
    centre: Ecef,
    t: Timestamp,
    max_gap_ms: i64,
}

impl<'s> Resolver<'s> {
    /// True when the lead's entity has been resolved already.
    fn seen(&self, seg: usize, entity: u32, shared: Option<&[u8]>) -> bool {
        shared.map_or_else(
            || self.seen.contains(&key(seg, entity)),
            |n| self.seen_shared.contains(n),
        )
    }

    /// The lead's entity with its position at `t`; `None` when it was resolved already or has
    /// no position then.
    fn resolve(&mut self, lead: &Lead<'s>) -> Result<Option<Found<'s>>> {
        let (t, max_gap_ms) = (self.t, self.max_gap_ms);
        let at = match lead.shared {
            None => {
                if !self.seen.insert(key(lead.seg, lead.entity)) {
                    return Ok(None);
                }
                let seg = &*self.segments[lead.seg];
                // The entity's rows are all in this segment: the run found (its rows verified
                // with the run's checksum) decides its position when `t` lies within them;
                // otherwise its whole rows (verified with its own checksum).
                let at = match position_within(seg, lead.rows.clone(), t, max_gap_ms) {
                    Some(at) => at.map(|p| {
                        let rows = Alt::Rows {
                            before: p.before,
                            after: p.after,
                        };
                        (p.fix, seg, p.before, rows)
                    }),
                    None => {
                        let whole = [seg.entity_rows(lead.entity)?];
                        position_at_row(&whole, t, max_gap_ms)
                            .map(|(f, s, r)| (f, s, r, Alt::Known(f.alt)))
                    }
                };
                at.map(|at| (at, (seg, lead.entity)))
            }
            Some(name) => {
                if !self.seen_shared.insert(name) {
                    return Ok(None);
                }
                // Rows in several segments: their merged rows decide.
                self.parts.clear();
                let mut id = None;
                for (s, seg) in self.segments.iter().enumerate() {
                    let e = if s == lead.seg {
                        Some(lead.entity)
                    } else {
                        seg.find_entity_bytes(name)
                    };
                    if let Some(e) = e {
                        id = id.or(Some((&**seg, e)));
                        self.parts.push(seg.entity_rows(e)?);
                    }
                }
                id.zip(position_at_row(&self.parts, t, max_gap_ms))
                    .map(|(id, (f, s, r))| ((f, s, r, Alt::Known(f.alt)), id))
            }
        };
        Ok(at.map(|((fix, seg, row, alt), id)| {
            let (mut lower_m, mut upper_m) = self.centre.bounds_m(fix.lon, fix.lat);
            let mut distance = f64::NAN;
            if upper_m.is_infinite() {
                // Too far for a chord bound: the exact distance is both bounds.
                distance = distance_m((self.centre.lon, self.centre.lat), (fix.lon, fix.lat));
                (lower_m, upper_m) = (distance, distance);
            }
            Found {
                lon: fix.lon,
                lat: fix.lat,
                alt,
                lower_m,
                upper_m,
                distance_m: distance,
                id,
                side: (seg, row),
            }
        }))
    }
}

/// The first search radius when the segments say nothing of the traffic around the point; the
/// radius grows until K entities are inside it or it covers the globe.
const FIRST_RADIUS_M: f64 = 20_000.0;
/// Bounds of a first radius estimated from the traffic density.
const FIRST_RADIUS_RANGE_M: (f64, f64) = (1_000.0, 200_000.0);
/// The first circle is sized to hold this many times K entities on average. When it holds
/// fewer, the second round searches exactly the circle through the K-th upper bound found (see
/// [`Cut`]), mostly over tree nodes the first round brought into cache; a larger first circle
/// reads more of the index every time (at 10 M reports, 1.0 touches ≈ 5 % fewer cache lines
/// than 1.5 for as many instructions).
const FIRST_CIRCLE_FILL: f64 = 1.0;
/// Beyond this radius the search box is the whole world.
const WORLD_RADIUS_M: f64 = 20_100_000.0;

impl Snapshot {
    /// The first search radius: a circle expected to hold [`FIRST_CIRCLE_FILL`] × `k` entities,
    /// from the entities per area of the segments whose time span holds `t` and whose bounding
    /// box holds the point (taken from the manifest: nothing is read from the segments). Only a
    /// starting point: the answers do not depend on it.
    fn first_radius(&self, lon: f64, lat: f64, t: i64, k: usize) -> f64 {
        let mut per_m2 = 0.0;
        for m in &self.manifest().segments {
            let [w, s, e, n] = m.bbox.map(deg_from_e7);
            if t < m.t_min || t > m.t_max || !(s..=n).contains(&lat) || !(w..=e).contains(&lon) {
                continue;
            }
            // The box's area on a sphere of the equatorial radius: an estimate is enough.
            let area = WGS84_A
                * WGS84_A
                * (e - w).to_radians()
                * (n.to_radians().sin() - s.to_radians().sin());
            if area > 0.0 {
                per_m2 += f64::from(m.entities) / area;
            }
        }
        if per_m2 > 0.0 {
            (FIRST_CIRCLE_FILL * k as f64 / (std::f64::consts::PI * per_m2))
                .sqrt()
                .clamp(FIRST_RADIUS_RANGE_M.0, FIRST_RADIUS_RANGE_M.1)
        } else {
            FIRST_RADIUS_M
        }
    }

    /// The `k` entities nearest `(lon, lat)` at `t`, nearest first, ties broken by id.
    /// Positions are interpolated between reports at most `max_gap_ms` apart. Only entities
    /// whose trajectory (or seam between segments) passes near the point at `t` are looked at.
    /// [`Snapshot::nearest_refs`] gives the same answers without copying ids and sides.
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
        Ok(self
            .nearest_refs(lon, lat, t, k, max_gap_ms)?
            .iter()
            .map(NeighbourRef::to_neighbour)
            .collect())
    }

    /// [`Snapshot::nearest`], with ids and sides borrowed from the snapshot.
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
    /// let snap = engine.snapshot();
    /// let near = snap.nearest_refs(0.1, 0.0, Timestamp(30_000), 2, 60_000).unwrap();
    /// assert_eq!((near[0].id, near[1].id, near[0].side), ("A", "B", "blue"));
    /// ```
    pub fn nearest_refs(
        &self,
        lon: f64,
        lat: f64,
        t: Timestamp,
        k: usize,
        max_gap_ms: i64,
    ) -> Result<Vec<NeighbourRef<'_>>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let segments = self.segments();
        let seams = self.seams()?;
        let query = Query {
            lon,
            lat,
            t: t.0,
            k,
        };
        let mut res = Resolver {
            segments,
            seen: FastSet::with_capacity_and_hasher(64, Default::default()),
            seen_shared: FastSet::default(),
            parts: Vec::with_capacity(segments.len()),
            centre: Ecef::new(lon, lat),
            t,
            max_gap_ms,
        };
        let near = Nearness::new(lon, lat, t.0);
        let mut leads: Vec<Lead<'_>> = Vec::with_capacity(128);
        let mut order: Vec<(f64, u32)> = Vec::with_capacity(128);
        let mut found: Vec<Found<'_>> = Vec::with_capacity(64);
        let mut cut = Cut::new(k);
        let mut radius = self.first_radius(lon, lat, t.0, k);
        loop {
            let filter = BoxFilter::new(&circle_bbox(lon, lat, radius), (t.0, t.0), None);
            leads.clear();
            for (s, seg) in segments.iter().enumerate() {
                for run in seg.search(&filter) {
                    let run = run?;
                    let e = run.entity;
                    let shared = seams.is_shared(s, e).then(|| seg.entity_name_bytes(e));
                    if res.seen(s, e, shared) {
                        continue;
                    }
                    leads.push(Lead {
                        score: near.score(&run.bounds),
                        bounds: run.bounds,
                        seg: s,
                        entity: e,
                        rows: run.rows(),
                        shared,
                    });
                }
            }
            for seam in seams.overlapping(filter.time.0, filter.time.1, max_gap_ms) {
                let name = seam.id.as_bytes();
                if filter.intersects(&seam.bounds) && !res.seen(usize::MAX, u32::MAX, Some(name)) {
                    leads.push(Lead {
                        score: near.score(&seam.bounds),
                        bounds: seam.bounds,
                        seg: usize::MAX,
                        entity: u32::MAX,
                        rows: 0..0,
                        shared: Some(name),
                    });
                }
            }
            // Nearest boxes first: the first K entities resolved bound the K-th distance from
            // above (chord bounds, no geodesic), and from then on a lead whose box misses the
            // box of the circle through that bound is dropped unread (see [`Cut`]).
            order.clear();
            order.extend(leads.iter().enumerate().map(|(i, l)| (l.score, i as u32)));
            order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            for &(_, i) in &order {
                let lead = &leads[i as usize];
                if cut.excludes(&query, &lead.bounds) {
                    continue;
                }
                if let Some(n) = res.resolve(lead)? {
                    cut.add(n.upper_m);
                    found.push(n);
                }
            }
            let kth = cut.kth();
            // Every entity within `radius` has been found: the K nearest are certain once K
            // candidates are that close.
            if kth <= radius || radius >= WORLD_RADIUS_M {
                return Ok(answers(&mut found, &query, kth));
            }
            radius = if kth.is_finite() {
                // K candidates lie within `kth`: the next round is the last.
                kth
            } else {
                // Grow by the density seen so far (towards FIRST_CIRCLE_FILL × K inside), ×1.5
                // to ×4.
                let inside = found.iter().filter(|n| n.lower_m <= radius).count();
                radius
                    * (FIRST_CIRCLE_FILL * k as f64 / inside.max(1) as f64)
                        .sqrt()
                        .clamp(1.5, 4.0)
            }
            .min(WORLD_RADIUS_M);
        }
    }
}

/// The K nearest of the candidates, nearest first, ties broken by id, given `kth`, an upper
/// bound of the K-th nearest distance (infinite to take every candidate): geodesic distances
/// are computed only for candidates whose lower bound does not exceed it.
fn answers<'s>(found: &mut [Found<'s>], q: &Query, kth: f64) -> Vec<NeighbourRef<'s>> {
    let mut order: Vec<(f64, u32)> = Vec::with_capacity(q.k.min(found.len()) + 4);
    for (i, n) in found.iter_mut().enumerate() {
        if n.lower_m <= kth {
            if n.distance_m.is_nan() {
                n.distance_m = distance_m((q.lon, q.lat), (n.lon, n.lat));
            }
            order.push((n.distance_m, i as u32));
        }
    }
    order.sort_unstable_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then_with(|| found[a.1 as usize].id().cmp(found[b.1 as usize].id()))
    });
    order.truncate(q.k);
    order
        .iter()
        .map(|&(_, i)| {
            let n = &found[i as usize];
            let (seg, row) = n.side;
            NeighbourRef {
                id: n.id.0.entity_name(n.id.1),
                side: seg.side_name(seg.side(row)),
                lon: n.lon,
                lat: n.lat,
                alt: match n.alt {
                    Alt::Known(alt) => alt,
                    Alt::Rows { before, after } => {
                        let fix = Fix {
                            time: Timestamp(q.t),
                            lon: n.lon,
                            lat: n.lat,
                            alt: None,
                        };
                        RowPosition { fix, before, after }.with_alt(seg).alt
                    }
                },
                distance_m: n.distance_m,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chord_bound_near_the_point_agrees_with_sin_cos_and_stays_below_the_geodesic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..20_000 {
            let (lon, lat) = (next() * 360.0 - 180.0, next() * 178.0 - 89.0);
            let c = Ecef::new(lon, lat);
            // Up to ≈ 3.4° away: both sides of the series threshold, across the antimeridian.
            let o_lon = crate::geodesy::wrap_lon(lon + (next() - 0.5) * 6.8);
            let o_lat = (lat + (next() - 0.5) * 6.8).clamp(-90.0, 90.0);
            let direct = ecef(o_lat.to_radians().sin_cos(), o_lon.to_radians().sin_cos());
            let p = c.point(o_lon, o_lat);
            for i in 0..3 {
                assert!(
                    (p[i] - direct[i]).abs() < 1e-6,
                    "{lon},{lat} -> {o_lon},{o_lat}"
                );
            }
            let (lower, upper) = c.bounds_m(o_lon, o_lat);
            let d = distance_m((lon, lat), (o_lon, o_lat));
            assert!(lower <= d && d <= upper, "{lon},{lat} -> {o_lon},{o_lat}");
        }
    }
}
