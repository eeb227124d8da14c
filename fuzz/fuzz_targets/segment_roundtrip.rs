//! Build an index from arbitrary reports through the public API (several commits of several
//! batches), reopen it, and compare every stored report with a brute-force model: the first
//! report of each (id, time) wins, across batches and commits; nothing else is lost or added.
#![no_main]
use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use deconflict_engine::model::{Report, deg_from_e7};
use deconflict_engine::query::WindowQuery;
use deconflict_engine::time::{TimeRange, Timestamp};
use deconflict_engine::{Engine, QueryPlan, ReportBatch};
use libfuzzer_sys::fuzz_target;

const IDS: [&str; 8] = ["A", "B", "a", "Ä", "z9", "BLUE-101", "é", "AA"];
const SIDES: [&str; 3] = ["blue", "red", "unknown"];

#[derive(Arbitrary, Debug)]
struct R {
    id: u8,
    side: u8,
    time: i16,
    lon: i32,
    lat: i32,
    alt: Option<i32>,
}

/// (id, time) → (side, lon e7, lat e7, alt mm)
type Model = BTreeMap<(String, i64), (String, i32, i32, Option<i32>)>;

fuzz_target!(|commits: Vec<Vec<Vec<R>>>| {
    if commits.len() > 4 || commits.iter().flatten().flatten().count() > 4000 {
        return;
    }
    let dir = tempfile::Builder::new()
        .tempdir_in(if std::path::Path::new("/dev/shm").is_dir() {
            "/dev/shm"
        } else {
            "/tmp"
        })
        .expect("temp dir");
    let mut model = Model::new();
    {
        let engine = Engine::create(dir.path()).expect("create");
        for batches in &commits {
            let mut w = engine.writer().expect("writer");
            for batch in batches.iter().take(3) {
                let mut b = ReportBatch::new();
                for r in batch {
                    let id = IDS[usize::from(r.id) % IDS.len()];
                    let side = SIDES[usize::from(r.side) % SIDES.len()];
                    let time = 1_633_600_800_000 + i64::from(r.time) * 500;
                    let lon = (i64::from(r.lon).rem_euclid(3_600_000_001) - 1_800_000_000) as i32;
                    let lat = (i64::from(r.lat).rem_euclid(1_800_000_001) - 900_000_000) as i32;
                    let alt = r
                        .alt
                        .map(|a| (i64::from(a).rem_euclid(101_000_001) - 1_000_000) as i32);
                    let rep = Report::new(
                        id,
                        side,
                        Timestamp(time),
                        deg_from_e7(lon),
                        deg_from_e7(lat),
                        alt.map(|mm| f64::from(mm) / 1000.0),
                    )
                    .expect("generated reports are valid");
                    b.push(&rep).expect("push");
                    model
                        .entry((id.to_owned(), time))
                        .or_insert((side.to_owned(), lon, lat, alt));
                }
                let n = b.len() as u64;
                let o = w.add(b).expect("add");
                assert_eq!(o.accepted + o.duplicates, n);
            }
            w.commit().expect("commit");
        }
    }
    let engine = Engine::open(dir.path()).expect("reopen");
    let snap = engine.snapshot();
    assert_eq!(snap.generation(), commits.len() as u64);
    snap.verify().expect("verify");
    assert_eq!(snap.report_count(), model.len() as u64);
    let q = WindowQuery::all();
    let plan = QueryPlan::new(&q);
    let mut got = Model::new();
    for r in snap.reports_in(&q, &plan) {
        let r = r.expect("query");
        let alt = (r.alt_mm() != i32::MIN).then_some(r.alt_mm());
        let old = got.insert(
            (r.id().to_owned(), r.time().0),
            (r.side().to_owned(), r.lon_e7(), r.lat_e7(), alt),
        );
        assert!(
            old.is_none(),
            "report returned twice: {} {}",
            r.id(),
            r.time().0
        );
    }
    assert_eq!(got, model);
    for id in IDS {
        let track: Vec<i64> = snap
            .track(id, TimeRange::ALL)
            .expect("track")
            .map(|r| r.time().0)
            .collect();
        let want: Vec<i64> = model
            .range((id.to_owned(), i64::MIN)..=(id.to_owned(), i64::MAX))
            .map(|(k, _)| k.1)
            .collect();
        assert_eq!(track, want, "track {id}");
    }
});
