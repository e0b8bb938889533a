//! Every image a Compose project uses, with where it is written: each service's `image`, and the
//! `FROM` images of the Dockerfile of each service that builds locally.
//!
//! Nothing is deduplicated: an image written in three places is three [`ImageUse`]s, so each
//! finding points at a line the user can edit. Services come in name order; for each, its `image`
//! first, then its Dockerfile's `FROM` images in file order.
//!
//! A service with both `build` and `image` gets both: Compose builds the Dockerfile and tags the
//! result with `image`. The `FROM` images are what the build pulls; the `image` is reported too,
//! because that tag is what other environments pull once it is pushed (`myapp:latest` there is a
//! real pinning problem). [`Origin::Compose`] does not say that such an image is built locally.
//!
//! Load the project with `ComposeOptions { all_profiles: true, .. }` so that the services of every
//! profile are audited.

use std::path::{Path, PathBuf};

use cdb_core::compose::{Build, Project, Service};
use cdb_core::image::ImageRef;
use cdb_core::{Diagnostic, Location, SourceMap};

use crate::dockerfile::{FromImage, from_images};
use crate::model::{ImageUse, Origin};

/// Diagnostic code: a service's build names a Dockerfile that does not exist.
pub const MISSING_DOCKERFILE: &str = "discovery::missing-dockerfile";
/// Diagnostic code: a service's Dockerfile exists but cannot be read.
pub const UNREADABLE_DOCKERFILE: &str = "discovery::unreadable-dockerfile";

/// The images `project` uses, one [`ImageUse`] per place an image is written. Dockerfiles are
/// read from disk and registered in `sources`, so locations in them can be rendered. Remote build
/// contexts (`https://…`, `git@…`) are skipped: there is no local Dockerfile to read.
///
/// # Errors
/// [`MISSING_DOCKERFILE`] at the service's `build.dockerfile` (or `build`) when the Dockerfile
/// does not exist, [`UNREADABLE_DOCKERFILE`] when it cannot be read, and the Dockerfile's own
/// diagnostics ([`crate::dockerfile::SYNTAX`]) when its `FROM` or `ARG` lines are malformed.
pub fn discover(project: &Project, sources: &mut SourceMap) -> Result<Vec<ImageUse>, Diagnostic> {
    let mut uses = Vec::new();
    for (name, service) in &project.services {
        if let Some(image) = &service.image {
            uses.push(ImageUse {
                reference: image.value.clone(),
                parsed: parse(&image.value, &[]),
                origin: Origin::Compose {
                    service: name.clone(),
                },
                loc: image.loc,
            });
        }
        if let Some(build) = &service.build {
            uses.extend(build_images(name, service, build, sources)?);
        }
    }
    Ok(uses)
}

fn parse(reference: &str, unresolved: &[String]) -> Result<ImageRef, String> {
    ImageRef::parse(reference).map_err(|e| {
        if unresolved.is_empty() {
            e.to_string()
        } else {
            let names: Vec<String> = unresolved.iter().map(|n| format!("${n}")).collect();
            format!(
                "{e} ({} has no value: give the ARG a default or set it in build.args)",
                names.join(", ")
            )
        }
    })
}

fn is_remote(context: &str) -> bool {
    context.contains("://")
        || context.starts_with("git@")
        || context.starts_with("github.com/")
        || context.starts_with("git://")
}

/// A string field of the service's canonical `build` mapping, with where it is written.
fn build_field(service: &Service, key: &str) -> Option<(String, Location)> {
    let node = service.node.as_map()?.get("build")?.as_map()?.get(key)?;
    Some((node.scalar_text()?, node.loc))
}

