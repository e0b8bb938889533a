//! Offline stand-ins for third-party images, built from Debian packages when no registry can be
//! reached: debootstrap into a folder, `docker import` it once, then a thin Dockerfile per
//! stand-in on top (`docker import --change` cannot set STOPSIGNAL on Engine 20.10, and the
//! entrypoints need files). The entrypoints honour the official images' environment, so the
//! Compose file runs unchanged; the build folders are `compose/images/<name>/`.
//!
//! A stand-in is never tagged with an upstream name: its tag says what it is
//! (`cdb-offline/redis:7.0-bookworm`, from the Debian package's version) and Compose is pointed
//! at it through the image's `${CDB_*_IMAGE}` variable. Stand-ins are found again by label.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cdb_core::image::ImageRef;

use crate::config::ImagesConfig;
use crate::docker::{Docker, LABEL_SOURCE, LABEL_STANDIN, LABEL_STANDIN_FOR, LABEL_STANDIN_SUITE};
use crate::errors::{Error, Result};
use crate::process;
use crate::workdir::WorkDir;

/// A third-party image this crate can stand in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StandinKind {
    /// `postgres` (Debian's `postgresql`).
    Postgres,
    /// `redis` (Debian's `redis-server`).
    Redis,
    /// `prom/prometheus` (Debian's `prometheus`).
    Prometheus,
}

impl StandinKind {
    /// Every kind.
    pub const ALL: [StandinKind; 3] = [
        StandinKind::Postgres,
        StandinKind::Redis,
        StandinKind::Prometheus,
    ];

    /// The kind that stands in for `image`, by repository. `grafana/grafana` has none: Debian
    /// does not package Grafana.
    pub fn for_upstream(image: &ImageRef) -> Option<Self> {
        if !image.is_docker_hub() {
            return None;
        }
        match image.path() {
            "library/postgres" => Some(StandinKind::Postgres),
            "library/redis" => Some(StandinKind::Redis),
            "prom/prometheus" => Some(StandinKind::Prometheus),
            _ => None,
        }
    }

    /// The short name: the build folder, the tag's repository and the label value.
    pub fn name(self) -> &'static str {
        match self {
            StandinKind::Postgres => "postgres",
            StandinKind::Redis => "redis",
            StandinKind::Prometheus => "prometheus",
        }
    }

    /// The Debian packages to install (their dependencies come along).
    pub fn packages(self) -> &'static [&'static str] {
        match self {
            StandinKind::Postgres => &["postgresql"],
            StandinKind::Redis => &["redis-server"],
            // The healthcheck of the Compose file runs wget, as in prom/prometheus (busybox).
            StandinKind::Prometheus => &["prometheus", "wget"],
        }
    }

    /// Whether `package` is the one whose version names the stand-in.
    fn is_versioned_package(self, package: &str) -> bool {
        match self {
            // The server of the suite's major version: postgresql-15 (not -client-15, -common).
            StandinKind::Postgres => package
                .strip_prefix("postgresql-")
                .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit())),
            StandinKind::Redis => package == "redis-server",
            StandinKind::Prometheus => package == "prometheus",
        }
    }

    /// The version part of the tag: PostgreSQL's major (`15`), else major.minor (`7.0`).
    pub fn tag_version(self, upstream_version: &str) -> String {
        let parts: Vec<&str> = upstream_version.split('.').collect();
        let keep = match self {
            StandinKind::Postgres => 1,
            _ => 2,
        };
        parts[..keep.min(parts.len())].join(".")
    }

    /// Shell commands run in the built image to check it has what the official image offers.
    fn check_script(self) -> &'static str {
        match self {
            StandinKind::Postgres => {
                "postgres --version && pg_isready --version && psql --version && initdb --version"
            }
            StandinKind::Redis => "redis-server --version && redis-cli --version",
            StandinKind::Prometheus => {
                "prometheus --version && promtool --version && wget --version | head -n 1"
            }
        }
    }
}

