//! The web UI against the real binary: listing, filter, pagination,
//! escaping, static assets, route prefix and the admin-only button.

use crate::util::{Resp, Server};

fn page(s: &Server, path: &str) -> String {
    let r = s.req("GET", path, "");
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    r.text()
}

fn groups_on(page: &str) -> usize {
    page.matches("<details class=\"group\"").count()
}

#[test]
fn ui_lists_groups_with_badges_families_and_push_time() {
    let s = Server::start(&[]);
    let body = "# HELP backup_seconds How long the backup took.\n# TYPE backup_seconds gauge\n\
                backup_seconds{disk=\"sda\"} 12.5\n# TYPE lat summary\nlat{quantile=\"0.9\"} 0.3\n\
                lat_sum 4\nlat_count 9\n";
    assert_eq!(s.req("PUT", "/metrics/job/nightly/instance/db1/zone/eu", body).status, 200);
    assert_eq!(s.req("PUT", "/metrics/job/hourly", "other_metric 1\n").status, 200);
    let t = page(&s, "/");
    assert_eq!(groups_on(&t), 2);
    assert!(t.contains("Groups 1\u{2013}2 of 2."), "{t}");
    // job first, then instance, then the rest.
    let job = t.find("badge job\">job=&quot;nightly&quot;").expect("job badge");
    let inst = t.find("badge instance\">instance=&quot;db1&quot;").expect("instance badge");
    let zone = t.find("badge label\">zone=&quot;eu&quot;").expect("zone badge");
    assert!(job < inst && inst < zone, "{t}");
    assert!(
        t.contains("<code class=\"name\">backup_seconds</code><span class=\"type\">gauge</span>")
    );
    assert!(t.contains("How long the backup took."), "{t}");
    assert!(t.contains("disk=&quot;sda&quot;"), "{t}");
    assert!(t.contains(">12.5</td>"), "{t}");
    assert!(t.contains("<td>quantile 0.9</td><td>0.3</td>"), "{t}");
    assert!(t.contains("last push <time datetime=\""), "{t}");
    assert!(t.contains("just now"), "{t}");
    assert!(!t.contains("Last push failed!"), "{t}");
    // Delete buttons carry the base64 push path of their group.
    assert!(
        t.contains("data-method=\"DELETE\" data-url=\"metrics/job@base64/bmlnaHRseQ/instance@base64/ZGIx=/zone@base64/ZXU=\""),
        "{t}"
    );
    // No admin API: no Delete All.
    assert!(!t.contains("Delete All"), "{t}");
}

#[test]
fn ui_marks_failed_pushes() {
    let s = Server::start(&[]);
    assert_eq!(s.req("PUT", "/metrics/job/a", "# TYPE m counter\nm 1\n").status, 200);
    // m as a gauge clashes with the stored counter: the push fails.
    assert_eq!(s.req("PUT", "/metrics/job/b", "# TYPE m gauge\nm 1\n").status, 400);
    let t = page(&s, "/?filter=job%3Db");
    assert_eq!(groups_on(&t), 1, "{t}");
    assert!(t.contains("Last push failed!"), "{t}");
}

