//! The audit's model: the images the stack uses, the vulnerabilities scanners reported, and the
//! findings the checks produce. Every check module reads these types and returns [`Finding`]s.

use std::fmt;
use std::path::PathBuf;

use cdb_core::image::ImageRef;
use cdb_core::source::Location;
use serde::Serialize;

/// How serious a finding is for the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Listed, never fails anything.
    Note,
    /// Should be fixed; fails only with `--strict`.
    Warn,
    /// Must be fixed now: fails the gate.
    Block,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Note => "note",
            Level::Warn => "warn",
            Level::Block => "block",
        })
    }
}

/// Where an image reference is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Origin {
    /// A service's `image` in the Compose project.
    Compose {
        /// The service.
        service: String,
    },
    /// A `FROM` line of a Dockerfile that a service's `build` uses.
    Dockerfile {
        /// The service whose build uses the Dockerfile.
        service: String,
        /// The Dockerfile.
        path: PathBuf,
        /// The stage name (`AS name`), if any.
        stage: Option<String>,
    },
}

/// One use of an image by the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUse {
    /// The reference as resolved (variables substituted), as written otherwise.
    pub reference: String,
    /// The parsed reference, or why it does not parse.
    pub parsed: Result<ImageRef, String>,
    /// Where it comes from.
    pub origin: Origin,
    /// Where the reference is written (the Compose line, or the Dockerfile line).
    pub loc: Location,
}

/// A severity as scanners and CVSS name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// No severity known.
    Unknown,
    /// Negligible or low (CVSS 0.1–3.9).
    Low,
    /// Medium (4.0–6.9).
    Medium,
    /// High (7.0–8.9).
    High,
    /// Critical (9.0–10.0).
    Critical,
}

impl Severity {
    /// The severity band of a CVSS base score.
    pub fn from_score(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::Unknown,
        }
    }

    /// Parses a scanner's label (`CRITICAL`, `High`, `negligible`, `error` …).
    pub fn from_label(label: &str) -> Severity {
        match label.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" | "error" => Severity::High,
            "medium" | "moderate" | "warning" => Severity::Medium,
            "low" | "negligible" | "note" | "minimal" => Severity::Low,
            _ => Severity::Unknown,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        })
    }
}

/// A CVSS version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum CvssVersion {
    /// CVSS v2 (not used for triage: the roadmap triages on v3 or v4).
    V2,
    /// CVSS v3.x.
    V3,
    /// CVSS v4.0.
    V4,
}

/// One CVSS base score from one source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvssScore {
    /// The CVSS version.
    pub version: CvssVersion,
    /// The base score, 0.0–10.0.
    pub score: f64,
    /// Who assigned it (`nvd`, `redhat`, `ghsa`, a scanner name …).
    pub source: String,
    /// The vector string, if given.
    pub vector: Option<String>,
}

/// Whether a fix exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixState {
    /// A fixed version exists.
    Fixed,
    /// No fix is available yet.
    NotFixed,
    /// The vendor will not fix it.
    WontFix,
    /// The report does not say.
    Unknown,
}

/// The scanner formats cdb reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportFormat {
    /// Trivy's JSON report (`trivy image -f json`).
    TrivyJson,
    /// Grype's JSON report (`grype -o json`).
    GrypeJson,
    /// SARIF 2.1.0 (Docker Scout, Trivy, Grype).
    Sarif,
}

/// One vulnerability in one package, as one scanner reported it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vulnerability {
    /// The identifier (`CVE-2024-1234`, `GHSA-…`).
    pub id: String,
    /// Other identifiers of the same vulnerability (a GHSA's CVE, …).
    pub aliases: Vec<String>,
    /// The affected package.
    pub package: String,
    /// The installed version.
    pub installed_version: Option<String>,
    /// The version that fixes it.
    pub fixed_version: Option<String>,
    /// Whether a fix exists.
    pub fix_state: FixState,
    /// The scanner's own severity label.
    pub label: Option<Severity>,
    /// Every CVSS base score the report carries.
    pub cvss: Vec<CvssScore>,
    /// A one-line title.
    pub title: Option<String>,
    /// A link to read more.
    pub url: Option<String>,
    /// The scanner that reported it (`trivy`, `grype`, `docker scout` …).
    pub scanner: String,
}

/// One scanner report, parsed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanReport {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its format, detected from the content.
    pub format: ReportFormat,
    /// The scanner that wrote it.
    pub scanner: String,
    /// The scanned artifact's name (an image reference, usually).
    pub artifact: Option<String>,
    /// The image's repo tags, when the report lists them.
    pub repo_tags: Vec<String>,
    /// The image's repo digests, when the report lists them.
    pub repo_digests: Vec<String>,
    /// The vulnerabilities, one per (id, package) as the report lists them.
    pub vulnerabilities: Vec<Vulnerability>,
}

/// A problem the audit found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule's stable code (see [`crate::rules`]).
    pub code: &'static str,
    /// Block, warn or note.
    pub level: Level,
    /// The image it is about (as written), or the report's artifact for an unmapped report.
    pub image: String,
    /// What is wrong, in one line.
    pub message: String,
    /// What to do.
    pub suggestion: Option<String>,
    /// Where (Compose or Dockerfile line; the exceptions file for exception findings).
    #[serde(skip)]
    pub loc: Option<Location>,
    /// The vulnerability, for vulnerability findings.
    pub vulnerability: Option<VulnerabilityFinding>,
}

/// The vulnerability part of a finding: merged over every scanner that reported it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VulnerabilityFinding {
    /// The identifier.
    pub id: String,
    /// The package.
    pub package: String,
    /// The installed version.
    pub installed_version: Option<String>,
    /// The fixing version.
    pub fixed_version: Option<String>,
    /// Whether a fix exists.
    pub fix_state: FixState,
    /// The severity used for triage.
    pub severity: Severity,
    /// Where that severity came from: `cvss-v3 9.8 (nvd)` or `label (trivy)`.
    pub severity_source: String,
    /// The highest CVSS base score, if any.
    pub score: Option<f64>,
    /// The scanners that reported it.
    pub scanners: Vec<String>,
    /// When cdb first saw it (from the first-seen state file).
    pub first_seen: Option<String>,
    /// The exception that covers it, if one applies.
    pub exception: Option<String>,
    /// A title.
    pub title: Option<String>,
    /// A link.
    pub url: Option<String>,
}
