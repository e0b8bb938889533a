//! `cargo xtask e2e` when the stack misbehaves, each fault injected by a Compose overlay of
//! `tests/e2e-faults/`: a healthcheck that never passes, a service that exits 1 on SIGTERM, and
//! SIGINT to the harness while it waits for health. After each, nothing of the run is left —
//! checked by its Compose project label.
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

fn e2e(project: &str, overlay: &str, extra: &[&str], history: &Path) -> Command {
    let mut cmd = Command::new(XTASK);
    cmd.current_dir(root())
        .env("CI", "true")
        .args(["e2e", "--project", project, "--overlay"])
        .arg(Path::new("tests/e2e-faults").join(overlay))
        .arg("--history")
        .arg(history)
        .args(extra)
        .stdin(Stdio::null());
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
    let out = e2e(&project, "unhealthy.yml", &[], &dir.join("history.jsonl"))
        .output()
        .expect("xtask runs");
    let text = text(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("risk-manager is unhealthy"), "{text}");
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

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cdb-e2e-faults-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
