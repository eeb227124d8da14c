//! Track conflicts: interpolated trajectories against an operation's volumes.
//!
//! The candidate search keeps, per entity and volume, the time bounds of the runs (and seams)
//! the volume's filter hits: only the pieces overlapping them can conflict, so only those are
//! built and tested ([`candidates`]). Each candidate's pieces are read once for all the
//! volumes it may reach. A piece is first settled by the volume's core in local frames
//! ([`FramedCore`], proven bounds): far or outside → no hit; inside over its whole interval →
//! a hit whose least distance is only bounded; crossing the threshold once → a hit whose
//! crossing time is solved exactly only if it can change the reports ([`settle_crossings`]);
//! undecided → exact distances at the ends the frames left open decide between those, and
//! only a piece with both ends outside goes to the exact kernel. Per merged conflict, only the
//! hits that can be its least are then solved exactly ([`merge_pending`]).
//!
//! Entities are independent of each other once the candidates are known: a check of many
//! ([`PARALLEL_MIN_CANDIDATES`] or more) shares them with helpers from rayon's pool, each
//! entity's conflicts computed whole on one thread and appended in candidate order, so the
//! reports are those of the serial loop, bit for bit ([`conflicts_shared`]). A check whose
//! candidate search is large ([`EARLY_HELPER_MIN_READS`]), called from outside the pool, calls
//! its helpers before the search, so that they are awake when the entities are known.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::volume::{Core, Volume};
use super::{Conflict, ConflictKind, Hit, Pending, merge_pending};
use crate::error::Result;
use crate::geodesy::{
    Approach, FramedCore, PieceVsCore, moving_point_least_vs_point, moving_point_vs_point,
    point_crossing_ms,
};
use crate::model::{Minima, Operation};
use crate::segment::BoxFilter;
use crate::snapshot::Snapshot;
use crate::time::{TimeRange, Timestamp};
use crate::trajectory::{Fix, Piece, entity_rows, pieces_into};

pub(crate) fn conflicts(
    snap: &Snapshot,
    op: &Operation,
    vols: &[Volume],
    labels: &[String],
    m: &Minima,
    out: &mut Vec<Conflict>,
) -> Result<()> {
    // The switches are read here, on the calling thread: the entities may be checked on others.
    let sw = Switches::current();
    let widened: Vec<TimeRange> = vols
        .iter()
        .map(|v| v.window.widen(m.time_buffer_ms))
        .collect();
    let filters = search_filters(vols, &widened, m);
    // Not from inside the pool (a batch of checks, say): there its other threads are busy with
    // other work, which waiting helpers would only hold up.
    let early = sw.early_helper.unwrap_or_else(|| {
        sw.parallel != Some(false)
            && rayon::current_thread_index().is_none()
            && search_reads(snap, &filters) >= EARLY_HELPER_MIN_READS
    });
    let shared = Shared {
        snap,
        vols,
        labels,
        m,
        sw,
    };
    if early {
        let search = Start::Search {
            op,
            widened,
            filters: &filters,
        };
        return conflicts_shared(&shared, search, out);
    }
    let p = prepare(snap, op, vols, widened, &filters, m, sw)?;
    if sw
        .parallel
        .unwrap_or(p.candidates.len() >= PARALLEL_MIN_CANDIDATES)
    {
        return conflicts_shared(&shared, Start::Ready(p), out);
    }
    let ctx = shared.ctx(&p);
    BUFFERS.with_borrow_mut(|bufs| {
        p.candidates
            .iter()
            .try_for_each(|(id, c)| ctx.entity(id, c, bufs, out))
    })
}

/// What a check's entities share once the candidates are known.
struct Prepared<'s> {
    widened: Vec<TimeRange>,
    candidates: Vec<(&'s str, Candidate)>,
    /// Each volume's core in local frames (`None` where refused, turned off, or reached by no
    /// candidate).
    framed: Vec<Option<FramedCore>>,
}

/// The candidate entities (found with `filters`, see [`search_filters`]) and the frames of
/// the volumes they reach.
fn prepare<'s>(
    snap: &'s Snapshot,
    op: &Operation,
    vols: &[Volume],
    widened: Vec<TimeRange>,
    filters: &[BoxFilter],
    m: &Minima,
    sw: Switches,
) -> Result<Prepared<'s>> {
    let own: HashSet<&str> = op.own_tracks.iter().map(String::as_str).collect();
    let candidates: Vec<(&str, Candidate)> =
        candidates(snap, filters, &widened, m, &own, sw.spans)?
            .into_iter()
            .collect();
    // The frames of the volumes some candidate reaches, built once for every entity.
    let mut reached = vec![false; vols.len()];
    for r in candidates.iter().flat_map(|(_, c)| &c.reach) {
        reached[r.vi] = true;
    }
    let framed: Vec<Option<FramedCore>> = vols
        .iter()
        .zip(&reached)
        .map(|(v, &r)| {
            if r && sw.frames {
                v.framed(m.horizontal_m)
            } else {
                None
            }
        })
        .collect();
    Ok(Prepared {
        widened,
        candidates,
        framed,
    })
}

/// Each volume's candidate search: its box widened by the horizontal minimum, its widened
/// window, its altitude band widened by the vertical minimum.
fn search_filters(vols: &[Volume], widened: &[TimeRange], m: &Minima) -> Vec<BoxFilter> {
    vols.iter()
        .zip(widened)
        .map(|(v, w)| {
            BoxFilter::new(
                &v.bbox(m.horizontal_m),
                (w.start.0, w.end.0),
                Some((v.band.0 - m.vertical_m, v.band.1 + m.vertical_m)),
            )
        })
        .collect()
}

/// Reports the candidate searches of a check read through, estimated
/// ([`crate::segment::Segment::reports_within`]).
fn search_reads(snap: &Snapshot, filters: &[BoxFilter]) -> f64 {
    filters
        .iter()
        .map(|f| {
            snap.segments()
                .iter()
                .map(|s| s.reports_within(f))
                .sum::<f64>()
        })
        .sum()
}

/// A check whose candidate searches read at least this many reports
/// ([`search_reads`]) calls a helper from the pool before it starts them.
const EARLY_HELPER_MIN_READS: f64 = 100_000.0;

