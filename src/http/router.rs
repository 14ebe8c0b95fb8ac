//! Routing: (method, decoded path) → what to do, with the Go server's
//! redirects, 404s and 405s (spec 1.1, 1.2).
//!
//! Owns the route table only; handlers live in `api`. Routing borrows the
//! path and allocates only for redirects.

use crate::config::Config;

/// A routed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<'p> {
    /// PUT/POST/DELETE on a push path.
    Push {
        /// The job segment, still base64 if `job_base64`.
        job: &'p [u8],
        /// Whether the path said `job@base64`.
        job_base64: bool,
        /// The label part after the job segment (`/a/b…` or empty).
        labels: &'p [u8],
    },
    /// GET on the telemetry path.
    Scrape,
    /// GET `/api/v1/status`.
    ApiStatus,
    /// GET `/api/v1/metrics`.
    ApiMetrics,
    /// OPTIONS on anything under `/api/v1/`.
    ApiOptions,
    /// PUT `/api/v1/admin/wipe` (admin API enabled).
    Wipe,
    /// DELETE `/api/v1/admin/groups?<label>=<value>…` (admin API enabled).
    DeleteGroups,
    /// GET `/-/healthy`.
    Healthy,
    /// GET `/-/ready`.
    Ready,
    /// PUT/POST `/-/quit`.
    Quit,
    /// GET `/-/quit` (never prefixed): the Go server's 405 stub.
    QuitGet,
    /// GET `/` or `/status`: the web UI.
    Ui(UiPage),
    /// GET `/static/<name>`: an embedded UI asset (the name is looked up in a
    /// fixed table, never on disk).
    Static(&'p [u8]),
}

/// Which tab of the web UI a GET asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UiPage {
    /// `/`: the groups.
    Metrics,
    /// `/status`: build information, start time, flags.
    Status,
}

/// What the router decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution<'p> {
    /// Handle the route.
    Handle(Route<'p>),
    /// Redirect with this status to this location.
    Redirect(u16, String),
    /// The path exists for other methods; `Allow` header value.
    MethodNotAllowed(&'static str),
    /// Automatic OPTIONS answer; `Allow` header value.
    Options(&'static str),
    /// No such path.
    NotFound,
}

const PUSH_ALLOW: &str = "DELETE, OPTIONS, POST, PUT";
const GET_ALLOW: &str = "GET, OPTIONS";

/// Go's `path.Clean` as `net/http.ServeMux` applies it (trailing slash kept).
pub fn clean_path(p: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for seg in p.split(|b| *b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = Vec::with_capacity(p.len());
    for s in &parts {
        out.push(b'/');
        out.extend_from_slice(s);
    }
    if out.is_empty() || (p.ends_with(b"/") && !out.ends_with(b"/")) {
        out.push(b'/');
    }
    out
}

/// Routes `method` and the decoded, clean `path`.
pub fn route<'p>(config: &Config, method: &str, path: &'p [u8]) -> Resolution<'p> {
    let prefix = config.route_prefix.as_bytes();
    // The GET /-/quit stub is registered without the prefix (a Go server bug we keep).
    if path == b"/-/quit" && method == "GET" {
        return Resolution::Handle(Route::QuitGet);
    }
    let Some(rest) = path.strip_prefix(prefix) else {
        return Resolution::NotFound;
    };
    if !prefix.is_empty() && rest.is_empty() {
        // httprouter: GET /pg → /pg/ (301), other methods 307.
        return redirect(method, format!("{}/", config.route_prefix));
    }
    if let Some(r) = route_push(config, method, rest) {
        return r;
    }
    let telemetry = config.telemetry_path.as_bytes().strip_prefix(prefix).unwrap_or(b"/metrics");
    let fixed: &[(&[u8], &[&str], Route<'p>, &'static str)] = &[
        (telemetry, &["GET"], Route::Scrape, GET_ALLOW),
        (b"/-/healthy", &["GET"], Route::Healthy, GET_ALLOW),
        (b"/-/ready", &["GET"], Route::Ready, GET_ALLOW),
        (b"/api/v1/status", &["GET"], Route::ApiStatus, GET_ALLOW),
        (b"/api/v1/metrics", &["GET"], Route::ApiMetrics, GET_ALLOW),
        (b"/", &["GET"], Route::Ui(UiPage::Metrics), GET_ALLOW),
        (b"/status", &["GET"], Route::Ui(UiPage::Status), GET_ALLOW),
    ];
    if let Some(name) = rest.strip_prefix(b"/static/") {
        return match method {
            "GET" => Resolution::Handle(Route::Static(name)),
            "OPTIONS" => Resolution::Options(GET_ALLOW),
            _ => Resolution::MethodNotAllowed(GET_ALLOW),
        };
    }
    if rest == b"/static" && method == "GET" {
        // httprouter: GET /static → /static/ (spec 1.1).
        return redirect(method, format!("{}/static/", config.route_prefix));
    }
    if rest.starts_with(b"/api/v1/") && method == "OPTIONS" {
        return Resolution::Handle(Route::ApiOptions);
    }
    if rest == b"/api/v1/admin/wipe" && config.enable_admin_api {
        return if method == "PUT" {
            Resolution::Handle(Route::Wipe)
        } else {
            Resolution::MethodNotAllowed("OPTIONS, PUT")
        };
    }
    if rest == b"/api/v1/admin/groups" && config.enable_admin_api {
        return if method == "DELETE" {
            Resolution::Handle(Route::DeleteGroups)
        } else {
            Resolution::MethodNotAllowed("DELETE, OPTIONS")
        };
    }
    if rest == b"/-/quit" {
        return match method {
            "PUT" | "POST" => Resolution::Handle(Route::Quit),
            "OPTIONS" if prefix.is_empty() => Resolution::Options("GET, OPTIONS, POST, PUT"),
            "OPTIONS" => Resolution::Options("OPTIONS, POST, PUT"),
            _ if prefix.is_empty() => Resolution::MethodNotAllowed("GET, OPTIONS, POST, PUT"),
            _ => Resolution::MethodNotAllowed("OPTIONS, POST, PUT"),
        };
    }
    for (p, methods, route, allow) in fixed {
        if rest == *p {
            return if methods.contains(&method) {
                Resolution::Handle(*route)
            } else if method == "OPTIONS" {
                Resolution::Options(allow)
            } else {
                Resolution::MethodNotAllowed(allow)
            };
        }
    }
    // httprouter's trailing-slash and case fixes, only for routes of this method.
    if method == "GET" {
        let trimmed = rest.strip_suffix(b"/").unwrap_or(rest);
        for (p, _, _, _) in fixed.iter().filter(|(p, ..)| *p != b"/") {
            if trimmed.eq_ignore_ascii_case(p) && rest != *p {
                let target = String::from_utf8_lossy(p);
                return redirect(method, format!("{}{target}", config.route_prefix));
            }
        }
    }
    Resolution::NotFound
}

fn redirect(method: &str, location: String) -> Resolution<'static> {
    Resolution::Redirect(if method == "GET" { 301 } else { 307 }, location)
}

