//! The Markdown report, for a pull-request comment.

use std::fmt::Write;

use crate::audit::Audit;
use crate::gate;
use crate::model::Level;
use crate::report::Context;

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Renders the Markdown report.
pub fn render(audit: &Audit, ctx: &Context<'_>) -> String {
    let mut out = String::new();
    let counts = gate::counts(&audit.findings);
    let _ = writeln!(out, "### audit-images: **{}**\n", audit.verdict);
    let _ = writeln!(
        out,
        "Project `{}`, audit date {}: {} image uses, {} scanner reports — **{} blocking**, {} warnings, {} notes.\n",
        audit.project,
        audit.date,
        audit.images.len(),
        audit.reports.len(),
        counts.block,
        counts.warn,
        counts.note
    );
    let mut current: Option<&str> = None;
    for f in &audit.findings {
        if current != Some(f.image.as_str()) {
            current = Some(f.image.as_str());
            let _ = writeln!(out, "\n#### `{}`\n", f.image);
            let _ = writeln!(out, "| level | rule | finding | fix | where |");
            let _ = writeln!(out, "|---|---|---|---|---|");
        }
        let level = match f.level {
            Level::Block => "🔴 block",
            Level::Warn => "🟡 warn",
            Level::Note => "⚪ note",
        };
        let place = f
            .loc
            .map(|l| format!("`{}`", ctx.display(l)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {level} | `{}` | {} | {} | {place} |",
            f.code,
            cell(&f.message),
            cell(f.suggestion.as_deref().unwrap_or(""))
        );
    }
    if audit.findings.is_empty() {
        let _ = writeln!(out, "No findings.");
    }
    out
}
