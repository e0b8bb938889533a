//! `cdb-e2e`: the stack-independent core of `cargo xtask e2e` — bring up an isolated copy of the
//! stack, prove the critical path (signal → risk → execution → paper exchange → DB), detect
//! flaky tests over repeated runs, and hold the acceptance gate (≥ 95 % pass, 100 % critical
//! path, 0 critical flaky, ≤ 10 min) — and of `cargo xtask test-inventory`.
//!
//! The runner (which talks to Docker) drives this crate; the model, gate and reporters start no process, open
//! no socket and read no clock; `lifecycle`, `containers` and `suite` are the parts that talk to
//! the stack under test:
//!
//! ```text
//! [e2e] config ──► runner ──Event──► Reporter(s) ──► Collector ──► Summary ──► gate ──► reports
//! (config)        (xtask/stack)      (live progress)    (summary)              (gate)   (reporter::*)
//! ```
//!
//! 1. Load [`config::E2eConfig`] from `cdb.toml` (`[e2e]`: thresholds, timeouts, history,
//!    external suites and the [`config::Contract`] the tests rely on).
//! 2. While running, emit [`events::Event`]s to a [`reporter::Fanout`] holding a
//!    [`reporter::live::LiveReporter`] and a [`summary::Collector`]. External suites' JUnit
//!    files become events through [`external::read_junit`].
//! 3. Take the [`summary::Summary`], evaluate [`gate::evaluate`], render the reports
//!    ([`reporter::human`], [`reporter::junit`], [`reporter::json`], [`reporter::markdown`]) and
//!    append the [`reporter::history`] record. xtask maps the verdict to the exit code.
//!
//! It owns the `[e2e]` and `[images]` sections of `cdb.toml` (`[images]`: not yet).

#![deny(missing_docs)]

pub mod config;
pub mod containers;
pub mod duration;
pub mod errors;
pub mod events;
pub mod external;
pub mod gate;
pub mod health;
pub mod inventory;
pub mod lifecycle;
pub mod model;
pub mod reporter;
pub mod runner;
pub mod suite;
pub mod summary;
pub mod throughput;

pub use errors::E2eError;
