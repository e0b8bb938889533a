//! `cargo xtask test-inventory` (roadmap ): every test of the workspace and of the
//! configured pytest suites, categorised, written to `docs/testing/test_inventory.md` and
//! `.json`. xtask runs the processes; `cdb_e2e::inventory` parses, categorises and renders.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cdb_core::config::ProjectConfig;
use cdb_core::exit;
use cdb_e2e::config::E2eConfig;
use cdb_e2e::inventory::{self, Category, InventoryBuilder, PytestCollection};
use cdb_e2e::model::TestCase;
use cdb_e2e::reporter::write_file;
use cdb_e2e::suite::{self, Target};
use clap::Args;

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Where the inventory is written, relative to cdb.toml.
    #[arg(long, default_value = "docs/testing")]
    output_dir: PathBuf,
    /// Write nothing; exit 1 when the files on disk differ from the inventory.
    #[arg(long)]
    check: bool,
}

fn output(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

/// Standard output and error through one file, in the order they were written: cargo names
/// each crate's doc tests (`Doc-tests cdb_core`) on stderr and lists them on stdout.
fn merged_output(cmd: &mut Command, what: &str) -> Result<String, String> {
    let path = std::env::temp_dir().join(format!("cdb-inventory-{}.txt", std::process::id()));
    let file = std::fs::File::create(&path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let err = file
        .try_clone()
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let status = cmd
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"));
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    match status? {
        s if s.success() => Ok(text),
        s => Err(format!("{what} failed ({s}):\n{}", text.trim_end())),
    }
}

pub fn run(args: InventoryArgs) -> u8 {
    let loaded = or_exit!(crate::project::load());
    let e2e = or_exit!(loaded.section(E2eConfig::from_project));
    let config = &loaded.config;
    match build(config, &e2e) {
        Ok(inv) => {
            let dir = config.root.join(&args.output_dir);
            let files = [
                (dir.join("test_inventory.md"), inv.to_markdown()),
                (dir.join("test_inventory.json"), inv.to_json()),
            ];
            let (by, none) = inv.counts();
            let counts: Vec<String> = by.iter().map(|(c, n)| format!("{c} {n}")).collect();
            println!(
                "{} tests: {}; uncategorised {none}",
                inv.tests.len(),
                counts.join(", ")
            );
            for t in inv.uncategorised() {
                println!("  uncategorised: {}", t.id);
            }
            if args.check {
                let stale: Vec<&Path> = files
                    .iter()
                    .filter(|(p, text)| std::fs::read_to_string(p).ok().as_deref() != Some(text))
                    .map(|(p, _)| p.as_path())
                    .collect();
                if stale.is_empty() {
                    println!("the inventory in {} is up to date", dir.display());
                    return exit::SUCCESS;
                }
                for p in stale {
                    eprintln!(
                        "out of date: {} (run `cargo xtask test-inventory`)",
                        p.display()
                    );
                }
                return exit::GATE_FAILED;
            }
            for (path, text) in &files {
                if let Err(e) = write_file(path, text) {
                    eprintln!("error: {e}");
                    return exit::ENVIRONMENT;
                }
                println!("wrote {}", path.display());
            }
            exit::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ENVIRONMENT
        }
    }
}

fn build(config: &ProjectConfig, e2e: &E2eConfig) -> Result<inventory::Inventory, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut builder = InventoryBuilder::new(&config.root);

    let messages = output(
        Command::new(&cargo).current_dir(&config.root).args([
            "test",
            "--workspace",
            "--no-run",
            "--message-format=json",
        ]),
        "cargo test --no-run",
    )?;
    let binaries = inventory::cargo::parse_cargo_messages(&messages).map_err(|e| e.to_string())?;
    for b in &binaries {
        let list = output(
            Command::new(&b.executable)
                .current_dir(&b.manifest_dir)
                .args(["--list", "--format", "terse"]),
            &format!("{} --list", b.executable.display()),
        )?;
        builder
            .add_rust_binary(b, &list)
            .map_err(|e| e.to_string())?;
    }
    let docs = merged_output(
        Command::new(&cargo).current_dir(&config.root).args([
            "test",
            "--workspace",
            "--doc",
            "--",
            "--list",
            "--format",
            "terse",
        ]),
        "cargo test --doc -- --list",
    )?;
    builder
        .add_doctests(&docs, &binaries)
        .map_err(|e| e.to_string())?;

    for s in &e2e.suites {
        let Some(argv) = s.collect_command() else {
            builder.add_unlisted_suite(s, "no `collect` command and not pytest");
            continue;
        };
        let run = |extra: &[String]| -> Result<String, String> {
            let (program, rest) = argv.split_first().ok_or("empty collect command")?;
            output(
                Command::new(program)
                    .current_dir(s.working_dir(config))
                    .args(rest)
                    .args(extra),
                &argv.join(" "),
            )
        };
        match run(&[]) {
            Ok(all) => {
                let mut collection = PytestCollection {
                    all,
                    by_marker: Vec::new(),
                };
                if s.is_pytest() {
                    for c in Category::ALL {
                        // A marker nobody uses selects nothing: pytest exits 5, an empty list.
                        let selected = run(&inventory::marker_args(c)).unwrap_or_default();
                        collection.by_marker.push((c, selected));
                    }
                }
                builder
                    .add_pytest_suite(s, &collection)
                    .map_err(|e| e.to_string())?;
            }
            Err(e) => builder.add_unlisted_suite(s, e),
        }
    }

    let target = Target {
        project: String::new(),
        redis_url: String::new(),
        database_url: String::new(),
        services: Default::default(),
        // Some: the inventory lists every test the suite can run, the Prometheus one too.
        prometheus_url: Some(String::new()),
        contract: e2e.contract.clone(),
        stop_grace: std::time::Duration::from_secs(20),
    };
    let builtin: Vec<TestCase> = suite::tests(&target)
        .iter()
        .map(|t| TestCase::builtin(&t.name, t.critical))
        .collect();
    builder.add_builtin(&builtin);
    Ok(builder.build())
}
