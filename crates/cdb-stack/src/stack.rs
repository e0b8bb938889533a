//! Running the stack with the `docker compose` CLI: the same Compose the user runs, so a stack
//! started here can be inspected, logged and stopped by hand, and the reverse. The E2E harness
//! uses this API with its own project name and extra variables (e.g. `CDB_TEST_REDIS_PORT=0` for
//! random host ports).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use cdb_core::compose::{ComposeOptions, Loaded, Project, load};
use cdb_core::config::ProjectConfig;
use cdb_core::source::SourceMap;
use serde::Deserialize;

use crate::config::ImagesConfig;
use crate::docker::Docker;
use crate::errors::{Error, Result};
use crate::plan::{self, ImageNeed};
use crate::process;
use crate::select::{self, Selection};

/// The test overlay, relative to `cdb.toml`: isolated data on tmpfs, ports on 127.0.0.1.
pub const TEST_OVERLAY: &str = "compose/docker-compose.test.yml";
/// The project name of the main stack.
pub const MAIN_PROJECT: &str = "cdb";
/// The project name of the test stack.
pub const TEST_PROJECT: &str = "cdb-test";
/// The label Compose puts on everything it creates, with the project name as value.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";

/// How to make a [`Stack`] from `cdb.toml`.
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// Add the test overlay ([`TEST_OVERLAY`]) and use the project name [`TEST_PROJECT`].
    pub test: bool,
    /// With `test`: this overlay (relative to the project root) instead of [`TEST_OVERLAY`].
    pub test_overlay: Option<PathBuf>,
    /// The project name (default: [`MAIN_PROJECT`] or [`TEST_PROJECT`]).
    pub project: Option<String>,
    /// Profiles enabled beside `[compose] profiles`.
    pub profiles: Vec<String>,
    /// Variables for Compose beside the process environment (they win over it).
    pub env: BTreeMap<String, String>,
}

/// A Compose project run with `docker compose -p PROJECT -f FILE…`.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The project name.
    pub project: String,
    /// The Compose files, absolute, in `-f` order.
    pub files: Vec<PathBuf>,
    /// `--project-directory`, when not the first file's folder.
    pub project_directory: Option<PathBuf>,
    /// `--profile`s.
    pub profiles: Vec<String>,
    /// Variables for Compose beside the process environment (they win over it): the caller's,
    /// and those [`Stack::select_images`] adds to point Compose at stand-ins.
    pub env: BTreeMap<String, String>,
    docker: Docker,
}

/// How to bring a stack up.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// Only these services (and their dependencies); empty: all.
    pub services: Vec<String>,
    /// `--wait-timeout`: how long `--wait` may take.
    pub wait_timeout: Option<Duration>,
    /// Show Compose's progress on this process's terminal instead of capturing it.
    pub inherit_output: bool,
}

/// One container of the stack, as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceState {
    /// The service.
    pub service: String,
    /// The container's name.
    pub container: String,
    /// `running`, `exited`, `restarting`, …
    pub state: String,
    /// `healthy`, `unhealthy`, `starting`, or empty when there is no healthcheck.
    pub health: String,
    /// The exit code (meaningful once exited).
    pub exit_code: i64,
    /// The engine's status line (`Up 5 seconds (healthy)`).
    pub status: String,
    /// The published ports.
    pub ports: Vec<PublishedPort>,
}

/// A container port published on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedPort {
    /// The host address (`127.0.0.1`, `0.0.0.0`, `::`).
    pub host_ip: String,
    /// The host port.
    pub host_port: u16,
    /// The container port.
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

