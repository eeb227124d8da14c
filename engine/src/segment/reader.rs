//! Typed, validated views over a mapped segment.
//!
//! Opening checks the header, the checksums of the small sections (entities, sides, names,
//! nodes) and the tree's structure. The large sections (columns and runs) are checked lazily:
//! a leaf's run records and a run's rows are verified against their checksums the first time a
//! query touches them (remembered in atomic bitmaps), and [`Segment::verify`] checks everything.
//! After verification every index read below is in bounds, so no accessor can panic.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::format::{
    Bounds, Dim, ENTITY_LEN, EntityRec, Header, HeaderError, LON_LIMIT_E7, NODE_FANOUT, NODE_LEN,
    Node, QBOX_LEN, QBox, RUN_CRC_LEN, RUN_LEN, RUN_MAX_SPAN_MS, Run, SIDE_LEN, Section,
    children_crc, columns_crc, dims, frame_of_leaf, i32_at, i64_at, run_frame, u16_at, u32_at,
};
use wide::u8x16;

use super::mmap::Mapped;
use super::writer::{Row, piece_bounds};
use crate::error::{Error, Result};
use crate::num::{ceil_i64, floor_i64};

/// Lazily-set "already verified" flags.
#[derive(Debug)]
struct Bits(Vec<AtomicU64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits((0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect())
    }
    #[inline]
    fn get(&self, i: usize) -> bool {
        self.0[i / 64].load(Ordering::Relaxed) & (1 << (i % 64)) != 0
    }
    /// Flags `16 k..16 k + 16` (bit `j` for flag `16 k + j`; unset past the end): one load.
    #[inline]
    fn sixteen(&self, k: usize) -> u32 {
        let word = self.0.get(k / 4).map_or(0, |w| w.load(Ordering::Relaxed));
        (word >> (16 * (k % 4))) as u32 & 0xFFFF
    }
    fn set(&self, i: usize) {
        self.0[i / 64].fetch_or(1 << (i % 64), Ordering::Relaxed);
    }
}

/// One open segment.
#[derive(Debug)]
pub(crate) struct Segment {
    path: PathBuf,
    map: Mapped,
    h: Header,
    time: Range<usize>,
    lon: Range<usize>,
    lat: Range<usize>,
    alt: Range<usize>,
    side: Range<usize>,
    leaf_ok: Bits,
    run_ok: Bits,
    entity_ok: Bits,
    /// The `names` section, checked to be UTF-8 once at open (a few bytes an entity), so that
    /// names are handed out without validating them again.
    names: Box<str>,
}

/// A box filter in stored units. Longitude ranges are within [-180°, 180°] (two when a box
/// crosses the antimeridian); a stored box matches a range shifted by ±360° too.
#[derive(Debug, Clone)]
pub(crate) struct BoxFilter {
    pub lat: (i32, i32),
    pub alt: (i32, i32),
    pub time: (i64, i64),
    /// The longitude ranges at every ±360° shift that can meet a box within
    /// ±[`LON_LIMIT_E7`], clamped to `i32`: computed once per query so that box tests compare
    /// integers only (and nothing is allocated).
    shifted: [(i32, i32); 6],
    shifted_len: usize,
}

impl BoxFilter {
    /// A filter for `bbox` (degrees), times `[t0, t1]` (ms) and altitudes `[lo, hi]` (metres;
    /// `None` for all, unknown included), rounded outward to stored units.
    pub(crate) fn new(
        bbox: &crate::geodesy::BBox,
        time: (i64, i64),
        alt_m: Option<(f64, f64)>,
    ) -> BoxFilter {
        let clamp = |v: i64| v.clamp(i64::from(i32::MIN + 1), i64::from(i32::MAX)) as i32;
        BoxFilter::from_parts(
            bbox.lon_ranges()
                .map(|(w, e)| (floor_i64(w * 1e7), ceil_i64(e * 1e7))),
            (
                clamp(floor_i64(bbox.south * 1e7)),
                clamp(ceil_i64(bbox.north * 1e7)),
            ),
            alt_m.map_or((i32::MIN, i32::MAX), |(lo, hi)| {
                (clamp(floor_i64(lo * 1000.0)), clamp(ceil_i64(hi * 1000.0)))
            }),
            time,
        )
    }

    /// A filter from its stored-unit parts (longitude ranges within ±180°, at most two).
    pub(crate) fn from_parts(
        lon: impl Iterator<Item = (i64, i64)>,
        lat: (i32, i32),
        alt: (i32, i32),
        time: (i64, i64),
    ) -> BoxFilter {
        let mut shifted = [(0, 0); 6];
        let mut shifted_len = 0;
        let limit = i64::from(LON_LIMIT_E7);
        for (a, z) in lon.take(2) {
            for k in [0i64, -3_600_000_000, 3_600_000_000] {
                let (a, z) = (a + k, z + k);
                if a > z || z < -limit || a > limit {
                    continue;
                }
                let c = |v: i64| v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
                shifted[shifted_len] = (c(a), c(z));
                shifted_len += 1;
            }
        }
        BoxFilter {
            lat,
            alt,
            time,
            shifted,
            shifted_len,
        }
    }

    pub(crate) fn intersects(&self, b: &Bounds) -> bool {
        if b.t_max < self.time.0 || b.t_min > self.time.1 {
            return false;
        }
        if b.lat_max < self.lat.0 || b.lat_min > self.lat.1 {
            return false;
        }
        if b.alt_max < self.alt.0 || b.alt_min > self.alt.1 {
            return false;
        }
        self.lon_hits(b.lon_min, b.lon_max)
    }

    /// The longitude ranges a box is tested against (stored units, every ±360° shift).
    pub(crate) fn lon_ranges(&self) -> &[(i32, i32)] {
        &self.shifted[..self.shifted_len.min(6)]
    }

    #[inline]
    fn lon_hits(&self, lo: i32, hi: i32) -> bool {
        self.lon_ranges().iter().any(|&(a, z)| lo <= z && a <= hi)
    }

    /// [`BoxFilter::intersects`] on the first 40 bytes of a run or node record, read in place
    /// (most selective dimensions first, nothing decoded that is not compared).
    #[inline]
    pub(crate) fn hits_raw(&self, r: &[u8; 40]) -> bool {
        let i32_at = |at: usize| i32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
        let i64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&r[at..at + 8]);
            i64::from_le_bytes(b)
        };
        i32_at(12) >= self.lat.0
            && i32_at(4) <= self.lat.1
            && self.lon_hits(i32_at(0), i32_at(8))
            && i64_at(32) >= self.time.0
            && i64_at(24) <= self.time.1
            && i32_at(20) >= self.alt.0
            && i32_at(16) <= self.alt.1
    }

    /// A node's children's range (from its record `rec`; checked at open: at most 16), its
    /// box's [`dims`] and this filter restated in them ([`BoxFilter::in_dims`]): what tests
    /// its children and, for a leaf's frame, the leaf's runs.
    #[inline(always)]
    pub(crate) fn children_test(&self, rec: &[u8]) -> (Range<usize>, [Dim; 4], Option<ChildTest>) {
        let first = u32_at(rec, 40) as usize;
        let c = first..first + u32_at(rec, 44) as usize;
        let d = dims(&Bounds::decode(rec));
        (c, d, self.in_dims(&d))
    }

    /// Whether the filter bounds altitudes (else every altitude passes, unknown included).
    #[inline]
    fn alt_banded(&self) -> bool {
        self.alt != (i32::MIN, i32::MAX)
    }

    /// The altitude range of [`BoxFilter::in_dims`] in the quanta of `alt`: every quantum
    /// without a band (what `range` says, sooner).
    #[inline]
    fn alt_in(&self, alt: Dim) -> Option<(u8, u8)> {
        if self.alt_banded() {
            alt.range(self.alt.0.into(), self.alt.1.into())
        } else {
            Some((0, 255))
        }
    }

    /// `frame` (this filter in a leaf's frame) for the leaf's runs, whose altitudes are
    /// quantised in the leaf's (`leaf_alt`, see [`run_frame`]; read only for an altitude
    /// band); `None` when no run of the leaf can match.
    #[inline]
    fn in_leaf(&self, mut frame: ChildTest, leaf_alt: impl FnOnce() -> Dim) -> Option<ChildTest> {
        if self.alt_banded() {
            frame.alt = leaf_alt().range(self.alt.0.into(), self.alt.1.into())?;
        }
        Some(frame)
    }

    /// This filter restated in the quanta of a parent's box (a leaf's frame for runs, a node for its
    /// child nodes), given the box's [`dims`], so that the children are tested on their
    /// 8-byte quantised boxes; `None` when no child can match. `ChildTest::hits(q)` is exactly
    /// `self.intersects(&q.dequantize(parent))`.
    #[inline]
    pub(crate) fn in_dims(&self, &[lon, lat, alt, t]: &[Dim; 4]) -> Option<ChildTest> {
        let mut test = ChildTest {
            lat: lat.range(self.lat.0.into(), self.lat.1.into())?,
            alt: self.alt_in(alt)?,
            time: t.range(self.time.0, self.time.1)?,
            lon: [(0, 0); 6],
            lon_len: 0,
        };
        for &(a, z) in self.lon_ranges() {
            if let Some(r) = lon.range(a.into(), z.into()) {
                test.lon[test.lon_len] = r;
                test.lon_len += 1;
            }
        }
        (test.lon_len > 0).then_some(test)
    }
}

/// A [`BoxFilter`] in one parent's quanta (see [`BoxFilter::in_dims`]): a child with quantised
/// bounds `(lo, hi)` meets a dimension's range `(qa, qz)` when `hi >= qa && lo <= qz`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ChildTest {
    lat: (u8, u8),
    alt: (u8, u8),
    time: (u8, u8),
    lon: [(u8, u8); 6],
    lon_len: usize,
}

