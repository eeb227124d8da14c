//! One function per command; each parses its flags into engine values, runs, and writes.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use deconflict_engine::Engine;
use deconflict_engine::time::{TimeRange, parse_duration_ms};
use deconflict_ingest::generate::{GenConfig, generate};
use deconflict_ingest::pipeline::{IngestOptions, IngestSummary, Progress, ingest as run_ingest};

use crate::CliError;
use crate::args::{GenArgs, IndexArgs, IngestArgs, QueryArgs, TrackArgs, parse_range};
use crate::output::{NdjsonWriter, json_line};

fn open(index: &Path) -> Result<Engine, CliError> {
    Engine::open(index).map_err(CliError::engine)
}

/// Progress on stderr: an indicatif spinner with rows and rate.
pub(crate) struct Bar(indicatif::ProgressBar);

impl Bar {
    pub(crate) fn new(quiet: bool) -> Bar {
        let pb = if quiet {
            indicatif::ProgressBar::hidden()
        } else {
            indicatif::ProgressBar::new_spinner()
        };
        pb.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .expect("valid template"),
        );
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
        Bar(pb)
    }

    pub(crate) fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn rows(&self, read: u64, rejected: u64) {
        let secs = self.0.elapsed().as_secs_f64().max(1e-3);
        self.0.set_message(format!(
            "read {read} rows ({:.2} M rows/s), rejected {rejected}",
            read as f64 / secs / 1e6
        ));
    }
    fn waiting(&self, index: &Path) {
        self.0.println(format!(
            "waiting for another writer on {} to finish…",
            index.display()
        ));
    }
}

pub(crate) fn ingest(a: IngestArgs) -> Result<(), CliError> {
    if a.tracks.is_empty() && a.zones.is_empty() && a.operations.is_empty() {
        return Err(CliError::usage(
            "nothing to ingest: give --tracks, --zones or --operations",
        ));
    }
    let mut opts = IngestOptions::new(&a.index);
    opts.tracks = a.tracks;
    opts.max_rejects = a.max_rejects;
    if let Some(w) = a.workers {
        opts.workers = w.max(1);
    }
    opts.batch_reports = a.batch_reports.max(1);
    let bar = Bar::new(a.quiet);
    let result = run_ingest(&opts, &bar);
    bar.0.finish_and_clear();
    let summary = result.map_err(ingest_error)?;
    report_summary(&summary);
    Ok(())
}

fn report_summary(s: &IngestSummary) {
    eprintln!("{s}");
    if let Some(p) = &s.rejects_file {
        eprintln!("rejected rows written to {}", p.display());
    }
    if let Some(g) = s.generation {
        let secs = s.elapsed.as_secs_f64().max(1e-9);
        eprintln!(
            "committed generation {g} in {:.2} s ({:.2} M rows/s)",
            secs,
            s.read as f64 / secs / 1e6
        );
    }
}

pub(crate) fn ingest_error(e: deconflict_ingest::error::IngestError) -> CliError {
    match e {
        deconflict_ingest::error::IngestError::Engine(e) => CliError::engine(e),
        other => CliError::usage(other),
    }
}

pub(crate) fn query(a: QueryArgs, out: &mut impl Write) -> Result<(), CliError> {
    let q = a.to_query()?;
    let engine = open(&a.index)?;
    let snap = engine.snapshot();
    let plan = deconflict_engine::QueryPlan::new(&q);
    let mut w = NdjsonWriter::new(out);
    for r in snap.reports_in(&q, &plan) {
        w.report(&r.map_err(CliError::engine)?)?;
    }
    Ok(())
}

