//! `gen`: a reproducible synthetic scenario — tracks, zones and operations.
//!
//! A [`Scenario`] is built in memory from a [`GenConfig`] by [`scenario`]: entity plans (routes
//! of great-circle legs with rounded turns, racetracks and orbits), zones and operations. The
//! reports are never held in memory: [`Scenario::reports`] streams them in **global time
//! order** (ties by entity number; [`Scenario::reports_by_entity`] is the cheaper
//! entity-by-entity order), computing each position from the plan, so benches can build
//! 100 M-report indexes without writing any file. Writing ≈ 10 M CSV rows takes ≈ 2.5 s.
//!
//! Defaults: 300 entities × 1 h × every 1 s from 2016-07-21T20:00:00Z, seed 42 — ≈ 0.9 M
//! reports (entities start and end at different times and have gaps); 31 zones; ≈ 30
//! operations.
//!
//! Traffic: sides `blue`, `red`, `green`, `orange`; ids `SIDE-Knnnn` with K = `J` fast jet
//! (200–250 m/s, 6000–12000 m), `T` transport/tanker (120–200 m/s, 7000–10000 m), `H`
//! helicopter (50–80 m/s, 100–1500 m), `D` drone (30–60 m/s, 500–6000 m; 30 % without
//! altitude). Most fly over the eastern Mediterranean / Levant (lon 34–41.5, lat 31.5–37.5);
//! a Pacific group crosses the antimeridian near lat 18–28 and an Arctic group flies at lat
//! 76–84. Reports every `interval_s` with ±20 % jitter (at most ±300 ms), half the entities
//! with one or two gaps (30 % of them longer than 60 s).
//!
//! Same config (including seed) ⇒ byte-identical files on the same platform. Positions are
//! quantised exactly as written (1e-7 degree, 0.1 m), so a report read back from the CSV equals
//! the one streamed. Zone validity and operation windows and routes lie within
//! [`Scenario::span`]; `filed_at` is earlier (26–72 h before the window).
//!
//! Zones and operations are the engine's model values ([`Zone`], [`Operation`]); the files
//! are written by [`crate::parse_objects`]'s writers, so parsing them gives those values back.
//!
//! Every operation not named in [`Scenario::planted`] is deconflicted at the contract defaults
//! (9260 m, 300 m, 5 min, 24 h), by construction with margins: operations avoid zones and each
//! other, and each entity's route is re-drawn until it keeps clear of every operation (after 25
//! tries it flies over the sea west of Cyprus instead). The planted conflicts (when the span
//! leaves room for them) are: a route through an `air_defense` ring (`zone`), a target on a
//! hospital `off_limits` zone inside a target area (`zone`), two operations through the same
//! point at the same time and band (`operation`, listed both ways), a target outside every
//! target area (`target_area`, `with` empty), one filed 23 h 59 min before its window
//! (`lead_time`, `with` empty), and a red jet crossing a route at its planned time and band
//! (`track`). [`Scenario::traps`] lists near misses that must *not* conflict: an operation
//! whose `own_tracks` entity flies its route.
//!
//! ```
//! use deconflict_ingest::generate::{GenConfig, scenario};
//! let cfg = GenConfig { entities: 20, hours: 0.1, interval_s: 5.0, ..GenConfig::default() };
//! let s = scenario(&cfg);
//! assert_eq!(s.reports().count() as u64, s.report_count());
//! ```

use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use deconflict_engine::geodesy::{lon_delta, wrap_lon};
use deconflict_engine::model::{
    Operation, Report, Target, Waypoint, Zone, ZoneKind, ZoneShape, deg_from_e7, deg_to_e7,
};
use deconflict_engine::time::{TimeRange, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use crate::parse_objects::{feature_collection, operation_to_json, zone_to_feature_with};

/// Mean Earth radius used by the generator's own (spherical) geometry.
const R_EARTH: f64 = 6_371_008.8;
/// Contract default horizontal separation.
const H_SEP: f64 = 9260.0;
/// Contract default vertical separation.
const V_SEP: f64 = 300.0;
/// Contract default time buffer, ms.
const T_BUF: i64 = 300_000;
/// Extra horizontal margin when deciding that something is clear.
const H_MARGIN: f64 = 4000.0;
/// Extra vertical margin.
const V_MARGIN: f64 = 150.0;
/// Extra time margin, ms.
const T_MARGIN: i64 = 60_000;
/// Theatre where the operations live (lon W, lat S, lon E, lat N).
const THEATRE: Region = Region {
    w: 34.0,
    s: 31.5,
    e: 41.5,
    n: 37.5,
};
/// Operation routes must stay inside this box.
const OPS_BOX: Region = Region {
    w: 33.3,
    s: 30.9,
    e: 42.3,
    n: 38.2,
};
/// Where traffic goes when it cannot be kept clear of the operations (open sea, west).
const FALLBACK: Region = Region {
    w: 25.0,
    s: 32.5,
    e: 30.5,
    n: 36.0,
};
/// A Pacific group across the antimeridian (east edge beyond 180, wrapped on output).
const PACIFIC: Region = Region {
    w: 177.0,
    s: 18.0,
    e: 183.0,
    n: 28.0,
};
/// A high-latitude group (Barents Sea / Svalbard).
const ARCTIC: Region = Region {
    w: 5.0,
    s: 76.0,
    e: 45.0,
    n: 84.0,
};

// ---------------------------------------------------------------------------------------------
// Configuration and public types
// ---------------------------------------------------------------------------------------------

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// Number of entities (aircraft, helicopters, drones). Default 300.
    pub entities: usize,
    /// Length of the scenario in hours. Default 1.
    pub hours: f64,
    /// Nominal reporting interval in seconds (each report jittered by up to ±20 %, at most
    /// ±300 ms). Default 1.
    pub interval_s: f64,
    /// Random seed. Default 42.
    pub seed: u64,
    /// Start of the scenario. Default 2016-07-21T20:00:00Z.
    pub start: Timestamp,
}

impl Default for GenConfig {
    /// 300 entities × 1 h × every 1 s: ≈ 0.9 M reports (entities start and end at different
    /// times and have gaps).
    fn default() -> Self {
        GenConfig {
            entities: 300,
            hours: 1.0,
            interval_s: 1.0,
            seed: 42,
            start: Timestamp(1_469_131_200_000),
        }
    }
}

/// What kind of vehicle an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    /// Fast jet: 200–250 m/s at 6000–12000 m.
    FastJet,
    /// Transport or tanker: 120–200 m/s at 7000–10000 m.
    Transport,
    /// Helicopter: 50–80 m/s at 100–1500 m.
    Helicopter,
    /// Drone: 30–60 m/s at 500–6000 m, some without altitude.
    Drone,
}

impl EntityKind {
    fn letter(self) -> char {
        match self {
            EntityKind::FastJet => 'J',
            EntityKind::Transport => 'T',
            EntityKind::Helicopter => 'H',
            EntityKind::Drone => 'D',
        }
    }
    fn speed_range(self) -> (f64, f64) {
        match self {
            EntityKind::FastJet => (200.0, 250.0),
            EntityKind::Transport => (120.0, 200.0),
            EntityKind::Helicopter => (50.0, 80.0),
            EntityKind::Drone => (30.0, 60.0),
        }
    }
    fn alt_range(self) -> (f64, f64) {
        match self {
            EntityKind::FastJet => (6000.0, 12000.0),
            EntityKind::Transport => (7000.0, 10000.0),
            EntityKind::Helicopter => (100.0, 1500.0),
            EntityKind::Drone => (500.0, 6000.0),
        }
    }
}

/// One entity: who it is and the route it flies. Positions come from [`EntityPlan::position`].
#[derive(Debug, Clone)]
pub struct EntityPlan {
    /// Entity id, e.g. `BLUE-J0007`.
    pub id: String,
    /// Side that reports it.
    pub side: String,
    /// Vehicle kind.
    pub kind: EntityKind,
    /// Ground speed, m/s.
    pub speed_mps: f64,
    /// False when its reports carry no altitude.
    pub alt_known: bool,
    /// Start of its activity (its first report is at or after this time).
    pub start: Timestamp,
    /// End of its activity (its last report is at or before this time).
    pub end: Timestamp,
    /// Periods without reports, as report-time ranges `[last before, first after]`.
    pub gaps: Vec<TimeRange>,
    fixes: Vec<Fix>,
    interval_ms: i64,
    jitter_ms: i64,
    n: u64,
    gap_idx: Vec<(u64, u64)>,
    hash: u64,
}

#[derive(Debug, Clone, Copy)]
struct Fix {
    t: i64,
    v: [f64; 3],
    alt: f64,
    omega: f64,
    inv_sin: f64,
}

/// Prefix of generated zone ids, e.g. `ol-03` for the third `off_limits` zone.
fn zone_prefix(kind: ZoneKind) -> &'static str {
    match kind {
        ZoneKind::OffLimits => "ol",
        ZoneKind::Protected => "pr",
        ZoneKind::AirDefense => "ad",
        ZoneKind::TargetArea => "ta",
        ZoneKind::Presence => "pz",
    }
}

/// A zone while the scenario is planned: the model zone, its human name (written as the extra
/// property `name`) and a bounding circle (centre, radius) the generator keeps things clear of.
#[derive(Debug, Clone)]
struct ZonePlan {
    zone: Zone,
    name: &'static str,
    center: Ll,
    radius: f64,
}

/// A conflict put into the scenario on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlantedConflict {
    /// The operation that must be reported as not deconflicted.
    pub operation: String,
    /// Conflict kind: `track`, `operation`, `zone`, `target_area` or `lead_time`.
    pub kind: &'static str,
    /// Entity, operation or zone id it conflicts with (empty for `target_area` and `lead_time`).
    pub with: String,
    /// Why.
    pub why: String,
}

/// A near miss that must *not* be reported as a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    /// The operation.
    pub operation: String,
    /// Entity or zone that comes close but does not conflict.
    pub with: String,
    /// Why it is not a conflict.
    pub why: String,
}

