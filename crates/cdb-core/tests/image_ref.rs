//! Tests for `image`: Docker image reference parsing and tag-version split.
//!
//! Besides snapshot tables over Docker's own test cases, a regex oracle that
//! transcribes distribution/reference (`regexp.go`, `reference.go`,
//! `normalize.go`) and go-digest v1.0.0 literally is compared against the
//! hand-written parser on random input.

use std::fmt::Write as _;
use std::sync::LazyLock;

use cdb_core::image::{ImageRef, ImageRefError, Precision, TagVersion, Version};
use proptest::prelude::*;
use regex::Regex;
use serde::Serialize;

const F64: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const HEX64: &str = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
const DBCC: &str = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";

fn valid_inputs() -> Vec<String> {
    let mut v: Vec<String> = [
        // reference_test.go TestReferenceParse (valid rows)
        "test_com",
        "test.com:tag",
        "test.com:5000",
        "test.com/repo:tag",
        "test:5000/repo",
        "test:5000/repo:tag",
        "lowercase:Uppercase",
        "sub-dom1.foo.com/bar/baz/quux",
        "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
        "b.gcr.io/test.example.com/my-app:test.example.com",
        "xn--n3h.com/myimage:xn--n3h.com",
        "foo_bar.com:8080",
        "foo/foo_bar.com:8080",
        "192.168.1.1",
        "192.168.1.1:tag",
        "192.168.1.1:5000",
        "192.168.1.1/repo",
        "192.168.1.1:5000/repo",
        "192.168.1.1:5000/repo:5050",
        "[2001:db8::1]/repo",
        "[2001:db8:1:2:3:4:5:6]/repo:tag",
        "[2001:db8::1]:5000/repo",
        "[2001:db8::1]:5000/repo:tag",
        "[2001:db8::]:5000/repo",
        "[::1]:5000/repo",
        // normalize_test.go TestValidateReferenceName / TestValidateRemoteName
        "docker/docker",
        "library/debian",
        "debian",
        "docker.io/docker/docker",
        "docker.io/library/debian",
        "docker.io/debian",
        "index.docker.io/docker/docker",
        "index.docker.io/library/debian",
        "index.docker.io/debian",
        "127.0.0.1:5000/docker/docker",
        "127.0.0.1:5000/library/debian",
        "127.0.0.1:5000/debian",
        "192.168.0.1",
        "192.168.0.1:80",
        "192.168.0.1:8/debian",
        "192.168.0.2:25000/debian",
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "[fc00::1]:5000/docker",
        "[fc00::1]:5000/docker/docker",
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        "Docker/docker",
        "DOCKER/docker",
        "docker-rules/docker",
        "docker---rules/docker",
        "doc/docker",
        "d/docker",
        "jess/t",
        "dock__er/docker",
        // normalize_test.go TestParseRepositoryInfo / TestNormalizedSplitHostname
        "fooo/bar",
        "index.docker.io/fooo/bar",
        "library/ubuntu",
        "ubuntu",
        "nonlibrary/ubuntu",
        "other/library",
        "127.0.0.1:8000/private/moonbase",
        "127.0.0.1:8000/privatebase",
        "example.com/private/moonbase",
        "example.com:8000/privatebasee",
        "ubuntu-12.04-base",
        "docker.io/foo",
        "library/foo/bar",
        "docker.io/library/foo/bar",
        "store/foo/bar",
        "Foo/bar",
        "FOO/bar",
        "test_com/foo",
        "test-com:8080/foo",
        "xn--n3h.com:18080/foo",
        "redis",
        "redis:latest",
        "dmcgowan/myapp:latest",
        "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9",
        "dbcc1",
        // Everyday references
        "localhost/foo",
        "localhost:5000/foo",
        "localhost:5000/foo/bar:1.0",
        "localhost",
        "localhost:5000",
        "LOCALHOST/foo",
        "Docker.IO/foo",
        "a:5000/b",
        "a__b",
        "postgres:16.4-alpine3.21",
        "redis:7.4.2-alpine",
        "python:3.12-slim-bookworm",
        "grafana/grafana:11.3.0-ubuntu",
        "prom/prometheus:v2.53.0",
        "quay.io/prometheus/node-exporter:v1.8.2",
        "registry.k8s.io/pause:3.10",
        "mcr.microsoft.com/dotnet/aspnet:8.0",
        "foo_bar.com/app",
        "a.b__c/d:e",
        "docker.io/a.0/0",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    v.extend([
        format!("test:5000/repo@sha256:{F64}"),
        format!("test:5000/repo:tag@sha256:{F64}"),
        format!("xn--7o8h.com/myimage:xn--7o8h.com@sha512:{F64}{F64}"),
        format!("[2001:db8::1]:5000/repo@sha256:{F64}"),
        format!("[2001:db8::1]:5000/repo:tag@sha256:{F64}"),
        format!("docker.io/{HEX64}"),
        format!("{HEX64}:tag"),
        format!("sha256:{DBCC}"),
        format!("busybox:latest@sha256:{DBCC}"),
        format!("redis@sha256:{DBCC}"),
        format!("docker.io/dmcgowan/myapp@sha256:{DBCC}"),
        format!("ghcr.io/org/app@sha256:{DBCC}"),
        format!("repo@sha384:{F64}{}", &F64[..32]),
        format!("{}a:tag-puts-this-over-max", "a/".repeat(127)),
        format!("x:{}", "t".repeat(128)),
        "a".repeat(247),
    ]);
    v
}

fn invalid_inputs() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        ":justtag",
        ":tag",
        "a:",
        "Uppercase:tag",
        "test:5000/Uppercase/lowercase:tag",
        "aa/asdf$$^/aa",
        "[2001:db8::1]",
        "[2001:db8::1]:5000",
        "[2001:db8::1]:tag",
        "[fe80::1%eth0]:5000/repo",
        "[fe80::1%@invalidzone]:5000/repo",
        "https://github.com/docker/docker",
        "docker/Docker",
        "-docker",
        "-docker/docker",
        "-docker.io/docker/docker",
        "docker///docker",
        "docker.io/docker/Docker",
        "docker.io/docker///docker",
        "[fc00::1]",
        "[fc00::1]:5000",
        "fc00::1:5000/debian",
        "[2001:db8:3:4::192.0.2.33]:5000/debian",
        "docker-/docker",
        "-docker-/docker",
        "____/____",
        "_docker/_docker",
        "dock..er/docker",
        "dock_.er/docker",
        "dock-.er/docker",
        "docker/",
        "a//b",
        "a___b",
        "a/b/",
        "/a",
        "foo:bar:baz",
        "foo/:tag",
        "foo:-tag",
        "foo:tag@",
        "foo@",
        "foo@sha256:abc",
        "foo@sha256",
        "foo bar",
        " foo",
        "foo ",
        "ünïcode",
        "foo:tägs",
        "foo:İ",
        "localhost/Foo",
        "index.docker.io/Foo",
        "Foo_bar.com/x",
        "a_b:5000/x",
        "foo_bar.com:5000/x",
        "my-.registry.io/app",
        "registry.io:/app",
        "registry.io:port/app",
        "[]/app",
        "[zz]/app",
        "[::1/app",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    v.extend([
        format!("@sha256:{F64}"),
        format!("repo@sha256:{}", &F64[..34]),
        format!("validname@invaliddigest:{F64}"),
        format!("repo@sha256:{}", F64.to_uppercase()),
        format!("repo@sha256:{}", &F64[..40]),
        format!("repo@sha512:{F64}"),
        format!("repo@SHA256:{F64}"),
        format!("repo:tag@SHA256:{F64}"),
        format!("repo@sha256+b64:{F64}"),
        format!("repo@foo.bar:{F64}"),
        HEX64.to_owned(),
        format!("{}a:tag", "a/".repeat(128)),
        format!(
            "{}/docker",
            "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_".repeat(4)
        ),
        "a".repeat(248),
        format!("x:{}", "t".repeat(129)),
    ]);
    v
}

