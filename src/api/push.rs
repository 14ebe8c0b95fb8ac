//! PUT/POST/DELETE on `/metrics/job/…` (spec 1.3, 1.4, 2.1).
//!
//! Parses the grouping key and the body on the receiving core, sanitises
//! there, and hands the owned result to the owning shard; a group this core
//! owns that is pushed again with the same families is updated in place.

use std::time::{Instant, SystemTime};

use crate::access::Grant;
use crate::config::parse_duration;
use crate::expfmt::format::{push_format, Format};
use crate::expfmt::{openmetrics, proto, text};
use crate::grouping::parse_push_path_with;
use crate::http::coding::decode_body;
use crate::http::request::Head;
use crate::http::response::Response;
use crate::http::Error;
use crate::runtime::Core;
use crate::store::limits;
use crate::store::sanitize::prepare_with;

/// Handles a push or delete; records the Go server's self-metrics.
pub async fn handle(
    core: &Core,
    head: &Head,
    job: &[u8],
    job_base64: bool,
    labels: &[u8],
    body: &[u8],
    grant: &Grant,
) -> Response {
    let started = Instant::now();
    let is_delete = head.method == "DELETE";
    let response = match serve(core, head, job, job_base64, labels, body, grant).await {
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
    grant: &Grant,
) -> Result<Response, Error> {
    let is_delete = head.method == "DELETE";
    // The Go server decodes the body before its handlers run, so a bad
    // encoding wins over a bad path (spec 1.9), even for DELETE.
    let body = decode_body(
        head.content_encoding.as_deref(),
        body,
        core.shared.config.max_decompressed_bytes,
    )
    .map_err(|e| {
        core.shared.metrics.refused(e.reason());
        Error::Coding(e)
    })?;
    let names = core.shared.config.name_validation;
    let key = parse_push_path_with(job, job_base64, labels, names).map_err(Error::Grouping)?;
    if !grant.may_write(&key) {
        core.shared.metrics.refused("forbidden");
        let pairs: Vec<String> = key.labels().iter().map(|(n, v)| format!("{n}={v:?}")).collect();
        let shown = format!("{{{}}}", pairs.join(","));
        return Err(Error::OutOfScope(shown));
    }
    if is_delete {
        // Go answers 202 once queued; ours has been applied when it answers.
        core.delete(key).await.ok_or(Error::Unavailable)?;
        return Ok(Response::empty(202));
    }
    let (mut families, as_text) = match push_format(head.content_type.as_deref()) {
        Format::Protobuf => (proto::parse_with(&body, names).map_err(Error::ProtoParse)?, false),
        Format::Text => (text::parse_with(&body, names).map_err(Error::Parse)?, true),
        // The Go server reads every non-protobuf body as text 0.0.4; a body
        // it accepts must be stored as it stores it. Only what it refuses is
        // read as OpenMetrics (e.g. with `# EOF`, exemplars, `_created`).
        Format::OpenMetrics => match text::parse_with(&body, names) {
            Ok(f) => (f, true),
            Err(_) => (openmetrics::parse(&body).map_err(Error::OpenMetricsParse)?, false),
        },
    };
    if let Err(e) = limits::check(&families, &core.shared.config.push_limits) {
        core.shared.metrics.refused(e.reason());
        return Err(Error::Limit(e));
    }
    let ttl = match head.ttl.as_deref() {
        Some(v) => parse_duration(v).map_err(|_| Error::BadTtl(v.to_owned()))?,
        None => core.shared.config.group_ttl.unwrap_or_default(),
    };
    let ttl = (!ttl.is_zero()).then_some(ttl);
    let (replace, now) = (head.method == "PUT", SystemTime::now());
    let checked = !core.shared.config.disable_consistency_check;
    // The common re-push of a group with new values: set in place, no
    // sanitised copy built (declined, it takes the general path below).
    if as_text && checked && core.refresh(&key, replace, &mut families, now, ttl) {
        return Ok(Response::empty(200));
    }
    let mut prepared = prepare_with(key, replace, families, now, names);
    prepared.ttl = ttl;
    if !checked {
        // Spec 2.6: answered as soon as it parsed.
        return if core.push_detached(prepared).await {
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
