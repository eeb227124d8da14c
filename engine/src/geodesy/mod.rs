//! The only geodesy module: distances in metres on the WGS84 ellipsoid, longitude wrapping and
//! antimeridian-aware boxes.
//!
//! Reported distances come from Karney's algorithm (error ≈ 15 nm): the kernel's short lines
//! by its own lean implementation ([`inverse`]), everything else by geographiclib-rs. Cheaper
//! bounds are used only to discard candidates that are certainly too far away.
//!
//! # Conventions
//! * Points are `(lon, lat)` in degrees (finite; latitudes up to ±89° are supported by every
//!   function, longitudes in any window: everything is antimeridian-safe). Distances are metres
//!   on WGS84.
//! * **Track pieces** (between two reports) move linearly in lon/lat over time, longitude the
//!   short way; **route legs** are geodesics ([`GeodesicSegment`]); **zone edges** are straight in
//!   lon/lat ([`Polygon`]).
//!
//! # The geometry kernel
//! | question | function |
//! | --- | --- |
//! | point ↔ leg | [`point_to_geodesic_segment`], [`GeodesicSegment::closest_to`] |
//! | point ↔ lon/lat segment | [`point_to_lonlat_segment`] |
//! | track piece ↔ leg, within a threshold | [`moving_point_vs_geodesic_segment`], [`GeodesicSegment::moving_point_approach`] |
//! | track piece ↔ point | [`moving_point_vs_point`] |
//! | track piece ↔ track piece (loss of separation, CPA) | [`moving_points_cpa`] |
//! | track piece ↔ zone | [`moving_point_vs_polygon`] |
//! | leg ↔ leg, leg ↔ zone | [`geodesic_segments_distance`], [`geodesic_segment_vs_polygon_distance`] |
//! | point ↔ zone | [`Polygon::contains`], [`Polygon::distance_to_point`] |
//!
//! **Guarantees.** Every distance reported is a geographiclib distance between the two points
//! reported (exact to nanometres) and the minimum is found by Newton / regula falsi on the
//! curve parameters with derivatives from geographiclib azimuths, so it is exact to ≈ 1 µm (far
//! inside the contract's 0.1 % / 1 m). Threshold decisions are taken on those values: a
//! near miss at `threshold × (1 ± 10⁻⁶)` is classified right; a threshold of 0 means touching
//! (within [`TOUCH_M`] = 1 mm, or exactly in lon/lat for containment), so objects 1 cm apart do
//! not touch and objects overlapping by 1 cm do. Times are in integer milliseconds, intervals
//! rounded outward. The root finders assume that on each piece a curve is cut into (≤ 200 km
//! and ≤ 1/16 of its radius of geodesic curvature) the distance is unimodal, which holds for
//! distances well below that radius (≈ 1 000 km at 80°, ≈ 110 km at 89°).
//!
//! **Cost.** Rigorous pruning comes first: antimeridian-aware boxes widened by the threshold
//! (a trig-free latitude test, ≈ 20 ns), local-frame lower bounds ([`LocalFrame`]), and a
//! Lipschitz bound from one geodesic evaluation. Only pieces that may come within the threshold
//! pay the ≈ 10–30 geographiclib calls (≈ 5–15 µs) of the exact solution. For many track
//! pieces against one leg or point (`check`), the core is cut into chunks with their own
//! frames and proven straightness and scale bounds (`framed`): a piece is settled as outside,
//! inside throughout, or crossing the threshold once (then only that time is solved, by Newton
//! on geographiclib distances from the frames' guess); only undecided pieces near the
//! threshold get the full solution.
//!
//! ```
//! use deconflict_engine::geodesy::{distance_m, BBox};
//! let d = distance_m((0.0, 0.0), (1.0, 0.0));
//! assert!((d - 111_319.49).abs() < 0.01);
//! let b = BBox::new(170.0, -10.0, -170.0, 10.0).unwrap(); // crosses the antimeridian
//! assert!(b.contains(179.5, 0.0) && b.contains(-179.5, 0.0) && !b.contains(0.0, 0.0));
//! ```

use geographiclib_rs::Geodesic;
use std::sync::LazyLock;

mod frame;
mod framed;
mod karney;
mod kernel;
mod polygon;
#[cfg(test)]
mod tests_kernel;

pub use frame::{
    LocalFrame, NearCentre, WGS84_E2, meridional_radius, normal_radius, parallel_radius,
};
pub(crate) use framed::{FramedCore, PieceVsCore};
pub(crate) use karney::{Dir, atan2_small, azimuth, cos_between, inverse_dirs, sin_cos_small};
pub use karney::{Line, distance_m, inverse};
pub use kernel::{
    Approach, Closest, ClosestPair, GeodesicSegment, TOUCH_M, geodesic_segments_distance,
    moving_point_vs_geodesic_segment, moving_point_vs_point, moving_points_cpa,
    point_to_geodesic_segment, point_to_lonlat_segment,
};
pub(crate) use kernel::{moving_point_least_vs_point, point_crossing_ms};
pub use polygon::{Polygon, geodesic_segment_vs_polygon_distance, moving_point_vs_polygon};

