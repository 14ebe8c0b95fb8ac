//! Test oracle: a literal, byte-at-a-time transcription of the Go
//! `TextParser` state machine (prometheus/common v0.37.0), without any of the
//! fast paths of the real parser. Only used to cross-check it.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use super::{go_f64_to_u64, go_quote_byte, parse_go_float, Error, ErrorKind};
use crate::expfmt::family::{Family, Label, Metric, MetricType, Value};
use crate::gofmt::quote;

enum Ev {
    Eof,
    Parse(ErrorKind, String),
    /// Go's plain `fmt.Errorf` for an unexpected type; overwritten by the next read.
    Other,
}

#[derive(Clone, Copy, PartialEq)]
enum St {
    StartOfLine,
    StartComment,
    ReadingMetricName,
    ReadingLabels,
    StartLabelName,
    StartLabelValue,
    ReadingValue,
    StartTimestamp,
    ReadingHelp,
    ReadingType,
    Done,
}

#[derive(Clone)]
enum NVal {
    None,
    Simple(f64),
    Summary(u64, f64, Vec<(f64, f64)>),
    Histogram(u64, f64, Vec<(f64, u64)>),
}

#[derive(Clone)]
struct NMetric {
    labels: Vec<(String, String)>,
    value: NVal,
    ts: Option<i64>,
}

struct NFamily {
    name: String,
    help: Option<Vec<u8>>,
    typ: Option<MetricType>,
    metrics: Vec<NMetric>,
}

struct P<'a> {
    buf: &'a [u8],
    pos: usize,
    cur: u8,
    err: Option<Ev>,
    line: u32,
    token: Vec<u8>,
    fams: Vec<NFamily>,
    by_name: HashMap<String, usize>,
    mf: usize,
    metric: NMetric,
    metric_idx: usize,
    pair_name: String,
    pair_appended: bool,
    pair_value: String,
    labels_map: BTreeMap<String, String>,
    series: Vec<(usize, BTreeMap<String, String>, usize)>,
    quantile: f64,
    bucket: f64,
    s_count: bool,
    s_sum: bool,
    h_count: bool,
    h_sum: bool,
}

fn blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn lstart(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_uppercase() || b == b'_'
}

fn lcont(b: u8) -> bool {
    lstart(b) || b.is_ascii_digit()
}

fn mstart(b: u8) -> bool {
    lstart(b) || b == b':'
}

fn mcont(b: u8) -> bool {
    lcont(b) || b == b':'
}

impl<'a> P<'a> {
    fn read(&mut self) {
        if self.pos < self.buf.len() {
            self.cur = self.buf[self.pos];
            self.pos += 1;
            self.err = None;
        } else {
            self.cur = 0;
            self.err = Some(Ev::Eof);
        }
    }

    fn failed(&self) -> bool {
        self.err.is_some()
    }

    fn perr(&mut self, kind: ErrorKind, detail: String) {
        self.err = Some(Ev::Parse(kind, detail));
    }

    fn skip_blank_tab(&mut self) {
        loop {
            self.read();
            if self.failed() || !blank(self.cur) {
                return;
            }
        }
    }

    fn skip_if_blank(&mut self) {
        if blank(self.cur) {
            self.skip_blank_tab();
        }
    }

    fn token_until_ws(&mut self) {
        self.token.clear();
        while !self.failed() && !blank(self.cur) && self.cur != b'\n' {
            self.token.push(self.cur);
            self.read();
        }
    }

    fn token_until_newline(&mut self, escapes: bool) {
        self.token.clear();
        let mut escaped = false;
        while !self.failed() {
            if escapes && escaped {
                match self.cur {
                    b'\\' => self.token.push(b'\\'),
                    b'n' => self.token.push(b'\n'),
                    c => {
                        self.perr(ErrorKind::InvalidEscape, char::from(c).to_string());
                        return;
                    }
                }
                escaped = false;
            } else {
                match self.cur {
                    b'\n' => return,
                    b'\\' => escaped = true,
                    c => self.token.push(c),
                }
            }
            self.read();
        }
    }

    fn token_name(&mut self, start: fn(u8) -> bool, cont: fn(u8) -> bool) {
        self.token.clear();
        if !start(self.cur) {
            return;
        }
        loop {
            self.token.push(self.cur);
            self.read();
            if self.failed() || !cont(self.cur) {
                return;
            }
        }
    }

