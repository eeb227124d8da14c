//! The geometry kernel of the deconfliction: closest approaches between points, track pieces
//! (linear in lon/lat over time), geodesic segments (route legs) and lon/lat-straight edges.
//!
//! Method. Every question is reduced to one-dimensional problems `d(u)`, `u ∈ [0, 1]`, where
//! `d` is a geodesic distance computed by geographiclib and its derivative comes from the
//! azimuths geographiclib returns (envelope theorem), so minima and threshold crossings are
//! found by bracketed Newton / regula falsi to ~1e-12 of the parameter: the values are exact
//! to far below a millimetre. Curves are cut into pieces short compared with their radius of
//! geodesic curvature (≤ 200 km, less near the poles) on which `d` is unimodal. Pieces are
//! discarded first by rigorous bounds (antimeridian-aware boxes widened by the threshold, and a
//! Lipschitz bound `d(u) ≥ d(mid) − speed·|u − mid|`), so a "certainly far" pair costs a few ns
//! (box) or one geodesic evaluation.

use super::frame::{LocalFrame, UBox, meridional_radius, parallel_radius, widen_lat};
use super::{
    Dir, Line, WGS84_F, atan2_small, azimuth, cos_between, distance_m, inverse_dirs, lon_delta,
    sin_cos_small, wrap_lon,
};

/// Distances below this (1 mm) count as touching: "0 when they intersect", and a threshold of
/// 0 is met by touching objects.
pub const TOUCH_M: f64 = 1e-3;

/// Mean Earth radius, used only to shape Newton steps (never for a reported value).
const R_MEAN: f64 = 6_371_008.8;
/// Length of the pieces curves are cut into for unimodality.
const CHUNK_M: f64 = 200_000.0;
/// Length of the sub-geodesics whose boxes prune candidates near long legs.
const SUB_M: f64 = 20_000.0;

/// Two positions: (on the moving object, on the other).
pub(crate) type Pair = ((f64, f64), (f64, f64));

/// State of a curve at a parameter: position, direction (its azimuth's sine and cosine) and
/// speed in metres per unit of parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct St {
    pub lon: f64,
    pub lat: f64,
    pub dir: Dir,
    pub speed: f64,
}

impl St {
    fn pos(&self) -> (f64, f64) {
        (wrap_lon(self.lon), self.lat)
    }
}

/// A curve parametrised on `[0, 1]`.
pub(crate) trait Curve {
    fn at(&self, u: f64) -> St;
    /// Upper bound of the speed (metres per unit parameter).
    fn lipschitz(&self) -> f64;
    fn ubox(&self) -> UBox;
    /// Number of pieces to cut it into for unimodality.
    fn pieces(&self) -> usize;
}

/// A path straight in lon/lat: `(lon0 + u·dlon, lat0 + u·dlat)`; `lon0` may be unwrapped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LonLatLine {
    pub lon0: f64,
    pub lat0: f64,
    pub dlon: f64,
    pub dlat: f64,
}

impl LonLatLine {
    /// From `a` to `b`, longitude the short way.
    pub fn short(a: (f64, f64), b: (f64, f64)) -> LonLatLine {
        LonLatLine {
            lon0: a.0,
            lat0: a.1,
            dlon: lon_delta(a.0, b.0),
            dlat: b.1 - a.1,
        }
    }
    pub fn sub(&self, u0: f64, u1: f64) -> LonLatLine {
        LonLatLine {
            lon0: self.lon0 + u0 * self.dlon,
            lat0: self.lat0 + u0 * self.dlat,
            dlon: (u1 - u0) * self.dlon,
            dlat: (u1 - u0) * self.dlat,
        }
    }
    fn abs_lat_range(&self) -> (f64, f64) {
        let (lo, hi) = (
            self.lat0.min(self.lat0 + self.dlat),
            self.lat0.max(self.lat0 + self.dlat),
        );
        let min_abs = if lo <= 0.0 && hi >= 0.0 {
            0.0
        } else {
            lo.abs().min(hi.abs())
        };
        (min_abs, lo.abs().max(hi.abs()))
    }
    pub fn end(&self) -> (f64, f64) {
        (self.lon0 + self.dlon, self.lat0 + self.dlat)
    }
}

impl Curve for LonLatLine {
    #[inline]
    fn at(&self, u: f64) -> St {
        let lat = self.lat0 + u * self.dlat;
        let east = parallel_radius(lat) * self.dlon.to_radians();
        let north = meridional_radius(lat) * self.dlat.to_radians();
        let speed = east.hypot(north);
        St {
            lon: self.lon0 + u * self.dlon,
            lat,
            // North when standing still (as `atan2(0, 0)` is).
            dir: if speed > 0.0 {
                (east / speed, north / speed)
            } else {
                (0.0, 1.0)
            },
            speed,
        }
    }
    fn lipschitz(&self) -> f64 {
        let (min_abs, max_abs) = self.abs_lat_range();
        (parallel_radius(min_abs) * self.dlon.to_radians().abs())
            .hypot(meridional_radius(max_abs) * self.dlat.to_radians().abs())
            * (1.0 + 1e-9)
    }
    fn ubox(&self) -> UBox {
        UBox::of_points(&[(self.lon0, self.lat0), self.end()])
    }
    fn pieces(&self) -> usize {
        let (_, max_abs) = self.abs_lat_range();
        // Geodesic curvature of a lon/lat-straight line is at most about tan φ / N.
        let rho = if max_abs < 1.0 {
            f64::INFINITY
        } else {
            super::frame::normal_radius(max_abs) / max_abs.to_radians().tan()
        };
        let piece = CHUNK_M.min(rho / 16.0).max(1.0);
        ((self.lipschitz() / piece).ceil() as usize).clamp(1, 100_000)
    }
}

/// A geodesic segment prepared for repeated queries (a route leg, a zone edge of another
/// kind…): its azimuth, length and an antimeridian-aware bounding box are computed once.
///
/// ```
/// use deconflict_engine::geodesy::GeodesicSegment;
/// let leg = GeodesicSegment::new((179.0, 60.0), (-179.0, 60.0)); // across the antimeridian
/// assert!((leg.length_m() - 111_622.0).abs() < 100.0);
/// let c = leg.closest_to((180.0, 60.0));
/// assert!(c.distance_m > 0.0 && c.distance_m < 500.0 && (c.fraction - 0.5).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct GeodesicSegment {
    a: (f64, f64),
    b: (f64, f64),
    /// The direction at `a`.
    dir1: Dir,
    len: f64,
    ubox: UBox,
    /// Boxes of consecutive sub-geodesics of at most `SUB_M` (empty when short).
    subs: Vec<UBox>,
    /// The geodesic's coefficients, computed once: a point along it costs a `direct` without
    /// the set-up.
    line: Box<Line>,
}

