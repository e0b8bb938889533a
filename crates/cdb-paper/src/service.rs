//! What every service shares: logging, the HTTP server with `/health` and `/metrics`, the
//! shutdown flag, and the rule that a worker runs until shutdown and then finishes what it
//! has read.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::config::{Common, Env};
use crate::errors::Error;
use crate::http::{self, HealthFn, HttpClient, Routes};
use crate::metrics::ServiceMetrics;
use crate::shutdown::{self, Shutdown};
use crate::streams::RedisConn;

/// Exit code: stopped cleanly.
pub const EXIT_OK: i32 = 0;
/// Exit code: a fatal runtime error.
pub const EXIT_FAILED: i32 = 1;
/// Exit code: bad configuration or usage.
pub const EXIT_CONFIG: i32 = 2;

/// Sets up tracing: JSON lines with `LOG_FORMAT=json`, text otherwise; `RUST_LOG` filters.
pub fn init_logging(env: &Env) {
    let filter = tracing_subscriber::EnvFilter::try_new(env.string("RUST_LOG", "info"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stdout);
    if env
        .string("LOG_FORMAT", "text")
        .eq_ignore_ascii_case("json")
    {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

/// A dependency `/health` checks.
#[derive(Debug, Clone)]
pub enum Probe {
    /// PING.
    Redis(String),
    /// `SELECT 1`.
    Postgres(String),
    /// GET, expecting 200.
    Http(String),
}

impl Probe {
    fn name(&self) -> &'static str {
        match self {
            Probe::Redis(_) => "redis",
            Probe::Postgres(_) => "postgres",
            Probe::Http(_) => "paper_exchange",
        }
    }

    async fn check(&self, client: &HttpClient) -> Result<(), String> {
        match self {
            Probe::Redis(url) => {
                let mut conn =
                    RedisConn::new(url, Duration::from_secs(1)).map_err(|e| e.to_string())?;
                let pong: Result<String, Error> = conn.query("PING", &redis::cmd("PING")).await;
                pong.map(|_| ()).map_err(|e| e.to_string())
            }
            Probe::Postgres(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
                let task = tokio::spawn(connection);
                let r = client
                    .simple_query("SELECT 1")
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                drop(client);
                let _ = task.await;
                r
            }
            Probe::Http(url) => match client.send(hyper::Method::GET, url, None).await {
                Ok((s, _)) if s.is_success() => Ok(()),
                Ok((s, _)) => Err(format!("answered {s}")),
                Err(e) => Err(e.to_string()),
            },
        }
    }
}

/// What a worker is given.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The shared settings.
    pub common: Common,
    /// The service's metrics.
    pub metrics: ServiceMetrics,
    /// The shutdown flag.
    pub shutdown: Shutdown,
}

/// Logs a failing dependency at most every few seconds, so a long outage is visible without
/// flooding the log.
#[derive(Debug)]
pub struct Backoff {
    delay: Duration,
    last_log: Option<Instant>,
    failures: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            delay: Duration::from_millis(100),
            last_log: None,
            failures: 0,
        }
    }
}

impl Backoff {
    /// Records a failure, logs it if due, and sleeps (less if shutdown starts).
    pub async fn failed(&mut self, what: &str, e: &Error, shutdown: &mut Shutdown) {
        self.failures += 1;
        if self
            .last_log
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(5))
        {
            tracing::warn!(error = %e, failures = self.failures, "{what} failed; retrying");
            self.last_log = Some(Instant::now());
        }
        let _ = shutdown.sleep(self.delay).await;
        self.delay = (self.delay * 2).min(Duration::from_secs(2));
    }

    /// Records a success.
    pub fn ok(&mut self) {
        if self.failures > 0 {
            tracing::info!(failures = self.failures, "recovered");
        }
        self.failures = 0;
        self.delay = Duration::from_millis(100);
    }
}

/// The next batch of `consumer`, or `None` when there is nothing to do this turn: the read
/// failed (logged as `reading <what>`, backed off, the pending entries read again next time)
/// or nothing arrived in time.
pub async fn next_batch(
    consumer: &mut crate::streams::Consumer,
    backoff: &mut Backoff,
    shutdown: &mut Shutdown,
    what: &str,
) -> Option<Vec<crate::streams::Entry>> {
    match consumer.next_batch().await {
        Ok(batch) if batch.is_empty() => None,
        Ok(batch) => Some(batch),
        Err(e) => {
            backoff
                .failed(&format!("reading {what}"), &e, shutdown)
                .await;
            consumer.retry_pending();
            None
        }
    }
}

