//! Scanner reports: every real fixture read and checked against counts computed independently
//! from its raw JSON, bad input turned into the right diagnostic, and no panic on any bytes.

// Test helpers unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cdb_core::{Diagnostic, SourceMap};
use cdb_security::model::{ReportFormat, ScanReport, Severity};
use cdb_security::scanners::{
    self, EMPTY, INVALID, SYNTAX, UNKNOWN_FORMAT, detect, parse_report, synthesize_trivy_report,
};
use proptest::prelude::*;
use serde_json::Value;

/// The shared scanner fixtures (read-only; see `fixtures/SOURCES.md`).
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/scanners"
);

/// A fixed path for diagnostics, so that snapshots do not depend on the checkout.
const FAKE: &str = "/reports/x.json";

fn fixture_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(Path::new(FIXTURES), &mut files);
    files.sort();
    assert!(
        files.len() >= 7,
        "scanner fixtures missing under {FIXTURES}"
    );
    files
}

fn fixture(relative: &str) -> Vec<u8> {
    std::fs::read(Path::new(FIXTURES).join(relative)).unwrap()
}

fn parse_ok(path: &Path, bytes: &[u8]) -> ScanReport {
    let mut sources = SourceMap::new();
    parse_report(path, bytes, &mut sources)
        .unwrap_or_else(|d| panic!("{} does not parse:\n{}", path.display(), d.render(&sources)))
}

fn parse_err(bytes: &[u8]) -> (Diagnostic, SourceMap) {
    let mut sources = SourceMap::new();
    match parse_report(Path::new(FAKE), bytes, &mut sources) {
        Ok(report) => panic!("parsed, expected an error: {report:?}"),
        Err(diagnostic) => (diagnostic, sources),
    }
}

// ---------------------------------------------------------------------------------------------
// Independent expectations, from the raw JSON.

