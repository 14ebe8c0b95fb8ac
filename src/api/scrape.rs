//! GET `/metrics` (spec 4): fan out to every shard, merge, render.
//!
//! Only the text format 0.0.4 is produced for now, whatever `Accept` says
//! (the Go server's answer to every Accept but protobuf); gzip is not
//! offered, which every scraper accepts.

use crate::http::request::Head;
use crate::http::response::Response;
use crate::http::Error;
use crate::render::render_text;
use crate::runtime::Core;

/// Content-Type of text format 0.0.4 answers.
pub const TEXT_0_0_4: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves a scrape.
pub async fn handle(core: &Core, _head: &Head) -> Response {
    let Some(stored) = core.families().await else {
        return Error::Unavailable.response();
    };
    let own = core.shared.metrics.families();
    let validate = core.shared.config.disable_consistency_check;
    let mut body = Vec::with_capacity(stored.len() * 128 + 4096);
    match render_text(&own, &stored, validate, &mut body) {
        Ok(()) => {
            Response { status: 200, headers: vec![("Content-Type", TEXT_0_0_4.to_owned())], body }
        }
        Err(e) => Error::Scrape(e).response(),
    }
}
