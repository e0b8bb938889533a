//! The history: one JSON line per session appended to `[e2e].history`
//! (`.cdb/e2e-history.jsonl`). It is the evidence the Kubernetes gate reads later (the last two
//! weeks of sessions: how often the gate held, which critical tests were flaky), so each record
//! is self-contained — timestamp (UTC), commit, counts, the gate's checks and every test's
//! outcomes — and typed ([`HistoryRecord`]) for the reader.
//!
//! A record is appended with **one** `write` on a file opened with `O_APPEND`: concurrent
//! sessions never interleave, and a crash leaves either the whole line or none. A file that does
//! not end in a newline (torn by something else) gets one first, so the new record is still a
//! line of its own.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::duration::millis;
use crate::errors::E2eError;
use crate::gate::Verdict;
use crate::model::{Classification, Outcome, SuiteRef};
use crate::reporter::Results;
use crate::summary::Counts;

/// The schema identifier of a history record.
pub const SCHEMA: &str = "cdb.e2e-history/v1";

/// One session in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRecord {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// When the session started (UTC).
    pub timestamp: Timestamp,
    /// The git commit tested, when the caller knew it.
    pub commit: Option<String>,
    /// The isolated stack's Compose project name.
    pub project: String,
    /// Runs planned.
    pub runs_planned: u32,
    /// Runs that finished.
    pub runs_completed: u32,
    /// The gate's verdict.
    pub verdict: Verdict,
    /// Every check of the gate.
    pub checks: Vec<HistoryCheck>,
    /// All tests by classification.
    pub counts: Counts,
    /// Critical tests by classification.
    pub critical: Counts,
    /// The session's wall time.
    pub wall_time_ms: u64,
    /// What the time gate measured.
    pub gate_time_ms: u64,
    /// Every test.
    pub tests: Vec<HistoryTest>,
}

/// One check of the gate, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryCheck {
    /// `pass_rate`, `critical_pass_rate`, `critical_flaky`, `total_time`, `stack`.
    pub id: String,
    /// Whether it held.
    pub holds: bool,
    /// The measured value (fraction, count or milliseconds; `null` when nothing ran).
    pub measured: serde_json::Value,
    /// The threshold, in the same unit.
    pub threshold: serde_json::Value,
}

/// One test, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryTest {
    /// Its id.
    pub id: String,
    /// Its suite.
    pub suite: SuiteRef,
    /// Whether it is critical.
    pub critical: bool,
    /// Its classification across the session's runs.
    pub classification: Classification,
    /// Its outcome in each run, in run order.
    pub outcomes: Vec<Outcome>,
}

impl HistoryRecord {
    /// The record of a finished session that started at `timestamp` (normally
    /// `summary.started_at`, which the runner set).
    pub fn new(results: &Results<'_>, timestamp: Timestamp) -> Self {
        let s = results.summary;
        HistoryRecord {
            schema: SCHEMA.into(),
            timestamp,
            commit: s.commit.clone(),
            project: s.project.clone(),
            runs_planned: s.runs_planned,
            runs_completed: s.completed_runs(),
            verdict: results.gate.verdict,
            checks: results
                .gate
                .checks
                .iter()
                .map(|c| HistoryCheck {
                    id: c.id.into(),
                    holds: c.holds,
                    measured: super::json::quantity(c.measured),
                    threshold: super::json::quantity(c.threshold),
                })
                .collect(),
            counts: s.counts(),
            critical: s.critical_counts(),
            wall_time_ms: millis(s.wall_time),
            gate_time_ms: millis(s.gate_time()),
            tests: s
                .tests
                .iter()
                .map(|t| HistoryTest {
                    id: t.test.id.clone(),
                    suite: t.test.suite.clone(),
                    critical: t.test.critical,
                    classification: t.classification,
                    outcomes: t.attempts.iter().map(|a| a.attempt.outcome).collect(),
                })
                .collect(),
        }
    }
}

