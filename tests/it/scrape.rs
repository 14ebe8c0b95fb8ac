use crate::util::Server;

#[test]
fn families_sorted_once_with_help_and_series_ordered() {
    let s = Server::start(&["--runtime.cores=3"]);
    s.req("PUT", "/metrics/job/b", "# HELP m A gauge.\n# TYPE m gauge\nm 2\nz 1\n");
    s.req("PUT", "/metrics/job/a/instance/x", "# TYPE m gauge\nm{extra=\"1\"} 1\nA 5\n");
    s.req("PUT", "/metrics/job/a", "# TYPE m gauge\nm 3\n");
    let text = s.scrape();
    let m_start = text.find("# HELP m A gauge.\n# TYPE m gauge\n").expect(&text);
    let m_lines: Vec<&str> = text[m_start..].lines().skip(2).take(3).collect();
    assert_eq!(
        m_lines,
        [
            "m{instance=\"\",job=\"a\"} 3",
            "m{instance=\"\",job=\"b\"} 2",
            "m{extra=\"1\",instance=\"x\",job=\"a\"} 1"
        ],
        "{text}"
    );
    assert!(text.find("# TYPE A ").unwrap() < m_start, "byte order: A < m");
    assert_eq!(text.matches("# TYPE m ").count(), 1);
}

#[test]
fn floats_and_histograms_render_as_go_does() {
    let s = Server::start(&[]);
    let body = "a 1e6\nb 0.00001\nc 1234567\nd -0\n# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\nh_sum 2\nh_count 3\n";
    assert_eq!(s.req("PUT", "/metrics/job/f", body).status, 200);
    let text = s.scrape();
    for want in [
        "a{instance=\"\",job=\"f\"} 1e+06\n",
        "b{instance=\"\",job=\"f\"} 1e-05\n",
        "c{instance=\"\",job=\"f\"} 1.234567e+06\n",
        "d{instance=\"\",job=\"f\"} 0\n",
        "h_bucket{instance=\"\",job=\"f\",le=\"1\"} 1\nh_bucket{instance=\"\",job=\"f\",le=\"+Inf\"} 3\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in {text}");
    }
}

#[test]
fn scrape_has_own_metrics_and_content_type() {
    let s = Server::start(&[]);
    s.req("PUT", "/metrics/job/x", "a 1\n");
    let r = s.req("GET", "/metrics", "");
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let text = r.text();
    assert!(text.contains("# TYPE pushgateway_http_requests_total counter\n"), "{text}");
    assert!(
        text.contains(
            "pushgateway_http_requests_total{code=\"200\",handler=\"push\",method=\"put\"} 1\n"
        ),
        "{text}"
    );
    assert!(text.contains("# TYPE process_start_time_seconds gauge\n"), "{text}");
    assert!(text.contains("pushgateway_build_info{"), "{text}");
}

#[test]
fn route_prefix_and_telemetry_path_move_the_routes() {
    let s = Server::start(&["--web.route-prefix=/pg", "--web.telemetry-path=/scrape"]);
    assert_eq!(s.req("PUT", "/pg/metrics/job/p", "a 1\n").status, 200);
    assert_eq!(s.req("GET", "/metrics", "").status, 404);
    let r = s.req("GET", "/pg/scrape", "");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("a{instance=\"\",job=\"p\"} 1"));
    assert_eq!(s.req("GET", "/pg/-/healthy", "").text(), "OK");
    let r = s.req("GET", "/pg", "");
    assert_eq!((r.status, r.header("location")), (301, Some("/pg/")));
}

#[test]
fn repeated_listen_addresses_all_serve() {
    let s = Server::start(&["--web.listen-address=127.0.0.1:0"]);
    // Start returns at the first address line; the second follows it.
    assert!(s.wait_until(|s| s.log().matches("address=").count() == 2), "{}", s.log());
    let log = s.log();
    let addrs: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("address=").nth(1))
        .map(|a| a.split(' ').next().unwrap())
        .collect();
    assert_eq!(addrs.len(), 2, "{log}");
    for a in addrs {
        let mut conn = std::net::TcpStream::connect(a).unwrap();
        use std::io::{Read, Write};
        conn.write_all(b"GET /-/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        conn.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
    }
}

