//! Pushgateway semantics behind each route (mirrors the Go server's handlers).
//!
//! Owns what a request means: push, delete, scrape, JSON API, health,
//! lifecycle, UI. Framing is `http`'s job and storage is `store`'s.

pub mod groups;
pub mod health;
pub mod json;
pub mod lifecycle;
pub mod metrics;
pub mod push;
pub mod scrape;
pub mod status;
pub mod wipe;

use crate::access::{apply_headers, roles, Grant, Verdict};
use crate::http::request::Head;
use crate::http::response::Response;
use crate::http::router::{clean_path, percent_decode, route, Resolution, Route};
use crate::http::Error;
use crate::runtime::Core;

/// CORS and caching headers of the JSON API (spec 1.5).
pub fn cors_headers(r: Response) -> Response {
    r.with_header("Access-Control-Allow-Headers", "Accept, Authorization, Content-Type, Origin")
        .with_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
        .with_header("Access-Control-Allow-Origin", "*")
        .with_header("Access-Control-Expose-Headers", "Date")
        .with_header("Cache-Control", "no-cache, no-store, must-revalidate")
}

/// The JSON API envelope; a Go struct, so `status` comes before `data`.
pub fn envelope(data: &str) -> String {
    format!("{{\"status\":\"success\",\"data\":{data}}}")
}

/// Answers one request: access control first (with `--web.config.file`),
/// then routing.
pub async fn dispatch(core: &Core, head: &Head, body: &[u8]) -> Response {
    let Some(access) = &core.shared.access else {
        return route_and_handle(core, head, body, &Grant::everything()).await;
    };
    let (policy, verdict) = access.check(head).await;
    let mut response = match verdict {
        Verdict::Pass(grant) => route_and_handle(core, head, body, &grant).await,
        Verdict::Refuse(r) => {
            core.shared.metrics.refused(match r.status {
                401 => "unauthorized",
                429 => "rate_limited",
                _ => "web_config_invalid",
            });
            r
        }
    };
    if let Some(policy) = policy {
        apply_headers(&policy, &mut response);
    }
    response
}

async fn route_and_handle(core: &Core, head: &Head, body: &[u8], grant: &Grant) -> Response {
    let (raw_path, query) = match head.target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (head.target.as_str(), None),
    };
    let Some(path) = percent_decode(raw_path.as_bytes()) else {
        return Error::BadTarget.response();
    };
    // net/http.ServeMux redirects unclean paths before any handler runs (spec 1.1).
    let clean = clean_path(&path);
    if clean != path {
        return Response::redirect(301, &head.method, &clean, query);
    }
    let config = &core.shared.config;
    let method = head.method.as_str();
    match route(config, method, &path) {
        Resolution::Handle(r) => match roles::required(&r) {
            Some(role) if !grant.roles.has(role) => {
                core.shared.metrics.refused("forbidden");
                Response::error(
                    403,
                    &format!("Forbidden: this user lacks the {} role", role.name()),
                )
            }
            _ => handle(core, r, head, body, grant).await,
        },
        Resolution::Redirect(status, location) => {
            Response::redirect(status, method, location.as_bytes(), query)
        }
        Resolution::MethodNotAllowed(allow) => {
            Response::error(405, "Method Not Allowed").with_header("Allow", allow)
        }
        Resolution::Options(allow) => Response::empty(200).with_header("Allow", allow),
        Resolution::NotFound => Response::error(404, "404 page not found"),
    }
}

async fn handle(
    core: &Core,
    route: Route<'_>,
    head: &Head,
    body: &[u8],
    grant: &Grant,
) -> Response {
    let metrics = &core.shared.metrics;
    let counted = |handler: &'static str, r: Response| {
        metrics.count_request(r.status, handler, &head.method);
        r
    };
    match route {
        Route::Push { job, job_base64, labels } => {
            push::handle(core, head, job, job_base64, labels, body, grant).await
        }
        Route::Scrape => scrape::handle(core, head).await,
        Route::ApiStatus => counted("api/v1/status", status::handle(core)),
        Route::ApiMetrics => counted("api/v1/metrics", metrics::handle(core).await),
        Route::ApiOptions => counted("api/v1/options", cors_headers(Response::empty(200))),
        Route::Wipe => counted("wipe", wipe::handle(core).await),
        Route::DeleteGroups => counted("delete_groups", groups::handle(core, head).await),
        Route::Healthy => counted("healthy", health::handle()),
        Route::Ready => counted("ready", health::handle()),
        Route::Quit => lifecycle::quit(core),
        Route::QuitGet => lifecycle::quit_get(),
        Route::Ui(page) => counted("status", crate::web::handle(core, page, head).await),
        Route::Static(name) => counted("static", crate::web::assets::handle(name)),
    }
}
