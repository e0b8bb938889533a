//! a table with one case per risk rule. Each case trades for an account of its own, so the
//! limits it fills up are nobody else's. The limits are those of the test overlay
//! (`compose/docker-compose.test.yml`): allow-list BTCUSDT/ETHUSDT, order notional 10,000,
//! position 50,000, total exposure 80,000, daily loss 5,000, 100 orders per second.

use std::time::Duration;

use cdb_paper::model::{Side, Signal};

use super::{Ctx, TestDef, TestResult, signal};

struct Case {
    name: &'static str,
    /// (symbol, side, quantity, price) of each signal; every one but the last must be approved.
    steps: Vec<(&'static str, Side, &'static str, &'static str)>,
    /// The reason the last one is rejected with, or `None` when it must be approved.
    expect: Option<&'static str>,
}

fn cases() -> Vec<Case> {
    use Side::{Buy, Sell};
    let mut rate = vec![("BTCUSDT", Buy, "0.001", "100"); 100];
    rate.push(("BTCUSDT", Buy, "0.001", "100"));
    vec![
        Case {
            name: "valid signal is approved",
            steps: vec![("BTCUSDT", Buy, "0.1", "65000")],
            expect: None,
        },
        Case {
            name: "invalid_signal",
            steps: vec![("BTCUSDT", Buy, "0", "65000")],
            expect: Some("invalid_signal"),
        },
        Case {
            name: "symbol_not_allowed",
            steps: vec![("DOGEUSDT", Buy, "10", "0.1")],
            expect: Some("symbol_not_allowed"),
        },
        Case {
            name: "max_order_notional",
            steps: vec![("BTCUSDT", Buy, "1", "10000.01")],
            expect: Some("max_order_notional"),
        },
        Case {
            name: "max_order_rate",
            steps: rate,
            expect: Some("max_order_rate"),
        },
        Case {
            name: "daily_loss_limit",
            steps: vec![
                ("BTCUSDT", Buy, "1", "9000"),
                ("BTCUSDT", Sell, "1", "3000"),
                ("ETHUSDT", Buy, "0.1", "3000"),
            ],
            expect: Some("daily_loss_limit"),
        },
        Case {
            name: "max_position",
            steps: vec![("BTCUSDT", Buy, "1", "9000"); 6],
            expect: Some("max_position"),
        },
        Case {
            name: "max_total_exposure",
            steps: [
                vec![("BTCUSDT", Buy, "1", "9000"); 5],
                vec![("ETHUSDT", Buy, "1", "9000"); 4],
            ]
            .concat(),
            expect: Some("max_total_exposure"),
        },
    ]
}

async fn run_case(ctx: &Ctx, case: &Case) -> TestResult {
    let tag = format!("a06-{}", case.name.replace(' ', "-"));
    let account = format!("{}-{tag}", ctx.run_id);
    // One event time for the whole case: the rate window and the UTC day are the same for all.
    let at = jiff::Timestamp::now();
    let mut ids = Vec::new();
    for (n, (symbol, side, qty, price)) in case.steps.iter().enumerate() {
        let id = ctx.id(&tag, n);
        let s = Signal {
            created_at: at,
            ..signal(&id, &account, symbol, *side, qty, price)
        };
        ctx.inject(&s).await?;
        ids.push(id);
    }
    let sql = format!(
        "SELECT count(*) FROM {} WHERE signal_id = ANY($1)",
        ctx.table("decisions")
    );
    ctx.wait_count(&sql, &ids, ids.len() as i64, Duration::from_secs(20))
        .await?;
    let rows = ctx
        .pg
        .query(
            &format!(
                "SELECT signal_id, approved, reason, detail FROM {} WHERE signal_id = ANY($1)",
                ctx.table("decisions")
            ),
            &[&ids],
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut by_id = std::collections::HashMap::new();
    for r in &rows {
        by_id.insert(
            r.get::<_, String>(0),
            (
                r.get::<_, bool>(1),
                r.get::<_, Option<String>>(2),
                r.get::<_, String>(3),
            ),
        );
    }
    for (n, id) in ids.iter().enumerate() {
        let Some((approved, reason, detail)) = by_id.get(id) else {
            return Err(format!("no decision for {id}"));
        };
        let last = n + 1 == ids.len();
        let want = if last { case.expect } else { None };
        match (want, approved, reason.as_deref()) {
            (None, true, None) => {}
            (Some(w), false, Some(r)) if r == w => {}
            _ => {
                return Err(format!(
                    "signal {n} of case `{}`: expected {}, got approved={approved} reason={reason:?} ({detail})",
                    case.name,
                    want.map(|w| format!("rejection `{w}`"))
                        .unwrap_or_else(|| "approval".into())
                ));
            }
        }
    }
    // A rejection never becomes an order.
    if case.expect.is_some() {
        let last = ids.last().cloned().unwrap_or_default();
        let n: i64 = ctx
            .pg
            .query_one(
                &format!(
                    "SELECT count(*) FROM {} WHERE signal_id = $1",
                    ctx.table("orders")
                ),
                &[&last],
            )
            .await
            .map_err(|e| e.to_string())?
            .get(0);
        if n != 0 {
            return Err(format!("rejected signal {last} has an order"));
        }
    }
    Ok(())
}

/// One test per case.
pub fn tests() -> Vec<TestDef> {
    cases()
        .into_iter()
        .map(|case| {
            let name = format!("A-06 risk rule: {}", case.name);
            let case = std::sync::Arc::new(case);
            TestDef {
                name,
                critical: true,
                restarts: false,
                run: Box::new(move |ctx| {
                    let case = case.clone();
                    Box::pin(async move { run_case(ctx, &case).await })
                }),
            }
        })
        .collect()
}
