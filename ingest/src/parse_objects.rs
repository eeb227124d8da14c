//! Zones (GeoJSON) and operations (JSON or NDJSON): text → validated model values, or a
//! reject naming the file, the line where the object starts, the reason and the raw text.
//!
//! Rules, beyond the contract's:
//! - **Lines** are 1-based; a reject names the line of the object's opening `{` (for NDJSON, its
//!   line). `raw` is the object's text, cut at 4096 bytes with a trailing `…`.
//! - **Whole-file errors** ([`FileError`]): a zones file that is not JSON, or not a
//!   `FeatureCollection` (with a `features` array) or a single `Feature`; an operations file that
//!   is neither one JSON value nor NDJSON (see [`parse_operations`]).
//! - **Duplicate ids** within one file: the later object is rejected; only accepted objects
//!   count as "first".
//! - **Ids** are JSON strings or integers (`7` becomes `"7"`). A zone's id is
//!   `properties.id`, or else the Feature's own `id` member.
//! - **Times** are RFC 3339 strings or integers of epoch milliseconds; anything else is refused.
//! - `null` counts as absent for optional fields. Unknown members are ignored.
//! - Positions are `[lon, lat]`; a third element (altitude) and beyond is ignored.
//! - A zone of any geometry other than `Polygon`, `MultiPolygon` or `Point` (with a `radius_m`
//!   property) is rejected. `radius_m` on a polygon is ignored.
//! - Operations: `id`, `filed_at`, `target` (`lon`, `lat`), `window` (`start`, `end`),
//!   `altitude_m` and `route` are required; `side` defaults to `unknown` (as for track reports),
//!   `method` and `composition` to empty, `target.radius_m` and `corridor_m` to 0, `own_tracks`
//!   to none. Validation rules are those of [`Zone::validate`] and [`Operation::validate`].

use std::collections::HashMap;
use std::ops::Range;

use deconflict_engine::model::{Operation, Target, Waypoint, Zone, ZoneKind, ZoneShape};
use deconflict_engine::time::{TimeRange, Timestamp};
use serde_json::{Map, Value};

/// Longest `raw` kept in a reject, in bytes (then `…` is appended).
pub const MAX_RAW_BYTES: usize = 4096;

/// A rejected zone or operation: the same `{"file","line","reason","raw"}` record as a
/// rejected track row, `line` being where the object starts.
pub use crate::reject::Reject as ObjectReject;

/// What one file yielded: accepted values with the line each starts on, and rejects.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    /// Accepted values, in file order, with their 1-based start line.
    pub items: Vec<(u64, T)>,
    /// Rejected objects, in file order.
    pub rejects: Vec<ObjectReject>,
    /// Objects read: `items.len() + rejects.len()`.
    pub read: u64,
}

/// The whole file is unusable: nothing in it was accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The text is not JSON (nor NDJSON, for operations).
    #[error("{file}: not JSON: {reason}")]
    NotJson {
        /// The input file's name.
        file: String,
        /// 1-based line of the syntax error.
        line: u64,
        /// 1-based column of the syntax error.
        column: u64,
        /// The parser's message, with its line and column.
        reason: String,
    },
    /// JSON, but not the expected kind of document.
    #[error("{file}: {reason}")]
    Unexpected {
        /// The input file's name.
        file: String,
        /// What was expected and what was found.
        reason: String,
    },
}

/// Parses a GeoJSON `FeatureCollection` (or a single `Feature`) of zones.
///
/// ```
/// use deconflict_ingest::parse_objects::parse_zones;
/// let text = r#"{"type": "FeatureCollection", "features": [
///   {"type": "Feature", "properties": {"id": "z1", "kind": "protected"},
///    "geometry": {"type": "Point", "coordinates": [36.6, 35.9]}},
///   {"type": "Feature", "properties": {"id": "z2", "kind": "protected", "radius_m": 500},
///    "geometry": {"type": "Point", "coordinates": [36.6, 35.9]}}
/// ]}"#;
/// let parsed = parse_zones("zones.geojson", text).unwrap();
/// assert_eq!(parsed.read, 2);
/// assert_eq!(parsed.items[0].0, 4); // z2 starts on line 4
/// assert_eq!(parsed.rejects[0].line, 2);
/// assert_eq!(parsed.rejects[0].reason, "Point geometry needs a radius_m property (a circle)");
/// ```
///
/// # Errors
/// [`FileError`] when the text is not JSON, or not a `FeatureCollection` or `Feature`.
pub fn parse_zones(file_name: &str, text: &str) -> Result<Parsed<Zone>, FileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root: Value = serde_json::from_str(text).map_err(|e| not_json(file_name, &e))?;
    let b = text.as_bytes();
    let start = skip_ws(b, 0);
    let unexpected = |reason: String| FileError::Unexpected {
        file: file_name.to_owned(),
        reason,
    };
    let objects = match root.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {
            let Some(Value::Array(features)) = root.as_object().and_then(|m| m.get("features"))
            else {
                return Err(unexpected(
                    "FeatureCollection has no \"features\" array".into(),
                ));
            };
            let spans = member_value(b, start, "features")
                .map_or_else(Vec::new, |open| array_elements(b, open));
            with_spans(features.iter().cloned().map(Ok), spans, start..b.len())
        }
        Some("Feature") => vec![(start..value_end(b, start), Ok(root))],
        _ => {
            return Err(unexpected(format!(
                "expected a GeoJSON FeatureCollection or Feature, found {}",
                describe(&root)
            )));
        }
    };
    Ok(collect(file_name, text, objects, zone_from, |z| &z.id))
}

/// Parses operations: one JSON object, a JSON array of objects, or NDJSON (one object per line).
///
/// The file is NDJSON when it is not one JSON value and its first non-blank line looks like a
/// complete object (starts with `{` and ends with `}`); then a line that is not JSON is a reject,
/// not a file error. A blank file yields nothing.
///
/// ```
/// use deconflict_ingest::parse_objects::parse_operations;
/// let line = r#"{"id": "op-1", "filed_at": 0, "target": {"lon": 1, "lat": 2},
///   "window": {"start": 86400000, "end": 90000000}, "altitude_m": [0, 500],
///   "route": [{"lon": 1, "lat": 1}, {"lon": 1, "lat": 2}]}"#.replace('\n', " ");
/// let text = format!("{line}\n{{\"id\": \"op-2\"}}\n");
/// let parsed = parse_operations("ops.ndjson", &text).unwrap();
/// assert_eq!(parsed.items[0].1.side, "unknown");
/// assert_eq!((parsed.rejects[0].line, parsed.rejects[0].reason.as_str()), (2, "missing filed_at"));
/// ```
///
/// # Errors
/// [`FileError`] when the text is neither JSON nor NDJSON, or is a JSON value other than an
/// object or an array.
pub fn parse_operations(file_name: &str, text: &str) -> Result<Parsed<Operation>, FileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let b = text.as_bytes();
    let start = skip_ws(b, 0);
    if start == b.len() {
        return Ok(collect(file_name, text, Vec::new(), operation_from, |o| {
            &o.id
        }));
    }
    let objects = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => with_spans(
            items.into_iter().map(Ok),
            array_elements(b, start),
            start..b.len(),
        ),
        Ok(root @ Value::Object(_)) => vec![(start..value_end(b, start), Ok(root))],
        Ok(other) => {
            return Err(FileError::Unexpected {
                file: file_name.to_owned(),
                reason: format!(
                    "expected an operation object, an array of them, or NDJSON; found {}",
                    describe(&other)
                ),
            });
        }
        Err(e) => {
            let first = text[start..].lines().next().unwrap_or_default().trim();
            if !(first.starts_with('{') && first.ends_with('}')) {
                return Err(not_json(file_name, &e));
            }
            ndjson(text)
        }
    };
    Ok(collect(file_name, text, objects, operation_from, |o| &o.id))
}

