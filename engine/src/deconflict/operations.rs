//! Operation-versus-operation conflicts: pairs of volumes close in time, altitude and space.

use std::collections::BTreeMap;

use super::volume::{Core, Volume, band_gap};
use super::{Conflict, ConflictKind, Hit, Planned, merge_hits, widened_overlap};
use crate::geodesy::{BBox, distance_m, geodesic_segments_distance};
use crate::model::Minima;

pub(crate) fn conflicts(
    vols: &[Volume],
    labels: &[String],
    others: &[&Planned<'_>],
    m: &Minima,
    out: &mut Vec<Conflict>,
) {
    let mut hits: BTreeMap<&str, Vec<Hit>> = BTreeMap::new();
    let boxes: Vec<BBox> = vols.iter().map(|v| v.bbox(m.horizontal_m)).collect();
    for planned in others {
        let other = planned.op;
        // cheap rejections first: the whole operation's time and band
        let window = other.window;
        if vols
            .iter()
            .all(|v| widened_overlap(v.window, m.time_buffer_ms, window).is_none())
            || vols
                .iter()
                .all(|v| band_gap(v.band, other.altitude_m) >= m.vertical_m)
        {
            continue;
        }
        for (ov, obox) in planned.vols() {
            for (vi, v) in vols.iter().enumerate() {
                let Some(when) = widened_overlap(v.window, m.time_buffer_ms, ov.window) else {
                    continue;
                };
                if band_gap(v.band, ov.band) >= m.vertical_m || !boxes_intersect(&boxes[vi], obox) {
                    continue;
                }
                let (d, on_op, on_other) = core_distance(&v.core, &ov.core);
                let gap = d - v.buffer_m - ov.buffer_m;
                if gap < m.horizontal_m {
                    hits.entry(other.id.as_str()).or_default().push(Hit {
                        start: when.start.0,
                        end: when.end.0,
                        distance_m: gap.max(0.0),
                        cpa: when.start.0,
                        on_op,
                        on_other,
                        volume: vi,
                    });
                }
            }
        }
    }
    for (id, h) in hits {
        merge_hits(ConflictKind::Operation, id, None, h, labels, out);
    }
}

/// Least geodesic distance between two cores, with the closest points.
fn core_distance(a: &Core, b: &Core) -> (f64, (f64, f64), (f64, f64)) {
    match (a, b) {
        (Core::Leg(x), Core::Leg(y)) => {
            let (x0, x1) = x.endpoints();
            let (y0, y1) = y.endpoints();
            let c = geodesic_segments_distance(x0, x1, y0, y1);
            (c.distance_m, c.on_first, c.on_second)
        }
        (Core::Leg(x), Core::Point(q)) => {
            let c = x.closest_to(*q);
            (c.distance_m, c.point, *q)
        }
        (Core::Point(p), Core::Leg(y)) => {
            let c = y.closest_to(*p);
            (c.distance_m, *p, c.point)
        }
        (Core::Point(p), Core::Point(q)) => (distance_m(*p, *q), *p, *q),
    }
}

/// Antimeridian-aware box intersection.
pub(crate) fn boxes_intersect(a: &BBox, b: &BBox) -> bool {
    if a.north < b.south || b.north < a.south {
        return false;
    }
    a.lon_ranges()
        .any(|(w1, e1)| b.lon_ranges().any(|(w2, e2)| w1 <= e2 && w2 <= e1))
}
