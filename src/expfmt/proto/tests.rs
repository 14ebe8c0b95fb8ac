//! Tests of the protobuf decoder: table-driven cases with messages built by
//! hand, the real Go client's push, native histograms, and properties.

use proptest::prelude::*;

use super::wire::put_varint;
use super::*;
use crate::expfmt::family::describe;

// ---- building messages

fn key(num: u64, wire: u64) -> Vec<u8> {
    let mut out = Vec::new();
    put_varint(&mut out, num << 3 | wire);
    out
}

/// A length-delimited field.
pub(crate) fn bytes(num: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = key(num, 2);
    put_varint(&mut out, payload.len() as u64);
    out.extend_from_slice(payload);
    out
}

/// A `double` field.
pub(crate) fn double(num: u64, v: f64) -> Vec<u8> {
    let mut out = key(num, 1);
    out.extend_from_slice(&v.to_bits().to_le_bytes());
    out
}

/// A varint field.
pub(crate) fn varint(num: u64, v: u64) -> Vec<u8> {
    let mut out = key(num, 0);
    put_varint(&mut out, v);
    out
}

/// A zigzag varint field.
fn sint(num: u64, v: i64) -> Vec<u8> {
    varint(num, ((v << 1) ^ (v >> 63)) as u64)
}

fn label(n: &[u8], v: &[u8]) -> Vec<u8> {
    bytes(1, &[bytes(1, n), bytes(2, v)].concat())
}

fn delimited(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    put_varint(&mut out, msg.len() as u64);
    out.extend_from_slice(msg);
    out
}

/// One delimited family: name, optional help and type, metric messages.
fn family(name: &str, help: Option<&str>, typ: Option<u64>, metrics: &[Vec<u8>]) -> Vec<u8> {
    let mut msg = bytes(1, name.as_bytes());
    if let Some(h) = help {
        msg.extend(bytes(2, h.as_bytes()));
    }
    if let Some(t) = typ {
        msg.extend(varint(3, t));
    }
    for m in metrics {
        msg.extend(bytes(4, m));
    }
    delimited(&msg)
}

fn gauge(v: f64) -> Vec<u8> {
    bytes(2, &double(1, v))
}

fn counter(v: f64) -> Vec<u8> {
    bytes(3, &double(1, v))
}

fn untyped(v: f64) -> Vec<u8> {
    bytes(5, &double(1, v))
}

fn summary(count: u64, sum: f64, quantiles: &[(f64, f64)]) -> Vec<u8> {
    let mut s = [varint(1, count), double(2, sum)].concat();
    for (q, v) in quantiles {
        s.extend(bytes(3, &[double(1, *q), double(2, *v)].concat()));
    }
    bytes(4, &s)
}

fn histogram(count: u64, sum: f64, buckets: &[(f64, u64)]) -> Vec<u8> {
    let mut h = [varint(1, count), double(2, sum)].concat();
    for (le, c) in buckets {
        h.extend(bytes(3, &[varint(1, *c), double(2, *le)].concat()));
    }
    bytes(7, &h)
}

fn span(offset: i64, length: u64) -> Vec<u8> {
    [sint(1, offset), varint(2, length)].concat()
}

/// A native histogram of schema 0 with negative, zero and positive buckets,
/// an exemplar and a created timestamp (unknown to client_model 0.3.0).
pub(crate) fn native_histogram_body() -> Vec<u8> {
    let exemplar =
        [label(b"trace_id", b"abc"), double(2, 0.7), bytes(3, &varint(1, 1_700_000_000))].concat();
    let h = [
        varint(1, 6),
        double(2, 10.5),
        sint(5, 0),
        double(6, 0.001),
        varint(7, 1),
        bytes(9, &span(0, 2)),
        sint(10, 1),
        sint(10, 0),
        bytes(12, &span(-1, 2)),
        bytes(12, &span(1, 1)),
        // Packed positive deltas [1, 1, -2].
        bytes(13, &[2, 2, 3]),
        bytes(15, &varint(1, 1_600_000_000)),
        bytes(16, &exemplar),
    ]
    .concat();
    family("nh", None, Some(4), &[[label(b"a", b"b"), bytes(7, &h)].concat()])
}

// ---- describing results

fn outcome(body: &[u8]) -> String {
    match parse(body) {
        Ok(f) => describe(&f),
        Err(e) => e.to_string(),
    }
}