type Object = (Range<usize>, Result<Value, String>);

/// Each non-blank line of NDJSON, with its span (without the line break).
fn ndjson(text: &str) -> Vec<Object> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        if !body.trim().is_empty() {
            let parsed = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"));
            out.push((offset..offset + body.len(), parsed));
        }
        offset += line.len();
    }
    out
}

/// Pairs values with their spans; `fallback` stands in if the scanner and parser ever disagree.
fn with_spans(
    values: impl Iterator<Item = Result<Value, String>>,
    spans: Vec<Range<usize>>,
    fallback: Range<usize>,
) -> Vec<Object> {
    let mut spans = spans.into_iter();
    values
        .map(|v| (spans.next().unwrap_or_else(|| fallback.clone()), v))
        .collect()
}

/// Converts, validates and de-duplicates objects, turning failures into rejects.
fn collect<T>(
    file: &str,
    text: &str,
    objects: Vec<Object>,
    convert: fn(&Value) -> Result<T, String>,
    id_of: fn(&T) -> &str,
) -> Parsed<T> {
    let lines = LineIndex::new(text);
    let mut out = Parsed {
        items: Vec::new(),
        rejects: Vec::new(),
        read: 0,
    };
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for (span, value) in objects {
        out.read += 1;
        let line = lines.line_of(span.start);
        let result =
            value
                .and_then(|v| convert(&v))
                .and_then(|item| match first_line.get(id_of(&item)) {
                    Some(first) => Err(format!(
                        "duplicate id {:?} (first at line {first})",
                        id_of(&item)
                    )),
                    None => Ok(item),
                });
        match result {
            Ok(item) => {
                first_line.insert(id_of(&item).to_owned(), line);
                out.items.push((line, item));
            }
            Err(reason) => out.rejects.push(ObjectReject {
                file: file.to_owned(),
                line,
                reason,
                raw: cap_raw(&text[span]),
            }),
        }
    }
    out
}

fn not_json(file: &str, e: &serde_json::Error) -> FileError {
    FileError::NotJson {
        file: file.to_owned(),
        line: e.line() as u64,
        column: e.column() as u64,
        reason: e.to_string(),
    }
}

fn cap_raw(raw: &str) -> String {
    if raw.len() <= MAX_RAW_BYTES {
        return raw.to_owned();
    }
    let mut end = MAX_RAW_BYTES;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &raw[..end])
}

/// Byte offset → 1-based line number.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        LineIndex(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    fn line_of(&self, offset: usize) -> u64 {
        self.0.partition_point(|&start| start <= offset) as u64
    }
}

// ---- A structural scanner over text already known to be valid JSON: it finds where values
// ---- start and end, tracking strings (and their escapes) and nesting depth.

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// End (exclusive) of the string whose opening quote is at `i`.
fn string_end(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// End (exclusive) of the value starting at `i`.
fn value_end(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            b.len()
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            j
        }
    }
}

/// Spans of the elements of the array whose `[` is at `open`.
fn array_elements(b: &[u8], open: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = skip_ws(b, open + 1);
    while i < b.len() && b[i] != b']' {
        let end = value_end(b, i);
        out.push(i..end);
        i = skip_ws(b, end);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
    }
    out
}

/// Start of the value of member `key` in the object whose `{` is at `open` (the last one, as
/// `serde_json` keeps the last of repeated keys).
fn member_value(b: &[u8], open: usize, key: &str) -> Option<usize> {
    let mut found = None;
    let mut i = skip_ws(b, open + 1);
    while b.get(i) == Some(&b'"') {
        let key_end = string_end(b, i);
        let name: Option<String> = serde_json::from_slice(&b[i..key_end]).ok();
        i = skip_ws(b, skip_ws(b, key_end) + 1); // past ':'
        if name.as_deref() == Some(key) {
            found = Some(i);
        }
        i = skip_ws(b, value_end(b, i));
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
    }
    found
}

// ---- JSON values → model values. Errors are reject reasons.

fn zone_from(v: &Value) -> Result<Zone, String> {
    let feature = v
        .as_object()
        .ok_or_else(|| format!("expected a GeoJSON Feature, found {}", describe(v)))?;
    match feature.get("type").and_then(Value::as_str) {
        Some("Feature") => {}
        Some(other) => return Err(format!("expected a GeoJSON Feature, found type {other:?}")),
        None => return Err("missing \"type\": \"Feature\"".into()),
    }
    let empty = Map::new();
    let props = match feature.get("properties") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(format!(
                "properties must be an object, found {}",
                describe(other)
            ));
        }
    };
    let id = match opt(props, "id").or_else(|| opt(feature, "id")) {
        Some(id) => as_id(id, "id")?,
        None => return Err("missing id".into()),
    };
    let kind = as_str(req(props, "kind", "kind")?, "kind")?;
    let kind: ZoneKind = kind
        .parse()
        .map_err(|e: deconflict_engine::model::InvalidObject| e.to_string())?;
    let zone = Zone {
        id,
        kind,
        side: opt(props, "side")
            .map(|s| as_str(s, "side").map(str::to_owned))
            .transpose()?,
        shape: shape_from(feature, props)?,
        validity: TimeRange {
            start: opt(props, "start")
                .map(|t| as_time(t, "start"))
                .transpose()?
                .unwrap_or(Timestamp::MIN),
            end: opt(props, "end")
                .map(|t| as_time(t, "end"))
                .transpose()?
                .unwrap_or(Timestamp::MAX),
        },
        alt_min: opt(props, "alt_min")
            .map(|a| as_num(a, "alt_min"))
            .transpose()?,
        alt_max: opt(props, "alt_max")
            .map(|a| as_num(a, "alt_max"))
            .transpose()?,
    };
    zone.validate().map_err(|e| e.to_string())?;
    Ok(zone)
}

fn shape_from(
    feature: &Map<String, Value>,
    props: &Map<String, Value>,
) -> Result<ZoneShape, String> {
    let geometry = req(feature, "geometry", "geometry")?
        .as_object()
        .ok_or("geometry must be an object")?;
    let kind = as_str(req(geometry, "type", "geometry.type")?, "geometry.type")?;
    let coords = || req(geometry, "coordinates", "geometry.coordinates");
    match kind {
        "Polygon" => Ok(ZoneShape::Polygons(vec![polygon(
            coords()?,
            "geometry.coordinates",
        )?])),
        "MultiPolygon" => {
            let polys = as_array(coords()?, "geometry.coordinates")?;
            let polys = polys
                .iter()
                .enumerate()
                .map(|(p, rings)| polygon(rings, &format!("geometry.coordinates[{p}]")))
                .collect::<Result<_, _>>()?;
            Ok(ZoneShape::Polygons(polys))
        }
        "Point" => {
            let center = position(coords()?, "geometry.coordinates")?;
            let radius = opt(props, "radius_m")
                .ok_or("Point geometry needs a radius_m property (a circle)")?;
            Ok(ZoneShape::Circle {
                center,
                radius_m: as_num(radius, "radius_m")?,
            })
        }
        other => Err(format!(
            "geometry type {other:?} is not supported: expected Polygon, MultiPolygon, or Point with radius_m"
        )),
    }
}

