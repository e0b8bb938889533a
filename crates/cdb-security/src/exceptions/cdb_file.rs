//! cdb's own exceptions file, `security/cve-exceptions.toml`.

use std::collections::HashMap;
use std::path::Path;

use cdb_core::Diagnostic;
use cdb_core::image::ImageRef;
use cdb_core::source::{FileId, SourceMap};
use jiff::civil::Date;
use serde::Deserialize;
use toml::Spanned;

use super::{
    DUPLICATE, Exception, ExceptionSource, ExceptionStatus, INVALID, SYNTAX, is_valid_id,
    offset_location, parse_date,
};

/// Where the exceptions file lives, relative to the repository root.
pub const DEFAULT_PATH: &str = "security/cve-exceptions.toml";

const HELP: &str =
    "see the header of security/cve-exceptions.toml for the fields an exception takes";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    exception: Vec<Spanned<RawException>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    id: Spanned<String>,
    scope: Spanned<String>,
    status: Spanned<String>,
    reason: Spanned<String>,
    review: Spanned<toml::Value>,
    owner: Spanned<String>,
    #[serde(default)]
    package: Option<Spanned<String>>,
}

/// Loads cdb's exceptions file: `text` is the content of `path` (which is added to `sources`
/// and kept, as given, in every [`Exception::path`]). An empty file, or one with only comments,
/// has no exceptions.
///
/// # Errors
///
/// The first problem, pointing at its line: [`SYNTAX`] for TOML that does not parse;
/// [`INVALID`] for an unknown or missing field, a value of the wrong type, a status other than
/// `DEFERRED`, an empty `reason`, `owner`, `scope` or `package`, an id that is neither
/// `CVE-YYYY-NNNN` nor `GHSA-xxxx-xxxx-xxxx`, a review that is not a date; [`DUPLICATE`] for a
/// second exception with the same id, scope (compared normalised) and package.
pub fn load_exceptions(
    path: &Path,
    text: &str,
    sources: &mut SourceMap,
) -> Result<Vec<Exception>, Diagnostic> {
    let file = sources.add(path.to_path_buf(), text.to_string());
    let ctx = Ctx { file, path, text };
    toml::from_str::<toml::Table>(text).map_err(|e| ctx.toml_error(&e, SYNTAX))?;
    let raw: RawFile = toml::from_str(text).map_err(|e| ctx.toml_error(&e, INVALID))?;

    let mut exceptions = Vec::with_capacity(raw.exception.len());
    let mut seen: HashMap<(String, String, Option<String>), u32> = HashMap::new();
    for entry in raw.exception {
        let start = entry.span().start;
        let raw = entry.into_inner();
        let exception = ctx.validate(raw, start)?;
        let key = (
            exception.id.clone(),
            normalised_scope(&exception.scope),
            exception.package.clone(),
        );
        if let Some(first) = seen.get(&key) {
            return Err(Diagnostic::error(
                DUPLICATE,
                format!(
                    "{}: a second exception for {} in scope `{}`{}",
                    path.display(),
                    exception.id,
                    exception.scope,
                    exception
                        .package
                        .as_deref()
                        .map_or_else(String::new, |p| format!(" and package `{p}`"))
                ),
            )
            .at(exception.loc)
            .with_label("duplicate")
            .with_help(format!(
                "the first one is on line {first}: keep one exception per id, scope and package"
            )));
        }
        seen.insert(key, exception.loc.line);
        exceptions.push(exception);
    }
    Ok(exceptions)
}

fn normalised_scope(scope: &str) -> String {
    let scope = scope.trim();
    ImageRef::parse(scope).map_or_else(|_| scope.to_string(), |r| r.normalized())
}

