use proptest::prelude::*;

use super::*;
use crate::expfmt::family::describe;
use crate::expfmt::text;

fn outcome(r: &Result<Vec<Family<'_>>, Error>) -> String {
    match r {
        Ok(f) => describe(f),
        Err(e) => e.to_string(),
    }
}

fn check(input: &[u8], expect: &str) {
    assert_eq!(outcome(&parse(input)), expect, "input {:?}", quote(input));
}

/// One `#[test]` per case: name, body, expected families or error message.
macro_rules! cases {
    ($($name:ident: $input:expr => $expect:expr;)*) => {$(
        #[test]
        fn $name() {
            check(AsRef::<[u8]>::as_ref(&$input), $expect);
        }
    )*};
}

/// `prometheus_client` 0.26 `openmetrics.exposition.generate_latest` of a
/// registry with every metric type it has (time.time mocked), exemplars
/// included.
const PY_OM: &str = r#"# HELP job_runs Runs of the batch job.
# TYPE job_runs counter
job_runs_total{queue="a\"b\\c\nd"} 3.0
job_runs_created{queue="a\"b\\c\nd"} 1.700000000015e+09
job_runs_total{queue="fast"} 1.0 # {trace_id="abc123"} 1.0 1700000000.015
job_runs_created{queue="fast"} 1.700000000015e+09
# HELP job_duration_seconds Duration of the batch job.
# TYPE job_duration_seconds histogram
job_duration_seconds_bucket{le="0.5",step="x"} 0.0
job_duration_seconds_bucket{le="1.0",step="x"} 1.0
job_duration_seconds_bucket{le="2.5",step="x"} 1.0
job_duration_seconds_bucket{le="+Inf",step="x"} 1.0
job_duration_seconds_count{step="x"} 1.0
job_duration_seconds_sum{step="x"} 0.7
job_duration_seconds_created{step="x"} 1.700000000015e+09
job_duration_seconds_bucket{le="0.5",step="y"} 0.0
job_duration_seconds_bucket{le="1.0",step="y"} 0.0
job_duration_seconds_bucket{le="2.5",step="y"} 1.0 # {trace_id="xyz"} 2.0 1700000000.015
job_duration_seconds_bucket{le="+Inf",step="y"} 1.0
job_duration_seconds_count{step="y"} 1.0
job_duration_seconds_sum{step="y"} 2.0
job_duration_seconds_created{step="y"} 1.700000000015e+09
# HELP job_size_bytes Size of the batch.
# TYPE job_size_bytes summary
job_size_bytes_count 2.0
job_size_bytes_sum 128.0
job_size_bytes_created 1.700000000015e+09
# HELP job_build Build info.
# TYPE job_build info
job_build_info{revision="abc",version="1.2.3"} 1.0
# HELP job_state State of the job.
# TYPE job_state stateset
job_state{job_state="idle"} 0.0
job_state{job_state="running"} 1.0
# HELP job_last_success_unixtime_seconds Last success.
# TYPE job_last_success_unixtime_seconds gauge
job_last_success_unixtime_seconds 1.7e+09
# EOF
"#;

/// `prometheus_client.exposition.generate_latest` (text 0.0.4) of the same
/// registry: what the Python client pushes to a Pushgateway.
const PY_TEXT: &str = r#"# HELP job_runs_total Runs of the batch job.
# TYPE job_runs_total counter
job_runs_total{queue="a\"b\\c\nd"} 3.0
job_runs_total{queue="fast"} 1.0
# HELP job_runs_created Runs of the batch job.
# TYPE job_runs_created gauge
job_runs_created{queue="a\"b\\c\nd"} 1.700000000015e+09
job_runs_created{queue="fast"} 1.700000000015e+09
# HELP job_duration_seconds Duration of the batch job.
# TYPE job_duration_seconds histogram
job_duration_seconds_bucket{le="0.5",step="x"} 0.0
job_duration_seconds_bucket{le="1.0",step="x"} 1.0
job_duration_seconds_bucket{le="2.5",step="x"} 1.0
job_duration_seconds_bucket{le="+Inf",step="x"} 1.0
job_duration_seconds_count{step="x"} 1.0
job_duration_seconds_sum{step="x"} 0.7
job_duration_seconds_bucket{le="0.5",step="y"} 0.0
job_duration_seconds_bucket{le="1.0",step="y"} 0.0
job_duration_seconds_bucket{le="2.5",step="y"} 1.0
job_duration_seconds_bucket{le="+Inf",step="y"} 1.0
job_duration_seconds_count{step="y"} 1.0
job_duration_seconds_sum{step="y"} 2.0
# HELP job_duration_seconds_created Duration of the batch job.
# TYPE job_duration_seconds_created gauge
job_duration_seconds_created{step="x"} 1.700000000015e+09
job_duration_seconds_created{step="y"} 1.700000000015e+09
# HELP job_size_bytes Size of the batch.
# TYPE job_size_bytes summary
job_size_bytes_count 2.0
job_size_bytes_sum 128.0
# HELP job_size_bytes_created Size of the batch.
# TYPE job_size_bytes_created gauge
job_size_bytes_created 1.700000000015e+09
# HELP job_build_info Build info.
# TYPE job_build_info gauge
job_build_info{revision="abc",version="1.2.3"} 1.0
# HELP job_state State of the job.
# TYPE job_state gauge
job_state{job_state="idle"} 0.0
job_state{job_state="running"} 1.0
# HELP job_last_success_unixtime_seconds Last success.
# TYPE job_last_success_unixtime_seconds gauge
job_last_success_unixtime_seconds 1.7e+09
"#;

