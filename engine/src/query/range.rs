//! Window queries: which reports lie inside an area, a time range, an altitude band, for a side.

use geo::{Intersects, MultiPolygon, Point};
use wide::{CmpGt, CmpLt, i32x4};

use super::report::ReportRef;
use crate::error::{Error, Result};
use crate::geodesy::{BBox, NearCentre, circle_bbox, distance_m};
use crate::model::{ALT_UNKNOWN, deg_from_e7};
use crate::num::{ceil_i64, floor_i64};
use crate::segment::format::{Dim, QBOX_LEN, RUN_MAX_ROWS};
use crate::segment::reader::{Cols, LeafHits, RunHit, RunSearch};
use crate::segment::{BoxFilter, Segment};
use crate::time::TimeRange;

/// Where to look.
#[derive(Debug, Clone)]
pub enum Area {
    /// Everywhere.
    All,
    /// A longitude/latitude box, bounds inclusive (may cross the antimeridian).
    BBox(BBox),
    /// Points within `radius_m` metres (geodesic, WGS84) of a centre, bound inclusive.
    Circle {
        /// Centre longitude, degrees.
        lon: f64,
        /// Centre latitude, degrees.
        lat: f64,
        /// Radius, metres.
        radius_m: f64,
    },
    /// A polygon (edges straight in longitude/latitude, boundary inclusive).
    Polygon(MultiPolygon<f64>),
}

impl Area {
    /// Parses a WKT `POLYGON` or `MULTIPOLYGON` in longitude/latitude degrees.
    ///
    /// ```
    /// use deconflict_engine::query::Area;
    /// assert!(Area::polygon_from_wkt("POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))").is_ok());
    /// assert!(Area::polygon_from_wkt("LINESTRING(0 0, 1 1)").is_err());
    /// ```
    pub fn polygon_from_wkt(s: &str) -> Result<Area> {
        use std::str::FromStr;
        let w = wkt::Wkt::<f64>::from_str(s).map_err(|e| Error::Invalid(format!("WKT: {e}")))?;
        let g: geo::Geometry<f64> = w
            .try_into()
            .map_err(|_| Error::Invalid("WKT: not convertible".into()))?;
        let mp = match g {
            geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
            geo::Geometry::MultiPolygon(mp) => mp,
            _ => {
                return Err(Error::Invalid(
                    "WKT: expected POLYGON or MULTIPOLYGON".into(),
                ));
            }
        };
        let coords_ok = mp.0.iter().all(|p| {
            std::iter::once(p.exterior()).chain(p.interiors()).all(|r| {
                r.0.len() >= 4
                    && r.0.iter().all(|c| {
                        c.x.abs() <= 180.0
                            && c.y.abs() <= 90.0
                            && c.x.is_finite()
                            && c.y.is_finite()
                    })
            })
        });
        if mp.0.is_empty() || !coords_ok {
            return Err(Error::Invalid(
                "WKT polygon: rings need ≥ 4 positions with lon in [-180, 180] and lat in [-90, 90]".into(),
            ));
        }
        Ok(Area::Polygon(mp))
    }

    /// A box containing the area.
    pub fn bbox(&self) -> BBox {
        match self {
            Area::All => BBox::WORLD,
            Area::BBox(b) => *b,
            Area::Circle { lon, lat, radius_m } => circle_bbox(*lon, *lat, *radius_m),
            Area::Polygon(mp) => {
                use geo::BoundingRect;
                mp.bounding_rect().map_or(BBox::WORLD, |r| BBox {
                    west: r.min().x,
                    south: r.min().y,
                    east: r.max().x,
                    north: r.max().y,
                })
            }
        }
    }

    /// Exact, inclusive containment.
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        match self {
            Area::All => true,
            Area::BBox(b) => b.contains(lon, lat),
            Area::Circle {
                lon: clon,
                lat: clat,
                radius_m,
            } => {
                self.bbox().contains(lon, lat)
                    && distance_m((*clon, *clat), (lon, lat)) <= *radius_m
            }
            Area::Polygon(mp) => mp.intersects(&Point::new(lon, lat)),
        }
    }
}

