//! The pin and policy rules end to end: image references × expected findings on a fixed audit
//! date, Dockerfile `FROM` resolution, discovery over a Compose project on disk, policy-file
//! diagnostics, and the rule codes as a snapshot-tested contract.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cdb_core::compose::{ComposeOptions, load};
use cdb_core::image::ImageRef;
use cdb_core::{FileId, Location, SourceMap};
use cdb_security::discovery::{self, discover};
use cdb_security::dockerfile::{self, from_images};
use cdb_security::model::{Finding, ImageUse, Level, Origin};
use cdb_security::policy::{self, Policy, default_policy, load_policy};
use cdb_security::rules::{self, check_images, pin, policy as pol};
use jiff::civil::{Date, date};

const AUDIT: Date = date(2026, 12, 3);

/// A policy fixed for these tests, so that editing `security/policy.toml` does not move them.
const TEST_POLICY: &str = r#"
eol_soon_days = 90
require_digest = ["ghcr.io/acme/payments"]

[products.postgres]
minimum = "16"
precision = "major-minor"
recommended = "postgres:17.6-alpine3.22"

[products.redis]
minimum = "7.4"
bases = ["alpine"]
recommended = "redis:8.6.2-alpine3.23"

[products.python]
minimum = "3.12"
recommended = "python:3.13.7-slim-trixie"

[products.grafana]
images = ["grafana/grafana"]
exact = true
recommended = "grafana/grafana:12.4.5"

[products.prometheus]
images = ["prom/prometheus"]
exact = true
recommended = "prom/prometheus:v3.13.1"

[[eol]]
product = "postgres"
cycle = "14"
date = "2026-11-12"
[[eol]]
product = "postgres"
cycle = "15"
date = "2027-11-11"
[[eol]]
product = "postgres"
cycle = "16"
date = "2028-11-09"
[[eol]]
product = "postgres"
cycle = "17"
date = "2029-11-08"
[[eol]]
product = "redis"
cycle = "7.4"
date = "2026-12-01"
[[eol]]
product = "python"
cycle = "3.10"
date = "2026-10-31"
[[eol]]
product = "python"
cycle = "3.12"
date = "2028-10-31"
[[eol]]
product = "python"
cycle = "3.13"
date = "2029-10-31"
[[eol]]
product = "grafana"
cycle = "12.1"
date = "2026-04-22"
[[eol]]
product = "grafana"
cycle = "13.0"
date = "2027-01-09"
[[eol]]
product = "grafana"
cycle = "12.4"
date = "2027-05-24"
[[eol]]
product = "prometheus"
cycle = "3.5"
date = "2026-07-31"
[[eol]]
product = "prometheus"
cycle = "3.13"
date = "2027-07-31"
[[eol]]
product = "alpine"
cycle = "3.21"
date = "2026-11-01"
[[eol]]
product = "alpine"
cycle = "3.22"
date = "2027-05-01"
[[eol]]
product = "alpine"
cycle = "3.23"
date = "2027-11-01"
[[eol]]
product = "debian"
cycle = "11"
codename = "bullseye"
date = "2026-08-31"
[[eol]]
product = "debian"
cycle = "12"
codename = "bookworm"
date = "2028-06-30"
[[eol]]
product = "debian"
cycle = "13"
codename = "trixie"
date = "2030-06-30"
"#;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn test_policy() -> Policy {
    load_policy(
        Path::new("test-policy.toml"),
        TEST_POLICY,
        &mut SourceMap::new(),
    )
    .expect("the test policy loads")
}

fn image(reference: &str) -> ImageUse {
    ImageUse {
        reference: reference.to_string(),
        parsed: ImageRef::parse(reference).map_err(|e| e.to_string()),
        origin: Origin::Compose {
            service: "svc".into(),
        },
        loc: Location::new(FileId(0), 7, 12),
    }
}

fn findings(reference: &str, policy: &Policy, on: Date) -> Vec<Finding> {
    check_images(&[image(reference)], policy, on)
}

