//! `cargo xtask`: the one command line of cdb. It parses arguments (the only crate that does),
//! composes the libraries into commands, and maps outcomes to the exit codes of
//! [`cdb_core::exit`].

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[macro_use]
mod project;

mod audit_cmd;
mod bench;
mod bench_e2e;
mod bench_stack;
mod compose_cmd;
mod e2e_cmd;
mod environment;
mod images_cmd;
mod inventory_cmd;
mod stack_cmd;
mod test_cmd;

/// cdb — operations tooling for the Claire de Binare stack.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with the stack's Compose files (resolved exactly as `docker compose` resolves them).
    Compose(compose_cmd::ComposeArgs),
    /// Audit every image the stack uses: pinning, version/EOL policy, scanner reports, exceptions.
    AuditImages(audit_cmd::AuditArgs),
    /// The E2E gate: an isolated stack, the critical-path suite `--runs` times, the acceptance gate.
    E2e(e2e_cmd::E2eArgs),
    /// Provide every image the stack needs on this machine (build, use, pull, or offline stand-ins).
    Images(images_cmd::ImagesArgs),
    /// Run the stack by hand: up (waiting for health), down, status, logs; `--test` for the test stack.
    Stack(stack_cmd::StackArgs),
    /// List every test of the workspace and of the configured suites, categorised.
    TestInventory(inventory_cmd::InventoryArgs),
    /// Run every test of the workspace (the README's test command).
    Test(test_cmd::TestArgs),
    /// Measure performance goals (side by side with the tools they compete with).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are successes; everything else is a usage error (exit 2).
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(cdb_core::exit::BAD_INPUT)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let code = match cli.command {
        Command::Compose(args) => compose_cmd::run(args),
        Command::AuditImages(args) => audit_cmd::run(args),
        Command::E2e(args) => e2e_cmd::run(args),
        Command::Images(args) => images_cmd::run(args),
        Command::Stack(args) => stack_cmd::run(args),
        Command::Test(args) => test_cmd::run(args),
        Command::TestInventory(args) => inventory_cmd::run(args),
        Command::Bench(args) => bench::run(args),
    };
    ExitCode::from(code)
}
