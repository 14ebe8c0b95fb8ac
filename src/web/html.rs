//! HTML building blocks: escaping, URL-encoding for links, the page frame
//! (head, navigation bar) and value formatting shared by both tabs.
//!
//! Owns the rule that every piece of text from a pusher or from the command
//! line reaches the page through [`push_escaped`]; nothing here knows about
//! groups or flags.
//!
//! INVARIANT: the page frame contains no inline script or style (the page is
//! served with a Content-Security-Policy allowing only `'self'` assets).

use std::io::Write as _;

use crate::gofmt::go_float_string;
use crate::http::router::UiPage;
use crate::web::assets;

/// Escapes text for HTML element content and (double- or single-quoted)
/// attribute values.
pub fn escape(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    push_escaped(&mut out, s);
    String::from_utf8(out).expect("escaping keeps UTF-8 valid: only ASCII bytes are replaced")
}

/// Appends `s` escaped for HTML element content and attribute values.
pub fn push_escaped(out: &mut Vec<u8>, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&#39;",
            _ => continue,
        };
        out.extend_from_slice(&s.as_bytes()[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&s.as_bytes()[last..]);
}

/// Appends `s` percent-encoded for a query component (RFC 3986 2.3: only
/// unreserved characters stay as they are), so the result is also HTML-safe.
pub fn push_query_component(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Appends a sample value: plain decimal (Go's `'f', -1`, as the Pushgateway's
/// UI) for ordinary magnitudes, Go's `%v` spelling for huge, tiny and special
/// values (`1e-09`, `+Inf`, `NaN`) that would otherwise be a wall of zeros.
pub fn push_value(out: &mut Vec<u8>, v: f64) {
    let a = v.abs();
    if v.is_finite() && (a == 0.0 || (1e-6..1e21).contains(&a)) {
        let _ = write!(out, "{v}");
    } else {
        out.extend_from_slice(go_float_string(v).as_bytes());
    }
}

/// Where the page's links and assets live: the `--web.external-url` path
/// without its trailing `/`, or `.` (relative to the page) without one
/// (spec 1.7, 1.8).
pub fn asset_base(external_path: &str) -> &str {
    match external_path.trim_end_matches('/') {
        "" => ".",
        p => p,
    }
}

/// Appends the document head, the opening `<body>` and the navigation bar.
///
/// `now` (Unix seconds) lets the script correct relative times for the
/// difference between the server's and the browser's clocks.
pub fn push_page_start(out: &mut Vec<u8>, base: &str, active: UiPage, now: u64) {
    let v = assets::VERSION;
    let title = match active {
        UiPage::Metrics => "Pushgate",
        UiPage::Status => "Pushgate – Status",
    };
    out.extend_from_slice(
        b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
          <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>",
    );
    out.extend_from_slice(title.as_bytes());
    out.extend_from_slice(b"</title>");
    let base_e = escape(base);
    let _ = write!(
        out,
        "<link rel=\"stylesheet\" href=\"{base_e}/static/pushgate.css?v={v:016x}\">\
         <link rel=\"icon\" type=\"image/svg+xml\" href=\"{base_e}/static/favicon.svg?v={v:016x}\">\
         <script src=\"{base_e}/static/pushgate.js?v={v:016x}\" defer></script>\
         </head><body data-now=\"{now}\"><nav class=\"topbar\"><a class=\"brand\" href=\"{base_e}/\">Pushgate</a>"
    );
    for (page, href, label) in
        [(UiPage::Metrics, "/", "Metrics"), (UiPage::Status, "/status", "Status")]
    {
        let class = if page == active { " class=\"active\" aria-current=\"page\"" } else { "" };
        let _ = write!(out, "<a{class} href=\"{base_e}{href}\">{label}</a>");
    }
    out.extend_from_slice(
        b"<a href=\"https://github.com/prometheus/pushgateway/blob/master/README.md\" \
          rel=\"noopener noreferrer\">Help</a></nav><main>",
    );
}

/// Appends the end of the page.
pub fn push_page_end(out: &mut Vec<u8>) {
    out.extend_from_slice(b"</main></body></html>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(out: Vec<u8>) -> String {
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn escapes_hostile_label_values() {
        assert_eq!(escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(escape("\" onmouseover=\"x"), "&quot; onmouseover=&quot;x");
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn escaping_keeps_other_text_and_unicode() {
        assert_eq!(escape(""), "");
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("ä<ö>ü 🚀"), "ä&lt;ö&gt;ü 🚀");
        assert_eq!(escape("a\nb\\c"), "a\nb\\c");
    }

    #[test]
    fn query_components_are_percent_encoded() {
        let mut out = Vec::new();
        push_query_component(&mut out, "job=a b&<x>/ä~");
        assert_eq!(s(out), "job%3Da%20b%26%3Cx%3E%2F%C3%A4~");
    }

    #[test]
    fn values_print_as_plain_decimals_when_readable() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (1.5, "1.5"),
            (-3.0, "-3"),
            (1763779999.123456, "1763779999.123456"),
            (1e-9, "1e-09"),
            (1e300, "1e+300"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (v, want) in cases {
            let mut out = Vec::new();
            push_value(&mut out, *v);
            assert_eq!(s(out), *want, "{v}");
        }
    }

    #[test]
    fn asset_base_follows_the_external_path() {
        assert_eq!(asset_base(""), ".");
        assert_eq!(asset_base("/"), ".");
        assert_eq!(asset_base("/foo/"), "/foo");
        assert_eq!(asset_base("/foo"), "/foo");
    }

    #[test]
    fn frame_has_no_inline_script_or_style() {
        let mut out = Vec::new();
        push_page_start(&mut out, "/foo", UiPage::Status, 0);
        push_page_end(&mut out);
        let page = s(out);
        assert!(page.contains("src=\"/foo/static/pushgate.js?v="), "{page}");
        assert!(page.contains("href=\"/foo/static/pushgate.css?v="), "{page}");
        assert!(page.contains("class=\"active\" aria-current=\"page\" href=\"/foo/status\""));
        assert!(!page.contains("<script>") && !page.contains("<style") && !page.contains("style="));
    }
}
