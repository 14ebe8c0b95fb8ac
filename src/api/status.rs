//! GET `/api/v1/status` (spec 1.5): build information, flags, start time.

use crate::api::json::{push_sorted_object, string};
use crate::api::{cors_headers, envelope};
use crate::http::response::Response;
use crate::runtime::Core;
use crate::timefmt::rfc3339_nano;

/// Build information keys the Go server reports, with our values.
fn build_information() -> String {
    let mut out = String::new();
    push_sorted_object(
        &mut out,
        [
            ("branch", string("")),
            ("buildDate", string("")),
            ("buildUser", string("")),
            ("goVersion", string("none (pushgate is written in Rust)")),
            ("revision", string("")),
            ("version", string(env!("CARGO_PKG_VERSION"))),
        ],
    );
    out
}

/// Serves the status document.
pub fn handle(core: &Core) -> Response {
    let shared = &core.shared;
    let mut flags = String::new();
    push_sorted_object(
        &mut flags,
        shared.config.flags.iter().map(|(k, v)| (k.as_str(), string(v))),
    );
    let mut data = String::new();
    push_sorted_object(
        &mut data,
        [
            ("build_information", build_information()),
            ("flags", flags),
            ("start_time", string(&rfc3339_nano(shared.started))),
        ],
    );
    let body = envelope(&data);
    cors_headers(Response {
        status: 200,
        headers: vec![("Content-Type", "application/json".to_owned())],
        body: body.into_bytes(),
    })
}