macro_rules! cases {
    ($($name:ident: $input:expr => $expect:expr;)*) => {$(
        #[test]
        fn $name() {
            let input: Vec<u8> = $input;
            assert_eq!(outcome(&input), $expect);
        }
    )*};
}

// Valid families of every type.
cases! {
    empty_body: vec![] => "";
    gauge_with_labels: family("g", Some("A gauge."), Some(1), &[[label(b"k", b"v"), gauge(1.5)].concat()])
        => "g Gauge help=\"A gauge.\"\n  {k=\"v\"} 1.5\n";
    counter_without_type_field: family("c", None, None, &[counter(7.0)]) => "c Counter\n  {} 7.0\n";
    untyped_value: family("u", None, Some(3), &[untyped(-0.5)]) => "u Untyped\n  {} -0.5\n";
    explicit_empty_help: family("g", Some(""), Some(1), &[gauge(0.0)]) => "g Gauge help=\"\"\n  {} 0.0\n";
    summary_value: family("s", None, Some(2), &[summary(3, 1.5, &[(0.5, 0.25), (0.9, 1.0)])])
        => "s Summary\n  {} sum=1.5 count=3 q=[(0.5, 0.25), (0.9, 1.0)]\n";
    histogram_value: family("h", None, Some(4), &[histogram(3, 2.0, &[(0.5, 1), (1.0, 2)])])
        => "h Histogram\n  {} sum=2.0 count=3 b=[(0.5, 1), (1.0, 2)]\n";
    gauge_histogram_value: family("gh", None, Some(5), &[histogram(1, 1.0, &[])])
        => "gh GaugeHistogram\n  {} sum=1.0 count=1 b=[]\n";
    native_only_histogram_has_no_classic_buckets: native_histogram_body()
        => "nh Histogram\n  {a=\"b\"} sum=10.5 count=6 b=[]\n";
    float_counts_show_as_zero_like_go_1_5_1: family("fh", None, Some(4), &[bytes(7, &[
            double(4, 2.7), double(2, 3.0), bytes(3, &[double(4, 1.5), double(2, 1.0)].concat())
        ].concat())])
        => "fh Histogram\n  {} sum=3.0 count=0 b=[(1.0, 0)]\n";
    family_without_metrics_is_kept: family("e", None, Some(1), &[]) => "e Gauge\n";
    zero_length_message_is_an_empty_family: vec![0] => " Counter\n";
    timestamp_is_kept: family("g", None, Some(1), &[[gauge(1.0), varint(6, 1234)].concat()])
        => "g Gauge\n  {} 1.0 @1234\n";
    negative_timestamp: family("g", None, Some(1), &[[gauge(1.0), varint(6, u64::MAX)].concat()])
        => "g Gauge\n  {} 1.0 @-1\n";
    later_family_of_same_name_wins: [
            family("a", None, Some(1), &[gauge(1.0)]),
            family("b", None, Some(1), &[gauge(2.0)]),
            family("a", None, Some(0), &[counter(3.0)]),
        ].concat()
        => "b Gauge\n  {} 2.0\na Counter\n  {} 3.0\n";
    repeated_scalars_last_wins_and_messages_merge: family("g", None, Some(1),
            &[[gauge(1.0), bytes(2, &[]), label(b"x", b"1"), gauge(2.0)].concat()])
        => "g Gauge\n  {x=\"1\"} 2.0\n";
    merged_summaries_append_quantiles: family("s", None, Some(2),
            &[[summary(1, 1.0, &[(0.5, 1.0)]), bytes(4, &bytes(3, &double(1, 0.9)))].concat()])
        => "s Summary\n  {} sum=1.0 count=1 q=[(0.5, 1.0), (0.9, 0.0)]\n";
    type_after_metrics_still_counts: {
            let msg = [bytes(1, b"t"), bytes(4, &counter(1.0)), varint(3, 0)].concat();
            delimited(&msg)
        }
        => "t Counter\n  {} 1.0\n";
    enum_is_truncated_to_int32: family("t", None, Some((1 << 32) | 1), &[gauge(1.0)]) => "t Gauge\n  {} 1.0\n";
    wrong_wire_type_is_an_unknown_field: family("g", None, Some(1), &[[varint(2, 5), gauge(1.0)].concat()])
        => "g Gauge\n  {} 1.0\n";
    unknown_fields_and_groups_are_skipped: {
            let msg = [bytes(1, b"g"), varint(3, 1), varint(99, 1), key(7, 3), varint(1, 1), key(7, 4),
                       bytes(4, &[gauge(1.0), double(8, 1.0), bytes(9, b"zz")].concat()), bytes(5, b"unit")]
                .concat();
            delimited(&msg)
        }
        => "g Gauge\n  {} 1.0\n";
    partial_length_prefix_at_end_is_ignored: [family("g", None, Some(1), &[gauge(1.0)]), vec![0x80]].concat()
        => "g Gauge\n  {} 1.0\n";
    length_prefix_without_message_at_end_is_ignored: [family("g", None, Some(1), &[gauge(1.0)]), vec![5]].concat()
        => "g Gauge\n  {} 1.0\n";
    non_utf8_names_are_decoded_lossily: family("g\u{e9}", Some("h\u{e9}"), Some(1), &[gauge(1.0)])
        => "g\u{e9} Gauge help=\"h\u{e9}\"\n  {} 1.0\n";
}

