//! Trivy's JSON report (`trivy image -f json`, schema version 2).
//!
//! Each entry of `Results[].Vulnerabilities[]` becomes one [`Vulnerability`]:
//! `VulnerabilityID`, `PkgName`, `InstalledVersion`, `FixedVersion`, `Severity` (the label),
//! `Title`, `PrimaryURL`, and every score of the `CVSS` map (source → `V2Score`, `V3Score`,
//! `V40Score` with their vectors). The fix state is `fixed` when `FixedVersion` is set, else it
//! follows `Status` (`affected`, `fix_deferred`, `end_of_life`, `under_investigation` → not
//! fixed; `will_not_fix` → won't fix); a report without either does not say.
//!
//! Entries are converted while they are parsed, so only the fields above are ever held: the
//! long `Description` and `References` are skipped, not copied.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ParseError, Parsed, non_empty, valid_score};
use crate::model::{CvssScore, CvssVersion, FixState, Severity, Vulnerability};

/// The scanner name the report's vulnerabilities carry.
const SCANNER: &str = "trivy";

#[derive(Debug, Deserialize)]
struct Report {
    #[serde(rename = "ArtifactName")]
    artifact_name: Option<String>,
    #[serde(rename = "Metadata")]
    metadata: Option<Metadata>,
    #[serde(rename = "Results")]
    results: Option<Vec<TrivyResult>>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(rename = "RepoTags")]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "RepoDigests")]
    repo_digests: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct TrivyResult {
    #[serde(rename = "Vulnerabilities")]
    vulnerabilities: Option<Vec<Converted>>,
}

/// A vulnerability converted as soon as it is parsed.
#[derive(Debug, Deserialize)]
#[serde(from = "RawVulnerability")]
struct Converted(Vulnerability);

#[derive(Debug, Deserialize)]
struct RawVulnerability {
    #[serde(rename = "VulnerabilityID")]
    id: String,
    #[serde(rename = "PkgName")]
    package: String,
    #[serde(rename = "InstalledVersion")]
    installed_version: Option<String>,
    #[serde(rename = "FixedVersion")]
    fixed_version: Option<String>,
    #[serde(rename = "Status")]
    status: Option<String>,
    #[serde(rename = "Severity")]
    severity: Option<String>,
    #[serde(rename = "CVSS")]
    cvss: Option<BTreeMap<String, Cvss>>,
    #[serde(rename = "Title")]
    title: Option<String>,
    #[serde(rename = "PrimaryURL")]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Cvss {
    #[serde(rename = "V2Score")]
    v2_score: Option<f64>,
    #[serde(rename = "V2Vector")]
    v2_vector: Option<String>,
    #[serde(rename = "V3Score")]
    v3_score: Option<f64>,
    #[serde(rename = "V3Vector")]
    v3_vector: Option<String>,
    #[serde(rename = "V40Score")]
    v40_score: Option<f64>,
    #[serde(rename = "V40Vector")]
    v40_vector: Option<String>,
}

impl From<RawVulnerability> for Converted {
    fn from(raw: RawVulnerability) -> Self {
        let fixed_version = non_empty(raw.fixed_version);
        let fix_state = match (&fixed_version, raw.status.as_deref()) {
            (Some(_), _) => FixState::Fixed,
            (None, Some(status)) => fix_state(status),
            (None, None) => FixState::Unknown,
        };
        let mut cvss = Vec::new();
        for (source, scores) in raw.cvss.unwrap_or_default() {
            let versions = [
                (CvssVersion::V2, scores.v2_score, scores.v2_vector),
                (CvssVersion::V3, scores.v3_score, scores.v3_vector),
                (CvssVersion::V4, scores.v40_score, scores.v40_vector),
            ];
            for (version, score, vector) in versions {
                if let Some(score) = score.and_then(valid_score) {
                    cvss.push(CvssScore {
                        version,
                        score,
                        source: source.clone(),
                        vector: non_empty(vector),
                    });
                }
            }
        }
        Converted(Vulnerability {
            id: raw.id,
            aliases: Vec::new(),
            package: raw.package,
            installed_version: non_empty(raw.installed_version),
            fixed_version,
            fix_state,
            label: raw.severity.as_deref().map(Severity::from_label),
            cvss,
            title: non_empty(raw.title),
            url: non_empty(raw.url),
            scanner: SCANNER.to_string(),
        })
    }
}

/// Trivy's `Status` values (pkg/types: `fixed`, `affected`, `under_investigation`,
/// `will_not_fix`, `fix_deferred`, `end_of_life`, `not_affected`, `unknown`).
fn fix_state(status: &str) -> FixState {
    match status.trim().to_ascii_lowercase().as_str() {
        "fixed" => FixState::Fixed,
        "affected" | "fix_deferred" | "end_of_life" | "under_investigation" => FixState::NotFixed,
        "will_not_fix" => FixState::WontFix,
        _ => FixState::Unknown,
    }
}

/// Parses a Trivy JSON report.
pub(super) fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    let report: Report = serde_json::from_slice(body)?;
    let results = report.results.unwrap_or_default();
    let count = results
        .iter()
        .map(|r| r.vulnerabilities.as_ref().map_or(0, Vec::len))
        .sum();
    let mut vulnerabilities = Vec::with_capacity(count);
    for result in results {
        vulnerabilities.extend(
            result
                .vulnerabilities
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.0),
        );
    }
    let metadata = report.metadata;
    let (repo_tags, repo_digests) = metadata.map_or_else(Default::default, |m| {
        (
            m.repo_tags.unwrap_or_default(),
            m.repo_digests.unwrap_or_default(),
        )
    });
    Ok(Parsed {
        scanner: SCANNER.to_string(),
        artifact: non_empty(report.artifact_name),
        repo_tags,
        repo_digests,
        vulnerabilities,
    })
}