#[test]
fn ui_filter_narrows_and_pages_split_250_groups() {
    let s = Server::start(&["--runtime.cores=2"]);
    for i in 0..250 {
        let body = if i % 50 == 0 { "special_metric 1\n" } else { "plain 1\n" };
        assert_eq!(s.req("PUT", &format!("/metrics/job/batch{i:03}"), body).status, 200);
    }
    let first = page(&s, "/");
    assert_eq!(groups_on(&first), 100);
    assert!(first.contains("Groups 1\u{2013}100 of 250."), "{first}");
    assert!(first.contains("Page 1 of 3"), "{first}");
    assert!(first.contains("rel=\"next\" href=\"?page=2\""), "{first}");
    // Sorted by grouping key, across shards.
    assert!(first.find("batch000").unwrap() < first.find("batch099").unwrap());
    assert!(!first.contains("batch100"));
    let third = page(&s, "/?page=3");
    assert_eq!(groups_on(&third), 50);
    assert!(third.contains("Groups 201\u{2013}250 of 250."), "{third}");
    assert!(third.contains("rel=\"prev\" href=\"?page=2\""), "{third}");
    // Out of range: the last page.
    assert_eq!(groups_on(&page(&s, "/?page=999")), 50);
    assert_eq!(groups_on(&page(&s, "/?page=junk")), 100);
    // Filter by label value, by name=value, by metric name; the form keeps it.
    let f = page(&s, "/?filter=batch24");
    assert_eq!(groups_on(&f), 10, "{f}");
    assert!(f.contains("of 10 matching <q>batch24</q> (250 in total)"), "{f}");
    assert!(f.contains("name=\"filter\" aria-label=\"Filter groups\""), "{f}");
    assert!(f.contains("value=\"batch24\""), "{f}");
    assert_eq!(groups_on(&page(&s, "/?filter=job%3D%22batch007%22")), 1);
    assert_eq!(groups_on(&page(&s, "/?filter=special_metric")), 5);
    assert_eq!(groups_on(&page(&s, "/?filter=special+batch1")), 2);
    let none = page(&s, "/?filter=%3Cnothing%3E");
    assert_eq!(groups_on(&none), 0);
    assert!(none.contains("No group matches the filter."), "{none}");
    assert!(none.contains("value=\"&lt;nothing&gt;\""), "{none}");
}

#[test]
fn ui_escapes_hostile_label_values_and_help() {
    let s = Server::start(&[]);
    // <script>alert(1)</script> in a grouping label (base64url) and in a series label.
    let body = "# HELP m <img src=x onerror=alert(3)>\nm{v=\"</td><script>alert(2)</script>\"} 1\n";
    let r = s.req("PUT", "/metrics/job/x/l@base64/PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg", body);
    assert_eq!(r.status, 200, "{}", r.text());
    let t = page(&s, "/");
    assert_eq!(t.matches("<script").count(), 1, "only the asset's tag: {t}");
    assert!(!t.contains("<img"), "{t}");
    assert!(t.contains("l=&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;"), "{t}");
    assert!(t.contains("&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;"), "{t}");
    assert!(t.contains("&lt;img src=x onerror=alert(3)&gt;"), "{t}");
}

#[test]
fn ui_pages_forbid_inline_scripts() {
    let s = Server::start(&[]);
    for path in ["/", "/status"] {
        let r = s.req("GET", path, "");
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        let t = r.text();
        assert!(!t.contains("<script>") && !t.contains("onclick") && !t.contains("style="), "{t}");
    }
}

#[test]
fn ui_status_tab_shows_version_start_and_flags() {
    let s = Server::start(&["--persistence.interval=7m"]);
    let t = page(&s, "/status");
    assert!(t.contains("class=\"active\" aria-current=\"page\" href=\"./status\""), "{t}");
    assert!(t.contains(&format!(
        "<th>version</th><td class=\"mono\">{}</td>",
        env!("CARGO_PKG_VERSION")
    )));
    assert!(t.contains("<th>Started</th><td><time datetime=\""), "{t}");
    assert!(t.contains("<th>persistence.interval</th><td class=\"mono\">7m0s</td>"), "{t}");
    assert!(t.contains("<th>web.listen-address</th><td class=\"mono\">127.0.0.1:0</td>"), "{t}");
}

fn asset(s: &Server, path: &str) -> Resp {
    s.req("GET", path, "")
}

