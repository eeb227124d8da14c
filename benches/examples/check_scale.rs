//! `check` of one operation against a large index — the issue's "check one operation vs 100 M
//! reports" figure. Builds (once, cached) the fleet index of `DECONFLICT_BENCH_REPORTS`
//! reports, then times `Snapshot::check` of operations of realistic size (a 150 km two-leg
//! route, 5 km corridor, 3000–9000 m — or `CHECK_BAND=lo,hi` — a 30-minute window) placed at random in the fleet's
//! region and hour, warm, and prints p50/p99 and the conflicts found.
//!
//! ```text
//! DECONFLICT_BENCH_REPORTS=100000000 cargo run --release -p deconflict-benches --example check_scale
//! ```
//!
//! `CHECK_OPS=n` (default 50) and `CHECK_REPS=r` (default 5) shrink the run, e.g. under
//! callgrind. `CHECK_DUMP=path` writes every report of the warm pass there (`{:?}`, which
//! prints floats exactly): two builds that must agree bit for bit are compared with `cmp`.

use std::time::Instant;

use deconflict_benches::{Fleet, REGION, T0, bench_reports, cached_index};
use deconflict_engine::model::{Minima, Operation, Target, Waypoint};
use deconflict_engine::time::{TimeRange, Timestamp};
use rand::{Rng, SeedableRng};

fn operation(rng: &mut rand_chacha::ChaCha8Rng, i: usize, band: (f64, f64)) -> Operation {
    let lon = rng.gen_range(REGION.0 + 1.0..REGION.2 - 1.0);
    let lat = rng.gen_range(REGION.1 + 1.0..REGION.3 - 1.0);
    let start = T0 + rng.gen_range(0..30 * 60_000);
    Operation {
        id: format!("op-{i}"),
        side: "blue".into(),
        filed_at: Timestamp(T0 - 2 * 86_400_000),
        method: "air strike".into(),
        composition: "2 strike aircraft".into(),
        target: Target {
            lon: lon + 0.8,
            lat,
            radius_m: 500.0,
        },
        window: TimeRange::new(Timestamp(start), Timestamp(start + 30 * 60_000)).expect("ordered"),
        altitude_m: band,
        corridor_m: 5000.0,
        route: vec![
            Waypoint {
                lon,
                lat,
                time: None,
            },
            Waypoint {
                lon: lon + 0.8,
                lat: lat + 0.3,
                time: None,
            },
            Waypoint {
                lon: lon + 0.8,
                lat,
                time: None,
            },
        ],
        own_tracks: Vec::new(),
    }
}

fn main() {
    let n = bench_reports();
    let (_, engine) = cached_index(&Fleet::new(n));
    let snap = engine.snapshot();
    let minima = Minima::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    // The fleet flies at 6–12 km: a band inside it conflicts with hundreds of aircraft (every
    // conflict is solved exactly); `CHECK_BAND` moves the band to the fleet's edge or below it.
    let band = match std::env::var("CHECK_BAND") {
        Ok(b) => {
            let v: Vec<f64> = b
                .split(',')
                .map(|x| x.trim().parse().expect("CHECK_BAND=lo,hi"))
                .collect();
            (v[0], v[1])
        }
        Err(_) => (3000.0, 9000.0),
    };
    // `CHECK_OPS` / `CHECK_REPS` shrink the run (for callgrind); defaults 50 × 5.
    let env_n = |k: &str, d: usize| std::env::var(k).map_or(d, |v| v.parse().expect(k));
    let (n_ops, reps) = (env_n("CHECK_OPS", 50), env_n("CHECK_REPS", 5));
    let ops: Vec<Operation> = (0..n_ops).map(|i| operation(&mut rng, i, band)).collect();
    let mut dump =
        std::env::var_os("CHECK_DUMP").map(|p| std::fs::File::create(p).expect("CHECK_DUMP"));
    for op in &ops {
        let report = snap.check(op, &minima).expect("check"); // warm: first-touch checksums
        if let Some(f) = &mut dump {
            use std::io::Write;
            writeln!(f, "{report:?}").expect("CHECK_DUMP");
        }
    }
    let mut times = Vec::new();
    let mut conflicts = 0;
    for _ in 0..reps {
        for op in &ops {
            let t = Instant::now();
            conflicts += snap.check(op, &minima).expect("check").conflicts.len();
            times.push(t.elapsed());
        }
    }
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    println!(
        "check of one operation ({band:?} m) vs {} reports: p50 {:.3} ms, p99 {:.3} ms over {} checks ({:.1} conflicts per check)",
        snap.report_count(),
        pct(0.5),
        pct(0.99),
        times.len(),
        conflicts as f64 / times.len() as f64
    );
}
