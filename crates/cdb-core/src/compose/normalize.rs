//! After every file is merged: the project name, profiles, consistency checks, absolute paths,
//! `env_file` and environment resolution, the default network, resource names, and dropping the
//! networks and volumes no service uses — what Compose does before it prints a project.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path as FsPath, PathBuf};

use crate::compose::env::{join_relative, read_dotenv};
use crate::compose::loader::{Context, interpolate_node};
use crate::compose::path::Path;
use crate::compose::project::Project;
use crate::compose::yaml::{Key, Mapping, Node, Value};
use crate::compose::{ComposeOptions, canonical};
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Location};

/// Diagnostic code: an invalid project name.
pub const PROJECT_NAME: &str = "compose::project-name";
/// Diagnostic code: a service Compose would reject as a whole.
pub const INVALID_SERVICE: &str = "compose::invalid-service";
/// Diagnostic code: `depends_on` forms a cycle.
pub const DEPENDENCY_CYCLE: &str = "compose::dependency-cycle";
/// Diagnostic code: a reference to a service, network or volume that is not defined.
pub const UNDEFINED_REFERENCE: &str = "compose::undefined-reference";

/// Lowercases and drops what a project name may not contain, as Compose does for names taken
/// from a file or a folder.
pub fn normalize_project_name(name: &str) -> String {
    let lowered: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lowered.trim_start_matches(['_', '-']).to_string()
}

fn invalid_name(name: &str, loc: Option<Location>, source: &str) -> Diagnostic {
    Diagnostic::error(
        PROJECT_NAME,
        format!(
            "invalid project name {name:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
        ),
    )
    .at_opt(loc)
    .with_help(format!(
        "{source} must match [a-z0-9][a-z0-9_-]*, e.g. {:?}",
        normalize_project_name(name)
    ))
}