/// The Python client's OpenMetrics rendering of a gauge histogram (custom
/// collector with `GaugeHistogramMetricFamily`) and of a unit.
const PY_OM_GAUGE_HISTOGRAM: &str = "\
# HELP queue_wait_seconds Queue wait.
# TYPE queue_wait_seconds gaugehistogram
queue_wait_seconds_bucket{le=\"1.0\"} 4.0
queue_wait_seconds_bucket{le=\"+Inf\"} 5.0
queue_wait_seconds_gcount 5.0
queue_wait_seconds_gsum 7.5
# HELP job_last_success_unixtime_seconds Last time the job succeeded.
# TYPE job_last_success_unixtime_seconds gauge
# UNIT job_last_success_unixtime_seconds seconds
job_last_success_unixtime_seconds 1.7e+09
# EOF
";

const E: &str = "openmetrics parsing error in line";

// Accepted bodies.
cases! {
    python_client_body: PY_OM => concat!(
        "job_runs_total Counter help=\"Runs of the batch job.\"\n",
        "  {queue=\"a\\\"b\\\\c\\nd\"} 3.0\n",
        "  {queue=\"fast\"} 1.0\n",
        "job_runs_created Gauge help=\"Runs of the batch job.\"\n",
        "  {queue=\"a\\\"b\\\\c\\nd\"} 1700000000.015\n",
        "  {queue=\"fast\"} 1700000000.015\n",
        "job_duration_seconds Histogram help=\"Duration of the batch job.\"\n",
        "  {step=\"x\"} sum=0.7 count=1 b=[(0.5, 0), (1.0, 1), (2.5, 1), (inf, 1)]\n",
        "  {step=\"y\"} sum=2.0 count=1 b=[(0.5, 0), (1.0, 0), (2.5, 1), (inf, 1)]\n",
        "job_duration_seconds_created Gauge help=\"Duration of the batch job.\"\n",
        "  {step=\"x\"} 1700000000.015\n",
        "  {step=\"y\"} 1700000000.015\n",
        "job_size_bytes Summary help=\"Size of the batch.\"\n",
        "  {} sum=128.0 count=2 q=[]\n",
        "job_size_bytes_created Gauge help=\"Size of the batch.\"\n",
        "  {} 1700000000.015\n",
        "job_build_info Gauge help=\"Build info.\"\n",
        "  {revision=\"abc\",version=\"1.2.3\"} 1.0\n",
        "job_state Gauge help=\"State of the job.\"\n",
        "  {job_state=\"idle\"} 0.0\n",
        "  {job_state=\"running\"} 1.0\n",
        "job_last_success_unixtime_seconds Gauge help=\"Last success.\"\n",
        "  {} 1700000000.0\n",
    );
    python_gauge_histogram_and_unit: PY_OM_GAUGE_HISTOGRAM => concat!(
        "queue_wait_seconds GaugeHistogram help=\"Queue wait.\"\n",
        "  {} sum=7.5 count=5 b=[(1.0, 4), (inf, 5)]\n",
        "job_last_success_unixtime_seconds Gauge help=\"Last time the job succeeded.\"\n",
        "  {} 1700000000.0\n",
    );
    only_eof: "# EOF\n" => "";
    eof_without_newline: "a 1\n# EOF" => "a Untyped\n  {} 1.0\n";
    untyped_sample: "a{x=\"y\"} 1\n# EOF\n" => "a Untyped\n  {x=\"y\"} 1.0\n";
    unknown_type: "# TYPE a unknown\na 1\n# EOF\n" => "a Untyped\n  {} 1.0\n";
    gauge: "# TYPE g gauge\n# HELP g A gauge.\ng{a=\"1\"} -2.5\ng{a=\"2\"} NaN\n# EOF\n" => "g Gauge help=\"A gauge.\"\n  {a=\"1\"} -2.5\n  {a=\"2\"} NaN\n";
    counter_without_created: "# TYPE c counter\n# HELP c Cs.\nc_total 17.0\n# EOF\n" => "c_total Counter help=\"Cs.\"\n  {} 17.0\n";
    counter_with_created: "# TYPE c counter\nc_total{a=\"x\"} 1\nc_created{a=\"x\"} 1520430000.123\nc_total{a=\"y\"} 2\n# EOF\n" => "c_total Counter\n  {a=\"x\"} 1.0\n  {a=\"y\"} 2.0\nc_created Gauge\n  {a=\"x\"} 1520430000.123\n";
    counter_created_first: "# TYPE c counter\nc_created 5\nc_total 1\n# EOF\n" => "c_total Counter\n  {} 1.0\nc_created Gauge\n  {} 5.0\n";
    counter_only_created: "# TYPE c counter\nc_created 5\n# EOF\n" => "c_created Gauge\n  {} 5.0\n";
    counter_exemplar: "# TYPE c counter\nc_total 1 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n# EOF\n" => "c_total Counter\n  {} 1.0\n";
    counter_exemplar_empty_labels_and_ts: "# TYPE c counter\nc_total 1 123 # {} 0.5 1520879607.789\n# EOF\n" => "c_total Counter\n  {} 1.0 @123000\n";
    exemplar_128_chars: concat!("# TYPE c counter\nc_total 1 # {a=\"", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "\"} 1\n# EOF\n") => "c_total Counter\n  {} 1.0\n";
    exemplar_length_counts_characters: "# TYPE c counter\nc_total 1 # {a=\"ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé\"} 1\n# EOF\n" => "c_total Counter\n  {} 1.0\n";
    histogram_with_inf: concat!(
        "# TYPE h histogram\n",
        "# UNIT h_seconds seconds\n",
        "# TYPE h_seconds histogram\n",
        "h_seconds_bucket{le=\"0.01\"} 0\n",
        "h_seconds_bucket{le=\"0.1\"} 8 # {} 0.054\n",
        "h_seconds_bucket{le=\"1\"} 11 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n",
        "h_seconds_bucket{le=\"10\"} 17 # {trace_id=\"oHg5SJYRHA0\"} 9.8 1520879607.789\n",
        "h_seconds_bucket{le=\"+Inf\"} 17\n",
        "h_seconds_count 17\n",
        "h_seconds_sum 324789.3\n",
        "h_seconds_created 1520430000.123\n",
        "# EOF\n",
    ) => concat!(
        "h_seconds Histogram\n",
        "  {} sum=324789.3 count=17 b=[(0.01, 0), (0.1, 8), (1.0, 11), (10.0, 17), (inf, 17)]\n",
        "h_seconds_created Gauge\n",
        "  {} 1520430000.123\n",
    );
    histogram_only_buckets: "# TYPE h histogram\nh_bucket{le=\"-1\"} 0\nh_bucket{le=\"+Inf\"} 2\n# EOF\n" => "h Histogram\n  {} sum=0.0 count=0 b=[(-1.0, 0), (inf, 2)]\n";
    histogram_labels_in_any_order: "# TYPE h histogram\nh_bucket{a=\"1\",le=\"+Inf\",b=\"2\"} 2\nh_count{b=\"2\",a=\"1\"} 2\nh_sum{a=\"1\",b=\"2\"} 3\n# EOF\n" => "h Histogram\n  {a=\"1\",b=\"2\"} sum=3.0 count=2 b=[(inf, 2)]\n";
    histogram_inf_spellings: "# TYPE h histogram\nh_bucket{le=\"1e3\"} 0\nh_bucket{le=\"Inf\"} 2\n# EOF\n" => "h Histogram\n  {} sum=0.0 count=0 b=[(1000.0, 0), (inf, 2)]\n";
    gauge_histogram_negative_gsum: "# TYPE g gaugehistogram\ng_bucket{le=\"-5\"} 1\ng_bucket{le=\"+Inf\"} 3\ng_gcount 3\ng_gsum -2\n# EOF\n" => "g GaugeHistogram\n  {} sum=-2.0 count=3 b=[(-5.0, 1), (inf, 3)]\n";
    summary_quantiles: concat!(
        "# TYPE s summary\n",
        "# HELP s Latency.\n",
        "s{m=\"a\",quantile=\"0.5\"} 1.5\n",
        "s{quantile=\"0.99\",m=\"a\"} NaN\n",
        "s_count{m=\"a\"} 7\n",
        "s_sum{m=\"a\"} 12.5\n",
        "s_created{m=\"a\"} 1605281325.0\n",
        "s_count{m=\"b\"} 0\n",
        "s_sum{m=\"b\"} 0\n",
        "# EOF\n",
    ) => concat!(
        "s Summary help=\"Latency.\"\n",
        "  {m=\"a\"} sum=12.5 count=7 q=[(0.5, 1.5), (0.99, NaN)]\n",
        "  {m=\"b\"} sum=0.0 count=0 q=[]\n",
        "s_created Gauge help=\"Latency.\"\n",
        "  {m=\"a\"} 1605281325.0\n",
    );
    info: "# TYPE foo info\nfoo_info{entity=\"controller\",name=\"pretty name\",version=\"8.2.7\"} 1.0\nfoo_info{entity=\"replica\",name=\"prettier name\",version=\"8.1.9\"} 1\n# EOF\n" => "foo_info Gauge\n  {entity=\"controller\",name=\"pretty name\",version=\"8.2.7\"} 1.0\n  {entity=\"replica\",name=\"prettier name\",version=\"8.1.9\"} 1.0\n";
    stateset: "# TYPE foo stateset\nfoo{entity=\"c\",foo=\"a\"} 1.0\nfoo{entity=\"c\",foo=\"bb\"} 0.0\nfoo{entity=\"r\",foo=\"a\"} 0\nfoo{entity=\"r\",foo=\"bb\"} 1\n# EOF\n" => "foo Gauge\n  {entity=\"c\",foo=\"a\"} 1.0\n  {entity=\"c\",foo=\"bb\"} 0.0\n  {entity=\"r\",foo=\"a\"} 0.0\n  {entity=\"r\",foo=\"bb\"} 1.0\n";
    timestamps_seconds_to_ms: "a 1 1520879607.789\na 2 -1.5\na 3 0.0009\na 4 1e3\n# EOF\n" => "a Untyped\n  {} 1.0 @1520879607789\n  {} 2.0 @-1500\n  {} 3.0 @0\n  {} 4.0 @1000000\n";
    timestamp_out_of_range_like_go: "a 1 1e300\n# EOF\n" => "a Untyped\n  {} 1.0 @-9223372036854775808\n";
    histogram_points_over_time: concat!(
        "# TYPE h histogram\n",
        "h_bucket{le=\"1\"} 1 10\nh_bucket{le=\"+Inf\"} 1 10\nh_count 1 10\nh_sum 2 10\n",
        "h_bucket{le=\"1\"} 1 20\nh_bucket{le=\"+Inf\"} 3 20\nh_count 3 20\nh_sum 5 20\n",
        "# EOF\n",
    ) => concat!(
        "h Histogram\n",
        "  {} sum=2.0 count=1 b=[(1.0, 1), (inf, 1)] @10000\n",
        "  {} sum=5.0 count=3 b=[(1.0, 1), (inf, 3)] @20000\n",
    );
    summary_points_over_time: "# TYPE s summary\ns_count{a=\"b\"} 0 123\ns_sum{a=\"b\"} 0 123\ns_count{a=\"b\"} 1 456\ns_sum{a=\"b\"} 2 456\n# EOF\n" => "s Summary\n  {a=\"b\"} sum=0.0 count=0 q=[] @123000\n  {a=\"b\"} sum=2.0 count=1 q=[] @456000\n";
    metric_points_over_time: "# TYPE g gauge\ng 17.0 123\ng 18.0 456\n# EOF\n" => "g Gauge\n  {} 17.0 @123000\n  {} 18.0 @456000\n";
    label_escapes: "a{l=\"q\\\"b\\\\n\\nx\"} 1\n# EOF\n" => "a Untyped\n  {l=\"q\\\"b\\\\n\\nx\"} 1.0\n";
    undefined_escape_kept_literally: "a{l=\"x\\qy\\\\\"} 1\n# EOF\n" => "a Untyped\n  {l=\"x\\\\qy\\\\\"} 1.0\n";
    label_value_utf8_and_nul: "a{l=\"héllo\0\"} 1\n# EOF\n" => "a Untyped\n  {l=\"héllo\\0\"} 1.0\n";
    empty_braces: "a{} 1\n# EOF\n" => "a Untyped\n  {} 1.0\n";
    trailing_comma_like_prometheus: "a{l=\"x\",} 1\n# EOF\n" => "a Untyped\n  {l=\"x\"} 1.0\n";
    help_escapes: "# HELP a x\\\\y\\nz \\\"q\\\" \"raw\" \\t\na 1\n# EOF\n" => "a Untyped help=\"x\\\\y\\nz \\\"q\\\" \\\"raw\\\" \\\\t\"\n  {} 1.0\n";
    empty_help_is_no_help: "# HELP a \na 1\n# EOF\n" => "a Untyped\n  {} 1.0\n";
    empty_unit: "# UNIT a \na 1\n# EOF\n" => "a Untyped\n  {} 1.0\n";
    metadata_only_family_dropped: "# TYPE x gauge\n# HELP x X.\n# TYPE y gauge\ny 1\n# EOF\n" => "y Gauge\n  {} 1.0\n";
    help_applies_to_both_families: "# HELP c Cs\\nmore.\n# TYPE c counter\nc_total 1\nc_created 2\n# EOF\n" => "c_total Counter help=\"Cs\\nmore.\"\n  {} 1.0\nc_created Gauge help=\"Cs\\nmore.\"\n  {} 2.0\n";
    new_family_by_sample_name: "# TYPE a gauge\na 1\nb 2\nb{x=\"1\"} 3\n# EOF\n" => "a Gauge\n  {} 1.0\nb Untyped\n  {} 2.0\n  {x=\"1\"} 3.0\n";
    unit_on_counter: "# TYPE req_seconds counter\n# UNIT req_seconds seconds\nreq_seconds_total 4.2e6\n# EOF\n" => "req_seconds_total Counter\n  {} 4200000.0\n";
    special_values: "a +Inf\na -inf\na Infinity\na 1.\na .5\na 0042\na 1E-3\n# EOF\n" => "a Untyped\n  {} inf\n  {} -inf\n  {} inf\n  {} 1.0\n  {} 0.5\n  {} 42.0\n  {} 0.001\n";
    gauge_histogram_count_is_another_family: "# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1\ng_count 1\n# EOF\n" => "g GaugeHistogram\n  {} sum=0.0 count=0 b=[(inf, 1)]\ng_count Untyped\n  {} 1.0\n";
    unit_after_bare_underscore_like_prometheus: "# UNIT _seconds seconds\n_seconds 1\n# EOF\n" => "_seconds Untyped\n  {} 1.0\n";
    repeated_gauge_series_left_to_the_store: "# TYPE g gauge\ng{a=\"1\"} 1\ng{a=\"2\"} 1\ng{a=\"1\"} 2\n# EOF\n" => "g Gauge\n  {a=\"1\"} 1.0\n  {a=\"2\"} 1.0\n  {a=\"1\"} 2.0\n";
    colon_in_name: "a:b_c 1\n# EOF\n" => "a:b_c Untyped\n  {} 1.0\n";
    reserved_prefix_other_than_name_ok: "a{__x=\"y\"} 1\n# EOF\n" => "a Untyped\n  {__x=\"y\"} 1.0\n";
}

// Rejected bodies.
cases! {
    missing_eof: "a 1\n" => "openmetrics parsing error in line 2: data does not end with \"# EOF\"";
    empty_body: "" => "openmetrics parsing error in line 1: data does not end with \"# EOF\"";
    missing_eof_unterminated: "a 1\nb 2" => "openmetrics parsing error in line 2: data does not end with \"# EOF\"";
    eof_with_trailing_space: "# EOF \n" => "openmetrics parsing error in line 1: invalid comment \"# EOF \": only # HELP, # TYPE, # UNIT and # EOF lines may start with '#'";
    content_after_eof: "a 1\n# EOF\nb 2\n" => "openmetrics parsing error in line 3: unexpected data after \"# EOF\"";
    newline_after_eof: "# EOF\n\n" => "openmetrics parsing error in line 2: unexpected data after \"# EOF\"";
    second_eof: "# EOF\n# EOF\n" => "openmetrics parsing error in line 2: unexpected data after \"# EOF\"";
    invalid_utf8: b"a 1\nb{l=\"\xff\"} 1\n# EOF\n" => "openmetrics parsing error in line 2: invalid UTF-8";
    invalid_utf8_after_eof: b"# EOF\n\xff" => "openmetrics parsing error in line 2: unexpected data after \"# EOF\"";
    earlier_error_beats_invalid_utf8: b"a x\n\xff\n" => "openmetrics parsing error in line 1: expected number as value, got \"x\"";
    blank_line: "a 1\n\nb 1\n# EOF\n" => "openmetrics parsing error in line 2: empty line";
    other_comment: "# just a comment\n# EOF\n" => "openmetrics parsing error in line 1: invalid comment \"# just a comment\": only # HELP, # TYPE, # UNIT and # EOF lines may start with '#'";
    hash_without_space: "#HELP a x\n# EOF\n" => "openmetrics parsing error in line 1: invalid comment \"#HELP a x\": only # HELP, # TYPE, # UNIT and # EOF lines may start with '#'";
    tab_separator: "a\t1\n# EOF\n" => "openmetrics parsing error in line 1: expected ' ' or '{' after metric name, got '\\t'";
    two_spaces: "a  1\n# EOF\n" => "openmetrics parsing error in line 1: expected number as value, got \"\"";
    leading_space: " a 1\n# EOF\n" => "openmetrics parsing error in line 1: invalid metric name \"\"";
    crlf: "a 1\r\n# EOF\n" => "openmetrics parsing error in line 1: expected number as value, got \"1\\r\"";
    trailing_space: "a 1 \n# EOF\n" => "openmetrics parsing error in line 1: expected finite number of seconds as timestamp, got \"\"";
    name_starts_with_digit: "1a 1\n# EOF\n" => "openmetrics parsing error in line 1: invalid metric name \"1a\"";
    quoted_metric_name: "{\"a.b\"} 1\n# EOF\n" => "openmetrics parsing error in line 1: quoted metric and label names are not supported: \"{\\\"a.b\\\"} 1\"";
    quoted_label_name: "a{\"l.x\"=\"y\"} 1\n# EOF\n" => "openmetrics parsing error in line 1: quoted metric and label names are not supported: \"\\\"l.x\\\"=\\\"y\\\"} 1\"";
    quoted_name_in_type: "# TYPE \"a.b\" gauge\n# EOF\n" => "openmetrics parsing error in line 1: quoted metric and label names are not supported: \"\\\"a.b\\\" gauge\"";
    nameless_labels: "{l=\"x\"} 1\n# EOF\n" => "openmetrics parsing error in line 1: invalid metric name \"{l=\\\"x\\\"}\"";
    space_in_labels: "a{l=\"x\", m=\"y\"} 1\n# EOF\n" => "openmetrics parsing error in line 1: invalid label name \"\"";
    lone_comma: "a{,} 1\n# EOF\n" => "openmetrics parsing error in line 1: invalid label name \"\"";
    label_name_digit: "a{1l=\"x\"} 1\n# EOF\n" => "openmetrics parsing error in line 1: invalid label name \"1l\"";
    label_without_equals: "a{l:x=\"y\"} 1\n# EOF\n" => "openmetrics parsing error in line 1: expected '=' after label name, got ':'";
    label_unquoted: "a{l=x} 1\n# EOF\n" => "openmetrics parsing error in line 1: expected '\"' starting the label value, got 'x'";
    label_missing_comma: "a{l=\"x\"m=\"y\"} 1\n# EOF\n" => "openmetrics parsing error in line 1: expected ',' or '}' after label value, got 'm'";
    label_duplicate: "a{l=\"x\",l=\"y\"} 1\n# EOF\n" => "openmetrics parsing error in line 1: duplicate label name \"l\"";
    label_reserved: "a{__name__=\"x\"} 1\n# EOF\n" => "openmetrics parsing error in line 1: label name \"__name__\" is reserved";
    label_unterminated: "a{l=\"x} 1\n# EOF\n" => "openmetrics parsing error in line 1: label value \"x} 1\" is not terminated";
    bad_escape_backslash_at_end_of_line: "a{l=\"x\\\n\"} 1\n# EOF\n" => "openmetrics parsing error in line 1: label value \"x\\\\\" is not terminated";
    bad_escape_escaped_closing_quote: "a{l=\"x\\\"} 1\n# EOF\n" => "openmetrics parsing error in line 1: label value \"x\\\\\\\"} 1\" is not terminated";
    bad_escape_raw_newline_in_label: "a{l=\"x\ny\"} 1\n# EOF\n" => "openmetrics parsing error in line 1: label value \"x\" is not terminated";
    bad_escape_help_trailing_backslash: "# HELP a x\\\n# EOF\n" => "openmetrics parsing error in line 1: HELP text \"x\\\\\" ends with a lone backslash";
    bad_escape_help_three_backslashes: "# HELP a x\\\\\\\n# EOF\n" => "openmetrics parsing error in line 1: HELP text \"x\\\\\\\\\\\\\" ends with a lone backslash";
    value_missing: "a\n# EOF\n" => "openmetrics parsing error in line 1: expected ' ' or '{' after metric name, got end of line";
    value_missing_after_labels: "a{}\n# EOF\n" => "openmetrics parsing error in line 1: expected ' ' after labels, got end of line";
    value_hex: "a 0x10\n# EOF\n" => "openmetrics parsing error in line 1: expected number as value, got \"0x10\"";
    value_signed_nan: "a -NaN\n# EOF\n" => "openmetrics parsing error in line 1: expected number as value, got \"-NaN\"";
    value_out_of_range: "a 1e400\n# EOF\n" => "openmetrics parsing error in line 1: expected number as value, got \"1e400\"";
    timestamp_nan: "a 1 NaN\n# EOF\n" => "openmetrics parsing error in line 1: expected finite number of seconds as timestamp, got \"NaN\"";
    timestamp_inf: "a 1 +Inf\n# EOF\n" => "openmetrics parsing error in line 1: expected finite number of seconds as timestamp, got \"+Inf\"";
    spurious_after_timestamp: "a 1 2 3\n# EOF\n" => "openmetrics parsing error in line 1: expected \"# \" (an exemplar) after timestamp, got '3'";
    exemplar_on_gauge: "# TYPE g gauge\ng 1 # {a=\"b\"} 1\n# EOF\n" => "openmetrics parsing error in line 2: exemplar on \"g\": only counter _total and histogram _bucket samples may have one";
    exemplar_on_histogram_count: "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1 # {} 1\nh_sum 1\n# EOF\n" => "openmetrics parsing error in line 3: exemplar on \"h_count\": only counter _total and histogram _bucket samples may have one";
    exemplar_on_created: "# TYPE c counter\nc_total 1\nc_created 1 # {} 1\n# EOF\n" => "openmetrics parsing error in line 3: exemplar on \"c_created\": only counter _total and histogram _bucket samples may have one";
    exemplar_without_labels: "# TYPE c counter\nc_total 1 # 1\n# EOF\n" => "openmetrics parsing error in line 2: expected '{' starting the exemplar labels, got '1'";
    exemplar_without_value: "# TYPE c counter\nc_total 1 # {a=\"b\"}\n# EOF\n" => "openmetrics parsing error in line 2: expected ' ' after exemplar labels, got end of line";
    exemplar_bad_value: "# TYPE c counter\nc_total 1 # {a=\"b\"} x\n# EOF\n" => "openmetrics parsing error in line 2: expected number as exemplar value, got \"x\"";
    exemplar_bad_timestamp: "# TYPE c counter\nc_total 1 # {} 1 NaN\n# EOF\n" => "openmetrics parsing error in line 2: expected finite number of seconds as timestamp, got \"NaN\"";
    exemplar_trailing_data: "# TYPE c counter\nc_total 1 # {} 1 2 3\n# EOF\n" => "openmetrics parsing error in line 2: expected end of line after exemplar timestamp, got ' '";
    exemplar_duplicate_label: "# TYPE c counter\nc_total 1 # {a=\"1\",a=\"2\"} 1\n# EOF\n" => "openmetrics parsing error in line 2: duplicate label name \"a\"";
    exemplar_bad_escape: "# TYPE c counter\nc_total 1 # {a=\"1\\\"} 1\n# EOF\n" => "openmetrics parsing error in line 2: label value \"1\\\\\\\"} 1\" is not terminated";
    exemplar_too_long: concat!("# TYPE c counter\nc_total 1 # {a=\"", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "\"} 1\n# EOF\n") => "openmetrics parsing error in line 2: exemplar labels have 129 characters, more than 128";
    exemplar_without_space_before_hash: "# TYPE c counter\nc_total 1 #{} 1\n# EOF\n" => "openmetrics parsing error in line 2: expected finite number of seconds as timestamp, got \"#{}\"";
    type_unknown: "# TYPE a untyped\n# EOF\n" => "openmetrics parsing error in line 1: unknown metric type \"untyped\"";
    type_upper_case: "# TYPE a Gauge\n# EOF\n" => "openmetrics parsing error in line 1: unknown metric type \"Gauge\"";
    type_missing: "# TYPE a\n# EOF\n" => "openmetrics parsing error in line 1: expected ' ' after metric name in # TYPE line, got end of line";
    help_without_space: "# HELP a\n# EOF\n" => "openmetrics parsing error in line 1: expected ' ' after metric name in # HELP line, got end of line";
    type_bad_name: "# TYPE 0a gauge\n# EOF\n" => "openmetrics parsing error in line 1: invalid metric name \"0a\"";
    second_type: "# TYPE a gauge\n# TYPE a gauge\n# EOF\n" => "openmetrics parsing error in line 2: second TYPE line for metric family \"a\"";
    second_help: "# HELP a x\n# TYPE a gauge\n# HELP a y\n# EOF\n" => "openmetrics parsing error in line 3: second HELP line for metric family \"a\"";
    second_unit: "# UNIT a_s s\n# UNIT a_s s\n# EOF\n" => "openmetrics parsing error in line 2: second UNIT line for metric family \"a_s\"";
    type_after_samples: "a 1\n# TYPE a gauge\n# EOF\n" => "openmetrics parsing error in line 2: TYPE line for metric family \"a\" after the family's samples";
    unit_not_suffix: "# TYPE foo counter\n# UNIT foo seconds\n# EOF\n" => "openmetrics parsing error in line 2: invalid unit: \"seconds\" is not a suffix of metric family name \"foo\" (after '_')";
    unit_without_underscore: "# UNIT fooseconds seconds\n# EOF\n" => "openmetrics parsing error in line 1: invalid unit: \"seconds\" is not a suffix of metric family name \"fooseconds\" (after '_')";
    unit_is_whole_name: "# UNIT seconds seconds\n# EOF\n" => "openmetrics parsing error in line 1: invalid unit: \"seconds\" is not a suffix of metric family name \"seconds\" (after '_')";
    unit_bad_chars: "# UNIT a_b b c\n# EOF\n" => "openmetrics parsing error in line 1: invalid unit: \"b c\" contains ' ', not a metric name character";
    unit_on_info: "# TYPE a_bytes info\n# UNIT a_bytes bytes\n# EOF\n" => "openmetrics parsing error in line 2: invalid unit: info \"a_bytes\" must not have a unit";
    unit_on_stateset_before_type: "# UNIT a_bytes bytes\n# TYPE a_bytes stateset\n# EOF\n" => "openmetrics parsing error in line 2: invalid unit: stateset \"a_bytes\" must not have a unit";
    counter_sample_without_suffix: "# TYPE c counter\nc 1\n# EOF\n" => "openmetrics parsing error in line 2: sample name \"c\" is not a sample name of counter \"c\" (expected \"c_total\" or \"c_created\")";
    counter_named_with_total: "# TYPE c_total counter\nc_total 1\n# EOF\n" => "openmetrics parsing error in line 2: sample name \"c_total\" is not a sample name of counter \"c_total\" (expected \"c_total_total\" or \"c_total_created\")";
    info_without_suffix: "# TYPE i info\ni{a=\"b\"} 1\n# EOF\n" => "openmetrics parsing error in line 2: sample name \"i\" is not a sample name of info \"i\" (expected \"i_info\")";
    interleaved_families: "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n# EOF\n" => "openmetrics parsing error in line 5: metric name clash: metric family \"a\" appears again (families must not be interleaved)";
    interleaved_untyped_families: "a 1\nb 1\na 2\n# EOF\n" => "openmetrics parsing error in line 3: metric name clash: metric family \"a\" appears again (families must not be interleaved)";
    gauge_named_like_counter_sample: "# TYPE foo counter\nfoo_total 1\n# TYPE foo_created gauge\n# EOF\n" => "openmetrics parsing error in line 3: metric name clash: metric family \"foo_created\" clashes with sample name \"foo_created\" of counter \"foo\"";
    counter_named_like_earlier_gauge: "# TYPE foo_total gauge\nfoo_total 1\n# TYPE foo counter\n# EOF\n" => "openmetrics parsing error in line 3: metric name clash: sample name \"foo_total\" of counter \"foo\" clashes with metric family \"foo_total\" (gauge)";
    interleaved_metric_points: "# TYPE s summary\ns_count{a=\"b\"} 0 123\ns_count{a=\"c\"} 0 123\ns_count{a=\"b\"} 0 456\n# EOF\n" => "openmetrics parsing error in line 4: interleaved metrics: series \"s\"{a=\"b\"} appears again after other series of its family";
    histogram_point_split_by_timestamp_needs_inf: "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_bucket{le=\"+Inf\"} 1 5\nh_count 1\nh_sum 1\n# EOF\n" => "openmetrics parsing error in line 5: invalid histogram: \"h\"{} has no bucket with le=\"+Inf\"";
    interleaved_histogram_series: "# TYPE h histogram\nh_bucket{a=\"1\",le=\"+Inf\"} 1\nh_bucket{a=\"2\",le=\"+Inf\"} 1\nh_count{a=\"1\"} 1\n# EOF\n" => "openmetrics parsing error in line 4: interleaved metrics: series \"h\"{a=\"1\"} appears again after other series of its family";
    counter_negative: "# TYPE c counter\nc_total -1\n# EOF\n" => "openmetrics parsing error in line 2: invalid sample value: counter sample \"c_total\" must not be negative or NaN, got -1";
    counter_nan: "# TYPE c counter\nc_total NaN\n# EOF\n" => "openmetrics parsing error in line 2: invalid sample value: counter sample \"c_total\" must not be negative or NaN, got NaN";
    info_not_one: "# TYPE i info\ni_info 2\n# EOF\n" => "openmetrics parsing error in line 2: invalid sample value: info sample \"i_info\" must be 1, got 2";
    stateset_not_boolean: "# TYPE s stateset\ns{s=\"a\"} 0.5\n# EOF\n" => "openmetrics parsing error in line 2: invalid sample value: stateset sample \"s\" must be 0 or 1, got 0.5";
    stateset_without_state_label: "# TYPE s stateset\ns{x=\"a\"} 1\n# EOF\n" => "openmetrics parsing error in line 2: missing label: stateset sample \"s\" has no \"s\" label";
    summary_without_quantile: "# TYPE s summary\ns 1\n# EOF\n" => "openmetrics parsing error in line 2: missing label: summary sample \"s\" has no \"quantile\" label";
    summary_quantile_out_of_range: "# TYPE s summary\ns{quantile=\"1.5\"} 1\n# EOF\n" => "openmetrics parsing error in line 2: invalid label value: quantile \"1.5\" is not a number from 0 to 1";
    summary_negative_quantile_value: "# TYPE s summary\ns{quantile=\"0.5\"} -1\n# EOF\n" => "openmetrics parsing error in line 2: invalid sample value: summary sample \"s\" (a quantile) must not be negative, got -1";
    summary_fractional_count: "# TYPE s summary\ns_count 1.5\n# EOF\n" => "openmetrics parsing error in line 2: invalid sample value: summary sample \"s_count\" (a count) must be a non-negative integer, got 1.5";
    summary_quantile_on_sum: "# TYPE s summary\ns_sum{quantile=\"0.5\"} 1\n# EOF\n" => "openmetrics parsing error in line 2: misplaced label: \"quantile\" on summary sample \"s_sum\"";
    histogram_without_inf: "# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"2\"} 1\n# EOF\n" => "openmetrics parsing error in line 3: invalid histogram: \"h\"{} has no bucket with le=\"+Inf\"";
    histogram_without_inf_first_series: "# TYPE h histogram\nh_bucket{a=\"x\",le=\"1\"} 0\nh_count{a=\"x\"} 0\nh_sum{a=\"x\"} 0\nh_bucket{a=\"y\",le=\"+Inf\"} 0\n# EOF\n" => "openmetrics parsing error in line 4: invalid histogram: \"h\"{a=\"x\"} has no bucket with le=\"+Inf\"";
    histogram_only_created: "# TYPE h histogram\nh_created 1\n# EOF\n" => "openmetrics parsing error in line 2: invalid histogram: \"h\" has no bucket with le=\"+Inf\"";
    histogram_without_le: "# TYPE h histogram\nh_bucket 1\n# EOF\n" => "openmetrics parsing error in line 2: missing label: histogram sample \"h_bucket\" has no \"le\" label";
    histogram_le_nan: "# TYPE h histogram\nh_bucket{le=\"NaN\"} 1\n# EOF\n" => "openmetrics parsing error in line 2: invalid label value: le \"NaN\" is not a number";
    histogram_le_on_count: "# TYPE h histogram\nh_count{le=\"1\"} 1\n# EOF\n" => "openmetrics parsing error in line 2: misplaced label: \"le\" on histogram sample \"h_count\"";
    histogram_unsorted: "# TYPE h histogram\nh_bucket{le=\"2\"} 0\nh_bucket{le=\"1\"} 0\n# EOF\n" => "openmetrics parsing error in line 3: invalid histogram: \"h\": le \"1\" follows a bucket with a larger or equal le (buckets must be sorted)";
    histogram_not_cumulative: "# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\n# EOF\n" => "openmetrics parsing error in line 3: invalid histogram: \"h\": bucket le \"+Inf\" holds 2, less than the previous bucket's 3 (buckets are cumulative)";
    histogram_fractional_bucket: "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2.5\n# EOF\n" => "openmetrics parsing error in line 2: invalid sample value: histogram sample \"h_bucket\" (a bucket) must be a non-negative integer, got 2.5";
    histogram_count_mismatch: "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\nh_sum 1\n# EOF\n" => "openmetrics parsing error in line 4: invalid histogram: \"h\"{}: _count is 3, the +Inf bucket 2";
    histogram_sum_without_count: "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\n# EOF\n" => "openmetrics parsing error in line 3: invalid histogram: \"h\"{}: _count and _sum must be both present or both absent";
    histogram_negative_sum: "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum -1\n# EOF\n" => "openmetrics parsing error in line 4: invalid sample value: histogram sample \"h_sum\" (a sum) must not be NaN or negative, got -1";
    histogram_negative_buckets_with_sum: "# TYPE h histogram\nh_bucket{le=\"-1\"} 0\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 1\n# EOF\n" => "openmetrics parsing error in line 5: invalid histogram: \"h\"{} has negative buckets, so it must not have _sum";
    gauge_histogram_negative_gsum_needs_negative_bucket: "# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1\ng_gcount 1\ng_gsum -1\n# EOF\n" => "openmetrics parsing error in line 4: invalid histogram: \"g\"{}: negative _gsum needs a bucket with negative le";
}

/// What the Python client pushes as text 0.0.4 and as OpenMetrics lands in
/// the model identically (counter → `_total`, `_created` → gauge, info →
/// `_info` gauge, stateset → gauge).
#[test]
fn python_openmetrics_matches_python_text() {
    let om = parse(PY_OM.as_bytes()).unwrap();
    let text = text::parse(PY_TEXT.as_bytes()).unwrap();
    assert_eq!(describe(&om), describe(&text));
}

/// The Rust `prometheus-client` crate's OpenMetrics output (what
/// `selfmetrics` encodes; it appends a '.' to HELP texts) parses into the
/// families its 0.0.4 rewrite gives.
#[test]
fn rust_prometheus_client_output() {
    use prometheus_client::encoding::text::encode;
    use prometheus_client::metrics::counter::Counter;
    use prometheus_client::metrics::family::Family as PcFamily;
    use prometheus_client::metrics::gauge::Gauge;
    use prometheus_client::metrics::histogram::Histogram;
    use prometheus_client::metrics::info::Info;
    use prometheus_client::registry::{Registry, Unit};

    let mut registry = Registry::default();
    let requests = PcFamily::<Vec<(String, String)>, Counter>::default();
    registry.register("requests", "Requests", requests.clone());
    requests.get_or_create(&vec![("code".to_owned(), "200".to_owned())]).inc_by(3);
    let gauge = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    registry.register_with_unit("temp", "Temperature", Unit::Celsius, gauge.clone());
    gauge.set(21.5);
    let hist = Histogram::new([0.5, 1.0]);
    registry.register_with_unit("latency", "Latency", Unit::Seconds, hist.clone());
    hist.observe(0.7);
    registry.register("build", "Build", Info::new(vec![("version".to_owned(), "1".to_owned())]));
    let mut om = String::new();
    encode(&mut om, &registry).unwrap();

    let families = parse(om.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{om}"));
    assert_eq!(
        describe(&families),
        concat!(
            "requests_total Counter help=\"Requests.\"\n",
            "  {code=\"200\"} 3.0\n",
            "temp_celsius Gauge help=\"Temperature.\"\n",
            "  {} 21.5\n",
            "latency_seconds Histogram help=\"Latency.\"\n",
            "  {} sum=0.7 count=1 b=[(0.5, 0), (1.0, 1), (inf, 1)]\n",
            "build_info Gauge help=\"Build.\"\n",
            "  {version=\"1\"} 1.0\n",
        ),
        "{om}"
    );
}

#[test]
fn error_fields() {
    let e = parse(b"a 1\nb 0x10\n# EOF\n").unwrap_err();
    assert_eq!(e.line, 2);
    assert_eq!(e.kind, ErrorKind::InvalidValue);
    assert_eq!(e.detail, "\"0x10\"");
    assert!(e.to_string().starts_with(E));
}

#[test]
fn tokens_borrow_the_body_unless_unescaped() {
    let body = b"# HELP a plain\na{x=\"v\",y=\"w\\\\\"} 1\n# HELP b es\\ncaped\nb 1\n# EOF\n";
    let f = parse(body).unwrap();
    assert!(matches!(f[0].name, Cow::Borrowed("a")));
    assert!(matches!(f[0].help, Some(Cow::Borrowed("plain"))));
    assert!(matches!(f[0].metrics[0].labels[0].name, Cow::Borrowed("x")));
    assert!(matches!(f[0].metrics[0].labels[0].value, Cow::Borrowed("v")));
    assert!(matches!(&f[0].metrics[0].labels[1].value, Cow::Owned(v) if v == "w\\"));
    assert!(matches!(&f[1].help, Some(Cow::Owned(h)) if h == "es\ncaped"));
    let f = parse(PY_OM.as_bytes()).unwrap();
    assert!(matches!(f[0].name, Cow::Borrowed("job_runs_total")));
    assert!(matches!(f[1].name, Cow::Borrowed("job_runs_created")));
    assert!(f.iter().all(|f| f.problems.is_empty()));
    // Only series with an exemplar carry value bytes (see `exemplars_are_kept`).
    let with_raw: Vec<String> = f
        .iter()
        .flat_map(|f| {
            f.metrics
                .iter()
                .filter(|m| m.raw_value.is_some())
                .map(|m| format!("{}{:?}", f.name, m.labels))
        })
        .collect();
    assert_eq!(with_raw.len(), 2, "{with_raw:?}");
}

/// Exemplars become protobuf value bytes that decode to the same value and
/// carry the exemplar: a protobuf scrape re-emits them, an OpenMetrics
/// scrape shows them again.
#[test]
fn exemplars_are_kept() {
    use crate::render::openmetrics::{extras, Exemplar};
    let f = parse(PY_OM.as_bytes()).unwrap();
    let runs = f.iter().find(|f| f.name == "job_runs_total").unwrap();
    let fast = &runs.metrics[1];
    let x = extras(MetricType::Counter, fast.raw_value.as_deref().unwrap());
    assert_eq!(
        x.counter,
        Some(Exemplar {
            labels: vec![("trace_id".into(), "abc123".into())],
            value: 1.0,
            timestamp: Some(1700000000.015),
        })
    );
    assert!(runs.metrics[0].raw_value.is_none());
    let hist = f.iter().find(|f| f.name == "job_duration_seconds").unwrap();
    let y = hist.metrics.iter().find(|m| m.raw_value.is_some()).unwrap();
    let x = extras(MetricType::Histogram, y.raw_value.as_deref().unwrap());
    assert_eq!(x.buckets.len(), 4);
    assert_eq!(x.buckets.iter().filter(|b| b.is_some()).count(), 1);
    assert_eq!(x.buckets[2].as_ref().map(|e| e.value), Some(2.0));
    // The bytes are what a protobuf push of the same series holds: the proto
    // parser reads the same value from them.
    let mut body = Vec::new();
    let mut fam = Vec::new();
    let put = |out: &mut Vec<u8>, field: u64, b: &[u8]| {
        crate::expfmt::proto::wire::put_varint(out, field << 3 | 2);
        crate::expfmt::proto::wire::put_varint(out, b.len() as u64);
        out.extend_from_slice(b);
    };
    put(&mut fam, 1, b"job_duration_seconds");
    fam.extend_from_slice(&[3 << 3, 4]); // type HISTOGRAM
    let mut metric = Vec::new();
    for l in &y.labels {
        let mut pair = Vec::new();
        put(&mut pair, 1, l.name.as_bytes());
        put(&mut pair, 2, l.value.as_bytes());
        put(&mut metric, 1, &pair);
    }
    metric.extend_from_slice(y.raw_value.as_deref().unwrap());
    put(&mut fam, 4, &metric);
    crate::expfmt::proto::wire::put_varint(&mut body, fam.len() as u64);
    body.extend_from_slice(&fam);
    let back = crate::expfmt::proto::parse(&body).unwrap();
    assert_eq!(back[0].metrics[0].value, y.value);
}

#[test]
fn nan_has_the_text_parsers_bits() {
    let om = parse(b"a NaN\n# EOF\n").unwrap();
    let text = text::parse(b"a NaN\n").unwrap();
    assert!(matches!(
        (&om[0].metrics[0].value, &text[0].metrics[0].value),
        (Value::Simple(a), Value::Simple(b)) if a.to_bits() == b.to_bits()
    ));
}

#[test]
fn timestamps_truncate_like_go() {
    assert_eq!(parse_timestamp(b"1.0019").ok(), Some(1001));
    assert_eq!(parse_timestamp(b"-1.0019").ok(), Some(-1001));
    assert_eq!(parse_timestamp(b"9223372036854775.807").ok(), Some(i64::MIN));
    assert_eq!(parse_timestamp(b"-9223372036854775.808").ok(), Some(i64::MIN));
    assert!(parse_timestamp(b"1e").is_err());
}

#[test]
fn unescape_rules() {
    assert_eq!(unescape("a\\nb\\\"c\\\\d").as_deref(), Some("a\nb\"c\\d"));
    assert_eq!(unescape("\\a\\é").as_deref(), Some("\\a\\é"));
    assert_eq!(unescape("x\\\\").as_deref(), Some("x\\"));
    assert_eq!(unescape("x\\"), None);
    assert_eq!(unescape("\\\\\\"), None);
}

#[test]
fn many_series_stay_in_order() {
    let mut body = String::from("# TYPE h histogram\n");
    for i in 0..200 {
        for le in ["1", "2", "+Inf"] {
            body.push_str(&format!("h_bucket{{i=\"{i}\",le=\"{le}\"}} {i}\n"));
        }
        body.push_str(&format!("h_count{{i=\"{i}\"}} {i}\nh_sum{{i=\"{i}\"}} 1\n"));
    }
    body.push_str("# EOF\n");
    let f = parse(body.as_bytes()).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].metrics.len(), 200);
    assert!(
        matches!(&f[0].metrics[7].value, Value::Histogram { count: 7, buckets, .. } if buckets.len() == 3)
    );
}

/// Fragments that steer the parser into its interesting corners.
const FRAGMENTS: &[&str] = &[
    "# EOF",
    "# EOF\n",
    "# HELP ",
    "# TYPE ",
    "# UNIT ",
    "counter",
    "gauge",
    "histogram",
    "gaugehistogram",
    "summary",
    "info",
    "stateset",
    "unknown",
    "a",
    "h",
    "_total",
    "_created",
    "_sum",
    "_count",
    "_bucket",
    "_gsum",
    "_gcount",
    "_info",
    "{",
    "}",
    "=",
    ",",
    "\"",
    "\\",
    "\\n",
    "\\\"",
    "le",
    "quantile",
    "__name__",
    "\"0.5\"",
    "\"+Inf\"",
    "\"NaN\"",
    "\"x\"",
    " ",
    " # ",
    " # {",
    "\t",
    "\n",
    "\n",
    "\n",
    "1",
    "2.5",
    "-3",
    "NaN",
    "+Inf",
    "1e999",
    "17",
    " 1520879607.789",
    "\r",
    "é",
    "\u{ff}",
];

fn fragment_body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40)
        .prop_map(|parts| parts.concat().into_bytes())
}

