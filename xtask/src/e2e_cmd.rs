//! `cargo xtask e2e`: the images, an isolated copy of the test stack, the critical-path suite
//! (and the external suites of `[e2e]`) `--runs` times, the acceptance gate, the reports and the
//! history line. Exit codes: 0 the gate holds, 1 it fails, 2 bad input, 3 the environment is
//! missing something (no engine, no Compose v2, an image, a stack that never turns healthy),
//! 130 interrupted (the stack is removed first).

use std::path::PathBuf;
use std::time::Instant;

use cdb_core::config::ProjectConfig;
use cdb_core::exit;
use cdb_e2e::config::E2eConfig;
use cdb_e2e::events::Event;
use cdb_e2e::gate::{self, Verdict};
use cdb_e2e::model::Phase;
use cdb_e2e::reporter::live::{LiveMode, LiveReporter};
use cdb_e2e::reporter::{
    Fanout, Reporter, Results, history, human::HumanReport, json::JsonReport, junit::JunitReport,
    markdown::MarkdownReport, write_file,
};
use cdb_e2e::runner::{self, Ending, RunOptions};
use cdb_e2e::summary::Collector;
use cdb_stack::images::ImagesOptions;
use cdb_stack::{Docker, ImageNeed, ImagesConfig, Stack, StackOptions};
use clap::Args;

#[derive(Debug, Args)]
pub struct E2eArgs {
    /// Run the suite N times (flaky detection); default `runs` of `[e2e]` in cdb.toml.
    #[arg(long)]
    runs: Option<u32>,
    /// A new stack for every run (default: one stack for all runs).
    #[arg(long)]
    fresh: bool,
    /// Leave the stack running afterwards and print how to reach and remove it.
    #[arg(long)]
    keep: bool,
    /// Only the tests whose name contains PATTERN.
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a JSON report (schema cdb.e2e/v1).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a Markdown report.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// The Compose project name of the isolated stack (default: `project_prefix` of `[e2e]`
    /// and a random suffix). Everything of the run carries it as its project label.
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    /// The history file to append to (default: `history` of `[e2e]`).
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// Extra Compose overlay added to the stack's files (e.g. a fault to inject).
    #[arg(long = "overlay", value_name = "FILE")]
    overlays: Vec<PathBuf>,
}

impl E2eArgs {
    /// What `cargo xtask test` runs: one run, reports in `target/e2e/`.
    pub fn for_test_command() -> Self {
        E2eArgs {
            runs: None,
            fresh: false,
            keep: false,
            filter: None,
            junit: Some(PathBuf::from("target/e2e/junit.xml")),
            json: Some(PathBuf::from("target/e2e/report.json")),
            markdown: None,
            project: None,
            history: None,
            overlays: Vec::new(),
        }
    }
}

