//! The borrowed model every exposition parser produces: families of series.
//!
//! Owns nothing but the shape of parsed data. Tokens borrow the request body
//! (`'buf`) and only become owned (`Cow::Owned`) when an escape sequence had to
//! be decoded. The store converts what it keeps with `into_owned()` semantics
//! before the request buffer goes back to the kernel.

use std::borrow::Cow;

use smallvec::SmallVec;

/// The type of a metric family, numbered as in `io.prometheus.client.MetricType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MetricType {
    /// A monotonically increasing value.
    Counter = 0,
    /// A value that can go up and down.
    Gauge = 1,
    /// Quantiles plus sum and count.
    Summary = 2,
    /// No type was declared.
    Untyped = 3,
    /// Cumulative buckets plus sum and count.
    Histogram = 4,
    /// A histogram whose buckets may go down.
    GaugeHistogram = 5,
}

impl MetricType {
    /// The lower-case name used in `# TYPE` lines.
    pub fn as_text(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Summary => "summary",
            MetricType::Untyped => "untyped",
            // exposition_formats.md has no gauge histogram; the Go encoder prints it as histogram.
            MetricType::Histogram | MetricType::GaugeHistogram => "histogram",
        }
    }

    /// The upper-case protobuf enum name used by the JSON API and error messages.
    pub fn as_proto_name(self) -> &'static str {
        match self {
            MetricType::Counter => "COUNTER",
            MetricType::Gauge => "GAUGE",
            MetricType::Summary => "SUMMARY",
            MetricType::Untyped => "UNTYPED",
            MetricType::Histogram => "HISTOGRAM",
            MetricType::GaugeHistogram => "GAUGE_HISTOGRAM",
        }
    }

    /// Whether series of this type expose `_bucket`, `_sum` and `_count` samples.
    pub fn is_histogram(self) -> bool {
        matches!(self, MetricType::Histogram | MetricType::GaugeHistogram)
    }
}

/// One label pair of a series.
#[derive(Clone, Debug, PartialEq)]
pub struct Label<'buf> {
    /// Label name (already validated by the parser that produced it).
    pub name: Cow<'buf, str>,
    /// Label value, unescaped.
    pub value: Cow<'buf, str>,
}

/// The value of one series, shaped by its family's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Counter, gauge or untyped value.
    Simple(f64),
    /// Summary: quantiles in pushed order, then sum and count.
    Summary {
        /// Number of observations.
        count: u64,
        /// Sum of observations.
        sum: f64,
        /// `(quantile, value)` pairs in pushed order.
        quantiles: Vec<(f64, f64)>,
    },
    /// Classic histogram: cumulative buckets in pushed order, then sum and count.
    Histogram {
        /// Number of observations.
        count: u64,
        /// Sum of observations.
        sum: f64,
        /// `(upper bound, cumulative count)` pairs in pushed order.
        buckets: Vec<(f64, u64)>,
    },
}

/// One series: its labels, its value and an optional (rejected later) timestamp.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric<'buf> {
    /// Labels in the order they were pushed (the store sorts them).
    pub labels: SmallVec<[Label<'buf>; 4]>,
    /// The value.
    pub value: Value,
    /// Timestamp in milliseconds if the pusher sent one.
    pub timestamp_ms: Option<i64>,
    /// For protobuf pushes: the encoded value fields of the `Metric` message
    /// (everything but labels and timestamp: the gauge/counter/summary/
    /// untyped/histogram sub-message, with native histogram parts, exemplars
    /// and created timestamps), re-emitted verbatim on protobuf scrapes so
    /// nothing the text model cannot hold is lost. Borrowed from the body
    /// when those fields are contiguous (as every encoder writes them: labels
    /// first, then the value), else an owned concatenation in pushed order.
    pub raw_value: Option<Cow<'buf, [u8]>>,
}

/// One metric family: a name, optional HELP, a type and its series.
#[derive(Clone, Debug, PartialEq)]
pub struct Family<'buf> {
    /// Metric family name.
    pub name: Cow<'buf, str>,
    /// HELP text, unescaped; `None` when no HELP line was given.
    pub help: Option<Cow<'buf, str>>,
    /// Declared type (`Untyped` when none was declared).
    pub typ: MetricType,
    /// Series in pushed order.
    pub metrics: Vec<Metric<'buf>>,
    /// Problems the Go server reports only when it gathers the store (spec
    /// 2.5: e.g. a protobuf metric whose value does not match the family type,
    /// an invalid label name, a non-UTF-8 label value). Non-empty means the
    /// store rejects the push with these messages (recording a failure time),
    /// rather than the parser refusing it with a 400 before the store.
    pub problems: Vec<String>,
}

/// One line per family (`name Type help=…`), one per problem (`  ! …`) and
/// one per metric (`  {labels} value @ts`): what the parsers' table tests
/// compare.
#[cfg(test)]
pub(crate) fn describe(families: &[Family<'_>]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for f in families {
        let _ = write!(out, "{} {:?}", f.name, f.typ);
        if let Some(h) = &f.help {
            let _ = write!(out, " help={h:?}");
        }
        out.push('\n');
        for p in &f.problems {
            let _ = writeln!(out, "  ! {p}");
        }
        for m in &f.metrics {
            let labels: Vec<String> =
                m.labels.iter().map(|l| format!("{}={:?}", l.name, l.value)).collect();
            let _ = write!(out, "  {{{}}} ", labels.join(","));
            let _ = match &m.value {
                Value::Simple(v) => write!(out, "{v:?}"),
                Value::Summary { count, sum, quantiles } => {
                    write!(out, "sum={sum:?} count={count} q={quantiles:?}")
                }
                Value::Histogram { count, sum, buckets } => {
                    write!(out, "sum={sum:?} count={count} b={buckets:?}")
                }
            };
            if let Some(ts) = m.timestamp_ms {
                let _ = write!(out, " @{ts}");
            }
            out.push('\n');
        }
    }
    out
}
