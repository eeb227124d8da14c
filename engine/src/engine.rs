//! The engine: an index directory and the current snapshot, published without locks.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::error::{Error, Result};
use crate::index::{IndexDir, Manifest, Objects};
use crate::segment::Segment;
use crate::snapshot::Snapshot;
use crate::write::Writer;

/// An open index. Readers call [`Engine::snapshot`] (lock-free) and query the snapshot; a
/// writer builds a generation with [`Engine::writer`] and publishes it on commit.
///
/// ```
/// use deconflict_engine::{Engine, ReportBatch};
/// use deconflict_engine::model::Report;
/// use deconflict_engine::time::{Timestamp, TimeRange};
/// let dir = tempfile::tempdir().unwrap();
/// let engine = Engine::create(dir.path()).unwrap();
/// let mut w = engine.writer().unwrap();
/// let mut batch = ReportBatch::new();
/// batch.push(&Report::new("BLUE-1", "blue", Timestamp(0), 36.0, 35.0, Some(3000.0)).unwrap()).unwrap();
/// w.add(batch).unwrap();
/// w.commit().unwrap();
/// let snap = engine.snapshot();
/// assert_eq!(snap.track("BLUE-1", TimeRange::ALL).unwrap().count(), 1);
/// ```
#[derive(Debug)]
pub struct Engine {
    dir: IndexDir,
    // The one place state is shared between readers and writers. Readers `load_full` it once
    // per unit of work and never wait; writers `store` a complete new snapshot. No Mutex or
    // RwLock is used on any query path.
    current: ArcSwap<Snapshot>,
}

impl Engine {
    /// Opens an existing index; `Error::NotFound` if the directory has no manifest.
    pub fn open(path: &Path) -> Result<Engine> {
        let dir = IndexDir::new(path);
        let snap = load_snapshot(&dir, None)?;
        Ok(Engine {
            dir,
            current: ArcSwap::from_pointee(snap),
        })
    }

    /// Opens the index at `path`, creating an empty one if there is none.
    pub fn create(path: &Path) -> Result<Engine> {
        IndexDir::new(path).create()?;
        Engine::open(path)
    }

    pub(crate) fn dir(&self) -> &IndexDir {
        &self.dir
    }

    /// The index directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The current snapshot: one atomic load, never blocks.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    pub(crate) fn publish(&self, snap: Arc<Snapshot>) {
        self.current.store(snap);
    }

    /// Picks up generations committed by other processes. Cheap when nothing changed (one
    /// small file read). Returns true when a newer generation was loaded.
    pub fn refresh(&self) -> Result<bool> {
        let cur = self.snapshot();
        let manifest = self.dir.read_manifest()?;
        if manifest.generation == cur.generation() {
            return Ok(false);
        }
        let snap = load_snapshot_from(&self.dir, manifest, Some(&cur))?;
        self.publish(Arc::new(snap));
        Ok(true)
    }

    /// Starts a new generation, waiting for any other writer on this index (in any process).
    pub fn writer(&self) -> Result<Writer<'_>> {
        self.writer_with_notice(|| {})
    }

    /// Like [`Engine::writer`], calling `waiting` once before blocking if another writer
    /// holds the index.
    pub fn writer_with_notice(&self, waiting: impl FnOnce()) -> Result<Writer<'_>> {
        let lock = self.dir.lock(waiting)?;
        self.refresh()?;
        let base = self.snapshot();
        let _ = self.dir.cleanup(base.manifest());
        Ok(Writer::new(self, lock, base))
    }
}

