//! Immutable segment files: format, writing, mapping and validated reading.

pub(crate) mod format;
mod mmap;
pub(crate) mod reader;
pub(crate) mod writer;

pub use format::FORMAT_VERSION;
pub(crate) use reader::{BoxFilter, Cols, EntityRows, RowCursor, Segment};
pub(crate) use writer::{Row, SegmentInput, write_segment};

/// Walks the sorted entity tables of several segments together, yielding each distinct entity
/// id once, in byte order, with the `(segment index, entity number)` of every segment holding it.
pub(crate) struct EntityGroups<'s, S> {
    segments: &'s [S],
    heads: Vec<u32>,
}

impl<'s, S: std::ops::Deref<Target = Segment>> EntityGroups<'s, S> {
    pub(crate) fn new(segments: &'s [S]) -> Self {
        EntityGroups {
            segments,
            heads: vec![0; segments.len()],
        }
    }
}

impl<'s, S: std::ops::Deref<Target = Segment>> Iterator for EntityGroups<'s, S> {
    type Item = (&'s str, Vec<(usize, u32)>);

    fn next(&mut self) -> Option<Self::Item> {
        let segments = self.segments;
        // Compared as bytes (ids sort in byte order; their UTF-8 was checked at open), once
        // per segment head: the smallest head is the next id.
        let mut min: Option<&'s [u8]> = None;
        for (s, &e) in self.heads.iter().enumerate() {
            if e < segments[s].entity_count() {
                let name = segments[s].entity_name_bytes(e);
                if min.is_none_or(|m| name < m) {
                    min = Some(name);
                }
            }
        }
        let min = min?;
        let mut parts = Vec::new();
        for (s, e) in self.heads.iter_mut().enumerate() {
            if *e < segments[s].entity_count() && segments[s].entity_name_bytes(*e) == min {
                parts.push((s, *e));
                *e += 1;
            }
        }
        let name = std::str::from_utf8(min).unwrap_or("");
        Some((name, parts))
    }
}
