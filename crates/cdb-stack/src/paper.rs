//! The service image built from this workspace (`cdb/paper:0.1.0`): one static glibc binary in a
//! `FROM scratch` image. Static, because scratch has no libc; glibc (not musl), because the
//! toolchain here has only the gnu target, and since glibc 2.34 its DNS resolver is inside libc,
//! so container names resolve with no NSS modules (docs/research/offline-images/FINDINGS.md).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::config::ImagesConfig;
use crate::docker::{Docker, LABEL_SOURCE};
use crate::errors::{Error, Result};
use crate::process;
use crate::standin::Record;
use crate::workdir::WorkDir;

/// The rustc flag that links the C runtime statically.
const CRT_STATIC: &str = "-C target-feature=+crt-static";

/// The environment `cargo build` needs for a static binary, given the current environment's
/// RUSTFLAGS variables. `RUSTFLAGS`/`CARGO_ENCODED_RUSTFLAGS` win over the per-target variable
/// in cargo, so when one is set the flag is added to it instead of being ignored.
pub fn static_build_env(
    target: &str,
    get: impl Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let mut env = vec![("CARGO_PROFILE_RELEASE_STRIP".into(), "symbols".into())];
    if let Some(encoded) = get("CARGO_ENCODED_RUSTFLAGS").filter(|v| !v.is_empty()) {
        let extra = CRT_STATIC.replace(' ', "\u{1f}");
        env.push((
            "CARGO_ENCODED_RUSTFLAGS".into(),
            format!("{encoded}\u{1f}{extra}"),
        ));
    } else if let Some(flags) = get("RUSTFLAGS").filter(|v| !v.trim().is_empty()) {
        env.push(("RUSTFLAGS".into(), format!("{flags} {CRT_STATIC}")));
    } else {
        let var = format!(
            "CARGO_TARGET_{}_RUSTFLAGS",
            target.to_ascii_uppercase().replace(['-', '.'], "_")
        );
        let value = match get(&var).filter(|v| !v.trim().is_empty()) {
            Some(existing) => format!("{existing} {CRT_STATIC}"),
            None => CRT_STATIC.to_string(),
        };
        env.push((var, value));
    }
    env
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    target: Option<MessageTarget>,
    #[serde(default)]
    executable: Option<PathBuf>,
}

#[derive(Deserialize)]
struct MessageTarget {
    name: String,
}

/// The executable of binary `name` in cargo's `--message-format=json` output.
pub fn executable_from_messages(stdout: &str, name: &str) -> Option<PathBuf> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Message>(line).ok())
        .filter(|m| m.reason == "compiler-artifact")
        .filter(|m| m.target.as_ref().is_some_and(|t| t.name == name))
        .find_map(|m| m.executable)
}

/// Whether an ELF file asks for a dynamic loader (has a `PT_INTERP` program header): such a
/// binary cannot start in `FROM scratch`. `None` when it is not a 64-bit little-endian ELF.
pub fn elf_needs_interpreter(bytes: &[u8]) -> Option<bool> {
    if bytes.get(..4)? != b"\x7fELF" || *bytes.get(4)? != 2 || *bytes.get(5)? != 1 {
        return None;
    }
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |o: usize| {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        bytes
            .get(o..o + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes)
    };
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    for i in 0..phnum {
        const PT_INTERP: u32 = 3;
        if u32_at(phoff + i * phentsize)? == PT_INTERP {
            return Some(true);
        }
    }
    Some(false)
}

/// The label that carries [`source_fingerprint`] on the service image.
pub const LABEL_FINGERPRINT: &str = "dev.cdb.source-fingerprint";