/// What a check's threads share whatever its candidates.
struct Shared<'a, 's> {
    snap: &'s Snapshot,
    vols: &'a [Volume],
    labels: &'a [String],
    m: &'a Minima,
    sw: Switches,
}

impl<'s> Shared<'_, 's> {
    /// What a thread checking the candidates of `p` needs.
    fn ctx<'b>(&'b self, p: &'b Prepared<'s>) -> EntityCheck<'b, 's> {
        EntityCheck {
            snap: self.snap,
            vols: self.vols,
            widened: &p.widened,
            framed: &p.framed,
            labels: self.labels,
            m: self.m,
            lazy_crossings: self.sw.lazy_crossings,
        }
    }
}

/// Where a shared check starts.
enum Start<'a, 's> {
    /// Before its candidate search ([`prepare`]'s arguments): the helpers are called first
    /// and wait for the candidates.
    Search {
        op: &'a Operation,
        widened: Vec<TimeRange>,
        filters: &'a [BoxFilter],
    },
    /// With its candidates known.
    Ready(Prepared<'s>),
}

/// [`conflicts`] for a check of many entities, shared with helpers from rayon's pool.
///
/// Every thread takes the next unchecked entity from a shared counter until none is left; each
/// entity's conflicts go to its own slot, appended in candidate order, so the reports are those
/// of the serial loop, bit for bit.
///
/// A sleeping pool worker takes 75–90 µs (p50; up to 350 µs) to start a job on the VMs this
/// was measured on: called when the entities are known, it would lose that time from the
/// parallel part. So a large check ([`Start::Search`]) calls its helpers first, and they wait,
/// spinning, while this thread searches for the candidates.
fn conflicts_shared<'s>(
    sh: &Shared<'_, 's>,
    start: Start<'_, 's>,
    out: &mut Vec<Conflict>,
) -> Result<()> {
    let work = Work {
        ready: OnceLock::new(),
        closed: AtomicBool::new(false),
        next: AtomicUsize::new(0),
        settled: AtomicUsize::new(0),
    };
    let helpers = rayon::current_num_threads().saturating_sub(1).max(1);
    let prepared = rayon::in_place_scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|_| {
                // Until the candidates are known (or the check gave up): spinning, then
                // yielding the core after a while (a cold search can take milliseconds).
                let mut spins = 0u32;
                let mut yielding: Option<Instant> = None;
                let p = loop {
                    if let Some(p) = work.ready.get() {
                        break p;
                    }
                    if work.closed.load(Ordering::Acquire) {
                        return;
                    }
                    if spins < SPINS_BEFORE_YIELD {
                        spins += 1;
                        std::hint::spin_loop();
                    } else {
                        // A slow (cold) search: stop holding a pool thread that other work,
                        // another check's, may be waiting for; the calling thread does the rest.
                        let since = *yielding.get_or_insert_with(Instant::now);
                        if since.elapsed() >= HELPER_PATIENCE {
                            return;
                        }
                        std::thread::yield_now();
                    }
                };
                work.check_entities(&sh.ctx(&p.0), &p.0, &p.1);
            });
        }
        // Whatever happens below, the helpers must not wait for candidates forever.
        let _close = SetOnDrop(&work.closed);
        let p = match start {
            Start::Search {
                op,
                widened,
                filters,
            } => work.publish(prepare(
                sh.snap, op, sh.vols, widened, filters, sh.m, sh.sw,
            )?),
            Start::Ready(p) => work.publish(p),
        };
        work.check_entities(&sh.ctx(&p.0), &p.0, &p.1);
        // The entities the helpers took are being checked: wait for them (one each at most).
        while work.settled.load(Ordering::Acquire) < p.1.len() {
            std::hint::spin_loop();
        }
        Ok::<(), crate::error::Error>(())
    });
    prepared?;
    let Some((_, slots)) = work.ready.into_inner() else {
        return Ok(());
    };
    for slot in slots {
        if let Some(found) = slot.into_inner() {
            out.extend(found?);
        }
    }
    Ok(())
}

/// Each candidate's conflicts, filled by whichever thread checked it.
type Slots = Vec<OnceLock<Result<Vec<Conflict>>>>;

/// A waiting helper's busy spins before it starts yielding its core (≈ 0.1 ms).
const SPINS_BEFORE_YIELD: u32 = 1 << 12;

/// How long a helper then keeps waiting for the candidates before it leaves the check to its
/// calling thread (a warm search at 100 M reports takes ≈ 0.16 ms).
const HELPER_PATIENCE: Duration = Duration::from_millis(1);

/// The entities of a [`conflicts_shared`] check, shared by its threads.
struct Work<'s> {
    /// The candidates and a slot for each one's conflicts, once known.
    ready: OnceLock<(Prepared<'s>, Slots)>,
    /// Set when the calling thread is done with the check (or failed before its candidates
    /// were known).
    closed: AtomicBool,
    /// The next entity to take.
    next: AtomicUsize,
    /// Entities whose slot is filled (or whose check panicked).
    settled: AtomicUsize,
}

impl<'s> Work<'s> {
    /// Makes the candidates known to the helpers, with an empty slot for each.
    fn publish(&self, p: Prepared<'s>) -> &(Prepared<'s>, Slots) {
        let slots: Slots = p.candidates.iter().map(|_| OnceLock::new()).collect();
        self.ready.get_or_init(|| (p, slots))
    }

    /// Takes entities from the shared counter and checks them until none is left.
    fn check_entities(&self, ctx: &EntityCheck<'_, '_>, p: &Prepared<'_>, slots: &Slots) {
        BUFFERS.with_borrow_mut(|bufs| {
            loop {
                let i = self.next.fetch_add(1, Ordering::AcqRel);
                let Some((id, c)) = p.candidates.get(i) else {
                    return;
                };
                // Counted even if the check panics (the scope then passes the panic on).
                let _settled = AddOnDrop(&self.settled);
                let _ = slots[i].set(ctx.entity_conflicts(id, c, bufs));
            }
        });
    }
}

/// Sets its flag when dropped.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Adds one to its counter when dropped.
struct AddOnDrop<'a>(&'a AtomicUsize);

impl Drop for AddOnDrop<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// Below this many candidate entities a check stays on the calling thread: handing the work to
/// the pool (waking a worker, splitting, collecting) would cost more than it saves.
const PARALLEL_MIN_CANDIDATES: usize = 16;

