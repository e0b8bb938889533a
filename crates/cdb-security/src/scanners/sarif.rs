//! SARIF 2.1.0 logs, as Docker Scout, Trivy and Grype write them.
//!
//! `runs[].tool.driver.name` (lower-cased) is the scanner. Each result of `runs[].results[]`
//! becomes one [`Vulnerability`] (results of kind `pass` or `notApplicable` are not findings
//! and are skipped). Its rule is found by `ruleIndex` when that rule has the result's `ruleId`,
//! else by `ruleId`; a result whose rule is missing is still read from its own fields.
//!
//! SARIF has no standard fields for packages, so each fact is taken from the first place that
//! has it:
//!
//! - the result's `properties` (`purl`, `fixed_version`, `installed_version`, `cvssV3` …, as
//!   Docker Scout writes them);
//! - the result's `message.text`, read as `Key: value` lines (Trivy: `Package: x`,
//!   `Installed Version: y`, `Vulnerability CVE-…`, `Severity: …`, `Fixed Version: z`; Scout:
//!   `Package : pkg:deb/…`, `Fixed version : not fixed`); a package given as a purl is split
//!   into the name and version;
//! - the rule: its `help.text` lines (Grype writes one rule per vulnerability and package) and
//!   its `properties` (Scout: `purls`, `fixed_version`, `cvssV3_severity`). Package facts are
//!   taken from the rule only when the rule is unambiguous: used by this result alone and
//!   naming at most one package. (Trivy's rule help names only one of the packages a CVE
//!   affects, and Scout's rule `fixed_version` is that of one of its `purls`.)
//!
//! The id is the `Vulnerability` line of the message or of the rule's help, else the rule id
//! (Grype's rule ids are `CVE-…-package`). The label is the message's `Severity`, else the
//! properties' `cvssV3_severity`/`severity`, else the help's `Severity`, else a severity word
//! among the rule's `tags`, else the result's `level` (then the rule's default level), mapped by
//! [`Severity::from_label`]. A fixed version of `not fixed` (or an empty one) means no fix; none
//! given at all means the report does not say. `security-severity` (a CVSS-like score) counts as
//! a CVSS v3 score whose source is the tool, as do `cvssv3_baseScore`/`cvssV3` when they differ
//! from it; `cvssv2_score` counts as v2. A result that names no package has an empty package.
//!
//! The artifact is the run's image name (`properties.imageName`, or an `originalUriBaseIds`
//! entry named like `image`), else the first result location's URI; `repoTags` and
//! `repoDigests` come from the run's properties.
//!
//! A run whose `results` are absent (not empty) but whose rules list `purl`/`purls` (early
//! Docker Scout logs) yields one vulnerability per rule and purl, so such a report is not read
//! as clean.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ParseError, Parsed, non_empty, split_purl, top_level_value, valid_score};
use crate::model::{CvssScore, CvssVersion, FixState, Severity, Vulnerability};

#[derive(Debug, Deserialize)]
struct Log {
    runs: Vec<Run>,
}