/// What a report should yield, computed from its raw JSON without the parser.
#[derive(Debug, PartialEq)]
struct Summary {
    format: ReportFormat,
    count: usize,
    labels: BTreeMap<String, usize>,
    fixes: BTreeMap<String, usize>,
    pairs: BTreeSet<(String, String)>,
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn label_name(label: Option<&str>) -> String {
    label.map_or("none".to_string(), |l| Severity::from_label(l).to_string())
}

fn expected(raw: &Value) -> Summary {
    let mut summary = Summary {
        format: ReportFormat::TrivyJson,
        count: 0,
        labels: BTreeMap::new(),
        fixes: BTreeMap::new(),
        pairs: BTreeSet::new(),
    };
    let add = |summary: &mut Summary, id: &str, package: &str, label: String, fix: &str| {
        summary.count += 1;
        *summary.labels.entry(label).or_default() += 1;
        *summary.fixes.entry(fix.to_string()).or_default() += 1;
        summary.pairs.insert((id.to_string(), package.to_string()));
    };
    if raw.get("runs").is_some() {
        summary.format = ReportFormat::Sarif;
        for run in items(raw, "runs") {
            expected_sarif_run(run, &mut |id, package, label, fix| {
                add(&mut summary, id, package, label, fix)
            });
        }
    } else if raw.get("SchemaVersion").is_some() {
        summary.format = ReportFormat::TrivyJson;
        for result in items(raw, "Results") {
            for v in items(result, "Vulnerabilities") {
                let fixed = text(v, "FixedVersion").is_some_and(|f| !f.is_empty());
                let fix = match (fixed, text(v, "Status")) {
                    (true, _) | (false, Some("fixed")) => "fixed",
                    (
                        false,
                        Some("affected" | "fix_deferred" | "end_of_life" | "under_investigation"),
                    ) => "not-fixed",
                    (false, Some("will_not_fix")) => "wont-fix",
                    _ => "unknown",
                };
                let id = text(v, "VulnerabilityID").unwrap();
                let package = text(v, "PkgName").unwrap();
                add(
                    &mut summary,
                    id,
                    package,
                    label_name(text(v, "Severity")),
                    fix,
                );
            }
        }
    } else if raw.get("matches").is_some() {
        summary.format = ReportFormat::GrypeJson;
        for m in items(raw, "matches") {
            let vulnerability = &m["vulnerability"];
            let fix = match vulnerability["fix"]["state"].as_str() {
                Some("fixed") => "fixed",
                Some("not-fixed") => "not-fixed",
                Some("wont-fix") => "wont-fix",
                _ => "unknown",
            };
            let id = text(vulnerability, "id").unwrap();
            let package = m["artifact"]["name"].as_str().unwrap();
            let label = label_name(text(vulnerability, "severity"));
            add(&mut summary, id, package, label, fix);
        }
    } else {
        panic!("fixture of an unknown kind");
    }
    summary
}

/// `Key: value` lines (and Trivy's `Vulnerability CVE-…` line), keys lower-cased.
fn lines_of(message: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for line in message.lines() {
        let (key, value) = match line.split_once(':') {
            Some((k, v)) => (k.trim().to_lowercase(), v.trim().to_string()),
            None => match line.strip_prefix("Vulnerability ") {
                Some(id) => ("vulnerability".to_string(), id.trim().to_string()),
                None => continue,
            },
        };
        fields.entry(key).or_insert(value);
    }
    fields
}

/// The package name in a purl, for the purl types the fixtures use.
fn purl_name(purl: &str) -> String {
    let body = purl.strip_prefix("pkg:").unwrap();
    let body = body.split('?').next().unwrap();
    let body = body.rsplit_once('@').map_or(body, |(b, _)| b);
    let (kind, path) = body.split_once('/').unwrap();
    match kind {
        "golang" => path.to_string(),
        _ => path.rsplit('/').next().unwrap().to_string(),
    }
}

fn expected_sarif_run(run: &Value, add: &mut dyn FnMut(&str, &str, String, &str)) {
    let rules = items(&run["tool"]["driver"], "rules");
    let results = items(run, "results");
    for result in results {
        if matches!(text(result, "kind"), Some("pass" | "notApplicable")) {
            continue;
        }
        let rule_id = text(result, "ruleId").unwrap();
        let rule = rules.iter().find(|r| text(r, "id") == Some(rule_id));
        let uses = results
            .iter()
            .filter(|r| text(r, "ruleId") == Some(rule_id))
            .count();
        let props = rule.map(|r| &r["properties"]);
        let purls: Vec<&str> = props
            .map(|p| items(p, "purls").iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let message = lines_of(result["message"]["text"].as_str().unwrap_or(""));
        let help = lines_of(rule.and_then(|r| r["help"]["text"].as_str()).unwrap_or(""));

        let id = message.get("vulnerability").map_or(rule_id, String::as_str);
        let package = match (message.get("package"), purls.as_slice()) {
            (Some(p), _) if p.starts_with("pkg:") => purl_name(p),
            (Some(p), _) => p.clone(),
            (None, [only]) => purl_name(only),
            (None, _) => String::new(),
        };
        let tag = props.and_then(|p| {
            items(p, "tags")
                .iter()
                .filter_map(Value::as_str)
                .find(|t| Severity::from_label(t) != Severity::Unknown)
        });
        let label = message
            .get("severity")
            .or(help.get("severity"))
            .map(String::as_str)
            .or(props.and_then(|p| text(p, "cvssV3_severity")))
            .or(tag)
            .or(text(result, "level"));
        let rule_fixed = if uses == 1 && purls.len() <= 1 {
            props.and_then(|p| text(p, "fixed_version"))
        } else {
            None
        };
        let fixed = message
            .get("fixed version")
            .map(String::as_str)
            .or(rule_fixed);
        let fix = match fixed.map(str::to_lowercase).as_deref() {
            None => "unknown",
            Some("" | "not fixed") => "not-fixed",
            Some(_) => "fixed",
        };
        add(id, &package, label_name(label), fix);
    }
}

fn summary_of(report: &ScanReport) -> Summary {
    let mut summary = Summary {
        format: report.format,
        count: report.vulnerabilities.len(),
        labels: BTreeMap::new(),
        fixes: BTreeMap::new(),
        pairs: BTreeSet::new(),
    };
    for v in &report.vulnerabilities {
        let label = v.label.map_or("none".to_string(), |l| l.to_string());
        *summary.labels.entry(label).or_default() += 1;
        let fix = serde_json::to_value(v.fix_state).unwrap();
        *summary
            .fixes
            .entry(fix.as_str().unwrap().to_string())
            .or_default() += 1;
        summary.pairs.insert((v.id.clone(), v.package.clone()));
    }
    summary
}

#[test]
fn every_fixture_matches_its_raw_json() {
    for path in fixture_files() {
        let bytes = std::fs::read(&path).unwrap();
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        let want = expected(&raw);
        assert_eq!(detect(&bytes), Some(want.format), "{}", path.display());
        let report = parse_ok(&path, &bytes);
        assert_eq!(summary_of(&report), want, "{}", path.display());
        assert!(want.count > 0, "{}: no vulnerabilities", path.display());
    }
}

/// Literal counts, as a second opinion on the computed ones: `(file, format, count, labels,
/// fix states)`.
#[test]
fn fixture_counts() {
    type Counts = &'static [(&'static str, usize)];
    let table: &[(&str, ReportFormat, usize, Counts, Counts)] = &[
        (
            "grype/ghsa-test.json",
            ReportFormat::GrypeJson,
            2,
            &[("MEDIUM", 2)],
            &[("fixed", 1), ("unknown", 1)],
        ),
        (
            "scout/scout.sarif.json",
            ReportFormat::Sarif,
            7,
            &[
                ("CRITICAL", 1),
                ("HIGH", 1),
                ("LOW", 3),
                ("MEDIUM", 1),
                ("none", 1),
            ],
            &[("fixed", 4), ("not-fixed", 1), ("unknown", 2)],
        ),
        (
            "trivy/alpine-310.sarif.json",
            ReportFormat::Sarif,
            4,
            &[("MEDIUM", 4)],
            &[("fixed", 4)],
        ),
        (
            "trivy/alpine-39-high-critical.json",
            ReportFormat::TrivyJson,
            2,
            &[("CRITICAL", 2)],
            &[("fixed", 2)],
        ),
        (
            "trivy/centos-7.json",
            ReportFormat::TrivyJson,
            3,
            &[("LOW", 2), ("MEDIUM", 1)],
            &[("fixed", 2), ("wont-fix", 1)],
        ),
        (
            "trivy/debian-buster.json",
            ReportFormat::TrivyJson,
            2,
            &[("CRITICAL", 1), ("LOW", 1)],
            &[("fixed", 1), ("not-fixed", 1)],
        ),
        (
            "trivy/pip.json",
            ReportFormat::TrivyJson,
            2,
            &[("HIGH", 1), ("MEDIUM", 1)],
            &[("fixed", 2)],
        ),
    ];
    for (file, format, count, labels, fixes) in table {
        let path = Path::new(FIXTURES).join(file);
        let summary = summary_of(&parse_ok(&path, &fixture(file)));
        assert_eq!(summary.format, *format, "{file}");
        assert_eq!(summary.count, *count, "{file}");
        let to_map = |counts: &Counts| -> BTreeMap<String, usize> {
            counts.iter().map(|(k, n)| (k.to_string(), *n)).collect()
        };
        assert_eq!(summary.labels, to_map(labels), "{file}");
        assert_eq!(summary.fixes, to_map(fixes), "{file}");
    }
}

