//! `execution`: places approved orders on the paper exchange and reports fills (or the
//! exchange's refusal). The client order id is the order id, and the exchange answers a repeated
//! id with the fill it already made, so retrying after a timeout or a crash never trades twice.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use hyper::{Method, StatusCode};

use crate::config::Env;
use crate::errors::Error;
use crate::http::HttpClient;
use crate::metrics::ServiceMetrics;
use crate::model::{EXECUTIONS_STREAM, ExecutionReport, Fill, ORDERS_STREAM, Order};
use crate::service::{self, Backoff, Ctx};
use crate::shutdown::Shutdown;
use crate::streams::{Consumer, RedisConn, xack, xadd};

/// The consumer group.
pub const GROUP: &str = "execution";

/// How orders are placed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Orders in flight at once.
    pub concurrency: usize,
    /// How long one order is retried while the exchange is unreachable or failing (5xx) before
    /// it is reported rejected (`exchange_unavailable`).
    pub retry_budget: Duration,
}

impl Settings {
    /// From the environment (see [`crate::config`]).
    pub fn from_env(env: &Env) -> Result<Self, Error> {
        Ok(Settings {
            concurrency: env.parse("EXECUTION_CONCURRENCY", 64usize)?.max(1),
            retry_budget: env.millis("EXECUTION_RETRY_BUDGET_MS", 30_000)?,
        })
    }
}

