//! A-05 (signal → risk → execution → exchange) and A-07 (order → DB persistence).

use std::time::Duration;

use cdb_paper::model::Side;
use rust_decimal::Decimal;

use super::{Ctx, TestResult, signal};

const PATH_TIMEOUT: Duration = Duration::from_secs(20);

/// An approved signal ends as a fill of the exchange, recorded in the database.
pub async fn signal_reaches_the_exchange(ctx: &Ctx) -> TestResult {
    let id = ctx.id("a05", 0);
    let s = signal(
        &id,
        &format!("{}-a05", ctx.run_id),
        "BTCUSDT",
        Side::Buy,
        "0.01",
        "65000",
    );
    ctx.inject(&s).await?;
    let order_id = format!("ord-{id}");
    let sql = format!(
        "SELECT count(*) FROM {} WHERE order_id = ANY($1)",
        ctx.table("fills")
    );
    ctx.wait_count(&sql, std::slice::from_ref(&order_id), 1, PATH_TIMEOUT)
        .await
        .map_err(|e| format!("signal {id} did not become a fill: {e}"))?;
    // The exchange really saw it: asking again with the same client order id gets the same fill.
    let exchange = ctx
        .target
        .services
        .get("paper-exchange")
        .ok_or("the contract names no paper-exchange service")?;
    let body = serde_json::json!({"client_order_id": order_id, "symbol": "BTCUSDT", "side": "buy", "quantity": "0.01"});
    let (status, bytes) = ctx
        .http
        .send(
            hyper::Method::POST,
            &format!("{exchange}/api/v1/orders"),
            Some(body.to_string().into()),
        )
        .await
        .map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("the exchange answered {status} for a known order"));
    }
    let fill: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let row = ctx
        .pg
        .query_one(
            &format!(
                "SELECT id, price::text FROM {} WHERE order_id = $1",
                ctx.table("fills")
            ),
            &[&order_id],
        )
        .await
        .map_err(|e| e.to_string())?;
    let (fill_id, price): (String, String) = (row.get(0), row.get(1));
    if fill["id"] != fill_id.as_str() {
        return Err(format!(
            "the exchange's fill {} is not the recorded fill {fill_id}",
            fill["id"]
        ));
    }
    let ex_price: Decimal = fill["price"]
        .as_str()
        .unwrap_or("")
        .parse()
        .map_err(|_| "fill price unreadable")?;
    let db_price: Decimal = price.parse().map_err(|_| "db price unreadable")?;
    if ex_price != db_price {
        return Err(format!(
            "fill price {db_price} in the database, {ex_price} at the exchange"
        ));
    }
    Ok(())
}

/// Every field of the signal, decision, order and fill rows is what was sent; timestamps are
/// valid, UTC and in causal order.
pub async fn order_persisted_with_correct_fields(ctx: &Ctx) -> TestResult {
    let id = ctx.id("a07", 0);
    let account = format!("{}-a07", ctx.run_id);
    let s = signal(&id, &account, "ETHUSDT", Side::Sell, "0.5", "3200.5");
    ctx.inject(&s).await?;
    let order_id = format!("ord-{id}");
    let sql = format!(
        "SELECT count(*) FROM {} WHERE order_id = ANY($1)",
        ctx.table("fills")
    );
    ctx.wait_count(&sql, std::slice::from_ref(&order_id), 1, PATH_TIMEOUT)
        .await?;
    let q = format!(
        "SELECT s.account, s.symbol, s.side, s.quantity::text, s.reference_price::text, s.strength,
                d.approved, d.reason, o.id, o.quantity::text, o.side, o.symbol, f.quantity::text, f.side,
                f.price > 0, f.fee >= 0,
                s.created_at <= d.decided_at, d.decided_at <= o.created_at + interval '1 ms',
                o.created_at <= f.filled_at, f.filled_at <= f.persisted_at,
                abs(extract(epoch FROM (s.created_at - $2::timestamptz))) < 0.001,
                current_setting('TimeZone'),
                to_char(f.filled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') ,
                f.filled_at > now() - interval '5 minutes' AND f.filled_at <= now()
         FROM {signals} s
         JOIN {decisions} d ON d.signal_id = s.id
         JOIN {orders} o ON o.signal_id = s.id
         JOIN {fills} f ON f.order_id = o.id
         WHERE s.id = $1",
        signals = ctx.table("signals"),
        decisions = ctx.table("decisions"),
        orders = ctx.table("orders"),
        fills = ctx.table("fills"),
    );
    let created = std::time::SystemTime::try_from(s.created_at).map_err(|e| e.to_string())?;
    let r = ctx
        .pg
        .query_one(&q, &[&id, &created])
        .await
        .map_err(|e| format!("{e}"))?;
    let mut problems = Vec::new();
    let mut check = |what: &str, ok: bool| {
        if !ok {
            problems.push(what.to_string());
        }
    };
    check("signal account", r.get::<_, String>(0) == account);
    check("signal symbol", r.get::<_, String>(1) == "ETHUSDT");
    check("signal side", r.get::<_, String>(2) == "sell");
    check(
        "signal quantity",
        r.get::<_, String>(3).parse::<Decimal>().ok() == Some(s.quantity),
    );
    check(
        "signal reference price",
        r.get::<_, String>(4).parse::<Decimal>().ok() == Some(s.reference_price),
    );
    check(
        "signal strength",
        (r.get::<_, f64>(5) - s.strength).abs() < 1e-12,
    );
    check("decision approved", r.get::<_, bool>(6));
    check(
        "decision reason empty",
        r.get::<_, Option<String>>(7).is_none(),
    );
    check("order id", r.get::<_, String>(8) == order_id);
    check(
        "order quantity",
        r.get::<_, String>(9).parse::<Decimal>().ok() == Some(s.quantity),
    );
    check("order side", r.get::<_, String>(10) == "sell");
    check("order symbol", r.get::<_, String>(11) == "ETHUSDT");
    check(
        "fill quantity",
        r.get::<_, String>(12).parse::<Decimal>().ok() == Some(s.quantity),
    );
    check("fill side", r.get::<_, String>(13) == "sell");
    check("fill price > 0", r.get(14));
    check("fee >= 0", r.get(15));
    check("signal before decision", r.get(16));
    check("decision before order", r.get(17));
    check("order before fill", r.get(18));
    check("fill before persisted", r.get(19));
    check("created_at kept to the millisecond", r.get(20));
    check("fill time recent and not in the future", r.get(23));
    let tz: String = r.get(21);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "wrong fields for signal {id}: {} (session TimeZone {tz}, fill at {} UTC)",
            problems.join(", "),
            r.get::<_, String>(22)
        ))
    }
}
