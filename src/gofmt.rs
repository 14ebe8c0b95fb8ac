//! Go-compatible spellings of floats and quoted strings.
//!
//! Pushgateway clients compare our output byte for byte with what the Go
//! server prints, so floats follow `strconv.FormatFloat(v, 'g', -1, 64)` and
//! quoted strings follow `strconv.Quote` (`%q`). Owns nothing else.

use std::fmt::Write as _;

/// Appends `v` as Go's `strconv.FormatFloat(v, 'g', -1, 64)` spells it.
///
/// Shortest round-tripping digits; scientific notation iff the decimal
/// exponent is < -4 or >= 6 (Go's "%g" with shortest precision uses 6 there,
/// not the digit count), exponent signed with at least two digits.
pub fn push_go_float(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // Integers below 1e6 print as themselves: the common case, without float formatting.
    if v.fract() == 0.0 && v.abs() < 1e6 {
        let mut n = v.abs() as u32;
        let mut digits = [0u8; 8];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if v < 0.0 {
            out.push(b'-');
        }
        out.extend_from_slice(&digits[i..]);
        return;
    }
    if (1e-4..1e6).contains(&v.abs()) {
        // Here ryu writes what Go writes: plain decimal notation (it keeps
        // that from 1e-5 up to 1e16), the same shortest digits, and no
        // trailing ".0" (integers were written above).
        let mut ryu = ryu::Buffer::new();
        out.extend_from_slice(ryu.format_finite(v).as_bytes());
        return;
    }
    push_go_digits(out, v);
}

/// [`push_go_float`] for a finite non-zero `v` from its shortest digits and
/// decimal exponent: the general case (and the reference the plain-decimal
/// shortcut is tested against).
fn push_go_digits(out: &mut Vec<u8>, v: f64) {
    let neg = v < 0.0;
    let (digits_buf, n_digits, exp) = shortest_digits(v.abs());
    let digits = &digits_buf[..n_digits];
    if neg {
        out.push(b'-');
    }
    if !(-4..6).contains(&exp) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs(); // at most 324
        if e >= 100 {
            out.push(b'0' + (e / 100) as u8);
        }
        out.push(b'0' + (e / 10 % 10) as u8);
        out.push(b'0' + (e % 10) as u8);
    } else if exp < 0 {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.extend_from_slice(digits);
            out.resize(out.len() + int_len - digits.len(), b'0');
        } else {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    }
}

/// The shortest digits that round-trip to `v` (finite, > 0), without
/// leading or trailing zeros, and the decimal exponent of the first digit
/// (`v = d.ddd × 10^exp`). ryu finds them; its spelling ("1234042.5",
/// "1.7e9", "1e-7", "0.001") is read back into digits and exponent.
fn shortest_digits(v: f64) -> ([u8; 24], usize, i32) {
    let mut ryu = ryu::Buffer::new();
    let text = ryu.format_finite(v).as_bytes();
    let (mantissa, e10) = match text.iter().position(|b| *b == b'e') {
        Some(at) => {
            let e = std::str::from_utf8(&text[at + 1..]).ok().and_then(|e| e.parse::<i32>().ok());
            (&text[..at], e.unwrap_or(0))
        }
        None => (text, 0),
    };
    let point = mantissa.iter().position(|b| *b == b'.').unwrap_or(mantissa.len()) as i32;
    let mut digits = [0u8; 24];
    let mut n = 0;
    // Exponent of the first significant digit: the point position, minus
    // one per leading zero skipped.
    let mut exp = point - 1 + e10;
    for &b in mantissa.iter().filter(|b| **b != b'.') {
        if n == 0 && b == b'0' {
            exp -= 1;
            continue;
        }
        if n < digits.len() {
            digits[n] = b;
            n += 1;
        }
    }
    while n > 1 && digits[n - 1] == b'0' {
        n -= 1;
    }
    (digits, n, exp)
}

/// Appends `v` as the text exposition format spells it (prometheus/common
/// `writeFloat`): like [`push_go_float`] but `-0` prints as `0`.
pub fn push_expfmt_float(out: &mut Vec<u8>, v: f64) {
    if v == 0.0 {
        out.push(b'0');
    } else {
        push_go_float(out, v);
    }
}

/// Returns `v` as Go's `fmt.Sprint(float64)` spells it (used by the JSON API).
pub fn go_float_string(v: f64) -> String {
    let mut out = Vec::with_capacity(24);
    push_go_float(&mut out, v);
    String::from_utf8(out).expect("float digits are ASCII")
}

