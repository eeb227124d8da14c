//! Window queries: which reports lie inside an area, a time range, an altitude band, for a side.

use geo::{Intersects, MultiPolygon, Point};

use super::report::ReportRef;
use crate::error::{Error, Result};
use crate::geodesy::{BBox, circle_bbox, distance_m};
use crate::model::{ALT_UNKNOWN, deg_from_e7};
use crate::segment::{BoxFilter, Segment, reader::RunSearch};
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

/// Streams the reports matching a window query, segment after segment.
pub(crate) struct ReportIter<'s> {
    query: &'s WindowQuery,
    segments: std::slice::Iter<'s, std::sync::Arc<Segment>>,
    filter: &'s BoxFilter,
    current: Option<(&'s Segment, RunSearch<'s>, Option<u16>)>,
    rows: std::ops::Range<usize>,
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
            query,
            segments: segments.iter(),
            filter,
            current: None,
            rows: 0..0,
            entity: 0,
            failed: false,
        }
    }
}

/// The exact test of one stored row against a query (and its filter, for the time bounds).
fn row_matches(
    query: &WindowQuery,
    filter: &BoxFilter,
    seg: &Segment,
    side: Option<u16>,
    row: usize,
) -> bool {
    {
        let t = seg.time(row);
        if t < filter.time.0 || t > filter.time.1 {
            return false;
        }
        if let Some(code) = side
            && seg.side(row) != code
        {
            return false;
        }
        if let Some((lo, hi)) = query.alt {
            let mm = seg.alt(row);
            if mm == ALT_UNKNOWN {
                return false;
            }
            let a = f64::from(mm) / 1000.0;
            if a < lo || a > hi {
                return false;
            }
        }
        query
            .area
            .contains(deg_from_e7(seg.lon(row)), deg_from_e7(seg.lat(row)))
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
                for row in self.rows.by_ref() {
                    if row_matches(self.query, self.filter, seg, side, row) {
                        return Some(Ok(ReportRef {
                            seg,
                            entity: self.entity,
                            row,
                        }));
                    }
                }
                match search.next() {
                    Some(Ok(run)) => {
                        self.rows = run.first_row as usize..(run.first_row + run.rows) as usize;
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
