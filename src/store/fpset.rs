//! `FingerprintSet`: the set of series fingerprints of one family name in
//! the consistency index, at 8 bytes per slot.
//!
//! The index holds one fingerprint per stored series, so at a million series
//! this set is the largest structure after the series themselves. A general
//! hash set spends a control byte per slot and doubles its table, which at a
//! million entries leaves it half empty (2^21 slots, ~19 MB). Here slots are
//! the fingerprints themselves (already uniform hashes: no hashing, no
//! control bytes), probed linearly from a position scaled from the
//! fingerprint, and the table grows by half when it is 85% full: 9-14 MB at
//! a million.

/// Marks a free slot. A fingerprint of 0 is stored as 1 (two series out of
/// 2^64 would share a slot: far below the fingerprint's own collision odds).
const FREE: u64 = 0;

/// Smallest table allocated.
const MIN_SLOTS: usize = 8;

/// An open-addressing set of 64-bit fingerprints (see the module docs).
///
/// INVARIANT: every stored key `k` sits in the first free-less run of slots
/// starting at `home(k)` (linear probing with wrap-around); `len` counts the
/// used slots, and at least one slot is always free.
#[derive(Default)]
pub struct FingerprintSet {
    slots: Box<[u64]>,
    len: usize,
}

fn key(fp: u64) -> u64 {
    if fp == FREE {
        1
    } else {
        fp
    }
}

impl FingerprintSet {
    /// Number of fingerprints held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot probing starts at: the key scaled onto the table, so any
    /// table size works and the keys' uniformity carries over.
    fn home(&self, k: u64) -> usize {
        ((u128::from(k) * self.slots.len() as u128) >> 64) as usize
    }

    fn next(&self, i: usize) -> usize {
        if i + 1 == self.slots.len() {
            0
        } else {
            i + 1
        }
    }

    /// The slot holding `k`, or the free slot ending its probe run.
    fn find(&self, k: u64) -> (usize, bool) {
        let mut i = self.home(k);
        loop {
            match self.slots[i] {
                s if s == k => return (i, true),
                FREE => return (i, false),
                _ => i = self.next(i),
            }
        }
    }

    /// Whether `fp` is in the set.
    pub fn contains(&self, fp: u64) -> bool {
        !self.slots.is_empty() && self.find(key(fp)).1
    }

    /// Adds `fp`; false if it was already present.
    pub fn insert(&mut self, fp: u64) -> bool {
        let k = key(fp);
        if (self.len + 1) * 20 > self.slots.len() * 17 {
            self.grow();
        }
        let (i, found) = self.find(k);
        if found {
            return false;
        }
        self.slots[i] = k;
        self.len += 1;
        true
    }

    /// Removes `fp`; false if it was not present.
    pub fn remove(&mut self, fp: u64) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        let (mut hole, found) = self.find(key(fp));
        if !found {
            return false;
        }
        // Backward-shift deletion: pull later keys of the run into the hole
        // when their home is not after it, so every probe run stays intact.
        let mut j = self.next(hole);
        while self.slots[j] != FREE {
            let h = self.home(self.slots[j]);
            let home_in_gap = if hole <= j { hole < h && h <= j } else { hole < h || h <= j };
            if !home_in_gap {
                self.slots[hole] = self.slots[j];
                hole = j;
            }
            j = self.next(j);
        }
        self.slots[hole] = FREE;
        self.len -= 1;
        true
    }

    fn grow(&mut self) {
        let n = (self.slots.len() + self.slots.len() / 2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![FREE; n].into_boxed_slice());
        for k in old.iter().copied().filter(|k| *k != FREE) {
            let (i, _) = self.find(k);
            self.slots[i] = k;
        }
    }

    /// Bytes held by the table.
    #[cfg(test)]
    fn table_bytes(&self) -> usize {
        self.slots.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn zero_is_a_fingerprint_too() {
        let mut s = FingerprintSet::default();
        assert!(!s.contains(0));
        assert!(!s.remove(0));
        assert!(s.insert(0));
        assert!(s.contains(0));
        assert!(!s.insert(0));
        assert!(s.remove(0));
        assert!(s.is_empty());
    }

    #[test]
    fn a_million_fit_in_under_15_mb() {
        let mut s = FingerprintSet::default();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..1_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            assert!(s.insert(x));
        }
        assert_eq!(s.len(), 1_000_000);
        assert!(s.table_bytes() < 15_000_000, "{} bytes", s.table_bytes());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64),
        Remove(u64),
    }

    /// Keys from a small pool, some equal in their top bits (same home
    /// slot), so runs collide, wrap around the table's end and shift back.
    fn op() -> impl Strategy<Value = Op> {
        let k = prop_oneof![
            0u64..4,
            (0u64..8).prop_map(|i| u64::MAX - i),
            (0u64..16).prop_map(|i| (i % 4) << 62 | i),
            any::<u64>(),
        ];
        prop_oneof![k.clone().prop_map(Op::Insert), k.prop_map(Op::Remove)]
    }

    proptest! {
        #[test]
        fn behaves_like_a_hash_set(ops in proptest::collection::vec(op(), 0..300)) {
            let mut ours = FingerprintSet::default();
            let mut model: HashSet<u64> = HashSet::new();
            for op in ops {
                match op {
                    Op::Insert(k) => prop_assert_eq!(ours.insert(k), model.insert(key(k))),
                    Op::Remove(k) => prop_assert_eq!(ours.remove(k), model.remove(&key(k))),
                }
                prop_assert_eq!(ours.len(), model.len());
                for k in &model {
                    prop_assert!(ours.contains(*k));
                }
            }
        }
    }
}
