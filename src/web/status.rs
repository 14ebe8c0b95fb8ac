//! The Status tab (`GET <prefix>/status`, spec 1.7): runtime information,
//! build information and the startup flags.
//!
//! Shows the same data as `GET /api/v1/status` (`api::status` owns the
//! build information; the flags are `Config::flags`, as the API prints them).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::SystemTime;

use crate::api::status::BUILD_INFORMATION;
use crate::http::router::UiPage;
use crate::web::ago::{push_time, unix_secs};
use crate::web::html::{push_escaped, push_page_end, push_page_start};
use crate::web::Context;

/// Appends the whole Status tab.
pub fn render_status_tab(
    out: &mut Vec<u8>,
    ctx: &Context<'_>,
    started: SystemTime,
    n_shards: usize,
    flags: &BTreeMap<String, String>,
) {
    push_page_start(out, ctx.base, UiPage::Status, unix_secs(ctx.now).max(0) as u64);
    out.extend_from_slice(
        b"<h2>Runtime information</h2><table class=\"kv\" id=\"runtime\"><tr><th>Started</th><td>",
    );
    push_time(out, started, ctx.now);
    let _ = write!(out, "</td></tr><tr><th>Cores (shards)</th><td>{n_shards}</td></tr></table>");
    push_table(out, "Build information", "build", BUILD_INFORMATION.iter().copied());
    push_table(out, "Startup flags", "flags", flags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    push_page_end(out);
}

fn push_table<'a>(
    out: &mut Vec<u8>,
    title: &str,
    id: &str,
    rows: impl Iterator<Item = (&'a str, &'a str)>,
) {
    let _ = write!(out, "<h2>{title}</h2><table class=\"kv\" id=\"{id}\">");
    for (k, v) in rows {
        out.extend_from_slice(b"<tr><th>");
        push_escaped(out, k);
        out.extend_from_slice(b"</th><td class=\"mono\">");
        if v.is_empty() {
            out.extend_from_slice(b"<span class=\"muted\">(empty)</span>");
        } else {
            push_escaped(out, v);
        }
        out.extend_from_slice(b"</td></tr>");
    }
    out.extend_from_slice(b"</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_version_and_escaped_flags() {
        let flags: BTreeMap<String, String> = [
            ("web.listen-address".to_owned(), ":9091".to_owned()),
            ("persistence.file".to_owned(), "/tmp/<x>&\"".to_owned()),
            ("web.route-prefix".to_owned(), String::new()),
        ]
        .into_iter()
        .collect();
        let now = SystemTime::now();
        let ctx = Context {
            base: ".",
            admin: false,
            now,
            names: crate::expfmt::escape::NameValidation::Legacy,
        };
        let mut out = Vec::new();
        render_status_tab(&mut out, &ctx, now, 2, &flags);
        let page = String::from_utf8(out).unwrap();
        let version =
            format!("<th>version</th><td class=\"mono\">{}</td>", env!("CARGO_PKG_VERSION"));
        assert!(page.contains(&version), "{page}");
        assert!(
            page.contains("<th>web.listen-address</th><td class=\"mono\">:9091</td>"),
            "{page}"
        );
        assert!(page.contains("/tmp/&lt;x&gt;&amp;&quot;"), "{page}");
        assert!(page
            .contains("<th>web.route-prefix</th><td class=\"mono\"><span class=\"muted\">(empty)"));
        assert!(page.contains("just now"), "{page}");
    }
}
