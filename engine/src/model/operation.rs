//! Operations: a planned mission occupying 4D volumes (footprint × altitude band × time).
//!
//! Invariants of a validated [`Operation`] (see [`Operation::validate`]), choosing what the
//! contract leaves open:
//! - `id` and `side` are 1..=64 bytes; `method` and `composition` are free text (may be empty);
//! - `target` lies within [-180, 180] × [-90, 90]; `0 <= target.radius_m <= 10 000 km`;
//! - `window.start <= window.end` (a zero-length window is an instant);
//! - `altitude_m = (min, max)`: finite, within [−1 000, 100 000] m, `min <= max`;
//! - `0 <= corridor_m <= 10 000 km` (0 = the route line itself);
//! - `route` has **at least one** waypoint; one waypoint is a point footprint (buffered by
//!   `corridor_m`). Waypoints are either **all timed or all untimed** (mixed is refused); timed
//!   waypoints **strictly increase** in time and **lie within `window`**, bounds included;
//! - `own_tracks` entries are 1..=64 bytes and distinct.
//!
//! `filed_at` is not constrained here: a late filing is a `lead_time` conflict, not an invalid
//! operation.

use crate::model::report::{ALT_MAX_M, ALT_MIN_M};
use crate::model::zone::{
    InvalidObject, MAX_RADIUS_M, check_band, check_id, check_position, check_range, check_value,
};
use crate::time::{TimeRange, Timestamp};

/// One point of a route, with the time the operation passes it when planned.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Waypoint {
    /// Longitude, degrees in [-180, 180].
    pub lon: f64,
    /// Latitude, degrees in [-90, 90].
    pub lat: f64,
    /// Planned time at this point; `None` for an untimed route.
    pub time: Option<Timestamp>,
}

/// What the operation strikes: a circle around a point.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Target {
    /// Longitude, degrees in [-180, 180].
    pub lon: f64,
    /// Latitude, degrees in [-90, 90].
    pub lat: f64,
    /// Radius in metres; 0 (the default in input files) for a point target.
    pub radius_m: f64,
}

/// A planned operation, as filed by one side.
///
/// ```
/// use deconflict_engine::model::{Operation, Target, Waypoint};
/// use deconflict_engine::time::{TimeRange, Timestamp};
/// let t = |s: &str| Timestamp::parse(s).unwrap();
/// let mut op = Operation {
///     id: "op-7".into(),
///     side: "blue".into(),
///     filed_at: t("2016-07-20T10:00:00Z"),
///     method: "air strike".into(),
///     composition: "2 strike aircraft".into(),
///     target: Target { lon: 36.61, lat: 35.93, radius_m: 500.0 },
///     window: TimeRange::new(t("2016-07-21T22:00:00Z"), t("2016-07-21T23:30:00Z")).unwrap(),
///     altitude_m: (3000.0, 9000.0),
///     corridor_m: 5000.0,
///     route: vec![
///         Waypoint { lon: 35.95, lat: 35.52, time: Some(t("2016-07-21T22:00:00Z")) },
///         Waypoint { lon: 36.61, lat: 35.93, time: Some(t("2016-07-21T22:40:00Z")) },
///     ],
///     own_tracks: vec!["BLUE-101".into()],
/// };
/// assert!(op.validate().is_ok());
/// op.route[1].time = None;
/// assert!(op.validate().unwrap_err().to_string().contains("mixes timed and untimed"));
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Operation {
    /// Identifier, unique in the index, 1..=64 bytes.
    pub id: String,
    /// Participant that filed it, 1..=64 bytes.
    pub side: String,
    /// When it was filed.
    pub filed_at: Timestamp,
    /// How (free text, e.g. `air strike`).
    pub method: String,
    /// With what (free text).
    pub composition: String,
    /// What it strikes.
    pub target: Target,
    /// When it takes place, bounds inclusive.
    pub window: TimeRange,
    /// Altitude band `(min, max)`, metres AMSL.
    pub altitude_m: (f64, f64),
    /// Half-width of the corridor around the route, metres.
    pub corridor_m: f64,
    /// The route, at least one waypoint.
    pub route: Vec<Waypoint>,
    /// Entity ids of the operation's own forces: they never conflict with it.
    pub own_tracks: Vec<String>,
}

impl Operation {
    /// Checks every invariant listed in the [module docs](self); the first violation found is
    /// returned.
    ///
    /// # Errors
    /// The first [`InvalidObject`] reason found.
    pub fn validate(&self) -> Result<(), InvalidObject> {
        check_id("id", &self.id)?;
        check_id("side", &self.side)?;
        check_position("target", (self.target.lon, self.target.lat))?;
        check_value("target.radius_m", self.target.radius_m, 0.0, MAX_RADIUS_M)?;
        check_range("window", self.window.start, self.window.end)?;
        let (min, max) = self.altitude_m;
        check_value("altitude_m min", min, ALT_MIN_M, ALT_MAX_M)?;
        check_value("altitude_m max", max, ALT_MIN_M, ALT_MAX_M)?;
        check_band("altitude_m", min, max)?;
        check_value("corridor_m", self.corridor_m, 0.0, MAX_RADIUS_M)?;
        self.validate_route()?;
        for (i, t) in self.own_tracks.iter().enumerate() {
            check_id(&format!("own_tracks[{i}]"), t)?;
            if self.own_tracks[..i].contains(t) {
                return Err(InvalidObject::DuplicateOwnTrack(t.clone()));
            }
        }
        Ok(())
    }

    /// True when the route's waypoints carry times (all of them, once validated).
    pub fn is_timed(&self) -> bool {
        self.route.first().is_some_and(|w| w.time.is_some())
    }

