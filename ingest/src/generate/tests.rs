use super::*;
use deconflict_engine::geodesy::distance_m;
use std::collections::{HashMap, HashSet};

fn small(seed: u64) -> GenConfig {
    GenConfig {
        entities: 40,
        hours: 0.25,
        interval_s: 2.0,
        seed,
        ..GenConfig::default()
    }
}

fn bytes(s: &Scenario) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut t = Vec::new();
    s.write_tracks_csv(&mut t).unwrap();
    let mut o = Vec::new();
    s.operations_ndjson(&mut o).unwrap();
    (t, serde_json::to_vec(&s.zones_geojson()).unwrap(), o)
}

#[test]
fn reproducible_files() {
    let dir1 = tempfile::tempdir().unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let cfg = small(7);
    let a = generate(&cfg, dir1.path()).unwrap();
    let b = generate(&cfg, dir2.path()).unwrap();
    assert_eq!(a.reports, b.reports);
    for f in ["tracks.csv", "zones.geojson", "operations.ndjson"] {
        let x = std::fs::read(dir1.path().join(f)).unwrap();
        let y = std::fs::read(dir2.path().join(f)).unwrap();
        assert!(!x.is_empty() && x == y, "{f} differs");
    }
    let other = bytes(&scenario(&small(8)));
    let same = bytes(&scenario(&cfg));
    assert_ne!(other.0, same.0);
    assert_ne!(other.1, same.1);
    assert_ne!(other.2, same.2);
}

