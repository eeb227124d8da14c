//! Immutable segment files: format, writing, mapping and validated reading.

pub(crate) mod format;
mod mmap;
pub(crate) mod reader;
pub(crate) mod writer;

pub use format::FORMAT_VERSION;
pub(crate) use reader::{BoxFilter, Segment};
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
        let live = |(s, &e): (usize, &u32)| {
            (e < segments[s].entity_count()).then(|| segments[s].entity_name(e))
        };
        let name: &'s str = self.heads.iter().enumerate().filter_map(live).min()?;
        let mut parts = Vec::new();
        for (s, e) in self.heads.iter_mut().enumerate() {
            if *e < segments[s].entity_count() && segments[s].entity_name(*e) == name {
                parts.push((s, *e));
                *e += 1;
            }
        }
        Some((name, parts))
    }
}
