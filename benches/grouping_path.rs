//! Grouping-key parsing from push paths (`pushgate::grouping::parse_push_path`).
//!
//! Run with: `cargo bench --bench grouping_path`
//!
//! `plain_1`: `/metrics/job/bench/instance/i42` (the load script's shape).
//! `plain_4`: job plus four labels (instance, zone, env, team).
//! `base64_4`: the same key with every segment `@base64` (what
//! `format_push_path` and clients that allow `/` in values produce).
//!
//! Last results (2-core AMD EPYC VM shared with concurrent builds,
//! 2026-11-22, commit e84455a,
//! `cargo bench --bench grouping_path -- --measurement-time 3 --warm-up-time 1`):
//!
//! | path | time |
//! |---|---|
//! | plain_1 | 162 ns |
//! | plain_4 | 502 ns |
//! | base64_4 | 685 ns |
//!
//! Best of three runs (the other two, under load from other builds, were
//! 1.3-2x slower). Benches use the system allocator; the server uses mimalloc.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pushgate::grouping::path::format_push_path;
use pushgate::grouping::{parse_push_path, GroupingKey};
use std::hint::black_box;

/// `(name, job segment, job is base64, label segments)` as the router splits them.
fn paths() -> Vec<(&'static str, Vec<u8>, bool, Vec<u8>)> {
    let labels = [
        ("instance", "host-17.example.org:9100"),
        ("zone", "eu-west-1a"),
        ("env", "prod"),
        ("team", "platform/observability"),
    ];
    let key = GroupingKey::new(
        "nightly_backup",
        labels.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    let b64 = format_push_path(&key);
    let rest = b64.strip_prefix("/job@base64/").expect("formatted paths start with job@base64");
    let job_end = rest.find('/').unwrap_or(rest.len());
    vec![
        ("plain_1", b"bench".to_vec(), false, b"/instance/i42".to_vec()),
        (
            "plain_4",
            b"nightly_backup".to_vec(),
            false,
            b"/instance/host-17.example.org:9100/zone/eu-west-1a/env/prod/team/platform".to_vec(),
        ),
        (
            "base64_4",
            rest.as_bytes()[..job_end].to_vec(),
            true,
            rest.as_bytes()[job_end..].to_vec(),
        ),
    ]
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("grouping_path");
    g.throughput(Throughput::Elements(1));
    for (name, job, b64, labels) in paths() {
        let key = parse_push_path(&job, b64, &labels).expect("bench paths parse");
        assert_eq!(key.job(), if name == "plain_1" { "bench" } else { "nightly_backup" });
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                parse_push_path(black_box(&job), b64, black_box(&labels))
                    .expect("bench paths parse")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
