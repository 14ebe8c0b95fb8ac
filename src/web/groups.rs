//! The Metrics tab (`GET <prefix>/`): the filter form, the page of groups,
//! pagination links and the delete buttons (spec 1.7).
//!
//! Owns how a group looks: its grouping labels as badges (`job` first, then
//! `instance`, then the others by name), its last push time, the "Last push
//! failed!" mark, and one expandable panel per family. Which groups are on
//! the page is `listing`'s job; series tables are `series`'.

use std::io::Write as _;
use std::time::SystemTime;

use crate::expfmt::escape::NameValidation;
use crate::grouping::path::format_push_path_with;
use crate::grouping::GroupingKey;
use crate::http::router::UiPage;
use crate::store::group::{StoredFamily, PUSH_FAILURE_TIME, PUSH_TIME};
use crate::store::GroupView;
use crate::web::ago::{from_unix_seconds, push_time, unix_secs};
use crate::web::html::{push_escaped, push_page_end, push_page_start, push_query_component};
use crate::web::listing::{Filter, Page, Query, PAGE_SIZE};
use crate::web::series::push_series_table;
use crate::web::Context;

/// Appends the whole Metrics tab for `groups` (every group, in key order).
pub fn render_metrics_tab(
    out: &mut Vec<u8>,
    ctx: &Context<'_>,
    groups: &[GroupView],
    query: &Query,
) {
    push_page_start(out, ctx.base, UiPage::Metrics, unix_secs(ctx.now).max(0) as u64);
    let filter = Filter::new(&query.filter);
    let matching: Vec<&GroupView> = groups.iter().filter(|g| filter.matches(g)).collect();
    let page = Page::new(matching.len(), query.page, PAGE_SIZE);

    push_toolbar(out, ctx, &query.filter, groups.len());
    push_summary(out, &page, &filter, &query.filter, groups.len());
    if page.start == page.end {
        out.extend_from_slice(b"<p class=\"empty\">");
        out.extend_from_slice(if groups.is_empty() {
            b"No groups yet. Push some metrics, e.g. <code>echo 'some_metric 3.14' | curl \
              --data-binary @- http://&lt;this host&gt;/metrics/job/some_job</code>"
                as &[u8]
        } else {
            b"No group matches the filter."
        });
        out.extend_from_slice(b"</p>");
    } else {
        push_pager(out, &page, &query.filter);
        out.extend_from_slice(b"<div class=\"groups\">");
        for g in &matching[page.start..page.end] {
            push_group(out, ctx, g);
        }
        out.extend_from_slice(b"</div>");
        push_pager(out, &page, &query.filter);
    }
    push_page_end(out);
}

/// The filter form (a plain GET form: works without the script) and, with
/// the admin API, the "Delete All" button.
fn push_toolbar(out: &mut Vec<u8>, ctx: &Context<'_>, filter: &str, n_groups: usize) {
    out.extend_from_slice(
        b"<form class=\"toolbar\" method=\"get\" role=\"search\">\
          <input type=\"search\" name=\"filter\" aria-label=\"Filter groups\" \
          placeholder=\"Filter: job=batch, instance, metric name...\" value=\"",
    );
    push_escaped(out, filter);
    out.extend_from_slice(b"\"><button class=\"btn\" type=\"submit\">Filter</button>");
    if !filter.is_empty() {
        out.extend_from_slice(b"<a href=\"./\">Clear</a>");
    }
    out.extend_from_slice(b"<span class=\"spacer\"></span>");
    if ctx.admin {
        let disabled = if n_groups == 0 { " disabled" } else { "" };
        let s = if n_groups == 1 { "" } else { "s" };
        let _ = write!(
            out,
            "<button class=\"btn danger\" type=\"button\" id=\"delete-all\" data-method=\"PUT\" \
             data-url=\"api/v1/admin/wipe\" data-confirm=\"Delete all {n_groups} group{s}? This \
             cannot be undone.\"{disabled}>Delete All {n_groups} Group{s}</button>"
        );
    }
    out.extend_from_slice(b"</form>");
}

