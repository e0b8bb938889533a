//! Exceptions: cdb's own file, OpenVEX and `.trivyignore.yaml` imports, matching and expiry,
//! the first-seen state and the generated Markdown overview.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cdb_core::source::SourceMap;
use cdb_security::exceptions::{
    self, Exception, ExceptionSource, ExceptionStatus, FirstSeen, Imported, Match,
};
use jiff::civil::Date;

const FAKE_PATH: &str = "/repo/security/cve-exceptions.toml";

fn date(s: &str) -> Date {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn repo_file(relative: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    (path, text)
}

fn fixture(name: &str) -> (PathBuf, String) {
    let relative = PathBuf::from("tests/fixtures").join(name);
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(&relative))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", relative.display()));
    (relative, text)
}

fn load_text(text: &str) -> Result<Vec<Exception>, String> {
    let mut sources = SourceMap::new();
    exceptions::load_exceptions(Path::new(FAKE_PATH), text, &mut sources)
        .map_err(|d| d.render(&sources))
}

/// One line per exception: what the import produced.
fn summary(exceptions: &[Exception]) -> String {
    let mut out = String::new();
    for e in exceptions {
        let _ = writeln!(
            out,
            "line {}: {} aliases={:?} scope={} package={} status={} review={} last_day={} owner={:?}\n    reason: {}",
            e.loc.line,
            e.id,
            e.aliases,
            e.scope,
            e.package.as_deref().unwrap_or("-"),
            e.status,
            e.review.map_or_else(|| "-".to_string(), |d| d.to_string()),
            e.last_day
                .map_or_else(|| "-".to_string(), |d| d.to_string()),
            e.owner,
            e.reason,
        );
    }
    out
}

fn imported_summary(imported: &Imported, sources: &SourceMap) -> String {
    let mut out = summary(&imported.exceptions);
    for note in &imported.notes {
        out.push('\n');
        out.push_str(&note.render(sources));
    }
    out
}

// --- cdb's own file -------------------------------------------------------------------------

#[test]
fn the_repository_file_loads() {
    let (path, text) = repo_file(exceptions::DEFAULT_PATH);
    let mut sources = SourceMap::new();
    let loaded = exceptions::load_exceptions(&path, &text, &mut sources)
        .unwrap_or_else(|d| panic!("{}", d.render(&sources)));
    assert_eq!(loaded.len(), 1, "the file holds one worked example");
    let e = &loaded[0];
    assert_eq!(e.id, "CVE-2025-45582");
    assert_eq!(e.scope, "python:3.11-slim");
    assert_eq!(e.package.as_deref(), Some("tar"));
    assert_eq!(e.status, ExceptionStatus::Deferred);
    assert_eq!(e.source, ExceptionSource::Cdb);
    assert_eq!(e.owner, "platform-team");
    assert!(e.review.is_some_and(|d| d.year() == 2027));
    assert!(text.lines().nth(e.loc.line as usize - 1) == Some("[[exception]]"));
}

const VALID: &str = r#"# exceptions
[[exception]]
id = "CVE-2025-45582"
scope = "python:3.11-slim"
status = "DEFERRED"
reason = "tar is not used at runtime; no fixed package in Debian yet"
review = 2027-01-15
owner = "platform-team"
package = "tar"

[[exception]]
id = "GHSA-jfh8-c2jp-5v3q"
scope = "*"
status = "DEFERRED"
reason = "log4j-core is not on the class path of any service"
review = "2026-08-01"
owner = "paper-team"
"#;

#[test]
fn a_valid_file_loads_with_locations() {
    let loaded = load_text(VALID).unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded[0].loc.line, 2);
    assert_eq!(loaded[1].loc.line, 11);
    assert_eq!(loaded[1].review, Some(date("2026-08-01")));
    assert_eq!(loaded[1].package, None);
    assert_eq!(loaded[1].source_line(), format!("{FAKE_PATH}:11"));
}

