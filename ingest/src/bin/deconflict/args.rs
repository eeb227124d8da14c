//! Raw flags (clap) and their conversion into validated engine values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use deconflict_engine::geodesy::{BBox, parse_floats};
use deconflict_engine::model::Minima;
use deconflict_engine::query::{Area, WindowQuery};
use deconflict_engine::time::{TimeRange, Timestamp, parse_duration_ms};

use crate::CliError;

/// Deconflict: is an operation deconflicted by time and geography from everyone else's
/// forces, plans and off-limits areas?
#[derive(Debug, Parser)]
#[command(name = "deconflict", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add a new generation to the index atomically (all of it or none of it).
    Ingest(IngestArgs),
    /// Raw reports inside a window, as NDJSON.
    Query(QueryArgs),
    /// One entity's reports in time order, as NDJSON.
    Track(TrackArgs),
    /// Generations, segments, reports, entities, time span, bytes per report (JSON).
    Stats(IndexArgs),
    /// Check every checksum and invariant of the index.
    Verify(IndexArgs),
    /// The K entities nearest a point at a time (interpolated positions), nearest first.
    Nearest(NearestArgs),
    /// Every track-vs-track loss of separation within a time range, as NDJSON episodes.
    Conflicts(ConflictsArgs),
    /// Check the operations of a plan against the index and each other: one JSON report each.
    Check(CheckArgs),
    /// Merge generations into fewer segments, atomically; readers are never blocked.
    Compact(CompactArgs),
    /// Write a reproducible synthetic scenario.
    Gen(GenArgs),
    /// Generate, ingest, query and check a built-in scenario; print what was found and how fast.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Index directory.
    #[arg(long)]
    pub index: PathBuf,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Index directory (created if missing).
    #[arg(long)]
    pub index: PathBuf,
    /// Track file (CSV or NDJSON, optionally gzip'd; `-` for stdin). Repeatable.
    #[arg(long)]
    pub tracks: Vec<String>,
    /// Zones file (GeoJSON FeatureCollection). Repeatable.
    #[arg(long)]
    pub zones: Vec<String>,
    /// Operations file (JSON or NDJSON). Repeatable.
    #[arg(long)]
    pub operations: Vec<String>,
    /// Commit nothing and exit 1 when more rows than this are rejected.
    #[arg(long)]
    pub max_rejects: Option<u64>,
    /// Parser threads (default: available cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Reports buffered per segment (bounds memory: about 32 bytes each, ×3 in flight).
    #[arg(long, default_value_t = deconflict_ingest::pipeline::DEFAULT_BATCH_REPORTS)]
    pub batch_reports: usize,
    /// After committing, compact when the index holds more segments than this.
    #[arg(long)]
    pub compact_above: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Index directory.
    #[arg(long)]
    pub index: PathBuf,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Box W,S,E,N in degrees (W > E crosses the antimeridian).
    #[arg(long, allow_hyphen_values = true, conflicts_with_all = ["near", "polygon"])]
    pub bbox: Option<String>,
    /// Centre LON,LAT of a circle (with --radius-m).
    #[arg(
        long,
        allow_hyphen_values = true,
        requires = "radius_m",
        conflicts_with = "polygon"
    )]
    pub near: Option<String>,
    /// Radius of the circle in metres (geodesic, WGS84).
    #[arg(long, requires = "near", allow_hyphen_values = true)]
    pub radius_m: Option<f64>,
    /// Polygon as WKT (POLYGON or MULTIPOLYGON, lon lat).
    #[arg(long)]
    pub polygon: Option<String>,
    /// Altitude band MIN,MAX in metres; reports of unknown altitude do not match.
    #[arg(long, allow_hyphen_values = true)]
    pub alt: Option<String>,
    /// Only reports of this side.
    #[arg(long)]
    pub side: Option<String>,
}

/// A required, inclusive time range.
#[derive(Debug, Args)]
pub struct RangeArgs {
    /// Start of the time range (inclusive): RFC 3339 or epoch milliseconds.
    #[arg(long, allow_hyphen_values = true)]
    pub from: String,
    /// End of the time range (inclusive).
    #[arg(long, allow_hyphen_values = true)]
    pub to: String,
}

impl RangeArgs {
    /// The validated range.
    pub fn parse(&self) -> Result<TimeRange, CliError> {
        parse_range(&self.from, &self.to)
    }
}

#[derive(Debug, Args)]
pub struct TrackArgs {
    /// Index directory.
    #[arg(long)]
    pub index: PathBuf,
    /// Entity id.
    #[arg(long)]
    pub id: String,
    /// Start of the time range (inclusive).
    #[arg(long, allow_hyphen_values = true, requires = "to")]
    pub from: Option<String>,
    /// End of the time range (inclusive).
    #[arg(long, allow_hyphen_values = true, requires = "from")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct NearestArgs {
    /// Index directory.
    #[arg(long)]
    pub index: PathBuf,
    /// LON,LAT of the point.
    #[arg(long, allow_hyphen_values = true)]
    pub point: String,
    /// The time: RFC 3339 or epoch milliseconds.
    #[arg(long, allow_hyphen_values = true)]
    pub time: String,
    /// How many entities.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Longest gap between reports that is still interpolated (seconds or 90s, 5m, …).
    #[arg(long, default_value = "60s")]
    pub max_gap: String,
}

/// Separation minima flags shared by `check` and `conflicts`.
#[derive(Debug, Args)]
pub struct MinimaArgs {
    /// Horizontal separation minimum, metres.
    #[arg(long, default_value_t = 9260.0, allow_hyphen_values = true)]
    pub horizontal_m: f64,
    /// Vertical separation minimum, metres.
    #[arg(long, default_value_t = 300.0, allow_hyphen_values = true)]
    pub vertical_m: f64,
    /// Longest gap between reports that is still interpolated.
    #[arg(long, default_value = "60s")]
    pub max_gap: String,
}