/// A synthetic scenario held in memory (plans, not reports).
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The configuration it was built from.
    pub config: GenConfig,
    /// Time span: every report, zone validity and operation window lies within it.
    pub span: TimeRange,
    /// Entity plans, index = entity number.
    pub entities: Vec<EntityPlan>,
    /// Zones (every side set; ids like `ol-03`).
    pub zones: Vec<Zone>,
    /// Operations (timed routes; ids like `op-007`).
    pub operations: Vec<Operation>,
    /// Deliberate conflicts (every operation not named here is deconflicted at contract
    /// defaults).
    pub planted: Vec<PlantedConflict>,
    /// Deliberate near misses that must not conflict.
    pub traps: Vec<Trap>,
    /// Human name of each zone, by zone id (the extra property `name` in `zones.geojson`).
    zone_names: BTreeMap<String, &'static str>,
}

/// How `time` is written in the tracks CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// Integer Unix epoch milliseconds (default).
    #[default]
    EpochMs,
    /// RFC 3339 UTC with milliseconds.
    Rfc3339,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct GenSummary {
    /// Entities.
    pub entities: usize,
    /// Track reports written.
    pub reports: u64,
    /// Zones written.
    pub zones: usize,
    /// Operations written.
    pub operations: usize,
    /// Planted conflicts among them.
    pub planted: usize,
    /// Time span of the scenario.
    pub span: TimeRange,
    /// `tracks.csv`.
    pub tracks_csv: PathBuf,
    /// `zones.geojson`.
    pub zones_geojson: PathBuf,
    /// `operations.ndjson`.
    pub operations_ndjson: PathBuf,
}

// ---------------------------------------------------------------------------------------------
// Spherical helpers (the generator's own geometry; reported distances elsewhere use WGS84)
// ---------------------------------------------------------------------------------------------

type Ll = (f64, f64);

#[derive(Debug, Clone, Copy)]
struct Region {
    w: f64,
    s: f64,
    e: f64,
    n: f64,
}

impl Region {
    fn sample(&self, rng: &mut ChaCha8Rng) -> Ll {
        (
            wrap_lon(rng.gen_range(self.w..self.e)),
            rng.gen_range(self.s..self.n),
        )
    }
    fn contains(&self, p: Ll) -> bool {
        let lon = if p.0 < self.w { p.0 + 360.0 } else { p.0 };
        lon >= self.w && lon <= self.e && p.1 >= self.s && p.1 <= self.n
    }
}

fn to_vec(p: Ll) -> [f64; 3] {
    let (lo, la) = (p.0.to_radians(), p.1.to_radians());
    [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
}

fn from_vec(v: [f64; 3]) -> Ll {
    (
        v[1].atan2(v[0]).to_degrees(),
        v[2].atan2(v[0].hypot(v[1])).to_degrees(),
    )
}

fn dist(a: Ll, b: Ll) -> f64 {
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dla = la2 - la1;
    let dlo = lon_delta(a.0, b.0).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * R_EARTH * h.sqrt().min(1.0).asin()
}

fn bearing(a: Ll, b: Ll) -> f64 {
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dlo = lon_delta(a.0, b.0).to_radians();
    let y = dlo.sin() * la2.cos();
    let x = la1.cos() * la2.sin() - la1.sin() * la2.cos() * dlo.cos();
    y.atan2(x).to_degrees()
}

fn dest(a: Ll, brg_deg: f64, d: f64) -> Ll {
    let (la1, lo1) = (a.1.to_radians(), a.0.to_radians());
    let (b, ang) = (brg_deg.to_radians(), d / R_EARTH);
    let la2 = (la1.sin() * ang.cos() + la1.cos() * ang.sin() * b.cos()).asin();
    let lo2 = lo1 + (b.sin() * ang.sin() * la1.cos()).atan2(ang.cos() - la1.sin() * la2.sin());
    (wrap_lon(lo2.to_degrees()), la2.to_degrees())
}

/// Local east/north metres around `o` (equirectangular; for short distances).
fn enu(o: Ll, p: Ll) -> (f64, f64) {
    let x = R_EARTH * lon_delta(o.0, p.0).to_radians() * o.1.to_radians().cos();
    let y = R_EARTH * (p.1 - o.1).to_radians();
    (x, y)
}

fn from_enu(o: Ll, (x, y): (f64, f64)) -> Ll {
    let lat = (o.1 + (y / R_EARTH).to_degrees()).clamp(-89.9, 89.9);
    let lon = wrap_lon(o.0 + (x / (R_EARTH * o.1.to_radians().cos())).to_degrees());
    (lon, lat)
}

fn midpoint(a: Ll, b: Ll) -> Ll {
    from_vec({
        let (u, v) = (to_vec(a), to_vec(b));
        [u[0] + v[0], u[1] + v[1], u[2] + v[2]]
    })
}

fn pt_seg_xy(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p.0 - a.0 - t * dx).hypot(p.1 - a.1 - t * dy)
}

fn seg_point_dist(a: Ll, b: Ll, p: Ll) -> f64 {
    let o = midpoint(a, b);
    pt_seg_xy(enu(o, p), enu(o, a), enu(o, b))
}

fn seg_seg_dist(a1: Ll, a2: Ll, b1: Ll, b2: Ll) -> f64 {
    let o = midpoint(midpoint(a1, a2), midpoint(b1, b2));
    let (p1, p2, q1, q2) = (enu(o, a1), enu(o, a2), enu(o, b1), enu(o, b2));
    let cross = |o: (f64, f64), a: (f64, f64), b: (f64, f64)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let (d1, d2) = (cross(q1, q2, p1), cross(q1, q2, p2));
    let (d3, d4) = (cross(p1, p2, q1), cross(p1, p2, q2));
    if d1 * d2 < 0.0 && d3 * d4 < 0.0 {
        return 0.0;
    }
    pt_seg_xy(p1, q1, q2)
        .min(pt_seg_xy(p2, q1, q2))
        .min(pt_seg_xy(q1, p1, p2))
        .min(pt_seg_xy(q2, p1, p2))
}

fn r6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(splitmix(seed ^ splitmix(stream)))
}

// ---------------------------------------------------------------------------------------------
// 4D volumes used to keep things clear of each other
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Foot {
    Seg(Ll, Ll),
    Circle(Ll),
}

#[derive(Debug, Clone, Copy)]
struct Vol {
    foot: Foot,
    half: f64,
    t0: i64,
    t1: i64,
    lo: f64,
    hi: f64,
}

fn foot_point(f: Foot, p: Ll) -> f64 {
    match f {
        Foot::Seg(a, b) => seg_point_dist(a, b, p),
        Foot::Circle(c) => dist(c, p),
    }
}

fn foot_foot(f: Foot, g: Foot) -> f64 {
    match (f, g) {
        (Foot::Seg(a, b), Foot::Seg(c, d)) => seg_seg_dist(a, b, c, d),
        (Foot::Seg(a, b), Foot::Circle(c)) | (Foot::Circle(c), Foot::Seg(a, b)) => {
            seg_point_dist(a, b, c)
        }
        (Foot::Circle(c), Foot::Circle(d)) => dist(c, d),
    }
}

/// The time interval of route leg `i` (`route[i]` to `route[i + 1]`), ms: the waypoints' times,
/// or the whole window on an untimed route (generated routes are always timed).
fn leg_times(op: &Operation, i: usize) -> (i64, i64) {
    match (op.route[i].time, op.route[i + 1].time) {
        (Some(a), Some(b)) => (a.0, b.0),
        _ => (op.window.start.0, op.window.end.0),
    }
}

fn op_vols(op: &Operation) -> Vec<Vol> {
    let (lo, hi) = op.altitude_m;
    let mut v: Vec<Vol> = op
        .route
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let (t0, t1) = leg_times(op, i);
            Vol {
                foot: Foot::Seg((w[0].lon, w[0].lat), (w[1].lon, w[1].lat)),
                half: op.corridor_m,
                t0,
                t1,
                lo,
                hi,
            }
        })
        .collect();
    v.push(Vol {
        foot: Foot::Circle((op.target.lon, op.target.lat)),
        half: op.target.radius_m,
        t0: op.window.start.0,
        t1: op.window.end.0,
        lo,
        hi,
    });
    v
}

/// Could two volumes conflict (conservative: true unless clearly separated)?
fn vols_close(a: &Vol, b: &Vol) -> bool {
    let tb = 2 * T_BUF + T_MARGIN;
    if a.t0 - tb > b.t1 || b.t0 - tb > a.t1 {
        return false;
    }
    let vs = V_SEP + V_MARGIN;
    if a.lo - vs > b.hi || b.lo - vs > a.hi {
        return false;
    }
    let d = foot_foot(a.foot, b.foot);
    d < (H_SEP + a.half + b.half) * 1.03 + H_MARGIN
}

/// Could a volume touch a zone (conservative)?
fn vol_zone_close(v: &Vol, p: &ZonePlan) -> bool {
    let (z, tb) = (&p.zone, T_BUF + T_MARGIN);
    if z.validity.end.0 < v.t0 - tb || z.validity.start.0 > v.t1 + tb {
        return false;
    }
    let vs = V_SEP + V_MARGIN;
    if z.alt_max.is_some_and(|m| m < v.lo - vs) || z.alt_min.is_some_and(|m| m > v.hi + vs) {
        return false;
    }
    foot_point(v.foot, p.center) < (v.half + p.radius) * 1.03 + H_MARGIN
}

/// Whether entering a zone of this kind is a conflict.
fn blocks(kind: ZoneKind) -> bool {
    matches!(
        kind,
        ZoneKind::OffLimits | ZoneKind::Protected | ZoneKind::AirDefense
    )
}

// ---------------------------------------------------------------------------------------------
// Entity plans
// ---------------------------------------------------------------------------------------------

impl EntityPlan {
    /// Interpolated position `(lon, lat, alt)` on the plan at `t` (clamped to the route ends).
    pub fn position(&self, t: Timestamp) -> (f64, f64, f64) {
        let i = self.fixes.partition_point(|f| f.t <= t.0).saturating_sub(1);
        let (p, a) = self.pos_in(i, t.0);
        (p.0, p.1, a)
    }

