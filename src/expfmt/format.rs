//! Which exposition format a request body is in, and which one a scraper asked for.
//!
//! Owns media-type matching for pushes (spec 3.1) and `Accept` negotiation
//! for scrapes (spec 4.4, the Go server's goautoneg order: descending q,
//! then more specific, then header order; first acceptable entry wins),
//! including the text format version and the `escaping=` scheme for names.

use super::escape::Escaping;

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

/// What a scrape is answered with: format, text version and name escaping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scrape {
    /// The exposition format.
    pub format: Format,
    /// Text format 1.0.0 (`text/plain;version=1.0.0`) rather than 0.0.4;
    /// the same lines, announced as able to carry quoted UTF-8 names.
    pub text_1_0_0: bool,
    /// How names that are not legacy are written: the `escaping=` parameter
    /// of the chosen `Accept` entry if it names a scheme, else the default.
    pub escaping: Escaping,
    /// The chosen entry named the scheme (then `Content-Type` repeats it).
    escaping_named: bool,
}

impl Scrape {
    const fn of(format: Format) -> Scrape {
        Scrape { format, text_1_0_0: false, escaping: Escaping::Underscores, escaping_named: false }
    }

    /// The `Content-Type` of the answer. Text 1.0.0 always says its escaping
    /// scheme (`text/plain; version=1.0.0; charset=utf-8; escaping=…`); the
    /// other formats only when the scraper named one, so that every answer
    /// the Go Pushgateway 1.5.1 gives keeps its exact `Content-Type`.
    pub fn content_type(&self) -> String {
        let base = match self.format {
            Format::Text if self.text_1_0_0 => TEXT_1_0_0_CONTENT_TYPE,
            Format::Text => TEXT_CONTENT_TYPE,
            Format::Protobuf => PROTOBUF_CONTENT_TYPE,
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        };
        if self.escaping_named || (self.format == Format::Text && self.text_1_0_0) {
            format!("{base}; escaping={}", self.escaping.as_str())
        } else {
            base.to_owned()
        }
    }
}

/// `Content-Type` of text format 1.0.0 answers, before `; escaping=…`.
pub const TEXT_1_0_0_CONTENT_TYPE: &str = "text/plain; version=1.0.0; charset=utf-8";

/// The scrape format for an `Accept` header (see [`negotiate_scrape`]),
/// legacy names.
pub fn scrape_format(accept: Option<&str>, openmetrics: bool) -> Format {
    negotiate_scrape(accept, openmetrics, false).format
}

