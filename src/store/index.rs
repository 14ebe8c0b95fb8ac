//! The store-wide consistency index: what every group holds, by family name.
//!
//! The Go Pushgateway checks a push by gathering the whole store with the
//! push applied (O(store) per push). This index gives the same verdicts in
//! O(pushed series): per family name it counts, per type, the groups whose
//! family of that name has series, and per series fingerprint the groups
//! exposing it. A push is valid iff, after its delta, no name has two types,
//! no fingerprint is exposed twice, and no histogram/summary name collides
//! with a `_count`/`_sum`/`_bucket` name (client_golang's gather checks).
//!
//! The index is the one structure shared by all shards: the check must be
//! atomic across names that may be owned by different cores. It is split into
//! stripes by name hash, each behind its own mutex; a push locks only the
//! stripes of the names it touches, in ascending order (so no deadlock), for a
//! time proportional to the pushed body. There is no global lock.
//!
//! INVARIANT: counts reflect exactly the families stored in all shards whose
//! series lists are non-empty (families without series are dropped at scrape).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::expfmt::MetricType;
use crate::gofmt::quote;
use crate::store::fpset::FingerprintSet;
use crate::store::group::{Labels, StoredFamily, StoredSeries};
use crate::store::route::stable_hash;
use crate::store::sanitize::duplicate_error;

const STRIPES: usize = 64;

/// The identity of a series within the store: a hash of name and labels.
///
/// 64 bits: with 10^6 series the chance of any collision is ~3·10^-8.
pub fn fingerprint(name: &str, labels: &Labels) -> u64 {
    stable_hash(&(name, labels.as_bytes()))
}

#[derive(Default)]
struct NameEntry {
    /// Per `MetricType as usize`: number of stored families of this name and type.
    types: [u32; 6],
    /// Fingerprints exposed by at least one group. A consistent store
    /// exposes each at most once, so a set (8 bytes per slot) holds the
    /// counts of nearly every series.
    series: FingerprintSet,
    /// Counts of the fingerprints exposed more than once: while a check has
    /// applied a push's delta, or in a store restored without checks.
    shared: HashMap<u64, u32, ahash::RandomState>,
}

impl NameEntry {
    fn is_present(&self) -> bool {
        self.types.iter().any(|c| *c > 0)
    }

    /// Number of groups exposing the series `fp`.
    fn count(&self, fp: u64) -> u32 {
        match self.shared.get(&fp) {
            Some(&c) => c,
            None => u32::from(self.series.contains(fp)),
        }
    }

    fn increment(&mut self, fp: u64) {
        if !self.series.insert(fp) {
            *self.shared.entry(fp).or_insert(1) += 1;
        }
    }

    fn decrement(&mut self, fp: u64) {
        match self.shared.get_mut(&fp) {
            Some(c) if *c > 2 => *c -= 1,
            Some(_) => {
                self.shared.remove(&fp);
            }
            None => {
                self.series.remove(fp);
            }
        }
    }
}

#[derive(Default)]
struct Stripe {
    names: HashMap<Box<str>, NameEntry, ahash::RandomState>,
}

/// The store-wide consistency index (see the module docs).
pub struct Index {
    stripes: Box<[Mutex<Stripe>]>,
    /// Groups in the whole store (for `--runtime.max-groups`).
    groups: AtomicUsize,
    /// The store may hold families that conflict with each other: data was
    /// restored (which, as upstream, is not re-validated) with a conflict,
    /// or a failure gauge was stored against the index's verdict. While
    /// false, every pair of stored families was checked when the later one
    /// was added, so a family replaced by one of the same identity needs no
    /// new check: every conflict is between two families, and depends only
    /// on their names, types and label sets.
    dirty: AtomicBool,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            stripes: (0..STRIPES).map(|_| Mutex::default()).collect(),
            groups: AtomicUsize::new(0),
            dirty: AtomicBool::new(false),
        }
    }
}

fn stripe_of(name: &str) -> usize {
    (stable_hash(name) % STRIPES as u64) as usize
}

/// Calls `f` with `name` followed by `suffix`, without allocating for the
/// names metrics have (the check runs for every histogram and summary pushed).
fn with_suffix<R>(name: &str, suffix: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 256];
    let len = name.len() + suffix.len();
    if len <= buf.len() {
        buf[..name.len()].copy_from_slice(name.as_bytes());
        buf[name.len()..len].copy_from_slice(suffix.as_bytes());
        if let Ok(joined) = std::str::from_utf8(&buf[..len]) {
            return f(joined);
        }
    }
    f(&format!("{name}{suffix}"))
}

