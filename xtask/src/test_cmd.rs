//! `cargo xtask test`: every test of the workspace, Docker-backed ones included.

use std::process::Command;

use cdb_core::exit;
use clap::Args;

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Extra arguments passed to `cargo test` (after `--` for the test binaries).
    #[arg(trailing_var_arg = true)]
    rest: Vec<String>,
}

pub fn run(args: TestArgs) -> u8 {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(&args.rest)
        .status();
    match status {
        Ok(s) if s.success() => exit::SUCCESS,
        Ok(_) => exit::GATE_FAILED,
        Err(e) => {
            eprintln!("error: cannot run cargo: {e}");
            exit::ENVIRONMENT
        }
    }
}
