//! Writes one segment: sorted fixed-width column arrays plus a packed spatiotemporal R-tree over
//! runs, to a file that is synced before this returns.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::Path;

use super::format::{
    ALIGN, Bounds, EntityRec, FORMAT_VERSION, HEADER_LEN, Header, LON_LIMIT_E7, MAX_ENTITIES,
    NODE_FANOUT, Node, QBox, RUN_MAX_ROWS, RUN_MAX_SPAN_MS, Run, SECTION_COUNT, Section,
    SectionEntry, children_crc, columns_crc, frame_of_leaf, run_frame,
};
use crate::error::{Error, Result};
use crate::model::ALT_UNKNOWN;

/// The R-tree packing makes at least one time slab per this much data (see `build_tree`).
const SLAB_MS: i64 = 30 * 60 * 1000;

/// A new run starts after a silence longer than this, so run boxes stay tight in time.
const RUN_SPLIT_GAP_MS: i64 = 5 * 60 * 1000;
// A run's rows, at most 16 of them, then span at most 75 minutes.
const _: () = assert!(RUN_SPLIT_GAP_MS * (RUN_MAX_ROWS as i64 - 1) <= RUN_MAX_SPAN_MS);

/// One report in its stored form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Row {
    pub entity: u32,
    pub side: u16,
    pub time: i64,
    pub lon: i32,
    pub lat: i32,
    pub alt: i32,
}

/// What `write_segment` needs: entity ids in strictly ascending byte order (each with at least
/// one row), side names, and rows sorted by `(entity, time)` with no repeated pair.
pub(crate) struct SegmentInput<'a> {
    pub names: &'a [String],
    pub sides: &'a [String],
    pub rows: &'a [Row],
}

impl SegmentInput<'_> {
    fn check(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Invalid(format!("segment input: {m}")));
        if self.rows.is_empty() {
            return bad("no rows");
        }
        if self.rows.len() > u32::MAX as usize
            || self.sides.len() > usize::from(u16::MAX)
            || self.names.len() > MAX_ENTITIES as usize
        {
            return bad("too many rows, entities or sides for one segment");
        }
        if self
            .names
            .windows(2)
            .any(|w| w[0].as_bytes() >= w[1].as_bytes())
        {
            return bad("entity names not strictly ascending");
        }
        let mut next_entity = 0u32;
        for (i, r) in self.rows.iter().enumerate() {
            if usize::from(r.side) >= self.sides.len() || r.entity as usize >= self.names.len() {
                return bad("row refers to an unknown entity or side");
            }
            if i == 0 || r.entity != self.rows[i - 1].entity {
                if r.entity != next_entity {
                    return bad("an entity without rows, or rows out of entity order");
                }
                next_entity += 1;
            } else if r.time <= self.rows[i - 1].time {
                return bad("rows of an entity not strictly increasing in time");
            }
        }
        if next_entity as usize != self.names.len() {
            return bad("an entity without rows");
        }
        Ok(())
    }
}

