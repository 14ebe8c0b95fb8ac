use crate::util::Server;

#[test]
fn curl_style_push_is_scraped_with_job_and_instance() {
    let s = Server::start(&[]);
    let r = s.req("POST", "/metrics/job/some_job", "some_metric 3.14\n");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    let text = s.scrape();
    assert!(
        text.contains(
            "# TYPE some_metric untyped\nsome_metric{instance=\"\",job=\"some_job\"} 3.14\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("push_failure_time_seconds{instance=\"\",job=\"some_job\"} 0\n"),
        "{text}"
    );
}

#[test]
fn put_replaces_whole_group_post_only_same_name_families() {
    let s = Server::start(&[]);
    let body = "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\n";
    assert_eq!(s.req("PUT", "/metrics/job/j/instance/i", body).status, 200);
    assert_eq!(s.req("POST", "/metrics/job/j/instance/i", "x{a=\"1\"} 2\nz 3\n").status, 200);
    let text = s.scrape();
    assert!(text.contains("x{a=\"1\",instance=\"i\",job=\"j\"} 2\n"), "{text}");
    assert!(
        !text.contains("x{instance=\"i\",job=\"j\"} 1"),
        "POST replaces the whole family: {text}"
    );
    assert!(text.contains("y{instance=\"i\",job=\"j\"} 1\n"), "{text}");
    assert_eq!(s.req("PUT", "/metrics/job/j/instance/i", "only 1\n").status, 200);
    let text = s.scrape();
    assert!(!text.contains("\ny{"), "{text}");
    assert!(text.contains("only{instance=\"i\",job=\"j\"} 1\n"), "{text}");
}

#[test]
fn delete_removes_exactly_that_grouping_key() {
    let s = Server::start(&[]);
    s.req("PUT", "/metrics/job/a", "m 1\n");
    s.req("PUT", "/metrics/job/a/instance/b", "m 2\n");
    let r = s.req("DELETE", "/metrics/job/a", "ignored");
    assert_eq!(r.status, 202);
    let text = s.scrape();
    assert!(!text.contains("m{instance=\"\",job=\"a\"}"), "{text}");
    assert!(text.contains("m{instance=\"b\",job=\"a\"} 2\n"), "{text}");
    assert_eq!(s.req("DELETE", "/metrics/job/nonexistent", "").status, 202);
}

#[test]
fn base64_keys_decode_with_url_safe_alphabet() {
    let s = Server::start(&[]);
    let r =
        s.req("PUT", "/metrics/job@base64/dGVzdC9qb2I/path@base64/L3Zhci90bXA/e@base64/=", "a 1\n");
    assert_eq!(r.status, 200, "{}", r.text());
    let text = s.scrape();
    assert!(
        text.contains("a{e=\"\",instance=\"\",job=\"test/job\",path=\"/var/tmp\"} 1\n"),
        "{text}"
    );
}

#[test]
fn every_grouping_error_class_is_400_with_go_message() {
    let s = Server::start(&[]);
    let cases = [
        ("/metrics/job@base64/=", "job name is required\n"),
        ("/metrics/job/x/l@base64/foo.bar", "invalid base64 encoding for label l=\"foo.bar\": illegal base64 data at input byte 3\n"),
        ("/metrics/job/x/a", "odd number of components in label string \"/a\"\n"),
        ("/metrics/job/x/a-b/c", "improper label name \"a-b\"\n"),
        ("/metrics/job/x/__a/c", "improper label name \"__a\"\n"),
        ("/metrics/job@base64/a+b", "invalid base64 encoding in job name \"\": illegal base64 data at input byte 1\n"),
    ];
    for (path, msg) in cases {
        let r = s.req("PUT", path, "a 1\n");
        assert_eq!((r.status, r.text().as_str()), (400, msg), "{path}");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    }
    // Nothing was stored by any of them.
    assert_eq!(s.scrape(), "");
}

#[test]
fn parse_errors_leave_the_group_untouched_and_record_nothing() {
    let s = Server::start(&[]);
    s.req("PUT", "/metrics/job/j", "keep 1\n");
    let before = s.scrape();
    for (body, msg) in [
        ("a 1", "text format parsing error in line 1: unexpected end of input stream\n"),
        (
            "a 0x10\n",
            "text format parsing error in line 1: expected float as value, got \"0x10\"\n",
        ),
        (
            "# TYPE a foo\na 1\n",
            "text format parsing error in line 1: unknown metric type \"foo\"\n",
        ),
    ] {
        let r = s.req("PUT", "/metrics/job/j", body);
        assert_eq!((r.status, r.text().as_str()), (400, msg));
    }
    assert_eq!(s.scrape(), before);
}

#[test]
fn timestamps_are_rejected_and_recorded_as_failure() {
    let s = Server::start(&[]);
    s.req("PUT", "/metrics/job/t", "keep 1\n");
    let r = s.req("PUT", "/metrics/job/t", "a 1 1000\n");
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        "pushed metrics are invalid or inconsistent with existing metrics: pushed metrics must not have timestamps\n"
    );
    let text = s.scrape();
    assert!(text.contains("keep{instance=\"\",job=\"t\"} 1\n"), "{text}");
    assert!(!text.contains("push_failure_time_seconds{instance=\"\",job=\"t\"} 0\n"), "{text}");
    let api = s.req("GET", "/api/v1/metrics", "").text();
    assert!(api.contains("\"last_push_successful\":false"), "{api}");
}

