//! Oracle tests of the geometry kernel: dense sampling with geographiclib (`inverse`,
//! `direct`) refined by golden-section search, on seeded random cases.

use super::framed::{self, FramedCore, PieceVsCore};
use super::kernel::point_crossing_ms;
use super::*;
use geographiclib_rs::{DirectGeodesic, InverseGeodesic};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// geographiclib-rs itself, not the kernel's lean inverse: the oracle stays independent.
fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    wgs84().inverse(a.1, a.0, b.1, b.0)
}

fn direct(p: (f64, f64), azi: f64, s: f64) -> (f64, f64) {
    let (lat, lon): (f64, f64) = wgs84().direct(p.1, p.0, azi, s);
    (lon, lat)
}

/// Geodesic point at fraction u of a→b.
fn geo_at(a: (f64, f64), b: (f64, f64), u: f64) -> (f64, f64) {
    let (s, azi, _, _): (f64, f64, f64, f64) = wgs84().inverse(a.1, a.0, b.1, b.0);
    direct(a, azi, u * s)
}

fn lin_at(a: (f64, f64), b: (f64, f64), u: f64) -> (f64, f64) {
    (
        wrap_lon(a.0 + u * lon_delta(a.0, b.0)),
        a.1 + u * (b.1 - a.1),
    )
}

/// Minimum of f on [0,1]: n samples, then golden-section around the best sample.
fn oracle_min(f: &mut dyn FnMut(f64) -> f64, n: usize) -> (f64, f64) {
    let mut best = (f64::INFINITY, 0.0);
    for i in 0..=n {
        let u = i as f64 / n as f64;
        let d = f(u);
        if d < best.0 {
            best = (d, u);
        }
    }
    let h = 1.0 / n as f64;
    let (mut lo, mut hi) = ((best.1 - h).max(0.0), (best.1 + h).min(1.0));
    let g = 0.618_033_988_749_894_9;
    for _ in 0..40 {
        let (m1, m2) = (hi - g * (hi - lo), lo + g * (hi - lo));
        if f(m1) < f(m2) { hi = m2 } else { lo = m1 }
    }
    let u = 0.5 * (lo + hi);
    let d = f(u);
    if d < best.0 { (d, u) } else { best }
}

fn oracle_point_geo(p: (f64, f64), a: (f64, f64), b: (f64, f64), n: usize) -> f64 {
    let (s, azi, _, _): (f64, f64, f64, f64) = wgs84().inverse(a.1, a.0, b.1, b.0);
    oracle_min(&mut |u| dist(p, direct(a, azi, u * s)), n).0
}

fn oracle_point_lin(p: (f64, f64), a: (f64, f64), b: (f64, f64), n: usize) -> f64 {
    oracle_min(&mut |u| dist(p, lin_at(a, b, u)), n).0
}

/// Case counts are multiplied by 10 with `GEODESY_LARGE=1` (larger runs).
fn n(k: usize) -> usize {
    if std::env::var_os("GEODESY_LARGE").is_some() {
        10 * k
    } else {
        k
    }
}

/// Instants checked for coverage of the sub-threshold interval.
const COVER: usize = 200;

#[derive(Clone, Copy, Debug)]
enum Regime {
    Mid,
    High,
    Anti,
    South,
    Polar,
}
const REGIMES: [Regime; 5] = [
    Regime::Mid,
    Regime::High,
    Regime::Anti,
    Regime::South,
    Regime::Polar,
];

fn base(rng: &mut ChaCha8Rng, r: Regime) -> (f64, f64) {
    match r {
        Regime::Mid => (rng.gen_range(-20.0..40.0), rng.gen_range(30.0..50.0)),
        Regime::High => (rng.gen_range(-180.0..180.0), rng.gen_range(78.0..82.0)),
        Regime::Anti => (
            wrap_lon(rng.gen_range(179.0..181.0)),
            rng.gen_range(-60.0..60.0),
        ),
        Regime::South => (rng.gen_range(-180.0..180.0), rng.gen_range(-80.0..-40.0)),
        Regime::Polar => (rng.gen_range(-180.0..180.0), rng.gen_range(86.0..88.5)),
    }
}

fn near_(rng: &mut ChaCha8Rng, p: (f64, f64), max_m: f64) -> (f64, f64) {
    let q = direct(
        p,
        rng.gen_range(0.0..360.0),
        max_m * rng.gen_range(0.0..1.0f64),
    );
    (wrap_lon(q.0), q.1)
}

macro_rules! near {
    ($rng:ident, $p:expr, $d:expr) => {{
        let p = $p;
        let d = $d;
        near_(&mut $rng, p, d)
    }};
}

fn scale(rng: &mut ChaCha8Rng) -> f64 {
    // tiny, normal, long
    match rng.gen_range(0..3) {
        0 => 10f64.powf(rng.gen_range(0.0..3.0)),
        1 => 10f64.powf(rng.gen_range(3.0..5.0)),
        _ => rng.gen_range(500e3..2_000e3),
    }
}

#[test]
fn point_to_geodesic_segment_matches_oracle() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for i in 0..n(400) {
        let r = REGIMES[i % REGIMES.len()];
        let a = base(&mut rng, r);
        let len = scale(&mut rng);
        let b = near!(rng, a, len);
        let p = near!(
            rng,
            geo_at(a, b, rng.gen_range(-0.2..1.2)),
            scale(&mut rng).min(300e3)
        );
        let c = point_to_geodesic_segment(p, a, b);
        let o = oracle_point_geo(p, a, b, 2000);
        assert!(
            c.distance_m <= o + 1e-6,
            "{r:?} {p:?} {a:?} {b:?}: {} > oracle {o}",
            c.distance_m
        );
        assert!(
            c.distance_m >= o - 1e-4 - 1e-9 * o,
            "{r:?} {p:?} {a:?} {b:?}: {} < oracle {o}",
            c.distance_m
        );
        assert!((dist(p, c.point) - c.distance_m).abs() < 1e-6);
        assert!((dist(c.point, geo_at(a, b, c.fraction)) < 1e-3));
    }
}

#[test]
fn point_to_lonlat_segment_matches_oracle() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for i in 0..n(300) {
        let r = REGIMES[i % REGIMES.len()];
        let a = base(&mut rng, r);
        let b = near!(rng, a, scale(&mut rng));
        let p = near!(
            rng,
            lin_at(a, b, rng.gen_range(-0.2..1.2)),
            scale(&mut rng).min(300e3)
        );
        let c = point_to_lonlat_segment(p, a, b);
        let o = oracle_point_lin(p, a, b, 4000);
        assert!(
            c.distance_m <= o + 1e-6,
            "{r:?} {p:?} {a:?} {b:?}: {} > oracle {o}",
            c.distance_m
        );
        assert!(
            c.distance_m >= o - 1e-4 - 1e-9 * o,
            "{r:?}: {} < oracle {o}",
            c.distance_m
        );
    }
}

