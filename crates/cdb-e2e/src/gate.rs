//! The acceptance gate: a verdict from a [`Summary`] and the thresholds of `[e2e]`.
//!
//! | check | measured | holds when |
//! |---|---|---|
//! | `pass_rate` | passed tests / tests that ran (distinct tests; flaky ones did not pass) | ≥ `min_pass_rate` |
//! | `critical_pass_rate` | the same over critical tests | ≥ `critical_pass_rate` |
//! | `critical_flaky` | critical tests that both passed and failed across runs | ≤ `max_critical_flaky` |
//! | `total_time` | slowest run + session-wide phases ([`Summary::gate_time`]) | ≤ `max_total_time` |
//! | `stack` | failed lifecycle phases, and runs that never finished | none |
//!
//! Rates are compared exactly, in integers (parts per million): 19 of 20 passed is 95 % and holds
//! a 0.95 threshold; floating point would make the boundary depend on rounding. A pass rate over
//! no tests at all fails: nothing ran, so nothing was proven. The `stack` check exists for the
//! same reason — a stack that never became healthy ran no tests, and an empty suite must not
//! look green. The exit code is xtask's decision ([`cdb_core::exit`]): 0 when the gate holds,
//! 1 when it fails.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::duration::format_duration;
use crate::summary::{Counts, Summary};

const PPM: u64 = 1_000_000;

/// A share between 0 and 1, held exactly as parts per million.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u32);

impl Rate {
    /// 100 %.
    pub const ONE: Rate = Rate(PPM as u32);

    /// From parts per million (clamped to 1 000 000).
    pub fn from_ppm(ppm: u32) -> Self {
        Rate(ppm.min(PPM as u32))
    }

    /// From a fraction in `[0, 1]` with at most six decimals; `None` otherwise.
    pub fn from_fraction(f: f64) -> Option<Self> {
        if !(0.0..=1.0).contains(&f) {
            return None;
        }
        let scaled = f * PPM as f64;
        let ppm = scaled.round();
        ((scaled - ppm).abs() < 1e-3).then_some(Rate(ppm as u32))
    }

    /// Parts per million.
    pub fn ppm(self) -> u32 {
        self.0
    }

    /// As a fraction (for JSON).
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / PPM as f64
    }

    /// Whether `num / den` reaches this rate, exactly. `false` when `den` is 0.
    pub fn is_met_by(self, num: u32, den: u32) -> bool {
        den > 0 && u64::from(num) * PPM >= u64::from(self.0) * u64::from(den)
    }
}

impl fmt::Display for Rate {
    /// As a percentage with no trailing zeros: `95 %`, `99.5 %`, `100 %`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 10_000;
        let frac = self.0 % 10_000;
        if frac == 0 {
            write!(f, "{whole} %")
        } else {
            let digits = format!("{frac:04}");
            write!(f, "{whole}.{} %", digits.trim_end_matches('0'))
        }
    }
}

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RateVisitor)
    }
}

struct RateVisitor;

impl RateVisitor {
    fn out_of_range<E: de::Error>(v: impl fmt::Display) -> E {
        E::custom(format!(
            "invalid rate {v}: it must be between 0 and 1 (0.95 means 95 %)"
        ))
    }
}

impl Visitor<'_> for RateVisitor {
    type Value = Rate;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a rate between 0 and 1, e.g. 0.95")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Rate, E> {
        if !(0.0..=1.0).contains(&v) {
            return Err(Self::out_of_range(v));
        }
        Rate::from_fraction(v).ok_or_else(|| {
            E::custom(format!(
                "invalid rate {v}: use at most six decimals (e.g. 0.995)"
            ))
        })
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
        match v {
            0 => Ok(Rate(0)),
            1 => Ok(Rate::ONE),
            _ => Err(Self::out_of_range(v)),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
        match v {
            0 => Ok(Rate(0)),
            1 => Ok(Rate::ONE),
            _ => Err(Self::out_of_range(v)),
        }
    }
}

/// The gate's thresholds (from [`E2eConfig::thresholds`](crate::config::E2eConfig::thresholds)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Minimum pass rate over all tests that ran.
    pub min_pass_rate: Rate,
    /// Minimum pass rate over critical tests that ran.
    pub critical_pass_rate: Rate,
    /// Maximum number of flaky critical tests.
    pub max_critical_flaky: u32,
    /// Maximum time of one acceptance run.
    pub max_total_time: Duration,
}

