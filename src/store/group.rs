//! A group and the families it stores, rendered at push time.
//!
//! Owns the stored (owned, sanitised) form of families and their series and
//! the text exposition bytes of each series, rendered once when pushed so a
//! scrape is mostly copying. A stored family is immutable once built and
//! shared with scrapes through `Arc`.
//!
//! Names outside the legacy character set (UTF-8 names, spec 3.6) are
//! written as the scrape's `escaping=` scheme says (spec 4.3 "Latest"): the
//! stored text of a family holding any is rendered with the default scheme
//! (`underscores`), and scrapes with another scheme render it again; a
//! family of legacy names has one text for every scheme.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::atomic::{self, AtomicU8};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use crate::expfmt::escape::{
    escape_for_scrape, escape_label_for_scrape, is_legacy_label_name, is_legacy_name, Escaping,
};
use crate::expfmt::{MetricType, Value};
use crate::gofmt::push_expfmt_float;
use crate::grouping::GroupingKey;
use crate::store::thin::ThinStr;

/// Name of the per-group gauge holding the last successful push time.
pub const PUSH_TIME: &str = "push_time_seconds";
/// Name of the per-group gauge holding the last failed push time.
pub const PUSH_FAILURE_TIME: &str = "push_failure_time_seconds";
const PUSH_TIME_HELP: &str =
    "Last Unix time when changing this group in the Pushgateway succeeded.";
const PUSH_FAILURE_TIME_HELP: &str =
    "Last Unix time when changing this group in the Pushgateway failed.";

/// The label pairs of a stored series, packed into one allocation.
///
/// A million stored series would otherwise hold eight small string
/// allocations each (two per label); packed they hold one.
/// INVARIANT: `buf` is a sequence of `length, text` items, alternating name
/// and value, pairs sorted by name. Lengths are written in ASCII digits of 6
/// bits (0x40 set: more digits follow), so the whole buffer is a `str` and
/// reading a label is slicing it, with no UTF-8 validation on the hot path.
///
/// Held behind one pointer (`ThinStr`): 8 bytes per stored series less
/// than a `Box<str>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Labels {
    buf: ThinStr,
}

/// Label names in byte order (`str::cmp`'s), decided by the first bytes
/// when they differ, as they do for most label names (`instance`, `job`,
/// `mode`, …), without a call to `memcmp`: sorting a series' labels is on
/// the path of every push.
#[inline]
pub fn by_name(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(x), Some(y)) if x != y => x.cmp(y),
        _ => a.cmp(b),
    }
}

fn put_str(out: &mut String, s: &str) {
    let mut n = s.len();
    while n >= 0x40 {
        out.push(char::from(0x40 | (n & 0x3f) as u8));
        n >>= 6;
    }
    out.push(char::from(n as u8));
    out.push_str(s);
}

impl Labels {
    /// Packs `pairs`, which must already be sorted by name.
    pub fn from_sorted<'a, I>(pairs: I) -> Labels
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        thread_local! {
            static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        // Packed in a reused buffer, then copied into an allocation of the
        // exact size, which a million stored series keep.
        SCRATCH.with_borrow_mut(|buf| {
            buf.clear();
            Labels::pack_sorted_into(pairs, buf);
            let labels = Labels { buf: ThinStr::new(buf) };
            if buf.capacity() > 1 << 16 {
                *buf = String::new();
            }
            labels
        })
    }

