//! `cdb-k8s-gate` will own the Kubernetes Go/No-Go decision, computed from evidence — the E2E
//! history (`.cdb/e2e-history.jsonl`), audit results, documentation and runbooks — never from
//! opinion.
//!
//! It owns the `[gate]` section of `cdb.toml`. Nothing is implemented yet.

#![deny(missing_docs)]