    fn pos_in(&self, i: usize, t: i64) -> (Ll, f64) {
        let a = &self.fixes[i];
        if i + 1 >= self.fixes.len() || t <= a.t {
            return (from_vec(a.v), a.alt);
        }
        let b = &self.fixes[i + 1];
        let f = ((t - a.t) as f64 / (b.t - a.t) as f64).min(1.0);
        let alt = a.alt + (b.alt - a.alt) * f;
        if a.omega < 1e-12 {
            return (from_vec(a.v), alt);
        }
        let s0 = ((1.0 - f) * a.omega).sin() * a.inv_sin;
        let s1 = (f * a.omega).sin() * a.inv_sin;
        let v = [
            a.v[0] * s0 + b.v[0] * s1,
            a.v[1] * s0 + b.v[1] * s1,
            a.v[2] * s0 + b.v[2] * s1,
        ];
        (from_vec(v), alt)
    }

    /// Number of reports it emits.
    pub fn report_count(&self) -> u64 {
        self.n - self.gap_idx.iter().map(|(a, b)| b - a).sum::<u64>()
    }

    fn time_of(&self, k: u64) -> i64 {
        let j = if self.jitter_ms > 0 {
            (splitmix(self.hash ^ k) % (2 * self.jitter_ms as u64 + 1)) as i64 - self.jitter_ms
        } else {
            0
        };
        self.start.0 + k as i64 * self.interval_ms + j
    }

    fn cursor(&self, ent: u32) -> Cursor<'_> {
        Cursor {
            p: self,
            ent,
            k: 0,
            gap: 0,
            leg: 0,
        }
    }

    fn bbox(&self) -> Region {
        let mut r = Region {
            w: 180.0,
            s: 90.0,
            e: -180.0,
            n: -90.0,
        };
        for f in &self.fixes {
            let (lon, lat) = from_vec(f.v);
            r.w = r.w.min(lon);
            r.e = r.e.max(lon);
            r.s = r.s.min(lat);
            r.n = r.n.max(lat);
        }
        r
    }
}

/// One raw report: entity number and fixed-point values exactly as written.
#[derive(Debug, Clone, Copy)]
struct Raw {
    ent: u32,
    t: i64,
    lon_e7: i32,
    lat_e7: i32,
    alt_dm: Option<i32>,
}

struct Cursor<'a> {
    p: &'a EntityPlan,
    ent: u32,
    k: u64,
    gap: usize,
    leg: usize,
}

impl Cursor<'_> {
    fn next_raw(&mut self) -> Option<Raw> {
        let p = self.p;
        while self.gap < p.gap_idx.len() && self.k >= p.gap_idx[self.gap].0 {
            self.k = self.k.max(p.gap_idx[self.gap].1);
            self.gap += 1;
        }
        if self.k >= p.n {
            return None;
        }
        let t = p.time_of(self.k);
        self.k += 1;
        while self.leg + 1 < p.fixes.len() && p.fixes[self.leg + 1].t <= t {
            self.leg += 1;
        }
        let ((lon, lat), alt) = p.pos_in(self.leg, t);
        Some(Raw {
            ent: self.ent,
            t,
            lon_e7: deg_to_e7(wrap_lon(lon)),
            lat_e7: deg_to_e7(lat.clamp(-90.0, 90.0)),
            alt_dm: p.alt_known.then(|| (alt * 10.0).round() as i32),
        })
    }
}

/// Streams raw reports of all entities in global time order (ties by entity number).
struct Merge<'a> {
    cursors: Vec<Cursor<'a>>,
    pending: Vec<Raw>,
    heap: BinaryHeap<Reverse<(i64, u32)>>,
}

impl<'a> Merge<'a> {
    fn new(s: &'a Scenario) -> Self {
        let mut cursors: Vec<Cursor<'a>> = s
            .entities
            .iter()
            .enumerate()
            .map(|(i, p)| p.cursor(i as u32))
            .collect();
        let mut pending = Vec::with_capacity(cursors.len());
        let mut heap = BinaryHeap::with_capacity(cursors.len());
        for (i, c) in cursors.iter_mut().enumerate() {
            match c.next_raw() {
                Some(r) => {
                    heap.push(Reverse((r.t, i as u32)));
                    pending.push(r);
                }
                None => pending.push(Raw {
                    ent: i as u32,
                    t: 0,
                    lon_e7: 0,
                    lat_e7: 0,
                    alt_dm: None,
                }),
            }
        }
        Merge {
            cursors,
            pending,
            heap,
        }
    }
}

impl Iterator for Merge<'_> {
    type Item = Raw;
    fn next(&mut self) -> Option<Raw> {
        let mut top = self.heap.peek_mut()?;
        let Reverse((_, e)) = *top;
        let out = self.pending[e as usize];
        match self.cursors[e as usize].next_raw() {
            Some(r) => {
                self.pending[e as usize] = r;
                *top = Reverse((r.t, e));
            }
            None => {
                PeekMut::pop(top);
            }
        }
        Some(out)
    }
}

fn raw_to_report(s: &Scenario, r: Raw) -> Report {
    let p = &s.entities[r.ent as usize];
    Report {
        id: p.id.clone(),
        side: p.side.clone(),
        time: Timestamp(r.t),
        lon: deg_from_e7(r.lon_e7),
        lat: deg_from_e7(r.lat_e7),
        alt: r.alt_dm.map(|d| f64::from(d) / 10.0),
    }
}

/// A waypoint under construction: position, altitude, and whether the turn there is rounded.
#[derive(Clone, Copy)]
struct Wp {
    p: Ll,
    alt: f64,
    corner: bool,
}

fn turn_radius(speed: f64) -> f64 {
    speed * speed / (9.81 * 25f64.to_radians().tan())
}

/// A route inside `region` long enough for `duration_s` at `speed`.
fn build_route(
    kind: EntityKind,
    region: Region,
    speed: f64,
    duration_s: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<Wp> {
    let (amin, amax) = kind.alt_range();
    let mut alt = rng.gen_range(amin..amax).round();
    let start = region.sample(rng);
    let mut heading: f64 = rng.gen_range(0.0..360.0);
    let mut wps = vec![Wp {
        p: start,
        alt,
        corner: false,
    }];
    let need = speed * (duration_s + 120.0);
    let mut total = 0.0;
    let r_turn = turn_radius(speed);
    while total < need {
        let cur = wps[wps.len() - 1].p;
        let pattern: f64 = rng.r#gen();
        let orbit = match kind {
            EntityKind::FastJet => pattern < 0.5,
            EntityKind::Transport => pattern < 0.4,
            EntityKind::Helicopter => pattern < 0.15,
            EntityKind::Drone => pattern < 0.7,
        };
        if orbit && wps.len() > 1 {
            // Racetrack (aircraft) or circle (helicopters, drones), turning right or left.
            let dir = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
            let (leg, r, laps) = match kind {
                EntityKind::FastJet => (rng.gen_range(30e3..60e3), r_turn, rng.gen_range(1..=3)),
                EntityKind::Transport => (rng.gen_range(60e3..100e3), r_turn, rng.gen_range(1..=3)),
                EntityKind::Helicopter => {
                    (0.0, rng.gen_range(1000.0..2000.0), rng.gen_range(1..=2))
                }
                EntityKind::Drone => (0.0, rng.gen_range(2000.0..6000.0), rng.gen_range(2..=6)),
            };
            let (hs, hc) = heading.to_radians().sin_cos();
            let world = |x: f64, y: f64| {
                let x = x * dir;
                from_enu(cur, (x * hc + y * hs, -x * hs + y * hc))
            };
            let mut local = Vec::new();
            for _ in 0..laps {
                local.push((0.0, leg));
                for i in 1..=12 {
                    let th = std::f64::consts::PI * (1.0 - f64::from(i) / 12.0);
                    local.push((r + r * th.cos(), leg + r * th.sin()));
                }
                if leg > 0.0 {
                    local.push((2.0 * r, 0.0));
                }
                for i in 1..=12 {
                    let th = -std::f64::consts::PI * f64::from(i) / 12.0;
                    local.push((r + r * th.cos(), r * th.sin()));
                }
            }
            let mut prev = cur;
            for (x, y) in local {
                let p = world(x, y);
                total += dist(prev, p);
                prev = p;
                wps.push(Wp {
                    p,
                    alt,
                    corner: false,
                });
            }
            continue;
        }
        // Transit to a new waypoint, turning at most 120°.
        let (dmin, dmax) = match kind {
            EntityKind::FastJet => (40e3, 150e3),
            EntityKind::Transport => (60e3, 250e3),
            EntityKind::Helicopter => (10e3, 50e3),
            EntityKind::Drone => (10e3, 40e3),
        };
        let mut next = None;
        for _ in 0..30 {
            let turn = rng.gen_range(-120.0..120.0);
            let p = dest(cur, heading + turn, rng.gen_range(dmin..dmax));
            if region.contains(p) {
                next = Some(p);
                break;
            }
        }
        let p = next.unwrap_or_else(|| region.sample(rng));
        if rng.gen_bool(0.3) {
            alt = (alt + rng.gen_range(-2000.0..2000.0))
                .clamp(amin, amax)
                .round();
        }
        let n = wps.len();
        wps[n - 1].corner = n > 1;
        total += dist(cur, p);
        heading = bearing(p, cur) + 180.0;
        wps.push(Wp {
            p,
            alt,
            corner: false,
        });
    }
    fillet(&wps, r_turn)
}

/// Rounds flagged corners with arcs of radius `r` (tightened when legs are short).
fn fillet(wps: &[Wp], r: f64) -> Vec<Wp> {
    let mut out = Vec::with_capacity(wps.len() * 2);
    for (i, w) in wps.iter().enumerate() {
        if !w.corner || i == 0 || i + 1 >= wps.len() {
            out.push(*w);
            continue;
        }
        let (a, b) = (enu(w.p, wps[i - 1].p), enu(w.p, wps[i + 1].p));
        let (la, lb) = (a.0.hypot(a.1), b.0.hypot(b.1));
        if la < 1.0 || lb < 1.0 {
            out.push(*w);
            continue;
        }
        let uin = (-a.0 / la, -a.1 / la);
        let uout = (b.0 / lb, b.1 / lb);
        let delta = (uin.0 * uout.0 + uin.1 * uout.1).clamp(-1.0, 1.0).acos();
        if delta < 3f64.to_radians() || delta > 170f64.to_radians() {
            out.push(*w);
            continue;
        }
        let mut rr = r;
        let mut d = rr * (delta / 2.0).tan();
        let dmax = 0.45 * la.min(lb);
        if d > dmax {
            d = dmax;
            rr = d / (delta / 2.0).tan();
        }
        let t1 = (-d * uin.0, -d * uin.1);
        let left = uin.0 * uout.1 - uin.1 * uout.0 > 0.0;
        let nrm = if left {
            (-uin.1, uin.0)
        } else {
            (uin.1, -uin.0)
        };
        let c = (t1.0 + rr * nrm.0, t1.1 + rr * nrm.1);
        let a1 = (t1.1 - c.1).atan2(t1.0 - c.0);
        let sweep = if left { delta } else { -delta };
        let m = (delta / 15f64.to_radians()).ceil().max(1.0) as usize;
        for k in 0..=m {
            let ang = a1 + sweep * k as f64 / m as f64;
            let p = from_enu(w.p, (c.0 + rr * ang.cos(), c.1 + rr * ang.sin()));
            out.push(Wp {
                p,
                alt: w.alt,
                corner: false,
            });
        }
    }
    out
}

/// Timed fixes along `wps` at constant `speed`, starting at `t0`.
fn timed_fixes(wps: &[Wp], speed: f64, t0: i64) -> Vec<Fix> {
    let mut t = t0 as f64;
    let mut fixes: Vec<Fix> = Vec::with_capacity(wps.len());
    for (i, w) in wps.iter().enumerate() {
        if i > 0 {
            let d = dist(wps[i - 1].p, w.p);
            if d < 0.5 {
                continue;
            }
            t += d / speed * 1000.0;
        }
        let ti = t.round() as i64;
        if fixes.last().is_some_and(|f| f.t >= ti) {
            continue;
        }
        fixes.push(Fix {
            t: ti,
            v: to_vec(w.p),
            alt: w.alt,
            omega: 0.0,
            inv_sin: 0.0,
        });
    }
    finish_fixes(&mut fixes);
    fixes
}

fn finish_fixes(fixes: &mut [Fix]) {
    for i in 0..fixes.len().saturating_sub(1) {
        let (a, b) = (fixes[i].v, fixes[i + 1].v);
        let dot = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]).clamp(-1.0, 1.0);
        let cr = [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ];
        let om = (cr[0] * cr[0] + cr[1] * cr[1] + cr[2] * cr[2])
            .sqrt()
            .atan2(dot);
        fixes[i].omega = om;
        fixes[i].inv_sin = if om > 1e-12 { 1.0 / om.sin() } else { 0.0 };
    }
}

