//! `cargo xtask bench e2e`: the harness's own lifecycle against the floor of plain Compose, on
//! the same files and images, alternated in one run: `docker compose up --detach --wait` then
//! `down --volumes` (the floor) versus the harness's `up` + health wait through engine events +
//! teardown. Also the reaction time (engine event "healthy" → the harness acting on it) and a
//! whole `cargo xtask e2e` session.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cdb_core::exit;
use cdb_e2e::config::E2eConfig;
use cdb_e2e::lifecycle::StackSpec;
use cdb_e2e::runner;

/// Goals (issue "cargo xtask e2e"): lifecycle ratio, a whole session, the reaction time.
const MAX_RATIO: f64 = 1.3;
const MAX_SESSION: Duration = Duration::from_secs(90);
const MAX_REACTION: Duration = Duration::from_millis(200);

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

pub fn run(iterations: u32) -> u8 {
    let loaded = or_exit!(crate::project::load());
    let config = &loaded.config;
    let e2e = or_exit!(loaded.section(E2eConfig::from_project));
    let runtime = or_exit!(crate::project::runtime());
    let mut floor = Vec::new();
    let mut harness = Vec::new();
    let mut harness_phases = Vec::new();
    let mut reactions = Vec::new();
    for i in 0..iterations.max(1) {
        let project = format!("cdb-bench-e2e-{}-{i}", std::process::id());
        let spec = match StackSpec::isolated(config, &e2e, &project) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ENVIRONMENT;
            }
        };
        // The floor: plain Compose on the same files, variables and images.
        match compose_floor(&spec) {
            Ok(d) => {
                eprintln!("   floor   #{i}: {}", secs(d));
                floor.push(d);
            }
            Err(e) => {
                eprintln!("error: the floor run failed: {e}");
                return exit::ENVIRONMENT;
            }
        }
        // The harness: up, health through engine events, teardown.
        let result = runtime.block_on(async {
            let t = Instant::now();
            let stack = spec.up().await?;
            let up = t.elapsed();
            let report = match stack.wait_healthy(Duration::from_secs(180)).await {
                Ok(r) => r,
                Err(e) => {
                    let _ = stack.down().await;
                    return Err(e);
                }
            };
            // As the runner does: each service's own /health after the engine's view, and
            // a teardown that ends with the label purge and the leftovers check.
            if let Err(e) = runner::http_health(&stack.target, &e2e, t).await {
                let _ = stack.down().await;
                return Err(e);
            }
            let healthy = t.elapsed();
            let spec = stack.spec().clone();
            let d = Instant::now();
            stack.down().await?;
            runner::remove_everything(&spec).await?;
            let down = d.elapsed();
            Ok::<_, String>((t.elapsed(), up, healthy - up, down, report))
        });
        match result {
            Ok((total, up, wait, down, report)) => {
                eprintln!(
                    "   harness #{i}: {} (up {}, health wait {}, teardown {}; reaction {})",
                    secs(total),
                    secs(up),
                    secs(wait),
                    secs(down),
                    report.reaction.map_or("-".into(), |r| format!(
                        "{:.1} ms",
                        r.as_secs_f64() * 1000.0
                    ))
                );
                harness.push(total);
                harness_phases.push((up, wait, down));
                reactions.extend(report.reaction);
            }
            Err(e) => {
                eprintln!("error: the harness run failed: {e}");
                return exit::ENVIRONMENT;
            }
        }
    }

    // A whole session, as a user runs it.
    let exe = std::env::current_exe().unwrap_or_else(|_| "xtask".into());
    let t = Instant::now();
    let session = Command::new(exe)
        .args(["e2e", "--history", "target/bench-e2e-history.jsonl"])
        .args(["--json", SESSION_JSON])
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let session_time = t.elapsed();
    let session_ok = session.as_ref().is_ok_and(|s| s.success());

    let f = median(floor);
    let h = median(harness);
    let ratio = h.as_secs_f64() / f.as_secs_f64().max(1e-9);
    let reaction = (!reactions.is_empty()).then(|| median(reactions.clone()));
    let up = median(harness_phases.iter().map(|p| p.0).collect());
    let wait = median(harness_phases.iter().map(|p| p.1).collect());
    let down = median(harness_phases.iter().map(|p| p.2).collect());
    let mut code = exit::SUCCESS;
    let mut verdict = |ok: bool| {
        if !ok {
            code = exit::GATE_FAILED;
        }
        if ok { "ok" } else { "MISSED" }
    };
    println!("bench e2e ({} iteration(s), medians)", iterations.max(1));
    println!("  floor: compose up --wait + down -v     {}", secs(f));
    println!(
        "  harness: up {} + health wait {} + teardown {} = {}",
        secs(up),
        secs(wait),
        secs(down),
        secs(h)
    );
    println!(
        "  ratio harness / floor                 {ratio:.2}  (goal ≤ {MAX_RATIO})  {}",
        verdict(ratio <= MAX_RATIO)
    );
    match reaction {
        Some(r) => println!(
            "  engine healthy event → harness acts   {:.1} ms over {} stack(s)  (goal < {} ms)  {}",
            r.as_secs_f64() * 1000.0,
            reactions.len(),
            MAX_REACTION.as_millis(),
            verdict(r < MAX_REACTION)
        ),
        None => println!("  engine healthy event → harness acts   not observed"),
    }
    println!(
        "  whole `cargo xtask e2e` session       {}  (goal < {} s, gate {})  {}",
        secs(session_time),
        MAX_SESSION.as_secs(),
        if session_ok { "holds" } else { "did not hold" },
        verdict(session_ok && session_time < MAX_SESSION)
    );
    match session_phases(Path::new(SESSION_JSON)) {
        Ok(phases) => println!("    its phases: {phases}"),
        Err(why) => println!("    its phases: unknown ({why})"),
    }
    code
}