/// A fingerprint of everything the service image is built from: the workspace's `Cargo.toml`
/// and `Cargo.lock`, every file of `crates/<paper_package>/` and the image's folder. The image
/// carries it as a label; a present image whose label differs is stale and rebuilt, so that
/// `cargo xtask images` (and the test command) never runs yesterday's services.
///
/// `None` when `root` holds no `crates/<paper_package>/`: a project that only runs the stack
/// (a copy of `compose/` and a `cdb.toml`) has nothing to build the image from, so a present
/// image is used as it is rather than judged stale.
pub fn source_fingerprint(root: &Path, config: &ImagesConfig) -> Option<String> {
    if !root.join("crates").join(&config.paper_package).is_dir() {
        return None;
    }
    let mut files = vec![root.join("Cargo.toml"), root.join("Cargo.lock")];
    for dir in [
        root.join("crates").join(&config.paper_package),
        config.image_dir(root, "paper"),
    ] {
        collect_files(&dir, &mut files);
    }
    files.sort();
    // FNV-1a, 64 bits: stable across Rust releases (unlike the std hasher), plenty for a
    // cache key.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for f in &files {
        let relative = f.strip_prefix(root).unwrap_or(f);
        eat(relative.to_string_lossy().as_bytes());
        eat(&[0]);
        eat(&std::fs::read(f).unwrap_or_default());
        eat(&[0]);
    }
    Some(format!("{hash:016x}"))
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        // Build output and editor droppings are not sources.
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Builds the static binary, then the image `tag`, then checks the binary runs in it.
pub(crate) fn build(
    root: &Path,
    config: &ImagesConfig,
    docker: &Docker,
    tag: &str,
    record: &mut Record<'_>,
) -> Result<()> {
    let dockerfile = config.image_dir(root, "paper").join("Dockerfile");
    let dockerfile_text = std::fs::read_to_string(&dockerfile)
        .map_err(|e| Error::io("reading the service image's Dockerfile", &dockerfile, e))?;

    let start = Instant::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--release", "--target", &config.paper_target])
        .args(["-p", &config.paper_package, "--bin", &config.paper_binary])
        .arg("--message-format=json-render-diagnostics");
    for (k, v) in static_build_env(&config.paper_target, |k| std::env::var(k).ok()) {
        cmd.env(k, v);
    }
    let out = process::run_ok(
        &mut cmd,
        &format!("building {} (static)", config.paper_binary),
    )?;
    let binary = executable_from_messages(&out.stdout, &config.paper_binary).ok_or_else(|| {
        Error::Parse {
            command: process::display(&cmd),
            detail: format!(
                "no executable `{}` in cargo's messages",
                config.paper_binary
            ),
        }
    })?;
    let bytes = std::fs::read(&binary).map_err(|e| Error::io("reading", &binary, e))?;
    if elf_needs_interpreter(&bytes) != Some(false) {
        return Err(Error::Check {
            image: tag.into(),
            detail: format!(
                "{} is not a static x86-64 ELF binary (it needs a dynamic loader, which scratch lacks)",
                binary.display()
            ),
        });
    }
    record(
        tag,
        "cargo build (static, stripped)",
        start.elapsed(),
        Some(format!("{:.1} MB", bytes.len() as f64 / 1e6)),
    );

    // The build context holds only the binary and the Dockerfile.
    let start = Instant::now();
    let base = std::env::temp_dir();
    let context = WorkDir::new(&base, "cdb-paper-context")?;
    let copy = context.path().join(&config.paper_binary);
    std::fs::write(&copy, &bytes).map_err(|e| Error::io("writing", &copy, e))?;
    set_executable(&copy)?;
    let docker_file = context.path().join("Dockerfile");
    std::fs::write(&docker_file, dockerfile_text)
        .map_err(|e| Error::io("writing", &docker_file, e))?;
    let version = tag.rsplit_once(':').map_or("", |(_, t)| t);
    let mut build = docker.command();
    build
        .args(["build", "--force-rm", "--pull=false", "--tag", tag])
        .args(["--build-arg", &format!("BINARY={}", config.paper_binary)]);
    let labels = [
        (LABEL_SOURCE, env!("CARGO_PKG_REPOSITORY").to_string()),
        (
            "org.opencontainers.image.title",
            config.paper_package.clone(),
        ),
        ("org.opencontainers.image.version", version.to_string()),
        ("dev.cdb.built-by", "cargo xtask images".to_string()),
        (
            LABEL_FINGERPRINT,
            source_fingerprint(root, config).unwrap_or_default(),
        ),
    ];
    for (k, v) in &labels {
        build.args(["--label", &format!("{k}={v}")]);
    }
    build.arg(context.path());
    let previous = docker
        .run_ok(
            &["image", "inspect", "--format", "{{.Id}}", tag],
            "inspecting the image",
        )
        .map(|out| out.stdout.trim().to_string())
        .ok();
    process::run_ok(&mut build, &format!("building the image {tag}"))?;
    drop(context);
    // The image this build replaced is left without a tag: remove it, unless a container
    // still uses it (the engine refuses then, and that is fine).
    let current = docker
        .run_ok(
            &["image", "inspect", "--format", "{{.Id}}", tag],
            "inspecting the image",
        )
        .map(|out| out.stdout.trim().to_string())
        .unwrap_or_default();
    if let Some(previous) = previous.filter(|p| !p.is_empty() && *p != current) {
        // Not --force: an image a container still uses stays.
        let _ = docker.run_ok(&["image", "rm", &previous], "removing the replaced image");
    }
    record(tag, "docker build", start.elapsed(), None);

    let start = Instant::now();
    let mut check = docker.command();
    check
        .args(["run", "--rm", "--network", "none", tag])
        .args(&config.paper_check);
    let out = process::run_with_timeout(&mut check, Some(Duration::from_secs(60)))?;
    let code = out.as_ref().and_then(|c| c.status.code());
    match (code, &out) {
        // 125: docker could not run it; 126: not executable; 127: not found; a signal: crashed.
        (Some(c), _) if c < 125 => {
            record(
                tag,
                "check (binary runs in the image)",
                start.elapsed(),
                Some(format!(
                    "`{}` exited with {c}",
                    config.paper_check.join(" ")
                )),
            );
            Ok(())
        }
        _ => {
            docker.remove_image(tag);
            Err(Error::Check {
                image: tag.into(),
                detail: match out {
                    Some(c) => format!(
                        "`docker run … {}` {}: {}",
                        config.paper_check.join(" "),
                        process::describe(c.status),
                        process::tail(&c.combined())
                    ),
                    None => "the check did not finish within 60 s".into(),
                },
            })
        }
    }
}

