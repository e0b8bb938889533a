//! `--junit FILE`: JUnit XML for CI test views (GitLab, Jenkins, GitHub test reporters), written
//! with quick-junit, the serialiser nextest uses.
//!
//! One `<testsuite>` per suite (`builtin`, each external suite) and one `<testsuite
//! name="stack">` whose test cases are the lifecycle phases, so that a stack that never came up
//! is a red test case rather than an empty, green report. Each distinct test is one
//! `<testcase>`; its attempts across `--runs` are written as Maven Surefire and nextest write
//! reruns:
//!
//! - **flaky** (passed in some runs): a passing test case with one `<flakyFailure>` per failed
//!   attempt;
//! - **failed** (failed every time it ran): `<failure>` for the last attempt and one
//!   `<rerunFailure>` per earlier attempt;
//! - passed: a plain test case; skipped: `<skipped>`.
//!
//! `time` is the last attempt's duration (as nextest reports a retried test); each rerun element
//! carries its own. Critical tests carry the property `cdb.critical = true`.

use std::time::Duration;

use indexmap::IndexMap;
use quick_junit::{
    NonSuccessKind, Property, Report, TestCase as JTestCase, TestCaseStatus, TestRerun, TestSuite,
};

use crate::errors::E2eError;
use crate::model::{Attempt, Classification, Outcome, Phase, STACK_SUITE, classify};
use crate::reporter::{Results, one_line};
use crate::summary::TestSummary;

/// The JUnit report.
#[derive(Debug, Clone)]
pub struct JunitReport {
    /// The `name` of the root `<testsuites>`.
    pub name: String,
}

impl Default for JunitReport {
    fn default() -> Self {
        JunitReport {
            name: "cdb-e2e".into(),
        }
    }
}

/// An earlier failed attempt, as `kind` (a test's failure, or an error of the stack's
/// phases): `rerunFailure`/`flakyFailure` or `rerunError`/`flakyError`, as Surefire writes them.
fn rerun(attempt: &Attempt, kind: NonSuccessKind) -> TestRerun {
    let mut r = TestRerun::new(kind);
    r.set_time(attempt.duration);
    if let Some(m) = &attempt.message {
        r.set_message(one_line(m, 200));
        r.set_stack_trace(m.as_str());
    }
    if let Some(o) = &attempt.stdout {
        r.set_system_out(o.as_str());
    }
    if let Some(e) = &attempt.stderr {
        r.set_system_err(e.as_str());
    }
    r
}

fn failed_attempts(t: &TestSummary) -> impl Iterator<Item = &Attempt> {
    t.attempts
        .iter()
        .map(|a| &a.attempt)
        .filter(|a| a.outcome == Outcome::Failed)
}

fn test_case(t: &TestSummary, runs: u32) -> JTestCase {
    let last = t.last();
    let status = match t.classification {
        Classification::Passed => TestCaseStatus::success(),
        Classification::Flaky => TestCaseStatus::Success {
            flaky_runs: failed_attempts(t)
                .map(|a| rerun(a, NonSuccessKind::Failure))
                .collect(),
        },
        Classification::Failed => {
            let failures: Vec<&Attempt> = failed_attempts(t).collect();
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            if let Some((final_attempt, earlier)) = failures.split_last() {
                let message = final_attempt.message.as_deref().unwrap_or("failed");
                status.set_message(one_line(message, 200));
                status.set_description(message);
                if runs > 1 {
                    status.set_type(format!("failed in {} of {runs} runs", failures.len()));
                }
                status.add_reruns(earlier.iter().map(|a| rerun(a, NonSuccessKind::Failure)));
            }
            status
        }
        Classification::Skipped => {
            let mut status = TestCaseStatus::skipped();
            if let Some(m) = last.and_then(|a| a.message.as_deref()) {
                status.set_message(one_line(m, 200));
            }
            status
        }
    };
    let mut case = JTestCase::new(t.test.name.as_str(), status);
    case.set_classname(t.test.suite.name());
    // The final attempt's time and output (for a flaky test, the last passing attempt's output
    // is the testcase's; failed attempts carry their own in the rerun elements).
    let shown = match t.classification {
        Classification::Flaky => t
            .attempts
            .iter()
            .rev()
            .map(|a| &a.attempt)
            .find(|a| a.outcome == Outcome::Passed),
        _ => last,
    };
    if let Some(a) = last {
        case.set_time(a.duration);
    }
    if let Some(a) = shown {
        if let Some(o) = &a.stdout {
            case.set_system_out(o.as_str());
        }
        if let Some(e) = &a.stderr {
            case.set_system_err(e.as_str());
        }
    }
    if t.test.critical {
        case.add_property(Property::new("cdb.critical", "true"));
    }
    case
}