/// Checks an approach against the sampled distance function `d(u)` (times 0..dt ms).
fn check_approach(
    what: &str,
    got: Option<Approach>,
    d: &mut dyn FnMut(f64) -> f64,
    dt: i64,
    t: f64,
    omin: f64,
    cover: usize,
) {
    let t = t.max(TOUCH_M);
    let ou = 0.0;
    match got {
        None => assert!(
            omin >= t * (1.0 - 1e-9),
            "{what}: missed, oracle min {omin} at u={ou} < {t}"
        ),
        Some(a) => {
            assert!(
                omin < t * (1.0 + 1e-9) + 1e-6,
                "{what}: false alarm, oracle min {omin} ≥ {t}"
            );
            assert!(
                a.min_distance_m <= omin + 1e-6,
                "{what}: min {} > oracle {omin}",
                a.min_distance_m
            );
            assert!(
                a.min_distance_m >= omin - 1e-4 - 1e-9 * omin,
                "{what}: min {} < oracle {omin}",
                a.min_distance_m
            );
            assert!(a.min_distance_m < t);
            // Every sampled sub-threshold instant is covered.
            for i in 0..=cover {
                let u = i as f64 / cover as f64;
                let ms = (u * dt as f64).round() as i64;
                if d(u) < t * (1.0 - 1e-6) {
                    assert!(
                        ms >= a.start_ms - 1 && ms <= a.end_ms + 1,
                        "{what}: {ms} not in [{}, {}]",
                        a.start_ms,
                        a.end_ms
                    );
                }
            }
            // The ends are tight: just outside them the distance is ≥ threshold (or at the ends).
            for (edge, step) in [(a.start_ms, -2), (a.end_ms, 2)] {
                let ms = edge + step;
                if ms > 0 && ms < dt {
                    let dv = d(ms as f64 / dt as f64);
                    assert!(
                        dv >= t * (1.0 - 1e-7),
                        "{what}: at {ms} distance {dv} < {t} outside [{}, {}]",
                        a.start_ms,
                        a.end_ms
                    );
                }
            }
        }
    }
}

#[test]
fn moving_point_vs_point_oracle_and_planted_near_misses() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for i in 0..n(160) {
        let r = REGIMES[i % REGIMES.len()];
        let q = base(&mut rng, r);
        let p0 = near!(rng, q, rng.gen_range(1e3..40e3));
        let p1 = near!(rng, p0, rng.gen_range(1.0..60e3));
        let dt = 60_000;
        let mut d = |u: f64| dist(lin_at(p0, p1, u), q);
        let (omin, _) = oracle_min(&mut d, 2000);
        for t in [
            omin * 0.998,
            omin * 1.002,
            omin * (1.0 - 1e-6),
            omin * (1.0 + 1e-6),
            20_000.0,
            9_260.0,
        ] {
            let got = moving_point_vs_point(p0, p1, 0, dt, q, t);
            check_approach(
                &format!("{r:?} {p0:?}->{p1:?} vs {q:?} t={t}"),
                got,
                &mut d,
                dt,
                t,
                omin,
                COVER,
            );
        }
    }
}

#[test]
fn moving_points_cpa_oracle_and_planted_near_misses() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for i in 0..n(160) {
        let r = REGIMES[i % REGIMES.len()];
        let c = base(&mut rng, r);
        let (p0, q0) = (near!(rng, c, 30e3), near!(rng, c, 30e3));
        let (p1, q1) = (near!(rng, p0, 20e3), near!(rng, q0, 20e3));
        let dt = 60_000;
        let mut d = |u: f64| dist(lin_at(p0, p1, u), lin_at(q0, q1, u));
        let (omin, _) = oracle_min(&mut d, 2000);
        for t in [
            omin * 0.998,
            omin * 1.002,
            omin * (1.0 - 1e-6),
            omin * (1.0 + 1e-6),
            9_260.0,
        ] {
            let got = moving_points_cpa(p0, p1, q0, q1, 0, dt, t);
            check_approach(
                &format!("{r:?} {p0:?}->{p1:?} vs {q0:?}->{q1:?} t={t}"),
                got,
                &mut d,
                dt,
                t,
                omin,
                COVER,
            );
        }
    }
}

#[test]
fn moving_point_vs_geodesic_segment_oracle_and_planted_near_misses() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for i in 0..n(20) {
        let r = REGIMES[i % REGIMES.len()];
        let a = base(&mut rng, r);
        let b = near!(
            rng,
            a,
            if i % 3 == 0 {
                rng.gen_range(500e3..2_000e3)
            } else {
                rng.gen_range(1e3..100e3)
            }
        );
        let p0 = near!(rng, geo_at(a, b, rng.gen_range(-0.1..1.1)), 30e3);
        let p1 = near!(rng, p0, 20e3);
        let dt = 60_000;
        let mut d = |u: f64| oracle_point_geo(lin_at(p0, p1, u), a, b, 40);
        let (omin, _) = oracle_min(&mut d, 60);
        for t in [
            omin * 0.998,
            omin * 1.002,
            omin * (1.0 - 1e-6),
            omin * (1.0 + 1e-6),
            15_000.0,
        ] {
            let got = moving_point_vs_geodesic_segment(p0, p1, 0, dt, a, b, t);
            check_approach(
                &format!("{r:?} {p0:?}->{p1:?} vs {a:?}->{b:?} t={t}"),
                got,
                &mut d,
                dt,
                t,
                omin,
                COVER,
            );
        }
    }
}

#[test]
fn geodesic_segments_distance_oracle() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for i in 0..n(24) {
        let r = REGIMES[i % REGIMES.len()];
        let a0 = base(&mut rng, r);
        let a1 = near!(rng, a0, scale(&mut rng).max(1e3));
        let b0 = near!(rng, geo_at(a0, a1, rng.gen_range(0.0..1.0)), 50e3);
        let b1 = near!(rng, b0, scale(&mut rng).clamp(1e3, 300e3));
        let got = geodesic_segments_distance(a0, a1, b0, b1);
        let (sb, azb, _, _): (f64, f64, f64, f64) = wgs84().inverse(b0.1, b0.0, b1.1, b1.0);
        let o = oracle_min(
            &mut |u| oracle_point_geo(direct(b0, azb, u * sb), a0, a1, 60),
            80,
        )
        .0;
        let o = if o < TOUCH_M { 0.0 } else { o };
        assert!(
            (got.distance_m - o).abs() <= 1e-3 + 1e-8 * o,
            "{r:?} {a0:?}->{a1:?} {b0:?}->{b1:?}: {} vs {o}",
            got.distance_m
        );
        assert!((dist(got.on_first, got.on_second) - got.distance_m).abs() < 2e-3);
    }
}

/// A geodesic through the point at `off` metres from `v` in direction `az_out`, perpendicular to
/// that direction, ±`half` metres long.
fn perpendicular_leg(v: (f64, f64), az_out: f64, off: f64, half: f64) -> ((f64, f64), (f64, f64)) {
    let (lat, lon, az): (f64, f64, f64) = wgs84().direct(v.1, v.0, az_out, off);
    let x = (lon, lat);
    (direct(x, az + 90.0, half), direct(x, az - 90.0, half))
}