/// Where the whole session's JSON report goes, for its phase times.
const SESSION_JSON: &str = "target/bench-e2e-session.json";

/// The phases of the session's JSON report (`cdb.e2e/v1`) as one line: `images 0.3 s, up 10.0 s, …`.
fn session_phases(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let report: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let phases = report["phases"]
        .as_array()
        .ok_or_else(|| format!("{}: no phases", path.display()))?;
    Ok(phases
        .iter()
        .map(|p| {
            let ms = p["elapsed_ms"].as_u64().unwrap_or(0);
            format!(
                "{} {}",
                p["phase"].as_str().unwrap_or("?"),
                secs(Duration::from_millis(ms))
            )
        })
        .collect::<Vec<_>>()
        .join(", "))
}

fn compose_floor(spec: &StackSpec) -> Result<Duration, String> {
    let compose = |args: &[&str]| {
        let mut cmd = Command::new("docker");
        cmd.args(["compose", "--project-name", &spec.project])
            .arg("--project-directory")
            .arg(&spec.project_directory);
        for f in &spec.files {
            cmd.arg("-f").arg(f);
        }
        cmd.envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        // The same free-port choice as the harness makes: any free port, chosen by the engine.
        for v in cdb_e2e::lifecycle::PORT_VARIABLES {
            if !spec.env.iter().any(|(k, _)| k == v) {
                cmd.env(v, "0");
            }
        }
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::null());
        cmd
    };
    let t = Instant::now();
    let up = compose(&["up", "--detach", "--wait", "--pull", "never"])
        .output()
        .map_err(|e| e.to_string())?;
    let down = compose(&["down", "--volumes", "--remove-orphans"])
        .output()
        .map_err(|e| e.to_string())?;
    if !up.status.success() {
        return Err(String::from_utf8_lossy(&up.stderr).into_owned());
    }
    if !down.status.success() {
        return Err(String::from_utf8_lossy(&down.stderr).into_owned());
    }
    Ok(t.elapsed())
}
