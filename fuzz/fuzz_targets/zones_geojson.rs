//! Zones GeoJSON: never panic; every object is accepted or rejected once, on a real line.
#![no_main]
use deconflict_ingest::parse_objects::parse_zones;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = parse_zones("fuzz.geojson", &text) {
        assert_eq!(p.read, (p.items.len() + p.rejects.len()) as u64);
        let lines = text.lines().count().max(1) as u64;
        for r in &p.rejects {
            assert!(r.line >= 1 && r.line <= lines, "line {} of {lines}", r.line);
        }
    }
});
