//! The server's own metrics, kept with the `prometheus-client` crate under the
//! Go Pushgateway's names and labels (spec 4.5), plus `process_*`.
//!
//! Owns recording (atomics, shared by all cores) and turning the crate's
//! OpenMetrics output into stored families so a scrape merges them with the
//! pushed ones by name. The two push summaries are kept by `summary.rs`, as
//! the crate has no summary type. Deviation from the Go server, by design:
//! no `go_*` families (this is not a Go process).

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::MetricType as PcType;
use prometheus_client::registry::Registry;

use crate::expfmt::{openmetrics, Label, Metric, MetricType, Value};
use crate::store::group::{StoredFamily, StoredSeries};
use crate::store::index::Index;

mod summary;
use summary::Summary;

type Labels = Vec<(&'static str, String)>;
/// Request labels: all static strings, so counting allocates nothing
/// (the label set is cloned only the first time a combination is seen).
type RequestLabels = [(&'static str, &'static str); 3];

/// The server's own metrics.
#[derive(Debug)]
pub struct SelfMetrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    /// Duration and size summaries of PUT (0) and POST (1) pushes, made
    /// at the first push of each, as Go shows a series once observed.
    pushes: [OnceLock<Box<PushSummaries>>; 2],
    refused: Family<[(&'static str, &'static str); 1], Counter>,
    expired: Counter,
}

/// Names and types of the own families, registered in the consistency index
/// so pushes must agree with their types (spec 2.5).
pub const OWN_FAMILIES: &[(&str, MetricType)] = &[
    ("pushgateway_build_info", MetricType::Gauge),
    ("pushgateway_http_requests_total", MetricType::Counter),
    ("pushgateway_http_push_duration_seconds", MetricType::Summary),
    ("pushgateway_http_push_size_bytes", MetricType::Summary),
    ("pushgate_refused_requests_total", MetricType::Counter),
    ("pushgate_expired_groups_total", MetricType::Counter),
    ("process_cpu_seconds_total", MetricType::Counter),
    ("process_max_fds", MetricType::Gauge),
    ("process_open_fds", MetricType::Gauge),
    ("process_resident_memory_bytes", MetricType::Gauge),
    ("process_start_time_seconds", MetricType::Gauge),
    ("process_virtual_memory_bytes", MetricType::Gauge),
    ("process_virtual_memory_max_bytes", MetricType::Gauge),
];