/// What every entity of one check shares.
struct EntityCheck<'a, 's> {
    snap: &'s Snapshot,
    vols: &'a [Volume],
    widened: &'a [TimeRange],
    /// Each volume's core in local frames (`None` where refused, turned off, or reached by no
    /// candidate).
    framed: &'a [Option<FramedCore>],
    labels: &'a [String],
    m: &'a Minima,
    lazy_crossings: bool,
}

/// An entity's fixes, pieces, hits and hits' bounds: each thread keeps one set, reused from
/// entity to entity and from check to check (cleared, not reallocated). (Rayon's `map_init`
/// would make a new set for every split, which here is every entity.)
#[derive(Default)]
struct Buffers {
    fixes: Vec<Fix>,
    pieces: Vec<Piece>,
    hits: Vec<TrackHit>,
    pending: Vec<Pending>,
}

thread_local! {
    static BUFFERS: std::cell::RefCell<Buffers> = std::cell::RefCell::new(Buffers::default());
}

impl EntityCheck<'_, '_> {
    /// [`EntityCheck::entity`] into a `Vec` of its own (for a thread checking some entities of
    /// many, whose results are appended in candidate order afterwards).
    fn entity_conflicts(
        &self,
        id: &str,
        c: &Candidate,
        bufs: &mut Buffers,
    ) -> Result<Vec<Conflict>> {
        let mut found = Vec::new();
        self.entity(id, c, bufs, &mut found).map(|()| found)
    }

    /// The conflicts of entity `id` with the volumes it may reach, appended to `out`.
    fn entity(
        &self,
        id: &str,
        c: &Candidate,
        bufs: &mut Buffers,
        out: &mut Vec<Conflict>,
    ) -> Result<()> {
        let (vols, m, reach) = (self.vols, self.m, &c.reach);
        let parts = match c.whole_in {
            Some((s, e)) => vec![self.snap.segments()[s].entity_rows(e)?],
            None => entity_rows(self.snap.segments(), id)?,
        };
        let range = reach
            .iter()
            .map(|r| r.span)
            .reduce(|a, b| TimeRange {
                start: a.start.min(b.start),
                end: a.end.max(b.end),
            })
            .expect("at least one volume");
        pieces_into(
            &parts,
            range,
            m.max_gap_ms,
            &mut bufs.fixes,
            &mut bufs.pieces,
        );
        let pieces = &bufs.pieces;
        let h = &mut bufs.hits;
        h.clear();
        for &Reach { vi, span } in reach {
            let (v, w) = (&vols[vi], self.widened[vi]);
            let fc = self.framed[vi].as_ref();
            for piece in pieces {
                if piece.b.time < span.start || piece.a.time > span.end {
                    continue;
                }
                let window = (w.start.0, w.end.0);
                if let Some(x) = piece_vs_volume(piece, v, vi, fc, window, m) {
                    h.push(x);
                }
            }
        }
        if h.is_empty() {
            return Ok(());
        }
        settle_crossings(h, vols, self.framed, m, self.lazy_crossings);
        let pending = &mut bufs.pending;
        pending.clear();
        pending.extend(h.iter().map(TrackHit::pending));
        let resolve = |i: usize| match &h[i] {
            TrackHit::Exact(hit) => Some(*hit),
            TrackHit::Lazy(p) => p.resolve(&vols[p.hit.volume], m),
        };
        merge_pending(
            ConflictKind::Track,
            id,
            None,
            pending,
            resolve,
            self.labels,
            out,
        );
        Ok(())
    }
}

/// An entity whose trajectory may reach the operation's volumes.
struct Candidate {
    /// The volumes it may reach (in volume order), and when.
    reach: Vec<Reach>,
    /// The segment (its index in the snapshot) and entity number there of its rows, when
    /// that segment holds them all (no other has a row of it): then they are read without
    /// looking the entity up by name in every segment.
    whole_in: Option<(usize, u32)>,
}

/// A volume an entity may reach, and when: only its pieces overlapping `span` can conflict
/// with it.
#[derive(Clone, Copy)]
struct Reach {
    vi: usize,
    span: TimeRange,
}

/// The entities whose trajectories may reach the volumes (except the operation's own), each
/// with the volumes it may reach (in volume order) and when.
///
/// From the runs whose boxes meet a volume's filter (`filters`, [`search_filters`]: its
/// box widened by the minima, its widened window, its band ± `vertical_m`) and from the seams
/// between segments that meet it, but keeping *when*: a run's box bounds its rows and the
/// entity's next row, so a piece of a segment (two consecutive rows) lies in the box of the
/// run of its first row, and a piece with an instant in the filter — which a conflict needs —
/// makes that run hit, with the piece's whole span inside the run's time bounds. Every piece
/// that can conflict with a volume therefore overlaps the hull of the time bounds of its hit
/// runs and seams (a seam is itself one piece), within the widened window: the pieces outside
/// it are never built or tested. The answer is the same as testing every piece of the window.
fn candidates<'s>(
    snap: &'s Snapshot,
    filters: &[BoxFilter],
    widened: &[TimeRange],
    m: &Minima,
    own: &HashSet<&str>,
    spans: bool,
) -> Result<BTreeMap<&'s str, Candidate>> {
    let mut out: BTreeMap<&'s str, Candidate> = BTreeMap::new();
    let mut add = |id: &'s str, vi: usize, (t0, t1): (i64, i64), whole_in| {
        if own.contains(id) {
            return;
        }
        let w = widened[vi];
        let span = if spans {
            TimeRange {
                start: w.start.max(Timestamp(t0)),
                end: w.end.min(Timestamp(t1)),
            }
        } else {
            w
        };
        let reach = &mut out
            .entry(id)
            .or_insert_with(|| Candidate {
                reach: Vec::new(),
                whole_in,
            })
            .reach;
        match reach.last_mut() {
            Some(r) if r.vi == vi => {
                r.span.start = r.span.start.min(span.start);
                r.span.end = r.span.end.max(span.end);
            }
            _ => reach.push(Reach { vi, span }),
        }
    };
    let seams = snap.seams()?;
    let mut found: Vec<(u32, i64, i64)> = Vec::new();
    for (vi, filter) in filters.iter().enumerate() {
        for (si, seg) in snap.segments().iter().enumerate() {
            // One `add` per entity, with the hull of its runs' time bounds: what adding them
            // one by one gives (each is clipped to the window, then merged by min and max),
            // with one name lookup instead of one per run.
            found.clear();
            found.extend(
                seg.search_wide(filter)?
                    .iter()
                    .map(|r| (r.entity, r.bounds.t_min, r.bounds.t_max)),
            );
            found.sort_unstable_by_key(|f| f.0);
            for same in found.chunk_by(|a, b| a.0 == b.0) {
                let e = same[0].0;
                let t0 = same.iter().map(|f| f.1).min().expect("one run at least");
                let t1 = same.iter().map(|f| f.2).max().expect("one run at least");
                let whole_in = (!seams.is_shared(si, e)).then_some((si, e));
                add(seg.entity_name(e), vi, (t0, t1), whole_in);
            }
        }
        for seam in seams.overlapping(filter.time.0, filter.time.1, m.max_gap_ms) {
            if filter.intersects(&seam.bounds) {
                add(&seam.id, vi, (seam.a.time.0, seam.b.time.0), None);
            }
        }
    }
    Ok(out)
}

