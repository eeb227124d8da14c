//! Zones: areas with a kind, a validity interval and an optional altitude band, and
//! [`InvalidObject`], the reasons a zone or an operation is refused.
//!
//! Invariants of a validated [`Zone`] (see [`Zone::validate`]):
//! - `id` is 1..=64 bytes; `side`, when present, is 1..=64 bytes;
//! - `validity.start <= validity.end`;
//! - `alt_min` / `alt_max`, when present, are finite, within [−1 000, 100 000] m, and
//!   `alt_min <= alt_max` when both are present;
//! - a circle has a finite centre within range and `0 < radius_m <= 10 000 km`;
//! - polygons: at least one polygon, each with an exterior ring and any number of holes; every
//!   ring is closed (first position == last), has at least 3 distinct points and a non-zero
//!   area, and does not touch or cross itself; the rings of one polygon do not touch or cross
//!   each other, every hole lies inside the exterior ring and outside the other holes.
//!
//! Polygon validity is checked in plane longitude/latitude, on the coordinates as given (no
//! antimeridian unwrapping). Ring orientation is free (RFC 7946's right-hand rule is not
//! enforced), repeated consecutive positions are allowed, and the polygons of a multipolygon
//! may overlap (a zone is their union). Holes may not touch the exterior ring even at a single
//! point — stricter than OGC, simpler to reason about.

use std::fmt;
use std::str::FromStr;

use crate::model::report::{ALT_MAX_M, ALT_MIN_M, MAX_ID_BYTES};
use crate::time::{TimeRange, Timestamp};

/// Largest accepted circle radius, target radius or corridor half-width, in metres.
pub const MAX_RADIUS_M: f64 = 10_000_000.0;

/// What a zone means for deconfliction.
///
/// ```
/// use deconflict_engine::model::ZoneKind;
/// let k: ZoneKind = "air_defense".parse().unwrap();
/// assert_eq!(k, ZoneKind::AirDefense);
/// assert_eq!(k.to_string(), "air_defense");
/// assert!("no_fly".parse::<ZoneKind>().is_err());
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    /// No operation may enter it, nor target anything inside.
    OffLimits,
    /// Protected sites: no operation may enter it, nor target anything inside.
    Protected,
    /// Air defences: no operation may enter it.
    AirDefense,
    /// Mutually designated targets: targets must lie in one while any is valid.
    TargetArea,
    /// Mapped concentrations of a group: informative, never a conflict.
    Presence,
}

impl ZoneKind {
    /// Every kind, in declaration order.
    pub const ALL: [ZoneKind; 5] = [
        ZoneKind::OffLimits,
        ZoneKind::Protected,
        ZoneKind::AirDefense,
        ZoneKind::TargetArea,
        ZoneKind::Presence,
    ];

    /// The contract's name: `off_limits`, `protected`, `air_defense`, `target_area`, `presence`.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::OffLimits => "off_limits",
            ZoneKind::Protected => "protected",
            ZoneKind::AirDefense => "air_defense",
            ZoneKind::TargetArea => "target_area",
            ZoneKind::Presence => "presence",
        }
    }
}

impl fmt::Display for ZoneKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ZoneKind {
    type Err = InvalidObject;
    /// Exact, case-sensitive contract names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ZoneKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| InvalidObject::UnknownKind(s.to_owned()))
    }
}

/// The area of a zone.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneShape {
    /// Polygons → rings (exterior first, then holes) → closed `(lon, lat)` positions in degrees.
    Polygons(Vec<Vec<Vec<(f64, f64)>>>),
    /// A geodesic circle: `(lon, lat)` centre in degrees, radius in metres.
    Circle {
        /// Centre `(lon, lat)`, degrees.
        center: (f64, f64),
        /// Radius, metres.
        radius_m: f64,
    },
}