/// The whole mapping of every fixture, for review: ids, packages, versions, scores, links.
#[test]
fn fixture_reports_snapshot() {
    for path in fixture_files() {
        let bytes = std::fs::read(&path).unwrap();
        let report = parse_ok(Path::new(FAKE), &bytes);
        let name = path
            .strip_prefix(FIXTURES)
            .unwrap()
            .to_string_lossy()
            .replace(['/', '.'], "_");
        insta::assert_yaml_snapshot!(format!("report_{name}"), report);
    }
}

#[test]
fn fixture_quirks() {
    // Trivy's label is its vendor's, and may disagree with the NVD score.
    let debian = parse_ok(Path::new(FAKE), &fixture("trivy/debian-buster.json"));
    let bash = &debian.vulnerabilities[0];
    assert_eq!(bash.label, Some(Severity::Low));
    assert!(
        bash.cvss
            .iter()
            .any(|c| c.source == "nvd" && c.score == 7.8)
    );
    assert_eq!(
        debian.repo_tags,
        ["ghcr.io/aquasecurity/trivy-test-images:debian-buster"]
    );

    // Grype: the GHSA's related CVE is an alias, and its NVD scores count.
    let grype = parse_ok(Path::new(FAKE), &fixture("grype/ghsa-test.json"));
    let ghsa = &grype.vulnerabilities[0];
    assert_eq!(ghsa.aliases, ["CVE-2014-3577"]);
    assert_eq!(ghsa.cvss.len(), 1);
    assert_eq!(ghsa.cvss[0].source, "nvd");
    assert_eq!(ghsa.fixed_version.as_deref(), Some("4.3.5"));
    assert!(
        grype
            .artifact
            .as_deref()
            .unwrap()
            .starts_with("anchore/test_images@sha256:")
    );
    assert_eq!(grype.repo_digests.len(), 1);

    // Scout: a result whose rule is missing is still read; a rule's fixed version is not
    // given to a package the rule does not list.
    let scout = parse_ok(Path::new(FAKE), &fixture("scout/scout.sarif.json"));
    let orphan = scout
        .vulnerabilities
        .iter()
        .find(|v| v.id == "CVE-9999-0000")
        .unwrap();
    assert_eq!(orphan.package, "");
    assert_eq!(orphan.label, None);
    let libssl = scout
        .vulnerabilities
        .iter()
        .find(|v| v.package == "libssl1.1")
        .unwrap();
    assert_eq!(libssl.fixed_version, None);
    assert_eq!(
        libssl.installed_version.as_deref(),
        Some("1.1.1n-0+deb11u4")
    );
    let zlib = scout
        .vulnerabilities
        .iter()
        .find(|v| v.id == "CVE-2018-25032")
        .unwrap();
    assert_eq!(zlib.package, "zlib1g");
    assert_eq!(zlib.fixed_version.as_deref(), Some("1.2.11.dfsg-2+deb11u2"));

    // Trivy SARIF: the image comes from the run's properties.
    let sarif = parse_ok(Path::new(FAKE), &fixture("trivy/alpine-310.sarif.json"));
    assert_eq!(
        sarif.artifact.as_deref(),
        Some("testdata/fixtures/images/alpine-310.tar.gz")
    );
    assert_eq!(sarif.scanner, "trivy");
}

