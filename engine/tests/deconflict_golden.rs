//! Golden cases, computed independently of the engine (by hand, or published), and the
//! intersection-precision cases at zero minima.
//!
//! Units used by the hand computations: on the equator one degree of longitude is
//! `a·π/180 = 111 319.490 793 m` and one degree of latitude `a(1−e²)·π/180 = 110 574.272 7 m`
//! (the meridional radius there); within a few km of (0, 0) the plane with those scales agrees
//! with the geodesic to better than 10⁻⁶.

use deconflict_engine::deconflict::{CheckReport, ConflictKind};
use deconflict_engine::geodesy::distance_m;
use deconflict_engine::model::{
    Minima, Operation, Report, Target, Waypoint, Zone, ZoneKind, ZoneShape,
};
use deconflict_engine::oracle::{OFix, interpolate};
use deconflict_engine::time::{TimeRange, Timestamp};
use deconflict_engine::{Engine, ReportBatch};

const M_PER_DEG_LON: f64 = 111_319.490_793_273_57;
const M_PER_DEG_LAT: f64 = 110_574.272_697_98;

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn engine_with(
    reports: &[Report],
    zones: Vec<Zone>,
    ops: Vec<Operation>,
) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::create(dir.path()).unwrap();
    let mut w = engine.writer().unwrap();
    let mut b = ReportBatch::new();
    for r in reports {
        b.push(r).unwrap();
    }
    if !b.is_empty() {
        w.add(b).unwrap();
    }
    if !zones.is_empty() {
        w.upsert_zones(zones).unwrap();
    }
    if !ops.is_empty() {
        w.upsert_operations(ops).unwrap();
    }
    w.commit().unwrap();
    (dir, engine)
}

/// An untimed operation over `route`, window 22:00–23:30 on 2016-07-21, filed two days before.
fn op(
    id: &str,
    route: &[(f64, f64)],
    target: (f64, f64),
    band: (f64, f64),
    corridor_m: f64,
) -> Operation {
    Operation {
        id: id.into(),
        side: "blue".into(),
        filed_at: t("2016-07-19T22:00:00Z"),
        method: "air strike".into(),
        composition: "2 aircraft".into(),
        target: Target {
            lon: target.0,
            lat: target.1,
            radius_m: 0.0,
        },
        window: TimeRange::new(t("2016-07-21T22:00:00Z"), t("2016-07-21T23:30:00Z")).unwrap(),
        altitude_m: band,
        corridor_m,
        route: route
            .iter()
            .map(|&(lon, lat)| Waypoint {
                lon,
                lat,
                time: None,
            })
            .collect(),
        own_tracks: vec![],
    }
}

fn square(id: &str, kind: ZoneKind, (w, s, e, n): (f64, f64, f64, f64)) -> Zone {
    Zone {
        id: id.into(),
        kind,
        side: None,
        shape: ZoneShape::Polygons(vec![vec![vec![(w, s), (e, s), (e, n), (w, n), (w, s)]]]),
        validity: TimeRange::ALL,
        alt_min: None,
        alt_max: None,
    }
}

