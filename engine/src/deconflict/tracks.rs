//! Track conflicts: interpolated trajectories against an operation's volumes.
//!
//! Each candidate entity's pieces are read once for all the volumes it may reach. A piece is
//! first settled by the volume's core in local frames ([`FramedCore`], proven bounds): far or
//! outside → no hit; inside over its whole interval → a hit whose least distance is only
//! bounded; crossing the threshold once → only the crossing time is solved exactly; anything
//! else → the exact kernel. Per merged conflict, only the hits that can be its least are then
//! solved exactly ([`merge_pending`]).

use std::collections::{BTreeMap, HashSet};

use super::volume::{Core, Volume};
use super::{Conflict, ConflictKind, Hit, Pending, merge_pending};
use crate::error::Result;
use crate::geodesy::{FramedCore, PieceVsCore, moving_point_vs_point, point_crossing_ms};
use crate::model::{Minima, Operation};
use crate::segment::BoxFilter;
use crate::snapshot::Snapshot;
use crate::time::{TimeRange, Timestamp};
use crate::trajectory::{Piece, entity_rows, pieces_in};

pub(crate) fn conflicts(
    snap: &Snapshot,
    op: &Operation,
    vols: &[Volume],
    labels: &[String],
    m: &Minima,
    out: &mut Vec<Conflict>,
) -> Result<()> {
    let own: HashSet<&str> = op.own_tracks.iter().map(String::as_str).collect();
    let widened: Vec<TimeRange> = vols
        .iter()
        .map(|v| v.window.widen(m.time_buffer_ms))
        .collect();
    // The candidates of every volume, each with the volumes it may reach (in volume order):
    // an entity near several volumes has its trajectory read once.
    let mut candidates: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (vi, v) in vols.iter().enumerate() {
        let filter = BoxFilter::new(
            &v.bbox(m.horizontal_m),
            (widened[vi].start.0, widened[vi].end.0),
            Some((v.band.0 - m.vertical_m, v.band.1 + m.vertical_m)),
        );
        for id in snap.piece_candidates(&filter, m.max_gap_ms)? {
            if !own.contains(id.as_str()) {
                candidates.entry(id).or_default().push(vi);
            }
        }
    }
    let mut framed: Vec<Option<Option<FramedCore>>> = vec![None; vols.len()];
    for (id, reach) in candidates {
        let parts = entity_rows(snap.segments(), &id)?;
        let range = reach
            .iter()
            .map(|&vi| widened[vi])
            .reduce(|a, b| TimeRange {
                start: a.start.min(b.start),
                end: a.end.max(b.end),
            })
            .expect("at least one volume");
        let pieces = pieces_in(&parts, range, m.max_gap_ms);
        let mut h = Vec::new();
        for vi in reach {
            let (v, w) = (&vols[vi], widened[vi]);
            let fc = framed[vi]
                .get_or_insert_with(|| v.framed(m.horizontal_m).filter(|_| frames_enabled()));
            for piece in &pieces {
                if piece.b.time < w.start || piece.a.time > w.end {
                    continue;
                }
                let window = (w.start.0, w.end.0);
                if let Some(x) = piece_vs_volume(piece, v, vi, fc.as_ref(), window, m) {
                    h.push(x);
                }
            }
        }
        if h.is_empty() {
            continue;
        }
        let pending: Vec<Pending> = h.iter().map(TrackHit::pending).collect();
        let resolve = |i: usize| match &h[i] {
            TrackHit::Exact(hit) => Some(*hit),
            TrackHit::Lazy(p) => p.resolve(&vols[p.hit.volume], m),
        };
        merge_pending(
            ConflictKind::Track,
            &id,
            None,
            &pending,
            resolve,
            labels,
            out,
        );
    }
    Ok(())
}

/// A piece's hit: solved exactly, or settled by the frames (inside the threshold over its
/// whole vertical interval, or crossing it once, that time solved exactly) with its least
/// distance only bounded until needed.
enum TrackHit {
    Exact(Hit),
    Lazy(LazyHit),
}

struct LazyHit {
    /// Interval and volume (distance, CPA and closest points are placeholders).
    hit: Hit,
    /// The moving point's ends and times over the vertical interval.
    p0: (f64, f64),
    p1: (f64, f64),
    tv: (i64, i64),
    /// Bounds of the hit's distance (`lo ≤ distance_m ≤ hi`).
    lo: f64,
    hi: f64,
}

