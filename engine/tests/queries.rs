//! Every query kind against a brute-force scan of the same reports, over several generations
//! with duplicates inside and across them.

use std::collections::BTreeSet;

use deconflict_engine::Engine;
use deconflict_engine::geodesy::BBox;
use deconflict_engine::model::{Report, deg_to_e7};
use deconflict_engine::query::{Area, WindowQuery};
use deconflict_engine::time::{TimeRange, Timestamp};
use proptest::prelude::*;

mod support;

type Key = (String, i64, i64, i64, Option<i64>, String);
fn key(r: &Report) -> Key {
    (
        r.id.clone(),
        r.time.0,
        deg_to_e7(r.lon) as i64,
        deg_to_e7(r.lat) as i64,
        r.alt.map(|a| (a * 1000.0).round() as i64),
        r.side.clone(),
    )
}

/// The reports of `model` matching `q`, by a scan.
fn brute_force(model: &[Report], q: &WindowQuery) -> BTreeSet<Key> {
    model
        .iter()
        .filter(|r| q.matches(r.lon, r.lat, r.time, r.alt, &r.side))
        .map(key)
        .collect()
}

fn report() -> impl Strategy<Value = Report> {
    // A small id space and clustered places and times, so queries and duplicates hit.
    let lon = prop_oneof![
        -180.0..180.0f64,
        170.0..180.0f64,
        -180.0..-170.0f64,
        0.0..2.0f64,
        Just(180.0),
        Just(-180.0)
    ];
    let lat = prop_oneof![-90.0..90.0f64, 80.0..90.0f64, 0.0..2.0f64];
    (
        0..12u8,
        0..3u8,
        0..200i64,
        lon,
        lat,
        prop::option::of(-1000.0..12_000.0f64),
    )
        .prop_map(|(id, side, t, lon, lat, alt)| Report {
            id: format!("E{id}"),
            side: ["blue", "red", "green"][side as usize].into(),
            time: Timestamp(t * 1000),
            lon,
            lat,
            alt,
        })
}

fn area() -> impl Strategy<Value = Area> {
    prop_oneof![
        Just(Area::All),
        (
            -180.0..180.0f64,
            -90.0..90.0f64,
            -180.0..180.0f64,
            -90.0..90.0f64
        )
            .prop_map(|(w, s, e, n)| { Area::BBox(BBox::new(w, s.min(n), e, s.max(n)).unwrap()) }),
        (-180.0..180.0f64, -90.0..90.0f64, 1.0..3_000_000.0f64)
            .prop_map(|(lon, lat, radius_m)| Area::Circle { lon, lat, radius_m }),
        (-20.0..20.0f64, -20.0..20.0f64, 1.0..60.0f64).prop_map(|(x, y, r)| {
            Area::polygon_from_wkt(
                &format!(
                    "POLYGON(({} {}, {} {}, {} {}, {} {}))",
                    x - r,
                    y - r / 2.0,
                    x + r,
                    y,
                    x,
                    y + r / 2.0,
                    x - r,
                    y - r / 2.0
                )
                .replace("--", ""),
            )
            .unwrap_or(Area::All)
        }),
    ]
}

