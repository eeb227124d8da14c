//! Track files (CSV or NDJSON) → validated reports and rejects, in parallel, in input order.
//!
//! [`read_tracks`] runs one reader thread that cuts each source into chunks of about
//! [`DEFAULT_CHUNK_SIZE`] bytes ending at a record boundary ([`crate::chunk`]), `workers` parser
//! threads, and hands every [`ParsedChunk`] to a callback **on the calling thread, in input
//! order**: file 0's chunks by `seq`, then file 1's, and so on. Channels are bounded, so only a
//! few chunks are in memory at once.
//!
//! Invariants: for every chunk `read == reports.len() + rejects.len()`; every physical line of
//! the input belongs to exactly one accepted or rejected row (or to the CSV header); results do
//! not depend on the chunk size or the number of workers.
//!
//! Format: by extension (`.csv`, or `.ndjson` / `.jsonl` / `.json`, after removing `.gz`),
//! otherwise by the first non-whitespace byte of the decompressed content (`{` = NDJSON).
//!
//! ```
//! use deconflict_ingest::parse::read_tracks;
//! use deconflict_ingest::source::Source;
//! let csv = "id,time,lon,lat\nA1,1633600800500,36.61,35.93\nA2,soon,0,0\n";
//! let src = Source::from_reader("t.csv", std::io::Cursor::new(csv)).unwrap();
//! let mut got = Vec::new();
//! read_tracks(vec![src], 2, |c| { got.push(c); Ok::<(), ()>(()) }).unwrap();
//! assert_eq!(got[0].reports[0].id, "A1");
//! assert_eq!(got[0].rejects[0].line, 3);
//! assert_eq!(got[0].read, 2);
//! ```

pub mod csv;
pub mod ndjson;

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use crossbeam_channel::{Receiver, Sender, bounded};
use deconflict_engine::model::Report;

use self::csv::CsvHeader;
pub use crate::chunk::DEFAULT_CHUNK_SIZE;
use crate::chunk::{Chunker, Framing, RawChunk};
use crate::error::IngestError;
pub use crate::error::ReadError;
use crate::reject::Reject;
use crate::source::Source;

/// The rows of one chunk of one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedChunk {
    /// Index of the file in the `sources` given to [`read_tracks`].
    pub file: usize,
    /// Position of the chunk within its file, from 0.
    pub seq: u64,
    /// Accepted rows, in input order.
    pub reports: Vec<Report>,
    /// Rejected rows, in input order.
    pub rejects: Vec<Reject>,
    /// Rows read: `reports.len() + rejects.len()`.
    pub read: u64,
}

/// Track file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

impl Format {
    /// The format implied by a file name (`.gz` removed first), if any.
    ///
    /// ```
    /// use deconflict_ingest::parse::Format;
    /// assert_eq!(Format::from_name("a/T.CSV.gz"), Some(Format::Csv));
    /// assert_eq!(Format::from_name("x.jsonl"), Some(Format::Ndjson));
    /// assert_eq!(Format::from_name("-"), None);
    /// ```
    #[must_use]
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        let base = lower.strip_suffix(".gz").unwrap_or(&lower);
        let ext = base.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "csv" => Some(Format::Csv),
            "ndjson" | "jsonl" | "json" => Some(Format::Ndjson),
            _ => None,
        }
    }
}

/// Tuning knobs, for tests.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct ReadConfig {
    /// Target chunk size in bytes.
    pub chunk_size: usize,
}

