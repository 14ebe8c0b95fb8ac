//! Request framing: the head (httparse) and the body (Content-Length or chunked).
//!
//! Owns HTTP/1.1 message framing only. "Need more bytes" is `Status::Partial`,
//! never an error (httparse's convention). Everything returned is owned or
//! offsets into the caller's buffer, so the buffer can go back to the kernel.

/// Maximum number of request headers; more is answered 431.
pub const MAX_HEADERS: usize = 100;
/// Maximum size of a request head; more is answered 431.
pub const MAX_HEAD: usize = 64 * 1024;
/// Maximum size of a request body; more is answered 413.
pub const MAX_BODY: usize = 256 * 1024 * 1024;

/// Size limits for framing (`--runtime.max-header-bytes`, `--runtime.max-body-bytes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request head; more is answered 431.
    pub max_head: usize,
    /// Largest request body (before decompression); more is answered 413.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_head: MAX_HEAD, max_body: MAX_BODY }
    }
}

/// Result of a framing step that may need more input.
#[derive(Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// Done; carries the value.
    Complete(T),
    /// More bytes are needed.
    Partial,
}

/// Why a request cannot be framed. Each maps to one status in `http::error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The head is not valid HTTP/1.x.
    BadHead,
    /// The head or the number of headers is over the limit.
    HeadTooLarge,
    /// Content-Length is not a number, or appears twice with different values.
    BadContentLength,
    /// Both Content-Length and Transfer-Encoding, or an unknown transfer coding.
    BadTransferEncoding,
    /// The chunked body framing is broken.
    BadChunk,
    /// The body is over the body limit.
    BodyTooLarge,
}

impl Error {
    /// Short label for the refused-requests self-metric.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::BadHead => "bad_head",
            Error::HeadTooLarge => "head_too_large",
            Error::BadContentLength => "bad_content_length",
            Error::BadTransferEncoding => "bad_transfer_encoding",
            Error::BadChunk => "bad_chunk",
            Error::BodyTooLarge => "body_too_large",
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Error::BadHead => "malformed HTTP request",
            Error::HeadTooLarge => "request header fields too large",
            Error::BadContentLength => "invalid Content-Length",
            Error::BadTransferEncoding => "unsupported or conflicting Transfer-Encoding",
            Error::BadChunk => "malformed chunked body",
            Error::BodyTooLarge => "request body too large",
        })
    }
}

/// How the body of a request is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    /// Exactly this many bytes follow the head.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// An owned request head with the headers the server acts on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Head {
    /// Method, as sent.
    pub method: String,
    /// Request target, as sent (percent-encoded).
    pub target: String,
    /// Minor HTTP version (0 or 1).
    pub minor_version: u8,
    /// Content-Type.
    pub content_type: Option<String>,
    /// Content-Encoding.
    pub content_encoding: Option<String>,
    /// Accept.
    pub accept: Option<String>,
    /// Accept-Encoding.
    pub accept_encoding: Option<String>,
    /// `X-Pushgate-TTL`: the pusher's TTL for its group (Go duration).
    pub ttl: Option<String>,
    /// Authorization (basic auth with `--web.config.file`).
    pub authorization: Option<String>,
    /// Whether the client sent `Expect: 100-continue`.
    pub expect_continue: bool,
    /// Whether the connection should stay open after this request.
    pub keep_alive: bool,
    /// The request's size as client_golang approximates it for
    /// `pushgateway_http_push_size_bytes` (spec 1.10): target, method and
    /// protocol, each header name once with all its values (Host counted by
    /// its value only, Transfer-Encoding not at all), and the
    /// Content-Length if one was given.
    pub approx_size: usize,
}

