//! One entity's reports in time order, merged across segments.

use super::report::ReportRef;
use crate::error::Result;
use crate::segment::{RowCursor, Segment};
use crate::time::TimeRange;

/// The reports of one entity within a time range, in time order, merged across segments.
pub struct TrackIter<'s> {
    cursors: Vec<(&'s Segment, u32, RowCursor<'s>)>,
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
                let rows = seg.entity_rows(e)?.between(range.start.0, range.end.0);
                if rows.peek().is_some() {
                    cursors.push((&**seg, e, rows));
                }
            }
        }
        Ok(TrackIter { cursors })
    }
}

impl<'s> Iterator for TrackIter<'s> {
    type Item = ReportRef<'s>;

    fn next(&mut self) -> Option<ReportRef<'s>> {
        let (best, _) = self
            .cursors
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, c.2.peek_time()?)))
            .min_by_key(|&(_, t)| t)?;
        let (seg, entity, rows) = &mut self.cursors[best];
        let row = rows.next()?;
        Some(ReportRef {
            seg,
            entity: *entity,
            row,
        })
    }
}