fn route_push<'p>(config: &Config, method: &str, rest: &'p [u8]) -> Option<Resolution<'p>> {
    let (after, job_base64) = if let Some(a) = rest.strip_prefix(b"/metrics/job/") {
        (a, false)
    } else if let Some(a) = rest.strip_prefix(b"/metrics/job@base64/") {
        (a, true)
    } else {
        return None;
    };
    let is_push_method = matches!(method, "PUT" | "POST" | "DELETE");
    if after.is_empty() {
        // `/metrics/job/` has an empty :job; httprouter suggests dropping the
        // slash (keeping the route prefix). Its tree makes no such suggestion
        // for `/metrics/job@base64/`.
        return Some(if is_push_method && !job_base64 {
            let base = String::from_utf8_lossy(&rest[..rest.len() - 1]);
            Resolution::Redirect(307, format!("{}{base}", config.route_prefix))
        } else {
            Resolution::NotFound
        });
    }
    let end = memchr::memchr(b'/', after).unwrap_or(after.len());
    let (job, labels) = after.split_at(end);
    Some(match method {
        _ if is_push_method => Resolution::Handle(Route::Push { job, job_base64, labels }),
        "OPTIONS" => Resolution::Options(PUSH_ALLOW),
        _ => Resolution::MethodNotAllowed(PUSH_ALLOW),
    })
}

