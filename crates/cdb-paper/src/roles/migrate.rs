//! `migrate` (one-shot: apply the migrations, optionally load the seed, exit) and `reset`
//! (empty every data table, load the seed, delete the streams and the risk state: a clean
//! slate for tests, roadmap A-04).

use std::time::{Duration, Instant};

use crate::config::{Common, Env};
use crate::db;
use crate::errors::Error;
use crate::model::{
    DECISIONS_STREAM, EXECUTIONS_STREAM, ORDERS_STREAM, RISK_STATE_KEY, SIGNALS_STREAM,
};
use crate::streams::RedisConn;

async fn connect_with_retry(url: &str, timeout: Duration) -> Result<tokio_postgres::Client, Error> {
    let started = Instant::now();
    let mut logged = false;
    loop {
        match db::connect(url).await {
            Ok(c) => return Ok(c),
            Err(e) if started.elapsed() < timeout => {
                if !logged {
                    tracing::warn!(error = %e, "postgres is not reachable yet; retrying for up to {timeout:?}");
                    logged = true;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Applies the migrations (and the seed with `MIGRATE_SEED=true`).
pub async fn migrate() -> Result<(), Error> {
    let env = Env;
    let common = Common::from_env(&env)?;
    let seed = env.flag("MIGRATE_SEED", false)?;
    let timeout = env.millis("MIGRATE_TIMEOUT_MS", 60_000)?;
    let mut client = connect_with_retry(&common.database_url, timeout).await?;
    let applied = db::migrate(&mut client).await?;
    if seed {
        db::seed(&client).await?;
    }
    tracing::info!(?applied, seeded = seed, "database is up to date");
    Ok(())
}

/// Empties the data tables and the streams, and loads the seed.
pub async fn reset() -> Result<(), Error> {
    let env = Env;
    let common = Common::from_env(&env)?;
    let mut client = connect_with_retry(&common.database_url, Duration::from_secs(10)).await?;
    db::migrate(&mut client).await?;
    db::reset(&client).await?;
    let mut redis = RedisConn::new(&common.redis_url, Duration::from_secs(5))?;
    let mut cmd = redis::cmd("DEL");
    for key in [
        SIGNALS_STREAM,
        DECISIONS_STREAM,
        ORDERS_STREAM,
        EXECUTIONS_STREAM,
        RISK_STATE_KEY,
    ] {
        cmd.arg(key);
    }
    let deleted: i64 = redis.query("DEL streams", &cmd).await?;
    tracing::info!(
        deleted_keys = deleted,
        "reset: tables emptied, seed loaded, streams deleted"
    );
    Ok(())
}
