//! The `[e2e]` section of `cdb.toml`, owned by this crate (loaded through
//! [`ProjectConfig::section`], like every section). Every key has a default — the acceptance gate
//! of the E2E issue and the contract of the reference stack in `compose/` — so the repository
//! works with no edits; an unknown key, a duration without a unit or a rate above 1 is an error
//! that points at its line.
//!
//! The *contract* ([`Contract`]) is everything the critical-path suite assumes about the stack:
//! stream and consumer-group names, tables, the services and their ports, how a signal is
//! injected. It is configuration rather than code so that a renamed stream in the stack is a
//! one-line change here, and so that the suite can be pointed at another stack with the same
//! shape.
//!
//! ```toml
//! [e2e]
//! min_pass_rate = 0.95
//! max_total_time = "10m"
//! health_timeout = "120s"
//!
//! [e2e.contract.streams.signals]
//! name = "cdb:signals"
//! groups = ["risk-manager", "db-writer"]
//!
//! [[e2e.suites]]
//! name = "smoke"
//! command = ["pytest", "tests/e2e", "--junitxml={junit}"]
//! critical = true
//! timeout = "5m"
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cdb_core::config::ProjectConfig;
use cdb_core::diagnostic::Diagnostic;
use indexmap::IndexMap;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use crate::duration;
use crate::gate::{Rate, Thresholds};
use crate::inventory::Category;
use crate::model::BUILTIN_SUITE;

/// The section's name in `cdb.toml`.
pub const SECTION: &str = "e2e";

/// The placeholder in a suite's command that is replaced by the path of its JUnit XML file.
pub const JUNIT_PLACEHOLDER: &str = "{junit}";

/// `[e2e]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct E2eConfig {
    /// Gate: share of distinct, non-skipped tests that must pass (every run). Default 0.95.
    pub min_pass_rate: Rate,
    /// Gate: the same share over the critical-path tests. Default 1.0.
    pub critical_pass_rate: Rate,
    /// Gate: how many critical tests may be flaky across `--runs`. Default 0: a critical test
    /// that passes only sometimes is not a proven critical path.
    pub max_critical_flaky: u32,
    /// Gate: the longest a run may take, stack start to teardown. Default `"10m"`.
    #[serde(deserialize_with = "duration::deserialize")]
    pub max_total_time: Duration,
    /// How long the stack may take to become healthy before the run fails. Default `"120s"`.
    #[serde(deserialize_with = "duration::deserialize")]
    pub health_timeout: Duration,
    /// Timeout of one HTTP request to a service (`/health`, `/metrics`). Default `"5s"`.
    #[serde(deserialize_with = "duration::deserialize")]
    pub http_timeout: Duration,
    /// Timeout of one built-in test. Default `"60s"`.
    #[serde(deserialize_with = "duration::deserialize")]
    pub test_timeout: Duration,
    /// How many times the whole suite runs by default (`--runs` overrides). Default 1.
    pub runs: NonZeroU32,
    /// Prefix of the isolated stack's Compose project name (a unique suffix is added per
    /// session, so that a run never touches the developer's own stack). Default `"cdb-e2e"`.
    pub project_prefix: String,
    /// The history file, one JSON line per session, relative to `cdb.toml`. Default
    /// `.cdb/e2e-history.jsonl`.
    pub history: PathBuf,
    /// The Compose overlay added to `[compose].files` for the test stack, relative to
    /// `cdb.toml`. Default `compose/docker-compose.test.yml`.
    pub test_overlay: PathBuf,
    /// External suites run against the stack, in order (`[[e2e.suites]]`).
    #[serde(deserialize_with = "deserialize_suites")]
    pub suites: Vec<SuiteConfig>,
    /// What the suite assumes about the stack.
    pub contract: Contract,
}

impl Default for E2eConfig {
    fn default() -> Self {
        E2eConfig {
            min_pass_rate: Rate::from_ppm(950_000),
            critical_pass_rate: Rate::ONE,
            max_critical_flaky: 0,
            max_total_time: Duration::from_secs(600),
            health_timeout: Duration::from_secs(120),
            http_timeout: Duration::from_secs(5),
            test_timeout: Duration::from_secs(60),
            runs: NonZeroU32::MIN,
            project_prefix: "cdb-e2e".into(),
            history: PathBuf::from(".cdb/e2e-history.jsonl"),
            test_overlay: PathBuf::from("compose/docker-compose.test.yml"),
            suites: Vec::new(),
            contract: Contract::default(),
        }
    }
}

