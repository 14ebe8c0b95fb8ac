//! Which exposition format a request body is in, and which one a scraper asked for.
//!
//! Owns media-type matching for pushes (spec 3.1) and `Accept` negotiation
//! for scrapes (spec 4.4, the Go server's goautoneg order: descending q,
//! then more specific, then header order; first acceptable entry wins).

/// An exposition format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Text format 0.0.4 (the default for anything else).
    Text,
    /// Length-delimited `io.prometheus.client.MetricFamily` protobuf.
    Protobuf,
    /// OpenMetrics 1.0 text (push bodies only; read as text 0.0.4 first).
    OpenMetrics,
}

/// `Content-Type` of delimited protobuf bodies and answers.
pub const PROTOBUF_CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// `Content-Type` of text format 0.0.4 answers.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

struct MediaRange<'a> {
    typ: &'a str,
    subtype: &'a str,
    params: Vec<(&'a str, &'a str)>,
    q: f32,
}

fn parse_media_range(s: &str) -> Option<MediaRange<'_>> {
    let mut parts = s.split(';').map(str::trim);
    let (typ, subtype) = parts.next()?.split_once('/')?;
    let mut params = Vec::new();
    let mut q = 1.0;
    for p in parts {
        let Some((k, v)) = p.split_once('=') else { continue };
        let (k, v) = (k.trim(), v.trim().trim_matches('"'));
        if k.eq_ignore_ascii_case("q") {
            q = v.parse().unwrap_or(0.0);
        } else {
            params.push((k, v));
        }
    }
    Some(MediaRange { typ: typ.trim(), subtype: subtype.trim(), params, q })
}

impl MediaRange<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }

    fn is_delimited_protobuf(&self) -> bool {
        self.typ.eq_ignore_ascii_case("application")
            && self.subtype.eq_ignore_ascii_case("vnd.google.protobuf")
            && self.param("proto") == Some("io.prometheus.client.MetricFamily")
            && self.param("encoding") == Some("delimited")
    }
}

/// The format of a push body from its `Content-Type` (spec 3.1): protobuf
/// iff the media type and both parameters match; text for anything else.
pub fn push_format(content_type: Option<&str>) -> Format {
    match content_type.and_then(parse_media_range) {
        Some(m) if m.is_delimited_protobuf() => Format::Protobuf,
        Some(m)
            if m.typ.eq_ignore_ascii_case("application")
                && m.subtype.eq_ignore_ascii_case("openmetrics-text") =>
        {
            Format::OpenMetrics
        }
        _ => Format::Text,
    }
}

/// `Content-Type` of OpenMetrics answers.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The scrape format for an `Accept` header. OpenMetrics is only chosen
/// when `openmetrics` is set (`--runtime.openmetrics-scrape`): the Go server
/// answers text 0.0.4 to an OpenMetrics Accept, and a drop-in must too.
pub fn scrape_format(accept: Option<&str>, openmetrics: bool) -> Format {
    let Some(accept) = accept else { return Format::Text };
    let mut ranges: Vec<MediaRange<'_>> = accept.split(',').filter_map(parse_media_range).collect();
    let specificity = |m: &MediaRange<'_>| match (m.typ, m.subtype) {
        ("*", _) => 0,
        (_, "*") => 1,
        _ => 2,
    };
    // Stable sort keeps header order among equals.
    ranges.sort_by(|a, b| {
        b.q.partial_cmp(&a.q)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(specificity(b).cmp(&specificity(a)))
    });
    for m in ranges.iter().filter(|m| m.q > 0.0) {
        if m.is_delimited_protobuf() {
            return Format::Protobuf;
        }
        if openmetrics
            && m.typ.eq_ignore_ascii_case("application")
            && m.subtype.eq_ignore_ascii_case("openmetrics-text")
            && m.param("version").is_none_or(|v| v == "1.0.0")
        {
            return Format::OpenMetrics;
        }
        if m.typ.eq_ignore_ascii_case("text") && m.subtype.eq_ignore_ascii_case("plain") {
            return Format::Text;
        }
    }
    Format::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    const PB: &str =
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";

    #[test]
    fn push_formats() {
        assert_eq!(push_format(Some(PROTOBUF_CONTENT_TYPE)), Format::Protobuf);
        assert_eq!(push_format(Some(PB)), Format::Protobuf);
        assert_eq!(
            push_format(Some("application/vnd.google.protobuf; proto=x; encoding=delimited")),
            Format::Text
        );
        assert_eq!(push_format(Some("text/plain; version=0.0.4")), Format::Text);
        assert_eq!(push_format(Some("garbage")), Format::Text);
        assert_eq!(
            push_format(Some("application/openmetrics-text; version=1.0.0; charset=utf-8")),
            Format::OpenMetrics
        );
        assert_eq!(push_format(None), Format::Text);
    }

    #[test]
    fn scrape_negotiation_matches_go() {
        assert_eq!(scrape_format(Some(PB), false), Format::Protobuf);
        assert_eq!(
            scrape_format(Some(&format!("text/plain;q=0.5, {PB};q=0.9")), false),
            Format::Protobuf
        );
        assert_eq!(scrape_format(Some(&format!("text/plain, {PB}")), false), Format::Text);
        assert_eq!(
            scrape_format(Some("application/openmetrics-text; version=1.0.0"), false),
            Format::Text
        );
        assert_eq!(scrape_format(Some("*/*"), false), Format::Text);
        assert_eq!(scrape_format(None, false), Format::Text);
        // Prometheus 2.x with native histograms: protobuf listed first.
        let prom = format!("{PB},application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1");
        assert_eq!(scrape_format(Some(&prom), false), Format::Protobuf);
        assert_eq!(scrape_format(Some(&format!("{PB};q=0")), false), Format::Text);
        // Opt-in OpenMetrics, with Prometheus' default Accept header.
        let om = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(scrape_format(Some(om), true), Format::OpenMetrics);
        assert_eq!(scrape_format(Some(om), false), Format::Text);
        assert_eq!(scrape_format(Some("text/plain"), true), Format::Text);
    }
}
