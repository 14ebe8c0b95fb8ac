//! GET `/metrics` (spec 4): fan out to every shard, merge, render, compress.
//!
//! Format by `Accept` (spec 4.4): delimited protobuf when preferred, text
//! (1.0.0 when asked for, else 0.0.4) otherwise; names escaped as the
//! chosen entry's `escaping=` says. Gzip when `Accept-Encoding` allows it
//! with q > 0.

use std::collections::HashMap;
use std::sync::Arc;

use crate::expfmt::escape::Escaping;
use crate::expfmt::escape::NameValidation;
use crate::expfmt::format::{negotiate_scrape, Format};
use crate::http::coding::{accepts_gzip, gzip, gzip_slices, gzip_threads};
use crate::http::request::Head;
use crate::http::response::{Piece, Response};
use crate::http::Error;
use crate::render::{merge, write_openmetrics_as, write_protobuf_as, write_text_pieces, Merged};
use crate::runtime::Core;
use crate::store::group::StoredFamily;

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
    let openmetrics = core.shared.config.openmetrics_scrape;
    let utf8_names = core.shared.config.name_validation == NameValidation::Utf8;
    let scrape = negotiate_scrape(head.accept.as_deref(), openmetrics, utf8_names);
    let gzipped = accepts_gzip(head.accept_encoding.as_deref());
    let mut response = Response::empty(200).with_header("Content-Type", scrape.content_type());
    let render: fn(&[Merged<'_>], Escaping, &mut Vec<u8>) = match scrape.format {
        Format::Text => {
            text_scrape(&mut response, &merged, scrape.escaping, gzipped, &own, &stored);
            return response;
        }
        Format::OpenMetrics => write_openmetrics_as,
        Format::Protobuf => write_protobuf_as,
    };
    // Sized from the stored text so a large scrape never reallocates.
    let text_len: usize = stored.iter().map(|f| f.text().len()).sum();
    let mut body = Vec::with_capacity(text_len + stored.len() * 96 + 16 * 1024);
    render(&merged, scrape.escaping, &mut body);
    response.body = if gzipped { gzip(&body) } else { body };
    if gzipped {
        response.headers.push(("Content-Encoding", "gzip".to_owned()));
    }
    response
}

/// The common scrape, text: stored families' texts are written (or
/// compressed) straight from the store, so no buffer the size of the whole
/// scrape is built.
fn text_scrape(
    response: &mut Response,
    merged: &[Merged<'_>],
    escaping: Escaping,
    gzipped: bool,
    own: &[Arc<StoredFamily>],
    stored: &[Arc<StoredFamily>],
) {
    let arcs: HashMap<*const StoredFamily, &Arc<StoredFamily>> =
        own.iter().chain(stored).map(|f| (Arc::as_ptr(f), f)).collect();
    let shared = |f: &StoredFamily| arcs.get(&(f as *const StoredFamily)).map(|a| Arc::clone(a));
    write_text_pieces(merged, escaping, shared, &mut response.pieces);
    if gzipped {
        let parts: Vec<&[u8]> = response.pieces.iter().map(Piece::as_bytes).collect();
        response.body = gzip_slices(&parts, gzip_threads());
        response.pieces.clear();
        response.headers.push(("Content-Encoding", "gzip".to_owned()));
    }
}