impl GeodesicSegment {
    /// The geodesic from `a` to `b` (`(lon, lat)` degrees; the shortest one, not passing a pole
    /// unless it must).
    pub fn new(a: (f64, f64), b: (f64, f64)) -> GeodesicSegment {
        let mut g = GeodesicSegment::bare(a, b);
        if g.len > SUB_M && g.ubox.e - g.ubox.w < 360.0 {
            let k = ((g.len / SUB_M).ceil() as usize).min(512);
            let mut prev = (a, g.dir1);
            g.subs.reserve(k);
            for i in 1..=k {
                let s = g.at(i as f64 / k as f64);
                let cur = ((s.lon, s.lat), s.dir);
                g.subs.push(geodesic_ubox(prev.0, prev.1, cur.0, cur.1));
                prev = cur;
            }
        }
        g
    }

    /// Without the sub-boxes (for one-off queries).
    pub(crate) fn bare(a: (f64, f64), b: (f64, f64)) -> GeodesicSegment {
        let (len, dir1, dir2) = inverse_dirs(a, b);
        GeodesicSegment {
            a,
            b,
            dir1,
            len,
            ubox: geodesic_ubox(a, dir1, b, dir2),
            subs: Vec::new(),
            line: Box::new(Line::new(a, azimuth(dir1))),
        }
    }

    /// True when something in box `o` is certainly at least `t` metres from the segment.
    #[inline]
    pub(crate) fn far_from_box(&self, o: &UBox, t: f64) -> bool {
        if o.far_from(&self.ubox, t) {
            return true;
        }
        if self.subs.is_empty() {
            return false;
        }
        let w = o.widen(t);
        !self.subs.iter().any(|s| w.intersects(s))
    }

    /// Length in metres.
    pub fn length_m(&self) -> f64 {
        self.len
    }

    /// The endpoints.
    pub fn endpoints(&self) -> ((f64, f64), (f64, f64)) {
        (self.a, self.b)
    }

    /// A conservative bounding box of the whole geodesic (its vertex included).
    pub fn bbox(&self) -> super::BBox {
        ubox_to_bbox(&self.ubox)
    }

    /// The point at `fraction` ∈ [0, 1] of its length.
    pub fn point_at(&self, fraction: f64) -> (f64, f64) {
        self.at(fraction).pos()
    }

    /// The least geodesic distance from `p` to this segment; see [`point_to_geodesic_segment`].
    pub fn closest_to(&self, p: (f64, f64)) -> Closest {
        let v0 = initial_fraction(self.a, self.b, p);
        let f = foot(self, p, v0);
        Closest {
            distance_m: f.d,
            point: f.on.pos(),
            fraction: f.v,
        }
    }

    /// The approach of a point moving linearly in lon/lat from `p0` at `t0_ms` to `p1` at
    /// `t1_ms`; see [`moving_point_vs_geodesic_segment`].
    pub fn moving_point_approach(
        &self,
        p0: (f64, f64),
        p1: (f64, f64),
        t0_ms: i64,
        t1_ms: i64,
        threshold_m: f64,
    ) -> Option<Approach> {
        self.moving_point_solve((p0, p1), (t0_ms, t1_ms), threshold_m, Solve::Interval)
    }

    /// [`GeodesicSegment::moving_point_approach`] without searching the interval: the same
    /// `min_distance_m`, `cpa_ms`, `point_on_track` and `point_on_other`, bit for bit (and
    /// `None` in the same cases); `start_ms` and `end_ms` are only the CPA time rounded down
    /// and up. For a caller that knows the interval already.
    pub(crate) fn moving_point_least(
        &self,
        (p0, p1): ((f64, f64), (f64, f64)),
        (t0_ms, t1_ms): (i64, i64),
        threshold_m: f64,
    ) -> Option<Approach> {
        self.moving_point_solve((p0, p1), (t0_ms, t1_ms), threshold_m, Solve::Least)
    }

    fn moving_point_solve(
        &self,
        (p0, p1): ((f64, f64), (f64, f64)),
        (t0_ms, t1_ms): (i64, i64),
        threshold_m: f64,
        solve: Solve,
    ) -> Option<Approach> {
        let t = threshold_m.max(TOUCH_M);
        let track = LonLatLine::short(p0, p1);
        if self.far_from_box(&track.ubox(), t) {
            return None;
        }
        let mut v = initial_fraction(self.a, self.b, p0);
        let f = |u: f64| {
            let s = track.at(u);
            let ft = foot(self, (s.lon, s.lat), v);
            v = ft.v;
            Eval {
                u,
                d: ft.d,
                g: grad_moving(&s, ft.d, ft.dir_at_p),
                x: (s.pos(), ft.on.pos()),
            }
        };
        run_track(f, &track, t0_ms, t1_ms, t, solve)
    }

    /// For a moving point (as [`GeodesicSegment::moving_point_approach`]) known to cross the
    /// threshold once on `[t0_ms, t1_ms]` — its distance `< t` at the end `inside_end`
    /// (`true`: `p1`) and `≥ t` at the other, unimodal in between — the crossing time, rounded
    /// outward (as the approach's interval ends), from the guess `u_guess` ∈ [0, 1]. `None`
    /// when Newton does not settle (then ask `moving_point_approach`).
    pub(crate) fn crossing_ms(
        &self,
        (p0, p1): ((f64, f64), (f64, f64)),
        (t0_ms, t1_ms): (i64, i64),
        threshold_m: f64,
        inside_end: bool,
        u_guess: f64,
    ) -> Option<i64> {
        let track = LonLatLine::short(p0, p1);
        // The last point evaluated and its foot: the next foot starts from where that one moved.
        let mut last: Option<((f64, f64), Foot)> = None;
        let f = |u: f64| {
            let s = track.at(u);
            let p = (s.lon, s.lat);
            let v0 = match &last {
                Some((q, ft)) => ft.guess_for(*q, p),
                None => initial_fraction(self.a, self.b, p),
            };
            let ft = foot(self, p, v0);
            let out = (ft.d, grad_moving(&s, ft.d, ft.dir_at_p));
            last = Some((p, ft));
            out
        };
        settle_crossing(
            f,
            threshold_m.max(TOUCH_M),
            (t0_ms, t1_ms),
            inside_end,
            u_guess,
        )
    }
}

