//! Segment format v6: the only code that knows byte offsets.
//!
//! A segment is one immutable file. All integers are little-endian. Sections start on 64-byte
//! boundaries; fixed-width records are read in place with `from_le_bytes`, never deserialised.
//!
//! ```text
//! header (HEADER_LEN = 448 bytes)
//! off  len  field
//!   0    8  magic b"DCNFSEG\0"
//!   8    2  format version (FORMAT_VERSION)
//!  10    2  section count (SECTION_COUNT)
//!  12    4  crc32c of the header with this field zeroed
//!  16    8  reports (rows)                      u64, < 2^32
//!  24    4  entities                            u32
//!  28    4  sides                               u32
//!  32    4  runs                                u32
//!  36    4  nodes                               u32
//!  40    4  leaf nodes (the first `leaves` nodes) u32
//!  44    4  reserved (0)
//!  48    8  t_min of all reports               i64 ms
//!  56    8  t_max of all reports               i64 ms
//!  64   16  lon_min, lat_min, lon_max, lat_max  i32 1e-7 degree (of the reports)
//!  80    8  file length                         u64
//!  88    8  reserved (0)
//!  96  336  section table: SECTION_COUNT × { offset u64, len u64, crc32c u32, reserved u32 }
//! 432   16  reserved (0)
//! ```
//! Sections, in this order (see [`Section`]): `time` i64 × rows, `lon` i32 × rows, `lat` i32 ×
//! rows, `alt` i32 × rows (millimetres, `i32::MIN` = unknown), `side` u16 × rows, `entities`
//! [`ENTITY_LEN`] × entities, `sides` [`SIDE_LEN`] × sides, `names` (UTF-8 bytes of entity ids
//! and side names), `run_boxes` [`QBOX_LEN`] × runs, `runs` [`RUN_LEN`] × runs, `nodes`
//! [`NODE_LEN`] × nodes, `node_boxes` [`QBOX_LEN`] × nodes, `entity_runs` u32 × runs,
//! `run_crcs` u32 × runs (each run's checksum, out of its record since v6: a search reads a
//! leaf's 16 records, 128 bytes, while checksums are read only when a run is first touched).
//!
//! Entities are numbered in id (byte) order. A *run* is up to [`RUN_MAX_ROWS`] consecutive
//! reports of one entity in time order (no repeated time); its box bounds its rows and, when
//! the entity's next report is in this segment, that report too, so that every interpolation
//! piece between two reports of the segment lies in some run's box. **Rows are stored run by
//! run in the tree's leaf order**, so the runs a window query reads lie together in every
//! column; an entity's track is the list of its runs in time order (`entity_runs`, a slice per
//! entity named by its record). A run's box is
//! stored quantised to one byte per bound ([`QBox`]), rounded outward, in a section of its own
//! so that testing a leaf's children reads 128 bytes; nodes keep their exact box in their
//! record and have a quantised copy relative to their parent's box, which is what a search
//! tests when it expands the parent. The nodes form a packed R-tree over the runs: leaves first
//! (each covering a contiguous range of runs), then each higher level covering a contiguous
//! range of the level below; the root is the last node.
//!
//! Since v5 the runs of a leaf are quantised relative to the leaf's **frame** in longitude,
//! latitude and time: the box of the leaf's parent, or the leaf's own box when the leaf is the
//! root ([`frame_of_leaf`]); in altitude they stay quantised within the leaf ([`run_frame`]).
//! The parent's box is the one its leaves' boxes are quantised in too, so a search restates its
//! query in a parent's quanta once and tests the parent's leaves and then their runs on the
//! same bytes (v4 restated it again for every leaf), restating only an altitude band per leaf.
//! In exchange each node's children are all leaves or all nodes, leaf `l`'s parent is node
//! `leaves + l / NODE_FANOUT` and leaf `l` holds runs `NODE_FANOUT · l..` (all full but the
//! last; checked at open), so that a search finds a leaf's frame and runs without reading its
//! record.
//! Longitude bounds of runs and nodes may extend beyond ±180° (unwrapped across the
//! antimeridian, at most ±214°): a position lies in a box when its longitude, or that
//! longitude ± 360°, lies within the bounds.

/// File magic.
pub(crate) const MAGIC: [u8; 8] = *b"DCNFSEG\0";
/// The format version this build reads and writes.
pub const FORMAT_VERSION: u16 = 6;
/// Header length in bytes.
pub(crate) const HEADER_LEN: usize = 448;
/// Section alignment in bytes.
pub(crate) const ALIGN: usize = 64;
/// Number of sections.
pub(crate) const SECTION_COUNT: usize = 14;
const TABLE_AT: usize = 96;
const TABLE_ENTRY: usize = 24;
const _: () = assert!(TABLE_AT + SECTION_COUNT * TABLE_ENTRY <= HEADER_LEN);