/// Report schedule: nominal count, jitter and gaps for activity `[t0, t1]`.
fn schedule(plan: &mut EntityPlan, interval_ms: i64, rng: &mut ChaCha8Rng) {
    let jitter = (interval_ms / 5).min(300);
    plan.interval_ms = interval_ms;
    plan.jitter_ms = jitter;
    let first = plan.start.0 + jitter;
    let last = plan.end.0 - jitter;
    plan.start = Timestamp(first);
    plan.n = if last >= first {
        ((last - first) / interval_ms) as u64 + 1
    } else {
        0
    };
    plan.end = Timestamp(first + (plan.n.max(1) as i64 - 1) * interval_ms + jitter);
    let gaps = match rng.gen_range(0..100) {
        0..50 => 0,
        50..85 => 1,
        _ => 2,
    };
    let mut idx = Vec::new();
    for _ in 0..gaps {
        let secs = if rng.gen_bool(0.7) {
            rng.gen_range(5.0..50.0)
        } else {
            rng.gen_range(61.0..300.0)
        };
        let len = ((secs * 1000.0) / interval_ms as f64).ceil() as u64;
        if plan.n < len + 4 {
            continue;
        }
        let a = rng.gen_range(1..plan.n - len - 1);
        idx.push((a, a + len));
    }
    idx.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (a, b) in idx {
        match merged.last_mut() {
            Some(l) if a <= l.1 + 1 => l.1 = l.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    plan.gaps = merged
        .iter()
        .map(|&(a, b)| TimeRange {
            start: Timestamp(plan.time_of(a - 1)),
            end: Timestamp(plan.time_of(b)),
        })
        .collect();
    plan.gap_idx = merged;
}

/// Does this entity come near any operation volume (except the exempt operation)?
fn entity_hits(p: &EntityPlan, vols: &[(usize, Vol, Region)], exempt: Option<usize>) -> bool {
    let bb = p.bbox();
    let pacific = bb.e - bb.w > 180.0;
    for (op, v, vb) in vols {
        if Some(*op) == exempt {
            continue;
        }
        if !pacific && (bb.e < vb.w || bb.w > vb.e || bb.n < vb.s || bb.s > vb.n) {
            continue;
        }
        let from = p.start.0.max(v.t0 - T_BUF - T_MARGIN);
        let to = p.end.0.min(v.t1 + T_BUF + T_MARGIN);
        let lim = (H_SEP + v.half) * 1.03 + H_MARGIN;
        let mut t = from;
        while t <= to {
            let (lon, lat, alt) = p.position(Timestamp(t));
            let vert =
                !p.alt_known || (alt > v.lo - V_SEP - V_MARGIN && alt < v.hi + V_SEP + V_MARGIN);
            if vert && vb.contains((lon, lat)) && foot_point(v.foot, (lon, lat)) < lim {
                return true;
            }
            t += 5000;
        }
    }
    false
}

fn vol_bbox(v: &Vol) -> Region {
    let (pts, r) = match v.foot {
        Foot::Seg(a, b) => (vec![a, b], v.half),
        Foot::Circle(c) => (vec![c], v.half),
    };
    let pad = (H_SEP + r) * 1.03 + H_MARGIN + 2000.0;
    let dlat = (pad / R_EARTH).to_degrees();
    let mut b = Region {
        w: 180.0,
        s: 90.0,
        e: -180.0,
        n: -90.0,
    };
    for p in pts {
        let dlon = dlat / p.1.to_radians().cos().max(0.05);
        b.w = b.w.min(p.0 - dlon);
        b.e = b.e.max(p.0 + dlon);
        b.s = b.s.min(p.1 - dlat);
        b.n = b.n.max(p.1 + dlat);
    }
    b
}

// ---------------------------------------------------------------------------------------------
// Zones
// ---------------------------------------------------------------------------------------------

fn star(c: Ll, rmin: f64, rmax: f64, n: usize, rng: &mut ChaCha8Rng) -> Vec<Ll> {
    let mut ring: Vec<Ll> = (0..n)
        .map(|i| {
            let th = std::f64::consts::TAU * i as f64 / n as f64;
            let r = rng.gen_range(rmin..=rmax);
            let p = from_enu(c, (r * th.cos(), r * th.sin()));
            (r6(p.0), r6(p.1))
        })
        .collect();
    ring.push(ring[0]);
    ring
}

fn rect(c: Ll, len: f64, wid: f64, brg: f64) -> Vec<Ll> {
    let (s, co) = brg.to_radians().sin_cos();
    let mut ring: Vec<Ll> = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]
        .iter()
        .map(|&(a, b)| {
            // a along the axis, b across it; axis = (sin, cos), across = (cos, -sin)
            let (along, across) = (a * len / 2.0, b * wid / 2.0);
            let x = along * s - across * co;
            let y = along * co + across * s;
            let p = from_enu(c, (x, y));
            (r6(p.0), r6(p.1))
        })
        .collect();
    // Make the exterior counter-clockwise.
    let area: f64 = ring
        .windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum::<f64>()
        + (ring[3].0 * ring[0].1 - ring[0].0 * ring[3].1);
    if area < 0.0 {
        ring.reverse();
    }
    ring.push(ring[0]);
    ring
}

struct ZoneMaker<'a> {
    zones: Vec<ZonePlan>,
    rng: &'a mut ChaCha8Rng,
    span: TimeRange,
}

impl ZoneMaker<'_> {
    #[expect(
        clippy::too_many_arguments,
        reason = "a generator step takes the whole planning context"
    )]
    fn add(
        &mut self,
        kind: ZoneKind,
        name: &'static str,
        side: &str,
        shape: ZoneShape,
        center: Ll,
        radius: f64,
        valid: Option<(f64, f64)>,
        alt: (Option<f64>, Option<f64>),
    ) -> usize {
        let n = self.zones.iter().filter(|z| z.zone.kind == kind).count() + 1;
        let len = self.span.end.0 - self.span.start.0;
        let at =
            |f: f64| Timestamp(self.span.start.0 + ((len as f64 * f) as i64 / 60_000) * 60_000);
        let zone = Zone {
            id: format!("{}-{n:02}", zone_prefix(kind)),
            kind,
            side: Some(side.to_owned()),
            shape,
            validity: valid.map_or(TimeRange::ALL, |v| TimeRange {
                start: at(v.0),
                end: at(v.1),
            }),
            alt_min: alt.0,
            alt_max: alt.1,
        };
        self.zones.push(ZonePlan {
            zone,
            name,
            center,
            radius,
        });
        self.zones.len() - 1
    }

    fn circle(c: Ll, r: f64) -> ZoneShape {
        ZoneShape::Circle {
            center: (r6(c.0), r6(c.1)),
            radius_m: r.round(),
        }
    }

    /// A centre in the theatre at least `sep(existing)` away from the listed zones.
    fn place(&mut self, region: Region, r: f64, avoid: &[ZoneKind], gap: f64) -> Ll {
        let mut best = region.sample(self.rng);
        for _ in 0..200 {
            let c = region.sample(self.rng);
            let ok = self
                .zones
                .iter()
                .filter(|z| avoid.contains(&z.zone.kind))
                .all(|z| dist(c, z.center) > z.radius + r + gap);
            best = c;
            if ok {
                break;
            }
        }
        best
    }
}

