//! Writes a scenario's tracks for profiling the ingest:
//! `write_tracks OUT.csv ENTITIES [rfc3339|ndjson]`.

use std::fs::File;
use std::io::BufWriter;

use deconflict_ingest::generate::{GenConfig, TimeFormat, scenario};

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("OUT path");
    let entities = args.next().and_then(|e| e.parse().ok()).unwrap_or(300);
    let s = scenario(&GenConfig {
        entities,
        ..GenConfig::default()
    });
    let w = BufWriter::new(File::create(&out).expect("create"));
    let rows = match args.next().as_deref() {
        Some("rfc3339") => s.write_tracks_csv_with(w, TimeFormat::Rfc3339),
        Some("ndjson") => s.write_tracks_ndjson(w),
        _ => s.write_tracks_csv_with(w, TimeFormat::EpochMs),
    }
    .expect("write");
    println!("{rows} rows to {out}");
}
