//! `extends`: a service built on another one, in the same file or in another file (`file:`),
//! to any depth, with cycles reported. Paths in an extended file are relative to that file.

use std::path::{Path as FsPath, PathBuf};

use crate::compose::env::absolute;
use crate::compose::loader::{
    Context, EXTENDS, EXTENDS_CYCLE, canonicalize_service, interpolate_node, read_yaml,
};
use crate::compose::merge::{merge, remove_path, take_reset_paths};
use crate::compose::normalize::resolve_service_paths;
use crate::compose::path::Path;
use crate::compose::yaml::{Mapping, Node, Value};
use crate::diagnostic::Diagnostic;
use crate::source::Location;

/// Resolves every `extends` in the services of `doc`, a document of `file`.
pub(crate) fn apply(
    doc: &mut Node,
    file: &FsPath,
    ctx: &mut Context<'_>,
    resets: &[Path],
) -> Result<(), Diagnostic> {
    let Some(services) = doc
        .as_map_mut()
        .and_then(|m| m.get_mut("services"))
        .and_then(Node::as_map_mut)
    else {
        return Ok(());
    };
    let names: Vec<String> = services.keys().map(str::to_string).collect();
    for name in names {
        let mut chain = Vec::new();
        resolve(services, &name, file, ctx, &mut chain, resets)?;
    }
    Ok(())
}

/// Resolves `extends` of service `name` in `services` (the services of `file`), in place.
fn resolve(
    services: &mut Mapping,
    name: &str,
    file: &FsPath,
    ctx: &mut Context<'_>,
    chain: &mut Vec<(String, PathBuf, Location)>,
    resets: &[Path],
) -> Result<(), Diagnostic> {
    let Some(service) = services.get(name) else {
        return Ok(());
    };
    let Some(extends) = service.as_map().and_then(|m| m.get("extends")).cloned() else {
        return Ok(());
    };
    let (reference, other_file) = match &extends.value {
        Value::Str(s) => (s.clone(), None),
        Value::Map(m) => (
            m.get("service")
                .and_then(Node::scalar_text)
                .unwrap_or_default(),
            m.get("file")
                .map(|f| (f.scalar_text().unwrap_or_default(), f.loc)),
        ),
        _ => return Ok(()),
    };
    if chain.iter().any(|(n, f, _)| n == name && f == file) {
        let mut lines = vec![format!(
            "Circular reference:\n  {} in {}",
            chain[0].0,
            chain[0].1.display()
        )];
        for (n, f, _) in chain.iter().skip(1) {
            lines.push(format!("  extends {n} in {}", f.display()));
        }
        lines.push(format!("  extends {name} in {}", file.display()));
        return Err(Diagnostic::error(EXTENDS_CYCLE, lines.join("\n"))
            .at(extends.loc)
            .with_label("this extends closes the cycle")
            .with_help("break the cycle: a service cannot extend itself, directly or not"));
    }
    chain.push((name.to_string(), file.to_path_buf(), extends.loc));

    let base = match other_file {
        None => {
            if !services.contains(&reference) {
                return Err(Diagnostic::error(
                    EXTENDS,
                    format!(
                        "cannot extend service {name:?} in {}: service {reference:?} not found",
                        file.display()
                    ),
                )
                .at(extends.loc)
                .with_help("extend a service defined in this file, or add `file:`"));
            }
            resolve(services, &reference, file, ctx, chain, resets)?;
            services.get(&reference).cloned()
        }
        Some((other, file_loc)) => {
            let dir = file.parent().unwrap_or(FsPath::new("/"));
            let other_path = absolute(dir, FsPath::new(&other));
            Some(load_base(
                &other_path,
                &reference,
                name,
                file,
                file_loc,
                ctx,
                chain,
            )?)
        }
    };
    chain.pop();
    let Some(base) = base else {
        return Ok(());
    };
    let Some(service) = services.get_mut(name) else {
        return Ok(());
    };
    let mut path = Path::parse(&format!("services.{name}"));
    let current = std::mem::replace(service, Node::new(Value::Null, Location::default()));
    // `!reset`/`!override` on this service's attributes drop what the base says for them.
    let mut base = base;
    for reset in resets {
        if let [first, service, rest @ ..] = reset.segments()
            && first == "services"
            && service == name
            && !rest.is_empty()
        {
            remove_path(&mut base, &Path::parse(&rest.join(".")));
        }
    }
    let mut merged = merge(base, current, &mut path)?;
    if let Some(m) = merged.as_map_mut() {
        m.remove("extends");
    }
    *service = merged;
    Ok(())
}

/// Loads service `reference` from `path` (an extended file), resolving its own `extends` and
/// making its relative paths absolute against that file's folder.
fn load_base(
    path: &FsPath,
    reference: &str,
    name: &str,
    from: &FsPath,
    loc: Location,
    ctx: &mut Context<'_>,
    chain: &mut Vec<(String, PathBuf, Location)>,
) -> Result<Node, Diagnostic> {
    let (_, docs) = read_yaml(path, ctx, Some(loc))?;
    let mut found: Option<Node> = None;
    for mut doc in docs {
        interpolate_node(&mut doc, &mut Path::root(), ctx)?;
        take_reset_paths(&mut doc);
        let Some(services) = doc
            .as_map_mut()
            .and_then(|m| m.get_mut("services"))
            .and_then(Node::as_map_mut)
        else {
            continue;
        };
        if !services.contains(reference) {
            continue;
        }
        resolve(services, reference, path, ctx, chain, &[])?;
        let Some(mut service) = services.get(reference).cloned() else {
            continue;
        };
        canonicalize_service(&mut service)?;
        let dir = path.parent().unwrap_or(FsPath::new("/")).to_path_buf();
        resolve_service_paths(&mut service, &dir, ctx);
        found = Some(service);
    }
    found.ok_or_else(|| {
        Diagnostic::error(
            EXTENDS,
            format!(
                "cannot extend service {name:?} in {}: service {reference:?} not found in {}",
                from.display(),
                path.display()
            ),
        )
        .at(loc)
        .with_help("name a service defined in that file")
    })
}
