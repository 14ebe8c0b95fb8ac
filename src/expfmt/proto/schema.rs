//! The messages of `io.prometheus.client` (client_model 0.3.0, the version
//! the Pushgateway 1.5.1 was built with) as tables, and what is generic over
//! them: Go's validation of nested messages and Go's compact text rendering
//! (`proto.CompactTextString`, golang/protobuf 1.3.5) used in error messages.
//!
//! Fields are listed in the order of the generated Go struct, which is the
//! order the text rendering uses. Field numbers newer than 0.3.0 (`unit`,
//! `created_timestamp`, histogram `exemplars`) are unknown fields there: they
//! are skipped without validation and rendered as unknown fields, as in Go.

use std::fmt::Write as _;

use super::wire::{fields, packed_varints, zigzag32, zigzag64, Fields, Val};
use super::{Error, ErrorKind};
use crate::gofmt::{go_float_string, quote};

/// How a field is encoded and printed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// `string` (wire type 2), printed with octal escapes.
    Str,
    /// `double` (wire type 1).
    Double,
    /// `uint64` (varint).
    U64,
    /// `uint32` (varint, truncated).
    U32,
    /// `int64` (varint).
    I64,
    /// `int32` (varint, truncated).
    I32,
    /// `sint32` (zigzag varint, truncated).
    S32,
    /// `sint64` (zigzag varint).
    S64,
    /// A nested message (wire type 2).
    Msg(&'static Msg),
}

/// One field of a message.
#[derive(Debug)]
pub(crate) struct FieldDef {
    pub num: u64,
    pub name: &'static str,
    pub kind: Kind,
    pub repeated: bool,
}

/// One message type.
#[derive(Debug)]
pub(crate) struct Msg {
    /// Go type name as `%s` of its `reflect.Type` prints it.
    pub go: &'static str,
    /// proto3 messages print no zero scalars.
    pub proto3: bool,
    /// Fields in Go struct order.
    pub fields: &'static [FieldDef],
}

const fn f(num: u64, name: &'static str, kind: Kind) -> FieldDef {
    FieldDef { num, name, kind, repeated: false }
}

const fn rep(num: u64, name: &'static str, kind: Kind) -> FieldDef {
    FieldDef { num, name, kind, repeated: true }
}

pub(crate) static LABEL_PAIR: Msg = Msg {
    go: "io_prometheus_client.LabelPair",
    proto3: false,
    fields: &[f(1, "name", Kind::Str), f(2, "value", Kind::Str)],
};
pub(crate) static GAUGE: Msg =
    Msg { go: "io_prometheus_client.Gauge", proto3: false, fields: &[f(1, "value", Kind::Double)] };