/// A window query: reports inside `area` during `time` (inclusive), optionally within an
/// altitude band (reports of unknown altitude never match a band) and of one side.
///
/// ```
/// use deconflict_engine::query::{Area, WindowQuery};
/// use deconflict_engine::geodesy::BBox;
/// use deconflict_engine::time::{TimeRange, Timestamp};
/// let q = WindowQuery {
///     area: Area::BBox(BBox::parse("-5,40,2,45").unwrap()),
///     time: TimeRange::new(Timestamp(0), Timestamp(60_000)).unwrap(),
///     alt: Some((0.0, 3000.0)),
///     side: None,
/// };
/// assert!(q.matches(-3.0, 41.0, Timestamp(1), Some(100.0), "blue"));
/// assert!(!q.matches(-3.0, 41.0, Timestamp(1), None, "blue"));
/// ```
#[derive(Debug, Clone)]
pub struct WindowQuery {
    /// Where.
    pub area: Area,
    /// When, inclusive.
    pub time: TimeRange,
    /// Altitude band in metres, inclusive.
    pub alt: Option<(f64, f64)>,
    /// Only reports of this side.
    pub side: Option<String>,
}

impl WindowQuery {
    /// Everything at any time.
    pub fn all() -> WindowQuery {
        WindowQuery {
            area: Area::All,
            time: TimeRange::ALL,
            alt: None,
            side: None,
        }
    }

    /// The exact test for one report.
    pub fn matches(
        &self,
        lon: f64,
        lat: f64,
        time: crate::time::Timestamp,
        alt: Option<f64>,
        side: &str,
    ) -> bool {
        self.time.contains(time)
            && self
                .alt
                .is_none_or(|(lo, hi)| alt.is_some_and(|a| lo <= a && a <= hi))
            && self.side.as_deref().is_none_or(|s| s == side)
            && self.area.contains(lon, lat)
    }

    /// The conservative box filter in stored units.
    pub(crate) fn filter(&self) -> BoxFilter {
        BoxFilter::new(
            &self.area.bbox(),
            (self.time.start.0, self.time.end.0),
            self.alt,
        )
    }
}

/// Smallest stored integer whose degrees (as [`deg_from_e7`] computes them) are `>= w`.
fn e7_at_least(w: f64) -> i32 {
    if w.is_nan() || w > 214.0 {
        return i32::MAX;
    }
    if w < -214.0 {
        return i32::MIN;
    }
    let mut x = floor_i64(w * 1e7) as i32 - 2;
    while deg_from_e7(x) < w {
        x += 1;
    }
    x
}

/// Largest stored integer whose degrees are `<= e`.
fn e7_at_most(e: f64) -> i32 {
    if e.is_nan() || e < -214.0 {
        return i32::MIN;
    }
    if e > 214.0 {
        return i32::MAX;
    }
    let mut x = ceil_i64(e * 1e7) as i32 + 2;
    while deg_from_e7(x) > e {
        x -= 1;
    }
    x
}

/// What remains to test once a row is inside the integer box.
#[derive(Debug, Clone, Copy)]
enum Exact<'q> {
    /// Nothing: the integer box test is the whole area test (all, box).
    Done,
    /// The geodesic distance (the integer box is exactly the circle's `bbox`), decided by the
    /// local frame's proven bounds where they can ([`NearCentre`]).
    Circle {
        lon: f64,
        lat: f64,
        radius_m: f64,
        near: Option<NearCentre>,
    },
    /// Point in polygon (the integer box is the polygon's bounding rectangle).
    Polygon(&'q MultiPolygon<f64>),
}

/// The altitudes in stored millimetres that [`WindowQuery::matches`] accepts for a band in
/// metres: `lo <= mm / 1000 <= hi` (in `f64`, as there), never the unknown altitude.
fn alt_mm_bounds((lo, hi): (f64, f64)) -> (i32, i32) {
    let metres = |mm: i32| f64::from(mm) / 1000.0;
    let clamp = |v: i64| v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
    if lo.is_nan() || hi.is_nan() {
        return (1, 0);
    }
    let mut a = clamp(floor_i64(lo * 1000.0)).saturating_sub(2);
    while a < i32::MAX && metres(a) < lo {
        a += 1;
    }
    let mut z = clamp(ceil_i64(hi * 1000.0)).saturating_add(2);
    while z > i32::MIN && metres(z) > hi {
        z -= 1;
    }
    // `a` may still fail `lo` at i32::MAX (then no altitude passes).
    if metres(a) < lo {
        return (1, 0);
    }
    (a.max(ALT_UNKNOWN + 1), z)
}