fn make_zones(rng: &mut ChaCha8Rng, span: TimeRange) -> (Vec<ZonePlan>, Vec<usize>) {
    use ZoneKind::*;
    let mut zm = ZoneMaker {
        zones: Vec::new(),
        rng,
        span,
    };
    let ne = Region {
        w: 38.5,
        s: 34.5,
        e: 41.5,
        n: 37.5,
    };
    // Air defence: long-range rings, one short-range, one mobile (active for part of the span).
    for (name, rmin, rmax, alt_max, valid) in [
        (
            "long-range SAM site",
            30e3,
            45e3,
            (Some(150.0), Some(20_000.0)),
            None,
        ),
        (
            "medium-range SAM site",
            20e3,
            30e3,
            (Some(100.0), Some(15_000.0)),
            None,
        ),
        (
            "short-range air defence",
            8e3,
            12e3,
            (None, Some(4500.0)),
            None,
        ),
        (
            "mobile SAM battery",
            15e3,
            25e3,
            (None, Some(12_000.0)),
            Some((0.5, 1.0)),
        ),
    ] {
        let r = zm.rng.gen_range(rmin..rmax);
        let c = zm.place(ne, r, &[AirDefense], 10e3);
        zm.add(
            AirDefense,
            name,
            "red",
            ZoneMaker::circle(c, r),
            c,
            r,
            valid,
            alt_max,
        );
    }
    // Target areas: star polygons clear of air defence and of each other; the last two are
    // valid only for part of the span.
    let mut tas = Vec::new();
    for i in 0..7 {
        let r = zm.rng.gen_range(10e3..18e3);
        let c = zm.place(THEATRE, r, &[AirDefense, TargetArea], 30e3);
        let ring = star(c, 0.85 * r, r, 9, zm.rng);
        let valid = (i >= 5).then_some(if i == 5 { (0.0, 0.5) } else { (0.4, 1.0) });
        let side = ["blue", "green", "blue", "red", "green", "blue", "red"][i];
        let idx = zm.add(
            TargetArea,
            "mutually designated target area",
            side,
            ZoneShape::Polygons(vec![vec![ring]]),
            c,
            r,
            valid,
            (None, None),
        );
        if i < 5 {
            tas.push(idx);
        }
    }
    let ta_c: Vec<(Ll, f64)> = tas
        .iter()
        .map(|&i| (zm.zones[i].center, zm.zones[i].radius))
        .collect();
    // Off-limits: hospitals inside the first target areas, then sites across the theatre.
    for (c, r) in ta_c.iter().take(3) {
        let p = dest(
            *c,
            zm.rng.gen_range(0.0..360.0),
            r * zm.rng.gen_range(0.25..0.4),
        );
        let rr = zm.rng.gen_range(400.0..900.0);
        zm.add(
            OffLimits,
            "hospital",
            "green",
            ZoneMaker::circle(p, rr),
            p,
            rr,
            None,
            (None, None),
        );
    }
    let c = zm.place(THEATRE, 4e3, &[AirDefense, TargetArea], 5e3);
    let g = ZoneShape::Polygons(vec![vec![star(c, 2500.0, 4000.0, 7, zm.rng)]]);
    zm.add(
        OffLimits,
        "cultural heritage site",
        "un",
        g,
        c,
        4000.0,
        None,
        (None, None),
    );
    let c = zm.place(THEATRE, 12e3, &[AirDefense, TargetArea], 5e3);
    let (c1, c2) = (dest(c, 60.0, 4000.0), dest(c, 240.0, 4000.0));
    let g = ZoneShape::Polygons(vec![
        vec![star(c1, 1000.0, 2000.0, 6, zm.rng)],
        vec![star(c2, 1000.0, 2000.0, 6, zm.rng)],
    ]);
    zm.add(
        OffLimits,
        "refugee camps",
        "un",
        g,
        c,
        6000.0,
        None,
        (None, None),
    );
    for (name, valid, alt) in [
        ("school", None, (None, None)),
        ("aid distribution point", Some((0.3, 0.7)), (None, None)),
        ("town centre, no low flying", None, (None, Some(2500.0))),
    ] {
        let r = if alt.1.is_some() {
            5000.0
        } else {
            zm.rng.gen_range(300.0..1500.0)
        };
        let c = zm.place(THEATRE, r, &[AirDefense, TargetArea], 3e3);
        zm.add(
            OffLimits,
            name,
            "green",
            ZoneMaker::circle(c, r),
            c,
            r,
            valid,
            alt,
        );
    }
    // Protected.
    for (name, side, r, valid, alt) in [
        ("embassy", "blue", 500.0, None, (None, None)),
        ("UN compound", "un", 800.0, None, (None, None)),
        (
            "civil airport approach",
            "green",
            15e3,
            None,
            (None, Some(3000.0)),
        ),
        ("power plant", "green", 1200.0, None, (None, None)),
    ] {
        let c = zm.place(THEATRE, r, &[AirDefense, TargetArea], 3e3);
        zm.add(
            Protected,
            name,
            side,
            ZoneMaker::circle(c, r),
            c,
            r,
            valid,
            alt,
        );
    }
    let c = zm.place(THEATRE, 3000.0, &[AirDefense, TargetArea], 3e3);
    let g = ZoneShape::Polygons(vec![vec![star(c, 1500.0, 3000.0, 5, zm.rng)]]);
    zm.add(Protected, "dam", "green", g, c, 3000.0, None, (None, None));
    let c = zm.place(THEATRE, 20e3, &[AirDefense, TargetArea], 3e3);
    let brg = zm.rng.gen_range(0.0..180.0);
    let g = ZoneShape::Polygons(vec![vec![rect(c, 40e3, 4e3, brg)]]);
    zm.add(
        Protected,
        "humanitarian convoy corridor",
        "un",
        g,
        c,
        20_100.0,
        Some((0.2, 0.45)),
        (None, Some(6000.0)),
    );
    // Presence: concentrations of groups (never conflicts), incl. one across the antimeridian
    // and one in the Arctic.
    for (side, region) in [("red", ne), ("red", THEATRE), ("green", THEATRE)] {
        let c = zm.place(region, 8e3, &[], 0.0);
        let g = ZoneShape::Polygons(vec![vec![star(c, 5e3, 8e3, 8, zm.rng)]]);
        zm.add(
            Presence,
            "ground forces concentration",
            side,
            g,
            c,
            8e3,
            None,
            (None, None),
        );
    }
    let c = zm.place(THEATRE, 10e3, &[], 0.0);
    let g = ZoneShape::Polygons(vec![
        vec![star(dest(c, 0.0, 5e3), 2e3, 3e3, 6, zm.rng)],
        vec![star(dest(c, 180.0, 5e3), 2e3, 3e3, 6, zm.rng)],
    ]);
    zm.add(
        Presence,
        "armoured units",
        "orange",
        g,
        c,
        8e3,
        None,
        (None, None),
    );
    let c = (179.95, 22.0);
    zm.add(
        Presence,
        "naval task group (across the antimeridian)",
        "blue",
        ZoneMaker::circle(c, 30e3),
        c,
        30e3,
        None,
        (None, None),
    );
    let c = (20.0, 78.5);
    let g = ZoneShape::Polygons(vec![vec![star(c, 20e3, 30e3, 8, zm.rng)]]);
    zm.add(
        Presence,
        "Arctic exercise area",
        "blue",
        g,
        c,
        30e3,
        Some((0.0, 1.0)),
        (None, None),
    );
    (zm.zones, tas)
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

struct Template {
    method: &'static str,
    composition: &'static str,
    lo: (f64, f64),
    width: (f64, f64),
    speed: (f64, f64),
    corridor: f64,
    radius: (f64, f64),
}

const TEMPLATES: [Template; 6] = [
    Template {
        method: "air strike",
        composition: "2 strike aircraft, 1 tanker",
        lo: (4000.0, 4500.0),
        width: (1000.0, 1500.0),
        speed: (190.0, 230.0),
        corridor: 5000.0,
        radius: (300.0, 800.0),
    },
    Template {
        method: "close air support",
        composition: "2 attack aircraft",
        lo: (2500.0, 3000.0),
        width: (1000.0, 1500.0),
        speed: (160.0, 200.0),
        corridor: 4000.0,
        radius: (200.0, 500.0),
    },
    Template {
        method: "ISR orbit",
        composition: "1 MALE drone",
        lo: (3000.0, 3500.0),
        width: (500.0, 1000.0),
        speed: (40.0, 60.0),
        corridor: 3000.0,
        radius: (1000.0, 3000.0),
    },
    Template {
        method: "air assault",
        composition: "4 transport helicopters, 2 attack helicopters",
        lo: (150.0, 200.0),
        width: (600.0, 900.0),
        speed: (55.0, 75.0),
        corridor: 2000.0,
        radius: (500.0, 1000.0),
    },
    Template {
        method: "airdrop",
        composition: "2 transport aircraft",
        lo: (2500.0, 3000.0),
        width: (800.0, 1200.0),
        speed: (130.0, 160.0),
        corridor: 3000.0,
        radius: (500.0, 1500.0),
    },
    Template {
        method: "strategic ISR",
        composition: "1 HALE drone",
        lo: (15000.0, 16000.0),
        width: (1000.0, 2000.0),
        speed: (150.0, 180.0),
        corridor: 5000.0,
        radius: (2000.0, 5000.0),
    },
];

struct OpBuilder<'a> {
    rng: ChaCha8Rng,
    span: TimeRange,
    zones: &'a [ZonePlan],
    tas: &'a [usize],
    ops: Vec<Operation>,
    vols: Vec<Vec<Vol>>,
}

/// Exemptions when checking a candidate operation.
#[derive(Default, Clone, Copy)]
struct Exempt<'a> {
    zone: Option<&'a str>,
    op: Option<usize>,
    target_outside_tas: bool,
}