pub(crate) static UNTYPED: Msg = Msg {
    go: "io_prometheus_client.Untyped",
    proto3: false,
    fields: &[f(1, "value", Kind::Double)],
};
pub(crate) static TIMESTAMP: Msg = Msg {
    go: "timestamp.Timestamp",
    proto3: true,
    fields: &[f(1, "seconds", Kind::I64), f(2, "nanos", Kind::I32)],
};
pub(crate) static EXEMPLAR: Msg = Msg {
    go: "io_prometheus_client.Exemplar",
    proto3: false,
    fields: &[
        rep(1, "label", Kind::Msg(&LABEL_PAIR)),
        f(2, "value", Kind::Double),
        f(3, "timestamp", Kind::Msg(&TIMESTAMP)),
    ],
};
pub(crate) static COUNTER: Msg = Msg {
    go: "io_prometheus_client.Counter",
    proto3: false,
    fields: &[f(1, "value", Kind::Double), f(2, "exemplar", Kind::Msg(&EXEMPLAR))],
};
pub(crate) static QUANTILE: Msg = Msg {
    go: "io_prometheus_client.Quantile",
    proto3: false,
    fields: &[f(1, "quantile", Kind::Double), f(2, "value", Kind::Double)],
};
pub(crate) static SUMMARY: Msg = Msg {
    go: "io_prometheus_client.Summary",
    proto3: false,
    fields: &[
        f(1, "sample_count", Kind::U64),
        f(2, "sample_sum", Kind::Double),
        rep(3, "quantile", Kind::Msg(&QUANTILE)),
    ],
};
pub(crate) static BUCKET: Msg = Msg {
    go: "io_prometheus_client.Bucket",
    proto3: false,
    fields: &[
        f(1, "cumulative_count", Kind::U64),
        f(4, "cumulative_count_float", Kind::Double),
        f(2, "upper_bound", Kind::Double),
        f(3, "exemplar", Kind::Msg(&EXEMPLAR)),
    ],
};
pub(crate) static BUCKET_SPAN: Msg = Msg {
    go: "io_prometheus_client.BucketSpan",
    proto3: false,
    fields: &[f(1, "offset", Kind::S32), f(2, "length", Kind::U32)],
};
pub(crate) static HISTOGRAM: Msg = Msg {
    go: "io_prometheus_client.Histogram",
    proto3: false,
    fields: &[
        f(1, "sample_count", Kind::U64),
        f(4, "sample_count_float", Kind::Double),
        f(2, "sample_sum", Kind::Double),
        rep(3, "bucket", Kind::Msg(&BUCKET)),
        f(5, "schema", Kind::S32),
        f(6, "zero_threshold", Kind::Double),
        f(7, "zero_count", Kind::U64),
        f(8, "zero_count_float", Kind::Double),
        rep(9, "negative_span", Kind::Msg(&BUCKET_SPAN)),
        rep(10, "negative_delta", Kind::S64),
        rep(11, "negative_count", Kind::Double),
        rep(12, "positive_span", Kind::Msg(&BUCKET_SPAN)),
        rep(13, "positive_delta", Kind::S64),
        rep(14, "positive_count", Kind::Double),
    ],
};
pub(crate) static METRIC: Msg = Msg {
    go: "io_prometheus_client.Metric",
    proto3: false,
    fields: &[
        rep(1, "label", Kind::Msg(&LABEL_PAIR)),
        f(2, "gauge", Kind::Msg(&GAUGE)),
        f(3, "counter", Kind::Msg(&COUNTER)),
        f(4, "summary", Kind::Msg(&SUMMARY)),
        f(5, "untyped", Kind::Msg(&UNTYPED)),
        f(7, "histogram", Kind::Msg(&HISTOGRAM)),
        f(6, "timestamp_ms", Kind::I64),
    ],
};

/// The Go type name of `io.prometheus.client.MetricFamily`.
pub(crate) const METRIC_FAMILY_GO: &str = "io_prometheus_client.MetricFamily";

/// How a field on the wire relates to its definition.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Match {
    /// One element in its own wire type.
    Single,
    /// A packed run of elements of a repeated scalar.
    Packed,
    /// Wrong wire type: an unknown field for Go.
    No,
}

fn classify(def: &FieldDef, val: &Val<'_>) -> Match {
    match (def.kind, val) {
        (Kind::Str | Kind::Msg(_), Val::Bytes(_)) => Match::Single,
        (Kind::Double, Val::Fixed64(_)) => Match::Single,
        (Kind::U64 | Kind::U32 | Kind::I64 | Kind::I32 | Kind::S32 | Kind::S64, Val::Varint(_)) => {
            Match::Single
        }
        (
            Kind::Double | Kind::U64 | Kind::U32 | Kind::I64 | Kind::I32 | Kind::S32 | Kind::S64,
            _,
        ) if def.repeated && matches!(val, Val::Bytes(_)) => Match::Packed,
        _ => Match::No,
    }
}

fn def_of(msg: &Msg, num: u64) -> Option<&FieldDef> {
    msg.fields.iter().find(|d| d.num == num)
}

