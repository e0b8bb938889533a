//! SARIF 2.1.0 for GitHub code scanning: one rule per cdb rule code, one per vulnerability id
//! (with `security-severity`, as GitHub ranks alerts by it), and results located at the Compose
//! or Dockerfile line of the image (`%SRCROOT%`-relative).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::audit::Audit;
use crate::model::{Finding, Level, Severity};
use crate::report::Context;

/// SARIF's `security-severity` for a severity without a score (the middle of its CVSS band).
fn severity_score(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Unknown => 0.0,
    }
}

fn level(level: Level) -> &'static str {
    match level {
        Level::Block => "error",
        Level::Warn => "warning",
        Level::Note => "note",
    }
}

fn rule_id(f: &Finding) -> String {
    match &f.vulnerability {
        Some(v) => v.id.clone(),
        None => f.code.to_string(),
    }
}

/// A fingerprint that stays the same from one audit to the next while the finding is the same
/// (so code scanning keeps one alert open): rule, image and — for vulnerabilities — id and
/// package; never the message, which carries dates. FNV-1a, stable across Rust releases.
fn fingerprint(f: &Finding) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |text: &str| {
        for byte in text.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(f.code);
    feed(&f.image);
    if let Some(v) = &f.vulnerability {
        feed(&v.id);
        feed(&v.package);
    }
    format!("{hash:016x}")
}

/// Renders the SARIF log.
pub fn render(audit: &Audit, ctx: &Context<'_>) -> String {
    let table: BTreeMap<&str, &str> = crate::rules_table()
        .iter()
        .map(|(code, _, meaning)| (*code, *meaning))
        .collect();
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for f in &audit.findings {
        let id = rule_id(f);
        rules.entry(id.clone()).or_insert_with(|| match &f.vulnerability {
            Some(v) => {
                let score = v.score.unwrap_or_else(|| severity_score(v.severity));
                let text = format!(
                    "{} in {} ({}). Severity {} from {}. {}",
                    v.id,
                    v.package,
                    v.installed_version.as_deref().unwrap_or("unknown version"),
                    v.severity,
                    v.severity_source,
                    match &v.fixed_version {
                        Some(fixed) => format!("Fixed in {fixed}."),
                        None => "No fix available.".to_string(),
                    }
                );
                json!({
                    "id": id,
                    "name": "Vulnerability",
                    "shortDescription": {"text": v.title.clone().unwrap_or_else(|| format!("{} in {}", v.id, v.package))},
                    "fullDescription": {"text": text},
                    "helpUri": v.url.clone().unwrap_or_else(|| format!("https://nvd.nist.gov/vuln/detail/{}", v.id)),
                    "help": {"text": text, "markdown": format!("**{}** in `{}` — {}", v.id, v.package, text)},
                    "properties": {
                        "security-severity": format!("{score:.1}"),
                        "precision": "very-high",
                        "tags": ["security", "vulnerability", v.severity.to_string()],
                    }
                })
            }
            None => {
                let meaning = table.get(f.code).copied().unwrap_or("cdb audit-images rule");
                json!({
                    "id": id,
                    "name": f.code.replace("::", "-"),
                    "shortDescription": {"text": meaning},
                    "help": {
                        "text": format!("{meaning}. See docs/security/RULES.md for every rule of cdb audit-images."),
                        "markdown": format!("{meaning}. See `docs/security/RULES.md` for every rule of `cdb audit-images`."),
                    },
                    "properties": {
                        "security-severity": match f.level { Level::Block => "8.0", Level::Warn => "5.0", Level::Note => "2.0" },
                        "tags": ["security", "image-policy"],
                    }
                })
            }
        });
        let mut result = json!({
            "ruleId": id,
            "level": level(f.level),
            "message": {"text": match &f.suggestion {
                Some(s) => format!("{}: {} Fix: {s}", f.image, f.message),
                None => format!("{}: {}", f.image, f.message),
            }},
            "partialFingerprints": {"cdbFinding/v1": fingerprint(f)},
            "properties": {"cdbRule": f.code, "image": f.image},
        });
        if let Some(loc) = f.loc {
            result["locations"] = json!([{
                "physicalLocation": {
                    "artifactLocation": {"uri": ctx.relative_path(loc), "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": loc.line, "startColumn": loc.col},
                }
            }]);
        }
        results.push(result);
    }
    let rule_index: BTreeMap<String, usize> = rules
        .keys()
        .enumerate()
        .map(|(i, k)| (k.clone(), i))
        .collect();
    for r in &mut results {
        if let Some(i) = r["ruleId"].as_str().and_then(|id| rule_index.get(id)) {
            r["ruleIndex"] = json!(i);
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cdb audit-images",
                "informationUri": "https://example.invalid/claire-de-binare/cdb",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
            "properties": {"verdict": audit.verdict, "auditDate": audit.date.to_string()},
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
