//! Damaged files: every file of a small index is truncated at many offsets and has bits
//! flipped at many positions (every byte of the headers, of the entity/side/name tables and of
//! the runs and nodes sections, a sample of the data columns). For each damaged copy:
//! - opening, verifying and querying never panic or hang;
//! - a flip inside a checksummed region (the header, any section) and any truncation or
//!   extension is detected: `Engine::open` or `Snapshot::verify` fails with an index error
//!   (`Corrupt` / `UnsupportedVersion`, the CLI's exit 2) naming the damaged file;
//! - every query answers exactly as on the intact index, or fails with such an error: never a
//!   silently different answer.
//!
//! Bytes no checksum covers (alignment padding between sections) may go unnoticed, and then
//! every answer must be unchanged. Counts are printed with `--nocapture`.

use std::ops::Range;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use deconflict_engine::model::Report;
use deconflict_engine::query::{Area, WindowQuery};
use deconflict_engine::time::{TimeRange, Timestamp};
use deconflict_engine::{Engine, Error, QueryPlan, ReportBatch};

const T0: i64 = 1_633_600_800_000;

/// Two generations: 20 entities × 40 reports (60 runs, a two-level tree), then 5 more.
fn build(dir: &Path) {
    let engine = Engine::create(dir).unwrap();
    for (gen_, entities, per) in [(0, 20, 40), (1, 5, 3)] {
        let mut w = engine.writer().unwrap();
        let mut b = ReportBatch::new();
        for e in 0..entities {
            for i in 0..per {
                let lon = -170.0 + f64::from(e) * 17.0 + f64::from(i) * 0.01;
                let alt = (i % 5 != 0).then(|| f64::from(1000 + 10 * i));
                let side = ["blue", "red"][(e % 2) as usize];
                let t = T0 + i64::from(i) * 30_000 + i64::from(gen_) * 7;
                let r = Report::new(format!("E{e:02}"), side, Timestamp(t), lon, 35.0, alt);
                b.push(&r.unwrap()).unwrap();
            }
        }
        w.add(b).unwrap();
        w.commit().unwrap();
    }
}

/// The bytes of the first segment file (in name order) of the index in `dir`.
fn first_segment(dir: &Path) -> Vec<u8> {
    let mut segs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dcs"))
        .collect();
    segs.sort();
    std::fs::read(&segs[0]).unwrap()
}

/// The first generation's segment of [`build`]'s index (20 entities × 40 reports).
fn built_segment() -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    first_segment(tmp.path())
}

/// One answer per query: its text, or the error.
type Answers = Vec<Result<String, Error>>;

fn queries() -> Vec<WindowQuery> {
    let window = TimeRange::new(Timestamp(T0 + 60_000), Timestamp(T0 + 600_000)).unwrap();
    vec![
        WindowQuery::all(),
        WindowQuery {
            area: Area::BBox(deconflict_engine::geodesy::BBox::parse("-100,30,50,40").unwrap()),
            time: window,
            alt: Some((1000.0, 1200.0)),
            side: Some("red".into()),
        },
        WindowQuery {
            area: Area::Circle {
                lon: -136.0,
                lat: 35.0,
                radius_m: 20_000.0,
            },
            ..WindowQuery::all()
        },
    ]
}

fn answers(engine: &Engine) -> Answers {
    let snap = engine.snapshot();
    let mut out = Vec::new();
    for q in queries() {
        let plan = QueryPlan::new(&q);
        let r: Result<Vec<String>, Error> = snap
            .reports_in(&q, &plan)
            .map(|r| r.map(|r| format!("{:?}", r.to_report())))
            .collect();
        out.push(r.map(|mut v| {
            v.sort();
            v.join("\n")
        }));
    }
    for id in ["E00", "E03", "E19", "nope"] {
        out.push(
            snap.track(id, TimeRange::ALL)
                .map(|t| t.map(|r| format!("{:?}", r.to_report())).collect()),
        );
        out.push(
            snap.position_at(id, Timestamp(T0 + 45_000), 60_000)
                .map(|f| format!("{f:?}")),
        );
    }
    out.push(
        snap.nearest(-100.0, 35.0, Timestamp(T0 + 90_000), 3, 60_000)
            .map(|n| format!("{n:?}")),
    );
    out
}

/// Sections of a format v6 segment (docs/FORMAT.md).
const SECTIONS: usize = 14;
/// Header bytes of a format v6 segment.
const HEADER: usize = 448;