/// Returns `s` quoted as Go's `strconv.Quote` (`%q`) does.
///
/// Invalid UTF-8 bytes become `\xNN`; control characters use Go's short
/// escapes or `\xNN`/`\uNNNN`; printable characters are kept.
pub fn quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\x07' => out.push_str("\\a"),
                '\x08' => out.push_str("\\b"),
                '\x0c' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x0b' => out.push_str("\\v"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if c.is_control() || c == '\u{ad}' || c == '\u{feff}' => {
                    if (c as u32) < 0x10000 {
                        let _ = write!(out, "\\u{:04x}", c as u32);
                    } else {
                        let _ = write!(out, "\\U{:08x}", c as u32);
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The digits and exponent as Rust's own shortest `{:e}` spells them
    /// (the implementation before ryu): the reference for `shortest_digits`.
    fn reference_digits(v: f64) -> (String, i32) {
        let text = format!("{v:e}");
        let (mantissa, exp) = text.split_once('e').expect("`{:e}` prints an exponent");
        (mantissa.replace('.', ""), exp.parse().expect("decimal exponent"))
    }

    /// `shortest_digits(v)` against [`reference_digits`]: equal, except at an
    /// exact tie between two shortest spellings, where Go (like ryu) takes
    /// the even last digit and Rust's `{:e}` does not always.
    fn matches_reference(v: f64) -> Result<(), TestCaseError> {
        let (d, n, exp) = shortest_digits(v);
        let ours = (std::str::from_utf8(&d[..n]).unwrap().to_owned(), exp);
        let reference = reference_digits(v);
        if ours != reference {
            prop_assert_eq!(ours.1, reference.1);
            prop_assert_eq!(ours.0.len(), reference.0.len());
            let (a, b): (u64, u64) = (ours.0.parse().unwrap(), reference.0.parse().unwrap());
            prop_assert_eq!(a.abs_diff(b), 1, "{:?} vs {:?}", ours, reference);
            prop_assert!(a % 2 == 0, "{:?} vs {:?}", ours, reference);
            let back = |m: &str| format!("{m}e{}", exp - (m.len() as i32 - 1)).parse::<f64>();
            prop_assert_eq!(back(&ours.0), Ok(v));
            prop_assert_eq!(back(&reference.0), Ok(v));
        }
        Ok(())
    }

    #[test]
    fn exact_ties_take_the_even_digit_as_go_does() {
        // 1100879448072876.25: Go's FormatFloat(v, 'g', -1, 64) prints
        // 1.1008794480728762e+15 (Rust's `{:e}` ends in 3).
        let v = f64::from_bits(14055534273353160034).abs();
        let (d, n, exp) = shortest_digits(v);
        assert_eq!((&d[..n], exp), (&b"11008794480728762"[..], 15));
    }

    proptest! {
        #[test]
        fn shortest_digits_match_rust_formatting(bits in any::<u64>()) {
            let v = f64::from_bits(bits).abs();
            prop_assume!(v.is_finite() && v > 0.0);
            matches_reference(v)?;
        }

        #[test]
        fn shortest_digits_match_for_decimal_values(m in 1u64..10_000_000, scale in -12i32..12) {
            let v = m as f64 * 10f64.powi(scale);
            matches_reference(v)?;
        }
    }

    fn g(v: f64) -> String {
        let mut out = Vec::new();
        push_expfmt_float(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    macro_rules! float_cases {
        ($($name:ident: $v:expr => $s:expr,)*) => {$(
            #[test]
            fn $name() { assert_eq!(g($v), $s); }
        )*};
    }

    // Spec 4.3, checked against Go 1.19 strconv.
    float_cases! {
        float_one: 1.0 => "1",
        float_neg_zero: -0.0 => "0",
        float_minus_one: -1.0 => "-1",
        float_999999: 999999.0 => "999999",
        float_1e6: 1e6 => "1e+06",
        float_1234567: 1234567.0 => "1.234567e+06",
        float_123456789: 123456789.0 => "1.23456789e+08",
        float_12345_678: 12345.678 => "12345.678",
        float_0_0001: 0.0001 => "0.0001",
        float_1e_5: 1e-5 => "1e-05",
        float_1_5e_7: 1.5e-7 => "1.5e-07",
        float_neg_2_5e10: -2.5e10 => "-2.5e+10",
        float_1e100: 1e100 => "1e+100",
        float_3_25: 3.25 => "3.25",
        float_nan: f64::NAN => "NaN",
        float_inf: f64::INFINITY => "+Inf",
        float_neg_inf: f64::NEG_INFINITY => "-Inf",
        float_epoch: 1.5838723477166057e9 => "1.5838723477166057e+09",
        float_2398: 2398.283 => "2398.283",
        float_0_5: 0.5 => "0.5",
    }

    proptest::proptest! {
        #[test]
        fn floats_round_trip_and_pick_go_notation(bits: u64) {
            let v = f64::from_bits(bits);
            proptest::prop_assume!(v.is_finite() && v != 0.0);
            let s = go_float_string(v);
            proptest::prop_assert_eq!(s.parse::<f64>().unwrap(), v, "{}", s);
            let exp = v.abs().log10().floor() as i32;
            // log10 can be off by one at exact powers; only check clear cases.
            if !(-5..=-4).contains(&exp) && !(5..=6).contains(&exp) {
                proptest::prop_assert_eq!(s.contains('e'), !(-4..6).contains(&exp), "{}", s);
            }
        }
    }

    proptest::proptest! {
        /// Between 1e-4 and 1e6 ryu's text is copied as it is: the same as
        /// spelling the shortest digits out Go's way, for any bits there
        /// and for short decimals.
        #[test]
        fn plain_decimal_shortcut_matches_the_digits_path(
            bits: u64,
            m in 1u64..100_000_000,
            scale in -12i32..6,
        ) {
            let from_bits = f64::from_bits(bits);
            let a = (1e-4 + from_bits.abs() % (1e6 - 1e-4)).copysign(from_bits);
            let b = m as f64 * 10f64.powi(scale);
            for v in [a, -a, b, -b, 1e-4, 999_999.5, 0.1 + 0.2] {
                proptest::prop_assume!(v.is_finite() && v != 0.0);
                let (mut fast, mut digits) = (Vec::new(), Vec::new());
                push_go_float(&mut fast, v);
                push_go_digits(&mut digits, v);
                proptest::prop_assert_eq!(
                    String::from_utf8(fast).unwrap(),
                    String::from_utf8(digits).unwrap()
                );
            }
        }
    }

    #[test]
    fn json_float_keeps_negative_zero() {
        assert_eq!(go_float_string(-0.0), "-0");
    }

    #[test]
    fn quote_matches_go() {
        assert_eq!(quote(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote(b"\n\t\x01"), r#""\n\t\x01""#);
        assert_eq!(quote(b"\xff"), r#""\xff""#);
        assert_eq!(quote("héllo".as_bytes()), "\"héllo\"");
    }
}