struct Ctx<'a> {
    file: FileId,
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn toml_error(&self, e: &toml::de::Error, code: &'static str) -> Diagnostic {
        let loc = e
            .span()
            .map(|span| offset_location(self.file, self.text, span.start));
        Diagnostic::error(
            code,
            format!("{}: {}", self.path.display(), e.message().trim()),
        )
        .at_opt(loc)
        .with_help(HELP)
    }

    fn invalid<T>(
        &self,
        value: &Spanned<T>,
        message: impl std::fmt::Display,
        help: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::error(INVALID, format!("{}: {message}", self.path.display()))
            .at(offset_location(self.file, self.text, value.span().start))
            .with_help(help)
    }

    fn non_empty(&self, value: &Spanned<String>, field: &str) -> Result<String, Diagnostic> {
        let trimmed = value.get_ref().trim();
        if trimmed.is_empty() {
            return Err(self.invalid(
                value,
                format!("`{field}` is empty"),
                match field {
                    "reason" => "say why the vulnerability cannot be fixed yet and why the risk is acceptable until the review date",
                    "owner" => "name the team or person who reviews the exception",
                    "scope" => "write an image reference as written in the stack, or \"*\" for every image",
                    _ => "remove the field, or give it a value",
                },
            ));
        }
        Ok(trimmed.to_string())
    }

    fn validate(&self, raw: RawException, start: usize) -> Result<Exception, Diagnostic> {
        let id = raw.id.get_ref().trim();
        if !is_valid_id(id) {
            let upper = id.to_ascii_uppercase();
            let help = if is_valid_id(&upper) && upper.starts_with("CVE-") {
                format!("write it as `{upper}`")
            } else {
                "an id is a CVE id (`CVE-2025-45582`) or a GitHub advisory id (`GHSA-jfh8-c2jp-5v3q`)".to_string()
            };
            return Err(self.invalid(
                &raw.id,
                format!("`{id}` is neither a CVE nor a GHSA id"),
                help,
            ));
        }
        let scope = self.non_empty(&raw.scope, "scope")?;
        if raw.status.get_ref().trim() != "DEFERRED" {
            return Err(self.invalid(
                &raw.status,
                format!("unknown status `{}`", raw.status.get_ref()),
                "the only status accepted for now is \"DEFERRED\"",
            ));
        }
        let reason = self.non_empty(&raw.reason, "reason")?;
        let owner = self.non_empty(&raw.owner, "owner")?;
        let package = match &raw.package {
            Some(p) => Some(self.non_empty(p, "package")?),
            None => None,
        };
        let review = self.review(&raw.review)?;
        Ok(Exception {
            id: id.to_string(),
            aliases: Vec::new(),
            scope,
            package,
            status: ExceptionStatus::Deferred,
            justification: None,
            reason,
            review: Some(review),
            last_day: Some(review),
            owner,
            source: ExceptionSource::Cdb,
            path: self.path.to_path_buf(),
            loc: offset_location(self.file, self.text, start),
        })
    }

    fn review(&self, value: &Spanned<toml::Value>) -> Result<Date, Diagnostic> {
        const HELP: &str = "write the review date as a TOML date, e.g. `review = 2027-01-15`";
        match value.get_ref() {
            toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => Date::new(
                    i16::try_from(d.year).unwrap_or(i16::MAX),
                    i8::try_from(d.month).unwrap_or(i8::MAX),
                    i8::try_from(d.day).unwrap_or(i8::MAX),
                )
                .map_err(|e| self.invalid(value, format!("invalid review date: {e}"), HELP)),
                _ => Err(self.invalid(
                    value,
                    format!("review `{dt}` has a time; a review is a date"),
                    HELP,
                )),
            },
            toml::Value::String(s) => parse_date(s).ok_or_else(|| {
                self.invalid(
                    value,
                    format!("review `{s}` is not a date (YYYY-MM-DD)"),
                    HELP,
                )
            }),
            other => Err(self.invalid(
                value,
                format!("`review` must be a date, found {}", other.type_str()),
                HELP,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Vec<Exception>, Diagnostic> {
        load_exceptions(Path::new("e.toml"), text, &mut SourceMap::new())
    }

    const ONE: &str = r#"
[[exception]]
id = "CVE-2025-45582"
scope = "python:3.11-slim"
status = "DEFERRED"
reason = "tar is not used at runtime"
review = 2027-01-15
owner = "platform-team"
package = "tar"
"#;

    #[test]
    fn loads_one() {
        let e = load(ONE).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].id, "CVE-2025-45582");
        assert_eq!(e[0].package.as_deref(), Some("tar"));
        assert_eq!(e[0].review, Some("2027-01-15".parse().unwrap()));
        assert_eq!(e[0].loc.line, 2);
        assert_eq!(e[0].source_line(), "e.toml:2");
    }

    #[test]
    fn empty_file_has_no_exceptions() {
        assert!(load("").unwrap().is_empty());
        assert!(load("# only comments\n").unwrap().is_empty());
    }

    #[test]
    fn review_as_string() {
        let text = ONE.replace("review = 2027-01-15", "review = \"2027-01-15\"");
        assert_eq!(
            load(&text).unwrap()[0].review,
            Some("2027-01-15".parse().unwrap())
        );
    }

    #[test]
    fn errors_point_at_their_line() {
        let cases = [
            ("review = 2027-01-15", "review = 2027-02-30", SYNTAX, 7),
            ("review = 2027-01-15", "review = \"soon\"", INVALID, 7),
            (
                "review = 2027-01-15",
                "review = 2027-01-15T10:00:00",
                INVALID,
                7,
            ),
            ("review = 2027-01-15", "review = 3", INVALID, 7),
            ("package = \"tar\"", "pakage = \"tar\"", INVALID, 9),
            ("owner = \"platform-team\"\n", "", INVALID, 2),
            ("status = \"DEFERRED\"", "status = \"ACCEPTED\"", INVALID, 5),
            (
                "reason = \"tar is not used at runtime\"",
                "reason = \"  \"",
                INVALID,
                6,
            ),
            (
                "id = \"CVE-2025-45582\"",
                "id = \"cve-2025-45582\"",
                INVALID,
                3,
            ),
            ("scope = \"python:3.11-slim\"", "scope = 3", INVALID, 4),
        ];
        for (from, to, code, line) in cases {
            let text = ONE.replace(from, to);
            let e = load(&text).unwrap_err();
            assert_eq!(e.code, code, "{to}: {}", e.message);
            assert_eq!(
                e.location.map(|l| l.line),
                Some(line),
                "{to}: {}",
                e.message
            );
        }
    }

    #[test]
    fn duplicates_compare_scopes_normalised() {
        let second = ONE.replace("python:3.11-slim", "docker.io/library/python:3.11-slim");
        let e = load(&format!("{ONE}{second}")).unwrap_err();
        assert_eq!(e.code, DUPLICATE);
        assert_eq!(e.location.map(|l| l.line), Some(11));
        let other_package = ONE.replace("package = \"tar\"", "");
        assert_eq!(load(&format!("{ONE}{other_package}")).unwrap().len(), 2);
    }
}