/// A zone: an area of one [`ZoneKind`], valid during `validity`, between optional altitudes.
///
/// ```
/// use deconflict_engine::model::{Zone, ZoneKind, ZoneShape};
/// use deconflict_engine::time::TimeRange;
/// let square = vec![vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]];
/// let mut z = Zone {
///     id: "z1".into(),
///     kind: ZoneKind::Protected,
///     side: None,
///     shape: ZoneShape::Polygons(vec![square]),
///     validity: TimeRange::ALL,
///     alt_min: None,
///     alt_max: Some(5000.0),
/// };
/// assert!(z.validate().is_ok());
/// z.shape = ZoneShape::Polygons(vec![vec![vec![(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]]]);
/// assert!(z.validate().unwrap_err().to_string().contains("intersects itself"));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Zone {
    /// Identifier, unique in the index, 1..=64 bytes.
    pub id: String,
    /// What the zone means.
    pub kind: ZoneKind,
    /// The participant it belongs to, if any.
    pub side: Option<String>,
    /// Its area.
    pub shape: ZoneShape,
    /// When it is valid, bounds inclusive; [`TimeRange::ALL`] when always.
    pub validity: TimeRange,
    /// Lowest altitude covered, metres AMSL; `None` = from the ground (all altitudes below).
    pub alt_min: Option<f64>,
    /// Highest altitude covered, metres AMSL; `None` = unlimited.
    pub alt_max: Option<f64>,
}

impl Zone {
    /// Checks every invariant listed in the [module docs](self); the first violation found is
    /// returned.
    ///
    /// # Errors
    /// The first [`InvalidObject`] reason found.
    pub fn validate(&self) -> Result<(), InvalidObject> {
        check_id("id", &self.id)?;
        if let Some(side) = &self.side {
            check_id("side", side)?;
        }
        check_range("validity", self.validity.start, self.validity.end)?;
        if let Some(a) = self.alt_min {
            check_value("alt_min", a, ALT_MIN_M, ALT_MAX_M)?;
        }
        if let Some(a) = self.alt_max {
            check_value("alt_max", a, ALT_MIN_M, ALT_MAX_M)?;
        }
        if let (Some(min), Some(max)) = (self.alt_min, self.alt_max) {
            check_band("alt_min/alt_max", min, max)?;
        }
        match &self.shape {
            ZoneShape::Circle { center, radius_m } => {
                check_position("center", *center)?;
                check_value("radius_m", *radius_m, 0.0, MAX_RADIUS_M)?;
                if *radius_m <= 0.0 {
                    return Err(InvalidObject::ZeroRadius);
                }
                Ok(())
            }
            ZoneShape::Polygons(polys) => {
                if polys.is_empty() {
                    return Err(InvalidObject::NoPolygons);
                }
                polys
                    .iter()
                    .enumerate()
                    .try_for_each(|(p, rings)| check_polygon(p, rings))
            }
        }
    }
}

/// Names one ring of a zone: polygon index and ring index (0 = exterior, 1.. = holes), 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingRef {
    /// Index of the polygon in the multipolygon.
    pub polygon: usize,
    /// Index of the ring in the polygon: 0 is the exterior ring.
    pub ring: usize,
}

impl fmt::Display for RingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ring {
            0 => write!(f, "exterior ring of polygon {}", self.polygon),
            r => write!(f, "hole {r} of polygon {}", self.polygon),
        }
    }
}