/// Bytes per entity record: first_run u32 (its first entry in `entity_runs`), rows u32,
/// name_off u32, name_len u32, t_min i64, t_max i64, crc32c u32 of its `entity_runs` entries,
/// runs u32 (its number of entries there).
pub(crate) const ENTITY_LEN: usize = 40;
/// Bytes per side record: name_off u32, name_len u32.
pub(crate) const SIDE_LEN: usize = 8;
/// Bytes per quantised box ([`QBox`]): lon_lo, lat_lo, lon_hi, lat_hi, alt_lo, alt_hi, t_lo,
/// t_hi, one byte each, relative to the box of the parent (a run's leaf, a node's parent; the
/// root's relative to itself).
pub(crate) const QBOX_LEN: usize = 8;
/// Bytes per run record: first_row u32; entity and rows u32 (the entity in the low 28 bits,
/// rows − 1 in the high 4). The crc32c of the run's column bytes is in `run_crcs`, entry `i`
/// for run `i`.
pub(crate) const RUN_LEN: usize = 8;
/// Bytes per `run_crcs` entry: the crc32c u32 of a run's column bytes.
pub(crate) const RUN_CRC_LEN: usize = 4;
/// Most entities in one segment (a run record names its entity in 28 bits).
pub(crate) const MAX_ENTITIES: u32 = 1 << 28;
/// Bytes per node record: a 40-byte box ([`Bounds`]), first_child u32, children u32, crc32c
/// u32 of the children's quantised boxes followed by their records (and, for a leaf, by its
/// runs' `run_crcs` entries), reserved u32.
pub(crate) const NODE_LEN: usize = 56;
/// Most rows in one run.
pub(crate) const RUN_MAX_ROWS: usize = 16;
/// Most milliseconds between two rows of one run (checked when the run is first read), so that
/// a row's time less its run's first row's fits in an `i32` with room on either side.
pub(crate) const RUN_MAX_SPAN_MS: i64 = i32::MAX as i64 - 1;
/// Most children of one node.
pub(crate) const NODE_FANOUT: usize = 16;
/// Longitude bounds of boxes stay within ±LON_LIMIT_E7.
pub(crate) const LON_LIMIT_E7: i32 = 2_140_000_000;

/// The sections, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Time = 0,
    Lon = 1,
    Lat = 2,
    Alt = 3,
    Side = 4,
    Entities = 5,
    Sides = 6,
    Names = 7,
    RunBoxes = 8,
    Runs = 9,
    Nodes = 10,
    NodeBoxes = 11,
    EntityRuns = 12,
    RunCrcs = 13,
}

impl Section {
    pub(crate) const ALL: [Section; SECTION_COUNT] = [
        Section::Time,
        Section::Lon,
        Section::Lat,
        Section::Alt,
        Section::Side,
        Section::Entities,
        Section::Sides,
        Section::Names,
        Section::RunBoxes,
        Section::Runs,
        Section::Nodes,
        Section::NodeBoxes,
        Section::EntityRuns,
        Section::RunCrcs,
    ];

    pub(crate) fn name(self) -> &'static str {
        [
            "time",
            "lon",
            "lat",
            "alt",
            "side",
            "entities",
            "sides",
            "names",
            "run_boxes",
            "runs",
            "nodes",
            "node_boxes",
            "entity_runs",
            "run_crcs",
        ][self as usize]
    }
}

/// One entry of the section table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SectionEntry {
    pub offset: u64,
    pub len: u64,
    pub crc: u32,
}

/// The decoded header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Header {
    pub version: u16,
    pub rows: u64,
    pub entities: u32,
    pub sides: u32,
    pub runs: u32,
    pub nodes: u32,
    pub leaves: u32,
    pub t_min: i64,
    pub t_max: i64,
    pub bbox: [i32; 4],
    pub file_len: u64,
    pub sections: [SectionEntry; SECTION_COUNT],
}

