//! Protobuf wire format, read the way golang/protobuf 1.3.5 reads it.
//!
//! Owns varints, field tags and the skipping of fields, with the error each
//! malformed input gets from the Go library the Pushgateway 1.5.1 was built
//! with (`table_unmarshal.go`): truncation and over-long varints are
//! `unexpected EOF`, field number 0 is `illegal tag 0`, wire types 4, 6 and 7
//! cannot be skipped. What a field *means* is up to the caller: a known field
//! number with an unexpected wire type is an unknown field there, as in Go.

use super::{Error, ErrorKind};

/// A field's value as the wire type delimits it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Val<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1 (little-endian bits).
    Fixed64(u64),
    /// Wire type 2: the payload without its length.
    Bytes(&'a [u8]),
    /// Wire type 3: a group, skipped as a whole (never a known field here).
    Group,
    /// Wire type 5 (little-endian bits).
    Fixed32(u32),
}

/// One field of a message.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field<'a> {
    /// Field number (never 0).
    pub num: u64,
    /// Its value.
    pub val: Val<'a>,
    /// Offset of the tag within the message.
    pub start: usize,
    /// Offset just past the field within the message.
    pub end: usize,
}

impl<'a> Field<'a> {
    /// The value as a double, if the wire type is the one of `double` fields.
    pub fn f64(&self) -> Option<f64> {
        match self.val {
            Val::Fixed64(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    /// The payload of a length-delimited field.
    pub fn bytes(&self) -> Option<&'a [u8]> {
        match self.val {
            Val::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

/// Go's `decodeVarint`: at most 10 bytes, the 10th at most 1. `None` when
/// truncated or too long (Go reports both as `unexpected EOF`).
#[inline]
pub(crate) fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        if i == 9 && byte > 1 {
            return None;
        }
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((x, i + 1));
        }
    }
    None
}

/// Zigzag decoding of a `sint64`.
#[inline]
pub(crate) fn zigzag64(x: u64) -> i64 {
    ((x >> 1) as i64) ^ -((x & 1) as i64)
}

/// Zigzag decoding of a `sint32` as Go does it: the varint truncated to 32 bits.
#[inline]
pub(crate) fn zigzag32(x: u64) -> i32 {
    ((x >> 1) as u32 as i32) ^ ((x as u32 as i32) << 31 >> 31)
}

/// Go's `findEndGroup` on the bytes after a start-group tag: the offset just
/// past the matching end-group tag. Field numbers are not matched and tag 0
/// is not checked, as in Go.
fn end_of_group(b: &[u8]) -> Option<usize> {
    let mut depth = 1u32;
    let mut i = 0usize;
    loop {
        let (tag, n) = varint(&b[i..])?;
        i += n;
        match tag & 7 {
            0 => i += varint(&b[i..])?.1,
            1 => i = i.checked_add(8).filter(|&e| e <= b.len())?,
            2 => {
                let (len, n) = varint(&b[i..])?;
                i += n;
                if ((b.len() - i) as u64) < len {
                    return None;
                }
                i += len as usize;
            }
            3 => depth += 1,
            4 => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            5 => i = i.checked_add(4).filter(|&e| e <= b.len())?,
            _ => return None,
        }
    }
}

/// The fields of one message, in order, validated as Go skips them.
pub(crate) struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Absolute offset of `buf` in the body, for error offsets.
    base: usize,
    /// Go type name of the message, for `illegal tag 0` errors.
    msg: &'static str,
}

impl<'a> Fields<'a> {
    /// Fields of `buf`, a message of Go type `msg` found at `base` in the body.
    pub fn new(buf: &'a [u8], base: usize, msg: &'static str) -> Self {
        Fields { buf, pos: 0, base, msg }
    }

    /// Absolute offset of `rel` (an offset within this message) in the body.
    pub fn abs(&self, rel: usize) -> usize {
        self.base + rel
    }

    #[cold]
    fn fail(&self, kind: ErrorKind, rel: usize) -> Error {
        Error { kind, offset: self.base + rel }
    }

