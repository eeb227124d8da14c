//! Radii of curvature, the fast [`LocalFrame`] and rigorous lower bounds used for pruning.

use super::{MIN_RADIUS_M, WGS84_A, WGS84_F, lon_delta};

/// First eccentricity squared of WGS84.
pub const WGS84_E2: f64 = WGS84_F * (2.0 - WGS84_F);

/// Meridional radius of curvature `M(φ)` in metres at latitude `lat` (degrees).
pub fn meridional_radius(lat: f64) -> f64 {
    let s = lat.to_radians().sin();
    let w = 1.0 - WGS84_E2 * s * s;
    WGS84_A * (1.0 - WGS84_E2) / (w * w.sqrt())
}

/// Normal (prime vertical) radius of curvature `N(φ)` in metres at latitude `lat` (degrees).
pub fn normal_radius(lat: f64) -> f64 {
    let s = lat.to_radians().sin();
    WGS84_A / (1.0 - WGS84_E2 * s * s).sqrt()
}

/// Radius of the parallel `N(φ)·cos φ` in metres at latitude `lat` (degrees).
pub fn parallel_radius(lat: f64) -> f64 {
    normal_radius(lat) * lat.to_radians().cos().max(0.0)
}

/// Degrees of latitude per metre of arc, at most (with a safety factor).
const LAT_DEG_PER_M: f64 = 180.0 / std::f64::consts::PI / MIN_RADIUS_M * 1.000_001;

/// A latitude band widened by `margin_m` metres (an arc of that length cannot leave it).
pub(crate) fn widen_lat(lo: f64, hi: f64, margin_m: f64) -> (f64, f64) {
    let d = margin_m * LAT_DEG_PER_M + 1e-9;
    ((lo - d).max(-90.0), (hi + d).min(90.0))
}

/// A local equirectangular frame: `x = Δlon·N(φ₀)cos φ₀`, `y = Δlat·M(φ₀)` (metres), with
/// `Δlon` taken the short way from the reference longitude, so it is antimeridian-safe.
///
/// It is affine in `(lon, lat)`: a track piece (linear in lon/lat) is a straight segment in
/// the frame. Its distances are approximations; their error is bounded by the ratios of the
/// true scale factors to the reference ones over the latitude band involved
/// ([`LocalFrame::scale_bounds`]): for two points of latitudes in `[lo, hi]`, at most 90° of
/// longitude from the reference,
///
/// * `d_geodesic ≤ k_hi · d_frame` always (the lon/lat-straight path stays in the band), and
/// * `d_geodesic ≥ k_lo · d_frame` whenever the geodesic stays within the band — in
///   particular `k_lo · d_frame ≥ T` proves `d_geodesic ≥ T` when `k_lo` is taken over the band
///   widened by `T` ([`LocalFrame::certainly_at_least`]).
///
/// The relative error is therefore about `|Δφ|·tan φ`: 2·10⁻⁶ for 50 km at 35°N, but 1 % for
/// 11 km at 80°; reported distances always come from geographiclib.
///
/// ```
/// use deconflict_engine::geodesy::{LocalFrame, distance_m};
/// let f = LocalFrame::new(179.9, 45.0);
/// let (p, q) = ((179.95, 45.01), (-179.98, 44.99)); // across the antimeridian
/// let d = f.distance_m(p, q);
/// assert!((d - distance_m(p, q)).abs() < 1e-3 * d);
/// assert!(f.certainly_at_least(p, q, 0.99 * distance_m(p, q)));
/// assert!(!f.certainly_at_least(p, q, distance_m(p, q) * 1.001));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalFrame {
    /// Reference longitude, degrees.
    pub lon0: f64,
    /// Reference latitude, degrees.
    pub lat0: f64,
    /// Metres per degree of longitude at the reference latitude.
    pub m_per_deg_lon: f64,
    /// Metres per degree of latitude at the reference latitude.
    pub m_per_deg_lat: f64,
}

impl LocalFrame {
    /// A frame centred on `(lon0, lat0)`.
    pub fn new(lon0: f64, lat0: f64) -> LocalFrame {
        LocalFrame {
            lon0,
            lat0,
            m_per_deg_lon: parallel_radius(lat0).to_radians(),
            m_per_deg_lat: meridional_radius(lat0).to_radians(),
        }
    }

