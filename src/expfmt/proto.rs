//! Zero-copy decoder of delimited protobuf pushes (`io.prometheus.client.MetricFamily`).
//!
//! Owns the protobuf push path: a body of varint-length-delimited
//! `MetricFamily` messages becomes the borrowed [`Family`] model, accepting
//! and rejecting what the Go Pushgateway 1.5.1 accepts and rejects (its
//! `pbutil.ReadDelimited` loop over golang/protobuf 1.3.5 and client_model
//! 0.3.0), with its error messages. Names, HELP texts and label values
//! borrow the body; the value fields of each metric are kept as bytes
//! ([`Metric::raw_value`]) so protobuf scrapes re-emit what the text model
//! cannot hold (native histograms, float counts, exemplars, created
//! timestamps). Also owns [`native_buckets`], the API's view of a native
//! histogram.
//!
//! What Go finds only when it gathers the store (spec 2.5) is recorded in
//! [`Family::problems`] with Go's message shapes; the store rejects such a
//! push. Deliberate differences from Go 1.5.1, all on inputs Go cannot serve:
//! - The `{ … }` rendering in problem messages shows the pushed labels sorted
//!   by name; Go shows them after grouping labels were applied (with `job`
//!   and `instance`), which the parser cannot know. Likewise a non-UTF-8 label
//!   value, a duplicate label or a `quantile` label is judged on the pushed
//!   labels, before grouping labels overwrite any of them.
//! - A family of an unknown type number (not 0..=5) with metrics, and a
//!   `GAUGE_HISTOGRAM` metric without a histogram, are problems: Go stores
//!   them and every later text scrape fails.
//! - Names, HELP texts and label names/values that are not UTF-8 are decoded
//!   lossily (a push with such a label value is rejected anyway; Go would
//!   store such a name or HELP raw). Families are deduplicated by the decoded
//!   name (later wins, as Go's map does with raw names).
//! - Unknown fields of the `MetricFamily` itself (e.g. `unit`) are dropped;
//!   fields numbered 1 (labels) or 6 (timestamp) in a wrong wire type are not
//!   part of [`Metric::raw_value`].
//! - Histogram counts come from the integer fields only (`sample_count`,
//!   `cumulative_count`), as Go 1.5.1 prints them: a float histogram shows
//!   count 0 in text scrapes (latest Pushgateways use the float counts).

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use smallvec::SmallVec;

use super::escape::NameValidation;
use super::family::{Family, Label, Metric, MetricType, Value};
use crate::gofmt::quote;

mod native;
mod schema;
pub(crate) mod wire;

#[cfg(test)]
pub(crate) mod tests;

pub use native::{native_buckets, NativeCount, NativeHistogram};

use schema::{validate, COUNTER, GAUGE, HISTOGRAM, METRIC, METRIC_FAMILY_GO, SUMMARY, UNTYPED};
use wire::{fields, varint, Fields, Val};

/// Why a protobuf body was rejected: one message of the Go libraries each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `unexpected EOF`: a message is longer than the rest of the body, or a
    /// field inside it is truncated or has an over-long varint (Go's
    /// `io.ErrUnexpectedEOF`, which golang/protobuf 1.3.5 also returns for
    /// malformed varints). A text body sent as protobuf nearly always ends here.
    UnexpectedEof,
    /// `invalid varint32 encountered`: a length prefix longer than 5 bytes.
    InvalidVarint32,
    /// `proto: <message>: illegal tag 0 (wire type <wire>)`: a field number 0
    /// in the named Go message type (e.g. `io_prometheus_client.Metric`).
    IllegalTag0 {
        /// Go type name of the message.
        message: &'static str,
        /// The wire type of the offending tag.
        wire: u8,
    },
    /// `proto: can't skip unknown wire type <n>`: a field of wire type 4, 6
    /// or 7 (only wire types 0–3 and 5 can be read or skipped).
    UnknownWireType(u8),
}

