//! Zero-copy parser of the Prometheus text exposition format 0.0.4.
//!
//! Owns the text-format push path: turning a whole request body into the
//! borrowed [`Family`] model, accepting and rejecting exactly what the Go
//! Pushgateway 1.5.1 accepts and rejects (prometheus/common v0.37.0
//! `expfmt.TextParser`), with byte-identical error messages and line numbers.
//! Tokens borrow the body; only label values and HELP texts that contained an
//! escape sequence are copied. Two paths read a line:
//! - the fast path (`text/fast.rs`) takes a plain sample line, the shape
//!   nearly every line a client writes has (`name{a="x"} 1`: no blanks but
//!   before the value, no escapes, no timestamp), split from byte-class
//!   bitmasks; anything it is not sure of goes to
//! - the general path, which follows the Go state machine step by step,
//!   because which error wins (and whether a missing final newline is
//!   reported instead) depends on the exact order in which Go reads bytes.
//!
//! Both produce the same families; tests and the fuzz target hold the fast
//! path to the general one (`parse_general_only`).
//!
//! With [`NameValidation::Utf8`] (`--push.enable-utf8-names`, spec 3.6) the
//! parser also reads quoted names, the syntax of text format 1.0.0 and of
//! prometheus/common ≥ 0.56: `{"my.metric", "label.name"="v"} 1`,
//! `"my.metric"{a="b"} 1`, `m{"label.name"="v"} 1`, and `# HELP "my.metric"
//! text` / `# TYPE "my.metric" gauge`. A quoted name is any non-empty UTF-8
//! with the label-value escapes `\\`, `\"` and `\n`; messages are Go's. Two
//! simplifications against Go's lexer, on bodies no encoder writes: inside
//! braces the metric name must come first (Go also takes it after labels),
//! and a quote cannot continue an unquoted name (Go reads `a"b"` as `ab`).
//! Without the flag nothing changes: a `{` or `"` where a name starts is the
//! 1.5.1 error it always was.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use smallvec::SmallVec;

use super::escape::NameValidation;
use super::family::{Family, Label, Metric, MetricType, Value};
use crate::gofmt::quote;

mod fast;
mod lemire;
#[cfg(test)]
mod naive;
mod scan;

use scan::NameClass;

/// Why a text body was rejected. Each kind is one message of the Go parser;
/// the variable part of the message (already quoted Go-style) is
/// [`Error::detail`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `unexpected end of input stream`: the body ended inside a line (the
    /// last line lacks its `\n`). No detail.
    UnexpectedEof,
    /// `invalid metric name`: a sample line does not start with a metric name.
    /// No detail.
    InvalidMetricName,
    /// `invalid metric name in comment`: the name in a `# HELP`/`# TYPE` line
    /// is followed by something other than a blank. No detail.
    InvalidMetricNameInComment,
    /// `invalid label name for metric {detail}`; detail is the quoted family name.
    InvalidLabelName,
    /// `label name "__name__" is reserved`. No detail.
    ReservedLabelName,
    /// `expected '=' after label name, found {detail}`; detail is the offending
    /// byte as Go's `%q` prints a byte (`':'`).
    ExpectedEquals,
    /// `duplicate label names for metric {detail}`; detail is the quoted family name.
    DuplicateLabelName,
    /// `expected '"' at start of label value, found {detail}`; detail as for
    /// [`ErrorKind::ExpectedEquals`].
    ExpectedQuote,
    /// `invalid escape sequence '\{detail}'`; detail is the escaped byte as
    /// Go's `%c` prints it (a raw character).
    InvalidEscape,
    /// `label value {detail} contains unescaped new-line`; detail is the quoted
    /// value read so far.
    UnescapedNewline,
    /// `invalid label value {detail}`: the label value is not valid UTF-8;
    /// detail is the quoted value.
    InvalidLabelValue,
    /// `expected float as value for 'quantile' label, got {detail}`.
    InvalidQuantile,
    /// `expected float as value for 'le' label, got {detail}`.
    InvalidBucket,
    /// `unexpected end of label value {detail}`: a label value is followed by
    /// something other than `,` or `}`; detail is the quoted value.
    UnexpectedEndOfLabelValue,
    /// `expected float as value, got {detail}`; detail is the quoted token.
    InvalidValue,
    /// `expected integer as timestamp, got {detail}`; detail is the quoted token.
    InvalidTimestamp,
    /// `spurious string after timestamp: {detail}`; detail is the quoted rest
    /// of the line (starting with the blank after the timestamp, backslashes
    /// removed as Go does).
    SpuriousAfterTimestamp,
    /// `second HELP line for metric name {detail}`; detail is the quoted family name.
    SecondHelp,
    /// `second TYPE line for metric name {detail}, or TYPE reported after
    /// samples`; detail is the quoted family name.
    SecondType,
    /// `unknown metric type {detail}`; detail is the quoted rest of the line.
    UnknownType,
    /// `metric name {detail} contains unescaped new-line` (UTF-8 names only):
    /// a quoted metric name runs into the end of its line; detail is the
    /// quoted name read so far.
    MetricNameNewline,
    /// `label name {detail} contains unescaped new-line` (UTF-8 names only),
    /// as [`ErrorKind::MetricNameNewline`] for a quoted label name (or a name
    /// right after `{`, which Go reads as a label name first).
    LabelNameNewline,
    /// `invalid metric name {detail}` (UTF-8 names only): a quoted metric
    /// name is empty (in a comment) or not UTF-8; detail is the quoted name.
    InvalidQuotedMetricName,
    /// `invalid label name {detail}` (UTF-8 names only): a quoted label name
    /// is not UTF-8; detail is the quoted name.
    InvalidQuotedLabelName,
    /// `multiple metric names for metric {detail}` (UTF-8 names only): in
    /// `{"name", …}` a later name is not followed by `=`; detail is the
    /// quoted family name.
    MultipleMetricNames,
    /// `unexpected end of metric name {detail}` (UTF-8 names only): the name
    /// after `{` is followed by something other than `,`, `}` or `=`; detail
    /// as for [`ErrorKind::ExpectedEquals`].
    UnexpectedEndOfMetricName,
}

/// A rejected text body: where and why, formatted exactly like Go's
/// `expfmt.ParseError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// 1-based line number where the Go parser detects the problem.
    pub line: u32,
    /// Which message.
    pub kind: ErrorKind,
    /// The already-quoted variable part of the message (empty if none).
    pub detail: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "text format parsing error in line {}: ", self.line)?;
        let d = &self.detail;
        match self.kind {
            ErrorKind::UnexpectedEof => f.write_str("unexpected end of input stream"),
            ErrorKind::InvalidMetricName => f.write_str("invalid metric name"),
            ErrorKind::InvalidMetricNameInComment => f.write_str("invalid metric name in comment"),
            ErrorKind::InvalidLabelName => write!(f, "invalid label name for metric {d}"),
            ErrorKind::ReservedLabelName => f.write_str("label name \"__name__\" is reserved"),
            ErrorKind::ExpectedEquals => write!(f, "expected '=' after label name, found {d}"),
            ErrorKind::DuplicateLabelName => write!(f, "duplicate label names for metric {d}"),
            ErrorKind::ExpectedQuote => {
                write!(f, "expected '\"' at start of label value, found {d}")
            }
            ErrorKind::InvalidEscape => write!(f, "invalid escape sequence '\\{d}'"),
            ErrorKind::UnescapedNewline => write!(f, "label value {d} contains unescaped new-line"),
            ErrorKind::InvalidLabelValue => write!(f, "invalid label value {d}"),
            ErrorKind::InvalidQuantile => {
                write!(f, "expected float as value for 'quantile' label, got {d}")
            }
            ErrorKind::InvalidBucket => {
                write!(f, "expected float as value for 'le' label, got {d}")
            }
            ErrorKind::UnexpectedEndOfLabelValue => write!(f, "unexpected end of label value {d}"),
            ErrorKind::InvalidValue => write!(f, "expected float as value, got {d}"),
            ErrorKind::InvalidTimestamp => write!(f, "expected integer as timestamp, got {d}"),
            ErrorKind::SpuriousAfterTimestamp => write!(f, "spurious string after timestamp: {d}"),
            ErrorKind::SecondHelp => write!(f, "second HELP line for metric name {d}"),
            ErrorKind::SecondType => {
                write!(f, "second TYPE line for metric name {d}, or TYPE reported after samples")
            }
            ErrorKind::UnknownType => write!(f, "unknown metric type {d}"),
            ErrorKind::MetricNameNewline => {
                write!(f, "metric name {d} contains unescaped new-line")
            }
            ErrorKind::LabelNameNewline => write!(f, "label name {d} contains unescaped new-line"),
            ErrorKind::InvalidQuotedMetricName => write!(f, "invalid metric name {d}"),
            ErrorKind::InvalidQuotedLabelName => write!(f, "invalid label name {d}"),
            ErrorKind::MultipleMetricNames => write!(f, "multiple metric names for metric {d}"),
            ErrorKind::UnexpectedEndOfMetricName => {
                write!(f, "unexpected end of metric name {d}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Parses a whole text-format body.
///
/// Families come back in order of first appearance (a `# HELP`/`# TYPE` line
/// counts), merged by name; families without samples are dropped. Summary and
/// histogram lines (`_sum`, `_count`, `_bucket`, `quantile`/`le` labels) are
/// merged into one [`Metric`] per label set as Go does. A family declared
/// `gauge_histogram` (which Go's parser accepts but cannot fill) gets one
/// metric per sample line, all labels kept, value an empty
/// [`Value::Histogram`]: Go discards the sample value there.
pub fn parse(body: &[u8]) -> Result<Vec<Family<'_>>, Error> {
    parse_with(body, NameValidation::Legacy)
}

/// [`parse`] with a name validation scheme: [`NameValidation::Utf8`] also
/// reads quoted names (see the module docs); [`NameValidation::Legacy`] is
/// [`parse`].
///
/// # Errors
/// As [`parse`], plus the quoted-name messages of [`ErrorKind`].
pub fn parse_with(body: &[u8], names: NameValidation) -> Result<Vec<Family<'_>>, Error> {
    Parser { utf8_names: names == NameValidation::Utf8, ..Parser::default() }.families(body)
}

/// [`parse_with`] with every line on the general path: the reference that
/// tests and fuzzing hold the fast path of plain sample lines to.
pub(crate) fn parse_general_only(
    body: &[u8],
    names: NameValidation,
) -> Result<Vec<Family<'_>>, Error> {
    let utf8_names = names == NameValidation::Utf8;
    Parser { utf8_names, slow_only: true, ..Parser::default() }.families(body)
}

/// An error before its line number is known.
struct Fail {
    kind: ErrorKind,
    detail: String,
}

impl Fail {
    const EOF: Fail = Fail { kind: ErrorKind::UnexpectedEof, detail: String::new() };

    #[cold]
    fn new(kind: ErrorKind, detail: String) -> Fail {
        Fail { kind, detail }
    }

    fn at(self, line: u32) -> Error {
        Error { line, kind: self.kind, detail: self.detail }
    }
}

/// One line of the body without its `\n`. Position `s.len()` stands for the
/// `\n` or, if the body ended without one (`eof`), for the end of input.
struct Line<'buf> {
    s: &'buf [u8],
    eof: bool,
    /// `s` as text when it is valid UTF-8 (nearly always), so that tokens
    /// need no UTF-8 check of their own.
    text: Option<&'buf str>,
}

impl<'buf> Line<'buf> {
    /// `body_text` is the whole body as text if it is valid UTF-8.
    fn new(s: &'buf [u8], eof: bool, at: usize, body_text: Option<&'buf str>) -> Line<'buf> {
        let text = match body_text {
            Some(t) => t.get(at..at + s.len()),
            None => std::str::from_utf8(s).ok(),
        };
        Line { s, eof, text }
    }

    /// `s[a..b]` as text, `None` if it is not valid UTF-8.
    #[inline]
    fn str(&self, a: usize, b: usize) -> Option<&'buf str> {
        match self.text {
            Some(t) => t.get(a..b),
            None => std::str::from_utf8(self.s.get(a..b)?).ok(),
        }
    }

    /// The byte Go would read at position `i`: `\n` past the end, or the
    /// end-of-input error.
    #[inline]
    fn byte(&self, i: usize) -> Result<u8, Fail> {
        match self.s.get(i) {
            Some(&b) => Ok(b),
            None if self.eof => Err(Fail::EOF),
            None => Ok(b'\n'),
        }
    }

    /// Go's `skipBlankTab` with the current byte at `i`: reads on from `i + 1`
    /// and returns the first non-blank position and byte.
    #[inline]
    fn skip_blanks_after(&self, i: usize) -> Result<(usize, u8), Fail> {
        self.skip_blanks_from(i + 1)
    }

    /// Like [`Line::skip_blanks_after`] but `i` itself is the first candidate
    /// (Go's `skipBlankTabIfCurrentBlankTab`).
    #[inline]
    fn skip_blanks_from(&self, mut i: usize) -> Result<(usize, u8), Fail> {
        loop {
            let b = self.byte(i)?;
            if !is_blank(b) {
                return Ok((i, b));
            }
            i += 1;
        }
    }

    /// Go's `readTokenUntilWhitespace` with the first byte at `i`: returns the
    /// end of the token (a blank or `s.len()`).
    #[inline]
    fn token_end(&self, i: usize) -> Result<usize, Fail> {
        let j = i + scan::blank_at(self.s.get(i..).unwrap_or_default());
        if j == self.s.len() && self.eof {
            return Err(Fail::EOF);
        }
        Ok(j)
    }

    /// Go's `readTokenAs{Metric,Label}Name` with the first byte at `i`, which
    /// the caller checked to be a valid start byte. Returns the end.
    #[inline]
    fn name_end(&self, i: usize, class: NameClass) -> Result<usize, Fail> {
        let j = i + 1 + scan::name_len(self.s.get(i + 1..).unwrap_or_default(), class);
        if j == self.s.len() && self.eof {
            return Err(Fail::EOF);
        }
        Ok(j)
    }
}

/// Which sample of a summary or histogram a line carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// The family's own name or `_bucket`: a quantile or bucket if the line has
    /// a `quantile`/`le` label.
    Plain,
    /// `_count` of a summary or histogram.
    Count,
    /// `_sum` of a summary or histogram.
    Sum,
}

