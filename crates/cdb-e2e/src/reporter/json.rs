//! `--json FILE`: the machine-readable report. Its schema is versioned — `schema` is
//! `cdb.e2e/v1`; removing or renaming a field bumps it, adding one does not — and documented in
//! `docs/testing/E2E_JSON.md`. Durations are whole milliseconds (`*_ms`), rates are fractions.

use serde_json::{Value, json};

use crate::duration::millis;
use crate::gate::{Check, Quantity};
use crate::reporter::Results;
use crate::summary::Counts;

/// The schema identifier of this output.
pub const SCHEMA: &str = "cdb.e2e/v1";

/// The JSON report.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonReport;

pub(crate) fn quantity(q: Quantity) -> Value {
    match q {
        Quantity::Ratio { num, den } if den > 0 => json!(f64::from(num) / f64::from(den)),
        Quantity::Ratio { .. } => Value::Null,
        Quantity::Rate(r) => json!(r.as_f64()),
        Quantity::Count(n) => json!(n),
        Quantity::Duration(d) => json!(millis(d)),
    }
}

pub(crate) fn unit(q: Quantity) -> &'static str {
    match q {
        Quantity::Ratio { .. } | Quantity::Rate(_) => "fraction",
        Quantity::Count(_) => "count",
        Quantity::Duration(_) => "ms",
    }
}

pub(crate) fn check(c: &Check) -> Value {
    let mut v = json!({
        "id": c.id,
        "holds": c.holds,
        "measured": quantity(c.measured),
        "comparison": match c.comparison { "≥" => ">=", "≤" => "<=", other => other },
        "threshold": quantity(c.threshold),
        "unit": unit(c.threshold),
        "detail": c.detail,
    });
    if let Quantity::Ratio { num, den } = c.measured {
        v["passed"] = json!(num);
        v["of"] = json!(den);
    }
    v
}

pub(crate) fn counts(c: Counts) -> Value {
    json!({
        "tests": c.tests,
        "passed": c.passed,
        "failed": c.failed,
        "flaky": c.flaky,
        "skipped": c.skipped,
    })
}

impl JsonReport {
    /// Renders the report (pretty-printed, with a final newline).
    pub fn render(&self, results: &Results<'_>) -> String {
        let s = results.summary;
        let phases: Vec<Value> = s
            .phases
            .iter()
            .map(|p| {
                json!({
                    "run": p.run,
                    "phase": p.phase,
                    "elapsed_ms": millis(p.elapsed),
                    "ok": p.error.is_none(),
                    "error": p.error,
                })
            })
            .collect();
        let runs: Vec<Value> = s
            .runs
            .iter()
            .map(|r| {
                json!({
                    "run": r.run,
                    "finished": r.elapsed.is_some(),
                    "elapsed_ms": r.elapsed.map(millis),
                })
            })
            .collect();
        let tests: Vec<Value> = s
            .tests
            .iter()
            .map(|t| {
                let attempts: Vec<Value> = t
                    .attempts
                    .iter()
                    .map(|a| {
                        json!({
                            "run": a.run,
                            "outcome": a.attempt.outcome,
                            "duration_ms": millis(a.attempt.duration),
                            "message": a.attempt.message,
                            "stdout": a.attempt.stdout,
                            "stderr": a.attempt.stderr,
                            "retries": a.attempt.retries,
                        })
                    })
                    .collect();
                json!({
                    "id": t.test.id,
                    "name": t.test.name,
                    "suite": t.test.suite,
                    "critical": t.test.critical,
                    "classification": t.classification,
                    "durations_ms": t.durations.map(|d| json!({
                        "min": millis(d.min),
                        "median": millis(d.median),
                        "max": millis(d.max),
                    })),
                    "attempts": attempts,
                })
            })
            .collect();
        let notices: Vec<Value> = s
            .notices
            .iter()
            .map(|(run, message)| json!({"run": run, "message": message}))
            .collect();
        let doc = json!({
            "schema": SCHEMA,
            "started_at": s.started_at.map(|t| t.to_string()),
            "project": s.project,
            "commit": s.commit,
            "verdict": results.gate.verdict,
            "runs": {
                "planned": s.runs_planned,
                "completed": s.completed_runs(),
                "list": runs,
            },
            "wall_time_ms": millis(s.wall_time),
            "gate_time_ms": millis(s.gate_time()),
            "gate": results.gate.checks.iter().map(check).collect::<Vec<_>>(),
            "counts": counts(s.counts()),
            "critical": counts(s.critical_counts()),
            "phases": phases,
            "tests": tests,
            "notices": notices,
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporter::fixtures;

    #[test]
    fn snapshot() {
        let (summary, gate) = fixtures::session();
        let text = JsonReport.render(&Results {
            summary: &summary,
            gate: &gate,
        });
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["schema"], SCHEMA);
        assert_eq!(doc["verdict"], "fails");
        insta::assert_snapshot!(text);
    }
}
