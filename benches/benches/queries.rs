//! Window, radius, polygon, track, position and nearest queries: the engine against `rstar` 0.14
//! in memory and a brute-force scan, on the same reports, with the same queries, in one run.
//!
//! `DECONFLICT_BENCH_REPORTS=10000000 cargo bench -p deconflict-benches --bench queries`
//! (default 2 M reports). Before timing anything, every query is answered by all three and the
//! answers must agree. Besides criterion's estimates it prints a per-query latency table
//! (p50/p99 over every query of a set, several rounds).

use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;
use deconflict_benches::{
    Flat, Fleet, MAX_GAP_MS, PieceTree, PointTree, Queries, bench_reports, cached_index,
    check_agreement, engine_nearest, engine_window, percentile,
};
use deconflict_engine::Engine;
use deconflict_engine::query::WindowQuery;
use deconflict_engine::time::Timestamp;

const QUERIES: usize = 64;

struct Fixture {
    engine: Engine,
    flat: Flat,
    points: PointTree,
    pieces: PieceTree,
    q: Queries,
}

/// One implementation of one query kind: runs query `i` (mod the set) and returns a count.
type Run<'a> = Box<dyn Fn(usize) -> u64 + 'a>;

fn kinds(f: &Fixture) -> Vec<(&'static str, Vec<(&'static str, Run<'_>)>)> {
    let win = |set: &'static str, qs: &'static dyn Fn(&Queries) -> &Vec<WindowQuery>| {
        let engine: Run<'_> = Box::new(move |i| {
            let s = qs(&f.q);
            engine_window(&f.engine, &s[i % s.len()])
        });
        let tree: Run<'_> = Box::new(move |i| {
            let s = qs(&f.q);
            f.points.window(&s[i % s.len()])
        });
        let brute: Run<'_> = Box::new(move |i| {
            let s = qs(&f.q);
            f.flat.scan_window(&s[i % s.len()])
        });
        (
            set,
            vec![
                ("deconflict", engine),
                ("rstar", tree),
                ("brute_force", brute),
            ],
        )
    };
    let q = &f.q;
    let track = (
        "track",
        vec![
            (
                "deconflict",
                Box::new(move |i: usize| {
                    let (e, r) = q.track[i % q.track.len()];
                    f.engine
                        .snapshot()
                        .track(&Fleet::id(e), r)
                        .expect("track")
                        .count() as u64
                }) as Run<'_>,
            ),
            (
                "sorted_vec",
                Box::new(move |i: usize| {
                    let (e, r) = q.track[i % q.track.len()];
                    f.flat.track(e, r).len() as u64
                }),
            ),
            (
                "brute_force",
                Box::new(move |i: usize| {
                    let (e, r) = q.track[i % q.track.len()];
                    f.flat.scan_track(e, r)
                }),
            ),
        ],
    );
    let position = (
        "position_at",
        vec![
            (
                "deconflict",
                Box::new(move |i: usize| {
                    let (e, t) = q.position[i % q.position.len()];
                    let snap = f.engine.snapshot();
                    let p = snap.position_at(&Fleet::id(e), Timestamp(t), MAX_GAP_MS);
                    u64::from(p.expect("position").is_some())
                }) as Run<'_>,
            ),
            (
                "sorted_vec",
                Box::new(move |i: usize| {
                    let (e, t) = q.position[i % q.position.len()];
                    u64::from(f.flat.position_at(e, t).is_some())
                }),
            ),
            (
                "brute_force",
                Box::new(move |i: usize| {
                    let (e, t) = q.position[i % q.position.len()];
                    u64::from(f.flat.scan_position_at(e, t).is_some())
                }),
            ),
        ],
    );
    let nearest = (
        "nearest_k10",
        vec![
            (
                "deconflict",
                Box::new(move |i: usize| {
                    let (lon, lat, t) = q.nearest[i % q.nearest.len()];
                    engine_nearest(&f.engine, lon, lat, t, 10).len() as u64
                }) as Run<'_>,
            ),
            (
                "rstar",
                Box::new(move |i: usize| {
                    let (lon, lat, t) = q.nearest[i % q.nearest.len()];
                    f.pieces.nearest(&f.flat, lon, lat, t, 10).len() as u64
                }),
            ),
            (
                "brute_force",
                Box::new(move |i: usize| {
                    let (lon, lat, t) = q.nearest[i % q.nearest.len()];
                    f.flat.scan_nearest(lon, lat, t, 10).len() as u64
                }),
            ),
        ],
    );
    vec![
        win("small_10km_10min", &|q| &q.small),
        win("large_200km_1h", &|q| &q.large),
        win("radius_10km_10min", &|q| &q.radius),
        win("polygon_hex20km_10min", &|q| &q.polygon),
        track,
        position,
        nearest,
    ]
}

