//! The benchmark fixtures agree: the engine, the rstar trees and the brute-force scans return
//! the same answers on a small fleet (the benches assert the same at full size before timing).

use deconflict_benches::{
    Flat, Fleet, PieceTree, PointTree, Queries, build_index, check_agreement,
};

#[test]
fn engine_rstar_and_brute_force_agree() {
    let fleet = Fleet::new(50_000);
    let dir = tempfile::tempdir().unwrap();
    let engine = build_index(dir.path(), fleet.reports());
    let flat = Flat::new(&fleet);
    assert_eq!(flat.pts.len(), 50_000);
    let points = PointTree::new(&flat);
    let pieces = PieceTree::new(&flat);
    for q in [
        Queries::new(&flat, 16, 1),
        Queries::for_fleet(&fleet, 16, 2),
    ] {
        let means = check_agreement(&engine, &flat, &points, &pieces, &q);
        let small = means.iter().find(|(k, _)| *k == "small").unwrap().1;
        assert!(small > 0.0, "queries centred on reports find some");
    }
}

#[test]
fn report_at_regenerates_the_stream() {
    let fleet = Fleet::new(3_000);
    let flat = Flat::new(&fleet);
    for (e, j) in [(0u32, 0u64), (1, 719), (3, 5)] {
        assert_eq!(fleet.report_at(e, j), flat.entity(e)[j as usize]);
    }
}
