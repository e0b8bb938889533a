//! Which images a resolved stack needs, and through which variable Compose can be pointed at
//! another image for each (`image: ${CDB_REDIS_IMAGE:-redis:7.4.6-alpine3.22}`).
//!
//! The variable is read from the Compose file's own text at the image value's location, so the
//! Compose file stays the one place that says which variable selects which image.

use std::collections::BTreeMap;

use cdb_core::compose::Project;
use cdb_core::image::ImageRef;
use cdb_core::source::SourceMap;

use crate::config::ImagesConfig;
use crate::standin::StandinKind;

/// Where an image comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Built from this workspace (`cdb/paper`).
    Workspace,
    /// A third-party image: pulled, or replaced by a stand-in when there is one.
    ThirdParty {
        /// The stand-in that can replace it, if any.
        standin: Option<StandinKind>,
    },
}

/// One image the stack needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageNeed {
    /// The reference Compose uses when the variable is unset (the default of `${VAR:-…}`, or the
    /// value itself when there is no variable).
    pub default: String,
    /// The variable that selects the image, when the value is `${VAR:-default}`.
    pub variable: Option<String>,
    /// The value under the current environment (and `.env`): differs from `default` when the
    /// user chose another image.
    pub resolved: String,
    /// The services that use it, sorted.
    pub services: Vec<String>,
    /// Whether a service without profiles uses it (it is needed by the default stack).
    pub in_default_profile: bool,
    /// Where it comes from.
    pub role: Role,
}

impl ImageNeed {
    /// Whether the user chose the image (through the variable or `.env`).
    pub fn chosen_by_user(&self) -> bool {
        self.resolved != self.default
    }

    /// `redis:7.4.6-alpine3.22 (redis)`, for messages.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.resolved, self.services.join(", "))
    }
}

/// `${VAR:-default}` / `${VAR-default}` as written: the variable and the default.
pub fn image_variable(raw: &str) -> Option<(String, String)> {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .or_else(|| raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))
        .unwrap_or(raw);
    let inner = raw.strip_prefix("${")?.strip_suffix('}')?;
    let name_len = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, rest) = inner.split_at(name_len);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let default = rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-'))?;
    if default.contains(['$', '{', '}']) {
        return None;
    }
    Some((name.to_string(), default.to_string()))
}

/// The scalar written at the image value's location: the rest of its line, without a comment.
fn raw_value(sources: &SourceMap, loc: cdb_core::source::Location) -> Option<String> {
    let file = sources.get(loc.file)?;
    let start = sources.byte_offset(loc);
    let line = file.text.get(start..)?.lines().next()?;
    let value = match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    };
    Some(value.trim().to_string())
}

/// The images `project`'s services use, one entry per (variable, default) pair.
pub fn plan(project: &Project, sources: &SourceMap, config: &ImagesConfig) -> Vec<ImageNeed> {
    let mut needs: BTreeMap<(Option<String>, String, String), ImageNeed> = BTreeMap::new();
    for service in project.services.values() {
        let Some(image) = &service.image else {
            continue;
        };
        let resolved = image.value.clone();
        let (variable, default) =
            match raw_value(sources, image.loc).and_then(|r| image_variable(&r)) {
                Some((variable, default)) => (Some(variable), default),
                None => (None, resolved.clone()),
            };
        let role = role_of(&default, config);
        let need = needs
            .entry((variable.clone(), default.clone(), resolved.clone()))
            .or_insert_with(|| ImageNeed {
                default,
                variable,
                resolved,
                services: Vec::new(),
                in_default_profile: false,
                role,
            });
        need.services.push(service.name.clone());
        need.in_default_profile |= service.profiles.is_empty();
    }
    let mut needs: Vec<ImageNeed> = needs.into_values().collect();
    for need in &mut needs {
        need.services.sort();
    }
    needs
}

