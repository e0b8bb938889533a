//! The session's results, built from the event stream by the [`Collector`]: per test its
//! attempts across runs, its classification (passed / failed / flaky / skipped) and duration
//! statistics; per run its phases and wall time. The gate and every final report read a
//! [`Summary`]; none of them sees events.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::events::Event;
use crate::model::{
    Attempt, Classification, DurationStats, Outcome, Phase, TestCase, classify, duration_ms,
};
use crate::reporter::Reporter;

/// One phase of one run (or of the session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseRecord {
    /// The run, or `None` for a session-wide phase.
    pub run: Option<u32>,
    /// Which phase.
    pub phase: Phase,
    /// How long it took.
    #[serde(with = "duration_ms")]
    pub elapsed: Duration,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// One run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// 1-based.
    pub run: u32,
    /// Its wall time; `None` when it never finished (the session was interrupted).
    pub elapsed: Option<Duration>,
}

/// One attempt with the run it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAttempt {
    /// The run.
    pub run: u32,
    /// The attempt.
    pub attempt: Attempt,
}

/// A test across the whole session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSummary {
    /// The test.
    pub test: TestCase,
    /// Its attempts, one per run it ran in, in run order.
    pub attempts: Vec<RunAttempt>,
    /// Its verdict across runs.
    pub classification: Classification,
    /// Durations of the attempts that ran (not skipped); `None` when none did.
    pub durations: Option<DurationStats>,
}

impl TestSummary {
    /// The last attempt (what a single-run view shows).
    pub fn last(&self) -> Option<&Attempt> {
        self.attempts.last().map(|a| &a.attempt)
    }

    /// How many attempts had `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.attempts
            .iter()
            .filter(|a| a.attempt.outcome == outcome)
            .count()
    }
}

/// Distinct tests by classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Every distinct test.
    pub tests: u32,
    /// Passed in every run it ran in.
    pub passed: u32,
    /// Failed in every run it ran in.
    pub failed: u32,
    /// Passed in some runs and failed in others.
    pub flaky: u32,
    /// Never ran.
    pub skipped: u32,
}

impl Counts {
    /// Tests that ran at least once: the denominator of pass rates.
    pub fn ran(&self) -> u32 {
        self.tests - self.skipped
    }

    fn add(&mut self, c: Classification) {
        self.tests += 1;
        match c {
            Classification::Passed => self.passed += 1,
            Classification::Failed => self.failed += 1,
            Classification::Flaky => self.flaky += 1,
            Classification::Skipped => self.skipped += 1,
        }
    }
}

/// Everything a session produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// When the session started (from `SessionStarted`).
    pub started_at: Option<Timestamp>,
    /// The isolated stack's Compose project name.
    pub project: String,
    /// The git commit under test, when known.
    pub commit: Option<String>,
    /// How many runs were planned.
    pub runs_planned: u32,
    /// The runs that started, in order.
    pub runs: Vec<RunRecord>,
    /// Every phase, in the order they finished.
    pub phases: Vec<PhaseRecord>,
    /// Every test, in the order each was first seen.
    pub tests: Vec<TestSummary>,
    /// Notices, in order, with their run.
    pub notices: Vec<(Option<u32>, String)>,
    /// The session's wall time (`SessionFinished`; else the sum of runs and session phases).
    pub wall_time: Duration,
}

impl Summary {
    /// Distinct tests by classification.
    pub fn counts(&self) -> Counts {
        self.count_where(|_| true)
    }

    /// Distinct critical tests by classification.
    pub fn critical_counts(&self) -> Counts {
        self.count_where(|t| t.test.critical)
    }

    fn count_where(&self, keep: impl Fn(&TestSummary) -> bool) -> Counts {
        let mut c = Counts::default();
        for t in self.tests.iter().filter(|t| keep(t)) {
            c.add(t.classification);
        }
        c
    }

    /// Runs that finished.
    pub fn completed_runs(&self) -> u32 {
        self.runs.iter().filter(|r| r.elapsed.is_some()).count() as u32
    }

    /// Phases that failed.
    pub fn failed_phases(&self) -> impl Iterator<Item = &PhaseRecord> {
        self.phases.iter().filter(|p| p.error.is_some())
    }

    /// Session-wide phases (outside every run), e.g. building the images once.
    pub fn session_phases(&self) -> impl Iterator<Item = &PhaseRecord> {
        self.phases.iter().filter(|p| p.run.is_none())
    }

