//! Snapshots, publishing and compaction: readers never see half a generation, compaction
//! changes no answer, old snapshots keep working.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use deconflict_engine::model::Report;
use deconflict_engine::query::WindowQuery;
use deconflict_engine::time::{TimeRange, Timestamp};
use deconflict_engine::{Engine, ReportBatch, Snapshot};
use proptest::prelude::*;

fn report(id: usize, t: i64, lon: f64) -> Report {
    Report::new(
        format!("E{id}"),
        "blue",
        Timestamp(t),
        lon,
        45.0,
        Some(1000.0),
    )
    .unwrap()
}

type Keys = BTreeSet<(String, i64)>;

fn all_keys(s: &Snapshot) -> Keys {
    let mut out = BTreeSet::new();
    s.for_each_report(&WindowQuery::all(), |r| {
        out.insert((r.id().to_owned(), r.time().0));
    })
    .unwrap();
    out
}

/// Readers run mixed queries while a writer publishes generations; every answer must be
/// exactly that of the generation the reader's snapshot names.
fn readers_see_whole_generations(generations: u64, per_generation: usize, readers: usize) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::create(dir.path()).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    // expected[g] = (reports, reports of E0) of generation g, written before g is published.
    let expected: Arc<Vec<(AtomicU64, AtomicU64)>> = Arc::new(
        (0..=generations * 2)
            .map(|_| (AtomicU64::new(0), AtomicU64::new(0)))
            .collect(),
    );
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let (engine, stop, expected) = (
                Arc::clone(&engine),
                Arc::clone(&stop),
                Arc::clone(&expected),
            );
            std::thread::spawn(move || {
                let mut last = 0u64;
                let mut checks = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let snap = engine.snapshot();
                    let g = snap.generation();
                    assert!(g >= last, "generation went backwards");
                    last = g;
                    let (want, want_e0) = &expected[g as usize];
                    let n = snap.for_each_report(&WindowQuery::all(), |_| {}).unwrap();
                    assert_eq!(
                        n,
                        want.load(Ordering::SeqCst),
                        "generation {g} answered {n}"
                    );
                    // Every ingest adds one report of entity E0: the track shows all of them.
                    let e0 = want_e0.load(Ordering::SeqCst);
                    assert_eq!(snap.track("E0", TimeRange::ALL).unwrap().count() as u64, e0);
                    if e0 > 0 {
                        let p = snap
                            .position_at("E0", Timestamp(e0 as i64 * 1000), 60_000)
                            .unwrap();
                        assert!(p.is_some());
                    }
                    checks += 1;
                }
                checks
            })
        })
        .collect();
    let set = |g: u64, n: u64, e0: u64| {
        expected[g as usize].0.store(n, Ordering::SeqCst);
        expected[g as usize].1.store(e0, Ordering::SeqCst);
    };
    for g in 1..=generations {
        let mut w = engine.writer().unwrap();
        let mut b = ReportBatch::new();
        for i in 0..per_generation {
            b.push(&report(i, g as i64 * 1000, (i % 90) as f64))
                .unwrap();
        }
        w.add(b).unwrap();
        set(w.generation(), g * per_generation as u64, g);
        w.commit().unwrap();
        if g % 10 == 0 {
            // compaction publishes too, and must change no answer
            let mut w = engine.writer().unwrap();
            w.compact(usize::MAX).unwrap();
            set(w.generation(), g * per_generation as u64, g);
            let snap = w.commit().unwrap();
            assert_eq!(snap.report_count(), g * per_generation as u64);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        assert!(h.join().unwrap() > 0);
    }
}

#[test]
fn readers_never_see_half_a_generation() {
    readers_see_whole_generations(50, 20, 3);
}

#[test]
#[ignore = "larger run: cargo test --release -- --ignored"]
fn readers_never_see_half_a_generation_large() {
    readers_see_whole_generations(300, 2000, 4);
}