impl Default for ReadConfig {
    fn default() -> Self {
        ReadConfig {
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

/// Reads every source with `workers` parser threads and calls `on_chunk` on the calling thread
/// for each chunk, in input order (file by file, `seq` ascending).
///
/// # Errors
/// The first file-level error ([`ReadError::File`], naming the file), or the first error of
/// `on_chunk` ([`ReadError::Consumer`]); either stops all threads promptly. Bad rows are never errors: they are [`Reject`]s.
pub fn read_tracks<E: Send>(
    sources: Vec<Source>,
    workers: usize,
    on_chunk: impl FnMut(ParsedChunk) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    read_tracks_with(ReadConfig::default(), sources, workers, on_chunk)
}

/// A unit of work for a parser thread.
struct Job {
    /// Position in the global output order.
    order: u64,
    file: usize,
    seq: u64,
    name: Arc<str>,
    /// `None` for NDJSON.
    header: Option<Arc<CsvHeader>>,
    chunk: RawChunk,
}

enum Done {
    Chunk(u64, ParsedChunk),
    Failed(IngestError),
}

/// [`read_tracks`] with explicit settings.
#[doc(hidden)]
pub fn read_tracks_with<E: Send>(
    config: ReadConfig,
    sources: Vec<Source>,
    workers: usize,
    mut on_chunk: impl FnMut(ParsedChunk) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    let workers = workers.max(1);
    let stop = Arc::new(AtomicBool::new(false));
    // A chunk takes a credit when read and gives it back once delivered, so at most
    // `in_flight` chunks exist at once, even when one slow chunk holds back delivery.
    let in_flight = 2 * workers + 2;
    let (credit_tx, credit_rx) = bounded::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = credit_tx.send(());
    }
    let (job_tx, job_rx) = bounded::<Job>(in_flight);
    let (done_tx, done_rx) = bounded::<Done>(in_flight);

    let reader = {
        let done_tx = done_tx.clone();
        let stop = Arc::clone(&stop);
        thread::Builder::new()
            .name("ingest-reader".into())
            .spawn(move || {
                if let Err(e) = read_all(sources, config.chunk_size, &job_tx, &credit_rx, &stop) {
                    let _ = done_tx.send(Done::Failed(e));
                }
            })
            .map_err(|e| IngestError::io("<reader thread>", e))?
    };
    let mut parsers = Vec::with_capacity(workers);
    for i in 0..workers {
        let (job_rx, done_tx, worker_stop) = (job_rx.clone(), done_tx.clone(), Arc::clone(&stop));
        let handle = thread::Builder::new()
            .name(format!("ingest-parse-{i}"))
            .spawn(move || parse_jobs(&job_rx, &done_tx, &worker_stop))
            .map_err(|e| IngestError::io("<parser thread>", e));
        match handle {
            Ok(h) => parsers.push(h),
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                return Err(e.into());
            }
        }
    }
    drop((job_rx, done_tx));

    let result = deliver(&done_rx, &credit_tx, &mut on_chunk);
    if result.is_err() {
        // Do not wait: the reader may be blocked reading stdin, and the parsers wait for it.
        // Every thread ends on its own at its next channel operation or check of `stop`.
        stop.store(true, Ordering::Relaxed);
        return result;
    }
    // Every sender is gone, so every thread has finished; join to surface a panic.
    for p in parsers {
        if let Err(panic) = p.join() {
            std::panic::resume_unwind(panic);
        }
    }
    if let Err(panic) = reader.join() {
        std::panic::resume_unwind(panic);
    }
    result
}

/// Hands finished chunks to `on_chunk` in order; returns when every sender is gone.
fn deliver<E>(
    done_rx: &Receiver<Done>,
    credits: &Sender<()>,
    on_chunk: &mut impl FnMut(ParsedChunk) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    let mut next = 0u64;
    let mut pending = BTreeMap::new();
    for done in done_rx {
        match done {
            Done::Failed(e) => return Err(ReadError::File(e)),
            Done::Chunk(order, chunk) => {
                pending.insert(order, chunk);
                while let Some(chunk) = pending.remove(&next) {
                    next += 1;
                    on_chunk(chunk).map_err(ReadError::Consumer)?;
                    let _ = credits.send(());
                }
            }
        }
    }
    // All senders are gone: the reader finished (or failed, reported above) and so did the
    // parsers; a gap here would mean a parser died, which join() reports.
    Ok(())
}

/// The reader thread: every source in turn, cut into jobs.
fn read_all(
    sources: Vec<Source>,
    chunk_size: usize,
    jobs: &Sender<Job>,
    credits: &Receiver<()>,
    stop: &AtomicBool,
) -> Result<(), IngestError> {
    let mut order = 0u64;
    for (file, source) in sources.into_iter().enumerate() {
        let name: Arc<str> = Arc::from(source.name.as_str());
        let format = Format::from_name(&source.name);
        let mut chunker = Chunker::new(source, chunk_size);
        chunker.strip_bom()?;
        let format = match format {
            Some(f) => f,
            None if chunker.first_non_space()? == Some(b'{') => Format::Ndjson,
            None => Format::Csv,
        };
        let header = match format {
            Format::Ndjson => None,
            Format::Csv => match chunker.take_first_record(Framing::Csv)? {
                Some((line, record)) => {
                    Some(Arc::new(CsvHeader::parse(&record, chunker.name(), line)?))
                }
                None => None,
            },
        };
        chunker.set_framing(match format {
            Format::Csv => Framing::Csv,
            Format::Ndjson => Framing::Lines,
        });
        let mut seq = 0;
        while let Some(chunk) = chunker.next_chunk()? {
            if stop.load(Ordering::Relaxed) || credits.recv().is_err() {
                return Ok(()); // the consumer stopped
            }
            let job = Job {
                order,
                file,
                seq,
                name: Arc::clone(&name),
                header: header.clone(),
                chunk,
            };
            if jobs.send(job).is_err() {
                return Ok(()); // the consumer stopped
            }
            order += 1;
            seq += 1;
        }
    }
    Ok(())
}

/// A parser thread.
fn parse_jobs(jobs: &Receiver<Job>, done: &Sender<Done>, stop: &AtomicBool) {
    for job in jobs {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let (order, name) = (job.order, Arc::clone(&job.name));
        // A panic would leave a hole in the output order and hang delivery: report it instead.
        let msg = match std::panic::catch_unwind(AssertUnwindSafe(|| parse_job(job))) {
            Ok(chunk) => Done::Chunk(order, chunk),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(ToString::to_string)
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Done::Failed(IngestError::Io {
                    path: name.to_string(),
                    source: std::io::Error::other(format!("internal error while parsing: {what}")),
                })
            }
        };
        if done.send(msg).is_err() {
            return;
        }
    }
}

fn parse_job(job: Job) -> ParsedChunk {
    let Job {
        file,
        seq,
        name,
        header,
        chunk,
        ..
    } = job;
    let mut out = ParsedChunk {
        file,
        seq,
        ..ParsedChunk::default()
    };
    match &header {
        Some(h) => csv::parse_chunk(h, &name, &chunk.bytes, chunk.first_line, &mut out),
        // An NDJSON file, or a CSV file whose header was lost to gzip damage (then `bytes` is empty).
        None => ndjson::parse_chunk(&name, &chunk.bytes, chunk.first_line, &mut out),
    }
    if let Some((line, reason)) = chunk.damage {
        out.rejects.push(Reject {
            file: name.to_string(),
            line,
            reason,
            raw: String::new(),
        });
    }
    out.read = (out.reports.len() + out.rejects.len()) as u64;
    out
}
