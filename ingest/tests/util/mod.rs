//! Helpers shared by the CLI, crash and resource-fault tests: run the real `deconflict`
//! binary, generate track files with a brute-force model of what the index must hold, and
//! read an index back through the public engine API.
#![allow(dead_code, reason = "each test crate uses a different subset")]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use deconflict_engine::query::WindowQuery;
use deconflict_engine::{Engine, QueryPlan};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deconflict"))
}

/// Exit code, stdout and stderr of one run.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(args: &[&str]) -> Run {
    finish(bin().args(args).output().expect("run deconflict"))
}

pub fn finish(o: Output) -> Run {
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// What one report looks like once stored: side, lon e7, lat e7, alt mm (`None` = unknown).
pub type Stored = (String, i32, i32, Option<i32>);
/// (id, time ms) → stored report: the brute-force model of an index.
pub type Model = BTreeMap<(String, i64), Stored>;

/// One generated CSV row.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub time: i64,
    pub lon_e7: i32,
    pub lat_e7: i32,
    pub alt_m: Option<i32>,
    pub side: String,
}

/// `n` reports of `entities` entities from `seed`, times on a 1 s grid so that some (id,
/// time) pairs repeat (duplicates), some with unknown altitude.
pub fn rows(seed: u64, entities: usize, n: usize) -> Vec<Row> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let e = rng.gen_range(0..entities);
            Row {
                id: format!("E{e:03}"),
                time: 1_633_600_800_000 + rng.gen_range(0..(n as i64 * 2)) * 1000,
                lon_e7: rng.gen_range(-1_800_000_000..=1_800_000_000),
                lat_e7: rng.gen_range(-900_000_000..=900_000_000),
                alt_m: rng.gen_bool(0.8).then(|| rng.gen_range(-1000..=20_000)),
                side: ["blue", "red", "unknown"][e % 3].to_owned(),
            }
        })
        .collect()
}

pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from("id,time,lon,lat,alt,side\n");
    for r in rows {
        let alt = r.alt_m.map(|a| a.to_string()).unwrap_or_default();
        writeln!(
            out,
            "{},{},{:.7},{:.7},{alt},{}",
            r.id,
            r.time,
            f64::from(r.lon_e7) / 1e7,
            f64::from(r.lat_e7) / 1e7,
            r.side
        )
        .expect("write to String");
    }
    out
}

/// Applies rows to a model: the first report of an (id, time) wins.
pub fn apply(model: &mut Model, rows: &[Row]) {
    for r in rows {
        model.entry((r.id.clone(), r.time)).or_insert((
            r.side.clone(),
            r.lon_e7,
            r.lat_e7,
            r.alt_m.map(|a| a * 1000),
        ));
    }
}

/// The generation and every report of the index at `dir`, read through the public API.
pub fn contents(dir: &Path) -> deconflict_engine::Result<(u64, Model)> {
    let engine = Engine::open(dir)?;
    let snap = engine.snapshot();
    let q = WindowQuery::all();
    let plan = QueryPlan::new(&q);
    let mut m = Model::new();
    for r in snap.reports_in(&q, &plan) {
        let r = r?;
        let alt = (r.alt_mm() != i32::MIN).then_some(r.alt_mm());
        let dup = m.insert(
            (r.id().to_owned(), r.time().0),
            (r.side().to_owned(), r.lon_e7(), r.lat_e7(), alt),
        );
        assert!(dup.is_none(), "{} at {} returned twice", r.id(), r.time().0);
    }
    Ok((snap.generation(), m))
}

/// Files in `dir` that no committed state explains: temporaries, and segment or object
/// files the manifest does not name (track-only ingests write no object files). `LOCK`,
/// `MANIFEST` and `rejects/` are expected.
pub fn leftovers(dir: &Path) -> Vec<String> {
    let engine = Engine::open(dir).expect("open");
    let live: Vec<String> = engine
        .snapshot()
        .segment_infos()
        .into_iter()
        .map(|s| s.file)
        .collect();
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir") {
        let name = e.expect("entry").file_name().to_string_lossy().into_owned();
        let expected =
            matches!(name.as_str(), "LOCK" | "MANIFEST" | "rejects") || live.contains(&name);
        if !expected {
            out.push(name);
        }
    }
    out.sort();
    out
}

/// Copies the files of an index directory (not recursive: `rejects/` is left out).
pub fn copy_index(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write input");
    p
}
