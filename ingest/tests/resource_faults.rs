//! Resource faults: the disk fills up while a segment is written, and inputs that cannot be
//! read (no permission, a read error, a directory, a symlink loop). Each fails with a clear
//! message naming the path and exit code 1, and leaves the committed generation untouched.
//!
//! "Disk full" is simulated with `RLIMIT_FSIZE` (`ulimit -f` in a `bash` wrapper that also
//! ignores `SIGXFSZ`, so the write fails with `EFBIG` instead of killing the process): it needs
//! no root and no special filesystem, and fails the same `write` calls a full disk would.

mod util;

use std::path::Path;
use std::process::Command;

use util::{contents, csv, finish, leftovers, rows, run, s, write};

fn indexed(tmp: &Path) -> std::path::PathBuf {
    let idx = tmp.join("idx");
    let f = write(tmp, "first.csv", &csv(&rows(1, 5, 100)));
    let r = run(&["ingest", "--index", s(&idx), "--tracks", s(&f), "-q"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    idx
}

#[test]
fn disk_full_while_writing_a_segment_keeps_the_previous_generation() {
    if Command::new("bash").arg("-c").arg("true").status().is_err() {
        eprintln!("skipped: no bash to set RLIMIT_FSIZE");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let idx = indexed(tmp.path());
    let before = contents(&idx).unwrap();
    // ≈ 8000 reports ≈ 180 KB of segment: over the 64 KiB limit.
    let big = write(tmp.path(), "big.csv", &csv(&rows(2, 50, 8000)));
    let out = Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 64; exec \"$@\"")
        .arg("bash")
        .arg(env!("CARGO_BIN_EXE_deconflict"))
        .args(["ingest", "--index", s(&idx), "--tracks", s(&big), "-q"])
        .output()
        .unwrap();
    let r = finish(out);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(
        r.stderr.contains(".dcs"),
        "error does not name the segment: {r:?}"
    );
    assert!(r.stderr.to_lowercase().contains("file too large"), "{r:?}");
    assert_eq!(
        contents(&idx).unwrap(),
        before,
        "the committed generation changed"
    );
    assert_eq!(run(&["verify", "--index", s(&idx)]).code, Some(0));
    assert_eq!(
        leftovers(&idx),
        Vec::<String>::new(),
        "partial files left behind"
    );
    // With room again, the same ingest succeeds.
    let r = run(&["ingest", "--index", s(&idx), "--tracks", s(&big), "-q"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(contents(&idx).unwrap().0, before.0 + 1);
}

/// Runs an ingest of `input`, expecting exit 1, a message naming it and containing `what`,
/// and no new generation.
fn refused(idx: &Path, input: &str, what: &str) {
    let before = contents(idx).unwrap();
    let r = run(&["ingest", "--index", s(idx), "--tracks", input, "-q"]);
    assert_eq!(r.code, Some(1), "{input}: {r:?}");
    assert!(
        r.stderr.contains(input),
        "{input}: message does not name it: {r:?}"
    );
    assert!(r.stderr.contains(what), "{input}: expected {what:?}: {r:?}");
    assert_eq!(
        contents(idx).unwrap(),
        before,
        "{input}: generation changed"
    );
    assert_eq!(leftovers(idx), Vec::<String>::new());
}

#[test]
fn unreadable_inputs_exit_1_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = indexed(tmp.path());

    refused(&idx, s(tmp.path()), "is a directory");

    let (a, b) = (tmp.path().join("loop-a.csv"), tmp.path().join("loop-b.csv"));
    std::os::unix::fs::symlink(&a, &b).unwrap();
    std::os::unix::fs::symlink(&b, &a).unwrap();
    refused(&idx, s(&a), "symlink loop");

    refused(&idx, s(&tmp.path().join("absent.csv")), "no such file");

    // Opens, then fails on read (EIO): an I/O error in the middle of a file.
    if Path::new("/proc/self/mem").exists() {
        refused(&idx, "/proc/self/mem", "/proc/self/mem:");
    }

    use std::os::unix::fs::PermissionsExt;
    let secret = write(tmp.path(), "secret.csv", "id,time,lon,lat\nA,0,1,1\n");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&secret).is_err() {
        refused(&idx, s(&secret), "permission denied");
    } else {
        eprintln!("permission check skipped: running as root, mode 000 is readable");
    }
}
