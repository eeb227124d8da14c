//! The only `unsafe` in the project: mapping an immutable segment file read-only.
//!
//! Everything else reads the mapped bytes as a plain `&[u8]` and validates them before use.
#![expect(
    unsafe_code,
    reason = "memory-mapping a file is inherently unsafe; this module is the one place it happens"
)]

use std::fs::File;
use std::path::Path;

use crate::error::{Error, Result};

/// A read-only mapping of a whole file (or, for fuzzing and tests, bytes held in memory).
#[derive(Debug)]
pub(crate) struct Mapped {
    map: Storage,
}

#[derive(Debug)]
enum Storage {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Mapped {
    /// Maps `file` (opened from `path`) read-only.
    pub(crate) fn open(path: &Path) -> Result<Mapped> {
        let file = File::open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::corrupt(path, None, "segment file listed in the manifest is missing")
            } else {
                Error::io(path, e)
            }
        })?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len == 0 {
            return Err(Error::corrupt(path, Some(0), "empty file"));
        }
        // Segment files are immutable by protocol: they are written completely and fsynced
        // before any manifest names them, and no code of this project ever writes to,
        // truncates or renames over a committed segment (compaction writes new files; old ones
        // are only unlinked, which on Linux leaves existing mappings intact). The mapping is
        // read-only, and every byte read from it is validated before it is trusted, so even a
        // file altered by a foreign process cannot make safe code read out of bounds.
        // SAFETY: the mapped file is never modified while mapped (see above).
        let mapped = unsafe { memmap2::MmapOptions::new().map(&file) };
        let map = mapped.map_err(|e| Error::io(path, e))?;
        // A hint, so its failure (a kernel without transparent huge pages) is of no consequence:
        // pages this mapping faults in from disk are read as 2 MiB folios where the file system
        // can (ext4 and XFS on recent kernels), mapped by one TLB entry each instead of 512. A
        // window query at 100 M reports touches lines in a few hundred 4 KiB pages of a 2.3 GiB
        // file; with huge pages their translations stay cached (benches/RESULTS.md, session 11).
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        Ok(Mapped {
            map: Storage::Map(map),
        })
    }

    /// Bytes held in memory, validated exactly like a mapped file (fuzzing, tests).
    pub(crate) fn from_vec(bytes: Vec<u8>) -> Mapped {
        Mapped {
            map: Storage::Owned(bytes),
        }
    }

    /// The mapped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        match &self.map {
            Storage::Map(m) => m,
            Storage::Owned(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "Miri does not support file-backed memory mappings")]
    fn maps_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello segment").unwrap();
        assert_eq!(Mapped::open(&p).unwrap().bytes(), b"hello segment");
    }

    #[test]
    fn in_memory_bytes_are_served_unchanged() {
        let m = Mapped::from_vec(b"segment bytes".to_vec());
        assert_eq!(m.bytes(), b"segment bytes");
    }

    #[test]
    fn refuses_empty_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty");
        std::fs::write(&p, b"").unwrap();
        assert!(matches!(Mapped::open(&p), Err(Error::Corrupt { .. })));
        assert!(Mapped::open(&dir.path().join("missing")).is_err());
    }
}
