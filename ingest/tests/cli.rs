//! The `deconflict` binary's contract: exit codes (0 success, 1 usage or input error, 2 index
//! missing or corrupt), the ingest summary on stderr, `--max-rejects`, and the rejects file.

mod util;

use std::path::Path;

use util::{Model, apply, contents, csv, leftovers, rows, run, s, write};

/// `read R, accepted A, duplicates D, rejected X` from stderr.
fn summary(stderr: &str) -> [u64; 4] {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("read "))
        .unwrap_or_else(|| panic!("no summary in {stderr:?}"));
    let n: Vec<u64> = line
        .split([' ', ','])
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(n.len(), 4, "{line}");
    let words: Vec<&str> = line
        .split(", ")
        .map(|p| p.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        words,
        ["read", "accepted", "duplicates", "rejected"],
        "{line}"
    );
    [n[0], n[1], n[2], n[3]]
}

fn ingest(index: &Path, file: &Path, extra: &[&str]) -> util::Run {
    let mut args = vec!["ingest", "--index", s(index), "--tracks", s(file), "-q"];
    args.extend_from_slice(extra);
    run(&args)
}

const NASTY: &str = "id,time,lon,lat,alt,side\n\
A,2021-10-07T10:00:00Z,36.61,35.93,3000,blue\n\
A,2021-10-07T10:00:00Z,36.62,35.93,3000,blue\n\
B,1633600800500,-179.5,-10,,red\n\
C,yesterday,1,1,,\n\
D,1633600800500,181,1,,\n\
,1633600800500,1,1,,\n\
E,1633600800500,1,NaN,,\n\
F,1633600800500,1,1,100000.5,\n";

#[test]
fn usage_errors_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["query", "--index", s(&idx)],
        vec!["ingest", "--index", s(&idx)],
        vec![
            "ingest",
            "--index",
            s(&idx),
            "--tracks",
            "x.csv",
            "--max-rejects",
            "-1",
        ],
        vec![
            "query",
            "--index",
            s(&idx),
            "--from",
            "yesterday",
            "--to",
            "0",
        ],
        vec![
            "query",
            "--index",
            s(&idx),
            "--from",
            "0",
            "--to",
            "1",
            "--bbox",
            "1,2,3",
        ],
    ] {
        let r = run(&args);
        assert_eq!(r.code, Some(1), "{args:?}: {r:?}");
        assert!(!r.stderr.is_empty(), "{args:?}: no message");
    }
    assert_eq!(run(&["--help"]).code, Some(0));
    assert!(!idx.exists(), "a usage error created the index");
}

#[test]
fn bad_input_files_exit_1_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let missing = tmp.path().join("missing.csv");
    let r = ingest(&idx, &missing, &[]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains(s(&missing)), "{r:?}");

    let no_lat = write(tmp.path(), "nolat.csv", "id,time,lon\nA,0,1\n");
    let r = ingest(&idx, &no_lat, &[]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(
        r.stderr.contains(s(&no_lat)) && r.stderr.contains("line 1"),
        "{r:?}"
    );
    assert!(r.stderr.contains("lat"), "{r:?}");
}

#[test]
fn missing_index_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("nothing-here");
    for args in [
        vec!["verify", "--index", s(&idx)],
        vec!["stats", "--index", s(&idx)],
        vec!["track", "--index", s(&idx), "--id", "A"],
        vec!["query", "--index", s(&idx), "--from", "0", "--to", "1"],
    ] {
        let r = run(&args);
        assert_eq!(r.code, Some(2), "{args:?}: {r:?}");
        assert!(r.stderr.contains(s(&idx)), "{args:?}: {r:?}");
        assert!(r.stdout.is_empty());
    }
}

