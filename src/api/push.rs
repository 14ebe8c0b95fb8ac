//! PUT/POST/DELETE on `/metrics/job/…` (spec 1.3, 1.4, 2.1).
//!
//! The receiving core decodes the body and parses the grouping key. Without
//! a WAL, the core that owns the group does the rest: another core hands it
//! the body, and it parses, checks and stores (a group pushed again with the
//! same families is updated in place). In WAL mode, and unchecked for
//! another core's group (answered once parsed), the receiving core parses
//! and sanitises, and hands the owned result to the owner.

use std::time::{Duration, Instant, SystemTime};

use crate::access::Grant;
use crate::config::parse_duration;
use crate::expfmt::format::{push_format, Format};
use crate::expfmt::{openmetrics, proto, text, Family};
use crate::grouping::{parse_push_path_with, GroupingKey};
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
        m.observe_push(&head.method, started.elapsed().as_secs_f64(), head.approx_size);
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
    let push = BodyPush {
        key,
        replace: head.method == "PUT",
        format: push_format(head.content_type.as_deref()),
        ttl: head.ttl.clone(),
    };
    let checked = !core.shared.config.disable_consistency_check;
    let owner = core.owner(&push.key);
    if core.wal.is_none() && (owner == core.id || checked) {
        // The core that owns the group does the rest (parse, check, store,
        // in place where it can); another core hands it the body.
        let verdict = if owner == core.id {
            apply(core, push, &body)
        } else {
            let body = body.into_owned();
            // The body comes back with the verdict, to be freed where it
            // was allocated.
            let job = move |owner: &Core| (apply(owner, push, &body), body);
            core.on_owner(owner, job).await.ok_or(Error::Unavailable)?.0
        };
        return match verdict {
            // Spec 2.6: unchecked, a push that parsed is accepted (202),
            // whatever the store then makes of it (timestamps, say).
            Ok(_) | Err(Error::Rejected(_)) if !checked => Ok(Response::empty(202)),
            verdict => verdict,
        };
    }
    // WAL mode (the owner logs the group and waits for the disk), or
    // unchecked for another core's group (answered once parsed, without
    // waiting for that core): parsed and sanitised here, the owned result
    // goes to the owner.
    let (families, _) = parse(core, push.format, &body)?;
    let ttl = ttl(core, push.ttl.as_deref())?;
    let mut prepared = prepare_with(push.key, push.replace, families, SystemTime::now(), names);
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

/// A push as the core that owns its group needs it, besides the body.
struct BodyPush {
    key: GroupingKey,
    /// PUT (replace the group) rather than POST.
    replace: bool,
    /// The format the Content-Type asks for.
    format: Format,
    /// The TTL header as sent (read after the body, so a bad body's error
    /// wins over a bad TTL).
    ttl: Option<String>,
}

/// Parses, checks (unless unchecked) and stores a push on the core that owns
/// its group, without a WAL (nothing to wait for): in place when the group
/// holds the same families (`store::refresh`), else sanitised and pushed.
fn apply(core: &Core, push: BodyPush, body: &[u8]) -> Result<Response, Error> {
    let (mut families, in_place) = parse(core, push.format, body)?;
    let ttl = ttl(core, push.ttl.as_deref())?;
    let now = SystemTime::now();
    if in_place && core.refresh(&push.key, push.replace, &mut families, now, ttl) {
        return Ok(Response::empty(200));
    }
    let names = core.shared.config.name_validation;
    let mut prepared = prepare_with(push.key, push.replace, families, now, names);
    prepared.ttl = ttl;
    core.push_owned(prepared).map_err(Error::Rejected)?;
    Ok(Response::empty(200))
}

/// Parses a push body in the requested format and applies the push limits;
/// also says whether it was read as text or protobuf (the in-place path
/// does not take what only the OpenMetrics reader accepted).
fn parse<'b>(
    core: &Core,
    format: Format,
    body: &'b [u8],
) -> Result<(Vec<Family<'b>>, bool), Error> {
    let names = core.shared.config.name_validation;
    let (families, in_place) = match format {
        Format::Protobuf => (proto::parse_with(body, names).map_err(Error::ProtoParse)?, true),
        Format::Text => (text::parse_with(body, names).map_err(Error::Parse)?, true),
        // The Go server reads every non-protobuf body as text 0.0.4; a body
        // it accepts must be stored as it stores it. Only what it refuses is
        // read as OpenMetrics (e.g. with `# EOF`, exemplars, `_created`).
        Format::OpenMetrics => match text::parse_with(body, names) {
            Ok(f) => (f, true),
            Err(_) => (openmetrics::parse(body).map_err(Error::OpenMetricsParse)?, false),
        },
    };
    if let Err(e) = limits::check(&families, &core.shared.config.push_limits) {
        core.shared.metrics.refused(e.reason());
        return Err(Error::Limit(e));
    }
    Ok((families, in_place))
}

/// The group's TTL: the header if sent, else `--push.group-ttl`; `None` for none.
fn ttl(core: &Core, header: Option<&str>) -> Result<Option<Duration>, Error> {
    let ttl = match header {
        Some(v) => parse_duration(v).map_err(|_| Error::BadTtl(v.to_owned()))?,
        None => core.shared.config.group_ttl.unwrap_or_default(),
    };
    Ok((!ttl.is_zero()).then_some(ttl))
}
