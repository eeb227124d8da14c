//! Segment bytes: opening, verifying and querying never panic or hang. The first input byte
//! selects a mode: odd = re-seal every checksum first (reaching the structural checks behind
//! them); the rest of the input is the file.
#![no_main]
use deconflict_engine::fuzzing::{exercise, fix_checksums, open_segment_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, file)) = data.split_first() else {
        return;
    };
    let mut file = file.to_vec();
    if mode & 1 == 1 {
        fix_checksums(&mut file);
    }
    if let Ok(snap) = open_segment_bytes(&file) {
        exercise(&snap);
    }
});