impl E2eConfig {
    /// Reads `[e2e]` from a loaded `cdb.toml` (the defaults when the section is absent).
    pub fn from_project(project: &ProjectConfig) -> Result<Self, Diagnostic> {
        project.section(SECTION)
    }

    /// The gate's thresholds.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            min_pass_rate: self.min_pass_rate,
            critical_pass_rate: self.critical_pass_rate,
            max_critical_flaky: self.max_critical_flaky,
            max_total_time: self.max_total_time,
        }
    }

    /// The Compose files of the test stack, absolute: `[compose].files`, then the overlay.
    pub fn compose_files(&self, project: &ProjectConfig) -> Vec<PathBuf> {
        let mut files = project.compose_files();
        files.push(project.root.join(&self.test_overlay));
        files
    }

    /// The history file, absolute.
    pub fn history_path(&self, project: &ProjectConfig) -> PathBuf {
        project.root.join(&self.history)
    }

    /// The suite called `name`.
    pub fn suite(&self, name: &str) -> Option<&SuiteConfig> {
        self.suites.iter().find(|s| s.name == name)
    }

    /// A suite's timeout: its own, or else [`E2eConfig::max_total_time`] (a suite cannot
    /// usefully run longer than the gate allows a whole run).
    pub fn suite_timeout(&self, suite: &SuiteConfig) -> Duration {
        suite.timeout.unwrap_or(self.max_total_time)
    }
}

/// `[[e2e.suites]]`: an external test suite (pytest, another test runner) run against the
/// stack, whose results come back as JUnit XML.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawSuite")]
pub struct SuiteConfig {
    /// Unique name; tests are identified as `name::classname::test`.
    pub name: String,
    /// The program and its arguments (no shell). Must contain `{junit}`, replaced by the path of
    /// the JUnit XML file the suite writes, e.g. `["pytest", "tests/e2e", "--junitxml={junit}"]`.
    pub command: Vec<String>,
    /// The directory it runs in, relative to `cdb.toml`. Default `"."`.
    pub working_dir: PathBuf,
    /// Whether its tests are on the critical path (they then count for the critical gate).
    pub critical: bool,
    /// How long it may run (default: `max_total_time`).
    pub timeout: Option<Duration>,
    /// Extra environment variables for the process.
    pub env: IndexMap<String, String>,
    /// The command that lists its tests for `cargo xtask test-inventory`; default: derived for
    /// pytest (the command without its `{junit}` arguments, plus `--collect-only -q`).
    pub collect: Option<Vec<String>>,
    /// The inventory category of its tests when neither a marker nor their path says one.
    pub category: Option<Category>,
}

impl SuiteConfig {
    /// The command with `{junit}` replaced by `junit`.
    pub fn argv(&self, junit: &Path) -> Vec<String> {
        let path = junit.display().to_string();
        self.command
            .iter()
            .map(|a| a.replace(JUNIT_PLACEHOLDER, &path))
            .collect()
    }

    /// The working directory, absolute.
    pub fn working_dir(&self, project: &ProjectConfig) -> PathBuf {
        project.root.join(&self.working_dir)
    }

    /// Whether the command runs pytest (`pytest …`, `py.test …`, `python -m pytest …`,
    /// `uv run pytest …`: any of the first words).
    pub fn is_pytest(&self) -> bool {
        self.command.iter().take(4).any(|w| {
            let base = Path::new(w)
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or(w);
            base == "pytest" || base == "py.test"
        })
    }

