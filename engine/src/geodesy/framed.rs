//! Track pieces against a route leg or a point, decided in local frames with a proven error
//! bound — the fast path that lets `check` solve exactly only the pieces near a threshold.
//!
//! A [`FramedCore`] cuts the core (a geodesic leg, or a point) into chunks of at most
//! [`CHUNK_M`]; each chunk gets its own [`LocalFrame`] (centred on it), its chord in that frame,
//! and two bounds:
//!
//! * **scale**: `(k_lo, k_hi)` over the chunk's latitude band widened by the threshold `T`
//!   ([`LocalFrame::scale_bounds`]): a geodesic shorter than `T` from a point of the chunk stays
//!   in that band, so `d ≥ k_lo · d_frame`, and a lon/lat-straight path inside the band is at
//!   most `k_hi` times its frame length;
//! * **straightness**: `e`, the largest frame distance between the geodesic chunk and its
//!   chord. In the frame a geodesic's curvature is at most
//!   `κ ≤ (2 tan|φ|/a + 3e²/(2(1−e²))/M_min) · k_hi²/k_lo` (from `dα/ds = sin α tan φ / N`
//!   and the derivatives of the frame's scale ratios), and a curve of frame length `L` with
//!   `κL ≤ 1` stays within `κL²/8` of its chord.
//!
//! A track piece is a straight segment in every such frame (frames are affine in lon/lat), so
//! for the distance `d(t)` of the moving point to the core:
//!
//! * `min d ≥ min(T, minₖ k_lo (dist(piece, chordₖ) − eₖ))`: **outside** when that is ≥ `T`;
//! * `max d ≤ k_hi (max(D(p0), D(p1)) + e)` for any one chunk (the frame distance `D` to a
//!   chord is convex along the piece): **inside** over the whole piece when that is `< T`,
//!   with `min d ≤ minₖ k_hi (dist(piece, chordₖ) + eₖ)`;
//! * anything else is **unknown**, and goes to the exact kernel.
//!
//! The relative width of the undecided band is about `|Δφ| tan φ` over the band (≈ 0.2 % for
//! `T` = 15 km at 35°): only the pieces that cross the threshold, and a few next to them, are
//! solved exactly. Frames are refused (everything unknown) near the poles (beyond ±85°) and
//! where a geodesic of length `T` could span more than 45° of longitude.

use super::frame::{LocalFrame, parallel_radius, widen_lat};
use super::kernel::{Curve, GeodesicSegment, geodesic_ubox};
use super::{MIN_RADIUS_M, WGS84_A, lon_delta};
use crate::geodesy::WGS84_E2;

/// Longest chunk a leg is cut into (legs longer than `MAX_CHUNKS` of them use longer chunks).
pub(crate) const CHUNK_M: f64 = 20_000.0;
/// Most chunks per leg.
const MAX_CHUNKS: usize = 256;
/// Bands reaching beyond this latitude get no frames.
const MAX_LAT: f64 = 85.0;

