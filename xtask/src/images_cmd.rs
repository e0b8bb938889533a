//! `cargo xtask images`: provide every image of the stack (all profiles) on this machine — build
//! the service image, use or pull third-party images, or build offline stand-ins (cdb-stack).

use std::time::Duration;

use cdb_core::compose::{ComposeOptions, load};
use cdb_core::exit;
use cdb_core::source::SourceMap;
use cdb_stack::images::{ImagesOptions, Outcome, Progress};
use cdb_stack::{Docker, ErrorKind, ImagesConfig, PullPolicy};
use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PullArg {
    Auto,
    Never,
    Always,
}

#[derive(Debug, Args, Default)]
pub struct ImagesArgs {
    /// Rebuild the images cdb builds (the service image and the stand-ins) even when present.
    #[arg(long)]
    rebuild: bool,
    /// When to ask a registry for third-party images (default: `pull` of `[images]` in cdb.toml).
    #[arg(long, value_enum)]
    pull: Option<PullArg>,
}

/// The exit code for an error of cdb-stack.
pub fn code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Environment => exit::ENVIRONMENT,
        ErrorKind::Input => exit::BAD_INPUT,
        ErrorKind::Failed => exit::GATE_FAILED,
    }
}

pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

pub fn run(args: ImagesArgs) -> u8 {
    let loaded = or_exit!(crate::project::load());
    let images = or_exit!(loaded.section(ImagesConfig::from_project));
    let config = &loaded.config;
    // Every profile: the monitoring services' images are provided too.
    let mut options = ComposeOptions::in_dir(&config.root);
    options.files = config.compose_files();
    options.project_directory = config
        .compose
        .project_directory
        .as_ref()
        .map(|d| config.root.join(d));
    options.all_profiles = true;
    let mut sources = SourceMap::new();
    let resolved = match load(&options, &mut sources) {
        Ok(l) => l,
        Err(d) => {
            eprint!("{}", d.render(&sources));
            return exit::BAD_INPUT;
        }
    };
    let needs = cdb_stack::plan::plan(&resolved.project, &sources, &images);
    let files: Vec<String> = config
        .compose
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    eprintln!(
        "== images of {} (all profiles): {} to provide",
        files.join(", "),
        needs.len()
    );
    let progress = |p: &Progress<'_>| match p {
        Progress::Started { image, action } => eprintln!("   … {image}: {action}"),
        Progress::Finished(step) => eprintln!(
            "   ✓ {}: {} ({}){}",
            step.image,
            step.action,
            secs(step.duration),
            step.detail
                .as_deref()
                .map(|d| format!(" — {d}"))
                .unwrap_or_default()
        ),
    };
    let run_options = ImagesOptions {
        rebuild: args.rebuild,
        pull: args.pull.map(|p| match p {
            PullArg::Auto => PullPolicy::Auto,
            PullArg::Never => PullPolicy::Never,
            PullArg::Always => PullPolicy::Always,
        }),
    };
    let report = match cdb_stack::provide(
        &config.root,
        &images,
        &needs,
        &Docker::new(),
        &run_options,
        &progress,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return code(e.kind());
        }
    };

    println!();
    for image in &report.images {
        let need = &image.need;
        let profiles = if need.in_default_profile {
            String::new()
        } else {
            " [profile]".into()
        };
        let uses = match (&image.outcome, &need.variable) {
            (Outcome::StandinBuilt(tag) | Outcome::StandinPresent(tag), Some(var)) => {
                format!("Compose runs {tag} (via {var})")
            }
            (Outcome::Present | Outcome::Pulled | Outcome::Built, _) => {
                format!("Compose runs {}", need.resolved)
            }
            _ => "Compose cannot run it here".into(),
        };
        let label = match &image.outcome {
            Outcome::Unavailable(_) => "UNAVAILABLE".to_string(),
            Outcome::Failed(_) => "FAILED".to_string(),
            other => other.label(),
        };
        println!("{:<28} {label}  [{}]", need.resolved, secs(image.duration));
        println!(
            "    services: {}{profiles}; {uses}",
            need.services.join(", ")
        );
        if let Outcome::Unavailable(why) = &image.outcome {
            println!("    {why}");
        }
        if let Outcome::Failed(e) = &image.outcome {
            println!("    {e}");
        }
        if let Some(note) = &image.note {
            println!("    note: {note}");
        }
    }
    println!("total {}", secs(report.total));

    if let Some(failed) = report.failed().next() {
        if let Outcome::Failed(e) = &failed.outcome {
            return code(e.kind());
        }
        return exit::GATE_FAILED;
    }
    if report.unavailable(true).next().is_some() {
        eprintln!("error: the default stack cannot start here: an image it needs is unavailable");
        return exit::ENVIRONMENT;
    }
    if report.unavailable(false).next().is_some() {
        eprintln!(
            "warning: some services of non-default profiles have no image on this machine (see above); the default stack can start"
        );
    }
    exit::SUCCESS
}
