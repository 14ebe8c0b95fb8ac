//! Which groups the Metrics tab lists: the `?filter=…&page=…` query, the
//! filter match and the pagination maths.
//!
//! Owns the server-side narrowing that keeps a page small however many
//! groups are stored (10k groups must not freeze a browser). Rendering is
//! `groups`' job. Every query value is client input: bad values fall back
//! to defaults instead of failing the page.

use crate::http::router::percent_decode;
use crate::store::GroupView;

/// Groups on one page.
pub const PAGE_SIZE: usize = 100;

/// Filter terms looked at; further terms are ignored (bounds the work per request).
const MAX_TERMS: usize = 16;

/// The Metrics tab's query parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// The filter as typed (shown back in the form).
    pub filter: String,
    /// Requested page, 1-based (clamped later by [`Page::new`]).
    pub page: usize,
}

impl Query {
    /// Parses a query string (`a=b&c=d`, `+` is a space). Unknown
    /// parameters, malformed escapes and non-numeric pages are ignored.
    pub fn parse(query: &str) -> Query {
        let mut q = Query { filter: String::new(), page: 1 };
        for part in query.split('&') {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let Some(value) = decode_component(value) else { continue };
            match name {
                "filter" => q.filter = value,
                "page" => q.page = value.trim().parse().unwrap_or(1),
                _ => {}
            }
        }
        q
    }
}

/// Decodes one query component (`+` is a space); `None` if it is not
/// percent-encoded UTF-8.
fn decode_component(s: &str) -> Option<String> {
    let bytes = percent_decode(s.replace('+', " ").as_bytes())?;
    String::from_utf8(bytes).ok()
}

/// A parsed filter: whitespace-separated terms that must all match.
///
/// A term matches a group if it occurs, ignoring case, in one of its grouping
/// labels written `name=value` (quotes in the term are ignored, so both
/// `job=batch` and `job="batch"` work) or in one of its family names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    terms: Vec<String>,
}

impl Filter {
    /// Parses the filter box's text.
    pub fn new(text: &str) -> Filter {
        let terms = text
            .split_whitespace()
            .map(|t| t.replace('"', "").to_lowercase())
            .filter(|t| !t.is_empty())
            .take(MAX_TERMS)
            .collect();
        Filter { terms }
    }

    /// Whether the filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether `group` matches every term.
    pub fn matches(&self, group: &GroupView) -> bool {
        if self.terms.is_empty() {
            return true;
        }
        // One lower-cased haystack per group; '\n' separates its parts, and
        // terms contain no whitespace, so no match spans two parts.
        let mut hay = String::with_capacity(128);
        for (n, v) in group.key.labels() {
            hay.push_str(n);
            hay.push('=');
            hay.push_str(v);
            hay.push('\n');
        }
        for f in &group.families {
            hay.push_str(&f.name);
            hay.push('\n');
        }
        let hay = hay.to_lowercase();
        self.terms.iter().all(|t| memchr::memmem::find(hay.as_bytes(), t.as_bytes()).is_some())
    }
}

/// One page of a list of `total` items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// This page, 1-based, within `1..=pages`.
    pub number: usize,
    /// Number of pages (at least 1, even for an empty list).
    pub pages: usize,
    /// Index of the first item on this page.
    pub start: usize,
    /// Index one past the last item on this page (`start == end`: empty).
    pub end: usize,
    /// Items in the whole list.
    pub total: usize,
}

impl Page {
    /// The page `requested` of `total` items, `size` per page; out-of-range
    /// requests are clamped to the first or last page.
    pub fn new(total: usize, requested: usize, size: usize) -> Page {
        let size = size.max(1);
        let pages = total.div_ceil(size).max(1);
        let number = requested.clamp(1, pages);
        let start = (number - 1) * size;
        let end = (start + size).min(total);
        Page { number, pages, start, end, total }
    }

    /// The previous page's number, if there is one.
    pub fn prev(&self) -> Option<usize> {
        (self.number > 1).then(|| self.number - 1)
    }

