//! Waiting until every container of a Compose project is healthy, through the engine: the
//! `health_status`, `start` and `die` events of the project's containers (by its label), with a
//! full inspect of every container at the start and once a second as a fallback (an event
//! stream that breaks, or one missed between the snapshot and the subscription, costs at most a
//! second, never a wrong answer).
//!
//! A container is ready when it is healthy, or has no healthcheck and runs, or has no
//! healthcheck and exited 0 (a one-shot service such as `migrate`). A container that exits
//! non-zero or turns unhealthy fails the wait at once, naming its service with its last
//! healthcheck outputs and log lines.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::models::{ContainerInspectResponse, HealthStatusEnum};
use bollard::query_parameters::{EventsOptions, ListContainersOptions};
use futures_util::StreamExt;

type EventStream = std::pin::Pin<
    Box<
        dyn futures_util::Stream<
                Item = Result<bollard::models::EventMessage, bollard::errors::Error>,
            > + Send,
    >,
>;

/// What a successful wait measured.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// How long the wait took.
    pub took: Duration,
    /// The service whose readiness completed the stack, when an engine event reported it.
    pub last_service: Option<String>,
    /// From the engine's event time of that report to the moment this wait returned: how fast
    /// the harness acts on a health change (None when the stack was ready at the first look).
    pub reaction: Option<Duration>,
}

#[derive(Debug, Clone)]
struct Seen {
    service: String,
    running: bool,
    exited: bool,
    exit_code: i64,
    health: Option<HealthStatusEnum>,
    probes: Vec<(i64, String)>,
}

