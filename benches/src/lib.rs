//! Shared fixtures and baselines for the Deconflict benchmarks (the benchmarks live in
//! `benches/`).
//!
//! - [`Fleet`]: the FACTS-comparable synthetic data set — aircraft at 200 m/s, one report every
//!   5 s, for 1 h — streamed as [`Report`]s, already quantised exactly as the engine stores them
//!   (1e-7 degree, millimetres), so every side of a comparison sees the same numbers.
//! - [`Flat`]: the same reports in a flat `Vec` sorted by (entity, time): the brute-force scans
//!   and the sorted-array baseline for tracks and positions.
//! - [`PointTree`] and [`PieceTree`]: `rstar` 0.14 in memory, 3-D points (lon, lat, scaled time)
//!   for windows, and 3-D boxes over interpolation pieces for nearest.
//! - [`Queries`]: seeded query sets centred on stored reports, and the count/answer checks that
//!   make the comparison honest (every side must return the same answers).

use std::path::{Path, PathBuf};
use std::time::Instant;

use deconflict_engine::geodesy::{BBox, circle_bbox, distance_m};
use deconflict_engine::model::{Report, alt_from_mm, alt_to_mm, deg_from_e7, deg_to_e7};
use deconflict_engine::query::{Area, WindowQuery};
use deconflict_engine::time::{TimeRange, Timestamp};
use deconflict_engine::trajectory::{Fix, interpolate};
use deconflict_engine::{Engine, ReportBatch};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

/// Reports per entity: 1 h at one report every 5 s.
pub const REPORTS_PER_ENTITY: u64 = 720;
/// Reporting interval.
pub const INTERVAL_MS: i64 = 5_000;
/// Ground speed, m/s.
pub const SPEED_MS: f64 = 200.0;
/// Start of the data set: 2016-07-21T20:00:00Z.
pub const T0: i64 = 1_469_131_200_000;
/// The region flown over: 30–45° E, 30–40° N (≈ 1 400 km × 1 100 km).
pub const REGION: (f64, f64, f64, f64) = (30.0, 30.0, 45.0, 40.0);
/// Interpolation limit used by every trajectory query here (the contract default).
pub const MAX_GAP_MS: i64 = 60_000;
/// Reports per segment when building an index (the ingest pipeline's default).
pub const BATCH_REPORTS: usize = deconflict_ingest::pipeline::DEFAULT_BATCH_REPORTS;

/// Scaled time for the 3-D trees: degrees per millisecond (1 s ≈ 0.0018° ≈ 200 m, the
/// distance an aircraft flies in it).
const TIME_SCALE: f64 = 1.8e-6;

/// Size of the benchmark data set: `DECONFLICT_BENCH_REPORTS`, default 2 M.
pub fn bench_reports() -> u64 {
    env_u64("DECONFLICT_BENCH_REPORTS", 2_000_000)
}

/// An unsigned integer from the environment (underscores allowed), or `default`.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The FACTS-comparable fleet: `reports / 720` aircraft flying straight at 200 m/s inside
/// [`REGION`] (reflecting at its edges), each reporting every 5 s for 1 h.
#[derive(Debug, Clone, Copy)]
pub struct Fleet {
    /// Total reports.
    pub reports: u64,
    /// Seed.
    pub seed: u64,
}

impl Fleet {
    /// A fleet of `reports` reports, seed 7.
    pub fn new(reports: u64) -> Fleet {
        Fleet { reports, seed: 7 }
    }

    /// Number of aircraft.
    pub fn entities(&self) -> u32 {
        u32::try_from(self.reports.div_ceil(REPORTS_PER_ENTITY)).expect("fewer than 4 G aircraft")
    }

    /// Entity id: sorts like its number.
    pub fn id(e: u32) -> String {
        format!("AC{e:07}")
    }