/// Groups are spread over cores by key hash; conflicts must be found whichever
/// core owns each group.
#[test]
fn consistency_conflicts_across_groups_on_all_cores() {
    let s = Server::start(&["--runtime.cores=4"]);
    assert_eq!(s.req("PUT", "/metrics/job/g0", "# TYPE m gauge\nm 1\n").status, 200);
    for i in 1..24 {
        let path = format!("/metrics/job/g{i}");
        let r = s.req("PUT", &path, "# TYPE m counter\nm 1\n");
        assert_eq!(r.status, 400, "{path}");
        assert!(r
            .text()
            .starts_with("pushed metrics are invalid or inconsistent with existing metrics: "));
        assert_eq!(s.req("PUT", &path, "# TYPE m gauge\nm 1\n").status, 200, "{path}");
    }
    // The same series from two groups: {job="w",instance=""} then {job="w"}.
    assert_eq!(s.req("PUT", "/metrics/job/w/instance@base64/=", "q 1\n").status, 200);
    let r = s.req("PUT", "/metrics/job/w", "q 2\n");
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("was collected before with the same name and label values"),
        "{}",
        r.text()
    );
    // The refused push did not create a group that would break every scrape (spec 2.4 trap).
    let scrape = s.req("GET", "/metrics", "");
    assert_eq!(scrape.status, 200);
    assert_eq!(s.req("PUT", "/metrics/job/other", "fine 1\n").status, 200);
    // Histogram/summary suffix collisions.
    assert_eq!(
        s.req(
            "PUT",
            "/metrics/job/h",
            "# TYPE lat histogram\nlat_bucket{le=\"1\"} 1\nlat_sum 1\nlat_count 1\n"
        )
        .status,
        200
    );
    let r = s.req("PUT", "/metrics/job/h2", "lat_count 3\n");
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("collides with previously collected histogram named \"lat\""),
        "{}",
        r.text()
    );
}

#[test]
fn unchecked_mode_answers_202() {
    let s = Server::start(&["--push.disable-consistency-check", "--runtime.cores=2"]);
    let r = s.req("PUT", "/metrics/job/u", "# TYPE m gauge\nm 1\n");
    assert_eq!(r.status, 202);
    assert_eq!(s.req("PUT", "/metrics/job/u", "bad-x 1\n").status, 400);
    assert!(s.wait_until(|s| s.scrape().contains("m{instance=\"\",job=\"u\"} 1")));
    // Whichever core owns a group: pushed again (in place), with
    // timestamps, or with a type the check would refuse: all get 202.
    for g in 0..8 {
        let path = format!("/metrics/job/u/instance/i{g}");
        for body in ["# TYPE m gauge\nm 2\n", "# TYPE m gauge\nm 3\n", "m 5 1000\n"] {
            assert_eq!(s.req("PUT", &path, body).status, 202, "{path} {body}");
        }
    }
    let text = s.scrape();
    for g in 0..8 {
        assert!(text.contains(&format!("m{{instance=\"i{g}\",job=\"u\"}} 3\n")), "{text}");
    }
    assert_eq!(s.req("PUT", "/metrics/job/u/instance/i0", "# TYPE m counter\nm 4\n").status, 202);
    // Stored unchecked, so the scrape fails as Go's does, until mended.
    let r = s.req("GET", "/metrics", "");
    assert_eq!(r.status, 500);
    assert!(r.text().contains("has type COUNTER but should have GAUGE"), "{}", r.text());
    assert_eq!(s.req("PUT", "/metrics/job/u/instance/i0", "# TYPE m gauge\nm 4\n").status, 202);
    assert!(s.scrape().contains("m{instance=\"i0\",job=\"u\"} 4\n"));
}

