//! Exceptions: vulnerabilities a team defers (or declares not exploitable) until a review date,
//! read from cdb's own file and from two formats scanners already understand, and the
//! first-seen state that makes "known for more than N days" reproducible.
//!
//! # Sources
//!
//! * **cdb's own file**, `security/cve-exceptions.toml` ([`load_exceptions`]): one
//!   `[[exception]]` table per deferral with `id`, `scope`, `status`, `reason`, `review`,
//!   `owner` and an optional `package`. Everything is validated; the first problem is returned as
//!   a [`Diagnostic`] that points at its line.
//! * **OpenVEX** documents ([`load_openvex`]): every `not_affected` statement becomes
//!   exceptions with the status [`ExceptionStatus::NotAffected`]; other statuses are skipped with
//!   a note. See [`load_openvex`] for how products map to scopes and how a review date is
//!   derived.
//! * **`.trivyignore.yaml`** ([`load_trivyignore`]): every `vulnerabilities` entry with an `id`
//!   becomes a [`ExceptionStatus::Deferred`] exception for all images (`scope = "*"`), its
//!   `statement` as the reason and its `expired_at` as the review date.
//!
//! # Expiry: the review day itself still counts
//!
//! An exception applies up to and including its [`Exception::last_day`]; from the day after, it
//! is expired: it covers nothing ([`Match::Expired`]) and is itself a blocking finding
//! ([`expired`]). For cdb's file and OpenVEX the last day is the review date (`review <
//! today` ⇒ expired). Trivy stops honouring an entry at `expired_at` 00:00 UTC, so for a
//! `.trivyignore.yaml` entry the last day is the day *before* `expired_at`: cdb and Trivy agree.
//! An exception with no review date never expires.
//!
//! # Matching
//!
//! [`find`] matches an exception when its id (or one of its aliases) equals the vulnerability's
//! id or one of its aliases (ASCII case-insensitive), its package (if any) equals the package,
//! and its scope matches the image ([`scope_matches`]): `*` matches every image; when both parse
//! as image references they are compared normalised (`python:3.11-slim` is
//! `docker.io/library/python:3.11-slim`), a scope with a digest needs the same digest, a scope
//! with a tag needs the same tag (the image may add a digest), and a scope with neither covers
//! every tag of the repository; otherwise the strings must be equal.
//!
//! # First-seen state and overview
//!
//! [`FirstSeen`] reads and writes `security/cve-first-seen.toml`, the committed record of the
//! day the audit first saw each (id, package, image), so age-based rules give the same answer
//! everywhere; the caller decides when to record and write it. [`exceptions_markdown`] renders
//! `docs/security/CVE_EXCEPTIONS.md`; [`markdown_is_current`] and [`markdown_state_date`] let CI
//! check that the committed overview matches the exceptions.

use std::fmt;
use std::path::PathBuf;

use cdb_core::Diagnostic;
use cdb_core::image::ImageRef;
use cdb_core::source::{FileId, Location};
use jiff::civil::Date;

mod cdb_file;
mod first_seen;
mod markdown;
mod openvex;
mod purl;
mod trivyignore;

pub use cdb_file::{DEFAULT_PATH, load_exceptions};
pub use first_seen::{DEFAULT_STATE_PATH, FirstSeen};
pub use markdown::{
    EXPIRY_WARNING_DAYS, MARKDOWN_PATH, exceptions_markdown, markdown_is_current,
    markdown_state_date,
};
pub use openvex::{load_openvex, load_openvex_with_validity};
pub use trivyignore::load_trivyignore;

/// Diagnostic code: an exceptions file is not valid TOML (or JSON, for OpenVEX).
pub const SYNTAX: &str = "exceptions::syntax";
/// Diagnostic code: a field or value cdb's exceptions file does not accept.
pub const INVALID: &str = "exceptions::invalid";
/// Diagnostic code: two exceptions with the same id, scope and package.
pub const DUPLICATE: &str = "exceptions::duplicate";
/// Diagnostic code: an OpenVEX document cdb cannot read.
pub const OPENVEX: &str = "exceptions::openvex";
/// Diagnostic code: a `.trivyignore.yaml` file cdb cannot read.
pub const TRIVYIGNORE: &str = "exceptions::trivyignore";
/// Diagnostic code (note): an entry of an imported file that cdb does not turn into an
/// exception, and why.
pub const SKIPPED: &str = "exceptions::skipped";
/// Diagnostic code: the first-seen state file cannot be read.
pub const FIRST_SEEN: &str = "exceptions::first-seen";

