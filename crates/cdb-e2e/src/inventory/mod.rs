//! `cargo xtask test-inventory`: every test of the project — the workspace's Rust tests (unit,
//! integration, doc tests), the tests of the configured external suites (pytest), and the
//! built-in E2E tests — each with its categories, written to `docs/testing/test_inventory.md`
//! and `docs/testing/test_inventory.json`.
//!
//! xtask runs the processes (`cargo test --no-run --message-format=json`, each executable with
//! `--list`, `cargo test --doc -- --list`, `pytest --collect-only -q` with and without `-m
//! <marker>`); this module parses their output ([`cargo`], [`pytest`]), categorises
//! ([`RULES`]) and renders. The output has no timestamps, so a regenerated inventory only
//! changes when the tests do.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::SuiteConfig;
use crate::errors::E2eError;
use crate::model::TestCase;

pub mod cargo;
pub mod pytest;

pub use cargo::{DocTest, TestBinary};

/// The schema identifier of `test_inventory.json`.
pub const SCHEMA: &str = "cdb.test-inventory/v1";

/// A test category. `unit`, `integration` and `e2e` are *levels* (a test has at most one);
/// `slow` and `flaky` are *tags* added to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Tests inside a crate's sources (or a pytest unit test).
    Unit,
    /// Tests in a `tests/` folder, run against the crate's public API or a real tool.
    Integration,
    /// Tests of the running stack.
    E2e,
    /// Known to be slow.
    Slow,
    /// Known to be flaky.
    Flaky,
}

impl Category {
    /// Every category, levels first.
    pub const ALL: [Category; 5] = [
        Category::Unit,
        Category::Integration,
        Category::E2e,
        Category::Slow,
        Category::Flaky,
    ];

    /// Its name, which is also the pytest marker that selects it.
    pub fn name(self) -> &'static str {
        match self {
            Category::Unit => "unit",
            Category::Integration => "integration",
            Category::E2e => "e2e",
            Category::Slow => "slow",
            Category::Flaky => "flaky",
        }
    }

    fn is_level(self) -> bool {
        matches!(self, Category::Unit | Category::Integration | Category::E2e)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The categorisation rules, in the order they apply; rendered at the top of the inventory.
pub const RULES: &[&str] = &[
    "A *word* is a part of a name between non-alphanumeric characters: `tests/e2e/test_flow.py::test_slow_fill` has the words tests, e2e, test, flow, py, slow, fill.",
    "Rust, level: a test whose module path has the word `e2e`, or that lives in a `tests/` target whose name has it (`tests/e2e_stack.rs`), is **e2e**; otherwise a test of a library, binary or proc-macro target (inside `src/`) or a doc test is **unit**, and a test of a `tests/` target (including the top-level `tests/` registered by xtask) is **integration**. Bench and example targets get no level.",
    "pytest, level: the marker `@pytest.mark.e2e`, `integration` or `unit` (found with `pytest --collect-only -q -m <marker>`), else a word `e2e`, `integration` or `unit` in the node id's path, else the suite's `category` in `[[e2e.suites]]`. With several, the broadest wins (e2e over integration over unit).",
    "Built-in E2E tests (cdb-e2e's critical-path suite) are **e2e**.",
    "Tags, any test: the pytest marker `slow`, a test name that begins with the word `slow` (`slow_parse`, `test_slow_fill`), or a module, folder or file stem named `slow` in its path adds **slow**; likewise `flaky`. A name that only mentions the word (`a_flaky_test_fails_the_gate`) is not tagged.",
    "A test with no category at all is listed under *Uncategorised*: give it a marker, move it, or set its suite's `category`.",
];

/// Where a test comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Origin {
    /// A libtest test of a Cargo target.
    Rust {
        /// The package.
        package: String,
        /// The target's name.
        target: String,
        /// `lib`, `bin`, `test`, …
        target_kind: String,
        /// The target's root file, relative to the repository.
        src_path: String,
    },
    /// A rustdoc test.
    Doc {
        /// The package.
        package: String,
    },
    /// A test of an external pytest suite.
    Pytest {
        /// The `[[e2e.suites]]` name.
        suite: String,
    },
    /// A built-in E2E test.
    Builtin {
        /// Whether it is on the critical path.
        critical: bool,
    },
}

