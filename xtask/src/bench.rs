//! `cargo xtask bench compose`: resolving the stack's Compose files in-process versus running
//! `docker compose config` as a process, side by side in one run.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cdb_core::compose::{ComposeOptions, load};
use cdb_core::config::ProjectConfig;
use cdb_core::exit;
use cdb_core::source::SourceMap;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// In-process Compose resolution vs `docker compose config`.
    Compose {
        /// Compose files (default: those of cdb.toml).
        #[arg(short = 'f', long = "file")]
        files: Vec<PathBuf>,
        /// Runs of each side.
        #[arg(long, default_value_t = 20)]
        iterations: u32,
    },
}

pub fn run(args: BenchArgs) -> u8 {
    match args.what {
        BenchCommand::Compose { files, iterations } => compose(files, iterations.max(1)),
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn compose(files: Vec<PathBuf>, iterations: u32) -> u8 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut sources = SourceMap::new();
    let files = if files.is_empty() {
        match ProjectConfig::discover(&cwd, &mut sources) {
            Ok(config) => config.compose_files(),
            Err(d) => {
                eprint!("{}", d.render(&sources));
                return exit::BAD_INPUT;
            }
        }
    } else {
        files.iter().map(|f| cwd.join(f)).collect()
    };
    if let Err(message) = crate::environment::require_compose_v2() {
        eprintln!("error: {message}");
        return exit::ENVIRONMENT;
    }
    let mut options = ComposeOptions::in_dir(&cwd);
    options.files = files.clone();

    // Warm-up, and proof that the files resolve at all.
    if let Err(d) = load(&options, &mut SourceMap::new()) {
        eprint!("{}", d.render(&sources));
        return exit::BAD_INPUT;
    }
    let mut ours = Vec::new();
    for _ in 0..iterations {
        let start = Instant::now();
        let loaded = load(&options, &mut SourceMap::new());
        let json = loaded.map(|l| l.project.to_compose_json());
        std::hint::black_box(json.is_ok());
        ours.push(start.elapsed());
    }

    let mut theirs = Vec::new();
    for _ in 0..iterations {
        let mut cmd = Command::new("docker");
        cmd.arg("compose");
        for f in &files {
            cmd.arg("-f").arg(f);
        }
        cmd.args(["config", "--format", "json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let start = Instant::now();
        match cmd.status() {
            Ok(s) if s.success() => theirs.push(start.elapsed()),
            Ok(s) => {
                eprintln!("error: docker compose config failed ({s}); is Compose v2 installed?");
                return exit::ENVIRONMENT;
            }
            Err(e) => {
                eprintln!("error: cannot run docker: {e}");
                return exit::ENVIRONMENT;
            }
        }
    }
    let ours = median(ours);
    let theirs = median(theirs);
    let ratio = theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9);
    println!(
        "files: {}",
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("iterations: {iterations} each, median");
    println!(
        "cdb-core in-process:          {:>10.3} ms",
        ours.as_secs_f64() * 1e3
    );
    println!(
        "docker compose config (proc): {:>10.3} ms",
        theirs.as_secs_f64() * 1e3
    );
    println!("speed-up: {ratio:.1}x (goal: >= 20x)");
    if ratio >= 20.0 {
        exit::SUCCESS
    } else {
        exit::GATE_FAILED
    }
}
