//! Zone polygons: edges straight in lon/lat (RFC 7946), antimeridian-safe.

use super::frame::UBox;
use super::kernel::{
    Approach, ClosestPair, Curve, Eval, GeodesicSegment, Hit, LonLatLine, Pair, Solve, TOUCH_M,
    foot, geodesic_vs_curve, grad_moving, over_pieces, snap, to_approach, ubox_to_bbox,
};
use super::{BBox, lon_delta, wrap_lon};

/// A polygon: an outer ring and holes, `(lon, lat)` degrees, each ring closed (last vertex =
/// first). Edges are straight lines in lon/lat (RFC 7946).
///
/// **Antimeridian.** Every edge goes the short way in longitude (|Δlon| < 180°), exactly like
/// track pieces, so a ring may be given with longitudes in [-180, 180] (`…, 179, -179, …`
/// crosses the antimeridian) or unwrapped beyond ±180 (`…, 179, 181, …`): both mean the same.
/// Rings are stored unwrapped (continuous longitude from their first vertex); a ring whose
/// longitudes do not close after unwrapping (it winds around a pole) is rejected. A polygon is
/// therefore at most 360° wide, and a polar cap must be given without its pole (e.g. cut at
/// ±89.9°). Self-intersection is not checked here (the zone reader rejects those).
///
/// Containment is boundary-inclusive and exact in lon/lat (to 1e-12° ≈ 0.1 µm).
///
/// ```
/// use deconflict_engine::geodesy::Polygon;
/// let p = Polygon::new(vec![(179.0, -1.0), (-179.0, -1.0), (-179.0, 1.0), (179.0, 1.0), (179.0, -1.0)], vec![]).unwrap();
/// assert!(p.contains((180.0, 0.0)) && p.contains((-179.5, 0.5)) && p.contains((179.0, 0.0)));
/// assert!(!p.contains((0.0, 0.0)) && !p.contains((178.9, 0.0)));
/// assert!((p.distance_to_point((-178.0, 0.0)).distance_m - 111_319.5).abs() < 1.0);
/// ```
#[derive(Debug, Clone)]
pub struct Polygon {
    rings: Vec<Vec<(f64, f64)>>,
    /// Edge pieces of all rings (short enough for unimodal distance functions).
    edges: Vec<(LonLatLine, UBox)>,
    ubox: UBox,
}

/// Position of a point relative to a ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loc {
    Inside,
    Boundary,
    Outside,
}

const ON_EDGE_DEG: f64 = 1e-12;

