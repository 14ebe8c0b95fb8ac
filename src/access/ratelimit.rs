//! `rate_limit` of the web config: one token bucket for the whole server
//! (the toolkit's `rate.Limiter`); an empty bucket answers 429.

use std::time::{Duration, Instant};

/// A token bucket refilled at one token per `interval`, holding at most `burst`.
#[derive(Debug)]
pub struct Bucket {
    interval: Duration,
    burst: u32,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(interval: Duration, burst: u32, now: Instant) -> Bucket {
        Bucket { interval, burst, tokens: burst as f64, last: now }
    }

    /// Whether the settings are these (the file may change them).
    pub fn is(&self, interval: Duration, burst: u32) -> bool {
        self.interval == interval && self.burst == burst
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        let refill = if self.interval.is_zero() {
            f64::INFINITY
        } else {
            elapsed.as_secs_f64() / self.interval.as_secs_f64()
        };
        self.tokens = (self.tokens + refill).min(self.burst as f64);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_one_per_interval() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Duration::from_millis(100), 3, t0);
        assert!(b.take(t0) && b.take(t0) && b.take(t0));
        assert!(!b.take(t0));
        assert!(!b.take(t0 + Duration::from_millis(50)));
        assert!(b.take(t0 + Duration::from_millis(100)));
        assert!(!b.take(t0 + Duration::from_millis(100)));
        // A long pause refills only up to the burst.
        let later = t0 + Duration::from_secs(60);
        assert!(b.take(later) && b.take(later) && b.take(later));
        assert!(!b.take(later));
    }
}