    /// Appends the packed form of `pairs` (sorted by name) to `out`: the
    /// bytes [`Labels::as_bytes`] holds for them.
    pub fn pack_sorted_into<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        out: &mut String,
    ) {
        for (n, v) in pairs {
            put_str(out, n);
            put_str(out, v);
        }
    }

    /// Packs `pairs` after sorting them by name.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Labels {
        let mut v: smallvec::SmallVec<[(&str, &str); 8]> = pairs.into_iter().collect();
        v.sort_by(|a, b| by_name(a.0, b.0));
        Labels::from_sorted(v.iter().copied())
    }

    /// The pairs in name order.
    pub fn iter(&self) -> LabelIter<'_> {
        LabelIter { rest: &self.buf }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The value of label `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

impl<A: AsRef<str>, B: AsRef<str>> FromIterator<(A, B)> for Labels {
    /// Packs the pairs, sorting them by name.
    fn from_iter<I: IntoIterator<Item = (A, B)>>(iter: I) -> Self {
        let owned: Vec<(A, B)> = iter.into_iter().collect();
        Labels::from_pairs(owned.iter().map(|(n, v)| (n.as_ref(), v.as_ref())))
    }
}

impl Labels {
    /// The packed bytes (a canonical encoding: equal labels, equal bytes).
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_bytes()
    }
}

/// Iterator over packed label pairs.
pub struct LabelIter<'a> {
    rest: &'a str,
}

impl<'a> LabelIter<'a> {
    fn next_str(&mut self) -> Option<&'a str> {
        let bytes = self.rest.as_bytes();
        let (mut n, mut shift, mut i) = (0usize, 0, 0);
        loop {
            let b = *bytes.get(i)?;
            i += 1;
            n |= usize::from(b & 0x3f) << shift;
            if b & 0x40 == 0 {
                break;
            }
            shift += 6;
        }
        let s = &self.rest[i..i + n];
        self.rest = &self.rest[i + n..];
        Some(s)
    }
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let name = self.next_str()?;
        let value = self.next_str().expect("INVARIANT: names and values alternate");
        Some((name, value))
    }
}

/// One stored series: sanitised labels and value.
///
/// 24 bytes: a million stored series are mostly counters, gauges and untyped
/// values pushed as text, whose value is kept inline; summaries, histograms
/// and anything pushed as protobuf are boxed.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSeries {
    /// Labels sorted by name; grouping labels and `instance` included.
    pub labels: Labels,
    value: SeriesValue,
}

#[derive(Clone, Debug, PartialEq)]
enum SeriesValue {
    Simple(f64),
    Boxed(Box<(Value, Option<Box<[u8]>>)>),
}

/// Whether two values are the same bit for bit (so `-0` differs from `0`,
/// and a NaN equals only the same NaN): what decides that a value pushed
/// again leaves its rendered text as it was.
fn same_bits(a: &Value, b: &Value) -> bool {
    let bits = |x: &f64| x.to_bits();
    match (a, b) {
        (Value::Simple(x), Value::Simple(y)) => bits(x) == bits(y),
        (
            Value::Summary { count: c1, sum: s1, quantiles: q1 },
            Value::Summary { count: c2, sum: s2, quantiles: q2 },
        ) => {
            let quantile = |(q, v): &(f64, f64)| (bits(q), bits(v));
            (c1, bits(s1)) == (c2, bits(s2)) && q1.iter().map(quantile).eq(q2.iter().map(quantile))
        }
        (
            Value::Histogram { count: c1, sum: s1, buckets: b1 },
            Value::Histogram { count: c2, sum: s2, buckets: b2 },
        ) => {
            let bucket = |(le, n): &(f64, u64)| (bits(le), *n);
            (c1, bits(s1)) == (c2, bits(s2)) && b1.iter().map(bucket).eq(b2.iter().map(bucket))
        }
        _ => false,
    }
}

impl StoredSeries {
    /// A series of `labels` holding `value` and, when pushed as protobuf,
    /// its encoded value fields (see [`crate::expfmt::Metric::raw_value`]).
    pub fn new(labels: Labels, value: Value, raw_value: Option<Box<[u8]>>) -> StoredSeries {
        let value = match (value, raw_value) {
            (Value::Simple(v), None) => SeriesValue::Simple(v),
            (value, raw) => SeriesValue::Boxed(Box::new((value, raw))),
        };
        StoredSeries { labels, value }
    }

    /// Replaces the value by one pushed as text (no protobuf value fields):
    /// what [`StoredSeries::new`] would hold, reusing the box of a
    /// summary or histogram. Returns whether anything changed.
    pub fn set_text_value(&mut self, value: Value) -> bool {
        self.set_value(value, None)
    }

    /// Replaces the value, and the encoded protobuf value fields (`raw`,
    /// `None` for a text push): what [`StoredSeries::new`] would hold,
    /// reusing the box, and the bytes' allocation when they keep their
    /// length (a gauge's or counter's double always does). Returns whether
    /// anything changed (floats compared bit for bit).
    pub fn set_value(&mut self, value: Value, raw: Option<&[u8]>) -> bool {
        let same = match (&value, raw, &self.value) {
            (Value::Simple(v), None, SeriesValue::Simple(old)) => v.to_bits() == old.to_bits(),
            (value, raw, SeriesValue::Boxed(b)) => raw == b.1.as_deref() && same_bits(value, &b.0),
            _ => false,
        };
        if same {
            return false;
        }
        match (value, raw, &mut self.value) {
            (Value::Simple(v), None, slot) => *slot = SeriesValue::Simple(v),
            (value, raw, SeriesValue::Boxed(b)) => {
                b.0 = value;
                match (raw, &mut b.1) {
                    (Some(new), Some(old)) if old.len() == new.len() => old.copy_from_slice(new),
                    (raw, slot) => *slot = raw.map(Box::from),
                }
            }
            (value, raw, slot) => {
                *slot = SeriesValue::Boxed(Box::new((value, raw.map(Box::from))));
            }
        }
        true
    }

    /// The value.
    pub fn value(&self) -> Cow<'_, Value> {
        match &self.value {
            SeriesValue::Simple(v) => Cow::Owned(Value::Simple(*v)),
            SeriesValue::Boxed(b) => Cow::Borrowed(&b.0),
        }
    }

    /// Whether the value is a counter, gauge or untyped number: its text
    /// exposition is exactly one line.
    pub fn is_simple(&self) -> bool {
        match &self.value {
            SeriesValue::Simple(_) => true,
            SeriesValue::Boxed(b) => matches!(b.0, Value::Simple(_)),
        }
    }

    /// Encoded protobuf value fields when pushed as protobuf (see
    /// [`crate::expfmt::Metric::raw_value`]); `None` for text pushes.
    pub fn raw_value(&self) -> Option<&[u8]> {
        match &self.value {
            SeriesValue::Simple(_) => None,
            SeriesValue::Boxed(b) => b.1.as_deref(),
        }
    }

    /// A parsed series stored as it is (labels as pushed, sorted; no
    /// grouping labels added): for data the server made itself or restores.
    pub fn from_metric(m: &crate::expfmt::Metric<'_>) -> StoredSeries {
        StoredSeries::new(
            m.labels.iter().map(|l| (&*l.name, &*l.value)).collect(),
            m.value.clone(),
            m.raw_value.as_deref().map(Box::from),
        )
    }

    /// Go's `MetricSorter` order: fewer labels first, then label values
    /// position by position (labels are sorted by name).
    pub fn go_cmp(&self, other: &StoredSeries) -> Ordering {
        go_cmp_labels(self.labels.iter(), other.labels.iter())
    }
}

/// [`StoredSeries::go_cmp`] of two label sets, each sorted by name.
pub fn go_cmp_labels<'a, 'b>(
    mut a: impl Iterator<Item = (&'a str, &'a str)>,
    mut b: impl Iterator<Item = (&'b str, &'b str)>,
) -> Ordering {
    // One pass over both: the first differing value decides unless the
    // label counts differ, which are known only at the end.
    let mut by_values = Ordering::Equal;
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) => {
                if by_values == Ordering::Equal {
                    by_values = x.1.cmp(y.1);
                }
            }
            (None, None) => return by_values,
            (Some(_), None) => return Ordering::Greater,
            (None, Some(_)) => return Ordering::Less,
        }
    }
}

/// A family's shared bytes in a scrape body are its rendered text.
impl AsRef<[u8]> for StoredFamily {
    fn as_ref(&self) -> &[u8] {
        self.text()
    }
}

/// One stored family; its series' text exposition lines are rendered once,
/// the first time anything asks for them (normally the owning core when a
/// scrape gathers its shard, see [`StoredFamily::prerender`]), not at push
/// time: a group pushed many times between two scrapes is rendered once.
///
/// INVARIANT: `series` is in [`StoredSeries::go_cmp`] order and, once
/// rendered, `text[offsets[i]..offsets[i + 1]]` holds the sample lines of
/// `series[i]`.
#[derive(Debug)]
pub struct StoredFamily {
    /// Family name.
    pub name: Box<str>,
    /// HELP text, unescaped.
    pub help: Option<Arc<str>>,
    /// Type.
    pub typ: MetricType,
    /// Series in scrape order.
    pub series: Vec<StoredSeries>,
    /// Wall time of the push that wrote this family.
    pub pushed_at: SystemTime,
    rendered: OnceLock<Rendered>,
    /// Whether the name and every label name are legacy, worked out when
    /// first asked (a scrape), not on the push path: [`LEGACY_UNKNOWN`],
    /// [`LEGACY_YES`] or [`LEGACY_NO`]. With legacy names `text` is what
    /// every escaping scheme writes; otherwise it is written with
    /// [`Escaping::Underscores`], the default.
    legacy_names: AtomicU8,
    /// For each series of the last push applied in place, in pushed order,
    /// the index of the stored series it set, when that is not simply
    /// `0, 1, 2, …` (a pusher whose order is not the scrape order): where
    /// the next push, in the same order, finds each series at the first
    /// look. See `store::refresh`.
    pub(crate) push_order: Option<Box<[u32]>>,
}

/// [`StoredFamily::legacy_names`] not yet worked out.
const LEGACY_UNKNOWN: u8 = 0;
/// [`StoredFamily::legacy_names`]: all names are legacy.
const LEGACY_YES: u8 = 1;
/// [`StoredFamily::legacy_names`]: some name is not legacy.
const LEGACY_NO: u8 = 2;

/// A family's text exposition lines and where each series' lines start.
#[derive(Debug)]
struct Rendered {
    text: Box<[u8]>,
    /// `None` when every series is one line (simple values: the common
    /// case, where 4 bytes per series would be spent on what the newlines
    /// already say).
    offsets: Option<Box<[u32]>>,
}

impl StoredFamily {
    /// Builds a family, sorting its series (their text is rendered later).
    pub fn new(
        name: Box<str>,
        help: Option<Arc<str>>,
        typ: MetricType,
        mut series: Vec<StoredSeries>,
        pushed_at: SystemTime,
    ) -> StoredFamily {
        series.sort_by(StoredSeries::go_cmp);
        let legacy_names = AtomicU8::new(LEGACY_UNKNOWN);
        StoredFamily {
            name,
            help,
            typ,
            series,
            pushed_at,
            rendered: OnceLock::new(),
            legacy_names,
            push_order: None,
        }
    }

    /// Marks the family as pushed again at `at` after its values were set in
    /// place. With `changed` (a value or the HELP text differs) the cached
    /// text is dropped, to be rendered again when next scraped; else it
    /// still shows the family as it is.
    pub fn refreshed(&mut self, at: SystemTime, changed: bool) {
        self.pushed_at = at;
        if changed {
            self.rendered = OnceLock::new();
        }
    }

    /// Renders the text lines now if they are not yet: called by the owning
    /// core when a scrape gathers its shard, so cores render in parallel.
    pub fn prerender(&self) {
        self.rendered();
    }

    fn rendered(&self) -> &Rendered {
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        self.rendered.get_or_init(|| {
            let legacy = self.has_legacy_names();
            // Rendered into a reused buffer, then copied into an allocation of
            // the exact size: the text is kept for the family's lifetime, and
            // a grown-then-shrunk vector may keep its larger block.
            SCRATCH.with_borrow_mut(|text| {
                text.clear();
                // Offsets only where a series may span several lines.
                let one_line_each = self.series.iter().all(StoredSeries::is_simple);
                let mut offsets = Vec::new();
                if !one_line_each {
                    offsets.reserve_exact(self.series.len() + 1);
                }
                for s in &self.series {
                    if !one_line_each {
                        offsets.push(text.len() as u32);
                    }
                    if legacy {
                        render_series(text, &self.name, s);
                    } else {
                        render_series_as(text, &self.name, s, Escaping::Underscores);
                    }
                }
                let offsets = (!one_line_each).then(|| {
                    offsets.push(text.len() as u32);
                    offsets.into_boxed_slice()
                });
                let rendered = Rendered { text: Box::from(&text[..]), offsets };
                if text.capacity() > 1 << 20 {
                    *text = Vec::new();
                }
                rendered
            })
        })
    }

    /// Whether [`StoredFamily::text`] is what a scrape with `escaping`
    /// writes: always for legacy names, else only for the default scheme.
    pub fn has_text_for(&self, escaping: Escaping) -> bool {
        self.has_legacy_names() || escaping == Escaping::Underscores
    }

    /// Whether the name and every label name are legacy (written as they are
    /// by every escaping scheme).
    pub fn has_legacy_names(&self) -> bool {
        match self.legacy_names.load(atomic::Ordering::Relaxed) {
            LEGACY_YES => true,
            LEGACY_NO => false,
            _ => {
                // Two threads may both work it out; they agree.
                let legacy = is_legacy_name(self.name.as_bytes())
                    && self
                        .series
                        .iter()
                        .all(|s| s.labels.iter().all(|(n, _)| is_legacy_label_name(n.as_bytes())));
                let v = if legacy { LEGACY_YES } else { LEGACY_NO };
                self.legacy_names.store(v, atomic::Ordering::Relaxed);
                legacy
            }
        }
    }

    /// The rendered sample lines of each series, in series order.
    pub fn series_texts(&self) -> SeriesTexts<'_> {
        let r = self.rendered();
        SeriesTexts { text: &r.text, offsets: r.offsets.as_deref(), next: 0, pos: 0 }
    }

    /// The rendered sample lines of all series, in order.
    pub fn text(&self) -> &[u8] {
        &self.rendered().text
    }

    /// A gauge family with one series carrying the group's labels.
    pub fn timestamp_gauge(key: &GroupingKey, name: &str, value: f64, at: SystemTime) -> Self {
        thread_local! {
            // One copy of each HELP text per core, not one per group.
            static HELPS: (Arc<str>, Arc<str>) =
                (Arc::from(PUSH_TIME_HELP), Arc::from(PUSH_FAILURE_TIME_HELP));
        }
        let help =
            HELPS.with(|(ok, failed)| if name == PUSH_TIME { ok.clone() } else { failed.clone() });
        let instance = key.get("instance").is_none().then_some(("instance", ""));
        let labels = key.labels().iter().map(|(n, v)| (n.as_str(), v.as_str())).chain(instance);
        let series = StoredSeries::new(Labels::from_pairs(labels), Value::Simple(value), None);
        StoredFamily::new(name.into(), Some(help), MetricType::Gauge, vec![series], at)
    }

    /// The value of the first series if it is a simple value (timestamp gauges).
    pub fn first_simple_value(&self) -> Option<f64> {
        match *self.series.first()?.value() {
            Value::Simple(v) => Some(v),
            _ => None,
        }
    }
}

/// Iterator over the rendered lines of each series of a family.
pub struct SeriesTexts<'a> {
    text: &'a [u8],
    offsets: Option<&'a [u32]>,
    next: usize,
    pos: usize,
}

impl<'a> Iterator for SeriesTexts<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let end = match self.offsets {
            Some(offsets) => *offsets.get(self.next + 1)? as usize,
            // One line per series; label values hold no raw newline (escaped).
            None => self.pos + memchr::memchr(b'\n', self.text.get(self.pos..)?)? + 1,
        };
        let lines = self.text.get(self.pos..end)?;
        self.next += 1;
        self.pos = end;
        Some(lines)
    }
}

/// A group: its key and its families by name (timestamp gauges included).
#[derive(Debug)]
pub struct Group {
    /// The grouping key.
    pub key: GroupingKey,
    /// Families by name.
    pub families: BTreeMap<Box<str>, Arc<StoredFamily>>,
    /// When the group expires if not pushed again (TTL; `None`: never).
    pub deadline: Option<SystemTime>,
}

impl Group {
    /// Value of `push_time_seconds`, if present.
    pub fn push_time(&self) -> Option<f64> {
        self.families.get(PUSH_TIME).and_then(|f| f.first_simple_value())
    }

    /// Value of `push_failure_time_seconds`, if present.
    pub fn push_failure_time(&self) -> Option<f64> {
        self.families.get(PUSH_FAILURE_TIME).and_then(|f| f.first_simple_value())
    }

    /// The API's `last_push_successful`: false iff the failure time is later.
    pub fn last_push_successful(&self) -> bool {
        match (self.push_time(), self.push_failure_time()) {
            (Some(ok), Some(failed)) => failed <= ok,
            _ => true,
        }
    }
}

/// Seconds since the Unix epoch as the Go server stores push times (`UnixNano/1e9`).
pub fn unix_seconds(t: SystemTime) -> f64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as f64 / 1e9,
        Err(e) => -(e.duration().as_nanos() as f64 / 1e9),
    }
}

/// Appends a label value escaped for the text format (`\\`, `\"`, `\n`).
pub fn push_escaped_label_value(out: &mut Vec<u8>, v: &str) {
    let mut rest = v.as_bytes();
    // Runs without anything to escape (nearly every value) are copied whole.
    while let Some(at) = memchr::memchr3(b'\\', b'"', b'\n', rest) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(match rest[at] {
            b'\\' => b"\\\\",
            b'"' => b"\\\"",
            _ => b"\\n",
        });
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
}

