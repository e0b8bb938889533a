//! Reading what Cargo and libtest print: the test executables of a workspace
//! (`cargo test --workspace --no-run --message-format=json`), the tests of one executable
//! (`<executable> --list --format terse`), and the doc tests
//! (`cargo test --workspace --doc -- --list --format terse`, standard error merged into standard
//! output so that each `Doc-tests <crate>` header precedes its tests).

use std::path::PathBuf;

use serde_json::Value;

use crate::errors::E2eError;

/// One test executable Cargo built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestBinary {
    /// The package (`cdb-core`).
    pub package: String,
    /// The target's name (`cdb_core` for the library, `diagnostics` for `tests/diagnostics.rs`).
    pub target: String,
    /// The target's kind: `lib`, `bin`, `test`, `bench`, `example`, `proc-macro`, …
    pub kind: String,
    /// The target's root source file (absolute, as Cargo prints it).
    pub src_path: PathBuf,
    /// The executable to run with `--list`.
    pub executable: PathBuf,
    /// The package's directory: libtest executables are run from there, as `cargo test` does.
    pub manifest_dir: PathBuf,
}

fn package_name(package_id: &str) -> Option<String> {
    // Old format: "name 0.1.0 (path+file:///…)".
    if !package_id.contains("+") || package_id.contains(' ') {
        return package_id.split_whitespace().next().map(str::to_string);
    }
    // Package id spec: "path+file:///dir/cdb-core#0.1.0" or "…#name@0.1.0".
    let (url, fragment) = package_id.split_once('#')?;
    if let Some((name, _)) = fragment.split_once('@') {
        return Some(name.to_string());
    }
    url.trim_end_matches('/')
        .rsplit('/')
        .next()
        .map(str::to_string)
}

/// The test executables in the JSON messages of `cargo test --no-run --message-format=json`
/// (stdout; one JSON object per line). Artifacts that are not test builds are skipped.
pub fn parse_cargo_messages(text: &str) -> Result<Vec<TestBinary>, E2eError> {
    let origin = "cargo test --no-run --message-format=json";
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let err = |message: String| E2eError::Inventory {
            origin: origin.into(),
            line: i + 1,
            message,
        };
        let msg: Value = serde_json::from_str(line)
            .map_err(|e| err(format!("not a JSON message ({e}): {}", truncate(line))))?;
        if msg["reason"] != "compiler-artifact" || msg["profile"]["test"] != true {
            continue;
        }
        let Some(executable) = msg["executable"].as_str() else {
            continue;
        };
        let field = |v: &Value, what: &str| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| err(format!("compiler-artifact without {what}")))
        };
        let package_id = field(&msg["package_id"], "package_id")?;
        let manifest = PathBuf::from(field(&msg["manifest_path"], "manifest_path")?);
        let package = package_name(&package_id)
            .ok_or_else(|| err(format!("cannot read the package name from {package_id:?}")))?;
        out.push(TestBinary {
            package,
            target: field(&msg["target"]["name"], "target.name")?,
            kind: field(&msg["target"]["kind"][0], "target.kind")?,
            src_path: PathBuf::from(field(&msg["target"]["src_path"], "target.src_path")?),
            executable: PathBuf::from(executable),
            manifest_dir: manifest.parent().map(PathBuf::from).unwrap_or_default(),
        });
    }
    Ok(out)
}

fn truncate(line: &str) -> String {
    let mut s: String = line.chars().take(80).collect();
    if line.chars().count() > 80 {
        s.push('…');
    }
    s
}

fn is_count_line(line: &str) -> bool {
    // "20 tests, 0 benchmarks" (the pretty format's last line).
    let words: Vec<&str> = line.split_whitespace().collect();
    matches!(words.as_slice(), [n, t, m, b]
        if n.parse::<u64>().is_ok()
            && (*t == "tests," || *t == "test,")
            && m.parse::<u64>().is_ok()
            && (*b == "benchmarks" || *b == "benchmark"))
}

/// The test names in the output of `<executable> --list` (`--format terse` or the default):
/// `name: test` lines; benchmarks are skipped. `origin` names the executable in errors.
pub fn parse_libtest_list(origin: &str, text: &str) -> Result<Vec<String>, E2eError> {
    let mut tests = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || is_count_line(trimmed) {
            continue;
        }
        if let Some(name) = trimmed.strip_suffix(": test") {
            tests.push(name.to_string());
        } else if trimmed.ends_with(": benchmark") {
            continue;
        } else {
            return Err(E2eError::Inventory {
                origin: origin.into(),
                line: i + 1,
                message: format!("expected `<name>: test`, found {:?}", truncate(trimmed)),
            });
        }
    }
    Ok(tests)
}

