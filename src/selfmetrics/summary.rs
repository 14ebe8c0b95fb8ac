//! A summary as client_golang keeps one: count and sum since start, and the
//! 0.1, 0.5 and 0.9 quantiles of the observations of the last ten minutes.
//!
//! Owns the two push summaries' arithmetic (`prometheus-client` has no
//! summary type). Observations are counted lock-free in log-linear buckets
//! (32 per power of two, so a bucket is at most 1/32 of its value wide),
//! in one of six two-minute slots; a quantile is read from the five slots
//! of the last ten minutes, as the bucket's middle, kept within the
//! smallest and largest value observed in them (so values that are all the
//! same, such as the sizes of one job's pushes, are reported exactly).
//! While the window holds at most [`EXACT`] observations per slot, they are
//! also kept as they are, and the quantiles are read from them exactly.
//! client_golang uses the same window (`MaxAge` 10 m in 5 age buckets) and
//! a streaming estimator with rank errors of 0.01, 0.05 and 0.01; both are
//! approximations of the same quantiles.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

/// The quantiles reported, as the Go server's push summaries have them.
pub const QUANTILES: [f64; 3] = [0.1, 0.5, 0.9];

/// Seconds one slot counts.
const SLOT_SECS: u64 = 120;

/// Slots a quantile is read from: ten minutes.
const WINDOW: u64 = 5;

/// Slots kept: the window and the one being reused next.
const SLOTS: usize = WINDOW as usize + 1;

/// Observations per slot also kept as they are.
const EXACT: usize = 64;

/// Buckets per power of two.
const SUB_BITS: u32 = 5;

/// Powers of two with buckets of their own: 2^-32 (~2e-10) to 2^40 (~1e12).
const MIN_EXP: i32 = -32;
const MAX_EXP: i32 = 40;

/// Bucket 0 holds zero and what is below `2^MIN_EXP`; the last, what is at
/// or above `2^(MAX_EXP + 1)`.
const BUCKETS: usize = ((MAX_EXP - MIN_EXP + 1) as usize) << SUB_BITS | 2;

/// Count and sum since start; quantiles over the last ten minutes.
#[derive(Debug)]
pub struct Summary {
    count: AtomicU64,
    /// `f64` bits.
    sum: AtomicU64,
    slots: [Slot; SLOTS],
}

#[derive(Debug)]
struct Slot {
    /// The two-minute period (seconds since the epoch / `SLOT_SECS`) the
    /// counts are of; `u64::MAX` before the first.
    period: AtomicU64,
    counts: Box<[AtomicU32]>,
    /// Smallest and largest value observed, `f64` bits (values are not
    /// negative, so their bits order as they do).
    min: AtomicU64,
    max: AtomicU64,
    /// The first [`EXACT`] observations, `f64` bits, and how many
    /// observations the slot has had.
    exact: [AtomicU64; EXACT],
    observed: AtomicU64,
    /// Held while the slot is cleared for a new period.
    reuse: Mutex<()>,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            period: AtomicU64::new(u64::MAX),
            counts: (0..BUCKETS).map(|_| AtomicU32::new(0)).collect(),
            min: AtomicU64::new(f64::INFINITY.to_bits()),
            max: AtomicU64::new(0),
            exact: std::array::from_fn(|_| AtomicU64::new(0)),
            observed: AtomicU64::new(0),
            reuse: Mutex::new(()),
        }
    }
}

/// A summary's figures at one time.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub count: u64,
    pub sum: f64,
    /// One value per entry of [`QUANTILES`]; NaN without observations in
    /// the window, as Go reports.
    pub quantiles: [f64; 3],
}

impl Default for Summary {
    fn default() -> Summary {
        Summary {
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0f64.to_bits()),
            slots: std::array::from_fn(|_| Slot::new()),
        }
    }
}

