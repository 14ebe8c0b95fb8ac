//! Zero-copy parser of OpenMetrics 1.0 text pushes
//! (`Content-Type: application/openmetrics-text; version=1.0.0`).
//!
//! Owns the OpenMetrics push path: turning a whole request body into the same
//! borrowed [`Family`] model [`super::text::parse`] produces, so that the
//! families land in the store exactly as the text-0.0.4 exposition of the same
//! client would (what `prometheus_client`'s 0.0.4 output and the Go client's
//! text output show). Tokens borrow the body; only label values and HELP
//! texts containing an escape sequence are copied. Lines are split with
//! `memchr`.
//!
//! # Grammar
//! The ABNF of the OpenMetrics 1.0 specification, strictly: the body must be
//! UTF-8 and end with `# EOF` (optionally followed by one `\n`, nothing
//! else); every other line ends with `\n`; tokens are separated by exactly
//! one space; no blank lines, no tabs, no `\r\n` line ends, no comments
//! other than `# HELP`, `# TYPE`, `# UNIT` and `# EOF`. Types are `counter`,
//! `gauge`, `histogram`, `gaugehistogram`, `summary`, `info`, `stateset` and
//! `unknown` (lower case; `untyped` is not OpenMetrics). Timestamps are
//! finite numbers of seconds. Two leniencies: a trailing comma in a label set
//! (`{a="b",}`, as Prometheus' `model/textparse/openmetricsparse.go` accepts),
//! and a raw `"` in a HELP text (as Prometheus and `prometheus_client` do).
//!
//! Escapes in label values and HELP texts are `\\`, `\"` and `\n`; as the
//! ABNF says (`escaped-char =/ BS normal-char`), a backslash before any other
//! character is kept literally (`\q` is the two characters `\q`, as in
//! Prometheus and `prometheus_client`). A backslash ending a HELP text (which
//! those two keep literally) or a label value running into the end of its
//! line is an error. Quoted (UTF-8) metric and label names,
//! which OpenMetrics 1.0 does not have, are rejected with
//! [`ErrorKind::QuotedName`].
//!
//! Besides syntax, the MUSTs of the specification the mapping relies on are
//! checked: metadata (at most one HELP, TYPE and UNIT per family, before its
//! samples), families neither interleaved nor clashing in their sample names,
//! summary and histogram series (label sets) not interleaved, the `le`,
//! `quantile` and state labels, the value constraints of counters, buckets,
//! counts, sums, quantiles, info and stateset samples, and per histogram
//! series: a `+Inf` bucket, increasing `le`, non-decreasing bucket values,
//! `_count` equal to the `+Inf` bucket and present exactly when `_sum` is.
//! A label set reappearing in a simple-valued family (gauge, counter, …) is
//! not checked here: it is a duplicate series, which the store rejects with
//! the Go server's message, exactly as for the same text-format push.
//!
//! # Mapping to the model
//! | OpenMetrics family `foo`, type | Model families |
//! |---|---|
//! | counter: `foo_total`, `foo_created` | Counter `foo_total`; Gauge `foo_created` |
//! | gauge: `foo` | Gauge `foo` |
//! | unknown (or no TYPE): `foo` | Untyped `foo` |
//! | info: `foo_info` | Gauge `foo_info`, value 1 |
//! | stateset: `foo{foo="state"}` | Gauge `foo`, one series per state (label kept), value 0 or 1 |
//! | summary: `foo{quantile}`, `foo_sum`, `foo_count`, `foo_created` | Summary `foo`; Gauge `foo_created` |
//! | histogram: `foo_bucket{le}`, `foo_sum`, `foo_count`, `foo_created` | Histogram `foo`; Gauge `foo_created` |
//! | gaugehistogram: `foo_bucket{le}`, `foo_gsum`, `foo_gcount` | GaugeHistogram `foo` (`_gsum`/`_gcount` as sum/count) |
//!
//! Summary and histogram samples of one label set are merged into one
//! [`Metric`] as [`super::text`] does (`quantile`/`le` become the value, not a
//! label); `_created` samples form a separate gauge family `<name>_created`
//! right after the main one, with the same HELP (as `prometheus_client`
//! renders them in 0.0.4). Families without samples are dropped. HELP is
//! copied to every model family of an OpenMetrics family; an empty HELP counts
//! as none (spec). `# UNIT` is validated (empty, or `_<unit>` ends the family
//! name; never on info and stateset) and dropped: the model has no unit.
//!
//! # Dispatch
//! The Go Pushgateway parses every push that is not delimited protobuf as
//! text 0.0.4, whatever its `Content-Type`, and some OpenMetrics bodies are
//! valid text 0.0.4 too: those of counter, gauge, summary and histogram
//! families without exemplars or fractional timestamps (`# UNIT` and `# EOF`
//! are comments there). Go stores such a body as text: a counter `foo`'s
//! `foo_total` and `foo_created` untyped and without HELP (the HELP line names
//! `foo`, which has no samples). To behave exactly as Go for every body Go
//! accepts, a caller should try [`super::text::parse`] first and fall back to
//! this parser only when that fails (keeping the text error if both fail, or
//! reporting this one when the `Content-Type` asked for OpenMetrics).
//!
//! Exemplars (` # {labels} value [timestamp]`, allowed on counter `_total` and
//! histogram/gaugehistogram `_bucket` samples only) are parsed and validated
//! (label syntax, at most 128 characters of label names and values, number,
//! timestamp) and kept as protobuf value bytes of their series
//! ([`Metric::raw_value`], see `exemplar`), as a protobuf push would carry
//! them; timestamps to the millisecond.
//!
//! Timestamps become [`Metric::timestamp_ms`] as Prometheus computes them
//! (`int64(seconds * 1000)`: truncated toward zero), so the store rejects
//! them as the Go server rejects timestamped pushes. Each timestamped
//! MetricPoint of a summary or histogram becomes its own merged [`Metric`].

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;

use smallvec::SmallVec;

use super::family::{Family, Label, Metric, MetricType, Value};
use super::text::{go_f64_to_u64, parse_go_float};
use crate::gofmt::quote;

mod exemplar;
#[cfg(test)]
mod tests;

