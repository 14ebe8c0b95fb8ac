//! Text exposition parsing throughput at three body sizes, against a naive
//! baseline.
//!
//! Run with: `cargo bench --bench expfmt_text`
//!
//! Bodies come from `support/data.rs` (seeded, no downloads): a 10-series
//! push, a ~1k-series node_exporter-like body and a 100k-series batch (series
//! counted as sample lines; counters, gauges, untyped and histograms).
//! `pushgate` is `pushgate::expfmt::text::parse` (zero-copy, memchr, full
//! validation, histogram grouping). `baseline_naive` is the allocating
//! line splitter below (`str::split`, `parse::<f64>`, no validation): the
//! floor any straightforward parser would reach.
//!
//! Last results (2-core Intel Xeon VM, 2026-12-06, commit 924cc72, mimalloc
//! set up as the server sets it, `cargo bench --bench expfmt_text --
//! --measurement-time 5 --warm-up-time 2`):
//!
//! | body | bytes | pushgate | baseline_naive | speed-up |
//! |---|---|---|---|---|
//! | push_10 | 543 | 667 ns (776 MiB/s) | 1.63 µs (317 MiB/s) | 2.4x |
//! | node_1k | 59,852 | 64.3 µs (888 MiB/s) | 188 µs (303 MiB/s) | 2.9x |
//! | batch_100k | 6,236,611 | 15.8 ms (377 MiB/s) | 40.1 ms (148 MiB/s) | 2.5x |
//!
//! Cargo builds bench targets with `panic = "unwind"` whatever the profile
//! says (rust-lang/cargo#11214); the server is built with `panic = "abort"`.
//! The two builds of this parser now time within a few per cent of each
//! other (they were ~12% apart until two copies only the unwinding build
//! made were removed; see the README). To bench it as the server builds it:
//! `RUSTFLAGS="-C panic=abort" CARGO_TARGET_DIR=target/bench-abort cargo
//! bench --bench expfmt_text`.
//!
//! The target is 1 GB/s (954 MiB/s): missed on node_1k by ~7%;
//! see the README's Performance section. Before the fast path of plain
//! lines (`text/fast.rs`), at 40795f3: 520-560 MiB/s on node_1k.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

// As the server: allocation is part of what parsing costs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/data.rs"]
mod data;

/// BASELINE, not the server's parser: what a first, straightforward parser
/// looks like (split lines, split on spaces and commas, own every string,
/// `parse::<f64>`, no escapes, no validation). Measured so the real parser's
/// speed is stated against something.
mod baseline {
    /// One sample line.
    pub struct Sample {
        pub name: String,
        pub labels: Vec<(String, String)>,
        pub value: f64,
    }

    /// A family: HELP/TYPE plus the samples that follow them.
    #[derive(Default)]
    pub struct Family {
        pub name: String,
        pub help: Option<String>,
        pub typ: Option<String>,
        pub samples: Vec<Sample>,
    }

    fn family<'a>(fams: &'a mut Vec<Family>, name: &str) -> &'a mut Family {
        if fams.last().is_none_or(|f| f.name != name) {
            fams.push(Family { name: name.to_string(), ..Family::default() });
        }
        fams.last_mut().expect("pushed above")
    }

    /// Parses `body`, naively.
    pub fn parse(body: &[u8]) -> Result<Vec<Family>, String> {
        let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
        let mut fams: Vec<Family> = Vec::new();
        for line in text.split('\n') {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                let parts: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
                match parts.as_slice() {
                    ["HELP", name, help] => family(&mut fams, name).help = Some(help.to_string()),
                    ["TYPE", name, typ] => family(&mut fams, name).typ = Some(typ.to_string()),
                    _ => {}
                }
                continue;
            }
            let (series, value) = line.rsplit_once(' ').ok_or("no value")?;
            let value = value.parse::<f64>().map_err(|e| e.to_string())?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let inner = rest.strip_suffix('}').ok_or("unclosed {")?;
                    let labels = inner
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(|p| {
                            let (k, v) = p.split_once('=')?;
                            Some((k.to_string(), v.trim_matches('"').to_string()))
                        })
                        .collect::<Option<Vec<_>>>()
                        .ok_or("bad label")?;
                    (name, labels)
                }
                None => (series, Vec::new()),
            };
            let sample = Sample { name: name.to_string(), labels, value };
            match fams.last_mut() {
                Some(f) if name.starts_with(f.name.as_str()) => f.samples.push(sample),
                _ => family(&mut fams, name).samples.push(sample),
            }
        }
        Ok(fams)
    }

    /// Sample lines parsed, after checking each is well formed (sanity check
    /// outside the timed loop).
    pub fn checked_samples(fams: &[Family]) -> usize {
        let mut n = 0;
        for f in fams {
            for s in &f.samples {
                assert!(s.name.starts_with(&f.name) && s.value.is_finite());
                assert!(s.labels.iter().all(|(k, _)| !k.is_empty()));
                n += 1;
            }
        }
        n
    }
}

fn parse(c: &mut Criterion) {
    // As the server sets up its allocator (freed pages kept for reuse, no
    // transparent huge pages).
    pushgate::allocator::tune();
    let mut g = c.benchmark_group("text_parse");
    for (name, n) in data::SIZES {
        let body = data::text_body(n, 42);
        // Both parsers see the same families (checked once, outside timing).
        let ours = pushgate::expfmt::text::parse(&body).expect("generated bodies parse");
        let naive = baseline::parse(&body).expect("generated bodies parse naively");
        assert_eq!(ours.len(), naive.len(), "{name}: family counts differ");
        let lines = body.split(|b| *b == b'\n').filter(|l| !l.is_empty() && l[0] != b'#').count();
        assert_eq!(baseline::checked_samples(&naive), lines, "{name}: sample counts differ");
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_with_input(BenchmarkId::new("pushgate", name), &body, |b, d| {
            b.iter(|| pushgate::expfmt::text::parse(black_box(d)).expect("generated bodies parse"))
        });
        g.bench_with_input(BenchmarkId::new("baseline_naive", name), &body, |b, d| {
            b.iter(|| baseline::parse(black_box(d)).expect("generated bodies parse naively"))
        });
    }
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