/// What the frames prove about a piece of track against a core, for the threshold `T`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PieceVsCore {
    /// The distance stays ≥ `T` over the whole piece.
    Outside,
    /// The distance stays < `T` over the whole piece; its least value lies in `[lo, hi]`.
    Inside { lo: f64, hi: f64 },
    /// The distance is < `T` at the end `inside_end` (`true`: `p1`) and ≥ `T` at the other;
    /// its least value over the piece lies in `[lo, hi]`. Under the kernel's unimodality
    /// assumption it crosses `T` once: only that time needs the exact kernel.
    Crossing { inside_end: bool, lo: f64, hi: f64 },
    /// Undecided. `ends[0]` (at `p0`) and `ends[1]` (at `p1`) say what is proven at each end:
    /// `Some(true)` the distance is < `T` there, `Some(false)` it is ≥ `T`, `None` unknown;
    /// the least distance over the piece lies in `[lo, hi]` (`hi` may be infinite). Settle
    /// what is unknown at the ends with exact distances, or ask the exact kernel.
    Unknown {
        ends: [Option<bool>; 2],
        lo: f64,
        hi: f64,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Chunk {
    pub(super) frame: LocalFrame,
    /// The chord's ends, frame metres.
    pub(super) a: (f64, f64),
    pub(super) b: (f64, f64),
    /// Largest frame distance between the geodesic chunk and its chord.
    pub(super) e: f64,
    k_lo: f64,
    k_hi: f64,
    /// The chunk's latitudes widened by `T`.
    lat_lo: f64,
    lat_hi: f64,
    /// Frame distance beyond which the chunk is certainly ≥ `T` away (`T/k_lo + e`).
    reach: f64,
    /// The chord's box widened by `reach`: `(x_lo, x_hi, y_lo, y_hi)`, frame metres (a piece
    /// outside it along an axis is farther than `reach`).
    pub(super) near: (f64, f64, f64, f64),
    /// The chord's vector `b − a` and its squared length.
    ab: (f64, f64),
    ab2: f64,
    /// `near` in degrees, widened by [`BOX_SLACK_DEG`]: `[west, east, south, north]`,
    /// longitudes as offsets from the first chunk's `lon0` (set by [`FramedCore::of`]; see
    /// [`FramedCore::piece_near`]).
    deg: [f64; 4],
}

/// Slack of the chunks' boxes in degrees: far more than the rounding of the conversions
/// (≈ 1e-14°), far less than anything that matters (≈ 0.1 mm).
const BOX_SLACK_DEG: f64 = 1e-9;

/// A leg or point prepared for [`FramedCore::piece`] at one threshold.
#[derive(Debug, Clone)]
pub(crate) struct FramedCore {
    pub(super) chunks: Vec<Chunk>,
    t: f64,
    /// The union of the chunks' widened latitude bands.
    lat_lo: f64,
    lat_hi: f64,
    /// The longitudes (unwrapped from the first chunk's `lon0`) beyond which every chunk is
    /// farther than its `reach` in its frame; `None` when the chunks span too much longitude.
    lon_reach: Option<(f64, f64)>,
    /// Whether the chunks' `deg` boxes apply: every chunk's `lon0` within 45° of the first's.
    boxed: bool,
}

impl FramedCore {
    /// The frames of a point at threshold `t` (`None` where frames are refused).
    pub(crate) fn point(q: (f64, f64), t: f64) -> Option<FramedCore> {
        let frame = LocalFrame::new(q.0, q.1);
        let chunk = chunk(frame, (q, q), (q.1, q.1), 0.0, t)?;
        Some(FramedCore::of(vec![chunk], t))
    }

    /// The frames of a geodesic leg at threshold `t` (`None` where frames are refused).
    pub(crate) fn leg(seg: &GeodesicSegment, t: f64) -> Option<FramedCore> {
        let len = seg.length_m();
        if len == 0.0 {
            return FramedCore::point(seg.endpoints().0, t);
        }
        let n = ((len / CHUNK_M).ceil() as usize).clamp(1, MAX_CHUNKS);
        let mut prev = seg.at(0.0);
        let mut chunks = Vec::with_capacity(n);
        for i in 1..=n {
            let cur = seg.at(i as f64 / n as f64);
            let (pa, pb) = ((prev.lon, prev.lat), (cur.lon, cur.lat));
            let bx = geodesic_ubox(pa, prev.dir, pb, cur.dir);
            if bx.e - bx.w >= 45.0 {
                return None;
            }
            let frame = LocalFrame::new(pa.0 + 0.5 * lon_delta(pa.0, pb.0), 0.5 * (pa.1 + pb.1));
            chunks.push(chunk(frame, (pa, pb), (bx.s, bx.n), len / n as f64, t)?);
            prev = cur;
        }
        Some(FramedCore::of(chunks, t))
    }

    fn of(mut chunks: Vec<Chunk>, t: f64) -> FramedCore {
        let lat_lo = chunks.iter().map(|c| c.lat_lo).fold(90.0, f64::min);
        let lat_hi = chunks.iter().map(|c| c.lat_hi).fold(-90.0, f64::max);
        let lon0 = chunks[0].frame.lon0;
        let mut lon_reach = Some((f64::INFINITY, f64::NEG_INFINITY));
        for c in &chunks {
            let off = lon_delta(lon0, c.frame.lon0);
            let m = c.frame.m_per_deg_lon;
            if off.abs() > 45.0 {
                lon_reach = None;
                break;
            }
            if let Some((w, e)) = &mut lon_reach {
                *w = w.min(off + (c.a.0.min(c.b.0) - c.reach) / m);
                *e = e.max(off + (c.a.0.max(c.b.0) + c.reach) / m);
            }
        }
        let boxed = chunks
            .iter()
            .all(|c| lon_delta(lon0, c.frame.lon0).abs() <= 45.0);
        if boxed {
            for c in &mut chunks {
                let off = lon_delta(lon0, c.frame.lon0);
                let (f, (x_lo, x_hi, y_lo, y_hi)) = (&c.frame, c.near);
                c.deg = [
                    off + x_lo / f.m_per_deg_lon - BOX_SLACK_DEG,
                    off + x_hi / f.m_per_deg_lon + BOX_SLACK_DEG,
                    f.lat0 + y_lo / f.m_per_deg_lat - BOX_SLACK_DEG,
                    f.lat0 + y_hi / f.m_per_deg_lat + BOX_SLACK_DEG,
                ];
            }
        }
        FramedCore {
            chunks,
            t,
            lat_lo,
            lat_hi,
            lon_reach: lon_reach.filter(|(w, e)| e - w < 90.0),
            boxed,
        }
    }

    /// True when the piece from `p0` to `p1` (linear in lon/lat) certainly stays ≥ `T` from
    /// the core: outside the union of the chunks' latitude bands, or of their reach in
    /// longitude. A few comparisons: the first test for every piece.
    #[inline]
    pub(crate) fn far(&self, p0: (f64, f64), p1: (f64, f64)) -> bool {
        if p0.1.max(p1.1) < self.lat_lo || p0.1.min(p1.1) > self.lat_hi {
            return true;
        }
        let Some((w, e)) = self.lon_reach else {
            return false;
        };
        // Every chunk's frame x is its `lon0`'s offset plus the longitude offset, scaled:
        // outside this range `piece` skips every chunk.
        let l0 = lon_delta(self.chunks[0].frame.lon0, p0.0);
        let l1 = l0 + lon_delta(p0.0, p1.0);
        l0.abs() < 90.0 && l1.abs() < 90.0 && (l0.max(l1) < w || l0.min(l1) > e)
    }

    /// What the frames prove about a point moving linearly in lon/lat (the short way) from
    /// `p0` to `p1`, against the core at this threshold.
    pub(crate) fn piece(&self, p0: (f64, f64), p1: (f64, f64)) -> PieceVsCore {
        if self.far(p0, p1) {
            return PieceVsCore::Outside;
        }
        self.piece_near(p0, p1)
    }

    /// [`FramedCore::piece`] for a piece that [`FramedCore::far`] has already let through
    /// (the same answer, bit for bit, without that test).
    ///
    /// One pass over the chunks with the chord's vectors and widened boxes computed once and
    /// plain comparisons for `min`/`max` (nothing here is NaN: a frame that does not apply
    /// returns before any distance): the same operations in the same order as
    /// [`point_seg_dist`] and [`seg_seg_dist`], so the same bounds.
    pub(crate) fn piece_near(&self, p0: (f64, f64), p1: (f64, f64)) -> PieceVsCore {
        let dl = lon_delta(p0.0, p1.0);
        let (plo, phi) = if p1.1 < p0.1 {
            (p1.1, p0.1)
        } else {
            (p0.1, p1.1)
        };
        // Lower bounds of the distance: over the piece, at p0, at p1; upper bounds of its
        // least value and of the distance at p0, at p1.
        let (mut lb, mut lb0, mut lb1) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
        let (mut ub, mut ub0, mut ub1) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
        let mut inside = false;
        // The degree boxes skip, with four comparisons, chunks whose own tests below would
        // reject the piece: outside chunk k's box, the piece's longitude offsets from its
        // `lon0` (those from the first chunk's, minus k's offset, to within 1e-14°) put its
        // frame x beyond `near` by at least `BOX_SLACK_DEG` times the frame's scale, and its
        // latitudes likewise put y. Within 44° of the first chunk's `lon0`, with every chunk's
        // `lon0` within 45° of it, no chunk's frame is refused (`|l| < 90°`), so a skipped
        // chunk never hides the refusal either: the answer is the full loop's, bit for bit.
        let l00 = lon_delta(self.chunks[0].frame.lon0, p0.0);
        let l01 = l00 + dl;
        let boxed = self.boxed && l00.abs() < 44.0 && l01.abs() < 44.0;
        let (lw, le) = if l01 < l00 { (l01, l00) } else { (l00, l01) };
        for c in &self.chunks {
            if boxed && (le < c.deg[0] || lw > c.deg[1] || phi < c.deg[2] || plo > c.deg[3]) {
                continue;
            }
            if phi < c.lat_lo || plo > c.lat_hi {
                continue; // every point of the piece is more than T from the chunk
            }
            let l0 = lon_delta(c.frame.lon0, p0.0);
            let l1 = l0 + dl;
            if l0.abs() >= 90.0 || l1.abs() >= 90.0 {
                return PieceVsCore::Unknown {
                    ends: [None, None],
                    lo: 0.0,
                    hi: f64::INFINITY,
                };
            }
            let f = &c.frame;
            let q0 = (l0 * f.m_per_deg_lon, (p0.1 - f.lat0) * f.m_per_deg_lat);
            let q1 = (l1 * f.m_per_deg_lon, (p1.1 - f.lat0) * f.m_per_deg_lat);
            let (x_lo, x_hi, y_lo, y_hi) = c.near;
            let (qx_lo, qx_hi) = if q1.0 < q0.0 {
                (q1.0, q0.0)
            } else {
                (q0.0, q1.0)
            };
            let (qy_lo, qy_hi) = if q1.1 < q0.1 {
                (q1.1, q0.1)
            } else {
                (q0.1, q1.1)
            };
            if qx_lo > x_hi || qx_hi < x_lo || qy_lo > y_hi || qy_hi < y_lo {
                continue; // farther than `reach` along an axis
            }
            let (d0, d1) = (c.chord_dist(q0), c.chord_dist(q1));
            let sd = seg_seg_dist(q0, q1, c.a, c.b, (d0, d1));
            lb = lesser(lb, c.k_lo * (sd - c.e));
            lb0 = lesser(lb0, c.k_lo * (d0 - c.e));
            lb1 = lesser(lb1, c.k_lo * (d1 - c.e));
            // Upper bounds need the lon/lat-straight path to the chunk inside the band.
            let in0 = p0.1 >= c.lat_lo && p0.1 <= c.lat_hi;
            let in1 = p1.1 >= c.lat_lo && p1.1 <= c.lat_hi;
            if in0 {
                ub0 = lesser(ub0, c.k_hi * (d0 + c.e));
            }
            if in1 {
                ub1 = lesser(ub1, c.k_hi * (d1 + c.e));
            }
            if in0 && in1 {
                ub = lesser(ub, c.k_hi * (sd + c.e));
                inside |= below(c.k_hi * (greater(d0, d1) + c.e), self.t);
            }
        }
        self.verdict([lb, lb0, lb1], [ub, ub0, ub1], inside)
    }

    /// The classification from the bounds gathered over the chunks.
    #[inline(always)]
    fn verdict(
        &self,
        [lb, lb0, lb1]: [f64; 3],
        [ub, ub0, ub1]: [f64; 3],
        inside: bool,
    ) -> PieceVsCore {
        let lo = (lb * (1.0 - 1e-9) - 1e-6).max(0.0);
        if lo >= self.t {
            return PieceVsCore::Outside;
        }
        if inside {
            return PieceVsCore::Inside {
                lo,
                hi: ub * (1.0 + 1e-9) + 1e-6,
            };
        }
        let at_least = |x: f64| x * (1.0 - 1e-9) - 1e-6 >= self.t;
        let end = |ub: f64, lb: f64| {
            if below(ub, self.t) {
                Some(true)
            } else if at_least(lb) {
                Some(false)
            } else {
                None
            }
        };
        let inside_end = match (end(ub0, lb0), end(ub1, lb1)) {
            (Some(false), Some(true)) => true,
            (Some(true), Some(false)) => false,
            (e0, e1) => {
                return PieceVsCore::Unknown {
                    ends: [e0, e1],
                    lo,
                    hi: ub0.min(ub1) * (1.0 + 1e-9) + 1e-6,
                };
            }
        };
        PieceVsCore::Crossing {
            inside_end,
            lo,
            hi: if inside_end { ub1 } else { ub0 } * (1.0 + 1e-9) + 1e-6,
        }
    }

    /// The chunk loop as it was before [`FramedCore::piece_near`] (kept for the test that
    /// proves the two loops give the same bounds, bit for bit).
    #[cfg(test)]
    pub(crate) fn piece_reference(&self, p0: (f64, f64), p1: (f64, f64)) -> PieceVsCore {
        if self.far(p0, p1) {
            return PieceVsCore::Outside;
        }
        let dl = lon_delta(p0.0, p1.0);
        // Lower bounds of the distance: over the piece, at p0, at p1; upper bounds of its
        // least value and of the distance at p0, at p1.
        let (mut lb, mut lb0, mut lb1) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
        let (mut ub, mut ub0, mut ub1) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
        let mut inside = false;
        for c in &self.chunks {
            let Some((q0, q1)) = self.in_frame(c, p0, p1, dl) else {
                continue;
            };
            if q0.0.is_nan() {
                return PieceVsCore::Unknown {
                    ends: [None, None],
                    lo: 0.0,
                    hi: f64::INFINITY,
                };
            }
            let (d0, d1) = (point_seg_dist(q0, c.a, c.b), point_seg_dist(q1, c.a, c.b));
            let sd = seg_seg_dist(q0, q1, c.a, c.b, (d0, d1));
            lb = lb.min(c.k_lo * (sd - c.e));
            lb0 = lb0.min(c.k_lo * (d0 - c.e));
            lb1 = lb1.min(c.k_lo * (d1 - c.e));
            // Upper bounds need the lon/lat-straight path to the chunk inside the band.
            let band = |lat: f64| lat >= c.lat_lo && lat <= c.lat_hi;
            if band(p0.1) {
                ub0 = ub0.min(c.k_hi * (d0 + c.e));
            }
            if band(p1.1) {
                ub1 = ub1.min(c.k_hi * (d1 + c.e));
            }
            if band(p0.1) && band(p1.1) {
                ub = ub.min(c.k_hi * (sd + c.e));
                inside |= below(c.k_hi * (d0.max(d1) + c.e), self.t);
            }
        }
        // The verdict from the bounds is shared: the loop is what changed.
        self.verdict([lb, lb0, lb1], [ub, ub0, ub1], inside)
    }

    /// The piece's ends in the chunk's frame; `None` when the whole piece is certainly farther
    /// than `T` from the chunk; NaNs when the frame does not apply (too far in longitude).
    #[inline]
    fn in_frame(
        &self,
        c: &Chunk,
        p0: (f64, f64),
        p1: (f64, f64),
        dl: f64,
    ) -> Option<((f64, f64), (f64, f64))> {
        let (plo, phi) = (p0.1.min(p1.1), p0.1.max(p1.1));
        if phi < c.lat_lo || plo > c.lat_hi {
            return None; // every point of the piece is more than T from the chunk
        }
        let l0 = lon_delta(c.frame.lon0, p0.0);
        let l1 = l0 + dl;
        if l0.abs() >= 90.0 || l1.abs() >= 90.0 {
            return Some(((f64::NAN, f64::NAN), (f64::NAN, f64::NAN)));
        }
        let f = &c.frame;
        let q0 = (l0 * f.m_per_deg_lon, (p0.1 - f.lat0) * f.m_per_deg_lat);
        let q1 = (l1 * f.m_per_deg_lon, (p1.1 - f.lat0) * f.m_per_deg_lat);
        let r = c.reach;
        if q0.0.min(q1.0) > c.a.0.max(c.b.0) + r
            || q0.0.max(q1.0) < c.a.0.min(c.b.0) - r
            || q0.1.min(q1.1) > c.a.1.max(c.b.1) + r
            || q0.1.max(q1.1) < c.a.1.min(c.b.1) - r
        {
            return None; // farther than `reach` along an axis
        }
        Some((q0, q1))
    }

    /// A guess of where a [`PieceVsCore::Crossing`] piece crosses `T`, as a fraction of the
    /// piece: where the frames' mid-scale distance does (bisection; only a starting point for
    /// the exact solver).
    pub(crate) fn crossing_guess(&self, p0: (f64, f64), p1: (f64, f64), inside_end: bool) -> f64 {
        let dl = lon_delta(p0.0, p1.0);
        // Per chunk near the piece: its start and direction in the frame and the mid scale,
        // computed once for the bisection's steps (the same operations as computing them at
        // each step).
        let near: Vec<InFrame<'_>> = self
            .chunks
            .iter()
            .filter_map(|c| {
                let (q0, q1) = self.in_frame(c, p0, p1, dl)?;
                Some((c, q0, (q1.0 - q0.0, q1.1 - q0.1), 0.5 * (c.k_lo + c.k_hi)))
            })
            .collect();
        // NaN (a frame that does not apply) is ignored, as `f64::min` does.
        let d = |u: f64| {
            near.iter().fold(f64::INFINITY, |m, (c, q0, dq, k)| {
                let d = k * c.chord_dist((q0.0 + u * dq.0, q0.1 + u * dq.1));
                if d < m { d } else { m }
            })
        };
        bisect_crossing(self.t, inside_end, d)
    }

    /// [`FramedCore::crossing_guess`] as it was (kept for the test that proves the two equal).
    #[cfg(test)]
    pub(crate) fn crossing_guess_reference(
        &self,
        p0: (f64, f64),
        p1: (f64, f64),
        inside_end: bool,
    ) -> f64 {
        let dl = lon_delta(p0.0, p1.0);
        let near: Vec<_> = self
            .chunks
            .iter()
            .filter_map(|c| self.in_frame(c, p0, p1, dl).map(|(q0, q1)| (c, q0, q1)))
            .collect();
        let d = |u: f64| {
            near.iter()
                .map(|(c, q0, q1)| {
                    let q = (q0.0 + u * (q1.0 - q0.0), q0.1 + u * (q1.1 - q0.1));
                    0.5 * (c.k_lo + c.k_hi) * point_seg_dist(q, c.a, c.b)
                })
                .fold(f64::INFINITY, f64::min)
        };
        bisect_crossing(self.t, inside_end, d)
    }
}

/// A chunk near a piece: the piece's start and direction in its frame, and the chunk's mid
/// scale `(k_lo + k_hi) / 2`.
type InFrame<'a> = (&'a Chunk, (f64, f64), (f64, f64), f64);

