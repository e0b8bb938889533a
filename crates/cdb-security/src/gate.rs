//! The gate: findings → BLOCK, WARN or PASS. Which rules block is configurable (`[security.levels]`
//! in `cdb.toml`); the defaults are the roadmap's.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::config::LevelSetting;
use crate::model::{Finding, Level};

/// The audit's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// Nothing to fix.
    Pass,
    /// Something should be fixed; CI passes unless `--strict`.
    Warn,
    /// Something must be fixed now; CI fails.
    Block,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Block => "BLOCK",
        })
    }
}

impl Verdict {
    /// Whether CI should fail: BLOCK always, WARN with `strict`.
    pub fn fails(self, strict: bool) -> bool {
        match self {
            Verdict::Block => true,
            Verdict::Warn => strict,
            Verdict::Pass => false,
        }
    }
}

/// Applies the configured level overrides (dropping `allow`ed rules).
pub fn apply_levels(
    findings: Vec<Finding>,
    levels: &BTreeMap<String, LevelSetting>,
) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut f| match levels.get(f.code) {
            None => Some(f),
            Some(setting) => setting.level().map(|level| {
                f.level = level;
                f
            }),
        })
        .collect()
}

/// The verdict of a set of findings.
pub fn verdict(findings: &[Finding]) -> Verdict {
    match findings.iter().map(|f| f.level).max() {
        Some(Level::Block) => Verdict::Block,
        Some(Level::Warn) => Verdict::Warn,
        _ => Verdict::Pass,
    }
}

/// Counts per level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Blocking findings.
    pub block: usize,
    /// Warnings.
    pub warn: usize,
    /// Notes.
    pub note: usize,
}

/// Counts the findings per level.
pub fn counts(findings: &[Finding]) -> Counts {
    let mut c = Counts::default();
    for f in findings {
        match f.level {
            Level::Block => c.block += 1,
            Level::Warn => c.warn += 1,
            Level::Note => c.note += 1,
        }
    }
    c
}