pub(crate) fn track(a: TrackArgs, out: &mut impl Write) -> Result<(), CliError> {
    let range = match (&a.from, &a.to) {
        (Some(f), Some(t)) => parse_range(f, t)?,
        _ => TimeRange::ALL,
    };
    let engine = open(&a.index)?;
    let snap = engine.snapshot();
    let mut w = NdjsonWriter::new(out);
    for r in snap.track(&a.id, range).map_err(CliError::engine)? {
        w.report(&r)?;
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct Stats {
    generation: u64,
    segments: usize,
    reports: u64,
    entities: u64,
    start: Option<String>,
    end: Option<String>,
    bytes_on_disk: u64,
    bytes_per_report: Option<f64>,
    segment_list: Vec<deconflict_engine::SegmentInfo>,
}

pub(crate) fn stats(a: IndexArgs, out: &mut impl Write) -> Result<(), CliError> {
    let engine = open(&a.index)?;
    let snap = engine.snapshot();
    let segs = snap.segment_infos();
    let bytes: u64 = segs.iter().map(|s| s.bytes).sum();
    let reports = snap.report_count();
    let span = snap.time_span();
    let st = Stats {
        generation: snap.generation(),
        segments: segs.len(),
        reports,
        entities: snap.entity_count(),
        start: span.map(|s| s.start.to_string()),
        end: span.map(|s| s.end.to_string()),
        bytes_on_disk: bytes,
        bytes_per_report: (reports > 0).then(|| bytes as f64 / reports as f64),
        segment_list: segs,
    };
    eprintln!(
        "generation {}, {} segments, {} reports, {} entities, {} bytes on disk{}",
        st.generation,
        st.segments,
        st.reports,
        st.entities,
        st.bytes_on_disk,
        st.bytes_per_report
            .map(|b| format!(" ({b:.1} B/report)"))
            .unwrap_or_default()
    );
    json_line(out, &st)?;
    Ok(())
}

pub(crate) fn verify(a: IndexArgs, out: &mut impl Write) -> Result<(), CliError> {
    let started = Instant::now();
    let engine = open(&a.index)?;
    let snap = engine.snapshot();
    snap.verify().map_err(CliError::engine)?;
    eprintln!(
        "index sound: generation {}, {} segments, {} reports checked in {:.2} s",
        snap.generation(),
        snap.segment_infos().len(),
        snap.report_count(),
        started.elapsed().as_secs_f64()
    );
    json_line(
        out,
        &serde_json::json!({"ok": true, "generation": snap.generation(), "segments": snap.segment_infos().len(), "reports": snap.report_count()}),
    )?;
    Ok(())
}

pub(crate) fn gen_config(a: &GenArgs) -> Result<GenConfig, CliError> {
    let mut cfg = GenConfig::default();
    if let Some(n) = a.entities {
        cfg.entities = n;
    }
    if let Some(h) = a.hours {
        if !(h.is_finite() && h > 0.0) {
            return Err(CliError::usage("--hours must be a positive number"));
        }
        cfg.hours = h;
    }
    if let Some(i) = &a.interval {
        let ms = parse_duration_ms(i).map_err(|e| CliError::usage(format!("--interval: {e}")))?;
        if ms <= 0 {
            return Err(CliError::usage("--interval must be positive"));
        }
        cfg.interval_s = ms as f64 / 1000.0;
    }
    if let Some(s) = a.seed {
        cfg.seed = s;
    }
    Ok(cfg)
}

pub(crate) fn gen_scenario(a: GenArgs, out: &mut impl Write) -> Result<(), CliError> {
    let cfg = gen_config(&a)?;
    let started = Instant::now();
    let s =
        generate(&cfg, &a.out).map_err(|e| CliError::usage(format!("{}: {e}", a.out.display())))?;
    eprintln!(
        "wrote {} reports of {} entities, {} zones, {} operations ({} planted conflicts) to {} in {:.2} s",
        s.reports,
        s.entities,
        s.zones,
        s.operations,
        s.planted,
        a.out.display(),
        started.elapsed().as_secs_f64()
    );
    json_line(
        out,
        &serde_json::json!({
            "entities": s.entities, "reports": s.reports, "zones": s.zones, "operations": s.operations,
            "planted": s.planted, "start": s.span.start.to_string(), "end": s.span.end.to_string(),
            "tracks": s.tracks_csv, "zones_file": s.zones_geojson, "operations_file": s.operations_ndjson,
        }),
    )?;
    Ok(())
}
