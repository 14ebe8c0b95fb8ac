//! The web UI (spec 1.7): the Metrics tab at `<prefix>/`, the Status tab at
//! `<prefix>/status` and the embedded assets at `<prefix>/static/<name>`.
//!
//! Everything is served from the binary (no CDN, no build tool) and works in
//! closed networks. Pages are rendered on the server and read fine without
//! JavaScript: groups expand with `<details>`, filtering and pagination are a
//! GET form and links (`?filter=…&page=…`). The only script,
//! `static/pushgate.js`, adds the Delete buttons (DELETE on the group's push
//! path, PUT `api/v1/admin/wipe`), relative to the page URL so route
//! prefixes and proxies work (spec 1.8).
//!
//! INVARIANTS: every label, value, HELP text, name and flag reaches the page
//! through [`html::push_escaped`]; pages contain no inline script or style
//! and are served with a Content-Security-Policy that allows only the
//! server's own assets.
//!
//! Modules: [`html`] (escaping, page frame), [`listing`] (query, filter,
//! pagination), [`groups`] (Metrics tab), [`series`] (series tables),
//! [`status`] (Status tab), [`ago`] (times), [`assets`] (static files).

pub mod ago;
pub mod assets;
pub mod groups;
pub mod html;
pub mod listing;
pub mod series;
pub mod status;

use std::time::SystemTime;

pub use html::escape;

use crate::http::request::Head;
use crate::http::response::Response;
use crate::http::router::UiPage;
use crate::http::Error;
use crate::runtime::Core;

/// What every page needs to know besides its own data.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// Prefix of links and assets (see [`html::asset_base`]).
    pub base: &'a str,
    /// Whether `--web.enable-admin-api` is set (shows "Delete All").
    pub admin: bool,
    /// The time the page is rendered at.
    pub now: SystemTime,
    /// Label-name rules of push paths (`--push.enable-utf8-names`).
    pub names: crate::expfmt::escape::NameValidation,
}

/// The page's Content-Security-Policy: own scripts, styles, icon and
/// requests only; forms submit to this server; no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// Renders the tab `page` (the Metrics tab reads `?filter=` and `?page=`).
pub async fn handle(core: &Core, page: UiPage, head: &Head) -> Response {
    let config = &core.shared.config;
    let ctx = Context {
        base: html::asset_base(&config.external_path),
        admin: config.enable_admin_api,
        now: SystemTime::now(),
        names: config.name_validation,
    };
    let mut out = Vec::with_capacity(16 * 1024);
    match page {
        UiPage::Metrics => {
            let Some(groups) = core.groups().await else {
                return Error::Unavailable.response();
            };
            let query = listing::Query::parse(head.target.split_once('?').map_or("", |(_, q)| q));
            groups::render_metrics_tab(&mut out, &ctx, &groups, &query);
        }
        UiPage::Status => {
            status::render_status_tab(
                &mut out,
                &ctx,
                core.shared.started,
                config.cores,
                &config.flags,
            );
        }
    }
    html_response(out)
}

/// A rendered page with its security and caching headers.
pub fn html_response(body: Vec<u8>) -> Response {
    Response {
        status: 200,
        headers: vec![
            ("Content-Type", "text/html; charset=utf-8".to_owned()),
            ("Content-Security-Policy", CONTENT_SECURITY_POLICY.to_owned()),
            ("X-Content-Type-Options", "nosniff".to_owned()),
            ("Referrer-Policy", "same-origin".to_owned()),
            // The page lists live data.
            ("Cache-Control", "no-store".to_owned()),
        ],
        body,
        pieces: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expfmt::{MetricType, Value};
    use crate::grouping::GroupingKey;
    use crate::store::group::{StoredFamily, StoredSeries};
    use crate::store::GroupView;
    use std::sync::Arc;

    fn hostile_group() -> GroupView {
        let key = GroupingKey::new(
            "<script>alert(1)</script>",
            [("instance".to_owned(), "\"><img src=x onerror=alert(2)>".to_owned())],
        );
        let labels = [("job", "<script>alert(1)</script>"), ("x", "</td><script>")];
        let series = StoredSeries::new(labels.into_iter().collect(), Value::Simple(1.0), None);
        let family = StoredFamily::new(
            "evil_metric".into(),
            Some("<b>HELP</b> & 'quotes'".into()),
            MetricType::Counter,
            vec![series],
            SystemTime::UNIX_EPOCH,
        );
        GroupView {
            key,
            families: vec![Arc::new(family)],
            last_push_successful: false,
            deadline: None,
        }
    }

    fn metrics_page(groups: &[GroupView], query: &str, admin: bool) -> String {
        let ctx = Context {
            base: ".",
            admin,
            now: SystemTime::now(),
            names: crate::expfmt::escape::NameValidation::Legacy,
        };
        let mut out = Vec::new();
        groups::render_metrics_tab(&mut out, &ctx, groups, &listing::Query::parse(query));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn hostile_labels_help_and_names_are_escaped() {
        let page = metrics_page(&[hostile_group()], "", true);
        assert_eq!(page.matches("<script").count(), 1, "only the asset tag: {page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(!page.contains("<b>"), "{page}");
        assert!(!page.contains("</td><script>"), "{page}");
        assert!(page.contains("job=&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;"), "{page}");
        assert!(page.contains("&lt;b&gt;HELP&lt;/b&gt; &amp; &#39;quotes&#39;"), "{page}");
        assert!(page.contains("Last push failed!"), "{page}");
    }

    #[test]
    fn delete_all_only_with_the_admin_api() {
        let g = [hostile_group()];
        assert!(metrics_page(&g, "", true).contains("Delete All 1 Group<"));
        assert!(!metrics_page(&g, "", false).contains("Delete All"));
        assert!(metrics_page(&[], "", true).contains("disabled>Delete All 0 Groups"));
    }

    #[test]
    fn filter_and_pages_narrow_the_list() {
        let groups: Vec<GroupView> = (0..250)
            .map(|i| GroupView {
                key: GroupingKey::new(&format!("job{i:03}"), []),
                families: Vec::new(),
                last_push_successful: true,
                deadline: None,
            })
            .collect();
        let count = |page: &str| page.matches("<details class=\"group\"").count();
        let first = metrics_page(&groups, "", false);
        assert_eq!(count(&first), 100);
        assert!(first.contains("Groups 1\u{2013}100 of 250."), "{first}");
        assert!(first.contains("href=\"?page=2\">Next"), "{first}");
        let last = metrics_page(&groups, "page=3", false);
        assert_eq!(count(&last), 50);
        assert!(last.contains("job249"), "{last}");
        let filtered = metrics_page(&groups, "filter=job24&page=1", false);
        assert_eq!(count(&filtered), 10);
        assert!(filtered.contains("Groups 1\u{2013}10 of 10 matching <q>job24</q> (250 in total)."));
        let none = metrics_page(&groups, "filter=nope", false);
        assert!(none.contains("No group matches the filter."), "{none}");
        let keeps = metrics_page(&groups, "filter=job+1", false);
        assert!(keeps.contains("href=\"?filter=job%201&amp;page=2\""), "{keeps}");
    }

    #[test]
    fn pages_are_served_with_a_strict_policy() {
        let r = html_response(Vec::new());
        assert_eq!(r.headers[0].1, "text/html; charset=utf-8");
        assert!(r.headers.iter().any(|(n, v)| *n == "Content-Security-Policy"
            && v.contains("script-src 'self';")
            && !v.contains("unsafe-inline")));
    }
}
