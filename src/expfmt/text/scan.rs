//! Byte-class scans of the text parser, eight bytes at a time.
//!
//! Owns the inner loops that find where a name, a token or a label value
//! ends. Each word of eight bytes is classified with SWAR arithmetic on a
//! `u64` (no `unsafe`, no target features): a byte's high bit in the result
//! marks a byte that ends the run, and the first such byte is found with
//! `trailing_zeros`. The last partial word is scanned a byte at a time.

/// 0x01 in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;
/// 0x80 in every byte.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Which bytes continue a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NameClass {
    /// `[a-zA-Z0-9_]`.
    Label,
    /// `[a-zA-Z0-9_:]`.
    Metric,
}

/// High bit set in each byte of `y` (all bytes < 0x80) that is `>= n`
/// (`1 <= n <= 0x80`): adding `0x80 - n` carries into bit 7 exactly then,
/// and never out of the byte.
#[inline(always)]
fn ge(y: u64, n: u8) -> u64 {
    y.wrapping_add(ONES * u64::from(0x80 - n)) & HIGH
}

/// High bit set in each byte of `y` (all bytes < 0x80) equal to `n` (`n < 0x80`).
#[inline(always)]
fn eq(y: u64, n: u8) -> u64 {
    let d = y ^ (ONES * u64::from(n));
    // d == 0 exactly when `d + 0x7f` leaves bit 7 clear (d < 0x80).
    !(d.wrapping_add(ONES * 0x7f)) & HIGH
}

/// Marks (high bit) the bytes of the word `x` that do not continue a name.
#[inline(always)]
fn not_name(x: u64, class: NameClass) -> u64 {
    let ascii = !x & HIGH;
    let y = x & !HIGH;
    let lower = y | (ONES * 0x20);
    let alpha = ge(lower, b'a') & !ge(lower, b'z' + 1);
    let digit = ge(y, b'0') & !ge(y, b'9' + 1);
    let mut ok = alpha | digit | eq(y, b'_');
    if class == NameClass::Metric {
        ok |= eq(y, b':');
    }
    !(ok & ascii) & HIGH
}

/// Marks the bytes of `x` that are a blank (`' '` or `'\t'`).
#[inline(always)]
fn blank(x: u64) -> u64 {
    let ascii = !x & HIGH;
    let y = x & !HIGH;
    (eq(y, b' ') | eq(y, b'\t')) & ascii
}

/// Marks the bytes of `x` that are `"` or `\`.
#[inline(always)]
fn quote_or_backslash(x: u64) -> u64 {
    let ascii = !x & HIGH;
    let y = x & !HIGH;
    (eq(y, b'"') | eq(y, b'\\')) & ascii
}

/// The first index of `s` whose byte `mark` marks (`stop` is the same rule
/// for one byte, for the last partial word), else `s.len()`.
#[inline(always)]
fn first(s: &[u8], mark: impl Fn(u64) -> u64, stop: impl Fn(u8) -> bool) -> usize {
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let m = mark(u64::from_le_bytes(word));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = s.get(i) {
        if stop(b) {
            return i;
        }
        i += 1;
    }
    s.len()
}

/// Length of the longest prefix of `s` whose bytes all continue a name of `class`.
#[inline]
pub(super) fn name_len(s: &[u8], class: NameClass) -> usize {
    first(
        s,
        |x| not_name(x, class),
        |b| !(b.is_ascii_alphanumeric() || b == b'_' || (class == NameClass::Metric && b == b':')),
    )
}

/// Index of the first blank (`' '`, `'\t'`) in `s`, else `s.len()`.
#[inline]
pub(super) fn blank_at(s: &[u8]) -> usize {
    first(s, blank, |b| b == b' ' || b == b'\t')
}

/// Index of the first `"` or `\` in `s`, if any.
#[inline]
pub(super) fn quote_or_backslash_at(s: &[u8]) -> Option<usize> {
    let i = first(s, quote_or_backslash, |b| b == b'"' || b == b'\\');
    (i < s.len()).then_some(i)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn continues(b: u8, class: NameClass) -> bool {
        b.is_ascii_alphanumeric() || b == b'_' || (class == NameClass::Metric && b == b':')
    }

    fn scalar_name_len(s: &[u8], class: NameClass) -> usize {
        s.iter().position(|&b| !continues(b, class)).unwrap_or(s.len())
    }

    #[test]
    fn every_byte_is_classified_like_the_scalar_rule() {
        for b in 0..=255u8 {
            for pos in 0..10 {
                // The byte at each position of a word and of a tail.
                let mut s = vec![b'a'; pos];
                s.push(b);
                s.extend_from_slice(b"xyz");
                for class in [NameClass::Label, NameClass::Metric] {
                    assert_eq!(name_len(&s, class), scalar_name_len(&s, class), "{b:#x} at {pos}");
                }
                let blank_want = s.iter().position(|&c| c == b' ' || c == b'\t').unwrap_or(s.len());
                assert_eq!(blank_at(&s), blank_want, "{b:#x} at {pos}");
                let q_want = s.iter().position(|&c| c == b'"' || c == b'\\');
                assert_eq!(quote_or_backslash_at(&s), q_want, "{b:#x} at {pos}");
            }
        }
    }

    #[test]
    fn empty_and_exact_words() {
        assert_eq!(name_len(b"", NameClass::Metric), 0);
        assert_eq!(name_len(b"abcdefgh", NameClass::Label), 8);
        assert_eq!(name_len(b"abcdefgh{", NameClass::Label), 8);
        assert_eq!(name_len(b"a:b", NameClass::Label), 1);
        assert_eq!(name_len(b"a:b", NameClass::Metric), 3);
        assert_eq!(blank_at(b"12345678"), 8);
        assert_eq!(quote_or_backslash_at(b"abcdefghij"), None);
    }

    proptest! {
        #[test]
        fn scans_match_scalar(s in prop::collection::vec(
            prop::sample::select(vec![b'a', b'Z', b'0', b'_', b':', b' ', b'\t', b'"', b'\\', b'{', 0x80, 0xa0, 0xdc, 0xff, 0x20 | 0x80, b'\n']),
            0..40,
        )) {
            for class in [NameClass::Label, NameClass::Metric] {
                prop_assert_eq!(name_len(&s, class), scalar_name_len(&s, class));
            }
            prop_assert_eq!(blank_at(&s), s.iter().position(|&c| c == b' ' || c == b'\t').unwrap_or(s.len()));
            prop_assert_eq!(quote_or_backslash_at(&s), s.iter().position(|&c| c == b'"' || c == b'\\'));
        }
    }
}