/// Per-family parser state not kept in [`Family`].
#[derive(Default)]
struct Meta<'buf> {
    /// A TYPE line or a sample fixed the type (Go: `Type != nil`).
    typed: bool,
    /// Last summary/histogram series merged into, the common next target.
    last_series: Option<usize>,
    /// The summary/histogram series the last plain line went to, with that
    /// line's label text (see [`series_key`]): a plain line with the same
    /// text goes to the same series, without reading its labels again.
    last_plain: Option<(usize, SeriesKey<'buf>)>,
    /// The `le` (or `quantile`) texts of the plain lines of a series, in
    /// line order, with their values: the series of a family mostly have
    /// the same buckets (quantiles), so the next series' texts compare
    /// equal at the same positions and need no reading as floats.
    specials: Vec<(&'buf str, f64)>,
    /// The position in [`Meta::specials`] of the next such text of the
    /// series [`Meta::last_plain`] names.
    special_at: usize,
    /// The family's series are in `Parser::series` (once there are more
    /// than [`SERIES_SCAN`]; before, they are scanned).
    indexed: bool,
}

impl<'buf> Meta<'buf> {
    /// The float of `text`, the next `le` (or `quantile`) value of the
    /// series [`Meta::last_plain`] names: from [`Meta::specials`] when the
    /// text there is the same, else read (and remembered if it is a float).
    #[inline(always)]
    fn special(&mut self, text: &'buf str) -> Option<f64> {
        if let Some(&(known, v)) = self.specials.get(self.special_at) {
            // (Empty is not a float, and is what a position holds before
            // its first text.)
            if !text.is_empty() && short_eq(known.as_bytes(), text.as_bytes()) {
                self.special_at += 1;
                return Some(v);
            }
        }
        let v = parse_go_float(text.as_bytes())?;
        self.remember_special(text, v);
        Some(v)
    }

    /// Records `text` (value `v`) at the next position of the series.
    fn remember_special(&mut self, text: &'buf str, v: f64) {
        let at = self.special_at;
        if at >= self.specials.len() {
            self.specials.resize(at + 1, ("", f64::NAN));
        }
        self.specials[at] = (text, v);
        self.special_at = at + 1;
    }
}

/// Whether `a` and `b` are equal, compared inline when short (`le` and
/// `quantile` texts are a few bytes, where a call to `memcmp` costs more
/// than the comparison).
#[inline(always)]
fn short_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 16 {
        return a == b;
    }
    a.iter().zip(b).fold(true, |same, (x, y)| same & (x == y))
}

/// Up to this many families, names are looked up by a scan.
const LINEAR_LOOKUP: usize = 8;