impl SelfMetrics {
    /// Creates the registry; `started` is the process start time.
    pub fn new(started: SystemTime) -> SelfMetrics {
        // `Registry::register` ends each HELP text with a period of its own,
        // so the texts below leave theirs out.
        let mut registry = Registry::default();
        let build = Family::<Labels, Gauge>::default();
        build
            .get_or_create(&vec![
                ("branch", String::new()),
                ("goarch", std::env::consts::ARCH.to_owned()),
                ("goos", std::env::consts::OS.to_owned()),
                ("goversion", "none (pushgate is written in Rust)".to_owned()),
                ("revision", String::new()),
                ("version", env!("CARGO_PKG_VERSION").to_owned()),
            ])
            .set(1);
        registry.register(
            "pushgateway_build_info",
            "A metric with a constant '1' value labeled by version, revision, branch, goversion \
             from which pushgateway was built, and the goos and goarch for the build",
            build,
        );
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "pushgateway_http_requests",
            "Total HTTP requests processed by the Pushgateway, excluding scrapes",
            requests.clone(),
        );
        let refused = Family::<[(&'static str, &'static str); 1], Counter>::default();
        registry.register(
            "pushgate_refused_requests",
            "Requests refused by a limit or as malformed, by reason (Pushgate only)",
            refused.clone(),
        );
        let expired = Counter::default();
        registry.register(
            "pushgate_expired_groups",
            "Groups deleted because they were not pushed within their TTL (Pushgate only)",
            expired.clone(),
        );
        registry.register_collector(Box::new(ProcessCollector { started }));
        SelfMetrics { registry, requests, pushes: Default::default(), refused, expired }
    }

    /// Registers the own families' types in the consistency index.
    pub fn register_in(index: &Index) {
        for (name, typ) in OWN_FAMILIES {
            index.register_own(name, *typ);
        }
    }

    /// Counts a request to `handler` (spec 1.10 names) answered with `code`.
    pub fn count_request(&self, code: u16, handler: &'static str, method: &str) {
        self.requests
            .get_or_create(&[
                ("code", code_str(code)),
                ("handler", handler),
                ("method", method_str(method)),
            ])
            .inc();
    }

    /// Counts groups expired by their TTL.
    pub fn expired(&self, n: usize) {
        self.expired.inc_by(n as u64);
    }

    /// Counts a request refused by a limit or as malformed.
    pub fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&[("reason", reason)]).inc();
    }

    /// Observes a push's (PUT or POST) duration and approximate size.
    pub fn observe_push(&self, method: &str, seconds: f64, size: usize) {
        let i = usize::from(method != "PUT");
        let summaries = self.pushes[i].get_or_init(Box::default);
        let now = crate::store::group::unix_seconds(SystemTime::now()) as u64;
        let [duration, size_bytes] = &summaries.0;
        duration.observe(seconds, now);
        size_bytes.observe(size as f64, now);
    }

    /// The own metrics as stored families (labels as they are; no job).
    pub fn families(&self) -> Vec<Arc<StoredFamily>> {
        let mut om = String::with_capacity(4096);
        if prometheus_client::encoding::text::encode(&mut om, &self.registry).is_err() {
            return Vec::new();
        }
        // The crate speaks OpenMetrics; our OpenMetrics reader maps it to the
        // families a 0.0.4 scrape shows (counters named `_total`).
        let Ok(parsed) = openmetrics::parse(om.as_bytes()) else {
            return Vec::new();
        };
        let now = SystemTime::now();
        let stored = |f: crate::expfmt::Family<'_>| {
            let series = f.metrics.iter().map(StoredSeries::from_metric).collect();
            let help = f.help.map(|h| h.into_owned().into());
            Arc::new(StoredFamily::new(f.name.into_owned().into(), help, f.typ, series, now))
        };
        let mut families: Vec<Arc<StoredFamily>> = parsed.into_iter().map(stored).collect();
        let secs = crate::store::group::unix_seconds(now) as u64;
        let observed =
            || self.pushes.iter().zip(["put", "post"]).filter_map(|(p, m)| Some((p.get()?, m)));
        for (k, (name, help)) in PUSH_SUMMARIES.into_iter().enumerate() {
            let metrics: Vec<Metric<'_>> = observed()
                .map(|(p, method)| summary_metric(method, &p.0[k].snapshot(secs)))
                .collect();
            if !metrics.is_empty() {
                families.push(stored(crate::expfmt::Family {
                    name: name.into(),
                    help: Some(help.into()),
                    typ: MetricType::Summary,
                    metrics,
                    problems: Vec::new(),
                }));
            }
        }
        families
    }
}

/// The push summaries' names and HELP texts, in [`PushSummaries`] order.
const PUSH_SUMMARIES: [(&str, &str); 2] = [
    (
        "pushgateway_http_push_duration_seconds",
        "HTTP request duration for pushes to the Pushgateway.",
    ),
    ("pushgateway_http_push_size_bytes", "HTTP request size for pushes to the Pushgateway."),
];

/// The duration and size summaries of one push method.
#[derive(Debug, Default)]
struct PushSummaries([Summary; 2]);

/// A summary series labelled `method`.
fn summary_metric(method: &'static str, s: &summary::Snapshot) -> Metric<'static> {
    Metric {
        labels: [Label { name: "method".into(), value: method.into() }].into_iter().collect(),
        value: Value::Summary {
            count: s.count,
            sum: s.sum,
            quantiles: summary::QUANTILES.iter().copied().zip(s.quantiles).collect(),
        },
        timestamp_ms: None,
        raw_value: None,
    }
}

/// The lower-case method label (spec 1.10); methods we never route are "other".
fn method_str(method: &str) -> &'static str {
    match method {
        "GET" => "get",
        "PUT" => "put",
        "POST" => "post",
        "DELETE" => "delete",
        "OPTIONS" => "options",
        "HEAD" => "head",
        _ => "other",
    }
}

/// The status code as a static string (the codes this server answers).
fn code_str(code: u16) -> &'static str {
    match code {
        200 => "200",
        202 => "202",
        301 => "301",
        307 => "307",
        400 => "400",
        403 => "403",
        404 => "404",
        405 => "405",
        413 => "413",
        415 => "415",
        431 => "431",
        500 => "500",
        503 => "503",
        _ => "other",
    }
}

/// `process_*` metrics from `/proc/self` (Linux; absent elsewhere).
#[derive(Debug)]
struct ProcessCollector {
    started: SystemTime,
}