impl Polygon {
    /// A polygon from its outer ring and holes. Errors: a ring not closed, with fewer than 3
    /// distinct vertices, a non-finite or out-of-range coordinate, a ring winding around a pole.
    pub fn new(outer: Vec<(f64, f64)>, holes: Vec<Vec<(f64, f64)>>) -> Result<Polygon, String> {
        let mut rings: Vec<Vec<(f64, f64)>> = Vec::with_capacity(1 + holes.len());
        for (i, r) in std::iter::once(outer).chain(holes).enumerate() {
            let what = if i == 0 {
                "outer ring".to_string()
            } else {
                format!("hole {i}")
            };
            let closed = r.len() >= 4
                && r[0].1 == r[r.len() - 1].1
                && lon_delta(r[0].0, r[r.len() - 1].0) == 0.0;
            if !closed {
                return Err(format!(
                    "{what} is not closed or has fewer than 4 positions"
                ));
            }
            if let Some(p) = r.iter().find(|p| {
                !p.0.is_finite() || !p.1.is_finite() || p.1.abs() > 90.0 || p.0.abs() > 540.0
            }) {
                return Err(format!("{what}: invalid position {p:?}"));
            }
            let mut u = Vec::with_capacity(r.len());
            u.push(r[0]);
            for w in r.windows(2) {
                let last: (f64, f64) = *u.last().unwrap();
                u.push((last.0 + lon_delta(w[0].0, w[1].0), w[1].1));
            }
            let (f, l) = (u[0], *u.last().unwrap());
            if (l.0 - f.0).abs() > 1e-9 {
                return Err(format!("{what} winds around a pole"));
            }
            *u.last_mut().unwrap() = f;
            let mut distinct: Vec<(f64, f64)> = u[..u.len() - 1].to_vec();
            distinct.sort_by(|a, b| a.partial_cmp(b).unwrap());
            distinct.dedup();
            if distinct.len() < 3 {
                return Err(format!("{what} has fewer than 3 distinct positions"));
            }
            if i > 0 {
                // Put the hole in the same 360° window as the outer ring.
                let c0 =
                    rings[0].iter().map(|p: &(f64, f64)| p.0).sum::<f64>() / rings[0].len() as f64;
                let k = ((c0 - u[0].0) / 360.0).round() * 360.0;
                for p in &mut u {
                    p.0 += k;
                }
            }
            rings.push(u);
        }
        let ubox = UBox::of_points(&rings[0]);
        let mut edges = Vec::new();
        for r in &rings {
            for w in r.windows(2) {
                let line = LonLatLine {
                    lon0: w[0].0,
                    lat0: w[0].1,
                    dlon: w[1].0 - w[0].0,
                    dlat: w[1].1 - w[0].1,
                };
                let n = line.pieces();
                for k in 0..n {
                    let piece = line.sub(k as f64 / n as f64, (k + 1) as f64 / n as f64);
                    edges.push((piece, piece.ubox()));
                }
            }
        }
        Ok(Polygon { rings, edges, ubox })
    }

    /// The rings as stored (unwrapped longitudes, closed).
    pub fn rings(&self) -> &[Vec<(f64, f64)>] {
        &self.rings
    }

    /// Its bounding box (`west > east` when it crosses the antimeridian).
    pub fn bbox(&self) -> BBox {
        ubox_to_bbox(&self.ubox)
    }

    fn locate(&self, p: (f64, f64)) -> Loc {
        if p.1 < self.ubox.s || p.1 > self.ubox.n {
            return Loc::Outside;
        }
        let mut lon = self.ubox.w + (p.0 - self.ubox.w).rem_euclid(360.0);
        let mut best = Loc::Outside;
        while lon <= self.ubox.e + ON_EDGE_DEG {
            let l = self.locate_unwrapped((lon, p.1));
            if l == Loc::Inside {
                return l;
            }
            if l == Loc::Boundary {
                best = l;
            }
            lon += 360.0;
        }
        // A point just west of w (within tolerance) may be on the western boundary.
        if best == Loc::Outside && (p.0 - self.ubox.w).rem_euclid(360.0) > 360.0 - ON_EDGE_DEG {
            best = self.locate_unwrapped((self.ubox.w, p.1));
            if best == Loc::Inside {
                best = Loc::Boundary;
            }
        }
        best
    }

    fn locate_unwrapped(&self, p: (f64, f64)) -> Loc {
        let outer = ring_locate(&self.rings[0], p);
        if outer != Loc::Inside {
            return outer;
        }
        for h in &self.rings[1..] {
            match ring_locate(h, p) {
                Loc::Inside => return Loc::Outside,
                Loc::Boundary => return Loc::Boundary,
                Loc::Outside => {}
            }
        }
        Loc::Inside
    }

    /// True when `p` is inside or on the boundary.
    pub fn contains(&self, p: (f64, f64)) -> bool {
        self.locate(p) != Loc::Outside
    }

    /// The least geodesic distance from `p` to the polygon (0 inside or on the boundary) with
    /// the closest point of the polygon (`p` itself when inside); `fraction` is unused (0).
    /// Exact to well below 1 mm.
    pub fn distance_to_point(&self, p: (f64, f64)) -> super::Closest {
        if self.contains(p) {
            return super::Closest {
                distance_m: 0.0,
                point: p,
                fraction: 0.0,
            };
        }
        let pb = UBox::of_points(&[p]);
        let mut best = super::Closest {
            distance_m: f64::INFINITY,
            point: p,
            fraction: 0.0,
        };
        for (e, b) in &self.edges {
            if best.distance_m.is_finite() && !b.widen(best.distance_m).intersects(&pb) {
                continue;
            }
            let ft = foot(e, p, 0.5);
            if ft.d < best.distance_m {
                best = super::Closest {
                    distance_m: ft.d,
                    point: (wrap_lon(ft.on.lon), ft.on.lat),
                    fraction: 0.0,
                };
            }
        }
        best
    }
}

