//! Results of external suites, read from the JUnit XML they write (`{junit}` in their command).
//!
//! JUnit XML has no single standard; this reader accepts what pytest, Maven Surefire, nextest,
//! gotestsum and JUnit 5 write:
//!
//! - the root is `<testsuites>` or `<testsuite>`, suites may nest, every `<testcase>` anywhere
//!   below counts, in document order;
//! - a test is identified by `classname` + `name` (`classname` missing: the enclosing
//!   `<testsuite>`'s `name`);
//! - `<failure>` or `<error>` → failed (message: the `message` attribute, then the element's
//!   text), `<skipped>` → skipped, neither → passed; `time` is in seconds;
//! - `<system-out>`/`<system-err>` of the test case are kept as excerpts (the tail);
//! - a test retried *inside one run* appears more than once (pytest-rerunfailures writes one
//!   `<testcase>` per try, Surefire and nextest add `<rerunFailure>`/`<flakyFailure>` children):
//!   only the **last** attempt counts, and the number of earlier tries is kept as
//!   [`Attempt::retries`]. Flakiness is judged across runs (`--runs`), where the tries are
//!   independent starts of the stack.
//!
//! Errors carry `file:line:column`: a malformed file is the suite's bug, and the message must
//! lead straight to it.

use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;
use roxmltree::{Document, Node};

use crate::config::SuiteConfig;
use crate::errors::E2eError;
use crate::model::{Attempt, EXCERPT_LIMIT, Outcome, TestCase, excerpt};

/// A test of an external suite and its (last) attempt in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalResult {
    /// The test (`suite::classname::name`).
    pub test: TestCase,
    /// Its last attempt in this run.
    pub attempt: Attempt,
}

/// Reads the JUnit file of `suite` written during one run.
pub fn read_junit(path: &Path, suite: &SuiteConfig) -> Result<Vec<ExternalResult>, E2eError> {
    let bytes = std::fs::read(path).map_err(|e| E2eError::io("read", path, e))?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = line_col(&bytes[..e.valid_up_to()]);
            return Err(E2eError::Junit {
                path: path.to_path_buf(),
                line,
                column,
                message: "the file is not UTF-8".into(),
            });
        }
    };
    parse_junit(path, text, &suite.name, suite.critical)
}

fn line_col(before: &[u8]) -> (u32, u32) {
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line as u32, col as u32)
}