#[test]
fn one_centimetre_segments() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for i in 0..40 {
        let r = REGIMES[i % REGIMES.len()];
        let a0 = base(&mut rng, r);
        let a1 = near!(rng, a0, rng.gen_range(10e3..1_500e3));
        let (_, _, az_end, _): (f64, f64, f64, f64) = wgs84().inverse(a0.1, a0.0, a1.1, a1.0);
        for (off, touch) in [(0.01, false), (-0.01, true)] {
            // b crosses the extension of a just beyond a1 (off > 0) or just before it.
            let (b0, b1) = perpendicular_leg(a1, az_end, off, 20e3);
            let d = geodesic_segments_distance(a0, a1, b0, b1).distance_m;
            assert_eq!(d == 0.0, touch, "{r:?} off={off}: {d}");
            if !touch {
                assert!((d - 0.01).abs() < 1e-4, "{d}");
            }
        }
    }
}

fn square(c: (f64, f64), half_m: f64) -> Polygon {
    // A lon/lat rectangle about 2·half_m wide.
    let dlat = (half_m / meridional_radius(c.1)).to_degrees();
    let dlon = (half_m / parallel_radius(c.1)).to_degrees();
    let v = vec![
        (c.0 - dlon, c.1 - dlat),
        (c.0 + dlon, c.1 - dlat),
        (c.0 + dlon, c.1 + dlat),
        (c.0 - dlon, c.1 + dlat),
        (c.0 - dlon, c.1 - dlat),
    ];
    Polygon::new(
        v.into_iter().map(|(x, y)| (wrap_lon(x), y)).collect(),
        vec![],
    )
    .unwrap()
}

fn oracle_poly_point(poly: &Polygon, p: (f64, f64), n: usize) -> f64 {
    if poly.contains(p) {
        return 0.0;
    }
    let r = &poly.rings()[0];
    r.windows(2)
        .map(|w| oracle_point_lin(p, w[0], w[1], n))
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn polygon_contains_antimeridian_holes_and_boundary() {
    let p = Polygon::new(
        vec![
            (178.0, -2.0),
            (-178.0, -2.0),
            (-178.0, 2.0),
            (178.0, 2.0),
            (178.0, -2.0),
        ],
        vec![vec![
            (179.0, -1.0),
            (179.0, 1.0),
            (-179.0, 1.0),
            (-179.0, -1.0),
            (179.0, -1.0),
        ]],
    )
    .unwrap();
    assert!(p.contains((178.5, 0.0)) && p.contains((-178.5, 0.0)));
    assert!(!p.contains((180.0, 0.0)) && !p.contains((-180.0, 0.5)));
    assert!(
        p.contains((179.0, 0.0)) && p.contains((-179.0, 0.5)),
        "hole boundary belongs to the polygon"
    );
    assert!(p.contains((178.0, 2.0)) && p.contains((-178.0, -2.0)));
    assert!(!p.contains((177.999_999, 0.0)) && !p.contains((0.0, 0.0)));
    let bb = p.bbox();
    assert!(bb.crosses_antimeridian() && bb.west == 178.0 && bb.east == -178.0);
    // Unwrapped input means the same.
    let q = Polygon::new(
        vec![
            (178.0, -2.0),
            (182.0, -2.0),
            (182.0, 2.0),
            (178.0, 2.0),
            (178.0, -2.0),
        ],
        vec![],
    )
    .unwrap();
    assert!(q.contains((-179.0, 0.0)) && q.contains((180.0, 0.0)) && !q.contains((-177.9, 0.0)));
    assert!(Polygon::new(vec![(0.0, 0.0), (1.0, 0.0), (0.0, 0.0), (0.0, 0.0)], vec![]).is_err());
    assert!(Polygon::new(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)], vec![]).is_err());
}

#[test]
fn polygon_distance_to_point_oracle() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    for i in 0..60 {
        let r = REGIMES[i % REGIMES.len()];
        let c = base(&mut rng, r);
        let poly = square(c, rng.gen_range(100.0..50e3));
        let p = near!(rng, c, 80e3);
        let got = poly.distance_to_point(p).distance_m;
        let o = oracle_poly_point(&poly, p, 2000);
        assert!(
            (got - o).abs() <= 1e-4 + 1e-9 * o,
            "{r:?} {p:?}: {got} vs {o}"
        );
    }
}

#[test]
fn moving_point_vs_polygon_one_centimetre_and_oracle() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for i in 0..n(40) {
        let r = REGIMES[i % REGIMES.len()];
        let c = base(&mut rng, r);
        let half = rng.gen_range(1e3..30e3);
        let poly = square(c, half);
        let ring = poly.rings()[0].clone();
        // A track parallel to the southern edge, 1 cm outside / inside.
        let dlat_cm = (0.01 / meridional_radius(ring[0].1)).to_degrees();
        for (sign, hit) in [(-1.0, false), (1.0, true), (0.0, true)] {
            let y = ring[0].1 + sign * dlat_cm;
            let (p0, p1) = (
                (wrap_lon(ring[0].0 - 0.5), y),
                (wrap_lon(ring[1].0 + 0.5), y),
            );
            let got = moving_point_vs_polygon(p0, p1, 0, 60_000, &poly, 0.0);
            assert_eq!(got.is_some(), hit, "{r:?} sign {sign}");
        }
        // Random tracks with thresholds around the oracle minimum.
        let p0 = near!(rng, c, half + 30e3);
        let p1 = near!(rng, p0, 30e3);
        let dt = 60_000;
        let mut d = |u: f64| oracle_poly_point(&poly, lin_at(p0, p1, u), 40);
        let (omin, _) = oracle_min(&mut d, 60);
        if omin > 1.0 {
            for t in [omin * 0.998, omin * 1.002] {
                let got = moving_point_vs_polygon(p0, p1, 0, dt, &poly, t);
                check_approach(
                    &format!("{r:?} {p0:?}->{p1:?} t={t}"),
                    got,
                    &mut d,
                    dt,
                    t,
                    omin,
                    COVER,
                );
            }
        }
    }
}

#[test]
fn geodesic_vs_polygon_one_centimetre_and_oracle() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    for i in 0..n(24) {
        let r = REGIMES[i % REGIMES.len()];
        let c = base(&mut rng, r);
        let half = rng.gen_range(1e3..30e3);
        // A diamond: tip vertices, so that a leg can pass 1 cm off a vertex.
        let dlat = (half / meridional_radius(c.1)).to_degrees();
        let dlon = (half / parallel_radius(c.1)).to_degrees();
        let v = [
            (c.0, c.1 - dlat),
            (c.0 + dlon, c.1),
            (c.0, c.1 + dlat),
            (c.0 - dlon, c.1),
            (c.0, c.1 - dlat),
        ];
        let poly = Polygon::new(v.iter().map(|p| (wrap_lon(p.0), p.1)).collect(), vec![]).unwrap();
        let tip = (wrap_lon(c.0 + dlon), c.1);
        for (off, touch) in [(0.01, false), (-0.01, true)] {
            let (a, b) = perpendicular_leg(tip, 90.0, off, rng.gen_range(1e3..500e3));
            let d = geodesic_segment_vs_polygon_distance(a, b, &poly);
            assert_eq!(d.distance_m == 0.0, touch, "{r:?} off {off}: {:?}", d);
            if !touch {
                assert!((d.distance_m - 0.01).abs() < 2e-4, "{:?}", d);
            }
        }
        let a = near!(rng, c, half + 100e3);
        let b = near!(rng, a, rng.gen_range(10e3..400e3));
        let got = geodesic_segment_vs_polygon_distance(a, b, &poly).distance_m;
        let (s, az, _, _): (f64, f64, f64, f64) = wgs84().inverse(a.1, a.0, b.1, b.0);
        let o = oracle_min(
            &mut |u| oracle_poly_point(&poly, direct(a, az, u * s), 40),
            80,
        )
        .0;
        let o = if o < TOUCH_M { 0.0 } else { o };
        assert!(
            (got - o).abs() <= 1e-3 + 1e-8 * o,
            "{r:?} {a:?}->{b:?}: {got} vs {o}"
        );
    }
}

