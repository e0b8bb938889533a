//! Merging Compose files, as the Compose specification's merge rules and Compose v2 do it:
//! mappings merge key by key; sequences append, except `command`, `entrypoint` and
//! `healthcheck.test`, which are replaced; `environment`, `labels` and friends merge by key
//! whatever their form (list or map); `depends_on` and `networks` merge as mappings; then
//! sequences whose entries have an identity (volumes by target, ports by
//! ip/published/target/protocol, secrets and configs by target …) keep one entry per identity —
//! the later definition, at the place of the first.
//!
//! `!reset` and `!override` are handled before merging: see [`take_reset_paths`].

use crate::compose::path::{Path, matches};
use crate::compose::yaml::{Key, Mapping, Node, Value};
use crate::diagnostic::Diagnostic;

/// Diagnostic code: a later file overrides a value with one of another type.
pub const MERGE: &str = "compose::merge";

/// What a `!reset` or `!override` tag asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetKind {
    /// `!reset`: remove the value inherited from earlier files, set nothing.
    Reset,
    /// `!override`: replace the value inherited from earlier files with this one, unmerged.
    Override,
}

/// Removes every `!reset`-tagged value from `doc` and strips `!override` tags, returning the paths
/// (with what was asked) so that the caller can remove them from the project merged so far.
pub fn take_reset_paths(doc: &mut Node) -> Vec<(Path, ResetKind)> {
    let mut out = Vec::new();
    walk_reset(doc, &mut Path::root(), &mut out);
    out
}

fn walk_reset(node: &mut Node, path: &mut Path, out: &mut Vec<(Path, ResetKind)>) {
    match &mut node.value {
        Value::Map(m) => {
            let mut removed = Vec::new();
            for (k, v) in m.iter_mut() {
                path.push(&k.name);
                match v.tag.as_deref() {
                    Some("reset") => {
                        out.push((path.clone(), ResetKind::Reset));
                        removed.push(k.name.clone());
                    }
                    Some("override") => {
                        out.push((path.clone(), ResetKind::Override));
                        v.tag = None;
                    }
                    _ => walk_reset(v, path, out),
                }
                path.pop();
            }
            for k in removed {
                m.remove(&k);
            }
        }
        Value::Seq(items) => {
            let mut index = 0;
            items.retain_mut(|item| {
                path.push(&index.to_string());
                index += 1;
                // Compose ignores the tags on sequence items: the item stays.
                let keep = match item.tag.as_deref() {
                    Some("reset") | Some("override") => {
                        item.tag = None;
                        true
                    }
                    _ => {
                        walk_reset(item, path, out);
                        true
                    }
                };
                path.pop();
                keep
            });
        }
        _ => {}
    }
}

