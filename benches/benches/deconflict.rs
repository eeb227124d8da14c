//! Deconfliction: `check` of one operation, `check_batch` of 1 000 operations, and
//! `conflicts` (track vs track) over a generated scenario — each beside the brute-force oracle
//! (`deconflict_engine::oracle`) at equal size on a subset of the entities.
//!
//! ```sh
//! cargo bench -p deconflict-benches --bench deconflict                # 300 entities
//! DECONFLICT_BENCH_ENTITIES=10000 cargo bench -p deconflict-benches --bench deconflict
//! ```
//! Scenario: `GenConfig { entities: N, hours: 1.0, interval_s: 5.0 }` (goal N = 10 000). The
//! oracle comparison uses the first `DECONFLICT_BENCH_ORACLE_ENTITIES` (default 12) entities,
//! in their own index, and checks both sides agree on which conflicts exist before timing.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;
use deconflict_benches::{build_index, env_u64};
use deconflict_engine::Engine;
use deconflict_engine::model::{Minima, Operation, Zone};
use deconflict_engine::oracle::{self, OFix, World};
use deconflict_engine::time::TimeRange;
use deconflict_ingest::generate::{GenConfig, Scenario, generate, scenario};
use deconflict_ingest::parse_objects::{parse_operations, parse_zones};

fn objects(cfg: &GenConfig) -> (Scenario, Vec<Zone>, Vec<Operation>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let sum = generate(cfg, dir.path()).expect("generate");
    let zones = parse_zones(
        "zones",
        &std::fs::read_to_string(&sum.zones_geojson).unwrap(),
    )
    .unwrap();
    let ops = parse_operations(
        "ops",
        &std::fs::read_to_string(dir.path().join("operations.ndjson")).unwrap(),
    )
    .unwrap();
    assert!(zones.rejects.is_empty() && ops.rejects.is_empty());
    (
        scenario(cfg),
        zones.items.into_iter().map(|x| x.1).collect(),
        ops.items.into_iter().map(|x| x.1).collect(),
    )
}

fn index(
    dir: &std::path::Path,
    s: &Scenario,
    ids: Option<&BTreeSet<String>>,
    zones: &[Zone],
    ops: &[Operation],
) -> Engine {
    let engine = build_index(
        dir,
        s.reports()
            .filter(|r| ids.is_none_or(|ids| ids.contains(&r.id))),
    );
    let mut w = engine.writer().unwrap();
    w.upsert_zones(zones.to_vec()).unwrap();
    w.upsert_operations(ops.to_vec()).unwrap();
    w.commit().unwrap();
    engine
}

/// 1 000 operations: the scenario's, copied with new ids and shifted by up to ±0.5°.
fn plan(ops: &[Operation], n: usize) -> Vec<Operation> {
    (0..n)
        .map(|i| {
            let mut o = ops[i % ops.len()].clone();
            o.id = format!("plan-{i:04}");
            let (dx, dy) = (
                ((i * 37) % 101) as f64 / 100.0 - 0.5,
                ((i * 53) % 97) as f64 / 96.0 - 0.5,
            );
            for w in &mut o.route {
                w.lon += dx;
                w.lat += dy;
            }
            o.target.lon += dx;
            o.target.lat += dy;
            let wrap = |x: f64| {
                if x > 180.0 {
                    x - 360.0
                } else if x < -180.0 {
                    x + 360.0
                } else {
                    x
                }
            };
            o.route.iter_mut().for_each(|w| w.lon = wrap(w.lon));
            o.target.lon = wrap(o.target.lon);
            o.validate().expect("valid plan operation");
            o
        })
        .collect()
}

fn keys(r: &[deconflict_engine::deconflict::CheckReport]) -> BTreeSet<(String, String, String)> {
    r.iter()
        .flat_map(|r| {
            r.conflicts.iter().map(|c| {
                (
                    r.operation.clone(),
                    c.kind.as_str().to_owned(),
                    c.with.clone(),
                )
            })
        })
        .collect()
}

fn time<T>(f: impl FnMut() -> T, min_runs: u32) -> f64 {
    let mut f = f;
    let started = Instant::now();
    let mut runs = 0;
    while runs < min_runs || started.elapsed().as_secs_f64() < 0.5 {
        black_box(f());
        runs += 1;
    }
    started.elapsed().as_secs_f64() / f64::from(runs)
}