pub fn run(args: E2eArgs) -> u8 {
    let loaded = or_exit!(crate::project::load());
    let cwd = loaded.cwd.clone();
    let e2e = or_exit!(loaded.section(E2eConfig::from_project));
    let images = or_exit!(loaded.section(ImagesConfig::from_project));
    let mut config = loaded.config.clone();
    for overlay in &args.overlays {
        let path = cwd.join(overlay);
        if !path.is_file() {
            eprintln!("error: the overlay {} does not exist", path.display());
            return exit::BAD_INPUT;
        }
        // After the stack's own files; the test overlay is added last by the stack.
        config.compose.files.push(path);
    }
    if let Err(why) = crate::environment::require_compose_v2() {
        eprintln!("error: {why}");
        return exit::ENVIRONMENT;
    }
    // The test stack's images, planned from its Compose files; files that do not load are bad
    // input (exit 2, pointing at the line), not an environment that lacks something.
    let test_stack = Stack::from_config(
        &config,
        &StackOptions {
            test: true,
            test_overlay: Some(e2e.test_overlay.clone()),
            ..Default::default()
        },
    );
    let needs = match test_stack.plan_images(&images) {
        Ok(needs) => needs,
        Err(e) => {
            eprintln!("error: {e}");
            return match e.kind() {
                cdb_stack::ErrorKind::Input => exit::BAD_INPUT,
                _ => exit::ENVIRONMENT,
            };
        }
    };
    let runs = args.runs.unwrap_or(e2e.runs.get());
    if runs == 0 {
        eprintln!("error: --runs must be at least 1");
        return exit::BAD_INPUT;
    }
    let project = args
        .project
        .clone()
        .unwrap_or_else(|| format!("{}-{}", e2e.project_prefix, session_id()));
    let runtime = or_exit!(crate::project::runtime());
    // The teardown removes everything carrying the project's label: never a project that
    // exists already (a developer's own stack, another session's).
    if let Err(why) = runtime.block_on(check_project_is_new(&project)) {
        eprintln!("error: {why}");
        return exit::BAD_INPUT;
    }
    // A report of an earlier session must not stand in for this one's if it ends early.
    for path in [&args.junit, &args.json, &args.markdown]
        .into_iter()
        .flatten()
    {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                eprintln!("error: cannot replace the report {}: {e}", path.display());
                return exit::BAD_INPUT;
            }
        }
    }
    let options = RunOptions {
        runs,
        fresh: args.fresh,
        keep: args.keep,
        filter: args.filter.clone(),
        project: project.clone(),
        commit: git_commit(&config.root),
    };

    let mut collector = Collector::new();
    let mut live = LiveReporter::stderr(LiveMode::detect());
    let session_started = Instant::now();
    let (ending, kept) = {
        let mut fanout = Fanout::new().with(&mut collector).with(&mut live);
        // Images first, once for every run: a no-op when they are present.
        let t = Instant::now();
        fanout.on_event(&Event::PhaseStarted {
            run: None,
            phase: Phase::Images,
        });
        let images_result = ensure_images(&config, &needs, &images);
        fanout.on_event(&Event::PhaseFinished {
            run: None,
            phase: Phase::Images,
            elapsed: t.elapsed(),
            error: images_result.as_ref().err().cloned(),
        });
        match images_result {
            Err(e) => (Ending::Environment(e), None),
            Ok(()) => {
                let session = runtime.block_on(runner::run_session(
                    &config,
                    &e2e,
                    &options,
                    &mut fanout,
                    interrupted(),
                ));
                (session.ending, session.kept)
            }
        }
    };
    drop(live);
    let summary = collector.summary();
    let gate = gate::evaluate(&summary, &e2e.thresholds());
    let results = Results {
        summary: &summary,
        gate: &gate,
    };

    let code = match &ending {
        Ending::Environment(why) => {
            eprintln!("error: the stack under test could not be brought up:\n{why}");
            eprintln!(
                "(nothing of project `{project}` is left behind; `cargo xtask stack up --test` shows the stack by hand)"
            );
            // The reports say so too (the stack's phase as a failed test case), so that CI
            // shows red rather than nothing.
            if let Err(e) = write_reports(&args, &results) {
                eprintln!("error: {e}");
            }
            exit::ENVIRONMENT
        }
        Ending::Interrupted => {
            eprintln!("interrupted: the stack `{project}` was removed");
            exit::INTERRUPTED
        }
        Ending::Completed => {
            let color = std::io::IsTerminal::is_terminal(&std::io::stdout())
                && std::env::var_os("NO_COLOR").is_none();
            print!("{}", HumanReport { color }.render(&results));
            let mut code = match gate.verdict {
                Verdict::Holds => exit::SUCCESS,
                Verdict::Fails => exit::GATE_FAILED,
            };
            // A report that cannot be written fails a session that held (exit 2); a gate
            // that failed keeps its own code.
            if let Err(e) = write_reports(&args, &results) {
                eprintln!("error: {e}");
                if code == exit::SUCCESS {
                    code = exit::BAD_INPUT;
                }
            }
            let record = history::HistoryRecord::new(
                &results,
                summary.started_at.unwrap_or_else(jiff::Timestamp::now),
            );
            let path = args
                .history
                .as_ref()
                .map_or_else(|| e2e.history_path(&config), |h| cwd.join(h));
            if let Err(e) = history::append(&path, &record) {
                eprintln!("warning: the history was not appended: {e}");
            }
            code
        }
    };
    if let Some(kept) = &kept {
        println!(
            "\nthe stack `{}` is still running (--keep):",
            kept.spec.project
        );
        println!("  REDIS_URL={}", kept.target.redis_url);
        println!("  DATABASE_URL={}", kept.target.database_url);
        for (service, url) in &kept.target.services {
            println!("  {service}: {url}");
        }
        println!(
            "remove it with: docker compose -p {} down --volumes --remove-orphans",
            kept.spec.project
        );
    }
    eprintln!(
        "e2e session `{project}` took {:.1} s",
        session_started.elapsed().as_secs_f64()
    );
    code
}

