//! The `FROM` lines of a Dockerfile, resolved the way BuildKit resolves them: parser directives
//! (`# escape=`), line continuations, comments and heredocs skipped, global `ARG`s (those before
//! the first `FROM`) with their defaults and the Compose build args that override them,
//! `$X`/`${X}`/`${X:-default}`/`${X:+alt}` substitution, stage aliases (`FROM builder` names an
//! earlier stage, not an image) and `scratch` (no image at all).
//!
//! Every image comes with the file, line and column where its token starts, even when the
//! `FROM` instruction spans several lines.
//!
//! ```
//! # use std::collections::BTreeMap;
//! # use std::path::Path;
//! # use cdb_core::FileId;
//! use cdb_security::dockerfile::from_images;
//!
//! let text = "ARG PY=3.12\nFROM python:${PY}-slim AS build\nFROM build\n";
//! let args = BTreeMap::from([("PY".to_string(), "3.13".to_string())]);
//! let images = from_images(Path::new("Dockerfile"), text, &args, FileId(0)).unwrap();
//! assert_eq!(images.len(), 1);
//! assert_eq!(images[0].reference, "python:3.13-slim");
//! assert_eq!((images[0].loc.line, images[0].loc.col), (2, 6));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cdb_core::{Diagnostic, FileId, Location};

/// Diagnostic code: a `FROM` or `ARG` instruction BuildKit would reject (missing image, extra
/// arguments, an unterminated `${`, a required variable without a value).
pub const SYNTAX: &str = "dockerfile::syntax";

/// The platform the automatic platform args (`$BUILDPLATFORM`, `$TARGETARCH`, …) stand for.
/// The audit does not know the builder's platform; `linux/amd64` is what CI builds on.
pub const DEFAULT_PLATFORM: &str = "linux/amd64";

/// One image a `FROM` line pulls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromImage {
    /// The reference with every variable substituted (`python:3.12-slim`).
    pub reference: String,
    /// The token as written (`python:${PY}-slim`).
    pub written: String,
    /// The stage name (`AS name`), if any, lowercased as BuildKit does.
    pub stage: Option<String>,
    /// The `--platform` value, substituted, if given.
    pub platform: Option<String>,
    /// Where the image token starts.
    pub loc: Location,
    /// Variables the reference uses that have no value (they became empty, as in BuildKit).
    pub unresolved: Vec<String>,
}

/// A character of a logical line and where it is written.
#[derive(Debug, Clone, Copy)]
struct Pos {
    ch: char,
    line: u32,
    col: u32,
}

