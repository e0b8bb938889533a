//! `cdb-security`: `cargo xtask audit-images` — every image the stack uses (Compose `image` and
//! the `FROM` lines of the Dockerfiles its builds use, across all profiles), checked against
//! pinning rules, a version and end-of-life policy and the reports of real scanners (Trivy, Grype,
//! Docker Scout SARIF), triaged by CVSS with expiring exceptions, as one CI gate.
//!
//! The shape is the same as every cdb command — load input → model → checks → verdict →
//! reporters: [`audit::run`] loads and checks, [`gate`] decides, [`report`] renders. One module per
//! check ([`rules::pin`], [`rules::policy`], [`triage`]), each with its rule codes; the codes and
//! their default levels are listed by [`rules_table`] and documented in `docs/security/RULES.md`.
//!
//! It owns the `[security]` section of `cdb.toml` ([`config::SecurityConfig`]).

#![deny(missing_docs)]

pub mod audit;
pub mod config;
pub mod discovery;
pub mod dockerfile;
pub mod exceptions;
pub mod fix;
pub mod gate;
pub mod model;
pub mod policy;
pub mod report;
pub mod rules;
pub mod scanners;
pub mod triage;

use model::Level;

/// Every rule code of the audit with its default level and meaning: a public contract.
pub fn rules_table() -> Vec<(&'static str, Level, &'static str)> {
    let mut all: Vec<(&'static str, Level, &'static str)> = rules::ALL.to_vec();
    all.extend_from_slice(triage::RULES);
    all.push((
        audit::DOCS_OUTDATED,
        Level::Warn,
        "the generated exceptions page is missing or out of date",
    ));
    all
}
