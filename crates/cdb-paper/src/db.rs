//! PostgreSQL: versioned migrations, the deterministic seed, the reset, and the batch writer.

use std::time::SystemTime;

use rust_decimal::Decimal;
use tokio_postgres::{Client, NoTls};

use crate::errors::{Context, Error};
use crate::model::{Decision, ExecutionReport, Fill, Signal};

/// The migrations of this binary: (version, name, SQL). Applied in order, each once; the
/// checksum of an applied one must not change.
pub const MIGRATIONS: &[(i32, &str, &str)] =
    &[(1, "init", include_str!("../migrations/0001_init.sql"))];

/// The tables the pipeline writes, in the order a reset empties them.
pub const DATA_TABLES: &[&str] = &[
    "signals",
    "risk_decisions",
    "orders",
    "fills",
    "order_rejections",
    "dead_letters",
];

/// Connects, spawning the connection task.
pub async fn connect(url: &str) -> Result<Client, Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .context("cannot connect to postgres")?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "postgres connection closed");
        }
    });
    Ok(client)
}

/// FNV-1a, 64 bit: enough to notice an edited migration (not a security measure).
pub fn checksum(sql: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sql.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Applies the pending migrations in one transaction each, under an advisory lock so that two
/// migrators never race. Returns the versions applied.
pub async fn migrate(client: &mut Client) -> Result<Vec<i32>, Error> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version integer PRIMARY KEY,
                 name text NOT NULL,
                 checksum text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .context("creating schema_migrations")?;
    let tx = client.transaction().await.context("begin")?;
    tx.execute("SELECT pg_advisory_xact_lock(7242001)", &[])
        .await
        .context("taking the migration lock")?;
    let rows = tx
        .query("SELECT version, checksum FROM schema_migrations", &[])
        .await
        .context("reading schema_migrations")?;
    let applied: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let known: Vec<i32> = MIGRATIONS.iter().map(|m| m.0).collect();
    if let Some((v, _)) = applied.iter().find(|(v, _)| !known.contains(v)) {
        return Err(Error::Migration {
            version: *v,
            message: "is applied in the database but unknown to this binary (is it older than the schema?)".into(),
        });
    }
    let mut done = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        let sum = checksum(sql);
        match applied.iter().find(|(v, _)| v == version) {
            Some((_, s)) if *s == sum => continue,
            Some((_, s)) => {
                return Err(Error::Migration {
                    version: *version,
                    message: format!(
                        "was applied with checksum {s}, but this binary's is {sum}: migrations must not be edited once applied"
                    ),
                });
            }
            None => {}
        }
        tx.batch_execute(sql)
            .await
            .context(format!("applying migration {version} ({name})"))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[version, name, &sum],
        )
        .await
        .context("recording the migration")?;
        done.push(*version);
    }
    tx.commit().await.context("commit")?;
    Ok(done)
}

/// Loads the deterministic seed data (reference accounts and symbols). Idempotent.
pub async fn seed(client: &Client) -> Result<(), Error> {
    client
        .batch_execute(
            "INSERT INTO accounts (id, name, created_at) VALUES
                 ('default', 'Default account', '2026-01-01T00:00:00Z'),
                 ('signal-engine', 'Signal engine strategy', '2026-01-01T00:00:00Z'),
                 ('e2e', 'End-to-end tests', '2026-01-01T00:00:00Z')
             ON CONFLICT (id) DO NOTHING;
             INSERT INTO symbols (symbol, base_asset, quote_asset) VALUES
                 ('BTCUSDT', 'BTC', 'USDT'),
                 ('ETHUSDT', 'ETH', 'USDT'),
                 ('SOLUSDT', 'SOL', 'USDT')
             ON CONFLICT (symbol) DO NOTHING;",
        )
        .await
        .context("loading the seed data")
}

/// Empties every table the pipeline writes and loads the seed again (roadmap A-04).
pub async fn reset(client: &Client) -> Result<(), Error> {
    client
        .batch_execute(&format!("TRUNCATE {}", DATA_TABLES.join(", ")))
        .await
        .context("truncating the data tables")?;
    client
        .batch_execute("TRUNCATE accounts, symbols")
        .await
        .context("truncating the reference tables")?;
    seed(client).await
}

