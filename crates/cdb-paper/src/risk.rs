//! The risk rules: pure functions of the limits, the account's state and the signal.
//!
//! Limits are per account (strategy), so that independent strategies — and independent tests —
//! never share a budget. Windows (the order rate, the daily loss) use the signal's `created_at`
//! (event time), not the clock at processing: a signal replayed after a crash gets the same
//! verdict it would have got at first delivery, and the verdicts can be tested exactly.
//!
//! Positions are valued at the signals' reference prices (the last one seen per symbol), and an
//! approved order is assumed to fill at its reference price; the paper exchange's actual fill
//! price is recorded downstream but does not feed back into the limits.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{Decision, Order, RejectReason, Side, Signal};

/// The configured limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Symbols that may be traded.
    pub allowed_symbols: BTreeSet<String>,
    /// The largest quantity × reference price of one order.
    pub max_order_notional: Decimal,
    /// The largest |position| × price per symbol.
    pub max_position_notional: Decimal,
    /// The largest sum of |position| × price over all symbols.
    pub max_total_exposure: Decimal,
    /// Trading stops for the UTC day once the realised loss reaches this.
    pub daily_loss_limit: Decimal,
    /// Approved orders per account in any one-second window of event time.
    pub max_orders_per_second: u32,
}

/// One position.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Signed quantity (negative is short).
    pub quantity: Decimal,
    /// Average entry price of the open quantity.
    pub average_price: Decimal,
}

/// What the risk manager remembers of one account. Persisted in Redis together with each
/// decision, so a restart resumes exactly where the last acknowledged signal left it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountState {
    /// Open positions by symbol.
    pub positions: BTreeMap<String, Position>,
    /// The last reference price seen per symbol.
    pub last_prices: BTreeMap<String, Decimal>,
    /// Realised profit and loss per UTC day (`YYYY-MM-DD`), the last few days only.
    pub daily_pnl: BTreeMap<String, Decimal>,
    /// Event times (ms) of the approved orders of the last rate window.
    pub recent_orders: Vec<i64>,
}

const RATE_WINDOW_MS: i64 = 1000;
const DAYS_KEPT: usize = 3;

fn reject(signal: &Signal, reason: RejectReason, detail: String, now: Timestamp) -> Decision {
    Decision {
        signal_id: signal.id.clone(),
        account: signal.account.clone(),
        approved: false,
        reason: Some(reason),
        detail,
        decided_at: now,
        order: None,
    }
}

/// The UTC day of a timestamp, `YYYY-MM-DD`.
pub fn utc_day(t: Timestamp) -> String {
    t.to_zoned_datetime(TimeZone::UTC).date().to_string()
}

fn validate(signal: &Signal) -> Result<Decimal, String> {
    if signal.id.trim().is_empty() || signal.id.len() > 128 {
        return Err("id must be 1 to 128 characters".into());
    }
    if signal.account.trim().is_empty() || signal.account.len() > 64 {
        return Err("account must be 1 to 64 characters".into());
    }
    if signal.symbol.trim().is_empty() || signal.symbol.len() > 32 {
        return Err("symbol must be 1 to 32 characters".into());
    }
    if signal.quantity <= Decimal::ZERO {
        return Err(format!("quantity must be > 0, got {}", signal.quantity));
    }
    if signal.reference_price <= Decimal::ZERO {
        return Err(format!(
            "reference_price must be > 0, got {}",
            signal.reference_price
        ));
    }
    if !(0.0..=1.0).contains(&signal.strength) {
        return Err(format!(
            "strength must be within 0..1, got {}",
            signal.strength
        ));
    }
    signal
        .quantity
        .checked_mul(signal.reference_price)
        .ok_or_else(|| "quantity × reference_price is too large".to_string())
}