impl Header {
    /// Encodes the header, crc included.
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&self.version.to_le_bytes());
        b[10..12].copy_from_slice(&(SECTION_COUNT as u16).to_le_bytes());
        b[16..24].copy_from_slice(&self.rows.to_le_bytes());
        b[24..28].copy_from_slice(&self.entities.to_le_bytes());
        b[28..32].copy_from_slice(&self.sides.to_le_bytes());
        b[32..36].copy_from_slice(&self.runs.to_le_bytes());
        b[36..40].copy_from_slice(&self.nodes.to_le_bytes());
        b[40..44].copy_from_slice(&self.leaves.to_le_bytes());
        b[48..56].copy_from_slice(&self.t_min.to_le_bytes());
        b[56..64].copy_from_slice(&self.t_max.to_le_bytes());
        for (i, v) in self.bbox.iter().enumerate() {
            b[64 + 4 * i..68 + 4 * i].copy_from_slice(&v.to_le_bytes());
        }
        b[80..88].copy_from_slice(&self.file_len.to_le_bytes());
        for (i, s) in self.sections.iter().enumerate() {
            let at = TABLE_AT + i * TABLE_ENTRY;
            b[at..at + 8].copy_from_slice(&s.offset.to_le_bytes());
            b[at + 8..at + 16].copy_from_slice(&s.len.to_le_bytes());
            b[at + 16..at + 20].copy_from_slice(&s.crc.to_le_bytes());
        }
        let crc = crc32c::crc32c(&b);
        b[12..16].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and checks a header: magic, version, crc, section table bounds. Returns the
    /// reason and the offset of the first problem.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Header, HeaderError> {
        let bad = |offset: u64, reason: &'static str| Err(HeaderError::Corrupt { offset, reason });
        let Some(b) = bytes.get(..HEADER_LEN) else {
            return bad(bytes.len() as u64, "file shorter than the header");
        };
        if b[0..8] != MAGIC {
            return bad(0, "bad magic: not a deconflict segment");
        }
        let version = u16_at(b, 8);
        let mut zeroed = [0u8; HEADER_LEN];
        zeroed.copy_from_slice(b);
        zeroed[12..16].fill(0);
        if crc32c::crc32c(&zeroed) != u32_at(b, 12) {
            return bad(12, "header checksum mismatch");
        }
        if version != FORMAT_VERSION {
            return Err(HeaderError::Version(version));
        }
        if usize::from(u16_at(b, 10)) != SECTION_COUNT {
            return bad(10, "wrong section count");
        }
        let mut h = Header {
            version,
            rows: u64_at(b, 16),
            entities: u32_at(b, 24),
            sides: u32_at(b, 28),
            runs: u32_at(b, 32),
            nodes: u32_at(b, 36),
            leaves: u32_at(b, 40),
            t_min: i64_at(b, 48),
            t_max: i64_at(b, 56),
            bbox: [i32_at(b, 64), i32_at(b, 68), i32_at(b, 72), i32_at(b, 76)],
            file_len: u64_at(b, 80),
            sections: [SectionEntry::default(); SECTION_COUNT],
        };
        if h.file_len != bytes.len() as u64 {
            return bad(
                80,
                "file length differs from the header (truncated or extended)",
            );
        }
        if h.rows > u64::from(u32::MAX) {
            return bad(16, "too many rows");
        }
        // Rows name their side with a u16 code, and the writer never makes more than 65 535.
        if h.sides > u32::from(u16::MAX) {
            return bad(28, "more sides than u16 side codes can name");
        }
        if h.entities > MAX_ENTITIES {
            return bad(24, "more entities than run records can name");
        }
        let expected = |s: Section| -> Option<u64> {
            let n = match s {
                Section::Time => h.rows * 8,
                Section::Lon | Section::Lat | Section::Alt => h.rows * 4,
                Section::Side => h.rows * 2,
                Section::Entities => u64::from(h.entities) * ENTITY_LEN as u64,
                Section::Sides => u64::from(h.sides) * SIDE_LEN as u64,
                Section::Names => return None,
                Section::RunBoxes => u64::from(h.runs) * QBOX_LEN as u64,
                Section::Runs => u64::from(h.runs) * RUN_LEN as u64,
                Section::Nodes => u64::from(h.nodes) * NODE_LEN as u64,
                Section::NodeBoxes => u64::from(h.nodes) * QBOX_LEN as u64,
                Section::EntityRuns => u64::from(h.runs) * 4,
                Section::RunCrcs => u64::from(h.runs) * RUN_CRC_LEN as u64,
            };
            Some(n)
        };
        for s in Section::ALL {
            let at = TABLE_AT + s as usize * TABLE_ENTRY;
            let e = SectionEntry {
                offset: u64_at(b, at),
                len: u64_at(b, at + 8),
                crc: u32_at(b, at + 16),
            };
            if e.offset < HEADER_LEN as u64 || !e.offset.is_multiple_of(ALIGN as u64) {
                return bad(at as u64, "misplaced section");
            }
            if e.offset
                .checked_add(e.len)
                .is_none_or(|end| end > h.file_len)
            {
                return bad(at as u64, "section extends past the end of the file");
            }
            if expected(s).is_some_and(|n| n != e.len) {
                return bad(at as u64 + 8, "section length disagrees with the counts");
            }
            h.sections[s as usize] = e;
        }
        if h.leaves > h.nodes || (h.runs > 0) != (h.nodes > 0) || (h.nodes > 0 && h.leaves == 0) {
            return bad(36, "inconsistent node counts");
        }
        Ok(h)
    }

    /// The byte range of a section (validated by [`Header::decode`]).
    pub(crate) fn range(&self, s: Section) -> std::ops::Range<usize> {
        let e = self.sections[s as usize];
        e.offset as usize..(e.offset + e.len) as usize
    }
}

/// Why a header was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderError {
    Corrupt { offset: u64, reason: &'static str },
    Version(u16),
}

/// A box over positions and time: the first 40 bytes of a node record; a run's box once
/// dequantised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub lon_min: i32,
    pub lat_min: i32,
    pub lon_max: i32,
    pub lat_max: i32,
    pub alt_min: i32,
    pub alt_max: i32,
    pub t_min: i64,
    pub t_max: i64,
}

impl Bounds {
    pub(crate) const EMPTY: Bounds = Bounds {
        lon_min: i32::MAX,
        lat_min: i32::MAX,
        lon_max: i32::MIN,
        lat_max: i32::MIN,
        alt_min: i32::MAX,
        alt_max: i32::MIN,
        t_min: i64::MAX,
        t_max: i64::MIN,
    };

