//! Decimal to binary floating point for the common case, without re-reading
//! the digits.
//!
//! Owns one conversion: a decimal `w × 10^q` whose significand `w` the
//! float reader has already accumulated exactly (at most 19 digits) becomes
//! the nearest `f64`, by the Eisel-Lemire method (Lemire, "Number Parsing at
//! a Gigabyte per Second", 2021, sections 5 and 6): `w` is multiplied by a
//! 128-bit approximation of `5^q` and the product is rounded, unless it is
//! too close to a halfway point to tell, in which case the caller falls back
//! to Rust's exact parser.
//!
//! Clinger's fast path (both `w` and `10^q` exact doubles) already covers
//! short values. What it leaves are values with 16 to 19 significant digits,
//! which exporters print all the time (`1/7` is `0.14285714285714285`): for
//! those the fallback would check the text for UTF-8 and parse every digit
//! again before reaching the same method, about three times the cost.
//!
//! Only `q` in [`MIN_Q`]`..=`[`MAX_Q`] is handled. In that range every
//! result is a normal, finite double, the table is small enough to be built
//! at compile time, and the paper shows the 128-bit product always decides
//! the rounding (ties included), so no call is refused for want of
//! precision.

/// Smallest decimal exponent handled: `5^27 < 2^64`.
pub(super) const MIN_Q: i32 = -27;

/// Largest decimal exponent handled: `5^55 < 2^128`.
pub(super) const MAX_Q: i32 = 55;

/// Explicit significand bits of an `f64`.
const MANTISSA_BITS: i32 = 52;

/// Below this decimal exponent no halfway case can be exact (`5^-q` has more
/// than 64 bits of precision to lose); above the next, neither.
const MIN_Q_ROUND_TO_EVEN: i32 = -4;
const MAX_Q_ROUND_TO_EVEN: i32 = 23;

/// `5^q` for `q` in `MIN_Q..=MAX_Q`, normalised so bit 127 is set, as (high
/// word, low word). Exact for `q >= 0`; for `q < 0`, one more than the
/// truncated `2^b / 5^-q` (so never below the true value), as the method
/// requires.
static POW5: [(u64, u64); (MAX_Q - MIN_Q + 1) as usize] = pow5_table();

const fn pow5_table() -> [(u64, u64); (MAX_Q - MIN_Q + 1) as usize] {
    let mut table = [(0u64, 0u64); (MAX_Q - MIN_Q + 1) as usize];
    let mut q = MIN_Q;
    while q <= MAX_Q {
        let v: u128 = if q >= 0 {
            let p = pow5(q as u32);
            p << p.leading_zeros()
        } else {
            // 5^-q < 2^64 here. With z its bit length, 2^(z + 127) / 5^-q
            // lies in [2^127, 2^128).
            let d = pow5((-q) as u32);
            let z = 128 - d.leading_zeros();
            div_pow2(z + 127, d) + 1
        };
        table[(q - MIN_Q) as usize] = ((v >> 64) as u64, v as u64);
        q += 1;
    }
    table
}

const fn pow5(n: u32) -> u128 {
    let mut p: u128 = 1;
    let mut i = 0;
    while i < n {
        p *= 5;
        i += 1;
    }
    p
}

/// `floor(2^b / d)`, for a `d` below `2^64` and a quotient below `2^128`:
/// long division a bit at a time (compile time only).
const fn div_pow2(b: u32, d: u128) -> u128 {
    let mut quotient: u128 = 0;
    let mut rem: u128 = 0;
    let mut i = 0;
    // The dividend is a one followed by `b` zeros.
    while i <= b {
        rem = (rem << 1) | (i == 0) as u128;
        quotient <<= 1;
        if rem >= d {
            rem -= d;
            quotient |= 1;
        }
        i += 1;
    }
    quotient
}

/// `floor(log2(10^q)) + 63`, by the integer approximation of `log2(10)`
/// (`217706 / 2^16`) that is exact over the whole `f64` range.
fn binary_exponent(q: i32) -> i32 {
    (q.wrapping_mul(152_170 + 65_536) >> 16) + 63
}