/// Parses a request head from the start of `buf`.
///
/// Returns the head, its length in bytes and the body framing.
///
/// # Errors
/// [`Error`] for anything that is not a valid, supported request head.
pub fn parse_head(buf: &[u8], limits: Limits) -> Result<Status<(Head, usize, BodyFraming)>, Error> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return if buf.len() > limits.max_head {
                Err(Error::HeadTooLarge)
            } else {
                Ok(Status::Partial)
            };
        }
        Err(httparse::Error::TooManyHeaders) => return Err(Error::HeadTooLarge),
        Err(_) => return Err(Error::BadHead),
    };
    if len > limits.max_head {
        return Err(Error::HeadTooLarge);
    }
    let method = req.method.ok_or(Error::BadHead)?.to_owned();
    let target = req.path.ok_or(Error::BadHead)?.to_owned();
    let minor_version = req.version.ok_or(Error::BadHead)?;
    let mut head = Head {
        approx_size: target.len() + method.len() + "HTTP/1.1".len(),
        method,
        target,
        minor_version,
        keep_alive: minor_version == 1,
        ..Head::default()
    };
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    for (i, h) in req.headers.iter().enumerate() {
        let value = std::str::from_utf8(h.value).map_err(|_| Error::BadHead)?.trim();
        head.approx_size += go_header_size(&req.headers[..i], h.name, value);
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            let n: usize = value.parse().map_err(|_| Error::BadContentLength)?;
            if content_length.is_some_and(|c| c != n) {
                return Err(Error::BadContentLength);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // RFC 9112 6.1: chunked must be the final coding; we support no other.
            if value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if !value.eq_ignore_ascii_case("identity") {
                return Err(Error::BadTransferEncoding);
            }
        } else if name.eq_ignore_ascii_case("content-type") {
            head.content_type = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("content-encoding") {
            head.content_encoding = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("accept") {
            head.accept = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("accept-encoding") {
            head.accept_encoding = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("x-pushgate-ttl") {
            head.ttl = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("authorization") {
            head.authorization = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("expect") {
            head.expect_continue = value.eq_ignore_ascii_case("100-continue");
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    head.keep_alive = false;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    head.keep_alive = true;
                }
            }
        }
    }
    // RFC 9112 6.3: a message with both is a smuggling vector; refuse it.
    let framing = match (chunked, content_length) {
        (true, Some(_)) => return Err(Error::BadTransferEncoding),
        (true, None) => BodyFraming::Chunked,
        (false, Some(n)) if n > limits.max_body => return Err(Error::BodyTooLarge),
        (false, n) => BodyFraming::Length(n.unwrap_or(0)),
    };
    head.approx_size += content_length.unwrap_or(0);
    Ok(Status::Complete((head, len, framing)))
}

/// What a header adds to the approximate request size: Go's server keeps
/// Host apart from the other headers (its value is counted, as `r.Host`)
/// and drops Transfer-Encoding; the others are counted by name once per
/// name (`earlier` are the headers before this one), and by every value.
fn go_header_size(earlier: &[httparse::Header<'_>], name: &str, value: &str) -> usize {
    if name.eq_ignore_ascii_case("host") {
        value.len()
    } else if name.eq_ignore_ascii_case("transfer-encoding") {
        0
    } else if earlier.iter().any(|h| h.name.eq_ignore_ascii_case(name)) {
        value.len()
    } else {
        name.len() + value.len()
    }
}

/// Decodes a complete chunked body from the start of `buf`.
///
/// Returns the body and the number of bytes consumed (trailers included).
///
/// # Errors
/// [`Error::BadChunk`] for broken framing, [`Error::BodyTooLarge`] past the limit.
pub fn decode_chunked(buf: &[u8], limits: Limits) -> Result<Status<(Vec<u8>, usize)>, Error> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        match httparse::parse_chunk_size(&buf[pos..]) {
            Ok(httparse::Status::Complete((used, size))) => {
                pos += used;
                let size = usize::try_from(size).map_err(|_| Error::BodyTooLarge)?;
                if body.len().saturating_add(size) > limits.max_body {
                    return Err(Error::BodyTooLarge);
                }
                if size == 0 {
                    // Trailer section: header lines until an empty line.
                    loop {
                        let Some(eol) = memchr::memchr(b'\n', &buf[pos..]) else {
                            return Ok(Status::Partial);
                        };
                        let line = &buf[pos..pos + eol];
                        pos += eol + 1;
                        if line.is_empty() || line == b"\r" {
                            return Ok(Status::Complete((body, pos)));
                        }
                    }
                }
                if buf.len() < pos + size + 2 {
                    return Ok(Status::Partial);
                }
                body.extend_from_slice(&buf[pos..pos + size]);
                pos += size;
                if &buf[pos..pos + 2] != b"\r\n" {
                    return Err(Error::BadChunk);
                }
                pos += 2;
            }
            Ok(httparse::Status::Partial) => return Ok(Status::Partial),
            Err(_) => return Err(Error::BadChunk),
        }
    }
}

/// A whole request found at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Framed<'b> {
    /// The head.
    pub head: Head,
    /// The body, de-chunked (borrowed unless it was chunked).
    pub body: std::borrow::Cow<'b, [u8]>,
    /// Bytes of the buffer this request used.
    pub consumed: usize,
}

/// How far the first request in a buffer has arrived.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress<'b> {
    /// The whole request is there.
    Complete(Framed<'b>),
    /// The head is complete, the body is not (`Expect: 100-continue` applies).
    HeadOnly(Head),
    /// Not even the head is complete.
    Partial,
}

/// Frames the first request in `buf`.
///
/// # Errors
/// [`Error`] for a request that can never become valid.
pub fn frame(buf: &[u8], limits: Limits) -> Result<Progress<'_>, Error> {
    let (head, head_len, framing) = match parse_head(buf, limits)? {
        Status::Complete(h) => h,
        Status::Partial => return Ok(Progress::Partial),
    };
    let rest = &buf[head_len..];
    match framing {
        BodyFraming::Length(n) if rest.len() >= n => Ok(Progress::Complete(Framed {
            head,
            body: std::borrow::Cow::Borrowed(&rest[..n]),
            consumed: head_len + n,
        })),
        BodyFraming::Length(_) => Ok(Progress::HeadOnly(head)),
        BodyFraming::Chunked => match decode_chunked(rest, limits)? {
            Status::Complete((body, used)) => Ok(Progress::Complete(Framed {
                head,
                body: std::borrow::Cow::Owned(body),
                consumed: head_len + used,
            })),
            Status::Partial => Ok(Progress::HeadOnly(head)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_head_and_length() {
        let req = b"PUT /metrics/job/a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\na 1\n";
        let Status::Complete((head, len, framing)) = parse_head(req, Limits::default()).unwrap()
        else {
            panic!()
        };
        assert_eq!(head.method, "PUT");
        assert_eq!(head.target, "/metrics/job/a");
        assert!(head.keep_alive);
        assert_eq!(framing, BodyFraming::Length(4));
        assert_eq!(&req[len..], b"a 1\n");
    }

    #[test]
    fn approximate_size_is_counted_as_go_does() {
        let size = |req: &[u8]| match parse_head(req, Limits::default()) {
            Ok(Status::Complete((head, _, _))) => head.approx_size,
            other => panic!("{other:?}"),
        };
        // What curl sends for a 17-byte push, counted as the Go server does:
        // target 21, method 4, protocol 8, the Host value 14, User-Agent 21,
        // Accept 9, Content-Length 16, Content-Type 45 and the body's 17.
        let curl = b"POST /metrics/job/some_job HTTP/1.1\r\nHost: 127.0.0.1:9091\r\n\
            User-Agent: curl/7.88.1\r\nAccept: */*\r\nContent-Length: 17\r\n\
            Content-Type: application/x-www-form-urlencoded\r\n\r\n";
        assert_eq!(size(curl), 155);
        // A repeated name counts once; a chunked body's size is not known.
        let repeated =
            b"PUT /m HTTP/1.1\r\nX-A: 1\r\nx-a: 22\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(size(repeated), "/m".len() + 3 + 8 + "X-A".len() + 3);
    }

    #[test]
    fn partial_head_is_not_an_error() {
        assert!(matches!(
            parse_head(b"PUT /metrics HTTP/1.1\r\nHo", Limits::default()).unwrap(),
            Status::Partial
        ));
    }

    #[test]
    fn conflicting_framing_is_refused() {
        let req = b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(parse_head(req, Limits::default()).unwrap_err(), Error::BadTransferEncoding);
        let req = b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n";
        assert_eq!(parse_head(req, Limits::default()).unwrap_err(), Error::BadContentLength);
        let req = b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n";
        assert_eq!(parse_head(req, Limits::default()).unwrap_err(), Error::BadContentLength);
    }

    #[test]
    fn chunked_bodies_decode_in_any_split() {
        let wire = b"4\r\na 1\n\r\n6\r\nb 22\n\n\r\n0\r\n\r\nNEXT";
        let Status::Complete((body, used)) = decode_chunked(wire, Limits::default()).unwrap()
        else {
            panic!()
        };
        assert_eq!(body, b"a 1\nb 22\n\n");
        assert_eq!(&wire[used..], b"NEXT");
        for cut in 0..used {
            assert_eq!(
                decode_chunked(&wire[..cut], Limits::default()).unwrap(),
                Status::Partial,
                "cut {cut}"
            );
        }
        assert_eq!(decode_chunked(b"4\r\nabcdXX", Limits::default()).unwrap_err(), Error::BadChunk);
        assert_eq!(decode_chunked(b"zz\r\n", Limits::default()).unwrap_err(), Error::BadChunk);
    }
}
