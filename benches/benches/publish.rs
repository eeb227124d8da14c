//! Reader latency while a writer publishes: small-window queries timed one by one on a reader
//! thread, (1) with no writer, (2) while a writer commits a generation every 100 ms, (3) with
//! no writer again, over the segments the writer left (so that the cost of more segments is
//! told apart from the cost of the writer running). Goal: p99 while publishing within 1.5× of
//! idle.
//!
//! `DECONFLICT_BENCH_REPORTS=10000000 DECONFLICT_PUBLISH_SECS=10 cargo bench -p deconflict-benches --bench publish`
//! (prints a table; the index is a copy of the cached one, so the cache stays unchanged).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use deconflict_benches::{
    Flat, Fleet, Queries, REGION, T0, bench_reports, cached_index, engine_window, env_u64,
    percentile,
};
use deconflict_engine::model::Report;
use deconflict_engine::query::WindowQuery;
use deconflict_engine::time::Timestamp;
use deconflict_engine::{Engine, ReportBatch};

/// Reports each published generation adds.
const REPORTS_PER_COMMIT: usize = 1_000;

fn reader(engine: &Engine, qs: &[WindowQuery], stop: &AtomicBool) -> Vec<u64> {
    let mut samples = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        black_box(engine_window(engine, &qs[i % qs.len()]));
        samples.push(t.elapsed().as_nanos() as u64);
        i += 1;
    }
    samples.sort_unstable();
    samples
}

/// Commits one generation every `period` until `stop`; returns the commit durations (ns).
fn writer(engine: &Engine, period: Duration, stop: &AtomicBool, compact: bool) -> Vec<u64> {
    let mut commits = Vec::new();
    let mut next = Instant::now();
    let mut g = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        let mut w = engine.writer().expect("writer");
        let mut b = ReportBatch::with_capacity(REPORTS_PER_COMMIT);
        for k in 0..REPORTS_PER_COMMIT as u64 {
            let id = format!("PUB{g:06}-{:02}", k % 10);
            let lon = REGION.0 + (g as f64 * 0.37 + k as f64 * 0.01) % (REGION.2 - REGION.0);
            let lat = REGION.1 + (g as f64 * 0.11 + (k % 10) as f64 * 0.5) % (REGION.3 - REGION.1);
            let r = Report::new(
                id,
                "blue",
                Timestamp(T0 + (k / 10) as i64 * 5_000),
                lon,
                lat,
                Some(9000.0),
            )
            .expect("valid");
            b.push(&r).expect("push");
        }
        w.add(b).expect("add");
        w.commit().expect("commit");
        if compact {
            // background compaction as `ingest --compact-above 8` runs it
            engine.compact_if_needed(8, 64 << 20).expect("compact");
        }
        commits.push(t.elapsed().as_nanos() as u64);
        g += 1;
        next += period;
        if let Some(d) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    commits.sort_unstable();
    commits
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        if e.file_type().is_ok_and(|t| t.is_file()) {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

fn main() {
    let n = bench_reports();
    let secs = env_u64("DECONFLICT_PUBLISH_SECS", 5);
    let fleet = Fleet::new(n);
    let (src, engine) = cached_index(&fleet);
    drop(engine);
    let tmp = tempfile::tempdir_in(deconflict_benches::cache_dir()).expect("tempdir");
    copy_dir(&src, tmp.path());
    let engine = Engine::open(tmp.path()).expect("open copy");
    let qs = Queries::new(&Flat::new(&fleet), 64, 11).small;
    let phase = |with_writer: bool, compact: bool| {
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            let r = s.spawn(|| reader(&engine, &qs, &stop));
            let w = with_writer
                .then(|| s.spawn(|| writer(&engine, Duration::from_millis(100), &stop, compact)));
            std::thread::sleep(Duration::from_secs(secs));
            stop.store(true, Ordering::Relaxed);
            let commits = w.map(|w| w.join().expect("writer"));
            (r.join().expect("reader"), commits)
        })
    };
    // Warm every touched run (first-touch checksum verification) before measuring.
    for q in &qs {
        engine_window(&engine, q);
    }
    let segs = |e: &Engine| e.snapshot().segment_infos().len();
    let before = segs(&engine);
    let (idle, _) = phase(false, false);
    let (busy, commits) = phase(true, false);
    let after = segs(&engine);
    let (idle_after, _) = phase(false, false);
    // Again, with background tiered compaction keeping the segment count bounded.
    {
        let mut w = engine.writer().expect("writer");
        w.compact(usize::MAX).expect("compact");
        w.commit().expect("commit");
    }
    for q in &qs {
        engine_window(&engine, q);
    }
    let (idle_compacted, _) = phase(false, false);
    let (busy_compacting, _) = phase(true, true);
    let after_compacting = segs(&engine);
    let commits = commits.unwrap_or_default();
    let us = |v: u64| v as f64 / 1000.0;
    let p99_idle = percentile(&idle, 99.0);
    println!("\nreader latency, small window, {n} reports, {secs} s per phase (µs)");
    println!("| phase | segments | queries | p50 | p99 | p99.9 | max | p99 / idle p99 |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, s, seg) in [
        ("idle", &idle, format!("{before}")),
        (
            "writer publishing every 100 ms",
            &busy,
            format!("{before}→{after}"),
        ),
        (
            "idle after (same segments)",
            &idle_after,
            format!("{after}"),
        ),
        ("idle, compacted", &idle_compacted, "1".to_owned()),
        (
            "writer publishing + background tiered compaction (above 8 segments)",
            &busy_compacting,
            format!("1→{after_compacting}"),
        ),
    ] {
        println!(
            "| {name} | {seg} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2}× |",
            s.len(),
            us(percentile(s, 50.0)),
            us(percentile(s, 99.0)),
            us(percentile(s, 99.9)),
            us(*s.last().unwrap_or(&0)),
            percentile(s, 99.0) as f64 / p99_idle as f64
        );
    }
    println!(
        "writer: {} generations of {REPORTS_PER_COMMIT} reports, commit p50 {:.1} ms, p99 {:.1} ms",
        commits.len(),
        us(percentile(&commits, 50.0)) / 1000.0,
        us(percentile(&commits, 99.0)) / 1000.0
    );
}
