//! Entry points for the fuzz targets (`fuzz/`) and corruption tests. **Not a stable API.**
//!
//! `segment` and `index` stay `pub(crate)`; this module exposes just enough to feed them
//! untrusted bytes: open a segment held in memory, decode a manifest, and re-seal damaged bytes
//! with valid checksums so that a fuzzer reaches the structural checks behind the checksums.
//!
//! Invariants checked here (a panic is a bug): validation never panics or hangs; a segment
//! that passes [`Snapshot::verify`] answers every query without error, and a whole-world
//! query returns each in-range row exactly once.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::index::Manifest;
use crate::query::{Area, WindowQuery};
use crate::segment::Segment;
use crate::segment::format::{
    Bounds, ENTITY_LEN, HEADER_LEN, MAGIC, NODE_LEN, QBOX_LEN, RUN_CRC_LEN, RUN_LEN, Run,
    SECTION_COUNT, Section, children_crc, i32_at, i64_at, u16_at, u32_at, u64_at,
};
use crate::segment::{Row, writer::rows_crc};
use crate::snapshot::{QueryPlan, Snapshot};
use crate::time::{MAX_MS, MIN_MS, TimeRange, Timestamp};

/// A one-segment snapshot over `bytes`, validated exactly as a mapped file would be.
///
/// # Errors
/// Whatever [`crate::Engine::open`] would report for such a file.
pub fn open_segment_bytes(bytes: &[u8]) -> Result<Snapshot> {
    let path = Path::new("<fuzz>/seg-000001-000000.dcs");
    let seg = Segment::from_bytes(path, bytes.to_vec())?;
    Ok(Snapshot::new(
        Path::new("<fuzz>"),
        Manifest::default(),
        vec![Arc::new(seg)],
        Arc::new(crate::index::Objects::default()),
    ))
}

/// Decodes manifest bytes; on success checks that re-encoding round-trips.
///
/// # Errors
/// The decoder's reason.
pub fn decode_manifest(bytes: &[u8]) -> std::result::Result<u64, String> {
    let m = Manifest::decode(bytes).map_err(|e| format!("{}: {}", e.offset, e.reason))?;
    let again = Manifest::decode(&m.encode()).expect("a decoded manifest re-encodes");
    assert_eq!(again, m, "manifest round trip");
    Ok(m.generation)
}

/// Runs window, track, trajectory, nearest and verify queries on a snapshot (the first 16
/// entities of each segment). Returns the number of reports seen; errors end a query early.
/// Panics when `verify` passed but a query failed or a whole-world query missed rows.
pub fn exercise(snap: &Snapshot) -> u64 {
    let verified = snap.verify().is_ok();
    let mut seen = 0u64;
    let world = WindowQuery::all();
    let (n, err) = count(snap, &world);
    seen += n;
    if verified {
        assert!(err.is_none(), "verified segment failed a query: {err:?}");
        let expected: u64 = snap
            .segments()
            .iter()
            .map(|s| {
                (0..s.rows())
                    .filter(|&r| (MIN_MS..=MAX_MS).contains(&s.time(r)))
                    .count() as u64
            })
            .sum();
        assert_eq!(n, expected, "whole-world query on a verified segment");
    }
    let band = WindowQuery {
        area: Area::BBox(crate::geodesy::BBox {
            west: 170.0,
            south: -10.0,
            east: -170.0,
            north: 60.0,
        }),
        time: TimeRange::new(Timestamp(0), Timestamp(4_000_000_000_000)).expect("ordered"),
        alt: Some((-100.0, 10_000.0)),
        side: Some("blue".into()),
    };
    let circle = WindowQuery {
        area: Area::Circle {
            lon: 36.6,
            lat: 35.9,
            radius_m: 50_000.0,
        },
        ..WindowQuery::all()
    };
    for q in [&band, &circle] {
        let (n, err) = count(snap, q);
        seen += n;
        assert!(!verified || err.is_none(), "verified segment: {err:?}");
    }
    let mut ids = Vec::new();
    for s in snap.segments() {
        ids.extend((0..s.entity_count().min(16)).map(|e| s.entity_name(e).to_owned()));
    }
    for id in &ids {
        match snap.track(id, TimeRange::ALL) {
            Ok(t) => {
                for r in t {
                    let _ = r.to_report();
                    seen += 1;
                }
            }
            Err(e) => assert!(!verified, "verified segment: {e}"),
        }
        let r = snap.trajectory(id, TimeRange::ALL, 60_000);
        assert!(!verified || r.is_ok(), "verified segment: {r:?}");
        let r = snap.position_at(id, Timestamp(1_633_600_800_000), 60_000);
        assert!(!verified || r.is_ok(), "verified segment: {r:?}");
    }
    let r = snap.nearest(36.6, 35.9, Timestamp(1_633_600_800_000), 3, 60_000);
    assert!(!verified || r.is_ok(), "verified segment: {r:?}");
    let _ = snap.entity_count();
    seen
}

