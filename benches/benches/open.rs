//! Time to the first answer: `Engine::open` of an index on disk plus the first small-window
//! query (which also verifies the checksums of the runs it touches), against `rstar` 0.14
//! `bulk_load` of the same reports plus the same query. The index files are in the page
//! cache (warm open); the fleet's reports are already in memory for rstar.
//!
//! `DECONFLICT_BENCH_REPORTS=10000000 cargo bench -p deconflict-benches --bench open`

use std::hint::black_box;

use criterion::Criterion;
use deconflict_benches::{
    Flat, Fleet, PointTree, Queries, bench_reports, cached_index, engine_window,
};
use deconflict_engine::Engine;

fn main() {
    let n = bench_reports();
    let fleet = Fleet::new(n);
    let (dir, engine) = cached_index(&fleet);
    drop(engine);
    let flat = Flat::new(&fleet);
    let q = Queries::new(&flat, 1, 5).small.remove(0);
    let expect = flat.scan_window(&q);
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group(format!("open_{n}"));
    g.bench_function("deconflict_open", |b| {
        b.iter(|| black_box(Engine::open(&dir).expect("open")));
    });
    g.bench_function("deconflict_open_first_query", |b| {
        b.iter(|| {
            let engine = Engine::open(&dir).expect("open");
            assert_eq!(engine_window(&engine, &q), expect);
            engine
        });
    });
    g.bench_function("rstar_bulk_load_first_query", |b| {
        b.iter(|| {
            let tree = PointTree::new(&flat);
            assert_eq!(tree.window(&q), expect);
            tree
        });
    });
    g.finish();
    c.final_summary();
}
