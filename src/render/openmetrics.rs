//! OpenMetrics extras of a series: exemplars and created timestamps.
//!
//! The text model has no place for them, but protobuf pushes keep their
//! value bytes verbatim (`StoredSeries::raw_value`), and those carry the
//! counter's and buckets' exemplars and the `created_timestamp` of counters,
//! summaries and histograms (client_golang ≥ 1.20 sends created timestamps
//! by default). An OpenMetrics scrape decorates the series' sample lines
//! with them: ` # {labels} value timestamp` on `_total` and `_bucket` lines,
//! and a `<name>_created` sample after the series (OpenMetrics 1.0.0).

use crate::expfmt::proto::wire::num::{
    BUCKET_EXEMPLAR, COUNTER_CREATED, COUNTER_EXEMPLAR, HISTOGRAM_BUCKET, HISTOGRAM_CREATED,
    METRIC_COUNTER, METRIC_HISTOGRAM, METRIC_SUMMARY, SUMMARY_CREATED,
};
use crate::expfmt::proto::wire::{fields, Val};
use crate::expfmt::MetricType;
use crate::gofmt::push_go_float;
use crate::store::group::push_escaped_label_value;

/// One exemplar.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// Its labels (e.g. `trace_id`).
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
    /// Seconds since the epoch, if it has a timestamp.
    pub timestamp: Option<f64>,
}

/// The extras of one series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extras {
    /// Created timestamp in seconds since the epoch.
    pub created: Option<f64>,
    /// A counter's exemplar.
    pub counter: Option<Exemplar>,
    /// Classic histogram buckets' exemplars, by bucket index.
    pub buckets: Vec<Option<Exemplar>>,
}

impl Extras {
    /// Whether there is anything to add.
    pub fn is_empty(&self) -> bool {
        self.created.is_none() && self.counter.is_none() && self.buckets.iter().all(Option::is_none)
    }
}

/// `google.protobuf.Timestamp` as seconds.
fn timestamp(b: &[u8]) -> f64 {
    let (mut secs, mut nanos) = (0i64, 0i32);
    for f in fields(b) {
        match (f.num, f.val) {
            (1, Val::Varint(v)) => secs = v as i64,
            (2, Val::Varint(v)) => nanos = v as i32,
            _ => {}
        }
    }
    secs as f64 + f64::from(nanos) / 1e9
}

fn exemplar(b: &[u8]) -> Exemplar {
    let mut e = Exemplar { labels: Vec::new(), value: 0.0, timestamp: None };
    for f in fields(b) {
        match (f.num, f.val) {
            (1, Val::Bytes(pair)) => {
                let (mut name, mut value) = (String::new(), String::new());
                for p in fields(pair) {
                    match (p.num, p.val) {
                        (1, Val::Bytes(s)) => name = String::from_utf8_lossy(s).into_owned(),
                        (2, Val::Bytes(s)) => value = String::from_utf8_lossy(s).into_owned(),
                        _ => {}
                    }
                }
                e.labels.push((name, value));
            }
            (2, Val::Fixed64(bits)) => e.value = f64::from_bits(bits),
            (3, Val::Bytes(ts)) => e.timestamp = Some(timestamp(ts)),
            _ => {}
        }
    }
    e
}

