use std::path::PathBuf;

use crate::util::Server;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pushgate-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn file_flag(p: &std::path::Path) -> String {
    format!("--persistence.file={}", p.display())
}

const BODIES: &[(&str, &str)] = &[
    ("/metrics/job/a", "# HELP m Some gauge.\n# TYPE m gauge\nm{x=\"1\"} 1.5\n"),
    ("/metrics/job/b/instance/i", "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 2\nh_count 3\n"),
    (
        "/metrics/job@base64/L3Zhcg/l@base64/=",
        "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 2\n",
    ),
];

#[test]
fn graceful_restart_keeps_scrape_identical_including_push_times() {
    let d = scratch("graceful");
    let file = d.join("pg.data");
    let s = Server::start(&[&file_flag(&file), "--runtime.cores=2"]);
    for (path, body) in BODIES {
        assert_eq!(s.req("PUT", path, body).status, 200);
    }
    // A failed push records a failure time, which must survive too.
    assert_eq!(s.req("PUT", "/metrics/job/b/instance/i", "# TYPE m counter\nm 1\n").status, 400);
    let before = s.scrape();
    let api_before = s.req("GET", "/api/v1/metrics", "").text();
    s.terminate();
    assert!(file.exists(), "shutdown must write the snapshot");
    let s = Server::start(&[&file_flag(&file), "--runtime.cores=3"]);
    assert_eq!(s.scrape(), before);
    assert_eq!(s.req("GET", "/api/v1/metrics", "").text(), api_before);
    // The restored index still enforces consistency.
    assert_eq!(s.req("PUT", "/metrics/job/z", "# TYPE m counter\nm 1\n").status, 400);
}

#[test]
fn interval_writes_only_after_changes() {
    let d = scratch("interval");
    let file = d.join("pg.data");
    let s = Server::start(&[&file_flag(&file), "--persistence.interval=100ms"]);
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert!(!file.exists(), "nothing changed, nothing written");
    s.req("PUT", "/metrics/job/a", "a 1\n");
    assert!(s.wait_until(|_| file.exists()), "snapshot after a change");
    let first = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(std::fs::metadata(&file).unwrap().modified().unwrap(), first, "no change, no write");
}

#[test]
fn sigkill_in_snapshot_mode_keeps_everything_before_the_last_snapshot() {
    let d = scratch("sigkill");
    let file = d.join("pg.data");
    for round in 0..3 {
        let s = Server::start(&[&file_flag(&file), "--persistence.interval=50ms"]);
        for i in 0..30 {
            let r = s.req("PUT", &format!("/metrics/job/r{round}/instance/i{i}"), "v 1\n");
            assert_eq!(r.status, 200);
        }
        // Wait for a snapshot holding this round's pushes, then push more and kill.
        assert!(s.wait_until(|_| {
            std::fs::read(&file)
                .map(|b| b.windows(2).any(|w| w == format!("r{round}").as_bytes()))
                .unwrap_or(false)
        }));
        std::thread::sleep(std::time::Duration::from_millis(200));
        for i in 0..10 {
            s.req("PUT", &format!("/metrics/job/late{round}/instance/i{i}"), "v 1\n");
        }
        drop(s); // SIGKILL
        let s = Server::start(&[&file_flag(&file)]);
        let text = s.scrape();
        for r in 0..=round {
            for i in 0..30 {
                assert!(
                    text.contains(&format!("v{{instance=\"i{i}\",job=\"r{r}\"}} 1")),
                    "round {r} i{i} lost"
                );
            }
        }
        assert!(!s.log().contains("damaged"), "{}", s.log());
        drop(s);
    }
    // No temporary files left behind by completed writes.
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("in_progress"))
        .collect();
    assert!(leftovers.len() <= 1, "{leftovers:?}");
}

fn assert_starts_and_keeps(name: &str, prepare: impl FnOnce(&std::path::Path), expect_log: &str) {
    let d = scratch(name);
    let file = d.join("pg.data");
    prepare(&file);
    let before: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
    let s = Server::start(&[&file_flag(&file)]);
    assert_eq!(s.req("PUT", "/metrics/job/x", "a 1\n").status, 200, "server must run");
    assert!(s.log().contains(expect_log), "log lacks {expect_log:?}: {}", s.log());
    // Whatever was there is still on disk (possibly under a new name).
    let after: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(after.len() >= before.len(), "{before:?} -> {after:?}");
    s.terminate();
}

#[test]
fn damaged_files_are_kept_and_the_server_runs() {
    let good = {
        let d = scratch("good-source");
        let file = d.join("pg.data");
        let s = Server::start(&[&file_flag(&file)]);
        for (path, body) in BODIES {
            s.req("PUT", path, body);
        }
        s.terminate();
        std::fs::read(&file).unwrap()
    };
    let g = good.clone();
    assert_starts_and_keeps(
        "truncated",
        |f| std::fs::write(f, &g[..g.len() / 2]).unwrap(),
        "damaged",
    );
    let g = good.clone();
    assert_starts_and_keeps(
        "flipped",
        |f| {
            let mut b = g.clone();
            let n = b.len();
            b[n / 2] ^= 0xff;
            std::fs::write(f, b).unwrap()
        },
        "damaged",
    );
    assert_starts_and_keeps("empty", |f| std::fs::write(f, b"").unwrap(), "damaged");
    assert_starts_and_keeps("directory", |f| std::fs::create_dir(f).unwrap(), "could not load");
}

