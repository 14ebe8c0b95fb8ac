//! The one place that maps errors to HTTP answers.
//!
//! Every error a request can end in is a variant here; the exhaustive match in
//! [`Error::response`] decides its status and Go-compatible body, so a new
//! variant does not compile until someone decides its status.

use crate::expfmt::{openmetrics, proto, text};
use crate::grouping;
use crate::http::coding;
use crate::http::request;
use crate::http::response::Response;
use crate::render;
use crate::store::Rejection;

/// Why a request failed.
#[derive(Debug)]
pub enum Error {
    /// The request could not be framed.
    Framing(request::Error),
    /// The request target has a malformed percent escape.
    BadTarget,
    /// The body's Content-Encoding could not be decoded (spec 1.9).
    Coding(coding::Error),
    /// The push path does not name a group (spec 1.3).
    Grouping(grouping::Error),
    /// The push body does not parse (spec 3.2).
    Parse(text::Error),
    /// The protobuf push body does not parse (spec 3.3).
    ProtoParse(proto::Error),
    /// The OpenMetrics push body does not parse.
    OpenMetricsParse(openmetrics::Error),
    /// The `X-Pushgate-TTL` header is not a duration.
    BadTtl(String),
    /// The push breaks a `--runtime.max-*` limit.
    Limit(crate::store::limits::Error),
    /// The store refused the push (spec 2.5).
    Rejected(Rejection),
    /// The scrape found an inconsistent store (unchecked mode only, spec 2.6).
    Scrape(render::Error),
    /// The user's `pushgate_authorization` scope does not cover this group.
    OutOfScope(String),
    /// A shard stopped answering (only during shutdown).
    Unavailable,
}

impl Error {
    /// Whether the client caused this error (4xx) rather than the server.
    pub fn is_client(&self) -> bool {
        self.response().status < 500
    }

    /// The HTTP answer for this error.
    pub fn response(&self) -> Response {
        match self {
            Error::Framing(e) => {
                let status = match e {
                    request::Error::BadHead
                    | request::Error::BadContentLength
                    | request::Error::BadTransferEncoding
                    | request::Error::BadChunk => 400,
                    request::Error::HeadTooLarge => 431,
                    request::Error::BodyTooLarge => 413,
                };
                Response::error(
                    status,
                    &format!("{status} {}: {e}", crate::http::response::reason(status)),
                )
            }
            // Go's net/http answers a malformed target with this plain
            // body, without the newline its handlers' errors end in.
            Error::BadTarget => {
                let mut r = Response::error(400, "400 Bad Request");
                r.body.pop();
                r
            }
            Error::Coding(e) => Response::error(
                match e {
                    coding::Error::Unsupported(_) => 415,
                    coding::Error::TooLarge(_) => 413,
                    coding::Error::Corrupt(_) => 400,
                },
                &e.to_string(),
            ),
            Error::Grouping(e) => Response::error(400, &e.to_string()),
            Error::Parse(e) => Response::error(400, &e.to_string()),
            Error::ProtoParse(e) => Response::error(400, &e.to_string()),
            Error::OpenMetricsParse(e) => Response::error(400, &e.to_string()),
            Error::Limit(e @ crate::store::limits::Error::TooManySeries { .. }) => {
                Response::error(413, &e.to_string())
            }
            Error::Limit(e) => Response::error(400, &e.to_string()),
            Error::BadTtl(v) => Response::error(
                400,
                &format!("invalid X-Pushgate-TTL {v:?}: use a duration such as 90s, 15m or 0 (never expire)"),
            ),
            Error::Rejected(r @ Rejection::Inconsistent(_)) => Response::error(
                400,
                &format!("pushed metrics are invalid or inconsistent with existing metrics: {r}"),
            ),
            // Not the pusher's data at fault: "too many" until groups are deleted.
            Error::Rejected(r @ Rejection::StoreFull(_)) => Response::error(429, &r.to_string()),
            Error::Scrape(e) => Response::error(
                500,
                &format!("An error has occurred while serving metrics:\n\n{e}"),
            ),
            Error::OutOfScope(key) => Response::error(
                403,
                &format!("Forbidden: this user may not push to or delete the group {key} (see its jobs/grouping_key in pushgate_authorization)"),
            ),
            Error::Unavailable => Response::error(503, "server is shutting down"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_target_gets_go_servers_body() {
        let r = Error::BadTarget.response();
        assert_eq!((r.status, r.body.as_slice()), (400, &b"400 Bad Request"[..]));
    }
}