/// A rejected protobuf body. `Display` is the body of the Go server's 400.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    /// Which message.
    pub kind: ErrorKind,
    /// Byte offset in the body where the offending field or prefix starts
    /// (for logs; Go's message has none).
    pub offset: usize,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::UnexpectedEof => f.write_str("unexpected EOF"),
            ErrorKind::InvalidVarint32 => f.write_str("invalid varint32 encountered"),
            ErrorKind::IllegalTag0 { message, wire } => {
                write!(f, "proto: {message}: illegal tag 0 (wire type {wire})")
            }
            ErrorKind::UnknownWireType(w) => write!(f, "proto: can't skip unknown wire type {w}"),
        }
    }
}

impl std::error::Error for Error {}

/// Parses a whole body of delimited `MetricFamily` messages.
///
/// Reads to the end of the body: an empty body is zero families. As with Go's
/// `pbutil.ReadDelimited`, a length prefix cut off by the end of the body, or
/// a non-zero length prefix that is the last thing in the body, ends the
/// stream without error. Families keep their pushed order; of two families
/// with the same name the later one wins (Go keeps them in a map). Families
/// without metrics are kept. Absent `type` is `COUNTER` (the proto2 default,
/// as Go reads it).
///
/// # Errors
/// [`Error`] with Go's message for the first malformed message; no family is
/// returned then.
pub fn parse(body: &[u8]) -> Result<Vec<Family<'_>>, Error> {
    parse_with(body, NameValidation::Legacy)
}

/// [`parse`] with the name validation scheme the problems are judged by:
/// names are never refused here, but the label name Go's gather stops at
/// depends on it (spec 2.5). With [`NameValidation::Utf8`] a label name that
/// is not UTF-8 is itself a problem (the store sees it decoded lossily).
///
/// # Errors
/// As [`parse`].
pub fn parse_with(body: &[u8], names: NameValidation) -> Result<Vec<Family<'_>>, Error> {
    let mut families = Vec::new();
    let mut pos = 0;
    'messages: while pos < body.len() {
        let mut len = 0u64;
        let mut n = 0;
        loop {
            if n == 5 {
                return Err(Error { kind: ErrorKind::InvalidVarint32, offset: pos });
            }
            let Some(&b) = body.get(pos + n) else { break 'messages };
            len |= u64::from(b & 0x7f) << (7 * n);
            n += 1;
            if b < 0x80 {
                break;
            }
        }
        pos += n;
        let rest = body.len() - pos;
        if len > 0 && rest == 0 {
            // `io.ReadFull` read nothing: plain `io.EOF`, which ends the push.
            break;
        }
        if (rest as u64) < len {
            return Err(Error { kind: ErrorKind::UnexpectedEof, offset: pos });
        }
        let end = pos + len as usize;
        families.push(parse_family(&body[pos..end], pos, names)?);
        pos = end;
    }
    dedup_by_name(&mut families);
    Ok(families)
}