/// Writes the segment to `path` (created or truncated) and syncs it. Returns its header.
pub(crate) fn write_segment(path: &Path, input: &SegmentInput<'_>) -> Result<Header> {
    input.check()?;
    let rows = input.rows;
    let mut runs = build_runs(rows);
    // Runs come out of `build_runs` entity by entity, in time order: each one's place in that
    // order rides through the packing in `first_row`.
    let starts: Vec<u32> = runs.iter().map(|r| r.first_row).collect();
    for (k, run) in runs.iter_mut().enumerate() {
        run.first_row = k as u32;
    }
    pack_runs(&mut runs);
    // Rows are stored run by run in the packed order: `source[i]` is where run `i`'s rows
    // start in `rows`, and its `first_row` becomes where they start in the file;
    // `entity_runs[k]` is where the `k`-th run in entity order went.
    let mut source = Vec::with_capacity(runs.len());
    let mut entity_runs = vec![0u32; runs.len()];
    let mut next = 0u32;
    for (i, run) in runs.iter_mut().enumerate() {
        let k = run.first_row as usize;
        entity_runs[k] = i as u32;
        source.push(starts[k]);
        run.first_row = next;
        next += run.rows;
    }
    let entities = entity_records(input, &runs, &entity_runs);
    let run_crcs: Vec<u32> = runs
        .iter()
        .zip(&source)
        .map(|(r, &s)| rows_crc(&rows[s as usize..(s + r.rows) as usize]))
        .collect();
    let (nodes, run_boxes, node_boxes) = build_nodes(&runs, &run_crcs);
    let leaves = nodes.iter().take_while(|n| n.1).count();
    let nodes: Vec<Node> = nodes.into_iter().map(|n| n.0).collect();
    let stored = || {
        runs.iter()
            .zip(&source)
            .flat_map(|(r, &s)| &rows[s as usize..(s + r.rows) as usize])
    };

    let io = |e| Error::io(path, e);
    let file = File::create(path).map_err(io)?;
    let mut w = SectionWriter {
        out: BufWriter::with_capacity(1 << 20, file),
        pos: 0,
    };
    w.put(&[0u8; HEADER_LEN]).map_err(io)?;
    let mut sections = [SectionEntry::default(); SECTION_COUNT];
    let mut names_blob = Vec::new();
    for n in input.names {
        names_blob.extend_from_slice(n.as_bytes());
    }
    let side_base = names_blob.len();
    for s in input.sides {
        names_blob.extend_from_slice(s.as_bytes());
    }
    for s in Section::ALL {
        let entry = match s {
            Section::Time => w.column(stored(), |r| r.time.to_le_bytes()),
            Section::Lon => w.column(stored(), |r| r.lon.to_le_bytes()),
            Section::Lat => w.column(stored(), |r| r.lat.to_le_bytes()),
            Section::Alt => w.column(stored(), |r| r.alt.to_le_bytes()),
            Section::Side => w.column(stored(), |r| r.side.to_le_bytes()),
            Section::Entities => w.column(&entities, EntityRec::encode),
            Section::Sides => {
                let mut off = side_base;
                let recs: Vec<[u8; 8]> = input
                    .sides
                    .iter()
                    .map(|s| {
                        let mut b = [0u8; 8];
                        b[..4].copy_from_slice(&(off as u32).to_le_bytes());
                        b[4..].copy_from_slice(&(s.len() as u32).to_le_bytes());
                        off += s.len();
                        b
                    })
                    .collect();
                w.column(&recs, |b| *b)
            }
            Section::Names => w.column(&names_blob, |b| [*b]),
            Section::RunBoxes => w.column(&run_boxes, |q| q.0),
            Section::Runs => w.column(&runs, Run::encode),
            Section::Nodes => w.column(&nodes, Node::encode),
            Section::NodeBoxes => w.column(&node_boxes, |q| q.0),
            Section::EntityRuns => w.column(&entity_runs, |i| i.to_le_bytes()),
            Section::RunCrcs => w.column(&run_crcs, |c| c.to_le_bytes()),
        }
        .map_err(io)?;
        sections[s as usize] = entry;
    }
    let bbox = rows
        .iter()
        .fold([i32::MAX, i32::MAX, i32::MIN, i32::MIN], |b, r| {
            [
                b[0].min(r.lon),
                b[1].min(r.lat),
                b[2].max(r.lon),
                b[3].max(r.lat),
            ]
        });
    let header = Header {
        version: FORMAT_VERSION,
        rows: rows.len() as u64,
        entities: entities.len() as u32,
        sides: input.sides.len() as u32,
        runs: runs.len() as u32,
        nodes: nodes.len() as u32,
        leaves: leaves as u32,
        t_min: rows.iter().map(|r| r.time).min().unwrap_or(0),
        t_max: rows.iter().map(|r| r.time).max().unwrap_or(0),
        bbox,
        file_len: w.pos,
        sections,
    };
    let mut out = w.out.into_inner().map_err(|e| io(e.into_error()))?;
    out.seek(SeekFrom::Start(0)).map_err(io)?;
    out.write_all(&header.encode()).map_err(io)?;
    crate::index::crash_point("segment-written");
    out.sync_all().map_err(io)?;
    Ok(header)
}