/// Why an OpenMetrics body was rejected. The variable part of each message
/// (names and tokens already quoted Go-style) is [`Error::detail`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `data does not end with "# EOF"`: the body ended without an `# EOF`
    /// line (reported at the line where it was expected, or at an
    /// unterminated last line). No detail.
    MissingEof,
    /// `unexpected data after "# EOF"`: something follows `# EOF\n`. No detail.
    ContentAfterEof,
    /// `invalid UTF-8`: the line holds bytes that are not UTF-8. No detail.
    InvalidUtf8,
    /// `empty line`: a blank line (OpenMetrics has none). No detail.
    EmptyLine,
    /// `invalid comment {detail}: only # HELP, # TYPE, # UNIT and # EOF lines may
    /// start with '#'`; detail is the quoted line.
    InvalidComment,
    /// `invalid metric name {detail}`; detail is the quoted token.
    InvalidMetricName,
    /// `quoted metric and label names are not supported: {detail}`; detail
    /// is the quoted rest of the line. OpenMetrics 1.0 has no quoted names.
    QuotedName,
    /// `expected {detail}`: a syntax error; detail says what was expected
    /// where, and what was found (`' ' after metric name, got '\t'`).
    Unexpected,
    /// `invalid label name {detail}`; detail is the quoted token.
    InvalidLabelName,
    /// `label name "__name__" is reserved`. No detail.
    ReservedLabelName,
    /// `duplicate label name {detail}`; detail is the quoted label name.
    DuplicateLabelName,
    /// `label value {detail} is not terminated`: no closing `"` before the
    /// end of the line; detail is the quoted rest of the line.
    UnterminatedLabelValue,
    /// `HELP text {detail} ends with a lone backslash`; detail is the quoted text.
    InvalidEscape,
    /// `expected number as value, got {detail}`; detail is the quoted token.
    InvalidValue,
    /// `expected finite number of seconds as timestamp, got {detail}`; detail is
    /// the quoted token (of the sample or of its exemplar).
    InvalidTimestamp,
    /// `expected number as exemplar value, got {detail}`; detail is the quoted token.
    InvalidExemplarValue,
    /// `exemplar on {detail}: only counter _total and histogram _bucket samples
    /// may have one`; detail is the quoted sample name.
    ExemplarNotAllowed,
    /// `exemplar labels have {detail} characters, more than 128`.
    ExemplarTooLong,
    /// `unknown metric type {detail}`; detail is the quoted type token.
    UnknownType,
    /// `invalid unit: {detail}`; detail says why.
    InvalidUnit,
    /// `second {detail}`; detail names the metadata line and family
    /// (`TYPE line for metric family "foo"`).
    DuplicateMetadata,
    /// `{detail} after the family's samples`; detail names the metadata line
    /// and family.
    MetadataAfterSamples,
    /// `metric name clash: {detail}`: a family appears twice (families must
    /// not be interleaved) or its sample names clash with another family's.
    NameClash,
    /// `sample name {detail}`: a sample named like the current family (or
    /// one of its sample names) that is not a sample name of its type, e.g.
    /// `foo_total` for `# TYPE foo_total counter`.
    SampleNameMismatch,
    /// `invalid sample value: {detail}`: a value the type forbids (negative
    /// or NaN counter, non-integer count, info other than 1, …).
    InvalidSampleValue,
    /// `missing label: {detail}`: `le` on a `_bucket` sample, `quantile` on
    /// a summary quantile sample, or the state label of a stateset sample.
    MissingLabel,
    /// `invalid label value: {detail}`: `le` or `quantile` is not a number of
    /// the allowed range.
    InvalidLabelValue,
    /// `misplaced label: {detail}`: `le` on a histogram sample other than
    /// `_bucket`, or `quantile` on a summary's `_sum`/`_count`/`_created`.
    MisplacedLabel,
    /// `interleaved metrics: {detail}`: a label set of a family reappears
    /// after another one (metrics must not be interleaved).
    Interleaved,
    /// `invalid histogram: {detail}`: a histogram series breaks a bucket,
    /// `_count` or `_sum` rule. Reported at the series' last line.
    InvalidHistogram,
}

/// A rejected OpenMetrics body: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// 1-based line number of the problem.
    pub line: u32,
    /// Which message.
    pub kind: ErrorKind,
    /// The variable part of the message (empty if none).
    pub detail: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "openmetrics parsing error in line {}: ", self.line)?;
        let d = &self.detail;
        match self.kind {
            ErrorKind::MissingEof => f.write_str("data does not end with \"# EOF\""),
            ErrorKind::ContentAfterEof => f.write_str("unexpected data after \"# EOF\""),
            ErrorKind::InvalidUtf8 => f.write_str("invalid UTF-8"),
            ErrorKind::EmptyLine => f.write_str("empty line"),
            ErrorKind::InvalidComment => write!(
                f,
                "invalid comment {d}: only # HELP, # TYPE, # UNIT and # EOF lines may start with '#'"
            ),
            ErrorKind::InvalidMetricName => write!(f, "invalid metric name {d}"),
            ErrorKind::QuotedName => {
                write!(f, "quoted metric and label names are not supported: {d}")
            }
            ErrorKind::Unexpected => write!(f, "expected {d}"),
            ErrorKind::InvalidLabelName => write!(f, "invalid label name {d}"),
            ErrorKind::ReservedLabelName => f.write_str("label name \"__name__\" is reserved"),
            ErrorKind::DuplicateLabelName => write!(f, "duplicate label name {d}"),
            ErrorKind::UnterminatedLabelValue => write!(f, "label value {d} is not terminated"),
            ErrorKind::InvalidEscape => write!(f, "HELP text {d} ends with a lone backslash"),
            ErrorKind::InvalidValue => write!(f, "expected number as value, got {d}"),
            ErrorKind::InvalidTimestamp => {
                write!(f, "expected finite number of seconds as timestamp, got {d}")
            }
            ErrorKind::InvalidExemplarValue => {
                write!(f, "expected number as exemplar value, got {d}")
            }
            ErrorKind::ExemplarNotAllowed => write!(
                f,
                "exemplar on {d}: only counter _total and histogram _bucket samples may have one"
            ),
            ErrorKind::ExemplarTooLong => {
                write!(f, "exemplar labels have {d} characters, more than 128")
            }
            ErrorKind::UnknownType => write!(f, "unknown metric type {d}"),
            ErrorKind::InvalidUnit => write!(f, "invalid unit: {d}"),
            ErrorKind::DuplicateMetadata => write!(f, "second {d}"),
            ErrorKind::MetadataAfterSamples => write!(f, "{d} after the family's samples"),
            ErrorKind::NameClash => write!(f, "metric name clash: {d}"),
            ErrorKind::SampleNameMismatch => write!(f, "sample name {d}"),
            ErrorKind::InvalidSampleValue => write!(f, "invalid sample value: {d}"),
            ErrorKind::MissingLabel => write!(f, "missing label: {d}"),
            ErrorKind::InvalidLabelValue => write!(f, "invalid label value: {d}"),
            ErrorKind::MisplacedLabel => write!(f, "misplaced label: {d}"),
            ErrorKind::Interleaved => write!(f, "interleaved metrics: {d}"),
            ErrorKind::InvalidHistogram => write!(f, "invalid histogram: {d}"),
        }
    }
}

impl std::error::Error for Error {}

/// Parses a whole OpenMetrics 1.0 text body into model families (see the
/// module documentation for the grammar and the mapping).
pub fn parse(body: &[u8]) -> Result<Vec<Family<'_>>, Error> {
    // One UTF-8 check for the whole body; on failure, parse the valid prefix
    // so that an earlier error still wins, then report the bad line.
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&body[..e.valid_up_to()]).unwrap_or_default(),
    };
    let mut p = Parser::default();
    p.run(text, body.len())?;
    Ok(p.out)
}