#[test]
fn openmetrics_bodies_are_accepted_and_text_bodies_stay_go_compatible() {
    let s = Server::start(&[]);
    let om = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    // Valid only as OpenMetrics (`# EOF`, exemplar, float timestamp-free counter with _created).
    let body = "# HELP jobs Jobs run.\n# TYPE jobs counter\njobs_total 3 # {trace_id=\"abc\"} 1\njobs_created 1.7e+09\n# EOF\n";
    let r = s.req_with("PUT", "/metrics/job/om", body.as_bytes(), &[("Content-Type", om)]);
    assert_eq!(r.status, 200, "{}", r.text());
    let text = s.scrape();
    assert!(
        text.contains("# TYPE jobs_total counter\njobs_total{instance=\"\",job=\"om\"} 3\n"),
        "{text}"
    );
    assert!(text.contains("jobs_created{instance=\"\",job=\"om\"} 1.7e+09\n"), "{text}");
    // A body the Go server accepts as text is stored exactly as it would store it.
    let r = s.req_with("PUT", "/metrics/job/om2", b"g 1\n", &[("Content-Type", om)]);
    assert_eq!(r.status, 200);
    assert!(s.scrape().contains("# TYPE g untyped\ng{instance=\"\",job=\"om2\"} 1\n"));
    // Broken OpenMetrics gets an OpenMetrics error.
    let r = s.req_with(
        "PUT",
        "/metrics/job/om3",
        b"# TYPE x counter\nx_total 1 # {a=\n# EOF\n",
        &[("Content-Type", om)],
    );
    assert_eq!(r.status, 400);
    assert!(r.text().starts_with("openmetrics parsing error in line 2"), "{}", r.text());
}

#[test]
fn groups_pushed_again_show_new_values_help_and_times_on_every_core() {
    // Re-pushes of the same families are applied in place on the core that
    // owns the group; eight groups spread over both cores, scraped between.
    let s = Server::start(&["--runtime.cores=2"]);
    for round in 1..=3 {
        for g in 0..8 {
            let body = format!(
                "# HELP m help {round}\n# TYPE m gauge\nm{{k=\"b\"}} {}\nm{{k=\"a\"}} {round}\n\
                 # TYPE h histogram\nh_bucket{{le=\"1\"}} {round}\nh_bucket{{le=\"+Inf\"}} {round}\n\
                 h_sum {round}\nh_count {round}\n",
                round + 10
            );
            let r = s.req("PUT", &format!("/metrics/job/j/instance/i{g}"), &body);
            assert_eq!(r.status, 200, "{}", r.text());
        }
        let full = s.req("GET", "/metrics", "").text();
        assert!(full.contains(&format!("# HELP m help {round}\n")), "{full}");
        let text = s.scrape();
        for g in 0..8 {
            let labels = format!("instance=\"i{g}\",job=\"j\"");
            for line in [
                format!("m{{{labels},k=\"a\"}} {round}\n"),
                format!("m{{{labels},k=\"b\"}} {}\n", round + 10),
                format!("h_bucket{{{labels},le=\"+Inf\"}} {round}\n"),
                format!("h_count{{{labels}}} {round}\n"),
            ] {
                assert!(text.contains(&line), "round {round}: {line} in {text}");
            }
        }
    }
    // A series more is a different identity: stored through the general path.
    let r = s.req("PUT", "/metrics/job/j/instance/i0", "# TYPE m gauge\nm{k=\"c\"} 7\n");
    assert_eq!(r.status, 200);
    let text = s.scrape();
    assert!(text.contains("m{instance=\"i0\",job=\"j\",k=\"c\"} 7\n"), "{text}");
    assert!(!text.contains("h_count{instance=\"i0\""), "PUT replaced the group: {text}");
}

/// The core that owns a group parses and stores its pushes (another core
/// hands it the body): every answer is the same whichever core that is.
#[test]
fn pushes_get_the_same_answers_whichever_core_owns_the_group() {
    let s = Server::start(&["--runtime.cores=2"]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, b"# TYPE z gauge\nz 3\n").unwrap();
    let gz = gz.finish().unwrap();
    for g in 0..8 {
        let path = format!("/metrics/job/x/instance/i{g}");
        assert_eq!(s.req("PUT", &path, "# TYPE a gauge\na 1\n").status, 200);
        let r = s.req("PUT", &path, "a 0x10\n");
        assert_eq!(
            (r.status, r.text().as_str()),
            (400, "text format parsing error in line 1: expected float as value, got \"0x10\"\n")
        );
        let r = s.req_with("POST", &path, b"b 2\n", &[("X-Pushgate-TTL", "soon")]);
        assert_eq!(r.status, 400);
        assert!(r.text().starts_with("invalid X-Pushgate-TTL \"soon\""), "{}", r.text());
        let r = s.req_with("POST", &path, &gz, &[("Content-Encoding", "gzip")]);
        assert_eq!(r.status, 200, "{}", r.text());
        let r = s.req("POST", &path, "a 5 1000\n");
        assert_eq!(r.status, 400);
        assert!(r.text().ends_with("pushed metrics must not have timestamps\n"), "{}", r.text());
        assert_eq!(s.req("POST", &path, "# TYPE a gauge\na 2\n").status, 200);
    }
    let text = s.scrape();
    for g in 0..8 {
        let labels = format!("instance=\"i{g}\",job=\"x\"");
        for line in [format!("a{{{labels}}} 2\n"), format!("z{{{labels}}} 3\n")] {
            assert!(text.contains(&line), "{line} in {text}");
        }
        assert!(!text.contains(&format!("b{{{labels}}}")), "{text}");
    }
}
