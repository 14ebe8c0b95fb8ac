//! `/-/healthy` and `/-/ready` (spec 1.6).
//!
//! The store is ready as soon as the listener is up (nothing is restored
//! asynchronously), so both answer the same.

use crate::http::response::Response;

/// `200 OK` with body `OK`.
pub fn handle() -> Response {
    Response::text(200, "OK")
}