impl OpBuilder<'_> {
    fn round_min(t: i64) -> i64 {
        t.div_euclid(60_000) * 60_000
    }

    /// A route `p_in → target → p_out` flown at `speed` from `start`.
    #[expect(
        clippy::too_many_arguments,
        reason = "a generator step takes the whole planning context"
    )]
    fn make(
        &mut self,
        tmpl: &Template,
        side: &str,
        target: Ll,
        p_in: Ll,
        p_out: Ll,
        start: i64,
        speed: f64,
    ) -> Operation {
        let rng = &mut self.rng;
        let lo = (rng.gen_range(tmpl.lo.0..=tmpl.lo.1) / 50.0).round() * 50.0;
        let hi = lo + (rng.gen_range(tmpl.width.0..=tmpl.width.1) / 50.0).round() * 50.0;
        let t1 = start + ((dist(p_in, target) / speed) as i64).max(1) * 1000;
        let t2 = t1 + ((dist(target, p_out) / speed) as i64).max(1) * 1000;
        let filed = Self::round_min(start - rng.gen_range(26 * 3_600_000..72 * 3_600_000));
        let rp = |p: Ll, t: i64| Waypoint {
            lon: r6(p.0),
            lat: r6(p.1),
            time: Some(Timestamp(t)),
        };
        Operation {
            id: String::new(),
            side: side.to_owned(),
            filed_at: Timestamp(filed),
            method: tmpl.method.to_owned(),
            composition: tmpl.composition.to_owned(),
            target: Target {
                lon: r6(target.0),
                lat: r6(target.1),
                radius_m: (rng.gen_range(tmpl.radius.0..=tmpl.radius.1) / 50.0).round() * 50.0,
            },
            window: TimeRange {
                start: Timestamp(start),
                end: Timestamp(t2),
            },
            altitude_m: (lo, hi),
            corridor_m: tmpl.corridor,
            route: vec![rp(p_in, start), rp(target, t1), rp(p_out, t2)],
            own_tracks: Vec::new(),
        }
    }

    /// A random operation on `target` fitting the span, or None when it does not fit.
    fn random_on(&mut self, tmpl: &Template, side: &str, target: Ll) -> Option<Operation> {
        let len = self.span.end.0 - self.span.start.0;
        let dur = ((len as f64 * self.rng.gen_range(0.1..0.3)) as i64).clamp(120_000, 40 * 60_000);
        if dur > len {
            return None;
        }
        let speed = self.rng.gen_range(tmpl.speed.0..tmpl.speed.1);
        let leg = speed * dur as f64 / 2000.0;
        let b = self.rng.gen_range(0.0..360.0);
        let turn =
            self.rng.gen_range(40.0..140.0) * if self.rng.gen_bool(0.5) { 1.0 } else { -1.0 };
        let (p_in, p_out) = (dest(target, b, leg), dest(target, b + turn, leg));
        let start = Self::round_min(self.span.start.0 + self.rng.gen_range(0..=(len - dur).max(0)));
        let op = self.make(tmpl, side, target, p_in, p_out, start, speed);
        (op.window.end <= self.span.end).then_some(op)
    }

    fn target_in_ta(&mut self) -> Ll {
        let z = &self.zones[self.tas[self.rng.gen_range(0..self.tas.len())]];
        dest(
            z.center,
            self.rng.gen_range(0.0..360.0),
            z.radius * self.rng.gen_range(0.0..0.5),
        )
    }

    /// True when `op` is clear of zones and other operations (but for the exemptions).
    fn clear(&self, op: &Operation, ex: Exempt<'_>) -> bool {
        if op.route.iter().any(|p| !OPS_BOX.contains((p.lon, p.lat))) {
            return false;
        }
        let target = (op.target.lon, op.target.lat);
        for p in self.zones {
            let z = &p.zone;
            if ex.zone == Some(z.id.as_str()) {
                continue;
            }
            let inside = dist(target, p.center) < (p.radius + op.target.radius_m) * 1.03 + H_MARGIN;
            if matches!(z.kind, ZoneKind::OffLimits | ZoneKind::Protected) && inside {
                return false;
            }
            if ex.target_outside_tas && z.kind == ZoneKind::TargetArea && inside {
                return false;
            }
        }
        let vols = op_vols(op);
        for v in &vols {
            if self.zones.iter().any(|p| {
                blocks(p.zone.kind) && ex.zone != Some(p.zone.id.as_str()) && vol_zone_close(v, p)
            }) {
                return false;
            }
            for (i, ov) in self.vols.iter().enumerate() {
                if ex.op != Some(i) && ov.iter().any(|o| vols_close(v, o)) {
                    return false;
                }
            }
        }
        true
    }

    fn push(&mut self, mut op: Operation) -> usize {
        op.id = format!("op-{:03}", self.ops.len() + 1);
        self.vols.push(op_vols(&op));
        self.ops.push(op);
        self.ops.len() - 1
    }

    fn side(&mut self) -> &'static str {
        ["blue", "blue", "blue", "green", "red", "orange"][self.rng.gen_range(0..6)]
    }

    /// A clean operation (target in an always-valid target area).
    fn clean(&mut self, tmpl: &Template, side: &str, tries: usize) -> Option<Operation> {
        for _ in 0..tries {
            let target = self.target_in_ta();
            if let Some(op) = self.random_on(tmpl, side, target)
                && self.clear(&op, Exempt::default())
            {
                return Some(op);
            }
        }
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Building the scenario
// ---------------------------------------------------------------------------------------------

/// Builds the scenario for `cfg` (deterministic in `cfg`).
pub fn scenario(cfg: &GenConfig) -> Scenario {
    let len_ms = ((cfg.hours.max(0.0) * 3_600_000.0) as i64).max(60_000);
    let span = TimeRange {
        start: cfg.start,
        end: cfg.start.offset(len_ms),
    };
    let interval_ms = ((cfg.interval_s * 1000.0).round() as i64).max(1);
    let mut zrng = rng_for(cfg.seed, 1);
    let (zones, tas) = make_zones(&mut zrng, span);
    let mut ob = OpBuilder {
        rng: rng_for(cfg.seed, 2),
        span,
        zones: &zones,
        tas: &tas,
        ops: Vec::new(),
        vols: Vec::new(),
    };
    let mut planted = Vec::new();
    let mut traps = Vec::new();
    let specials = cfg.entities >= 4;
    let [strike, cas, isr, assault, airdrop, hale] = &TEMPLATES;

    // 1. Route through an air-defence ring.
    let ad: Vec<&ZonePlan> = zones
        .iter()
        .filter(|p| {
            let z = &p.zone;
            z.kind == ZoneKind::AirDefense
                && z.validity == TimeRange::ALL
                && z.alt_max.unwrap_or(0.0) > 7000.0
        })
        .collect();
    for _ in 0..300 {
        let p = ad[ob.rng.gen_range(0..ad.len())];
        let (z, center, radius) = (&p.zone, p.center, p.radius);
        let target = ob.target_in_ta();
        let b = bearing(target, center);
        let p_in = dest(center, b, radius * ob.rng.gen_range(0.3..1.3));
        let speed = ob.rng.gen_range(strike.speed.0..strike.speed.1);
        let d_out = ob.rng.gen_range(30e3..70e3);
        let p_out = dest(target, b + ob.rng.gen_range(60.0..120.0), d_out);
        let dur = ((dist(p_in, target) + d_out) / speed * 1000.0) as i64 + 2000;
        let len = span.end.0 - span.start.0;
        if dur > len {
            continue;
        }
        let start = OpBuilder::round_min(span.start.0 + ob.rng.gen_range(0..=len - dur));
        let op = ob.make(strike, "blue", target, p_in, p_out, start, speed);
        if op.window.end <= span.end
            && op.altitude_m.1 < z.alt_max.unwrap_or(f64::MAX)
            && ob.clear(
                &op,
                Exempt {
                    zone: Some(&z.id),
                    ..Exempt::default()
                },
            )
        {
            let i = ob.push(op);
            planted.push(PlantedConflict {
                operation: ob.ops[i].id.clone(),
                kind: "zone",
                with: z.id.clone(),
                why: "its ingress leg starts in or crosses an air_defense ring, below the ring's ceiling".into(),
            });
            break;
        }
    }
    // 2. Target inside an off-limits zone (a hospital within a target area).
    for _ in 0..100 {
        let hosp: Vec<&ZonePlan> = zones
            .iter()
            .filter(|p| p.zone.kind == ZoneKind::OffLimits && p.name == "hospital")
            .collect();
        let p = hosp[ob.rng.gen_range(0..hosp.len())];
        let z = &p.zone;
        let Some(op) = ob.random_on(cas, "red", p.center) else {
            continue;
        };
        if ob.clear(
            &op,
            Exempt {
                zone: Some(&z.id),
                ..Exempt::default()
            },
        ) {
            let i = ob.push(op);
            planted.push(PlantedConflict {
                operation: ob.ops[i].id.clone(),
                kind: "zone",
                with: z.id.clone(),
                why: "its target is a hospital, an off_limits zone (inside a target area)".into(),
            });
            break;
        }
    }
    // 3. Two operations sharing airspace at the same time.
    for _ in 0..100 {
        let Some(a) = ob.clean(strike, "blue", 1) else {
            continue;
        };
        let m = midpoint(
            (a.route[0].lon, a.route[0].lat),
            (a.route[1].lon, a.route[1].lat),
        );
        let tm = {
            let (t0, t1) = leg_times(&a, 0);
            (t0 + t1) / 2
        };
        let target = ob.target_in_ta();
        let speed = ob.rng.gen_range(strike.speed.0..strike.speed.1);
        let d = dist(m, target);
        if !(20e3..150e3).contains(&d) {
            continue;
        }
        let p_out = dest(
            target,
            bearing(m, target) + ob.rng.gen_range(60.0..120.0),
            d,
        );
        let mut b = ob.make(strike, "green", target, m, p_out, tm, speed);
        b.altitude_m = a.altitude_m;
        if b.window.end > span.end {
            continue;
        }
        let ia = ob.ops.len();
        ob.vols.push(op_vols(&a));
        let ok = ob.clear(
            &b,
            Exempt {
                op: Some(ia),
                ..Exempt::default()
            },
        );
        ob.vols.pop();
        if ok {
            let ia = ob.push(a);
            let ib = ob.push(b);
            let (ida, idb) = (ob.ops[ia].id.clone(), ob.ops[ib].id.clone());
            let why =
                "both route through the same point at the same time in the same altitude band"
                    .to_owned();
            planted.push(PlantedConflict {
                operation: ida.clone(),
                kind: "operation",
                with: idb.clone(),
                why: why.clone(),
            });
            planted.push(PlantedConflict {
                operation: idb,
                kind: "operation",
                with: ida,
                why,
            });
            break;
        }
    }
    // 4. Target outside every target area.
    for _ in 0..200 {
        let target = THEATRE.sample(&mut ob.rng);
        let Some(op) = ob.random_on(assault, "green", target) else {
            continue;
        };
        if ob.clear(
            &op,
            Exempt {
                target_outside_tas: true,
                ..Exempt::default()
            },
        ) {
            let i = ob.push(op);
            planted.push(PlantedConflict {
                operation: ob.ops[i].id.clone(),
                kind: "target_area",
                with: String::new(),
                why: "its target lies in no target_area while target areas are valid".into(),
            });
            break;
        }
    }
    // 5. Filed 23 h 59 min before its window.
    if let Some(mut op) = ob.clean(cas, "orange", 200) {
        op.filed_at = op.window.start.offset(-(23 * 3_600_000 + 59 * 60_000));
        let i = ob.push(op);
        planted.push(PlantedConflict {
            operation: ob.ops[i].id.clone(),
            kind: "lead_time",
            with: String::new(),
            why: "filed 23 h 59 min before its window, less than the 24 h lead time".into(),
        });
    }
    // 6. An operation a red jet flies through (the jet is built below).
    let track_op = if specials {
        ob.clean(strike, "blue", 200).map(|op| ob.push(op))
    } else {
        None
    };
    // 7. An operation flown by its own track (must not conflict).
    let own_op = if specials {
        ob.clean(airdrop, "blue", 200).map(|op| ob.push(op))
    } else {
        None
    };
    // 8. Clean operations up to 32 in all.
    let mut misses = 0;
    while ob.ops.len() < 32 && misses < 40 {
        let tmpl = [strike, cas, isr, assault, airdrop, hale][ob.rng.gen_range(0..6)];
        let side = ob.side();
        match ob.clean(tmpl, side, 50) {
            Some(op) => {
                ob.push(op);
            }
            None => misses += 1,
        }
    }
    let mut operations = ob.ops;
    let all_vols: Vec<(usize, Vol, Region)> = ob
        .vols
        .iter()
        .enumerate()
        .flat_map(|(i, vs)| vs.iter().map(move |v| (i, *v, vol_bbox(v))))
        .collect();

    // Entities.
    let n = cfg.entities;
    let n_pacific = if n >= 10 { (n / 30).max(2) } else { 0 };
    let n_arctic = if n >= 10 { (n / 50).max(1) } else { 0 };
    let mut entities = Vec::with_capacity(n);
    for idx in 0..n {
        let mut rng = rng_for(cfg.seed, 1000 + idx as u64);
        let special = if specials && idx == 0 {
            own_op.map(|o| (o, true))
        } else if specials && idx == 1 {
            track_op.map(|o| (o, false))
        } else {
            None
        };
        let mut plan = match special {
            Some((o, true)) => own_track_plan(&operations[o], idx),
            Some((o, false)) => crossing_plan(&operations[o], idx, span, &all_vols, o, &mut rng),
            None => {
                let group = if idx < 2 + n_pacific && idx >= 2 {
                    1
                } else if idx >= 2 + n_pacific && idx < 2 + n_pacific + n_arctic {
                    2
                } else {
                    0
                };
                random_plan(idx, group, span, &all_vols, &mut rng)
            }
        };
        schedule(&mut plan, interval_ms, &mut rng);
        if special.is_some() {
            // The planted crossing and the own-track trap must hold: no silence over them.
            plan.gaps.clear();
            plan.gap_idx.clear();
        }
        plan.hash = splitmix(cfg.seed ^ splitmix(5000 + idx as u64));
        entities.push(plan);
    }
    if let Some(o) = own_op {
        operations[o].own_tracks = vec![entities[0].id.clone()];
        traps.push(Trap {
            operation: operations[o].id.clone(),
            with: entities[0].id.clone(),
            why: "the entity flies the operation's route, but is listed in its own_tracks".into(),
        });
    }
    if let Some(o) = track_op {
        planted.push(PlantedConflict {
            operation: operations[o].id.clone(),
            kind: "track",
            with: entities[1].id.clone(),
            why: "a red jet crosses the first leg at its midpoint, at the planned time, inside the altitude band".into(),
        });
    }
    Scenario {
        config: cfg.clone(),
        span,
        entities,
        zone_names: zones.iter().map(|p| (p.zone.id.clone(), p.name)).collect(),
        zones: zones.into_iter().map(|p| p.zone).collect(),
        operations,
        planted,
        traps,
    }
}

fn sides_for(rng: &mut ChaCha8Rng) -> &'static str {
    match rng.gen_range(0..100) {
        0..40 => "blue",
        40..65 => "red",
        65..85 => "green",
        _ => "orange",
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "a generator step takes the whole planning context"
)]
fn new_plan(
    idx: usize,
    side: &str,
    kind: EntityKind,
    speed: f64,
    alt_known: bool,
    start: i64,
    end: i64,
    fixes: Vec<Fix>,
) -> EntityPlan {
    EntityPlan {
        id: format!("{}-{}{:04}", side.to_uppercase(), kind.letter(), idx + 1),
        side: side.to_owned(),
        kind,
        speed_mps: speed,
        alt_known,
        start: Timestamp(start),
        end: Timestamp(end),
        gaps: Vec::new(),
        fixes,
        interval_ms: 1000,
        jitter_ms: 0,
        n: 0,
        gap_idx: Vec::new(),
        hash: 0,
    }
}

