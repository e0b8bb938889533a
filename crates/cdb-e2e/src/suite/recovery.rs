//! Crash recovery: SIGKILL of db-writer mid-load, then a restart; SIGKILL of a PostgreSQL
//! server process mid-load, which makes PostgreSQL crash-restart as a whole. Each time: nothing
//! lost, nothing twice.
//!
//! Why a server process and not the postgres container: the test overlay keeps the database
//! on tmpfs (isolated, nothing on disk), and a container's tmpfs does not survive it. Killing
//! one backend with SIGKILL is PostgreSQL's real crash path — the postmaster terminates every
//! other server process, drops every connection, replays the WAL and accepts connections again
//! — which is what db-writer must survive.

use std::time::Duration;

use super::load::{Load, verify_exactly_once};
use super::{Ctx, TestResult};
use crate::containers;

/// The test body.
pub async fn db_writer_killed(ctx: &Ctx) -> TestResult {
    let load = Load::start(ctx, "crash-dbw", 200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let id = containers::container_of(&ctx.target.project, "db-writer").await?;
    containers::kill(&id, "KILL").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // The restart policy may have restarted it already; `docker start` is then a no-op.
    containers::start(&id).await?;
    containers::wait_healthy(&id, Duration::from_secs(60))
        .await
        .map_err(|e| format!("db-writer after the kill: {e}"))?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let report = load.stop().await?;
    verify_exactly_once(ctx, &report.ids, Duration::from_secs(60)).await
}

/// The test body: SIGKILL of the PostgreSQL server process serving db-writer, mid-load.
pub async fn postgres_crashed(ctx: &Ctx) -> TestResult {
    let load = Load::start(ctx, "crash-pg", 200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pg = ctx.pg_fresh().await?;
    // Any client backend but ours: killing one crash-restarts the whole server. Oldest
    // first (the services' long-lived connections); a short-lived one (a /health check) may
    // be gone by the time of the kill, so the next is tried.
    let rows = pg
        .query(
            "SELECT pid FROM pg_stat_activity \
             WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() \
             AND datname = current_database() ORDER BY backend_start",
            &[],
        )
        .await
        .map_err(|e| format!("pg_stat_activity: {e}"))?;
    let pids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<_, i32>(0).ok())
        .map(|pid| pid.to_string())
        .collect();
    if pids.is_empty() {
        return Err("no client backend of the services is connected to PostgreSQL".into());
    }
    drop(pg);
    let id = containers::container_of(&ctx.target.project, &ctx.target.contract.postgres.service)
        .await?;
    let script = format!(
        "for p in {}; do kill -KILL \"$p\" 2>/dev/null && exit 0; done; echo 'every backend was gone' >&2; exit 1",
        pids.join(" ")
    );
    containers::exec(&id, &["sh", "-c", &script]).await?;
    let logs = wait_for_crash_restart(&id).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let report = load.stop().await?;
    verify_exactly_once(ctx, &report.ids, Duration::from_secs(60))
        .await
        .map_err(|e| format!("{e}\npostgres log:\n{logs}"))
}

/// Waits until PostgreSQL logged its crash restart and accepts connections again.
async fn wait_for_crash_restart(id: &str) -> Result<String, String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let logs = containers::logs(id, 40).await.unwrap_or_default();
        let crashed = logs.contains("was terminated by signal 9");
        let ready = logs
            .rsplit("was terminated by signal 9")
            .next()
            .is_some_and(|after| after.contains("ready to accept connections"));
        if crashed && ready {
            return Ok(logs);
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "PostgreSQL did not log a crash restart within 30 s:\n{}",
                logs.trim_end()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