impl TrackHit {
    fn pending(&self) -> Pending {
        match self {
            TrackHit::Exact(h) => Pending {
                start: h.start,
                end: h.end,
                lo: h.distance_m,
                hi: h.distance_m,
            },
            TrackHit::Lazy(p) => Pending {
                start: p.hit.start,
                end: p.hit.end,
                lo: p.lo,
                hi: p.hi,
            },
        }
    }
}

impl LazyHit {
    /// The exact hit: what [`piece_vs_volume`] would have found without the frames, with the
    /// interval already found (the same, or within 1 ms for a crossing solved from the frames).
    fn resolve(&self, v: &Volume, m: &Minima) -> Option<Hit> {
        let h = exact_hit(
            v,
            self.hit.volume,
            self.p0,
            self.p1,
            self.tv.0,
            self.tv.1,
            m,
        )?;
        Some(Hit {
            start: self.hit.start,
            end: self.hit.end,
            ..h
        })
    }
}

/// The sub-interval of `[t0, t1]` in which the piece's altitude is closer than `vertical_m` to
/// the band (the whole interval when an altitude is unknown), rounded outward to whole ms.
pub(crate) fn vertical_interval(
    p: &Piece,
    t0: i64,
    t1: i64,
    band: (f64, f64),
    vertical_m: f64,
) -> Option<(i64, i64)> {
    let (Some(a0), Some(a1)) = (p.a.alt, p.b.alt) else {
        return Some((t0, t1));
    };
    linear_inside(
        (p.a.time.0, a0),
        (p.b.time.0, a1),
        (t0, t1),
        (band.0 - vertical_m, band.1 + vertical_m),
    )
}

/// For a quantity linear in time through `(ta, va)` and `(tb, vb)`, the sub-interval of
/// `[t0, t1]` where it lies strictly inside `(lo, hi)`, rounded outward to whole ms.
pub(crate) fn linear_inside(
    a: (i64, f64),
    b: (i64, f64),
    (t0, t1): (i64, i64),
    (lo, hi): (f64, f64),
) -> Option<(i64, i64)> {
    let inside = |v: f64| lo < v && v < hi;
    let span = (b.0 - a.0) as f64;
    if span <= 0.0 || a.1 == b.1 {
        return inside(a.1).then_some((t0, t1));
    }
    let rate = (b.1 - a.1) / span; // per ms
    let at = |v: f64| a.0 as f64 + (v - a.1) / rate;
    let (x, y) = (at(lo), at(hi));
    let (s, e) = (x.min(y).max(t0 as f64), x.max(y).min(t1 as f64));
    if s >= e {
        // At most one instant touches a boundary: never strictly inside, unless the whole
        // (degenerate) interval is.
        return (t0 == t1 && inside(a.1 + rate * (t0 - a.0) as f64)).then_some((t0, t1));
    }
    Some(((s.floor() as i64).max(t0), (e.ceil() as i64).min(t1)))
}

