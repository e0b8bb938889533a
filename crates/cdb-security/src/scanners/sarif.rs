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
//!   naming at most one package (a rule listing exactly one purl names the package of every
//!   result that does not name its own). Trivy's rule help names only one of the packages a
//!   CVE affects, and Scout's rule `fixed_version` is that of one of its `purls`.
//!
//! The id is the `Vulnerability` line of the message or of the rule's help, else the rule id
//! (Grype's rule ids are `CVE-…-package`). The label is the message's `Severity`, else the
//! result properties' `cvssV3_severity`/`severity`, else the help's `Severity`, else the rule
//! properties', else a severity word among the rule's `tags`, else the result's `level` (then
//! the rule's default level), mapped by [`Severity::from_label`]. A fixed version of
//! `not fixed` (or an empty one) means no fix; none given at all means the report does not say.
//! `security-severity` (a CVSS-like score) counts as a CVSS v3 score whose source is the tool,
//! as do `cvssv3_baseScore`/`cvssV3` when they differ from it; `cvssv2_score` counts as v2. A
//! result that names no package has an empty package.
//!
//! The artifact is the run's image name (`properties.imageName`, or an `originalUriBaseIds`
//! entry named like `image`), else the first result location's URI; `repoTags` and
//! `repoDigests` come from the run's properties.
//!
//! A run whose `results` are absent (not empty) but whose rules list `purl`/`purls` (early
//! Docker Scout logs) yields one vulnerability per rule and purl, so such a report is not read
//! as clean.
//!
//! Results are converted while they are parsed when the run's `tool` comes first (as every
//! writer puts it), so a large log is not held twice; facts that depend on how many results
//! share a rule are filled in at the end of the run.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{ParseError, Parsed, non_empty, split_purl, top_level_value, valid_score};
use crate::model::{CvssScore, CvssVersion, FixState, Severity, Vulnerability};

/// The only SARIF version read.
const VERSION: &str = "2.1.0";

