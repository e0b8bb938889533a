//! The resolved project: typed views of what cdb's checks read (images, builds, ports,
//! volumes, dependencies, health checks), each with the location where the user wrote it, and
//! the whole canonical model, printable in the shape `docker compose config` prints.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map as JsonMap, Value as Json};

use crate::compose::yaml::{Mapping, Node, Value};
use crate::image::{ImageRef, ImageRefError};
use crate::source::Location;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written (the file of the definition that won the merge).
    pub loc: Location,
}

/// A resolved Compose project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project name.
    pub name: String,
    /// The project (working) directory; relative paths were resolved against it.
    pub working_dir: PathBuf,
    /// The active services, by name.
    pub services: BTreeMap<String, Service>,
    /// Services left out because none of their profiles is active.
    pub disabled_services: Vec<String>,
    networks: Mapping,
    volumes: Mapping,
}

/// One service of the project.
#[derive(Debug, Clone)]
pub struct Service {
    /// The service name.
    pub name: String,
    /// Where the service's key was written.
    pub loc: Location,
    /// `image`, if set.
    pub image: Option<Spanned<String>>,
    /// `build`, if set.
    pub build: Option<Build>,
    /// `container_name`, if set.
    pub container_name: Option<String>,
    /// `profiles`.
    pub profiles: Vec<String>,
    /// `ports`, long form.
    pub ports: Vec<Spanned<Port>>,
    /// `volumes`, long form.
    pub volumes: Vec<Spanned<Mount>>,
    /// `depends_on`, long form.
    pub depends_on: BTreeMap<String, Dependency>,
    /// `environment` (null values are variables that are set nowhere).
    pub environment: BTreeMap<String, Option<String>>,
    /// `labels`.
    pub labels: BTreeMap<String, String>,
    /// `command`, split into words.
    pub command: Option<Vec<String>>,
    /// `entrypoint`, split into words.
    pub entrypoint: Option<Vec<String>>,
    /// `healthcheck`.
    pub healthcheck: Option<Healthcheck>,
    /// The canonical model of the service, for anything not typed above.
    pub node: Node,
}

/// A service's `build`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// Absolute context directory, or a remote context (URL) as written.
    pub context: String,
    /// Dockerfile path, relative to the context.
    pub dockerfile: String,
    /// Build arguments with values.
    pub args: BTreeMap<String, String>,
    /// The target stage.
    pub target: Option<String>,
    /// Where `build` was written.
    pub loc: Location,
}

/// A published or exposed port, long form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// Container port.
    pub target: u16,
    /// Host port or range.
    pub published: Option<String>,
    /// Host address.
    pub host_ip: Option<String>,
    /// `tcp`, `udp`, `sctp`.
    pub protocol: String,
    /// `ingress` or `host`.
    pub mode: String,
}

/// A mount, long form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `volume`, `bind`, `tmpfs`, …
    pub kind: String,
    /// Volume name or absolute host path; `None` for anonymous volumes and tmpfs.
    pub source: Option<String>,
    /// Path in the container.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// A `depends_on` entry, long form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// `service_started`, `service_healthy` or `service_completed_successfully`.
    pub condition: String,
    /// Whether the dependency must exist.
    pub required: bool,
    /// Whether the service restarts when the dependency does.
    pub restart: bool,
}

/// A service's `healthcheck`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthcheck {
    /// The test (`CMD`, `CMD-SHELL` or `NONE` first).
    pub test: Vec<String>,
    /// Interval, Go notation.
    pub interval: Option<String>,
    /// Timeout, Go notation.
    pub timeout: Option<String>,
    /// Retries.
    pub retries: Option<u64>,
    /// Start period, Go notation.
    pub start_period: Option<String>,
    /// Whether the image's healthcheck is disabled.
    pub disable: bool,
}

fn text(m: &Mapping, key: &str) -> Option<String> {
    m.get(key).and_then(Node::scalar_text)
}

fn strings(node: Option<&Node>) -> Option<Vec<String>> {
    node.and_then(Node::as_seq)
        .map(|items| items.iter().filter_map(Node::scalar_text).collect())
}

