//! `paper-exchange`: the mock exchange of the test overlay. Prices are a deterministic function
//! of (seed, symbol, tick), so two runs with the same seed see the same prices at the same tick;
//! every order fills completely at the tick's price plus slippage. Latency and failures can be
//! configured at start (environment) and injected at run time (`POST /admin/faults`).
//!
//! Routes: `GET /api/v1/prices`, `POST /api/v1/orders`
//! (`{"client_order_id", "symbol", "side", "quantity"}` → a [`Fill`]; the same client order id
//! always gets the same fill), `GET|POST /admin/faults`
//! (`{"latency_ms", "failure_rate", "fail_next"}`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use hyper::{Method, StatusCode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::config::Env;
use crate::errors::{ConfigError, Error};
use crate::http::{Reply, ReplyFuture, Routes};
use crate::metrics::ServiceMetrics;
use crate::model::{Fill, Side};
use crate::service::Ctx;

/// The exchange's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Seeds the prices and the failure draws.
    pub seed: u64,
    /// Symbols and their base prices.
    pub symbols: BTreeMap<String, f64>,
    /// How long a price tick lasts.
    pub tick: Duration,
    /// Fee, in basis points of the notional.
    pub fee_bps: Decimal,
    /// Slippage against the taker, in basis points.
    pub slippage_bps: Decimal,
    /// The faults at start.
    pub faults: Faults,
}

/// Injectable faults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every order request.
    pub latency_ms: u64,
    /// Share of order requests answered 503 (0 to 1), drawn from the seeded generator.
    pub failure_rate: f64,
    /// The next this many order requests are answered 503.
    pub fail_next: u64,
}

impl Settings {
    /// From the environment (see [`crate::config`]).
    pub fn from_env(env: &Env) -> Result<Self, Error> {
        let raw = env.string(
            "PAPER_EXCHANGE_SYMBOLS",
            "BTCUSDT:65000,ETHUSDT:3200,SOLUSDT:150",
        );
        let mut symbols = BTreeMap::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let parsed = part.split_once(':').and_then(|(s, p)| {
                p.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|p| *p > 0.0)
                    .map(|p| (s.trim().to_string(), p))
            });
            match parsed {
                Some((s, p)) => {
                    symbols.insert(s, p);
                }
                None => {
                    return Err(ConfigError::Invalid {
                        name: "PAPER_EXCHANGE_SYMBOLS",
                        value: raw.clone(),
                        reason: format!("`{part}` is not SYMBOL:PRICE with a positive price"),
                    }
                    .into());
                }
            }
        }
        let failure_rate: f64 = env.parse("PAPER_EXCHANGE_FAILURE_RATE", 0.0)?;
        if !(0.0..=1.0).contains(&failure_rate) {
            return Err(ConfigError::Invalid {
                name: "PAPER_EXCHANGE_FAILURE_RATE",
                value: failure_rate.to_string(),
                reason: "must be within 0..1".into(),
            }
            .into());
        }
        let tick = env.millis("PAPER_EXCHANGE_TICK_MS", 1000)?;
        if tick.is_zero() {
            return Err(ConfigError::Invalid {
                name: "PAPER_EXCHANGE_TICK_MS",
                value: "0".into(),
                reason: "must be at least 1".into(),
            }
            .into());
        }
        Ok(Settings {
            seed: env.parse("PAPER_EXCHANGE_SEED", 1u64)?,
            symbols,
            tick,
            fee_bps: env.parse("PAPER_EXCHANGE_FEE_BPS", Decimal::from(10))?,
            slippage_bps: env.parse("PAPER_EXCHANGE_SLIPPAGE_BPS", Decimal::from(5))?,
            faults: Faults {
                latency_ms: env.parse("PAPER_EXCHANGE_LATENCY_MS", 0u64)?,
                failure_rate,
                fail_next: 0,
            },
        })
    }
}

