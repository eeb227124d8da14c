//! CSV track files: never panic; rows accepted or rejected once; chunking changes nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;

include!("tracks_common.rs");

fuzz_target!(|data: &[u8]| check_tracks("fuzz.csv", data));