/// Why a zone or an operation is refused. The message is the reject reason users read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidObject {
    /// A required identifier (`id`, `side`, an `own_tracks` entry) is empty.
    #[error("{0} is empty")]
    Empty(String),
    /// An identifier longer than 64 bytes.
    #[error("{field} is {len} bytes, longer than 64")]
    TooLong {
        /// Which field.
        field: String,
        /// Its length in bytes.
        len: usize,
    },
    /// A number that is NaN or infinite.
    #[error("{0} is not a finite number")]
    NotFinite(String),
    /// A number outside its range.
    #[error("{field} {value} out of range [{min}, {max}]")]
    OutOfRange {
        /// Which field, e.g. `route[2].lat`.
        field: String,
        /// The value given.
        value: f64,
        /// Lowest allowed.
        min: f64,
        /// Highest allowed.
        max: f64,
    },
    /// A zone kind that is not one of the contract's.
    #[error(
        "unknown zone kind {0:?}: expected one of off_limits, protected, air_defense, target_area, presence"
    )]
    UnknownKind(String),
    /// An interval that ends before it starts.
    #[error("{field} ends ({end}) before it starts ({start})")]
    EndBeforeStart {
        /// `validity` or `window`.
        field: &'static str,
        /// Its start.
        start: Timestamp,
        /// Its end.
        end: Timestamp,
    },
    /// An altitude band whose lower bound is above its upper bound.
    #[error("{field}: min {min} is above max {max}")]
    BandInverted {
        /// `altitude_m` or `alt_min/alt_max`.
        field: &'static str,
        /// Lower bound given.
        min: f64,
        /// Upper bound given.
        max: f64,
    },
    /// A circle of radius 0.
    #[error("circle radius_m must be greater than 0")]
    ZeroRadius,
    /// A polygon shape with no polygon.
    #[error("no polygons")]
    NoPolygons,
    /// A polygon with no ring.
    #[error("polygon {0} has no rings")]
    NoRings(usize),
    /// A ring with fewer than 3 distinct points.
    #[error("{ring} has {distinct} distinct points, at least 3 needed")]
    TooFewPoints {
        /// The ring.
        ring: RingRef,
        /// How many distinct positions it has.
        distinct: usize,
    },
    /// A ring whose last position differs from its first.
    #[error("{ring} is not closed: first position {first:?} differs from last {last:?}")]
    UnclosedRing {
        /// The ring.
        ring: RingRef,
        /// Its first position.
        first: (f64, f64),
        /// Its last position.
        last: (f64, f64),
    },
    /// A ring whose points all lie on one line.
    #[error("{0} has zero area: all its points lie on one line")]
    ZeroArea(RingRef),
    /// A ring whose edges touch or cross each other (other than consecutive edges at their
    /// shared vertex).
    #[error("{ring} intersects itself: edge {a:?} meets edge {b:?}")]
    SelfIntersecting {
        /// The ring.
        ring: RingRef,
        /// One edge, as its two positions.
        a: [(f64, f64); 2],
        /// The other edge.
        b: [(f64, f64); 2],
    },
    /// Two rings of one polygon that touch or cross.
    #[error("{a} and {b} touch or cross")]
    RingsCross {
        /// One ring.
        a: RingRef,
        /// The other ring.
        b: RingRef,
    },
    /// A hole outside its exterior ring.
    #[error("{0} lies outside the exterior ring")]
    HoleOutside(RingRef),
    /// A hole inside another hole.
    #[error("{inner} lies inside {outer}")]
    HoleInHole {
        /// The nested hole.
        inner: RingRef,
        /// The hole containing it.
        outer: RingRef,
    },
    /// An operation without waypoints.
    #[error("route is empty: at least one waypoint is needed")]
    EmptyRoute,
    /// Some waypoints have a time and others do not.
    #[error(
        "route mixes timed and untimed waypoints: route[{timed}] has a time, route[{untimed}] has none"
    )]
    MixedRouteTimes {
        /// Index of a timed waypoint.
        timed: usize,
        /// Index of an untimed waypoint.
        untimed: usize,
    },
    /// Waypoint times that do not strictly increase.
    #[error("route times must strictly increase: route[{index}] at {time} is not after route[{}] at {previous}", index - 1)]
    RouteTimesNotIncreasing {
        /// Index of the offending waypoint.
        index: usize,
        /// Its time.
        time: Timestamp,
        /// The previous waypoint's time.
        previous: Timestamp,
    },
    /// A waypoint time outside the operation's window.
    #[error("route[{index}] time {time} is outside the window [{}, {}]", window.start, window.end)]
    RouteTimeOutsideWindow {
        /// Index of the offending waypoint.
        index: usize,
        /// Its time.
        time: Timestamp,
        /// The operation's window.
        window: TimeRange,
    },
    /// An entity listed twice in `own_tracks`.
    #[error("own_tracks lists {0:?} more than once")]
    DuplicateOwnTrack(String),
}

/// Identifier rules shared with track reports: non-empty, at most 64 bytes.
pub(crate) fn check_id(field: &str, id: &str) -> Result<(), InvalidObject> {
    if id.is_empty() {
        Err(InvalidObject::Empty(field.to_owned()))
    } else if id.len() > MAX_ID_BYTES {
        Err(InvalidObject::TooLong {
            field: field.to_owned(),
            len: id.len(),
        })
    } else {
        Ok(())
    }
}

