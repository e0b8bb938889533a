//! The runner: one session of `cargo xtask e2e`. It brings up an isolated copy of the stack
//! ([`lifecycle`]), waits for health, runs the critical-path suite and the
//! external suites `--runs` times (on one stack, or a fresh one per run), and tears the stack
//! down whatever happens — success, failure, panic of a test, or an interrupt. It reports only
//! through [`Event`]s; the caller's reporters turn them into progress, the summary and reports.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cdb_core::config::ProjectConfig;
use futures_util::FutureExt;

use crate::config::{E2eConfig, SuiteConfig};
use crate::events::Event;
use crate::lifecycle::{self, RunningStack, StackSpec};
use crate::model::{Attempt, Outcome, Phase, TestCase};
use crate::reporter::Reporter;
use crate::suite::{self, Ctx, Target};

/// What the caller asks of a session.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How many times the suite runs.
    pub runs: u32,
    /// A new stack for every run (default: one stack for all runs).
    pub fresh: bool,
    /// Leave the (last) stack running at the end.
    pub keep: bool,
    /// Only the tests whose name contains this text.
    pub filter: Option<String>,
    /// The Compose project name of the isolated stack (unique per session).
    pub project: String,
    /// The commit under test, for the reports and the history.
    pub commit: Option<String>,
}

/// How a session ended.
#[derive(Debug)]
pub enum Ending {
    /// Every planned run ran its tests (whatever their results).
    Completed,
    /// The stack could not be brought up or never turned healthy: the message says which
    /// service and why. No verdict on the tests is possible.
    Environment(String),
    /// Interrupted (Ctrl-C, SIGTERM) before the end; the stack was removed.
    Interrupted,
}

/// A stack left running by `--keep`.
#[derive(Debug, Clone)]
pub struct Kept {
    /// Where it is reachable.
    pub target: Target,
    /// The spec, to print how to remove it.
    pub spec: StackSpec,
}

/// The end of a session.
#[derive(Debug)]
pub struct Session {
    /// How it ended.
    pub ending: Ending,
    /// The stack kept by `--keep`.
    pub kept: Option<Kept>,
}

/// Runs one session. `interrupt` resolves when the user asks to stop (Ctrl-C): the current
/// step is abandoned and the stack removed before this returns.
pub async fn run_session(
    config: &ProjectConfig,
    e2e: &E2eConfig,
    options: &RunOptions,
    reporter: &mut (dyn Reporter + Send),
    interrupt: impl Future<Output = ()>,
) -> Session {
    let started = Instant::now();
    reporter.on_event(&Event::SessionStarted {
        started_at: jiff::Timestamp::now(),
        project: options.project.clone(),
        runs: options.runs,
        commit: options.commit.clone(),
    });
    let spec = match StackSpec::isolated(config, e2e, &options.project) {
        Ok(s) => s,
        Err(e) => {
            reporter.on_event(&Event::SessionFinished {
                elapsed: started.elapsed(),
            });
            return Session {
                ending: Ending::Environment(e),
                kept: None,
            };
        }
    };

    let mut state = SessionState {
        stack: None,
        spec: spec.clone(),
    };
    tokio::pin!(interrupt);
    let ending = {
        // Dropped at the end of this block when interrupted: its borrows end here.
        let body = session_body(config, e2e, options, reporter, &mut state);
        tokio::pin!(body);
        tokio::select! {
            ending = &mut body => Some(ending),
            () = &mut interrupt => None,
        }
    };

    let (ending, kept) = match ending {
        Some(ending) => {
            let keep = options.keep && matches!(ending, Ending::Completed);
            let kept = match state.stack.take() {
                Some(stack) if keep => {
                    let kept = Kept {
                        target: stack.target.clone(),
                        spec: stack.spec().clone(),
                    };
                    stack.keep();
                    Some(kept)
                }
                Some(stack) => {
                    teardown(reporter, None, stack).await;
                    None
                }
                None => None,
            };
            (ending, kept)
        }
        None => {
            // The body was dropped mid-step: whatever it had started (a `compose up` still
            // creating containers included) goes, by the project label.
            reporter.on_event(&Event::Notice {
                run: None,
                message: format!("interrupted: removing the stack `{}`", options.project),
            });
            let t = Instant::now();
            if let Some(stack) = state.stack.take() {
                stack.keep(); // removed below, by label, with the rest
            }
            let result = remove_everything(&state.spec).await;
            reporter.on_event(&Event::PhaseFinished {
                run: None,
                phase: Phase::Teardown,
                elapsed: t.elapsed(),
                error: result.err(),
            });
            (Ending::Interrupted, None)
        }
    };
    reporter.on_event(&Event::SessionFinished {
        elapsed: started.elapsed(),
    });
    Session { ending, kept }
}