/// Keeps the last family of each name.
fn dedup_by_name(families: &mut Vec<Family<'_>>) {
    if families.len() < 2 {
        return;
    }
    let keep: Vec<bool> = {
        let mut seen = HashSet::with_capacity(families.len());
        let mut keep: Vec<bool> = families.iter().rev().map(|f| seen.insert(&*f.name)).collect();
        keep.reverse();
        keep
    };
    if keep.iter().all(|k| *k) {
        return;
    }
    let mut i = 0;
    families.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// Text as a borrowed `str` when it is UTF-8, else decoded lossily.
fn text(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// Count, sum and `(bound, value)` pairs of a summary or classic histogram.
type Classic<T> = (u64, f64, Vec<(f64, T)>);

/// A metric as read, but for its labels (read straight into its `Metric`):
/// every value it has, before its family's type says which one counts.
struct Pending<'buf> {
    /// The whole `Metric` message, for problem messages.
    bytes: &'buf [u8],
    /// Some label needs the slow check: a name that is empty, not UTF-8 or
    /// `quantile`, or a value that is not UTF-8.
    odd_labels: bool,
    timestamp_ms: Option<i64>,
    gauge: Option<f64>,
    counter: Option<f64>,
    untyped: Option<f64>,
    /// `(sample_count, sample_sum, quantiles)`.
    summary: Option<Classic<f64>>,
    /// `(sample_count, sample_sum, buckets)`.
    histogram: Option<Classic<u64>>,
    raw_value: Cow<'buf, [u8]>,
}

fn parse_family(msg: &[u8], base: usize, names: NameValidation) -> Result<Family<'_>, Error> {
    // The name and type the family ends up with (the last of each field
    // wins), and how many metrics it has: a first look at its own fields
    // only, so that each metric becomes a `Metric` as soon as it is read.
    // (Encoders write name and type first, but protobuf lets them come
    // anywhere.) A malformed field stops this look; the reading below then
    // meets it and reports it where Go does.
    let (mut name, mut help, mut typ, mut count) = (&b""[..], None, 0i32, 0usize);
    let mut look = Fields::new(msg, base, METRIC_FAMILY_GO);
    while let Ok(Some(f)) = look.next_field() {
        match (f.num, f.val) {
            (1, Val::Bytes(b)) => name = b,
            (2, Val::Bytes(b)) => help = Some(b),
            // Go reads the enum as an int32: the varint truncated.
            (3, Val::Varint(v)) => typ = v as u32 as i32,
            (4, Val::Bytes(_)) => count += 1,
            _ => {}
        }
    }
    let known = match typ {
        0 => Some(MetricType::Counter),
        1 => Some(MetricType::Gauge),
        2 => Some(MetricType::Summary),
        3 => Some(MetricType::Untyped),
        4 => Some(MetricType::Histogram),
        5 => Some(MetricType::GaugeHistogram),
        _ => None,
    };
    let mut problems = Vec::new();
    if known.is_none() && count > 0 {
        problems.push(format!("metric family {} has unknown metric type {typ}", quote(name)));
    }
    let mut metrics = Vec::with_capacity(count);
    let mut it = Fields::new(msg, base, METRIC_FAMILY_GO);
    while let Some(f) = it.next_field()? {
        if let (4, Val::Bytes(b)) = (f.num, f.val) {
            // The labels go straight into the stored metric (~200 bytes
            // not copied); the rest is filled in once read.
            metrics.push(Metric {
                labels: SmallVec::new(),
                value: Value::Simple(0.0),
                timestamp_ms: None,
                raw_value: None,
            });
            let Some(m) = metrics.last_mut() else { continue };
            let p = parse_metric(b, it.abs(f.end - b.len()), &mut m.labels)?;
            if let Some(problem) = problem(name, known, &p, &m.labels, names) {
                problems.push(problem);
            }
            fill_metric(m, p, known);
        }
    }
    Ok(Family {
        name: text(name),
        help: help.map(text),
        typ: known.unwrap_or(MetricType::Untyped),
        metrics,
        problems,
    })
}

/// Gives metric `m` the value of `p` its family's type (`known`) says
/// counts, its timestamp and its value fields.
#[inline(always)]
fn fill_metric<'buf>(m: &mut Metric<'buf>, mut p: Pending<'buf>, known: Option<MetricType>) {
    m.value = match known {
        Some(MetricType::Counter) => Value::Simple(p.counter.unwrap_or(0.0)),
        Some(MetricType::Gauge) => Value::Simple(p.gauge.unwrap_or(0.0)),
        Some(MetricType::Untyped) | None => Value::Simple(p.untyped.unwrap_or(0.0)),
        Some(MetricType::Summary) => {
            let (count, sum, quantiles) = p.summary.take().unwrap_or_default();
            Value::Summary { count, sum, quantiles }
        }
        Some(MetricType::Histogram | MetricType::GaugeHistogram) => {
            let (count, sum, buckets) = p.histogram.take().unwrap_or_default();
            Value::Histogram { count, sum, buckets }
        }
    };
    m.timestamp_ms = p.timestamp_ms;
    m.raw_value = Some(p.raw_value);
}

