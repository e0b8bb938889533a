//! The loading pipeline: find the files, build the environment, then for each file (and each
//! YAML document in it) interpolate, apply `!reset`/`!override`, resolve `extends`, merge into
//! what the earlier files gave, validate and canonicalise — in Compose's order, so that the
//! result is the one `docker compose config` prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path as FsPath, PathBuf};

use crate::compose::env::{self, Environment, absolute, read_dotenv};
use crate::compose::interpolate::{InterpolationError, interpolate};
use crate::compose::merge::{self, enforce_unicity, merge, remove_path, take_reset_paths};
use crate::compose::normalize;
use crate::compose::path::Path;
use crate::compose::project::Project;
use crate::compose::validate;
use crate::compose::yaml::{self, Mapping, Node, Value};
use crate::compose::{ComposeOptions, canonical};
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Location, SourceMap};

/// Diagnostic code: malformed YAML.
pub const YAML: &str = "compose::yaml";
/// Diagnostic code: `${VAR:?message}` with VAR unset or empty.
pub const REQUIRED_VARIABLE: &str = "compose::required-variable";
/// Diagnostic code: a `${…}` expression that cannot be parsed.
pub const INTERPOLATION: &str = "compose::interpolation";
/// Diagnostic code: a variable used without a value (a warning).
pub const UNSET_VARIABLE: &str = "compose::unset-variable";
/// Diagnostic code: `extends` forms a cycle.
pub const EXTENDS_CYCLE: &str = "compose::extends-cycle";
/// Diagnostic code: `extends` names a service or file that does not exist.
pub const EXTENDS: &str = "compose::extends";
/// Diagnostic code: no Compose file was found.
pub const NO_FILE: &str = "compose::no-file";
/// Diagnostic code (warning): the obsolete top-level `version`.
pub const OBSOLETE_VERSION: &str = "compose::obsolete-version";
/// Diagnostic code: the files define nothing.
pub const EMPTY: &str = "compose::empty";
/// Diagnostic code: the top level of a file is not a mapping.
pub const NOT_A_MAPPING: &str = "compose::not-a-mapping";

const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
const OVERRIDE_FILES: &[&str] = &[
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// A loaded project and the warnings its loading produced.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The resolved project.
    pub project: Project,
    /// Warnings (unset variables, obsolete `version`), in the order they were found.
    pub warnings: Vec<Diagnostic>,
}

pub(crate) struct Context<'a> {
    pub(crate) contents: &'a BTreeMap<PathBuf, String>,
    pub(crate) sources: &'a mut SourceMap,
    pub(crate) env: Environment,
    pub(crate) warnings: Vec<Diagnostic>,
    warned_unset: BTreeSet<String>,
    /// The files being included, outermost first (to report include cycles).
    including: Vec<PathBuf>,
}

impl Context<'_> {
    fn warn_unset(&mut self, name: &str, loc: Location) {
        if self.warned_unset.insert(name.to_string()) {
            self.warnings.push(
                Diagnostic::warning(
                    UNSET_VARIABLE,
                    format!("The \"{name}\" variable is not set. Defaulting to a blank string."),
                )
                .at(loc)
                .with_help(format!(
                    "set {name} in the environment or in .env, or give it a default: ${{{name}:-value}}"
                )),
            );
        }
    }
}

