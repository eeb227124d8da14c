//! WKT polygons for `query --polygon`: never panic; an accepted area answers containment.
#![no_main]
use deconflict_engine::query::Area;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(area) = Area::polygon_from_wkt(s) {
        let b = area.bbox();
        assert!(
            b.west.is_finite() && b.south.is_finite() && b.east.is_finite() && b.north.is_finite()
        );
        for (lon, lat) in [
            (0.0, 0.0),
            (b.west, b.south),
            (b.east, b.north),
            (180.0, 90.0),
        ] {
            let _ = area.contains(lon, lat);
        }
    }
});
