//! A group pushed again with the same families: values set in place.
//!
//! Owns the fast path of the most common push of a fleet: a job pushing the
//! same metrics with new values. When every pushed family has the identity
//! of the one it replaces (name, type, and the same label sets after the
//! grouping labels are applied), the stored series keep their packed labels,
//! their order and their index entries, and only values, HELP and times
//! change: nothing is allocated per series, nothing is counted in or out of
//! the consistency index, and no family is rebuilt. A protobuf push also
//! replaces each series' encoded value fields (in place when their length
//! is unchanged); an OpenMetrics-only body takes the general path.
//!
//! Anything else falls back to the general path ([`Shard::push`] of a
//! [`super::sanitize::PreparedPush`]), which then does all the work and
//! reports every error exactly as before; this path only ever answers
//! "applied" or "not mine". It declines, in particular, when:
//! - checking, the store may hold conflicts (restored data), so checks
//!   must run (unchecked, nothing is checked either way);
//! - a family, series or label set differs, or a series is pushed twice;
//! - a sample has a timestamp, a label name is reserved (`__`) or, pushed
//!   as protobuf, not a legacy name (the general path checks those against
//!   the scheme in force), or a family carries problems;
//! - a family is shared with a scrape in flight (its `Arc` is not unique);
//! - a PUT would drop families the group holds;
//! - the group lacks its failure gauge (restored data), which the general
//!   path adds.

use std::cmp::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use smallvec::SmallVec;

use super::group::{
    go_cmp_labels, unix_seconds, Labels, StoredFamily, StoredSeries, PUSH_FAILURE_TIME, PUSH_TIME,
};
use super::sanitize::stored_pairs;
use super::Shard;
use crate::expfmt::escape::is_legacy_label_name;
use crate::expfmt::{Family, Value};
use crate::grouping::GroupingKey;

/// The index of the stored series whose packed labels are `packed` (the
/// packed form of `pairs`): `hint` first (where the series pushed at the
/// same place last time was), then a scan of small families, else a binary
/// search of the series, which are sorted by [`StoredSeries::go_cmp`].
fn find(
    series: &[StoredSeries],
    pairs: &[(&str, &str)],
    packed: &[u8],
    hint: usize,
) -> Option<usize> {
    let same = |s: &StoredSeries| s.labels.as_bytes() == packed;
    if series.get(hint).is_some_and(same) {
        return Some(hint);
    }
    if series.len() <= 16 {
        return series.iter().position(same);
    }
    let order = |s: &StoredSeries| go_cmp_labels(s.labels.iter(), pairs.iter().copied());
    let start = series.partition_point(|s| order(s) == Ordering::Less);
    let run = series[start..].iter().take_while(|s| order(s) == Ordering::Equal);
    run.enumerate().find(|(_, s)| same(s)).map(|(i, _)| start + i)
}

/// Appends to `to`, for each metric of `f`, the index of the stored series
/// of `old` it updates; false unless they map one to one. `packed` is
/// scratch space for the packed labels.
fn match_series(
    old: &StoredFamily,
    f: &Family<'_>,
    key: &GroupingKey,
    packed: &mut String,
    to: &mut Vec<u32>,
) -> bool {
    if old.typ != f.typ || old.series.len() != f.metrics.len() || !f.problems.is_empty() {
        return false;
    }
    let mut seen: SmallVec<[bool; 32]> = SmallVec::from_elem(false, old.series.len());
    let mut pairs = SmallVec::new();
    for (i, m) in f.metrics.iter().enumerate() {
        // A reserved name is refused by the general path even where a stored
        // series (restored from a file) holds it.
        let reserved = m.labels.iter().any(|l| l.name.starts_with("__"));
        // Text names are valid by construction; protobuf ones are checked by
        // the general path, against the scheme in force: only names valid
        // in every scheme are taken here.
        let unchecked = m.raw_value.is_some()
            && m.labels.iter().any(|l| !is_legacy_label_name(l.name.as_bytes()));
        if m.timestamp_ms.is_some() || reserved || unchecked {
            return false;
        }
        stored_pairs(&m.labels, key, &mut pairs);
        packed.clear();
        Labels::pack_sorted_into(pairs.iter().copied(), packed);
        // A pusher sends its series in the same order every time: where
        // the last push's series `i` was, or (no order kept: the scrape
        // order) series `i`.
        let hint = old.push_order.as_ref().and_then(|o| o.get(i)).map_or(i, |&at| at as usize);
        let Some(at) = find(&old.series, &pairs, packed.as_bytes(), hint) else { return false };
        if std::mem::replace(&mut seen[at], true) {
            // Pushed twice: the general path reports the duplicate.
            return false;
        }
        to.push(at as u32);
    }
    true
}