/// Percent-decodes a request path (not a query: `+` stays `+`).
///
/// Returns `None` for a malformed escape (Go answers 400).
pub fn percent_decode(p: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        if p[i] == b'%' {
            let hex = |b: u8| (b as char).to_digit(16);
            let hi = hex(*p.get(i + 1)?)?;
            let lo = hex(*p.get(i + 2)?)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(p[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config { enable_admin_api: true, ..Config::default() }
    }

    #[test]
    fn push_paths() {
        let c = cfg();
        assert_eq!(
            route(&c, "PUT", b"/metrics/job/a/instance/b"),
            Resolution::Handle(Route::Push {
                job: b"a",
                job_base64: false,
                labels: b"/instance/b"
            })
        );
        assert_eq!(route(&c, "GET", b"/metrics/job/x"), Resolution::MethodNotAllowed(PUSH_ALLOW));
        assert_eq!(
            route(&c, "POST", b"/metrics/job/"),
            Resolution::Redirect(307, "/metrics/job".into())
        );
        assert_eq!(route(&c, "PUT", b"/metrics/job"), Resolution::NotFound);
        assert_eq!(route(&c, "PUT", b"/metrics/job@base64/"), Resolution::NotFound);
    }

    #[test]
    fn fixed_paths_and_methods() {
        let c = cfg();
        assert_eq!(route(&c, "GET", b"/metrics"), Resolution::Handle(Route::Scrape));
        assert_eq!(route(&c, "HEAD", b"/metrics"), Resolution::MethodNotAllowed(GET_ALLOW));
        assert_eq!(route(&c, "POST", b"/metrics"), Resolution::MethodNotAllowed(GET_ALLOW));
        assert_eq!(route(&c, "GET", b"/metrics/"), Resolution::Redirect(301, "/metrics".into()));
        assert_eq!(route(&c, "GET", b"/METRICS"), Resolution::Redirect(301, "/metrics".into()));
        assert_eq!(route(&c, "GET", b"/nonexistent"), Resolution::NotFound);
        assert_eq!(route(&c, "GET", b"/-/quit"), Resolution::Handle(Route::QuitGet));
        assert_eq!(
            route(&c, "DELETE", b"/-/quit"),
            Resolution::MethodNotAllowed("GET, OPTIONS, POST, PUT")
        );
        assert_eq!(
            route(&c, "POST", b"/api/v1/admin/wipe"),
            Resolution::MethodNotAllowed("OPTIONS, PUT")
        );
        let no_admin = Config::default();
        assert_eq!(route(&no_admin, "PUT", b"/api/v1/admin/wipe"), Resolution::NotFound);
    }

    #[test]
    fn ui_tabs_and_static_assets() {
        let c = cfg();
        assert_eq!(route(&c, "GET", b"/"), Resolution::Handle(Route::Ui(UiPage::Metrics)));
        assert_eq!(route(&c, "GET", b"/status"), Resolution::Handle(Route::Ui(UiPage::Status)));
        assert_eq!(
            route(&c, "GET", b"/static/pushgate.js"),
            Resolution::Handle(Route::Static(b"pushgate.js"))
        );
        assert_eq!(route(&c, "GET", b"/static/"), Resolution::Handle(Route::Static(b"")));
        assert_eq!(route(&c, "GET", b"/static"), Resolution::Redirect(301, "/static/".into()));
        assert_eq!(route(&c, "PUT", b"/static/x"), Resolution::MethodNotAllowed(GET_ALLOW));
        let p = Config { route_prefix: "/pg".into(), ..Config::default() };
        assert_eq!(route(&p, "GET", b"/static/pushgate.js"), Resolution::NotFound);
        assert_eq!(
            route(&p, "GET", b"/pg/static/pushgate.css"),
            Resolution::Handle(Route::Static(b"pushgate.css"))
        );
    }

    #[test]
    fn prefix_moves_everything_but_quit_stub() {
        let c = Config {
            route_prefix: "/pg".into(),
            telemetry_path: "/pg/metrics".into(),
            ..Config::default()
        };
        assert_eq!(route(&c, "GET", b"/pg/metrics"), Resolution::Handle(Route::Scrape));
        assert_eq!(route(&c, "GET", b"/metrics"), Resolution::NotFound);
        assert_eq!(route(&c, "GET", b"/pg"), Resolution::Redirect(301, "/pg/".into()));
        assert_eq!(route(&c, "GET", b"/-/quit"), Resolution::Handle(Route::QuitGet));
        assert_eq!(
            route(&c, "PUT", b"/pg/metrics/job/"),
            Resolution::Redirect(307, "/pg/metrics/job".into())
        );
    }

    #[test]
    fn clean_and_decode() {
        assert_eq!(clean_path(b"/metrics/job/x/a//b"), b"/metrics/job/x/a/b");
        assert_eq!(clean_path(b"/a/./b/../c/"), b"/a/c/");
        assert_eq!(clean_path(b"/metrics/job/x/"), b"/metrics/job/x/");
        assert_eq!(percent_decode(b"/l/a%2Fb+c").unwrap(), b"/l/a/b+c");
        assert_eq!(percent_decode(b"/%zz"), None);
    }
}