impl ChildTest {
    /// Whether a child's quantised box (see [`QBox`]) meets the filter: the definition
    /// [`ChildTest::mask`] computes for many boxes at once.
    #[cfg(test)]
    fn hits(&self, q: &[u8; QBOX_LEN]) -> bool {
        q[3] >= self.lat.0
            && q[1] <= self.lat.1
            && self.lon[..self.lon_len.min(6)]
                .iter()
                .any(|&(a, z)| q[2] >= a && q[0] <= z)
            && q[7] >= self.time.0
            && q[6] <= self.time.1
            && q[5] >= self.alt.0
            && q[4] <= self.alt.1
    }

    /// `ChildTest::hits` (the definition, kept for the tests) for each of `boxes` (at most
    /// [`NODE_FANOUT`] = 16; more are ignored), bit `c` for `boxes[c]`, in a few vector
    /// instructions.
    ///
    /// A box meets the test when each of its bytes lies within a per-position range: its low
    /// bounds (bytes 0, 1, 4, 6) at most the query's high quanta, its high bounds (2, 3, 5, 7)
    /// at least the low ones. Two boxes fill a 16-byte vector; `lo − x` and `x − hi`, both
    /// saturating at zero, are zero in every byte exactly when the box passes. The 16 boxes'
    /// byte verdicts (8 bits each) are then gathered into one vector whose byte `c` is 255
    /// exactly when box `c` passes everywhere.
    #[inline]
    pub(crate) fn mask(&self, boxes: &[[u8; QBOX_LEN]]) -> u32 {
        const ALL: usize = NODE_FANOUT * QBOX_LEN;
        let n = boxes.len().min(NODE_FANOUT);
        let flat = boxes[..n].as_flattened();
        let bytes: [u8; ALL] = match flat.first_chunk::<ALL>() {
            Some(b) => *b,
            None => {
                let mut b = [0; ALL];
                b[..flat.len()].copy_from_slice(flat);
                b
            }
        };
        let mut m = 0;
        for &(a, z) in &self.lon[..self.lon_len.min(6)] {
            let lo = u64::from_le_bytes([0, 0, a, self.lat.0, 0, self.alt.0, 0, self.time.0]);
            let hi =
                u64::from_le_bytes([z, self.lat.1, 255, 255, self.alt.1, 255, self.time.1, 255]);
            let (lo, hi): (u8x16, u8x16) = (bytemuck::cast([lo; 2]), bytemuck::cast([hi; 2]));
            let mut verdicts = 0u128;
            for (i, pair) in bytes.as_chunks::<16>().0.iter().enumerate() {
                let x = u8x16::new(*pair);
                let outside = lo.saturating_sub(x) | x.saturating_sub(hi);
                let ok = outside.cmp_eq(u8x16::ZERO).move_mask() as u16;
                verdicts |= u128::from(ok) << (16 * i);
            }
            let all = u8x16::new(verdicts.to_le_bytes()).cmp_eq(u8x16::splat(255));
            m |= all.move_mask() as u32 & 0xFFFF;
        }
        m & ((1 << n) - 1)
    }
}

/// Leaf `leaf`'s altitude bounds (`nodes` the node section), in which its runs' altitudes are
/// quantised (see [`run_frame`]).
#[inline]
fn leaf_alt(nodes: &[u8], leaf: usize) -> Dim {
    let rec = &nodes[leaf * NODE_LEN..(leaf + 1) * NODE_LEN];
    Dim::new(i32_at(rec, 16).into(), i32_at(rec, 20).into())
}

/// The quantised boxes `c` of a section of them (checked at open or by the caller: inside it).
#[inline(always)]
fn quantised(boxes: &[u8], c: Range<usize>) -> &[[u8; QBOX_LEN]] {
    boxes[c.start * QBOX_LEN..c.end * QBOX_LEN]
        .as_chunks::<QBOX_LEN>()
        .0
}

/// The 40-byte box at the start of record `i` of `section` (records of `len` bytes).
#[inline]
fn box_of(section: &[u8], len: usize, i: usize) -> &[u8; 40] {
    section[i * len..i * len + 40].try_into().expect("40 bytes")
}

impl Segment {
    /// Opens and validates a segment file.
    pub(crate) fn open(path: &Path) -> Result<Segment> {
        Segment::from_mapped(path, Mapped::open(path)?)
    }

    /// Validates bytes already in memory as if they were the file `path`.
    pub(crate) fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Segment> {
        Segment::from_mapped(path, Mapped::from_vec(bytes))
    }

    fn from_mapped(path: &Path, map: Mapped) -> Result<Segment> {
        let bytes = map.bytes();
        let h = Header::decode(bytes).map_err(|e| match e {
            HeaderError::Corrupt { offset, reason } => Error::corrupt(path, Some(offset), reason),
            HeaderError::Version(found) => Error::UnsupportedVersion {
                path: path.into(),
                found,
            },
        })?;
        let mut seg = Segment {
            path: path.into(),
            time: h.range(Section::Time),
            lon: h.range(Section::Lon),
            lat: h.range(Section::Lat),
            alt: h.range(Section::Alt),
            side: h.range(Section::Side),
            leaf_ok: Bits::new(h.leaves as usize),
            run_ok: Bits::new(h.runs as usize),
            entity_ok: Bits::new(h.entities as usize),
            names: Box::default(),
            h,
            map,
        };
        for s in [
            Section::Entities,
            Section::Sides,
            Section::Names,
            Section::Nodes,
            Section::NodeBoxes,
        ] {
            seg.check_section_crc(s)?;
        }
        seg.names = std::str::from_utf8(seg.section(Section::Names))
            .map_err(|e| {
                let at = seg.h.range(Section::Names).start + e.valid_up_to();
                seg.corrupt(at, "names section is not UTF-8")
            })?
            .into();
        seg.check_entities()?;
        seg.check_sides()?;
        seg.check_tree()?;
        Ok(seg)
    }

    fn bytes(&self) -> &[u8] {
        self.map.bytes()
    }

    fn corrupt(&self, offset: usize, reason: impl Into<String>) -> Error {
        Error::corrupt(&self.path, Some(offset as u64), reason)
    }

    fn section(&self, s: Section) -> &[u8] {
        &self.bytes()[self.h.range(s)]
    }

    fn check_section_crc(&self, s: Section) -> Result<()> {
        if crc32c::crc32c(self.section(s)) != self.h.sections[s as usize].crc {
            return Err(self.corrupt(
                self.h.range(s).start,
                format!("{} section checksum mismatch", s.name()),
            ));
        }
        Ok(())
    }

