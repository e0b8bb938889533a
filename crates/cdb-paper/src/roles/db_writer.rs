//! `db-writer`: persists signals, risk decisions (with their orders) and execution reports to
//! PostgreSQL. One transaction per batch, then XACK: a crash between the two redelivers the
//! batch, and the inserts ignore rows that exist, so every message is in the database exactly
//! once. Entries it cannot read become `dead_letters` rows, never silent drops.

use std::time::Instant;

use tokio_postgres::Client;

use crate::db::{self, Batch, DeadLetter};
use crate::errors::Error;
use crate::model::{DECISIONS_STREAM, EXECUTIONS_STREAM, SIGNALS_STREAM};
use crate::service::{self, Backoff, Ctx};
use crate::streams::{Consumer, Entry, RedisConn, xack};

/// The consumer group.
pub const GROUP: &str = "db-writer";

/// Sorts a batch of entries into rows.
pub fn to_rows(entries: &[Entry]) -> Batch {
    let mut batch = Batch::default();
    for e in entries {
        let Some(data) = e.data.as_deref() else {
            batch.dead_letters.push(DeadLetter {
                stream: e.stream.clone(),
                entry_id: e.id.clone(),
                data: None,
                error: format!("no `{}` field", crate::model::DATA_FIELD),
            });
            continue;
        };
        let parsed = match e.stream.as_str() {
            SIGNALS_STREAM => {
                serde_json::from_str(data).map(|s| batch.signals.push((s, e.id.clone())))
            }
            DECISIONS_STREAM => serde_json::from_str(data).map(|d| batch.decisions.push(d)),
            EXECUTIONS_STREAM => serde_json::from_str(data).map(|x| batch.executions.push(x)),
            _ => Ok(()),
        };
        if let Err(err) = parsed {
            batch.dead_letters.push(DeadLetter {
                stream: e.stream.clone(),
                entry_id: e.id.clone(),
                data: Some(data.to_string()),
                error: err.to_string(),
            });
        }
    }
    batch
}

/// Runs the writer until shutdown; the batch in hand is committed and acknowledged first.
pub async fn run(ctx: Ctx) -> Result<(), Error> {
    let Ctx {
        common,
        metrics,
        mut shutdown,
    } = ctx;
    let rows_written = metrics.registry.counter(
        "cdb_db_rows_written_total",
        "Rows inserted into PostgreSQL (duplicates not counted).",
    );
    rows_written.touch(&[]);
    let mut consumer = Consumer::new(
        &common,
        &[SIGNALS_STREAM, DECISIONS_STREAM, EXECUTIONS_STREAM],
        GROUP,
        metrics.clone(),
    )?;
    let mut acker = RedisConn::new(&common.redis_url, std::time::Duration::from_secs(5))?;
    let mut backoff = Backoff::default();
    let mut pg: Option<Client> = None;
    while let Err(e) = consumer.ensure_groups().await {
        if shutdown.is_set() {
            return Ok(());
        }
        backoff
            .failed("connecting to redis", &e, &mut shutdown)
            .await;
    }
    // A batch committed to PostgreSQL whose XACK failed: acknowledge it before anything else.
    let mut unacked: Option<Vec<Entry>> = None;
    while !shutdown.is_set() || unacked.is_some() {
        if let Some(entries) = unacked.take() {
            let mut pipe = redis::pipe();
            xack(&mut pipe, GROUP, &entries);
            if let Err(e) = acker.query::<()>("XACK", &pipe).await {
                backoff.failed("acknowledging", &e, &mut shutdown).await;
                if shutdown.is_set() {
                    // Redelivered at the next start and ignored by the inserts.
                    return Ok(());
                }
                unacked = Some(entries);
            }
            continue;
        }
        if pg.as_ref().is_none_or(|c| c.is_closed()) {
            match db::connect(&common.database_url).await {
                Ok(c) => pg = Some(c),
                Err(e) => {
                    backoff
                        .failed("connecting to postgres", &e, &mut shutdown)
                        .await;
                    continue;
                }
            }
        }
        let Some(client) = pg.as_mut() else { continue };
        let Some(entries) =
            service::next_batch(&mut consumer, &mut backoff, &mut shutdown, "streams").await
        else {
            continue;
        };
        let started = Instant::now();
        let batch = to_rows(&entries);
        match db::write_batch(client, &batch).await {
            Ok(rows) => {
                backoff.ok();
                rows_written.inc_by(&[], rows);
                if !batch.dead_letters.is_empty() {
                    for d in &batch.dead_letters {
                        metrics
                            .messages_failed
                            .inc(&[("stream", d.stream.as_str()), ("reason", "unreadable")]);
                    }
                }
                metrics
                    .processing
                    .observe(&[("stage", "db-writer")], started.elapsed().as_secs_f64());
                unacked = Some(entries);
            }
            Err(e) => {
                backoff
                    .failed("writing to postgres", &e, &mut shutdown)
                    .await;
                pg = None;
                consumer.retry_pending();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_entries_become_dead_letters() {
        let entries = vec![
            Entry { stream: SIGNALS_STREAM.into(), id: "1-0".into(), data: Some("{not json".into()) },
            Entry { stream: DECISIONS_STREAM.into(), id: "2-0".into(), data: None },
            Entry {
                stream: SIGNALS_STREAM.into(),
                id: "3-0".into(),
                data: Some(r#"{"id":"s","symbol":"BTCUSDT","side":"buy","quantity":"1","strength":1,"reference_price":"1","created_at":"2026-12-04T00:00:00Z"}"#.into()),
            },
        ];
        let b = to_rows(&entries);
        assert_eq!(b.signals.len(), 1);
        assert_eq!(b.signals[0].1, "3-0");
        assert_eq!(b.dead_letters.len(), 2);
        assert_eq!(b.dead_letters[0].entry_id, "1-0");
    }
}