struct SectionWriter {
    out: BufWriter<File>,
    pos: u64,
}

impl SectionWriter {
    fn put(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.out.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    /// Pads to the alignment, then writes one fixed-width record per item, checksummed.
    fn column<T, const N: usize>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        enc: impl Fn(T) -> [u8; N],
    ) -> std::io::Result<SectionEntry> {
        let pad = (self.pos.next_multiple_of(ALIGN as u64) - self.pos) as usize;
        self.put(&[0u8; ALIGN][..pad])?;
        let offset = self.pos;
        let mut crc = 0u32;
        // A fixed buffer filled record by record and flushed when full; the items are driven
        // with `for_each`, which nested iterators (the rows of each run) run as plain loops.
        let full = (64 * 1024 / N).max(1) * N;
        let mut buf = vec![0u8; full];
        let mut len = 0;
        let mut written = Ok(());
        items.into_iter().for_each(|it| {
            buf[len..len + N].copy_from_slice(&enc(it));
            len += N;
            if len == full {
                crc = crc32c::crc32c_append(crc, &buf);
                if written.is_ok() {
                    written = self.put(&buf);
                }
                len = 0;
            }
        });
        written?;
        crc = crc32c::crc32c_append(crc, &buf[..len]);
        self.put(&buf[..len])?;
        Ok(SectionEntry {
            offset,
            len: self.pos - offset,
            crc,
        })
    }
}

/// crc32c of the column bytes of `rows`, column after column (time, lon, lat, alt, side): the
/// same bytes, in the same order, as they lie in the file's sections.
pub(crate) fn rows_crc(rows: &[Row]) -> u32 {
    // A run's worth at a time: its five columns side by side, as they are read back.
    const N: usize = RUN_MAX_ROWS;
    if rows.len() <= N {
        let mut time = [[0u8; 8]; N];
        let mut lon = [[0u8; 4]; N];
        let mut lat = [[0u8; 4]; N];
        let mut alt = [[0u8; 4]; N];
        let mut side = [[0u8; 2]; N];
        for (k, r) in rows.iter().enumerate() {
            time[k] = r.time.to_le_bytes();
            lon[k] = r.lon.to_le_bytes();
            lat[k] = r.lat.to_le_bytes();
            alt[k] = r.alt.to_le_bytes();
            side[k] = r.side.to_le_bytes();
        }
        let n = rows.len();
        return columns_crc([
            time[..n].as_flattened(),
            lon[..n].as_flattened(),
            lat[..n].as_flattened(),
            alt[..n].as_flattened(),
            side[..n].as_flattened(),
        ]);
    }
    fn col<const W: usize>(crc: u32, rows: &[Row], f: impl Fn(&Row) -> [u8; W]) -> u32 {
        let mut buf = [0u8; 256];
        let mut crc = crc;
        for chunk in rows.chunks(256 / W) {
            for (i, r) in chunk.iter().enumerate() {
                buf[i * W..(i + 1) * W].copy_from_slice(&f(r));
            }
            crc = crc32c::crc32c_append(crc, &buf[..chunk.len() * W]);
        }
        crc
    }
    let c = col(0, rows, |r| r.time.to_le_bytes());
    let c = col(c, rows, |r| r.lon.to_le_bytes());
    let c = col(c, rows, |r| r.lat.to_le_bytes());
    let c = col(c, rows, |r| r.alt.to_le_bytes());
    col(c, rows, |r| r.side.to_le_bytes())
}