fn main() {
    let n = env_u64("DECONFLICT_BENCH_ENTITIES", 300) as usize;
    let sub = env_u64("DECONFLICT_BENCH_ORACLE_ENTITIES", 12) as usize;
    let cfg = GenConfig {
        entities: n,
        hours: 1.0,
        interval_s: 5.0,
        ..GenConfig::default()
    };
    let started = Instant::now();
    let (s, zones, ops) = objects(&cfg);
    let m = Minima::default();
    let dir = tempfile::tempdir().unwrap();
    let engine = index(dir.path(), &s, None, &zones, &ops);
    let snap = engine.snapshot();
    eprintln!(
        "scenario: {n} entities, {} reports, {} zones, {} operations; built in {:.1} s",
        s.report_count(),
        zones.len(),
        ops.len(),
        started.elapsed().as_secs_f64()
    );
    let batch = plan(&ops, 1000);

    // ---- oracle baseline at equal size, on a subset --------------------------------------
    let ids: BTreeSet<String> = s.entities.iter().take(sub).map(|e| e.id.clone()).collect();
    let sdir = tempfile::tempdir().unwrap();
    let small = index(sdir.path(), &s, Some(&ids), &zones, &ops);
    let ssnap = small.snapshot();
    let mut world = World {
        zones: zones.clone(),
        operations: ops.clone(),
        ..World::default()
    };
    for r in s.reports().filter(|r| ids.contains(&r.id)) {
        world
            .tracks
            .entry(r.id.clone())
            .or_default()
            .push(OFix::stored(&r));
    }
    let sub_reports: usize = world.tracks.values().map(Vec::len).sum();
    let plan_small = plan(&ops, 20);
    // agreement first
    let eng = keys(&ssnap.check_batch(&plan_small, &m).unwrap());
    let orc: BTreeSet<_> = oracle::check(&world, &plan_small, &m, 0.0)
        .iter()
        .zip(&plan_small)
        .flat_map(|(cs, o)| {
            cs.iter()
                .map(|c| (o.id.clone(), c.kind.to_owned(), c.with.clone()))
        })
        .collect();
    assert_eq!(eng, orc, "engine and oracle disagree on the subset");
    let one = &ops[0];
    let e1 = time(|| ssnap.check(one, &m).unwrap(), 5);
    let o1 = time(
        || oracle::check(&world, std::slice::from_ref(one), &m, 0.0),
        1,
    );
    let eb = time(|| ssnap.check_batch(&plan_small, &m).unwrap(), 3);
    let ob = time(|| oracle::check(&world, &plan_small, &m, 0.0), 1);
    let ec = time(|| ssnap.conflicts(TimeRange::ALL, &m).unwrap().count(), 3);
    let oc = time(
        || oracle::episodes(&world, (i64::MIN / 4, i64::MAX / 4), &m, 0.0).len(),
        1,
    );
    let neps = ssnap.conflicts(TimeRange::ALL, &m).unwrap().count();
    eprintln!(
        "oracle comparison on {sub} entities ({sub_reports} reports), {} conflicts, {neps} episodes:",
        eng.len()
    );
    eprintln!(
        "  check 1 op      engine {:>10.3} ms  oracle {:>10.1} ms  ratio {:>8.0}×",
        e1 * 1e3,
        o1 * 1e3,
        o1 / e1
    );
    eprintln!(
        "  check 20 ops    engine {:>10.3} ms  oracle {:>10.1} ms  ratio {:>8.0}×",
        eb * 1e3,
        ob * 1e3,
        ob / eb
    );
    eprintln!(
        "  conflicts       engine {:>10.3} ms  oracle {:>10.1} ms  ratio {:>8.0}×",
        ec * 1e3,
        oc * 1e3,
        oc / ec
    );

    // ---- full size -------------------------------------------------------------------------
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group(format!("deconflict_{n}"));
    g.bench_function("check_one_op", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(snap.check(&ops[i % ops.len()], &m).unwrap())
        });
    });
    g.bench_function("check_batch_1000", |b| {
        b.iter(|| black_box(snap.check_batch(&batch, &m).unwrap()))
    });
    g.bench_function("conflicts_all", |b| {
        b.iter(|| black_box(snap.conflicts(TimeRange::ALL, &m).unwrap().count()))
    });
    g.finish();
    let episodes = snap.conflicts(TimeRange::ALL, &m).unwrap().count();
    let with = snap
        .check_batch(&batch, &m)
        .unwrap()
        .iter()
        .filter(|r| !r.deconflicted)
        .count();
    eprintln!("full size: {episodes} episodes; {with} of 1000 batch operations not deconflicted");
    c.final_summary();
}