/// Negotiates a scrape answer from an `Accept` header. OpenMetrics is only
/// chosen when `openmetrics` is set (`--runtime.openmetrics-scrape`): the Go
/// server answers text 0.0.4 to an OpenMetrics Accept, and a drop-in must
/// too. With `utf8_names` (`--push.enable-utf8-names`), `text/plain` with
/// `version=1.0.0` gets text 1.0.0. `text/plain` without a version or with
/// 0.0.4 (and `*/*`, and no acceptable entry) gets text 0.0.4. Any other
/// `text/plain` version is not a match, as in the Pushgateway 1.5.1 (so
/// Prometheus 3's default Accept gets exactly what 1.5.1 answers it unless
/// UTF-8 names are on, the one case where text 1.0.0 can say more).
///
/// The Go server takes `escaping=` from the last entry it looked at, matching
/// or not; here it comes from the chosen entry only (the same scheme for
/// Prometheus' default headers, which put it on the entries they prefer).
pub fn negotiate_scrape(accept: Option<&str>, openmetrics: bool, utf8_names: bool) -> Scrape {
    let Some(accept) = accept else { return Scrape::of(Format::Text) };
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
        let chosen = |format: Format, text_1_0_0: bool| {
            let named = m.param("escaping").and_then(Escaping::from_param);
            Scrape {
                format,
                text_1_0_0,
                escaping: named.unwrap_or_default(),
                escaping_named: named.is_some(),
            }
        };
        if m.is_delimited_protobuf() {
            return chosen(Format::Protobuf, false);
        }
        if openmetrics
            && m.typ.eq_ignore_ascii_case("application")
            && m.subtype.eq_ignore_ascii_case("openmetrics-text")
            && m.param("version").is_none_or(|v| v == "1.0.0")
        {
            return chosen(Format::OpenMetrics, false);
        }
        if m.typ.eq_ignore_ascii_case("text") && m.subtype.eq_ignore_ascii_case("plain") {
            match m.param("version") {
                None | Some("0.0.4") => return chosen(Format::Text, false),
                Some("1.0.0") if utf8_names => return chosen(Format::Text, true),
                Some(_) => {}
            }
        }
    }
    Scrape::of(Format::Text)
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

    /// With UTF-8 names on (text 1.0.0 offered).
    fn content_type(accept: Option<&str>, openmetrics: bool) -> String {
        negotiate_scrape(accept, openmetrics, true).content_type()
    }

    #[test]
    fn without_utf8_names_text_1_0_0_is_not_offered() {
        // As the Pushgateway 1.5.1: a text/plain version other than 0.0.4 is
        // not a match, so Prometheus 3 gets text 0.0.4 from its next entry.
        let s = negotiate_scrape(Some(PROM3), false, false);
        assert_eq!(s.content_type(), TEXT_CONTENT_TYPE);
        assert_eq!(
            negotiate_scrape(Some("text/plain;version=1.0.0"), false, false).content_type(),
            TEXT_CONTENT_TYPE
        );
        // ... and a lower-q protobuf entry after it is a match.
        let s =
            negotiate_scrape(Some(&format!("text/plain;version=1.0.0,{PB};q=0.5")), false, false);
        assert_eq!(s.format, Format::Protobuf);
        assert_eq!(negotiate_scrape(Some(PROM3_NATIVE), false, false).format, Format::Protobuf);
    }

    macro_rules! negotiated {
        ($($name:ident: ($accept:expr, $om:expr) => $want:expr,)*) => {$(
            #[test]
            fn $name() {
                let accept: Option<&str> = $accept;
                assert_eq!(content_type(accept, $om), $want, "Accept {accept:?}");
            }
        )*};
    }

    const PROM3: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    const PROM3_NATIVE: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";

    negotiated! {
        ct_no_accept: (None, false) => TEXT_CONTENT_TYPE,
        ct_text_0_0_4_unchanged: (Some("text/plain;version=0.0.4"), false) => TEXT_CONTENT_TYPE,
        ct_text_0_0_4_named: (Some("text/plain;version=0.0.4;escaping=values"), false) =>
            "text/plain; version=0.0.4; charset=utf-8; escaping=values",
        ct_text_1_0_0_default_escaping: (Some("text/plain;version=1.0.0"), false) =>
            "text/plain; version=1.0.0; charset=utf-8; escaping=underscores",
        ct_text_1_0_0_utf8: (Some("text/plain;version=1.0.0;escaping=allow-utf-8"), false) =>
            "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        ct_text_1_0_0_dots: (Some("text/plain; version=1.0.0; escaping=dots"), false) =>
            "text/plain; version=1.0.0; charset=utf-8; escaping=dots",
        ct_unknown_scheme_ignored: (Some("text/plain;version=1.0.0;escaping=Dots"), false) =>
            "text/plain; version=1.0.0; charset=utf-8; escaping=underscores",
        ct_other_text_version: (Some("text/plain;version=2.0.0"), false) => TEXT_CONTENT_TYPE,
        ct_prometheus_3: (Some(PROM3), false) =>
            "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        ct_prometheus_3_openmetrics: (Some(PROM3), true) =>
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        ct_prometheus_3_native: (Some(PROM3_NATIVE), false) => PROTOBUF_CONTENT_TYPE,
        ct_protobuf_named: (Some(&format!("{PB};escaping=values")), false) =>
            format!("{PROTOBUF_CONTENT_TYPE}; escaping=values"),
        ct_escaping_of_chosen_entry_only: (Some("text/plain;version=0.0.4,*/*;escaping=values;q=0.1"), false) =>
            TEXT_CONTENT_TYPE,
    }

    #[test]
    fn escaping_comes_from_the_chosen_entry() {
        let s = negotiate_scrape(Some(PROM3), false, true);
        assert_eq!((s.format, s.text_1_0_0, s.escaping), (Format::Text, true, Escaping::AllowUtf8));
        let s = negotiate_scrape(Some("text/plain;version=0.0.4;escaping=dots"), false, true);
        assert_eq!((s.text_1_0_0, s.escaping), (false, Escaping::Dots));
        assert_eq!(negotiate_scrape(None, false, true).escaping, Escaping::Underscores);
    }
}