/// A piece's hit: solved exactly, or settled by the frames (inside the threshold over its
/// whole vertical interval, or crossing it once, that time solved exactly) with its least
/// distance only bounded until needed.
enum TrackHit {
    Exact(Hit),
    Lazy(LazyHit),
}

struct LazyHit {
    /// Interval and volume (distance, CPA and closest points are placeholders).
    hit: Hit,
    /// The moving point's ends and times over the vertical interval (`tv.0 < tv.1`).
    p0: (f64, f64),
    p1: (f64, f64),
    tv: (i64, i64),
    /// Bounds of the hit's distance (`lo ≤ distance_m ≤ hi`).
    lo: f64,
    hi: f64,
    /// A crossing whose time is not solved yet: `Some(inside_end)` (`true`: inside at
    /// `tv.1`); its interval is then the whole of `tv`.
    crossing: Option<bool>,
}

impl TrackHit {
    fn pending(&self) -> Pending {
        match self {
            TrackHit::Exact(h) => Pending {
                start: h.start,
                end: h.end,
                lo: h.distance_m,
                hi: h.distance_m,
            },
            TrackHit::Lazy(p) => Pending {
                start: p.hit.start,
                end: p.hit.end,
                lo: p.lo,
                hi: p.hi,
            },
        }
    }
}

impl LazyHit {
    /// The exact hit: what [`piece_vs_volume`] would have found without the frames, with the
    /// interval already found (the same, or within 1 ms for a crossing solved from the frames).
    fn resolve(&self, v: &Volume, m: &Minima) -> Option<Hit> {
        // The least distance, CPA and closest points `exact_hit` finds (for `tv.0 < tv.1`, as
        // every lazy hit has), bit for bit, without searching the interval, which is known.
        let interval = (self.hit.start, self.hit.end);
        core_approach(v, (self.p0, self.p1), self.tv, m, false)
            .map(|a| approach_hit(&a, v, self.hit.volume, interval))
    }
}

/// The sub-interval of `[t0, t1]` in which the piece's altitude is closer than `vertical_m` to
/// the band (the whole interval when an altitude is unknown), rounded outward to whole ms.
pub(crate) fn vertical_interval(
    p: &Piece,
    t0: i64,
    t1: i64,
    band: (f64, f64),
    vertical_m: f64,
) -> Option<(i64, i64)> {
    let (Some(a0), Some(a1)) = (p.a.alt, p.b.alt) else {
        return Some((t0, t1));
    };
    linear_inside(
        (p.a.time.0, a0),
        (p.b.time.0, a1),
        (t0, t1),
        (band.0 - vertical_m, band.1 + vertical_m),
    )
}

/// For a quantity linear in time through `(ta, va)` and `(tb, vb)`, the sub-interval of
/// `[t0, t1]` where it lies strictly inside `(lo, hi)`, rounded outward to whole ms.
pub(crate) fn linear_inside(
    a: (i64, f64),
    b: (i64, f64),
    (t0, t1): (i64, i64),
    (lo, hi): (f64, f64),
) -> Option<(i64, i64)> {
    let inside = |v: f64| lo < v && v < hi;
    let span = (b.0 - a.0) as f64;
    if span <= 0.0 || a.1 == b.1 {
        return inside(a.1).then_some((t0, t1));
    }
    let rate = (b.1 - a.1) / span; // per ms
    let at = |v: f64| a.0 as f64 + (v - a.1) / rate;
    let (x, y) = (at(lo), at(hi));
    let (s, e) = (x.min(y).max(t0 as f64), x.max(y).min(t1 as f64));
    if s >= e {
        // At most one instant touches a boundary: never strictly inside, unless the whole
        // (degenerate) interval is.
        return (t0 == t1 && inside(a.1 + rate * (t0 - a.0) as f64)).then_some((t0, t1));
    }
    Some(((s.floor() as i64).max(t0), (e.ceil() as i64).min(t1)))
}

