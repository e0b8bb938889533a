//! `cargo xtask test`: the stack's images, every test of the workspace (Docker-backed ones
//! included), then the E2E gate (`cargo xtask e2e`, its JUnit report in `target/e2e/`).

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
    // The Docker-backed tests run the reference stack: its images come first (a no-op when
    // they are present), so that a clean checkout's test command needs nothing else.
    eprintln!("== cargo xtask images (the Docker-backed tests run these images)");
    let code = crate::images_cmd::run(crate::images_cmd::ImagesArgs::default());
    if code != exit::SUCCESS {
        eprintln!("error: the stack's images could not be provided (exit {code}); see above");
        return code;
    }
    eprintln!("== cargo test --workspace");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(&args.rest)
        .status();
    let tests = match status {
        Ok(s) if s.success() => exit::SUCCESS,
        Ok(_) => exit::GATE_FAILED,
        Err(e) => {
            eprintln!("error: cannot run cargo: {e}");
            return exit::ENVIRONMENT;
        }
    };
    // The E2E gate too, so that every submission proves the critical path (the main command).
    eprintln!("== cargo xtask e2e");
    let e2e = crate::e2e_cmd::run(crate::e2e_cmd::E2eArgs::for_test_command());
    if tests != exit::SUCCESS {
        eprintln!("error: cargo test failed (see above)");
        return tests;
    }
    e2e
}
