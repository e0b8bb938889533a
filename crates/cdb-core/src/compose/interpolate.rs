//! Compose-spec variable interpolation of a single string value, matching
//! Docker Compose v2 (compose-go v2 `template` package, as shipped in Compose
//! v2.40.3 / compose-go v2.9.1) byte for byte.
//!
//! # Syntax
//!
//! | form | result |
//! |------|--------|
//! | `$$` | a literal `$` |
//! | `$NAME`, `${NAME}` | the value of `NAME`; empty, plus a warning, when unset |
//! | `${NAME:-default}` | `default` when `NAME` is unset **or empty** |
//! | `${NAME-default}` | `default` when `NAME` is unset |
//! | `${NAME:?message}` | error when `NAME` is unset **or empty** |
//! | `${NAME?message}` | error when `NAME` is unset |
//! | `${NAME:+replacement}` | `replacement` when `NAME` is set **and non-empty**, else empty |
//! | `${NAME+replacement}` | `replacement` when `NAME` is set, else empty |
//!
//! A name is `[_A-Za-z][_A-Za-z0-9]*` (compose-go matches it case-insensitively
//! with Go's Unicode case folding, so `ſ` (U+017F) and `K` (U+212A) also count
//! as letters; this module does the same).
//!
//! Defaults, replacements and error messages are themselves interpolated
//! (`${A:-${B:-x}}`), and they are interpolated **eagerly**: `${A:-${B}}`
//! warns about an unset `B` even when `A` is set, and `${A:-${B:?no B}}` fails
//! when `B` is unset even if `A` is set.
//!
//! # Quirks reproduced from compose-go (all checked against `docker compose config`)
//!
//! * `$` followed by anything other than `$`, `{` or a name start is kept
//!   literally: `a $ b`, `$-x`, `$1A`, `$}` and a trailing `$` are not errors.
//! * `${` that does not start a well-formed braced expression is an error:
//!   `${}`, `${ A}`, `${A }`, `${A!}`, `${1A}`, `${A.B}`, `${A:}`, an
//!   unterminated `${A` or `${A:-x`.
//! * `$NAME` stops at the first non-name character: `$A.B` is the value of
//!   `A` followed by `.B`, `$FOO-bar` is `FOO` followed by `-bar`.
//! * A braced expression with an operator extends (greedily) to the *last* `}`
//!   of the line; its end is then re-located by counting braces, where every
//!   `{` also swallows the byte after it. Hence `${A:-{}x}y}` yields `{}x}y`
//!   and `${A:-a}}` yields `a}`. A default never spans a newline:
//!   `"${A:-x\ny}"` is an invalid template.
//! * A stray `}` is literal: `${A}}` is the value of `A` followed by `}`.
//!
//! # Errors
//!
//! [`InterpolationError`]'s `Display` is compose-go's error text; Compose's CLI
//! wraps it with the YAML path of the value, which
//! [`InterpolationError::to_compose_message`] reproduces:
//!
//! ```text
//! error while interpolating services.a.environment.V: required variable ID is missing a value: ID variable must be set
//! error while interpolating services.a.environment.V: required variable ID is missing a value
//! invalid interpolation format for services.a.environment.V.
//! You may need to escape any $ with another $.
//! ${A:-x
//! ```
//!
//! The template printed for an invalid template is the (sub-)string compose-go
//! was scanning when it failed: the whole value, a default/message, or the text
//! following an earlier expression on the same line (`${A:-x} ${ }` prints
//! ` ${ }`).
//!
//! # Unset variables
//!
//! Compose logs `The "FOO" variable is not set. Defaulting to a blank string.`
//! once per occurrence of `$FOO` / `${FOO}` whose variable is unset.
//! [`Interpolated::unset`] lists those names in evaluation order, one entry per
//! occurrence (so duplicates are possible), for the caller to warn about.
//! Forms with an operator never warn.
//!
//! # Where values come from
//!
//! For a Compose file, the lookup is the process environment layered over the
//! project `.env` file(s): **a variable set in the process environment wins
//! over the same variable in `.env`** (see [`crate::compose::dotenv`]). Building
//! that lookup is the caller's business.
//!
//! # Divergence
//!
//! The only intentional difference from compose-go: defaults/messages nested
//! more than [`MAX_NESTING`] levels deep are rejected with
//! [`InterpolationError::TooDeeplyNested`] instead of recursing without bound.

use std::fmt::Write as _;

/// Maximum nesting depth of `${A:-${B:-...}}` defaults, replacements and
/// messages before [`interpolate`] gives up with
/// [`InterpolationError::TooDeeplyNested`]. compose-go has no limit.
pub const MAX_NESTING: usize = 64;

