//! Access control: `--web.config.file` (TLS, basic auth, headers, rate
//! limit; spec 1.11, 6.2) and Pushgate's per-user roles.
//!
//! - [`file`](mod@file): the YAML and its validation into a [`Policy`].
//! - [`tls`]: rustls server configuration (mTLS included).
//! - [`basic`]: basic auth against bcrypt hashes, off the event loop.
//! - [`roles`]: which role each route needs, push scopes.
//! - [`ratelimit`]: the `rate_limit` token bucket.
//!
//! Like the Pushgateway, the file is re-read when it changes (checked on
//! every request; users and headers take effect live, and a file that turns
//! invalid answers 500 until it is fixed), and certificate files are
//! re-read for new connections when they change.

pub mod basic;
pub mod file;
pub mod ratelimit;
pub mod roles;
pub mod tls;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use rustls::ServerConfig;

pub use file::{FileError, Policy};
pub use roles::Grant;

use crate::http::request::Head;
use crate::http::response::Response;

/// Identity of a file version: if any of these change, it is re-read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    ctime: (i64, i64),
    len: u64,
    ino: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: m.modified().ok(),
        ctime: (m.ctime(), m.ctime_nsec()),
        len: m.len(),
        ino: m.ino(),
    })
}

struct Loaded {
    stamp: Option<Stamp>,
    policy: Result<Arc<Policy>, FileError>,
}

struct TlsCache {
    policy: Arc<Policy>,
    files: Vec<Option<Stamp>>,
    config: Arc<ServerConfig>,
}

/// What a request may do once it is let in.
#[derive(Debug)]
pub enum Verdict {
    /// Let in with this grant.
    Pass(Grant),
    /// Refused with this answer (401, 429 or 500).
    Refuse(Response),
}

/// The server's access control, shared by all cores.
pub struct Access {
    path: PathBuf,
    tls_at_start: bool,
    loaded: Mutex<Loaded>,
    cache: basic::Cache,
    verifier: basic::Verifier,
    bucket: Mutex<Option<ratelimit::Bucket>>,
    tls: Mutex<Option<TlsCache>>,
}

impl Access {
    /// Loads the file; an invalid file (or certificate) stops start-up.
    pub fn open(path: &Path) -> Result<Access, String> {
        let st = stamp(path);
        let policy = Arc::new(file::load(path).map_err(|e| e.to_string())?);
        if let Some(t) = &policy.tls {
            tls::server_config(t).map_err(|e| e.to_string())?;
        }
        Ok(Access {
            path: path.to_owned(),
            tls_at_start: policy.tls.is_some(),
            loaded: Mutex::new(Loaded { stamp: st, policy: Ok(policy) }),
            cache: basic::Cache::default(),
            verifier: basic::Verifier::start(),
            bucket: Mutex::new(None),
            tls: Mutex::new(None),
        })
    }

    /// Whether listeners speak TLS (decided at start-up, as the Pushgateway does).
    pub fn tls(&self) -> bool {
        self.tls_at_start
    }

    /// The current policy, re-read if the file changed.
    pub fn policy(&self) -> Result<Arc<Policy>, FileError> {
        let now = stamp(&self.path);
        let mut loaded = self.loaded.lock().map_err(|_| FileError::Read("lock poisoned".into()))?;
        if now != loaded.stamp || now.is_none() {
            let policy = file::load(&self.path).map(Arc::new);
            match &policy {
                Ok(_) => crate::log::info(
                    "web config file (re)loaded",
                    &[("file", &self.path.display())],
                ),
                Err(e) => {
                    crate::log::error("web config file is invalid; answering 500", &[("err", e)])
                }
            }
            *loaded = Loaded { stamp: now, policy };
        }
        loaded.policy.clone()
    }

    /// TLS configuration for a new connection, rebuilt when the policy or a
    /// certificate file changed.
    pub fn tls_config(&self) -> Result<Arc<ServerConfig>, String> {
        let policy = self.policy().map_err(|e| e.to_string())?;
        let Some(t) = &policy.tls else {
            return Err(
                "TLS was removed from the web config file; restart to serve plain HTTP".into()
            );
        };
        let files: Vec<Option<Stamp>> = [Some(&t.cert), Some(&t.key), t.client_ca.as_ref()]
            .into_iter()
            .flatten()
            .map(|p| match p {
                file::Pem::File(f) => stamp(f),
                file::Pem::Inline(_) => None,
            })
            .collect();
        let mut cache = self.tls.lock().map_err(|_| "lock poisoned".to_owned())?;
        if let Some(c) = cache.as_ref() {
            if Arc::ptr_eq(&c.policy, &policy) && c.files == files {
                return Ok(c.config.clone());
            }
        }
        let config = tls::server_config(t).map_err(|e| e.to_string())?;
        *cache = Some(TlsCache { policy: policy.clone(), files, config: config.clone() });
        Ok(config)
    }

    /// Checks a request: file validity, rate limit, credentials. Returns
    /// the policy (for its headers) when the file is valid.
    pub async fn check(&self, head: &Head) -> (Option<Arc<Policy>>, Verdict) {
        let policy = match self.policy() {
            Ok(p) => p,
            Err(_) => {
                return (None, Verdict::Refuse(Response::error(500, "Internal Server Error")))
            }
        };
        let verdict = self.verdict(&policy, head).await;
        (Some(policy), verdict)
    }

    async fn verdict(&self, policy: &Policy, head: &Head) -> Verdict {
        if let Some((interval, burst)) = policy.rate_limit {
            let now = Instant::now();
            let admitted = match self.bucket.lock() {
                Ok(mut b) => {
                    if !b.as_ref().is_some_and(|b| b.is(interval, burst)) {
                        *b = Some(ratelimit::Bucket::new(interval, burst, now));
                    }
                    b.as_mut().is_some_and(|b| b.take(now))
                }
                Err(_) => true,
            };
            if !admitted {
                return Verdict::Refuse(Response::error(429, "Too Many Requests"));
            }
        }
        let Some(users) = &policy.users else {
            return Verdict::Pass(Grant::everything());
        };
        let unauthorized = || {
            Verdict::Refuse(
                Response::error(401, "Unauthorized").with_header("WWW-Authenticate", "Basic"),
            )
        };
        let Some(creds) = head.authorization.as_deref().and_then(basic::parse_header) else {
            return unauthorized();
        };
        let user = users.get(&creds.user);
        if let Some(u) = user {
            if self.cache.hit(&creds, &u.hash) {
                return Verdict::Pass(u.grant.clone());
            }
        }
        let hash = user.map(|u| u.hash.as_str());
        if self.verifier.verify(&creds.password, hash).await {
            if let Some(u) = user {
                self.cache.remember(&creds, &u.hash);
                return Verdict::Pass(u.grant.clone());
            }
        }
        unauthorized()
    }
}

/// Sets the policy's headers on `r`, replacing any of the same name.
pub fn apply_headers(policy: &Policy, r: &mut Response) {
    for (name, value) in &policy.headers {
        r.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        r.headers.push((name, value.clone()));
    }
}
