//! Window queries at scale: the engine against `rstar` 0.14 over 3-D points of the same
//! reports, in one run — the issue's "small window at 10 M and 100 M" figure. The `queries`
//! bench also builds a piece tree and a flat copy for its other kinds, which does not fit
//! beside a 100 M-point tree; this builds only what windows need.
//!
//! ```text
//! DECONFLICT_BENCH_REPORTS=100000000 cargo run --release -p deconflict-benches --example window_scale
//! ```
//! With `DECONFLICT_BENCH_COMPACT=1` the cached index is first compacted into one segment (what
//! `deconflict compact` does; the library build leaves one segment per 8 M reports), and stays
//! so in the cache. Every query is answered by both first and the counts must agree; then each
//! query set is timed query by query, a round of the engine's and one of rstar's in turn
//! (`DECONFLICT_BENCH_ROUNDS`, default 20, rounds for small windows; a fifth of that for large
//! ones), and p50/p99/mean printed with the ratio rstar / engine.

use std::hint::black_box;
use std::time::Instant;

use deconflict_benches::{
    Fleet, PointTree, Queries, bench_reports, cached_index, compact_all, engine_window, env_u64,
    percentile, rss_bytes,
};
use deconflict_engine::query::WindowQuery;

fn main() {
    let n = bench_reports();
    let fleet = Fleet::new(n);
    let (_dir, engine) = cached_index(&fleet);
    if engine.snapshot().segment_infos().len() > 1
        && std::env::var_os("DECONFLICT_BENCH_COMPACT").is_some()
    {
        let (before, after, secs) = compact_all(&engine);
        println!("compacted {before} segments into {after} in {secs:.1} s");
    }
    println!(
        "engine index: {} segment(s)",
        engine.snapshot().segment_infos().len()
    );
    let started = Instant::now();
    let tree = PointTree::from_fleet(&fleet);
    let load = started.elapsed().as_secs_f64();
    let gib = |b: u64| b as f64 / f64::from(1u32 << 30);
    println!(
        "{n} reports; rstar point bulk_load {load:.1} s, process RSS after it {:.1} GiB",
        gib(rss_bytes())
    );
    let q = Queries::for_fleet(&fleet, 64, 11);
    let rounds = env_u64("DECONFLICT_BENCH_ROUNDS", 20) as usize;
    println!(
        "| query | hits/query | engine p50 / p99 / mean (µs) | rstar p50 / p99 / mean (µs) | ratio p50 (mean) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, set, rounds) in [
        ("small 10 km × 10 min", &q.small, rounds),
        ("large 200 km × 1 h", &q.large, (rounds / 5).max(1)),
    ] {
        let mut hits = 0;
        for w in set {
            let (a, b) = (engine_window(&engine, w), tree.window(w));
            assert_eq!(a, b, "engine and rstar disagree on {w:?}");
            hits += a;
        }
        // Round by round, the engine's and rstar's rounds alternating: each side runs a whole
        // round of queries warm in its own caches, and a noisy neighbour slows both alike.
        let (mut ours, mut theirs) = (
            Vec::with_capacity(set.len() * rounds),
            Vec::with_capacity(set.len() * rounds),
        );
        let round = |run: &dyn Fn(&WindowQuery) -> u64, into: &mut Vec<u64>| {
            for w in set {
                let t = Instant::now();
                black_box(run(w));
                into.push(t.elapsed().as_nanos() as u64);
            }
        };
        for _ in 0..rounds {
            round(&|w| engine_window(&engine, w), &mut ours);
            round(&|w| tree.window(w), &mut theirs);
        }
        let summary = |mut samples: Vec<u64>| {
            samples.sort_unstable();
            let us = |v: u64| v as f64 / 1000.0;
            let mean = us(samples.iter().sum::<u64>() / samples.len() as u64);
            (
                us(percentile(&samples, 50.0)),
                us(percentile(&samples, 99.0)),
                mean,
            )
        };
        let (ours, theirs) = (summary(ours), summary(theirs));
        println!(
            "| {name} | {:.1} | {:.1} / {:.1} / {:.1} | {:.1} / {:.1} / {:.1} | {:.2}× ({:.2}×) |",
            hits as f64 / set.len() as f64,
            ours.0,
            ours.1,
            ours.2,
            theirs.0,
            theirs.1,
            theirs.2,
            theirs.0 / ours.0,
            theirs.2 / ours.2
        );
    }
}