fn polygon(v: &Value, path: &str) -> Result<Vec<Vec<(f64, f64)>>, String> {
    as_array(v, path)?
        .iter()
        .enumerate()
        .map(|(r, ring)| {
            let ring_path = format!("{path}[{r}]");
            as_array(ring, &ring_path)?
                .iter()
                .enumerate()
                .map(|(i, p)| position(p, &format!("{ring_path}[{i}]")))
                .collect()
        })
        .collect()
}

fn position(v: &Value, path: &str) -> Result<(f64, f64), String> {
    match v.as_array().map(Vec::as_slice) {
        Some([lon, lat, ..]) => Ok((as_num(lon, path)?, as_num(lat, path)?)),
        _ => Err(format!(
            "{path} must be a [lon, lat] position, found {}",
            describe(v)
        )),
    }
}

fn operation_from(v: &Value) -> Result<Operation, String> {
    let m = v
        .as_object()
        .ok_or_else(|| format!("expected an operation object, found {}", describe(v)))?;
    let text =
        |key: &str| opt(m, key).map_or(Ok(String::new()), |s| as_str(s, key).map(str::to_owned));
    let id = as_id(req(m, "id", "id")?, "id")?;
    let side = opt(m, "side")
        .map_or(Ok("unknown"), |s| as_str(s, "side"))?
        .to_owned();
    let filed_at = as_time(req(m, "filed_at", "filed_at")?, "filed_at")?;
    let (method, composition) = (text("method")?, text("composition")?);
    let target = as_object(req(m, "target", "target")?, "target")?;
    let target = Target {
        lon: as_num(req(target, "lon", "target.lon")?, "target.lon")?,
        lat: as_num(req(target, "lat", "target.lat")?, "target.lat")?,
        radius_m: opt(target, "radius_m").map_or(Ok(0.0), |r| as_num(r, "target.radius_m"))?,
    };
    let window = as_object(req(m, "window", "window")?, "window")?;
    let window = TimeRange {
        start: as_time(req(window, "start", "window.start")?, "window.start")?,
        end: as_time(req(window, "end", "window.end")?, "window.end")?,
    };
    let altitude_m = match req(m, "altitude_m", "altitude_m")?
        .as_array()
        .map(Vec::as_slice)
    {
        Some([min, max]) => (as_num(min, "altitude_m[0]")?, as_num(max, "altitude_m[1]")?),
        _ => return Err("altitude_m must be [min, max]".into()),
    };
    let corridor_m = opt(m, "corridor_m").map_or(Ok(0.0), |c| as_num(c, "corridor_m"))?;
    let route = as_array(req(m, "route", "route")?, "route")?
        .iter()
        .enumerate()
        .map(|(i, w)| waypoint(w, &format!("route[{i}]")))
        .collect::<Result<_, _>>()?;
    let own_tracks = match opt(m, "own_tracks") {
        None => Vec::new(),
        Some(v) => as_array(v, "own_tracks")?
            .iter()
            .enumerate()
            .map(|(i, t)| as_id(t, &format!("own_tracks[{i}]")))
            .collect::<Result<_, _>>()?,
    };
    let op = Operation {
        id,
        side,
        filed_at,
        method,
        composition,
        target,
        window,
        altitude_m,
        corridor_m,
        route,
        own_tracks,
    };
    op.validate().map_err(|e| e.to_string())?;
    Ok(op)
}

fn waypoint(v: &Value, path: &str) -> Result<Waypoint, String> {
    let w = as_object(v, path)?;
    let field = |key: &str| format!("{path}.{key}");
    Ok(Waypoint {
        lon: as_num(req(w, "lon", &field("lon"))?, &field("lon"))?,
        lat: as_num(req(w, "lat", &field("lat"))?, &field("lat"))?,
        time: opt(w, "time")
            .map(|t| as_time(t, &field("time")))
            .transpose()?,
    })
}

// ---- Typed access to JSON members; `path` names the field in reasons.

/// A member that is present and not `null`.
fn opt<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).filter(|v| !v.is_null())
}

fn req<'a>(m: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a Value, String> {
    opt(m, key).ok_or_else(|| format!("missing {path}"))
}

fn as_num(v: &Value, path: &str) -> Result<f64, String> {
    v.as_f64()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{path} must be a finite number, found {}", describe(v)))
}

fn as_str<'a>(v: &'a Value, path: &str) -> Result<&'a str, String> {
    v.as_str()
        .ok_or_else(|| format!("{path} must be a string, found {}", describe(v)))
}

fn as_array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{path} must be an array, found {}", describe(v)))
}

fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{path} must be an object, found {}", describe(v)))
}

fn as_id(v: &Value, path: &str) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        _ => Err(format!("{path} must be a string, found {}", describe(v))),
    }
}

fn as_time(v: &Value, path: &str) -> Result<Timestamp, String> {
    match v {
        Value::String(s) => Timestamp::parse(s).map_err(|e| format!("{path}: {e}")),
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| format!("{path}: {n} is not an integer of epoch milliseconds"))
            .and_then(|ms| {
                Timestamp::from_ms(ms).ok_or_else(|| format!("{path}: time {ms} out of range"))
            }),
        _ => Err(format!(
            "{path} must be an RFC 3339 string or integer epoch milliseconds, found {}",
            describe(v)
        )),
    }
}

/// A short description of a JSON value for reasons: its type, and a scalar's value.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) if s.len() <= 40 => format!("string {s:?}"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(m) => match m.get("type").and_then(Value::as_str) {
            Some(t) if t.len() <= 40 => format!("an object of type {t:?}"),
            _ => "an object".into(),
        },
    }
}

// ---- Model values → contract JSON: the inverse of the parsers above, so that
// ---- `parse_zones` / `parse_operations` of what these write gives back equal values.
// ---- Numbers are written as integers when whole (`3000`, not `3000.0`); times as RFC 3339 UTC
// ---- with milliseconds.

/// A zone as a GeoJSON `Feature`: `Polygon` for one polygon, `MultiPolygon` for several,
/// `Point` with a `radius_m` property for a circle. Properties: `id`, `kind`, `side` when
/// known, `start` / `end` only when bounded, `alt_min` / `alt_max` when present.
///
/// ```
/// use deconflict_engine::model::{Zone, ZoneKind, ZoneShape};
/// use deconflict_engine::time::TimeRange;
/// use deconflict_ingest::parse_objects::{parse_zones, zone_to_feature, zones_to_geojson};
/// let z = Zone {
///     id: "z1".into(),
///     kind: ZoneKind::AirDefense,
///     side: Some("red".into()),
///     shape: ZoneShape::Circle { center: (36.6, 35.9), radius_m: 20_000.0 },
///     validity: TimeRange::ALL,
///     alt_min: None,
///     alt_max: Some(12_000.0),
/// };
/// let f = zone_to_feature(&z);
/// assert_eq!(f["properties"]["radius_m"], 20000);
/// assert!(f["properties"].get("start").is_none());
/// let text = zones_to_geojson([&z]).to_string();
/// assert_eq!(parse_zones("z.geojson", &text).unwrap().items[0].1, z);
/// ```
pub fn zone_to_feature(z: &Zone) -> Value {
    zone_to_feature_with(z, Map::new())
}