/// Loads and resolves the project described by `options`, recording every file read in
/// `sources` (so that diagnostics can be rendered afterwards).
pub fn load(options: &ComposeOptions, sources: &mut SourceMap) -> Result<Loaded, Diagnostic> {
    let cwd = options.cwd.clone();
    let mut env = Environment::new(options.environment.clone());

    // The working directory: --project-directory, else the first -f file's folder, else cwd.
    let explicit_files: Vec<PathBuf> = options.files.iter().map(|f| absolute(&cwd, f)).collect();
    let mut working_dir = match (&options.project_directory, explicit_files.first()) {
        (Some(dir), _) => absolute(&cwd, dir),
        (None, Some(first)) => first.parent().map_or(cwd.clone(), FsPath::to_path_buf),
        (None, None) => cwd.clone(),
    };

    // .env (or --env-file) fills variables the process does not set.
    let env_files: Vec<(PathBuf, bool)> = if options.env_files.is_empty() {
        vec![(working_dir.join(".env"), false)]
    } else {
        options
            .env_files
            .iter()
            .map(|f| (absolute(&cwd, f), true))
            .collect()
    };
    let mut dotenv: BTreeMap<String, String> = BTreeMap::new();
    for (path, required) in &env_files {
        if !required && !path.is_file() && !options.contents.contains_key(path) {
            continue;
        }
        let mut lookup = env.clone();
        for (k, v) in &dotenv {
            if !lookup.contains(k) {
                lookup.set(k.clone(), v.clone());
            }
        }
        dotenv.extend(read_dotenv(
            path,
            &lookup,
            sources,
            &options.contents,
            None,
        )?);
    }
    for (k, v) in dotenv {
        if !env.contains(&k) {
            env.set(k, v);
        }
    }

    // Which files: -f, else COMPOSE_FILE, else the default file (and its override) found in the
    // working directory or the nearest parent that has one.
    let files = if !explicit_files.is_empty() {
        explicit_files
    } else if let Some(list) = env.get("COMPOSE_FILE").filter(|s| !s.is_empty()) {
        let separator = env.get("COMPOSE_PATH_SEPARATOR").unwrap_or(":").to_string();
        let files: Vec<PathBuf> = list
            .split(separator.as_str())
            .filter(|s| !s.is_empty())
            .map(|f| absolute(&working_dir, FsPath::new(f)))
            .collect();
        if options.project_directory.is_none()
            && let Some(parent) = files.first().and_then(|f| f.parent())
        {
            working_dir = parent.to_path_buf();
        }
        files
    } else {
        let (dir, files) = find_default_files(&working_dir).ok_or_else(|| {
            Diagnostic::error(
                NO_FILE,
                format!(
                    "no configuration file provided: not found in {} or its parents",
                    working_dir.display()
                ),
            )
            .with_help("run the command in the folder of compose.yaml, or name the files with -f")
        })?;
        if options.project_directory.is_none() {
            working_dir = dir;
        }
        files
    };

    // Profiles: --profile, else COMPOSE_PROFILES.
    let mut profiles: Vec<String> = options.profiles.clone();
    if profiles.is_empty()
        && let Some(list) = env.get("COMPOSE_PROFILES")
    {
        profiles = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
    }

    let mut ctx = Context {
        contents: &options.contents,
        sources,
        env,
        warnings: Vec::new(),
        warned_unset: BTreeSet::new(),
        including: Vec::new(),
    };

    // Read and parse every file first: the project name may come from any of them.
    let mut documents: Vec<(PathBuf, FileId, Vec<Node>)> = Vec::new();
    for path in &files {
        let (file, docs) = read_yaml(path, &mut ctx, None)?;
        documents.push((path.clone(), file, docs));
    }

    let name = normalize::project_name(options, &working_dir, &documents, &mut ctx)?;
    ctx.env.set("COMPOSE_PROJECT_NAME", name.clone());

    let mut model = Node::new(Value::Map(Mapping::new()), Location::default());
    for (path, _file, docs) in documents {
        for doc in docs {
            model = process_document(model, doc, &path, &mut ctx)?;
        }
    }

    let project = normalize::finish(model, name, working_dir, &profiles, options, &mut ctx)?;
    Ok(Loaded {
        project,
        warnings: ctx.warnings,
    })
}

fn find_default_files(start: &FsPath) -> Option<(PathBuf, Vec<PathBuf>)> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if let Some(main) = DEFAULT_FILES
            .iter()
            .map(|f| d.join(f))
            .find(|p| p.is_file())
        {
            let mut files = vec![main];
            if let Some(over) = OVERRIDE_FILES
                .iter()
                .map(|f| d.join(f))
                .find(|p| p.is_file())
            {
                files.push(over);
            }
            return Some((d.to_path_buf(), files));
        }
        dir = d.parent();
    }
    None
}

