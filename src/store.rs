//! One shard of the store: the groups one core owns.
//!
//! Owns push/replace/delete semantics (spec 2.2, 2.4). A `Shard` is `!Send`
//! in use: it lives on its core and is reached from other cores only through
//! messages (`runtime::mesh`). The store-wide consistency check goes through
//! the shared [`index::Index`]. Shards never see request bytes: pushes arrive
//! as [`sanitize::PreparedPush`], or, for a group pushed again with the same
//! families, as parsed families whose values are set in place (`refresh`).

mod fpset;
pub mod group;
pub mod index;
pub mod limits;
mod refresh;
pub mod route;
pub mod sanitize;
mod thin;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use crate::grouping::GroupingKey;
use group::{unix_seconds, Group, StoredFamily, PUSH_FAILURE_TIME, PUSH_TIME};
use index::Index;
use sanitize::PreparedPush;

/// Why a push was refused by the store (spec 2.5); the HTTP answer is 400
/// `pushed metrics are invalid or inconsistent with existing metrics: …`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The push is inconsistent with itself or the store (spec 2.5); the
    /// group's failure time was recorded.
    Inconsistent(Vec<String>),
    /// The push would create a group beyond `--runtime.max-groups`; nothing
    /// was recorded.
    StoreFull(usize),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let errors = match self {
            Rejection::Inconsistent(e) => e,
            Rejection::StoreFull(max) => {
                return write!(
                    f,
                    "the store holds the maximum of {max} groups (--runtime.max-groups); \
                     delete groups or raise the limit"
                )
            }
        };
        // client_golang's MultiError, unwrapped when it holds a single error.
        match errors.as_slice() {
            [one] => f.write_str(one),
            many => {
                write!(f, "{} error(s) occurred:", many.len())?;
                for e in many {
                    write!(f, "\n* {e}")?;
                }
                Ok(())
            }
        }
    }
}

/// A group as seen by the API and UI: its key and families (shared, immutable).
#[derive(Clone, Debug)]
pub struct GroupView {
    /// The grouping key.
    pub key: GroupingKey,
    /// Families by name, timestamp gauges included.
    pub families: Vec<Arc<StoredFamily>>,
    /// See [`Group::last_push_successful`].
    pub last_push_successful: bool,
    /// When the group expires (TTL), if it has one.
    pub deadline: Option<SystemTime>,
}

/// The groups owned by one core.
pub struct Shard {
    groups: HashMap<GroupingKey, Group, ahash::RandomState>,
    index: Arc<Index>,
    checked: bool,
    /// Mutations applied so far (persistence writes only when this moved).
    changes: u64,
    /// Most groups in the whole store (0: unlimited), counted in the index.
    max_groups: usize,
    /// Groups with a TTL, by deadline (expiry pops from the front).
    deadlines: BTreeSet<(SystemTime, GroupingKey)>,
}

impl Shard {
    /// An empty shard checking pushes against `index` unless `checked` is false
    /// (`--push.disable-consistency-check`).
    pub fn new(index: Arc<Index>, checked: bool) -> Shard {
        Shard {
            groups: HashMap::default(),
            index,
            checked,
            changes: 0,
            max_groups: 0,
            deadlines: BTreeSet::new(),
        }
    }

    /// Limits the whole store to `max` groups (0: unlimited).
    pub fn with_max_groups(mut self, max: usize) -> Shard {
        self.max_groups = max;
        self
    }

    /// Number of mutations (pushes, failures, deletes, wipes) applied so far.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Adds groups restored from a snapshot (not re-validated, as upstream).
    pub fn restore(&mut self, groups: Vec<Group>) {
        for g in groups {
            if self.checked {
                let fams: Vec<&StoredFamily> = g.families.values().map(|f| &**f).collect();
                self.index.add_unchecked(&fams);
            }
            if let Some(d) = g.deadline {
                self.deadlines.insert((d, g.key.clone()));
            }
            if self.groups.insert(g.key.clone(), g).is_none() {
                self.index.count_groups(1);
            }
        }
    }