#[test]
fn static_assets_are_served_with_their_type_and_nothing_else() {
    let s = Server::start(&[]);
    let js = asset(&s, "/static/pushgate.js");
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert!(js.text().contains("data-method"), "{}", js.text());
    let css = asset(&s, "/static/pushgate.css");
    assert_eq!((css.status, css.header("content-type")), (200, Some("text/css; charset=utf-8")));
    let icon = asset(&s, "/static/favicon.svg?v=1");
    assert_eq!((icon.status, icon.header("content-type")), (200, Some("image/svg+xml")));
    // The page links them (relative without --web.external-url).
    let t = page(&s, "/");
    assert!(t.contains("<script src=\"./static/pushgate.js?v="), "{t}");
    assert!(t.contains("<link rel=\"stylesheet\" href=\"./static/pushgate.css?v="), "{t}");
    for name in ["nope.js", "", "PUSHGATE.JS", "pushgate.js%00", "web.rs", "assets/pushgate.js"] {
        let r = asset(&s, &format!("/static/{name}"));
        assert_eq!(r.status, 404, "{name}");
        assert_eq!(r.text(), "404 page not found\n");
    }
    // Traversal never reaches the handler: the path is cleaned first (a
    // redirect, spec 1.1) and the cleaned path is no asset.
    for raw in ["/static/../Cargo.toml", "/static/%2e%2e/Cargo.toml", "/static/..%2FCargo.toml"] {
        let r = asset(&s, raw);
        assert_eq!((r.status, r.header("location")), (301, Some("/Cargo.toml")), "{raw}");
        assert!(!r.text().contains("[package]"), "{raw}");
    }
    assert_eq!(asset(&s, "/Cargo.toml").status, 404);
    assert_eq!(asset(&s, "/static/src/web/assets/pushgate.js").status, 404);
    let r = s.req("PUT", "/static/pushgate.js", "");
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, OPTIONS")));
}

#[test]
fn delete_all_button_only_with_admin_api() {
    let s = Server::start(&[]);
    s.req("PUT", "/metrics/job/a", "m 1\n");
    assert!(!page(&s, "/").contains("Delete All"));
    let s = Server::start(&["--web.enable-admin-api"]);
    let empty = page(&s, "/");
    assert!(empty.contains("disabled>Delete All 0 Groups</button>"), "{empty}");
    s.req("PUT", "/metrics/job/a", "m 1\n");
    s.req("PUT", "/metrics/job/b", "m 1\n");
    let t = page(&s, "/");
    assert!(t.contains("data-method=\"PUT\" data-url=\"api/v1/admin/wipe\""), "{t}");
    assert!(t.contains(">Delete All 2 Groups</button>"), "{t}");
}

#[test]
fn delete_button_path_deletes_its_group() {
    let s = Server::start(&[]);
    s.req("PUT", "/metrics/job@base64/YS9i/instance@base64/=", "m 1\n");
    s.req("PUT", "/metrics/job/keep", "m 2\n");
    let t = page(&s, "/?filter=a/b");
    let url =
        t.split("data-method=\"DELETE\" data-url=\"").nth(1).unwrap().split('"').next().unwrap();
    assert_eq!(url, "metrics/job@base64/YS9i/instance@base64/=");
    assert_eq!(s.req("DELETE", &format!("/{url}"), "").status, 202);
    let scrape = s.scrape();
    assert!(!scrape.contains("job=\"a/b\""), "{scrape}");
    assert!(scrape.contains("job=\"keep\""), "{scrape}");
}

#[test]
fn ui_honours_route_prefix_and_external_url() {
    let s = Server::start(&["--web.route-prefix=/pg", "--web.enable-admin-api"]);
    assert_eq!(s.req("GET", "/", "").status, 404);
    assert_eq!(s.req("GET", "/static/pushgate.js", "").status, 404);
    assert_eq!(s.req("GET", "/pg/static/pushgate.js", "").status, 200);
    let t = page(&s, "/pg/");
    // Relative links: resolved against /pg/ they stay under the prefix.
    assert!(t.contains("src=\"./static/pushgate.js?v="), "{t}");
    assert!(t.contains("data-url=\"api/v1/admin/wipe\""), "{t}");
    page(&s, "/pg/status");

    let s =
        Server::start(&["--web.external-url=http://example.com/proxied/", "--web.route-prefix=/"]);
    let t = page(&s, "/");
    assert!(t.contains("src=\"/proxied/static/pushgate.js?v="), "{t}");
    assert!(t.contains("href=\"/proxied/status\""), "{t}");
    assert_eq!(s.req("GET", "/static/pushgate.css", "").status, 200);
}
