//! The JSON report. Its schema is versioned: `schema` is `cdb.audit-images/v1`, and a change
//! that removes or renames a field bumps it (adding fields does not). Documented in
//! `docs/security/AUDIT_JSON.md`.

use serde_json::{Value, json};

use crate::audit::Audit;
use crate::gate;
use crate::report::Context;

/// The schema identifier of this output.
pub const SCHEMA: &str = "cdb.audit-images/v1";

/// Renders the JSON report (pretty-printed, with a final newline).
pub fn render(audit: &Audit, ctx: &Context<'_>) -> String {
    let location = |loc: Option<cdb_core::source::Location>| match loc {
        Some(l) => json!({"file": ctx.relative_path(l), "line": l.line, "column": l.col}),
        None => Value::Null,
    };
    let images: Vec<Value> = audit
        .images
        .iter()
        .map(|i| {
            json!({
                "reference": i.reference,
                "normalized": i.parsed.as_ref().ok().map(|p| p.normalized()),
                "origin": i.origin,
                "location": location(Some(i.loc)),
            })
        })
        .collect();
    let reports: Vec<Value> = audit
        .reports
        .iter()
        .map(|r| {
            json!({
                "path": r.path.strip_prefix(ctx.root).unwrap_or(&r.path).display().to_string(),
                "format": r.format,
                "scanner": r.scanner,
                "artifact": r.artifact,
                "vulnerabilities": r.vulnerabilities.len(),
            })
        })
        .collect();
    let findings: Vec<Value> = audit
        .findings
        .iter()
        .map(|f| {
            json!({
                "code": f.code,
                "level": f.level,
                "image": f.image,
                "message": f.message,
                "suggestion": f.suggestion,
                "location": location(f.loc),
                "vulnerability": f.vulnerability,
            })
        })
        .collect();
    let doc = json!({
        "schema": SCHEMA,
        "date": audit.date.to_string(),
        "project": audit.project,
        "verdict": audit.verdict,
        "counts": gate::counts(&audit.findings),
        "images": images,
        "reports": reports,
        "findings": findings,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
