//! SIGTERM to each service in turn under a steady load: exit code 0 within the grace
//! period, the shutdown logged, and afterwards every signal in the database exactly once with
//! nothing pending.

use std::time::Duration;

use super::load::{Load, verify_exactly_once};
use super::{Ctx, TestResult};
use crate::containers;

/// Signals a second during the test.
const RATE: u32 = 100;

/// The test body.
pub async fn graceful_shutdown(ctx: &Ctx) -> TestResult {
    let load = Load::start(ctx, "a09", RATE);
    let mut failures = Vec::new();
    let grace = ctx.target.stop_grace;
    for service in ctx.target.contract.services.keys() {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let id = containers::container_of(&ctx.target.project, service).await?;
        let took = containers::stop(&id, grace).await?;
        let st = containers::state(&id).await?;
        let logs = containers::logs(&id, 20).await.unwrap_or_default();
        if st.exit_code != 0 {
            failures.push(format!(
                "{service} exited {} after SIGTERM (took {took:?}); last log lines:\n{}",
                st.exit_code,
                logs.trim_end()
            ));
        } else if took >= grace {
            failures.push(format!(
                "{service} needed {took:?}, not within the grace period {grace:?}"
            ));
        } else if !logs.contains("shutdown complete") {
            failures.push(format!(
                "{service} logged no `shutdown complete` line:\n{}",
                logs.trim_end()
            ));
        }
        containers::start(&id).await?;
        containers::wait_healthy(&id, Duration::from_secs(60))
            .await
            .map_err(|e| format!("{service} after restart: {e}"))?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let report = load.stop().await?;
    if let Err(e) = verify_exactly_once(ctx, &report.ids, Duration::from_secs(60)).await {
        failures.push(e);
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}