    /// Appends one snapshot record per group; returns how many.
    pub fn write_snapshot(&self, out: &mut Vec<u8>) -> u64 {
        for g in self.groups.values() {
            crate::persist::codec::write_group(out, g);
        }
        self.groups.len() as u64
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether the shard holds no group.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Applies a push (spec 2.2) or records its failure (spec 2.4).
    ///
    /// # Errors
    /// [`Rejection`] when the push has timestamps or would make the store
    /// inconsistent; the group's metrics are then untouched.
    pub fn push(&mut self, p: PreparedPush) -> Result<(), Rejection> {
        // Checked before anything is recorded. Cores check concurrently, so
        // the store may overshoot the limit by at most one group per core.
        if self.max_groups > 0
            && !self.groups.contains_key(&p.key)
            && self.index.groups() >= self.max_groups
        {
            return Err(Rejection::StoreFull(self.max_groups));
        }
        self.changes += 1;
        let now = p.received;
        if p.has_timestamps {
            return Err(self.record_failure(
                &p.key,
                now,
                vec!["pushed metrics must not have timestamps".to_owned()],
            ));
        }
        if self.checked && !p.errors.is_empty() {
            return Err(self.record_failure(&p.key, now, p.errors));
        }
        let existing = self.groups.get(&p.key);
        let mut removed: Vec<Arc<StoredFamily>> = Vec::new();
        if let Some(g) = existing {
            if p.replace {
                let kept = g.families.iter().filter(|(n, _)| &***n != PUSH_FAILURE_TIME);
                removed.extend(kept.map(|(_, f)| f.clone()));
            } else {
                // POST: the pushed names, looked up (not a scan of the group
                // per pushed family, which made large groups quadratic).
                let names = p.families.iter().map(|f| &*f.name).chain([PUSH_TIME]);
                removed.extend(names.filter_map(|n| g.families.get(n).cloned()));
            }
        }
        let mut families = p.families;
        if let Some(g) = existing {
            // A HELP text pushed again is kept once, shared with the family it replaces.
            for f in &mut families {
                let old = g.families.get(&*f.name).and_then(|o| o.help.as_ref());
                if let (Some(new), Some(old)) = (&mut f.help, old) {
                    if new == old {
                        *new = old.clone();
                    }
                }
            }
        }
        let mut added: Vec<Arc<StoredFamily>> = families.into_iter().map(Arc::new).collect();
        added.push(Arc::new(StoredFamily::timestamp_gauge(
            &p.key,
            PUSH_TIME,
            unix_seconds(now),
            now,
        )));
        if existing.is_none_or(|g| !g.families.contains_key(PUSH_FAILURE_TIME)) {
            added.push(Arc::new(StoredFamily::timestamp_gauge(
                &p.key,
                PUSH_FAILURE_TIME,
                0.0,
                now,
            )));
        }
        if self.checked {
            let r: Vec<&StoredFamily> = removed.iter().map(|f| &**f).collect();
            let a: Vec<&StoredFamily> = added.iter().map(|f| &**f).collect();
            if let Err(errors) = self.index.check_and_apply(&r, &a) {
                return Err(self.record_failure(&p.key, now, errors));
            }
        }
        if !self.groups.contains_key(&p.key) {
            self.index.count_groups(1);
            let group = Group { key: p.key.clone(), families: Default::default(), deadline: None };
            self.groups.insert(p.key.clone(), group);
        }
        // Looked up rather than taken from `entry()`, so that a push to an
        // existing group (the common case) clones no key.
        let group = self.groups.get_mut(&p.key).expect("INVARIANT: inserted above if absent");
        // A family pushed again takes the old one's slot (no key allocated);
        // then what was replaced by nothing goes.
        for f in added {
            match group.families.get_mut(&*f.name) {
                Some(slot) => *slot = f,
                None => {
                    group.families.insert(f.name.clone(), f);
                }
            }
        }
        for f in &removed {
            if group.families.get(&*f.name).is_some_and(|cur| Arc::ptr_eq(cur, f)) {
                group.families.remove(&*f.name);
            }
        }
        // Every successful push restarts the TTL (or clears it).
        self.set_deadline(&p.key, p.ttl.map(|ttl| now + ttl));
        Ok(())
    }

    /// Sets when `key`'s group expires (`None`: never).
    fn set_deadline(&mut self, key: &GroupingKey, deadline: Option<SystemTime>) {
        let Some(group) = self.groups.get_mut(key) else { return };
        if group.deadline != deadline {
            if let Some(old) = group.deadline {
                self.deadlines.remove(&(old, group.key.clone()));
            }
            if let Some(new) = deadline {
                self.deadlines.insert((new, group.key.clone()));
            }
            group.deadline = deadline;
        }
    }

    /// Sets the failure time of `key`'s group, creating the group (with
    /// `push_time_seconds` 0) if needed, unless its timestamp series would
    /// duplicate another group's: the Go server creates it anyway and then
    /// fails every scrape and push (spec 2.4 trap); we refuse to.
    fn record_failure(
        &mut self,
        key: &GroupingKey,
        now: SystemTime,
        errors: Vec<String>,
    ) -> Rejection {
        let failure =
            Arc::new(StoredFamily::timestamp_gauge(key, PUSH_FAILURE_TIME, unix_seconds(now), now));
        match self.groups.get_mut(key) {
            Some(g) => {
                // Same name, type and series as the gauge it replaces: the index is unchanged.
                let old = g.families.insert(failure.name.clone(), failure.clone());
                if self.checked
                    && old.is_none()
                    && self.index.check_and_apply(&[], &[&failure]).is_err()
                {
                    // Stored anyway (the group records its failure), uncounted.
                    self.index.mark_inconsistent();
                }
            }
            None => {
                let push_time = Arc::new(StoredFamily::timestamp_gauge(key, PUSH_TIME, 0.0, now));
                if self.checked {
                    if self.index.would_duplicate(&push_time) {
                        return Rejection::Inconsistent(errors);
                    }
                    if self.index.check_and_apply(&[], &[&push_time, &failure]).is_err() {
                        return Rejection::Inconsistent(errors);
                    }
                }
                let mut group =
                    Group { key: key.clone(), families: Default::default(), deadline: None };
                group.families.insert(push_time.name.clone(), push_time);
                group.families.insert(failure.name.clone(), failure);
                self.groups.insert(key.clone(), group);
                self.index.count_groups(1);
            }
        }
        Rejection::Inconsistent(errors)
    }

    /// Deletes exactly `key`'s group; a missing group is a no-op. Returns
    /// whether a group was deleted.
    pub fn delete(&mut self, key: &GroupingKey) -> bool {
        match self.groups.remove(key) {
            Some(g) => {
                self.changes += 1;
                self.forget(&g);
                true
            }
            None => false,
        }
    }

    /// The group stored under `key`.
    pub fn group(&self, key: &GroupingKey) -> Option<&Group> {
        self.groups.get(key)
    }

    /// Deletes every group.
    pub fn wipe(&mut self) {
        self.changes += 1;
        let groups = std::mem::take(&mut self.groups);
        self.deadlines.clear();
        self.index.count_groups(-(groups.len() as isize));
        if self.checked {
            // One pass over the index for all groups: each stripe is locked once.
            let fams: Vec<&StoredFamily> =
                groups.values().flat_map(|g| g.families.values().map(|f| &**f)).collect();
            self.index.remove(&fams);
        }
    }

    /// Deletes every group whose deadline is at or before `now`; returns their keys.
    pub fn expire(&mut self, now: SystemTime) -> Vec<GroupingKey> {
        let mut expired = Vec::new();
        while let Some((deadline, _)) = self.deadlines.first() {
            if *deadline > now {
                break;
            }
            let (_, key) = self.deadlines.pop_first().expect("first() was Some");
            if self.delete(&key) {
                expired.push(key);
            }
        }
        expired
    }

    /// Deletes every group whose key has all of `labels`; returns their keys.
    pub fn delete_matching(&mut self, labels: &[(String, String)]) -> Vec<GroupingKey> {
        let keys: Vec<GroupingKey> = self
            .groups
            .keys()
            .filter(|k| labels.iter().all(|(n, v)| k.get(n) == Some(v.as_str())))
            .cloned()
            .collect();
        for k in &keys {
            self.delete(k);
        }
        keys
    }

    fn forget(&mut self, g: &Group) {
        if let Some(d) = g.deadline {
            self.deadlines.remove(&(d, g.key.clone()));
        }
        self.index.count_groups(-1);
        if self.checked {
            let fams: Vec<&StoredFamily> = g.families.values().map(|f| &**f).collect();
            self.index.remove(&fams);
        }
    }

    /// Every stored family of every group (for a scrape), its text rendered
    /// here, on the owning core, if no scrape has asked for it yet.
    pub fn families(&self) -> Vec<Arc<StoredFamily>> {
        self.groups
            .values()
            .flat_map(|g| g.families.values())
            .inspect(|f| f.prerender())
            .cloned()
            .collect()
    }

    /// Every group with its families (for the API and UI).
    pub fn groups(&self) -> Vec<GroupView> {
        self.groups
            .values()
            .map(|g| GroupView {
                key: g.key.clone(),
                families: g.families.values().cloned().collect(),
                last_push_successful: g.last_push_successful(),
                deadline: g.deadline,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expfmt::text;
    use sanitize::prepare;

    fn push(shard: &mut Shard, job: &str, replace: bool, body: &str) -> Result<(), Rejection> {
        let fams = text::parse(body.as_bytes()).unwrap();
        shard.push(prepare(GroupingKey::new(job, []), replace, fams, SystemTime::now()))
    }

    fn names(shard: &Shard, job: &str) -> Vec<String> {
        let g = &shard.groups[&GroupingKey::new(job, [])];
        g.families.keys().map(|k| k.to_string()).collect()
    }

    #[test]
    fn put_replaces_whole_group_post_only_same_names() {
        let mut s = Shard::new(Arc::default(), true);
        push(&mut s, "j", true, "a 1\nb 1\n").unwrap();
        push(&mut s, "j", false, "b 2\nc 3\n").unwrap();
        assert_eq!(names(&s, "j"), ["a", "b", "c", PUSH_FAILURE_TIME, PUSH_TIME]);
        push(&mut s, "j", true, "d 1\n").unwrap();
        assert_eq!(names(&s, "j"), ["d", PUSH_FAILURE_TIME, PUSH_TIME]);
    }

    #[test]
    fn help_pushed_again_is_stored_once() {
        let mut s = Shard::new(Arc::default(), true);
        let help = |s: &Shard, name: &str| {
            let g = &s.groups[&GroupingKey::new("j", [])];
            g.families[name].help.clone().unwrap()
        };
        push(&mut s, "j", true, "# HELP a Some help.\na 1\n").unwrap();
        let first = help(&s, "a");
        push(&mut s, "j", true, "# HELP a Some help.\na 2\n").unwrap();
        assert!(Arc::ptr_eq(&first, &help(&s, "a")));
        push(&mut s, "j", false, "# HELP a Other help.\na 3\n").unwrap();
        assert_eq!(&*help(&s, "a"), "Other help.");
        push(&mut s, "k", true, "b 1\n").unwrap();
        let g = &s.groups[&GroupingKey::new("k", [])];
        assert!(Arc::ptr_eq(&help(&s, PUSH_TIME), g.families[PUSH_TIME].help.as_ref().unwrap()));
    }

    #[test]
    fn failed_push_keeps_metrics_and_records_failure() {
        let mut s = Shard::new(Arc::default(), true);
        push(&mut s, "a", true, "# TYPE m gauge\nm 1\n").unwrap();
        push(&mut s, "b", true, "x 1\n").unwrap();
        let e = push(&mut s, "b", true, "# TYPE m counter\nm 1\n").unwrap_err();
        assert!(e.to_string().starts_with("gathered metric family m has type COUNTER"));
        assert_eq!(names(&s, "b"), ["push_failure_time_seconds", "push_time_seconds", "x"]);
        let g = &s.groups[&GroupingKey::new("b", [])];
        assert!(!g.last_push_successful());
    }

    #[test]
    fn failure_on_new_group_creates_it_unless_that_would_break_scrapes() {
        let mut s = Shard::new(Arc::default(), true);
        push(&mut s, "a", true, "# TYPE m gauge\nm 1\n").unwrap();
        push(&mut s, "new", true, "# TYPE m counter\nm 1\n").unwrap_err();
        assert_eq!(names(&s, "new"), ["push_failure_time_seconds", "push_time_seconds"]);
        // {job="w",instance=""} then {job="w"}: the second's timestamps would duplicate.
        let key = GroupingKey::new("w", [("instance".into(), "".into())]);
        let fams = text::parse(b"q 1\n").unwrap();
        s.push(prepare(key, true, fams, SystemTime::now())).unwrap();
        push(&mut s, "w", true, "z 1\n").unwrap_err();
        assert!(!s.groups.contains_key(&GroupingKey::new("w", [])));
    }

    #[test]
    fn delete_frees_names_for_other_types() {
        let mut s = Shard::new(Arc::default(), true);
        push(&mut s, "a", true, "# TYPE m gauge\nm 1\n").unwrap();
        s.delete(&GroupingKey::new("a", []));
        push(&mut s, "b", true, "# TYPE m counter\nm 1\n").unwrap();
        s.wipe();
        assert!(s.is_empty());
        push(&mut s, "c", true, "# TYPE m summary\nm_sum 1\nm_count 1\n").unwrap();
    }

    #[test]
    fn unchecked_mode_stores_inconsistent_pushes() {
        let mut s = Shard::new(Arc::default(), false);
        push(&mut s, "a", true, "# TYPE m gauge\nm 1\n").unwrap();
        push(&mut s, "b", true, "# TYPE m counter\nm 1\n").unwrap();
        assert_eq!(s.len(), 2);
    }
}
