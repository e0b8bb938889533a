//! Live progress while the session runs. On a terminal: a spinner per phase with its elapsed
//! time, failures printed above it as they happen. Elsewhere (a pipe, a file, `CI=true`): one
//! plain line per event, so that a CI log shows where a run hangs and never fills with spinner
//! frames.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::duration::format_duration;
use crate::events::Event;
use crate::model::{Attempt, Outcome, Phase, TestCase};
use crate::reporter::{Reporter, one_line};

/// How live progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveMode {
    /// Spinners on a terminal.
    Interactive,
    /// One line per event.
    Plain,
}

impl LiveMode {
    /// `Interactive` when standard error is a terminal, `CI` is not set to `true`/`1` and
    /// `TERM` is not `dumb`; `Plain` otherwise.
    pub fn detect() -> Self {
        let ci = std::env::var("CI")
            .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
            .unwrap_or(false);
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        if std::io::stderr().is_terminal() && !ci && !dumb {
            LiveMode::Interactive
        } else {
            LiveMode::Plain
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    passed: u32,
    failed: u32,
    skipped: u32,
}

/// The live reporter.
pub struct LiveReporter {
    mode: LiveMode,
    out: Box<dyn Write + Send>,
    runs: u32,
    bar: Option<ProgressBar>,
    phase_label: String,
    tally: Tally,
}

impl std::fmt::Debug for LiveReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveReporter")
            .field("mode", &self.mode)
            .field("runs", &self.runs)
            .finish_non_exhaustive()
    }
}

impl LiveReporter {
    /// Progress on standard error, in `mode` (usually [`LiveMode::detect`]).
    pub fn stderr(mode: LiveMode) -> Self {
        LiveReporter {
            mode,
            out: Box::new(std::io::stderr()),
            runs: 0,
            bar: None,
            phase_label: String::new(),
            tally: Tally::default(),
        }
    }

    /// Plain lines to `out` (for tests, or a log file).
    pub fn plain(out: impl Write + Send + 'static) -> Self {
        LiveReporter {
            mode: LiveMode::Plain,
            out: Box::new(out),
            runs: 0,
            bar: None,
            phase_label: String::new(),
            tally: Tally::default(),
        }
    }

    fn run_label(&self, run: Option<u32>) -> String {
        match run {
            Some(r) => format!("[run {r}/{}]", self.runs.max(r)),
            None => "[session]".to_string(),
        }
    }

    fn line(&mut self, text: &str) {
        let out = &mut self.out;
        match &self.bar {
            Some(bar) => bar.suspend(|| {
                let _ = writeln!(out, "{text}");
            }),
            None => {
                let _ = writeln!(out, "{text}");
            }
        }
    }

    fn start_phase(&mut self, run: Option<u32>, phase: Phase) {
        self.phase_label = format!("{} {phase}", self.run_label(run));
        match self.mode {
            LiveMode::Plain => {
                let text = format!("{} …", self.phase_label);
                self.line(&text);
            }
            LiveMode::Interactive => {
                if let Some(old) = self.bar.take() {
                    old.finish_and_clear();
                }
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                let style = ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner());
                bar.set_style(style);
                bar.set_message(self.phase_label.clone());
                bar.enable_steady_tick(Duration::from_millis(120));
                self.bar = Some(bar);
            }
        }
    }

    fn finish_phase(
        &mut self,
        run: Option<u32>,
        phase: Phase,
        elapsed: Duration,
        error: Option<&str>,
    ) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let label = format!("{} {phase}", self.run_label(run));
        let text = match error {
            None => format!("{label} ok ({})", format_duration(elapsed)),
            Some(e) => format!(
                "{label} FAILED ({}): {}",
                format_duration(elapsed),
                one_line(e, 200)
            ),
        };
        let text = match (self.mode, error) {
            (LiveMode::Interactive, None) => format!("✓ {text}"),
            (LiveMode::Interactive, Some(_)) => format!("✗ {text}"),
            (LiveMode::Plain, _) => text,
        };
        self.line(&text);
    }

    fn test_finished(&mut self, run: u32, test: &TestCase, attempt: &Attempt) {
        let time = format_duration(attempt.duration);
        let why = attempt
            .message
            .as_deref()
            .map(|m| format!(": {}", one_line(m, 160)))
            .unwrap_or_default();
        let retries = match attempt.retries {
            0 => String::new(),
            1 => " after 1 retry".to_string(),
            n => format!(" after {n} retries"),
        };
        let (tag, show_in_interactive) = match attempt.outcome {
            Outcome::Passed => {
                self.tally.passed += 1;
                ("PASS", false)
            }
            Outcome::Failed => {
                self.tally.failed += 1;
                ("FAIL", true)
            }
            Outcome::Skipped => {
                self.tally.skipped += 1;
                ("SKIP", false)
            }
        };
        let text = if attempt.outcome == Outcome::Skipped {
            format!("{} {tag} {}{why}", self.run_label(Some(run)), test.id)
        } else {
            format!(
                "{} {tag} {} ({time}){retries}{why}",
                self.run_label(Some(run)),
                test.id
            )
        };
        match self.mode {
            LiveMode::Plain => self.line(&text),
            LiveMode::Interactive => {
                if show_in_interactive {
                    self.line(&format!("✗ {text}"));
                }
                let status = self.status();
                if let Some(bar) = &self.bar {
                    bar.set_message(status);
                }
            }
        }
    }

    fn status(&self) -> String {
        format!(
            "{} · {} passed, {} failed, {} skipped",
            self.phase_label, self.tally.passed, self.tally.failed, self.tally.skipped
        )
    }
}