/// `(code, meaning)` for every diagnostic code of this module, in a stable order.
pub const CODES: &[(&str, &str)] = &[
    (SYNTAX, "an exceptions file is not valid TOML, JSON or YAML"),
    (
        INVALID,
        "a field or value security/cve-exceptions.toml does not accept",
    ),
    (
        DUPLICATE,
        "two exceptions with the same id, scope and package",
    ),
    (OPENVEX, "an OpenVEX document cdb cannot read"),
    (TRIVYIGNORE, "a .trivyignore.yaml file cdb cannot read"),
    (
        SKIPPED,
        "note: an entry of an imported file that does not become an exception",
    ),
    (FIRST_SEEN, "the first-seen state file cannot be read"),
];

/// Why a vulnerability is excepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExceptionStatus {
    /// Known, not fixable yet, deferred until the review date (cdb's file, `.trivyignore.yaml`).
    Deferred,
    /// The image is not affected (an OpenVEX `not_affected` statement).
    NotAffected,
}

impl fmt::Display for ExceptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExceptionStatus::Deferred => "DEFERRED",
            ExceptionStatus::NotAffected => "NOT_AFFECTED",
        })
    }
}

/// The kind of file an exception was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExceptionSource {
    /// cdb's own `security/cve-exceptions.toml`.
    Cdb,
    /// An OpenVEX document.
    OpenVex,
    /// Trivy's `.trivyignore.yaml`.
    TrivyIgnore,
}

impl fmt::Display for ExceptionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExceptionSource::Cdb => "cdb",
            ExceptionSource::OpenVex => "openvex",
            ExceptionSource::TrivyIgnore => "trivyignore",
        })
    }
}

/// One exception: a vulnerability excepted for a scope (and maybe one package) until a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// The vulnerability id (`CVE-…`, `GHSA-…`; any id for imported files).
    pub id: String,
    /// Other ids of the same vulnerability (OpenVEX `aliases`); matching uses them too.
    pub aliases: Vec<String>,
    /// An image reference as written in the stack, or `*` for every image.
    pub scope: String,
    /// The one package it is limited to, if any.
    pub package: Option<String>,
    /// Deferred or not affected.
    pub status: ExceptionStatus,
    /// The OpenVEX justification label (`vulnerable_code_not_in_execute_path` …), if any.
    pub justification: Option<String>,
    /// Why. Empty when an imported file does not say.
    pub reason: String,
    /// The review date as the file states it (`review`, `expired_at`, or the OpenVEX
    /// timestamp plus the validity), if any.
    pub review: Option<Date>,
    /// The last day the exception applies (see the [module docs](self)); `None`: never expires.
    pub last_day: Option<Date>,
    /// Who owns it. Empty when an imported file does not say.
    pub owner: String,
    /// The kind of file it comes from.
    pub source: ExceptionSource,
    /// The file it comes from, as given to the loader.
    pub path: PathBuf,
    /// Where in that file (the `[[exception]]` header, the OpenVEX statement, the Trivy entry).
    pub loc: Location,
}

impl Exception {
    /// Whether the exception no longer applies on `today` (its last day is before `today`).
    pub fn is_expired(&self, today: Date) -> bool {
        self.last_day.is_some_and(|last| last < today)
    }

    /// Whether the exception is about vulnerability `id` (or one of `aliases`).
    pub fn matches_id(&self, id: &str, aliases: &[String]) -> bool {
        let mine = std::iter::once(&self.id).chain(&self.aliases);
        let theirs: Vec<&str> = std::iter::once(id)
            .chain(aliases.iter().map(String::as_str))
            .collect();
        mine.into_iter().any(|m| {
            theirs
                .iter()
                .any(|t| m.trim().eq_ignore_ascii_case(t.trim()))
        })
    }

