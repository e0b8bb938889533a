//! The audit, end to end: load the stack (every profile), discover its images, run the checks
//! (pinning, version and end-of-life policy, scanner reports, exceptions), and compute the verdict.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cdb_core::compose::{ComposeOptions, load};
use cdb_core::diagnostic::Diagnostic;
use cdb_core::source::SourceMap;
use jiff::civil::Date;

use crate::config::LevelSetting;
use crate::exceptions::{self, Exception, FirstSeen};
use crate::gate::{self, Verdict};
use crate::model::{Finding, ImageUse, Level, ScanReport};
use crate::triage::{self, TriageInput};
use crate::{discovery, policy, rules, scanners};

/// Rule: the generated exceptions page is missing or out of date.
pub const DOCS_OUTDATED: &str = "exception::docs-outdated";
/// Diagnostic code: an input file of the audit cannot be read.
pub const UNREADABLE: &str = "audit::unreadable";

/// What to audit and with what.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// The repository root: paths written into findings and the exceptions page are relative to
    /// it, so that the output does not depend on where the repository is checked out.
    pub root: PathBuf,
    /// The Compose project (files, environment). Services of every profile are audited.
    pub compose: ComposeOptions,
    /// Scanner reports, each optionally mapped to an image (`IMAGE=FILE`).
    pub reports: Vec<(Option<String>, PathBuf)>,
    /// The policy file.
    pub policy: PathBuf,
    /// cdb's exceptions file (a missing file means no exceptions).
    pub exceptions: PathBuf,
    /// The first-seen state file (a missing file means nothing seen yet).
    pub first_seen: PathBuf,
    /// OpenVEX documents.
    pub openvex: Vec<PathBuf>,
    /// `.trivyignore.yaml` files.
    pub trivyignore: Vec<PathBuf>,
    /// The generated exceptions page to keep current, if any.
    pub exceptions_markdown: Option<PathBuf>,
    /// The audit date (every result is reproducible for a given date).
    pub date: Date,
    /// A fixable HIGH blocks once known longer than this many days.
    pub high_block_after_days: i64,
    /// Level overrides per rule code.
    pub levels: BTreeMap<String, LevelSetting>,
}

/// The result of an audit.
#[derive(Debug, Clone)]
pub struct Audit {
    /// The audit date.
    pub date: Date,
    /// The Compose project's name.
    pub project: String,
    /// Every image use found.
    pub images: Vec<ImageUse>,
    /// The reports read.
    pub reports: Vec<ScanReport>,
    /// Every exception in force or expired.
    pub exceptions: Vec<Exception>,
    /// The policy the images were checked against (`--fix` takes its recommendations).
    pub policy: policy::Policy,
    /// The findings, grouped by image, worst first.
    pub findings: Vec<Finding>,
    /// The verdict.
    pub verdict: Verdict,
    /// Vulnerabilities seen for the first time: (id, package, image).
    pub unseen: Vec<(String, String, String)>,
}

fn read(path: &Path) -> Result<Vec<u8>, Diagnostic> {
    std::fs::read(path).map_err(|e| {
        Diagnostic::error(UNREADABLE, format!("cannot read {}: {e}", path.display()))
            .with_help("check the path")
    })
}

fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let bytes = read(path)?;
    String::from_utf8(bytes)
        .map_err(|_| Diagnostic::error(UNREADABLE, format!("{} is not UTF-8 text", path.display())))
}

/// Loads every exception source the options name.
pub fn load_all_exceptions(
    options: &AuditOptions,
    sources: &mut SourceMap,
) -> Result<Vec<Exception>, Diagnostic> {
    let mut all = Vec::new();
    if options.exceptions.is_file() {
        let text = read_text(&options.exceptions)?;
        all.extend(exceptions::load_exceptions(
            &options.exceptions,
            &text,
            sources,
        )?);
    }
    for path in &options.openvex {
        let text = read_text(path)?;
        all.extend(exceptions::load_openvex(path, &text, sources)?);
    }
    for path in &options.trivyignore {
        let text = read_text(path)?;
        all.extend(exceptions::load_trivyignore(path, &text, sources)?);
    }
    for e in &mut all {
        if let Ok(relative) = e.path.strip_prefix(&options.root) {
            e.path = relative.to_path_buf();
        }
    }
    Ok(all)
}

