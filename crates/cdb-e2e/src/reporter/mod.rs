//! Reporters. Two kinds:
//!
//! - **live** reporters consume [`Event`]s as the runner emits them ([`Reporter`]):
//!   [`live::LiveReporter`] (progress on a terminal, plain lines in CI) and the
//!   [`Collector`](crate::summary::Collector) that records the session;
//! - **final** reports render the finished session ([`Results`]: the summary and the gate), one
//!   type per format: [`human::HumanReport`] (table + gate lines), [`junit::JunitReport`]
//!   (`--junit`), [`json::JsonReport`] (`--json`, schema `cdb.e2e/v1`),
//!   [`markdown::MarkdownReport`] (`--markdown`), and [`history`] (one JSON line per session
//!   appended to the history file, read later by the Kubernetes gate).

use std::io::Write;
use std::path::Path;

use crate::errors::E2eError;
use crate::events::Event;
use crate::gate::GateReport;
use crate::summary::Summary;

pub mod history;
pub mod human;
pub mod json;
pub mod junit;
pub mod live;
pub mod markdown;

/// Consumes the runner's events. Reporters never fail the run: a reporter that cannot write
/// (a closed terminal) drops its output, the session goes on.
pub trait Reporter {
    /// Called for every event, in order.
    fn on_event(&mut self, event: &Event);
}

impl<R: Reporter + ?Sized> Reporter for &mut R {
    fn on_event(&mut self, event: &Event) {
        (**self).on_event(event);
    }
}

impl<R: Reporter + ?Sized> Reporter for Box<R> {
    fn on_event(&mut self, event: &Event) {
        (**self).on_event(event);
    }
}

/// Sends every event to several reporters, in the order they were added.
#[derive(Default)]
pub struct Fanout<'a> {
    reporters: Vec<Box<dyn Reporter + Send + 'a>>,
}

impl std::fmt::Debug for Fanout<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout")
            .field("reporters", &self.reporters.len())
            .finish()
    }
}

impl<'a> Fanout<'a> {
    /// No reporters yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a reporter (a `&mut` reference works, to read it back afterwards).
    pub fn with(mut self, reporter: impl Reporter + Send + 'a) -> Self {
        self.reporters.push(Box::new(reporter));
        self
    }

    /// Adds a reporter.
    pub fn push(&mut self, reporter: impl Reporter + Send + 'a) {
        self.reporters.push(Box::new(reporter));
    }
}

impl Reporter for Fanout<'_> {
    fn on_event(&mut self, event: &Event) {
        for r in &mut self.reporters {
            r.on_event(event);
        }
    }
}

/// A finished session, as every final report reads it.
#[derive(Debug, Clone, Copy)]
pub struct Results<'a> {
    /// What ran and how it went.
    pub summary: &'a Summary,
    /// The gate's verdict on it.
    pub gate: &'a GateReport,
}

/// Writes a report file: creates its directory, writes a temporary file beside it and renames
/// it over `path`, so that a CI step never reads half a report.
pub fn write_file(path: &Path, text: &str) -> Result<(), E2eError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| E2eError::io("create directory", dir, e))?;
    let name = path
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.cdb-tmp-{}", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(E2eError::io("write", path, e));
    }
    Ok(())
}

/// One-line form of a possibly multi-line message, for table cells and log lines.
pub(crate) fn one_line(text: &str, max_chars: usize) -> String {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let more = text.lines().filter(|l| !l.trim().is_empty()).count() > 1;
    let mut out: String = first.chars().take(max_chars).collect();
    if first.chars().count() > max_chars || more {
        out.push('…');
    }
    out
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! One session with every kind of test, shared by the report snapshots.

    use std::time::Duration;

    use crate::events::Event;
    use crate::gate::{self, GateReport};
    use crate::model::{Attempt, Phase, TestCase};
    use crate::reporter::Reporter;
    use crate::summary::{Collector, Summary};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Three runs: a passing critical test, a critical test flaky in run 2, a non-critical test
    /// failing every time, a skipped test, an external test; images built once.
    pub(crate) fn session() -> (Summary, GateReport) {
        let pass = TestCase::builtin("signal_reaches_fill", true);
        let flaky = TestCase::builtin("crash_recovery", true);
        let broken = TestCase::builtin("metrics_exposed", false);
        let skipped = TestCase::builtin("graceful_shutdown", false);
        let ext = TestCase::external(
            "smoke",
            "tests.e2e.test_flow",
            "test_health[execution]",
            false,
        );
        let mut c = Collector::new();
        c.on_event(&Event::SessionStarted {
            started_at: "2026-12-03T10:00:00Z".parse().unwrap(),
            project: "cdb-e2e-5f3a".into(),
            runs: 3,
            commit: Some("f105d2a".into()),
        });
        c.on_event(&Event::PhaseFinished {
            run: None,
            phase: Phase::Images,
            elapsed: ms(41_200),
            error: None,
        });
        for run in 1..=3u32 {
            c.on_event(&Event::RunStarted { run });
            for (phase, secs) in [(Phase::Up, 9_100), (Phase::Healthy, 14_300)] {
                c.on_event(&Event::PhaseFinished {
                    run: Some(run),
                    phase,
                    elapsed: ms(secs + u64::from(run) * 100),
                    error: None,
                });
            }
            let r = u64::from(run);
            let events = [
                (pass.clone(), Attempt::passed(ms(1_200 + r * 10))),
                (
                    flaky.clone(),
                    if run == 2 {
                        Attempt::failed(
                            ms(30_000),
                            "execution did not resume within 30s\nlast fill id: 17",
                        )
                        .with_stderr("execution: reconnecting to redis <attempt 3>\n")
                    } else {
                        Attempt::passed(ms(8_000 + r * 100))
                    },
                ),
                (
                    broken.clone(),
                    Attempt::failed(ms(350), format!("cdb_orders_total missing (run {run})"))
                        .with_stdout("GET /metrics -> 200\n"),
                ),
                (skipped.clone(), Attempt::skipped("needs SIGTERM support")),
                (ext.clone(), Attempt::passed(ms(900))),
            ];
            for (test, attempt) in events {
                c.on_event(&Event::TestFinished { run, test, attempt });
            }
            c.on_event(&Event::PhaseFinished {
                run: Some(run),
                phase: Phase::Teardown,
                elapsed: ms(3_000),
                error: None,
            });
            c.on_event(&Event::RunFinished {
                run,
                elapsed: ms(95_000 + r * 1000),
            });
        }
        c.on_event(&Event::SessionFinished {
            elapsed: ms(336_700),
        });
        let summary = c.summary();
        let gate = gate::evaluate(&summary, &crate::config::E2eConfig::default().thresholds());
        (summary, gate)
    }
}