    /// The scope for display: as written, `*` for every image.
    pub fn scope_display(&self) -> String {
        self.scope.trim().to_string()
    }

    /// The review date for display (`2027-01-15`), or `no review date`.
    pub fn review_display(&self) -> String {
        self.review
            .map_or_else(|| "no review date".to_string(), |d| d.to_string())
    }

    /// One line naming the exception for findings and reports:
    /// `CVE-2025-45582 in tar of python:3.11-slim, DEFERRED until 2027-01-15 (platform-team,
    /// security/cve-exceptions.toml:24)`.
    pub fn describe(&self) -> String {
        let package = self
            .package
            .as_deref()
            .map_or_else(String::new, |p| format!(" in {p}"));
        let scope = if self.scope.trim() == "*" {
            "every image".to_string()
        } else {
            self.scope_display()
        };
        let until = match self.review {
            Some(d) => format!("until {d}"),
            None => "with no review date".to_string(),
        };
        let owner = if self.owner.trim().is_empty() {
            String::new()
        } else {
            format!("{}, ", self.owner.trim())
        };
        format!(
            "{}{package} of {scope}, {} {until} ({owner}{})",
            self.id,
            self.status,
            self.source_line()
        )
    }

    /// `path:line` of the exception, for reports.
    pub fn source_line(&self) -> String {
        format!(
            "{}:{}",
            self.path.display().to_string().replace('\\', "/"),
            self.loc.line
        )
    }

    /// How specific the exception is, for choosing between several that match: an exact
    /// scope beats `*`, a package beats none.
    fn specificity(&self) -> u8 {
        u8::from(self.scope.trim() != "*") * 2 + u8::from(self.package.is_some())
    }
}

/// Whether an exception's `scope` covers `image` (see the [module docs](self)).
pub fn scope_matches(scope: &str, image: &str) -> bool {
    let scope = scope.trim();
    let image = image.trim();
    if scope == "*" {
        return true;
    }
    match (ImageRef::parse(scope), ImageRef::parse(image)) {
        (Ok(s), Ok(i)) => {
            if s.repository() != i.repository() {
                return false;
            }
            match (s.digest(), s.tag()) {
                (Some(digest), _) => i.digest() == Some(digest),
                (None, Some(_)) => s.effective_tag() == i.effective_tag(),
                (None, None) => true,
            }
        }
        _ => scope == image,
    }
}

/// What [`find`] found for one vulnerability in one package of one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match<'a> {
    /// An exception applies: the vulnerability is excepted.
    Covered(&'a Exception),
    /// Exceptions match, but all of them are expired: they stop applying and the caller reports
    /// the vulnerability (and the exception) as blocking.
    Expired(&'a Exception),
    /// No exception is about this vulnerability here.
    None,
}

/// The exception that applies to vulnerability `id` (or any of `aliases`) in `package` of
/// `image` on `today`.
///
/// When several match, an applying one wins over an expired one; among those, the most
/// specific (an exact scope over `*`, a package over none), then the first in `exceptions`.
pub fn find<'a>(
    exceptions: &'a [Exception],
    id: &str,
    aliases: &[String],
    package: &str,
    image: &str,
    today: Date,
) -> Match<'a> {
    let mut covered: Option<&Exception> = None;
    let mut expired: Option<&Exception> = None;
    for exception in exceptions {
        let package_matches = exception
            .package
            .as_deref()
            .is_none_or(|p| p.trim() == package.trim());
        if !package_matches
            || !exception.matches_id(id, aliases)
            || !scope_matches(&exception.scope, image)
        {
            continue;
        }
        let slot = if exception.is_expired(today) {
            &mut expired
        } else {
            &mut covered
        };
        if slot.is_none_or(|best| exception.specificity() > best.specificity()) {
            *slot = Some(exception);
        }
    }
    match (covered, expired) {
        (Some(e), _) => Match::Covered(e),
        (None, Some(e)) => Match::Expired(e),
        (None, None) => Match::None,
    }
}

/// Every exception that is expired on `today`, whether or not it matches anything: an expired
/// exception is itself a blocking finding. In the order given.
pub fn expired(exceptions: &[Exception], today: Date) -> Vec<&Exception> {
    exceptions.iter().filter(|e| e.is_expired(today)).collect()
}