    /// What one acceptance run costs: the slowest run plus the session-wide phases (every
    /// acceptance run pays those once). This is what the time gate measures, so that
    /// `--runs 5` for flakiness detection does not need five times the budget.
    pub fn gate_time(&self) -> Duration {
        let slowest = self
            .runs
            .iter()
            .filter_map(|r| r.elapsed)
            .max()
            .unwrap_or_default();
        slowest + self.session_phases().map(|p| p.elapsed).sum::<Duration>()
    }

    /// The test with `id`.
    pub fn test(&self, id: &str) -> Option<&TestSummary> {
        self.tests.iter().find(|t| t.test.id == id)
    }
}

/// The reporter that records the session into a [`Summary`]. Put it in the runner's reporter
/// list; read [`Collector::summary`] after `SessionFinished`.
#[derive(Debug, Default)]
pub struct Collector {
    summary: Summary,
    index: HashMap<String, usize>,
    session_finished: bool,
}

impl Collector {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// The summary of everything seen so far.
    pub fn summary(&self) -> Summary {
        let mut s = self.summary.clone();
        for t in &mut s.tests {
            t.attempts.sort_by_key(|a| a.run);
            t.classification = classify(t.attempts.iter().map(|a| a.attempt.outcome));
            t.durations = DurationStats::of(
                t.attempts
                    .iter()
                    .filter(|a| a.attempt.outcome != Outcome::Skipped)
                    .map(|a| a.attempt.duration),
            );
        }
        if !self.session_finished {
            s.wall_time = s.runs.iter().filter_map(|r| r.elapsed).sum::<Duration>()
                + s.session_phases().map(|p| p.elapsed).sum::<Duration>();
        }
        if s.runs_planned == 0 {
            s.runs_planned = s.runs.len() as u32;
        }
        s
    }

    fn record(&mut self, run: u32, test: &TestCase, attempt: &Attempt) {
        let i = match self.index.get(&test.id) {
            Some(&i) => i,
            None => {
                self.summary.tests.push(TestSummary {
                    test: test.clone(),
                    attempts: Vec::new(),
                    classification: Classification::Skipped,
                    durations: None,
                });
                let i = self.summary.tests.len() - 1;
                self.index.insert(test.id.clone(), i);
                i
            }
        };
        let t = &mut self.summary.tests[i];
        // Criticality can only be raised: a test critical in any report of it is critical.
        t.test.critical |= test.critical;
        let entry = RunAttempt {
            run,
            attempt: attempt.clone(),
        };
        match t.attempts.iter_mut().find(|a| a.run == run) {
            Some(existing) => {
                // A repeat within one run: the last attempt counts; keep the count of tries.
                let retries = existing.attempt.retries + 1 + entry.attempt.retries;
                *existing = entry;
                existing.attempt.retries = retries;
            }
            None => t.attempts.push(entry),
        }
    }
}

