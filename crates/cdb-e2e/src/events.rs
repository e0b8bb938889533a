//! What the runner tells the reporters, as it happens. The runner emits, reporters consume
//! ([`Reporter`](crate::reporter::Reporter)): live progress, the [`Collector`] that builds the
//! [`Summary`] for the gate and the final reports, and anything a caller adds. Times are measured
//! by the runner and carried in the events, so that nothing downstream reads a clock and every
//! report is reproducible from the event stream.
//!
//! A session is `SessionStarted`, then per run `RunStarted` … `RunFinished` with phases and
//! tests between, then `SessionFinished`. Phases done once for all runs (building the images)
//! are emitted outside any run, with `run: None`.
//!
//! [`Collector`]: crate::summary::Collector
//! [`Summary`]: crate::summary::Summary

use std::time::Duration;

use jiff::Timestamp;

use crate::model::{Attempt, Phase, TestCase};

/// One thing that happened during a session.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The session begins.
    SessionStarted {
        /// When (UTC), as the runner's clock says.
        started_at: Timestamp,
        /// The isolated stack's Compose project name.
        project: String,
        /// How many runs are planned (`--runs`).
        runs: u32,
        /// The git commit under test, when the caller knows it.
        commit: Option<String>,
    },
    /// Run `run` (1-based) begins.
    RunStarted {
        /// Which run.
        run: u32,
    },
    /// A lifecycle phase begins.
    PhaseStarted {
        /// The run, or `None` for a phase done once for the whole session.
        run: Option<u32>,
        /// Which phase.
        phase: Phase,
    },
    /// A lifecycle phase ends.
    PhaseFinished {
        /// The run, or `None` for a phase done once for the whole session.
        run: Option<u32>,
        /// Which phase.
        phase: Phase,
        /// How long it took.
        elapsed: Duration,
        /// Why it failed; `None` when it succeeded.
        error: Option<String>,
    },
    /// A test begins.
    TestStarted {
        /// The run.
        run: u32,
        /// Which test.
        test: TestCase,
    },
    /// A test ends. A second `TestFinished` for the same test in the same run replaces the
    /// first (the last attempt counts, as for retries inside an external suite).
    TestFinished {
        /// The run.
        run: u32,
        /// Which test.
        test: TestCase,
        /// What happened.
        attempt: Attempt,
    },
    /// Something people should see that is not a test result (a suite that wrote no JUnit
    /// file, a leftover container removed).
    Notice {
        /// The run, if it belongs to one.
        run: Option<u32>,
        /// The message.
        message: String,
    },
    /// Run `run` ends.
    RunFinished {
        /// Which run.
        run: u32,
        /// Its wall time, from `RunStarted` to here.
        elapsed: Duration,
    },
    /// The session ends.
    SessionFinished {
        /// Its wall time, from `SessionStarted` to here.
        elapsed: Duration,
    },
}