/// The exceptions and notes an imported file (OpenVEX, `.trivyignore.yaml`) yields.
///
/// It iterates over its exceptions (`all.extend(load_trivyignore(…)?)`), which drops the notes:
/// read [`Imported::notes`] first to show them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    /// The exceptions, in document order.
    pub exceptions: Vec<Exception>,
    /// Notes ([`SKIPPED`], severity note) on what was not imported and why, each pointing at
    /// its entry.
    pub notes: Vec<Diagnostic>,
}

impl IntoIterator for Imported {
    type Item = Exception;
    type IntoIter = std::vec::IntoIter<Exception>;
    fn into_iter(self) -> Self::IntoIter {
        self.exceptions.into_iter()
    }
}

/// A note diagnostic (code [`SKIPPED`]) at `loc`.
fn skipped(message: impl Into<String>, loc: Location) -> Diagnostic {
    Diagnostic {
        severity: cdb_core::Severity::Note,
        ..Diagnostic::error(SKIPPED, message).at(loc)
    }
}

/// The location of byte `offset` in `text` (clamped to the text).
fn offset_location(file: FileId, text: &str, offset: usize) -> Location {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location::new(file, to_u32(line), to_u32(col))
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Parses a `YYYY-MM-DD` date (exactly that form).
fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let bytes = text.as_bytes();
    if bytes.len() != 10
        || bytes.get(4) != Some(&b'-')
        || bytes.get(7) != Some(&b'-')
        || !text
            .char_indices()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return None;
    }
    text.parse::<Date>().ok()
}

