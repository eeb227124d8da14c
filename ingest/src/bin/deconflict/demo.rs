//! `deconflict demo`: the main job on a built-in scenario — generate, ingest, query, and say
//! what was found and how fast.

use std::io::Write;
use std::time::{Duration, Instant};

use deconflict_engine::Engine;
use deconflict_engine::deconflict::ConflictKind;
use deconflict_engine::geodesy::BBox;
use deconflict_engine::model::Minima;
use deconflict_engine::query::{Area, WindowQuery};
use deconflict_engine::time::{TimeRange, Timestamp};
use deconflict_ingest::generate::{GenConfig, generate};
use deconflict_ingest::pipeline::{IngestOptions, ingest};

use crate::CliError;
use crate::args::DemoArgs;
use crate::commands::Bar;
use crate::output::json_line;

/// Latencies of repeated runs of one query.
struct Timing {
    samples: Vec<Duration>,
}

impl Timing {
    fn measure(
        runs: usize,
        mut f: impl FnMut() -> Result<u64, CliError>,
    ) -> Result<(Timing, u64), CliError> {
        let mut samples = Vec::with_capacity(runs);
        let mut found = 0;
        for _ in 0..runs {
            let t = Instant::now();
            found = f()?;
            samples.push(t.elapsed());
        }
        samples.sort();
        Ok((Timing { samples }, found))
    }
    fn pct(&self, p: f64) -> Duration {
        let i = ((self.samples.len() - 1) as f64 * p).round() as usize;
        self.samples[i]
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub(crate) fn run(a: DemoArgs, out: &mut impl Write) -> Result<(), CliError> {
    let tmp;
    let dir = match &a.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir()
                .map_err(|e| CliError::usage(format!("temporary directory: {e}")))?;
            tmp.path().to_owned()
        }
    };
    let mut cfg = GenConfig::default();
    if let Some(n) = a.entities {
        cfg.entities = n;
    }
    eprintln!(
        "== 1. generate: {} entities × {} h, one report every {} s (seed {})",
        cfg.entities, cfg.hours, cfg.interval_s, cfg.seed
    );
    let t = Instant::now();
    let scenario_dir = dir.join("scenario");
    let g = generate(&cfg, &scenario_dir)
        .map_err(|e| CliError::usage(format!("{}: {e}", scenario_dir.display())))?;
    eprintln!(
        "   {} reports, {} zones, {} operations ({} with planted conflicts) in {:.2} s",
        g.reports,
        g.zones,
        g.operations,
        g.planted,
        t.elapsed().as_secs_f64()
    );

    eprintln!("== 2. ingest {}", g.tracks_csv.display());
    let index = dir.join("index");
    let mut opts = IngestOptions::new(&index);
    opts.tracks = vec![g.tracks_csv.display().to_string()];
    opts.zones = vec![g.zones_geojson.display().to_string()];
    let bar = Bar::new(false);
    let summary = ingest(&opts, &bar);
    bar.finish();
    let summary = summary.map_err(crate::commands::ingest_error)?;
    let secs = summary.elapsed.as_secs_f64();
    eprintln!(
        "   {summary} in {secs:.2} s: {:.2} M rows/s end-to-end",
        summary.read as f64 / secs / 1e6
    );