/// Reads and parses a YAML file, registering it in the source map.
pub(crate) fn read_yaml(
    path: &FsPath,
    ctx: &mut Context<'_>,
    referenced_from: Option<Location>,
) -> Result<(FileId, Vec<Node>), Diagnostic> {
    let text = match ctx.contents.get(path) {
        Some(text) => Ok(text.clone()),
        None => std::fs::read_to_string(path),
    };
    let text = text.map_err(|e| {
        Diagnostic::error(
            env::MISSING_FILE,
            format!("open {}: {}", path.display(), io_reason(&e)),
        )
        .at_opt(referenced_from)
        .with_help("check the path; relative paths are resolved against the current directory")
    })?;
    let file = ctx.sources.add(path.to_path_buf(), text);
    let text = ctx
        .sources
        .get(file)
        .map(|f| f.text.clone())
        .unwrap_or_default();
    let docs = yaml::parse_documents(file, &text).map_err(|e| {
        Diagnostic::error(
            YAML,
            format!("failed to parse {}: {}", path.display(), e.message),
        )
        .at(e.loc)
        .with_help(if e.message.contains("already defined") {
            "a key may appear once per mapping: remove or rename one of the two"
        } else {
            "fix the YAML syntax at this position (indentation, a missing `:` or quote)"
        })
    })?;
    for doc in &docs {
        if !matches!(doc.value, Value::Map(_)) && !doc.is_null() {
            return Err(Diagnostic::error(
                NOT_A_MAPPING,
                format!("{}: top-level object must be a mapping", path.display()),
            )
            .at(doc.loc)
            .with_help("a Compose file starts with keys such as `services:`"));
        }
    }
    Ok((file, docs.into_iter().filter(|d| !d.is_null()).collect()))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        _ => e.to_string(),
    }
}

