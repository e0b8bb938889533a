//! `cargo xtask bench stack`: the reference stack's figures, measured on an isolated copy of
//! the test stack (its own project name and ports, removed afterwards): time to healthy, the
//! service image's size, each service's idle memory, and end-to-end throughput with
//! signal-to-row latency at a fixed offered rate.

use std::process::Command;
use std::time::{Duration, Instant};

use cdb_core::exit;
use cdb_e2e::config::E2eConfig;
use cdb_e2e::lifecycle::StackSpec;
use cdb_e2e::suite::Ctx;

pub fn run(rate: u32, seconds: u64) -> u8 {
    let loaded = or_exit!(crate::project::load());
    let config = &loaded.config;
    let project = format!("cdb-bench-{}", std::process::id());
    let e2e = or_exit!(loaded.section(E2eConfig::from_project));
    let spec = match StackSpec::isolated(config, &e2e, &project) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ENVIRONMENT;
        }
    };
    let runtime = or_exit!(crate::project::runtime());
    runtime.block_on(async move {
        let started = Instant::now();
        let stack = match spec.up().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ENVIRONMENT;
            }
        };
        if let Err(e) = stack.wait_healthy(Duration::from_secs(180)).await {
            eprintln!("error: {e}");
            let _ = stack.down().await;
            return exit::ENVIRONMENT;
        }
        let up = started.elapsed();
        // Idle: healthy, nothing sent yet; a moment for start-up allocations to settle.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let idle = memory(&project);
        let size = image_size(&stack.spec().env);
        let outcome = match Ctx::connect(
            stack.target.clone(),
            format!("bench{}", std::process::id()),
            e2e.http_timeout,
        )
        .await
        {
            Ok(ctx) => {
                cdb_e2e::throughput::measure(&ctx, "bench", rate, Duration::from_secs(seconds))
                    .await
            }
            Err(e) => Err(e),
        };
        let down = stack.down().await;
        println!("bench stack (isolated test stack `{project}`)");
        println!(
            "  up --detach until every service healthy   {:>8.1} s",
            up.as_secs_f64()
        );
        match size {
            Some((image, mb)) => println!("  service image {image:<27} {mb:>8.1} MB"),
            None => println!("  service image size: unknown"),
        }
        for (service, mib) in &idle {
            println!("  idle RSS {service:<32} {mib:>8.1} MiB");
        }
        let code = match outcome {
            Ok(r) => {
                println!(
                    "  offered                                   {:>8} signals/s for {:.0} s",
                    r.offered_per_second, r.duration_seconds
                );
                println!(
                    "  persisted                                 {:>8} of {} sent",
                    r.persisted, r.sent
                );
                println!(
                    "  sustained throughput                      {:>8.0} signals/s",
                    r.throughput_per_second
                );
                println!(
                    "  signal-to-row latency p50 / p99 / max     {:.1} / {:.1} / {:.1} ms",
                    r.p50_ms, r.p99_ms, r.max_ms
                );
                exit::SUCCESS
            }
            Err(e) => {
                eprintln!("error: the load failed: {e}");
                exit::GATE_FAILED
            }
        };
        match down {
            Ok(d) => println!(
                "  down --volumes                            {:>8.1} s",
                d.as_secs_f64()
            ),
            Err(e) => eprintln!("warning: teardown: {e}"),
        }
        code
    })
}

/// The memory each container of `project` uses (`docker stats`, which reports the cgroup's
/// usage without the page cache), by container name.
fn memory(project: &str) -> Vec<(String, f64)> {
    let ids = Command::new("docker")
        .args([
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={project}"),
        ])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Vec::new();
    }
    let out = Command::new("docker")
        .args([
            "stats",
            "--no-stream",
            "--format",
            "{{.Name}} {{.MemUsage}}",
        ])
        .args(&ids)
        .output();
    let Ok(out) = out else { return Vec::new() };
    let mut rows: Vec<(String, f64)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next()?.to_string();
            Some((name, mib(parts.next()?)?))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// `3.4MiB`, `512KiB`, `1.2GiB` → MiB.
fn mib(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("GiB") {
        (n, 1024.0)
    } else if let Some(n) = text.strip_suffix("MiB") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix("KiB") {
        (n, 1.0 / 1024.0)
    } else {
        (text.strip_suffix('B')?, 1.0 / 1024.0 / 1024.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// The service image (CDB_PAPER_IMAGE when set, else the Compose default) and its size in MB.
fn image_size(env: &[(String, String)]) -> Option<(String, f64)> {
    let image = env
        .iter()
        .find(|(k, _)| k == "CDB_PAPER_IMAGE")
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var("CDB_PAPER_IMAGE").ok())
        .unwrap_or_else(|| "cdb/paper:0.1.0".into());
    let out = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Size}}", &image])
        .output()
        .ok()?;
    let bytes: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some((image, bytes / 1e6))
}

#[cfg(test)]
mod tests {
    use super::mib;

    #[test]
    fn docker_stats_units() {
        assert_eq!(mib("3.5MiB"), Some(3.5));
        assert_eq!(mib("512KiB"), Some(0.5));
        assert_eq!(mib("1GiB"), Some(1024.0));
        assert_eq!(mib("nope"), None);
    }
}