impl Summary {
    /// Records `v` (a duration or size: not negative) at `now` (seconds
    /// since the epoch).
    pub fn observe(&self, v: f64, now: u64) {
        let v = if v.is_nan() || v < 0.0 { 0.0 } else { v };
        self.count.fetch_add(1, Ordering::Relaxed);
        let _ = self.sum.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
            Some((f64::from_bits(s) + v).to_bits())
        });
        let period = now / SLOT_SECS;
        let slot = &self.slots[(period % SLOTS as u64) as usize];
        if slot.period.load(Ordering::Acquire) != period {
            // First observation of a new period: the slot's counts are of
            // six periods ago, outside the window; cleared once.
            let _held = slot.reuse.lock().unwrap_or_else(|e| e.into_inner());
            if slot.period.load(Ordering::Acquire) != period {
                for c in slot.counts.iter() {
                    c.store(0, Ordering::Relaxed);
                }
                slot.min.store(f64::INFINITY.to_bits(), Ordering::Relaxed);
                slot.max.store(0, Ordering::Relaxed);
                slot.observed.store(0, Ordering::Relaxed);
                slot.period.store(period, Ordering::Release);
            }
        }
        slot.counts[bucket(v)].fetch_add(1, Ordering::Relaxed);
        let i = slot.observed.fetch_add(1, Ordering::Relaxed) as usize;
        if let Some(e) = slot.exact.get(i) {
            e.store(v.to_bits(), Ordering::Relaxed);
        }
        slot.min.fetch_min(v.to_bits(), Ordering::Relaxed);
        slot.max.fetch_max(v.to_bits(), Ordering::Relaxed);
    }

    /// Count, sum and quantiles at `now` (seconds since the epoch).
    pub fn snapshot(&self, now: u64) -> Snapshot {
        let period = now / SLOT_SECS;
        let window: Vec<&Slot> = self
            .slots
            .iter()
            .filter(|s| {
                let p = s.period.load(Ordering::Acquire);
                p <= period && period - p < WINDOW
            })
            .collect();
        let quantiles = match exact_values(&window) {
            Some(values) => exact_quantiles(values),
            None => bucket_quantiles(&window),
        };
        Snapshot {
            count: self.count.load(Ordering::Relaxed),
            sum: f64::from_bits(self.sum.load(Ordering::Relaxed)),
            quantiles,
        }
    }
}

/// The observations of the `window`'s slots as they are, if every slot
/// kept all of its own. (One being recorded as this runs may be counted
/// before its value is stored, and read as the value it replaces: a race
/// that costs one observation's accuracy, never memory safety.)
fn exact_values(window: &[&Slot]) -> Option<Vec<f64>> {
    let mut values = Vec::new();
    for slot in window {
        let n = slot.observed.load(Ordering::Relaxed) as usize;
        let kept = slot.exact.get(..n)?;
        values.extend(kept.iter().map(|e| f64::from_bits(e.load(Ordering::Relaxed))));
    }
    Some(values)
}

/// The observations of rank `ceil(q × n)` among `values`; NaN for none.
fn exact_quantiles(mut values: Vec<f64>) -> [f64; 3] {
    values.sort_by(f64::total_cmp);
    QUANTILES.map(|q| match values.len() as u64 {
        0 => f64::NAN,
        n => values[rank(q, n) as usize - 1],
    })
}

/// The quantiles read from the `window`'s bucket counts: the middle of the
/// bucket holding rank `ceil(q × n)`, kept within the smallest and largest
/// value observed; NaN for no observations.
fn bucket_quantiles(window: &[&Slot]) -> [f64; 3] {
    let mut counts = vec![0u64; BUCKETS];
    let (mut min, mut max) = (f64::INFINITY, 0f64);
    for slot in window {
        for (sum, c) in counts.iter_mut().zip(slot.counts.iter()) {
            *sum += u64::from(c.load(Ordering::Relaxed));
        }
        min = min.min(f64::from_bits(slot.min.load(Ordering::Relaxed)));
        max = max.max(f64::from_bits(slot.max.load(Ordering::Relaxed)));
    }
    let n: u64 = counts.iter().sum();
    QUANTILES.map(|q| {
        if n == 0 {
            return f64::NAN;
        }
        let rank = rank(q, n);
        let mut seen = 0;
        let i = counts.iter().position(|&c| {
            seen += c;
            seen >= rank
        });
        i.map_or(max, middle).clamp(min, max)
    })
}

/// The rank of quantile `q` among `n` observations (at least one),
/// counting from 1: `ceil(q × n)`.
fn rank(q: f64, n: u64) -> u64 {
    ((q * n as f64).ceil() as u64).clamp(1, n)
}