/// A window query prepared for testing stored rows: integer bounds computed once, so that most
/// rows are decided by integer comparisons on the column bytes, a run at a time.
#[derive(Debug, Clone, Copy)]
struct RowTest<'q> {
    /// Latitude bounds in stored units, exact for `area.bbox()`.
    lat: (i32, i32),
    /// Longitude ranges in stored units, exact for `area.bbox()` (rows lie within ±180°); the
    /// second is empty when the box does not cross the antimeridian.
    lon: [(i32, i32); 2],
    time: (i64, i64),
    /// Altitude bounds in stored millimetres (see [`alt_mm_bounds`]).
    alt: Option<(i32, i32)>,
    exact: Exact<'q>,
}

/// A query's lat, lon and time bounds in one leaf's quanta ([`Dim::inner`] of each): a run
/// whose quantised box lies within them lies within the query's bounds.
#[derive(Debug, Clone, Copy)]
struct LeafInner {
    lat: (i32, i32),
    /// One per longitude range of the query (the second never holds a box unless the query
    /// crosses the antimeridian).
    lon: [(i32, i32); 2],
    time: (i32, i32),
}

impl LeafInner {
    /// Bounds no quantised box lies within (every column is tested).
    const NONE: LeafInner = LeafInner {
        lat: (256, -1),
        lon: [(256, -1); 2],
        time: (256, -1),
    };
}

/// A column's values for the 16 lanes of a run, widened to a fixed-size array so that the
/// tests below compile to vector compares. `col` holds the run's rows and, when the segment has
/// them, the rows after it (never tested: their lanes are masked off); a shorter column is
/// padded with zeros.
#[inline]
fn lanes<const W: usize>(col: &[[u8; W]]) -> [[u8; W]; RUN_MAX_ROWS] {
    match col.first_chunk::<RUN_MAX_ROWS>() {
        Some(full) => *full,
        None => {
            let mut out = [[0; W]; RUN_MAX_ROWS];
            out[..col.len()].copy_from_slice(col);
            out
        }
    }
}

/// Bit `j` set when `keep(j)`, for the 16 lanes of a run.
#[inline(always)]
fn bits(keep: impl Fn(usize) -> bool) -> u32 {
    let mut m = 0;
    for j in 0..RUN_MAX_ROWS {
        m |= u32::from(keep(j)) << j;
    }
    m
}

/// Flags of [`RowTest::needs`]: the columns a run's rows must be tested on.
const NEED_LAT: u8 = 1;
const NEED_LON: u8 = 2;
const NEED_TIME: u8 = 4;

/// Lanes of `col` whose `i32` value lies in `[lo, hi]`.
#[inline]
fn i32_in(col: &[[u8; 4]], bounds: (i32, i32)) -> u32 {
    lanes_in(lanes(col).map(i32::from_le_bytes), bounds)
}

/// Lanes of `col` (a run's times, then possibly others: see [`lanes`]) whose time lies in
/// `[t0, t1]`. The times are taken relative to the run's first, in 32 bits: a run's rows span
/// at most [`RUN_MAX_SPAN_MS`](crate::segment::format::RUN_MAX_SPAN_MS) (checked when it is
/// first read), so the low 32 bits of a time less those of the first are its exact offset, with
/// room on either side for the clamped bounds.
#[inline]
fn time_in(col: &[[u8; 8]], (t0, t1): (i64, i64)) -> u32 {
    let base = col.first().map_or(0, |b| i64::from_le_bytes(*b));
    let rel = |t: i64| {
        t.saturating_sub(base)
            .clamp(i32::MIN.into(), i32::MAX.into()) as i32
    };
    let v =
        lanes(col).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]).wrapping_sub(base as i32));
    lanes_in(v, (rel(t0), rel(t1)))
}