#[test]
fn written_files_parse_back_to_the_scenario() {
    let s = scenario(&small(4));
    let text = serde_json::to_string_pretty(&s.zones_geojson()).unwrap();
    let zones = crate::parse_objects::parse_zones("zones.geojson", &text).unwrap();
    assert_eq!(zones.rejects, vec![]);
    let zones: Vec<Zone> = zones.items.into_iter().map(|(_, z)| z).collect();
    assert_eq!(zones, s.zones);
    let mut buf = Vec::new();
    s.operations_ndjson(&mut buf).unwrap();
    let ops =
        crate::parse_objects::parse_operations("ops.ndjson", std::str::from_utf8(&buf).unwrap())
            .unwrap();
    assert_eq!(ops.rejects, vec![]);
    let ops: Vec<Operation> = ops.items.into_iter().map(|(_, o)| o).collect();
    assert_eq!(ops, s.operations);
    let collection = s.zones_geojson();
    let names: HashSet<&str> = collection["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["name"].as_str().unwrap())
        .collect();
    assert!(names.contains("hospital"), "{names:?}");
}

#[test]
fn counts_agree() {
    let s = scenario(&small(1));
    let n = s.report_count();
    assert!(n > 5000, "{n}");
    assert_eq!(s.reports().count() as u64, n);
    assert_eq!(s.reports_by_entity().count() as u64, n);
    assert_eq!(s.write_tracks_csv(io::sink()).unwrap(), n);
    assert_eq!(s.write_tracks_ndjson(io::sink()).unwrap(), n);
    let sum: u64 = s.entities.iter().map(EntityPlan::report_count).sum();
    assert_eq!(sum, n);
}

#[test]
fn default_is_about_a_million() {
    let s = scenario(&GenConfig::default());
    let n = s.report_count();
    assert!((700_000..1_100_000).contains(&n), "{n}");
    assert!(
        (20..=100).contains(&s.operations.len()),
        "{}",
        s.operations.len()
    );
    assert!((20..=50).contains(&s.zones.len()));
}

#[test]
fn reports_are_valid_and_realistic() {
    let s = scenario(&small(3));
    let mut last: HashMap<String, Report> = HashMap::new();
    let mut prev_t = i64::MIN;
    let (mut long_gaps, mut crossings, mut arctic, mut unknown_alt) = (0, 0, 0, 0);
    let sides: HashSet<String> = s.reports().map(|r| r.side).collect();
    assert!(sides.len() >= 4, "{sides:?}");
    for r in s.reports() {
        r.validate().unwrap();
        assert!(s.span.contains(r.time), "{r:?} outside {:?}", s.span);
        assert!(r.time.0 >= prev_t, "not in global time order");
        prev_t = r.time.0;
        arctic += usize::from(r.lat > 75.0);
        unknown_alt += usize::from(r.alt.is_none());
        if let Some(p) = last.get(&r.id) {
            let dt = (r.time.0 - p.time.0) as f64 / 1000.0;
            assert!(dt > 0.0, "times not increasing for {}", r.id);
            let d = distance_m((p.lon, p.lat), (r.lon, r.lat));
            assert!(d / dt < 350.0, "{} at {} m/s", r.id, d / dt);
            if let (Some(a), Some(b)) = (p.alt, r.alt) {
                assert!(
                    (a - b).abs() / dt < 60.0,
                    "{} climbs at {} m/s",
                    r.id,
                    (a - b).abs() / dt
                );
            }
            long_gaps += usize::from(dt > 60.0);
            crossings += usize::from((r.lon - p.lon).abs() > 180.0);
        }
        last.insert(r.id.clone(), r);
    }
    assert!(long_gaps > 0, "no gap over 60 s");
    assert!(crossings > 0, "nobody crosses the antimeridian");
    assert!(arctic > 0, "nobody at high latitude");
    assert!(unknown_alt > 0, "no unknown altitude");
    assert!(s.entities.iter().any(|e| !e.gaps.is_empty()));
    let starts: HashSet<i64> = s.entities.iter().map(|e| e.start.0).collect();
    assert!(
        starts.len() > 10,
        "entities should start at different times"
    );
}

#[test]
fn csv_round_trips_to_the_streamed_reports() {
    let s = scenario(&GenConfig {
        entities: 12,
        hours: 0.1,
        interval_s: 3.0,
        seed: 5,
        ..GenConfig::default()
    });
    for fmt in [TimeFormat::EpochMs, TimeFormat::Rfc3339] {
        let mut buf = Vec::new();
        s.write_tracks_csv_with(&mut buf, fmt).unwrap();
        let mut rd = csv::Reader::from_reader(&buf[..]);
        assert_eq!(
            rd.headers().unwrap(),
            vec!["id", "side", "time", "lon", "lat", "alt"]
        );
        let mut n = 0;
        for (row, r) in rd.records().zip(s.reports()) {
            let row = row.unwrap();
            assert_eq!(&row[0], r.id);
            assert_eq!(&row[1], r.side);
            assert_eq!(Timestamp::parse(&row[2]).unwrap(), r.time);
            if fmt == TimeFormat::Rfc3339 {
                assert_eq!(row[2], r.time.to_string());
            }
            assert_eq!(row[3].parse::<f64>().unwrap(), r.lon);
            assert_eq!(row[4].parse::<f64>().unwrap(), r.lat);
            assert_eq!(
                if row[5].is_empty() {
                    None
                } else {
                    Some(row[5].parse::<f64>().unwrap())
                },
                r.alt
            );
            n += 1;
        }
        assert_eq!(n as u64, s.report_count());
    }
    let mut nd = Vec::new();
    s.write_tracks_ndjson(&mut nd).unwrap();
    for (line, r) in nd
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .zip(s.reports())
    {
        let v: Value = serde_json::from_slice(line).unwrap();
        assert_eq!(v["id"], r.id.as_str());
        assert_eq!(v["time"], r.time.to_string().as_str());
        assert_eq!(v["lon"].as_f64().unwrap(), r.lon);
        assert_eq!(v["alt"].as_f64(), r.alt);
    }
}

#[test]
fn fixed_point_formatting() {
    let f = |v: i64, s: u32| {
        let mut b = Vec::new();
        push_fixed(&mut b, v, s);
        String::from_utf8(b).unwrap()
    };
    assert_eq!(f(366_100_000, 7), "36.61");
    assert_eq!(f(-5, 7), "-0.0000005");
    assert_eq!(f(-1_800_000_000, 7), "-180");
    assert_eq!(f(12_345, 1), "1234.5");
    assert_eq!(f(0, 1), "0");
    let mut b = Vec::new();
    let mut r = Rfc3339::default();
    for ms in [0i64, 1_469_131_200_123, 1_469_217_599_999, -1] {
        b.clear();
        r.push(&mut b, ms);
        assert_eq!(
            String::from_utf8(b.clone()).unwrap(),
            Timestamp(ms).to_string()
        );
    }
}

#[test]
fn zones_have_the_contract_fields() {
    let s = scenario(&small(2));
    let v = s.zones_geojson();
    assert_eq!(v["type"], "FeatureCollection");
    let feats = v["features"].as_array().unwrap();
    assert!((20..=50).contains(&feats.len()));
    let mut ids = HashSet::new();
    let mut kinds = HashSet::new();
    let mut geoms = HashSet::new();
    let (mut timed, mut alt_min, mut alt_max) = (0, 0, 0);
    for f in feats {
        let p = &f["properties"];
        assert!(
            ids.insert(p["id"].as_str().unwrap().to_owned()),
            "duplicate id"
        );
        kinds.insert(p["kind"].as_str().unwrap().to_owned());
        assert!(p["side"].is_string());
        let g = f["geometry"]["type"].as_str().unwrap();
        geoms.insert(g.to_owned());
        match g {
            "Point" => assert!(p["radius_m"].as_f64().unwrap() > 0.0),
            "Polygon" => {
                for ring in f["geometry"]["coordinates"].as_array().unwrap() {
                    let ring = ring.as_array().unwrap();
                    assert!(ring.len() >= 4 && ring[0] == ring[ring.len() - 1]);
                }
            }
            "MultiPolygon" => assert!(f["geometry"]["coordinates"].as_array().unwrap().len() >= 2),
            other => panic!("{other}"),
        }
        if let Some(st) = p.get("start") {
            let (a, b) = (
                Timestamp::parse(st.as_str().unwrap()).unwrap(),
                Timestamp::parse(p["end"].as_str().unwrap()).unwrap(),
            );
            assert!(a < b && s.span.contains(a) && s.span.contains(b));
            timed += 1;
        }
        alt_min += usize::from(p.get("alt_min").is_some());
        alt_max += usize::from(p.get("alt_max").is_some());
    }
    for k in [
        "off_limits",
        "protected",
        "air_defense",
        "target_area",
        "presence",
    ] {
        assert!(kinds.contains(k), "no {k}");
    }
    assert_eq!(geoms.len(), 3, "{geoms:?}");
    assert!(timed > 0 && alt_min > 0 && alt_max > 0);
}

#[test]
fn operations_have_the_contract_shape_and_planted_conflicts() {
    let s = scenario(&GenConfig::default());
    let mut buf = Vec::new();
    s.operations_ndjson(&mut buf).unwrap();
    let lines: Vec<&[u8]> = buf
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), s.operations.len());
    assert!((20..=100).contains(&lines.len()), "{}", lines.len());
    for l in &lines {
        let v: Value = serde_json::from_slice(l).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        for k in [
            "id",
            "side",
            "filed_at",
            "method",
            "composition",
            "target",
            "window",
            "altitude_m",
            "corridor_m",
            "route",
            "own_tracks",
        ] {
            assert!(keys.contains(&k), "missing {k}");
        }
        assert_eq!(keys.len(), 11);
        let ws = Timestamp::parse(v["window"]["start"].as_str().unwrap()).unwrap();
        let we = Timestamp::parse(v["window"]["end"].as_str().unwrap()).unwrap();
        assert!(s.span.contains(ws) && s.span.contains(we) && ws < we);
        Timestamp::parse(v["filed_at"].as_str().unwrap()).unwrap();
        assert!(
            v["target"]["lon"].is_number()
                && v["target"]["lat"].is_number()
                && v["target"]["radius_m"].is_number()
        );
        let band = v["altitude_m"].as_array().unwrap();
        assert!(band.len() == 2 && band[0].as_f64() < band[1].as_f64());
        assert!(v["corridor_m"].as_f64().unwrap() > 0.0);
        let route = v["route"].as_array().unwrap();
        assert!(route.len() >= 2);
        let times: Vec<Timestamp> = route
            .iter()
            .map(|p| Timestamp::parse(p["time"].as_str().unwrap()).unwrap())
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] < w[1]) && times[0] == ws && times[times.len() - 1] == we
        );
        assert!(v["own_tracks"].is_array());
    }
    let kinds: HashSet<&str> = s.planted.iter().map(|p| p.kind).collect();
    for k in ["track", "operation", "zone", "target_area", "lead_time"] {
        assert!(kinds.contains(k), "no planted {k}: {:?}", s.planted);
    }
    // Lead time: only the planted one is short.
    let short: Vec<&str> = s
        .operations
        .iter()
        .filter(|o| o.window.start.0 - o.filed_at.0 < 24 * 3_600_000)
        .map(|o| o.id.as_str())
        .collect();
    let planted_lt: Vec<&str> = s
        .planted
        .iter()
        .filter(|p| p.kind == "lead_time")
        .map(|p| p.operation.as_str())
        .collect();
    assert_eq!(short, planted_lt);
    // The trap: own track flying the route.
    let trap = &s.traps[0];
    let op = s
        .operations
        .iter()
        .find(|o| o.id == trap.operation)
        .unwrap();
    assert_eq!(op.own_tracks, vec![trap.with.clone()]);
}

