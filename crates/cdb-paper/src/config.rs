//! Configuration from environment variables, each with a documented default.
//!
//! | variable | default | used by |
//! |---|---|---|
//! | `REDIS_URL` | `redis://127.0.0.1:6379/0` | all but paper-exchange and migrate |
//! | `DATABASE_URL` | `postgres://cdb:cdb@127.0.0.1:5432/cdb` | db-writer, migrate |
//! | `PAPER_EXCHANGE_URL` | `http://127.0.0.1:8080` | signal-engine, execution |
//! | `HTTP_ADDR` | `0.0.0.0:8080` | every service (`/health`, `/metrics`) |
//! | `LOG_FORMAT` | `text` (`json` for JSON lines) | all |
//! | `RUST_LOG` | `info` | all |
//! | `CONSUMER_NAME` | the host name (the container id) | stream consumers |
//! | `STREAM_BATCH` | `500` | stream consumers: entries per read |
//! | `STREAM_BLOCK_MS` | `250` | stream consumers: how long a read waits (also bounds shutdown) |
//! | `STREAM_CLAIM_IDLE_MS` | `30000` | stream consumers: idle time after which a dead consumer's entries are reclaimed |
//! | `RISK_ALLOWED_SYMBOLS` | `BTCUSDT,ETHUSDT` | risk-manager |
//! | `RISK_MAX_ORDER_NOTIONAL` | `10000` | risk-manager |
//! | `RISK_MAX_POSITION_NOTIONAL` | `50000` | risk-manager |
//! | `RISK_MAX_TOTAL_EXPOSURE` | `100000` | risk-manager |
//! | `RISK_DAILY_LOSS_LIMIT` | `5000` | risk-manager |
//! | `RISK_MAX_ORDERS_PER_SECOND` | `100` | risk-manager (per account, by event time) |
//! | `EXECUTION_CONCURRENCY` | `64` | execution: orders in flight |
//! | `EXECUTION_RETRY_BUDGET_MS` | `30000` | execution: how long an order is retried while the exchange fails |
//! | `PAPER_EXCHANGE_SEED` | `1` | paper-exchange |
//! | `PAPER_EXCHANGE_SYMBOLS` | `BTCUSDT:65000,ETHUSDT:3200,SOLUSDT:150` | paper-exchange |
//! | `PAPER_EXCHANGE_TICK_MS` | `1000` | paper-exchange: how often prices move |
//! | `PAPER_EXCHANGE_LATENCY_MS` | `0` | paper-exchange: added to every order |
//! | `PAPER_EXCHANGE_FAILURE_RATE` | `0` | paper-exchange: share of orders answered 503 |
//! | `PAPER_EXCHANGE_FEE_BPS` | `10` | paper-exchange |
//! | `PAPER_EXCHANGE_SLIPPAGE_BPS` | `5` | paper-exchange |
//! | `SIGNAL_INTERVAL_MS` | `1000` | signal-engine: price poll period (0 disables generation) |
//! | `SIGNAL_THRESHOLD` | `0.002` | signal-engine: momentum that makes a signal |
//! | `SIGNAL_ORDER_NOTIONAL` | `1000` | signal-engine: notional of a full-strength signal |
//! | `SIGNAL_ACCOUNT` | `signal-engine` | signal-engine |
//! | `MIGRATE_SEED` | `false` | migrate: load the deterministic seed data |
//! | `FAULT_SHUTDOWN_EXIT_CODE` | `0` | fault injection (tests of the E2E harness): exit code of a clean shutdown |

use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;

use crate::errors::ConfigError;

/// Reads typed values from the environment; every error names the variable.
#[derive(Debug, Clone, Copy, Default)]
pub struct Env;

impl Env {
    /// The raw value, or `None` when unset or empty.
    pub fn raw(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }

    /// A string with a default.
    pub fn string(&self, name: &str, default: &str) -> String {
        self.raw(name).unwrap_or_else(|| default.to_string())
    }