    fn check_entities(&self) -> Result<()> {
        let (mut next_row, mut next_run) = (0u64, 0u64);
        let mut prev: Option<&str> = None;
        for e in 0..self.h.entities {
            let r = self.entity(e);
            let at = self.h.range(Section::Entities).start + e as usize * ENTITY_LEN;
            // Inside the (UTF-8) section and on character boundaries: UTF-8 on its own.
            let name = self
                .names
                .get(r.name_off as usize..r.name_off as usize + r.name_len as usize)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| self.corrupt(at, "entity name out of bounds or not UTF-8"))?;
            if prev.is_some_and(|p| p >= name) {
                return Err(self.corrupt(at, "entity names not sorted"));
            }
            prev = Some(name);
            if u64::from(r.first_run) != next_run
                || r.runs == 0
                || r.rows < r.runs
                || r.t_min > r.t_max
            {
                return Err(self.corrupt(at, "entity run lists not contiguous"));
            }
            next_run += u64::from(r.runs);
            next_row += u64::from(r.rows);
        }
        if next_row != self.h.rows || next_run != u64::from(self.h.runs) {
            return Err(self.corrupt(
                self.h.range(Section::Entities).start,
                "entities do not cover the rows and runs",
            ));
        }
        Ok(())
    }

    fn check_sides(&self) -> Result<()> {
        let base = self.h.range(Section::Sides).start;
        for s in 0..self.h.sides as usize {
            let b = &self.section(Section::Sides)[s * SIDE_LEN..(s + 1) * SIDE_LEN];
            let (off, len) = (u32_at(b, 0) as usize, u32_at(b, 4) as usize);
            // Inside the (UTF-8) section and on character boundaries: UTF-8 on its own.
            if self.names.get(off..off + len).is_none() {
                return Err(
                    self.corrupt(base + s * SIDE_LEN, "side name out of bounds or not UTF-8")
                );
            }
        }
        Ok(())
    }

    /// Checks the tree's shape: leaves cover the runs in order, each internal level covers the
    /// level below in order, every child precedes its parent (so traversal terminates), no node
    /// has more than [`NODE_FANOUT`] children.
    fn check_tree(&self) -> Result<()> {
        let (nodes, leaves, runs) = (
            self.h.nodes as usize,
            self.h.leaves as usize,
            self.h.runs as usize,
        );
        let base = self.h.range(Section::Nodes).start;
        let mut next_run = 0usize;
        let mut next_node = 0usize;
        for i in 0..nodes {
            let n = self.node(i);
            let (first, count) = (n.first_child as usize, n.children as usize);
            let ok = n.bounds.is_well_formed()
                && (1..=NODE_FANOUT).contains(&count)
                && if i < leaves {
                    // Leaf `l` holds runs `16 l..` (16 of them but for the last leaf): a search
                    // finds a leaf's runs without reading its record.
                    let ok = first == next_run
                        && first + count <= runs
                        && (count == NODE_FANOUT || i + 1 == leaves);
                    next_run = first + count;
                    ok
                } else {
                    // A node's children are all leaves or all nodes, and leaf `l`'s parent
                    // is node `leaves + l / NODE_FANOUT` (see `frame_of_leaf`).
                    let ok = first == next_node
                        && first + count <= i
                        && (first >= leaves
                            || (first + count <= leaves && first == (i - leaves) * NODE_FANOUT));
                    next_node = first + count;
                    ok
                };
            if !ok {
                return Err(self.corrupt(base + i * NODE_LEN, "malformed index node"));
            }
        }
        let covered = if nodes > leaves {
            next_node == nodes - 1
        } else {
            nodes <= 1
        };
        if next_run != runs || !covered {
            return Err(self.corrupt(base, "index does not cover every run"));
        }
        Ok(())
    }

    pub(crate) fn rows(&self) -> usize {
        self.h.rows as usize
    }

    pub(crate) fn side_count(&self) -> u16 {
        self.h.sides as u16
    }

    pub(crate) fn entity_count(&self) -> u32 {
        self.h.entities
    }

    pub(crate) fn file_len(&self) -> u64 {
        self.h.file_len
    }

    pub(crate) fn entity(&self, e: u32) -> EntityRec {
        let at = e as usize * ENTITY_LEN;
        EntityRec::decode(&self.section(Section::Entities)[at..at + ENTITY_LEN])
    }

    /// An entity's id (validated UTF-8 at open).
    pub(crate) fn entity_name(&self, e: u32) -> &str {
        let at = e as usize * ENTITY_LEN;
        let rec = &self.section(Section::Entities)[at..at + ENTITY_LEN];
        self.name_at(u32_at(rec, 8) as usize, u32_at(rec, 12) as usize)
    }

    /// The name at `off..off + len` of the names section (checked at open: inside the
    /// section, UTF-8 on its own, so on character boundaries of the section).
    #[inline]
    fn name_at(&self, off: usize, len: usize) -> &str {
        self.names.get(off..off + len).unwrap_or("")
    }

    /// The bytes of an entity's id, read in place (no UTF-8 check).
    #[inline]
    pub(crate) fn entity_name_bytes(&self, e: u32) -> &[u8] {
        let at = e as usize * ENTITY_LEN;
        let rec = &self.section(Section::Entities)[at..at + ENTITY_LEN];
        let (off, len) = (u32_at(rec, 8) as usize, u32_at(rec, 12) as usize);
        &self.section(Section::Names)[off..off + len]
    }

    /// A side's name (validated at open; rows' side numbers are validated with their run).
    pub(crate) fn side_name(&self, s: u16) -> &str {
        let b =
            &self.section(Section::Sides)[usize::from(s) * SIDE_LEN..usize::from(s + 1) * SIDE_LEN];
        self.name_at(u32_at(b, 0) as usize, u32_at(b, 4) as usize)
    }

    /// The number of a side name in this segment, if any row has it.
    pub(crate) fn find_side(&self, name: &str) -> Option<u16> {
        (0..self.h.sides)
            .map(|s| s as u16)
            .find(|&s| self.side_name(s) == name)
    }

    /// Binary search of the sorted entity table.
    pub(crate) fn find_entity(&self, name: &str) -> Option<u32> {
        self.find_entity_bytes(name.as_bytes())
    }

    /// Binary search of the sorted entity table, by id bytes.
    pub(crate) fn find_entity_bytes(&self, name: &[u8]) -> Option<u32> {
        let n = self.h.entities;
        // Segments often hold disjoint id ranges: two comparisons rule most of them out.
        if n == 0 || name < self.entity_name_bytes(0) || name > self.entity_name_bytes(n - 1) {
            return None;
        }
        let (mut lo, mut hi) = (0u32, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.entity_name_bytes(mid).cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    pub(crate) fn node(&self, i: usize) -> Node {
        Node::decode(&self.section(Section::Nodes)[i * NODE_LEN..(i + 1) * NODE_LEN])
    }

    /// The record of run `i` (`i` below the run count), without its box, unverified: what an
    /// entity's run list leads to.
    #[inline]
    fn run_record(&self, i: usize) -> Run {
        Run::decode(
            &self.section(Section::Runs)[i * RUN_LEN..(i + 1) * RUN_LEN],
            Bounds::EMPTY,
        )
    }

    /// The checksum of run `i`'s rows (`i` below the run count), unverified: its leaf's
    /// checksum covers it.
    #[inline]
    fn run_crc(&self, i: usize) -> u32 {
        u32_at(self.section(Section::RunCrcs), i * RUN_CRC_LEN)
    }

    /// Run `i` of a leaf whose runs are quantised in dimensions `leaf` (its [`run_frame`]),
    /// unverified.
    #[inline]
    fn run_raw(&self, i: usize, leaf: &[Dim; 4]) -> Run {
        decode_run(
            self.section(Section::RunBoxes),
            self.section(Section::Runs),
            i,
            leaf,
        )
    }

    #[inline]
    pub(crate) fn time(&self, row: usize) -> i64 {
        i64_at(self.bytes(), self.time.start + row * 8)
    }
    #[inline]
    pub(crate) fn lon(&self, row: usize) -> i32 {
        i32_at(self.bytes(), self.lon.start + row * 4)
    }
    #[inline]
    pub(crate) fn lat(&self, row: usize) -> i32 {
        i32_at(self.bytes(), self.lat.start + row * 4)
    }
    #[inline]
    pub(crate) fn alt(&self, row: usize) -> i32 {
        i32_at(self.bytes(), self.alt.start + row * 4)
    }
    #[inline]
    pub(crate) fn side(&self, row: usize) -> u16 {
        u16_at(self.bytes(), self.side.start + row * 2)
    }

    pub(crate) fn row(&self, entity: u32, row: usize) -> Row {
        Row {
            entity,
            side: self.side(row),
            time: self.time(row),
            lon: self.lon(row),
            lat: self.lat(row),
            alt: self.alt(row),
        }
    }

    /// The first row of `rows` (verified consecutive rows of one entity, a run's or part of
    /// one) at or after `t`
    /// (`rows.end` when none is).
    pub(crate) fn first_at_or_after(&self, rows: Range<usize>, t: i64) -> usize {
        let start = rows.start;
        let times: &[[u8; 8]] = self.column(self.time.start, rows);
        start + times.partition_point(|b| i64::from_le_bytes(*b) < t)
    }

    /// The column bytes of a row range, as fixed-width records read in place.
    #[inline]
    pub(crate) fn cols(&self, rows: Range<usize>) -> Cols<'_> {
        Cols {
            time: self.column(self.time.start, rows.clone()),
            lon: self.column(self.lon.start, rows.clone()),
            lat: self.column(self.lat.start, rows.clone()),
            alt: self.column(self.alt.start, rows.clone()),
            side: self.column(self.side.start, rows),
        }
    }

    /// Rows `rows` of the column of `W`-byte values starting at byte `base`.
    #[inline]
    fn column<const W: usize>(&self, base: usize, rows: Range<usize>) -> &[[u8; W]] {
        self.bytes()[base + rows.start * W..base + rows.end * W]
            .as_chunks::<W>()
            .0
    }

    /// Rows `range` hold valid sides and coordinates, strictly increasing times, and match
    /// `crc` (computed over the column bytes in place, in file order: the same bytes
    /// [`super::writer::rows_crc`] checksums).
    fn check_rows(&self, range: Range<usize>, crc: u32, at: usize, what: &str) -> Result<()> {
        let c = self.cols(range);
        let sum = columns_crc([
            c.time.as_flattened(),
            c.lon.as_flattened(),
            c.lat.as_flattened(),
            c.alt.as_flattened(),
            c.side.as_flattened(),
        ]);
        if sum != crc {
            return Err(self.corrupt(at, format!("{what}: column checksum mismatch")));
        }
        let sides = self.h.sides;
        // unsigned_abs: `i32::MIN.abs()` overflows (a panic in debug, a pass in release).
        let sane = c
            .side
            .iter()
            .all(|s| u32::from(u16::from_le_bytes(*s)) < sides)
            && c.lon
                .iter()
                .all(|v| i32::from_le_bytes(*v).unsigned_abs() <= 1_800_000_000)
            && c.lat
                .iter()
                .all(|v| i32::from_le_bytes(*v).unsigned_abs() <= 900_000_000)
            && c.time
                .windows(2)
                .all(|w| i64::from_le_bytes(w[0]) < i64::from_le_bytes(w[1]));
        if !sane {
            return Err(self.corrupt(at, format!("{what}: rows out of range or order")));
        }
        Ok(())
    }

    /// Entity `e`'s rows, verified on first touch: its run list matches its checksum and
    /// names runs of `e` only, whose rows match their checksums and follow each other in time
    /// from `t_min` to `t_max`.
    pub(crate) fn entity_rows(&self, e: u32) -> Result<EntityRows<'_>> {
        let r = self.entity(e);
        // Checked at open: the entities' run lists tile the section.
        let list = self.column::<4>(
            self.h.range(Section::EntityRuns).start,
            r.first_run as usize..(r.first_run + r.runs) as usize,
        );
        let rows = EntityRows {
            seg: self,
            list,
            rows: r.rows as usize,
            span: (r.t_min, r.t_max),
        };
        if !self.entity_ok.get(e as usize) {
            self.check_entity_first(e, &r, &rows)?;
        }
        Ok(rows)
    }

    #[cold]
    fn check_entity_first(&self, e: u32, r: &EntityRec, rows: &EntityRows<'_>) -> Result<()> {
        let at = self.h.range(Section::Entities).start + e as usize * ENTITY_LEN;
        if crc32c::crc32c(rows.list.as_flattened()) != r.crc {
            return Err(self.corrupt(at, "entity: run list checksum mismatch"));
        }
        let runs_at = self.h.range(Section::Runs).start;
        let (mut n, mut last) = (0usize, None);
        for raw in rows.list {
            let i = u32::from_le_bytes(*raw) as usize;
            if i >= self.h.runs as usize {
                return Err(self.corrupt(at, "entity: run list names no run"));
            }
            let run = self.run_record(i);
            let range = run.rows();
            if run.entity != e || range.end > self.rows() {
                return Err(self.corrupt(runs_at + i * RUN_LEN, "run outside its entity"));
            }
            // A run a search has verified passed the same row checks.
            if !self.run_ok.get(i) {
                self.check_rows(range.clone(), self.run_crc(i), runs_at + i * RUN_LEN, "run")?;
            }
            if last.is_some_and(|t| t >= self.time(range.start)) {
                return Err(self.corrupt(at, "entity: runs out of time order"));
            }
            last = Some(self.time(range.end - 1));
            n += range.len();
        }
        if n != rows.rows || self.time(rows.first()) != r.t_min || self.time(rows.last()) != r.t_max
        {
            return Err(self.corrupt(at, "entity: rows or time bounds disagree with its runs"));
        }
        self.entity_ok.set(e as usize);
        Ok(())
    }

    /// Every row of `rows` lies in `b` (its longitude directly or shifted by ±360°): what lets
    /// queries skip the per-row test of a dimension whose bounds contain the run's box.
    fn box_holds_rows(&self, b: &Bounds, rows: Range<usize>) -> bool {
        let c = self.cols(rows);
        let lon_in = |v: i32| {
            let v = i64::from(v);
            [v, v - 3_600_000_000, v + 3_600_000_000]
                .iter()
                .any(|&x| i64::from(b.lon_min) <= x && x <= i64::from(b.lon_max))
        };
        (0..c.lat.len()).all(|j| {
            let (lat, lon) = (i32::from_le_bytes(c.lat[j]), i32::from_le_bytes(c.lon[j]));
            let (t, alt) = (i64::from_le_bytes(c.time[j]), i32::from_le_bytes(c.alt[j]));
            (b.lat_min..=b.lat_max).contains(&lat)
                && lon_in(lon)
                && (b.t_min..=b.t_max).contains(&t)
                && (b.alt_min..=b.alt_max).contains(&alt)
        })
    }

    /// Checks a leaf's run records against the checksum in the (already verified) node.
    #[inline]
    fn verify_leaf(&self, leaf: usize) -> Result<()> {
        if self.leaf_ok.get(leaf) {
            return Ok(());
        }
        self.verify_leaf_first(leaf)
    }

    #[cold]
    fn verify_leaf_first(&self, leaf: usize) -> Result<()> {
        let n = self.node(leaf);
        let runs = n.first_child as usize..(n.first_child + n.children) as usize;
        let boxes = &self.section(Section::RunBoxes)[runs.start * QBOX_LEN..runs.end * QBOX_LEN];
        let recs = &self.section(Section::Runs)[runs.start * RUN_LEN..runs.end * RUN_LEN];
        let crcs =
            &self.section(Section::RunCrcs)[runs.start * RUN_CRC_LEN..runs.end * RUN_CRC_LEN];
        if children_crc(&[boxes, recs, crcs]) != n.crc {
            let at = self.h.range(Section::Runs).start + n.first_child as usize * RUN_LEN;
            return Err(self.corrupt(at, "run records checksum mismatch"));
        }
        self.leaf_ok.set(leaf);
        Ok(())
    }

    /// Run `i` of a verified leaf whose runs are quantised in dimensions `leaf` (see
    /// [`run_frame`]), its rows verified through its own checksum.
    #[inline]
    fn run(&self, i: usize, leaf: &[Dim; 4]) -> Result<Run> {
        let run = self.run_raw(i, leaf);
        self.check_run(i, &run)?;
        Ok(run)
    }

    /// Checks run `i` (decoded as `run`) on its first touch: its record is well formed, its
    /// rows lie in its entity, match its checksum and lie in its box. Remembered, so that
    /// later touches cost one bit test.
    #[inline]
    fn check_run(&self, i: usize, run: &Run) -> Result<()> {
        if self.run_ok.get(i) {
            return Ok(());
        }
        self.check_run_first(i, run)
    }

    #[cold]
    fn check_run_first(&self, i: usize, run: &Run) -> Result<()> {
        let at = self.h.range(Section::Runs).start + i * RUN_LEN;
        // A record always decodes to 1..=16 rows (`RUN_MAX_ROWS`).
        if run.entity >= self.h.entities || !run.bounds.is_well_formed() {
            return Err(self.corrupt(at, "malformed run"));
        }
        let rows = run.rows();
        if rows.end > self.rows() {
            return Err(self.corrupt(at, "run rows outside the columns"));
        }
        self.check_rows(rows.clone(), self.run_crc(i), at, "run")?;
        if !self.box_holds_rows(&run.bounds, rows.clone()) {
            return Err(self.corrupt(at, "run box does not contain its rows"));
        }
        // A window's time test takes the rows' times relative to the first in 32 bits. They
        // strictly increase (`check_rows`): the span is the last less the first.
        let span = i128::from(self.time(rows.end - 1)) - i128::from(self.time(rows.start));
        if span > i128::from(RUN_MAX_SPAN_MS) {
            return Err(self.corrupt(at, "run rows span too long a time"));
        }
        self.run_ok.set(i);
        Ok(())
    }

    /// The runs [`Segment::search`] returns, verified the same way, found a level of the tree
    /// at a time rather than depth first: the records and child boxes of every node of a level
    /// are requested together, and the records of every matching run of the leaf level, so
    /// that their cache misses overlap (depth first, each node waits for its own). For a large
    /// search of a large segment (an operation's volume at 100 M reports: ≈ 1 000 nodes,
    /// ≈ 300 runs), where those misses are most of the time.
    ///
    /// The runs come in the order of `search` when every leaf is at one depth, as the writer
    /// packs them (a crafted tree may mix depths: then the same runs in another order), and
    /// the first error is `search`'s too: leaves and runs are verified in the same order.
    pub(crate) fn search_wide(&self, filter: &BoxFilter) -> Result<Vec<Run>> {
        let nodes = self.section(Section::Nodes);
        let (boxes, runs) = (self.section(Section::RunBoxes), self.section(Section::Runs));
        let node_boxes = self.section(Section::NodeBoxes);
        let leaves = self.h.leaves as usize;
        let n = self.h.nodes as usize;
        let mut out = Vec::new();
        if n == 0 || !filter.hits_raw(box_of(nodes, NODE_LEN, n - 1)) {
            return Ok(out);
        }
        // Checked at open (`check_tree`): every node is the child of one parent, children
        // precede their parent and lie inside the sections, at most 16 of them.
        let children = |i: usize| {
            let rec = &nodes[i * NODE_LEN..(i + 1) * NODE_LEN];
            let first = u32_at(rec, 40) as usize;
            (rec, first..first + u32_at(rec, 44) as usize)
        };
        // The level's nodes, each leaf with its frame's dimensions and the filter in them
        // (`None` for the root).
        type Entry = (u32, Option<([Dim; 4], ChildTest)>);
        let mut level: Vec<Entry> = vec![(n as u32 - 1, None)];
        let mut next: Vec<Entry> = Vec::new();
        // Matching runs of the level's leaves: (leaf, its frame's dimensions, its first run, the
        // mask of its runs that match).
        let mut hit_leaves: Vec<(usize, [Dim; 4], usize, u32)> = Vec::new();
        while !level.is_empty() {
            let mut touched = 0u8;
            for &(i, _) in &level {
                let (_, c) = children(i as usize);
                let b = if (i as usize) < leaves {
                    boxes
                } else {
                    node_boxes
                };
                for line in b[c.start * QBOX_LEN..c.end * QBOX_LEN].chunks(64) {
                    touched ^= line[0];
                }
            }
            std::hint::black_box(touched);
            hit_leaves.clear();
            for &(i, frame) in &level {
                let i = i as usize;
                let (rec, _) = children(i);
                if i < leaves {
                    // A leaf without a frame is the root: its own.
                    let (c, dims, test) = filter.children_test(rec);
                    let Some((mut dims, test)) = frame.or(test.map(|t| (dims, t))) else {
                        continue;
                    };
                    // Its runs' altitudes are quantised in its own (see `run_frame`).
                    dims[2] = leaf_alt(nodes, i);
                    let mask = filter
                        .in_leaf(test, || dims[2])
                        .map_or(0, |test| test.mask(quantised(boxes, c.clone())));
                    hit_leaves.push((i, dims, c.start, mask));
                } else {
                    let (c, dims, test) = filter.children_test(rec);
                    let Some(test) = test else { continue };
                    let mut hits = test.mask(quantised(node_boxes, c.clone()));
                    // Checked at open: the children are all leaves (this node is their
                    // frame) or all nodes.
                    let frame = (c.start < leaves).then_some((dims, test));
                    while hits != 0 {
                        next.push(((c.start + hits.trailing_zeros() as usize) as u32, frame));
                        hits &= hits - 1;
                    }
                }
            }
            let mut touched = 0u8;
            for &(_, _, first, mask) in &hit_leaves {
                let mut m = mask;
                while m != 0 {
                    touched ^= runs[(first + m.trailing_zeros() as usize) * RUN_LEN];
                    m &= m - 1;
                }
            }
            std::hint::black_box(touched);
            for &(leaf, frame_dims, first, mask) in &hit_leaves {
                self.verify_leaf(leaf)?;
                let mut m = mask;
                while m != 0 {
                    let i = first + m.trailing_zeros() as usize;
                    m &= m - 1;
                    let run = decode_run(boxes, runs, i, &frame_dims);
                    self.check_run(i, &run)?;
                    out.push(run);
                }
            }
            std::mem::swap(&mut level, &mut next);
            next.clear();
        }
        Ok(out)
    }

    /// The reports a search with `filter` reads through, estimated: the segment's reports times
    /// the share of its box (longitude, latitude and time; altitude is left out, because a
    /// search reads the runs of every leaf the other three dimensions meet) that the filter
    /// covers, as if reports were spread evenly. Cheap (the root's record only); for choosing
    /// how to run a search, never for its answer.
    pub(crate) fn reports_within(&self, filter: &BoxFilter) -> f64 {
        let n = self.h.nodes as usize;
        if n == 0 {
            return 0.0;
        }
        let b = self.node(n - 1).bounds;
        // The share of `[lo, hi]` that `[a, z]` covers (a point-wide box counts as one unit).
        let share = |lo: f64, hi: f64, a: f64, z: f64| {
            ((z.min(hi) - a.max(lo) + 1.0).max(0.0) / (hi - lo + 1.0)).min(1.0)
        };
        let (lon_lo, lon_hi) = (f64::from(b.lon_min), f64::from(b.lon_max));
        let lon: f64 = filter
            .lon_ranges()
            .iter()
            .map(|&(a, z)| share(lon_lo, lon_hi, f64::from(a), f64::from(z)))
            .sum();
        let lat = share(
            f64::from(b.lat_min),
            f64::from(b.lat_max),
            f64::from(filter.lat.0),
            f64::from(filter.lat.1),
        );
        let time = share(
            b.t_min as f64,
            b.t_max as f64,
            filter.time.0 as f64,
            filter.time.1 as f64,
        );
        self.rows() as f64 * lon.min(1.0) * lat * time
    }

    /// Runs whose boxes intersect `filter`, in index order, verified on first touch.
    pub(crate) fn search<'s>(&'s self, filter: &'s BoxFilter) -> RunSearch<'s> {
        let nodes = self.section(Section::Nodes);
        let mut search = RunSearch {
            seg: self,
            filter,
            nodes,
            boxes: self.section(Section::RunBoxes),
            runs: self.section(Section::Runs),
            node_boxes: self.section(Section::NodeBoxes),
            leaves: self.h.leaves as usize,
            stack: [0; STACK],
            len: 0,
            frame: Frame {
                node: 0,
                dims: dims(&Bounds::EMPTY),
                test: ChildTest::default(),
                first: 0,
                pending: 0,
            },
            leaf_dims: dims(&Bounds::EMPTY),
            leaf_first: 0,
            leaf_hits: 0,
        };
        let n = self.h.nodes as usize;
        if n > 0 && filter.hits_raw(box_of(nodes, NODE_LEN, n - 1)) {
            search.stack[0] = n as u32 - 1;
            search.len = 1;
        }
        search
    }

    /// Checks every checksum and invariant; returns the first problem found.
    pub(crate) fn verify(&self) -> Result<()> {
        for s in Section::ALL {
            self.check_section_crc(s)?;
        }
        // Every run is listed by its entity, once (run lists are checked to name runs of their
        // entity in strict time order, and together they have one entry per run); the row
        // after each run in its entity's time order, if any:
        let mut next_row = vec![u32::MAX; self.h.runs as usize];
        for e in 0..self.h.entities {
            let rows = self.entity_rows(e)?;
            for w in rows.list.windows(2) {
                let next = rows.run_rows(u32::from_le_bytes(w[1]) as usize).start;
                next_row[u32::from_le_bytes(w[0]) as usize] = next as u32;
            }
        }
        let mut covered = vec![false; self.rows()];
        let runs_base = self.h.range(Section::Runs).start;
        let (leaves, nodes) = (self.h.leaves as usize, self.h.nodes as usize);
        for leaf in 0..leaves {
            let n = self.node(leaf);
            let frame = dims(&run_frame(
                &self.node(frame_of_leaf(leaf, leaves, nodes)).bounds,
                &n.bounds,
            ));
            self.verify_leaf(leaf)?;
            for i in n.first_child as usize..(n.first_child + n.children) as usize {
                let run = self.run(i, &frame)?;
                let rows = run.rows();
                let next = next_row
                    .get(i)
                    .filter(|&&r| r != u32::MAX)
                    .map(|&r| r as usize);
                let pieces: Vec<Row> = rows
                    .clone()
                    .chain(next)
                    .map(|r| self.row(run.entity, r))
                    .collect();
                // The run's box is dequantised in its frame, so it may reach beyond its
                // leaf's: the leaf's must hold the pieces themselves.
                let pieces = piece_bounds(&pieces);
                if !run.bounds.contains(&pieces) || !n.bounds.contains(&pieces) {
                    return Err(
                        self.corrupt(runs_base + i * RUN_LEN, "run box does not contain its rows")
                    );
                }
                for r in rows {
                    if std::mem::replace(&mut covered[r], true) {
                        return Err(self.corrupt(runs_base + i * RUN_LEN, "row in two runs"));
                    }
                }
            }
        }
        if let Some(r) = covered.iter().position(|c| !c) {
            return Err(self.corrupt(self.time.start + r * 8, "row in no run"));
        }
        let nodes_base = self.h.range(Section::Nodes).start;
        for i in self.h.leaves as usize..self.h.nodes as usize {
            let n = self.node(i);
            for c in n.first_child..n.first_child + n.children {
                let child = self.node(c as usize).bounds;
                let q = &self.section(Section::NodeBoxes)
                    [c as usize * QBOX_LEN..(c as usize + 1) * QBOX_LEN];
                let quantised = QBox(q.try_into().expect("8 bytes")).dequantize(&n.bounds);
                if !n.bounds.contains(&child) || !quantised.contains(&child) {
                    return Err(self.corrupt(
                        nodes_base + i * NODE_LEN,
                        "node box does not contain its children",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Run `i` from the run-box and run-record sections, its box dequantised in dimensions `leaf`
/// (its leaf's [`run_frame`]; unverified: see [`Segment::check_run`]).
#[inline(always)]
fn decode_run(boxes: &[u8], runs: &[u8], i: usize, leaf: &[Dim; 4]) -> Run {
    let q: [u8; QBOX_LEN] = boxes[i * QBOX_LEN..(i + 1) * QBOX_LEN]
        .try_into()
        .expect("8 bytes");
    Run::decode(
        &runs[i * RUN_LEN..(i + 1) * RUN_LEN],
        QBox(q).dequantize_in(leaf),
    )
}

/// Room for the depth-first stack: at most `NODE_FANOUT - 1` pending siblings per level plus
/// one, over at most 8 levels (16^8 = 2^32 runs).
const STACK: usize = 8 * 16 + 1;

/// Depth-first search of the packed R-tree. Children are tested when their parent is expanded,
/// on their raw box bytes; only matching nodes are pushed, and nothing is allocated. A parent
/// of leaves is the frame of its leaves' runs (see [`frame_of_leaf`]): the query restated in
/// its quanta tests its leaves and then, leaf by leaf, their runs.
pub(crate) struct RunSearch<'s> {
    seg: &'s Segment,
    filter: &'s BoxFilter,
    nodes: &'s [u8],
    boxes: &'s [u8],
    runs: &'s [u8],
    node_boxes: &'s [u8],
    leaves: usize,
    stack: [u32; STACK],
    len: usize,
    /// The frame being scanned: its node, its box's dimensions, the filter in them, its first
    /// leaf and its leaves meeting the filter not yet scanned (bit `i` for leaf
    /// `frame_first + i`).
    frame: Frame,
    /// The leaf being scanned: its runs' dimensions ([`RunSearch::run_dims`]), its first run,
    /// and its runs meeting the filter not yet returned (bit `i` for run `leaf_first + i`).
    leaf_dims: [Dim; 4],
    leaf_first: usize,
    leaf_hits: u32,
}

/// See [`RunSearch::frame`].
#[derive(Debug, Clone, Copy)]
struct Frame {
    node: usize,
    dims: [Dim; 4],
    test: ChildTest,
    first: usize,
    pending: u32,
}

/// The runs of one leaf whose boxes meet a search's filter (see [`RunSearch::next_leaf`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeafHits {
    /// The leaf's first run.
    pub first: usize,
    /// Bit `i` for run `first + i`.
    pub hits: u32,
    /// The leaf's frame (see [`frame_of_leaf`]): its node, the same for every leaf it holds
    /// (its box's dimensions: [`RunSearch::frame_dims`]).
    pub frame: usize,
    /// Bit `i` when run `first + i` was known verified as the leaf was returned (flags are
    /// never cleared; one verified since is verified again, harmlessly).
    pub verified: u32,
}

/// A verified run of a leaf (see [`RunSearch::hit`]): its rows, entity and quantised box.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunHit {
    pub first_row: usize,
    pub rows: usize,
    pub entity: u32,
    /// Its box quantised within its leaf's frame (see [`QBox`]).
    pub q: [u8; QBOX_LEN],
}

impl<'s> RunSearch<'s> {
    /// The next leaf holding runs whose boxes meet the filter, its records verified (a leaf
    /// whose box meets the filter but none of whose runs do is skipped). Runs pending from a
    /// leaf the iterator was reading are not returned here.
    pub(crate) fn next_leaf(&mut self) -> Option<Result<LeafHits>> {
        loop {
            if self.frame.pending != 0 {
                let f = &mut self.frame;
                let leaf = f.first + f.pending.trailing_zeros() as usize;
                f.pending &= f.pending - 1;
                if let Err(e) = self.seg.verify_leaf(leaf) {
                    self.len = 0;
                    self.frame.pending = 0;
                    return Some(Err(e));
                }
                // Checked at open: leaf `l` holds runs `16 l..`, 16 of them but for the last.
                let first = leaf * NODE_FANOUT;
                let count = NODE_FANOUT.min(self.runs.len() / RUN_LEN - first);
                // The leaf's run records (one to four cache lines) start arriving while its
                // quantised boxes are tested.
                let recs = &self.runs[first * RUN_LEN..(first + count) * RUN_LEN];
                std::hint::black_box(
                    recs.first().copied().unwrap_or(0) ^ recs.last().copied().unwrap_or(0),
                );
                let Some(test) = self
                    .filter
                    .in_leaf(self.frame.test, || leaf_alt(self.nodes, leaf))
                else {
                    continue;
                };
                // Checked at open: a leaf's at most 16 runs lie inside the section.
                let hits = test.mask(quantised(self.boxes, first..first + count));
                if hits != 0 {
                    return Some(Ok(LeafHits {
                        first,
                        hits,
                        frame: self.frame.node,
                        verified: self.seg.run_ok.sixteen(leaf),
                    }));
                }
                continue;
            }
            if self.len == 0 {
                return None;
            }
            self.len -= 1;
            let i = self.stack[self.len] as usize;
            let rec = &self.nodes[i * NODE_LEN..(i + 1) * NODE_LEN];
            // Children precede their parent (checked at open). Their boxes are tested
            // quantised within this node's box (8 bytes each).
            let (c, dims, test) = self.filter.children_test(rec);
            let Some(test) = test else { continue };
            if i < self.leaves {
                // A leaf on the stack is the root: its own frame.
                self.frame = Frame {
                    node: i,
                    dims,
                    test,
                    first: i,
                    pending: 1,
                };
                continue;
            }
            let mut hits = test.mask(quantised(self.node_boxes, c.clone()));
            if c.start < self.leaves {
                // Leaves (checked at open: all of this node's children are), scanned in
                // order with this node as their frame.
                self.frame = Frame {
                    node: i,
                    dims,
                    test,
                    first: c.start,
                    pending: hits,
                };
                continue;
            }
            if self.len + hits.count_ones() as usize > STACK {
                self.len = 0;
                return Some(Err(self.seg.corrupt(0, "index too deep")));
            }
            // Pushed last first, so that they are expanded in order.
            let first = c.start;
            while hits != 0 {
                let k = 31 - hits.leading_zeros();
                hits &= !(1 << k);
                let c = first + k as usize;
                self.stack[self.len] = c as u32;
                self.len += 1;
                // Its record is read when it is popped: request it now.
                std::hint::black_box(self.nodes[c * NODE_LEN]);
            }
        }
    }

    /// The dimensions of the frame of the leaf [`RunSearch::next_leaf`] returned last, in
    /// which its runs' longitudes, latitudes and times are quantised (their altitudes in the
    /// leaf's: see [`RunSearch::run_dims`]).
    pub(crate) fn frame_dims(&self) -> &[Dim; 4] {
        &self.frame.dims
    }

    /// The dimensions the runs of the leaf [`RunSearch::next_leaf`] returned last (`l`) are
    /// quantised in (see [`run_frame`]).
    pub(crate) fn run_dims(&self, l: &LeafHits) -> [Dim; 4] {
        let mut d = self.frame.dims;
        // Leaf `l` holds runs `16 l..` (checked at open).
        d[2] = leaf_alt(self.nodes, l.first / NODE_FANOUT);
        d
    }

    /// Run `i` of a leaf [`RunSearch::next_leaf`] returned (`l`), without dequantising its
    /// box: its rows verified on first touch.
    #[inline(always)]
    pub(crate) fn hit(&self, i: usize, l: &LeafHits) -> Result<RunHit> {
        if (l.verified >> (i - l.first)) & 1 == 0 {
            self.run(i, &self.run_dims(l))?;
        }
        // Checked at open: the leaf's runs lie inside both sections.
        let run = Run::decode(&self.runs[i * RUN_LEN..(i + 1) * RUN_LEN], Bounds::EMPTY);
        Ok(RunHit {
            first_row: run.first_row as usize,
            rows: run.rows as usize,
            entity: run.entity,
            q: self.boxes[i * QBOX_LEN..(i + 1) * QBOX_LEN]
                .try_into()
                .expect("8 bytes"),
        })
    }

    /// Run `i` of a leaf [`RunSearch::next_leaf`] returned (`leaf` its runs' dimensions,
    /// [`RunSearch::run_dims`]), its rows verified on first touch.
    #[inline(always)]
    pub(crate) fn run(&self, i: usize, leaf: &[Dim; 4]) -> Result<Run> {
        // Checked at open: the leaf's runs lie inside both sections.
        let run = decode_run(self.boxes, self.runs, i, leaf);
        self.seg.check_run(i, &run)?;
        Ok(run)
    }
}

impl Iterator for RunSearch<'_> {
    type Item = Result<Run>;

    fn next(&mut self) -> Option<Result<Run>> {
        loop {
            if self.leaf_hits != 0 {
                let i = self.leaf_first + self.leaf_hits.trailing_zeros() as usize;
                self.leaf_hits &= self.leaf_hits - 1;
                let run = self.run(i, &self.leaf_dims);
                if run.is_err() {
                    self.len = 0;
                    self.leaf_hits = 0;
                }
                return Some(run);
            }
            match self.next_leaf()? {
                Ok(leaf) => {
                    self.leaf_first = leaf.first;
                    self.leaf_hits = leaf.hits;
                    self.leaf_dims = self.run_dims(&leaf);
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// One entity's rows in a segment (see [`Segment::entity_rows`]): its runs in time order,
/// each a range of consecutive rows of the columns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntityRows<'s> {
    pub seg: &'s Segment,
    /// Its entries of the `entity_runs` section: run numbers.
    list: &'s [[u8; 4]],
    rows: usize,
    /// Its first and last report times (its record's, checked against its rows).
    span: (i64, i64),
}

impl<'s> EntityRows<'s> {
    /// The rows of run `i` (of the segment) of a verified entity.
    #[inline]
    fn run_rows(&self, i: usize) -> Range<usize> {
        self.seg.run_record(i).rows()
    }

    /// The rows of the entity's `j`-th run.
    #[inline]
    fn nth(&self, j: usize) -> Range<usize> {
        self.run_rows(u32::from_le_bytes(self.list[j]) as usize)
    }

    /// Its earliest row.
    pub(crate) fn first(&self) -> usize {
        self.nth(0).start
    }

    /// Its latest row.
    pub(crate) fn last(&self) -> usize {
        self.nth(self.list.len() - 1).end - 1
    }

    /// Its runs' row ranges, in time order.
    pub(crate) fn runs(&self) -> impl Iterator<Item = Range<usize>> + 's {
        let rows = *self;
        (0..self.list.len()).map(move |j| rows.nth(j))
    }

    /// Its rows in time order.
    pub(crate) fn iter(&self) -> RowCursor<'s> {
        self.cursor(0, i64::MAX)
    }

    /// Its rows at or after `t`, in time order: [`RowCursor::peek`] is the first at or after
    /// `t` and [`RowCursor::prev`] the last before it.
    pub(crate) fn seek(&self, t: i64) -> RowCursor<'s> {
        let j = self.run_ending_at_or_after(t);
        let mut c = self.cursor(j, i64::MAX);
        let skip = c.times.partition_point(|b| i64::from_le_bytes(*b) < t);
        c.row += skip;
        c.times = &c.times[skip..];
        c
    }

    /// The first of its runs (index in its list) whose last row is at or after `t`: the run
    /// holding the first row at or after `t` (the list's length when none is). Reports come at
    /// a steady rate, so the search starts where `t` lies between the entity's first and last
    /// times and gallops from there — two or three runs read instead of a binary search's six
    /// (each a chain of three dependent loads: list entry, run record, time).
    fn run_ending_at_or_after(&self, t: i64) -> usize {
        let n = self.list.len();
        let ends_before = |j: usize| self.seg.time(self.nth(j).end - 1) < t;
        let (t0, t1) = self.span;
        if t <= t0 {
            return 0;
        }
        if t > t1 {
            return n;
        }
        // Any guess is exact to start from.
        let guess = self.guess_run(t);
        // Bracket the answer in a..=z: runs before `a` end before `t`; run `z` does not (or
        // `z == n`).
        let (mut a, mut z);
        if ends_before(guess) {
            (a, z) = (guess + 1, n);
            let mut step = 1;
            while a < n {
                let probe = (a + step - 1).min(n - 1);
                if !ends_before(probe) {
                    z = probe;
                    break;
                }
                a = probe + 1;
                step *= 2;
            }
        } else {
            (a, z) = (0, guess);
            let mut step = 1;
            while z > 0 {
                let probe = z.saturating_sub(step);
                if ends_before(probe) {
                    a = probe + 1;
                    break;
                }
                z = probe;
                step *= 2;
            }
        }
        while a < z {
            let m = a + (z - a) / 2;
            if ends_before(m) {
                a = m + 1;
            } else {
                z = m;
            }
        }
        a
    }

    /// The run (index in its list, of a non-empty list) that would hold time `t` if the
    /// entity reported at a steady rate from its first report to its last: where searches by
    /// time start. In floating point, so that no time difference can overflow (a NaN or
    /// infinite guess casts to the first or the last run).
    fn guess_run(&self, t: i64) -> usize {
        let (s0, s1) = self.span;
        let f = (t as f64 - s0 as f64) / (s1 as f64 - s0 as f64);
        let n = self.list.len();
        ((f * n as f64) as usize).min(n - 1)
    }

    /// Requests the column bytes of the runs likely to hold its rows with times in `[t0, t1]`,
    /// so that their cache misses overlap rather than follow one another when the rows are
    /// then read run by run (each run's record, then its times, then the next: a chain of
    /// misses, with a branchy search of the times in between). The runs are guessed as
    /// [`EntityRows::between`]'s search starts, as if reports came at a steady rate, with one
    /// run more on each side; a wrong guess costs only time, as nothing read here is used.
    pub(crate) fn prefetch(&self, t0: i64, t1: i64) {
        let n = self.list.len();
        let (s0, s1) = self.span;
        if n == 0 || t1 < s0 || t0 > s1 {
            return;
        }
        let (j0, j1) = (
            self.guess_run(t0).saturating_sub(1),
            (self.guess_run(t1) + 2).min(n),
        );
        let seg = self.seg;
        let mut touched = 0u8;
        for j in j0..j1 {
            let rows = self.nth(j);
            // Every cache line of the run's columns: times (16 rows: 128 bytes), longitudes,
            // latitudes and altitudes (64 bytes each), wherever the run starts in a line.
            let time = seg.column::<8>(seg.time.start, rows.clone());
            for line in time.chunks(8) {
                touched ^= line[0][0];
            }
            touched ^= time.last().map_or(0, |b| b[0]);
            for base in [seg.lon.start, seg.lat.start, seg.alt.start] {
                let col = seg.column::<4>(base, rows.clone());
                touched ^= col.first().map_or(0, |b| b[0]) ^ col.last().map_or(0, |b| b[0]);
            }
        }
        std::hint::black_box(touched);
    }

    /// Its rows with times in `[t0, t1]`, in time order.
    pub(crate) fn between(&self, t0: i64, t1: i64) -> RowCursor<'s> {
        RowCursor {
            until: t1,
            ..self.seek(t0)
        }
    }

    /// A cursor at the first row of the entity's `j`-th run (past the end when there is none).
    fn cursor(&self, j: usize, until: i64) -> RowCursor<'s> {
        let run = if j < self.list.len() {
            self.nth(j)
        } else {
            0..0
        };
        RowCursor {
            rows: *self,
            j,
            start: run.start,
            row: run.start,
            times: self.seg.column(self.seg.time.start, run),
            until,
        }
    }
}

/// A position among an entity's rows, iterating them in time order up to a time limit.
#[derive(Debug, Clone)]
pub(crate) struct RowCursor<'s> {
    rows: EntityRows<'s>,
    /// The run the cursor is in (`rows.list[j]`; `j` is the list's length past the last), the
    /// run's first row, the row at the cursor, and the times of the run's rows from it on
    /// (empty past the last).
    j: usize,
    start: usize,
    row: usize,
    times: &'s [[u8; 8]],
    /// Rows later than this are not returned.
    until: i64,
}