/// An error before its line number is known (or with its own line).
struct Fail {
    kind: ErrorKind,
    detail: String,
    line: Option<u32>,
}

impl Fail {
    #[cold]
    fn new(kind: ErrorKind, detail: String) -> Fail {
        Fail { kind, detail, line: None }
    }

    #[cold]
    fn bare(kind: ErrorKind) -> Fail {
        Fail { kind, detail: String::new(), line: None }
    }

    fn at(self, line: u32) -> Error {
        Error { line: self.line.unwrap_or(line), kind: self.kind, detail: self.detail }
    }
}

/// An OpenMetrics family type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum OmType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    #[default]
    Unknown,
}

/// What a sample of a family carries, by its name suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// The family name itself: the value (gauge, unknown, stateset) or a
    /// quantile (summary).
    Plain,
    Total,
    Created,
    Count,
    Sum,
    Bucket,
    GCount,
    GSum,
    Info,
}

impl OmType {
    fn from_token(s: &str) -> Option<OmType> {
        Some(match s {
            "counter" => OmType::Counter,
            "gauge" => OmType::Gauge,
            "histogram" => OmType::Histogram,
            "gaugehistogram" => OmType::GaugeHistogram,
            "summary" => OmType::Summary,
            "info" => OmType::Info,
            "stateset" => OmType::StateSet,
            "unknown" => OmType::Unknown,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            OmType::Counter => "counter",
            OmType::Gauge => "gauge",
            OmType::Histogram => "histogram",
            OmType::GaugeHistogram => "gaugehistogram",
            OmType::Summary => "summary",
            OmType::Info => "info",
            OmType::StateSet => "stateset",
            OmType::Unknown => "unknown",
        }
    }

    /// The sample name suffixes of the type and what they carry.
    fn samples(self) -> &'static [(&'static str, Role)] {
        match self {
            OmType::Counter => &[("_total", Role::Total), ("_created", Role::Created)],
            OmType::Gauge | OmType::Unknown | OmType::StateSet => &[("", Role::Plain)],
            OmType::Info => &[("_info", Role::Info)],
            OmType::Summary => &[
                ("", Role::Plain),
                ("_count", Role::Count),
                ("_sum", Role::Sum),
                ("_created", Role::Created),
            ],
            OmType::Histogram => &[
                ("_bucket", Role::Bucket),
                ("_count", Role::Count),
                ("_sum", Role::Sum),
                ("_created", Role::Created),
            ],
            OmType::GaugeHistogram => {
                &[("_bucket", Role::Bucket), ("_gcount", Role::GCount), ("_gsum", Role::GSum)]
            }
        }
    }

    fn is_histogram(self) -> bool {
        matches!(self, OmType::Histogram | OmType::GaugeHistogram)
    }

    /// The model type of the family holding the main samples.
    fn model_type(self) -> MetricType {
        match self {
            OmType::Counter => MetricType::Counter,
            OmType::Gauge | OmType::Info | OmType::StateSet => MetricType::Gauge,
            OmType::Histogram => MetricType::Histogram,
            OmType::GaugeHistogram => MetricType::GaugeHistogram,
            OmType::Summary => MetricType::Summary,
            OmType::Unknown => MetricType::Untyped,
        }
    }
}

/// Per-series state of a histogram's rules.
#[derive(Default)]
struct HistState {
    last_le: Option<f64>,
    last_bucket: f64,
    inf: Option<f64>,
    count: Option<f64>,
    sum: Option<f64>,
    negative_le: bool,
}

/// The label set (less `le`/`quantile`) the current summary or histogram
/// samples belong to.
#[derive(Default)]
struct Group {
    /// Order-independent hash of the label set; `None` before the first sample.
    hash: Option<u64>,
    /// Timestamp of the group's first sample (its MetricPoint).
    timestamp_ms: Option<i64>,
    /// For summaries and histograms: the merged series in the main family.
    metric: Option<usize>,
    /// Last line of the group.
    line: u32,
    hist: HistState,
    /// Encoded exemplars of the group's buckets, by bucket index.
    exemplars: Vec<(usize, Vec<u8>)>,
}

/// The OpenMetrics family being read.
#[derive(Default)]
struct Current<'buf> {
    /// Ordinal among the body's families (index into `Parser::om_families`).
    idx: usize,
    /// Empty before the first family.
    name: &'buf str,
    typ: OmType,
    typed: bool,
    help_seen: bool,
    help: Option<Cow<'buf, str>>,
    unit: Option<&'buf str>,
    sampled: bool,
    /// The model family of the main samples.
    main: Option<Family<'buf>>,
    /// The model family of `_created` samples.
    created: Option<Family<'buf>>,
    group: Group,
}

impl<'buf> Current<'buf> {
    fn role_of(&self, sample: &str) -> Option<Role> {
        if self.name.is_empty() {
            return None;
        }
        let rest = sample.strip_prefix(self.name)?;
        self.typ.samples().iter().find(|(s, _)| *s == rest).map(|&(_, r)| r)
    }
}

/// A sample name reserved by a family: `om_families[family].0 + suffix`.
#[derive(Clone, Copy)]
struct Claim {
    family: usize,
    suffix: &'static str,
}

/// One parsed sample line (its labels are kept apart, see [`parse_sample`]).
struct Sample<'buf> {
    name: &'buf str,
    value: f64,
    timestamp_ms: Option<i64>,
    /// The encoded `Exemplar` message, if the line has one.
    exemplar: Option<Vec<u8>>,
}

#[derive(Clone, Copy)]
enum Meta {
    Help,
    Type,
    Unit,
}

impl Meta {
    fn as_str(self) -> &'static str {
        match self {
            Meta::Help => "HELP",
            Meta::Type => "TYPE",
            Meta::Unit => "UNIT",
        }
    }
}

/// The label vector of the model.
type Labels<'buf> = SmallVec<[Label<'buf>; 4]>;

/// Fixed seeds: group hashes only need to be good, not secret (a crafted
/// collision can only get the crafter's own push rejected).
fn group_hasher() -> ahash::RandomState {
    ahash::RandomState::with_seeds(
        0x243F_6A88_85A3_08D3,
        0x1319_8A2E_0370_7344,
        0xA409_3822_299F_31D0,
        0x082E_FA98_EC4E_6C89,
    )
}

struct Parser<'buf> {
    line: u32,
    out: Vec<Family<'buf>>,
    cur: Current<'buf>,
    /// Name and type of every family seen, by ordinal.
    om_families: Vec<(&'buf str, OmType)>,
    /// Sample names reserved so far, by the FNV-1a hash of the full name.
    claims: HashMap<u64, SmallVec<[Claim; 1]>, ahash::RandomState>,
    /// Label-set hashes of the current family's groups so far.
    groups: HashSet<u64, ahash::RandomState>,
    hasher: ahash::RandomState,
}