impl PublishedPort {
    /// A URL for humans: `redis://`, `postgres://` or `http://` by container port, with a
    /// wildcard host address shown as `localhost`.
    pub fn url(&self) -> String {
        let host = match self.host_ip.as_str() {
            "" | "0.0.0.0" | "::" => "localhost".to_string(),
            ip if ip.contains(':') => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let scheme = match self.container_port {
            6379 => "redis",
            5432 => "postgres",
            _ if self.protocol == "udp" => "udp",
            _ => "http",
        };
        format!("{scheme}://{host}:{}", self.host_port)
    }
}

impl Stack {
    /// The stack of `cdb.toml`'s `[compose]` files (plus the test overlay with `test`).
    pub fn from_config(config: &ProjectConfig, options: &StackOptions) -> Stack {
        let mut files = config.compose_files();
        if options.test {
            let overlay = options
                .test_overlay
                .as_deref()
                .unwrap_or(Path::new(TEST_OVERLAY));
            files.push(config.root.join(overlay));
        }
        let project = options.project.clone().unwrap_or_else(|| {
            if options.test {
                TEST_PROJECT.into()
            } else {
                MAIN_PROJECT.into()
            }
        });
        let mut profiles = config.compose.profiles.clone();
        for p in &options.profiles {
            if !profiles.contains(p) {
                profiles.push(p.clone());
            }
        }
        Stack {
            project,
            files,
            project_directory: config
                .compose
                .project_directory
                .as_ref()
                .map(|d| config.root.join(d)),
            profiles,
            env: options.env.clone(),
            docker: Docker::new(),
        }
    }

    /// The loader's options for exactly the project this stack's Compose sees.
    pub fn compose_options(&self) -> ComposeOptions {
        let cwd = self
            .files
            .first()
            .and_then(|f| f.parent())
            .map_or_else(|| PathBuf::from("."), PathBuf::from);
        let mut options = ComposeOptions::in_dir(cwd);
        options.files = self.files.clone();
        options.project_directory = self.project_directory.clone();
        options.project_name = Some(self.project.clone());
        options.profiles = self.profiles.clone();
        options.environment.extend(self.env.clone());
        options
    }

    /// Loads the stack's Compose files as Compose would; a file that does not load is
    /// [`Error::Compose`], rendered against its sources.
    fn load(&self) -> Result<(Loaded, SourceMap)> {
        let mut sources = SourceMap::new();
        let loaded = load(&self.compose_options(), &mut sources).map_err(|d| Error::Compose {
            rendered: d.render(&sources),
        })?;
        Ok((loaded, sources))
    }

    /// The resolved Compose project: its active services with everything Compose resolves.
    pub fn project(&self) -> Result<Project> {
        Ok(self.load()?.0.project)
    }

    /// The images the stack's active services need.
    pub fn plan_images(&self, images: &ImagesConfig) -> Result<Vec<ImageNeed>> {
        let (loaded, sources) = self.load()?;
        Ok(plan::plan(&loaded.project, &sources, images))
    }

    /// The service names of the active services.
    pub fn service_names(&self) -> Result<Vec<String>> {
        Ok(self.project()?.services.into_keys().collect())
    }

    /// Chooses the images on this machine ([`select::select`]) and adds the variables that
    /// point Compose at stand-ins to [`Stack::env`] (a variable already there is kept).
    pub fn select_images(&mut self, images: &ImagesConfig) -> Result<Selection> {
        let needs = self.plan_images(images)?;
        let local = self.docker.local_images()?;
        let selection = select::select(&needs, &local, images);
        for (k, v) in selection.env() {
            self.env.entry(k).or_insert(v);
        }
        Ok(selection)
    }

    /// Like [`Stack::select_images`], and an error naming the missing images when any is.
    pub fn require_images(&mut self, images: &ImagesConfig) -> Result<Selection> {
        let selection = self.select_images(images)?;
        let missing: Vec<String> = selection
            .missing()
            .iter()
            .map(|s| s.need.describe())
            .collect();
        if missing.is_empty() {
            Ok(selection)
        } else {
            Err(Error::MissingImages { images: missing })
        }
    }

