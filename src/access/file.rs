//! The `--web.config.file` YAML (exporter-toolkit format, spec 6.2, plus
//! Pushgate's `pushgate_authorization` extension) and its validation into a
//! [`Policy`].
//!
//! Strict like the toolkit: an unknown key anywhere is an error, so a typo
//! never silently disables a protection.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::access::roles::{Grant, Role, Roles};
use crate::config::parse_duration;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfigFile {
    /// TLS settings; TLS is on when any certificate or client-auth key is set.
    #[serde(default)]
    pub tls_server_config: Option<TlsServerConfig>,
    /// HTTP settings.
    #[serde(default)]
    pub http_server_config: Option<HttpServerConfig>,
    /// User name → bcrypt hash.
    #[serde(default)]
    pub basic_auth_users: Option<BTreeMap<String, String>>,
    /// Global request rate limit.
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    /// Pushgate extension: per-user roles and push scopes.
    #[serde(default)]
    pub pushgate_authorization: Option<BTreeMap<String, GrantConfig>>,
}

/// `tls_server_config`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsServerConfig {
    #[serde(default)]
    pub cert_file: Option<String>,
    #[serde(default)]
    pub key_file: Option<String>,
    #[serde(default)]
    pub cert: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub client_auth_type: Option<String>,
    #[serde(default)]
    pub client_ca_file: Option<String>,
    #[serde(default)]
    pub client_ca: Option<String>,
    #[serde(default)]
    pub client_allowed_sans: Option<Vec<String>>,
    #[serde(default)]
    pub min_version: Option<String>,
    #[serde(default)]
    pub max_version: Option<String>,
    #[serde(default)]
    pub cipher_suites: Option<Vec<String>>,
    #[serde(default)]
    pub prefer_server_cipher_suites: Option<bool>,
    #[serde(default)]
    pub curve_preferences: Option<Vec<String>>,
}

/// `http_server_config`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpServerConfig {
    /// Accepted for compatibility; Pushgate serves HTTP/1.1 only.
    #[serde(default)]
    pub http2: Option<bool>,
    /// Extra response headers.
    #[serde(default)]
    pub headers: Option<BTreeMap<String, String>>,
}

/// `rate_limit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Go duration between two tokens.
    pub interval: String,
    /// Bucket size.
    pub burst: u32,
}

/// One user's entry in `pushgate_authorization`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantConfig {
    /// Roles: `push`, `scrape`, `ui`, `admin`.
    pub roles: Vec<String>,
    /// Push/delete only to these jobs (`name` or `prefix*`).
    #[serde(default)]
    pub jobs: Option<Vec<String>>,
    /// Push/delete only to grouping keys carrying these labels.
    #[serde(default)]
    pub grouping_key: Option<BTreeMap<String, String>>,
}

/// TLS versions a config may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

/// Client certificate policy (Go's `tls.ClientAuthType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    NoClientCert,
    RequestClientCert,
    RequireAnyClientCert,
    VerifyClientCertIfGiven,
    RequireAndVerifyClientCert,
}

/// Where PEM comes from: a file (re-read when it changes) or inline text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pem {
    File(PathBuf),
    Inline(String),
}

/// Validated TLS settings.
#[derive(Clone, Debug)]
pub struct TlsSettings {
    pub cert: Pem,
    pub key: Pem,
    pub client_auth: ClientAuth,
    pub client_ca: Option<Pem>,
    pub allowed_sans: Vec<String>,
    pub min_version: TlsVersion,
    pub max_version: TlsVersion,
    /// Go names of TLS 1.2 suites, in preference order; empty = defaults.
    pub cipher_suites: Vec<String>,
    pub prefer_server_cipher_suites: bool,
    /// Go curve names in preference order; empty = defaults.
    pub curves: Vec<String>,
}

/// One configured user.
#[derive(Clone, Debug)]
pub struct User {
    /// The bcrypt hash.
    pub hash: String,
    /// What the user may do.
    pub grant: Grant,
}

/// The validated file: what every request is checked against.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// TLS, if configured.
    pub tls: Option<TlsSettings>,
    /// Headers added to every response (canonical names).
    pub headers: Vec<(&'static str, String)>,
    /// Basic-auth users; `None` = no authentication.
    pub users: Option<BTreeMap<String, User>>,
    /// Token bucket: one token per interval, at most `burst`.
    pub rate_limit: Option<(Duration, u32)>,
}

/// Why a web config file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// The file could not be read.
    Read(String),
    /// YAML syntax or an unknown/mistyped key.
    Yaml(String),
    /// A value is not allowed.
    Invalid(String),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::Read(e) => write!(f, "cannot read web config file: {e}"),
            FileError::Yaml(e) => write!(f, "web config file is not valid: {e}"),
            FileError::Invalid(e) => write!(f, "web config file is not valid: {e}"),
        }
    }
}

