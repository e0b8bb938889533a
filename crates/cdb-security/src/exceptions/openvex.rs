//! OpenVEX documents (<https://github.com/openvex/spec>) as exceptions.

use std::path::Path;

use cdb_core::Diagnostic;
use cdb_core::image::ImageRef;
use cdb_core::source::{Location, SourceMap};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::{Map, Value};

use super::purl::Purl;
use super::{
    Exception, ExceptionSource, ExceptionStatus, Imported, OPENVEX, SYNTAX, offset_location,
    skipped, to_u32,
};

/// The justification labels OpenVEX defines for `not_affected`.
const JUSTIFICATIONS: &[&str] = &[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// Loads an OpenVEX document (JSON) with no validity: its exceptions never expire. See
/// [`load_openvex_with_validity`] for the details and the errors.
///
/// # Errors
///
/// As [`load_openvex_with_validity`].
pub fn load_openvex(
    path: &Path,
    text: &str,
    sources: &mut SourceMap,
) -> Result<Imported, Diagnostic> {
    load_openvex_with_validity(path, text, sources, None)
}

/// Loads an OpenVEX document (JSON): `text` is the content of `path`, which is added to
/// `sources`.
///
/// * Every statement with `status: "not_affected"` becomes one exception per product (and per
///   subcomponent, when the product lists some), with the status
///   [`ExceptionStatus::NotAffected`], the id `vulnerability.name` (else the last segment of
///   `vulnerability.@id`; OpenVEX 0.0.1's plain-string `vulnerability` is accepted), its
///   `aliases`, the reason `justification: impact_statement` (either alone when only one is
///   given), and the document's `author` as the owner.
/// * A product's `@id` (else `identifiers.purl`) maps to a scope: an `oci` or `docker` purl
///   names an image (`pkg:oci/python?repository_url=docker.io/library/python&tag=3.11-slim` →
///   `docker.io/library/python:3.11-slim`; its version, a digest, is kept, so the statement
///   then only covers that digest); any other purl names a package
///   (`pkg:deb/debian/tar@1.34` → scope `*`, package `tar`); anything else that parses as an
///   image reference is taken as written. Subcomponents' purls name the package. A product or
///   subcomponent that maps to nothing is skipped with a note (never widened to "everything").
/// * Statements with another status (`affected`, `fixed`, `under_investigation`) are skipped
///   with a note.
/// * OpenVEX has no expiry. With `validity_days: None` the exceptions have no review date and
///   never expire. With `Some(n)`, the review date is the UTC date of the statement's
///   `last_updated`, else its `timestamp`, else the document's `last_updated`, else its
///   `timestamp`, plus `n` days: a VEX statement then has to be re-issued (or re-dated) every
///   `n` days to keep applying.
///
/// # Errors
///
/// [`SYNTAX`] for JSON that does not parse; [`OPENVEX`] for a document that is not an OpenVEX
/// document (no `statements` array), a statement without a vulnerability or status, an unknown
/// status or justification, a `not_affected` statement with neither justification nor impact
/// statement, a timestamp that is not RFC 3339, or (with a validity) no timestamp at all.
pub fn load_openvex_with_validity(
    path: &Path,
    text: &str,
    sources: &mut SourceMap,
    validity_days: Option<u32>,
) -> Result<Imported, Diagnostic> {
    let file = sources.add(path.to_path_buf(), text.to_string());
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        let line = to_u32(e.line().max(1));
        let col = to_u32(e.column().max(1));
        Diagnostic::error(SYNTAX, format!("{}: {e}", path.display()))
            .at(Location::new(file, line, col))
            .with_help("an OpenVEX document is JSON; see https://github.com/openvex/spec")
    })?;
    let ctx = Ctx {
        path,
        validity_days,
        start: Location::new(file, 1, 1),
    };
    let Some(doc) = doc.as_object() else {
        return Err(ctx.error("the document is not a JSON object", ctx.start));
    };
    let Some(statements) = doc.get("statements").and_then(Value::as_array) else {
        return Err(ctx.error("no `statements` array: not an OpenVEX document", ctx.start));
    };
    let offsets = statement_offsets(text);
    let locs: Vec<Location> = if offsets.len() == statements.len() {
        offsets
            .into_iter()
            .map(|o| offset_location(file, text, o))
            .collect()
    } else {
        vec![ctx.start; statements.len()]
    };
    let owner = doc
        .get("author")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    let doc_date = ctx.date_of(doc, ctx.start)?;

    let mut imported = Imported::default();
    for (statement, loc) in statements.iter().zip(locs) {
        ctx.statement(statement, loc, &owner, doc_date, &mut imported)?;
    }
    Ok(imported)
}

