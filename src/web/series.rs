//! One family's series as a table: labels, then the value, with summaries
//! as quantile/count/sum rows and histograms as bucket/count/sum rows
//! (native histograms as their buckets, as `/api/v1/metrics` shows them).
//!
//! Owns the per-series display rules, including which labels are left out
//! (those already on the group's header) and how many series are shown.

use std::io::Write as _;

use crate::expfmt::proto::native_buckets;
use crate::expfmt::{MetricType, Value};
use crate::grouping::GroupingKey;
use crate::store::group::{StoredFamily, StoredSeries};
use crate::web::html::{push_escaped, push_value};

/// Series shown per family; a family can hold any number, a page must not.
pub const MAX_SERIES_SHOWN: usize = 1000;

/// Appends the series table of `family` (whose group has `key`).
pub fn push_series_table(out: &mut Vec<u8>, key: &GroupingKey, family: &StoredFamily) {
    if family.series.is_empty() {
        out.extend_from_slice(b"<p class=\"muted\">No series.</p>");
        return;
    }
    out.extend_from_slice(
        b"<table class=\"series\"><thead><tr><th>Labels</th><th>Value</th></tr></thead><tbody>",
    );
    for s in family.series.iter().take(MAX_SERIES_SHOWN) {
        out.extend_from_slice(b"<tr><td>");
        push_series_labels(out, key, s);
        out.extend_from_slice(b"</td><td class=\"value mono\">");
        push_series_value(out, family.typ, s);
        out.extend_from_slice(b"</td></tr>");
    }
    out.extend_from_slice(b"</tbody></table>");
    if family.series.len() > MAX_SERIES_SHOWN {
        let _ = write!(
            out,
            "<p class=\"muted\">{} more series not shown (see <a href=\"api/v1/metrics\">api/v1/metrics</a> \
             or the scrape).</p>",
            family.series.len() - MAX_SERIES_SHOWN
        );
    }
}

/// The series' labels as badges, without the group's own labels (shown on
/// the group) and the `instance=""` every series of a group without an
/// instance gets (spec 2.3).
fn push_series_labels(out: &mut Vec<u8>, key: &GroupingKey, s: &StoredSeries) {
    let mut shown = 0;
    for (n, v) in s.labels.iter() {
        let redundant = match key.get(n) {
            Some(kv) => kv == v,
            None => n == "instance" && v.is_empty(),
        };
        if redundant {
            continue;
        }
        if shown > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(b"<span class=\"badge\">");
        push_escaped(out, n);
        out.extend_from_slice(b"=&quot;");
        push_escaped(out, v);
        out.extend_from_slice(b"&quot;</span>");
        shown += 1;
    }
    if shown == 0 {
        out.extend_from_slice(b"<span class=\"muted\">no further labels</span>");
    }
}

/// A name/value row of a summary or histogram; `name` is markup made here
/// from numbers, never pushed text.
fn push_row(out: &mut Vec<u8>, name: &str, value: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(b"<tr><td>");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"</td><td>");
    value(out);
    out.extend_from_slice(b"</td></tr>");
}

