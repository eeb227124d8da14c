//! Deconfliction: is an operation separated by time and/or geography from every track, every
//! other operation and every zone?
//!
//! The rules are the contract's ([`Minima`] holds the separation minima):
//! * **track** — an entity (not in `own_tracks`) whose interpolated trajectory comes closer
//!   than `horizontal_m` to a volume's footprint while its altitude is within `vertical_m` of
//!   the band (unknown altitude never separates), at some time within the volume's window
//!   widened by `time_buffer`;
//! * **operation** — a pair of volumes whose windows overlap once one is widened by
//!   `time_buffer`, whose footprints are closer than `horizontal_m` and whose bands are closer
//!   than `vertical_m`;
//! * **zone** — a volume overlapping a valid `off_limits`, `protected` or `air_defense` zone
//!   (same time and altitude rules, no horizontal margin), or a target inside a valid
//!   `off_limits` or `protected` zone; **target_area** — target areas are valid during the
//!   window but the target lies in none of them;
//! * **lead_time** — filed later than `window.start − lead_time`.
//!
//! "Closer than" is strict: at exactly `horizontal_m` (or `vertical_m`) apart there is no
//! conflict; zones conflict when the footprint touches them. Distances are geodesic on WGS84,
//! decided by the [`crate::geodesy`] kernel to well within the contract's 0.1 %.
//!
//! ```
//! use deconflict_engine::{Engine, ReportBatch};
//! use deconflict_engine::model::{Minima, Operation, Report, Target, Waypoint};
//! use deconflict_engine::time::{TimeRange, Timestamp};
//! let dir = tempfile::tempdir().unwrap();
//! let engine = Engine::create(dir.path()).unwrap();
//! // A red jet crosses the planned leg at the planned time and altitude.
//! let mut w = engine.writer().unwrap();
//! let mut b = ReportBatch::new();
//! for (t, lat) in [(0, 35.4), (60_000, 35.6)] {
//!     b.push(&Report::new("RED-1", "red", Timestamp(90_000_000 + t), 36.0, lat, Some(5000.0)).unwrap()).unwrap();
//! }
//! w.add(b).unwrap();
//! w.commit().unwrap();
//! let op = Operation {
//!     id: "op-1".into(), side: "blue".into(), filed_at: Timestamp(0),
//!     method: "air strike".into(), composition: "2 aircraft".into(),
//!     target: Target { lon: 36.5, lat: 35.5, radius_m: 500.0 },
//!     window: TimeRange::new(Timestamp(89_900_000), Timestamp(90_200_000)).unwrap(),
//!     altitude_m: (3000.0, 9000.0), corridor_m: 5000.0,
//!     route: vec![
//!         Waypoint { lon: 35.5, lat: 35.5, time: None },
//!         Waypoint { lon: 36.5, lat: 35.5, time: None },
//!     ],
//!     own_tracks: vec![],
//! };
//! let report = engine.snapshot().check(&op, &Minima::default()).unwrap();
//! assert!(!report.deconflicted);
//! assert_eq!(report.conflicts[0].with, "RED-1");
//! ```

mod episodes;
mod operations;
mod tracks;
mod volume;
mod zones;

use std::collections::HashSet;

use rayon::prelude::*;
use serde::Serialize;

pub use episodes::Episode;

use crate::error::Result;
use crate::model::{Minima, Operation, ZoneKind};
use crate::snapshot::Snapshot;
use crate::time::{TimeRange, Timestamp, serialize_rfc3339};

/// What an operation conflicts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Filed too late.
    LeadTime,
    /// Another operation.
    Operation,
    /// Target areas are designated during the window but the target lies in none of them.
    TargetArea,
    /// A track (an entity's trajectory).
    Track,
    /// A zone.
    Zone,
}

impl ConflictKind {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::LeadTime => "lead_time",
            ConflictKind::Operation => "operation",
            ConflictKind::TargetArea => "target_area",
            ConflictKind::Track => "track",
            ConflictKind::Zone => "zone",
        }
    }
}

