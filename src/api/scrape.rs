//! GET `/metrics` (spec 4): fan out to every shard, merge, render, compress.
//!
//! Format by `Accept` (spec 4.4): delimited protobuf when preferred, text
//! (1.0.0 when asked for, else 0.0.4) otherwise; names escaped as the
//! chosen entry's `escaping=` says. Gzip when `Accept-Encoding` allows it
//! with q > 0.

use crate::expfmt::escape::NameValidation;
use crate::expfmt::format::{negotiate_scrape, Format};
use crate::http::coding::{accepts_gzip, gzip};
use crate::http::request::Head;
use crate::http::response::Response;
use crate::http::Error;
use crate::render::{merge, write_openmetrics_as, write_protobuf_as, write_text_as};
use crate::runtime::Core;

/// Serves a scrape.
pub async fn handle(core: &Core, head: &Head) -> Response {
    let Some(stored) = core.families().await else {
        return Error::Unavailable.response();
    };
    let own = core.shared.metrics.families();
    let validate = core.shared.config.disable_consistency_check;
    let merged = match merge(&own, &stored, validate) {
        Ok(m) => m,
        Err(e) => return Error::Scrape(e).response(),
    };
    // Sized from the rendered bytes so a large scrape never reallocates.
    let text_len: usize = stored.iter().map(|f| f.text().len()).sum();
    let mut body = Vec::with_capacity(text_len + stored.len() * 96 + 16 * 1024);
    let openmetrics = core.shared.config.openmetrics_scrape;
    let utf8_names = core.shared.config.name_validation == NameValidation::Utf8;
    let scrape = negotiate_scrape(head.accept.as_deref(), openmetrics, utf8_names);
    match scrape.format {
        Format::Text => write_text_as(&merged, scrape.escaping, &mut body),
        Format::OpenMetrics => write_openmetrics_as(&merged, scrape.escaping, &mut body),
        Format::Protobuf => write_protobuf_as(&merged, scrape.escaping, &mut body),
    }
    let mut response =
        Response { status: 200, headers: vec![("Content-Type", scrape.content_type())], body };
    if accepts_gzip(head.accept_encoding.as_deref()) {
        response.body = gzip(&response.body);
        response.headers.push(("Content-Encoding", "gzip".to_owned()));
    }
    response
}
