//! Grype's JSON report (`grype -o json`).
//!
//! Each entry of `matches[]` becomes one [`Vulnerability`]: `vulnerability.id`, the package
//! `artifact.name` at `artifact.version`, `vulnerability.severity` (the label),
//! `vulnerability.fix.state` (`fixed`, `not-fixed`, `wont-fix`, `unknown`) with
//! `fix.versions` (joined by `, `), `vulnerability.dataSource` (else the first of `urls`) as the
//! link and the first line of `description` as the title. The ids of `relatedVulnerabilities[]`
//! become aliases, and their `cvss[]` entries count too: for a GHSA match they are the NVD
//! scores. A CVSS entry's version comes from `version` (`2.0`, `3.x`, `4.0`) or else from its
//! vector; `nvd@nist.gov` is named `nvd` and `security-advisories@github.com` `ghsa`.
//!
//! The artifact is `source.target.userInput` with its `tags` and `repoDigests` when the source
//! is an image, else the target when it is a plain string (a directory or file).
//!
//! Note that Grype lists the same finding once per matcher: a GHSA match and the CVE match of
//! the same package are two entries, as in the report.

use serde::Deserialize;
use serde_json::Value;

use super::{ParseError, Parsed, non_empty, valid_score};
use crate::model::{CvssScore, CvssVersion, FixState, Severity, Vulnerability};

/// The scanner name when the report does not name itself.
const SCANNER: &str = "grype";

