//! Ingest end to end — file → parse/validate → segments → committed generation — for CSV with
//! epoch-ms times, CSV with RFC 3339 times and NDJSON, beside a single-threaded parse-only pass
//! over the same CSV with the `csv` crate (`ByteRecord`, numeric fields parsed): the practical
//! ceiling. Files come from the project's scenario generator and sit in the page cache.
//!
//! `DECONFLICT_INGEST_ENTITIES=300 cargo bench -p deconflict-benches --bench ingest`
//! (300 entities × 1 h × 1 report/s ≈ 0.9 M rows, the generator's default).

use std::fs::File;
use std::hint::black_box;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use criterion::{BatchSize, Criterion, Throughput};
use deconflict_benches::env_u64;
use deconflict_engine::time::Timestamp;
use deconflict_ingest::generate::{GenConfig, TimeFormat, scenario};
use deconflict_ingest::pipeline::{IngestOptions, NoProgress, ingest};

/// Parses every row of a tracks CSV as the ceiling does: tokenise, then the numbers (and the
/// time, as epoch ms or RFC 3339). Returns rows and a checksum so nothing is optimised away.
fn parse_only(path: &Path, rfc3339: bool) -> (u64, i64) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .expect("open csv");
    let mut rec = csv::ByteRecord::new();
    let (mut rows, mut sum) = (0u64, 0i64);
    let num = |b: &[u8]| -> f64 {
        std::str::from_utf8(b)
            .expect("utf8")
            .parse::<f64>()
            .expect("number")
    };
    while rdr.read_byte_record(&mut rec).expect("read") {
        let id = std::str::from_utf8(&rec[0]).expect("utf8 id");
        let side = std::str::from_utf8(&rec[1]).expect("utf8 side");
        let t_text = std::str::from_utf8(&rec[2]).expect("utf8 time");
        let t = if rfc3339 {
            Timestamp::parse(t_text).expect("time").0
        } else {
            t_text.parse::<i64>().expect("time")
        };
        let lon = num(&rec[3]);
        let lat = num(&rec[4]);
        let alt = if rec[5].is_empty() { 0.0 } else { num(&rec[5]) };
        sum = sum.wrapping_add(t ^ (lon + lat + alt) as i64 ^ (id.len() + side.len()) as i64);
        rows += 1;
    }
    (rows, sum)
}

fn main() {
    let entities = env_u64("DECONFLICT_INGEST_ENTITIES", 300) as usize;
    let s = scenario(&GenConfig {
        entities,
        ..GenConfig::default()
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    let write =
        |name: &str, f: &dyn Fn(BufWriter<File>) -> std::io::Result<u64>| -> (PathBuf, u64) {
            let p = tmp.path().join(name);
            let rows = f(BufWriter::new(File::create(&p).expect("create"))).expect("write");
            (p, rows)
        };
    let (epoch, rows) = write("tracks-epoch.csv", &|w| {
        s.write_tracks_csv_with(w, TimeFormat::EpochMs)
    });
    let (rfc, _) = write("tracks-rfc3339.csv", &|w| {
        s.write_tracks_csv_with(w, TimeFormat::Rfc3339)
    });
    let (ndjson, _) = write("tracks.ndjson", &|w| s.write_tracks_ndjson(w));
    for p in [&epoch, &rfc, &ndjson] {
        eprintln!(
            "{}: {rows} rows, {} bytes",
            p.display(),
            std::fs::metadata(p).map_or(0, |m| m.len())
        );
    }

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group(format!("ingest_{rows}"));
    g.throughput(Throughput::Elements(rows));
    for (name, file) in [
        ("csv_epoch_ms", &epoch),
        ("csv_rfc3339", &rfc),
        ("ndjson", &ndjson),
    ] {
        g.bench_function(format!("deconflict_ingest/{name}"), |b| {
            b.iter_batched(
                || tempfile::tempdir_in(tmp.path()).expect("index dir"),
                |dir| {
                    let mut opts = IngestOptions::new(&dir.path().join("idx"));
                    opts.tracks = vec![file.display().to_string()];
                    let sum = ingest(&opts, &NoProgress).expect("ingest");
                    assert_eq!(sum.accepted + sum.duplicates, rows);
                    dir // removed after timing
                },
                BatchSize::PerIteration,
            );
        });
    }
    for (name, file, rfc3339) in [("csv_epoch_ms", &epoch, false), ("csv_rfc3339", &rfc, true)] {
        g.bench_function(format!("csv_parse_only_1thread/{name}"), |b| {
            b.iter(|| {
                let (n, sum) = parse_only(file, rfc3339);
                assert_eq!(n, rows);
                black_box(sum)
            });
        });
    }
    g.finish();
    c.final_summary();
}
