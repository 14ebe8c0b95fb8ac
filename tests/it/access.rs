//! `--web.config.file`: TLS and mTLS (with curl and certificates made by
//! openssl in the test), basic auth, roles, headers, rate limit, live reload.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::Server;

/// A scratch directory removed at the end of the test.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("pushgate-access-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, content: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p.display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Makes `<name>.key` and `<name>.crt` in `dir`: signed by `ca` (its name)
/// or self-signed with CA rights when `ca` is `None`.
fn cert(dir: &Dir, name: &str, ca: Option<&str>, san: &str) {
    let key = dir.path(&format!("{name}.key"));
    let crt = dir.path(&format!("{name}.crt"));
    let ext = dir.write(&format!("{name}.ext"), &format!("subjectAltName={san}\n"));
    match ca {
        None => {
            run(Command::new("openssl")
                .args([
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                ])
                .arg(format!("/CN={name}"))
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&crt)
                .arg("-addext")
                .arg(format!("subjectAltName={san}")));
        }
        Some(ca) => {
            let csr = dir.path(&format!("{name}.csr"));
            run(Command::new("openssl")
                .args([
                    "req",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-subj",
                ])
                .arg(format!("/CN={name}"))
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&csr));
            run(Command::new("openssl")
                .args(["x509", "-req", "-days", "2", "-set_serial"])
                .arg(format!(
                    "{}",
                    name.len() * 7919 + name.bytes().map(u64::from).sum::<u64>() as usize
                ))
                .arg("-in")
                .arg(&csr)
                .arg("-CA")
                .arg(dir.path(&format!("{ca}.crt")))
                .arg("-CAkey")
                .arg(dir.path(&format!("{ca}.key")))
                .arg("-out")
                .arg(&crt)
                .arg("-extfile")
                .arg(&ext));
        }
    }
}

/// curl against the server; returns (exit success, HTTP status, body).
fn curl(dir: &Dir, server: &Server, args: &[&str], path: &str) -> (bool, u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}"])
        .arg("--cacert")
        .arg(dir.path("ca.crt"))
        .args(args)
        .arg(format!("https://{}{path}", server.addr))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (out.status.success(), code.trim().parse().unwrap_or(0), body.to_owned())
}

fn tls_dir(name: &str) -> Dir {
    let dir = Dir::new(name);
    cert(&dir, "ca", None, "DNS:test-ca");
    cert(&dir, "server", Some("ca"), "IP:127.0.0.1,DNS:localhost");
    dir
}

