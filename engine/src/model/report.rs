//! A track report and the fixed-point forms it is stored in.
//!
//! Coordinates are stored as integers of 1e-7 degree (≈ 1.1 cm on the ground) and altitudes as
//! integer millimetres; output prints the stored value exactly, with no floating-point noise.

use std::fmt;

use crate::time::Timestamp;

/// Longest entity id accepted, in bytes.
pub const MAX_ID_BYTES: usize = 64;
/// Lowest accepted altitude, metres.
pub const ALT_MIN_M: f64 = -1000.0;
/// Highest accepted altitude, metres.
pub const ALT_MAX_M: f64 = 100_000.0;
/// Stored altitude meaning "unknown".
pub const ALT_UNKNOWN: i32 = i32::MIN;

/// One time-stamped position of one entity.
///
/// ```
/// use deconflict_engine::model::Report;
/// use deconflict_engine::time::Timestamp;
/// let r = Report::new("BLUE-101", "blue", Timestamp(0), 36.61, 35.93, Some(3000.0)).unwrap();
/// assert_eq!(r.lon, 36.61);
/// assert!(Report::new("x", "blue", Timestamp(0), 181.0, 0.0, None).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// Entity identifier, 1..=64 bytes.
    pub id: String,
    /// Participant that reported it.
    pub side: String,
    /// Time of the report.
    pub time: Timestamp,
    /// Longitude, degrees in [-180, 180].
    pub lon: f64,
    /// Latitude, degrees in [-90, 90].
    pub lat: f64,
    /// Altitude above mean sea level in metres, `None` when unknown.
    pub alt: Option<f64>,
}

/// Why a report is not acceptable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidReport {
    /// Empty id.
    #[error("empty id")]
    EmptyId,
    /// Id longer than [`MAX_ID_BYTES`].
    #[error("id is {0} bytes, longer than 64")]
    IdTooLong(usize),
    /// More distinct sides in one batch than a segment can number (65 535).
    #[error("more than 65535 distinct sides in one batch")]
    TooManySides,
    /// A coordinate that is NaN or infinite.
    #[error("{0} is not a finite number")]
    NotFinite(&'static str),
    /// A coordinate outside its range.
    #[error("{field} {value} out of range [{min}, {max}]")]
    OutOfRange {
        /// `lon`, `lat` or `alt`.
        field: &'static str,
        /// The value given.
        value: String,
        /// Lowest allowed.
        min: f64,
        /// Highest allowed.
        max: f64,
    },
}

impl Report {
    /// A validated report.
    pub fn new(
        id: impl Into<String>,
        side: impl Into<String>,
        time: Timestamp,
        lon: f64,
        lat: f64,
        alt: Option<f64>,
    ) -> Result<Report, InvalidReport> {
        let r = Report {
            id: id.into(),
            side: side.into(),
            time,
            lon,
            lat,
            alt,
        };
        r.validate()?;
        Ok(r)
    }

    /// Checks every rule of the contract: id length, finite and in-range coordinates.
    pub fn validate(&self) -> Result<(), InvalidReport> {
        validate_id(&self.id)?;
        check_range("lon", self.lon, -180.0, 180.0)?;
        check_range("lat", self.lat, -90.0, 90.0)?;
        if let Some(alt) = self.alt {
            check_range("alt", alt, ALT_MIN_M, ALT_MAX_M)?;
        }
        Ok(())
    }
}

/// Checks an entity id: non-empty, at most [`MAX_ID_BYTES`] bytes.
pub(crate) fn validate_id(id: &str) -> Result<(), InvalidReport> {
    if id.is_empty() {
        Err(InvalidReport::EmptyId)
    } else if id.len() > MAX_ID_BYTES {
        Err(InvalidReport::IdTooLong(id.len()))
    } else {
        Ok(())
    }
}