fn write_reports(args: &E2eArgs, results: &Results<'_>) -> Result<(), String> {
    if let Some(path) = &args.junit {
        let text = JunitReport::default()
            .render(results)
            .map_err(|e| e.to_string())?;
        write_file(path, &text).map_err(|e| e.to_string())?;
    }
    if let Some(path) = &args.json {
        write_file(path, &JsonReport.render(results)).map_err(|e| e.to_string())?;
    }
    if let Some(path) = &args.markdown {
        write_file(path, &MarkdownReport.render(results)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The test stack's images, `needs` (`cargo xtask images` for that stack's services only).
fn ensure_images(
    config: &ProjectConfig,
    needs: &[ImageNeed],
    images: &ImagesConfig,
) -> Result<(), String> {
    let progress = |p: &cdb_stack::images::Progress<'_>| {
        if let cdb_stack::images::Progress::Started { image, action } = p {
            eprintln!("   … {image}: {action}");
        }
    };
    let report = cdb_stack::provide(
        &config.root,
        images,
        needs,
        &Docker::new(),
        &ImagesOptions::default(),
        &progress,
    )
    .map_err(|e| e.to_string())?;
    if let Some(failed) = report.failed().next() {
        return Err(format!(
            "the image {} could not be provided: {:?}",
            failed.need.resolved, failed.outcome
        ));
    }
    if let Some(missing) = report.unavailable(true).next() {
        return Err(format!(
            "the image {} is not available here: {:?}",
            missing.need.resolved, missing.outcome
        ));
    }
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT), SIGTERM, or SIGHUP (the terminal was closed).
async fn interrupted() {
    let on = |kind: tokio::signal::unix::SignalKind| async move {
        match tokio::signal::unix::signal(kind) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = on(tokio::signal::unix::SignalKind::terminate()) => {}
        () = on(tokio::signal::unix::SignalKind::hangup()) => {}
    }
}

/// `Err` when `project` is the main or test stack's name or already has containers, networks
/// or volumes: the session's teardown would remove them.
async fn check_project_is_new(project: &str) -> Result<(), String> {
    use cdb_stack::stack::{MAIN_PROJECT, TEST_PROJECT};
    if project == MAIN_PROJECT || project == TEST_PROJECT {
        return Err(format!(
            "--project {project} is the name of the stack `cargo xtask stack` runs; the session's teardown would remove it. Choose another name"
        ));
    }
    let existing = cdb_e2e::lifecycle::leftovers(project).await?;
    if !existing.is_empty() {
        return Err(format!(
            "the project `{project}` exists already ({}); the session's teardown would remove it. Choose another name, or remove it with `docker compose -p {project} down --volumes`",
            existing.join(", ")
        ));
    }
    Ok(())
}

/// A short id unique to this session on this machine: process id and clock, in base 36.
fn session_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut n = (nanos ^ (u128::from(std::process::id()) << 64)) % 36u128.pow(8);
    let mut out = String::new();
    for _ in 0..8 {
        let d = (n % 36) as u32;
        out.push(char::from_digit(d, 36).unwrap_or('0'));
        n /= 36;
    }
    out
}

fn git_commit(root: &std::path::Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