    pub(crate) fn union(&self, o: &Bounds) -> Bounds {
        Bounds {
            lon_min: self.lon_min.min(o.lon_min),
            lat_min: self.lat_min.min(o.lat_min),
            lon_max: self.lon_max.max(o.lon_max),
            lat_max: self.lat_max.max(o.lat_max),
            alt_min: self.alt_min.min(o.alt_min),
            alt_max: self.alt_max.max(o.alt_max),
            t_min: self.t_min.min(o.t_min),
            t_max: self.t_max.max(o.t_max),
        }
    }

    pub(crate) fn contains(&self, o: &Bounds) -> bool {
        self.lon_min <= o.lon_min
            && self.lat_min <= o.lat_min
            && self.lon_max >= o.lon_max
            && self.lat_max >= o.lat_max
            && self.alt_min <= o.alt_min
            && self.alt_max >= o.alt_max
            && self.t_min <= o.t_min
            && self.t_max >= o.t_max
    }

    pub(crate) fn encode_into(&self, b: &mut [u8]) {
        b[0..4].copy_from_slice(&self.lon_min.to_le_bytes());
        b[4..8].copy_from_slice(&self.lat_min.to_le_bytes());
        b[8..12].copy_from_slice(&self.lon_max.to_le_bytes());
        b[12..16].copy_from_slice(&self.lat_max.to_le_bytes());
        b[16..20].copy_from_slice(&self.alt_min.to_le_bytes());
        b[20..24].copy_from_slice(&self.alt_max.to_le_bytes());
        b[24..32].copy_from_slice(&self.t_min.to_le_bytes());
        b[32..40].copy_from_slice(&self.t_max.to_le_bytes());
    }

    pub(crate) fn decode(b: &[u8]) -> Bounds {
        Bounds {
            lon_min: i32_at(b, 0),
            lat_min: i32_at(b, 4),
            lon_max: i32_at(b, 8),
            lat_max: i32_at(b, 12),
            alt_min: i32_at(b, 16),
            alt_max: i32_at(b, 20),
            t_min: i64_at(b, 24),
            t_max: i64_at(b, 32),
        }
    }

    /// Structural sanity: min ≤ max in every dimension, longitudes within the limit.
    pub(crate) fn is_well_formed(&self) -> bool {
        self.lon_min <= self.lon_max
            && self.lat_min <= self.lat_max
            && self.alt_min <= self.alt_max
            && self.t_min <= self.t_max
            && self.lon_min >= -LON_LIMIT_E7
            && self.lon_max <= LON_LIMIT_E7
    }
}

/// A run record. `bounds` is not part of the 8-byte record: it is the run's box, written
/// quantised to the `run_boxes` section ([`QBox`]) and read back dequantised, so it may be
/// slightly larger than the exact box of the run's pieces (never smaller). Its rows' checksum
/// is not part of it either: it is in `run_crcs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub bounds: Bounds,
    pub first_row: u32,
    pub rows: u32,
    pub entity: u32,
}

impl Default for Run {
    fn default() -> Run {
        Run {
            bounds: Bounds::EMPTY,
            first_row: 0,
            rows: 0,
            entity: 0,
        }
    }
}

impl Run {
    /// The run's rows (of a run the reader has validated: they lie inside the columns).
    pub(crate) fn rows(&self) -> std::ops::Range<usize> {
        // In usize: a record's fields, not yet checked, cannot overflow it.
        self.first_row as usize..self.first_row as usize + self.rows as usize
    }

    /// The record (`rows` must be 1..=16 and `entity` below [`MAX_ENTITIES`]).
    pub(crate) fn encode(&self) -> [u8; RUN_LEN] {
        debug_assert!((1..=RUN_MAX_ROWS as u32).contains(&self.rows));
        debug_assert!(self.entity < MAX_ENTITIES);
        let mut b = [0u8; RUN_LEN];
        b[0..4].copy_from_slice(&self.first_row.to_le_bytes());
        b[4..8].copy_from_slice(&(self.entity | (self.rows - 1) << 28).to_le_bytes());
        b
    }

    /// Decodes a record whose box, dequantised, is `bounds`. Every record decodes to 1..=16
    /// rows of an entity below [`MAX_ENTITIES`].
    #[inline]
    pub(crate) fn decode(b: &[u8], bounds: Bounds) -> Run {
        let packed = u32_at(b, 4);
        Run {
            bounds,
            first_row: u32_at(b, 0),
            rows: (packed >> 28) + 1,
            entity: packed & (MAX_ENTITIES - 1),
        }
    }
}

/// A box quantised to one byte per bound relative to a parent box (a run's within its leaf's
/// [`run_frame`], a node's within its parent), rounded outward: `[lon_lo, lat_lo, lon_hi, lat_hi,
/// alt_lo, alt_hi, t_lo, t_hi]`. In a dimension whose parent bounds are `[min, max]` (extent
/// `e = max - min`), let `s` be the smallest shift with `e >> s <= 255`: bound `q` stands for
/// `min + q·2^s` as a lower bound and `min + (q + 1)·2^s − 1` as an upper bound, both capped
/// at `max` — so the dequantised box always contains the exact one and lies inside the
/// parent's box. Eight bytes instead of forty:
/// a leaf's sixteen children are tested on two cache lines, and restating a query in a
/// parent's quanta takes shifts, not divisions (see [`Dim::range`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QBox(pub [u8; QBOX_LEN]);