fn codes(reference: &str, policy: &Policy, on: Date) -> Vec<(&'static str, Level)> {
    findings(reference, policy, on)
        .into_iter()
        .map(|f| (f.code, f.level))
        .collect()
}

use Level::{Block, Note, Warn};

#[test]
fn image_references_against_the_policy() {
    let with_digest = |r: &str| format!("{r}@{DIGEST}");
    let table: Vec<(String, Vec<(&str, Level)>)> = vec![
        // Exact versions on supported cycles: only the digest note.
        (
            "postgres:17.6-alpine3.22".into(),
            vec![(pin::NO_DIGEST, Note)],
        ),
        ("postgres:16.4".into(), vec![(pin::NO_DIGEST, Note)]),
        (
            "docker.io/library/postgres:16.4".into(),
            vec![(pin::NO_DIGEST, Note)],
        ),
        (
            "python:3.13.7-slim-trixie".into(),
            vec![(pin::NO_DIGEST, Note)],
        ),
        (
            "grafana/grafana:12.4.5".into(),
            vec![(pin::NO_DIGEST, Note)],
        ),
        (
            "prom/prometheus:v3.13.1".into(),
            vec![(pin::NO_DIGEST, Note)],
        ),
        ("nginx:1.27.3".into(), vec![(pin::NO_DIGEST, Note)]),
        // A digest silences the note and pins a floating tag.
        (with_digest("postgres:17.6-alpine3.22"), vec![]),
        (with_digest("nginx"), vec![]),
        (with_digest("nginx:1"), vec![]),
        // latest / no tag.
        (
            "postgres".into(),
            vec![(pin::LATEST, Block), (pin::NO_DIGEST, Note)],
        ),
        (
            "postgres:latest".into(),
            vec![(pin::LATEST, Block), (pin::NO_DIGEST, Note)],
        ),
        (with_digest("postgres:latest"), vec![(pin::LATEST, Block)]),
        // Floating: less precise than the product's versions, or not a version.
        (
            "postgres:17-alpine3.22".into(),
            vec![(pin::FLOATING, Warn), (pin::NO_DIGEST, Note)],
        ),
        (
            "redis:7.4-alpine3.22".into(),
            vec![
                (pin::FLOATING, Warn),
                (pin::NO_DIGEST, Note),
                (pol::EOL, Block),
            ],
        ),
        (
            "nginx:1.27".into(),
            vec![(pin::FLOATING, Warn), (pin::NO_DIGEST, Note)],
        ),
        (
            "nginx:stable".into(),
            vec![(pin::FLOATING, Warn), (pin::NO_DIGEST, Note)],
        ),
        (
            "node:lts".into(),
            vec![(pin::FLOATING, Warn), (pin::NO_DIGEST, Note)],
        ),
        (
            "python:slim".into(),
            vec![(pin::FLOATING, Warn), (pin::NO_DIGEST, Note)],
        ),
        (
            "alpine:3.22".into(),
            vec![(pin::FLOATING, Warn), (pin::NO_DIGEST, Note)],
        ),
        // Exact products: the policy rule, not the pin warning.
        (
            "grafana/grafana:12.4".into(),
            vec![(pin::NO_DIGEST, Note), (pol::NOT_EXACT, Block)],
        ),
        (
            "prom/prometheus:v3".into(),
            vec![(pin::NO_DIGEST, Note), (pol::NOT_EXACT, Block)],
        ),
        (
            "grafana/grafana:latest".into(),
            vec![(pin::LATEST, Block), (pin::NO_DIGEST, Note)],
        ),
        // Digests the policy requires.
        (
            "ghcr.io/acme/payments:2.3.1".into(),
            vec![(pin::DIGEST_REQUIRED, Block)],
        ),
        (with_digest("ghcr.io/acme/payments:2.3.1"), vec![]),
        // Below the minimum, past end of life, or both.
        (
            "postgres:15.8".into(),
            vec![(pin::NO_DIGEST, Note), (pol::BELOW_MINIMUM, Block)],
        ),
        (
            "postgres:14.13-alpine3.22".into(),
            vec![
                (pin::NO_DIGEST, Note),
                (pol::BELOW_MINIMUM, Block),
                (pol::EOL, Block),
            ],
        ),
        (
            "redis:7.2.5-alpine3.22".into(),
            // Below the minimum, and older than every cycle the test policy tracks for redis.
            vec![
                (pin::NO_DIGEST, Note),
                (pol::BELOW_MINIMUM, Block),
                (pol::EOL, Block),
            ],
        ),
        (
            "redis:7.4.6-alpine3.22".into(),
            vec![(pin::NO_DIGEST, Note), (pol::EOL, Block)],
        ),
        (
            "grafana/grafana:12.1.1".into(),
            vec![(pin::NO_DIGEST, Note), (pol::EOL, Block)],
        ),
        (
            "prom/prometheus:v3.5.0".into(),
            vec![(pin::NO_DIGEST, Note), (pol::EOL, Block)],
        ),
        (
            "python:3.10.16-slim-bookworm".into(),
            vec![
                (pin::NO_DIGEST, Note),
                (pol::BELOW_MINIMUM, Block),
                (pol::EOL, Block),
            ],
        ),
        // End of life within 90 days.
        (
            "grafana/grafana:13.0.3".into(),
            vec![(pin::NO_DIGEST, Note), (pol::EOL_SOON, Warn)],
        ),
        // Base distributions: alpine versions and Debian codenames.
        (
            "redis:8.6.2-alpine3.21".into(),
            vec![(pin::NO_DIGEST, Note), (pol::VARIANT_EOL, Block)],
        ),
        (
            "python:3.12.8-slim-bullseye".into(),
            vec![(pin::NO_DIGEST, Note), (pol::VARIANT_EOL, Block)],
        ),
        (
            "python:3.12.8-slim-bookworm".into(),
            vec![(pin::NO_DIGEST, Note)],
        ),
        (
            "nginx:1.27.3-alpine3.21".into(),
            vec![(pin::NO_DIGEST, Note), (pol::VARIANT_EOL, Block)],
        ),
        (
            "redis:8.6.2-bookworm".into(),
            vec![(pin::NO_DIGEST, Note), (pol::BASE_NOT_ALLOWED, Warn)],
        ),
        // Unknown products: pinning only.
        (
            "ghcr.io/acme/tool:0.4.2".into(),
            vec![(pin::NO_DIGEST, Note)],
        ),
        // References that do not parse.
        ("Postgres:16".into(), vec![(pin::INVALID_REFERENCE, Block)]),
        ("python:".into(), vec![(pin::INVALID_REFERENCE, Block)]),
    ];
    let policy = test_policy();
    let mut failures = String::new();
    for (reference, expected) in &table {
        let got = codes(reference, &policy, AUDIT);
        if got != *expected {
            let _ = writeln!(failures, "{reference}: expected {expected:?}, got {got:?}");
        }
    }
    assert!(failures.is_empty(), "\n{failures}");
}