struct Ctx<'a> {
    path: &'a Path,
    validity_days: Option<u32>,
    start: Location,
}

impl Ctx<'_> {
    fn error(&self, message: impl std::fmt::Display, loc: Location) -> Diagnostic {
        Diagnostic::error(OPENVEX, format!("{}: {message}", self.path.display()))
            .at(loc)
            .with_help("see the OpenVEX specification: https://github.com/openvex/spec")
    }

    /// The UTC date of `last_updated`, else `timestamp`, of an object (document or statement).
    fn date_of(
        &self,
        object: &Map<String, Value>,
        loc: Location,
    ) -> Result<Option<Date>, Diagnostic> {
        let mut found = None;
        for key in ["timestamp", "last_updated"] {
            let Some(value) = object.get(key) else {
                continue;
            };
            let Some(text) = value.as_str() else {
                return Err(self.error(format!("`{key}` is not a string"), loc));
            };
            let timestamp: jiff::Timestamp = text.trim().parse().map_err(|e| {
                self.error(
                    format!("`{key}` `{text}` is not an RFC 3339 timestamp: {e}"),
                    loc,
                )
            })?;
            found = Some(timestamp.to_zoned_datetime(TimeZone::UTC).date());
        }
        Ok(found)
    }

    fn statement(
        &self,
        statement: &Value,
        loc: Location,
        owner: &str,
        doc_date: Option<Date>,
        imported: &mut Imported,
    ) -> Result<(), Diagnostic> {
        let Some(statement) = statement.as_object() else {
            return Err(self.error("a statement is not a JSON object", loc));
        };
        let (id, aliases) = self.vulnerability(statement, loc)?;
        let Some(status) = statement.get("status").and_then(Value::as_str) else {
            return Err(self.error(format!("the statement for {id} has no `status`"), loc));
        };
        match status {
            "not_affected" => {}
            "affected" | "fixed" | "under_investigation" => {
                imported.notes.push(skipped(
                    format!(
                        "{}: the statement for {id} has status `{status}`; only `not_affected` statements become exceptions",
                        self.path.display()
                    ),
                    loc,
                ));
                return Ok(());
            }
            other => {
                return Err(self.error(
                    format!("unknown status `{other}` (expected not_affected, affected, fixed or under_investigation)"),
                    loc,
                ));
            }
        }
        let text_field = |key: &str| {
            statement
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let justification = text_field("justification");
        let impact = text_field("impact_statement");
        if let Some(j) = &justification
            && !JUSTIFICATIONS.contains(&j.as_str())
        {
            return Err(self.error(
                format!(
                    "unknown justification `{j}` (expected one of {})",
                    JUSTIFICATIONS.join(", ")
                ),
                loc,
            ));
        }
        let reason = match (&justification, &impact) {
            (Some(j), Some(i)) => format!("{j}: {i}"),
            (Some(j), None) => j.clone(),
            (None, Some(i)) => i.clone(),
            (None, None) => {
                return Err(self.error(
                    format!("the `not_affected` statement for {id} has neither `justification` nor `impact_statement`"),
                    loc,
                ));
            }
        };
        let statement_date = self.date_of(statement, loc)?;
        let review = match self.validity_days {
            None => None,
            Some(days) => {
                let Some(date) = statement_date.or(doc_date) else {
                    return Err(self.error(
                        format!(
                            "the statement for {id} has no timestamp, and neither has the document"
                        ),
                        loc,
                    ));
                };
                let review = jiff::Span::new()
                    .try_days(days)
                    .and_then(|span| date.checked_add(span))
                    .map_err(|e| self.error(format!("review date out of range: {e}"), loc))?;
                Some(review)
            }
        };

        let products = statement.get("products").and_then(Value::as_array);
        let Some(products) = products.filter(|p| !p.is_empty()) else {
            imported.notes.push(skipped(
                format!(
                    "{}: the statement for {id} lists no products; cdb does not inherit products from an encapsulating document",
                    self.path.display()
                ),
                loc,
            ));
            return Ok(());
        };
        for product in products {
            let Some(targets) = self.product_targets(product, &id, loc, imported) else {
                continue;
            };
            for (scope, package) in targets {
                imported.exceptions.push(Exception {
                    id: id.clone(),
                    aliases: aliases.clone(),
                    scope,
                    package,
                    status: ExceptionStatus::NotAffected,
                    justification: justification.clone(),
                    reason: reason.clone(),
                    review,
                    last_day: review,
                    owner: owner.to_string(),
                    source: ExceptionSource::OpenVex,
                    path: self.path.to_path_buf(),
                    loc,
                });
            }
        }
        Ok(())
    }

    fn vulnerability(
        &self,
        statement: &Map<String, Value>,
        loc: Location,
    ) -> Result<(String, Vec<String>), Diagnostic> {
        let (id, aliases) = match statement.get("vulnerability") {
            Some(Value::String(name)) => (name.trim().to_string(), Vec::new()),
            Some(Value::Object(v)) => {
                let name = v
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
                let from_id = || {
                    v.get("@id")
                        .and_then(Value::as_str)
                        .and_then(|iri| iri.trim_end_matches('/').rsplit('/').next())
                        .map(str::trim)
                        .map(str::to_string)
                };
                let aliases = v
                    .get("aliases")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                (name.or_else(from_id).unwrap_or_default(), aliases)
            }
            _ => (String::new(), Vec::new()),
        };
        if id.is_empty() {
            return Err(self.error(
                "a statement has no `vulnerability.name` (nor `vulnerability.@id`)",
                loc,
            ));
        }
        Ok((id, aliases))
    }

    /// The (scope, package) pairs a product maps to; `None` (with a note) when it maps to
    /// nothing.
    fn product_targets(
        &self,
        product: &Value,
        id: &str,
        loc: Location,
        imported: &mut Imported,
    ) -> Option<Vec<(String, Option<String>)>> {
        let identifier = component_identifier(product);
        let mut skip = |what: String| {
            imported.notes.push(skipped(
                format!(
                    "{}: the statement for {id}: {what}; that product is skipped",
                    self.path.display()
                ),
                loc,
            ));
            None
        };
        let Some(identifier) = identifier else {
            return skip("a product has neither `@id` nor `identifiers.purl`".to_string());
        };
        let scope_and_package = match Purl::parse(&identifier) {
            Some(purl) if purl.is_image() => match purl.image_reference() {
                Some(image) => (image, None),
                None => {
                    return skip(format!("product `{identifier}` is not a valid image purl"));
                }
            },
            Some(purl) => ("*".to_string(), Some(purl.name)),
            None if !identifier.contains("://") && ImageRef::parse(&identifier).is_ok() => {
                (identifier.clone(), None)
            }
            None => {
                return skip(format!(
                    "product `{identifier}` is neither a purl nor an image reference"
                ));
            }
        };
        let subcomponents = match product {
            Value::Object(p) => p
                .get("subcomponents")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice),
            _ => &[],
        };
        if subcomponents.is_empty() || scope_and_package.1.is_some() {
            return Some(vec![scope_and_package]);
        }
        let mut targets = Vec::new();
        for sub in subcomponents {
            let name = component_identifier(sub)
                .as_deref()
                .and_then(Purl::parse)
                .map(|p| p.name);
            match name {
                Some(name) => targets.push((scope_and_package.0.clone(), Some(name))),
                None => {
                    return skip(format!(
                        "a subcomponent of `{identifier}` has no purl to name its package"
                    ));
                }
            }
        }
        Some(targets)
    }
}

