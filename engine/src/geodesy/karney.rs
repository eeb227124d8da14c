//! Karney's geodesic solutions (C. F. F. Karney, *Algorithms for geodesics*, J. Geodesy 87,
//! 43–55, 2013), with lean paths for what the kernel asks most often.
//!
//! geographiclib-rs solves every problem for any points on the ellipsoid, with every special
//! case handled (coincident, meridional, equatorial, nearly antipodal points) and every output
//! it can produce. The kernel's calls are almost all of two kinds, and this module runs
//! Karney's method itself for them, with straight-line code for the series in ε (order 6) and
//! their Clenshaw sums; the `A3`/`C3` series, whose coefficients depend on the ellipsoid, are
//! geographiclib-rs's own (`Geodesic::_A3f`, `Geodesic::_C3f`).
//!
//! * [`inverse`] / [`distance_m`]: two points a few metres to a few hundred kilometres apart,
//!   away from the poles (§5: the short-line start on the auxiliary sphere, Newton on the
//!   azimuth at the first point stopping where geographiclib's stops, the derivative evaluated
//!   only when a step follows). Any other pair (a pole within 1°, more than 90° of longitude or
//!   a long line, coincident, meridional or equatorial points, lines under ≈ 23 cm), and any
//!   solution whose Newton iteration leaves the path geographiclib's would take, goes to
//!   geographiclib-rs unchanged. ≈ 2 000 instructions where geographiclib-rs takes ≈ 5 500.
//! * [`Line`]: points along a route leg by distance (§4, the direct problem with the line's
//!   constants computed once), with one `sin_cos` per angle where geographiclib-rs's
//!   `GeodesicLine` calls `sin` and `cos`, and straight-line series: ≈ 580 instructions
//!   where `GeodesicLine` takes ≈ 1 080.
//!
//! Small angles (under 1/8 rad: the arcs and longitude differences of lines up to ≈ 800 km)
//! take their `sin_cos` and `atan2` from Taylor series, which agree with libm to 2⁻⁵².
//!
//! Both agree with geographiclib-rs to within what rounding the inputs does: the tests compare
//! them on seeded cases from centimetres to thousands of kilometres and require distances and
//! positions to agree to 5 nm (geographiclib's own distance moves by up to 3.9 nm when an input
//! latitude moves by one ulp) and azimuths to 5 nm over the line's length.

use super::{WGS84_A, WGS84_F, wgs84};
use geographiclib_rs::InverseGeodesic;

const F1: f64 = 1.0 - WGS84_F;
const B: f64 = WGS84_A * F1;
/// e′² = e² / (1 − e²).
const EP2: f64 = WGS84_F * (2.0 - WGS84_F) / (F1 * F1);
/// Newton's tolerance on the longitude residual (geographiclib's `tol0`).
const TOL0: f64 = f64::EPSILON;
/// geographiclib's bound on the very short lines it settles on the auxiliary sphere (≈ 23 cm):
/// 0.1·√ε / √(f·(1 − f/2)/2) for WGS84 (checked by a test); shorter lines take the general path.
const ETOL2: f64 = 3.642_461_148_878_852_4e-8;
/// Latitudes the lean path accepts (the general path takes the poles' neighbourhood).
const LAT_MAX: f64 = 89.0;
/// Newton steps the lean path allows before handing the pair to the general path.
const MAX_STEPS: usize = 8;
/// geographiclib's floor for cos β (√ of the smallest normal double).
const TINY: f64 = 1.491_668_146_240_041_3e-154;

/// Distance (metres), azimuth at `a` and forward azimuth at `b` (degrees, clockwise from
/// north) of the geodesic from `a` to `b`, both `(lon, lat)` in degrees.
///
/// ```
/// use deconflict_engine::geodesy::inverse;
/// let (s, azi1, azi2) = inverse((0.0, 0.0), (1.0, 0.0));
/// assert!((s - 111_319.490_793).abs() < 1e-6);
/// assert!((azi1 - 90.0).abs() < 1e-12 && (azi2 - 90.0).abs() < 1e-12);
/// ```
#[inline]
pub fn inverse(a: (f64, f64), b: (f64, f64)) -> (f64, f64, f64) {
    match lean::<true>(a, b) {
        Some((s, d1, d2)) => (s, azimuth(d1), azimuth(d2)),
        None => general(a, b),
    }
}

/// An azimuth as its sine and cosine: the east and north components of the unit vector it
/// points along. The kernel's derivatives need only cosines of azimuth differences, which are
/// dot products of these; no `atan2` to degrees and back.
pub(crate) type Dir = (f64, f64);

/// The azimuth (degrees, clockwise from north) of a direction.
#[inline]
pub(crate) fn azimuth((s, c): Dir) -> f64 {
    s.atan2(c).to_degrees()
}

/// `cos(α − β)` of the directions of `α` and `β`.
#[inline]
pub(crate) fn cos_between(a: Dir, b: Dir) -> f64 {
    a.0 * b.0 + a.1 * b.1
}

/// [`inverse`] with the azimuths as directions ([`Dir`]).
#[inline]
pub(crate) fn inverse_dirs(a: (f64, f64), b: (f64, f64)) -> (f64, Dir, Dir) {
    match lean::<true>(a, b) {
        Some(r) => r,
        None => {
            let (s, azi1, azi2) = general(a, b);
            (s, sincosd(azi1), sincosd(azi2))
        }
    }
}