#[test]
fn another_process_sees_new_generations_on_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Engine::create(dir.path()).unwrap();
    let reader = Engine::open(dir.path()).unwrap();
    assert!(!reader.refresh().unwrap());
    let mut w = writer.writer().unwrap();
    let mut b = ReportBatch::new();
    b.push(&report(1, 0, 0.0)).unwrap();
    w.add(b).unwrap();
    w.commit().unwrap();
    assert_eq!(reader.snapshot().report_count(), 0);
    assert!(reader.refresh().unwrap());
    assert_eq!(reader.snapshot().report_count(), 1);
    assert!(!reader.refresh().unwrap());
}

#[test]
fn an_uncommitted_writer_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::create(dir.path()).unwrap();
    {
        let mut w = engine.writer().unwrap();
        let mut b = ReportBatch::new();
        b.push(&report(1, 0, 0.0)).unwrap();
        w.add(b).unwrap();
    }
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".dcs"))
        .collect();
    assert!(files.is_empty(), "{files:?}");
    assert_eq!(Engine::open(dir.path()).unwrap().snapshot().generation(), 0);
}

#[derive(Debug, Clone)]
enum Op {
    Ingest(Vec<(usize, i64, f64)>),
    Compact(usize),
    Hold,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop::collection::vec((0..6usize, 0..50i64, -10.0..10.0f64), 1..60).prop_map(Op::Ingest),
        1 => (1..200usize).prop_map(Op::Compact),
        1 => Just(Op::Hold),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Random ingest/compact sequences against a model; snapshots held across compactions
    /// keep answering from the old files.
    #[test]
    fn compaction_changes_no_answer(ops in prop::collection::vec(op(), 1..12)) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::create(dir.path()).unwrap();
        let mut model: Vec<Report> = Vec::new();
        let mut seen = HashSet::new();
        let mut held: Vec<(Arc<Snapshot>, Keys)> = Vec::new();
        for op in ops {
            match op {
                Op::Ingest(rows) => {
                    let mut w = engine.writer().unwrap();
                    let mut b = ReportBatch::new();
                    for (id, t, lon) in rows {
                        let r = report(id, t * 1000, lon);
                        b.push(&r).unwrap();
                        if seen.insert((r.id.clone(), r.time)) {
                            model.push(r);
                        }
                    }
                    w.add(b).unwrap();
                    w.commit().unwrap();
                }
                Op::Compact(max) => {
                    let before = engine.snapshot();
                    let mut w = engine.writer().unwrap();
                    if max.is_multiple_of(2) {
                        w.compact(max).unwrap();
                    } else {
                        w.compact_tiered(2 + max % 3, max).unwrap();
                    }
                    let after = w.commit().unwrap();
                    prop_assert!(after.segment_infos().len() <= before.segment_infos().len());
                }
                Op::Hold => {
                    let s = engine.snapshot();
                    let k = all_keys(&s);
                    held.push((s, k));
                }
            }
            let snap = engine.snapshot();
            let want: BTreeSet<(String, i64)> = model.iter().map(|r| (r.id.clone(), r.time.0)).collect();
            prop_assert_eq!(all_keys(&snap), want);
            for id in 0..6 {
                let id = format!("E{id}");
                let mut mine: Vec<i64> = model.iter().filter(|r| r.id == id).map(|r| r.time.0).collect();
                mine.sort_unstable();
                let got: Vec<i64> = snap.track(&id, TimeRange::ALL).unwrap().map(|r| r.time().0).collect();
                prop_assert_eq!(got, mine);
            }
            snap.verify().unwrap();
            for (s, keys) in &held {
                prop_assert_eq!(&all_keys(s), keys);
            }
        }
        // A fresh open agrees.
        let reopened = Engine::open(dir.path()).unwrap();
        prop_assert_eq!(all_keys(&reopened.snapshot()), all_keys(&engine.snapshot()));
    }
}
