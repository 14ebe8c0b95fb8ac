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
//! Last results (2-core AMD EPYC VM, 2026-12-05, mimalloc as the server,
//! `cargo bench --bench expfmt_proto -- --measurement-time 3 --warm-up-time 1`;
//! each step measured against the one before in the same run):
//!
//! | body | bytes | 2825608 | e86c86a | now | throughput now |
//! |---|---|---|---|---|---|
//! | push_10 | 439 | 1.61 µs | 1.20 µs | 1.20 µs | 350 MiB/s |
//! | node_1k | 29,488 | 111.9 µs | 88.0 µs (94.2 in the second run) | 76.0 µs | 370 MiB/s |
//! | batch_100k | 3,000,395 | 13.7 ms | 9.57 ms (10.24) | 8.43 ms | 340 MiB/s |
//!
//! Then a field with a one-byte tag and a one-byte length (labels, values,
//! buckets: most fields) read without the general decoder: 1.20 → 1.12 µs,
//! 71.5 → 69.2 µs, 8.68 → 7.48 ms (same run; 405 MiB/s on node_1k).
//!
//! Per series, node_1k now parses about as fast as the same families as
//! text (75 µs). e86c86a: the family's name and type are looked up first,
//! so each metric becomes a `Metric` as it is read (labels pushed into it
//! in place) instead of a large intermediate struct copied four times; a
//! label written as name-then-value and a plain value alone in its message
//! skip the field-by-field walk. Now: a classic histogram written in field
//! order is read and shown valid in one pass, not a schema check and a walk
//! per bucket. Profile: the field walk (`wire::Fields::next_field`,
//! `varint`) about a third, then `parse` itself, memmove of the `Metric`
//! pushes, lossy UTF-8 checks of names and label values. (At e84455a, with
//! the system allocator: 125, 127 and 54 MiB/s.)

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

// As the server: allocation is part of what parsing costs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