impl<'s> RowCursor<'s> {
    /// The time of the row at the cursor, if any (and not later than the limit).
    #[inline]
    pub(crate) fn peek_time(&self) -> Option<i64> {
        let t = i64::from_le_bytes(*self.times.first()?);
        (t <= self.until).then_some(t)
    }

    /// The row at the cursor, if any (and not later than the limit).
    #[inline]
    pub(crate) fn peek(&self) -> Option<usize> {
        self.peek_time().map(|_| self.row)
    }

    /// The rows left (up to the limit), as ranges of consecutive rows — the rest of a run, then
    /// whole runs, the last one cut at the limit — in time order.
    pub(crate) fn ranges(mut self) -> impl Iterator<Item = Range<usize>> + 's {
        std::iter::from_fn(move || {
            if self.times.is_empty() {
                return None;
            }
            let until = self.until;
            let n = self
                .times
                .partition_point(|b| i64::from_le_bytes(*b) <= until);
            let rows = self.row..self.row + n;
            if n < self.times.len() {
                // The limit falls inside this run: nothing after it.
                self.times = &[];
            } else {
                self = self.rows.cursor(self.j + 1, until);
            }
            (n > 0).then_some(rows)
        })
    }

    /// The entity's row just before the cursor, if any (whatever the limit).
    pub(crate) fn prev(&self) -> Option<usize> {
        if !self.times.is_empty() && self.row > self.start {
            return Some(self.row - 1);
        }
        self.j.checked_sub(1).map(|j| self.rows.nth(j).end - 1)
    }
}

