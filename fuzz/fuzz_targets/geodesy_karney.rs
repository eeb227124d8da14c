//! The kernel's lean geodesics against geographiclib-rs on any inputs: never a panic, and the
//! same answers to within what rounding the inputs does (5 nm, as the unit tests ask).
#![no_main]
use arbitrary::Arbitrary;
use deconflict_engine::geodesy::{Line, distance_m, inverse, wgs84};
use geographiclib_rs::geodesic_capability as caps;
use geographiclib_rs::{GeodesicLine, InverseGeodesic};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    lon1: f64,
    lat1: f64,
    /// Either a second point or, when `near`, an offset from the first (the lean path's domain).
    x: f64,
    y: f64,
    near: bool,
    azi: f64,
    s: f64,
}

/// The angle between two directions in degrees, in [0, 180].
fn angle(x: f64, y: f64) -> f64 {
    let d = (x - y).rem_euclid(360.0);
    d.min(360.0 - d)
}

fuzz_target!(|i: Input| {
    let a = (i.lon1, i.lat1);
    let b = if i.near {
        // Offsets of up to ≈ 1° (the fraction of `x`, `y`), scaled down by up to 10⁻¹².
        let scale = 10f64.powf(-(i.azi.abs() % 12.0));
        (i.lon1 + (i.x % 1.0) * scale, i.lat1 + (i.y % 1.0) * scale)
    } else {
        (i.x, i.y)
    };
    // Whatever the input, no panic.
    let (s, azi1, azi2) = inverse(a, b);
    let d = distance_m(a, b);
    let (lon, lat, azi) = Line::new(a, i.azi).position(i.s);
    let valid = |p: (f64, f64)| p.0.is_finite() && p.0.abs() <= 1e6 && p.1.abs() <= 90.0;
    if !valid(a) || !valid(b) {
        return;
    }
    let (rs, razi1, razi2, _a12): (f64, f64, f64, f64) = wgs84().inverse(a.1, a.0, b.1, b.0);
    assert!(
        (s - rs).abs() <= 5e-9 + 1e-15 * rs,
        "{a:?} → {b:?}: {s} vs {rs}"
    );
    assert_eq!(d, s, "{a:?} → {b:?}: distance_m");
    if rs > 1e-3 && a.1.abs() < 89.5 && b.1.abs() < 89.5 {
        let tol = (5e-9 / rs).to_degrees() + 1e-12;
        assert!(
            angle(azi1, razi1) <= tol,
            "{a:?} → {b:?}: azi1 {azi1} vs {razi1}"
        );
        assert!(
            angle(azi2, razi2) <= tol,
            "{a:?} → {b:?}: azi2 {azi2} vs {razi2}"
        );
    }
    if !(i.azi.is_finite() && i.s.is_finite() && i.s.abs() <= 4e7 && a.1.abs() <= 89.0) {
        return;
    }
    let out = caps::LATITUDE | caps::LONGITUDE | caps::AZIMUTH | caps::DISTANCE_IN;
    let line = GeodesicLine::new(wgs84(), a.1, a.0, i.azi, Some(out), None, None);
    let (_, rlat, rlon, razi, ..) = line._gen_position(false, i.s, out);
    let tol_lat = (5e-9 + 1e-15 * i.s.abs()) / 111_000.0;
    let tol_lon = tol_lat / rlat.to_radians().cos().max(1e-3);
    assert!(
        (lat - rlat).abs() <= tol_lat,
        "{a:?} {} {}: lat {lat} vs {rlat}",
        i.azi,
        i.s
    );
    assert!(
        angle(lon, rlon) <= tol_lon,
        "{a:?} {} {}: lon {lon} vs {rlon}",
        i.azi,
        i.s
    );
    let tol_azi =
        (5e-9 / i.s.abs().max(1.0)).to_degrees() / rlat.to_radians().cos().max(1e-3) + 1e-12;
    assert!(
        angle(azi, razi) <= tol_azi,
        "{a:?} {} {}: azi {azi} vs {razi}",
        i.azi,
        i.s
    );
});
