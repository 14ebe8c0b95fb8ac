//! GET `/api/v1/metrics` (spec 1.5): every group with its families as JSON.

use crate::api::json::{push_object, push_sorted_object, string};
use crate::api::{cors_headers, envelope};
use crate::expfmt::proto::native_buckets;
use crate::expfmt::{MetricType, Value};
use crate::gofmt::go_float_string;
use crate::http::response::Response;
use crate::http::Error;
use crate::runtime::Core;
use crate::store::group::StoredFamily;
use crate::store::GroupView;
use crate::timefmt::rfc3339_nano;

fn labels_object(labels: impl IntoIterator<Item = (String, String)>) -> String {
    let pairs: Vec<(String, String)> = labels.into_iter().collect();
    let mut out = String::new();
    push_sorted_object(&mut out, pairs.iter().map(|(n, v)| (n.as_str(), string(v))));
    out
}

fn family_json(f: &StoredFamily) -> String {
    let mut metrics = String::from("[");
    for (i, s) in f.series.iter().enumerate() {
        if i > 0 {
            metrics.push(',');
        }
        let labels = labels_object(s.labels.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        let mut fields = vec![("labels", labels)];
        match &*s.value() {
            Value::Simple(v) => fields.push(("value", string(&go_float_string(*v)))),
            Value::Summary { count, sum, quantiles } => {
                let q: Vec<(String, String)> = quantiles
                    .iter()
                    .map(|(q, v)| (go_float_string(*q), go_float_string(*v)))
                    .collect();
                fields.push(("quantiles", labels_object(q)));
                fields.push(("count", string(&count.to_string())));
                fields.push(("sum", string(&go_float_string(*sum))));
            }
            Value::Histogram { count, sum, buckets } => {
                // Native histograms as the Pushgateway 1.8+ shows them (spec 1.5).
                let native = match (f.typ, s.raw_value()) {
                    (MetricType::Histogram, Some(raw)) => native_buckets(raw),
                    _ => None,
                };
                if let Some(n) = native {
                    let mut arr = String::from("[");
                    for (i, (rule, lower, upper, c)) in n.buckets.iter().enumerate() {
                        if i > 0 {
                            arr.push(',');
                        }
                        arr.push_str(&format!(
                            "[{rule},{},{},{}]",
                            string(&go_float_string(*lower)),
                            string(&go_float_string(*upper)),
                            string(&c.to_string())
                        ));
                    }
                    arr.push(']');
                    fields.push(("buckets", arr));
                    fields.push(("count", string(&n.count.to_string())));
                    fields.push(("sum", string(&go_float_string(n.sum))));
                } else {
                    let b: Vec<(String, String)> = buckets
                        .iter()
                        .map(|(le, c)| (go_float_string(*le), c.to_string()))
                        .collect();
                    fields.push(("buckets", labels_object(b)));
                    fields.push(("count", string(&count.to_string())));
                    fields.push(("sum", string(&go_float_string(*sum))));
                }
            }
        }
        push_sorted_object(&mut metrics, fields);
    }
    metrics.push(']');
    // A struct in the Go server: its fields in declaration order, `help`
    // left out when empty.
    let mut fields = vec![
        ("time_stamp", string(&rfc3339_nano(f.pushed_at))),
        ("type", string(f.typ.as_proto_name())),
    ];
    if let Some(help) = f.help.as_deref().filter(|h| !h.is_empty()) {
        fields.push(("help", string(help)));
    }
    fields.push(("metrics", metrics));
    let mut out = String::new();
    push_object(&mut out, fields);
    out
}

/// One group's JSON object: labels, last_push_successful, one key per family.
pub fn group_json(g: &GroupView) -> String {
    let mut fields: Vec<(&str, String)> = vec![
        ("labels", labels_object(g.key.labels().iter().cloned())),
        ("last_push_successful", g.last_push_successful.to_string()),
    ];
    // Pushgate only, and only for groups with a TTL: keeps the Go server's shape otherwise.
    if let Some(d) = g.deadline {
        fields.push(("expires_at", string(&rfc3339_nano(d))));
    }
    for f in &g.families {
        // A family named like a fixed key overwrites it, as in the Go server's map.
        fields.retain(|(k, _)| *k != &*f.name);
        fields.push((&f.name, family_json(f)));
    }
    let mut out = String::new();
    push_sorted_object(&mut out, fields);
    out
}

/// Serves the groups document.
pub async fn handle(core: &Core) -> Response {
    let Some(groups) = core.groups().await else {
        return Error::Unavailable.response();
    };
    // The Go server's order is random (map iteration); ours is the key order.
    let mut data = String::from("[");
    for (i, g) in groups.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        data.push_str(&group_json(g));
    }
    data.push(']');
    let body = envelope(&data);
    cors_headers(Response {
        status: 200,
        headers: vec![("Content-Type", "application/json".to_owned())],
        body: body.into_bytes(),
        pieces: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::store::group::{Labels, StoredSeries};

    #[test]
    fn a_family_keeps_the_go_struct_field_order() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let series =
            vec![StoredSeries::new(Labels::from_pairs([("job", "j")]), Value::Simple(2.0), None)];
        let f = StoredFamily::new("b".into(), Some("bee".into()), MetricType::Gauge, series, at);
        assert_eq!(
            family_json(&f),
            r#"{"time_stamp":"2027-01-15T08:00:00Z","type":"GAUGE","help":"bee","metrics":[{"labels":{"job":"j"},"value":"2"}]}"#
        );
        let f = StoredFamily::new("b".into(), None, MetricType::Gauge, Vec::new(), at);
        assert_eq!(
            family_json(&f),
            r#"{"time_stamp":"2027-01-15T08:00:00Z","type":"GAUGE","metrics":[]}"#
        );
    }
}