fn push_series_value(out: &mut Vec<u8>, typ: MetricType, s: &StoredSeries) {
    match &*s.value() {
        Value::Simple(v) => push_value(out, *v),
        Value::Summary { count, sum, quantiles } => {
            out.extend_from_slice(b"<table class=\"sub\">");
            for (q, v) in quantiles {
                let mut name = Vec::new();
                name.extend_from_slice(b"quantile ");
                push_value(&mut name, *q);
                push_row(out, &String::from_utf8_lossy(&name), |o| push_value(o, *v));
            }
            push_row(out, "count", |o| {
                let _ = write!(o, "{count}");
            });
            push_row(out, "sum", |o| push_value(o, *sum));
            out.extend_from_slice(b"</table>");
        }
        Value::Histogram { count, sum, buckets } => {
            out.extend_from_slice(b"<table class=\"sub\">");
            let native = match (typ, s.raw_value()) {
                (MetricType::Histogram, Some(raw)) => native_buckets(raw),
                _ => None,
            };
            if let Some(n) = native {
                // Boundary rules as /api/v1/metrics numbers them (spec 1.5).
                for (rule, lower, upper, c) in &n.buckets {
                    let (open, close) = match rule {
                        0 => ("(", "]"),
                        1 => ("[", ")"),
                        2 => ("(", ")"),
                        _ => ("[", "]"),
                    };
                    let mut name = Vec::new();
                    name.extend_from_slice(open.as_bytes());
                    push_value(&mut name, *lower);
                    name.extend_from_slice(b", ");
                    push_value(&mut name, *upper);
                    name.extend_from_slice(close.as_bytes());
                    push_row(out, &String::from_utf8_lossy(&name), |o| {
                        let _ = write!(o, "{c}");
                    });
                }
                push_row(out, "count", |o| {
                    let _ = write!(o, "{}", n.count);
                });
                push_row(out, "sum", |o| push_value(o, n.sum));
            } else {
                for (le, c) in buckets {
                    let mut name = Vec::new();
                    name.extend_from_slice("≤ ".as_bytes());
                    push_value(&mut name, *le);
                    push_row(out, &String::from_utf8_lossy(&name), |o| {
                        let _ = write!(o, "{c}");
                    });
                }
                push_row(out, "count", |o| {
                    let _ = write!(o, "{count}");
                });
                push_row(out, "sum", |o| push_value(o, *sum));
            }
            out.extend_from_slice(b"</table>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn family(typ: MetricType, series: Vec<StoredSeries>) -> StoredFamily {
        StoredFamily::new("f".into(), None, typ, series, SystemTime::UNIX_EPOCH)
    }

    fn series(labels: &[(&str, &str)], value: Value) -> StoredSeries {
        StoredSeries::new(labels.iter().copied().collect(), value, None)
    }

    fn table(key: &GroupingKey, f: &StoredFamily) -> String {
        let mut out = Vec::new();
        push_series_table(&mut out, key, f);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn group_labels_are_left_out_and_others_escaped() {
        let key = GroupingKey::new("j", []);
        let f = family(
            MetricType::Gauge,
            vec![series(
                &[("job", "j"), ("instance", ""), ("path", "<script>\"'&")],
                Value::Simple(2.5),
            )],
        );
        let html = table(&key, &f);
        assert!(!html.contains("job="), "{html}");
        assert!(!html.contains("instance="), "{html}");
        assert!(html.contains("path=&quot;&lt;script&gt;&quot;&#39;&amp;&quot;"), "{html}");
        assert!(html.contains(">2.5</td>"), "{html}");
    }

    #[test]
    fn summaries_and_histograms_get_rows() {
        let key = GroupingKey::new("j", []);
        let s = family(
            MetricType::Summary,
            vec![series(
                &[("job", "j")],
                Value::Summary { count: 7, sum: 1.5, quantiles: vec![(0.5, 0.25), (0.99, 1.0)] },
            )],
        );
        let html = table(&key, &s);
        assert!(html.contains("<td>quantile 0.5</td><td>0.25</td>"), "{html}");
        assert!(html.contains("<td>count</td><td>7</td>"), "{html}");
        assert!(html.contains("no further labels"), "{html}");
        let h = family(
            MetricType::Histogram,
            vec![series(
                &[("job", "j")],
                Value::Histogram {
                    count: 3,
                    sum: 0.5,
                    buckets: vec![(0.1, 1), (f64::INFINITY, 3)],
                },
            )],
        );
        let html = table(&key, &h);
        assert!(html.contains("<td>≤ 0.1</td><td>1</td>"), "{html}");
        assert!(html.contains("<td>≤ +Inf</td><td>3</td>"), "{html}");
        assert!(html.contains("<td>sum</td><td>0.5</td>"), "{html}");
    }

    #[test]
    fn long_families_are_cut() {
        let key = GroupingKey::new("j", []);
        let many: Vec<StoredSeries> = (0..MAX_SERIES_SHOWN + 5)
            .map(|i| series(&[("i", &i.to_string())], Value::Simple(1.0)))
            .collect();
        let html = table(&key, &family(MetricType::Gauge, many));
        assert_eq!(html.matches("<tr><td>").count(), MAX_SERIES_SHOWN);
        assert!(html.contains("5 more series not shown"), "{html}");
        assert!(table(&key, &family(MetricType::Gauge, vec![])).contains("No series."));
    }
}
