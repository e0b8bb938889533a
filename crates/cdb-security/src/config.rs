//! The `[security]` section of `cdb.toml`, owned by this crate. Every key has a default that
//! makes the repository work with no edits.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::model::Level;

/// `[security]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// The version and end-of-life policy.
    pub policy: PathBuf,
    /// cdb's exceptions file.
    pub exceptions: PathBuf,
    /// The first-seen state file, committed beside the exceptions.
    pub first_seen: PathBuf,
    /// The generated exceptions page (the roadmap's B-05).
    pub exceptions_markdown: PathBuf,
    /// OpenVEX documents whose `not_affected` statements count as exceptions.
    pub openvex: Vec<PathBuf>,
    /// `.trivyignore.yaml` files whose entries count as exceptions.
    pub trivyignore: Vec<PathBuf>,
    /// Scanner reports read by default (more with `--report`).
    pub reports: Vec<PathBuf>,
    /// A HIGH vulnerability with a fix blocks once it has been known this many days.
    pub high_block_after_days: i64,
    /// Rule levels that differ from the defaults, e.g. `"pin::floating" = "block"`.
    pub levels: BTreeMap<String, LevelSetting>,
}

/// A level as written in `cdb.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LevelSetting {
    /// Fails the gate.
    Block,
    /// Fails only with `--strict`.
    Warn,
    /// Listed only.
    Note,
    /// Not reported at all.
    Allow,
}

impl LevelSetting {
    /// The level, or `None` for `allow`.
    pub fn level(self) -> Option<Level> {
        match self {
            LevelSetting::Block => Some(Level::Block),
            LevelSetting::Warn => Some(Level::Warn),
            LevelSetting::Note => Some(Level::Note),
            LevelSetting::Allow => None,
        }
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            policy: PathBuf::from("security/policy.toml"),
            exceptions: PathBuf::from("security/cve-exceptions.toml"),
            first_seen: PathBuf::from("security/cve-first-seen.toml"),
            exceptions_markdown: PathBuf::from("docs/security/CVE_EXCEPTIONS.md"),
            openvex: Vec::new(),
            trivyignore: Vec::new(),
            reports: Vec::new(),
            high_block_after_days: 14,
            levels: BTreeMap::new(),
        }
    }
}
