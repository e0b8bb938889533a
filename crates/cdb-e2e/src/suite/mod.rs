//! The critical-path suite: tests that run against a live stack (a [`Target`]), one module per
//! roadmap item. Every test makes its own ids and accounts from the run id, so the suite can run
//! again and again on the same stack (`--runs N`) and never reads another run's rows.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use cdb_paper::http::HttpClient;
use cdb_paper::model::{Side, Signal};
use indexmap::IndexMap;
use redis::aio::MultiplexedConnection;
use rust_decimal::Decimal;

use crate::config::Contract;

mod flow;
mod load;
mod observability;
mod recovery;
mod risk_rules;
mod shutdown;

pub use load::{Load, LoadReport};

/// The stack under test: where everything is reachable from the harness.
#[derive(Debug, Clone)]
pub struct Target {
    /// The Compose project (containers are found by its label).
    pub project: String,
    /// Redis, e.g. `redis://127.0.0.1:16379/0`.
    pub redis_url: String,
    /// PostgreSQL, e.g. `postgres://cdb:cdb@127.0.0.1:15432/cdb`.
    pub database_url: String,
    /// Each application service's base URL (`http://127.0.0.1:PORT`), by Compose service name.
    pub services: IndexMap<String, String>,
    /// Prometheus, when the stack runs it.
    pub prometheus_url: Option<String>,
    /// What the suite relies on.
    pub contract: Contract,
    /// The stop grace period of the application services.
    pub stop_grace: Duration,
}

/// A test body's result: `Err` carries the failure message.
pub type TestResult = Result<(), String>;

/// A boxed test body.
pub type TestFuture<'a> = Pin<Box<dyn Future<Output = TestResult> + Send + 'a>>;

/// One test of the suite.
pub struct TestDef {
    /// Its name, stable across runs (the flakiness history is keyed by it).
    pub name: String,
    /// Whether it is on the critical path (the gate requires 100 % of these).
    pub critical: bool,
    /// Whether it stops, kills or restarts containers: such a test is given at least six
    /// stop grace periods, whatever `test_timeout` says.
    pub restarts: bool,
    /// The body.
    pub run: Box<dyn for<'a> Fn(&'a Ctx) -> TestFuture<'a> + Send + Sync>,
}

impl std::fmt::Debug for TestDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDef")
            .field("name", &self.name)
            .field("critical", &self.critical)
            .field("restarts", &self.restarts)
            .finish()
    }
}

/// What a test is given: connections to the stack and a unique prefix for its ids.
#[derive(Debug)]
pub struct Ctx {
    /// The stack.
    pub target: Target,
    /// Redis.
    pub redis: MultiplexedConnection,
    /// PostgreSQL.
    pub pg: tokio_postgres::Client,
    /// HTTP.
    pub http: HttpClient,
    /// Unique per run: every id a test makes starts with it.
    pub run_id: String,
}

