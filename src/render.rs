//! Scrape: merging every shard's families into one text exposition.
//!
//! Owns the merge rules of spec 4.1/4.2: families sorted by name, one HELP and
//! TYPE each (the server's own HELP wins), series ordered by Go's
//! `MetricSorter` across groups. Series bytes were rendered at push time, so
//! this is sorting references and copying bytes. Collecting the families from
//! the shards is the runtime's job; this module sees plain lists.
//!
//! Names are written as the scrape's escaping scheme says (spec 4.3/4.4,
//! `crate::expfmt::escape`). The stored bytes serve every scheme for
//! families of legacy names and the default scheme for all; only a family
//! holding UTF-8 names scraped with another scheme is rendered again.

pub mod openmetrics;
pub mod proto;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::expfmt::escape::{escape_for_scrape, escape_label_for_scrape, is_legacy_name, Escaping};
use crate::http::response::Piece;
use crate::store::group::{
    push_family_header_as, push_name, render_series_as, Labels, StoredFamily, StoredSeries,
};
use crate::store::index::fingerprints;
use crate::store::sanitize::duplicate_error;

/// Why a scrape cannot be served (only possible with the consistency check
/// disabled, as with the Go server: spec 2.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One family of the scrape: every group's family of that name.
pub struct Merged<'a> {
    /// Family name.
    pub name: &'a str,
    /// HELP: the server's own, else the first group's (in series order) that has one.
    pub help: Option<&'a str>,
    /// Type (of the first family; all agree unless unchecked mode stored a conflict).
    pub typ: crate::expfmt::MetricType,
    /// The groups' families, non-empty, own first.
    pub parts: Vec<&'a StoredFamily>,
}

impl<'a> Merged<'a> {
    /// The parts in an order whose concatenation is already in Go's
    /// `MetricSorter` order, if there is one: each part's series are sorted,
    /// so when parts' ranges do not overlap (the usual case: groups differ in
    /// a grouping label every one of their series carries), sorting the parts
    /// by their first series is enough. O(k log k) for k groups instead of
    /// sorting every series.
    pub fn disjoint_parts(&self) -> Option<Vec<&'a StoredFamily>> {
        let in_order = |parts: &[&StoredFamily]| {
            parts.windows(2).all(|w| {
                let last = w[0].series.last().expect("parts have series");
                last.go_cmp(&w[1].series[0]) == std::cmp::Ordering::Less
            })
        };
        // `merge` already ordered the parts by first series (own parts
        // first), so one pass usually settles it.
        if in_order(&self.parts) {
            return Some(self.parts.clone());
        }
        let mut parts = self.parts.clone();
        parts.sort_by(|a, b| a.series[0].go_cmp(&b.series[0]));
        in_order(&parts).then_some(parts)
    }

    /// Whether every part's stored text is what a scrape with `escaping`
    /// writes (see [`StoredFamily::has_text_for`]).
    pub fn has_text_for(&self, escaping: Escaping) -> bool {
        self.parts.iter().all(|p| p.has_text_for(escaping))
    }

    /// Every series with its rendered text, in Go's `MetricSorter` order.
    pub fn series(&self) -> Vec<(&'a StoredSeries, &'a [u8])> {
        if let Some(parts) = self.disjoint_parts() {
            return parts.iter().flat_map(|f| f.series.iter().zip(f.series_texts())).collect();
        }
        let mut series: Vec<(&StoredSeries, &[u8])> =
            self.parts.iter().flat_map(|f| f.series.iter().zip(f.series_texts())).collect();
        if self.parts.len() > 1 {
            series.sort_by(|a, b| a.0.go_cmp(b.0));
        }
        series
    }
}

/// Sort key of a family in [`merge`]: name, own first, then its first
/// series in [`StoredSeries::go_cmp`] order (label count, then values).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct SortKey<'a> {
    name: &'a str,
    not_own: bool,
    labels: usize,
    values: smallvec::SmallVec<[&'a str; 6]>,
}

