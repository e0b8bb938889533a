//! The containers of a Compose project, driven through the `docker` CLI: find a service's
//! container by the Compose labels, stop it (SIGTERM, then SIGKILL after the grace period, as
//! `docker stop` does), kill it with a signal, start it, read its state and its logs.
//!
//! The CLI rather than the engine API for these few verbs: they are what an operator types, so
//! a failing test can be replayed by hand with the command it prints.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::process::Command;

/// What `docker inspect` says of a container's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct State {
    /// `running`, `exited`, `restarting`, …
    pub status: String,
    /// Whether it runs.
    pub running: bool,
    /// The exit code of the last run.
    pub exit_code: i64,
    /// Killed by the kernel for memory.
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    /// The healthcheck's view, if it has one.
    pub health: Option<Health>,
}

/// The healthcheck's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    /// `starting`, `healthy`, `unhealthy`.
    pub status: String,
    /// The last probes.
    #[serde(default)]
    pub log: Vec<HealthProbe>,
}

/// One healthcheck probe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthProbe {
    /// Its exit code.
    pub exit_code: i64,
    /// What it printed.
    pub output: String,
}

async fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .await
        .map_err(|e| format!("cannot run docker: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "`docker {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The container of `service` in `project` (the first, for a scaled service).
pub async fn container_of(project: &str, service: &str) -> Result<String, String> {
    let p = format!("label=com.docker.compose.project={project}");
    let s = format!("label=com.docker.compose.service={service}");
    let ids = docker(&[
        "ps",
        "-a",
        "-q",
        "--no-trunc",
        "--filter",
        &p,
        "--filter",
        &s,
    ])
    .await?;
    ids.lines()
        .next()
        .map(str::to_string)
        .ok_or_else(|| format!("project {project} has no container for service {service}"))
}

/// Its state.
pub async fn state(id: &str) -> Result<State, String> {
    let json = docker(&["inspect", "--format", "{{json .State}}", id]).await?;
    serde_json::from_str(&json).map_err(|e| format!("unreadable docker inspect output: {e}"))
}

/// `docker stop -t <grace>`: SIGTERM (or the image's stop signal), SIGKILL after `grace`.
/// Returns how long it took.
pub async fn stop(id: &str, grace: Duration) -> Result<Duration, String> {
    let t = Instant::now();
    docker(&["stop", "-t", &grace.as_secs().to_string(), id]).await?;
    Ok(t.elapsed())
}

/// `docker kill -s <signal>`.
pub async fn kill(id: &str, signal: &str) -> Result<(), String> {
    docker(&["kill", "-s", signal, id]).await.map(|_| ())
}

/// `docker exec <id> <argv…>`: its standard output.
pub async fn exec(id: &str, argv: &[&str]) -> Result<String, String> {
    let mut args = vec!["exec", id];
    args.extend_from_slice(argv);
    docker(&args).await
}

/// `docker start` (nothing happens if it already runs).
pub async fn start(id: &str) -> Result<(), String> {
    docker(&["start", id]).await.map(|_| ())
}

/// The last `tail` lines of its logs (stdout and stderr).
pub async fn logs(id: &str, tail: usize) -> Result<String, String> {
    let out = Command::new("docker")
        .args(["logs", "--tail", &tail.to_string(), id])
        .output()
        .await
        .map_err(|e| format!("cannot run docker: {e}"))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(text)
}

/// Waits until the container runs and its healthcheck (if any) says healthy.
pub async fn wait_healthy(id: &str, timeout: Duration) -> Result<Duration, String> {
    let t = Instant::now();
    loop {
        let st = state(id).await?;
        let healthy = st.running && st.health.as_ref().is_none_or(|h| h.status == "healthy");
        if healthy {
            return Ok(t.elapsed());
        }
        if t.elapsed() > timeout {
            let last = st
                .health
                .and_then(|h| h.log.last().map(|p| p.output.trim().to_string()))
                .unwrap_or_default();
            return Err(format!(
                "not healthy after {timeout:?} (status {}, last healthcheck output: {last:?})",
                st.status
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
