//! One snapshot per kind of error a user can make, with the exact text they see: the code, the
//! message, `file:line:col`, the snippet and what to do. The codes are a public contract.

use std::path::{Path, PathBuf};

use cdb_core::compose::{ComposeOptions, load};
use cdb_core::config::ProjectConfig;
use cdb_core::source::SourceMap;

/// Loads the given in-memory files (the first is `-f`'d first) and renders the error.
fn compose_error(files: &[(&str, &str)], env: &[(&str, &str)], name: Option<&str>) -> String {
    let mut options = ComposeOptions {
        cwd: PathBuf::from("/project"),
        project_name: name.map(str::to_string),
        ..Default::default()
    };
    for (path, text) in files {
        let path = PathBuf::from("/project").join(path);
        // `.env` is read as the environment file; files under a folder are included ones.
        if !path.ends_with(".env") && !path.to_string_lossy().contains("/sub/") {
            options.files.push(path.clone());
        }
        if !text.is_empty() {
            options.contents.insert(path, text.to_string());
        }
    }
    for (k, v) in env {
        options.environment.insert(k.to_string(), v.to_string());
    }
    let mut sources = SourceMap::new();
    match load(&options, &mut sources) {
        Ok(_) => panic!("expected an error"),
        Err(d) => d.render(&sources),
    }
}

fn config_error(text: &str) -> String {
    let mut sources = SourceMap::new();
    match ProjectConfig::from_text(
        Path::new("/project/cdb.toml"),
        text.to_string(),
        &mut sources,
    ) {
        Ok(_) => panic!("expected an error"),
        Err(d) => d.render(&sources),
    }
}

#[test]
fn malformed_yaml() {
    insta::assert_snapshot!(compose_error(
        &[(
            "compose.yaml",
            "services:\n  app:\n    image: nginx\n   ports: [80]\n"
        )],
        &[],
        None
    ));
}

#[test]
fn duplicate_key() {
    insta::assert_snapshot!(compose_error(
        &[(
            "compose.yaml",
            "services:\n  app:\n    image: nginx\n    image: redis\n"
        )],
        &[],
        None
    ));
}

#[test]
fn unknown_service_attribute() {
    insta::assert_snapshot!(compose_error(
        &[("compose.yaml", "services:\n  app:\n    imagee: nginx\n")],
        &[],
        None
    ));
}

#[test]
fn wrong_type() {
    insta::assert_snapshot!(compose_error(
        &[(
            "compose.yaml",
            "services:\n  app:\n    image: nginx\n    ports: 80\n"
        )],
        &[],
        None
    ));
}

#[test]
fn missing_required_variable() {
    insta::assert_snapshot!(compose_error(
        &[(
            "compose.yaml",
            "services:\n  app:\n    image: \"registry/app:${TAG:?set TAG to the release to deploy}\"\n"
        )],
        &[],
        None
    ));
}

#[test]
fn invalid_interpolation() {
    insta::assert_snapshot!(compose_error(
        &[(
            "compose.yaml",
            "services:\n  app:\n    image: nginx\n    environment:\n      A: ${UNCLOSED\n"
        )],
        &[],
        None
    ));
}

#[test]
fn missing_file() {
    insta::assert_snapshot!(compose_error(&[("missing.yaml", "")], &[], None));
}

#[test]
fn circular_extends() {
    insta::assert_snapshot!(compose_error(
        &[(
            "compose.yaml",
            "services:\n  a:\n    image: x\n    extends: b\n  b:\n    extends: c\n  c:\n    extends: a\n"
        )],
        &[],
        None
    ));
}

#[test]
fn invalid_project_name() {
    insta::assert_snapshot!(compose_error(
        &[("compose.yaml", "services:\n  app:\n    image: nginx\n")],
        &[],
        Some("My Project!")
    ));
}

#[test]
fn network_mode_with_networks() {
    insta::assert_snapshot!(compose_error(
        &[(
            "compose.yaml",
            "services:\n  app:\n    image: nginx\n    network_mode: host\n    networks: [front]\nnetworks:\n  front: {}\n"
        )],
        &[],
        None
    ));
}

#[test]
fn undefined_dependency() {
    insta::assert_snapshot!(compose_error(
        &[(
            "compose.yaml",
            "services:\n  app:\n    image: nginx\n    depends_on: [db]\n"
        )],
        &[],
        None
    ));
}

#[test]
fn neither_image_nor_build() {
    insta::assert_snapshot!(compose_error(
        &[(
            "compose.yaml",
            "services:\n  app:\n    command: [sleep, '1']\n"
        )],
        &[],
        None
    ));
}

#[test]
fn toml_syntax() {
    insta::assert_snapshot!(config_error("[compose]\nfiles = [\"a.yml\"\n"));
}

#[test]
fn toml_unknown_key() {
    insta::assert_snapshot!(config_error(
        "[compose]\nfiles = [\"a.yml\"]\nprofile = [\"x\"]\n"
    ));
}

#[test]
fn toml_unknown_section() {
    insta::assert_snapshot!(config_error("[compose]\nfiles = []\n\n[securty]\n"));
}

#[test]
fn toml_wrong_type() {
    insta::assert_snapshot!(config_error("[compose]\nfiles = \"compose.yml\"\n"));
}

#[test]
fn dotenv_syntax() {
    insta::assert_snapshot!(compose_error(
        &[
            (
                "compose.yaml",
                "services:\n  app:\n    image: \"nginx:${TAG}\"\n"
            ),
            (".env", "TAG=1.27\nBAD KEY=1\n"),
        ],
        &[],
        None
    ));
}

/// The table of codes is a public contract: changing it must show up in review.
#[test]
fn diagnostic_codes_are_a_stable_contract() {
    let table: String = cdb_core::codes::ALL
        .iter()
        .map(|(code, meaning)| format!("{code:32} {meaning}\n"))
        .collect();
    insta::assert_snapshot!(table);
    let mut codes: Vec<&str> = cdb_core::codes::ALL.iter().map(|(c, _)| *c).collect();
    codes.sort_unstable();
    let before = codes.len();
    codes.dedup();
    assert_eq!(before, codes.len(), "a code is listed twice");
}

#[test]
fn dependency_cycle() {
    insta::assert_snapshot!(compose_error(
        &[(
            "compose.yaml",
            "services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n"
        )],
        &[],
        None
    ));
}

#[test]
fn include_conflict() {
    insta::assert_snapshot!(compose_error(
        &[
            (
                "compose.yaml",
                "include:\n  - sub/compose.yaml\nservices:\n  cache:\n    image: redis:7.4.6\n"
            ),
            (
                "sub/compose.yaml",
                "services:\n  cache:\n    image: redis:8.2\n"
            ),
        ],
        &[],
        None
    ));
}