// Malformed bodies, answered 400 with these texts by the Go Pushgateway 1.5.1
// (checked against the real binary).
cases! {
    truncated_message: vec![0x05, 0x0a, 0x01] => "unexpected EOF";
    text_body_sent_as_protobuf: b"some_metric 3.14\n".to_vec() => "unexpected EOF";
    length_prefix_too_long: vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x01] => "invalid varint32 encountered";
    five_continuation_bytes_at_end: vec![0x80, 0x80, 0x80, 0x80, 0x80] => "invalid varint32 encountered";
    huge_length_is_not_allocated: vec![0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a] => "unexpected EOF";
    tag_zero_in_family: delimited(&[0x00, 0x00])
        => "proto: io_prometheus_client.MetricFamily: illegal tag 0 (wire type 0)";
    tag_zero_in_metric: delimited(&[0x0a, 0x01, b'x', 0x22, 0x02, 0x00, 0x00])
        => "proto: io_prometheus_client.Metric: illegal tag 0 (wire type 0)";
    tag_zero_with_wire_type: delimited(&[0x0a, 0x01, b'x', 0x07])
        => "proto: io_prometheus_client.MetricFamily: illegal tag 0 (wire type 7)";
    tag_zero_in_label: family("x", None, None, &[bytes(1, &[0x02])])
        => "proto: io_prometheus_client.LabelPair: illegal tag 0 (wire type 2)";
    tag_zero_in_exemplar_timestamp: family("x", None, Some(0),
            &[bytes(3, &[double(1, 1.0), bytes(2, &bytes(3, &[0x00, 0x00]))].concat())])
        => "proto: timestamp.Timestamp: illegal tag 0 (wire type 0)";
    tag_zero_in_unknown_field_is_not_seen: family("x", None, Some(0),
            &[[counter(1.0), bytes(8, &[0x00, 0x00])].concat()])
        => "x Counter\n  {} 1.0\n";
    wire_type_7: delimited(&[0x0a, 0x01, b'x', 0x0f]) => "proto: can't skip unknown wire type 7";
    wire_type_6: delimited(&[0x0a, 0x01, b'x', 0x4e]) => "proto: can't skip unknown wire type 6";
    end_group_without_start: delimited(&[0x0a, 0x01, b'x', 0x0c]) => "proto: can't skip unknown wire type 4";
    unterminated_group: delimited(&[0x0a, 0x01, b'x', 0x0b, 0x08, 0x01]) => "unexpected EOF";
    eleven_byte_varint: delimited(&[0x0a, 0x01, b'x', 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0x01]) => "unexpected EOF";
    truncated_double_in_gauge: family("x", None, Some(1), &[bytes(2, &[0x09, 0, 0])]) => "unexpected EOF";
    truncated_packed_deltas: family("x", None, Some(4), &[bytes(7, &bytes(10, &[0x80]))]) => "unexpected EOF";
    error_in_second_family_discards_all: [family("g", None, Some(1), &[gauge(1.0)]), vec![0x03, 0x0a, 0x05]]
        .concat() => "unexpected EOF";
}