/// SplitMix64: a tiny, well-mixed, seedable generator.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The price of `symbol` at `tick`: a pure function, so replays and tests see the same prices.
pub fn price_at(seed: u64, symbol: &str, base: f64, tick: u64) -> Decimal {
    let h = hash_str(symbol);
    let phase = (h % 1000) as f64 / 1000.0 * std::f64::consts::TAU;
    let t = tick as f64;
    let noise = (splitmix(seed ^ h ^ tick.wrapping_mul(0x2545_F491_4F6C_DD1D)) as f64
        / u64::MAX as f64)
        * 2.0
        - 1.0;
    let factor = 1.0
        + 0.01 * (t / 17.0 + phase).sin()
        + 0.004 * (t / 5.3 + 2.0 * phase).sin()
        + 0.001 * noise;
    Decimal::from_f64_retain(base * factor)
        .unwrap_or(Decimal::ONE)
        .round_dp(2)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderRequest {
    client_order_id: String,
    symbol: String,
    side: Side,
    quantity: Decimal,
}

#[derive(Debug)]
struct State {
    faults: Faults,
    draws: u64,
    fills: HashMap<String, Fill>,
    order: VecDeque<String>,
}

/// Fills kept for answering repeated client order ids; the oldest are forgotten beyond this.
const FILLS_KEPT: usize = 500_000;

/// The exchange.
#[derive(Debug, Clone)]
pub struct Exchange {
    settings: Arc<Settings>,
    state: Arc<Mutex<State>>,
    orders: crate::metrics::Counter,
}

impl Exchange {
    /// A new exchange.
    pub fn new(settings: Settings, metrics: &ServiceMetrics) -> Self {
        let orders = metrics
            .registry
            .counter("cdb_exchange_orders_total", "Order requests, by outcome.");
        orders.touch(&[("outcome", "filled")]);
        Exchange {
            state: Arc::new(Mutex::new(State {
                faults: settings.faults.clone(),
                draws: 0,
                fills: HashMap::new(),
                order: VecDeque::new(),
            })),
            settings: Arc::new(settings),
            orders,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tick_now(&self) -> u64 {
        let ms = jiff::Timestamp::now().as_millisecond().max(0) as u64;
        ms / (self.settings.tick.as_millis().max(1) as u64)
    }

    /// The current prices.
    pub fn prices(&self) -> serde_json::Value {
        let tick = self.tick_now();
        let prices: serde_json::Map<String, serde_json::Value> = self
            .settings
            .symbols
            .iter()
            .map(|(s, base)| {
                (
                    s.clone(),
                    serde_json::Value::String(
                        price_at(self.settings.seed, s, *base, tick).to_string(),
                    ),
                )
            })
            .collect();
        serde_json::json!({ "tick": tick, "prices": prices })
    }

    /// The routes of the exchange.
    pub fn routes(&self) -> Routes {
        let ex = self.clone();
        Arc::new(
            move |method: &Method, path: &str, body: Bytes| -> Option<ReplyFuture> {
                let ex = ex.clone();
                match (method.clone(), path) {
                    (Method::GET, "/api/v1/prices") => Some(Box::pin(async move {
                        Reply::json(StatusCode::OK, &ex.prices())
                    })),
                    (Method::POST, "/api/v1/orders") => {
                        Some(Box::pin(async move { ex.order(&body).await }))
                    }
                    (Method::GET, "/admin/faults") => Some(Box::pin(async move {
                        let f = ex.lock().faults.clone();
                        Reply::json(StatusCode::OK, &serde_json::to_value(f).unwrap_or_default())
                    })),
                    (Method::POST, "/admin/faults") => Some(Box::pin(async move {
                        match serde_json::from_slice::<Faults>(&body) {
                            Ok(f) if (0.0..=1.0).contains(&f.failure_rate) => {
                                tracing::info!(?f, "faults set");
                                ex.lock().faults = f.clone();
                                Reply::json(
                                    StatusCode::OK,
                                    &serde_json::to_value(f).unwrap_or_default(),
                                )
                            }
                            Ok(_) => Reply::error(
                                StatusCode::BAD_REQUEST,
                                "invalid_faults",
                                "failure_rate must be within 0..1",
                            ),
                            Err(e) => Reply::error(StatusCode::BAD_REQUEST, "invalid_faults", e),
                        }
                    })),
                    _ => None,
                }
            },
        )
    }

    async fn order(&self, body: &[u8]) -> Reply {
        let req: OrderRequest = match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => {
                self.orders.inc(&[("outcome", "invalid")]);
                return Reply::error(StatusCode::BAD_REQUEST, "invalid_order", e);
            }
        };
        let (latency, fail) = {
            let mut st = self.lock();
            st.draws += 1;
            let draw = splitmix(self.settings.seed ^ st.draws) as f64 / u64::MAX as f64;
            let fail = if st.faults.fail_next > 0 {
                st.faults.fail_next -= 1;
                true
            } else {
                draw < st.faults.failure_rate
            };
            (st.faults.latency_ms, fail)
        };
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        if fail {
            self.orders.inc(&[("outcome", "injected_failure")]);
            return Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "injected_failure",
                "the exchange is failing on purpose",
            );
        }
        let Some(base) = self.settings.symbols.get(&req.symbol).copied() else {
            self.orders.inc(&[("outcome", "unknown_symbol")]);
            return Reply::error(
                StatusCode::BAD_REQUEST,
                "unknown_symbol",
                format!("{} is not traded here", req.symbol),
            );
        };
        if req.quantity <= Decimal::ZERO || req.client_order_id.is_empty() {
            self.orders.inc(&[("outcome", "invalid")]);
            return Reply::error(
                StatusCode::BAD_REQUEST,
                "invalid_order",
                "quantity must be > 0 and client_order_id set",
            );
        }
        let mut st = self.lock();
        if let Some(f) = st.fills.get(&req.client_order_id) {
            self.orders.inc(&[("outcome", "duplicate")]);
            return Reply::json(StatusCode::OK, &serde_json::to_value(f).unwrap_or_default());
        }
        let price = price_at(self.settings.seed, &req.symbol, base, self.tick_now());
        let slip = self.settings.slippage_bps / Decimal::from(10_000);
        let fill_price = match req.side {
            Side::Buy => price * (Decimal::ONE + slip),
            Side::Sell => price * (Decimal::ONE - slip),
        }
        .round_dp(8);
        let fee = req
            .quantity
            .checked_mul(fill_price)
            .map(|n| (n * self.settings.fee_bps / Decimal::from(10_000)).round_dp(8));
        let Some(fee) = fee else {
            self.orders.inc(&[("outcome", "invalid")]);
            return Reply::error(
                StatusCode::BAD_REQUEST,
                "invalid_order",
                "quantity is too large",
            );
        };
        let fill = Fill {
            id: format!("fill-{}", req.client_order_id),
            order_id: req.client_order_id.clone(),
            symbol: req.symbol,
            side: req.side,
            quantity: req.quantity,
            price: fill_price,
            fee,
            filled_at: jiff::Timestamp::now(),
        };
        st.fills.insert(req.client_order_id.clone(), fill.clone());
        st.order.push_back(req.client_order_id);
        while st.order.len() > FILLS_KEPT {
            if let Some(old) = st.order.pop_front() {
                st.fills.remove(&old);
            }
        }
        drop(st);
        self.orders.inc(&[("outcome", "filled")]);
        Reply::json(
            StatusCode::OK,
            &serde_json::to_value(&fill).unwrap_or_default(),
        )
    }
}

/// The exchange has no worker loop: it serves HTTP until shutdown.
pub async fn run(ctx: Ctx) -> Result<(), Error> {
    let mut shutdown = ctx.shutdown;
    shutdown.wait().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_a_pure_function_of_seed_symbol_and_tick() {
        let a = price_at(42, "BTCUSDT", 65000.0, 1000);
        assert_eq!(a, price_at(42, "BTCUSDT", 65000.0, 1000));
        assert_ne!(a, price_at(42, "BTCUSDT", 65000.0, 1001));
        assert_ne!(a, price_at(43, "BTCUSDT", 65000.0, 1000));
        let f = a.to_string().parse::<f64>().unwrap() / 65000.0;
        assert!((0.98..1.02).contains(&f), "{a}");
    }
}