/// Where and when a piece of trajectory comes closer than `horizontal_m` to the volume's
/// footprint, within the widened window and the vertical interval. `framed` (the volume's
/// core in local frames at this threshold) settles most pieces without the exact kernel.
fn piece_vs_volume(
    p: &Piece,
    v: &Volume,
    vi: usize,
    framed: Option<&FramedCore>,
    window: (i64, i64),
    m: &Minima,
) -> Option<TrackHit> {
    let t0 = p.a.time.0.max(window.0);
    let t1 = p.b.time.0.min(window.1);
    if t0 > t1 || framed.is_some_and(|fc| fc.far((p.a.lon, p.a.lat), (p.b.lon, p.b.lat))) {
        return None;
    }
    let (tv0, tv1) = vertical_interval(p, t0, t1, v.band, m.vertical_m)?;
    let (f0, f1) = (p.at(Timestamp(tv0)), p.at(Timestamp(tv1)));
    let (p0, p1) = ((f0.lon, f0.lat), (f1.lon, f1.lat));
    if tv0 < tv1
        && let Some(fc) = framed
    {
        let (start, end, lo, hi) = match fc.piece(p0, p1) {
            PieceVsCore::Outside => return None,
            PieceVsCore::Inside { lo, hi } => (tv0, tv1, lo, hi),
            PieceVsCore::Crossing { inside_end, lo, hi } => {
                let guess = fc.crossing_guess(p0, p1, inside_end);
                let threshold = v.buffer_m + m.horizontal_m;
                let at = match &v.core {
                    Core::Leg(seg) => {
                        seg.crossing_ms((p0, p1), (tv0, tv1), threshold, inside_end, guess)
                    }
                    Core::Point(q) => {
                        point_crossing_ms((p0, p1), (tv0, tv1), *q, threshold, inside_end, guess)
                    }
                };
                match (at, inside_end) {
                    (Some(at), true) => (at, tv1, lo, hi),
                    (Some(at), false) => (tv0, at, lo, hi),
                    (None, _) => return exact_hit(v, vi, p0, p1, tv0, tv1, m).map(TrackHit::Exact),
                }
            }
            PieceVsCore::Unknown => {
                return exact_hit(v, vi, p0, p1, tv0, tv1, m).map(TrackHit::Exact);
            }
        };
        let clamp = |d: f64| (d - v.buffer_m).max(0.0);
        return Some(TrackHit::Lazy(LazyHit {
            hit: Hit {
                start,
                end,
                distance_m: clamp(hi),
                cpa: start,
                on_op: p0,
                on_other: p0,
                volume: vi,
            },
            p0,
            p1,
            tv: (tv0, tv1),
            lo: clamp(lo),
            hi: clamp(hi),
        }));
    }
    exact_hit(v, vi, p0, p1, tv0, tv1, m).map(TrackHit::Exact)
}

/// The exact kernel's answer for the moving point from `p0` at `tv0` to `p1` at `tv1`.
fn exact_hit(
    v: &Volume,
    vi: usize,
    p0: (f64, f64),
    p1: (f64, f64),
    tv0: i64,
    tv1: i64,
    m: &Minima,
) -> Option<Hit> {
    let threshold = v.buffer_m + m.horizontal_m;
    if tv0 == tv1 {
        let (d, on_op) = v.core_distance(p0);
        return (d < threshold).then_some(Hit {
            start: tv0,
            end: tv0,
            distance_m: (d - v.buffer_m).max(0.0),
            cpa: tv0,
            on_op,
            on_other: p0,
            volume: vi,
        });
    }
    let a = match &v.core {
        Core::Leg(seg) => seg.moving_point_approach(p0, p1, tv0, tv1, threshold),
        Core::Point(q) => moving_point_vs_point(p0, p1, tv0, tv1, *q, threshold),
    }?;
    if a.min_distance_m >= threshold {
        return None;
    }
    Some(Hit {
        start: a.start_ms.max(tv0),
        end: a.end_ms.min(tv1),
        distance_m: (a.min_distance_m - v.buffer_m).max(0.0),
        cpa: a.cpa_ms,
        on_op: a.point_on_other,
        on_other: a.point_on_track,
        volume: vi,
    })
}

/// Whether `check` may use the frames (tests turn them off to compare with the exact path).
#[cfg(not(test))]
fn frames_enabled() -> bool {
    true
}

