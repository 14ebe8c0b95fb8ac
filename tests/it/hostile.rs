//! Hostile input: malformed, oversized, slow and malicious requests get a
//! clear answer, and never touch data already stored.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::util::{parse_responses, Server};

fn victim_lines(s: &Server) -> String {
    s.scrape().lines().filter(|l| l.contains("job=\"victim\"")).map(|l| format!("{l}\n")).collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// At least 1,000 requests of more than 20 kinds; afterwards the server
/// answers and every group stored before scrapes byte-identically.
#[test]
fn hostile_suite_leaves_stored_groups_untouched() {
    let s = Server::start(&[
        "--runtime.max-decompressed-bytes=100000",
        "--runtime.max-body-bytes=1000000",
        "--runtime.cores=2",
    ]);
    let victim = "# HELP v Victim gauge.\n# TYPE v gauge\nv{a=\"1\"} 1\nv{a=\"2\"} 2\n# TYPE c counter\nc 5\n\
                  # TYPE hh histogram\nhh_bucket{le=\"1\"} 1\nhh_sum 1\nhh_count 1\n";
    assert_eq!(s.req("PUT", "/metrics/job/victim/instance/x", victim).status, 200);
    assert_eq!(s.req("PUT", "/metrics/job/victim", "w 1\n").status, 200);
    let before = victim_lines(&s);
    let many_labels: String = {
        let labels: Vec<String> = (0..100_000).map(|i| format!("l{i}=\"v\"")).collect();
        format!("m{{{}}} 1\n", labels.join(","))
    };
    let bomb = gzip(&vec![b'a'; 10_000_000]);
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let mut statuses: Vec<(String, u16)> = Vec::new();
    let mut record = |kind: &str, status: u16| statuses.push((kind.to_owned(), status));
    for round in 0..50 {
        let job = format!("/metrics/job/hostile{round}");
        // Bodies that must be refused with 4xx.
        type Case<'a> = (&'a str, &'a str, Vec<u8>, Vec<(&'a str, &'a str)>);
        let cases: Vec<Case<'_>> = vec![
            ("garbage body", "PUT", garbage.clone(), vec![]),
            ("invalid utf8 label value", "PUT", b"m{l=\"\xff\xfe\"} 1\n".to_vec(), vec![]),
            ("duplicate labels", "PUT", b"m{l=\"a\",l=\"b\"} 1\n".to_vec(), vec![]),
            ("timestamp", "POST", b"m 1 1700000000000\n".to_vec(), vec![]),
            ("huge exponent", "PUT", b"m 1e99999\n".to_vec(), vec![]),
            ("unterminated", "PUT", b"m{l=\"a\" 1\n".to_vec(), vec![]),
            ("type clash with victim", "PUT", b"# TYPE v counter\nv 1\n".to_vec(), vec![]),
            ("gzip bomb", "PUT", bomb.clone(), vec![("Content-Encoding", "gzip")]),
            ("not gzip", "PUT", b"plain text".to_vec(), vec![("Content-Encoding", "gzip")]),
            ("unknown encoding", "PUT", b"m 1\n".to_vec(), vec![("Content-Encoding", "br")]),
            ("body over limit", "PUT", vec![b'#'; 1_000_001], vec![]),
            ("suffix clash", "PUT", b"hh_count 1\n".to_vec(), vec![]),
        ];
        for (kind, method, body, headers) in cases {
            let r = s.req_with(method, &job, &body, &headers);
            assert!((400..500).contains(&r.status), "{kind}: {} {}", r.status, r.text());
            record(kind, r.status);
        }
        // Refused by the path.
        for (kind, path) in [
            ("invalid utf8 in path", format!("{job}/l/%ff%fe")),
            ("bad percent escape", format!("{job}/l/%zz")),
            ("odd components", format!("{job}/l")),
            ("reserved label", format!("{job}/__x/1")),
            ("bad base64", format!("{job}/l@base64/!!")),
            ("nested base64 job", "/metrics/job@base64/WVdKag%3D%3D%3D/x@base64/=%3D".to_owned()),
        ] {
            let r = s.req("PUT", &path, "m 1\n");
            // Nested base64 is decoded once: a valid (odd) key, stored apart from the victim.
            let ok = if kind == "nested base64 job" { 200..500 } else { 300..500 };
            assert!(ok.contains(&r.status), "{kind}: {}", r.status);
            record(kind, r.status);
        }
        // The trap: the victim's timestamp series claimed by another group.
        let r = s.req("PUT", "/metrics/job/victim/instance@base64/=", "w 2\n");
        assert_eq!(r.status, 400, "duplicate series after label overriding");
        record("duplicate series across groups", r.status);
        // Valid but extreme values go to their own group and must not disturb the victim.
        let r = s.req(
            "PUT",
            &format!("{job}/kind/values"),
            "x NaN\ny +Inf\nz -0\nd 4.9e-324\ne 1.7976931348623157e308\n",
        );
        assert_eq!(r.status, 200);
        record("extreme floats", r.status);
        if round % 10 == 0 {
            let r = s.req("PUT", &format!("{job}/kind/labels"), &many_labels);
            record("100k labels", r.status);
        }
        // Raw-socket abuse.
        for (kind, wire) in [
            ("binary request line", garbage[..512].to_vec()),
            ("lying content-length", b"PUT /metrics/job/victim HTTP/1.1\r\nContent-Length: 999\r\n\r\nv 666\n".to_vec()),
            ("truncated chunked", b"PUT /metrics/job/victim HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nv 66".to_vec()),
            ("broken chunked", b"PUT /metrics/job/victim HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nv 666\n\r\n0\r\n\r\n".to_vec()),
            ("cl+te", b"PUT /metrics/job/victim HTTP/1.1\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nv 666\n\r\n0\r\n\r\n".to_vec()),
            ("absurd header count", {
                let mut w = b"GET /metrics HTTP/1.1\r\n".to_vec();
                for i in 0..500 {
                    w.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
                }
                w.extend_from_slice(b"\r\n");
                w
            }),
            ("path traversal", b"GET /static/../../../../etc/passwd HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec()),
        ] {
            let out = s.raw(&wire);
            let status = parse_responses(&mut out.clone()).first().map(|r| r.status).unwrap_or(0);
            assert!(status == 0 || (300..500).contains(&status), "{kind}: {status}");
            record(kind, status);
        }
    }
    // A pipelined flood on one connection, all answered.
    let mut flood = Vec::new();
    for i in 0..500 {
        flood.extend_from_slice(format!("GET /-/healthy HTTP/1.1\r\nHost: {i}\r\n\r\n").as_bytes());
    }
    flood.extend_from_slice(b"GET /-/healthy HTTP/1.1\r\nConnection: close\r\n\r\n");
    let mut out = s.raw(&flood);
    assert_eq!(parse_responses(&mut out).len(), 501);
    record("pipelined flood", 200);

    let kinds: std::collections::BTreeSet<&str> =
        statuses.iter().map(|(k, _)| k.as_str()).collect();
    assert!(statuses.len() >= 1000, "{} requests", statuses.len());
    assert!(kinds.len() >= 20, "{} kinds", kinds.len());
    assert_eq!(s.req("GET", "/-/healthy", "").status, 200);
    assert_eq!(victim_lines(&s), before, "stored groups changed");
    let all = s.req("GET", "/metrics", "");
    assert_eq!(all.status, 200, "scrapes must keep working");
    let own = all.text();
    for reason in ["decompressed_too_large", "unsupported_encoding", "body_too_large", "bad_chunk"]
    {
        assert!(
            own.contains(&format!("pushgate_refused_requests_total{{reason=\"{reason}\"}}")),
            "{reason}"
        );
    }
}

#[test]
fn slowloris_gets_408_and_idle_connections_close() {
    let s = Server::start(&["--runtime.request-timeout=300ms", "--runtime.idle-timeout=500ms"]);
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let t = Instant::now();
    c.write_all(b"PUT /metrics/job/slow HTTP/1.1\r\nHost: x\r\nContent-Le").unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    assert!(t.elapsed() < Duration::from_secs(3));
    // Idle keep-alive connection: closed without an answer.
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let t = Instant::now();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    assert!(out.is_empty());
    assert!(t.elapsed() >= Duration::from_millis(400) && t.elapsed() < Duration::from_secs(3));
    let text = s.req("GET", "/metrics", "").text();
    assert!(
        text.contains("pushgate_refused_requests_total{reason=\"request_timeout\"} 1"),
        "{text}"
    );
}

#[test]
fn connection_limit_answers_429() {
    let s = Server::start(&["--runtime.max-connections=2", "--runtime.cores=1"]);
    let _a = TcpStream::connect(&s.addr).unwrap();
    let _b = TcpStream::connect(&s.addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mut c = TcpStream::connect(&s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 429"), "{out}");
    drop((_a, _b));
    assert!(s.wait_until(|s| s.req("GET", "/-/healthy", "").status == 200));
}

#[test]
fn size_limits_answer_431_and_413() {
    let s = Server::start(&["--runtime.max-header-bytes=1024", "--runtime.max-body-bytes=100"]);
    let big = "x".repeat(2000);
    let r = s.req_with("GET", "/metrics", b"", &[("X-Big", &big)]);
    assert_eq!(r.status, 431);
    let r = s.req("PUT", "/metrics/job/x", &"a 1\n".repeat(50));
    assert_eq!(r.status, 413);
    assert_eq!(s.req("PUT", "/metrics/job/x", "a 1\n").status, 200);
}

#[test]
fn push_limits_refuse_with_clear_messages_and_count_reasons() {
    let s = Server::start(&[
        "--runtime.max-labels-per-series=2",
        "--runtime.max-label-value-bytes=8",
        "--runtime.max-series-per-push=3",
        "--runtime.max-groups=2",
        "--runtime.cores=2",
    ]);
    let r = s.req("PUT", "/metrics/job/l", "a{x=\"1\",y=\"2\",z=\"3\"} 1\n");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("--runtime.max-labels-per-series"), "{}", r.text());
    let r = s.req("PUT", "/metrics/job/l", "a{x=\"123456789\"} 1\n");
    assert_eq!(r.status, 400);
    let r = s.req("PUT", "/metrics/job/l", "a 1\nb 1\nc 1\nd 1\n");
    assert_eq!(r.status, 413);
    assert_eq!(s.req("PUT", "/metrics/job/g1", "a 1\n").status, 200);
    assert_eq!(s.req("PUT", "/metrics/job/g2", "a 1\n").status, 200);
    let r = s.req("PUT", "/metrics/job/g3", "a 1\n");
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.text().contains("--runtime.max-groups"));
    // Existing groups can still be pushed to; deleting one makes room.
    assert_eq!(s.req("PUT", "/metrics/job/g1", "a 2\n").status, 200);
    assert_eq!(s.req("DELETE", "/metrics/job/g2", "").status, 202);
    assert_eq!(s.req("PUT", "/metrics/job/g3", "a 1\n").status, 200);
    let text = s.req("GET", "/metrics", "").text();
    for reason in ["too_many_labels", "label_value_too_long", "too_many_series"] {
        assert!(
            text.contains(&format!("pushgate_refused_requests_total{{reason=\"{reason}\"}} 1")),
            "{reason}: {text}"
        );
    }
}

/// Peak resident memory of a process in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_gigabyte_gzip_bomb_gets_413_and_memory_stays_bounded() {
    // 16 gzip members of 64 MiB of zeros each: one 1 GiB-expanding stream
    // of about 1 MiB on the wire.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&vec![0u8; 64 << 20]).unwrap();
    let member = e.finish().unwrap();
    let bomb: Vec<u8> = member.iter().copied().cycle().take(member.len() * 16).collect();
    assert!(bomb.len() < 2 << 20, "bomb is {} bytes", bomb.len());
    let s = Server::start(&["--runtime.max-decompressed-bytes=16777216"]);
    assert_eq!(s.req("PUT", "/metrics/job/kept", "kept 1\n").status, 200);
    let before = peak_rss_kib(s.pid());
    for _ in 0..3 {
        let r = s.req_with("PUT", "/metrics/job/bomb", &bomb, &[("Content-Encoding", "gzip")]);
        assert_eq!(r.status, 413, "{}", r.text());
        assert!(r.text().contains("decompressed request body exceeds"), "{}", r.text());
    }
    let grown = peak_rss_kib(s.pid()).saturating_sub(before);
    // The body (1 MiB), the 16 MiB bound and allocator slack; never 1 GiB.
    assert!(grown < 128 << 10, "peak RSS grew by {grown} KiB");
    assert!(s.scrape().contains("kept{instance=\"\",job=\"kept\"} 1"));
}