#[test]
fn local_frame_bounds_are_conservative() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for i in 0..20_000 {
        let r = REGIMES[i % REGIMES.len()];
        let p = base(&mut rng, r);
        let q = near!(rng, p, scale(&mut rng).min(300e3));
        let f = LocalFrame::new(
            p.0 + rng.gen_range(-0.5..0.5),
            p.1 + rng.gen_range(-0.5..0.5),
        );
        let d = dist(p, q);
        let t = d * rng.gen_range(0.9..1.1);
        if f.certainly_at_least(p, q, t) {
            assert!(d >= t, "{p:?} {q:?} {d} {t}");
        }
        let (lo, hi) = (p.1.min(q.1), p.1.max(q.1));
        if hi < 89.0 && lo > -89.0 {
            assert!(d <= f.scale_bounds(lo, hi).1 * f.distance_m(p, q) * (1.0 + 1e-12) + 1e-9);
        }
    }
}

#[test]
fn geodesic_bbox_contains_the_geodesic() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for i in 0..2_000 {
        let r = REGIMES[i % REGIMES.len()];
        let a = base(&mut rng, r);
        let b = near!(rng, a, rng.gen_range(1e3..3_000e3));
        let bb = GeodesicSegment::new(a, b).bbox();
        for k in 0..=20 {
            let p = geo_at(a, b, k as f64 / 20.0);
            assert!(
                bb.contains(wrap_lon(p.0), p.1),
                "{a:?}->{b:?} {p:?} not in {bb:?}"
            );
        }
    }
}

/// Larger randomized run (cargo test --release -- --ignored).
#[test]
#[ignore]
fn large_random_runs() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for i in 0..2_000 {
        let r = REGIMES[i % REGIMES.len()];
        let q = base(&mut rng, r);
        let p0 = near!(rng, q, rng.gen_range(1e3..40e3));
        let p1 = near!(rng, p0, rng.gen_range(1.0..60e3));
        let mut d = |u: f64| dist(lin_at(p0, p1, u), q);
        let (omin, _) = oracle_min(&mut d, 2000);
        for t in [omin * 0.998, omin * 1.002] {
            check_approach(
                "pt",
                moving_point_vs_point(p0, p1, 0, 60_000, q, t),
                &mut d,
                60_000,
                t,
                omin,
                COVER,
            );
        }
        let a = base(&mut rng, r);
        let b = near!(rng, a, rng.gen_range(1e3..2_000e3));
        let p = near!(rng, geo_at(a, b, rng.gen_range(-0.2..1.2)), 100e3);
        let c = point_to_geodesic_segment(p, a, b);
        let o = oracle_point_geo(p, a, b, 5000);
        assert!(c.distance_m <= o + 1e-6 && c.distance_m >= o - 1e-4);
    }
}

