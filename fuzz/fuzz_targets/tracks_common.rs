// Shared by csv_records and ndjson_lines (included with `include!`).

use std::io::Cursor;

use deconflict_ingest::parse::{ParsedChunk, ReadConfig, read_tracks_with};
use deconflict_ingest::source::Source;

/// Every row read is accepted or rejected exactly once, with a line inside the input, and the
/// outcome does not depend on the chunk size.
fn check_tracks(name: &str, data: &[u8]) {
    // Reports and rejects separately: a chunk lists its reports, then its rejects.
    let outcome = |chunks: Vec<ParsedChunk>| {
        let (mut rows, mut rejects) = (Vec::new(), Vec::new());
        for c in chunks {
            assert_eq!(c.read, (c.reports.len() + c.rejects.len()) as u64);
            for r in c.reports {
                r.validate().expect("accepted reports are valid");
                rows.push(format!("ok {} {} {} {} {:?} {}", r.id, r.time.0, r.lon, r.lat, r.alt, r.side));
            }
            for r in c.rejects {
                let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                assert!(r.line >= 1 && r.line <= lines, "reject line {} of {lines}", r.line);
                assert!(!r.reason.is_empty());
                rejects.push(format!("rej {} {}", r.line, r.reason));
            }
        }
        (rows, rejects)
    };
    let src = || Source::from_reader(name, Cursor::new(data.to_vec())).expect("in-memory source");
    let mut whole = Vec::new();
    // Whole input in one chunk (inputs are at most 64 KiB), then tiny chunks on two workers.
    let a = read_tracks_with(ReadConfig { chunk_size: 1 << 17 }, vec![src()], 1, |c| {
        whole.push(c);
        Ok::<(), ()>(())
    });
    let mut small = Vec::new();
    let b = read_tracks_with(ReadConfig { chunk_size: 7 }, vec![src()], 2, |c| {
        small.push(c);
        Ok::<(), ()>(())
    });
    match (a, b) {
        (Ok(()), Ok(())) => assert_eq!(outcome(whole), outcome(small), "chunking changed the result"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("chunking changed success: {:?} vs {:?}", a.is_ok(), b.is_ok()),
    }
}