/// The gate's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every check holds.
    Holds,
    /// At least one check fails.
    Fails,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "HOLDS",
            Verdict::Fails => "FAILS",
        })
    }
}

/// A measured or threshold value, typed so that JSON can carry numbers and people can read
/// text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// `num` of `den`.
    Ratio {
        /// Numerator.
        num: u32,
        /// Denominator.
        den: u32,
    },
    /// A share (a threshold).
    Rate(Rate),
    /// A count.
    Count(u32),
    /// A duration.
    Duration(Duration),
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Quantity::Ratio { den: 0, .. } => f.write_str("n/a"),
            Quantity::Ratio { num, den } => {
                // Rounded down to 0.1 %, so that a failing rate never prints as the threshold.
                let permille = u64::from(num) * 1000 / u64::from(den);
                write!(f, "{}.{} %", permille / 10, permille % 10)
            }
            Quantity::Rate(r) => r.fmt(f),
            Quantity::Count(n) => write!(f, "{n}"),
            Quantity::Duration(d) => f.write_str(&format_duration(d)),
        }
    }
}

/// One check of the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Stable identifier (`pass_rate`, `critical_pass_rate`, `critical_flaky`, `total_time`,
    /// `stack`): JSON and the history use it.
    pub id: &'static str,
    /// What people read.
    pub label: &'static str,
    /// What was measured.
    pub measured: Quantity,
    /// The comparison, as text (`≥`, `≤`).
    pub comparison: &'static str,
    /// The threshold.
    pub threshold: Quantity,
    /// Whether it holds.
    pub holds: bool,
    /// What the measurement counts, e.g. `32 of 33 tests passed`.
    pub detail: String,
}

impl Check {
    /// `✓ pass rate            97.0 %  ≥ 95 %   (32 of 33 tests passed)`, the line every report
    /// prints.
    pub fn line(&self) -> String {
        format!(
            "{} {:<19} {:>9}  {} {:<8} ({})",
            if self.holds { "✓" } else { "✗" },
            self.label,
            self.measured.to_string(),
            self.comparison,
            self.threshold.to_string(),
            self.detail
        )
    }
}

/// The gate's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateReport {
    /// Holds or fails.
    pub verdict: Verdict,
    /// Every check, in the table's order.
    pub checks: Vec<Check>,
}

impl GateReport {
    /// The checks that fail.
    pub fn failing(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.holds)
    }

    /// The check with `id`.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

fn rate_check(
    id: &'static str,
    label: &'static str,
    what: &str,
    counts: Counts,
    threshold: Rate,
) -> Check {
    let ran = counts.ran();
    let detail = if ran == 0 {
        format!("no {what} ran: nothing was proven")
    } else {
        let mut d = format!("{} of {ran} {what} passed", counts.passed);
        if counts.flaky > 0 {
            d.push_str(&format!(", {} flaky", counts.flaky));
        }
        if counts.skipped > 0 {
            d.push_str(&format!(", {} skipped", counts.skipped));
        }
        d
    };
    Check {
        id,
        label,
        measured: Quantity::Ratio {
            num: counts.passed,
            den: ran,
        },
        comparison: "≥",
        threshold: Quantity::Rate(threshold),
        holds: threshold.is_met_by(counts.passed, ran),
        detail,
    }
}