/// A stream entry the writer could not read.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Its stream.
    pub stream: String,
    /// Its id.
    pub entry_id: String,
    /// Its data, if any.
    pub data: Option<String>,
    /// Why it could not be read.
    pub error: String,
}

/// One batch of rows to write in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    /// Signals with the stream id they came from.
    pub signals: Vec<(Signal, String)>,
    /// Risk decisions (their orders too).
    pub decisions: Vec<Decision>,
    /// Execution reports.
    pub executions: Vec<ExecutionReport>,
    /// Unreadable entries.
    pub dead_letters: Vec<DeadLetter>,
}

impl Batch {
    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.signals.len() + self.decisions.len() + self.executions.len() + self.dead_letters.len()
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn ts(t: jiff::Timestamp) -> SystemTime {
    // Out of SystemTime's range only on platforms we do not ship to; the epoch is a visible
    // wrong value there, never a panic.
    SystemTime::try_from(t).unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Writes a batch in one transaction. Every insert ignores rows that exist, so writing the
/// same batch twice (a redelivery after a crash between COMMIT and XACK) changes nothing.
pub async fn write_batch(client: &mut Client, batch: &Batch) -> Result<u64, Error> {
    let tx = client.transaction().await.context("begin")?;
    let mut rows = 0;
    if !batch.signals.is_empty() {
        let mut id = Vec::new();
        let mut account = Vec::new();
        let mut symbol = Vec::new();
        let mut side = Vec::new();
        let mut qty: Vec<Decimal> = Vec::new();
        let mut strength = Vec::new();
        let mut price: Vec<Decimal> = Vec::new();
        let mut created = Vec::new();
        let mut stream_id = Vec::new();
        for (s, sid) in &batch.signals {
            id.push(s.id.as_str());
            account.push(s.account.as_str());
            symbol.push(s.symbol.as_str());
            side.push(s.side.as_str());
            qty.push(s.quantity);
            strength.push(s.strength);
            price.push(s.reference_price);
            created.push(ts(s.created_at));
            stream_id.push(sid.as_str());
        }
        rows += tx
            .execute(
                "INSERT INTO signals (id, account, symbol, side, quantity, strength, reference_price, created_at, stream_id)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[],
                                      $6::float8[], $7::numeric[], $8::timestamptz[], $9::text[])
                 ON CONFLICT DO NOTHING",
                &[&id, &account, &symbol, &side, &qty, &strength, &price, &created, &stream_id],
            )
            .await
            .context("inserting signals")?;
    }
    if !batch.decisions.is_empty() {
        let mut sid = Vec::new();
        let mut account = Vec::new();
        let mut approved = Vec::new();
        let mut reason: Vec<Option<&str>> = Vec::new();
        let mut detail = Vec::new();
        let mut decided = Vec::new();
        let mut o_id = Vec::new();
        let mut o_sid = Vec::new();
        let mut o_account = Vec::new();
        let mut o_symbol = Vec::new();
        let mut o_side = Vec::new();
        let mut o_qty: Vec<Decimal> = Vec::new();
        let mut o_price: Vec<Decimal> = Vec::new();
        let mut o_created = Vec::new();
        for d in &batch.decisions {
            sid.push(d.signal_id.as_str());
            account.push(d.account.as_str());
            approved.push(d.approved);
            reason.push(d.reason.map(|r| r.as_str()));
            detail.push(d.detail.as_str());
            decided.push(ts(d.decided_at));
            if let Some(o) = &d.order {
                o_id.push(o.id.as_str());
                o_sid.push(o.signal_id.as_str());
                o_account.push(o.account.as_str());
                o_symbol.push(o.symbol.as_str());
                o_side.push(o.side.as_str());
                o_qty.push(o.quantity);
                o_price.push(o.reference_price);
                o_created.push(ts(o.created_at));
            }
        }
        rows += tx
            .execute(
                "INSERT INTO risk_decisions (signal_id, account, approved, reason, detail, decided_at)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::bool[], $4::text[], $5::text[], $6::timestamptz[])
                 ON CONFLICT DO NOTHING",
                &[&sid, &account, &approved, &reason, &detail, &decided],
            )
            .await
            .context("inserting risk decisions")?;
        if !o_id.is_empty() {
            rows += tx
                .execute(
                    "INSERT INTO orders (id, signal_id, account, symbol, side, quantity, reference_price, created_at)
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                          $6::numeric[], $7::numeric[], $8::timestamptz[])
                     ON CONFLICT DO NOTHING",
                    &[&o_id, &o_sid, &o_account, &o_symbol, &o_side, &o_qty, &o_price, &o_created],
                )
                .await
                .context("inserting orders")?;
        }
    }
    if !batch.executions.is_empty() {
        let fills: Vec<&Fill> = batch
            .executions
            .iter()
            .filter_map(|e| match e {
                ExecutionReport::Filled { fill } => Some(fill),
                ExecutionReport::Rejected { .. } => None,
            })
            .collect();
        if !fills.is_empty() {
            let id: Vec<&str> = fills.iter().map(|f| f.id.as_str()).collect();
            let order: Vec<&str> = fills.iter().map(|f| f.order_id.as_str()).collect();
            let symbol: Vec<&str> = fills.iter().map(|f| f.symbol.as_str()).collect();
            let side: Vec<&str> = fills.iter().map(|f| f.side.as_str()).collect();
            let qty: Vec<Decimal> = fills.iter().map(|f| f.quantity).collect();
            let price: Vec<Decimal> = fills.iter().map(|f| f.price).collect();
            let fee: Vec<Decimal> = fills.iter().map(|f| f.fee).collect();
            let at: Vec<SystemTime> = fills.iter().map(|f| ts(f.filled_at)).collect();
            rows += tx
                .execute(
                    "INSERT INTO fills (id, order_id, symbol, side, quantity, price, fee, filled_at)
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[],
                                          $6::numeric[], $7::numeric[], $8::timestamptz[])
                     ON CONFLICT DO NOTHING",
                    &[&id, &order, &symbol, &side, &qty, &price, &fee, &at],
                )
                .await
                .context("inserting fills")?;
        }
        let mut r_order = Vec::new();
        let mut r_reason = Vec::new();
        let mut r_at = Vec::new();
        for e in &batch.executions {
            if let ExecutionReport::Rejected {
                order_id,
                reason,
                rejected_at,
            } = e
            {
                r_order.push(order_id.as_str());
                r_reason.push(reason.as_str());
                r_at.push(ts(*rejected_at));
            }
        }
        if !r_order.is_empty() {
            rows += tx
                .execute(
                    "INSERT INTO order_rejections (order_id, reason, rejected_at)
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[])
                     ON CONFLICT DO NOTHING",
                    &[&r_order, &r_reason, &r_at],
                )
                .await
                .context("inserting order rejections")?;
        }
    }
    if !batch.dead_letters.is_empty() {
        let stream: Vec<&str> = batch
            .dead_letters
            .iter()
            .map(|d| d.stream.as_str())
            .collect();
        let entry: Vec<&str> = batch
            .dead_letters
            .iter()
            .map(|d| d.entry_id.as_str())
            .collect();
        let data: Vec<Option<&str>> = batch
            .dead_letters
            .iter()
            .map(|d| d.data.as_deref())
            .collect();
        let error: Vec<&str> = batch
            .dead_letters
            .iter()
            .map(|d| d.error.as_str())
            .collect();
        rows += tx
            .execute(
                "INSERT INTO dead_letters (stream, entry_id, data, error)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[])
                 ON CONFLICT DO NOTHING",
                &[&stream, &entry, &data, &error],
            )
            .await
            .context("inserting dead letters")?;
    }
    tx.commit().await.context("commit")?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_notices_an_edit() {
        assert_ne!(
            checksum("CREATE TABLE a ();"),
            checksum("CREATE TABLE b ();")
        );
        assert_eq!(checksum(MIGRATIONS[0].2), checksum(MIGRATIONS[0].2));
    }

    #[test]
    fn migration_versions_are_increasing_and_unique() {
        let v: Vec<i32> = MIGRATIONS.iter().map(|m| m.0).collect();
        let mut sorted = v.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(v, sorted);
    }
}