#[derive(Debug, Args)]
pub struct ConflictsArgs {
    /// Index directory.
    #[arg(long)]
    pub index: PathBuf,
    #[command(flatten)]
    pub range: RangeArgs,
    #[command(flatten)]
    pub minima: MinimaArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Index directory.
    #[arg(long)]
    pub index: PathBuf,
    /// Plan file: operations as JSON or NDJSON.
    #[arg(long)]
    pub plan: String,
    #[command(flatten)]
    pub minima: MinimaArgs,
    /// Time buffer around each volume's window.
    #[arg(long, default_value = "5m")]
    pub time_buffer: String,
    /// Required lead time between filing and execution.
    #[arg(long, default_value = "24h")]
    pub lead_time: String,
}

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// Index directory.
    #[arg(long)]
    pub index: PathBuf,
    /// Most reports per merged segment (bounds memory: about 32 bytes each).
    #[arg(long, default_value_t = 64 << 20)]
    pub max_reports: usize,
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of entities.
    #[arg(long)]
    pub entities: Option<usize>,
    /// Scenario length in hours.
    #[arg(long, allow_hyphen_values = true)]
    pub hours: Option<f64>,
    /// Seconds between reports (or a duration: 5s, 1m).
    #[arg(long)]
    pub interval: Option<String>,
    /// Random seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the scenario and index in this directory instead of a temporary one.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Number of entities (default scenario ≈ 1 M reports).
    #[arg(long)]
    pub entities: Option<usize>,
}

fn duration(flag: &str, s: &str) -> Result<i64, CliError> {
    parse_duration_ms(s).map_err(|e| CliError::usage(format!("--{flag}: {e}")))
}

impl MinimaArgs {
    /// The validated minima (time buffer and lead time at their defaults).
    pub fn to_minima(&self) -> Result<Minima, CliError> {
        let m = Minima {
            horizontal_m: self.horizontal_m,
            vertical_m: self.vertical_m,
            max_gap_ms: duration("max-gap", &self.max_gap)?,
            ..Minima::default()
        };
        m.validate().map_err(CliError::usage)?;
        Ok(m)
    }
}

impl CheckArgs {
    /// The validated minima.
    pub fn to_minima(&self) -> Result<Minima, CliError> {
        let m = Minima {
            time_buffer_ms: duration("time-buffer", &self.time_buffer)?,
            lead_time_ms: duration("lead-time", &self.lead_time)?,
            ..self.minima.to_minima()?
        };
        m.validate().map_err(CliError::usage)?;
        Ok(m)
    }
}

impl NearestArgs {
    /// Point, time, max gap.
    pub fn parse(&self) -> Result<((f64, f64), Timestamp, i64), CliError> {
        let v = parse_floats(&self.point, 2)
            .map_err(|e| CliError::usage(format!("--point: {e}; expected LON,LAT")))?;
        if !(v[0].abs() <= 180.0 && v[1].abs() <= 90.0) {
            return Err(CliError::usage(
                "--point: lon must be in [-180, 180] and lat in [-90, 90]",
            ));
        }
        Ok((
            (v[0], v[1]),
            parse_time("time", &self.time)?,
            duration("max-gap", &self.max_gap)?,
        ))
    }
}

pub fn parse_time(flag: &str, s: &str) -> Result<Timestamp, CliError> {
    Timestamp::parse(s).map_err(|e| CliError::usage(format!("--{flag}: {e}")))
}

pub fn parse_range(from: &str, to: &str) -> Result<TimeRange, CliError> {
    let (f, t) = (parse_time("from", from)?, parse_time("to", to)?);
    TimeRange::new(f, t).ok_or_else(|| CliError::usage(format!("--to {t} is before --from {f}")))
}

impl QueryArgs {
    /// The validated query.
    pub fn to_query(&self) -> Result<WindowQuery, CliError> {
        let time = self.range.parse()?;
        let area = if let Some(b) = &self.bbox {
            Area::BBox(BBox::parse(b).map_err(|e| CliError::usage(format!("--bbox: {e}")))?)
        } else if let Some(n) = &self.near {
            let v = parse_floats(n, 2)
                .map_err(|e| CliError::usage(format!("--near: {e}; expected LON,LAT")))?;
            let r = self.radius_m.unwrap_or(0.0);
            if !(v[0].abs() <= 180.0 && v[1].abs() <= 90.0) {
                return Err(CliError::usage(
                    "--near: lon must be in [-180, 180] and lat in [-90, 90]",
                ));
            }
            if !(r.is_finite() && r >= 0.0) {
                return Err(CliError::usage("--radius-m must be a finite number ≥ 0"));
            }
            Area::Circle {
                lon: v[0],
                lat: v[1],
                radius_m: r,
            }
        } else if let Some(p) = &self.polygon {
            Area::polygon_from_wkt(p).map_err(|e| CliError::usage(format!("--polygon: {e}")))?
        } else {
            Area::All
        };
        let alt = match &self.alt {
            None => None,
            Some(a) => {
                let v = parse_floats(a, 2)
                    .map_err(|e| CliError::usage(format!("--alt: {e}; expected MIN,MAX")))?;
                if v[0] > v[1] {
                    return Err(CliError::usage("--alt: MIN is above MAX"));
                }
                Some((v[0], v[1]))
            }
        };
        Ok(WindowQuery {
            area,
            time,
            alt,
            side: self.side.clone(),
        })
    }
}
