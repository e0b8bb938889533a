//! Which image each need of a stack runs with on this machine, and the environment variables
//! that point Compose at it: the upstream image when it is present, else its stand-in, else
//! nothing (the need is missing). `cargo xtask stack` and the E2E harness share this, so both
//! run exactly the images `cargo xtask images` provided.

use std::collections::BTreeMap;

use crate::config::ImagesConfig;
use crate::docker::LocalImages;
use crate::plan::{ImageNeed, Role};

/// Where the selected image comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The image the Compose file names (built here or pulled), present locally.
    Upstream,
    /// An offline stand-in, selected through the need's variable.
    Standin,
    /// The image the user chose (variable or `.env`), present locally.
    User,
    /// No usable image is present.
    Missing,
}

/// The choice for one need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// The need.
    pub need: ImageNeed,
    /// The image Compose will run, when there is one.
    pub image: Option<String>,
    /// Where it comes from.
    pub source: Source,
}

/// The choices for every need of a stack.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    /// One per need, in the needs' order.
    pub selected: Vec<Selected>,
}

impl Selection {
    /// The variables that point Compose at the selected stand-ins (`CDB_REDIS_IMAGE=…`). Needs
    /// served by their upstream image, or chosen by the user, add nothing.
    pub fn env(&self) -> BTreeMap<String, String> {
        self.selected
            .iter()
            .filter(|s| s.source == Source::Standin)
            .filter_map(|s| Some((s.need.variable.clone()?, s.image.clone()?)))
            .collect()
    }

    /// The needs with no usable image.
    pub fn missing(&self) -> Vec<&Selected> {
        self.selected
            .iter()
            .filter(|s| s.source == Source::Missing)
            .collect()
    }
}

/// Chooses an image for each need from the images present (`local`).
pub fn select(needs: &[ImageNeed], local: &LocalImages, config: &ImagesConfig) -> Selection {
    let selected = needs
        .iter()
        .map(|need| {
            let (image, source) = choose(need, local, config);
            Selected {
                need: need.clone(),
                image,
                source,
            }
        })
        .collect();
    Selection { selected }
}

fn choose(
    need: &ImageNeed,
    local: &LocalImages,
    config: &ImagesConfig,
) -> (Option<String>, Source) {
    if need.chosen_by_user() {
        return if local.has(&need.resolved) {
            (Some(need.resolved.clone()), Source::User)
        } else {
            (None, Source::Missing)
        };
    }
    if local.has(&need.default) {
        return (Some(need.default.clone()), Source::Upstream);
    }
    match need.role {
        Role::ThirdParty {
            standin: Some(kind),
        } if need.variable.is_some() => {
            match local.standin(kind.name(), &config.suite, &config.standin_prefix) {
                Some(tag) => (Some(tag), Source::Standin),
                None => (None, Source::Missing),
            }
        }
        _ => (None, Source::Missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::LocalImage;
    use crate::standin::StandinKind;

    fn need(default: &str, variable: &str, role: Role) -> ImageNeed {
        ImageNeed {
            default: default.into(),
            variable: Some(variable.into()),
            resolved: default.into(),
            services: vec!["s".into()],
            in_default_profile: true,
            role,
        }
    }

    fn image(tag: &str, standin_for: Option<&str>) -> LocalImage {
        let mut labels = BTreeMap::new();
        if let Some(kind) = standin_for {
            labels.insert("dev.cdb.standin".into(), "true".into());
            labels.insert("dev.cdb.standin.for".into(), kind.into());
            labels.insert("dev.cdb.standin.suite".into(), "bookworm".into());
        }
        LocalImage {
            id: format!("sha256:{tag}"),
            tags: vec![tag.into()],
            labels,
            ..Default::default()
        }
    }

    fn redis() -> Role {
        Role::ThirdParty {
            standin: Some(StandinKind::Redis),
        }
    }

    #[test]
    fn upstream_first_then_the_standin() {
        let needs = vec![
            need("redis:7.4.6-alpine3.22", "CDB_REDIS_IMAGE", redis()),
            need(
                "postgres:17.6-alpine3.22",
                "CDB_POSTGRES_IMAGE",
                Role::ThirdParty {
                    standin: Some(StandinKind::Postgres),
                },
            ),
            need("cdb/paper:0.1.0", "CDB_PAPER_IMAGE", Role::Workspace),
            need(
                "grafana/grafana:12.4.5",
                "CDB_GRAFANA_IMAGE",
                Role::ThirdParty { standin: None },
            ),
        ];
        let local = LocalImages {
            images: vec![
                image("cdb-offline/redis:7.0-bookworm", Some("redis")),
                image("postgres:17.6-alpine3.22", None),
                image("cdb-offline/postgres:15-bookworm", Some("postgres")),
                image("cdb/paper:0.1.0", None),
            ],
        };
        let s = select(&needs, &local, &ImagesConfig::default());
        let sources: Vec<Source> = s.selected.iter().map(|s| s.source).collect();
        assert_eq!(
            sources,
            [
                Source::Standin,
                Source::Upstream,
                Source::Upstream,
                Source::Missing
            ]
        );
        assert_eq!(
            s.env(),
            BTreeMap::from([(
                "CDB_REDIS_IMAGE".to_string(),
                "cdb-offline/redis:7.0-bookworm".to_string()
            )])
        );
        assert_eq!(s.missing().len(), 1);
        assert_eq!(s.missing()[0].need.default, "grafana/grafana:12.4.5");
    }

    #[test]
    fn a_user_choice_is_kept_and_adds_no_variable() {
        let mut n = need("redis:7.4.6-alpine3.22", "CDB_REDIS_IMAGE", redis());
        n.resolved = "my/redis:1".into();
        let present = LocalImages {
            images: vec![
                image("my/redis:1", None),
                image("cdb-offline/redis:7.0-bookworm", Some("redis")),
            ],
        };
        let s = select(std::slice::from_ref(&n), &present, &ImagesConfig::default());
        assert_eq!(s.selected[0].source, Source::User);
        assert!(s.env().is_empty());
        let absent = LocalImages {
            images: vec![image("cdb-offline/redis:7.0-bookworm", Some("redis"))],
        };
        let s = select(&[n], &absent, &ImagesConfig::default());
        assert_eq!(s.selected[0].source, Source::Missing);
    }

    #[test]
    fn no_standin_without_a_variable() {
        let mut n = need("redis:7", "X", redis());
        n.variable = None;
        let local = LocalImages {
            images: vec![image("cdb-offline/redis:7.0-bookworm", Some("redis"))],
        };
        let s = select(&[n], &local, &ImagesConfig::default());
        assert_eq!(s.selected[0].source, Source::Missing);
    }
}
