//! The `[images]` section of `cdb.toml`, owned by this crate. Every key has a default that makes
//! the repository work with no edits; an unknown key is an error pointing at its line
//! ([`cdb_core::config::ProjectConfig::section`]).

use std::path::PathBuf;

use cdb_core::config::ProjectConfig;
use cdb_core::diagnostic::Diagnostic;
use serde::Deserialize;

/// When `cargo xtask images` asks a registry for a third-party image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PullPolicy {
    /// Pull an image only when it is not present, with a bounded timeout; the first failure for
    /// a registry skips the later pulls from it (so an offline machine pays the timeout once).
    #[default]
    Auto,
    /// Never contact a registry: present images, or stand-ins.
    Never,
    /// Pull every third-party image even when present (to refresh a tag).
    Always,
}

/// `[images]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImagesConfig {
    /// When to ask a registry (see [`PullPolicy`]).
    pub pull: PullPolicy,
    /// Seconds one `docker pull` may take before it counts as failed.
    pub pull_timeout_secs: u64,
    /// The build folders, one per image (`paper/`, `postgres/`, `redis/`, `prometheus/`),
    /// relative to `cdb.toml`.
    pub dir: PathBuf,
    /// The repository of the image built from this workspace; a service image of this
    /// repository (any tag) is built, never pulled.
    pub paper_repository: String,
    /// The cargo package built into that image.
    pub paper_package: String,
    /// Its binary target, copied to `/<paper_binary>` in the image.
    pub paper_binary: String,
    /// The target triple of the static build.
    pub paper_target: String,
    /// The command that checks the binary runs in the image (in a throwaway container with no
    /// network): any exit code below 125 shows it ran (a failed health check is expected).
    pub paper_check: Vec<String>,
    /// The repository prefix of the stand-ins (`cdb-offline/redis:7.0-bookworm`). Never an
    /// upstream name: Compose is pointed at stand-ins through the `${CDB_*_IMAGE}` variables.
    pub standin_prefix: String,
    /// The Debian suite the stand-ins are bootstrapped from.
    pub suite: String,
    /// The Debian mirror; unset: the one apt uses on this machine, read at run time.
    pub mirror: Option<String>,
    /// One debootstrap for every missing stand-in (imported once, thin images on top) instead of
    /// one per stand-in: measured 45 s instead of 3 × 40 s on this project's machine.
    pub shared_rootfs: bool,
    /// Where the debootstrap folders are made (default: the system's temporary folder). It
    /// must not be mounted `noexec`/`nodev`.
    pub work_dir: Option<PathBuf>,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        ImagesConfig {
            pull: PullPolicy::Auto,
            pull_timeout_secs: 30,
            dir: PathBuf::from("compose/images"),
            paper_repository: "cdb/paper".into(),
            paper_package: "cdb-paper".into(),
            paper_binary: "cdb-paper".into(),
            paper_target: "x86_64-unknown-linux-gnu".into(),
            paper_check: vec!["/cdb-paper".into(), "healthcheck".into()],
            standin_prefix: "cdb-offline".into(),
            suite: "bookworm".into(),
            mirror: None,
            shared_rootfs: true,
            work_dir: None,
        }
    }
}

impl ImagesConfig {
    /// The `[images]` section of `config` (defaults where absent).
    pub fn from_project(config: &ProjectConfig) -> Result<Self, Diagnostic> {
        config.section("images")
    }

    /// The build folder of one image (`paper`, `postgres`, …), absolute.
    pub fn image_dir(&self, root: &std::path::Path, name: &str) -> PathBuf {
        root.join(&self.dir).join(name)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use cdb_core::source::SourceMap;

    use super::*;

    fn load(text: &str) -> Result<ImagesConfig, Diagnostic> {
        let mut sources = SourceMap::new();
        let config = ProjectConfig::from_text(Path::new("/r/cdb.toml"), text.into(), &mut sources)?;
        ImagesConfig::from_project(&config)
    }

    #[test]
    fn every_key_has_a_default() {
        assert_eq!(load("").unwrap(), ImagesConfig::default());
        assert_eq!(load("[images]\n").unwrap(), ImagesConfig::default());
    }

    #[test]
    fn keys_are_read() {
        let c = load("[images]\npull = \"never\"\npull_timeout_secs = 5\nshared_rootfs = false\nmirror = \"http://mirror.invalid/debian\"\n")
            .unwrap();
        assert_eq!(c.pull, PullPolicy::Never);
        assert_eq!(c.pull_timeout_secs, 5);
        assert!(!c.shared_rootfs);
        assert_eq!(c.mirror.as_deref(), Some("http://mirror.invalid/debian"));
        assert_eq!(c.suite, "bookworm");
    }

    #[test]
    fn unknown_key_points_at_its_line() {
        let e = load("[compose]\nfiles = [\"a.yml\"]\n\n[images]\npul = \"never\"\n").unwrap_err();
        assert_eq!(e.code, cdb_core::config::INVALID);
        assert_eq!(e.location.map(|l| l.line), Some(5));
        assert!(e.message.contains("pul"), "{}", e.message);
    }

    #[test]
    fn a_bad_policy_is_an_error() {
        let e = load("[images]\npull = \"sometimes\"\n").unwrap_err();
        assert_eq!(e.location.map(|l| l.line), Some(2));
    }
}