/// [`zone_to_feature`] with `extra` properties (e.g. a human `name`); the contract's properties
/// take precedence over extras of the same key.
pub fn zone_to_feature_with(z: &Zone, extra: Map<String, Value>) -> Value {
    let mut props = Map::new();
    props.insert("id".into(), z.id.clone().into());
    props.insert("kind".into(), z.kind.as_str().into());
    if let Some(side) = &z.side {
        props.insert("side".into(), side.clone().into());
    }
    let geometry = match &z.shape {
        ZoneShape::Circle { center, radius_m } => {
            props.insert("radius_m".into(), num(*radius_m));
            geometry("Point", point(*center))
        }
        ZoneShape::Polygons(polys) => match polys.as_slice() {
            [one] => geometry("Polygon", rings(one)),
            many => geometry(
                "MultiPolygon",
                Value::Array(many.iter().map(|p| rings(p)).collect()),
            ),
        },
    };
    if z.validity.start != Timestamp::MIN {
        props.insert("start".into(), time(z.validity.start));
    }
    if z.validity.end != Timestamp::MAX {
        props.insert("end".into(), time(z.validity.end));
    }
    if let Some(a) = z.alt_min {
        props.insert("alt_min".into(), num(a));
    }
    if let Some(a) = z.alt_max {
        props.insert("alt_max".into(), num(a));
    }
    for (k, v) in extra {
        props.entry(k).or_insert(v);
    }
    object([
        ("type", "Feature".into()),
        ("properties", Value::Object(props)),
        ("geometry", geometry),
    ])
}

/// Zones as a GeoJSON `FeatureCollection` of [`zone_to_feature`]s.
pub fn zones_to_geojson<'a>(zones: impl IntoIterator<Item = &'a Zone>) -> Value {
    feature_collection(zones.into_iter().map(zone_to_feature))
}

/// A GeoJSON `FeatureCollection` of the given features (e.g. from [`zone_to_feature_with`]).
pub fn feature_collection(features: impl IntoIterator<Item = Value>) -> Value {
    object([
        ("type", "FeatureCollection".into()),
        ("features", features.into_iter().collect()),
    ])
}

/// An operation in the contract's JSON shape, every member present (`time` of a waypoint only
/// when the route is timed).
///
/// ```
/// use deconflict_ingest::parse_objects::{operation_to_json, parse_operations};
/// let line = r#"{"id": "op-1", "side": "blue", "filed_at": "2016-07-20T10:00:00Z",
///   "target": {"lon": 36.61, "lat": 35.93}, "altitude_m": [3000, 9000],
///   "window": {"start": "2016-07-21T22:00:00Z", "end": "2016-07-21T23:30:00Z"},
///   "route": [{"lon": 35.95, "lat": 35.52}]}"#;
/// let op = parse_operations("plan.json", line).unwrap().items.remove(0).1;
/// let v = operation_to_json(&op);
/// assert_eq!(v["altitude_m"].to_string(), "[3000,9000]");
/// assert_eq!(v["window"]["start"], "2016-07-21T22:00:00.000Z");
/// assert_eq!(parse_operations("again.json", &v.to_string()).unwrap().items[0].1, op);
/// ```
pub fn operation_to_json(op: &Operation) -> Value {
    let route = op
        .route
        .iter()
        .map(|w| {
            let mut m = Map::new();
            m.insert("lon".into(), num(w.lon));
            m.insert("lat".into(), num(w.lat));
            if let Some(t) = w.time {
                m.insert("time".into(), time(t));
            }
            Value::Object(m)
        })
        .collect();
    object([
        ("id", op.id.clone().into()),
        ("side", op.side.clone().into()),
        ("filed_at", time(op.filed_at)),
        ("method", op.method.clone().into()),
        ("composition", op.composition.clone().into()),
        (
            "target",
            object([
                ("lon", num(op.target.lon)),
                ("lat", num(op.target.lat)),
                ("radius_m", num(op.target.radius_m)),
            ]),
        ),
        (
            "window",
            object([
                ("start", time(op.window.start)),
                ("end", time(op.window.end)),
            ]),
        ),
        (
            "altitude_m",
            Value::Array(vec![num(op.altitude_m.0), num(op.altitude_m.1)]),
        ),
        ("corridor_m", num(op.corridor_m)),
        ("route", route),
        ("own_tracks", op.own_tracks.clone().into()),
    ])
}

/// A number: an integer when whole and exactly representable (`3000`, not `3000.0`).
fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

fn time(t: Timestamp) -> Value {
    Value::String(t.to_string())
}

fn point((lon, lat): (f64, f64)) -> Value {
    Value::Array(vec![num(lon), num(lat)])
}

fn rings(polygon: &[Vec<(f64, f64)>]) -> Value {
    polygon
        .iter()
        .map(|ring| ring.iter().copied().map(point).collect::<Value>())
        .collect()
}

fn geometry(kind: &str, coordinates: Value) -> Value {
    object([("type", kind.into()), ("coordinates", coordinates)])
}

fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

