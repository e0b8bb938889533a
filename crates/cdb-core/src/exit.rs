//! The exit codes of every cdb command, defined in one place.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success, or the gate passed |
//! | 1 | the gate failed (a check found something that blocks) |
//! | 2 | bad input or usage: a file that cannot be read or parsed, an invalid value, a bad flag |
//! | 3 | the environment is missing something: no Docker engine, no Compose v2 |
//! | 130 | interrupted (SIGINT/SIGTERM) after cleaning up; 128 + SIGINT, as shells report it |

/// Success, or the gate passed.
pub const SUCCESS: u8 = 0;
/// The gate failed.
pub const GATE_FAILED: u8 = 1;
/// Bad input or usage.
pub const BAD_INPUT: u8 = 2;
/// The environment lacks something the command needs (Docker engine, Compose v2).
pub const ENVIRONMENT: u8 = 3;
/// Interrupted by SIGINT or SIGTERM, after cleaning up what the command had created.
pub const INTERRUPTED: u8 = 130;
