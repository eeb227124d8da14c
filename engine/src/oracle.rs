//! Brute-force deconfliction answers, for tests and benchmarks only.
//!
//! Independent of the engine's geometry shortcuts (no boxes, no local frames, no kernel
//! root finders, no segment filters): trajectories are interpolated here from the contract's
//! words, every entity × every piece × every volume is examined, and distances come from
//! geographiclib alone (`Direct` to walk a leg or an edge, `Inverse` to measure) by dense
//! sampling refined with golden-section search and bisection.
//!
//! **Tolerance band.** Each answer can be computed with a *slack* `s ∈ {-1, 0, +1}`: every
//! distance threshold `T` (track: `horizontal_m + buffer`; operation: `horizontal_m + both
//! buffers`; zone: the volume's buffer; vertical: `vertical_m`) becomes
//! `T + s · (10⁻³ · T + 1 mm)` and every time buffer becomes `time_buffer + s` ms. The
//! contract is met when `answer(−1) ⊆ engine ⊆ answer(+1)` (conflicts, and their intervals
//! within ±1 ms), and min distances agree with `answer(0)` within `max(1 m, 10⁻³ · T)`.
//! `max_gap` and `lead_time` are exact (integer milliseconds).
//!
//! Assumptions: on each sampled interval the distance has its least value near a sample
//! (48 samples per piece, refined), which holds for the distances (≪ 1000 km) tested.

use std::collections::BTreeMap;

use geographiclib_rs::{DirectGeodesic, InverseGeodesic};

use crate::geodesy::wgs84;
use crate::model::{
    Minima, Operation, Report, Zone, ZoneKind, ZoneShape, alt_from_mm, alt_to_mm, deg_from_e7,
    deg_to_e7,
};

/// One report, as stored (1e-7 degree, millimetre).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OFix {
    /// Unix ms.
    pub t: i64,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// Altitude, `None` when unknown.
    pub alt: Option<f64>,
}

impl OFix {
    /// The fix the engine stores for `r`.
    pub fn stored(r: &Report) -> OFix {
        OFix {
            t: r.time.0,
            lon: deg_from_e7(deg_to_e7(r.lon)),
            lat: deg_from_e7(deg_to_e7(r.lat)),
            alt: alt_from_mm(alt_to_mm(r.alt)),
        }
    }
}

/// A conflict found by the oracle: `(kind, with)` keyed, intervals in continuous ms.
#[derive(Debug, Clone, PartialEq)]
pub struct OConflict {
    /// Kind name (contract).
    pub kind: &'static str,
    /// Other id ("" for lead_time / target_area).
    pub with: String,
    /// Intervals (sorted, merged when ≤ 1 ms apart).
    pub intervals: Vec<(f64, f64)>,
    /// Least footprint distance (metres), when one applies.
    pub distance_m: Option<f64>,
}

/// An oracle episode.
#[derive(Debug, Clone, PartialEq)]
pub struct OEpisode {
    /// First id.
    pub a: String,
    /// Second id.
    pub b: String,
    /// Start (ms, continuous).
    pub start: f64,
    /// End.
    pub end: f64,
    /// Least distance.
    pub min_distance_m: f64,
    /// When.
    pub cpa: f64,
}

/// The data an index holds, as plain values.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// Reports per entity id (any order; duplicates of `(id, time)` keep the first).
    pub tracks: BTreeMap<String, Vec<OFix>>,
    /// Zones (latest version of each id).
    pub zones: Vec<Zone>,
    /// Indexed operations (latest version of each id).
    pub operations: Vec<Operation>,
}

/// `T + s · (1e-3 · T + 1 mm)`.
pub fn slack(t: f64, s: f64) -> f64 {
    t + s * (1e-3 * t.abs() + 1e-3)
}

// ---------------------------------------------------------------------------------------------
// Geometry by sampling
// ---------------------------------------------------------------------------------------------

fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    wgs84().inverse(a.1, a.0, b.1, b.0)
}

/// Least of `f` on `[lo, hi]`: `n` samples, then golden section around the best.
fn minimize(f: &mut dyn FnMut(f64) -> f64, lo: f64, hi: f64, n: usize, tol: f64) -> (f64, f64) {
    if hi <= lo {
        return (lo, f(lo));
    }
    let xs: Vec<f64> = (0..=n)
        .map(|i| lo + (hi - lo) * i as f64 / n as f64)
        .collect();
    let ys: Vec<f64> = xs.iter().map(|&x| f(x)).collect();
    let mut best = 0;
    for i in 1..=n {
        if ys[i] < ys[best] {
            best = i;
        }
    }
    let (mut a, mut b) = (xs[best.saturating_sub(1)], xs[(best + 1).min(n)]);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    let mut iters = 0;
    while b - a > tol && iters < 200 {
        iters += 1;
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    let mut out = if fc < fd { (c, fc) } else { (d, fd) };
    if ys[best] < out.1 {
        out = (xs[best], ys[best]);
    }
    out
}

/// A geodesic from `a` to `b`: `(length, azimuth at a)`.
fn geodesic(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (s12, azi1, _azi2, _a12): (f64, f64, f64, f64) = wgs84().inverse(a.1, a.0, b.1, b.0);
    (s12, azi1)
}

fn walk(a: (f64, f64), azi: f64, s: f64) -> (f64, f64) {
    let (lat, lon): (f64, f64) = wgs84().direct(a.1, a.0, azi, s);
    (lon, lat)
}

/// Least distance from `p` to the geodesic leg `a`→`b`.
pub fn point_to_leg(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (len, azi) = geodesic(a, b);
    if len == 0.0 {
        return dist(p, a);
    }
    minimize(&mut |s| dist(p, walk(a, azi, s)), 0.0, len, 12, 1e-5).1
}

/// A point on a zone edge, straight in lon/lat (coordinates as given).
fn on_edge(a: (f64, f64), b: (f64, f64), u: f64) -> (f64, f64) {
    (a.0 + u * (b.0 - a.0), a.1 + u * (b.1 - a.1))
}

fn point_to_edge(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let len = dist(a, b).max(1.0);
    minimize(&mut |u| dist(p, on_edge(a, b, u)), 0.0, 1.0, 12, 1e-5 / len).1
}

/// Even-odd point in rings, plane lon/lat (boundary counts as inside within 1e-12°).
fn in_rings(rings: &[Vec<(f64, f64)>], p: (f64, f64)) -> bool {
    let mut inside = false;
    for ring in rings {
        for w in ring.windows(2) {
            let (a, b) = (w[0], w[1]);
            if (a.1 > p.1) != (b.1 > p.1) {
                let x = a.0 + (p.1 - a.1) / (b.1 - a.1) * (b.0 - a.0);
                if p.0 < x {
                    inside = !inside;
                }
            }
        }
    }
    inside
}

fn zone_contains(z: &Zone, p: (f64, f64)) -> bool {
    match &z.shape {
        ZoneShape::Circle { center, radius_m } => dist(p, *center) <= *radius_m,
        ZoneShape::Polygons(ps) => ps.iter().any(|rings| in_rings(rings, p)),
    }
}

/// Distance from `p` to the zone (0 inside).
fn point_to_zone(z: &Zone, p: (f64, f64)) -> f64 {
    match &z.shape {
        ZoneShape::Circle { center, radius_m } => (dist(p, *center) - radius_m).max(0.0),
        ZoneShape::Polygons(ps) => {
            if ps.iter().any(|rings| in_rings(rings, p)) {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for rings in ps {
                for ring in rings {
                    for w in ring.windows(2) {
                        // cheap exclusion: no point of the edge is nearer than this
                        let lb = dist(p, w[0]).min(dist(p, w[1])) - dist(w[0], w[1]) * 1.01 - 1.0;
                        if lb < best {
                            best = best.min(point_to_edge(p, w[0], w[1]));
                        }
                    }
                }
            }
            best
        }
    }
}

/// A volume's core.
#[derive(Debug, Clone, Copy)]
enum OCore {
    Point((f64, f64)),
    Leg((f64, f64), (f64, f64)),
}

impl OCore {
    fn dist_to(&self, p: (f64, f64)) -> f64 {
        match *self {
            OCore::Point(q) => dist(p, q),
            OCore::Leg(a, b) => point_to_leg(p, a, b),
        }
    }
    /// A centre and a radius containing the core (for exclusion only).
    fn ball(&self) -> ((f64, f64), f64) {
        match *self {
            OCore::Point(q) => (q, 0.0),
            OCore::Leg(a, b) => {
                let (len, azi) = geodesic(a, b);
                (walk(a, azi, len / 2.0), len / 2.0 * 1.0001 + 0.01)
            }
        }
    }
    /// Least distance to another core.
    fn dist_core(&self, o: &OCore) -> f64 {
        match (*self, *o) {
            (OCore::Point(p), _) => o.dist_to(p),
            (_, OCore::Point(q)) => self.dist_to(q),
            (OCore::Leg(a, b), OCore::Leg(..)) => {
                let (len, azi) = geodesic(a, b);
                minimize(&mut |s| o.dist_to(walk(a, azi, s)), 0.0, len, 48, 1e-4).1
            }
        }
    }
    /// Least distance to a zone (0 when any of it is inside).
    fn dist_zone(&self, z: &Zone) -> f64 {
        match *self {
            OCore::Point(p) => point_to_zone(z, p),
            OCore::Leg(a, b) => {
                if let ZoneShape::Circle { center, radius_m } = &z.shape {
                    return (self.dist_to(*center) - radius_m).max(0.0);
                }
                let (len, azi) = geodesic(a, b);
                let n = 96;
                for i in 0..=n {
                    if point_to_zone(z, walk(a, azi, len * i as f64 / n as f64)) == 0.0 {
                        return 0.0;
                    }
                }
                minimize(
                    &mut |s| point_to_zone(z, walk(a, azi, s)),
                    0.0,
                    len,
                    n,
                    1e-4,
                )
                .1
            }
        }
    }
}

#[derive(Debug, Clone)]
struct OVolume {
    core: OCore,
    buffer: f64,
    band: (f64, f64),
    window: (i64, i64),
}

fn volumes(op: &Operation) -> Vec<OVolume> {
    let mut out = Vec::new();
    let w = (op.window.start.0, op.window.end.0);
    let band = op.altitude_m;
    let timed = op.route.iter().all(|p| p.time.is_some());
    if op.route.len() == 1 {
        let p = op.route[0];
        out.push(OVolume {
            core: OCore::Point((p.lon, p.lat)),
            buffer: op.corridor_m,
            band,
            window: p.time.map_or(w, |t| (t.0, t.0)),
        });
    }
    for pair in op.route.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        out.push(OVolume {
            core: OCore::Leg((a.lon, a.lat), (b.lon, b.lat)),
            buffer: op.corridor_m,
            band,
            window: if timed {
                (a.time.unwrap().0, b.time.unwrap().0)
            } else {
                w
            },
        });
    }
    out.push(OVolume {
        core: OCore::Point((op.target.lon, op.target.lat)),
        buffer: op.target.radius_m,
        band,
        window: w,
    });
    out
}

// ---------------------------------------------------------------------------------------------
// Trajectories
// ---------------------------------------------------------------------------------------------

/// Reports sorted by time, a repeated time keeping the first.
pub fn trajectory(fixes: &[OFix]) -> Vec<OFix> {
    let mut v = fixes.to_vec();
    v.sort_by_key(|f| f.t); // stable: first of equal times first
    v.dedup_by_key(|f| f.t);
    v
}

/// Position between two fixes, per the contract (lon the short way; unknown alt stays unknown).
pub fn interpolate(a: &OFix, b: &OFix, t: f64) -> OFix {
    if b.t == a.t {
        return *a;
    }
    let f = ((t - a.t as f64) / (b.t - a.t) as f64).clamp(0.0, 1.0);
    let mut d = b.lon - a.lon;
    if d > 180.0 {
        d -= 360.0;
    } else if d < -180.0 {
        d += 360.0;
    }
    OFix {
        t: t.round() as i64,
        lon: a.lon + f * d, // may leave [-180, 180]: geographiclib does not mind
        lat: a.lat + f * (b.lat - a.lat),
        alt: match (a.alt, b.alt) {
            (Some(x), Some(y)) => Some(x + f * (y - x)),
            _ => None,
        },
    }
}

/// Position at `t`, or `None` (in a long gap, or outside the reports).
pub fn position(traj: &[OFix], t: f64, max_gap_ms: i64) -> Option<OFix> {
    let i = traj.partition_point(|f| (f.t as f64) < t);
    if let Some(f) = traj.get(i).filter(|f| f.t as f64 == t) {
        return Some(*f);
    }
    let (a, b) = (traj.get(i.checked_sub(1)?)?, traj.get(i)?);
    (b.t - a.t <= max_gap_ms).then(|| interpolate(a, b, t))
}

/// Pieces: consecutive reports at most `max_gap` apart, and lone reports.
fn pieces(traj: &[OFix], max_gap_ms: i64) -> Vec<(OFix, OFix)> {
    let mut out = Vec::new();
    for (i, f) in traj.iter().enumerate() {
        let before = i > 0 && f.t - traj[i - 1].t <= max_gap_ms;
        match traj.get(i + 1) {
            Some(n) if n.t - f.t <= max_gap_ms => out.push((*f, *n)),
            _ if !before => out.push((*f, *f)),
            _ => {}
        }
    }
    out
}

/// Sub-interval of `[t0, t1]` where `v(t)` (linear through `(ta, va)`, `(tb, vb)`) lies strictly
/// inside `(lo, hi)`.
fn linear_open(
    a: (f64, f64),
    b: (f64, f64),
    (t0, t1): (f64, f64),
    (lo, hi): (f64, f64),
) -> Option<(f64, f64)> {
    let at = |t: f64| {
        if b.0 == a.0 {
            a.1
        } else {
            a.1 + (b.1 - a.1) * (t - a.0) / (b.0 - a.0)
        }
    };
    let inside = |v: f64| lo < v && v < hi;
    if b.0 == a.0 || a.1 == b.1 {
        return inside(a.1).then_some((t0, t1));
    }
    let tl = a.0 + (lo - a.1) * (b.0 - a.0) / (b.1 - a.1);
    let th = a.0 + (hi - a.1) * (b.0 - a.0) / (b.1 - a.1);
    let (s, e) = (tl.min(th).max(t0), tl.max(th).min(t1));
    if s < e {
        Some((s, e))
    } else if t0 == t1 && inside(at(t0)) {
        Some((t0, t1))
    } else {
        None
    }
}

/// Where `f < thr` on `[v0, v1]`: intervals, least value and where.
fn below(f: &mut dyn FnMut(f64) -> f64, v0: f64, v1: f64, thr: f64) -> (Vec<(f64, f64)>, f64, f64) {
    if v1 <= v0 {
        let y = f(v0);
        return (if y < thr { vec![(v0, v0)] } else { vec![] }, y, v0);
    }
    let n = 48;
    let (tm, ym) = minimize(f, v0, v1, n, 1e-3);
    if ym >= thr {
        return (vec![], ym, tm);
    }
    let mut xs: Vec<f64> = (0..=n)
        .map(|i| v0 + (v1 - v0) * i as f64 / n as f64)
        .collect();
    xs.push(tm);
    xs.sort_by(f64::total_cmp);
    let ys: Vec<f64> = xs.iter().map(|&x| f(x)).collect();
    let mut out = Vec::new();
    let mut start: Option<f64> = None;
    let bisect = |f: &mut dyn FnMut(f64) -> f64, mut inn: f64, mut out: f64| {
        while (inn - out).abs() > 1e-3 {
            let m = (inn + out) / 2.0;
            if f(m) < thr { inn = m } else { out = m }
        }
        inn
    };
    for i in 0..xs.len() {
        let neg = ys[i] < thr;
        match (start, neg) {
            (None, true) => {
                start = Some(if i == 0 {
                    xs[0]
                } else {
                    bisect(f, xs[i], xs[i - 1])
                })
            }
            (Some(s), false) => {
                out.push((s, bisect(f, xs[i - 1], xs[i])));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, v1));
    }
    (out, ym, tm)
}

fn merge(mut iv: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    iv.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (s, e) in iv {
        match out.last_mut() {
            Some(l) if s <= l.1 + 1.0 => l.1 = l.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------------------------

/// Intervals and least distance found so far for one `(kind, with)`.
type Found = (Vec<(f64, f64)>, Option<f64>);

fn band_gap(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.1).max(b.0 - a.1) // negative when they overlap
}

fn zone_band(z: &Zone) -> (f64, f64) {
    (
        z.alt_min.unwrap_or(f64::NEG_INFINITY),
        z.alt_max.unwrap_or(f64::INFINITY),
    )
}

fn overlap(a: (i64, i64), b: (i64, i64)) -> Option<(f64, f64)> {
    let (s, e) = (a.0.max(b.0), a.1.min(b.1));
    (s <= e).then_some((s as f64, e as f64))
}

/// Checks `plan` like `Snapshot::check_batch` (each operation against the world and the other
/// operations of the plan; plan ids supersede indexed ones). `s` is the slack (see module docs).
/// Returns, per plan operation, its conflicts sorted by kind then `with`.
pub fn check(world: &World, plan: &[Operation], m: &Minima, s: f64) -> Vec<Vec<OConflict>> {
    let trajs: BTreeMap<&str, Vec<OFix>> = world
        .tracks
        .iter()
        .map(|(k, v)| (k.as_str(), trajectory(v)))
        .collect();
    let mut others: Vec<&Operation> = world
        .operations
        .iter()
        .filter(|o| plan.iter().all(|p| p.id != o.id))
        .collect();
    others.extend(plan.iter());
    let tb = m.time_buffer_ms + s as i64;
    plan.iter()
        .map(|op| {
            let vols = volumes(op);
            let mut found: BTreeMap<(&'static str, String), Found> = BTreeMap::new();
            let mut add = |kind: &'static str, with: &str, iv: Vec<(f64, f64)>, d: Option<f64>| {
                if iv.is_empty() {
                    return;
                }
                let e = found
                    .entry((kind, with.to_owned()))
                    .or_insert((vec![], None));
                e.0.extend(iv);
                if let Some(d) = d {
                    e.1 = Some(e.1.map_or(d, |x: f64| x.min(d)));
                }
            };
            // tracks
            for (id, traj) in &trajs {
                if op.own_tracks.iter().any(|o| o == id) {
                    continue;
                }
                let ps = pieces(traj, m.max_gap_ms);
                for v in &vols {
                    let thr = slack(m.horizontal_m + v.buffer, s);
                    let vt = slack(m.vertical_m, s);
                    let (w0, w1) = (v.window.0 - tb, v.window.1 + tb);
                    let (ball_c, ball_r) = v.core.ball();
                    for (a, b) in &ps {
                        let (t0, t1) = (a.t.max(w0), b.t.min(w1));
                        if t0 > t1 {
                            continue;
                        }
                        let (t0, t1) = (t0 as f64, t1 as f64);
                        let vi = match (a.alt, b.alt) {
                            (Some(x), Some(y)) => linear_open(
                                (a.t as f64, x),
                                (b.t as f64, y),
                                (t0, t1),
                                (v.band.0 - vt, v.band.1 + vt),
                            ),
                            _ => Some((t0, t1)),
                        };
                        let Some((v0, v1)) = vi else { continue };
                        // exclusion: the piece stays within `reach` of its middle
                        let mid = interpolate(a, b, (v0 + v1) / 2.0);
                        let (p0, p1) = (interpolate(a, b, v0), interpolate(a, b, v1));
                        let mut reach = 0.0f64;
                        let k = 8;
                        let mut prev = p0;
                        for i in 1..=k {
                            let q = interpolate(a, b, v0 + (v1 - v0) * i as f64 / k as f64);
                            reach += dist((prev.lon, prev.lat), (q.lon, q.lat));
                            prev = q;
                        }
                        let _ = p1;
                        if dist((mid.lon, mid.lat), ball_c) - reach * 0.6 - 1.0 - ball_r > thr {
                            continue;
                        }
                        let mut f = |t: f64| {
                            let p = interpolate(a, b, t);
                            v.core.dist_to((p.lon, p.lat))
                        };
                        let (iv, ym, _) = below(&mut f, v0, v1, thr);
                        if !iv.is_empty() {
                            add("track", id, iv, Some((ym - v.buffer).max(0.0)));
                        }
                    }
                }
            }
            // operations
            for other in others.iter().filter(|o| o.id != op.id) {
                for ov in volumes(other) {
                    for v in &vols {
                        let Some(when) = overlap((v.window.0 - tb, v.window.1 + tb), ov.window)
                        else {
                            continue;
                        };
                        if band_gap(v.band, ov.band) >= slack(m.vertical_m, s) {
                            continue;
                        }
                        let thr = slack(m.horizontal_m + v.buffer + ov.buffer, s);
                        let ((c1, r1), (c2, r2)) = (v.core.ball(), ov.core.ball());
                        if dist(c1, c2) - r1 - r2 - 1.0 >= thr {
                            continue;
                        }
                        let d = v.core.dist_core(&ov.core);
                        if d < thr {
                            add(
                                "operation",
                                &other.id,
                                vec![when],
                                Some((d - v.buffer - ov.buffer).max(0.0)),
                            );
                        }
                    }
                }
            }
            // zones
            let target = (op.target.lon, op.target.lat);
            let w = (op.window.start.0, op.window.end.0);
            let (mut areas_valid, mut in_area, mut span): (bool, bool, Option<(f64, f64)>) =
                (false, false, None);
            for z in &world.zones {
                let validity = (z.validity.start.0, z.validity.end.0);
                match z.kind {
                    ZoneKind::Presence => continue,
                    ZoneKind::TargetArea => {
                        if let Some(when) = overlap((w.0 - tb, w.1 + tb), validity) {
                            areas_valid = true;
                            in_area |= zone_contains(z, target);
                            span = Some(span.map_or(when, |x| (x.0.min(when.0), x.1.max(when.1))));
                        }
                        continue;
                    }
                    _ => {}
                }
                for v in &vols {
                    let Some(when) = overlap((v.window.0 - tb, v.window.1 + tb), validity) else {
                        continue;
                    };
                    if band_gap(v.band, zone_band(z)) >= slack(m.vertical_m, s) {
                        continue;
                    }
                    let d = v.core.dist_zone(z);
                    if d <= slack(v.buffer, s) {
                        add("zone", &z.id, vec![when], Some(0.0));
                    }
                }
                if matches!(z.kind, ZoneKind::OffLimits | ZoneKind::Protected)
                    && let Some(when) = overlap((w.0 - tb, w.1 + tb), validity)
                    && zone_contains(z, target)
                {
                    add("zone", &z.id, vec![when], Some(0.0));
                }
            }
            if areas_valid && !in_area {
                add("target_area", "", vec![span.unwrap()], None);
            }
            let deadline = op.window.start.0 - m.lead_time_ms;
            if op.filed_at.0 > deadline {
                add(
                    "lead_time",
                    "",
                    vec![(deadline as f64, op.filed_at.0 as f64)],
                    None,
                );
            }
            found
                .into_iter()
                .map(|((kind, with), (iv, d))| OConflict {
                    kind,
                    with,
                    intervals: merge(iv),
                    distance_m: d,
                })
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Track vs track
// ---------------------------------------------------------------------------------------------

/// Every loss-of-separation episode within `[from, to]`, like `Snapshot::conflicts`, sorted by
/// `(a, b, start)`.
pub fn episodes(world: &World, (from, to): (i64, i64), m: &Minima, s: f64) -> Vec<OEpisode> {
    let h = slack(m.horizontal_m, s);
    let vt = slack(m.vertical_m, s);
    let trajs: Vec<(&String, Vec<(OFix, OFix)>)> = world
        .tracks
        .iter()
        .map(|(k, v)| (k, pieces(&trajectory(v), m.max_gap_ms)))
        .collect();
    let mut out = Vec::new();
    for i in 0..trajs.len() {
        for j in i + 1..trajs.len() {
            let mut raw: Vec<(f64, f64, f64, f64)> = Vec::new();
            for (a0, a1) in &trajs[i].1 {
                for (b0, b1) in &trajs[j].1 {
                    let t0 = a0.t.max(b0.t).max(from);
                    let t1 = a1.t.min(b1.t).min(to);
                    if t0 > t1 {
                        continue;
                    }
                    let (t0, t1) = (t0 as f64, t1 as f64);
                    let (pa, pb) = (interpolate(a0, a1, t0), interpolate(b0, b1, t0));
                    let (qa, qb) = (interpolate(a0, a1, t1), interpolate(b0, b1, t1));
                    let vi = match (pa.alt, pb.alt, qa.alt, qb.alt) {
                        (Some(x0), Some(y0), Some(x1), Some(y1)) => {
                            linear_open((t0, x0 - y0), (t1, x1 - y1), (t0, t1), (-vt, vt))
                        }
                        _ => Some((t0, t1)),
                    };
                    let Some((v0, v1)) = vi else { continue };
                    // exclusion: both move at most their chord lengths (×1.5)
                    let ra = dist((pa.lon, pa.lat), (qa.lon, qa.lat));
                    let rb = dist((pb.lon, pb.lat), (qb.lon, qb.lat));
                    if dist((pa.lon, pa.lat), (pb.lon, pb.lat)) - 1.5 * (ra + rb) - 1.0 > h {
                        continue;
                    }
                    let mut f = |t: f64| {
                        let (p, q) = (interpolate(a0, a1, t), interpolate(b0, b1, t));
                        dist((p.lon, p.lat), (q.lon, q.lat))
                    };
                    let (iv, _, _) = below(&mut f, v0, v1, h);
                    for (x, y) in iv {
                        let (tm, ym) = minimize(&mut f, x, y, 16, 1e-3);
                        raw.push((x, y, ym, tm));
                    }
                }
            }
            raw.sort_by(|x, y| x.0.total_cmp(&y.0));
            let mut cur: Option<OEpisode> = None;
            for (x, y, d, c) in raw {
                match &mut cur {
                    Some(e) if x <= e.end + 1.0 => {
                        e.end = e.end.max(y);
                        if d < e.min_distance_m {
                            e.min_distance_m = d;
                            e.cpa = c;
                        }
                    }
                    _ => {
                        out.extend(cur.take());
                        cur = Some(OEpisode {
                            a: trajs[i].0.clone(),
                            b: trajs[j].0.clone(),
                            start: x,
                            end: y,
                            min_distance_m: d,
                            cpa: c,
                        });
                    }
                }
            }
            out.extend(cur);
        }
    }
    out
}