/// Geodesic distance in metres between two `(lon, lat)` points in degrees.
#[inline]
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    match lean::<false>(a, b) {
        Some(r) => r.0,
        None => wgs84().inverse(a.1, a.0, b.1, b.0),
    }
}

/// geographiclib-rs's solution, for every pair the lean path declines.
#[cold]
fn general(a: (f64, f64), b: (f64, f64)) -> (f64, f64, f64) {
    let (s, azi1, azi2, _a12): (f64, f64, f64, f64) = wgs84().inverse(a.1, a.0, b.1, b.0);
    (s, azi1, azi2)
}

/// The geodesic in Karney's canonical frame: `lat1 ≤ 0`, `|lat1| ≥ |lat2|`, `lon12 ≥ 0`, as
/// reduced latitudes (`sbet`, `cbet`) and the `dn = √(1 + e′² sin²β)` factors.
struct Canonical {
    sbet1: f64,
    cbet1: f64,
    dn1: f64,
    sbet2: f64,
    cbet2: f64,
    dn2: f64,
    slam12: f64,
    clam12: f64,
}

/// What one evaluation of λ₁₂(α₁) leaves for the next step and for the distance.
struct Lambda {
    /// λ₁₂(α₁) minus the target longitude difference, radians.
    v: f64,
    salp2: f64,
    calp2: f64,
    sig12: f64,
    ssig1: f64,
    csig1: f64,
    ssig2: f64,
    csig2: f64,
    eps: f64,
}

/// `(sin β, cos β)` of the reduced latitude β, from `(sin, cos)` of the geographic latitude.
#[inline]
fn reduced((s, c): (f64, f64)) -> (f64, f64) {
    norm(s * F1, c)
}

/// `dn = √(1 + e′² sin²β)`.
#[inline]
fn dn(sbet: f64) -> f64 {
    (1.0 + EP2 * sbet * sbet).sqrt()
}

/// The series parameter ε of a geodesic with `cos α₀ = calp0`.
#[inline]
fn eps_of(calp0: f64) -> f64 {
    let k2 = calp0 * calp0 * EP2;
    k2 / (2.0 * (1.0 + (1.0 + k2).sqrt()) + k2)
}

/// A₃ and the C₃ₗ coefficients at `eps` (geographiclib-rs's, whose coefficients depend on the
/// ellipsoid), C₃ padded to the length the Clenshaw sum takes.
#[inline]
fn a3_c3(eps: f64) -> (f64, [f64; 7]) {
    let g = wgs84();
    let mut c = [0.0; 6];
    g._C3f(eps, &mut c);
    (g._A3f(eps), [c[0], c[1], c[2], c[3], c[4], c[5], 0.0])
}

/// Scales `(s, c)` to a unit vector with `hypot` (geographiclib's `norm`).
#[inline]
fn unit((s, c): (f64, f64)) -> (f64, f64) {
    let h = s.hypot(c);
    (s / h, c / h)
}

/// Scales `(s, c)` to a unit vector without [`unit()`]'s `hypot`, for the lean inverse: its
/// values are bounded (≤ 1) and never tiny together (angles are rounded to 0 below ≈ 7e-18°,
/// as geographiclib rounds them, and its lines are ≥ 23 cm), so there is no overflow or
/// underflow to guard against.
#[inline]
fn norm(s: f64, c: f64) -> (f64, f64) {
    let h = (s * s + c * c).sqrt();
    (s / h, c / h)
}

/// `Σ_{l=1..6} c[l] sin(2lσ)` by Clenshaw summation, from `(sin σ, cos σ)`.
#[inline]
fn sin_series(c: &[f64; 7], s: f64, co: f64) -> f64 {
    let ar = 2.0 * (co - s) * (co + s);
    let (mut y0, mut y1) = (0.0, 0.0);
    let mut k = 6;
    while k > 0 {
        y1 = ar * y0 - y1 + c[k];
        y0 = ar * y1 - y0 + c[k - 1];
        k -= 2;
    }
    2.0 * s * co * y0
}

/// A₁ − 1 and the C₁ₗ coefficients of Karney's series for the distance integral I₁, order 6.
#[inline]
fn a1m1_c1(eps: f64, c: &mut [f64; 7]) -> f64 {
    let e2 = eps * eps;
    let t = e2 * (64.0 + e2 * (4.0 + e2)) / 256.0;
    let mut d = eps;
    c[1] = d * (-16.0 + e2 * (6.0 - e2)) / 32.0;
    d *= eps;
    c[2] = d * (-128.0 + e2 * (64.0 - 9.0 * e2)) / 2048.0;
    d *= eps;
    c[3] = d * (-16.0 + 9.0 * e2) / 768.0;
    d *= eps;
    c[4] = d * (-5.0 + 3.0 * e2) / 512.0;
    d *= eps;
    c[5] = d * -7.0 / 1280.0;
    d *= eps;
    c[6] = d * -7.0 / 2048.0;
    (t + eps) / (1.0 - eps)
}