#[test]
fn corrupt_index_exits_2_naming_the_file_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let f = write(tmp.path(), "t.csv", &csv(&rows(9, 10, 500)));
    assert_eq!(ingest(&idx, &f, &[]).code, Some(0));
    assert_eq!(run(&["verify", "--index", s(&idx)]).code, Some(0));
    let seg = std::fs::read_dir(&idx)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "dcs"))
        .unwrap();
    let intact = std::fs::read(&seg).unwrap();
    let name = seg.file_name().unwrap().to_str().unwrap();
    // A flip in the time column (lazily checked: open succeeds, verify must not), then in
    // the header (open fails), then a truncation.
    let time_at = u64::from_le_bytes(intact[96..104].try_into().unwrap()) as usize;
    for (what, bytes) in [
        ("column", {
            let mut b = intact.clone();
            b[time_at + 3] ^= 0x10;
            b
        }),
        ("header", {
            let mut b = intact.clone();
            b[20] ^= 1;
            b
        }),
        ("truncated", intact[..intact.len() - 1].to_vec()),
    ] {
        std::fs::write(&seg, &bytes).unwrap();
        let r = run(&["verify", "--index", s(&idx)]);
        assert_eq!(r.code, Some(2), "{what}: {r:?}");
        assert!(r.stderr.contains(name), "{what}: {r:?}");
        assert!(r.stderr.contains("offset"), "{what}: {r:?}");
        let q = run(&[
            "query",
            "--index",
            s(&idx),
            "--from",
            "0",
            "--to",
            "4000000000000",
        ]);
        assert_eq!(q.code, Some(2), "{what}: query on a corrupt index: {q:?}");
    }
    std::fs::write(&seg, &intact).unwrap();
    let manifest = idx.join("MANIFEST");
    let mut m = std::fs::read(&manifest).unwrap();
    let last = m.len() - 1;
    m[last] ^= 4;
    std::fs::write(&manifest, &m).unwrap();
    let r = run(&["stats", "--index", s(&idx)]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("MANIFEST"), "{r:?}");
}

#[test]
fn summary_counts_add_up_and_rejects_file_has_the_contract_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let f = write(tmp.path(), "nasty.csv", NASTY);
    let r = ingest(&idx, &f, &[]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let [read, acc, dup, rej] = summary(&r.stderr);
    assert_eq!([read, acc, dup, rej], [8, 2, 1, 5], "{}", r.stderr);

    let dir = idx.join("rejects");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, rej);
    let mut at = Vec::new();
    for v in &lines {
        let o = v.as_object().unwrap();
        let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["file", "line", "raw", "reason"]);
        assert_eq!(o["file"], s(&f));
        assert!(!o["reason"].as_str().unwrap().is_empty());
        let line = o["line"].as_u64().unwrap();
        assert_eq!(o["raw"], NASTY.lines().nth(line as usize - 1).unwrap());
        at.push(line);
    }
    assert_eq!(at, [5, 6, 7, 8, 9]);

    // Again: everything accepted before is now a duplicate against the index.
    let r = ingest(&idx, &f, &[]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(summary(&r.stderr), [8, 0, 3, 5], "{}", r.stderr);
    let (generation, _) = contents(&idx).unwrap();
    assert_eq!(generation, 2);
}

#[test]
fn summary_adds_up_on_generated_files() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let mut model = Model::new();
    for seed in 0..3 {
        let data = rows(seed, 7, 300);
        let f = write(tmp.path(), &format!("g{seed}.csv"), &csv(&data));
        let r = ingest(&idx, &f, &["--batch-reports", "64"]);
        assert_eq!(r.code, Some(0), "{r:?}");
        let before = model.len() as u64;
        apply(&mut model, &data);
        let [read, acc, dup, rej] = summary(&r.stderr);
        assert_eq!(read, acc + dup + rej);
        assert_eq!((read, rej), (300, 0));
        assert_eq!(
            acc,
            model.len() as u64 - before,
            "accepted = new (id, time) pairs"
        );
    }
    assert_eq!(contents(&idx).unwrap().1, model);
}

#[test]
fn over_max_rejects_commits_nothing_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let good = write(tmp.path(), "good.csv", &csv(&rows(5, 3, 50)));
    assert_eq!(ingest(&idx, &good, &[]).code, Some(0));
    let before = contents(&idx).unwrap();
    let f = write(tmp.path(), "nasty.csv", NASTY);
    let r = ingest(&idx, &f, &["--max-rejects", "4"]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains("max-rejects"), "{r:?}");
    assert_eq!(contents(&idx).unwrap(), before, "something was committed");
    assert_eq!(leftovers(&idx), Vec::<String>::new());
    // At the limit it commits.
    let r = ingest(&idx, &f, &["--max-rejects", "5"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(contents(&idx).unwrap().0, before.0 + 1);
}
