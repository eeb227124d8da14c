//! Adding reports: batches in memory, segments on disk, generations committed atomically.

use std::collections::HashMap;
use std::sync::Arc;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::index::{Objects, SegmentMeta, WriterLock, crash_point};
use crate::model::{InvalidReport, Operation, Report, Zone, alt_to_mm, deg_to_e7};
use crate::segment::{EntityGroups, Row, Segment, SegmentInput, write_segment};
use crate::snapshot::Snapshot;

/// Bytes one buffered report costs in a [`ReportBatch`] (its row; ids and sides are interned).
pub const BATCH_BYTES_PER_REPORT: usize = std::mem::size_of::<Row>();

/// Interning hasher: ids come from trusted-enough inputs and the maps live for one batch, so a
/// fast non-cryptographic hash (foldhash, per-process random seed) replaces SipHash.
type FastHash = foldhash::fast::RandomState;

/// Reports gathered in memory before they become one segment. Ids and sides are interned, so
/// a report costs [`BATCH_BYTES_PER_REPORT`] bytes.
#[derive(Debug, Default)]
pub struct ReportBatch {
    ids: HashMap<Box<str>, u32, FastHash>,
    names: Vec<Box<str>>,
    side_codes: HashMap<String, u16, FastHash>,
    sides: Vec<String>,
    rows: Vec<Row>,
}

impl ReportBatch {
    /// An empty batch.
    pub fn new() -> ReportBatch {
        ReportBatch::default()
    }

    /// An empty batch with room for `n` reports.
    pub fn with_capacity(n: usize) -> ReportBatch {
        ReportBatch {
            rows: Vec::with_capacity(n),
            ..ReportBatch::default()
        }
    }

    /// Adds a report after checking it; order matters: of several reports of one entity at
    /// one time, the first pushed is kept.
    pub fn push(&mut self, r: &Report) -> Result<(), InvalidReport> {
        r.validate()?;
        let entity = match self.ids.get(r.id.as_str()) {
            Some(&e) => e,
            None => {
                let e = self.names.len() as u32;
                self.names.push(r.id.as_str().into());
                self.ids.insert(r.id.as_str().into(), e);
                e
            }
        };
        let side = match self.side_codes.get(r.side.as_str()) {
            Some(&s) => s,
            None if self.sides.len() < usize::from(u16::MAX) => {
                let s = self.sides.len() as u16;
                self.sides.push(r.side.clone());
                self.side_codes.insert(r.side.clone(), s);
                s
            }
            None => return Err(InvalidReport::TooManySides),
        };
        self.rows.push(Row {
            entity,
            side,
            time: r.time.0,
            lon: deg_to_e7(r.lon),
            lat: deg_to_e7(r.lat),
            alt: alt_to_mm(r.alt),
        });
        Ok(())
    }

    /// Reports buffered.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Sorts by (id, time) keeping the first of repeated pairs; returns the sorted names and
    /// the number of repeats removed.
    fn into_sorted(self) -> (Vec<String>, Vec<String>, Vec<Row>, u64) {
        let ReportBatch {
            names,
            sides,
            mut rows,
            ..
        } = self;
        let mut order: Vec<u32> = (0..names.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            names[a as usize]
                .as_bytes()
                .cmp(names[b as usize].as_bytes())
        });
        let mut rank = vec![0u32; names.len()];
        for (r, &e) in order.iter().enumerate() {
            rank[e as usize] = r as u32;
        }
        for row in &mut rows {
            row.entity = rank[row.entity as usize];
        }
        sort_rows(&mut rows, names.len());
        let before = rows.len();
        rows.dedup_by_key(|r| (r.entity, r.time));
        let dups = (before - rows.len()) as u64;
        let names = order
            .into_iter()
            .map(|e| names[e as usize].to_string())
            .collect();
        (names, sides, rows, dups)
    }
}

/// Sorts rows by (entity, time), stably (the first pushed of equal pairs stays first): a
/// counting sort by entity (linear), then a stable sort by time only of the entities whose rows
/// were not pushed in time order already — the usual case of time-ordered input needs none.
fn sort_rows(rows: &mut Vec<Row>, entities: usize) {
    if rows.is_sorted_by_key(|r| (r.entity, r.time)) {
        return;
    }
    let mut start = vec![0usize; entities + 1];
    for r in rows.iter() {
        start[r.entity as usize + 1] += 1;
    }
    for e in 0..entities {
        start[e + 1] += start[e];
    }
    let mut next = start.clone();
    let mut out = vec![
        Row {
            entity: 0,
            side: 0,
            time: 0,
            lon: 0,
            lat: 0,
            alt: 0,
        };
        rows.len()
    ];
    for r in rows.iter() {
        let at = &mut next[r.entity as usize];
        out[*at] = *r;
        *at += 1;
    }
    for e in 0..entities {
        let group = &mut out[start[e]..start[e + 1]];
        if !group.is_sorted_by_key(|r| r.time) {
            group.sort_by_key(|r| r.time);
        }
    }
    *rows = out;
}

