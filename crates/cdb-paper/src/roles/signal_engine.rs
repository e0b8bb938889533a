//! `signal-engine`: polls the paper exchange's prices and turns momentum into signals; also
//! accepts injected signals (`POST /api/v1/signals`, a [`Signal`] as JSON), validated and written
//! to the signals stream like its own.
//!
//! A signal is made when the price has moved more than `SIGNAL_THRESHOLD` from the mean of the
//! last ten ticks: buy on a rise, sell on a fall, with a strength that grows with the move. Its
//! id is `se-<symbol>-<tick>`, so a restarted engine that sees the same tick again writes the
//! same signal id and the database keeps one.

use std::collections::{BTreeMap, VecDeque};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::{Method, StatusCode};
use rust_decimal::Decimal;
use tokio::sync::Mutex;

use crate::config::Env;
use crate::errors::Error;
use crate::http::{HttpClient, Reply, ReplyFuture, Routes};
use crate::metrics::ServiceMetrics;
use crate::model::{DATA_FIELD, SIGNALS_STREAM, Side, Signal};
use crate::service::{Backoff, Ctx};
use crate::streams::RedisConn;

/// How signals are generated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Poll period; zero disables generation (injection still works).
    pub interval: Duration,
    /// Relative move from the mean that makes a signal.
    pub threshold: f64,
    /// Notional of a full-strength signal.
    pub order_notional: Decimal,
    /// The account the engine trades for.
    pub account: String,
}

impl Settings {
    /// From the environment (see [`crate::config`]).
    pub fn from_env(env: &Env) -> Result<Self, Error> {
        Ok(Settings {
            interval: env.millis("SIGNAL_INTERVAL_MS", 1000)?,
            threshold: env.parse("SIGNAL_THRESHOLD", 0.002)?,
            order_notional: env.positive_decimal("SIGNAL_ORDER_NOTIONAL", "1000")?,
            account: env.string("SIGNAL_ACCOUNT", "signal-engine"),
        })
    }
}

/// Keeps the last prices of each symbol and says when one has moved enough.
#[derive(Debug, Default)]
pub struct Momentum {
    history: BTreeMap<String, VecDeque<f64>>,
}

const WINDOW: usize = 10;

impl Momentum {
    /// Adds a price; returns the side and strength of a signal if the move from the window's
    /// mean exceeds `threshold`.
    pub fn observe(&mut self, symbol: &str, price: f64, threshold: f64) -> Option<(Side, f64)> {
        let h = self.history.entry(symbol.to_string()).or_default();
        let result = if h.len() >= 3 {
            let mean = h.iter().sum::<f64>() / h.len() as f64;
            let m = (price - mean) / mean;
            (m.abs() >= threshold && threshold > 0.0).then(|| {
                let side = if m > 0.0 { Side::Buy } else { Side::Sell };
                (side, (m.abs() / (threshold * 4.0)).min(1.0))
            })
        } else {
            None
        };
        h.push_back(price);
        if h.len() > WINDOW {
            h.pop_front();
        }
        result
    }
}

async fn publish(
    redis: &mut RedisConn,
    signal: &Signal,
    metrics: &ServiceMetrics,
) -> Result<String, Error> {
    let json = serde_json::to_string(signal).unwrap_or_default();
    let mut cmd = redis::cmd("XADD");
    cmd.arg(SIGNALS_STREAM).arg("*").arg(DATA_FIELD).arg(json);
    let id: String = redis.query("XADD signal", &cmd).await?;
    metrics.messages_out.inc(&[("stream", SIGNALS_STREAM)]);
    Ok(id)
}