/// A `Gauge`/`Counter`/`Untyped` message `b` (schema `msg`, at `at` in
/// the body), checked, merged into what earlier occurrences gave (`prev`).
fn simple_value(
    prev: Option<f64>,
    b: &[u8],
    msg: &'static schema::Msg,
    at: usize,
) -> Result<Option<f64>, Error> {
    if let Some(v) = plain_value(b) {
        return Ok(Some(v));
    }
    validate(msg, b, at)?;
    Ok(merged_value(prev, b))
}

/// The last `double` field 1 of a `Gauge`/`Counter`/`Untyped` occurrence,
/// else what earlier occurrences gave (protobuf merges them), else 0.
fn merged_value(prev: Option<f64>, b: &[u8]) -> Option<f64> {
    let last = fields(b).filter(|f| f.num == 1).filter_map(|f| f.f64()).last();
    Some(last.or(prev).unwrap_or(0.0))
}

/// The value of a `Gauge`/`Counter`/`Untyped` message that is its value
/// field alone (tag, eight bytes), as every encoder writes a plain value:
/// valid as it is, and read without walking its fields.
fn plain_value(b: &[u8]) -> Option<f64> {
    match b {
        [0x09, bits @ ..] => <[u8; 8]>::try_from(bits).ok().map(f64::from_le_bytes),
        _ => None,
    }
}

/// Reads the classic parts of `Histogram` message `b` (already validated)
/// into `h`, field by field: count and sum (the last of each wins) and
/// buckets (appended).
fn histogram_fields(b: &[u8], h: &mut Classic<u64>) {
    for f in fields(b) {
        match (f.num, f.val) {
            (1, Val::Varint(v)) => h.0 = v,
            (2, Val::Fixed64(bits)) => h.1 = f64::from_bits(bits),
            (3, Val::Bytes(bucket)) => {
                let (mut upper, mut count) = (0.0, 0);
                for f in fields(bucket) {
                    match (f.num, f.val) {
                        (1, Val::Varint(v)) => count = v,
                        (2, Val::Fixed64(bits)) => upper = f64::from_bits(bits),
                        _ => {}
                    }
                }
                h.2.push((upper, count));
            }
            _ => {}
        }
    }
}

/// Reads a classic `Histogram` message written as every encoder writes
/// one (count, sum, then buckets of a count and an upper bound each, in
/// field order, nothing else) into `h`, as [`parse_metric`]'s field walk
/// would, in one pass that also shows it valid. `false`, with `h` as it
/// was, for anything else (native or float parts, exemplars, other orders,
/// malformed fields): the walk and the schema check then read it.
fn plain_histogram(b: &[u8], h: &mut Classic<u64>) -> bool {
    let before = (h.0, h.1, h.2.len());
    let read = |h: &mut Classic<u64>| -> Option<()> {
        let mut rest = b;
        while let [tag, tail @ ..] = rest {
            rest = match tag {
                0x08 => {
                    let (v, n) = varint(tail)?;
                    h.0 = v;
                    tail.get(n..)?
                }
                0x11 => {
                    let (bits, tail) = tail.split_first_chunk::<8>()?;
                    h.1 = f64::from_le_bytes(*bits);
                    tail
                }
                0x1a => {
                    let (len, n) = varint(tail)?;
                    let (bucket, tail) =
                        tail.get(n..)?.split_at_checked(usize::try_from(len).ok()?)?;
                    let [0x08, bucket @ ..] = bucket else { return None };
                    let (count, n) = varint(bucket)?;
                    let [0x11, upper @ ..] = bucket.get(n..)? else { return None };
                    let upper = <[u8; 8]>::try_from(upper).ok()?;
                    h.2.push((f64::from_le_bytes(upper), count));
                    tail
                }
                _ => return None,
            };
        }
        Some(())
    };
    if read(h).is_some() {
        return true;
    }
    (h.0, h.1) = (before.0, before.1);
    h.2.truncate(before.2);
    false
}