// What Go finds only when gathering: kept as problems, the push is then rejected.
cases! {
    gauge_family_with_counter_value: family("g", None, Some(1), &[[label(b"a", b"1"), counter(1.0)].concat()])
        => "g Gauge\n  ! collected metric \"g\" { label:<name:\"a\" value:\"1\" > counter:<value:1 > } \
            is not a GAUGE\n  {a=\"1\"} 0.0\n";
    counter_family_without_value: family("c", None, None, &[label(b"a", b"1")])
        => "c Counter\n  ! collected metric \"c\" { label:<name:\"a\" value:\"1\" > } is not a COUNTER\n  \
            {a=\"1\"} 0.0\n";
    histogram_family_with_summary: family("h", None, Some(4), &[summary(1, 2.0, &[(0.5, f64::NAN)])])
        => "h Histogram\n  ! collected metric \"h\" { summary:<sample_count:1 sample_sum:2 \
            quantile:<quantile:0.5 value:nan > > } is not a HISTOGRAM\n  {} sum=0.0 count=0 b=[]\n";
    gauge_histogram_without_histogram: family("gh", None, Some(5), &[gauge(1.0)])
        => "gh GaugeHistogram\n  ! collected metric \"gh\" { gauge:<value:1 > } is not a GAUGE_HISTOGRAM\n  \
            {} sum=0.0 count=0 b=[]\n";
    unknown_type_number: family("t", None, Some(7), &[gauge(1.0)])
        => "t Untyped\n  ! metric family \"t\" has unknown metric type 7\n  {} 0.0\n";
    unknown_type_without_metrics_is_harmless: family("t", None, Some(7), &[]) => "t Untyped\n";
    duplicate_label_names: family("g", None, Some(1),
            &[[label(b"b", b"2"), label(b"a", b"1"), label(b"b", b"3"), gauge(1.0)].concat()])
        => "g Gauge\n  ! collected metric \"g\" { label:<name:\"a\" value:\"1\" > label:<name:\"b\" value:\"2\" > \
            label:<name:\"b\" value:\"3\" > gauge:<value:1 > } has two or more labels with the same name: b\n  \
            {b=\"2\",a=\"1\",b=\"3\"} 1.0\n";
    non_utf8_label_value: family("g", None, Some(1), &[[label(b"a", b"x\xff\"\n"), gauge(1.0)].concat()])
        => "g Gauge\n  ! collected metric \"g\" { label:<name:\"a\" value:\"x\\377\\\"\\n\" > gauge:<value:1 > } \
            has a label named \"a\" whose value is not utf8: \"x\\xff\\\"\\n\"\n  {a=\"x\u{fffd}\\\"\\n\"} 1.0\n";
    explicit_quantile_label_on_summary: family("s", None, Some(2),
            &[[label(b"quantile", b"0.5"), summary(1, 1.0, &[])].concat()])
        => "s Summary\n  ! collected metric \"s\" { label:<name:\"quantile\" value:\"0.5\" > summary:<sample_count:1 \
            sample_sum:1 > } must not have an explicit \"quantile\" label\n  {quantile=\"0.5\"} sum=1.0 count=1 q=[]\n";
    quantile_label_without_summary_is_fine: family("g", None, Some(1),
            &[[label(b"quantile", b"0.5"), gauge(1.0)].concat()])
        => "g Gauge\n  {quantile=\"0.5\"} 1.0\n";
    empty_label_name_is_a_duplicate_of_nothing: family("g", None, Some(1), &[[label(b"", b"v"), gauge(1.0)].concat()])
        => "g Gauge\n  ! collected metric \"g\" { label:<name:\"\" value:\"v\" > gauge:<value:1 > } \
            has two or more labels with the same name: \n  {=\"v\"} 1.0\n";
    invalid_label_name_is_left_to_the_store: family("g", None, Some(1),
            &[[label(b"bad-l", b"\xff"), gauge(1.0)].concat()])
        => "g Gauge\n  {bad-l=\"\u{fffd}\"} 1.0\n";
    type_mismatch_is_reported_before_labels: family("g", None, Some(1), &[[label(b"a", b"\xff"), untyped(1.0)].concat()])
        => "g Gauge\n  ! collected metric \"g\" { label:<name:\"a\" value:\"\\377\" > untyped:<value:1 > } \
            is not a GAUGE\n  {a=\"\u{fffd}\"} 0.0\n";
    problem_text_shows_native_parts_and_unknown_fields: family("g", None, Some(1),
            &[[label(b"a", b"1"), bytes(7, &[sint(5, -1), bytes(9, &span(2, 1)), sint(10, -3)].concat()),
               varint(20, 9), key(21, 3), key(21, 4)].concat()])
        => "g Gauge\n  ! collected metric \"g\" { label:<name:\"a\" value:\"1\" > histogram:<schema:-1 \
            negative_span:<offset:2 length:1 > negative_delta:-3 > 20:9 21 { } } is not a GAUGE\n  {a=\"1\"} 0.0\n";
}

