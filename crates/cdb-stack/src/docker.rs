//! The Docker engine, through the `docker` CLI (the same client the user runs, so what this crate
//! sees is what `docker images` shows), and the inventory of local images.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use cdb_core::image::ImageRef;
use serde::Deserialize;

use crate::errors::{Error, Result};
use crate::process::{self, Captured};

/// The label every image this crate builds carries: where it comes from.
pub const LABEL_SOURCE: &str = "org.opencontainers.image.source";
/// The label of a stand-in: `true`.
pub const LABEL_STANDIN: &str = "dev.cdb.standin";
/// The label naming what a stand-in stands in for (`redis`, `postgres`, `prometheus`).
pub const LABEL_STANDIN_FOR: &str = "dev.cdb.standin.for";
/// The label naming the Debian suite a stand-in was bootstrapped from.
pub const LABEL_STANDIN_SUITE: &str = "dev.cdb.standin.suite";

/// The `docker` CLI.
#[derive(Debug, Clone)]
pub struct Docker {
    program: PathBuf,
}

impl Default for Docker {
    fn default() -> Self {
        Docker {
            program: PathBuf::from("docker"),
        }
    }
}

impl Docker {
    /// The `docker` found on `PATH`.
    pub fn new() -> Self {
        Self::default()
    }

    /// A `docker` command with no arguments yet. The legacy builder is forced: it builds
    /// `FROM scratch` and `FROM <local image>` without contacting a registry, and BuildKit is not
    /// available on every engine this runs on.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.env("DOCKER_BUILDKIT", "0");
        cmd
    }

    /// The engine's version; [`Error::NoEngine`] when it does not answer.
    pub fn engine_version(&self) -> Result<String> {
        let mut cmd = self.command();
        cmd.args(["version", "--format", "{{.Server.Version}}"]);
        let out = process::run_with_timeout(&mut cmd, Some(Duration::from_secs(20)))?;
        match out {
            Some(c) if c.status.success() && !c.stdout.trim().is_empty() => {
                Ok(c.stdout.trim().to_string())
            }
            Some(c) => Err(Error::NoEngine {
                detail: process::tail(c.combined().trim()),
            }),
            None => Err(Error::NoEngine {
                detail: "no answer within 20 s".into(),
            }),
        }
    }

    /// Runs `docker ARGS…`, requiring success.
    pub(crate) fn run_ok(&self, args: &[&str], what: &str) -> Result<Captured> {
        let mut cmd = self.command();
        cmd.args(args);
        process::run_ok(&mut cmd, what)
    }

    /// Every image on the engine, with its tags and labels.
    pub fn local_images(&self) -> Result<LocalImages> {
        let ids = self.run_ok(
            &["images", "--all", "--quiet", "--no-trunc"],
            "listing the local images",
        )?;
        let mut unique: Vec<&str> = ids.stdout.split_whitespace().collect();
        unique.sort_unstable();
        unique.dedup();
        if unique.is_empty() {
            return Ok(LocalImages::default());
        }
        let mut args = vec!["image", "inspect"];
        args.extend(unique.iter().copied());
        let out = self.run_ok(&args, "inspecting the local images")?;
        LocalImages::from_inspect_json(&out.stdout).map_err(|detail| Error::Parse {
            command: "docker image inspect".into(),
            detail,
        })
    }

    /// Removes `tag` (untags it; layers used by other images stay). Best effort: for cleanup.
    pub(crate) fn remove_image(&self, tag: &str) {
        let mut cmd = self.command();
        cmd.args(["image", "rm", "--force", tag]);
        let _ = process::run(&mut cmd);
    }
}