    /// `docker compose -p … -f … [--project-directory …] [--profile …]`, with [`Stack::env`].
    pub fn command(&self) -> Command {
        let mut cmd = self.docker.command();
        cmd.arg("compose").args(["--project-name", &self.project]);
        for f in &self.files {
            cmd.arg("--file").arg(f);
        }
        if let Some(dir) = &self.project_directory {
            cmd.arg("--project-directory").arg(dir);
        }
        for p in &self.profiles {
            cmd.args(["--profile", p]);
        }
        cmd.envs(&self.env);
        cmd
    }

    fn run(&self, args: &[&str], what: &str) -> Result<process::Captured> {
        let mut cmd = self.command();
        cmd.args(args);
        process::run_ok(&mut cmd, what)
    }

    /// `up --detach --wait`: starts the stack and returns once every service is running and
    /// healthy (one-shot services completed), or fails.
    pub fn up(&self, options: &UpOptions) -> Result<()> {
        let mut cmd = self.command();
        cmd.args(["up", "--detach", "--wait", "--pull", "never"]);
        if let Some(t) = options.wait_timeout {
            cmd.args(["--wait-timeout", &t.as_secs().max(1).to_string()]);
        }
        cmd.args(&options.services);
        let what = format!("starting the stack `{}`", self.project);
        if options.inherit_output {
            let status = cmd
                .stdin(Stdio::null())
                .status()
                .map_err(|source| Error::Spawn {
                    program: "docker compose".into(),
                    source,
                })?;
            if status.success() {
                Ok(())
            } else {
                Err(Error::CommandFailed {
                    what,
                    command: process::display(&cmd),
                    status: process::describe(status),
                    output: String::new(),
                })
            }
        } else {
            process::run_ok(&mut cmd, &what).map(|_| ())
        }
    }

    /// `down --remove-orphans`: removes the containers and networks; with `volumes`, the
    /// volumes too (named ones included: their data is lost).
    pub fn down(&self, volumes: bool) -> Result<()> {
        let mut args = vec!["down", "--remove-orphans"];
        if volumes {
            args.push("--volumes");
        }
        self.run(&args, &format!("stopping the stack `{}`", self.project))
            .map(|_| ())
    }

    /// Every container of the stack (exited ones too), sorted by service.
    pub fn services(&self) -> Result<Vec<ServiceState>> {
        let out = self.run(
            &["ps", "--all", "--format", "json"],
            &format!("listing the containers of `{}`", self.project),
        )?;
        let mut states = parse_ps(&out.stdout).map_err(|detail| Error::Parse {
            command: "docker compose ps --all --format json".into(),
            detail,
        })?;
        states.sort_by(|a, b| (&a.service, &a.container).cmp(&(&b.service, &b.container)));
        Ok(states)
    }

    /// The host port `service`'s `container_port` is published on, if it is.
    pub fn published_port(&self, service: &str, container_port: u16) -> Result<Option<u16>> {
        Ok(self
            .services()?
            .iter()
            .filter(|s| s.service == service)
            .flat_map(|s| &s.ports)
            .find(|p| p.container_port == container_port && p.host_port != 0)
            .map(|p| p.host_port))
    }

    /// The last `tail` lines (all: `None`) of the services' logs (all services: empty).
    pub fn logs(&self, services: &[String], tail: Option<u32>) -> Result<String> {
        let mut cmd = self.logs_command(services, tail, false);
        let out = process::run_ok(&mut cmd, &format!("reading the logs of `{}`", self.project))?;
        Ok(out.stdout)
    }

    /// The `docker compose logs` command, for callers that stream it (`--follow`).
    pub fn logs_command(&self, services: &[String], tail: Option<u32>, follow: bool) -> Command {
        let mut cmd = self.command();
        cmd.args(["logs", "--no-color"]);
        if let Some(n) = tail {
            cmd.args(["--tail", &n.to_string()]);
        }
        if follow {
            cmd.arg("--follow");
        }
        cmd.args(services);
        cmd
    }