    /// The command that lists the suite's tests: `collect` when set; for pytest, the command
    /// without its `{junit}` arguments plus `--collect-only -q`; otherwise none.
    pub fn collect_command(&self) -> Option<Vec<String>> {
        if let Some(c) = &self.collect {
            return Some(c.clone());
        }
        if !self.is_pytest() {
            return None;
        }
        let mut argv: Vec<String> = Vec::new();
        let mut skip_next = false;
        for arg in &self.command {
            if skip_next {
                skip_next = false;
                continue;
            }
            if arg.contains(JUNIT_PLACEHOLDER) {
                continue;
            }
            // `--junitxml {junit}` as two words: the flag goes with its value.
            if arg == "--junitxml" || arg == "--junit-xml" {
                skip_next = true;
                continue;
            }
            argv.push(arg.clone());
        }
        argv.push("--collect-only".into());
        argv.push("-q".into());
        Some(argv)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    name: String,
    command: Vec<String>,
    #[serde(default = "dot")]
    working_dir: PathBuf,
    #[serde(default)]
    critical: bool,
    #[serde(default, deserialize_with = "duration::deserialize_option")]
    timeout: Option<Duration>,
    #[serde(default)]
    env: IndexMap<String, String>,
    #[serde(default)]
    collect: Option<Vec<String>>,
    #[serde(default)]
    category: Option<Category>,
}

fn dot() -> PathBuf {
    PathBuf::from(".")
}

impl TryFrom<RawSuite> for SuiteConfig {
    type Error = String;
    fn try_from(raw: RawSuite) -> Result<Self, String> {
        let name = raw.name.trim();
        if name.is_empty() || name.contains("::") || name.chars().any(char::is_whitespace) {
            return Err(format!(
                "suite name {:?} must be a non-empty word without spaces or `::` (it prefixes test ids)",
                raw.name
            ));
        }
        if name == BUILTIN_SUITE || name == crate::model::STACK_SUITE {
            return Err(format!(
                "suite name `{name}` is reserved for cdb-e2e's own tests; choose another"
            ));
        }
        if raw.command.is_empty() || raw.command[0].trim().is_empty() {
            return Err(format!("suite `{name}`: command must name a program"));
        }
        if !raw.command.iter().any(|a| a.contains(JUNIT_PLACEHOLDER)) {
            return Err(format!(
                "suite `{name}`: command must contain `{JUNIT_PLACEHOLDER}`, the JUnit XML file it writes \
                 (e.g. \"--junitxml={JUNIT_PLACEHOLDER}\" for pytest): results are read from it"
            ));
        }
        if raw.collect.as_ref().is_some_and(Vec::is_empty) {
            return Err(format!("suite `{name}`: collect must name a program"));
        }
        Ok(SuiteConfig {
            name: name.to_string(),
            command: raw.command,
            working_dir: raw.working_dir,
            critical: raw.critical,
            timeout: raw.timeout,
            env: raw.env,
            collect: raw.collect,
            category: raw.category,
        })
    }
}

fn deserialize_suites<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SuiteConfig>, D::Error> {
    let suites = Vec::<SuiteConfig>::deserialize(d)?;
    let mut seen = BTreeSet::new();
    for s in &suites {
        if !seen.insert(s.name.as_str()) {
            return Err(de::Error::custom(format!(
                "two suites are named `{}`; suite names must be unique",
                s.name
            )));
        }
    }
    Ok(suites)
}

/// `[e2e.contract]`: what the critical-path suite relies on. The defaults describe the
/// reference stack of `compose/docker-compose.yml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Contract {
    /// The Redis streams of the critical path.
    pub streams: Streams,
    /// The PostgreSQL tables the path ends in.
    pub tables: Tables,
    /// The application services, by Compose service name, in the order they are checked. A
    /// `services` table in `cdb.toml` replaces the default list (so a service can be dropped).
    #[serde(default = "default_services")]
    pub services: IndexMap<String, ServiceContract>,
    /// Redis.
    pub redis: DataService,
    /// PostgreSQL.
    pub postgres: Postgres,
    /// How a test signal enters the path.
    pub injection: Injection,
}

/// `[e2e.contract.streams]`: one entry per hop of the path.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Streams {
    /// Signals (signal-engine → risk-manager). Default `cdb:signals`.
    pub signals: StreamContract,
    /// Risk decisions, approved orders included (risk-manager → db-writer). Default
    /// `cdb:decisions`.
    pub decisions: StreamContract,
    /// Approved orders (risk-manager → execution). Default `cdb:orders`.
    pub orders: StreamContract,
    /// Executions/fills from the exchange (execution → db-writer). Default `cdb:executions`.
    pub executions: StreamContract,
}