/// Decides on `signal` and, when it is approved, updates `state` as if the order filled at the
/// reference price. `now` becomes the decision's and the order's time.
pub fn decide(
    limits: &Limits,
    state: &mut AccountState,
    signal: &Signal,
    now: Timestamp,
) -> Decision {
    let notional = match validate(signal) {
        Ok(n) => n,
        Err(why) => return reject(signal, RejectReason::InvalidSignal, why, now),
    };
    if !limits.allowed_symbols.contains(&signal.symbol) {
        return reject(
            signal,
            RejectReason::SymbolNotAllowed,
            format!("{} is not in the allow-list", signal.symbol),
            now,
        );
    }
    if notional > limits.max_order_notional {
        return reject(
            signal,
            RejectReason::MaxOrderNotional,
            format!(
                "order notional {notional} exceeds {}",
                limits.max_order_notional
            ),
            now,
        );
    }
    let event_ms = signal.created_at.as_millisecond();
    state
        .recent_orders
        .retain(|t| *t > event_ms - RATE_WINDOW_MS * 60);
    let in_window = state
        .recent_orders
        .iter()
        .filter(|t| **t > event_ms - RATE_WINDOW_MS && **t <= event_ms)
        .count();
    if in_window >= limits.max_orders_per_second as usize {
        return reject(
            signal,
            RejectReason::MaxOrderRate,
            format!(
                "{in_window} orders in the second before {}; the limit is {}",
                signal.created_at, limits.max_orders_per_second
            ),
            now,
        );
    }
    let day = utc_day(signal.created_at);
    let pnl_today = state.daily_pnl.get(&day).copied().unwrap_or_default();
    if -pnl_today >= limits.daily_loss_limit {
        return reject(
            signal,
            RejectReason::DailyLossLimit,
            format!(
                "realised loss {} on {day} reached the limit {}",
                -pnl_today, limits.daily_loss_limit
            ),
            now,
        );
    }

    let current = state
        .positions
        .get(&signal.symbol)
        .cloned()
        .unwrap_or_default();
    let delta = signal.side.sign() * signal.quantity;
    let new_quantity = current.quantity + delta;
    let grows = new_quantity.abs() > current.quantity.abs();
    let Some(position_notional) = new_quantity.abs().checked_mul(signal.reference_price) else {
        return reject(
            signal,
            RejectReason::InvalidSignal,
            "position value overflows".into(),
            now,
        );
    };
    if grows && position_notional > limits.max_position_notional {
        return reject(
            signal,
            RejectReason::MaxPosition,
            format!(
                "position in {} would be {position_notional}; the limit is {}",
                signal.symbol, limits.max_position_notional
            ),
            now,
        );
    }
    let mut exposure = position_notional;
    let mut current_exposure = Decimal::ZERO;
    for (symbol, p) in &state.positions {
        let price = state
            .last_prices
            .get(symbol)
            .copied()
            .unwrap_or(p.average_price);
        let value = p.quantity.abs().checked_mul(price).unwrap_or(Decimal::MAX);
        current_exposure = current_exposure.saturating_add(value);
        if *symbol != signal.symbol {
            exposure = exposure.saturating_add(value);
        }
    }
    if exposure > current_exposure && exposure > limits.max_total_exposure {
        return reject(
            signal,
            RejectReason::MaxTotalExposure,
            format!(
                "total exposure would be {exposure}; the limit is {}",
                limits.max_total_exposure
            ),
            now,
        );
    }

    apply_fill(state, signal, &day, event_ms);
    Decision {
        signal_id: signal.id.clone(),
        account: signal.account.clone(),
        approved: true,
        reason: None,
        detail: format!(
            "approved: notional {notional}, position {new_quantity} {}",
            signal.symbol
        ),
        decided_at: now,
        order: Some(Order {
            id: Order::id_for(&signal.id),
            signal_id: signal.id.clone(),
            account: signal.account.clone(),
            symbol: signal.symbol.clone(),
            side: signal.side,
            quantity: signal.quantity,
            reference_price: signal.reference_price,
            created_at: now,
        }),
    }
}