/// Timings of the common cases (cargo test --release -- --ignored bench_kernel --nocapture).
#[test]
#[ignore]
fn bench_kernel() {
    use std::hint::black_box;
    use std::time::Instant;
    fn time(name: &str, n: usize, mut f: impl FnMut(usize) -> bool) {
        let t = Instant::now();
        let mut hits = 0;
        for i in 0..n {
            hits += black_box(f(i)) as usize;
        }
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        println!("{name:<60} {ns:>9.1} ns/call  hits {hits}/{n}");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let pieces: Vec<((f64, f64), (f64, f64))> = (0..4096)
        .map(|_| {
            let p = (rng.gen_range(30.0..40.0), rng.gen_range(30.0..40.0));
            (p, near!(rng, p, 1_000.0))
        })
        .collect();
    let q = (35.0, 35.0);
    let th = 15_000.0;
    time(
        "moving_point_vs_point, random in 10°x10° (mostly far)",
        1 << 20,
        |i| {
            let (a, b) = pieces[i & 4095];
            moving_point_vs_point(a, b, 0, 5_000, q, th).is_some()
        },
    );
    let close: Vec<_> = (0..4096)
        .map(|_| {
            let p = near!(rng, q, rng.gen_range(16e3..40e3));
            (p, near!(rng, p, 1_000.0))
        })
        .collect();
    time(
        "moving_point_vs_point, 16–40 km (frame prune / 1 eval)",
        1 << 18,
        |i| {
            let (a, b) = close[i & 4095];
            moving_point_vs_point(a, b, 0, 5_000, q, th).is_some()
        },
    );
    let hit: Vec<_> = (0..4096)
        .map(|_| {
            let p = near!(rng, q, rng.gen_range(0.0..15e3));
            (p, near!(rng, p, 1_000.0))
        })
        .collect();
    time("moving_point_vs_point, within 15 km (hits)", 1 << 14, |i| {
        let (a, b) = hit[i & 4095];
        moving_point_vs_point(a, b, 0, 5_000, q, th).is_some()
    });
    let leg = GeodesicSegment::new((34.0, 34.0), (36.5, 35.5));
    time(
        "GeodesicSegment::moving_point_approach, random (mostly far)",
        1 << 20,
        |i| {
            let (a, b) = pieces[i & 4095];
            leg.moving_point_approach(a, b, 0, 5_000, th).is_some()
        },
    );
    let along: Vec<_> = (0..4096)
        .map(|_| {
            let p = near!(rng, leg.point_at(rng.gen_range(0.0..1.0)), 60e3);
            (p, near!(rng, p, 1_000.0))
        })
        .collect();
    time(
        "GeodesicSegment::moving_point_approach, within 60 km of leg",
        1 << 14,
        |i| {
            let (a, b) = along[i & 4095];
            leg.moving_point_approach(a, b, 0, 5_000, th).is_some()
        },
    );
    time(
        "moving_points_cpa, random pairs (mostly far)",
        1 << 20,
        |i| {
            let ((a, b), (c, d)) = (pieces[i & 4095], pieces[(i * 7 + 1) & 4095]);
            moving_points_cpa(a, b, c, d, 0, 5_000, 9_260.0).is_some()
        },
    );
    time("moving_points_cpa, within 40 km", 1 << 16, |i| {
        let ((a, b), (c, d)) = (close[i & 4095], hit[(i * 7 + 1) & 4095]);
        moving_points_cpa(a, b, c, d, 0, 5_000, 9_260.0).is_some()
    });
    let poly = square(q, 20e3);
    time("moving_point_vs_polygon t=0, within 40 km", 1 << 16, |i| {
        let (a, b) = close[i & 4095];
        moving_point_vs_polygon(a, b, 0, 5_000, &poly, 0.0).is_some()
    });
    time(
        "moving_point_vs_polygon t=5 km, within 40 km",
        1 << 14,
        |i| {
            let (a, b) = close[i & 4095];
            moving_point_vs_polygon(a, b, 0, 5_000, &poly, 5_000.0).is_some()
        },
    );
    time("distance_m", 1 << 18, |i| {
        distance_m(pieces[i & 4095].0, q) > 0.0
    });
}

#[test]
fn single_instants_and_hulls() {
    // t1 <= t0: the point p0 at t0 only.
    let a =
        moving_point_vs_point((0.0, 0.0), (1.0, 0.0), 5_000, 5_000, (0.0, 0.05), 6_000.0).unwrap();
    assert_eq!((a.start_ms, a.end_ms, a.cpa_ms), (5_000, 5_000, 5_000));
    assert!((a.min_distance_m - distance_m((0.0, 0.0), (0.0, 0.05))).abs() < 1e-6);
    assert!(
        moving_point_vs_point((0.0, 0.0), (1.0, 0.0), 5_000, 5_000, (0.0, 0.05), 5_000.0).is_none()
    );
    // A U-shaped zone: the track enters the left arm, leaves, enters the right arm: the hull.
    let u = Polygon::new(
        vec![
            (0.0, 0.0),
            (3.0, 0.0),
            (3.0, 3.0),
            (2.0, 3.0),
            (2.0, 1.0),
            (1.0, 1.0),
            (1.0, 3.0),
            (0.0, 3.0),
            (0.0, 0.0),
        ],
        vec![],
    )
    .unwrap();
    let h = moving_point_vs_polygon((-1.0, 2.0), (4.0, 2.0), 0, 5_000, &u, 0.0).unwrap();
    assert_eq!(
        (h.start_ms, h.end_ms, h.cpa_ms, h.min_distance_m),
        (1_000, 4_000, 1_000, 0.0)
    );
    assert!(moving_point_vs_polygon((1.1, 2.0), (1.9, 2.0), 0, 5_000, &u, 0.0).is_none());
    let near = moving_point_vs_polygon((1.1, 2.0), (1.9, 2.0), 0, 8_000, &u, 12_000.0).unwrap();
    assert_eq!((near.start_ms, near.end_ms), (0, 8_000));
    assert!(
        (near.min_distance_m
            - point_to_lonlat_segment((1.9, 2.0), (2.0, 1.0), (2.0, 3.0)).distance_m)
            .abs()
            < 1e-6,
        "{near:?}"
    );
    // A hole: crossing it is still a hit (hull), entering only the hole is not.
    let z = Polygon::new(
        vec![(0.0, 0.0), (3.0, 0.0), (3.0, 3.0), (0.0, 3.0), (0.0, 0.0)],
        vec![vec![
            (1.0, 1.0),
            (2.0, 1.0),
            (2.0, 2.0),
            (1.0, 2.0),
            (1.0, 1.0),
        ]],
    )
    .unwrap();
    assert!(moving_point_vs_polygon((1.2, 1.5), (1.8, 1.5), 0, 1_000, &z, 0.0).is_none());
    assert!(!z.contains((1.5, 1.5)) && z.contains((1.0, 1.5)) && z.contains((0.5, 1.5)));
    let d = z.distance_to_point((1.5, 1.5));
    assert!(
        (d.distance_m - distance_m((1.5, 1.5), (1.5, 1.0))).abs() < 1.0,
        "{d:?}"
    );
    // Two dips of a track past two points: the hull spans both.
    let two = GeodesicSegment::new((0.0, 0.1), (0.2, 0.1));
    let dip = two
        .moving_point_approach((-0.5, 0.0), (0.7, 0.0), 0, 12_000, 11_200.0)
        .unwrap();
    assert!(dip.start_ms < 5_000 && dip.end_ms > 7_000, "{dip:?}");
}

#[test]
fn track_vs_leg_across_the_antimeridian_at_80_degrees() {
    // A 1 200 km leg along ~80°N across the antimeridian; a track crossing it near 180°.
    let leg = GeodesicSegment::new((170.0, 80.0), (-150.0, 80.0));
    let mid = leg.point_at(0.5);
    let p0 = direct(mid, 0.0, -20_000.0);
    let p1 = direct(mid, 0.0, 20_000.0);
    let a = leg
        .moving_point_approach(p0, p1, 0, 100_000, 5_000.0)
        .unwrap();
    assert!(a.min_distance_m < 1e-3, "{a:?}");
    assert!(
        (a.cpa_ms - 50_000).abs() <= 5
            && (a.start_ms - 37_500).abs() < 10
            && (a.end_ms - 62_500).abs() < 10,
        "{a:?}"
    );
    // The geodesic bulges poleward of the lon/lat line between the same points.
    let c = point_to_lonlat_segment(mid, (170.0, 80.0), (-150.0, 80.0));
    assert!(c.distance_m > 5_000.0, "{c:?}");
}

/// A leg's ends, the leg, and a point on it.
type LegCase = ((f64, f64), (f64, f64), GeodesicSegment, (f64, f64));

/// A leg of 5–300 km from a point of regime `r`, and the point at a fraction `along` of it.
fn leg_and_point_on_it(rng: &mut ChaCha8Rng, r: Regime, along: std::ops::Range<f64>) -> LegCase {
    let a = base(rng, r);
    let len = rng.gen_range(5e3..300e3);
    let b = near_(rng, a, len);
    let leg = GeodesicSegment::new(a, b);
    let x = leg.point_at(rng.gen_range(along));
    (a, b, leg, x)
}

/// Tracks that cross a leg (the distance has a kink, d' jumps from −c to +c, at 0): the
/// least distance is found at the crossing, exactly — 0 to a micrometre, at the crossing's
/// time to the millisecond, both closest points on the crossing — at every angle down to a
/// glancing 0.5°, at every latitude regime and across the antimeridian. (A regula falsi on d'
/// alone needs ≈ 40 evaluations here; on d·d' a handful — both must give this answer.)
#[test]
fn tracks_crossing_a_leg_meet_it_at_the_crossing() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    for i in 0..n(400) {
        let r = REGIMES[i % 4]; // Mid, High, Anti, South
        let (a, b, leg, x) = leg_and_point_on_it(&mut rng, r, 0.02..0.98);
        // The leg's azimuth at x, and a crossing direction from a glancing to a square angle.
        let (_, az_leg, _, _): (f64, f64, f64, f64) = wgs84().inverse(x.1, x.0, b.1, b.0);
        let angle = [0.5, 3.0, 20.0, 90.0][i % 4] * if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
        let p0 = direct(x, az_leg + angle + 180.0, rng.gen_range(50.0..5_000.0));
        let p0 = (wrap_lon(p0.0), p0.1);
        // Straight in lon/lat through x: p1 beyond x by k times p0's offset.
        let k = rng.gen_range(0.2..5.0);
        let p1 = (
            wrap_lon(x.0 + k * lon_delta(p0.0, x.0)),
            x.1 + k * (x.1 - p0.1),
        );
        let dt = 10_000;
        let what = format!("{r:?} leg {a:?}->{b:?} track {p0:?}->{p1:?} through {x:?}");
        let got = leg
            .moving_point_approach(p0, p1, 0, dt, 1_000.0)
            .unwrap_or_else(|| panic!("{what}: no approach"));
        // x is on the track up to rounding of the lon/lat line (≈ 1e-9 m).
        assert!(got.min_distance_m < 1e-6, "{what}: {got:?}");
        let u_x = 1.0 / (1.0 + k);
        assert!(
            (got.cpa_ms as f64 - u_x * dt as f64).abs() <= 1.0,
            "{what}: cpa {} ms, crossing at {} ms: {got:?}",
            got.cpa_ms,
            u_x * dt as f64
        );
        // Distances are exact to ≈ 1 µm, so along a glancing track the point where it is least
        // is known to 1 µm / sin(angle).
        let along = 2e-6 / angle.to_radians().sin().abs();
        assert!(dist(got.point_on_track, x) < along, "{what}: {got:?}");
        assert!(dist(got.point_on_other, x) < along, "{what}: {got:?}");
    }
}