impl std::error::Error for FileError {}

fn invalid(msg: impl Into<String>) -> FileError {
    FileError::Invalid(msg.into())
}

/// The headers the toolkit lets a config set, with their canonical names.
const ALLOWED_HEADERS: &[&str] = &[
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "X-XSS-Protection",
    "Strict-Transport-Security",
];

/// Reads and validates the file at `path`.
pub fn load(path: &Path) -> Result<Policy, FileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| FileError::Read(format!("{}: {e}", path.display())))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    parse(&text, dir)
}

/// Parses and validates file content; relative paths are resolved against `dir`.
pub fn parse(text: &str, dir: &Path) -> Result<Policy, FileError> {
    let file: WebConfigFile = if text.trim().is_empty() {
        WebConfigFile::default()
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| FileError::Yaml(e.to_string()))?
    };
    validate(file, dir)
}

fn validate(file: WebConfigFile, dir: &Path) -> Result<Policy, FileError> {
    let tls = match file.tls_server_config {
        Some(t) => tls_settings(t, dir)?,
        None => None,
    };
    let mut headers = Vec::new();
    if let Some(http) = file.http_server_config {
        if http.http2 == Some(true) && tls.is_none() {
            crate::log::debug("http2 in web config has no effect: Pushgate serves HTTP/1.1", &[]);
        }
        for (name, value) in http.headers.unwrap_or_default() {
            let Some(canonical) = ALLOWED_HEADERS.iter().find(|h| h.eq_ignore_ascii_case(&name))
            else {
                return Err(invalid(format!(
                    "HTTP header {name:?} can not be configured (allowed: {})",
                    ALLOWED_HEADERS.join(", ")
                )));
            };
            check_header_value(canonical, &value)?;
            headers.push((*canonical, value));
        }
    }
    let mut users = None;
    if let Some(list) = file.basic_auth_users {
        let mut map = BTreeMap::new();
        for (name, hash) in list {
            if hash.parse::<bcrypt::HashParts>().is_err() {
                return Err(invalid(format!(
                    "the password of user {name:?} is not a bcrypt hash (expected $2a$, $2b$ or $2y$…; make one with `htpasswd -nbBC 10 \"\" <password>`)"
                )));
            }
            map.insert(name, User { hash, grant: Grant::everything() });
        }
        users = Some(map);
    }
    if let Some(grants) = file.pushgate_authorization {
        let Some(users) = users.as_mut() else {
            return Err(invalid("pushgate_authorization needs basic_auth_users"));
        };
        for (name, g) in grants {
            let Some(user) = users.get_mut(&name) else {
                return Err(invalid(format!(
                    "pushgate_authorization names user {name:?}, who is not in basic_auth_users"
                )));
            };
            user.grant = grant(&name, g)?;
        }
    }
    let rate_limit = match file.rate_limit {
        Some(r) => {
            let interval = parse_duration(&r.interval)
                .map_err(|e| invalid(format!("rate_limit.interval: {e}")))?;
            if r.burst == 0 {
                return Err(invalid("rate_limit.burst must be at least 1"));
            }
            Some((interval, r.burst))
        }
        None => None,
    };
    Ok(Policy { tls, headers, users, rate_limit })
}

fn grant(user: &str, g: GrantConfig) -> Result<Grant, FileError> {
    let mut roles = Roles::NONE;
    for r in &g.roles {
        let role = Role::parse(r).ok_or_else(|| {
            invalid(format!("user {user:?}: unknown role {r:?} (known: push, scrape, ui, admin)"))
        })?;
        roles = roles.with(role);
    }
    for j in g.jobs.iter().flatten() {
        if j.is_empty() || j.trim_end_matches('*').contains('*') {
            return Err(invalid(format!(
                "user {user:?}: job pattern {j:?} must be a name or a prefix ending in one `*`"
            )));
        }
    }
    let grouping_key: Vec<(String, String)> =
        g.grouping_key.unwrap_or_default().into_iter().collect();
    if (g.jobs.is_some() || !grouping_key.is_empty()) && !roles.has(Role::Push) {
        return Err(invalid(format!(
            "user {user:?}: jobs/grouping_key limit pushes, but the user has no push role"
        )));
    }
    Ok(Grant { roles, jobs: g.jobs, grouping_key })
}

fn check_header_value(name: &str, value: &str) -> Result<(), FileError> {
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(invalid(format!("HTTP header {name}: value contains a line break")));
    }
    let ok = match name {
        "X-Frame-Options" => ["deny", "sameorigin"].iter().any(|v| v.eq_ignore_ascii_case(value)),
        "X-Content-Type-Options" => value.eq_ignore_ascii_case("nosniff"),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("invalid value for {name}: {value:?}")))
    }
}