impl Default for Parser<'_> {
    fn default() -> Self {
        Parser {
            line: 0,
            out: Vec::new(),
            cur: Current::default(),
            om_families: Vec::new(),
            claims: HashMap::default(),
            groups: HashSet::default(),
            hasher: group_hasher(),
        }
    }
}

impl<'buf> Parser<'buf> {
    /// `text` is the body, or its valid UTF-8 prefix when shorter than `body_len`.
    fn run(&mut self, text: &'buf str, body_len: usize) -> Result<(), Error> {
        let b = text.as_bytes();
        let mut pos = 0;
        loop {
            self.line = self.line.saturating_add(1);
            let truncated = b.len() < body_len;
            if pos >= b.len() {
                let kind = if truncated { ErrorKind::InvalidUtf8 } else { ErrorKind::MissingEof };
                return Err(Fail::bare(kind).at(self.line));
            }
            let (end, next) = match memchr::memchr(b'\n', &b[pos..]) {
                Some(n) => (pos + n, pos + n + 1),
                None if truncated => return Err(Fail::bare(ErrorKind::InvalidUtf8).at(self.line)),
                None => (b.len(), b.len()),
            };
            let line = &text[pos..end];
            if line == "# EOF" {
                self.close().map_err(|f| f.at(self.line))?;
                if next < body_len {
                    return Err(
                        Fail::bare(ErrorKind::ContentAfterEof).at(self.line.saturating_add(1))
                    );
                }
                return Ok(());
            }
            if end == next {
                // The last line lacks its `\n` and is not `# EOF`.
                return Err(Fail::bare(ErrorKind::MissingEof).at(self.line));
            }
            self.one_line(line).map_err(|f| f.at(self.line))?;
            pos = next;
        }
    }