/// Up to this many series of a summary or histogram family, label sets are
/// looked up by a scan. Fewer than families: comparing two label sets
/// takes a string comparison per label name and value, and a new series is
/// compared with every one before it (on a node_exporter body, 8 rather
/// than 4 cost ~2% of the parse).
const SERIES_SCAN: usize = 4;

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[derive(Default)]
struct Parser<'buf> {
    line: u32,
    /// Every line takes the general path (the tests' reference for
    /// [`fast`]).
    slow_only: bool,
    /// Quoted names are read ([`NameValidation::Utf8`]).
    utf8_names: bool,
    families: Vec<Family<'buf>>,
    meta: Vec<Meta<'buf>>,
    /// Owned keys only for quoted names that contained an escape sequence.
    /// Filled once there are more than [`LINEAR_LOOKUP`] families.
    by_name: FxMap<Cow<'buf, str>, usize>,
    /// Last names resolved and their results (a histogram's `_bucket`,
    /// `_sum` and `_count` lines take turns). A name's resolution never
    /// changes once made: the exact name is looked up first, and a name
    /// only resolves to another family (as its `_sum`, `_count` or
    /// `_bucket`) once that family is typed, which it can be only once; a
    /// name resolved before then created a family of its own, which it
    /// resolves to from then on.
    cache: [Option<(&'buf str, usize, Part)>; 4],
    /// Slot of `cache` the next miss fills.
    cache_next: usize,
    /// Summary/histogram series by (family, order-independent label hash),
    /// for families with more than [`SERIES_SCAN`] series.
    series: FxMap<u64, SmallVec<[usize; 1]>>,
    /// Series the parser may still allocate ahead of the lines that fill
    /// them: at most one per four bytes of body (the shortest sample line,
    /// `a 1` and its newline), so a guess can at most double the room the
    /// body's own lines would take.
    room_left: usize,
    /// Length of the body, which sizes the maps.
    body_len: usize,
}

impl<'buf> Parser<'buf> {
    /// The families of `buf` that have samples.
    fn families(mut self, buf: &'buf [u8]) -> Result<Vec<Family<'buf>>, Error> {
        self.run(buf)?;
        let mut families = self.families;
        families.retain(|f| !f.metrics.is_empty());
        Ok(families)
    }

    fn run(&mut self, buf: &'buf [u8]) -> Result<(), Error> {
        // One UTF-8 check for the whole body in the common case.
        let body_text = std::str::from_utf8(buf).ok();
        self.room_left = buf.len() / 4;
        self.body_len = buf.len();
        self.families.reserve(self.likely_families());
        self.meta.reserve(self.likely_families());
        let mut split = fast::Split::default();
        let mut pos = 0;
        loop {
            self.line = self.line.saturating_add(1);
            let rest = match buf.get(pos..) {
                Some(r) if !r.is_empty() => r,
                _ => return Ok(()),
            };
            // A plain sample line takes the fast path, unless it turns out
            // not to be one.
            if let (Some(text), false, true) = (body_text, self.slow_only, rest[0] != b'#') {
                // (`pos` starts a line, so is a character boundary.)
                let plain = text.get(pos..).is_some_and(|t| fast::split(t, &mut split).is_some());
                if plain && self.plain_sample(rest, &split) {
                    pos += split.len + 1;
                    continue;
                }
            }
            let (s, eof, next) = match memchr::memchr(b'\n', rest) {
                Some(n) => (&rest[..n], false, pos + n + 1),
                None => (rest, true, buf.len()),
            };
            let line = Line::new(s, eof, pos, body_text);
            let mut i = 0;
            while i < s.len() && is_blank(s[i]) {
                i += 1;
            }
            if i < s.len() {
                let r = if s[i] == b'#' { self.comment(&line, i) } else { self.sample(&line, i) };
                r.map_err(|f| f.at(self.line))?;
                debug_assert!(!eof, "a line without newline must fail");
            } else if eof {
                // Only blanks before the end: Go's start-of-line EOF, not an error.
                return Ok(());
            }
            pos = next;
        }
    }

    /// How many families a body of this size likely has, to make room for
    /// at once: one per KiB, a push's handful at least.
    fn likely_families(&self) -> usize {
        (self.body_len / 1024).clamp(LINEAR_LOOKUP, 1024)
    }

    /// The sample line starting `rest` (the body from there on), which
    /// [`fast::split`] found plain: stored and `true`, or `false` with
    /// nothing stored but perhaps the family resolved (as the general path
    /// will resolve it again), if a name, a label pair or the value is not
    /// what it must be.
    fn plain_sample(&mut self, rest: &[u8], split: &fast::Split<'buf>) -> bool {
        let (fam, part) = self.resolve(split.name());
        let Some(v) = parse_go_float(split.value().as_bytes()) else {
            return false;
        };
        let typ = self.families[fam].typ;
        let stored = match typ {
            MetricType::Counter | MetricType::Gauge | MetricType::Untyped => {
                let metrics = &mut self.families[fam].metrics;
                if metrics.capacity() == 0 {
                    // Room for the family's series at once, within a budget
                    // the body's size sets, however its lines are arranged.
                    let n = lines_before_comment(rest);
                    if let Some(left) = self.room_left.checked_sub(n) {
                        metrics.reserve_exact(n);
                        self.room_left = left;
                    }
                }
                self.plain_series(fam, typ, split, v)
            }
            MetricType::Summary | MetricType::Histogram => {
                self.plain_part(fam, part, typ, split, v)
            }
            MetricType::GaugeHistogram => {
                let mut labels = SmallVec::new();
                let mut special = f64::NAN;
                let plain = plain_pairs(split, typ, &mut labels, &mut special);
                if plain {
                    self.add_sample(fam, part, labels, special, v, None);
                }
                plain
            }
        };
        if stored {
            self.meta[fam].typed = true;
        }
        stored
    }

    /// A plain line `t` of a counter, gauge or untyped family: a series of
    /// its own, value `v`.
    #[inline(always)]
    fn plain_series(
        &mut self,
        fam: usize,
        typ: MetricType,
        split: &fast::Split<'buf>,
        v: f64,
    ) -> bool {
        // The labels go straight into the stored series, rather than being
        // built beside it and copied in (~200 bytes); it is taken back if
        // they are not plain. `resize_with` makes room before the series is
        // made: `push` takes a finished value, which a build that unwinds
        // (`cargo bench`'s) builds on the stack and copies in, lest growing
        // the vector panic with it alive (~9% of the parse there).
        let metrics = &mut self.families[fam].metrics;
        metrics.resize_with(metrics.len() + 1, || Metric {
            labels: SmallVec::new(),
            value: Value::Simple(v),
            timestamp_ms: None,
            raw_value: None,
        });
        let mut special = f64::NAN;
        let plain = metrics
            .last_mut()
            .is_some_and(|m| plain_pairs(split, typ, &mut m.labels, &mut special));
        if !plain {
            metrics.pop();
        }
        plain
    }

    /// A plain line `t` of a summary or histogram family: value `v` is the
    /// `part` of the series its labels (less `quantile` or `le`) name.
    #[inline(always)]
    fn plain_part(
        &mut self,
        fam: usize,
        part: Part,
        typ: MetricType,
        split: &fast::Split<'buf>,
        v: f64,
    ) -> bool {
        let mut special = f64::NAN;
        let key = series_key(split, typ);
        if let (Some((key, at)), Some((idx, last))) = (key, self.meta[fam].last_plain) {
            // Empty halves are common, and are the literal `""`, whose
            // pointer is dangling (0x1): compared by length, not by
            // `memcmp`, whose masked load of nothing at that address takes
            // a microcode assist (~90 ns on this machine's CPU).
            let same = |a: &str, b: &str| a.len() == b.len() && (a.is_empty() || a == b);
            if same(key.0, last.0) && same(key.1, last.1) {
                // The series the last plain line went to: its labels need
                // no reading, only the `quantile` or `le` value.
                if let Some(i) = at {
                    match self.meta[fam].special(split.pair_text(i).1) {
                        Some(q) => special = q,
                        None => return false,
                    }
                }
                self.meta[fam].last_series = Some(idx);
                self.add_to_series(fam, idx, part, special, v, None);
                return true;
            }
        }
        let mut labels = SmallVec::new();
        if !plain_pairs(split, typ, &mut labels, &mut special) {
            return false;
        }
        let idx = self.series_for(fam, labels);
        self.add_to_series(fam, idx, part, special, v, None);
        if let Some((key, at)) = key {
            let meta = &mut self.meta[fam];
            meta.last_plain = Some((idx, key));
            meta.special_at = 0;
            if let Some(i) = at {
                meta.remember_special(split.pair_text(i).1, special);
            }
        }
        true
    }

    /// Go's `setOrCreateCurrentMF`: the family a name belongs to.
    fn resolve(&mut self, name: &'buf str) -> (usize, Part) {
        for &(n, fam, part) in self.cache.iter().flatten() {
            if n == name {
                return (fam, part);
            }
        }
        let r = self.resolve_uncached(Cow::Borrowed(name));
        self.cache[self.cache_next] = Some((name, r.0, r.1));
        self.cache_next = (self.cache_next + 1) % self.cache.len();
        r
    }

    /// [`Parser::resolve`] for a quoted name, which may have been unescaped.
    fn resolve_quoted(&mut self, name: Cow<'buf, str>) -> (usize, Part) {
        match name {
            Cow::Borrowed(n) => self.resolve(n),
            Cow::Owned(_) => {
                let r = self.resolve_uncached(name);
                self.cache = Default::default();
                r
            }
        }
    }

    /// The family named `name`: a scan while there are few (a push's
    /// handful; no hashing, no map to build), the map beyond.
    fn lookup(&self, name: &str) -> Option<usize> {
        if self.families.len() <= LINEAR_LOOKUP {
            self.families.iter().position(|f| f.name == name)
        } else {
            self.by_name.get(name).copied()
        }
    }

    fn resolve_uncached(&mut self, name: Cow<'buf, str>) -> (usize, Part) {
        if let Some(fam) = self.lookup(&name) {
            return (fam, Part::Plain);
        }
        let (base, part) = if let Some(b) = strip(&name, "_count") {
            (Some(b), Part::Count)
        } else if let Some(b) = strip(&name, "_sum") {
            (Some(b), Part::Sum)
        } else {
            (strip(&name, "_bucket"), Part::Plain)
        };
        if let Some(fam) = base.and_then(|b| self.lookup(b)) {
            let typ = self.families[fam].typ;
            // `_bucket` only strips for histograms; `_count`/`_sum` for both.
            if typ == MetricType::Histogram || (typ == MetricType::Summary && part != Part::Plain) {
                return (fam, part);
            }
        }
        let fam = self.families.len();
        self.families.push(Family {
            name: name.clone(),
            help: None,
            typ: MetricType::Untyped,
            metrics: Vec::new(),
            problems: Vec::new(),
        });
        self.meta.push(Meta::default());
        if self.families.len() > LINEAR_LOOKUP {
            if self.by_name.is_empty() {
                let known = self.families[..fam].iter().enumerate();
                // Room at once, rather than growing through every size.
                self.by_name.reserve(self.likely_families().max(2 * LINEAR_LOOKUP));
                self.by_name.extend(known.map(|(i, f)| (f.name.clone(), i)));
            }
            self.by_name.insert(name, fam);
        }
        (fam, Part::Plain)
    }

    fn family_name(&self, fam: usize) -> String {
        quote(self.families[fam].name.as_bytes())
    }

    /// A line whose first non-blank byte (at `i`) is `#`.
    fn comment(&mut self, l: &Line<'buf>, i: usize) -> Result<(), Fail> {
        if let Some((fam, n, help)) = self.plain_directive(l, i) {
            return self.directive(l, fam, n, help);
        }
        let s = l.s;
        let (j, _) = l.skip_blanks_after(i)?;
        if j == s.len() {
            return Ok(());
        }
        let kend = l.token_end(j)?;
        if kend == s.len() {
            return Ok(());
        }
        let help = match &s[j..kend] {
            b"HELP" => true,
            b"TYPE" => false,
            _ => {
                // Any other comment: Go reads on to the newline.
                return if l.eof { Err(Fail::EOF) } else { Ok(()) };
            }
        };
        let (m, b) = l.skip_blanks_after(kend)?;
        if b == b'"' && self.utf8_names {
            let (name, n) = read_quoted_name(l, m, ErrorKind::MetricNameNewline)?;
            if n == s.len() {
                return Ok(());
            }
            if !is_blank(s[n]) {
                return Err(Fail::new(ErrorKind::InvalidMetricNameInComment, String::new()));
            }
            // Go's `setOrCreateCurrentMF`: an empty name is invalid here too.
            let text = name.text(l, ErrorKind::InvalidQuotedMetricName)?;
            let (fam, _) = self.resolve_quoted(text);
            return self.directive(l, fam, n, help);
        }
        let n = if is_metric_name_start(b) { l.name_end(m, NameClass::Metric)? } else { m };
        if n == s.len() {
            return Ok(());
        }
        if !is_blank(s[n]) {
            return Err(Fail::new(ErrorKind::InvalidMetricNameInComment, String::new()));
        }
        let (fam, _) = self.resolve(l.str(m, n).unwrap_or_default());
        self.directive(l, fam, n, help)
    }

    /// For a comment line at `i` that starts `# HELP name ` or `# TYPE name `
    /// (single blanks, a legacy name, then a blank), nearly every one a
    /// client writes: the family, where the name ends and whether it is
    /// HELP, found without reading token by token as Go does; `None` leaves
    /// the line to the rest of [`Parser::comment`].
    fn plain_directive(&mut self, l: &Line<'buf>, i: usize) -> Option<(usize, usize, bool)> {
        if self.slow_only {
            return None;
        }
        let b = l.s.get(i..)?;
        let help = match b.get(..7)? {
            b"# HELP " => true,
            b"# TYPE " => false,
            _ => return None,
        };
        if !is_metric_name_start(*b.get(7)?) {
            return None;
        }
        let n = i + 8 + scan::name_len(&b[8..], NameClass::Metric);
        if l.s.get(n) != Some(&b' ') {
            return None;
        }
        let (fam, _) = self.resolve(l.str(i + 7, n)?);
        Some((fam, n, help))
    }

    /// The rest of a `# HELP` (`help`) or `# TYPE` line for family `fam`,
    /// whose name ends at `n` (a blank).
    fn directive(&mut self, l: &Line<'buf>, fam: usize, n: usize, help: bool) -> Result<(), Fail> {
        let s = l.s;
        let (q, _) = l.skip_blanks_after(n)?;
        if q == s.len() {
            return Ok(());
        }
        if help {
            if self.families[fam].help.is_some() {
                return Err(Fail::new(ErrorKind::SecondHelp, self.family_name(fam)));
            }
            let text = read_help(l, q)?;
            self.families[fam].help = Some(text);
        } else {
            if self.meta[fam].typed {
                return Err(Fail::new(ErrorKind::SecondType, self.family_name(fam)));
            }
            if l.eof {
                return Err(Fail::EOF);
            }
            let token = without_backslashes(&s[q..]);
            let typ = match_type(&token)
                .ok_or_else(|| Fail::new(ErrorKind::UnknownType, quote(&token)))?;
            self.families[fam].typ = typ;
            self.meta[fam].typed = true;
        }
        Ok(())
    }

    /// A sample line whose first non-blank byte (at `i`) is not `#`.
    fn sample(&mut self, l: &Line<'buf>, i: usize) -> Result<(), Fail> {
        let s = l.s;
        // With `has_labels`, `j` is the `{` (or the `,` after a name inside
        // braces) the label pairs follow; else the value's first byte.
        let (fam, part, has_labels, braced, mut j) = if is_metric_name_start(s[i]) {
            let nend = l.name_end(i, NameClass::Metric)?;
            let (fam, part) = self.resolve(l.str(i, nend).unwrap_or_default());
            let (j, cur) = l.skip_blanks_from(nend)?;
            (fam, part, cur == b'{', false, j)
        } else if self.utf8_names && (s[i] == b'"' || s[i] == b'{') {
            self.quoted_metric_name(l, i)?
        } else {
            return Err(Fail::new(ErrorKind::InvalidMetricName, String::new()));
        };
        // A sample fixes an undeclared type to `Untyped` (already the
        // default); resolutions do not change, they only look at summaries
        // and histograms.
        self.meta[fam].typed = true;
        let typ = self.families[fam].typ;

        let mut labels: SmallVec<[Label<'buf>; 4]> = SmallVec::new();
        // The `quantile` (summary) or `le` (histogram) label value; NaN if absent.
        let mut special = f64::NAN;
        if has_labels {
            loop {
                let (k, b) = l.skip_blanks_after(j)?;
                if b == b'}' {
                    (j, _) = l.skip_blanks_after(k)?;
                    break;
                }
                let (name_str, e) = if is_label_name_start(b) {
                    let e = l.name_end(k, NameClass::Label)?;
                    (Cow::Borrowed(l.str(k, e).unwrap_or_default()), e)
                } else if b == b'"' && self.utf8_names {
                    let (name, e) = read_quoted_name(l, k, ErrorKind::LabelNameNewline)?;
                    if name.is_empty() {
                        return Err(Fail::new(ErrorKind::InvalidLabelName, self.family_name(fam)));
                    }
                    (name.text(l, ErrorKind::InvalidQuotedLabelName)?, e)
                } else {
                    return Err(Fail::new(ErrorKind::InvalidLabelName, self.family_name(fam)));
                };
                let name = name_str.as_bytes();
                if name == b"__name__" {
                    return Err(Fail::new(ErrorKind::ReservedLabelName, String::new()));
                }
                let special_kind = special_label(typ, name);
                let (e, c) = l.skip_blanks_from(e)?;
                if c != b'=' {
                    if braced {
                        // `{"a", "b"}`: Go's message once the metric name is known.
                        let detail = self.family_name(fam);
                        return Err(Fail::new(ErrorKind::MultipleMetricNames, detail));
                    }
                    return Err(Fail::new(ErrorKind::ExpectedEquals, go_quote_byte(c)));
                }
                if special_kind.is_none() && labels.iter().any(|x| x.name.as_bytes() == name) {
                    return Err(Fail::new(ErrorKind::DuplicateLabelName, self.family_name(fam)));
                }
                let (q, b) = l.skip_blanks_after(e)?;
                if b != b'"' {
                    return Err(Fail::new(ErrorKind::ExpectedQuote, go_quote_byte(b)));
                }
                let (value, close) = read_label_value(l, q + 1)?;
                if let Some(kind) = special_kind {
                    special = parse_go_float(value.as_bytes())
                        .ok_or_else(|| Fail::new(kind, quote(value.as_bytes())))?;
                }
                let (k, b) = l.skip_blanks_after(close)?;
                if b != b',' && b != b'}' {
                    let detail = quote(value.as_bytes());
                    return Err(Fail::new(ErrorKind::UnexpectedEndOfLabelValue, detail));
                }
                if special_kind.is_none() {
                    labels.push(Label { name: name_str, value });
                }
                if b == b'}' {
                    (j, _) = l.skip_blanks_after(k)?;
                    break;
                }
                j = k;
            }
        }

        // readingValue: `j` is the first byte of the value.
        let vend = l.token_end(j)?;
        let token = &s[j..vend];
        let v = parse_go_float(token)
            .ok_or_else(|| Fail::new(ErrorKind::InvalidValue, quote(token)))?;
        let mut timestamp = None;
        if vend < s.len() {
            let (t, _) = l.skip_blanks_after(vend)?;
            let tend = l.token_end(t)?;
            let token = &s[t..tend];
            let ts = parse_go_int(token)
                .ok_or_else(|| Fail::new(ErrorKind::InvalidTimestamp, quote(token)))?;
            if tend < s.len() {
                if l.eof {
                    return Err(Fail::EOF);
                }
                let rest = without_backslashes(&s[tend..]);
                return Err(Fail::new(ErrorKind::SpuriousAfterTimestamp, quote(&rest)));
            }
            timestamp = Some(ts);
        }

        self.add_sample(fam, part, labels, special, v, timestamp);
        Ok(())
    }

    /// Adds one sample line's value to family `fam` (of the type it had when
    /// the line was read): a series of its own, or the `part` of a summary or
    /// histogram series with these labels (`special` is its `quantile` or
    /// `le`, NaN if none).
    fn add_sample(
        &mut self,
        fam: usize,
        part: Part,
        labels: SmallVec<[Label<'buf>; 4]>,
        special: f64,
        v: f64,
        timestamp: Option<i64>,
    ) {
        match self.families[fam].typ {
            MetricType::Counter | MetricType::Gauge | MetricType::Untyped => {
                self.families[fam].metrics.push(Metric {
                    labels,
                    value: Value::Simple(v),
                    timestamp_ms: timestamp,
                    raw_value: None,
                });
            }
            MetricType::GaugeHistogram => {
                self.families[fam].metrics.push(Metric {
                    labels,
                    value: empty_histogram(),
                    timestamp_ms: timestamp,
                    raw_value: None,
                });
            }
            MetricType::Summary | MetricType::Histogram => {
                let idx = self.series_for(fam, labels);
                self.add_to_series(fam, idx, part, special, v, timestamp);
            }
        }
    }

    /// Adds a summary or histogram sample line's value to series `idx` of
    /// family `fam`, as the `part` it is (`special` as for
    /// [`Parser::add_sample`]).
    fn add_to_series(
        &mut self,
        fam: usize,
        idx: usize,
        part: Part,
        special: f64,
        v: f64,
        timestamp: Option<i64>,
    ) {
        let metric = &mut self.families[fam].metrics[idx];
        match (&mut metric.value, part) {
            (Value::Summary { count, .. } | Value::Histogram { count, .. }, Part::Count) => {
                *count = go_f64_to_u64(v);
            }
            (Value::Summary { sum, .. } | Value::Histogram { sum, .. }, Part::Sum) => {
                *sum = v;
            }
            (Value::Summary { quantiles, .. }, Part::Plain) if !special.is_nan() => {
                quantiles.push((special, v));
            }
            (Value::Histogram { buckets, .. }, Part::Plain) if !special.is_nan() => {
                buckets.push((special, go_f64_to_u64(v)));
            }
            _ => {}
        }
        if timestamp.is_some() {
            metric.timestamp_ms = timestamp;
        }
    }

    /// In UTF-8 mode, the metric name of a sample line starting (at `i`) with
    /// `"` (a quoted name, then labels or the value as after a legacy name)
    /// or `{` (the name first inside the braces, then `,` and label pairs, or
    /// `}`). Returns what [`Parser::sample`] goes on with: family, part,
    /// whether label pairs follow, whether inside braces, and the position.
    fn quoted_metric_name(
        &mut self,
        l: &Line<'buf>,
        i: usize,
    ) -> Result<(usize, Part, bool, bool, usize), Fail> {
        let no_name = || Fail::new(ErrorKind::InvalidMetricName, String::new());
        if l.s[i] == b'"' {
            let (name, e) = read_quoted_name(l, i, ErrorKind::MetricNameNewline)?;
            if name.is_empty() {
                return Err(no_name());
            }
            let text = name.text(l, ErrorKind::InvalidQuotedMetricName)?;
            let (fam, part) = self.resolve_quoted(text);
            let (j, cur) = l.skip_blanks_from(e)?;
            return Ok((fam, part, cur == b'{', false, j));
        }
        // Go reads the first token inside braces as a label name, then
        // decides by the byte after it.
        let (k, b) = l.skip_blanks_after(i)?;
        let (name, e) = if b == b'"' {
            read_quoted_name(l, k, ErrorKind::LabelNameNewline)?
        } else if is_label_name_start(b) {
            let e = l.name_end(k, NameClass::Label)?;
            (Quoted::Span(k, e), e)
        } else {
            return Err(no_name());
        };
        let (c_at, c) = l.skip_blanks_from(e)?;
        match c {
            b',' | b'}' => {}
            // A label pair before any metric name (Go fails at the `}`).
            b'=' => return Err(no_name()),
            c => return Err(Fail::new(ErrorKind::UnexpectedEndOfMetricName, go_quote_byte(c))),
        }
        if name.is_empty() {
            return Err(no_name());
        }
        let text = name.text(l, ErrorKind::InvalidQuotedMetricName)?;
        let (fam, part) = self.resolve_quoted(text);
        if c == b',' {
            return Ok((fam, part, true, true, c_at));
        }
        let (j, _) = l.skip_blanks_after(c_at)?;
        Ok((fam, part, false, true, j))
    }

    /// The summary/histogram metric of `fam` with exactly this label set
    /// (order-independent), created empty if new.
    fn series_for(&mut self, fam: usize, labels: SmallVec<[Label<'buf>; 4]>) -> usize {
        let family = &mut self.families[fam];
        let meta = &mut self.meta[fam];
        if let Some(last) = meta.last_series {
            if same_label_set(&family.metrics[last].labels, &labels) {
                return last;
            }
        }
        let found = if meta.indexed {
            let key = label_set_hash(fam, &labels);
            let slot = self.series.get(&key).map(|s| s.as_slice()).unwrap_or_default();
            slot.iter().copied().find(|&i| same_label_set(&family.metrics[i].labels, &labels))
        } else {
            family.metrics.iter().position(|m| same_label_set(&m.labels, &labels))
        };
        if let Some(idx) = found {
            meta.last_series = Some(idx);
            return idx;
        }
        let idx = family.metrics.len();
        // Series of a family mostly have the same buckets (or quantiles):
        // room for as many as the last one has, allocated once.
        let room = match family.metrics.last().map(|m| &m.value) {
            Some(Value::Summary { quantiles, .. }) => quantiles.len(),
            Some(Value::Histogram { buckets, .. }) => buckets.len(),
            _ => 0,
        };
        let value = if family.typ == MetricType::Summary {
            Value::Summary { count: 0, sum: 0.0, quantiles: Vec::with_capacity(room) }
        } else {
            Value::Histogram { count: 0, sum: 0.0, buckets: Vec::with_capacity(room) }
        };
        family.metrics.push(Metric { labels, value, timestamp_ms: None, raw_value: None });
        // Scanned while few (a push's histograms: no hashing, no map);
        // indexed by label-set hash beyond.
        let newly = if meta.indexed {
            idx..idx + 1
        } else if family.metrics.len() > SERIES_SCAN {
            meta.indexed = true;
            0..idx + 1
        } else {
            0..0
        };
        if newly.len() > 1 && self.series.is_empty() {
            // Likewise for the series of the body's summaries and
            // histograms (one per 512 bytes).
            self.series.reserve((self.body_len / 512).clamp(4 * SERIES_SCAN, 4096));
        }
        for i in newly {
            let key = label_set_hash(fam, &family.metrics[i].labels);
            self.series.entry(key).or_default().push(i);
        }
        meta.last_series = Some(idx);
        idx
    }
}

/// The label pairs of a plain line `t` of a family of type `typ`, as
/// [`fast::split`] found them, pushed onto `labels` (the `quantile` or `le`
/// value of a summary or histogram read into `special` instead); `false` if
/// the general path must read the line (a reserved or repeated name, a
/// `quantile` or `le` that is not a float).
fn plain_pairs<'buf>(
    split: &fast::Split<'buf>,
    typ: MetricType,
    labels: &mut SmallVec<[Label<'buf>; 4]>,
    special: &mut f64,
) -> bool {
    let n = split.pair_count();
    // Bit `i`: pair `i` is the `quantile` or `le`, not a label.
    let mut specials = 0u32;
    let is_label = |specials: u32, i: usize| specials & (1 << i) == 0;
    for i in 0..n {
        let (name, value) = split.pair_text(i);
        if name == "__name__" {
            return false;
        }
        if special_label(typ, name.as_bytes()).is_some() {
            match parse_go_float(value.as_bytes()) {
                Some(v) => *special = v,
                None => return false,
            }
            specials |= 1 << i;
        } else if (0..i).any(|j| is_label(specials, j) && split.pair_text(j).0 == name) {
            return false;
        }
    }
    // Checked first, then stored by one `extend`, which makes room before
    // it makes each label, so each is written in place. A `push` that may
    // grow keeps its label on the stack across the growth where panics
    // unwind (the build `cargo bench` makes), then copies it in with loads
    // wider than the stores that made it: a store-forwarding stall.
    labels.extend((0..n).filter(|&i| is_label(specials, i)).map(|i| {
        let (name, value) = split.pair_text(i);
        Label { name: Cow::Borrowed(name), value: Cow::Borrowed(value) }
    }));
    true
}

/// How many lines `rest` has before the next comment line, counted in its
/// first 4 KiB: the series of a counter, gauge or untyped family whose first
/// sample line starts `rest`, as exporters write them (together, after their
/// HELP and TYPE), so its series are allocated once.
fn lines_before_comment(rest: &[u8]) -> usize {
    let window = &rest[..rest.len().min(4096)];
    // A `#` in a label value only makes the guess short.
    let lines = match memchr::memchr(b'#', window) {
        Some(n) => &window[..n],
        None => window,
    };
    let partial = lines.last().is_some_and(|&b| b != b'\n');
    memchr::memchr_iter(b'\n', lines).count() + usize::from(partial)
}

/// The label text of a plain line without its `quantile` or `le` pair: the
/// pairs before it and the pairs after it, as written. Two plain lines of a
/// family with the same key have the same labels but for that pair, so
/// belong to the same series.
type SeriesKey<'buf> = (&'buf str, &'buf str);

/// The [`SeriesKey`] of a plain line of a summary or histogram family
/// (`typ`) and which label pair is its `quantile` or `le`, if it has that
/// pair; `None` if it has it twice (the general path reads such lines).
fn series_key<'t>(
    split: &fast::Split<'t>,
    typ: MetricType,
) -> Option<(SeriesKey<'t>, Option<usize>)> {
    let n = split.pair_count();
    let mut special = None;
    for i in 0..n {
        if special_label(typ, split.pair_text(i).0.as_bytes()).is_some() {
            if special.is_some() {
                return None;
            }
            special = Some(i);
        }
    }
    // The text of pairs `from..to`, from the first name to the last quote.
    let span = |from: usize, to: usize| if from >= to { "" } else { split.pairs_text(from, to) };
    Some(match special {
        None => ((span(0, n), ""), None),
        Some(i) => ((span(0, i), span(i + 1, n)), Some(i)),
    })
}

/// For the `quantile` label of a summary or the `le` label of a histogram,
/// the error of a value that is not a float; `None` for any other label.
fn special_label(typ: MetricType, name: &[u8]) -> Option<ErrorKind> {
    match (typ, name) {
        (MetricType::Summary, b"quantile") => Some(ErrorKind::InvalidQuantile),
        (MetricType::Histogram, b"le") => Some(ErrorKind::InvalidBucket),
        _ => None,
    }
}

fn empty_histogram() -> Value {
    Value::Histogram { count: 0, sum: 0.0, buckets: Vec::new() }
}

/// Go's `readTokenAsLabelValue` starting right after the opening quote at
/// `start`: the unescaped, UTF-8-checked value and the closing quote's index.
fn read_label_value<'buf>(l: &Line<'buf>, start: usize) -> Result<(Cow<'buf, str>, usize), Fail> {
    let s = l.s;
    let mut owned: Option<Vec<u8>> = None;
    let mut from = start;
    loop {
        let rest = s.get(from..).unwrap_or_default();
        let Some(p) = scan::quote_or_backslash_at(rest) else {
            // Reached the newline (or the end of input) unquoted.
            if l.eof {
                return Err(Fail::EOF);
            }
            let detail = match owned {
                None => quote(rest),
                Some(mut so_far) => {
                    so_far.extend_from_slice(rest);
                    quote(&so_far)
                }
            };
            return Err(Fail::new(ErrorKind::UnescapedNewline, detail));
        };
        let at = from + p;
        if s[at] == b'"' {
            let value = match owned {
                None => Cow::Borrowed(l.str(start, at).ok_or_else(|| {
                    Fail::new(ErrorKind::InvalidLabelValue, quote(&s[start..at]))
                })?),
                Some(mut buf) => {
                    buf.extend_from_slice(&s[from..at]);
                    Cow::Owned(String::from_utf8(buf).map_err(|e| {
                        Fail::new(ErrorKind::InvalidLabelValue, quote(e.as_bytes()))
                    })?)
                }
            };
            return Ok((value, at));
        }
        let escaped = match l.byte(at + 1)? {
            b'"' => b'"',
            b'\\' => b'\\',
            b'n' => b'\n',
            other => return Err(invalid_escape(other)),
        };
        let buf = owned.get_or_insert_with(|| Vec::with_capacity(at - start + 16));
        buf.extend_from_slice(&s[from..at]);
        buf.push(escaped);
        from = at + 2;
    }
}

/// A quoted name as [`read_quoted_name`] read it.
enum Quoted {
    /// No escape sequence: the name is the line's bytes `start..end`.
    Span(usize, usize),
    /// The name with its escape sequences decoded.
    Unescaped(Vec<u8>),
}

impl Quoted {
    fn is_empty(&self) -> bool {
        match self {
            Quoted::Span(a, b) => a == b,
            Quoted::Unescaped(v) => v.is_empty(),
        }
    }

    /// The name as text; `kind` with the quoted name if it is empty or not UTF-8.
    fn text<'buf>(self, l: &Line<'buf>, kind: ErrorKind) -> Result<Cow<'buf, str>, Fail> {
        let text = match self {
            Quoted::Span(a, b) => l.str(a, b).map(Cow::Borrowed).ok_or_else(|| l.s[a..b].to_vec()),
            Quoted::Unescaped(v) => {
                String::from_utf8(v).map(Cow::Owned).map_err(|e| e.into_bytes())
            }
        };
        match text {
            Ok(t) if !t.is_empty() => Ok(t),
            Ok(_) => Err(Fail::new(kind, quote(b""))),
            Err(bytes) => Err(Fail::new(kind, quote(&bytes))),
        }
    }
}

/// Reads a quoted name (UTF-8 names only) whose opening `"` is at `open`,
/// with the escapes of label values (`\\`, `\"`, `\n`). Returns the name
/// and the position after the closing quote (the end of input there is
/// [`Fail::EOF`], as after a legacy name). A name running into the end of its
/// line is a `newline` error with the name read so far.
fn read_quoted_name(
    l: &Line<'_>,
    open: usize,
    newline: ErrorKind,
) -> Result<(Quoted, usize), Fail> {
    let s = l.s;
    let start = open + 1;
    let mut owned: Option<Vec<u8>> = None;
    let mut from = start;
    loop {
        let rest = s.get(from..).unwrap_or_default();
        let Some(p) = scan::quote_or_backslash_at(rest) else {
            if l.eof {
                return Err(Fail::EOF);
            }
            let mut so_far = owned.unwrap_or_default();
            so_far.extend_from_slice(rest);
            return Err(Fail::new(newline, quote(&so_far)));
        };
        let at = from + p;
        if s[at] == b'"' {
            if at + 1 == s.len() && l.eof {
                return Err(Fail::EOF);
            }
            let name = match owned {
                None => Quoted::Span(start, at),
                Some(mut buf) => {
                    buf.extend_from_slice(&s[from..at]);
                    Quoted::Unescaped(buf)
                }
            };
            return Ok((name, at + 1));
        }
        let escaped = match l.byte(at + 1)? {
            b'"' => b'"',
            b'\\' => b'\\',
            b'n' => b'\n',
            other => return Err(invalid_escape(other)),
        };
        let buf = owned.get_or_insert_with(Vec::new);
        buf.extend_from_slice(&s[from..at]);
        buf.push(escaped);
        from = at + 2;
    }
}

#[cold]
fn invalid_escape(b: u8) -> Fail {
    Fail::new(ErrorKind::InvalidEscape, char::from(b).to_string())
}

/// Go's `readTokenUntilNewline(true)` for a HELP text starting at `start`:
/// the rest of the line with `\\` and `\n` unescaped.
///
/// Go keeps invalid UTF-8 in HELP texts; the model holds `str`, so such bytes
/// become U+FFFD here.
fn read_help<'buf>(l: &Line<'buf>, start: usize) -> Result<Cow<'buf, str>, Fail> {
    let s = l.s;
    let mut owned: Option<Vec<u8>> = None;
    let mut from = start;
    loop {
        let rest = s.get(from..).unwrap_or_default();
        let Some(p) = memchr::memchr(b'\\', rest) else {
            if l.eof {
                return Err(Fail::EOF);
            }
            return Ok(match owned {
                None => match l.str(start, s.len()) {
                    Some(text) => Cow::Borrowed(text),
                    None => String::from_utf8_lossy(&s[start..]),
                },
                Some(mut buf) => {
                    buf.extend_from_slice(rest);
                    match String::from_utf8(buf) {
                        Ok(text) => Cow::Owned(text),
                        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
                    }
                }
            });
        };
        let at = from + p;
        let escaped = match l.byte(at + 1)? {
            b'\\' => b'\\',
            b'n' => b'\n',
            other => return Err(invalid_escape(other)),
        };
        let buf = owned.get_or_insert_with(|| Vec::with_capacity(s.len() - start));
        buf.extend_from_slice(&s[from..at]);
        buf.push(escaped);
        from = at + 2;
    }
}