/// Whether `id` is a CVE id (`CVE-YYYY-NNNN…`, at least four digits) or a GitHub advisory id
/// (`GHSA-xxxx-xxxx-xxxx`).
pub fn is_valid_id(id: &str) -> bool {
    if let Some(rest) = id.strip_prefix("CVE-") {
        let Some((year, number)) = rest.split_once('-') else {
            return false;
        };
        return year.len() == 4
            && year.bytes().all(|b| b.is_ascii_digit())
            && number.len() >= 4
            && number.bytes().all(|b| b.is_ascii_digit());
    }
    if let Some(rest) = id.strip_prefix("GHSA-") {
        let parts: Vec<&str> = rest.split('-').collect();
        return parts.len() == 3
            && parts.iter().all(|p| {
                p.len() == 4
                    && p.bytes()
                        .all(|b| b"23456789cfghjmpqrvwx".contains(&b.to_ascii_lowercase()))
            });
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn exception(id: &str, scope: &str, package: Option<&str>, review: Option<&str>) -> Exception {
        Exception {
            id: id.into(),
            aliases: Vec::new(),
            scope: scope.into(),
            package: package.map(Into::into),
            status: ExceptionStatus::Deferred,
            justification: None,
            reason: "r".into(),
            review: review.map(date),
            last_day: review.map(date),
            owner: "o".into(),
            source: ExceptionSource::Cdb,
            path: PathBuf::from("x.toml"),
            loc: Location::new(FileId(0), 1, 1),
        }
    }

    #[test]
    fn ids() {
        assert!(is_valid_id("CVE-2025-45582"));
        assert!(is_valid_id("CVE-2021-1234567"));
        assert!(is_valid_id("GHSA-jfh8-c2jp-5v3q"));
        assert!(!is_valid_id("cve-2025-45582"));
        assert!(!is_valid_id("CVE-25-45582"));
        assert!(!is_valid_id("CVE-2025-455"));
        assert!(!is_valid_id("GHSA-jfh8-c2jp"));
        assert!(!is_valid_id("GHSA-aaaa-bbbb-cccc"));
        assert!(!is_valid_id("DSA-4686-1"));
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2027-01-15"), Some(date("2027-01-15")));
        assert_eq!(parse_date("2027-02-30"), None);
        assert_eq!(parse_date("20270115"), None);
        assert_eq!(parse_date("2027-1-15"), None);
        assert_eq!(parse_date("+2027-01-1"), None);
    }

    #[test]
    fn scopes() {
        assert!(scope_matches("*", "anything at all"));
        assert!(scope_matches(
            "python:3.11-slim",
            "docker.io/library/python:3.11-slim"
        ));
        assert!(scope_matches(
            "python:3.11-slim",
            "python:3.11-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000"
        ));
        assert!(!scope_matches("python:3.11-slim", "python:3.12-slim"));
        assert!(scope_matches("postgres:latest", "postgres"));
        assert!(scope_matches("python", "python:3.12-slim"));
        assert!(!scope_matches("python", "ghcr.io/x/python:3.12"));
        let d = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        assert!(scope_matches(
            &format!("redis@{d}"),
            &format!("redis:7@{d}")
        ));
        assert!(!scope_matches(&format!("redis@{d}"), "redis:7"));
        assert!(scope_matches("${IMAGE}", "${IMAGE}"));
        assert!(!scope_matches("${IMAGE}", "redis"));
    }

    #[test]
    fn describe() {
        let e = exception(
            "CVE-2025-0001",
            "python:3.11-slim",
            Some("tar"),
            Some("2027-01-15"),
        );
        assert_eq!(
            e.describe(),
            "CVE-2025-0001 in tar of python:3.11-slim, DEFERRED until 2027-01-15 (o, x.toml:1)"
        );
        let mut e = exception("CVE-2025-0001", "*", None, None);
        e.owner = String::new();
        assert_eq!(
            e.describe(),
            "CVE-2025-0001 of every image, DEFERRED with no review date (x.toml:1)"
        );
        assert_eq!(e.review_display(), "no review date");
        assert_eq!(e.scope_display(), "*");
    }

    #[test]
    fn review_day_itself_applies() {
        let e = [exception("CVE-2025-0001", "*", None, Some("2027-01-15"))];
        let on = |d: &str| find(&e, "CVE-2025-0001", &[], "tar", "img", date(d));
        assert_eq!(on("2027-01-14"), Match::Covered(&e[0]));
        assert_eq!(on("2027-01-15"), Match::Covered(&e[0]));
        assert_eq!(on("2027-01-16"), Match::Expired(&e[0]));
        assert!(expired(&e, date("2027-01-15")).is_empty());
        assert_eq!(expired(&e, date("2027-01-16")), vec![&e[0]]);
    }

    #[test]
    fn matching_prefers_applying_and_specific() {
        let e = [
            exception("CVE-2025-0001", "*", None, Some("2026-01-01")),
            exception("CVE-2025-0001", "*", None, None),
            exception("CVE-2025-0001", "redis:7", Some("openssl"), None),
            exception("GHSA-jfh8-c2jp-5v3q", "*", Some("log4j"), None),
        ];
        let today = date("2026-06-01");
        assert_eq!(
            find(&e, "CVE-2025-0001", &[], "zlib", "redis:7", today),
            Match::Covered(&e[1])
        );
        assert_eq!(
            find(&e, "cve-2025-0001", &[], "openssl", "redis:7", today),
            Match::Covered(&e[2])
        );
        assert_eq!(
            find(&e[..1], "CVE-2025-0001", &[], "zlib", "redis:7", today),
            Match::Expired(&e[0])
        );
        let aliases = vec!["GHSA-jfh8-c2jp-5v3q".to_string()];
        assert_eq!(
            find(&e, "CVE-2021-44228", &aliases, "log4j", "app", today),
            Match::Covered(&e[3])
        );
        assert_eq!(
            find(&e, "CVE-2021-44228", &aliases, "other", "app", today),
            Match::None
        );
        assert_eq!(
            find(&e, "CVE-2025-9999", &[], "zlib", "redis:7", today),
            Match::None
        );
    }

    #[test]
    fn offsets() {
        let text = "ab\ncdé\nf";
        assert_eq!(
            offset_location(FileId(0), text, 0),
            Location::new(FileId(0), 1, 1)
        );
        assert_eq!(
            offset_location(FileId(0), text, 5),
            Location::new(FileId(0), 2, 3)
        );
        assert_eq!(
            offset_location(FileId(0), text, 6),
            Location::new(FileId(0), 2, 3)
        );
        assert_eq!(
            offset_location(FileId(0), text, 99),
            Location::new(FileId(0), 3, 2)
        );
    }
}
