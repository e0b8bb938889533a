//! Prometheus metrics in the text exposition format 0.0.4.
//!
//! A small registry of our own rather than a client library: the output must pass
//! `promtool check metrics` byte for byte (the OpenMetrics encoders name a counter family
//! without its `_total`, which the Prometheus text parser then reads as two families), and the
//! services need only counters, gauges and histograms with labels.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

type Labels = Vec<(String, String)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

#[derive(Debug, Clone, Default)]
struct HistogramValue {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

#[derive(Debug)]
struct Family {
    name: String,
    help: String,
    kind: Kind,
    buckets: Vec<f64>,
    values: BTreeMap<Labels, f64>,
    histograms: BTreeMap<Labels, HistogramValue>,
}

#[derive(Debug, Default)]
struct Inner {
    families: Vec<Family>,
}

/// The registry of one process. Cheap to clone; every handle shares it.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    inner: Arc<Mutex<Inner>>,
}

/// A monotonically increasing count.
#[derive(Debug, Clone)]
pub struct Counter {
    registry: Registry,
    index: usize,
}

/// A value that goes up and down.
#[derive(Debug, Clone)]
pub struct Gauge {
    registry: Registry,
    index: usize,
}

/// A distribution of observations in fixed buckets.
#[derive(Debug, Clone)]
pub struct Histogram {
    registry: Registry,
    index: usize,
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        // A panic while holding the lock cannot leave a half-updated number that matters more
        // than losing every metric afterwards, so a poisoned lock is simply taken over.
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    fn register(&self, name: &str, help: &str, kind: Kind, buckets: Vec<f64>) -> usize {
        self.with(|inner| {
            if let Some(i) = inner.families.iter().position(|f| f.name == name) {
                return i;
            }
            inner.families.push(Family {
                name: name.to_string(),
                help: help.to_string(),
                kind,
                buckets,
                values: BTreeMap::new(),
                histograms: BTreeMap::new(),
            });
            inner.families.len() - 1
        })
    }

    /// Registers (or returns the existing) counter `name`, which must end in `_total`.
    pub fn counter(&self, name: &str, help: &str) -> Counter {
        Counter {
            registry: self.clone(),
            index: self.register(name, help, Kind::Counter, Vec::new()),
        }
    }

    /// Registers (or returns the existing) gauge `name`.
    pub fn gauge(&self, name: &str, help: &str) -> Gauge {
        Gauge {
            registry: self.clone(),
            index: self.register(name, help, Kind::Gauge, Vec::new()),
        }
    }

    /// Registers (or returns the existing) histogram `name` with upper bounds `buckets`.
    pub fn histogram(&self, name: &str, help: &str, buckets: &[f64]) -> Histogram {
        Histogram {
            registry: self.clone(),
            index: self.register(name, help, Kind::Histogram, buckets.to_vec()),
        }
    }

    /// The whole registry in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.with(|inner| {
            for f in &inner.families {
                let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(&f.help));
                let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
                match f.kind {
                    Kind::Counter | Kind::Gauge => {
                        for (l, v) in &f.values {
                            let _ =
                                writeln!(out, "{}{} {}", f.name, fmt_labels(l, None), fmt_f64(*v));
                        }
                    }
                    Kind::Histogram => {
                        for (l, h) in &f.histograms {
                            let mut cumulative = 0;
                            for (i, b) in f.buckets.iter().enumerate() {
                                cumulative += h.counts.get(i).copied().unwrap_or(0);
                                let le = fmt_f64(*b);
                                let _ = writeln!(
                                    out,
                                    "{}_bucket{} {}",
                                    f.name,
                                    fmt_labels(l, Some(&le)),
                                    cumulative
                                );
                            }
                            let _ = writeln!(
                                out,
                                "{}_bucket{} {}",
                                f.name,
                                fmt_labels(l, Some("+Inf")),
                                h.count
                            );
                            let _ = writeln!(
                                out,
                                "{}_sum{} {}",
                                f.name,
                                fmt_labels(l, None),
                                fmt_f64(h.sum)
                            );
                            let _ = writeln!(
                                out,
                                "{}_count{} {}",
                                f.name,
                                fmt_labels(l, None),
                                h.count
                            );
                        }
                    }
                }
            }
        });
        out
    }
}