    fn one_line(&mut self, line: &'buf str) -> Result<(), Fail> {
        match line.as_bytes().first() {
            None => Err(Fail::bare(ErrorKind::EmptyLine)),
            Some(b'#') => {
                if let Some(rest) = line.strip_prefix("# HELP ") {
                    self.metadata(Meta::Help, rest)
                } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                    self.metadata(Meta::Type, rest)
                } else if let Some(rest) = line.strip_prefix("# UNIT ") {
                    self.metadata(Meta::Unit, rest)
                } else {
                    Err(Fail::new(ErrorKind::InvalidComment, quote(line.as_bytes())))
                }
            }
            Some(_) => {
                let mut labels = SmallVec::new();
                let sample = parse_sample(line, &mut labels)?;
                self.place(sample, labels)
            }
        }
    }

    /// A `# HELP`/`# TYPE`/`# UNIT` line; `rest` follows the keyword's space.
    fn metadata(&mut self, meta: Meta, rest: &'buf str) -> Result<(), Fail> {
        let b = rest.as_bytes();
        match b.first() {
            Some(b'"') => return Err(Fail::new(ErrorKind::QuotedName, quote(b))),
            Some(&c) if is_metric_name_start(c) => {}
            _ => return Err(Fail::new(ErrorKind::InvalidMetricName, quote(first_token(b)))),
        }
        let n = name_end(b, 1, is_metric_name_cont);
        if b.get(n) != Some(&b' ') {
            let what = format!("' ' after metric name in # {} line", meta.as_str());
            return Err(unexpected(&what, rest, n));
        }
        let name = &rest[..n];
        let text = &rest[n + 1..];
        if name != self.cur.name {
            self.open(name, false)?;
        } else if self.cur.sampled {
            let d = format!("{} line for metric family {}", meta.as_str(), quote(name.as_bytes()));
            return Err(Fail::new(ErrorKind::MetadataAfterSamples, d));
        }
        let seen = match meta {
            Meta::Help => self.cur.help_seen,
            Meta::Type => self.cur.typed,
            Meta::Unit => self.cur.unit.is_some(),
        };
        if seen {
            let d = format!("{} line for metric family {}", meta.as_str(), quote(name.as_bytes()));
            return Err(Fail::new(ErrorKind::DuplicateMetadata, d));
        }
        match meta {
            Meta::Help => {
                self.cur.help_seen = true;
                let help = unescape(text)
                    .ok_or_else(|| Fail::new(ErrorKind::InvalidEscape, quote(text.as_bytes())))?;
                self.cur.help = (!help.is_empty()).then_some(help);
            }
            Meta::Type => {
                let typ = OmType::from_token(text)
                    .ok_or_else(|| Fail::new(ErrorKind::UnknownType, quote(text.as_bytes())))?;
                self.cur.typ = typ;
                self.cur.typed = true;
                self.om_families[self.cur.idx].1 = typ;
                self.claim_suffixes()?;
                check_unit_type(name, self.cur.unit, typ)?;
            }
            Meta::Unit => {
                if let Some(p) = text.bytes().position(|c| !is_metric_name_cont(c)) {
                    let d = format!(
                        "{} contains {}, not a metric name character",
                        quote(text.as_bytes()),
                        describe_at(text, p)
                    );
                    return Err(Fail::new(ErrorKind::InvalidUnit, d));
                }
                let suffix_ok = text.is_empty()
                    || name.strip_suffix(text).is_some_and(|base| base.ends_with('_'));
                if !suffix_ok {
                    let d = format!(
                        "{} is not a suffix of metric family name {} (after '_')",
                        quote(text.as_bytes()),
                        quote(name.as_bytes())
                    );
                    return Err(Fail::new(ErrorKind::InvalidUnit, d));
                }
                self.cur.unit = Some(text);
                check_unit_type(name, self.cur.unit, self.cur.typ)?;
            }
        }
        Ok(())
    }

    /// Closes the current family and starts `name` (untyped until a TYPE line).
    fn open(&mut self, name: &'buf str, by_sample: bool) -> Result<(), Fail> {
        let prev = (self.cur.idx, self.cur.name, self.cur.typ);
        self.close()?;
        if let Some(claim) = self.find_claim(name, "") {
            let (owner, owner_typ) = self.om_families[claim.family];
            let q = quote(name.as_bytes());
            if by_sample && !prev.1.is_empty() && claim.family == prev.0 {
                let expected: Vec<String> = prev
                    .2
                    .samples()
                    .iter()
                    .map(|(s, _)| quote(format!("{}{s}", prev.1).as_bytes()))
                    .collect();
                let d = format!(
                    "{q} is not a sample name of {} {} (expected {})",
                    prev.2.as_str(),
                    quote(prev.1.as_bytes()),
                    expected.join(" or ")
                );
                return Err(Fail::new(ErrorKind::SampleNameMismatch, d));
            }
            let d = if owner == name {
                format!("metric family {q} appears again (families must not be interleaved)")
            } else {
                format!(
                    "metric family {q} clashes with sample name {} of {} {}",
                    quote(format!("{owner}{}", claim.suffix).as_bytes()),
                    owner_typ.as_str(),
                    quote(owner.as_bytes())
                )
            };
            return Err(Fail::new(ErrorKind::NameClash, d));
        }
        let idx = self.om_families.len();
        self.om_families.push((name, OmType::Unknown));
        self.add_claim(idx, name, "");
        self.cur = Current { idx, name, ..Current::default() };
        Ok(())
    }

    /// Reserves the sample names of the current family's (just set) type.
    fn claim_suffixes(&mut self) -> Result<(), Fail> {
        let (idx, name, typ) = (self.cur.idx, self.cur.name, self.cur.typ);
        for &(suffix, _) in typ.samples() {
            if suffix.is_empty() {
                continue;
            }
            if let Some(claim) = self.find_claim(name, suffix) {
                let (owner, owner_typ) = self.om_families[claim.family];
                let d = format!(
                    "sample name {} of {} {} clashes with metric family {} ({})",
                    quote(format!("{name}{suffix}").as_bytes()),
                    typ.as_str(),
                    quote(name.as_bytes()),
                    quote(owner.as_bytes()),
                    owner_typ.as_str()
                );
                return Err(Fail::new(ErrorKind::NameClash, d));
            }
            self.add_claim(idx, name, suffix);
        }
        Ok(())
    }

    fn find_claim(&self, base: &str, suffix: &str) -> Option<Claim> {
        let list = self.claims.get(&fnv(base, suffix))?;
        list.iter()
            .copied()
            .find(|c| concat_eq(self.om_families[c.family].0, c.suffix, base, suffix))
    }

    fn add_claim(&mut self, family: usize, base: &str, suffix: &'static str) {
        self.claims.entry(fnv(base, suffix)).or_default().push(Claim { family, suffix });
    }

    /// Finishes the current family: its last series, then its model families.
    fn close(&mut self) -> Result<(), Fail> {
        let group = std::mem::take(&mut self.cur.group);
        self.keep_exemplars(&group);
        finish_group(&self.cur, group)?;
        if let Some(f) = self.cur.main.take() {
            self.out.push(f);
        }
        if let Some(f) = self.cur.created.take() {
            self.out.push(f);
        }
        self.groups.clear();
        Ok(())
    }

    /// Adds a parsed sample to its family.
    fn place(&mut self, s: Sample<'buf>, labels: Labels<'buf>) -> Result<(), Fail> {
        let role = match self.cur.role_of(s.name) {
            Some(r) => r,
            None => {
                self.open(s.name, true)?;
                Role::Plain
            }
        };
        let typ = self.cur.typ;
        self.cur.sampled = true;
        if s.exemplar.is_some() && !matches!(role, Role::Total | Role::Bucket) {
            return Err(Fail::new(ErrorKind::ExemplarNotAllowed, quote(s.name.as_bytes())));
        }

        // The label that is part of the value rather than of the series.
        let special: Option<&'buf str> = match (typ, role) {
            (OmType::Summary, Role::Plain) => Some("quantile"),
            (OmType::Histogram | OmType::GaugeHistogram, Role::Bucket) => Some("le"),
            (OmType::StateSet, _) => Some(self.cur.name),
            _ => None,
        };
        let special_pos = match special {
            Some(n) => Some(labels.iter().position(|l| l.name == n).ok_or_else(|| {
                let d = format!("{} sample {} has no {} label", typ.as_str(), q(s.name), q(n));
                Fail::new(ErrorKind::MissingLabel, d)
            })?),
            None => None,
        };
        let misplaced = match (typ, role) {
            (OmType::Histogram | OmType::GaugeHistogram, r) if r != Role::Bucket => Some("le"),
            (OmType::Summary, r) if r != Role::Plain => Some("quantile"),
            _ => None,
        };
        if let Some(m) = misplaced {
            if labels.iter().any(|l| l.name == m) {
                let d = format!("{} on {} sample {}", q(m), typ.as_str(), q(s.name));
                return Err(Fail::new(ErrorKind::MisplacedLabel, d));
            }
        }

        // Which series (label set less `le`/`quantile`) a summary or histogram
        // sample is of. Simple-valued families need no grouping: a label set
        // reappearing there is a duplicate series the store rejects.
        // A new timestamp in the same series starts its next MetricPoint: a
        // further merged metric with the same labels (like two timestamped
        // text lines; the store rejects timestamps anyway).
        if matches!(typ, OmType::Summary | OmType::Histogram | OmType::GaugeHistogram) {
            let hash = self.group_hash(&labels, special_pos);
            let new_series = self.cur.group.hash != Some(hash);
            if new_series || self.cur.group.timestamp_ms != s.timestamp_ms {
                let prev = std::mem::take(&mut self.cur.group);
                self.keep_exemplars(&prev);
                finish_group(&self.cur, prev)?;
                if new_series && !self.groups.insert(hash) {
                    return Err(interleaved(self.cur.name, &labels, special_pos));
                }
                self.cur.group.hash = Some(hash);
                self.cur.group.timestamp_ms = s.timestamp_ms;
            }
            self.cur.group.line = self.line;
        }

        let v = s.value;
        let bad_value = |what: &str| {
            let d = format!("{} sample {} {what}, got {v}", typ.as_str(), q(s.name));
            Fail::new(ErrorKind::InvalidSampleValue, d)
        };
        match role {
            Role::Total => {
                if v.is_nan() || v < 0.0 {
                    return Err(bad_value("must not be negative or NaN"));
                }
                self.push_simple(false, s.name, labels, v, s.timestamp_ms);
                if let Some(e) = &s.exemplar {
                    if let Some(m) = self.cur.main.as_mut().and_then(|f| f.metrics.last_mut()) {
                        m.raw_value = Some(Cow::Owned(exemplar::counter(v, e)));
                    }
                }
            }
            Role::Created => self.push_simple(true, s.name, labels, v, s.timestamp_ms),
            Role::Info => {
                if v != 1.0 {
                    return Err(bad_value("must be 1"));
                }
                self.push_simple(false, s.name, labels, v, s.timestamp_ms);
            }
            Role::Plain if typ != OmType::Summary => {
                if typ == OmType::StateSet && v != 0.0 && v != 1.0 {
                    return Err(bad_value("must be 0 or 1"));
                }
                self.push_simple(false, s.name, labels, v, s.timestamp_ms);
            }
            Role::Plain => {
                let raw = special_value(&labels, special_pos);
                let quantile = parse_go_float(raw.as_bytes())
                    .filter(|q| (0.0..=1.0).contains(q))
                    .ok_or_else(|| {
                    let d = format!("quantile {} is not a number from 0 to 1", q(raw));
                    Fail::new(ErrorKind::InvalidLabelValue, d)
                })?;
                if v < 0.0 {
                    return Err(bad_value("(a quantile) must not be negative"));
                }
                let (m, _) = self.series(labels, special_pos, s.timestamp_ms)?;
                if let Value::Summary { quantiles, .. } = &mut m.value {
                    quantiles.push((quantile, v));
                }
            }
            Role::Count | Role::GCount => {
                if !is_count(v) {
                    return Err(bad_value("(a count) must be a non-negative integer"));
                }
                let (m, h) = self.series(labels, special_pos, s.timestamp_ms)?;
                h.count = Some(v);
                if let Value::Summary { count, .. } | Value::Histogram { count, .. } = &mut m.value
                {
                    *count = go_f64_to_u64(v);
                }
            }
            Role::Sum | Role::GSum => {
                if v.is_nan() || (role == Role::Sum && v < 0.0) {
                    return Err(bad_value("(a sum) must not be NaN or negative"));
                }
                let (m, h) = self.series(labels, special_pos, s.timestamp_ms)?;
                h.sum = Some(v);
                if let Value::Summary { sum, .. } | Value::Histogram { sum, .. } = &mut m.value {
                    *sum = v;
                }
            }
            Role::Bucket => {
                let raw = special_value(&labels, special_pos);
                let le =
                    parse_go_float(raw.as_bytes()).filter(|le| !le.is_nan()).ok_or_else(|| {
                        let d = format!("le {} is not a number", q(raw));
                        Fail::new(ErrorKind::InvalidLabelValue, d)
                    })?;
                if !is_count(v) {
                    return Err(bad_value("(a bucket) must be a non-negative integer"));
                }
                let h = &self.cur.group.hist;
                if h.last_le.is_some_and(|last| le <= last) {
                    let d = format!(
                        "{}: le {} follows a bucket with a larger or equal le (buckets must be sorted)",
                        q(self.cur.name),
                        q(raw)
                    );
                    return Err(Fail::new(ErrorKind::InvalidHistogram, d));
                }
                if h.last_le.is_some() && v < h.last_bucket {
                    let d = format!(
                        "{}: bucket le {} holds {v}, less than the previous bucket's {} (buckets are cumulative)",
                        q(self.cur.name),
                        q(raw),
                        h.last_bucket
                    );
                    return Err(Fail::new(ErrorKind::InvalidHistogram, d));
                }
                let (m, h) = self.series(labels, special_pos, s.timestamp_ms)?;
                h.last_le = Some(le);
                h.last_bucket = v;
                h.negative_le |= le < 0.0;
                if le == f64::INFINITY {
                    h.inf = Some(v);
                }
                let mut at = None;
                if let Value::Histogram { buckets, .. } = &mut m.value {
                    at = Some(buckets.len());
                    buckets.push((le, go_f64_to_u64(v)));
                }
                if let (Some(at), Some(e)) = (at, s.exemplar) {
                    self.cur.group.exemplars.push((at, e));
                }
            }
        }
        Ok(())
    }

    /// Gives a finished histogram series with bucket exemplars the value
    /// bytes that carry them (see [`exemplar`]).
    fn keep_exemplars(&mut self, group: &Group) {
        if group.exemplars.is_empty() {
            return;
        }
        let Some(m) = group.metric.and_then(|i| self.cur.main.as_mut()?.metrics.get_mut(i)) else {
            return;
        };
        if let Value::Histogram { count, sum, buckets } = &m.value {
            m.raw_value =
                Some(Cow::Owned(exemplar::histogram(*count, *sum, buckets, &group.exemplars)));
        }
    }

    /// Appends a simple-valued series to the main or `_created` model family.
    fn push_simple(
        &mut self,
        created: bool,
        name: &'buf str,
        labels: Labels<'buf>,
        v: f64,
        timestamp_ms: Option<i64>,
    ) {
        let cur = &mut self.cur;
        let (slot, typ) = if created {
            (&mut cur.created, MetricType::Gauge)
        } else {
            (&mut cur.main, cur.typ.model_type())
        };
        let help = &cur.help;
        let family = slot.get_or_insert_with(|| new_family(name, help, typ));
        family.metrics.push(Metric {
            labels,
            value: Value::Simple(v),
            timestamp_ms,
            raw_value: None,
        });
    }

    /// The current group's merged summary/histogram series (created on its
    /// first sample) and the group's histogram rule state.
    fn series(
        &mut self,
        mut labels: Labels<'buf>,
        special_pos: Option<usize>,
        timestamp_ms: Option<i64>,
    ) -> Result<(&mut Metric<'buf>, &mut HistState), Fail> {
        let cur = &mut self.cur;
        let typ = cur.typ.model_type();
        let (name, help) = (cur.name, &cur.help);
        let family = cur.main.get_or_insert_with(|| new_family(name, help, typ));
        let group = &mut cur.group;
        let idx = match group.metric {
            Some(idx) => {
                if !same_label_set(&family.metrics[idx].labels, &labels, special_pos) {
                    // Only a hash collision gets here.
                    return Err(interleaved(name, &labels, special_pos));
                }
                idx
            }
            None => {
                if let Some(p) = special_pos {
                    labels.remove(p);
                }
                let value = if typ == MetricType::Summary {
                    Value::Summary { count: 0, sum: 0.0, quantiles: Vec::new() }
                } else {
                    Value::Histogram { count: 0, sum: 0.0, buckets: Vec::new() }
                };
                family.metrics.push(Metric { labels, value, timestamp_ms: None, raw_value: None });
                group.metric = Some(family.metrics.len() - 1);
                family.metrics.len() - 1
            }
        };
        let metric = &mut family.metrics[idx];
        if timestamp_ms.is_some() {
            metric.timestamp_ms = timestamp_ms;
        }
        Ok((metric, &mut group.hist))
    }

    /// Order-independent hash of `labels` without the one at `skip`.
    fn group_hash(&self, labels: &[Label<'_>], skip: Option<usize>) -> u64 {
        let mut acc: u64 = 0;
        let mut n: u64 = 0;
        for (i, l) in labels.iter().enumerate() {
            if Some(i) != skip {
                acc = acc.wrapping_add(self.hasher.hash_one((&*l.name, &*l.value)));
                n += 1;
            }
        }
        self.hasher.hash_one((acc, n))
    }
}