/// A finite number within `[min, max]`.
pub(crate) fn check_value(field: &str, v: f64, min: f64, max: f64) -> Result<(), InvalidObject> {
    if !v.is_finite() {
        return Err(InvalidObject::NotFinite(field.to_owned()));
    }
    if v < min || v > max {
        return Err(InvalidObject::OutOfRange {
            field: field.to_owned(),
            value: v,
            min,
            max,
        });
    }
    Ok(())
}

/// A `(lon, lat)` position within [-180, 180] × [-90, 90].
pub(crate) fn check_position(field: &str, (lon, lat): (f64, f64)) -> Result<(), InvalidObject> {
    check_value(&format!("{field} lon"), lon, -180.0, 180.0)?;
    check_value(&format!("{field} lat"), lat, -90.0, 90.0)
}

pub(crate) fn check_range(
    field: &'static str,
    start: Timestamp,
    end: Timestamp,
) -> Result<(), InvalidObject> {
    if end < start {
        return Err(InvalidObject::EndBeforeStart { field, start, end });
    }
    Ok(())
}

pub(crate) fn check_band(field: &'static str, min: f64, max: f64) -> Result<(), InvalidObject> {
    if min > max {
        return Err(InvalidObject::BandInverted { field, min, max });
    }
    Ok(())
}

type Pt = (f64, f64);

fn check_polygon(polygon: usize, rings: &[Vec<Pt>]) -> Result<(), InvalidObject> {
    if rings.is_empty() {
        return Err(InvalidObject::NoRings(polygon));
    }
    let mut cleaned = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        cleaned.push(check_ring(RingRef { polygon, ring: r }, ring)?);
    }
    check_edges(polygon, &cleaned)?;
    // No two rings touch, so each ring is wholly inside or outside another: one vertex decides.
    let exterior = &cleaned[0];
    for (h, hole) in cleaned.iter().enumerate().skip(1) {
        let this = RingRef { polygon, ring: h };
        if !inside(hole[0], exterior) {
            return Err(InvalidObject::HoleOutside(this));
        }
        for (o, other) in cleaned.iter().enumerate().skip(1) {
            if o != h && inside(hole[0], other) {
                return Err(InvalidObject::HoleInHole {
                    inner: this,
                    outer: RingRef { polygon, ring: o },
                });
            }
        }
    }
    Ok(())
}

/// Checks one ring alone; returns it without consecutive repeated positions (still closed).
fn check_ring(id: RingRef, ring: &[Pt]) -> Result<Vec<Pt>, InvalidObject> {
    for (i, &p) in ring.iter().enumerate() {
        check_position(&format!("{id} position {i}"), p)?;
    }
    let mut distinct: Vec<Pt> = ring.to_vec();
    distinct.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    distinct.dedup();
    if distinct.len() < 3 {
        return Err(InvalidObject::TooFewPoints {
            ring: id,
            distinct: distinct.len(),
        });
    }
    let (first, last) = (ring[0], ring[ring.len() - 1]);
    if first != last {
        return Err(InvalidObject::UnclosedRing {
            ring: id,
            first,
            last,
        });
    }
    let mut pts = ring.to_vec();
    pts.dedup();
    // Three distinct points exist; the ring has an area unless all lie on one line.
    let (a, b) = (pts[0], pts[1]);
    if pts.iter().all(|&p| orient(a, b, p) == 0.0) {
        return Err(InvalidObject::ZeroArea(id));
    }
    Ok(pts)
}

/// One edge of a ring, for the sweep.
struct Edge {
    ring: usize,
    /// Index in the ring: edge `i` joins positions `i` and `i + 1`.
    idx: usize,
    a: Pt,
    b: Pt,
}

impl Edge {
    fn min_x(&self) -> f64 {
        self.a.0.min(self.b.0)
    }
    fn max_x(&self) -> f64 {
        self.a.0.max(self.b.0)
    }
}

