//! GET `/api/v1/status` (spec 1.5): build information, flags, start time.

use crate::api::json::{push_sorted_object, string};
use crate::api::{cors_headers, envelope};
use crate::http::response::Response;
use crate::runtime::Core;
use crate::timefmt::rfc3339_nano;

/// Build information keys the Go server reports, with our values, sorted by
/// key. Shared with the web UI's Status tab.
///
/// The revision is the `PUSHGATE_REVISION` environment variable at build
/// time (e.g. `PUSHGATE_REVISION=$(git rev-parse HEAD) cargo build`), empty
/// when unset.
pub const BUILD_INFORMATION: [(&str, &str); 6] = [
    ("branch", ""),
    ("buildDate", ""),
    ("buildUser", ""),
    ("goVersion", "none (pushgate is written in Rust)"),
    (
        "revision",
        match option_env!("PUSHGATE_REVISION") {
            Some(r) => r,
            None => "",
        },
    ),
    ("version", env!("CARGO_PKG_VERSION")),
];

fn build_information() -> String {
    let mut out = String::new();
    push_sorted_object(&mut out, BUILD_INFORMATION.iter().map(|(k, v)| (*k, string(v))));
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
        pieces: Vec::new(),
    })
}