    /// Side of entity `e`.
    pub fn side(e: u32) -> &'static str {
        ["blue", "red", "neutral"][e as usize % 3]
    }

    /// Every report, entity by entity, each in time order.
    pub fn reports(&self) -> impl Iterator<Item = Report> + '_ {
        let total = self.reports;
        (0..self.entities()).flat_map(move |e| {
            let first = u64::from(e) * REPORTS_PER_ENTITY;
            let n = REPORTS_PER_ENTITY.min(total - first);
            let id = Fleet::id(e);
            let side = Fleet::side(e);
            self.track(e, n).map(move |(t, lon, lat, alt)| Report {
                id: id.clone(),
                side: side.to_owned(),
                time: Timestamp(t),
                lon,
                lat,
                alt: Some(alt),
            })
        })
    }

    /// Entity `e`'s `j`-th report (regenerated from the entity's seed: no data set in memory).
    pub fn report_at(&self, e: u32, j: u64) -> Pt {
        let (t, lon, lat, alt) = self.track(e, j + 1).last().expect("j < 720");
        Pt {
            lon,
            lat,
            t,
            ent: e,
            alt_mm: alt_to_mm(Some(alt)),
        }
    }

    /// The quantised `(time, lon, lat, alt)` of entity `e`'s first `n` reports.
    fn track(&self, e: u32, n: u64) -> impl Iterator<Item = (i64, f64, f64, f64)> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ (u64::from(e) << 20));
        let (w, s, east, north) = REGION;
        let mut lon: f64 = rng.gen_range(w..east);
        let mut lat: f64 = rng.gen_range(s..north);
        let heading: f64 = rng.gen_range(0.0..std::f64::consts::TAU);
        let (mut vx, mut vy) = (heading.sin(), heading.cos());
        let alt = f64::from(rng.gen_range(6_000..12_000));
        let t_start = T0 + rng.gen_range(0..INTERVAL_MS);
        let step_m = SPEED_MS * INTERVAL_MS as f64 / 1000.0;
        (0..n).map(move |i| {
            let q = |d: f64| deg_from_e7(deg_to_e7(d));
            let out = (t_start + i as i64 * INTERVAL_MS, q(lon), q(lat), alt);
            let m_per_deg = 111_320.0;
            lat += vy * step_m / m_per_deg;
            lon += vx * step_m / (m_per_deg * lat.to_radians().cos());
            if !(s..north).contains(&lat) {
                vy = -vy;
                lat = lat.clamp(s, north);
            }
            if !(w..east).contains(&lon) {
                vx = -vx;
                lon = lon.clamp(w, east);
            }
            out
        })
    }
}

/// Builds an index of `reports` (entity by entity) in `dir` through the library, in batches of
/// [`BATCH_REPORTS`], one commit at the end. Returns the engine.
pub fn build_index(dir: &Path, reports: impl Iterator<Item = Report>) -> Engine {
    let engine = Engine::create(dir).expect("create index");
    {
        let mut w = engine.writer().expect("writer");
        let mut batch = ReportBatch::with_capacity(BATCH_REPORTS);
        for r in reports {
            batch.push(&r).expect("valid report");
            if batch.len() == BATCH_REPORTS {
                let full = std::mem::replace(&mut batch, ReportBatch::with_capacity(BATCH_REPORTS));
                w.add(full).expect("add batch");
            }
        }
        if !batch.is_empty() {
            w.add(batch).expect("add batch");
        }
        w.commit().expect("commit");
    }
    engine
}

/// Where benchmark indexes are cached between runs (under the cargo target directory).
pub fn cache_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("bench-data")
}

/// Compacts every segment of `engine`'s index into one (what `deconflict compact` does);
/// returns the segment counts before and after and the seconds it took.
pub fn compact_all(engine: &Engine) -> (usize, usize, f64) {
    let before = engine.snapshot().segment_infos().len();
    let started = Instant::now();
    let mut w = engine.writer().expect("writer");
    w.compact(usize::MAX).expect("compact");
    w.commit().expect("commit");
    let after = engine.snapshot().segment_infos().len();
    (before, after, started.elapsed().as_secs_f64())
}