/// Reads the extras from a series' stored protobuf value bytes.
pub fn extras(typ: MetricType, raw: &[u8]) -> Extras {
    let mut out = Extras::default();
    for f in fields(raw) {
        let Val::Bytes(msg) = f.val else { continue };
        match (typ, f.num) {
            (MetricType::Counter, METRIC_COUNTER) => {
                for c in fields(msg) {
                    match (c.num, c.val) {
                        (COUNTER_EXEMPLAR, Val::Bytes(e)) => out.counter = Some(exemplar(e)),
                        (COUNTER_CREATED, Val::Bytes(t)) => out.created = Some(timestamp(t)),
                        _ => {}
                    }
                }
            }
            (MetricType::Summary, METRIC_SUMMARY) => {
                for c in fields(msg) {
                    if let (SUMMARY_CREATED, Val::Bytes(t)) = (c.num, c.val) {
                        out.created = Some(timestamp(t));
                    }
                }
            }
            (MetricType::Histogram | MetricType::GaugeHistogram, METRIC_HISTOGRAM) => {
                for c in fields(msg) {
                    match (c.num, c.val) {
                        (HISTOGRAM_BUCKET, Val::Bytes(b)) => {
                            let e = fields(b).find_map(|bf| match (bf.num, bf.val) {
                                (BUCKET_EXEMPLAR, Val::Bytes(e)) => Some(exemplar(e)),
                                _ => None,
                            });
                            out.buckets.push(e);
                        }
                        (HISTOGRAM_CREATED, Val::Bytes(t)) => out.created = Some(timestamp(t)),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn push_exemplar(out: &mut Vec<u8>, e: &Exemplar) {
    out.extend_from_slice(b" # {");
    for (i, (n, v)) in e.labels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b"=\"");
        push_escaped_label_value(out, v);
        out.push(b'"');
    }
    out.extend_from_slice(b"} ");
    push_go_float(out, e.value);
    if let Some(ts) = e.timestamp {
        out.push(b' ');
        push_go_float(out, ts);
    }
}

/// Appends a series' sample `lines` (text exposition of family `family`,
/// counters already named `<family>_total`) decorated with `extras`.
pub fn write_series(
    out: &mut Vec<u8>,
    family: &str,
    typ: MetricType,
    lines: &[u8],
    extras: &Extras,
) {
    let bucket_prefix = format!("{family}_bucket");
    let total_prefix = format!("{family}_total");
    let mut bucket = 0;
    let mut last = &b""[..];
    for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        out.extend_from_slice(line);
        let starts = |p: &str| {
            line.starts_with(p.as_bytes()) && matches!(line.get(p.len()), Some(b'{' | b' '))
        };
        match typ {
            MetricType::Counter if starts(&total_prefix) => {
                if let Some(e) = &extras.counter {
                    push_exemplar(out, e);
                }
            }
            MetricType::Histogram | MetricType::GaugeHistogram if starts(&bucket_prefix) => {
                if let Some(Some(e)) = extras.buckets.get(bucket) {
                    push_exemplar(out, e);
                }
                bucket += 1;
            }
            _ => {}
        }
        out.push(b'\n');
        last = line;
    }
    let Some(created) = extras.created else { return };
    // The last line is `<family>_total…` or `<family>_count…`: its labels
    // are the series' own (no `le`/`quantile`).
    let suffix_len = match typ {
        MetricType::Counter => "_total".len(),
        MetricType::Summary | MetricType::Histogram | MetricType::GaugeHistogram => "_count".len(),
        _ => return,
    };
    let Some(space) = last.iter().rposition(|b| *b == b' ') else { return };
    let Some(labels) = last.get(family.len() + suffix_len..space) else { return };
    out.extend_from_slice(family.as_bytes());
    out.extend_from_slice(b"_created");
    out.extend_from_slice(labels);
    out.push(b' ');
    push_go_float(out, created);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expfmt::proto::wire::{
        put_bytes_field as bytes, put_double as double, put_tag as tag, put_varint,
    };

    fn ts(secs: u64, nanos: u64) -> Vec<u8> {
        let mut t = Vec::new();
        tag(&mut t, 1, 0);
        put_varint(&mut t, secs);
        tag(&mut t, 2, 0);
        put_varint(&mut t, nanos);
        t
    }

    fn ex(trace: &str, value: f64, t: Option<Vec<u8>>) -> Vec<u8> {
        let mut pair = Vec::new();
        bytes(&mut pair, 1, b"trace_id");
        bytes(&mut pair, 2, trace.as_bytes());
        let mut e = Vec::new();
        bytes(&mut e, 1, &pair);
        double(&mut e, 2, value);
        if let Some(t) = t {
            bytes(&mut e, 3, &t);
        }
        e
    }

    #[test]
    fn counter_exemplar_and_created() {
        let mut counter = Vec::new();
        double(&mut counter, 1, 17.0);
        bytes(&mut counter, 2, &ex("abc", 1.5, Some(ts(1520879607, 789_000_000))));
        bytes(&mut counter, 3, &ts(1520430000, 123_000_000));
        let mut raw = Vec::new();
        bytes(&mut raw, METRIC_COUNTER, &counter);
        let x = extras(MetricType::Counter, &raw);
        assert_eq!(x.created, Some(1520430000.123));
        let mut out = Vec::new();
        write_series(&mut out, "req", MetricType::Counter, b"req_total{job=\"j\"} 17\n", &x);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "req_total{job=\"j\"} 17 # {trace_id=\"abc\"} 1.5 1.520879607789e+09\n\
             req_created{job=\"j\"} 1.520430000123e+09\n"
        );
        // The same bytes read as another type yield nothing.
        assert!(extras(MetricType::Gauge, &raw).is_empty());
    }

    #[test]
    fn histogram_bucket_exemplars_by_index() {
        let mut b0 = Vec::new();
        tag(&mut b0, 1, 0);
        put_varint(&mut b0, 1);
        double(&mut b0, 2, 0.5);
        let mut b1 = b0.clone();
        bytes(&mut b1, BUCKET_EXEMPLAR, &ex("t1", 0.7, None));
        let mut h = Vec::new();
        bytes(&mut h, HISTOGRAM_BUCKET, &b0);
        bytes(&mut h, HISTOGRAM_BUCKET, &b1);
        bytes(&mut h, HISTOGRAM_CREATED, &ts(10, 0));
        let mut raw = Vec::new();
        bytes(&mut raw, METRIC_HISTOGRAM, &h);
        let x = extras(MetricType::Histogram, &raw);
        let lines = b"lat_bucket{le=\"0.5\"} 1\nlat_bucket{le=\"1\"} 1\nlat_bucket{le=\"+Inf\"} 1\nlat_sum 0.7\nlat_count 1\n";
        let mut out = Vec::new();
        write_series(&mut out, "lat", MetricType::Histogram, lines, &x);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "lat_bucket{le=\"0.5\"} 1\nlat_bucket{le=\"1\"} 1 # {trace_id=\"t1\"} 0.7\n\
             lat_bucket{le=\"+Inf\"} 1\nlat_sum 0.7\nlat_count 1\nlat_created 10\n"
        );
    }

    #[test]
    fn garbage_bytes_give_no_extras() {
        assert!(extras(MetricType::Counter, b"\xff\xff\xff").is_empty());
        assert!(extras(MetricType::Histogram, b"").is_empty());
    }
}