/// Halvings of a crossing guess's bracket: 2⁻¹⁶ of a piece is under 1 ms for pieces up to a
/// minute long, far below the frames' own error (their scale bounds are ≈ 0.2 % apart: tens of
/// metres, tens of milliseconds), which the exact solver's Newton steps remove.
const GUESS_HALVINGS: usize = 16;

/// The fraction of a piece where the distance `d(u)` crosses `t`, by [`GUESS_HALVINGS`]
/// halvings from the end outside (`inside_end` names the end inside).
fn bisect_crossing(t: f64, inside_end: bool, d: impl Fn(f64) -> f64) -> f64 {
    let (mut out, mut inn) = if inside_end { (0.0, 1.0) } else { (1.0, 0.0) };
    for _ in 0..GUESS_HALVINGS {
        let mid = 0.5 * (out + inn);
        if d(mid) >= t {
            out = mid;
        } else {
            inn = mid;
        }
    }
    0.5 * (out + inn)
}

/// `x` is certainly below `t`, with margins for rounding.
fn below(x: f64, t: f64) -> bool {
    x * (1.0 + 1e-9) + 1e-6 < t
}

/// A chunk from `ends` (lon/lat) in `frame`, its latitudes `lats` and its geodesic length
/// `len` (0 for a point), at threshold `t`; `None` where frames are refused.
fn chunk(
    frame: LocalFrame,
    ends: ((f64, f64), (f64, f64)),
    lats: (f64, f64),
    len: f64,
    t: f64,
) -> Option<Chunk> {
    let (lat_lo, lat_hi) = widen_lat(lats.0, lats.1, t);
    let max_abs = lat_lo.abs().max(lat_hi.abs());
    if max_abs > MAX_LAT {
        return None;
    }
    // A geodesic shorter than t inside the band spans at most this much longitude.
    if (t / parallel_radius(max_abs)).to_degrees() > 45.0 {
        return None;
    }
    let (k_lo, k_hi) = frame.scale_bounds(lat_lo, lat_hi);
    let e = if len > 0.0 {
        // Curvature of a geodesic in the frame (see the module docs), with a 1 % margin.
        let dm = 1.5 * WGS84_E2 / (1.0 - WGS84_E2) / MIN_RADIUS_M;
        let kappa = (2.0 * max_abs.to_radians().tan() / WGS84_A + dm) // N ≥ a
            * k_hi
            * k_hi
            / k_lo
            * 1.01;
        let l_frame = len / k_lo;
        if kappa * l_frame > 1.0 {
            return None;
        }
        kappa * l_frame * l_frame / 8.0 * 1.01 + 1e-6
    } else {
        0.0
    };
    let (a, b) = (frame.to_xy(ends.0), frame.to_xy(ends.1));
    let reach = (t / k_lo + e) * (1.0 + 1e-9) + 1e-6;
    let ab = (b.0 - a.0, b.1 - a.1);
    Some(Chunk {
        frame,
        a,
        b,
        e,
        k_lo,
        k_hi,
        lat_lo,
        lat_hi,
        reach,
        near: (
            a.0.min(b.0) - reach,
            a.0.max(b.0) + reach,
            a.1.min(b.1) - reach,
            a.1.max(b.1) + reach,
        ),
        ab,
        ab2: ab.0 * ab.0 + ab.1 * ab.1,
        deg: [
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
        ],
    })
}