fn apply_fill(state: &mut AccountState, signal: &Signal, day: &str, event_ms: i64) {
    let price = signal.reference_price;
    state.last_prices.insert(signal.symbol.clone(), price);
    let p = state.positions.entry(signal.symbol.clone()).or_default();
    let delta = signal.side.sign() * signal.quantity;
    let same_direction =
        p.quantity.is_zero() || (p.quantity > Decimal::ZERO) == (signal.side == Side::Buy);
    if same_direction {
        let total = p.quantity.abs() + signal.quantity;
        p.average_price = (p.average_price * p.quantity.abs() + price * signal.quantity) / total;
        p.quantity += delta;
    } else {
        let closing = p.quantity.abs().min(signal.quantity);
        let direction = if p.quantity > Decimal::ZERO {
            Decimal::ONE
        } else {
            Decimal::NEGATIVE_ONE
        };
        let realised = closing * (price - p.average_price) * direction;
        *state.daily_pnl.entry(day.to_string()).or_default() += realised;
        p.quantity += delta;
        if p.quantity.is_zero() {
            p.average_price = Decimal::ZERO;
        } else if (p.quantity > Decimal::ZERO) != (direction > Decimal::ZERO) {
            // The position flipped: what remains was opened at this price.
            p.average_price = price;
        }
    }
    if p.quantity.is_zero() {
        state.positions.remove(&signal.symbol);
    }
    state.recent_orders.push(event_ms);
    while state.daily_pnl.len() > DAYS_KEPT {
        let Some(first) = state.daily_pnl.keys().next().cloned() else {
            break;
        };
        state.daily_pnl.remove(&first);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn limits() -> Limits {
        Limits {
            allowed_symbols: ["BTCUSDT".to_string(), "ETHUSDT".to_string()].into(),
            max_order_notional: Decimal::from(10_000),
            max_position_notional: Decimal::from(20_000),
            max_total_exposure: Decimal::from(25_000),
            daily_loss_limit: Decimal::from(500),
            max_orders_per_second: 3,
        }
    }

    fn signal(id: &str, symbol: &str, side: Side, qty: &str, price: &str, at: &str) -> Signal {
        Signal {
            id: id.into(),
            account: "acc".into(),
            symbol: symbol.into(),
            side,
            quantity: Decimal::from_str(qty).unwrap(),
            strength: 0.5,
            reference_price: Decimal::from_str(price).unwrap(),
            created_at: at.parse().unwrap(),
        }
    }

    fn now() -> Timestamp {
        "2026-12-04T12:00:00Z".parse().unwrap()
    }

    fn reason(d: &Decision) -> Option<RejectReason> {
        d.reason
    }

    #[test]
    fn a_valid_signal_is_approved_as_an_order_derived_from_its_id() {
        let mut st = AccountState::default();
        let d = decide(
            &limits(),
            &mut st,
            &signal(
                "s1",
                "BTCUSDT",
                Side::Buy,
                "0.1",
                "60000",
                "2026-12-04T10:00:00Z",
            ),
            now(),
        );
        assert!(d.approved, "{d:?}");
        let o = d.order.unwrap();
        assert_eq!(o.id, "ord-s1");
        assert_eq!(
            st.positions["BTCUSDT"].quantity,
            Decimal::from_str("0.1").unwrap()
        );
    }

    #[test]
    fn each_rule_rejects_with_its_reason() {
        let l = limits();
        let t = "2026-12-04T10:00:00Z";
        let mut st = AccountState::default();
        let d = decide(
            &l,
            &mut st,
            &signal("a", "BTCUSDT", Side::Buy, "0", "1", t),
            now(),
        );
        assert_eq!(reason(&d), Some(RejectReason::InvalidSignal));
        let d = decide(
            &l,
            &mut st,
            &signal("b", "DOGEUSDT", Side::Buy, "1", "1", t),
            now(),
        );
        assert_eq!(reason(&d), Some(RejectReason::SymbolNotAllowed));
        let d = decide(
            &l,
            &mut st,
            &signal("c", "BTCUSDT", Side::Buy, "1", "10000.01", t),
            now(),
        );
        assert_eq!(reason(&d), Some(RejectReason::MaxOrderNotional));

        // Position: 2 × 9000 = 18000 is fine, a third would make 27000 > 20000.
        let mut st = AccountState::default();
        for (i, at) in ["2026-12-04T10:00:01Z", "2026-12-04T10:00:02Z"]
            .iter()
            .enumerate()
        {
            assert!(
                decide(
                    &l,
                    &mut st,
                    &signal(&format!("p{i}"), "BTCUSDT", Side::Buy, "1", "9000", at),
                    now()
                )
                .approved
            );
        }
        let d = decide(
            &l,
            &mut st,
            &signal(
                "p3",
                "BTCUSDT",
                Side::Buy,
                "1",
                "9000",
                "2026-12-04T10:00:03Z",
            ),
            now(),
        );
        assert_eq!(reason(&d), Some(RejectReason::MaxPosition));
        // Reducing is always allowed.
        assert!(
            decide(
                &l,
                &mut st,
                &signal(
                    "p4",
                    "BTCUSDT",
                    Side::Sell,
                    "1",
                    "9000",
                    "2026-12-04T10:00:04Z"
                ),
                now()
            )
            .approved
        );

        // Exposure: 9000 BTC + 15000 ETH = 24000; one more ETH makes 27000 > 25000, while the
        // ETH position itself (18000) stays within its limit.
        let d1 = decide(
            &l,
            &mut st,
            &signal(
                "e1",
                "ETHUSDT",
                Side::Buy,
                "3",
                "3000",
                "2026-12-04T10:00:05Z",
            ),
            now(),
        );
        let d2 = decide(
            &l,
            &mut st,
            &signal(
                "e2",
                "ETHUSDT",
                Side::Buy,
                "2",
                "3000",
                "2026-12-04T10:00:06Z",
            ),
            now(),
        );
        assert!(d1.approved && d2.approved);
        let d = decide(
            &l,
            &mut st,
            &signal(
                "e3",
                "ETHUSDT",
                Side::Buy,
                "1",
                "3000",
                "2026-12-04T10:00:07Z",
            ),
            now(),
        );
        assert!(
            matches!(reason(&d), Some(RejectReason::MaxTotalExposure)),
            "{d:?}"
        );
    }

    #[test]
    fn the_order_rate_is_counted_per_second_of_event_time() {
        let l = limits();
        let mut st = AccountState::default();
        let at = "2026-12-04T10:00:00.500Z";
        for i in 0..3 {
            let d = decide(
                &l,
                &mut st,
                &signal(&format!("r{i}"), "BTCUSDT", Side::Buy, "0.01", "100", at),
                now(),
            );
            assert!(d.approved, "{d:?}");
        }
        let d = decide(
            &l,
            &mut st,
            &signal("r3", "BTCUSDT", Side::Buy, "0.01", "100", at),
            now(),
        );
        assert_eq!(reason(&d), Some(RejectReason::MaxOrderRate));
        // A second later the window is free again.
        let d = decide(
            &l,
            &mut st,
            &signal(
                "r4",
                "BTCUSDT",
                Side::Buy,
                "0.01",
                "100",
                "2026-12-04T10:00:01.600Z",
            ),
            now(),
        );
        assert!(d.approved, "{d:?}");
    }

    #[test]
    fn the_daily_loss_limit_stops_trading_for_that_utc_day_only() {
        let l = limits();
        let mut st = AccountState::default();
        assert!(
            decide(
                &l,
                &mut st,
                &signal(
                    "d1",
                    "BTCUSDT",
                    Side::Buy,
                    "1",
                    "1000",
                    "2026-12-04T10:00:00Z"
                ),
                now()
            )
            .approved
        );
        // Selling 1 at 400 realises a loss of 600 ≥ 500.
        assert!(
            decide(
                &l,
                &mut st,
                &signal(
                    "d2",
                    "BTCUSDT",
                    Side::Sell,
                    "1",
                    "400",
                    "2026-12-04T10:00:01Z"
                ),
                now()
            )
            .approved
        );
        assert_eq!(st.daily_pnl["2026-12-04"], Decimal::from(-600));
        let d = decide(
            &l,
            &mut st,
            &signal(
                "d3",
                "ETHUSDT",
                Side::Buy,
                "1",
                "10",
                "2026-12-04T23:59:59Z",
            ),
            now(),
        );
        assert_eq!(reason(&d), Some(RejectReason::DailyLossLimit));
        let d = decide(
            &l,
            &mut st,
            &signal(
                "d4",
                "ETHUSDT",
                Side::Buy,
                "1",
                "10",
                "2026-12-05T00:00:00Z",
            ),
            now(),
        );
        assert!(d.approved, "{d:?}");
    }

    #[test]
    fn huge_values_are_rejected_not_overflowed() {
        let mut st = AccountState::default();
        let s = signal(
            "h",
            "BTCUSDT",
            Side::Buy,
            "79228162514264337593543950335",
            "2",
            "2026-12-04T10:00:00Z",
        );
        let d = decide(&limits(), &mut st, &s, now());
        assert_eq!(reason(&d), Some(RejectReason::InvalidSignal));
    }

    #[test]
    fn a_flipped_position_is_valued_at_the_flip_price() {
        let mut st = AccountState::default();
        let l = limits();
        assert!(
            decide(
                &l,
                &mut st,
                &signal(
                    "f1",
                    "BTCUSDT",
                    Side::Buy,
                    "1",
                    "100",
                    "2026-12-04T10:00:00Z"
                ),
                now()
            )
            .approved
        );
        assert!(
            decide(
                &l,
                &mut st,
                &signal(
                    "f2",
                    "BTCUSDT",
                    Side::Sell,
                    "3",
                    "110",
                    "2026-12-04T10:00:01Z"
                ),
                now()
            )
            .approved
        );
        let p = &st.positions["BTCUSDT"];
        assert_eq!(p.quantity, Decimal::from(-2));
        assert_eq!(p.average_price, Decimal::from(110));
        assert_eq!(st.daily_pnl["2026-12-04"], Decimal::from(10));
    }
}