/// Parses JUnit XML `text` (read from `path`, used in messages) as the results of external
/// suite `suite`, whose tests are all `critical` or not.
pub fn parse_junit(
    path: &Path,
    text: &str,
    suite: &str,
    critical: bool,
) -> Result<Vec<ExternalResult>, E2eError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let error = |line: u32, column: u32, message: String| E2eError::Junit {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    if text.trim().is_empty() {
        return Err(error(
            1,
            1,
            "the file is empty (did the suite stop before writing its results?)".into(),
        ));
    }
    let doc = Document::parse(text).map_err(|e| {
        let pos = e.pos();
        error(pos.row, pos.col, e.to_string())
    })?;
    let at = |node: Node<'_, '_>, message: String| {
        let pos = doc.text_pos_at(node.range().start);
        error(pos.row, pos.col, message)
    };
    let root = doc.root_element();
    let root_name = root.tag_name().name();
    if root_name != "testsuites" && root_name != "testsuite" {
        return Err(at(
            root,
            format!("the root element is <{root_name}>, expected <testsuites> or <testsuite>"),
        ));
    }
    let mut results: IndexMap<(String, String), ExternalResult> = IndexMap::new();
    for case in root
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "testcase")
    {
        let name = case
            .attribute("name")
            .ok_or_else(|| at(case, "<testcase> has no `name` attribute".into()))?;
        let classname = case
            .attribute("classname")
            .map(str::to_string)
            .or_else(|| {
                case.ancestors()
                    .find(|a| a.is_element() && a.tag_name().name() == "testsuite")
                    .and_then(|s| s.attribute("name"))
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let duration = match case.attribute("time") {
            None => Duration::ZERO,
            Some(t) => parse_seconds(t).ok_or_else(|| {
                at(
                    case,
                    format!(
                        "<testcase name={name:?}> has time={t:?}, expected seconds such as \"1.25\""
                    ),
                )
            })?,
        };
        let attempt = attempt_of(case, duration);
        let test = TestCase::external(suite, &classname, name, critical);
        let key = (classname, name.to_string());
        match results.get_mut(&key) {
            Some(previous) => {
                let retries = previous.attempt.retries + 1 + attempt.retries;
                previous.attempt = attempt;
                previous.attempt.retries = retries;
            }
            None => {
                results.insert(key, ExternalResult { test, attempt });
            }
        }
    }
    Ok(results.into_values().collect())
}

fn parse_seconds(text: &str) -> Option<Duration> {
    // Surefire writes thousands separators in some locales ("1,234.5").
    let cleaned: String = text.trim().chars().filter(|c| *c != ',').collect();
    let secs: f64 = cleaned.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

fn text_of(node: Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

fn attempt_of(case: Node<'_, '_>, duration: Duration) -> Attempt {
    let mut outcome = Outcome::Passed;
    let mut message: Option<String> = None;
    let mut stdout = String::new();
    let mut stderr = String::new();
    let mut retries = 0;
    for child in case.children().filter(Node::is_element) {
        match child.tag_name().name() {
            tag @ ("failure" | "error") => {
                outcome = Outcome::Failed;
                message = Some(describe(child, tag));
            }
            "skipped" if outcome != Outcome::Failed => {
                outcome = Outcome::Skipped;
                message = Some(describe(child, "skipped"));
            }
            "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" => retries += 1,
            "system-out" => stdout.push_str(&text_of(child)),
            "system-err" => stderr.push_str(&text_of(child)),
            _ => {}
        }
    }
    let mut attempt = Attempt::new(outcome, duration, message)
        .with_stdout(&stdout)
        .with_stderr(&stderr);
    attempt.retries = retries;
    attempt
}

/// The `message` attribute, then the element's text (the stack trace) when it adds anything.
fn describe(node: Node<'_, '_>, tag: &str) -> String {
    let attr = node.attribute("message").map(str::trim).unwrap_or("");
    let body = text_of(node);
    let body = body.trim();
    let text = match (attr.is_empty(), body.is_empty()) {
        (true, true) => format!("<{tag}> without a message"),
        (false, true) => attr.to_string(),
        (true, false) => body.to_string(),
        (false, false) if body.starts_with(attr) => body.to_string(),
        (false, false) => format!("{attr}\n{body}"),
    };
    excerpt(&text, EXCERPT_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYTEST: &str = include_str!("../testdata/junit/pytest-rerunfailures.xml");
    const PYTEST_LOGGING: &str = include_str!("../testdata/junit/pytest-rerunfailures-logging.xml");

    fn parse(text: &str) -> Result<Vec<ExternalResult>, E2eError> {
        parse_junit(Path::new("out/junit.xml"), text, "smoke", true)
    }

    fn by_name<'a>(r: &'a [ExternalResult], name: &str) -> &'a ExternalResult {
        r.iter()
            .find(|x| x.test.name.ends_with(&format!("::{name}")))
            .unwrap_or_else(|| panic!("no {name} in {r:#?}"))
    }

    #[test]
    fn a_retried_test_keeps_its_last_attempt() {
        // Real pytest + pytest-rerunfailures output (testdata/junit/test_run.py, --reruns 1):
        // every retried test is written twice, the first try without its failure.
        let r = parse(PYTEST).unwrap();
        let names: Vec<&str> = r.iter().map(|x| x.test.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "tests.test_run::test_passes",
                "tests.test_run::test_fails",
                "tests.test_run::test_skipped",
                "tests.test_run::test_retried_then_passes",
                "tests.test_run::test_error_fixture",
            ]
        );
        let fails = by_name(&r, "test_fails");
        assert_eq!(fails.attempt.outcome, Outcome::Failed);
        assert_eq!(fails.attempt.retries, 1);
        let msg = fails.attempt.message.as_deref().unwrap();
        assert!(msg.starts_with("AssertionError: one is not two"), "{msg}");
        assert!(msg.contains("tests/test_run.py:10"), "{msg}");
        let retried = by_name(&r, "test_retried_then_passes");
        assert_eq!(retried.attempt.outcome, Outcome::Passed);
        assert_eq!(retried.attempt.retries, 1);
        let error = by_name(&r, "test_error_fixture");
        assert_eq!(error.attempt.outcome, Outcome::Failed);
        assert_eq!(error.attempt.retries, 1);
        let skipped = by_name(&r, "test_skipped");
        assert_eq!(skipped.attempt.outcome, Outcome::Skipped);
        assert_eq!(skipped.attempt.headline(), Some("not today"));
        assert_eq!(by_name(&r, "test_passes").attempt.retries, 0);
        assert!(r.iter().all(|x| x.test.critical));
        assert_eq!(fails.test.id, "smoke::tests.test_run::test_fails");
    }

    #[test]
    fn the_last_attempt_wins_in_either_order() {
        let xml = |first: &str, second: &str| {
            format!(
                "<testsuite name=\"s\"><testcase classname=\"c\" name=\"t\" time=\"1.5\">{first}</testcase>\
                 <testcase classname=\"c\" name=\"other\"/>\
                 <testcase classname=\"c\" name=\"t\" time=\"2.25\">{second}</testcase></testsuite>"
            )
        };
        let r = parse(&xml("<failure message=\"boom\"/>", "")).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].attempt.outcome, Outcome::Passed);
        assert_eq!(r[0].attempt.duration, Duration::from_millis(2250));
        let r = parse(&xml("", "<failure message=\"boom\"/>")).unwrap();
        assert_eq!(r[0].attempt.outcome, Outcome::Failed);
        assert_eq!(r[0].attempt.headline(), Some("boom"));
        // Same name, different classname: two tests.
        let r = parse(
            "<testsuites><testsuite name=\"a\"><testcase name=\"t\"/></testsuite>\
             <testsuite name=\"b\"><testcase name=\"t\"/></testsuite></testsuites>",
        )
        .unwrap();
        let ids: Vec<&str> = r.iter().map(|x| x.test.id.as_str()).collect();
        assert_eq!(ids, ["smoke::a::t", "smoke::b::t"]);
    }

    #[test]
    fn surefire_and_nextest_reruns_count_as_retries() {
        let r = parse(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="cdb"><testcase name="flaky" classname="cdb::x" time="0.1">
  <flakyFailure message="first try" type="assert"><![CDATA[trace]]></flakyFailure>
  <system-out><![CDATA[out 1
]]></system-out>
</testcase>
<testcase name="broken" classname="cdb::x" time="0.2">
  <failure message="third try"/>
  <rerunFailure message="first"/><rerunFailure message="second"/>
</testcase></testsuite></testsuites>"#,
        )
        .unwrap();
        assert_eq!(r[0].attempt.outcome, Outcome::Passed);
        assert_eq!(r[0].attempt.retries, 1);
        assert_eq!(r[0].attempt.stdout.as_deref(), Some("out 1\n"));
        assert_eq!(r[1].attempt.outcome, Outcome::Failed);
        assert_eq!(r[1].attempt.retries, 2);
        assert_eq!(r[1].attempt.headline(), Some("third try"));
    }

    #[test]
    fn output_is_kept_per_test() {
        let r = parse(PYTEST_LOGGING).unwrap();
        let fails = by_name(&r, "test_fails");
        let err = fails.attempt.stderr.as_deref().unwrap();
        assert!(err.contains("boom err"), "{err}");
        let out = by_name(&r, "test_passes")
            .attempt
            .stdout
            .as_deref()
            .unwrap();
        assert!(out.contains("hello out"), "{out}");
    }

    #[test]
    fn errors_point_into_the_file() {
        let e = parse(
            "<testsuites>\n  <testsuite name=\"a\">\n    <testcase name=\"x\">\n</testsuites>\n",
        )
        .unwrap_err();
        let E2eError::Junit { line, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(*line, 4, "{e}");
        assert!(e.to_string().starts_with("out/junit.xml:4:"), "{e}");

        let e = parse("<testsuite>\n<testcase classname=\"c\"/>\n</testsuite>").unwrap_err();
        assert_eq!(
            e.to_string(),
            "out/junit.xml:2:1: invalid JUnit XML: <testcase> has no `name` attribute"
        );

        let e =
            parse("<testsuite>\n\n  <testcase name=\"t\" time=\"soon\"/></testsuite>").unwrap_err();
        assert!(e.to_string().starts_with("out/junit.xml:3:3:"), "{e}");
        assert!(e.to_string().contains("time=\"soon\""), "{e}");

        let e = parse("<html><body/></html>").unwrap_err();
        assert!(e.to_string().contains("root element is <html>"), "{e}");

        let e = parse("   \n").unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }

    #[test]
    fn non_utf8_files_are_reported_with_their_position() {
        let dir = std::env::temp_dir().join(format!("cdb-e2e-junit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("latin1.xml");
        std::fs::write(
            &path,
            b"<testsuite>\n<testcase name=\"caf\xe9\"/></testsuite>",
        )
        .unwrap();
        let suite = SuiteConfig {
            name: "s".into(),
            command: vec!["x".into(), "{junit}".into()],
            working_dir: ".".into(),
            critical: false,
            timeout: None,
            env: IndexMap::new(),
            collect: None,
            category: None,
        };
        let e = read_junit(&path, &suite).unwrap_err();
        assert!(
            e.to_string()
                .ends_with(":2:20: invalid JUnit XML: the file is not UTF-8"),
            "{e}"
        );
        let e = read_junit(&dir.join("missing.xml"), &suite).unwrap_err();
        assert!(matches!(e, E2eError::Io { action: "read", .. }), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