/// Runs one service: the HTTP server and `worker` until SIGTERM/SIGINT, then waits for the
/// worker to finish its batch, stops the server and logs a final line. Returns the exit code.
pub async fn run<W, F>(
    name: &'static str,
    probes: Vec<Probe>,
    routes: Routes,
    metrics: ServiceMetrics,
    worker: W,
) -> i32
where
    W: FnOnce(Ctx) -> F,
    F: Future<Output = Result<(), Error>> + Send + 'static,
{
    let env = Env;
    let common = match Common::from_env(&env) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            return EXIT_CONFIG;
        }
    };
    let started = Instant::now();
    let fault_exit_code = common.fault_shutdown_exit_code;
    let (trigger, shutdown) = shutdown::channel();
    let stopping = Arc::new(AtomicBool::new(false));
    let http_shutdown = trigger.subscribe();
    shutdown::on_signals(trigger);

    let health = health_fn(name, probes, stopping.clone());
    let addr = common.http_addr.clone();
    let server_metrics = metrics.clone();
    let server = tokio::spawn(async move {
        http::serve(&addr, server_metrics, health, routes, http_shutdown).await
    });
    tracing::info!(
        service = name,
        version = env!("CARGO_PKG_VERSION"),
        consumer = %common.consumer_name,
        "starting"
    );
    let ctx = Ctx {
        common,
        metrics,
        shutdown: shutdown.clone(),
    };
    let mut worker = tokio::spawn(worker(ctx));
    let mut server = server;
    let mut server_done = false;
    let result = tokio::select! {
        r = &mut worker => r,
        r = &mut server => {
            server_done = true;
            // The server returns first when it cannot listen, or when shutdown has started
            // and it has no open requests left; the worker is still finishing its batch.
            if let Ok(Err(e)) = r {
                tracing::error!(error = %e, "http server failed");
                return EXIT_FAILED;
            }
            worker.await
        }
    };
    stopping.store(true, Ordering::SeqCst);
    let code = match result {
        Ok(Ok(())) => EXIT_OK,
        Ok(Err(Error::Config(e))) => {
            tracing::error!(error = %e, "invalid configuration");
            EXIT_CONFIG
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "stopped on an error");
            EXIT_FAILED
        }
        Err(e) => {
            tracing::error!(error = %e, "worker task failed");
            EXIT_FAILED
        }
    };
    if !server_done {
        let _ = tokio::time::timeout(Duration::from_secs(6), server).await;
    }
    let code = if code == EXIT_OK && fault_exit_code != 0 {
        tracing::warn!(
            exit_code = fault_exit_code,
            "FAULT_SHUTDOWN_EXIT_CODE is set: exiting with it"
        );
        fault_exit_code
    } else {
        code
    };
    tracing::info!(
        service = name,
        exit_code = code,
        uptime_s = started.elapsed().as_secs_f64(),
        "shutdown complete"
    );
    code
}

fn health_fn(name: &'static str, probes: Vec<Probe>, stopping: Arc<AtomicBool>) -> HealthFn {
    let client = HttpClient::new(Duration::from_secs(1));
    let probes = Arc::new(probes);
    Arc::new(move || {
        let probes = probes.clone();
        let client = client.clone();
        let stopping = stopping.clone();
        Box::pin(async move {
            let mut checks = serde_json::Map::new();
            let mut ok = true;
            for p in probes.iter() {
                let t = Instant::now();
                let r = tokio::time::timeout(Duration::from_secs(2), p.check(&client))
                    .await
                    .unwrap_or_else(|_| Err("no answer within 2s".into()));
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                let entry = match r {
                    Ok(()) => serde_json::json!({"status": "ok", "latency_ms": ms}),
                    Err(e) => {
                        ok = false;
                        serde_json::json!({"status": "unavailable", "error": e, "latency_ms": ms})
                    }
                };
                checks.insert(p.name().to_string(), entry);
            }
            if stopping.load(Ordering::SeqCst) {
                ok = false;
            }
            let status = if stopping.load(Ordering::SeqCst) {
                "stopping"
            } else if ok {
                "ok"
            } else {
                "unavailable"
            };
            (
                ok,
                serde_json::json!({
                    "service": name,
                    "version": env!("CARGO_PKG_VERSION"),
                    "status": status,
                    "checks": checks,
                }),
            )
        })
    })
}

/// `cdb-paper healthcheck`: GET /health on this container's port; exit 0 on 200, 1 otherwise.
/// Plain std networking, so the scratch image needs no shell, curl or wget.
pub fn healthcheck(addr: &str) -> i32 {
    use std::io::{Read, Write};
    use std::net::{TcpStream, ToSocketAddrs};
    let target = addr.replace("0.0.0.0", "127.0.0.1");
    let Some(sock) = target.to_socket_addrs().ok().and_then(|mut a| a.next()) else {
        eprintln!("healthcheck: cannot resolve {target}");
        return EXIT_FAILED;
    };
    let timeout = Duration::from_secs(3);
    let mut stream = match TcpStream::connect_timeout(&sock, timeout) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("healthcheck: cannot connect to {target}: {e}");
            return EXIT_FAILED;
        }
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    if let Err(e) = stream.write_all(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n") {
        eprintln!("healthcheck: {e}");
        return EXIT_FAILED;
    }
    let mut resp = String::new();
    let _ = stream.read_to_string(&mut resp);
    let status = resp.split_whitespace().nth(1).unwrap_or("");
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("");
    println!("{body}");
    if status == "200" {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}