/// A doc test: the crate it documents and its name (`src/lib.rs - item (line 12)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocTest {
    /// The crate (`cdb_core`: the library target's name).
    pub krate: String,
    /// The name rustdoc gives it.
    pub name: String,
}

/// The doc tests in the merged output of `cargo test --doc -- --list --format terse`. Cargo's
/// own lines (`Compiling`, `Finished`, the doctest timing line) are not tests and are skipped.
pub fn parse_doctest_list(text: &str) -> Result<Vec<DocTest>, E2eError> {
    let mut krate: Option<String> = None;
    let mut tests = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("Doc-tests ") {
            krate = Some(name.trim().to_string());
        } else if let Some(name) = trimmed.strip_suffix(": test") {
            let Some(k) = &krate else {
                return Err(E2eError::Inventory {
                    origin: "cargo test --doc -- --list".into(),
                    line: i + 1,
                    message: format!(
                        "a doc test before any `Doc-tests <crate>` line: was standard error merged \
                         into standard output? ({})",
                        truncate(trimmed)
                    ),
                });
            };
            tests.push(DocTest {
                krate: k.clone(),
                name: name.to_string(),
            });
        }
    }
    Ok(tests)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGES: &str = include_str!("../../testdata/inventory/cargo-no-run.jsonl");
    const LIB: &str = include_str!("../../testdata/inventory/libtest-cdb_core-lib.txt");
    const PRETTY: &str = include_str!("../../testdata/inventory/libtest-diagnostics-pretty.txt");
    const DOC: &str = include_str!("../../testdata/inventory/cargo-test-doc-list.txt");

    #[test]
    fn test_executables_from_real_cargo_messages() {
        let bins = parse_cargo_messages(MESSAGES).unwrap();
        let summary: Vec<(&str, &str, &str)> = bins
            .iter()
            .map(|b| (b.package.as_str(), b.kind.as_str(), b.target.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("cdb-core", "lib", "cdb_core"),
                ("cdb-core", "test", "image_ref"),
                ("cdb-core", "test", "diagnostics"),
            ]
        );
        assert_eq!(
            bins[1].src_path,
            PathBuf::from("/work/main/crates/cdb-core/tests/image_ref.rs")
        );
        assert_eq!(
            bins[0].manifest_dir,
            PathBuf::from("/work/main/crates/cdb-core")
        );
        assert!(bins[0].executable.ends_with("cdb_core-f69321fd083308d2"));
    }

    #[test]
    fn package_ids_of_every_format() {
        assert_eq!(
            package_name("path+file:///w/crates/cdb-core#0.1.0").as_deref(),
            Some("cdb-core")
        );
        assert_eq!(
            package_name("path+file:///w/x#cdb-core@0.1.0").as_deref(),
            Some("cdb-core")
        );
        assert_eq!(
            package_name("registry+https://github.com/rust-lang/crates.io-index#serde@1.0.228")
                .as_deref(),
            Some("serde")
        );
        assert_eq!(
            package_name("cdb-core 0.1.0 (path+file:///w)").as_deref(),
            Some("cdb-core")
        );
    }

    #[test]
    fn libtest_lists_in_both_formats() {
        let lib = parse_libtest_list("cdb_core", LIB).unwrap();
        assert_eq!(lib.len(), 38);
        assert_eq!(lib[0], "compose::canonical::tests::durations_print_like_go");
        let pretty = parse_libtest_list("diagnostics", PRETTY).unwrap();
        assert_eq!(pretty.len(), 20);
        assert!(pretty.contains(&"circular_extends".to_string()));
        let e = parse_libtest_list("x", "a: test\nrunning 3 tests\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x:2: expected `<name>: test`, found \"running 3 tests\""
        );
        assert_eq!(
            parse_libtest_list("x", "b: benchmark\n").unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn doctests_with_their_crate() {
        let docs = parse_doctest_list(DOC).unwrap();
        assert_eq!(docs.len(), 5);
        assert!(docs.iter().all(|d| d.krate == "cdb_core"));
        assert_eq!(
            docs[4].name,
            "crates/cdb-core/src/image.rs - image (line 38)"
        );
        assert!(parse_doctest_list("src/lib.rs - x (line 1): test\n").is_err());
    }

    #[test]
    fn bad_messages_name_their_line() {
        let e = parse_cargo_messages("{\"reason\":\"build-finished\"}\nCompiling x\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cargo test --no-run --message-format=json:2: not a JSON message"),
            "{e}"
        );
    }
}