#[cfg(test)]
thread_local! {
    static FRAMES: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

#[cfg(test)]
fn frames_enabled() -> bool {
    FRAMES.with(std::cell::Cell::get)
}

#[cfg(test)]
mod tests {
    use super::FRAMES;
    use crate::deconflict::Conflict;
    use crate::geodesy::{lon_delta, wgs84, wrap_lon};
    use crate::model::{Minima, Operation, Report, Target, Waypoint};
    use crate::time::{TimeRange, Timestamp};
    use crate::{Engine, ReportBatch};
    use geographiclib_rs::DirectGeodesic;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const T0: i64 = 1_600_000_000_000;

    fn go(p: (f64, f64), azi: f64, s: f64) -> (f64, f64) {
        let (lat, lon): (f64, f64) = wgs84().direct(p.1, p.0, azi, s);
        (wrap_lon(lon), lat)
    }

    /// `check` gives the same reports with the frames' fast path and without it (every piece
    /// solved by the exact kernel): bit for bit, but for interval ends within 1 ms: aircraft every 5 s crossing, following and
    /// circling routes of short and long legs, mid and high latitudes and the antimeridian.
    #[test]
    fn frames_change_nothing_in_check_reports() {
        let mut rng = ChaCha8Rng::seed_from_u64(31);
        let mut compared = 0;
        for case in 0..12 {
            let base = [(36.0, 35.5), (179.9, -20.0), (20.0, 79.0), (-60.0, 55.0)][case % 4];
            let dir = tempfile::tempdir().unwrap();
            let engine = Engine::create(dir.path()).unwrap();
            let mut w = engine.writer().unwrap();
            let mut b = ReportBatch::new();
            for k in 0..150 {
                let mut p = go(base, rng.gen_range(0.0..360.0), rng.gen_range(0.0..60e3));
                let (mut azi, speed) = (rng.gen_range(0.0..360.0), rng.gen_range(50.0..300.0));
                let turn = if k % 3 == 0 {
                    rng.gen_range(-2.0..2.0)
                } else {
                    0.0
                };
                let (mut alt, climb) = (rng.gen_range(3000.0..9000.0), rng.gen_range(-15.0..15.0));
                for i in 0..240 {
                    let t = T0 + i * 5_000;
                    let r = Report::new(format!("A{k}"), "red", Timestamp(t), p.0, p.1, Some(alt));
                    b.push(&r.unwrap()).unwrap();
                    let (lat, lon, a2): (f64, f64, f64) =
                        wgs84().direct(p.1, p.0, azi, speed * 5.0);
                    p = (wrap_lon(lon), lat);
                    azi = a2 + turn;
                    alt = (alt + climb * 5.0).max(0.0);
                }
            }
            w.add(b).unwrap();
            w.commit().unwrap();
            let snap = engine.snapshot();
            for j in 0..6 {
                let mut route = vec![go(
                    base,
                    rng.gen_range(0.0..360.0),
                    rng.gen_range(0.0..20e3),
                )];
                for _ in 0..rng.gen_range(0..4) {
                    let len = if rng.gen_bool(0.2) {
                        300e3
                    } else {
                        rng.gen_range(2e3..80e3)
                    };
                    route.push(go(*route.last().unwrap(), rng.gen_range(0.0..360.0), len));
                }
                let target = go(base, rng.gen_range(0.0..360.0), rng.gen_range(0.0..30e3));
                let lo = rng.gen_range(2000.0..8000.0f64);
                let op = Operation {
                    id: format!("op-{j}"),
                    side: "blue".into(),
                    filed_at: Timestamp(T0 - 2 * 86_400_000),
                    method: "m".into(),
                    composition: "c".into(),
                    target: Target {
                        lon: target.0,
                        lat: target.1,
                        radius_m: [0.0, 500.0, 5000.0][j % 3],
                    },
                    window: TimeRange::new(Timestamp(T0 + 120_000), Timestamp(T0 + 900_000))
                        .unwrap(),
                    altitude_m: (lo, lo + rng.gen_range(0.0..3000.0)),
                    corridor_m: [0.0, 1000.0, 5000.0][rng.gen_range(0..3)],
                    route: route
                        .iter()
                        .map(|p| Waypoint {
                            lon: p.0,
                            lat: p.1,
                            time: None,
                        })
                        .collect(),
                    own_tracks: vec![],
                };
                assert!(lon_delta(base.0, op.target.lon).abs() < 5.0);
                let minima = Minima {
                    horizontal_m: [9260.0, 2000.0, 0.0][rng.gen_range(0..3)],
                    ..Minima::default()
                };
                let fast = snap.check(&op, &minima).unwrap();
                FRAMES.with(|f| f.set(false));
                let exact = snap.check(&op, &minima).unwrap();
                FRAMES.with(|f| f.set(true));
                // Crossing times are solved from the frames' guess: both are within a quarter
                // millisecond of the crossing, rounded outward, so they may differ by 1 ms.
                assert_eq!(
                    fast.conflicts.len(),
                    exact.conflicts.len(),
                    "case {case} op {j}"
                );
                for (f, e) in fast.conflicts.iter().zip(&exact.conflicts) {
                    let ms = (f.start.0 - e.start.0).abs().max((f.end.0 - e.end.0).abs());
                    let same = Conflict {
                        start: e.start,
                        end: e.end,
                        ..f.clone()
                    };
                    assert!(ms <= 1 && &same == e, "case {case} op {j}: {f:?} vs {e:?}");
                }
                compared += fast.conflicts.len();
            }
        }
        assert!(compared > 200, "only {compared} conflicts compared");
    }
}
