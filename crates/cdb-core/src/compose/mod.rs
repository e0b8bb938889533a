//! The Compose model: load one or more Compose files and resolve the project exactly as
//! `docker compose config` does — interpolation, `.env`, merging, `!reset`/`!override`, anchors
//! and merge keys, `extends`, profiles, project names — keeping the file, line and column of
//! every value a check may point at.
//!
//! ```no_run
//! use cdb_core::compose::{ComposeOptions, load};
//! use cdb_core::source::SourceMap;
//!
//! let options = ComposeOptions::in_dir(std::env::current_dir().unwrap());
//! let mut sources = SourceMap::new();
//! match load(&options, &mut sources) {
//!     Ok(loaded) => println!("{}", loaded.project.to_compose_json()),
//!     Err(diagnostic) => eprintln!("{}", diagnostic.render(&sources)),
//! }
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

pub mod canonical;
pub mod dotenv;
pub mod env;
mod extends;
pub mod interpolate;
pub mod loader;
pub mod merge;
mod normalize;
pub mod path;
pub mod project;
pub mod validate;
pub mod yaml;

pub use loader::{Loaded, load};
pub use normalize::normalize_project_name;

/// Diagnostic codes of the project-level checks (name, services, references).
pub mod normalize_codes {
    pub use super::normalize::{
        DEPENDENCY_CYCLE, INVALID_SERVICE, PROJECT_NAME, UNDEFINED_REFERENCE,
    };
}
pub use project::{Build, Dependency, Healthcheck, Mount, Port, Project, Service, Spanned};

/// What to load, with the meaning of `docker compose`'s global flags.
#[derive(Debug, Clone, Default)]
pub struct ComposeOptions {
    /// The directory relative paths on the command line are resolved against.
    pub cwd: PathBuf,
    /// `--project-directory`.
    pub project_directory: Option<PathBuf>,
    /// `-f`, in order. Empty: `COMPOSE_FILE`, else the default file and its override.
    pub files: Vec<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--profile`. Empty: `COMPOSE_PROFILES`.
    pub profiles: Vec<String>,
    /// `--env-file`. Empty: the project directory's `.env`, if any.
    pub env_files: Vec<PathBuf>,
    /// The process environment.
    pub environment: BTreeMap<String, String>,
    /// Keep the services of every profile (what an audit of "every image the stack uses" needs).
    pub all_profiles: bool,
    /// Files given by content instead of read from disk (keyed by the absolute path they stand
    /// for): for callers that hold the text already, tests and fuzzing.
    pub contents: BTreeMap<PathBuf, String>,
}

impl ComposeOptions {
    /// Options for running in `cwd` with the current process environment.
    pub fn in_dir(cwd: impl Into<PathBuf>) -> Self {
        ComposeOptions {
            cwd: cwd.into(),
            environment: env::process_environment(),
            ..Default::default()
        }
    }
}