/// WGS84 semi-major axis, metres.
pub const WGS84_A: f64 = 6_378_137.0;
/// WGS84 flattening.
pub const WGS84_F: f64 = 1.0 / 298.257_223_563;
/// Semi-minor axis, metres.
pub const WGS84_B: f64 = WGS84_A * (1.0 - WGS84_F);
/// The smallest radius of curvature anywhere on the ellipsoid (meridional, at the equator):
/// no arc of length `d` spans more than `d / MIN_RADIUS_M` radians of latitude.
pub const MIN_RADIUS_M: f64 = WGS84_B * WGS84_B / WGS84_A;

static WGS84: LazyLock<Geodesic> = LazyLock::new(Geodesic::wgs84);

/// The WGS84 geodesic solver, shared.
pub fn wgs84() -> &'static Geodesic {
    &WGS84
}

/// Wraps a longitude into [-180, 180).
#[inline]
pub fn wrap_lon(lon: f64) -> f64 {
    if (-180.0..180.0).contains(&lon) {
        return lon;
    }
    let w = (lon + 180.0).rem_euclid(360.0) - 180.0;
    if w.is_finite() { w } else { lon }
}

/// The signed longitude change from `from` to `to` the short way, in [-180, 180).
#[inline]
pub fn lon_delta(from: f64, to: f64) -> f64 {
    wrap_lon(to - from)
}

/// A longitude/latitude box `W,S,E,N` in degrees; `west > east` means it crosses the
/// antimeridian. Bounds are inclusive.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BBox {
    /// Western edge.
    pub west: f64,
    /// Southern edge.
    pub south: f64,
    /// Eastern edge.
    pub east: f64,
    /// Northern edge.
    pub north: f64,
}

impl BBox {
    /// The whole globe.
    pub const WORLD: BBox = BBox {
        west: -180.0,
        south: -90.0,
        east: 180.0,
        north: 90.0,
    };

    /// A checked box: finite, lon in [-180, 180], lat in [-90, 90], south ≤ north.
    pub fn new(west: f64, south: f64, east: f64, north: f64) -> Result<BBox, String> {
        for (name, v, lim) in [
            ("west", west, 180.0),
            ("east", east, 180.0),
            ("south", south, 90.0),
            ("north", north, 90.0),
        ] {
            if !v.is_finite() || v.abs() > lim {
                return Err(format!("{name} {v} out of range [-{lim}, {lim}]"));
            }
        }
        if south > north {
            return Err(format!("south {south} is north of north {north}"));
        }
        Ok(BBox {
            west,
            south,
            east,
            north,
        })
    }

    /// Parses `W,S,E,N`.
    pub fn parse(s: &str) -> Result<BBox, String> {
        let v = parse_floats(s, 4).map_err(|e| format!("bbox {s:?}: {e}; expected W,S,E,N"))?;
        BBox::new(v[0], v[1], v[2], v[3])
    }

    /// True when the box crosses the antimeridian.
    pub fn crosses_antimeridian(&self) -> bool {
        self.west > self.east
    }

    /// Inclusive containment test.
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        if lat < self.south || lat > self.north {
            return false;
        }
        if self.crosses_antimeridian() {
            lon >= self.west || lon <= self.east
        } else {
            lon >= self.west && lon <= self.east
        }
    }

    /// The box widened by `m` metres on every side, conservatively: every point within `m`
    /// metres of a point of the box lies inside the result.
    ///
    /// ```
    /// use deconflict_engine::geodesy::{BBox, distance_m};
    /// let b = BBox::new(10.0, 50.0, 11.0, 51.0).unwrap().widen_m(5_000.0);
    /// assert!(b.south < 50.0 - 0.044 && b.west < 10.0 - 0.07);
    /// ```
    #[must_use]
    pub fn widen_m(&self, m: f64) -> BBox {
        if m <= 0.0 {
            return *self;
        }
        let (south, north, dlon) = widen_band(self.south, self.north, m);
        let width = if self.crosses_antimeridian() {
            self.east + 360.0 - self.west
        } else {
            self.east - self.west
        };
        match dlon {
            Some(dlon) if width + 2.0 * dlon < 360.0 => {
                let (west, east) = (wrap_lon(self.west - dlon), wrap_lon(self.east + dlon));
                BBox {
                    west,
                    south,
                    east: if east == -180.0 { 180.0 } else { east },
                    north,
                }
            }
            _ => BBox {
                west: -180.0,
                south,
                east: 180.0,
                north,
            },
        }
    }

    /// The longitude intervals (one, or two when crossing the antimeridian) within [-180, 180].
    pub fn lon_ranges(&self) -> impl Iterator<Item = (f64, f64)> {
        let (a, b) = if self.crosses_antimeridian() {
            ((self.west, 180.0), Some((-180.0, self.east)))
        } else {
            ((self.west, self.east), None)
        };
        std::iter::once(a).chain(b)
    }
}

/// A conservative box around the geodesic circle of `radius_m` metres centred on `(lon, lat)`:
/// every point within `radius_m` lies inside it.
pub fn circle_bbox(lon: f64, lat: f64, radius_m: f64) -> BBox {
    BBox {
        west: lon,
        south: lat,
        east: lon,
        north: lat,
    }
    .widen_m(radius_m)
}

