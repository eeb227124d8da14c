//! One entity's reports in time order, merged across segments.

use super::report::ReportRef;
use crate::error::Result;
use crate::segment::Segment;
use crate::time::TimeRange;

/// The reports of one entity within a time range, in time order, merged across segments.
pub struct TrackIter<'s> {
    cursors: Vec<(&'s Segment, u32, std::ops::Range<usize>)>,
}

impl<'s> TrackIter<'s> {
    pub(crate) fn new(
        segments: &'s [std::sync::Arc<Segment>],
        id: &str,
        range: TimeRange,
    ) -> Result<TrackIter<'s>> {
        let mut cursors = Vec::new();
        for seg in segments {
            if let Some(e) = seg.find_entity(id) {
                let rows = seg.entity_rows(e)?;
                let times = seg.time_bytes(rows.clone());
                let time_at = |i: usize| {
                    i64::from_le_bytes(times[i * 8..i * 8 + 8].try_into().expect("8 bytes"))
                };
                let n = rows.len();
                let lo = partition(n, |i| time_at(i) < range.start.0);
                let hi = partition(n, |i| time_at(i) <= range.end.0);
                if lo < hi {
                    cursors.push((&**seg, e, rows.start + lo..rows.start + hi));
                }
            }
        }
        Ok(TrackIter { cursors })
    }
}

/// First index in `0..n` where `pred` is false (pred must be monotone true→false).
pub(crate) fn partition(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

impl<'s> Iterator for TrackIter<'s> {
    type Item = ReportRef<'s>;

    fn next(&mut self) -> Option<ReportRef<'s>> {
        let (best, _) = self
            .cursors
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.2.is_empty())
            .min_by_key(|(_, c)| c.0.time(c.2.start))?;
        let (seg, entity, rows) = &mut self.cursors[best];
        let row = rows.next()?;
        Some(ReportRef {
            seg,
            entity: *entity,
            row,
        })
    }
}