/// Where and when a piece of trajectory comes closer than `horizontal_m` to the volume's
/// footprint, within the widened window and the vertical interval. `framed` (the volume's
/// core in local frames at this threshold) settles most pieces without the exact kernel.
fn piece_vs_volume(
    p: &Piece,
    v: &Volume,
    vi: usize,
    framed: Option<&FramedCore>,
    window: (i64, i64),
    m: &Minima,
) -> Option<TrackHit> {
    let t0 = p.a.time.0.max(window.0);
    let t1 = p.b.time.0.min(window.1);
    if t0 > t1 || framed.is_some_and(|fc| fc.far((p.a.lon, p.a.lat), (p.b.lon, p.b.lat))) {
        return None;
    }
    let (tv0, tv1) = vertical_interval(p, t0, t1, v.band, m.vertical_m)?;
    let (f0, f1) = (p.at(Timestamp(tv0)), p.at(Timestamp(tv1)));
    let (p0, p1) = ((f0.lon, f0.lat), (f1.lon, f1.lat));
    if tv0 < tv1
        && let Some(fc) = framed
    {
        let threshold = v.buffer_m + m.horizontal_m;
        let exact = || exact_hit(v, vi, p0, p1, tv0, tv1, m).map(TrackHit::Exact);
        // `far` has let the whole piece through: unless the vertical interval clipped it,
        // the frames need not test it again.
        let verdict = if (p0, p1) == ((p.a.lon, p.a.lat), (p.b.lon, p.b.lat)) {
            fc.piece_near(p0, p1)
        } else {
            fc.piece(p0, p1)
        };
        let (lo, hi, crossing) = match verdict {
            PieceVsCore::Outside => return None,
            PieceVsCore::Inside { lo, hi } => (lo, hi, None),
            PieceVsCore::Crossing { inside_end, lo, hi } => (lo, hi, Some(inside_end)),
            PieceVsCore::Unknown { ends, lo, hi } => {
                // Exact distances where the frames left an end undecided. The kernel's interval
                // is decided by the ends too: both below the threshold, the whole piece (the
                // distance is unimodal on it); one below, one crossing.
                if ends == [Some(false), Some(false)] {
                    return exact(); // both ends outside: it may dip inside in between
                }
                let mut hi = hi;
                let mut inside = [false; 2];
                for (k, p) in [p0, p1].into_iter().enumerate() {
                    inside[k] = ends[k].unwrap_or_else(|| {
                        let d = v.core_distance(p).0;
                        hi = hi.min(d);
                        d < threshold
                    });
                }
                match inside {
                    [true, true] => (lo, hi, None),
                    [false, false] => return exact(),
                    [_, inside_end] => (lo, hi, Some(inside_end)),
                }
            }
        };
        let clamp = |d: f64| (d - v.buffer_m).max(0.0);
        return Some(TrackHit::Lazy(LazyHit {
            hit: Hit {
                start: tv0,
                end: tv1,
                distance_m: clamp(hi),
                cpa: tv0,
                on_op: p0,
                on_other: p0,
                volume: vi,
            },
            p0,
            p1,
            tv: (tv0, tv1),
            lo: clamp(lo),
            hi: clamp(hi),
            crossing,
        }));
    }
    exact_hit(v, vi, p0, p1, tv0, tv1, m).map(TrackHit::Exact)
}

/// Solves the crossing times that can change the entity's conflicts; the others keep the
/// whole piece as their interval.
///
/// Only the merged intervals and, per merged interval, the hit of least distance (the
/// earliest of those at the least distance) are reported. A crossing's time cannot change
/// either when (1) every millisecond of its piece is covered by the certain part of other
/// hits (their intervals; a crossing's inside end) — the union of the intervals, hence each
/// merged interval, its ends and which hits it holds, is the same wherever the crossing
/// falls — and (2) one of those hits certainly has a smaller distance (its upper bound below
/// the crossing's lower bound), so the crossing is neither the least nor tied with it, and
/// its rank among the hits, the only other thing its start decides, is never consulted.
/// The rest are solved (from the frames' guess; by the exact kernel when Newton does not
/// settle), as they were before being made lazy: the reports are the same.
fn settle_crossings(
    h: &mut Vec<TrackHit>,
    vols: &[Volume],
    framed: &[Option<FramedCore>],
    m: &Minima,
    lazy_crossings: bool,
) {
    if !h
        .iter()
        .any(|x| matches!(x, TrackHit::Lazy(l) if l.crossing.is_some()))
    {
        return;
    }
    // The certain part of each hit (ms, inclusive) and an upper bound of its distance.
    let certain: Vec<(i64, i64, f64)> = h
        .iter()
        .map(|x| match x {
            TrackHit::Exact(e) => (e.start, e.end, e.distance_m),
            TrackHit::Lazy(l) => match l.crossing {
                None => (l.hit.start, l.hit.end, l.hi),
                Some(true) => (l.tv.1, l.tv.1, l.hi),
                Some(false) => (l.tv.0, l.tv.0, l.hi),
            },
        })
        .collect();
    let needed = |j: usize, l: &LazyHit| {
        let (a, b) = l.tv;
        // The other hits' certain parts that meet the piece, by start (the order among equal
        // starts does not change what the sweep finds).
        let mut over: Vec<(i64, i64, f64)> = certain
            .iter()
            .enumerate()
            .filter(|&(k, &(s, e, _))| k != j && e >= a && s <= b)
            .map(|(_, &c)| c)
            .collect();
        over.sort_unstable_by_key(|c| c.0);
        let (mut next, mut least_hi) = (a, f64::INFINITY);
        for (s, e, hi) in over {
            if s > next {
                return true; // a millisecond of the piece only this hit may cover
            }
            next = next.max(e + 1);
            least_hi = least_hi.min(hi);
        }
        next <= b || least_hi >= l.lo || !lazy_crossings
    };
    let solve: Vec<bool> = h
        .iter()
        .enumerate()
        .map(|(j, x)| matches!(x, TrackHit::Lazy(l) if l.crossing.is_some() && needed(j, l)))
        .collect();
    // Solved in place; a hit the exact kernel then finds to be none is dropped (the others
    // keep their order).
    let mut gone = Vec::new();
    for (j, (x, solve)) in h.iter_mut().zip(solve).enumerate() {
        let TrackHit::Lazy(l) = x else {
            continue;
        };
        let Some(inside_end) = l.crossing.filter(|_| solve) else {
            continue;
        };
        let v = &vols[l.hit.volume];
        let fc = framed[l.hit.volume]
            .as_ref()
            .expect("a crossing comes from the frames");
        match solve_crossing(fc, v, (l.p0, l.p1), l.tv, m, inside_end) {
            Some((start, end)) => (l.hit.start, l.hit.end, l.crossing) = (start, end, None),
            None => match exact_hit(v, l.hit.volume, l.p0, l.p1, l.tv.0, l.tv.1, m) {
                Some(e) => *x = TrackHit::Exact(e),
                None => gone.push(j),
            },
        }
    }
    if !gone.is_empty() {
        let mut j = 0;
        h.retain(|_| {
            j += 1;
            !gone.contains(&(j - 1))
        });
    }
}

