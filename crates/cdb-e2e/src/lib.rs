//! `cdb-e2e` will own `cargo xtask e2e`: bringing up an isolated copy of the stack under a
//! unique Compose project name, waiting for health through the Docker Engine, running the
//! critical-path suite (signal → risk → execution → paper exchange → DB, health and metrics,
//! graceful shutdown, crash recovery), detecting flaky tests over repeated runs, and holding the
//! acceptance gate (≥ 95 % pass, 100 % critical path, 0 critical flaky, < 10 min).
//!
//! It owns the `[e2e]` and `[images]` sections of `cdb.toml`. Nothing is implemented yet: the
//! work is tracked by the E2E issue, which depends on the reference stack.

#![deny(missing_docs)]