fn build_images(
    name: &str,
    service: &Service,
    build: &Build,
    sources: &mut SourceMap,
) -> Result<Vec<ImageUse>, Diagnostic> {
    let (path, text) = if let Some((inline, _)) = build_field(service, "dockerfile_inline") {
        let path = PathBuf::from(format!("services.{name}.build.dockerfile_inline"));
        (path, inline)
    } else {
        if is_remote(&build.context) {
            return Ok(Vec::new());
        }
        let dockerfile = Path::new(&build.dockerfile);
        let path = if dockerfile.is_absolute() {
            dockerfile.to_path_buf()
        } else {
            Path::new(&build.context).join(dockerfile)
        };
        let at = build_field(service, "dockerfile").map_or(build.loc, |(_, loc)| loc);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Diagnostic::error(
                    MISSING_DOCKERFILE,
                    format!(
                        "service `{name}` builds from {}, which does not exist",
                        path.display()
                    ),
                )
                .at(at)
                .with_label("this build")
                .with_help(
                    "build.dockerfile is relative to build.context, which is relative to the Compose file's folder",
                )
            } else {
                Diagnostic::error(
                    UNREADABLE_DOCKERFILE,
                    format!("service `{name}`: cannot read {}: {e}", path.display()),
                )
                .at(at)
            }
        })?;
        (path, text)
    };
    let file = sources.add(path.clone(), text.clone());
    let images = from_images(&path, &text, &build.args, file)?;
    Ok(images
        .into_iter()
        .map(|image: FromImage| ImageUse {
            parsed: parse(&image.reference, &image.unresolved),
            reference: image.reference,
            origin: Origin::Dockerfile {
                service: name.to_string(),
                path: path.clone(),
                stage: image.stage,
            },
            loc: image.loc,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdb_core::compose::{ComposeOptions, load};
    use std::collections::BTreeMap;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let dir = std::env::temp_dir().join(format!(
                "cdb-security-discovery-{tag}-{}-{nanos}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn project(dir: &Path, compose: &str) -> (Project, SourceMap) {
        let file = dir.join("compose.yaml");
        std::fs::write(&file, compose).unwrap();
        let options = ComposeOptions {
            cwd: dir.to_path_buf(),
            files: vec![file],
            all_profiles: true,
            environment: BTreeMap::new(),
            ..Default::default()
        };
        let mut sources = SourceMap::new();
        let loaded = load(&options, &mut sources).unwrap();
        (loaded.project, sources)
    }

    #[test]
    fn inline_dockerfile_and_remote_context() {
        let dir = TempDir::new("inline");
        let (p, mut sources) = project(
            &dir.0,
            "name: t\nservices:\n  a:\n    build:\n      context: .\n      dockerfile_inline: |\n        FROM alpine:3.22.1\n  b:\n    build: https://github.com/docker/compose.git\n",
        );
        let uses = discover(&p, &mut sources).unwrap();
        assert_eq!(uses.len(), 1);
        assert_eq!(uses[0].reference, "alpine:3.22.1");
        assert_eq!((uses[0].loc.line, uses[0].loc.col), (1, 6));
        assert!(
            sources
                .path(uses[0].loc.file)
                .ends_with("services.a.build.dockerfile_inline")
        );
    }

    #[test]
    fn unresolved_args_explain_the_invalid_reference() {
        let dir = TempDir::new("unresolved");
        std::fs::write(dir.0.join("Dockerfile"), "ARG BASE\nFROM ${BASE}\n").unwrap();
        let (p, mut sources) = project(&dir.0, "name: t\nservices:\n  a:\n    build: .\n");
        let uses = discover(&p, &mut sources).unwrap();
        let err = uses[0].parsed.as_ref().unwrap_err();
        assert!(err.contains("$BASE has no value"), "{err}");
    }

    #[test]
    fn a_missing_dockerfile_points_at_the_dockerfile_key() {
        let dir = TempDir::new("missing");
        let (p, mut sources) = project(
            &dir.0,
            "name: t\nservices:\n  a:\n    build:\n      context: .\n      dockerfile: nope.Dockerfile\n",
        );
        let e = discover(&p, &mut sources).unwrap_err();
        assert_eq!(e.code, MISSING_DOCKERFILE);
        assert_eq!(e.location.map(|l| l.line), Some(6));
        assert!(e.message.contains("nope.Dockerfile"), "{}", e.message);
    }
}