/// The lesser of two numbers that are not NaN (a plain comparison: `f64::min` also handles
/// NaN, at a few instructions more in the hot loops).
#[inline(always)]
fn lesser(x: f64, y: f64) -> f64 {
    if y < x { y } else { x }
}

/// The greater of two numbers that are not NaN (see [`lesser`]).
#[inline(always)]
fn greater(x: f64, y: f64) -> f64 {
    if y > x { y } else { x }
}

impl Chunk {
    /// [`point_seg_dist`] from `p` to the chord, with the chord's vector computed once (the
    /// same operations, bit for bit).
    #[inline(always)]
    fn chord_dist(&self, p: (f64, f64)) -> f64 {
        dist_to_vector(p, self.a, self.ab, self.ab2)
    }
}

/// Distance from `p` to the segment `a→b` in the plane.
pub(super) fn point_seg_dist(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    dist_to_vector(p, a, (dx, dy), dx * dx + dy * dy)
}

/// Distance from `p` to the segment from `a` along `(dx, dy)`, whose squared length is `l2`.
#[inline(always)]
fn dist_to_vector(p: (f64, f64), a: (f64, f64), (dx, dy): (f64, f64), l2: f64) -> f64 {
    let u = if l2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (x, y) = (a.0 + u * dx - p.0, a.1 + u * dy - p.1);
    (x * x + y * y).sqrt()
}

/// Distance between the segments `p0→p1` and `a→b` in the plane (0 when they cross), given
/// the distances `(d0, d1)` of `p0` and `p1` to `a→b`.
fn seg_seg_dist(
    p0: (f64, f64),
    p1: (f64, f64),
    a: (f64, f64),
    b: (f64, f64),
    (d0, d1): (f64, f64),
) -> f64 {
    let cross = |o: (f64, f64), x: (f64, f64), y: (f64, f64)| {
        (x.0 - o.0) * (y.1 - o.1) - (x.1 - o.1) * (y.0 - o.0)
    };
    let (c1, c2) = (cross(a, b, p0), cross(a, b, p1));
    let (c3, c4) = (cross(p0, p1, a), cross(p0, p1, b));
    if ((c1 > 0.0 && c2 < 0.0) || (c1 < 0.0 && c2 > 0.0))
        && ((c3 > 0.0 && c4 < 0.0) || (c3 < 0.0 && c4 > 0.0))
    {
        return 0.0;
    }
    d0.min(d1)
        .min(point_seg_dist(a, p0, p1))
        .min(point_seg_dist(b, p0, p1))
}
