//! Paths, the writer lock, atomic manifest commits and cleanup of files no manifest names.
//!
//! Layout of an index directory:
//! ```text
//! DIR/MANIFEST              the commit point (see manifest.rs)
//! DIR/LOCK                  advisory lock serialising writers (ingest, compact)
//! DIR/seg-GGGGGG-NNNNNN.dcs segment files (format.rs)
//! DIR/objects-GGGGGG.bin    zones and operations of a generation
//! DIR/rejects/*.ndjson      rejected input rows
//! DIR/*.tmp                 unfinished writes; ignored by readers, removed by the next writer
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::manifest::Manifest;
use crate::error::{Error, Result};

const MANIFEST: &str = "MANIFEST";

/// Crash-test hook: aborts the process (no unwinding, no destructors, like a SIGKILL) when
/// the environment variable `DECONFLICT_CRASH_AT` equals `name`. Phases, in commit order:
/// `segment-written`, `segment-synced`, `before-manifest-write`, `manifest-tmp-synced`,
/// `after-rename`. Used by `ingest/tests/crash.rs`; costs one env lookup per phase.
#[doc(hidden)]
pub fn crash_point(name: &str) {
    if std::env::var_os("DECONFLICT_CRASH_AT").is_some_and(|v| v == name) {
        std::process::abort();
    }
}
const LOCK: &str = "LOCK";

/// An index directory.
#[derive(Debug, Clone)]
pub(crate) struct IndexDir {
    path: PathBuf,
}

/// Held while a writer works; dropping it releases the advisory lock.
#[derive(Debug)]
pub(crate) struct WriterLock {
    _file: File,
}

impl IndexDir {
    pub(crate) fn new(path: &Path) -> IndexDir {
        IndexDir {
            path: path.to_owned(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub(crate) fn manifest_path(&self) -> PathBuf {
        self.file(MANIFEST)
    }

    /// Creates the directory and an empty manifest if there is none yet.
    pub(crate) fn create(&self) -> Result<()> {
        fs::create_dir_all(&self.path).map_err(|e| Error::io(&self.path, e))?;
        if !self.manifest_path().exists() {
            let _lock = self.lock(|| {})?;
            if !self.manifest_path().exists() {
                self.commit_manifest(&Manifest::default())?;
            }
        }
        Ok(())
    }

    /// Reads the committed manifest; `Error::NotFound` when there is none.
    pub(crate) fn read_manifest(&self) -> Result<Manifest> {
        let path = self.manifest_path();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound(self.path.clone()));
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        Manifest::decode(&bytes).map_err(|e| Error::corrupt(&path, Some(e.offset), e.reason))
    }

    /// Takes the writer lock, calling `waiting` once first if another writer holds it.
    pub(crate) fn lock(&self, waiting: impl FnOnce()) -> Result<WriterLock> {
        let path = self.file(LOCK);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                waiting();
                file.lock().map_err(|e| Error::io(&path, e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        Ok(WriterLock { _file: file })
    }

    /// Writes `bytes` to `name` atomically: temp file, fsync, rename, fsync directory.
    pub(crate) fn write_atomic(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let tmp = self.file(&format!("{name}.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&tmp);
            return Err(Error::io(&tmp, e));
        }
        crash_point("manifest-tmp-synced");
        let target = self.file(name);
        fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
        crash_point("after-rename");
        self.sync_dir()
    }

    /// Commits a manifest: after this returns, the generation is durable.
    pub(crate) fn commit_manifest(&self, m: &Manifest) -> Result<()> {
        self.write_atomic(MANIFEST, &m.encode())
    }

    /// Fsyncs the directory itself, making renames and new files durable.
    pub(crate) fn sync_dir(&self) -> Result<()> {
        File::open(&self.path)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(&self.path, e))
    }

    /// Removes temporary files and segment/object files the manifest does not name. Call only
    /// while holding the writer lock. Readers in other processes that still map a removed
    /// segment keep reading it: on Linux an unlinked file lives until its last mapping goes.
    pub(crate) fn cleanup(&self, m: &Manifest) -> Result<usize> {
        let live: std::collections::HashSet<&str> = m
            .segments
            .iter()
            .map(|s| s.file.as_str())
            .chain(m.objects.as_deref())
            .collect();
        let mut removed = 0;
        let entries = fs::read_dir(&self.path).map_err(|e| Error::io(&self.path, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let ours = name.ends_with(".tmp")
                || (name.starts_with("seg-") && name.ends_with(".dcs"))
                || (name.starts_with("objects-") && name.ends_with(".bin"));
            if ours && !live.contains(name) && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