// ---------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------

#[derive(Serialize)]
struct ValidRow {
    input: String,
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
    effective_tag: Option<String>,
    familiar: String,
    normalized: String,
}

#[test]
fn valid_references() {
    let rows: Vec<ValidRow> = valid_inputs()
        .into_iter()
        .map(|input| {
            let r = ImageRef::parse(&input)
                .unwrap_or_else(|e| panic!("{input:?} should parse, got {e:?}"));
            ValidRow {
                domain: r.domain().to_owned(),
                path: r.path().to_owned(),
                tag: r.tag().map(str::to_owned),
                digest: r.digest().map(str::to_owned),
                effective_tag: r.effective_tag().map(str::to_owned),
                familiar: r.familiar(),
                normalized: r.normalized(),
                input,
            }
        })
        .collect();
    insta::assert_yaml_snapshot!(rows);
}

/// Renders `input` with a caret under `offset` (windowed for long inputs).
fn caret(input: &str, offset: usize) -> String {
    let before = input.get(..offset).expect("offset on a char boundary");
    let col = before.chars().count();
    let chars: Vec<char> = input.chars().collect();
    let start = col.saturating_sub(30);
    let end = (start + 60).min(chars.len());
    let lead = if start > 0 { "…" } else { "" };
    let tail = if end < chars.len() { "…" } else { "" };
    let shown: String = chars[start..end].iter().collect();
    let pad = " ".repeat(col - start + lead.chars().count());
    format!("  | {lead}{shown}{tail}\n  | {pad}^")
}

