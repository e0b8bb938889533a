//! `cargo xtask audit-images`: the security gate over every image the stack uses.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use cdb_core::compose::ComposeOptions;
use cdb_core::config::ProjectConfig;
use cdb_core::diagnostic::Diagnostic;
use cdb_core::exit;
use cdb_core::source::SourceMap;
use cdb_security::audit::{self, AuditOptions};
use cdb_security::config::SecurityConfig;
use cdb_security::report::{self, Context, Format};
use cdb_security::{exceptions, fix, policy};
use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Human,
    Json,
    Markdown,
    Sarif,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExceptionsFormat {
    Markdown,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,
    /// Compose files (default: those of cdb.toml).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Accepted for symmetry with Compose; the audit covers the services of every profile.
    #[arg(long = "profile", value_name = "PROFILE")]
    profiles: Vec<String>,
    /// A scanner report (Trivy JSON, Grype JSON or SARIF), optionally mapped to an image: IMAGE=FILE.
    #[arg(long = "report", value_name = "[IMAGE=]FILE")]
    reports: Vec<String>,
    /// The version and end-of-life policy (default: `policy` of the `[security]` section of cdb.toml).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The exceptions file (default: `exceptions` of the `[security]` section of cdb.toml).
    #[arg(long, value_name = "FILE")]
    exceptions: Option<PathBuf>,
    /// The audit date, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: OutputFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// WARN fails too (exit 1).
    #[arg(long)]
    strict: bool,
    /// Rewrite the offending image values to the policy's recommendation.
    #[arg(long)]
    fix: bool,
    /// With --fix: print the diff, change nothing.
    #[arg(long, requires = "fix")]
    dry_run: bool,
    /// With --fix: pin `tag@sha256:…` from the local engine's RepoDigests.
    #[arg(long, requires = "fix")]
    pin_digest: bool,
    /// Record vulnerabilities seen for the first time in the first-seen state file.
    #[arg(long)]
    update_state: bool,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Write the exceptions page (docs/security/CVE_EXCEPTIONS.md).
    Exceptions {
        /// Output format.
        #[arg(long, value_enum, default_value = "markdown")]
        format: ExceptionsFormat,
        /// Where to write it (default: `exceptions_markdown` of the `[security]` section of cdb.toml).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The date the page's states are computed for (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
    },
}

fn fail(d: &Diagnostic, sources: &SourceMap) -> u8 {
    eprint!("{}", d.render(sources));
    exit::BAD_INPUT
}

fn parse_date(text: Option<&str>) -> Result<jiff::civil::Date, Diagnostic> {
    match text {
        None => Ok(jiff::ZonedDateTime::now()
            .with_time_zone(jiff::tz::TimeZone::UTC)
            .date()),
        Some(t) => t.parse().map_err(|e| {
            Diagnostic::error("audit::usage", format!("invalid --date {t:?}: {e}"))
                .with_help("write the date as YYYY-MM-DD")
        }),
    }
}

/// Writes `text` to `path` through a temporary file and a rename: never half-written. A
/// symlink is followed (its target is written) and an existing file keeps its permissions.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let path = &std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let permissions = std::fs::metadata(path).ok().map(|m| m.permissions());
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.cdb-tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    std::fs::write(&tmp, text)?;
    if let Some(permissions) = permissions {
        std::fs::set_permissions(&tmp, permissions)?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

pub fn run(args: AuditArgs) -> u8 {
    let mut sources = SourceMap::new();
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot read the current directory: {e}");
            return exit::ENVIRONMENT;
        }
    };
    let config = match ProjectConfig::discover(&cwd, &mut sources) {
        Ok(c) => c,
        Err(d) => return fail(&d, &sources),
    };
    let security: SecurityConfig = match config.section("security") {
        Ok(s) => s,
        Err(d) => return fail(&d, &sources),
    };
    let root = config.root.clone();
    let from_root = |p: &Path| root.join(p);

    if let Some(AuditCommand::Exceptions {
        format: _,
        output,
        date,
    }) = &args.command
    {
        let date = match parse_date(date.as_deref()) {
            Ok(d) => d,
            Err(d) => return fail(&d, &sources),
        };
        let options = base_options(&args, &security, &config, &cwd, date, &from_root);
        let all = match audit::load_all_exceptions(&options, &mut sources) {
            Ok(a) => a,
            Err(d) => return fail(&d, &sources),
        };
        let page = exceptions::exceptions_markdown(&all, date);
        let target = output
            .clone()
            .map(|o| cwd.join(o))
            .unwrap_or_else(|| from_root(&security.exceptions_markdown));
        if let Err(e) = write_atomically(&target, &page) {
            eprintln!("error: cannot write {}: {e}", target.display());
            return exit::BAD_INPUT;
        }
        eprintln!("wrote {} ({} exceptions)", target.display(), all.len());
        return exit::SUCCESS;
    }

    let date = match parse_date(args.date.as_deref()) {
        Ok(d) => d,
        Err(d) => return fail(&d, &sources),
    };
    let options = base_options(&args, &security, &config, &cwd, date, &from_root);
    let result = match audit::run(&options, &mut sources) {
        Ok(r) => r,
        Err(d) => return fail(&d, &sources),
    };

    if args.update_state && !result.unseen.is_empty() {
        let path = from_root(&security.first_seen);
        let mut state = match std::fs::read_to_string(&path) {
            Ok(text) => match exceptions::FirstSeen::load(&path, &text, &mut sources) {
                Ok(s) => s,
                Err(d) => return fail(&d, &sources),
            },
            Err(_) => exceptions::FirstSeen::default(),
        };
        for (id, package, image) in &result.unseen {
            state.record(id, package, image, date);
        }
        if let Err(e) = write_atomically(&path, &state.to_toml()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return exit::BAD_INPUT;
        }
        eprintln!(
            "recorded {} first-seen entries in {}",
            result.unseen.len(),
            path.display()
        );
    }

    if args.fix {
        let policy = &result.policy;
        let digests = if args.pin_digest {
            local_digests(&result.images, policy)
        } else {
            BTreeMap::new()
        };
        let plan = fix::plan(
            &result.images,
            &result.findings,
            policy,
            &digests,
            args.pin_digest,
            &sources,
        );
        for (image, why) in &plan.skipped {
            eprintln!("not fixed: {image}: {why}");
        }
        // The fix leaves the gate failing when a blocking pin or policy finding is not fixed.
        let fixed: Vec<&str> = plan.edits.iter().map(|e| e.from.as_str()).collect();
        let still_blocking = result.findings.iter().any(|f| {
            f.level == cdb_security::model::Level::Block
                && f.vulnerability.is_none()
                && (f.code.starts_with("pin::") || f.code.starts_with("policy::"))
                && !fixed.contains(&f.image.as_str())
        });
        for (path, (old, new)) in fix::apply(&plan, &sources) {
            if args.dry_run {
                print!("{}", fix::unified_diff(&path, &root, &old, &new));
            } else if let Err(e) = write_atomically(&path, &new) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return exit::BAD_INPUT;
            } else {
                eprintln!("fixed {}", path.display());
            }
        }
        if still_blocking {
            eprintln!("audit-images: blocking findings remain that --fix cannot fix (see above)");
            return exit::GATE_FAILED;
        }
        return exit::SUCCESS;
    }

    let format = match args.format {
        OutputFormat::Human => Format::Human,
        OutputFormat::Json => Format::Json,
        OutputFormat::Markdown => Format::Markdown,
        OutputFormat::Sarif => Format::Sarif,
    };
    let color = args.output.is_none()
        && format == Format::Human
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let ctx = Context {
        sources: &sources,
        root: &root,
        color,
    };
    let text = report::render(&result, format, &ctx);
    match &args.output {
        Some(path) => {
            if let Err(e) = write_atomically(&cwd.join(path), &text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return exit::BAD_INPUT;
            }
            eprintln!(
                "audit-images: {} — report written to {}",
                result.verdict,
                path.display()
            );
        }
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    if result.verdict.fails(args.strict) {
        exit::GATE_FAILED
    } else {
        exit::SUCCESS
    }
}