// The shortcuts for what every encoder writes (name and type ahead of the
// metrics, a label as its name then its value, a plain value alone in its
// message) read as the same body read field by field.
cases! {
    name_after_metrics_names_the_problems: {
            let metric = [label(b"a", b"1"), counter(1.0)].concat();
            delimited(&[bytes(1, b"early"), bytes(4, &metric), bytes(1, b"late"), varint(3, 1)].concat())
        }
        => "late Gauge\n  ! collected metric \"late\" { label:<name:\"a\" value:\"1\" > counter:<value:1 > } \
            is not a GAUGE\n  {a=\"1\"} 0.0\n";
    label_value_before_name: family("g", None, Some(1),
            &[[bytes(1, &[bytes(2, b"v"), bytes(1, b"k")].concat()), gauge(1.0)].concat()])
        => "g Gauge\n  {k=\"v\"} 1.0\n";
    label_name_repeated_last_wins: family("g", None, Some(1),
            &[[bytes(1, &[bytes(1, b"x"), bytes(2, b"v"), bytes(1, b"k")].concat()), gauge(1.0)].concat()])
        => "g Gauge\n  {k=\"v\"} 1.0\n";
    label_with_unknown_field: family("g", None, Some(1),
            &[[bytes(1, &[bytes(1, b"k"), bytes(2, b"v"), varint(3, 7)].concat()), gauge(1.0)].concat()])
        => "g Gauge\n  {k=\"v\"} 1.0\n";
    label_without_value: family("g", None, Some(1), &[[bytes(1, &bytes(1, b"k")), gauge(1.0)].concat()])
        => "g Gauge\n  {k=\"\"} 1.0\n";
    long_label_value: family("g", None, Some(1), &[[label(b"k", &[b'x'; 200]), gauge(1.0)].concat()])
        => format!("g Gauge\n  {{k=\"{}\"}} 1.0\n", "x".repeat(200));
    gauge_value_repeated_in_one_message: family("g", None, Some(1), &[bytes(2, &[double(1, 1.0), double(1, 2.0)].concat())])
        => "g Gauge\n  {} 2.0\n";
    gauge_with_unknown_field: family("g", None, Some(1), &[bytes(2, &[double(1, 1.0), varint(2, 5)].concat())])
        => "g Gauge\n  {} 1.0\n";
    counter_with_created_timestamp: family("c", None, Some(0), &[bytes(3, &[double(1, 4.0), bytes(3, &varint(1, 9))].concat())])
        => "c Counter\n  {} 4.0\n";
}

/// `plain_histogram` on `b` against the schema check and the field walk,
/// both starting from a histogram already merged from an earlier message.
fn histogram_alike(b: &[u8]) -> Result<(), TestCaseError> {
    let start = || (7u64, 1.5f64, vec![(0.5f64, 3u64)]);
    let mut fast = start();
    let bits = |h: &Classic<u64>| {
        (h.0, h.1.to_bits(), h.2.iter().map(|(u, c)| (u.to_bits(), *c)).collect::<Vec<_>>())
    };
    if plain_histogram(b, &mut fast) {
        prop_assert!(schema::validate(&schema::HISTOGRAM, b, 0).is_ok(), "{:?}", b);
        let mut walked = start();
        histogram_fields(b, &mut walked);
        prop_assert_eq!(bits(&fast), bits(&walked));
    } else {
        prop_assert_eq!(bits(&fast), bits(&start()), "left as it was");
    }
    Ok(())
}

#[test]
fn many_labels_are_checked_for_duplicates() {
    let mut m: Vec<u8> = (0..20).flat_map(|i| label(format!("l{i:02}").as_bytes(), b"v")).collect();
    m.extend(gauge(1.0));
    assert!(parse(&family("g", None, Some(1), std::slice::from_ref(&m))).unwrap()[0]
        .problems
        .is_empty());
    m.extend(label(b"l07", b"w"));
    let body = family("g", None, Some(1), &[m]);
    let fams = parse(&body).unwrap();
    assert_eq!(fams[0].problems.len(), 1);
    assert!(fams[0].problems[0].ends_with("has two or more labels with the same name: l07"));
}