#[test]
fn invalid_references() {
    let mut out = String::new();
    for input in invalid_inputs() {
        let err = ImageRef::parse(&input).expect_err(&input);
        let shown = if input.len() > 60 {
            format!("<{} bytes>", input.len())
        } else {
            format!("{input:?}")
        };
        writeln!(out, "{shown} @ {}", err.offset()).unwrap();
        writeln!(out, "  {err}").unwrap();
        writeln!(out, "  {err:?}").unwrap();
        writeln!(out, "{}", caret(&input, err.offset())).unwrap();
    }
    insta::assert_snapshot!(out);
}

#[derive(Serialize)]
struct TagRow {
    tag: &'static str,
    split: Option<TagSplit>,
}

#[derive(Serialize)]
struct TagSplit {
    version: String,
    components: Vec<u64>,
    precision: Precision,
    v_prefix: bool,
    build: Option<String>,
    suffix: Option<String>,
    variant: Option<String>,
    variant_version: Option<String>,
    base_distro: Option<String>,
    prerelease: bool,
}

#[test]
fn tag_versions() {
    let tags = [
        "16.4-alpine3.21",
        "7.4.2-alpine",
        "3.12-slim-bookworm",
        "17",
        "v2.53.0",
        "latest",
        "alpine",
        "stable",
        "lts",
        "bookworm",
        "16-alpine",
        "11.3.0-ubuntu",
        "16.4",
        "1.27-alpine-slim",
        "1.27.3-alpine3.20-perl",
        "3.13.0-management-alpine",
        "21.0.4_7-jdk-jammy",
        "8.0.39-debian",
        "6.0-bullseye-slim",
        "15-ubi9",
        "ltsc2022",
        "8.0-windowsservercore-ltsc2022",
        "2024.08.15",
        "20240815",
        "16.4.0.1",
        "1.0.0-rc1",
        "1.0.0rc1",
        "2.4.1-beta.2",
        "1.2.3-1",
        "0.0.1",
        "v1",
        "V1",
        "v",
        "version",
        "1.2.",
        "1..2",
        "1.2.3-",
        "1.2.3--x",
        "1.2.3_",
        "1.2.3_abc",
        "18446744073709551616",
        "latest-alpine",
    ];
    let rows: Vec<TagRow> = tags
        .into_iter()
        .map(|tag| TagRow {
            tag,
            split: TagVersion::parse(tag).map(|t| TagSplit {
                version: t.version().to_string(),
                components: t.version().components().to_vec(),
                precision: t.version().precision(),
                v_prefix: t.has_v_prefix(),
                build: t.build().map(str::to_owned),
                suffix: t.suffix().map(str::to_owned),
                variant: t.variant().map(str::to_owned),
                variant_version: t.variant_version().map(ToString::to_string),
                base_distro: t.base_distro().map(str::to_owned),
                prerelease: t.is_prerelease(),
            }),
        })
        .collect();
    insta::assert_yaml_snapshot!(rows);
}