/// What the body leaves behind for the teardown, even when it is dropped halfway.
struct SessionState {
    stack: Option<RunningStack>,
    spec: StackSpec,
}

async fn session_body(
    config: &ProjectConfig,
    e2e: &E2eConfig,
    options: &RunOptions,
    reporter: &mut (dyn Reporter + Send),
    state: &mut SessionState,
) -> Ending {
    for run in 1..=options.runs.max(1) {
        let run_started = Instant::now();
        reporter.on_event(&Event::RunStarted { run });
        if state.stack.is_none() {
            match bring_up(e2e, reporter, run, state).await {
                Ok(()) => {}
                Err(e) => {
                    reporter.on_event(&Event::RunFinished {
                        run,
                        elapsed: run_started.elapsed(),
                    });
                    return Ending::Environment(e);
                }
            }
        }
        let Some(stack) = state.stack.as_ref() else {
            return Ending::Environment("the stack is not running".into());
        };
        let target = stack.target.clone();
        let t = Instant::now();
        reporter.on_event(&Event::PhaseStarted {
            run: Some(run),
            phase: Phase::Test,
        });
        let result = run_tests(config, e2e, options, reporter, run, target).await;
        reporter.on_event(&Event::PhaseFinished {
            run: Some(run),
            phase: Phase::Test,
            elapsed: t.elapsed(),
            error: result.err(),
        });
        let last = run == options.runs.max(1);
        if options.fresh
            && !last
            && let Some(stack) = state.stack.take()
        {
            teardown(reporter, Some(run), stack).await;
        }
        reporter.on_event(&Event::RunFinished {
            run,
            elapsed: run_started.elapsed(),
        });
    }
    Ending::Completed
}

async fn bring_up(
    e2e: &E2eConfig,
    reporter: &mut (dyn Reporter + Send),
    run: u32,
    state: &mut SessionState,
) -> Result<(), String> {
    let mut spec = state.spec.clone();
    if run > 1 {
        // A fresh stack per run: a project name of its own, so nothing of the last one is
        // reused (its teardown already ran).
        spec.project = format!("{}-r{run}", state.spec.project);
        state.spec = spec.clone();
    }
    let t = Instant::now();
    reporter.on_event(&Event::PhaseStarted {
        run: Some(run),
        phase: Phase::Up,
    });
    let up = spec.up().await;
    reporter.on_event(&Event::PhaseFinished {
        run: Some(run),
        phase: Phase::Up,
        elapsed: t.elapsed(),
        error: up.as_ref().err().cloned(),
    });
    let stack = up?;
    state.stack = Some(stack);
    let Some(stack) = state.stack.as_ref() else {
        return Err("the stack is not running".into());
    };
    let t = Instant::now();
    reporter.on_event(&Event::PhaseStarted {
        run: Some(run),
        phase: Phase::Healthy,
    });
    let healthy = match stack.wait_healthy(e2e.health_timeout).await {
        // The engine's view first, then each service's own: its /health answers 200.
        Ok(report) => http_health(&stack.target, e2e, t).await.map(|()| report),
        Err(e) => Err(e),
    };
    reporter.on_event(&Event::PhaseFinished {
        run: Some(run),
        phase: Phase::Healthy,
        elapsed: t.elapsed(),
        error: healthy.as_ref().err().cloned(),
    });
    let report = healthy?;
    if let (Some(service), Some(reaction)) = (&report.last_service, report.reaction) {
        reporter.on_event(&Event::Notice {
            run: Some(run),
            message: format!(
                "all healthy: {service} was last; engine event → harness acting {:.1} ms",
                reaction.as_secs_f64() * 1000.0
            ),
        });
    }
    Ok(())
}