fn star(rng: &mut ChaCha8Rng, c: (f64, f64), r_m: f64) -> Polygon {
    let k = rng.gen_range(5..12);
    let mut v: Vec<(f64, f64)> = (0..k)
        .map(|i| {
            let az = 360.0 * (i as f64 + rng.gen_range(0.0..0.8)) / k as f64;
            let p = direct(c, az, r_m * rng.gen_range(0.3..1.0));
            (wrap_lon(p.0), p.1)
        })
        .collect();
    v.push(v[0]);
    Polygon::new(v, vec![]).unwrap()
}

#[test]
fn concave_polygons_vs_tracks_and_legs_oracle() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    for i in 0..n(20) {
        let r = REGIMES[i % REGIMES.len()];
        let c = base(&mut rng, r);
        let rad = rng.gen_range(2e3..40e3);
        let poly = star(&mut rng, c, rad);
        let p0 = near!(rng, c, rad + 20e3);
        let p1 = near!(rng, p0, 2.0 * rad + 20e3);
        let dt = 100_000;
        // Threshold 0: inside intervals against sampled containment.
        let got = moving_point_vs_polygon(p0, p1, 0, dt, &poly, 0.0);
        let inside: Vec<i64> = (0..=1000)
            .filter(|j| poly.contains(lin_at(p0, p1, *j as f64 / 1000.0)))
            .map(|j| j * dt / 1000)
            .collect();
        match (&got, inside.first(), inside.last()) {
            (None, None, _) => {}
            (Some(a), Some(&f), Some(&l)) => {
                assert!(
                    a.start_ms <= f && a.end_ms >= l && a.min_distance_m == 0.0,
                    "{r:?} {a:?} {f} {l}"
                );
                assert!(
                    poly.contains(lin_at(
                        p0,
                        p1,
                        (a.cpa_ms as f64 / dt as f64).clamp(0.0, 1.0)
                    )) || a.cpa_ms == a.start_ms
                );
            }
            (Some(a), None, _) => {
                // Entered between samples only: must be on/inside at cpa.
                let u = a.cpa_ms as f64 / dt as f64;
                assert!(
                    poly.distance_to_point(lin_at(p0, p1, u)).distance_m
                        < 0.05 * 100_000.0 / dt as f64 + 1.0,
                    "{r:?} {a:?}"
                );
            }
            (None, Some(&f), _) => panic!("{r:?}: missed entry at {f} ms"),
            _ => unreachable!(),
        }
        // Thresholds around the oracle minimum when outside throughout.
        if got.is_none() {
            let mut d = |u: f64| oracle_poly_point(&poly, lin_at(p0, p1, u), 30);
            let (omin, _) = oracle_min(&mut d, 60);
            for t in [omin * 0.998, omin * 1.002] {
                let a = moving_point_vs_polygon(p0, p1, 0, dt, &poly, t);
                check_approach(&format!("{r:?} star t={t}"), a, &mut d, dt, t, omin, 100);
            }
        }
        // A leg against the same polygon.
        let (a, b) = (near!(rng, c, rad + 50e3), near!(rng, c, rad + 50e3));
        let got = geodesic_segment_vs_polygon_distance(a, b, &poly).distance_m;
        let (s, az, _, _): (f64, f64, f64, f64) = wgs84().inverse(a.1, a.0, b.1, b.0);
        let o = oracle_min(
            &mut |u| oracle_poly_point(&poly, direct(a, az, u * s), 30),
            80,
        )
        .0;
        let o = if o < TOUCH_M { 0.0 } else { o };
        assert!(
            (got - o).abs() <= 1e-3 + 1e-8 * o || (got == 0.0 && o < 1.0),
            "{r:?} leg: {got} vs {o}"
        );
    }
}

/// Every chunk of a framed leg lies within its straightness bound `e` of its chord (dense
/// samples of the geodesic), on legs of every length, at high latitudes and across the
/// antimeridian.
#[test]
fn framed_leg_chunks_stay_within_their_straightness_bound() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let mut checked = 0;
    for i in 0..n(300) {
        let r = REGIMES[i % REGIMES.len()];
        let a = base(&mut rng, r);
        let b = near!(rng, a, scale(&mut rng));
        let seg = GeodesicSegment::new(a, b);
        let t = 10f64.powf(rng.gen_range(1.0..4.7));
        let Some(fc) = FramedCore::leg(&seg, t) else {
            continue;
        };
        let k = fc.chunks.len();
        for (j, c) in fc.chunks.iter().enumerate() {
            let mut worst: f64 = 0.0;
            for s in 0..=40 {
                let u = (j as f64 + s as f64 / 40.0) / k as f64;
                let q = c.frame.to_xy(seg.point_at(u));
                worst = worst.max(framed::point_seg_dist(q, c.a, c.b));
            }
            assert!(
                worst <= c.e,
                "{r:?} {a:?}->{b:?} chunk {j}/{k}: {worst} m from its chord > e = {}",
                c.e
            );
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} chunks checked");
}