/// [`GeodesicSegment::crossing_ms`] for a point moving against the fixed point `q`.
pub(crate) fn point_crossing_ms(
    (p0, p1): ((f64, f64), (f64, f64)),
    (t0_ms, t1_ms): (i64, i64),
    q: (f64, f64),
    threshold_m: f64,
    inside_end: bool,
    u_guess: f64,
) -> Option<i64> {
    let track = LonLatLine::short(p0, p1);
    let f = |u: f64| {
        let s = track.at(u);
        let (d, _, dir2) = inverse_dirs(q, (s.lon, s.lat));
        (d, grad_moving(&s, d, dir2))
    };
    settle_crossing(
        f,
        threshold_m.max(TOUCH_M),
        (t0_ms, t1_ms),
        inside_end,
        u_guess,
    )
}

/// The crossing of `t` by `d(u)` (`f` gives `d` and `d'`) on `[0, 1]`, with `d < t` at the
/// `inside_end` and a single crossing: safeguarded Newton from `u_guess`, each evaluation
/// narrowing a bracket, then a probe just across the root so that the crossing is confirmed
/// between two evaluations less than a quarter millisecond apart (the kernel's `utol`). Returns
/// the time of the outer evaluation rounded outward, like the approach's interval ends.
fn settle_crossing(
    mut f: impl FnMut(f64) -> (f64, f64),
    t: f64,
    (t0_ms, t1_ms): (i64, i64),
    inside_end: bool,
    u_guess: f64,
) -> Option<i64> {
    if t1_ms <= t0_ms {
        return None;
    }
    let dur = (t1_ms - t0_ms) as f64;
    let utol = 0.25 / dur;
    // The bracket: `out` (d ≥ t) and `inn` (d < t), from the ends until evaluated.
    let (mut out, mut inn) = if inside_end { (0.0, 1.0) } else { (1.0, 0.0) };
    let toward_in = if inside_end { 1.0 } else { -1.0 };
    let mut u = u_guess.clamp(0.0, 1.0);
    for _ in 0..24 {
        let (d, g) = f(u);
        if d >= t {
            out = u;
        } else {
            inn = u;
        }
        if (inn - out) * toward_in <= utol {
            let at = out * dur;
            let ms = if inside_end { at.floor() } else { at.ceil() };
            return Some((t0_ms + ms as i64).clamp(t0_ms, t1_ms));
        }
        let newton = if g != 0.0 { u - (d - t) / g } else { f64::NAN };
        let (lo, hi) = (out.min(inn), out.max(inn));
        let mut next = if newton > lo && newton < hi {
            newton
        } else {
            0.5 * (out + inn)
        };
        if (next - u).abs() < 0.25 * utol {
            // At the root: probe just across it, towards the side not yet pinned.
            next = u + if d >= t { 0.5 } else { -0.5 } * utol * toward_in;
            if next <= lo || next >= hi {
                next = 0.5 * (out + inn);
            }
        }
        u = next;
    }
    None
}

impl Curve for GeodesicSegment {
    #[inline]
    fn at(&self, u: f64) -> St {
        if self.len == 0.0 {
            return St {
                lon: self.a.0,
                lat: self.a.1,
                dir: self.dir1,
                speed: 0.0,
            };
        }
        let (lon, lat, dir) = self.line.position_dir(u * self.len);
        St {
            lon,
            lat,
            dir,
            speed: self.len,
        }
    }
    fn lipschitz(&self) -> f64 {
        self.len
    }
    fn ubox(&self) -> UBox {
        self.ubox
    }
    fn pieces(&self) -> usize {
        ((self.len / CHUNK_M).ceil() as usize).max(1)
    }
}

pub(crate) fn ubox_to_bbox(b: &UBox) -> super::BBox {
    if b.e - b.w >= 360.0 {
        return super::BBox {
            west: -180.0,
            south: b.s.max(-90.0),
            east: 180.0,
            north: b.n.min(90.0),
        };
    }
    let (w, e) = (wrap_lon(b.w), wrap_lon(b.e));
    super::BBox {
        west: w,
        south: b.s.max(-90.0),
        east: if e == -180.0 { 180.0 } else { e },
        north: b.n.min(90.0),
    }
}

/// A conservative box of the geodesic from `a` (direction `dir1`) to `b` (forward direction
/// `dir2` there): endpoints, plus the vertex when it lies between them; longitudes unwrapped
/// from `a.0`, the short way.
pub(crate) fn geodesic_ubox(a: (f64, f64), dir1: Dir, b: (f64, f64), dir2: Dir) -> UBox {
    let dlon = lon_delta(a.0, b.0);
    let (mut s, mut n) = (a.1.min(b.1), a.1.max(b.1));
    let (c1, c2) = (dir1.1, dir2.1);
    if (c1 > 0.0 && c2 < 0.0) || (c1 < 0.0 && c2 > 0.0) {
        // The vertex (extreme latitude) lies inside: Clairaut, sin α0 = sin α1 cos β1.
        let beta1 = ((1.0 - WGS84_F) * a.1.to_radians().tan()).atan();
        let sa0 = (dir1.0 * beta1.cos()).abs().min(1.0);
        let beta_max = sa0.acos();
        let phi_max = (beta_max.tan() / (1.0 - WGS84_F)).atan().to_degrees() + 1e-9;
        if c1 > 0.0 {
            n = n.max(phi_max.min(90.0));
        } else {
            s = s.min(-phi_max.min(90.0));
        }
    }
    if n >= 89.9999 || s <= -89.9999 || dlon.abs() >= 179.9999 {
        UBox {
            w: -1e9,
            s: if s <= -89.9999 { -90.0 } else { s },
            e: 1e9,
            n: if n >= 89.9999 { 90.0 } else { n },
        }
    } else {
        UBox {
            w: a.0 + dlon.min(0.0) - 1e-9,
            s: s - 1e-9,
            e: a.0 + dlon.max(0.0) + 1e-9,
            n: n + 1e-9,
        }
    }
}

/// A first guess of the fraction of the closest point of `a→b` to `p`, in a local frame.
fn initial_fraction(a: (f64, f64), b: (f64, f64), p: (f64, f64)) -> f64 {
    let fr = LocalFrame::new(p.0, p.1);
    let (ax, ay) = fr.to_xy(a);
    let (bx, by) = fr.to_xy(b);
    let (dx, dy) = (bx - ax, by - ay);
    let l2 = dx * dx + dy * dy;
    if l2 > 0.0 && l2.is_finite() {
        (-(ax * dx + ay * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.5
    }
}

/// The least geodesic distance from a point to a segment of a geodesic or of a lon/lat line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Closest {
    /// Geodesic distance in metres (geographiclib; exact to well below a millimetre).
    pub distance_m: f64,
    /// The closest point of the segment, `(lon, lat)` with lon in [-180, 180).
    pub point: (f64, f64),
    /// Its position along the segment: 0 at the start, 1 at the end (by length).
    pub fraction: f64,
}

/// The closest points of two objects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosestPair {
    /// Least geodesic distance in metres; 0 when they touch or overlap (within [`TOUCH_M`]).
    pub distance_m: f64,
    /// The closest point of the first object.
    pub on_first: (f64, f64),
    /// The closest point of the second object.
    pub on_second: (f64, f64),
}

