//! The shape of a plain sample line, read from byte-class bitmasks.
//!
//! Owns the fast path of the text parser: almost every sample line a client
//! library writes has one shape, `name{a="x",b="y"} value` (or `name value`)
//! with no blanks but the one before the value, no escapes and no timestamp.
//! [`split`] classifies the bytes of such a line sixteen at a time (SSE2)
//! into bitmasks (quote or backslash, name character, newline), 64 bits for
//! a line of up to 63 bytes and 128 beyond, and finds every token boundary
//! with bit arithmetic instead of scanning token by token. It only reports
//! where the tokens are; the parser checks names against its families,
//! reads the floats (whose parser refuses a blank, so a timestamp) and
//! stores the sample.
//!
//! Anything else (a blank where Go allows blanks, an escape, a quoted name,
//! a `:` in the metric name, a line longer than [`WINDOW`] bytes, more than
//! [`MAX_PAIRS`] labels, or any malformed byte) makes [`split`] return
//! `None`, and the parser reads the line again with the general path, which
//! reports errors exactly as Go does. So this module decides nothing about
//! what is accepted: it can only be faster, and the parser's tests and the
//! `text_parse` fuzz target hold it to the general path.

use std::ops::{BitAnd, BitOr, Not};

/// Lines up to this many bytes (newline excluded) are split here.
pub(super) const WINDOW: usize = 127;

/// Lines with up to this many label pairs are split here.
pub(super) const MAX_PAIRS: usize = 8;

/// Where the tokens of a plain sample line are (byte offsets in the line),
/// and the line, whose tokens it hands out as text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Split<'t> {
    /// The line, without its `\n`.
    line: &'t str,
    /// Length of the line, without its `\n`.
    pub len: usize,
    /// End of the metric name (it starts at 0).
    pub name_end: usize,
    /// Label pairs in line order: name start, name end, value start, value
    /// end (the value is between its quotes, without them).
    pairs: [[u8; 4]; MAX_PAIRS],
    n_pairs: usize,
    /// Start of the value token, which runs to the end of the line.
    pub value_start: usize,
}

impl<'t> Split<'t> {
    /// The label pairs as `(name, value)` byte ranges: name start and end,
    /// value start and end.
    #[cfg(test)]
    pub fn pairs(&self) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
        (0..self.n_pairs).map(|i| self.pair(i))
    }

    /// How many label pairs the line has.
    pub fn pair_count(&self) -> usize {
        self.n_pairs
    }

    /// Label pair `i` (below [`Split::pair_count`]): name start and end,
    /// value start and end.
    #[inline(always)]
    fn pair(&self, i: usize) -> (usize, usize, usize, usize) {
        let p = self.pairs[i];
        (usize::from(p[0]), usize::from(p[1]), usize::from(p[2]), usize::from(p[3]))
    }

    /// The line, without its `\n`.
    #[cfg(test)]
    pub fn line(&self) -> &'t str {
        self.line
    }

    /// The metric name.
    #[inline(always)]
    pub fn name(&self) -> &'t str {
        self.text(0, self.name_end)
    }

    /// The value token (to the end of the line).
    #[inline(always)]
    pub fn value(&self) -> &'t str {
        self.text(self.value_start, self.len)
    }

    /// The name and the value (between its quotes) of label pair `i` (below
    /// [`Split::pair_count`]).
    #[inline(always)]
    pub fn pair_text(&self, i: usize) -> (&'t str, &'t str) {
        let (a, b, c, d) = self.pair(i);
        (self.text(a, b), self.text(c, d))
    }

    /// The text of label pairs `from..to` (`from` below `to`, `to` at most
    /// [`Split::pair_count`]): from the first name to the last closing quote.
    #[inline(always)]
    pub fn pairs_text(&self, from: usize, to: usize) -> &'t str {
        self.text(self.pair(from).0, self.pair(to - 1).3 + 1)
    }

    /// `line[a..b]` for the token boundaries [`split_line`] and [`labels`]
    /// found, unchecked: each one is the end of the line or next to one of
    /// the ASCII bytes they matched (a start right after `{`, `,`, a blank
    /// or `"`; an end at `=`, `"`, a blank or `{`, or right after `"` or
    /// `}`), and an ASCII byte is a whole character, so each is a character
    /// boundary; `a <= b <= len` holds as they were found in that order.
    /// The tokens are read once per line, where checked slicing cost ~7% of
    /// a node_exporter body's parse.
    #[inline(always)]
    fn text(&self, a: usize, b: usize) -> &'t str {
        debug_assert!(a <= b && b <= self.line.len());
        debug_assert!(self.line.is_char_boundary(a) && self.line.is_char_boundary(b));
        #[allow(unsafe_code)]
        // SAFETY: `a..b` is within `line` and both ends are character
        // boundaries (see above; the debug assertions check it under every
        // test, the proptest below and the fuzz corpus replay).
        unsafe {
            self.line.get_unchecked(a..b)
        }
    }
}

