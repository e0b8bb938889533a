//! `cargo xtask e2e` as a whole: when the stack misbehaves, each fault injected by a Compose
//! overlay of `tests/e2e-faults/` (a healthcheck that never passes, a service that exits 1 on
//! SIGTERM, SIGINT to the harness while it waits for health), and with an external suite whose
//! JUnit results join the run. After each, nothing of the run is left — checked by its Compose
//! project label.
//!
//! Needs Docker, Compose v2 and the images of `cargo xtask images` (`cargo xtask test` provides
//! them first); without them these tests FAIL, they never skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const XTASK: &str = env!("CARGO_BIN_EXE_xtask");

/// One stack at a time: the machine has two cores, and the runs' timings stay representative.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn project(tag: &str) -> String {
    format!("cdb-fault-{tag}-{}", std::process::id())
}

/// `cargo xtask e2e --project PROJECT` from the workspace root, as CI runs it.
fn xtask_e2e(project: &str) -> Command {
    let mut cmd = Command::new(XTASK);
    cmd.current_dir(root())
        .env("CI", "true")
        .args(["e2e", "--project", project])
        .stdin(Stdio::null());
    cmd
}

fn e2e(project: &str, overlay: &str, extra: &[&str], history: &Path) -> Command {
    let mut cmd = xtask_e2e(project);
    cmd.arg("--overlay")
        .arg(Path::new("tests/e2e-faults").join(overlay))
        .arg("--history")
        .arg(history)
        .args(extra);
    cmd
}

/// Everything the engine still holds with the project's label.
fn leftovers(project: &str) -> Vec<String> {
    let label = format!("label=com.docker.compose.project={project}");
    let mut out = Vec::new();
    for args in [
        vec!["ps", "-a", "-q", "--filter", &label],
        vec!["network", "ls", "-q", "--filter", &label],
        vec!["volume", "ls", "-q", "--filter", &label],
    ] {
        let o = Command::new("docker")
            .args(&args)
            .output()
            .expect("docker runs");
        out.extend(
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(|s| format!("{} {s}", args[0])),
        );
    }
    out
}