/// One dimension of a parent's box (a leaf's frame for runs, a node for its children): the lower
/// bound, the extent and the quantum's shift (see [`QBox`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dim {
    min: i64,
    e: u64,
    shift: u32,
}

impl Dim {
    /// The dimension `[lo, hi]` (`lo <= hi`).
    #[inline]
    pub(crate) fn new(lo: i64, hi: i64) -> Dim {
        let e = hi.wrapping_sub(lo) as u64;
        Dim {
            min: lo,
            e,
            shift: (u64::BITS - e.leading_zeros()).saturating_sub(8),
        }
    }

    fn max(self) -> i64 {
        self.min.wrapping_add(self.e as i64)
    }

    /// The lower bound quantum `q` stands for.
    #[inline]
    pub(crate) fn down(self, q: u8) -> i64 {
        let off = u64::from(q) << self.shift;
        self.min.wrapping_add(off.min(self.e) as i64)
    }

    /// The upper bound quantum `q` stands for.
    #[inline]
    pub(crate) fn up(self, q: u8) -> i64 {
        // (q + 1)·2^s − 1 = q·2^s + (2^s − 1): no overflow, as q·2^s <= 255·2^56.
        let off = (u64::from(q) << self.shift) | ((1u64 << self.shift) - 1);
        self.min.wrapping_add(off.min(self.e) as i64)
    }

    /// The quantum holding `v` (`min <= v <= max`): the largest whose lower bound is at or
    /// below `v`, and the smallest whose upper bound is at or above it.
    #[inline]
    fn quantum_of(self, v: i64) -> u8 {
        (v.wrapping_sub(self.min) as u64 >> self.shift) as u8
    }

    /// For a query range `[a, z]`: the quanta `(qa, qz)` such that a child whose quantised
    /// bounds are `(lo, hi)` meets the range exactly when `hi >= qa && lo <= qz` (its
    /// dequantised bounds do); `None` when no child can. Computed once per parent, so that
    /// its children are tested on their bytes.
    ///
    /// `up(hi) >= a` (for `min < a <= max`) holds exactly when `(hi + 1)·2^s − 1 >= a − min`,
    /// that is `hi >= (a − min) >> s`; `down(lo) <= z` (for `min <= z < max`) exactly when
    /// `lo·2^s <= z − min`, that is `lo <= (z − min) >> s`.
    #[inline]
    pub(crate) fn range(self, a: i64, z: i64) -> Option<(u8, u8)> {
        let max = self.max();
        if z < self.min || a > max {
            return None;
        }
        let qa = if a <= self.min { 0 } else { self.quantum_of(a) };
        let qz = if z >= max { 255 } else { self.quantum_of(z) };
        Some((qa, qz))
    }

    /// For a range `[a, z]`: the quanta `(ia, iz)` such that a child whose quantised bounds
    /// are `(lo, hi)` lies inside the range exactly when `ia <= lo && hi <= iz` (its
    /// dequantised bounds do: `down(lo) >= a` and `up(hi) <= z`). `ia` is 256 when no lower
    /// bound qualifies, `iz` −1 when no upper bound does.
    ///
    /// `down(q) >= a` (for `min < a <= max`) holds exactly when `q·2^s >= a − min`, that is
    /// `q >= ((a − min − 1) >> s) + 1`; `up(q) <= z` (for `min <= z < max`) exactly when
    /// `(q + 1)·2^s − 1 <= z − min`, that is `q <= ((z − min + 1) >> s) − 1`.
    #[inline]
    pub(crate) fn inner(self, a: i64, z: i64) -> (i32, i32) {
        let ia = if a <= self.min {
            0
        } else {
            // In u64: `a > min`, so the difference is positive and fits.
            let d = a.wrapping_sub(self.min) as u64;
            if d > self.e {
                256
            } else {
                ((d - 1) >> self.shift) as i32 + 1
            }
        };
        let iz = if z < self.min {
            -1
        } else {
            let d = z.wrapping_sub(self.min) as u64;
            if d >= self.e {
                255
            } else {
                ((d + 1) >> self.shift) as i32 - 1
            }
        };
        (ia, iz)
    }
}

/// The node whose box leaf `leaf`'s runs are quantised in, in a tree of `nodes` nodes of which
/// the first `leaves` are leaves: the leaf's parent, `leaves + leaf / NODE_FANOUT` (checked at
/// open), or the leaf itself when it is the only node.
#[inline]
pub(crate) fn frame_of_leaf(leaf: usize, leaves: usize, nodes: usize) -> usize {
    if nodes > leaves {
        leaves + leaf / NODE_FANOUT
    } else {
        leaf
    }
}