/// Runs the audit.
pub fn run(options: &AuditOptions, sources: &mut SourceMap) -> Result<Audit, Diagnostic> {
    let mut compose = options.compose.clone();
    compose.all_profiles = true;
    let project = load(&compose, sources)?.project;
    let images = discovery::discover(&project, sources)?;

    let policy_text = read_text(&options.policy)?;
    let policy = policy::load_policy(&options.policy, &policy_text, sources)?;

    let mut findings: Vec<Finding> = Vec::new();
    for image in &images {
        for finding in rules::pin::check(image, &policy)
            .into_iter()
            .chain(rules::policy::check(image, &policy, options.date))
        {
            // One finding per image and rule, however many services use the image (the reports
            // list every place it is written).
            if !findings.iter().any(|f| {
                f.code == finding.code && f.image == finding.image && f.message == finding.message
            }) {
                findings.push(finding);
            }
        }
    }

    let mut reports = Vec::new();
    let mut explicit = BTreeMap::new();
    for (image, path) in &options.reports {
        let bytes = read(path)?;
        let report = scanners::parse_report(path, &bytes, sources)?;
        if let Some(image) = image {
            explicit.insert(report.path.clone(), image.clone());
        }
        reports.push(report);
    }

    let exceptions = load_all_exceptions(options, sources)?;
    let first_seen = if options.first_seen.is_file() {
        let text = read_text(&options.first_seen)?;
        FirstSeen::load(&options.first_seen, &text, sources)?
    } else {
        FirstSeen::default()
    };
    let triaged = triage::triage(&TriageInput {
        images: &images,
        reports: &reports,
        explicit: &explicit,
        exceptions: &exceptions,
        first_seen: &first_seen,
        date: options.date,
        high_block_after_days: options.high_block_after_days,
    });
    findings.extend(triaged.findings);

    if let Some(page) = &options.exceptions_markdown {
        let current = std::fs::read_to_string(page).ok();
        // The page states each exception as of the day it was generated; compare against a page
        // generated for that same day, so that it does not go stale every morning (expiry itself
        // is enforced by the gate, not by the page).
        let as_of = current
            .as_deref()
            .and_then(exceptions::markdown_state_date)
            .unwrap_or(options.date);
        let generated = exceptions::exceptions_markdown(&exceptions, as_of);
        let up_to_date = current
            .as_deref()
            .is_some_and(|c| exceptions::markdown_is_current(c, &generated));
        if !up_to_date && (current.is_some() || !exceptions.is_empty()) {
            findings.push(Finding {
                code: DOCS_OUTDATED,
                level: Level::Warn,
                image: "(exceptions)".into(),
                message: format!("{} is missing or out of date", page.display()),
                suggestion: Some(format!(
                    "regenerate it: cargo xtask audit-images exceptions --format markdown --output {}",
                    page.display()
                )),
                loc: None,
                vulnerability: None,
            });
        }
    }

    let mut findings = gate::apply_levels(findings, &options.levels);
    sort_findings(&mut findings);
    let verdict = gate::verdict(&findings);
    Ok(Audit {
        date: options.date,
        project: project.name.clone(),
        images,
        reports,
        exceptions,
        policy,
        findings,
        verdict,
        unseen: triaged.unseen,
    })
}

/// Groups findings by image, the image with the worst finding first, and within an image the
/// worst first (then by score, then by code and message, so the order is stable).
pub fn sort_findings(findings: &mut [Finding]) {
    let mut worst: BTreeMap<String, Level> = BTreeMap::new();
    for f in findings.iter() {
        let w = worst.entry(f.image.clone()).or_insert(f.level);
        if f.level > *w {
            *w = f.level;
        }
    }
    findings.sort_by(|a, b| {
        let wa = worst.get(&a.image).copied().unwrap_or(Level::Note);
        let wb = worst.get(&b.image).copied().unwrap_or(Level::Note);
        let score = |f: &Finding| {
            f.vulnerability
                .as_ref()
                .and_then(|v| v.score)
                .unwrap_or(0.0)
        };
        wb.cmp(&wa)
            .then_with(|| a.image.cmp(&b.image))
            .then_with(|| b.level.cmp(&a.level))
            .then_with(|| score(b).total_cmp(&score(a)))
            .then_with(|| a.code.cmp(b.code))
            .then_with(|| a.message.cmp(&b.message))
    });
}
