//! `cdb-core`: the shared domain of the cdb tools — the Compose model (resolved exactly as
//! `docker compose config` resolves it), image references, the project configuration
//! (`cdb.toml`), diagnostics that point into the user's files, and the exit codes every command
//! shares.
//!
//! This crate does no I/O to Docker or the network: it reads files and nothing else.

#![deny(missing_docs)]

pub mod codes;
pub mod compose;
pub mod config;
pub mod diagnostic;
pub mod exit;
pub mod image;
pub mod source;
pub mod yaml_out;

pub use diagnostic::{Diagnostic, Severity};
pub use source::{FileId, Location, SourceMap};
