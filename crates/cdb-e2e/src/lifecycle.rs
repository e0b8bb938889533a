//! An isolated copy of the stack: `docker compose up` under a project name of its own, with
//! every published port on a free port of 127.0.0.1 chosen at start, and a teardown that
//! removes that project's containers, networks and volumes — and nothing else — however the
//! run ends.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use tokio::process::Command;

use crate::config::Contract;
use crate::suite::Target;

/// What to bring up.
#[derive(Debug, Clone)]
pub struct StackSpec {
    /// The Compose project name (unique per run, e.g. `cdb-e2e-<id>`).
    pub project: String,
    /// The Compose files, in `-f` order.
    pub files: Vec<PathBuf>,
    /// The project directory.
    pub project_directory: PathBuf,
    /// Extra environment for Compose (image variables, port variables).
    pub env: Vec<(String, String)>,
    /// Services to start (empty: the default set of the files), e.g. to add `prometheus` from
    /// an inactive profile.
    pub services: Vec<String>,
    /// The suite's contract (which services and ports to look up).
    pub contract: Contract,
    /// The application services' stop grace period.
    pub stop_grace: Duration,
    /// Whether the stack runs Prometheus (a `prometheus` service is active in its files): the
    /// suite then checks that every scrape target is up.
    pub prometheus: bool,
}

/// The port variables of the test overlay: each set to a free port chosen when the stack comes
/// up, so that runs never collide with each other or with a stack started by hand.
pub const PORT_VARIABLES: &[&str] = &[
    "CDB_TEST_REDIS_PORT",
    "CDB_TEST_POSTGRES_PORT",
    "CDB_TEST_EXCHANGE_PORT",
    "CDB_TEST_SIGNAL_ENGINE_PORT",
    "CDB_TEST_RISK_MANAGER_PORT",
    "CDB_TEST_EXECUTION_PORT",
    "CDB_TEST_DB_WRITER_PORT",
    "CDB_TEST_PROMETHEUS_PORT",
];

/// A running stack. Dropping it without [`RunningStack::down`] still removes it (blocking).
#[derive(Debug)]
pub struct RunningStack {
    spec: StackSpec,
    down: bool,
    /// Where everything is reachable.
    pub target: Target,
}

