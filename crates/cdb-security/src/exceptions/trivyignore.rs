//! Trivy's `.trivyignore.yaml` as exceptions.

use std::path::Path;

use cdb_core::Diagnostic;
use cdb_core::compose::yaml::{Node, parse_documents};
use cdb_core::source::{Location, SourceMap};
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::purl::Purl;
use super::{
    Exception, ExceptionSource, ExceptionStatus, Imported, SYNTAX, TRIVYIGNORE, parse_date, skipped,
};

/// Loads Trivy's `.trivyignore.yaml`: `text` is the content of `path`, which is added to
/// `sources`.
///
/// The file has the sections `vulnerabilities`, `misconfigurations`, `secrets` and `licenses`,
/// each a list of `{id, paths, purls, expired_at, statement}`. Only `vulnerabilities` is read:
///
/// * an entry with an `id` becomes a [`ExceptionStatus::Deferred`] exception for every image
///   (`scope = "*"`: the file is not tied to one image), one per purl of `purls` (the purl's name
///   is the package) or one for every package without `purls`; `statement` is the reason
///   (empty if absent) and the owner is empty;
/// * `expired_at` (`2026-12-31`, or an RFC 3339 timestamp) is the review date. Trivy stops
///   honouring the entry at that instant (00:00 UTC for a date), so the exception's last day is
///   the day before (see [`Exception::last_day`]); without `expired_at` it never expires;
/// * an entry without `id` (Trivy then ignores every vulnerability of its purls or paths) or
///   with `paths` (file paths inside the image, which cdb's findings do not carry) is skipped
///   with a note rather than widened to more than Trivy ignores.
///
/// Unknown keys are ignored with a note, as Trivy ignores them.
///
/// # Errors
///
/// [`SYNTAX`] for YAML that does not parse; [`TRIVYIGNORE`] for a top level that is not a
/// mapping, a `vulnerabilities` that is not a list, an entry that is not a mapping, an `id` or
/// `statement` that is not a scalar, a `purls` that is not a list of purls, or an `expired_at`
/// that is not a date (Trivy rejects all of these too).
pub fn load_trivyignore(
    path: &Path,
    text: &str,
    sources: &mut SourceMap,
) -> Result<Imported, Diagnostic> {
    let file = sources.add(path.to_path_buf(), text.to_string());
    let docs = parse_documents(file, text).map_err(|e| {
        Diagnostic::error(SYNTAX, format!("{}: {}", path.display(), e.message))
            .at(e.loc)
            .with_help("fix the YAML syntax")
    })?;
    let ctx = Ctx { path };
    let mut imported = Imported::default();
    let Some(root) = docs.first().filter(|d| !d.is_null()) else {
        return Ok(imported);
    };
    let Some(root) = root.as_map() else {
        return Err(ctx.error(
            format!("the top level is {}, not a mapping", root.kind_name()),
            root.loc,
        ));
    };
    for (key, value) in root.iter() {
        match key.name.as_str() {
            "vulnerabilities" => {}
            "misconfigurations" | "secrets" | "licenses" => continue,
            other => {
                imported.notes.push(skipped(
                    format!(
                        "{}: unknown section `{other}` ignored (Trivy ignores it too)",
                        path.display()
                    ),
                    key.loc,
                ));
                continue;
            }
        }
        if value.is_null() {
            continue;
        }
        let Some(entries) = value.as_seq() else {
            return Err(ctx.error(
                format!("`vulnerabilities` is {}, not a list", value.kind_name()),
                value.loc,
            ));
        };
        for entry in entries {
            ctx.entry(entry, &mut imported)?;
        }
    }
    Ok(imported)
}

struct Ctx<'a> {
    path: &'a Path,
}