/// The engine index of `fleet`, built once and cached under [`cache_dir`] (keyed by size, seed
/// and format version; rebuilt when it does not open or holds another count).
pub fn cached_index(fleet: &Fleet) -> (PathBuf, Engine) {
    let dir = cache_dir().join(format!(
        "fleet-{}-s{}-v{}",
        fleet.reports,
        fleet.seed,
        deconflict_engine::FORMAT_VERSION
    ));
    if let Ok(engine) = Engine::open(&dir)
        && engine.snapshot().report_count() == fleet.reports
    {
        return (dir, engine);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let started = Instant::now();
    let engine = build_index(&dir, fleet.reports());
    eprintln!(
        "built index of {} reports in {:.1} s at {}",
        fleet.reports,
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    (dir, engine)
}

/// Bytes of all files in `dir` (not recursive: the index keeps its segments at the top).
pub fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Peak resident set of this process (`VmHWM`), bytes.
pub fn peak_rss_bytes() -> u64 {
    status_kib("VmHWM:") * 1024
}

/// Current resident set of this process (`VmRSS`), bytes.
pub fn rss_bytes() -> u64 {
    status_kib("VmRSS:") * 1024
}

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// One stored report in the flat baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pt {
    /// Longitude, degrees (quantised as stored).
    pub lon: f64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Time, epoch ms.
    pub t: i64,
    /// Entity number (ids sort like numbers).
    pub ent: u32,
    /// Altitude, stored millimetres.
    pub alt_mm: i32,
}

impl Pt {
    fn fix(&self) -> Fix {
        Fix {
            time: Timestamp(self.t),
            lon: self.lon,
            lat: self.lat,
            alt: alt_from_mm(self.alt_mm),
        }
    }
}

/// The reports in a flat `Vec`, sorted by (entity, time), with each entity's start.
#[derive(Debug)]
pub struct Flat {
    /// The reports.
    pub pts: Vec<Pt>,
    /// `starts[e]..starts[e + 1]` are entity `e`'s reports.
    pub starts: Vec<usize>,
}

impl Flat {
    /// The fleet's reports in memory.
    pub fn new(fleet: &Fleet) -> Flat {
        let mut pts = Vec::with_capacity(usize::try_from(fleet.reports).expect("fits"));
        let mut starts = vec![0];
        let mut last = 0;
        for (i, r) in fleet.reports().enumerate() {
            let ent: u32 = r.id[2..].parse().expect("fleet id");
            if ent != last {
                starts.push(i);
                last = ent;
            }
            pts.push(Pt {
                lon: r.lon,
                lat: r.lat,
                t: r.time.0,
                ent,
                alt_mm: alt_to_mm(r.alt),
            });
        }
        starts.push(pts.len());
        Flat { pts, starts }
    }

    /// True when report `i` starts an interpolation piece (its entity's next report follows
    /// within [`MAX_GAP_MS`]).
    fn continues(&self, i: usize) -> bool {
        let a = &self.pts[i];
        self.pts
            .get(i + 1)
            .is_some_and(|b| b.ent == a.ent && b.t - a.t <= MAX_GAP_MS)
    }

    /// Entity `e`'s reports.
    pub fn entity(&self, e: u32) -> &[Pt] {
        &self.pts[self.starts[e as usize]..self.starts[e as usize + 1]]
    }

    /// Brute force: reports matching `q` (area and time only), by a scan of every report.
    pub fn scan_window(&self, q: &WindowQuery) -> u64 {
        let (a, b) = (q.time.start.0, q.time.end.0);
        let bb = q.area.bbox();
        let mut n = 0;
        for p in &self.pts {
            if p.t >= a && p.t <= b && bb.contains(p.lon, p.lat) && q.area.contains(p.lon, p.lat) {
                n += 1;
            }
        }
        n
    }

    /// Sorted-array baseline: entity `e`'s reports within `range`, by binary search.
    pub fn track(&self, e: u32, range: TimeRange) -> &[Pt] {
        let s = self.entity(e);
        let lo = s.partition_point(|p| p.t < range.start.0);
        let hi = s.partition_point(|p| p.t <= range.end.0);
        &s[lo..hi]
    }

    /// Brute force: entity `e`'s reports within `range`, by a scan of every report.
    pub fn scan_track(&self, e: u32, range: TimeRange) -> u64 {
        self.pts
            .iter()
            .filter(|p| p.ent == e && range.contains(Timestamp(p.t)))
            .count() as u64
    }

    /// Sorted-array baseline: where entity `e` is at `t` (the contract's interpolation).
    pub fn position_at(&self, e: u32, t: i64) -> Option<Fix> {
        position_in(self.entity(e), t)
    }

    /// Brute force: where entity `e` is at `t`, by a scan of every report.
    pub fn scan_position_at(&self, e: u32, t: i64) -> Option<Fix> {
        let mut before: Option<&Pt> = None;
        let mut after: Option<&Pt> = None;
        for p in &self.pts {
            if p.ent != e {
                continue;
            }
            if p.t == t {
                return Some(p.fix());
            }
            if p.t < t && before.is_none_or(|b| p.t > b.t) {
                before = Some(p);
            }
            if p.t > t && after.is_none_or(|a| p.t < a.t) {
                after = Some(p);
            }
        }
        let (a, b) = (before?, after?);
        (b.t - a.t <= MAX_GAP_MS).then(|| interpolate(&a.fix(), &b.fix(), Timestamp(t)))
    }

    /// Brute force: the `k` entities nearest `(lon, lat)` at `t`, by a scan of every report.
    pub fn scan_nearest(&self, lon: f64, lat: f64, t: i64, k: usize) -> Vec<(f64, u32)> {
        let mut all = Vec::new();
        for (i, p) in self.pts.iter().enumerate() {
            let f = if p.t == t {
                p.fix()
            } else if p.t < t
                && let Some(n) = self.pts.get(i + 1)
                && n.ent == p.ent
                && n.t > t
                && n.t - p.t <= MAX_GAP_MS
            {
                interpolate(&p.fix(), &n.fix(), Timestamp(t))
            } else {
                continue;
            };
            all.push((distance_m((lon, lat), (f.lon, f.lat)), p.ent));
        }
        top_k(all, k)
    }
}

/// The contract's position at `t` within one entity's time-sorted reports.
fn position_in(s: &[Pt], t: i64) -> Option<Fix> {
    let i = s.partition_point(|p| p.t < t);
    if let Some(p) = s.get(i)
        && p.t == t
    {
        return Some(p.fix());
    }
    let (a, b) = (s.get(i.checked_sub(1)?)?, s.get(i)?);
    (b.t - a.t <= MAX_GAP_MS).then(|| interpolate(&a.fix(), &b.fix(), Timestamp(t)))
}

/// Nearest first, ties by entity (ids sort like entity numbers), `k` of them.
fn top_k(mut all: Vec<(f64, u32)>, k: usize) -> Vec<(f64, u32)> {
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.truncate(k);
    all
}

fn scaled(t: i64) -> f64 {
    (t - T0) as f64 * TIME_SCALE
}

/// `rstar` 0.14 over 3-D points (lon, lat, scaled time); the data is the index into
/// [`Flat::pts`].
pub struct PointTree(pub RTree<GeomWithData<[f64; 3], u32>>);

impl PointTree {
    /// Bulk-loads the points of `flat`.
    pub fn new(flat: &Flat) -> PointTree {
        let pts = flat
            .pts
            .iter()
            .enumerate()
            .map(|(i, p)| GeomWithData::new([p.lon, p.lat, scaled(p.t)], i as u32))
            .collect();
        PointTree(RTree::bulk_load(pts))
    }

    /// Bulk-loads the fleet's points straight from the generator (no [`Flat`] beside it: at
    /// 100 M reports the tree alone needs ≈ 10 GB); the data is 0.
    pub fn from_fleet(fleet: &Fleet) -> PointTree {
        let pts = fleet
            .reports()
            .map(|r| GeomWithData::new([r.lon, r.lat, scaled(r.time.0)], 0))
            .collect();
        PointTree(RTree::bulk_load(pts))
    }

    /// Reports matching `q` (area and time): the tree's box search, then the same exact area
    /// test the engine uses.
    pub fn window(&self, q: &WindowQuery) -> u64 {
        let bb = q.area.bbox();
        let (t0, t1) = (scaled(q.time.start.0), scaled(q.time.end.0));
        let mut n = 0;
        for (w, e) in bb.lon_ranges() {
            let env = AABB::from_corners([w, bb.south, t0], [e, bb.north, t1]);
            for p in self.0.locate_in_envelope(env) {
                let g = p.geom();
                if q.area.contains(g[0], g[1]) {
                    n += 1;
                }
            }
        }
        n
    }
}

/// `rstar` 0.14 over 3-D boxes (lon, lat, scaled time) of interpolation pieces — consecutive
/// reports of one entity at most [`MAX_GAP_MS`] apart — and of lone reports; the data is the
/// index of the piece's first report in [`Flat::pts`].
pub struct PieceTree(pub RTree<GeomWithData<Rectangle<[f64; 3]>, u32>>);

/// First nearest-search radius and its growth: the engine's own strategy.
const FIRST_RADIUS_M: f64 = 20_000.0;
const WORLD_RADIUS_M: f64 = 20_100_000.0;

impl PieceTree {
    /// Bulk-loads the pieces of `flat`.
    pub fn new(flat: &Flat) -> PieceTree {
        let mut boxes = Vec::with_capacity(flat.pts.len());
        let pts = &flat.pts;
        for (i, a) in pts.iter().enumerate() {
            let joined_before =
                i > 0 && pts[i - 1].ent == a.ent && a.t - pts[i - 1].t <= MAX_GAP_MS;
            let b = match pts.get(i + 1) {
                Some(b) if b.ent == a.ent && b.t - a.t <= MAX_GAP_MS => b,
                _ if joined_before => continue,
                _ => a,
            };
            let lo = [a.lon.min(b.lon), a.lat.min(b.lat), scaled(a.t)];
            let hi = [a.lon.max(b.lon), a.lat.max(b.lat), scaled(b.t)];
            boxes.push(GeomWithData::new(Rectangle::from_corners(lo, hi), i as u32));
        }
        PieceTree(RTree::bulk_load(boxes))
    }

    /// The `k` entities nearest `(lon, lat)` at `t`: boxes around a growing circle (×4 from
    /// 20 km, as the engine does), positions interpolated, geodesic distances.
    pub fn nearest(&self, flat: &Flat, lon: f64, lat: f64, t: i64, k: usize) -> Vec<(f64, u32)> {
        let ts = scaled(t);
        let mut radius = FIRST_RADIUS_M;
        let mut found: Vec<(f64, u32)> = Vec::new();
        loop {
            found.clear();
            let bb = circle_bbox(lon, lat, radius);
            for (w, e) in bb.lon_ranges() {
                let env = AABB::from_corners([w, bb.south, ts], [e, bb.north, ts]);
                for piece in self.0.locate_in_envelope_intersecting(env) {
                    let i = piece.data as usize;
                    let a = &flat.pts[i];
                    let b = flat
                        .pts
                        .get(i + 1)
                        .filter(|b| b.ent == a.ent && b.t - a.t <= MAX_GAP_MS);
                    let f = match b {
                        Some(b) if a.t <= t && t < b.t => {
                            interpolate(&a.fix(), &b.fix(), Timestamp(t))
                        }
                        // A piece ending at t answers only when no piece starts there.
                        Some(b) if b.t == t && !flat.continues(i + 1) => b.fix(),
                        None if a.t == t => a.fix(),
                        _ => continue,
                    };
                    found.push((distance_m((lon, lat), (f.lon, f.lat)), a.ent));
                }
            }
            let inside = found.iter().filter(|(d, _)| *d <= radius).count();
            if inside >= k || radius >= WORLD_RADIUS_M {
                found.retain(|(d, _)| *d <= radius);
                return top_k(std::mem::take(&mut found), k);
            }
            radius = (radius * 4.0).min(WORLD_RADIUS_M);
        }
    }
}

/// Seeded query sets centred on stored reports.
#[derive(Debug, Clone)]
pub struct Queries {
    /// 10 km × 10 km × 10 min boxes.
    pub small: Vec<WindowQuery>,
    /// 200 km × 200 km × 1 h boxes.
    pub large: Vec<WindowQuery>,
    /// 10 km radius × 10 min circles.
    pub radius: Vec<WindowQuery>,
    /// 20 km-wide hexagons × 10 min.
    pub polygon: Vec<WindowQuery>,
    /// One entity over 10 min.
    pub track: Vec<(u32, TimeRange)>,
    /// An entity at a time between its reports.
    pub position: Vec<(u32, i64)>,
    /// A point and a time (for nearest).
    pub nearest: Vec<(f64, f64, i64)>,
}

/// Degrees of latitude and longitude spanned by `km` kilometres at `lat`.
fn km_to_deg(km: f64, lat: f64) -> (f64, f64) {
    let dlat = km / 111.32;
    (dlat / lat.to_radians().cos(), dlat)
}

fn window(area: Area, t: i64, minutes: i64) -> WindowQuery {
    let half = minutes * 30_000;
    WindowQuery {
        area,
        time: TimeRange::new(Timestamp(t - half), Timestamp(t + half)).expect("ordered"),
        alt: None,
        side: None,
    }
}

fn bbox_around(lon: f64, lat: f64, km: f64) -> Area {
    let (dlon, dlat) = km_to_deg(km / 2.0, lat);
    Area::BBox(BBox::new(lon - dlon, lat - dlat, lon + dlon, lat + dlat).expect("valid box"))
}

impl Queries {
    /// `n` queries of each kind centred on reports of `flat`, seeded.
    pub fn new(flat: &Flat, n: usize, seed: u64) -> Queries {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Queries::around(n, || flat.pts[rng.gen_range(0..flat.pts.len())])
    }

    /// `n` queries of each kind centred on reports of `fleet` (regenerated, not stored).
    pub fn for_fleet(fleet: &Fleet, n: usize, seed: u64) -> Queries {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Queries::around(n, || {
            let e = rng.gen_range(0..fleet.entities().saturating_sub(1).max(1)); // the last may be short
            fleet.report_at(e, rng.gen_range(0..REPORTS_PER_ENTITY))
        })
    }

    fn around(n: usize, mut pick: impl FnMut() -> Pt) -> Queries {
        let mut q = Queries {
            small: Vec::new(),
            large: Vec::new(),
            radius: Vec::new(),
            polygon: Vec::new(),
            track: Vec::new(),
            position: Vec::new(),
            nearest: Vec::new(),
        };
        for _ in 0..n {
            let p = pick();
            q.small
                .push(window(bbox_around(p.lon, p.lat, 10.0), p.t, 10));
            let p = pick();
            q.large
                .push(window(bbox_around(p.lon, p.lat, 200.0), p.t, 60));
            let p = pick();
            let circle = Area::Circle {
                lon: p.lon,
                lat: p.lat,
                radius_m: 10_000.0,
            };
            q.radius.push(window(circle, p.t, 10));
            let p = pick();
            q.polygon.push(window(hexagon(p.lon, p.lat, 10.0), p.t, 10));
            let p = pick();
            let range = TimeRange::new(Timestamp(p.t - 300_000), Timestamp(p.t + 300_000));
            q.track.push((p.ent, range.expect("ordered")));
            let p = pick();
            q.position.push((p.ent, p.t + 2_345));
            let p = pick();
            q.nearest.push((p.lon + 0.01, p.lat - 0.01, p.t + 1_234));
        }
        q
    }
}

/// A regular hexagon of circumradius `km` around a point, as a WKT polygon area.
fn hexagon(lon: f64, lat: f64, km: f64) -> Area {
    let (dlon, dlat) = km_to_deg(km, lat);
    let pts: Vec<String> = (0..=6)
        .map(|i| {
            let a = f64::from(i % 6) * std::f64::consts::FRAC_PI_3;
            format!("{} {}", lon + dlon * a.cos(), lat + dlat * a.sin())
        })
        .collect();
    Area::polygon_from_wkt(&format!("POLYGON(({}))", pts.join(", "))).expect("valid hexagon")
}

/// Engine: reports matching `q`, counted.
pub fn engine_window(engine: &Engine, q: &WindowQuery) -> u64 {
    engine.snapshot().for_each_report(q, |_| {}).expect("query")
}

/// Engine: the `k` nearest entities as (distance, entity number); ids are borrowed
/// ([`deconflict_engine::Snapshot::nearest_refs`]), as the baselines' are.
pub fn engine_nearest(engine: &Engine, lon: f64, lat: f64, t: i64, k: usize) -> Vec<(f64, u32)> {
    engine
        .snapshot()
        .nearest_refs(lon, lat, Timestamp(t), k, MAX_GAP_MS)
        .expect("nearest")
        .iter()
        .map(|n| (n.distance_m, n.id[2..].parse().expect("fleet id")))
        .collect()
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Checks that the engine, the rstar trees and the brute-force scans give the same answers for
/// every query; returns the mean matches per window query kind. Panics on any disagreement.
pub fn check_agreement(
    engine: &Engine,
    flat: &Flat,
    points: &PointTree,
    pieces: &PieceTree,
    q: &Queries,
) -> Vec<(&'static str, f64)> {
    let snap = engine.snapshot();
    let mut means = Vec::new();
    for (name, set) in [
        ("small", &q.small),
        ("large", &q.large),
        ("radius", &q.radius),
        ("polygon", &q.polygon),
    ] {
        let mut total = 0;
        for w in set {
            let ours = engine_window(engine, w);
            let tree = points.window(w);
            let brute = flat.scan_window(w);
            assert_eq!((ours, tree), (brute, brute), "{name} window {w:?}");
            total += ours;
        }
        means.push((name, total as f64 / set.len().max(1) as f64));
    }
    let mut total = 0;
    for &(e, range) in &q.track {
        let ours = snap.track(&Fleet::id(e), range).expect("track").count() as u64;
        let sorted = flat.track(e, range).len() as u64;
        assert_eq!(
            (ours, sorted),
            (flat.scan_track(e, range), ours),
            "track {e}"
        );
        total += ours;
    }
    means.push(("track", total as f64 / q.track.len().max(1) as f64));
    let mut found = 0;
    for &(e, t) in &q.position {
        let ours = snap
            .position_at(&Fleet::id(e), Timestamp(t), MAX_GAP_MS)
            .expect("position");
        let sorted = flat.position_at(e, t);
        assert_eq!(ours, sorted, "position_at {e} {t}");
        assert_eq!(sorted, flat.scan_position_at(e, t), "position_at {e} {t}");
        found += u64::from(ours.is_some());
    }
    means.push(("position_at", found as f64 / q.position.len().max(1) as f64));
    let mut total = 0;
    for &(lon, lat, t) in &q.nearest {
        let ours = engine_nearest(engine, lon, lat, t, 10);
        let tree = pieces.nearest(flat, lon, lat, t, 10);
        let brute = flat.scan_nearest(lon, lat, t, 10);
        assert_eq!(ours, brute, "nearest engine vs brute at {lon},{lat},{t}");
        assert_eq!(tree, brute, "nearest rstar vs brute at {lon},{lat},{t}");
        total += ours.len();
    }
    means.push(("nearest", total as f64 / q.nearest.len().max(1) as f64));
    means
}