/// The byte classes the split needs, one bit per byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Classes<T> {
    /// `"` or `\`: a label value ends at the first, which must be a quote
    /// (a backslash starts an escape, left to the general path).
    quote: T,
    /// `[a-zA-Z0-9_]`: continues a label name and a metric name. (A `:` in
    /// a metric name sends the line to the general path.)
    name: T,
    newline: T,
}

/// Classifies sixteen bytes with SSE2, which every x86-64 CPU has.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[allow(unsafe_code)]
#[inline(always)]
fn classify_chunk(b: &[u8; 16]) -> Classes<u16> {
    // SAFETY: `classify_sse2` needs SSE2, and this is compiled only for
    // targets that enable it for all code (the `cfg` above: x86-64 does
    // by definition), so every CPU this binary runs on has it.
    unsafe { classify_sse2(b) }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
#[inline]
fn classify_sse2(b: &[u8; 16]) -> Classes<u16> {
    use std::arch::x86_64::{
        _mm_and_si128 as and, _mm_cmpeq_epi8 as eq, _mm_cmpgt_epi8 as gt, _mm_loadu_si128,
        _mm_movemask_epi8 as bits, _mm_or_si128 as or, _mm_set1_epi8 as splat,
    };
    #[allow(unsafe_code)]
    // SAFETY: `b` is sixteen readable bytes, and `loadu` has no alignment
    // requirement.
    let x = unsafe { _mm_loadu_si128(b.as_ptr().cast()) };
    // Signed compares: bytes >= 0x80 are negative, so in none of these ranges.
    let lower = or(x, splat(0x20));
    let alpha = and(gt(lower, splat(b'a' as i8 - 1)), gt(splat(b'z' as i8 + 1), lower));
    let digit = and(gt(x, splat(b'0' as i8 - 1)), gt(splat(b'9' as i8 + 1), x));
    let name = or(or(alpha, digit), eq(x, splat(b'_' as i8)));
    Classes {
        quote: bits(or(eq(x, splat(b'"' as i8)), eq(x, splat(b'\\' as i8)))) as u16,
        name: bits(name) as u16,
        newline: bits(eq(x, splat(b'\n' as i8))) as u16,
    }
}

/// Classifies sixteen bytes a byte at a time (other architectures, and the
/// tests' reference for the SSE2 version).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn classify_chunk_scalar(b: &[u8; 16]) -> Classes<u16> {
    let mut c = Classes::default();
    for (i, &x) in b.iter().enumerate() {
        let bit = |yes: bool| u16::from(yes) << i;
        c.quote |= bit(x == b'"' || x == b'\\');
        c.name |= bit(x.is_ascii_alphanumeric() || x == b'_');
        c.newline |= bit(x == b'\n');
    }
    c
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn classify_chunk(b: &[u8; 16]) -> Classes<u16> {
    classify_chunk_scalar(b)
}

/// The classes of the first 64 bytes of `bytes` (zero-padded past its end).
#[inline(always)]
fn classify64(bytes: &[u8]) -> Classes<u64> {
    let mut padded = [0u8; 64];
    let block: &[u8; 64] = match bytes.first_chunk::<64>() {
        Some(b) => b,
        None => {
            padded[..bytes.len()].copy_from_slice(bytes);
            &padded
        }
    };
    let mut m = Classes::default();
    for (i, chunk) in block.chunks_exact(16).enumerate() {
        let c = classify_chunk(chunk.try_into().unwrap_or(&[0; 16]));
        m.quote |= u64::from(c.quote) << (16 * i);
        m.name |= u64::from(c.name) << (16 * i);
        m.newline |= u64::from(c.newline) << (16 * i);
    }
    m
}

/// A bitmask over the bytes of a line, one bit per byte: `u64` for lines
/// of up to 63 bytes (most), `u128` for longer ones.
trait Bits: Copy + Not<Output = Self> + BitAnd<Output = Self> + BitOr<Output = Self> {
    /// The mask of positions `len` and beyond (`len` below the width).
    fn past(len: usize) -> Self;
    /// Whether bit `i` is set (`i` below the width).
    fn has(self, i: usize) -> bool;
    /// First set bit at or after `from` (below the width), if any.
    fn next(self, from: usize) -> Option<usize>;
}

macro_rules! bits {
    ($t:ty) => {
        impl Bits for $t {
            #[inline(always)]
            fn past(len: usize) -> Self {
                !0 << len
            }
            #[inline(always)]
            fn has(self, i: usize) -> bool {
                (self >> i) & 1 != 0
            }
            #[inline(always)]
            fn next(self, from: usize) -> Option<usize> {
                let m = self >> from;
                (m != 0).then(|| from + m.trailing_zeros() as usize)
            }
        }
    };
}
bits!(u64);
bits!(u128);

/// Splits the line at the start of `rest` into `out` if it is a plain sample
/// line (see the module docs); `None` sends it to the general path. (`out`
/// is filled in place, not returned: a returned `Split` is copied in words
/// it was not written in, which stalls the load.)
pub(super) fn split<'t>(rest: &'t str, out: &mut Split<'t>) -> Option<()> {
    let bytes = rest.as_bytes();
    let lo = classify64(bytes);
    if lo.newline != 0 {
        split_line(bytes, lo, out)?;
        return line_of(rest, out);
    }
    let hi = classify64(bytes.get(64..)?);
    let wide = |l: u64, h: u64| u128::from(l) | u128::from(h) << 64;
    let m = Classes {
        quote: wide(lo.quote, hi.quote),
        name: wide(lo.name, hi.name),
        newline: wide(lo.newline, hi.newline),
    };
    split_line(bytes, m, out)?;
    line_of(rest, out)
}