/// Validates a message of type `msg` found at `base` in the body exactly as
/// golang/protobuf 1.3.5 unmarshals it (depth first, first error wins).
///
/// # Errors
/// The Go library's error.
pub(crate) fn validate(msg: &'static Msg, buf: &[u8], base: usize) -> Result<(), Error> {
    let mut it = Fields::new(buf, base, msg.go);
    while let Some(field) = it.next_field()? {
        let Some(def) = def_of(msg, field.num) else { continue };
        match (classify(def, &field.val), def.kind, field.val) {
            (Match::Single, Kind::Msg(sub), Val::Bytes(b)) => {
                let at = it.abs(field.end - b.len());
                validate(sub, b, at)?;
            }
            (Match::Packed, kind, Val::Bytes(b)) => {
                let ok = match kind {
                    Kind::Double => b.len() % 8 == 0,
                    _ => packed_varints(b).all(|v| v.is_some()),
                };
                if !ok {
                    return Err(Error {
                        kind: ErrorKind::UnexpectedEof,
                        offset: it.abs(field.start),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Elements of a repeated scalar field occurrence (one, or a packed run).
fn scalar_elements(kind: Kind, m: Match, val: Val<'_>) -> Vec<Val<'_>> {
    match (m, val) {
        (Match::Single, v) => vec![v],
        (Match::Packed, Val::Bytes(b)) => match kind {
            Kind::Double => b
                .chunks_exact(8)
                .map(|c| Val::Fixed64(u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))))
                .collect(),
            _ => packed_varints(b).map_while(|v| v.map(Val::Varint)).collect(),
        },
        _ => Vec::new(),
    }
}

/// Appends a float as Go's text marshaler prints it (`inf`, `-inf`, `nan`).
fn push_text_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("nan");
    } else if v == f64::INFINITY {
        out.push_str("inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-inf");
    } else {
        out.push_str(&go_float_string(v));
    }
}

/// Appends `s` quoted as the protobuf text format does: C escapes for
/// `\n \r \t " \`, octal for every other byte outside printable ASCII.
pub(crate) fn push_text_string(out: &mut String, s: &[u8]) {
    out.push('"');
    for &c in s {
        match c {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                let _ = write!(out, "\\{c:03o}");
            }
        }
    }
    out.push('"');
}

/// Appends one scalar; `false` if it is a proto3 zero (not printed).
fn scalar_text(kind: Kind, val: Val<'_>, proto3: bool, out: &mut String) -> bool {
    let s = match (kind, val) {
        (Kind::Str, Val::Bytes(b)) => {
            if proto3 && b.is_empty() {
                return false;
            }
            let mut s = String::new();
            push_text_string(&mut s, b);
            s
        }
        (Kind::Double, Val::Fixed64(bits)) => {
            let v = f64::from_bits(bits);
            if proto3 && v == 0.0 {
                return false;
            }
            let mut s = String::new();
            push_text_float(&mut s, v);
            s
        }
        (_, Val::Varint(x)) => {
            let s = match kind {
                Kind::U64 => x.to_string(),
                Kind::U32 => (x as u32).to_string(),
                Kind::I64 => (x as i64).to_string(),
                Kind::I32 => (x as u32 as i32).to_string(),
                Kind::S32 => zigzag32(x).to_string(),
                Kind::S64 => zigzag64(x).to_string(),
                _ => return false,
            };
            if proto3 && s == "0" {
                return false;
            }
            s
        }
        _ => return false,
    };
    out.push_str(&s);
    true
}

/// Renders the fields of `buf` that Go keeps in `XXX_unrecognized`, as its
/// `writeUnknownStruct` prints them in compact mode.
fn unknown_text(raw: &[u8], out: &mut String) {
    let mut pos = 0;
    while pos < raw.len() {
        let Some((tag, n)) = super::wire::varint(&raw[pos..]) else { return };
        pos += n;
        let (wire, num) = (tag & 7, tag >> 3);
        if wire == 4 {
            out.push_str("} ");
            continue;
        }
        let _ = write!(out, "{num}");
        if wire == 3 {
            out.push_str(" {");
        } else {
            out.push(':');
        }
        let rest = &raw[pos..];
        match wire {
            0 => {
                let Some((v, n)) = super::wire::varint(rest) else { return };
                let _ = write!(out, "{v}");
                pos += n;
            }
            1 => {
                let Some(b) = rest.first_chunk::<8>() else { return };
                let _ = write!(out, "{}", u64::from_le_bytes(*b));
                pos += 8;
            }
            2 => {
                let Some((len, n)) = super::wire::varint(rest) else { return };
                let Some(b) = rest.get(n..n.saturating_add(len as usize)) else { return };
                out.push_str(&quote(b));
                pos += n + b.len();
            }
            5 => {
                let Some(b) = rest.first_chunk::<4>() else { return };
                let _ = write!(out, "{}", u32::from_le_bytes(*b));
                pos += 4;
            }
            _ => {}
        }
        out.push(' ');
    }
}

/// Appends the compact text of a message whose occurrences (merged as
/// protobuf merges repeated occurrences of a message field) are `parts`.
/// Fields numbered `skip` are left out (the caller prints them).
pub(crate) fn message_text(msg: &Msg, parts: &[&[u8]], skip: Option<u64>, out: &mut String) {
    for def in msg.fields {
        if Some(def.num) == skip {
            continue;
        }
        let occurrences = parts.iter().flat_map(|p| fields(p)).filter_map(|fl| {
            let m = if fl.num == def.num { classify(def, &fl.val) } else { Match::No };
            (m != Match::No).then_some((m, fl.val))
        });
        match def.kind {
            Kind::Msg(sub) if def.repeated => {
                for (_, val) in occurrences {
                    if let Val::Bytes(b) = val {
                        out.push_str(def.name);
                        out.push_str(":<");
                        message_text(sub, &[b], None, out);
                        out.push_str("> ");
                    }
                }
            }
            Kind::Msg(sub) => {
                let subparts: Vec<&[u8]> = occurrences
                    .filter_map(|(_, v)| match v {
                        Val::Bytes(b) => Some(b),
                        _ => None,
                    })
                    .collect();
                if !subparts.is_empty() {
                    out.push_str(def.name);
                    out.push_str(":<");
                    message_text(sub, &subparts, None, out);
                    out.push_str("> ");
                }
            }
            kind if def.repeated => {
                for (m, val) in occurrences {
                    for v in scalar_elements(kind, m, val) {
                        let mark = out.len();
                        out.push_str(def.name);
                        out.push(':');
                        if scalar_text(kind, v, false, out) {
                            out.push(' ');
                        } else {
                            out.truncate(mark);
                        }
                    }
                }
            }
            kind => {
                if let Some((_, val)) = occurrences.last() {
                    let mark = out.len();
                    out.push_str(def.name);
                    out.push(':');
                    if scalar_text(kind, val, msg.proto3, out) {
                        out.push(' ');
                    } else {
                        out.truncate(mark);
                    }
                }
            }
        }
    }
    // Unknown fields (unknown numbers and known numbers in a wrong wire type)
    // come last, in the order they were read.
    for part in parts {
        for fl in fields(part) {
            let known = def_of(msg, fl.num).is_some_and(|d| classify(d, &fl.val) != Match::No);
            if !known {
                unknown_text(&part[fl.start..fl.end], out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(msg: &'static Msg, buf: &[u8]) -> String {
        let mut out = String::new();
        message_text(msg, &[buf], None, &mut out);
        out
    }

    #[test]
    fn strings_use_octal_escapes() {
        let mut s = String::new();
        push_text_string(&mut s, "a\"\\\n\té\x01'".as_bytes());
        assert_eq!(s, r#""a\"\\\n\t\303\251\001'""#);
    }

    #[test]
    fn merged_messages_and_unknown_fields() {
        // gauge{value:1} twice (last wins after merging), unknown field 9 varint 5,
        // field 2 sent as a varint (unknown for Go).
        let m =
            [0x12, 0x09, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x12, 0x00, 0x48, 0x05, 0x10, 0x07];
        assert_eq!(text(&METRIC, &m), "gauge:<value:1 > 9:5 2:7 ");
    }

    #[test]
    fn floats_and_packed_repeats() {
        // histogram { schema: -1 (zigzag 1), negative_delta packed [1, -1], sample_sum +Inf }
        let h = [0x28, 0x01, 0x52, 0x02, 0x02, 0x01, 0x11, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f];
        assert_eq!(
            text(&HISTOGRAM, &h),
            "sample_sum:inf schema:-1 negative_delta:1 negative_delta:-1 "
        );
    }

    #[test]
    fn proto3_zeros_are_not_printed() {
        assert_eq!(text(&TIMESTAMP, &[0x08, 0x00, 0x10, 0x05]), "nanos:5 ");
    }

    #[test]
    fn groups_print_as_unknown_structs() {
        assert_eq!(text(&GAUGE, &[0x1b, 0x08, 0x01, 0x1c]), "3 { 1:1 } ");
    }

    #[test]
    fn validation_errors_name_the_nested_type() {
        // counter { exemplar { label { <tag 0> } } }
        let c = [0x12, 0x04, 0x0a, 0x02, 0x00, 0x00];
        let e = validate(&COUNTER, &c, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "proto: io_prometheus_client.LabelPair: illegal tag 0 (wire type 0)"
        );
        // A truncated packed double run.
        let e = validate(&HISTOGRAM, &[0x5a, 0x01, 0x00], 0).unwrap_err();
        assert_eq!(e.to_string(), "unexpected EOF");
        // Unknown field numbers are not looked into.
        validate(&COUNTER, &[0x1a, 0x02, 0x00, 0x00], 0).unwrap();
    }
}