/// Lanes whose value lies in `[lo, hi]`: four lanes per vector compare.
#[inline]
fn lanes_in(v: [i32; RUN_MAX_ROWS], (lo, hi): (i32, i32)) -> u32 {
    let (lo, hi) = (i32x4::splat(lo), i32x4::splat(hi));
    let mut m = 0;
    for (i, four) in v.as_chunks::<4>().0.iter().enumerate() {
        let x = i32x4::new(*four);
        let outside = x.cmp_lt(lo) | x.cmp_gt(hi);
        m |= ((!outside.move_mask() & 0xF) as u32) << (4 * i);
    }
    m
}

impl<'q> RowTest<'q> {
    fn new(query: &'q WindowQuery, filter: &BoxFilter) -> RowTest<'q> {
        let bbox = query.area.bbox();
        let mut lon = [(1, 0); 2];
        for (k, (w, e)) in bbox.lon_ranges().take(2).enumerate() {
            lon[k] = (e7_at_least(w), e7_at_most(e));
        }
        RowTest {
            lat: (e7_at_least(bbox.south), e7_at_most(bbox.north)),
            lon,
            time: filter.time,
            alt: query.alt.map(alt_mm_bounds),
            exact: match &query.area {
                Area::All | Area::BBox(_) => Exact::Done,
                Area::Circle { lon, lat, radius_m } => Exact::Circle {
                    lon: *lon,
                    lat: *lat,
                    radius_m: *radius_m,
                    near: NearCentre::new(*lon, *lat, *radius_m),
                },
                Area::Polygon(mp) => Exact::Polygon(mp),
            },
        }
    }

    /// The query's lat, lon and time bounds restated in the quanta of a leaf whose box has
    /// dimensions `dims`, for [`RowTest::needs`] on the leaf's runs.
    fn inner(&self, &[lon, lat, _, time]: &[Dim; 4]) -> LeafInner {
        let mut lons = [(256, -1); 2];
        for (inner, &(a, z)) in lons.iter_mut().zip(&self.lon) {
            if a <= z {
                // A box touching ±180° keeps the longitude test (a row at -180° may sit in
                // the box as +180°).
                *inner = lon.inner(a.max(-1_799_999_999).into(), z.min(1_799_999_999).into());
            }
        }
        LeafInner {
            lat: lat.inner(self.lat.0.into(), self.lat.1.into()),
            lon: lons,
            time: time.inner(self.time.0, self.time.1),
        }
    }

    /// Which of the lat, lon and time columns rows of a run must be tested on ([`NEED_LAT`],
    /// [`NEED_LON`], [`NEED_TIME`]), from its box `q` quantised in a leaf (`inner` the query
    /// in that leaf's quanta): not those whose query bounds contain the run's dequantised box
    /// (every row lies in its run's box, checked when the run is first read).
    #[inline]
    fn needs(inner: &LeafInner, q: &[u8; QBOX_LEN]) -> u8 {
        let within =
            |(ia, iz): (i32, i32), lo: u8, hi: u8| (ia <= i32::from(lo)) & (i32::from(hi) <= iz);
        let inside_lon = within(inner.lon[0], q[0], q[2]) | within(inner.lon[1], q[0], q[2]);
        let inside_lat = within(inner.lat, q[1], q[3]);
        let inside_time = within(inner.time, q[6], q[7]);
        (u8::from(!inside_lat) * NEED_LAT)
            | (u8::from(!inside_lon) * NEED_LON)
            | (u8::from(!inside_time) * NEED_TIME)
    }

    /// The rows of run `run` passing the integer tests, bit `j` for row `run.first_row + j`.
    #[inline]
    fn run_mask(&self, c: &Cols<'_>, run: &RunHit, inner: &LeafInner, side: Option<u16>) -> u32 {
        self.mask(c, run.first_row, run.rows, Self::needs(inner, &run.q), side)
    }

    /// The rows `first..first + n` (`n <= 16`) of columns `c` that pass the integer tests, one
    /// bit each (bit `j` for row `first + j`): side, altitude, and the lat, lon and time
    /// bounds `needs` keeps (the other columns are not even read). 16 lanes at a time; the
    /// longitude and time columns are not read once no row is left (at 100 M reports a third of
    /// the runs tested hold no match, and their lines are cache misses).
    #[inline]
    fn mask(&self, c: &Cols<'_>, first: usize, n: usize, needs: u8, side: Option<u16>) -> u32 {
        let mut m = (1u32 << n.min(RUN_MAX_ROWS)) - 1;
        if needs & NEED_LAT != 0 {
            m &= i32_in(&c.lat[first..], self.lat);
        }
        if needs & NEED_LON != 0 && m != 0 {
            let [(a0, z0), (a1, z1)] = self.lon;
            let lon = &c.lon[first..];
            let east = i32_in(lon, (a0, z0));
            // The second range is empty unless the box crosses the antimeridian.
            m &= if a1 <= z1 {
                east | i32_in(lon, (a1, z1))
            } else {
                east
            };
        }
        if needs & NEED_TIME != 0 && m != 0 {
            m &= time_in(&c.time[first..], self.time);
        }
        if let Some(alt) = self.alt {
            m &= i32_in(&c.alt[first..], alt);
        }
        if let Some(code) = side {
            let v = lanes(&c.side[first..]).map(u16::from_le_bytes);
            m &= bits(|j| v[j] == code);
        }
        m
    }

    /// The exact area test of row `j` of `c`, once it has passed [`RowTest::mask`].
    #[inline]
    fn exact(&self, c: &Cols<'_>, j: usize) -> bool {
        match self.exact {
            Exact::Done => true,
            Exact::Circle {
                lon: clon,
                lat: clat,
                radius_m,
                near,
            } => {
                let (lon, lat) = (i32::from_le_bytes(c.lon[j]), i32::from_le_bytes(c.lat[j]));
                let p = (deg_from_e7(lon), deg_from_e7(lat));
                near.and_then(|n| n.decide(p))
                    .unwrap_or_else(|| distance_m((clon, clat), p) <= radius_m)
            }
            Exact::Polygon(mp) => {
                let (lon, lat) = (i32::from_le_bytes(c.lon[j]), i32::from_le_bytes(c.lat[j]));
                mp.intersects(&Point::new(deg_from_e7(lon), deg_from_e7(lat)))
            }
        }
    }
}

/// Streams the reports matching a window query, segment after segment.
pub(crate) struct ReportIter<'s> {
    test: RowTest<'s>,
    query: &'s WindowQuery,
    segments: std::slice::Iter<'s, std::sync::Arc<Segment>>,
    filter: &'s BoxFilter,
    /// The search of the segment being read and the segment's code of the query's side.
    current: Option<(RunSearch<'s>, Option<u16>)>,
    /// The segment being read and its whole columns.
    seg: Option<&'s Segment>,
    cols: Cols<'s>,
    /// The leaf being read: its runs meeting the filter not yet read, and the query in its
    /// quanta.
    leaf: LeafHits,
    inner: LeafInner,
    /// The run being read: its first row and entity, and its rows passing the integer tests
    /// not yet returned (bit `j` for row `first_row + j`).
    first_row: usize,
    entity: u32,
    mask: u32,
    failed: bool,
}

impl<'s> ReportIter<'s> {
    pub(crate) fn new(
        query: &'s WindowQuery,
        filter: &'s BoxFilter,
        segments: &'s [std::sync::Arc<Segment>],
    ) -> Self {
        ReportIter {
            test: RowTest::new(query, filter),
            query,
            segments: segments.iter(),
            filter,
            current: None,
            seg: None,
            cols: Cols {
                time: &[],
                lon: &[],
                lat: &[],
                alt: &[],
                side: &[],
            },
            leaf: LeafHits {
                first: 0,
                hits: 0,
                frame: usize::MAX,
                verified: 0,
            },
            inner: LeafInner::NONE,
            first_row: 0,
            entity: 0,
            mask: 0,
            failed: false,
        }
    }
}

impl<'s> ReportIter<'s> {
    /// The next row of the current run passing every test.
    #[inline]
    fn next_in_run(&mut self) -> Option<usize> {
        while self.mask != 0 {
            let j = self.mask.trailing_zeros() as usize;
            self.mask &= self.mask - 1;
            if self.test.exact(&self.cols, self.first_row + j) {
                return Some(j);
            }
        }
        None
    }

