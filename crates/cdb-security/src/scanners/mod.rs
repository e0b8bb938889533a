//! Scanner reports: Trivy JSON, Grype JSON and SARIF 2.1.0 (Docker Scout, Trivy, Grype), read
//! into one [`ScanReport`] each.
//!
//! The format is detected from the content, never from the file name ([`detect`]): only the
//! top-level keys are looked at, and the scan stops as soon as they decide (for Trivy and most
//! SARIF files, within the first lines; for Grype, whose deciding `source` key follows the
//! `matches` array, after a quick skip over the array that does not build any value). The report
//! is then parsed once, with typed serde structs that ignore unknown fields and tolerate missing
//! optional ones ([`parse_report`]).
//!
//! Every problem is a [`Diagnostic`] with one of the stable codes [`EMPTY`], [`SYNTAX`],
//! [`UNKNOWN_FORMAT`] and [`INVALID`], pointing at the line and column serde_json reports when
//! there is one. Nothing here panics, whatever the bytes.
//!
//! How each format maps to [`Vulnerability`] is documented on the format's private module:
//! one vulnerability per (id, package) entry, as the report lists them (nothing is merged or
//! deduplicated here; triage merges across scanners).

mod grype;
mod sarif;
mod trivy;

use std::borrow::Cow;
use std::path::Path;

use cdb_core::{Diagnostic, FileId, Location, SourceMap};
use serde_json::error::Category;

use crate::model::{ReportFormat, ScanReport, Vulnerability};

/// The report file is empty (or holds only whitespace).
pub const EMPTY: &str = "report::empty";
/// The report is not valid JSON (truncated, corrupted, not UTF-8, binary).
pub const SYNTAX: &str = "report::syntax";
/// The report is valid JSON but neither Trivy JSON, Grype JSON nor SARIF 2.1.0.
pub const UNKNOWN_FORMAT: &str = "report::unknown-format";
/// The report is of a known format but does not have the shape that format has.
pub const INVALID: &str = "report::invalid";

/// `(code, meaning)` for every code this module emits, in a stable order.
pub const CODES: &[(&str, &str)] = &[
    (EMPTY, "a scanner report file is empty"),
    (
        SYNTAX,
        "a scanner report is not valid JSON (truncated, corrupted, binary, UTF-16)",
    ),
    (
        UNKNOWN_FORMAT,
        "a scanner report is neither Trivy JSON, Grype JSON nor SARIF 2.1.0",
    ),
    (
        INVALID,
        "a scanner report of a known format lacks a field or has a value of the wrong type",
    ),
];

/// Lines longer than this (in bytes) are not pointed at: the diagnostic renderer prints the whole
/// line, and a minified report is one line of many megabytes. The message then carries the line
/// and column instead.
const MAX_SNIPPET_LINE: usize = 4096;

/// Detects a report's format from its content: SARIF (a `$schema` naming SARIF, or `version`
/// `"2.1.0"` with `runs`), Trivy JSON (`SchemaVersion` with `Results` or `ArtifactName`) or
/// Grype JSON (`matches` with a `source`, or a `descriptor` whose `name` is `grype`).
///
/// Only top-level keys are read, and only until they decide; the rest of the file is not parsed.
/// `None` when the keys decide nothing (including when the bytes are not a JSON object).
pub fn detect(bytes: &[u8]) -> Option<ReportFormat> {
    let mut keys = TopLevelKeys::new(strip_bom(bytes))?;
    let mut seen = Evidence::default();
    while let Some(key) = keys.next_key() {
        match key.as_ref() {
            // Decided by the key alone: no need to skip a value that may be the whole file.
            "runs" => seen.runs = true,
            "Results" | "ArtifactName" => seen.trivy_body = true,
            "SchemaVersion" => seen.trivy_schema = true,
            "matches" => seen.matches = true,
            "source" => seen.grype_source = true,
            "$schema" => {
                let value = keys.value()?;
                seen.sarif_schema = serde_json::from_slice::<String>(value)
                    .is_ok_and(|s| s.to_ascii_lowercase().contains("sarif"));
            }
            "version" => {
                let value = keys.value()?;
                seen.sarif_version =
                    serde_json::from_slice::<String>(value).is_ok_and(|s| s == "2.1.0");
            }
            "descriptor" => {
                let value = keys.value()?;
                seen.grype_descriptor = serde_json::from_slice::<grype::Descriptor>(value)
                    .is_ok_and(|d| d.name.is_some_and(|n| n.eq_ignore_ascii_case("grype")));
            }
            _ => {}
        }
        if let Some(format) = seen.decide() {
            return Some(format);
        }
    }
    seen.decide()
}

