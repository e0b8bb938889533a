//! What a test is and what one attempt at it produced. Kept apart from how tests are run, so that
//! the built-in critical-path tests, external suites (JUnit) and the stack's own lifecycle phases
//! all reach the reports and the gate in one shape.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The suite name of cdb-e2e's own critical-path tests.
pub const BUILTIN_SUITE: &str = "builtin";

/// The suite name under which stack lifecycle phases appear in JUnit (so that a stack that never
/// came up is a red test case, not an empty, green report).
pub const STACK_SUITE: &str = "stack";

/// How much of a test's stdout/stderr is kept per attempt (the tail: that is where the error
/// is). Reports and the history stay small even when a test logs megabytes.
pub const EXCERPT_LIMIT: usize = 4096;

/// Which suite a test belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SuiteRef {
    /// cdb-e2e's own tests.
    Builtin,
    /// An `[[e2e.suites]]` entry, by name.
    External(String),
}

impl SuiteRef {
    /// The suite's name as shown and serialised (`builtin`, or the external suite's name).
    pub fn name(&self) -> &str {
        match self {
            SuiteRef::Builtin => BUILTIN_SUITE,
            SuiteRef::External(n) => n,
        }
    }
}

impl fmt::Display for SuiteRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for SuiteRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for SuiteRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(if name == BUILTIN_SUITE {
            SuiteRef::Builtin
        } else {
            SuiteRef::External(name)
        })
    }
}

/// A test, identified across runs by [`TestCase::id`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TestCase {
    /// Stable identity, `suite::name` (external: `suite::classname::name`). Attempts of
    /// different runs are matched on it, so it must not contain run-specific data.
    pub id: String,
    /// What people read (`classname::name` for JUnit tests).
    pub name: String,
    /// The suite.
    pub suite: SuiteRef,
    /// Whether it is on the critical path (signal → risk → execution → exchange → DB).
    pub critical: bool,
}

impl TestCase {
    /// A built-in test.
    pub fn builtin(name: impl Into<String>, critical: bool) -> Self {
        let name = name.into();
        TestCase {
            id: format!("{BUILTIN_SUITE}::{name}"),
            name,
            suite: SuiteRef::Builtin,
            critical,
        }
    }

    /// A test of external suite `suite` as JUnit names it (`classname` may be empty).
    pub fn external(suite: &str, classname: &str, name: &str, critical: bool) -> Self {
        let display = if classname.is_empty() {
            name.to_string()
        } else {
            format!("{classname}::{name}")
        };
        TestCase {
            id: format!("{suite}::{display}"),
            name: display,
            suite: SuiteRef::External(suite.to_string()),
            critical,
        }
    }
}

/// The result of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It passed.
    Passed,
    /// It failed (an assertion, an error, a timeout).
    Failed,
    /// It did not run (skipped by the suite, or a precondition missing).
    Skipped,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        })
    }
}

/// One attempt at a test, in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Passed, failed or skipped.
    pub outcome: Outcome,
    /// How long it took.
    #[serde(with = "duration_ms")]
    pub duration: Duration,
    /// Why it failed or was skipped (the first line is what summaries show).
    pub message: Option<String>,
    /// The tail of its standard output ([`EXCERPT_LIMIT`]).
    pub stdout: Option<String>,
    /// The tail of its standard error ([`EXCERPT_LIMIT`]).
    pub stderr: Option<String>,
    /// How often the suite itself retried it within this run before this, the last attempt
    /// (JUnit duplicates, `rerunFailure`/`flakyFailure`). Shown, not gated: only the last
    /// attempt of a run counts.
    pub retries: u32,
}

impl Attempt {
    /// A passed attempt.
    pub fn passed(duration: Duration) -> Self {
        Attempt::new(Outcome::Passed, duration, None)
    }

    /// A failed attempt and why.
    pub fn failed(duration: Duration, message: impl Into<String>) -> Self {
        Attempt::new(Outcome::Failed, duration, Some(message.into()))
    }

    /// A skipped attempt and why.
    pub fn skipped(message: impl Into<String>) -> Self {
        Attempt::new(Outcome::Skipped, Duration::ZERO, Some(message.into()))
    }

    /// An attempt with no output.
    pub fn new(outcome: Outcome, duration: Duration, message: Option<String>) -> Self {
        Attempt {
            outcome,
            duration,
            message,
            stdout: None,
            stderr: None,
            retries: 0,
        }
    }

    /// Keeps the tail of `text` as the stdout excerpt (nothing when it is blank).
    pub fn with_stdout(mut self, text: &str) -> Self {
        self.stdout = non_blank(text).map(|t| excerpt(t, EXCERPT_LIMIT));
        self
    }

    /// Keeps the tail of `text` as the stderr excerpt (nothing when it is blank).
    pub fn with_stderr(mut self, text: &str) -> Self {
        self.stderr = non_blank(text).map(|t| excerpt(t, EXCERPT_LIMIT));
        self
    }

    /// The first line of the message, for one-line summaries.
    pub fn headline(&self) -> Option<&str> {
        self.message
            .as_deref()
            .and_then(|m| m.lines().map(str::trim).find(|l| !l.is_empty()))
    }
}

fn non_blank(text: &str) -> Option<&str> {
    (!text.trim().is_empty()).then_some(text)
}