    fn validate_route(&self) -> Result<(), InvalidObject> {
        if self.route.is_empty() {
            return Err(InvalidObject::EmptyRoute);
        }
        for (i, w) in self.route.iter().enumerate() {
            check_position(&format!("route[{i}]"), (w.lon, w.lat))?;
        }
        let timed = self.route.iter().position(|w| w.time.is_some());
        let untimed = self.route.iter().position(|w| w.time.is_none());
        if let (Some(timed), Some(untimed)) = (timed, untimed) {
            return Err(InvalidObject::MixedRouteTimes { timed, untimed });
        }
        let mut previous: Option<Timestamp> = None;
        for (index, time) in self.route.iter().filter_map(|w| w.time).enumerate() {
            if let Some(previous) = previous.filter(|p| time <= *p) {
                return Err(InvalidObject::RouteTimesNotIncreasing {
                    index,
                    time,
                    previous,
                });
            }
            if !self.window.contains(time) {
                return Err(InvalidObject::RouteTimeOutsideWindow {
                    index,
                    time,
                    window: self.window,
                });
            }
            previous = Some(time);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn op() -> Operation {
        let wp = |lon, lat, time: &str| Waypoint {
            lon,
            lat,
            time: Some(t(time)),
        };
        Operation {
            id: "op-7".into(),
            side: "blue".into(),
            filed_at: t("2016-07-20T10:00:00Z"),
            method: "air strike".into(),
            composition: "2 strike aircraft, 1 tanker".into(),
            target: Target {
                lon: 36.61,
                lat: 35.93,
                radius_m: 500.0,
            },
            window: TimeRange::new(t("2016-07-21T22:00:00Z"), t("2016-07-21T23:30:00Z")).unwrap(),
            altitude_m: (3000.0, 9000.0),
            corridor_m: 5000.0,
            route: vec![
                wp(35.95, 35.52, "2016-07-21T22:00:00Z"),
                wp(36.61, 35.93, "2016-07-21T22:40:00Z"),
                wp(35.95, 35.52, "2016-07-21T23:30:00Z"),
            ],
            own_tracks: vec!["BLUE-101".into(), "BLUE-102".into()],
        }
    }

    fn reason(f: impl FnOnce(&mut Operation)) -> String {
        let mut o = op();
        f(&mut o);
        o.validate().unwrap_err().to_string()
    }

    #[test]
    fn valid_variants() {
        assert_eq!(op().validate(), Ok(()));
        assert!(op().is_timed());
        let mut o = op();
        o.route.iter_mut().for_each(|w| w.time = None);
        o.route.truncate(1);
        o.corridor_m = 0.0;
        o.target.radius_m = 0.0;
        o.own_tracks.clear();
        o.method.clear();
        o.window.end = o.window.start;
        o.altitude_m = (100.0, 100.0);
        assert_eq!(o.validate(), Ok(()));
        assert!(!o.is_timed());
    }

    #[test]
    fn reasons() {
        assert_eq!(reason(|o| o.id.clear()), "id is empty");
        assert_eq!(
            reason(|o| o.side = "s".repeat(65)),
            "side is 65 bytes, longer than 64"
        );
        assert_eq!(
            reason(|o| o.target.lat = 91.0),
            "target lat 91 out of range [-90, 90]"
        );
        assert_eq!(
            reason(|o| o.target.radius_m = -1.0),
            "target.radius_m -1 out of range [0, 10000000]"
        );
        assert_eq!(
            reason(|o| o.window.end = t("2016-07-21T21:00:00Z")),
            "window ends (2016-07-21T21:00:00.000Z) before it starts (2016-07-21T22:00:00.000Z)"
        );
        assert_eq!(
            reason(|o| o.altitude_m = (9000.0, 3000.0)),
            "altitude_m: min 9000 is above max 3000"
        );
        assert_eq!(
            reason(|o| o.altitude_m.1 = 100_001.0),
            "altitude_m max 100001 out of range [-1000, 100000]"
        );
        assert_eq!(
            reason(|o| o.corridor_m = f64::INFINITY),
            "corridor_m is not a finite number"
        );
        assert_eq!(
            reason(|o| o.route.clear()),
            "route is empty: at least one waypoint is needed"
        );
        assert_eq!(
            reason(|o| o.route[1].lon = -180.5),
            "route[1] lon -180.5 out of range [-180, 180]"
        );
        assert_eq!(
            reason(|o| o.route[2].time = None),
            "route mixes timed and untimed waypoints: route[0] has a time, route[2] has none"
        );
        assert_eq!(
            reason(|o| o.route[2].time = o.route[1].time),
            "route times must strictly increase: route[2] at 2016-07-21T22:40:00.000Z is not after route[1] at \
             2016-07-21T22:40:00.000Z"
        );
        assert_eq!(
            reason(|o| o.route[2].time = Some(t("2016-07-21T23:30:00.001Z"))),
            "route[2] time 2016-07-21T23:30:00.001Z is outside the window [2016-07-21T22:00:00.000Z, \
             2016-07-21T23:30:00.000Z]"
        );
        assert_eq!(
            reason(|o| o.own_tracks[1] = "BLUE-101".into()),
            "own_tracks lists \"BLUE-101\" more than once"
        );
        assert_eq!(
            reason(|o| o.own_tracks.push(String::new())),
            "own_tracks[2] is empty"
        );
    }

    #[test]
    fn bincode_and_json_round_trip() {
        let o = op();
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&o, cfg).unwrap();
        let (back, _): (Operation, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
        assert_eq!(back, o);
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(serde_json::from_str::<Operation>(&json).unwrap(), o);
    }
}
