use crate::util::{parse_responses, Server};

#[test]
fn pipelined_requests_answered_in_order() {
    let s = Server::start(&[]);
    let mut wire = Vec::new();
    for i in 0..50 {
        let body = format!("p{i} {i}\n");
        wire.extend_from_slice(
            format!("PUT /metrics/job/pipe/instance/i{i} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                .as_bytes(),
        );
    }
    wire.extend_from_slice(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut out = s.raw(&wire);
    let resps = parse_responses(&mut out);
    assert_eq!(resps.len(), 51);
    assert!(resps[..50].iter().all(|r| r.status == 200));
    let text = resps[50].text();
    for i in 0..50 {
        assert!(text.contains(&format!("p{i}{{instance=\"i{i}\",job=\"pipe\"}} {i}\n")), "{i}");
    }
}

#[test]
fn chunked_body_and_expect_continue() {
    let s = Server::start(&[]);
    let wire = b"PUT /metrics/job/ch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n\
                 4\r\na 1\n\r\n4\r\nb 2\n\r\n0\r\n\r\n\
                 GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut out = s.raw(wire);
    let resps = parse_responses(&mut out);
    assert_eq!(resps[0].status, 200);
    let text = resps[1].text();
    assert!(
        text.contains("a{instance=\"\",job=\"ch\"} 1\n")
            && text.contains("b{instance=\"\",job=\"ch\"} 2\n"),
        "{text}"
    );
}

#[test]
fn broken_framing_is_refused_and_nothing_stored() {
    let s = Server::start(&[]);
    let cases: [&[u8]; 3] = [
        b"PUT /metrics/job/bad HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na 1\n\r\n0\r\n\r\n",
        b"PUT /metrics/job/bad HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na 1\nXX0\r\n\r\n",
        b"PUT /metrics/job/bad HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
    ];
    for wire in cases {
        let mut out = s.raw(wire);
        let resps = parse_responses(&mut out);
        assert_eq!(resps[0].status, 400, "{}", String::from_utf8_lossy(wire));
    }
    assert_eq!(s.scrape(), "");
}

#[test]
fn request_split_at_every_byte_still_works() {
    use std::io::{Read, Write};
    let s = Server::start(&[]);
    let wire = b"PUT /metrics/job/split HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na 1\n\r\n0\r\n\r\n\
                 GET /-/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    for cut in 1..wire.len() {
        let mut c = std::net::TcpStream::connect(&s.addr).unwrap();
        c.set_nodelay(true).unwrap();
        c.write_all(&wire[..cut]).unwrap();
        c.flush().unwrap();
        // Give the server a chance to read the first part on its own.
        if cut % 16 == 0 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        c.write_all(&wire[cut..]).unwrap();
        let mut out = Vec::new();
        c.read_to_end(&mut out).unwrap();
        let resps = parse_responses(&mut out);
        assert_eq!(resps.iter().map(|r| r.status).collect::<Vec<_>>(), [200, 200], "cut {cut}");
    }
    assert!(s.scrape().contains("a{instance=\"\",job=\"split\"} 1"));
}

#[test]
fn thousands_of_idle_connections_do_not_block_service() {
    let s = Server::start(&["--runtime.cores=2"]);
    // Stay under the fd limit the server inherits (1024 on some CI hosts).
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse::<usize>().ok())
        })
        .unwrap_or(1024);
    let n = (limit * 3 / 4).min(2000);
    let idle: Vec<std::net::TcpStream> =
        (0..n).filter_map(|_| std::net::TcpStream::connect(&s.addr).ok()).collect();
    assert!(idle.len() >= n * 9 / 10, "only {} of {n} connections opened", idle.len());
    let t = std::time::Instant::now();
    assert_eq!(s.req("PUT", "/metrics/job/busy", "a 1\n").status, 200);
    assert_eq!(s.req("GET", "/-/healthy", "").status, 200);
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
    drop(idle);
}