/// The closest points of a conflict: on the operation's footprint core and on the other.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClosestPoints {
    /// `[lon, lat]` on the operation (the centre line of its leg, or its target).
    pub operation: [f64; 2],
    /// `[lon, lat]` on the other: the track's position, the other operation, the zone.
    pub other: [f64; 2],
}

/// One conflict of an operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    /// Kind.
    pub kind: ConflictKind,
    /// The track id, operation id or zone id ("" for `lead_time` and `target_area`).
    pub with: String,
    /// When it starts holding.
    #[serde(serialize_with = "serialize_rfc3339")]
    pub start: Timestamp,
    /// When it stops holding (inclusive).
    #[serde(serialize_with = "serialize_rfc3339")]
    pub end: Timestamp,
    /// Least horizontal distance between the footprints, metres (0 where they overlap);
    /// `None` where no distance applies.
    pub distance_m: Option<f64>,
    /// When the distance is least.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_opt_rfc3339"
    )]
    pub cpa_time: Option<Timestamp>,
    /// The zone's kind, for zone conflicts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_kind: Option<ZoneKind>,
    /// Where the distance is least.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closest: Option<ClosestPoints>,
    /// The part of the operation concerned: `leg 2`, `target`, `route point`, or `filing`.
    pub volume: String,
}

fn serialize_opt_rfc3339<S: serde::Serializer>(
    t: &Option<Timestamp>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.collect_str(t),
        None => s.serialize_none(),
    }
}

/// The result of checking one operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The operation's id.
    pub operation: String,
    /// True when there is no conflict of any kind.
    pub deconflicted: bool,
    /// Every conflict, sorted by kind, then `with`, then start.
    pub conflicts: Vec<Conflict>,
}

/// A conflict under construction: one interval of one volume against one other thing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub start: i64,
    pub end: i64,
    pub distance_m: f64,
    pub cpa: i64,
    pub on_op: (f64, f64),
    pub on_other: (f64, f64),
    pub volume: usize,
}

/// Merges hits against one other thing into conflicts: overlapping or touching intervals
/// (at most 1 ms apart) become one, keeping the least distance and where it occurs (the
/// earliest hit, in order of start, of those at the least distance).
pub(crate) fn merge_hits(
    kind: ConflictKind,
    with: &str,
    zone_kind: Option<ZoneKind>,
    hits: Vec<Hit>,
    labels: &[String],
    out: &mut Vec<Conflict>,
) {
    let pending: Vec<Pending> = hits
        .iter()
        .map(|h| Pending {
            start: h.start,
            end: h.end,
            lo: h.distance_m,
            hi: h.distance_m,
        })
        .collect();
    merge_pending(
        kind,
        with,
        zone_kind,
        &pending,
        |i| Some(hits[i]),
        labels,
        out,
    );
}

/// A hit whose interval is known but whose distance may only be bounded:
/// `lo ≤ distance_m ≤ hi`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    pub start: i64,
    pub end: i64,
    pub lo: f64,
    pub hi: f64,
}