#[test]
fn truncated_file_recovers_the_intact_groups() {
    let d = scratch("recover");
    let file = d.join("pg.data");
    let s = Server::start(&[&file_flag(&file)]);
    for i in 0..20 {
        s.req("PUT", &format!("/metrics/job/g{i}"), "a 1\n");
    }
    s.terminate();
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 30]).unwrap();
    let s = Server::start(&[&file_flag(&file)]);
    let text = s.scrape();
    let n = text.lines().filter(|l| l.starts_with("a{")).count();
    assert!(n >= 18, "recovered only {n} groups");
    assert!(s.log().contains("groups_recovered"), "{}", s.log());
}

#[test]
fn read_only_directory_logs_and_keeps_running() {
    use std::os::unix::fs::PermissionsExt;
    let d = scratch("readonly");
    let mut perms = std::fs::metadata(&d).unwrap().permissions();
    perms.set_mode(0o555);
    std::fs::set_permissions(&d, perms.clone()).unwrap();
    // root ignores directory modes; /proc/self is read-only for everyone.
    let file = if is_root() { PathBuf::from("/proc/self/pg.data") } else { d.join("pg.data") };
    let s = Server::start(&[&file_flag(&file), "--persistence.interval=50ms"]);
    assert_eq!(s.req("PUT", "/metrics/job/x", "a 1\n").status, 200);
    assert!(s.wait_until(|s| s.log().contains("could not persist metrics")), "{}", s.log());
    assert_eq!(s.req("GET", "/-/healthy", "").status, 200);
    perms.set_mode(0o755);
    std::fs::set_permissions(&d, perms).unwrap();
}

fn is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false)
}

/// WAL mode: every push answered 2xx survives SIGKILL with its last acknowledged value.
#[test]
fn sigkill_in_wal_mode_keeps_every_acknowledged_push() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let d = scratch("wal-kill");
    let file = d.join("pg.data");
    let flags =
        [file_flag(&file), "--persistence.mode=wal".to_owned(), "--runtime.cores=2".to_owned()];
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    for round in 0..3 {
        let s = Arc::new(Server::start(&flags));
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let (s, stop) = (s.clone(), stop.clone());
                std::thread::spawn(move || {
                    // acked[g] = last value answered 200 for group g of this worker.
                    let mut acked = vec![0u64; 8];
                    let mut v = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        v += 1;
                        let g = (v % 8) as usize;
                        let path = format!("/metrics/job/w{w}/instance/g{g}");
                        match std::panic::catch_unwind(|| s.req("PUT", &path, &format!("v {v}\n")))
                        {
                            Ok(r) if r.status == 200 => acked[g] = v,
                            _ => break,
                        }
                    }
                    acked
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(300 + 100 * round));
        // SIGKILL while the workers are still pushing.
        let pid = s.pid();
        let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        stop.store(true, Ordering::Relaxed);
        let acked: Vec<Vec<u64>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        drop(s);
        let s = Server::start(&flags);
        let text = s.scrape();
        let mut checked = 0;
        for (w, groups) in acked.iter().enumerate() {
            for (g, &last) in groups.iter().enumerate().filter(|(_, v)| **v > 0) {
                let prefix = format!("v{{instance=\"g{g}\",job=\"w{w}\"}} ");
                let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| {
                    panic!("round {round}: acknowledged group w{w}/g{g} lost\n{text}")
                });
                let stored: u64 = line[prefix.len()..].parse().unwrap();
                // The value in flight when the server died may or may not have landed.
                assert!(
                    stored >= last && stored <= last + 8,
                    "w{w}/g{g}: stored {stored}, acked {last}"
                );
                checked += 1;
            }
        }
        assert!(checked > 0, "no push was acknowledged");
        assert!(!s.log().contains("damaged"), "{}", s.log());
    }
}

/// A file written by the real Go Pushgateway 1.5.1 imports with every group,
/// label, value and push time (the scrape matches the one the Go server
/// served before it stopped), and is rewritten in our format with the
/// original kept beside it.
#[test]
fn go_pushgateway_gob_file_imports_exactly() {
    let d = scratch("gob");
    let file = d.join("pg.data");
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    std::fs::copy(data.join("pushgateway-1.5.1.gob"), &file).unwrap();
    let theirs = std::fs::read_to_string(data.join("pushgateway-1.5.1.gob.scrape")).unwrap();
    let want = crate::util::pushed_lines(&theirs);
    let s = Server::start(&[&file_flag(&file)]);
    assert!(s.log().contains("groups=7"), "{}", s.log());
    assert_eq!(s.scrape(), want);
    s.terminate();
    assert!(d.join("pg.data.pushgateway-gob").exists(), "the original must be kept");
    // From now on the file is ours, and still holds everything.
    let s = Server::start(&[&file_flag(&file)]);
    assert!(s.log().contains("Restored persisted metrics"), "{}", s.log());
    assert_eq!(s.scrape(), want);
}
