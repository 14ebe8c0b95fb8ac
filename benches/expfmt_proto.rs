//! Protobuf (delimited `MetricFamily`) parsing throughput at three body sizes.
//!
//! Run with: `cargo bench --bench expfmt_proto`
//!
//! Bodies: the seeded text bodies of `support/data.rs` (10-series push,
//! ~1k-series node_exporter-like body, 100k-series batch) parsed and
//! re-encoded with `pushgate::render::proto::render_family`, i.e. what the Go
//! and Java clients push for the same families. Throughput is in protobuf
//! bytes (smaller than the text body for the same series).
//!
//! Last results (2-core AMD EPYC VM shared with concurrent builds,
//! 2026-11-22, commit e84455a,
//! `cargo bench --bench expfmt_proto -- --measurement-time 3 --warm-up-time 1`):
//!
//! | body | bytes | time | throughput | per series vs text parse |
//! |---|---|---|---|---|
//! | push_10 | 439 | 3.34 µs | 125 MiB/s | 2.2x slower |
//! | node_1k | 29,488 | 222 µs | 127 MiB/s | 1.2x slower |
//! | batch_100k | 3,000,395 | 52.8 ms | 54 MiB/s | 2.1x slower |
//!
//! Best of three runs (the other two, under load from other builds, were
//! 1.3-2x slower). Benches use the system allocator; the server uses mimalloc.
//! Profile (batch_100k): a quarter of the time is page faults from growing
//! the result vectors, then `wire::Fields::next_field`, `proto::parse`,
//! memmove of the large per-metric `Pending` structs, lossy UTF-8 checks.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

#[path = "support/data.rs"]
mod data;

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("proto_parse");
    for (name, n) in data::SIZES {
        let text = data::text_body(n, 42);
        let body = data::proto_body(&text);
        let families = pushgate::expfmt::text::parse(&text).expect("generated text parses");
        let decoded = pushgate::expfmt::proto::parse(&body).expect("encoded bodies parse");
        assert_eq!(decoded.len(), families.len(), "{name}: family counts differ");
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_with_input(BenchmarkId::new("pushgate", name), &body, |b, d| {
            b.iter(|| pushgate::expfmt::proto::parse(black_box(d)).expect("encoded bodies parse"))
        });
    }
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