fn ring_locate(ring: &[(f64, f64)], p: (f64, f64)) -> Loc {
    let (x, y) = p;
    let mut inside = false;
    for w in ring.windows(2) {
        let ((ax, ay), (bx, by)) = (w[0], w[1]);
        let (dx, dy) = (bx - ax, by - ay);
        let cross = dx * (y - ay) - dy * (x - ax);
        let len = dx.hypot(dy);
        if cross.abs() <= ON_EDGE_DEG * len.max(1e-300)
            && x >= ax.min(bx) - ON_EDGE_DEG
            && x <= ax.max(bx) + ON_EDGE_DEG
            && y >= ay.min(by) - ON_EDGE_DEG
            && y <= ay.max(by) + ON_EDGE_DEG
        {
            return Loc::Boundary;
        }
        if (ay > y) != (by > y) {
            let xi = ax + (y - ay) * dx / dy;
            if x < xi {
                inside = !inside;
            }
        }
    }
    if inside { Loc::Inside } else { Loc::Outside }
}

/// A point moving linearly in lon/lat (short way) from `p0` at `t0_ms` to `p1` at `t1_ms`
/// against a polygon: `None` when its distance to the polygon stays ≥ `threshold_m`; with
/// `threshold_m == 0` the question is "inside or on the boundary", decided exactly in lon/lat
/// (a piece 1 cm outside never hits, 1 cm inside always does). Otherwise as
/// [`super::moving_point_vs_geodesic_segment`]; `min_distance_m` is 0 when it enters, and
/// `cpa_ms` is then the first instant inside.
///
/// ```
/// use deconflict_engine::geodesy::{Polygon, moving_point_vs_polygon};
/// let z = Polygon::new(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)], vec![]).unwrap();
/// let a = moving_point_vs_polygon((-1.0, 0.5), (2.0, 0.5), 0, 3_000, &z, 0.0).unwrap();
/// assert_eq!((a.start_ms, a.end_ms, a.min_distance_m), (1_000, 2_000, 0.0));
/// assert!(moving_point_vs_polygon((-1.0, 1.5), (2.0, 1.5), 0, 3_000, &z, 0.0).is_none());
/// let b = moving_point_vs_polygon((-1.0, 1.05), (2.0, 1.05), 0, 3_000, &z, 10_000.0).unwrap();
/// assert!((b.min_distance_m - 5_528.0).abs() < 5.0);
/// ```
pub fn moving_point_vs_polygon(
    p0: (f64, f64),
    p1: (f64, f64),
    t0_ms: i64,
    t1_ms: i64,
    poly: &Polygon,
    threshold_m: f64,
) -> Option<Approach> {
    let track = LonLatLine::short(p0, p1);
    let tb = track.ubox();
    if tb.far_from(&poly.ubox, threshold_m.max(0.0)) {
        return None;
    }
    let single = t1_ms <= t0_ms;
    let mut hit: Option<Hit<Pair>> = inside_interval(&track, poly, single);
    if threshold_m > 0.0 && hit.is_none() {
        let t = threshold_m.max(TOUCH_M);
        let utol = if single {
            1.0
        } else {
            0.25 / (t1_ms - t0_ms) as f64
        };
        let wide = tb.widen(t);
        for (e, b) in &poly.edges {
            if !wide.intersects(b) {
                continue;
            }
            let mut v = 0.5;
            let mut f = |u: f64| {
                let s = track.at(u);
                let ft = foot(e, (s.lon, s.lat), v);
                v = ft.v;
                let g = grad_moving(&s, ft.d, ft.dir_at_p);
                Eval {
                    u,
                    d: ft.d,
                    g,
                    x: ((wrap_lon(s.lon), s.lat), (wrap_lon(ft.on.lon), ft.on.lat)),
                }
            };
            let h = if single {
                let e0 = f(0.0);
                (e0.d < t).then_some(Hit {
                    u_start: 0.0,
                    u_end: 0.0,
                    min: e0,
                })
            } else {
                over_pieces(
                    &mut f,
                    track.pieces(),
                    track.lipschitz(),
                    t,
                    utol,
                    Solve::Interval,
                )
            };
            if let Some(h) = h {
                hit = Some(match hit {
                    None => h,
                    Some(o) => Hit {
                        u_start: o.u_start.min(h.u_start),
                        u_end: o.u_end.max(h.u_end),
                        min: if h.min.d < o.min.d { h.min } else { o.min },
                    },
                });
            }
        }
    } else if threshold_m > 0.0
        && let Some(inside) = hit
    {
        // Entered: the approach interval also includes the times within the threshold outside.
        let outside = moving_point_vs_polygon_outside(&track, t0_ms, t1_ms, poly, threshold_m);
        if let Some(o) = outside {
            hit = Some(Hit {
                u_start: inside.u_start.min(o.0),
                u_end: inside.u_end.max(o.1),
                min: inside.min,
            });
        }
    }
    hit.map(|h| {
        if single {
            to_approach(&h, t0_ms, t0_ms)
        } else {
            to_approach(&h, t0_ms, t1_ms)
        }
    })
}

