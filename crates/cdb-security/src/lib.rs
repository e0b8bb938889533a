//! `cdb-security` will own `cargo xtask audit-images`: every image the stack uses (Compose
//! `image` and Dockerfile `FROM` lines, across all profiles) checked against pinning rules, a
//! version and end-of-life policy and the reports of real scanners (Trivy, Grype, Docker Scout
//! SARIF), triaged by CVSS with expiring exceptions, as one CI gate.
//!
//! It owns the `[security]` section of `cdb.toml`. Nothing is implemented yet: the work is
//! tracked by the audit-images issue. It builds on [`cdb_core::compose`] (discovery with file,
//! line and column) and `cdb_core::image` (reference parsing and tag versions).

#![deny(missing_docs)]
