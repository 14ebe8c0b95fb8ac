//! `PUT /api/v1/admin/wipe` (spec 1.5): delete every group.
//!
//! Unlike the Go server (which answers 202 before queueing the deletes), the
//! wipe has been applied on every shard when the 202 goes out.

use crate::http::response::Response;
use crate::http::Error;
use crate::runtime::Core;

/// Wipes the store.
pub async fn handle(core: &Core) -> Response {
    match core.wipe().await {
        Some(()) => Response::empty(202),
        None => Error::Unavailable.response(),
    }
}
