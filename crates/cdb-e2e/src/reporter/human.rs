//! The human summary, for a terminal or a CI log: the verdict line, one table row per test
//! (worst first: failed, flaky, skipped, passed), the phase timings, then the gate — each
//! threshold beside its measured value, so a failed gate says by how much.

use std::fmt::Write;
use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};

use crate::duration::format_duration;
use crate::gate::Verdict;
use crate::model::{Classification, Outcome, Phase};
use crate::reporter::{Results, one_line};
use crate::summary::{Summary, TestSummary};

/// The human report.
#[derive(Debug, Clone, Copy, Default)]
pub struct HumanReport {
    /// ANSI colours on the verdict and gate lines (the caller decides: a terminal, no
    /// `NO_COLOR`). The table itself is never coloured, so that it aligns everywhere.
    pub color: bool,
}

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Failed, flaky, skipped, passed; critical first within each; then by id.
pub(crate) fn worst_first(summary: &Summary) -> Vec<&TestSummary> {
    let rank = |c: Classification| match c {
        Classification::Failed => 0,
        Classification::Flaky => 1,
        Classification::Skipped => 2,
        Classification::Passed => 3,
    };
    let mut tests: Vec<&TestSummary> = summary.tests.iter().collect();
    tests.sort_by(|a, b| {
        (rank(a.classification), !a.test.critical, &a.test.id).cmp(&(
            rank(b.classification),
            !b.test.critical,
            &b.test.id,
        ))
    });
    tests
}

/// The first line of the message of the last failed attempt (else of the last attempt).
pub(crate) fn note(t: &TestSummary) -> String {
    let failed = t
        .attempts
        .iter()
        .rev()
        .find(|a| a.attempt.outcome == Outcome::Failed);
    let attempt = failed.or(t.attempts.last());
    let mut note = attempt
        .and_then(|a| a.attempt.message.as_deref())
        .map(|m| one_line(m, 80))
        .unwrap_or_default();
    if let Some(a) = failed
        && t.attempts.len() > 1
    {
        note = format!("run {}: {note}", a.run);
    }
    let retries: u32 = t.attempts.iter().map(|a| a.attempt.retries).sum();
    if retries > 0 {
        if !note.is_empty() {
            note.push(' ');
        }
        note.push_str(&format!("(retried {retries}× within runs)"));
    }
    note
}

/// `min / median / max` columns, `–` when nothing ran.
pub(crate) fn stats(t: &TestSummary) -> [String; 3] {
    match t.durations {
        Some(d) => [d.min, d.median, d.max].map(format_duration),
        None => ["–".to_string(), "–".to_string(), "–".to_string()],
    }
}

/// `passed/ran` over runs, e.g. `2/3`.
pub(crate) fn runs_cell(t: &TestSummary) -> String {
    let ran = t.count(Outcome::Passed) + t.count(Outcome::Failed);
    format!("{}/{ran}", t.count(Outcome::Passed))
}

/// Per phase: how many runs had it, the median and the slowest time, failures.
pub(crate) fn phase_lines(summary: &Summary) -> Vec<String> {
    let mut lines = Vec::new();
    for phase in Phase::ALL {
        let records: Vec<_> = summary.phases.iter().filter(|p| p.phase == phase).collect();
        if records.is_empty() {
            continue;
        }
        let mut times: Vec<Duration> = records.iter().map(|p| p.elapsed).collect();
        times.sort();
        let failed = records.iter().filter(|p| p.error.is_some()).count();
        let mut line = if records.len() == 1 {
            format!("{phase} {}", format_duration(times[0]))
        } else {
            format!(
                "{phase} median {} max {} over {}",
                format_duration(times[times.len() / 2]),
                format_duration(times[times.len() - 1]),
                records.len()
            )
        };
        if failed > 0 {
            line.push_str(&format!(", {failed} FAILED"));
        }
        lines.push(line);
    }
    lines
}

impl HumanReport {
    /// Renders the report.
    pub fn render(&self, results: &Results<'_>) -> String {
        let s = results.summary;
        let mut out = String::new();
        let verdict = match results.gate.verdict {
            Verdict::Holds => paint("HOLDS", "1;32", self.color),
            Verdict::Fails => paint("FAILS", "1;31", self.color),
        };
        let c = s.counts();
        let commit = s
            .commit
            .as_deref()
            .map(|c| format!(", commit {c}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "e2e: gate {verdict} — project {}, {} run(s){commit}, {}: {} tests, {} passed, {} failed, {} flaky, {} skipped",
            s.project,
            s.runs.len(),
            format_duration(s.wall_time),
            c.tests,
            c.passed,
            c.failed,
            c.flaky,
            c.skipped
        );
        if !s.tests.is_empty() {
            let mut table = Table::new();
            table.load_style(UTF8_FULL_CONDENSED);
            table.set_header(vec![
                "test", "critical", "result", "passed", "min", "median", "max", "note",
            ]);
            for t in worst_first(s) {
                let [min, median, max] = stats(t);
                table.add_row(vec![
                    t.test.id.clone(),
                    if t.test.critical { "yes" } else { "" }.to_string(),
                    t.classification.to_string().to_uppercase(),
                    runs_cell(t),
                    min,
                    median,
                    max,
                    note(t),
                ]);
            }
            for i in 3..=6 {
                if let Some(col) = table.column_mut(i) {
                    col.set_cell_alignment(CellAlignment::Right);
                }
            }
            let _ = writeln!(out, "\n{}", table.trim_fmt());
        }
        let phases = phase_lines(s);
        if !phases.is_empty() {
            let _ = writeln!(out, "\nphases: {}", phases.join(" · "));
        }
        for (run, message) in &s.notices {
            let place = run.map(|r| format!("run {r}: ")).unwrap_or_default();
            let _ = writeln!(out, "note: {place}{message}");
        }
        let _ = writeln!(out, "\ngate: {verdict}");
        for check in &results.gate.checks {
            let line = check.line();
            let line = if check.holds {
                line
            } else {
                paint(&line, "31", self.color)
            };
            let _ = writeln!(out, "  {line}");
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
        let text = HumanReport { color: false }.render(&Results {
            summary: &summary,
            gate: &gate,
        });
        insta::assert_snapshot!(text);
    }

    #[test]
    fn colour_only_when_asked() {
        let (summary, gate) = fixtures::session();
        let r = Results {
            summary: &summary,
            gate: &gate,
        };
        assert!(!HumanReport { color: false }.render(&r).contains('\x1b'));
        assert!(
            HumanReport { color: true }
                .render(&r)
                .contains("\x1b[1;31mFAILS")
        );
    }
}