/// The box a run of a leaf (box `leaf`) is quantised in: its frame's (`frame`, see
/// [`frame_of_leaf`]) in longitude, latitude and time, the leaf's own in altitude — the
/// dimension where queries and checks ask thin bands and where a leaf often holds only a few
/// flight levels.
#[inline]
pub(crate) fn run_frame(frame: &Bounds, leaf: &Bounds) -> Bounds {
    Bounds {
        alt_min: leaf.alt_min,
        alt_max: leaf.alt_max,
        ..*frame
    }
}

/// The dimensions of a parent's box in the order of [`QBox`]'s pairs: lon, lat, alt, time.
pub(crate) fn dims(b: &Bounds) -> [Dim; 4] {
    [
        Dim::new(b.lon_min.into(), b.lon_max.into()),
        Dim::new(b.lat_min.into(), b.lat_max.into()),
        Dim::new(b.alt_min.into(), b.alt_max.into()),
        Dim::new(b.t_min, b.t_max),
    ]
}

impl QBox {
    /// Quantises `b`, which must lie inside `parent`.
    pub(crate) fn quantize(b: &Bounds, parent: &Bounds) -> QBox {
        debug_assert!(parent.contains(b));
        let [lon, lat, alt, t] = dims(parent);
        QBox([
            lon.quantum_of(b.lon_min.into()),
            lat.quantum_of(b.lat_min.into()),
            lon.quantum_of(b.lon_max.into()),
            lat.quantum_of(b.lat_max.into()),
            alt.quantum_of(b.alt_min.into()),
            alt.quantum_of(b.alt_max.into()),
            t.quantum_of(b.t_min),
            t.quantum_of(b.t_max),
        ])
    }

    /// The box these bytes stand for inside `parent` (contains the box that was quantised).
    pub(crate) fn dequantize(&self, parent: &Bounds) -> Bounds {
        self.dequantize_in(&dims(parent))
    }

    /// [`QBox::dequantize`] within a parent whose [`dims`] are computed once for all its
    /// children.
    #[inline]
    pub(crate) fn dequantize_in(&self, [lon, lat, alt, t]: &[Dim; 4]) -> Bounds {
        let q = self.0;
        // Each value lies within the parent's bounds of its dimension: the casts are exact.
        Bounds {
            lon_min: lon.down(q[0]) as i32,
            lat_min: lat.down(q[1]) as i32,
            lon_max: lon.up(q[2]) as i32,
            lat_max: lat.up(q[3]) as i32,
            alt_min: alt.down(q[4]) as i32,
            alt_max: alt.up(q[5]) as i32,
            t_min: t.down(q[6]),
            t_max: t.up(q[7]),
        }
    }
}

/// A node record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Node {
    pub bounds: Bounds,
    pub first_child: u32,
    pub children: u32,
    pub crc: u32,
}

impl Node {
    pub(crate) fn encode(&self) -> [u8; NODE_LEN] {
        let mut b = [0u8; NODE_LEN];
        self.bounds.encode_into(&mut b[..40]);
        b[40..44].copy_from_slice(&self.first_child.to_le_bytes());
        b[44..48].copy_from_slice(&self.children.to_le_bytes());
        b[48..52].copy_from_slice(&self.crc.to_le_bytes());
        b
    }

    pub(crate) fn decode(b: &[u8]) -> Node {
        Node {
            bounds: Bounds::decode(b),
            first_child: u32_at(b, 40),
            children: u32_at(b, 44),
            crc: u32_at(b, 48),
        }
    }
}

/// An entity record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EntityRec {
    pub first_run: u32,
    pub runs: u32,
    pub rows: u32,
    pub name_off: u32,
    pub name_len: u32,
    pub t_min: i64,
    pub t_max: i64,
    pub crc: u32,
}

impl EntityRec {
    pub(crate) fn encode(&self) -> [u8; ENTITY_LEN] {
        let mut b = [0u8; ENTITY_LEN];
        b[0..4].copy_from_slice(&self.first_run.to_le_bytes());
        b[4..8].copy_from_slice(&self.rows.to_le_bytes());
        b[8..12].copy_from_slice(&self.name_off.to_le_bytes());
        b[12..16].copy_from_slice(&self.name_len.to_le_bytes());
        b[16..24].copy_from_slice(&self.t_min.to_le_bytes());
        b[24..32].copy_from_slice(&self.t_max.to_le_bytes());
        b[32..36].copy_from_slice(&self.crc.to_le_bytes());
        b[36..40].copy_from_slice(&self.runs.to_le_bytes());
        b
    }

    pub(crate) fn decode(b: &[u8]) -> EntityRec {
        EntityRec {
            first_run: u32_at(b, 0),
            runs: u32_at(b, 36),
            rows: u32_at(b, 4),
            name_off: u32_at(b, 8),
            name_len: u32_at(b, 12),
            t_min: i64_at(b, 16),
            t_max: i64_at(b, 24),
            crc: u32_at(b, 32),
        }
    }
}

#[inline]
pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// Bytes of one row across the five row columns (time, lon, lat, alt, side).
pub(crate) const ROW_COLUMN_BYTES: usize = 8 + 4 + 4 + 4 + 2;

