//! position_at, trajectory and nearest against brute force on multi-generation data with
//! out-of-order and repeated reports, gaps just below and above max_gap, and trajectories
//! crossing the antimeridian.

use deconflict_engine::geodesy::distance_m;
use deconflict_engine::model::Report;
use deconflict_engine::time::{TimeRange, Timestamp};
use proptest::prelude::*;

mod support;

const MAX_GAP: i64 = 60_000;

/// One entity's path: a start, steps of (gap ms, dlon, dlat, alt).
fn entity(idx: usize) -> impl Strategy<Value = Vec<Report>> {
    let start = prop_oneof![
        (170.0..180.0f64, -10.0..10.0f64),
        (-180.0..-170.0f64, 70.0..85.0f64),
        (-1.0..1.0f64, -1.0..1.0f64)
    ];
    let gap = prop_oneof![
        Just(59_999i64),
        Just(60_000),
        Just(60_001),
        1_000..30_000i64,
        61_000..200_000i64
    ];
    let step = (
        gap,
        -0.3..0.3f64,
        -0.2..0.2f64,
        prop::option::of(0.0..5000.0f64),
    );
    (start, 0..100_000i64, prop::collection::vec(step, 1..25)).prop_map(
        move |((lon, lat), t0, steps)| {
            let mut out = Vec::new();
            let (mut lon, mut lat, mut t) = (lon, lat, t0);
            for (gap, dlon, dlat, alt) in steps {
                out.push(Report {
                    id: format!("E{idx:02}"),
                    side: if idx.is_multiple_of(2) {
                        "blue".into()
                    } else {
                        "red".into()
                    },
                    time: Timestamp(t),
                    lon,
                    lat,
                    alt,
                });
                t += gap;
                lon += dlon;
                if lon > 180.0 {
                    lon -= 360.0;
                }
                if lon < -180.0 {
                    lon += 360.0;
                }
                lat = (lat + dlat).clamp(-89.0, 89.0);
            }
            out
        },
    )
}

fn world() -> impl Strategy<Value = Vec<Report>> {
    (1..10usize)
        .prop_flat_map(|n| (0..n).map(entity).collect::<Vec<_>>())
        .prop_map(|v| v.concat())
}

/// Brute-force position: reports sorted by time, the contract's interpolation.
fn oracle_position(reports: &[&Report], t: i64) -> Option<(f64, f64, Option<f64>)> {
    if let Some(r) = reports.iter().find(|r| r.time.0 == t) {
        return Some((r.lon, r.lat, r.alt));
    }
    let a = reports
        .iter()
        .filter(|r| r.time.0 < t)
        .max_by_key(|r| r.time)?;
    let b = reports
        .iter()
        .filter(|r| r.time.0 > t)
        .min_by_key(|r| r.time)?;
    if b.time.0 - a.time.0 > MAX_GAP {
        return None;
    }
    let f = (t - a.time.0) as f64 / (b.time.0 - a.time.0) as f64;
    let mut d = b.lon - a.lon;
    if d > 180.0 {
        d -= 360.0;
    } else if d < -180.0 {
        d += 360.0;
    }
    let mut lon = a.lon + f * d;
    if lon > 180.0 {
        lon -= 360.0;
    } else if lon < -180.0 {
        lon += 360.0;
    }
    let alt = match (a.alt, b.alt) {
        (Some(x), Some(y)) => Some(x + f * (y - x)),
        _ => None,
    };
    Some((lon, a.lat + f * (b.lat - a.lat), alt))
}