/// The upstream version of a Debian version: no epoch, no Debian revision
/// (`5:7.0.15-1~deb12u4` → `7.0.15`, `2.42.0+ds-5` → `2.42.0`).
pub fn upstream_version(debian_version: &str) -> &str {
    let v = debian_version
        .split_once(':')
        .map_or(debian_version, |(_, v)| v);
    let end = v.find(['-', '+', '~']).unwrap_or(v.len());
    &v[..end]
}

/// A built stand-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltStandin {
    /// What it stands in for.
    pub kind: StandinKind,
    /// Its tag.
    pub tag: String,
    /// The Debian package and version it was made of.
    pub package: String,
}

/// A timed step (see [`crate::images::Step`]); reported through `record`.
pub(crate) type Record<'a> = dyn FnMut(&str, &str, Duration, Option<String>) + Send + 'a;

/// The Debian mirror: `[images] mirror`, else the one apt uses on this machine.
pub fn mirror(config: &ImagesConfig) -> Result<String> {
    if let Some(m) = &config.mirror {
        return Ok(m.clone());
    }
    let mut searched = Vec::new();
    let mut texts = Vec::new();
    let dir = Path::new("/etc/apt/sources.list.d");
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        texts.extend(
            paths
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "sources" || e == "list")),
        );
    }
    texts.push(PathBuf::from("/etc/apt/sources.list"));
    let mut sources = Vec::new();
    for path in texts {
        searched.push(path.display().to_string());
        if let Ok(text) = std::fs::read_to_string(&path) {
            let deb822 = path.extension().is_some_and(|e| e == "sources");
            sources.push((deb822, text));
        }
    }
    mirror_from_sources(&sources, &config.suite).ok_or_else(|| Error::NoMirror {
        suite: config.suite.clone(),
        searched: searched.join(", "),
    })
}

/// The URI of the `deb` entry for `suite` in apt sources (`(is_deb822, text)`), else of the
/// first `deb` entry for a plain suite (no `-updates`/`-security`): the same archive serves
/// every suite.
pub fn mirror_from_sources(sources: &[(bool, String)], suite: &str) -> Option<String> {
    let mut entries: Vec<(String, Vec<String>)> = Vec::new();
    for (deb822, text) in sources {
        if *deb822 {
            for stanza in text.split("\n\n") {
                let mut types = "";
                let mut uris = "";
                let mut suites = "";
                let mut enabled = true;
                for line in stanza.lines() {
                    if let Some((key, value)) = line.split_once(':') {
                        match key.trim().to_ascii_lowercase().as_str() {
                            "types" => types = value.trim(),
                            "uris" => uris = value.trim(),
                            "suites" => suites = value.trim(),
                            "enabled" => enabled = value.trim() != "no",
                            _ => {}
                        }
                    }
                }
                if enabled
                    && types.split_whitespace().any(|t| t == "deb")
                    && let Some(uri) = uris.split_whitespace().next()
                {
                    entries.push((
                        uri.to_string(),
                        suites.split_whitespace().map(str::to_string).collect(),
                    ));
                }
            }
        } else {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                let mut words = line.split_whitespace();
                if words.next() != Some("deb") {
                    continue;
                }
                let mut rest: Vec<&str> = words.collect();
                if rest.first().is_some_and(|w| w.starts_with('[')) {
                    let close = rest.iter().position(|w| w.ends_with(']')).unwrap_or(0);
                    rest.drain(..=close);
                }
                if let [uri, suite, ..] = rest.as_slice() {
                    entries.push((uri.to_string(), vec![suite.to_string()]));
                }
            }
        }
    }
    entries
        .iter()
        .find(|(_, suites)| suites.iter().any(|s| s == suite))
        .or_else(|| {
            entries
                .iter()
                .find(|(_, suites)| suites.iter().any(|s| !s.contains(['-', '/'])))
        })
        .map(|(uri, _)| uri.clone())
}

