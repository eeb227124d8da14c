//! The manifest: which segments make up the current generation. It is the commit point of
//! the index: rewritten whole (temp file, fsync, rename, fsync directory) on every commit.
//!
//! ```text
//! off len field
//!   0   8 magic b"DCNFMAN\0"
//!   8   4 manifest format version (MANIFEST_VERSION), u32 LE
//!  12   4 body length, u32 LE
//!  16   4 crc32c of the body, u32 LE
//!  20   … body: bincode 2 (standard config) of `Manifest`
//! ```

use serde::{Deserialize, Serialize};

const MAGIC: [u8; 8] = *b"DCNFMAN\0";
/// Version of the manifest layout.
pub(crate) const MANIFEST_VERSION: u32 = 1;
const PREFIX: usize = 20;
/// Manifests larger than this are refused as corrupt (≈ 1 M segments).
const MAX_BODY: usize = 256 << 20;

/// One segment as the manifest knows it: enough to plan a query or a distributed partition
/// without opening the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SegmentMeta {
    /// File name inside the index directory.
    pub file: String,
    /// Generation that created the file.
    pub generation: u64,
    pub rows: u64,
    pub entities: u32,
    pub t_min: i64,
    pub t_max: i64,
    /// lon_min, lat_min, lon_max, lat_max of the reports, 1e-7 degree.
    pub bbox: [i32; 4],
    pub bytes: u64,
}

/// The committed state of an index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// Number of commits so far; 0 for an empty index.
    pub generation: u64,
    /// Segments visible at this generation.
    pub segments: Vec<SegmentMeta>,
    /// File holding the zones and operations of this generation, if any.
    pub objects: Option<String>,
    /// Counter for unique file names.
    pub next_file: u64,
}

/// Why manifest bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManifestError {
    pub offset: u64,
    pub reason: String,
}

impl Manifest {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let body = bincode::serde::encode_to_vec(self, bincode::config::standard())
            .expect("manifest encodes");
        let mut out = Vec::with_capacity(PREFIX + body.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&MANIFEST_VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let bad = |offset: u64, reason: &str| ManifestError {
            offset,
            reason: reason.to_owned(),
        };
        if bytes.len() < PREFIX {
            return Err(bad(bytes.len() as u64, "manifest truncated"));
        }
        if bytes[..8] != MAGIC {
            return Err(bad(0, "bad manifest magic"));
        }
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        if word(8) != MANIFEST_VERSION {
            return Err(bad(
                8,
                &format!("manifest version {} not supported", word(8)),
            ));
        }
        let len = word(12) as usize;
        if len > MAX_BODY || bytes.len() != PREFIX + len {
            return Err(bad(12, "manifest length mismatch (truncated or extended)"));
        }
        let body = &bytes[PREFIX..];
        if crc32c::crc32c(body) != word(16) {
            return Err(bad(16, "manifest checksum mismatch"));
        }
        let config = bincode::config::standard().with_limit::<MAX_BODY>();
        let (m, used): (Manifest, usize) = bincode::serde::decode_from_slice(body, config)
            .map_err(|e| bad(PREFIX as u64, &format!("manifest body: {e}")))?;
        if used != body.len() {
            return Err(bad(
                (PREFIX + used) as u64,
                "trailing bytes after manifest body",
            ));
        }
        for s in &m.segments {
            if !is_plain_file_name(&s.file) {
                return Err(bad(
                    PREFIX as u64,
                    "segment file name is not a plain file name",
                ));
            }
        }
        if m.objects.as_deref().is_some_and(|f| !is_plain_file_name(f)) {
            return Err(bad(
                PREFIX as u64,
                "objects file name is not a plain file name",
            ));
        }
        Ok(m)
    }
}

/// A name that stays inside the index directory.
fn is_plain_file_name(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            generation: 3,
            segments: vec![SegmentMeta {
                file: "seg-000001-0000.dcs".into(),
                generation: 1,
                rows: 10,
                entities: 2,
                t_min: -5,
                t_max: 99,
                bbox: [-1, -2, 3, 4],
                bytes: 4096,
            }],
            objects: Some("objects-000003.bin".into()),
            next_file: 7,
        }
    }

    #[test]
    fn round_trips() {
        let m = sample();
        assert_eq!(Manifest::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn every_flip_and_truncation_is_caught() {
        let bytes = sample().encode();
        for i in 0..bytes.len() {
            assert!(Manifest::decode(&bytes[..i]).is_err());
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                assert!(Manifest::decode(&b).is_err(), "flip {i}:{bit} accepted");
            }
        }
    }

    #[test]
    fn refuses_paths_outside_the_directory() {
        let mut m = sample();
        m.segments[0].file = "../etc/passwd".into();
        assert!(Manifest::decode(&m.encode()).is_err());
    }
}