/// Sets the line of a split of `rest` (the text before its first `\n`).
#[inline(always)]
fn line_of<'t>(rest: &'t str, out: &mut Split<'t>) -> Option<()> {
    out.line = rest.get(..out.len)?;
    Some(())
}

/// [`split`] with the classes of the line's bytes (and perhaps more).
#[inline(always)]
fn split_line<T: Bits + Eq + Default>(
    rest: &[u8],
    m: Classes<T>,
    split: &mut Split<'_>,
) -> Option<()> {
    let len = m.newline.next(0)?;
    debug_assert!(len <= WINDOW);
    let line = &rest[..len];
    let outside = T::past(len);
    let first = *line.first()?;
    if first.is_ascii_digit() || !m.name.has(0) {
        return None;
    }
    let name_end = (!m.name | outside).next(0)?;
    split.len = len;
    split.name_end = name_end;
    split.n_pairs = 0;
    split.value_start = match *line.get(name_end)? {
        b' ' => name_end + 1,
        b'{' => {
            let close = labels(line, &m, outside, name_end + 1, split)?;
            if line.get(close) == Some(&b' ') {
                close + 1
            } else {
                close
            }
        }
        _ => return None,
    };
    // The value token runs to the end of the line: its parser refuses
    // blanks, so a timestamp or a trailing blank goes to the general path.
    (split.value_start < len).then_some(())
}