impl Ctx<'_> {
    fn error(&self, message: impl std::fmt::Display, loc: Location) -> Diagnostic {
        Diagnostic::error(TRIVYIGNORE, format!("{}: {message}", self.path.display()))
            .at(loc)
            .with_help("see Trivy's documentation of .trivyignore.yaml (configuration/filtering)")
    }

    fn scalar(&self, node: &Node, key: &str) -> Result<Option<String>, Diagnostic> {
        if node.is_null() {
            return Ok(None);
        }
        match node.scalar_text() {
            Some(s) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
            None => Err(self.error(
                format!("`{key}` is {}, not a scalar", node.kind_name()),
                node.loc,
            )),
        }
    }

    fn entry(&self, entry: &Node, imported: &mut Imported) -> Result<(), Diagnostic> {
        let Some(map) = entry.as_map() else {
            return Err(self.error(
                format!("an entry is {}, not a mapping", entry.kind_name()),
                entry.loc,
            ));
        };
        let mut id = None;
        let mut statement = None;
        let mut expires = None;
        let mut packages: Vec<String> = Vec::new();
        let mut has_paths = false;
        for (key, value) in map.iter() {
            match key.name.as_str() {
                "id" => id = self.scalar(value, "id")?,
                "statement" => statement = self.scalar(value, "statement")?,
                "expired_at" => expires = self.expired_at(value)?,
                "paths" => {
                    has_paths = !value.is_null() && value.as_seq().is_none_or(|s| !s.is_empty())
                }
                "purls" => packages = self.purls(value)?,
                other => imported.notes.push(skipped(
                    format!(
                        "{}: unknown key `{other}` ignored (Trivy ignores it too)",
                        self.path.display()
                    ),
                    key.loc,
                )),
            }
        }
        let Some(id) = id else {
            imported.notes.push(skipped(
                format!(
                    "{}: an entry without `id` (it ignores every vulnerability of its purls or paths) is not imported; cdb excepts one vulnerability at a time",
                    self.path.display()
                ),
                entry.loc,
            ));
            return Ok(());
        };
        if has_paths {
            imported.notes.push(skipped(
                format!(
                    "{}: the entry for {id} is limited to `paths`, which cdb cannot match; it is not imported",
                    self.path.display()
                ),
                entry.loc,
            ));
            return Ok(());
        }
        let (review, last_day) = expires.unzip();
        let packages: Vec<Option<String>> = if packages.is_empty() {
            vec![None]
        } else {
            packages.into_iter().map(Some).collect()
        };
        for package in packages {
            imported.exceptions.push(Exception {
                id: id.clone(),
                aliases: Vec::new(),
                scope: "*".to_string(),
                package,
                status: ExceptionStatus::Deferred,
                justification: None,
                reason: statement.clone().unwrap_or_default(),
                review,
                last_day,
                owner: String::new(),
                source: ExceptionSource::TrivyIgnore,
                path: self.path.to_path_buf(),
                loc: entry.loc,
            });
        }
        Ok(())
    }

    /// `(review, last day)` of an `expired_at`.
    fn expired_at(&self, node: &Node) -> Result<Option<(Date, Date)>, Diagnostic> {
        let Some(text) = self.scalar(node, "expired_at")? else {
            return Ok(None);
        };
        let instant = match parse_date(&text) {
            Some(date) => date.to_zoned_datetime(TimeZone::UTC).map(|z| z.timestamp()),
            None => text.parse::<jiff::Timestamp>(),
        };
        let bad = || {
            self.error(
                format!(
                    "`expired_at` `{text}` is not a date (YYYY-MM-DD) nor an RFC 3339 timestamp"
                ),
                node.loc,
            )
        };
        let instant = instant.map_err(|_| bad())?;
        let review = instant.to_zoned_datetime(TimeZone::UTC).date();
        let last = instant
            .checked_sub(jiff::SignedDuration::from_nanos(1))
            .map_err(|_| bad())?
            .to_zoned_datetime(TimeZone::UTC)
            .date();
        Ok(Some((review, last)))
    }

    fn purls(&self, node: &Node) -> Result<Vec<String>, Diagnostic> {
        if node.is_null() {
            return Ok(Vec::new());
        }
        let Some(items) = node.as_seq() else {
            return Err(self.error(
                format!("`purls` is {}, not a list", node.kind_name()),
                node.loc,
            ));
        };
        let mut names = Vec::new();
        for item in items {
            let text = item.as_str().unwrap_or("");
            let Some(purl) = Purl::parse(text) else {
                return Err(self.error(format!("`{text}` is not a purl"), item.loc));
            };
            if !names.contains(&purl.name) {
                names.push(purl.name);
            }
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Imported, Diagnostic> {
        load_trivyignore(Path::new(".trivyignore.yaml"), text, &mut SourceMap::new())
    }

    #[test]
    fn empty_files() {
        assert_eq!(load("").unwrap(), Imported::default());
        assert_eq!(load("vulnerabilities:\n").unwrap(), Imported::default());
    }

    #[test]
    fn expired_at_is_exclusive() {
        let i = load("vulnerabilities:\n  - id: CVE-2024-1\n    expired_at: 2026-12-31\n").unwrap();
        let e = &i.exceptions[0];
        assert_eq!(e.review, Some("2026-12-31".parse().unwrap()));
        assert_eq!(e.last_day, Some("2026-12-30".parse().unwrap()));
        assert!(e.is_expired("2026-12-31".parse().unwrap()));
        let i =
            load("vulnerabilities:\n  - id: CVE-2024-1\n    expired_at: 2026-12-31T12:00:00Z\n")
                .unwrap();
        assert_eq!(
            i.exceptions[0].last_day,
            Some("2026-12-31".parse().unwrap())
        );
    }

    #[test]
    fn errors() {
        let cases = [
            ("- a\n", 1, "not a mapping"),
            ("vulnerabilities: 3\n", 1, "not a list"),
            ("vulnerabilities:\n  - CVE-1\n", 2, "not a mapping"),
            ("vulnerabilities:\n  - id: [a]\n", 2, "not a scalar"),
            (
                "vulnerabilities:\n  - id: CVE-1\n    expired_at: soon\n",
                3,
                "not a date",
            ),
            (
                "vulnerabilities:\n  - id: CVE-1\n    purls: [\"deb/x\"]\n",
                3,
                "not a purl",
            ),
            (
                "vulnerabilities:\n  - id: CVE-1\n    purls: x\n",
                3,
                "not a list",
            ),
        ];
        for (text, line, message) in cases {
            let e = load(text).unwrap_err();
            assert_eq!(e.code, TRIVYIGNORE, "{text}");
            assert_eq!(e.location.map(|l| l.line), Some(line), "{text}");
            assert!(e.message.contains(message), "{}", e.message);
        }
        assert_eq!(load("vulnerabilities: [\n").unwrap_err().code, SYNTAX);
    }
}
