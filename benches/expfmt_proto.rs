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
//! Last results (2-core x86_64 VM, 2026-11-22, commit 07a753b,
//! `cargo bench --bench expfmt_proto -- --measurement-time 3`):
//!
//! | body | bytes | time | throughput |
//! |---|---|---|---|

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