#[derive(Debug, Deserialize)]
struct Run {
    tool: Tool,
    results: Option<Vec<SarifResult>>,
    properties: Option<Map<String, Value>>,
    #[serde(rename = "originalUriBaseIds")]
    base_ids: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
struct Tool {
    driver: Driver,
}

#[derive(Debug, Deserialize)]
struct Driver {
    name: String,
    rules: Option<Vec<Rule>>,
}

#[derive(Debug, Deserialize)]
struct Rule {
    id: Option<String>,
    #[serde(rename = "shortDescription")]
    short_description: Option<Message>,
    help: Option<Message>,
    #[serde(rename = "helpUri")]
    help_uri: Option<String>,
    properties: Option<Map<String, Value>>,
    #[serde(rename = "defaultConfiguration")]
    default_configuration: Option<Configuration>,
}

#[derive(Debug, Deserialize)]
struct Configuration {
    level: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    text: Option<String>,
    markdown: Option<String>,
}

impl Message {
    fn text(&self) -> &str {
        self.text
            .as_deref()
            .or(self.markdown.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
struct SarifResult {
    #[serde(rename = "ruleId")]
    rule_id: Option<String>,
    #[serde(rename = "ruleIndex")]
    rule_index: Option<i64>,
    rule: Option<RuleReference>,
    kind: Option<String>,
    level: Option<String>,
    message: Option<Message>,
    locations: Option<Vec<ResultLocation>>,
    properties: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
struct RuleReference {
    id: Option<String>,
    index: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct ResultLocation {
    #[serde(rename = "physicalLocation")]
    physical: Option<PhysicalLocation>,
}

#[derive(Debug, Deserialize)]
struct PhysicalLocation {
    #[serde(rename = "artifactLocation")]
    artifact: Option<ArtifactLocation>,
}

#[derive(Debug, Deserialize)]
struct ArtifactLocation {
    uri: Option<String>,
}

/// The only SARIF version read.
const VERSION: &str = "2.1.0";

/// Parses a SARIF 2.1.0 log.
pub(super) fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    if let Some((value, offset)) = top_level_value(body, "version") {
        match serde_json::from_slice::<Value>(value) {
            Ok(Value::String(version)) if version == VERSION => {}
            Ok(Value::String(found)) => return Err(ParseError::Version { found, offset }),
            Ok(other) => {
                return Err(ParseError::Version {
                    found: other.to_string(),
                    offset,
                });
            }
            // Not valid JSON: the full parse below says where.
            Err(_) => {}
        }
    }
    let log: Log = serde_json::from_slice(body)?;
    let mut parsed = Parsed::default();
    let mut scanners: Vec<String> = Vec::new();
    let mut first_uri = None;
    for (run_number, run) in log.runs.into_iter().enumerate() {
        let scanner = non_empty(Some(run.tool.driver.name))
            .map_or_else(|| "sarif".to_string(), |n| n.to_ascii_lowercase());
        if !scanners.contains(&scanner) {
            scanners.push(scanner.clone());
        }
        let props = run.properties.as_ref();
        if parsed.artifact.is_none() {
            parsed.artifact = image_name(props, run.base_ids.as_ref());
        }
        if parsed.repo_tags.is_empty() {
            parsed.repo_tags = string_list(props, "repoTags");
        }
        if parsed.repo_digests.is_empty() {
            parsed.repo_digests = string_list(props, "repoDigests");
        }
        let rules = run.tool.driver.rules.unwrap_or_default();
        let Some(results) = run.results else {
            from_rules(&rules, &scanner, &mut parsed.vulnerabilities);
            continue;
        };
        let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(rules.len());
        for (index, rule) in rules.iter().enumerate() {
            if let Some(id) = rule.id.as_deref() {
                by_id.entry(id).or_insert(index);
            }
        }
        let resolved: Vec<Option<usize>> =
            results.iter().map(|r| resolve(r, &rules, &by_id)).collect();
        let mut uses = vec![0usize; rules.len()];
        for index in resolved.iter().flatten() {
            if let Some(count) = uses.get_mut(*index) {
                *count += 1;
            }
        }
        parsed.vulnerabilities.reserve(results.len());
        for (result_number, (result, index)) in results.iter().zip(resolved).enumerate() {
            if first_uri.is_none() {
                first_uri = result
                    .locations
                    .iter()
                    .flatten()
                    .filter_map(|l| l.physical.as_ref()?.artifact.as_ref()?.uri.clone())
                    .find_map(|u| non_empty(Some(u)));
            }
            if matches!(result.kind.as_deref(), Some("pass" | "notApplicable")) {
                continue;
            }
            let rule = index.and_then(|i| rules.get(i));
            let sole = index.is_some_and(|i| uses.get(i) == Some(&1));
            let vulnerability = read_result(result, rule, sole, &scanner).ok_or_else(|| {
                ParseError::Shape(format!(
                    "result {} of run {} names no rule and no vulnerability",
                    result_number + 1,
                    run_number + 1
                ))
            })?;
            parsed.vulnerabilities.push(vulnerability);
        }
    }
    if parsed.artifact.is_none() {
        parsed.artifact = first_uri;
    }
    parsed.scanner = if scanners.is_empty() {
        "sarif".to_string()
    } else {
        scanners.join(", ")
    };
    Ok(parsed)
}

/// The result's rule: by index when that rule has the result's id, else by id.
fn resolve(result: &SarifResult, rules: &[Rule], by_id: &HashMap<&str, usize>) -> Option<usize> {
    let reference = result.rule.as_ref();
    let id = result
        .rule_id
        .as_deref()
        .or_else(|| reference.and_then(|r| r.id.as_deref()));
    let index = result
        .rule_index
        .or_else(|| reference.and_then(|r| r.index))
        .and_then(|i| usize::try_from(i).ok());
    if let Some(index) = index
        && let Some(rule) = rules.get(index)
        && (id.is_none() || rule.id.as_deref() == id)
    {
        return Some(index);
    }
    id.and_then(|id| by_id.get(id).copied())
}

/// `Key: value` lines of a message or help text, keys lower-cased with spaces collapsed; a
/// `Vulnerability CVE-…` line (Trivy, Grype) counts as the key `vulnerability`.
#[derive(Debug, Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn read(text: &str) -> Fields {
        let mut fields = Vec::new();
        for line in text.lines() {
            let line = line.trim().trim_matches('*').trim();
            if let Some((key, value)) = line.split_once(':') {
                let key = key.split_whitespace().collect::<Vec<_>>().join(" ");
                if !key.is_empty() && key.len() <= 40 {
                    fields.push((key.to_ascii_lowercase(), value.trim().to_string()));
                }
            } else if line
                .get(..14)
                .is_some_and(|p| p.eq_ignore_ascii_case("vulnerability "))
                && let Some(id) = line.get(14..)
            {
                fields.push(("vulnerability".to_string(), id.trim().to_string()));
            }
        }
        Fields(fields)
    }

    /// The first field with one of `keys`, as written (possibly empty).
    fn raw(&self, keys: &[&str]) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| keys.contains(&k.as_str()))
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty field with one of `keys`.
    fn get(&self, keys: &[&str]) -> Option<&str> {
        self.raw(keys).filter(|v| !v.is_empty())
    }
}

const PACKAGE: &[&str] = &["package", "package name", "pkgname"];
const INSTALLED: &[&str] = &["installed version", "installed", "version"];
const FIXED: &[&str] = &["fixed version", "fix version", "fixed in"];
const SEVERITY: &[&str] = &["severity"];
const ID: &[&str] = &["vulnerability", "vulnerability id"];

const P_PACKAGE: &[&str] = &["package", "pkgName", "package_name"];
const P_INSTALLED: &[&str] = &["installed_version", "installedVersion"];
const P_FIXED: &[&str] = &["fixed_version", "fixedVersion", "fix_version"];
const P_SEVERITY: &[&str] = &["cvssV3_severity", "severity"];
const P_SCORE: &[&str] = &["security-severity"];
const P_V3: &[&str] = &["cvssv3_baseScore", "cvssV3", "cvssV3_score", "cvssv3_score"];
const P_V3_VECTOR: &[&str] = &["cvssv3_vector", "cvssV3_vector"];
const P_V2: &[&str] = &["cvssv2_score", "cvssV2", "cvssV2_score"];
const P_V2_VECTOR: &[&str] = &["cvssv2_vector", "cvssV2_vector"];

fn read_result(
    result: &SarifResult,
    rule: Option<&Rule>,
    sole: bool,
    scanner: &str,
) -> Option<Vulnerability> {
    let message = Fields::read(result.message.as_ref().map_or("", Message::text));
    let help = Fields::read(rule.and_then(|r| r.help.as_ref()).map_or("", Message::text));
    let props = result.properties.as_ref();
    let rule_props = rule.and_then(|r| r.properties.as_ref());
    let rule_purls = purls(rule_props);
    // Package facts of the rule apply only when the rule is this result's alone.
    let rule_specific = sole && rule_purls.len() <= 1;
    let specific_help = if rule_specific {
        &help
    } else {
        &Fields::default()
    };

    let id = message
        .get(ID)
        .or_else(|| help.get(ID))
        .map(str::to_string)
        .or_else(|| result.rule_id.clone())
        .or_else(|| result.rule.as_ref().and_then(|r| r.id.clone()))
        .or_else(|| rule.and_then(|r| r.id.clone()))
        .and_then(|id| non_empty(Some(id)))?;

    let (package, purl_version) = prop_str(props, &["purl"])
        .map(|p| package_of(&p))
        .or_else(|| prop_str(props, P_PACKAGE).map(|p| package_of(&p)))
        .or_else(|| message.get(PACKAGE).map(package_of))
        .or_else(|| match rule_purls.as_slice() {
            [only] => Some(package_of(only)),
            _ => None,
        })
        .or_else(|| specific_help.get(PACKAGE).map(package_of))
        .unwrap_or_default();
    let installed_version = prop_str(props, P_INSTALLED)
        .or_else(|| message.get(INSTALLED).map(str::to_string))
        .or(purl_version)
        .or_else(|| specific_help.get(INSTALLED).map(str::to_string));

    let fixed = prop_str(props, P_FIXED)
        .or_else(|| message.raw(FIXED).map(str::to_string))
        .or_else(|| {
            if rule_specific {
                prop_str(rule_props, P_FIXED).or_else(|| help.raw(FIXED).map(str::to_string))
            } else {
                None
            }
        });
    let (fixed_version, fix_state) = fixed.map_or((None, FixState::Unknown), |f| fix_of(&f));

    let label = message
        .get(SEVERITY)
        .map(str::to_string)
        .or_else(|| prop_str(props, P_SEVERITY))
        .or_else(|| help.get(SEVERITY).map(str::to_string))
        .or_else(|| prop_str(rule_props, P_SEVERITY))
        .or_else(|| severity_tag(rule_props))
        .or_else(|| result.level.clone())
        .or_else(|| {
            rule.and_then(|r| r.default_configuration.as_ref())
                .and_then(|c| c.level.clone())
        })
        .map(|l| Severity::from_label(&l));

    let mut cvss = Vec::new();
    push_scores(&mut cvss, rule_props, scanner);
    push_scores(&mut cvss, props, scanner);

    Some(Vulnerability {
        id,
        aliases: Vec::new(),
        package,
        installed_version: non_empty(installed_version),
        fixed_version,
        fix_state,
        label,
        cvss,
        title: rule
            .and_then(|r| r.short_description.as_ref())
            .and_then(|m| non_empty(m.text.clone())),
        url: rule
            .and_then(|r| r.help_uri.clone())
            .and_then(|u| non_empty(Some(u))),
        scanner: scanner.to_string(),
    })
}

/// A run without results: one vulnerability per rule and purl, from the rule's properties.
fn from_rules(rules: &[Rule], scanner: &str, out: &mut Vec<Vulnerability>) {
    for rule in rules {
        let Some(id) = rule.id.clone().and_then(|id| non_empty(Some(id))) else {
            continue;
        };
        let props = rule.properties.as_ref();
        let (fixed_version, fix_state) =
            prop_str(props, P_FIXED).map_or((None, FixState::Unknown), |f| fix_of(&f));
        let label = prop_str(props, P_SEVERITY)
            .or_else(|| severity_tag(props))
            .map(|l| Severity::from_label(&l));
        let mut cvss = Vec::new();
        push_scores(&mut cvss, props, scanner);
        for purl in purls(props) {
            let (package, installed_version) = package_of(&purl);
            out.push(Vulnerability {
                id: id.clone(),
                aliases: Vec::new(),
                package,
                installed_version,
                fixed_version: fixed_version.clone(),
                fix_state,
                label,
                cvss: cvss.clone(),
                title: rule
                    .short_description
                    .as_ref()
                    .and_then(|m| non_empty(m.text.clone())),
                url: rule.help_uri.clone().and_then(|u| non_empty(Some(u))),
                scanner: scanner.to_string(),
            });
        }
    }
}

/// A package as written: a purl is split into name and version, anything else is the name.
fn package_of(text: &str) -> (String, Option<String>) {
    let text = text.trim();
    if text.starts_with("pkg:")
        && let Some(split) = split_purl(text)
    {
        return split;
    }
    (text.to_string(), None)
}

/// A fixed-version text: `not fixed`, empty and the like mean no fix.
fn fix_of(text: &str) -> (Option<String>, FixState) {
    let trimmed = text.trim();
    match trimmed.to_ascii_lowercase().as_str() {
        "" | "not fixed" | "not-fixed" | "none" | "n/a" | "-" => (None, FixState::NotFixed),
        "wont fix" | "won't fix" | "wont-fix" | "will not fix" | "will_not_fix" => {
            (None, FixState::WontFix)
        }
        _ => (Some(trimmed.to_string()), FixState::Fixed),
    }
}

/// A property as text (strings as they are, numbers written out).
fn prop_str(props: Option<&Map<String, Value>>, keys: &[&str]) -> Option<String> {
    let props = props?;
    keys.iter().find_map(|key| match props.get(*key)? {
        Value::String(s) => non_empty(Some(s.clone())),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// A property as a CVSS score (a number, or a number written as a string).
fn prop_score(props: Option<&Map<String, Value>>, keys: &[&str]) -> Option<f64> {
    let props = props?;
    keys.iter().find_map(|key| {
        let score = match props.get(*key)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        score.and_then(valid_score)
    })
}

/// `purl` or `purls` of a property bag.
fn purls(props: Option<&Map<String, Value>>) -> Vec<String> {
    let Some(props) = props else {
        return Vec::new();
    };
    let mut out: Vec<String> = match props.get("purls") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|s| non_empty(Some(s.to_string())))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(Value::String(purl)) = props.get("purl")
        && let Some(purl) = non_empty(Some(purl.clone()))
        && !out.contains(&purl)
    {
        out.push(purl);
    }
    out
}

/// The first of a rule's `tags` that is a severity word (Trivy tags rules `MEDIUM` …).
fn severity_tag(props: Option<&Map<String, Value>>) -> Option<String> {
    props?
        .get("tags")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|tag| {
            matches!(
                tag.trim().to_ascii_lowercase().as_str(),
                "critical"
                    | "high"
                    | "medium"
                    | "moderate"
                    | "low"
                    | "negligible"
                    | "unknown"
                    | "unspecified"
            )
        })
        .map(str::to_string)
}

fn push_scores(out: &mut Vec<CvssScore>, props: Option<&Map<String, Value>>, scanner: &str) {
    let v3_vector = prop_str(props, P_V3_VECTOR);
    let security = prop_score(props, P_SCORE);
    let v3 = prop_score(props, P_V3);
    let mut push = |version, score: f64, vector: Option<String>| {
        let duplicate = out
            .iter()
            .any(|c| c.version == version && c.score.to_bits() == score.to_bits());
        if !duplicate {
            out.push(CvssScore {
                version,
                score,
                source: scanner.to_string(),
                vector,
            });
        }
    };
    if let Some(score) = security {
        let vector = if v3.is_none() || v3 == Some(score) {
            v3_vector.clone()
        } else {
            None
        };
        push(CvssVersion::V3, score, vector);
    }
    if let Some(score) = v3 {
        push(CvssVersion::V3, score, v3_vector);
    }
    if let Some(score) = prop_score(props, P_V2) {
        push(CvssVersion::V2, score, prop_str(props, P_V2_VECTOR));
    }
}

/// The scanned image's name from a run's properties or base URIs.
fn image_name(
    props: Option<&Map<String, Value>>,
    base_ids: Option<&Map<String, Value>>,
) -> Option<String> {
    prop_str(props, &["imageName", "image", "imageRef", "artifactName"]).or_else(|| {
        base_ids?
            .iter()
            .filter(|(key, _)| key.to_ascii_lowercase().contains("image"))
            .find_map(|(_, value)| non_empty(value.get("uri")?.as_str().map(str::to_string)))
    })
}

fn string_list(props: Option<&Map<String, Value>>, key: &str) -> Vec<String> {
    props
        .and_then(|p| p.get(key))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(json: &str) -> Parsed {
        parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn message_fields() {
        let fields = Fields::read(
            "Package: libssl1.1\nInstalled Version: 1.1.1c-r0\nVulnerability CVE-2019-1549\n\
             Severity: MEDIUM\nFixed Version: \nLink: [CVE-2019-1549](https://x/y)",
        );
        assert_eq!(fields.get(PACKAGE), Some("libssl1.1"));
        assert_eq!(fields.get(INSTALLED), Some("1.1.1c-r0"));
        assert_eq!(fields.get(ID), Some("CVE-2019-1549"));
        assert_eq!(fields.raw(FIXED), Some(""));
        assert_eq!(fields.get(FIXED), None);
        let scout = Fields::read("Vulnerability    :CVE-1\nFixed version    :not fixed\n");
        assert_eq!(scout.get(ID), Some("CVE-1"));
        assert_eq!(scout.get(FIXED), Some("not fixed"));
        assert!(Fields::read("").0.is_empty());
        assert!(Fields::read("vulnerabilit").0.is_empty());
    }

    #[test]
    fn grype_sarif_rules_are_per_package() {
        // Shaped like `grype -o sarif`: one rule per (vulnerability, package), facts in the help.
        let log = r#"{"version": "2.1.0", "runs": [{
            "tool": {"driver": {"name": "grype", "rules": [{
                "id": "CVE-2000-0001-libfoo",
                "shortDescription": {"text": "CVE-2000-0001 high vulnerability for libfoo package"},
                "help": {"text": "Vulnerability CVE-2000-0001\nSeverity: high\nPackage: libfoo\nVersion: 1.0\nFix Version: 1.1\nType: deb"},
                "properties": {"security-severity": "7.5"}
            }]}},
            "results": [{
                "ruleId": "CVE-2000-0001-libfoo",
                "message": {"text": "The path /x reports libfoo at version 1.0 which is a vulnerable (deb) package"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "image/x"}}}]
            }]
        }]}"#;
        let parsed = parse_str(log);
        assert_eq!(parsed.scanner, "grype");
        assert_eq!(parsed.artifact.as_deref(), Some("image/x"));
        let [v] = parsed.vulnerabilities.as_slice() else {
            panic!("one vulnerability expected");
        };
        assert_eq!(v.id, "CVE-2000-0001");
        assert_eq!(v.package, "libfoo");
        assert_eq!(v.installed_version.as_deref(), Some("1.0"));
        assert_eq!(v.fixed_version.as_deref(), Some("1.1"));
        assert_eq!(v.fix_state, FixState::Fixed);
        assert_eq!(v.label, Some(Severity::High));
        assert_eq!(v.cvss.len(), 1);
        assert_eq!(v.cvss[0].score, 7.5);
        assert_eq!(v.cvss[0].source, "grype");
    }

    #[test]
    fn shared_rule_facts_are_not_applied() {
        // Two results share a rule whose help names one package: the other result must not
        // inherit that package's fixed version.
        let log = r#"{"version": "2.1.0", "runs": [{
            "tool": {"driver": {"name": "Trivy", "rules": [{
                "id": "CVE-1",
                "help": {"text": "Vulnerability CVE-1\nSeverity: LOW\nPackage: b\nFixed Version: 2"}
            }]}},
            "results": [
                {"ruleId": "CVE-1", "ruleIndex": 0, "level": "note", "message": {"text": "Package: a\nInstalled Version: 1"}},
                {"ruleId": "CVE-1", "ruleIndex": 0, "message": {"text": "Package: b\nFixed Version: 2"}}
            ]
        }]}"#;
        let parsed = parse_str(log);
        let [a, b] = parsed.vulnerabilities.as_slice() else {
            panic!("two vulnerabilities expected");
        };
        assert_eq!((a.package.as_str(), a.fix_state), ("a", FixState::Unknown));
        assert_eq!(a.fixed_version, None);
        assert_eq!(a.label, Some(Severity::Low));
        assert_eq!((b.package.as_str(), b.fix_state), ("b", FixState::Fixed));
        assert_eq!(parsed.scanner, "trivy");
    }

    #[test]
    fn scout_result_properties_and_rules_without_results() {
        let log = r#"{"version": "2.1.0", "runs": [
            {"tool": {"driver": {"name": "docker scout"}},
             "results": [{"ruleId": "CVE-2", "kind": "fail", "level": "error",
                "properties": {"purl": "pkg:pypi/requests@2.0.0", "fixed_version": "2.31.0", "cvssV3": 6.1, "cvssV3_vector": "CVSS:3.1/AV:N"},
                "message": {"text": "x"}},
                {"ruleId": "CVE-3", "kind": "pass", "message": {"text": "fine"}}]},
            {"tool": {"driver": {"name": "docker scout", "rules": [{"id": "GMS-1",
                "properties": {"purl": "pkg:maven/com.thoughtworks.xstream/xstream@1.4.5", "fixed_version": "not fixed",
                               "cvssV3_severity": "UNSPECIFIED", "security-severity": "3.1"}}]}}}
        ]}"#;
        let parsed = parse_str(log);
        assert_eq!(parsed.scanner, "docker scout");
        let [a, b] = parsed.vulnerabilities.as_slice() else {
            panic!("two vulnerabilities expected");
        };
        assert_eq!(a.package, "requests");
        assert_eq!(a.installed_version.as_deref(), Some("2.0.0"));
        assert_eq!(a.fixed_version.as_deref(), Some("2.31.0"));
        assert_eq!(a.label, Some(Severity::High));
        assert_eq!(a.cvss[0].vector.as_deref(), Some("CVSS:3.1/AV:N"));
        assert_eq!(b.id, "GMS-1");
        assert_eq!(b.package, "com.thoughtworks.xstream:xstream");
        assert_eq!(b.fix_state, FixState::NotFixed);
        assert_eq!(b.label, Some(Severity::Unknown));
        assert_eq!(b.cvss[0].score, 3.1);
    }

    #[test]
    fn result_without_any_id_is_invalid() {
        let log = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
            "results": [{"message": {"text": "something"}}]}]}"#;
        assert!(matches!(parse(log.as_bytes()), Err(ParseError::Shape(_))));
    }
}
