//! Keeping OpenMetrics exemplars: the model has no place for them, so a
//! series that has one gets protobuf value bytes (`Metric::raw_value`, as a
//! protobuf push of the same series would carry): a counter's `Counter`
//! message with its exemplar, a histogram's `Histogram` message with each
//! bucket's. Protobuf scrapes re-emit those bytes and OpenMetrics scrapes
//! read the exemplars back from them (`render::openmetrics`), so an exemplar
//! pushed as OpenMetrics text is served like one pushed as protobuf.

use std::borrow::Cow;

use crate::expfmt::proto::wire::num::{
    BUCKET_EXEMPLAR, COUNTER_EXEMPLAR, HISTOGRAM_BUCKET, METRIC_COUNTER, METRIC_HISTOGRAM,
};
use crate::expfmt::proto::wire::{
    put_bytes_field as bytes, put_double as double, put_tag as tag, put_varint, VARINT,
};

/// An `Exemplar` message: labels, value and (milliseconds) timestamp.
pub fn encode(labels: &[(&str, Cow<'_, str>)], value: f64, timestamp_ms: Option<i64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    for (n, v) in labels {
        let mut pair = Vec::with_capacity(n.len() + v.len() + 4);
        bytes(&mut pair, 1, n.as_bytes());
        bytes(&mut pair, 2, v.as_bytes());
        bytes(&mut out, 1, &pair);
    }
    double(&mut out, 2, value);
    if let Some(ms) = timestamp_ms {
        let mut ts = Vec::with_capacity(16);
        let (secs, rem) = (ms.div_euclid(1000), ms.rem_euclid(1000));
        tag(&mut ts, 1, VARINT);
        put_varint(&mut ts, secs as u64);
        if rem != 0 {
            tag(&mut ts, 2, VARINT);
            put_varint(&mut ts, (rem * 1_000_000) as u64);
        }
        bytes(&mut out, 3, &ts);
    }
    out
}

/// Value bytes of a counter with an exemplar.
pub fn counter(value: f64, exemplar: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(exemplar.len() + 16);
    double(&mut c, 1, value);
    bytes(&mut c, COUNTER_EXEMPLAR, exemplar);
    let mut out = Vec::with_capacity(c.len() + 4);
    bytes(&mut out, METRIC_COUNTER, &c);
    out
}

/// Value bytes of a classic histogram whose buckets (by index) may carry
/// exemplars; the same fields, in the same order, as a protobuf scrape
/// writes for it without them.
pub fn histogram(
    count: u64,
    sum: f64,
    buckets: &[(f64, u64)],
    exemplars: &[(usize, Vec<u8>)],
) -> Vec<u8> {
    let mut h = Vec::with_capacity(16 + buckets.len() * 24);
    tag(&mut h, 1, VARINT);
    put_varint(&mut h, count);
    double(&mut h, 2, sum);
    for (i, (le, c)) in buckets.iter().enumerate() {
        let mut b = Vec::with_capacity(24);
        tag(&mut b, 1, VARINT);
        put_varint(&mut b, *c);
        double(&mut b, 2, *le);
        if let Some((_, e)) = exemplars.iter().rev().find(|(at, _)| *at == i) {
            bytes(&mut b, BUCKET_EXEMPLAR, e);
        }
        bytes(&mut h, HISTOGRAM_BUCKET, &b);
    }
    let mut out = Vec::with_capacity(h.len() + 4);
    bytes(&mut out, METRIC_HISTOGRAM, &h);
    out
}