/// Checks every operation against the actual reports with the contract's default minima: the
/// planted track conflict is there and no other operation is touched by a track, including
/// positions interpolated between reports at most 60 s apart.
#[test]
fn clean_operations_are_clear_of_tracks_and_each_other() {
    for cfg in [
        small(11),
        GenConfig {
            entities: 150,
            hours: 0.5,
            interval_s: 4.0,
            seed: 99,
            ..GenConfig::default()
        },
    ] {
        check_clean(&scenario(&cfg));
    }
}

fn check_clean(s: &Scenario) {
    {
        let planted: HashSet<&str> = s.planted.iter().map(|p| p.operation.as_str()).collect();
        let vols: Vec<Vec<Vol>> = s.operations.iter().map(op_vols).collect();
        let mut hits: HashSet<(String, String)> = HashSet::new();
        let mut last: HashMap<String, Report> = HashMap::new();
        let probe =
            |id: &str, t: i64, p: Ll, alt: Option<f64>, hits: &mut HashSet<(String, String)>| {
                for (op, vs) in s.operations.iter().zip(&vols) {
                    if op.own_tracks.iter().any(|o| o == id) {
                        continue;
                    }
                    for v in vs {
                        if t < v.t0 - T_BUF || t > v.t1 + T_BUF {
                            continue;
                        }
                        if alt.is_some_and(|a| a < v.lo - V_SEP || a > v.hi + V_SEP) {
                            continue;
                        }
                        if foot_point(v.foot, p) < H_SEP + v.half {
                            hits.insert((op.id.clone(), id.to_owned()));
                        }
                    }
                }
            };
        for r in s.reports() {
            probe(&r.id, r.time.0, (r.lon, r.lat), r.alt, &mut hits);
            if let Some(q) = last.get(&r.id)
                && r.time.0 - q.time.0 <= 60_000
            {
                let steps = (r.time.0 - q.time.0) / 5000;
                for k in 1..=steps {
                    let f = k as f64 / (steps + 1) as f64;
                    let lon = wrap_lon(q.lon + lon_delta(q.lon, r.lon) * f);
                    let lat = q.lat + (r.lat - q.lat) * f;
                    let alt = q.alt.zip(r.alt).map(|(a, b)| a + (b - a) * f);
                    let t = q.time.0 + ((r.time.0 - q.time.0) as f64 * f) as i64;
                    probe(&r.id, t, (lon, lat), alt, &mut hits);
                }
            }
            last.insert(r.id.clone(), r);
        }
        for (op, id) in &hits {
            let expected = s
                .planted
                .iter()
                .any(|p| p.kind == "track" && &p.operation == op && &p.with == id);
            assert!(
                expected || planted.contains(op.as_str()),
                "{op} conflicts with track {id}"
            );
        }
        for p in s.planted.iter().filter(|p| p.kind == "track") {
            assert!(
                hits.contains(&(p.operation.clone(), p.with.clone())),
                "planted {p:?} not found"
            );
        }
        // Operation pairs: only the planted pair shares airspace.
        for (i, a) in s.operations.iter().enumerate() {
            for (j, b) in s.operations.iter().enumerate().skip(i + 1) {
                let close = vols[i].iter().any(|x| {
                    vols[j].iter().any(|y| {
                        x.t0 - T_BUF <= y.t1 + T_BUF
                            && y.t0 - T_BUF <= x.t1 + T_BUF
                            && x.lo - V_SEP < y.hi
                            && y.lo - V_SEP < x.hi
                            && foot_foot(x.foot, y.foot) < H_SEP + x.half + y.half
                    })
                });
                let expected = s
                    .planted
                    .iter()
                    .any(|p| p.kind == "operation" && p.operation == a.id && p.with == b.id);
                assert_eq!(close, expected, "{} vs {}", a.id, b.id);
            }
        }
        // Zones: clean operations are clear; targets of clean operations lie in target areas.
        // The plans (with bounding circles) are re-made from the same seed.
        let (plans, _) = make_zones(&mut rng_for(s.config.seed, 1), s.span);
        assert!(plans.iter().map(|p| &p.zone).eq(&s.zones));
        for (op, vs) in s.operations.iter().zip(&vols) {
            if planted.contains(op.id.as_str()) {
                continue;
            }
            for p in plans.iter().filter(|p| blocks(p.zone.kind)) {
                assert!(
                    !vs.iter().any(|v| vol_zone_close(v, p)),
                    "{} touches {}",
                    op.id,
                    p.zone.id
                );
            }
            let t = (op.target.lon, op.target.lat);
            assert!(
                plans.iter().any(|p| p.zone.kind == ZoneKind::TargetArea
                    && p.zone.validity == TimeRange::ALL
                    && dist(t, p.center) < p.radius * 0.6),
                "{} target outside target areas",
                op.id
            );
        }
    }
}