    /// Row `j` of the current run as a result.
    #[inline]
    fn report(&self, j: usize) -> Option<ReportRef<'s>> {
        Some(ReportRef {
            seg: self.seg?,
            entity: self.entity,
            row: self.first_row + j,
        })
    }

    /// Moves to the next run to test — refilling the batch from the search, moving on to the
    /// next segment — or says there is none (`None`) or the search failed.
    fn next_run(&mut self) -> Option<Result<()>> {
        loop {
            let Some((search, side)) = &mut self.current else {
                let seg = self.segments.next()?;
                let Some(side) = side_code(self.query, seg) else {
                    continue;
                };
                self.current = Some((seg.search(self.filter), side));
                self.seg = Some(seg);
                // `inner` belongs to a frame of the previous segment.
                self.leaf.frame = usize::MAX;
                self.cols = seg.cols(0..seg.rows());
                continue;
            };
            if self.leaf.hits != 0 {
                let i = self.leaf.first + self.leaf.hits.trailing_zeros() as usize;
                self.leaf.hits &= self.leaf.hits - 1;
                match search.hit(i, &self.leaf) {
                    Ok(run) => {
                        self.first_row = run.first_row;
                        self.entity = run.entity;
                        // Rows past the run (up to 16 lanes) are masked off.
                        self.mask = self.test.run_mask(&self.cols, &run, &self.inner, *side);
                        return Some(Ok(()));
                    }
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(e));
                    }
                }
            }
            match search.next_leaf() {
                None => self.current = None,
                Some(Err(e)) => {
                    self.failed = true;
                    return Some(Err(e));
                }
                Some(Ok(leaf)) => {
                    // The leaves of a frame come one after another and share its quanta.
                    if leaf.frame != self.leaf.frame {
                        self.inner = self.test.inner(search.frame_dims());
                    }
                    self.leaf = leaf;
                }
            }
        }
    }
}