/// A background thread keeping an [`Engine`] fresh (see [`Engine::watch`]). Dropping it stops
/// the thread.
#[derive(Debug)]
pub struct Watcher {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Engine {
    /// Starts a thread that calls [`Engine::refresh`] every `interval`, so that generations
    /// committed by other processes appear without the readers asking. Refresh errors (say, a
    /// manifest being replaced at that instant) are retried at the next tick; readers keep the
    /// last good snapshot meanwhile.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use deconflict_engine::Engine;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = Arc::new(Engine::create(dir.path()).unwrap());
    /// let watcher = engine.watch(Duration::from_millis(200));
    /// // … answer queries from any thread with engine.snapshot() …
    /// drop(watcher); // stops the thread
    /// ```
    pub fn watch(self: &Arc<Self>, interval: std::time::Duration) -> Watcher {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (engine, flag) = (Arc::clone(self), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("deconflict-refresh".into())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = engine.refresh();
                    std::thread::park_timeout(interval);
                }
            })
            .expect("spawn refresh thread");
        Watcher {
            stop,
            thread: Some(thread),
        }
    }

    /// Background compaction: when more than `max_segments` segments have piled up, merges
    /// them by the tiered policy ([`Writer::compact_tiered`] with fan-out 4, segments of at
    /// most `max_rows` reports), and if that leaves more than `max_segments`, packs them all
    /// ([`Writer::compact`]). Returns the new snapshot when it compacted. Readers are never
    /// blocked; other writers wait for the lock.
    pub fn compact_if_needed(
        &self,
        max_segments: usize,
        max_rows: usize,
    ) -> Result<Option<Arc<Snapshot>>> {
        if self.snapshot().segment_infos().len() <= max_segments {
            return Ok(None);
        }
        let mut w = self.writer()?;
        let before = w.base().segment_infos().len();
        if before <= max_segments {
            return Ok(None);
        }
        let mut outcome = w.compact_tiered(4, max_rows)?;
        if before - outcome.merged + outcome.written > max_segments {
            drop(w);
            w = self.writer()?;
            outcome = w.compact(max_rows)?;
        }
        if outcome.merged == 0 {
            return Ok(None);
        }
        w.commit().map(Some)
    }
}

/// Reads the manifest and opens its segments; retries when a segment vanished because a
/// concurrent compaction replaced it between the manifest read and the open.
fn load_snapshot(dir: &IndexDir, reuse: Option<&Snapshot>) -> Result<Snapshot> {
    let manifest = dir.read_manifest()?;
    load_snapshot_from(dir, manifest, reuse)
}

fn load_snapshot_from(
    dir: &IndexDir,
    mut manifest: Manifest,
    reuse: Option<&Snapshot>,
) -> Result<Snapshot> {
    let open: HashMap<&str, &Arc<Segment>> = reuse
        .map(|s| {
            s.manifest()
                .segments
                .iter()
                .map(|m| m.file.as_str())
                .zip(s.segments())
                .collect()
        })
        .unwrap_or_default();
    let mut attempts = 0;
    loop {
        let mut segments = Vec::with_capacity(manifest.segments.len());
        let mut vanished = false;
        for meta in &manifest.segments {
            if let Some(s) = open.get(meta.file.as_str()) {
                segments.push(Arc::clone(s));
                continue;
            }
            let path = dir.file(&meta.file);
            if !path.exists() && attempts < 5 {
                vanished = true;
                break;
            }
            let seg = Segment::open(&path)?;
            if seg.rows() as u64 != meta.rows || seg.file_len() != meta.bytes {
                return Err(Error::corrupt(
                    &path,
                    None,
                    "segment disagrees with the manifest",
                ));
            }
            segments.push(Arc::new(seg));
        }
        if !vanished {
            let objects = match (&manifest.objects, reuse) {
                (None, _) => Arc::new(Objects::default()),
                (Some(f), Some(r)) if r.manifest().objects.as_ref() == Some(f) => {
                    Arc::clone(r.objects())
                }
                (Some(f), _) => {
                    let path = dir.file(f);
                    if !path.exists() && attempts < 5 {
                        attempts += 1;
                        manifest = dir.read_manifest()?;
                        continue;
                    }
                    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
                    Arc::new(
                        Objects::decode(&bytes)
                            .map_err(|(off, why)| Error::corrupt(&path, Some(off), why))?,
                    )
                }
            };
            return Ok(Snapshot::new(dir.path(), manifest, segments, objects));
        }
        attempts += 1;
        manifest = dir.read_manifest()?;
    }
}