impl Ctx {
    /// Connects to the stack's Redis and PostgreSQL; every HTTP request of the tests is
    /// limited to `http_timeout`.
    pub async fn connect(
        target: Target,
        run_id: String,
        http_timeout: Duration,
    ) -> Result<Ctx, String> {
        let client = redis::Client::open(target.redis_url.as_str())
            .map_err(|e| format!("redis url: {e}"))?;
        let redis = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| format!("cannot connect to redis at {}: {e}", target.redis_url))?;
        let (pg, connection) = tokio_postgres::connect(&target.database_url, tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("cannot connect to postgres: {e}"))?;
        tokio::spawn(connection);
        Ok(Ctx {
            target,
            redis,
            pg,
            http: HttpClient::new(http_timeout),
            run_id,
        })
    }

    /// A fresh connection to PostgreSQL (the shared one dies when postgres restarts).
    pub async fn pg_fresh(&self) -> Result<tokio_postgres::Client, String> {
        let (pg, connection) =
            tokio_postgres::connect(&self.target.database_url, tokio_postgres::NoTls)
                .await
                .map_err(|e| format!("cannot connect to postgres: {e}"))?;
        tokio::spawn(connection);
        Ok(pg)
    }

    /// An id unique to this run and test.
    pub fn id(&self, test: &str, n: usize) -> String {
        format!("{}-{test}-{n}", self.run_id)
    }

    /// Injects a signal as the contract says (XADD of one JSON field).
    pub async fn inject(&self, signal: &Signal) -> Result<String, String> {
        let json = serde_json::to_string(signal).map_err(|e| e.to_string())?;
        let argv = self.target.contract.injection_command(&json);
        let mut cmd = redis::cmd(&argv[0]);
        for a in &argv[1..] {
            cmd.arg(a);
        }
        let mut conn = self.redis.clone();
        cmd.query_async::<String>(&mut conn)
            .await
            .map_err(|e| format!("injecting signal {}: {e}", signal.id))
    }

    /// Polls `sql` (returning one bigint) until it equals `expected` or `timeout` passes.
    pub async fn wait_count(
        &self,
        sql: &str,
        ids: &[String],
        expected: i64,
        timeout: Duration,
    ) -> Result<(), String> {
        let t = Instant::now();
        let mut last = -1;
        while t.elapsed() < timeout {
            match self.pg.query_one(sql, &[&ids]).await {
                Ok(row) => {
                    last = row.get::<_, i64>(0);
                    if last == expected {
                        return Ok(());
                    }
                }
                Err(e) => return Err(format!("query failed: {e}\n{sql}")),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "expected {expected}, found {last} after {timeout:?}: {sql}"
        ))
    }

    /// The table name from the contract.
    pub fn table(&self, which: &str) -> &str {
        let t = &self.target.contract.tables;
        match which {
            "signals" => &t.signals,
            "decisions" => &t.decisions,
            "orders" => &t.orders,
            "fills" => &t.fills,
            _ => &t.rejections,
        }
    }
}

/// A signal for tests.
pub fn signal(id: &str, account: &str, symbol: &str, side: Side, qty: &str, price: &str) -> Signal {
    Signal {
        id: id.to_string(),
        account: account.to_string(),
        symbol: symbol.to_string(),
        side,
        quantity: qty.parse().unwrap_or(Decimal::ONE),
        strength: 0.5,
        reference_price: price.parse().unwrap_or(Decimal::ONE),
        created_at: jiff::Timestamp::now(),
    }
}

/// Boxes an async test body.
#[macro_export]
macro_rules! test_def {
    ($name:expr, $critical:expr, $body:path) => {
        $crate::suite::TestDef {
            name: $name.to_string(),
            critical: $critical,
            restarts: false,
            run: Box::new(|ctx| Box::pin($body(ctx))),
        }
    };
}

/// `test` marked as one that stops, kills or restarts containers.
fn restarting(test: TestDef) -> TestDef {
    TestDef {
        restarts: true,
        ..test
    }
}

/// Every test, in the order they run: the flow first, the disruptive ones (shutdown, crash)
/// last, so a failure there cannot hide a failure of the basics.
pub fn tests(target: &Target) -> Vec<TestDef> {
    let mut all = vec![
        test_def!(
            "A-05 signal reaches execution and the exchange",
            true,
            flow::signal_reaches_the_exchange
        ),
        test_def!(
            "A-07 order and fill persisted with correct fields",
            true,
            flow::order_persisted_with_correct_fields
        ),
    ];
    all.extend(risk_rules::tests());
    all.extend(observability::tests(target));
    all.push(restarting(test_def!(
        "A-09 graceful shutdown of every service under load",
        true,
        shutdown::graceful_shutdown
    )));
    all.push(restarting(test_def!(
        "crash recovery: SIGKILL of db-writer mid-load",
        true,
        recovery::db_writer_killed
    )));
    // Last: it drops every PostgreSQL connection, the shared one of the context included.
    all.push(restarting(test_def!(
        "crash recovery: SIGKILL of a PostgreSQL server process mid-load",
        true,
        recovery::postgres_crashed
    )));
    all
}