impl Reporter for Collector {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::SessionStarted {
                started_at,
                project,
                runs,
                commit,
            } => {
                self.summary.started_at = Some(*started_at);
                self.summary.project.clone_from(project);
                self.summary.runs_planned = *runs;
                self.summary.commit.clone_from(commit);
            }
            Event::RunStarted { run } => {
                if !self.summary.runs.iter().any(|r| r.run == *run) {
                    self.summary.runs.push(RunRecord {
                        run: *run,
                        elapsed: None,
                    });
                }
            }
            Event::PhaseStarted { .. } | Event::TestStarted { .. } => {}
            Event::PhaseFinished {
                run,
                phase,
                elapsed,
                error,
            } => self.summary.phases.push(PhaseRecord {
                run: *run,
                phase: *phase,
                elapsed: *elapsed,
                error: error.clone(),
            }),
            Event::TestFinished { run, test, attempt } => self.record(*run, test, attempt),
            Event::Notice { run, message } => self.summary.notices.push((*run, message.clone())),
            Event::RunFinished { run, elapsed } => {
                match self.summary.runs.iter_mut().find(|r| r.run == *run) {
                    Some(r) => r.elapsed = Some(*elapsed),
                    None => self.summary.runs.push(RunRecord {
                        run: *run,
                        elapsed: Some(*elapsed),
                    }),
                }
            }
            Event::SessionFinished { elapsed } => {
                self.summary.wall_time = *elapsed;
                self.session_finished = true;
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::Attempt;

    pub(crate) fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Feeds `runs` runs; `outcome(run, test_index)` decides each attempt.
    pub(crate) fn session(
        tests: &[TestCase],
        runs: u32,
        outcome: impl Fn(u32, usize) -> Outcome,
    ) -> Summary {
        let mut c = Collector::new();
        c.on_event(&Event::SessionStarted {
            started_at: "2026-12-03T10:00:00Z".parse().unwrap(),
            project: "cdb-e2e-test".into(),
            runs,
            commit: Some("0123abc".into()),
        });
        for run in 1..=runs {
            c.on_event(&Event::RunStarted { run });
            for (i, t) in tests.iter().enumerate() {
                let d = ms(100 * u64::from(run) + i as u64);
                let attempt = match outcome(run, i) {
                    Outcome::Passed => Attempt::passed(d),
                    Outcome::Failed => Attempt::failed(d, format!("run {run}: assertion failed")),
                    Outcome::Skipped => Attempt::skipped("not today"),
                };
                c.on_event(&Event::TestFinished {
                    run,
                    test: t.clone(),
                    attempt,
                });
            }
            c.on_event(&Event::RunFinished {
                run,
                elapsed: ms(60_000 * u64::from(run)),
            });
        }
        c.on_event(&Event::SessionFinished {
            elapsed: ms(60_000 * u64::from(runs * (runs + 1) / 2) + 500),
        });
        c.summary()
    }

    #[test]
    fn tests_are_classified_across_runs() {
        let tests = [
            TestCase::builtin("always", true),
            TestCase::builtin("never", false),
            TestCase::builtin("sometimes", true),
            TestCase::builtin("skipped", false),
        ];
        let s = session(&tests, 3, |run, i| match i {
            0 => Outcome::Passed,
            1 => Outcome::Failed,
            2 if run == 2 => Outcome::Failed,
            2 => Outcome::Passed,
            _ => Outcome::Skipped,
        });
        let class: Vec<Classification> = s.tests.iter().map(|t| t.classification).collect();
        assert_eq!(
            class,
            [
                Classification::Passed,
                Classification::Failed,
                Classification::Flaky,
                Classification::Skipped
            ]
        );
        let c = s.counts();
        assert_eq!(
            (c.tests, c.passed, c.failed, c.flaky, c.skipped),
            (4, 1, 1, 1, 1)
        );
        assert_eq!(c.ran(), 3);
        let crit = s.critical_counts();
        assert_eq!((crit.tests, crit.passed, crit.flaky), (2, 1, 1));
        let d = s.tests[0].durations.unwrap();
        assert_eq!((d.min, d.median, d.max), (ms(100), ms(200), ms(300)));
        assert_eq!(s.tests[3].durations, None);
        assert_eq!(s.completed_runs(), 3);
        assert_eq!(s.gate_time(), ms(180_000));
        assert_eq!(s.wall_time, ms(360_500));
    }

    #[test]
    fn a_repeat_within_a_run_replaces_the_attempt() {
        let t = TestCase::builtin("retried", true);
        let mut c = Collector::new();
        c.on_event(&Event::RunStarted { run: 1 });
        for attempt in [Attempt::failed(ms(5), "first"), Attempt::passed(ms(7))] {
            c.on_event(&Event::TestFinished {
                run: 1,
                test: t.clone(),
                attempt,
            });
        }
        let s = c.summary();
        assert_eq!(s.tests[0].attempts.len(), 1);
        assert_eq!(s.tests[0].attempts[0].attempt.outcome, Outcome::Passed);
        assert_eq!(s.tests[0].attempts[0].attempt.retries, 1);
        assert_eq!(s.tests[0].classification, Classification::Passed);
        assert_eq!(s.runs_planned, 1);
    }

    #[test]
    fn session_phases_count_once_in_the_gate_time() {
        let mut c = Collector::new();
        c.on_event(&Event::PhaseFinished {
            run: None,
            phase: Phase::Images,
            elapsed: ms(30_000),
            error: None,
        });
        for (run, secs) in [(1, 100), (2, 140)] {
            c.on_event(&Event::RunStarted { run });
            c.on_event(&Event::RunFinished {
                run,
                elapsed: ms(secs * 1000),
            });
        }
        let s = c.summary();
        assert_eq!(s.gate_time(), ms(170_000));
        assert_eq!(s.wall_time, ms(270_000));
    }
}