impl Default for Streams {
    fn default() -> Self {
        Streams {
            signals: StreamContract::new("cdb:signals", &["risk-manager", "db-writer"]),
            decisions: StreamContract::new("cdb:decisions", &["db-writer"]),
            orders: StreamContract::new("cdb:orders", &["execution"]),
            executions: StreamContract::new("cdb:executions", &["db-writer"]),
        }
    }
}

impl Streams {
    /// The stream of `role`.
    pub fn get(&self, role: StreamRole) -> &StreamContract {
        match role {
            StreamRole::Signals => &self.signals,
            StreamRole::Decisions => &self.decisions,
            StreamRole::Orders => &self.orders,
            StreamRole::Executions => &self.executions,
        }
    }

    /// Every stream with its role, in path order.
    pub fn all(&self) -> [(StreamRole, &StreamContract); 4] {
        [
            (StreamRole::Signals, &self.signals),
            (StreamRole::Decisions, &self.decisions),
            (StreamRole::Orders, &self.orders),
            (StreamRole::Executions, &self.executions),
        ]
    }
}

/// The hops of the critical path, as stream roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamRole {
    /// Trading signals.
    Signals,
    /// Risk decisions.
    Decisions,
    /// Orders.
    Orders,
    /// Executions (fills).
    Executions,
}

impl fmt::Display for StreamRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StreamRole::Signals => "signals",
            StreamRole::Decisions => "decisions",
            StreamRole::Orders => "orders",
            StreamRole::Executions => "executions",
        })
    }
}

/// One Redis stream and the consumer groups that must exist on it once the stack is up.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StreamContract {
    /// The stream key.
    pub name: String,
    /// Consumer groups reading it (each service reads with a group named after itself).
    #[serde(default)]
    pub groups: Vec<String>,
}

impl StreamContract {
    fn new(name: &str, groups: &[&str]) -> Self {
        StreamContract {
            name: name.into(),
            groups: groups.iter().map(|g| (*g).to_string()).collect(),
        }
    }
}

/// `[e2e.contract.tables]`: where each step of the path is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tables {
    /// Signals. Default `signals`.
    pub signals: String,
    /// Risk decisions. Default `risk_decisions`.
    pub decisions: String,
    /// Orders. Default `orders`.
    pub orders: String,
    /// Fills. Default `fills`.
    pub fills: String,
    /// Rejected orders. Default `order_rejections`.
    pub rejections: String,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            signals: "signals".into(),
            decisions: "risk_decisions".into(),
            orders: "orders".into(),
            fills: "fills".into(),
            rejections: "order_rejections".into(),
        }
    }
}

impl Tables {
    /// Every table, in path order.
    pub fn all(&self) -> [&str; 5] {
        [
            &self.signals,
            &self.decisions,
            &self.orders,
            &self.fills,
            &self.rejections,
        ]
    }
}

/// One application service: where its health and metrics are served.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceContract {
    /// Path of the health endpoint. Default `/health`.
    #[serde(deserialize_with = "deserialize_url_path")]
    pub health: String,
    /// Path of the Prometheus metrics endpoint. Default `/metrics`.
    #[serde(deserialize_with = "deserialize_url_path")]
    pub metrics: String,
    /// The port inside the container. Default 8080.
    #[serde(deserialize_with = "deserialize_port")]
    pub port: u16,
    /// Whether the critical path needs it (its health checks are then critical tests).
    /// Default true.
    pub critical: bool,
}

impl Default for ServiceContract {
    fn default() -> Self {
        ServiceContract {
            health: "/health".into(),
            metrics: "/metrics".into(),
            port: 8080,
            critical: true,
        }
    }
}

fn default_services() -> IndexMap<String, ServiceContract> {
    [
        "signal-engine",
        "risk-manager",
        "execution",
        "paper-exchange",
        "db-writer",
    ]
    .into_iter()
    .map(|name| (name.to_string(), ServiceContract::default()))
    .collect()
}

