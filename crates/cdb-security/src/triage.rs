//! Vulnerability triage, per the roadmap: reports mapped to the stack's images, the same
//! vulnerability in the same package from several scanners merged into one finding, severity
//! from the highest CVSS base score (v3 or v4) over all sources — the scanner's label only when
//! there is no score — and a level for the gate:
//!
//! | severity | fix available | level |
//! |---|---|---|
//! | critical (≥ 9.0) | yes | block (`vuln::critical`) |
//! | high (7.0–8.9) | yes | warn (`vuln::high`); block once known > 14 days (`vuln::high-aged`) |
//! | medium | yes | warn (`vuln::medium`) |
//! | low | any | note (`vuln::low`) |
//! | critical, high, medium, unknown | no | warn (`vuln::no-fix`) until an exception covers it |
//! | unknown | yes | warn (`vuln::unknown-severity`) |
//!
//! A vulnerability covered by an exception is a note (`vuln::excepted`); an exception past its
//! review date stops applying and is itself blocking (`exception::expired`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use cdb_core::image::ImageRef;
use jiff::ToSpan;
use jiff::civil::Date;

use crate::exceptions::{self, Exception, FirstSeen, Match};
use crate::model::{
    CvssVersion, Finding, FixState, ImageUse, Level, ScanReport, Severity, Vulnerability,
    VulnerabilityFinding,
};

/// Rule: a critical vulnerability with a fix.
pub const CRITICAL: &str = "vuln::critical";
/// Rule: a high vulnerability with a fix.
pub const HIGH: &str = "vuln::high";
/// Rule: a high vulnerability with a fix, known for longer than the grace period.
pub const HIGH_AGED: &str = "vuln::high-aged";
/// Rule: a medium vulnerability with a fix.
pub const MEDIUM: &str = "vuln::medium";
/// Rule: a low vulnerability.
pub const LOW: &str = "vuln::low";
/// Rule: a vulnerability with no fix available and no exception.
pub const NO_FIX: &str = "vuln::no-fix";
/// Rule: a fixable vulnerability whose severity no source gives.
pub const UNKNOWN_SEVERITY: &str = "vuln::unknown-severity";
/// Rule: a vulnerability covered by an exception.
pub const EXCEPTED: &str = "vuln::excepted";
/// Rule: an exception past its review date.
pub const EXCEPTION_EXPIRED: &str = "exception::expired";
/// Rule: a report that maps to no image of the stack.
pub const UNMAPPED_REPORT: &str = "report::unmapped";

/// The rules of this module: code, default level, meaning.
pub const RULES: &[(&str, Level, &str)] = &[
    (
        CRITICAL,
        Level::Block,
        "a critical vulnerability (CVSS >= 9.0) with a fix available",
    ),
    (
        HIGH,
        Level::Warn,
        "a high vulnerability (CVSS 7.0-8.9) with a fix available",
    ),
    (
        HIGH_AGED,
        Level::Block,
        "a high vulnerability with a fix, known for longer than the grace period",
    ),
    (
        MEDIUM,
        Level::Warn,
        "a medium vulnerability with a fix available",
    ),
    (LOW, Level::Note, "a low vulnerability"),
    (
        NO_FIX,
        Level::Warn,
        "no fix available yet; add an exception with a review date",
    ),
    (
        UNKNOWN_SEVERITY,
        Level::Warn,
        "a fixable vulnerability with no severity from any source",
    ),
    (
        EXCEPTED,
        Level::Note,
        "a vulnerability covered by an exception",
    ),
    (
        EXCEPTION_EXPIRED,
        Level::Block,
        "an exception past its review date; it no longer applies",
    ),
    (
        UNMAPPED_REPORT,
        Level::Note,
        "a scanner report that maps to no image of the stack",
    ),
];

/// What triage needs.
#[derive(Debug)]
pub struct TriageInput<'a> {
    /// The stack's images.
    pub images: &'a [ImageUse],
    /// The parsed reports.
    pub reports: &'a [ScanReport],
    /// Reports mapped explicitly (`--report IMAGE=FILE`): report path → image.
    pub explicit: &'a BTreeMap<PathBuf, String>,
    /// Every exception (cdb's file, OpenVEX, .trivyignore.yaml).
    pub exceptions: &'a [Exception],
    /// When each vulnerability was first seen.
    pub first_seen: &'a FirstSeen,
    /// The audit date.
    pub date: Date,
    /// A fixable HIGH blocks once known longer than this many days.
    pub high_block_after_days: i64,
}

/// What triage found.
#[derive(Debug, Default)]
pub struct Triage {
    /// The findings (vulnerabilities, expired exceptions, unmapped reports).
    pub findings: Vec<Finding>,
    /// Vulnerabilities not in the first-seen state yet: (id, package, image).
    pub unseen: Vec<(String, String, String)>,
}