/// The interval of a piece known to cross the threshold once (inside at `tv.1` when
/// `inside_end`): the crossing time solved exactly from the frames' guess, and the inside end;
/// `None` when Newton does not settle.
fn solve_crossing(
    fc: &FramedCore,
    v: &Volume,
    (p0, p1): ((f64, f64), (f64, f64)),
    tv: (i64, i64),
    m: &Minima,
    inside_end: bool,
) -> Option<(i64, i64)> {
    let threshold = v.buffer_m + m.horizontal_m;
    let guess = fc.crossing_guess(p0, p1, inside_end);
    let at = match &v.core {
        Core::Leg(seg) => seg.crossing_ms((p0, p1), tv, threshold, inside_end, guess),
        Core::Point(q) => point_crossing_ms((p0, p1), tv, *q, threshold, inside_end, guess),
    }?;
    Some(if inside_end { (at, tv.1) } else { (tv.0, at) })
}

/// The exact kernel's answer for the moving point from `p0` at `tv0` to `p1` at `tv1`.
fn exact_hit(
    v: &Volume,
    vi: usize,
    p0: (f64, f64),
    p1: (f64, f64),
    tv0: i64,
    tv1: i64,
    m: &Minima,
) -> Option<Hit> {
    let threshold = v.buffer_m + m.horizontal_m;
    if tv0 == tv1 {
        let (d, on_op) = v.core_distance(p0);
        return (d < threshold).then_some(Hit {
            start: tv0,
            end: tv0,
            distance_m: (d - v.buffer_m).max(0.0),
            cpa: tv0,
            on_op,
            on_other: p0,
            volume: vi,
        });
    }
    let a = core_approach(v, (p0, p1), (tv0, tv1), m, true)?;
    let interval = (a.start_ms.max(tv0), a.end_ms.min(tv1));
    Some(approach_hit(&a, v, vi, interval))
}

/// How a point moving from `ends.0` to `ends.1` over `tv` (`tv.0 < tv.1`) approaches
/// volume `v`'s core, when it comes closer than the volume's buffer plus the horizontal
/// minimum: with the interval it is that close when `interval`, else only its least distance,
/// CPA and closest points (the same bits; the interval is then the CPA time rounded out).
fn core_approach(
    v: &Volume,
    ends: ((f64, f64), (f64, f64)),
    tv: (i64, i64),
    m: &Minima,
    interval: bool,
) -> Option<Approach> {
    let threshold = v.buffer_m + m.horizontal_m;
    let a = match (&v.core, interval) {
        (Core::Leg(seg), true) => seg.moving_point_approach(ends.0, ends.1, tv.0, tv.1, threshold),
        (Core::Leg(seg), false) => seg.moving_point_least(ends, tv, threshold),
        (Core::Point(q), true) => moving_point_vs_point(ends.0, ends.1, tv.0, tv.1, *q, threshold),
        (Core::Point(q), false) => moving_point_least_vs_point(ends, tv, *q, threshold),
    }?;
    (a.min_distance_m < threshold).then_some(a)
}

/// The hit of volume `vi` (`v`) an approach makes over `interval`.
fn approach_hit(a: &Approach, v: &Volume, vi: usize, (start, end): (i64, i64)) -> Hit {
    Hit {
        start,
        end,
        distance_m: (a.min_distance_m - v.buffer_m).max(0.0),
        cpa: a.cpa_ms,
        on_op: a.point_on_other,
        on_other: a.point_on_track,
        volume: vi,
    }
}

/// The shortcuts `check` may take, each of which gives the same reports as going without it
/// (tests turn them off to compare):
/// * `frames` — settle pieces in local frames (else every piece goes to the exact kernel);
/// * `spans` — test only the pieces within their volume's hit spans (else every piece of the
///   widened windows);
/// * `lazy_crossings` — leave unsolved the crossing times that cannot change the reports;
/// * `parallel` — `Some(true)`: check the entities in the thread pool, `Some(false)`: on the
///   calling thread, `None`: in the pool when there are at least
///   [`PARALLEL_MIN_CANDIDATES`] of them.
#[derive(Debug, Clone, Copy)]
struct Switches {
    frames: bool,
    spans: bool,
    lazy_crossings: bool,
    parallel: Option<bool>,
    /// Whether a check calls its helpers in before its candidate search (`None`: when the
    /// search is large, see [`EARLY_HELPER_MIN_READS`]).
    early_helper: Option<bool>,
}

impl Switches {
    /// What `check` does: every shortcut, and the pool for checks of many entities.
    const DEFAULT: Switches = Switches {
        frames: true,
        spans: true,
        lazy_crossings: true,
        parallel: None,
        early_helper: None,
    };

    #[cfg(not(test))]
    fn current() -> Switches {
        Switches::DEFAULT
    }

    /// The calling thread's switches.
    #[cfg(test)]
    fn current() -> Switches {
        SWITCHES.with(std::cell::Cell::get)
    }
}

#[cfg(test)]
thread_local! {
    static SWITCHES: std::cell::Cell<Switches> = const { std::cell::Cell::new(Switches::DEFAULT) };
}

#[cfg(test)]
mod tests {
    use super::{SWITCHES, Switches};
    use crate::deconflict::Conflict;
    use crate::geodesy::{lon_delta, wgs84, wrap_lon};
    use crate::model::{Minima, Operation, Report, Target, Waypoint};
    use crate::snapshot::Snapshot;
    use crate::time::{TimeRange, Timestamp};
    use crate::{Engine, ReportBatch};
    use geographiclib_rs::DirectGeodesic;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashSet;

    const T0: i64 = 1_600_000_000_000;
    /// Reference points: mid latitude, the antimeridian, high latitude, the west.
    const BASES: [(f64, f64); 4] = [(36.0, 35.5), (179.9, -20.0), (20.0, 79.0), (-60.0, 55.0)];

    fn go(p: (f64, f64), azi: f64, s: f64) -> (f64, f64) {
        let (lat, lon): (f64, f64) = wgs84().direct(p.1, p.0, azi, s);
        (wrap_lon(lon), lat)
    }