impl StackSpec {
    /// An isolated copy of the test stack of `config` (its `[compose]` files plus the test
    /// overlay) under `project`, pointed at the images present on this machine (stand-ins
    /// through their `${CDB_*_IMAGE}` variables). Fails, naming them, when images are missing:
    /// `cargo xtask images` provides them.
    ///
    /// The files are `[compose].files` and `[e2e].test_overlay`; the stop grace period is the
    /// longest `stop_grace_period` of the contract's services in those files.
    pub fn isolated(
        config: &cdb_core::config::ProjectConfig,
        e2e: &crate::config::E2eConfig,
        project: &str,
    ) -> Result<StackSpec, String> {
        let contract = e2e.contract.clone();
        let images = cdb_stack::ImagesConfig::from_project(config).map_err(|d| {
            let sources = cdb_core::source::SourceMap::new();
            d.render(&sources)
        })?;
        let mut stack = cdb_stack::Stack::from_config(
            config,
            &cdb_stack::StackOptions {
                test: true,
                test_overlay: Some(e2e.test_overlay.clone()),
                project: Some(project.to_string()),
                ..Default::default()
            },
        );
        let compose = stack.project().map_err(|e| e.to_string())?;
        let stop_grace = cdb_stack::stack::stop_grace_period(
            &compose,
            contract.services.keys().map(String::as_str),
        );
        let prometheus = compose.services.contains_key("prometheus");
        stack
            .require_images(&images)
            .map_err(|e| format!("{e} (`cargo xtask images` provides them)"))?;
        let project_directory = stack
            .project_directory
            .clone()
            .or_else(|| {
                stack
                    .files
                    .first()
                    .and_then(|f| f.parent())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| config.root.clone());
        Ok(StackSpec {
            project: project.to_string(),
            files: stack.files.clone(),
            project_directory,
            env: stack.env.into_iter().collect(),
            services: Vec::new(),
            contract,
            stop_grace,
            prometheus,
        })
    }

    /// Gives every port variable not set by the caller (or in this process's environment, as
    /// Compose would read it) a free port of 127.0.0.1, chosen now.
    /// Not 0 (engine-chosen): the engine would choose again whenever a container restarts,
    /// and the suite restarts containers (A-09, crash recovery) and must still reach them.
    fn choose_ports(&mut self) -> Result<(), String> {
        let mut held = Vec::new();
        for v in PORT_VARIABLES {
            if self.env.iter().any(|(k, _)| k == v) {
                continue;
            }
            if let Some(port) = std::env::var(v).ok().filter(|p| !p.trim().is_empty()) {
                self.env.push(((*v).to_string(), port));
                continue;
            }
            // Hold every listener until all are chosen, so no two variables get the same port.
            let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
                .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))?;
            let port = listener
                .local_addr()
                .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))?
                .port();
            self.env.push(((*v).to_string(), port.to_string()));
            held.push(listener);
        }
        Ok(())
    }

    fn compose(&self) -> Command {
        let mut cmd = Command::new("docker");
        cmd.arg("compose")
            .arg("--project-name")
            .arg(&self.project)
            .arg("--project-directory")
            .arg(&self.project_directory);
        for f in &self.files {
            cmd.arg("-f").arg(f);
        }
        for v in PORT_VARIABLES {
            cmd.env(v, "0");
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.kill_on_drop(true);
        cmd
    }

    /// `docker compose up -d` (containers created and started; health is awaited separately).
    pub async fn up(mut self) -> Result<RunningStack, String> {
        self.choose_ports()?;
        let mut cmd = self.compose();
        cmd.args([
            "up",
            "--detach",
            "--no-build",
            "--pull",
            "never",
            "--remove-orphans",
        ]);
        cmd.args(&self.services);
        let mut stack = RunningStack {
            target: Target {
                project: self.project.clone(),
                redis_url: String::new(),
                database_url: String::new(),
                services: IndexMap::new(),
                prometheus_url: None,
                contract: self.contract.clone(),
                stop_grace: self.stop_grace,
            },
            spec: self,
            down: false,
        };
        let out = cmd
            .output()
            .await
            .map_err(|e| format!("cannot run docker compose: {e}"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "docker compose up failed:\n{}{}",
                stderr.trim_end(),
                up_failure_hint(&stderr)
            ));
        }
        stack.resolve_ports().await?;
        Ok(stack)
    }
}

/// What to do about a failed `docker compose up`, for the failures a user can act on.
fn up_failure_hint(stderr: &str) -> String {
    let hint = if stderr.contains("port is already allocated")
        || stderr.contains("address already in use")
    {
        format!(
            "a port the test stack publishes on 127.0.0.1 was taken between choosing it and \
             starting the container (another program or stack grabbed it); run again, or set \
             the port variables ({}) to ports that are free",
            PORT_VARIABLES.join(", ")
        )
    } else if stderr.contains("No such image") || stderr.contains("pull access denied") {
        "an image is missing: run `cargo xtask images`".to_string()
    } else if stderr.contains("Cannot connect to the Docker daemon") {
        "the Docker engine is not answering: start it (e.g. `service docker start`)".to_string()
    } else {
        return String::new();
    };
    format!("\nhelp: {hint}")
}

impl RunningStack {
    /// The spec it was started from.
    pub fn spec(&self) -> &StackSpec {
        &self.spec
    }