/// Conservative angular margins for `m` metres around any point of the latitude band
/// `[south, north]`: the band widened by `m` (clamped at the poles) and the longitude margin in
/// degrees — `None` when the widened band reaches a pole, where every longitude is in reach.
///
/// An arc of length `m` moves at most `m / MIN_RADIUS_M` radians in latitude, and at most
/// `m / (N cos φ)` radians in longitude where `N cos φ`, the radius of the parallel, is smallest
/// over the widened band (at its most poleward latitude).
pub fn widen_band(south: f64, north: f64, m: f64) -> (f64, f64, Option<f64>) {
    let dlat = (m.max(0.0) / MIN_RADIUS_M).to_degrees() * 1.000_001 + 1e-9;
    let (south, north) = ((south - dlat).max(-90.0), (north + dlat).min(90.0));
    if south <= -90.0 || north >= 90.0 {
        return (south, north, None);
    }
    let phi = south.abs().max(north.abs()).to_radians();
    let reduced = (1.0 - WGS84_F) * phi.tan();
    let parallel = WGS84_A / (1.0 + reduced * reduced).sqrt();
    let dlon = (m.max(0.0) / parallel).to_degrees() * 1.000_001 + 1e-9;
    (south, north, (dlon < 180.0).then_some(dlon))
}

/// Parses exactly `n` comma-separated finite numbers.
pub fn parse_floats(s: &str, n: usize) -> Result<Vec<f64>, String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<f64>()
                .map_err(|_| format!("{:?} is not a number", p.trim()))
        })
        .collect::<Result<_, _>>()?;
    if v.len() != n {
        return Err(format!("{} numbers given, {n} expected", v.len()));
    }
    if let Some(bad) = v.iter().find(|x| !x.is_finite()) {
        return Err(format!("{bad} is not finite"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn wraps() {
        assert_eq!(wrap_lon(190.0), -170.0);
        assert_eq!(wrap_lon(-190.0), 170.0);
        assert_eq!(lon_delta(179.0, -179.0), 2.0);
        assert_eq!(lon_delta(-179.0, 179.0), -2.0);
    }

    /// `NearCentre` never contradicts the exact distance — including points planted within
    /// nanometres to metres of the circle, near the antimeridian and at high latitudes — and
    /// decides the great majority of points at mid-latitudes (else it would be no shortcut).
    #[test]
    fn near_centre_agrees_with_the_exact_distance() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        let (mut decided, mut mid) = (0u32, 0u32);
        for i in 0..40_000 {
            let lat = if i % 4 == 0 {
                rng.gen_range(-89.0..89.0)
            } else {
                rng.gen_range(-60.0..60.0)
            };
            let lon = if i % 5 == 0 {
                179.99
            } else {
                rng.gen_range(-180.0..180.0)
            };
            let t = [10.0, 1_000.0, 10_000.0, 100_000.0, 900_000.0][i % 5];
            let Some(near) = NearCentre::new(lon, lat, t) else {
                assert!(lat.abs() > 80.0 || t > 1e6, "refused at {lat} for {t}");
                continue;
            };
            // A point at a random bearing and a distance near or far from the radius.
            let az: f64 = rng.gen_range(-180.0..180.0);
            let s = match i % 3 {
                0 => t * rng.gen_range(0.0..2.0),
                1 => t + rng.gen_range(-1e-3..1e-3) * t.min(100.0),
                _ => t + rng.gen_range(-1e-8..1e-8),
            };
            let g = wgs84();
            let (plat, plon, _) = geographiclib_rs::DirectGeodesic::direct(g, lat, lon, az, s);
            let p = (wrap_lon(plon), plat);
            let exact = distance_m((lon, lat), p) <= t;
            let says = near.decide(p);
            if let Some(says) = says {
                assert_eq!(says, exact, "centre ({lon}, {lat}) t {t} p {p:?} s {s}");
            }
            // Points clear of the circle by 1 % at mid-latitudes.
            if lat.abs() < 60.0 && i % 3 == 0 && (s - t).abs() > 0.01 * t {
                mid += 1;
                decided += u32::from(says.is_some());
            }
        }
        assert!(
            decided > mid * 95 / 100,
            "decided {decided} of {mid} clear mid-latitude points"
        );
    }

    #[test]
    fn circle_bbox_contains_the_circle() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20_000 {
            let lon = rng.gen_range(-180.0..180.0);
            let lat = rng.gen_range(-89.9..89.9);
            let r = 10f64.powf(rng.gen_range(0.0..6.5));
            let b = circle_bbox(lon, lat, r);
            let az: f64 = rng.gen_range(0.0..360.0);
            let s = r * rng.gen_range(0.0..1.0f64).sqrt();
            let (lat2, lon2): (f64, f64) =
                geographiclib_rs::DirectGeodesic::direct(wgs84(), lat, lon, az, s);
            assert!(
                b.contains(wrap_lon(lon2), lat2),
                "{lon},{lat} r={r} az={az} -> {lon2},{lat2} not in {b:?}"
            );
        }
    }
}
