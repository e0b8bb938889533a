//! `cargo xtask compose config`: print the resolved project, as `docker compose config` does.

use std::io::Write;
use std::path::PathBuf;

use cdb_core::compose::{ComposeOptions, load};
use cdb_core::config::ProjectConfig;
use cdb_core::exit;
use cdb_core::source::SourceMap;
use clap::{Args, Subcommand, ValueEnum};

/// `cargo xtask compose [global flags] <command>`: the global flags are `docker compose`'s and
/// may stand before or after the command.
#[derive(Debug, Args)]
pub struct ComposeArgs {
    #[command(flatten)]
    project: ProjectArgs,
    #[command(subcommand)]
    command: ComposeCommand,
}

#[derive(Debug, Subcommand)]
enum ComposeCommand {
    /// Print the resolved Compose project (same arguments as `docker compose config`).
    Config(ConfigArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

/// `config`'s own flags.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "yaml")]
    format: Format,
}

/// The global flags of `docker compose` that shape the project.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// Alternate working directory (default: the folder of the first Compose file).
    #[arg(long, value_name = "DIR", global = true)]
    project_directory: Option<PathBuf>,
    /// Compose configuration files, in merge order.
    #[arg(short = 'f', long = "file", value_name = "FILE", global = true)]
    files: Vec<PathBuf>,
    /// Project name.
    #[arg(short = 'p', long = "project-name", value_name = "NAME", global = true)]
    project_name: Option<String>,
    /// Profiles to enable.
    #[arg(long = "profile", value_name = "PROFILE", global = true)]
    profiles: Vec<String>,
    /// Alternate environment files.
    #[arg(long = "env-file", value_name = "FILE", global = true)]
    env_files: Vec<PathBuf>,
    /// Include the services of every profile (cdb's addition).
    #[arg(long, global = true)]
    all_profiles: bool,
}

pub fn run(args: ComposeArgs) -> u8 {
    match args.command {
        ComposeCommand::Config(c) => config(args.project, c),
    }
}

fn config(args: ProjectArgs, config: ConfigArgs) -> u8 {
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot read the current directory: {e}");
            return exit::ENVIRONMENT;
        }
    };
    let mut options = ComposeOptions::in_dir(cwd);
    options.project_directory = args.project_directory;
    options.files = args.files;
    options.project_name = args.project_name;
    options.profiles = args.profiles;
    options.env_files = args.env_files;
    options.all_profiles = args.all_profiles;
    let mut sources = SourceMap::new();
    let mut result = load(&options, &mut sources);
    // Where Compose would find no file at all, fall back to the stack of cdb.toml.
    if let Err(d) = &result
        && d.code == cdb_core::compose::loader::NO_FILE
    {
        match ProjectConfig::discover(&options.cwd, &mut sources) {
            Ok(config) if config.path.is_some() => {
                options.files = config.compose_files();
                if options.profiles.is_empty() {
                    options.profiles = config.compose.profiles.clone();
                }
                if options.project_directory.is_none() {
                    options.project_directory = config
                        .compose
                        .project_directory
                        .as_ref()
                        .map(|d| config.root.join(d));
                }
                result = load(&options, &mut sources);
            }
            Ok(_) => {}
            Err(config_error) => result = Err(config_error),
        }
    }
    match result {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                eprint!("{}", warning.render(&sources));
            }
            let json = loaded.project.to_compose_json();
            let text = match config.format {
                Format::Json => serde_json::to_string_pretty(&json).unwrap_or_default() + "\n",
                Format::Yaml => cdb_core::yaml_out::to_yaml(&json),
            };
            let mut stdout = std::io::stdout().lock();
            if stdout.write_all(text.as_bytes()).is_err() {
                return exit::ENVIRONMENT;
            }
            exit::SUCCESS
        }
        Err(diagnostic) => {
            eprint!("{}", diagnostic.render(&sources));
            exit::BAD_INPUT
        }
    }
}