/// `cargo test --release -p deconflict-ingest --lib generate::tests::stats -- --ignored --nocapture`
#[test]
#[ignore = "manual: prints statistics and timings"]
fn stats() {
    let entities: usize = std::env::var("GEN_ENTITIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let t = std::time::Instant::now();
    let seed: u64 = std::env::var("GEN_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(42);
    let s = scenario(&GenConfig {
        entities,
        seed,
        ..GenConfig::default()
    });
    eprintln!("scenario: {:?}", t.elapsed());
    eprintln!(
        "reports {} ops {} zones {}",
        s.report_count(),
        s.operations.len(),
        s.zones.len()
    );
    for p in &s.planted {
        eprintln!("planted {p:?}");
    }
    for p in &s.traps {
        eprintln!("trap {p:?}");
    }
    let fell_back = s
        .entities
        .iter()
        .filter(|e| e.bbox().e < 32.0 && e.bbox().w > 20.0)
        .count();
    eprintln!("fallback entities {fell_back}");
    let t = std::time::Instant::now();
    let n = s.write_tracks_csv(io::sink()).unwrap();
    eprintln!("csv {n} rows: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let n = s.reports().count();
    eprintln!("reports() {n}: {:?}", t.elapsed());
    let mut b = Vec::new();
    s.operations_ndjson(&mut b).unwrap();
    eprintln!("{}", String::from_utf8_lossy(&b).lines().next().unwrap());
    if let Ok(dir) = std::env::var("GEN_OUT") {
        eprintln!(
            "{:?}",
            generate(
                &GenConfig {
                    entities,
                    seed,
                    ..GenConfig::default()
                },
                Path::new(&dir)
            )
            .unwrap()
        );
    }
    let t = std::time::Instant::now();
    check_clean(&s);
    eprintln!("checked clean: {:?}", t.elapsed());
}

#[test]
fn degenerate_configs_do_not_panic() {
    for (entities, hours, interval_s) in [
        (0, 0.0, 1.0),
        (1, 0.01, 600.0),
        (3, 0.05, 0.5),
        (5, 2.0, 30.0),
        (12, -1.0, 1.0),
    ] {
        let s = scenario(&GenConfig {
            entities,
            hours,
            interval_s,
            ..GenConfig::default()
        });
        assert_eq!(s.entities.len(), entities);
        assert_eq!(s.reports().count() as u64, s.report_count());
        for r in s.reports() {
            r.validate().unwrap();
            assert!(s.span.contains(r.time));
        }
    }
}