// ---------------------------------------------------------------------------
// Focused behaviour
// ---------------------------------------------------------------------------

#[test]
fn api_accessors() {
    let r = ImageRef::parse("postgres:16").unwrap();
    assert_eq!(r.domain(), "docker.io");
    assert_eq!(r.path(), "library/postgres");
    assert_eq!(r.repository(), "docker.io/library/postgres");
    assert_eq!(r.familiar_name(), "postgres");
    assert_eq!(r.normalized(), "docker.io/library/postgres:16");
    assert_eq!(r.to_string(), "docker.io/library/postgres:16");
    assert!(r.is_docker_hub());
    assert_eq!(
        r.tag_version().unwrap().version().precision(),
        Precision::Major
    );

    let r: ImageRef = "grafana/grafana".parse().unwrap();
    assert_eq!(r.familiar_name(), "grafana/grafana");
    assert_eq!(r.tag(), None);
    assert_eq!(r.effective_tag(), Some("latest"));
    assert_eq!(r.normalized(), "docker.io/grafana/grafana");

    let r = ImageRef::parse(&format!("ghcr.io/x/y@sha256:{DBCC}")).unwrap();
    assert_eq!(r.familiar_name(), "ghcr.io/x/y");
    assert_eq!(r.effective_tag(), None);
    assert_eq!(r.digest_algorithm(), Some("sha256"));
    assert_eq!(r.digest_hex(), Some(DBCC));
    assert!(!r.is_docker_hub());

    let r = ImageRef::parse(&format!("app:1.2@sha256:{DBCC}")).unwrap();
    assert_eq!(r.effective_tag(), Some("1.2"));
    assert_eq!(r.familiar(), format!("app:1.2@sha256:{DBCC}"));

    // Equal after normalisation.
    assert_eq!(
        ImageRef::parse("ubuntu").unwrap(),
        ImageRef::parse("index.docker.io/library/ubuntu").unwrap()
    );
}

#[test]
fn serde_roundtrip_validates() {
    let r = ImageRef::parse("redis:7").unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(json, "\"docker.io/library/redis:7\"");
    let back: ImageRef = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    let bad = serde_json::from_str::<ImageRef>("\"Redis\"").unwrap_err();
    assert!(bad.to_string().contains("must be lowercase"), "{bad}");
}

#[test]
fn error_messages_match_docker() {
    let msg = |s: &str| ImageRef::parse(s).unwrap_err().to_string();
    assert_eq!(msg("aa/asdf$$^/aa"), "invalid reference format");
    assert!(
        msg("Test:tag").starts_with(
            "invalid reference format: repository name (library/Test) must be lowercase"
        )
    );
    assert!(
        msg(&"a/".repeat(200)[..399])
            .starts_with("repository name must not be more than 255 characters")
    );
    assert_eq!(
        msg(&format!("x@sha256:{}", &F64[..40])).split(" (").next(),
        Some("invalid checksum digest length")
    );
    assert_eq!(
        msg(&format!("x@sha256:{}", F64.to_uppercase())),
        "invalid checksum digest format"
    );
    assert!(msg(&format!("x@md5:{F64}")).starts_with("unsupported digest algorithm"));
    assert!(msg(HEX64).ends_with("cannot specify 64-byte hexadecimal strings"));
    assert!(matches!(ImageRef::parse(""), Err(ImageRefError::Empty)));
    assert!(matches!(
        ImageRef::parse("foo\n"),
        Err(ImageRefError::InvalidFormat { offset: 3 })
    ));
    assert!(matches!(
        ImageRef::parse("foo:bar\n"),
        Err(ImageRefError::InvalidTag { offset: 7 })
    ));
}