#[test]
fn tls_serves_pushes_and_scrapes_and_refuses_plain_http() {
    let dir = tls_dir("tls");
    // Relative paths resolve against the config file's directory.
    let config = dir
        .write("web.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n");
    let s = Server::start(&[&format!("--web.config.file={config}")]);
    let (ok, code, _) =
        curl(&dir, &s, &["-X", "PUT", "--data-binary", "tls_pushed 7\n"], "/metrics/job/tls");
    assert!(ok && code == 200, "push over TLS: {code}");
    let (ok, code, body) = curl(&dir, &s, &[], "/metrics");
    assert!(ok && code == 200, "scrape over TLS: {code}");
    assert!(body.contains("tls_pushed{instance=\"\",job=\"tls\"} 7"), "{body}");
    // TLS 1.2 and 1.3 both work; 1.1 does not.
    assert_eq!(curl(&dir, &s, &["--tls-max", "1.2"], "/-/healthy").1, 200);
    assert_eq!(curl(&dir, &s, &["--tlsv1.3"], "/-/healthy").1, 200);
    assert!(!curl(&dir, &s, &["--tls-max", "1.1", "--tlsv1.1"], "/-/healthy").0);
    // Plain HTTP to the TLS port: Go's answer, in clear.
    let raw =
        String::from_utf8_lossy(&s.raw(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")).into_owned();
    assert!(raw.starts_with("HTTP/1.0 400 Bad Request"), "{raw}");
    assert!(raw.contains("Client sent an HTTP request to an HTTPS server."), "{raw}");
    // A client that does not trust the certificate fails the handshake.
    let untrusted = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-o", "/dev/null"])
        .arg(format!("https://{}/metrics", s.addr))
        .output()
        .unwrap();
    assert!(!untrusted.status.success());
}

#[test]
fn mtls_required_accepts_only_verified_client_certificates() {
    let dir = tls_dir("mtls");
    cert(&dir, "client", Some("ca"), "DNS:client.example");
    cert(&dir, "other", Some("ca"), "DNS:other.example");
    cert(&dir, "rogue", None, "DNS:client.example");
    let config = dir.write(
        "web.yml",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n",
    );
    let s = Server::start(&[&format!("--web.config.file={config}")]);
    let with = |name: &str| {
        let crt = dir.path(&format!("{name}.crt")).display().to_string();
        let key = dir.path(&format!("{name}.key")).display().to_string();
        curl(&dir, &s, &["--cert", &crt, "--key", &key], "/metrics")
    };
    assert_eq!(with("client").1, 200, "a CA-signed client certificate is let in");
    assert_eq!(with("other").1, 200);
    assert!(!with("rogue").0, "a self-signed client certificate is refused");
    let (ok, code, _) = curl(&dir, &s, &[], "/metrics");
    assert!(!ok || code == 0, "no client certificate is refused (got {code})");
    drop(s);

    // client_allowed_sans narrows it to certificates naming an allowed SAN.
    let config = dir.write(
        "web.yml",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: [client.example]\n",
    );
    let s = Server::start(&[&format!("--web.config.file={config}")]);
    let with = |name: &str| {
        let crt = dir.path(&format!("{name}.crt")).display().to_string();
        let key = dir.path(&format!("{name}.key")).display().to_string();
        curl(&dir, &s, &["--cert", &crt, "--key", &key], "/metrics")
    };
    assert_eq!(with("client").1, 200);
    assert!(!with("other").0, "a verified certificate without an allowed SAN is refused");
}

#[test]
fn mtls_optional_lets_clients_without_certificates_in() {
    let dir = tls_dir("mtls-opt");
    cert(&dir, "rogue", None, "DNS:client.example");
    let config = dir.write(
        "web.yml",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n",
    );
    let s = Server::start(&[&format!("--web.config.file={config}")]);
    assert_eq!(curl(&dir, &s, &[], "/metrics").1, 200);
    let crt = dir.path("rogue.crt").display().to_string();
    let key = dir.path("rogue.key").display().to_string();
    assert!(
        !curl(&dir, &s, &["--cert", &crt, "--key", &key], "/metrics").0,
        "a given certificate is still verified"
    );
}

fn basic(user: &str, password: &str) -> String {
    let raw = format!("{user}:{password}");
    // Standard base64 (tests only).
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = raw.as_bytes();
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for j in 0..4 {
            if j <= c.len() {
                out.push(A[(n >> (18 - 6 * j) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

fn hash(pw: &str) -> String {
    bcrypt::hash(pw, 4).unwrap()
}

#[test]
fn basic_auth_right_wrong_missing_with_headers_everywhere() {
    let dir = Dir::new("basic");
    let config = dir.write(
        "web.yml",
        &format!(
            "basic_auth_users:\n  alice: {}\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n    Content-Security-Policy: \"default-src 'self'\"\n",
            hash("wonderland")
        ),
    );
    let s = Server::start(&[&format!("--web.config.file={config}")]);
    let missing = s.req("GET", "/metrics", "");
    assert_eq!(missing.status, 401);
    assert_eq!(missing.header("WWW-Authenticate"), Some("Basic"));
    assert_eq!(missing.text(), "Unauthorized\n");
    assert_eq!(missing.header("X-Frame-Options"), Some("deny"), "headers on 401s too");
    for (user, pw) in [("alice", "wrong"), ("bob", "wonderland"), ("alice", "")] {
        let r = s.req_with("GET", "/-/healthy", b"", &[("Authorization", &basic(user, pw))]);
        assert_eq!(r.status, 401, "{user}:{pw}");
    }
    let r = s.req_with("GET", "/-/healthy", b"", &[("Authorization", "Bearer xyz")]);
    assert_eq!(r.status, 401);
    let auth = basic("alice", "wonderland");
    let put = s.req_with("PUT", "/metrics/job/auth", b"authed 1\n", &[("Authorization", &auth)]);
    assert_eq!(put.status, 200, "{}", put.text());
    let ok = s.req_with("GET", "/metrics", b"", &[("Authorization", &auth)]);
    assert_eq!(ok.status, 200);
    assert!(ok.text().contains("authed{instance=\"\",job=\"auth\"} 1"));
    assert_eq!(ok.header("X-Frame-Options"), Some("deny"));
    assert_eq!(ok.header("Content-Security-Policy"), Some("default-src 'self'"));
    // Every route is wrapped, 404s included.
    assert_eq!(s.req("GET", "/nothing-here", "").status, 401);
    assert_eq!(s.req_with("GET", "/nothing-here", b"", &[("Authorization", &auth)]).status, 404);
}

#[test]
fn roles_allow_each_user_only_their_endpoints() {
    let dir = Dir::new("roles");
    let config = dir.write(
        "web.yml",
        &format!(
            "basic_auth_users:\n  root: {h}\n  ci: {h}\n  prom: {h}\n  viewer: {h}\n  ops: {h}\n  team: {h}\n\
             pushgate_authorization:\n  ci:\n    roles: [push]\n    jobs: [backup, \"build-*\"]\n  prom:\n    roles: [scrape]\n  viewer:\n    roles: [ui]\n  ops:\n    roles: [admin]\n  team:\n    roles: [push, scrape]\n    grouping_key: {{team: a}}\n",
            h = hash("pw")
        ),
    );
    let s = Server::start(&[&format!("--web.config.file={config}"), "--web.enable-admin-api"]);
    let as_ = |user: &str, method: &str, path: &str, body: &str| {
        s.req_with(method, path, body.as_bytes(), &[("Authorization", &basic(user, "pw"))]).status
    };
    // push role, limited to jobs.
    assert_eq!(as_("ci", "PUT", "/metrics/job/backup", "a 1\n"), 200);
    assert_eq!(as_("ci", "POST", "/metrics/job/build-7/instance/x", "a 1\n"), 200);
    assert_eq!(as_("ci", "PUT", "/metrics/job/other", "a 1\n"), 403);
    assert_eq!(as_("ci", "DELETE", "/metrics/job/other", ""), 403);
    assert_eq!(as_("ci", "DELETE", "/metrics/job/build-7/instance/x", ""), 202);
    assert_eq!(as_("ci", "GET", "/metrics", ""), 403);
    assert_eq!(as_("ci", "GET", "/", ""), 403);
    assert_eq!(as_("ci", "PUT", "/api/v1/admin/wipe", ""), 403);
    // scrape role.
    assert_eq!(as_("prom", "GET", "/metrics", ""), 200);
    assert_eq!(as_("prom", "GET", "/api/v1/metrics", ""), 200);
    assert_eq!(as_("prom", "PUT", "/metrics/job/backup", "a 1\n"), 403);
    assert_eq!(as_("prom", "GET", "/status", ""), 403);
    // ui role.
    assert_eq!(as_("viewer", "GET", "/", ""), 200);
    assert_eq!(as_("viewer", "GET", "/status", ""), 200);
    assert_eq!(as_("viewer", "GET", "/api/v1/status", ""), 200);
    assert_eq!(as_("viewer", "GET", "/metrics", ""), 403);
    assert_eq!(
        as_("viewer", "DELETE", "/metrics/job/backup", ""),
        403,
        "the UI's delete needs push"
    );
    // grouping_key scope.
    assert_eq!(as_("team", "PUT", "/metrics/job/j/team/a", "a 1\n"), 200);
    assert_eq!(as_("team", "PUT", "/metrics/job/j/team/b", "a 1\n"), 403);
    assert_eq!(as_("team", "PUT", "/metrics/job/j", "a 1\n"), 403);
    // admin role.
    assert_eq!(as_("ops", "GET", "/metrics", ""), 403);
    assert_eq!(as_("ops", "DELETE", "/api/v1/admin/groups?job=j", ""), 200);
    assert_eq!(as_("ops", "PUT", "/api/v1/admin/wipe", ""), 202);
    // Any authenticated user may probe health.
    for u in ["ci", "prom", "viewer", "ops", "team"] {
        assert_eq!(as_(u, "GET", "/-/healthy", ""), 200, "{u}");
    }
    // A user without an entry may do everything (the Pushgateway's one credential).
    assert_eq!(as_("root", "PUT", "/metrics/job/anything", "a 1\n"), 200);
    assert_eq!(as_("root", "GET", "/metrics", ""), 200);
    assert_eq!(as_("root", "GET", "/", ""), 200);
    assert_eq!(as_("root", "PUT", "/api/v1/admin/wipe", ""), 202);
    let forbidden =
        s.req_with("PUT", "/metrics/job/other", b"a 1\n", &[("Authorization", &basic("ci", "pw"))]);
    assert!(forbidden.text().contains("job=\"other\""), "{}", forbidden.text());
}

#[test]
fn the_file_is_reread_when_it_changes() {
    let dir = Dir::new("reload");
    let write = |pw: &str| dir.write("web.yml", &format!("basic_auth_users:\n  u: {}\n", hash(pw)));
    let config = write("one");
    let s = Server::start(&[&format!("--web.config.file={config}")]);
    let status = |pw: &str| {
        s.req_with("GET", "/-/healthy", b"", &[("Authorization", &basic("u", pw))]).status
    };
    assert_eq!(status("one"), 200);
    std::thread::sleep(std::time::Duration::from_millis(20));
    write("two");
    assert_eq!(status("one"), 401, "the old password stops working");
    assert_eq!(status("two"), 200);
    dir.write("web.yml", "basic_auth_users: [\n");
    let broken = s.req("GET", "/-/healthy", "");
    assert_eq!((broken.status, broken.text().as_str()), (500, "Internal Server Error\n"));
    write("three");
    assert_eq!(status("three"), 200, "fixed again");
}

#[test]
fn rate_limit_answers_429_past_the_burst() {
    let dir = Dir::new("rate");
    let config = dir.write("web.yml", "rate_limit:\n  interval: 1m\n  burst: 3\n");
    let s = Server::start(&[&format!("--web.config.file={config}")]);
    let codes: Vec<u16> = (0..5).map(|_| s.req("GET", "/-/healthy", "").status).collect();
    assert_eq!(codes, [200, 200, 200, 429, 429]);
}

#[test]
fn an_invalid_file_stops_start_up_with_a_reason() {
    let dir = Dir::new("invalid");
    for (content, reason) in [
        ("basic_auth_users:\n  a: plain\n", "not a bcrypt hash"),
        ("tls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n", "nope.crt"),
        ("basic_auth_userz: {}\n", "unknown field"),
    ] {
        let config = dir.write("web.yml", content);
        let out = Command::new(env!("CARGO_BIN_EXE_pushgate"))
            .args(["--web.listen-address=127.0.0.1:0", &format!("--web.config.file={config}")])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{content:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(reason), "{content:?}: {err}");
    }
    let missing = dir.path("missing.yml");
    assert!(!Path::new(&missing).exists());
    let out = Command::new(env!("CARGO_BIN_EXE_pushgate"))
        .args([
            "--web.listen-address=127.0.0.1:0",
            &format!("--web.config.file={}", missing.display()),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