/// Keeps `order` (the stored series each pushed metric set, in pushed
/// order) as the family's [`StoredFamily::push_order`], unless it is the
/// scrape order, which needs nothing kept.
fn keep_order(fam: &mut StoredFamily, order: &[u32]) {
    let in_scrape_order = order.iter().enumerate().all(|(i, &at)| at as usize == i);
    if in_scrape_order {
        fam.push_order = None;
    } else if fam.push_order.as_deref() != Some(order) {
        fam.push_order = Some(order.into());
    }
}

/// The family `name`, which was checked to be present and not shared.
fn own<'a>(
    families: &'a mut std::collections::BTreeMap<Box<str>, Arc<StoredFamily>>,
    name: &str,
) -> &'a mut StoredFamily {
    let slot = families.get_mut(name).expect("INVARIANT: matched above");
    Arc::get_mut(slot).expect("INVARIANT: unique above")
}

impl Shard {
    /// Applies a text or protobuf push to `key`'s group in place if every
    /// pushed family has the identity of the one it replaces (see the
    /// module docs); true if it did. False leaves the store untouched: push
    /// the prepared families instead.
    pub fn refresh(
        &mut self,
        key: &GroupingKey,
        replace: bool,
        families: &mut [Family<'_>],
        now: SystemTime,
        ttl: Option<Duration>,
    ) -> bool {
        // Unchecked (`--push.disable-consistency-check`), nothing is checked
        // either way; checked, only a store known consistent may skip it.
        if self.checked && !self.index.is_consistent() {
            return false;
        }
        let Some(group) = self.groups.get_mut(key) else { return false };
        // Only this core clones the `Arc`s (a scrape gathering the shard), so
        // what is unique now stays unique until the end of this call.
        let unique = |f: &Arc<StoredFamily>| Arc::strong_count(f) == 1 && Arc::weak_count(f) == 0;
        // The general path adds a missing failure gauge (restored groups).
        if !group.families.get(PUSH_TIME).is_some_and(unique)
            || !group.families.contains_key(PUSH_FAILURE_TIME)
        {
            return false;
        }
        if replace {
            let kept = [PUSH_TIME, PUSH_FAILURE_TIME];
            let held = group.families.keys().filter(|n| !kept.contains(&&***n)).count();
            if held != families.len() {
                return false;
            }
        }
        // The stored series each pushed metric updates, family after family.
        let mut plan: Vec<u32> = Vec::new();
        let mut packed = String::new();
        for f in families.iter() {
            if f.name == PUSH_TIME || f.name == PUSH_FAILURE_TIME {
                return false;
            }
            let Some(old) = group.families.get(&*f.name).filter(|o| unique(o)) else {
                return false;
            };
            if !match_series(old, f, key, &mut packed, &mut plan) {
                return false;
            }
        }
        let mut rest = plan.as_slice();
        for f in families.iter_mut() {
            let fam = own(&mut group.families, &f.name);
            let (order, after) = rest
                .split_at_checked(f.metrics.len())
                .expect("INVARIANT: the plan has an entry per pushed metric");
            rest = after;
            let mut changed = false;
            for (m, &at) in f.metrics.iter_mut().zip(order) {
                let value = std::mem::replace(&mut m.value, Value::Simple(0.0));
                changed |= fam.series[at as usize].set_value(value, m.raw_value.as_deref());
            }
            keep_order(fam, order);
            if fam.help.as_deref() != f.help.as_deref() {
                fam.help = f.help.as_deref().map(Arc::from);
                changed = true;
            }
            // A family pushed again with the same values keeps its text.
            fam.refreshed(now, changed);
        }
        let push_time = own(&mut group.families, PUSH_TIME);
        let changed = push_time
            .series
            .first_mut()
            .is_some_and(|s| s.set_text_value(Value::Simple(unix_seconds(now))));
        push_time.refreshed(now, changed);
        self.changes += 1;
        self.set_deadline(key, ttl.map(|ttl| now + ttl));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expfmt::escape::NameValidation;
    use crate::expfmt::{proto, text};
    use crate::render::proto::render_parsed;
    use crate::store::sanitize::{prepare, prepare_with};

    fn key(instance: &str) -> GroupingKey {
        GroupingKey::new("job1", [("instance".to_owned(), instance.to_owned())])
    }

    const BODY: &str = "# HELP g A gauge.\n# TYPE g gauge\ng{stage=\"b\"} 1\ng{stage=\"a\"} 2\n\
        # TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n";

    /// A shard (`checked` or not) after one general push of `body` to
    /// `key("i")` at time 0.
    fn stored(body: &str, checked: bool) -> Shard {
        let mut shard = Shard::new(Arc::default(), checked);
        let fams = text::parse(body.as_bytes()).expect("parses");
        shard.push(prepare(key("i"), true, fams, SystemTime::UNIX_EPOCH)).expect("accepted");
        shard
    }

    /// A shard after one general push of `BODY` to `key("i")`.
    fn pushed() -> Shard {
        stored(BODY, true)
    }

    /// The group as the JSON API and the scrape see it, values included.
    fn shown(shard: &Shard) -> String {
        let g = shard.group(&key("i")).expect("group");
        let mut out = String::new();
        for (name, f) in &g.families {
            out.push_str(&format!("{name} {:?} {:?} {:?}\n", f.typ, f.help, f.pushed_at));
            for s in &f.series {
                out.push_str(&format!(
                    "  {:?} {:?} {:?}\n",
                    s.labels.iter().collect::<Vec<_>>(),
                    s.value(),
                    s.raw_value()
                ));
            }
            out.push_str(&String::from_utf8_lossy(f.text()));
        }
        out
    }

    fn refresh(shard: &mut Shard, replace: bool, body: &str, at: u64) -> bool {
        let mut fams = text::parse(body.as_bytes()).expect("parses");
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(at);
        shard.refresh(&key("i"), replace, &mut fams, now, None)
    }

    /// The state the general path reaches with the same push.
    fn via_general_path(replace: bool, body: &str, at: u64) -> String {
        let mut shard = pushed();
        let fams = text::parse(body.as_bytes()).expect("parses");
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(at);
        shard.push(prepare(key("i"), replace, fams, now)).expect("accepted");
        shown(&shard)
    }

    #[test]
    fn same_families_in_another_order_are_updated_in_place() {
        let body = "# TYPE h histogram\nh_sum 9\nh_count 4\nh_bucket{le=\"1\"} 3\n\
            h_bucket{le=\"+Inf\"} 4\n# HELP g New help.\n# TYPE g gauge\n\
            g{stage=\"a\"} 20\ng{stage=\"b\"} 10\n";
        let mut shard = pushed();
        let before = shown(&shard);
        assert!(refresh(&mut shard, true, body, 60));
        let after = shown(&shard);
        assert_ne!(before, after);
        assert_eq!(after, via_general_path(true, body, 60));
        assert!(after.contains("g{instance=\"i\",job=\"job1\",stage=\"a\"} 20"), "{after}");
        assert!(after.contains("push_time_seconds{instance=\"i\",job=\"job1\"} 60"), "{after}");
        // POST of one family leaves the others as they are.
        let post = "# TYPE g gauge\ng{stage=\"a\"} 5\ng{stage=\"b\"} 6\n";
        assert!(refresh(&mut shard, false, post, 70));
        let got = shown(&shard);
        assert!(got.contains("h_sum{instance=\"i\",job=\"job1\"} 9"), "{got}");
        assert!(got.contains("g{instance=\"i\",job=\"job1\",stage=\"b\"} 6"), "{got}");
    }

    /// The stored order of family `name` of the group, if one is kept.
    fn push_order(shard: &Shard, name: &str) -> Option<Vec<u32>> {
        let g = shard.group(&key("i")).expect("group");
        g.families[name].push_order.as_deref().map(<[u32]>::to_vec)
    }

    #[test]
    fn a_push_order_other_than_the_scrape_order_is_kept_for_the_next_push() {
        let mut shard = pushed();
        assert_eq!(push_order(&shard, "g"), None, "a general push keeps none");
        // BODY pushes stage b, then a; they are stored (and scraped) a, b.
        assert!(refresh(&mut shard, true, BODY, 1));
        assert_eq!(push_order(&shard, "g"), Some(vec![1, 0]));
        assert_eq!(push_order(&shard, "h"), None, "one series: the scrape order");
        // The same order again finds each series where the order says.
        let again = BODY.replace("} 1\n", "} 7\n");
        assert!(refresh(&mut shard, true, &again, 2));
        assert_eq!(shown(&shard), via_general_path(true, &again, 2));
        assert_eq!(push_order(&shard, "g"), Some(vec![1, 0]));
        // Another order: the kept one misses, every series is still found,
        // and the order kept becomes none (this one is the scrape order).
        let sorted = "# HELP g A gauge.\n# TYPE g gauge\ng{stage=\"a\"} 3\ng{stage=\"b\"} 4\n\
            # TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n";
        assert!(refresh(&mut shard, true, sorted, 3));
        assert_eq!(shown(&shard), via_general_path(true, sorted, 3));
        assert_eq!(push_order(&shard, "g"), None);
    }

    #[test]
    fn large_families_pushed_in_any_order_are_found() {
        // More series than the linear scan takes: the binary search, then
        // the kept order.
        let body = |order: &[usize], v: u32| {
            let mut b = String::from("# TYPE g gauge\n");
            for &i in order {
                b.push_str(&format!("g{{s=\"{i}\"}} {}\n", v + i as u32));
            }
            b
        };
        let reversed: Vec<usize> = (0..40).rev().collect();
        let shuffled: Vec<usize> = (0..40).map(|i| (i * 17) % 40).collect();
        let mut shard = stored(&body(&reversed, 0), true);
        let general = |b: &str, at: u64| {
            let mut shard = stored(&body(&reversed, 0), true);
            let fams = text::parse(b.as_bytes()).expect("parses");
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(at);
            shard.push(prepare(key("i"), true, fams, now)).expect("accepted");
            shown(&shard)
        };
        for (at, order) in [(1, &reversed), (2, &reversed), (3, &shuffled), (4, &shuffled)] {
            let b = body(order, at as u32 * 100);
            assert!(refresh(&mut shard, true, &b, at));
            assert_eq!(shown(&shard), general(&b, at), "push {at}");
            assert!(push_order(&shard, "g").is_some());
        }
    }

    #[test]
    fn anything_but_the_same_identity_is_declined_untouched() {
        let cases = [
            // A series more, fewer, or other labels.
            "# TYPE g gauge\ng{stage=\"a\"} 1\ng{stage=\"b\"} 1\ng{stage=\"c\"} 1\n# TYPE h histogram\nh_sum 1\nh_count 1\n",
            "# TYPE g gauge\ng{stage=\"a\"} 1\n# TYPE h histogram\nh_sum 1\nh_count 1\n",
            "# TYPE g gauge\ng{stage=\"a\"} 1\ng{other=\"b\"} 1\n# TYPE h histogram\nh_sum 1\nh_count 1\n",
            // Another type.
            "# TYPE g counter\ng{stage=\"a\"} 1\ng{stage=\"b\"} 1\n# TYPE h histogram\nh_sum 1\nh_count 1\n",
            // The same series twice (a grouping label overrides the body's).
            "# TYPE g gauge\ng{stage=\"a\",instance=\"x\"} 1\ng{stage=\"a\"} 1\n# TYPE h histogram\nh_sum 1\nh_count 1\n",
            // A timestamp.
            "# TYPE g gauge\ng{stage=\"a\"} 1 5\ng{stage=\"b\"} 1\n# TYPE h histogram\nh_sum 1\nh_count 1\n",
            // A PUT without a family the group holds, or with a new one.
            "# TYPE g gauge\ng{stage=\"a\"} 1\ng{stage=\"b\"} 1\n",
            "# TYPE g gauge\ng{stage=\"a\"} 1\ng{stage=\"b\"} 1\n# TYPE h histogram\nh_sum 1\nh_count 1\nx 1\n",
            // The server's own timestamp gauges.
            "push_time_seconds 1\n",
        ];
        for body in cases {
            let mut shard = pushed();
            let before = shown(&shard);
            assert!(!refresh(&mut shard, true, body, 60), "{body}");
            assert_eq!(shown(&shard), before, "{body}");
        }
        // A POST with a new family.
        let mut shard = pushed();
        assert!(!refresh(&mut shard, false, "x 1\n", 60));
        // No group yet.
        let mut shard = Shard::new(Arc::default(), true);
        assert!(!refresh(&mut shard, true, BODY, 60));
    }

    #[test]
    fn a_family_held_by_a_scrape_is_not_changed_under_it() {
        let mut shard = pushed();
        let held = shard.families();
        let before = shown(&shard);
        assert!(!refresh(&mut shard, true, BODY, 60));
        assert_eq!(shown(&shard), before);
        drop(held);
        assert!(refresh(&mut shard, true, BODY, 60));
    }

    #[test]
    fn a_group_without_its_failure_gauge_takes_the_general_path() {
        let shard = pushed();
        let g = shard.group(&key("i")).expect("group");
        let mut families = g.families.clone();
        families.remove(PUSH_FAILURE_TIME);
        let restored = super::super::group::Group { key: key("i"), families, deadline: None };
        let mut shard = Shard::new(Arc::default(), true);
        shard.restore(vec![restored]);
        assert!(!refresh(&mut shard, true, BODY, 60));
        let fams = text::parse(BODY.as_bytes()).expect("parses");
        shard.push(prepare(key("i"), true, fams, SystemTime::UNIX_EPOCH)).expect("accepted");
        assert!(shard.group(&key("i")).expect("group").families.contains_key(PUSH_FAILURE_TIME));
        assert!(refresh(&mut shard, true, BODY, 60));
    }

    /// `text_body`'s families as a delimited protobuf body (what the Go
    /// client pushes), parsed as in `names` mode.
    fn proto_body(text_body: &str, names: NameValidation) -> Vec<u8> {
        let mut out = Vec::new();
        let families = text::parse_with(text_body.as_bytes(), names).expect("parses");
        render_parsed(&families, &mut out);
        out
    }

    #[test]
    fn protobuf_pushes_are_updated_in_place_with_their_value_fields() {
        let at = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let first = proto_body(BODY, NameValidation::Legacy);
        let from_proto = || {
            let mut shard = Shard::new(Arc::default(), true);
            let fams = proto::parse(&first).expect("parses");
            shard.push(prepare(key("i"), true, fams, at(0))).expect("accepted");
            shard
        };
        let again = proto_body(
            "# HELP g New help.\n# TYPE g gauge\ng{stage=\"a\"} 20\ng{stage=\"b\"} 10\n\
             # TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 4\nh_sum 9\nh_count 4\n",
            NameValidation::Legacy,
        );
        let mut shard = from_proto();
        let before = shown(&shard);
        let mut fams = proto::parse(&again).expect("parses");
        assert!(shard.refresh(&key("i"), true, &mut fams, at(60), None));
        let mut general = from_proto();
        let fams = proto::parse(&again).expect("parses");
        general.push(prepare(key("i"), true, fams, at(60))).expect("accepted");
        let after = shown(&shard);
        assert_ne!(before, after);
        assert_eq!(after, shown(&general), "the value fields are replaced too");
        // A text push over series stored from protobuf drops their fields.
        assert!(refresh(&mut shard, true, BODY, 70));
        assert_eq!(shown(&shard), via_general_path(true, BODY, 70));

        // A name valid only with UTF-8 names is left to the general path,
        // which checks it against the scheme in force.
        let utf8 = "# TYPE g gauge\ng{\"stage.x\"=\"a\"} 1\n";
        let mut shard = Shard::new(Arc::default(), true);
        let fams = text::parse_with(utf8.as_bytes(), NameValidation::Utf8).expect("parses");
        let prepared = prepare_with(key("i"), true, fams, at(0), NameValidation::Utf8);
        shard.push(prepared).expect("accepted");
        let body = proto_body(utf8, NameValidation::Utf8);
        let mut fams = proto::parse(&body).expect("parses");
        assert!(!shard.refresh(&key("i"), true, &mut fams, at(60), None));
    }

    #[test]
    fn a_reserved_label_name_is_refused_even_if_restored_data_holds_it() {
        let labels = [("__x", "a"), ("instance", "i"), ("job", "job1")];
        let series = StoredSeries::new(labels.into_iter().collect(), Value::Simple(1.0), None);
        let g = StoredFamily::new(
            "g".into(),
            None,
            crate::expfmt::MetricType::Untyped,
            vec![series],
            SystemTime::UNIX_EPOCH,
        );
        let mut shard = pushed();
        let mut families = shard.group(&key("i")).expect("group").families.clone();
        families.retain(|n, _| n.starts_with("push_"));
        families.insert("g".into(), Arc::new(g));
        let restored = super::super::group::Group { key: key("i"), families, deadline: None };
        shard = Shard::new(Arc::default(), true);
        shard.restore(vec![restored]);
        let body = "g{__x=\"a\"} 2\n";
        assert!(!refresh(&mut shard, true, body, 60));
        let fams = text::parse(body.as_bytes()).expect("parses");
        assert!(shard.push(prepare(key("i"), true, fams, SystemTime::UNIX_EPOCH)).is_err());
    }

    #[test]
    fn an_inconsistent_store_takes_the_general_path() {
        let mut shard = pushed();
        shard.index.mark_inconsistent();
        assert!(!refresh(&mut shard, true, BODY, 60));
    }

    #[test]
    fn a_family_pushed_again_unchanged_keeps_its_text() {
        let mut shard = pushed();
        let text_of = |shard: &Shard, name: &str| {
            let f = &shard.group(&key("i")).expect("group").families[name];
            (f.text().as_ptr(), String::from_utf8_lossy(f.text()).into_owned())
        };
        let (g0, h0) = (text_of(&shard, "g"), text_of(&shard, "h"));
        // The same values and HELP: both texts stay (no rendering at the
        // next scrape); push_time_seconds changes.
        assert!(refresh(&mut shard, true, BODY, 60));
        assert_eq!((text_of(&shard, "g"), text_of(&shard, "h")), (g0.clone(), h0.clone()));
        assert_eq!(shown(&shard), via_general_path(true, BODY, 60));
        // One bucket count, or only the HELP text, differs: that family's
        // text is rendered again, the other's stays.
        let bucket = BODY.replace("h_bucket{le=\"1\"} 1", "h_bucket{le=\"1\"} 2");
        assert!(refresh(&mut shard, true, &bucket, 70));
        assert_eq!(text_of(&shard, "g"), g0);
        assert!(text_of(&shard, "h")
            .1
            .contains("h_bucket{instance=\"i\",job=\"job1\",le=\"1\"} 2"));
        assert_eq!(shown(&shard), via_general_path(true, &bucket, 70));
        let help = bucket.replace("A gauge.", "Another gauge.");
        assert!(refresh(&mut shard, true, &help, 80));
        assert_eq!(shown(&shard), via_general_path(true, &help, 80));
        // Bit for bit: -0 is a change from 0 (the text is the same either way).
        let zero = "# TYPE z gauge\nz 0\n";
        let mut shard = stored(zero, true);
        let z0 = text_of(&shard, "z");
        assert!(refresh(&mut shard, true, "# TYPE z gauge\nz -0\n", 60));
        let z1 = &shard.group(&key("i")).expect("group").families["z"];
        assert_eq!(z1.series[0].value().into_owned(), Value::Simple(-0.0));
        assert_eq!(String::from_utf8_lossy(z1.text()), z0.1);
    }

    #[test]
    fn an_unchecked_store_is_updated_in_place_as_the_general_path_would() {
        let body = "# HELP g New help.\n# TYPE g gauge\ng{stage=\"a\"} 20\ng{stage=\"b\"} 10\n\
            # TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 4\nh_sum 9\nh_count 4\n";
        let mut shard = stored(BODY, false);
        // Nothing is checked, so even a store marked inconsistent is updated.
        shard.index.mark_inconsistent();
        assert!(refresh(&mut shard, true, body, 60));
        let mut general = stored(BODY, false);
        let fams = text::parse(body.as_bytes()).expect("parses");
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(60);
        general.push(prepare(key("i"), true, fams, now)).expect("accepted");
        assert_eq!(shown(&shard), shown(&general));
    }

    #[test]
    fn many_series_in_any_order_match_by_search() {
        let mut body = String::from("# TYPE m gauge\n");
        for i in 0..300 {
            body.push_str(&format!("m{{a=\"{}\",b=\"{}\"}} {i}\n", i % 7, i));
        }
        let mut shard = stored(&body, true);
        let mut lines: Vec<&str> = body.lines().skip(1).collect();
        lines.reverse();
        let again = format!("# TYPE m gauge\n{}\n", lines.join("\n"));
        let mut fams = text::parse(again.as_bytes()).expect("parses");
        assert!(shard.refresh(&key("i"), true, &mut fams, SystemTime::UNIX_EPOCH, None));
    }
}