impl Reporter for LiveReporter {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::SessionStarted {
                project,
                runs,
                commit,
                ..
            } => {
                self.runs = *runs;
                let commit = commit
                    .as_deref()
                    .map(|c| format!(", commit {c}"))
                    .unwrap_or_default();
                self.line(&format!("e2e: project {project}, {runs} run(s){commit}"));
            }
            Event::RunStarted { run } => {
                self.tally = Tally::default();
                let text = format!("{} started", self.run_label(Some(*run)));
                self.line(&text);
            }
            Event::PhaseStarted { run, phase } => self.start_phase(*run, *phase),
            Event::PhaseFinished {
                run,
                phase,
                elapsed,
                error,
            } => self.finish_phase(*run, *phase, *elapsed, error.as_deref()),
            // Plain mode prints a test once, when it finishes; a terminal shows the one running.
            Event::TestStarted { test, .. } => {
                if self.mode == LiveMode::Interactive
                    && let Some(bar) = &self.bar
                {
                    bar.set_message(format!("{} · {}", self.status(), test.id));
                }
            }
            Event::TestFinished { run, test, attempt } => self.test_finished(*run, test, attempt),
            Event::Notice { run, message } => {
                let text = format!("{} note: {message}", self.run_label(*run));
                self.line(&text);
            }
            Event::RunFinished { run, elapsed } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                let t = self.tally;
                let text = format!(
                    "{} finished in {}: {} passed, {} failed, {} skipped",
                    self.run_label(Some(*run)),
                    format_duration(*elapsed),
                    t.passed,
                    t.failed,
                    t.skipped
                );
                self.line(&text);
            }
            Event::SessionFinished { elapsed } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                self.line(&format!(
                    "e2e: session finished in {}",
                    format_duration(*elapsed)
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::model::TestCase;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plain_mode_writes_one_line_per_event() {
        let buf = Buffer::default();
        let mut r = LiveReporter::plain(buf.clone());
        let ms = Duration::from_millis;
        let t = TestCase::builtin("signal_reaches_fill", true);
        let events = [
            Event::SessionStarted {
                started_at: "2026-12-03T10:00:00Z".parse().unwrap(),
                project: "cdb-e2e-1".into(),
                runs: 2,
                commit: None,
            },
            Event::PhaseStarted {
                run: None,
                phase: Phase::Images,
            },
            Event::PhaseFinished {
                run: None,
                phase: Phase::Images,
                elapsed: ms(41_200),
                error: None,
            },
            Event::RunStarted { run: 1 },
            Event::PhaseStarted {
                run: Some(1),
                phase: Phase::Healthy,
            },
            Event::PhaseFinished {
                run: Some(1),
                phase: Phase::Healthy,
                elapsed: ms(120_000),
                error: Some("risk-manager: unhealthy\n(3 more)".into()),
            },
            Event::TestStarted {
                run: 1,
                test: t.clone(),
            },
            Event::TestFinished {
                run: 1,
                test: t.clone(),
                attempt: Attempt::failed(ms(850), "no fill\ntrace"),
            },
            Event::TestFinished {
                run: 1,
                test: t.clone(),
                attempt: Attempt::skipped("stack down"),
            },
            Event::Notice {
                run: Some(1),
                message: "suite smoke wrote no JUnit file".into(),
            },
            Event::RunFinished {
                run: 1,
                elapsed: ms(125_000),
            },
            Event::SessionFinished {
                elapsed: ms(170_000),
            },
        ];
        for e in &events {
            r.on_event(e);
        }
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        insta::assert_snapshot!(text, @r"
        e2e: project cdb-e2e-1, 2 run(s)
        [session] images …
        [session] images ok (41.2s)
        [run 1/2] started
        [run 1/2] healthy …
        [run 1/2] healthy FAILED (2m 00s): risk-manager: unhealthy…
        [run 1/2] FAIL builtin::signal_reaches_fill (850ms): no fill…
        [run 1/2] SKIP builtin::signal_reaches_fill: stack down
        [run 1/2] note: suite smoke wrote no JUnit file
        [run 1/2] finished in 2m 05s: 0 passed, 1 failed, 1 skipped
        e2e: session finished in 2m 50s
        ");
    }
}