/// Well-formed bodies: families of every type with valid samples.
fn valid_body() -> impl Strategy<Value = Vec<u8>> {
    let lvalue = prop::sample::select(vec!["x", "", "y\\\\z", "\\n", "\\\"q\\\"", "é"]);
    let labels = prop::collection::vec(lvalue, 0..3).prop_map(|vals| {
        vals.iter().enumerate().map(|(i, v)| format!("l{i}=\"{v}\"")).collect::<Vec<_>>()
    });
    let series = prop::collection::vec(labels, 1..4);
    let typ = prop::sample::select(vec![
        "counter",
        "gauge",
        "histogram",
        "gaugehistogram",
        "summary",
        "info",
        "stateset",
        "unknown",
    ]);
    let family = (typ, series, any::<bool>(), any::<bool>());
    prop::collection::vec(family, 0..5).prop_map(|families| {
        let mut body = String::new();
        for (n, (typ, series, help, ts)) in families.into_iter().enumerate() {
            let name = format!("f{n}");
            body.push_str(&format!("# TYPE {name} {typ}\n"));
            if help {
                body.push_str(&format!("# HELP {name} Help \\\\ of {name}\\n.\n"));
            }
            let ts = if ts { " 1.5" } else { "" };
            let mut seen = Vec::new();
            for labels in series {
                let set = labels.join(",");
                if seen.contains(&set) {
                    continue;
                }
                seen.push(set.clone());
                let with = |extra: &str| {
                    let all: Vec<&str> =
                        [set.as_str(), extra].into_iter().filter(|s| !s.is_empty()).collect();
                    format!("{{{}}}", all.join(","))
                };
                let lines = match typ {
                    "counter" => format!(
                        "{name}_total{} 3 # {{t=\"1\"}} 1\n{name}_created{} 1.7e9{ts}\n",
                        with(""),
                        with("")
                    ),
                    "histogram" | "gaugehistogram" => {
                        let (c, s) = if typ == "histogram" { ("_count", "_sum") } else { ("_gcount", "_gsum") };
                        format!(
                            "{name}_bucket{} 1{ts}\n{name}_bucket{} 2{ts} # {{}} 0.5\n{name}{c}{} 2{ts}\n{name}{s}{} 1.25{ts}\n",
                            with("le=\"0.5\""),
                            with("le=\"+Inf\""),
                            with(""),
                            with("")
                        )
                    }
                    "summary" => format!(
                        "{name}{} NaN{ts}\n{name}_count{} 2{ts}\n{name}_sum{} 1{ts}\n",
                        with("quantile=\"0.5\""),
                        with(""),
                        with("")
                    ),
                    "info" => format!("{name}_info{} 1\n", with("v=\"1\"")),
                    "stateset" => format!(
                        "{name}{} 1\n{name}{} 0{ts}\n",
                        with(&format!("{name}=\"a\"")),
                        with(&format!("{name}=\"b\""))
                    ),
                    _ => format!("{name}{} -1.5e3{ts}\n", with("")),
                };
                body.push_str(&lines);
            }
        }
        body.push_str("# EOF\n");
        body.into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_bytes(body in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse(&body);
    }

    #[test]
    fn never_panics_on_fragments(body in fragment_body()) {
        if let Err(e) = parse(&body) {
            prop_assert!(e.line >= 1 && e.to_string().starts_with(E));
        }
    }

    #[test]
    fn accepts_valid_bodies(body in valid_body()) {
        let r = parse(&body);
        prop_assert!(r.is_ok(), "{}\n{}", outcome(&r), String::from_utf8_lossy(&body));
    }

    #[test]
    fn truncated_valid_bodies_fail_cleanly(body in valid_body(), cut in any::<prop::sample::Index>()) {
        // Dropping the `# EOF` (or more) must be an error, never a panic.
        let at = cut.index(body.len().saturating_sub(6).max(1));
        prop_assert!(parse(&body[..at]).is_err());
    }
}

/// The committed fuzz seeds parse (or fail) as their names say.
#[test]
fn fuzz_corpus_seeds() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/openmetrics_parse");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/openmetrics_parse") {
        let path = entry.unwrap().path();
        let body = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let valid = ["seed-python-client", "seed-every-type", "seed-escapes", "seed-timestamps"];
        if name.starts_with("seed-") {
            assert_eq!(
                parse(&body).is_ok(),
                valid.contains(&name.as_str()),
                "{name}: {:?}",
                parse(&body).err()
            );
        } else {
            let _ = parse(&body);
        }
        n += 1;
    }
    assert!(n >= 8, "only {n} seeds in {}", dir.display());
}