#[test]
fn every_error_points_at_its_line() {
    let dup = VALID
        .replace("GHSA-jfh8-c2jp-5v3q", "CVE-2025-45582")
        .replace(
            "scope = \"*\"",
            "scope = \"docker.io/library/python:3.11-slim\"\npackage = \"tar\"",
        );
    let cases: Vec<(&str, String)> = vec![
        (
            "syntax",
            VALID.replace("owner = \"paper-team\"", "owner = \"paper-team"),
        ),
        (
            "invalid_toml_date",
            VALID.replace("2027-01-15", "2027-02-30"),
        ),
        (
            "bad_date_string",
            VALID.replace("\"2026-08-01\"", "\"2026-8-1\""),
        ),
        (
            "review_with_time",
            VALID.replace("2027-01-15", "2027-01-15T09:00:00Z"),
        ),
        ("review_wrong_type", VALID.replace("\"2026-08-01\"", "true")),
        (
            "unknown_field",
            VALID.replace("package = \"tar\"", "packages = [\"tar\"]"),
        ),
        (
            "unknown_top_level",
            format!("{VALID}\n[exceptions]\nid = 1\n"),
        ),
        (
            "missing_field",
            VALID.replace("owner = \"paper-team\"\n", ""),
        ),
        (
            "wrong_type",
            VALID.replace("scope = \"*\"", "scope = [\"*\"]"),
        ),
        (
            "bad_status",
            VALID.replace(
                "status = \"DEFERRED\"\nreason = \"log4j",
                "status = \"ACCEPTED\"\nreason = \"log4j",
            ),
        ),
        (
            "empty_reason",
            VALID.replace(
                "\"log4j-core is not on the class path of any service\"",
                "\"\"",
            ),
        ),
        ("empty_owner", VALID.replace("\"platform-team\"", "\"  \"")),
        (
            "empty_package",
            VALID.replace("package = \"tar\"", "package = \"\""),
        ),
        (
            "bad_id",
            VALID.replace("\"CVE-2025-45582\"", "\"DSA-5678-1\""),
        ),
        (
            "lowercase_id",
            VALID.replace("\"CVE-2025-45582\"", "\"cve-2025-45582\""),
        ),
        ("duplicate", dup),
    ];
    for (name, text) in cases {
        let rendered = load_text(&text).expect_err(name);
        insta::assert_snapshot!(format!("error_{name}"), rendered);
    }
}

#[test]
fn an_empty_file_has_no_exceptions() {
    assert_eq!(load_text("").unwrap(), Vec::new());
    assert_eq!(load_text("# nothing deferred\n").unwrap(), Vec::new());
}

// --- matching and expiry --------------------------------------------------------------------

#[test]
fn the_review_day_itself_still_counts() {
    let loaded = load_text(VALID).unwrap();
    let tar = |today: &str| {
        exceptions::find(
            &loaded,
            "CVE-2025-45582",
            &[],
            "tar",
            "docker.io/library/python:3.11-slim",
            date(today),
        )
    };
    assert_eq!(tar("2027-01-14"), Match::Covered(&loaded[0]));
    assert_eq!(tar("2027-01-15"), Match::Covered(&loaded[0]));
    assert_eq!(tar("2027-01-16"), Match::Expired(&loaded[0]));

    assert!(exceptions::expired(&loaded, date("2026-08-01")).is_empty());
    assert_eq!(
        exceptions::expired(&loaded, date("2026-08-02")),
        vec![&loaded[1]]
    );
    assert_eq!(
        exceptions::expired(&loaded, date("2027-01-16")),
        vec![&loaded[0], &loaded[1]]
    );
}

#[test]
fn matching_needs_id_scope_and_package() {
    let loaded = load_text(VALID).unwrap();
    let today = date("2026-06-01");
    let find = |id: &str, aliases: &[String], package: &str, image: &str| {
        exceptions::find(&loaded, id, aliases, package, image, today)
    };
    // Scope: the same image written differently, another tag, another image.
    assert_eq!(
        find("CVE-2025-45582", &[], "tar", "python:3.11-slim"),
        Match::Covered(&loaded[0])
    );
    assert_eq!(
        find("CVE-2025-45582", &[], "tar", "python:3.12-slim"),
        Match::None
    );
    assert_eq!(find("CVE-2025-45582", &[], "tar", "redis:7"), Match::None);
    // Package.
    assert_eq!(
        find("CVE-2025-45582", &[], "cpio", "python:3.11-slim"),
        Match::None
    );
    // `*` scope, no package, matched through an alias.
    let aliases = vec!["GHSA-jfh8-c2jp-5v3q".to_string()];
    assert_eq!(
        find(
            "CVE-2021-44228",
            &aliases,
            "log4j-core",
            "ghcr.io/acme/app:1"
        ),
        Match::Covered(&loaded[1])
    );
    assert_eq!(find("CVE-2021-44228", &[], "log4j-core", "x"), Match::None);
}

