//! Track-versus-track loss of separation: every episode within a time range.
//!
//! Not all pairs are compared. Time is swept in blocks (bounded memory) cut into slabs; in each
//! slab every entity's trajectory pieces get one box, widened by half the horizontal minimum;
//! a sort-and-sweep over longitude (with shifted copies across the antimeridian) finds the
//! pairs of entities whose boxes meet; only their pieces are compared exactly, on the common
//! time of each pair of pieces. Slabs of a block run in parallel on all cores.

use rayon::prelude::*;
use serde::Serialize;

use super::tracks::linear_inside;
use crate::error::Result;
use crate::geodesy::{distance_m, lon_delta, moving_points_cpa, widen_band};
use crate::model::Minima;
use crate::snapshot::Snapshot;
use crate::time::{TimeRange, Timestamp, serialize_rfc3339};
use crate::trajectory::{Piece, entity_rows, pieces_in};

/// Time swept per block (bounds memory: the pieces of one block are held at once).
const BLOCK_MS: i64 = 10 * 60 * 1000;
/// Time per slab (the unit of the spatial join and of parallelism).
const SLAB_MS: i64 = 60 * 1000;

/// A maximal interval during which two entities are closer than the horizontal minimum and
/// within the vertical minimum (or of unknown altitude).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Episode {
    /// The entity whose id sorts first.
    pub a: String,
    /// The other entity.
    pub b: String,
    /// Start of the loss of separation.
    #[serde(serialize_with = "serialize_rfc3339")]
    pub start: Timestamp,
    /// End (inclusive).
    #[serde(serialize_with = "serialize_rfc3339")]
    pub end: Timestamp,
    /// Least horizontal distance during the episode, metres.
    pub min_distance_m: f64,
    /// When the distance is least.
    #[serde(serialize_with = "serialize_rfc3339")]
    pub cpa_time: Timestamp,
}

/// One interval of one pair, before merging.
#[derive(Debug, Clone, Copy)]
struct Raw {
    a: u32,
    b: u32,
    start: i64,
    end: i64,
    min: f64,
    cpa: i64,
}

impl Snapshot {
    /// Every track-versus-track episode within `range`, sorted by start, then `a`, then `b`.
    ///
    /// ```
    /// use deconflict_engine::{Engine, ReportBatch};
    /// use deconflict_engine::model::{Minima, Report};
    /// use deconflict_engine::time::{TimeRange, Timestamp};
    /// let dir = tempfile::tempdir().unwrap();
    /// let engine = Engine::create(dir.path()).unwrap();
    /// let mut w = engine.writer().unwrap();
    /// let mut b = ReportBatch::new();
    /// // Two aircraft meeting head-on at the same altitude.
    /// for (id, lon0, lon1) in [("A", 0.0, 0.2), ("B", 0.2, 0.0)] {
    ///     b.push(&Report::new(id, "x", Timestamp(0), lon0, 0.0, Some(5000.0)).unwrap()).unwrap();
    ///     b.push(&Report::new(id, "x", Timestamp(60_000), lon1, 0.0, Some(5000.0)).unwrap()).unwrap();
    /// }
    /// w.add(b).unwrap();
    /// w.commit().unwrap();
    /// let episodes: Vec<_> = engine.snapshot().conflicts(TimeRange::ALL, &Minima::default()).unwrap().collect();
    /// assert_eq!(episodes.len(), 1);
    /// assert_eq!(episodes[0].cpa_time, Timestamp(30_000));
    /// ```
    pub fn conflicts(
        &self,
        range: TimeRange,
        minima: &Minima,
    ) -> Result<impl Iterator<Item = Episode> + use<>> {
        // Only time that holds reports can hold episodes: clip the sweep to the data.
        let Some(range) = self.time_span().and_then(|span| span.intersect(&range)) else {
            return Ok(Vec::new().into_iter());
        };
        let ids = self.entities_during(range.widen(minima.max_gap_ms));
        let parts: Vec<_> = ids
            .iter()
            .map(|id| entity_rows(self.segments(), id))
            .collect::<Result<_>>()?;
        let mut raws: Vec<Raw> = Vec::new();
        let mut b0 = range.start.0;
        loop {
            let b1 = b0.saturating_add(BLOCK_MS - 1).min(range.end.0);
            let block = TimeRange::new(Timestamp(b0), Timestamp(b1)).expect("ordered");
            let pieces: Vec<Vec<Piece>> = parts
                .par_iter()
                .map(|p| pieces_in(p, block, minima.max_gap_ms))
                .collect();
            let slabs: Vec<(i64, i64)> = (0..)
                .map(|k| b0.saturating_add(k * SLAB_MS))
                .take_while(|s| *s <= b1)
                .map(|s| (s, s.saturating_add(SLAB_MS - 1).min(b1)))
                .collect();
            let found: Vec<Vec<Raw>> = slabs
                .par_iter()
                .map(|&slab| slab_pairs(&pieces, slab, minima))
                .collect();
            raws.extend(found.into_iter().flatten());
            if b1 >= range.end.0 {
                break;
            }
            b0 = b1 + 1;
        }
        Ok(merge(raws, &ids).into_iter())
    }