    /// Frame coordinates in metres of a `(lon, lat)` point.
    #[inline]
    pub fn to_xy(&self, p: (f64, f64)) -> (f64, f64) {
        (
            lon_delta(self.lon0, p.0) * self.m_per_deg_lon,
            (p.1 - self.lat0) * self.m_per_deg_lat,
        )
    }

    /// The `(lon, lat)` point (lon wrapped into [-180, 180)) of frame coordinates.
    #[inline]
    pub fn to_lonlat(&self, xy: (f64, f64)) -> (f64, f64) {
        (
            super::wrap_lon(self.lon0 + xy.0 / self.m_per_deg_lon),
            self.lat0 + xy.1 / self.m_per_deg_lat,
        )
    }

    /// Approximate distance in metres (see the type's error bound).
    #[inline]
    pub fn distance_m(&self, p: (f64, f64), q: (f64, f64)) -> f64 {
        let (a, b) = (self.to_xy(p), self.to_xy(q));
        (a.0 - b.0).hypot(a.1 - b.1)
    }

    /// `(k_lo, k_hi)`: the least and greatest ratio of the true scale factors to the frame's over
    /// the latitude band `[lo, hi]` (degrees).
    pub fn scale_bounds(&self, lo: f64, hi: f64) -> (f64, f64) {
        let (m0, p0) = (
            self.m_per_deg_lat.to_degrees(),
            self.m_per_deg_lon.to_degrees(),
        );
        // M grows with |φ|, N cos φ shrinks with |φ|.
        let min_abs = if lo <= 0.0 && hi >= 0.0 {
            0.0
        } else {
            lo.abs().min(hi.abs())
        };
        let max_abs = lo.abs().max(hi.abs());
        let (m_lo, m_hi) = (meridional_radius(min_abs), meridional_radius(max_abs));
        let (p_lo, p_hi) = (parallel_radius(max_abs), parallel_radius(min_abs));
        let k_lo = (m_lo / m0).min(p_lo / p0) * (1.0 - 1e-12);
        let k_hi = (m_hi / m0).max(p_hi / p0) * (1.0 + 1e-12);
        (k_lo, k_hi)
    }

    /// True only when the geodesic distance between `p` and `q` is certainly ≥ `t` metres.
    /// Conservative: `false` means "don't know".
    pub fn certainly_at_least(&self, p: (f64, f64), q: (f64, f64), t: f64) -> bool {
        if lon_delta(self.lon0, p.0).abs() > 90.0 || lon_delta(self.lon0, q.0).abs() > 90.0 {
            return false;
        }
        let d = self.distance_m(p, q);
        let (lo, hi) = widen_lat(p.1.min(q.1), p.1.max(q.1), t);
        if lo <= -89.99 || hi >= 89.99 {
            return false;
        }
        self.scale_bounds(lo, hi).0 * d >= t
    }
}

/// Decides most "is `p` within `t` metres of the centre?" questions from a [`LocalFrame`] at
/// the centre, without solving the geodesic — a radius query's refinement step.
///
/// Every point within `t` of the centre lies in the centre's latitude band widened by `t`,
/// and so does the geodesic to it; over that band the frame distance `d` bounds the geodesic
/// distance `s` both ways ([`LocalFrame`]): `s ≤ k_hi·d` and, if `s ≤ t`, `s ≥ k_lo·d`. So
/// `k_hi·d` below `t` proves `s ≤ t`, and `k_lo·d` above `t` (or a point outside the band)
/// proves `s > t`. A margin of 1 µm plus 10⁻⁹·`t` on each side keeps every decision on the
/// same side as geographiclib's `distance_m` (accurate to nanometres); the rest — a band a few
/// metres wide around the circle at mid-latitudes — is left to it.
///
/// ```
/// use deconflict_engine::geodesy::{NearCentre, distance_m};
/// let c = (30.0, 35.0);
/// let near = NearCentre::new(c.0, c.1, 10_000.0).unwrap();
/// assert_eq!(near.decide((30.05, 35.02)), Some(true));
/// assert_eq!(near.decide((30.2, 35.0)), Some(false));
/// let edge = (30.0, 35.0 + 10_000.0 / 110_950.0); // ≈ 10 km north: too close to call
/// assert_eq!(near.decide(edge).unwrap_or(distance_m(c, edge) <= 10_000.0), distance_m(c, edge) <= 10_000.0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct NearCentre {
    frame: LocalFrame,
    band: (f64, f64),
    accept_below: f64,
    reject_above: f64,
}