#[derive(Debug, Deserialize)]
struct Log {
    runs: Vec<RunOut>,
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
    for run in log.runs {
        if !scanners.contains(&run.scanner) {
            scanners.push(run.scanner);
        }
        if parsed.artifact.is_none() {
            parsed.artifact = run.image;
        }
        if first_uri.is_none() {
            first_uri = run.first_uri;
        }
        if parsed.repo_tags.is_empty() {
            parsed.repo_tags = run.repo_tags;
        }
        if parsed.repo_digests.is_empty() {
            parsed.repo_digests = run.repo_digests;
        }
        if parsed.vulnerabilities.is_empty() {
            parsed.vulnerabilities = run.vulnerabilities;
        } else {
            parsed.vulnerabilities.extend(run.vulnerabilities);
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

/// One run, read: its vulnerabilities and what it says about the scanned artifact.
#[derive(Debug)]
struct RunOut {
    scanner: String,
    image: Option<String>,
    repo_tags: Vec<String>,
    repo_digests: Vec<String>,
    first_uri: Option<String>,
    vulnerabilities: Vec<Vulnerability>,
}

impl<'de> Deserialize<'de> for RunOut {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RunVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(field_identifier)]
enum RunKey {
    #[serde(rename = "tool")]
    Tool,
    #[serde(rename = "results")]
    Results,
    #[serde(rename = "properties")]
    Properties,
    #[serde(rename = "originalUriBaseIds")]
    BaseIds,
    #[serde(other)]
    Other,
}

struct RunVisitor;

impl<'de> Visitor<'de> for RunVisitor {
    type Value = RunOut;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SARIF run object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RunOut, A::Error> {
        let mut context: Option<RunContext> = None;
        let mut state = RunState::default();
        let mut buffered: Option<Vec<SarifResult>> = None;
        let mut results_seen = false;
        let mut has_results = false;
        let mut properties: Option<Map<String, Value>> = None;
        let mut base_ids: Option<Map<String, Value>> = None;
        while let Some(key) = map.next_key::<RunKey>()? {
            match key {
                RunKey::Tool => {
                    if context.is_some() {
                        return Err(de::Error::duplicate_field("tool"));
                    }
                    context = Some(RunContext::new(map.next_value()?));
                }
                RunKey::Results => {
                    if results_seen {
                        return Err(de::Error::duplicate_field("results"));
                    }
                    results_seen = true;
                    has_results = match &context {
                        Some(context) => map.next_value_seed(ResultsSeed {
                            context,
                            state: &mut state,
                        })?,
                        None => {
                            buffered = map.next_value()?;
                            buffered.is_some()
                        }
                    };
                }
                RunKey::Properties => properties = map.next_value()?,
                RunKey::BaseIds => base_ids = map.next_value()?,
                RunKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let context = context.ok_or_else(|| de::Error::missing_field("tool"))?;
        for result in buffered.into_iter().flatten() {
            state.push(&context, result).map_err(de::Error::custom)?;
        }
        let props = properties.as_ref();
        let first_uri = state.first_uri.take();
        let mut vulnerabilities = state.finish(&context);
        if !has_results {
            from_rules(&context, &mut vulnerabilities);
        }
        Ok(RunOut {
            image: image_name(props, base_ids.as_ref()),
            repo_tags: string_list(props, "repoTags"),
            repo_digests: string_list(props, "repoDigests"),
            first_uri,
            scanner: context.scanner,
            vulnerabilities,
        })
    }
}

/// Reads a run's `results` array, converting each result as soon as it is parsed. Yields
/// whether the array was there (`null` counts as absent).
struct ResultsSeed<'a> {
    context: &'a RunContext,
    state: &'a mut RunState,
}

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ResultsSeed<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of SARIF results")
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while let Some(result) = seq.next_element::<SarifResult>()? {
            self.state
                .push(self.context, result)
                .map_err(de::Error::custom)?;
        }
        Ok(true)
    }
}

/// A run's tool and what its rules say, read once per rule.
#[derive(Debug)]
struct RunContext {
    scanner: String,
    rules: Vec<RuleFacts>,
    by_id: HashMap<String, usize>,
}

/// What one rule says. Vulnerability-level facts apply to every result of the rule; package
/// facts (`help_package`, `help_installed`, `fixed`) only to the rule's sole result.
#[derive(Debug, Default)]
struct RuleFacts {
    id: Option<String>,
    help_id: Option<String>,
    label: Option<String>,
    default_level: Option<String>,
    cvss: Vec<CvssScore>,
    title: Option<String>,
    url: Option<String>,
    purls: Vec<String>,
    help_package: Option<String>,
    help_installed: Option<String>,
    fixed: Option<String>,
}

impl RunContext {
    fn new(tool: Tool) -> RunContext {
        let scanner = non_empty(Some(tool.driver.name))
            .map_or_else(|| "sarif".to_string(), |n| n.to_ascii_lowercase());
        let rules: Vec<RuleFacts> = tool
            .driver
            .rules
            .unwrap_or_default()
            .into_iter()
            .map(|rule| RuleFacts::new(rule, &scanner))
            .collect();
        let mut by_id = HashMap::with_capacity(rules.len());
        for (index, rule) in rules.iter().enumerate() {
            if let Some(id) = &rule.id {
                by_id.entry(id.clone()).or_insert(index);
            }
        }
        RunContext {
            scanner,
            rules,
            by_id,
        }
    }

    /// The result's rule: by index when that rule has the result's id, else by id.
    fn resolve(&self, result: &SarifResult) -> Option<usize> {
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
            && let Some(rule) = self.rules.get(index)
            && (id.is_none() || rule.id.as_deref() == id)
        {
            return Some(index);
        }
        id.and_then(|id| self.by_id.get(id).copied())
    }
}

impl RuleFacts {
    fn new(rule: Rule, scanner: &str) -> RuleFacts {
        let props = rule.properties.as_ref();
        let help = rule.help.as_ref().map_or("", Message::text);
        let help = Fields::read(help);
        let mut cvss = Vec::new();
        push_scores(&mut cvss, props, scanner);
        RuleFacts {
            help_id: help.get(ID).map(str::to_string),
            label: help
                .get(SEVERITY)
                .map(str::to_string)
                .or_else(|| prop_str(props, P_SEVERITY))
                .or_else(|| severity_tag(props)),
            default_level: rule.default_configuration.and_then(|c| c.level),
            cvss,
            title: rule.short_description.and_then(|m| non_empty(m.text)),
            url: non_empty(rule.help_uri),
            purls: purls(props),
            help_package: help.get(PACKAGE).map(str::to_string),
            help_installed: help.get(INSTALLED).map(str::to_string),
            fixed: prop_str(props, P_FIXED).or_else(|| help.raw(FIXED).map(str::to_string)),
            id: non_empty(rule.id),
        }
    }
}

/// A converted result that still lacks package facts its rule may give.
#[derive(Debug)]
struct Pending {
    vulnerability: usize,
    rule: usize,
    package: bool,
    installed: bool,
    fixed: bool,
}

/// The vulnerabilities of a run so far.
#[derive(Debug, Default)]
struct RunState {
    vulnerabilities: Vec<Vulnerability>,
    pending: Vec<Pending>,
    /// How many results use each rule (grown on demand).
    uses: Vec<usize>,
    first_uri: Option<String>,
    count: usize,
}

impl RunState {
    /// Converts one result; an error names a result that names no vulnerability at all.
    fn push(&mut self, context: &RunContext, result: SarifResult) -> Result<(), String> {
        self.count += 1;
        if self.first_uri.is_none() {
            self.first_uri = result
                .locations
                .iter()
                .flatten()
                .filter_map(|l| l.physical.as_ref()?.artifact.as_ref()?.uri.clone())
                .find_map(|u| non_empty(Some(u)));
        }
        if matches!(result.kind.as_deref(), Some("pass" | "notApplicable")) {
            return Ok(());
        }
        let index = context.resolve(&result);
        let rule = index.and_then(|i| context.rules.get(i));
        if let Some(i) = index {
            if self.uses.len() <= i {
                self.uses.resize(i + 1, 0);
            }
            if let Some(count) = self.uses.get_mut(i) {
                *count += 1;
            }
        }
        let message = Fields::read(result.message.as_ref().map_or("", Message::text));
        let props = result.properties.as_ref();

        let id = message
            .get(ID)
            .map(str::to_string)
            .or_else(|| rule.and_then(|r| r.help_id.clone()))
            .or_else(|| result.rule_id.clone())
            .or_else(|| result.rule.as_ref().and_then(|r| r.id.clone()))
            .or_else(|| rule.and_then(|r| r.id.clone()))
            .and_then(|id| non_empty(Some(id)))
            .ok_or_else(|| {
                format!(
                    "result {} names no rule and no vulnerability (no `ruleId`, no \
                     `Vulnerability` line)",
                    self.count
                )
            })?;

        let package = prop_str(props, &["purl"])
            .map(|p| package_of(&p))
            .or_else(|| prop_str(props, P_PACKAGE).map(|p| package_of(&p)))
            .or_else(|| message.get(PACKAGE).map(package_of))
            .or_else(|| match rule.map(|r| r.purls.as_slice()) {
                Some([only]) => Some(package_of(only)),
                _ => None,
            });
        let (package, purl_version) = match package {
            Some((package, version)) => (Some(package), version),
            None => (None, None),
        };
        let installed_version = prop_str(props, P_INSTALLED)
            .or_else(|| message.get(INSTALLED).map(str::to_string))
            .or(purl_version);
        let fixed = prop_str(props, P_FIXED).or_else(|| message.raw(FIXED).map(str::to_string));
        let (fixed_version, fix_state) = fixed.as_deref().map_or((None, FixState::Unknown), fix_of);

        let label = message
            .get(SEVERITY)
            .map(str::to_string)
            .or_else(|| prop_str(props, P_SEVERITY))
            .or_else(|| rule.and_then(|r| r.label.clone()))
            .or_else(|| result.level.clone())
            .or_else(|| rule.and_then(|r| r.default_level.clone()))
            .map(|l| Severity::from_label(&l));

        let mut cvss = rule.map(|r| r.cvss.clone()).unwrap_or_default();
        push_scores(&mut cvss, props, &context.scanner);

        if let Some(rule) = index
            && (package.is_none() || installed_version.is_none() || fixed.is_none())
        {
            self.pending.push(Pending {
                vulnerability: self.vulnerabilities.len(),
                rule,
                package: package.is_none(),
                installed: installed_version.is_none(),
                fixed: fixed.is_none(),
            });
        }
        self.vulnerabilities.push(Vulnerability {
            id,
            aliases: Vec::new(),
            package: package.unwrap_or_default(),
            installed_version: non_empty(installed_version),
            fixed_version,
            fix_state,
            label,
            cvss,
            title: rule.and_then(|r| r.title.clone()),
            url: rule.and_then(|r| r.url.clone()),
            scanner: context.scanner.clone(),
        });
        Ok(())
    }

    /// Fills in the package facts of results whose rule is theirs alone.
    fn finish(mut self, context: &RunContext) -> Vec<Vulnerability> {
        for pending in std::mem::take(&mut self.pending) {
            let Some(rule) = context.rules.get(pending.rule) else {
                continue;
            };
            let sole = self.uses.get(pending.rule) == Some(&1);
            let Some(vulnerability) = self.vulnerabilities.get_mut(pending.vulnerability) else {
                continue;
            };
            if !sole || rule.purls.len() > 1 {
                continue;
            }
            let mut purl_version = None;
            if pending.package
                && let Some(package) = &rule.help_package
            {
                let (name, version) = package_of(package);
                vulnerability.package = name;
                purl_version = version;
            }
            if pending.installed && vulnerability.installed_version.is_none() {
                vulnerability.installed_version =
                    non_empty(purl_version.or_else(|| rule.help_installed.clone()));
            }
            if pending.fixed
                && let Some(fixed) = &rule.fixed
            {
                (vulnerability.fixed_version, vulnerability.fix_state) = fix_of(fixed);
            }
        }
        self.vulnerabilities
    }
}

/// `Key: value` lines of a message or help text; a `Vulnerability CVE-…` line (Trivy, Grype)
/// counts as the key `vulnerability`. Keys match case-insensitively, whatever their spacing.
#[derive(Debug, Default)]
struct Fields<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Fields<'a> {
    fn read(text: &'a str) -> Fields<'a> {
        let mut fields = Vec::new();
        for line in text.lines() {
            let line = line.trim().trim_matches('*').trim();
            if let Some((key, value)) = line.split_once(':') {
                let key = key.trim();
                if !key.is_empty() && key.len() <= 40 {
                    fields.push((key, value.trim()));
                }
            } else if line
                .get(..14)
                .is_some_and(|p| p.eq_ignore_ascii_case("vulnerability "))
                && let Some(id) = line.get(14..)
            {
                fields.push(("vulnerability", id.trim()));
            }
        }
        Fields(fields)
    }

    /// The first field with one of `keys` (lower case, words separated by one space), as
    /// written (possibly empty).
    fn raw(&self, keys: &[&str]) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(k, _)| keys.iter().any(|wanted| same_key(k, wanted)))
            .map(|(_, v)| *v)
    }