/// What the top-level keys seen so far say.
#[derive(Debug, Default)]
struct Evidence {
    sarif_schema: bool,
    sarif_version: bool,
    runs: bool,
    trivy_schema: bool,
    trivy_body: bool,
    matches: bool,
    grype_source: bool,
    grype_descriptor: bool,
}

impl Evidence {
    fn decide(&self) -> Option<ReportFormat> {
        if self.sarif_schema || (self.sarif_version && self.runs) {
            Some(ReportFormat::Sarif)
        } else if self.trivy_schema && self.trivy_body {
            Some(ReportFormat::TrivyJson)
        } else if self.matches && (self.grype_source || self.grype_descriptor) {
            Some(ReportFormat::GrypeJson)
        } else {
            None
        }
    }
}

/// Reads a scanner report: detects its format from the content, parses it and maps it to a
/// [`ScanReport`].
///
/// `path` is only recorded (and shown in diagnostics); the bytes are what is read. On an error
/// that points into the file, the file is added to `sources` so the diagnostic renders with a
/// snippet; a report that parses is not added (the report model carries no locations, and a
/// large report would be held twice).
///
/// # Errors
///
/// A [`Diagnostic`] coded [`EMPTY`], [`SYNTAX`], [`UNKNOWN_FORMAT`] or [`INVALID`].
pub fn parse_report(
    path: &Path,
    bytes: &[u8],
    sources: &mut SourceMap,
) -> Result<ScanReport, Diagnostic> {
    let shown = path.display();
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Diagnostic::error(
            SYNTAX,
            format!("`{shown}` is UTF-16 text; scanner reports are read as UTF-8 JSON"),
        )
        .with_help(
            "write the report to a file with the scanner's `-o`/`--output` option instead of a \
             shell redirection, or convert it to UTF-8",
        ));
    }
    let body = strip_bom(bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        let empty = Diagnostic::error(EMPTY, format!("`{shown}` is empty"));
        return Err(empty.with_help(
            "the scan did not write a report (it failed, or was killed); re-run it with JSON \
             output, e.g. `trivy image -f json -o report.json IMAGE`",
        ));
    }
    let Some(format) = detect(body) else {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Err(err) => json_error(&err, None, path, body, sources),
                Ok(_) => unknown_format(path, body),
            },
        );
    };
    let parsed = match format {
        ReportFormat::TrivyJson => trivy::parse(body),
        ReportFormat::GrypeJson => grype::parse(body),
        ReportFormat::Sarif => sarif::parse(body),
    };
    let parsed = parsed.map_err(|err| match err {
        ParseError::Json(err) => json_error(&err, Some(format), path, body, sources),
        ParseError::Version { found, offset } => {
            let diagnostic = Diagnostic::error(
                UNKNOWN_FORMAT,
                format!(
                    "`{shown}` is SARIF {found}: not a Trivy JSON, Grype JSON or SARIF 2.1.0 \
                     report"
                ),
            )
            .with_label("only SARIF 2.1.0 is read")
            .with_help(
                "re-run the scanner with SARIF 2.1.0 output (`trivy image -f sarif`, \
                 `grype -o sarif`, `docker scout cves --format sarif`), or with JSON output",
            );
            point_at(diagnostic, path, body, offset, sources)
        }
    })?;
    Ok(ScanReport {
        path: path.to_path_buf(),
        format,
        scanner: parsed.scanner,
        artifact: parsed.artifact,
        repo_tags: parsed.repo_tags,
        repo_digests: parsed.repo_digests,
        vulnerabilities: parsed.vulnerabilities,
    })
}