fn stack_suite(results: &Results<'_>) -> Option<TestSuite> {
    let s = results.summary;
    if s.phases.is_empty() {
        return None;
    }
    let mut suite = TestSuite::new(STACK_SUITE);
    let mut total = Duration::ZERO;
    for phase in Phase::ALL {
        let records: Vec<_> = s.phases.iter().filter(|p| p.phase == phase).collect();
        let Some(last) = records.last() else {
            continue;
        };
        let outcome = |e: &Option<String>| {
            if e.is_some() {
                Outcome::Failed
            } else {
                Outcome::Passed
            }
        };
        let failures: Vec<_> = records.iter().filter(|p| p.error.is_some()).collect();
        let as_attempt = |p: &crate::summary::PhaseRecord| {
            let mut a = Attempt::new(outcome(&p.error), p.elapsed, p.error.clone());
            if let (Some(run), Some(m)) = (p.run, &a.message) {
                a.message = Some(format!("run {run}: {m}"));
            }
            a
        };
        let status = match classify(records.iter().map(|p| outcome(&p.error))) {
            Classification::Failed => {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
                if let Some((final_failure, earlier)) = failures.split_last() {
                    let a = as_attempt(final_failure);
                    let m = a.message.as_deref().unwrap_or("failed");
                    st.set_message(one_line(m, 200));
                    st.set_description(m);
                    st.add_reruns(
                        earlier
                            .iter()
                            .map(|p| rerun(&as_attempt(p), NonSuccessKind::Error)),
                    );
                }
                st
            }
            Classification::Flaky => TestCaseStatus::Success {
                flaky_runs: failures
                    .iter()
                    .map(|p| rerun(&as_attempt(p), NonSuccessKind::Error))
                    .collect(),
            },
            _ => TestCaseStatus::success(),
        };
        let mut case = JTestCase::new(phase.name(), status);
        case.set_classname(STACK_SUITE);
        case.set_time(last.elapsed);
        total += records.iter().map(|p| p.elapsed).sum::<Duration>();
        suite.add_test_case(case);
    }
    suite.set_time(total);
    Some(suite)
}

impl JunitReport {
    /// Renders the report as JUnit XML.
    pub fn render(&self, results: &Results<'_>) -> Result<String, E2eError> {
        let s = results.summary;
        let runs = s.runs.len() as u32;
        let mut suites: IndexMap<&str, TestSuite> = IndexMap::new();
        for t in &s.tests {
            let suite = suites.entry(t.test.suite.name()).or_insert_with(|| {
                let mut suite = TestSuite::new(t.test.suite.name());
                suite.add_property(Property::new("cdb.runs", runs.to_string()));
                if let Some(c) = &s.commit {
                    suite.add_property(Property::new("cdb.commit", c.as_str()));
                }
                suite
            });
            suite.add_test_case(test_case(t, runs));
        }
        let mut report = Report::new(self.name.as_str());
        report.set_time(s.wall_time);
        for (_, mut suite) in suites {
            let time: Duration = suite.test_cases.iter().filter_map(|c| c.time).sum();
            suite.set_time(time);
            report.add_test_suite(suite);
        }
        if let Some(stack) = stack_suite(results) {
            report.add_test_suite(stack);
        }
        report.to_string().map_err(|e| E2eError::Render {
            format: "junit",
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporter::fixtures;

    #[test]
    fn snapshot_with_flaky_and_rerun_failures() {
        let (summary, gate) = fixtures::session();
        let xml = JunitReport::default()
            .render(&Results {
                summary: &summary,
                gate: &gate,
            })
            .unwrap();
        // The flaky critical test passed eventually: flakyFailure; the broken one failed in
        // every run: failure + rerunFailure for the two earlier runs.
        assert_eq!(xml.matches("<flakyFailure").count(), 1, "{xml}");
        assert_eq!(xml.matches("<rerunFailure").count(), 2, "{xml}");
        insta::assert_snapshot!(xml);
        // What we write, a JUnit reader reads back: the reruns count as retries.
        let back =
            crate::external::parse_junit(std::path::Path::new("report.xml"), &xml, "again", false)
                .unwrap();
        let broken = back
            .iter()
            .find(|r| r.test.name == "builtin::metrics_exposed")
            .unwrap();
        assert_eq!(broken.attempt.outcome, Outcome::Failed);
        assert_eq!(broken.attempt.retries, 2);
        let flaky = back
            .iter()
            .find(|r| r.test.name == "builtin::crash_recovery")
            .unwrap();
        assert_eq!(flaky.attempt.outcome, Outcome::Passed);
        assert_eq!(flaky.attempt.retries, 1);
    }

    /// The JUnit report of sessions whose runs had the health phase end as given.
    fn xml_of_health_phases(phases: &[(u32, Option<&str>)]) -> String {
        use crate::reporter::Reporter;
        let mut c = crate::summary::Collector::new();
        for (run, error) in phases {
            c.on_event(&crate::events::Event::RunStarted { run: *run });
            c.on_event(&crate::events::Event::PhaseFinished {
                run: Some(*run),
                phase: Phase::Healthy,
                elapsed: Duration::from_secs(5),
                error: error.map(str::to_string),
            });
        }
        let summary = c.summary();
        let gate =
            crate::gate::evaluate(&summary, &crate::config::E2eConfig::default().thresholds());
        JunitReport::default()
            .render(&Results {
                summary: &summary,
                gate: &gate,
            })
            .unwrap()
    }

    #[test]
    fn a_stack_that_never_came_up_is_red() {
        let xml = xml_of_health_phases(&[(1, Some("postgres: unhealthy"))]);
        assert!(
            xml.contains(r#"<error message="run 1: postgres: unhealthy">"#),
            "{xml}"
        );
        assert!(xml.contains(r#"errors="1""#), "{xml}");
    }

    #[test]
    fn a_stack_phase_that_failed_once_is_a_flaky_error_not_a_flaky_failure() {
        // Regression: earlier failures of the stack's phases (errors, not test failures) were
        // written as flakyFailure/rerunFailure; Surefire writes flakyError/rerunError.
        let xml = xml_of_health_phases(&[(1, Some("redis: unhealthy")), (2, None)]);
        assert_eq!(xml.matches("<flakyError").count(), 1, "{xml}");
        assert!(!xml.contains("<flakyFailure"), "{xml}");
    }
}