/// Finds any two edges of the polygon's rings that meet where they should not: a sweep over
/// edges sorted by west end, so only edges with overlapping longitude spans are compared.
fn check_edges(polygon: usize, rings: &[Vec<Pt>]) -> Result<(), InvalidObject> {
    let mut edges: Vec<Edge> = rings
        .iter()
        .enumerate()
        .flat_map(|(ring, pts)| {
            pts.windows(2).enumerate().map(move |(idx, w)| Edge {
                ring,
                idx,
                a: w[0],
                b: w[1],
            })
        })
        .collect();
    edges.sort_by(|e, f| e.min_x().total_cmp(&f.min_x()));
    for (i, e) in edges.iter().enumerate() {
        for f in &edges[i + 1..] {
            if f.min_x() > e.max_x() {
                break;
            }
            let bad = if e.ring != f.ring {
                segments_meet(e.a, e.b, f.a, f.b)
            } else {
                let n = rings[e.ring].len() - 1;
                let (lo, hi) = if e.idx < f.idx { (e, f) } else { (f, e) };
                if hi.idx == lo.idx + 1 {
                    // Share lo.b == hi.a: they may meet only there.
                    on_segment(hi.a, hi.b, lo.a) || on_segment(lo.a, lo.b, hi.b)
                } else if lo.idx == 0 && hi.idx == n - 1 {
                    // Share lo.a == hi.b (the closing vertex).
                    on_segment(hi.a, hi.b, lo.b) || on_segment(lo.a, lo.b, hi.a)
                } else {
                    segments_meet(e.a, e.b, f.a, f.b)
                }
            };
            if bad {
                let (ra, rb) = (
                    RingRef {
                        polygon,
                        ring: e.ring,
                    },
                    RingRef {
                        polygon,
                        ring: f.ring,
                    },
                );
                return Err(if e.ring == f.ring {
                    let (lo, hi) = if e.idx < f.idx { (e, f) } else { (f, e) };
                    InvalidObject::SelfIntersecting {
                        ring: ra,
                        a: [lo.a, lo.b],
                        b: [hi.a, hi.b],
                    }
                } else if ra.ring < rb.ring {
                    InvalidObject::RingsCross { a: ra, b: rb }
                } else {
                    InvalidObject::RingsCross { a: rb, b: ra }
                });
            }
        }
    }
    Ok(())
}

/// Twice the signed area of triangle `a, b, c`: > 0 when counter-clockwise.
fn orient(a: Pt, b: Pt, c: Pt) -> f64 {
    (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0)
}

/// True when `p` lies on the closed segment `a`–`b`.
fn on_segment(a: Pt, b: Pt, p: Pt) -> bool {
    orient(a, b, p) == 0.0
        && a.0.min(b.0) <= p.0
        && p.0 <= a.0.max(b.0)
        && a.1.min(b.1) <= p.1
        && p.1 <= a.1.max(b.1)
}

/// True when the closed segments `a`–`b` and `c`–`d` share at least one point.
fn segments_meet(a: Pt, b: Pt, c: Pt, d: Pt) -> bool {
    let (d1, d2) = (orient(c, d, a), orient(c, d, b));
    let (d3, d4) = (orient(a, b, c), orient(a, b, d));
    let opposite = |x: f64, y: f64| (x > 0.0 && y < 0.0) || (x < 0.0 && y > 0.0);
    (opposite(d1, d2) && opposite(d3, d4))
        || on_segment(c, d, a)
        || on_segment(c, d, b)
        || on_segment(a, b, c)
        || on_segment(a, b, d)
}