/// Evaluates the gate.
pub fn evaluate(summary: &Summary, thresholds: &Thresholds) -> GateReport {
    let all = summary.counts();
    let critical = summary.critical_counts();
    let mut checks = vec![
        rate_check(
            "pass_rate",
            "pass rate",
            "tests",
            all,
            thresholds.min_pass_rate,
        ),
        rate_check(
            "critical_pass_rate",
            "critical pass rate",
            "critical tests",
            critical,
            thresholds.critical_pass_rate,
        ),
    ];
    let flaky: Vec<&str> = summary
        .tests
        .iter()
        .filter(|t| t.test.critical && t.classification == crate::model::Classification::Flaky)
        .map(|t| t.test.id.as_str())
        .collect();
    checks.push(Check {
        id: "critical_flaky",
        label: "critical flaky",
        measured: Quantity::Count(flaky.len() as u32),
        comparison: "≤",
        threshold: Quantity::Count(thresholds.max_critical_flaky),
        holds: flaky.len() as u32 <= thresholds.max_critical_flaky,
        detail: if flaky.is_empty() {
            format!("over {} run(s)", summary.runs.len())
        } else {
            flaky.join(", ")
        },
    });
    let gate_time = summary.gate_time();
    let session: Duration = summary.session_phases().map(|p| p.elapsed).sum();
    let mut detail = if summary.runs.len() > 1 {
        format!("slowest of {} runs", summary.runs.len())
    } else {
        "one run".to_string()
    };
    if !session.is_zero() {
        detail.push_str(&format!(
            ", incl. {} once per session",
            format_duration(session)
        ));
    }
    checks.push(Check {
        id: "total_time",
        label: "total time",
        measured: Quantity::Duration(gate_time),
        comparison: "≤",
        threshold: Quantity::Duration(thresholds.max_total_time),
        holds: gate_time <= thresholds.max_total_time,
        detail,
    });
    let failed: Vec<String> = summary
        .failed_phases()
        .map(|p| match p.run {
            Some(run) => format!("run {run} {}", p.phase),
            None => p.phase.to_string(),
        })
        .collect();
    let unfinished = summary
        .runs_planned
        .saturating_sub(summary.completed_runs());
    let mut problems = failed.clone();
    if unfinished > 0 {
        problems.push(format!(
            "{unfinished} of {} run(s) did not finish",
            summary.runs_planned
        ));
    }
    checks.push(Check {
        id: "stack",
        label: "stack lifecycle",
        measured: Quantity::Count(failed.len() as u32 + unfinished),
        comparison: "≤",
        threshold: Quantity::Count(0),
        holds: problems.is_empty(),
        detail: if problems.is_empty() {
            format!("{} run(s), every phase succeeded", summary.completed_runs())
        } else {
            format!("failed: {}", problems.join(", "))
        },
    });
    let verdict = if checks.iter().all(|c| c.holds) {
        Verdict::Holds
    } else {
        Verdict::Fails
    };
    GateReport { verdict, checks }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Outcome, Phase, TestCase};
    use crate::summary::tests::{ms, session};

    fn thresholds() -> Thresholds {
        crate::config::E2eConfig::default().thresholds()
    }

    fn tests(n: usize, critical: usize) -> Vec<TestCase> {
        (0..n)
            .map(|i| TestCase::builtin(format!("t{i:03}"), i < critical))
            .collect()
    }

    #[test]
    fn exactly_95_percent_holds() {
        // 19 of 20 pass; the one failure is not critical.
        let s = session(&tests(20, 5), 1, |_, i| {
            if i == 19 {
                Outcome::Failed
            } else {
                Outcome::Passed
            }
        });
        let g = evaluate(&s, &thresholds());
        let c = g.check("pass_rate").unwrap();
        assert!(c.holds, "{}", c.line());
        assert_eq!(c.measured.to_string(), "95.0 %");
        assert_eq!(g.verdict, Verdict::Holds, "{g:#?}");
    }

    #[test]
    fn just_below_95_percent_fails() {
        // 189 of 200 is 94.5 %; 1899 of 2000 is 94.95 % and must not print as 95.0 %.
        let s = session(&tests(200, 5), 1, |_, i| {
            if i >= 189 {
                Outcome::Failed
            } else {
                Outcome::Passed
            }
        });
        let g = evaluate(&s, &thresholds());
        assert!(!g.check("pass_rate").unwrap().holds);
        assert_eq!(g.verdict, Verdict::Fails);
        let s = session(&tests(2000, 5), 1, |_, i| {
            if i >= 1899 {
                Outcome::Failed
            } else {
                Outcome::Passed
            }
        });
        let c = evaluate(&s, &thresholds())
            .check("pass_rate")
            .unwrap()
            .clone();
        assert!(!c.holds);
        assert_eq!(c.measured.to_string(), "94.9 %");
        assert_eq!(c.detail, "1899 of 2000 tests passed");
    }

    #[test]
    fn skipped_tests_are_not_in_the_denominator() {
        // 19 passed, 1 failed, 5 skipped: 19 / 20 = 95 % holds (19 / 25 would not).
        let s = session(&tests(25, 1), 1, |_, i| match i {
            19 => Outcome::Failed,
            20.. => Outcome::Skipped,
            _ => Outcome::Passed,
        });
        let c = evaluate(&s, &thresholds())
            .check("pass_rate")
            .unwrap()
            .clone();
        assert!(c.holds, "{}", c.line());
        assert_eq!(c.detail, "19 of 20 tests passed, 5 skipped");
    }

    #[test]
    fn a_flaky_critical_test_fails_the_gate() {
        // 40 tests, 3 runs; one critical test fails in run 2 only: the pass rate (39/40) holds,
        // but the critical path was not proven.
        let s = session(&tests(40, 4), 3, |run, i| {
            if i == 2 && run == 2 {
                Outcome::Failed
            } else {
                Outcome::Passed
            }
        });
        let g = evaluate(&s, &thresholds());
        assert!(g.check("pass_rate").unwrap().holds);
        let flaky = g.check("critical_flaky").unwrap();
        assert!(!flaky.holds);
        assert_eq!(flaky.measured, Quantity::Count(1));
        assert_eq!(flaky.detail, "builtin::t002");
        assert!(!g.check("critical_pass_rate").unwrap().holds);
        assert_eq!(g.verdict, Verdict::Fails);
        // Allowing one flaky critical test still leaves the critical pass rate failing.
        let lenient = Thresholds {
            max_critical_flaky: 1,
            critical_pass_rate: Rate::from_ppm(750_000),
            ..thresholds()
        };
        let g = evaluate(&s, &lenient);
        assert_eq!(g.verdict, Verdict::Holds, "{g:#?}");
    }

    #[test]
    fn a_flaky_non_critical_test_only_costs_pass_rate() {
        let s = session(&tests(40, 4), 2, |run, i| {
            if i == 30 && run == 1 {
                Outcome::Failed
            } else {
                Outcome::Passed
            }
        });
        let g = evaluate(&s, &thresholds());
        assert!(g.check("critical_flaky").unwrap().holds);
        assert_eq!(
            g.check("pass_rate").unwrap().detail,
            "39 of 40 tests passed, 1 flaky"
        );
        assert_eq!(g.verdict, Verdict::Holds);
    }

    #[test]
    fn time_and_empty_runs() {
        // Run 1 takes 60 s in the fixture; a 59 s budget fails, 60 s holds.
        let s = session(&tests(3, 1), 1, |_, _| Outcome::Passed);
        let tight = Thresholds {
            max_total_time: ms(59_999),
            ..thresholds()
        };
        assert!(!evaluate(&s, &tight).check("total_time").unwrap().holds);
        let exact = Thresholds {
            max_total_time: ms(60_000),
            ..thresholds()
        };
        assert!(evaluate(&s, &exact).check("total_time").unwrap().holds);
        // No test ran at all: nothing was proven.
        let s = session(&[], 1, |_, _| Outcome::Passed);
        let g = evaluate(&s, &thresholds());
        assert!(!g.check("pass_rate").unwrap().holds);
        assert_eq!(g.check("pass_rate").unwrap().measured.to_string(), "n/a");
        assert_eq!(g.verdict, Verdict::Fails);
    }

    #[test]
    fn a_failed_phase_or_unfinished_run_fails_the_stack_check() {
        let mut s = session(&tests(3, 1), 2, |_, _| Outcome::Passed);
        assert!(evaluate(&s, &thresholds()).check("stack").unwrap().holds);
        s.phases.push(crate::summary::PhaseRecord {
            run: Some(2),
            phase: Phase::Healthy,
            elapsed: ms(120_000),
            error: Some("risk-manager not healthy after 120s".into()),
        });
        let c = evaluate(&s, &thresholds()).check("stack").unwrap().clone();
        assert!(!c.holds);
        assert_eq!(c.detail, "failed: run 2 healthy");
        s.phases.clear();
        s.runs_planned = 3;
        let c = evaluate(&s, &thresholds()).check("stack").unwrap().clone();
        assert!(!c.holds);
        assert_eq!(c.detail, "failed: 1 of 3 run(s) did not finish");
    }

    #[test]
    fn rates_are_exact_and_print_without_noise() {
        assert!(Rate::from_ppm(950_000).is_met_by(19, 20));
        assert!(!Rate::from_ppm(950_000).is_met_by(18, 19));
        assert!(Rate::ONE.is_met_by(7, 7));
        assert!(!Rate::ONE.is_met_by(6, 7));
        assert!(!Rate::from_ppm(0).is_met_by(0, 0));
        assert_eq!(Rate::from_fraction(0.95), Some(Rate::from_ppm(950_000)));
        assert_eq!(Rate::from_fraction(1.5), None);
        assert_eq!(Rate::from_fraction(0.123_456_7), None);
        assert_eq!(Rate::from_ppm(950_000).to_string(), "95 %");
        assert_eq!(Rate::from_ppm(995_000).to_string(), "99.5 %");
        assert_eq!(Rate::ONE.to_string(), "100 %");
    }
}
