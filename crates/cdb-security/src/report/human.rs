//! The human report: a verdict line, then the findings grouped by image, worst image first.

use std::fmt::Write;

use crate::audit::Audit;
use crate::gate::{self, Verdict};
use crate::model::Level;
use crate::report::Context;

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn level_tag(level: Level, color: bool) -> String {
    match level {
        Level::Block => paint("BLOCK", "1;31", color),
        Level::Warn => paint("WARN ", "33", color),
        Level::Note => paint("NOTE ", "2", color),
    }
}

/// Renders the human report.
pub fn render(audit: &Audit, ctx: &Context<'_>) -> String {
    let mut out = String::new();
    let counts = gate::counts(&audit.findings);
    let verdict = match audit.verdict {
        Verdict::Block => paint("BLOCK", "1;31", ctx.color),
        Verdict::Warn => paint("WARN", "1;33", ctx.color),
        Verdict::Pass => paint("PASS", "1;32", ctx.color),
    };
    let _ = writeln!(
        out,
        "audit-images: {verdict} — project {}, {} image uses, {} reports, audit date {} ({} block, {} warn, {} note)",
        audit.project,
        audit.images.len(),
        audit.reports.len(),
        audit.date,
        counts.block,
        counts.warn,
        counts.note
    );
    let mut current: Option<&str> = None;
    for f in &audit.findings {
        if current != Some(f.image.as_str()) {
            current = Some(f.image.as_str());
            let mut uses: Vec<String> = Vec::new();
            for use_ in audit.images.iter().filter(|i| i.reference == f.image) {
                let place = ctx.display(use_.loc);
                if !uses.contains(&place) {
                    uses.push(place);
                }
            }
            let place = if uses.is_empty() {
                String::new()
            } else {
                format!("  ({})", uses.join(", "))
            };
            let _ = writeln!(out, "\n{}{place}", paint(&f.image, "1", ctx.color));
        }
        let _ = writeln!(
            out,
            "  {} {:<26} {}",
            level_tag(f.level, ctx.color),
            f.code,
            f.message
        );
        if let Some(s) = &f.suggestion {
            let _ = writeln!(out, "        {} {s}", paint("fix:", "36", ctx.color));
        }
        // The image's places are in its heading; other locations (an exceptions file) here.
        if let Some(loc) = f.loc
            && !audit
                .images
                .iter()
                .any(|i| i.reference == f.image && i.loc == loc)
        {
            let _ = writeln!(out, "        at {}", ctx.display(loc));
        }
    }
    if audit.findings.is_empty() {
        let _ = writeln!(out, "\nno findings");
    }
    out
}
