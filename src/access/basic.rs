//! HTTP basic authentication against bcrypt hashes (spec 1.11, 6.2).
//!
//! bcrypt is slow on purpose (tens of milliseconds at cost 10), so it never
//! runs on a core's event loop: checks go to one verifier thread, which also
//! bounds the CPU an attacker can burn with wrong passwords. A successful
//! (user, hash, password) is remembered, so a pusher that authenticates on
//! every request pays bcrypt once. The cache holds the password itself and
//! compares it in constant time: there is no cache key to collide (the
//! Pushgateway's CVE-2022-46146 was an auth bypass through its cache key).
//! An unknown user is checked against a dummy hash so that timing does not
//! tell which user names exist.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::grouping::base64;

/// Credentials from an `Authorization: Basic …` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password bytes.
    pub password: Vec<u8>,
}

/// Reads `Authorization: Basic <base64(user:password)>`; `None` when absent
/// or malformed (both are answered 401).
pub fn parse_header(value: &str) -> Option<Credentials> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    // Standard alphabet → the URL-safe one our decoder reads.
    let token: Vec<u8> = rest
        .trim()
        .bytes()
        .map(|b| match b {
            b'+' => b'-',
            b'/' => b'_',
            b => b,
        })
        .collect();
    let decoded = base64::decode(&token).ok()?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    let user = String::from_utf8(decoded[..colon].to_vec()).ok()?;
    Some(Credentials { user, password: decoded[colon + 1..].to_vec() })
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// A bcrypt hash nobody's password matches, for unknown users (cost 10,
/// the usual cost, so the timing matches real users').
const DUMMY_HASH: &str = "$2b$10$CgGTLEZqewRHSt6j6Q53BeqqPS4INQ9SozXHWPDkxT/bBIhLF4bTu";

/// Upper bound on remembered successes (one per user, so only a config with
/// more users than this ever evicts).
const CACHE_LIMIT: usize = 4096;

/// Remembered successful logins: user → (hash, password).
#[derive(Default)]
pub struct Cache {
    verified: Mutex<HashMap<String, (String, Vec<u8>)>>,
}

impl Cache {
    /// Whether `creds` were verified before against `hash`.
    pub fn hit(&self, creds: &Credentials, hash: &str) -> bool {
        let Ok(map) = self.verified.lock() else { return false };
        map.get(&creds.user)
            .is_some_and(|(h, pw)| h == hash && constant_time_eq(pw, &creds.password))
    }

    /// Remembers a success.
    pub fn remember(&self, creds: &Credentials, hash: &str) {
        if let Ok(mut map) = self.verified.lock() {
            if map.len() >= CACHE_LIMIT && !map.contains_key(&creds.user) {
                map.clear();
            }
            map.insert(creds.user.clone(), (hash.to_owned(), creds.password.clone()));
        }
    }
}

struct Job {
    password: Vec<u8>,
    hash: String,
    reply: flume::Sender<bool>,
}

/// The bcrypt verifier thread.
pub struct Verifier {
    jobs: flume::Sender<Job>,
}

impl Verifier {
    /// Starts the thread.
    pub fn start() -> Verifier {
        let (tx, rx) = flume::unbounded::<Job>();
        let spawned = std::thread::Builder::new().name("pushgate-bcrypt".into()).spawn(move || {
            for job in rx.iter() {
                let ok = bcrypt::verify(&job.password, &job.hash).unwrap_or(false);
                let _ = job.reply.send(ok);
            }
        });
        if let Err(e) = spawned {
            crate::log::error(
                "could not start the bcrypt thread; every login will fail",
                &[("err", &e)],
            );
        }
        Verifier { jobs: tx }
    }

    /// Verifies `password` against `hash` (or the dummy hash when `hash` is
    /// `None`, which always fails but takes as long).
    pub async fn verify(&self, password: &[u8], hash: Option<&str>) -> bool {
        let (reply, answer) = flume::bounded(1);
        let job =
            Job { password: password.to_vec(), hash: hash.unwrap_or(DUMMY_HASH).to_owned(), reply };
        if self.jobs.send(job).is_err() {
            return false;
        }
        matches!(answer.recv_async().await, Ok(true)) && hash.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_headers() {
        // "alice:open sesame" and a password containing a colon.
        assert_eq!(
            parse_header("Basic YWxpY2U6b3BlbiBzZXNhbWU="),
            Some(Credentials { user: "alice".into(), password: b"open sesame".to_vec() })
        );
        assert_eq!(
            parse_header("basic YTpiOmM="),
            Some(Credentials { user: "a".into(), password: b"b:c".to_vec() })
        );
        // "+" and "/" of the standard alphabet: "?>?:~~~" encodes to "Pz4/On5+fg==".
        assert_eq!(
            parse_header("Basic Pz4/On5+fg=="),
            Some(Credentials { user: "?>?".into(), password: b"~~~".to_vec() })
        );
        assert_eq!(parse_header("Bearer abc"), None);
        assert_eq!(parse_header("Basic !!!"), None);
        assert_eq!(parse_header("Basic bm9jb2xvbg=="), None); // "nocolon"
        assert_eq!(parse_header("Basic"), None);
    }

    #[test]
    fn constant_time_eq_is_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn the_dummy_hash_is_well_formed() {
        assert!(DUMMY_HASH.parse::<bcrypt::HashParts>().is_ok());
        assert!(!bcrypt::verify("", DUMMY_HASH).unwrap_or(true));
    }

    #[test]
    fn cache_needs_same_hash_and_password() {
        let c = Cache::default();
        let creds = Credentials { user: "u".into(), password: b"pw".to_vec() };
        assert!(!c.hit(&creds, "h1"));
        c.remember(&creds, "h1");
        assert!(c.hit(&creds, "h1"));
        assert!(!c.hit(&creds, "h2"), "a changed hash must be verified again");
        let wrong = Credentials { user: "u".into(), password: b"pX".to_vec() };
        assert!(!c.hit(&wrong, "h1"));
    }

    #[test]
    fn verifier_thread_checks_hashes() {
        let hash = bcrypt::hash("pw", 4).expect("hash");
        let v = Verifier::start();
        let mut rt =
            monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().build().expect("runtime");
        rt.block_on(async {
            assert!(v.verify(b"pw", Some(&hash)).await);
            assert!(!v.verify(b"px", Some(&hash)).await);
            assert!(!v.verify(b"pw", None).await);
        });
    }
}