/// The `f64` nearest to `w × 10^q` (ties to even), or `None` if `q` is
/// outside `MIN_Q..=MAX_Q`; `w` may be any `u64`.
pub(super) fn to_f64(w: u64, q: i32) -> Option<f64> {
    if !(MIN_Q..=MAX_Q).contains(&q) {
        return None;
    }
    if w == 0 {
        return Some(0.0);
    }
    let lz = w.leading_zeros();
    let w = w << lz;
    let (hi5, lo5) = POW5[(q - MIN_Q) as usize];
    // The high word of w × 5^q decides unless its bits below the ones kept
    // (significand, hidden bit, rounding bit, and one for a leading zero)
    // are all ones, when the low word's carry could change them.
    let product = u128::from(w) * u128::from(hi5);
    let (mut hi, mut lo) = ((product >> 64) as u64, product as u64);
    let mask = u64::MAX >> (MANTISSA_BITS + 3);
    if hi & mask == mask {
        let low = ((u128::from(w) * u128::from(lo5)) >> 64) as u64;
        lo = lo.wrapping_add(low);
        if low > lo {
            hi += 1;
        }
    }
    // (For `q` in this range the product is never too coarse to round: the
    // paper's section 8 for `q <= 55`, 9.1 for `q >= -27`.)
    let upper = (hi >> 63) as i32;
    let shift = upper + 64 - MANTISSA_BITS - 3;
    let mut mantissa = hi >> shift;
    let mut exponent = binary_exponent(q) + upper - lz as i32 + 1023;
    if exponent <= 0 {
        // Subnormal: impossible in this range (the smallest value is 1e-27).
        return None;
    }
    // An exact halfway case rounds to even: the product is exact (low word
    // at most 1), the bit below the significand is set and nothing below it.
    if lo <= 1
        && (MIN_Q_ROUND_TO_EVEN..=MAX_Q_ROUND_TO_EVEN).contains(&q)
        && mantissa & 0b11 == 0b01
        && mantissa << shift == hi
    {
        mantissa &= !1;
    }
    mantissa += mantissa & 1;
    mantissa >>= 1;
    if mantissa >= 2 << MANTISSA_BITS {
        // Rounding carried into a new bit.
        mantissa = 1 << MANTISSA_BITS;
        exponent += 1;
    }
    mantissa &= !(1 << MANTISSA_BITS);
    if exponent >= 0x7FF {
        // Infinite: impossible in this range (the largest value is below 2e74).
        return None;
    }
    Some(f64::from_bits(mantissa | (exponent as u64) << MANTISSA_BITS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rust(w: u64, q: i32) -> f64 {
        format!("{w}e{q}").parse().expect("a valid float")
    }

    #[test]
    fn table_holds_the_powers_of_five() {
        for q in MIN_Q..=MAX_Q {
            let (hi, lo) = POW5[(q - MIN_Q) as usize];
            let v = u128::from(hi) << 64 | u128::from(lo);
            assert!(v >> 127 == 1, "5^{q} is not normalised");
            if q >= 0 {
                assert_eq!(v >> v.trailing_zeros(), pow5(q as u32), "5^{q}");
            } else {
                // v - 1 = floor(2^b / d) with b >= 128: (v - 1) × d + r = 2^b
                // for a remainder 0 < r < d, so (v - 1) × d ≡ -r mod 2^128.
                let d = pow5((-q) as u32);
                let r = (v - 1).wrapping_mul(d).wrapping_neg();
                assert!(r > 0 && r < d, "5^{q}");
            }
        }
    }

    #[test]
    fn converts_like_rust() {
        for (w, q) in [
            (142_857_142_857_142_857, -18),
            (12_345_671_428_571_429, -11),
            (1, 0),
            (1, MIN_Q),
            (u64::MAX, MAX_Q),
            (u64::MAX, MIN_Q),
            (9_999_999_999_999_999_999, -19),
            (5, -1),
            (17_976_931_348_623_157, 20),
        ] {
            assert_eq!(to_f64(w, q), Some(rust(w, q)), "{w}e{q}");
        }
        assert_eq!(to_f64(0, 40), Some(0.0));
        assert_eq!(to_f64(1, MIN_Q - 1), None);
        assert_eq!(to_f64(1, MAX_Q + 1), None);
    }

    #[test]
    fn halfway_cases_round_to_even() {
        // 2^53 + 1 and 2^53 + 3 lie halfway between doubles.
        assert_eq!(to_f64(9_007_199_254_740_993, 0), Some(9_007_199_254_740_992.0));
        assert_eq!(to_f64(9_007_199_254_740_995, 0), Some(9_007_199_254_740_996.0));
        // (2^53 + 1) / 2 = 4503599627370496.5: halfway, with a negative q.
        assert_eq!(to_f64(45_035_996_273_704_965, -1), Some(rust(45_035_996_273_704_965, -1)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn matches_rust(w in any::<u64>(), q in MIN_Q..=MAX_Q) {
            prop_assert_eq!(to_f64(w, q), Some(rust(w, q)));
        }

        #[test]
        fn matches_rust_on_short_significands(w in 0u64..10_000_000_000_000_000_000, q in MIN_Q..=MAX_Q) {
            prop_assert_eq!(to_f64(w, q), Some(rust(w, q)));
        }

        /// Midpoints between adjacent doubles, `(2m + 1) × 2^s` and
        /// `(2m + 1) / 2^s` written in decimal, and their neighbours.
        #[test]
        fn matches_rust_near_halfway(m in (1u64 << 52)..(1u64 << 53), s in 0u32..10, up in any::<bool>(), nudge in 0u64..3) {
            let odd = 2 * m + 1;
            let (w, q) = if up {
                (odd << s, 0)
            } else {
                // (2m + 1) / 2^s = (2m + 1) × 5^s / 10^s.
                let s = s.min(3);
                (odd * 5u64.pow(s), -(s as i32))
            };
            let w = w + nudge - 1;
            prop_assert_eq!(to_f64(w, q), Some(rust(w, q)));
        }
    }
}