    /// The first non-empty field with one of `keys`.
    fn get(&self, keys: &[&str]) -> Option<&'a str> {
        self.raw(keys).filter(|v| !v.is_empty())
    }
}

/// `Fixed   version` is `fixed version`.
fn same_key(key: &str, wanted: &str) -> bool {
    let mut words = key.split_whitespace();
    let mut want = wanted.split(' ');
    loop {
        match (words.next(), want.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => {}
            _ => return false,
        }
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

/// A run without results: one vulnerability per rule and purl, from the rule's properties.
fn from_rules(context: &RunContext, out: &mut Vec<Vulnerability>) {
    for rule in &context.rules {
        let Some(id) = rule.id.clone().or_else(|| rule.help_id.clone()) else {
            continue;
        };
        let (fixed_version, fix_state) = rule
            .fixed
            .as_deref()
            .map_or((None, FixState::Unknown), fix_of);
        for purl in &rule.purls {
            let (package, installed_version) = package_of(purl);
            out.push(Vulnerability {
                id: id.clone(),
                aliases: Vec::new(),
                package,
                installed_version,
                fixed_version: fixed_version.clone(),
                fix_state,
                label: rule.label.as_deref().map(Severity::from_label),
                cvss: rule.cvss.clone(),
                title: rule.title.clone(),
                url: rule.url.clone(),
                scanner: context.scanner.clone(),
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
    super::strings(props.and_then(|p| p.get(key)))
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
        let Err(ParseError::Json(err)) = parse(log.as_bytes()) else {
            panic!("an error expected");
        };
        assert_eq!(err.classify(), serde_json::error::Category::Data);
        assert_eq!(err.line(), 2);
    }
}