/// `[e2e.contract.redis]`: a data service by Compose service name and container port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataService {
    /// The Compose service. Default `redis`.
    pub service: String,
    /// The port inside the container. Default 6379.
    #[serde(deserialize_with = "deserialize_port")]
    pub port: u16,
}

impl Default for DataService {
    fn default() -> Self {
        DataService {
            service: "redis".into(),
            port: 6379,
        }
    }
}

/// `[e2e.contract.postgres]`: the database and the credentials of the *test* stack (the test
/// overlay's throw-away database; never production credentials).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Postgres {
    /// The Compose service. Default `postgres`.
    pub service: String,
    /// The port inside the container. Default 5432.
    #[serde(deserialize_with = "deserialize_port")]
    pub port: u16,
    /// Database name. Default `cdb` (the stack's `POSTGRES_DB` default).
    pub database: String,
    /// User. Default `cdb`.
    pub user: String,
    /// Password. Default `cdb`.
    pub password: String,
}

impl Default for Postgres {
    fn default() -> Self {
        Postgres {
            service: "postgres".into(),
            port: 5432,
            database: "cdb".into(),
            user: "cdb".into(),
            password: "cdb".into(),
        }
    }
}

/// `[e2e.contract.injection]`: a signal enters the path as `XADD <stream> * <field> <json>` —
/// one field holding the signal as JSON, as signal-engine itself writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Injection {
    /// The stream written to. Default `signals`.
    pub stream: StreamRole,
    /// The one field of the entry. Default `data`.
    pub field: String,
    /// How the field's value is encoded. Default (and only) `json`.
    pub encoding: Encoding,
}

impl Default for Injection {
    fn default() -> Self {
        Injection {
            stream: StreamRole::Signals,
            field: "data".into(),
            encoding: Encoding::Json,
        }
    }
}

/// The encoding of an injected entry's field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// A JSON document.
    Json,
}

// Written out rather than derived: a derived `Default` would leave `services` empty, since
// `#[serde(default = …)]` applies only when deserialising.
impl Default for Contract {
    fn default() -> Self {
        Contract {
            streams: Streams::default(),
            tables: Tables::default(),
            services: default_services(),
            redis: DataService::default(),
            postgres: Postgres::default(),
            injection: Injection::default(),
        }
    }
}

impl Contract {
    /// The Redis command that injects `payload` (already encoded as the contract says):
    /// `["XADD", <stream>, "*", <field>, <payload>]`, for any Redis client's raw command API.
    pub fn injection_command(&self, payload: &str) -> Vec<String> {
        vec![
            "XADD".into(),
            self.streams.get(self.injection.stream).name.clone(),
            "*".into(),
            self.injection.field.clone(),
            payload.into(),
        ]
    }
}

fn deserialize_port<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let port = u16::deserialize(d)?;
    if port == 0 {
        return Err(de::Error::custom("port 0 is not a port; write 1–65535"));
    }
    Ok(port)
}