fn role_of(reference: &str, config: &ImagesConfig) -> Role {
    let Ok(image) = ImageRef::parse(reference) else {
        return Role::ThirdParty { standin: None };
    };
    let own = ImageRef::parse(&config.paper_repository).ok();
    if own.is_some_and(|own| own.domain() == image.domain() && own.path() == image.path()) {
        return Role::Workspace;
    }
    Role::ThirdParty {
        standin: StandinKind::for_upstream(&image),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use cdb_core::compose::{ComposeOptions, load};

    use super::*;

    #[test]
    fn variables_are_read_from_the_raw_value() {
        assert_eq!(
            image_variable("${CDB_REDIS_IMAGE:-redis:7.4.6-alpine3.22}"),
            Some(("CDB_REDIS_IMAGE".into(), "redis:7.4.6-alpine3.22".into()))
        );
        assert_eq!(
            image_variable("\"${X-postgres:17}\""),
            Some(("X".into(), "postgres:17".into()))
        );
        assert_eq!(image_variable("redis:7"), None);
        assert_eq!(image_variable("${X:?required}"), None);
        assert_eq!(image_variable("${X:-${Y:-a}}"), None);
        assert_eq!(image_variable("${1X:-a}"), None);
    }

    fn load_text(files: &[(&str, &str)], env: &[(&str, &str)]) -> (Project, SourceMap) {
        let mut options = ComposeOptions {
            cwd: PathBuf::from("/p"),
            environment: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            all_profiles: true,
            ..Default::default()
        };
        options.files = files.iter().map(|(p, _)| PathBuf::from(p)).collect();
        options.contents = files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect::<BTreeMap<_, _>>();
        let mut sources = SourceMap::new();
        let loaded = load(&options, &mut sources).unwrap();
        (loaded.project, sources)
    }

    const STACK: &str = "name: t
x-svc: &svc
  image: ${CDB_PAPER_IMAGE:-cdb/paper:0.1.0}
services:
  redis:
    image: ${CDB_REDIS_IMAGE:-redis:7.4.6-alpine3.22}  # pinned
  a:
    <<: *svc
  b:
    <<: *svc
  grafana:
    image: \"${CDB_GRAFANA_IMAGE:-grafana/grafana:12.4.5}\"
    profiles: [monitoring]
  fixed:
    image: nginx:1.29
";

    #[test]
    fn the_real_stack_is_planned() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut options = ComposeOptions::in_dir(&root);
        options.environment.retain(|k, _| !k.starts_with("CDB_"));
        options.files = vec![root.join("compose/docker-compose.yml")];
        options.all_profiles = true;
        let mut sources = SourceMap::new();
        let loaded = load(&options, &mut sources).unwrap();
        let needs = plan(&loaded.project, &sources, &ImagesConfig::default());
        let vars: Vec<_> = needs
            .iter()
            .map(|n| n.variable.as_deref().unwrap_or("-"))
            .collect();
        for v in [
            "CDB_PAPER_IMAGE",
            "CDB_REDIS_IMAGE",
            "CDB_POSTGRES_IMAGE",
            "CDB_PROMETHEUS_IMAGE",
            "CDB_GRAFANA_IMAGE",
        ] {
            assert!(vars.contains(&v), "{v} not in {vars:?}");
        }
        let paper = needs.iter().find(|n| n.role == Role::Workspace).unwrap();
        assert_eq!(paper.default, "cdb/paper:0.1.0");
        assert!(paper.services.len() >= 5, "{:?}", paper.services);
    }

    #[test]
    fn needs_group_services_and_know_their_variable() {
        let (project, sources) = load_text(&[("/p/compose.yaml", STACK)], &[]);
        let needs = plan(&project, &sources, &ImagesConfig::default());
        assert_eq!(needs.len(), 4, "{needs:#?}");
        let paper = needs
            .iter()
            .find(|n| n.default == "cdb/paper:0.1.0")
            .unwrap();
        assert_eq!(paper.variable.as_deref(), Some("CDB_PAPER_IMAGE"));
        assert_eq!(paper.services, ["a", "b"]);
        assert_eq!(paper.role, Role::Workspace);
        let redis = needs.iter().find(|n| n.services == ["redis"]).unwrap();
        assert_eq!(redis.variable.as_deref(), Some("CDB_REDIS_IMAGE"));
        assert_eq!(
            redis.role,
            Role::ThirdParty {
                standin: Some(StandinKind::Redis)
            }
        );
        let grafana = needs.iter().find(|n| n.services == ["grafana"]).unwrap();
        assert_eq!(grafana.variable.as_deref(), Some("CDB_GRAFANA_IMAGE"));
        assert!(!grafana.in_default_profile);
        assert_eq!(grafana.role, Role::ThirdParty { standin: None });
        let fixed = needs.iter().find(|n| n.services == ["fixed"]).unwrap();
        assert_eq!(fixed.variable, None);
        assert!(!fixed.chosen_by_user());
    }

    #[test]
    fn a_value_set_by_the_user_is_kept_apart() {
        let (project, sources) = load_text(
            &[("/p/compose.yaml", STACK)],
            &[("CDB_REDIS_IMAGE", "my/redis:1")],
        );
        let needs = plan(&project, &sources, &ImagesConfig::default());
        let redis = needs.iter().find(|n| n.services == ["redis"]).unwrap();
        assert_eq!(redis.default, "redis:7.4.6-alpine3.22");
        assert_eq!(redis.resolved, "my/redis:1");
        assert!(redis.chosen_by_user());
    }
}