/// One local image.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalImage {
    /// The image id (`sha256:…`).
    pub id: String,
    /// Its tags (`redis:7.4.6-alpine3.22`).
    pub tags: Vec<String>,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// When it was created (RFC 3339, as the engine says).
    pub created: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The images present on the engine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalImages {
    /// The images, in no particular order.
    pub images: Vec<LocalImage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InspectEntry {
    id: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    created: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    config: Option<InspectConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InspectConfig {
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

impl LocalImages {
    /// Parses the JSON array `docker image inspect` prints.
    pub fn from_inspect_json(text: &str) -> Result<Self, String> {
        let entries: Vec<InspectEntry> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(LocalImages {
            images: entries
                .into_iter()
                .map(|e| LocalImage {
                    id: e.id,
                    tags: e.repo_tags.unwrap_or_default(),
                    labels: e.config.and_then(|c| c.labels).unwrap_or_default(),
                    created: e.created,
                    size: e.size,
                })
                .collect(),
        })
    }

    /// The image tagged `reference`, comparing normalised references (`redis:7` is
    /// `docker.io/library/redis:7`).
    pub fn find(&self, reference: &str) -> Option<&LocalImage> {
        let wanted = ImageRef::parse(reference).ok();
        self.images.iter().find(|image| {
            image
                .tags
                .iter()
                .any(|tag| match (&wanted, ImageRef::parse(tag)) {
                    (Some(w), Ok(t)) => *w == t,
                    _ => tag == reference,
                })
        })
    }

    /// Whether an image tagged `reference` is present.
    pub fn has(&self, reference: &str) -> bool {
        self.find(reference).is_some()
    }

    /// The newest stand-in for `kind` bootstrapped from `suite` whose tag starts with `prefix/`:
    /// its tag. Stand-ins are found by label, so that their tags can carry the versions of the
    /// Debian packages they were made of.
    pub fn standin(&self, kind: &str, suite: &str, prefix: &str) -> Option<String> {
        let repository = format!("{prefix}/{kind}:");
        self.images
            .iter()
            .filter(|image| {
                image.labels.get(LABEL_STANDIN).map(String::as_str) == Some("true")
                    && image.labels.get(LABEL_STANDIN_FOR).map(String::as_str) == Some(kind)
                    && image.labels.get(LABEL_STANDIN_SUITE).map(String::as_str) == Some(suite)
            })
            .filter_map(|image| {
                image
                    .tags
                    .iter()
                    .find(|t| t.starts_with(&repository))
                    .map(|t| (image.created.as_str(), t))
            })
            .max()
            .map(|(_, tag)| tag.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSPECT: &str = r#"[
      {"Id": "sha256:aaa", "RepoTags": ["redis:7.4.6-alpine3.22"], "Created": "2026-01-01T00:00:00Z",
       "Size": 100, "Config": {"Labels": null}},
      {"Id": "sha256:bbb", "RepoTags": ["cdb-offline/redis:7.0-bookworm"], "Created": "2026-02-01T00:00:00Z",
       "Size": 200, "Config": {"Labels": {"dev.cdb.standin": "true", "dev.cdb.standin.for": "redis",
       "dev.cdb.standin.suite": "bookworm"}}},
      {"Id": "sha256:ccc", "RepoTags": ["cdb-offline/redis:6.0-bookworm"], "Created": "2025-02-01T00:00:00Z",
       "Size": 200, "Config": {"Labels": {"dev.cdb.standin": "true", "dev.cdb.standin.for": "redis",
       "dev.cdb.standin.suite": "bookworm"}}},
      {"Id": "sha256:ddd", "RepoTags": null, "Created": "2025-02-01T00:00:00Z", "Size": 1, "Config": {}}
    ]"#;

    #[test]
    fn inventory_from_inspect() {
        let local = LocalImages::from_inspect_json(INSPECT).unwrap();
        assert_eq!(local.images.len(), 4);
        assert!(local.has("redis:7.4.6-alpine3.22"));
        assert!(local.has("docker.io/library/redis:7.4.6-alpine3.22"));
        assert!(!local.has("redis:7.4.6"));
        assert_eq!(local.images[3].tags, Vec::<String>::new());
    }

    #[test]
    fn the_newest_standin_is_found_by_label() {
        let local = LocalImages::from_inspect_json(INSPECT).unwrap();
        assert_eq!(
            local.standin("redis", "bookworm", "cdb-offline").as_deref(),
            Some("cdb-offline/redis:7.0-bookworm")
        );
        assert_eq!(local.standin("redis", "trixie", "cdb-offline"), None);
        assert_eq!(local.standin("redis", "bookworm", "other"), None);
        assert_eq!(local.standin("postgres", "bookworm", "cdb-offline"), None);
    }
}