/// One test in the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryTest {
    /// Unique id: `package/lib::path`, `package/test:target::name`, `package/doc::name`,
    /// `suite::node-id`, or the built-in test's id.
    pub id: String,
    /// The name as its runner prints it.
    pub name: String,
    /// Where it comes from.
    pub origin: Origin,
    /// Its categories (empty: uncategorised).
    pub categories: BTreeSet<Category>,
}

/// A configured external suite and what the inventory could learn about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteEntry {
    /// Its name.
    pub name: String,
    /// The command that listed it, if any.
    pub collect: Option<Vec<String>>,
    /// How many tests it has; `None` when it cannot be listed.
    pub tests: Option<usize>,
    /// Why it could not be listed.
    pub note: Option<String>,
}

/// One Rust test target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetEntry {
    /// The package.
    pub package: String,
    /// The target (`doc` for a crate's doc tests).
    pub target: String,
    /// Its kind.
    pub kind: String,
    /// Its root file, relative to the repository.
    pub src_path: String,
    /// How many tests it has.
    pub tests: usize,
}

/// The whole inventory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inventory {
    /// Every test: Rust (by package, target), then external suites, then built-in.
    pub tests: Vec<InventoryTest>,
    /// The Rust test targets.
    pub targets: Vec<TargetEntry>,
    /// The configured external suites.
    pub suites: Vec<SuiteEntry>,
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
}

fn has_word(text: &str, word: &str) -> bool {
    words(text).any(|w| w == word)
}

/// The naming tags of a test id (`module::path::name`, `tests/dir/file.py::test_name[param]`):
/// its own name begins with the word (`slow_parse`, `test_flaky_retry`), or a module, folder
/// or file stem of its path is the word (`flaky::retry`, `tests/slow/test_x.py`). A name that
/// merely mentions the word (`a_flaky_test_fails_the_gate`, a test *about* flakiness) is not
/// tagged.
fn tags(name: &str, categories: &mut BTreeSet<Category>) {
    let segments: Vec<&str> = name
        .split([':', '/'])
        .filter(|s| !s.trim().is_empty())
        .collect();
    let Some((own, path)) = segments.split_last() else {
        return;
    };
    let own = own.split('[').next().unwrap_or(own);
    let own = own.strip_prefix("test_").unwrap_or(own);
    for tag in [Category::Slow, Category::Flaky] {
        let word = tag.name();
        let named = words(own).next().is_some_and(|w| w == word);
        let in_path = path.iter().any(|seg| {
            let stem = seg.split('.').next().unwrap_or(seg);
            stem.eq_ignore_ascii_case(word)
        });
        if named || in_path {
            categories.insert(tag);
        }
    }
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The raw output of one pytest suite's collection: all tests, and per category marker the
/// tests `-m <marker>` selects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PytestCollection {
    /// `pytest --collect-only -q` stdout.
    pub all: String,
    /// `pytest --collect-only -q -m <marker>` stdout, per category.
    pub by_marker: Vec<(Category, String)>,
}

/// The arguments that select `category`'s marker, appended to a collection command.
pub fn marker_args(category: Category) -> [String; 2] {
    ["-m".to_string(), category.name().to_string()]
}

/// Builds an [`Inventory`] from the outputs xtask captured.
#[derive(Debug)]
pub struct InventoryBuilder {
    root: std::path::PathBuf,
    rust: Vec<(TargetEntry, Vec<InventoryTest>)>,
    suites: Vec<(SuiteEntry, Vec<InventoryTest>)>,
    builtin: Vec<InventoryTest>,
}

impl InventoryBuilder {
    /// Paths are shown relative to `root` (the repository).
    pub fn new(root: impl Into<std::path::PathBuf>) -> Self {
        InventoryBuilder {
            root: root.into(),
            rust: Vec::new(),
            suites: Vec::new(),
            builtin: Vec::new(),
        }
    }