#[test]
fn version_ordering() {
    let v = |s: &str| Version::parse(s).unwrap();
    assert!(v("1.2") < v("1.10"));
    assert!(v("1.2") < v("1.2.0"));
    assert!(v("9") < v("10"));
    assert_eq!(v("16.04"), v("16.4"));
    assert_eq!(v("16.04").as_str(), "16.04");
    assert_eq!(v("7.4.2").to_semver(), Some(semver::Version::new(7, 4, 2)));
    assert_eq!(v("7").to_semver(), Some(semver::Version::new(7, 0, 0)));
    assert_eq!(v("1.2.3.4").to_semver(), None);
    assert_eq!(Version::parse("v1"), None);
    assert_eq!(Version::parse("1.2-x"), None);
    let mut vs = [v("10"), v("1.10"), v("1.9.3"), v("1.9")];
    vs.sort();
    let sorted: Vec<&str> = vs.iter().map(Version::as_str).collect();
    assert_eq!(sorted, ["1.9", "1.9.3", "1.10", "10"]);
}

// ---------------------------------------------------------------------------
// Regex oracle: a literal transcription of the Go implementation
// ---------------------------------------------------------------------------

mod oracle {
    use super::*;

    const ALNUM: &str = "[a-z0-9]+";
    const SEP: &str = "(?:[._]|__|[-]+)";
    const DOMAIN_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    const OPTIONAL_PORT: &str = "(?::[0-9]+)?";
    // Go's \w is ASCII-only.
    const TAG: &str = "[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
    const DIGEST: &str = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
    const IPV6: &str = r"\[(?:[a-fA-F0-9:]+)\]";

    fn domain_and_port() -> String {
        let domain_name = format!(r"{DOMAIN_COMPONENT}(?:\.{DOMAIN_COMPONENT})*");
        format!("(?:{domain_name}|{IPV6}){OPTIONAL_PORT}")
    }
    fn remote_name() -> String {
        let path_component = format!("{ALNUM}(?:{SEP}{ALNUM})*");
        format!("{path_component}(?:/{path_component})*")
    }