    /// `n` aircraft around `base` for 20 minutes, straight or turning, climbing or
    /// descending; `step(rng)` gives the time to each next report (ms).
    fn fleet(
        rng: &mut ChaCha8Rng,
        base: (f64, f64),
        n: usize,
        mut step: impl FnMut(&mut ChaCha8Rng) -> i64,
    ) -> Vec<Report> {
        let mut out = Vec::new();
        for k in 0..n {
            let mut p = go(base, rng.gen_range(0.0..360.0), rng.gen_range(0.0..60e3));
            let (mut azi, speed) = (rng.gen_range(0.0..360.0), rng.gen_range(50.0..300.0));
            let turn = if k % 3 == 0 {
                rng.gen_range(-2.0..2.0)
            } else {
                0.0
            };
            let (mut alt, climb) = (rng.gen_range(3000.0..9000.0), rng.gen_range(-15.0..15.0));
            let mut t = T0;
            while t < T0 + 1_200_000 {
                let r = Report::new(format!("A{k}"), "red", Timestamp(t), p.0, p.1, Some(alt));
                out.push(r.unwrap());
                let dt = step(rng);
                let s = dt as f64 / 1000.0;
                let (lat, lon, a2): (f64, f64, f64) = wgs84().direct(p.1, p.0, azi, speed * s);
                p = (wrap_lon(lon), lat);
                azi = a2 + turn * s / 5.0;
                alt = (alt + climb * s).max(0.0);
                t += dt;
            }
        }
        out
    }

    /// A random operation near `base` (routes of 0 to 3 legs, short, long or one point; target
    /// radius 0, 500 m or 5 km; corridor 0, 1 or 5 km) and random minima.
    fn operation(rng: &mut ChaCha8Rng, base: (f64, f64), j: usize) -> (Operation, Minima) {
        let mut route = vec![go(
            base,
            rng.gen_range(0.0..360.0),
            rng.gen_range(0.0..20e3),
        )];
        for _ in 0..rng.gen_range(0..4) {
            let len = if rng.gen_bool(0.2) {
                300e3
            } else {
                rng.gen_range(2e3..80e3)
            };
            route.push(go(*route.last().unwrap(), rng.gen_range(0.0..360.0), len));
        }
        let target = go(base, rng.gen_range(0.0..360.0), rng.gen_range(0.0..30e3));
        let lo = rng.gen_range(2000.0..8000.0f64);
        let op = Operation {
            id: format!("op-{j}"),
            side: "blue".into(),
            filed_at: Timestamp(T0 - 2 * 86_400_000),
            method: "m".into(),
            composition: "c".into(),
            target: Target {
                lon: target.0,
                lat: target.1,
                radius_m: [0.0, 500.0, 5000.0][j % 3],
            },
            window: TimeRange::new(Timestamp(T0 + 120_000), Timestamp(T0 + 900_000)).unwrap(),
            altitude_m: (lo, lo + rng.gen_range(0.0..3000.0)),
            corridor_m: [0.0, 1000.0, 5000.0][rng.gen_range(0..3)],
            route: route
                .iter()
                .map(|p| Waypoint {
                    lon: p.0,
                    lat: p.1,
                    time: None,
                })
                .collect(),
            own_tracks: vec![],
        };
        assert!(lon_delta(base.0, op.target.lon).abs() < 5.0);
        let minima = Minima {
            horizontal_m: [9260.0, 2000.0, 0.0][rng.gen_range(0..3)],
            ..Minima::default()
        };
        (op, minima)
    }