/// When and how closely a moving point comes to something.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Approach {
    /// Start of the time the distance is below the threshold (ms; rounded outward, so the
    /// interval `[start_ms, end_ms]` covers it; when the distance dips below the threshold
    /// several times this is the hull).
    pub start_ms: i64,
    /// End of that time (ms, rounded outward).
    pub end_ms: i64,
    /// The least distance over the whole piece, metres (geographiclib).
    pub min_distance_m: f64,
    /// When it is least (ms, nearest millisecond).
    pub cpa_ms: i64,
    /// Where the moving point is then.
    pub point_on_track: (f64, f64),
    /// The closest point of the other object then.
    pub point_on_other: (f64, f64),
}

#[derive(Clone, Copy)]
pub(crate) struct Foot {
    pub v: f64,
    pub d: f64,
    pub on: St,
    /// Forward direction at the foot of the geodesic from the foot to `p`.
    pub dir_at_foot: Dir,
    /// Forward direction at `p` of the geodesic from the foot to `p`.
    pub dir_at_p: Dir,
}

impl Foot {
    /// A start for the foot of a point moved from `from` (this foot's point) to a point `to`
    /// nearby: the foot moved along the curve by the move's component parallel to it, which
    /// is first order in the move and exact on a sphere (where a point `d` from a great circle
    /// moving parallel to it by `s` moves its foot by `s / cos(d/R)`). The parallel
    /// direction at `from` is the curve's at the foot carried along the geodesic joining them.
    pub(crate) fn guess_for(&self, from: (f64, f64), to: (f64, f64)) -> f64 {
        // At an end the foot is held by the end, not by the perpendicular: it stays there
        // unless the point comes back past it, which the search will find from the end.
        if self.on.speed == 0.0 || self.d == 0.0 || self.v <= 0.0 || self.v >= 1.0 {
            return self.v;
        }
        let (x, y) = LocalFrame::new(from.0, from.1).to_xy(to);
        // The sine and cosine of (azimuth at p) + (curve's at the foot) − (at the foot).
        let ((sp, cp), (so, co), (sf, cf)) = (self.dir_at_p, self.on.dir, self.dir_at_foot);
        let (s1, c1) = (sp * co + cp * so, cp * co - sp * so);
        let (sin, cos) = (s1 * cf - c1 * sf, c1 * cf + s1 * sf);
        let along = x.mul_add(sin, y * cos);
        let v = self.v + along / ((self.d / R_MEAN).cos() * self.on.speed);
        if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            self.v
        }
    }
}

/// The closest point of curve `c` to `p`: safeguarded Newton on the curve parameter.
pub(crate) fn foot<C: Curve>(c: &C, p: (f64, f64), v0: f64) -> Foot {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let (mut lo_eval, mut hi_eval) = (false, false);
    let mut v = v0.clamp(0.0, 1.0);
    let mut best: Option<Foot> = None;
    for _ in 0..80 {
        let s = c.at(v);
        let (d, dir1, dir2) = inverse_dirs((s.lon, s.lat), p);
        if best.as_ref().is_none_or(|b| d < b.d) {
            best = Some(Foot {
                v,
                d,
                on: s,
                dir_at_foot: dir1,
                dir_at_p: dir2,
            });
        }
        if s.speed == 0.0 || d == 0.0 {
            break;
        }
        let cos_t = cos_between(dir1, s.dir);
        if cos_t >= 0.0 {
            lo = v;
            lo_eval = true;
        }
        if cos_t <= 0.0 {
            hi = v;
            hi_eval = true;
        }
        if (v >= 1.0 && cos_t >= 0.0) || (v <= 0.0 && cos_t <= 0.0) || lo >= hi {
            break;
        }
        // On the sphere, the foot lies `along` ahead: atan2(sin δ cos θ, cos δ) for the arc δ
        // to `p` at the angle θ from the curve (small-angle series for the short arcs here).
        let (sin_d, cos_d) = sin_cos_small(d / R_MEAN);
        let along = atan2_small(sin_d * cos_t + 0.0, cos_d) * R_MEAN;
        let mut vn = v + along / s.speed;
        if vn >= hi {
            vn = if hi_eval { 0.5 * (v + hi) } else { hi };
        } else if vn <= lo {
            vn = if lo_eval { 0.5 * (v + lo) } else { lo };
        }
        if (vn - v).abs() * s.speed < 1e-6 || hi - lo < 1e-15 {
            break;
        }
        v = vn;
    }
    best.expect("evaluated at least once")
}

