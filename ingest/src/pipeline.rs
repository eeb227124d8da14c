//! The ingest pipeline: read → parse/validate → batch → build segments → commit.
//!
//! Stages and threads:
//! 1. a reader thread cuts each input into ~4 MiB chunks at record boundaries;
//! 2. `workers` parser threads turn chunks into reports and rejects (in parallel);
//! 3. the calling thread receives parsed chunks **in input order**, writes rejects, and fills
//!    a [`ReportBatch`];
//! 4. a builder thread sorts each full batch, drops (id, time) repeats against the index and
//!    earlier batches, and writes it as a segment, while stages 1–3 keep going.
//!
//! All channels are bounded, so memory stays within a fixed budget whatever the input size:
//! at most three batches exist at once (one filling, one queued, one being written), each
//! `batch_reports × 32` bytes, plus a few chunks in flight — about 1 GiB with the default
//! 8 M-report batches, whatever the input size. Nothing becomes visible until the final commit.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use deconflict_engine::model::Report;
use deconflict_engine::{AddOutcome, Engine, ReportBatch};

use crate::error::IngestError;
use crate::parse::{ParsedChunk, read_tracks};
use crate::parse_objects::{parse_operations, parse_zones};
use crate::reject::{Reject, RejectWriter};
use crate::source::open_source;

/// Reports per segment by default (≈ 256 MiB of rows in memory per batch).
pub const DEFAULT_BATCH_REPORTS: usize = 8 << 20;

/// What to ingest, and how.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Index directory (created if missing).
    pub index: PathBuf,
    /// Track files, `-` for stdin.
    pub tracks: Vec<String>,
    /// Zone files (GeoJSON).
    pub zones: Vec<String>,
    /// Operation files (JSON or NDJSON).
    pub operations: Vec<String>,
    /// Commit nothing when more rows than this are rejected.
    pub max_rejects: Option<u64>,
    /// Parser threads.
    pub workers: usize,
    /// Reports per segment: the memory budget's unit.
    pub batch_reports: usize,
    /// After committing, compact when the index has more segments than this.
    pub compact_above: Option<usize>,
}

impl IngestOptions {
    /// Options for `index` with defaults: all cores, default batch size, no reject limit.
    pub fn new(index: &Path) -> IngestOptions {
        IngestOptions {
            index: index.to_owned(),
            tracks: Vec::new(),
            zones: Vec::new(),
            operations: Vec::new(),
            max_rejects: None,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            batch_reports: DEFAULT_BATCH_REPORTS,
            compact_above: None,
        }
    }
}

/// Counts of zones or operations in one ingest. `read == accepted + rejected`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectCounts {
    /// Objects read.
    pub read: u64,
    /// Objects accepted (new or replacing).
    pub accepted: u64,
    /// Accepted objects whose id was already in the index: they replace it.
    pub replaced: u64,
    /// Objects rejected.
    pub rejected: u64,
}

/// Counts of one ingest. For track rows, always `read == accepted + duplicates + rejected`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// Zones.
    pub zones: ObjectCounts,
    /// Operations.
    pub operations: ObjectCounts,
    /// Rows read.
    pub read: u64,
    /// Rows now in the index.
    pub accepted: u64,
    /// Rows collapsed into an earlier one with the same (id, time).
    pub duplicates: u64,
    /// Rows rejected (see the rejects file).
    pub rejected: u64,
    /// The generation committed (None when nothing was committed).
    pub generation: Option<u64>,
    /// The generation written by the compaction that followed, if one ran.
    pub compacted_to: Option<u64>,
    /// Where the rejected rows were written, if any.
    pub rejects_file: Option<PathBuf>,
    /// Wall time.
    pub elapsed: Duration,
}

impl std::fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "read {}, accepted {}, duplicates {}, rejected {}",
            self.read, self.accepted, self.duplicates, self.rejected
        )
    }
}

/// Receives progress: rows read so far.
pub trait Progress: Sync {
    /// Called after each parsed chunk with the running totals.
    fn rows(&self, read: u64, rejected: u64);
    /// Called when the ingest waits for another writer.
    fn waiting(&self, index: &Path);
}