/// A₂ − 1 and the C₂ₗ coefficients of the series for the reduced-length integral I₂, order 6.
#[inline]
fn a2m1_c2(eps: f64, c: &mut [f64; 7]) -> f64 {
    let e2 = eps * eps;
    let t = -e2 * (192.0 + e2 * (28.0 + 11.0 * e2)) / 256.0;
    let mut d = eps;
    c[1] = d * (16.0 + e2 * (2.0 + e2)) / 32.0;
    d *= eps;
    c[2] = d * (384.0 + e2 * (64.0 + 35.0 * e2)) / 2048.0;
    d *= eps;
    c[3] = d * (80.0 + 15.0 * e2) / 768.0;
    d *= eps;
    c[4] = d * (35.0 + 7.0 * e2) / 512.0;
    d *= eps;
    c[5] = d * 63.0 / 1280.0;
    d *= eps;
    c[6] = d * 77.0 / 2048.0;
    (t - eps) / (1.0 + eps)
}

/// The C′₁ₗ coefficients of the reversed I₁ series (σ from τ on a line), order 6.
#[inline]
fn c1p(eps: f64, c: &mut [f64; 7]) {
    let e2 = eps * eps;
    let mut d = eps;
    c[1] = d * (768.0 + e2 * (-432.0 + 205.0 * e2)) / 1536.0;
    d *= eps;
    c[2] = d * (3840.0 + e2 * (-4736.0 + 4005.0 * e2)) / 12288.0;
    d *= eps;
    c[3] = d * (116.0 - 225.0 * e2) / 384.0;
    d *= eps;
    c[4] = d * (2695.0 - 7173.0 * e2) / 7680.0;
    d *= eps;
    c[5] = d * 3467.0 / 7680.0;
    d *= eps;
    c[6] = d * 38081.0 / 61440.0;
}

/// `atan2(y, x)`; by its Taylor series when the angle is small (|y| ≤ x/8, i.e. under ≈ 7°:
/// the arcs and longitude residuals of lines up to ≈ 800 km), where it agrees with
/// `f64::atan2` to 2⁻⁵² of the result for a fraction of its instructions.
#[inline]
pub(crate) fn atan2_small(y: f64, x: f64) -> f64 {
    if x > 0.0 && y.abs() <= 0.125 * x {
        // The first term left out, t¹⁹/19, is below 3e-18 of the result for |t| ≤ 1/8.
        let t = y / x;
        let u = t * t;
        let p = -1.0 / 15.0 + u / 17.0;
        let p = 1.0 / 13.0 + u * p;
        let p = -1.0 / 11.0 + u * p;
        let p = 1.0 / 9.0 + u * p;
        let p = -1.0 / 7.0 + u * p;
        let p = 1.0 / 5.0 + u * p;
        let p = -1.0 / 3.0 + u * p;
        t + t * (u * p)
    } else {
        y.atan2(x)
    }
}

/// `(sin x, cos x)`; by their Taylor series for small angles (|x| ≤ 1/8 rad: the arcs and
/// longitude differences of lines up to ≈ 800 km), where they agree with `f64::sin_cos` to
/// 2⁻⁵² (sine, relative) and 2⁻⁵³ (cosine).
#[inline]
pub(crate) fn sin_cos_small(x: f64) -> (f64, f64) {
    if x.abs() <= 0.125 {
        // The first terms left out, x¹³/13! and x¹⁴/14!, are below 1e-21 of the results.
        let u = x * x;
        let s = -1.0 / 39_916_800.0;
        let s = 1.0 / 362_880.0 + u * s;
        let s = -1.0 / 5_040.0 + u * s;
        let s = 1.0 / 120.0 + u * s;
        let s = -1.0 / 6.0 + u * s;
        let c = 1.0 / 479_001_600.0;
        let c = -1.0 / 3_628_800.0 + u * c;
        let c = 1.0 / 40_320.0 + u * c;
        let c = -1.0 / 720.0 + u * c;
        let c = 1.0 / 24.0 + u * c;
        let c = -0.5 + u * c;
        (x + x * (u * s), 1.0 + u * c)
    } else {
        x.sin_cos()
    }
}

/// `x` with tiny magnitudes rounded to multiples of 2⁻⁵⁷ as geographiclib rounds its inputs
/// (`AngRound`: below ≈ 7e-18° an angle becomes 0, so that geographiclib's special cases see
/// the same numbers here).
#[inline]
fn ang_round(x: f64) -> f64 {
    const Z: f64 = 1.0 / 16.0;
    let y = x.abs();
    let y = if y < Z { Z - (Z - y) } else { y };
    y.copysign(x)
}

/// `x` in degrees reduced to (−180°, 180°] (geographiclib's `AngNormalize`: [`Line`] keeps
/// `GeodesicLine`'s convention; the rest of the crate wraps to [−180°, 180°) with
/// [`super::wrap_lon`]).
#[inline]
fn ang_normalize(x: f64) -> f64 {
    if x > -180.0 && x <= 180.0 {
        return x;
    }
    let z = x % 360.0;
    if z <= -180.0 {
        z + 360.0
    } else if z <= 180.0 {
        z
    } else {
        z - 360.0
    }
}