fn new_family<'buf>(
    name: &'buf str,
    help: &Option<Cow<'buf, str>>,
    typ: MetricType,
) -> Family<'buf> {
    Family {
        name: Cow::Borrowed(name),
        help: help.clone(),
        typ,
        metrics: Vec::new(),
        problems: Vec::new(),
    }
}

/// Checks the rules that need a whole histogram series, when it ends.
fn finish_group(cur: &Current<'_>, group: Group) -> Result<(), Fail> {
    if group.hash.is_none() || !cur.typ.is_histogram() {
        return Ok(());
    }
    let gauge = cur.typ == OmType::GaugeHistogram;
    let (count_name, sum_name) = if gauge { ("_gcount", "_gsum") } else { ("_count", "_sum") };
    let h = &group.hist;
    let labels = group
        .metric
        .and_then(|i| cur.main.as_ref()?.metrics.get(i))
        .map(|m| describe_labels(&m.labels))
        .unwrap_or_default();
    let series = format!("{}{labels}", q(cur.name));
    let problem = match h.inf {
        None => Some(format!("{series} has no bucket with le=\"+Inf\"")),
        Some(inf) => match h.count {
            Some(c) if c != inf => {
                Some(format!("{series}: {count_name} is {c}, the +Inf bucket {inf}"))
            }
            _ if h.count.is_some() != h.sum.is_some() => Some(format!(
                "{series}: {count_name} and {sum_name} must be both present or both absent"
            )),
            _ if !gauge && h.negative_le && h.sum.is_some() => {
                Some(format!("{series} has negative buckets, so it must not have {sum_name}"))
            }
            _ if gauge && !h.negative_le && h.sum.is_some_and(|s| s < 0.0) => {
                Some(format!("{series}: negative {sum_name} needs a bucket with negative le"))
            }
            _ => None,
        },
    };
    match problem {
        None => Ok(()),
        Some(d) => {
            Err(Fail { kind: ErrorKind::InvalidHistogram, detail: d, line: Some(group.line) })
        }
    }
}

