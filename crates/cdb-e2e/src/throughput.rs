//! The stack's end-to-end throughput and latency at a fixed offered rate: signals are injected
//! on a steady clock (a pipeline of XADDs every 10 ms), and each signal's latency is the time
//! from its `created_at` (set when it is sent) to its fill's row being committed
//! (`fills.persisted_at`) — the whole critical path, measured by the database's clock and the
//! harness's, which are the same machine's.

use std::time::{Duration, Instant};

use cdb_paper::model::Side;
use serde::Serialize;

use crate::suite::{Ctx, signal};

/// What one measurement found.
#[derive(Debug, Clone, Serialize)]
pub struct ThroughputReport {
    /// Signals per second offered.
    pub offered_per_second: u32,
    /// How long the load ran.
    pub duration_seconds: f64,
    /// Signals sent.
    pub sent: usize,
    /// Fills persisted for them.
    pub persisted: i64,
    /// Fills persisted per second, from the first signal sent to the last fill committed.
    pub throughput_per_second: f64,
    /// Median signal-to-row latency.
    pub p50_ms: f64,
    /// 99th percentile signal-to-row latency.
    pub p99_ms: f64,
    /// Worst signal-to-row latency.
    pub max_ms: f64,
}

/// Accounts the load spreads over (each stays far below its order-rate limit).
const ACCOUNTS: usize = 500;

/// Offers `rate` signals a second for `duration`, waits for their fills, and reports.
pub async fn measure(
    ctx: &Ctx,
    tag: &str,
    rate: u32,
    duration: Duration,
) -> Result<ThroughputReport, String> {
    let tick = Duration::from_millis(10);
    let per_tick = f64::from(rate) * tick.as_secs_f64();
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let stream = ctx
        .target
        .contract
        .streams
        .get(ctx.target.contract.injection.stream)
        .name
        .clone();
    let field = ctx.target.contract.injection.field.clone();
    let mut conn = ctx.redis.clone();
    let started = Instant::now();
    let mut owed = 0.0;
    let mut n = 0usize;
    let mut ids = Vec::new();
    while started.elapsed() < duration {
        ticker.tick().await;
        owed += per_tick;
        let mut pipe = redis::pipe();
        while owed >= 1.0 {
            owed -= 1.0;
            let account = format!("{}-{tag}-a{}", ctx.run_id, n % ACCOUNTS);
            let side = if (n / ACCOUNTS).is_multiple_of(2) {
                Side::Buy
            } else {
                Side::Sell
            };
            let id = format!("{}-{tag}-{n}", ctx.run_id);
            let s = signal(&id, &account, "BTCUSDT", side, "0.001", "65000");
            pipe.cmd("XADD")
                .arg(&stream)
                .arg("*")
                .arg(&field)
                .arg(serde_json::to_string(&s).unwrap_or_default())
                .ignore();
            ids.push(id);
            n += 1;
        }
        pipe.query_async::<()>(&mut conn)
            .await
            .map_err(|e| format!("injecting: {e}"))?;
    }
    let duration_seconds = started.elapsed().as_secs_f64();
    let pg = ctx.pg_fresh().await?;
    let count_sql = format!(
        "SELECT count(*) FROM {f} f JOIN {o} o ON o.id = f.order_id WHERE o.signal_id = ANY($1)",
        f = ctx.table("fills"),
        o = ctx.table("orders")
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut persisted: i64;
    loop {
        persisted = pg
            .query_one(&count_sql, &[&ids])
            .await
            .map_err(|e| e.to_string())?
            .get(0);
        if persisted as usize >= ids.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stats_sql = format!(
        "WITH l AS (
            SELECT s.created_at, f.persisted_at,
                   extract(epoch FROM (f.persisted_at - s.created_at)) * 1000 AS ms
            FROM {s} s JOIN {o} o ON o.signal_id = s.id JOIN {f} f ON f.order_id = o.id
            WHERE s.id = ANY($1))
         SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::float8,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::float8,
                max(ms)::float8,
                extract(epoch FROM (max(persisted_at) - min(created_at)))::float8
         FROM l",
        s = ctx.table("signals"),
        o = ctx.table("orders"),
        f = ctx.table("fills"),
    );
    let row = pg
        .query_one(&stats_sql, &[&ids])
        .await
        .map_err(|e| e.to_string())?;
    let span: f64 = row.get::<_, Option<f64>>(3).unwrap_or(0.0);
    Ok(ThroughputReport {
        offered_per_second: rate,
        duration_seconds,
        sent: ids.len(),
        persisted,
        throughput_per_second: if span > 0.0 {
            persisted as f64 / span
        } else {
            0.0
        },
        p50_ms: row.get::<_, Option<f64>>(0).unwrap_or(f64::NAN),
        p99_ms: row.get::<_, Option<f64>>(1).unwrap_or(f64::NAN),
        max_ms: row.get::<_, Option<f64>>(2).unwrap_or(f64::NAN),
    })
}