/// No progress output.
pub struct NoProgress;

impl Progress for NoProgress {
    fn rows(&self, _: u64, _: u64) {}
    fn waiting(&self, _: &Path) {}
}

/// Sends the vector to another thread to be freed when dropped (or frees it here if that
/// thread is gone).
struct DropElsewhere<'a>(
    Option<Vec<Report>>,
    &'a crossbeam_channel::Sender<Vec<Report>>,
);

impl Drop for DropElsewhere<'_> {
    fn drop(&mut self) {
        if let Some(v) = self.0.take() {
            let _ = self.1.send(v);
        }
    }
}

/// Ingests the files named in `opts` into a new generation.
pub fn ingest(opts: &IngestOptions, progress: &dyn Progress) -> Result<IngestSummary, IngestError> {
    let started = Instant::now();
    let engine = Engine::create(&opts.index).map_err(IngestError::Engine)?;
    let mut writer = engine
        .writer_with_notice(|| progress.waiting(&opts.index))
        .map_err(IngestError::Engine)?;
    let generation = writer.generation();
    let mut summary = IngestSummary::default();
    let zones = read_objects(&opts.zones, parse_zones, &mut summary.zones)?;
    let operations = read_objects(&opts.operations, parse_operations, &mut summary.operations)?;
    let sources = opts
        .tracks
        .iter()
        .map(|t| open_source(t))
        .collect::<Result<Vec<_>, _>>()?;

    let rejects_path = opts.index.join("rejects").join(format!(
        "generation-{generation:06}-{}.ndjson",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    ));
    let mut rejects = LazyRejects::new(rejects_path);
    for r in zones.1.iter().chain(&operations.1) {
        rejects.write(r)?;
    }
    summary.rejected = summary.zones.rejected + summary.operations.rejected;
    let max_rejects = opts.max_rejects;

    let outcome = std::thread::scope(|s| {
        let (tx, rx) = crossbeam_channel::bounded::<ReportBatch>(1);
        let builder = s.spawn(move || -> Result<_, IngestError> {
            let mut total = AddOutcome::default();
            for batch in rx {
                let o = writer.add(batch).map_err(IngestError::Engine)?;
                total.accepted += o.accepted;
                total.duplicates += o.duplicates;
            }
            Ok((writer, total))
        });
        // Freeing a chunk's reports (two strings each) is a third of the calling thread's
        // work per row: hand the spent vectors to a thread of their own, off the path that
        // feeds the batch.
        let (spent_tx, spent_rx) = crossbeam_channel::bounded::<Vec<Report>>(4);
        s.spawn(move || spent_rx.into_iter().for_each(drop));
        let mut batch = ReportBatch::with_capacity(opts.batch_reports.min(1 << 20));
        let read = read_tracks(
            sources,
            opts.workers.max(1),
            |chunk: ParsedChunk| -> Result<(), IngestError> {
                summary.read += chunk.read;
                for r in chunk.rejects {
                    summary.rejected += 1;
                    rejects.write(&r)?;
                }
                let spent = &spent_tx;
                let _spent = DropElsewhere(Some(chunk.reports), spent);
                for r in _spent.0.iter().flatten() {
                    if let Err(e) = batch.push(r) {
                        // Parsers validate already; this only fires if the engine's rules are stricter.
                        summary.rejected += 1;
                        rejects.write(&Reject {
                            file: opts.tracks.get(chunk.file).cloned().unwrap_or_default(),
                            line: 0,
                            reason: e.to_string(),
                            raw: String::new(),
                        })?;
                    }
                }
                if max_rejects.is_some_and(|m| summary.rejected > m) {
                    return Err(IngestError::TooManyRejects {
                        rejected: summary.rejected,
                        max: max_rejects.unwrap_or(0),
                    });
                }
                progress.rows(summary.read, summary.rejected);
                if batch.len() >= opts.batch_reports {
                    let full = std::mem::replace(
                        &mut batch,
                        ReportBatch::with_capacity(opts.batch_reports.min(1 << 20)),
                    );
                    tx.send(full).map_err(|_| IngestError::BuilderStopped)?;
                }
                Ok(())
            },
        );
        let sent = read.map_err(IngestError::from).and_then(|()| {
            if batch.is_empty() {
                Ok(())
            } else {
                tx.send(std::mem::take(&mut batch))
                    .map_err(|_| IngestError::BuilderStopped)
            }
        });
        drop(tx);
        let built = builder.join().expect("builder thread panicked");
        match (sent, built) {
            // The builder's own error explains a stopped channel better.
            (Err(IngestError::BuilderStopped), Err(e)) | (Ok(()), Err(e)) => Err(e),
            (Err(e), _) => Err(e),
            (Ok(()), Ok(o)) => Ok(o),
        }
    });
    summary.rejects_file = rejects.finish()?;
    let (mut writer, outcome) = outcome?;
    if let Some(max) = max_rejects
        && summary.rejected > max
    {
        return Err(IngestError::TooManyRejects {
            rejected: summary.rejected,
            max,
        });
    }
    summary.accepted = outcome.accepted;
    summary.duplicates = outcome.duplicates;
    if !zones.0.is_empty() {
        summary.zones.replaced = writer.upsert_zones(zones.0)? as u64;
    }
    if !operations.0.is_empty() {
        summary.operations.replaced = writer.upsert_operations(operations.0)? as u64;
    }
    let snap = writer.commit().map_err(IngestError::Engine)?;
    summary.generation = Some(snap.generation());
    if let Some(max) = opts.compact_above
        && let Some(c) = engine
            .compact_if_needed(max, opts.batch_reports.saturating_mul(8))
            .map_err(IngestError::Engine)?
    {
        summary.compacted_to = Some(c.generation());
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Reads and parses every file of one object kind; returns the accepted objects and rejects.
fn read_objects<T>(
    files: &[String],
    parse: fn(
        &str,
        &str,
    ) -> Result<crate::parse_objects::Parsed<T>, crate::parse_objects::FileError>,
    counts: &mut ObjectCounts,
) -> Result<(Vec<T>, Vec<Reject>), IngestError> {
    let mut items = Vec::new();
    let mut rejects = Vec::new();
    for f in files {
        let mut src = open_source(f)?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut src, &mut text).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => {
                IngestError::Objects(crate::parse_objects::FileError::Unexpected {
                    file: f.clone(),
                    reason: "not UTF-8 text".into(),
                })
            }
            _ => IngestError::io(f, e),
        })?;
        let parsed = parse(f, &text)?;
        counts.read += parsed.read;
        counts.accepted += parsed.items.len() as u64;
        counts.rejected += parsed.rejects.len() as u64;
        items.extend(parsed.items.into_iter().map(|(_, v)| v));
        rejects.extend(parsed.rejects);
    }
    Ok((items, rejects))
}

/// Creates the rejects file on the first reject only.
struct LazyRejects {
    path: PathBuf,
    writer: Option<RejectWriter>,
}

impl LazyRejects {
    fn new(path: PathBuf) -> Self {
        LazyRejects { path, writer: None }
    }

    fn write(&mut self, r: &Reject) -> Result<(), IngestError> {
        if self.writer.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| IngestError::io(&dir.display().to_string(), e))?;
            }
            self.writer = Some(
                RejectWriter::create(&self.path)
                    .map_err(|e| IngestError::io(&self.path.display().to_string(), e))?,
            );
        }
        self.writer
            .as_mut()
            .expect("just created")
            .write(r)
            .map_err(|e| IngestError::io(&self.path.display().to_string(), e))
    }

    fn finish(self) -> Result<Option<PathBuf>, IngestError> {
        match self.writer {
            None => Ok(None),
            Some(w) => {
                w.finish()
                    .map_err(|e| IngestError::io(&self.path.display().to_string(), e))?;
                Ok(Some(self.path))
            }
        }
    }
}