    /// A parsed value with a default.
    pub fn parse<T: FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.raw(name) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                value: v.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// A decimal that must be > 0.
    pub fn positive_decimal(
        &self,
        name: &'static str,
        default: &str,
    ) -> Result<Decimal, ConfigError> {
        let d: Decimal = self.parse(name, Decimal::from_str(default).unwrap_or(Decimal::ONE))?;
        if d <= Decimal::ZERO {
            return Err(ConfigError::Invalid {
                name,
                value: d.to_string(),
                reason: "must be greater than 0".into(),
            });
        }
        Ok(d)
    }

    /// Milliseconds as a duration.
    pub fn millis(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        Ok(Duration::from_millis(self.parse(name, default)?))
    }

    /// `true`/`false`/`1`/`0`/`yes`/`no`.
    pub fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.raw(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(ConfigError::Invalid {
                    name,
                    value: v,
                    reason: "expected true or false".into(),
                }),
            },
        }
    }

    /// A URL that must start with one of `schemes`.
    pub fn url(
        &self,
        name: &'static str,
        default: &str,
        schemes: &[&str],
    ) -> Result<String, ConfigError> {
        let v = self.string(name, default);
        if schemes.iter().any(|s| v.starts_with(&format!("{s}://"))) {
            Ok(v)
        } else {
            Err(ConfigError::Invalid {
                name,
                value: redact(&v),
                reason: format!("expected a URL starting with {}://", schemes.join("://, ")),
            })
        }
    }
}

/// Hides the password of a URL before it is logged.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &userinfo[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Settings every service shares.
#[derive(Debug, Clone)]
pub struct Common {
    /// Where `/health` and `/metrics` listen.
    pub http_addr: String,
    /// Redis.
    pub redis_url: String,
    /// PostgreSQL.
    pub database_url: String,
    /// The paper exchange.
    pub exchange_url: String,
    /// This consumer's name in every consumer group.
    pub consumer_name: String,
    /// Entries per stream read.
    pub batch: usize,
    /// How long a stream read blocks.
    pub block: Duration,
    /// Idle time after which another consumer's pending entries are claimed.
    pub claim_idle: Duration,
    /// Fault injection for the E2E suite's own tests: the exit code of a shutdown that would
    /// otherwise exit 0 (`FAULT_SHUTDOWN_EXIT_CODE`, default 0: no fault).
    pub fault_shutdown_exit_code: i32,
}

impl Common {
    /// Reads the shared settings.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let consumer_name = env
            .raw("CONSUMER_NAME")
            .or_else(|| env.raw("HOSTNAME"))
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("pid-{}", std::process::id()));
        let batch: usize = env.parse("STREAM_BATCH", 500)?;
        if batch == 0 {
            return Err(ConfigError::Invalid {
                name: "STREAM_BATCH",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(Common {
            fault_shutdown_exit_code: env.parse("FAULT_SHUTDOWN_EXIT_CODE", 0)?,
            // Checked here, so a typo is one configuration error rather than a failed server.
            http_addr: env
                .parse::<std::net::SocketAddr>(
                    "HTTP_ADDR",
                    std::net::SocketAddr::from(([0, 0, 0, 0], 8080)),
                )?
                .to_string(),
            redis_url: env.url("REDIS_URL", "redis://127.0.0.1:6379/0", &["redis"])?,
            database_url: env.url(
                "DATABASE_URL",
                "postgres://cdb:cdb@127.0.0.1:5432/cdb",
                &["postgres", "postgresql"],
            )?,
            exchange_url: env
                .url("PAPER_EXCHANGE_URL", "http://127.0.0.1:8080", &["http"])?
                .trim_end_matches('/')
                .to_string(),
            consumer_name,
            batch,
            block: env.millis("STREAM_BLOCK_MS", 250)?,
            claim_idle: env.millis("STREAM_CLAIM_IDLE_MS", 30_000)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://cdb:secret@db:5432/cdb"),
            "postgres://cdb:***@db:5432/cdb"
        );
        assert_eq!(redact("redis://redis:6379/0"), "redis://redis:6379/0");
    }
}