    /// Adds the tests of one executable from its `--list` output.
    pub fn add_rust_binary(&mut self, binary: &TestBinary, list: &str) -> Result<(), E2eError> {
        let origin = format!("{} --list", relative(&self.root, &binary.executable));
        let names = cargo::parse_libtest_list(&origin, list)?;
        let label = match binary.kind.as_str() {
            "lib" => "lib".to_string(),
            kind => format!("{kind}:{}", binary.target),
        };
        let src_path = relative(&self.root, &binary.src_path);
        let tests = names
            .into_iter()
            .map(|name| {
                let mut categories = BTreeSet::new();
                let e2e = has_word(&name, "e2e")
                    || (binary.kind == "test" && has_word(&binary.target, "e2e"));
                let level = if e2e {
                    Some(Category::E2e)
                } else {
                    match binary.kind.as_str() {
                        "lib" | "bin" | "proc-macro" | "rlib" | "dylib" | "cdylib"
                        | "staticlib" => Some(Category::Unit),
                        "test" => Some(Category::Integration),
                        _ => None,
                    }
                };
                categories.extend(level);
                tags(&name, &mut categories);
                InventoryTest {
                    id: format!("{}/{label}::{name}", binary.package),
                    name,
                    origin: Origin::Rust {
                        package: binary.package.clone(),
                        target: binary.target.clone(),
                        target_kind: binary.kind.clone(),
                        src_path: src_path.clone(),
                    },
                    categories,
                }
            })
            .collect::<Vec<_>>();
        self.rust.push((
            TargetEntry {
                package: binary.package.clone(),
                target: binary.target.clone(),
                kind: binary.kind.clone(),
                src_path,
                tests: tests.len(),
            },
            tests,
        ));
        Ok(())
    }

    /// Adds the doc tests from the merged output of `cargo test --doc -- --list --format
    /// terse`; `binaries` maps crate names to packages (a crate without a library binary among
    /// them keeps its crate name).
    pub fn add_doctests(&mut self, output: &str, binaries: &[TestBinary]) -> Result<(), E2eError> {
        let docs = cargo::parse_doctest_list(output)?;
        let mut by_crate: BTreeMap<String, Vec<DocTest>> = BTreeMap::new();
        for d in docs {
            by_crate.entry(d.krate.clone()).or_default().push(d);
        }
        for (krate, docs) in by_crate {
            let lib = binaries
                .iter()
                .find(|b| b.kind == "lib" && b.target == krate);
            let package = lib.map_or_else(|| krate.clone(), |b| b.package.clone());
            let src_path = lib.map_or_else(String::new, |b| relative(&self.root, &b.src_path));
            let tests: Vec<InventoryTest> = docs
                .into_iter()
                .map(|d| {
                    let mut categories = BTreeSet::from([Category::Unit]);
                    tags(&d.name, &mut categories);
                    InventoryTest {
                        id: format!("{package}/doc::{}", d.name),
                        name: d.name,
                        origin: Origin::Doc {
                            package: package.clone(),
                        },
                        categories,
                    }
                })
                .collect();
            self.rust.push((
                TargetEntry {
                    package,
                    target: krate,
                    kind: "doc".into(),
                    src_path,
                    tests: tests.len(),
                },
                tests,
            ));
        }
        Ok(())
    }

    /// Adds a configured suite that could not be listed, and why.
    pub fn add_unlisted_suite(&mut self, suite: &SuiteConfig, note: impl Into<String>) {
        self.suites.push((
            SuiteEntry {
                name: suite.name.clone(),
                collect: None,
                tests: None,
                note: Some(note.into()),
            },
            Vec::new(),
        ));
    }