    /// The next field, `Ok(None)` at the end of the message.
    ///
    /// # Errors
    /// The Go library's error for a malformed field.
    #[inline]
    pub fn next_field(&mut self) -> Result<Option<Field<'a>>, Error> {
        let start = self.pos;
        // Most fields: a one-byte tag of a length-delimited field with a
        // one-byte length (labels, values, buckets), read here; any other
        // field (and the end of the message) by `next_field_any`.
        if let [tag @ 0x08..=0x7f, len @ 0..=0x7f, rest @ ..] = &self.buf[start..] {
            let (tag, len) = (u64::from(*tag), usize::from(*len));
            if tag & 7 == 2 && len <= rest.len() {
                self.pos = start + 2 + len;
                let val = Val::Bytes(&rest[..len]);
                return Ok(Some(Field { num: tag >> 3, val, start, end: self.pos }));
            }
        }
        self.next_field_any()
    }

    /// [`Fields::next_field`] for any field.
    fn next_field_any(&mut self) -> Result<Option<Field<'a>>, Error> {
        let start = self.pos;
        let b = &self.buf[start..];
        if b.is_empty() {
            return Ok(None);
        }
        let Some((tag, n)) = varint(b) else {
            return Err(self.fail(ErrorKind::UnexpectedEof, start));
        };
        let wire = (tag & 7) as u8;
        let num = tag >> 3;
        if num == 0 {
            return Err(self.fail(ErrorKind::IllegalTag0 { message: self.msg, wire }, start));
        }
        let b = &b[n..];
        let eof = |s: &Self| s.fail(ErrorKind::UnexpectedEof, start);
        let (val, len) = match wire {
            0 => {
                let (v, k) = varint(b).ok_or_else(|| eof(self))?;
                (Val::Varint(v), k)
            }
            1 => {
                let bytes = b.first_chunk::<8>().ok_or_else(|| eof(self))?;
                (Val::Fixed64(u64::from_le_bytes(*bytes)), 8)
            }
            2 => {
                let (len, k) = varint(b).ok_or_else(|| eof(self))?;
                if ((b.len() - k) as u64) < len {
                    return Err(eof(self));
                }
                let len = len as usize;
                (Val::Bytes(&b[k..k + len]), k + len)
            }
            3 => (Val::Group, end_of_group(b).ok_or_else(|| eof(self))?),
            5 => {
                let bytes = b.first_chunk::<4>().ok_or_else(|| eof(self))?;
                (Val::Fixed32(u32::from_le_bytes(*bytes)), 4)
            }
            _ => return Err(self.fail(ErrorKind::UnknownWireType(wire), start)),
        };
        self.pos = start + n + len;
        Ok(Some(Field { num, val, start, end: self.pos }))
    }
}

/// Iterates the fields of a message already validated by [`Fields`]; stops
/// at the first malformed field instead of failing (used on stored bytes).
pub(crate) fn fields(buf: &[u8]) -> impl Iterator<Item = Field<'_>> {
    let mut f = Fields::new(buf, 0, "");
    std::iter::from_fn(move || f.next_field().ok().flatten())
}

/// Checks the payload of a packed repeated varint field (Go: `unexpected EOF`
/// for a truncated element).
pub(crate) fn packed_varints(b: &[u8]) -> impl Iterator<Item = Option<u64>> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= b.len() {
            return None;
        }
        match varint(&b[pos..]) {
            Some((v, n)) => {
                pos += n;
                Some(Some(v))
            }
            None => {
                pos = b.len();
                Some(None)
            }
        }
    })
}

/// Appends `v` as a varint.
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Wire type of varint fields.
pub(crate) const VARINT: u64 = 0;
/// Wire type of `double` fields.
pub(crate) const FIXED64: u64 = 1;
/// Wire type of length-delimited fields.
pub(crate) const BYTES: u64 = 2;

