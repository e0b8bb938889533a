//! `cargo xtask stack up|down|status|logs [--test]`: run the stack by hand with the images
//! `cargo xtask images` provided (stand-ins selected through the `${CDB_*_IMAGE}` variables).

use std::time::{Duration, Instant};

use cdb_core::exit;
use cdb_stack::stack::ServiceState;
use cdb_stack::{ImagesConfig, Stack, StackOptions, UpOptions};
use clap::{Args, Subcommand};

use crate::images_cmd::{code, secs};

#[derive(Debug, Args)]
pub struct StackArgs {
    #[command(subcommand)]
    action: Action,
}

/// Which stack: the main one (project `cdb`) or the test one (test overlay, project `cdb-test`).
#[derive(Debug, Args, Clone)]
struct Which {
    /// The test stack: the test overlay added, under its own project name (`cdb-test`).
    #[arg(long)]
    test: bool,
    /// Also start the services of these profiles (e.g. `monitoring`).
    #[arg(long = "profile", value_name = "PROFILE")]
    profiles: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Start the stack and wait until every service is healthy; print each service's URL.
    Up {
        #[command(flatten)]
        which: Which,
        /// How long to wait for every service to be healthy, in seconds.
        #[arg(long, default_value_t = 180)]
        wait_timeout: u64,
    },
    /// Remove the stack's containers and networks (and the test stack's volumes).
    Down {
        #[command(flatten)]
        which: Which,
        /// Also remove the main stack's named volumes: THEIR DATA IS LOST.
        #[arg(long)]
        volumes: bool,
    },
    /// Show each container's state, health and URLs.
    Status {
        #[command(flatten)]
        which: Which,
    },
    /// Print the services' logs (all services when none is named).
    Logs {
        #[command(flatten)]
        which: Which,
        /// Only the last N lines of each service.
        #[arg(long)]
        tail: Option<u32>,
        /// Keep following the logs.
        #[arg(long, short)]
        follow: bool,
        /// The services.
        services: Vec<String>,
    },
}

pub fn run(args: StackArgs) -> u8 {
    let loaded = or_exit!(crate::project::load());
    let images = or_exit!(loaded.section(ImagesConfig::from_project));
    let config = &loaded.config;
    if let Err(why) = crate::environment::require_compose_v2() {
        eprintln!("error: {why}");
        return exit::ENVIRONMENT;
    }
    let which = match &args.action {
        Action::Up { which, .. }
        | Action::Down { which, .. }
        | Action::Status { which }
        | Action::Logs { which, .. } => which.clone(),
    };
    let mut stack = Stack::from_config(
        config,
        &StackOptions {
            test: which.test,
            profiles: which.profiles.clone(),
            ..Default::default()
        },
    );
    // Every action sees the same project as `up` did: the stand-ins' variables are set for
    // all of them, so `down` and `logs` never disagree with Compose about the images.
    let result = match args.action {
        Action::Up { wait_timeout, .. } => match stack.require_images(&images) {
            Ok(_) => up(&stack, Duration::from_secs(wait_timeout)),
            Err(e) => Err(e),
        },
        Action::Down { volumes, .. } => {
            let _ = stack.select_images(&images);
            // The test stack's volumes are throw-away; the main stack's named volumes hold
            // the data and go only when asked.
            let remove_volumes = which.test || volumes;
            stack.down(remove_volumes).map(|()| {
                println!(
                    "stack `{}` removed (containers, networks{})",
                    stack.project,
                    if remove_volumes { ", volumes" } else { "" }
                );
                if !remove_volumes {
                    println!("named volumes kept; `--volumes` removes them and their data");
                }
            })
        }
        Action::Status { .. } => {
            let _ = stack.select_images(&images);
            stack.services().map(|s| print_status(&stack.project, &s))
        }
        Action::Logs {
            tail,
            follow,
            services,
            ..
        } => {
            let _ = stack.select_images(&images);
            let mut cmd = stack.logs_command(&services, tail, follow);
            match cmd.status() {
                Ok(s) if s.success() => Ok(()),
                Ok(_) => return exit::GATE_FAILED,
                Err(e) => {
                    eprintln!("error: cannot run `docker compose logs`: {e}");
                    return exit::ENVIRONMENT;
                }
            }
        }
    };
    match result {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            code(e.kind())
        }
    }
}

fn up(stack: &Stack, wait_timeout: Duration) -> cdb_stack::Result<()> {
    let started = Instant::now();
    for (k, v) in &stack.env {
        eprintln!("   {k}={v}");
    }
    let result = stack.up(&UpOptions {
        wait_timeout: Some(wait_timeout),
        inherit_output: true,
        ..Default::default()
    });
    let took = started.elapsed();
    let states = stack.services()?;
    if let Err(e) = result {
        // Say which service is the problem, with its last lines.
        for s in states
            .iter()
            .filter(|s| s.health == "unhealthy" || (s.state == "exited" && s.exit_code != 0))
        {
            eprintln!(
                "{}: {} {} (exit code {})",
                s.service, s.state, s.health, s.exit_code
            );
            if let Ok(logs) = stack.logs(std::slice::from_ref(&s.service), Some(15)) {
                for line in logs.lines() {
                    eprintln!("    {line}");
                }
            }
        }
        return Err(e);
    }
    print_status(&stack.project, &states);
    println!("stack `{}` healthy in {}", stack.project, secs(took));
    Ok(())
}

fn print_status(project: &str, states: &[ServiceState]) {
    if states.is_empty() {
        println!("stack `{project}`: no containers");
        return;
    }
    println!("{:<16} {:<10} {:<10} URLs", "SERVICE", "STATE", "HEALTH");
    for s in states {
        let state = if s.state == "exited" {
            format!("exited({})", s.exit_code)
        } else {
            s.state.clone()
        };
        let urls: Vec<String> = s.ports.iter().map(|p| p.url()).collect();
        println!(
            "{:<16} {:<10} {:<10} {}",
            s.service,
            state,
            if s.health.is_empty() { "-" } else { &s.health },
            urls.join(" ")
        );
    }
}