/// [`merge_hits`] for hits whose distances are only bounded: `resolve(i)` computes hit `i`
/// in full (`None` if, after all, it is no hit), and is called only for the hits that may be
/// the least of their conflict — the answer is the same as resolving them all.
pub(crate) fn merge_pending(
    kind: ConflictKind,
    with: &str,
    zone_kind: Option<ZoneKind>,
    pending: &[Pending],
    mut resolve: impl FnMut(usize) -> Option<Hit>,
    labels: &[String],
    out: &mut Vec<Conflict>,
) {
    // Stable: ties keep their order.
    let order = stable_order(pending.len(), |i| (pending[i].start, pending[i].end));
    let mut rest = &order[..];
    while let Some(&first) = rest.first() {
        // One conflict: the hits whose intervals chain from `first`.
        let mut end = pending[first].end;
        let mut n = 1;
        while n < rest.len() && pending[rest[n]].start <= end + 1 {
            end = end.max(pending[rest[n]].end);
            n += 1;
        }
        let (group, tail) = rest.split_at(n);
        rest = tail;
        // The winner is the earliest (by rank in `group`) of the hits at the least distance:
        // resolve candidates by increasing lower bound until none can beat the best.
        let upper = group
            .iter()
            .map(|&i| pending[i].hi)
            .fold(f64::INFINITY, f64::min);
        let mut cands: Vec<(f64, usize)> = group
            .iter()
            .enumerate()
            .filter(|&(_, &i)| pending[i].lo <= upper)
            .map(|(rank, &i)| (pending[i].lo, rank))
            .collect();
        cands.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut best: Option<(usize, Hit)> = None;
        for (lo, rank) in cands {
            if let Some((r, b)) = &best
                && (lo > b.distance_m || (lo == b.distance_m && rank > *r))
            {
                break;
            }
            let Some(h) = resolve(group[rank]) else {
                continue;
            };
            let better = match &best {
                None => true,
                Some((r, b)) => {
                    h.distance_m < b.distance_m || (h.distance_m == b.distance_m && rank < *r)
                }
            };
            if better {
                best = Some((rank, h));
            }
        }
        let Some((_, h)) = best else { continue };
        out.push(Conflict {
            kind,
            with: with.to_owned(),
            start: Timestamp(pending[first].start),
            end: Timestamp(end),
            distance_m: Some(h.distance_m),
            cpa_time: Some(Timestamp(h.cpa)),
            zone_kind,
            closest: Some(ClosestPoints {
                operation: [h.on_op.0, h.on_op.1],
                other: [h.on_other.0, h.on_other.1],
            }),
            volume: labels.get(h.volume).cloned().unwrap_or_default(),
        });
    }
}

/// The indices `0..n` sorted stably by `key`: what `sort_by_key` gives, but hits come as a
/// few sorted runs (one per volume), which are merged (earlier runs first among equal keys)
/// rather than sorted.
fn stable_order<K: Ord>(n: usize, key: impl Fn(usize) -> K) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let starts: Vec<usize> = (1..n).filter(|&i| key(i) < key(i - 1)).collect();
    if starts.is_empty() {
        return order;
    }
    if starts.len() > 4 {
        order.sort_by_key(|&i| key(i));
        return order;
    }
    let mut merged: Vec<usize> = (0..starts[0]).collect();
    for (r, &s) in starts.iter().enumerate() {
        let end = starts.get(r + 1).copied().unwrap_or(n);
        let mut out = Vec::with_capacity(merged.len() + end - s);
        let (mut i, mut j) = (0, s);
        while i < merged.len() && j < end {
            if key(j) < key(merged[i]) {
                out.push(j);
                j += 1;
            } else {
                out.push(merged[i]);
                i += 1;
            }
        }
        out.extend_from_slice(&merged[i..]);
        out.extend(j..end);
        merged = out;
    }
    order.copy_from_slice(&merged);
    order
}

impl Snapshot {
    /// Checks one operation against this generation's tracks, operations and zones. An
    /// indexed operation with the same id is ignored: the plan supersedes it.
    ///
    /// A check that reaches many tracks spreads them over rayon's global thread pool; the
    /// report is the same, bit for bit, as checking them one after the other.
    pub fn check(&self, op: &Operation, minima: &Minima) -> Result<CheckReport> {
        let others: Vec<Planned<'_>> = self
            .operations()
            .iter()
            .filter(|o| o.id != op.id)
            .map(Planned::new)
            .collect();
        let refs: Vec<&Planned<'_>> = others.iter().collect();
        self.check_against(op, &refs, minima)
    }

    /// Checks every operation of a plan, in parallel: each against this generation and against
    /// the plan's other operations (which supersede indexed operations of the same ids).
    /// Reports come in the order of `ops`. Every operation's volumes are built once.
    pub fn check_batch(&self, ops: &[Operation], minima: &Minima) -> Result<Vec<CheckReport>> {
        let plan_ids: HashSet<&str> = ops.iter().map(|o| o.id.as_str()).collect();
        let indexed: Vec<Planned<'_>> = self
            .operations()
            .par_iter()
            .filter(|o| !plan_ids.contains(o.id.as_str()))
            .map(Planned::new)
            .collect();
        let planned: Vec<Planned<'_>> = ops.par_iter().map(Planned::new).collect();
        ops.par_iter()
            .map(|op| {
                let others: Vec<&Planned<'_>> = indexed
                    .iter()
                    .chain(planned.iter().filter(|p| p.op.id != op.id))
                    .collect();
                self.check_against(op, &others, minima)
            })
            .collect()
    }

