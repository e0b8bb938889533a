//! The reference stack of `compose/` against real Redis and PostgreSQL in containers: an
//! isolated copy (test overlay, its own project name, engine-chosen ports) is brought up, and
//! the critical path, the risk rules, graceful shutdown under load, crash recovery and every
//! service's `/metrics` (through `promtool check metrics`) are checked against it. The copy is
//! removed by its project label whatever happens, a panic included.
//!
//! Needs Docker, Compose v2 and the images of `cargo xtask images` (`cargo xtask test` provides
//! them first). Without them this test FAILS with what to do; it never skips.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use cdb_core::config::ProjectConfig;
use cdb_core::source::SourceMap;
use cdb_e2e::config::E2eConfig;
use cdb_e2e::lifecycle::{StackSpec, leftovers};
use cdb_e2e::suite::{self, Ctx};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The spec of an isolated test stack named `project`, pointed at the images present here.
fn spec(project: &str) -> StackSpec {
    let mut sources = SourceMap::new();
    let config = ProjectConfig::discover(&root(), &mut sources).expect("cdb.toml loads");
    let e2e = E2eConfig::from_project(&config).expect("[e2e] of cdb.toml is valid");
    StackSpec::isolated(&config, &e2e, project).unwrap_or_else(|e| panic!("{e}"))
}

fn promtool() -> Option<PathBuf> {
    let ok = Command::new("promtool")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| PathBuf::from("promtool"))
}

/// `promtool check metrics` of one exposition; `Err` with promtool's words.
fn promtool_check(promtool: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_stack_holds_its_contract() {
    let project = format!("cdb-it-{}", std::process::id());
    let promtool = promtool().unwrap_or_else(|| {
        panic!("promtool is needed (Debian package `prometheus`; .ci/run installs it)")
    });
    let stack = spec(&project).up().await.expect("the test stack starts");
    stack
        .wait_healthy(Duration::from_secs(180))
        .await
        .expect("every service turns healthy");
    let target = stack.target.clone();
    let ctx = Ctx::connect(
        target.clone(),
        format!("it{}", std::process::id()),
        E2eConfig::default().http_timeout,
    )
    .await
    .expect("Redis and PostgreSQL of the test stack answer");

    // Every test of the suite, each failure named; the disruptive ones run last.
    let mut failures = Vec::new();
    let mut ran = 0;
    for test in suite::tests(&target) {
        ran += 1;
        if let Err(e) = (test.run)(&ctx).await {
            failures.push(format!("{}: {e}", test.name));
        }
    }
    assert!(ran >= 8, "the suite has {ran} tests");

    // Every service's /metrics passes promtool, after the load (histograms filled).
    for (service, base) in &target.services {
        let text = ctx
            .http
            .send(hyper::Method::GET, &format!("{base}/metrics"), None)
            .await
            .map(|(_, body)| String::from_utf8_lossy(&body).into_owned())
            .unwrap_or_else(|e| format!("(GET failed: {e})"));
        if let Err(e) = promtool_check(&promtool, &text) {
            let head: String = text.chars().take(300).collect();
            failures.push(format!(
                "promtool check metrics of {service}: {e}\n(exposition begins: {head:?})"
            ));
        }
    }

    let took = stack.down().await.expect("the test stack is removed");
    let left = leftovers(&project).await.expect("docker answers");
    assert!(left.is_empty(), "left behind: {left:?}");
    eprintln!("teardown took {took:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