    fn token_label_value(&mut self) {
        self.token.clear();
        let mut escaped = false;
        loop {
            self.read();
            if self.failed() {
                return;
            }
            if escaped {
                match self.cur {
                    b'"' | b'\\' => self.token.push(self.cur),
                    b'n' => self.token.push(b'\n'),
                    c => {
                        self.perr(ErrorKind::InvalidEscape, char::from(c).to_string());
                        return;
                    }
                }
                escaped = false;
                continue;
            }
            match self.cur {
                b'"' => return,
                b'\n' => {
                    let d = quote(&self.token);
                    self.perr(ErrorKind::UnescapedNewline, d);
                    return;
                }
                b'\\' => escaped = true,
                c => self.token.push(c),
            }
        }
    }

    fn tok(&self) -> String {
        String::from_utf8_lossy(&self.token).into_owned()
    }

    fn set_or_create(&mut self) {
        self.s_count = false;
        self.s_sum = false;
        self.h_count = false;
        self.h_sum = false;
        let name = self.tok();
        if let Some(&i) = self.by_name.get(&name) {
            self.mf = i;
            return;
        }
        let is_count = name.len() > 6 && name.ends_with("_count");
        let is_sum = name.len() > 4 && name.ends_with("_sum");
        let is_bucket = name.len() > 7 && name.ends_with("_bucket");
        let summary_name = if is_count {
            &name[..name.len() - 6]
        } else if is_sum {
            &name[..name.len() - 4]
        } else {
            &name[..]
        };
        if let Some(&i) = self.by_name.get(summary_name) {
            if self.fams[i].typ == Some(MetricType::Summary) {
                self.mf = i;
                self.s_count = is_count;
                self.s_sum = is_sum;
                return;
            }
        }
        let histogram_name = if is_count {
            &name[..name.len() - 6]
        } else if is_sum {
            &name[..name.len() - 4]
        } else if is_bucket {
            &name[..name.len() - 7]
        } else {
            &name[..]
        };
        if let Some(&i) = self.by_name.get(histogram_name) {
            if self.fams[i].typ == Some(MetricType::Histogram) {
                self.mf = i;
                self.h_count = is_count;
                self.h_sum = is_sum;
                return;
            }
        }
        self.mf = self.fams.len();
        self.fams.push(NFamily { name: name.clone(), help: None, typ: None, metrics: Vec::new() });
        self.by_name.insert(name, self.mf);
    }

    fn typ(&self) -> Option<MetricType> {
        self.fams[self.mf].typ
    }

    fn mf_name(&self) -> String {
        quote(self.fams[self.mf].name.as_bytes())
    }

