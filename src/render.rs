//! Scrape: merging every shard's families into one text exposition.
//!
//! Owns the merge rules of spec 4.1/4.2: families sorted by name, one HELP and
//! TYPE each (the server's own HELP wins), series ordered by Go's
//! `MetricSorter` across groups. Series bytes were rendered at push time, so
//! this is sorting references and copying bytes. Collecting the families from
//! the shards is the runtime's job; this module sees plain lists.

pub mod openmetrics;
pub mod proto;

use std::collections::HashSet;
use std::sync::Arc;

use crate::store::group::{push_family_header, StoredFamily, StoredSeries};
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
        let mut parts = self.parts.clone();
        parts.sort_by(|a, b| a.series[0].go_cmp(&b.series[0]));
        let disjoint = parts.windows(2).all(|w| {
            let last = w[0].series.last().expect("parts have series");
            last.go_cmp(&w[1].series[0]) == std::cmp::Ordering::Less
        });
        disjoint.then_some(parts)
    }

    /// Every series with its rendered text, in Go's `MetricSorter` order.
    pub fn series(&self) -> Vec<(&'a StoredSeries, &'a [u8])> {
        if let Some(parts) = self.disjoint_parts() {
            return parts
                .iter()
                .flat_map(|f| f.series.iter().enumerate().map(|(i, s)| (s, f.series_text(i))))
                .collect();
        }
        let mut series: Vec<(&StoredSeries, &[u8])> = self
            .parts
            .iter()
            .flat_map(|f| f.series.iter().enumerate().map(|(i, s)| (s, f.series_text(i))))
            .collect();
        if self.parts.len() > 1 {
            series.sort_by(|a, b| a.0.go_cmp(b.0));
        }
        series
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
    let mut all: Vec<(bool, &StoredFamily)> = own
        .iter()
        .map(|f| (true, &**f))
        .chain(stored.iter().map(|f| (false, &**f)))
        .filter(|(_, f)| !f.series.is_empty())
        .collect();
    // Own first among equal names so its HELP wins; then a deterministic order
    // among groups (the Go server picks a random group's HELP, spec 4.2).
    all.sort_by(|a, b| {
        a.1.name
            .cmp(&b.1.name)
            .then(b.0.cmp(&a.0))
            .then_with(|| a.1.series[0].go_cmp(&b.1.series[0]))
    });
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

/// Renders merged families as text 0.0.4.
pub fn write_text(merged: &[Merged<'_>], out: &mut Vec<u8>) {
    for m in merged {
        push_family_header(out, m.name, m.help, m.typ);
        if let [only] = m.parts.as_slice() {
            out.extend_from_slice(only.text());
            continue;
        }
        if let Some(parts) = m.disjoint_parts() {
            for p in parts {
                out.extend_from_slice(p.text());
            }
            continue;
        }
        for (_, text) in m.series() {
            out.extend_from_slice(text);
        }
    }
}

/// Renders merged families as OpenMetrics 1.0 text (opt-in, see
/// `--runtime.openmetrics-scrape`): counters as a `foo` family with
/// `foo_total` samples, untyped as `unknown`, `# EOF` at the end. Series
/// lines are the ones rendered at push time, re-rendered only for a counter
/// pushed without the `_total` suffix OpenMetrics requires.
pub fn write_openmetrics(merged: &[Merged<'_>], out: &mut Vec<u8>) {
    use crate::expfmt::MetricType;
    for m in merged {
        let (family, rename) = match m.typ {
            MetricType::Counter => match m.name.strip_suffix("_total") {
                Some(base) => (base, false),
                None => (m.name, true),
            },
            _ => (m.name, false),
        };
        let typ = match m.typ {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Summary => "summary",
            MetricType::Histogram | MetricType::GaugeHistogram => "histogram",
            MetricType::Untyped => "unknown",
        };
        out.extend_from_slice(b"# TYPE ");
        out.extend_from_slice(family.as_bytes());
        out.push(b' ');
        out.extend_from_slice(typ.as_bytes());
        out.push(b'\n');
        if let Some(help) = m.help {
            out.extend_from_slice(b"# HELP ");
            out.extend_from_slice(family.as_bytes());
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
        let total = if rename { format!("{}_total", m.name) } else { String::new() };
        let mut renamed = Vec::new();
        for (s, text) in m.series() {
            let lines = if rename {
                renamed.clear();
                crate::store::group::render_series(&mut renamed, &total, s);
                &renamed[..]
            } else {
                text
            };
            // Exemplars and created timestamps, kept from protobuf pushes.
            match s.raw_value.as_deref().map(|raw| openmetrics::extras(m.typ, raw)) {
                Some(extras) if !extras.is_empty() => {
                    openmetrics::write_series(out, family, m.typ, lines, &extras)
                }
                _ => out.extend_from_slice(lines),
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

/// Renders merged families as delimited protobuf `MetricFamily` messages.
pub fn write_protobuf(merged: &[Merged<'_>], out: &mut Vec<u8>) {
    for m in merged {
        let series: Vec<&StoredSeries> = m.series().into_iter().map(|(s, _)| s).collect();
        proto::render_family(m.name, m.help, m.typ, &series, out);
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
        let s =
            StoredSeries { labels: Default::default(), value: Value::Simple(3.0), raw_value: None };
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
