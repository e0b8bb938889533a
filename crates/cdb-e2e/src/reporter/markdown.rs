//! `--markdown FILE`: the report as a pull-request comment or a CI job summary
//! (`$GITHUB_STEP_SUMMARY`): the verdict, the gate table, the tests that need attention, and
//! every test folded away below.

use std::fmt::Write;

use crate::duration::format_duration;
use crate::gate::Verdict;
use crate::model::Classification;
use crate::reporter::Results;
use crate::reporter::human::{note, phase_lines, runs_cell, stats, worst_first};

/// The Markdown report.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownReport;

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn result(c: Classification) -> &'static str {
    match c {
        Classification::Passed => "✅ passed",
        Classification::Failed => "❌ failed",
        Classification::Flaky => "⚠️ flaky",
        Classification::Skipped => "⏭️ skipped",
    }
}

impl MarkdownReport {
    /// Renders the report.
    pub fn render(&self, results: &Results<'_>) -> String {
        let s = results.summary;
        let mut out = String::new();
        let verdict = match results.gate.verdict {
            Verdict::Holds => "✅ holds",
            Verdict::Fails => "❌ fails",
        };
        let _ = writeln!(out, "### E2E gate: **{verdict}**\n");
        let c = s.counts();
        let commit = s
            .commit
            .as_deref()
            .map(|c| format!(", commit `{c}`"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "Project `{}`{commit}: {} run(s) in {} — {} tests: {} passed, **{} failed**, **{} flaky**, {} skipped.\n",
            s.project,
            s.runs.len(),
            format_duration(s.wall_time),
            c.tests,
            c.passed,
            c.failed,
            c.flaky,
            c.skipped
        );
        let _ = writeln!(out, "| check | measured | threshold | detail |");
        let _ = writeln!(out, "|---|---:|---:|---|");
        for check in &results.gate.checks {
            let _ = writeln!(
                out,
                "| {} {} | {} | {} {} | {} |",
                if check.holds { "✅" } else { "❌" },
                check.label,
                check.measured,
                check.comparison,
                check.threshold,
                cell(&check.detail)
            );
        }
        let row = |t: &crate::summary::TestSummary| {
            let [min, median, max] = stats(t);
            format!(
                "| `{}` | {} | {} | {} | {min} / {median} / {max} | {} |",
                t.test.id,
                if t.test.critical { "yes" } else { "" },
                result(t.classification),
                runs_cell(t),
                cell(&note(t))
            )
        };
        let header = "| test | critical | result | passed | min / median / max | note |\n|---|---|---|---:|---:|---|";
        let ordered = worst_first(s);
        let attention: Vec<_> = ordered
            .iter()
            .filter(|t| {
                matches!(
                    t.classification,
                    Classification::Failed | Classification::Flaky
                )
            })
            .collect();
        if !attention.is_empty() {
            let _ = writeln!(out, "\n#### Failed and flaky\n\n{header}");
            for t in attention {
                let _ = writeln!(out, "{}", row(t));
            }
        }
        let phases = phase_lines(s);
        if !phases.is_empty() {
            let _ = writeln!(out, "\nPhases: {}.", phases.join(" · "));
        }
        for (run, message) in &s.notices {
            let place = run.map(|r| format!("run {r}: ")).unwrap_or_default();
            let _ = writeln!(out, "\n> note: {place}{}", cell(message));
        }
        if !ordered.is_empty() {
            let _ = writeln!(
                out,
                "\n<details><summary>All {} tests</summary>\n\n{header}",
                ordered.len()
            );
            for t in &ordered {
                let _ = writeln!(out, "{}", row(t));
            }
            let _ = writeln!(out, "\n</details>");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporter::fixtures;

    #[test]
    fn snapshot() {
        let (summary, gate) = fixtures::session();
        let text = MarkdownReport.render(&Results {
            summary: &summary,
            gate: &gate,
        });
        insta::assert_snapshot!(text);
    }
}