/// A component's identifier: a plain string (OpenVEX 0.0.1), its `@id`, else
/// `identifiers.purl`.
fn component_identifier(component: &Value) -> Option<String> {
    let text = match component {
        Value::String(s) => Some(s.as_str()),
        Value::Object(c) => c.get("@id").and_then(Value::as_str).or_else(|| {
            c.get("identifiers")
                .and_then(|i| i.get("purl"))
                .and_then(Value::as_str)
        }),
        _ => None,
    };
    text.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The byte offsets of the elements of the top-level `statements` array of a JSON document
/// that has already been validated, so each exception can point at its statement's line.
fn statement_offsets(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut offsets = Vec::new();
    let mut depth = 0usize;
    let mut last_key: Option<&str> = None;
    let mut value_of_statements = false;
    let mut array_depth: Option<usize> = None;
    let mut expecting = false;
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        let element_start = matches!(c, b'"' | b'{' | b'[')
            || !(c.is_ascii_whitespace() || matches!(c, b',' | b':' | b'}' | b']'));
        if element_start && expecting && array_depth == Some(depth) {
            offsets.push(i);
            expecting = false;
        }
        match c {
            b'"' => {
                let start = i + 1;
                i = start;
                while let Some(&b) = bytes.get(i) {
                    match b {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                if depth == 1 {
                    last_key = text.get(start..i.min(text.len()));
                }
            }
            b':' if depth == 1 => value_of_statements = last_key == Some("statements"),
            b'{' | b'[' => {
                depth += 1;
                if c == b'[' && depth == 2 && value_of_statements {
                    array_depth = Some(2);
                    expecting = true;
                    offsets.clear();
                }
                value_of_statements = false;
            }
            b'}' | b']' => {
                if array_depth == Some(depth) {
                    array_depth = None;
                    expecting = false;
                }
                depth = depth.saturating_sub(1);
            }
            b',' if array_depth == Some(depth) => expecting = true,
            _ => {}
        }
        i += 1;
    }
    offsets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_offsets_skip_nested_arrays_and_strings() {
        let text = r#"{"a": ["[x", {"statements": [1]}], "statements" : [ {"s": "]\"[,"}, [1,2], "x", 3 ], "b": [0]}"#;
        let offsets = statement_offsets(text);
        let starts: Vec<&str> = offsets
            .iter()
            .map(|&o| text.get(o..o + 3).unwrap())
            .collect();
        assert_eq!(starts, vec![r#"{"s"#, "[1,", r#""x""#, "3 ]"]);
    }

    #[test]
    fn statement_offsets_of_an_empty_array() {
        assert!(statement_offsets(r#"{"statements": []}"#).is_empty());
        assert!(statement_offsets(r#"{"statements": [ ]}"#).is_empty());
    }

    fn load(text: &str, validity: Option<u32>) -> Result<Imported, Diagnostic> {
        load_openvex_with_validity(Path::new("vex.json"), text, &mut SourceMap::new(), validity)
    }

    fn doc(statement: &str) -> String {
        format!(
            r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "sec",
"timestamp": "2026-03-01T23:30:00-02:00", "version": 1,
"statements": [
{statement}
]}}"#
        )
    }

    #[test]
    fn validity_counts_from_the_utc_date() {
        let s = r#"{"vulnerability": {"name": "CVE-2024-1"}, "products": [{"@id": "redis:7"}], "status": "not_affected", "justification": "component_not_present"}"#;
        let i = load(&doc(s), Some(30)).unwrap();
        assert_eq!(i.exceptions[0].review, Some("2026-04-01".parse().unwrap()));
        assert_eq!(i.exceptions[0].loc.line, 4);
        assert_eq!(i.exceptions[0].reason, "component_not_present");
        assert_eq!(load(&doc(s), None).unwrap().exceptions[0].review, None);
        let e = load(&doc(s), Some(u32::MAX)).unwrap_err();
        assert!(e.message.contains("out of range"), "{}", e.message);
    }

    #[test]
    fn old_string_forms() {
        let s = r#"{"vulnerability": "CVE-2024-2", "products": ["pkg:deb/debian/zlib"], "status": "not_affected", "impact_statement": "not reachable"}"#;
        let e = &load(&doc(s), None).unwrap().exceptions[0];
        assert_eq!((e.id.as_str(), e.scope.as_str()), ("CVE-2024-2", "*"));
        assert_eq!(e.package.as_deref(), Some("zlib"));
        assert_eq!(e.reason, "not reachable");
    }

    #[test]
    fn errors() {
        let cases = [
            (
                r#"{"vulnerability": {}, "status": "fixed"}"#,
                "no `vulnerability.name`",
            ),
            (r#"{"vulnerability": {"name": "CVE-1"}}"#, "no `status`"),
            (
                r#"{"vulnerability": {"name": "CVE-1"}, "status": "nope"}"#,
                "unknown status",
            ),
            (
                r#"{"vulnerability": {"name": "CVE-1"}, "status": "not_affected"}"#,
                "neither `justification`",
            ),
            (
                r#"{"vulnerability": {"name": "CVE-1"}, "status": "not_affected", "justification": "because"}"#,
                "unknown justification",
            ),
            (
                r#"{"vulnerability": {"name": "CVE-1"}, "status": "not_affected", "justification": "component_not_present", "timestamp": "yesterday"}"#,
                "RFC 3339",
            ),
        ];
        for (statement, message) in cases {
            let e = load(&doc(statement), None).unwrap_err();
            assert_eq!(e.code, OPENVEX);
            assert!(e.message.contains(message), "{}", e.message);
            assert_eq!(e.location.map(|l| l.line), Some(4));
        }
        assert_eq!(load("{", None).unwrap_err().code, SYNTAX);
        assert!(
            load("[]", None)
                .unwrap_err()
                .message
                .contains("not a JSON object")
        );
        assert!(
            load("{}", None)
                .unwrap_err()
                .message
                .contains("no `statements`")
        );
    }

    #[test]
    fn validity_needs_a_timestamp() {
        let text = r#"{"statements": [{"vulnerability": {"name": "CVE-1"}, "products": ["redis"], "status": "not_affected", "justification": "component_not_present"}]}"#;
        assert!(load(text, None).is_ok());
        let e = load(text, Some(10)).unwrap_err();
        assert!(e.message.contains("no timestamp"), "{}", e.message);
    }
}
