//! Conformance with the real Compose: for every case folder (ours under `tests/compose-cases/`,
//! and the shared real-world fixtures under `../shared/fixtures/compose/`), run
//! `docker compose config --format json` and `xtask compose config --format json` in the folder
//! with the same arguments and environment, and require that they agree on every key cdb reads —
//! or that both reject the case.
//!
//! Needs Compose v2 (`docker compose`). Outside CI a missing Compose v2 skips the test with a
//! loud message; in CI (`CI` set) it fails, so the test is never skipped there.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The service keys compared, per the foundation issue.
const SERVICE_KEYS: &[&str] = &[
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "ports",
    "volumes",
    "healthcheck",
    "depends_on",
    "profiles",
    "container_name",
    "labels",
];

#[derive(Debug)]
struct Case {
    name: String,
    dir: PathBuf,
    files: Vec<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    expect_error: Option<String>,
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn case_at(name: String, dir: &Path) -> Case {
    let env = lines(&dir.join("env"))
        .into_iter()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    Case {
        name,
        dir: dir.to_path_buf(),
        files: lines(&dir.join("files")),
        args: lines(&dir.join("args")),
        env,
        expect_error: lines(&dir.join("expect-error")).into_iter().next(),
    }
}

fn is_case_dir(dir: &Path) -> bool {
    dir.join("files").is_file()
        || dir.join("compose.yaml").is_file()
        || dir.join("env").is_file()
        || dir.join("args").is_file()
        || dir.join("docker-compose.yml").is_file()
}

fn collect(root: &Path, prefix: &str, out: &mut Vec<Case>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = format!(
            "{prefix}{}",
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        if is_case_dir(&dir) {
            out.push(case_at(name, &dir));
        } else {
            collect(&dir, &format!("{name}/"), out);
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// How a case is run: in its folder (as its README says), or from its parent folder with
/// `-f <case>/compose.yaml` (relative paths must resolve against the current directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum From {
    CaseFolder,
    ParentFolder,
}

fn run(program: &str, pre: &[&str], case: &Case, extra_env: &[(&str, &str)], from: From) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(pre);
    for f in &case.files {
        cmd.arg("-f").arg(f);
    }
    let cwd = match from {
        From::CaseFolder => case.dir.clone(),
        From::ParentFolder => {
            let name = case.dir.file_name().expect("case folder has a name");
            cmd.arg("-f").arg(Path::new(name).join("compose.yaml"));
            case.dir
                .parent()
                .expect("case folder has a parent")
                .to_path_buf()
        }
    };
    cmd.args(&case.args);
    cmd.args(["config", "--format", "json"]);
    cmd.current_dir(cwd).env_clear();
    for key in ["PATH", "HOME"] {
        if let Ok(v) = std::env::var(key) {
            cmd.env(key, v);
        }
    }
    for (k, v) in &case.env {
        cmd.env(k, v);
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

fn compose_v2_available() -> bool {
    Command::new("docker")
        .args(["compose", "version", "--short"])
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim().starts_with('2'))
        .unwrap_or(false)
}

fn compare(case: &Case, theirs: &Value, ours: &Value, problems: &mut Vec<String>) {
    let mut diff = |what: String, a: Option<&Value>, b: Option<&Value>| {
        let null = Value::Null;
        if a.unwrap_or(&null) != b.unwrap_or(&null) {
            problems.push(format!(
                "{}: {what} differs\n    docker compose: {}\n    cdb:            {}",
                case.name,
                a.map_or("<absent>".into(), Value::to_string),
                b.map_or("<absent>".into(), Value::to_string)
            ));
        }
    };
    for key in ["name", "volumes", "networks"] {
        diff(key.to_string(), theirs.get(key), ours.get(key));
    }
    let names = |v: &Value| -> BTreeSet<String> {
        v.get("services")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (theirs_names, ours_names) = (names(theirs), names(ours));
    if theirs_names != ours_names {
        problems.push(format!(
            "{}: services differ: docker compose {theirs_names:?}, cdb {ours_names:?}",
            case.name
        ));
        return;
    }
    for service in &theirs_names {
        let t = &theirs["services"][service];
        let o = &ours["services"][service];
        for key in SERVICE_KEYS {
            diff(
                format!("services.{service}.{key}"),
                t.get(*key),
                o.get(*key),
            );
        }
    }
}

/// One run of a case: its index, extra environment, and where it runs from.
type Variant = (usize, Vec<(&'static str, &'static str)>, From);

#[test]
fn cdb_resolves_every_case_as_docker_compose_does() {
    if !compose_v2_available() {
        let message = "Compose v2 (`docker compose`) is not installed: the conformance test cannot run. \
                       Install it as .ci/run does (see README, 'Compose v2').";
        if std::env::var_os("CI").is_some() {
            panic!("{message} In CI this test must not be skipped.");
        }
        eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
        return;
    }
    let root = workspace_root();
    let mut cases = Vec::new();
    collect(&root.join("tests/compose-cases"), "", &mut cases);
    let own = cases.len();
    let shared = root.join("../shared/fixtures/compose");
    collect(&shared, "shared/", &mut cases);
    assert!(own >= 15, "expected at least 15 own cases, found {own}");
    if std::env::var_os("CI").is_some() {
        assert!(
            cases.len() > own,
            "the shared fixtures were not found at {}",
            shared.display()
        );
    }
    // The shared TestUpImageID case also resolves once ID is set (see its README).
    let mut variants: Vec<Variant> = (0..cases.len())
        .map(|i| (i, Vec::new(), From::CaseFolder))
        .collect();
    if let Some(i) = cases.iter().position(|c| c.name.ends_with("TestUpImageID")) {
        variants.push((i, vec![("ID", "anything")], From::CaseFolder));
    }
    // Simple cases again from the parent folder, with a relative -f.
    for (i, case) in cases.iter().enumerate() {
        if case.files.is_empty()
            && case.args.is_empty()
            && case.env.is_empty()
            && case.expect_error.is_none()
            && case.dir.join("compose.yaml").is_file()
            && !case.dir.join(".env").exists()
            && !case.dir.join("compose.override.yaml").exists()
            && !case.dir.join("compose.override.yml").exists()
            && !case.dir.join("docker-compose.override.yml").exists()
        {
            variants.push((i, Vec::new(), From::ParentFolder));
        }
    }

    let xtask = env!("CARGO_BIN_EXE_xtask");
    let mut problems = Vec::new();
    let mut agreed_ok = 0;
    let mut agreed_error = 0;
    for (index, extra_env, from) in &variants {
        let case = &cases[*index];
        let theirs = run("docker", &["compose"], case, extra_env, *from);
        let ours = run(xtask, &["compose"], case, extra_env, *from);
        match (theirs.status.success(), ours.status.success()) {
            (true, true) => {
                let t: Value = serde_json::from_slice(&theirs.stdout).expect("compose prints JSON");
                let o: Value = match serde_json::from_slice(&ours.stdout) {
                    Ok(v) => v,
                    Err(e) => {
                        problems.push(format!("{}: cdb printed invalid JSON: {e}", case.name));
                        continue;
                    }
                };
                let before = problems.len();
                compare(case, &t, &o, &mut problems);
                if problems.len() == before {
                    agreed_ok += 1;
                }
            }
            (false, false) => {
                agreed_error += 1;
                if ours.status.code() != Some(2) {
                    problems.push(format!(
                        "{}: cdb rejected the case with exit code {:?}, not 2",
                        case.name,
                        ours.status.code()
                    ));
                }
            }
            (true, false) => problems.push(format!(
                "{}: docker compose accepts the case, cdb rejects it:\n{}",
                case.name,
                String::from_utf8_lossy(&ours.stderr)
            )),
            (false, true) => problems.push(format!(
                "{}: docker compose rejects the case ({}), cdb accepts it",
                case.name,
                String::from_utf8_lossy(&theirs.stderr).trim()
            )),
        }
        if let Some(expected) = &case.expect_error
            && theirs.status.success()
        {
            problems.push(format!(
                "{}: the case expects Compose to fail with {expected:?}, but it succeeded",
                case.name
            ));
        }
    }
    eprintln!(
        "compose conformance: {} runs over {} cases ({own} own, {} shared): {agreed_ok} resolved identically, {agreed_error} rejected by both, {} problems",
        variants.len(),
        cases.len(),
        cases.len() - own,
        problems.len()
    );
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n\n"));
}
