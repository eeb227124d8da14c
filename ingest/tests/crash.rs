//! Crash safety of `deconflict ingest`: the real binary is killed (SIGKILL at random moments,
//! or `abort()` at each step of the commit protocol through the `DECONFLICT_CRASH_AT` hook)
//! while it adds generation N+1 to an index at generation N. After every crash the index must
//! open at exactly N or N+1 holding exactly the reports a brute-force model predicts for that
//! generation, `verify` must pass, and the next ingest must succeed and leave no temporary or
//! orphan file behind.
//!
//! `cargo test -p deconflict-ingest --test crash` runs the fast suite;
//! `cargo test -p deconflict-ingest --test crash -- --ignored` runs 200 random kills.

mod util;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use util::{Model, apply, bin, contents, copy_index, csv, leftovers, rows, run, s, write};

/// An index at generation 2 (`base`), a file to ingest as generation 3, and the models.
struct Fixture {
    _tmp: tempfile::TempDir,
    base: std::path::PathBuf,
    new_file: std::path::PathBuf,
    next_file: std::path::PathBuf,
    at_n: Model,
    at_n1: Model,
}

const N: u64 = 2;

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = tmp.path().join("base");
    let (g1, g2) = (rows(1, 20, 400), rows(2, 20, 400));
    let mut at_n = Model::new();
    for (i, g) in [&g1, &g2].into_iter().enumerate() {
        let f = write(tmp.path(), &format!("g{i}.csv"), &csv(g));
        let r = run(&["ingest", "--index", s(&base), "--tracks", s(&f), "-q"]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        apply(&mut at_n, g);
    }
    // Overlaps the index (duplicates against it) and itself; several segments per commit.
    let new = rows(3, 30, 3000);
    let new_file = write(tmp.path(), "new.csv", &csv(&new));
    let mut at_n1 = at_n.clone();
    apply(&mut at_n1, &new);
    let next = rows(4, 5, 50);
    let next_file = write(tmp.path(), "next.csv", &csv(&next));
    Fixture {
        _tmp: tmp,
        base,
        new_file,
        next_file,
        at_n,
        at_n1,
    }
}

fn ingest_args<'a>(dir: &'a Path, file: &'a Path) -> Vec<&'a str> {
    vec![
        "ingest",
        "--index",
        s(dir),
        "--tracks",
        s(file),
        "-q",
        "--batch-reports",
        "700",
        "--workers",
        "2",
    ]
}

/// Checks the state after a crash; returns the generation found.
fn check_after_crash(fx: &Fixture, dir: &Path, what: &str) -> u64 {
    let (generation, got) =
        contents(dir).unwrap_or_else(|e| panic!("{what}: index does not open: {e}"));
    let want = match generation {
        g if g == N => &fx.at_n,
        g if g == N + 1 => &fx.at_n1,
        g => panic!("{what}: generation {g}, expected {N} or {}", N + 1),
    };
    assert!(
        got == *want,
        "{what}: generation {generation} holds the wrong reports"
    );
    let v = run(&["verify", "--index", s(dir)]);
    assert_eq!(v.code, Some(0), "{what}: verify: {}", v.stderr);

    // The next writer recovers: it succeeds, and cleans up what the crash left.
    let r = run(&ingest_args(dir, &fx.next_file));
    assert_eq!(r.code, Some(0), "{what}: next ingest: {}", r.stderr);
    let (g2, after) = contents(dir).expect("open after the next ingest");
    assert_eq!(g2, generation + 1, "{what}");
    let mut expected = want.clone();
    apply(&mut expected, &rows(4, 5, 50));
    assert!(
        after == expected,
        "{what}: next ingest holds the wrong reports"
    );
    assert_eq!(
        leftovers(dir),
        Vec::<String>::new(),
        "{what}: files left behind"
    );
    generation
}

/// Runs one ingest and SIGKILLs it after `delay`.
fn kill_after(dir: &Path, file: &Path, delay: Duration) {
    let mut child = bin()
        .args(ingest_args(dir, file))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ingest");
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL; an error means it had already finished
    let _ = child.wait();
}

/// How long one uninterrupted ingest of the new file takes here (to spread the kills over it).
fn calibrate(fx: &Fixture, scratch: &Path) -> Duration {
    let dir = scratch.join("calibrate");
    copy_index(&fx.base, &dir);
    let t = Instant::now();
    let r = run(&ingest_args(&dir, &fx.new_file));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let took = t.elapsed();
    assert_eq!(check_after_crash(fx, &dir, "uninterrupted"), N + 1);
    took
}

fn random_kills(trials: usize, seed: u64) {
    let fx = fixture();
    let scratch = tempfile::tempdir().expect("tempdir");
    let span = calibrate(&fx, scratch.path()).mul_f64(1.2);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut seen = [0usize; 2];
    for i in 0..trials {
        let dir = scratch.path().join(format!("trial-{i}"));
        copy_index(&fx.base, &dir);
        // Stratified: trial i lands somewhere in the i-th slice of the ingest's duration.
        let delay = span.mul_f64((i as f64 + rng.gen_range(0.0..1.0)) / trials as f64);
        kill_after(&dir, &fx.new_file, delay);
        let g = check_after_crash(&fx, &dir, &format!("kill after {delay:?}"));
        seen[(g - N) as usize] += 1;
        std::fs::remove_dir_all(&dir).expect("clean trial");
    }
    eprintln!(
        "{trials} SIGKILL trials survived: {} at generation N, {} at N+1",
        seen[0], seen[1]
    );
}

#[test]
fn sigkill_at_random_moments() {
    random_kills(12, 0x5eed);
}

#[test]
#[ignore = "slow: 200 random kills (run with --ignored)"]
fn sigkill_at_random_moments_many() {
    random_kills(200, 0xdec0);
}

#[test]
fn abort_at_each_commit_phase() {
    let fx = fixture();
    let scratch = tempfile::tempdir().expect("tempdir");
    for (phase, expected) in [
        ("segment-written", N),
        ("segment-synced", N),
        ("before-manifest-write", N),
        ("manifest-tmp-synced", N),
        ("after-rename", N + 1),
    ] {
        let dir = scratch.path().join(phase);
        copy_index(&fx.base, &dir);
        let out = bin()
            .args(ingest_args(&dir, &fx.new_file))
            .env("DECONFLICT_CRASH_AT", phase)
            .output()
            .expect("run ingest");
        assert!(
            !out.status.success() && out.status.code().is_none(),
            "{phase}: the hook did not abort the ingest ({:?})",
            out.status
        );
        let g = check_after_crash(&fx, &dir, phase);
        assert_eq!(g, expected, "{phase}");
    }
}