fn random_plan(
    idx: usize,
    group: u8,
    span: TimeRange,
    vols: &[(usize, Vol, Region)],
    rng: &mut ChaCha8Rng,
) -> EntityPlan {
    let side = sides_for(rng);
    let kind = if group > 0 {
        if rng.gen_bool(0.5) {
            EntityKind::Transport
        } else {
            EntityKind::FastJet
        }
    } else {
        match rng.gen_range(0..100) {
            0..35 => EntityKind::FastJet,
            35..50 => EntityKind::Transport,
            50..75 => EntityKind::Helicopter,
            _ => EntityKind::Drone,
        }
    };
    let alt_known = !(kind == EntityKind::Drone && rng.gen_bool(0.3));
    let len = span.end.0 - span.start.0;
    let min_len = (len / 5).max(60_000).min(len);
    let (mut t0, mut t1) = (span.start.0, span.end.0);
    if group == 0 {
        if rng.gen_bool(0.5) {
            t0 += (len as f64 * rng.gen_range(0.0..0.3)) as i64;
        }
        if rng.gen_bool(0.5) {
            t1 -= (len as f64 * rng.gen_range(0.0..0.3)) as i64;
        }
        if t1 - t0 < min_len {
            t1 = (t0 + min_len).min(span.end.0);
            t0 = t1 - min_len;
        }
    }
    let (smin, smax) = kind.speed_range();
    let speed = rng.gen_range(smin..smax);
    let dur = (t1 - t0) as f64 / 1000.0;
    let region = match group {
        1 => PACIFIC,
        2 => ARCTIC,
        _ => THEATRE,
    };
    let mut fallback = None;
    for attempt in 0..26 {
        let region = if attempt == 25 { FALLBACK } else { region };
        let mut wps = build_route(kind, region, speed, dur, rng);
        if group == 1 {
            // Start just west of the antimeridian, heading east across it.
            let p = (rng.gen_range(179.5..179.85), rng.gen_range(18.0..28.0));
            let q = dest(p, rng.gen_range(70.0..110.0), rng.gen_range(60e3..120e3));
            wps.insert(
                0,
                Wp {
                    p,
                    alt: wps[0].alt,
                    corner: false,
                },
            );
            wps.insert(
                1,
                Wp {
                    p: q,
                    alt: wps[0].alt,
                    corner: false,
                },
            );
            wps[2].p = dest(q, bearing(p, q), 20e3);
        }
        let plan = new_plan(
            idx,
            side,
            kind,
            speed,
            alt_known,
            t0,
            t1,
            timed_fixes(&wps, speed, t0),
        );
        if group > 0 || !entity_hits(&plan, vols, None) {
            return plan;
        }
        fallback = Some(plan);
    }
    fallback.expect("at least one attempt")
}

fn own_track_plan(op: &Operation, idx: usize) -> EntityPlan {
    let alt = (op.altitude_m.0 + op.altitude_m.1) / 2.0;
    let (w, last) = (op.window, op.route.len().saturating_sub(1).max(1) as i64);
    let mut fixes: Vec<Fix> = op
        .route
        .iter()
        .enumerate()
        .map(|(i, p)| Fix {
            // an untimed route (never generated) is flown evenly over the window
            t: p.time
                .map_or(w.start.0 + (w.end.0 - w.start.0) * i as i64 / last, |t| t.0),
            v: to_vec((p.lon, p.lat)),
            alt,
            omega: 0.0,
            inv_sin: 0.0,
        })
        .collect();
    finish_fixes(&mut fixes);
    let d: f64 = op
        .route
        .windows(2)
        .map(|w| dist((w[0].lon, w[0].lat), (w[1].lon, w[1].lat)))
        .sum();
    let speed = d / ((op.window.end.0 - op.window.start.0) as f64 / 1000.0);
    new_plan(
        idx,
        "blue",
        EntityKind::Transport,
        speed,
        true,
        op.window.start.0,
        op.window.end.0,
        fixes,
    )
}