/// "Groups 101–200 of 250 matching …".
fn push_summary(out: &mut Vec<u8>, page: &Page, filter: &Filter, text: &str, n_groups: usize) {
    out.extend_from_slice(b"<p class=\"summary\" id=\"summary\">");
    if page.total > 0 {
        let _ = write!(out, "Groups {}\u{2013}{} of {}", page.start + 1, page.end, page.total);
    } else {
        out.extend_from_slice(b"No groups");
    }
    if !filter.is_empty() {
        out.extend_from_slice(b" matching <q>");
        push_escaped(out, text);
        let _ = write!(out, "</q> ({n_groups} in total)");
    }
    out.extend_from_slice(b".</p>");
}

/// Previous/next links, keeping the filter (query-only relative URLs).
fn push_pager(out: &mut Vec<u8>, page: &Page, filter: &str) {
    if page.pages <= 1 {
        return;
    }
    let link = |out: &mut Vec<u8>, n: Option<usize>, rel: &str, label: &str| match n {
        Some(n) => {
            out.extend_from_slice(b"<a rel=\"");
            out.extend_from_slice(rel.as_bytes());
            out.extend_from_slice(b"\" href=\"?");
            if !filter.is_empty() {
                out.extend_from_slice(b"filter=");
                push_query_component(out, filter);
                out.extend_from_slice(b"&amp;");
            }
            let _ = write!(out, "page={n}\">{label}</a>");
        }
        None => {
            let _ = write!(out, "<span class=\"off\">{label}</span>");
        }
    };
    out.extend_from_slice(b"<nav class=\"pager\" aria-label=\"Pages\">");
    link(out, page.prev(), "prev", "\u{2190} Previous");
    let _ = write!(out, "<span>Page {} of {}</span>", page.number, page.pages);
    link(out, page.next(), "next", "Next \u{2192}");
    out.extend_from_slice(b"</nav>");
}

/// The grouping labels in display order: `job`, `instance`, then by name.
fn display_labels(key: &GroupingKey) -> Vec<(&str, &str, &'static str)> {
    let rank = |n: &str| match n {
        "job" => 0,
        "instance" => 1,
        _ => 2,
    };
    let mut labels: Vec<(&str, &str, &'static str)> = key
        .labels()
        .iter()
        .map(|(n, v)| {
            let class = match rank(n) {
                0 => "badge job",
                1 => "badge instance",
                _ => "badge label",
            };
            (n.as_str(), v.as_str(), class)
        })
        .collect();
    // Stable: the key's labels are already sorted by name.
    labels.sort_by_key(|(n, ..)| rank(n));
    labels
}

/// The DELETE path of a group relative to the page, every value base64url
/// (spec 1.3/1.7; one trailing `=` so an empty value is `=`, not `//`), and
/// label names `U__`-escaped where the server's name rules need it.
pub fn delete_path(key: &GroupingKey, names: NameValidation) -> String {
    format!("metrics{}", format_push_path_with(key, names))
}

/// One group's panel: badges, push times, Delete button; its families inside.
fn push_group(out: &mut Vec<u8>, ctx: &Context<'_>, g: &GroupView) {
    let now = ctx.now;
    let id = delete_path(&g.key, ctx.names);
    let labels = display_labels(&g.key);
    out.extend_from_slice(b"<details class=\"group\" data-id=\"");
    push_escaped(out, &id);
    out.extend_from_slice(b"\"><summary>");
    for (n, v, class) in &labels {
        let _ = write!(out, "<span class=\"{class}\">");
        push_escaped(out, n);
        out.extend_from_slice(b"=&quot;");
        push_escaped(out, v);
        out.extend_from_slice(b"&quot;</span>");
    }
    let value_of = |name: &str| {
        g.families.iter().find(|f| &*f.name == name).and_then(|f| f.first_simple_value())
    };
    if !g.last_push_successful {
        out.extend_from_slice(b"<span class=\"badge fail\">Last push failed!</span>");
    }
    out.extend_from_slice(b"<span class=\"meta\">");
    match value_of(PUSH_TIME).and_then(from_unix_seconds) {
        Some(t) => {
            out.extend_from_slice(b"last push ");
            push_time(out, t, now);
        }
        None => out.extend_from_slice(b"no successful push"),
    }
    if !g.last_push_successful {
        if let Some(t) = value_of(PUSH_FAILURE_TIME).and_then(from_unix_seconds) {
            out.extend_from_slice(b"; failed ");
            push_time(out, t, now);
        }
    }
    if let Some(d) = g.deadline {
        out.extend_from_slice(b"; expires ");
        push_time(out, d, now);
    }
    out.extend_from_slice(b"</span><button class=\"btn danger small\" type=\"button\" data-method=\"DELETE\" data-url=\"");
    push_escaped(out, &id);
    out.extend_from_slice(b"\" data-confirm=\"Delete group ");
    for (i, (n, v, _)) in labels.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        push_escaped(out, n);
        out.extend_from_slice(b"=&quot;");
        push_escaped(out, v);
        out.extend_from_slice(b"&quot;");
    }
    out.extend_from_slice(b"?\">Delete Group</button></summary><div class=\"body\">");
    for f in &g.families {
        push_family(out, now, &id, &g.key, f);
    }
    out.extend_from_slice(b"</div></details>");
}