/// Go's `readTokenUntilNewline(false)` drops every backslash.
fn without_backslashes(b: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\\', b).is_none() {
        Cow::Borrowed(b)
    } else {
        Cow::Owned(b.iter().copied().filter(|&c| c != b'\\').collect())
    }
}

/// `dto.MetricType_value[strings.ToUpper(token)]` of client_model v0.3.0.
///
/// Go's `ToUpper` is Unicode-aware: besides ASCII, only U+0131 (ı) and U+017F
/// (ſ) upper-case into ASCII letters, so only they are mapped.
fn match_type(token: &[u8]) -> Option<MetricType> {
    // As exporters write them, first.
    match token {
        b"counter" => return Some(MetricType::Counter),
        b"gauge" => return Some(MetricType::Gauge),
        b"histogram" => return Some(MetricType::Histogram),
        b"summary" => return Some(MetricType::Summary),
        b"untyped" => return Some(MetricType::Untyped),
        _ => {}
    }
    let text = std::str::from_utf8(token).ok()?;
    let mut upper = [0u8; 16];
    let mut n = 0;
    for c in text.chars() {
        let u = match c {
            '\u{131}' => b'I',
            '\u{17f}' => b'S',
            c if c.is_ascii() => (c as u8).to_ascii_uppercase(),
            _ => return None,
        };
        *upper.get_mut(n)? = u;
        n += 1;
    }
    Some(match &upper[..n] {
        b"COUNTER" => MetricType::Counter,
        b"GAUGE" => MetricType::Gauge,
        b"SUMMARY" => MetricType::Summary,
        b"UNTYPED" => MetricType::Untyped,
        b"HISTOGRAM" => MetricType::Histogram,
        b"GAUGE_HISTOGRAM" => MetricType::GaugeHistogram,
        _ => return None,
    })
}