/// Appends a metric name as a scrape with `escaping` writes it
/// (prometheus/common `writeName` after `EscapeMetricFamily`): a legacy name
/// as it is; any other quoted (with label-value escapes) for
/// [`Escaping::AllowUtf8`], else escaped.
pub fn push_name(out: &mut Vec<u8>, name: &str, escaping: Escaping) {
    if escaping == Escaping::AllowUtf8 && !is_legacy_name(name.as_bytes()) {
        out.push(b'"');
        push_escaped_label_value(out, name);
        out.push(b'"');
    } else {
        out.extend_from_slice(escape_for_scrape(name, escaping).as_bytes());
    }
}

/// Appends a family's `# HELP` (if any) and `# TYPE` lines in text format 0.0.4.
pub fn push_family_header(out: &mut Vec<u8>, name: &str, help: Option<&str>, typ: MetricType) {
    push_header(out, |out| out.extend_from_slice(name.as_bytes()), help, typ);
}

/// [`push_family_header`] with the name written for `escaping` (see [`push_name`]).
pub fn push_family_header_as(
    out: &mut Vec<u8>,
    name: &str,
    help: Option<&str>,
    typ: MetricType,
    escaping: Escaping,
) {
    push_header(out, |out| push_name(out, name, escaping), help, typ);
}

