//! `cdb-stack`: the stack's images and running the stack, for `cargo xtask images`,
//! `cargo xtask stack` and the E2E harness.
//!
//! - [`images`] provides every image a stack needs on this machine: the service image built
//!   from the workspace ([`paper`]: a static binary in `FROM scratch`), third-party images used
//!   when present, pulled when a registry answers, else replaced by offline stand-ins built from
//!   Debian packages ([`standin`]). It owns `[images]` of `cdb.toml` ([`config`]).
//! - [`plan`] reads which images a resolved Compose project needs and which `${CDB_*_IMAGE}`
//!   variable selects each; [`select`] chooses, from the images present, the upstream image or
//!   its stand-in, and gives the variables that point Compose at it. Stand-ins never carry
//!   upstream names.
//! - [`stack`] runs a project with the `docker compose` CLI: up (waiting for health), down,
//!   the services' states and published ports, logs, and a cleanup by project label.
//!
//! Everything goes through the `docker` CLI ([`docker`]): what this crate sees is what the
//! user's `docker` shows, and it works on Engine 20.10, where some API calls do not.

#![deny(missing_docs)]

pub mod config;
pub mod docker;
pub mod errors;
pub mod images;
pub mod paper;
pub mod plan;
mod process;
pub mod select;
pub mod stack;
pub mod standin;
mod workdir;

pub use config::{ImagesConfig, PullPolicy};
pub use docker::{Docker, LocalImages};
pub use errors::{Error, ErrorKind, Result};
pub use images::{ImagesOptions, Outcome, Report, provide};
pub use plan::{ImageNeed, Role};
pub use select::{Selection, Source};
pub use stack::{Stack, StackOptions, UpOptions};
pub use standin::StandinKind;