/// The code `seg` gives the query's side (`Some(None)` when the query names none), or `None`
/// when the segment has no report of that side.
fn side_code(query: &WindowQuery, seg: &Segment) -> Option<Option<u16>> {
    match &query.side {
        None => Some(None),
        Some(name) => seg.find_side(name).map(Some),
    }
}

/// Calls `f` on every report of `segments` matching `query` (`filter` its plan) and counts
/// them: what [`ReportIter`] streams, in the same order, read leaf by leaf without handing each
/// run and match back through an iterator.
pub(crate) fn for_each_match<'s>(
    query: &'s WindowQuery,
    filter: &'s BoxFilter,
    segments: &'s [std::sync::Arc<Segment>],
    mut f: impl FnMut(ReportRef<'s>),
) -> Result<u64> {
    let test = RowTest::new(query, filter);
    let mut n = 0u64;
    for seg in segments {
        let Some(side) = side_code(query, seg) else {
            continue;
        };
        let seg: &'s Segment = seg;
        let cols = seg.cols(0..seg.rows());
        let mut search = seg.search(filter);
        // No leaf's frame: set at the first leaf.
        let (mut frame, mut inner) = (usize::MAX, LeafInner::NONE);
        while let Some(leaf) = search.next_leaf() {
            let leaf = leaf?;
            // The leaves of a frame come one after another and share its quanta.
            if leaf.frame != frame {
                (frame, inner) = (leaf.frame, test.inner(search.frame_dims()));
            }
            let mut hits = leaf.hits;
            while hits != 0 {
                let i = leaf.first + hits.trailing_zeros() as usize;
                hits &= hits - 1;
                let run = search.hit(i, &leaf)?;
                let first = run.first_row;
                let mut mask = test.run_mask(&cols, &run, &inner, side);
                while mask != 0 {
                    let j = mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    if test.exact(&cols, first + j) {
                        f(ReportRef {
                            seg,
                            entity: run.entity,
                            row: first + j,
                        });
                        n += 1;
                    }
                }
            }
        }
    }
    Ok(n)
}

impl<'s> Iterator for ReportIter<'s> {
    type Item = Result<ReportRef<'s>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            if let Some(j) = self.next_in_run() {
                return self.report(j).map(Ok);
            }
            match self.next_run()? {
                Ok(()) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