impl NearCentre {
    /// For the circle of radius `t` metres around `(lon, lat)`; `None` where the frame's
    /// bounds are too loose to help (`t` over 1 000 km, or the band reaching ±89.99°).
    pub fn new(lon: f64, lat: f64, t: f64) -> Option<NearCentre> {
        if !((0.0..=1_000_000.0).contains(&t) && lon.is_finite() && lat.is_finite()) {
            return None;
        }
        let band = widen_lat(lat, lat, t);
        if band.0 <= -89.99 || band.1 >= 89.99 {
            return None;
        }
        let frame = LocalFrame::new(lon, lat);
        let (k_lo, k_hi) = frame.scale_bounds(band.0, band.1);
        let margin = 1e-6 + 1e-9 * t;
        Some(NearCentre {
            frame,
            band,
            // k_hi·d <= t − margin  ⇔  d <= (t − margin)/k_hi, and likewise for k_lo; the
            // divisions' rounding is far inside the margin.
            accept_below: (t - margin) / k_hi,
            reject_above: (t + margin) / k_lo,
        })
    }

    /// `Some(true)` when `p` is certainly within the radius (inclusive), `Some(false)` when
    /// certainly beyond it, `None` when only the exact distance can tell.
    #[inline]
    pub fn decide(&self, p: (f64, f64)) -> Option<bool> {
        if p.1 < self.band.0 || p.1 > self.band.1 {
            return Some(false);
        }
        if lon_delta(self.frame.lon0, p.0).abs() > 90.0 {
            return None;
        }
        let d = self.frame.distance_m((self.frame.lon0, self.frame.lat0), p);
        if d <= self.accept_below {
            Some(true)
        } else if d >= self.reject_above {
            Some(false)
        } else {
            None
        }
    }
}

/// A box in *unwrapped* longitude (`west ≤ east`, possibly beyond ±180) and latitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct UBox {
    pub w: f64,
    pub s: f64,
    pub e: f64,
    pub n: f64,
}

impl UBox {
    pub fn of_points(pts: &[(f64, f64)]) -> UBox {
        let mut b = UBox {
            w: f64::INFINITY,
            s: f64::INFINITY,
            e: f64::NEG_INFINITY,
            n: f64::NEG_INFINITY,
        };
        for p in pts {
            b.w = b.w.min(p.0);
            b.e = b.e.max(p.0);
            b.s = b.s.min(p.1);
            b.n = b.n.max(p.1);
        }
        b
    }

    /// Widened so that every point within `m` metres of the box lies in it (conservative).
    pub fn widen(&self, m: f64) -> UBox {
        if m <= 0.0 {
            return *self;
        }
        let (s, n) = widen_lat(self.s, self.n, m);
        if s <= -89.999 || n >= 89.999 {
            return UBox {
                w: -1e9,
                s,
                e: 1e9,
                n,
            };
        }
        let pr = parallel_radius(s.abs().max(n.abs())) * (1.0 - 1e-9);
        let dlon = (m / pr).to_degrees() * 1.000_001 + 1e-9;
        if dlon >= 180.0 {
            return UBox {
                w: -1e9,
                s,
                e: 1e9,
                n,
            };
        }
        UBox {
            w: self.w - dlon,
            s,
            e: self.e + dlon,
            n,
        }
    }

    /// True when every point of `o` is certainly at least `m` metres from every point of
    /// `self` (a latitude test first, without trigonometry).
    #[inline]
    pub fn far_from(&self, o: &UBox, m: f64) -> bool {
        let dlat = m * LAT_DEG_PER_M + 1e-9;
        if self.s - dlat > o.n || o.s - dlat > self.n {
            return true;
        }
        !self.widen(m).intersects(o)
    }

    /// True when the boxes may intersect, longitudes compared modulo 360.
    #[inline]
    pub fn intersects(&self, o: &UBox) -> bool {
        if self.s > o.n || o.s > self.n {
            return false;
        }
        if self.e - self.w >= 360.0 || o.e - o.w >= 360.0 {
            return true;
        }
        // Shift o by a multiple of 360 close to self, then test the neighbours too.
        let k = ((self.w - o.w) / 360.0).round() * 360.0;
        [-360.0, 0.0, 360.0].iter().any(|d| {
            let (w, e) = (o.w + k + d, o.e + k + d);
            w <= self.e && self.w <= e
        })
    }
}