    /// Ids of every entity with a report in `range` or whose trajectory spans it, sorted.
    fn entities_during(&self, range: TimeRange) -> Vec<String> {
        let mut ids = Vec::new();
        for seg in self.segments() {
            for e in 0..seg.entity_count() {
                let r = seg.entity(e);
                if r.t_max >= range.start.0 && r.t_min <= range.end.0 {
                    ids.push(seg.entity_name(e).to_owned());
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// One entity's box in a slab: unwrapped longitudes, widened.
#[derive(Debug, Clone, Copy)]
struct SlabBox {
    west: f64,
    east: f64,
    south: f64,
    north: f64,
    entity: u32,
}

/// Exact comparisons of the entity pairs whose boxes meet in `slab`.
fn slab_pairs(pieces: &[Vec<Piece>], (s0, s1): (i64, i64), m: &Minima) -> Vec<Raw> {
    let half = m.horizontal_m / 2.0;
    let mut boxes: Vec<SlabBox> = Vec::new();
    let mut spans: Vec<std::ops::Range<usize>> = Vec::with_capacity(pieces.len());
    for (e, ps) in pieces.iter().enumerate() {
        let lo = ps.partition_point(|p| p.b.time.0 < s0);
        let hi = ps.partition_point(|p| p.a.time.0 <= s1);
        spans.push(lo..hi.max(lo));
        if lo >= hi {
            continue;
        }
        let base = ps[lo].a.lon;
        let (mut w, mut ea, mut s, mut n) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for p in &ps[lo..hi] {
            for f in [p.a, p.b] {
                let lon = base + lon_delta(base, f.lon);
                w = w.min(lon);
                ea = ea.max(lon);
                s = s.min(f.lat);
                n = n.max(f.lat);
            }
        }
        let (s, n, dlon) = widen_band(s, n, half);
        let (w, ea) = match dlon {
            Some(dlon) if ea - w < 360.0 => (w - dlon, ea + dlon),
            _ => (-540.0, 540.0),
        };
        let b = SlabBox {
            west: w,
            east: ea,
            south: s,
            north: n,
            entity: e as u32,
        };
        boxes.push(b);
        for shift in [-360.0, 360.0] {
            if w + shift <= 180.0 + 1e-9 && ea + shift >= -180.0 - 1e-9 {
                boxes.push(SlabBox {
                    west: w + shift,
                    east: ea + shift,
                    ..b
                });
            }
        }
    }
    boxes.sort_by(|a, b| a.west.total_cmp(&b.west));
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut active: Vec<SlabBox> = Vec::new();
    for b in boxes {
        active.retain(|a| a.east >= b.west);
        for a in &active {
            if a.entity != b.entity && a.north >= b.south && b.north >= a.south {
                pairs.push((a.entity.min(b.entity), a.entity.max(b.entity)));
            }
        }
        active.push(b);
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut out = Vec::new();
    for (a, b) in pairs {
        compare(
            &pieces[a as usize][spans[a as usize].clone()],
            &pieces[b as usize][spans[b as usize].clone()],
            (s0, s1),
            m,
            |start, end, min, cpa| {
                out.push(Raw {
                    a,
                    b,
                    start,
                    end,
                    min,
                    cpa,
                });
            },
        );
    }
    out
}

/// Walks two entities' pieces in time order and compares each pair of pieces on their common
/// time within the slab.
fn compare(
    pa: &[Piece],
    pb: &[Piece],
    (s0, s1): (i64, i64),
    m: &Minima,
    mut hit: impl FnMut(i64, i64, f64, i64),
) {
    let (mut i, mut j) = (0, 0);
    while i < pa.len() && j < pb.len() {
        let (x, y) = (&pa[i], &pb[j]);
        let t0 = x.a.time.0.max(y.a.time.0).max(s0);
        let t1 = x.b.time.0.min(y.b.time.0).min(s1);
        if t0 <= t1 {
            pair(x, y, t0, t1, m, &mut hit);
        }
        // advance the piece that ends first (both when they end together)
        let (xe, ye) = (x.b.time, y.b.time);
        if xe <= ye {
            i += 1;
        }
        if ye <= xe {
            j += 1;
        }
    }
}

/// One pair of pieces over their common time `[t0, t1]`.
fn pair(
    x: &Piece,
    y: &Piece,
    t0: i64,
    t1: i64,
    m: &Minima,
    hit: &mut impl FnMut(i64, i64, f64, i64),
) {
    let (xa, xb, ya, yb) = (
        x.at(Timestamp(t0)),
        x.at(Timestamp(t1)),
        y.at(Timestamp(t0)),
        y.at(Timestamp(t1)),
    );
    let (w0, w1) = match (xa.alt, xb.alt, ya.alt, yb.alt) {
        (Some(p0), Some(p1), Some(q0), Some(q1)) => {
            match linear_inside(
                (t0, p0 - q0),
                (t1, p1 - q1),
                (t0, t1),
                (-m.vertical_m, m.vertical_m),
            ) {
                Some(w) => w,
                None => return,
            }
        }
        _ => (t0, t1),
    };
    if w0 == w1 {
        let (p, q) = (x.at(Timestamp(w0)), y.at(Timestamp(w0)));
        let d = distance_m((p.lon, p.lat), (q.lon, q.lat));
        if d < m.horizontal_m {
            hit(w0, w0, d, w0);
        }
        return;
    }
    let (p0, p1, q0, q1) = (
        x.at(Timestamp(w0)),
        x.at(Timestamp(w1)),
        y.at(Timestamp(w0)),
        y.at(Timestamp(w1)),
    );
    if let Some(a) = moving_points_cpa(
        (p0.lon, p0.lat),
        (p1.lon, p1.lat),
        (q0.lon, q0.lat),
        (q1.lon, q1.lat),
        w0,
        w1,
        m.horizontal_m,
    ) && a.min_distance_m < m.horizontal_m
    {
        hit(
            a.start_ms.max(w0),
            a.end_ms.min(w1),
            a.min_distance_m,
            a.cpa_ms,
        );
    }
}

/// Joins touching intervals of each pair into episodes.
fn merge(mut raws: Vec<Raw>, ids: &[String]) -> Vec<Episode> {
    raws.sort_by_key(|r| (r.a, r.b, r.start, r.end));
    let mut out: Vec<Episode> = Vec::new();
    let mut cur: Option<Raw> = None;
    let flush = |r: Raw, out: &mut Vec<Episode>| {
        out.push(Episode {
            a: ids[r.a as usize].clone(),
            b: ids[r.b as usize].clone(),
            start: Timestamp(r.start),
            end: Timestamp(r.end),
            min_distance_m: r.min,
            cpa_time: Timestamp(r.cpa),
        });
    };
    for r in raws {
        match &mut cur {
            Some(c) if c.a == r.a && c.b == r.b && r.start <= c.end + 1 => {
                c.end = c.end.max(r.end);
                if r.min < c.min {
                    c.min = r.min;
                    c.cpa = r.cpa;
                }
            }
            _ => {
                if let Some(c) = cur.take() {
                    flush(c, &mut out);
                }
                cur = Some(r);
            }
        }
    }
    if let Some(c) = cur {
        flush(c, &mut out);
    }
    out.sort_by(|x, y| (x.start, &x.a, &x.b).cmp(&(y.start, &y.a, &y.b)));
    out
}