/// The `FROM` images of a Dockerfile, in file order. `build_args` (Compose `build.args`)
/// override the defaults of global `ARG`s; args no `ARG` declares are ignored, as BuildKit
/// ignores them. `FROM scratch` and `FROM <earlier stage>` yield nothing.
///
/// # Errors
/// A [`SYNTAX`] diagnostic at the offending token for what BuildKit rejects: `FROM` without an
/// image, `FROM a b`, `AS` without a name, an unterminated `${`, an unsupported `${X…}` form, and
/// `${X:?message}` with `X` unset.
pub fn from_images(
    path: &Path,
    text: &str,
    build_args: &BTreeMap<String, String>,
    file: FileId,
) -> Result<Vec<FromImage>, Diagnostic> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let ctx = Ctx { path, file };
    let mut escape = '\\';
    let mut in_directives = true;
    let mut args = Args::predefined();
    let mut seen_from = false;
    let mut stages: BTreeSet<String> = BTreeSet::new();
    let mut images = Vec::new();

    let mut i = 0;
    while let Some(raw) = lines.get(i) {
        if in_directives {
            if let Some((key, value)) = directive(raw) {
                if key == "escape" {
                    escape = match value.as_str() {
                        "\\" => '\\',
                        "`" => '`',
                        _ => {
                            return Err(ctx.error(
                                format!("invalid escape directive `{value}`: use \\ or `"),
                                Location::new(file, line_no(i), 1),
                            ));
                        }
                    };
                }
                i += 1;
                continue;
            }
            in_directives = false;
        }
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }

        // One logical line: physical lines joined where they end with the escape character;
        // comment and empty lines inside a continuation are dropped, as BuildKit drops them.
        let mut logical: Vec<Pos> = Vec::new();
        while let Some(line) = lines.get(i) {
            let start = logical.len();
            logical.extend(line.chars().enumerate().map(|(c, ch)| Pos {
                ch,
                line: line_no(i),
                col: c as u32 + 1,
            }));
            let continued = line.trim_end().ends_with(escape);
            i += 1;
            if !continued {
                break;
            }
            // Drop the escape character and the blanks after it.
            while logical.len() > start && logical.last().is_some_and(|p| p.ch.is_whitespace()) {
                logical.pop();
            }
            logical.pop();
            while lines
                .get(i)
                .is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            {
                i += 1;
            }
        }

        let words = split_words(&logical, escape);
        let Some((instruction, rest)) = words.split_first() else {
            continue;
        };
        let name = text_of(instruction).to_ascii_uppercase();
        match name.as_str() {
            "ARG" if !seen_from => {
                for word in rest {
                    let (key, default) = split_assignment(word);
                    let key_text = text_of(&key);
                    if key_text.is_empty() {
                        continue;
                    }
                    let value = match (build_args.get(&key_text), default) {
                        (Some(v), _) => Some(v.clone()),
                        (None, Some(d)) => Some(expand(&d, &args, escape, &ctx)?.0),
                        (None, None) => None,
                    };
                    args.declare(key_text, value);
                }
            }
            "FROM" => {
                seen_from = true;
                if let Some(image) = parse_from(&logical, rest, &args, &mut stages, escape, &ctx)? {
                    images.push(image);
                }
            }
            "RUN" | "COPY" | "ADD" => {
                for (terminator, strip_tabs) in heredocs(&text_of(&logical)) {
                    while let Some(line) = lines.get(i) {
                        i += 1;
                        let body = if strip_tabs {
                            line.trim_start_matches('\t')
                        } else {
                            line
                        };
                        if body == terminator {
                            break;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(images)
}

struct Ctx<'a> {
    path: &'a Path,
    file: FileId,
}

impl Ctx<'_> {
    fn error(&self, message: impl Into<String>, loc: Location) -> Diagnostic {
        Diagnostic::error(
            SYNTAX,
            format!("{}: {}", self.path.display(), message.into()),
        )
        .at(loc)
    }

    fn at(&self, pos: Option<&Pos>, fallback: Location) -> Location {
        pos.map_or(fallback, |p| Location::new(self.file, p.line, p.col))
    }
}

fn line_no(index: usize) -> u32 {
    index as u32 + 1
}

/// `# key=value` before any instruction, comment or blank line.
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.trim_start().strip_prefix('#')?;
    let (key, value) = rest.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some((key.to_ascii_lowercase(), value.trim().to_string()))
}

/// The arguments visible to `FROM` lines: the automatic platform args and the global `ARG`s.
struct Args {
    values: BTreeMap<String, Option<String>>,
}

impl Args {
    fn predefined() -> Args {
        let (os, arch) = DEFAULT_PLATFORM
            .split_once('/')
            .unwrap_or((DEFAULT_PLATFORM, ""));
        let mut values = BTreeMap::new();
        for prefix in ["BUILD", "TARGET"] {
            values.insert(format!("{prefix}PLATFORM"), Some(DEFAULT_PLATFORM.into()));
            values.insert(format!("{prefix}OS"), Some(os.into()));
            values.insert(format!("{prefix}ARCH"), Some(arch.into()));
            values.insert(format!("{prefix}VARIANT"), Some(String::new()));
        }
        Args { values }
    }

    fn declare(&mut self, name: String, value: Option<String>) {
        // Redeclaring an automatic arg without a value keeps its automatic value.
        if value.is_none() && self.values.get(&name).is_some_and(Option::is_some) {
            return;
        }
        self.values.insert(name, value);
    }

    /// `None`: not declared; `Some(None)`: declared without a value.
    fn get(&self, name: &str) -> Option<Option<&str>> {
        self.values.get(name).map(Option::as_deref)
    }
}

/// Splits a logical line into whitespace-separated words; quotes and the escape character keep
/// blanks inside a word.
fn split_words(chars: &[Pos], escape: char) -> Vec<Vec<Pos>> {
    let mut words = Vec::new();
    let mut word: Vec<Pos> = Vec::new();
    let mut quote: Option<char> = None;
    let mut iter = chars.iter().peekable();
    while let Some(p) = iter.next() {
        match quote {
            Some(q) => {
                word.push(*p);
                if p.ch == escape && q == '"' {
                    if let Some(next) = iter.next() {
                        word.push(*next);
                    }
                } else if p.ch == q {
                    quote = None;
                }
            }
            None if p.ch.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            None => {
                word.push(*p);
                if p.ch == escape {
                    if let Some(next) = iter.next() {
                        word.push(*next);
                    }
                } else if p.ch == '"' || p.ch == '\'' {
                    quote = Some(p.ch);
                }
            }
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

fn text_of(chars: &[Pos]) -> String {
    chars.iter().map(|p| p.ch).collect()
}

/// `NAME=value` → (`NAME`, value); `NAME` → (`NAME`, none).
fn split_assignment(word: &[Pos]) -> (Vec<Pos>, Option<Vec<Pos>>) {
    match word.iter().position(|p| p.ch == '=') {
        Some(at) => (
            word.get(..at).unwrap_or_default().to_vec(),
            Some(word.get(at + 1..).unwrap_or_default().to_vec()),
        ),
        None => (word.to_vec(), None),
    }
}

/// Parses `FROM [--flag=value…] image [AS name]`.
fn parse_from(
    logical: &[Pos],
    words: &[Vec<Pos>],
    args: &Args,
    stages: &mut BTreeSet<String>,
    escape: char,
    ctx: &Ctx<'_>,
) -> Result<Option<FromImage>, Diagnostic> {
    let line_start = ctx.at(logical.first(), Location::new(ctx.file, 1, 1));
    let mut platform = None;
    let mut rest = words;
    while let Some((flag, tail)) = rest.split_first() {
        let text = text_of(flag);
        let Some(body) = text.strip_prefix("--") else {
            break;
        };
        if let Some(value) = body.strip_prefix("platform=") {
            let start = flag.len() - value.chars().count();
            let value_chars = flag.get(start..).unwrap_or_default();
            platform = Some(expand(value_chars, args, escape, ctx)?.0);
        }
        rest = tail;
    }
    let (image, tail) = match rest.split_first() {
        Some(split) => split,
        None => {
            return Err(ctx
                .error("FROM requires an image", line_start)
                .with_help("write `FROM <image>[:<tag>] [AS <name>]`"));
        }
    };
    let stage = match tail {
        [] => None,
        [as_kw, name] if text_of(as_kw).eq_ignore_ascii_case("as") => {
            Some(text_of(name).to_ascii_lowercase())
        }
        [as_kw] if text_of(as_kw).eq_ignore_ascii_case("as") => {
            return Err(ctx
                .error(
                    "FROM … AS requires a stage name",
                    ctx.at(as_kw.first(), line_start),
                )
                .with_help("write `FROM <image> AS <name>`"));
        }
        [extra, ..] => {
            return Err(ctx
                .error(
                    format!(
                        "FROM takes an image and an optional `AS <name>`, not `{}`",
                        text_of(extra)
                    ),
                    ctx.at(extra.first(), line_start),
                )
                .with_help("write `FROM <image>[:<tag>] [AS <name>]`"));
        }
    };
    let (reference, unresolved) = expand(image, args, escape, ctx)?;
    let loc = ctx.at(image.first(), line_start);
    let is_stage = stages.contains(&reference.to_ascii_lowercase());
    if let Some(name) = &stage {
        stages.insert(name.clone());
    }
    if is_stage || reference.eq_ignore_ascii_case("scratch") {
        return Ok(None);
    }
    Ok(Some(FromImage {
        reference,
        written: text_of(image),
        stage,
        platform,
        loc,
        unresolved,
    }))
}

/// Quote removal, escapes and variable substitution of one word. Returns the value and the
/// variables used without a value.
fn expand(
    chars: &[Pos],
    args: &Args,
    escape: char,
    ctx: &Ctx<'_>,
) -> Result<(String, Vec<String>), Diagnostic> {
    let mut unresolved = Vec::new();
    let mut out = String::new();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while let Some(p) = chars.get(i) {
        match (quote, p.ch) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('\''), c) => out.push(c),
            (None, '\'' | '"') => quote = Some(p.ch),
            (_, c) if c == escape => {
                i += 1;
                match chars.get(i) {
                    Some(next) => out.push(next.ch),
                    None => out.push(c),
                }
            }
            (_, '$') => {
                i = substitute(chars, i, args, escape, ctx, &mut out, &mut unresolved)?;
                continue;
            }
            (_, c) => out.push(c),
        }
        i += 1;
    }
    Ok((out, unresolved))
}

fn is_name_char(c: char, first: bool) -> bool {
    c == '_' || c.is_ascii_alphabetic() || (!first && c.is_ascii_digit())
}

/// Expands the `$` at `chars[at]`; returns the index after the expression.
fn substitute(
    chars: &[Pos],
    at: usize,
    args: &Args,
    escape: char,
    ctx: &Ctx<'_>,
    out: &mut String,
    unresolved: &mut Vec<String>,
) -> Result<usize, Diagnostic> {
    let dollar = chars.get(at);
    let here = ctx.at(dollar, Location::new(ctx.file, 1, 1));
    let lookup = |name: &str, unresolved: &mut Vec<String>| -> Option<String> {
        match args.get(name) {
            Some(Some(v)) => Some(v.to_string()),
            _ => {
                if !unresolved.iter().any(|u| u == name) {
                    unresolved.push(name.to_string());
                }
                None
            }
        }
    };
    match chars.get(at + 1).map(|p| p.ch) {
        Some('{') => {
            let close = matching_brace(chars, at + 2, escape).ok_or_else(|| {
                ctx.error("unterminated `${` in a variable", here)
                    .with_help("close the expression with `}`")
            })?;
            let inner = chars.get(at + 2..close).unwrap_or_default();
            let name_len = inner
                .iter()
                .enumerate()
                .take_while(|(n, p)| is_name_char(p.ch, *n == 0))
                .count();
            let name = text_of(inner.get(..name_len).unwrap_or_default());
            if name.is_empty() {
                return Err(ctx.error("bad substitution: `${` must name a variable", here));
            }
            let modifier = inner.get(name_len..).unwrap_or_default();
            let (op, word) = match modifier {
                [] => ("", &[][..]),
                [a, b, rest @ ..] if a.ch == ':' && matches!(b.ch, '-' | '+' | '?') => (
                    if b.ch == '-' {
                        ":-"
                    } else if b.ch == '+' {
                        ":+"
                    } else {
                        ":?"
                    },
                    rest,
                ),
                [a, rest @ ..] if matches!(a.ch, '-' | '+' | '?') => (
                    if a.ch == '-' {
                        "-"
                    } else if a.ch == '+' {
                        "+"
                    } else {
                        "?"
                    },
                    rest,
                ),
                _ => {
                    return Err(ctx
                        .error(
                            format!("unsupported substitution `${{{}}}`", text_of(inner)),
                            here,
                        )
                        .with_help("FROM lines support $X, ${X}, ${X:-default} and ${X:+alt}"));
                }
            };
            let value = args.get(&name).flatten();
            let set = value.is_some();
            let non_empty = value.is_some_and(|v| !v.is_empty());
            match op {
                "" => out.push_str(&lookup(&name, unresolved).unwrap_or_default()),
                ":-" | "-" => {
                    if (op == ":-" && non_empty) || (op == "-" && set) {
                        out.push_str(value.unwrap_or_default());
                    } else {
                        let (default, inner_unresolved) = expand(word, args, escape, ctx)?;
                        out.push_str(&default);
                        unresolved.extend(inner_unresolved);
                    }
                }
                ":+" | "+" => {
                    if (op == ":+" && non_empty) || (op == "+" && set) {
                        let (alt, inner_unresolved) = expand(word, args, escape, ctx)?;
                        out.push_str(&alt);
                        unresolved.extend(inner_unresolved);
                    }
                }
                _ => {
                    if (op == ":?" && non_empty) || (op == "?" && set) {
                        out.push_str(value.unwrap_or_default());
                    } else {
                        let (message, _) = expand(word, args, escape, ctx)?;
                        let message = if message.is_empty() {
                            format!("variable {name} is required")
                        } else {
                            format!("{name}: {message}")
                        };
                        return Err(ctx.error(message, here).with_help(format!(
                            "set a default with `ARG {name}=…` or pass it as a build arg"
                        )));
                    }
                }
            }
            Ok(close + 1)
        }
        Some(c) if is_name_char(c, true) => {
            let len = chars
                .get(at + 1..)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .take_while(|(n, p)| is_name_char(p.ch, *n == 0))
                .count();
            let name = text_of(chars.get(at + 1..at + 1 + len).unwrap_or_default());
            out.push_str(&lookup(&name, unresolved).unwrap_or_default());
            Ok(at + 1 + len)
        }
        _ => {
            out.push('$');
            Ok(at + 1)
        }
    }
}

/// The index of the `}` closing a `${` whose body starts at `from`, skipping nested `${…}`.
fn matching_brace(chars: &[Pos], from: usize, escape: char) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = from;
    while let Some(p) = chars.get(i) {
        match p.ch {
            c if c == escape => i += 1,
            '$' if chars.get(i + 1).is_some_and(|n| n.ch == '{') => {
                depth += 1;
                i += 1;
            }
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The heredocs an instruction opens (`<<EOF`, `<<-EOF`, `<<"EOF"`): terminator and whether
/// leading tabs are stripped.
fn heredocs(line: &str) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("<<") {
        let mut tail = rest.get(at + 2..).unwrap_or("");
        let strip_tabs = tail.starts_with('-');
        if strip_tabs {
            tail = tail.get(1..).unwrap_or("");
        }
        let quote = tail.chars().next().filter(|c| *c == '"' || *c == '\'');
        if let Some(q) = quote {
            tail = tail.get(q.len_utf8()..).unwrap_or("");
        }
        let word: String = tail
            .chars()
            .enumerate()
            .take_while(|(n, c)| is_name_char(*c, *n == 0))
            .map(|(_, c)| c)
            .collect();
        if !word.is_empty() {
            found.push((word.clone(), strip_tabs));
        }
        rest = tail.get(word.len()..).unwrap_or("");
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<FromImage> {
        parse_with(text, &[])
    }

    fn parse_with(text: &str, args: &[(&str, &str)]) -> Vec<FromImage> {
        let args = args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_images(Path::new("Dockerfile"), text, &args, FileId(3)).unwrap()
    }

    fn refs(images: &[FromImage]) -> Vec<&str> {
        images.iter().map(|i| i.reference.as_str()).collect()
    }

    fn error(text: &str) -> Diagnostic {
        from_images(Path::new("Dockerfile"), text, &BTreeMap::new(), FileId(0)).unwrap_err()
    }

    #[test]
    fn plain_from_with_location() {
        let images = parse("# comment\n\nFROM   postgres:16.4\n");
        assert_eq!(refs(&images), ["postgres:16.4"]);
        assert_eq!(images[0].loc, Location::new(FileId(3), 3, 8));
        assert_eq!(images[0].stage, None);
    }

    #[test]
    fn instruction_is_case_insensitive_and_as_names_a_stage() {
        let images = parse("from golang:1.23.4 as Build\nFROM alpine:3.22.1\n");
        assert_eq!(refs(&images), ["golang:1.23.4", "alpine:3.22.1"]);
        assert_eq!(images[0].stage.as_deref(), Some("build"));
    }

    #[test]
    fn global_args_defaults_and_forms() {
        let text = "ARG A=1\nARG B=\"2 x\" C='3'\nARG D\n\
                    FROM img:$A-${B}-${C}\n\
                    FROM img:${D:-dflt}\n\
                    FROM img:${A:+alt}${D:+never}\n\
                    FROM img:${D-unset}\n";
        let images = parse(text);
        assert_eq!(
            refs(&images),
            ["img:1-2 x-3", "img:dflt", "img:alt", "img:unset"]
        );
    }

    #[test]
    fn arg_defaults_may_use_earlier_args() {
        let images = parse("ARG V=3.12\nARG IMG=python:${V}-slim\nFROM $IMG\n");
        assert_eq!(refs(&images), ["python:3.12-slim"]);
        assert_eq!(images[0].written, "$IMG");
    }

    #[test]
    fn build_args_override_defaults_but_only_declared_ones() {
        let text = "ARG TAG=16.4\nFROM postgres:${TAG}\nFROM redis:${UNDECLARED:-7.4.6}\n";
        let images = parse_with(text, &[("TAG", "17.6"), ("UNDECLARED", "x")]);
        assert_eq!(refs(&images), ["postgres:17.6", "redis:7.4.6"]);
    }

    #[test]
    fn args_after_the_first_from_do_not_reach_later_from_lines() {
        let images = parse("FROM a:1\nARG T=2\nFROM b:${T}\n");
        assert_eq!(refs(&images), ["a:1", "b:"]);
        assert_eq!(images[1].unresolved, ["T"]);
    }

    #[test]
    fn unset_variables_are_empty_and_reported() {
        let images = parse("ARG NOPE\nFROM python:${NOPE}\n");
        assert_eq!(refs(&images), ["python:"]);
        assert_eq!(images[0].unresolved, ["NOPE"]);
    }

    #[test]
    fn stages_and_scratch_are_not_images() {
        let text = "FROM rust:1.83.0 AS builder\nFROM builder AS test\nFROM scratch\nFROM TEST\n";
        let images = parse(text);
        assert_eq!(refs(&images), ["rust:1.83.0"]);
    }

    #[test]
    fn a_stage_named_through_an_arg_is_still_a_stage() {
        let images = parse("ARG BASE=build\nFROM node:22.11.0 AS build\nFROM ${BASE}\n");
        assert_eq!(refs(&images), ["node:22.11.0"]);
    }

    #[test]
    fn platform_flag_is_skipped_and_resolved() {
        let text = "FROM --platform=$BUILDPLATFORM golang:1.23.4 AS b\n\
                    FROM --platform=linux/arm64 alpine:3.22.1\n";
        let images = parse(text);
        assert_eq!(refs(&images), ["golang:1.23.4", "alpine:3.22.1"]);
        assert_eq!(images[0].platform.as_deref(), Some("linux/amd64"));
        assert_eq!(images[0].loc.col, 32);
        assert_eq!(images[1].platform.as_deref(), Some("linux/arm64"));
    }

    #[test]
    fn continuation_lines_keep_the_token_location() {
        let text = "FROM \\\n  # a comment inside\n\n    --platform=linux/amd64 \\  \n  python:3.12.8 \\\n  AS app\n";
        let images = parse(text);
        assert_eq!(refs(&images), ["python:3.12.8"]);
        assert_eq!((images[0].loc.line, images[0].loc.col), (5, 3));
        assert_eq!(images[0].stage.as_deref(), Some("app"));
    }

    #[test]
    fn escape_directive_switches_to_backtick() {
        let text = "# escape=`\n# syntax=docker/dockerfile:1\nFROM `\n  mcr.microsoft.com/windows/nanoserver:ltsc2022\n";
        assert_eq!(
            refs(&parse(text)),
            ["mcr.microsoft.com/windows/nanoserver:ltsc2022"]
        );
    }

    #[test]
    fn directives_only_count_at_the_top() {
        // After an instruction, `# escape=` is a comment and `\` still continues lines.
        let text = "FROM a:1\n# escape=`\nFROM \\\n b:2\n";
        assert_eq!(refs(&parse(text)), ["a:1", "b:2"]);
    }

    #[test]
    fn heredoc_bodies_are_not_instructions() {
        let text = "FROM a:1\nRUN <<EOF\nFROM not:this\nEOF\nCOPY <<-\"X\" /f\n\tFROM nor:this\n\tX\nFROM b:2\n";
        assert_eq!(refs(&parse(text)), ["a:1", "b:2"]);
    }

    #[test]
    fn crlf_line_endings() {
        let images = parse("ARG V=1\r\nFROM x:${V}\r\n");
        assert_eq!(refs(&images), ["x:1"]);
    }

    #[test]
    fn escaped_dollar_is_literal() {
        assert_eq!(refs(&parse("FROM x:\\$V\n")), ["x:$V"]);
    }

    #[test]
    fn from_without_image_is_an_error() {
        let e = error("FROM alpine:3.22.1\n\nFROM\n");
        assert_eq!(e.code, SYNTAX);
        assert_eq!(e.location.map(|l| l.line), Some(3));
        let e = error("FROM --platform=linux/amd64\n");
        assert_eq!(e.code, SYNTAX);
    }

    #[test]
    fn extra_arguments_are_an_error() {
        let e = error("FROM a:1 b:2\n");
        assert_eq!(e.location.map(|l| (l.line, l.col)), Some((1, 10)));
        let e = error("FROM a:1 AS\n");
        assert!(e.message.contains("stage name"), "{}", e.message);
    }

    #[test]
    fn bad_substitutions_are_errors() {
        let e = error("FROM a:${V\n");
        assert_eq!(e.location.map(|l| (l.line, l.col)), Some((1, 8)));
        assert!(error("FROM a:${V#x}\n").message.contains("unsupported"));
        assert!(error("FROM a:${V:?needed}\n").message.contains("V: needed"));
        assert!(error("FROM a:${}\n").message.contains("bad substitution"));
    }

    #[test]
    fn nested_defaults() {
        let images = parse("ARG B=3.22.1\nFROM alpine:${A:-${B:-x}}\n");
        assert_eq!(refs(&images), ["alpine:3.22.1"]);
    }
}