fn deserialize_url_path<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let path = String::deserialize(d)?;
    if !path.starts_with('/') {
        return Err(de::Error::custom(format!(
            "{path:?} must be a URL path starting with `/`, e.g. \"/health\""
        )));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdb_core::source::SourceMap;

    fn load(text: &str) -> Result<E2eConfig, Diagnostic> {
        let mut sources = SourceMap::new();
        let project =
            ProjectConfig::from_text(Path::new("/repo/cdb.toml"), text.to_string(), &mut sources)?;
        E2eConfig::from_project(&project)
    }

    fn error_line(text: &str) -> (u32, String) {
        let e = load(text).unwrap_err();
        assert_eq!(e.code, cdb_core::config::INVALID, "{}", e.message);
        (e.location.map_or(0, |l| l.line), e.message)
    }

    #[test]
    fn every_key_has_the_documented_default() {
        let c = load("[compose]\nfiles = [\"compose/docker-compose.yml\"]\n").unwrap();
        assert_eq!(c, E2eConfig::default());
        assert_eq!(c.min_pass_rate.ppm(), 950_000);
        assert_eq!(c.critical_pass_rate.ppm(), 1_000_000);
        assert_eq!(c.max_critical_flaky, 0);
        assert_eq!(c.max_total_time, Duration::from_secs(600));
        assert_eq!(c.health_timeout, Duration::from_secs(120));
        assert_eq!(c.history, PathBuf::from(".cdb/e2e-history.jsonl"));
        assert_eq!(
            c.test_overlay,
            PathBuf::from("compose/docker-compose.test.yml")
        );
        assert_eq!(c.contract.streams.signals.name, "cdb:signals");
        assert_eq!(c.contract.streams.decisions.name, "cdb:decisions");
        assert_eq!(c.contract.streams.orders.name, "cdb:orders");
        assert_eq!(c.contract.streams.executions.name, "cdb:executions");
        assert_eq!(
            c.contract.tables.all(),
            [
                "signals",
                "risk_decisions",
                "orders",
                "fills",
                "order_rejections"
            ]
        );
        let names: Vec<&str> = c.contract.services.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "signal-engine",
                "risk-manager",
                "execution",
                "paper-exchange",
                "db-writer"
            ]
        );
        assert!(
            c.contract
                .services
                .values()
                .all(|s| s.port == 8080 && s.health == "/health" && s.metrics == "/metrics")
        );
        assert_eq!(c.contract.redis.port, 6379);
        assert_eq!(c.contract.postgres.port, 5432);
        assert_eq!(
            c.contract.injection_command("{}"),
            ["XADD", "cdb:signals", "*", "data", "{}"]
        );
        // An empty file and an empty section are the defaults too.
        assert_eq!(load("").unwrap(), E2eConfig::default());
        assert_eq!(load("[e2e]\n").unwrap(), E2eConfig::default());
    }

    #[test]
    fn values_override_defaults() {
        let c = load(
            "[e2e]\nmin_pass_rate = 0.9\ncritical_pass_rate = 1\nmax_total_time = \"15m\"\n\
             http_timeout = \"1500ms\"\nruns = 5\n\
             [e2e.contract.streams.signals]\nname = \"x:signals\"\n\
             [e2e.contract.services.risk-manager]\nport = 9000\ncritical = false\n",
        )
        .unwrap();
        assert_eq!(c.min_pass_rate.ppm(), 900_000);
        assert_eq!(c.critical_pass_rate, Rate::ONE);
        assert_eq!(c.max_total_time, Duration::from_secs(900));
        assert_eq!(c.http_timeout, Duration::from_millis(1500));
        assert_eq!(c.runs.get(), 5);
        assert_eq!(c.contract.streams.signals.name, "x:signals");
        assert!(c.contract.streams.signals.groups.is_empty());
        // A services table replaces the list.
        assert_eq!(c.contract.services.len(), 1);
        assert_eq!(c.contract.services["risk-manager"].port, 9000);
        assert!(!c.contract.services["risk-manager"].critical);
        assert_eq!(c.contract.services["risk-manager"].health, "/health");
    }

    #[test]
    fn unknown_key_points_at_its_line() {
        let (line, msg) = error_line("[e2e]\nmin_pass_rate = 0.9\nmin_pas_rate = 0.9\n");
        assert_eq!(line, 3);
        assert!(msg.contains("min_pas_rate"), "{msg}");
        let (line, msg) =
            error_line("[e2e]\n\n[e2e.contract.tables]\nsignals = \"s\"\nfill = \"f\"\n");
        assert_eq!(line, 5);
        assert!(msg.contains("fill"), "{msg}");
    }

    #[test]
    fn bad_durations_point_at_their_line() {
        let (line, msg) = error_line("[e2e]\nruns = 2\nhealth_timeout = \"120\"\n");
        assert_eq!(line, 3);
        assert!(msg.contains("has no unit"), "{msg}");
        let (line, msg) = error_line("[e2e]\n\nmax_total_time = 600\n");
        assert_eq!(line, 3);
        assert!(msg.contains("\"600s\""), "{msg}");
        let (line, msg) = error_line("[e2e]\ntest_timeout = \"0s\"\n");
        assert_eq!(line, 2);
        assert!(msg.contains("greater than zero"), "{msg}");
    }

    #[test]
    fn bad_rates_and_counts_point_at_their_line() {
        let (line, msg) = error_line("[e2e]\n\nmin_pass_rate = 95\n");
        assert_eq!(line, 3);
        assert!(msg.contains("between 0 and 1"), "{msg}");
        let (line, _) = error_line("[e2e]\ncritical_pass_rate = -0.5\n");
        assert_eq!(line, 2);
        let (line, _) = error_line("[e2e]\n\n\nruns = 0\n");
        assert_eq!(line, 4);
        let (line, _) = error_line("[e2e]\nmax_critical_flaky = -1\n");
        assert_eq!(line, 2);
        let (line, msg) = error_line("[e2e.contract.services.execution]\nhealth = \"health\"\n");
        assert_eq!(line, 2);
        assert!(msg.contains("starting with `/`"), "{msg}");
    }

    #[test]
    fn suites_are_validated_where_they_are_written() {
        let ok = load(
            "[[e2e.suites]]\nname = \"smoke\"\ncommand = [\"pytest\", \"tests/e2e\", \"--junitxml={junit}\"]\n\
             critical = true\ntimeout = \"5m\"\nenv = { CDB_X = \"1\" }\n",
        )
        .unwrap();
        let s = &ok.suites[0];
        assert_eq!(s.name, "smoke");
        assert!(s.critical);
        assert_eq!(s.timeout, Some(Duration::from_secs(300)));
        assert_eq!(s.working_dir, PathBuf::from("."));
        assert_eq!(
            s.argv(Path::new("/tmp/j.xml")),
            ["pytest", "tests/e2e", "--junitxml=/tmp/j.xml"]
        );
        assert_eq!(ok.suite_timeout(s), Duration::from_secs(300));

        let (line, msg) = error_line(
            "[e2e]\n\n[[e2e.suites]]\nname = \"smoke\"\ncommand = [\"pytest\", \"tests\"]\n",
        );
        assert_eq!(line, 3, "{msg}");
        assert!(msg.contains("{junit}"), "{msg}");

        let (line, msg) = error_line(
            "[[e2e.suites]]\nname = \"a\"\ncommand = [\"x\", \"{junit}\"]\ncritcal = true\n",
        );
        assert_eq!(line, 4, "{msg}");
        assert!(msg.contains("critcal"), "{msg}");

        let (_, msg) =
            error_line("[[e2e.suites]]\nname = \"builtin\"\ncommand = [\"x\", \"{junit}\"]\n");
        assert!(msg.contains("reserved"), "{msg}");

        let (_, msg) = error_line(
            "[[e2e.suites]]\nname = \"a\"\ncommand = [\"x\", \"{junit}\"]\n\
             [[e2e.suites]]\nname = \"a\"\ncommand = [\"y\", \"{junit}\"]\n",
        );
        assert!(msg.contains("unique"), "{msg}");

        let (line, msg) = error_line(
            "[[e2e.suites]]\nname = \"a\"\ncommand = [\"x\", \"{junit}\"]\ntimeout = \"soon\"\n",
        );
        assert_eq!(line, 4, "{msg}");
    }

    #[test]
    fn pytest_collection_command_drops_the_junit_arguments() {
        let suite = |command: &[&str]| SuiteConfig {
            name: "s".into(),
            command: command.iter().map(|s| (*s).to_string()).collect(),
            working_dir: PathBuf::from("."),
            critical: false,
            timeout: None,
            env: IndexMap::new(),
            collect: None,
            category: None,
        };
        assert_eq!(
            suite(&["pytest", "tests/e2e", "--junitxml={junit}", "-x"]).collect_command(),
            Some(
                ["pytest", "tests/e2e", "-x", "--collect-only", "-q"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(
            suite(&["python3", "-m", "pytest", "--junitxml", "{junit}", "tests"]).collect_command(),
            Some(
                ["python3", "-m", "pytest", "tests", "--collect-only", "-q"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(
            suite(&["/venv/bin/pytest", "--junit-xml", "{junit}"]).collect_command(),
            Some(
                ["/venv/bin/pytest", "--collect-only", "-q"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(
            suite(&["./run-tests.sh", "{junit}"]).collect_command(),
            None
        );
    }
}