/// `(sin x°, cos x°)`, exact at multiples of 90° (`%` is exact, and so is the remainder after
/// the nearest multiple of 90°, by Sterbenz's lemma).
#[inline]
fn sincosd(x: f64) -> (f64, f64) {
    let x = if x.abs() <= 360.0 { x } else { x % 360.0 };
    let q = (x / 90.0).round();
    let (s, c) = (x - 90.0 * q).to_radians().sin_cos();
    match (q as i64).rem_euclid(4) {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

/// A geodesic from a point in a direction: points along it by distance (Karney's direct
/// problem, with everything that depends only on the start computed once).
///
/// Longitudes are in (−180°, 180°], as geographiclib's `GeodesicLine` gives them without
/// `LONG_UNROLL`, and the values agree with it to within rounding.
#[derive(Debug, Clone)]
pub struct Line {
    lon1: f64,
    salp0: f64,
    calp0: f64,
    ssig1: f64,
    csig1: f64,
    stau1: f64,
    ctau1: f64,
    /// B₁₁: the C₁ series at σ₁.
    b11: f64,
    /// b · A₁: metres per radian of τ.
    b_a1: f64,
    c1p: [f64; 7],
    a3c: f64,
    b31: f64,
    c3: [f64; 7],
    somg1: f64,
    comg1: f64,
}

impl Line {
    /// The geodesic leaving `(lon, lat)` (degrees) at azimuth `azi` (degrees from north).
    ///
    /// ```
    /// use deconflict_engine::geodesy::{Line, inverse};
    /// let (a, b) = ((10.0, 45.0), (11.0, 46.0));
    /// let (s, azi1, azi2) = inverse(a, b);
    /// let (lon, lat, azi) = Line::new(a, azi1).position(s);
    /// assert!((lon - 11.0).abs() < 1e-12 && (lat - 46.0).abs() < 1e-12);
    /// assert!((azi - azi2).abs() < 1e-9);
    /// ```
    pub fn new((lon1, lat1): (f64, f64), azi: f64) -> Line {
        // Rounded as geographiclib rounds them, so that tiny values meet its special cases.
        let (salp1, calp1) = sincosd(ang_round(ang_normalize(azi)));
        // Normalised with `hypot`, as geographiclib's `GeodesicLine` does (once per line).
        let (sbet1, cbet1) = sincosd(ang_round(lat1));
        let (sbet1, cbet1) = unit((sbet1 * F1, cbet1));
        let cbet1 = cbet1.max(TINY);
        let salp0 = salp1 * cbet1;
        let calp0 = calp1.hypot(salp1 * sbet1);
        let somg1 = salp0 * sbet1;
        let csig1 = if sbet1 != 0.0 || calp1 != 0.0 {
            cbet1 * calp1
        } else {
            1.0
        };
        let comg1 = csig1;
        let (ssig1, csig1) = unit((sbet1, csig1));
        let eps = eps_of(calp0);
        let mut c1 = [0.0; 7];
        let a1m1 = a1m1_c1(eps, &mut c1);
        let b11 = sin_series(&c1, ssig1, csig1);
        let (s, c) = b11.sin_cos();
        let mut c1p_ = [0.0; 7];
        c1p(eps, &mut c1p_);
        let (a3, c3) = a3_c3(eps);
        Line {
            lon1,
            salp0,
            calp0,
            ssig1,
            csig1,
            stau1: ssig1 * c + csig1 * s,
            ctau1: csig1 * c - ssig1 * s,
            b11,
            b_a1: B * (1.0 + a1m1),
            c1p: c1p_,
            a3c: -WGS84_F * salp0 * a3,
            b31: sin_series(&c3, ssig1, csig1),
            c3,
            somg1,
            comg1,
        }
    }

    /// `(lon, lat, azi)` in degrees of the point `s` metres along the line.
    #[inline]
    pub fn position(&self, s: f64) -> (f64, f64, f64) {
        let (lon, lat, (sa, ca), _) = self.at_distance(s);
        (lon, lat, sa.atan2(ca).to_degrees())
    }

    /// [`Line::position`] with the azimuth as a direction ([`Dir`]).
    #[inline]
    pub(crate) fn position_dir(&self, s: f64) -> (f64, f64, Dir) {
        let (lon, lat, (sa, ca), cbet2) = self.at_distance(s);
        (lon, lat, (sa / cbet2, ca / cbet2))
    }

    /// The point `s` metres along the line: `(lon, lat)` in degrees, and its azimuth's sine
    /// and cosine both times `cos β` there (and that `cos β`).
    #[inline]
    fn at_distance(&self, s: f64) -> (f64, f64, (f64, f64), f64) {
        let tau12 = s / self.b_a1;
        let (st, ct) = sin_cos_small(tau12);
        let b12 = -sin_series(
            &self.c1p,
            self.stau1 * ct + self.ctau1 * st,
            self.ctau1 * ct - self.stau1 * st,
        );
        let sig12 = tau12 - (b12 - self.b11);
        let (ssig12, csig12) = sin_cos_small(sig12);
        self.at_sigma(sig12, ssig12, csig12)
    }

    /// The point `sig12` radians of arc along the line on the auxiliary sphere (as
    /// [`Line::at_distance`]).
    #[inline]
    fn at_sigma(&self, sig12: f64, ssig12: f64, csig12: f64) -> (f64, f64, (f64, f64), f64) {
        let ssig2 = self.ssig1 * csig12 + self.csig1 * ssig12;
        let mut csig2 = self.csig1 * csig12 - self.ssig1 * ssig12;
        let sbet2 = self.calp0 * ssig2;
        let mut cbet2 = self.salp0.hypot(self.calp0 * csig2);
        if cbet2 == 0.0 {
            cbet2 = TINY;
            csig2 = TINY;
        }
        let somg2 = self.salp0 * ssig2;
        let (somg1, comg1) = (self.somg1, self.comg1);
        let omg12 = atan2_small(somg2 * comg1 - csig2 * somg1, csig2 * comg1 + somg2 * somg1);
        let lam12 = omg12 + self.a3c * (sig12 + (sin_series(&self.c3, ssig2, csig2) - self.b31));
        let lat = sbet2.atan2(F1 * cbet2).to_degrees();
        let lon = ang_normalize(ang_normalize(self.lon1) + ang_normalize(lam12.to_degrees()));
        (lon, lat, (self.salp0, self.calp0 * csig2), cbet2)
    }
}

impl Canonical {
    /// λ₁₂ − target for the azimuth `(salp1, calp1)` at the first point (Karney 2013, §5).
    #[inline]
    fn lambda(&self, salp1: f64, calp1: f64) -> Lambda {
        let (sbet1, cbet1, sbet2, cbet2) = (self.sbet1, self.cbet1, self.sbet2, self.cbet2);
        let salp0 = salp1 * cbet1;
        let calp0 = (calp1 * calp1 + (salp1 * sbet1) * (salp1 * sbet1)).sqrt();
        let somg1 = salp0 * sbet1;
        let comg1 = calp1 * cbet1;
        let (ssig1, csig1) = norm(sbet1, comg1);
        let salp2 = if cbet2 != cbet1 { salp0 / cbet2 } else { salp1 };
        let calp2 = if cbet2 != cbet1 || sbet2.abs() != -sbet1 {
            let t = if cbet1 < -sbet1 {
                (cbet2 - cbet1) * (cbet1 + cbet2)
            } else {
                (sbet1 - sbet2) * (sbet1 + sbet2)
            };
            ((calp1 * cbet1) * (calp1 * cbet1) + t).sqrt() / cbet2
        } else {
            calp1.abs()
        };
        let somg2 = salp0 * sbet2;
        let comg2 = calp2 * cbet2;
        let (ssig2, csig2) = norm(sbet2, comg2);
        let sig12 = atan2_small(
            (csig1 * ssig2 - ssig1 * csig2).max(0.0),
            csig1 * csig2 + ssig1 * ssig2,
        );
        let somg12 = (comg1 * somg2 - somg1 * comg2).max(0.0);
        let comg12 = comg1 * comg2 + somg1 * somg2;
        let (slam, clam) = (self.slam12, self.clam12);
        let eta = atan2_small(somg12 * clam - comg12 * slam, comg12 * clam + somg12 * slam);
        let eps = eps_of(calp0);
        let (a3, c3) = a3_c3(eps);
        let b312 = sin_series(&c3, ssig2, csig2) - sin_series(&c3, ssig1, csig1);
        let domg12 = -WGS84_F * a3 * salp0 * (sig12 + b312);
        Lambda {
            v: eta + domg12,
            salp2,
            calp2,
            sig12,
            ssig1,
            csig1,
            ssig2,
            csig2,
            eps,
        }
    }

    /// dλ₁₂/dα₁ at the evaluation `l` of azimuth `calp1` (from the reduced length).
    #[inline]
    fn dlambda(&self, l: &Lambda) -> f64 {
        if l.calp2 == 0.0 {
            return -2.0 * F1 * self.dn1 / self.sbet1;
        }
        let mut c1 = [0.0; 7];
        let mut c2 = [0.0; 7];
        let a1 = a1m1_c1(l.eps, &mut c1);
        let a2 = a2m1_c2(l.eps, &mut c2);
        let m0x = a1 - a2;
        let (a1, a2) = (a1 + 1.0, a2 + 1.0);
        for k in 1..7 {
            c2[k] = a1 * c1[k] - a2 * c2[k];
        }
        let j12 =
            m0x * l.sig12 + (sin_series(&c2, l.ssig2, l.csig2) - sin_series(&c2, l.ssig1, l.csig1));
        let m12b = self.dn2 * (l.csig1 * l.ssig2)
            - self.dn1 * (l.ssig1 * l.csig2)
            - l.csig1 * l.csig2 * j12;
        m12b * F1 / (l.calp2 * self.cbet2)
    }
}

/// `to − from` wrapped into [−180°, 180°] like [`super::lon_delta`], but without the rounding
/// of a plain difference, as geographiclib's `AngDiff` (the lean path must see the difference
/// geographiclib sees): Knuth's two-sum, and the wrap by 360° is exact by Sterbenz's lemma.
/// `None` when the longitudes are more than a turn apart or the difference exceeds 90°.
#[inline]
fn lon_diff(from: f64, to: f64) -> Option<f64> {
    let d = to - from;
    let bv = d - to;
    let err = (to - (d - bv)) + (-from - bv);
    let d = if d > 180.0 {
        d - 360.0
    } else if d < -180.0 {
        d + 360.0
    } else {
        d
    };
    let d = d + err;
    (d.abs() <= 90.0).then_some(d)
}

/// Karney's solution for a short line away from the poles, or `None` for the general path.
#[inline]
fn lean<const AZI: bool>(a: (f64, f64), b: (f64, f64)) -> Option<(f64, Dir, Dir)> {
    let (mut lat1, mut lat2) = (ang_round(a.1), ang_round(b.1));
    if !(lat1.abs() <= LAT_MAX && lat2.abs() <= LAT_MAX) {
        return None;
    }
    let lon12 = lon_diff(a.0, b.0)?;
    let mut lonsign = if lon12 >= 0.0 { 1.0 } else { -1.0 };
    let lon12 = ang_round(lon12.abs());
    if lon12 == 0.0 {
        return None; // meridional: the general path's own case
    }
    let swapp = if lat1.abs() < lat2.abs() { -1.0 } else { 1.0 };
    if swapp < 0.0 {
        lonsign = -lonsign;
        std::mem::swap(&mut lat1, &mut lat2);
    }
    let latsign = if lat1 < 0.0 { 1.0 } else { -1.0 };
    lat1 *= latsign;
    lat2 *= latsign;
    if lat1 == 0.0 {
        return None; // equatorial: the general path's own case
    }
    let (sbet1, cbet1) = reduced(lat1.to_radians().sin_cos());
    let (mut sbet2, mut cbet2) = reduced(lat2.to_radians().sin_cos());
    if cbet1 < -sbet1 {
        if cbet2 == cbet1 {
            sbet2 = if sbet2 < 0.0 { sbet1 } else { -sbet1 };
        }
    } else if sbet2.abs() == -sbet1 {
        cbet2 = cbet1;
    }
    let (dn1, dn2) = (dn(sbet1), dn(sbet2));
    let lam12 = lon12.to_radians();
    let (slam12, clam12) = sin_cos_small(lam12);
    let geo = Canonical {
        sbet1,
        cbet1,
        dn1,
        sbet2,
        cbet2,
        dn2,
        slam12,
        clam12,
    };

    // The start: a great circle on the auxiliary sphere with the mean `dn` (the short-line
    // case of Karney's `InverseStart`).
    let sbet12 = sbet2 * cbet1 - cbet2 * sbet1;
    let cbet12 = cbet2 * cbet1 + sbet2 * sbet1;
    if !(cbet12 >= 0.0 && sbet12 < 0.5 && cbet2 * lam12 < 0.5) {
        return None;
    }
    let sbetm2 = (sbet1 + sbet2) * (sbet1 + sbet2);
    let sbetm2 = sbetm2 / (sbetm2 + (cbet1 + cbet2) * (cbet1 + cbet2));
    let dnm = (1.0 + EP2 * sbetm2).sqrt();
    let (somg12, comg12) = sin_cos_small(lam12 / (F1 * dnm));
    if comg12 < 0.0 {
        return None;
    }
    let salp1 = cbet2 * somg12;
    let calp1 = sbet12 + cbet2 * sbet1 * somg12 * somg12 / (1.0 + comg12);
    let ssig12 = (salp1 * salp1 + calp1 * calp1).sqrt();
    if !(ssig12 >= ETOL2 && salp1 > 0.0) {
        return None; // under ≈ 23 cm: the general path settles it on the sphere
    }
    if sbet1 * sbet2 + cbet1 * cbet2 * comg12 < 0.0 {
        return None; // geographiclib would refine this start (nearly antipodal points)
    }
    let (mut salp1, mut calp1) = norm(salp1, calp1);

    // Newton on α₁, stopping where geographiclib's iteration stops.
    let mut tripn = false;
    let mut steps = 0;
    let l = loop {
        let l = geo.lambda(salp1, calp1);
        if l.v.abs() < if tripn { 8.0 } else { 1.0 } * TOL0 {
            break l;
        }
        if steps == MAX_STEPS || !l.v.is_finite() {
            return None;
        }
        steps += 1;
        let dv = geo.dlambda(&l);
        if dv.is_nan() || dv <= 0.0 {
            return None;
        }
        let dalp1 = -l.v / dv;
        let (sd, cd) = sin_cos_small(dalp1);
        let nsalp1 = salp1 * cd + calp1 * sd;
        if !(nsalp1 > 0.0 && dalp1.abs() < std::f64::consts::PI) {
            return None;
        }
        (salp1, calp1) = norm(nsalp1, calp1 * cd - salp1 * sd);
        tripn = l.v.abs() <= 16.0 * TOL0;
    };

    let mut c1 = [0.0; 7];
    let a1 = a1m1_c1(l.eps, &mut c1) + 1.0;
    let b12 = sin_series(&c1, l.ssig2, l.csig2) - sin_series(&c1, l.ssig1, l.csig1);
    let s12 = B * a1 * (l.sig12 + b12);
    if !AZI {
        return Some((s12, (f64::NAN, f64::NAN), (f64::NAN, f64::NAN)));
    }
    let (mut salp1, mut calp1, mut salp2, mut calp2) = (salp1, calp1, l.salp2, l.calp2);
    if swapp < 0.0 {
        std::mem::swap(&mut salp1, &mut salp2);
        std::mem::swap(&mut calp1, &mut calp2);
    }
    let (ks, kc) = (swapp * lonsign, swapp * latsign);
    Some((s12, (salp1 * ks, calp1 * kc), (salp2 * ks, calp2 * kc)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn azi_diff(x: f64, y: f64) -> f64 {
        let d = (x - y).rem_euclid(360.0);
        d.min(360.0 - d)
    }

    fn assert_agrees(a: (f64, f64), b: (f64, f64)) {
        let (s, z1, z2) = inverse(a, b);
        let (rs, rz1, rz2) = general(a, b); // geographiclib-rs
        // Both round the inputs (degrees to radians, ≈ 1 nm) and their own steps differently:
        // geographiclib's distance moves by up to 3.9 nm when one input latitude moves by one
        // ulp, so agreement is asked to 5 nm, and for an azimuth to 5 nm over the length.
        assert!(
            (s - rs).abs() <= 5e-9 + 1e-15 * rs,
            "{a:?} → {b:?}: {s} vs {rs}"
        );
        assert_eq!(distance_m(a, b), s, "{a:?} → {b:?}");
        assert_dirs_are_the_azimuths(a, b);
        if rs > 1e-3 {
            let tol = (5e-9 / rs).to_degrees() + 1e-12;
            assert!(azi_diff(z1, rz1) < tol, "{a:?} → {b:?}: azi1 {z1} vs {rz1}");
            assert!(azi_diff(z2, rz2) < tol, "{a:?} → {b:?}: azi2 {z2} vs {rz2}");
        }
    }

    /// `inverse_dirs` gives `inverse`'s distance, bit for bit, and unit vectors along its
    /// azimuths (each azimuth is the `atan2` of its direction, so only rounding separates them).
    fn assert_dirs_are_the_azimuths(a: (f64, f64), b: (f64, f64)) {
        let (s, z1, z2) = inverse(a, b);
        let (ds, d1, d2) = inverse_dirs(a, b);
        assert_eq!(ds.to_bits(), s.to_bits(), "{a:?} → {b:?}");
        for (z, d) in [(z1, d1), (z2, d2)] {
            assert!(
                (d.0.hypot(d.1) - 1.0).abs() <= 1e-14,
                "{a:?} → {b:?}: |{d:?}| ≠ 1"
            );
            let (sz, cz) = z.to_radians().sin_cos();
            assert!(
                (d.0 - sz).abs() <= 1e-14 && (d.1 - cz).abs() <= 1e-14,
                "{a:?} → {b:?}: {d:?} vs {z}°"
            );
            assert!(
                azi_diff(azimuth(d), z) <= 1e-12,
                "{a:?} → {b:?}: {d:?} vs {z}°"
            );
        }
    }

    #[test]
    fn the_lean_path_agrees_with_geographiclib() {
        let mut rng = StdRng::seed_from_u64(41);
        let mut lean_taken = 0;
        for i in 0..200_000 {
            let lat = rng.gen_range(-89.5..89.5);
            let lon = rng.gen_range(-180.0..180.0);
            // Separations from centimetres to thousands of kilometres, in all directions.
            let scale = 10f64.powf(rng.gen_range(-7.0..1.5));
            let (dlon, dlat) = match i % 4 {
                0 => (
                    scale * rng.gen_range(-1.0..1.0),
                    scale * rng.gen_range(-1.0..1.0),
                ),
                1 => (scale * rng.gen_range(-1.0..1.0), 0.0),
                2 => (0.0, scale * rng.gen_range(-1.0..1.0)),
                _ => (scale, -scale * rng.gen_range(0.0..1.0)),
            };
            let a = (lon, lat);
            let b = (
                super::super::wrap_lon(lon + dlon),
                (lat + dlat).clamp(-89.9, 89.9),
            );
            if lean::<true>(a, b).is_some() {
                lean_taken += 1;
            }
            assert_agrees(a, b);
            assert_agrees(b, a);
        }
        // Most pairs are in the lean path's domain; the rest prove the hand-over.
        assert!(lean_taken > 100_000, "{lean_taken}");
    }

    #[test]
    fn line_positions_agree_with_geographiclib() {
        use geographiclib_rs::GeodesicLine;
        use geographiclib_rs::geodesic_capability as caps;
        let mut rng = StdRng::seed_from_u64(43);
        let out = caps::LATITUDE | caps::LONGITUDE | caps::AZIMUTH | caps::DISTANCE_IN;
        for i in 0..20_000 {
            let lat = match i % 10 {
                0 => 0.0,
                1 => 89.0 * rng.gen_range(-1.0..1.0f64).signum(),
                _ => rng.gen_range(-89.0..89.0),
            };
            let lon = rng.gen_range(-180.0..180.0);
            let azi = match i % 7 {
                0 => 90.0 * f64::from(rng.gen_range(-2..=2)),
                _ => rng.gen_range(-180.0..180.0),
            };
            let line = Line::new((lon, lat), azi);
            let reference = GeodesicLine::new(wgs84(), lat, lon, azi, Some(out), None, None);
            for _ in 0..10 {
                let s = 10f64.powf(rng.gen_range(-3.0..7.3)) * rng.gen_range(-1.0..1.0);
                let (lon2, lat2, azi2) = line.position(s);
                let (dlon2, dlat2, dir2) = line.position_dir(s);
                assert_eq!((dlon2, dlat2), (lon2, lat2), "{lon} {lat} {azi} {s}");
                let (sz, cz) = azi2.to_radians().sin_cos();
                assert!(
                    (dir2.0 - sz).abs() <= 1e-14 && (dir2.1 - cz).abs() <= 1e-14,
                    "{lon} {lat} {azi} {s}: {dir2:?} vs {azi2}°"
                );
                let (_, rlat, rlon, razi, ..) = reference._gen_position(false, s, out);
                // 5 nm in degrees of latitude, and of longitude at this latitude.
                let tol_lat = 5e-9 / 111_000.0 + 1e-15 * s.abs() / 111_000.0;
                let tol_lon = tol_lat / rlat.to_radians().cos().max(1e-3);
                assert!(
                    (lat2 - rlat).abs() <= tol_lat,
                    "{lon} {lat} {azi} {s}: lat {lat2} vs {rlat}"
                );
                assert!(
                    azi_diff(lon2, rlon) <= tol_lon,
                    "{lon} {lat} {azi} {s}: lon {lon2} vs {rlon}"
                );
                let tol_azi = (5e-9 / s.abs().max(1.0)).to_degrees()
                    / rlat.to_radians().cos().max(1e-3)
                    + 1e-12;
                assert!(
                    azi_diff(azi2, razi) <= tol_azi,
                    "{lon} {lat} {azi} {s}: azi {azi2} vs {razi}"
                );
            }
        }
    }

    #[test]
    fn atan2_small_is_atan2_to_rounding() {
        let mut rng = StdRng::seed_from_u64(7);
        for i in 0..1_000_000 {
            let x: f64 = rng.gen_range(0.5..2.0);
            let y = x * rng.gen_range(-0.13..0.13) * 10f64.powi(-(i % 12));
            let (a, r) = (atan2_small(y, x), y.atan2(x));
            assert!(
                (a - r).abs() <= f64::EPSILON * r.abs(),
                "{y} / {x}: {a} vs {r}"
            );
        }
        for (y, x) in [
            (0.0, 1.0),
            (-0.0, 1.0),
            (1.0, 0.0),
            (1.0, -1.0),
            (0.0, -1.0),
            (5e-324, 1.0),
        ] {
            assert_eq!(atan2_small(y, x), y.atan2(x), "{y} / {x}");
        }
    }

    #[test]
    fn sin_cos_small_is_sin_cos_to_rounding() {
        let mut rng = StdRng::seed_from_u64(8);
        for i in 0..1_000_000 {
            let x = rng.gen_range(-0.13..0.13) * 10f64.powi(-(i % 12));
            let ((s, c), (rs, rc)) = (sin_cos_small(x), x.sin_cos());
            assert!(
                (s - rs).abs() <= f64::EPSILON * rs.abs(),
                "sin {x}: {s} vs {rs}"
            );
            assert!((c - rc).abs() <= f64::EPSILON / 2.0, "cos {x}: {c} vs {rc}");
        }
        for x in [0.0, -0.0, 5e-324, 0.125, -0.125, 0.13, 3.0] {
            let ((s, c), (rs, rc)) = (sin_cos_small(x), x.sin_cos());
            assert!(
                (s - rs).abs() <= f64::EPSILON * rs.abs() && (c - rc).abs() <= 1e-16,
                "{x}"
            );
        }
    }

    #[test]
    fn constants_are_geographiclibs() {
        let f = WGS84_F;
        let etol2 = 0.1 * f64::EPSILON.sqrt() / (f * (1.0 - f / 2.0) / 2.0).sqrt();
        assert!(
            (ETOL2 - etol2).abs() <= f64::EPSILON * etol2,
            "{ETOL2} vs {etol2}"
        );
        assert_eq!(TINY, f64::MIN_POSITIVE.sqrt());
        assert_eq!(TINY, wgs84().tiny_);
        assert_eq!(B, wgs84()._b);
        assert!((EP2 - wgs84()._ep2).abs() <= f64::EPSILON * EP2);
    }

    #[test]
    fn sincosd_reduces_any_angle() {
        for x in [721.5, -3.0e5 - 0.25, 1.0e300, -2.458e255, 4.5e15 + 90.0] {
            let r = x % 360.0;
            let (s, c) = sincosd(x);
            let (rs, rc) = r.to_radians().sin_cos();
            assert!((s - rs).abs() < 1e-14 && (c - rc).abs() < 1e-14, "{x}");
        }
    }

    #[test]
    fn sincosd_is_exact_at_right_angles() {
        for k in -8..=8 {
            let (s, c) = sincosd(45.0 * f64::from(k));
            let (rs, rc) = (45.0 * f64::from(k)).to_radians().sin_cos();
            assert!((s - rs).abs() < 1e-15 && (c - rc).abs() < 1e-15, "{k}");
            if k % 2 == 0 {
                assert!(s == 0.0 || s.abs() == 1.0, "{k}: {s}");
                assert!(c == 0.0 || c.abs() == 1.0, "{k}: {c}");
            }
        }
    }

    #[test]
    fn special_pairs_agree_with_geographiclib() {
        let pts = [
            (0.0, 0.0),
            (0.0, 1e-9),
            (1e-9, 0.0),
            (179.999, 0.0),
            (-179.999, 0.0),
            (179.9, 45.0),
            (-179.9, 45.0),
            (10.0, 89.0),
            (10.0, -89.0),
            (190.0, 89.0),
            (10.0, 45.0),
            (10.0, -45.0),
            (10.0 + 1e-12, 45.0),
            (10.0, 45.0 + 1e-12),
            (100.0, 44.0),
            (-170.0, -44.0),
        ];
        for a in pts {
            for b in pts {
                assert_agrees(a, b);
            }
        }
    }
}