fn count(snap: &Snapshot, q: &WindowQuery) -> (u64, Option<Error>) {
    let plan = QueryPlan::new(q);
    let mut n = 0;
    for r in snap.reports_in(q, &plan) {
        match r {
            Ok(r) => {
                let mut s = String::new();
                let _ = r.write_json(&mut s);
                n += 1;
            }
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

/// Re-seals segment bytes: recomputes the file length field, every row, run and node
/// checksum, every section checksum and the header checksum, wherever the (possibly damaged)
/// counts and offsets allow. Lets a fuzzer get past the checksums to the structural checks.
pub fn fix_checksums(b: &mut [u8]) {
    if b.len() < HEADER_LEN || b[..8] != MAGIC || usize::from(u16_at(b, 10)) != SECTION_COUNT {
        return;
    }
    let len = b.len() as u64;
    b[80..88].copy_from_slice(&len.to_le_bytes());
    let rows = u64_at(b, 16);
    let sec = |b: &[u8], s: Section| -> Option<Range<usize>> {
        let at = 96 + s as usize * 24;
        let (off, n) = (u64_at(b, at), u64_at(b, at + 8));
        let end = off.checked_add(n)?;
        (end <= len).then_some(off as usize..end as usize)
    };
    let cols: Option<Vec<Range<usize>>> = [
        Section::Time,
        Section::Lon,
        Section::Lat,
        Section::Alt,
        Section::Side,
    ]
    .into_iter()
    .zip([8u64, 4, 4, 4, 2])
    .map(|(s, w)| sec(b, s).filter(|r| r.len() as u64 == rows.saturating_mul(w)))
    .collect();
    // Checksums of row ranges; at most 1 M rows are read, to keep a fuzz run fast.
    let rows_crc_at = |b: &[u8], first: u32, n: u32| -> Option<u32> {
        let cols = cols.as_ref()?;
        let end = u64::from(first) + u64::from(n);
        if end > rows || n > 1 << 20 {
            return None;
        }
        let rows: Vec<Row> = (first as usize..end as usize)
            .map(|r| Row {
                entity: 0,
                time: i64_at(b, cols[0].start + r * 8),
                lon: i32_at(b, cols[1].start + r * 4),
                lat: i32_at(b, cols[2].start + r * 4),
                alt: i32_at(b, cols[3].start + r * 4),
                side: u16_at(b, cols[4].start + r * 2),
            })
            .collect();
        Some(rows_crc(&rows))
    };
    if let (Some(ents), Some(lists)) = (sec(b, Section::Entities), sec(b, Section::EntityRuns)) {
        for at in ents.step_by(ENTITY_LEN) {
            if at + ENTITY_LEN > b.len() {
                break;
            }
            let (first, n) = (u64::from(u32_at(b, at)), u64::from(u32_at(b, at + 36)));
            if (first + n) * 4 <= lists.len() as u64 {
                let list = lists.start + first as usize * 4..lists.start + (first + n) as usize * 4;
                let c = crc32c::crc32c(&b[list]);
                b[at + 32..at + 36].copy_from_slice(&c.to_le_bytes());
            }
        }
    }
    let runs = sec(b, Section::Runs);
    let run_crcs = sec(b, Section::RunCrcs);
    if let (Some(runs), Some(crcs)) = (runs.clone(), run_crcs.clone()) {
        for (at, c_at) in runs.step_by(RUN_LEN).zip(crcs.step_by(RUN_CRC_LEN)) {
            if at + RUN_LEN > b.len() || c_at + RUN_CRC_LEN > b.len() {
                break;
            }
            let run = Run::decode(&b[at..at + RUN_LEN], Bounds::EMPTY);
            if let Some(c) = rows_crc_at(b, run.first_row, run.rows) {
                b[c_at..c_at + RUN_CRC_LEN].copy_from_slice(&c.to_le_bytes());
            }
        }
    }
    if let (Some(runs), Some(crcs), Some(boxes), Some(nodes), Some(node_boxes)) = (
        runs,
        run_crcs,
        sec(b, Section::RunBoxes),
        sec(b, Section::Nodes),
        sec(b, Section::NodeBoxes),
    ) {
        let leaves = u32_at(b, 40) as usize;
        // The bytes `first..first + n` records of `len` bytes cover in `section`, if inside it.
        let span = |section: &Range<usize>, first: usize, n: usize, len: usize| {
            let lo = first.checked_mul(len)?;
            let hi = first.checked_add(n)?.checked_mul(len)?;
            (hi <= section.len()).then(|| section.start + lo..section.start + hi)
        };
        for (i, at) in nodes.clone().step_by(NODE_LEN).enumerate() {
            if at + NODE_LEN > b.len() {
                break;
            }
            let (first, n) = (u32_at(b, at + 40) as usize, u32_at(b, at + 44) as usize);
            let crc = if i < leaves {
                match (
                    span(&boxes, first, n, QBOX_LEN),
                    span(&runs, first, n, RUN_LEN),
                    span(&crcs, first, n, RUN_CRC_LEN),
                ) {
                    (Some(q), Some(r), Some(c)) => Some(children_crc(&[&b[q], &b[r], &b[c]])),
                    _ => None,
                }
            } else {
                match (
                    span(&node_boxes, first, n, QBOX_LEN),
                    span(&nodes, first, n, NODE_LEN),
                ) {
                    (Some(q), Some(r)) => Some(children_crc(&[&b[q], &b[r]])),
                    _ => None,
                }
            };
            if let Some(c) = crc {
                b[at + 48..at + 52].copy_from_slice(&c.to_le_bytes());
            }
        }
    }
    for s in Section::ALL {
        if let Some(r) = sec(b, s) {
            let c = crc32c::crc32c(&b[r]);
            let at = 96 + s as usize * 24 + 16;
            b[at..at + 4].copy_from_slice(&c.to_le_bytes());
        }
    }
    b[12..16].fill(0);
    let c = crc32c::crc32c(&b[..HEADER_LEN]);
    b[12..16].copy_from_slice(&c.to_le_bytes());
}
