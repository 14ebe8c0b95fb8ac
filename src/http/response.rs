//! Responses: status line and headers serialised into a reused buffer.
//!
//! Owns the wire form of answers and the Go server's stock bodies (plain-text
//! errors with `X-Content-Type-Options: nosniff`, spec 1.1).

use std::sync::Arc;
use std::time::SystemTime;

use crate::timefmt::http_date;

/// Part of a body after [`Response::body`]: owned bytes, or bytes shared
/// with the store (a family's text rendered at push time) that are written
/// out without first being copied into one body buffer (a 1M-series scrape
/// would otherwise need a 76 MB buffer per scrape).
#[derive(Clone)]
pub enum Piece {
    /// Owned bytes.
    Bytes(Vec<u8>),
    /// Shared bytes.
    Shared(Arc<dyn AsRef<[u8]> + Send + Sync>),
}

impl Piece {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Piece::Bytes(b) => b,
            Piece::Shared(s) => (**s).as_ref(),
        }
    }
}

impl std::fmt::Debug for Piece {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Piece({} bytes)", self.as_bytes().len())
    }
}

impl PartialEq for Piece {
    fn eq(&self, other: &Piece) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Piece {}

/// `Content-Type` of Go's `http.Error` answers.
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// One response, built by a handler and written by the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers besides Date, Content-Length and Connection.
    pub headers: Vec<(&'static str, String)>,
    /// Body (its first part).
    pub body: Vec<u8>,
    /// The rest of the body, in order (usually empty; see [`Piece`]).
    pub pieces: Vec<Piece>,
}

impl Response {
    /// A response with no headers and an empty body.
    pub fn empty(status: u16) -> Response {
        Response { status, headers: Vec::new(), body: Vec::new(), pieces: Vec::new() }
    }

    /// Go's `http.Redirect` to the decoded path `path` plus `query` (the
    /// request's raw query, without `?`): `Location` is the path escaped as
    /// Go's `URL.String` escapes it, and a GET gets the small HTML body Go
    /// writes (a HEAD only its `Content-Type`).
    pub fn redirect(status: u16, method: &str, path: &[u8], query: Option<&str>) -> Response {
        let mut location = escape_path(path);
        if let Some(q) = query {
            location.push('?');
            location.push_str(q);
        }
        let mut r = Response::empty(status).with_header("Location", location.clone());
        if method == "GET" || method == "HEAD" {
            r = r.with_header("Content-Type", "text/html; charset=utf-8".to_owned());
        }
        if method == "GET" {
            let mut href = String::with_capacity(location.len());
            for c in location.chars() {
                match c {
                    '&' => href.push_str("&amp;"),
                    '\'' => href.push_str("&#39;"),
                    '<' => href.push_str("&lt;"),
                    '>' => href.push_str("&gt;"),
                    '"' => href.push_str("&#34;"),
                    c => href.push(c),
                }
            }
            r.body = format!("<a href=\"{href}\">{}</a>.\n\n", reason(status)).into_bytes();
        }
        r
    }

    /// Go's `http.Error(w, msg, status)`: plain text, `nosniff`, message + `\n`.
    pub fn error(status: u16, msg: &str) -> Response {
        let mut body = Vec::with_capacity(msg.len() + 1);
        body.extend_from_slice(msg.as_bytes());
        body.push(b'\n');
        Response {
            status,
            headers: vec![
                ("Content-Type", TEXT_PLAIN.to_owned()),
                ("X-Content-Type-Options", "nosniff".to_owned()),
            ],
            body,
            pieces: Vec::new(),
        }
    }

    /// A plain-text answer without the trailing newline `http.Error` adds.
    pub fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", TEXT_PLAIN.to_owned())],
            body: body.as_bytes().to_vec(),
            pieces: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// Appends the serialised response to `out`.
    pub fn render(&self, keep_alive: bool, date: SystemTime, out: &mut Vec<u8>) {
        self.render_head(keep_alive, date, out);
        out.extend_from_slice(&self.body);
        for p in &self.pieces {
            out.extend_from_slice(p.as_bytes());
        }
    }

    /// Length of the whole body.
    pub fn body_len(&self) -> usize {
        self.body.len() + self.pieces.iter().map(|p| p.as_bytes().len()).sum::<usize>()
    }

    /// The whole body as one buffer (moves `body` and copies the pieces).
    pub fn into_body(self) -> Vec<u8> {
        let mut body = self.body;
        for p in &self.pieces {
            body.extend_from_slice(p.as_bytes());
        }
        body
    }

    /// Appends the status line and headers (ending with the blank line) to `out`.
    pub fn render_head(&self, keep_alive: bool, date: SystemTime, out: &mut Vec<u8>) {
        use std::io::Write as _;
        out.extend_from_slice(b"HTTP/1.1 ");
        let _ = write!(out, "{}", self.status);
        out.push(b' ');
        out.extend_from_slice(reason(self.status).as_bytes());
        out.extend_from_slice(b"\r\n");
        for (n, v) in &self.headers {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"Date: ");
        push_cached_date(date, out);
        let _ = write!(out, "\r\nContent-Length: {}", self.body_len());
        if !keep_alive {
            out.extend_from_slice(b"\r\nConnection: close");
        }
        out.extend_from_slice(b"\r\n\r\n");
    }
}

thread_local! {
    /// The Date header changes once a second; each core formats it once.
    static DATE: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
}

fn push_cached_date(date: SystemTime, out: &mut Vec<u8>) {
    let secs = date.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    DATE.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != secs {
            *cached = (secs, http_date(date));
        }
        out.extend_from_slice(cached.1.as_bytes());
    });
}

/// Reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        202 => "Accepted",
        301 => "Moved Permanently",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// A decoded path as Go's `URL.EscapedPath` writes it: letters, digits and
/// `-_.~$&+,/:;=@` as they are, every other byte as `%XX`.
fn escape_path(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path {
        if b.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_are_written_as_go_writes_them() {
        let r = Response::redirect(301, "GET", b"/metrics", Some("a=1&b"));
        assert_eq!(r.headers[0], ("Location", "/metrics?a=1&b".to_owned()));
        assert_eq!(r.headers[1], ("Content-Type", "text/html; charset=utf-8".to_owned()));
        assert_eq!(r.body, b"<a href=\"/metrics?a=1&amp;b\">Moved Permanently</a>.\n\n");
        let r = Response::redirect(307, "PUT", "/metrics/job/a b/\u{e9}".as_bytes(), None);
        assert_eq!(r.headers, [("Location", "/metrics/job/a%20b/%C3%A9".to_owned())]);
        assert!(r.body.is_empty());
        let r = Response::redirect(301, "HEAD", b"/x", Some(""));
        assert_eq!(r.headers[0], ("Location", "/x?".to_owned()));
        assert_eq!(r.headers.len(), 2);
        assert!(r.body.is_empty());
    }

    #[test]
    fn renders_go_style_error() {
        let mut out = Vec::new();
        Response::error(404, "404 page not found").render(true, SystemTime::UNIX_EPOCH, &mut out);
        let s = String::from_utf8(out).unwrap();
        assert!(
            s.starts_with("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n")
        );
        assert!(s.contains("X-Content-Type-Options: nosniff\r\n"));
        assert!(s.ends_with("Content-Length: 19\r\n\r\n404 page not found\n"));
    }
}