/// Stripes of the names whose presence decides the suffix-collision check
/// for `name`.
fn related_stripes(name: &str, typ: MetricType, out: &mut Vec<usize>) {
    for suffix in ["_count", "_sum", "_bucket"] {
        if let Some(base) = name.strip_suffix(suffix) {
            out.push(stripe_of(base));
        }
    }
    if matches!(typ, MetricType::Summary) || typ.is_histogram() {
        for suffix in ["_count", "_sum", "_bucket"] {
            out.push(with_suffix(name, suffix, stripe_of));
        }
    }
}

/// The locked stripes a check works on.
struct Locked<'a> {
    guards: Vec<(usize, MutexGuard<'a, Stripe>)>,
}

impl Locked<'_> {
    fn entry(&mut self, name: &str) -> &mut NameEntry {
        let s = stripe_of(name);
        let (_, guard) = self
            .guards
            .iter_mut()
            .find(|(i, _)| *i == s)
            .expect("INVARIANT: every touched name's stripe is locked");
        // Looked up before inserting: the name is allocated only when new.
        if !guard.names.contains_key(name) {
            guard.names.insert(name.into(), NameEntry::default());
        }
        guard.names.get_mut(name).expect("present or just inserted")
    }

    fn get(&self, name: &str) -> Option<&NameEntry> {
        let s = stripe_of(name);
        self.guards.iter().find(|(i, _)| *i == s).and_then(|(_, g)| g.names.get(name))
    }

    /// Counts `fam` in (`sign` 1) or out (`sign` -1) of the index.
    fn add(&mut self, fam: &StoredFamily, sign: i32) {
        if fam.series.is_empty() {
            return;
        }
        let entry = self.entry(&fam.name);
        let t = &mut entry.types[fam.typ as usize];
        *t = t.wrapping_add_signed(sign);
        for (fp, _) in fingerprints(fam) {
            if sign > 0 {
                entry.increment(fp);
            } else {
                entry.decrement(fp);
            }
        }
        if !entry.is_present() {
            let name = fam.name.clone();
            let s = stripe_of(&name);
            if let Some((_, g)) = self.guards.iter_mut().find(|(i, _)| *i == s) {
                g.names.remove(&name);
            }
        }
    }
}

/// The families of one side of a replacement, to find the partner of a
/// family of the other side: a scan of a few, a map by name of many.
struct Partners<'a> {
    list: &'a [&'a StoredFamily],
    by_name: Option<HashMap<&'a str, &'a StoredFamily>>,
}

impl<'a> Partners<'a> {
    fn of(list: &'a [&'a StoredFamily]) -> Partners<'a> {
        let by_name = (list.len() > 16).then(|| list.iter().map(|f| (&*f.name, *f)).collect());
        Partners { list, by_name }
    }

    /// Whether `f` replaces (or is replaced by) a family of this side with
    /// the same identity.
    fn unchanged(&self, f: &StoredFamily) -> bool {
        match &self.by_name {
            Some(m) => m.get(&*f.name).is_some_and(|o| same_identity(o, f)),
            None => self.list.iter().any(|o| same_identity(o, f)),
        }
    }
}

/// Whether replacing `old` by `new` leaves the index unchanged: same name,
/// type and label sets (a group pushed again with new values, the common
/// case), so neither needs counting out and in again.
fn same_identity(old: &StoredFamily, new: &StoredFamily) -> bool {
    old.name == new.name
        && old.typ == new.typ
        && old.series.len() == new.series.len()
        && old.series.iter().zip(&new.series).all(|(a, b)| a.labels == b.labels)
}

impl Index {
    /// Groups in the whole store.
    pub fn groups(&self) -> usize {
        self.groups.load(Ordering::Relaxed)
    }

    /// Adds `delta` to the store's group count.
    pub fn count_groups(&self, delta: isize) {
        if delta >= 0 {
            self.groups.fetch_add(delta as usize, Ordering::Relaxed);
        } else {
            self.groups.fetch_sub(delta.unsigned_abs(), Ordering::Relaxed);
        }
    }

    fn lock<'a>(&'a self, names: impl Iterator<Item = &'a str>) -> Locked<'a> {
        self.lock_stripes(names.map(stripe_of).collect())
    }

