//! Times and durations: never panic; formatted output parses back to the same instant.
#![no_main]
use deconflict_engine::time::{MAX_MS, MIN_MS, Timestamp, parse_duration_ms};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Timestamp::parse(s) {
        assert!(
            (MIN_MS..=MAX_MS).contains(&t.0),
            "{s:?} parsed out of range: {}",
            t.0
        );
        let out = t.to_string();
        assert_eq!(out.len(), 24, "{out}");
        assert_eq!(Timestamp::parse(&out), Ok(t), "{s:?} -> {out}");
        assert_eq!(Timestamp::parse(&t.0.to_string()), Ok(t));
    }
    if let Ok(ms) = parse_duration_ms(s) {
        assert!(ms >= 0, "{s:?} -> negative duration {ms}");
    }
    // Any i64 formats without panicking and, when in range, round-trips.
    if data.len() >= 8 {
        let ms = i64::from_le_bytes(data[..8].try_into().unwrap());
        if let Some(t) = Timestamp::from_ms(ms) {
            assert_eq!(Timestamp::parse(&t.to_string()), Ok(t));
        }
    }
});
