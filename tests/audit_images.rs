//! `cargo xtask audit-images` end to end, through the binary: every real scanner report of
//! `../shared/fixtures/scanners/` triaged against counts computed independently from the raw
//! JSON, the gate's exit codes, every output format (snapshots; SARIF validated against the
//! vendored SARIF 2.1.0 schema), `--fix` on a hand-written Compose file, and bad input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const DATE: &str = "2026-12-03";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn scanners_dir() -> PathBuf {
    workspace().join("../shared/fixtures/scanners")
}

fn fixture_reports() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["trivy", "grype", "scout"] {
        let Ok(entries) = std::fs::read_dir(scanners_dir().join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            out.push(e.path());
        }
    }
    out.sort();
    assert!(
        out.len() >= 7,
        "the shared scanner fixtures were not found at {}",
        scanners_dir().display()
    );
    out
}

/// A temporary folder removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("cdb-audit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A clean, pinned stack: no pinning or policy finding above a note.
fn clean_stack(dir: &Path) -> PathBuf {
    let compose = dir.join("compose.yaml");
    std::fs::write(
        &compose,
        "services:\n  db:\n    image: postgres:17.6-alpine3.22\n  cache:\n    image: redis:7.4.6-alpine3.22\n",
    )
    .expect("write compose");
    compose
}

fn audit(dir: &Path, args: &[&str]) -> Output {
    let policy = workspace().join("security/policy.toml");
    let date: &[&str] = if args.contains(&"--date") {
        &[]
    } else {
        &["--date", DATE]
    };
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .arg("audit-images")
        .args(date)
        .arg("--policy")
        .arg(&policy)
        .args(if args.contains(&"--exceptions") {
            &[][..]
        } else {
            &["--exceptions", "no-exceptions.toml"][..]
        })
        .args(args)
        .output()
        .expect("run xtask")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

// ---------------------------------------------------------------------------------------------
// The independent computation: from the raw JSON, what triage must find.

#[derive(Debug, Clone, PartialEq)]
struct Raw {
    id: String,
    package: String,
    scores: Vec<f64>,
    label: String,
    fixed: bool,
}

fn band(score: f64) -> &'static str {
    if score >= 9.0 {
        "CRITICAL"
    } else if score >= 7.0 {
        "HIGH"
    } else if score >= 4.0 {
        "MEDIUM"
    } else if score > 0.0 {
        "LOW"
    } else {
        "UNKNOWN"
    }
}

fn label(text: &str) -> &'static str {
    match text.to_ascii_lowercase().as_str() {
        "critical" => "CRITICAL",
        "high" | "error" => "HIGH",
        "medium" | "moderate" | "warning" => "MEDIUM",
        "low" | "negligible" | "note" => "LOW",
        _ => "UNKNOWN",
    }
}