fn check_range(field: &'static str, v: f64, min: f64, max: f64) -> Result<(), InvalidReport> {
    if !v.is_finite() {
        return Err(InvalidReport::NotFinite(field));
    }
    if v < min || v > max {
        return Err(InvalidReport::OutOfRange {
            field,
            value: v.to_string(),
            min,
            max,
        });
    }
    Ok(())
}

/// Degrees to the stored 1e-7 degree integer (rounded to nearest). Input must be finite and
/// within ±214 degrees.
pub fn deg_to_e7(deg: f64) -> i32 {
    (deg * 1e7).round() as i32
}

/// The stored 1e-7 degree integer back to degrees.
pub fn deg_from_e7(e7: i32) -> f64 {
    f64::from(e7) / 1e7
}

/// Altitude to stored millimetres; `None` becomes [`ALT_UNKNOWN`].
pub fn alt_to_mm(alt: Option<f64>) -> i32 {
    alt.map_or(ALT_UNKNOWN, |a| (a * 1000.0).round() as i32)
}

/// Stored millimetres back to metres.
pub fn alt_from_mm(mm: i32) -> Option<f64> {
    (mm != ALT_UNKNOWN).then(|| f64::from(mm) / 1000.0)
}

/// Writes a fixed-point integer with `scale` decimal digits exactly (no float noise), with
/// trailing zeros trimmed: `write_e7(366100000, 7)` → `36.61`.
pub fn write_e7(out: &mut impl fmt::Write, v: i32, scale: u32) -> fmt::Result {
    let p = 10u64.pow(scale);
    let a = i64::from(v).unsigned_abs();
    if v < 0 {
        out.write_char('-')?;
    }
    write!(out, "{}", a / p)?;
    let mut frac = a % p;
    if frac != 0 {
        let mut digits = scale as usize;
        while frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
        write!(out, ".{frac:0digits$}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e7s(v: i32, scale: u32) -> String {
        let mut s = String::new();
        write_e7(&mut s, v, scale).unwrap();
        s
    }

    #[test]
    fn fixed_point_prints_exactly() {
        assert_eq!(e7s(deg_to_e7(36.61), 7), "36.61");
        assert_eq!(e7s(deg_to_e7(-0.5), 7), "-0.5");
        assert_eq!(e7s(deg_to_e7(-180.0), 7), "-180");
        assert_eq!(e7s(1, 7), "0.0000001");
        assert_eq!(e7s(alt_to_mm(Some(1234.56)), 3), "1234.56");
        assert_eq!(e7s(i32::MIN + 1, 3), "-2147483.647");
    }

    #[test]
    fn quantisation_error_is_bounded() {
        for i in 0..100_000 {
            let d = -180.0 + f64::from(i) * 0.003_600_037;
            assert!((deg_from_e7(deg_to_e7(d)) - d).abs() <= 0.5e-7 + 1e-12);
        }
    }

    #[test]
    fn validation_reasons() {
        let ok = |lon, lat, alt| Report::new("a", "s", Timestamp(0), lon, lat, alt);
        assert!(ok(180.0, 90.0, Some(100_000.0)).is_ok());
        assert!(ok(-180.0, -90.0, Some(-1000.0)).is_ok());
        assert!(matches!(
            ok(f64::NAN, 0.0, None),
            Err(InvalidReport::NotFinite("lon"))
        ));
        assert!(matches!(
            ok(0.0, 90.000_000_1, None),
            Err(InvalidReport::OutOfRange { field: "lat", .. })
        ));
        assert!(matches!(
            ok(-180.000_000_1, 0.0, None),
            Err(InvalidReport::OutOfRange { field: "lon", .. })
        ));
        assert!(matches!(
            ok(0.0, 0.0, Some(f64::INFINITY)),
            Err(InvalidReport::NotFinite("alt"))
        ));
        assert_eq!(
            validate_id(&"x".repeat(65)),
            Err(InvalidReport::IdTooLong(65))
        );
        assert_eq!(validate_id(""), Err(InvalidReport::EmptyId));
    }
}