// --- OpenVEX --------------------------------------------------------------------------------

#[test]
fn openvex_fixture() {
    let (path, text) = fixture("openvex.json");
    let mut sources = SourceMap::new();
    let imported = exceptions::load_openvex(&path, &text, &mut sources)
        .unwrap_or_else(|d| panic!("{}", d.render(&sources)));
    insta::assert_snapshot!("openvex", imported_summary(&imported, &sources));

    let redis = "redis:7.4.6-alpine3.22@sha256:5b1d8a8f6c0e4b9f2a7d3c1e0f9b8a7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a19";
    let today = date("2030-01-01");
    let all = &imported.exceptions;
    assert!(matches!(
        exceptions::find(all, "CVE-2023-45853", &[], "zlib", redis, today),
        Match::Covered(e) if e.status == ExceptionStatus::NotAffected
    ));
    // The statement is about that digest: the tag alone is not covered.
    assert_eq!(
        exceptions::find(
            all,
            "CVE-2023-45853",
            &[],
            "zlib",
            "redis:7.4.6-alpine3.22",
            today
        ),
        Match::None
    );
    // A scanner that reports the Go id with the CVE as an alias.
    let aliases = vec!["CVE-2025-22871".to_string()];
    assert!(matches!(
        exceptions::find(
            all,
            "GO-2025-3563",
            &aliases,
            "stdlib",
            "prom/prometheus:v3.5.0",
            today
        ),
        Match::Covered(_)
    ));
}

#[test]
fn openvex_validity_counts_from_the_statement_timestamp() {
    let (path, text) = fixture("openvex.json");
    let mut sources = SourceMap::new();
    let imported =
        exceptions::load_openvex_with_validity(&path, &text, &mut sources, Some(90)).unwrap();
    let reviews: Vec<(&str, Option<Date>)> = imported
        .exceptions
        .iter()
        .map(|e| (e.id.as_str(), e.last_day))
        .collect();
    // 2026-03-01T22:30-03:00 is 2026-03-02 UTC; the others inherit the document's 2026-03-02.
    let expected = Some(date("2026-05-31"));
    assert_eq!(
        reviews,
        vec![
            ("CVE-2023-45853", expected),
            ("CVE-2025-22871", expected),
            ("CVE-2025-22871", expected),
            ("CVE-2025-45582", expected),
        ]
    );
}

// --- .trivyignore.yaml ----------------------------------------------------------------------

#[test]
fn trivyignore_fixture() {
    let (path, text) = fixture("trivyignore.yaml");
    let mut sources = SourceMap::new();
    let imported = exceptions::load_trivyignore(&path, &text, &mut sources)
        .unwrap_or_else(|d| panic!("{}", d.render(&sources)));
    insta::assert_snapshot!("trivyignore", imported_summary(&imported, &sources));

    // Trivy stops honouring an entry on its `expired_at` day; so does cdb.
    let all = &imported.exceptions;
    let on =
        |today: &str| exceptions::find(all, "CVE-2025-45582", &[], "tar", "any:1", date(today));
    assert!(matches!(on("2026-12-30"), Match::Covered(_)));
    assert!(matches!(on("2026-12-31"), Match::Expired(_)));
    assert!(matches!(
        exceptions::find(
            all,
            "CVE-2023-45853",
            &[],
            "zlib-dev",
            "redis:7",
            date("2026-01-01")
        ),
        Match::Covered(_)
    ));
    assert_eq!(
        exceptions::find(
            all,
            "CVE-2023-45853",
            &[],
            "musl",
            "redis:7",
            date("2026-01-01")
        ),
        Match::None
    );
}

#[test]
fn trivyignore_errors() {
    let mut sources = SourceMap::new();
    let e = exceptions::load_trivyignore(
        Path::new("/repo/.trivyignore.yaml"),
        "vulnerabilities:\n  - id: CVE-2025-45582\n    expired_at: next year\n",
        &mut sources,
    )
    .unwrap_err();
    insta::assert_snapshot!("trivyignore_error", e.render(&sources));
}