/// The checksum a node record keeps of its children: the crc32c of `parts` one after another —
/// the children's quantised boxes, then their records (runs' for a leaf, followed by those runs'
/// `run_crcs` entries; nodes' otherwise).
pub(crate) fn children_crc(parts: &[&[u8]]) -> u32 {
    parts.iter().fold(0, |crc, p| crc32c::crc32c_append(crc, p))
}

/// crc32c of row columns' bytes, one column after another (the checksum of runs and entities).
/// The crc32c crate costs a few hundred instructions a call whatever the length, and a run's
/// columns are 32–128 bytes each: up to a run's worth of rows they are copied into one buffer
/// and checksummed in one call. The value is the same either way.
pub(crate) fn columns_crc(cols: [&[u8]; 5]) -> u32 {
    const SMALL: usize = RUN_MAX_ROWS * ROW_COLUMN_BYTES;
    let total: usize = cols.iter().map(|c| c.len()).sum();
    if total > SMALL {
        return cols.iter().fold(0, |crc, c| crc32c::crc32c_append(crc, c));
    }
    let mut buf = [0u8; SMALL];
    let mut len = 0;
    for c in cols {
        buf[len..len + c.len()].copy_from_slice(c);
        len += c.len();
    }
    crc32c::crc32c(&buf[..len])
}

#[inline]
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

