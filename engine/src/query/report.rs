//! A reference to one stored report, read in place from its segment.

use std::fmt::{self, Write};

use crate::model::{Report, alt_from_mm, deg_from_e7, write_e7};
use crate::segment::Segment;
use crate::time::Timestamp;

/// One report inside a mapped segment; reading it copies nothing until asked.
#[derive(Clone, Copy)]
pub struct ReportRef<'s> {
    pub(crate) seg: &'s Segment,
    pub(crate) entity: u32,
    pub(crate) row: usize,
}

impl fmt::Debug for ReportRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportRef")
            .field("id", &self.id())
            .field("time", &self.time())
            .field("lon", &self.lon())
            .field("lat", &self.lat())
            .finish()
    }
}

impl<'s> ReportRef<'s> {
    /// Entity id.
    pub fn id(&self) -> &'s str {
        self.seg.entity_name(self.entity)
    }
    /// Reporting side.
    pub fn side(&self) -> &'s str {
        self.seg.side_name(self.seg.side(self.row))
    }
    /// Report time.
    pub fn time(&self) -> Timestamp {
        Timestamp(self.seg.time(self.row))
    }
    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        deg_from_e7(self.seg.lon(self.row))
    }
    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        deg_from_e7(self.seg.lat(self.row))
    }
    /// Altitude in metres, `None` when unknown.
    pub fn alt(&self) -> Option<f64> {
        alt_from_mm(self.seg.alt(self.row))
    }
    /// Longitude in stored units (1e-7 degree).
    pub fn lon_e7(&self) -> i32 {
        self.seg.lon(self.row)
    }
    /// Latitude in stored units (1e-7 degree).
    pub fn lat_e7(&self) -> i32 {
        self.seg.lat(self.row)
    }
    /// Altitude in stored units (millimetres, `i32::MIN` when unknown).
    pub fn alt_mm(&self) -> i32 {
        self.seg.alt(self.row)
    }

    /// An owned copy.
    pub fn to_report(&self) -> Report {
        Report {
            id: self.id().to_owned(),
            side: self.side().to_owned(),
            time: self.time(),
            lon: self.lon(),
            lat: self.lat(),
            alt: self.alt(),
        }
    }

    /// Writes the contract's NDJSON object `{"id","side","time","lon","lat","alt"}` (no newline).
    pub fn write_json(&self, out: &mut impl Write) -> fmt::Result {
        out.write_str("{\"id\":")?;
        write_json_str(out, self.id())?;
        out.write_str(",\"side\":")?;
        write_json_str(out, self.side())?;
        out.write_str(",\"time\":\"")?;
        self.time().write_rfc3339(out)?;
        out.write_str("\",\"lon\":")?;
        write_e7(out, self.lon_e7(), 7)?;
        out.write_str(",\"lat\":")?;
        write_e7(out, self.lat_e7(), 7)?;
        out.write_str(",\"alt\":")?;
        match self.alt_mm() {
            crate::model::ALT_UNKNOWN => out.write_str("null")?,
            mm => write_e7(out, mm, 3)?,
        }
        out.write_char('}')
    }
}

/// Writes `s` as a JSON string literal.
pub fn write_json_str(out: &mut impl Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32)?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}
