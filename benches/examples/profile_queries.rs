//! A query loop to run under a profiler, on the cached bench index:
//! `valgrind --tool=callgrind target/release/examples/profile_queries small 100`
//! (kinds: small, large, radius, nearest, track, position; the second argument is rounds of the
//! 64 queries). It prints the time per query, rounds only. `DECONFLICT_FLUSH_MB=64` writes to a
//! buffer that large before each round, so that every round starts from cold caches, as the
//! engine's rounds do in `window_scale` once rstar's have run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use deconflict_benches::{
    Fleet, MAX_GAP_MS, Queries, bench_reports, cached_index, engine_nearest, engine_window, env_u64,
};
use deconflict_engine::time::Timestamp;

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "small".into());
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(100);
    let fleet = Fleet::new(bench_reports());
    let (_dir, engine) = cached_index(&fleet);
    let q = Queries::for_fleet(&fleet, 64, 11);
    let mut total = 0u64;
    let mut flush =
        vec![1u8; usize::try_from(env_u64("DECONFLICT_FLUSH_MB", 0)).expect("fits") << 20];
    let mut spent = Duration::ZERO;
    for _ in 0..rounds {
        // One write per cache line.
        for k in (0..flush.len()).step_by(64) {
            flush[k] = flush[k].wrapping_add(1);
        }
        let started = Instant::now();
        for i in 0..64 {
            total += match kind.as_str() {
                "small" => engine_window(&engine, &q.small[i]),
                "large" => engine_window(&engine, &q.large[i]),
                "radius" => engine_window(&engine, &q.radius[i]),
                "nearest" => {
                    let (lon, lat, t) = q.nearest[i];
                    engine_nearest(&engine, lon, lat, t, 10).len() as u64
                }
                "track" => {
                    let (e, r) = q.track[i];
                    let snap = engine.snapshot();
                    snap.track(&Fleet::id(e), r).expect("track").count() as u64
                }
                "position" => {
                    let (e, t) = q.position[i];
                    let p = engine
                        .snapshot()
                        .position_at(&Fleet::id(e), Timestamp(t), MAX_GAP_MS);
                    u64::from(p.expect("position").is_some())
                }
                other => panic!("unknown kind {other}"),
            };
        }
        spent += started.elapsed();
    }
    black_box(&flush);
    println!(
        "{kind}: {:.2} µs per query",
        spent.as_secs_f64() * 1e6 / (rounds * 64).max(1) as f64
    );
    println!("{kind}: {} matches", black_box(total));
}