    eprintln!("== 3. queries (latency over repeated runs on one snapshot)");
    let t = Instant::now();
    let engine = Engine::open(&index).map_err(CliError::engine)?;
    let snap = engine.snapshot();
    let open = t.elapsed();
    let bytes: u64 = snap.segment_infos().iter().map(|s| s.bytes).sum();
    eprintln!(
        "   opened generation {} ({} reports, {:.1} B/report on disk) in {:.2} ms",
        snap.generation(),
        snap.report_count(),
        bytes as f64 / snap.report_count().max(1) as f64,
        open.as_secs_f64() * 1e3
    );
    let span = g.span;
    let mid = Timestamp(span.start.0 + (span.end.0 - span.start.0) / 2);
    let ten_min = TimeRange::new(mid, mid.offset(600_000)).expect("ordered");
    let hour = TimeRange::new(span.start, span.start.offset(3_600_000)).expect("ordered");
    let centre = (36.2, 35.2);
    // A square of about `half_m` around the centre, by the geodesy module's metre margins.
    let square = |half_m: f64| {
        BBox::new(centre.0, centre.1, centre.0, centre.1)
            .expect("box")
            .widen_m(half_m)
    };
    let queries = [
        (
            "small window 10 km × 10 km × 10 min",
            WindowQuery {
                area: Area::BBox(square(5_000.0)),
                time: ten_min,
                alt: None,
                side: None,
            },
        ),
        (
            "large window 200 km × 200 km × 1 h",
            WindowQuery {
                area: Area::BBox(square(100_000.0)),
                time: hour,
                alt: None,
                side: None,
            },
        ),
        (
            "radius 25 km × 10 min, 3000–12000 m",
            WindowQuery {
                area: Area::Circle {
                    lon: centre.0,
                    lat: centre.1,
                    radius_m: 25_000.0,
                },
                time: ten_min,
                alt: Some((3000.0, 12_000.0)),
                side: None,
            },
        ),
        (
            "antimeridian box 175°E–175°W, side blue",
            WindowQuery {
                area: Area::BBox(BBox::new(175.0, -60.0, -175.0, 60.0).expect("box")),
                time: span,
                alt: None,
                side: Some("blue".into()),
            },
        ),
    ];
    let mut results = Vec::new();
    for (name, q) in &queries {
        let (timing, n) = Timing::measure(20, || {
            snap.for_each_report(q, |_| {}).map_err(CliError::engine)
        })?;
        eprintln!(
            "   {name:<42} {n:>8} reports   p50 {:>9.1} µs   p99 {:>9.1} µs",
            us(timing.pct(0.5)),
            us(timing.pct(0.99))
        );
        results.push(serde_json::json!({"query": name, "reports": n, "p50_us": us(timing.pct(0.5)), "p99_us": us(timing.pct(0.99))}));
    }
    let near = snap
        .nearest(centre.0, centre.1, mid, 10, 60_000)
        .map_err(CliError::engine)?;
    let busiest = near.first().map_or("BLUE-J0001", |n| n.id.as_str());
    let (timing, n) = Timing::measure(20, || {
        Ok(snap
            .track(busiest, TimeRange::ALL)
            .map_err(CliError::engine)?
            .count() as u64)
    })?;
    eprintln!(
        "   {:<42} {n:>8} reports   p50 {:>9.1} µs   p99 {:>9.1} µs",
        format!("track {busiest}"),
        us(timing.pct(0.5)),
        us(timing.pct(0.99))
    );
    let (timing, _) = Timing::measure(50, || {
        Ok(snap
            .nearest(centre.0, centre.1, mid, 10, 60_000)
            .map_err(CliError::engine)?
            .len() as u64)
    })?;
    eprintln!(
        "   {:<42} {:>8} entities  p50 {:>9.1} µs   p99 {:>9.1} µs",
        format!("nearest k=10 at {mid}"),
        near.len(),
        us(timing.pct(0.5)),
        us(timing.pct(0.99))
    );
    for n in near.iter().take(3) {
        eprintln!(
            "      {:<12} {:<6} {:>9.1} m away",
            n.id, n.side, n.distance_m
        );
    }
    eprintln!(
        "== 4. deconfliction of the scenario's {} operations (contract minima: 5 NM, 300 m, 5 min, 24 h)",
        g.operations
    );
    let minima = Minima::default();
    let plan = g.operations_ndjson.display().to_string();
    let ops = crate::commands::read_plan(&plan)?;
    let t = Instant::now();
    let mut reports = snap.check_batch(&ops, &minima).map_err(CliError::engine)?;
    let check_time = t.elapsed();
    reports.sort_by(|x, y| x.operation.cmp(&y.operation));
    let clear: Vec<&str> = reports
        .iter()
        .filter(|r| r.deconflicted)
        .map(|r| r.operation.as_str())
        .collect();
    eprintln!(
        "   checked {} operations in {:.1} ms ({:.0} µs each): {} deconflicted, {} not",
        reports.len(),
        check_time.as_secs_f64() * 1e3,
        check_time.as_secs_f64() * 1e6 / reports.len().max(1) as f64,
        clear.len(),
        reports.len() - clear.len()
    );
    for r in reports.iter().filter(|r| !r.deconflicted) {
        for c in &r.conflicts {
            let what = match (c.kind, c.distance_m) {
                (ConflictKind::LeadTime, _) => format!("filed after the deadline {}", c.start),
                (ConflictKind::TargetArea, _) => {
                    "target outside every designated target area".to_owned()
                }
                (ConflictKind::Zone, _) => format!(
                    "{} enters {} zone {}",
                    c.volume,
                    c.zone_kind.map_or("", |k| k.as_str()),
                    c.with
                ),
                (_, Some(d)) => format!(
                    "{} within {d:.0} m of {} {} at {}",
                    c.volume,
                    c.kind.as_str(),
                    c.with,
                    c.cpa_time.unwrap_or(c.start)
                ),
                (_, None) => format!("{} {}", c.kind.as_str(), c.with),
            };
            eprintln!("   ✗ {:<8} {what}", r.operation);
        }
    }
    eprintln!("   ✓ deconflicted: {}", clear.join(", "));
    let t = Instant::now();
    let episodes: Vec<_> = snap
        .conflicts(span, &minima)
        .map_err(CliError::engine)?
        .collect();
    let episodes_time = t.elapsed();
    eprintln!(
        "   track-vs-track: {} losses of separation among {} reports in {:.2} s",
        episodes.len(),
        snap.report_count(),
        episodes_time.as_secs_f64()
    );
    if let Some(e) = episodes
        .iter()
        .min_by(|a, b| a.min_distance_m.total_cmp(&b.min_distance_m))
    {
        eprintln!(
            "   closest: {} and {} at {:.0} m, {}",
            e.a, e.b, e.min_distance_m, e.cpa_time
        );
    }
    json_line(
        out,
        &serde_json::json!({
            "operations": reports.len(), "deconflicted": clear.len(),
            "check_ms": check_time.as_secs_f64() * 1e3,
            "episodes": episodes.len(), "episodes_s": episodes_time.as_secs_f64(),
            "reports": summary.read, "accepted": summary.accepted, "duplicates": summary.duplicates,
            "rejected": summary.rejected, "ingest_rows_per_s": summary.read as f64 / secs,
            "open_ms": open.as_secs_f64() * 1e3, "queries": results,
        }),
    )?;
    if a.dir.is_some() {
        eprintln!("scenario and index kept in {}", dir.display());
    }
    Ok(())
}
