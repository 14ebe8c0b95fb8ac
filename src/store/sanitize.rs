//! Turning parsed families into stored ones before they reach the owning shard.
//!
//! Owns label sanitisation (spec 2.3: grouping labels overwrite body labels,
//! `instance=""` added, labels sorted) and the consistency checks that need
//! only the push itself (reserved label names, duplicate series within the
//! push, timestamps). Runs on the core that owns the group (which another
//! core hands the body to), or, in WAL mode and for an unchecked push to
//! another core's group, on the core that received the request; the
//! store-wide part of the check is the shard's.

use std::collections::HashSet;
use std::time::SystemTime;

use crate::expfmt::escape::NameValidation;
use smallvec::SmallVec;

use crate::expfmt::{Family, Label, MetricType, Value};
use crate::gofmt::{go_float_string, quote};
use crate::grouping::GroupingKey;
use crate::store::group::{
    by_name, Labels, StoredFamily, StoredSeries, PUSH_FAILURE_TIME, PUSH_TIME,
};

/// A push ready to be applied by the shard that owns its group.
#[derive(Debug)]
pub struct PreparedPush {
    /// The group pushed to.
    pub key: GroupingKey,
    /// PUT (replace the group) rather than POST (replace same-named families).
    pub replace: bool,
    /// Sanitised families, `push_time_seconds`/`push_failure_time_seconds` removed.
    pub families: Vec<StoredFamily>,
    /// Some sample carried a timestamp (the push is rejected, spec 2.1 5a).
    pub has_timestamps: bool,
    /// Errors found in the push alone; non-empty means rejected.
    pub errors: Vec<String>,
    /// When the push was received.
    pub received: SystemTime,
    /// Expire the group this long after this push if not pushed again.
    pub ttl: Option<std::time::Duration>,
}

/// Sanitises `families` for `key` and runs the push-local checks, with
/// legacy label names (see [`prepare_with`]).
pub fn prepare(
    key: GroupingKey,
    replace: bool,
    families: Vec<Family<'_>>,
    received: SystemTime,
) -> PreparedPush {
    prepare_with(key, replace, families, received, NameValidation::Legacy)
}

/// [`prepare`] with the scheme label names are checked by: legacy, or any
/// UTF-8 with `--push.enable-utf8-names` (spec 3.6); `__`-prefixed names are
/// refused by both.
pub fn prepare_with(
    key: GroupingKey,
    replace: bool,
    families: Vec<Family<'_>>,
    received: SystemTime,
    names: NameValidation,
) -> PreparedPush {
    let mut has_timestamps = false;
    let mut errors = Vec::new();
    let mut out: Vec<StoredFamily> = Vec::with_capacity(families.len());
    // Hashes of the names in `out`, once there are many (see below); not
    // built for a push's handful (a hasher's seeding touches a global).
    let mut seen: Option<HashSet<u64, ahash::RandomState>> = None;
    // Text-format names are valid by construction; protobuf ones need checking.
    let invalid = |n: &str| n.starts_with("__") || !names.is_valid_label_name(n.as_bytes());
    let key_invalid = key.labels().iter().any(|(n, _)| invalid(n));
    for fam in families {
        // Pushed timestamp gauges are overwritten by the server (spec 2.2).
        if fam.name == PUSH_TIME || fam.name == PUSH_FAILURE_TIME {
            has_timestamps |= fam.metrics.iter().any(|m| m.timestamp_ms.is_some());
            continue;
        }
        errors.extend(fam.problems);
        let mut series = Vec::with_capacity(fam.metrics.len());
        // By reference: moving each (large) metric out of the vector was a copy per series.
        let mut metrics = fam.metrics;
        let mut pairs = SmallVec::new();
        for m in &mut metrics {
            has_timestamps |= m.timestamp_ms.is_some();
            // Checked on the labels as pushed; the stored labels are searched
            // (for the first bad name in stored order) only if one is suspect.
            let suspect = key_invalid || m.labels.iter().any(|l| invalid(&l.name));
            // Borrowed until packed: one allocation per series.
            stored_pairs(&m.labels, &key, &mut pairs);
            let s = StoredSeries::new(
                Labels::from_sorted(pairs.iter().copied()),
                std::mem::replace(&mut m.value, Value::Simple(0.0)),
                m.raw_value.take().map(Box::from),
            );
            let bad = if suspect { s.labels.iter().find(|(n, _)| invalid(n)) } else { None };
            if let Some((bad, _)) = bad {
                errors.push(format!(
                    "collected metric {} {} has a label with an invalid name: {bad}",
                    quote(fam.name.as_bytes()),
                    proto_text(fam.typ, &s)
                ));
            }
            series.push(s);
        }
        let name: Box<str> = fam.name.into_owned().into();
        let help = fam.help.map(|h| h.into_owned().into());
        // A later family of the same name wins, as in the Go server's map
        // (spec 2.2). Only protobuf bodies can repeat a name; past a few
        // families, the earlier ones are searched only if the name's hash
        // was seen (a scan per family made large pushes quadratic).
        if out.len() < LINEAR_NAMES {
            out.retain(|f| f.name != name);
        } else {
            let set = seen.get_or_insert_with(|| {
                let mut set: HashSet<u64, ahash::RandomState> = HashSet::default();
                let hashes: Vec<u64> =
                    out.iter().map(|f| set.hasher().hash_one(&*f.name)).collect();
                set.extend(hashes);
                set
            });
            if !set.insert(set.hasher().hash_one(&*name)) {
                out.retain(|f| f.name != name);
            }
        }
        let family = StoredFamily::new(name, help, fam.typ, series, received);
        // Series identical after label overriding (spec 2.3). The family's
        // series are sorted by label values, so identical series sit in one
        // run of series that compare equal (nearly always a run of one).
        let series = &family.series;
        for (i, s) in series.iter().enumerate() {
            let earlier = series[..i].iter().rev();
            let mut run = earlier.take_while(|e| e.go_cmp(s) == std::cmp::Ordering::Equal);
            if run.any(|e| e.labels == s.labels) {
                errors.push(duplicate_error(&family.name, family.typ, s));
            }
        }
        out.push(family);
    }
    PreparedPush { key, replace, families: out, has_timestamps, errors, received, ttl: None }
}

