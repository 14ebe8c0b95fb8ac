//! Command line: the Go Pushgateway's flag names and defaults (spec 6.1),
//! plus our own flags under `--runtime.*`.
//!
//! Owns turning raw flags into a validated [`Config`]; no other module sees
//! clap types.

use clap::{ArgAction, Parser};

use crate::config::{
    format_duration, join_path, normalize_prefix, parse_duration, Config, LogFormat, LogLevel,
    PersistenceMode,
};
use crate::runtime::placement::SchedPolicy;

/// Raw flags, named byte for byte as the Go server's.
#[derive(Parser, Debug)]
#[command(
    name = "pushgate",
    version,
    about = "Pushgate: a thread-per-core drop-in replacement for the Prometheus Pushgateway."
)]
pub struct Args {
    /// Addresses on which to expose metrics and the web interface (repeatable).
    #[arg(long = "web.listen-address", default_value = ":9091", action = ArgAction::Append)]
    listen_address: Vec<String>,
    /// Path to a web configuration file (TLS, basic auth, headers, rate limit, roles).
    #[arg(long = "web.config.file", default_value = "")]
    web_config_file: String,
    /// Path under which to expose metrics.
    #[arg(long = "web.telemetry-path", default_value = "/metrics")]
    telemetry_path: String,
    /// The URL under which the Pushgateway is externally reachable.
    #[arg(long = "web.external-url", default_value = "")]
    external_url: String,
    /// Prefix for the internal routes of web endpoints (defaults to the path of --web.external-url).
    #[arg(long = "web.route-prefix", default_value = "")]
    route_prefix: String,
    /// Enable shutdown via HTTP request.
    #[arg(long = "web.enable-lifecycle", overrides_with = "no_enable_lifecycle")]
    enable_lifecycle: bool,
    #[arg(long = "no-web.enable-lifecycle", hide = true)]
    no_enable_lifecycle: bool,
    /// Enable API endpoints for admin control actions.
    #[arg(long = "web.enable-admin-api", overrides_with = "no_enable_admin_api")]
    enable_admin_api: bool,
    #[arg(long = "no-web.enable-admin-api", hide = true)]
    no_enable_admin_api: bool,
    /// Use systemd socket activation listeners (not supported: refused when set).
    #[arg(long = "web.systemd-socket")]
    systemd_socket: bool,
    /// File to persist metrics. If empty, metrics are only kept in memory.
    #[arg(long = "persistence.file", default_value = "")]
    persistence_file: String,
    /// The minimum interval at which to write out the persistence file.
    #[arg(long = "persistence.interval", default_value = "5m")]
    persistence_interval: String,
    /// snapshot (like the Go server) or wal: also log every mutation and
    /// acknowledge a push only once it is on disk.
    #[arg(long = "persistence.mode", default_value = "snapshot")]
    persistence_mode: String,
    /// Do not check consistency of pushed metrics. DANGEROUS.
    #[arg(long = "push.disable-consistency-check", overrides_with = "no_disable_check")]
    disable_consistency_check: bool,
    #[arg(long = "no-push.disable-consistency-check", hide = true)]
    no_disable_check: bool,
    /// Allow UTF-8 characters in metric and label names.
    #[arg(long = "push.enable-utf8-names", overrides_with = "no_enable_utf8_names")]
    enable_utf8_names: bool,
    #[arg(long = "no-push.enable-utf8-names", hide = true)]
    no_enable_utf8_names: bool,
    /// Only log messages with the given severity or above: debug, info, warn, error.
    #[arg(long = "log.level", default_value = "info")]
    log_level: String,
    /// Output format of log messages: logfmt, json.
    #[arg(long = "log.format", default_value = "logfmt")]
    log_format: String,
    /// Largest decompressed push body in bytes; larger is answered 413.
    #[arg(long = "runtime.max-decompressed-bytes", default_value_t = 128 << 20)]
    max_decompressed_bytes: usize,
    /// Largest request head in bytes; larger is answered 431.
    #[arg(long = "runtime.max-header-bytes", default_value_t = crate::http::request::MAX_HEAD)]
    max_header_bytes: usize,
    /// Largest request body in bytes (before decompression); larger is answered 413.
    #[arg(long = "runtime.max-body-bytes", default_value_t = crate::http::request::MAX_BODY)]
    max_body_bytes: usize,
    /// Most open connections; more are answered 503 and closed.
    #[arg(long = "runtime.max-connections", default_value_t = 100_000)]
    max_connections: usize,
    /// Longest time a client may take to send one request (slowloris guard; 408).
    #[arg(long = "runtime.request-timeout", default_value = "1m")]
    request_timeout: String,
    /// Longest idle time of a keep-alive connection.
    #[arg(long = "runtime.idle-timeout", default_value = "5m")]
    idle_timeout: String,
    /// Most pipelined requests answered before their answers are written.
    #[arg(long = "runtime.max-pipelined", default_value_t = 256)]
    max_pipelined: usize,
    /// Most labels on one pushed series; more is answered 400.
    #[arg(long = "runtime.max-labels-per-series", default_value_t = 1000)]
    max_labels_per_series: usize,
    /// Longest label name in bytes; longer is answered 400.
    #[arg(long = "runtime.max-label-name-bytes", default_value_t = 1024)]
    max_label_name_bytes: usize,
    /// Longest label value in bytes; longer is answered 400.
    #[arg(long = "runtime.max-label-value-bytes", default_value_t = 65536)]
    max_label_value_bytes: usize,
    /// Most series in one push; more is answered 413.
    #[arg(long = "runtime.max-series-per-push", default_value_t = 1_000_000)]
    max_series_per_push: usize,
    /// Most groups stored (0: unlimited); a push creating one more is answered 429.
    #[arg(long = "runtime.max-groups", default_value_t = 0)]
    max_groups: usize,
    /// Answer scrapers that prefer OpenMetrics with OpenMetrics 1.0 (off: text
    /// 0.0.4, as the Pushgateway answers them).
    #[arg(long = "runtime.openmetrics-scrape")]
    openmetrics_scrape: bool,
    /// Expire a group not pushed for this long (0: never, as the Pushgateway).
    /// A push can set its own with the header `X-Pushgate-TTL: <duration>`.
    #[arg(long = "runtime.group-ttl", default_value = "0")]
    group_ttl: String,
    /// Number of cores (one runtime and store shard each); 0 = all available.
    #[arg(long = "runtime.cores", default_value_t = 0)]
    cores: usize,
    /// Scheduling policy of the core threads: batch (no wake-up preemption of
    /// a busy CPU's running task; see README) or normal.
    #[arg(long = "runtime.sched-policy", default_value = "batch")]
    sched_policy: String,
    /// Pin each core's thread to one CPU (off: the kernel places them).
    #[arg(long = "runtime.pin-threads", overrides_with = "no_pin_threads")]
    pin_threads: bool,
    #[arg(long = "no-runtime.pin-threads", hide = true)]
    no_pin_threads: bool,
}