/// Removes what a failed test may have left, so that one failure does not leak into the next.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let label = format!("label=com.docker.compose.project={}", self.0);
        let ids = Command::new("docker")
            .args(["ps", "-a", "-q", "--filter", &label])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for id in ids.split_whitespace() {
            let _ = Command::new("docker").args(["rm", "-f", "-v", id]).output();
        }
        for kind in ["network", "volume"] {
            let ids = Command::new("docker")
                .args([kind, "ls", "-q", "--filter", &label])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            for id in ids.split_whitespace() {
                let _ = Command::new("docker").args([kind, "rm", id]).output();
            }
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_healthcheck_that_never_passes_names_the_service_and_exits_3() {
    let _serial = serial();
    let project = project("unhealthy");
    let _cleanup = Cleanup(project.clone());
    let dir = tempdir("unhealthy");
    let junit = dir.join("junit.xml");
    std::fs::write(&junit, "<testsuites name=\"stale\"/>").expect("write");
    let junit_arg = junit.to_str().expect("utf-8");
    let out = e2e(
        &project,
        "unhealthy.yml",
        &["--junit", junit_arg],
        &dir.join("history.jsonl"),
    )
    .output()
    .expect("xtask runs");
    let text = text(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("risk-manager is unhealthy"), "{text}");
    // The JUnit report of an earlier session was replaced by this one's: the stack failed.
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    assert!(!xml.contains("stale"), "{xml}");
    assert!(xml.contains("<error"), "{xml}");
    // Its health log: the probe's own output.
    assert!(text.contains("unknown role \"never-healthy\""), "{text}");
    assert_eq!(leftovers(&project), Vec::<String>::new(), "{text}");
    assert!(
        !dir.join("history.jsonl").exists(),
        "a stack that never came up is no verdict on the tests: no history line"
    );
}

#[test]
fn a_service_exiting_1_on_sigterm_fails_a09_and_is_named() {
    let _serial = serial();
    let project = project("sigterm");
    let _cleanup = Cleanup(project.clone());
    let dir = tempdir("sigterm");
    let junit = dir.join("junit.xml");
    let out = e2e(
        &project,
        "sigterm-exit-1.yml",
        &[
            "--filter",
            "A-09",
            "--junit",
            junit.to_str().expect("utf-8"),
        ],
        &dir.join("history.jsonl"),
    )
    .output()
    .expect("xtask runs");
    let text = text(&out);
    assert_eq!(out.status.code(), Some(1), "the gate fails: {text}");
    assert!(
        text.contains("risk-manager exited 1 after SIGTERM"),
        "A-09 names the service: {text}"
    );
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    assert!(xml.contains("A-09") && xml.contains("<failure"), "{xml}");
    let history = std::fs::read_to_string(dir.join("history.jsonl")).expect("history appended");
    assert_eq!(history.lines().count(), 1);
    assert!(history.to_lowercase().contains("\"fails\""), "{history}");
    assert_eq!(leftovers(&project), Vec::<String>::new(), "{text}");
}

#[test]
fn sigint_during_the_health_wait_leaves_nothing_behind() {
    let _serial = serial();
    let project = project("sigint");
    let _cleanup = Cleanup(project.clone());
    let dir = tempdir("sigint");
    let child = e2e(&project, "slow-health.yml", &[], &dir.join("history.jsonl"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xtask runs");
    // Wait until the run's containers exist and risk-manager is still `starting`.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let starting = Command::new("docker")
            .args([
                "ps",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
                "--filter",
                "health=starting",
            ])
            .output()
            .map(|o| !o.stdout.is_empty())
            .unwrap_or(false);
        if starting {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stack never got to the health wait"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(1));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().expect("xtask ends");
    let text = text(&out);
    assert_eq!(out.status.code(), Some(130), "{text}");
    assert!(text.contains("interrupted"), "{text}");
    assert_eq!(leftovers(&project), Vec::<String>::new(), "{text}");
}

#[test]
fn a_project_that_exists_already_is_refused_and_left_alone() {
    let project = project("existing");
    let _cleanup = Cleanup(project.clone());
    let created = Command::new("docker")
        .args(["network", "create", "--label"])
        .arg(format!("com.docker.compose.project={project}"))
        .arg(format!("{project}_default"))
        .output()
        .expect("docker runs");
    assert!(created.status.success(), "{}", text(&created));
    let out = xtask_e2e(&project).output().expect("xtask runs");
    let text = text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("exists already"), "{text}");
    assert_eq!(
        leftovers(&project).len(),
        1,
        "the existing network is untouched: {text}"
    );

    // The name of the stack `cargo xtask stack --test` runs is refused before anything.
    let out = xtask_e2e("cdb-test").output().expect("xtask runs");
    assert_eq!(out.status.code(), Some(2), "{}", self::text(&out));
}

#[test]
fn an_overlay_that_does_not_load_is_bad_input_with_its_line() {
    let dir = tempdir("bad-overlay");
    let overlay = dir.join("bad.yml");
    std::fs::write(&overlay, "services:\n  redis:\n    ports: [\n").expect("write");
    let out = xtask_e2e(&project("bad-overlay"))
        .arg("--overlay")
        .arg(&overlay)
        .output()
        .expect("xtask runs");
    let text = text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("bad.yml:"), "points into the file: {text}");
}

/// Copies what a project needs beside its own `cdb.toml`: the Compose files and image folders.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The shell "suite": checks that it was given the stack's addresses, and reports through
/// JUnit — one test retried inside the run (failed, then passed: the last attempt counts).
const EXTERNAL_SUITE: &str = r#"
junit="$1"
env | grep -E '^(REDIS_URL|DATABASE_URL|[A-Z_]+_URL|CDB_E2E_PROJECT)=' | sort > "$ENV_OUT"
if [ -n "$REDIS_URL" ] && [ -n "$DATABASE_URL" ] && [ -n "$RISK_MANAGER_URL" ]; then r=""
else r='<failure message="the stack addresses are missing"/>'; fi
cat > "$junit" <<XML
<testsuites><testsuite name="ext" tests="3">
<testcase classname="ext.flow" name="A-05 external sees the stack" time="0.01">$r</testcase>
<testcase classname="ext.flow" name="A-05 external retried" time="0.02"><failure message="first try"/></testcase>
<testcase classname="ext.flow" name="A-05 external retried" time="0.03"/>
</testsuite></testsuites>
XML
"#;

/// A "suite" whose report says all passed but whose exit code says it failed (a crash after
/// writing the report): the exit code counts.
const LYING_SUITE: &str = r#"
cat > "$1" <<XML
<testsuites><testsuite name="liar" tests="1">
<testcase classname="liar" name="A-05 liar passes" time="0.01"/>
</testsuite></testsuites>
XML
exit 1
"#;

#[test]
fn an_external_suite_gets_the_stack_its_junit_joins_the_run_and_its_exit_code_counts() {
    let _serial = serial();
    let project = project("external");
    let _cleanup = Cleanup(project.clone());
    let dir = tempdir("external");
    let repo = dir.join("repo");
    copy_dir(&root().join("compose"), &repo.join("compose"));
    let command =
        serde_json::to_string(&["sh", "-c", EXTERNAL_SUITE, "sh", "{junit}"]).expect("json");
    let liar = serde_json::to_string(&["sh", "-c", LYING_SUITE, "sh", "{junit}"]).expect("json");
    std::fs::write(
        repo.join("cdb.toml"),
        format!(
            "[compose]\nfiles = [\"compose/docker-compose.yml\"]\n\n[[e2e.suites]]\nname = \"ext\"\ncritical = true\ncommand = {command}\nenv = {{ ENV_OUT = {env_out:?} }}\n\n[[e2e.suites]]\nname = \"liar\"\ncritical = false\ncommand = {liar}\n",
            env_out = dir.join("env.txt").display().to_string()
        ),
    )
    .expect("write cdb.toml");
    let junit = dir.join("junit.xml");
    let out = Command::new(XTASK)
        .current_dir(&repo)
        .env("CI", "true")
        // The copy has no sources to build from: run the image built from this workspace.
        .env("CDB_PAPER_IMAGE", "cdb/paper:0.1.0")
        .args(["e2e", "--project", &project, "--filter", "A-05", "--junit"])
        .arg(&junit)
        .arg("--history")
        .arg(dir.join("history.jsonl"))
        .stdin(Stdio::null())
        .output()
        .expect("xtask runs");
    let text = text(&out);
    // 4 of 5 passed: below the 95 % pass rate.
    assert_eq!(out.status.code(), Some(1), "the gate fails: {text}");
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    // The built-in A-05 and the suite's two tests, the retried one once, passed.
    assert!(xml.contains("A-05 signal reaches execution"), "{xml}");
    assert_eq!(
        xml.matches("A-05 external sees the stack").count(),
        1,
        "{xml}"
    );
    assert_eq!(xml.matches("A-05 external retried").count(), 1, "{xml}");
    // The lying suite: its one test passed, but it exited 1: one failure, named.
    assert!(xml.contains("A-05 liar passes"), "{xml}");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    assert!(xml.contains("suite liar ran"), "{xml}");
    assert!(
        xml.contains("but its JUnit report names no failed test"),
        "{xml}"
    );
    let env = std::fs::read_to_string(dir.join("env.txt")).unwrap_or_default();
    assert!(env.contains("REDIS_URL=redis://127.0.0.1:"), "{env}");
    assert!(env.contains("DATABASE_URL=postgres://"), "{env}");
    assert!(env.contains("DB_WRITER_URL=http://127.0.0.1:"), "{env}");
    assert!(env.contains(&format!("CDB_E2E_PROJECT={project}")), "{env}");
    assert_eq!(leftovers(&project), Vec::<String>::new(), "{text}");
}

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cdb-e2e-faults-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