#[test]
fn raw_value_borrows_contiguous_value_fields() {
    let m = [label(b"a", b"1"), label(b"b", b"2"), histogram(1, 1.0, &[(1.0, 1)]), varint(20, 1)]
        .concat();
    let body = family("h", None, Some(4), std::slice::from_ref(&m));
    let fams = parse(&body).unwrap();
    let raw = fams[0].metrics[0].raw_value.as_ref().unwrap();
    assert!(matches!(raw, Cow::Borrowed(_)));
    let labels_len = label(b"a", b"1").len() + label(b"b", b"2").len();
    assert_eq!(&**raw, &m[labels_len..]);
}

#[test]
fn raw_value_concatenates_interleaved_value_fields() {
    let parts = [gauge(1.0), label(b"a", b"1"), counter(2.0), varint(6, 5), varint(20, 1)];
    let body = family("g", None, Some(1), &[parts.concat()]);
    let fams = parse(&body).unwrap();
    let raw = fams[0].metrics[0].raw_value.as_ref().unwrap();
    assert!(matches!(raw, Cow::Owned(_)));
    assert_eq!(&**raw, &[gauge(1.0), counter(2.0), varint(20, 1)].concat()[..]);
    // A timestamp after all value fields leaves them contiguous.
    let body =
        family("g", None, Some(1), &[[label(b"a", b"1"), gauge(1.0), varint(6, 5)].concat()]);
    let fams = parse(&body).unwrap();
    assert_eq!(fams[0].metrics[0].raw_value.as_deref(), Some(&gauge(1.0)[..]));
    // No value fields at all: an empty value.
    let body = family("g", None, Some(1), &[label(b"a", b"1")]);
    assert_eq!(parse(&body).unwrap()[0].metrics[0].raw_value.as_deref(), Some(&[][..]));
}

#[test]
fn labels_borrow_the_body() {
    let body = family("g", Some("h"), Some(1), &[[label(b"a", b"1"), gauge(1.0)].concat()]);
    let fams = parse(&body).unwrap();
    assert!(matches!(fams[0].name, Cow::Borrowed(_)));
    assert!(matches!(fams[0].help, Some(Cow::Borrowed(_))));
    let l = &fams[0].metrics[0].labels[0];
    assert!(matches!((&l.name, &l.value), (Cow::Borrowed(_), Cow::Borrowed(_))));
}

fn fixture() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/go-client-push.pb"))
        .expect("../shared/fixtures/go-client-push.pb")
}

#[test]
fn go_client_push_fixture() {
    assert_eq!(
        outcome(&fixture()),
        "go_client_gauge Gauge help=\"A gauge from the Go client.\"\n  {kind=\"a\"} 1.5\n  {kind=\"b\"} -2.0\n\
         go_client_latency_seconds Histogram help=\"Latency.\"\n  {} sum=5.55 count=3 b=[(0.1, 1), (1.0, 2)]\n\
         go_client_ops_total Counter help=\"Ops.\"\n  {} 42.0\n\
         go_client_size_bytes Summary help=\"Size.\"\n  {} sum=100.0 count=1 q=[(0.5, 100.0)]\n"
    );
    for f in parse(&fixture()).unwrap() {
        assert!(f.problems.is_empty());
        for m in &f.metrics {
            assert!(matches!(m.raw_value, Some(Cow::Borrowed(_))));
            assert_eq!(native_buckets(m.raw_value.as_deref().unwrap_or_default()), None);
        }
    }
}

#[test]
fn native_buckets_of_schema_0() {
    let body = native_histogram_body();
    let fams = parse(&body).unwrap();
    let raw = fams[0].metrics[0].raw_value.as_deref().unwrap();
    let nh = native_buckets(raw).unwrap();
    assert_eq!(nh.count, NativeCount::Int(6));
    assert_eq!(nh.sum, 10.5);
    let i = NativeCount::Int;
    assert_eq!(
        nh.buckets,
        vec![
            (1, -2.0, -1.0, i(1)),
            (1, -1.0, -0.5, i(1)),
            (3, -0.001, 0.001, i(1)),
            (0, 0.25, 0.5, i(1)),
            (0, 0.5, 1.0, i(2)),
            // Index 2 has delta -2: count 0, left out.
        ]
    );
}