fn query() -> impl Strategy<Value = WindowQuery> {
    (
        area(),
        0..200i64,
        0..200i64,
        prop::option::of((-1000.0..12_000.0f64, 0.0..12_000.0f64)),
        prop::option::of(0..3u8),
    )
        .prop_map(|(area, a, b, alt, side)| WindowQuery {
            area,
            time: TimeRange::new(Timestamp(a.min(b) * 1000), Timestamp(a.max(b) * 1000)).unwrap(),
            alt: alt.map(|(lo, w)| (lo, lo + w)),
            side: side.map(|s| ["blue", "red", "green"][s as usize].to_owned()),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn window_and_track_queries_match_brute_force(
        generations in prop::collection::vec(prop::collection::vec(prop::collection::vec(report(), 0..120), 1..3), 1..4),
        queries in prop::collection::vec(query(), 8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (engine, model) = support::build(dir.path(), &generations);
        // A fresh engine (reading from disk) must agree with the one that wrote.
        let reopened = Engine::open(dir.path()).unwrap();
        for engine in [&engine, &reopened] {
            let snap = engine.snapshot();
            prop_assert_eq!(snap.report_count(), model.len() as u64);
            for q in &queries {
                let mut got = Vec::new();
                snap.for_each_report(q, |r| got.push(key(&r.to_report()))).unwrap();
                let n = got.len();
                let got: BTreeSet<Key> = got.into_iter().collect();
                prop_assert_eq!(n, got.len(), "a report returned twice");
                let want = brute_force(&model, q);
                prop_assert_eq!(got, want, "query {:?}", q);
            }
            for id in 0..12 {
                let id = format!("E{id}");
                let range = TimeRange::new(Timestamp(20_000), Timestamp(150_000)).unwrap();
                let got: Vec<Key> = snap.track(&id, range).unwrap().map(|r| key(&r.to_report())).collect();
                let mut want: Vec<&Report> = model.iter().filter(|r| r.id == id && range.contains(r.time)).collect();
                want.sort_by_key(|r| r.time);
                prop_assert_eq!(got, want.into_iter().map(key).collect::<Vec<_>>());
            }
            snap.verify().unwrap();
        }
    }
}

/// A segment deep enough for three tree levels with partial leaves and subtrees (≈ 6 000
/// runs: tracks with silences over five minutes end runs early), including tracks across the
/// antimeridian and over the pole cap; small, medium and whole-area windows with altitude
/// bands and sides against the brute-force scan.
#[test]
fn deep_trees_answer_windows_like_brute_force() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut batch = Vec::new();
    for e in 0..400 {
        let (mut lon, mut lat): (f64, f64) = match e % 4 {
            0 => (rng.gen_range(178.0..180.0), rng.gen_range(-10.0..10.0)),
            1 => (rng.gen_range(-20.0..20.0), rng.gen_range(84.0..89.0)),
            _ => (rng.gen_range(0.0..8.0), rng.gen_range(40.0..48.0)),
        };
        let (dlon, dlat) = (rng.gen_range(-0.01..0.01), rng.gen_range(-0.01..0.01));
        let mut t = rng.gen_range(0..600_000i64);
        for i in 0..220 {
            t += if i % 37 == 36 {
                400_000
            } else {
                rng.gen_range(1_000..20_000)
            };
            lon += dlon;
            if lon > 180.0 {
                lon -= 360.0;
            }
            lat = (lat + dlat).clamp(-89.9, 89.9);
            batch.push(Report {
                id: format!("E{e:03}"),
                side: ["blue", "red", "green"][e % 3].into(),
                time: Timestamp(t),
                lon,
                lat,
                alt: (i % 11 != 0).then(|| rng.gen_range(0.0..12_000.0)),
            });
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (engine, model) = support::build(dir.path(), &[vec![batch]]);
    let snap = engine.snapshot();
    snap.verify().unwrap();
    for k in 0..300 {
        let r = &model[rng.gen_range(0..model.len())];
        let half = [0.05, 0.5, 5.0][k % 3];
        let t = r.time.0;
        let span = [120_000, 1_200_000, 20_000_000][k % 3];
        let q = WindowQuery {
            area: Area::BBox(BBox {
                west: (r.lon - half).max(-180.0),
                south: (r.lat - half).max(-90.0),
                east: (r.lon + half).min(180.0),
                north: (r.lat + half).min(90.0),
            }),
            time: TimeRange::new(Timestamp(t - span), Timestamp(t + span)).unwrap(),
            alt: (k % 4 == 0).then_some((2_000.0, 9_000.0)),
            side: (k % 5 == 0).then(|| "red".to_owned()),
        };
        let mut got = Vec::new();
        snap.for_each_report(&q, |r| got.push(key(&r.to_report())))
            .unwrap();
        // The iterator and the callback walk the same runs in the same order.
        let plan = deconflict_engine::QueryPlan::new(&q);
        let streamed: Vec<Key> = snap
            .reports_in(&q, &plan)
            .map(|r| key(&r.unwrap().to_report()))
            .collect();
        assert_eq!(streamed, got, "reports_in and for_each_report differ");
        let n = got.len();
        let got: BTreeSet<Key> = got.into_iter().collect();
        assert_eq!(n, got.len(), "a report returned twice");
        let want = brute_force(&model, &q);
        assert_eq!(got, want, "query {q:?}");
    }
}