/// Info and stateset families must not have a unit (spec).
fn check_unit_type(name: &str, unit: Option<&str>, typ: OmType) -> Result<(), Fail> {
    match unit {
        Some(u) if !u.is_empty() && matches!(typ, OmType::Info | OmType::StateSet) => {
            let d = format!("{} {} must not have a unit", typ.as_str(), q(name));
            Err(Fail::new(ErrorKind::InvalidUnit, d))
        }
        _ => Ok(()),
    }
}

#[cold]
fn interleaved(family: &str, labels: &[Label<'_>], skip: Option<usize>) -> Fail {
    let kept: Vec<Label<'_>> = labels
        .iter()
        .enumerate()
        .filter(|&(i, _)| Some(i) != skip)
        .map(|(_, l)| l.clone())
        .collect();
    let d = format!(
        "series {}{} appears again after other series of its family",
        q(family),
        describe_labels(&kept)
    );
    Fail::new(ErrorKind::Interleaved, d)
}

/// `{a="x",b="y"}` for messages.
fn describe_labels(labels: &[Label<'_>]) -> String {
    let parts: Vec<String> = labels.iter().map(|l| format!("{}={}", l.name, q(&l.value))).collect();
    format!("{{{}}}", parts.join(","))
}

fn special_value<'a>(labels: &'a [Label<'_>], pos: Option<usize>) -> &'a str {
    pos.and_then(|p| labels.get(p)).map(|l| &*l.value).unwrap_or_default()
}

/// Whether `a` equals `b` without its label at `skip`, in any order.
fn same_label_set(a: &[Label<'_>], b: &[Label<'_>], skip: Option<usize>) -> bool {
    let kept = || b.iter().enumerate().filter(move |&(i, _)| Some(i) != skip).map(|(_, l)| l);
    a.len() == b.len() - usize::from(skip.is_some())
        && (a.iter().zip(kept()).all(|(x, y)| x == y) || a.iter().all(|x| kept().any(|y| x == y)))
}

/// Parses one sample line (syntax only); its labels go to `labels` (filled
/// in place: the model's label vector is large to move).
fn parse_sample<'buf>(s: &'buf str, labels: &mut Labels<'buf>) -> Result<Sample<'buf>, Fail> {
    let b = s.as_bytes();
    match b.first() {
        Some(&c) if is_metric_name_start(c) => {}
        Some(b'{') if b.get(1) == Some(&b'"') => {
            return Err(Fail::new(ErrorKind::QuotedName, quote(b)));
        }
        _ => return Err(Fail::new(ErrorKind::InvalidMetricName, quote(first_token(b)))),
    }
    let mut i = name_end(b, 1, is_metric_name_cont);
    let name = &s[..i];
    if b.get(i) == Some(&b'{') {
        i = scan_labels(s, i, |lname, raw, escaped| {
            if lname == "__name__" {
                return Err(Fail::bare(ErrorKind::ReservedLabelName));
            }
            if labels.iter().any(|l| l.name == lname) {
                return Err(Fail::new(ErrorKind::DuplicateLabelName, q(lname)));
            }
            let value = if escaped { Cow::Owned(unescape_owned(raw)) } else { Cow::Borrowed(raw) };
            labels.push(Label { name: Cow::Borrowed(lname), value });
            Ok(())
        })?;
        if b.get(i) != Some(&b' ') {
            return Err(unexpected("' ' after labels", s, i));
        }
    } else if b.get(i) != Some(&b' ') {
        return Err(unexpected("' ' or '{' after metric name", s, i));
    }
    i += 1;
    let vend = token_end(b, i);
    let value = parse_go_float(&b[i..vend])
        .ok_or_else(|| Fail::new(ErrorKind::InvalidValue, quote(&b[i..vend])))?;
    i = vend;
    let mut timestamp_ms = None;
    let mut exemplar = None;
    if i < b.len() {
        i += 1;
        if !b[i..].starts_with(b"# ") {
            let tend = token_end(b, i);
            timestamp_ms = Some(parse_timestamp(&b[i..tend])?);
            i = tend;
            if i < b.len() {
                i += 1;
                if !b[i..].starts_with(b"# ") {
                    return Err(unexpected("\"# \" (an exemplar) after timestamp", s, i));
                }
            }
        }
        if i < b.len() {
            exemplar = Some(parse_exemplar(s, i + 2)?);
        }
    }
    Ok(Sample { name, value, timestamp_ms, exemplar })
}

/// The exemplar after ` # ` (at `i`): `{labels} value [timestamp]` to the
/// end of the line, encoded as an `Exemplar` message.
fn parse_exemplar(s: &str, mut i: usize) -> Result<Vec<u8>, Fail> {
    let b = s.as_bytes();
    if b.get(i) != Some(&b'{') {
        return Err(unexpected("'{' starting the exemplar labels", s, i));
    }
    let mut labels: SmallVec<[(&str, Cow<'_, str>); 4]> = SmallVec::new();
    let mut chars = 0usize;
    i = scan_labels(s, i, |lname, raw, escaped| {
        if labels.iter().any(|(n, _)| *n == lname) {
            return Err(Fail::new(ErrorKind::DuplicateLabelName, q(lname)));
        }
        let value = if escaped { Cow::Owned(unescape_owned(raw)) } else { Cow::Borrowed(raw) };
        chars += lname.len() + value.chars().count();
        labels.push((lname, value));
        Ok(())
    })?;
    if chars > 128 {
        return Err(Fail::new(ErrorKind::ExemplarTooLong, chars.to_string()));
    }
    if b.get(i) != Some(&b' ') {
        return Err(unexpected("' ' after exemplar labels", s, i));
    }
    i += 1;
    let vend = token_end(b, i);
    let value = parse_go_float(&b[i..vend])
        .ok_or_else(|| Fail::new(ErrorKind::InvalidExemplarValue, quote(&b[i..vend])))?;
    i = vend;
    let mut timestamp_ms = None;
    if i < b.len() {
        i += 1;
        let tend = token_end(b, i);
        timestamp_ms = Some(parse_timestamp(&b[i..tend])?);
        if tend < b.len() {
            return Err(unexpected("end of line after exemplar timestamp", s, tend));
        }
    }
    Ok(exemplar::encode(&labels, value, timestamp_ms))
}

/// A label set starting with the `{` at `i`; calls `each(name, raw value,
/// has escapes)` per label and returns the index after the `}`.
fn scan_labels<'buf>(
    s: &'buf str,
    mut i: usize,
    mut each: impl FnMut(&'buf str, &'buf str, bool) -> Result<(), Fail>,
) -> Result<usize, Fail> {
    let b = s.as_bytes();
    i += 1;
    if b.get(i) == Some(&b'}') {
        return Ok(i + 1);
    }
    loop {
        match b.get(i) {
            Some(b'"') => return Err(Fail::new(ErrorKind::QuotedName, quote(&b[i..]))),
            Some(&c) if is_label_name_start(c) => {}
            _ => {
                let end = b[i..]
                    .iter()
                    .position(|&c| matches!(c, b'=' | b',' | b'}' | b' '))
                    .map_or(b.len(), |p| i + p);
                return Err(Fail::new(ErrorKind::InvalidLabelName, quote(&b[i..end])));
            }
        }
        let e = name_end(b, i + 1, is_label_name_cont);
        let name = &s[i..e];
        if b.get(e) != Some(&b'=') {
            return Err(unexpected("'=' after label name", s, e));
        }
        if b.get(e + 1) != Some(&b'"') {
            return Err(unexpected("'\"' starting the label value", s, e + 1));
        }
        let start = e + 2;
        let (close, escaped) = scan_label_value(b, start)?;
        each(name, &s[start..close], escaped)?;
        i = close + 1;
        match b.get(i) {
            Some(b'}') => return Ok(i + 1),
            Some(b',') if b.get(i + 1) == Some(&b'}') => return Ok(i + 2),
            Some(b',') => i += 1,
            _ => return Err(unexpected("',' or '}' after label value", s, i)),
        }
    }
}

/// The closing quote of a label value starting at `start`, and whether the
/// value contains a backslash.
fn scan_label_value(b: &[u8], start: usize) -> Result<(usize, bool), Fail> {
    let mut escaped = false;
    let mut from = start;
    loop {
        let at = find_quote_or_backslash(&b[from..]).map(|p| from + p);
        match at {
            Some(at) if b[at] == b'"' => return Ok((at, escaped)),
            Some(at) if at + 1 < b.len() => {
                escaped = true;
                from = at + 2;
            }
            _ => return Err(Fail::new(ErrorKind::UnterminatedLabelValue, quote(&b[start..]))),
        }
    }
}

/// `memchr2(b'"', b'\\', s)` with a scalar start: most label values are short.
#[inline]
fn find_quote_or_backslash(s: &[u8]) -> Option<usize> {
    let head = s.len().min(16);
    match s[..head].iter().position(|&c| c == b'"' || c == b'\\') {
        Some(p) => Some(p),
        None => memchr::memchr2(b'"', b'\\', &s[head..]).map(|p| p + head),
    }
}

/// Decodes `\\`, `\"` and `\n`, keeping other backslashes; `None` if the
/// text ends with a lone backslash.
fn unescape(raw: &str) -> Option<Cow<'_, str>> {
    if memchr::memchr(b'\\', raw.as_bytes()).is_none() {
        return Some(Cow::Borrowed(raw));
    }
    if raw.bytes().rev().take_while(|&c| c == b'\\').count() % 2 == 1 {
        return None;
    }
    Some(Cow::Owned(unescape_owned(raw)))
}

/// [`unescape`] for text known not to end with a lone backslash.
fn unescape_owned(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(p) = memchr::memchr(b'\\', rest.as_bytes()) {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        let (decoded, skip) = match after.as_bytes().first() {
            Some(b'n') => ("\n", 1),
            Some(b'"') => ("\"", 1),
            Some(b'\\') => ("\\", 1),
            _ => ("\\", 0),
        };
        out.push_str(decoded);
        rest = &after[skip..];
    }
    out.push_str(rest);
    out
}

/// A timestamp token: a finite number of seconds, as Prometheus' `int64(ts *
/// 1000)` in milliseconds (amd64: truncation, out of range → `i64::MIN`).
fn parse_timestamp(token: &[u8]) -> Result<i64, Fail> {
    let secs = parse_go_float(token)
        .filter(|t| t.is_finite())
        .ok_or_else(|| Fail::new(ErrorKind::InvalidTimestamp, quote(token)))?;
    let ms = secs * 1000.0;
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    Ok(if (-LIMIT..LIMIT).contains(&ms) { ms as i64 } else { i64::MIN })
}

/// Counts and bucket values: non-negative integers (not NaN or infinite).
fn is_count(v: f64) -> bool {
    v >= 0.0 && v.fract() == 0.0
}

fn unexpected(what: &str, s: &str, i: usize) -> Fail {
    Fail::new(ErrorKind::Unexpected, format!("{what}, got {}", describe_at(s, i)))
}

/// The character at byte `i` for messages (`'x'`, or `end of line`).
fn describe_at(s: &str, i: usize) -> String {
    match s.get(i..).and_then(|r| r.chars().next()) {
        Some(c) => format!("{c:?}"),
        None => "end of line".to_owned(),
    }
}

/// Go-quoted text for messages.
fn q(s: &str) -> String {
    quote(s.as_bytes())
}

/// The bytes up to the next space (for messages).
fn first_token(b: &[u8]) -> &[u8] {
    &b[..token_end(b, 0)]
}

/// The index of the next space at or after `i`, or the end.
fn token_end(b: &[u8], i: usize) -> usize {
    b.get(i..).and_then(|r| memchr::memchr(b' ', r)).map_or(b.len(), |p| i + p)
}

fn name_end(b: &[u8], mut i: usize, cont: fn(u8) -> bool) -> usize {
    while i < b.len() && cont(b[i]) {
        i += 1;
    }
    i
}

fn is_label_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_label_name_cont(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_metric_name_start(b: u8) -> bool {
    is_label_name_start(b) || b == b':'
}

fn is_metric_name_cont(b: u8) -> bool {
    is_label_name_cont(b) || b == b':'
}

/// FNV-1a of `base` followed by `suffix` (streaming, so equal concatenations
/// hash alike however they are split).
fn fnv(base: &str, suffix: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in base.as_bytes().iter().chain(suffix.as_bytes()) {
        h = (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Whether `a1 + a2 == b1 + b2`.
fn concat_eq(a1: &str, a2: &str, b1: &str, b2: &str) -> bool {
    a1.len() + a2.len() == b1.len() + b2.len()
        && a1.bytes().chain(a2.bytes()).eq(b1.bytes().chain(b2.bytes()))
}
