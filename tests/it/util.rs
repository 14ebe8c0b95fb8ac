//! Test harness: start the real binary on a loopback port, talk HTTP to it.
#![allow(clippy::unwrap_used)] // test harness: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `pushgate` process, killed on drop.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT` it listens on.
    pub addr: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the binary with `args` on a free loopback port.
    pub fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pushgate"))
            .arg("--web.listen-address=127.0.0.1:0")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pushgate");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                log2.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(addr) = line.split("address=").nth(1) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr.split(' ').next().unwrap().to_owned());
                    }
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("server did not log its address: {}", log.lock().unwrap()));
        Server { child, addr, log }
    }

    /// One request on a fresh connection.
    pub fn req(&self, method: &str, path: &str, body: &str) -> Resp {
        self.req_with(method, path, body.as_bytes(), &[])
    }

    /// One request with extra headers.
    pub fn req_with(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
        for (n, v) in headers {
            raw.push_str(&format!("{n}: {v}\r\n"));
        }
        raw.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = raw.into_bytes();
        bytes.extend_from_slice(body);
        let mut out = self.raw(&bytes);
        parse_responses(&mut out).into_iter().next().expect("one response")
    }

    /// Sends raw bytes, returns everything the server answered until it closed.
    pub fn raw(&self, bytes: &[u8]) -> Vec<u8> {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // The server may answer and close before everything is written (e.g.
        // a refused head); what it answered is still readable.
        let _ = s.write_all(bytes);
        // Half-close: a request left incomplete ends at EOF instead of a timeout.
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        out
    }

    /// GET /metrics, only the lines of pushed series (those with a job label)
    /// and their families' HELP/TYPE lines.
    pub fn scrape(&self) -> String {
        let r = self.req("GET", "/metrics", "");
        assert_eq!(r.status, 200, "{}", r.text());
        pushed_lines(&r.text())
    }

    /// Polls `f` until it is true or 5 s pass.
    pub fn wait_until(&self, mut f: impl FnMut(&Server) -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if f(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Sends SIGTERM and waits (up to 10 s) for a graceful exit; returns the log.
    pub fn terminate(mut self) -> String {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.exited() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(self.exited(), "no graceful exit within 10 s");
        std::thread::sleep(Duration::from_millis(50));
        self.log()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- server log ---\n{}", self.log());
        }
    }
}

/// The lines of a scrape that belong to pushed data (not the server's own metrics).
pub fn pushed_lines(text: &str) -> String {
    let pushed: Vec<&str> =
        text.lines().filter(|l| !l.starts_with('#') && l.contains("job=\"")).collect();
    let names: Vec<&str> = pushed.iter().map(|l| l.split(['{', ' ']).next().unwrap()).collect();
    let mut out = String::new();
    for line in text.lines() {
        let keep = if let Some(rest) = line.strip_prefix("# ") {
            let name = rest.split(' ').nth(1).unwrap_or("");
            names.iter().any(|n| {
                *n == name
                    || n.strip_prefix(name)
                        .is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s))
            })
        } else {
            pushed.contains(&line)
        };
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A parsed response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Splits a byte stream into responses (Content-Length framed).
pub fn parse_responses(buf: &mut Vec<u8>) -> Vec<Resp> {
    let mut out = Vec::new();
    let mut rest: &[u8] = buf;
    while let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = std::str::from_utf8(&rest[..end]).unwrap();
        let mut lines = head.split("\r\n");
        let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let body_start = end + 4;
        if status == 100 {
            rest = &rest[body_start..];
            continue;
        }
        let body = rest[body_start..body_start + len].to_vec();
        rest = &rest[body_start + len..];
        out.push(Resp { status, headers, body });
    }
    out
}