/// The label pairs starting at `p` (right after `{`); returns the position
/// after the closing `}`.
#[inline(always)]
fn labels<T: Bits>(
    line: &[u8],
    m: &Classes<T>,
    outside: T,
    mut p: usize,
    split: &mut Split<'_>,
) -> Option<usize> {
    let at = |i: usize| line.get(i).copied();
    loop {
        // `p`, and below `e + 2` and `close + 1`, are within the line, so
        // below the width of `T`.
        let first = at(p)?;
        if first == b'}' {
            return Some(p + 1);
        }
        if split.n_pairs == MAX_PAIRS || first.is_ascii_digit() || !m.name.has(p) {
            return None;
        }
        let e = (!m.name | outside).next(p)?;
        if at(e)? != b'=' || at(e + 1)? != b'"' {
            return None;
        }
        let close = (m.quote & !outside).next(e + 2)?;
        if line[close] != b'"' {
            return None;
        }
        // Every position is below 128 (`WINDOW`), so it fits a byte.
        split.pairs[split.n_pairs] = [p as u8, e as u8, (e + 2) as u8, close as u8];
        split.n_pairs += 1;
        match at(close + 1)? {
            b',' => p = close + 2,
            b'}' => return Some(close + 2),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Name, label pairs and value token.
    type Parts = (String, Vec<(String, String)>, String);

    fn split_of(rest: &str) -> Option<Split<'_>> {
        let mut out = Split::default();
        split(rest, &mut out).map(|()| out)
    }

    /// The tokens of a split, read with checked slicing and compared with
    /// what the unchecked accessors give.
    fn s(line: &str) -> Option<Parts> {
        let sp = split_of(line)?;
        let t = &line[..sp.len];
        assert_eq!(sp.line(), t);
        let pairs: Vec<(String, String)> =
            sp.pairs().map(|(a, b, c, d)| (t[a..b].to_owned(), t[c..d].to_owned())).collect();
        for (i, (name, value)) in pairs.iter().enumerate() {
            assert_eq!(sp.pair_text(i), (name.as_str(), value.as_str()));
        }
        if let Some(last) = sp.pairs().last() {
            assert_eq!(sp.pairs_text(0, sp.pair_count()), &t[sp.pair(0).0..last.3 + 1]);
        }
        assert_eq!((sp.name(), sp.value()), (&t[..sp.name_end], &t[sp.value_start..]));
        Some((sp.name().to_owned(), pairs, sp.value().to_owned()))
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn plain_lines_are_split() {
        assert_eq!(s("up 1\n"), Some(("up".into(), vec![], "1".into())));
        assert_eq!(s("a_b9 1e3\nnext"), Some(("a_b9".into(), vec![], "1e3".into())));
        assert_eq!(
            s("m{a=\"x\",b_2=\"y z{}=,\"} -Inf\n"),
            Some(("m".into(), pairs(&[("a", "x"), ("b_2", "y z{}=,")]), "-Inf".into()))
        );
        assert_eq!(s("m{} 2\n"), Some(("m".into(), vec![], "2".into())));
        assert_eq!(s("m{a=\"\",} 2\n"), Some(("m".into(), pairs(&[("a", "")]), "2".into())));
        assert_eq!(s("m{a=\"1\"}2\n"), Some(("m".into(), pairs(&[("a", "1")]), "2".into())));
        assert_eq!(s("m{a=\"é\"} 1\n"), Some(("m".into(), pairs(&[("a", "é")]), "1".into())));
        // The value token is not read here: its parser refuses what is not a float.
        assert_eq!(s("m x\n"), Some(("m".into(), vec![], "x".into())));
        assert_eq!(s("m 1 123\n"), Some(("m".into(), vec![], "1 123".into())));
        assert_eq!(s("m {a=\"b\"} 1\n"), Some(("m".into(), vec![], "{a=\"b\"} 1".into())));
        assert_eq!(s("m\t1\n"), None);
    }

    #[test]
    fn anything_else_goes_to_the_general_path() {
        for line in [
            "",
            "\n",
            " m 1\n",
            "m 1",
            "m\t1\n",
            "m \n",
            "m\n",
            "1m 1\n",
            "#m 1\n",
            "m{ a=\"b\"} 1\n",
            "m{a =\"b\"} 1\n",
            "m{a= \"b\"} 1\n",
            "m{a=\"b\" } 1\n",
            "m{a=\"b\\\"\"} 1\n",
            "m{a=\"b\"\n",
            "m{a=\"b\n",
            "m{1=\"b\"} 1\n",
            "m{a:b=\"c\"} 1\n",
            "m{\"a\"=\"b\"} 1\n",
            "{\"m\"} 1\n",
            "m{a=\"b\";c=\"d\"} 1\n",
            "m{a=b} 1\n",
            "m{a=\"b\"}\n",
            "m{a=\"b\"} \n",
            "m:x 1\n",
            ":m 1\n",
            "m\u{e9} 1\n",
        ] {
            assert_eq!(split_of(line), None, "{line:?}");
        }
    }

    #[test]
    fn window_and_pair_limits() {
        let long_name = "m".repeat(WINDOW - 2);
        assert!(s(&format!("{long_name} 1\n")).is_some());
        assert!(s(&format!("{long_name}x 1\n")).is_none());
        let labels: Vec<String> = (0..MAX_PAIRS).map(|i| format!("l{i}=\"v\"")).collect();
        assert_eq!(s(&format!("m{{{}}} 1\n", labels.join(","))).map(|t| t.1.len()), Some(8));
        let one_more = format!("m{{{},x=\"v\"}} 1\n", labels.join(","));
        assert!(s(&one_more).is_none());
    }

    #[test]
    fn sse2_and_scalar_classify_every_byte_alike() {
        for b in 0..=255u8 {
            for pos in 0..16 {
                let mut chunk = [b'a'; 16];
                chunk[pos] = b;
                assert_eq!(classify_chunk(&chunk), classify_chunk_scalar(&chunk), "{b:#x}@{pos}");
            }
        }
    }

    proptest! {
        #[test]
        fn chunks_classify_alike(chunk in prop::array::uniform16(any::<u8>())) {
            prop_assert_eq!(classify_chunk(&chunk), classify_chunk_scalar(&chunk));
        }

        #[test]
        fn splits_are_within_the_line(
            body in prop::collection::vec(
                prop::sample::select(b"ab_:{}=\",\\ \t\n19.".to_vec()), 0..160,
            ),
        ) {
            let Ok(text) = std::str::from_utf8(&body) else { return Ok(()) };
            if let Some(sp) = split_of(text) {
                prop_assert_eq!(body.get(sp.len), Some(&b'\n'));
                prop_assert!(!body[..sp.len].contains(&b'\n'));
                prop_assert!(sp.name_end < sp.value_start && sp.value_start < sp.len);
                for (a, b, c, d) in sp.pairs() {
                    prop_assert!(a < b && b + 2 == c && c <= d && d < sp.len);
                    prop_assert_eq!(&body[b..c], b"=\"");
                    prop_assert!(!body[c..d].contains(&b'"'));
                }
                // The accessors agree with checked slicing.
                prop_assert!(s(text).is_some());
            }
        }

        #[test]
        fn tokens_of_lines_with_multibyte_characters_are_whole(
            body in "[ab_{}=\",\\ \n1é€😀]{0,120}",
        ) {
            // `s` slices with checks (which panic off a boundary) and
            // compares the accessors.
            if let Some(parts) = s(&body) {
                prop_assert!(body.contains(&parts.0));
            }
        }
    }
}
