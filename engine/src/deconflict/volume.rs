//! Operations as 4D volumes: footprint × altitude band × time window.
//!
//! * each route leg: the leg (a geodesic between its waypoints) buffered by `corridor_m`,
//!   during `[time_i, time_i+1]`; a route without times occupies every leg during the whole
//!   window; a route of one waypoint is that point buffered by `corridor_m`;
//! * the target: a circle of `target.radius_m` around it during the whole window.

use crate::geodesy::{BBox, FramedCore, GeodesicSegment, TOUCH_M, distance_m};
use crate::model::Operation;
use crate::time::TimeRange;

/// The geometric core of a footprint (the footprint is this core buffered by `buffer_m`).
#[derive(Debug, Clone)]
pub(crate) enum Core {
    /// A route leg.
    Leg(GeodesicSegment),
    /// A point: the target, or a one-waypoint route.
    Point((f64, f64)),
}

/// One 4D volume of an operation.
#[derive(Debug, Clone)]
pub(crate) struct Volume {
    pub core: Core,
    /// Half-width of the footprint around its core, metres.
    pub buffer_m: f64,
    /// Altitude band, metres.
    pub band: (f64, f64),
    /// When the volume is occupied (not yet widened by the time buffer).
    pub window: TimeRange,
    /// What part of the operation it is: `leg 1`, `target`, …
    pub label: String,
}

impl Volume {
    /// A box containing every point within `extra_m` of the footprint.
    pub(crate) fn bbox(&self, extra_m: f64) -> BBox {
        let core = match &self.core {
            Core::Leg(seg) => seg.bbox(),
            Core::Point((lon, lat)) => BBox {
                west: *lon,
                south: *lat,
                east: *lon,
                north: *lat,
            },
        };
        core.widen_m(self.buffer_m + extra_m)
    }

    /// The core in local frames, for track pieces at separation `horizontal_m` (`None` where
    /// frames are refused: near the poles, or at a zero threshold).
    pub(crate) fn framed(&self, horizontal_m: f64) -> Option<FramedCore> {
        // The same threshold as the exact test (`distance < buffer + horizontal_m`).
        let t = self.buffer_m + horizontal_m;
        if t < TOUCH_M {
            return None; // the kernel's threshold would be TOUCH_M, not t
        }
        match &self.core {
            Core::Leg(seg) => FramedCore::leg(seg, t),
            Core::Point(q) => FramedCore::point(*q, t),
        }
    }

    /// Least geodesic distance from `p` to the core, and the closest point of the core.
    pub(crate) fn core_distance(&self, p: (f64, f64)) -> (f64, (f64, f64)) {
        match &self.core {
            Core::Leg(seg) => {
                let c = seg.closest_to(p);
                (c.distance_m, c.point)
            }
            Core::Point(q) => (distance_m(p, *q), *q),
        }
    }
}

/// The volumes of an operation: its legs (or route point), then its target.
pub(crate) fn volumes(op: &Operation) -> Vec<Volume> {
    let band = op.altitude_m;
    let mut out = Vec::with_capacity(op.route.len() + 1);
    let timed = op.route.iter().all(|w| w.time.is_some()) && !op.route.is_empty();
    if op.route.len() == 1 {
        let w = &op.route[0];
        let window = match w.time {
            Some(t) => TimeRange { start: t, end: t },
            None => op.window,
        };
        out.push(Volume {
            core: Core::Point((w.lon, w.lat)),
            buffer_m: op.corridor_m,
            band,
            window,
            label: "route point".into(),
        });
    }
    for (i, pair) in op.route.windows(2).enumerate() {
        let (a, b) = (&pair[0], &pair[1]);
        let window = match (timed, a.time, b.time) {
            (true, Some(ta), Some(tb)) => TimeRange::new(ta, tb).unwrap_or(op.window),
            _ => op.window,
        };
        out.push(Volume {
            core: Core::Leg(GeodesicSegment::new((a.lon, a.lat), (b.lon, b.lat))),
            buffer_m: op.corridor_m,
            band,
            window,
            label: format!("leg {}", i + 1),
        });
    }
    out.push(Volume {
        core: Core::Point((op.target.lon, op.target.lat)),
        buffer_m: op.target.radius_m,
        band,
        window: op.window,
        label: "target".into(),
    });
    out
}

/// The signed gap between two altitude bands: negative when they overlap (minus the depth of
/// the overlap), so that "closer than `vertical_m`" holds for overlapping bands even when
/// `vertical_m` is 0 (clamping at 0 made `0 >= 0` separate every overlapping band).
pub(crate) fn band_gap(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.1).max(b.0 - a.1)
}
