//! The status page at `/` and `/status` (spec 1.7): every group, its
//! families and series, server-rendered HTML with every label and value
//! escaped. No scripts and no outside assets (it must work in closed
//! networks); deleting groups is done with DELETE as documented in README.

use std::fmt::Write as _;

use crate::http::response::Response;
use crate::http::Error;
use crate::runtime::Core;
use crate::timefmt::rfc3339_nano;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the page.
pub async fn handle(core: &Core) -> Response {
    let Some(groups) = core.groups().await else {
        return Error::Unavailable.response();
    };
    // Spec 1.7: groups sorted by grouping-key string (as `groups()` returns them).
    let mut h = String::with_capacity(4096 + groups.len() * 512);
    h.push_str(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Pushgate</title>\
         <style>body{font-family:sans-serif;margin:1em}details{border:1px solid #ccc;\
         margin:.3em 0;padding:.3em}.b{display:inline-block;background:#eee;border-radius:3px;\
         padding:0 .3em;margin-right:.2em}.job{background:#fd7}.fail{color:#b00}\
         td{padding:0 .5em}</style></head><body><h1>Pushgate</h1>",
    );
    let _ = write!(
        h,
        "<p>{} group(s). Started {}.</p>",
        groups.len(),
        rfc3339_nano(core.shared.started)
    );
    for g in &groups {
        h.push_str("<details><summary>");
        for (n, v) in g.key.labels() {
            let class = if n == "job" { "b job" } else { "b" };
            let _ =
                write!(h, "<span class=\"{class}\">{}=&quot;{}&quot;</span>", escape(n), escape(v));
        }
        if !g.last_push_successful {
            h.push_str(" <span class=\"fail\">Last push failed!</span>");
        }
        h.push_str("</summary>");
        for f in &g.families {
            let _ = write!(
                h,
                "<details><summary>{} <small>{} — last pushed {}</small></summary>",
                escape(&f.name),
                f.typ.as_text(),
                rfc3339_nano(f.pushed_at)
            );
            if let Some(help) = &f.help {
                let _ = write!(h, "<p>{}</p>", escape(help));
            }
            h.push_str("<pre>");
            h.push_str(&escape(&String::from_utf8_lossy(f.text())));
            h.push_str("</pre></details>");
        }
        h.push_str("</details>");
    }
    h.push_str("</body></html>");
    Response {
        status: 200,
        headers: vec![("Content-Type", "text/html; charset=utf-8".to_owned())],
        body: h.into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