    /// Removes whatever carries this project's label — containers, networks, volumes — even
    /// when the Compose files no longer load: the cleanup of tests, which must not leak.
    pub fn purge(&self) -> Result<()> {
        purge_project(&self.docker, &self.project)
    }
}

/// The longest `stop_grace_period` of `services` in `project` (Docker's default of 10 s where
/// none is set): how long `docker stop` waits before it kills them.
pub fn stop_grace_period<'a>(
    project: &Project,
    services: impl IntoIterator<Item = &'a str>,
) -> Duration {
    const DOCKER_DEFAULT: Duration = Duration::from_secs(10);
    services
        .into_iter()
        .map(|name| {
            project
                .services
                .get(name)
                .and_then(|s| s.node.as_map()?.get("stop_grace_period")?.scalar_text())
                .and_then(|text| cdb_core::compose::canonical::parse_go_duration(&text).ok())
                .map_or(DOCKER_DEFAULT, |nanos| {
                    Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
                })
        })
        .max()
        .unwrap_or(Duration::ZERO)
}

/// Removes the containers, networks and volumes labelled with Compose project `project`.
pub fn purge_project(docker: &Docker, project: &str) -> Result<()> {
    let filter = format!("label={PROJECT_LABEL}={project}");
    let listed = |args: &[&str]| -> Result<Vec<String>> {
        let out = docker.run_ok(args, "listing the project's resources")?;
        Ok(out.stdout.split_whitespace().map(str::to_string).collect())
    };
    let containers = listed(&["ps", "--all", "--quiet", "--filter", &filter])?;
    if !containers.is_empty() {
        let mut args = vec!["rm", "--force", "--volumes"];
        args.extend(containers.iter().map(String::as_str));
        docker.run_ok(&args, "removing the project's containers")?;
    }
    let networks = listed(&["network", "ls", "--quiet", "--filter", &filter])?;
    if !networks.is_empty() {
        let mut args = vec!["network", "rm"];
        args.extend(networks.iter().map(String::as_str));
        docker.run_ok(&args, "removing the project's networks")?;
    }
    let volumes = listed(&["volume", "ls", "--quiet", "--filter", &filter])?;
    if !volumes.is_empty() {
        let mut args = vec!["volume", "rm", "--force"];
        args.extend(volumes.iter().map(String::as_str));
        docker.run_ok(&args, "removing the project's volumes")?;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PsEntry {
    name: String,
    service: String,
    state: String,
    #[serde(default)]
    health: String,
    #[serde(default)]
    exit_code: i64,
    #[serde(default)]
    status: String,
    #[serde(default)]
    publishers: Option<Vec<Publisher>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Publisher {
    #[serde(rename = "URL", default)]
    url: String,
    #[serde(default)]
    target_port: u16,
    #[serde(default)]
    published_port: u16,
    #[serde(default)]
    protocol: String,
}

/// `docker compose ps --format json`: one object per line (Compose ≥ 2.21) or one array.
pub fn parse_ps(text: &str) -> Result<Vec<ServiceState>, String> {
    let text = text.trim();
    let entries: Vec<PsEntry> = if text.is_empty() {
        Vec::new()
    } else if text.starts_with('[') {
        serde_json::from_str(text).map_err(|e| e.to_string())?
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?
    };
    Ok(entries
        .into_iter()
        .map(|e| ServiceState {
            service: e.service,
            container: e.name,
            state: e.state,
            health: e.health,
            exit_code: e.exit_code,
            status: e.status,
            ports: e
                .publishers
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p.published_port != 0)
                .map(|p| PublishedPort {
                    host_ip: p.url,
                    host_port: p.published_port,
                    container_port: p.target_port,
                    protocol: p.protocol,
                })
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn ps_lines_and_arrays() {
        let line = r#"{"Command":"\"docker-entrypoint.s…\"","ExitCode":0,"Health":"healthy","Name":"cdb-test-redis-1","Project":"cdb-test","Publishers":[{"URL":"127.0.0.1","TargetPort":6379,"PublishedPort":16379,"Protocol":"tcp"}],"Service":"redis","State":"running","Status":"Up 3 seconds (healthy)"}
{"ExitCode":0,"Health":"","Name":"cdb-test-migrate-1","Publishers":[{"URL":"","TargetPort":8080,"PublishedPort":0,"Protocol":"tcp"}],"Service":"migrate","State":"exited","Status":"Exited (0) 1 second ago"}"#;
        let states = parse_ps(line).unwrap();
        assert_eq!(states.len(), 2);
        assert_eq!(states[0].service, "redis");
        assert_eq!(
            states[0].ports,
            vec![PublishedPort {
                host_ip: "127.0.0.1".into(),
                host_port: 16379,
                container_port: 6379,
                protocol: "tcp".into()
            }]
        );
        assert_eq!(states[0].ports[0].url(), "redis://127.0.0.1:16379");
        assert!(states[1].ports.is_empty());
        assert_eq!(states[1].state, "exited");
        let array = r#"[{"Name":"a-1","Service":"a","State":"running","Publishers":null}]"#;
        assert_eq!(parse_ps(array).unwrap()[0].service, "a");
        assert!(parse_ps("").unwrap().is_empty());
        assert!(parse_ps("{nope").is_err());
    }

    #[test]
    fn urls_by_port() {
        let p = |ip: &str, port| PublishedPort {
            host_ip: ip.into(),
            host_port: 1,
            container_port: port,
            protocol: "tcp".into(),
        };
        assert_eq!(p("0.0.0.0", 8080).url(), "http://localhost:1");
        assert_eq!(p("::1", 5432).url(), "postgres://[::1]:1");
    }

    #[test]
    fn stacks_from_the_configuration() {
        let config = ProjectConfig::defaults("/repo");
        let main = Stack::from_config(&config, &StackOptions::default());
        assert_eq!(main.project, "cdb");
        assert_eq!(main.files, [Path::new("/repo/compose/docker-compose.yml")]);
        let test = Stack::from_config(
            &config,
            &StackOptions {
                test: true,
                profiles: vec!["monitoring".into()],
                env: BTreeMap::from([("CDB_TEST_REDIS_PORT".into(), "0".into())]),
                ..Default::default()
            },
        );
        assert_eq!(test.project, "cdb-test");
        assert_eq!(test.files.len(), 2);
        assert!(test.files[1].ends_with("compose/docker-compose.test.yml"));
        let cmd = test.command();
        let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into()).collect();
        assert_eq!(&args[..3], ["compose", "--project-name", "cdb-test"]);
        assert!(args.windows(2).any(|w| w == ["--profile", "monitoring"]));
        assert!(
            cmd.get_envs()
                .any(|(k, v)| k == "CDB_TEST_REDIS_PORT" && v.is_some_and(|v| v == "0"))
        );
        let named = Stack::from_config(
            &config,
            &StackOptions {
                test: true,
                project: Some("e2e-1".into()),
                ..Default::default()
            },
        );
        assert_eq!(named.project, "e2e-1");
    }

    #[test]
    fn the_test_stack_resolves_with_extra_variables() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let config = ProjectConfig::defaults(&root);
        let stack = Stack::from_config(
            &config,
            &StackOptions {
                test: true,
                env: BTreeMap::from([("CDB_TEST_REDIS_PORT".into(), "0".into())]),
                ..Default::default()
            },
        );
        let mut sources = SourceMap::new();
        let loaded = load(&stack.compose_options(), &mut sources).unwrap();
        assert_eq!(loaded.project.name, "cdb-test");
        let redis = &loaded.project.services["redis"];
        assert_eq!(redis.ports[0].value.published.as_deref(), Some("0"));
        assert!(!loaded.project.services.contains_key("grafana"));
    }
}