/// The result of interpolating one string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interpolated {
    /// The interpolated value.
    pub value: String,
    /// Variables referenced without a default (`$FOO`, `${FOO}`) that were
    /// unset and therefore replaced by an empty string, one entry per
    /// occurrence, in evaluation order. Compose warns
    /// `The "FOO" variable is not set. Defaulting to a blank string.` for each.
    pub unset: Vec<String>,
}

/// Why a string could not be interpolated.
///
/// `Display` is compose-go's error text (what Compose prints after
/// `error while interpolating <path>: `); see
/// [`InterpolationError::to_compose_message`] for the full CLI message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolationError {
    /// `${NAME:?message}` / `${NAME?message}` on a missing (or, for `:?`,
    /// empty) variable. Displays as
    /// `required variable NAME is missing a value: message`, or without the
    /// `: message` part when the (interpolated) message is empty.
    #[error("{}", required_text(name, message))]
    RequiredMissing {
        /// The variable name as written.
        name: String,
        /// The interpolated error message (may be empty).
        message: String,
        /// Byte offset in the input of the `$` of the failing `${`.
        offset: usize,
    },
    /// A `${` that does not start a well-formed expression. Displays as
    /// compose-go's `Invalid template: "<template>"` (Go `%#v` quoting).
    #[error("Invalid template: {}", go_quote(template))]
    InvalidTemplate {
        /// The (sub-)template compose-go reports: the whole input, or the
        /// default/message or trailing text being scanned when it failed.
        template: String,
        /// Byte offset in the input of the `$` of the offending `${`.
        offset: usize,
    },
    /// Defaults/messages nested deeper than [`MAX_NESTING`] (a limit of this
    /// implementation only; compose-go has none).
    #[error("Invalid template: expressions nested more than {limit} levels deep")]
    TooDeeplyNested {
        /// The nesting limit that was exceeded.
        limit: usize,
        /// Byte offset in the input of the `$` of the expression too deep.
        offset: usize,
    },
}

impl InterpolationError {
    /// Byte offset in the interpolated input of the `$` starting the failing
    /// expression; always on a character boundary.
    #[must_use]
    pub fn offset(&self) -> usize {
        match self {
            Self::RequiredMissing { offset, .. }
            | Self::InvalidTemplate { offset, .. }
            | Self::TooDeeplyNested { offset, .. } => *offset,
        }
    }

    /// The message Docker Compose prints for this error on the value at
    /// `path` (e.g. `services.web.environment.FOO`):
    /// `error while interpolating <path>: <self>`, or for an invalid template
    /// `invalid interpolation format for <path>.\nYou may need to escape any $
    /// with another $.\n<template>`.
    #[must_use]
    pub fn to_compose_message(&self, path: &str) -> String {
        match self {
            Self::InvalidTemplate { template, .. } => format!(
                "invalid interpolation format for {path}.\nYou may need to escape any $ with another $.\n{template}"
            ),
            _ => format!("error while interpolating {path}: {self}"),
        }
    }

    /// Replaces the offset (for callers that interpolate a slice of a larger
    /// text and report positions in that text).
    pub(crate) fn with_offset(mut self, new_offset: usize) -> Self {
        match &mut self {
            Self::RequiredMissing { offset, .. }
            | Self::InvalidTemplate { offset, .. }
            | Self::TooDeeplyNested { offset, .. } => *offset = new_offset,
        }
        self
    }
}

fn required_text(name: &str, message: &str) -> String {
    if message.is_empty() {
        format!("required variable {name} is missing a value")
    } else {
        format!("required variable {name} is missing a value: {message}")
    }
}

/// Interpolates `input` the way Docker Compose interpolates a string value of
/// a Compose file.
///
/// `lookup` returns `Some(value)` for a set variable (possibly empty) and
/// `None` for an unset one.
///
/// # Errors
///
/// [`InterpolationError::RequiredMissing`] for a failed `:?`/`?` check,
/// [`InterpolationError::InvalidTemplate`] for a malformed `${`, and
/// [`InterpolationError::TooDeeplyNested`] past [`MAX_NESTING`]. The first
/// error in evaluation order is returned.
///
/// # Examples
///
/// ```
/// # use cdb_core::compose::interpolate::interpolate;
/// let env = |name: &str| (name == "HOST").then(|| "db".to_owned());
/// let out = interpolate("${HOST}:${PORT:-5432} $$HOME $USER", &env).unwrap();
/// assert_eq!(out.value, "db:5432 $HOME ");
/// assert_eq!(out.unset, ["USER"]);
/// ```
pub fn interpolate(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Interpolated, InterpolationError> {
    let mut ctx = Ctx {
        lookup,
        unset: Vec::new(),
    };
    let value = substitute(&mut ctx, input, 0, 0)?;
    Ok(Interpolated {
        value,
        unset: ctx.unset,
    })
}

/// Escapes every `$` as `$$`, the way `docker compose config` prints values,
/// so that interpolating the result with any environment gives `s` back.
///
/// ```
/// # use cdb_core::compose::interpolate::escape_dollars;
/// assert_eq!(escape_dollars("a$b$$"), "a$$b$$$$");
/// ```
#[must_use]
pub fn escape_dollars(s: &str) -> String {
    s.replace('$', "$$")
}

struct Ctx<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    unset: Vec<String>,
}