/// The hull of the times within `threshold_m` of the boundary (entered pieces only).
fn moving_point_vs_polygon_outside(
    track: &LonLatLine,
    t0_ms: i64,
    t1_ms: i64,
    poly: &Polygon,
    threshold_m: f64,
) -> Option<(f64, f64)> {
    if t1_ms <= t0_ms {
        return None;
    }
    let t = threshold_m.max(TOUCH_M);
    let utol = 0.25 / (t1_ms - t0_ms) as f64;
    let wide = track.ubox().widen(t);
    let mut out: Option<(f64, f64)> = None;
    for (e, b) in &poly.edges {
        if !wide.intersects(b) {
            continue;
        }
        let mut v = 0.5;
        let mut f = |u: f64| {
            let s = track.at(u);
            let ft = foot(e, (s.lon, s.lat), v);
            v = ft.v;
            let g = grad_moving(&s, ft.d, ft.dir_at_p);
            Eval {
                u,
                d: ft.d,
                g,
                x: (),
            }
        };
        if let Some(h) = over_pieces(
            &mut f,
            track.pieces(),
            track.lipschitz(),
            t,
            utol,
            Solve::Interval,
        ) {
            out = Some(out.map_or((h.u_start, h.u_end), |o| {
                (o.0.min(h.u_start), o.1.max(h.u_end))
            }));
        }
    }
    out
}