/// Every application service's `GET /health` answers 200 (each request limited by
/// `http_timeout`), retried until `health_timeout` from `since`: the second half of the
/// health wait, after the engine's healthchecks.
pub async fn http_health(target: &Target, e2e: &E2eConfig, since: Instant) -> Result<(), String> {
    let client = cdb_paper::http::HttpClient::new(e2e.http_timeout);
    for (service, base) in &target.services {
        let url = format!("{base}/health");
        loop {
            let last = match client.send(hyper::Method::GET, &url, None).await {
                Ok((status, _)) if status.is_success() => break,
                Ok((status, body)) => format!("{status}: {}", String::from_utf8_lossy(&body)),
                Err(e) => e.to_string(),
            };
            if since.elapsed() > e2e.health_timeout {
                return Err(format!(
                    "{service}: the engine reports it healthy, but GET {url} still answers {last}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

async fn teardown(reporter: &mut (dyn Reporter + Send), run: Option<u32>, stack: RunningStack) {
    let t = Instant::now();
    reporter.on_event(&Event::PhaseStarted {
        run,
        phase: Phase::Teardown,
    });
    let spec = stack.spec().clone();
    let mut result = stack.down().await.map(|_| ());
    if let Err(e) = remove_everything(&spec).await {
        result = Err(e);
    }
    reporter.on_event(&Event::PhaseFinished {
        run,
        phase: Phase::Teardown,
        elapsed: t.elapsed(),
        error: result.err(),
    });
}

/// `compose down`, then whatever still carries the project's label (a container that
/// `compose up` was creating when it was stopped is not known to `down`); `Err` names what
/// is left behind. The teardown of every session ends with it.
pub async fn remove_everything(spec: &StackSpec) -> Result<(), String> {
    let down = lifecycle::teardown(spec).await;
    let project = spec.project.clone();
    let purge = tokio::task::spawn_blocking(move || {
        cdb_stack::stack::purge_project(&cdb_stack::Docker::new(), &project)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    let left = lifecycle::leftovers(&spec.project).await?;
    if !left.is_empty() {
        return Err(format!("left behind: {}", left.join(", ")));
    }
    // `down` may fail halfway and the purge finish the job: only leftovers are an error.
    let _ = (down, purge);
    Ok(())
}

/// The text a panic was raised with.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

fn selected(name: &str, filter: Option<&str>) -> bool {
    filter.is_none_or(|f| name.contains(f))
}

async fn run_tests(
    config: &ProjectConfig,
    e2e: &E2eConfig,
    options: &RunOptions,
    reporter: &mut (dyn Reporter + Send),
    run: u32,
    target: Target,
) -> Result<(), String> {
    let run_id = format!("{}r{run}", options.project);
    let ctx = Ctx::connect(target.clone(), run_id, e2e.http_timeout).await?;
    let filter = options.filter.as_deref();
    for test in suite::tests(&target) {
        if !selected(&test.name, filter) {
            continue;
        }
        let case = TestCase::builtin(&test.name, test.critical);
        reporter.on_event(&Event::TestStarted {
            run,
            test: case.clone(),
        });
        let t = Instant::now();
        // A test that stops and restarts services is given the time that takes.
        let timeout = if test.restarts {
            e2e.test_timeout.max(target.stop_grace * 6)
        } else {
            e2e.test_timeout
        };
        // A panicking test (say, a column of another stack's database that is NULL) is a
        // failed test, not the end of the session.
        let body = std::panic::AssertUnwindSafe((test.run)(&ctx)).catch_unwind();
        let result = tokio::time::timeout(timeout, body).await;
        let attempt = match result {
            Ok(Ok(Ok(()))) => Attempt::passed(t.elapsed()),
            Ok(Ok(Err(e))) => Attempt::failed(t.elapsed(), e),
            Ok(Err(panic)) => Attempt::failed(
                t.elapsed(),
                format!("the test panicked: {}", panic_message(panic.as_ref())),
            ),
            Err(_) => Attempt::failed(t.elapsed(), format!("no result within {timeout:?}")),
        };
        reporter.on_event(&Event::TestFinished {
            run,
            test: case,
            attempt,
        });
    }
    for suite in &e2e.suites {
        run_external(config, e2e, reporter, run, &target, suite, filter).await;
    }
    Ok(())
}

/// The environment an external suite gets: where everything of the stack is.
pub fn external_env(target: &Target) -> Vec<(String, String)> {
    let mut env = vec![
        ("CDB_E2E_PROJECT".to_string(), target.project.clone()),
        ("REDIS_URL".to_string(), target.redis_url.clone()),
        ("DATABASE_URL".to_string(), target.database_url.clone()),
    ];
    for (service, url) in &target.services {
        let var = format!(
            "{}_URL",
            service.to_ascii_uppercase().replace(['-', '.'], "_")
        );
        env.push((var, url.clone()));
    }
    if let Some(p) = &target.prometheus_url {
        env.push(("PROMETHEUS_URL".into(), p.clone()));
    }
    env
}

async fn run_external(
    config: &ProjectConfig,
    e2e: &E2eConfig,
    reporter: &mut (dyn Reporter + Send),
    run: u32,
    target: &Target,
    suite: &SuiteConfig,
    filter: Option<&str>,
) {
    let dir = std::env::temp_dir().join(format!("{}-junit", target.project));
    let junit: PathBuf = dir.join(format!("{}-run{run}.xml", suite.name));
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::remove_file(&junit);
    let argv = suite.argv(&junit);
    let whole = TestCase::builtin(format!("suite {} ran", suite.name), suite.critical);
    let Some((program, args)) = argv.split_first() else {
        return;
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(suite.working_dir(config))
        .envs(external_env(target))
        .envs(suite.env.iter().map(|(k, v)| (k.clone(), v.clone())))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let t = Instant::now();
    let timeout = e2e.suite_timeout(suite);
    let out = tokio::time::timeout(timeout, cmd.output()).await;
    let elapsed = t.elapsed();
    let (stdout, stderr, status) = match out {
        Ok(Ok(o)) => (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            Ok(o.status),
        ),
        Ok(Err(e)) => (
            String::new(),
            String::new(),
            Err(format!("cannot run {program}: {e}")),
        ),
        Err(_) => (
            String::new(),
            String::new(),
            Err(format!("no result within {timeout:?}")),
        ),
    };
    let problem = match crate::external::read_junit(&junit, suite) {
        Ok(results) => {
            let total = results.len();
            let mut failures = 0;
            for r in results {
                if !selected(&r.test.name, filter) {
                    continue;
                }
                if r.attempt.outcome == Outcome::Failed {
                    failures += 1;
                }
                reporter.on_event(&Event::TestFinished {
                    run,
                    test: r.test,
                    attempt: r.attempt,
                });
            }
            // The report alone is not trusted: a suite that failed without saying so in its
            // report (a crash after writing it, a collection error, no test at all — pytest's
            // exit 5) is one failed test, so it cannot pass the gate silently.
            match status {
                Err(why) => Some(why),
                Ok(s) if !s.success() && failures == 0 => Some(format!(
                    "exited with {s} but its JUnit report names no failed test"
                )),
                Ok(_) if total == 0 => Some("its JUnit report holds no test case".to_string()),
                Ok(_) => None,
            }
        }
        // No report: the suite as a whole is one failed test, so it cannot pass silently.
        Err(e) => Some(match status {
            Err(s) => s,
            Ok(s) => format!("exited with {s}; no JUnit report: {e}"),
        }),
    };
    if let Some(why) = problem {
        reporter.on_event(&Event::TestFinished {
            run,
            test: whole,
            attempt: Attempt::failed(elapsed, why)
                .with_stdout(&stdout)
                .with_stderr(&stderr),
        });
    }
}