/// Ranges a checksum covers: the header and every section (from the intact header).
fn covered(seg: &[u8]) -> Vec<Range<usize>> {
    let header: Range<usize> = 0..HEADER;
    let mut v = vec![header];
    for i in 0..SECTIONS {
        let at = 96 + 24 * i;
        let off = u64::from_le_bytes(seg[at..at + 8].try_into().unwrap()) as usize;
        let len = u64::from_le_bytes(seg[at + 8..at + 16].try_into().unwrap()) as usize;
        v.push(off..off + len);
    }
    v
}

/// Positions to flip in a segment: all of the header and of the small sections (entities,
/// sides, names, run boxes, runs, nodes, node boxes, entity run lists, run checksums), every
/// 11th byte of the columns, and the padding.
fn segment_positions(seg: &[u8]) -> Vec<usize> {
    let secs = covered(seg);
    let mut v: Vec<usize> = (0..HEADER).collect();
    for (i, r) in secs[1..].iter().enumerate() {
        let step = if i < 5 { 11 } else { 1 };
        v.extend(r.clone().step_by(step));
    }
    v.extend((0..seg.len()).filter(|p| !secs.iter().any(|r| r.contains(p))));
    v.sort_unstable();
    v.dedup();
    v
}

#[derive(Debug, Default)]
struct Tally {
    trials: u64,
    at_open: u64,
    at_verify: u64,
    query_errors: u64,
    harmless: u64,
}

/// Applies one damaged version of `file`, checks it, restores the file.
fn trial(dir: &Path, file: &str, damaged: &[u8], must_detect: bool, base: &Answers, t: &mut Tally) {
    let path = dir.join(file);
    let what = format!("{file} ({} bytes)", damaged.len());
    std::fs::write(&path, damaged).unwrap();
    t.trials += 1;
    let named = |e: &Error| {
        assert!(e.is_index_error(), "{what}: not an index error: {e:?}");
        assert!(
            e.to_string().contains(file),
            "{what}: error does not name the file: {e}"
        );
    };
    match Engine::open(dir) {
        Err(e) => {
            named(&e);
            t.at_open += 1;
        }
        Ok(engine) => {
            let verified = engine.snapshot().verify();
            match &verified {
                Err(e) => {
                    named(e);
                    t.at_verify += 1;
                }
                Ok(()) => assert!(!must_detect, "{what}: damage not detected by verify"),
            }
            let got = answers(&engine);
            for (i, (g, b)) in got.iter().zip(base).enumerate() {
                match (g, b) {
                    (Ok(g), Ok(b)) => assert!(g == b, "{what}: query {i} silently changed"),
                    (Err(e), _) => {
                        named(e);
                        t.query_errors += 1;
                        assert!(verified.is_err(), "{what}: query failed but verify passed");
                    }
                    (Ok(_), Err(e)) => panic!("intact query {i} failed: {e}"),
                }
            }
            if verified.is_ok() {
                t.harmless += 1;
            }
        }
    }
}