/// prometheus/pushgateway api/v1/api_test.go `TestMetricsAPI`, the two native histograms.
#[test]
fn native_buckets_as_upstream_api_test() {
    let spans = [
        bytes(9, &span(0, 2)),
        bytes(9, &span(0, 2)),
        bytes(12, &span(0, 2)),
        bytes(12, &span(0, 2)),
    ];
    let deltas: Vec<u8> =
        [0i64, 2, -2, 0].iter().flat_map(|d| [sint(10, *d), sint(13, *d)].concat()).collect();
    let int = bytes(
        7,
        &[&[varint(1, 20), double(2, 99.23), sint(5, 1)][..], &spans, &[deltas]].concat().concat(),
    );
    let nh = native_buckets(&int).unwrap();
    let show = |nh: &NativeHistogram| {
        let b: Vec<String> = nh
            .buckets
            .iter()
            .map(|(r, l, u, c)| {
                format!("[{r},{},{},{c}]", go_float_string(*l), go_float_string(*u))
            })
            .collect();
        format!("count={} sum={} {}", nh.count, go_float_string(nh.sum), b.join(""))
    };
    use crate::gofmt::go_float_string;
    assert_eq!(
        show(&nh),
        "count=20 sum=99.23 [1,-1.414213562373095,-1,2][0,1,1.414213562373095,2]"
    );
    let counts: Vec<u8> = [2.0, 2.0, -2.0, 0.0]
        .iter()
        .flat_map(|c| [double(11, *c), double(14, *c)].concat())
        .collect();
    let float = bytes(
        7,
        &[&[double(4, 20.0), double(2, 99.23), sint(5, 1)][..], &spans, &[counts]]
            .concat()
            .concat(),
    );
    assert_eq!(
        show(&native_buckets(&float).unwrap()),
        "count=20 sum=99.23 [1,-2,-1.414213562373095,-2][1,-1.414213562373095,-1,2]\
         [1,-1,-0.7071067811865475,2][0,0.7071067811865475,1,2][0,1,1.414213562373095,2]\
         [0,1.414213562373095,2,-2]"
    );
    assert!(matches!(native_buckets(&float).unwrap().count, NativeCount::Float(_)));
}

