//! Track conflicts: interpolated trajectories against an operation's volumes.

use std::collections::{BTreeMap, HashSet};

use super::volume::{Core, Volume};
use super::{Conflict, ConflictKind, Hit, merge_hits};
use crate::error::Result;
use crate::geodesy::moving_point_vs_point;
use crate::model::{Minima, Operation};
use crate::segment::BoxFilter;
use crate::snapshot::Snapshot;
use crate::time::Timestamp;
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
    let mut hits: BTreeMap<String, Vec<Hit>> = BTreeMap::new();
    for (vi, v) in vols.iter().enumerate() {
        let widened = v.window.widen(m.time_buffer_ms);
        let filter = BoxFilter::new(
            &v.bbox(m.horizontal_m),
            (widened.start.0, widened.end.0),
            Some((v.band.0 - m.vertical_m, v.band.1 + m.vertical_m)),
        );
        for id in snap.piece_candidates(&filter, m.max_gap_ms)? {
            if own.contains(id.as_str()) {
                continue;
            }
            let parts = entity_rows(snap.segments(), &id)?;
            for piece in pieces_in(&parts, widened, m.max_gap_ms) {
                if let Some(h) = piece_vs_volume(&piece, v, vi, (widened.start.0, widened.end.0), m)
                {
                    hits.entry(id.clone()).or_default().push(h);
                }
            }
        }
    }
    for (id, h) in hits {
        merge_hits(ConflictKind::Track, &id, None, h, labels, out);
    }
    Ok(())
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
/// footprint, within the widened window and the vertical interval.
fn piece_vs_volume(
    p: &Piece,
    v: &Volume,
    vi: usize,
    window: (i64, i64),
    m: &Minima,
) -> Option<Hit> {
    let t0 = p.a.time.0.max(window.0);
    let t1 = p.b.time.0.min(window.1);
    if t0 > t1 {
        return None;
    }
    let (tv0, tv1) = vertical_interval(p, t0, t1, v.band, m.vertical_m)?;
    let (f0, f1) = (p.at(Timestamp(tv0)), p.at(Timestamp(tv1)));
    let (p0, p1) = ((f0.lon, f0.lat), (f1.lon, f1.lat));
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
