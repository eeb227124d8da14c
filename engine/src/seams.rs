//! Seams: interpolation pieces whose two reports lie in different segments.
//!
//! Within a segment, every piece between two consecutive rows of an entity is covered by a
//! run's box. When an entity's reports are spread over several segments (several generations,
//! or a generation cut into several segments), the pieces that join reports of different
//! segments are covered by no box; they are gathered here, once per snapshot (lazily), so that
//! spatial candidate searches over pieces (nearest, deconfliction) miss none of them.
//!
//! The same walk records which entities have rows in more than one segment: for every other
//! entity, its rows in its one segment are its whole trajectory, which lets a query work from
//! the rows it found without looking the entity up in the other segments.
//!
//! Rows of one segment that are no longer consecutive in the merged trajectory (another
//! segment has a report in between) only make their run's box a little too large: candidates
//! are always re-checked against the exact merged trajectory.

use std::sync::Arc;

use crate::error::Result;
use crate::segment::format::Bounds;
use crate::segment::{EntityGroups, EntityRows, Row, Segment, writer::piece_bounds};
use crate::trajectory::Fix;

/// One cross-segment piece.
#[derive(Debug, Clone)]
pub(crate) struct Seam {
    pub id: Arc<str>,
    pub a: Fix,
    pub b: Fix,
    pub bounds: Bounds,
}

/// All seams of a snapshot, sorted by start time, and which entities they join.
#[derive(Debug, Default)]
pub(crate) struct Seams {
    pub seams: Vec<Seam>,
    /// Per segment, a bit per entity number: set when the entity also has rows in another
    /// segment (empty for a snapshot of fewer than two segments).
    shared: Vec<Vec<u64>>,
}

impl Seams {
    pub(crate) fn build(segments: &[Arc<Segment>]) -> Result<Seams> {
        let mut seams = Vec::new();
        if segments.len() < 2 {
            return Ok(Seams {
                seams,
                shared: Vec::new(),
            });
        }
        let mut shared: Vec<Vec<u64>> = segments
            .iter()
            .map(|s| vec![0; (s.entity_count() as usize).div_ceil(64)])
            .collect();
        for (name, parts) in EntityGroups::new(segments) {
            if parts.len() > 1 {
                for &(s, e) in &parts {
                    shared[s][e as usize / 64] |= 1 << (e % 64);
                }
                entity_seams(segments, name, &parts, &mut seams)?;
            }
        }
        seams.sort_unstable_by_key(|s: &Seam| s.a.time);
        Ok(Seams { seams, shared })
    }

    /// True when entity `e` of segment `s` (its index in the snapshot) also has rows in another
    /// segment of the snapshot; when false, its rows in `s` are its whole trajectory.
    #[inline]
    pub(crate) fn is_shared(&self, s: usize, e: u32) -> bool {
        self.shared
            .get(s)
            .and_then(|bits| bits.get(e as usize / 64))
            .is_some_and(|w| w & (1 << (e % 64)) != 0)
    }

    /// Seams that may be alive at some instant of `[t0, t1]` and are at most `max_gap_ms` long.
    pub(crate) fn overlapping(
        &self,
        t0: i64,
        t1: i64,
        max_gap_ms: i64,
    ) -> impl Iterator<Item = &Seam> {
        let lo = self
            .seams
            .partition_point(|s| s.a.time.0 < t0.saturating_sub(max_gap_ms));
        let hi = self.seams.partition_point(|s| s.a.time.0 <= t1);
        self.seams[lo..hi.max(lo)]
            .iter()
            .filter(move |s| s.b.time.0 >= t0 && s.b.time.0 - s.a.time.0 <= max_gap_ms)
    }
}

fn entity_seams(
    segments: &[Arc<Segment>],
    name: &str,
    parts: &[(usize, u32)],
    out: &mut Vec<Seam>,
) -> Result<()> {
    let id: Arc<str> = Arc::from(name);
    let mut spans: Vec<(usize, EntityRows<'_>)> = Vec::with_capacity(parts.len());
    for &(s, e) in parts {
        spans.push((s, segments[s].entity_rows(e)?));
    }
    spans.sort_by_key(|(s, r)| segments[*s].time(r.first()));
    let disjoint = spans
        .windows(2)
        .all(|w| segments[w[0].0].time(w[0].1.last()) < segments[w[1].0].time(w[1].1.first()));
    let mut push = |sa: usize, ra: usize, sb: usize, rb: usize| {
        let (ra_row, rb_row) = (segments[sa].row(0, ra), segments[sb].row(0, rb));
        out.push(Seam {
            id: Arc::clone(&id),
            a: Fix::from_row(&segments[sa], ra),
            b: Fix::from_row(&segments[sb], rb),
            bounds: piece_bounds(&[ra_row, rb_row] as &[Row]),
        });
    };
    if disjoint {
        for w in spans.windows(2) {
            push(w[0].0, w[0].1.last(), w[1].0, w[1].1.first());
        }
        return Ok(());
    }
    // Interleaved deliveries: merge all rows by time and keep the pairs that change segment.
    let mut all: Vec<(i64, usize, usize)> = spans
        .iter()
        .flat_map(|(s, r)| r.iter().map(move |row| (segments[*s].time(row), *s, row)))
        .collect();
    all.sort_unstable();
    for w in all.windows(2) {
        if w[0].1 != w[1].1 {
            push(w[0].1, w[0].2, w[1].1, w[1].2);
        }
    }
    Ok(())
}