impl Iterator for RowCursor<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        let row = self.peek()?;
        self.row += 1;
        self.times = &self.times[1..];
        if self.times.is_empty() {
            let until = self.until;
            *self = self.rows.cursor(self.j + 1, until);
        }
        Some(row)
    }
}

/// Column bytes of a row range (see [`Segment::cols`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cols<'s> {
    pub time: &'s [[u8; 8]],
    pub lon: &'s [[u8; 4]],
    pub lat: &'s [[u8; 4]],
    pub alt: &'s [[u8; 4]],
    pub side: &'s [[u8; 2]],
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A segment of `rows` (entities named by `names`, one side) written to a temporary
    /// directory and opened; the directory lives as long as the returned guard.
    fn written(names: &[String], rows: &[Row]) -> (tempfile::TempDir, Segment) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("seg.dcs");
        let sides = ["blue".to_string()];
        let input = crate::segment::SegmentInput {
            names,
            sides: &sides,
            rows,
        };
        crate::segment::write_segment(&path, &input).unwrap();
        let seg = Segment::open(&path).unwrap();
        (tmp, seg)
    }

    /// A byte biased to the edges (0, 1, 127, 128, 254, 255), where SWAR compares break.
    fn byte(rng: &mut rand_chacha::ChaCha8Rng) -> u8 {
        const EDGES: [u8; 6] = [0, 1, 127, 128, 254, 255];
        if rng.gen_bool(0.4) {
            EDGES[rng.gen_range(0..EDGES.len())]
        } else {
            rng.r#gen()
        }
    }

    /// An entity's rows read through its run list — all of them, from a time on, the row
    /// before a time, and a time range — are exactly its input rows, for entities cut into many
    /// runs (up to 16 rows, new runs after silences) stored apart in leaf order.
    #[test]
    fn entity_rows_follow_their_runs_like_a_sorted_list() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let names: Vec<String> = (0..40).map(|e| format!("E{e:03}")).collect();
        let mut rows = Vec::new();
        for e in 0..names.len() as u32 {
            let mut t = rng.gen_range(0..600_000i64);
            for _ in 0..rng.gen_range(1..120) {
                rows.push(Row {
                    entity: e,
                    side: 0,
                    time: t,
                    lon: rng.gen_range(-10_000_000..10_000_000),
                    lat: rng.gen_range(-10_000_000..10_000_000),
                    alt: 1_000_000,
                });
                t += if rng.gen_bool(0.05) {
                    rng.gen_range(300_001..900_000)
                } else {
                    rng.gen_range(1..20_000)
                };
            }
        }
        let (_tmp, seg) = written(&names, &rows);
        seg.verify().unwrap();
        assert!(seg.h.runs as usize > 2 * names.len(), "{} runs", seg.h.runs);
        let mut scattered = 0;
        for e in 0..names.len() as u32 {
            let want: Vec<i64> = rows
                .iter()
                .filter(|r| r.entity == e)
                .map(|r| r.time)
                .collect();
            let got = seg.entity_rows(e).unwrap();
            let all: Vec<usize> = got.iter().collect();
            let times: Vec<i64> = all.iter().map(|&r| seg.time(r)).collect();
            assert_eq!(times, want, "entity {e}");
            scattered += all.windows(2).filter(|w| w[1] != w[0] + 1).count();
            for _ in 0..50 {
                let t = rng.gen_range(want[0] - 1000..=want[want.len() - 1] + 1000);
                let c = got.seek(t);
                let at = want.partition_point(|&x| x < t);
                assert_eq!(
                    c.peek().map(|r| seg.time(r)),
                    want.get(at).copied(),
                    "{e} {t}"
                );
                assert_eq!(
                    c.prev().map(|r| seg.time(r)),
                    at.checked_sub(1).map(|i| want[i]),
                    "{e} {t}"
                );
                let t1 = t + rng.gen_range(0..200_000);
                let between: Vec<i64> = got.between(t, t1).map(|r| seg.time(r)).collect();
                let inside: Vec<i64> = want
                    .iter()
                    .copied()
                    .filter(|x| (t..=t1).contains(x))
                    .collect();
                assert_eq!(between, inside, "{e} [{t}, {t1}]");
                let spans: Vec<i64> = got
                    .between(t, t1)
                    .ranges()
                    .flatten()
                    .map(|r| seg.time(r))
                    .collect();
                assert_eq!(spans, inside, "{e} [{t}, {t1}] by ranges");
            }
        }
        // The runs of an entity are not stored one after another.
        assert!(scattered > names.len(), "{scattered}");
    }

    /// The level-by-level search finds the depth-first search's runs in the same order: a
    /// segment of three tree levels and more (90 000 rows, 300 entities on random walks near
    /// the antimeridian, climbing and descending), filters from a few runs to most of them,
    /// across the antimeridian or not, with and without an altitude band.
    #[test]
    fn search_wide_is_search() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let names: Vec<String> = (0..300).map(|e| format!("E{e:03}")).collect();
        let mut rows = Vec::new();
        for e in 0..names.len() as u32 {
            let (mut lon, mut lat) = (
                rng.gen_range(1_760_000_000i64..1_840_000_000),
                rng.gen_range(-50_000_000..50_000_000),
            );
            let mut alt = rng.gen_range(0..12_000_000);
            let mut t = rng.gen_range(0..600_000i64);
            for _ in 0..300 {
                let wrapped = (lon + 1_800_000_000).rem_euclid(3_600_000_000) - 1_800_000_000;
                rows.push(Row {
                    entity: e,
                    side: 0,
                    time: t,
                    lon: wrapped as i32,
                    lat,
                    alt,
                });
                lon += rng.gen_range(-200_000..200_000);
                lat = (lat + rng.gen_range(-200_000..200_000)).clamp(-800_000_000, 800_000_000);
                alt = (alt + rng.gen_range(-50_000..50_000)).clamp(0, 15_000_000);
                t += rng.gen_range(1_000..10_000);
            }
        }
        let (_tmp, seg) = written(&names, &rows);
        assert!(
            seg.h.nodes as usize > seg.h.leaves as usize + 16,
            "a tree of 3 levels"
        );
        let (mut runs, mut empty) = (0, 0);
        for k in 0..400 {
            let (w, e) = (rng.gen_range(174.0..186.0f64), rng.gen_range(0.01..8.0));
            let (s, n) = (rng.gen_range(-6.0..5.0f64), rng.gen_range(0.01..6.0));
            let bbox = crate::geodesy::BBox {
                west: crate::geodesy::wrap_lon(w),
                south: s,
                east: crate::geodesy::wrap_lon(w + e),
                north: (s + n).min(90.0),
            };
            let t0 = rng.gen_range(0..3_000_000i64);
            let alt = (k % 2 == 0).then(|| {
                let lo = rng.gen_range(0.0..14_000.0f64);
                (lo, lo + rng.gen_range(0.0..3_000.0))
            });
            let filter = BoxFilter::new(&bbox, (t0, t0 + rng.gen_range(0..3_000_000)), alt);
            let want: Vec<Run> = seg.search(&filter).map(|r| r.unwrap()).collect();
            assert_eq!(
                seg.search_wide(&filter).unwrap(),
                want,
                "{bbox:?} {filter:?}"
            );
            // Against a scan: every row inside the filter lies in a run found (through its
            // leaf's box quantised in its frame, and its own box quantised in the frame).
            let mut found = vec![false; seg.rows()];
            for r in &want {
                found[r.rows()].fill(true);
            }
            for (row, &hit) in found.iter().enumerate() {
                let (lon, lat) = (seg.lon(row), seg.lat(row));
                let (alt, t) = (seg.alt(row), seg.time(row));
                let point = Bounds {
                    lon_min: lon,
                    lat_min: lat,
                    lon_max: lon,
                    lat_max: lat,
                    alt_min: alt,
                    alt_max: alt,
                    t_min: t,
                    t_max: t,
                };
                assert!(
                    hit || !filter.intersects(&point),
                    "row {row} missed: {filter:?}"
                );
            }
            runs += want.len();
            empty += usize::from(want.is_empty());
        }
        assert!(
            runs > 20_000 && empty > 10 && empty < 300,
            "{runs} runs, {empty} empty"
        );
    }

    /// A run whose rows span more than `RUN_MAX_SPAN_MS` (the window's time test takes their
    /// times relative to the first in 32 bits) is refused when first read.
    #[test]
    fn runs_spanning_too_long_are_refused() {
        // One entity, two reports a minute apart: one run, one leaf (the root).
        let names = vec!["E".to_string()];
        let row = |time: i64| Row {
            entity: 0,
            side: 0,
            time,
            lon: 0,
            lat: 0,
            alt: 1_000_000,
        };
        let (tmp, seg) = written(&names, &[row(0), row(60_000)]);
        assert_eq!((seg.h.runs, seg.h.nodes), (1, 1));
        let bytes = std::fs::read(tmp.path().join("seg.dcs")).unwrap();
        let (time, node) = (seg.time.start, seg.h.range(Section::Nodes).start);
        let entity = seg.h.range(Section::Entities).start;
        let run_box = seg.h.range(Section::RunBoxes).start;
        // The second report moved to `t`, the leaf's box stretched to hold it, the run's box
        // quantised in the leaf to its whole time span, the entity's last time moved too;
        // checksums re-sealed.
        let moved = |t: i64| {
            let mut b = bytes.clone();
            b[run_box + 7] = 255;
            b[time + 8..time + 16].copy_from_slice(&t.to_le_bytes());
            b[node + 32..node + 40].copy_from_slice(&t.to_le_bytes());
            b[entity + 24..entity + 32].copy_from_slice(&t.to_le_bytes());
            crate::fuzzing::fix_checksums(&mut b);
            Segment::from_bytes(Path::new("moved"), b).unwrap().verify()
        };
        moved(RUN_MAX_SPAN_MS).unwrap();
        let err = moved(RUN_MAX_SPAN_MS + 1).unwrap_err();
        assert!(err.to_string().contains("span too long"), "{err}");
        let err = moved(i64::MAX).unwrap_err();
        assert!(err.to_string().contains("span too long"), "{err}");
    }

    /// A tree whose leaves are not grouped sixteen to a parent, in order, or whose leaves do
    /// not hold sixteen runs each (but the last), is refused at open: a search takes leaf `l`'s
    /// frame to be node `leaves + l / 16` and its runs to start at run `16 l`.
    #[test]
    fn leaves_out_of_their_frames_are_refused() {
        // 260 one-report entities: 260 runs, 17 leaves, two parents (16 leaves and 1) and
        // the root.
        let names: Vec<String> = (0..260).map(|e| format!("E{e:03}")).collect();
        let rows: Vec<Row> = (0..260u32)
            .map(|e| Row {
                entity: e,
                side: 0,
                time: i64::from(e) * 1_000,
                lon: e as i32 * 100_000,
                lat: e as i32 * 50_000,
                alt: 1_000_000,
            })
            .collect();
        let (tmp, seg) = written(&names, &rows);
        assert_eq!((seg.h.leaves, seg.h.nodes), (17, 20));
        let bytes = std::fs::read(tmp.path().join("seg.dcs")).unwrap();
        let at = seg.h.range(Section::Nodes).start;
        // Node `i`'s children's range set to `first..first + count`, checksums re-sealed:
        // opening must fail on the tree's shape.
        let refused = |changes: &[(usize, u32, u32)]| {
            let mut b = bytes.clone();
            for &(i, first, count) in changes {
                let rec = at + i * NODE_LEN;
                b[rec + 40..rec + 44].copy_from_slice(&first.to_le_bytes());
                b[rec + 44..rec + 48].copy_from_slice(&count.to_le_bytes());
            }
            crate::fuzzing::fix_checksums(&mut b);
            let err = Segment::from_bytes(Path::new("changed"), b).unwrap_err();
            assert!(err.to_string().contains("malformed index node"), "{err}");
        };
        let range = |i: usize| {
            let first = u32_at(&bytes, at + i * NODE_LEN + 40);
            (first, u32_at(&bytes, at + i * NODE_LEN + 44))
        };
        assert_eq!(
            [range(15), range(16), range(17), range(18)],
            [(240, 16), (256, 4), (0, 16), (16, 1)]
        );
        // The first parent gives up its last leaf to the second: a valid v4 tree.
        refused(&[(17, 0, 15), (18, 15, 2)]);
        // Leaf 15 gives up its last run to leaf 16, the last: each run still in one leaf, in
        // order, but leaf 16's runs no longer start at run 256.
        refused(&[(15, 240, 15), (16, 255, 5)]);
        // Re-sealed but unchanged, the same bytes open.
        let mut same = bytes;
        crate::fuzzing::fix_checksums(&mut same);
        assert!(Segment::from_bytes(Path::new("same"), same).is_ok());
    }

    /// The branch-free 16-box test agrees with the one-box test on every box, for one to
    /// three longitude ranges.
    #[test]
    fn child_mask_agrees_with_hits() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut seen = [0u32; 2];
        for _ in 0..20_000 {
            let pair = |rng: &mut rand_chacha::ChaCha8Rng| {
                let (a, b) = (byte(rng), byte(rng));
                (a.min(b), a.max(b))
            };
            let mut test = ChildTest {
                lat: pair(&mut rng),
                alt: pair(&mut rng),
                time: pair(&mut rng),
                lon: [(0, 0); 6],
                lon_len: rng.gen_range(1..=3),
            };
            for r in &mut test.lon[..test.lon_len] {
                *r = pair(&mut rng);
            }
            let n = rng.gen_range(0..=16);
            // Half the boxes pass most bytes' tests (a byte drawn within its bound), so that
            // both answers are common.
            let boxes: Vec<[u8; QBOX_LEN]> = (0..n)
                .map(|_| {
                    let (a, z) = test.lon[rng.gen_range(0..test.lon_len)];
                    let near = rng.gen_bool(0.5);
                    std::array::from_fn(|k| {
                        let (lo, hi) = [
                            (0, z),
                            (0, test.lat.1),
                            (a, 255),
                            (test.lat.0, 255),
                            (0, test.alt.1),
                            (test.alt.0, 255),
                            (0, test.time.1),
                            (test.time.0, 255),
                        ][k];
                        if near && rng.gen_bool(0.9) {
                            rng.gen_range(lo..=hi)
                        } else {
                            byte(&mut rng)
                        }
                    })
                })
                .collect();
            let m = test.mask(&boxes);
            for (c, q) in boxes.iter().enumerate() {
                assert_eq!(m >> c & 1 == 1, test.hits(q), "{test:?} {q:?}");
                seen[usize::from(test.hits(q))] += 1;
            }
            assert_eq!(m >> n, 0);
        }
        assert!(seen[0] > 10_000 && seen[1] > 10_000, "{seen:?}");
    }
}