fn push_header(
    out: &mut Vec<u8>,
    name: impl Fn(&mut Vec<u8>),
    help: Option<&str>,
    typ: MetricType,
) {
    if let Some(help) = help {
        out.extend_from_slice(b"# HELP ");
        name(out);
        out.push(b' ');
        push_escaped_help(out, help);
        out.push(b'\n');
    }
    out.extend_from_slice(b"# TYPE ");
    name(out);
    out.push(b' ');
    out.extend_from_slice(typ.as_text().as_bytes());
    out.push(b'\n');
}

/// Appends HELP text escaped for the text format (`\\`, `\n`).
pub fn push_escaped_help(out: &mut Vec<u8>, v: &str) {
    for &b in v.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b => out.push(b),
        }
    }
}

/// How a sample line writes its names: as they are, or quoted where they
/// are not legacy (the `allow-utf-8` syntax).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Names {
    Raw,
    Quoted,
}

fn push_sample(
    out: &mut Vec<u8>,
    (name, names): (&str, Names),
    suffix: &str,
    labels: &Labels,
    extra: Option<(&str, f64)>,
    value: f64,
) {
    // text_create.go: a name that is not legacy goes first inside the braces.
    let braced = names == Names::Quoted && !is_legacy_name(name.as_bytes());
    if braced {
        out.extend_from_slice(b"{\"");
        push_escaped_label_value(out, name);
        out.extend_from_slice(suffix.as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(suffix.as_bytes());
    }
    if braced || !labels.is_empty() || extra.is_some() {
        let mut sep = if braced { b',' } else { b'{' };
        for (n, v) in labels.iter() {
            out.push(sep);
            sep = b',';
            if names == Names::Quoted && !is_legacy_label_name(n.as_bytes()) {
                out.push(b'"');
                push_escaped_label_value(out, n);
                out.push(b'"');
            } else {
                out.extend_from_slice(n.as_bytes());
            }
            out.extend_from_slice(b"=\"");
            push_escaped_label_value(out, v);
            out.push(b'"');
        }
        if let Some((n, v)) = extra {
            out.push(sep);
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b"=\"");
            push_expfmt_float(out, v);
            out.push(b'"');
        }
        out.push(b'}');
    }
    out.push(b' ');
    push_expfmt_float(out, value);
    out.push(b'\n');
}

