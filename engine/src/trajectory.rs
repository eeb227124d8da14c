//! Trajectories: the one home of interpolation and `max_gap`.
//!
//! An entity's trajectory is its reports from every segment of a snapshot, sorted by time.
//! Between consecutive reports at most `max_gap` apart the position is interpolated linearly
//! in time — latitude and altitude linearly, longitude linearly the short way across the
//! antimeridian; an unknown altitude at either end leaves the altitude unknown. Across a longer
//! gap there is no position, except at a report's own time.

use crate::error::Result;
use crate::geodesy::{lon_delta, wrap_lon};
use crate::model::{alt_from_mm, deg_from_e7};
use crate::segment::{Cols, EntityRows, Segment};
use crate::time::{TimeRange, Timestamp};

/// Default `max_gap`: 60 s.
pub const DEFAULT_MAX_GAP_MS: i64 = 60_000;

/// One report as a trajectory vertex, in degrees and metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    /// Time of the report.
    pub time: Timestamp,
    /// Longitude, degrees.
    pub lon: f64,
    /// Latitude, degrees.
    pub lat: f64,
    /// Altitude, metres; `None` when unknown.
    pub alt: Option<f64>,
}

impl Fix {
    pub(crate) fn from_row(seg: &Segment, row: usize) -> Fix {
        Fix::from_cols(&seg.cols(row..row + 1), 0)
    }

    /// Row `k` of column slices.
    #[inline]
    pub(crate) fn from_cols(c: &Cols<'_>, k: usize) -> Fix {
        Fix {
            time: Timestamp(i64::from_le_bytes(c.time[k])),
            lon: deg_from_e7(i32::from_le_bytes(c.lon[k])),
            lat: deg_from_e7(i32::from_le_bytes(c.lat[k])),
            alt: alt_from_mm(i32::from_le_bytes(c.alt[k])),
        }
    }
}

/// A stretch of trajectory: from `a` to `b` (interpolated in between), or a lone report when
/// `a == b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    /// Start.
    pub a: Fix,
    /// End (equal to `a` for a lone report).
    pub b: Fix,
}

impl Piece {
    /// True for a lone report.
    pub fn is_point(&self) -> bool {
        self.a.time == self.b.time
    }

    /// The time span `[a.time, b.time]`.
    pub fn span(&self) -> TimeRange {
        TimeRange {
            start: self.a.time,
            end: self.b.time,
        }
    }

    /// The position at `t` (which must lie in the span).
    #[inline]
    pub fn at(&self, t: Timestamp) -> Fix {
        interpolate(&self.a, &self.b, t)
    }
}

/// The position between two fixes at `t`, linear in time; lon the short way.
#[inline]
pub fn interpolate(a: &Fix, b: &Fix, t: Timestamp) -> Fix {
    if t <= a.time || a.time == b.time {
        return Fix { time: t, ..*a };
    }
    if t >= b.time {
        return Fix { time: t, ..*b };
    }
    let f = (t.0 - a.time.0) as f64 / (b.time.0 - a.time.0) as f64;
    let lon = wrap_lon(a.lon + f * lon_delta(a.lon, b.lon));
    Fix {
        time: t,
        lon: if lon == -180.0 && a.lon > 0.0 {
            180.0
        } else {
            lon
        },
        lat: a.lat + f * (b.lat - a.lat),
        alt: match (a.alt, b.alt) {
            (Some(x), Some(y)) => Some(x + f * (y - x)),
            _ => None,
        },
    }
}

/// An entity's rows in every segment (each range verified).
pub(crate) fn entity_rows<'s>(
    segments: &'s [std::sync::Arc<Segment>],
    id: &str,
) -> Result<Vec<EntityRows<'s>>> {
    let mut out = Vec::new();
    for seg in segments {
        if let Some(e) = seg.find_entity(id) {
            out.push(seg.entity_rows(e)?);
        }
    }
    Ok(out)
}

/// The entity's position at `t`, from its rows in every segment, with the side of the report
/// at or before `t`.
pub(crate) fn position_at<'s>(
    parts: &[EntityRows<'s>],
    t: Timestamp,
    max_gap_ms: i64,
) -> Option<(Fix, &'s str)> {
    position_at_row(parts, t, max_gap_ms).map(|(f, seg, row)| (f, seg.side_name(seg.side(row))))
}

/// [`position_at`], with the segment and row of the report at or before `t` (whose side the
/// position has) instead of the side's name.
pub(crate) fn position_at_row<'s>(
    parts: &[EntityRows<'s>],
    t: Timestamp,
    max_gap_ms: i64,
) -> Option<(Fix, &'s Segment, usize)> {
    let mut before: Option<(Fix, &'s Segment, usize)> = None;
    let mut after: Option<Fix> = None;
    for p in parts {
        let at = p.seek(t.0);
        if let Some(row) = at.peek() {
            let f = Fix::from_row(p.seg, row);
            if f.time == t {
                return Some((f, p.seg, row));
            }
            if after.is_none_or(|a| f.time < a.time) {
                after = Some(f);
            }
        }
        if let Some(row) = at.prev() {
            let f = Fix::from_row(p.seg, row);
            if before.is_none_or(|b| f.time > b.0.time) {
                before = Some((f, p.seg, row));
            }
        }
    }
    let ((a, seg, row), b) = (before?, after?);
    (b.time.0 - a.time.0 <= max_gap_ms).then(|| (interpolate(&a, &b, t), seg, row))
}

/// A position at `t` between two rows of one segment, its altitude not read yet (most
/// candidates of a nearest query are dropped on their horizontal position alone).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowPosition {
    /// Time, longitude and latitude as [`interpolate`] gives them; `alt` is `None` until
    /// [`RowPosition::with_alt`].
    pub fix: Fix,
    /// The report at or before `t` (whose side the position has).
    pub before: usize,
    /// The report after `t` (`before` when `t` is a report's own time).
    pub after: usize,
}