    fn check_against(
        &self,
        op: &Operation,
        others: &[&Planned<'_>],
        minima: &Minima,
    ) -> Result<CheckReport> {
        let vols = volume::volumes(op);
        let labels: Vec<String> = vols.iter().map(|v| v.label.clone()).collect();
        let mut conflicts = Vec::new();
        tracks::conflicts(self, op, &vols, &labels, minima, &mut conflicts)?;
        operations::conflicts(&vols, &labels, others, minima, &mut conflicts);
        zones::conflicts(op, &vols, &labels, self.zones(), minima, &mut conflicts);
        let deadline = op.window.start.offset(-minima.lead_time_ms);
        if op.filed_at > deadline {
            conflicts.push(Conflict {
                kind: ConflictKind::LeadTime,
                with: String::new(),
                start: deadline,
                end: op.filed_at,
                distance_m: None,
                cpa_time: None,
                zone_kind: None,
                closest: None,
                volume: "filing".into(),
            });
        }
        conflicts.sort_by(|a, b| {
            (a.kind.as_str(), &a.with, a.start, a.end).cmp(&(
                b.kind.as_str(),
                &b.with,
                b.start,
                b.end,
            ))
        });
        Ok(CheckReport {
            operation: op.id.clone(),
            deconflicted: conflicts.is_empty(),
            conflicts,
        })
    }
}

/// Another operation, with its volumes (and their boxes) built once, on first need: most
/// operations are rejected by their window or band before any geometry is needed.
pub(crate) struct Planned<'a> {
    pub op: &'a Operation,
    vols: std::sync::OnceLock<Vec<(volume::Volume, crate::geodesy::BBox)>>,
}

impl<'a> Planned<'a> {
    fn new(op: &'a Operation) -> Planned<'a> {
        Planned {
            op,
            vols: std::sync::OnceLock::new(),
        }
    }

    /// The operation's volumes with their boxes (thread-safe, built once).
    pub(crate) fn vols(&self) -> &[(volume::Volume, crate::geodesy::BBox)] {
        self.vols.get_or_init(|| {
            volume::volumes(self.op)
                .into_iter()
                .map(|v| {
                    let b = v.bbox(0.0);
                    (v, b)
                })
                .collect()
        })
    }
}

/// The part of `window` widened by `buffer_ms` that overlaps `other` (inclusive).
pub(crate) fn widened_overlap(
    window: TimeRange,
    buffer_ms: i64,
    other: TimeRange,
) -> Option<TimeRange> {
    window.widen(buffer_ms).intersect(&other)
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    /// `stable_order` is `sort_by_key`'s order, ties included: sequences of a few sorted runs
    /// (how hits come) and of many, with many equal keys.
    #[test]
    fn stable_order_is_a_stable_sort() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for case in 0..3000 {
            let runs = 1 + case % 7;
            let mut keys: Vec<(i64, i64)> = Vec::new();
            for _ in 0..runs {
                let len = rng.gen_range(0..30);
                let mut k = (rng.gen_range(0..20), rng.gen_range(0..3));
                for _ in 0..len {
                    keys.push(k);
                    if rng.gen_bool(0.6) {
                        k = (k.0 + rng.gen_range(0..3), rng.gen_range(0..3));
                    }
                    if rng.gen_bool(0.3) && k.1 < 5 {
                        k.1 += 1;
                    }
                }
            }
            let mut want: Vec<usize> = (0..keys.len()).collect();
            want.sort_by_key(|&i| keys[i]);
            assert_eq!(
                super::stable_order(keys.len(), |i| keys[i]),
                want,
                "{keys:?}"
            );
        }
    }
}
