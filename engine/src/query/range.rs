//! Window queries: which reports lie inside an area, a time range, an altitude band, for a side.

use geo::{Intersects, MultiPolygon, Point};

use super::report::ReportRef;
use crate::error::{Error, Result};
use crate::geodesy::{BBox, circle_bbox, distance_m};
use crate::model::{ALT_UNKNOWN, deg_from_e7};
use crate::segment::format::Bounds;
use crate::segment::reader::{Cols, RunSearch};
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
    let mut x = (w * 1e7).floor() as i32 - 2;
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
    let mut x = (e * 1e7).ceil() as i32 + 2;
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
    /// The geodesic distance (the integer box is exactly the circle's `bbox`).
    Circle { lon: f64, lat: f64, radius_m: f64 },
    /// Point in polygon (the integer box is the polygon's bounding rectangle).
    Polygon(&'q MultiPolygon<f64>),
}

/// A window query prepared for testing stored rows: integer bounds computed once, so that most
/// rows are decided by integer comparisons on the column bytes.
#[derive(Debug, Clone, Copy)]
struct RowTest<'q> {
    /// Latitude bounds in stored units, exact for `area.bbox()`.
    lat: (i32, i32),
    /// Longitude ranges in stored units, exact for `area.bbox()` (rows lie within ±180°).
    lon: [(i32, i32); 2],
    lon_len: usize,
    time: (i64, i64),
    alt: Option<(f64, f64)>,
    exact: Exact<'q>,
}

impl<'q> RowTest<'q> {
    fn new(query: &'q WindowQuery, filter: &BoxFilter) -> RowTest<'q> {
        let bbox = query.area.bbox();
        let mut lon = [(0, -1); 2];
        let mut lon_len = 0;
        for (w, e) in bbox.lon_ranges().take(2) {
            lon[lon_len] = (e7_at_least(w), e7_at_most(e));
            lon_len += 1;
        }
        RowTest {
            lat: (e7_at_least(bbox.south), e7_at_most(bbox.north)),
            lon,
            lon_len,
            time: filter.time,
            alt: query.alt,
            exact: match &query.area {
                Area::All | Area::BBox(_) => Exact::Done,
                Area::Circle { lon, lat, radius_m } => Exact::Circle {
                    lon: *lon,
                    lat: *lat,
                    radius_m: *radius_m,
                },
                Area::Polygon(mp) => Exact::Polygon(mp),
            },
        }
    }

    /// Which of the lat, lon and time tests rows of a run with box `b` still need: none when
    /// the box lies inside the bound (every row lies in its run's box, checked when the run is
    /// first read), so those columns are not even read. A box touching ±180° keeps the
    /// longitude test (a row at -180° may sit in the box as +180°).
    fn needs(&self, b: &Bounds) -> Needs {
        let inside_lon = b.lon_min > -1_800_000_000
            && b.lon_max < 1_800_000_000
            && self.lon[..self.lon_len.min(2)]
                .iter()
                .any(|&(a, z)| a <= b.lon_min && b.lon_max <= z);
        Needs {
            lat: !(self.lat.0 <= b.lat_min && b.lat_max <= self.lat.1),
            lon: !inside_lon,
            time: !(self.time.0 <= b.t_min && b.t_max <= self.time.1),
        }
    }

    /// The exact test of row `j` of `c` (a run's columns) against the query; `side` is the
    /// segment's code of the query's side, if any; `need` from [`RowTest::needs`].
    #[inline]
    fn matches(&self, c: &Cols<'_>, side: Option<u16>, need: Needs, j: usize) -> bool {
        if need.lat {
            let lat = i32::from_le_bytes(c.lat[j]);
            if lat < self.lat.0 || lat > self.lat.1 {
                return false;
            }
        }
        if need.lon {
            let lon = i32::from_le_bytes(c.lon[j]);
            if !self.lon[..self.lon_len.min(2)]
                .iter()
                .any(|&(a, z)| a <= lon && lon <= z)
            {
                return false;
            }
        }
        if need.time {
            let t = i64::from_le_bytes(c.time[j]);
            if t < self.time.0 || t > self.time.1 {
                return false;
            }
        }
        if let Some(code) = side
            && u16::from_le_bytes(c.side[j]) != code
        {
            return false;
        }
        if let Some((lo, hi)) = self.alt {
            let mm = i32::from_le_bytes(c.alt[j]);
            if mm == ALT_UNKNOWN {
                return false;
            }
            let a = f64::from(mm) / 1000.0;
            if a < lo || a > hi {
                return false;
            }
        }
        match self.exact {
            Exact::Done => true,
            Exact::Circle {
                lon: clon,
                lat: clat,
                radius_m,
            } => {
                let (lon, lat) = (i32::from_le_bytes(c.lon[j]), i32::from_le_bytes(c.lat[j]));
                distance_m((clon, clat), (deg_from_e7(lon), deg_from_e7(lat))) <= radius_m
            }
            Exact::Polygon(mp) => {
                let (lon, lat) = (i32::from_le_bytes(c.lon[j]), i32::from_le_bytes(c.lat[j]));
                mp.intersects(&Point::new(deg_from_e7(lon), deg_from_e7(lat)))
            }
        }
    }
}

/// Which per-row tests a run still needs.
#[derive(Debug, Clone, Copy)]
struct Needs {
    lat: bool,
    lon: bool,
    time: bool,
}

/// Streams the reports matching a window query, segment after segment.
pub(crate) struct ReportIter<'s> {
    test: RowTest<'s>,
    query: &'s WindowQuery,
    segments: std::slice::Iter<'s, std::sync::Arc<Segment>>,
    filter: &'s BoxFilter,
    current: Option<(&'s Segment, RunSearch<'s>, Option<u16>)>,
    cols: Cols<'s>,
    need: Needs,
    first_row: usize,
    next: usize,
    entity: u32,
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
            cols: Cols {
                time: &[],
                lon: &[],
                lat: &[],
                alt: &[],
                side: &[],
            },
            need: Needs {
                lat: true,
                lon: true,
                time: true,
            },
            first_row: 0,
            next: 0,
            entity: 0,
            failed: false,
        }
    }
}

impl<'s> Iterator for ReportIter<'s> {
    type Item = Result<ReportRef<'s>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            if let Some((seg, search, side)) = &mut self.current {
                let (seg, side) = (*seg, *side);
                let n = self.cols.lat.len();
                while self.next < n {
                    let j = self.next;
                    self.next += 1;
                    if self.test.matches(&self.cols, side, self.need, j) {
                        return Some(Ok(ReportRef {
                            seg,
                            entity: self.entity,
                            row: self.first_row + j,
                        }));
                    }
                }
                match search.next() {
                    Some(Ok(run)) => {
                        let rows = run.first_row as usize..(run.first_row + run.rows) as usize;
                        self.first_row = rows.start;
                        self.cols = seg.cols(rows);
                        self.need = self.test.needs(&run.bounds);
                        self.next = 0;
                        self.entity = run.entity;
                        continue;
                    }
                    Some(Err(e)) => {
                        self.failed = true;
                        return Some(Err(e));
                    }
                    None => self.current = None,
                }
            }
            let seg = self.segments.next()?;
            let side = match &self.query.side {
                None => None,
                Some(name) => match seg.find_side(name) {
                    Some(code) => Some(code),
                    None => continue,
                },
            };
            self.current = Some((seg, seg.search(self.filter), side));
        }
    }
}