// --- first-seen state -----------------------------------------------------------------------

#[test]
fn the_repository_state_file_loads_and_is_stable() {
    let (path, text) = repo_file(exceptions::DEFAULT_STATE_PATH);
    let mut sources = SourceMap::new();
    let state = FirstSeen::load(&path, &text, &mut sources)
        .unwrap_or_else(|d| panic!("{}", d.render(&sources)));
    assert_eq!(
        state.to_toml(),
        text,
        "the committed file is what cdb writes"
    );
}

#[test]
fn first_seen_round_trip() {
    let mut state = FirstSeen::new();
    assert!(state.record(
        "CVE-2025-45582",
        "tar",
        "python:3.11-slim",
        date("2026-03-02")
    ));
    assert!(state.record(
        "CVE-2023-45853",
        "zlib",
        "redis:7.4.6-alpine3.22",
        date("2026-03-05")
    ));
    assert!(state.record(
        "CVE-2023-45853",
        "zlib",
        "postgres:17.6-alpine3.22",
        date("2026-03-05")
    ));
    // Seen again later: the first date stays.
    assert!(!state.record(
        "CVE-2025-45582",
        "tar",
        "python:3.11-slim",
        date("2026-04-01")
    ));
    let text = state.to_toml();
    insta::assert_snapshot!("first_seen", text);

    let mut sources = SourceMap::new();
    let back = FirstSeen::load(
        Path::new("security/cve-first-seen.toml"),
        &text,
        &mut sources,
    )
    .unwrap();
    assert_eq!(back, state);
    assert_eq!(back.to_toml(), text);
    assert_eq!(
        back.get("CVE-2025-45582", "tar", "python:3.11-slim"),
        Some(date("2026-03-02"))
    );
    assert_eq!(back.get("CVE-2025-45582", "tar", "python:3.12-slim"), None);
}

#[test]
fn first_seen_errors_point_at_their_line() {
    let mut sources = SourceMap::new();
    let text = "# state\nseen = [\n  { id = \"CVE-2025-45582\", package = \"tar\", image = \"python:3.11-slim\", date = \"March\" },\n]\n";
    let e = FirstSeen::load(
        Path::new("/repo/security/cve-first-seen.toml"),
        text,
        &mut sources,
    )
    .unwrap_err();
    insta::assert_snapshot!("first_seen_error", e.render(&sources));
}

// --- Markdown -------------------------------------------------------------------------------

#[test]
fn markdown_overview() {
    let mut sources = SourceMap::new();
    let mut all = exceptions::load_exceptions(
        Path::new("security/cve-exceptions.toml"),
        VALID,
        &mut sources,
    )
    .unwrap();
    let (path, text) = fixture("trivyignore.yaml");
    all.extend(
        exceptions::load_trivyignore(&path, &text, &mut sources)
            .unwrap()
            .exceptions,
    );
    let (path, text) = fixture("openvex.json");
    // `Imported` iterates over its exceptions.
    all.extend(exceptions::load_openvex(&path, &text, &mut sources).unwrap());
    let today = date("2026-09-15");
    let markdown = exceptions::exceptions_markdown(&all, today);
    insta::assert_snapshot!("markdown", markdown);

    // Deterministic whatever the input order.
    all.reverse();
    assert_eq!(exceptions::exceptions_markdown(&all, today), markdown);
    assert!(exceptions::markdown_is_current(
        &markdown.replace('\n', "  \r\n"),
        &markdown
    ));
    assert!(!exceptions::markdown_is_current(
        &markdown,
        &exceptions::exceptions_markdown(&all, date("2026-09-16"))
    ));
    // A CI check regenerates with the committed overview's own date, so it does not churn daily.
    let committed_date = exceptions::markdown_state_date(&markdown);
    assert_eq!(committed_date, Some(today));
    assert!(exceptions::markdown_is_current(
        &markdown,
        &exceptions::exceptions_markdown(&all, committed_date.unwrap_or(date("2030-01-01")))
    ));
    // An edited exception makes it stale.
    all[0].reason.push_str(" (edited)");
    assert!(!exceptions::markdown_is_current(
        &markdown,
        &exceptions::exceptions_markdown(&all, today)
    ));
}