/// The last `limit` bytes of `text` (cut at a character boundary), prefixed with how much was
/// cut: the end of a log is where a failure explains itself.
pub fn excerpt(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut start = text.len() - limit;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("[… {start} bytes cut]\n{}", &text[start..])
}

/// The lifecycle phases of one run of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Building or pulling the images.
    Images,
    /// `docker compose up` of the isolated project.
    Up,
    /// Waiting until every service reports healthy.
    Healthy,
    /// Running the tests.
    Test,
    /// `docker compose down` and removal of everything the project created.
    Teardown,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 5] = [
        Phase::Images,
        Phase::Up,
        Phase::Healthy,
        Phase::Test,
        Phase::Teardown,
    ];

    /// Its name (`images`, `up`, `healthy`, `test`, `teardown`).
    pub fn name(self) -> &'static str {
        match self {
            Phase::Images => "images",
            Phase::Up => "up",
            Phase::Healthy => "healthy",
            Phase::Test => "test",
            Phase::Teardown => "teardown",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A test's verdict across all runs of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Classification {
    /// Every attempt that ran passed.
    Passed,
    /// Every attempt that ran failed.
    Failed,
    /// Some attempts passed and some failed.
    Flaky,
    /// No attempt ran.
    Skipped,
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Classification::Passed => "passed",
            Classification::Failed => "failed",
            Classification::Flaky => "flaky",
            Classification::Skipped => "skipped",
        })
    }
}

/// Classifies a test from the outcomes of its attempts (one per run). Skipped attempts do not
/// count either way: a test skipped in one run and passed in the others passed.
pub fn classify(outcomes: impl IntoIterator<Item = Outcome>) -> Classification {
    let (mut passed, mut failed) = (false, false);
    for o in outcomes {
        match o {
            Outcome::Passed => passed = true,
            Outcome::Failed => failed = true,
            Outcome::Skipped => {}
        }
    }
    match (passed, failed) {
        (true, true) => Classification::Flaky,
        (true, false) => Classification::Passed,
        (false, true) => Classification::Failed,
        (false, false) => Classification::Skipped,
    }
}

/// Minimum, median and maximum of a test's durations across runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationStats {
    /// The fastest attempt.
    #[serde(with = "duration_ms")]
    pub min: Duration,
    /// The median (the mean of the two middle values for an even count).
    #[serde(with = "duration_ms")]
    pub median: Duration,
    /// The slowest attempt.
    #[serde(with = "duration_ms")]
    pub max: Duration,
}

impl DurationStats {
    /// The statistics of `durations`; `None` when there are none.
    pub fn of(durations: impl IntoIterator<Item = Duration>) -> Option<Self> {
        let mut v: Vec<Duration> = durations.into_iter().collect();
        if v.is_empty() {
            return None;
        }
        v.sort();
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2
        };
        Some(DurationStats {
            min: v[0],
            median,
            max: v[n - 1],
        })
    }
}

/// Serde for durations as whole milliseconds (the unit of every duration in cdb-e2e's JSON).
pub mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises as milliseconds.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(crate::duration::millis(*d))
    }

    /// Deserialises from milliseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::*;

    #[test]
    fn classification_across_runs() {
        assert_eq!(classify([Passed, Passed, Passed]), Classification::Passed);
        assert_eq!(classify([Failed, Failed]), Classification::Failed);
        assert_eq!(classify([Passed, Failed, Passed]), Classification::Flaky);
        assert_eq!(classify([Failed, Passed]), Classification::Flaky);
        assert_eq!(classify([Skipped, Passed]), Classification::Passed);
        assert_eq!(classify([Skipped, Failed]), Classification::Failed);
        assert_eq!(classify([Skipped, Skipped]), Classification::Skipped);
        assert_eq!(classify([]), Classification::Skipped);
    }

    #[test]
    fn duration_stats() {
        let ms = Duration::from_millis;
        let s = DurationStats::of([ms(30), ms(10), ms(20)]).unwrap();
        assert_eq!((s.min, s.median, s.max), (ms(10), ms(20), ms(30)));
        let s = DurationStats::of([ms(40), ms(10), ms(20), ms(30)]).unwrap();
        assert_eq!(s.median, ms(25));
        assert_eq!(DurationStats::of([]), None);
    }

    #[test]
    fn excerpt_keeps_the_tail_on_a_char_boundary() {
        assert_eq!(excerpt("short", 10), "short");
        let text = format!("{}é-end", "a".repeat(20));
        let e = excerpt(&text, 5);
        assert!(e.ends_with("-end"), "{e}");
        assert!(e.starts_with("[… "), "{e}");
        let long = "x".repeat(10_000);
        let a = Attempt::passed(Duration::ZERO).with_stdout(&long);
        assert!(a.stdout.as_ref().unwrap().len() < EXCERPT_LIMIT + 40);
        assert_eq!(
            Attempt::passed(Duration::ZERO).with_stderr("  \n").stderr,
            None
        );
    }

    #[test]
    fn ids_are_stable_and_suite_qualified() {
        assert_eq!(
            TestCase::builtin("signal_to_fill", true).id,
            "builtin::signal_to_fill"
        );
        let t = TestCase::external("smoke", "tests.e2e.test_flow", "test_fill", false);
        assert_eq!(t.id, "smoke::tests.e2e.test_flow::test_fill");
        assert_eq!(t.name, "tests.e2e.test_flow::test_fill");
        assert_eq!(TestCase::external("smoke", "", "t", false).id, "smoke::t");
    }
}