/// The entity records, given the stored runs and each entity's runs in time order
/// (`entity_runs`, grouped by entity in entity order).
fn entity_records(input: &SegmentInput<'_>, runs: &[Run], entity_runs: &[u32]) -> Vec<EntityRec> {
    let mut out = Vec::with_capacity(input.names.len());
    let mut name_off = 0u32;
    let mut start = 0usize;
    let rows = input.rows;
    let mut first_row = 0usize;
    while start < entity_runs.len() {
        let e = runs[entity_runs[start] as usize].entity;
        let end = start + entity_runs[start..].partition_point(|&i| runs[i as usize].entity == e);
        let list = &entity_runs[start..end];
        let n: u32 = list.iter().map(|&i| runs[i as usize].rows).sum();
        let last_row = first_row + n as usize - 1;
        let name_len = input.names[e as usize].len() as u32;
        let mut crc = 0;
        for i in list {
            crc = crc32c::crc32c_append(crc, &i.to_le_bytes());
        }
        out.push(EntityRec {
            first_run: start as u32,
            runs: list.len() as u32,
            rows: n,
            name_off,
            name_len,
            t_min: rows[first_row].time,
            t_max: rows[last_row].time,
            crc,
        });
        name_off += name_len;
        first_row = last_row + 1;
        start = end;
    }
    out
}

/// Cuts each entity's rows into runs and computes their boxes (extended to the entity's next
/// row so that interpolation pieces are covered).
fn build_runs(rows: &[Row]) -> Vec<Run> {
    let mut runs = Vec::with_capacity(rows.len() / RUN_MAX_ROWS * 2 + 1);
    let mut start = 0;
    while start < rows.len() {
        let e = rows[start].entity;
        let mut end = start + 1;
        while end < rows.len()
            && rows[end].entity == e
            && end - start < RUN_MAX_ROWS
            && rows[end].time - rows[end - 1].time <= RUN_SPLIT_GAP_MS
        {
            end += 1;
        }
        let next = (end < rows.len() && rows[end].entity == e).then_some(end);
        let covered = &rows[start..next.map_or(end, |n| n + 1)];
        runs.push(Run {
            bounds: piece_bounds(covered),
            first_row: start as u32,
            rows: (end - start) as u32,
            entity: 0, // set below, once entity numbering is known
        });
        start = end;
    }
    // Entity numbers in the file are the order of first appearance, which equals `Row::entity`
    // because `SegmentInput::check` requires every entity to have rows, in order.
    for run in &mut runs {
        run.entity = rows[run.first_row as usize].entity;
    }
    runs
}

/// The box of a sequence of consecutive rows of one entity, including the straight pieces
/// between them; longitudes are unwrapped across the antimeridian.
pub(crate) fn piece_bounds(rows: &[Row]) -> Bounds {
    let mut b = Bounds::EMPTY;
    let mut lon = i64::from(rows[0].lon);
    let (mut lo, mut hi) = (lon, lon);
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            let mut d = i64::from(r.lon) - i64::from(rows[i - 1].lon);
            if d > 1_800_000_000 {
                d -= 3_600_000_000;
            } else if d < -1_800_000_000 {
                d += 3_600_000_000;
            }
            lon += d;
            lo = lo.min(lon);
            hi = hi.max(lon);
        }
        b.lat_min = b.lat_min.min(r.lat);
        b.lat_max = b.lat_max.max(r.lat);
        if r.alt == ALT_UNKNOWN {
            b.alt_min = i32::MIN;
            b.alt_max = i32::MAX;
        } else {
            b.alt_min = b.alt_min.min(r.alt);
            b.alt_max = b.alt_max.max(r.alt);
        }
        b.t_min = b.t_min.min(r.time);
        b.t_max = b.t_max.max(r.time);
    }
    // Shift so the box starts within [-180°, 180°); fall back to every longitude when the
    // unwrapped box would leave the representable range.
    let shift = if lo < -1_800_000_000 {
        3_600_000_000
    } else if lo >= 1_800_000_000 {
        -3_600_000_000
    } else {
        0
    };
    let (lo, hi) = (lo + shift, hi + shift);
    if hi - lo >= 3_600_000_000 || hi > i64::from(LON_LIMIT_E7) || lo < -i64::from(LON_LIMIT_E7) {
        b.lon_min = -1_800_000_000;
        b.lon_max = 1_800_000_000;
    } else {
        b.lon_min = lo as i32;
        b.lon_max = hi as i32;
    }
    b
}

