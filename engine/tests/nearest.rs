//! `nearest` against brute force where its shortcuts come closest to being wrong: candidates
//! whose distances differ by less than the width of the chord bounds (near-ties, and exact ties
//! broken by id), long ranges where the chord is hundreds of metres shorter than the geodesic,
//! ranges beyond the chord limit of the upper bound, sparse worlds where the search grows, and
//! entities split across segments. Ids and distances must equal brute force exactly: positions
//! are taken at report times and between them, interpolated as the engine interpolates.

use deconflict_engine::geodesy::{distance_m, wgs84};
use deconflict_engine::model::Report;
use deconflict_engine::time::Timestamp;
use deconflict_engine::trajectory::{Fix, interpolate};
use geographiclib_rs::DirectGeodesic;
use proptest::prelude::*;

mod support;

const MAX_GAP: i64 = 60_000;
/// Every entity reports at `T0` and `T0 + STEP_MS`.
const T0: i64 = 1_000_000;
const STEP_MS: i64 = 10_000;

/// Distances from the query point that entities cluster around, metres: from metres to beyond
/// the 1 000 km chord limit of the upper bound.
const RINGS: [f64; 7] = [
    20.0,
    2_000.0,
    20_000.0,
    300_000.0,
    900_000.0,
    1_100_000.0,
    5_000_000.0,
];

/// One entity: which ring, how far off it (m), the azimuth from the query point, and the
/// direction and length (m) of its 10 s step.
type Placement = (usize, f64, f64, f64, f64);

fn placement() -> impl Strategy<Value = Placement> {
    let off = prop_oneof![
        Just(0.0),
        0.0..0.05f64, // below the bounds' width
        0.0..5.0f64,
        0.0..500.0f64, // the chord's shortfall at long range
    ];
    (
        0..RINGS.len(),
        off,
        -180.0..180.0f64,
        -180.0..180.0f64,
        0.0..2_000.0f64,
    )
}

/// The point `s` metres from `(lon, lat)` at azimuth `azi`.
fn direct((lon, lat): (f64, f64), azi: f64, s: f64) -> (f64, f64) {
    let (lat2, lon2, _): (f64, f64, f64) = wgs84().direct(lat, lon, azi, s);
    (lon2, lat2)
}

fn reports(p: (f64, f64), rings: &[usize], idx: usize, place: Placement) -> [Report; 2] {
    let (ring, off, azi, heading, step) = place;
    let a = direct(p, azi, RINGS[rings[ring % rings.len()]] + off);
    let b = direct(a, heading, step);
    let report = |t: i64, (lon, lat): (f64, f64)| Report {
        id: format!("N{idx:03}"),
        side: ["blue", "red", "neutral"][idx % 3].into(),
        time: Timestamp(t),
        lon,
        lat,
        alt: None,
    };
    [report(T0, a), report(T0 + STEP_MS, b)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn nearest_ranks_near_ties_like_brute_force(
        point in prop_oneof![
            (-180.0..180.0f64, -80.0..80.0f64),
            (179.9..180.0f64, -1.0..1.0f64),
            (-10.0..10.0f64, 75.0..85.0f64),
        ],
        rings in prop::collection::vec(0..RINGS.len(), 1..3),
        places in prop::collection::vec(placement(), 1..40),
        generations in 1..3usize,
        probes in prop::collection::vec((0..5usize, 1..14usize), 4),
    ) {
        // Reports dealt to generations by entity and report: with two, some entities have one
        // report in each segment (their position comes from the seam between them).
        let mut dealt = vec![vec![Vec::new()]; generations];
        for (i, &place) in places.iter().enumerate() {
            for (j, r) in reports(point, &rings, i, place).into_iter().enumerate() {
                dealt[(i / 2 + j * (i % 2)) % generations][0].push(r);
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let (engine, mut model) = support::build(dir.path(), &dealt);
        model.sort_by(|a, b| a.id.cmp(&b.id).then(a.time.cmp(&b.time)));
        let snap = engine.snapshot();
        for &(when, k) in &probes {
            let t = T0 + [0, 1, STEP_MS / 2, STEP_MS - 1, STEP_MS][when];
            let mut expected: Vec<(f64, String)> = model
                .chunks(2)
                .map(|pair| {
                    let fix = |r: &Report| Fix { time: r.time, lon: r.lon, lat: r.lat, alt: r.alt };
                    let at = interpolate(&fix(&pair[0]), &fix(&pair[1]), Timestamp(t));
                    (distance_m(point, (at.lon, at.lat)), pair[0].id.clone())
                })
                .collect();
            expected.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            expected.truncate(k);
            let got = snap.nearest_refs(point.0, point.1, Timestamp(t), k, MAX_GAP).unwrap();
            let got: Vec<(f64, String)> = got.iter().map(|n| (n.distance_m, n.id.to_owned())).collect();
            prop_assert_eq!(&got, &expected, "k = {} at {} near {:?}", k, t, point);
            let owned = snap.nearest(point.0, point.1, Timestamp(t), k, MAX_GAP).unwrap();
            prop_assert!(owned.iter().map(|n| (n.distance_m, n.id.clone())).eq(got));
        }
    }
}

/// Large K: more entities resolved than the linear set of resolved entities holds (64), so
/// the query's hash set takes over mid-query; the answers still equal brute force, with
/// entities in one segment, in the other, and split across both.
#[test]
fn nearest_with_hundreds_of_candidates_like_brute_force() {
    let point = (8.55, 47.37);
    let mut dealt = vec![vec![Vec::new()]; 2];
    for i in 0..300usize {
        let place = (
            i % 3,
            (i * 37 % 1000) as f64,
            (i * 61 % 360) as f64 - 180.0,
            (i * 17 % 360) as f64 - 180.0,
            (i * 13 % 2000) as f64,
        );
        for (j, r) in reports(point, &[1, 2, 3], i, place).into_iter().enumerate() {
            dealt[(i / 2 + j * (i % 2)) % 2][0].push(r);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut model) = support::build(dir.path(), &dealt);
    model.sort_by(|a, b| a.id.cmp(&b.id).then(a.time.cmp(&b.time)));
    let snap = engine.snapshot();
    for (t, k) in [
        (T0, 1),
        (T0 + 3_333, 10),
        (T0 + STEP_MS / 2, 63),
        (T0 + 1, 65),
        (T0 + 7_000, 200),
        (T0 + STEP_MS, 300),
    ] {
        let mut expected: Vec<(f64, String)> = model
            .chunks(2)
            .map(|pair| {
                let fix = |r: &Report| Fix {
                    time: r.time,
                    lon: r.lon,
                    lat: r.lat,
                    alt: r.alt,
                };
                let at = interpolate(&fix(&pair[0]), &fix(&pair[1]), Timestamp(t));
                (distance_m(point, (at.lon, at.lat)), pair[0].id.clone())
            })
            .collect();
        expected.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        expected.truncate(k);
        let got = snap
            .nearest_refs(point.0, point.1, Timestamp(t), k, MAX_GAP)
            .unwrap();
        let got: Vec<(f64, String)> = got
            .iter()
            .map(|n| (n.distance_m, n.id.to_owned()))
            .collect();
        assert_eq!(got, expected, "k = {k} at {t}");
    }
}
