//! Seeded input generators shared by the benches (included with `#[path]`;
//! kept out of `benches/*.rs` so Cargo does not take it for a bench target).
//!
//! No downloads: every body is a pure function of its size and seed.

// Each bench uses a subset of these helpers.
#![allow(dead_code)]

use std::fmt::Write as _;

/// Body sizes of the parsing benches: a small push, a node_exporter-like
/// scrape, a large batch (series counted as sample lines).
pub const SIZES: [(&str, usize); 3] =
    [("push_10", 10), ("node_1k", 1_000), ("batch_100k", 100_000)];

/// Whether criterion was started by `cargo bench` (`--bench`) rather than by
/// `cargo test --benches`, which runs every bench once as a smoke test.
pub fn is_bench() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// `var` from the environment, else `bench` under `cargo bench`, else `smoke`.
pub fn scale(var: &str, bench: usize, smoke: usize) -> usize {
    match std::env::var(var) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{var}={v}: not a number")),
        Err(_) if is_bench() => bench,
        Err(_) => smoke,
    }
}

/// xorshift64: deterministic, no dependency.
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next pseudo-random number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A value spelled as exporters do: integers, decimals, Go's exponent form.
fn value(rng: &mut Rng, out: &mut String) {
    let r = rng.next();
    match r % 4 {
        0 => write!(out, "{}", r % 100_000),
        1 => write!(out, "{}", (r % 1_000_000) as f64 / 7.0),
        2 => write!(out, "{:e}", (r % 1_000_000_000) as f64 * 1.5e3),
        _ => write!(out, "{}", (r % 10_000) as f64 / 100.0),
    }
    .expect("writing to a String cannot fail");
}

/// A node_exporter-like text body of about `n` sample lines: families of 1 to
/// 20 series with up to three labels (`device`, `mode`, `cpu`) of counters,
/// gauges and untyped values, every eighth family a histogram (5 buckets,
/// `_sum`, `_count`), HELP on every family.
pub fn text_body(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(n * 64);
    let mut lines = 0;
    let mut fam = 0;
    while lines < n {
        let per = 1 + (rng.next() % 20) as usize;
        if fam % 8 == 7 {
            let name = format!("node_family_{fam}_seconds");
            writeln!(out, "# HELP {name} Histogram of family {fam} in seconds.").expect("String");
            writeln!(out, "# TYPE {name} histogram").expect("String");
            for j in 0..per.min((n - lines).div_ceil(7)) {
                let labels = format!("handler=\"/api/v{j}\"");
                let mut cum = 0;
                for le in ["0.005", "0.05", "0.5", "5", "+Inf"] {
                    cum += rng.next() % 100;
                    writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cum}").expect("String");
                }
                write!(out, "{name}_sum{{{labels}}} ").expect("String");
                value(&mut rng, &mut out);
                writeln!(out, "\n{name}_count{{{labels}}} {cum}").expect("String");
                lines += 7;
            }
        } else {
            let kind = ["gauge", "counter", "untyped"][fam % 3];
            let suffix = if kind == "counter" { "_total" } else { "" };
            let name = format!("node_family_{fam}{suffix}");
            writeln!(out, "# HELP {name} Help text for family {fam}.").expect("String");
            writeln!(out, "# TYPE {name} {kind}").expect("String");
            for j in 0..per.min(n - lines) {
                match j % 3 {
                    0 => write!(out, "{name}{{cpu=\"{j}\",mode=\"m{}\"}} ", rng.next() % 8),
                    1 => write!(out, "{name}{{device=\"sda{j}\"}} "),
                    _ => write!(
                        out,
                        "{name}{{cpu=\"{}\",device=\"nvme{j}n1\",mode=\"idle\"}} ",
                        j % 64
                    ),
                }
                .expect("String");
                value(&mut rng, &mut out);
                out.push('\n');
                lines += 1;
            }
        }
        fam += 1;
    }
    out.into_bytes()
}

/// The same families as delimited protobuf `MetricFamily` messages (what the
/// Go and Java clients push): the text body parsed and re-encoded with the
/// server's own encoder, as `pushgate::fuzzing::proto_parse` does.
pub fn proto_body(text: &[u8]) -> Vec<u8> {
    let families = pushgate::expfmt::text::parse(text).expect("generated text parses");
    let mut out = Vec::with_capacity(text.len());
    pushgate::render::proto::render_parsed(&families, &mut out);
    out
}

/// A group body shaped like `../shared/bench/populate.py`'s: one gauge family
/// `pop_metric` of `series` series labelled `series` and `shard`.
pub fn populate_body(group: usize, series: usize) -> String {
    let mut out = String::from("# HELP pop_metric A populated gauge.\n# TYPE pop_metric gauge\n");
    for s in 0..series {
        writeln!(out, "pop_metric{{series=\"s{s}\",shard=\"{}\"}} {}.5", s % 7, group * 1000 + s)
            .expect("String");
    }
    out
}