fn pem(
    file: Option<String>,
    inline: Option<String>,
    what: &str,
    dir: &Path,
) -> Result<Option<Pem>, FileError> {
    match (file.filter(|s| !s.is_empty()), inline.filter(|s| !s.is_empty())) {
        (Some(_), Some(_)) => Err(invalid(format!("set either {what}_file or {what}, not both"))),
        (Some(f), None) => Ok(Some(Pem::File(dir.join(f)))),
        (None, Some(s)) => Ok(Some(Pem::Inline(s))),
        (None, None) => Ok(None),
    }
}

fn version(v: Option<String>, default: TlsVersion, key: &str) -> Result<TlsVersion, FileError> {
    match v.as_deref() {
        None | Some("") => Ok(default),
        Some("TLS10") => Ok(TlsVersion::Tls10),
        Some("TLS11") => Ok(TlsVersion::Tls11),
        Some("TLS12") => Ok(TlsVersion::Tls12),
        Some("TLS13") => Ok(TlsVersion::Tls13),
        Some(other) => Err(invalid(format!("{key}: unknown TLS version {other:?} (TLS10…TLS13)"))),
    }
}

fn tls_settings(t: TlsServerConfig, dir: &Path) -> Result<Option<TlsSettings>, FileError> {
    let cert = pem(t.cert_file, t.cert, "cert", dir)?;
    let key = pem(t.key_file, t.key, "key", dir)?;
    let client_ca = pem(t.client_ca_file, t.client_ca, "client_ca", dir)?;
    let auth_named = t.client_auth_type.as_deref().is_some_and(|s| !s.is_empty());
    if cert.is_none() && key.is_none() && client_ca.is_none() && !auth_named {
        return Ok(None); // toolkit: TLS only when something TLS-specific is set
    }
    let (Some(cert), Some(key)) = (cert, key) else {
        return Err(invalid(
            "TLS needs both a certificate (cert_file or cert) and a key (key_file or key)",
        ));
    };
    let client_auth = match t.client_auth_type.as_deref().unwrap_or("") {
        "" | "NoClientCert" => ClientAuth::NoClientCert,
        "RequestClientCert" => ClientAuth::RequestClientCert,
        "RequireAnyClientCert" | "RequireClientCert" => ClientAuth::RequireAnyClientCert,
        "VerifyClientCertIfGiven" => ClientAuth::VerifyClientCertIfGiven,
        "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerifyClientCert,
        other => return Err(invalid(format!("invalid client_auth_type {other:?}"))),
    };
    let verifies = matches!(
        client_auth,
        ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert
    );
    if verifies && client_ca.is_none() {
        return Err(invalid(format!(
            "client_auth_type {client_auth:?} needs client_ca_file or client_ca"
        )));
    }
    if !verifies && client_ca.is_some() {
        return Err(invalid(
            "client_ca_file is set, but client_auth_type does not verify client certificates (use RequireAndVerifyClientCert or VerifyClientCertIfGiven)",
        ));
    }
    let allowed_sans = t.client_allowed_sans.unwrap_or_default();
    if !allowed_sans.is_empty() && client_auth != ClientAuth::RequireAndVerifyClientCert {
        return Err(invalid(
            "client_allowed_sans needs client_auth_type RequireAndVerifyClientCert",
        ));
    }
    let min_version = version(t.min_version, TlsVersion::Tls12, "min_version")?;
    let max_version = version(t.max_version, TlsVersion::Tls13, "max_version")?;
    if max_version < TlsVersion::Tls12 {
        return Err(invalid("max_version below TLS12: Pushgate serves TLS 1.2 and 1.3 only"));
    }
    if min_version > max_version {
        return Err(invalid("min_version is above max_version"));
    }
    let cipher_suites = t.cipher_suites.unwrap_or_default();
    for s in &cipher_suites {
        if crate::access::tls::suite_by_go_name(s).is_none() {
            return Err(invalid(format!(
                "cipher suite {s:?} is unknown or not supported (supported: the ECDHE AES-GCM and ChaCha20-Poly1305 TLS 1.2 suites)"
            )));
        }
    }
    let curves = t.curve_preferences.unwrap_or_default();
    for c in &curves {
        if crate::access::tls::group_by_go_name(c).is_none() {
            return Err(invalid(format!(
                "curve {c:?} is unknown or not supported (supported: X25519, CurveP256, CurveP384)"
            )));
        }
    }
    Ok(Some(TlsSettings {
        cert,
        key,
        client_auth,
        client_ca,
        allowed_sans,
        min_version,
        max_version,
        cipher_suites,
        prefer_server_cipher_suites: t.prefer_server_cipher_suites.unwrap_or(true),
        curves,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A well-formed bcrypt hash (validation checks the form, not the password).
    const HASH: &str = "$2b$10$CgGTLEZqewRHSt6j6Q53BeqqPS4INQ9SozXHWPDkxT/bBIhLF4bTu";

    fn ok(text: &str) -> Policy {
        match parse(text, Path::new("/etc/pg")) {
            Ok(p) => p,
            Err(e) => panic!("{text:?} refused: {e}"),
        }
    }

    fn err(text: &str) -> String {
        match parse(text, Path::new("/etc/pg")) {
            Ok(p) => panic!("{text:?} accepted: {p:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn empty_file_is_no_protection() {
        let p = ok("");
        assert!(p.tls.is_none() && p.users.is_none() && p.headers.is_empty());
    }

    #[test]
    fn unknown_keys_are_refused_everywhere() {
        assert!(err("basic_auth_user: {}\n").contains("unknown field"));
        assert!(err("tls_server_config:\n  cert_fil: x\n").contains("unknown field"));
        assert!(err("http_server_config:\n  header: {}\n").contains("unknown field"));
    }

    #[test]
    fn users_need_bcrypt_hashes() {
        let p = ok(&format!("basic_auth_users:\n  alice: {HASH}\n"));
        assert!(p.users.as_ref().is_some_and(|u| u.contains_key("alice")));
        assert!(err("basic_auth_users:\n  alice: plaintext\n").contains("not a bcrypt hash"));
    }

    #[test]
    fn relative_cert_paths_resolve_against_the_file() {
        let p = ok("tls_server_config:\n  cert_file: a.crt\n  key_file: /abs/a.key\n");
        let tls = p.tls.expect("tls");
        assert_eq!(tls.cert, Pem::File(PathBuf::from("/etc/pg/a.crt")));
        assert_eq!(tls.key, Pem::File(PathBuf::from("/abs/a.key")));
        assert_eq!(tls.min_version, TlsVersion::Tls12);
    }

    #[test]
    fn tls_needs_cert_and_key_and_sane_client_auth() {
        assert!(err("tls_server_config:\n  cert_file: a.crt\n").contains("both"));
        assert!(err("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n")
            .contains("client_ca"));
        assert!(err(
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Bogus\n"
        )
        .contains("client_auth_type"));
        assert!(err("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n")
            .contains("cipher suite"));
        assert!(err("tls_server_config:\n  cert_file: a\n  key_file: b\n  max_version: TLS11\n")
            .contains("max_version"));
    }

    #[test]
    fn only_security_headers_may_be_set() {
        let p = ok("http_server_config:\n  headers:\n    x-frame-options: deny\n");
        assert_eq!(p.headers, vec![("X-Frame-Options", "deny".to_owned())]);
        assert!(err("http_server_config:\n  headers:\n    Server: me\n")
            .contains("can not be configured"));
        assert!(err("http_server_config:\n  headers:\n    X-Frame-Options: allow\n")
            .contains("invalid value"));
    }

    #[test]
    fn grants_name_known_users_and_roles() {
        let p = ok(&format!(
            "basic_auth_users:\n  ci: {HASH}\n  prom: {HASH}\npushgate_authorization:\n  ci:\n    roles: [push]\n    jobs: [backup, \"build-*\"]\n  prom:\n    roles: [scrape]\n"
        ));
        let users = p.users.expect("users");
        assert!(users["ci"].grant.roles.has(Role::Push));
        assert!(!users["ci"].grant.roles.has(Role::Scrape));
        assert!(err(&format!(
            "basic_auth_users:\n  ci: {HASH}\npushgate_authorization:\n  bob:\n    roles: [push]\n"
        ))
        .contains("not in basic_auth_users"));
        assert!(err(&format!(
            "basic_auth_users:\n  ci: {HASH}\npushgate_authorization:\n  ci:\n    roles: [root]\n"
        ))
        .contains("unknown role"));
        assert!(err(&format!("basic_auth_users:\n  ci: {HASH}\npushgate_authorization:\n  ci:\n    roles: [scrape]\n    jobs: [x]\n"))
            .contains("no push role"));
    }

    #[test]
    fn rate_limit_parses_go_durations() {
        let p = ok("rate_limit:\n  interval: 100ms\n  burst: 5\n");
        assert_eq!(p.rate_limit, Some((Duration::from_millis(100), 5)));
        assert!(err("rate_limit:\n  interval: soon\n  burst: 5\n").contains("interval"));
    }
}