impl Service {
    fn from_node(name: String, loc: Location, node: Node) -> Service {
        let empty = Mapping::new();
        let m = node.as_map().unwrap_or(&empty);
        let image = m
            .get("image")
            .and_then(|n| n.scalar_text().map(|value| Spanned { value, loc: n.loc }));
        let build = m.get("build").and_then(|b| {
            let bm = b.as_map()?;
            Some(Build {
                context: text(bm, "context").unwrap_or_default(),
                dockerfile: text(bm, "dockerfile").unwrap_or_else(|| "Dockerfile".into()),
                args: bm
                    .get("args")
                    .and_then(Node::as_map)
                    .map(|a| {
                        a.iter()
                            .filter_map(|(k, v)| Some((k.name.clone(), v.scalar_text()?)))
                            .collect()
                    })
                    .unwrap_or_default(),
                target: text(bm, "target"),
                loc: b.loc,
            })
        });
        let ports = m
            .get("ports")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(|p| {
                let pm = p.as_map()?;
                Some(Spanned {
                    value: Port {
                        target: text(pm, "target")?.parse().ok()?,
                        published: text(pm, "published"),
                        host_ip: text(pm, "host_ip"),
                        protocol: text(pm, "protocol").unwrap_or_else(|| "tcp".into()),
                        mode: text(pm, "mode").unwrap_or_else(|| "ingress".into()),
                    },
                    loc: p.loc,
                })
            })
            .collect();
        let volumes = m
            .get("volumes")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(|v| {
                let vm = v.as_map()?;
                Some(Spanned {
                    value: Mount {
                        kind: text(vm, "type").unwrap_or_else(|| "volume".into()),
                        source: text(vm, "source"),
                        target: text(vm, "target").unwrap_or_default(),
                        read_only: matches!(
                            vm.get("read_only").map(|r| &r.value),
                            Some(Value::Bool(true))
                        ),
                    },
                    loc: v.loc,
                })
            })
            .collect();
        let depends_on = m
            .get("depends_on")
            .and_then(Node::as_map)
            .map(|d| {
                d.iter()
                    .map(|(k, v)| {
                        let dm = v.as_map();
                        let flag = |key: &str, default: bool| {
                            dm.and_then(|m| m.get(key))
                                .map_or(default, |n| matches!(n.value, Value::Bool(true)))
                        };
                        (
                            k.name.clone(),
                            Dependency {
                                condition: dm
                                    .and_then(|m| text(m, "condition"))
                                    .unwrap_or_else(|| "service_started".into()),
                                required: flag("required", true),
                                restart: flag("restart", false),
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let environment = m
            .get("environment")
            .and_then(Node::as_map)
            .map(|e| {
                e.iter()
                    .map(|(k, v)| (k.name.clone(), v.scalar_text()))
                    .collect()
            })
            .unwrap_or_default();
        let labels = m
            .get("labels")
            .and_then(Node::as_map)
            .map(|e| {
                e.iter()
                    .map(|(k, v)| (k.name.clone(), v.scalar_text().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        let healthcheck = m
            .get("healthcheck")
            .and_then(Node::as_map)
            .map(|h| Healthcheck {
                test: strings(h.get("test")).unwrap_or_default(),
                interval: text(h, "interval"),
                timeout: text(h, "timeout"),
                retries: text(h, "retries").and_then(|r| r.parse().ok()),
                start_period: text(h, "start_period"),
                disable: matches!(h.get("disable").map(|d| &d.value), Some(Value::Bool(true))),
            });
        Service {
            loc,
            image,
            build,
            container_name: text(m, "container_name"),
            profiles: strings(m.get("profiles")).unwrap_or_default(),
            ports,
            volumes,
            depends_on,
            environment,
            labels,
            command: strings(m.get("command")),
            entrypoint: strings(m.get("entrypoint")),
            healthcheck,
            node: node.clone(),
            name,
        }
    }

    /// The service's image reference, parsed (`None` when the service has no `image`).
    /// Compose accepts any string here; a check that needs a valid reference reports the error
    /// at [`Spanned::loc`] of [`Service::image`].
    pub fn image_ref(&self) -> Option<Result<ImageRef, ImageRefError>> {
        self.image.as_ref().map(|i| ImageRef::parse(&i.value))
    }

    /// The service in the JSON shape of `docker compose config --format json`.
    pub fn to_compose_json(&self) -> Json {
        let mut out = match to_json(&self.node) {
            Json::Object(m) => m,
            _ => JsonMap::new(),
        };
        out.retain(|k, _| !k.starts_with("x-"));
        out.entry("command").or_insert(Json::Null);
        out.entry("entrypoint").or_insert(Json::Null);
        Json::Object(out)
    }
}

impl Project {
    pub(crate) fn from_parts(
        name: String,
        working_dir: PathBuf,
        services: Mapping,
        networks: Mapping,
        volumes: Mapping,
        disabled_services: Vec<String>,
    ) -> Project {
        let services = services
            .into_iter()
            .map(|(k, v)| {
                let service = Service::from_node(k.name.clone(), k.loc, v);
                (k.name, service)
            })
            .collect();
        Project {
            name,
            working_dir,
            services,
            disabled_services,
            networks,
            volumes,
        }
    }

    /// The project in the JSON shape of `docker compose config --format json`.
    pub fn to_compose_json(&self) -> Json {
        let mut out = JsonMap::new();
        out.insert("name".into(), Json::String(self.name.clone()));
        if !self.networks.is_empty() {
            out.insert("networks".into(), resources_json(&self.networks));
        }
        let services: JsonMap<String, Json> = self
            .services
            .iter()
            .map(|(k, s)| (k.clone(), s.to_compose_json()))
            .collect();
        out.insert("services".into(), Json::Object(services));
        if !self.volumes.is_empty() {
            out.insert("volumes".into(), resources_json(&self.volumes));
        }
        Json::Object(out)
    }
}

fn resources_json(m: &Mapping) -> Json {
    Json::Object(
        m.iter()
            .map(|(k, v)| {
                let mut value = to_json(v);
                if let Json::Object(o) = &mut value {
                    o.retain(|k, _| !k.starts_with("x-"));
                }
                (k.name.clone(), value)
            })
            .collect(),
    )
}

/// Converts a node to JSON, writing every literal `$` in strings back as `$$`, as Compose does.
pub fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f, _) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s.replace('$', "$$")),
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.name.replace('$', "$$"), to_json(v)))
                .collect(),
        ),
    }
}
