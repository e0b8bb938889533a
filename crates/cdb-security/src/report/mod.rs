//! Reporters: one type per output format, each turning an [`Audit`](crate::audit::Audit) into
//! text. The human report is grouped by image, worst first; JSON has a versioned schema; Markdown
//! is for a pull-request comment; SARIF 2.1.0 is for code scanning.

use std::path::Path;

use cdb_core::source::{Location, SourceMap};

pub mod human;
pub mod json;
pub mod markdown;
pub mod sarif;

/// The output formats of `audit-images`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For a terminal or a CI log.
    Human,
    /// Machine-readable, schema `cdb.audit-images/v1`.
    Json,
    /// A pull-request comment.
    Markdown,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
}

/// What every reporter needs besides the audit.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The files locations point into.
    pub sources: &'a SourceMap,
    /// Paths are shown relative to this directory (the repository root).
    pub root: &'a Path,
    /// Use ANSI colours (human report only; the caller decides: a terminal and no `NO_COLOR`).
    pub color: bool,
}

impl Context<'_> {
    /// The path of a location's file, relative to the root when it is inside it.
    pub fn relative_path(&self, loc: Location) -> String {
        let path = self.sources.path(loc.file);
        path.strip_prefix(self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// `path:line:col` with the path relative to the root.
    pub fn display(&self, loc: Location) -> String {
        format!("{}:{}:{}", self.relative_path(loc), loc.line, loc.col)
    }
}

/// Renders the audit in `format`.
pub fn render(audit: &crate::audit::Audit, format: Format, ctx: &Context<'_>) -> String {
    match format {
        Format::Human => human::render(audit, ctx),
        Format::Json => json::render(audit, ctx),
        Format::Markdown => markdown::render(audit, ctx),
        Format::Sarif => sarif::render(audit, ctx),
    }
}
