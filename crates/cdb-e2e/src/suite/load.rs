//! A steady load of signals in the background, and the check that every one of them is in the
//! database exactly once and nothing is left pending in any consumer group.

use std::time::{Duration, Instant};

use cdb_paper::model::Side;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Ctx, signal};

/// A running load generator.
#[derive(Debug)]
pub struct Load {
    stop: watch::Sender<bool>,
    task: JoinHandle<LoadReport>,
}

/// What a load generator sent.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// The ids of the signals injected.
    pub ids: Vec<String>,
    /// Injections that failed (Redis unreachable): not counted in `ids`.
    pub failed: usize,
}

/// Accounts the load spreads over, so no account's order rate or position limit is reached.
const ACCOUNTS: usize = 20;

impl Load {
    /// Starts injecting `per_second` signals a second, ids `<run>-<tag>-<n>`. Buys and sells
    /// alternate per account, so every signal is approved and positions stay near zero.
    pub fn start(ctx: &Ctx, tag: &str, per_second: u32) -> Load {
        let (stop, mut stopped) = watch::channel(false);
        let redis = ctx.redis.clone();
        let contract = ctx.target.contract.clone();
        let run_id = ctx.run_id.clone();
        let tag = tag.to_string();
        let task = tokio::spawn(async move {
            let mut report = LoadReport::default();
            let period = Duration::from_secs_f64(1.0 / f64::from(per_second.max(1)));
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut n = 0usize;
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    _ = stopped.changed() => break,
                }
                let account = format!("{run_id}-{tag}-acct{}", n % ACCOUNTS);
                let side = if (n / ACCOUNTS).is_multiple_of(2) {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let id = format!("{run_id}-{tag}-{n}");
                let s = signal(&id, &account, "BTCUSDT", side, "0.001", "65000");
                let json = serde_json::to_string(&s).unwrap_or_default();
                let argv = contract.injection_command(&json);
                let mut cmd = redis::cmd(&argv[0]);
                for a in &argv[1..] {
                    cmd.arg(a);
                }
                let mut conn = redis.clone();
                match cmd.query_async::<String>(&mut conn).await {
                    Ok(_) => report.ids.push(id),
                    Err(_) => report.failed += 1,
                }
                n += 1;
            }
            report
        });
        Load { stop, task }
    }

    /// Stops the load and returns what was sent.
    pub async fn stop(self) -> Result<LoadReport, String> {
        let _ = self.stop.send(true);
        self.task
            .await
            .map_err(|e| format!("load generator failed: {e}"))
    }
}

/// Every id is a signal, a decision, an order and a fill exactly once, and every consumer
/// group of the contract's streams has nothing pending.
pub async fn verify_exactly_once(
    ctx: &Ctx,
    ids: &[String],
    timeout: Duration,
) -> Result<(), String> {
    let n = ids.len() as i64;
    if n == 0 {
        return Err("the load injected nothing".into());
    }
    let pg = ctx.pg_fresh().await?;
    let t = Instant::now();
    let sql = format!(
        "SELECT (SELECT count(*) FROM {s} WHERE id = ANY($1)),
                (SELECT count(*) FROM {d} WHERE signal_id = ANY($1)),
                (SELECT count(*) FROM {o} WHERE signal_id = ANY($1)),
                (SELECT count(*) FROM {f} f JOIN {o} o ON o.id = f.order_id WHERE o.signal_id = ANY($1)),
                (SELECT count(*) FROM {r} r JOIN {o} o ON o.id = r.order_id WHERE o.signal_id = ANY($1))",
        s = ctx.table("signals"),
        d = ctx.table("decisions"),
        o = ctx.table("orders"),
        f = ctx.table("fills"),
        r = ctx.table("rejections"),
    );
    loop {
        let row = pg
            .query_one(&sql, &[&ids])
            .await
            .map_err(|e| e.to_string())?;
        let last: (i64, i64, i64, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        if last == (n, n, n, n, 0) {
            break;
        }
        if t.elapsed() > timeout {
            return Err(format!(
                "of {n} injected signals: {} persisted, {} decided, {} ordered, {} filled, {} rejected by the exchange (after {timeout:?})",
                last.0, last.1, last.2, last.3, last.4
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Nothing pending: every group acknowledged everything it was given.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut pending = Vec::new();
        for (_, stream) in ctx.target.contract.streams.all() {
            for group in &stream.groups {
                let mut cmd = redis::cmd("XPENDING");
                cmd.arg(&stream.name).arg(group);
                let mut conn = ctx.redis.clone();
                let v: redis::Value = cmd
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| format!("XPENDING {} {group}: {e}", stream.name))?;
                let count = match v {
                    redis::Value::Array(items) => match items.first() {
                        Some(redis::Value::Int(c)) => *c,
                        _ => 0,
                    },
                    _ => 0,
                };
                if count != 0 {
                    pending.push(format!("{} / {group}: {count}", stream.name));
                }
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("entries still pending: {}", pending.join(", ")));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