fn crossing_plan(
    op: &Operation,
    idx: usize,
    span: TimeRange,
    vols: &[(usize, Vol, Region)],
    o: usize,
    rng: &mut ChaCha8Rng,
) -> EntityPlan {
    let (a, b) = (
        (op.route[0].lon, op.route[0].lat),
        (op.route[1].lon, op.route[1].lat),
    );
    let x = midpoint(a, b);
    let tx = {
        let (t0, t1) = leg_times(op, 0);
        (t0 + t1) / 2
    };
    let alt = (op.altitude_m.0 + op.altitude_m.1) / 2.0;
    let speed = rng.gen_range(210.0..240.0);
    let half = 480_000;
    let mut last = None;
    for _ in 0..20 {
        let h =
            bearing(x, b) + rng.gen_range(60.0..120.0) * if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
        let d = speed * half as f64 / 1000.0;
        let wps = [
            Wp {
                p: dest(x, h + 180.0, d),
                alt,
                corner: false,
            },
            Wp {
                p: x,
                alt,
                corner: false,
            },
            Wp {
                p: dest(x, h, d),
                alt,
                corner: false,
            },
        ];
        let mut fixes: Vec<Fix> = wps
            .iter()
            .zip([tx - half, tx, tx + half])
            .map(|(w, t)| Fix {
                t,
                v: to_vec(w.p),
                alt: w.alt,
                omega: 0.0,
                inv_sin: 0.0,
            })
            .collect();
        finish_fixes(&mut fixes);
        let plan = new_plan(
            idx,
            "red",
            EntityKind::FastJet,
            speed,
            true,
            (tx - half).max(span.start.0),
            (tx + half).min(span.end.0),
            fixes,
        );
        if !entity_hits(&plan, vols, Some(o)) {
            return plan;
        }
        last = Some(plan);
    }
    last.expect("at least one attempt")
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn push_i64(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    push_u64(buf, v.unsigned_abs());
}

/// Fixed-point `v / 10^scale` with trailing zeros trimmed (as `model::write_e7`).
fn push_fixed(buf: &mut Vec<u8>, v: i64, scale: u32) {
    let p = 10u64.pow(scale);
    let a = v.unsigned_abs();
    if v < 0 {
        buf.push(b'-');
    }
    push_u64(buf, a / p);
    let mut frac = a % p;
    if frac != 0 {
        let mut digits = scale;
        while frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
        buf.push(b'.');
        let start = buf.len();
        push_u64(buf, frac);
        let written = (buf.len() - start) as u32;
        for _ in written..digits {
            buf.insert(start, b'0');
        }
    }
}

/// RFC 3339 writer caching the date part.
#[derive(Default)]
struct Rfc3339 {
    day: Option<i64>,
    prefix: Vec<u8>,
}

impl Rfc3339 {
    fn push(&mut self, buf: &mut Vec<u8>, ms: i64) {
        let day = ms.div_euclid(86_400_000);
        if self.day != Some(day) {
            let s = Timestamp(day * 86_400_000).to_string();
            self.prefix = s.as_bytes()[..s.len() - 13].to_vec();
            self.day = Some(day);
        }
        buf.extend_from_slice(&self.prefix);
        let r = ms.rem_euclid(86_400_000);
        let (h, m, s, f) = (r / 3_600_000, r / 60_000 % 60, r / 1000 % 60, r % 1000);
        buf.extend_from_slice(&[
            b'0' + (h / 10) as u8,
            b'0' + (h % 10) as u8,
            b':',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
            b':',
            b'0' + (s / 10) as u8,
            b'0' + (s % 10) as u8,
            b'.',
            b'0' + (f / 100) as u8,
            b'0' + (f / 10 % 10) as u8,
            b'0' + (f % 10) as u8,
            b'Z',
        ]);
    }
}

fn json_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(serde_json::to_string(s).unwrap_or_default().as_bytes());
}

const FLUSH_AT: usize = 1 << 20;

impl Scenario {
    /// Every report, streamed in global time order (ties broken by entity number); each
    /// position is computed on the fly from the plan and quantised exactly as written
    /// (1e-7 degree, 0.1 m).
    pub fn reports(&self) -> impl Iterator<Item = Report> + '_ {
        Merge::new(self).map(move |r| raw_to_report(self, r))
    }

    /// Every report, entity by entity (each in time order); cheaper than [`Scenario::reports`].
    pub fn reports_by_entity(&self) -> impl Iterator<Item = Report> + '_ {
        self.entities.iter().enumerate().flat_map(move |(i, p)| {
            let mut c = p.cursor(i as u32);
            std::iter::from_fn(move || c.next_raw()).map(move |r| raw_to_report(self, r))
        })
    }

    /// Number of reports [`Scenario::reports`] yields, computed without generating them.
    pub fn report_count(&self) -> u64 {
        self.entities.iter().map(EntityPlan::report_count).sum()
    }

    /// Writes `tracks.csv` (header `id,side,time,lon,lat,alt`, time in epoch ms, global time
    /// order); returns the number of rows.
    pub fn write_tracks_csv(&self, w: impl Write) -> io::Result<u64> {
        self.write_tracks_csv_with(w, TimeFormat::EpochMs)
    }

    /// Writes the tracks CSV with the chosen time format; returns the number of rows.
    pub fn write_tracks_csv_with(&self, mut w: impl Write, fmt: TimeFormat) -> io::Result<u64> {
        let prefixes: Vec<Vec<u8>> = self
            .entities
            .iter()
            .map(|p| format!("{},{},", p.id, p.side).into_bytes())
            .collect();
        let mut buf = Vec::with_capacity(FLUSH_AT + 256);
        buf.extend_from_slice(b"id,side,time,lon,lat,alt\n");
        let mut rfc = Rfc3339::default();
        let mut n = 0u64;
        for r in Merge::new(self) {
            buf.extend_from_slice(&prefixes[r.ent as usize]);
            match fmt {
                TimeFormat::EpochMs => push_i64(&mut buf, r.t),
                TimeFormat::Rfc3339 => rfc.push(&mut buf, r.t),
            }
            buf.push(b',');
            push_fixed(&mut buf, i64::from(r.lon_e7), 7);
            buf.push(b',');
            push_fixed(&mut buf, i64::from(r.lat_e7), 7);
            buf.push(b',');
            if let Some(a) = r.alt_dm {
                push_fixed(&mut buf, i64::from(a), 1);
            }
            buf.push(b'\n');
            n += 1;
            if buf.len() >= FLUSH_AT {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)?;
        w.flush()?;
        Ok(n)
    }

    /// Writes the tracks as NDJSON `{"id","side","time","lon","lat","alt"}` (RFC 3339 times,
    /// `alt` null when unknown), global time order; returns the number of lines.
    pub fn write_tracks_ndjson(&self, mut w: impl Write) -> io::Result<u64> {
        let prefixes: Vec<Vec<u8>> = self
            .entities
            .iter()
            .map(|p| {
                let mut b = b"{\"id\":".to_vec();
                json_str(&mut b, &p.id);
                b.extend_from_slice(b",\"side\":");
                json_str(&mut b, &p.side);
                b.extend_from_slice(b",\"time\":\"");
                b
            })
            .collect();
        let mut buf = Vec::with_capacity(FLUSH_AT + 256);
        let mut rfc = Rfc3339::default();
        let mut n = 0u64;
        for r in Merge::new(self) {
            buf.extend_from_slice(&prefixes[r.ent as usize]);
            rfc.push(&mut buf, r.t);
            buf.extend_from_slice(b"\",\"lon\":");
            push_fixed(&mut buf, i64::from(r.lon_e7), 7);
            buf.extend_from_slice(b",\"lat\":");
            push_fixed(&mut buf, i64::from(r.lat_e7), 7);
            buf.extend_from_slice(b",\"alt\":");
            match r.alt_dm {
                Some(a) => push_fixed(&mut buf, i64::from(a), 1),
                None => buf.extend_from_slice(b"null"),
            }
            buf.extend_from_slice(b"}\n");
            n += 1;
            if buf.len() >= FLUSH_AT {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)?;
        w.flush()?;
        Ok(n)
    }

    /// The zones as a GeoJSON FeatureCollection, each with its human `name` as an extra
    /// property.
    pub fn zones_geojson(&self) -> Value {
        feature_collection(self.zones.iter().map(|z| {
            let mut extra = Map::new();
            if let Some(name) = self.zone_names.get(&z.id) {
                extra.insert("name".into(), (*name).into());
            }
            zone_to_feature_with(z, extra)
        }))
    }

    /// Writes the operations as NDJSON, one per line; returns the number written.
    pub fn operations_ndjson(&self, mut w: impl Write) -> io::Result<u64> {
        for op in &self.operations {
            serde_json::to_writer(&mut w, &operation_to_json(op))?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
        Ok(self.operations.len() as u64)
    }
}

/// Builds the scenario and writes `tracks.csv`, `zones.geojson` and `operations.ndjson` into
/// `out_dir` (created when missing).
pub fn generate(cfg: &GenConfig, out_dir: &Path) -> io::Result<GenSummary> {
    std::fs::create_dir_all(out_dir)?;
    let s = scenario(cfg);
    let tracks_csv = out_dir.join("tracks.csv");
    let zones_geojson = out_dir.join("zones.geojson");
    let operations_ndjson = out_dir.join("operations.ndjson");
    let reports = s.write_tracks_csv(std::fs::File::create(&tracks_csv)?)?;
    let mut zw = BufWriter::new(std::fs::File::create(&zones_geojson)?);
    serde_json::to_writer_pretty(&mut zw, &s.zones_geojson())?;
    zw.write_all(b"\n")?;
    zw.flush()?;
    let operations =
        s.operations_ndjson(BufWriter::new(std::fs::File::create(&operations_ndjson)?))? as usize;
    Ok(GenSummary {
        entities: s.entities.len(),
        reports,
        zones: s.zones.len(),
        operations,
        planted: s.planted.len(),
        span: s.span,
        tracks_csv,
        zones_geojson,
        operations_ndjson,
    })
}

#[cfg(test)]
mod tests;
