//! Push into a shard, and scrape (collect, merge, render, gzip) at 1M series.
//!
//! Run with: `cargo bench --bench render`
//!
//! - `shard_push/put_1000_groups`: sanitise + store one 4-series push (text
//!   parse included) into an empty store, over 1000 grouping keys.
//! - `shard_push/put_load_body_1000_groups`: the same with the load
//!   script's ~1 KB body, through the general path (sanitised copy, index).
//! - `shard_push/refresh_load_body_1000_groups`: that body pushed again to
//!   groups that hold the same families: parse, then values set in place.
//! - `shard_push/refresh_node_1k_100_groups` (and `_proto_`): the text
//!   parse bench's node_1k body (1,000 series; label sets vary within a
//!   family, so the pushed order is not the scrape order) pushed again to
//!   one of 100 groups that hold it, as text and as delimited protobuf:
//!   parse, then values set in place.
//! - `shard_push/post_1000_families`: a group of 1000 families (2000
//!   series) POSTed again through the general path (parse included).
//! - `render/render_100k`: merge and render 1000 groups × 100 series
//!   (10 families × 10 series per group), each family's text cached.
//! - `render/series_text_100k`: the text lines of those series rendered
//!   from their labels and values (what a scrape does once per family
//!   pushed since the last one).
//! - `scrape/*/N`: the store of `benches/load.sh` after `populate.py`: N =
//!   `PUSHGATE_BENCH_GROUPS` (default 10,000 under `cargo bench`, 100 under
//!   `cargo test --benches`) groups × 100 series of one gauge family, spread
//!   over two shards as on a 2-core server. `families` is collecting the
//!   shards' `Arc`s, `merge` sorting them into scrape order, `render_text`
//!   merge + text (what `GET /metrics` does), `gzip` compressing that output.
//! - `shard_push/put_1000_groups_N_stored`: the push above with that store
//!   present (push cost must not grow with the store).
//!
//! Last results (2-core AMD EPYC VM shared with concurrent builds,
//! 2026-11-22, commit e84455a,
//! `cargo bench --bench render -- --measurement-time 5 --warm-up-time 1`;
//! the `shard_push` rows 2026-12-05 at 0ab2fb2, `--measurement-time 3`):
//!
//! | bench | time | throughput |
//! |---|---|---|
//! | shard_push/put_1000_groups | 1.59 µs | 629k pushes/s |
//! | shard_push/put_load_body_1000_groups | 3.1-3.4 µs (5.19 µs the same day at 0ec9d8c) | 300k pushes/s |
//! | shard_push/refresh_load_body_1000_groups | 2.39 µs (about 1.5 µs of it the parse) | 418k pushes/s |
//! | shard_push/refresh_node_1k_100_groups (2026-12-05; 146-155 µs at 2825608, the same bench run from a worktree) | 117-124 µs | ~8.3k pushes/s, 8M series/s |
//! | shard_push/refresh_node_1k_proto_100_groups (likewise; 190-201 µs at 2825608) | 112-119 µs | ~8.7k pushes/s |
//! | shard_push/post_1000_families (a7390f6, with a CI run on the machine) | 1.14 ms | ~1.8M series/s |
//! | render/render_100k (5.1 MB) | 22.6 ms (5.2 ms at 0ab2fb2) | 215 MiB/s (930 MiB/s) |
//! | render/series_text_100k (2026-12-05, after the plain-decimal float shortcut; 11.4 ms just before it, 10.4 ms at 0ab2fb2 on a quieter machine) | 9.88 ms | 99 ns per series |
//! | scrape/families/1000000 | 1.17 ms | |
//! | scrape/merge/1000000 | 32.6 ms | 31M series/s |
//! | scrape/render_text/1000000 (76.5 MB) | 116 ms | 630 MiB/s |
//! | scrape/gzip/1000000 | 98.3 ms | 742 MiB/s |
//! | shard_push/put_1000_groups_1000000_stored | 1.59 µs | 629k pushes/s (1.00x empty) |
//!
//! Best of three runs (the other two, under load from other builds, were
//! 1.3-2x slower). The bench uses mimalloc, as the server does; the
//! e84455a rows were taken with the system allocator.

use std::sync::Arc;
use std::time::SystemTime;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pushgate::expfmt::{proto, text};
use pushgate::grouping::GroupingKey;
use pushgate::render::{merge, render_text};
use pushgate::store::group::render_series;
use pushgate::store::route::shard_for;
use pushgate::store::sanitize::prepare;
use pushgate::store::Shard;