/// Even-odd rule: true when `p` is inside the closed ring (points on an edge: unspecified).
fn inside(p: Pt, ring: &[Pt]) -> bool {
    let mut odd = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < a.0 + (p.1 - a.1) * (b.0 - a.0) / (b.1 - a.1) {
            odd = !odd;
        }
    }
    odd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(polys: Vec<Vec<Vec<Pt>>>) -> Zone {
        Zone {
            id: "z".into(),
            kind: ZoneKind::OffLimits,
            side: Some("blue".into()),
            shape: ZoneShape::Polygons(polys),
            validity: TimeRange::ALL,
            alt_min: None,
            alt_max: None,
        }
    }

    fn square(x: f64, y: f64, s: f64) -> Vec<Pt> {
        vec![(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)]
    }

    fn err(polys: Vec<Vec<Vec<Pt>>>) -> InvalidObject {
        zone(polys).validate().unwrap_err()
    }

    const R0: RingRef = RingRef {
        polygon: 0,
        ring: 0,
    };

    #[test]
    fn valid_shapes() {
        assert_eq!(zone(vec![vec![square(0.0, 0.0, 1.0)]]).validate(), Ok(()));
        // hole inside, second polygon, clockwise ring, repeated consecutive position
        let cw: Vec<Pt> = square(5.0, 5.0, 1.0).into_iter().rev().collect();
        let mut dup = square(10.0, 10.0, 1.0);
        dup.insert(1, dup[0]);
        let polys = vec![
            vec![
                square(0.0, 0.0, 4.0),
                square(1.0, 1.0, 1.0),
                square(2.5, 2.5, 1.0),
            ],
            vec![cw],
            vec![dup],
        ];
        assert_eq!(zone(polys).validate(), Ok(()));
        let mut z = zone(vec![]);
        z.shape = ZoneShape::Circle {
            center: (36.6, 35.9),
            radius_m: 500.0,
        };
        assert_eq!(z.validate(), Ok(()));
    }

    #[test]
    fn bowtie_is_self_intersecting() {
        let bowtie = vec![(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)];
        let e = err(vec![vec![bowtie]]);
        assert!(
            matches!(e, InvalidObject::SelfIntersecting { ring: R0, .. }),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with("exterior ring of polygon 0 intersects itself"),
            "{e}"
        );
    }

    #[test]
    fn touching_and_spikes_are_self_intersecting() {
        // vertex touching a non-adjacent edge
        let touch = vec![
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (2.0, 0.0),
            (0.0, 4.0),
            (0.0, 0.0),
        ];
        assert!(matches!(
            err(vec![vec![touch]]),
            InvalidObject::SelfIntersecting { .. }
        ));
        // a spike going back along the previous edge
        let spike = vec![
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (4.0, 2.0),
            (0.0, 4.0),
            (0.0, 0.0),
        ];
        assert!(matches!(
            err(vec![vec![spike]]),
            InvalidObject::SelfIntersecting { .. }
        ));
        // spike at the closing vertex
        let closing = vec![
            (0.0, 0.0),
            (0.0, 4.0),
            (4.0, 4.0),
            (4.0, 0.0),
            (-1.0, 0.0),
            (0.0, 0.0),
        ];
        assert!(matches!(
            err(vec![vec![closing]]),
            InvalidObject::SelfIntersecting { .. }
        ));
    }

    #[test]
    fn ring_reasons() {
        let open = vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
        assert!(matches!(
            err(vec![vec![open]]),
            InvalidObject::UnclosedRing { ring: R0, .. }
        ));
        let two = vec![(0.0, 0.0), (1.0, 0.0), (0.0, 0.0), (1.0, 0.0), (0.0, 0.0)];
        assert_eq!(
            err(vec![vec![two]]),
            InvalidObject::TooFewPoints {
                ring: R0,
                distinct: 2
            }
        );
        assert_eq!(
            err(vec![vec![vec![]]]),
            InvalidObject::TooFewPoints {
                ring: R0,
                distinct: 0
            }
        );
        let line = vec![(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (0.0, 0.0)];
        assert_eq!(err(vec![vec![line]]), InvalidObject::ZeroArea(R0));
        assert_eq!(err(vec![]), InvalidObject::NoPolygons);
        assert_eq!(
            err(vec![vec![square(0.0, 0.0, 1.0)], vec![]]),
            InvalidObject::NoRings(1)
        );
        let far = vec![(0.0, 0.0), (181.0, 0.0), (1.0, 1.0), (0.0, 0.0)];
        let e = err(vec![vec![far]]);
        assert_eq!(
            e.to_string(),
            "exterior ring of polygon 0 position 1 lon 181 out of range [-180, 180]"
        );
    }

    #[test]
    fn hole_reasons() {
        let h1 = RingRef {
            polygon: 0,
            ring: 1,
        };
        let outside = vec![square(0.0, 0.0, 1.0), square(5.0, 5.0, 1.0)];
        assert_eq!(err(vec![outside]), InvalidObject::HoleOutside(h1));
        let crossing = vec![square(0.0, 0.0, 2.0), square(1.0, 1.0, 2.0)];
        assert_eq!(
            err(vec![crossing]),
            InvalidObject::RingsCross { a: R0, b: h1 }
        );
        let nested = vec![
            square(0.0, 0.0, 10.0),
            square(1.0, 1.0, 5.0),
            square(2.0, 2.0, 1.0),
        ];
        assert_eq!(
            err(vec![nested]),
            InvalidObject::HoleInHole {
                inner: RingRef {
                    polygon: 0,
                    ring: 2
                },
                outer: h1
            }
        );
        assert_eq!(
            InvalidObject::RingsCross { a: R0, b: h1 }.to_string(),
            "exterior ring of polygon 0 and hole 1 of polygon 0 touch or cross"
        );
    }

    #[test]
    fn zone_field_reasons() {
        let ok = zone(vec![vec![square(0.0, 0.0, 1.0)]]);
        let with = |f: &dyn Fn(&mut Zone)| {
            let mut z = ok.clone();
            f(&mut z);
            z.validate().unwrap_err().to_string()
        };
        assert_eq!(with(&|z| z.id.clear()), "id is empty");
        assert_eq!(
            with(&|z| z.id = "x".repeat(65)),
            "id is 65 bytes, longer than 64"
        );
        assert_eq!(with(&|z| z.side = Some(String::new())), "side is empty");
        assert_eq!(
            with(&|z| {
                z.alt_min = Some(5000.0);
                z.alt_max = Some(1000.0);
            }),
            "alt_min/alt_max: min 5000 is above max 1000"
        );
        assert_eq!(
            with(&|z| z.alt_max = Some(f64::NAN)),
            "alt_max is not a finite number"
        );
        assert_eq!(
            with(&|z| z.alt_min = Some(-1001.0)),
            "alt_min -1001 out of range [-1000, 100000]"
        );
        assert_eq!(
            with(&|z| z.validity = TimeRange {
                start: Timestamp(1000),
                end: Timestamp(0)
            }),
            "validity ends (1970-01-01T00:00:00.000Z) before it starts (1970-01-01T00:00:01.000Z)"
        );
        let circle = |r| {
            move |z: &mut Zone| {
                z.shape = ZoneShape::Circle {
                    center: (0.0, 0.0),
                    radius_m: r,
                }
            }
        };
        assert_eq!(with(&circle(0.0)), "circle radius_m must be greater than 0");
        assert_eq!(
            with(&circle(-1.0)),
            "radius_m -1 out of range [0, 10000000]"
        );
    }

    #[test]
    fn large_rings_are_checked_by_sweep() {
        let n = 50_000;
        let mut ring: Vec<Pt> = (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * f64::from(i) / f64::from(n);
                (10.0 * a.cos(), 10.0 * a.sin())
            })
            .collect();
        ring.push(ring[0]);
        assert_eq!(zone(vec![vec![ring.clone()]]).validate(), Ok(()));
        // swap two far-apart vertices: the ring now crosses itself
        ring.swap(10, 30_000);
        assert!(matches!(
            err(vec![vec![ring]]),
            InvalidObject::SelfIntersecting { .. }
        ));
    }

    #[test]
    fn hole_touching_exterior_is_refused() {
        let touching = vec![
            square(0.0, 0.0, 4.0),
            vec![(0.0, 2.0), (1.0, 1.0), (1.0, 3.0), (0.0, 2.0)],
        ];
        assert!(matches!(
            err(vec![touching]),
            InvalidObject::RingsCross { .. }
        ));
    }

    #[test]
    fn kinds_round_trip_and_unknown_lists_known() {
        for k in ZoneKind::ALL {
            assert_eq!(k.as_str().parse::<ZoneKind>(), Ok(k));
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{k}\""));
        }
        let e = "Protected".parse::<ZoneKind>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown zone kind \"Protected\": expected one of off_limits, protected, air_defense, target_area, presence"
        );
    }

    #[test]
    fn bincode_round_trip() {
        let mut z = zone(vec![vec![square(0.0, 0.0, 1.0)]]);
        z.alt_max = Some(300.5);
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&z, cfg).unwrap();
        let (back, _): (Zone, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
        assert_eq!(back, z);
    }
}