fn seen(inspect: &ContainerInspectResponse) -> Seen {
    let service = inspect
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .and_then(|l| l.get("com.docker.compose.service"))
        .cloned()
        .or_else(|| {
            inspect
                .name
                .clone()
                .map(|n| n.trim_start_matches('/').to_string())
        })
        .unwrap_or_default();
    let state = inspect.state.as_ref();
    let status = state
        .and_then(|s| s.status)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let health = state.and_then(|s| s.health.as_ref());
    Seen {
        service,
        running: state.and_then(|s| s.running).unwrap_or(false),
        exited: status == "exited" || status == "dead",
        exit_code: state.and_then(|s| s.exit_code).unwrap_or(0),
        health: health
            .and_then(|h| h.status)
            .filter(|s| !matches!(s, HealthStatusEnum::EMPTY | HealthStatusEnum::NONE)),
        probes: health
            .and_then(|h| h.log.as_ref())
            .map(|log| {
                log.iter()
                    .map(|p| {
                        (
                            p.exit_code.unwrap_or(-1),
                            p.output.clone().unwrap_or_default().trim().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

enum Verdict {
    Ready,
    /// The ids of the containers not ready yet.
    Waiting(Vec<String>),
    Failed(String, String),
}

fn probe_lines(s: &Seen) -> String {
    if s.probes.is_empty() {
        return "(no healthcheck has finished yet)".to_string();
    }
    s.probes
        .iter()
        .map(|(code, out)| format!("exit {code}: {out}"))
        .collect::<Vec<_>>()
        .join("\n  ")
}

fn judge(all: &BTreeMap<String, Seen>) -> Verdict {
    let mut waiting = Vec::new();
    for (id, s) in all {
        if s.exited && s.exit_code != 0 {
            return Verdict::Failed(
                id.clone(),
                format!("{} exited with code {}", s.service, s.exit_code),
            );
        }
        match s.health {
            Some(HealthStatusEnum::HEALTHY) => {}
            Some(HealthStatusEnum::UNHEALTHY) => {
                return Verdict::Failed(
                    id.clone(),
                    format!(
                        "{} is unhealthy; last healthcheck outputs:\n  {}",
                        s.service,
                        probe_lines(s)
                    ),
                );
            }
            Some(_) => waiting.push(id.clone()),
            None if s.running || (s.exited && s.exit_code == 0) => {}
            None => waiting.push(id.clone()),
        }
    }
    if waiting.is_empty() && !all.is_empty() {
        Verdict::Ready
    } else {
        Verdict::Waiting(waiting)
    }
}

/// Why the wait timed out: each container still waiting, with its state, its last
/// healthcheck outputs and its last log lines.
async fn timed_out(timeout: Duration, all: &BTreeMap<String, Seen>, waiting: &[String]) -> String {
    if waiting.is_empty() {
        return format!("not healthy after {timeout:?}: the project has no container");
    }
    let mut names: Vec<&str> = waiting
        .iter()
        .filter_map(|id| all.get(id).map(|s| s.service.as_str()))
        .collect();
    names.sort_unstable();
    let mut out = format!("not healthy after {timeout:?}: {}", names.join(", "));
    for id in waiting {
        let Some(s) = all.get(id) else { continue };
        let state = match (&s.health, s.running) {
            (Some(h), _) => format!("health {h}"),
            (None, true) => "running".to_string(),
            (None, false) => "not running".to_string(),
        };
        let logs = crate::containers::logs(id, 10).await.unwrap_or_default();
        out.push_str(&format!(
            "\n{} ({state}); last healthcheck outputs:\n  {}\nlast log lines:\n{}",
            s.service,
            probe_lines(s),
            logs.trim_end()
        ));
    }
    out
}

fn label_filter(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![format!("com.docker.compose.project={project}")],
    )])
}

async fn snapshot(docker: &Docker, project: &str) -> Result<BTreeMap<String, Seen>, String> {
    let list = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(label_filter(project)),
            ..Default::default()
        }))
        .await
        .map_err(|e| format!("listing the containers of `{project}`: {e}"))?;
    let mut out = BTreeMap::new();
    for c in list {
        let Some(id) = c.id else { continue };
        match docker.inspect_container(&id, None).await {
            Ok(i) => {
                out.insert(id, seen(&i));
            }
            // Removed between the list and the inspect: not part of the stack any more.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => return Err(format!("inspecting container {id}: {e}")),
        }
    }
    Ok(out)
}

/// Connects to the engine the `docker` CLI would use (DOCKER_HOST or the local socket) and
/// agrees on an API version with it.
pub async fn connect() -> Result<Docker, String> {
    let docker = Docker::connect_with_local_defaults()
        .map_err(|e| format!("cannot reach the Docker engine: {e}"))?;
    docker
        .negotiate_version()
        .await
        .map_err(|e| format!("cannot reach the Docker engine: {e}"))
}

/// Waits until every container of `project` is ready (see the module docs), at most `timeout`.
pub async fn wait_healthy(project: &str, timeout: Duration) -> Result<HealthReport, String> {
    let started = Instant::now();
    let docker = connect().await?;
    // Subscribe first, then look: a change between the two is in the stream.
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs().saturating_sub(1).to_string())
        .unwrap_or_default();
    let mut filters = label_filter(project);
    filters.insert("type".into(), vec!["container".into()]);
    let mut events: EventStream = Box::pin(docker.events(Some(EventsOptions {
        since: Some(since),
        until: None,
        filters: Some(filters),
    })));
    let mut all = snapshot(&docker, project).await?;
    let mut last_event: Option<(String, i64)> = None;
    let mut fallback = tokio::time::interval(Duration::from_secs(1));
    fallback.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    fallback.tick().await;
    loop {
        match judge(&all) {
            Verdict::Ready => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_nanos() as i128)
                    .unwrap_or_default();
                let (last_service, reaction) = match last_event {
                    Some((service, nanos)) => (
                        Some(service),
                        u64::try_from(now - i128::from(nanos))
                            .ok()
                            .map(Duration::from_nanos),
                    ),
                    None => (None, None),
                };
                return Ok(HealthReport {
                    took: started.elapsed(),
                    last_service,
                    reaction,
                });
            }
            Verdict::Failed(id, message) => {
                let logs = crate::containers::logs(&id, 20).await.unwrap_or_default();
                return Err(format!("{message}\nlast log lines:\n{}", logs.trim_end()));
            }
            Verdict::Waiting(waiting) => {
                if started.elapsed() > timeout {
                    return Err(timed_out(timeout, &all, &waiting).await);
                }
            }
        }
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(e)) => {
                    let action = e.action.unwrap_or_default();
                    let id = e.actor.and_then(|a| a.id).unwrap_or_default();
                    let relevant = action.starts_with("health_status")
                        || matches!(action.as_str(), "start" | "die" | "create" | "destroy");
                    if relevant && !id.is_empty() {
                        match docker.inspect_container(&id, None).await {
                            Ok(i) => {
                                let s = seen(&i);
                                if action.starts_with("health_status") || action == "start" {
                                    last_event = Some((s.service.clone(), e.time_nano.unwrap_or_default()));
                                }
                                all.insert(id, s);
                            }
                            Err(_) => {
                                all.remove(&id);
                            }
                        }
                    }
                }
                // The stream broke: the fallback keeps the wait going.
                Some(Err(_)) | None => {
                    events = Box::pin(futures_util::stream::pending());
                }
            },
            _ = fallback.tick() => {
                all = snapshot(&docker, project).await?;
            }
        }
    }
}