// As the server: the push path's allocation cost is part of what is measured.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/data.rs"]
mod data;

const BODY: &str = "# HELP batch_job_duration_seconds Duration.\n# TYPE batch_job_duration_seconds gauge\n\
batch_job_duration_seconds{stage=\"extract\"} 12.5\nbatch_job_duration_seconds{stage=\"load\"} 7.75\n\
# TYPE batch_rows_total counter\nbatch_rows_total{table=\"a\"} 100\nbatch_rows_total{table=\"b\"} 200\n";

/// Series per group of the scrape store (as `benches/load.sh`: POP_SERIES=100).
const SERIES_PER_GROUP: usize = 100;

fn push_1000_groups(shard: &mut Shard, i: &mut u64) {
    *i += 1;
    let key = GroupingKey::new("bench", [("instance".to_owned(), format!("i{}", *i % 1000))]);
    let fams = text::parse(BODY.as_bytes()).expect("bench body parses");
    shard.push(prepare(key, true, fams, SystemTime::now())).expect("consistent push")
}

/// The ~1 KB body `benches/load.sh` pushes (12 samples in 4 families, a histogram among them).
const LOAD_BODY: &str = include_str!("support/push_body.txt");

/// PUTs the load body to group `i % 1000` through the general path.
fn put_load_body(shard: &mut Shard, i: u64) {
    let key = GroupingKey::new("bench", [("instance".to_owned(), format!("i{}", i % 1000))]);
    let fams = text::parse(LOAD_BODY.as_bytes()).expect("load body parses");
    shard.push(prepare(key, true, fams, SystemTime::now())).expect("consistent push")
}

fn shard_push(c: &mut Criterion) {
    let mut shard = Shard::new(Arc::default(), true);
    let mut i = 0u64;
    let mut g = c.benchmark_group("shard_push");
    g.throughput(Throughput::Elements(1));
    g.bench_function("put_1000_groups", |b| b.iter(|| push_1000_groups(&mut shard, &mut i)));
    let mut shard = Shard::new(Arc::default(), true);
    g.bench_function("put_load_body_1000_groups", |b| {
        b.iter(|| {
            i += 1;
            put_load_body(&mut shard, i)
        })
    });
    // The same pushes once every group exists: a group pushed again with the
    // same families is updated in place (what the server does on the core
    // that owns the group).
    for j in 0..1000 {
        put_load_body(&mut shard, j);
    }
    // One large group POSTed again: a push must cost time in proportion to
    // its own size, not to its size times the group's.
    let big: String = (0..1000)
        .map(|f| format!("# TYPE f{f} gauge\nf{f}{{a=\"x\"}} 1\nf{f}{{a=\"y\"}} 2\n"))
        .collect();
    let big_key = GroupingKey::new("bench", [("instance".to_owned(), "big".to_owned())]);
    let fams = text::parse(big.as_bytes()).expect("large body parses");
    shard.push(prepare(big_key.clone(), true, fams, SystemTime::now())).expect("consistent push");
    g.bench_function("post_1000_families", |b| {
        b.iter(|| {
            let fams = text::parse(big.as_bytes()).expect("large body parses");
            let p = prepare(big_key.clone(), false, fams, SystemTime::now());
            shard.push(p).expect("consistent push")
        })
    });
    // A node_exporter-sized group (the parse benches' node_1k body: 1,000
    // series, label sets that vary within a family) pushed again, as text
    // and as delimited protobuf, to groups that hold it.
    let node = data::text_body(1000, 42);
    let node_pb = data::proto_body(&node);
    let node_key = |format: &str, j: u64| {
        GroupingKey::new("node", [("instance".to_owned(), format!("{format}{}", j % 100))])
    };
    for j in 0..100 {
        for (format, fams) in [
            ("text", text::parse(&node).expect("node body parses")),
            ("proto", proto::parse(&node_pb).expect("node body parses")),
        ] {
            shard.push(prepare(node_key(format, j), true, fams, SystemTime::now())).expect("push");
        }
    }
    g.bench_function("refresh_node_1k_100_groups", |b| {
        b.iter(|| {
            i += 1;
            let mut fams = text::parse(&node).expect("node body parses");
            let applied =
                shard.refresh(&node_key("text", i), true, &mut fams, SystemTime::now(), None);
            assert!(applied, "every group exists with the same families");
        })
    });
    g.bench_function("refresh_node_1k_proto_100_groups", |b| {
        b.iter(|| {
            i += 1;
            let mut fams = proto::parse(&node_pb).expect("node body parses");
            let applied =
                shard.refresh(&node_key("proto", i), true, &mut fams, SystemTime::now(), None);
            assert!(applied, "every group exists with the same families");
        })
    });
    g.bench_function("refresh_load_body_1000_groups", |b| {
        b.iter(|| {
            i += 1;
            let key =
                GroupingKey::new("bench", [("instance".to_owned(), format!("i{}", i % 1000))]);
            let mut fams = text::parse(LOAD_BODY.as_bytes()).expect("load body parses");
            let applied = shard.refresh(&key, true, &mut fams, SystemTime::now(), None);
            assert!(applied, "every group exists with the same families");
        })
    });
    g.finish();
}