    static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
        let name = format!("(?:{}/)?{}", domain_and_port(), remote_name());
        Regex::new(&format!("^({name})(?::({TAG}))?(?:@({DIGEST}))?$"))
            .expect("oracle regex compiles")
    });
    static ANCHORED_NAME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(
            "^(?:({})/)?({})$",
            domain_and_port(),
            remote_name()
        ))
        .expect("oracle regex compiles")
    });
    static IDENTIFIER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new("^[a-f0-9]{64}$").expect("oracle regex compiles"));
    static GO_DIGEST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new("^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
            .expect("oracle regex compiles")
    });

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Class {
        Empty,
        Format,
        Uppercase,
        TooLong,
        Hex,
        Unsupported,
        DigestFormat,
        DigestLength,
    }

    pub type Parsed = (String, String, Option<String>, Option<String>);

    fn go_lower(s: &str) -> String {
        s.chars()
            .map(|c| {
                if c == '\u{130}' {
                    return 'i';
                }
                let mut l = c.to_lowercase();
                match (l.next(), l.next()) {
                    (Some(x), None) => x,
                    _ => c,
                }
            })
            .collect()
    }

    fn split_docker_domain(name: &str) -> (String, String) {
        let Some((maybe_domain, maybe_remote)) = name.split_once('/') else {
            return ("docker.io".into(), format!("library/{name}"));
        };
        let (domain, mut remote) = if maybe_domain == "localhost" {
            (maybe_domain.to_owned(), maybe_remote.to_owned())
        } else if maybe_domain == "index.docker.io" {
            ("docker.io".to_owned(), maybe_remote.to_owned())
        } else if maybe_domain.contains(['.', ':']) || go_lower(maybe_domain) != maybe_domain {
            (maybe_domain.to_owned(), maybe_remote.to_owned())
        } else {
            ("docker.io".to_owned(), name.to_owned())
        };
        if domain == "docker.io" && !remote.contains('/') {
            remote = format!("library/{remote}");
        }
        (domain, remote)
    }

    fn validate_digest(d: &str) -> Result<(), Class> {
        let Some(i) = d.find(':').filter(|&i| i > 0 && i + 1 != d.len()) else {
            return Err(Class::DigestFormat);
        };
        let (alg, enc) = (&d[..i], &d[i + 1..]);
        let size = match alg {
            "sha256" => 32,
            "sha384" => 48,
            "sha512" => 64,
            _ => {
                return Err(if GO_DIGEST.is_match(d) {
                    Class::Unsupported
                } else {
                    Class::DigestFormat
                });
            }
        };
        if enc.len() != size * 2 {
            return Err(Class::DigestLength);
        }
        if enc.bytes().all(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9')) {
            Ok(())
        } else {
            Err(Class::DigestFormat)
        }
    }

    fn parse(s: &str) -> Result<Parsed, Class> {
        if s.is_empty() {
            return Err(Class::Empty);
        }
        let Some(m) = REFERENCE.captures(s) else {
            let lower = go_lower(s);
            if lower != s && REFERENCE.is_match(&lower) {
                return Err(Class::Uppercase);
            }
            return Err(Class::Format);
        };
        let name = m.get(1).map_or("", |g| g.as_str());
        let (domain, path) = match ANCHORED_NAME.captures(name) {
            Some(n) => (
                n.get(1).map_or("", |g| g.as_str()).to_owned(),
                n.get(2).map_or("", |g| g.as_str()).to_owned(),
            ),
            None => (String::new(), name.to_owned()),
        };
        if path.len() > 255 {
            return Err(Class::TooLong);
        }
        let tag = m.get(2).map(|g| g.as_str().to_owned());
        let digest = m.get(3).map(|g| g.as_str().to_owned());
        if let Some(d) = &digest {
            validate_digest(d)?;
        }
        Ok((domain, path, tag, digest))
    }

    /// `ParseNormalizedNamed`
    pub fn parse_normalized_named(s: &str) -> Result<Parsed, Class> {
        if s.is_empty() {
            // Docker would report "invalid reference format"; the Rust API has a dedicated variant.
            return Err(Class::Empty);
        }
        if IDENTIFIER.is_match(s) {
            return Err(Class::Hex);
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = remainder.split(':').next().unwrap_or("");
        if go_lower(remote) != remote {
            return Err(Class::Uppercase);
        }
        parse(&format!("{domain}/{remainder}"))
    }

    pub fn class_of(e: &ImageRefError) -> Class {
        match e {
            ImageRefError::Empty => Class::Empty,
            ImageRefError::InvalidFormat { .. }
            | ImageRefError::InvalidTag { .. }
            | ImageRefError::InvalidDigest { .. } => Class::Format,
            ImageRefError::Uppercase { .. } => Class::Uppercase,
            ImageRefError::NameTooLong { .. } => Class::TooLong,
            ImageRefError::HexIdentifier { .. } => Class::Hex,
            ImageRefError::UnsupportedDigest { .. } => Class::Unsupported,
            ImageRefError::DigestFormat { .. } => Class::DigestFormat,
            ImageRefError::DigestLength { .. } => Class::DigestLength,
            other => panic!("unexpected error variant {other:?}"),
        }
    }
}

