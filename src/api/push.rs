//! PUT/POST/DELETE on `/metrics/job/…` (spec 1.3, 1.4, 2.1).
//!
//! Parses the grouping key and the body on the receiving core, sanitises
//! there, and hands the owned result to the owning shard.

use std::time::{Instant, SystemTime};

use crate::expfmt::text;
use crate::grouping::parse_push_path;
use crate::http::request::Head;
use crate::http::response::Response;
use crate::http::Error;
use crate::runtime::Core;
use crate::store::sanitize::prepare;

/// Whether a Content-Type names the delimited protobuf format (spec 3.1).
fn is_protobuf(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let mut parts = ct.split(';').map(str::trim);
    let media = parts.next().unwrap_or("");
    if !media.eq_ignore_ascii_case("application/vnd.google.protobuf") {
        return false;
    }
    let params: Vec<(String, String)> = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_owned()))
        .collect();
    params.iter().any(|(k, v)| k == "proto" && v == "io.prometheus.client.MetricFamily")
        && params.iter().any(|(k, v)| k == "encoding" && v == "delimited")
}

/// Handles a push or delete; records the Go server's self-metrics.
pub async fn handle(
    core: &Core,
    head: &Head,
    job: &[u8],
    job_base64: bool,
    labels: &[u8],
    body: &[u8],
) -> Response {
    let started = Instant::now();
    let is_delete = head.method == "DELETE";
    let response = match serve(core, head, job, job_base64, labels, body, is_delete).await {
        Ok(r) => r,
        Err(e) => {
            if e.is_client() {
                crate::log::debug("push refused", &[("err", &e.response().status)]);
            }
            e.response()
        }
    };
    let m = &core.shared.metrics;
    m.count_request(response.status, if is_delete { "delete" } else { "push" }, &head.method);
    if !is_delete {
        let size = head.approx_head_size + body.len();
        m.observe_push(&head.method, started.elapsed().as_secs_f64(), size);
    }
    response
}

async fn serve(
    core: &Core,
    head: &Head,
    job: &[u8],
    job_base64: bool,
    labels: &[u8],
    body: &[u8],
    is_delete: bool,
) -> Result<Response, Error> {
    let key = parse_push_path(job, job_base64, labels).map_err(Error::Grouping)?;
    if is_delete {
        // Go answers 202 once queued; ours has been applied when it answers.
        core.delete(key).await.ok_or(Error::Unavailable)?;
        return Ok(Response::empty(202));
    }
    if let Some(enc) = head.content_encoding.as_deref() {
        if enc.eq_ignore_ascii_case("gzip") || enc.eq_ignore_ascii_case("snappy") {
            return Ok(Response::error(
                415,
                &format!("Content-Encoding {enc} is not supported yet; send the body uncompressed"),
            ));
        }
    }
    if is_protobuf(head.content_type.as_deref()) {
        return Ok(Response::error(
            415,
            "protobuf push bodies are not supported yet; send the text format (text/plain; version=0.0.4)",
        ));
    }
    let families = text::parse(body).map_err(Error::Parse)?;
    let prepared = prepare(key, head.method == "PUT", families, SystemTime::now());
    if core.shared.config.disable_consistency_check {
        // Spec 2.6: answered as soon as it parsed.
        return if core.push_detached(prepared) {
            Ok(Response::empty(202))
        } else {
            Err(Error::Unavailable)
        };
    }
    match core.push(prepared).await {
        Some(Ok(())) => Ok(Response::empty(200)),
        Some(Err(rejection)) => Err(Error::Rejected(rejection)),
        None => Err(Error::Unavailable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protobuf_content_type_needs_both_params() {
        assert!(is_protobuf(Some(
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
        )));
        assert!(is_protobuf(Some(
            "Application/Vnd.Google.Protobuf;encoding=delimited;proto=io.prometheus.client.MetricFamily"
        )));
        assert!(!is_protobuf(Some(
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily"
        )));
        assert!(!is_protobuf(Some("text/plain; version=0.0.4")));
        assert!(!is_protobuf(None));
    }
}