fn kinds(r: &CheckReport) -> Vec<(ConflictKind, String)> {
    r.conflicts
        .iter()
        .map(|c| (c.kind, c.with.clone()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// PostGIS ST_DistanceCPA
// ---------------------------------------------------------------------------------------------

#[test]
fn postgis_distance_cpa_example() {
    let fx: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/postgis_distance_cpa.json")).unwrap();
    let unit = fx["unit_m"].as_f64().unwrap();
    let (start, end) = (
        t(fx["start"].as_str().unwrap()),
        t(fx["end"].as_str().unwrap()),
    );
    let pts = |k: &str| -> Vec<(f64, f64, f64)> {
        fx[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let p: Vec<f64> = p
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect();
                (
                    p[0] * unit / M_PER_DEG_LON,
                    p[1] * unit / M_PER_DEG_LAT,
                    p[2] * unit,
                )
            })
            .collect()
    };
    let mut reports = Vec::new();
    for (id, ps) in [("A", pts("a")), ("B", pts("b"))] {
        for (time, p) in [(start, ps[0]), (end, ps[1])] {
            reports.push(Report::new(id, "x", time, p.0, p.1, Some(p.2)).unwrap());
        }
    }
    // The published check is ST_CPAWithin(a, b, 2): a 2-unit horizontal minimum; the example's
    // altitudes differ by kilometres, so the vertical minimum is opened wide; one hour between
    // reports, so max_gap is an hour.
    let m = Minima {
        horizontal_m: 2.0 * unit,
        vertical_m: 20_000.0,
        max_gap_ms: 3_600_000,
        ..Minima::default()
    };
    let (_d, engine) = engine_with(&reports, vec![], vec![]);
    let eps: Vec<_> = engine
        .snapshot()
        .conflicts(TimeRange::ALL, &m)
        .unwrap()
        .collect();
    assert_eq!(eps.len(), 1, "{eps:?}");
    let e = &eps[0];
    let hour = (end.0 - start.0) as f64;
    let at = |f: f64| start.0 + (f * hour).round() as i64;
    let expect = fx["expected_horizontal_cpa_m"].as_f64().unwrap();
    assert!((expect - 3.2f64.sqrt() * unit).abs() < 1e-6);
    assert!((e.min_distance_m - expect).abs() < 1e-4 * expect, "{e:?}");
    assert!((e.cpa_time.0 - at(0.4)).abs() <= 2_000, "{e:?}");
    assert!(
        (e.start.0 - at(0.0)).abs() <= 1_000 && (e.end.0 - at(0.8)).abs() <= 1_000,
        "{e:?}"
    );
    // The published (3-D) figure, from the same positions: horizontal geodesic distance and
    // altitude difference at the 3-D closest approach f = 264/348.
    let fix = |r: &Report| OFix::stored(r);
    let f3 = 264.0 / 348.0;
    let tt = start.0 as f64 + f3 * hour;
    let (pa, pb) = (
        interpolate(&fix(&reports[0]), &fix(&reports[1]), tt),
        interpolate(&fix(&reports[2]), &fix(&reports[3]), tt),
    );
    let h = distance_m((pa.lon, pa.lat), (pb.lon, pb.lat));
    let d3 = (h * h + (pa.alt.unwrap() - pb.alt.unwrap()).powi(2)).sqrt() / unit;
    let published = fx["published_distance"].as_f64().unwrap();
    assert!(
        (d3 - published).abs() < 1e-4 * published,
        "{d3} vs {published}"
    );
}

// ---------------------------------------------------------------------------------------------
// Two aircraft on crossing tracks
// ---------------------------------------------------------------------------------------------

#[test]
fn crossing_tracks_hand_computed_cpa() {
    // A: east along the equator, lon −0.5° → 0.5° in 600 s. B: north along lon 0,
    // lat −0.5° → 0.5° in 600 s, 30 s later. Both at 5000 m. Locally (metres from (0, 0)):
    // A = (va (t − 300), 0), B = (0, vb (t − 330)) with va = 1° lon / 600 s, vb = 1° lat / 600 s.
    let t0 = 1_000_000_000_000i64;
    let reports = vec![
        Report::new("A", "x", Timestamp(t0), -0.5, 0.0, Some(5000.0)).unwrap(),
        Report::new("A", "x", Timestamp(t0 + 600_000), 0.5, 0.0, Some(5000.0)).unwrap(),
        Report::new("B", "x", Timestamp(t0 + 30_000), 0.0, -0.5, Some(5000.0)).unwrap(),
        Report::new("B", "x", Timestamp(t0 + 630_000), 0.0, 0.5, Some(5000.0)).unwrap(),
    ];
    let m = Minima {
        max_gap_ms: 600_000,
        ..Minima::default()
    };
    let (va, vb) = (M_PER_DEG_LON / 600.0, M_PER_DEG_LAT / 600.0);
    let (a2, b2) = (va * va, vb * vb);
    let t_cpa = (a2 * 300.0 + b2 * 330.0) / (a2 + b2);
    let d_cpa = 30.0 * va * vb / (a2 + b2).sqrt();
    // d(t)² = a2 (t−300)² + b2 (t−330)² = H²
    let (qa, qb, qc) = (
        a2 + b2,
        -2.0 * (a2 * 300.0 + b2 * 330.0),
        a2 * 90_000.0 + b2 * 108_900.0 - m.horizontal_m.powi(2),
    );
    let disc = (qb * qb - 4.0 * qa * qc).sqrt();
    let (s, e) = ((-qb - disc) / (2.0 * qa), (-qb + disc) / (2.0 * qa));
    assert!((d_cpa - 3922.4).abs() < 1.0, "{d_cpa}");
    let (_d, engine) = engine_with(&reports, vec![], vec![]);
    let eps: Vec<_> = engine
        .snapshot()
        .conflicts(TimeRange::ALL, &m)
        .unwrap()
        .collect();
    assert_eq!(eps.len(), 1, "{eps:?}");
    let ep = &eps[0];
    assert_eq!((ep.a.as_str(), ep.b.as_str()), ("A", "B"));
    assert!(
        (ep.min_distance_m - d_cpa).abs() < 0.05,
        "{} vs {d_cpa}",
        ep.min_distance_m
    );
    assert!(
        ((ep.cpa_time.0 - t0) as f64 - t_cpa * 1000.0).abs() <= 2.0,
        "{ep:?} vs {t_cpa}"
    );
    assert!(
        ((ep.start.0 - t0) as f64 - s * 1000.0).abs() <= 2.0,
        "{ep:?} vs {s}"
    );
    assert!(
        ((ep.end.0 - t0) as f64 - e * 1000.0).abs() <= 2.0,
        "{ep:?} vs {e}"
    );
    // 301 m apart vertically: separated
    let mut r2 = reports.clone();
    for r in &mut r2[2..] {
        r.alt = Some(5301.0);
    }
    let (_d2, engine) = engine_with(&r2, vec![], vec![]);
    assert_eq!(
        engine
            .snapshot()
            .conflicts(TimeRange::ALL, &m)
            .unwrap()
            .count(),
        0
    );
    // B's altitude unknown: unknown never separates
    for r in &mut r2[2..] {
        r.alt = None;
    }
    let (_d3, engine) = engine_with(&r2, vec![], vec![]);
    assert_eq!(
        engine
            .snapshot()
            .conflicts(TimeRange::ALL, &m)
            .unwrap()
            .count(),
        1
    );
}

// ---------------------------------------------------------------------------------------------
// check: zones, lead time, own tracks, presence, target areas, identity
// ---------------------------------------------------------------------------------------------

fn base_op() -> Operation {
    op(
        "op-1",
        &[(35.0, 35.0), (35.5, 35.0)],
        (36.0, 35.5),
        (3000.0, 9000.0),
        2000.0,
    )
}

#[test]
fn target_inside_an_off_limits_zone() {
    let zones = vec![
        square(
            "hospital",
            ZoneKind::OffLimits,
            (35.99, 35.49, 36.01, 35.51),
        ),
        square("museum", ZoneKind::Protected, (36.5, 36.0, 36.6, 36.1)),
    ];
    let (_d, engine) = engine_with(&[], zones, vec![]);
    let r = engine
        .snapshot()
        .check(&base_op(), &Minima::default())
        .unwrap();
    assert!(!r.deconflicted);
    assert_eq!(kinds(&r), vec![(ConflictKind::Zone, "hospital".into())]);
    let c = &r.conflicts[0];
    assert_eq!(c.volume, "target");
    assert_eq!(c.distance_m, Some(0.0));
    assert_eq!(c.zone_kind, Some(ZoneKind::OffLimits));
    // clipped to the window widened by the time buffer
    assert_eq!(
        (c.start, c.end),
        (t("2016-07-21T21:55:00Z"), t("2016-07-21T23:35:00Z"))
    );
}

#[test]
fn lead_time_edges() {
    let (_d, engine) = engine_with(&[], vec![], vec![]);
    let mut o = base_op();
    o.filed_at = t("2016-07-20T22:01:00Z"); // 23 h 59 min before 22:00 the next day
    let r = engine.snapshot().check(&o, &Minima::default()).unwrap();
    assert_eq!(kinds(&r), vec![(ConflictKind::LeadTime, String::new())]);
    assert_eq!(
        (r.conflicts[0].start, r.conflicts[0].end),
        (t("2016-07-20T22:00:00Z"), t("2016-07-20T22:01:00Z"))
    );
    o.filed_at = t("2016-07-20T22:00:00Z"); // exactly 24 h
    assert!(
        engine
            .snapshot()
            .check(&o, &Minima::default())
            .unwrap()
            .deconflicted
    );
}

/// A track flying leg 1 of `base_op` at 5000 m from 22:10 to 22:20, one report every 20 s.
fn on_route(id: &str) -> Vec<Report> {
    (0..=30)
        .map(|i| {
            let lon = 35.0 + 0.5 * f64::from(i) / 30.0;
            Report::new(
                id,
                "blue",
                t("2016-07-21T22:10:00Z").offset(i64::from(i) * 20_000),
                lon,
                35.0,
                Some(5000.0),
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn own_tracks_never_conflict() {
    let (_d, engine) = engine_with(&on_route("BLUE-101"), vec![], vec![]);
    let mut o = base_op();
    let r = engine.snapshot().check(&o, &Minima::default()).unwrap();
    assert_eq!(kinds(&r), vec![(ConflictKind::Track, "BLUE-101".into())]);
    assert_eq!(r.conflicts[0].distance_m, Some(0.0));
    o.own_tracks = vec!["BLUE-101".into()];
    assert!(
        engine
            .snapshot()
            .check(&o, &Minima::default())
            .unwrap()
            .deconflicted
    );
}

#[test]
fn presence_zones_never_conflict() {
    let mut z = square("crowd", ZoneKind::Presence, (34.9, 34.9, 36.1, 35.6)); // covers route and target
    z.alt_min = Some(0.0);
    let (_d, engine) = engine_with(&[], vec![z], vec![]);
    assert!(
        engine
            .snapshot()
            .check(&base_op(), &Minima::default())
            .unwrap()
            .deconflicted
    );
}

#[test]
fn target_area_rules() {
    let m = Minima::default();
    // a designated area over the route (overlapping it is fine) but not over the target
    let mut over_route = square("ta-route", ZoneKind::TargetArea, (34.9, 34.9, 35.6, 35.1));
    let (_d, engine) = engine_with(&[], vec![over_route.clone()], vec![]);
    let r = engine.snapshot().check(&base_op(), &m).unwrap();
    assert_eq!(kinds(&r), vec![(ConflictKind::TargetArea, String::new())]);
    // another area containing the target: mutually selected
    let on_target = square("ta-target", ZoneKind::TargetArea, (35.9, 35.4, 36.1, 35.6));
    let (_d, engine) = engine_with(&[], vec![over_route.clone(), on_target], vec![]);
    assert!(
        engine
            .snapshot()
            .check(&base_op(), &m)
            .unwrap()
            .deconflicted
    );
    // areas valid only until 5 min 1 ms before the window: none designated during it
    over_route.validity =
        TimeRange::new(t("2016-07-21T00:00:00Z"), t("2016-07-21T21:54:59.999Z")).unwrap();
    let (_d, engine) = engine_with(&[], vec![over_route.clone()], vec![]);
    assert!(
        engine
            .snapshot()
            .check(&base_op(), &m)
            .unwrap()
            .deconflicted
    );
    // … until exactly 5 min before: designated (the window widened by the time buffer)
    over_route.validity.end = t("2016-07-21T21:55:00Z");
    let (_d, engine) = engine_with(&[], vec![over_route], vec![]);
    assert_eq!(
        kinds(&engine.snapshot().check(&base_op(), &m).unwrap()),
        vec![(ConflictKind::TargetArea, String::new())]
    );
}

#[test]
fn operation_identity() {
    let m = Minima::default();
    let same = base_op();
    let mut other = base_op();
    other.id = "op-2".into();
    let (_d, engine) = engine_with(&[], vec![], vec![same.clone(), other.clone()]);
    let snap = engine.snapshot();
    // the same id never conflicts; op-2 does (same route, time, band)
    let r = snap.check(&same, &m).unwrap();
    assert_eq!(kinds(&r), vec![(ConflictKind::Operation, "op-2".into())]);
    assert_eq!(r.conflicts[0].distance_m, Some(0.0));
    // a plan moving op-2 far away supersedes the indexed op-2
    let mut moved = other.clone();
    moved.route = vec![
        Waypoint {
            lon: 10.0,
            lat: 10.0,
            time: None,
        },
        Waypoint {
            lon: 10.5,
            lat: 10.0,
            time: None,
        },
    ];
    moved.target = Target {
        lon: 10.2,
        lat: 10.2,
        radius_m: 0.0,
    };
    let batch = snap.check_batch(&[same.clone(), moved], &m).unwrap();
    assert!(batch.iter().all(|r| r.deconflicted), "{batch:?}");
    // and a plan op-2 in the same place conflicts with op-1 both ways
    let batch = snap.check_batch(&[same, other], &m).unwrap();
    assert_eq!(
        kinds(&batch[0]),
        vec![(ConflictKind::Operation, "op-2".into())]
    );
    assert_eq!(
        kinds(&batch[1]),
        vec![(ConflictKind::Operation, "op-1".into())]
    );
}

// ---------------------------------------------------------------------------------------------
// Intersection precision at zero minima: 1 cm overlap conflicts, 1 cm separation does not
// ---------------------------------------------------------------------------------------------

const ZERO: Minima = Minima {
    horizontal_m: 0.0,
    vertical_m: 0.0,
    time_buffer_ms: 0,
    lead_time_ms: 86_400_000,
    max_gap_ms: 60_000,
};

#[test]
fn zero_minima_are_valid() {
    assert!(ZERO.validate().is_ok());
}

/// Leg along the equator from lon −0.001 to the zone's west edge (lon 0.001) ± 1 cm.
#[test]
fn precision_leg_vs_zone_polygon() {
    let zone = square("z", ZoneKind::AirDefense, (0.001, -0.001, 0.002, 0.001));
    let (_d, engine) = engine_with(&[], vec![zone], vec![]);
    for (cm, conflict) in [(1.0, true), (-1.0, false)] {
        let end = 0.001 + cm * 0.01 / M_PER_DEG_LON;
        let o = op(
            "op",
            &[(-0.001, 0.0), (end, 0.0)],
            (-0.001, 0.0),
            (1000.0, 2000.0),
            0.0,
        );
        let r = engine.snapshot().check(&o, &ZERO).unwrap();
        assert_eq!(!r.deconflicted, conflict, "{cm} cm: {r:?}");
        // the same with a corridor: leg ends 10 m short, corridor 10 m ± 1 cm
        let short = 0.001 - 10.0 / M_PER_DEG_LON;
        let mut o = op(
            "op",
            &[(-0.001, 0.0), (short, 0.0)],
            (-0.001, 0.0),
            (1000.0, 2000.0),
            0.0,
        );
        o.corridor_m = distance_m((short, 0.0), (0.001, 0.0)) + cm * 0.01;
        let r = engine.snapshot().check(&o, &ZERO).unwrap();
        assert_eq!(!r.deconflicted, conflict, "corridor {cm} cm: {r:?}");
    }
    // bands 1 cm apart / overlapping by 1 cm
    let mut zone = square("z", ZoneKind::AirDefense, (0.001, -0.001, 0.002, 0.001));
    zone.alt_max = Some(1000.0);
    let (_d, engine) = engine_with(&[], vec![zone], vec![]);
    for (lo, conflict) in [(999.99, true), (1000.01, false)] {
        let o = op(
            "op",
            &[(-0.001, 0.0), (0.0015, 0.0)],
            (-0.001, 0.0),
            (lo, 2000.0),
            0.0,
        );
        assert_eq!(
            !engine.snapshot().check(&o, &ZERO).unwrap().deconflicted,
            conflict,
            "band from {lo}"
        );
    }
}

/// Two legs along meridians lon 0 and lon 0.002; corridors summing to their distance ± 1 cm.
#[test]
fn precision_leg_vs_leg() {
    let d = distance_m((0.0, 0.0), (0.002, 0.0));
    for (cm, conflict) in [(1.0, true), (-1.0, false)] {
        let a = op(
            "a",
            &[(0.0, -0.01), (0.0, 0.01)],
            (0.0, 0.0),
            (1000.0, 2000.0),
            50.0,
        );
        let b = op(
            "b",
            &[(0.002, -0.01), (0.002, 0.01)],
            (0.002, 0.0),
            (1000.0, 2000.0),
            d - 50.0 + cm * 0.01,
        );
        let (_d, engine) = engine_with(&[], vec![], vec![b]);
        let r = engine.snapshot().check(&a, &ZERO).unwrap();
        assert_eq!(!r.deconflicted, conflict, "{cm} cm: {r:?}");
    }
    // overlapping footprints; bands overlapping by 1 cm / 1 cm apart
    for (lo, conflict) in [(1999.99, true), (2000.01, false)] {
        let a = op(
            "a",
            &[(0.0, -0.01), (0.0, 0.01)],
            (0.0, 0.0),
            (1000.0, 2000.0),
            50.0,
        );
        let b = op(
            "b",
            &[(0.0, -0.01), (0.0, 0.01)],
            (0.0, 0.0),
            (lo, 3000.0),
            50.0,
        );
        let (_d, engine) = engine_with(&[], vec![], vec![b]);
        assert_eq!(
            !engine.snapshot().check(&a, &ZERO).unwrap().deconflicted,
            conflict,
            "band from {lo}"
        );
    }
}

/// A track along lon 0.002 (stored exactly) against a leg along lon 0, corridor = distance ± 1 cm;
/// and its altitude 1 cm inside / outside the band.
#[test]
fn precision_track_vs_leg() {
    let start = t("2016-07-21T22:10:00Z");
    let track = |lon: f64, alt: f64| -> Vec<Report> {
        (0..=10)
            .map(|i| {
                Report::new(
                    "T",
                    "red",
                    start.offset(i * 10_000),
                    lon,
                    -0.005 + 0.001 * i as f64,
                    Some(alt),
                )
                .unwrap()
            })
            .collect()
    };
    let d = distance_m((0.0, 0.0), (0.002, 0.0));
    let (_d, engine) = engine_with(&track(0.002, 1500.0), vec![], vec![]);
    for (cm, conflict) in [(1.0, true), (-1.0, false)] {
        let o = op(
            "op",
            &[(0.0, -0.01), (0.0, 0.01)],
            (0.0, 0.02),
            (1000.0, 2000.0),
            d + cm * 0.01,
        );
        let r = engine.snapshot().check(&o, &ZERO).unwrap();
        assert_eq!(!r.deconflicted, conflict, "{cm} cm: {r:?}");
    }
    for (alt, conflict) in [(1999.99, true), (2000.01, false)] {
        let (_d, engine) = engine_with(&track(0.002, alt), vec![], vec![]);
        let o = op(
            "op",
            &[(0.0, -0.01), (0.0, 0.01)],
            (0.0, 0.02),
            (1000.0, 2000.0),
            d + 1.0,
        );
        assert_eq!(
            !engine.snapshot().check(&o, &ZERO).unwrap().deconflicted,
            conflict,
            "alt {alt}"
        );
    }
}