/// Appends `record` to the history file at `path`, creating the file and its directory.
pub fn append(path: &Path, record: &HistoryRecord) -> Result<(), E2eError> {
    let mut line = serde_json::to_string(record).map_err(|e| E2eError::Render {
        format: "history",
        message: e.to_string(),
    })?;
    line.push('\n');
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| E2eError::io("create directory", dir, e))?;
    }
    let io = |e| E2eError::io("append to", path, e);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .map_err(io)?;
    if file.metadata().map_err(io)?.len() > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::End(-1)).map_err(io)?;
        file.read_exact(&mut last).map_err(io)?;
        if last[0] != b'\n' {
            line.insert(0, '\n');
        }
    }
    // One write of the whole line: with O_APPEND it lands at the end in one piece.
    let written = file.write(line.as_bytes()).map_err(io)?;
    if written != line.len() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::WriteZero,
            format!("only {written} of {} bytes were written", line.len()),
        )));
    }
    file.sync_data().map_err(io)
}

/// Reads every record of the history file (none when it does not exist yet). Blank lines are
/// skipped; any other line that is not a record is an error with its line number, since a gate
/// must not silently drop evidence.
pub fn read(path: &Path) -> Result<Vec<HistoryRecord>, E2eError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(E2eError::io("read", path, e)),
    };
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: HistoryRecord = serde_json::from_str(line).map_err(|e| E2eError::History {
            path: path.to_path_buf(),
            line: i + 1,
            message: e.to_string(),
        })?;
        if record.schema != SCHEMA {
            return Err(E2eError::History {
                path: path.to_path_buf(),
                line: i + 1,
                message: format!("schema {:?}, expected {SCHEMA:?}", record.schema),
            });
        }
        records.push(record);
    }
    Ok(records)
}

/// The records of sessions that started at or after `since` (e.g. two weeks before the gate's
/// date), oldest first.
pub fn read_since(path: &Path, since: Timestamp) -> Result<Vec<HistoryRecord>, E2eError> {
    let mut records = read(path)?;
    records.retain(|r| r.timestamp >= since);
    records.sort_by_key(|r| r.timestamp);
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporter::fixtures;

    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "cdb-e2e-{name}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn record(at: &str) -> HistoryRecord {
        let (summary, gate) = fixtures::session();
        HistoryRecord::new(
            &Results {
                summary: &summary,
                gate: &gate,
            },
            at.parse().unwrap(),
        )
    }

    #[test]
    fn appends_one_line_per_session_and_reads_them_back() {
        let dir = TempDir::new("history");
        let path = dir.0.join(".cdb/e2e-history.jsonl");
        let first = record("2026-11-20T08:00:00Z");
        let second = record("2026-12-03T10:00:00Z");
        append(&path, &first).unwrap();
        append(&path, &second).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with('\n'));
        let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(line["schema"], SCHEMA);
        assert_eq!(line["timestamp"], "2026-11-20T08:00:00Z");
        assert_eq!(line["commit"], "f105d2a");
        assert_eq!(line["verdict"], "fails");
        assert_eq!(line["counts"]["flaky"], 1);
        assert_eq!(
            line["tests"][1],
            serde_json::json!({
                "id": "builtin::crash_recovery",
                "suite": "builtin",
                "critical": true,
                "classification": "flaky",
                "outcomes": ["passed", "failed", "passed"],
            })
        );
        assert_eq!(read(&path).unwrap(), vec![first.clone(), second.clone()]);
        let recent = read_since(&path, "2026-11-26T00:00:00Z".parse().unwrap()).unwrap();
        assert_eq!(recent, vec![second]);
    }

    #[test]
    fn a_torn_last_line_does_not_swallow_the_next_record() {
        let dir = TempDir::new("torn");
        let path = dir.0.join("h.jsonl");
        std::fs::create_dir_all(&dir.0).unwrap();
        std::fs::write(&path, "{\"schema\":\"cdb.e2e-hist").unwrap();
        append(&path, &record("2026-12-03T10:00:00Z")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(serde_json::from_str::<HistoryRecord>(lines[1]).is_ok());
        // The torn line itself is reported with its number, not skipped.
        let e = read(&path).unwrap_err();
        assert!(matches!(e, E2eError::History { line: 1, .. }), "{e}");
    }

    #[test]
    fn a_missing_history_is_empty() {
        let dir = TempDir::new("missing");
        assert_eq!(read(&dir.0.join("none.jsonl")).unwrap(), vec![]);
    }
}