fn damage_every_file() -> Tally {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    build(dir);
    let base = answers(&Engine::open(dir).unwrap());
    assert!(base.iter().all(Result::is_ok));
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n == "MANIFEST" || n.ends_with(".dcs"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    let mut t = Tally::default();
    for file in &files {
        let intact = std::fs::read(dir.join(file)).unwrap();
        let is_seg = file.ends_with(".dcs");
        let cover: Vec<Range<usize>> = if is_seg {
            covered(&intact)
        } else {
            std::iter::once(0..intact.len()).collect()
        };
        let positions: Vec<usize> = if is_seg {
            segment_positions(&intact)
        } else {
            (0..intact.len()).collect()
        };
        for &p in &positions {
            let mut d = intact.clone();
            d[p] ^= 1 << (p % 8);
            let must = cover.iter().any(|r| r.contains(&p));
            trial(dir, file, &d, must, &base, &mut t);
        }
        // Truncations: every 32nd length, around every section start, and the extremes.
        let mut cuts: Vec<usize> = (0..intact.len()).step_by(32).collect();
        for r in &cover {
            cuts.extend([r.start.saturating_sub(1), r.start, r.start + 1, r.end - 1]);
        }
        cuts.extend([1, intact.len() - 1]);
        cuts.retain(|&c| c < intact.len());
        cuts.sort_unstable();
        cuts.dedup();
        for c in cuts {
            trial(dir, file, &intact[..c], true, &base, &mut t);
        }
        let mut longer = intact.clone();
        longer.push(0);
        trial(dir, file, &longer, true, &base, &mut t);
        std::fs::write(dir.join(file), &intact).unwrap();
    }
    // A segment that vanished is named too.
    let seg = files.iter().find(|f| f.ends_with(".dcs")).unwrap();
    let bytes = std::fs::read(dir.join(seg)).unwrap();
    std::fs::remove_file(dir.join(seg)).unwrap();
    let e = Engine::open(dir).unwrap_err();
    assert!(
        e.is_index_error() && e.to_string().contains(seg.as_str()),
        "{e}"
    );
    std::fs::write(dir.join(seg), bytes).unwrap();
    let again = answers(&Engine::open(dir).unwrap());
    assert!(
        again
            .iter()
            .zip(&base)
            .all(|(a, b)| a.as_ref().ok() == b.as_ref().ok())
    );
    t
}

#[test]
fn every_damage_is_detected_or_harmless() {
    // Never hang: the work runs on a thread, and a stall of minutes fails the test.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(damage_every_file()).unwrap());
    let t = match rx.recv_timeout(Duration::from_secs(600)) {
        Ok(t) => t,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("corruption trials hung"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("corruption trials panicked"),
    };
    eprintln!("{t:?}");
    assert_eq!(
        t.trials,
        t.at_open + t.at_verify + t.harmless,
        "every trial is counted once"
    );
    assert!(t.trials > 3000, "{t:?}");
}

/// Rows re-sealed with valid checksums but impossible coordinates (`i32::MIN`, whose `abs()`
/// overflows) are refused by `verify` and by queries, without panicking. Found by the
/// `segment_open` fuzz target.
#[test]
fn resealed_rows_with_extreme_coordinates_are_refused() {
    use deconflict_engine::fuzzing::{exercise, fix_checksums, open_segment_bytes};
    let intact = built_segment();
    let secs = covered(&intact);
    for (section, row) in [(2, 0), (3, 5), (2, 39), (3, 41)] {
        for v in [i32::MIN, i32::MAX, -1_800_000_001] {
            let mut b = intact.clone();
            let at = secs[section].start + row * 4;
            b[at..at + 4].copy_from_slice(&v.to_le_bytes());
            fix_checksums(&mut b);
            let snap = open_segment_bytes(&b).expect("columns are checked lazily");
            let e = snap
                .verify()
                .expect_err("an impossible coordinate passed verify");
            assert!(e.to_string().contains("out of range"), "{e}");
            exercise(&snap);
        }
    }
}

/// Re-sealed entity run lists that trade a run between two entities (each list's checksum made
/// valid again) are refused when either entity is first read — by `verify` and by a track
/// query — instead of returning one aircraft's reports as another's.
#[test]
fn resealed_run_list_naming_another_entitys_run_is_refused() {
    use deconflict_engine::fuzzing::{exercise, fix_checksums, open_segment_bytes};
    let intact = built_segment();
    let lists = covered(&intact)[1 + 12].clone(); // entity_runs: u32 run numbers
    let mut b = intact.clone();
    // E00 and E01 have 40 rows each, so three runs each (runs of up to 16 rows): entries 0
    // and 3 are their first runs.
    let (x, y) = (lists.start, lists.start + 3 * 4);
    let (first, other) = (b[x..x + 4].to_vec(), b[y..y + 4].to_vec());
    b[x..x + 4].copy_from_slice(&other);
    b[y..y + 4].copy_from_slice(&first);
    fix_checksums(&mut b);
    let snap = open_segment_bytes(&b).expect("run lists are checked lazily");
    let e = snap.verify().expect_err("a traded run passed verify");
    assert!(e.to_string().contains("run outside its entity"), "{e}");
    for id in ["E00", "E01"] {
        let e = snap
            .track(id, TimeRange::ALL)
            .err()
            .unwrap_or_else(|| panic!("{id}: track of a damaged entity answered"));
        assert!(e.to_string().contains("run outside its entity"), "{e}");
    }
    assert!(snap.track("E02", TimeRange::ALL).is_ok());
    exercise(&snap);
}

/// A re-sealed names section holding a byte that is not UTF-8 (or a name starting inside a
/// character) is refused at open, since names are handed out without validating them again.
#[test]
fn resealed_names_that_are_not_utf8_are_refused() {
    use deconflict_engine::fuzzing::{fix_checksums, open_segment_bytes};
    let intact = built_segment();
    let names = covered(&intact)[1 + 7].clone(); // the names section: "E00E01…"
    let mut b = intact.clone();
    b[names.start + 1] = 0xFF;
    fix_checksums(&mut b);
    let Err(e) = open_segment_bytes(&b) else {
        panic!("a name with a 0xFF byte opened");
    };
    assert!(e.to_string().contains("not UTF-8"), "{e}");
    // "é" (two bytes) in place of "E0", then the second entity's name moved one byte on, so
    // that it starts inside the character.
    let mut b = intact.clone();
    b[names.start..names.start + 2].copy_from_slice("é".as_bytes());
    let entities = covered(&intact)[1 + 5].clone(); // 40-byte records, name offset at 8
    let at = entities.start + 40 + 8;
    let off = u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    assert_eq!(off, 3);
    b[at..at + 4].copy_from_slice(&1u32.to_le_bytes());
    fix_checksums(&mut b);
    let Err(e) = open_segment_bytes(&b) else {
        panic!("a name inside a character opened");
    };
    assert!(e.to_string().contains("not UTF-8"), "{e}");
}

/// A re-sealed segment claiming more sides than a row's `u16` side code can name: refused at
/// open, instead of panicking in a query with `--side` (side numbers wrapped around).
#[test]
fn resealed_segment_with_too_many_sides_is_refused() {
    use deconflict_engine::fuzzing::{exercise, fix_checksums, open_segment_bytes};
    let mut b = built_segment();
    let sides: u32 = 70_000;
    b.resize(b.len().next_multiple_of(64), 0);
    let off = b.len() as u64;
    b.resize(b.len() + sides as usize * 8, 0); // every side named "" (offset 0, length 0)
    b[28..32].copy_from_slice(&sides.to_le_bytes());
    let entry = 96 + 24 * 6; // the sides section's table entry
    b[entry..entry + 8].copy_from_slice(&off.to_le_bytes());
    b[entry + 8..entry + 16].copy_from_slice(&(u64::from(sides) * 8).to_le_bytes());
    fix_checksums(&mut b);
    match open_segment_bytes(&b) {
        Ok(snap) => {
            exercise(&snap);
            panic!("a segment with {sides} sides was accepted");
        }
        Err(e) => assert!(e.to_string().contains("sides"), "{e}"),
    }
}

/// Rewrites the segment seeds of the `segment_open` fuzz target from this build's writer —
/// run it after a format change:
/// `cargo test --release -p deconflict-engine --test corruption -- --ignored write_fuzz_seeds`.
/// The first byte of a seed is the target's mode (odd: re-seal checksums first).
#[test]
#[ignore = "writes fuzz/corpus/segment_open"]
fn write_fuzz_seeds() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/segment_open");
    let tree = built_segment();
    let small = {
        let tmp = tempfile::tempdir().unwrap();
        let engine = Engine::create(tmp.path()).unwrap();
        let mut w = engine.writer().unwrap();
        let mut b = ReportBatch::new();
        for (e, side) in [("A", "blue"), ("B", "red"), ("C", "blue")] {
            for i in 0..3 {
                let t = Timestamp(T0 + i * 60_000);
                // Across the antimeridian: 179.99°, -179.99°, -179.97°.
                let lon = [179.99, -179.99, -179.97][i as usize];
                let r = Report::new(e, side, t, lon, 35.0, Some(900.0));
                b.push(&r.unwrap()).unwrap();
            }
        }
        w.add(b).unwrap();
        w.commit().unwrap();
        first_segment(tmp.path())
    };
    let mut regress = tree.clone();
    let lon = covered(&tree)[2].start;
    regress[lon..lon + 4].copy_from_slice(&i32::MIN.to_le_bytes());
    let seeds: [(&str, u8, &[u8]); 6] = [
        ("header-only", 1, &tree[..HEADER]),
        ("small-raw", 0, &small),
        ("small-resealed", 1, &small),
        ("tree-raw", 0, &tree),
        ("tree-resealed", 1, &tree),
        ("regress-lon-i32-min", 1, &regress),
    ];
    for (name, mode, bytes) in seeds {
        let mut seed = vec![mode];
        seed.extend_from_slice(bytes);
        std::fs::write(out.join(name), seed).unwrap();
    }
}