/// The project name: `-p`, else `COMPOSE_PROJECT_NAME`, else the top-level `name` of the files
/// (the last one that sets it), else the working directory's name.
pub(crate) fn project_name(
    options: &ComposeOptions,
    working_dir: &FsPath,
    documents: &[(PathBuf, FileId, Vec<Node>)],
    ctx: &mut Context<'_>,
) -> Result<String, Diagnostic> {
    if let Some(name) = &options.project_name {
        if normalize_project_name(name) != *name || name.is_empty() {
            return Err(invalid_name(name, None, "-p"));
        }
        return Ok(name.clone());
    }
    if let Some(name) = ctx
        .env
        .get("COMPOSE_PROJECT_NAME")
        .filter(|n| !n.is_empty())
    {
        let name = name.to_string();
        if normalize_project_name(&name) != name {
            return Err(invalid_name(&name, None, "COMPOSE_PROJECT_NAME"));
        }
        return Ok(name);
    }
    let mut from_files: Option<(String, Location)> = None;
    for (_, _, docs) in documents {
        for doc in docs {
            if let Some(node) = doc.as_map().and_then(|m| m.get("name")) {
                let mut node = node.clone();
                interpolate_node(&mut node, &mut Path::parse("name"), ctx)?;
                if let Some(text) = node.scalar_text().filter(|t| !t.is_empty()) {
                    from_files = Some((text, node.loc));
                }
            }
        }
    }
    let name = match from_files {
        Some((name, _)) => normalize_project_name(&name),
        None => normalize_project_name(
            &working_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    };
    if name.is_empty() {
        return Err(
            Diagnostic::error(PROJECT_NAME, "project name must not be empty")
                .with_help("name the project with -p NAME or a top-level `name:`"),
        );
    }
    Ok(name)
}

/// Canonical form of a top-level volume, network, secret or config: the deprecated
/// `external: {name: x}` becomes `name: x` + `external: true`.
pub(crate) fn external(item: &mut Node, _name: &str) {
    let Some(m) = item.as_map_mut() else {
        return;
    };
    if let Some(ext) = m.get("external").cloned()
        && let Value::Map(e) = &ext.value
    {
        if let Some(n) = e.get("name").cloned() {
            m.insert(
                Key {
                    name: "name".into(),
                    loc: n.loc,
                },
                n,
            );
        }
        m.insert(
            Key {
                name: "external".into(),
                loc: ext.loc,
            },
            Node::new(Value::Bool(true), ext.loc),
        );
    }
}

fn is_remote_context(context: &str) -> bool {
    context.contains("://")
        || context.starts_with("git@")
        || context.starts_with("github.com/")
        || context.starts_with("git://")
}

fn expand_home(path: &str, ctx: &Context<'_>) -> String {
    if path == "~" || path.starts_with("~/") {
        let home = ctx
            .env
            .get("HOME")
            .map(str::to_string)
            .or_else(|| std::env::var("HOME").ok())
            .unwrap_or_default();
        return format!("{home}{}", &path[1..]);
    }
    path.to_string()
}

/// Makes a service's relative paths (build context, bind mounts, env files) absolute against
/// `dir`.
pub(crate) fn resolve_service_paths(service: &mut Node, dir: &FsPath, ctx: &Context<'_>) {
    let Some(s) = service.as_map_mut() else {
        return;
    };
    if let Some(build) = s.get_mut("build").and_then(Node::as_map_mut) {
        if let Some(context) = build.get_mut("context")
            && let Value::Str(c) = &mut context.value
            && !is_remote_context(c)
        {
            *c = join_relative(dir, &expand_home(c, ctx));
        }
        if let Some(contexts) = build
            .get_mut("additional_contexts")
            .and_then(Node::as_map_mut)
        {
            for (_, c) in contexts.iter_mut() {
                if let Value::Str(path) = &mut c.value
                    && !is_remote_context(path)
                    && !path.contains(':')
                {
                    *path = join_relative(dir, &expand_home(path, ctx));
                }
            }
        }
    }
    if let Some(Value::Seq(volumes)) = s.get_mut("volumes").map(|v| &mut v.value) {
        for volume in volumes {
            let Some(v) = volume.as_map_mut() else {
                continue;
            };
            if v.get("type").and_then(Node::as_str) != Some("bind") {
                continue;
            }
            if let Some(source) = v.get_mut("source")
                && let Value::Str(src) = &mut source.value
            {
                let expanded = expand_home(src, ctx);
                *src = join_relative(dir, &expanded);
            }
        }
    }
    if let Some(env_file) = s.get_mut("env_file") {
        let loc = env_file.loc;
        let items: Vec<Node> = match std::mem::replace(env_file, Node::new(Value::Null, loc)).value
        {
            Value::Str(p) => vec![Node::str(p, loc)],
            Value::Seq(items) => items,
            other => vec![Node::new(other, loc)],
        };
        let resolved = items
            .into_iter()
            .map(|item| {
                let iloc = item.loc;
                let (path, required) = match &item.value {
                    Value::Map(m) => (
                        m.get("path")
                            .and_then(Node::scalar_text)
                            .unwrap_or_default(),
                        !matches!(
                            m.get("required").map(|r| &r.value),
                            Some(Value::Bool(false))
                        ),
                    ),
                    _ => (item.scalar_text().unwrap_or_default(), true),
                };
                let abs = join_relative(dir, &path);
                let mut m = Mapping::new();
                m.insert(key("path", iloc), Node::str(abs, iloc));
                m.insert(
                    key("required", iloc),
                    Node::new(Value::Bool(required), iloc),
                );
                Node::new(Value::Map(m), iloc)
            })
            .collect();
        *env_file = Node::new(Value::Seq(resolved), loc);
    }
}

fn key(name: &str, loc: Location) -> Key {
    Key {
        name: name.into(),
        loc,
    }
}

fn dependencies(service: &Node) -> Vec<(String, Location)> {
    service
        .as_map()
        .and_then(|m| m.get("depends_on"))
        .and_then(Node::as_map)
        .map(|d| d.iter().map(|(k, _)| (k.name.clone(), k.loc)).collect())
        .unwrap_or_default()
}

/// `depends_on` must not form a cycle (Compose: "dependency cycle detected: a -> b -> a").
fn check_dependency_cycles(services: &Mapping) -> Result<(), Diagnostic> {
    // 0 = unvisited, 1 = on the current path, 2 = done.
    let mut state: BTreeMap<String, u8> = BTreeMap::new();
    fn visit(
        name: &str,
        services: &Mapping,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<(String, Location)>,
    ) -> Result<(), Diagnostic> {
        match state.get(name) {
            Some(2) => return Ok(()),
            Some(1) => {
                let start = path.iter().position(|(n, _)| n == name).unwrap_or(0);
                let mut names: Vec<&str> = path[start..].iter().map(|(n, _)| n.as_str()).collect();
                names.push(name);
                let loc = path.last().map(|(_, l)| *l).unwrap_or_default();
                return Err(Diagnostic::error(
                    DEPENDENCY_CYCLE,
                    format!("dependency cycle detected: {}", names.join(" -> ")),
                )
                .at(loc)
                .with_help("remove one of these depends_on entries"));
            }
            _ => {}
        }
        state.insert(name.to_string(), 1);
        if let Some(service) = services.get(name) {
            for (dep, loc) in dependencies(service) {
                path.push((name.to_string(), loc));
                let r = visit(&dep, services, state, path);
                path.pop();
                r?;
            }
        }
        state.insert(name.to_string(), 2);
        Ok(())
    }
    for name in services.keys() {
        visit(name, services, &mut state, &mut Vec::new())?;
    }
    Ok(())
}

/// Finishes the merged model into a [`Project`].
pub(crate) fn finish(
    mut model: Node,
    name: String,
    working_dir: PathBuf,
    profiles: &[String],
    options: &ComposeOptions,
    ctx: &mut Context<'_>,
) -> Result<Project, Diagnostic> {
    let Some(top) = model.as_map_mut() else {
        return Err(Diagnostic::error(
            crate::compose::loader::EMPTY,
            "empty compose file",
        ));
    };
    top.remove("name");
    let mut services = match top.remove("services").map(|n| n.value) {
        Some(Value::Map(m)) => m,
        _ => Mapping::new(),
    };

    // Profiles: a service is active when it has none, or one of them is selected.
    let all = options.all_profiles || profiles.iter().any(|p| p == "*");
    let mut disabled = BTreeSet::new();
    for (key, service) in services.iter() {
        let own: Vec<String> = service
            .as_map()
            .and_then(|m| m.get("profiles"))
            .and_then(Node::as_seq)
            .map(|p| p.iter().filter_map(Node::scalar_text).collect())
            .unwrap_or_default();
        if !(own.is_empty() || all || own.iter().any(|p| profiles.contains(p))) {
            disabled.insert(key.name.clone());
        }
    }

    // Consistency, on the active services.
    for (key, service) in services.iter() {
        if disabled.contains(&key.name) {
            continue;
        }
        let empty = Mapping::new();
        let s = service.as_map().unwrap_or(&empty);
        if let Some(mode) = s.key("network_mode")
            && s.contains("networks")
        {
            return Err(Diagnostic::error(
                INVALID_SERVICE,
                format!(
                    "service {} declares mutually exclusive `network_mode` and `networks`: invalid compose project",
                    key.name
                ),
            )
            .at(mode.loc)
            .with_help("keep one of the two: `network_mode` replaces the service's networks"));
        }
        if !s.contains("image") && !s.contains("build") {
            return Err(Diagnostic::error(
                INVALID_SERVICE,
                format!(
                    "service {:?} has neither an image nor a build context specified: invalid compose project",
                    key.name
                ),
            )
            .at(key.loc)
            .with_help("add `image:` or `build:` to the service"));
        }
        if let Some(deps) = s.get("depends_on").and_then(Node::as_map) {
            for (dep, spec) in deps.iter() {
                let required = !matches!(
                    spec.as_map()
                        .and_then(|m| m.get("required"))
                        .map(|r| &r.value),
                    Some(Value::Bool(false))
                );
                let defined = services.contains(&dep.name);
                if !defined || (disabled.contains(&dep.name) && required) {
                    return Err(Diagnostic::error(
                        UNDEFINED_REFERENCE,
                        format!(
                            "service {:?} depends on undefined service {:?}: invalid compose project",
                            key.name, dep.name
                        ),
                    )
                    .at(dep.loc)
                    .with_help(if defined {
                        "activate the dependency's profile, or mark it `required: false`".to_string()
                    } else {
                        format!("define a service named {:?}, or remove this dependency", dep.name)
                    }));
                }
            }
        }
    }
    services.retain(|k, _| !disabled.contains(&k.name));
    check_dependency_cycles(&services)?;

    let top_volumes = match top.remove("volumes").map(|n| n.value) {
        Some(Value::Map(m)) => m,
        _ => Mapping::new(),
    };
    let top_networks = match top.remove("networks").map(|n| n.value) {
        Some(Value::Map(m)) => m,
        _ => Mapping::new(),
    };

    // References to networks and volumes must be defined.
    for (key, service) in services.iter() {
        let Some(s) = service.as_map() else { continue };
        if let Some(nets) = s.get("networks").and_then(Node::as_map) {
            for (net, _) in nets.iter() {
                if net.name != "default" && !top_networks.contains(&net.name) {
                    return Err(Diagnostic::error(
                        UNDEFINED_REFERENCE,
                        format!(
                            "service {:?} refers to undefined network {}: invalid compose project",
                            key.name, net.name
                        ),
                    )
                    .at(net.loc)
                    .with_help("declare it under the top-level `networks:`"));
                }
            }
        }
        for volume in s.get("volumes").and_then(Node::as_seq).unwrap_or(&[]) {
            let Some(v) = volume.as_map() else { continue };
            if v.get("type").and_then(Node::as_str) == Some("volume")
                && let Some(source) = v.get("source").and_then(Node::as_str)
                && !top_volumes.contains(source)
            {
                return Err(Diagnostic::error(
                    UNDEFINED_REFERENCE,
                    format!(
                        "service {:?} refers to undefined volume {source}: invalid compose project",
                        key.name
                    ),
                )
                .at(volume.loc)
                .with_help("declare it under the top-level `volumes:`"));
            }
        }
    }

    // Paths, env files, environment, labels, commands, healthchecks.
    for (_, service) in services.iter_mut() {
        resolve_service_paths(service, &working_dir, ctx);
        finish_service(service, ctx)?;
    }

    // The default network for services that name none.
    let mut used_networks = BTreeSet::new();
    for (_, service) in services.iter_mut() {
        let Some(s) = service.as_map_mut() else {
            continue;
        };
        if !s.contains("networks") && !s.contains("network_mode") {
            let loc = s.key("image").map(|k| k.loc).unwrap_or_default();
            let mut nets = Mapping::new();
            nets.insert(key("default", loc), Node::new(Value::Null, loc));
            s.insert(key("networks", loc), Node::new(Value::Map(nets), loc));
        }
        if let Some(nets) = s.get("networks").and_then(Node::as_map) {
            used_networks.extend(nets.keys().map(str::to_string));
        }
    }
    let mut used_volumes = BTreeSet::new();
    for (_, service) in services.iter() {
        for volume in service
            .as_map()
            .and_then(|m| m.get("volumes"))
            .and_then(Node::as_seq)
            .unwrap_or(&[])
        {
            if let Some(v) = volume.as_map()
                && v.get("type").and_then(Node::as_str) == Some("volume")
                && let Some(source) = v.get("source").and_then(Node::as_str)
            {
                used_volumes.insert(source.to_string());
            }
        }
    }

    let mut networks = top_networks;
    if used_networks.contains("default") && !networks.contains("default") {
        networks.insert(
            key("default", Location::default()),
            Node::new(Value::Null, Location::default()),
        );
    }
    networks.retain(|k, _| used_networks.contains(&k.name));
    for (k, net) in networks.iter_mut() {
        finish_resource(net, &k.name, &name);
        if let Some(m) = net.as_map_mut()
            && !m.contains("ipam")
        {
            m.insert(
                key("ipam", k.loc),
                Node::new(Value::Map(Mapping::new()), k.loc),
            );
        }
    }
    let mut volumes = top_volumes;
    volumes.retain(|k, _| used_volumes.contains(&k.name));
    for (k, vol) in volumes.iter_mut() {
        finish_resource(vol, &k.name, &name);
    }

    Ok(Project::from_parts(
        name,
        working_dir,
        services,
        networks,
        volumes,
        disabled.into_iter().collect(),
    ))
}

/// Sets a network's or volume's engine name (`<project>_<key>`, or the key itself when
/// external) and turns its `labels` into a mapping.
fn finish_resource(node: &mut Node, key_name: &str, project: &str) {
    if node.is_null() {
        node.value = Value::Map(Mapping::new());
    }
    let loc = node.loc;
    let Some(m) = node.as_map_mut() else { return };
    let external = matches!(m.get("external").map(|e| &e.value), Some(Value::Bool(true)));
    if !external
        && let Some(e) = m.get("external")
        && !matches!(e.value, Value::Bool(true))
    {
        m.remove("external");
    }
    if !m.contains("name") {
        let engine_name = if external {
            key_name.to_string()
        } else {
            format!("{project}_{key_name}")
        };
        m.insert_at(0, key("name", loc), Node::str(engine_name, loc));
    }
    if let Some(labels) = m.get_mut("labels") {
        *labels = canonical::key_value_mapping(
            std::mem::replace(labels, Node::new(Value::Null, loc)),
            true,
        );
    }
    if let Some(opts) = m.get_mut("driver_opts").and_then(Node::as_map_mut) {
        for (_, v) in opts.iter_mut() {
            if let Some(text) = v.scalar_text() {
                v.value = Value::Str(text);
            }
        }
    }
}

fn finish_service(service: &mut Node, ctx: &mut Context<'_>) -> Result<(), Diagnostic> {
    let svc_loc = service.loc;
    let Some(s) = service.as_map_mut() else {
        return Ok(());
    };
    // env_file values first, then environment on top.
    let mut environment: BTreeMap<String, (Option<String>, Location)> = BTreeMap::new();
    if let Some(files) = s.remove("env_file") {
        for item in files.as_seq().unwrap_or(&[]) {
            let Some(m) = item.as_map() else { continue };
            let path = m
                .get("path")
                .and_then(Node::scalar_text)
                .unwrap_or_default();
            let required = !matches!(
                m.get("required").map(|r| &r.value),
                Some(Value::Bool(false))
            );
            let path = PathBuf::from(path);
            if !required && !path.is_file() && !ctx.contents.contains_key(&path) {
                continue;
            }
            let env = ctx.env.clone();
            for (k, v) in read_dotenv(&path, &env, ctx.sources, ctx.contents, Some(item.loc))? {
                environment.insert(k, (Some(v), item.loc));
            }
        }
    }
    if let Some(env) = s.get("environment").cloned() {
        let env = canonical::key_value_mapping(env, false);
        if let Some(m) = env.as_map() {
            for (k, v) in m.iter() {
                environment.insert(k.name.clone(), (v.scalar_text(), v.loc));
            }
        }
    }
    if !environment.is_empty() || s.contains("environment") {
        let mut m = Mapping::new();
        for (k, (v, loc)) in environment {
            let value = v.or_else(|| ctx.env.get(&k).map(str::to_string));
            let node = match value {
                Some(text) => Node::str(text, loc),
                None => Node::new(Value::Null, loc),
            };
            m.insert(key(&k, loc), node);
        }
        let loc = s.get("environment").map_or(svc_loc, |e| e.loc);
        s.insert(key("environment", loc), Node::new(Value::Map(m), loc));
    }
    if let Some(labels) = s.get_mut("labels") {
        let loc = labels.loc;
        *labels = canonical::key_value_mapping(
            std::mem::replace(labels, Node::new(Value::Null, loc)),
            true,
        );
    }
    if let Some(args) = s
        .get_mut("build")
        .and_then(Node::as_map_mut)
        .and_then(|b| b.get_mut("args"))
        .and_then(Node::as_map_mut)
    {
        let mut resolved = Mapping::new();
        for (k, v) in std::mem::take(args) {
            let value = match v.scalar_text() {
                Some(text) => Some(text),
                None => ctx.env.get(&k.name).map(str::to_string),
            };
            if let Some(text) = value {
                resolved.insert(k, Node::str(text, v.loc));
            }
        }
        *args = resolved;
    }
    for field in ["command", "entrypoint"] {
        if let Some(c) = s.get_mut(field) {
            let loc = c.loc;
            let taken = std::mem::replace(c, Node::new(Value::Null, loc));
            *c = canonical::shell_command(taken)?;
        }
    }
    if let Some(h) = s.get_mut("healthcheck") {
        let loc = h.loc;
        let taken = std::mem::replace(h, Node::new(Value::Null, loc));
        let mut hc = canonical::healthcheck(taken)?;
        if let Some(m) = hc.as_map_mut()
            && let Some(d) = m.get("disable")
        {
            let disabled = match &d.value {
                Value::Bool(b) => *b,
                Value::Str(s) => s == "true",
                _ => false,
            };
            if disabled {
                if let Some(d) = m.get_mut("disable") {
                    d.value = Value::Bool(true);
                }
            } else {
                m.remove("disable");
            }
        }
        *h = hc;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_normalise_like_compose() {
        assert_eq!(normalize_project_name("My.App_Name"), "myapp_name");
        assert_eq!(
            normalize_project_name("Project.Name_From-Folder"),
            "projectname_from-folder"
        );
        assert_eq!(normalize_project_name("-_x"), "x");
    }
}