#[test]
fn findings_point_at_the_image_and_name_the_image() {
    let f = findings("postgres:14.13", &test_policy(), AUDIT);
    assert!(!f.is_empty());
    for finding in &f {
        assert_eq!(finding.image, "postgres:14.13");
        assert_eq!(finding.loc, Some(Location::new(FileId(0), 7, 12)));
        assert!(finding.vulnerability.is_none());
        assert_eq!(Some(finding.level), rules::default_level(finding.code));
    }
}

#[test]
fn messages_and_suggestions() {
    let policy = test_policy();
    let mut out = String::new();
    for reference in [
        "postgres",
        "postgres:18",
        "redis:7.4-alpine3.22",
        "postgres:14.13",
        "redis:7.4.6-alpine3.22",
        "nginx:1.27.3-alpine3.21",
        "grafana/grafana:12.4",
        "grafana/grafana:13.0.3",
        "redis:8.6.2-bookworm",
        "ghcr.io/acme/payments:2.3.1",
        "Postgres:16",
    ] {
        let _ = writeln!(out, "{reference}");
        for f in findings(reference, &policy, AUDIT) {
            let _ = writeln!(out, "  {} [{}] {}", f.code, f.level, f.message);
            if let Some(s) = f.suggestion {
                let _ = writeln!(out, "    → {s}");
            }
        }
    }
    insta::assert_snapshot!("messages", out);
}