    async fn port(&self, service: &str, container_port: u16) -> Result<u16, String> {
        let mut cmd = self.spec.compose();
        cmd.args(["port", service, &container_port.to_string()]);
        let out = cmd.output().await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .filter(|p| *p != 0)
            .ok_or_else(|| {
                format!(
                    "{service} publishes no port for {container_port}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )
            })
    }

    async fn resolve_ports(&mut self) -> Result<(), String> {
        let c = self.target.contract.clone();
        let redis = self.port(&c.redis.service, c.redis.port).await?;
        self.target.redis_url = format!("redis://127.0.0.1:{redis}/0");
        let pg = self.port(&c.postgres.service, c.postgres.port).await?;
        self.target.database_url = format!(
            "postgres://{}:{}@127.0.0.1:{pg}/{}",
            c.postgres.user, c.postgres.password, c.postgres.database
        );
        for (name, s) in &c.services {
            let p = self.port(name, s.port).await?;
            self.target
                .services
                .insert(name.clone(), format!("http://127.0.0.1:{p}"));
        }
        let started = |name: &str| {
            self.spec.services.is_empty() || self.spec.services.iter().any(|s| s == name)
        };
        if self.spec.prometheus && started("prometheus") {
            let p = self.port("prometheus", 9090).await?;
            self.target.prometheus_url = Some(format!("http://127.0.0.1:{p}"));
        }
        Ok(())
    }

    /// Waits until every container of the project runs and is healthy (one-shot containers:
    /// exited 0), through the engine's events ([`crate::health`]). A container that exits
    /// non-zero or turns unhealthy fails at once, naming itself with its last healthcheck
    /// output and log lines.
    pub async fn wait_healthy(
        &self,
        timeout: Duration,
    ) -> Result<crate::health::HealthReport, String> {
        crate::health::wait_healthy(&self.spec.project, timeout).await
    }

    /// Leaves the stack running: dropping it no longer removes it (`--keep`, or a caller
    /// that removes it by other means).
    pub fn keep(mut self) {
        self.down = true;
    }

    /// Removes the project's containers, networks and volumes.
    pub async fn down(mut self) -> Result<Duration, String> {
        self.down = true;
        let t = Instant::now();
        teardown(&self.spec).await?;
        Ok(t.elapsed())
    }
}

/// `docker compose down --volumes --remove-orphans` for the project.
pub async fn teardown(spec: &StackSpec) -> Result<(), String> {
    let mut cmd = spec.compose();
    cmd.args(["down", "--volumes", "--remove-orphans", "--timeout", "10"]);
    let out = cmd
        .output()
        .await
        .map_err(|e| format!("cannot run docker compose: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "docker compose down failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Drop for RunningStack {
    fn drop(&mut self) {
        if self.down {
            return;
        }
        // A panic or an early return: remove the stack anyway, synchronously.
        let mut cmd = std::process::Command::new("docker");
        cmd.arg("compose")
            .arg("--project-name")
            .arg(&self.spec.project)
            .arg("--project-directory")
            .arg(&self.spec.project_directory);
        for f in &self.spec.files {
            cmd.arg("-f").arg(f);
        }
        for v in PORT_VARIABLES {
            cmd.env(v, "0");
        }
        for (k, v) in &self.spec.env {
            cmd.env(k, v);
        }
        let _ = cmd
            .args(["down", "--volumes", "--remove-orphans", "--timeout", "5"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Every container (running or not) of a project, by the Compose label.
pub async fn project_containers(project: &str) -> Result<Vec<String>, String> {
    let out = Command::new("docker")
        .args([
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            &format!("label=com.docker.compose.project={project}"),
        ])
        .output()
        .await
        .map_err(|e| format!("cannot run docker: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

/// What the engine still holds of a project: containers, networks and volumes carrying its
/// label (empty after a clean teardown).
pub async fn leftovers(project: &str) -> Result<Vec<String>, String> {
    let label = format!("label=com.docker.compose.project={project}");
    let mut out = Vec::new();
    for (kind, args) in [
        (
            "container",
            vec!["ps", "-a", "-q", "--filter", label.as_str()],
        ),
        (
            "network",
            vec!["network", "ls", "-q", "--filter", label.as_str()],
        ),
        (
            "volume",
            vec!["volume", "ls", "-q", "--filter", label.as_str()],
        ),
    ] {
        let o = Command::new("docker")
            .args(&args)
            .output()
            .await
            .map_err(|e| e.to_string())?;
        for line in String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            out.push(format!("{kind} {line}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_says_which_variables_choose_the_ports() {
        let stderr = "Error response from daemon: driver failed programming external connectivity \
            on endpoint cdb-e2e-x-redis-1: Bind for 127.0.0.1:40001 failed: port is already allocated";
        let hint = up_failure_hint(stderr);
        assert!(hint.starts_with("\nhelp: a port"), "{hint}");
        assert!(hint.contains("CDB_TEST_REDIS_PORT"), "{hint}");
    }

    #[test]
    fn a_missing_image_points_at_cargo_xtask_images() {
        let hint = up_failure_hint("Error response from daemon: No such image: cdb/paper:0.1.0");
        assert!(hint.contains("cargo xtask images"), "{hint}");
    }

    #[test]
    fn an_unknown_failure_gets_no_invented_hint() {
        assert_eq!(
            up_failure_hint("service \"x\" has neither an image nor a build"),
            ""
        );
    }
}
