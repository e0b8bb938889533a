//! The messages of the critical path, as they travel over Redis Streams.
//!
//! Every stream entry has one field, [`DATA_FIELD`], holding the message as JSON. Decimal values
//! (prices, quantities, money) are JSON strings so that no float rounding ever touches them;
//! numbers are accepted on input too. Timestamps are RFC 3339 in UTC.
//!
//! Every identifier downstream of a signal is derived from the signal's id (the decision is keyed
//! by the signal id, the order id is `ord-<signal id>`, the paper exchange's fill id is
//! `fill-<order id>`), so a redelivered message always maps to the same rows: that is what makes
//! the pipeline exactly-once in the database although every stream is at-least-once.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The one field of every stream entry.
pub const DATA_FIELD: &str = "data";

/// Signals, from the signal engine or injected (groups `risk-manager`, `db-writer`).
pub const SIGNALS_STREAM: &str = "cdb:signals";
/// Risk decisions, approved orders included (group `db-writer`).
pub const DECISIONS_STREAM: &str = "cdb:decisions";
/// Approved orders (group `execution`).
pub const ORDERS_STREAM: &str = "cdb:orders";
/// Execution reports: fills and exchange rejections (group `db-writer`).
pub const EXECUTIONS_STREAM: &str = "cdb:executions";
/// The risk manager's per-account state (a hash: account → JSON).
pub const RISK_STATE_KEY: &str = "cdb:risk:state";

/// The account a signal trades for when it names none.
pub const DEFAULT_ACCOUNT: &str = "default";

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Increase the position.
    Buy,
    /// Decrease the position.
    Sell,
}

impl Side {
    /// `buy` or `sell`, as stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }

    /// +1 for a buy, -1 for a sell.
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }
}

/// A trading signal: the signal engine's (or a test's) wish to trade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// Unique id; the idempotency key of the whole pipeline.
    pub id: String,
    /// The account (strategy) whose limits apply.
    #[serde(default = "default_account")]
    pub account: String,
    /// The instrument, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// How much of the base asset.
    pub quantity: Decimal,
    /// Conviction, 0 to 1.
    pub strength: f64,
    /// The price the signal was computed at; risk limits are valued at it.
    pub reference_price: Decimal,
    /// When the signal was made (event time: the risk rules' windows use it).
    pub created_at: Timestamp,
}

fn default_account() -> String {
    DEFAULT_ACCOUNT.to_string()
}

/// Why the risk manager rejected a signal. The `snake_case` names are a contract: they are
/// stored in `risk_decisions.reason` and tests match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The signal is structurally valid JSON but its values are not (quantity ≤ 0, …).
    InvalidSignal,
    /// The symbol is not on the allow-list.
    SymbolNotAllowed,
    /// quantity × reference price exceeds the maximum order notional.
    MaxOrderNotional,
    /// Too many approved orders for the account in the rate window (by event time).
    MaxOrderRate,
    /// The account's realised loss for the signal's UTC day has reached the limit.
    DailyLossLimit,
    /// The position in the symbol would exceed the maximum position notional.
    MaxPosition,
    /// The account's total exposure would exceed the maximum.
    MaxTotalExposure,
}

impl RejectReason {
    /// Every reason, in the order the rules are checked.
    pub const ALL: [RejectReason; 7] = [
        RejectReason::InvalidSignal,
        RejectReason::SymbolNotAllowed,
        RejectReason::MaxOrderNotional,
        RejectReason::MaxOrderRate,
        RejectReason::DailyLossLimit,
        RejectReason::MaxPosition,
        RejectReason::MaxTotalExposure,
    ];

    /// The machine-readable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::InvalidSignal => "invalid_signal",
            RejectReason::SymbolNotAllowed => "symbol_not_allowed",
            RejectReason::MaxOrderNotional => "max_order_notional",
            RejectReason::MaxOrderRate => "max_order_rate",
            RejectReason::DailyLossLimit => "daily_loss_limit",
            RejectReason::MaxPosition => "max_position",
            RejectReason::MaxTotalExposure => "max_total_exposure",
        }
    }
}