/// Sort-tile-recursive order of `boxes`: consecutive groups of [`NODE_FANOUT`] in the result
/// are tiles compact in time, longitude and latitude.
///
/// Time slabs: fewer than the cube root of the tiles (a quarter of it), so tiles are tight in
/// space and a few minutes wide in time — window queries are far more selective in space (10 km
/// of 1 000) than in time (10 min of 1 h) — but at least one slab per half hour of data, so
/// that long segments do not get tiles hours wide. Slabs and stripes hold whole tiles.
fn str_order(boxes: &[Bounds]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    if boxes.len() <= NODE_FANOUT {
        return order;
    }
    let tiles = boxes.len().div_ceil(NODE_FANOUT);
    let (t0, t1) = boxes.iter().fold((i64::MAX, i64::MIN), |(a, z), b| {
        (a.min(b.t_min), z.max(b.t_max))
    });
    let by_time = usize::try_from(t1.saturating_sub(t0) / SLAB_MS).unwrap_or(usize::MAX);
    let slabs = ((tiles as f64).cbrt() / 4.0)
        .ceil()
        .max(by_time as f64)
        .clamp(1.0, tiles as f64) as usize;
    let per_slab = boxes.len().div_ceil(slabs).next_multiple_of(NODE_FANOUT);
    let centre = |i: usize| {
        let b = &boxes[i];
        (
            b.t_min / 2 + b.t_max / 2,
            i64::from(b.lon_min) + i64::from(b.lon_max),
            i64::from(b.lat_min) + i64::from(b.lat_max),
        )
    };
    order.sort_unstable_by_key(|&i| centre(i).0);
    for slab in order.chunks_mut(per_slab) {
        slab.sort_unstable_by_key(|&i| centre(i).1);
        let stripes = (slab.len().div_ceil(NODE_FANOUT) as f64).sqrt().ceil() as usize;
        let per_stripe = slab.len().div_ceil(stripes).next_multiple_of(NODE_FANOUT);
        for stripe in slab.chunks_mut(per_stripe) {
            stripe.sort_unstable_by_key(|&i| centre(i).2);
        }
    }
    order
}

/// Sort-tile-recursive packing of the runs (reordered in place) in time, longitude and
/// latitude: consecutive groups of [`NODE_FANOUT`] runs become the leaves, consecutive groups
/// of leaves their parents, and so on (see [`build_nodes`]).
fn pack_runs(runs: &mut [Run]) {
    if runs.is_empty() {
        return;
    }
    let bounds: Vec<Bounds> = runs.iter().map(|r| r.bounds).collect();
    let order = str_order(&bounds);
    let packed: Vec<Run> = order.iter().map(|&i| runs[i]).collect();
    runs.copy_from_slice(&packed);
    // Upper levels: the same packing of each level's boxes, moving whole subtrees (aligned
    // blocks of 16^k runs), so that every node — not only every leaf — is compact. The last
    // block may be partial: it stays last, where the bottom-up grouping expects it.
    let mut block = NODE_FANOUT;
    while block < runs.len() {
        let full = runs.len() / block;
        let boxes: Vec<Bounds> = runs
            .chunks(block)
            .take(full)
            .map(|c| c.iter().fold(Bounds::EMPTY, |b, r| b.union(&r.bounds)))
            .collect();
        let order = str_order(&boxes);
        let mut packed: Vec<Run> = Vec::with_capacity(runs.len());
        for &i in &order {
            packed.extend_from_slice(&runs[i * block..(i + 1) * block]);
        }
        packed.extend_from_slice(&runs[full * block..]);
        runs.copy_from_slice(&packed);
        block *= NODE_FANOUT;
    }
}