#[test]
fn native_buckets_edge_cases() {
    // Classic histogram, no histogram, unsupported schema: no native view.
    assert_eq!(native_buckets(&histogram(1, 1.0, &[(1.0, 1)])), None);
    assert_eq!(native_buckets(&gauge(1.0)), None);
    assert_eq!(native_buckets(&[0xff]), None);
    let h = |schema: i64, offset: i64| {
        bytes(
            7,
            &[varint(1, 1), sint(5, schema), bytes(12, &span(offset, 1)), sint(13, 1)].concat(),
        )
    };
    assert_eq!(native_buckets(&h(9, 0)), None);
    // Negative schema: base 2^(2^4); the last finite bucket ends at MaxFloat64.
    assert_eq!(
        native_buckets(&h(-4, 1)).unwrap().buckets,
        vec![(0, 1.0, 65536.0, NativeCount::Int(1))]
    );
    assert_eq!(native_buckets(&h(-4, 64)).unwrap().buckets[0].2, f64::MAX);
    assert_eq!(native_buckets(&h(8, 256 * 1024)).unwrap().buckets[0].2, f64::MAX);
    assert_eq!(native_buckets(&h(8, 256 * 1024 + 1)).unwrap().buckets[0].2, f64::INFINITY);
    // Tiny bounds round like Go's Ldexp into subnormals and zero.
    let tiny = native_buckets(&h(0, -1074)).unwrap().buckets[0];
    assert_eq!((tiny.1, tiny.2), (0.0, 5e-324));
    // Spans longer than the buckets stop where the buckets end.
    let short = bytes(7, &[varint(1, 1), bytes(12, &span(0, 1000)), sint(13, 1)].concat());
    assert_eq!(native_buckets(&short).unwrap().buckets.len(), 1);
    // Extreme offsets wrap as Go's int32 arithmetic does, without panicking.
    let wild = bytes(
        7,
        &[
            bytes(12, &span(i64::from(i32::MAX), 1)),
            bytes(12, &span(5, 1)),
            sint(13, 1),
            sint(13, 0),
        ]
        .concat(),
    );
    assert_eq!(native_buckets(&wild).unwrap().buckets.len(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn never_panics_on_bytes(body in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse(&body);
        let _ = native_buckets(&body);
    }

    /// Mutations of valid bodies reach deeper into the decoder.
    #[test]
    fn never_panics_on_mutated_bodies(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut body = [fixture(), native_histogram_body()].concat();
        for (i, b) in flips {
            let i = i.index(body.len());
            body[i] = b;
        }
        let _ = parse(&body);
        body.truncate(cut.index(body.len() + 1));
        let parsed = parse(&body);
        if let Ok(fams) = &parsed {
            for f in fams {
                for m in &f.metrics {
                    let _ = native_buckets(m.raw_value.as_deref().unwrap_or_default());
                }
            }
        }
    }

    #[test]
    fn label_shortcut_reads_as_fields(msg in prop::collection::vec(any::<u8>(), 0..40)) {
        prop_assert_eq!(parse_label(&msg, 0), label_fields(&msg, 0));
    }

    #[test]
    fn encoded_labels_read_as_written(
        name in prop::collection::vec(any::<u8>(), 0..200),
        value in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let msg = [bytes(1, &name), bytes(2, &value)].concat();
        prop_assert_eq!(parse_label(&msg, 0), Ok((&name[..], &value[..])));
        prop_assert_eq!(label_fields(&msg, 0), Ok((&name[..], &value[..])));
    }

    #[test]
    fn plain_values_read_as_fields(b in prop::collection::vec(any::<u8>(), 0..20)) {
        if let Some(v) = plain_value(&b) {
            prop_assert!(schema::validate(&schema::GAUGE, &b, 0).is_ok());
            let last = wire::fields(&b).filter(|f| f.num == 1).filter_map(|f| f.f64()).last();
            prop_assert_eq!(Some(v.to_bits()), last.map(f64::to_bits));
        }
    }

    #[test]
    fn histogram_shortcut_reads_as_fields(
        b in prop::collection::vec(prop::sample::select(vec![0x08, 0x11, 0x1a, 0x0a, 0x00, 0x01, 0x02, 0x09, 0x80, 0xff]), 0..40),
    ) {
        histogram_alike(&b)?;
    }

    #[test]
    fn encoded_histograms_take_the_shortcut(
        count in any::<u64>(),
        sum in any::<f64>(),
        buckets in prop::collection::vec((any::<f64>(), any::<u64>()), 0..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let b = histogram(count, sum, &buckets);
        // `histogram` wraps the message as field 7 of a metric.
        let msg = wire::fields(&b).next().and_then(|f| f.bytes()).expect("field 7").to_vec();
        let mut h = (0, 0.0, Vec::new());
        prop_assert!(plain_histogram(&msg, &mut h));
        prop_assert_eq!(h.0, count);
        prop_assert_eq!(h.1.to_bits(), sum.to_bits());
        let bits = |v: &[(f64, u64)]| v.iter().map(|(u, c)| (u.to_bits(), *c)).collect::<Vec<_>>();
        prop_assert_eq!(bits(&h.2), bits(&buckets));
        // Cut short anywhere, it reads (or is left to the walk) as the walk reads it.
        histogram_alike(&msg[..cut.index(msg.len() + 1)])?;
    }
    /// Whatever is accepted never holds more metrics or labels than the body
    /// has bytes: no allocation is sized by a length read from the input.
    #[test]
    fn output_is_bounded_by_input(body in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(fams) = parse(&body) {
            prop_assert!(fams.len() <= body.len());
            let labels: usize = fams.iter().flat_map(|f| &f.metrics).map(|m| m.labels.len() + 1).sum();
            prop_assert!(labels <= body.len());
        }
    }
}

/// The committed fuzz seeds parse (or fail) as they were built to.
#[test]
fn fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/proto_parse");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/proto_parse") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        // Only the committed seeds: a local fuzz run adds its own finds here.
        if !name.starts_with("seed-") {
            continue;
        }
        let body = std::fs::read(&path).expect("seed");
        let outcome = parse(&body);
        let problems = outcome.as_ref().map(|f| f.iter().map(|f| f.problems.len()).sum::<usize>());
        match name.as_str() {
            "seed-truncated" | "seed-text-body" => {
                assert_eq!(outcome.unwrap_err().to_string(), "unexpected EOF")
            }
            "seed-tag-zero-nested" => assert!(outcome.is_err()),
            "seed-long-prefix" => assert_eq!(outcome.unwrap_err().kind, ErrorKind::InvalidVarint32),
            "seed-problems" => assert_eq!(problems, Ok(5), "{name}"),
            _ => assert_eq!(problems, Ok(0), "{name}"),
        }
        seen += 1;
    }
    assert!(seen >= 10);
}
