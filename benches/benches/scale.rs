//! Scale harness: builds an index of `DECONFLICT_SCALE` reports (default 10 M) through the
//! library, streaming from the fleet generator (no CSV, no data set in memory), and reports
//! build rate, bytes on disk per report, peak RSS of the build (`VmHWM`), open time, time to
//! the first answer and query latency (p50/p99, warm).
//!
//! ```text
//! DECONFLICT_SCALE=100000000 cargo bench -p deconflict-benches --bench scale
//! ```
//! The index goes to a temporary directory under `target/bench-data` (removed at the end;
//! keep it with `DECONFLICT_SCALE_KEEP=1`). 100 M reports need ≈ 2.5 GB of disk.

use std::hint::black_box;
use std::time::Instant;

use deconflict_benches::{
    Fleet, MAX_GAP_MS, Queries, build_index, cache_dir, compact_all, dir_bytes, engine_nearest,
    engine_window, env_u64, peak_rss_bytes, percentile, rss_bytes,
};
use deconflict_engine::Engine;
use deconflict_engine::time::Timestamp;

const GIB: f64 = (1u64 << 30) as f64;

fn latencies(n: usize, mut run: impl FnMut(usize)) -> (Vec<u64>, Vec<u64>) {
    let mut first = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        run(i);
        first.push(t.elapsed().as_nanos() as u64);
    }
    let mut warm = Vec::with_capacity(n * 3);
    for _ in 0..3 {
        for i in 0..n {
            let t = Instant::now();
            run(i);
            warm.push(t.elapsed().as_nanos() as u64);
        }
    }
    first.sort_unstable();
    warm.sort_unstable();
    (first, warm)
}

fn main() {
    let n = env_u64("DECONFLICT_SCALE", 10_000_000);
    let fleet = Fleet::new(n);
    std::fs::create_dir_all(cache_dir()).expect("bench-data dir");
    let tmp = tempfile::tempdir_in(cache_dir()).expect("tempdir");
    let dir = tmp.path().join("idx");

    let rss_before = rss_bytes();
    let started = Instant::now();
    let engine = build_index(&dir, fleet.reports());
    let build_s = started.elapsed().as_secs_f64();
    let hwm = peak_rss_bytes();
    let segments = engine.snapshot().segment_infos().len();
    assert_eq!(engine.snapshot().report_count(), n);
    drop(engine);
    let bytes = dir_bytes(&dir);

    let mut opens: Vec<u64> = (0..20)
        .map(|_| {
            let t = Instant::now();
            black_box(Engine::open(&dir).expect("open"));
            t.elapsed().as_nanos() as u64
        })
        .collect();
    opens.sort_unstable();

    let q = Queries::for_fleet(&fleet, 1_000, 3);
    let t = Instant::now();
    let engine = Engine::open(&dir).expect("open");
    let first_hits = engine_window(&engine, &q.small[0]);
    let first_answer = t.elapsed();

    let us = |v: u64| v as f64 / 1000.0;
    println!(
        "\nscale: {n} reports ({} aircraft), {segments} segments",
        fleet.entities()
    );
    println!("| measure | value |");
    println!("| --- | ---: |");
    println!(
        "| build (generate + batch + sort + write + commit) | {build_s:.1} s, {:.2} M reports/s |",
        n as f64 / build_s / 1e6
    );
    println!(
        "| disk | {bytes} B, {:.2} B/report |",
        bytes as f64 / n as f64
    );
    println!(
        "| peak RSS of the build (VmHWM; {:.0} MiB before) | {:.2} GiB |",
        rss_before as f64 / 1048576.0,
        hwm as f64 / GIB
    );
    println!(
        "| Engine::open, warm page cache (min / p50 / max of 20) | {:.2} / {:.2} / {:.2} ms |",
        us(opens[0]) / 1e3,
        us(percentile(&opens, 50.0)) / 1e3,
        us(opens[19]) / 1e3
    );
    println!(
        "| open + first small-window query ({first_hits} hits) | {:.2} ms |",
        first_answer.as_secs_f64() * 1e3
    );

    query_table(&engine, &q);
    if segments > 1 {
        // The steady state of a served index: `deconflict compact` merges the build's segments
        // (one per 8 M-report batch) into one, and every query walks one tree instead of many.
        let (before, after, secs) = compact_all(&engine);
        println!(
            "\nafter `compact` ({before} segments into {after} in {secs:.1} s, {:.2} B/report):",
            dir_bytes(&dir) as f64 / n as f64
        );
        query_table(&engine, &q);
    }
    println!(
        "RSS at the end: {:.2} GiB (mapped segment pages included)",
        rss_bytes() as f64 / GIB
    );
    if std::env::var_os("DECONFLICT_SCALE_KEEP").is_some() {
        println!("kept {}", tmp.keep().display());
    }
}

/// Warm and first-pass latencies of each query kind on `engine`.
fn query_table(engine: &Engine, q: &Queries) {
    let us = |v: u64| v as f64 / 1000.0;
    println!("\n| query | n | hits/query | first pass p50 / p99 (µs) | warm p50 / p99 (µs) |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let row = |name: &str, count: usize, run: &mut dyn FnMut(usize) -> u64| {
        let mut hits = 0u64;
        let (first, warm) = latencies(count, |i| hits += run(i));
        println!(
            "| {name} | {count} | {:.1} | {:.1} / {:.1} | {:.1} / {:.1} |",
            hits as f64 / (4 * count) as f64,
            us(percentile(&first, 50.0)),
            us(percentile(&first, 99.0)),
            us(percentile(&warm, 50.0)),
            us(percentile(&warm, 99.0)),
        );
    };
    row("small 10 km × 10 km × 10 min", 1_000, &mut |i| {
        engine_window(engine, &q.small[i])
    });
    row("large 200 km × 200 km × 1 h", 50, &mut |i| {
        engine_window(engine, &q.large[i])
    });
    row("radius 10 km × 10 min", 200, &mut |i| {
        engine_window(engine, &q.radius[i])
    });
    row("position_at", 1_000, &mut |i| {
        let (e, t) = q.position[i];
        let snap = engine.snapshot();
        u64::from(
            snap.position_at(&Fleet::id(e), Timestamp(t), MAX_GAP_MS)
                .expect("position")
                .is_some(),
        )
    });
    row("nearest k = 10", 200, &mut |i| {
        let (lon, lat, t) = q.nearest[i];
        engine_nearest(engine, lon, lat, t, 10).len() as u64
    });
}