/// What a format module returns: the report without its path and format.
#[derive(Debug, Default)]
struct Parsed {
    scanner: String,
    artifact: Option<String>,
    repo_tags: Vec<String>,
    repo_digests: Vec<String>,
    vulnerabilities: Vec<Vulnerability>,
}

/// Why a format module could not read a report.
#[derive(Debug)]
enum ParseError {
    /// serde_json's error, with a line and column: syntax, or a value of the wrong shape
    /// (including what a format module finds wrong while converting).
    Json(serde_json::Error),
    /// A SARIF log of another version; `offset` is where the version's value starts.
    Version { found: String, offset: usize },
}

impl From<serde_json::Error> for ParseError {
    fn from(err: serde_json::Error) -> Self {
        ParseError::Json(err)
    }
}

fn format_name(format: ReportFormat) -> &'static str {
    match format {
        ReportFormat::TrivyJson => "Trivy JSON report",
        ReportFormat::GrypeJson => "Grype JSON report",
        ReportFormat::Sarif => "SARIF 2.1.0 log",
    }
}

fn invalid_help(format: ReportFormat) -> &'static str {
    match format {
        ReportFormat::TrivyJson => {
            "the file looks like a Trivy JSON report but lacks a field or has a value of the \
             wrong type; re-run `trivy image -f json` and use its output unedited"
        }
        ReportFormat::GrypeJson => {
            "the file looks like a Grype JSON report but lacks a field or has a value of the \
             wrong type; re-run `grype -o json` and use its output unedited"
        }
        ReportFormat::Sarif => {
            "the file looks like a SARIF log but lacks a field or has a value of the wrong type; \
             re-run the scanner with SARIF output and use it unedited"
        }
    }
}

fn unknown_format(path: &Path, body: &[u8]) -> Diagnostic {
    let mut help = String::from(
        "write the report with `trivy image -f json`, `grype -o json`, or as SARIF 2.1.0 \
         (`trivy image -f sarif`, `grype -o sarif`, `docker scout cves --format sarif`)",
    );
    if let Some(mut keys) = TopLevelKeys::new(body) {
        let mut first = Vec::new();
        while let Some(key) = keys.next_key() {
            if first.len() == 5 {
                first.push("…".to_string());
                break;
            }
            first.push(format!("`{key}`"));
        }
        if first.is_empty() {
            help.push_str("; the file is an empty JSON object");
        } else {
            help.push_str(&format!(
                "; the file's top-level keys are {}",
                first.join(", ")
            ));
        }
    } else {
        help.push_str("; the file is JSON, but not an object");
    }
    Diagnostic::error(
        UNKNOWN_FORMAT,
        format!(
            "`{}` is not a Trivy JSON, Grype JSON or SARIF 2.1.0 report",
            path.display()
        ),
    )
    .with_help(help)
}

/// Turns serde_json's error into a diagnostic at its line and column.
fn json_error(
    err: &serde_json::Error,
    format: Option<ReportFormat>,
    path: &Path,
    body: &[u8],
    sources: &mut SourceMap,
) -> Diagnostic {
    let full = err.to_string();
    let message = match full.rfind(" at line ") {
        Some(end) if err.line() > 0 => full.get(..end).unwrap_or(&full),
        _ => full.as_str(),
    };
    let shown = path.display();
    let diagnostic = match (err.classify(), format) {
        (Category::Data, Some(format)) => Diagnostic::error(
            INVALID,
            format!(
                "`{shown}` is not a valid {}: {message}",
                format_name(format)
            ),
        )
        .with_label("here")
        .with_help(invalid_help(format)),
        (Category::Eof, _) => Diagnostic::error(
            SYNTAX,
            format!("`{shown}` is not valid JSON: {message}"),
        )
        .with_label("the file ends here, inside a value")
        .with_help(
            "the report is cut off: the scan was killed, or the disk was full while it wrote; \
             re-run the scan and wait for it to finish",
        ),
        _ => Diagnostic::error(SYNTAX, format!("`{shown}` is not valid JSON: {message}"))
            .with_label("unexpected here")
            .with_help(
                "the report is corrupted or not JSON; re-run the scanner with JSON or SARIF \
                 output and pass its output unedited",
            ),
    };
    let line = err.line();
    if line == 0 {
        return diagnostic;
    }
    let offset = line_start(body, line)
        .map(|start| start + err.column().saturating_sub(1))
        .unwrap_or(body.len());
    point_at(diagnostic, path, body, offset, sources)
}

