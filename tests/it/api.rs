use crate::util::Server;

#[test]
fn api_metrics_shows_groups_families_and_values() {
    let s = Server::start(&[]);
    let body = "# HELP g A gauge.\n# TYPE g gauge\ng{l=\"<&>\"} 1.5\n# TYPE s summary\ns{quantile=\"0.5\"} 0.2\ns_sum 10\ns_count 50\n";
    assert_eq!(s.req("PUT", "/metrics/job/j/instance/i", body).status, 200);
    let r = s.req("GET", "/api/v1/metrics", "");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let t = r.text();
    // A family's keys in the Go server's struct order.
    assert!(t.starts_with("{\"status\":\"success\",\"data\":[{\"g\":{\"time_stamp\":\""), "{t}");
    assert!(t.contains("\"type\":\"GAUGE\",\"help\":\"A gauge.\",\"metrics\":[{"), "{t}");
    assert!(t.contains("\"labels\":{\"instance\":\"i\",\"job\":\"j\",\"l\":\"\\u003c\\u0026\\u003e\"},\"value\":\"1.5\""), "{t}");
    assert!(t.contains("\"count\":\"50\",\"labels\":{\"instance\":\"i\",\"job\":\"j\"},\"quantiles\":{\"0.5\":\"0.2\"},\"sum\":\"10\""), "{t}");
    assert!(t.contains("\"last_push_successful\":true"), "{t}");
}

#[test]
fn api_status_lists_flags_as_go_strings() {
    let s = Server::start(&["--web.enable-admin-api"]);
    let t = s.req("GET", "/api/v1/status", "").text();
    assert!(t.contains("\"persistence.interval\":\"5m0s\""), "{t}");
    assert!(t.contains("\"web.enable-admin-api\":\"true\""), "{t}");
    assert!(t.contains("\"build_information\":{\"branch\""), "{t}");
    assert!(t.contains("\"start_time\":\""), "{t}");
}

#[test]
fn wipe_needs_admin_flag_and_empties_every_shard() {
    let s = Server::start(&[]);
    assert_eq!(s.req("PUT", "/api/v1/admin/wipe", "").status, 404);
    let s = Server::start(&["--web.enable-admin-api", "--runtime.cores=3"]);
    for i in 0..20 {
        s.req("PUT", &format!("/metrics/job/w{i}"), "a 1\n");
    }
    assert_eq!(s.req("PUT", "/api/v1/admin/wipe", "").status, 202);
    assert_eq!(s.scrape(), "");
    let r = s.req("POST", "/api/v1/admin/wipe", "");
    assert_eq!((r.status, r.header("allow")), (405, Some("OPTIONS, PUT")));
}

#[test]
fn health_ready_and_lifecycle() {
    let mut s = Server::start(&[]);
    let r = s.req("GET", "/-/healthy", "");
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
    assert_eq!(s.req("GET", "/-/ready", "").status, 200);
    let r = s.req("POST", "/-/quit", "");
    assert_eq!((r.status, r.text().as_str()), (403, "Lifecycle API is not enabled."));
    assert!(!s.exited());
    let mut s = Server::start(&["--web.enable-lifecycle"]);
    let r = s.req("PUT", "/-/quit", "");
    assert_eq!((r.status, r.text().as_str()), (200, "Requesting termination... Goodbye!"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !s.exited() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(s.exited(), "server did not exit after /-/quit");
}

#[test]
fn shutdown_closes_idle_keep_alive_connections_on_every_core() {
    use std::io::{Read, Write};
    let mut s = Server::start(&["--web.enable-lifecycle", "--runtime.cores=2"]);
    // Idle connections, some having answered a request (waiting between
    // requests), some never used; the kernel spreads them over both cores.
    let mut idle: Vec<std::net::TcpStream> =
        (0..16).map(|_| std::net::TcpStream::connect(&s.addr).expect("connect")).collect();
    for c in idle.iter_mut().step_by(2) {
        c.write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
        let mut buf = [0u8; 256];
        let n = c.read(&mut buf).expect("read");
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf[..n]));
    }
    assert_eq!(s.req("PUT", "/-/quit", "").status, 200);
    // Each idle connection is closed at once, not after the drain timeout.
    for c in &mut idle {
        c.set_read_timeout(Some(std::time::Duration::from_secs(3))).expect("timeout");
        let mut buf = [0u8; 16];
        assert!(matches!(c.read(&mut buf), Ok(0)), "an idle connection stayed open");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(4);
    while !s.exited() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(s.exited(), "server did not exit with idle connections open");
}

#[test]
fn not_found_method_not_allowed_and_redirects() {
    let s = Server::start(&[]);
    let r = s.req("GET", "/nonexistent", "");
    assert_eq!((r.status, r.text().as_str()), (404, "404 page not found\n"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let r = s.req("GET", "/metrics/job/x", "");
    assert_eq!((r.status, r.header("allow")), (405, Some("DELETE, OPTIONS, POST, PUT")));
    assert_eq!(r.text(), "Method Not Allowed\n");
    let r = s.req("PUT", "/metrics/job/x/a//b", "a 1\n");
    assert_eq!((r.status, r.header("location")), (301, Some("/metrics/job/x/a/b")));
    let r = s.req("POST", "/metrics/job/", "a 1\n");
    assert_eq!((r.status, r.header("location")), (307, Some("/metrics/job")));
    let r = s.req("OPTIONS", "/api/v1/anything", "");
    assert_eq!((r.status, r.header("access-control-allow-origin")), (200, Some("*")));
}

#[test]
fn ui_lists_groups_escaped() {
    let s = Server::start(&[]);
    s.req("PUT", "/metrics/job/ui/l@base64/PHNjcmlwdD4", "a 1\n");
    let r = s.req("GET", "/", "");
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains("&lt;script&gt;"), "{t}");
    assert!(!t.contains("<script>"), "{t}");
}