/// The packed R-tree over `runs` (in [`pack_runs`] order): the nodes, leaves first, root last,
/// each with `is_leaf`, the runs' boxes quantised within their leaves' frames
/// ([`run_frame`]: the leaves' parents but for altitude), and the nodes' boxes quantised within
/// their parents. `run_crcs` are the runs' checksums, which their leaf's checksum covers.
type Tree = (Vec<(Node, bool)>, Vec<QBox>, Vec<QBox>);
fn build_nodes(runs: &[Run], run_crcs: &[u32]) -> Tree {
    if runs.is_empty() {
        return (Vec::new(), Vec::new(), Vec::new());
    }
    // Every node's box first, level by level (leaves first, root last): a leaf's runs are
    // quantised in its parent's box, so that box is needed before the leaf's checksum.
    let union = |bs: &[Bounds]| bs.iter().fold(Bounds::EMPTY, |acc, b| acc.union(b));
    let mut bounds: Vec<Bounds> = runs
        .chunks(NODE_FANOUT)
        .map(|c| c.iter().fold(Bounds::EMPTY, |b, r| b.union(&r.bounds)))
        .collect();
    let leaves = bounds.len();
    // Each level's nodes, a range of `bounds`.
    let mut levels: Vec<Range<usize>> = Vec::with_capacity(8);
    levels.push(0..leaves);
    while let Some(level) = levels.last().filter(|l| l.len() > 1).cloned() {
        let start = bounds.len();
        for c in level.clone().step_by(NODE_FANOUT) {
            let b = union(&bounds[c..(c + NODE_FANOUT).min(level.end)]);
            bounds.push(b);
        }
        levels.push(start..bounds.len());
    }
    let mut nodes: Vec<(Node, bool)> = Vec::with_capacity(bounds.len());
    let mut boxes = Vec::with_capacity(runs.len());
    // A node's children's bytes, for its checksum ([`children_crc`]): one call over each part
    // (the crc32c crate costs a few hundred instructions a call, whatever the length).
    let mut parts: [Vec<u8>; 3] = Default::default();
    for (i, c) in runs.chunks(NODE_FANOUT).enumerate() {
        let frame = run_frame(&bounds[frame_of_leaf(i, leaves, bounds.len())], &bounds[i]);
        let first = boxes.len();
        boxes.extend(c.iter().map(|r| QBox::quantize(&r.bounds, &frame)));
        let [q, r, k] = &mut parts;
        q.clear();
        q.extend(boxes[first..].iter().flat_map(|b| b.0));
        r.clear();
        r.extend(c.iter().flat_map(Run::encode));
        k.clear();
        k.extend(
            run_crcs[first..first + c.len()]
                .iter()
                .flat_map(|x| x.to_le_bytes()),
        );
        let crc = children_crc(&[q, r, k]);
        nodes.push((
            Node {
                bounds: bounds[i],
                first_child: first as u32,
                children: c.len() as u32,
                crc,
            },
            true,
        ));
    }
    let mut node_boxes = vec![QBox([0; 8]); bounds.len()];
    for w in levels.windows(2) {
        let (level, parents) = (&w[0], &w[1]);
        for (p, c) in parents.clone().zip(level.clone().step_by(NODE_FANOUT)) {
            let children = c..(c + NODE_FANOUT).min(level.end);
            for k in children.clone() {
                node_boxes[k] = QBox::quantize(&bounds[k], &bounds[p]);
            }
            let [q, r, _] = &mut parts;
            q.clear();
            q.extend(node_boxes[children.clone()].iter().flat_map(|b| b.0));
            r.clear();
            r.extend(nodes[children.clone()].iter().flat_map(|(n, _)| n.encode()));
            let crc = children_crc(&[q, r]);
            nodes.push((
                Node {
                    bounds: bounds[p],
                    first_child: c as u32,
                    children: children.len() as u32,
                    crc,
                },
                false,
            ));
        }
    }
    let root = bounds.len() - 1;
    node_boxes[root] = QBox::quantize(&bounds[root], &bounds[root]);
    (nodes, boxes, node_boxes)
}