/// Checks what building stand-ins needs, before anything long starts.
pub(crate) fn preflight(config: &ImagesConfig, kinds: &[StandinKind]) -> Result<String> {
    let images = kinds
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ");
    let found = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    if !found("debootstrap") {
        return Err(Error::MissingTool {
            tool: "debootstrap".into(),
            images,
            hint: "install it with `apt-get update && apt-get install -y debootstrap`".into(),
        });
    }
    for tool in ["tar", "dpkg-query"] {
        if !found(tool) {
            return Err(Error::MissingTool {
                tool: tool.into(),
                images,
                hint: format!("install the Debian package that provides `{tool}`"),
            });
        }
    }
    let uid = effective_uid();
    if uid != Some(0) {
        return Err(Error::NotRoot {
            images,
            uid: uid.unwrap_or(u32::MAX),
        });
    }
    mirror(config)
}

fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Builds the stand-ins `kinds` from one debootstrap folder (see the module docs), tagging each
/// `<prefix>/<name>:<version>-<suite>`. The folder and the intermediate rootfs image are removed
/// whatever happens.
pub(crate) fn build_group(
    root: &Path,
    config: &ImagesConfig,
    docker: &Docker,
    mirror: &str,
    kinds: &[StandinKind],
    record: &mut Record<'_>,
) -> Vec<(StandinKind, Result<BuiltStandin>)> {
    let label = kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join("+");
    match build_rootfs(config, docker, mirror, kinds, &label, record) {
        Err(e) => {
            let text = e.to_string();
            kinds
                .iter()
                .map(|&k| {
                    (
                        k,
                        Err(Error::CommandFailed {
                            what: format!("building the rootfs of the {label} stand-ins"),
                            command: String::new(),
                            status: String::new(),
                            output: text.clone(),
                        }),
                    )
                })
                .collect()
        }
        Ok(rootfs) => {
            let results = kinds
                .iter()
                .map(|&kind| {
                    let r = build_thin(root, config, docker, &rootfs, kind, record);
                    (kind, r)
                })
                .collect();
            docker.remove_image(&rootfs.tag);
            results
        }
    }
}

struct Rootfs {
    tag: String,
    /// package → version.
    versions: BTreeMap<String, String>,
}

fn build_rootfs(
    config: &ImagesConfig,
    docker: &Docker,
    mirror: &str,
    kinds: &[StandinKind],
    label: &str,
    record: &mut Record<'_>,
) -> Result<Rootfs> {
    let base = config.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    let work = WorkDir::new(&base, "cdb-rootfs")?;
    let target = work.path().join("rootfs");
    let mut packages: Vec<&str> = kinds.iter().flat_map(|k| k.packages()).copied().collect();
    packages.sort_unstable();
    packages.dedup();

    let start = Instant::now();
    let mut cmd = Command::new("debootstrap");
    cmd.arg("--variant=minbase")
        .arg(format!("--include={}", packages.join(",")))
        .arg("--components=main")
        .arg(&config.suite)
        .arg(&target)
        .arg(mirror);
    process::run_ok(&mut cmd, &format!("debootstrap of {}", packages.join(", ")))?;
    record(
        label,
        "debootstrap",
        start.elapsed(),
        Some(format!("{} + {}", config.suite, packages.join(","))),
    );

    let start = Instant::now();
    let versions = installed_versions(&target)?;
    trim(&target)?;
    let size = dir_size(&target);
    record(
        label,
        "trim rootfs",
        start.elapsed(),
        Some(format!("{} MB left", size / 1_000_000)),
    );

    let start = Instant::now();
    let tag = format!(
        "{}/rootfs:{}-intermediate-{}",
        config.standin_prefix,
        config.suite,
        std::process::id()
    );
    import(docker, &target, &tag)?;
    record(label, "docker import", start.elapsed(), Some(tag.clone()));
    drop(work);
    Ok(Rootfs { tag, versions })
}