impl RowPosition {
    /// The position with its altitude: exactly what [`interpolate`] gives from the two rows.
    pub(crate) fn with_alt(&self, seg: &Segment) -> Fix {
        let (a, b) = (
            Fix::from_row(seg, self.before),
            Fix::from_row(seg, self.after),
        );
        interpolate(&a, &b, self.fix.time)
    }
}

/// The position at `t` decided from `rows` alone: verified, consecutive rows of one entity that
/// hold its whole trajectory between their first and last report (no other segment has a report
/// of it in between). `None` when `t` is outside `[first, last]`, where a neighbour may lie
/// outside `rows`; otherwise what [`position_at_row`] over all the entity's rows gives — the
/// position (`None` across a gap longer than `max_gap_ms`) and the row whose side it has.
pub(crate) fn position_within(
    seg: &Segment,
    rows: std::ops::Range<usize>,
    t: Timestamp,
    max_gap_ms: i64,
) -> Option<Option<RowPosition>> {
    if rows.is_empty() || t.0 < seg.time(rows.start) || t.0 > seg.time(rows.end - 1) {
        return None;
    }
    let flat = |row: usize| Fix {
        time: Timestamp(seg.time(row)),
        lon: deg_from_e7(seg.lon(row)),
        lat: deg_from_e7(seg.lat(row)),
        alt: None,
    };
    let row = seg.first_at_or_after(rows, t.0);
    let b = flat(row);
    if b.time == t {
        return Some(Some(RowPosition {
            fix: b,
            before: row,
            after: row,
        }));
    }
    // time(first) < t < time(row): the report before `t` is `row - 1`, inside `rows`.
    let a = flat(row - 1);
    Some((b.time.0 - a.time.0 <= max_gap_ms).then(|| RowPosition {
        fix: interpolate(&a, &b, t),
        before: row - 1,
        after: row,
    }))
}

/// The entity's reports with time in `range`, merged across segments in time order, into
/// `out` (cleared first, its allocation kept).
fn fixes_into(parts: &[EntityRows<'_>], range: TimeRange, out: &mut Vec<Fix>) {
    out.clear();
    for p in parts {
        p.prefetch(range.start.0, range.end.0);
    }
    for p in parts {
        for rows in p.between(range.start.0, range.end.0).ranges() {
            let c = p.seg.cols(rows);
            out.extend((0..c.time.len()).map(|k| Fix::from_cols(&c, k)));
        }
    }
    if parts.len() > 1 {
        out.sort_unstable_by_key(|f| f.time);
    }
}

/// The pieces of the entity's trajectory that overlap `range`: interpolation pieces between
/// consecutive reports at most `max_gap_ms` apart, and lone reports (reports with no
/// neighbour within `max_gap_ms`) inside `range`. Pieces come in time order.
pub(crate) fn pieces_in(parts: &[EntityRows<'_>], range: TimeRange, max_gap_ms: i64) -> Vec<Piece> {
    let mut out = Vec::new();
    pieces_into(parts, range, max_gap_ms, &mut Vec::new(), &mut out);
    out
}

/// [`pieces_in`] into `out` (cleared first), with `fixes` as scratch: both keep their
/// allocations, for a caller that builds the pieces of many entities in turn.
pub(crate) fn pieces_into(
    parts: &[EntityRows<'_>],
    range: TimeRange,
    max_gap_ms: i64,
    fixes: &mut Vec<Fix>,
    out: &mut Vec<Piece>,
) {
    fixes_into(parts, range.widen(max_gap_ms), fixes);
    out.clear();
    out.reserve(fixes.len());
    for (i, f) in fixes.iter().enumerate() {
        let joined_before = i > 0 && f.time.0 - fixes[i - 1].time.0 <= max_gap_ms;
        let next = fixes
            .get(i + 1)
            .filter(|n| n.time.0 - f.time.0 <= max_gap_ms);
        match next {
            Some(n) if n.time >= range.start && f.time <= range.end => {
                out.push(Piece { a: *f, b: *n })
            }
            Some(_) => {}
            None if !joined_before && range.contains(f.time) => out.push(Piece { a: *f, b: *f }),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(t: i64, lon: f64, lat: f64, alt: Option<f64>) -> Fix {
        Fix {
            time: Timestamp(t),
            lon,
            lat,
            alt,
        }
    }

    #[test]
    fn interpolates_the_short_way_across_the_antimeridian() {
        let a = fix(0, 179.0, 10.0, Some(1000.0));
        let b = fix(100, -179.0, 12.0, Some(2000.0));
        let m = interpolate(&a, &b, Timestamp(25));
        assert!((m.lon - 179.5).abs() < 1e-12);
        assert!((m.lat - 10.5).abs() < 1e-12);
        assert_eq!(m.alt, Some(1250.0));
        let m = interpolate(&a, &b, Timestamp(75));
        assert!((m.lon + 179.5).abs() < 1e-12);
        let m = interpolate(&a, &b, Timestamp(50));
        assert_eq!(m.lon.abs(), 180.0);
    }

    #[test]
    fn unknown_altitude_stays_unknown() {
        let a = fix(0, 0.0, 0.0, None);
        let b = fix(10, 1.0, 0.0, Some(5.0));
        assert_eq!(interpolate(&a, &b, Timestamp(5)).alt, None);
        assert_eq!(interpolate(&a, &b, Timestamp(10)).alt, Some(5.0));
    }
}