/// The bucket of a value that is not negative.
fn bucket(v: f64) -> usize {
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1023;
    if exp < MIN_EXP {
        return 0;
    }
    if exp > MAX_EXP {
        return BUCKETS - 1;
    }
    let sub = ((bits >> (52 - SUB_BITS)) & ((1 << SUB_BITS) - 1)) as usize;
    1 + (((exp - MIN_EXP) as usize) << SUB_BITS | sub)
}

/// The middle of bucket `i`'s values (0 for the first; the last has no
/// upper end and is clamped to the largest value by the caller).
fn middle(i: usize) -> f64 {
    if i == 0 {
        return 0.0;
    }
    if i == BUCKETS - 1 {
        return f64::INFINITY;
    }
    let k = i - 1;
    let exp = (k >> SUB_BITS) as i32 + MIN_EXP;
    let sub = (k & ((1 << SUB_BITS) - 1)) as f64;
    let width = f64::from(1u32 << SUB_BITS);
    2f64.powi(exp) * (1.0 + (sub + 0.5) / width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T: u64 = 1_800_000_000;

    #[test]
    fn empty_window_reports_nan() {
        let s = Summary::default();
        let snap = s.snapshot(T);
        assert_eq!((snap.count, snap.sum), (0, 0.0));
        assert!(snap.quantiles.iter().all(|q| q.is_nan()));
    }

    #[test]
    fn one_value_is_reported_exactly() {
        let s = Summary::default();
        s.observe(156.0, T);
        s.observe(156.0, T + 1);
        assert_eq!(s.snapshot(T + 2), Snapshot { count: 2, sum: 312.0, quantiles: [156.0; 3] });
        let s = Summary::default();
        s.observe(0.000632811, T + 3);
        assert_eq!(s.snapshot(T + 3).quantiles, [0.000632811; 3]);
    }

    #[test]
    fn few_values_are_reported_exactly() {
        let s = Summary::default();
        s.observe(90.0, T);
        s.observe(115.0, T + SLOT_SECS);
        assert_eq!(s.snapshot(T + SLOT_SECS).quantiles, [90.0, 90.0, 115.0]);
        for v in 0..EXACT {
            s.observe(v as f64 + 0.5, T + SLOT_SECS);
        }
        // More than a slot keeps: read from the buckets.
        let q = s.snapshot(T + SLOT_SECS).quantiles;
        assert!((q[1] - 32.5).abs() <= 32.5 / 32.0, "{q:?}");
    }

    #[test]
    fn quantiles_follow_the_ranks() {
        let s = Summary::default();
        for v in 1..=1000 {
            s.observe(f64::from(v), T);
        }
        let q = s.snapshot(T).quantiles;
        for (got, want) in q.iter().zip([100.0, 500.0, 900.0]) {
            assert!((got - want).abs() <= want / 32.0, "{got} for {want}");
        }
    }

    #[test]
    fn old_observations_leave_the_window_but_not_the_totals() {
        let s = Summary::default();
        s.observe(1.0, T);
        s.observe(1000.0, T + 9 * 60);
        let q = s.snapshot(T + 9 * 60).quantiles;
        assert_eq!(q, [1.0, 1.0, 1000.0]);
        // Ten minutes on, the first is out of the window.
        let later = s.snapshot(T + 11 * 60);
        assert_eq!(later.quantiles, [1000.0; 3]);
        assert_eq!((later.count, later.sum), (2, 1001.0));
        // And a slot reused for a new period starts empty.
        s.observe(5.0, T + 12 * 60 + SLOT_SECS * SLOTS as u64);
        let snap = s.snapshot(T + 12 * 60 + SLOT_SECS * SLOTS as u64);
        assert_eq!(snap.quantiles, [5.0; 3]);
        assert_eq!(snap.count, 3);
    }

    #[test]
    fn extreme_values_have_buckets() {
        let s = Summary::default();
        for v in [0.0, 1e-300, f64::MAX, -1.0, f64::NAN, f64::INFINITY] {
            s.observe(v, T);
        }
        let q = s.snapshot(T).quantiles;
        assert!(q.iter().all(|v| !v.is_nan()), "{q:?}");
    }

    proptest! {
        #[test]
        fn a_value_is_within_its_bucket(v in 1e-9f64..1e12) {
            let i = bucket(v);
            let m = middle(i);
            prop_assert!((m - v).abs() <= m / 32.0, "{v} in bucket {i} (middle {m})");
            prop_assert!(bucket(m) == i);
        }
    }
}