/// The `descriptor` object (also read by [`super::detect`]).
#[derive(Debug, Deserialize)]
pub(super) struct Descriptor {
    /// The tool's name: `grype`.
    pub(super) name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Report {
    matches: Option<Vec<Converted>>,
    source: Option<Source>,
    descriptor: Option<Descriptor>,
}

#[derive(Debug, Deserialize)]
struct Source {
    #[serde(rename = "type")]
    kind: Option<String>,
    target: Option<Value>,
}

/// A match converted as soon as it is parsed.
#[derive(Debug, Deserialize)]
#[serde(from = "Match")]
struct Converted(Vulnerability);

#[derive(Debug, Deserialize)]
struct Match {
    vulnerability: GrypeVulnerability,
    #[serde(rename = "relatedVulnerabilities")]
    related: Option<Vec<Related>>,
    artifact: Artifact,
}

#[derive(Debug, Deserialize)]
struct GrypeVulnerability {
    id: String,
    #[serde(rename = "dataSource")]
    data_source: Option<String>,
    severity: Option<String>,
    urls: Option<Vec<String>>,
    description: Option<String>,
    cvss: Option<Vec<Cvss>>,
    fix: Option<Fix>,
}

#[derive(Debug, Deserialize)]
struct Related {
    id: Option<String>,
    cvss: Option<Vec<Cvss>>,
}

#[derive(Debug, Deserialize)]
struct Cvss {
    source: Option<String>,
    version: Option<String>,
    vector: Option<String>,
    metrics: Option<Metrics>,
}

#[derive(Debug, Deserialize)]
struct Metrics {
    #[serde(rename = "baseScore")]
    base_score: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Fix {
    versions: Option<Vec<String>>,
    state: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Artifact {
    name: String,
    version: Option<String>,
}

impl From<Match> for Converted {
    fn from(m: Match) -> Self {
        let vulnerability = m.vulnerability;
        let fix = vulnerability.fix.unwrap_or(Fix {
            versions: None,
            state: None,
        });
        let versions: Vec<String> = fix
            .versions
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| non_empty(Some(v)))
            .collect();
        let fixed_version = (!versions.is_empty()).then(|| versions.join(", "));
        let fix_state = match fix.state.as_deref().map(str::trim) {
            Some("fixed") => FixState::Fixed,
            Some("not-fixed") => FixState::NotFixed,
            Some("wont-fix") => FixState::WontFix,
            None | Some("") if fixed_version.is_some() => FixState::Fixed,
            _ => FixState::Unknown,
        };
        let mut cvss = Vec::new();
        push_cvss(&mut cvss, vulnerability.cvss.unwrap_or_default());
        let mut aliases = Vec::new();
        for related in m.related.unwrap_or_default() {
            if let Some(id) = non_empty(related.id)
                && id != vulnerability.id
                && !aliases.contains(&id)
            {
                aliases.push(id);
            }
            push_cvss(&mut cvss, related.cvss.unwrap_or_default());
        }
        let url = non_empty(vulnerability.data_source).or_else(|| {
            vulnerability
                .urls
                .unwrap_or_default()
                .into_iter()
                .find_map(|u| non_empty(Some(u)))
        });
        let title = vulnerability.description.as_deref().and_then(title_of);
        Converted(Vulnerability {
            id: vulnerability.id,
            aliases,
            package: m.artifact.name,
            installed_version: non_empty(m.artifact.version),
            fixed_version,
            fix_state,
            label: vulnerability.severity.as_deref().map(Severity::from_label),
            cvss,
            title,
            url,
            scanner: SCANNER.to_string(),
        })
    }
}

/// The first line of a description, cut to [`TITLE_CHARS`] characters: Grype has no titles.
fn title_of(description: &str) -> Option<String> {
    let line = description.lines().map(str::trim).find(|l| !l.is_empty())?;
    match line.char_indices().nth(TITLE_CHARS) {
        Some((end, _)) => Some(format!("{}…", line.get(..end)?.trim_end())),
        None => Some(line.to_string()),
    }
}

/// The longest title taken from a description.
const TITLE_CHARS: usize = 160;

fn push_cvss(out: &mut Vec<CvssScore>, entries: Vec<Cvss>) {
    for entry in entries {
        let Some(score) = entry
            .metrics
            .and_then(|m| m.base_score)
            .and_then(valid_score)
        else {
            continue;
        };
        let vector = non_empty(entry.vector);
        let version = entry
            .version
            .as_deref()
            .and_then(version_of)
            .or_else(|| vector.as_deref().and_then(version_of_vector));
        let Some(version) = version else {
            continue;
        };
        let source = match entry.source.as_deref().map(str::trim) {
            Some("nvd@nist.gov") => "nvd".to_string(),
            Some("security-advisories@github.com") => "ghsa".to_string(),
            Some(s) if !s.is_empty() => s.to_string(),
            _ => SCANNER.to_string(),
        };
        out.push(CvssScore {
            version,
            score,
            source,
            vector,
        });
    }
}

fn version_of(version: &str) -> Option<CvssVersion> {
    match version.trim().split('.').next() {
        Some("2") => Some(CvssVersion::V2),
        Some("3") => Some(CvssVersion::V3),
        Some("4") => Some(CvssVersion::V4),
        _ => None,
    }
}

fn version_of_vector(vector: &str) -> Option<CvssVersion> {
    if vector.starts_with("CVSS:3") {
        Some(CvssVersion::V3)
    } else if vector.starts_with("CVSS:4") {
        Some(CvssVersion::V4)
    } else if vector.starts_with("AV:") {
        Some(CvssVersion::V2)
    } else {
        None
    }
}

/// Parses a Grype JSON report.
pub(super) fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    let report: Report = serde_json::from_slice(body)?;
    let scanner = report
        .descriptor
        .and_then(|d| non_empty(d.name))
        .map_or_else(|| SCANNER.to_string(), |n| n.to_ascii_lowercase());
    let mut vulnerabilities: Vec<Vulnerability> = report
        .matches
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.0)
        .collect();
    for vulnerability in &mut vulnerabilities {
        if vulnerability.scanner != scanner {
            vulnerability.scanner.clone_from(&scanner);
        }
    }
    let mut parsed = Parsed {
        scanner,
        vulnerabilities,
        ..Parsed::default()
    };
    if let Some(source) = report.source {
        match (source.kind.as_deref(), source.target) {
            (Some("image"), Some(Value::Object(target))) => {
                let text = |key: &str| target.get(key).and_then(Value::as_str).map(str::to_string);
                let list = |key: &str| super::strings(target.get(key));
                parsed.artifact = non_empty(text("userInput"));
                parsed.repo_tags = list("tags");
                parsed.repo_digests = list("repoDigests");
            }
            (_, Some(Value::String(target))) => parsed.artifact = non_empty(Some(target)),
            _ => {}
        }
    }
    Ok(parsed)
}