#[test]
fn openmetrics_scrape_is_opt_in() {
    let accept =
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let s = Server::start(&["--runtime.openmetrics-scrape"]);
    s.req("PUT", "/metrics/job/om", "# TYPE jobs_total counter\njobs_total 3\n");
    let r = s.req_with("GET", "/metrics", b"", &[("Accept", accept)]);
    assert_eq!(
        r.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = r.text();
    assert!(
        text.contains("# TYPE jobs counter\njobs_total{instance=\"\",job=\"om\"} 3\n"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
    // The whole answer, own metrics included, is valid OpenMetrics.
    if let Err(e) = pushgate::expfmt::openmetrics::parse(text.as_bytes()) {
        panic!("{e}\n{text}");
    }
    // Default: what the Pushgateway answers to the same Accept.
    let s = Server::start(&[]);
    let r = s.req_with("GET", "/metrics", b"", &[("Accept", accept)]);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
}

/// GET /metrics asking for OpenMetrics 1.0.0; the body.
fn om_scrape(s: &Server) -> String {
    let accept = [("Accept", "application/openmetrics-text;version=1.0.0")];
    s.req_with("GET", "/metrics", b"", &accept).text()
}

/// Minimal protobuf writer for hand-built pushes.
fn pb_field(out: &mut Vec<u8>, num: u64, wire: u64, payload: &[u8]) {
    out.extend(pb_varint(num << 3 | wire));
    if wire == 2 {
        out.extend(pb_varint(payload.len() as u64));
    }
    out.extend_from_slice(payload);
}

fn pb_varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

#[test]
fn openmetrics_scrape_shows_pushed_exemplars_and_created_timestamps() {
    // counter rpc_total 17, exemplar {trace_id="abc"} 1.5 @ 1520879607.789, created 1520430000.5
    let mut ts = Vec::new();
    pb_field(&mut ts, 1, 0, &pb_varint(1520879607));
    pb_field(&mut ts, 2, 0, &pb_varint(789_000_000));
    let mut pair = Vec::new();
    pb_field(&mut pair, 1, 2, b"trace_id");
    pb_field(&mut pair, 2, 2, b"abc");
    let mut exemplar = Vec::new();
    pb_field(&mut exemplar, 1, 2, &pair);
    pb_field(&mut exemplar, 2, 1, &1.5f64.to_le_bytes());
    pb_field(&mut exemplar, 3, 2, &ts);
    let mut created = Vec::new();
    pb_field(&mut created, 1, 0, &pb_varint(1520430000));
    pb_field(&mut created, 2, 0, &pb_varint(500_000_000));
    let mut counter = Vec::new();
    pb_field(&mut counter, 1, 1, &17f64.to_le_bytes());
    pb_field(&mut counter, 2, 2, &exemplar);
    pb_field(&mut counter, 3, 2, &created);
    let mut metric = Vec::new();
    pb_field(&mut metric, 3, 2, &counter);
    let mut family = Vec::new();
    pb_field(&mut family, 1, 2, b"rpc_total");
    pb_field(&mut family, 3, 0, &pb_varint(0));
    pb_field(&mut family, 4, 2, &metric);
    let mut body = pb_varint(family.len() as u64);
    body.extend_from_slice(&family);
    let s = Server::start(&["--runtime.openmetrics-scrape"]);
    let ct = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
    let r = s.req_with("PUT", "/metrics/job/om", &body, &[("Content-Type", ct)]);
    assert_eq!(r.status, 200, "{}", r.text());
    let text = om_scrape(&s);
    assert!(
        text.contains(
            "rpc_total{instance=\"\",job=\"om\"} 17 # {trace_id=\"abc\"} 1.5 1.520879607789e+09\n\
             rpc_created{instance=\"\",job=\"om\"} 1.5204300005e+09\n"
        ),
        "{text}"
    );
    if let Err(e) = pushgate::expfmt::openmetrics::parse(text.as_bytes()) {
        panic!("{e}\n{text}");
    }
    // Text 0.0.4 has no place for either.
    let plain = s.scrape();
    assert!(plain.contains("rpc_total{instance=\"\",job=\"om\"} 17\n"), "{plain}");
    assert!(!plain.contains("trace_id") && !plain.contains("rpc_created"), "{plain}");
}

#[test]
fn openmetrics_pushed_exemplars_come_back_in_openmetrics_and_protobuf_scrapes() {
    let body = "# TYPE rpc counter\n\
                rpc_total 4 # {trace_id=\"t-1\"} 1.25 1700000000.5\n\
                # TYPE lat histogram\n\
                lat_bucket{le=\"0.5\"} 1\n\
                lat_bucket{le=\"+Inf\"} 2 # {trace_id=\"t-2\"} 3\n\
                lat_count 2\n\
                lat_sum 3.5\n\
                # EOF\n";
    let s = Server::start(&["--runtime.openmetrics-scrape"]);
    let ct = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    let r = s.req_with("PUT", "/metrics/job/ex", body.as_bytes(), &[("Content-Type", ct)]);
    assert_eq!(r.status, 200, "{}", r.text());
    let om = om_scrape(&s);
    assert!(
        om.contains(
            "rpc_total{instance=\"\",job=\"ex\"} 4 # {trace_id=\"t-1\"} 1.25 1.7000000005e+09\n"
        ),
        "{om}"
    );
    assert!(
        om.contains("lat_bucket{instance=\"\",job=\"ex\",le=\"+Inf\"} 2 # {trace_id=\"t-2\"} 3\n"),
        "{om}"
    );
    assert!(om.contains("lat_bucket{instance=\"\",job=\"ex\",le=\"0.5\"} 1\n"), "{om}");
    if let Err(e) = pushgate::expfmt::openmetrics::parse(om.as_bytes()) {
        panic!("{e}\n{om}");
    }
    let pb = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";
    let proto = s.req_with("GET", "/metrics", b"", &[("Accept", pb)]).body;
    assert!(proto.windows(3).any(|w| w == b"t-1") && proto.windows(3).any(|w| w == b"t-2"));
    let fams = pushgate::expfmt::proto::parse(&proto).unwrap();
    assert!(fams.iter().any(|f| f.name == "lat"));
    // Text 0.0.4 is unchanged by them.
    let text = s.scrape();
    assert!(
        text.contains("rpc_total{instance=\"\",job=\"ex\"} 4\n") && !text.contains("t-1"),
        "{text}"
    );
}

#[test]
fn openmetrics_scrape_folds_pushed_created_families_into_their_counter() {
    // What prometheus_client's text exposition pushes for a counter.
    let body = "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total{q=\"a\"} 3.0\n\
                # HELP jobs_created Jobs.\n# TYPE jobs_created gauge\njobs_created{q=\"a\"} 1.7e+09\n\
                # TYPE lat histogram\nlat_bucket{le=\"+Inf\"} 2\nlat_sum 1\nlat_count 2\n\
                # TYPE lat_created gauge\nlat_created 1.6e+09\n";
    let s = Server::start(&["--runtime.openmetrics-scrape"]);
    assert_eq!(s.req("PUT", "/metrics/job/c", body).status, 200);
    let om = om_scrape(&s);
    assert!(
        om.contains("jobs_total{instance=\"\",job=\"c\",q=\"a\"} 3\njobs_created{instance=\"\",job=\"c\",q=\"a\"} 1.7e+09\n"),
        "{om}"
    );
    assert!(
        om.contains(
            "lat_count{instance=\"\",job=\"c\"} 2\nlat_created{instance=\"\",job=\"c\"} 1.6e+09\n"
        ),
        "{om}"
    );
    assert!(!om.contains("# TYPE jobs_created") && !om.contains("# TYPE lat_created"), "{om}");
    if let Err(e) = pushgate::expfmt::openmetrics::parse(om.as_bytes()) {
        panic!("{e}\n{om}");
    }
    // Text 0.0.4 keeps them as the families they were pushed as.
    assert!(s.scrape().contains("# TYPE jobs_created gauge\n"));
}

#[test]
fn large_scrapes_stream_from_the_store_plain_and_gzipped() {
    let s = Server::start(&[]);
    for g in 0..40 {
        let body: String =
            (0..100).map(|i| format!("big_metric{{i=\"{i}\"}} {}\n", g * 1000 + i)).collect();
        assert_eq!(s.req("PUT", &format!("/metrics/job/big/instance/g{g:02}"), &body).status, 200);
    }
    let plain = s.req("GET", "/metrics", "");
    assert_eq!(plain.status, 200);
    let text = plain.text();
    assert!(text.len() > 200_000, "{} bytes", text.len());
    assert_eq!(
        plain.header("content-length").map(|v| v.parse::<usize>().unwrap()),
        Some(plain.body.len())
    );
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("big_metric{")).collect();
    assert_eq!(lines.len(), 4000);
    // Go's order: by instance (g00 < g01 …), then i as a string.
    assert!(lines[0].starts_with("big_metric{i=\"0\",instance=\"g00\""), "{}", lines[0]);
    let gz = s.req_with("GET", "/metrics", b"", &[("Accept-Encoding", "gzip")]);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let mut unzipped = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(&gz.body[..]),
        &mut unzipped,
    )
    .unwrap();
    let pushed = |t: &str| {
        t.lines().filter(|l| l.starts_with("big_metric")).map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(pushed(&unzipped), pushed(&text));
}
