//! Separation minima and the other tunable limits of deconfliction, with the contract's
//! defaults.

use crate::model::zone::{InvalidObject, check_value};

/// Separation minima and limits. [`Minima::default`] gives the contract's defaults.
///
/// ```
/// use deconflict_engine::model::Minima;
/// let m = Minima::default();
/// assert_eq!((m.horizontal_m, m.vertical_m), (9260.0, 300.0));
/// assert_eq!((m.time_buffer_ms, m.lead_time_ms, m.max_gap_ms), (300_000, 86_400_000, 60_000));
/// assert!(m.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Minima {
    /// Horizontal separation, metres (default 9260 = 5 NM).
    pub horizontal_m: f64,
    /// Vertical separation, metres (default 300).
    pub vertical_m: f64,
    /// Widening of each volume's window, milliseconds (default 5 min).
    pub time_buffer_ms: i64,
    /// Least time between `filed_at` and `window.start`, milliseconds (default 24 h).
    pub lead_time_ms: i64,
    /// Longest gap between reports that is interpolated across, milliseconds (default 60 s).
    pub max_gap_ms: i64,
}

impl Default for Minima {
    fn default() -> Self {
        Minima {
            horizontal_m: 9260.0,
            vertical_m: 300.0,
            time_buffer_ms: 5 * 60 * 1000,
            lead_time_ms: 24 * 3600 * 1000,
            max_gap_ms: 60 * 1000,
        }
    }
}

impl Minima {
    /// Distances finite and within [0, 20 000 km]; durations non-negative.
    ///
    /// # Errors
    /// [`InvalidObject::NotFinite`] or [`InvalidObject::OutOfRange`] naming the field.
    pub fn validate(&self) -> Result<(), InvalidObject> {
        check_value("horizontal_m", self.horizontal_m, 0.0, 20_000_000.0)?;
        check_value("vertical_m", self.vertical_m, 0.0, 200_000.0)?;
        for (field, ms) in [
            ("time_buffer_ms", self.time_buffer_ms),
            ("lead_time_ms", self.lead_time_ms),
            ("max_gap_ms", self.max_gap_ms),
        ] {
            if ms < 0 {
                #[expect(clippy::cast_precision_loss, reason = "only printed in the message")]
                let value = ms as f64;
                return Err(InvalidObject::OutOfRange {
                    field: field.to_owned(),
                    value,
                    min: 0.0,
                    max: f64::INFINITY,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_values_are_refused() {
        let m = Minima {
            max_gap_ms: -1,
            ..Minima::default()
        };
        assert_eq!(
            m.validate().unwrap_err().to_string(),
            "max_gap_ms -1 out of range [0, inf]"
        );
        let m = Minima {
            vertical_m: f64::NAN,
            ..Minima::default()
        };
        assert_eq!(
            m.validate().unwrap_err().to_string(),
            "vertical_m is not a finite number"
        );
    }
}