fn same_lon(a: f64, b: f64) -> bool {
    let d = (a - b).rem_euclid(360.0);
    !(1e-9..=360.0 - 1e-9).contains(&d)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn trajectories_match_brute_force(
        reports in world(),
        split in prop::collection::vec((0..4usize, 0..2usize), 1..400),
        probes in prop::collection::vec((0..400_000i64, -180.0..180.0f64, -89.0..89.0f64, 1..6usize), 12),
    ) {
        // Deal reports to generations and batches out of order; repeat some.
        let gens = 1 + split.iter().map(|s| s.0).max().unwrap_or(0);
        let mut dealt: Vec<Vec<Vec<Report>>> = vec![vec![Vec::new(), Vec::new()]; gens];
        for (i, r) in reports.iter().enumerate().rev() {
            let (g, b) = split[i % split.len()];
            dealt[g][b].push(r.clone());
            if i % 7 == 0 {
                dealt[(g + 1) % gens][b].push(Report { lon: 0.0, ..r.clone() }); // repeat: the first one wins
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let (engine, model) = support::build(dir.path(), &dealt);
        let snap = engine.snapshot();
        let ids: Vec<String> = { let mut v: Vec<String> = model.iter().map(|r| r.id.clone()).collect(); v.sort(); v.dedup(); v };
        for &(t, plon, plat, k) in &probes {
            // position_at for every entity
            let mut expected = Vec::new();
            for id in &ids {
                let mine: Vec<&Report> = model.iter().filter(|r| &r.id == id).collect();
                let want = oracle_position(&mine, t);
                let got = snap.position_at(id, Timestamp(t), MAX_GAP).unwrap();
                match (want, got) {
                    (None, None) => {}
                    (Some((lon, lat, alt)), Some(f)) => {
                        prop_assert!(same_lon(lon, f.lon) && (lat - f.lat).abs() < 1e-9, "{id} at {t}: want {lon},{lat} got {f:?}");
                        prop_assert_eq!(alt.is_some(), f.alt.is_some());
                        if let (Some(a), Some(b)) = (alt, f.alt) { prop_assert!((a - b).abs() < 1e-6); }
                        expected.push((distance_m((plon, plat), (lon, lat)), id.clone()));
                    }
                    (w, g) => prop_assert!(false, "{id} at {t}: want {w:?} got {g:?}"),
                }
            }
            // nearest vs brute force
            expected.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            expected.truncate(k);
            let got = snap.nearest(plon, plat, Timestamp(t), k, MAX_GAP).unwrap();
            prop_assert_eq!(got.len(), expected.len());
            for (g, (d, id)) in got.iter().zip(&expected) {
                prop_assert!((g.distance_m - d).abs() <= 1e-3 + d * 1e-9, "nearest {} {} vs {} {}", g.id, g.distance_m, id, d);
            }
        }
        // trajectory pieces: every piece joins consecutive reports at most MAX_GAP apart
        for id in &ids {
            let mut mine: Vec<&Report> = model.iter().filter(|r| &r.id == id).collect();
            mine.sort_by_key(|r| r.time);
            let range = TimeRange::new(Timestamp(50_000), Timestamp(1_000_000)).unwrap();
            let pieces = snap.trajectory(id, range, MAX_GAP).unwrap();
            let mut want = Vec::new();
            for (i, r) in mine.iter().enumerate() {
                let next = mine.get(i + 1).filter(|n| n.time.0 - r.time.0 <= MAX_GAP);
                let joined_before = i > 0 && r.time.0 - mine[i - 1].time.0 <= MAX_GAP;
                match next {
                    Some(n) if n.time >= range.start && r.time <= range.end => want.push((r.time.0, n.time.0)),
                    None if !joined_before && range.contains(r.time) => want.push((r.time.0, r.time.0)),
                    _ => {}
                }
            }
            let got: Vec<(i64, i64)> = pieces.iter().map(|p| (p.a.time.0, p.b.time.0)).collect();
            prop_assert_eq!(got, want);
        }
    }
}

/// Long tracks (several runs of up to 32 reports each, silences that split runs, gaps at the
/// max-gap edge), probed at report times, one millisecond either side and in between: nearest
/// decides most positions from the run the search returns and falls back to the entity's whole
/// rows (or its rows in every segment) between runs; both must equal brute force.
fn long_track(idx: usize) -> impl Strategy<Value = Vec<Report>> {
    let gap = prop_oneof![
        4 => 1_000..6_000i64,
        1 => Just(59_999i64),
        1 => Just(60_000),
        1 => Just(60_001),
        1 => 300_001..400_000i64
    ];
    let step = (gap, -0.01..0.01f64, -0.01..0.01f64);
    let start = prop_oneof![
        (-0.05..0.05f64, -0.05..0.05f64),
        (179.97..180.0f64, -0.05..0.05f64)
    ];
    (start, 0..10_000i64, prop::collection::vec(step, 33..110)).prop_map(
        move |((lon, lat), t0, steps)| {
            let mut out = Vec::new();
            let (mut lon, mut lat, mut t) = (lon, lat, t0);
            for (i, (gap, dlon, dlat)) in steps.into_iter().enumerate() {
                out.push(Report {
                    id: format!("L{idx:02}"),
                    side: ["blue", "red"][i % 2].into(),
                    time: Timestamp(t),
                    lon,
                    lat,
                    alt: (i % 5 != 0).then_some(1000.0 + i as f64),
                });
                t += gap;
                lon += dlon;
                if lon > 180.0 {
                    lon -= 360.0;
                } else if lon < -180.0 {
                    lon += 360.0;
                }
                lat += dlat;
            }
            out
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn nearest_across_runs_matches_brute_force(
        tracks in (2..24usize).prop_flat_map(|n| (0..n).map(long_track).collect::<Vec<_>>()),
        generations in 1..3usize,
        probes in prop::collection::vec((0..10_000usize, 0..5usize, -0.05..0.05f64, -0.05..0.05f64, 1..5usize, any::<bool>()), 24),
    ) {
        // One generation (every entity in one segment), or reports dealt alternately to two.
        let mut dealt = vec![vec![Vec::new()]; generations];
        for track in &tracks {
            for (i, r) in track.iter().enumerate() {
                dealt[i % generations][0].push(r.clone());
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let (engine, model) = support::build(dir.path(), &dealt);
        let snap = engine.snapshot();
        let all: Vec<&Report> = model.iter().collect();
        for &(pick, shift, dlon, dlat, k, antimeridian) in &probes {
            let r = all[pick % all.len()];
            let t = r.time.0 + [0, 1, -1, 2_500, -30_000][shift];
            let (plon, plat) = (if antimeridian { 179.99 } else { 0.0 } + dlon, dlat);
            let mut expected = Vec::new();
            for track in &tracks {
                let id = &track[0].id;
                let mine: Vec<&Report> = model.iter().filter(|r| &r.id == id).collect();
                if let Some((lon, lat, alt)) = oracle_position(&mine, t) {
                    expected.push((distance_m((plon, plat), (lon, lat)), id.clone(), lon, lat, alt));
                }
            }
            expected.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            expected.truncate(k);
            let got = snap.nearest(plon, plat, Timestamp(t), k, MAX_GAP).unwrap();
            prop_assert_eq!(got.len(), expected.len(), "at {} near {},{}", t, plon, plat);
            for (g, (d, id, lon, lat, alt)) in got.iter().zip(&expected) {
                prop_assert!((g.distance_m - d).abs() <= 1e-3 + d * 1e-9, "nearest {} {} vs {} {}", g.id, g.distance_m, id, d);
                if &g.id == id {
                    prop_assert!(same_lon(*lon, g.lon) && (lat - g.lat).abs() < 1e-9);
                    prop_assert_eq!(alt.is_some(), g.alt.is_some());
                    if let (Some(a), Some(b)) = (alt, g.alt) { prop_assert!((a - b).abs() < 1e-6); }
                }
            }
        }
    }
}
