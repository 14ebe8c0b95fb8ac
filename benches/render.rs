//! Push into a shard and scrape-render throughput.
//!
//! Run with: `cargo bench --bench render`
//! `shard_push`: sanitise + store one 12-series push (the load script's body).
//! `render_100k`: merge and render 1000 groups × 100 series.

use std::sync::Arc;
use std::time::SystemTime;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pushgate::expfmt::text;
use pushgate::grouping::GroupingKey;
use pushgate::render::render_text;
use pushgate::store::sanitize::prepare;
use pushgate::store::Shard;

const BODY: &str = "# HELP batch_job_duration_seconds Duration.\n# TYPE batch_job_duration_seconds gauge\n\
batch_job_duration_seconds{stage=\"extract\"} 12.5\nbatch_job_duration_seconds{stage=\"load\"} 7.75\n\
# TYPE batch_rows_total counter\nbatch_rows_total{table=\"a\"} 100\nbatch_rows_total{table=\"b\"} 200\n";

fn shard_push(c: &mut Criterion) {
    let mut shard = Shard::new(Arc::default(), true);
    let mut i = 0u64;
    let mut g = c.benchmark_group("shard_push");
    g.throughput(Throughput::Elements(1));
    g.bench_function("put_1000_groups", |b| {
        b.iter(|| {
            i += 1;
            let key =
                GroupingKey::new("bench", [("instance".to_owned(), format!("i{}", i % 1000))]);
            let fams = text::parse(BODY.as_bytes()).expect("bench body parses");
            shard.push(prepare(key, true, fams, SystemTime::now())).expect("consistent push")
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
    g.finish();
}

criterion_group!(benches, shard_push, render);
criterion_main!(benches);