fn render(c: &mut Criterion) {
    let mut shard = Shard::new(Arc::default(), true);
    let mut body = String::new();
    for j in 0..100 {
        body.push_str(&format!("series_{}{{k=\"{j}\"}} {j}.5\n", j % 10));
    }
    for i in 0..1000 {
        let key = GroupingKey::new("bench", [("instance".to_owned(), format!("i{i}"))]);
        let fams = text::parse(body.as_bytes()).expect("bench body parses");
        shard.push(prepare(key, true, fams, SystemTime::now())).expect("consistent push");
    }
    let families = shard.families();
    let mut out = Vec::with_capacity(16 << 20);
    render_text(&[], &families, false, &mut out).expect("renders");
    let mut g = c.benchmark_group("render");
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.sample_size(10);
    g.bench_function("render_100k", |b| {
        b.iter(|| {
            out.clear();
            render_text(&[], &families, false, &mut out).expect("renders")
        })
    });
    // What the first scrape after a push costs per family: its series'
    // text lines rendered from the stored labels and values.
    g.bench_function("series_text_100k", |b| {
        b.iter(|| {
            out.clear();
            for f in &families {
                for s in &f.series {
                    render_series(&mut out, &f.name, s);
                }
            }
        })
    });
    g.finish();
}

/// Two shards sharing one index, filled as `populate.py GROUPS 100` fills a
/// 2-core server (groups routed by `shard_for`).
fn populated(groups: usize) -> Vec<Shard> {
    let index = Arc::default();
    let mut shards: Vec<Shard> = (0..2).map(|_| Shard::new(Arc::clone(&index), true)).collect();
    for g in 0..groups {
        let key = GroupingKey::new("pop", [("instance".to_owned(), format!("g{g}"))]);
        let body = data::populate_body(g, SERIES_PER_GROUP);
        let fams = text::parse(body.as_bytes()).expect("populate body parses");
        let owner = shard_for(&key, shards.len()).0 as usize;
        shards[owner].push(prepare(key, true, fams, SystemTime::now())).expect("consistent push");
    }
    shards
}

fn scrape(c: &mut Criterion) {
    let groups = data::scale("PUSHGATE_BENCH_GROUPS", 10_000, 100);
    let n = groups * SERIES_PER_GROUP;
    let mut shards = populated(groups);
    let collect = |shards: &[Shard]| shards.iter().flat_map(|s| s.families()).collect::<Vec<_>>();
    let stored = collect(&shards);
    let mut out = Vec::with_capacity(128 << 20);
    render_text(&[], &stored, false, &mut out).expect("renders");
    let text_len = out.len() as u64;

    let mut g = c.benchmark_group("scrape");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("families", n), |b| b.iter(|| collect(&shards)));
    g.bench_function(BenchmarkId::new("merge", n), |b| {
        b.iter(|| merge(&[], &stored, false).expect("merges").len())
    });
    g.throughput(Throughput::Bytes(text_len));
    g.bench_function(BenchmarkId::new("render_text", n), |b| {
        b.iter(|| {
            out.clear();
            render_text(&[], &stored, false, &mut out).expect("renders")
        })
    });
    g.bench_function(BenchmarkId::new("gzip", n), |b| {
        b.iter(|| pushgate::http::coding::gzip(&out).len())
    });
    g.finish();
    drop(stored);

    let mut g = c.benchmark_group("shard_push");
    g.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    g.bench_function(format!("put_1000_groups_{n}_stored"), |b| {
        b.iter(|| push_1000_groups(&mut shards[0], &mut i))
    });
    g.finish();
}

criterion_group!(benches, shard_push, render, scrape);
criterion_main!(benches);