/// Interpolates every string value (not keys) of `node`.
pub(crate) fn interpolate_node(
    node: &mut Node,
    path: &mut Path,
    ctx: &mut Context<'_>,
) -> Result<(), Diagnostic> {
    match &mut node.value {
        Value::Str(s) => {
            if !s.contains('$') {
                return Ok(());
            }
            let result = {
                let env = &ctx.env;
                interpolate(s, &|name: &str| env.get(name).map(str::to_string))
            };
            match result {
                Ok(done) => {
                    *s = done.value;
                    for name in done.unset {
                        ctx.warn_unset(&name, node.loc);
                    }
                }
                Err(e) => {
                    let loc = refine_location(ctx.sources, node.loc, s, e.offset());
                    return Err(interpolation_error(&e, path, loc));
                }
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(&i.to_string());
                let r = interpolate_node(item, path, ctx);
                path.pop();
                r?;
            }
        }
        Value::Map(m) => {
            for (k, v) in m.iter_mut() {
                path.push(&k.name);
                let r = interpolate_node(v, path, ctx);
                path.pop();
                r?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Moves a value's location to the `${` at byte `offset` of its text, when the value is written
/// on one line as it reads (plain or simply quoted); otherwise keeps the value's location.
fn refine_location(sources: &SourceMap, loc: Location, value: &str, offset: usize) -> Location {
    let Some(prefix) = value.get(..offset) else {
        return loc;
    };
    let Some(file) = sources.get(loc.file) else {
        return loc;
    };
    let start = sources.byte_offset(loc);
    let line = file
        .text
        .get(start..)
        .and_then(|t| t.lines().next())
        .unwrap_or("");
    let quote = usize::from(line.starts_with(['"', '\'']));
    if prefix.contains('\n') || !line.get(quote..).is_some_and(|l| l.starts_with(prefix)) {
        return loc;
    }
    Location::new(
        loc.file,
        loc.line,
        loc.col + (quote + prefix.chars().count()) as u32,
    )
}

fn interpolation_error(e: &InterpolationError, path: &Path, loc: Location) -> Diagnostic {
    let message = e.to_compose_message(&path.to_string());
    match e {
        InterpolationError::RequiredMissing { name, .. } => {
            Diagnostic::error(REQUIRED_VARIABLE, message)
                .at(loc)
                .with_label(format!("{name} is required here"))
                .with_help(format!("set {name} in the environment or in .env"))
        }
        _ => Diagnostic::error(INTERPOLATION, message.replace('\n', " "))
            .at(loc)
            .with_label("this expression cannot be parsed")
            .with_help("write a literal `$` as `$$`; close every `${` with `}`"),
    }
}

fn process_document(
    mut model: Node,
    mut doc: Node,
    file: &FsPath,
    ctx: &mut Context<'_>,
) -> Result<Node, Diagnostic> {
    interpolate_node(&mut doc, &mut Path::root(), ctx)?;
    // Both tags drop what earlier files (and an extended service) said; `!override` then sets
    // its own value unmerged.
    let resets: Vec<Path> = take_reset_paths(&mut doc)
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    for path in &resets {
        remove_path(&mut model, path);
    }
    apply_include(&mut doc, file, ctx)?;
    crate::compose::extends::apply(&mut doc, file, ctx, &resets)?;
    if let Some(version) = doc.as_map().and_then(|m| m.get("version")) {
        ctx.warnings.push(
            Diagnostic::warning(
                OBSOLETE_VERSION,
                format!(
                    "{}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion",
                    file.display()
                ),
            )
            .at(version.loc),
        );
    }
    let mut model = merge(model, doc, &mut Path::root())?;
    enforce_unicity(&mut model, &mut Path::root());
    let display = file.display().to_string();
    if let Some(first) = validate::validate(&model, &display).into_iter().next() {
        return Err(first);
    }
    if let Some(m) = model.as_map_mut() {
        m.remove("version");
    }
    canonicalize(&mut model)?;
    enforce_unicity(&mut model, &mut Path::root());
    Ok(model)
}

/// Diagnostic code: an `include` that cannot be applied (cycle, conflicting resource).
pub const INCLUDE: &str = "compose::include";

const RESOURCE_SECTIONS: &[&str] = &["services", "volumes", "networks", "secrets", "configs"];

/// `include:` — each entry is loaded as a project of its own (its files, its project directory,
/// its env files; relative paths resolved against that directory), and its services, volumes,
/// networks, secrets and configs are added to this document. A resource defined both here and in
/// an included file is an error, as in Compose.
fn apply_include(doc: &mut Node, file: &FsPath, ctx: &mut Context<'_>) -> Result<(), Diagnostic> {
    let Some(include) = doc.as_map_mut().and_then(|m| m.remove("include")) else {
        return Ok(());
    };
    let base = file.parent().unwrap_or(FsPath::new("/")).to_path_buf();
    let entries: Vec<Node> = match include.value {
        Value::Seq(items) => items,
        Value::Null => Vec::new(),
        _ => {
            return Err(Diagnostic::error(
                crate::compose::validate::INVALID_VALUE,
                "include must be a list",
            )
            .at(include.loc));
        }
    };
    for entry in entries {
        let loc = entry.loc;
        let strings = |node: Option<&Node>| -> Vec<String> {
            match node.map(|n| &n.value) {
                Some(Value::Seq(items)) => items.iter().filter_map(Node::scalar_text).collect(),
                Some(_) => node.and_then(Node::scalar_text).into_iter().collect(),
                None => Vec::new(),
            }
        };
        let (paths, project_directory, env_files) = match &entry.value {
            Value::Map(m) => (
                strings(m.get("path")),
                m.get("project_directory").and_then(Node::scalar_text),
                strings(m.get("env_file")),
            ),
            _ => (strings(Some(&entry)), None, Vec::new()),
        };
        if paths.is_empty() {
            return Err(Diagnostic::error(INCLUDE, "an include entry names no file")
                .at(loc)
                .with_help("write `- path/to/compose.yaml` or `- path: …`"));
        }
        let paths: Vec<PathBuf> = paths
            .iter()
            .map(|p| absolute(&base, FsPath::new(p)))
            .collect();
        let working_dir = match &project_directory {
            Some(dir) => absolute(&base, FsPath::new(dir)),
            None => paths[0].parent().unwrap_or(FsPath::new("/")).to_path_buf(),
        };
        if let Some(cycle) = paths
            .iter()
            .find(|p| ctx.including.contains(p) || p.as_path() == file)
        {
            return Err(Diagnostic::error(
                INCLUDE,
                format!(
                    "include cycle detected: {} includes {}",
                    file.display(),
                    cycle.display()
                ),
            )
            .at(loc));
        }
        // The included project's environment: ours, then its env files for what we do not set.
        let outer_env = ctx.env.clone();
        let env_files: Vec<(PathBuf, bool)> = if env_files.is_empty() {
            vec![(working_dir.join(".env"), false)]
        } else {
            env_files
                .iter()
                .map(|f| (absolute(&base, FsPath::new(f)), true))
                .collect()
        };
        for (path, required) in env_files {
            if !required && !path.is_file() && !ctx.contents.contains_key(&path) {
                continue;
            }
            let vars = read_dotenv(&path, &ctx.env, ctx.sources, ctx.contents, Some(loc))?;
            for (k, v) in vars {
                if !ctx.env.contains(&k) {
                    ctx.env.set(k, v);
                }
            }
        }
        ctx.including.push(file.to_path_buf());
        let mut included = Node::new(Value::Map(Mapping::new()), loc);
        let mut result = Ok(());
        for path in &paths {
            let docs = match read_yaml(path, ctx, Some(loc)) {
                Ok((_, docs)) => docs,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            for d in docs {
                match process_document(included, d, path, ctx) {
                    Ok(m) => included = m,
                    Err(e) => {
                        result = Err(e);
                        included = Node::new(Value::Null, loc);
                        break;
                    }
                }
            }
            if result.is_err() {
                break;
            }
        }
        ctx.including.pop();
        ctx.env = outer_env;
        result?;
        if let Some(services) = included
            .as_map_mut()
            .and_then(|m| m.get_mut("services"))
            .and_then(Node::as_map_mut)
        {
            for (_, service) in services.iter_mut() {
                crate::compose::normalize::resolve_service_paths(service, &working_dir, ctx);
            }
        }
        let (Some(target), Value::Map(source)) = (doc.as_map_mut(), included.value) else {
            continue;
        };
        for (section, resources) in source {
            if !RESOURCE_SECTIONS.contains(&section.name.as_str()) {
                continue;
            }
            let Value::Map(resources) = resources.value else {
                continue;
            };
            if !target.contains(&section.name) {
                target.insert(
                    section.clone(),
                    Node::new(Value::Map(Mapping::new()), section.loc),
                );
            }
            let Some(existing) = target.get_mut(&section.name).and_then(Node::as_map_mut) else {
                continue;
            };
            for (name, resource) in resources {
                if existing.contains(&name.name) {
                    return Err(Diagnostic::error(
                        INCLUDE,
                        format!(
                            "{} {:?} is defined both in {} and in the included {}",
                            section.name.trim_end_matches('s'),
                            name.name,
                            file.display(),
                            paths[0].display()
                        ),
                    )
                    .at(existing.key(&name.name).map_or(loc, |k| k.loc))
                    .with_help("rename one of them, or extend the included one instead"));
                }
                existing.insert(name, resource);
            }
        }
    }
    Ok(())
}

/// The short-to-long transformations Compose applies after each merge.
pub(crate) fn canonicalize(model: &mut Node) -> Result<(), Diagnostic> {
    let Some(top) = model.as_map_mut() else {
        return Ok(());
    };
    if let Some(services) = top.get_mut("services").and_then(Node::as_map_mut) {
        for (_, service) in services.iter_mut() {
            canonicalize_service(service)?;
        }
    }
    for section in ["volumes", "networks", "secrets", "configs"] {
        if let Some(items) = top.get_mut(section).and_then(Node::as_map_mut) {
            for (name, item) in items.iter_mut() {
                normalize::external(item, &name.name);
            }
        }
    }
    Ok(())
}

/// Canonicalises one service definition in place.
pub(crate) fn canonicalize_service(service: &mut Node) -> Result<(), Diagnostic> {
    let Some(s) = service.as_map_mut() else {
        return Ok(());
    };
    let loc = Location::default();
    let take = |s: &mut Mapping, key: &str| {
        s.get_mut(key)
            .map(|v| std::mem::replace(v, Node::new(Value::Null, loc)))
    };
    if let Some(ports) = take(s, "ports")
        && let Some(slot) = s.get_mut("ports")
    {
        *slot = canonical::ports(ports)?;
    }
    if let Some(Node {
        value: Value::Seq(items),
        tag,
        loc,
    }) = take(s, "volumes")
    {
        let items = items
            .into_iter()
            .map(canonical::volume)
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(slot) = s.get_mut("volumes") {
            *slot = Node {
                value: Value::Seq(items),
                tag,
                loc,
            };
        }
    }
    if let Some(d) = take(s, "depends_on")
        && let Some(slot) = s.get_mut("depends_on")
    {
        *slot = canonical::depends_on(d);
    }
    if let Some(b) = take(s, "build")
        && let Some(slot) = s.get_mut("build")
    {
        *slot = canonical::build(b)?;
    }
    if let Some(n) = take(s, "networks")
        && let Some(slot) = s.get_mut("networks")
    {
        *slot = merge::list_to_mapping(n, None);
    }
    Ok(())
}