/// Places one order. `None` means shutdown started while the exchange was failing: the order
/// is left unacknowledged, and the next start places it again (the exchange deduplicates).
async fn place(
    client: &HttpClient,
    base: &str,
    order: &Order,
    settings: &Settings,
    metrics: &ServiceMetrics,
    shutdown: &Shutdown,
) -> Option<ExecutionReport> {
    let body = serde_json::json!({
        "client_order_id": order.id,
        "symbol": order.symbol,
        "side": order.side,
        "quantity": order.quantity,
    })
    .to_string();
    let url = format!("{base}/api/v1/orders");
    let started = Instant::now();
    let mut delay = Duration::from_millis(20);
    let mut last_error;
    loop {
        match client
            .send(Method::POST, &url, Some(Bytes::from(body.clone())))
            .await
        {
            Ok((status, bytes)) if status.is_success() => {
                match serde_json::from_slice::<Fill>(&bytes) {
                    Ok(fill) => {
                        metrics.exchange_calls().inc(&[("outcome", "filled")]);
                        return Some(ExecutionReport::Filled { fill });
                    }
                    Err(e) => last_error = format!("unreadable fill: {e}"),
                }
            }
            Ok((status, bytes))
                if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS =>
            {
                // The exchange refuses the order itself: retrying cannot help.
                let reason = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                    .unwrap_or_else(|| format!("http_{}", status.as_u16()));
                metrics.exchange_calls().inc(&[("outcome", "rejected")]);
                return Some(ExecutionReport::Rejected {
                    order_id: order.id.clone(),
                    reason,
                    rejected_at: jiff::Timestamp::now(),
                });
            }
            Ok((status, _)) => last_error = format!("exchange answered {status}"),
            Err(e) => last_error = e.to_string(),
        }
        metrics.exchange_calls().inc(&[("outcome", "retried")]);
        if shutdown.is_set() {
            return None;
        }
        if started.elapsed() >= settings.retry_budget {
            break;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
    tracing::warn!(order_id = %order.id, error = %last_error, "giving up on the order");
    metrics.exchange_calls().inc(&[("outcome", "gave_up")]);
    Some(ExecutionReport::Rejected {
        order_id: order.id.clone(),
        reason: "exchange_unavailable".into(),
        rejected_at: jiff::Timestamp::now(),
    })
}

impl ServiceMetrics {
    /// Calls to the exchange, by outcome (execution only).
    pub fn exchange_calls(&self) -> crate::metrics::Counter {
        self.registry.counter(
            "cdb_exchange_calls_total",
            "Order placements on the paper exchange, by outcome.",
        )
    }
}

/// Runs execution until shutdown. In-flight orders are finished before it returns.
pub async fn run(ctx: Ctx, settings: Settings) -> Result<(), Error> {
    let Ctx {
        common,
        metrics,
        mut shutdown,
    } = ctx;
    metrics.exchange_calls().touch(&[("outcome", "filled")]);
    let client = HttpClient::new(Duration::from_secs(5));
    let mut consumer = Consumer::new(&common, &[ORDERS_STREAM], GROUP, metrics.clone())?;
    let mut writer = RedisConn::new(&common.redis_url, Duration::from_secs(5))?;
    let mut backoff = Backoff::default();
    while let Err(e) = consumer.ensure_groups().await {
        if shutdown.is_set() {
            return Ok(());
        }
        backoff
            .failed("connecting to redis", &e, &mut shutdown)
            .await;
    }
    backoff.ok();
    // Reports of a batch whose write failed: kept so the exchange is not asked again.
    let mut unwritten: Option<(Vec<crate::streams::Entry>, Vec<ExecutionReport>)> = None;
    while !shutdown.is_set() || unwritten.is_some() {
        let (batch, reports) = match unwritten.take() {
            Some(pending) => pending,
            None => {
                let Some(batch) =
                    service::next_batch(&mut consumer, &mut backoff, &mut shutdown, "orders").await
                else {
                    continue;
                };
                let started = Instant::now();
                let mut done = Vec::new();
                let mut orders = Vec::new();
                for e in &batch {
                    match e.data.as_deref().map(serde_json::from_str::<Order>) {
                        Some(Ok(o)) => orders.push((e.clone(), o)),
                        _ => {
                            tracing::error!(stream_id = %e.id, "unreadable order; acknowledged without placing it");
                            metrics
                                .messages_failed
                                .inc(&[("stream", ORDERS_STREAM), ("reason", "unreadable")]);
                            done.push(e.clone());
                        }
                    }
                }
                let placed: Vec<(crate::streams::Entry, Option<ExecutionReport>)> =
                    futures_util::stream::iter(orders)
                        .map(|(entry, o)| {
                            let (client, base, settings, metrics, shutdown) = (
                                client.clone(),
                                common.exchange_url.clone(),
                                settings.clone(),
                                metrics.clone(),
                                shutdown.clone(),
                            );
                            async move {
                                (
                                    entry,
                                    place(&client, &base, &o, &settings, &metrics, &shutdown).await,
                                )
                            }
                        })
                        .buffered(settings.concurrency)
                        .collect()
                        .await;
                let mut reports = Vec::new();
                for (entry, report) in placed {
                    match report {
                        Some(r) => {
                            reports.push(r);
                            done.push(entry);
                        }
                        // Left pending for the next start.
                        None => consumer.retry_pending(),
                    }
                }
                metrics
                    .processing
                    .observe(&[("stage", "execution")], started.elapsed().as_secs_f64());
                (done, reports)
            }
        };
        let mut pipe = redis::pipe();
        pipe.atomic();
        for r in &reports {
            xadd(
                &mut pipe,
                EXECUTIONS_STREAM,
                &serde_json::to_string(r).unwrap_or_default(),
            );
        }
        xack(&mut pipe, GROUP, &batch);
        match writer.query::<()>("writing execution reports", &pipe).await {
            Ok(()) => {
                backoff.ok();
                metrics
                    .messages_out
                    .inc_by(&[("stream", EXECUTIONS_STREAM)], reports.len() as u64);
            }
            Err(e) => {
                backoff
                    .failed("writing execution reports", &e, &mut shutdown)
                    .await;
                if shutdown.is_set() {
                    // Redis is gone during shutdown: the orders stay pending and are placed
                    // again (idempotently) by the next start.
                    return Ok(());
                }
                unwritten = Some((batch, reports));
            }
        }
    }
    Ok(())
}