/// Which image of the stack a report is about: explicit mapping, then artifact name, repo tags
/// and repo digests compared in normalised form.
pub fn map_report<'a>(
    report: &ScanReport,
    images: &'a [ImageUse],
    explicit: &BTreeMap<PathBuf, String>,
) -> Option<&'a ImageUse> {
    if let Some(wanted) = explicit.get(&report.path) {
        return images.iter().find(|i| same_image(&i.reference, wanted));
    }
    let candidates = report
        .artifact
        .iter()
        .chain(report.repo_tags.iter())
        .chain(report.repo_digests.iter());
    for candidate in candidates {
        if let Some(found) = images.iter().find(|i| same_image(&i.reference, candidate)) {
            return Some(found);
        }
    }
    // A repo digest matches an image pinned by that digest, whatever its tag.
    for digest in &report.repo_digests {
        let Ok(d) = ImageRef::parse(digest) else {
            continue;
        };
        if let Some(found) = images.iter().find(|i| {
            i.parsed.as_ref().is_ok_and(|p| {
                p.digest().is_some() && p.digest() == d.digest() && p.repository() == d.repository()
            })
        }) {
            return Some(found);
        }
    }
    None
}

/// Whether two references name the same image (normalised when both parse).
pub fn same_image(a: &str, b: &str) -> bool {
    match (ImageRef::parse(a), ImageRef::parse(b)) {
        (Ok(x), Ok(y)) => x.normalized() == y.normalized(),
        _ => a == b,
    }
}

fn canonical_id(v: &Vulnerability) -> String {
    if v.id.starts_with("CVE-") {
        return v.id.clone();
    }
    v.aliases
        .iter()
        .find(|a| a.starts_with("CVE-"))
        .cloned()
        .unwrap_or_else(|| v.id.clone())
}

/// One vulnerability merged over every report that lists it for an image.
#[derive(Debug, Clone)]
struct Merged {
    image: String,
    loc: Option<cdb_core::source::Location>,
    id: String,
    aliases: Vec<String>,
    package: String,
    sources: Vec<Vulnerability>,
}

/// The severity used for triage and where it came from.
pub fn severity_of(sources: &[Vulnerability]) -> (Severity, String, Option<f64>) {
    let best = sources
        .iter()
        .flat_map(|v| v.cvss.iter())
        // A score of 0.0 is "not scored" in practice (no CVSS vector yields 0 with impact).
        .filter(|c| matches!(c.version, CvssVersion::V3 | CvssVersion::V4) && c.score > 0.0)
        .max_by(|a, b| a.score.total_cmp(&b.score));
    if let Some(c) = best {
        let version = match c.version {
            CvssVersion::V4 => "v4",
            _ => "v3",
        };
        return (
            Severity::from_score(c.score),
            format!("cvss-{version} {:.1} ({})", c.score, c.source),
            Some(c.score),
        );
    }
    let label = sources
        .iter()
        .filter_map(|v| v.label.map(|l| (l, v.scanner.clone())))
        .max_by_key(|(l, _)| *l);
    match label {
        Some((l, scanner)) => (l, format!("label ({scanner})"), None),
        None => (Severity::Unknown, "none".into(), None),
    }
}

fn fix_of(sources: &[Vulnerability]) -> (FixState, Option<String>) {
    if let Some(v) = sources.iter().find(|v| v.fix_state == FixState::Fixed) {
        return (FixState::Fixed, v.fixed_version.clone());
    }
    if sources.iter().any(|v| v.fix_state == FixState::WontFix) {
        return (FixState::WontFix, None);
    }
    if sources.iter().any(|v| v.fix_state == FixState::NotFixed) {
        return (FixState::NotFixed, None);
    }
    (FixState::Unknown, None)
}