    /// An index of `reports`, in `gens` generations (report `i` in `generation(i)`).
    fn index(
        reports: &[Report],
        gens: usize,
        generation: impl Fn(usize) -> usize,
    ) -> (tempfile::TempDir, Engine) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::create(dir.path()).unwrap();
        for g in 0..gens {
            let mut w = engine.writer().unwrap();
            let mut b = ReportBatch::new();
            for (i, r) in reports.iter().enumerate() {
                if generation(i) == g {
                    b.push(r).unwrap();
                }
            }
            w.add(b).unwrap();
            w.commit().unwrap();
        }
        (dir, engine)
    }

    /// A thread pool of its own (more threads than this machine's cores, so that work is
    /// spread over threads whatever the machine).
    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    /// `check` with the switches `set` gives (on the calling thread), errors included.
    fn try_check_with(
        set: impl Fn(&mut Switches),
        snap: &Snapshot,
        op: &Operation,
        minima: &Minima,
    ) -> crate::error::Result<crate::deconflict::CheckReport> {
        let mut sw = Switches::DEFAULT;
        set(&mut sw);
        SWITCHES.with(|s| s.set(sw));
        let r = snap.check(op, minima);
        SWITCHES.with(|s| s.set(Switches::DEFAULT));
        r
    }

    /// `check` with the switches `set` gives (on the calling thread).
    fn check_with(
        set: impl Fn(&mut Switches),
        snap: &Snapshot,
        op: &Operation,
        minima: &Minima,
    ) -> crate::deconflict::CheckReport {
        try_check_with(set, snap, op, minima).unwrap()
    }

    /// `check` gives the same reports with the frames' fast path and without it (every piece
    /// solved by the exact kernel): bit for bit, but for interval ends within 1 ms: aircraft
    /// every 5 s crossing, following and circling routes of short and long legs, mid and high
    /// latitudes and the antimeridian.
    #[test]
    fn frames_change_nothing_in_check_reports() {
        let mut rng = ChaCha8Rng::seed_from_u64(31);
        let mut compared = 0;
        for case in 0..12 {
            let base = BASES[case % 4];
            let reports = fleet(&mut rng, base, 150, |_| 5_000);
            let (_dir, engine) = index(&reports, 1, |_| 0);
            let snap = engine.snapshot();
            for j in 0..6 {
                let (op, minima) = operation(&mut rng, base, j);
                let fast = snap.check(&op, &minima).unwrap();
                let exact = check_with(|s| s.frames = false, &snap, &op, &minima);
                // Crossing times are solved from the frames' guess: both are within a quarter
                // millisecond of the crossing, rounded outward, so they may differ by 1 ms.
                assert_eq!(
                    fast.conflicts.len(),
                    exact.conflicts.len(),
                    "case {case} op {j}"
                );
                for (f, e) in fast.conflicts.iter().zip(&exact.conflicts) {
                    let ms = (f.start.0 - e.start.0).abs().max((f.end.0 - e.end.0).abs());
                    let same = Conflict {
                        start: e.start,
                        end: e.end,
                        ..f.clone()
                    };
                    assert!(ms <= 1 && &same == e, "case {case} op {j}: {f:?} vs {e:?}");
                }
                compared += fast.conflicts.len();
            }
        }
        assert!(compared > 200, "only {compared} conflicts compared");
    }

    /// Two shortcuts give the same reports, bit for bit, as going without them: testing only
    /// the pieces within the time bounds of the runs (and seams) a volume's filter hits,
    /// rather than every piece of the widened windows; and leaving unsolved the crossing times
    /// covered by other hits of smaller distance, rather than solving them all. Tracks split
    /// over three segments by time or report by report (a seam between every two reports),
    /// at irregular intervals from 1 s to 70 s (some longer than `max_gap`), runs cut by the
    /// 16-row limit, routes whose legs and target overlap.
    #[test]
    fn hit_spans_and_lazy_crossings_change_nothing_in_check_reports() {
        let mut rng = ChaCha8Rng::seed_from_u64(32);
        let (mut compared, mut narrowed) = (0, 0);
        for case in 0..8 {
            let base = BASES[case % 4];
            let reports = if case % 2 == 0 {
                fleet(&mut rng, base, 120, |_| 5_000)
            } else {
                fleet(&mut rng, base, 120, |r| {
                    if r.gen_bool(0.05) {
                        r.gen_range(50_000..70_000)
                    } else {
                        r.gen_range(1_000..20_000)
                    }
                })
            };
            // By time (each track in three consecutive parts), or interleaved.
            let (_dir, engine) = if case % 4 < 2 {
                index(&reports, 3, |i| {
                    let t = reports[i].time.0 - T0;
                    (t / 400_000).clamp(0, 2) as usize
                })
            } else {
                index(&reports, 3, |i| i % 3)
            };
            let snap = engine.snapshot();
            for j in 0..8 {
                let (op, minima) = operation(&mut rng, base, j);
                let fast = snap.check(&op, &minima).unwrap();
                let whole = check_with(|s| s.spans = false, &snap, &op, &minima);
                assert_eq!(fast, whole, "spans: case {case} op {j}");
                let solved = check_with(|s| s.lazy_crossings = false, &snap, &op, &minima);
                assert_eq!(fast, solved, "lazy crossings: case {case} op {j}");
                compared += fast.conflicts.len();
                // The windows are 23 minutes wide, the tracks' stays near a volume shorter.
                narrowed += usize::from(fast.conflicts.iter().any(|c| {
                    c.kind == crate::deconflict::ConflictKind::Track
                        && c.end.0 - c.start.0 < 600_000
                }));
            }
        }
        assert!(
            compared > 300 && narrowed > 20,
            "{compared} conflicts, {narrowed} short"
        );
    }

    /// Checking the candidate entities in the thread pool gives the reports of checking them
    /// one after the other on the calling thread, bit for bit — by rayon's splits, and with
    /// early helpers taking entities from a shared counter, called from inside the pool or
    /// from outside it: a pool of four threads (so the entities are spread over threads even
    /// on a machine of one core), fleets of 200 aircraft in one generation or in two (seams
    /// between them), operations reaching from a few entities to dozens.
    #[test]
    fn parallel_and_serial_checks_agree() {
        let pool = pool(4);
        let mut rng = ChaCha8Rng::seed_from_u64(33);
        let (mut compared, mut spread) = (0, 0);
        for case in 0..8 {
            let base = BASES[case % 4];
            let reports = fleet(&mut rng, base, 200, |r| r.gen_range(2_000..8_000));
            let (_dir, engine) = if case % 2 == 0 {
                index(&reports, 1, |_| 0)
            } else {
                index(&reports, 2, |i| i % 2)
            };
            let snap = engine.snapshot();
            for j in 0..8 {
                let (op, minima) = operation(&mut rng, base, j);
                let serial = check_with(|s| s.parallel = Some(false), &snap, &op, &minima);
                let parallel =
                    pool.install(|| check_with(|s| s.parallel = Some(true), &snap, &op, &minima));
                assert_eq!(serial, parallel, "case {case} op {j}");
                let early = |s: &mut Switches| s.early_helper = Some(true);
                let helped = pool.install(|| check_with(early, &snap, &op, &minima));
                assert_eq!(serial, helped, "early helpers: case {case} op {j}");
                // Called from outside the pool, as a planning system's thread would.
                let outside = check_with(early, &snap, &op, &minima);
                assert_eq!(
                    serial, outside,
                    "early helpers, outside: case {case} op {j}"
                );
                let tracks: HashSet<&str> = serial
                    .conflicts
                    .iter()
                    .filter(|c| c.kind == crate::deconflict::ConflictKind::Track)
                    .map(|c| c.with.as_str())
                    .collect();
                compared += serial.conflicts.len();
                spread += usize::from(tracks.len() >= 8);
            }
        }
        assert!(
            compared > 300 && spread > 10,
            "{compared} conflicts, {spread} checks with 8 tracks or more"
        );
    }

    /// A check that meets damaged rows fails with the same error with early helpers as
    /// without, and returns: the helpers neither hang nor outlive the check. The time column
    /// of the segment is damaged throughout (checksums are verified when rows are first read).
    #[test]
    fn early_helpers_pass_errors_on() {
        let pool = pool(3);
        let mut rng = ChaCha8Rng::seed_from_u64(34);
        let base = BASES[0];
        let reports = fleet(&mut rng, base, 150, |_| 5_000);
        let (dir, engine) = index(&reports, 1, |_| 0);
        drop(engine);
        let seg = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "dcs"))
            .expect("a segment file");
        let mut bytes = std::fs::read(&seg).unwrap();
        // The section table's first entry: the time column's offset and length.
        let at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap()) as usize;
        let (off, len) = (at(96), at(104));
        for b in bytes[off..off + len].iter_mut().step_by(8) {
            *b ^= 0x55;
        }
        std::fs::write(&seg, &bytes).unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let snap = engine.snapshot();
        let mut failed = 0;
        for j in 0..6 {
            let (op, minima) = operation(&mut rng, base, j);
            let serial = try_check_with(|s| s.parallel = Some(false), &snap, &op, &minima);
            let helped = |sw: &mut Switches| sw.early_helper = Some(true);
            for r in [
                pool.install(|| try_check_with(helped, &snap, &op, &minima)),
                try_check_with(helped, &snap, &op, &minima),
            ] {
                match (&serial, &r) {
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "op {j}"),
                    (a, b) => assert_eq!(a.as_ref().ok(), b.as_ref().ok(), "op {j}"),
                }
            }
            failed += usize::from(serial.is_err());
        }
        assert!(failed >= 3, "only {failed} of 6 checks met the damage");
    }
}