/// Removes the value at `path` from `root`, if any.
pub fn remove_path(root: &mut Node, path: &Path) {
    let segments = path.segments();
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut node = root;
    for segment in parents {
        let next = match &mut node.value {
            Value::Map(m) => m.get_mut(segment),
            Value::Seq(items) => segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    match &mut node.value {
        Value::Map(m) => {
            m.remove(last);
        }
        Value::Seq(items) => {
            if let Ok(i) = last.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
}

type Merger = fn(Node, Node, &mut Path) -> Result<Node, Diagnostic>;

/// Paths whose values merge by a rule of their own.
const SPECIALS: &[(&str, Merger)] = &[
    ("networks.*.ipam.config", merge_append),
    ("networks.*.labels", merge_to_sequence),
    ("volumes.*.labels", merge_to_sequence),
    ("services.*.annotations", merge_to_sequence),
    ("services.*.build", merge_build),
    ("services.*.build.args", merge_to_sequence),
    ("services.*.build.additional_contexts", merge_to_sequence),
    ("services.*.build.extra_hosts", merge_extra_hosts),
    ("services.*.build.labels", merge_to_sequence),
    ("services.*.command", replace),
    ("services.*.depends_on", merge_depends_on),
    ("services.*.deploy.labels", merge_to_sequence),
    ("services.*.dns", merge_to_sequence),
    ("services.*.dns_opt", merge_to_sequence),
    ("services.*.dns_search", merge_to_sequence),
    ("services.*.entrypoint", replace),
    ("services.*.env_file", merge_to_sequence),
    ("services.*.label_file", merge_to_sequence),
    ("services.*.environment", merge_to_sequence),
    ("services.*.extra_hosts", merge_extra_hosts),
    ("services.*.healthcheck.test", replace),
    ("services.*.labels", merge_to_sequence),
    ("services.*.volumes.*.volume.labels", merge_to_sequence),
    ("services.*.logging", merge_logging),
    ("services.*.models", merge_as_mapping),
    ("services.*.networks", merge_as_mapping),
    ("services.*.sysctls", merge_to_sequence),
    ("services.*.tmpfs", merge_to_sequence),
    ("services.*.ulimits.*", replace),
];

/// Merges `over` into `base` at `path` (the root path for whole files).
pub fn merge(base: Node, over: Node, path: &mut Path) -> Result<Node, Diagnostic> {
    for (pattern, merger) in SPECIALS {
        if matches(path, pattern) {
            return merger(base, over, path);
        }
    }
    if over.is_null() {
        return Ok(base);
    }
    let Node { value, tag, loc } = base;
    match (value, over.value) {
        (Value::Map(b), Value::Map(o)) => Ok(Node {
            value: Value::Map(merge_mappings(b, o, path)?),
            tag,
            loc,
        }),
        (Value::Seq(mut b), Value::Seq(o)) => {
            b.extend(o);
            Ok(Node {
                value: Value::Seq(b),
                tag,
                loc,
            })
        }
        (Value::Map(_), _) | (Value::Seq(_), _) => {
            Err(Diagnostic::error(MERGE, format!("cannot override {path}"))
                .at(over.loc)
                .with_label("this value has another type than the one it overrides"))
        }
        (_, value) => Ok(Node {
            value,
            tag: over.tag,
            loc: over.loc,
        }),
    }
}

fn merge_mappings(
    mut base: Mapping,
    over: Mapping,
    path: &mut Path,
) -> Result<Mapping, Diagnostic> {
    for (key, value) in over {
        match base.remove_keep_position(&key.name) {
            None => base.insert(key, value),
            Some((index, existing)) => {
                path.push(&key.name);
                let merged = merge(existing, value, path);
                path.pop();
                base.insert_at(index, key, merged?);
            }
        }
    }
    Ok(base)
}

fn replace(_base: Node, over: Node, _path: &mut Path) -> Result<Node, Diagnostic> {
    Ok(over)
}

fn merge_append(base: Node, over: Node, path: &mut Path) -> Result<Node, Diagnostic> {
    match (&base.value, &over.value) {
        (Value::Seq(_), Value::Seq(_)) => {
            let Node { value, tag, loc } = base;
            let (Value::Seq(mut b), Value::Seq(o)) = (value, over.value) else {
                return Err(Diagnostic::error(MERGE, format!("cannot override {path}")));
            };
            b.extend(o);
            Ok(Node {
                value: Value::Seq(b),
                tag,
                loc,
            })
        }
        _ => Ok(over),
    }
}

/// Converts a list-or-map value (`environment`, `labels` …) into its sequence form:
/// `KEY=VALUE` strings, or `KEY` alone for a null value, sorted for maps as Compose does.
pub fn to_sequence(node: Node) -> Vec<Node> {
    let loc = node.loc;
    match node.value {
        Value::Seq(items) => items,
        Value::Map(m) => {
            let mut seq = Vec::new();
            for (k, v) in m {
                match &v.value {
                    Value::Null => seq.push(Node::str(k.name.clone(), k.loc)),
                    Value::Seq(items) => {
                        for item in items {
                            let text = item.scalar_text().unwrap_or_default();
                            seq.push(Node::str(format!("{}={text}", k.name), v.loc));
                        }
                    }
                    _ => {
                        let text = v.scalar_text().unwrap_or_default();
                        seq.push(Node::str(format!("{}={text}", k.name), v.loc));
                    }
                }
            }
            seq.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            seq
        }
        Value::Null => Vec::new(),
        _ => vec![Node { loc, ..node }],
    }
}

fn merge_to_sequence(base: Node, over: Node, _path: &mut Path) -> Result<Node, Diagnostic> {
    let loc = base.loc;
    let mut seq = to_sequence(base);
    seq.extend(to_sequence(over));
    Ok(Node::new(Value::Seq(seq), loc))
}

fn merge_extra_hosts(base: Node, over: Node, _path: &mut Path) -> Result<Node, Diagnostic> {
    let loc = base.loc;
    let mut seq = to_sequence(base);
    for item in to_sequence(over) {
        if !seq.iter().any(|s| s.value == item.value) {
            seq.push(item);
        }
    }
    Ok(Node::new(Value::Seq(seq), loc))
}

fn build_as_mapping(node: Node) -> Node {
    match node.value {
        Value::Str(s) => {
            let mut m = Mapping::new();
            m.insert(
                Key {
                    name: "context".into(),
                    loc: node.loc,
                },
                Node::str(s, node.loc),
            );
            Node::new(Value::Map(m), node.loc)
        }
        _ => node,
    }
}

fn merge_build(base: Node, over: Node, path: &mut Path) -> Result<Node, Diagnostic> {
    merge_mapping_nodes(build_as_mapping(base), build_as_mapping(over), path)
}

fn merge_mapping_nodes(base: Node, over: Node, path: &mut Path) -> Result<Node, Diagnostic> {
    match (base.value, over.value) {
        (Value::Map(b), Value::Map(o)) => Ok(Node {
            value: Value::Map(merge_mappings(b, o, path)?),
            tag: None,
            loc: base.loc,
        }),
        (_, Value::Null) => Ok(Node::new(Value::Null, base.loc)),
        (_, value) => Ok(Node {
            value,
            tag: over.tag,
            loc: over.loc,
        }),
    }
}

/// Converts a list of names into a mapping name → `default` (or null), as Compose does for
/// `depends_on` and `networks` before merging.
pub fn list_to_mapping(node: Node, default: Option<&dyn Fn(Location) -> Node>) -> Node {
    match node.value {
        Value::Seq(items) => {
            let mut m = Mapping::new();
            for item in items {
                let name = item.scalar_text().unwrap_or_default();
                let value = match default {
                    Some(make) => make(item.loc),
                    None => Node::new(Value::Null, item.loc),
                };
                m.insert(
                    Key {
                        name,
                        loc: item.loc,
                    },
                    value,
                );
            }
            Node::new(Value::Map(m), node.loc)
        }
        _ => node,
    }
}

use crate::source::Location;

/// The long form Compose gives a `depends_on` entry written in the short (list) form.
pub fn default_dependency(loc: Location) -> Node {
    let mut m = Mapping::new();
    m.insert(
        Key {
            name: "condition".into(),
            loc,
        },
        Node::str("service_started", loc),
    );
    m.insert(
        Key {
            name: "required".into(),
            loc,
        },
        Node::new(Value::Bool(true), loc),
    );
    Node::new(Value::Map(m), loc)
}

fn merge_depends_on(base: Node, over: Node, path: &mut Path) -> Result<Node, Diagnostic> {
    let base = list_to_mapping(base, Some(&default_dependency));
    let over = list_to_mapping(over, Some(&default_dependency));
    merge_mapping_nodes(base, over, path)
}

fn merge_as_mapping(base: Node, over: Node, path: &mut Path) -> Result<Node, Diagnostic> {
    merge_mapping_nodes(
        list_to_mapping(base, None),
        list_to_mapping(over, None),
        path,
    )
}

fn merge_logging(base: Node, over: Node, path: &mut Path) -> Result<Node, Diagnostic> {
    let base_driver = base
        .as_map()
        .and_then(|m| m.get("driver"))
        .map(|n| n.value.clone());
    let over_driver = over
        .as_map()
        .and_then(|m| m.get("driver"))
        .map(|n| n.value.clone());
    match (base_driver, over_driver) {
        (Some(b), Some(o)) if b != o => Ok(over),
        _ => merge_mapping_nodes(base, over, path),
    }
}

/// What makes two entries of a sequence "the same" entry.
type Indexer = fn(&Node) -> Option<String>;

const UNIQUE: &[(&str, Indexer)] = &[
    ("networks.*.labels", key_value_index),
    ("networks.*.ipam.options", key_value_index),
    ("services.*.annotations", key_value_index),
    ("services.*.build.args", key_value_index),
    ("services.*.build.additional_contexts", key_value_index),
    ("services.*.build.platform", key_value_index),
    ("services.*.build.tags", key_value_index),
    ("services.*.build.labels", key_value_index),
    ("services.*.cap_add", key_value_index),
    ("services.*.cap_drop", key_value_index),
    ("services.*.configs", config_index),
    ("services.*.deploy.labels", key_value_index),
    ("services.*.dns", key_value_index),
    ("services.*.dns_opt", key_value_index),
    ("services.*.dns_search", key_value_index),
    ("services.*.environment", key_value_index),
    ("services.*.env_file", env_file_index),
    ("services.*.expose", scalar_index),
    ("services.*.labels", key_value_index),
    ("services.*.links", key_value_index),
    ("services.*.networks.*.aliases", key_value_index),
    ("services.*.networks.*.link_local_ips", key_value_index),
    ("services.*.ports", port_index),
    ("services.*.profiles", key_value_index),
    ("services.*.secrets", secret_index),
    ("services.*.sysctls", key_value_index),
    ("services.*.tmpfs", key_value_index),
    ("services.*.volumes", volume_index),
    ("services.*.devices", device_index),
];

/// Keeps one entry per identity in the sequences that have one (the later entry wins, at the
/// position of the first).
pub fn enforce_unicity(node: &mut Node, path: &mut Path) {
    match &mut node.value {
        Value::Map(m) => {
            for (k, v) in m.iter_mut() {
                path.push(&k.name);
                enforce_unicity(v, path);
                path.pop();
            }
        }
        Value::Seq(items) => {
            let Some((_, indexer)) = UNIQUE.iter().find(|(p, _)| matches(path, p)) else {
                return;
            };
            // A hash map: a port range such as `0-65535:0-65535` expands to 65,536 entries.
            let mut seen: std::collections::HashMap<String, usize> =
                std::collections::HashMap::new();
            let mut out: Vec<Node> = Vec::new();
            for item in std::mem::take(items) {
                match indexer(&item) {
                    Some(key) => match seen.get(&key) {
                        Some(&at) => out[at] = item,
                        None => {
                            seen.insert(key, out.len());
                            out.push(item);
                        }
                    },
                    None => out.push(item),
                }
            }
            *items = out;
        }
        _ => {}
    }
}

fn key_value_index(node: &Node) -> Option<String> {
    let text = node.scalar_text()?;
    Some(match text.split_once('=') {
        Some((k, _)) => k.to_string(),
        None => text,
    })
}

fn scalar_index(node: &Node) -> Option<String> {
    node.scalar_text()
}

fn env_file_index(node: &Node) -> Option<String> {
    match &node.value {
        Value::Map(m) => m.get("path").and_then(Node::scalar_text),
        _ => node.scalar_text(),
    }
}

fn mount_index(node: &Node, default_dir: &str) -> Option<String> {
    match &node.value {
        Value::Map(m) => match m.get("target").and_then(Node::scalar_text) {
            Some(t) => Some(t),
            None => Some(format!(
                "{default_dir}/{}",
                m.get("source")
                    .and_then(Node::scalar_text)
                    .unwrap_or_default()
            )),
        },
        _ => Some(format!("{default_dir}/{}", node.scalar_text()?)),
    }
}

fn secret_index(node: &Node) -> Option<String> {
    mount_index(node, "/run/secrets")
}

fn config_index(node: &Node) -> Option<String> {
    mount_index(node, "")
}

fn volume_index(node: &Node) -> Option<String> {
    match &node.value {
        Value::Map(m) => m.get("target").and_then(Node::scalar_text),
        Value::Str(s) => crate::compose::canonical::parse_volume_short(s)
            .ok()
            .map(|v| v.target),
        _ => None,
    }
}

fn device_index(node: &Node) -> Option<String> {
    match &node.value {
        Value::Map(m) => m.get("target").and_then(Node::scalar_text),
        Value::Str(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            Some(parts.get(1).unwrap_or(&parts[0]).to_string())
        }
        _ => None,
    }
}

fn port_index(node: &Node) -> Option<String> {
    match &node.value {
        Value::Int(i) => Some(i.to_string()),
        Value::Str(s) => Some(s.clone()),
        Value::Map(m) => {
            let target = m.get("target").and_then(Node::scalar_text)?;
            let published = m
                .get("published")
                .and_then(Node::scalar_text)
                .unwrap_or_else(|| "%!s(<nil>)".into());
            let host = m
                .get("host_ip")
                .and_then(Node::scalar_text)
                .unwrap_or_else(|| "0.0.0.0".into());
            let protocol = m
                .get("protocol")
                .and_then(Node::scalar_text)
                .unwrap_or_else(|| "tcp".into());
            Some(format!("{host}:{published}:{target}/{protocol}"))
        }
        _ => None,
    }
}