/// Field numbers of `io.prometheus.client` (client_model metrics.proto)
/// that our encoders write or our extras readers look for.
pub(crate) mod num {
    pub const FAMILY_NAME: u64 = 1;
    pub const FAMILY_HELP: u64 = 2;
    pub const FAMILY_TYPE: u64 = 3;
    pub const FAMILY_METRIC: u64 = 4;
    pub const METRIC_LABEL: u64 = 1;
    pub const METRIC_GAUGE: u64 = 2;
    pub const METRIC_COUNTER: u64 = 3;
    pub const METRIC_SUMMARY: u64 = 4;
    pub const METRIC_UNTYPED: u64 = 5;
    pub const METRIC_HISTOGRAM: u64 = 7;
    pub const COUNTER_EXEMPLAR: u64 = 2;
    pub const COUNTER_CREATED: u64 = 3;
    pub const SUMMARY_CREATED: u64 = 4;
    pub const HISTOGRAM_BUCKET: u64 = 3;
    pub const HISTOGRAM_CREATED: u64 = 15;
    pub const BUCKET_EXEMPLAR: u64 = 3;
}

/// Appends a field tag.
#[inline]
pub(crate) fn put_tag(out: &mut Vec<u8>, field: u64, wire: u64) {
    put_varint(out, field << 3 | wire);
}

/// Appends a length-delimited field.
#[inline]
pub(crate) fn put_bytes_field(out: &mut Vec<u8>, field: u64, b: &[u8]) {
    put_tag(out, field, BYTES);
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Appends a `double` field.
#[inline]
pub(crate) fn put_double(out: &mut Vec<u8>, field: u64, v: f64) {
    put_tag(out, field, FIXED64);
    out.extend_from_slice(&v.to_bits().to_le_bytes());
}

/// Length of `v` as a varint.
#[inline]
pub(crate) fn varint_len(v: u64) -> usize {
    // ceil(significant bits / 7), with 0 taking one byte.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_as_go_reads_them() {
        assert_eq!(varint(&[0]), Some((0, 1)));
        assert_eq!(varint(&[0x96, 0x01]), Some((150, 2)));
        assert_eq!(varint(&[0x80]), None);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(varint(&max), Some((u64::MAX, 10)));
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(varint(&over), None);
        for v in [0, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v));
            assert_eq!(varint(&out), Some((v, out.len())));
        }
    }

    #[test]
    fn zigzag() {
        assert_eq!(zigzag64(0), 0);
        assert_eq!(zigzag64(1), -1);
        assert_eq!(zigzag64(2), 1);
        assert_eq!(zigzag64(u64::MAX), i64::MIN);
        assert_eq!(zigzag32(3), -2);
        assert_eq!(zigzag32(4), 2);
        // Go truncates `x>>1` and `x` to 32 bits separately.
        assert_eq!(zigzag32((1 << 32) | 4), -2147483646);
    }

    /// Every field of `buf` and how the walk ends, by `next`.
    fn walk<'a>(
        buf: &'a [u8],
        next: fn(&mut Fields<'a>) -> Result<Option<Field<'a>>, Error>,
    ) -> (Vec<String>, Option<Error>) {
        let mut it = Fields::new(buf, 3, "m");
        let mut seen = Vec::new();
        loop {
            match next(&mut it) {
                Ok(Some(f)) => seen.push(format!("{} {:?} {}..{}", f.num, f.val, f.start, f.end)),
                Ok(None) => return (seen, None),
                Err(e) => return (seen, Some(e)),
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_short_field_shortcut_reads_as_any_field(
            buf in proptest::collection::vec(
                proptest::sample::select(vec![0x00, 0x02, 0x0a, 0x12, 0x1a, 0x08, 0x09, 0x7f, 0x80, 0x03, 0x05]),
                0..40,
            ),
        ) {
            proptest::prop_assert_eq!(walk(&buf, Fields::next_field), walk(&buf, Fields::next_field_any));
        }
    }

    #[test]
    fn groups_skip_to_their_end() {
        // Field 1 varint, nested group 2, end of nested, end of outer.
        assert_eq!(end_of_group(&[0x08, 0x01, 0x13, 0x14, 0x0c, 0xff]), Some(5));
        assert_eq!(end_of_group(&[0x08]), None);
        assert_eq!(end_of_group(&[0x0e]), None);
    }
}