impl<'a> SortKey<'a> {
    fn new(own: bool, f: &'a StoredFamily) -> SortKey<'a> {
        let first = &f.series[0];
        SortKey {
            name: &f.name,
            not_own: !own,
            labels: first.labels.len(),
            values: first.labels.iter().map(|(_, v)| v).collect(),
        }
    }
}

/// Merges the server's own families and the stored ones by name (spec 4.1),
/// families without series dropped, sorted by name.
///
/// With `validate`, type conflicts and duplicate series are reported as
/// errors instead of being served (the index prevents both in checked mode).
///
/// # Errors
/// [`Error`] naming the first inconsistency when `validate` is set.
pub fn merge<'a>(
    own: &'a [Arc<StoredFamily>],
    stored: &'a [Arc<StoredFamily>],
    validate: bool,
) -> Result<Vec<Merged<'a>>, Error> {
    let all: Vec<(bool, &StoredFamily)> = own
        .iter()
        .map(|f| (true, &**f))
        .chain(stored.iter().map(|f| (false, &**f)))
        .filter(|(_, f)| !f.series.is_empty())
        .collect();
    // Own first among equal names so its HELP wins; then a deterministic order
    // among groups (the Go server picks a random group's HELP, spec 4.2).
    // The order of first series is what `disjoint_parts` needs too, so it
    // finds its input sorted. Keys are decoded once per family, not once
    // per comparison (a scrape may merge 10k groups' families).
    let mut keyed: Vec<(SortKey<'a>, (bool, &'a StoredFamily))> =
        all.into_iter().map(|(own, f)| (SortKey::new(own, f), (own, f))).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let all: Vec<(bool, &StoredFamily)> = keyed.into_iter().map(|(_, x)| x).collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < all.len() {
        let name = &all[start].1.name;
        let end = start + all[start..].iter().take_while(|(_, f)| f.name == *name).count();
        let fams = &all[start..end];
        if validate {
            validate_family(fams)?;
        }
        let first = fams[0].1;
        let help = if fams[0].0 {
            first.help.as_deref()
        } else {
            fams.iter().find_map(|(_, f)| f.help.as_deref())
        };
        out.push(Merged {
            name,
            help,
            typ: first.typ,
            parts: fams.iter().map(|(_, f)| *f).collect(),
        });
        start = end;
    }
    Ok(out)
}

fn validate_family(fams: &[(bool, &StoredFamily)]) -> Result<(), Error> {
    let first = fams[0].1;
    if let Some((_, other)) = fams.iter().find(|(_, f)| f.typ != first.typ) {
        return Err(Error(format!(
            "gathered metric family {} has type {} but should have {}",
            first.name,
            other.typ.as_proto_name(),
            first.typ.as_proto_name()
        )));
    }
    let mut seen = HashSet::new();
    for (_, f) in fams {
        for (fp, s) in fingerprints(f) {
            if !seen.insert(fp) {
                return Err(Error(duplicate_error(&f.name, f.typ, s)));
            }
        }
    }
    Ok(())
}