/// Reads `Metric` message `msg` (at `base` in the body); its labels are
/// pushed onto `labels`.
fn parse_metric<'buf>(
    msg: &'buf [u8],
    base: usize,
    labels: &mut SmallVec<[Label<'buf>; 4]>,
) -> Result<Pending<'buf>, Error> {
    let mut p = Pending {
        bytes: msg,
        odd_labels: false,
        timestamp_ms: None,
        gauge: None,
        counter: None,
        untyped: None,
        summary: None,
        histogram: None,
        raw_value: Cow::Borrowed(&[]),
    };
    // The value fields (all but labels and timestamp) as one run of bytes,
    // unless a label or timestamp field sits between two of them.
    let (mut run, mut gap, mut split) = (None::<(usize, usize)>, false, false);
    let mut it = Fields::new(msg, base, METRIC.go);
    while let Some(f) = it.next_field()? {
        if f.num == 1 || f.num == 6 {
            gap |= run.is_some();
        } else {
            match &mut run {
                None => run = Some((f.start, f.end)),
                Some(r) => {
                    split |= gap;
                    r.1 = f.end;
                }
            }
        }
        let Val::Bytes(b) = f.val else {
            if let (6, Val::Varint(v)) = (f.num, f.val) {
                p.timestamp_ms = Some(v as i64);
            }
            continue;
        };
        let at = it.abs(f.end - b.len());
        match f.num {
            1 => {
                let (name, value) = parse_label(b, at)?;
                let (name_text, value_text) = (text(name), text(value));
                p.odd_labels |= name.is_empty()
                    || name == b"quantile"
                    || matches!(name_text, Cow::Owned(_))
                    || matches!(value_text, Cow::Owned(_));
                labels.push(Label { name: name_text, value: value_text });
            }
            2 => p.gauge = simple_value(p.gauge, b, &GAUGE, at)?,
            3 => p.counter = simple_value(p.counter, b, &COUNTER, at)?,
            5 => p.untyped = simple_value(p.untyped, b, &UNTYPED, at)?,
            4 => {
                validate(&SUMMARY, b, at)?;
                let s = p.summary.get_or_insert_with(Default::default);
                for f in fields(b) {
                    match (f.num, f.val) {
                        (1, Val::Varint(v)) => s.0 = v,
                        (2, Val::Fixed64(bits)) => s.1 = f64::from_bits(bits),
                        (3, Val::Bytes(q)) => {
                            let (mut quantile, mut value) = (0.0, 0.0);
                            for f in fields(q) {
                                match (f.num, f.f64()) {
                                    (1, Some(v)) => quantile = v,
                                    (2, Some(v)) => value = v,
                                    _ => {}
                                }
                            }
                            s.2.push((quantile, value));
                        }
                        _ => {}
                    }
                }
            }
            7 => {
                let h = p.histogram.get_or_insert_with(Default::default);
                if plain_histogram(b, h) {
                    continue;
                }
                validate(&HISTOGRAM, b, at)?;
                histogram_fields(b, h);
            }
            _ => {}
        }
    }
    p.raw_value = match run {
        None => Cow::Borrowed(&[]),
        Some((start, end)) if !split => Cow::Borrowed(&msg[start..end]),
        Some(_) => {
            let mut owned = Vec::new();
            for f in fields(msg).filter(|f| f.num != 1 && f.num != 6) {
                owned.extend_from_slice(&msg[f.start..f.end]);
            }
            Cow::Owned(owned)
        }
    };
    Ok(p)
}

/// A `LabelPair`: name and value (last occurrence wins, absent is empty).
fn parse_label(msg: &[u8], base: usize) -> Result<(&[u8], &[u8]), Error> {
    // As every encoder writes it: name (field 1), then value (field 2), each
    // shorter than 128 bytes, and nothing else.
    if let [0x0a, n @ 0..=0x7f, rest @ ..] = msg {
        let (name, rest) = rest.split_at_checked(usize::from(*n)).unwrap_or_default();
        if let [0x12, m @ 0..=0x7f, value @ ..] = rest {
            if usize::from(*m) == value.len() {
                return Ok((name, value));
            }
        }
    }
    label_fields(msg, base)
}

