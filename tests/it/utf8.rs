//! UTF-8 metric and label names (`--push.enable-utf8-names`, spec 3.6) and
//! the `escaping=` scrape negotiation (spec 4.4).

use crate::util::Server;

const UTF8_BODY: &str = "{\"my.metric\", \"a.b\"=\"x\"} 1\n";
const PATH: &str = "/metrics/job/j/U__dotted_2e_label/v";

fn scrape_with(s: &Server, accept: &str) -> (String, String) {
    let r = s.req_with("GET", "/metrics", b"", &[("Accept", accept)]);
    assert_eq!(r.status, 200, "{}", r.text());
    (r.header("content-type").unwrap_or_default().to_owned(), r.text())
}

#[test]
fn utf8_names_push_and_scrape_in_every_scheme() {
    let s = Server::start(&["--push.enable-utf8-names"]);
    let r = s.req("PUT", PATH, UTF8_BODY);
    assert_eq!(r.status, 200, "{}", r.text());

    let (ct, text) = scrape_with(&s, "text/plain;version=1.0.0;escaping=allow-utf-8");
    assert_eq!(ct, "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8");
    assert!(text.contains("# TYPE \"my.metric\" untyped\n"), "{text}");
    assert!(
        text.contains(
            "{\"my.metric\",\"a.b\"=\"x\",\"dotted.label\"=\"v\",instance=\"\",job=\"j\"} 1\n"
        ),
        "{text}"
    );
    assert!(text.contains("push_time_seconds{\"dotted.label\"=\"v\",instance=\"\",job=\"j\"} "));

    // No Accept: text 0.0.4 as before, names escaped with underscores.
    let r = s.req("GET", "/metrics", "");
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let text = r.text();
    assert!(text.contains("# TYPE my_metric untyped\n"), "{text}");
    assert!(text.contains("my_metric{a_b=\"x\",dotted_label=\"v\",instance=\"\",job=\"j\"} 1\n"));

    let (ct, text) = scrape_with(&s, "text/plain;version=1.0.0;escaping=values");
    assert_eq!(ct, "text/plain; version=1.0.0; charset=utf-8; escaping=values");
    assert!(
        text.contains(
            "U__my_2e_metric{U__a_2e_b=\"x\",U__dotted_2e_label=\"v\",instance=\"\",job=\"j\"} 1\n"
        ),
        "{text}"
    );

    // The group is addressed with the same escaped path.
    assert_eq!(s.req("DELETE", PATH, "").status, 202);
    assert!(!s.req("GET", "/metrics", "").text().contains("my_metric"));
}

#[test]
fn without_the_flag_utf8_names_are_refused_and_u_names_literal() {
    let s = Server::start(&[]);
    let r = s.req("PUT", PATH, UTF8_BODY);
    assert_eq!(r.status, 400);
    assert_eq!(r.text(), "text format parsing error in line 1: invalid metric name\n");
    assert_eq!(s.req("PUT", PATH, "plain 1\n").status, 200);
    assert!(
        s.scrape().contains("plain{U__dotted_2e_label=\"v\",instance=\"\",job=\"j\"} 1\n"),
        "{}",
        s.scrape()
    );
    assert_eq!(s.req("PUT", "/metrics/job/j/a.b/v", "plain 1\n").status, 400);
}

#[test]
fn utf8_flag_is_listed_with_the_other_flags() {
    let s = Server::start(&["--push.enable-utf8-names"]);
    let t = s.req("GET", "/api/v1/status", "").text();
    assert!(t.contains("\"push.enable-utf8-names\":\"true\""), "{t}");
    // Label names in the URL may now be any UTF-8.
    assert_eq!(s.req("PUT", "/metrics/job/j/a-b/c", "plain 1\n").status, 200);
    assert_eq!(s.req("PUT", "/metrics/job/j/__x/c", "plain 1\n").status, 400);
}

#[test]
fn prometheus_3_default_accept_gets_a_content_type_it_knows() {
    // scrapers.md: Prometheus 3's default Accept header (one header, no spaces).
    let accept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
                  application/openmetrics-text;version=0.0.1;q=0.5,\
                  text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,\
                  text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    // Prometheus v3 fails a scrape whose media type and version it does not know.
    let known = [
        ("application/vnd.google.protobuf", None),
        ("text/plain", Some("0.0.4")),
        ("text/plain", Some("1.0.0")),
        ("application/openmetrics-text", Some("0.0.1")),
        ("application/openmetrics-text", Some("1.0.0")),
    ];
    let is_known = |ct: &str| {
        let mut parts = ct.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        let version = parts.find_map(|p| p.strip_prefix("version="));
        known.iter().any(|(m, v)| *m == media && (v.is_none() || *v == version))
    };
    let cases: [(&[&str], &str); 3] = [
        // What the Pushgateway 1.5.1 answers it.
        (&[], "text/plain; version=0.0.4; charset=utf-8"),
        (
            &["--push.enable-utf8-names"],
            "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        ),
        (
            &["--runtime.openmetrics-scrape"],
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        ),
    ];
    for (args, want) in cases {
        let s = Server::start(args);
        let (ct, text) = scrape_with(&s, accept);
        assert!(is_known(&ct), "{args:?}: {ct}");
        assert_eq!(ct, want, "{args:?}");
        assert!(text.contains("pushgateway_build_info{"), "{text}");
    }
}
