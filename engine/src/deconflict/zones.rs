//! Zone conflicts: volumes overlapping off-limits, protected and air-defence zones; targets in
//! off-limits or protected zones; targets outside every designated target area.

use super::operations::boxes_intersect;
use super::volume::{Core, Volume, band_gap};
use super::{Conflict, ConflictKind, Hit, merge_hits, widened_overlap};
use crate::geodesy::{BBox, Polygon, distance_m, geodesic_segment_vs_polygon_distance};
use crate::model::{Minima, Operation, Zone, ZoneKind, ZoneShape};
use crate::time::TimeRange;

/// A zone's geometry, ready for distance queries.
enum Geometry {
    Polygons(Vec<Polygon>),
    Circle((f64, f64), f64),
}

fn geometry(z: &Zone) -> Geometry {
    match &z.shape {
        ZoneShape::Circle { center, radius_m } => Geometry::Circle(*center, *radius_m),
        ZoneShape::Polygons(polys) => Geometry::Polygons(
            polys
                .iter()
                .filter_map(|rings| {
                    let (outer, holes) = rings.split_first()?;
                    // Zones are validated on the way in; a polygon the kernel still refuses
                    // (e.g. one winding around a pole) is skipped rather than guessed at.
                    Polygon::new(outer.clone(), holes.to_vec()).ok()
                })
                .collect(),
        ),
    }
}

fn bbox(g: &Geometry) -> BBox {
    match g {
        Geometry::Circle(c, r) => crate::geodesy::circle_bbox(c.0, c.1, *r),
        Geometry::Polygons(ps) => ps
            .iter()
            .map(Polygon::bbox)
            .reduce(union)
            .unwrap_or(BBox::WORLD),
    }
}

fn union(a: BBox, b: BBox) -> BBox {
    if a.crosses_antimeridian() || b.crosses_antimeridian() {
        return BBox {
            west: -180.0,
            east: 180.0,
            south: a.south.min(b.south),
            north: a.north.max(b.north),
        };
    }
    BBox {
        west: a.west.min(b.west),
        south: a.south.min(b.south),
        east: a.east.max(b.east),
        north: a.north.max(b.north),
    }
}

/// Least distance from a volume's core to the zone (0 inside), with the closest points.
fn core_to_zone(core: &Core, g: &Geometry) -> (f64, (f64, f64), (f64, f64)) {
    match (core, g) {
        (Core::Point(p), Geometry::Circle(c, r)) => (distance_m(*p, *c) - r, *p, *c),
        (Core::Leg(seg), Geometry::Circle(c, r)) => {
            let x = seg.closest_to(*c);
            (x.distance_m - r, x.point, *c)
        }
        (Core::Point(p), Geometry::Polygons(ps)) => ps
            .iter()
            .map(|poly| {
                let x = poly.distance_to_point(*p);
                (x.distance_m, *p, x.point)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or((f64::INFINITY, *p, *p)),
        (Core::Leg(seg), Geometry::Polygons(ps)) => {
            let (a, b) = seg.endpoints();
            ps.iter()
                .map(|poly| {
                    let x = geodesic_segment_vs_polygon_distance(a, b, poly);
                    (x.distance_m, x.on_first, x.on_second)
                })
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap_or((f64::INFINITY, a, a))
        }
    }
}

fn contains(g: &Geometry, p: (f64, f64)) -> bool {
    match g {
        Geometry::Circle(c, r) => distance_m(p, *c) <= *r,
        Geometry::Polygons(ps) => ps.iter().any(|poly| poly.contains(p)),
    }
}

fn zone_band(z: &Zone) -> (f64, f64) {
    (
        z.alt_min.unwrap_or(f64::NEG_INFINITY),
        z.alt_max.unwrap_or(f64::INFINITY),
    )
}

pub(crate) fn conflicts(
    op: &Operation,
    vols: &[Volume],
    labels: &[String],
    zones: &[Zone],
    m: &Minima,
    out: &mut Vec<Conflict>,
) {
    let target = (op.target.lon, op.target.lat);
    let target_vol = vols.len() - 1; // `volumes` puts the target last
    let mut areas_valid = false;
    let mut areas_span: Option<TimeRange> = None;
    let mut in_an_area = false;
    for z in zones {
        let kind = z.kind;
        if kind == ZoneKind::Presence {
            continue;
        }
        let g = geometry(z);
        if kind == ZoneKind::TargetArea {
            if let Some(when) = widened_overlap(op.window, m.time_buffer_ms, z.validity) {
                areas_valid = true;
                areas_span = Some(match areas_span {
                    None => when,
                    Some(s) => TimeRange {
                        start: s.start.min(when.start),
                        end: s.end.max(when.end),
                    },
                });
                in_an_area |= contains(&g, target);
            }
            continue;
        }
        let zbox = bbox(&g);
        let mut hits = Vec::new();
        for (vi, v) in vols.iter().enumerate() {
            let Some(when) = widened_overlap(v.window, m.time_buffer_ms, z.validity) else {
                continue;
            };
            if band_gap(v.band, zone_band(z)) >= m.vertical_m
                || !boxes_intersect(&v.bbox(0.0), &zbox)
            {
                continue;
            }
            let (d, on_op, on_zone) = core_to_zone(&v.core, &g);
            if d <= v.buffer_m {
                hits.push(Hit {
                    start: when.start.0,
                    end: when.end.0,
                    distance_m: 0.0,
                    cpa: when.start.0,
                    on_op,
                    on_other: on_zone,
                    volume: vi,
                });
            }
        }
        if matches!(kind, ZoneKind::OffLimits | ZoneKind::Protected)
            && let Some(when) = widened_overlap(op.window, m.time_buffer_ms, z.validity)
            && contains(&g, target)
        {
            hits.push(Hit {
                start: when.start.0,
                end: when.end.0,
                distance_m: 0.0,
                cpa: when.start.0,
                on_op: target,
                on_other: target,
                volume: target_vol,
            });
        }
        merge_hits(ConflictKind::Zone, &z.id, Some(kind), hits, labels, out);
    }
    if areas_valid
        && !in_an_area
        && let Some(span) = areas_span
    {
        out.push(Conflict {
            kind: ConflictKind::TargetArea,
            with: String::new(),
            start: span.start,
            end: span.end,
            distance_m: None,
            cpa_time: None,
            zone_kind: None,
            closest: None,
            volume: "target".into(),
        });
    }
}
