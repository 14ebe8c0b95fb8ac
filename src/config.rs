//! Validated server configuration: plain data, no clap types.
//!
//! Defaults match the Go Pushgateway's (spec 6.1). `cli` builds this from
//! flags; tests and benches build it directly.

use std::collections::BTreeMap;
use std::time::Duration;

/// Log output format (`--log.format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// `key=value` pairs.
    Logfmt,
    /// One JSON object per line.
    Json,
}

/// How pushes are made durable (`--persistence.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersistenceMode {
    /// Snapshots every interval and at shutdown (the Go server's behaviour).
    Snapshot,
    /// Snapshots plus a write-ahead log: acknowledged means on disk.
    Wal,
}

/// Minimum level logged (`--log.level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything.
    Debug,
    /// Normal operation.
    Info,
    /// Refused requests and recoverable problems.
    Warn,
    /// Failures.
    Error,
}

/// Everything the server needs to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Addresses to listen on (`--web.listen-address`, repeatable).
    pub listen_addresses: Vec<String>,
    /// `--web.config.file` (empty: no TLS, no authentication).
    pub web_config_file: String,
    /// Route prefix with a leading `/` and no trailing `/`, or empty.
    pub route_prefix: String,
    /// Scrape path under the prefix (already joined with it).
    pub telemetry_path: String,
    /// Path of `--web.external-url` (used for links in the UI).
    pub external_path: String,
    /// `--web.enable-lifecycle`.
    pub enable_lifecycle: bool,
    /// `--web.enable-admin-api`.
    pub enable_admin_api: bool,
    /// `--push.disable-consistency-check`.
    pub disable_consistency_check: bool,
    /// How pushed names are validated: UTF-8 with `--push.enable-utf8-names`
    /// (spec 3.6), legacy otherwise.
    pub name_validation: crate::expfmt::escape::NameValidation,
    /// `--persistence.file` (empty: memory only).
    pub persistence_file: String,
    /// `--persistence.interval`.
    pub persistence_interval: Duration,
    /// `--persistence.mode`.
    pub persistence_mode: PersistenceMode,
    /// `--log.level`.
    pub log_level: LogLevel,
    /// `--log.format`.
    pub log_format: LogFormat,
    /// Request head and body size limits.
    pub http_limits: crate::http::request::Limits,
    /// Most open connections (all cores together); more are answered 503 and closed.
    pub max_connections: usize,
    /// Longest time from the first byte of a request to its last (slow clients get 408).
    pub request_timeout: Duration,
    /// Longest idle time of a keep-alive connection between requests.
    pub idle_timeout: Duration,
    /// Most pipelined requests answered before the answers are written out.
    pub max_pipelined: usize,
    /// Serve OpenMetrics to scrapers that prefer it (`--runtime.openmetrics-scrape`).
    pub openmetrics_scrape: bool,
    /// Default TTL of groups (`--runtime.group-ttl`; `None`: groups never expire).
    pub group_ttl: Option<Duration>,
    /// Per-push and store-size limits.
    pub push_limits: crate::store::limits::PushLimits,
    /// Largest decompressed push body (`--runtime.max-decompressed-bytes`).
    pub max_decompressed_bytes: usize,
    /// Number of shards (one thread and runtime each; `--runtime.cores`).
    pub cores: usize,
    /// Scheduling policy of the core threads (`--runtime.sched-policy`).
    pub sched_policy: crate::runtime::placement::SchedPolicy,
    /// Pin each core's thread to one CPU (`--runtime.pin-threads`).
    pub pin_threads: bool,
    /// Flag values as the status API shows them (name without `--` → value).
    pub flags: BTreeMap<String, String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen_addresses: vec![":9091".to_owned()],
            web_config_file: String::new(),
            route_prefix: String::new(),
            telemetry_path: "/metrics".to_owned(),
            external_path: String::new(),
            enable_lifecycle: false,
            enable_admin_api: false,
            disable_consistency_check: false,
            name_validation: crate::expfmt::escape::NameValidation::Legacy,
            persistence_file: String::new(),
            persistence_interval: Duration::from_secs(300),
            persistence_mode: PersistenceMode::Snapshot,
            log_level: LogLevel::Info,
            log_format: LogFormat::Logfmt,
            max_decompressed_bytes: 128 << 20,
            push_limits: crate::store::limits::PushLimits::default(),
            group_ttl: None,
            openmetrics_scrape: false,
            http_limits: crate::http::request::Limits::default(),
            max_connections: 100_000,
            request_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(300),
            max_pipelined: 256,
            cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            sched_policy: crate::runtime::placement::SchedPolicy::Batch,
            pin_threads: false,
            flags: BTreeMap::new(),
        }
    }
}

/// Normalises a route prefix as the Go server does: `/` → empty, a leading
/// `/` added, one trailing `/` removed.
pub fn normalize_prefix(p: &str) -> String {
    if p.is_empty() || p == "/" {
        return String::new();
    }
    let mut s = if p.starts_with('/') { p.to_owned() } else { format!("/{p}") };
    if s.ends_with('/') {
        s.pop();
    }
    s
}

/// Go's `path.Join(prefix, path)` for the two shapes we need.
pub fn join_path(prefix: &str, path: &str) -> String {
    let joined = format!("{prefix}/{}", path.trim_start_matches('/'));
    let mut out = String::with_capacity(joined.len());
    for seg in joined.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Parses a Go duration such as `5m`, `1h30m`, `250ms`, `1.5s`.
///
/// # Errors
/// A message naming the bad input.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let err = || format!("invalid duration {s:?} (use e.g. 5m, 30s, 1h30m, 250ms)");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return Err(err());
    }
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(err)?;
        let num: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(err()),
        };
        total += num * mult;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_secs_f64(total))
}

/// Formats a duration as Go's `time.Duration.String()` (`5m0s`, `1h0m0s`, `1.5s`).
pub fn format_duration(d: Duration) -> String {
    let total_ns = d.as_nanos();
    if total_ns == 0 {
        return "0s".to_owned();
    }
    if total_ns < 1_000_000_000 {
        return if total_ns.is_multiple_of(1_000_000) {
            format!("{}ms", total_ns / 1_000_000)
        } else if total_ns.is_multiple_of(1_000) {
            format!("{}µs", total_ns / 1_000)
        } else {
            format!("{total_ns}ns")
        };
    }
    let secs = d.as_secs();
    let frac = d.subsec_nanos();
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let mut sec = s.to_string();
    if frac > 0 {
        let f = format!("{frac:09}");
        sec.push('.');
        sec.push_str(f.trim_end_matches('0'));
    }
    match (h, m) {
        (0, 0) => format!("{sec}s"),
        (0, m) => format!("{m}m{sec}s"),
        (h, m) => format!("{h}h{m}m{sec}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_normalise_like_go() {
        assert_eq!(normalize_prefix("/"), "");
        assert_eq!(normalize_prefix("pg/"), "/pg");
        assert_eq!(join_path("/pg", "/metrics"), "/pg/metrics");
        assert_eq!(join_path("", "metrics"), "/metrics");
    }

    #[test]
    fn durations_round_trip_go_spelling() {
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(format_duration(Duration::from_secs(300)), "5m0s");
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m0s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
    }
}