/// Appends the text exposition lines of one series (spec 4.3), names
/// written as they are.
pub fn render_series(out: &mut Vec<u8>, name: &str, s: &StoredSeries) {
    render_lines(out, (name, Names::Raw), &s.labels, &s.value());
}

/// Appends the text exposition lines of one series with its names as a
/// scrape with `escaping` writes them (see [`push_name`]).
pub fn render_series_as(out: &mut Vec<u8>, name: &str, s: &StoredSeries, escaping: Escaping) {
    if escaping == Escaping::AllowUtf8 {
        return render_lines(out, (name, Names::Quoted), &s.labels, &s.value());
    }
    let name = escape_for_scrape(name, escaping);
    if s.labels.iter().all(|(n, _)| is_legacy_label_name(n.as_bytes())) {
        return render_lines(out, (&name, Names::Raw), &s.labels, &s.value());
    }
    // Go escapes the names in place: label order stays the stored one.
    let escaped: Vec<_> =
        s.labels.iter().map(|(n, v)| (escape_label_for_scrape(n, escaping), v)).collect();
    let labels = Labels::from_sorted(escaped.iter().map(|(n, v)| (&**n, *v)));
    render_lines(out, (&name, Names::Raw), &labels, &s.value());
}

fn render_lines(out: &mut Vec<u8>, name: (&str, Names), labels: &Labels, value: &Value) {
    match value {
        Value::Simple(v) => push_sample(out, name, "", labels, None, *v),
        Value::Summary { count, sum, quantiles } => {
            for (q, v) in quantiles {
                push_sample(out, name, "", labels, Some(("quantile", *q)), *v);
            }
            push_sample(out, name, "_sum", labels, None, *sum);
            push_sample(out, name, "_count", labels, None, *count as f64);
        }
        Value::Histogram { count, sum, buckets } => {
            for (le, c) in buckets {
                push_sample(out, name, "_bucket", labels, Some(("le", *le)), *c as f64);
            }
            // Go's text encoder appends the +Inf bucket when it is missing.
            if !buckets.iter().any(|(le, _)| *le == f64::INFINITY) {
                let inf = Some(("le", f64::INFINITY));
                push_sample(out, name, "_bucket", labels, inf, *count as f64);
            }
            push_sample(out, name, "_sum", labels, None, *sum);
            push_sample(out, name, "_count", labels, None, *count as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(labels: &[(&str, &str)], value: Value) -> StoredSeries {
        StoredSeries::new(labels.iter().copied().collect(), value, None)
    }

    #[test]
    fn labels_pack_sorted_and_round_trip() {
        let long = "v".repeat(300);
        let l = Labels::from_pairs([("z", "1"), ("a", long.as_str()), ("m", "")]);
        assert_eq!(l.iter().collect::<Vec<_>>(), [("a", long.as_str()), ("m", ""), ("z", "1")]);
        assert_eq!((l.len(), l.get("m"), l.get("x")), (3, Some(""), None));
        assert!(Labels::default().is_empty());
        let same: Labels = [("m", ""), ("z", "1"), ("a", long.as_str())].into_iter().collect();
        assert_eq!(same, l, "packing is canonical");
    }

    #[test]
    fn values_are_the_same_only_bit_for_bit() {
        let summary =
            |q: &[(f64, f64)]| Value::Summary { count: 2, sum: 1.5, quantiles: q.to_vec() };
        let histogram =
            |b: &[(f64, u64)]| Value::Histogram { count: 2, sum: 1.5, buckets: b.to_vec() };
        assert!(same_bits(&summary(&[(0.5, 1.0)]), &summary(&[(0.5, 1.0)])));
        assert!(!same_bits(&summary(&[(0.5, 1.0)]), &summary(&[(0.5, 1.0), (0.9, 2.0)])));
        assert!(!same_bits(&summary(&[(0.5, 0.0)]), &summary(&[(0.5, -0.0)])));
        assert!(same_bits(&histogram(&[(1.0, 2)]), &histogram(&[(1.0, 2)])));
        assert!(!same_bits(&histogram(&[(1.0, 2)]), &histogram(&[(1.0, 3)])));
        assert!(!same_bits(&histogram(&[(1.0, 2)]), &histogram(&[])));
        assert!(same_bits(&Value::Simple(f64::NAN), &Value::Simple(f64::NAN)));
        assert!(!same_bits(&Value::Simple(0.0), &Value::Simple(-0.0)));
        assert!(!same_bits(&summary(&[]), &histogram(&[])));
    }

    #[test]
    fn renders_histogram_with_implicit_inf_bucket() {
        let s = series(
            &[("job", "j")],
            Value::Histogram { count: 3, sum: 2.5, buckets: vec![(0.5, 1)] },
        );
        let mut out = Vec::new();
        render_series(&mut out, "lat", &s);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "lat_bucket{job=\"j\",le=\"0.5\"} 1\nlat_bucket{job=\"j\",le=\"+Inf\"} 3\n\
             lat_sum{job=\"j\"} 2.5\nlat_count{job=\"j\"} 3\n"
        );
    }

    #[test]
    fn renders_escaped_values_and_summary() {
        let s = series(&[], Value::Summary { count: 50, sum: 10.0, quantiles: vec![(0.5, 0.2)] });
        let mut out = Vec::new();
        render_series(&mut out, "rpc", &s);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "rpc{quantile=\"0.5\"} 0.2\nrpc_sum 10\nrpc_count 50\n"
        );
        let mut out = Vec::new();
        push_escaped_label_value(&mut out, "a\"b\\c\nd");
        assert_eq!(out, b"a\\\"b\\\\c\\nd");
    }

    fn lines(name: &str, s: &StoredSeries, escaping: Escaping) -> String {
        let mut out = Vec::new();
        render_series_as(&mut out, name, s, escaping);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn utf8_names_per_escaping_scheme() {
        let s = series(&[("a.b", "x"), ("job", "j")], Value::Simple(1.0));
        let cases = [
            (Escaping::AllowUtf8, "{\"my.metric\",\"a.b\"=\"x\",job=\"j\"} 1\n"),
            (Escaping::Underscores, "my_metric{a_b=\"x\",job=\"j\"} 1\n"),
            (Escaping::Dots, "my_dot_metric{a_dot_b=\"x\",job=\"j\"} 1\n"),
            (Escaping::Values, "U__my_2e_metric{U__a_2e_b=\"x\",job=\"j\"} 1\n"),
        ];
        for (escaping, want) in cases {
            assert_eq!(lines("my.metric", &s, escaping), want, "{escaping:?}");
        }
        let bare = series(&[], Value::Summary { count: 1, sum: 2.0, quantiles: vec![(0.5, 3.0)] });
        assert_eq!(
            lines("s\"x", &bare, Escaping::AllowUtf8),
            "{\"s\\\"x\",quantile=\"0.5\"} 3\n{\"s\\\"x_sum\"} 2\n{\"s\\\"x_count\"} 1\n"
        );
        // A legacy metric name with a UTF-8 label: only the label is quoted.
        assert_eq!(lines("m", &s, Escaping::AllowUtf8), "m{\"a.b\"=\"x\",job=\"j\"} 1\n");
        let mut header = Vec::new();
        push_family_header_as(
            &mut header,
            "my.metric",
            Some("h"),
            MetricType::Gauge,
            Escaping::AllowUtf8,
        );
        assert_eq!(header, b"# HELP \"my.metric\" h\n# TYPE \"my.metric\" gauge\n");
    }

    #[test]
    fn stored_text_is_the_default_scheme_for_utf8_names() {
        let at = SystemTime::UNIX_EPOCH;
        let utf8 = series(&[("a.b", "x")], Value::Simple(1.0));
        let f = StoredFamily::new("m".into(), None, MetricType::Gauge, vec![utf8], at);
        assert_eq!(f.text(), b"m{a_b=\"x\"} 1\n");
        assert!(f.has_text_for(Escaping::Underscores) && !f.has_text_for(Escaping::AllowUtf8));
        let legacy = series(&[("a_b", "x")], Value::Simple(1.0));
        let f = StoredFamily::new("m:x".into(), None, MetricType::Gauge, vec![legacy], at);
        assert!(f.has_legacy_names() && f.has_text_for(Escaping::Values));
        // A colon is legal in metric names only (Go would write `a:b=` here).
        let colon = series(&[("a:b", "x")], Value::Simple(1.0));
        let f = StoredFamily::new("m".into(), None, MetricType::Gauge, vec![colon.clone()], at);
        assert_eq!(f.text(), b"m{a_b=\"x\"} 1\n");
        assert_eq!(lines("m", &colon, Escaping::AllowUtf8), "m{\"a:b\"=\"x\"} 1\n");
    }

    proptest::proptest! {
        #[test]
        fn by_name_is_byte_order(a in "[a-c\u{e9}_]{0,4}", b in "[a-c\u{e9}_]{0,4}") {
            proptest::prop_assert_eq!(by_name(&a, &b), a.cmp(&b));
        }

        #[test]
        fn go_cmp_is_count_then_values(
            a in proptest::collection::btree_map("[a-c]{1,2}", "[xy]{0,2}", 0..4),
            b in proptest::collection::btree_map("[a-c]{1,2}", "[xy]{0,2}", 0..4),
        ) {
            let sa = series(&a.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect::<Vec<_>>(), Value::Simple(0.0));
            let sb = series(&b.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect::<Vec<_>>(), Value::Simple(0.0));
            let expect = a.len().cmp(&b.len()).then_with(|| a.values().cmp(b.values()));
            proptest::prop_assert_eq!(sa.go_cmp(&sb), expect);
        }

        /// Quoted output parses back to the same names and values.
        #[test]
        fn allow_utf8_lines_parse_back(
            name in "\\PC{1,8}",
            labels in proptest::collection::btree_map("\\PC{1,6}", "\\PC{0,6}", 0..4),
        ) {
            use crate::expfmt::{escape::NameValidation, text};
            let labels: Vec<(&str, &str)> = labels
                .iter()
                .filter(|(n, _)| !n.starts_with("__") && *n != "quantile" && *n != "le")
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let s = series(&labels, Value::Simple(2.0));
            let mut out = Vec::new();
            push_family_header_as(&mut out, &name, Some("help"), MetricType::Gauge, Escaping::AllowUtf8);
            render_series_as(&mut out, &name, &s, Escaping::AllowUtf8);
            let parsed = text::parse_with(&out, NameValidation::Utf8)
                .map_err(|e| format!("{e}\n{}", String::from_utf8_lossy(&out)));
            let parsed = parsed.unwrap();
            proptest::prop_assert_eq!(parsed.len(), 1);
            proptest::prop_assert_eq!(&*parsed[0].name, name.as_str());
            let got: Vec<(&str, &str)> =
                parsed[0].metrics[0].labels.iter().map(|l| (&*l.name, &*l.value)).collect();
            proptest::prop_assert_eq!(got, labels);
        }
    }

    #[test]
    fn series_sort_by_label_count_then_values() {
        let a = series(&[("job", "b")], Value::Simple(1.0));
        let b = series(&[("instance", "a"), ("job", "a")], Value::Simple(1.0));
        let c = series(&[("instance", "a"), ("job", "b")], Value::Simple(1.0));
        let f = StoredFamily::new(
            "m".into(),
            None,
            MetricType::Untyped,
            vec![c, b, a],
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(
            String::from_utf8(f.text().to_vec()).unwrap(),
            "m{job=\"b\"} 1\nm{instance=\"a\",job=\"a\"} 1\nm{instance=\"a\",job=\"b\"} 1\n"
        );
        assert_eq!(f.series_texts().nth(1).unwrap(), b"m{instance=\"a\",job=\"a\"} 1\n");
    }

    #[test]
    fn stored_series_is_24_bytes() {
        assert_eq!(std::mem::size_of::<StoredSeries>(), 24);
    }

    #[test]
    fn series_texts_split_one_line_and_many_line_series() {
        let hist = |job: &str, count| {
            let buckets = vec![(1.0, count)];
            series(&[("job", job)], Value::Histogram { count, sum: 1.5, buckets })
        };
        let f = StoredFamily::new(
            "h".into(),
            None,
            MetricType::Histogram,
            vec![hist("b", 2), hist("a", 1)],
            SystemTime::UNIX_EPOCH,
        );
        let texts: Vec<String> =
            f.series_texts().map(|t| String::from_utf8(t.to_vec()).unwrap()).collect();
        assert_eq!(texts.len(), 2);
        assert!(texts[0].starts_with("h_bucket{job=\"a\",le=\"1\"} 1\n"), "{texts:?}");
        assert!(texts[0].ends_with("h_count{job=\"a\"} 1\n"), "{texts:?}");
        assert!(texts[1].ends_with("h_count{job=\"b\"} 2\n"), "{texts:?}");
        // A value with an escaped newline is still one line.
        let g = StoredFamily::new(
            "g".into(),
            None,
            MetricType::Gauge,
            vec![
                series(&[("a", "x\ny")], Value::Simple(1.0)),
                series(&[("a", "z")], Value::Simple(2.0)),
            ],
            SystemTime::UNIX_EPOCH,
        );
        let texts: Vec<&[u8]> = g.series_texts().collect();
        assert_eq!(texts, [&b"g{a=\"x\\ny\"} 1\n"[..], &b"g{a=\"z\"} 2\n"[..]]);
    }
}