/// Triage every report.
pub fn triage(input: &TriageInput<'_>) -> Triage {
    let mut out = Triage::default();
    let mut merged: BTreeMap<(String, String, String), Merged> = BTreeMap::new();
    for report in input.reports {
        let (image, loc) = match map_report(report, input.images, input.explicit) {
            Some(use_) => (use_.reference.clone(), Some(use_.loc)),
            None => {
                let name = input
                    .explicit
                    .get(&report.path)
                    .cloned()
                    .or_else(|| report.artifact.clone())
                    .unwrap_or_else(|| report.path.display().to_string());
                out.findings.push(Finding {
                    code: UNMAPPED_REPORT,
                    level: Level::Note,
                    image: name.clone(),
                    message: format!(
                        "{} ({}) maps to no image of the stack; its vulnerabilities are triaged under `{name}`",
                        report.path.display(),
                        report.scanner
                    ),
                    suggestion: Some(
                        "map it explicitly with --report IMAGE=FILE, or scan the image the stack uses"
                            .into(),
                    ),
                    loc: None,
                    vulnerability: None,
                });
                (name, None)
            }
        };
        for v in &report.vulnerabilities {
            let id = canonical_id(v);
            // Package names compare without case: Trivy says `Werkzeug` where a purl says
            // `werkzeug`, and they are the same package.
            let key = (image.clone(), id.clone(), v.package.to_lowercase());
            let entry = merged.entry(key).or_insert_with(|| Merged {
                image: image.clone(),
                loc,
                id: id.clone(),
                aliases: Vec::new(),
                package: v.package.clone(),
                sources: Vec::new(),
            });
            for alias in std::iter::once(&v.id).chain(v.aliases.iter()) {
                if *alias != entry.id && !entry.aliases.contains(alias) {
                    entry.aliases.push(alias.clone());
                }
            }
            entry.sources.push(v.clone());
        }
    }

    for m in merged.into_values() {
        let (severity, severity_source, score) = severity_of(&m.sources);
        let (fix_state, fixed_version) = fix_of(&m.sources);
        let first_seen = input.first_seen.get(&m.id, &m.package, &m.image);
        if first_seen.is_none() {
            out.unseen
                .push((m.id.clone(), m.package.clone(), m.image.clone()));
        }
        let known_since = first_seen.unwrap_or(input.date);
        let aged = known_since
            .checked_add(input.high_block_after_days.days())
            .is_ok_and(|limit| input.date > limit);
        let mut scanners: Vec<String> = m.sources.iter().map(|v| v.scanner.clone()).collect();
        scanners.sort();
        scanners.dedup();
        let first = m.sources.first();
        let mut finding = VulnerabilityFinding {
            id: m.id.clone(),
            package: m.package.clone(),
            installed_version: first.and_then(|v| v.installed_version.clone()),
            fixed_version,
            fix_state,
            severity,
            severity_source,
            score,
            scanners,
            first_seen: first_seen.map(|d| d.to_string()),
            exception: None,
            title: m.sources.iter().find_map(|v| v.title.clone()),
            url: m.sources.iter().find_map(|v| v.url.clone()),
        };
        let fixable = fix_state == FixState::Fixed;
        let (mut code, mut level, mut message) = match (severity, fixable) {
            (Severity::Low, _) => (LOW, Level::Note, "low severity".to_string()),
            (Severity::Critical, true) => (
                CRITICAL,
                Level::Block,
                "critical, and a fix is available".into(),
            ),
            (Severity::High, true) if aged => (
                HIGH_AGED,
                Level::Block,
                format!(
                    "high, fixable, and known since {known_since} (more than {} days)",
                    input.high_block_after_days
                ),
            ),
            (Severity::High, true) => (
                HIGH,
                Level::Warn,
                format!(
                    "high, fixable; blocks after {} days (known since {known_since})",
                    input.high_block_after_days
                ),
            ),
            (Severity::Medium, true) => (MEDIUM, Level::Warn, "medium, fixable".into()),
            (Severity::Unknown, true) => (
                UNKNOWN_SEVERITY,
                Level::Warn,
                "no source gives a severity".into(),
            ),
            (_, false) => (
                NO_FIX,
                Level::Warn,
                format!("{}, no fix available", severity.to_string().to_lowercase()),
            ),
        };
        match exceptions::find(
            input.exceptions,
            &m.id,
            &m.aliases,
            &m.package,
            &m.image,
            input.date,
        ) {
            Match::Covered(e) => {
                finding.exception = Some(e.describe());
                message = format!("{message}; excepted: {}", e.describe());
                code = EXCEPTED;
                level = Level::Note;
            }
            Match::Expired(e) => {
                message = format!("{message}; its exception expired: {}", e.describe());
            }
            Match::None => {}
        }
        let suggestion = match (&finding.fixed_version, code) {
            (_, EXCEPTED) => None,
            (Some(v), _) => Some(format!(
                "update {} to {v} (rebuild or move to a newer image tag)",
                m.package
            )),
            (None, NO_FIX) => Some(format!(
                "add an exception for {} with a review date, or use an image without {}",
                m.id, m.package
            )),
            _ => None,
        };
        out.findings.push(Finding {
            code,
            level,
            image: m.image.clone(),
            message: format!("{} in {}: {message}", m.id, m.package),
            suggestion,
            loc: m.loc,
            vulnerability: Some(finding),
        });
    }

    for e in exceptions::expired(input.exceptions, input.date) {
        out.findings.push(Finding {
            code: EXCEPTION_EXPIRED,
            level: Level::Block,
            image: e.scope_display(),
            message: format!(
                "the exception for {} expired on {}: it no longer applies",
                e.id,
                e.review_display()
            ),
            suggestion: Some(
                "fix the vulnerability, or review the exception and set a new review date".into(),
            ),
            loc: Some(e.loc),
            vulnerability: None,
        });
    }
    out
}