/// The parameters where the lon/lat track is inside or on the polygon (exact in lon/lat).
fn inside_interval(track: &LonLatLine, poly: &Polygon, single: bool) -> Option<Hit<Pair>> {
    let at = |u: f64| {
        (
            wrap_lon(track.lon0 + u * track.dlon),
            track.lat0 + u * track.dlat,
        )
    };
    let mk = |u0: f64, u1: f64| {
        let p = at(u0);
        Hit {
            u_start: u0,
            u_end: u1,
            min: Eval {
                u: u0,
                d: 0.0,
                g: 0.0,
                x: (p, p),
            },
        }
    };
    if single {
        return poly.contains(at(0.0)).then(|| mk(0.0, 0.0));
    }
    let mut us = vec![0.0, 1.0];
    // Track in the polygon's longitude window(s).
    let tw = track.lon0.min(track.lon0 + track.dlon);
    let mut k = ((poly.ubox.w - tw) / 360.0).floor() * 360.0 - 360.0;
    while tw + k <= poly.ubox.e + 360.0 {
        let (x0, y0) = (track.lon0 + k, track.lat0);
        let (dx, dy) = (track.dlon, track.dlat);
        for r in &poly.rings {
            for w in r.windows(2) {
                let ((ax, ay), (bx, by)) = (w[0], w[1]);
                let (ex, ey) = (bx - ax, by - ay);
                let den = dx * ey - dy * ex;
                if den != 0.0 {
                    let u = ((ax - x0) * ey - (ay - y0) * ex) / den;
                    let v = ((ax - x0) * dy - (ay - y0) * dx) / den;
                    if (-1e-9..=1.0 + 1e-9).contains(&v) && (0.0..=1.0).contains(&u) {
                        us.push(u);
                    }
                } else {
                    // Parallel: the parameters of the edge's ends along the track.
                    let l2 = dx * dx + dy * dy;
                    if l2 > 0.0 {
                        for (px, py) in [(ax, ay), (bx, by)] {
                            let u = ((px - x0) * dx + (py - y0) * dy) / l2;
                            if (0.0..=1.0).contains(&u) {
                                us.push(u);
                            }
                        }
                    }
                }
            }
        }
        k += 360.0;
    }
    us.sort_by(|a, b| a.total_cmp(b));
    us.dedup();
    let mut first: Option<f64> = None;
    let mut last: Option<f64> = None;
    let mut note = |u: f64| {
        if first.is_none() {
            first = Some(u);
        }
        last = Some(u);
    };
    for (i, &u) in us.iter().enumerate() {
        if poly.contains(at(u)) {
            note(u);
        }
        if let Some(&n) = us.get(i + 1)
            && n > u
            && poly.contains(at(0.5 * (u + n)))
        {
            note(u);
            note(n);
        }
    }
    first.map(|f| mk(f, last.unwrap()))
}

/// The least distance between the geodesic segment `a→b` (a route leg) and the polygon,
/// interior included: 0 when the leg touches or enters it (within [`TOUCH_M`]), with the
/// closest points (on the leg, on the polygon).
///
/// ```
/// use deconflict_engine::geodesy::{Polygon, geodesic_segment_vs_polygon_distance};
/// let z = Polygon::new(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)], vec![]).unwrap();
/// assert_eq!(geodesic_segment_vs_polygon_distance((-1.0, 0.5), (2.0, 0.5), &z).distance_m, 0.0);
/// let d = geodesic_segment_vs_polygon_distance((-1.0, -0.5), (2.0, -0.5), &z);
/// assert!((d.distance_m - 55_287.0).abs() < 100.0);
/// ```
pub fn geodesic_segment_vs_polygon_distance(
    a: (f64, f64),
    b: (f64, f64),
    poly: &Polygon,
) -> ClosestPair {
    for p in [a, b] {
        if poly.contains(p) {
            return ClosestPair {
                distance_m: 0.0,
                on_first: p,
                on_second: p,
            };
        }
    }
    let seg = GeodesicSegment::bare(a, b);
    let mut best = ClosestPair {
        distance_m: f64::INFINITY,
        on_first: a,
        on_second: a,
    };
    // Nearest edges first (by a cheap local-frame estimate), so that the box prune bites early.
    let mid = seg.point_at(0.5);
    let frame = super::LocalFrame::new(mid.0, mid.1);
    let mut order: Vec<(f64, usize)> = poly
        .edges
        .iter()
        .enumerate()
        .map(|(i, (e, _))| {
            let m = (e.lon0 + 0.5 * e.dlon, e.lat0 + 0.5 * e.dlat);
            (frame.distance_m(mid, m), i)
        })
        .collect();
    order.sort_by(|x, y| x.0.total_cmp(&y.0));
    for (_, i) in order {
        geodesic_vs_curve(&seg, &poly.edges[i].0, &mut best);
        if best.distance_m < TOUCH_M * 1e-3 {
            break;
        }
    }
    snap(best)
}