/// Why callers should try the text parser first (see "Dispatch" in the
/// module documentation): the Go server parses every non-protobuf push as
/// text 0.0.4, and some OpenMetrics bodies are valid text that lands
/// differently there (HELP on the dropped family `c`, `c_total` and
/// `c_created` untyped); bodies of gauges only land alike.
#[test]
fn text_parser_reads_some_openmetrics_bodies_differently() {
    let body =
        "# HELP c Cs.\n# TYPE c counter\nc_total 1\nc_created 2\n# TYPE g gauge\ng 3\n# EOF\n";
    assert_eq!(
        describe(&text::parse(body.as_bytes()).unwrap()),
        "c_total Untyped\n  {} 1.0\nc_created Untyped\n  {} 2.0\ng Gauge\n  {} 3.0\n"
    );
    assert_eq!(
        describe(&parse(body.as_bytes()).unwrap()),
        "c_total Counter help=\"Cs.\"\n  {} 1.0\nc_created Gauge help=\"Cs.\"\n  {} 2.0\ng Gauge\n  {} 3.0\n"
    );
    let gauges = "# HELP g G.\n# TYPE g gauge\ng{a=\"b\"} 3\n# EOF\n";
    assert_eq!(
        describe(&text::parse(gauges.as_bytes()).unwrap()),
        describe(&parse(gauges.as_bytes()).unwrap())
    );
}
