//! One generation of the index, immutable: what every query runs on.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::error::Result;
use crate::index::{Manifest, Objects};
use crate::model::{Operation, Zone};
use crate::query::{ReportIter, ReportRef, TrackIter, WindowQuery, for_each_match};
use crate::seams::Seams;
use crate::segment::{EntityGroups, Segment};
use crate::time::{TimeRange, Timestamp};
use crate::trajectory::{Fix, Piece, entity_rows, pieces_in, position_at};

/// An immutable view of one generation. Cheap to share (`Arc<Snapshot>`); queries on it never
/// see later commits and are never blocked by them.
#[derive(Debug)]
pub struct Snapshot {
    dir: PathBuf,
    manifest: Manifest,
    segments: Vec<Arc<Segment>>,
    objects: Arc<Objects>,
    seams: OnceLock<Seams>,
}

/// What `stats` reports about one segment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SegmentInfo {
    /// File name in the index directory.
    pub file: String,
    /// Generation that wrote it.
    pub generation: u64,
    /// Reports stored.
    pub reports: u64,
    /// Distinct entities stored.
    pub entities: u32,
    /// Earliest report.
    #[serde(serialize_with = "crate::time::serialize_rfc3339")]
    pub start: Timestamp,
    /// Latest report.
    #[serde(serialize_with = "crate::time::serialize_rfc3339")]
    pub end: Timestamp,
    /// File size.
    pub bytes: u64,
}

impl Snapshot {
    pub(crate) fn new(
        dir: &Path,
        manifest: Manifest,
        segments: Vec<Arc<Segment>>,
        objects: Arc<Objects>,
    ) -> Snapshot {
        Snapshot {
            dir: dir.to_owned(),
            manifest,
            segments,
            objects,
            seams: OnceLock::new(),
        }
    }

    pub(crate) fn objects(&self) -> &Arc<Objects> {
        &self.objects
    }

    /// The zones of this generation.
    pub fn zones(&self) -> &[Zone] {
        &self.objects.zones
    }

    /// The operations of this generation.
    pub fn operations(&self) -> &[Operation] {
        &self.objects.operations
    }

    /// The cross-segment pieces, computed on first use.
    pub(crate) fn seams(&self) -> Result<&Seams> {
        if let Some(s) = self.seams.get() {
            return Ok(s);
        }
        let built = Seams::build(&self.segments)?;
        Ok(self.seams.get_or_init(|| built))
    }

    /// Where entity `id` is at `t` (interpolated between reports at most `max_gap_ms` apart;
    /// exactly at a report at its own time); `None` when it has no position then.
    pub fn position_at(&self, id: &str, t: Timestamp, max_gap_ms: i64) -> Result<Option<Fix>> {
        let parts = entity_rows(&self.segments, id)?;
        Ok(position_at(&parts, t, max_gap_ms).map(|(f, _)| f))
    }

    /// The pieces of `id`'s trajectory overlapping `range`, in time order: interpolation
    /// pieces between reports at most `max_gap_ms` apart, and lone reports.
    pub fn trajectory(&self, id: &str, range: TimeRange, max_gap_ms: i64) -> Result<Vec<Piece>> {
        let parts = entity_rows(&self.segments, id)?;
        Ok(pieces_in(&parts, range, max_gap_ms))
    }

    pub(crate) fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub(crate) fn segments(&self) -> &[Arc<Segment>] {
        &self.segments
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The generation number (0 for an empty index).
    pub fn generation(&self) -> u64 {
        self.manifest.generation
    }

    /// Reports stored.
    pub fn report_count(&self) -> u64 {
        self.manifest.segments.iter().map(|s| s.rows).sum()
    }

    /// Segments of this generation, as the manifest lists them.
    pub fn segment_infos(&self) -> Vec<SegmentInfo> {
        self.manifest
            .segments
            .iter()
            .map(|s| SegmentInfo {
                file: s.file.clone(),
                generation: s.generation,
                reports: s.rows,
                entities: s.entities,
                start: Timestamp(s.t_min),
                end: Timestamp(s.t_max),
                bytes: s.bytes,
            })
            .collect()
    }

    /// The earliest and latest report times, if any report exists.
    pub fn time_span(&self) -> Option<TimeRange> {
        let s = self.manifest.segments.iter().map(|s| s.t_min).min()?;
        let e = self.manifest.segments.iter().map(|s| s.t_max).max()?;
        TimeRange::new(Timestamp(s), Timestamp(e))
    }

    /// Distinct entities across all segments (merges the sorted entity tables).
    pub fn entity_count(&self) -> u64 {
        EntityGroups::new(&self.segments).count() as u64
    }

    /// Streams the reports matching `query`, without building a vector. Order: grouped by
    /// segment, then by position in the segment's index — not by time.
    ///
    /// A query may fail part-way with [`crate::Error::Corrupt`] when it reaches damaged bytes;
    /// it never returns data from bytes whose checksum did not match.
    pub fn reports_in<'s>(
        &'s self,
        query: &'s WindowQuery,
        filter: &'s QueryPlan,
    ) -> impl Iterator<Item = Result<ReportRef<'s>>> + 's {
        ReportIter::new(query, &filter.0, &self.segments)
    }

    /// Convenience: runs `query` and calls `f` on every match; stops at the first error.
    pub fn for_each_report(
        &self,
        query: &WindowQuery,
        f: impl FnMut(ReportRef<'_>),
    ) -> Result<u64> {
        let plan = QueryPlan::new(query);
        for_each_match(query, &plan.0, &self.segments, f)
    }

    /// One entity's reports within `range`, in time order, merged across segments.
    pub fn track<'s>(&'s self, id: &str, range: TimeRange) -> Result<TrackIter<'s>> {
        TrackIter::new(&self.segments, id, range)
    }

    /// Checks every checksum and invariant of every segment; the first problem is returned.
    pub fn verify(&self) -> Result<()> {
        for s in &self.segments {
            s.verify()?;
        }
        Ok(())
    }
}

/// A query prepared for execution (its conservative filter in stored units).
#[derive(Debug, Clone)]
pub struct QueryPlan(pub(crate) crate::segment::BoxFilter);

impl QueryPlan {
    /// Prepares `query`.
    pub fn new(query: &WindowQuery) -> QueryPlan {
        QueryPlan(query.filter())
    }
}