/// Derivative (per unit parameter) of the distance to a fixed target as the point in state `s`
/// moves, given the forward direction at that point of the geodesic from the target.
#[inline]
pub(crate) fn grad_moving(s: &St, d: f64, away: Dir) -> f64 {
    if d <= 0.0 {
        0.0
    } else {
        s.speed * cos_between(s.dir, away)
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Eval<X> {
    pub u: f64,
    pub d: f64,
    /// d'(u)
    pub g: f64,
    pub x: X,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit<X> {
    pub u_start: f64,
    pub u_end: f64,
    pub min: Eval<X>,
}

/// How close, in metres, [`analyze`] brings its least distance to the true least distance
/// before it stops narrowing: below geographiclib's own accuracy (≈ 15 nm).
const LEAST_TOL_M: f64 = 1e-8;

/// On `[a, b]`, with `d` assumed unimodal there and `lip` bounding |d'|: `None` when
/// `d ≥ t` throughout; else the minimum and (if `interval`) the sub-interval where `d < t`
/// (its ends rounded outward to `utol`).
pub(crate) fn analyze<X: Copy>(
    f: &mut impl FnMut(f64) -> Eval<X>,
    a: f64,
    b: f64,
    lip: f64,
    t: f64,
    utol: f64,
    interval: bool,
) -> Option<Hit<X>> {
    let em = f(0.5 * (a + b));
    if em.d - lip * (b - a) * 0.5 >= t {
        return None;
    }
    let ea = f(a);
    let eb = f(b);
    let mut best = [ea, em, eb]
        .into_iter()
        .min_by(|x, y| x.d.total_cmp(&y.d))
        .unwrap();
    let pts = [ea, em, eb];
    if let Some(i) = (0..2).find(|&i| pts[i].g < 0.0 && pts[i + 1].g > 0.0) {
        // Root of h = d·d' = (d²)'/2 by Illinois regula falsi. Locally d² is quadratic in the
        // parameter (a hyperbola `d*² + c²(u − u*)²`: exact for straight motions in a plane), so
        // h is nearly linear and the secant lands next to the minimum — also where the curves
        // cross (d* = 0), where d' jumps from −c to +c and a secant on d' itself degenerates
        // into bisection (≈ 40 evaluations to 1e-13). h has the sign of d', so the bracket is
        // the same; steps are kept strictly inside it, and a bisection follows any step that
        // did not halve it three times in a row.
        let (mut l, mut r) = (pts[i], pts[i + 1]);
        let mut side = 0i8;
        let (mut hl, mut hr) = (l.g * l.d, r.g * r.d);
        let tol = 1e-13 * (b - a).max(1e-300);
        let mut slow = 0u8;
        for _ in 0..100 {
            let w = r.u - l.u;
            // The minimum lies in the bracket, so the best evaluation is within `lip · w` of it:
            // once that is below what geographiclib itself resolves, narrowing further changes
            // nothing a caller can use.
            if w <= tol || lip * w <= LEAST_TOL_M {
                break;
            }
            let mut m = l.u - hl * w / (hr - hl);
            if slow >= 3 || !(m > l.u && m < r.u) {
                m = 0.5 * (l.u + r.u);
                slow = 0;
            }
            let m = m.clamp(l.u + 0.25 * tol, r.u - 0.25 * tol);
            let e = f(m);
            if e.d < best.d {
                best = e;
            }
            if e.g == 0.0 {
                break;
            } else if e.g < 0.0 {
                l = e;
                hl = e.g * e.d;
                if side == -1 {
                    hr *= 0.5;
                }
                side = -1;
            } else {
                r = e;
                hr = e.g * e.d;
                if side == 1 {
                    hl *= 0.5;
                }
                side = 1;
            }
            slow = if r.u - l.u > 0.5 * w { slow + 1 } else { 0 };
        }
    }
    if best.d >= t {
        return None;
    }
    let (mut us, mut ue) = (best.u, best.u);
    if interval {
        us = if ea.d < t {
            a
        } else {
            crossing(f, ea, best, t, utol)
        };
        ue = if eb.d < t {
            b
        } else {
            crossing(f, eb, best, t, utol)
        };
    }
    Some(Hit {
        u_start: us,
        u_end: ue,
        min: best,
    })
}

/// The parameter where `d` crosses `t` between `out` (d ≥ t) and `inn` (d < t); returns a
/// parameter on the `out` side within `utol` of the crossing.
fn crossing<X: Copy>(
    f: &mut impl FnMut(f64) -> Eval<X>,
    out: Eval<X>,
    inn: Eval<X>,
    t: f64,
    utol: f64,
) -> f64 {
    let (mut o, mut i) = (out, inn);
    let (mut fo, mut fi) = (o.d - t, i.d - t);
    let mut side = 0i8;
    for _ in 0..100 {
        let w = (i.u - o.u).abs();
        if w <= utol {
            break;
        }
        let mut m = o.u - fo * (i.u - o.u) / (fi - fo);
        let (lo, hi) = (o.u.min(i.u), o.u.max(i.u));
        if !(m > lo + 0.01 * w && m < hi - 0.01 * w) {
            m = 0.5 * (o.u + i.u);
        }
        let e = f(m);
        if e.d >= t {
            o = e;
            fo = e.d - t;
            if side == 1 {
                fi *= 0.5;
            }
            side = 1;
        } else {
            i = e;
            fi = e.d - t;
            if side == -1 {
                fo *= 0.5;
            }
            side = -1;
        }
    }
    o.u
}

/// What [`over_pieces`] solves for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Solve {
    /// The least distance and the interval where `d < t` (the hull over the pieces).
    Interval,
    /// Only the least distance, every piece against `t`: the same minimum as
    /// [`Solve::Interval`], bit for bit, without the crossing searches where that holds — on
    /// a single piece, where `analyze` has settled the minimum before it searches the
    /// crossings. Over several pieces the crossings are searched all the same: the evaluations
    /// carry state (a foot search starts from the previous foot), so a piece's crossing
    /// evaluations change the bits of the next piece's minimum.
    Least,
    /// Only the least distance, each piece against the least found so far.
    LeastBelowBest,
}

/// Runs `analyze` over the pieces of `curve` and merges: hull of the intervals, least minimum.
pub(crate) fn over_pieces<X: Copy>(
    f: &mut impl FnMut(f64) -> Eval<X>,
    n: usize,
    lip: f64,
    t: f64,
    utol: f64,
    solve: Solve,
) -> Option<Hit<X>> {
    let mut out: Option<Hit<X>> = None;
    let mut t_cur = t;
    let interval = solve == Solve::Interval || (solve == Solve::Least && n > 1);
    for k in 0..n {
        let (a, b) = (k as f64 / n as f64, (k + 1) as f64 / n as f64);
        if let Some(h) = analyze(f, a, b, lip, t_cur, utol, interval) {
            out = Some(match out {
                None => h,
                Some(o) => Hit {
                    u_start: o.u_start.min(h.u_start),
                    u_end: o.u_end.max(h.u_end),
                    min: if h.min.d < o.min.d { h.min } else { o.min },
                },
            });
            if solve == Solve::LeastBelowBest {
                t_cur = out.as_ref().unwrap().min.d;
            }
        }
    }
    out
}

pub(crate) fn to_approach(h: &Hit<Pair>, t0_ms: i64, t1_ms: i64) -> Approach {
    let dt = (t1_ms - t0_ms) as f64;
    let at = |u: f64, r: fn(f64) -> f64| (t0_ms + r(u * dt) as i64).clamp(t0_ms, t1_ms);
    Approach {
        start_ms: at(h.u_start, f64::floor),
        end_ms: at(h.u_end, f64::ceil),
        min_distance_m: h.min.d,
        cpa_ms: at(h.min.u, f64::round),
        point_on_track: h.min.x.0,
        point_on_other: h.min.x.1,
    }
}

/// Shared driver for a track piece against anything: degenerate instants, pieces, times.
fn run_track(
    mut f: impl FnMut(f64) -> Eval<Pair>,
    track: &LonLatLine,
    t0_ms: i64,
    t1_ms: i64,
    t: f64,
    solve: Solve,
) -> Option<Approach> {
    solve_motion(
        &mut f,
        track.pieces(),
        track.lipschitz(),
        t,
        t0_ms,
        t1_ms,
        solve,
    )
}

/// The approach over `[t0_ms, t1_ms]` of a motion whose distance function is `f` on `[0, 1]`
/// (`pieces` unimodal stretches, speed bound `lipschitz`); a single instant when `t1 ≤ t0`.
/// With [`Solve::Least`] the interval is not searched (`start_ms` and `end_ms` are then the
/// CPA time rounded down and up).
fn solve_motion(
    f: &mut impl FnMut(f64) -> Eval<Pair>,
    pieces: usize,
    lipschitz: f64,
    t: f64,
    t0_ms: i64,
    t1_ms: i64,
    solve: Solve,
) -> Option<Approach> {
    if t1_ms <= t0_ms {
        let e = f(0.0);
        let hit = Hit {
            u_start: 0.0,
            u_end: 0.0,
            min: e,
        };
        return (hit.min.d < t).then(|| to_approach(&hit, t0_ms, t0_ms));
    }
    let utol = 0.25 / (t1_ms - t0_ms) as f64;
    over_pieces(f, pieces, lipschitz, t, utol, solve).map(|h| to_approach(&h, t0_ms, t1_ms))
}

/// The least geodesic distance from `p` to the geodesic segment `a→b` (all `(lon, lat)`
/// degrees), with the closest point and its fraction along the segment. Exact to well below a
/// millimetre (geographiclib + Newton on the segment parameter) for legs of any length up to
/// thousands of km, at any latitude to ±89°, across the antimeridian.
///
/// ```
/// use deconflict_engine::geodesy::{point_to_geodesic_segment, distance_m};
/// let c = point_to_geodesic_segment((0.5, 0.1), (0.0, 0.0), (1.0, 0.0));
/// assert!((c.distance_m - distance_m((0.5, 0.1), c.point)).abs() < 1e-6);
/// assert!((c.distance_m - 11_057.4).abs() < 1.0 && (c.fraction - 0.5).abs() < 1e-3);
/// ```
pub fn point_to_geodesic_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> Closest {
    GeodesicSegment::bare(a, b).closest_to(p)
}

/// The least geodesic distance from `p` to the lon/lat-straight segment `a→b` (a track piece or
/// a zone edge; longitude the short way).
///
/// ```
/// use deconflict_engine::geodesy::point_to_lonlat_segment;
/// // Along the 80th parallel the lon/lat line bulges equatorward of the geodesic.
/// let c = point_to_lonlat_segment((0.0, 80.0), (-10.0, 80.0), (10.0, 80.0));
/// assert!(c.distance_m < 1e-6);
/// ```
pub fn point_to_lonlat_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> Closest {
    let line = LonLatLine::short(a, b);
    let mut best: Option<Closest> = None;
    let n = line.pieces();
    for k in 0..n {
        let (u0, u1) = (k as f64 / n as f64, (k + 1) as f64 / n as f64);
        let piece = line.sub(u0, u1);
        if let Some(b) = &best
            && !piece
                .ubox()
                .widen(b.distance_m)
                .intersects(&UBox::of_points(&[p]))
        {
            continue;
        }
        let ft = foot(
            &piece,
            p,
            initial_fraction((piece.lon0, piece.lat0), piece.end(), p),
        );
        if best.as_ref().is_none_or(|b| ft.d < b.distance_m) {
            best = Some(Closest {
                distance_m: ft.d,
                point: ft.on.pos(),
                fraction: u0 + ft.v * (u1 - u0),
            });
        }
    }
    best.unwrap()
}

/// A point moving linearly in lon/lat (the short way) from `p0` at `t0_ms` to `p1` at `t1_ms`,
/// against the geodesic segment `a→b`: `None` when its distance to the segment stays
/// ≥ `threshold_m` over `[t0_ms, t1_ms]`, else the [`Approach`] (sub-interval where it is
/// `< threshold_m`, least distance and when/where). A threshold of 0 means touching (distance
/// ≤ [`TOUCH_M`]). `t1_ms ≤ t0_ms` means the single instant `t0_ms` at `p0`.
///
/// Guarantee: decisions and distances are exact to ~1 µm + 1e-12 relative (no sampling);
/// times to the millisecond, rounded outward. Prepare the leg once with
/// [`GeodesicSegment::moving_point_approach`] when testing many pieces against it.
///
/// ```
/// use deconflict_engine::geodesy::moving_point_vs_geodesic_segment;
/// // Flying north across an east-west leg along the equator: 0 distance at mid-time.
/// let a = moving_point_vs_geodesic_segment((0.5, -0.1), (0.5, 0.1), 0, 60_000, (0.0, 0.0), (1.0, 0.0), 1_000.0).unwrap();
/// assert!(a.min_distance_m < 1e-3 && (a.cpa_ms - 30_000).abs() <= 1);
/// assert!(a.start_ms <= 30_000 - 2_700 && a.end_ms >= 30_000 + 2_700 && a.end_ms <= 30_000 + 2_750);
/// ```
pub fn moving_point_vs_geodesic_segment(
    p0: (f64, f64),
    p1: (f64, f64),
    t0_ms: i64,
    t1_ms: i64,
    a: (f64, f64),
    b: (f64, f64),
    threshold_m: f64,
) -> Option<Approach> {
    GeodesicSegment::new(a, b).moving_point_approach(p0, p1, t0_ms, t1_ms, threshold_m)
}

/// A point moving linearly in lon/lat against a fixed point `q`; as
/// [`moving_point_vs_geodesic_segment`].
///
/// ```
/// use deconflict_engine::geodesy::moving_point_vs_point;
/// let a = moving_point_vs_point((179.9, 10.0), (-179.9, 10.0), 0, 1_000, (180.0, 10.01), 5_000.0).unwrap();
/// assert!((a.cpa_ms - 500).abs() <= 1 && (a.min_distance_m - 1_106.0).abs() < 5.0);
/// ```
pub fn moving_point_vs_point(
    p0: (f64, f64),
    p1: (f64, f64),
    t0_ms: i64,
    t1_ms: i64,
    q: (f64, f64),
    threshold_m: f64,
) -> Option<Approach> {
    moving_point_vs_point_solve((p0, p1), (t0_ms, t1_ms), q, threshold_m, Solve::Interval)
}

/// [`moving_point_vs_point`] without searching the interval, as
/// [`GeodesicSegment::moving_point_least`].
pub(crate) fn moving_point_least_vs_point(
    (p0, p1): ((f64, f64), (f64, f64)),
    (t0_ms, t1_ms): (i64, i64),
    q: (f64, f64),
    threshold_m: f64,
) -> Option<Approach> {
    moving_point_vs_point_solve((p0, p1), (t0_ms, t1_ms), q, threshold_m, Solve::Least)
}

fn moving_point_vs_point_solve(
    (p0, p1): ((f64, f64), (f64, f64)),
    (t0_ms, t1_ms): (i64, i64),
    q: (f64, f64),
    threshold_m: f64,
    solve: Solve,
) -> Option<Approach> {
    let t = threshold_m.max(TOUCH_M);
    let track = LonLatLine::short(p0, p1);
    if track.ubox().far_from(&UBox::of_points(&[q]), t) {
        return None;
    }
    // Local-frame lower bound (rigorous): the track is a segment in the frame.
    let fr = LocalFrame::new(q.0, q.1);
    if lon_delta(q.0, p0.0).abs() < 90.0 && lon_delta(q.0, p1.0).abs() < 90.0 {
        let (x0, y0) = fr.to_xy(p0);
        let (x1, y1) = (
            x0 + track.dlon * fr.m_per_deg_lon,
            y0 + track.dlat * fr.m_per_deg_lat,
        );
        let dmin = seg_origin_dist((x0, y0), (x1, y1));
        let (lo, hi) = widen_lat(p0.1.min(p1.1).min(q.1), p0.1.max(p1.1).max(q.1), t);
        if lo > -89.99 && hi < 89.99 && fr.scale_bounds(lo, hi).0 * dmin >= t {
            return None;
        }
    }
    let f = |u: f64| {
        let s = track.at(u);
        let (d, _, dir2) = inverse_dirs(q, (s.lon, s.lat));
        Eval {
            u,
            d,
            g: grad_moving(&s, d, dir2),
            x: (s.pos(), q),
        }
    };
    run_track(f, &track, t0_ms, t1_ms, t, solve)
}

/// Distance from the origin to the segment `a→b` in the plane.
/// The fast path of [`moving_points_cpa`] when the frame's scale bounds are tight and the
/// pair certainly comes within `t`: the relative motion is a straight line in the frame, so
/// the frame distance `D(u)` is convex with an analytic minimum, and the geodesic distance
/// `G(u)` lies in `[k_lo·D(u), k_hi·D(u)]`. The loss-of-separation interval therefore starts
/// between where `D` drops below `t/k_lo` (possibly inside) and `t/k_hi` (certainly inside);
/// each boundary is settled by bisection on geographiclib distances to the millisecond, and
/// the reported minimum is the geodesic distance at the frame's closest approach (exact to
/// second order). `None` hands the case to the general solver.
#[expect(
    clippy::too_many_arguments,
    reason = "the two motions, the frame bounds and the time span are all inputs of one solve"
)]
fn cpa_in_frame(
    pl: &LonLatLine,
    ql: &LonLatLine,
    r0: (f64, f64),
    r1: (f64, f64),
    (k_lo, k_hi): (f64, f64),
    t: f64,
    t0_ms: i64,
    t1_ms: i64,
) -> Option<Approach> {
    let (dx, dy) = (r1.0 - r0.0, r1.1 - r0.1);
    let l2 = dx * dx + dy * dy;
    let u_star = if l2 > 0.0 {
        (-(r0.0 * dx + r0.1 * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    // Where D(u) < level, as an interval of [0, 1] (D is convex: one interval or none).
    let below = |level: f64| -> Option<(f64, f64)> {
        let (a, b, c) = (
            l2,
            2.0 * (r0.0 * dx + r0.1 * dy),
            r0.0 * r0.0 + r0.1 * r0.1 - level * level,
        );
        if a <= 0.0 {
            return (c < 0.0).then_some((0.0, 1.0));
        }
        let disc = b * b - 4.0 * a * c;
        if disc <= 0.0 {
            return None;
        }
        let sq = disc.sqrt();
        let (x, y) = ((-b - sq) / (2.0 * a), (-b + sq) / (2.0 * a));
        let (x, y) = (x.max(0.0), y.min(1.0));
        (x < y).then_some((x, y))
    };
    let sure = below(t / k_hi)?;
    let maybe = below(t / k_lo).unwrap_or(sure);
    let dur = (t1_ms - t0_ms) as f64;
    let g = |u: f64| -> f64 {
        let (sp, sq) = (pl.at(u), ql.at(u));
        distance_m((sp.lon, sp.lat), (sq.lon, sq.lat))
    };
    // Bisection between a point known (or assumed) outside and one certainly inside, down to
    // a quarter millisecond; returns the outer end of the final bracket.
    let settle = |outer: f64, inner: f64| -> f64 {
        if (inner - outer).abs() * dur <= 0.25 || g(outer) < t {
            return outer;
        }
        let (mut out, mut inn) = (outer, inner);
        for _ in 0..64 {
            if (inn - out).abs() * dur <= 0.25 {
                break;
            }
            let mid = 0.5 * (out + inn);
            if g(mid) < t {
                inn = mid;
            } else {
                out = mid;
            }
        }
        out
    };
    let u_start = settle(maybe.0.min(sure.0), sure.0);
    let u_end = settle(maybe.1.max(sure.1), sure.1);
    // The frame's closest approach is within the frame's distortion of the true one: polish
    // it with parabolic steps on geographiclib distances, keeping the least value seen.
    let (mut u_best, mut d) = (u_star, g(u_star));
    let mut h = 2e-3;
    for _ in 0..1 {
        let (ua, ub) = ((u_best - h).max(0.0), (u_best + h).min(1.0));
        let (da, db) = (g(ua), g(ub));
        let (x0, x1, x2) = (ua - u_best, 0.0, ub - u_best);
        let denom = (x0 - x1) * (x0 - x2) * (x1 - x2);
        let mut cands = [(ua, da), (ub, db), (u_best, d)];
        if denom.abs() > 0.0 {
            let a = (x2 * (d - da) + x1 * (da - db) + x0 * (db - d)) / denom;
            let b = (x2 * x2 * (da - d) + x1 * x1 * (db - da) + x0 * x0 * (d - db)) / denom;
            if a > 0.0 {
                let uv = (u_best - b / (2.0 * a)).clamp(0.0, 1.0);
                let dv = g(uv);
                cands[2] = if dv < d { (uv, dv) } else { (u_best, d) };
            }
        }
        let (nu, nd) = cands
            .into_iter()
            .fold((u_best, d), |best, c| if c.1 < best.1 { c } else { best });
        u_best = nu;
        d = nd;
        h *= 0.1;
    }
    let (sp, sq) = (pl.at(u_best), ql.at(u_best));
    let u_star = u_best;
    let at = |u: f64, r: fn(f64) -> f64| (t0_ms + r(u * dur) as i64).clamp(t0_ms, t1_ms);
    Some(Approach {
        start_ms: at(u_start, f64::floor),
        end_ms: at(u_end, f64::ceil),
        min_distance_m: d,
        cpa_ms: at(u_star, f64::round),
        point_on_track: sp.pos(),
        point_on_other: sq.pos(),
    })
}

fn seg_origin_dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let l2 = dx * dx + dy * dy;
    let u = if l2 > 0.0 {
        (-(a.0 * dx + a.1 * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (a.0 + u * dx).hypot(a.1 + u * dy)
}

/// Two points moving linearly in lon/lat over the common interval `[t0_ms, t1_ms]`: `p` from
/// `p0` to `p1`, `q` from `q0` to `q1`. `None` when their simultaneous distance stays
/// ≥ `threshold_m`; else the [`Approach`] (loss-of-separation sub-interval, closest approach
/// distance and time, `point_on_track` = p and `point_on_other` = q then). Same guarantees as
/// [`moving_point_vs_geodesic_segment`].
///
/// ```
/// use deconflict_engine::geodesy::moving_points_cpa;
/// // Head-on along the equator, 1 km/s closing speed, starting 60 km apart.
/// let a = moving_points_cpa((0.0, 0.0), (0.2695, 0.0), (0.539, 0.0), (0.2695, 0.0), 0, 60_000, 9_260.0).unwrap();
/// assert!(a.min_distance_m < 1.0);
/// assert!((a.start_ms - 50_740).abs() < 20 && a.end_ms == 60_000);
/// ```
pub fn moving_points_cpa(
    p0: (f64, f64),
    p1: (f64, f64),
    q0: (f64, f64),
    q1: (f64, f64),
    t0_ms: i64,
    t1_ms: i64,
    threshold_m: f64,
) -> Option<Approach> {
    let t = threshold_m.max(TOUCH_M);
    let (pl, ql) = (LonLatLine::short(p0, p1), LonLatLine::short(q0, q1));
    if pl.ubox().far_from(&ql.ubox(), t) {
        return None;
    }
    let fr = LocalFrame::new(p0.0, p0.1);
    if [q0.0, q1.0, p1.0]
        .iter()
        .all(|l| lon_delta(p0.0, *l).abs() < 90.0)
    {
        let (qx, qy) = fr.to_xy(q0);
        let r0 = (qx, qy);
        let r1 = (
            qx + (ql.dlon - pl.dlon) * fr.m_per_deg_lon,
            qy + (ql.dlat - pl.dlat) * fr.m_per_deg_lat,
        );
        let dmin = seg_origin_dist(r0, r1);
        let lats = [p0.1, p1.1, q0.1, q1.1];
        let (lo, hi) = (
            lats.iter().cloned().fold(90.0, f64::min),
            lats.iter().cloned().fold(-90.0, f64::max),
        );
        let (lo, hi) = widen_lat(lo, hi, t);
        if lo > -89.99 && hi < 89.99 {
            let (k_lo, k_hi) = fr.scale_bounds(lo, hi);
            if k_lo * dmin >= t {
                return None;
            }
            if t1_ms > t0_ms
                && k_hi * dmin < t
                && k_hi / k_lo < 1.01
                && let Some(a) = cpa_in_frame(&pl, &ql, r0, r1, (k_lo, k_hi), t, t0_ms, t1_ms)
            {
                return Some(a);
            }
        }
    }
    let f = |u: f64| {
        let (sp, sq) = (pl.at(u), ql.at(u));
        let (d, dir1, dir2) = inverse_dirs((sp.lon, sp.lat), (sq.lon, sq.lat));
        let g = if d <= 0.0 {
            0.0
        } else {
            -sp.speed * cos_between(sp.dir, dir1) + sq.speed * cos_between(sq.dir, dir2)
        };
        Eval {
            u,
            d,
            g,
            x: (sp.pos(), sq.pos()),
        }
    };
    let mut f = f;
    let n = pl.pieces().max(ql.pieces());
    solve_motion(
        &mut f,
        n,
        pl.lipschitz() + ql.lipschitz(),
        t,
        t0_ms,
        t1_ms,
        Solve::Interval,
    )
}

/// The least distance between the geodesic segments `a0→a1` and `b0→b1`, with the closest
/// points; 0 when they intersect (within [`TOUCH_M`]).
///
/// ```
/// use deconflict_engine::geodesy::geodesic_segments_distance;
/// let x = geodesic_segments_distance((-1.0, 0.0), (1.0, 0.0), (0.0, -1.0), (0.0, 1.0));
/// assert_eq!(x.distance_m, 0.0);
/// let y = geodesic_segments_distance((-1.0, 0.0), (1.0, 0.0), (0.0, 0.5), (0.0, 1.0));
/// assert!((y.distance_m - 55_287.0).abs() < 100.0);
/// ```
pub fn geodesic_segments_distance(
    a0: (f64, f64),
    a1: (f64, f64),
    b0: (f64, f64),
    b1: (f64, f64),
) -> ClosestPair {
    let (sa, sb) = (GeodesicSegment::bare(a0, a1), GeodesicSegment::bare(b0, b1));
    let mut best = ClosestPair {
        distance_m: f64::INFINITY,
        on_first: a0,
        on_second: b0,
    };
    geodesic_vs_curve(&sa, &sb, &mut best);
    snap(best)
}

pub(crate) fn snap(mut c: ClosestPair) -> ClosestPair {
    if c.distance_m < TOUCH_M {
        c.distance_m = 0.0;
    }
    c
}

/// Improves `best` with the least distance between the geodesic `sa` and the curve `other`.
pub(crate) fn geodesic_vs_curve<C: Curve>(sa: &GeodesicSegment, other: &C, best: &mut ClosestPair) {
    if best.distance_m.is_finite() && !other.ubox().widen(best.distance_m).intersects(&sa.ubox) {
        return;
    }
    let mut v = 0.5;
    let mut f = |u: f64| {
        let s = sa.at(u);
        let ft = foot(other, (s.lon, s.lat), v);
        v = ft.v;
        Eval {
            u,
            d: ft.d,
            g: grad_moving(&s, ft.d, ft.dir_at_p),
            x: (s.pos(), ft.on.pos()),
        }
    };
    if let Some(h) = over_pieces(
        &mut f,
        sa.pieces(),
        sa.lipschitz(),
        best.distance_m,
        1e-12,
        Solve::LeastBelowBest,
    ) && h.min.d < best.distance_m
    {
        *best = ClosestPair {
            distance_m: h.min.d,
            on_first: h.min.x.0,
            on_second: h.min.x.1,
        };
    }
}
