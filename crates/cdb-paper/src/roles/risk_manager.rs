//! `risk-manager`: reads signals, decides on each with [`crate::risk`], and writes the decision
//! (and the order, when approved), the account's new state and the acknowledgement in ONE
//! MULTI/EXEC. So a decision is either wholly made or not at all: a crash before EXEC means the
//! signal is redelivered and decided again on the state from before it, which gives the same
//! verdict.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use crate::config::Env;
use crate::errors::Error;
use crate::model::{DECISIONS_STREAM, ORDERS_STREAM, RISK_STATE_KEY, SIGNALS_STREAM, Signal};
use crate::risk::{AccountState, Limits, decide};
use crate::service::{self, Backoff, Ctx};
use crate::streams::{Consumer, RedisConn, xack, xadd};

/// The consumer group.
pub const GROUP: &str = "risk-manager";

/// The limits from the environment (see [`crate::config`]).
pub fn limits_from_env(env: &Env) -> Result<Limits, Error> {
    let symbols: BTreeSet<String> = env
        .string("RISK_ALLOWED_SYMBOLS", "BTCUSDT,ETHUSDT")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if symbols.is_empty() {
        return Err(crate::errors::ConfigError::Invalid {
            name: "RISK_ALLOWED_SYMBOLS",
            value: String::new(),
            reason: "must name at least one symbol".into(),
        }
        .into());
    }
    Ok(Limits {
        allowed_symbols: symbols,
        max_order_notional: env.positive_decimal("RISK_MAX_ORDER_NOTIONAL", "10000")?,
        max_position_notional: env.positive_decimal("RISK_MAX_POSITION_NOTIONAL", "50000")?,
        max_total_exposure: env.positive_decimal("RISK_MAX_TOTAL_EXPOSURE", "100000")?,
        daily_loss_limit: env.positive_decimal("RISK_DAILY_LOSS_LIMIT", "5000")?,
        max_orders_per_second: env.parse("RISK_MAX_ORDERS_PER_SECOND", 100)?,
    })
}

async fn load_state(redis: &mut RedisConn) -> Result<HashMap<String, AccountState>, Error> {
    let mut cmd = redis::cmd("HGETALL");
    cmd.arg(RISK_STATE_KEY);
    let raw: HashMap<String, String> = redis.query("HGETALL risk state", &cmd).await?;
    let mut out = HashMap::new();
    for (account, json) in raw {
        match serde_json::from_str(&json) {
            Ok(st) => {
                out.insert(account, st);
            }
            Err(e) => {
                tracing::error!(account, error = %e, "unreadable risk state; starting the account afresh")
            }
        }
    }
    Ok(out)
}

/// Runs the risk manager until shutdown.
pub async fn run(ctx: Ctx, limits: Limits) -> Result<(), Error> {
    let Ctx {
        common,
        metrics,
        mut shutdown,
    } = ctx;
    let decisions = metrics.registry.counter(
        "cdb_risk_decisions_total",
        "Risk decisions, by outcome and reason.",
    );
    decisions.touch(&[("outcome", "approved"), ("reason", "")]);
    let mut consumer = Consumer::new(&common, &[SIGNALS_STREAM], GROUP, metrics.clone())?;
    let mut writer = RedisConn::new(&common.redis_url, std::time::Duration::from_secs(5))?;
    let mut backoff = Backoff::default();
    let mut state = loop {
        if shutdown.is_set() {
            return Ok(());
        }
        match async {
            consumer.ensure_groups().await?;
            load_state(&mut writer).await
        }
        .await
        {
            Ok(s) => break s,
            Err(e) => {
                backoff
                    .failed("connecting to redis", &e, &mut shutdown)
                    .await
            }
        }
    };
    backoff.ok();
    tracing::info!(accounts = state.len(), "risk state loaded");

    // Set when a batch failed: the in-memory state may hold effects Redis never got.
    let mut stale = false;
    while !shutdown.is_set() {
        if stale {
            match load_state(&mut writer).await {
                Ok(s) => {
                    state = s;
                    stale = false;
                }
                Err(e) => {
                    backoff
                        .failed("reloading the risk state", &e, &mut shutdown)
                        .await;
                    continue;
                }
            }
        }
        let Some(batch) =
            service::next_batch(&mut consumer, &mut backoff, &mut shutdown, "signals").await
        else {
            continue;
        };
        let started = Instant::now();
        let now = jiff::Timestamp::now();
        let mut pipe = redis::pipe();
        pipe.atomic();
        let mut touched = BTreeSet::new();
        let mut outcomes = Vec::new();
        let mut unreadable = 0u64;
        for entry in &batch {
            let signal: Result<Signal, String> = match &entry.data {
                Some(d) => serde_json::from_str(d).map_err(|e| e.to_string()),
                None => Err(format!("entry has no `{}` field", crate::model::DATA_FIELD)),
            };
            let signal = match signal {
                Ok(s) => s,
                Err(e) => {
                    // db-writer records the unreadable entry as a dead letter; nothing to decide.
                    tracing::warn!(stream_id = %entry.id, error = %e, "unreadable signal");
                    unreadable += 1;
                    continue;
                }
            };
            let account = state.entry(signal.account.clone()).or_default();
            let d = decide(&limits, account, &signal, now);
            let json = serde_json::to_string(&d).unwrap_or_default();
            xadd(&mut pipe, DECISIONS_STREAM, &json);
            if let Some(order) = &d.order {
                xadd(
                    &mut pipe,
                    ORDERS_STREAM,
                    &serde_json::to_string(order).unwrap_or_default(),
                );
            }
            touched.insert(signal.account.clone());
            outcomes.push(d);
        }
        for account in &touched {
            if let Some(st) = state.get(account) {
                pipe.cmd("HSET")
                    .arg(RISK_STATE_KEY)
                    .arg(account)
                    .arg(serde_json::to_string(st).unwrap_or_default())
                    .ignore();
            }
        }
        xack(&mut pipe, GROUP, &batch);
        match writer.query::<()>("writing decisions", &pipe).await {
            Ok(()) => {
                backoff.ok();
                let approved = outcomes.iter().filter(|d| d.approved).count() as u64;
                metrics
                    .messages_out
                    .inc_by(&[("stream", DECISIONS_STREAM)], outcomes.len() as u64);
                metrics
                    .messages_out
                    .inc_by(&[("stream", ORDERS_STREAM)], approved);
                if unreadable > 0 {
                    metrics.messages_failed.inc_by(
                        &[("stream", SIGNALS_STREAM), ("reason", "unreadable")],
                        unreadable,
                    );
                }
                for d in &outcomes {
                    let reason = d.reason.map(|r| r.as_str()).unwrap_or("");
                    let outcome = if d.approved { "approved" } else { "rejected" };
                    decisions.inc(&[("outcome", outcome), ("reason", reason)]);
                }
                metrics
                    .processing
                    .observe(&[("stage", "risk")], started.elapsed().as_secs_f64());
            }
            Err(e) => {
                // Nothing of the batch was applied: forget the in-memory effects and decide the
                // same signals again on the state Redis holds.
                backoff.failed("writing decisions", &e, &mut shutdown).await;
                stale = true;
                consumer.retry_pending();
            }
        }
    }
    Ok(())
}
