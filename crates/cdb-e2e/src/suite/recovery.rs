//! Crash recovery: SIGKILL of db-writer mid-load, then a restart: nothing lost, nothing twice.

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