/// Points a diagnostic at a byte offset of the report, registering the report in `sources`;
/// or, when the line is too long to show, names the line and column in the message instead.
fn point_at(
    mut diagnostic: Diagnostic,
    path: &Path,
    body: &[u8],
    offset: usize,
    sources: &mut SourceMap,
) -> Diagnostic {
    let offset = offset.min(body.len());
    let before = body.get(..offset).unwrap_or(body);
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line_end = body
        .get(offset..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        .map_or(body.len(), |i| offset + i);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let prefix = body.get(line_start..offset).unwrap_or_default();
    let col = String::from_utf8_lossy(prefix).chars().count() + 1;
    let (line, col) = (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    );
    if line_end - line_start > MAX_SNIPPET_LINE {
        diagnostic.message = format!(
            "{} (line {line}, column {col}; the line is too long to show)",
            diagnostic.message
        );
        return diagnostic;
    }
    let file = register(path, body, sources);
    diagnostic.at(Location::new(file, line, col))
}

fn register(path: &Path, body: &[u8], sources: &mut SourceMap) -> FileId {
    sources.add(path, String::from_utf8_lossy(body).into_owned())
}

/// The byte offset where 1-based `line` starts.
fn line_start(body: &[u8], line: usize) -> Option<usize> {
    if line <= 1 {
        return Some(0);
    }
    body.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(line - 2)
        .map(|(i, _)| i + 1)
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The value of a top-level key, and the offset where it starts (the first one, if repeated).
fn top_level_value<'a>(body: &'a [u8], wanted: &str) -> Option<(&'a [u8], usize)> {
    let mut keys = TopLevelKeys::new(body)?;
    while let Some(key) = keys.next_key() {
        let start = keys.value_start();
        let value = keys.value()?;
        if key == wanted {
            return Some((value, start));
        }
    }
    None
}

/// A forward-only reader of a JSON object's top-level keys that skips values without building
/// them: strings are stepped over by their quotes and escapes, containers by bracket depth. It
/// does not validate; on anything unexpected it simply stops.
#[derive(Debug)]
struct TopLevelKeys<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// A key was returned and its value not yet skipped.
    pending: bool,
    done: bool,
}