fn set_executable(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io("making executable", path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_without_the_service_sources_has_no_fingerprint() {
        // Regression: a project holding only compose/ and cdb.toml judged the present image
        // stale and tried to build it with cargo, which failed.
        let config = ImagesConfig::default();
        let dir = std::env::temp_dir().join(format!("cdb-fingerprint-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        assert_eq!(source_fingerprint(&dir, &config), None);

        let sources = dir.join("crates").join(&config.paper_package).join("src");
        std::fs::create_dir_all(&sources).expect("sources");
        std::fs::write(sources.join("main.rs"), "fn main() {}").expect("write");
        let first = source_fingerprint(&dir, &config).expect("sources are here");
        std::fs::write(sources.join("main.rs"), "fn main() { }").expect("write");
        let second = source_fingerprint(&dir, &config).expect("sources are here");
        assert_ne!(first, second, "a changed source changes the fingerprint");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn crt_static_goes_where_cargo_reads_it() {
        let none = |_: &str| None;
        let env = static_build_env("x86_64-unknown-linux-gnu", none);
        assert!(env.contains(&(
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS".into(),
            CRT_STATIC.into()
        )));
        assert!(env.contains(&("CARGO_PROFILE_RELEASE_STRIP".into(), "symbols".into())));

        let rustflags = |k: &str| (k == "RUSTFLAGS").then(|| "-D warnings".to_string());
        let env = static_build_env("x86_64-unknown-linux-gnu", rustflags);
        assert!(env.contains(&("RUSTFLAGS".into(), format!("-D warnings {CRT_STATIC}"))));
        assert_eq!(env.len(), 2);

        let encoded = |k: &str| (k == "CARGO_ENCODED_RUSTFLAGS").then(|| "-Dwarnings".to_string());
        let env = static_build_env("x86_64-unknown-linux-gnu", encoded);
        assert!(env.contains(&(
            "CARGO_ENCODED_RUSTFLAGS".into(),
            "-Dwarnings\u{1f}-C\u{1f}target-feature=+crt-static".into()
        )));
    }

    #[test]
    fn the_executable_is_found_in_cargo_messages() {
        let stdout = r#"{"reason":"compiler-artifact","target":{"name":"tokio","kind":["lib"]},"executable":null}
{"reason":"compiler-artifact","target":{"name":"cdb-paper","kind":["bin"]},"executable":"/t/release/cdb-paper"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable_from_messages(stdout, "cdb-paper"),
            Some(PathBuf::from("/t/release/cdb-paper"))
        );
        assert_eq!(executable_from_messages(stdout, "other"), None);
    }

    #[test]
    fn dynamic_and_static_elf_files() {
        // This test binary is dynamically linked (the default for the gnu target).
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(elf_needs_interpreter(&me), Some(true));
        assert_eq!(elf_needs_interpreter(b"#!/bin/sh\n"), None);
        // A minimal ELF64 header with no program headers.
        let mut header = vec![0u8; 64];
        header[..6].copy_from_slice(b"\x7fELF\x02\x01");
        assert_eq!(elf_needs_interpreter(&header), Some(false));
    }
}