    /// The next page's number, if there is one.
    pub fn next(&self) -> Option<usize> {
        (self.number < self.pages).then(|| self.number + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expfmt::MetricType;
    use crate::grouping::GroupingKey;
    use crate::store::group::StoredFamily;
    use std::sync::Arc;
    use std::time::SystemTime;

    fn group(job: &str, labels: &[(&str, &str)], families: &[&str]) -> GroupView {
        GroupView {
            key: GroupingKey::new(
                job,
                labels.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
            ),
            families: families
                .iter()
                .map(|n| {
                    Arc::new(StoredFamily::new(
                        (*n).into(),
                        None,
                        MetricType::Gauge,
                        Vec::new(),
                        SystemTime::UNIX_EPOCH,
                    ))
                })
                .collect(),
            last_push_successful: true,
            deadline: None,
        }
    }

    #[test]
    fn query_parses_filter_and_page() {
        assert_eq!(Query::parse(""), Query { filter: String::new(), page: 1 });
        assert_eq!(
            Query::parse("filter=job%3D%22a+b%22&page=3"),
            Query { filter: "job=\"a b\"".into(), page: 3 }
        );
        assert_eq!(Query::parse("page=x&other=1&filter"), Query { filter: String::new(), page: 1 });
        assert_eq!(Query::parse("page=-2").page, 1);
        assert_eq!(Query::parse("page=99999999999999999999999").page, 1);
        // Not UTF-8 or a broken escape: ignored, not an error.
        assert_eq!(Query::parse("filter=%ff&page=2"), Query { filter: String::new(), page: 2 });
        assert_eq!(Query::parse("filter=%zz").filter, "");
        assert_eq!(Query::parse("filter=a%2Bb").filter, "a+b");
    }

    #[test]
    fn filter_matches_labels_and_family_names() {
        let g = group("Batch", &[("instance", "host-1")], &["backup_duration_seconds"]);
        for (text, want) in [
            ("", true),
            ("batch", true),
            ("job=batch", true),
            ("job=\"batch\"", true),
            ("instance=host", true),
            ("HOST-1 backup", true),
            ("backup_duration", true),
            ("instance=batch", false),
            ("batch nightly", false),
        ] {
            assert_eq!(Filter::new(text).matches(&g), want, "{text:?}");
        }
        // No match across two labels.
        assert!(!Filter::new("host-1job").matches(&g));
        assert!(Filter::new("   ").is_empty());
    }

    #[test]
    fn filter_terms_are_bounded() {
        let many = "a ".repeat(1000);
        assert_eq!(Filter::new(&many).terms.len(), MAX_TERMS);
    }

    #[test]
    fn pages_cover_every_item_once() {
        for total in [0, 1, 99, 100, 101, 250, 10_000] {
            let first = Page::new(total, 1, PAGE_SIZE);
            let mut seen = 0;
            for n in 1..=first.pages {
                let p = Page::new(total, n, PAGE_SIZE);
                assert_eq!(p.start, seen, "total {total} page {n}");
                assert!(p.end - p.start <= PAGE_SIZE);
                seen = p.end;
            }
            assert_eq!(seen, total);
        }
    }

    #[test]
    fn pages_clamp_and_link() {
        let p = Page::new(250, 3, 100);
        assert_eq!(p, Page { number: 3, pages: 3, start: 200, end: 250, total: 250 });
        assert_eq!((p.prev(), p.next()), (Some(2), None));
        assert_eq!(Page::new(250, 0, 100).number, 1);
        assert_eq!(Page::new(250, usize::MAX, 100).number, 3);
        let empty = Page::new(0, 5, 100);
        assert_eq!(empty, Page { number: 1, pages: 1, start: 0, end: 0, total: 0 });
        assert_eq!((empty.prev(), empty.next()), (None, None));
        assert_eq!(Page::new(5, 1, 0).pages, 5, "a zero page size counts as 1");
    }
}