/// [`parse_label`] field by field: any encoding.
fn label_fields(msg: &[u8], base: usize) -> Result<(&[u8], &[u8]), Error> {
    let mut it = Fields::new(msg, base, schema::LABEL_PAIR.go);
    let (mut name, mut value): (&[u8], &[u8]) = (b"", b"");
    while let Some(f) = it.next_field()? {
        match (f.num, f.val) {
            (1, Val::Bytes(b)) => name = b,
            (2, Val::Bytes(b)) => value = b,
            _ => {}
        }
    }
    Ok((name, value))
}

/// The labels of a metric message as raw `(name, value)`, stably sorted by name.
fn sorted_raw_labels(msg: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut labels: Vec<(&[u8], &[u8])> = fields(msg)
        .filter(|f| f.num == 1)
        .filter_map(|f| f.bytes())
        .filter_map(|b| parse_label(b, 0).ok())
        .collect();
    labels.sort_by(|a, b| a.0.cmp(b.0));
    labels
}

/// Go's `CompactTextString` of a metric (labels sorted by name), as the
/// `{ … }` part of the gather errors prints it.
fn metric_text(msg: &[u8]) -> String {
    let mut out = String::new();
    let mut labels: Vec<&[u8]> =
        fields(msg).filter(|f| f.num == 1).filter_map(|f| f.bytes()).collect();
    labels.sort_by_cached_key(|b| parse_label(b, 0).map(|(n, _)| n).unwrap_or_default());
    for l in labels {
        out.push_str("label:<");
        schema::message_text(&schema::LABEL_PAIR, &[l], None, &mut out);
        out.push_str("> ");
    }
    schema::message_text(&METRIC, &[msg], Some(1), &mut out);
    out
}

/// The problem Go's `checkMetricConsistency` reports first for this metric,
/// if any, leaving out invalid label names and duplicate series (the store's
/// sanitising reports those after grouping labels are applied).
fn problem(
    name: &[u8],
    typ: Option<MetricType>,
    p: &Pending<'_>,
    labels: &[Label<'_>],
    names: NameValidation,
) -> Option<String> {
    let head = || format!("collected metric {} {{ {}}}", quote(name), metric_text(p.bytes));
    if let Some(t) = typ {
        let missing = match t {
            MetricType::Counter => p.counter.is_none(),
            MetricType::Gauge => p.gauge.is_none(),
            MetricType::Summary => p.summary.is_none(),
            MetricType::Untyped => p.untyped.is_none(),
            MetricType::Histogram | MetricType::GaugeHistogram => p.histogram.is_none(),
        };
        if missing {
            return Some(format!("{} is not a {}", head(), t.as_proto_name()));
        }
    }
    let duplicates = if labels.len() <= 8 {
        (1..labels.len()).any(|i| labels[..i].iter().any(|l| l.name == labels[i].name))
    } else {
        let mut names: SmallVec<[&str; 32]> = labels.iter().map(|l| &*l.name).collect();
        names.sort_unstable();
        names.windows(2).any(|w| w[0] == w[1])
    };
    if !p.odd_labels && !duplicates {
        return None;
    }
    // Go walks the labels sorted by name, starting with "" as the previous name.
    let mut previous: &[u8] = b"";
    for (n, v) in sorted_raw_labels(p.bytes) {
        if n == previous {
            let n = String::from_utf8_lossy(n);
            return Some(format!("{} has two or more labels with the same name: {n}", head()));
        }
        if n.starts_with(b"__") || !names.is_valid_label_name(n) {
            if names == NameValidation::Utf8 && !n.is_empty() && std::str::from_utf8(n).is_err() {
                // Lossily decoded, the store would take it for a valid name.
                let n = String::from_utf8_lossy(n);
                return Some(format!("{} has a label with an invalid name: {n}", head()));
            }
            return None;
        }
        if p.summary.is_some() && n == b"quantile" {
            return Some(format!("{} must not have an explicit \"quantile\" label", head()));
        }
        if std::str::from_utf8(v).is_err() {
            return Some(format!(
                "{} has a label named {} whose value is not utf8: {}",
                head(),
                quote(n),
                quote(v)
            ));
        }
        previous = n;
    }
    None
}