impl<'a> TopLevelKeys<'a> {
    /// Positions after the opening `{`, or `None` when the bytes are not an object.
    fn new(bytes: &'a [u8]) -> Option<Self> {
        let mut keys = TopLevelKeys {
            bytes,
            pos: 0,
            pending: false,
            done: false,
        };
        keys.skip_ws();
        if keys.peek() != Some(b'{') {
            return None;
        }
        keys.pos += 1;
        Some(keys)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value_start(&self) -> usize {
        self.pos
    }

    /// The next key, having skipped the previous key's value if the caller did not.
    fn next_key(&mut self) -> Option<Cow<'a, str>> {
        if self.done {
            return None;
        }
        if self.pending && self.value().is_none() {
            return None;
        }
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_ws();
            }
            Some(b'}') => {
                self.done = true;
                return None;
            }
            _ => {}
        }
        let start = self.pos;
        if self.peek() != Some(b'"') || !self.skip_string() {
            self.done = true;
            return None;
        }
        let raw = self.bytes.get(start..self.pos)?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            self.done = true;
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        self.pending = true;
        let inner = raw.get(1..raw.len().saturating_sub(1))?;
        if inner.contains(&b'\\') {
            serde_json::from_slice::<String>(raw).ok().map(Cow::Owned)
        } else {
            std::str::from_utf8(inner).ok().map(Cow::Borrowed)
        }
    }

    /// Skips the pending value and returns its bytes.
    fn value(&mut self) -> Option<&'a [u8]> {
        if !self.pending {
            return None;
        }
        self.pending = false;
        let start = self.pos;
        let ok = match self.peek() {
            Some(b'"') => self.skip_string(),
            Some(b'{' | b'[') => self.skip_container(),
            Some(_) => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.pos += 1;
                }
                self.pos > start
            }
            None => false,
        };
        if !ok {
            self.done = true;
            return None;
        }
        self.bytes.get(start..self.pos)
    }

    /// At a `"`: moves past the closing quote. False when the string does not end.
    ///
    /// Strings are most of a report's bytes, so they are stepped over eight bytes at a time
    /// until a word holds a quote or a backslash.
    fn skip_string(&mut self) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        /// Non-zero when a byte of `word` may be `byte` (never zero when one is).
        fn may_hold(word: u64, byte: u8) -> u64 {
            let x = word ^ (ONES * u64::from(byte));
            x.wrapping_sub(ONES) & !x & HIGH
        }
        let mut i = self.pos + 1;
        loop {
            while let Some(chunk) = self.bytes.get(i..i + 8)
                && let Ok(chunk) = <[u8; 8]>::try_from(chunk)
            {
                let word = u64::from_le_bytes(chunk);
                if may_hold(word, b'"') | may_hold(word, b'\\') != 0 {
                    break;
                }
                i += 8;
            }
            match self.bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return true;
                }
                Some(b'\\') => i += 2,
                Some(_) => i += 1,
                None => {
                    self.pos = self.bytes.len();
                    return false;
                }
            }
        }
    }

    /// At a `{` or `[`: moves past the matching close. False when it does not close.
    fn skip_container(&mut self) -> bool {
        let mut depth = 0usize;
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    if !self.skip_string() {
                        return false;
                    }
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos += 1;
                        return true;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        false
    }
}

/// A package URL (`pkg:type/namespace/name@version?qualifiers#subpath`), split into the package
/// name a scanner shows and its version. Names follow the convention of Trivy's `PkgName`: the
/// bare name for OS packages, `group:artifact` for Maven, the full path for Go modules, npm
/// scopes and the like.
fn split_purl(purl: &str) -> Option<(String, Option<String>)> {
    let rest = purl.trim().strip_prefix("pkg:")?;
    let rest = rest.split('#').next().unwrap_or(rest);
    let rest = rest.split('?').next().unwrap_or(rest);
    let (kind, path) = rest.split_once('/')?;
    let path = path.trim_matches('/');
    let (path, version) = match path.rsplit_once('@') {
        Some((p, v)) if !p.is_empty() => (p, Some(percent_decode(v))),
        _ => (path, None),
    };
    let (namespace, name) = match path.rsplit_once('/') {
        Some((ns, name)) => (Some(percent_decode(ns)), percent_decode(name)),
        None => (None, percent_decode(path)),
    };
    if name.is_empty() {
        return None;
    }
    let kind = kind.to_ascii_lowercase();
    let package = match (kind.as_str(), namespace) {
        ("deb" | "rpm" | "apk" | "alpm" | "qpkg" | "pypi" | "gem" | "cargo" | "nuget", _)
        | (_, None) => name,
        ("maven", Some(ns)) => format!("{}:{name}", ns.replace('/', ".")),
        (_, Some(ns)) => format!("{ns}/{name}"),
    };
    Some((package, version.filter(|v| !v.is_empty())))
}