/// Parses the process arguments (exits with usage on error, as clap does).
pub fn parse() -> Args {
    Args::parse()
}

impl Args {
    /// Validates the flags into a [`Config`].
    ///
    /// # Errors
    /// A message naming the bad flag.
    pub fn into_config(self) -> Result<Config, String> {
        if self.systemd_socket {
            return Err("--web.systemd-socket is not supported".to_owned());
        }
        let log_level = match self.log_level.as_str() {
            "debug" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "warn" => LogLevel::Warn,
            "error" => LogLevel::Error,
            other => return Err(format!("--log.level: unknown level {other:?}")),
        };
        let log_format = match self.log_format.as_str() {
            "logfmt" => LogFormat::Logfmt,
            "json" => LogFormat::Json,
            other => return Err(format!("--log.format: unknown format {other:?}")),
        };
        let persistence_mode = match self.persistence_mode.as_str() {
            "snapshot" => PersistenceMode::Snapshot,
            "wal" if self.persistence_file.is_empty() => {
                return Err("--persistence.mode=wal needs --persistence.file".to_owned())
            }
            "wal" => PersistenceMode::Wal,
            other => {
                return Err(format!("--persistence.mode: unknown mode {other:?} (snapshot, wal)"))
            }
        };
        let group_ttl =
            parse_duration(&self.group_ttl).map_err(|e| format!("--runtime.group-ttl: {e}"))?;
        let request_timeout = parse_duration(&self.request_timeout)
            .map_err(|e| format!("--runtime.request-timeout: {e}"))?;
        let idle_timeout = parse_duration(&self.idle_timeout)
            .map_err(|e| format!("--runtime.idle-timeout: {e}"))?;
        let persistence_interval = parse_duration(&self.persistence_interval)
            .map_err(|e| format!("--persistence.interval: {e}"))?;
        let external_path = if self.external_url.is_empty() {
            String::new()
        } else {
            let after_scheme =
                self.external_url.split_once("://").map(|(_, r)| r).unwrap_or(&self.external_url);
            after_scheme.find('/').map(|i| after_scheme[i..].to_owned()).unwrap_or_default()
        };
        let prefix_source =
            if self.route_prefix.is_empty() { &external_path } else { &self.route_prefix };
        let route_prefix = normalize_prefix(prefix_source);
        let telemetry_path = join_path(&route_prefix, &self.telemetry_path);
        let cores = if self.cores == 0 {
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
        } else {
            self.cores
        };
        let sched_policy = SchedPolicy::from_flag(&self.sched_policy).ok_or_else(|| {
            format!(
                "--runtime.sched-policy: unknown policy {:?} (batch, normal)",
                self.sched_policy
            )
        })?;
        let flags = [
            ("web.listen-address", self.listen_address.join(",")),
            ("web.config.file", self.web_config_file.clone()),
            ("web.telemetry-path", self.telemetry_path.clone()),
            ("web.external-url", self.external_url.clone()),
            ("web.route-prefix", self.route_prefix.clone()),
            ("web.enable-lifecycle", self.enable_lifecycle.to_string()),
            ("web.enable-admin-api", self.enable_admin_api.to_string()),
            ("web.systemd-socket", self.systemd_socket.to_string()),
            ("persistence.file", self.persistence_file.clone()),
            ("persistence.interval", format_duration(persistence_interval)),
            ("persistence.mode", self.persistence_mode.clone()),
            ("push.disable-consistency-check", self.disable_consistency_check.to_string()),
            ("push.enable-utf8-names", self.enable_utf8_names.to_string()),
            ("log.level", self.log_level.clone()),
            ("log.format", self.log_format.clone()),
            ("runtime.cores", cores.to_string()),
            ("runtime.sched-policy", sched_policy.as_flag().to_owned()),
            ("runtime.pin-threads", self.pin_threads.to_string()),
            ("runtime.max-decompressed-bytes", self.max_decompressed_bytes.to_string()),
            ("runtime.max-header-bytes", self.max_header_bytes.to_string()),
            ("runtime.max-body-bytes", self.max_body_bytes.to_string()),
            ("runtime.max-connections", self.max_connections.to_string()),
            ("runtime.request-timeout", format_duration(request_timeout)),
            ("runtime.idle-timeout", format_duration(idle_timeout)),
            ("runtime.max-pipelined", self.max_pipelined.to_string()),
            ("runtime.max-labels-per-series", self.max_labels_per_series.to_string()),
            ("runtime.max-label-name-bytes", self.max_label_name_bytes.to_string()),
            ("runtime.max-label-value-bytes", self.max_label_value_bytes.to_string()),
            ("runtime.max-series-per-push", self.max_series_per_push.to_string()),
            ("runtime.max-groups", self.max_groups.to_string()),
            ("runtime.group-ttl", format_duration(group_ttl)),
            ("runtime.openmetrics-scrape", self.openmetrics_scrape.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Ok(Config {
            listen_addresses: self.listen_address,
            web_config_file: self.web_config_file,
            route_prefix,
            telemetry_path,
            external_path,
            enable_lifecycle: self.enable_lifecycle,
            enable_admin_api: self.enable_admin_api,
            disable_consistency_check: self.disable_consistency_check,
            name_validation: if self.enable_utf8_names {
                crate::expfmt::escape::NameValidation::Utf8
            } else {
                crate::expfmt::escape::NameValidation::Legacy
            },
            persistence_file: self.persistence_file,
            persistence_interval,
            persistence_mode,
            log_level,
            log_format,
            max_decompressed_bytes: self.max_decompressed_bytes,
            http_limits: crate::http::request::Limits {
                max_head: self.max_header_bytes,
                max_body: self.max_body_bytes,
            },
            max_connections: self.max_connections.max(1),
            request_timeout,
            idle_timeout,
            max_pipelined: self.max_pipelined.max(1),
            group_ttl: (!group_ttl.is_zero()).then_some(group_ttl),
            openmetrics_scrape: self.openmetrics_scrape,
            push_limits: crate::store::limits::PushLimits {
                max_labels_per_series: self.max_labels_per_series,
                max_label_name_bytes: self.max_label_name_bytes,
                max_label_value_bytes: self.max_label_value_bytes,
                max_series_per_push: self.max_series_per_push,
                max_groups: self.max_groups,
            },
            cores,
            sched_policy,
            pin_threads: self.pin_threads,
            flags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<Config, String> {
        Args::try_parse_from(std::iter::once("pushgate").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?
            .into_config()
    }

    #[test]
    fn defaults_match_go() {
        let c = config(&[]).unwrap();
        assert_eq!(c.listen_addresses, [":9091"]);
        assert_eq!(c.telemetry_path, "/metrics");
        assert_eq!(c.flags["persistence.interval"], "5m0s");
        assert!(!c.enable_admin_api);
    }

    #[test]
    fn prefix_from_external_url_and_repeated_listen() {
        let c = config(&[
            "--web.external-url=http://example.com/foo/",
            "--web.listen-address=127.0.0.1:1",
            "--web.listen-address=127.0.0.1:2",
            "--persistence.file=",
        ])
        .unwrap();
        assert_eq!(c.route_prefix, "/foo");
        assert_eq!(c.telemetry_path, "/foo/metrics");
        assert_eq!(c.flags["web.listen-address"], "127.0.0.1:1,127.0.0.1:2");
    }

    #[test]
    fn thread_placement_flags() {
        let c = config(&[]).unwrap();
        assert_eq!(c.sched_policy, SchedPolicy::Batch);
        assert!(!c.pin_threads);
        assert_eq!(c.flags["runtime.sched-policy"], "batch");
        assert_eq!(c.flags["runtime.pin-threads"], "false");
        let c = config(&["--runtime.sched-policy=normal", "--runtime.pin-threads"]).unwrap();
        assert_eq!(c.sched_policy, SchedPolicy::Normal);
        assert!(c.pin_threads);
        let c = config(&["--runtime.pin-threads", "--no-runtime.pin-threads"]).unwrap();
        assert!(!c.pin_threads);
        let e = config(&["--runtime.sched-policy=fifo"]).unwrap_err();
        assert!(e.contains("--runtime.sched-policy") && e.contains("batch, normal"), "{e}");
    }

    #[test]
    fn booleans_accept_no_prefix() {
        let c = config(&["--web.enable-admin-api", "--no-web.enable-admin-api"]).unwrap();
        assert!(!c.enable_admin_api);
    }

    #[test]
    fn utf8_names_flag() {
        use crate::expfmt::escape::NameValidation;
        let c = config(&["--push.enable-utf8-names"]).unwrap();
        assert_eq!(c.name_validation, NameValidation::Utf8);
        assert_eq!(c.flags["push.enable-utf8-names"], "true");
        let c = config(&["--push.enable-utf8-names", "--no-push.enable-utf8-names"]).unwrap();
        assert_eq!(c.name_validation, NameValidation::Legacy);
        assert_eq!(config(&[]).unwrap().flags["push.enable-utf8-names"], "false");
    }

    #[test]
    fn unsupported_features_refuse_to_start() {
        assert_eq!(
            config(&["--web.config.file=/tmp/x"]).map(|c| c.web_config_file),
            Ok("/tmp/x".to_owned())
        );
    }
}