/// Kernel clock ticks per second for /proc CPU times (USER_HZ, 100 on Linux ABIs).
const CLOCK_TICKS: f64 = 100.0;
/// Page size for /proc RSS counts (4 KiB on the platforms we ship for).
const PAGE_SIZE: f64 = 4096.0;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let started = crate::store::group::unix_seconds(self.started);
        let gauge = |enc: &mut DescriptorEncoder<'_>, name: &str, help: &str, v: f64| {
            let m = enc.encode_descriptor(name, help, None, PcType::Gauge)?;
            ConstGauge::new(v).encode(m)
        };
        gauge(
            &mut encoder,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            started,
        )?;
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
            // Fields after the parenthesised command name; see proc(5).
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, r)| r.split_whitespace().collect())
                .unwrap_or_default();
            let num = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            let cpu = (num(11) + num(12)) / CLOCK_TICKS;
            let m = encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                None,
                PcType::Counter,
            )?;
            ConstCounter::new(cpu).encode(m)?;
            gauge(
                &mut encoder,
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                num(20),
            )?;
            gauge(
                &mut encoder,
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                num(21) * PAGE_SIZE,
            )?;
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            let open = dir.count() as f64;
            gauge(&mut encoder, "process_open_fds", "Number of open file descriptors.", open)?;
        }
        if let Ok(limits) = std::fs::read_to_string("/proc/self/limits") {
            if let Some(max) = soft_limit(&limits, "Max open files") {
                gauge(
                    &mut encoder,
                    "process_max_fds",
                    "Maximum number of open file descriptors.",
                    max,
                )?;
            }
            if let Some(max) = soft_limit(&limits, "Max address space") {
                gauge(
                    &mut encoder,
                    "process_virtual_memory_max_bytes",
                    "Maximum amount of virtual memory available in bytes.",
                    max,
                )?;
            }
        }
        Ok(())
    }
}

/// The soft limit on the `/proc/self/limits` line starting with `what`
/// (column names as in proc(5)); `unlimited` is the largest `u64`, as the
/// Go collector reports it.
fn soft_limit(limits: &str, what: &str) -> Option<f64> {
    let line = limits.lines().find(|l| l.starts_with(what))?;
    let soft = line.get(what.len()..)?.split_whitespace().next()?;
    if soft == "unlimited" {
        return Some(u64::MAX as f64);
    }
    soft.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_limits_are_read_from_proc_limits() {
        let limits =
            "Limit                     Soft Limit           Hard Limit           Units     \n\
            Max open files            1024                 524288               files     \n\
            Max address space         unlimited            unlimited            bytes     \n";
        assert_eq!(soft_limit(limits, "Max open files"), Some(1024.0));
        assert_eq!(soft_limit(limits, "Max address space"), Some(1.8446744073709552e19));
        assert_eq!(soft_limit(limits, "Max locked memory"), None);
    }

    #[test]
    fn own_families_render_with_go_names() {
        let m = SelfMetrics::new(SystemTime::now());
        m.count_request(202, "delete", "DELETE");
        m.observe_push("PUT", 0.001, 156);
        m.refused("bad_head");
        let fams = m.families();
        let names: Vec<&str> = fams.iter().map(|f| &*f.name).collect();
        for (name, typ) in OWN_FAMILIES {
            if name.starts_with("process_") && !cfg!(target_os = "linux") {
                continue;
            }
            let f = fams
                .iter()
                .find(|f| &*f.name == *name)
                .unwrap_or_else(|| panic!("{name} in {names:?}"));
            assert_eq!(f.typ, *typ, "{name}");
        }
        // Each HELP text as the Go server writes it: one final period.
        for f in &fams {
            let help = f.help.as_deref().unwrap_or_default();
            assert!(help.ends_with('.') && !help.ends_with(".."), "{}: {help:?}", f.name);
        }
        let help = |name: &str| fams.iter().find(|f| &*f.name == name).and_then(|f| f.help.clone());
        assert_eq!(
            help("pushgateway_http_requests_total").as_deref(),
            Some("Total HTTP requests processed by the Pushgateway, excluding scrapes.")
        );
        let req = fams.iter().find(|f| &*f.name == "pushgateway_http_requests_total").unwrap();
        assert_eq!(
            String::from_utf8_lossy(req.text()),
            "pushgateway_http_requests_total{code=\"202\",handler=\"delete\",method=\"delete\"} 1\n"
        );
    }
}