/// `tar -C DIR -c . | docker import - TAG`.
fn import(docker: &Docker, dir: &Path, tag: &str) -> Result<()> {
    let mut tar = Command::new("tar");
    tar.arg("-C")
        .arg(dir)
        .args(["--numeric-owner", "-cf", "-", "."])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut tar_child = tar.spawn().map_err(|source| Error::Spawn {
        program: "tar".into(),
        source,
    })?;
    let Some(tar_out) = tar_child.stdout.take() else {
        let _ = tar_child.kill();
        return Err(Error::Spawn {
            program: "tar".into(),
            source: std::io::Error::other("no pipe"),
        });
    };
    let mut cmd = docker.command();
    cmd.args([
        "import",
        "--message",
        "cdb offline stand-in rootfs (intermediate, removed after the build)",
        "--change",
        "LABEL dev.cdb.intermediate=true",
        "-",
        tag,
    ])
    .stdin(Stdio::from(tar_out))
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let result = cmd.output();
    let tar_status = tar_child.wait_with_output();
    let out = result.map_err(|source| Error::Spawn {
        program: "docker import".into(),
        source,
    })?;
    if !out.status.success() {
        return Err(Error::CommandFailed {
            what: "importing the stand-in rootfs".into(),
            command: format!("tar -C {} -c . | {}", dir.display(), process::display(&cmd)),
            status: process::describe(out.status),
            output: process::tail(&String::from_utf8_lossy(&out.stderr)),
        });
    }
    match tar_status {
        Ok(t) if t.status.success() => Ok(()),
        Ok(t) => Err(Error::CommandFailed {
            what: "archiving the stand-in rootfs".into(),
            command: format!("tar -C {} -c .", dir.display()),
            status: process::describe(t.status),
            output: process::tail(&String::from_utf8_lossy(&t.stderr)),
        }),
        Err(source) => Err(Error::Spawn {
            program: "tar".into(),
            source,
        }),
    }
}

fn installed_versions(target: &Path) -> Result<BTreeMap<String, String>> {
    let mut cmd = Command::new("dpkg-query");
    cmd.arg(format!(
        "--admindir={}",
        target.join("var/lib/dpkg").display()
    ))
    .args(["-W", "-f", "${Package}\t${Version}\n"]);
    let out = process::run_ok(&mut cmd, "reading the installed package versions")?;
    Ok(out
        .stdout
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect())
}

/// Removes what a container never needs: package caches and lists, documentation, translations,
/// logs, the host's resolver and hostname (Docker provides its own), the mirror's address, and
/// the `main` cluster postgresql's postinst creates (the entrypoint makes its own in PGDATA).
fn trim(target: &Path) -> Result<()> {
    let emptied = [
        "var/cache/apt/archives",
        "var/lib/apt/lists",
        "usr/share/doc",
        "usr/share/man",
        "usr/share/info",
        "usr/share/locale",
        "var/log/apt",
        "tmp",
        "var/tmp",
        "var/lib/postgresql",
        "etc/postgresql",
    ];
    for dir in emptied {
        remove_children(&target.join(dir), |_| true)?;
    }
    remove_children(&target.join("var/cache/apt"), |p| {
        p.extension().is_some_and(|e| e == "bin")
    })?;
    remove_children(&target.join("var/log"), |p| {
        p.extension().is_some_and(|e| e == "log")
    })?;
    for file in ["etc/resolv.conf", "etc/hostname"] {
        let path = target.join(file);
        if path.symlink_metadata().is_ok() {
            std::fs::remove_file(&path).map_err(|e| Error::io("removing", &path, e))?;
        }
    }
    let sources = target.join("etc/apt/sources.list");
    if sources.is_file() {
        std::fs::write(
            &sources,
            "# emptied by `cargo xtask images`: this is an offline stand-in\n",
        )
        .map_err(|e| Error::io("writing", &sources, e))?;
    }
    Ok(())
}

fn remove_children(dir: &Path, keep_if_false: impl Fn(&Path) -> bool) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !keep_if_false(&path) {
            continue;
        }
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let result = if is_dir {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        result.map_err(|e| Error::io("removing", &path, e))?;
    }
    Ok(())
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(t) if t.is_file() => total += entry.metadata().map_or(0, |m| m.len()),
                _ => {}
            }
        }
    }
    total
}