#[inline]
pub(crate) fn i32_at(b: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

#[inline]
pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[inline]
pub(crate) fn i64_at(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-buffer checksum of a run's columns is the checksum of the columns appended one
    /// after another, for every row count up to a run and past it (where it appends).
    #[test]
    fn columns_crc_is_the_appended_columns_crc() {
        let bytes: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for rows in 0..=RUN_MAX_ROWS + 3 {
            let widths = [8, 4, 4, 4, 2];
            let mut at = rows * 7;
            let cols: [&[u8]; 5] = std::array::from_fn(|k| {
                let c = &bytes[at..at + widths[k] * rows];
                at += widths[k] * rows + 1;
                c
            });
            let appended = cols.iter().fold(0, |crc, c| crc32c::crc32c_append(crc, c));
            assert_eq!(columns_crc(cols), appended, "{rows} rows");
            let mut one = Vec::new();
            for c in cols {
                one.extend_from_slice(c);
            }
            assert_eq!(columns_crc(cols), crc32c::crc32c(&one), "{rows} rows");
        }
    }

    fn sample() -> Header {
        let mut h = Header {
            version: FORMAT_VERSION,
            rows: 2,
            entities: 1,
            sides: 1,
            runs: 1,
            nodes: 1,
            leaves: 1,
            t_min: 5,
            t_max: 9,
            bbox: [1, 2, 3, 4],
            file_len: 4096,
            ..Header::default()
        };
        let lens = [
            16,
            8,
            8,
            8,
            4,
            ENTITY_LEN as u64,
            SIDE_LEN as u64,
            3,
            QBOX_LEN as u64,
            RUN_LEN as u64,
            NODE_LEN as u64,
            QBOX_LEN as u64,
            4,
            4,
        ];
        let mut off = HEADER_LEN as u64;
        for (i, len) in lens.into_iter().enumerate() {
            off = off.next_multiple_of(ALIGN as u64);
            h.sections[i] = SectionEntry {
                offset: off,
                len,
                crc: i as u32,
            };
            off += len;
        }
        h
    }

    #[test]
    fn header_round_trips() {
        let h = sample();
        let mut file = vec![0u8; 4096];
        file[..HEADER_LEN].copy_from_slice(&h.encode());
        assert_eq!(Header::decode(&file).unwrap(), h);
    }

    #[test]
    fn every_header_bit_flip_is_caught() {
        let mut file = vec![0u8; 4096];
        file[..HEADER_LEN].copy_from_slice(&sample().encode());
        for byte in 0..HEADER_LEN {
            for bit in 0..8 {
                let mut f = file.clone();
                f[byte] ^= 1 << bit;
                assert!(Header::decode(&f).is_err(), "flip at {byte}:{bit} accepted");
            }
        }
        assert!(Header::decode(&file[..4095]).is_err());
        assert!(Header::decode(&file[..100]).is_err());
    }

    fn bounds_in(rng: &mut impl rand::Rng, leaf: &Bounds) -> Bounds {
        let mut pick = |lo: i64, hi: i64| {
            let a = rng.gen_range(lo..=hi);
            let b = rng.gen_range(lo..=hi);
            (a.min(b), a.max(b))
        };
        let (lon_min, lon_max) = pick(leaf.lon_min.into(), leaf.lon_max.into());
        let (lat_min, lat_max) = pick(leaf.lat_min.into(), leaf.lat_max.into());
        let (alt_min, alt_max) = pick(leaf.alt_min.into(), leaf.alt_max.into());
        let (t_min, t_max) = pick(leaf.t_min, leaf.t_max);
        Bounds {
            lon_min: lon_min as i32,
            lat_min: lat_min as i32,
            lon_max: lon_max as i32,
            lat_max: lat_max as i32,
            alt_min: alt_min as i32,
            alt_max: alt_max as i32,
            t_min,
            t_max,
        }
    }

    fn random_leaf(rng: &mut impl rand::Rng) -> Bounds {
        let ext = |rng: &mut dyn rand::RngCore| -> i64 {
            match rng.next_u32() % 4 {
                0 => 0,
                1 => i64::from(rng.next_u32() % 300),
                2 => i64::from(rng.next_u32()),
                _ => i64::from(rng.next_u32() >> 8),
            }
        };
        let lon0 = rng.gen_range(-2_140_000_000i64..2_000_000_000);
        let lat0 = rng.gen_range(-900_000_000i64..800_000_000);
        let alt_full = rng.gen_bool(0.2);
        let t0 = rng.gen_range(-62_135_596_800_000i64..253_402_300_799_000);
        let t_ext = if rng.gen_bool(0.1) {
            rng.gen_range(0..i64::MAX / 4)
        } else {
            ext(rng)
        };
        Bounds {
            lon_min: lon0 as i32,
            lon_max: (lon0 + ext(rng)).min(2_140_000_000) as i32,
            lat_min: lat0 as i32,
            lat_max: (lat0 + ext(rng)).min(900_000_000) as i32,
            alt_min: if alt_full { i32::MIN } else { 0 },
            alt_max: if alt_full {
                i32::MAX
            } else {
                ext(rng).min(i64::from(i32::MAX)) as i32
            },
            t_min: t0,
            t_max: t0.saturating_add(t_ext),
        }
    }

    #[test]
    fn quantised_boxes_contain_the_exact_box_and_stay_in_the_leaf() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20_000 {
            let leaf = random_leaf(&mut rng);
            let b = bounds_in(&mut rng, &leaf);
            let d = QBox::quantize(&b, &leaf).dequantize(&leaf);
            assert!(d.contains(&b), "{d:?} does not contain {b:?} in {leaf:?}");
            assert!(leaf.contains(&d), "{d:?} leaves {leaf:?}");
            assert!(d.is_well_formed() || !b.is_well_formed());
        }
        // A box equal to its leaf quantises to the whole range and comes back exactly.
        let leaf = random_leaf(&mut rng);
        assert_eq!(QBox::quantize(&leaf, &leaf).dequantize(&leaf), leaf);
    }

    /// A random dimension (tiny, small, `u32`-wide, huge, now and then the widest: a shift of
    /// 56) and a query range with ends near its edges, its middle and beyond.
    fn dim_and_range(rng: &mut rand_chacha::ChaCha8Rng) -> (Dim, i64, i64) {
        use rand::{Rng, RngCore};
        let min = rng.gen_range(-1_000_000i64..1_000_000);
        let e = match rng.next_u32() % 4 {
            0 => rng.gen_range(0..3i64),
            1 => rng.gen_range(0..600),
            2 => rng.gen_range(0..i64::from(u32::MAX)),
            _ => rng.gen_range(1i64 << 54..i64::MAX / 2),
        };
        let (lo, hi) = if rng.next_u32().is_multiple_of(50) {
            (i64::MIN, i64::MAX)
        } else {
            (min, min + e)
        };
        let half = (hi as i128 - lo as i128) / 2;
        let mut pick = || {
            let v = lo as i128
                + i128::from(rng.gen_range(-2i64..=2)) * half
                + i128::from(rng.gen_range(-3i64..=3));
            v.clamp(i64::MIN.into(), i64::MAX.into()) as i64
        };
        let (a, z) = (pick(), pick());
        (Dim::new(lo, hi), a, z)
    }

    #[test]
    fn quantum_ranges_agree_with_dequantised_bounds() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for _ in 0..3_000 {
            let (d, a, z) = dim_and_range(&mut rng);
            let range = d.range(a, z);
            // A grid, plus the quanta on either side of the answer's edges.
            let (qa, qz) = range.unwrap_or((0, 255));
            let edges = [qa, qz].map(|q| [q.saturating_sub(1), q, q.saturating_add(1)]);
            let edges = edges.as_flattened();
            for lo in (0..=255u8)
                .step_by(3)
                .chain([254, 255])
                .chain(edges.iter().copied())
            {
                for hi in (lo..=255)
                    .step_by(5)
                    .chain([255])
                    .chain(edges.iter().copied())
                {
                    let meets = d.up(hi) >= a && d.down(lo) <= z;
                    let says = range.is_some_and(|(qa, qz)| hi >= qa && lo <= qz);
                    assert_eq!(meets, says, "{d:?} [{a}, {z}] q ({lo}, {hi}) {range:?}");
                }
            }
        }
    }

    #[test]
    fn inner_quanta_agree_with_dequantised_bounds() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        for _ in 0..3_000 {
            let (d, a, z) = dim_and_range(&mut rng);
            let (ia, iz) = d.inner(a, z);
            // Both bounds are monotone in `q`, so each is decided by its own quantum.
            for q in 0..=255u8 {
                let at = i32::from(q);
                assert_eq!(d.down(q) >= a, at >= ia, "{d:?} [{a}, {z}] lower {q}: {ia}");
                assert_eq!(d.up(q) <= z, at <= iz, "{d:?} [{a}, {z}] upper {q}: {iz}");
            }
        }
    }
}