    /// Adds a pytest suite from its collection outputs.
    pub fn add_pytest_suite(
        &mut self,
        suite: &SuiteConfig,
        collection: &PytestCollection,
    ) -> Result<(), E2eError> {
        let origin = format!("pytest --collect-only (suite {})", suite.name);
        let ids = pytest::parse_collect_only(&origin, &collection.all)?;
        let mut markers: BTreeMap<&str, BTreeSet<Category>> = BTreeMap::new();
        let mut marked: Vec<(Category, Vec<String>)> = Vec::new();
        for (category, output) in &collection.by_marker {
            let origin = format!("pytest --collect-only -m {category} (suite {})", suite.name);
            marked.push((*category, pytest::parse_collect_only(&origin, output)?));
        }
        for (category, selected) in &marked {
            for id in selected {
                markers.entry(id.as_str()).or_default().insert(*category);
            }
        }
        let tests: Vec<InventoryTest> = ids
            .iter()
            .map(|id| {
                let marks = markers.get(id.as_str()).cloned().unwrap_or_default();
                let path = id.split("::").next().unwrap_or(id);
                let broadest =
                    |set: &mut dyn Iterator<Item = Category>| set.filter(|c| c.is_level()).max();
                let level = broadest(&mut marks.iter().copied())
                    .or_else(|| {
                        broadest(
                            &mut [Category::Unit, Category::Integration, Category::E2e]
                                .into_iter()
                                .filter(|c| has_word(path, c.name())),
                        )
                    })
                    .or(suite.category.filter(|c| c.is_level()));
                let mut categories: BTreeSet<Category> =
                    marks.iter().copied().filter(|c| !c.is_level()).collect();
                categories.extend(level);
                if let Some(tag) = suite.category.filter(|c| !c.is_level()) {
                    categories.insert(tag);
                }
                tags(id, &mut categories);
                InventoryTest {
                    id: format!("{}::{id}", suite.name),
                    name: id.clone(),
                    origin: Origin::Pytest {
                        suite: suite.name.clone(),
                    },
                    categories,
                }
            })
            .collect();
        self.suites.push((
            SuiteEntry {
                name: suite.name.clone(),
                collect: suite.collect_command(),
                tests: Some(tests.len()),
                note: None,
            },
            tests,
        ));
        Ok(())
    }

    /// Adds the built-in E2E tests (the runner's catalogue).
    pub fn add_builtin(&mut self, tests: &[TestCase]) {
        self.builtin.extend(tests.iter().map(|t| {
            let mut categories = BTreeSet::from([Category::E2e]);
            tags(&t.name, &mut categories);
            InventoryTest {
                id: t.id.clone(),
                name: t.name.clone(),
                origin: Origin::Builtin {
                    critical: t.critical,
                },
                categories,
            }
        }));
    }