/// `[_a-z]` under Go's `(?i)` (simple case folding adds U+017F and U+212A).
fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic() || c == '\u{17F}' || c == '\u{212A}'
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

/// Byte length of the name starting at the beginning of `s` (0 if none).
fn name_len(s: &str) -> usize {
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, c)) if is_name_start(c) => {}
        _ => return 0,
    }
    chars
        .find(|&(_, c)| !is_name_char(c))
        .map_or(s.len(), |(i, _)| i)
}

/// The operator right after a name: `:-`, `-`, `:?`, `?`, `:+` or `+`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Default { or_empty: bool },
    Required { or_empty: bool },
    Alternative { or_empty: bool },
}

fn parse_op(s: &[u8]) -> Option<(Op, usize)> {
    let (colon, rest) = match s.first() {
        Some(b':') => (true, s.get(1..).unwrap_or_default()),
        _ => (false, s),
    };
    let op = match rest.first()? {
        b'-' => Op::Default { or_empty: colon },
        b'?' => Op::Required { or_empty: colon },
        b'+' => Op::Alternative { or_empty: colon },
        _ => return None,
    };
    Some((op, 1 + usize::from(colon)))
}

/// compose-go's `getFirstBraceClosingIndex`: index of the `}` that closes the
/// first `{`, where each `{` also skips the byte following it.
fn first_brace_closing(s: &[u8]) -> Option<usize> {
    let mut open = 0usize;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'}' {
            open = open.saturating_sub(1);
            if open == 0 {
                return Some(i);
            }
        }
        if b == b'{' {
            open += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

/// Finds where compose-go's greedy `(.*)}` ends: the last `}` at or after
/// `from` and before the next `\n`. Remembers the answer for the current
/// line so that many expressions on one long line stay linear.
#[derive(Default)]
struct LastClose {
    /// `(scanned_from, line_end, last_close)` of the last scan.
    cache: Option<(usize, usize, Option<usize>)>,
}

impl LastClose {
    fn find(&mut self, tmpl: &str, from: usize) -> Option<usize> {
        let (_, _, last) = match self.cache {
            Some(hit @ (scanned_from, line_end, _)) if scanned_from <= from && from <= line_end => {
                hit
            }
            _ => {
                let tail = tmpl.get(from..).unwrap_or_default();
                let line_len = tail.find('\n').unwrap_or(tail.len());
                let line = tail.get(..line_len).unwrap_or_default();
                let entry = (from, from + line_len, line.rfind('}').map(|i| from + i));
                self.cache = Some(entry);
                entry
            }
        };
        last.filter(|&close| close >= from)
    }
}

fn invalid(template: &str, offset: usize) -> InterpolationError {
    InterpolationError::InvalidTemplate {
        template: template.to_owned(),
        offset,
    }
}

/// One `SubstituteWith` call of compose-go on `tmpl`, whose first byte is at
/// offset `base` of the original input.
fn substitute(
    ctx: &mut Ctx<'_>,
    tmpl: &str,
    base: usize,
    depth: usize,
) -> Result<String, InterpolationError> {
    let bytes = tmpl.as_bytes();
    let mut out = String::with_capacity(tmpl.len());
    // Text up to `copied` is already in `out`.
    let mut copied = 0;
    // Where to look for the next `$`.
    let mut pos = 0;
    // The text after an operator expression's closing brace is interpolated
    // by compose-go as a separate template (used for error messages); all
    // such nested "rest" templates end where the outermost expression ended.
    let mut segment: Option<(usize, usize)> = None;
    let mut last_close = LastClose::default();

    while let Some(found) = bytes
        .get(pos..)
        .and_then(|tail| tail.iter().position(|&b| b == b'$'))
    {
        let start = pos + found;
        if segment.is_some_and(|(_, end)| start >= end) {
            segment = None;
        }
        let current_template = || match segment {
            Some((from, to)) => tmpl.get(from..to).unwrap_or(tmpl),
            None => tmpl,
        };
        let after = tmpl.get(start + 1..).unwrap_or_default();

        // `$$`
        if after.starts_with('$') {
            out.push_str(tmpl.get(copied..start).unwrap_or_default());
            out.push('$');
            pos = start + 2;
            copied = pos;
            continue;
        }

        // `$NAME`
        let len = name_len(after);
        if len > 0 {
            out.push_str(tmpl.get(copied..start).unwrap_or_default());
            let name = after.get(..len).unwrap_or_default();
            out.push_str(&lookup_plain(ctx, name));
            pos = start + 1 + len;
            copied = pos;
            continue;
        }

        // Not followed by `{`: no match, the `$` stays literal.
        let Some(inner) = after.strip_prefix('{') else {
            pos = start + 1;
            continue;
        };

        out.push_str(tmpl.get(copied..start).unwrap_or_default());
        let name_end_rel = name_len(inner);
        if name_end_rel == 0 {
            return Err(invalid(current_template(), base + start));
        }
        let name = inner.get(..name_end_rel).unwrap_or_default();
        let name_end = start + 2 + name_end_rel;

        let Some((op, op_len)) = parse_op(bytes.get(name_end..).unwrap_or_default()) else {
            // `${NAME}` or invalid.
            if bytes.get(name_end) == Some(&b'}') {
                out.push_str(&lookup_plain(ctx, name));
                pos = name_end + 1;
                copied = pos;
                continue;
            }
            return Err(invalid(current_template(), base + start));
        };

        let arg_start = name_end + op_len;
        let Some(last_close) = last_close.find(tmpl, arg_start) else {
            return Err(invalid(current_template(), base + start));
        };
        let match_end = last_close + 1;
        let cut = bytes
            .get(start..match_end)
            .and_then(first_brace_closing)
            .map(|c| start + c);
        let arg_end = cut.unwrap_or(last_close);
        let arg = tmpl.get(arg_start..arg_end).unwrap_or_default();

        if depth >= MAX_NESTING {
            return Err(InterpolationError::TooDeeplyNested {
                limit: MAX_NESTING,
                offset: base + start,
            });
        }
        let arg_value = substitute(ctx, arg, base + arg_start, depth + 1)?;
        let value = (ctx.lookup)(name);
        let replacement = match op {
            Op::Default { or_empty } => match value {
                Some(v) if !(or_empty && v.is_empty()) => v,
                _ => arg_value,
            },
            Op::Alternative { or_empty } => match value {
                Some(v) if !(or_empty && v.is_empty()) => arg_value,
                Some(v) => v,
                None => String::new(),
            },
            Op::Required { or_empty } => match value {
                Some(v) if !(or_empty && v.is_empty()) => v,
                _ => {
                    return Err(InterpolationError::RequiredMissing {
                        name: name.to_owned(),
                        message: arg_value,
                        offset: base + start,
                    });
                }
            },
        };
        out.push_str(&replacement);

        match cut {
            Some(c) if c + 1 < match_end => {
                segment = Some((c + 1, match_end));
                pos = c + 1;
            }
            _ => pos = match_end,
        }
        copied = pos;
    }
    out.push_str(tmpl.get(copied..).unwrap_or_default());
    Ok(out)
}

fn lookup_plain(ctx: &mut Ctx<'_>, name: &str) -> String {
    match (ctx.lookup)(name) {
        Some(v) => v,
        None => {
            ctx.unset.push(name.to_owned());
            String::new()
        }
    }
}

/// Go's `strconv.Quote` (what `%q` and `%#v` print for a string): escapes
/// `"`, `\`, control characters and non-printable runes.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c < ' ' || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if unicode::is_go_printable(c) => out.push(c),
            c if u32::from(c) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

/// Go `unicode` predicates that Rust's `char` methods do not match exactly.
pub(crate) mod unicode {
    use regex::Regex;
    use std::sync::LazyLock;

    struct Classes {
        printable: Option<Regex>,
        letter_or_number: Option<Regex>,
    }

    static CLASSES: LazyLock<Classes> = LazyLock::new(|| Classes {
        printable: Regex::new(r"\A[\p{L}\p{M}\p{N}\p{P}\p{S}]\z").ok(),
        letter_or_number: Regex::new(r"\A[\p{L}\p{N}]\z").ok(),
    });

    fn matches(re: Option<&Regex>, c: char, fallback: fn(char) -> bool) -> bool {
        let mut buf = [0u8; 4];
        re.map_or_else(|| fallback(c), |re| re.is_match(c.encode_utf8(&mut buf)))
    }

    /// Go's `strconv.IsPrint` for non-ASCII runes: general categories L, M,
    /// N, P and S.
    pub(crate) fn is_go_printable(c: char) -> bool {
        c != '\u{AD}'
            && matches(CLASSES.printable.as_ref(), c, |c| {
                !c.is_control() && !c.is_whitespace()
            })
    }

    /// Go's `unicode.IsLetter(c) || unicode.IsNumber(c)`: general categories
    /// L and N (Rust's `is_alphanumeric` also admits `Other_Alphabetic` marks).
    pub(crate) fn is_letter_or_number(c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_alphanumeric();
        }
        matches(CLASSES.letter_or_number.as_ref(), c, char::is_alphanumeric)
    }
}

#[cfg(test)]
mod tests {
    //! Every expectation in `compose_verified` was produced by Docker Compose
    //! v2.40.3 (`docker compose config --format json` on
    //! `services: {a: {image: x, environment: {V: <value>}}}` with exactly the
    //! given process environment), including the printed warnings and errors.

    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn run(input: &str, pairs: &[(&str, &str)]) -> Result<Interpolated, InterpolationError> {
        let map = env(pairs);
        interpolate(input, &|k| map.get(k).cloned())
    }

    fn ok(input: &str, pairs: &[(&str, &str)]) -> (String, Vec<String>) {
        let out = run(input, pairs).unwrap();
        (out.value, out.unset)
    }

    #[track_caller]
    fn check(input: &str, pairs: &[(&str, &str)], value: &str, unset: &[&str]) {
        let (v, u) = ok(input, pairs);
        assert_eq!(v, value, "value of {input:?}");
        assert_eq!(u, unset, "unset of {input:?}");
    }

    #[track_caller]
    fn check_invalid(input: &str, pairs: &[(&str, &str)], template: &str, offset: usize) {
        let err = run(input, pairs).unwrap_err();
        assert_eq!(
            err,
            InterpolationError::InvalidTemplate {
                template: template.to_owned(),
                offset
            },
            "error of {input:?}"
        );
    }

    #[track_caller]
    fn check_required(
        input: &str,
        pairs: &[(&str, &str)],
        name: &str,
        message: &str,
        offset: usize,
    ) {
        let err = run(input, pairs).unwrap_err();
        assert_eq!(
            err,
            InterpolationError::RequiredMissing {
                name: name.to_owned(),
                message: message.to_owned(),
                offset
            },
            "error of {input:?}"
        );
    }

    #[test]
    fn compose_verified_plain_forms() {
        // verified: `$FOO-bar` with FOO=f -> "f-bar"
        check("$FOO-bar", &[("FOO", "f")], "f-bar", &[]);
        // verified: `${FOO}` unset -> "" + warning about FOO
        check("${FOO}", &[], "", &["FOO"]);
        // verified: one warning per occurrence
        check("${A} ${A}", &[], " ", &["A", "A"]);
        check("${a}", &[("a", "low")], "low", &[]);
        check("$A$B", &[("A", "1"), ("B", "2")], "12", &[]);
        check("$_", &[("_", "u")], "u", &[]);
        check("$A.B", &[("A", "a")], "a.B", &[]);
        check("é$Aé", &[("A", "1")], "é1é", &[]);
        check("{$A}", &[("A", "1")], "{1}", &[]);
        // verified: Go's (?i) folding admits U+017F and U+212A as letters
        check("${ſ}", &[("ſ", "longs"), ("S", "S")], "longs", &[]);
        check("$K", &[("K", "kel")], "kel", &[]);
    }

    #[test]
    fn compose_verified_operators() {
        // `:-` vs `-` on an empty variable (verified)
        check("${FOO:-d}", &[("FOO", "")], "d", &[]);
        check("${FOO-d}", &[("FOO", "")], "", &[]);
        check("${FOO:-d}", &[], "d", &[]);
        check("${FOO-d}", &[], "d", &[]);
        check("${FOO:-d}", &[("FOO", "v")], "v", &[]);
        check("${A-}", &[], "", &[]);
        // `:+` vs `+` (verified)
        check("${FOO:+r}", &[("FOO", "")], "", &[]);
        check("${FOO+r}", &[("FOO", "")], "r", &[]);
        check("${FOO:+r}", &[], "", &[]);
        check("${FOO:+r}", &[("FOO", "v")], "r", &[]);
        check("${A+}", &[("A", "1")], "", &[]);
        check("${A+x-y}", &[("A", "")], "x-y", &[]);
        // `?` accepts an empty value (verified)
        check("${A?}", &[("A", "")], "", &[]);
        check("${A:?e}x${B}", &[("A", "1")], "1x", &["B"]);
        // the first operator wins, the rest is literal (verified)
        check("${A-x:?y}", &[], "x:?y", &[]);
        check("${A:-é}", &[], "é", &[]);
        check("${A:-$}", &[], "$", &[]);
    }

    #[test]
    fn compose_verified_nesting_and_braces() {
        check("${A:-${B:-x}}", &[], "x", &[]);
        // defaults are interpolated even when unused (verified: warns about B)
        check("${A:-${B}}", &[("A", "a")], "a", &["B"]);
        check("${A:-x} and ${B}", &[], "x and ", &["B"]);
        check("${A:-x}\n${B:-y}", &[], "x\ny", &[]);
        check("${A:-a}${B:-b}}", &[], "ab}", &[]);
        check("${A:-a}}", &[], "a}", &[]);
        check("${A}}", &[], "}", &["A"]);
        // brace counting where `{` swallows the next byte (verified)
        check("${A:-{x}y}", &[], "{x}y", &[]);
        check("${A:-{}x}", &[], "{}x", &[]);
        check("${A:-{}x}y}", &[], "{}x}y", &[]);
        check("${A-{B}", &[], "{B", &[]);
        check("${A:-{${B}}}", &[("B", "b")], "{b}", &[]);
        check("${A:-${B:-{}}}z}", &[], "{}}z", &[]);
        check("${A:-x}$${B}", &[], "x${B}", &[]);
    }

    #[test]
    fn compose_verified_literal_dollars() {
        // `docker compose config` prints these escaped as `$$` (verified)
        check("a $ b", &[], "a $ b", &[]);
        check("a$-b", &[], "a$-b", &[]);
        check("$", &[], "$", &[]);
        check("x$", &[], "x$", &[]);
        check("$1A", &[], "$1A", &[]);
        check("$}", &[], "$}", &[]);
        check("$$", &[], "$", &[]);
        check("$${A}", &[], "${A}", &[]);
        check("$$$A", &[("A", "a")], "$a", &[]);
    }

    #[test]
    fn compose_verified_invalid_templates() {
        // verified: "invalid interpolation format for services.a.environment.V.
        // You may need to escape any $ with another $.\n<template>"
        check_invalid("${}", &[], "${}", 0);
        check_invalid("${A", &[], "${A", 0);
        check_invalid("${1A}", &[], "${1A}", 0);
        check_invalid("${A.B}", &[], "${A.B}", 0);
        check_invalid("${ A}", &[], "${ A}", 0);
        check_invalid("${A }", &[], "${A }", 0);
        check_invalid("${A!}", &[], "${A!}", 0);
        check_invalid("${A:}", &[], "${A:}", 0);
        check_invalid("ok ${", &[], "ok ${", 3);
        check_invalid("${A:-x\ny}", &[], "${A:-x\ny}", 0);
        check_invalid("${A:-x}\n${", &[], "${A:-x}\n${", 8);
        check_invalid("x ${A:-x} ${B", &[], "x ${A:-x} ${B", 10);
        // the reported template is the sub-template being scanned (verified)
        check_invalid("${A:-${B}", &[], "${B", 5);
        check_invalid("${A:-${}}", &[("A", "a")], "${}", 5);
        check_invalid("${A:-x} ${ }", &[], " ${ }", 8);
        check_invalid("${A:-{}x}${B}", &[], "{}x}${B", 9);
        check_invalid("${A:-x}${B:-y} ${C} ${", &[], "${A:-x}${B:-y} ${C} ${", 20);
    }

    #[test]
    fn compose_verified_required() {
        // verified: "required variable FOO is missing a value: err msg"
        check_required("${FOO:?err msg}", &[], "FOO", "err msg", 0);
        // verified: empty message -> no ": " suffix
        check_required("${FOO?}", &[], "FOO", "", 0);
        check_required("${FOO:?}", &[("FOO", "")], "FOO", "", 0);
        // verified: the message is interpolated (B unset -> "" + warning)
        check_required("${A:?${B}}", &[], "A", "", 0);
        // verified: nested checks fire even though A is set
        check_required("${A:-${B:?bmsg}}", &[("A", "set")], "B", "bmsg", 5);
        check_required("${A:+${B:?bb}}", &[], "B", "bb", 5);
        // verified: first error wins
        check_required("${A?e} ${B?f}", &[], "A", "e", 0);
        check_required("x ${A?e}", &[], "A", "e", 2);
    }

    #[test]
    fn display_matches_compose() {
        let e = run("${ID:?ID variable must be set}", &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "required variable ID is missing a value: ID variable must be set"
        );
        assert_eq!(
            e.to_compose_message("services.a.environment.V"),
            "error while interpolating services.a.environment.V: required variable ID is missing a value: ID variable must be set"
        );
        let e = run("${ID?}", &[]).unwrap_err();
        assert_eq!(e.to_string(), "required variable ID is missing a value");
        let e = run("${A:-x\ny}", &[]).unwrap_err();
        assert_eq!(e.to_string(), r#"Invalid template: "${A:-x\ny}""#);
        assert_eq!(
            e.to_compose_message("services.a.environment.V"),
            "invalid interpolation format for services.a.environment.V.\nYou may need to escape any $ with another $.\n${A:-x\ny}"
        );
        assert_eq!(e.offset(), 0);
    }

    #[test]
    fn go_quote_matches_strconv_quote() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("\u{1}\u{7f}\t"), r#""\x01\x7f\t""#);
        assert_eq!(go_quote("é日本"), "\"é日本\"");
        assert_eq!(go_quote("\u{3000}\u{a0}\u{ad}"), r#""\u3000\u00a0\u00ad""#);
        assert_eq!(go_quote("\u{e0001}"), r#""\U000e0001""#);
    }

    #[test]
    fn deep_nesting_is_rejected_not_overflowing() {
        let deep = "${A:-".repeat(10_000) + &"}".repeat(10_000);
        assert!(matches!(
            run(&deep, &[]),
            Err(InterpolationError::TooDeeplyNested { .. })
        ));
        let ok_depth = "${A:-".repeat(MAX_NESTING) + "x" + &"}".repeat(MAX_NESTING);
        assert_eq!(ok(&ok_depth, &[]).0, "x");
        // long flat lines stay linear (many expressions sharing one line)
        let flat = "${A:-x}".repeat(200_000);
        assert_eq!(ok(&flat, &[]).0, "x".repeat(200_000));
        let flat = "$A${A:-$A}".repeat(100_000) + "\n" + &"${A-${A}}$$".repeat(100_000);
        assert_eq!(
            run(&flat, &[("A", "a")]).unwrap().value,
            "aa".repeat(100_000) + "\n" + &"a$".repeat(100_000)
        );
    }

    /// A literal port of compose-go v2.9.1's regex-driven `template` package,
    /// used as an oracle for the hand-written scanner.
    mod reference {
        use super::super::InterpolationError;
        use regex::{Captures, Regex};

        pub(super) struct Oracle {
            pattern: Regex,
        }

        pub(super) type Map<'a> = &'a dyn Fn(&str) -> Option<String>;

        impl Oracle {
            pub(super) fn new() -> Self {
                let pattern = Regex::new(
                    r"\$(?i:(?P<escaped>\$)|(?P<named>[_a-z][_a-z0-9]*)|\{(?:(?P<braced>[_a-z][_a-z0-9]*(?::?[-+?](.*))?)\}|(?P<invalid>)))",
                )
                .unwrap();
                Self { pattern }
            }

            /// Returns the value or (error without offset), plus warnings.
            pub(super) fn substitute(
                &self,
                template: &str,
                mapping: Map<'_>,
                warnings: &mut Vec<String>,
            ) -> Result<String, InterpolationError> {
                let mut first_err = None;
                let result = self
                    .pattern
                    .replace_all(template, |caps: &Captures<'_>| {
                        match self.replacement(&caps[0], mapping, warnings) {
                            Ok(s) => s,
                            Err(mut e) => {
                                if let InterpolationError::InvalidTemplate { template: t, .. } =
                                    &mut e
                                    && t.is_empty()
                                {
                                    *t = template.to_owned();
                                }
                                first_err.get_or_insert(e);
                                String::new()
                            }
                        }
                    })
                    .into_owned();
                match first_err {
                    Some(e) => Err(e),
                    None => Ok(result),
                }
            }

            fn replacement(
                &self,
                substring: &str,
                mapping: Map<'_>,
                warnings: &mut Vec<String>,
            ) -> Result<String, InterpolationError> {
                let sep = first_sep(substring);
                let (substring, rest) =
                    match super::super::first_brace_closing(substring.as_bytes()) {
                        Some(i) => (&substring[..=i], &substring[i + 1..]),
                        None => (substring, ""),
                    };
                let caps = self.pattern.captures(substring).unwrap();
                if caps.name("escaped").is_some() {
                    return Ok("$".to_owned());
                }
                let (substitution, braced) = match caps.name("named") {
                    Some(m) => (m.as_str(), false),
                    None => (caps.name("braced").map_or("", |m| m.as_str()), true),
                };
                if substitution.is_empty() {
                    return Err(InterpolationError::InvalidTemplate {
                        template: String::new(),
                        offset: 0,
                    });
                }
                if braced
                    && let Some(sep) = sep
                    && let Some((name, arg)) = substitution.split_once(sep)
                {
                    let arg = self.substitute(arg, mapping, warnings)?;
                    let value = mapping(name);
                    let v = match sep {
                        ":-" => match value {
                            Some(v) if !v.is_empty() => v,
                            _ => arg,
                        },
                        "-" => value.unwrap_or(arg),
                        ":+" => match value {
                            Some(v) if !v.is_empty() => arg,
                            v => v.unwrap_or_default(),
                        },
                        "+" => value.map(|_| arg).unwrap_or_default(),
                        ":?" | "?" => match value {
                            Some(v) if sep == "?" || !v.is_empty() => v,
                            _ => {
                                return Err(InterpolationError::RequiredMissing {
                                    name: name.to_owned(),
                                    message: arg,
                                    offset: 0,
                                });
                            }
                        },
                        _ => unreachable!(),
                    };
                    let nested = self.substitute(rest, mapping, warnings)?;
                    return Ok(v + &nested);
                }
                Ok(mapping(substitution).unwrap_or_else(|| {
                    warnings.push(substitution.to_owned());
                    String::new()
                }))
            }
        }

        fn first_sep(s: &str) -> Option<&'static str> {
            [":?", "?", ":-", "-", ":+", "+"]
                .into_iter()
                .filter_map(|sep| s.find(sep).map(|i| (i, sep)))
                .min_by_key(|&(i, _)| i)
                .map(|(_, sep)| sep)
        }
    }

    static ORACLE: std::sync::LazyLock<reference::Oracle> =
        std::sync::LazyLock::new(reference::Oracle::new);

    fn strip_offset(e: InterpolationError) -> InterpolationError {
        e.with_offset(0)
    }

    fn template_strategy() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            Just("$".to_owned()),
            Just("$$".to_owned()),
            Just("${".to_owned()),
            Just("}".to_owned()),
            Just("{".to_owned()),
            Just(":-".to_owned()),
            Just("-".to_owned()),
            Just(":?".to_owned()),
            Just("?".to_owned()),
            Just(":+".to_owned()),
            Just("+".to_owned()),
            Just(":".to_owned()),
            Just("\n".to_owned()),
            Just(" ".to_owned()),
            Just("A".to_owned()),
            Just("B".to_owned()),
            Just("E".to_owned()),
            Just("U".to_owned()),
            Just("1".to_owned()),
            Just("é".to_owned()),
            Just("ſ".to_owned()),
            Just(".".to_owned()),
            "\\PC{0,2}",
        ];
        prop::collection::vec(atom, 0..24).prop_map(|v| v.concat())
    }

    fn fixture_env(name: &str) -> Option<String> {
        match name {
            "A" => Some("a$".to_owned()),
            "B" => Some("{b}".to_owned()),
            "E" => Some(String::new()),
            _ => None,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn matches_regex_port_of_compose_go(s in template_strategy()) {
            let oracle = &*ORACLE;
            let mut warnings = Vec::new();
            let expected = oracle.substitute(&s, &fixture_env, &mut warnings);
            let actual = interpolate(&s, &fixture_env);
            match (actual, expected) {
                (Ok(a), Ok(e)) => {
                    prop_assert_eq!(a.value, e);
                    prop_assert_eq!(a.unset, warnings);
                }
                (Err(a), Err(e)) => {
                    let offset = a.offset();
                    prop_assert!(s.is_char_boundary(offset));
                    prop_assert_eq!(s.get(offset..offset + 1), Some("$"));
                    prop_assert_eq!(strip_offset(a), e);
                }
                (a, e) => prop_assert!(false, "{s:?}: ours {a:?}, compose-go {e:?}"),
            }
        }

        #[test]
        fn never_panics(s in "\\PC*|[${}:?+\\-A\n]*") {
            let _ = interpolate(&s, &fixture_env);
        }

        #[test]
        fn escape_round_trips(s in "\\PC*|[${}:?+\\-A\n]*") {
            let out = interpolate(&escape_dollars(&s), &|_| None).unwrap();
            prop_assert_eq!(out.value, s);
            prop_assert!(out.unset.is_empty());
        }
    }
}