/// A pushed series' labels as the store keeps them, into `out`, sorted by
/// name: the pushed labels the grouping key does not override, the key's
/// labels, and an empty `instance` if neither has one.
pub fn stored_pairs<'a>(
    labels: &'a [Label<'_>],
    key: &'a GroupingKey,
    out: &mut SmallVec<[(&'a str, &'a str); 8]>,
) {
    out.clear();
    let pushed = labels.iter().filter(|l| key.get(&l.name).is_none());
    out.extend(pushed.map(|l| (&*l.name, &*l.value)));
    out.extend(key.labels().iter().map(|(n, v)| (n.as_str(), v.as_str())));
    if !out.iter().any(|(n, _)| *n == "instance") {
        out.push(("instance", ""));
    }
    out.sort_by(|a, b| by_name(a.0, b.0));
}

/// Families up to which a repeated name is looked for by a scan.
const LINEAR_NAMES: usize = 16;

/// The Go server's message for a series seen twice.
pub fn duplicate_error(name: &str, typ: MetricType, s: &StoredSeries) -> String {
    format!(
        "collected metric {} {} was collected before with the same name and label values",
        quote(name.as_bytes()),
        proto_text(typ, s)
    )
}

/// A protobuf-text-like rendering of a series for error messages, shaped as
/// the Go server 1.5.1 prints them. Clients must not parse it (spec 2.5).
pub fn proto_text(typ: MetricType, s: &StoredSeries) -> String {
    let mut out = String::from("{ ");
    for (n, v) in s.labels.iter() {
        out.push_str(&format!(
            "label:<name:{} value:{} > ",
            quote(n.as_bytes()),
            quote(v.as_bytes())
        ));
    }
    match &*s.value() {
        Value::Simple(v) => {
            let kind = match typ {
                MetricType::Counter => "counter",
                MetricType::Gauge => "gauge",
                _ => "untyped",
            };
            out.push_str(&format!("{kind}:<value:{} > ", go_float_string(*v)));
        }
        Value::Summary { count, sum, quantiles } => {
            out.push_str(&format!(
                "summary:<sample_count:{count} sample_sum:{} ",
                go_float_string(*sum)
            ));
            for (q, v) in quantiles {
                out.push_str(&format!(
                    "quantile:<quantile:{} value:{} > ",
                    go_float_string(*q),
                    go_float_string(*v)
                ));
            }
            out.push_str("> ");
        }
        Value::Histogram { count, sum, buckets } => {
            out.push_str(&format!(
                "histogram:<sample_count:{count} sample_sum:{} ",
                go_float_string(*sum)
            ));
            for (le, c) in buckets {
                out.push_str(&format!(
                    "bucket:<cumulative_count:{c} upper_bound:{} > ",
                    go_float_string(*le)
                ));
            }
            out.push_str("> ");
        }
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expfmt::text;

    fn prep(path_key: GroupingKey, body: &str) -> PreparedPush {
        let fams = text::parse(body.as_bytes()).unwrap();
        prepare(path_key, true, fams, SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn a_later_family_of_the_same_name_wins_among_few_and_many() {
        for n in [3, LINEAR_NAMES + 4] {
            // Parsed families with repeated names, as a protobuf body can send.
            let body: String = (0..n).map(|i| format!("f{i} {i}\n")).collect();
            let mut fams = text::parse(body.as_bytes()).unwrap();
            let mut again = text::parse(b"f1 100\n").unwrap();
            fams.append(&mut again);
            let p = prepare(GroupingKey::new("j", []), true, fams, SystemTime::UNIX_EPOCH);
            assert_eq!(p.families.len(), n, "{n}");
            let f1: Vec<_> = p.families.iter().filter(|f| &*f.name == "f1").collect();
            assert_eq!(f1.len(), 1);
            assert_eq!(f1[0].first_simple_value(), Some(100.0));
        }
    }

    #[test]
    fn grouping_labels_override_body_and_instance_is_added() {
        let p = prep(GroupingKey::new("j", []), "m{job=\"other\",a=\"1\"} 1\n");
        let s = &p.families[0].series[0];
        let labels: Vec<_> = s.labels.iter().map(|(n, v)| format!("{n}={v}")).collect();
        assert_eq!(labels, ["a=1", "instance=", "job=j"]);
        assert!(p.errors.is_empty());
    }

    #[test]
    fn body_instance_is_kept_without_url_instance() {
        let p = prep(GroupingKey::new("j", []), "m{instance=\"inbody\"} 1\n");
        assert_eq!(p.families[0].series[0].labels.get("instance"), Some("inbody"));
    }

    #[test]
    fn duplicates_after_overriding_are_errors() {
        let p = prep(GroupingKey::new("j", []), "d{job=\"a\"} 1\nd{job=\"b\"} 2\n");
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].starts_with("collected metric \"d\" { label:<name:\"instance\""));
        assert!(p.errors[0].ends_with("was collected before with the same name and label values"));
    }

    #[test]
    fn reserved_label_names_are_errors() {
        let p = prep(GroupingKey::new("j", []), "m{__x=\"1\"} 1\n");
        assert!(p.errors[0].contains("has a label with an invalid name: __x"));
    }

    #[test]
    fn utf8_label_names_need_the_flag() {
        let body = b"{\"m.x\", \"a.b\"=\"1\"} 1\n";
        let fams = || text::parse_with(body, NameValidation::Utf8).unwrap();
        let key = || GroupingKey::new("j", []);
        let p = prepare_with(key(), true, fams(), SystemTime::UNIX_EPOCH, NameValidation::Utf8);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.families[0].series[0].labels.get("a.b"), Some("1"));
        // The same families checked as protobuf ones are without the flag.
        let p = prepare(key(), true, fams(), SystemTime::UNIX_EPOCH);
        assert!(p.errors[0].ends_with("has a label with an invalid name: a.b"), "{:?}", p.errors);
        let reserved = text::parse_with(b"m{\"__a.b\"=\"1\"} 1\n", NameValidation::Utf8).unwrap();
        let p = prepare_with(key(), true, reserved, SystemTime::UNIX_EPOCH, NameValidation::Utf8);
        assert!(p.errors[0].ends_with("invalid name: __a.b"), "{:?}", p.errors);
    }

    #[test]
    fn timestamps_and_pushed_push_time_are_flagged_and_dropped() {
        let p = prep(GroupingKey::new("j", []), "m 1 1000\npush_time_seconds 5\n");
        assert!(p.has_timestamps);
        assert_eq!(p.families.len(), 1);
    }
}