/// Renders merged families as text 0.0.4 with the default escaping scheme.
pub fn write_text(merged: &[Merged<'_>], out: &mut Vec<u8>) {
    write_text_as(merged, Escaping::default(), out);
}

/// Renders merged families as text (0.0.4 or 1.0.0: the same lines), names
/// written as `escaping` says.
pub fn write_text_as(merged: &[Merged<'_>], escaping: Escaping, out: &mut Vec<u8>) {
    let mut none = Vec::new();
    text_into(merged, escaping, &|_| None, out, &mut none);
    debug_assert!(none.is_empty(), "nothing is shared");
}

/// [`write_text_as`] as body pieces: families whose stored text is what the
/// scrape writes are shared with the store (`shared` maps a part to its
/// `Arc`), not copied; headers and re-rendered series are owned bytes.
/// The concatenation of the pieces is exactly `write_text_as`'s output.
pub fn write_text_pieces(
    merged: &[Merged<'_>],
    escaping: Escaping,
    shared: impl Fn(&StoredFamily) -> Option<Arc<StoredFamily>>,
    out: &mut Vec<Piece>,
) {
    let mut bytes = Vec::new();
    text_into(merged, escaping, &shared, &mut bytes, out);
    if !bytes.is_empty() {
        out.push(Piece::Bytes(bytes));
    }
}

/// The text of `merged`: rendered or copied bytes go to `bytes`; a part
/// that `shared` maps to an `Arc` ends `bytes` as a piece of `out` and is
/// pushed itself.
fn text_into(
    merged: &[Merged<'_>],
    escaping: Escaping,
    shared: &dyn Fn(&StoredFamily) -> Option<Arc<StoredFamily>>,
    bytes: &mut Vec<u8>,
    out: &mut Vec<Piece>,
) {
    let share = |bytes: &mut Vec<u8>, part: &StoredFamily, out: &mut Vec<Piece>| match shared(part)
    {
        Some(arc) => {
            if !bytes.is_empty() {
                out.push(Piece::Bytes(std::mem::take(bytes)));
            }
            out.push(Piece::Shared(arc));
        }
        None => bytes.extend_from_slice(part.text()),
    };
    for m in merged {
        push_family_header_as(bytes, m.name, m.help, m.typ, escaping);
        if !m.has_text_for(escaping) {
            for (s, _) in m.series() {
                render_series_as(bytes, m.name, s, escaping);
            }
            continue;
        }
        if let [only] = m.parts.as_slice() {
            share(bytes, only, out);
            continue;
        }
        if let Some(parts) = m.disjoint_parts() {
            for p in parts {
                share(bytes, p, out);
            }
            continue;
        }
        for (_, text) in m.series() {
            bytes.extend_from_slice(text);
        }
    }
}

/// Renders merged families as OpenMetrics 1.0 text (opt-in, see
/// `--runtime.openmetrics-scrape`) with the default escaping scheme.
pub fn write_openmetrics(merged: &[Merged<'_>], out: &mut Vec<u8>) {
    write_openmetrics_as(merged, Escaping::default(), out);
}

/// Renders merged families as OpenMetrics 1.0 text, names written as
/// `escaping` says: counters as a `foo` family with `foo_total` samples,
/// untyped as `unknown`, `# EOF` at the end. Series lines are the ones
/// rendered at push time, re-rendered only for a counter pushed without the
/// `_total` suffix OpenMetrics requires (or for UTF-8 names, see the module
/// docs). Exemplars and created timestamps are not shown for quoted
/// (`allow-utf-8`) metric names.
pub fn write_openmetrics_as(merged: &[Merged<'_>], escaping: Escaping, out: &mut Vec<u8>) {
    use crate::expfmt::MetricType;
    // The OpenMetrics family name of a merged family, and whether a counter
    // without `_total` gets it appended. As Go: the name is escaped first,
    // then `_total` handled.
    let om_name = |m: &Merged<'_>| -> (String, bool) {
        let written = escape_for_scrape(m.name, escaping).into_owned();
        match (m.typ, written.strip_suffix("_total")) {
            (MetricType::Counter, Some(base)) => (base.to_owned(), false),
            (MetricType::Counter, None) => (written, true),
            _ => (written, false),
        }
    };
    // `foo_created` families stored next to a counter, summary or histogram
    // `foo` (how OpenMetrics and prometheus_client text pushes arrive) are
    // that family's `_created` samples: a separate `foo_created` family would
    // clash with the sample name `foo` claims.
    let claimed: HashSet<String> = merged
        .iter()
        .filter(|m| m.typ != MetricType::Gauge && m.typ != MetricType::Untyped)
        .map(|m| om_name(m).0)
        // Series lines of quoted names are not decorated (see below).
        .filter(|name| is_legacy_name(name.as_bytes()))
        .map(|name| format!("{name}_created"))
        .collect();
    let mut created: HashMap<(String, &[u8]), f64> = HashMap::new();
    let mut folded: HashSet<&str> = HashSet::new();
    for m in merged.iter().filter(|m| matches!(m.typ, MetricType::Gauge | MetricType::Untyped)) {
        let written = escape_for_scrape(m.name, escaping);
        if claimed.contains(&*written) {
            folded.insert(m.name);
            for (s, _) in m.series() {
                if let crate::expfmt::Value::Simple(v) = *s.value() {
                    created.insert((written.to_string(), s.labels.as_bytes()), v);
                }
            }
        }
    }
    for m in merged {
        if folded.contains(m.name) {
            continue;
        }
        let (family, rename) = om_name(m);
        let family = family.as_str();
        let written = escape_for_scrape(m.name, escaping);
        let typ = match m.typ {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Summary => "summary",
            MetricType::Histogram | MetricType::GaugeHistogram => "histogram",
            MetricType::Untyped => "unknown",
        };
        out.extend_from_slice(b"# TYPE ");
        push_name(out, family, escaping);
        out.push(b' ');
        out.extend_from_slice(typ.as_bytes());
        out.push(b'\n');
        if let Some(help) = m.help {
            out.extend_from_slice(b"# HELP ");
            push_name(out, family, escaping);
            out.push(b' ');
            // OpenMetrics escapes `"` in HELP as well.
            for &b in help.as_bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'"' => out.extend_from_slice(b"\\\""),
                    b => out.push(b),
                }
            }
            out.push(b'\n');
        }
        let rerender = rename || !m.has_text_for(escaping);
        let sample_name = if rename { format!("{written}_total") } else { written.to_string() };
        // Extras are placed by matching the sample names in the lines.
        let decorate = is_legacy_name(family.as_bytes());
        let mut renamed = Vec::new();
        for (s, text) in m.series() {
            let lines = if rerender {
                renamed.clear();
                render_series_as(&mut renamed, &sample_name, s, escaping);
                &renamed[..]
            } else {
                text
            };
            // Exemplars and created timestamps, kept from protobuf pushes,
            // or a `_created` sample pushed as its own family.
            let raw = s.raw_value().filter(|_| decorate);
            let mut extras = raw.map(|raw| openmetrics::extras(m.typ, raw)).unwrap_or_default();
            if extras.created.is_none() && !created.is_empty() {
                let key = (format!("{family}_created"), s.labels.as_bytes());
                extras.created = created.get(&key).copied();
            }
            if extras.is_empty() {
                out.extend_from_slice(lines);
            } else {
                openmetrics::write_series(out, family, m.typ, lines, &extras);
            }
        }
    }
    out.extend_from_slice(b"# EOF\n");
}

/// Renders `own` (the server's metrics) and `stored` families as text 0.0.4.
///
/// # Errors
/// See [`merge`].
pub fn render_text(
    own: &[Arc<StoredFamily>],
    stored: &[Arc<StoredFamily>],
    validate: bool,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    write_text(&merge(own, stored, validate)?, out);
    Ok(())
}

/// Renders merged families as delimited protobuf `MetricFamily` messages
/// with the default escaping scheme.
pub fn write_protobuf(merged: &[Merged<'_>], out: &mut Vec<u8>) {
    write_protobuf_as(merged, Escaping::default(), out);
}

/// Renders merged families as delimited protobuf `MetricFamily` messages,
/// names that are not legacy escaped unless `escaping` is `allow-utf-8`
/// (Go's `EscapeMetricFamily`).
pub fn write_protobuf_as(merged: &[Merged<'_>], escaping: Escaping, out: &mut Vec<u8>) {
    for m in merged {
        let series: Vec<&StoredSeries> = m.series().into_iter().map(|(s, _)| s).collect();
        if escaping == Escaping::AllowUtf8 || m.parts.iter().all(|p| p.has_legacy_names()) {
            proto::render_family(m.name, m.help, m.typ, &series, out);
            continue;
        }
        let escaped: Vec<StoredSeries> = series
            .iter()
            .map(|s| {
                // Names escaped in place: the label order stays the stored one.
                let pairs: Vec<_> = s
                    .labels
                    .iter()
                    .map(|(n, v)| (escape_label_for_scrape(n, escaping), v))
                    .collect();
                StoredSeries::new(
                    Labels::from_sorted(pairs.iter().map(|(n, v)| (&**n, *v))),
                    s.value().into_owned(),
                    s.raw_value().map(Box::from),
                )
            })
            .collect();
        let refs: Vec<&StoredSeries> = escaped.iter().collect();
        proto::render_family(&escape_for_scrape(m.name, escaping), m.help, m.typ, &refs, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expfmt::{text, MetricType, Value};
    use crate::grouping::GroupingKey;
    use crate::store::sanitize::prepare;
    use std::time::SystemTime;

    fn stored(job: &str, body: &str) -> Vec<Arc<StoredFamily>> {
        let fams = text::parse(body.as_bytes()).unwrap();
        let p = prepare(GroupingKey::new(job, []), true, fams, SystemTime::UNIX_EPOCH);
        p.families.into_iter().map(Arc::new).collect()
    }

    fn render(own: &[Arc<StoredFamily>], stored: &[Arc<StoredFamily>], validate: bool) -> String {
        let mut out = Vec::new();
        render_text(own, stored, validate, &mut out).map_err(|e| e.0).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn merges_groups_sorted_by_name_and_series() {
        let mut all = stored("b", "# HELP m from b\n# TYPE m gauge\nm 2\nz 1\n");
        all.extend(stored("a", "# TYPE m gauge\nm 1\nA 1\n"));
        assert_eq!(
            render(&[], &all, true),
            "# TYPE A untyped\nA{instance=\"\",job=\"a\"} 1\n\
             # HELP m from b\n# TYPE m gauge\nm{instance=\"\",job=\"a\"} 1\nm{instance=\"\",job=\"b\"} 2\n\
             # TYPE z untyped\nz{instance=\"\",job=\"b\"} 1\n"
        );
    }

    #[test]
    fn own_help_wins_and_own_series_come_first() {
        let s = StoredSeries::new(Default::default(), Value::Simple(3.0), None);
        let own = Arc::new(StoredFamily::new(
            "process_open_fds".into(),
            Some("Number of open file descriptors.".into()),
            MetricType::Gauge,
            vec![s],
            SystemTime::UNIX_EPOCH,
        ));
        let pushed = stored(
            "a",
            "# HELP process_open_fds mine\n# TYPE process_open_fds gauge\nprocess_open_fds 1\n",
        );
        let text = render(&[own], &pushed, true);
        assert!(text.starts_with(
            "# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds 3\n"
        ));
    }

    #[test]
    fn openmetrics_output_parses_back_to_the_same_families() {
        let mut all = stored("a", "# HELP c_total Runs \"quoted\".\n# TYPE c_total counter\nc_total 3\n# TYPE g gauge\ng 1\nu 2\n");
        all.extend(stored("b", "# TYPE n counter\nn 4\n"));
        let mut out = Vec::new();
        write_openmetrics(&merge(&[], &all, true).unwrap(), &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(text.contains("# TYPE c counter\n# HELP c Runs \\\"quoted\\\".\nc_total{instance=\"\",job=\"a\"} 3\n"), "{text}");
        assert!(text.contains("# TYPE n counter\nn_total{instance=\"\",job=\"b\"} 4\n"), "{text}");
        assert!(text.contains("# TYPE u unknown\n"), "{text}");
        let parsed = crate::expfmt::openmetrics::parse(text.as_bytes()).unwrap();
        let names: Vec<&str> = parsed.iter().map(|f| &*f.name).collect();
        assert_eq!(names, ["c_total", "g", "n_total", "u"]);
    }

    fn stored_utf8(job: &str, body: &str) -> Vec<Arc<StoredFamily>> {
        use crate::expfmt::escape::NameValidation::Utf8;
        let fams = text::parse_with(body.as_bytes(), Utf8).unwrap();
        let key = GroupingKey::new(job, []);
        let p = crate::store::sanitize::prepare_with(key, true, fams, SystemTime::UNIX_EPOCH, Utf8);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        p.families.into_iter().map(Arc::new).collect()
    }

    fn text_as(all: &[Arc<StoredFamily>], escaping: Escaping) -> String {
        let mut out = Vec::new();
        write_text_as(&merge(&[], all, true).unwrap(), escaping, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn utf8_names_follow_the_escaping_scheme() {
        let mut all =
            stored_utf8("a", "# HELP \"my.metric\" Help.\n{\"my.metric\", \"a.b\"=\"x\"} 1\n");
        all.extend(stored_utf8("b", "{\"my.metric\"} 2\nplain 3\n"));
        assert_eq!(
            text_as(&all, Escaping::AllowUtf8),
            "# HELP \"my.metric\" Help.\n# TYPE \"my.metric\" untyped\n\
             {\"my.metric\",instance=\"\",job=\"b\"} 2\n\
             {\"my.metric\",\"a.b\"=\"x\",instance=\"\",job=\"a\"} 1\n\
             # TYPE plain untyped\nplain{instance=\"\",job=\"b\"} 3\n"
        );
        let underscores = text_as(&all, Escaping::Underscores);
        assert!(underscores.starts_with("# HELP my_metric Help.\n# TYPE my_metric untyped\n"));
        assert!(underscores.contains("my_metric{a_b=\"x\",instance=\"\",job=\"a\"} 1\n"));
        let mut default = Vec::new();
        write_text(&merge(&[], &all, true).unwrap(), &mut default);
        assert_eq!(String::from_utf8(default).unwrap(), underscores);
        let values = text_as(&all, Escaping::Values);
        assert!(values.contains("U__my_2e_metric{U__a_2e_b=\"x\",instance=\"\",job=\"a\"} 1\n"));
        assert!(text_as(&all, Escaping::Dots).contains("my_dot_metric{a_dot_b=\"x\""));
        // Quoted output is what a UTF-8 parser reads back.
        let back = text::parse_with(
            text_as(&all, Escaping::AllowUtf8).as_bytes(),
            crate::expfmt::escape::NameValidation::Utf8,
        )
        .unwrap()
        .into_iter()
        .map(|f| f.name.into_owned())
        .collect::<Vec<_>>();
        assert_eq!(back, ["my.metric", "plain"]);
    }

    #[test]
    fn legacy_families_copy_their_text_for_every_scheme() {
        let all = stored("a", "# TYPE m gauge\nm{x=\"1\"} 1\n");
        let want = text_as(&all, Escaping::Underscores);
        for e in [Escaping::AllowUtf8, Escaping::Dots, Escaping::Values] {
            assert_eq!(text_as(&all, e), want);
        }
    }

    #[test]
    fn protobuf_escapes_unless_utf8_is_allowed() {
        let all = stored_utf8("a", "{\"my.metric\", \"a.b\"=\"x\"} 1\n");
        let names = |escaping| {
            let mut out = Vec::new();
            write_protobuf_as(&merge(&[], &all, true).unwrap(), escaping, &mut out);
            let f = crate::expfmt::proto::parse(&out).unwrap();
            let labels: Vec<String> =
                f[0].metrics[0].labels.iter().map(|l| l.name.to_string()).collect();
            (f[0].name.to_string(), labels)
        };
        assert_eq!(
            names(Escaping::AllowUtf8),
            ("my.metric".into(), vec!["a.b".into(), "instance".into(), "job".into()])
        );
        assert_eq!(
            names(Escaping::Underscores),
            ("my_metric".into(), vec!["a_b".into(), "instance".into(), "job".into()])
        );
        assert_eq!(names(Escaping::Values).0, "U__my_2e_metric");
    }

    #[test]
    fn openmetrics_writes_utf8_names_per_scheme() {
        let all = stored_utf8("a", "# TYPE \"c.x\" counter\n{\"c.x\"} 3\n");
        let om = |escaping| {
            let mut out = Vec::new();
            write_openmetrics_as(&merge(&[], &all, true).unwrap(), escaping, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            om(Escaping::AllowUtf8),
            "# TYPE \"c.x\" counter\n{\"c.x_total\",instance=\"\",job=\"a\"} 3\n# EOF\n"
        );
        assert_eq!(
            om(Escaping::Underscores),
            "# TYPE c_x counter\nc_x_total{instance=\"\",job=\"a\"} 3\n# EOF\n"
        );
    }

    #[test]
    fn text_pieces_concatenate_to_the_text_scrape() {
        // Single, disjoint and interleaved parts, own families, UTF-8 names.
        let mut all = stored("b", "# HELP m from b\n# TYPE m gauge\nm 2\nz 1\nx 1\nx{y=\"1\"} 2\n");
        all.extend(stored("a", "# TYPE m gauge\nm 1\nA 1\nx{y=\"2\"} 3\nx{y=\"0\",z=\"0\"} 3\n"));
        all.extend(stored_utf8("c", "{\"my.metric\", \"a.b\"=\"x\"} 1\n"));
        let own = stored("own", "# HELP pushgateway_x Own.\npushgateway_x 1\n");
        let merged = merge(&own, &all, true).unwrap();
        for escaping in [Escaping::Underscores, Escaping::AllowUtf8, Escaping::Values] {
            let mut want = Vec::new();
            write_text_as(&merged, escaping, &mut want);
            let arcs: Vec<&Arc<StoredFamily>> = own.iter().chain(all.iter()).collect();
            let shared = |f: &StoredFamily| {
                arcs.iter().find(|a| std::ptr::eq(Arc::as_ptr(a), f)).map(|a| Arc::clone(a))
            };
            let mut pieces = Vec::new();
            write_text_pieces(&merged, escaping, shared, &mut pieces);
            assert!(pieces.iter().any(|p| matches!(p, Piece::Shared(_))), "{escaping:?}");
            let got: Vec<u8> = pieces.iter().flat_map(|p| p.as_bytes().to_vec()).collect();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "{escaping:?}"
            );
            // Without shared families, everything is owned and equal too.
            let mut owned = Vec::new();
            write_text_pieces(&merged, escaping, |_| None, &mut owned);
            let got: Vec<u8> = owned.iter().flat_map(|p| p.as_bytes().to_vec()).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn interleaved_groups_fall_back_to_a_full_sort() {
        // Both groups expose series with 3 and 4 labels: their ranges overlap.
        let mut all = stored("b", "m 1\nm{x=\"1\"} 2\n");
        all.extend(stored("a", "m 3\nm{x=\"1\"} 4\n"));
        assert_eq!(
            render(&[], &all, true),
            "# TYPE m untyped\nm{instance=\"\",job=\"a\"} 3\nm{instance=\"\",job=\"b\"} 1\n\
             m{instance=\"\",job=\"a\",x=\"1\"} 4\nm{instance=\"\",job=\"b\",x=\"1\"} 2\n"
        );
    }

    #[test]
    fn validation_catches_what_unchecked_mode_stored() {
        let mut all = stored("a", "# TYPE m gauge\nm 1\n");
        all.extend(stored("b", "# TYPE m counter\nm 1\n"));
        let mut out = Vec::new();
        assert!(render_text(&[], &all, true, &mut out).is_err());
        assert!(render_text(&[], &all, false, &mut Vec::new()).is_ok());
    }
}