/// What one [`Writer::add`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddOutcome {
    /// Reports that will become visible on commit.
    pub accepted: u64,
    /// Reports dropped because an earlier one had the same (id, time).
    pub duplicates: u64,
}

/// Builds one new generation. Holds the index's writer lock from creation until commit or
/// drop; dropping without commit removes the files written so far (nothing became visible).
pub struct Writer<'e> {
    engine: &'e Engine,
    _lock: WriterLock,
    base: Arc<Snapshot>,
    pending: Vec<(SegmentMeta, Arc<Segment>)>,
    /// Zones and operations of the new generation, when they change.
    objects: Option<Objects>,
    /// The objects file written by a commit in progress (removed if the commit fails).
    pending_objects: Option<String>,
    /// Files of `base` that the commit drops (merged by compaction into pending ones).
    replaced: Vec<String>,
    next_file: u64,
    committed: bool,
}

/// What [`Writer::compact`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactOutcome {
    /// Segments merged away.
    pub merged: usize,
    /// Segments written in their place.
    pub written: usize,
    /// Reports rewritten.
    pub reports: u64,
}

impl<'e> Writer<'e> {
    pub(crate) fn new(engine: &'e Engine, lock: WriterLock, base: Arc<Snapshot>) -> Writer<'e> {
        let next_file = base.manifest().next_file;
        Writer {
            engine,
            _lock: lock,
            base,
            pending: Vec::new(),
            replaced: Vec::new(),
            objects: None,
            pending_objects: None,
            next_file,
            committed: false,
        }
    }

    /// The generation this writer builds on (the newest committed when it was created).
    pub fn base(&self) -> &Arc<Snapshot> {
        &self.base
    }

    /// The generation number the commit will create.
    pub fn generation(&self) -> u64 {
        self.base.generation() + 1
    }

    /// Writes a batch as a new segment, after dropping reports whose (id, time) is already
    /// in the index or in an earlier batch of this writer. The segment is synced to disk but
    /// invisible until [`Writer::commit`].
    pub fn add(&mut self, batch: ReportBatch) -> Result<AddOutcome> {
        let (names, sides, rows, mut duplicates) = batch.into_sorted();
        let existing: Vec<&Segment> = self
            .base
            .segments()
            .iter()
            .chain(self.pending.iter().map(|p| &p.1))
            .map(|s| &**s)
            .collect();
        let (names, rows, dups) = drop_existing(&existing, names, rows)?;
        duplicates += dups;
        let accepted = rows.len() as u64;
        if !rows.is_empty() {
            self.write_pending(&names, &sides, &rows)?;
        }
        Ok(AddOutcome {
            accepted,
            duplicates,
        })
    }

    /// Adds zones (checked); a zone whose id is already in the index replaces it from this
    /// generation on. Returns how many were replaced.
    pub fn upsert_zones(&mut self, zones: Vec<Zone>) -> Result<usize> {
        for z in &zones {
            z.validate()
                .map_err(|e| Error::Invalid(format!("zone {}: {e}", z.id)))?;
        }
        let base = &self.base;
        Ok(self
            .objects
            .get_or_insert_with(|| (**base.objects()).clone())
            .upsert_zones(zones))
    }

    /// Adds operations (checked); one whose id is already in the index replaces it from this
    /// generation on. Returns how many were replaced.
    pub fn upsert_operations(&mut self, ops: Vec<Operation>) -> Result<usize> {
        for o in &ops {
            o.validate()
                .map_err(|e| Error::Invalid(format!("operation {}: {e}", o.id)))?;
        }
        let base = &self.base;
        Ok(self
            .objects
            .get_or_insert_with(|| (**base.objects()).clone())
            .upsert_operations(ops))
    }

    fn write_pending(&mut self, names: &[String], sides: &[String], rows: &[Row]) -> Result<()> {
        let file = format!("seg-{:06}-{:06}.dcs", self.generation(), self.next_file);
        self.next_file += 1;
        let path = self.engine.dir().file(&file);
        let header = match write_segment(&path, &SegmentInput { names, sides, rows }) {
            Ok(h) => h,
            Err(e) => {
                // A partial file (disk full, I/O error) must not linger until the next writer.
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
        };
        crash_point("segment-synced");
        let seg = Arc::new(Segment::open(&path)?);
        let meta = SegmentMeta {
            file,
            generation: self.generation(),
            rows: header.rows,
            entities: header.entities,
            t_min: header.t_min,
            t_max: header.t_max,
            bbox: header.bbox,
            bytes: header.file_len,
        };
        self.pending.push((meta, seg));
        Ok(())
    }

    /// Merges the committed segments into fewer, larger ones of at most `max_rows` reports
    /// each (consecutive segments in manifest order are packed greedily; a group of one is
    /// left alone). Every query answers the same before and after. Becomes visible on
    /// commit, atomically; snapshots taken before keep reading the old files.
    pub fn compact(&mut self, max_rows: usize) -> Result<CompactOutcome> {
        let metas = &self.base.manifest().segments;
        let mut groups: Vec<Vec<usize>> = vec![Vec::new()];
        let mut rows = 0usize;
        for (i, m) in metas.iter().enumerate() {
            if rows + m.rows as usize > max_rows && !groups.last().is_none_or(Vec::is_empty) {
                groups.push(Vec::new());
                rows = 0;
            }
            groups.last_mut().expect("one group").push(i);
            rows += m.rows as usize;
        }
        self.merge_groups(groups)
    }

    /// Tiered compaction: segments are put in size tiers (a tier spans a factor of `fanout`
    /// in reports, starting at 64 Ki reports); whenever a tier holds `fanout` segments, they
    /// are merged into one segment of the next tier (never over `max_rows` reports). Each
    /// report is thus rewritten about log_fanout(total / 64 Ki) times over the life of the
    /// index, instead of at every compaction.
    pub fn compact_tiered(&mut self, fanout: usize, max_rows: usize) -> Result<CompactOutcome> {
        let fanout = fanout.max(2);
        let metas = &self.base.manifest().segments;
        let tier = |rows: u64| -> u32 {
            let mut t = 0;
            let mut cap = 64 * 1024 * fanout as u64;
            while rows >= cap && t < 32 {
                cap = cap.saturating_mul(fanout as u64);
                t += 1;
            }
            t
        };
        let mut tiers: std::collections::BTreeMap<u32, Vec<usize>> =
            std::collections::BTreeMap::new();
        for (i, m) in metas.iter().enumerate() {
            tiers.entry(tier(m.rows)).or_default().push(i);
        }
        let mut groups = Vec::new();
        for members in tiers.into_values() {
            for chunk in members.chunks(fanout) {
                if chunk.len() < fanout {
                    continue;
                }
                let mut group = Vec::new();
                let mut rows = 0usize;
                for &i in chunk {
                    if rows + metas[i].rows as usize > max_rows && !group.is_empty() {
                        groups.push(std::mem::take(&mut group));
                        rows = 0;
                    }
                    group.push(i);
                    rows += metas[i].rows as usize;
                }
                groups.push(group);
            }
        }
        self.merge_groups(groups)
    }

    fn merge_groups(&mut self, groups: Vec<Vec<usize>>) -> Result<CompactOutcome> {
        let base = Arc::clone(&self.base);
        let metas = &base.manifest().segments;
        let mut out = CompactOutcome::default();
        for group in groups.into_iter().filter(|g| g.len() >= 2) {
            let segs: Vec<&Segment> = group.iter().map(|&i| &*base.segments()[i]).collect();
            let (names, sides, merged) = merge_segments(&segs)?;
            out.reports += merged.len() as u64;
            self.write_pending(&names, &sides, &merged)?;
            out.written += 1;
            out.merged += group.len();
            self.replaced
                .extend(group.iter().map(|&i| metas[i].file.clone()));
        }
        Ok(out)
    }

    /// Makes everything added visible at once: writes and fsyncs the zones/operations file if
    /// they changed, fsyncs the directory (the new segments' entries), then renames the new
    /// manifest into place (the commit point) and publishes the snapshot to this process's
    /// readers. Returns the new snapshot.
    pub fn commit(mut self) -> Result<Arc<Snapshot>> {
        let dir = self.engine.dir();
        let mut manifest = self.base.manifest().clone();
        manifest.generation += 1;
        manifest.next_file = self.next_file;
        let keep: Vec<bool> = manifest
            .segments
            .iter()
            .map(|m| !self.replaced.contains(&m.file))
            .collect();
        let mut segments: Vec<Arc<Segment>> = self
            .base
            .segments()
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(s, _)| Arc::clone(s))
            .collect();
        let mut k = keep.iter();
        manifest.segments.retain(|_| *k.next().unwrap_or(&true));
        let objects = match self.objects.take() {
            None => Arc::clone(self.base.objects()),
            Some(o) => {
                let file = format!("objects-{:06}.bin", manifest.generation);
                let path = dir.file(&file);
                self.pending_objects = Some(file.clone());
                std::fs::write(&path, o.encode())
                    .and_then(|()| std::fs::File::open(&path)?.sync_all())
                    .map_err(|e| Error::io(&path, e))?;
                manifest.objects = Some(file);
                Arc::new(o)
            }
        };
        for (meta, seg) in &self.pending {
            manifest.segments.push(meta.clone());
            segments.push(Arc::clone(seg));
        }
        dir.sync_dir()?;
        crash_point("before-manifest-write");
        dir.commit_manifest(&manifest)?;
        self.committed = true;
        let snap = Arc::new(Snapshot::new(dir.path(), manifest, segments, objects));
        self.engine.publish(Arc::clone(&snap));
        let _ = dir.cleanup(snap.manifest());
        Ok(snap)
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        if !self.committed {
            for (meta, _) in &self.pending {
                let _ = std::fs::remove_file(self.engine.dir().file(&meta.file));
            }
            if let Some(f) = &self.pending_objects {
                let _ = std::fs::remove_file(self.engine.dir().file(f));
            }
        }
    }
}

/// Removes rows whose (entity, time) exists in one of `existing`; returns the names that still
/// have rows (renumbered) and the rows.
fn drop_existing(
    existing: &[&Segment],
    names: Vec<String>,
    rows: Vec<Row>,
) -> Result<(Vec<String>, Vec<Row>, u64)> {
    if existing.is_empty() {
        return Ok((names, rows, 0));
    }
    let mut out_names = Vec::with_capacity(names.len());
    let mut out = Vec::with_capacity(rows.len());
    let mut dups = 0u64;
    let mut start = 0;
    while start < rows.len() {
        let e = rows[start].entity;
        let end = start + rows[start..].partition_point(|r| r.entity == e);
        let mut keep: Vec<Row> = rows[start..end].to_vec();
        for seg in existing {
            if let Some(se) = seg.find_entity(&names[e as usize]) {
                let mut theirs = seg.entity_rows(se)?.iter();
                // both sorted by time: one merge walk
                keep.retain(|r| {
                    while theirs.peek().is_some_and(|j| seg.time(j) < r.time) {
                        theirs.next();
                    }
                    theirs.peek().is_none_or(|j| seg.time(j) != r.time)
                });
            }
        }
        dups += (end - start - keep.len()) as u64;
        if !keep.is_empty() {
            let new_e = out_names.len() as u32;
            out_names.push(names[e as usize].clone());
            out.extend(keep.into_iter().map(|r| Row { entity: new_e, ..r }));
        }
        start = end;
    }
    Ok((out_names, out, dups))
}

/// All rows of `segs`, merged in (id, time) order, with side names re-numbered.
fn merge_segments(segs: &[&Segment]) -> Result<(Vec<String>, Vec<String>, Vec<Row>)> {
    let mut names = Vec::new();
    let mut sides: Vec<String> = Vec::new();
    let mut side_maps: Vec<Vec<u16>> = Vec::with_capacity(segs.len());
    for s in segs {
        let mut map = Vec::new();
        for code in 0..s.side_count() {
            let name = s.side_name(code);
            let global = match sides.iter().position(|x| x == name) {
                Some(g) => g,
                None => {
                    sides.push(name.to_owned());
                    sides.len() - 1
                }
            };
            map.push(
                u16::try_from(global)
                    .map_err(|_| Error::Invalid("too many sides to merge".into()))?,
            );
        }
        side_maps.push(map);
    }
    let total: usize = segs.iter().map(|s| s.rows()).sum();
    let mut rows: Vec<Row> = Vec::with_capacity(total);
    for (name, parts) in EntityGroups::new(segs) {
        let entity = names.len() as u32;
        names.push(name.to_owned());
        let start = rows.len();
        for (i, e) in parts {
            let s = segs[i];
            let map = &side_maps[i];
            for run in s.entity_rows(e)?.runs() {
                // Verified with the entity: side numbers are below the segment's side count.
                let c = s.cols(run);
                rows.extend((0..c.time.len()).map(|k| Row {
                    entity,
                    side: map[usize::from(u16::from_le_bytes(c.side[k]))],
                    time: i64::from_le_bytes(c.time[k]),
                    lon: i32::from_le_bytes(c.lon[k]),
                    lat: i32::from_le_bytes(c.lat[k]),
                    alt: i32::from_le_bytes(c.alt[k]),
                }));
            }
        }
        rows[start..].sort_unstable_by_key(|r| r.time);
    }
    Ok((names, sides, rows))
}

impl From<InvalidReport> for Error {
    fn from(e: InvalidReport) -> Self {
        Error::Invalid(e.to_string())
    }
}
