//! One function per command; each parses its flags into engine values, runs, and writes.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use deconflict_engine::Engine;
use deconflict_engine::time::{TimeRange, parse_duration_ms};
use deconflict_ingest::generate::{GenConfig, generate};
use deconflict_ingest::pipeline::{IngestOptions, IngestSummary, Progress, ingest as run_ingest};

use crate::CliError;
use crate::args::{
    CheckArgs, CompactArgs, ConflictsArgs, GenArgs, IndexArgs, IngestArgs, NearestArgs, QueryArgs,
    TrackArgs, parse_range,
};
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
    opts.zones = a.zones;
    opts.operations = a.operations;
    opts.max_rejects = a.max_rejects;
    if let Some(w) = a.workers {
        opts.workers = w.max(1);
    }
    opts.batch_reports = a.batch_reports.max(1);
    opts.compact_above = a.compact_above;
    let bar = Bar::new(a.quiet);
    let result = run_ingest(&opts, &bar);
    bar.0.finish_and_clear();
    let summary = result.map_err(ingest_error)?;
    report_summary(&summary);
    Ok(())
}

fn report_summary(s: &IngestSummary) {
    eprintln!("{s}");
    for (what, c) in [("zones", s.zones), ("operations", s.operations)] {
        if c.read > 0 {
            eprintln!(
                "{what}: read {}, accepted {} ({} replacing earlier ones), rejected {}",
                c.read, c.accepted, c.replaced, c.rejected
            );
        }
    }
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
    if let Some(g) = s.compacted_to {
        eprintln!("compacted into generation {g}");
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

pub(crate) fn nearest(a: NearestArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (point, t, max_gap) = a.parse()?;
    let engine = open(&a.index)?;
    let found = engine
        .snapshot()
        .nearest(point.0, point.1, t, a.k, max_gap)
        .map_err(CliError::engine)?;
    for n in &found {
        json_line(out, n)?;
    }
    Ok(())
}

pub(crate) fn conflicts(a: ConflictsArgs, out: &mut impl Write) -> Result<(), CliError> {
    let range = a.range.parse()?;
    let minima = a.minima.to_minima()?;
    let engine = open(&a.index)?;
    let started = Instant::now();
    let mut n = 0u64;
    for e in engine
        .snapshot()
        .conflicts(range, &minima)
        .map_err(CliError::engine)?
    {
        json_line(out, &e)?;
        n += 1;
    }
    eprintln!("{n} episodes in {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}

pub(crate) fn check(a: CheckArgs, out: &mut impl Write) -> Result<(), CliError> {
    let minima = a.to_minima()?;
    let ops = read_plan(&a.plan)?;
    let engine = open(&a.index)?;
    let started = Instant::now();
    let mut reports = engine
        .snapshot()
        .check_batch(&ops, &minima)
        .map_err(CliError::engine)?;
    reports.sort_by(|x, y| x.operation.cmp(&y.operation));
    let clear = reports.iter().filter(|r| r.deconflicted).count();
    for r in &reports {
        json_line(out, r)?;
    }
    eprintln!(
        "{} operations checked in {:.1} ms: {clear} deconflicted, {} with conflicts",
        reports.len(),
        started.elapsed().as_secs_f64() * 1e3,
        reports.len() - clear
    );
    Ok(())
}

/// Reads a plan file; any rejected operation is an input error naming its line.
pub(crate) fn read_plan(path: &str) -> Result<Vec<deconflict_engine::model::Operation>, CliError> {
    let mut src = deconflict_ingest::source::open_source(path).map_err(CliError::usage)?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut src, &mut text)
        .map_err(|e| CliError::usage(format!("{path}: {e}")))?;
    let parsed =
        deconflict_ingest::parse_objects::parse_operations(path, &text).map_err(CliError::usage)?;
    if let Some(r) = parsed.rejects.first() {
        return Err(CliError::usage(format!(
            "{}: line {}: {} ({} operations rejected in all)",
            r.file,
            r.line,
            r.reason,
            parsed.rejects.len()
        )));
    }
    Ok(parsed.items.into_iter().map(|(_, o)| o).collect())
}

pub(crate) fn compact(a: CompactArgs, out: &mut impl Write) -> Result<(), CliError> {
    let engine = open(&a.index)?;
    let started = Instant::now();
    let mut w = engine
        .writer_with_notice(|| {
            eprintln!(
                "waiting for another writer on {} to finish…",
                a.index.display()
            )
        })
        .map_err(CliError::engine)?;
    let before = w.base().segment_infos().len();
    let outcome = w.compact(a.max_reports.max(1)).map_err(CliError::engine)?;
    let snap = w.commit().map_err(CliError::engine)?;
    let after = snap.segment_infos().len();
    eprintln!(
        "compacted {} segments into {} ({} reports rewritten): {before} → {after} segments, generation {}, in {:.2} s",
        outcome.merged,
        outcome.written,
        outcome.reports,
        snap.generation(),
        started.elapsed().as_secs_f64()
    );
    json_line(
        out,
        &serde_json::json!({"generation": snap.generation(), "segments_before": before, "segments_after": after, "reports_rewritten": outcome.reports}),
    )?;
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