    /// The inventory: Rust targets sorted by package, kind and name (tests by name), then the
    /// suites in configuration order, then the built-in tests.
    pub fn build(mut self) -> Inventory {
        let kind_rank = |k: &str| match k {
            "lib" => 0,
            "bin" => 1,
            "doc" => 2,
            "test" => 3,
            _ => 4,
        };
        self.rust.sort_by(|(a, _), (b, _)| {
            (&a.package, kind_rank(&a.kind), &a.target).cmp(&(
                &b.package,
                kind_rank(&b.kind),
                &b.target,
            ))
        });
        let mut inv = Inventory::default();
        for (target, mut tests) in self.rust {
            tests.sort_by(|a, b| a.name.cmp(&b.name));
            inv.targets.push(target);
            inv.tests.extend(tests);
        }
        for (suite, tests) in self.suites {
            inv.suites.push(suite);
            inv.tests.extend(tests);
        }
        inv.tests.extend(self.builtin);
        inv
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn categories_cell(c: &BTreeSet<Category>) -> String {
    if c.is_empty() {
        "—".to_string()
    } else {
        c.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
    }
}

impl Inventory {
    /// How many tests carry each category, and how many carry none.
    pub fn counts(&self) -> (BTreeMap<Category, usize>, usize) {
        let mut by = BTreeMap::new();
        for c in Category::ALL {
            by.insert(c, 0);
        }
        let mut none = 0;
        for t in &self.tests {
            if t.categories.is_empty() {
                none += 1;
            }
            for c in &t.categories {
                *by.entry(*c).or_insert(0) += 1;
            }
        }
        (by, none)
    }

    /// Tests with no category.
    pub fn uncategorised(&self) -> impl Iterator<Item = &InventoryTest> {
        self.tests.iter().filter(|t| t.categories.is_empty())
    }

    /// `docs/testing/test_inventory.json` (schema [`SCHEMA`]).
    pub fn to_json(&self) -> String {
        let (by, none) = self.counts();
        let counts: serde_json::Map<String, serde_json::Value> = by
            .iter()
            .map(|(c, n)| (c.name().to_string(), json!(n)))
            .collect();
        let doc = json!({
            "schema": SCHEMA,
            "rules": RULES,
            "total": self.tests.len(),
            "counts": counts,
            "uncategorised": none,
            "targets": self.targets,
            "suites": self.suites,
            "tests": self.tests,
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }

    /// `docs/testing/test_inventory.md`.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let (by, none) = self.counts();
        let _ = writeln!(out, "# Test inventory\n");
        let _ = writeln!(
            out,
            "Generated by `cargo xtask test-inventory` (do not edit; `--check` fails when it is out of date). \
             The same data, machine-readable: `test_inventory.json` (schema `{SCHEMA}`).\n"
        );
        let _ = writeln!(out, "**{} tests.**\n", self.tests.len());
        let _ = writeln!(out, "| category | tests |\n|---|---:|");
        for (c, n) in &by {
            let _ = writeln!(out, "| {c} | {n} |");
        }
        let _ = writeln!(out, "| *uncategorised* | {none} |");
        let _ = writeln!(out, "\n## Rules\n");
        for (i, rule) in RULES.iter().enumerate() {
            let _ = writeln!(out, "{}. {rule}", i + 1);
        }
        let _ = writeln!(out, "\n## Uncategorised\n");
        let uncategorised: Vec<_> = self.uncategorised().collect();
        if uncategorised.is_empty() {
            let _ = writeln!(out, "None: every test has a category.");
        } else {
            for t in uncategorised {
                let _ = writeln!(out, "- `{}`", t.id);
            }
        }
        let _ = writeln!(out, "\n## Rust tests\n");
        if self.targets.is_empty() {
            let _ = writeln!(out, "None found.");
        } else {
            let _ = writeln!(
                out,
                "| package | target | kind | source | tests |\n|---|---|---|---|---:|"
            );
            for t in &self.targets {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | `{}` | {} |",
                    t.package,
                    t.target,
                    t.kind,
                    cell(&t.src_path),
                    t.tests
                );
            }
        }
        let mut current: Option<(String, String)> = None;
        for t in &self.tests {
            let key = match &t.origin {
                Origin::Rust {
                    package,
                    target,
                    target_kind,
                    ..
                } => (package.clone(), format!("{target_kind} `{target}`")),
                Origin::Doc { package } => (package.clone(), "doc tests".to_string()),
                _ => continue,
            };
            if current.as_ref() != Some(&key) {
                let _ = writeln!(out, "\n### {} — {}\n", key.0, key.1);
                let _ = writeln!(out, "| test | categories |\n|---|---|");
                current = Some(key);
            }
            let _ = writeln!(
                out,
                "| `{}` | {} |",
                cell(&t.name),
                categories_cell(&t.categories)
            );
        }
        let _ = writeln!(out, "\n## External suites\n");
        if self.suites.is_empty() {
            let _ = writeln!(
                out,
                "No external suites are configured (`[[e2e.suites]]` in `cdb.toml`), so there are no pytest tests to list."
            );
        }
        for s in &self.suites {
            let _ = writeln!(out, "### Suite `{}`\n", s.name);
            if let Some(note) = &s.note {
                let _ = writeln!(out, "Not listed: {note}\n");
                continue;
            }
            if let Some(cmd) = &s.collect {
                let _ = writeln!(out, "Listed with `{}`.\n", cmd.join(" "));
            }
            let _ = writeln!(out, "| test | categories |\n|---|---|");
            for t in self
                .tests
                .iter()
                .filter(|t| matches!(&t.origin, Origin::Pytest { suite } if *suite == s.name))
            {
                let _ = writeln!(
                    out,
                    "| `{}` | {} |",
                    cell(&t.name),
                    categories_cell(&t.categories)
                );
            }
            let _ = writeln!(out);
        }
        let builtin: Vec<_> = self
            .tests
            .iter()
            .filter(|t| matches!(t.origin, Origin::Builtin { .. }))
            .collect();
        let _ = writeln!(out, "\n## Built-in E2E tests\n");
        if builtin.is_empty() {
            let _ = writeln!(out, "None registered.");
        } else {
            let _ = writeln!(out, "| test | critical | categories |\n|---|---|---|");
            for t in builtin {
                let critical = matches!(t.origin, Origin::Builtin { critical: true });
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    cell(&t.id),
                    if critical { "yes" } else { "" },
                    categories_cell(&t.categories)
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use indexmap::IndexMap;

    use super::*;

    fn bin(package: &str, kind: &str, target: &str, src: &str) -> TestBinary {
        TestBinary {
            package: package.into(),
            target: target.into(),
            kind: kind.into(),
            src_path: PathBuf::from(format!("/repo/{src}")),
            executable: PathBuf::from(format!("/repo/target/debug/deps/{target}-0123")),
            manifest_dir: PathBuf::from(format!("/repo/crates/{package}")),
        }
    }

    fn suite(category: Option<Category>) -> SuiteConfig {
        SuiteConfig {
            name: "smoke".into(),
            command: ["pytest", "tests", "--junitxml={junit}"]
                .map(String::from)
                .to_vec(),
            working_dir: ".".into(),
            critical: true,
            timeout: None,
            env: IndexMap::new(),
            collect: None,
            category,
        }
    }

    fn collection() -> PytestCollection {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/pytest");
        let read = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        PytestCollection {
            all: read("collect-all.txt"),
            by_marker: Category::ALL
                .iter()
                .map(|c| (*c, read(&format!("collect-m-{c}.txt"))))
                .collect(),
        }
    }

    fn categories(inv: &Inventory, id: &str) -> Vec<&'static str> {
        inv.tests
            .iter()
            .find(|t| t.id == id)
            .unwrap_or_else(|| panic!("no {id}"))
            .categories
            .iter()
            .map(|c| c.name())
            .collect()
    }

    fn sample() -> Inventory {
        let mut b = InventoryBuilder::new("/repo");
        b.add_rust_binary(
            &bin(
                "cdb-core",
                "test",
                "diagnostics",
                "crates/cdb-core/tests/diagnostics.rs",
            ),
            "circular_extends: test\nslow_parse: test\n",
        )
        .unwrap();
        b.add_rust_binary(
            &bin("cdb-core", "lib", "cdb_core", "crates/cdb-core/src/lib.rs"),
            "config::tests::defaults: test\ne2e::tests::flaky_retry: test\n",
        )
        .unwrap();
        b.add_rust_binary(
            &bin("xtask", "test", "e2e_stack", "tests/e2e_stack.rs"),
            "stack_comes_up: test\n",
        )
        .unwrap();
        b.add_rust_binary(
            &bin("xtask", "bench", "speed", "benches/speed.rs"),
            "b1: test\n",
        )
        .unwrap();
        b.add_doctests(
            include_str!("../../testdata/inventory/cargo-test-doc-list.txt"),
            &[bin(
                "cdb-core",
                "lib",
                "cdb_core",
                "crates/cdb-core/src/lib.rs",
            )],
        )
        .unwrap();
        b.add_pytest_suite(&suite(None), &collection()).unwrap();
        b.add_builtin(&[TestCase::builtin("signal_reaches_fill", true)]);
        b.build()
    }

    #[test]
    fn a_test_about_flakiness_is_not_tagged_flaky() {
        // Regression: every test with the word anywhere in its name was tagged, so the
        // gate's own tests (`a_flaky_critical_test_fails_the_gate`) were listed as flaky.
        let tagged = |name: &str| {
            let mut c = BTreeSet::new();
            tags(name, &mut c);
            c.into_iter().map(|c| c.name()).collect::<Vec<_>>()
        };
        assert!(tagged("gate::tests::a_flaky_critical_test_fails_the_gate").is_empty());
        assert!(tagged("tests/test_gate.py::test_reports_slow_tests").is_empty());
        assert_eq!(tagged("e2e::tests::flaky_retry"), ["flaky"]);
        assert_eq!(
            tagged("tests/e2e/test_flow.py::test_slow_fill[btc]"),
            ["slow"]
        );
        assert_eq!(tagged("tests/slow/test_big.py::test_all"), ["slow"]);
        assert_eq!(tagged("flaky::tests::retry"), ["flaky"]);
    }

    #[test]
    fn rust_tests_are_categorised_by_target_and_name() {
        let inv = sample();
        assert_eq!(
            categories(&inv, "cdb-core/lib::config::tests::defaults"),
            ["unit"]
        );
        assert_eq!(
            categories(&inv, "cdb-core/lib::e2e::tests::flaky_retry"),
            ["e2e", "flaky"]
        );
        assert_eq!(
            categories(&inv, "cdb-core/test:diagnostics::circular_extends"),
            ["integration"]
        );
        assert_eq!(
            categories(&inv, "cdb-core/test:diagnostics::slow_parse"),
            ["integration", "slow"]
        );
        assert_eq!(
            categories(&inv, "xtask/test:e2e_stack::stack_comes_up"),
            ["e2e"]
        );
        assert_eq!(
            categories(
                &inv,
                "cdb-core/doc::crates/cdb-core/src/image.rs - image (line 38)"
            ),
            ["unit"]
        );
        // A bench target has no level: it is listed as uncategorised.
        let none: Vec<&str> = inv.uncategorised().map(|t| t.id.as_str()).collect();
        assert_eq!(
            none,
            [
                "xtask/bench:speed::b1",
                "smoke::tests/test_misc.py::test_nothing_special"
            ]
        );
        // The library target comes first within its package, whatever the order added.
        assert_eq!(inv.targets[0].kind, "lib");
        assert_eq!(inv.targets[1].kind, "doc");
    }

    #[test]
    fn pytest_tests_by_marker_then_path_then_suite() {
        let inv = sample();
        // Markers e2e and slow.
        assert_eq!(
            categories(&inv, "smoke::tests/e2e/test_flow.py::test_crash_recovery"),
            ["e2e", "slow"]
        );
        // No marker: the path's `e2e` word; marker flaky.
        assert_eq!(
            categories(&inv, "smoke::tests/e2e/test_flow.py::test_metrics_scrape"),
            ["e2e", "flaky"]
        );
        assert_eq!(
            categories(&inv, "smoke::tests/unit/test_math.py::test_add"),
            ["unit"]
        );
        assert!(categories(&inv, "smoke::tests/test_misc.py::test_nothing_special").is_empty());
        // The suite's category is the fallback.
        let mut b = InventoryBuilder::new("/repo");
        b.add_pytest_suite(&suite(Some(Category::Integration)), &collection())
            .unwrap();
        let inv = b.build();
        assert_eq!(
            categories(&inv, "smoke::tests/test_misc.py::test_nothing_special"),
            ["integration"]
        );
        assert_eq!(
            categories(&inv, "smoke::tests/unit/test_math.py::test_add"),
            ["unit"]
        );
        assert_eq!(inv.uncategorised().count(), 0);
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(sample().to_markdown());
    }

    #[test]
    fn json_snapshot() {
        let inv = sample();
        let text = inv.to_json();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["schema"], SCHEMA);
        assert_eq!(doc["total"], inv.tests.len());
        assert_eq!(doc["uncategorised"], 2);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn no_suites_configured_is_said() {
        let inv = InventoryBuilder::new("/repo").build();
        let md = inv.to_markdown();
        assert!(md.contains("No external suites are configured"), "{md}");
        assert!(md.contains("None: every test has a category."), "{md}");
    }
}