fn base_options(
    args: &AuditArgs,
    security: &SecurityConfig,
    config: &ProjectConfig,
    cwd: &Path,
    date: jiff::civil::Date,
    from_root: &dyn Fn(&Path) -> PathBuf,
) -> AuditOptions {
    let mut compose = ComposeOptions::in_dir(cwd);
    // -f, else the stack of cdb.toml, else (no cdb.toml) Compose's own file discovery.
    compose.files = if !args.files.is_empty() {
        args.files.clone()
    } else if config.path.is_some() {
        config.compose_files()
    } else {
        Vec::new()
    };
    compose.profiles = args.profiles.clone();
    let mut reports: Vec<(Option<String>, PathBuf)> = security
        .reports
        .iter()
        .map(|r| (None, from_root(r)))
        .collect();
    for spec in &args.reports {
        // IMAGE=FILE, where IMAGE is anything before the last `=` that is not part of a path.
        match spec.rsplit_once('=') {
            Some((image, file)) if !image.is_empty() && !file.is_empty() => {
                reports.push((Some(image.to_string()), cwd.join(file)))
            }
            _ => reports.push((None, cwd.join(spec))),
        }
    }
    AuditOptions {
        root: config.root.clone(),
        compose,
        reports,
        policy: args
            .policy
            .as_ref()
            .map_or_else(|| from_root(&security.policy), |p| cwd.join(p)),
        exceptions: args
            .exceptions
            .as_ref()
            .map_or_else(|| from_root(&security.exceptions), |p| cwd.join(p)),
        first_seen: from_root(&security.first_seen),
        openvex: security.openvex.iter().map(|p| from_root(p)).collect(),
        trivyignore: security.trivyignore.iter().map(|p| from_root(p)).collect(),
        exceptions_markdown: Some(from_root(&security.exceptions_markdown)),
        date,
        high_block_after_days: security.high_block_after_days,
        levels: security.levels.clone(),
    }
}

/// `sha256:…` digests the local engine knows for the references the fix would write.
fn local_digests(
    images: &[cdb_security::model::ImageUse],
    policy: &policy::Policy,
) -> BTreeMap<String, String> {
    let mut wanted: Vec<String> = Vec::new();
    for image in images {
        wanted.push(image.reference.clone());
        if let Ok(parsed) = &image.parsed
            && let Some(r) = policy.recommended_for(parsed)
        {
            wanted.push(r.to_string());
        }
    }
    wanted.sort();
    wanted.dedup();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(_) => return BTreeMap::new(),
    };
    runtime.block_on(async {
        let mut out = BTreeMap::new();
        let Ok(docker) = bollard::Docker::connect_with_local_defaults() else {
            eprintln!("warning: no Docker engine: --pin-digest pins nothing");
            return out;
        };
        let Ok(docker) = docker.negotiate_version().await else {
            eprintln!("warning: the Docker engine does not answer: --pin-digest pins nothing");
            return out;
        };
        for reference in wanted {
            if let Ok(inspect) = docker.inspect_image(&reference).await
                && let Some(digest) = inspect
                    .repo_digests
                    .unwrap_or_default()
                    .iter()
                    .find_map(|d| d.split_once('@').map(|(_, h)| h.to_string()))
            {
                out.insert(reference, digest);
            }
        }
        out
    })
}