/// Reads the decimal digits of `s` from `i` into `acc` (wrapping past 19
/// digits; the caller counts them) and returns where they end.
#[inline(always)]
fn read_digits(s: &[u8], mut i: usize, acc: &mut u64) -> usize {
    // Eight at a time while all eight are digits.
    while let Some(chunk) = s.get(i..).and_then(|r| r.first_chunk::<8>()) {
        let x = u64::from_le_bytes(*chunk);
        let low = x.wrapping_sub(0x3030_3030_3030_3030);
        // Each byte within '0'..='9': its value minus '0' is below 10 with no
        // borrow, so adding 6 leaves the high nibble clear.
        let digits = (x & 0xf0f0_f0f0_f0f0_f0f0) == 0x3030_3030_3030_3030
            && (low.wrapping_add(0x0606_0606_0606_0606) & 0xf0f0_f0f0_f0f0_f0f0) == 0;
        if !digits {
            break;
        }
        *acc = acc.wrapping_mul(100_000_000).wrapping_add(eight_digits(low));
        i += 8;
    }
    while let Some(d) = s.get(i).map(|b| b.wrapping_sub(b'0')).filter(|d| *d <= 9) {
        *acc = acc.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    i
}

/// The value of eight decimal digits stored little-endian, each byte already
/// reduced to `0..=9`.
#[inline(always)]
fn eight_digits(x: u64) -> u64 {
    // Pairs, then quads, then the eight: 10a+b, 100(10a+b)+(10c+d), ...
    let x = x.wrapping_mul(10).wrapping_add(x >> 8) & 0x00ff_00ff_00ff_00ff;
    let x = x.wrapping_mul(100).wrapping_add(x >> 16) & 0x0000_ffff_0000_ffff;
    x.wrapping_mul(10_000).wrapping_add(x >> 32) & 0xffff_ffff
}

/// The NaN Go's `math.NaN()` (and thus `strconv.ParseFloat`) returns.
const GO_NAN: f64 = f64::from_bits(0x7FF8_0000_0000_0001);

/// prometheus/common's `parseFloat`: `strconv.ParseFloat(s, 64)` with `p`,
/// `P` and `_` forbidden, so: decimal floats, `inf`/`infinity` with optional
/// sign and `nan` without sign (case-insensitive); out-of-range values fail.
pub(crate) fn parse_go_float(s: &[u8]) -> Option<f64> {
    let (neg, body) = match s.first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    // [digits] [. [digits]] with at least one digit, then [eE [+-] digits],
    // accumulating what Clinger's fast path needs on the way. Up to 19
    // digits cannot overflow the mantissa; longer numbers take the exact
    // general parser below.
    let mut mantissa: u64 = 0;
    let mut i = read_digits(body, 0, &mut mantissa);
    let int_digits = i;
    let mut frac_digits: i32 = 0;
    if body.get(i) == Some(&b'.') {
        let end = read_digits(body, i + 1, &mut mantissa);
        frac_digits = (end - i - 1) as i32;
        i = end;
    }
    let digits = int_digits + frac_digits as usize;
    let exact = digits <= 19;
    if digits == 0 {
        if i == 0 {
            if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
                return Some(if neg { f64::NEG_INFINITY } else { f64::INFINITY });
            }
            if body.len() == s.len() && body.eq_ignore_ascii_case(b"nan") {
                return Some(GO_NAN);
            }
        }
        return None;
    }
    let mut exp: i32 = 0;
    if let Some(b'e' | b'E') = body.get(i) {
        i += 1;
        let exp_neg = match body.get(i) {
            Some(b'+') => {
                i += 1;
                false
            }
            Some(b'-') => {
                i += 1;
                true
            }
            _ => false,
        };
        let start = i;
        while let Some(&b) = body.get(i) {
            if !b.is_ascii_digit() {
                break;
            }
            exp = (exp * 10 + i32::from(b - b'0')).min(100_000);
            i += 1;
        }
        if i == start {
            return None;
        }
        if exp_neg {
            exp = -exp;
        }
    }
    if i != body.len() {
        return None;
    }
    let e10 = exp - frac_digits;
    if exact && mantissa <= 1 << 53 && (-22..=22).contains(&e10) {
        // Both operands exact, so one IEEE operation rounds correctly.
        let m = mantissa as f64;
        let v = if e10 >= 0 { m * POW10[e10 as usize] } else { m / POW10[(-e10) as usize] };
        return Some(if neg { -v } else { v });
    }
    if exact {
        // Up to 19 digits, read exactly: no need to read them again.
        if let Some(v) = lemire::to_f64(mantissa, e10) {
            return Some(if neg { -v } else { v });
        }
    }
    // The grammar above is a subset of what Rust's parser accepts, and both
    // round correctly; Go reports overflow to infinity as a range error.
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits, in range.
fn parse_go_int(s: &[u8]) -> Option<i64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Go's `uint64(f)` for a float64 as compiled for amd64 (the platform the
/// reference server runs on): truncation toward zero for in-range values,
/// CVTTSD2SQ's "integer indefinite" pattern otherwise. So 2.7 → 2,
/// -1 → 2^64-1, NaN/±Inf/≥2^64 → 2^63.
pub(crate) fn go_f64_to_u64(v: f64) -> u64 {
    const CUTOFF: f64 = 9_223_372_036_854_775_808.0;
    const INDEFINITE: u64 = 0x8000_0000_0000_0000;
    fn cvttsd2sq(x: f64) -> u64 {
        if x.is_nan() || !(-CUTOFF..CUTOFF).contains(&x) {
            INDEFINITE
        } else {
            x as i64 as u64
        }
    }
    if v < CUTOFF {
        cvttsd2sq(v)
    } else {
        cvttsd2sq(v - CUTOFF) | INDEFINITE
    }
}

/// Go's `%q` applied to a byte (`strconv.QuoteRune(rune(b))`).
pub(crate) fn go_quote_byte(b: u8) -> String {
    match b {
        b'\'' => "'\\''".to_owned(),
        b'\\' => "'\\\\'".to_owned(),
        0x07 => "'\\a'".to_owned(),
        0x08 => "'\\b'".to_owned(),
        0x0c => "'\\f'".to_owned(),
        b'\n' => "'\\n'".to_owned(),
        b'\r' => "'\\r'".to_owned(),
        b'\t' => "'\\t'".to_owned(),
        0x0b => "'\\v'".to_owned(),
        0x00..=0x1f | 0x7f => format!("'\\x{b:02x}'"),
        0x20..=0x7e => format!("'{}'", char::from(b)),
        // Latin-1 that Go's IsPrint rejects: C1 controls, NBSP, soft hyphen.
        0x80..=0xa0 | 0xad => format!("'\\u{b:04x}'"),
        _ => format!("'{}'", char::from(b)),
    }
}

fn same_label_set(a: &[Label<'_>], b: &[Label<'_>]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // Usually the same order; names are unique within a set.
    a.iter().zip(b).all(|(x, y)| x == y) || a.iter().all(|x| b.iter().any(|y| x == y))
}

fn label_set_hash(fam: usize, labels: &[Label<'_>]) -> u64 {
    let mut acc = (fam as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for l in labels {
        let mut h = FxHasher::default();
        h.write(l.name.as_bytes());
        h.write_u8(0xff);
        h.write(l.value.as_bytes());
        acc = acc.wrapping_add(h.finish());
    }
    acc
}

fn strip<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    // Go's isCount/isSum/isBucket require a non-empty base.
    name.strip_suffix(suffix).filter(|b| !b.is_empty())
}

#[inline]
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_label_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_metric_name_start(b: u8) -> bool {
    is_label_name_start(b) || b == b':'
}

/// The Firefox/rustc hash: fast and good enough for short names.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rem = chunks.remainder();
        if !rem.is_empty() {
            let mut w = [0u8; 8];
            w[..rem.len()].copy_from_slice(rem);
            self.add(u64::from_le_bytes(w) ^ ((rem.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {

    use proptest::prelude::*;

    use super::*;
    use crate::expfmt::family::describe;

    fn outcome<'a>(r: &Result<Vec<Family<'a>>, Error>) -> String {
        match r {
            Ok(f) => describe(f),
            Err(e) => e.to_string(),
        }
    }

    /// The fast parser and the literal Go transcription agree exactly.
    fn assert_matches_oracle(input: &[u8]) {
        let fast = parse(input);
        let slow = naive::parse(input);
        match (&fast, &slow) {
            (Err(a), Err(b)) => assert_eq!(a, b, "input {:?}", quote(input)),
            _ => assert_eq!(outcome(&fast), outcome(&slow), "input {:?}", quote(input)),
        }
    }

    /// The fast path of plain sample lines changes nothing: same families,
    /// same borrowing, same error.
    fn assert_fast_path_invisible(input: &[u8]) {
        for names in [NameValidation::Legacy, NameValidation::Utf8] {
            let fast = parse_with(input, names);
            let slow = parse_general_only(input, names);
            // `describe`, as NaN values are never `==`.
            assert_eq!(outcome(&fast), outcome(&slow), "input {:?}", quote(input));
            assert_eq!(fast.as_ref().err(), slow.as_ref().err());
            if let (Ok(fast), Ok(slow)) = (&fast, &slow) {
                let borrowed = |fams: &[Family<'_>]| -> Vec<bool> {
                    let labels = fams.iter().flat_map(|f| f.metrics.iter().flat_map(|m| &m.labels));
                    labels.map(|l| matches!(l.value, Cow::Borrowed(_))).collect()
                };
                assert_eq!(borrowed(fast), borrowed(slow));
            }
        }
    }

    /// Both paths and the oracle read `input` alike.
    fn assert_read_as_go(input: &[u8]) {
        assert_fast_path_invisible(input);
        assert_matches_oracle(input);
    }

    /// [`assert_read_as_go`], and `input` is refused.
    fn assert_refused_as_go(input: &[u8]) {
        assert_read_as_go(input);
        assert!(parse(input).is_err(), "{:?}", String::from_utf8_lossy(input));
    }

    #[test]
    fn label_pairs_around_the_bound_read_as_go_reads_them() {
        // Labels before and after `le` / `quantile`, repeated across it or
        // not, more than a series holds inline, and names that are a bound
        // only in the family type that has one.
        let read = [
            "# TYPE h histogram\nh_bucket{a=\"1\",le=\"1\",b=\"2\"} 1\nh_bucket{le=\"2\",a=\"1\",b=\"2\"} 2\n",
            "# TYPE h histogram\nh_bucket{a=\"1\",b=\"2\",c=\"3\",d=\"4\",le=\"1\",e=\"5\",f=\"6\"} 1\n",
            "# TYPE h histogram\nh_bucket{le=\"1\",le=\"2\"} 1\n",
            "# TYPE s summary\ns{le=\"x\",quantile=\"0.5\",a=\"1\"} 1\n",
            "g{le=\"x\",quantile=\"y\",a=\"1\",b=\"2\",c=\"3\",d=\"4\",e=\"5\"} 1\n",
        ];
        for body in read {
            assert_read_as_go(body.as_bytes());
            assert!(parse(body.as_bytes()).is_ok(), "{body:?}");
        }
        let refused = [
            "# TYPE h histogram\nh_bucket{a=\"1\",le=\"1\",a=\"2\"} 1\n",
            "# TYPE h histogram\nh_bucket{a=\"1\",b=\"2\",c=\"3\",d=\"4\",e=\"5\",a=\"6\"} 1\n",
            "# TYPE s summary\ns{quantile=\"0.5\",__name__=\"s\"} 1\n",
            "g{le=\"1\",le=\"2\"} 1\n",
        ];
        for body in refused {
            assert_refused_as_go(body.as_bytes());
        }
    }

    #[test]
    fn the_fast_path_takes_plain_lines_and_leaves_the_rest() {
        let body = b"# TYPE h histogram\nh_bucket{le=\"1\",a=\"x\"} 2\nh_bucket{a=\"x\",le=\"+Inf\"} 3\n\
            h_sum{a=\"x\"} 1.5\nh_count{a=\"x\"} 3\nc{a=\"1\",b=\"2\"} 12345678.125\nc{b=\"3\"} 1 17\n\
            u{a=\"x\\\\y\"} 1\nu{a=\"y\"}\t1\nu 1e3\ns{quantile=\"0.5\"} 1\n";
        assert_fast_path_invisible(body);
        // Errors the fast path sees first are the general path's.
        for bad in [
            "m{__name__=\"x\"} 1\n",
            "m{a=\"1\",a=\"2\"} 1\n",
            "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n",
            "# TYPE s summary\ns{quantile=\"\"} 1\n",
            "m{a=\"1\"} 1x\n",
            "m{a=\"1\"} 1",
            "m 1e999\n",
        ] {
            assert_refused_as_go(bad.as_bytes());
        }
    }

    #[test]
    fn plain_help_and_type_lines_read_as_the_general_path_reads_them() {
        for body in [
            "# HELP a Some help.\n# TYPE a counter\na 1\n",
            "# TYPE a_b:c gauge\n# HELP a_b:c x  y \na_b:c 1\n",
            "# TYPE h histogram\n# HELP h_bucket b\n# HELP h_sum s\nh_bucket{le=\"1\"} 1\n",
            "# HELP a x\\ny\n# TYPE a COUNTER\na 1\n",
            "# HELP a \\\\\n# TYPE a ſummary\na 1\n",
            "# HELP a  two blanks\n# TYPE a\tgauge\na 1\n",
            "# HELP a\tx\n# TYPE  a gauge\n#  HELP a y\na 1\n",
            "# HELP a x\r\n# TYPE a gauge\r\na 1\n",
            "# HELP a\n# HELP a \n# TYPE a \n# TYPE a\na 1\n",
            "# HELP é x\n# HELP 1a x\n# HELP :a x\na 1\n",
        ] {
            assert_read_as_go(body.as_bytes());
        }
        // Errors: a second HELP or TYPE, a TYPE after samples, an unknown
        // type, a type with a trailing blank, no newline at the end.
        for bad in [
            "# HELP a x\n# HELP a y\na 1\n",
            "# TYPE a gauge\n# TYPE a gauge\na 1\n",
            "a 1\n# TYPE a gauge\n",
            "# TYPE a gauges\na 1\n",
            "# TYPE a gauge \na 1\n",
            "# HELP a x",
            "# TYPE a gauge",
        ] {
            assert_refused_as_go(bad.as_bytes());
        }
        let families = parse(b"# HELP a x  y \n# TYPE a counter\na 1\n").expect("valid");
        assert_eq!(families[0].help.as_deref(), Some("x  y "));
        assert_eq!(families[0].typ, MetricType::Counter);
    }

    #[test]
    fn names_resolve_alike_before_and_after_their_family_is_typed() {
        // A suffixed name met before its family's TYPE has a family of its
        // own from then on; met after, it is part of the typed family.
        for body in [
            "# HELP s_count x\n# TYPE s summary\ns_count 3\ns{quantile=\"0.5\"} 1\ns_count 4\n",
            "h_bucket{le=\"1\"} 1\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_count 2\n",
            "# TYPE h histogram\nh_sum 1\n# TYPE h_sum gauge\nh_sum 2\n",
            "# TYPE a summary\na_sum 1\n# HELP a_count c\na_count 2\n# TYPE b gauge\na_sum 3\n",
        ] {
            assert_read_as_go(body.as_bytes());
        }
    }

    #[test]
    fn lines_before_the_next_comment_are_counted() {
        assert_eq!(lines_before_comment(b"a 1\nb 2\n# HELP c x\nc 1\n"), 2);
        assert_eq!(lines_before_comment(b"a 1\n#b\n"), 1);
        assert_eq!(lines_before_comment(b"a 1\nb 2\nc 3\n"), 3);
        assert_eq!(lines_before_comment(b"a 1"), 1);
        // Only the first 4 KiB are looked at.
        assert_eq!(lines_before_comment("a 1\n".repeat(5000).as_bytes()), 1024);
        assert_eq!(lines_before_comment("ab 1\n".repeat(5000).as_bytes()), 820);
    }

    #[test]
    fn series_are_allocated_at_once_within_a_budget() {
        // As exporters write them: each family's series in one allocation.
        let body = "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"2\"} 2\na{x=\"3\"} 3\n\
            # TYPE b counter\nb 1\n# HELP c C.\nc{y=\"1\"} 1\nc{y=\"2\"} 1\n";
        let families = parse(body.as_bytes()).expect("valid");
        let room: Vec<(usize, usize)> =
            families.iter().map(|f| (f.metrics.len(), f.metrics.capacity())).collect();
        assert_eq!(room, [(3, 3), (1, 1), (2, 2)]);
        // Every family declared first, then one line each: each guess spans
        // the lines of all the families after it, and the budget (a series
        // per four bytes of body) bounds what the guesses take; families
        // past it grow as vectors do, from four.
        let mut body = String::new();
        for i in 0..2000 {
            body.push_str(&format!("# TYPE f{i} gauge\n"));
        }
        for i in 0..2000 {
            body.push_str(&format!("f{i} 1\n"));
        }
        let families = parse(body.as_bytes()).expect("valid");
        assert_eq!(families.len(), 2000);
        let room: usize = families.iter().map(|f| f.metrics.capacity()).sum();
        assert!(room <= body.len() / 4 + 4 * families.len(), "{room} series allocated");
        assert_fast_path_invisible(body.as_bytes());
    }

    #[test]
    fn plain_lines_of_a_series_seen_last_join_it() {
        // Same labels but `le` (or `quantile`), before or after it, in the
        // order written; other label values; a series met again later; `le`
        // twice (the general path's).
        let body = concat!(
            "# TYPE k histogram\n",
            "k_bucket{a=\"x\",le=\"1\"} 1\nk_bucket{a=\"x\",le=\"2\"} 2\n",
            "k_sum{a=\"x\"} 3\nk_count{a=\"x\"} 2\n",
            "k_bucket{le=\"1\",b=\"p\"} 1\nk_bucket{le=\"1\",b=\"q\"} 5\n",
            "k_bucket{a=\"y\",le=\"1\"} 4\nk_bucket{a=\"x\",le=\"+Inf\"} 2\n",
            "k_bucket{a=\"x\",le=\"1\",le=\"3\"} 2\nk_bucket{a=\"x\",b=\"\",le=\"4\"} 2\n",
            "# TYPE q summary\n",
            "q{quantile=\"0.5\",a=\"x\"} 1\nq{quantile=\"0.9\",a=\"x\"} 2\nq_sum{a=\"x\"} 3\n",
        );
        assert_read_as_go(body.as_bytes());
        let families = parse(body.as_bytes()).expect("valid");
        let series = |i: usize| families[i].metrics.len();
        // k: {a=x}, {b=p}, {b=q}, {a=y}, {a=x,b=""}; q: {a=x}.
        assert_eq!((series(0), series(1)), (5, 1));
        let Value::Histogram { buckets, count, .. } = &families[0].metrics[0].value else {
            panic!("histogram")
        };
        assert_eq!((buckets.len(), *count), (4, 2));
    }

    #[test]
    fn bucket_bounds_written_as_before_are_not_read_again() {
        // Series after the first repeat its `le` and `quantile` texts at the
        // same positions (taken as remembered), or not: another value, the
        // same value spelt otherwise, one bound fewer or more, a bound that
        // is not a float where the last series had one.
        let body = concat!(
            "# TYPE h histogram\n",
            "h_bucket{a=\"1\",le=\"0.5\"} 1\nh_bucket{a=\"1\",le=\"1\"} 2\n",
            "h_bucket{a=\"1\",le=\"+Inf\"} 3\nh_sum{a=\"1\"} 2\nh_count{a=\"1\"} 3\n",
            "h_bucket{a=\"2\",le=\"0.5\"} 1\nh_bucket{a=\"2\",le=\"1\"} 2\n",
            "h_bucket{a=\"2\",le=\"+Inf\"} 3\nh_sum{a=\"2\"} 2\nh_count{a=\"2\"} 3\n",
            "h_bucket{a=\"3\",le=\"0.5\"} 1\nh_bucket{a=\"3\",le=\"2\"} 2\n",
            "h_bucket{a=\"3\",le=\"+inf\"} 3\nh_bucket{a=\"3\",le=\"9\"} 3\n",
            "h_bucket{a=\"4\",le=\"5e-1\"} 1\nh_bucket{a=\"4\",le=\"1.0\"} 2\n",
            "# TYPE s summary\n",
            "s{a=\"1\",quantile=\"0.5\"} 1\ns{a=\"1\",quantile=\"0.9\"} 2\n",
            "s{a=\"2\",quantile=\"0.5\"} 3\ns{a=\"2\",quantile=\"0.99\"} 4\n",
        );
        assert_read_as_go(body.as_bytes());
        let families = parse(body.as_bytes()).expect("valid");
        let bounds = |m: &Metric<'_>| -> Vec<f64> {
            match &m.value {
                Value::Histogram { buckets, .. } => buckets.iter().map(|b| b.0).collect(),
                Value::Summary { quantiles, .. } => quantiles.iter().map(|q| q.0).collect(),
                _ => panic!("histogram or summary"),
            }
        };
        let h: Vec<Vec<f64>> = families[0].metrics.iter().map(bounds).collect();
        let inf = f64::INFINITY;
        assert_eq!(
            h,
            [vec![0.5, 1.0, inf], vec![0.5, 1.0, inf], vec![0.5, 2.0, inf, 9.0], vec![0.5, 1.0]]
        );
        let s: Vec<Vec<f64>> = families[1].metrics.iter().map(bounds).collect();
        assert_eq!(s, [vec![0.5, 0.9], vec![0.5, 0.99]]);
        // A bound that is not a float fails as it would have on first sight.
        let bad = concat!(
            "# TYPE h histogram\n",
            "h_bucket{a=\"1\",le=\"0.5\"} 1\nh_bucket{a=\"1\",le=\"1\"} 2\n",
            "h_bucket{a=\"2\",le=\"0.5\"} 1\nh_bucket{a=\"2\",le=\"1x\"} 2\n",
        );
        assert_refused_as_go(bad.as_bytes());
    }

    fn check(input: &[u8], expect: &str) {
        assert_matches_oracle(input);
        assert_eq!(outcome(&parse(input)), expect, "input {:?}", quote(input));
    }

    macro_rules! cases {
        ($($name:ident: $input:expr => $expect:expr;)*) => {$(
            #[test]
            fn $name() {
                check(AsRef::<[u8]>::as_ref(&$input), $expect);
            }
        )*};
    }

    const E: &str = "text format parsing error in line";

    // Rejections, messages as the Go Pushgateway 1.5.1 prints them.
    cases! {
        eof_without_final_newline: "a 1" => "text format parsing error in line 1: unexpected end of input stream";
        eof_on_second_line: "a 1\nb 2" => "text format parsing error in line 2: unexpected end of input stream";
        eof_counts_blank_lines: "\n\n  a" => "text format parsing error in line 3: unexpected end of input stream";
        eof_in_plain_comment: "a 1\n# foo" => "text format parsing error in line 2: unexpected end of input stream";
        eof_after_hash: "#" => "text format parsing error in line 1: unexpected end of input stream";
        eof_after_timestamp: "a 1 2" => "text format parsing error in line 1: unexpected end of input stream";
        eof_in_help: "# HELP a text" => "text format parsing error in line 1: unexpected end of input stream";
        eof_in_type: "# TYPE a gauge" => "text format parsing error in line 1: unexpected end of input stream";
        eof_wins_over_bad_value: "a 0x10" => "text format parsing error in line 1: unexpected end of input stream";
        eof_in_label_value: "a{l=\"x" => "text format parsing error in line 1: unexpected end of input stream";
        eof_loses_to_spurious_check_order: "a 1 2 x" => "text format parsing error in line 1: unexpected end of input stream";
        second_type: "# TYPE a gauge\n# TYPE a gauge\na 1\n" => r#"text format parsing error in line 2: second TYPE line for metric name "a", or TYPE reported after samples"#;
        type_after_sample: "a 1\n# TYPE a gauge\n" => r#"text format parsing error in line 2: second TYPE line for metric name "a", or TYPE reported after samples"#;
        type_of_summary_suffix: "# TYPE s summary\n# TYPE s_count gauge\n" => r#"text format parsing error in line 2: second TYPE line for metric name "s", or TYPE reported after samples"#;
        second_help: "# HELP a x\n# HELP a y\na 1\n" => r#"text format parsing error in line 2: second HELP line for metric name "a""#;
        second_help_before_eof: "# HELP a x\n# HELP a y" => r#"text format parsing error in line 2: second HELP line for metric name "a""#;
        unknown_type: "# TYPE a foo\na 1\n" => r#"text format parsing error in line 1: unknown metric type "foo""#;
        unknown_type_gaugehistogram: "# TYPE a gaugehistogram\n" => r#"text format parsing error in line 1: unknown metric type "gaugehistogram""#;
        unknown_type_info: "# TYPE a info\n" => r#"text format parsing error in line 1: unknown metric type "info""#;
        unknown_type_stateset: "# TYPE a stateset\n" => r#"text format parsing error in line 1: unknown metric type "stateset""#;
        unknown_type_trailing_blank: "# TYPE a gauge \na 1\n" => r#"text format parsing error in line 1: unknown metric type "gauge ""#;
        unknown_type_two_words: "# TYPE a gauge x\n" => r#"text format parsing error in line 1: unknown metric type "gauge x""#;
        value_hex: "a 0x10\n" => r#"text format parsing error in line 1: expected float as value, got "0x10""#;
        value_hex_float: "a 0x1p3\n" => r#"text format parsing error in line 1: expected float as value, got "0x1p3""#;
        value_underscore: "a 1_000\n" => r#"text format parsing error in line 1: expected float as value, got "1_000""#;
        value_out_of_range: "a 1e999\n" => r#"text format parsing error in line 1: expected float as value, got "1e999""#;
        value_negative_out_of_range: "a -1e400\n" => r#"text format parsing error in line 1: expected float as value, got "-1e400""#;
        value_signed_nan: "a +nan\n" => r#"text format parsing error in line 1: expected float as value, got "+nan""#;
        value_negative_nan: "a -NaN\n" => r#"text format parsing error in line 1: expected float as value, got "-NaN""#;
        value_dot: "a .\n" => r#"text format parsing error in line 1: expected float as value, got ".""#;
        value_bare_exponent: "a 1e\n" => r#"text format parsing error in line 1: expected float as value, got "1e""#;
        value_infinit: "a infinit\n" => r#"text format parsing error in line 1: expected float as value, got "infinit""#;
        value_missing: "a\n" => r#"text format parsing error in line 1: expected float as value, got """#;
        value_missing_after_labels: "a{l=\"x\"}\n" => r#"text format parsing error in line 1: expected float as value, got """#;
        value_glued_to_name: "a$ 1\n" => r#"text format parsing error in line 1: expected float as value, got "$""#;
        value_crlf: "a 1\r\n" => r#"text format parsing error in line 1: expected float as value, got "1\r""#;
        crlf_blank_line: "a 1\n\r\n" => "text format parsing error in line 2: invalid metric name";
        timestamp_float: "a 1 1.5\n" => r#"text format parsing error in line 1: expected integer as timestamp, got "1.5""#;
        timestamp_overflow: "a 1 9223372036854775808\n" => r#"text format parsing error in line 1: expected integer as timestamp, got "9223372036854775808""#;
        trailing_blanks_after_value: "a 1  \n" => r#"text format parsing error in line 1: expected integer as timestamp, got """#;
        trailing_tab_after_value: "a 1\t\n" => r#"text format parsing error in line 1: expected integer as timestamp, got """#;
        spurious_after_timestamp: "a 1 2 x\n" => r#"text format parsing error in line 1: spurious string after timestamp: " x""#;
        spurious_blank_after_timestamp: "a 1 2 \n" => r#"text format parsing error in line 1: spurious string after timestamp: " ""#;
        spurious_drops_backslashes: "a 1 2 x\\y\n" => r#"text format parsing error in line 1: spurious string after timestamp: " xy""#;
        exemplar: "a 1 # {t=\"x\"} 1\n" => r##"text format parsing error in line 1: expected integer as timestamp, got "#""##;
        name_starts_with_digit: "0x10 1\n" => "text format parsing error in line 1: invalid metric name";
        name_starts_with_brace: "{l=\"x\"} 1\n" => "text format parsing error in line 1: invalid metric name";
        name_on_third_line: "a 1\n\n-a 1\n" => "text format parsing error in line 3: invalid metric name";
        comment_name_invalid: "# HELP 1a x\n" => "text format parsing error in line 1: invalid metric name in comment";
        comment_name_with_braces: "# TYPE a{l=\"x\"} gauge\n" => "text format parsing error in line 1: invalid metric name in comment";
        label_single_quoted: "i{l='x'} 1\n" => r#"text format parsing error in line 1: expected '"' at start of label value, found '\''"#;
        label_unquoted: "i{l=x} 1\n" => r#"text format parsing error in line 1: expected '"' at start of label value, found 'x'"#;
        label_value_latin1_byte: b"i{l=\xff\"} 1\n" => "text format parsing error in line 1: expected '\"' at start of label value, found '\u{ff}'";
        label_value_c1_byte: b"i{l=\x85\"} 1\n" => r#"text format parsing error in line 1: expected '"' at start of label value, found '\u0085'"#;
        label_bad_name_char: "i{l:x=\"y\"} 1\n" => "text format parsing error in line 1: expected '=' after label name, found ':'";
        label_name_then_newline: "i{l\n" => r"text format parsing error in line 1: expected '=' after label name, found '\n'";
        label_name_then_backslash: "i{l\\=\"\"} 1\n" => r"text format parsing error in line 1: expected '=' after label name, found '\\'";
        label_name_then_nul: "i{l\0} 1\n" => r"text format parsing error in line 1: expected '=' after label name, found '\x00'";
        label_name_empty: "i{,} 1\n" => r#"text format parsing error in line 1: invalid label name for metric "i""#;
        label_name_digit: "i{1=\"x\"} 1\n" => r#"text format parsing error in line 1: invalid label name for metric "i""#;
        label_duplicate: "l{a=\"x\",a=\"y\"} 1\n" => r#"text format parsing error in line 1: duplicate label names for metric "l""#;
        label_duplicate_checked_before_value: "l{a=\"x\",a=" => r#"text format parsing error in line 1: duplicate label names for metric "l""#;
        label_reserved: "l{__name__=\"x\"} 1\n" => r#"text format parsing error in line 1: label name "__name__" is reserved"#;
        label_bad_escape: "l{a=\"\\q\"} 1\n" => r"text format parsing error in line 1: invalid escape sequence '\q'";
        label_escaped_newline: "l{a=\"x\\\ny\"} 1\n" => "text format parsing error in line 1: invalid escape sequence '\\\n'";
        label_raw_newline: "l{a=\"x\ny\"} 1\n" => r#"text format parsing error in line 1: label value "x" contains unescaped new-line"#;
        label_raw_newline_after_escape: "a 1\nl{a=\"x\\\"y\nz\"} 1\n" => r#"text format parsing error in line 2: label value "x\"y" contains unescaped new-line"#;
        label_invalid_utf8: b"l{a=\"\xff\"} 1\n" => r#"text format parsing error in line 1: invalid label value "\xff""#;
        label_invalid_utf8_escaped: b"l{a=\"\\n\xc3\"} 1\n" => r#"text format parsing error in line 1: invalid label value "\n\xc3""#;
        label_missing_comma: "l{a=\"x\" b=\"y\"} 1\n" => r#"text format parsing error in line 1: unexpected end of label value "x""#;
        help_escaped_quote: "# HELP a x\\\"y\na 1\n" => r#"text format parsing error in line 1: invalid escape sequence '\"'"#;
        help_bad_escape_before_eof: "# HELP a \\t" => r"text format parsing error in line 1: invalid escape sequence '\t'";
        help_trailing_backslash: "# HELP a x\\\n" => "text format parsing error in line 1: invalid escape sequence '\\\n'";
        quantile_not_float: "# TYPE s summary\ns{quantile=\"abc\"} 1\n" => r#"text format parsing error in line 2: expected float as value for 'quantile' label, got "abc""#;
        quantile_checked_before_eof: "# TYPE s summary\ns{quantile=\"x\"" => r#"text format parsing error in line 2: expected float as value for 'quantile' label, got "x""#;
        quantile_on_count_line: "# TYPE s summary\ns_count{quantile=\"x\"} 1\n" => r#"text format parsing error in line 2: expected float as value for 'quantile' label, got "x""#;
        le_not_float: "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n" => r#"text format parsing error in line 2: expected float as value for 'le' label, got "x""#;
        le_hex: "# TYPE h histogram\nh_bucket{le=\"0x1p3\"} 1\n" => r#"text format parsing error in line 2: expected float as value for 'le' label, got "0x1p3""#;
    }

    // Accepted bodies.
    cases! {
        empty_body: "" => "";
        only_blanks: "  \t " => "";
        trailing_blanks_at_eof: "a 1\n  " => "a Untyped\n  {} 1.0\n";
        comments_and_blank_lines: "# just a comment\n#\n\n   \nc1 1\n" => "c1 Untyped\n  {} 1.0\n";
        tab_separator: "c2\t1\n" => "c2 Untyped\n  {} 1.0\n";
        leading_blanks: "   c3 1\n" => "c3 Untyped\n  {} 1.0\n";
        lowercase_type_is_comment: "# type c4 gauge\nc4 1\n" => "c4 Untyped\n  {} 1.0\n";
        type_case_insensitive: "# TYPE c5 GaUgE\nc5 1\n" => "c5 Gauge\n  {} 1.0\n";
        type_dotless_i: "# TYPE h hıstogram\nh_count 1\n" => "h Histogram\n  {} sum=0.0 count=1 b=[]\n";
        type_backslashes_dropped: "# TYPE a gau\\ge\na 1\n" => "a Gauge\n  {} 1.0\n";
        type_without_value: "# TYPE a\na 1\n" => "a Untyped\n  {} 1.0\n";
        type_name_then_blanks: "# TYPE a  \na 1\n" => "a Untyped\n  {} 1.0\n";
        help_without_text: "# HELP a\na 1\n" => "a Untyped\n  {} 1.0\n";
        help_glued_to_hash: "#HELP a text\na 1\n" => "a Untyped help=\"text\"\n  {} 1.0\n";
        help_keeps_trailing_blanks: "# HELP a  some text \t\na 1\n" => "a Untyped help=\"some text \\t\"\n  {} 1.0\n";
        help_escapes: "# HELP a x\\\\y\\nz\na 1\n" => "a Untyped help=\"x\\\\y\\nz\"\n  {} 1.0\n";
        eof_comment_ignored: "a 1\n# EOF\n" => "a Untyped\n  {} 1.0\n";
        unit_comment_ignored: "# UNIT a seconds\na 1\n" => "a Untyped\n  {} 1.0\n";
        colon_name: "my:metric 1\n" => "my:metric Untyped\n  {} 1.0\n";
        trailing_comma: "i{l=\"x\",} 1\n" => "i Untyped\n  {l=\"x\"} 1.0\n";
        empty_braces: "k{} 1\n" => "k Untyped\n  {} 1.0\n";
        braces_glued_to_value: "k{}1\n" => "k Untyped\n  {} 1.0\n";
        blank_before_brace: "k {l=\"x\"} 1\n" => "k Untyped\n  {l=\"x\"} 1.0\n";
        blanks_inside_braces: "j{ l = \"x\" , m = \"y\" } 1\n" => "j Untyped\n  {l=\"x\",m=\"y\"} 1.0\n";
        other_reserved_prefix_ok: "j{__x=\"y\"} 1\n" => "j Untyped\n  {__x=\"y\"} 1.0\n";
        label_escapes: "j{l=\"a\\\\b\\\"c\\nd\"} 1\n" => "j Untyped\n  {l=\"a\\\\b\\\"c\\nd\"} 1.0\n";
        label_utf8: "j{l=\"héllo\"} 1\n" => "j Untyped\n  {l=\"héllo\"} 1.0\n";
        late_help: "late_help 1\n# HELP late_help given after the sample\n" => "late_help Untyped help=\"given after the sample\"\n  {} 1.0\n";
        help_only_family_dropped: "# HELP x foo\n# TYPE x gauge\ny 1\n" => "y Untyped\n  {} 1.0\n";
        interleaved_families: "a 1\nb 2\na{x=\"y\"} 3\n" => "a Untyped\n  {} 1.0\n  {x=\"y\"} 3.0\nb Untyped\n  {} 2.0\n";
        floats_special: "f NaN\nf nan\nf Inf\nf +Inf\nf -Inf\nf inf\nf Infinity\nf +infinity\nf -INF\n" => "f Untyped\n  {} NaN\n  {} NaN\n  {} inf\n  {} inf\n  {} -inf\n  {} inf\n  {} inf\n  {} inf\n  {} -inf\n";
        floats_forms: "f 1e3\nf .5\nf -0\nf 1.\nf +1.5E-3\nf 1e-400\nf 007\nf 123456789012345678\n" => "f Untyped\n  {} 1000.0\n  {} 0.5\n  {} -0.0\n  {} 1.0\n  {} 0.0015\n  {} 0.0\n  {} 7.0\n  {} 1.2345678901234568e17\n";
        timestamps: "t 1 123\nt 2 -5\nt 3 +5\nt 4\t 7\n" => "t Untyped\n  {} 1.0 @123\n  {} 2.0 @-5\n  {} 3.0 @5\n  {} 4.0 @7\n";
        gauge_histogram_value_dropped: "# TYPE g gauge_histogram\ng{le=\"1\"} 3\ng_bucket{le=\"1\"} 3\n" => "g GaugeHistogram\n  {le=\"1\"} sum=0.0 count=0 b=[]\ng_bucket Untyped\n  {le=\"1\"} 3.0\n";
        summary_merging: concat!(
            "# TYPE s summary\n",
            "s{b=\"2\",a=\"1\",quantile=\"0.5\"} 10\n",
            "s{a=\"1\",b=\"2\",quantile=\"0.9\"} 20 1000\n",
            "s_sum{a=\"1\",b=\"2\"} 33.5\n",
            "s_count{b=\"2\",a=\"1\"} 2.7\n",
            "s{a=\"x\"} 99\n",
            "s{quantile=\"NaN\",a=\"y\"} 5\n",
            "s_bucket{le=\"1\"} 4\n",
            "s{} 1\n",
        ) => concat!(
            "s Summary\n",
            "  {b=\"2\",a=\"1\"} sum=33.5 count=2 q=[(0.5, 10.0), (0.9, 20.0)] @1000\n",
            "  {a=\"x\"} sum=0.0 count=0 q=[]\n",
            "  {a=\"y\"} sum=0.0 count=0 q=[]\n",
            "  {} sum=0.0 count=0 q=[]\n",
            "s_bucket Untyped\n",
            "  {le=\"1\"} 4.0\n",
        );
        histogram_merging: concat!(
            "# HELP h Latency.\n",
            "# TYPE h histogram\n",
            "h_bucket{le=\"1\"} 1.5\n",
            "h_bucket{le=\"+Inf\"} 3\n",
            "h_bucket{le=\"0.5\"} 1\n",
            "h_bucket 7\n",
            "h{le=\"2\"} 2\n",
            "h_sum 4.25\n",
            "h_count 3\n",
            "h_count{x=\"y\"} -1\n",
            "h_created 1.6e9\n",
        ) => concat!(
            "h Histogram help=\"Latency.\"\n",
            "  {} sum=4.25 count=3 b=[(1.0, 1), (inf, 3), (0.5, 1), (2.0, 2)]\n",
            "  {x=\"y\"} sum=0.0 count=18446744073709551615 b=[]\n",
            "h_created Untyped\n",
            "  {} 1600000000.0\n",
        );
        help_via_suffix: "# TYPE s summary\n# HELP s_sum sum help\ns_sum 1\n" => "s Summary help=\"sum help\"\n  {} sum=1.0 count=0 q=[]\n";
        suffix_family_shadows: "# HELP x_count c\n# TYPE x summary\nx_count 2\nx 1\n" => "x_count Untyped help=\"c\"\n  {} 2.0\nx Summary\n  {} sum=0.0 count=0 q=[]\n";
        le_kept_for_gauge: "# TYPE g gauge\ng{le=\"x\"} 1\n" => "g Gauge\n  {le=\"x\"} 1.0\n";
        python_client: concat!(
            "# HELP python_gc_objects_collected_total Objects collected during gc\n",
            "# TYPE python_gc_objects_collected_total counter\n",
            "python_gc_objects_collected_total{generation=\"0\"} 331.0\n",
            "python_gc_objects_collected_total{generation=\"1\"} 30.0\n",
            "# HELP python_info Python platform information\n",
            "# TYPE python_info gauge\n",
            "python_info{implementation=\"CPython\",major=\"3\",minor=\"11\",patchlevel=\"2\",version=\"3.11.2\"} 1.0\n",
            "# HELP jobs_total Jobs.\n",
            "# TYPE jobs_total counter\n",
            "jobs_total 3.0\n",
            "# HELP jobs_created Jobs.\n",
            "# TYPE jobs_created gauge\n",
            "jobs_created 1.7001234567891e+09\n",
            "# HELP latency_seconds Latency.\n",
            "# TYPE latency_seconds summary\n",
            "latency_seconds_count 2.0\n",
            "latency_seconds_sum 0.75\n",
            "# HELP latency_seconds_created Latency.\n",
            "# TYPE latency_seconds_created gauge\n",
            "latency_seconds_created 1.7001234567891e+09\n",
        ) => concat!(
            "python_gc_objects_collected_total Counter help=\"Objects collected during gc\"\n",
            "  {generation=\"0\"} 331.0\n",
            "  {generation=\"1\"} 30.0\n",
            "python_info Gauge help=\"Python platform information\"\n",
            "  {implementation=\"CPython\",major=\"3\",minor=\"11\",patchlevel=\"2\",version=\"3.11.2\"} 1.0\n",
            "jobs_total Counter help=\"Jobs.\"\n",
            "  {} 3.0\n",
            "jobs_created Gauge help=\"Jobs.\"\n",
            "  {} 1700123456.7891\n",
            "latency_seconds Summary help=\"Latency.\"\n",
            "  {} sum=0.75 count=2 q=[]\n",
            "latency_seconds_created Gauge help=\"Latency.\"\n",
            "  {} 1700123456.7891\n",
        );
    }

    fn check_utf8(input: &[u8], expect: &str) {
        let got = parse_with(input, NameValidation::Utf8);
        assert_eq!(outcome(&got), expect, "input {:?}", quote(input));
    }

    macro_rules! utf8_cases {
        ($($name:ident: $input:expr => $expect:expr;)*) => {$(
            #[test]
            fn $name() {
                check_utf8(AsRef::<[u8]>::as_ref(&$input), $expect);
            }
        )*};
    }

    // `--push.enable-utf8-names`: quoted names (text format 1.0.0 syntax).
    utf8_cases! {
        utf8_braced_name_and_label: "{\"my.metric\", \"label.name\"=\"v\"} 1\n" => "my.metric Untyped\n  {label.name=\"v\"} 1.0\n";
        utf8_braced_name_only: "{\"my.metric\"} 2\n" => "my.metric Untyped\n  {} 2.0\n";
        utf8_braced_legacy_name: "{ a , b=\"c\" } 3\n" => "a Untyped\n  {b=\"c\"} 3.0\n";
        utf8_braced_trailing_comma: "{\"a.b\",} 1\n" => "a.b Untyped\n  {} 1.0\n";
        utf8_quoted_label_after_legacy_name: "my_metric{\"label.name\"=\"v\",x=\"y\"} 1\n" => "my_metric Untyped\n  {label.name=\"v\",x=\"y\"} 1.0\n";
        utf8_quoted_name_outside_braces: "\"a.b\"{c=\"d\"} 1\n\"a.b\" 2\n" => "a.b Untyped\n  {c=\"d\"} 1.0\n  {} 2.0\n";
        utf8_quoted_equals_legacy: "{\"a\"} 1\na 2\n" => "a Untyped\n  {} 1.0\n  {} 2.0\n";
        utf8_help_and_type: "# HELP \"my.metric\" Some help.\n# TYPE \"my.metric\" gauge\n{\"my.metric\"} 1\n" => "my.metric Gauge help=\"Some help.\"\n  {} 1.0\n";
        utf8_summary_parts: "# TYPE \"s.x\" summary\n{\"s.x\",quantile=\"0.5\"} 1\n{\"s.x_sum\"} 2\n{\"s.x_count\"} 3\n" => "s.x Summary\n  {} sum=2.0 count=3 q=[(0.5, 1.0)]\n";
        utf8_escapes_in_names: "{\"a\\\"b\\\\c\\nd\", \"x\\\"y\"=\"v\"} 1\n" => "a\"b\\c\nd Untyped\n  {x\"y=\"v\"} 1.0\n";
        utf8_unicode: "{\"température\", \"😱\"=\"v\"} 1\n" => "température Untyped\n  {😱=\"v\"} 1.0\n";
        utf8_legacy_body_unchanged: "# TYPE a gauge\na{b=\"c\"} 1\n" => "a Gauge\n  {b=\"c\"} 1.0\n";
        utf8_empty_braces: "{} 1\n" => "text format parsing error in line 1: invalid metric name";
        utf8_label_before_name: "{a=\"b\"} 1\n" => "text format parsing error in line 1: invalid metric name";
        utf8_empty_quoted_name: "\"\" 1\n" => "text format parsing error in line 1: invalid metric name";
        utf8_empty_braced_name: "{\"\"} 1\n" => "text format parsing error in line 1: invalid metric name";
        utf8_empty_label_name: "a{\"\"=\"v\"} 1\n" => r#"text format parsing error in line 1: invalid label name for metric "a""#;
        utf8_two_names: "{\"a\", \"b\"} 1\n" => r#"text format parsing error in line 1: multiple metric names for metric "a""#;
        utf8_name_then_garbage: "{\"a\" x} 1\n" => "text format parsing error in line 1: unexpected end of metric name 'x'";
        utf8_name_newline: "\"a\nb\" 1\n" => r#"text format parsing error in line 1: metric name "a" contains unescaped new-line"#;
        utf8_braced_name_newline: "{\"a\n" => r#"text format parsing error in line 1: label name "a" contains unescaped new-line"#;
        utf8_label_name_newline: "m{\"a\\\"\n" => r#"text format parsing error in line 1: label name "a\"" contains unescaped new-line"#;
        utf8_name_bad_escape: "{\"a\\t\"} 1\n" => r"text format parsing error in line 1: invalid escape sequence '\t'";
        utf8_name_invalid_utf8: b"{\"a\xff\"} 1\n" => r#"text format parsing error in line 1: invalid metric name "a\xff""#;
        utf8_label_invalid_utf8: b"m{\"\xff\"=\"v\"} 1\n" => r#"text format parsing error in line 1: invalid label name "\xff""#;
        utf8_comment_empty_name: "# HELP \"\" x\n" => r#"text format parsing error in line 1: invalid metric name """#;
        utf8_comment_name_glued: "# TYPE \"a\"gauge\n" => "text format parsing error in line 1: invalid metric name in comment";
        utf8_comment_name_only: "# TYPE \"a.b\"\na 1\n" => "a Untyped\n  {} 1.0\n";
        utf8_quoted_reserved: "m{\"__name__\"=\"x\"} 1\n" => r#"text format parsing error in line 1: label name "__name__" is reserved"#;
        utf8_quoted_duplicate: "m{a=\"x\",\"a\"=\"y\"} 1\n" => r#"text format parsing error in line 1: duplicate label names for metric "m""#;
        utf8_eof_after_quote: "{\"a\"" => "text format parsing error in line 1: unexpected end of input stream";
        utf8_eof_in_quote: "\"a" => "text format parsing error in line 1: unexpected end of input stream";
        utf8_eof_after_comment_name: "# HELP \"a\"" => "text format parsing error in line 1: unexpected end of input stream";
        utf8_value_after_braces_not_labels: "{\"a\"}{b=\"c\"} 1\n" => r#"text format parsing error in line 1: expected float as value, got "{b=\"c\"}""#;
        utf8_legacy_label_then_quote: "m{a\"b\"=\"v\"} 1\n" => r#"text format parsing error in line 1: expected '=' after label name, found '"'"#;
    }

    // Without the flag the same lines fail exactly as the Go Pushgateway 1.5.1 fails.
    cases! {
        legacy_rejects_braced_name: "{\"my.metric\"} 1\n" => "text format parsing error in line 1: invalid metric name";
        legacy_rejects_quoted_name: "\"a\" 1\n" => "text format parsing error in line 1: invalid metric name";
        legacy_rejects_quoted_label: "m{\"a.b\"=\"v\"} 1\n" => r#"text format parsing error in line 1: invalid label name for metric "m""#;
        legacy_rejects_quoted_comment_name: "# HELP \"a\" x\n" => "text format parsing error in line 1: invalid metric name in comment";
    }

    #[test]
    fn utf8_names_borrow_the_body_unless_unescaped() {
        let body = b"{\"a.b\", \"c.d\"=\"v\"} 1\n{\"e\\\"f\"} 2\n";
        let f = parse_with(body, NameValidation::Utf8).unwrap();
        assert!(matches!(f[0].name, Cow::Borrowed("a.b")));
        assert!(matches!(f[0].metrics[0].labels[0].name, Cow::Borrowed("c.d")));
        assert!(matches!(&f[1].name, Cow::Owned(n) if n == "e\"f"));
    }

    #[test]
    fn error_fields() {
        let e = parse(b"a 1\nb 0x10\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.kind, ErrorKind::InvalidValue);
        assert_eq!(e.detail, "\"0x10\"");
        assert!(e.to_string().starts_with(E));
    }

    #[test]
    fn tokens_borrow_the_body_unless_unescaped() {
        let body = b"# HELP a plain\na{x=\"v\",y=\"w\\\\\"} 1\n# HELP b es\\ncaped\nb 1\n";
        let f = parse(body).unwrap();
        assert!(matches!(f[0].name, Cow::Borrowed(_)));
        assert!(matches!(f[0].help, Some(Cow::Borrowed("plain"))));
        assert!(matches!(f[0].metrics[0].labels[0].value, Cow::Borrowed("v")));
        assert!(matches!(&f[0].metrics[0].labels[1].value, Cow::Owned(v) if v == "w\\"));
        assert!(matches!(&f[1].help, Some(Cow::Owned(h)) if h == "es\ncaped"));
    }

    #[test]
    fn nan_has_go_bits() {
        let f = parse(b"a NaN\n").unwrap();
        assert!(
            matches!(f[0].metrics[0].value, Value::Simple(v) if v.to_bits() == GO_NAN.to_bits())
        );
    }

    #[test]
    fn invalid_utf8_help_is_replaced() {
        let f = parse(b"# HELP a x\xffy\na 1\n").unwrap();
        assert_eq!(f[0].help.as_deref(), Some("x\u{fffd}y"));
    }

    #[test]
    fn go_float_to_uint_amd64() {
        assert_eq!(go_f64_to_u64(2.7), 2);
        assert_eq!(go_f64_to_u64(-0.5), 0);
        assert_eq!(go_f64_to_u64(-1.0), u64::MAX);
        assert_eq!(go_f64_to_u64(f64::NAN), 1 << 63);
        assert_eq!(go_f64_to_u64(f64::INFINITY), 1 << 63);
        assert_eq!(go_f64_to_u64(-1e300), 1 << 63);
        assert_eq!(go_f64_to_u64(1e19), 10_000_000_000_000_000_000);
        assert_eq!(go_f64_to_u64(1e20), 1 << 63);
    }

    #[test]
    fn go_byte_quoting() {
        assert_eq!(go_quote_byte(b'a'), "'a'");
        assert_eq!(go_quote_byte(b'"'), "'\"'");
        assert_eq!(go_quote_byte(b'\''), r"'\''");
        assert_eq!(go_quote_byte(0x7f), r"'\x7f'");
        assert_eq!(go_quote_byte(0x9f), r"'\u009f'");
        assert_eq!(go_quote_byte(0xa0), r"'\u00a0'");
        assert_eq!(go_quote_byte(0xad), r"'\u00ad'");
        assert_eq!(go_quote_byte(0xe9), "'é'");
    }

    #[test]
    fn names_resolve_alike_below_and_above_the_scan_limit() {
        // Families interleaved so that lines name early families again once
        // the lookup has moved from a scan to the map.
        let mut body = String::from("# TYPE h histogram\n# TYPE s summary\n");
        for i in 0..2 * LINEAR_LOOKUP {
            body.push_str(&format!("# HELP g{i} help {i}\ng{i}{{a=\"x\"}} {i}\n"));
            body.push_str(&format!("h_bucket{{le=\"{i}\"}} {i}\nh_count {i}\ns_sum {i}\n"));
            body.push_str(&format!("g{}{{a=\"y{i}\"}} 1\n", i / 2));
        }
        assert_matches_oracle(body.as_bytes());
        let f = parse(body.as_bytes()).unwrap();
        assert_eq!(f.len(), 2 + 2 * LINEAR_LOOKUP);
        assert!(
            matches!(&f[0].metrics[0].value, Value::Histogram { buckets, .. } if buckets.len() == 2 * LINEAR_LOOKUP)
        );
        assert_eq!(f[2].name, "g0");
        assert_eq!(f[2].metrics.len(), 3);
        // A second HELP for an early family is found through the map.
        let again = format!("{body}# HELP g0 again\n");
        assert_matches_oracle(again.as_bytes());
        assert!(parse(again.as_bytes()).unwrap_err().to_string().contains("second HELP line"));
    }

    #[test]
    fn series_merge_alike_around_the_scan_limit() {
        for n in SERIES_SCAN - 1..=SERIES_SCAN + 2 {
            let mut body = String::from("# TYPE s summary\n");
            for i in 0..n {
                body.push_str(&format!("s{{i=\"{i}\",quantile=\"0.5\"}} {i}\n"));
            }
            for i in (0..n).rev() {
                body.push_str(&format!("s_sum{{i=\"{i}\"}} {i}\ns_count{{i=\"{i}\"}} {i}\n"));
            }
            assert_matches_oracle(body.as_bytes());
            let f = parse(body.as_bytes()).unwrap();
            assert_eq!(f[0].metrics.len(), n);
            assert!(
                matches!(&f[0].metrics[n - 1].value, Value::Summary { count, quantiles, .. } if *count == n as u64 - 1 && quantiles.len() == 1)
            );
        }
    }

    #[test]
    fn many_series_merge_through_the_index() {
        let mut body = String::from("# TYPE h histogram\n");
        for le in ["1", "2", "+Inf"] {
            for i in 0..50 {
                body.push_str(&format!("h_bucket{{i=\"{i}\",le=\"{le}\"}} {i}\n"));
            }
        }
        for i in (0..50).rev() {
            body.push_str(&format!("h_count{{i=\"{i}\"}} {i}\n"));
        }
        assert_matches_oracle(body.as_bytes());
        let f = parse(body.as_bytes()).unwrap();
        assert_eq!(f[0].metrics.len(), 50);
        assert!(
            matches!(&f[0].metrics[7].value, Value::Histogram { count: 7, buckets, .. } if buckets.len() == 3)
        );
    }

    /// Fragments that steer the state machine into its interesting corners.
    const FRAGMENTS: &[&str] = &[
        "# ",
        "#",
        "HELP ",
        "TYPE ",
        "# HELP ",
        "# TYPE ",
        "summary",
        "histogram",
        "gauge",
        "counter",
        "untyped",
        "gauge_histogram",
        "s",
        "h",
        "a",
        "_sum",
        "_count",
        "_bucket",
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
        "\t",
        "\n",
        "\n",
        "\n",
        "1",
        "2.5",
        "-3",
        "NaN",
        "1e999",
        "0x1",
        "17",
        " 123",
        "\r",
        "\u{131}",
        "\u{ff}",
        "é",
    ];

    fn fragment_body() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40)
            .prop_map(|parts| parts.concat().into_bytes())
    }

    fn valid_body() -> impl Strategy<Value = Vec<u8>> {
        let name = prop::sample::select(vec!["s", "h", "g", "c", "u", "x_total"]);
        let suffix = prop::sample::select(vec!["", "", "_sum", "_count", "_bucket"]);
        let lname = prop::sample::select(vec!["a", "b", "le", "quantile", "job"]);
        let lvalue = prop::sample::select(vec!["1", "0.5", "+Inf", "x", "y\\\\z", "", "\\n"]);
        let label = (lname, lvalue).prop_map(|(n, v)| {
            // `le` and `quantile` must be floats in histograms and summaries.
            let special = n == "le" || n == "quantile";
            let v = if special && parse_go_float(v.as_bytes()).is_none() { "1" } else { v };
            format!("{n}=\"{v}\"")
        });
        let value = prop::sample::select(vec!["1", "0", "2.5", "NaN", "+Inf", "-1", "1e3"]);
        let ts = prop::option::of(-5i64..5);
        let sample = (name.clone(), suffix, prop::collection::vec(label, 0..4), value, ts)
            .prop_map(|(n, s, mut labels, v, ts)| {
                labels.sort();
                labels.dedup_by(|a, b| a.split('=').next() == b.split('=').next());
                let ts = ts.map(|t| format!(" {t}")).unwrap_or_default();
                format!("{n}{s}{{{}}} {v}{ts}\n", labels.join(","))
            });
        let header = (name, prop::sample::select(vec!["summary", "histogram", "gauge", "counter"]))
            .prop_map(|(n, t)| format!("# TYPE {n} {t}\n# HELP {n} help for {n}\n"));
        (prop::collection::vec(header, 0..3), prop::collection::vec(sample, 0..30)).prop_map(
            |(headers, samples)| {
                let mut body = String::new();
                let mut seen = Vec::new();
                for h in headers {
                    let name = h.split(' ').nth(2).unwrap_or_default().to_owned();
                    if !seen.contains(&name) {
                        seen.push(name);
                        body.push_str(&h);
                    }
                }
                body.push_str(&samples.concat());
                body.into_bytes()
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics_and_matches_oracle_on_bytes(body in prop::collection::vec(any::<u8>(), 0..200)) {
            assert_matches_oracle(&body);
        }

        #[test]
        fn matches_oracle_on_fragments(body in fragment_body()) {
            assert_matches_oracle(&body);
        }

        #[test]
        fn fast_path_is_invisible_on_fragments(body in fragment_body()) {
            assert_fast_path_invisible(&body);
        }

        #[test]
        fn fast_path_is_invisible_on_valid_bodies(body in valid_body()) {
            assert_fast_path_invisible(&body);
        }

        #[test]
        fn fast_path_is_invisible_on_bytes(body in prop::collection::vec(any::<u8>(), 0..200)) {
            assert_fast_path_invisible(&body);
        }

        #[test]
        fn utf8_mode_accepts_what_legacy_accepts(body in prop::collection::vec(
            prop::sample::select([FRAGMENTS, &["{\"", "\"", "\"a.b\"", "{\"x.y\","]].concat()),
            0..40,
        )) {
            let body = body.concat().into_bytes();
            let utf8 = outcome(&parse_with(&body, NameValidation::Utf8));
            if let Ok(legacy) = parse(&body) {
                prop_assert_eq!(describe(&legacy), utf8);
            };
        }

        #[test]
        fn matches_oracle_on_valid_bodies(body in valid_body()) {
            assert_matches_oracle(&body);
            prop_assert!(parse(&body).is_ok(), "{}", String::from_utf8_lossy(&body));
        }

        #[test]
        fn decimal_floats_round_like_rust(
            s in "[+-]?[0-9]{0,20}(\\.[0-9]{0,20})?([eE][+-]?[0-9]{1,3})?",
        ) {
            // On Go's decimal grammar Rust's parser is the reference, except
            // that overflow to infinity is an error.
            let want = s.parse::<f64>().ok().filter(|v| v.is_finite()).map(f64::to_bits);
            prop_assert_eq!(parse_go_float(s.as_bytes()).map(f64::to_bits), want);
        }
    }
}