    fn lock_stripes(&self, mut ids: Vec<usize>) -> Locked<'_> {
        ids.sort_unstable();
        ids.dedup();
        // Ascending order on every path: two pushes can never wait on each other in a cycle.
        let guards = ids
            .into_iter()
            .map(|i| (i, self.stripes[i].lock().unwrap_or_else(|e| e.into_inner())))
            .collect();
        Locked { guards }
    }

    /// Registers a family the server exposes itself (its name and type are
    /// fixed for the process lifetime; pushes must agree with the type).
    pub fn register_own(&self, name: &str, typ: MetricType) {
        let mut locked = self.lock(std::iter::once(name));
        let e = locked.entry(name);
        e.types[typ as usize] += 1;
        // Registered before anything is stored; if not, stored families may now clash.
        if e.types.iter().enumerate().any(|(t, n)| t != typ as usize && *n > 0) {
            self.mark_inconsistent();
        }
    }

    /// Applies the replacement of `removed` by `added` if, afterwards, the
    /// store is consistent for every added family.
    ///
    /// # Errors
    /// The Go gatherer's messages for every problem found; the index is then
    /// left unchanged.
    pub fn check_and_apply(
        &self,
        removed: &[&StoredFamily],
        added: &[&StoredFamily],
    ) -> Result<(), Vec<String>> {
        // A family replaced by one with the same identity changes no count
        // (names are unique within each list, so pairs match one to one).
        // Large lists are matched by name through a map, not by a scan of
        // one list per family of the other.
        let (in_removed, in_added) = (Partners::of(removed), Partners::of(added));
        let consistent = !self.dirty.load(Ordering::Relaxed);
        if consistent
            && added.iter().all(|f| in_removed.unchanged(f))
            && removed.iter().all(|f| in_added.unchanged(f))
        {
            // The common re-push of a group with new values: nothing to count, nothing to check.
            return Ok(());
        }
        let mut stripes: Vec<usize> =
            removed.iter().chain(added.iter()).map(|f| stripe_of(&f.name)).collect();
        for f in added {
            related_stripes(&f.name, f.typ, &mut stripes);
        }
        let mut locked = self.lock_stripes(stripes);
        let added_all = added;
        let added: Vec<&StoredFamily> =
            added.iter().copied().filter(|f| !in_removed.unchanged(f)).collect();
        let removed: Vec<&StoredFamily> =
            removed.iter().copied().filter(|f| !in_added.unchanged(f)).collect();
        // Added first: a name the push keeps stays in the index with its
        // fingerprint table, rather than being dropped when its last family
        // is counted out and rebuilt from empty (a series the push keeps
        // passes through the counts map on the way: 1 -> 2 -> 1).
        for f in &added {
            locked.add(f, 1);
        }
        for f in &removed {
            locked.add(f, -1);
        }
        let mut errors = Vec::new();
        // In a consistent store only the changed families can conflict.
        let to_check = added_all.iter().filter(|f| !(consistent && in_removed.unchanged(f)));
        for f in to_check.filter(|f| !f.series.is_empty()) {
            check_family(&locked, f, &mut errors);
        }
        if !errors.is_empty() {
            for f in &removed {
                locked.add(f, 1);
            }
            for f in &added {
                locked.add(f, -1);
            }
            return Err(errors);
        }
        Ok(())
    }

    /// Whether every pair of stored families was checked (see `dirty`): a
    /// family replaced by one of the same identity then needs no check.
    pub fn is_consistent(&self) -> bool {
        !self.dirty.load(Ordering::Relaxed)
    }

    /// Records that a family was stored although the index found it
    /// inconsistent: from now on every family is checked on every push.
    pub fn mark_inconsistent(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Adds `families` without checking (data restored from a snapshot, which
    /// the Go server does not re-validate either).
    /// A conflict among them marks the store inconsistent (see `dirty`).
    pub fn add_unchecked(&self, families: &[&StoredFamily]) {
        let mut stripes: Vec<usize> = families.iter().map(|f| stripe_of(&f.name)).collect();
        for f in families {
            related_stripes(&f.name, f.typ, &mut stripes);
        }
        let mut locked = self.lock_stripes(stripes);
        for f in families {
            locked.add(f, 1);
        }
        let mut errors = Vec::new();
        for f in families.iter().filter(|f| !f.series.is_empty()) {
            check_family(&locked, f, &mut errors);
        }
        if !errors.is_empty() {
            self.mark_inconsistent();
        }
    }

    /// Forgets `removed` (a deleted group's families).
    pub fn remove(&self, removed: &[&StoredFamily]) {
        let mut locked = self.lock(removed.iter().map(|f| &*f.name));
        for f in removed {
            locked.add(f, -1);
        }
    }

    /// Whether any series of `fam` is already exposed by another group.
    pub fn would_duplicate(&self, fam: &StoredFamily) -> bool {
        let locked = self.lock(std::iter::once(&*fam.name));
        let Some(entry) = locked.get(&fam.name) else { return false };
        fingerprints(fam).any(|(fp, _)| entry.count(fp) > 0)
    }
}

fn check_family(locked: &Locked<'_>, f: &StoredFamily, errors: &mut Vec<String>) {
    let entry = locked.get(&f.name).expect("INVARIANT: an added family with series is indexed");
    if let Some(other) =
        (0..6).find(|t| *t != f.typ as usize && entry.types[*t] > 0).map(type_from_index)
    {
        errors.push(format!(
            "gathered metric family {} has type {} but should have {}",
            f.name,
            f.typ.as_proto_name(),
            other.as_proto_name()
        ));
        return;
    }
    if let Some((_, s)) = fingerprints(f).find(|(fp, _)| entry.count(*fp) > 1) {
        errors.push(duplicate_error(&f.name, f.typ, s));
        return;
    }
    suffix_collisions(locked, f, errors);
}

/// client_golang's `checkSuffixCollisions`, against what the store holds.
fn suffix_collisions(locked: &Locked<'_>, f: &StoredFamily, errors: &mut Vec<String>) {
    let name = &*f.name;
    let present = |n: &str| locked.get(n).filter(|e| e.is_present());
    for suffix in ["_count", "_sum", "_bucket"] {
        let Some(base) = name.strip_suffix(suffix) else { continue };
        let Some(e) = present(base) else { continue };
        if e.types[MetricType::Summary as usize] > 0 && suffix != "_bucket" {
            errors.push(format!(
                "collected metric named {} collides with previously collected summary named {}",
                quote(name.as_bytes()),
                quote(base.as_bytes())
            ));
            return;
        }
        if e.types[MetricType::Histogram as usize] > 0
            || e.types[MetricType::GaugeHistogram as usize] > 0
        {
            errors.push(format!(
                "collected metric named {} collides with previously collected histogram named {}",
                quote(name.as_bytes()),
                quote(base.as_bytes())
            ));
            return;
        }
    }
    let suffixes: &[&str] = match f.typ {
        MetricType::Summary => &["_count", "_sum"],
        t if t.is_histogram() => &["_count", "_sum", "_bucket"],
        _ => &[],
    };
    for suffix in suffixes {
        let collides = with_suffix(name, suffix, |other| present(other).is_some());
        if collides {
            errors.push(format!(
                "collected histogram or summary named {} collides with previously collected metric named {}",
                quote(name.as_bytes()),
                quote(format!("{name}{suffix}").as_bytes())
            ));
            return;
        }
    }
}

fn type_from_index(i: usize) -> MetricType {
    match i {
        0 => MetricType::Counter,
        1 => MetricType::Gauge,
        2 => MetricType::Summary,
        3 => MetricType::Untyped,
        4 => MetricType::Histogram,
        _ => MetricType::GaugeHistogram,
    }
}

/// Series of `fam` as `(fingerprint, series)` pairs. Computed when asked
/// (a hash of the name and packed labels) rather than stored: 8 bytes per
/// stored series, against a hash per series counted in or out.
pub fn fingerprints(fam: &StoredFamily) -> impl Iterator<Item = (u64, &StoredSeries)> {
    fam.series.iter().map(|s| (fingerprint(&fam.name, &s.labels), s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expfmt::Value;
    use std::time::SystemTime;

    fn fam(name: &str, typ: MetricType, job: &str) -> StoredFamily {
        let value = match typ {
            MetricType::Summary => Value::Summary { count: 1, sum: 1.0, quantiles: vec![] },
            MetricType::Histogram => Value::Histogram { count: 1, sum: 1.0, buckets: vec![] },
            _ => Value::Simple(1.0),
        };
        let s =
            StoredSeries::new([("instance", ""), ("job", job)].into_iter().collect(), value, None);
        StoredFamily::new(name.into(), None, typ, vec![s], SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn type_conflict_across_groups_is_refused() {
        let idx = Index::default();
        let a = fam("m", MetricType::Gauge, "g1");
        idx.check_and_apply(&[], &[&a]).unwrap();
        let b = fam("m", MetricType::Counter, "g2");
        let e = idx.check_and_apply(&[], &[&b]).unwrap_err();
        assert_eq!(e, ["gathered metric family m has type COUNTER but should have GAUGE"]);
        // Refusal leaves the index as it was: the gauge can still be pushed elsewhere.
        let c = fam("m", MetricType::Gauge, "g3");
        idx.check_and_apply(&[], &[&c]).unwrap();
    }

    #[test]
    fn replacing_own_family_with_other_type_is_fine() {
        let idx = Index::default();
        let a = fam("m", MetricType::Gauge, "g1");
        idx.check_and_apply(&[], &[&a]).unwrap();
        let b = fam("m", MetricType::Counter, "g1");
        idx.check_and_apply(&[&a], &[&b]).unwrap();
    }

    #[test]
    fn same_series_from_two_groups_is_a_duplicate() {
        let idx = Index::default();
        let a = fam("m", MetricType::Gauge, "w");
        idx.check_and_apply(&[], &[&a]).unwrap();
        let b = fam("m", MetricType::Gauge, "w");
        let e = idx.check_and_apply(&[], &[&b]).unwrap_err();
        assert!(e[0].ends_with("was collected before with the same name and label values"));
        assert!(idx.would_duplicate(&b));
        idx.remove(&[&a]);
        assert!(!idx.would_duplicate(&b));
    }

    #[test]
    fn series_exposed_twice_are_counted_until_both_go() {
        // A restored store may hold the same series in two groups.
        let idx = Index::default();
        let a = fam("m", MetricType::Gauge, "w");
        let b = fam("m", MetricType::Gauge, "w");
        idx.add_unchecked(&[&a]);
        idx.add_unchecked(&[&b]);
        // Pushing the same identity again keeps counts as they are, so the
        // duplicate is still reported.
        let a2 = fam("m", MetricType::Gauge, "w");
        let e = idx.check_and_apply(&[&a], &[&a2]).unwrap_err();
        assert!(e[0].ends_with("was collected before with the same name and label values"));
        idx.remove(&[&b]);
        assert!(idx.would_duplicate(&a2), "a is still counted once");
        idx.check_and_apply(&[&a], &[&a2]).unwrap();
        idx.remove(&[&a2]);
        assert!(!idx.would_duplicate(&a2));
        // The name left the index with its last family.
        let c = fam("m", MetricType::Counter, "other");
        idx.check_and_apply(&[], &[&c]).unwrap();
    }

    #[test]
    fn unchanged_replacement_keeps_type_checks() {
        let idx = Index::default();
        idx.register_own("own_metric", MetricType::Gauge);
        let a = fam("own_metric", MetricType::Counter, "a");
        idx.add_unchecked(&[&a]);
        let a2 = fam("own_metric", MetricType::Counter, "a");
        let e = idx.check_and_apply(&[&a], &[&a2]).unwrap_err();
        assert_eq!(e, ["gathered metric family own_metric has type COUNTER but should have GAUGE"]);
        // The refusal left both counted: removing the pushed family frees the name's type.
        idx.remove(&[&a]);
        let g = fam("own_metric", MetricType::Gauge, "b");
        idx.check_and_apply(&[], &[&g]).unwrap();
    }

    #[test]
    fn unchanged_repush_in_a_consistent_store_skips_the_index() {
        let idx = Index::default();
        let a = fam("m", MetricType::Gauge, "a");
        let h = fam("h", MetricType::Histogram, "a");
        idx.check_and_apply(&[], &[&a, &h]).unwrap();
        // Restoring consistent data keeps the store consistent.
        idx.add_unchecked(&[&fam("m", MetricType::Gauge, "b")]);
        assert!(!idx.dirty.load(Ordering::Relaxed));
        let (a2, h2) = (fam("m", MetricType::Gauge, "a"), fam("h", MetricType::Histogram, "a"));
        idx.check_and_apply(&[&a, &h], &[&a2, &h2]).unwrap();
        // Counts are as they were: other groups still clash with what is stored.
        let e = idx.check_and_apply(&[], &[&fam("m", MetricType::Counter, "c")]).unwrap_err();
        assert_eq!(e, ["gathered metric family m has type COUNTER but should have GAUGE"]);
        let e = idx.check_and_apply(&[], &[&fam("m", MetricType::Gauge, "a")]).unwrap_err();
        assert!(e[0].ends_with("was collected before with the same name and label values"));
        assert!(idx.check_and_apply(&[], &[&fam("h_count", MetricType::Gauge, "c")]).is_err());
        // A changed family next to an unchanged one is still checked.
        let a3 = fam("m", MetricType::Counter, "a");
        let e = idx.check_and_apply(&[&a2, &h2], &[&a3, &h2]).unwrap_err();
        assert_eq!(e, ["gathered metric family m has type COUNTER but should have GAUGE"]);
        idx.remove(&[&a2]);
        idx.remove(&[&fam("m", MetricType::Gauge, "b")]);
        assert!(idx.check_and_apply(&[], &[&fam("m", MetricType::Counter, "c")]).is_ok());
    }

    #[test]
    fn many_families_are_paired_by_name() {
        let idx = Index::default();
        let names: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
        let old: Vec<StoredFamily> = names.iter().map(|n| fam(n, MetricType::Gauge, "a")).collect();
        let refs: Vec<&StoredFamily> = old.iter().collect();
        idx.check_and_apply(&[], &refs).unwrap();
        // The same identities in reverse order, one of them now a counter.
        let new: Vec<StoredFamily> = names
            .iter()
            .rev()
            .map(|n| fam(n, if n == "m3" { MetricType::Counter } else { MetricType::Gauge }, "a"))
            .collect();
        let new_refs: Vec<&StoredFamily> = new.iter().collect();
        idx.check_and_apply(&refs, &new_refs).unwrap();
        // m3 was counted out as a gauge and in as a counter; the rest kept.
        let e = idx.check_and_apply(&[], &[&fam("m3", MetricType::Gauge, "b")]).unwrap_err();
        assert_eq!(e, ["gathered metric family m3 has type GAUGE but should have COUNTER"]);
        let e = idx.check_and_apply(&[], &[&fam("m4", MetricType::Counter, "b")]).unwrap_err();
        assert_eq!(e, ["gathered metric family m4 has type COUNTER but should have GAUGE"]);
    }

    #[test]
    fn conflicts_restored_or_registered_late_mark_the_store() {
        let idx = Index::default();
        idx.add_unchecked(&[&fam("m", MetricType::Gauge, "a")]);
        idx.add_unchecked(&[&fam("m", MetricType::Counter, "b")]);
        assert!(idx.dirty.load(Ordering::Relaxed));
        let idx = Index::default();
        idx.add_unchecked(&[&fam("own", MetricType::Counter, "a")]);
        assert!(!idx.dirty.load(Ordering::Relaxed));
        idx.register_own("own", MetricType::Gauge);
        assert!(idx.dirty.load(Ordering::Relaxed));
    }

    #[test]
    fn suffix_collisions_both_ways() {
        let idx = Index::default();
        let h = fam("x", MetricType::Histogram, "a");
        idx.check_and_apply(&[], &[&h]).unwrap();
        let c = fam("x_count", MetricType::Untyped, "b");
        let e = idx.check_and_apply(&[], &[&c]).unwrap_err();
        assert_eq!(
            e,
            [
                r#"collected metric named "x_count" collides with previously collected histogram named "x""#
            ]
        );
        let idx = Index::default();
        idx.check_and_apply(&[], &[&c]).unwrap();
        let s = fam("x", MetricType::Summary, "a");
        let e = idx.check_and_apply(&[], &[&s]).unwrap_err();
        assert!(e[0].starts_with("collected histogram or summary named \"x\" collides"));
        let b = fam("x_bucket", MetricType::Untyped, "b");
        idx.check_and_apply(&[], &[&b]).unwrap();
    }

    #[test]
    fn own_types_bind_pushes() {
        let idx = Index::default();
        idx.register_own("process_open_fds", MetricType::Gauge);
        let a = fam("process_open_fds", MetricType::Untyped, "a");
        assert!(idx.check_and_apply(&[], &[&a]).is_err());
        let b = fam("process_open_fds", MetricType::Gauge, "a");
        idx.check_and_apply(&[], &[&b]).unwrap();
    }
}
