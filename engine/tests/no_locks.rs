//! The query path is lock-free: no Mutex, RwLock or blocking lock may appear in the modules
//! that readers run. (The writer lock in `index/dir.rs` serialises writers only.)

use std::path::Path;

const QUERY_PATH: &[&str] = &[
    "src/engine.rs",
    "src/snapshot.rs",
    "src/seams.rs",
    "src/trajectory.rs",
    "src/query",
    "src/segment",
    "src/deconflict",
];

fn sources(p: &Path, out: &mut Vec<std::path::PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            sources(&e.unwrap().path(), out);
        }
    } else if p.extension().is_some_and(|e| e == "rs") {
        out.push(p.to_owned());
    }
}

#[test]
fn no_lock_on_the_query_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for p in QUERY_PATH {
        sources(&root.join(p), &mut files);
    }
    assert!(files.len() >= 8, "query modules not found: {files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for banned in ["Mutex", "RwLock", "Condvar", ".lock()", "parking_lot"] {
                assert!(
                    !code.contains(banned),
                    "{}:{}: `{banned}` on the query path",
                    f.display(),
                    n + 1
                );
            }
        }
    }
}