/// Parses with both implementations and asserts they agree; checks the
/// offset invariants and the normalised round trip.
fn check(input: &str) -> Result<(), TestCaseError> {
    let ours = ImageRef::parse(input);
    let theirs = oracle::parse_normalized_named(input);
    match (&ours, &theirs) {
        (Ok(r), Ok((domain, path, tag, digest))) => {
            prop_assert_eq!(r.domain(), domain.as_str(), "domain of {:?}", input);
            prop_assert_eq!(r.path(), path.as_str(), "path of {:?}", input);
            prop_assert_eq!(r.tag(), tag.as_deref(), "tag of {:?}", input);
            prop_assert_eq!(r.digest(), digest.as_deref(), "digest of {:?}", input);
            let again = ImageRef::parse(&r.normalized());
            prop_assert_eq!(again.as_ref(), Ok(r), "round trip of {:?}", input);
            // Like Docker's, the familiar form is ambiguous in two corner cases:
            // `docker.io/library/<64 hex>` becomes a bare image ID, and a Hub
            // namespace that looks like a host (`docker.io/a.b/c`) becomes a domain.
            let familiar = r.familiar();
            let hub_namespace_like_domain = r.is_docker_hub()
                && r.familiar_name()
                    .split_once('/')
                    .is_some_and(|(first, _)| first.contains(['.', ':']) || first == "localhost");
            if familiar.len() != 64 && !hub_namespace_like_domain {
                let back = ImageRef::parse(&familiar);
                prop_assert_eq!(back.as_ref(), Ok(r), "familiar round trip of {:?}", input);
            }
        }
        (Err(e), Err(class)) => {
            prop_assert_eq!(
                oracle::class_of(e),
                *class,
                "error class of {:?}: {:?}",
                input,
                e
            );
            prop_assert!(
                e.offset() <= input.len(),
                "offset past end: {:?} {:?}",
                input,
                e
            );
            prop_assert!(
                input.is_char_boundary(e.offset()),
                "offset not on boundary: {:?} {:?}",
                input,
                e
            );
        }
        _ => prop_assert!(
            false,
            "disagreement on {:?}: ours {:?}, oracle {:?}",
            input,
            ours,
            theirs
        ),
    }
    Ok(())
}

#[test]
fn oracle_agrees_on_docker_tables() {
    for input in valid_inputs().into_iter().chain(invalid_inputs()) {
        check(&input).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Reference-shaped strings: pieces glued together from a small alphabet
/// so that most inputs are near-misses of the grammar.
fn reference_like() -> impl Strategy<Value = String> {
    let domain = prop_oneof![
        Just(String::new()),
        Just("docker.io/".to_owned()),
        Just("index.docker.io/".to_owned()),
        Just("localhost/".to_owned()),
        Just("localhost:5000/".to_owned()),
        "[a-zA-Z0-9._-]{1,8}(:[0-9]{0,5})?/",
        r"\[[a-f0-9:%.]{0,8}\](:[0-9]{1,4})?/",
    ];
    let path = proptest::collection::vec("[a-z0-9._A-]{0,6}", 1..4).prop_map(|p| p.join("/"));
    let tag = prop_oneof![
        Just(String::new()),
        ":[a-zA-Z0-9_.-]{0,10}",
        Just(format!(":{}", "t".repeat(128)))
    ];
    let digest = prop_oneof![
        Just(String::new()),
        "@(sha256|sha512|sha384|SHA256|md5|sha256\\+b64|a\\.b):[a-fA-F0-9]{0,4}"
            .prop_map(|d| d + F64),
        "@[a-z0-9:]{0,8}",
    ];
    let long = prop_oneof![8 => Just(String::new()), 1 => Just("a".repeat(250)), 1 => Just("ab/".repeat(84))];
    (domain, long, path, tag, digest).prop_map(|(d, l, p, t, g)| format!("{d}{l}{p}{t}{g}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn never_panics_on_arbitrary_strings(s in any::<String>()) {
        check(&s)?;
    }

    #[test]
    fn agrees_with_oracle_on_small_alphabet(s in r"[a-zA-Z0-9._:/@\[\]%İK-]{0,24}") {
        check(&s)?;
    }

    #[test]
    fn agrees_with_oracle_on_reference_like(s in reference_like()) {
        check(&s)?;
    }

    #[test]
    fn tag_version_never_panics(s in r"v?[0-9a-z._-]{0,16}") {
        if let Some(t) = TagVersion::parse(&s) {
            prop_assert_eq!(t.tag(), s.as_str());
            prop_assert!(!t.version().components().is_empty());
        }
    }
}