fn main() {
    let n = bench_reports();
    let fleet = Fleet::new(n);
    let (_dir, engine) = cached_index(&fleet);
    let started = Instant::now();
    let flat = Flat::new(&fleet);
    eprintln!("flat vec: {:.2} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let points = PointTree::new(&flat);
    eprintln!(
        "rstar point bulk_load: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let pieces = PieceTree::new(&flat);
    eprintln!(
        "rstar piece bulk_load: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let q = Queries::new(&flat, QUERIES, 11);
    let f = Fixture {
        engine,
        flat,
        points,
        pieces,
        q,
    };
    let started = Instant::now();
    let means = check_agreement(&f.engine, &f.flat, &f.points, &f.pieces, &f.q);
    eprintln!(
        "all three agree on all {QUERIES} queries of each kind ({:.1} s); mean matches per query:",
        started.elapsed().as_secs_f64()
    );
    for (k, m) in &means {
        eprintln!("  {k:<12} {m:>10.1}");
    }

    let kinds = kinds(&f);
    let mut c = Criterion::default().configure_from_args();
    for (name, impls) in &kinds {
        let mut g = c.benchmark_group(format!("queries_{n}/{name}"));
        for (imp, run) in impls {
            g.bench_function(*imp, |b| {
                let mut i = 0;
                b.iter(|| {
                    i += 1;
                    black_box(run(i))
                });
            });
        }
        g.finish();
    }
    c.final_summary();

    if std::env::var_os("DECONFLICT_BENCH_NO_TABLE").is_none() {
        latency_table(n, &kinds);
    }
}

/// Every query of each set timed on its own, `rounds` times (once for brute force).
fn latency_table(n: u64, kinds: &[(&'static str, Vec<(&'static str, Run<'_>)>)]) {
    let rounds = deconflict_benches::env_u64("DECONFLICT_BENCH_ROUNDS", 20) as usize;
    println!("\nper-query latency, {n} reports, {QUERIES} queries × {rounds} rounds (µs)");
    println!("| query | impl | p50 | p99 | mean | ratio p50 (baseline / deconflict) |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for (name, impls) in kinds {
        let mut ours_p50 = 0.0;
        for (imp, run) in impls {
            let r = if *imp == "brute_force" { 1 } else { rounds };
            let mut samples = Vec::with_capacity(QUERIES * r);
            for round in 0..r {
                for i in 0..QUERIES {
                    let t = Instant::now();
                    black_box(run(i + round * QUERIES));
                    samples.push(t.elapsed().as_nanos() as u64);
                }
            }
            samples.sort_unstable();
            let us = |v: u64| v as f64 / 1000.0;
            let p50 = us(percentile(&samples, 50.0));
            let mean = us(samples.iter().sum::<u64>() / samples.len() as u64);
            if *imp == "deconflict" {
                ours_p50 = p50;
            }
            let ratio = if *imp == "deconflict" {
                "–".to_owned()
            } else {
                format!("{:.2}×", p50 / ours_p50)
            };
            println!(
                "| {name} | {imp} | {p50:.1} | {:.1} | {mean:.1} | {ratio} |",
                us(percentile(&samples, 99.0))
            );
        }
    }
}