    fn step(&mut self, st: St) -> St {
        match st {
            St::StartOfLine => {
                self.line += 1;
                self.skip_blank_tab();
                if self.failed() {
                    self.err = None;
                    return St::Done;
                }
                match self.cur {
                    b'#' => St::StartComment,
                    b'\n' => St::StartOfLine,
                    _ => St::ReadingMetricName,
                }
            }
            St::StartComment => {
                self.skip_blank_tab();
                if self.failed() {
                    return St::Done;
                }
                if self.cur == b'\n' {
                    return St::StartOfLine;
                }
                self.token_until_ws();
                if self.failed() {
                    return St::Done;
                }
                if self.cur == b'\n' {
                    return St::StartOfLine;
                }
                let keyword = self.token.clone();
                if keyword != b"HELP" && keyword != b"TYPE" {
                    while self.cur != b'\n' {
                        self.read();
                        if self.failed() {
                            return St::Done;
                        }
                    }
                    return St::StartOfLine;
                }
                self.skip_blank_tab();
                if self.failed() {
                    return St::Done;
                }
                self.token_name(mstart, mcont);
                if self.failed() {
                    return St::Done;
                }
                if self.cur == b'\n' {
                    return St::StartOfLine;
                }
                if !blank(self.cur) {
                    self.perr(ErrorKind::InvalidMetricNameInComment, String::new());
                    return St::Done;
                }
                self.set_or_create();
                self.skip_blank_tab();
                if self.failed() {
                    return St::Done;
                }
                if self.cur == b'\n' {
                    return St::StartOfLine;
                }
                if keyword == b"HELP" {
                    St::ReadingHelp
                } else {
                    St::ReadingType
                }
            }
            St::ReadingMetricName => {
                self.token_name(mstart, mcont);
                if self.failed() {
                    return St::Done;
                }
                if self.token.is_empty() {
                    self.perr(ErrorKind::InvalidMetricName, String::new());
                    return St::Done;
                }
                self.set_or_create();
                if self.typ().is_none() {
                    self.fams[self.mf].typ = Some(MetricType::Untyped);
                }
                self.metric = NMetric { labels: Vec::new(), value: NVal::None, ts: None };
                self.skip_if_blank();
                if self.failed() {
                    return St::Done;
                }
                St::ReadingLabels
            }
            St::ReadingLabels => {
                if matches!(self.typ(), Some(MetricType::Summary) | Some(MetricType::Histogram)) {
                    self.labels_map = BTreeMap::new();
                    self.labels_map.insert("__name__".into(), self.fams[self.mf].name.clone());
                    self.quantile = f64::NAN;
                    self.bucket = f64::NAN;
                }
                if self.cur != b'{' {
                    return St::ReadingValue;
                }
                St::StartLabelName
            }
            St::StartLabelName => {
                self.skip_blank_tab();
                if self.failed() {
                    return St::Done;
                }
                if self.cur == b'}' {
                    self.skip_blank_tab();
                    if self.failed() {
                        return St::Done;
                    }
                    return St::ReadingValue;
                }
                self.token_name(lstart, lcont);
                if self.failed() {
                    return St::Done;
                }
                if self.token.is_empty() {
                    let d = self.mf_name();
                    self.perr(ErrorKind::InvalidLabelName, d);
                    return St::Done;
                }
                self.pair_name = self.tok();
                if self.pair_name == "__name__" {
                    self.perr(ErrorKind::ReservedLabelName, String::new());
                    return St::Done;
                }
                let t = self.typ();
                let special = (t == Some(MetricType::Summary) && self.pair_name == "quantile")
                    || (t == Some(MetricType::Histogram) && self.pair_name == "le");
                self.pair_appended = !special;
                if self.pair_appended {
                    self.metric.labels.push((self.pair_name.clone(), String::new()));
                }
                self.skip_if_blank();
                if self.failed() {
                    return St::Done;
                }
                if self.cur != b'=' {
                    self.perr(ErrorKind::ExpectedEquals, go_quote_byte(self.cur));
                    return St::Done;
                }
                let mut seen = std::collections::HashSet::new();
                for (n, _) in &self.metric.labels {
                    if !seen.insert(n.clone()) {
                        let d = self.mf_name();
                        self.perr(ErrorKind::DuplicateLabelName, d);
                        return St::Done;
                    }
                }
                St::StartLabelValue
            }
            St::StartLabelValue => {
                self.skip_blank_tab();
                if self.failed() {
                    return St::Done;
                }
                if self.cur != b'"' {
                    self.perr(ErrorKind::ExpectedQuote, go_quote_byte(self.cur));
                    return St::Done;
                }
                self.token_label_value();
                if self.failed() {
                    return St::Done;
                }
                let Ok(value) = String::from_utf8(self.token.clone()) else {
                    let d = quote(&self.token);
                    self.perr(ErrorKind::InvalidLabelValue, d);
                    return St::Done;
                };
                self.pair_value = value.clone();
                if self.pair_appended {
                    if let Some(last) = self.metric.labels.last_mut() {
                        last.1 = value.clone();
                    }
                }
                let t = self.typ();
                if t == Some(MetricType::Summary) {
                    if self.pair_name == "quantile" {
                        match parse_go_float(value.as_bytes()) {
                            Some(q) => self.quantile = q,
                            None => {
                                self.perr(ErrorKind::InvalidQuantile, quote(value.as_bytes()));
                                return St::Done;
                            }
                        }
                    } else {
                        self.labels_map.insert(self.pair_name.clone(), value.clone());
                    }
                }
                if t == Some(MetricType::Histogram) {
                    if self.pair_name == "le" {
                        match parse_go_float(value.as_bytes()) {
                            Some(b) => self.bucket = b,
                            None => {
                                self.perr(ErrorKind::InvalidBucket, quote(value.as_bytes()));
                                return St::Done;
                            }
                        }
                    } else {
                        self.labels_map.insert(self.pair_name.clone(), value.clone());
                    }
                }
                self.skip_blank_tab();
                if self.failed() {
                    return St::Done;
                }
                match self.cur {
                    b',' => St::StartLabelName,
                    b'}' => {
                        self.skip_blank_tab();
                        if self.failed() {
                            return St::Done;
                        }
                        St::ReadingValue
                    }
                    _ => {
                        self.perr(
                            ErrorKind::UnexpectedEndOfLabelValue,
                            quote(self.pair_value.as_bytes()),
                        );
                        St::Done
                    }
                }
            }
            St::ReadingValue => {
                let t = self.typ();
                if t == Some(MetricType::Summary) || t == Some(MetricType::Histogram) {
                    let found = self
                        .series
                        .iter()
                        .find(|(f, m, _)| *f == self.mf && *m == self.labels_map)
                        .map(|s| s.2);
                    match found {
                        Some(i) => self.metric_idx = i,
                        None => {
                            self.metric_idx = self.fams[self.mf].metrics.len();
                            self.series.push((self.mf, self.labels_map.clone(), self.metric_idx));
                            let m = self.metric.clone();
                            self.fams[self.mf].metrics.push(m);
                        }
                    }
                } else {
                    self.metric_idx = self.fams[self.mf].metrics.len();
                    let m = self.metric.clone();
                    self.fams[self.mf].metrics.push(m);
                }
                self.token_until_ws();
                if self.failed() {
                    return St::Done;
                }
                let Some(v) = parse_go_float(&self.token) else {
                    let d = quote(&self.token);
                    self.perr(ErrorKind::InvalidValue, d);
                    return St::Done;
                };
                let (sc, ss, hc, hs, q, b) = (
                    self.s_count,
                    self.s_sum,
                    self.h_count,
                    self.h_sum,
                    self.quantile,
                    self.bucket,
                );
                let m = &mut self.fams[self.mf].metrics[self.metric_idx];
                match t {
                    Some(MetricType::Counter | MetricType::Gauge | MetricType::Untyped) => {
                        m.value = NVal::Simple(v)
                    }
                    Some(MetricType::Summary) => {
                        if !matches!(m.value, NVal::Summary(..)) {
                            m.value = NVal::Summary(0, 0.0, Vec::new());
                        }
                        if let NVal::Summary(c, s, qs) = &mut m.value {
                            if sc {
                                *c = go_f64_to_u64(v);
                            } else if ss {
                                *s = v;
                            } else if !q.is_nan() {
                                qs.push((q, v));
                            }
                        }
                    }
                    Some(MetricType::Histogram) => {
                        if !matches!(m.value, NVal::Histogram(..)) {
                            m.value = NVal::Histogram(0, 0.0, Vec::new());
                        }
                        if let NVal::Histogram(c, s, bs) = &mut m.value {
                            if hc {
                                *c = go_f64_to_u64(v);
                            } else if hs {
                                *s = v;
                            } else if !b.is_nan() {
                                bs.push((b, go_f64_to_u64(v)));
                            }
                        }
                    }
                    _ => self.err = Some(Ev::Other),
                }
                if self.cur == b'\n' {
                    return St::StartOfLine;
                }
                St::StartTimestamp
            }
            St::StartTimestamp => {
                self.skip_blank_tab();
                if self.failed() {
                    return St::Done;
                }
                self.token_until_ws();
                if self.failed() {
                    return St::Done;
                }
                let ts = std::str::from_utf8(&self.token).ok().and_then(|s| s.parse::<i64>().ok());
                let Some(ts) = ts else {
                    let d = quote(&self.token);
                    self.perr(ErrorKind::InvalidTimestamp, d);
                    return St::Done;
                };
                self.fams[self.mf].metrics[self.metric_idx].ts = Some(ts);
                self.token_until_newline(false);
                if self.failed() {
                    return St::Done;
                }
                if !self.token.is_empty() {
                    let d = quote(&self.token);
                    self.perr(ErrorKind::SpuriousAfterTimestamp, d);
                    return St::Done;
                }
                St::StartOfLine
            }
            St::ReadingHelp => {
                if self.fams[self.mf].help.is_some() {
                    let d = self.mf_name();
                    self.perr(ErrorKind::SecondHelp, d);
                    return St::Done;
                }
                self.token_until_newline(true);
                if self.failed() {
                    return St::Done;
                }
                self.fams[self.mf].help = Some(self.token.clone());
                St::StartOfLine
            }
            St::ReadingType => {
                if self.typ().is_some() {
                    let d = self.mf_name();
                    self.perr(ErrorKind::SecondType, d);
                    return St::Done;
                }
                self.token_until_newline(false);
                if self.failed() {
                    return St::Done;
                }
                // strings.ToUpper, rune by rune (simple case mapping).
                let upper: String = match std::str::from_utf8(&self.token) {
                    Ok(s) => s
                        .chars()
                        .map(|c| match c {
                            '\u{131}' => 'I',
                            '\u{17f}' => 'S',
                            c if c.is_ascii() => c.to_ascii_uppercase(),
                            c => c,
                        })
                        .collect(),
                    Err(_) => String::new(),
                };
                let t = match upper.as_str() {
                    "COUNTER" => MetricType::Counter,
                    "GAUGE" => MetricType::Gauge,
                    "SUMMARY" => MetricType::Summary,
                    "UNTYPED" => MetricType::Untyped,
                    "HISTOGRAM" => MetricType::Histogram,
                    "GAUGE_HISTOGRAM" => MetricType::GaugeHistogram,
                    _ => {
                        let d = quote(&self.token);
                        self.perr(ErrorKind::UnknownType, d);
                        return St::Done;
                    }
                };
                self.fams[self.mf].typ = Some(t);
                St::StartOfLine
            }
            St::Done => St::Done,
        }
    }
}