fn raw_trivy(doc: &Value) -> Vec<Raw> {
    let mut out = Vec::new();
    for result in doc["Results"].as_array().into_iter().flatten() {
        for v in result["Vulnerabilities"].as_array().into_iter().flatten() {
            let mut scores = Vec::new();
            if let Some(cvss) = v["CVSS"].as_object() {
                for source in cvss.values() {
                    for key in ["V3Score", "V40Score"] {
                        if let Some(s) = source[key].as_f64() {
                            scores.push(s);
                        }
                    }
                }
            }
            out.push(Raw {
                id: v["VulnerabilityID"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                package: v["PkgName"].as_str().unwrap_or_default().to_string(),
                scores,
                label: label(v["Severity"].as_str().unwrap_or_default()).to_string(),
                fixed: v["FixedVersion"].as_str().is_some_and(|s| !s.is_empty()),
            });
        }
    }
    out
}

fn raw_grype(doc: &Value) -> Vec<Raw> {
    let mut out = Vec::new();
    for m in doc["matches"].as_array().into_iter().flatten() {
        let v = &m["vulnerability"];
        let related = m["relatedVulnerabilities"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut id = v["id"].as_str().unwrap_or_default().to_string();
        if !id.starts_with("CVE-")
            && let Some(cve) = related
                .iter()
                .filter_map(|r| r["id"].as_str())
                .find(|r| r.starts_with("CVE-"))
        {
            id = cve.to_string();
        }
        let mut scores = Vec::new();
        for entry in std::iter::once(v).chain(related.iter()) {
            for c in entry["cvss"].as_array().into_iter().flatten() {
                let version = c["version"].as_str().unwrap_or_default();
                if (version.starts_with('3') || version.starts_with('4'))
                    && let Some(s) = c["metrics"]["baseScore"].as_f64()
                {
                    scores.push(s);
                }
            }
        }
        out.push(Raw {
            id,
            package: m["artifact"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            scores,
            label: label(v["severity"].as_str().unwrap_or_default()).to_string(),
            fixed: v["fix"]["state"].as_str() == Some("fixed"),
        });
    }
    out
}

/// SARIF: a result's rule (by index, else by id) may carry `security-severity` (a score) and
/// Scout's `cvssV3_severity`, `purls` and `fixed_version`; the message text carries
/// `Key: value` lines (Trivy: `Package: x`, `Fixed Version: y`; Scout: `Package   :purl`,
/// `Fixed version    :y` or `not fixed`, `Severity :HIGH`). When the message names no package, a
/// rule with a single purl names it (and its fixed version).
fn raw_sarif(doc: &Value) -> Vec<Raw> {
    let mut out = Vec::new();
    for run in doc["runs"].as_array().into_iter().flatten() {
        let rules = run["tool"]["driver"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for r in run["results"].as_array().into_iter().flatten() {
            let rule_id = r["ruleId"].as_str().unwrap_or_default();
            let rule = r["ruleIndex"]
                .as_u64()
                .and_then(|i| rules.get(i as usize))
                .filter(|rule| rule["id"].as_str() == Some(rule_id))
                .or_else(|| {
                    rules
                        .iter()
                        .find(|rule| rule["id"].as_str() == Some(rule_id))
                });
            let props = rule
                .map(|rule| rule["properties"].clone())
                .unwrap_or(Value::Null);
            let scores: Vec<f64> = props["security-severity"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .into_iter()
                .collect();
            let text = r["message"]["text"].as_str().unwrap_or_default();
            let field = |name: &str| {
                text.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().to_string())
                })
            };
            let rule_purls: Vec<String> = props["purls"]
                .as_array()
                .map(|p| {
                    p.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let (package, fixed) = match field("Package") {
                Some(p) => {
                    let name = if p.starts_with("pkg:") {
                        purl_name(&p)
                    } else {
                        p
                    };
                    let fixed =
                        field("Fixed Version").is_some_and(|f| !f.is_empty() && f != "not fixed");
                    (name, fixed)
                }
                None if rule_purls.len() == 1 => (
                    purl_name(&rule_purls[0]),
                    props["fixed_version"]
                        .as_str()
                        .is_some_and(|f| !f.is_empty()),
                ),
                None => (String::new(), false),
            };
            let severity_label = field("Severity")
                .or_else(|| props["cvssV3_severity"].as_str().map(str::to_string))
                .or_else(|| r["level"].as_str().map(str::to_string))
                .unwrap_or_default();
            out.push(Raw {
                id: rule_id.to_string(),
                package,
                scores,
                label: label(&severity_label).to_string(),
                fixed,
            });
        }
    }
    out
}

/// The package a purl names: the name, or for Go modules the whole module path.
fn purl_name(purl: &str) -> String {
    let path = purl.split(['@', '?', '#']).next().unwrap_or(purl);
    let path = path.strip_prefix("pkg:").unwrap_or(path);
    match path.split_once('/') {
        Some(("golang", module)) => module.to_string(),
        _ => path.rsplit('/').next().unwrap_or(path).to_string(),
    }
}

/// Per (id, package): severity and fix state as triage must compute them.
fn expected(path: &Path) -> BTreeMap<(String, String), (String, bool)> {
    let doc: Value =
        serde_json::from_slice(&std::fs::read(path).expect("read fixture")).expect("fixture JSON");
    let raws = if doc.get("SchemaVersion").is_some() {
        raw_trivy(&doc)
    } else if doc.get("matches").is_some() {
        raw_grype(&doc)
    } else {
        raw_sarif(&doc)
    };
    let mut merged: BTreeMap<(String, String), Vec<Raw>> = BTreeMap::new();
    for r in raws {
        merged
            .entry((r.id.clone(), r.package.clone()))
            .or_default()
            .push(r);
    }
    merged
        .into_iter()
        .map(|(key, rs)| {
            let best = rs
                .iter()
                .flat_map(|r| r.scores.iter().copied())
                .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
            let severity = match best {
                Some(s) => band(s).to_string(),
                None => {
                    let order = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"];
                    rs.iter()
                        .map(|r| r.label.as_str())
                        .max_by_key(|l| order.iter().position(|o| o == l))
                        .unwrap_or("UNKNOWN")
                        .to_string()
                }
            };
            (key, (severity, rs.iter().any(|r| r.fixed)))
        })
        .collect()
}

fn level_for(severity: &str, fixed: bool) -> &'static str {
    match (severity, fixed) {
        ("LOW", _) => "note",
        ("CRITICAL", true) => "block",
        (_, _) => "warn",
    }
}

#[test]
fn every_scanner_fixture_is_triaged_as_computed_from_its_raw_json() {
    let tmp = TempDir::new("fixtures");
    clean_stack(&tmp.0);
    for report in fixture_reports() {
        let out = audit(
            &tmp.0,
            &[
                "--format",
                "json",
                "--report",
                report.to_str().expect("utf-8 path"),
            ],
        );
        let doc = json_of(&out);
        let want = expected(&report);
        let mut got: BTreeMap<(String, String), (String, bool, String)> = BTreeMap::new();
        for f in doc["findings"].as_array().expect("findings") {
            let v = &f["vulnerability"];
            if v.is_null() {
                continue;
            }
            got.insert(
                (
                    v["id"].as_str().unwrap_or_default().into(),
                    v["package"].as_str().unwrap_or_default().into(),
                ),
                (
                    v["severity"].as_str().unwrap_or_default().into(),
                    v["fix_state"].as_str() == Some("fixed"),
                    f["level"].as_str().unwrap_or_default().into(),
                ),
            );
        }
        let got_plain: BTreeMap<_, _> = got
            .iter()
            .map(|(k, (s, f, _))| (k.clone(), (s.clone(), *f)))
            .collect();
        assert_eq!(
            got_plain,
            want,
            "{}: severity and fix state per (id, package)",
            report.display()
        );
        for (key, (severity, fixed, level)) in &got {
            assert_eq!(
                level,
                level_for(severity, *fixed),
                "{}: level of {key:?}",
                report.display()
            );
        }
        // Verdict and exit code follow the levels.
        let any_block = got.values().any(|(_, _, l)| l == "block");
        let any_warn = got.values().any(|(_, _, l)| l == "warn");
        let verdict = doc["verdict"].as_str().unwrap_or_default();
        let expected_verdict = if any_block {
            "BLOCK"
        } else if any_warn {
            "WARN"
        } else {
            "PASS"
        };
        assert_eq!(verdict, expected_verdict, "{}", report.display());
        assert_eq!(
            out.status.code(),
            Some(if any_block { 1 } else { 0 }),
            "{}",
            report.display()
        );
        eprintln!(
            "{}: {} findings, verdict {verdict}",
            report
                .strip_prefix(scanners_dir())
                .unwrap_or(&report)
                .display(),
            got.len()
        );
    }
}

#[test]
fn a_fixable_critical_blocks_and_only_lesser_ones_pass_unless_strict() {
    let tmp = TempDir::new("gate");
    clean_stack(&tmp.0);
    let critical = scanners_dir().join("trivy/alpine-39-high-critical.json");
    let out = audit(&tmp.0, &["--report", critical.to_str().expect("utf-8")]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The same kind of report without its fixable criticals: high, medium and low only.
    let mut doc: Value = serde_json::from_slice(
        &std::fs::read(scanners_dir().join("trivy/pip.json")).expect("read"),
    )
    .expect("json");
    let lesser = tmp.0.join("lesser.json");
    if let Some(results) = doc["Results"].as_array_mut() {
        for r in results {
            if let Some(vulns) = r["Vulnerabilities"].as_array_mut() {
                vulns.retain(|v| v["Severity"].as_str() != Some("CRITICAL"));
            }
        }
    }
    std::fs::write(&lesser, serde_json::to_vec(&doc).expect("json")).expect("write");
    let out = audit(&tmp.0, &["--report", "lesser.json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("WARN"));
    let strict = audit(&tmp.0, &["--report", "lesser.json", "--strict"]);
    assert_eq!(strict.status.code(), Some(1));

    // And with no report at all, the clean stack passes.
    let out = audit(&tmp.0, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("PASS"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn the_repositorys_own_stack_passes_the_gate() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(workspace())
        .args(["audit-images", "--date", DATE, "--strict"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// Output formats on the fixture stack.

fn fixture_stack_output(format: &str) -> String {
    let dir = workspace().join("crates/cdb-security/tests/fixtures/stack");
    let grype = scanners_dir().join("grype/ghsa-test.json");
    let trivy = scanners_dir().join("trivy/debian-buster.json");
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .args([
            "audit-images",
            "-f",
            "compose.yaml",
            "--date",
            DATE,
            "--format",
            format,
            "--exceptions",
        ])
        .arg(workspace().join("crates/cdb-security/tests/fixtures/stack-exceptions.toml"))
        .arg("--report")
        .arg(format!("postgres:15.8-alpine3.21={}", trivy.display()))
        .arg("--report")
        .arg(&grype)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Paths outside the repository differ between machines.
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let shared = scanners_dir()
        .canonicalize()
        .unwrap_or_else(|_| scanners_dir());
    text.replace(&scanners_dir().display().to_string(), "[SCANNERS]")
        .replace(&shared.display().to_string(), "[SCANNERS]")
        .replace(&workspace().display().to_string(), "[REPO]")
}

#[test]
fn human_report() {
    insta::assert_snapshot!(fixture_stack_output("human"));
}

#[test]
fn markdown_report() {
    insta::assert_snapshot!(fixture_stack_output("markdown"));
}

#[test]
fn json_report() {
    let text = fixture_stack_output("json");
    let doc: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(doc["schema"], "cdb.audit-images/v1");
    insta::assert_snapshot!(text);
}

#[test]
fn sarif_report_is_valid_sarif_2_1_0() {
    let text = fixture_stack_output("sarif");
    let doc: Value = serde_json::from_str(&text).expect("json");
    let schema: Value = serde_json::from_slice(
        &std::fs::read(
            workspace().join("crates/cdb-security/tests/schemas/sarif-schema-2.1.0.json"),
        )
        .expect("vendored schema"),
    )
    .expect("schema json");
    // See tests/schemas/README.md for the one fix made to the published schema.
    let validator = jsonschema::validator_for(&schema).expect("compile the SARIF schema");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
    // A result at the Compose line, with GitHub's security-severity on its rule.
    let run = &doc["runs"][0];
    assert!(run["results"].as_array().is_some_and(|r| r.iter().any(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("compose.yaml"))
    })));
    assert!(
        run["tool"]["driver"]["rules"]
            .as_array()
            .is_some_and(|rules| rules
                .iter()
                .all(|r| r["properties"]["security-severity"].is_string()))
    );
    insta::assert_snapshot!(text);
}

// ---------------------------------------------------------------------------------------------
// --fix

const MESSY_COMPOSE: &str = r#"# Our stack. Comments, anchors and odd spacing must survive --fix.
name: messy   # trailing comment

x-base: &base
  restart:    unless-stopped     # aligned comment
  image: "redis:7"   # quoted, floating

services:
  # the database
  db:
    image:   postgres:15.8-alpine3.21      # below minimum, alpine EOL
    environment: { POSTGRES_PASSWORD: x }
  cache:
    <<: *base
  web:
    image: ${WEB_IMAGE:-grafana/grafana:latest}   # a default inside a variable
  ok:
    image: 'redis:7.4.6-alpine3.22'
"#;

#[test]
fn fix_changes_only_the_image_values() {
    let tmp = TempDir::new("fix");
    let compose = tmp.0.join("compose.yaml");
    std::fs::write(&compose, MESSY_COMPOSE).expect("write");
    let dry = audit(&tmp.0, &["--fix", "--dry-run"]);
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&compose).expect("read"),
        MESSY_COMPOSE,
        "--dry-run wrote"
    );
    let diff = String::from_utf8(dry.stdout)
        .expect("utf-8")
        .replace(&tmp.0.display().to_string(), "[TMP]");
    insta::assert_snapshot!(diff);

    let fixed = audit(&tmp.0, &["--fix"]);
    assert_eq!(
        fixed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fixed.stderr)
    );
    let after = std::fs::read_to_string(&compose).expect("read");
    // Every line that is not an image line is byte for byte what it was.
    let before_lines: Vec<&str> = MESSY_COMPOSE.lines().collect();
    let after_lines: Vec<&str> = after.lines().collect();
    assert_eq!(before_lines.len(), after_lines.len());
    for (b, a) in before_lines.iter().zip(&after_lines) {
        if b != a {
            assert!(
                b.trim_start().starts_with("image:"),
                "a non-image line changed:\n{b}\n{a}"
            );
            // The comment after the value is kept.
            if let Some((_, comment)) = b.split_once(" #") {
                assert!(a.ends_with(comment), "comment lost:\n{b}\n{a}");
            }
        }
    }
    // After the fix, nothing blocks, and Compose still resolves the file.
    let again = audit(&tmp.0, &[]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    let compose_ok = Command::new("docker")
        .current_dir(&tmp.0)
        .args(["compose", "config", "--format", "json"])
        .output();
    match compose_ok {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "docker compose rejects the fixed file: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "docker is required in CI: {e}"
            );
            eprintln!("!!!!!!!! SKIPPED the docker compose check: cannot run docker: {e} !!!!!!!!");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input: a clear error naming the file (and line), exit 2, never a panic.

fn bad(args: &[&str], files: &[(&str, &str)], must_name: &str) -> String {
    let tmp = TempDir::new(&format!("bad-{}", must_name.replace(['/', '.', ' '], "-")));
    clean_stack(&tmp.0);
    for (name, text) in files {
        std::fs::write(tmp.0.join(name), text).expect("write");
    }
    let out = audit(&tmp.0, args);
    let stderr =
        String::from_utf8_lossy(&out.stderr).replace(&tmp.0.display().to_string(), "[TMP]");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(must_name),
        "the error does not name {must_name}:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn bad_input_is_a_clear_error_with_exit_2() {
    let truncated = {
        let text =
            std::fs::read_to_string(scanners_dir().join("trivy/centos-7.json")).expect("read");
        text[..text.len() / 2].to_string()
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "empty report",
            bad(
                &["--report", "empty.json"],
                &[("empty.json", "")],
                "empty.json",
            ),
        ),
        (
            "truncated JSON",
            bad(
                &["--report", "cut.json"],
                &[("cut.json", &truncated)],
                "cut.json",
            ),
        ),
        (
            "unknown format",
            bad(
                &["--report", "other.json"],
                &[("other.json", "{\"hello\": [1, 2]}")],
                "other.json",
            ),
        ),
        (
            "missing report",
            bad(&["--report", "nowhere.json"], &[], "nowhere.json"),
        ),
        (
            "malformed Compose",
            bad(
                &["-f", "broken.yaml"],
                &[("broken.yaml", "services:\n  a:\n    image: [unclosed\n")],
                "broken.yaml",
            ),
        ),
        (
            "exception with a bad date",
            bad(
                &["--exceptions", "ex.toml"],
                &[(
                    "ex.toml",
                    "[[exception]]\nid = \"CVE-2024-0001\"\nscope = \"*\"\nstatus = \"DEFERRED\"\nreason = \"r\"\nreview = \"2027-13-45\"\nowner = \"o\"\n",
                )],
                "ex.toml",
            ),
        ),
        (
            "exception with an unknown field",
            bad(
                &["--exceptions", "ex2.toml"],
                &[(
                    "ex2.toml",
                    "[[exception]]\nid = \"CVE-2024-0001\"\nscope = \"*\"\nstatus = \"DEFERRED\"\nreason = \"r\"\nreview = 2027-01-01\nowner = \"o\"\nticket = \"X-1\"\n",
                )],
                "ex2.toml",
            ),
        ),
        (
            "a bad --date",
            bad(&["--date", "03.12.2026"], &[], "--date"),
        ),
    ];
    let mut all = String::new();
    for (what, stderr) in cases {
        all.push_str(&format!("=== {what}\n{stderr}\n"));
    }
    insta::assert_snapshot!(all);
}

// ---------------------------------------------------------------------------------------------
// Regressions, named after the bug they pin.

#[test]
fn regression_bases_older_than_the_eol_table_are_end_of_life() {
    let tmp = TempDir::new("old-bases");
    std::fs::write(
        tmp.0.join("compose.yaml"),
        "services:\n  a: {image: \"redis:7.4.6-alpine3.16\"}\n  b: {image: \"python:3.12.3-slim-buster\"}\n  c: {image: \"alpine:3.18.12\"}\n",
    )
    .expect("write");
    let doc = json_of(&audit(&tmp.0, &["--format", "json"]));
    for image in [
        "redis:7.4.6-alpine3.16",
        "python:3.12.3-slim-buster",
        "alpine:3.18.12",
    ] {
        assert!(
            doc["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .any(|f| f["image"] == image
                    && f["level"] == "block"
                    && f["code"].as_str().is_some_and(|c| c.ends_with("eol"))),
            "{image} must be end of life: {doc:#}"
        );
    }
}

#[test]
fn regression_images_of_included_compose_files_are_audited() {
    let tmp = TempDir::new("include");
    std::fs::create_dir_all(tmp.0.join("sub")).expect("mkdir");
    std::fs::write(
        tmp.0.join("compose.yaml"),
        "include:\n  - sub/compose.yaml\nservices:\n  a: {image: \"postgres:17.6-alpine3.22\"}\n",
    )
    .expect("write");
    std::fs::write(
        tmp.0.join("sub/compose.yaml"),
        "services:\n  b: {image: \"redis:latest\"}\n",
    )
    .expect("write");
    let out = audit(&tmp.0, &["--format", "json"]);
    let doc = json_of(&out);
    assert_eq!(doc["verdict"], "BLOCK", "{doc:#}");
    assert!(
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["code"] == "pin::latest"
                && f["location"]["file"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("sub/compose.yaml")))
    );
}

#[test]
fn a_fixable_high_blocks_once_known_longer_than_the_grace_period() {
    let tmp = TempDir::new("aged");
    clean_stack(&tmp.0);
    let pip = scanners_dir().join("trivy/pip.json");
    let report = pip.to_str().expect("utf-8");
    // Not in the state file: first seen today, a warning.
    let fresh = json_of(&audit(&tmp.0, &["--format", "json", "--report", report]));
    let high = |doc: &Value| {
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["vulnerability"]["severity"] == "HIGH")
            .cloned()
            .expect("pip.json has a HIGH")
    };
    let f = high(&fresh);
    assert_eq!(
        (f["code"].as_str(), f["level"].as_str()),
        (Some("vuln::high"), Some("warn"))
    );
    // Recorded 15 days before the audit date: it blocks.
    std::fs::create_dir_all(tmp.0.join("security")).expect("mkdir");
    let out = audit(
        &tmp.0,
        &["--report", report, "--update-state", "--date", "2026-11-18"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state =
        std::fs::read_to_string(tmp.0.join("security/cve-first-seen.toml")).expect("state written");
    assert!(state.contains("2026-11-18"), "{state}");
    let aged = audit(&tmp.0, &["--format", "json", "--report", report]);
    let f = high(&json_of(&aged));
    assert_eq!(
        (f["code"].as_str(), f["level"].as_str()),
        (Some("vuln::high-aged"), Some("block"))
    );
    assert_eq!(aged.status.code(), Some(1));
}