/// The injection route.
pub fn routes(redis_url: &str, metrics: ServiceMetrics) -> Result<Routes, Error> {
    let redis = Arc::new(Mutex::new(RedisConn::new(
        redis_url,
        Duration::from_secs(3),
    )?));
    Ok(Arc::new(
        move |method: &Method, path: &str, body: Bytes| -> Option<ReplyFuture> {
            if !(method == Method::POST && path == "/api/v1/signals") {
                return None;
            }
            let redis = redis.clone();
            let metrics = metrics.clone();
            Some(Box::pin(async move {
                let signal: Signal = match serde_json::from_slice(&body) {
                    Ok(s) => s,
                    Err(e) => return Reply::error(StatusCode::BAD_REQUEST, "invalid_signal", e),
                };
                let mut redis = redis.lock().await;
                match publish(&mut redis, &signal, &metrics).await {
                    Ok(stream_id) => Reply::json(
                        StatusCode::ACCEPTED,
                        &serde_json::json!({"id": signal.id, "stream_id": stream_id}),
                    ),
                    Err(e) => Reply::error(StatusCode::SERVICE_UNAVAILABLE, "redis_unavailable", e),
                }
            }))
        },
    ))
}

/// Runs the generator until shutdown.
pub async fn run(ctx: Ctx, settings: Settings) -> Result<(), Error> {
    let Ctx {
        common,
        metrics,
        mut shutdown,
    } = ctx;
    if settings.interval.is_zero() {
        tracing::info!("signal generation disabled (SIGNAL_INTERVAL_MS=0); injection only");
        shutdown.wait().await;
        return Ok(());
    }
    let client = HttpClient::new(Duration::from_secs(3));
    let mut redis = RedisConn::new(&common.redis_url, Duration::from_secs(3))?;
    let mut momentum = Momentum::default();
    let mut backoff = Backoff::default();
    let url = format!("{}/api/v1/prices", common.exchange_url);
    let mut last_tick = None;
    while !shutdown.sleep(settings.interval).await {
        let prices = match client.send(Method::GET, &url, None).await {
            Ok((s, body)) if s.is_success() => {
                serde_json::from_slice::<serde_json::Value>(&body).ok()
            }
            Ok((s, _)) => {
                backoff
                    .failed(
                        "reading prices",
                        &Error::Http {
                            context: url.clone(),
                            message: format!("answered {s}"),
                        },
                        &mut shutdown,
                    )
                    .await;
                continue;
            }
            Err(e) => {
                backoff.failed("reading prices", &e, &mut shutdown).await;
                continue;
            }
        };
        let Some(prices) = prices else { continue };
        let tick = prices.get("tick").and_then(|t| t.as_u64()).unwrap_or(0);
        if last_tick == Some(tick) {
            continue;
        }
        last_tick = Some(tick);
        let Some(map) = prices.get("prices").and_then(|p| p.as_object()) else {
            continue;
        };
        for (symbol, p) in map {
            let Some(price) = p.as_str().and_then(|s| Decimal::from_str(s).ok()) else {
                continue;
            };
            let Ok(pf) = price.to_string().parse::<f64>() else {
                continue;
            };
            if let Some((side, strength)) = momentum.observe(symbol, pf, settings.threshold) {
                let notional = settings.order_notional
                    * Decimal::from_f64_retain(strength).unwrap_or(Decimal::ONE);
                let quantity = (notional / price).round_dp(6);
                if quantity <= Decimal::ZERO {
                    continue;
                }
                let signal = Signal {
                    id: format!("se-{symbol}-{tick}"),
                    account: settings.account.clone(),
                    symbol: symbol.clone(),
                    side,
                    quantity,
                    strength,
                    reference_price: price,
                    created_at: jiff::Timestamp::now(),
                };
                match publish(&mut redis, &signal, &metrics).await {
                    Ok(_) => backoff.ok(),
                    Err(e) => {
                        backoff
                            .failed("publishing a signal", &e, &mut shutdown)
                            .await
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_beyond_the_threshold_makes_a_signal_in_its_direction() {
        let mut m = Momentum::default();
        for _ in 0..5 {
            assert_eq!(m.observe("X", 100.0, 0.01), None);
        }
        let (side, strength) = m.observe("X", 102.0, 0.01).unwrap();
        assert_eq!(side, Side::Buy);
        assert!((strength - 0.5).abs() < 1e-9, "{strength}");
        let mut m = Momentum::default();
        for _ in 0..5 {
            m.observe("X", 100.0, 0.01);
        }
        assert_eq!(m.observe("X", 95.0, 0.01).map(|s| s.0), Some(Side::Sell));
        assert_eq!(Momentum::default().observe("X", 1.0, 0.01), None);
    }
}