/// Decodes `%XX` escapes; invalid escapes are kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(decoded) = u8::from_str_radix(hex, 16)
        {
            out.push(decoded);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A CVSS base score if it is one (finite, 0–10).
fn valid_score(score: f64) -> Option<f64> {
    (score.is_finite() && (0.0..=10.0).contains(&score)).then_some(score)
}

/// `Some` for a non-blank string, trimmed.
/// The strings of a JSON array (other items skipped); empty when `value` is not an array.
fn strings(value: Option<&serde_json::Value>) -> Vec<String> {
    value
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn non_empty(text: Option<String>) -> Option<String> {
    let text = text?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == text.len() {
        Some(text)
    } else {
        Some(trimmed.to_string())
    }
}

/// Builds a Trivy JSON report of about `target_bytes` by repeating the vulnerabilities of the
/// Trivy JSON report `template`, each copy under a new ID (`CVE-2019-18276` becomes
/// `CVE-2019-100000`, `CVE-2019-100001` …), for benchmarks and tests. The result is a valid
/// report, pretty-printed as Trivy writes it, with one `Results` entry (the template's first)
/// holding every copy; it is never smaller than one copy of each vulnerability.
///
/// # Errors
///
/// A [`Diagnostic`] ([`SYNTAX`], [`UNKNOWN_FORMAT`] or [`INVALID`], without a location) when the
/// template is not a Trivy JSON report with at least one vulnerability.
pub fn synthesize_trivy_report(
    template: &[u8],
    target_bytes: usize,
) -> Result<Vec<u8>, Diagnostic> {
    use serde_json::Value;

    let template = strip_bom(template);
    if detect(template) != Some(ReportFormat::TrivyJson) {
        return Err(Diagnostic::error(
            UNKNOWN_FORMAT,
            "the template is not a Trivy JSON report",
        ));
    }
    let mut report: Value = serde_json::from_slice(template).map_err(|err| {
        Diagnostic::error(SYNTAX, format!("the template is not valid JSON: {err}"))
    })?;
    let no_vulnerabilities =
        || Diagnostic::error(INVALID, "the template lists no vulnerabilities to repeat");
    let results = report
        .get_mut("Results")
        .and_then(Value::as_array_mut)
        .ok_or_else(no_vulnerabilities)?;
    let vulnerabilities: Vec<Value> = results
        .iter()
        .filter_map(|r| r.get("Vulnerabilities").and_then(Value::as_array))
        .flatten()
        .cloned()
        .collect();
    let mut result = results.first().cloned().ok_or_else(no_vulnerabilities)?;
    if vulnerabilities.is_empty() {
        return Err(no_vulnerabilities());
    }
    let pretty_len = |value: &Value| serde_json::to_vec_pretty(value).map_or(0, |v| v.len());
    let mut one_round = Vec::with_capacity(vulnerabilities.len());
    let renumber = |vulnerability: &Value, n: usize| {
        let mut copy = vulnerability.clone();
        if let Some(Value::String(id)) = copy.get_mut("VulnerabilityID") {
            let stem = id.rsplit_once('-').map_or(id.as_str(), |(stem, _)| stem);
            *id = format!("{stem}-{}", 100_000 + n);
        }
        copy
    };
    for (n, vulnerability) in vulnerabilities.iter().enumerate() {
        one_round.push(renumber(vulnerability, n));
    }
    // Size of the report with zero copies and with one round, to pick the number of copies.
    if let Some(object) = result.as_object_mut() {
        object.insert("Vulnerabilities".into(), Value::Array(Vec::new()));
    }
    if let Some(results) = report.get_mut("Results").and_then(Value::as_array_mut) {
        *results = vec![result];
    }
    let empty_len = pretty_len(&report);
    let set_vulnerabilities = |report: &mut Value, list: Vec<Value>| {
        if let Some(slot) = report
            .get_mut("Results")
            .and_then(|r| r.get_mut(0))
            .and_then(|r| r.get_mut("Vulnerabilities"))
        {
            *slot = Value::Array(list);
        }
    };
    set_vulnerabilities(&mut report, one_round);
    let round_len = pretty_len(&report).saturating_sub(empty_len).max(1);
    let per_copy = (round_len / vulnerabilities.len()).max(1);
    let copies = (target_bytes.saturating_sub(empty_len) / per_copy).max(vulnerabilities.len());
    let list: Vec<Value> = (0..copies)
        .filter_map(|n| {
            vulnerabilities
                .get(n % vulnerabilities.len())
                .map(|v| renumber(v, n))
        })
        .collect();
    set_vulnerabilities(&mut report, list);
    serde_json::to_vec_pretty(&report)
        .map_err(|err| Diagnostic::error(INVALID, format!("the report cannot be written: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        let cases = [
            (
                "pkg:deb/debian/curl@7.74.0-1.3%2Bdeb11u1?os_distro=bullseye",
                "curl",
                Some("7.74.0-1.3+deb11u1"),
            ),
            (
                "pkg:golang/golang.org/x/crypto@v0.28.0",
                "golang.org/x/crypto",
                Some("v0.28.0"),
            ),
            (
                "pkg:maven/org.apache.httpcomponents/httpclient@4.1.1",
                "org.apache.httpcomponents:httpclient",
                Some("4.1.1"),
            ),
            (
                "pkg:npm/%40angular/core@1.0.0",
                "@angular/core",
                Some("1.0.0"),
            ),
            ("pkg:pypi/werkzeug@0.11", "werkzeug", Some("0.11")),
            ("pkg:apk/alpine/musl", "musl", None),
        ];
        for (purl, name, version) in cases {
            let (n, v) = split_purl(purl).unwrap();
            assert_eq!(n, name, "{purl}");
            assert_eq!(v.as_deref(), version, "{purl}");
        }
        for bad in [
            "",
            "pkg:",
            "pkg:deb",
            "curl@1",
            "pkg:deb/",
            "pkg:deb/debian/@1",
        ] {
            assert_eq!(split_purl(bad), None, "{bad}");
        }
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("a%2Bb%zz%4"), "a+b%zz%4");
        assert_eq!(percent_decode("%E2%82%AC"), "€");
    }

    #[test]
    fn top_level_keys_skip_values() {
        let json =
            br#" { "a" : {"x": "}]\"{"}, "b\u0024": [1, [2, {"c": 3}]], "c": -1.5e3 , "d": "s" } "#;
        let mut keys = TopLevelKeys::new(json).unwrap();
        let mut seen = Vec::new();
        while let Some(key) = keys.next_key() {
            let value = keys.value().unwrap();
            seen.push((
                key.into_owned(),
                String::from_utf8_lossy(value).into_owned(),
            ));
        }
        assert_eq!(
            seen,
            [
                ("a".to_string(), r#"{"x": "}]\"{"}"#.to_string()),
                ("b$".to_string(), r#"[1, [2, {"c": 3}]]"#.to_string()),
                ("c".to_string(), "-1.5e3".to_string()),
                ("d".to_string(), r#""s""#.to_string()),
            ]
        );
        assert!(TopLevelKeys::new(b"[1]").is_none());
        let mut cut = TopLevelKeys::new(br#"{"a": [1, 2"#).unwrap();
        assert_eq!(cut.next_key().as_deref(), Some("a"));
        assert_eq!(cut.value(), None);
        assert_eq!(cut.next_key(), None);
    }

    #[test]
    fn detect_by_keys() {
        assert_eq!(
            detect(br#"{"version": "2.1.0", "runs": ["#),
            Some(ReportFormat::Sarif)
        );
        assert_eq!(
            detect(br#"{"$schema": "https://json.schemastore.org/sarif-2.1.0.json"}"#),
            Some(ReportFormat::Sarif)
        );
        assert_eq!(detect(br#"{"version": "2.1.0"}"#), None);
        assert_eq!(
            detect(br#"{"SchemaVersion": 2, "ArtifactName": "x""#),
            Some(ReportFormat::TrivyJson)
        );
        assert_eq!(detect(br#"{"SchemaVersion": 2}"#), None);
        assert_eq!(
            detect(br#"{"matches": [], "descriptor": {"name": "grype"}}"#),
            Some(ReportFormat::GrypeJson)
        );
        assert_eq!(
            detect(br#"{"matches": [], "descriptor": {"name": "other"}}"#),
            None
        );
        assert_eq!(
            detect(b"\xEF\xBB\xBF{\"matches\": [{}], \"source\": {}}"),
            Some(ReportFormat::GrypeJson)
        );
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"[]"), None);
        assert_eq!(detect(b"{}"), None);
    }
}