/// The frames' verdicts on track pieces against legs and points agree with the exact kernel:
/// `Outside` only when the kernel finds no approach (and dense sampling stays ≥ T), `Inside`
/// only when the kernel's interval is the whole piece and its least distance lies within the
/// bounds, `Crossing` only when the ends are on the sides claimed, and then the crossing time
/// solved from the frames' guess is the kernel's to ±1 ms, rounded outward; `Unknown` only
/// claims ends that hold, with bounds that hold. Thresholds are planted just above the least
/// and just below the greatest distance over the piece, where a wrong bound shows.
#[test]
fn framed_pieces_agree_with_the_exact_kernel() {
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    let (mut outside, mut inside, mut crossing, mut unknown) = (0usize, 0usize, 0usize, 0usize);
    let mut unknown_ends = 0usize;
    for i in 0..n(400) {
        let r = REGIMES[i % REGIMES.len()];
        let a = base(&mut rng, r);
        let point_core = i % 4 == 3;
        let b = if point_core {
            a
        } else {
            near!(
                rng,
                a,
                if i % 5 == 0 {
                    rng.gen_range(300e3..2_000e3)
                } else {
                    rng.gen_range(1e3..150e3)
                }
            )
        };
        let seg = GeodesicSegment::new(a, b);
        let core_d = |p: (f64, f64)| {
            if point_core {
                dist(p, a)
            } else {
                seg.closest_to(p).distance_m
            }
        };
        let reach = 10f64.powf(rng.gen_range(2.0..4.5));
        let p0 = near!(rng, geo_at(a, b, rng.gen_range(-0.05..1.05)), 1.5 * reach);
        let p1 = near!(rng, p0, 10f64.powf(rng.gen_range(1.0..4.3)));
        let dt = 5_000;
        let mut d = |u: f64| core_d(lin_at(p0, p1, u));
        let (dmin, _) = oracle_min(&mut d, 200);
        let dmax = (0..=200)
            .map(|k| d(k as f64 / 200.0))
            .fold(0.0f64, f64::max);
        let eps = 10f64.powf(rng.gen_range(-7.0..-2.0));
        for t in [
            dmin * (1.0 + eps),
            dmax * (1.0 - eps),
            dmax * (1.0 + eps),
            dmin * 0.9,
            dmax * 1.1,
            reach,
        ] {
            if t <= 0.0 {
                continue;
            }
            let fc = if point_core {
                FramedCore::point(a, t)
            } else {
                FramedCore::leg(&seg, t)
            };
            let Some(fc) = fc else { continue };
            let exact = if point_core {
                moving_point_vs_point(p0, p1, 0, dt, a, t)
            } else {
                seg.moving_point_approach(p0, p1, 0, dt, t)
            };
            let what =
                format!("{r:?} core {a:?}->{b:?} piece {p0:?}->{p1:?} t={t} min {dmin} max {dmax}");
            match fc.piece(p0, p1) {
                PieceVsCore::Outside => {
                    outside += 1;
                    assert!(
                        dmin >= t * (1.0 - 1e-9),
                        "{what}: Outside but the piece comes within {dmin}"
                    );
                    assert!(
                        exact.is_none_or(|x| x.min_distance_m >= t),
                        "{what}: Outside but the kernel finds {exact:?}"
                    );
                }
                PieceVsCore::Inside { lo, hi } => {
                    inside += 1;
                    assert!(dmax < t, "{what}: Inside but the piece reaches {dmax}");
                    let x = exact
                        .unwrap_or_else(|| panic!("{what}: Inside but the kernel finds nothing"));
                    assert_eq!((x.start_ms, x.end_ms), (0, dt), "{what}: Inside but {x:?}");
                    assert!(
                        lo <= x.min_distance_m + 1e-6 && x.min_distance_m <= hi + 1e-6,
                        "{what}: least distance {} outside the bounds [{lo}, {hi}]",
                        x.min_distance_m
                    );
                    assert!(
                        lo <= dmin + 1e-6 && dmin <= hi + 1e-6,
                        "{what}: oracle min outside [{lo}, {hi}]"
                    );
                }
                PieceVsCore::Crossing { inside_end, lo, hi } => {
                    crossing += 1;
                    let (din, dout) = if inside_end {
                        (d(1.0), d(0.0))
                    } else {
                        (d(0.0), d(1.0))
                    };
                    assert!(
                        din < t && dout >= t,
                        "{what}: Crossing({inside_end}) but ends {din} / {dout}"
                    );
                    let x = exact
                        .unwrap_or_else(|| panic!("{what}: Crossing but the kernel finds nothing"));
                    assert!(
                        lo <= x.min_distance_m + 1e-6 && x.min_distance_m <= hi + 1e-6,
                        "{what}: least distance {} outside the bounds [{lo}, {hi}]",
                        x.min_distance_m
                    );
                    let guess = fc.crossing_guess(p0, p1, inside_end);
                    let got = if point_core {
                        point_crossing_ms((p0, p1), (0, dt), a, t, inside_end, guess)
                    } else {
                        seg.crossing_ms((p0, p1), (0, dt), t, inside_end, guess)
                    }
                    .unwrap_or_else(|| panic!("{what}: crossing not settled from {guess}"));
                    let kernel = if inside_end { x.start_ms } else { x.end_ms };
                    assert!(
                        (got - kernel).abs() <= 1,
                        "{what}: crossing at {got} ms, kernel {kernel}"
                    );
                    // Rounded outward and tight: 2 ms outside the distance is ≥ t, 2 ms inside < t.
                    let step = if inside_end { -2 } else { 2 };
                    for (ms, out) in [(got + step, true), (got - step, false)] {
                        if ms > 0 && ms < dt {
                            let dv = d(ms as f64 / dt as f64);
                            assert!(
                                if out {
                                    dv >= t * (1.0 - 1e-7)
                                } else {
                                    dv < t * (1.0 + 1e-7)
                                },
                                "{what}: at {ms} ms distance {dv}, crossing {got}"
                            );
                        }
                    }
                }
                PieceVsCore::Unknown { ends, lo, hi } => {
                    unknown += 1;
                    // What it proves at the ends holds, and the least distance is in [lo, hi].
                    for (k, e) in ends.into_iter().enumerate() {
                        let dk = d(k as f64);
                        assert!(
                            e.is_none_or(|inside| inside == (dk < t)),
                            "{what}: end {k} claimed {e:?} at distance {dk}"
                        );
                    }
                    assert!(
                        lo <= dmin + 1e-6 && dmin <= hi + 1e-6,
                        "{what}: Unknown, oracle min outside [{lo}, {hi}]"
                    );
                    unknown_ends += usize::from(ends.iter().any(Option::is_some));
                }
            }
        }
    }
    // The fast path must actually decide most cases, or this test proves nothing.
    assert!(
        outside > 100 && inside > 100 && crossing > 100 && unknown_ends > 20,
        "outside {outside}, inside {inside}, crossing {crossing}, unknown {unknown} \
         ({unknown_ends} with an end decided)"
    );
}