#[cfg(test)]
mod write_tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn square(x: f64, y: f64, d: f64) -> Vec<(f64, f64)> {
        vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]
    }

    fn zones_back(zones: &[Zone]) -> Vec<Zone> {
        let text = serde_json::to_string_pretty(&zones_to_geojson(zones)).unwrap();
        let p = parse_zones("z.geojson", &text).unwrap();
        assert_eq!(p.rejects, vec![]);
        p.items.into_iter().map(|(_, z)| z).collect()
    }

    fn ops_back(ops: &[Operation]) -> Vec<Operation> {
        let text: String = ops
            .iter()
            .map(|o| operation_to_json(o).to_string() + "\n")
            .collect();
        let p = parse_operations("o.ndjson", &text).unwrap();
        assert_eq!(p.rejects, vec![]);
        p.items.into_iter().map(|(_, o)| o).collect()
    }

    #[test]
    fn zones_of_every_kind_and_shape_round_trip() {
        let shapes = [
            ZoneShape::Circle {
                center: (179.95, -22.5),
                radius_m: 30_000.0,
            },
            ZoneShape::Circle {
                center: (-3.7, 40.4),
                radius_m: 812.25,
            },
            ZoneShape::Polygons(vec![vec![
                square(36.0, 35.0, 1.0),
                square(36.25, 35.25, 0.5),
            ]]),
            ZoneShape::Polygons(vec![
                vec![square(36.0, 35.0, 1.0)],
                vec![square(38.123_456_7, 35.0, 0.1)],
            ]),
        ];
        let validities = [
            TimeRange::ALL,
            TimeRange {
                start: t("2016-07-21T20:00:00Z"),
                end: t("2016-07-21T21:00:00.5Z"),
            },
            TimeRange {
                start: t("2016-07-21T20:00:00Z"),
                end: Timestamp::MAX,
            },
            TimeRange {
                start: Timestamp::MIN,
                end: t("2016-07-21T20:00:00Z"),
            },
        ];
        let mut zones = Vec::new();
        for kind in ZoneKind::ALL {
            for (i, shape) in shapes.iter().enumerate() {
                let n = zones.len();
                zones.push(Zone {
                    id: format!("{kind}-{i}"),
                    kind,
                    side: (n % 2 == 0).then(|| "red".to_owned()),
                    shape: shape.clone(),
                    validity: validities[n % validities.len()],
                    alt_min: (n % 3 == 1).then_some(-12.5),
                    alt_max: (n % 3 != 0).then_some(6000.0),
                });
            }
        }
        zones.iter().for_each(|z| z.validate().unwrap());
        assert_eq!(zones_back(&zones), zones);
        let collection = zones_to_geojson(&zones);
        let geometry_types: Vec<&str> = collection["features"]
            .as_array()
            .unwrap()
            .iter()
            .take(4)
            .map(|f| f["geometry"]["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            geometry_types,
            ["Point", "Point", "Polygon", "MultiPolygon"]
        );
    }

    #[test]
    fn zone_feature_properties() {
        let z = Zone {
            id: "ad-01".into(),
            kind: ZoneKind::AirDefense,
            side: None,
            shape: ZoneShape::Circle {
                center: (36.0, 35.5),
                radius_m: 20_000.0,
            },
            validity: TimeRange {
                start: t("2016-07-21T20:00:00+02:00"),
                end: Timestamp::MAX,
            },
            alt_min: None,
            alt_max: Some(12_000.5),
        };
        let mut extra = Map::new();
        extra.insert("name".into(), "SAM site".into());
        extra.insert("id".into(), "not-the-id".into());
        let f = zone_to_feature_with(&z, extra);
        assert_eq!(
            f,
            serde_json::json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [36, 35.5]},
                "properties": {
                    "id": "ad-01", "kind": "air_defense", "radius_m": 20000,
                    "start": "2016-07-21T18:00:00.000Z", "alt_max": 12000.5, "name": "SAM site"
                }
            })
        );
        assert_eq!(f["properties"]["radius_m"].to_string(), "20000");
    }

    #[test]
    fn operations_round_trip_in_the_contract_shape() {
        // written exactly so: every member, times in UTC with milliseconds, whole numbers
        // as integers, `time` only on a timed route
        let untimed = serde_json::json!({"id": "op-8", "side": "red", "filed_at": "2021-10-07T10:00:00.500Z",
            "method": "", "composition": "1 MALE drone", "target": {"lon": -3.7, "lat": 40, "radius_m": 0},
            "window": {"start": "2021-10-08T22:00:00.000Z", "end": "2021-10-08T23:30:00.000Z"},
            "altitude_m": [-100, 4500.5], "corridor_m": 12.75, "route": [{"lon": -3.7, "lat": 40.4}], "own_tracks": []});
        let mut timed = untimed.clone();
        timed["id"] = "op-9".into();
        timed["own_tracks"] = serde_json::json!(["RED-D0001", "RED-D0002"]);
        timed["route"] = serde_json::json!([{"lon": -3.7, "lat": 40.4, "time": "2021-10-08T22:00:00.000Z"},
            {"lon": -4, "lat": 40.5, "time": "2021-10-08T23:30:00.000Z"}]);
        let text = format!("{untimed}\n{timed}\n");
        assert!(text.contains(r#""altitude_m":[-100,4500.5]"#), "{text}");
        let ops: Vec<Operation> = parse_operations("plan.ndjson", &text)
            .unwrap()
            .items
            .into_iter()
            .map(|(_, o)| o)
            .collect();
        assert_eq!((ops.len(), ops[1].is_timed()), (2, true));
        assert_eq!(operation_to_json(&ops[0]), untimed);
        assert_eq!(operation_to_json(&ops[1]), timed);
        assert_eq!(ops_back(&ops), ops);
    }

    /// Degrees at the index's resolution (1e-7).
    fn deg(max: i32) -> impl Strategy<Value = f64> {
        (-max..=max).prop_map(|e7| f64::from(e7) / 1e7)
    }

    fn when() -> impl Strategy<Value = Timestamp> {
        (1_000_000_000_000i64..2_000_000_000_000).prop_map(Timestamp)
    }

    fn zone_strategy() -> impl Strategy<Value = Zone> {
        let shape = prop_oneof![
            (deg(1_800_000_000), deg(900_000_000), 1u32..10_000_000).prop_map(|(lon, lat, r)| {
                ZoneShape::Circle {
                    center: (lon, lat),
                    radius_m: f64::from(r) / 4.0,
                }
            }),
            // corners computed in 1e-7 degrees: a sum of two f64 may need 17 digits, which
            // serde_json (without its `float_roundtrip` feature) may read back 1 ulp off
            proptest::collection::vec(
                (
                    -1_700_000_000i32..1_700_000_000,
                    -800_000_000i32..800_000_000,
                    1i32..50_000_000
                ),
                1..4
            )
            .prop_map(|squares| ZoneShape::Polygons(
                squares
                    .into_iter()
                    .map(|(x, y, d)| {
                        let c = |e7: i32| f64::from(e7) / 1e7;
                        let (x1, y1) = (c(x + d), c(y + d));
                        let (x, y) = (c(x), c(y));
                        // overlapping polygons are valid too
                        vec![vec![(x, y), (x1, y), (x1, y1), (x, y1), (x, y)]]
                    })
                    .collect()
            )),
        ];
        (
            proptest::sample::select(ZoneKind::ALL.to_vec()),
            proptest::option::of("[a-z]{1,8}"),
            shape,
            proptest::option::of(when()),
            proptest::option::of(0i64..1_000_000_000),
            proptest::option::of(-1000i32..50_000),
            proptest::option::of(0i32..50_000),
        )
            .prop_map(|(kind, side, shape, start, len, lo, extra)| Zone {
                id: String::new(),
                kind,
                side,
                shape,
                validity: TimeRange {
                    start: start.unwrap_or(Timestamp::MIN),
                    end: match (start, len) {
                        (Some(s), Some(l)) => s.offset(l),
                        (None, Some(l)) => Timestamp(1_500_000_000_000 + l),
                        (_, None) => Timestamp::MAX,
                    },
                },
                alt_min: lo.map(|a| f64::from(a) / 2.0),
                alt_max: extra.map(|e| f64::from(lo.unwrap_or(-1000) + e) / 2.0),
            })
    }

    fn operation_strategy() -> impl Strategy<Value = Operation> {
        (
            when(),
            (when(), 1000i64..100_000_000),
            (deg(1_800_000_000), deg(900_000_000), 0u32..1_000_000),
            (-1000i32..50_000, 0i32..50_000, 0u32..100_000_000),
            proptest::collection::vec((deg(1_800_000_000), deg(900_000_000)), 1..6),
            any::<bool>(),
            proptest::collection::btree_set("[A-Z]{1,4}-[0-9]{1,3}", 0..3),
            ".{0,12}",
        )
            .prop_map(
                |(
                    filed_at,
                    (start, len),
                    (lon, lat, r),
                    (lo, width, corridor),
                    points,
                    timed,
                    own,
                    method,
                )| {
                    let window = TimeRange {
                        start,
                        end: start.offset(len),
                    };
                    let n = points.len() as i64;
                    Operation {
                        id: String::new(),
                        side: "blue".into(),
                        filed_at,
                        method,
                        composition: "1 drone".into(),
                        target: Target {
                            lon,
                            lat,
                            radius_m: f64::from(r) / 8.0,
                        },
                        window,
                        altitude_m: (f64::from(lo) / 2.0, f64::from(lo + width) / 2.0),
                        corridor_m: f64::from(corridor) / 10.0,
                        route: points
                            .into_iter()
                            .enumerate()
                            .map(|(i, (lon, lat))| Waypoint {
                                lon,
                                lat,
                                time: timed.then(|| start.offset(len * i as i64 / n)),
                            })
                            .collect(),
                        own_tracks: own.into_iter().collect(),
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn written_zones_parse_back_equal(zones in proptest::collection::vec(zone_strategy(), 1..6)) {
            let zones = numbered(zones, |z, i| z.id = format!("z{i}"));
            prop_assert!(zones.iter().all(|z| z.validate().is_ok()));
            prop_assert_eq!(zones_back(&zones), zones);
        }

        #[test]
        fn written_operations_parse_back_equal(ops in proptest::collection::vec(operation_strategy(), 1..6)) {
            let ops = numbered(ops, |o, i| o.id = format!("op-{i}"));
            prop_assert!(ops.iter().all(|o| o.validate().is_ok()));
            prop_assert_eq!(ops_back(&ops), ops);
        }
    }

    /// Gives each item a distinct id.
    fn numbered<T>(mut items: Vec<T>, set_id: impl Fn(&mut T, usize)) -> Vec<T> {
        items.iter_mut().enumerate().for_each(|(i, x)| set_id(x, i));
        items
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deconflict_engine::model::ZoneKind;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    /// A pretty-printed FeatureCollection: feature `k` starts on line `4 + 5 k`.
    fn collection(features: &[(&str, &str)]) -> String {
        let body: Vec<String> = features
            .iter()
            .map(|(props, geom)| {
                format!(
                    "    {{\n      \"type\": \"Feature\",\n      \"properties\": {props},\n      \"geometry\": {geom}\n    }}"
                )
            })
            .collect();
        format!(
            "{{\n  \"type\": \"FeatureCollection\",\n  \"features\": [\n{}\n  ]\n}}\n",
            body.join(",\n")
        )
    }

    const SQUARE: &str = r#"{"type": "Polygon", "coordinates": [[[36.0, 35.0], [37.0, 35.0], [37.0, 36.0], [36.0, 36.0], [36.0, 35.0]]]}"#;

    fn reasons<T>(p: &Parsed<T>) -> Vec<(u64, &str)> {
        p.rejects
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect()
    }

    #[test]
    fn zones_pretty_printed_lines_and_reasons() {
        let text = collection(&[
            (
                r#"{"id": "ok-poly", "kind": "off_limits", "side": "red", "start": "2016-07-21T02:00:00+02:00", "end": 1469145600000, "alt_min": 0, "alt_max": 5000.5}"#,
                SQUARE,
            ),
            (
                r#"{"id": "bowtie", "kind": "protected"}"#,
                r#"{"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}"#,
            ),
            (
                r#"{"id": "unclosed", "kind": "protected"}"#,
                r#"{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}"#,
            ),
            (
                r#"{"id": "two", "kind": "protected"}"#,
                r#"{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0], [1, 0], [0, 0]]]}"#,
            ),
            (r#"{"id": "kind", "kind": "no_fly"}"#, SQUARE),
            (r#"{"id": "ok-poly", "kind": "presence"}"#, SQUARE),
            (
                r#"{"id": "ok-circle", "kind": "air_defense", "note": "tricky \"}]{[\" text", "radius_m": 2500}"#,
                r#"{"type": "Point", "coordinates": [36.5, 35.5, 120]}"#,
            ),
            (
                r#"{"id": "line", "kind": "protected"}"#,
                r#"{"type": "LineString", "coordinates": [[0, 0], [1, 1]]}"#,
            ),
            (
                r#"{"id": "ok-multi", "kind": "target_area"}"#,
                r#"{"type": "MultiPolygon", "coordinates": [[[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [2, 1], [2, 2], [1, 1]]], [[[10, 10], [11, 10], [11, 11], [10, 10]]]]}"#,
            ),
            (
                r#"{"id": "no-radius", "kind": "protected"}"#,
                r#"{"type": "Point", "coordinates": [1, 2]}"#,
            ),
            (
                r#"{"id": "band", "kind": "protected", "alt_min": 5000, "alt_max": 1000}"#,
                SQUARE,
            ),
            (
                r#"{"id": "validity", "kind": "protected", "start": "2016-07-22T00:00:00Z", "end": "2016-07-21T00:00:00Z"}"#,
                SQUARE,
            ),
            (
                r#"{"id": "time", "kind": "protected", "start": "yesterday"}"#,
                SQUARE,
            ),
            (
                &format!(r#"{{"id": "{}", "kind": "protected"}}"#, "x".repeat(65)),
                SQUARE,
            ),
            (r#"{"id": "nokind"}"#, SQUARE),
            (
                r#"{"id": "alt", "kind": "protected", "alt_max": "high"}"#,
                SQUARE,
            ),
            (
                r#"{"id": "far", "kind": "protected", "radius_m": 10}"#,
                r#"{"type": "Point", "coordinates": [200, 0]}"#,
            ),
        ]);
        let p = parse_zones("zones.geojson", &text).unwrap();
        assert_eq!(p.read, 17);
        assert_eq!(
            reasons(&p),
            vec![
                (
                    9,
                    "exterior ring of polygon 0 intersects itself: edge [(0.0, 0.0), (1.0, 1.0)] meets edge [(1.0, 0.0), \
                     (0.0, 1.0)]"
                ),
                (
                    14,
                    "exterior ring of polygon 0 is not closed: first position (0.0, 0.0) differs from last (0.0, 1.0)"
                ),
                (
                    19,
                    "exterior ring of polygon 0 has 2 distinct points, at least 3 needed"
                ),
                (
                    24,
                    "unknown zone kind \"no_fly\": expected one of off_limits, protected, air_defense, target_area, presence"
                ),
                (29, "duplicate id \"ok-poly\" (first at line 4)"),
                (
                    39,
                    "geometry type \"LineString\" is not supported: expected Polygon, MultiPolygon, or Point with radius_m"
                ),
                (49, "Point geometry needs a radius_m property (a circle)"),
                (54, "alt_min/alt_max: min 5000 is above max 1000"),
                (
                    59,
                    "validity ends (2016-07-21T00:00:00.000Z) before it starts (2016-07-22T00:00:00.000Z)"
                ),
                (
                    64,
                    "start: invalid time \"yesterday\": expected RFC 3339 with an offset or epoch milliseconds"
                ),
                (69, "id is 65 bytes, longer than 64"),
                (74, "missing kind"),
                (79, "alt_max must be a finite number, found string \"high\""),
                (84, "center lon 200 out of range [-180, 180]"),
            ]
        );
        let lines: Vec<u64> = p.items.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [4, 34, 44]);
        let z = &p.items[0].1;
        assert_eq!(z.id, "ok-poly");
        assert_eq!(z.kind, ZoneKind::OffLimits);
        assert_eq!(z.side.as_deref(), Some("red"));
        assert_eq!(
            z.validity,
            TimeRange {
                start: t("2016-07-21T00:00:00Z"),
                end: Timestamp(1_469_145_600_000)
            }
        );
        assert_eq!((z.alt_min, z.alt_max), (Some(0.0), Some(5000.5)));
        assert_eq!(
            z.shape,
            ZoneShape::Polygons(vec![vec![vec![
                (36.0, 35.0),
                (37.0, 35.0),
                (37.0, 36.0),
                (36.0, 36.0),
                (36.0, 35.0)
            ]]])
        );
        let c = &p.items[1].1;
        assert_eq!(
            c.shape,
            ZoneShape::Circle {
                center: (36.5, 35.5),
                radius_m: 2500.0
            }
        );
        assert_eq!(
            (c.validity, c.side.as_ref(), c.alt_min),
            (TimeRange::ALL, None, None)
        );
        let ZoneShape::Polygons(m) = &p.items[2].1.shape else {
            panic!("not polygons")
        };
        assert_eq!((m.len(), m[0].len(), m[1].len()), (2, 2, 1));
        // raw is the feature's own text, from its `{` to its `}`
        let bowtie = &p.rejects[0].raw;
        assert!(
            bowtie.starts_with("{\n      \"type\": \"Feature\""),
            "{bowtie}"
        );
        assert!(
            bowtie.ends_with("]]]}\n    }") && bowtie.contains("\"bowtie\""),
            "{bowtie}"
        );
        assert_eq!(p.rejects[0].file, "zones.geojson");
    }

    #[test]
    fn zones_single_feature_compact_and_feature_id() {
        let text = format!(
            "\u{feff}\n\n{{\"type\": \"Feature\", \"id\": 42, \"properties\": {{\"kind\": \"protected\"}}, \"geometry\": {SQUARE}}}"
        );
        let p = parse_zones("one.geojson", &text).unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!((p.items[0].0, p.items[0].1.id.as_str()), (3, "42"));
        // compact collection on one line: every feature is on line 1
        let compact = format!(
            r#"{{"features": [{{"type": "Feature", "properties": {{"id": "a", "kind": "presence"}}, "geometry": {SQUARE}}}, {{"type": "Feature", "properties": {{"kind": "presence"}}, "geometry": {SQUARE}}}, 5], "type": "FeatureCollection"}}"#
        );
        let p = parse_zones("c.geojson", &compact).unwrap();
        assert_eq!(p.read, 3);
        assert_eq!(
            reasons(&p),
            vec![
                (1, "missing id"),
                (1, "expected a GeoJSON Feature, found number 5")
            ]
        );
        assert_eq!(p.rejects[1].raw, "5");
        assert!(
            p.rejects[0]
                .raw
                .starts_with(r#"{"type": "Feature", "properties": {"kind""#)
        );
        assert!(p.rejects[0].raw.ends_with("]]]}}"));
    }

    #[test]
    fn zones_file_errors() {
        let e = parse_zones(
            "z",
            "{\n  \"type\": \"FeatureCollection\",\n  \"features\": [\n",
        )
        .unwrap_err();
        assert!(matches!(e, FileError::NotJson { line: 4, .. }), "{e:?}");
        assert!(
            e.to_string().starts_with("z: not JSON: EOF while parsing"),
            "{e}"
        );
        let e = parse_zones("z", r#"{"type": "Topology"}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "z: expected a GeoJSON FeatureCollection or Feature, found an object of type \"Topology\""
        );
        let e = parse_zones("z", r#"{"type": "FeatureCollection", "features": {}}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "z: FeatureCollection has no \"features\" array"
        );
        let e = parse_zones("z", "[1, 2]").unwrap_err();
        assert_eq!(
            e.to_string(),
            "z: expected a GeoJSON FeatureCollection or Feature, found an array"
        );
        let empty = parse_zones("z", r#"{"type": "FeatureCollection", "features": []}"#).unwrap();
        assert_eq!((empty.read, empty.items.len()), (0, 0));
    }

    #[test]
    fn raw_is_capped() {
        let long = format!(
            r#"{{"type": "Feature", "properties": {{"id": "big", "kind": "bad", "pad": "{}é"}}, "geometry": {SQUARE}}}"#,
            "p".repeat(4090)
        );
        let p = parse_zones("z", &long).unwrap();
        let raw = &p.rejects[0].raw;
        assert!(raw.ends_with('…'));
        assert!(raw.len() <= MAX_RAW_BYTES + '…'.len_utf8());
        assert!(long.starts_with(raw.trim_end_matches('…')));
    }

    /// The contract's example operation, verbatim.
    const CONTRACT_OP: &str = r#"{
  "id": "op-7", "side": "blue",
  "filed_at": "2016-07-20T10:00:00Z",
  "method": "air strike", "composition": "2 strike aircraft, 1 tanker",
  "target": {"lon": 36.61, "lat": 35.93, "radius_m": 500},
  "window": {"start": "2016-07-21T22:00:00Z", "end": "2016-07-21T23:30:00Z"},
  "altitude_m": [3000, 9000],
  "corridor_m": 5000,
  "route": [
    {"lon": 35.95, "lat": 35.52, "time": "2016-07-21T22:00:00Z"},
    {"lon": 36.61, "lat": 35.93, "time": "2016-07-21T22:40:00Z"},
    {"lon": 35.95, "lat": 35.52, "time": "2016-07-21T23:30:00Z"}
  ],
  "own_tracks": ["BLUE-101", "BLUE-102"]
}"#;

    #[test]
    fn contract_example_parses_exactly() {
        let p = parse_operations("plan.json", CONTRACT_OP).unwrap();
        assert_eq!((p.read, p.rejects.len()), (1, 0));
        let wp = |lon, lat, time: &str| Waypoint {
            lon,
            lat,
            time: Some(t(time)),
        };
        let expected = Operation {
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
            window: TimeRange {
                start: t("2016-07-21T22:00:00Z"),
                end: t("2016-07-21T23:30:00Z"),
            },
            altitude_m: (3000.0, 9000.0),
            corridor_m: 5000.0,
            route: vec![
                wp(35.95, 35.52, "2016-07-21T22:00:00Z"),
                wp(36.61, 35.93, "2016-07-21T22:40:00Z"),
                wp(35.95, 35.52, "2016-07-21T23:30:00Z"),
            ],
            own_tracks: vec!["BLUE-101".into(), "BLUE-102".into()],
        };
        assert_eq!(p.items, vec![(1, expected.clone())]);
        // the same object in an array, and as one NDJSON line
        let array = format!(
            "[\n{CONTRACT_OP},\n  {}\n]",
            CONTRACT_OP.replace("op-7", "op-8").replace('\n', " ")
        );
        let p = parse_operations("plan.json", &array).unwrap();
        assert_eq!(
            p.items
                .iter()
                .map(|(l, o)| (*l, o.id.as_str()))
                .collect::<Vec<_>>(),
            [(2, "op-7"), (17, "op-8")]
        );
        let one_line = CONTRACT_OP.replace('\n', " ");
        let p = parse_operations(
            "plan.ndjson",
            &format!("{one_line}\n{}\n", one_line.replace("op-7", "op-9")),
        )
        .unwrap();
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.items[0], (1, expected));
    }

    /// One NDJSON line: the contract's operation with `edit` applied to its JSON value.
    fn op_line(edit: impl FnOnce(&mut Value)) -> String {
        let mut v: Value = serde_json::from_str(CONTRACT_OP).unwrap();
        edit(&mut v);
        v.to_string()
    }

    #[test]
    fn ndjson_lines_and_reasons() {
        let lines = [
            op_line(|_| {}),
            String::new(),
            op_line(|v| v["route"][1]["time"] = Value::Null),
            "{\"id\": \"broken\", }".into(),
            op_line(|v| {
                v["id"] = "op-b".into();
                v["route"][2]["time"] = "2016-07-21T22:40:00Z".into();
            }),
            op_line(|v| v["altitude_m"] = serde_json::json!([9000, 3000])),
            op_line(|v| v["window"]["end"] = "2016-07-21T21:00:00Z".into()),
            op_line(|v| v["route"][0]["time"] = "2016-07-21T21:59:59.999Z".into()),
            op_line(|v| v["corridor_m"] = serde_json::json!(-1)),
            op_line(|v| v["route"] = serde_json::json!([])),
            "[1, 2]".into(),
            op_line(|v| v["altitude_m"] = serde_json::json!([3000])),
            op_line(|v| v["window"]["start"] = serde_json::json!(1.5)),
            op_line(|v| {
                v.as_object_mut().unwrap().remove("target");
            }),
            op_line(|v| v["route"][1]["lat"] = "35.9".into()),
            op_line(|v| {
                v["id"] = "op-untimed".into();
                for w in v["route"].as_array_mut().unwrap() {
                    w.as_object_mut().unwrap().remove("time");
                }
                v.as_object_mut().unwrap().remove("side");
                v["target"].as_object_mut().unwrap().remove("radius_m");
            }),
        ];
        let text = lines.join("\r\n") + "\r\n\n";
        let p = parse_operations("ops.ndjson", &text).unwrap();
        assert_eq!(p.read, 15);
        assert_eq!(
            reasons(&p),
            vec![
                (
                    3,
                    "route mixes timed and untimed waypoints: route[0] has a time, route[1] has none"
                ),
                (4, "not JSON: trailing comma at line 1 column 18"),
                (
                    5,
                    "route times must strictly increase: route[2] at 2016-07-21T22:40:00.000Z is not after route[1] at \
                     2016-07-21T22:40:00.000Z"
                ),
                (6, "altitude_m: min 9000 is above max 3000"),
                (
                    7,
                    "window ends (2016-07-21T21:00:00.000Z) before it starts (2016-07-21T22:00:00.000Z)"
                ),
                (
                    8,
                    "route[0] time 2016-07-21T21:59:59.999Z is outside the window [2016-07-21T22:00:00.000Z, \
                     2016-07-21T23:30:00.000Z]"
                ),
                (9, "corridor_m -1 out of range [0, 10000000]"),
                (10, "route is empty: at least one waypoint is needed"),
                (11, "expected an operation object, found an array"),
                (12, "altitude_m must be [min, max]"),
                (
                    13,
                    "window.start: 1.5 is not an integer of epoch milliseconds"
                ),
                (14, "missing target"),
                (
                    15,
                    "route[1].lat must be a finite number, found string \"35.9\""
                ),
            ]
        );
        assert_eq!(p.rejects[1].raw, "{\"id\": \"broken\", }");
        assert_eq!(
            p.items
                .iter()
                .map(|(l, o)| (*l, o.id.as_str()))
                .collect::<Vec<_>>(),
            [(1, "op-7"), (16, "op-untimed")]
        );
        let untimed = &p.items[1].1;
        assert_eq!(
            (untimed.side.as_str(), untimed.target.radius_m),
            ("unknown", 0.0)
        );
        assert!(untimed.route.iter().all(|w| w.time.is_none()));
    }

    #[test]
    fn operation_duplicates_and_epoch_times() {
        let text = format!(
            "{}\n{}\n{}\n",
            op_line(|v| v["filed_at"] = serde_json::json!(1_469_008_800_000_i64)),
            op_line(|v| v["side"] = "red".into()),
            op_line(|v| v["id"] = serde_json::json!(7)),
        );
        let p = parse_operations("o", &text).unwrap();
        assert_eq!(
            reasons(&p),
            vec![(2, "duplicate id \"op-7\" (first at line 1)")]
        );
        assert_eq!(p.items[0].1.filed_at, t("2016-07-20T10:00:00Z"));
        assert_eq!(p.items[1].1.id, "7");
    }

    #[test]
    fn operation_file_errors() {
        let broken = CONTRACT_OP.replace("\"corridor_m\": 5000,", "\"corridor_m\": 5000");
        let e = parse_operations("plan.json", &broken).unwrap_err();
        assert!(matches!(e, FileError::NotJson { line: 9, .. }), "{e:?}");
        let e = parse_operations("plan.json", "42").unwrap_err();
        assert_eq!(
            e.to_string(),
            "plan.json: expected an operation object, an array of them, or NDJSON; found number 42"
        );
        let e = parse_operations("plan.csv", "id,time\nop-1,0\n").unwrap_err();
        assert!(matches!(e, FileError::NotJson { line: 1, .. }), "{e:?}");
        let p = parse_operations("empty", " \n\n").unwrap();
        assert_eq!((p.read, p.items.len(), p.rejects.len()), (0, 0, 0));
    }

    #[test]
    fn reject_serialises_with_contract_keys() {
        let r = ObjectReject {
            file: "f".into(),
            line: 3,
            reason: "why".into(),
            raw: "{}".into(),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"file":"f","line":3,"reason":"why","raw":"{}"}"#
        );
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-z\\\\\"{}\\[\\],: \n\t\u{e9}\u{1F600}]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec(("[a-z\\\\\"{]{0,6}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// The scanner finds exactly the spans serde_json parses, compact or pretty-printed.
        #[test]
        fn scanner_spans_match_parser(items in proptest::collection::vec(json_value(), 0..8), other in json_value(), pretty: bool, first: bool) {
            let array = Value::Array(items.clone());
            let mut root = Map::new();
            if first {
                root.insert("features".into(), array.clone());
                root.insert("other".into(), other);
            } else {
                root.insert("other".into(), other);
                root.insert("features".into(), array.clone());
            }
            let root = Value::Object(root);
            for (text, open) in [
                (if pretty { serde_json::to_string_pretty(&array) } else { serde_json::to_string(&array) }.unwrap(), None),
                (if pretty { serde_json::to_string_pretty(&root) } else { serde_json::to_string(&root) }.unwrap(), Some(())),
            ] {
                let b = text.as_bytes();
                let open_at = match open {
                    None => skip_ws(b, 0),
                    Some(()) => member_value(b, skip_ws(b, 0), "features").unwrap(),
                };
                let spans = array_elements(b, open_at);
                // Compare with the whole text's parse: floats may not round-trip exactly.
                let whole: Value = serde_json::from_str(&text).unwrap();
                let expected = if open.is_some() { &whole["features"] } else { &whole };
                let expected = expected.as_array().unwrap();
                proptest::prop_assert_eq!(spans.len(), items.len());
                proptest::prop_assert_eq!(spans.len(), expected.len());
                for (span, item) in spans.into_iter().zip(expected) {
                    let parsed: Value = serde_json::from_str(&text[span]).unwrap();
                    proptest::prop_assert_eq!(&parsed, item);
                }
            }
        }
    }
}