#[test]
fn the_audit_date_is_a_parameter() {
    let policy = test_policy();
    assert_eq!(
        codes("postgres:14.13-alpine3.22", &policy, date(2026, 8, 1)),
        [(pin::NO_DIGEST, Note), (pol::BELOW_MINIMUM, Block)]
    );
    assert_eq!(
        codes("postgres:14.13-alpine3.22", &policy, date(2026, 9, 1)),
        [
            (pin::NO_DIGEST, Note),
            (pol::BELOW_MINIMUM, Block),
            (pol::EOL_SOON, Warn)
        ]
    );
    assert_eq!(
        codes("postgres:14.13-alpine3.22", &policy, date(2026, 11, 12)),
        [
            (pin::NO_DIGEST, Note),
            (pol::BELOW_MINIMUM, Block),
            (pol::EOL, Block)
        ]
    );
}

#[test]
fn the_default_policy_on_the_reference_stack() {
    // The images of compose/docker-compose.yml on 2026-12-03, with security/policy.toml, and
    // the older tags the stack moved away from.
    let policy = default_policy();
    let stack = [
        ("redis:7.4.6-alpine3.22", vec![(pin::NO_DIGEST, Note)]),
        ("postgres:17.6-alpine3.22", vec![(pin::NO_DIGEST, Note)]),
        ("prom/prometheus:v3.13.1", vec![(pin::NO_DIGEST, Note)]),
        ("grafana/grafana:12.4.5", vec![(pin::NO_DIGEST, Note)]),
        ("cdb/paper:0.1.0", vec![(pin::NO_DIGEST, Note)]),
        (
            "prom/prometheus:v3.5.0",
            vec![(pin::NO_DIGEST, Note), (pol::EOL, Block)],
        ),
        (
            "grafana/grafana:12.1.1",
            vec![(pin::NO_DIGEST, Note), (pol::EOL, Block)],
        ),
        (
            "cdb/paper:dev",
            vec![(pin::FLOATING, Warn), (pin::NO_DIGEST, Note)],
        ),
    ];
    for (reference, expected) in stack {
        assert_eq!(codes(reference, &policy, AUDIT), expected, "{reference}");
    }
    // Every recommended tag is clean on the audit date (apart from its missing digest).
    for product in &policy.products {
        if let Some(rec) = &product.recommended {
            assert_eq!(
                codes(rec, &policy, AUDIT),
                [(pin::NO_DIGEST, Note)],
                "{rec}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Dockerfiles
// ---------------------------------------------------------------------------------------------

fn from(text: &str, args: &[(&str, &str)]) -> Vec<(String, Option<String>, u32, u32)> {
    let args: BTreeMap<String, String> = args
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    from_images(Path::new("Dockerfile"), text, &args, FileId(1))
        .expect("the Dockerfile parses")
        .into_iter()
        .map(|i| (i.reference, i.stage, i.loc.line, i.loc.col))
        .collect()
}

fn s(r: &str, stage: Option<&str>, line: u32, col: u32) -> (String, Option<String>, u32, u32) {
    (r.to_string(), stage.map(str::to_string), line, col)
}

#[test]
fn dockerfile_cases() {
    // ARG substitution in every supported form, and build args overriding defaults.
    let text = "# syntax=docker/dockerfile:1\n\
                ARG PY=3.12\n\
                ARG DISTRO=\"slim-bookworm\"\n\
                ARG REGISTRY\n\
                FROM ${REGISTRY:+$REGISTRY/}python:${PY}.8-$DISTRO AS base\n\
                FROM ${REGISTRY:-docker.io}/library/alpine:3.22.1\n";
    assert_eq!(
        from(text, &[]),
        [
            s("python:3.12.8-slim-bookworm", Some("base"), 5, 6),
            s("docker.io/library/alpine:3.22.1", None, 6, 6),
        ]
    );
    assert_eq!(
        from(text, &[("PY", "3.13"), ("REGISTRY", "mirror.local")]),
        [
            s(
                "mirror.local/python:3.13.8-slim-bookworm",
                Some("base"),
                5,
                6
            ),
            s("mirror.local/library/alpine:3.22.1", None, 6, 6),
        ]
    );

    // Stages, scratch and the platform flag.
    let text = "FROM --platform=$BUILDPLATFORM rust:1.83.0-bookworm AS build\n\
                FROM build AS test\n\
                FROM scratch AS empty\n\
                FROM gcr.io/distroless/cc-debian12:nonroot\n";
    assert_eq!(
        from(text, &[]),
        [
            s("rust:1.83.0-bookworm", Some("build"), 1, 32),
            s("gcr.io/distroless/cc-debian12:nonroot", None, 4, 6),
        ]
    );

    // Continuation lines, comments inside them, and the location of the image token.
    let text = "FROM \\\n    # the builder\n    --platform=linux/amd64 \\\n    golang:1.23.4-alpine3.22 \\\n    AS builder\nRUN echo hi\n";
    assert_eq!(
        from(text, &[]),
        [s("golang:1.23.4-alpine3.22", Some("builder"), 4, 5)]
    );
}

#[test]
fn dockerfile_errors_point_at_the_line() {
    let e = from_images(
        Path::new("Dockerfile"),
        "FROM a:1\nFROM b:${X\n",
        &BTreeMap::new(),
        FileId(0),
    )
    .unwrap_err();
    assert_eq!(e.code, dockerfile::SYNTAX);
    assert_eq!(e.location.map(|l| (l.line, l.col)), Some((2, 8)));
}

// ---------------------------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------------------------

/// A unique folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "cdb-security-policy-rules-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn load_project(dir: &Path, sources: &mut SourceMap) -> cdb_core::compose::Project {
    let options = ComposeOptions {
        cwd: dir.to_path_buf(),
        files: vec![dir.join("compose.yaml")],
        all_profiles: true,
        environment: BTreeMap::from([("PG_TAG".to_string(), "17.6-alpine3.22".to_string())]),
        ..Default::default()
    };
    load(&options, sources).expect("the project loads").project
}

const COMPOSE: &str = "name: shop
services:
  api:
    image: ghcr.io/acme/api:1.4.0
    build:
      context: ./api
      dockerfile: docker/Dockerfile
      args:
        RUST_VERSION: 1.84.0
  db:
    image: postgres:${PG_TAG}
  grafana:
    image: grafana/grafana:12.1.1
    profiles: [monitoring]
";

const API_DOCKERFILE: &str = "ARG RUST_VERSION=1.83.0
ARG RUNTIME=debian:bookworm-slim
FROM rust:${RUST_VERSION}-bookworm AS build
RUN cargo build --release
FROM build AS test
FROM ${RUNTIME}
COPY --from=build /app /app
";

#[test]
fn discovery_on_a_compose_project() {
    let dir = TempDir::new("discover");
    std::fs::create_dir_all(dir.0.join("api/docker")).unwrap();
    std::fs::write(dir.0.join("compose.yaml"), COMPOSE).unwrap();
    std::fs::write(dir.0.join("api/docker/Dockerfile"), API_DOCKERFILE).unwrap();
    let mut sources = SourceMap::new();
    let project = load_project(&dir.0, &mut sources);
    let uses = discover(&project, &mut sources).unwrap();

    let summary: Vec<(String, String, u32, u32)> = uses
        .iter()
        .map(|u| {
            let origin = match &u.origin {
                Origin::Compose { service } => format!("compose {service}"),
                Origin::Dockerfile {
                    service,
                    path,
                    stage,
                } => format!(
                    "dockerfile {service} {} {}",
                    path.strip_prefix(&dir.0).unwrap_or(path).display(),
                    stage.as_deref().unwrap_or("-")
                ),
            };
            (u.reference.clone(), origin, u.loc.line, u.loc.col)
        })
        .collect();
    let expected = [
        ("ghcr.io/acme/api:1.4.0", "compose api", 4, 12),
        (
            "rust:1.84.0-bookworm",
            "dockerfile api api/docker/Dockerfile build",
            3,
            6,
        ),
        (
            "debian:bookworm-slim",
            "dockerfile api api/docker/Dockerfile -",
            6,
            6,
        ),
        ("postgres:17.6-alpine3.22", "compose db", 11, 12),
        ("grafana/grafana:12.1.1", "compose grafana", 13, 12),
    ];
    let expected: Vec<(String, String, u32, u32)> = expected
        .iter()
        .map(|(r, o, l, c)| (r.to_string(), o.to_string(), *l, *c))
        .collect();
    assert_eq!(summary, expected);

    // Locations resolve to the files they come from.
    assert!(sources.path(uses[0].loc.file).ends_with("compose.yaml"));
    assert!(
        sources
            .path(uses[1].loc.file)
            .ends_with("api/docker/Dockerfile")
    );
    assert!(uses.iter().all(|u| u.parsed.is_ok()));
}

#[test]
fn discovery_reports_a_missing_dockerfile_at_the_build() {
    let dir = TempDir::new("missing");
    std::fs::write(
        dir.0.join("compose.yaml"),
        "name: shop\nservices:\n  api:\n    image: x:1.0.0\n    build: ./api\n",
    )
    .unwrap();
    let mut sources = SourceMap::new();
    let project = load_project(&dir.0, &mut sources);
    let e = discover(&project, &mut sources).unwrap_err();
    assert_eq!(e.code, discovery::MISSING_DOCKERFILE);
    assert_eq!(e.location.map(|l| l.line), Some(5));
    let rendered = e.render(&sources);
    assert!(rendered.contains("compose.yaml:5:"), "{rendered}");
}

// ---------------------------------------------------------------------------------------------
// Policy files
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bad_date_is_a_diagnostic_at_its_line() {
    let text = "[products.postgres]\nminimum = \"16\"\n\n[[eol]]\nproduct = \"postgres\"\ncycle = \"14\"\ndate = \"2026-11-31\"\n";
    let mut sources = SourceMap::new();
    let e = load_policy(Path::new("security/policy.toml"), text, &mut sources).unwrap_err();
    assert_eq!(e.code, policy::INVALID);
    assert_eq!(e.location.map(|l| (l.line, l.col)), Some((7, 8)));
    assert!(e.message.contains("2026-11-31"), "{}", e.message);
    let rendered = e.render(&sources);
    assert!(rendered.contains("security/policy.toml:7:8"), "{rendered}");
}

#[test]
fn an_unknown_field_is_a_diagnostic_at_its_line() {
    let text = "[products.redis]\nminimum = \"7.4\"\nbase = [\"alpine\"]\n";
    let mut sources = SourceMap::new();
    let e = load_policy(Path::new("security/policy.toml"), text, &mut sources).unwrap_err();
    assert_eq!(e.code, policy::INVALID);
    assert_eq!(e.location.map(|l| l.line), Some(3));
    assert!(e.message.contains("`base`"), "{}", e.message);
}

// ---------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------

#[test]
fn rule_codes() {
    // Only this file's modules: other checks append their own rows to `rules::ALL`.
    let mut table = String::from("code                     | level | meaning\n");
    for (code, level, meaning) in rules::ALL {
        if code.starts_with("pin::") || code.starts_with("policy::") {
            let level = level.to_string();
            let _ = writeln!(table, "{code:<24} | {level:<5} | {meaning}");
        }
    }
    insta::assert_snapshot!("rule_codes", table);
}