/// The chunk loop of [`FramedCore::piece`] (precomputed chord vectors and boxes, plain
/// comparisons, `far` skipped where the caller has run it, chunks skipped by their boxes in
/// degrees) gives the same verdicts and bounds, bit for bit, as the loop it replaced: pieces
/// on, near and across legs of every length and points, at every latitude regime and across
/// the antimeridian, at thresholds from 10 m to 50 km, many planted so that their ends sit
/// within metres of the threshold, others touching a chunk's widened box (`near`) within
/// 1 cm. The crossing guesses too.
#[test]
fn framed_piece_is_the_reference_loop_bit_for_bit() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let (mut kinds, mut edges, mut guesses) = ([0usize; 4], 0usize, 0usize);
    for i in 0..n(600) {
        let r = REGIMES[i % REGIMES.len()];
        let a = base(&mut rng, r);
        let point_core = i % 4 == 3;
        let b = if point_core {
            a
        } else {
            near!(rng, a, rng.gen_range(1e3..150e3))
        };
        let seg = GeodesicSegment::new(a, b);
        let t = 10f64.powf(rng.gen_range(1.0..4.7));
        let fc = if point_core {
            FramedCore::point(a, t)
        } else {
            FramedCore::leg(&seg, t)
        };
        let Some(fc) = fc else { continue };
        for _ in 0..40 {
            let on = geo_at(a, b, rng.gen_range(-0.1..1.1));
            // Ends at about the threshold from the core, or anywhere near it.
            let p0 = if rng.gen_bool(0.5) {
                let q = direct(on, rng.gen_range(0.0..360.0), t * rng.gen_range(0.98..1.02));
                (wrap_lon(q.0), q.1)
            } else {
                near!(rng, on, 3.0 * t)
            };
            let p1 = near!(rng, p0, 10f64.powf(rng.gen_range(0.0..4.5)));
            let got = fc.piece(p0, p1);
            assert_eq!(
                got,
                fc.piece_reference(p0, p1),
                "{r:?} {a:?}->{b:?} {p0:?}->{p1:?} t={t}"
            );
            if let PieceVsCore::Crossing { inside_end, .. } = got {
                let guess = fc.crossing_guess(p0, p1, inside_end);
                let reference = fc.crossing_guess_reference(p0, p1, inside_end);
                assert_eq!(
                    guess.to_bits(),
                    reference.to_bits(),
                    "guess {p0:?}->{p1:?} t={t}"
                );
                guesses += 1;
            }
            if !fc.far(p0, p1) {
                assert_eq!(fc.piece_near(p0, p1), got);
            }
            kinds[match got {
                PieceVsCore::Outside => 0,
                PieceVsCore::Inside { .. } => 1,
                PieceVsCore::Crossing { .. } => 2,
                PieceVsCore::Unknown { .. } => 3,
            }] += 1;
        }
        // Pieces touching a chunk's `near` box from outside or inside, by 0 to 1 cm, along
        // each side: where the degree boxes would show a missing slack (at −1e-9° this
        // fails).
        for _ in 0..10 {
            let c = &fc.chunks[rng.gen_range(0..fc.chunks.len())];
            let (x_lo, x_hi, y_lo, y_hi) = c.near;
            let (xm, ym) = (0.5 * (x_lo + x_hi), 0.5 * (y_lo + y_hi));
            let dd = [-1e-2, -1e-4, -1e-6, 0.0, 1e-6][rng.gen_range(0..5)];
            let run = 10f64.powf(rng.gen_range(0.0..3.0));
            let (q0, q1) = match rng.gen_range(0..4) {
                0 => ((x_hi + dd, ym), (x_hi + dd + run, ym + run)),
                1 => ((x_lo - dd, ym), (x_lo - dd - run, ym - run)),
                2 => ((xm, y_hi + dd), (xm - run, y_hi + dd + run)),
                _ => ((xm, y_lo - dd), (xm + run, y_lo - dd - run)),
            };
            let (p0, p1) = (c.frame.to_lonlat(q0), c.frame.to_lonlat(q1));
            let (p0, p1) = if rng.gen_bool(0.5) {
                (p0, p1)
            } else {
                (p1, p0)
            };
            let got = fc.piece(p0, p1);
            assert_eq!(
                got,
                fc.piece_reference(p0, p1),
                "{r:?} edge {p0:?}->{p1:?} t={t}"
            );
            edges += 1;
        }
    }
    assert!(kinds.iter().all(|&k| k > 200), "verdicts {kinds:?}");
    assert!(edges > 1000, "{edges} pieces at the edges");
    assert!(guesses > 200, "{guesses} crossing guesses compared");
}

/// The least-distance solves (no interval) give the approach's least distance, CPA time and
/// closest points bit for bit, and `None` exactly when it does: moving points against legs
/// and points in every latitude regime, short and long tracks (several unimodal pieces),
/// thresholds above, at and below the least distance.
#[test]
fn least_solves_are_the_approach_without_its_interval() {
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    let same = |full: Option<Approach>, least: Option<Approach>, what: &str| match (full, least) {
        (None, None) => false,
        (Some(f), Some(l)) => {
            assert_eq!(
                (
                    f.min_distance_m.to_bits(),
                    f.cpa_ms,
                    f.point_on_track,
                    f.point_on_other
                ),
                (
                    l.min_distance_m.to_bits(),
                    l.cpa_ms,
                    l.point_on_track,
                    l.point_on_other
                ),
                "{what}"
            );
            true
        }
        (f, l) => panic!("{what}: {f:?} vs {l:?}"),
    };
    let mut hits = 0;
    for i in 0..n(2000) {
        let r = REGIMES[i % REGIMES.len()];
        let a = base(&mut rng, r);
        let b = near!(rng, a, rng.gen_range(1e3..150e3));
        let p0 = near!(rng, geo_at(a, b, rng.gen_range(-0.1..1.1)), 20e3);
        let p1 = near!(rng, p0, if i % 4 == 0 { 80e3 } else { 2e3 });
        let dt = rng.gen_range(1..120_000);
        let leg = GeodesicSegment::new(a, b);
        let d = leg.closest_to(p0).distance_m.min(dist(a, p0));
        for t in [d * 0.5, d * 1.01, d * 2.0, 15_000.0] {
            let what = format!("{r:?} {p0:?}->{p1:?} over {dt} ms vs {a:?}->{b:?}, t = {t}");
            hits += usize::from(same(
                leg.moving_point_approach(p0, p1, 0, dt, t),
                leg.moving_point_least((p0, p1), (0, dt), t),
                &what,
            ));
            hits += usize::from(same(
                moving_point_vs_point(p0, p1, 0, dt, a, t),
                kernel::moving_point_least_vs_point((p0, p1), (0, dt), a, t),
                &what,
            ));
        }
    }
    assert!(hits > 5000, "only {hits} hits compared");
}

/// A foot's guess for a moved point (what the crossing search starts each evaluation from)
/// lands where the foot of the moved point is, up to second order in the move, and far closer
/// than the old foot. (A foot is only pinned to ≈ √(2d·ulp(d)) along its curve — 0.2 mm at
/// 10 km — as the distance is flat there; hence the absolute slack.) A guess moving the wrong
/// way, or by the wrong amount, misses by about the move itself.
#[test]
fn a_foot_guess_follows_a_moving_point() {
    use super::kernel::{Curve, foot};
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    let (mut checked, mut improved) = (0, 0);
    for i in 0..n(400) {
        let r = REGIMES[i % 4]; // Mid, High, Anti, South
        let (a, b, leg, x) = leg_and_point_on_it(&mut rng, r, 0.05..0.95);
        let p = near!(rng, x, rng.gen_range(10.0..10_000.0));
        let ft = foot(&leg, p, 0.5);
        if ft.v <= 0.0 || ft.v >= 1.0 {
            continue;
        }
        for moved_m in [1.0, 100.0, 1_000.0] {
            let q = direct(p, rng.gen_range(0.0..360.0), moved_m);
            let q = (wrap_lon(q.0), q.1);
            let truth = foot(&leg, q, 0.5);
            if truth.v <= 0.0 || truth.v >= 1.0 {
                continue;
            }
            let len = leg.lipschitz();
            let missed_m = (ft.guess_for(p, q) - truth.v).abs() * len;
            let stayed_m = (ft.v - truth.v).abs() * len;
            let what = format!(
                "{r:?} leg {a:?}->{b:?} p {p:?} moved {moved_m} m to {q:?}: \
                 guess {missed_m} m from the foot, the old foot {stayed_m} m"
            );
            // Second order in the move: the frame's and the curve's bending, ∝ move² / R.
            let bend = moved_m * moved_m * (1.0 + p.1.to_radians().tan().abs()) / 6.0e6;
            assert!(missed_m <= 1e-5 * moved_m + 2.0 * bend + 1e-3, "{what}");
            improved += usize::from(missed_m < 0.1 * stayed_m);
            checked += 1;
        }
    }
    assert!(
        checked > 900 && improved * 10 > checked * 9,
        "{improved} of {checked}"
    );
}