#[test]
fn byte_order_mark_is_skipped() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(fixture("trivy/pip.json"));
    assert_eq!(detect(&bytes), Some(ReportFormat::TrivyJson));
    assert_eq!(parse_ok(Path::new(FAKE), &bytes).vulnerabilities.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Bad input.

#[test]
fn empty_file() {
    for bytes in [&b""[..], b"  \n\t\n", b"\xEF\xBB\xBF\n"] {
        let (d, sources) = parse_err(bytes);
        assert_eq!(d.code, EMPTY);
        assert_eq!(d.location, None);
        assert!(d.help.is_some());
        assert_eq!(sources.files().count(), 0);
    }
}

#[test]
fn truncated_fixtures_are_syntax_errors_with_a_location() {
    for path in fixture_files() {
        let bytes = std::fs::read(&path).unwrap();
        let half = &bytes[..bytes.len() / 2];
        let (d, sources) = parse_err(half);
        assert_eq!(d.code, SYNTAX, "{}", path.display());
        let loc = d.location.expect("a location");
        let file = sources.get(loc.file).expect("the file is registered");
        assert_eq!(file.path, Path::new(FAKE));
        // serde_json points at the last character: the end of the text.
        let offset = sources.byte_offset(loc);
        assert!(
            offset + 1 >= file.text.trim_end().len(),
            "{}",
            path.display()
        );
    }
}

#[test]
fn truncated_fixture_snapshot() {
    let bytes = fixture("trivy/debian-buster.json");
    let (d, sources) = parse_err(&bytes[..bytes.len() / 2]);
    insta::assert_snapshot!("truncated_trivy", d.render(&sources));
}

#[test]
fn json_of_other_kinds_is_an_unknown_format() {
    let others: &[&[u8]] = &[
        b"{}",
        b"[]",
        b"42",
        b"\"report\"",
        b"null",
        br#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}"#,
        br#"{"name": "app", "version": "2.1.0", "dependencies": {}}"#,
        br#"{"SchemaVersion": 2}"#,
        br#"{"matches": []}"#,
        br#"{"version": "1.0", "runs": []}"#,
        br#"[{"Target": "x", "Vulnerabilities": []}]"#,
    ];
    for bytes in others {
        let (d, sources) = parse_err(bytes);
        let shown = String::from_utf8_lossy(bytes);
        assert_eq!(d.code, UNKNOWN_FORMAT, "{shown}");
        assert_eq!(d.location, None, "{shown}");
        assert!(
            d.message
                .contains("not a Trivy JSON, Grype JSON or SARIF 2.1.0 report"),
            "{shown}"
        );
        assert_eq!(sources.files().count(), 0);
    }
}

#[test]
fn other_kind_snapshot() {
    let (d, sources) =
        parse_err(br#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}"#);
    insta::assert_snapshot!("other_kind", d.render(&sources));
}

const SARIF_1: &str = r#"{
  "$schema": "http://json.schemastore.org/sarif-1.0.0",
  "version": "1.0.0",
  "runs": [
    {
      "tool": { "name": "scanner" },
      "results": []
    }
  ]
}
"#;

#[test]
fn sarif_of_another_version() {
    assert_eq!(detect(SARIF_1.as_bytes()), Some(ReportFormat::Sarif));
    let (d, sources) = parse_err(SARIF_1.as_bytes());
    assert_eq!(d.code, UNKNOWN_FORMAT);
    let loc = d.location.expect("points at the version");
    assert_eq!((loc.line, loc.col), (3, 14));
    assert!(sources.get(loc.file).is_some());
    insta::assert_snapshot!("sarif_1", d.render(&sources));
}

#[test]
fn binary_garbage_is_a_syntax_error() {
    let garbage: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    for bytes in [
        &garbage[..],
        b"\x00\x01\x02",
        b"\x89PNG\r\n\x1a\n",
        b"{\xff\xfe}",
    ] {
        let (d, sources) = parse_err(bytes);
        assert_eq!(d.code, SYNTAX);
        let loc = d.location.expect("a location");
        assert_eq!(loc.line, 1);
        assert!(sources.get(loc.file).is_some());
        let _ = d.render(&sources);
    }
}

#[test]
fn utf16_is_named() {
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "{\"SchemaVersion\": 2}"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let (d, _) = parse_err(&utf16);
    assert_eq!(d.code, SYNTAX);
    assert!(d.message.contains("UTF-16"));
}

#[test]
fn wrong_shapes_are_invalid_with_a_location() {
    let cases: &[(&str, u32)] = &[
        (
            "{\n  \"SchemaVersion\": 2,\n  \"ArtifactName\": \"x\",\n  \"Results\": 5\n}",
            4,
        ),
        (
            "{\"SchemaVersion\": 2, \"Results\": [{\"Vulnerabilities\": [\n  {\"VulnerabilityID\": \"CVE-1\"}\n]}]}",
            2,
        ),
        (
            "{\"matches\": [\n  {\"vulnerability\": {\"id\": \"CVE-1\"}}\n], \"source\": {}}",
            2,
        ),
        (
            "{\"matches\": [], \"source\": {}, \"descriptor\": {\"name\": 7}}",
            1,
        ),
        ("{\"version\": \"2.1.0\",\n \"runs\": {}}", 2),
        (
            "{\"version\": \"2.1.0\", \"runs\": [\n  {\"tool\": {\"driver\": {}}}\n]}",
            2,
        ),
        (
            "{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {\"name\": \"x\"}},\n  \"results\": [{\"message\": {\"text\": \"?\"}}\n]}]}",
            // serde_json places errors raised while reading an array at its end.
            3,
        ),
    ];
    for (json, line) in cases {
        let (d, sources) = parse_err(json.as_bytes());
        assert_eq!(d.code, INVALID, "{json}");
        let loc = d.location.expect("a location");
        assert_eq!(loc.line, *line, "{json}");
        assert!(sources.get(loc.file).is_some());
        assert!(d.help.is_some());
    }
}

#[test]
fn wrong_shape_snapshot() {
    let json = "{\n  \"SchemaVersion\": 2,\n  \"Results\": [\n    {\n      \"Vulnerabilities\": [\n        { \"VulnerabilityID\": \"CVE-2024-1\", \"PkgName\": 3 }\n      ]\n    }\n  ]\n}\n";
    let (d, sources) = parse_err(json.as_bytes());
    insta::assert_snapshot!("wrong_shape", d.render(&sources));
}

#[test]
fn a_long_line_is_named_not_shown() {
    // A minified report cut off: the line is too long to print as a snippet.
    let raw: Value = serde_json::from_slice(&fixture("grype/ghsa-test.json")).unwrap();
    let minified = serde_json::to_vec(&raw).unwrap();
    let (d, sources) = parse_err(&minified[..minified.len() - 10]);
    assert_eq!(d.code, SYNTAX);
    assert_eq!(d.location, None);
    assert!(d.message.contains("line 1, column"), "{}", d.message);
    assert_eq!(sources.files().count(), 0);
}

#[test]
fn codes_are_listed() {
    let codes: Vec<&str> = scanners::CODES.iter().map(|(code, _)| *code).collect();
    assert_eq!(codes, [EMPTY, SYNTAX, UNKNOWN_FORMAT, INVALID]);
}

// ---------------------------------------------------------------------------------------------
// Synthetic reports.

#[test]
fn synthesized_report_parses_with_unique_ids() {
    let template = fixture("trivy/debian-buster.json");
    let bytes = synthesize_trivy_report(&template, 200_000).unwrap();
    assert!(
        bytes.len() > 150_000 && bytes.len() < 250_000,
        "{}",
        bytes.len()
    );
    assert_eq!(detect(&bytes), Some(ReportFormat::TrivyJson));
    let report = parse_ok(Path::new(FAKE), &bytes);
    let ids: BTreeSet<&str> = report
        .vulnerabilities
        .iter()
        .map(|v| v.id.as_str())
        .collect();
    assert_eq!(ids.len(), report.vulnerabilities.len());
    assert!(report.vulnerabilities.len() > 40);

    let tiny = synthesize_trivy_report(&template, 0).unwrap();
    assert_eq!(parse_ok(Path::new(FAKE), &tiny).vulnerabilities.len(), 2);
    for bad in [&b""[..], b"{}", &fixture("grype/ghsa-test.json")] {
        assert!(synthesize_trivy_report(bad, 1000).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// Never a panic.

fn check_no_panic(bytes: &[u8]) {
    let _ = detect(bytes);
    let mut sources = SourceMap::new();
    match parse_report(Path::new(FAKE), bytes, &mut sources) {
        Ok(report) => assert_eq!(Some(report.format), detect(bytes)),
        Err(d) => {
            assert!(
                scanners::CODES.iter().any(|(code, _)| *code == d.code),
                "{}",
                d.code
            );
            if let Some(loc) = d.location {
                assert!(sources.get(loc.file).is_some());
                assert!(loc.line >= 1 && loc.col >= 1);
            }
            let _ = d.render(&sources);
        }
    }
}

fn fixture_bytes() -> Vec<Vec<u8>> {
    fixture_files()
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_no_panic(&bytes);
    }

    #[test]
    fn json_like_text(text in r#"[\[\]{}",:0-9a-zA-Z$ .\\\n-]{0,300}"#) {
        check_no_panic(text.as_bytes());
    }

    #[test]
    fn mutated_fixtures(
        which in 0usize..64,
        cut in 0.0f64..=1.0,
        flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..8),
    ) {
        let all = fixture_bytes();
        let mut bytes = all[which % all.len()].clone();
        for (at, byte) in flips {
            let index = ((bytes.len() as f64) * at) as usize;
            if let Some(b) = bytes.get_mut(index) {
                *b = byte;
            }
        }
        bytes.truncate(((bytes.len() as f64) * cut) as usize);
        check_no_panic(&bytes);
    }
}