/// One family's panel: name, TYPE, HELP and push time; its series inside.
fn push_family(
    out: &mut Vec<u8>,
    now: SystemTime,
    group_id: &str,
    key: &GroupingKey,
    f: &StoredFamily,
) {
    out.extend_from_slice(b"<details class=\"family\" data-id=\"");
    push_escaped(out, group_id);
    out.push(b'#');
    push_escaped(out, &f.name);
    out.extend_from_slice(b"\"><summary><code class=\"name\">");
    push_escaped(out, &f.name);
    out.extend_from_slice(b"</code><span class=\"type\">");
    push_escaped(out, &f.typ.as_proto_name().to_ascii_lowercase());
    out.extend_from_slice(b"</span>");
    if let Some(help) = f.help.as_deref().filter(|h| !h.is_empty()) {
        out.extend_from_slice(b"<span class=\"help\" title=\"");
        push_escaped(out, help);
        out.extend_from_slice(b"\">");
        push_escaped(out, help);
        out.extend_from_slice(b"</span>");
    }
    let n = f.series.len();
    let _ = write!(out, "<span class=\"meta\">{n} series; last pushed ");
    push_time(out, f.pushed_at, now);
    out.extend_from_slice(b"</span></summary>");
    push_series_table(out, key, f);
    out.extend_from_slice(b"</details>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grouping::parse_push_path;

    #[test]
    fn badges_put_job_then_instance_then_the_rest() {
        let key = GroupingKey::new(
            "j",
            [("zone", "z"), ("instance", "i"), ("app", "a")]
                .map(|(n, v)| (n.to_owned(), v.to_owned())),
        );
        let names: Vec<&str> = display_labels(&key).iter().map(|(n, ..)| *n).collect();
        assert_eq!(names, ["job", "instance", "app", "zone"]);
    }

    #[test]
    fn delete_path_round_trips_through_the_push_path_parser() {
        for labels in [
            vec![],
            vec![("instance", "")],
            vec![("instance", "a/b c"), ("x", "<script>ä/\u{0}")],
            vec![("path", "="), ("q", "?#%")],
        ] {
            let key = GroupingKey::new(
                "job/with?odd=chars",
                labels.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
            );
            let path = delete_path(&key, NameValidation::Legacy);
            assert!(
                path.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=@/".contains(&b)),
                "{path}"
            );
            let rest = path.strip_prefix("metrics/job@base64/").unwrap();
            let (job, labels) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let parsed = parse_push_path(job.as_bytes(), true, labels.as_bytes()).unwrap();
            assert_eq!(parsed, key, "{path}");
        }
    }

    #[test]
    fn delete_path_escapes_utf8_label_names() {
        let key = GroupingKey::new(
            "j",
            [("a.b", "v"), ("U__x", "w")].map(|(n, v)| (n.to_owned(), v.to_owned())),
        );
        let path = delete_path(&key, NameValidation::Utf8);
        assert!(path.contains("/U__a_2e_b@base64/"), "{path}");
        let rest = path.strip_prefix("metrics/job@base64/").unwrap();
        let (job, labels) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let parsed = crate::grouping::parse_push_path_with(
            job.as_bytes(),
            true,
            labels.as_bytes(),
            NameValidation::Utf8,
        )
        .unwrap();
        assert_eq!(parsed, key, "{path}");
    }
}
