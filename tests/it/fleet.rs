//! Fleet operations: TTL expiry and selective delete (Pushgate only).

use std::time::{Duration, Instant};

use crate::util::Server;

#[test]
fn groups_expire_after_their_ttl_and_pushes_refresh_it() {
    let s = Server::start(&["--runtime.group-ttl=2s", "--web.enable-admin-api"]);
    let t0 = Instant::now();
    assert_eq!(s.req("PUT", "/metrics/job/short", "a 1\n").status, 200);
    // Per-push override, and "0" opting a group out of the default.
    let r = s.req_with("PUT", "/metrics/job/long", b"a 1\n", &[("X-Pushgate-TTL", "1h")]);
    assert_eq!(r.status, 200);
    let r = s.req_with("PUT", "/metrics/job/forever", b"a 1\n", &[("X-Pushgate-TTL", "0")]);
    assert_eq!(r.status, 200);
    let r = s.req_with("PUT", "/metrics/job/bad", b"a 1\n", &[("X-Pushgate-TTL", "soon")]);
    assert_eq!(r.status, 400);
    let api = s.req("GET", "/api/v1/metrics", "").text();
    assert!(api.contains("\"expires_at\":"), "{api}");
    // Refreshing `short` after 1 s moves its deadline.
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(s.req("POST", "/metrics/job/short", "b 1\n").status, 200);
    let refreshed = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(s.scrape().contains("job=\"short\""), "expired despite the refresh");
    assert!(s.wait_until(|s| !s.scrape().contains("job=\"short\"")));
    let gone_after = refreshed.elapsed();
    assert!(
        gone_after >= Duration::from_millis(1800) && gone_after < Duration::from_millis(3500),
        "{gone_after:?}"
    );
    let text = s.scrape();
    assert!(text.contains("job=\"long\"") && text.contains("job=\"forever\""), "{text}");
    let all = s.req("GET", "/metrics", "").text();
    assert!(all.contains("pushgate_expired_groups_total 1"), "{all}");
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[test]
fn ttl_survives_a_restart() {
    let d = std::env::temp_dir().join(format!("pushgate-it-ttl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let flag = format!("--persistence.file={}", d.join("pg.data").display());
    let s = Server::start(&[&flag]);
    let r = s.req_with("PUT", "/metrics/job/t", b"a 1\n", &[("X-Pushgate-TTL", "2s")]);
    assert_eq!(r.status, 200);
    s.req("PUT", "/metrics/job/keep", "a 1\n");
    s.terminate();
    let s = Server::start(&[&flag]);
    assert!(s.scrape().contains("job=\"t\""));
    assert!(s.wait_until(|s| !s.scrape().contains("job=\"t\"")), "restored deadline not honoured");
    assert!(s.scrape().contains("job=\"keep\""));
}

#[test]
fn delete_by_labels_across_shards_answers_the_count() {
    let s = Server::start(&["--web.enable-admin-api", "--runtime.cores=3"]);
    for i in 0..30 {
        let job = if i % 3 == 0 { "nightly" } else { "hourly" };
        assert_eq!(
            s.req("PUT", &format!("/metrics/job/{job}/instance/i{i}/env/prod"), "a 1\n").status,
            200
        );
    }
    let r = s.req("DELETE", "/api/v1/admin/groups?job=nightly", "");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "{\"status\":\"success\",\"data\":{\"deleted\":10}}");
    let text = s.scrape();
    assert!(!text.contains("job=\"nightly\"") && text.contains("job=\"hourly\""));
    let r = s.req("DELETE", "/api/v1/admin/groups?job=hourly&instance=i1", "");
    assert_eq!(r.text(), "{\"status\":\"success\",\"data\":{\"deleted\":1}}");
    assert_eq!(s.req("DELETE", "/api/v1/admin/groups", "").status, 400);
    let s = Server::start(&[]);
    assert_eq!(s.req("DELETE", "/api/v1/admin/groups?job=x", "").status, 404, "admin-gated");
}

/// Correctness only: how long a wipe of 100k groups takes is measured by
/// `benches/load.sh` on a release build, not asserted here.
#[test]
fn wipe_under_push_load_removes_every_group() {
    let s = std::sync::Arc::new(Server::start(&["--web.enable-admin-api", "--runtime.cores=2"]));
    let mut wire = Vec::with_capacity(20_000 * 80);
    for i in 0..20_000 {
        wire.extend_from_slice(
            format!("PUT /metrics/job/w/instance/i{i} HTTP/1.1\r\nContent-Length: 4\r\n\r\na 1\n")
                .as_bytes(),
        );
    }
    wire.extend_from_slice(b"GET /-/ready HTTP/1.1\r\nConnection: close\r\n\r\n");
    let out = s.raw(&wire);
    assert!(out.ends_with(b"OK"), "populating failed");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (s, stop) = (s.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                s.req("PUT", &format!("/metrics/job/load/instance/{}", n % 50), "b 1\n");
                n += 1;
            }
        })
    };
    assert_eq!(s.req("PUT", "/api/v1/admin/wipe", "").status, 202);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    load.join().unwrap();
    assert!(!s.scrape().contains("job=\"w\""));
    // The index forgot them too: the same names may now be pushed with another type.
    assert_eq!(s.req("PUT", "/metrics/job/after", "# TYPE a counter\na 1\n").status, 200);
}