fn build_thin(
    root: &Path,
    config: &ImagesConfig,
    docker: &Docker,
    rootfs: &Rootfs,
    kind: StandinKind,
    record: &mut Record<'_>,
) -> Result<BuiltStandin> {
    let Some((package, version)) = rootfs
        .versions
        .iter()
        .find(|(p, _)| kind.is_versioned_package(p))
    else {
        return Err(Error::Check {
            image: kind.name().into(),
            detail: format!(
                "none of the installed packages names its version (installed: {})",
                rootfs.versions.len()
            ),
        });
    };
    let upstream = upstream_version(version);
    let tag = format!(
        "{}/{}:{}-{}",
        config.standin_prefix,
        kind.name(),
        kind.tag_version(upstream),
        config.suite
    );
    let context = config.image_dir(root, kind.name());
    if !context.join("Dockerfile").is_file() {
        return Err(Error::io(
            "reading the stand-in's Dockerfile",
            context.join("Dockerfile"),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    let start = Instant::now();
    let mut cmd = docker.command();
    cmd.args(["build", "--force-rm", "--pull=false", "--tag", &tag])
        .args(["--build-arg", &format!("ROOTFS={}", rootfs.tag)]);
    if kind == StandinKind::Postgres {
        let major = kind.tag_version(upstream);
        cmd.args(["--build-arg", &format!("PG_MAJOR={major}")]);
    }
    let labels = [
        (LABEL_SOURCE, env!("CARGO_PKG_REPOSITORY").to_string()),
        (LABEL_STANDIN, "true".into()),
        (LABEL_STANDIN_FOR, kind.name().into()),
        (LABEL_STANDIN_SUITE, config.suite.clone()),
        ("dev.cdb.standin.package", format!("{package}={version}")),
        ("org.opencontainers.image.version", upstream.to_string()),
        (
            "org.opencontainers.image.description",
            format!(
                "Offline stand-in for the {} image, built by `cargo xtask images` from Debian {} packages; not the official image",
                kind.name(),
                config.suite
            ),
        ),
    ];
    for (k, v) in &labels {
        cmd.args(["--label", &format!("{k}={v}")]);
    }
    cmd.arg(&context);
    process::run_ok(&mut cmd, &format!("building the {} stand-in", kind.name()))?;
    record(
        kind.name(),
        "docker build",
        start.elapsed(),
        Some(tag.clone()),
    );

    let start = Instant::now();
    let mut check = docker.command();
    check
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "/bin/sh",
        ])
        .arg(&tag)
        .args(["-c", kind.check_script()]);
    let out = process::run_with_timeout(&mut check, Some(Duration::from_secs(60)))?;
    match out {
        Some(c) if c.status.success() => {
            let first = c.stdout.lines().next().unwrap_or("").trim().to_string();
            record(kind.name(), "check", start.elapsed(), Some(first));
        }
        Some(c) => {
            docker.remove_image(&tag);
            return Err(Error::Check {
                image: tag,
                detail: format!(
                    "`{}` {}: {}",
                    kind.check_script(),
                    process::describe(c.status),
                    process::tail(&c.combined())
                ),
            });
        }
        None => {
            docker.remove_image(&tag);
            return Err(Error::Check {
                image: tag,
                detail: "the check did not finish within 60 s".into(),
            });
        }
    }
    Ok(BuiltStandin {
        kind,
        tag,
        package: format!("{package}={version}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_upstream_repository() {
        let kind = |r: &str| StandinKind::for_upstream(&ImageRef::parse(r).unwrap());
        assert_eq!(
            kind("postgres:17.6-alpine3.22"),
            Some(StandinKind::Postgres)
        );
        assert_eq!(kind("docker.io/library/redis:7"), Some(StandinKind::Redis));
        assert_eq!(
            kind("prom/prometheus:v3.13.1"),
            Some(StandinKind::Prometheus)
        );
        assert_eq!(kind("grafana/grafana:12.4.5"), None);
        assert_eq!(kind("ghcr.io/x/redis:7"), None);
    }

    #[test]
    fn versions_of_debian_packages() {
        assert_eq!(upstream_version("5:7.0.15-1~deb12u4"), "7.0.15");
        assert_eq!(upstream_version("15.13-0+deb12u1"), "15.13");
        assert_eq!(upstream_version("2.42.0+ds-5+deb12u1"), "2.42.0");
        assert_eq!(StandinKind::Postgres.tag_version("15.13"), "15");
        assert_eq!(StandinKind::Redis.tag_version("7.0.15"), "7.0");
        assert_eq!(StandinKind::Prometheus.tag_version("2.42.0"), "2.42");
        assert_eq!(StandinKind::Redis.tag_version("7"), "7");
        assert!(StandinKind::Postgres.is_versioned_package("postgresql-15"));
        assert!(!StandinKind::Postgres.is_versioned_package("postgresql-client-15"));
        assert!(!StandinKind::Postgres.is_versioned_package("postgresql-common"));
    }

    #[test]
    fn mirror_from_deb822_and_one_line_sources() {
        let deb822 = "Types: deb\n# comment\nURIs: http://a.invalid/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n\
                      Types: deb\nURIs: http://b.invalid/debian-security\nSuites: bookworm-security\n";
        assert_eq!(
            mirror_from_sources(&[(true, deb822.into())], "bookworm").as_deref(),
            Some("http://a.invalid/debian")
        );
        // Another suite: the archive of the plain suite serves it too.
        assert_eq!(
            mirror_from_sources(&[(true, deb822.into())], "trixie").as_deref(),
            Some("http://a.invalid/debian")
        );
        let list = "# deb http://old.invalid bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://c.invalid/debian bookworm main\n";
        assert_eq!(
            mirror_from_sources(&[(false, list.into())], "bookworm").as_deref(),
            Some("http://c.invalid/debian")
        );
        let disabled = "Types: deb\nURIs: http://d.invalid/\nSuites: bookworm\nEnabled: no\n";
        assert_eq!(
            mirror_from_sources(&[(true, disabled.into())], "bookworm"),
            None
        );
        assert_eq!(mirror_from_sources(&[], "bookworm"), None);
    }

    #[test]
    fn trim_empties_caches_and_keeps_the_rest() {
        let base = std::env::temp_dir().join(format!("cdb-trim-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        for d in [
            "var/cache/apt/archives",
            "usr/share/doc/x",
            "var/lib/postgresql/15/main",
            "usr/bin",
            "etc/apt",
            "var/log",
        ] {
            std::fs::create_dir_all(base.join(d)).unwrap();
        }
        std::fs::write(base.join("var/cache/apt/archives/a.deb"), "x").unwrap();
        std::fs::write(base.join("var/cache/apt/pkgcache.bin"), "x").unwrap();
        std::fs::write(base.join("usr/bin/redis-server"), "x").unwrap();
        std::fs::write(base.join("etc/resolv.conf"), "nameserver 10.0.0.1").unwrap();
        std::fs::write(
            base.join("etc/apt/sources.list"),
            "deb http://mirror.invalid bookworm main",
        )
        .unwrap();
        std::fs::write(base.join("var/log/dpkg.log"), "x").unwrap();
        std::fs::write(base.join("var/log/keep"), "x").unwrap();
        trim(&base).unwrap();
        assert!(base.join("var/cache/apt/archives").is_dir());
        assert!(!base.join("var/cache/apt/archives/a.deb").exists());
        assert!(!base.join("var/cache/apt/pkgcache.bin").exists());
        assert!(!base.join("usr/share/doc/x").exists());
        assert!(!base.join("var/lib/postgresql/15").exists());
        assert!(base.join("usr/bin/redis-server").exists());
        assert!(!base.join("etc/resolv.conf").exists());
        assert!(
            !std::fs::read_to_string(base.join("etc/apt/sources.list"))
                .unwrap()
                .contains("mirror")
        );
        assert!(!base.join("var/log/dpkg.log").exists());
        assert!(base.join("var/log/keep").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