/// Parses `body` the slow, literal way; same output contract as [`super::parse`].
pub(super) fn parse(body: &[u8]) -> Result<Vec<Family<'static>>, Error> {
    let mut p = P {
        buf: body,
        pos: 0,
        cur: 0,
        err: None,
        line: 0,
        token: Vec::new(),
        fams: Vec::new(),
        by_name: HashMap::new(),
        mf: 0,
        metric: NMetric { labels: Vec::new(), value: NVal::None, ts: None },
        metric_idx: 0,
        pair_name: String::new(),
        pair_appended: false,
        pair_value: String::new(),
        labels_map: BTreeMap::new(),
        series: Vec::new(),
        quantile: f64::NAN,
        bucket: f64::NAN,
        s_count: false,
        s_sum: false,
        h_count: false,
        h_sum: false,
    };
    let mut st = St::StartOfLine;
    while st != St::Done {
        st = p.step(st);
    }
    match p.err {
        Some(Ev::Eof) => {
            return Err(Error {
                line: p.line,
                kind: ErrorKind::UnexpectedEof,
                detail: String::new(),
            })
        }
        Some(Ev::Parse(kind, detail)) => return Err(Error { line: p.line, kind, detail }),
        Some(Ev::Other) | None => {}
    }
    Ok(p.fams
        .into_iter()
        .filter(|f| !f.metrics.is_empty())
        .map(|f| Family {
            name: Cow::Owned(f.name),
            help: f.help.map(|h| Cow::Owned(String::from_utf8_lossy(&h).into_owned())),
            typ: f.typ.unwrap_or(MetricType::Untyped),
            problems: Vec::new(),
            metrics: f
                .metrics
                .into_iter()
                .map(|m| Metric {
                    labels: m
                        .labels
                        .into_iter()
                        .map(|(n, v)| Label { name: Cow::Owned(n), value: Cow::Owned(v) })
                        .collect(),
                    value: match m.value {
                        NVal::None => Value::Histogram { count: 0, sum: 0.0, buckets: Vec::new() },
                        NVal::Simple(v) => Value::Simple(v),
                        NVal::Summary(count, sum, quantiles) => {
                            Value::Summary { count, sum, quantiles }
                        }
                        NVal::Histogram(count, sum, buckets) => {
                            Value::Histogram { count, sum, buckets }
                        }
                    },
                    timestamp_ms: m.ts,
                    raw_value: None,
                })
                .collect(),
        })
        .collect())
}
