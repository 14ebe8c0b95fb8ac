//! `/-/quit` (spec 1.2, 1.6): graceful shutdown over HTTP when enabled.

use crate::http::response::Response;
use crate::runtime::Core;

/// PUT/POST `/-/quit`.
pub fn quit(core: &Core) -> Response {
    if !core.shared.config.enable_lifecycle {
        return Response::text(403, "Lifecycle API is not enabled.");
    }
    crate::log::info("Received an HTTP shutdown request", &[]);
    // The response is written before the connection notices the shutdown.
    core.shared.shutdown.trigger();
    Response::text(200, "Requesting termination... Goodbye!")
}

/// GET `/-/quit`: the Go server's stub answer.
pub fn quit_get() -> Response {
    Response::text(405, "Only POST or PUT requests allowed.")
}