impl Counter {
    /// Adds `n` to the series with `labels`.
    pub fn inc_by(&self, labels_: &[(&str, &str)], n: u64) {
        let key = labels(labels_);
        self.registry.with(|inner| {
            *inner.families[self.index].values.entry(key).or_insert(0.0) += n as f64;
        });
    }

    /// Adds one.
    pub fn inc(&self, labels_: &[(&str, &str)]) {
        self.inc_by(labels_, 1);
    }

    /// Makes the series exist at 0, so that dashboards and `rate()` see it before the first
    /// event.
    pub fn touch(&self, labels_: &[(&str, &str)]) {
        self.inc_by(labels_, 0);
    }

    /// The current value (tests and health output).
    pub fn get(&self, labels_: &[(&str, &str)]) -> f64 {
        let key = labels(labels_);
        self.registry.with(|inner| {
            inner.families[self.index]
                .values
                .get(&key)
                .copied()
                .unwrap_or(0.0)
        })
    }
}

impl Gauge {
    /// Sets the series with `labels` to `v`.
    pub fn set(&self, labels_: &[(&str, &str)], v: f64) {
        let key = labels(labels_);
        self.registry.with(|inner| {
            inner.families[self.index].values.insert(key, v);
        });
    }
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, labels_: &[(&str, &str)], v: f64) {
        let key = labels(labels_);
        self.registry.with(|inner| {
            let f = &mut inner.families[self.index];
            let n = f.buckets.len();
            let bucket = f.buckets.iter().position(|b| v <= *b);
            let h = f.histograms.entry(key).or_insert_with(|| HistogramValue {
                counts: vec![0; n],
                ..HistogramValue::default()
            });
            if let Some(i) = bucket {
                h.counts[i] += 1;
            }
            h.sum += v;
            h.count += 1;
        });
    }
}

fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn fmt_labels(l: &Labels, le: Option<&str>) -> String {
    if l.is_empty() && le.is_none() {
        return String::new();
    }
    let mut parts: Vec<String> = l
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_value(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    format!("{{{}}}", parts.join(","))
}

fn fmt_f64(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if v.is_nan() {
        "NaN".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Latency buckets, in seconds, from 0.5 ms to 10 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The metrics every service exports.
#[derive(Debug, Clone)]
pub struct ServiceMetrics {
    /// The registry they live in (role-specific metrics are added to it).
    pub registry: Registry,
    /// Messages read, by stream.
    pub messages_in: Counter,
    /// Messages written, by stream.
    pub messages_out: Counter,
    /// Messages that could not be processed, by stream and reason.
    pub messages_failed: Counter,
    /// Time to process one batch, by stage.
    pub processing: Histogram,
    /// Entries of the stream not yet delivered to the group, by stream and group.
    pub stream_lag: Gauge,
    /// Entries delivered to the group but not acknowledged, by stream and group.
    pub stream_pending: Gauge,
    /// HTTP requests served, by path and status code.
    pub http_requests: Counter,
    service: String,
}

impl ServiceMetrics {
    /// The standard metrics of `service`.
    pub fn new(service: &str) -> Self {
        let registry = Registry::new();
        let info = registry.gauge(
            "cdb_service_info",
            "Which service and version this process is.",
        );
        info.set(
            &[("service", service), ("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );
        ServiceMetrics {
            messages_in: registry.counter("cdb_messages_in_total", "Stream messages read."),
            messages_out: registry.counter("cdb_messages_out_total", "Stream messages written."),
            messages_failed: registry.counter(
                "cdb_messages_failed_total",
                "Stream messages that could not be processed.",
            ),
            processing: registry.histogram(
                "cdb_processing_seconds",
                "Time to process one batch of messages.",
                LATENCY_BUCKETS,
            ),
            stream_lag: registry.gauge(
                "cdb_stream_lag",
                "Entries of a stream not yet delivered to a consumer group.",
            ),
            stream_pending: registry.gauge(
                "cdb_stream_pending",
                "Entries delivered to a consumer group but not yet acknowledged.",
            ),
            http_requests: registry.counter("cdb_http_requests_total", "HTTP requests served."),
            registry,
            service: service.to_string(),
        }
    }

    /// The service name.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Everything, process metrics included.
    pub fn render(&self) -> String {
        let mut out = self.registry.render();
        out.push_str(&process_metrics());
        out
    }
}

/// Linux assumes 100 clock ticks per second and 4 KiB pages on every platform we ship to
/// (x86_64, aarch64 with 4 KiB pages); reading sysconf would need libc.
const CLOCK_TICKS: f64 = 100.0;
const PAGE_SIZE: f64 = 4096.0;

/// `process_*` metrics from /proc, as the official client libraries name them.
pub fn process_metrics() -> String {
    let mut out = String::new();
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return out;
    };
    // The command name (field 2) may contain spaces; the fields after it are space-separated.
    let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return out;
    };
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| -> f64 { f.get(n - 3).and_then(|v| v.parse().ok()).unwrap_or(0.0) };
    let cpu = (field(14) + field(15)) / CLOCK_TICKS;
    let threads = field(20);
    let start_ticks = field(22);
    let vsize = field(23);
    let rss = field(24) * PAGE_SIZE;
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("btime ")
                    .and_then(|v| v.trim().parse::<f64>().ok())
            })
        })
        .unwrap_or(0.0);
    let fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0);
    let max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(3)
                        .and_then(|v| v.parse::<f64>().ok())
                })
        })
        .unwrap_or(0.0);
    let mut put = |name: &str, kind: &str, help: &str, v: f64| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name} {}", fmt_f64(v));
    };
    put(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        cpu,
    );
    put(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        rss,
    );
    put(
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
        vsize,
    );
    put(
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
        fds as f64,
    );
    put(
        "process_max_fds",
        "gauge",
        "Maximum number of open file descriptors.",
        max_fds,
    );
    put(
        "process_threads",
        "gauge",
        "Number of OS threads in the process.",
        threads,
    );
    put(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        boot + start_ticks / CLOCK_TICKS,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_gauges_and_histograms_render_in_the_text_format() {
        let r = Registry::new();
        let c = r.counter("t_events_total", "Events.");
        c.inc(&[("stream", "a\"b")]);
        c.inc_by(&[("stream", "a\"b")], 2);
        let g = r.gauge("t_lag", "Lag.");
        g.set(&[], 1.5);
        let h = r.histogram("t_seconds", "Latency.", &[0.1, 1.0]);
        h.observe(&[("stage", "x")], 0.05);
        h.observe(&[("stage", "x")], 0.5);
        h.observe(&[("stage", "x")], 5.0);
        let text = r.render();
        assert!(
            text.contains("t_events_total{stream=\"a\\\"b\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE t_lag gauge\nt_lag 1.5\n"), "{text}");
        assert!(
            text.contains("t_seconds_bucket{stage=\"x\",le=\"0.1\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("t_seconds_bucket{stage=\"x\",le=\"1\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("t_seconds_bucket{stage=\"x\",le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("t_seconds_count{stage=\"x\"} 3\n"), "{text}");
        assert!(text.contains("t_seconds_sum{stage=\"x\"} 5.55\n"), "{text}");
    }

    #[test]
    fn process_metrics_are_read_from_proc() {
        let text = process_metrics();
        let rss_line = text
            .lines()
            .find(|l| l.starts_with("process_resident_memory_bytes "))
            .unwrap();
        let rss: f64 = rss_line.split(' ').nth(1).unwrap().parse().unwrap();
        assert!(rss > 0.0);
    }
}