/// An order the risk manager approved, for execution to place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// `ord-<signal id>`.
    pub id: String,
    /// The signal it came from.
    pub signal_id: String,
    /// The account.
    pub account: String,
    /// The instrument.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// How much.
    pub quantity: Decimal,
    /// The signal's reference price.
    pub reference_price: Decimal,
    /// When the risk manager approved it.
    pub created_at: Timestamp,
}

impl Order {
    /// The order id derived from a signal id.
    pub fn id_for(signal_id: &str) -> String {
        format!("ord-{signal_id}")
    }
}

/// The risk manager's verdict on one signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The signal decided on (one decision per signal).
    pub signal_id: String,
    /// The account.
    pub account: String,
    /// `true` when approved.
    pub approved: bool,
    /// Why not, when rejected.
    pub reason: Option<RejectReason>,
    /// A human-readable explanation (limits and values).
    pub detail: String,
    /// When the decision was made.
    pub decided_at: Timestamp,
    /// The order, when approved.
    pub order: Option<Order>,
}

/// A fill from the paper exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    /// The exchange's fill id (`fill-<order id>`).
    pub id: String,
    /// The order filled.
    pub order_id: String,
    /// The instrument.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// How much (paper fills are always complete).
    pub quantity: Decimal,
    /// The fill price.
    pub price: Decimal,
    /// The fee charged, in the quote asset.
    pub fee: Decimal,
    /// When the exchange filled it.
    pub filled_at: Timestamp,
}

/// What execution reports about one order: filled, or rejected by the exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ExecutionReport {
    /// The exchange filled the order.
    Filled {
        /// The fill.
        fill: Fill,
    },
    /// The exchange refused the order, or kept failing until execution gave up.
    Rejected {
        /// The order.
        order_id: String,
        /// Why (the exchange's error, or `exchange_unavailable`).
        reason: String,
        /// When execution gave up.
        rejected_at: Timestamp,
    },
}

impl ExecutionReport {
    /// The order the report is about.
    pub fn order_id(&self) -> &str {
        match self {
            ExecutionReport::Filled { fill } => &fill.order_id,
            ExecutionReport::Rejected { order_id, .. } => order_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_accepts_numbers_and_strings_for_decimals_and_defaults_the_account() {
        let s: Signal = serde_json::from_str(
            r#"{"id":"s1","symbol":"BTCUSDT","side":"buy","quantity":0.5,"strength":0.7,
                "reference_price":"65000.10","created_at":"2026-12-04T05:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(s.account, DEFAULT_ACCOUNT);
        assert_eq!(s.quantity.to_string(), "0.5");
        assert_eq!(s.reference_price.to_string(), "65000.10");
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["quantity"], "0.5");
    }

    #[test]
    fn unknown_fields_and_sides_are_rejected() {
        let bad = r#"{"id":"s1","symbol":"B","side":"hold","quantity":"1","strength":1,
                      "reference_price":"1","created_at":"2026-12-04T05:00:00Z"}"#;
        assert!(serde_json::from_str::<Signal>(bad).is_err());
        let extra = r#"{"id":"s1","symbol":"B","side":"buy","quantity":"1","strength":1,
                      "reference_price":"1","created_at":"2026-12-04T05:00:00Z","x":1}"#;
        assert!(serde_json::from_str::<Signal>(extra).is_err());
    }

    #[test]
    fn reject_reasons_serialise_as_their_contract_names() {
        for r in RejectReason::ALL {
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::Value::String(r.as_str().into())
            );
        }
    }

    #[test]
    fn execution_reports_are_tagged_by_status() {
        let r = ExecutionReport::Rejected {
            order_id: "ord-1".into(),
            reason: "unknown_symbol".into(),
            rejected_at: "2026-12-04T05:00:00Z".parse().unwrap(),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["status"], "rejected");
        assert_eq!(r.order_id(), "ord-1");
    }
}
