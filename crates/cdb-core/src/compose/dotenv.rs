//! Parser for `.env` files following Docker Compose v2's rules (compose-go
//! v2 `dotenv` package, as shipped in Compose v2.40.3 / compose-go v2.9.1).
//!
//! # Format
//!
//! * One `KEY=VALUE` statement per line; `KEY: VALUE` (YAML style) works too,
//!   and an optional leading `export ` is dropped.
//! * Leading whitespace and blank lines are skipped; a `#` at the start of a
//!   statement comments out the rest of the line.
//! * Key characters: Unicode letters and numbers, `_`, `.`, `-`, `[`, `]`.
//!   Spaces and tabs around the key are ignored, but a space *inside* it is an
//!   error (`key cannot contain a space`); any other character is an error
//!   (`unexpected character "$" in variable name "A$=1"`). Keys may start with
//!   a digit.
//! * A key alone on its line (`KEY`, no `=`) copies `KEY` from the lookup if it
//!   is set there, and is otherwise ignored.
//! * **Unquoted** values run to the end of the line, are cut at the first
//!   ` #` (space, hash: `A=x#y` keeps `x#y`, `A=x #y` gives `x`), trimmed of
//!   surrounding whitespace, and interpolated. Backslashes are literal.
//! * **Single-quoted** values are literal (no interpolation, may span lines);
//!   only `\'` is unescaped (to `'`).
//! * **Double-quoted** values may span lines; `\"` gives `"`, the escapes
//!   `\a \b \f \n \r \t \v \\` and `\0NNN` (octal, at most `\0377`) are
//!   decoded, `\$` gives a literal `$`, and the result is interpolated. Other
//!   backslash sequences (`\c`, `\x41`, `\u0041`, `\'`) are kept verbatim;
//!   a malformed octal escape loses its `0` (`\0` → `\`, `\01` → `\1`).
//! * After a closing quote the line may continue with another statement
//!   (`A="1" B=2` defines both) or a comment.
//! * A leading UTF-8 byte order mark is ignored. CRLF line ends are fine.
//! * A last line without `=` and without a trailing newline (`FOO` at end of
//!   file) defines the empty key `""` with value `FOO` (compose-go quirk).
//! * A later definition of a key replaces the earlier one (the returned
//!   [`IndexMap`] keeps the position of the first definition).
//!
//! # Interpolation and precedence
//!
//! `$VAR`, `${VAR:-default}` etc. in unquoted and double-quoted values follow
//! [`crate::compose::interpolate`]. A variable is resolved from the `lookup`
//! **first**, then from the entries defined earlier in the same file. The
//! lookup never overrides the file's own entries in the returned map.
//!
//! What Docker Compose passes as lookup for the project `.env` file(s)
//! (`--env-file` may be repeated) is the **process environment, then the
//! entries of the env files loaded before**. So with `A=os` in the process
//! environment, the file `A=1` / `B=${A}` yields `A=1, B=os`. When Compose
//! then interpolates the Compose file, **the process environment takes
//! precedence over `.env`**: `${A}` is `os`.
//!
//! # Errors
//!
//! [`DotenvError::message`] is compose-go's text; Compose prints it as
//! `failed to read /abs/path/.env: line N: <message>` for syntax errors, and
//! without the `line N: ` part for the `zero length string` and interpolation
//! errors. This module always reports the real line and column of the
//! offending character, whereas compose-go's line counter can be off (for an
//! unterminated quote it reports the line where scanning gave up).

use indexmap::IndexMap;

use super::interpolate::{self, InterpolationError, go_quote, unicode::is_letter_or_number};

/// Variables parsed from a `.env` file plus the unset-variable warnings that
/// interpolating its values produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedDotenv {
    /// The variables, in order of first definition.
    pub vars: IndexMap<String, String>,
    /// Names referenced as `$NAME`/`${NAME}` in values while unset (neither in
    /// the lookup nor defined earlier in the file), one entry per occurrence.
    /// Compose warns `The "NAME" variable is not set. Defaulting to a blank
    /// string.` for each.
    pub unset: Vec<String>,
}

/// A `.env` file that Compose would refuse.
///
/// `Display` is `line {line}: {message}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DotenvError {
    /// 1-based line of the offending character.
    pub line: usize,
    /// 1-based column (in Unicode scalar values) of the offending character.
    pub column: usize,
    /// Byte offset of the offending character in the source passed to
    /// [`parse_dotenv`] (a byte order mark counts).
    pub offset: usize,
    /// compose-go's message, without its `line N: ` prefix.
    pub message: String,
    /// What went wrong.
    pub kind: DotenvErrorKind,
}

/// The kinds of [`DotenvError`], with the message compose-go prints for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DotenvErrorKind {
    /// `unexpected character "$" in variable name "A$=1"` (Go `%q` quoting of
    /// the character and of the rest of the line from the key on).
    UnexpectedCharacter(char),
    /// `key cannot contain a space`; the position is the first space.
    KeyContainsSpace,
    /// `unterminated quoted value "abc` (the rest of the line from the
    /// opening quote); the position is the opening quote.
    UnterminatedQuote,
    /// `zero length string`: a file ending in `export ` with nothing after.
    ZeroLengthString,
    /// A failed interpolation; the message is the error's `Display`, and the
    /// error's offset has been mapped to the byte offset in the source.
    Interpolation(InterpolationError),
}

/// Parses a `.env` file the way Docker Compose does and returns its variables.
///
/// `lookup` resolves variables referenced in values before the file's own
/// earlier entries, and feeds bare `KEY` lines; see the [module
/// documentation](self) for what Compose passes.
///
/// # Errors
///
/// A [`DotenvError`] for the first malformed statement.
///
/// # Examples
///
/// ```
/// # use cdb_core::compose::dotenv::parse_dotenv;
/// let vars = parse_dotenv("export A=1 # one\nB: \"${A}\\n$C\"\nC\n", &|name| {
///     (name == "C").then(|| "from-env".to_owned())
/// })
/// .unwrap();
/// assert_eq!(vars["A"], "1");
/// assert_eq!(vars["B"], "1\nfrom-env");
/// assert_eq!(vars["C"], "from-env");
/// ```
pub fn parse_dotenv(
    source: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<IndexMap<String, String>, DotenvError> {
    parse_dotenv_with_warnings(source, lookup).map(|parsed| parsed.vars)
}

/// Like [`parse_dotenv`], also returning the variables that were referenced
/// while unset (for Compose's `variable is not set` warnings).
///
/// # Errors
///
/// A [`DotenvError`] for the first malformed statement.
pub fn parse_dotenv_with_warnings(
    source: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<ParsedDotenv, DotenvError> {
    let (src, bom) = match source.strip_prefix('\u{FEFF}') {
        Some(rest) => (rest, '\u{FEFF}'.len_utf8()),
        None => (source, 0),
    };
    let mut parser = Parser {
        src,
        bom,
        lookup,
        parsed: ParsedDotenv::default(),
    };
    parser.parse()?;
    Ok(parser.parsed)
}

/// compose-go's `isSpace`: whitespace except line breaks.
fn is_inline_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{B}' | '\u{C}' | '\r' | ' ' | '\u{85}' | '\u{A0}'
    )
}

fn is_key_char(c: char) -> bool {
    matches!(c, '_' | '.' | '-' | '[' | ']') || is_letter_or_number(c)
}

/// Byte length of the prefix of `s` whose characters satisfy `pred`.
fn prefix_len(s: &str, pred: impl Fn(char) -> bool) -> usize {
    s.char_indices()
        .find(|&(_, c)| !pred(c))
        .map_or(s.len(), |(i, _)| i)
}

struct Parser<'a> {
    /// The source without its byte order mark.
    src: &'a str,
    /// Length of the stripped byte order mark.
    bom: usize,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    parsed: ParsedDotenv,
}

impl<'a> Parser<'a> {
    fn tail(&self, at: usize) -> &'a str {
        let src: &'a str = self.src;
        src.get(at..).unwrap_or_default()
    }

    fn error(&self, at: usize, kind: DotenvErrorKind, message: String) -> DotenvError {
        let before = self.src.get(..at).unwrap_or(self.src);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        DotenvError {
            line: before.matches('\n').count() + 1,
            column: before.get(line_start..).unwrap_or_default().chars().count() + 1,
            offset: at + self.bom,
            message,
            kind,
        }
    }

    fn parse(&mut self) -> Result<(), DotenvError> {
        let mut pos = 0;
        while let Some(start) = self.statement_start(pos) {
            pos = self.statement(start)?;
        }
        Ok(())
    }

    /// Skips whitespace and comment lines; `None` at end of input.
    fn statement_start(&self, mut pos: usize) -> Option<usize> {
        loop {
            let tail = self.tail(pos);
            let skip = tail
                .char_indices()
                .find(|&(_, c)| !c.is_whitespace())
                .map(|(i, _)| i)?;
            pos += skip;
            if !self.tail(pos).starts_with('#') {
                return Some(pos);
            }
            pos += self.tail(pos).find('\n')?;
        }
    }

    /// Parses the statement at `start`; returns where the next one may begin.
    fn statement(&mut self, start: usize) -> Result<usize, DotenvError> {
        let mut key_start = start;
        let tail = self.tail(start);
        if let Some(after) = tail.strip_prefix("export")
            && after.starts_with(['\t', '\n', '\u{C}', '\r', ' '])
        {
            key_start += "export".len() + prefix_len(after, is_inline_space);
        }
        let body = self.tail(key_start);

        let mut terminator = None;
        for (i, c) in body.char_indices() {
            if is_inline_space(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    terminator = Some((i, c == '\n'));
                    break;
                }
                c if is_key_char(c) => {}
                c => {
                    let first_line = body.split('\n').next().unwrap_or_default();
                    let message = format!(
                        "unexpected character {} in variable name {}",
                        go_quote(c.encode_utf8(&mut [0; 4])),
                        go_quote(first_line)
                    );
                    return Err(self.error(
                        key_start + i,
                        DotenvErrorKind::UnexpectedCharacter(c),
                        message,
                    ));
                }
            }
        }
        if body.is_empty() {
            return Err(self.error(
                start,
                DotenvErrorKind::ZeroLengthString,
                "zero length string".to_owned(),
            ));
        }

        let (key, value_from, inherited) = match terminator {
            Some((i, inherited)) => (
                body.get(..i).unwrap_or_default(),
                key_start + i + 1,
                inherited,
            ),
            // No terminator before the end of input: compose-go parses the
            // whole rest as the value of the empty key.
            None => ("", key_start, false),
        };
        let key = key.trim_end_matches(char::is_whitespace);
        if let Some(space) = key.find(' ') {
            return Err(self.error(
                key_start + space,
                DotenvErrorKind::KeyContainsSpace,
                "key cannot contain a space".to_owned(),
            ));
        }
        let value_start = value_from + prefix_len(self.tail(value_from), is_inline_space);

        if inherited {
            if let Some(value) = (self.lookup)(key) {
                self.parsed.vars.insert(key.to_owned(), value);
            }
            return Ok(value_start);
        }

        let (value, next) = match self.tail(value_start).chars().next() {
            Some(quote @ ('"' | '\'')) => self.quoted_value(value_start, quote)?,
            _ => self.unquoted_value(value_start)?,
        };
        self.parsed.vars.insert(key.to_owned(), value);
        Ok(next)
    }

    fn unquoted_value(&mut self, start: usize) -> Result<(String, usize), DotenvError> {
        let tail = self.tail(start);
        let (line, next) = match tail.find('\n') {
            Some(nl) => (tail.get(..nl).unwrap_or_default(), start + nl + 1),
            None => (tail, self.src.len()),
        };
        let line = line
            .find(" #")
            .map_or(line, |i| line.get(..i).unwrap_or_default());
        let value = line.trim_end_matches(char::is_whitespace);
        let expanded = self.expand(value, &|offset| start + offset)?;
        Ok((expanded, next))
    }

    fn quoted_value(&mut self, start: usize, quote: char) -> Result<(String, usize), DotenvError> {
        // The raw value, and for each of its bytes the source offset it came from.
        let mut raw = String::new();
        let mut origin = Vec::new();
        let mut push = |raw: &mut String, c: char, at: usize| {
            raw.push(c);
            origin.resize(raw.len(), at);
        };
        let body_start = start + quote.len_utf8();
        let mut escaped = false;
        let mut close = None;
        for (i, c) in self.tail(body_start).char_indices() {
            let at = body_start + i;
            if escaped {
                escaped = false;
                if c != quote {
                    push(&mut raw, '\\', at - 1);
                }
                push(&mut raw, c, at);
                continue;
            }
            match c {
                '\\' => escaped = true,
                c if c == quote => {
                    close = Some(at);
                    break;
                }
                c => push(&mut raw, c, at),
            }
        }
        let Some(close) = close else {
            let tail = self.tail(start);
            let line = tail.split('\n').next().unwrap_or_default();
            return Err(self.error(
                start,
                DotenvErrorKind::UnterminatedQuote,
                format!("unterminated quoted value {line}"),
            ));
        };
        let next = close + quote.len_utf8();
        if quote == '\'' {
            return Ok((raw, next));
        }
        let (unescaped, origin) = expand_escapes(&raw, &origin);
        let value = self.expand(&unescaped, &|offset| {
            origin.get(offset).copied().unwrap_or(start)
        })?;
        Ok((value, next))
    }

    /// Interpolates a value; `source_offset` maps an offset in `value` to
    /// the source.
    fn expand(
        &mut self,
        value: &str,
        source_offset: &dyn Fn(usize) -> usize,
    ) -> Result<String, DotenvError> {
        let vars = &self.parsed.vars;
        let lookup = self.lookup;
        let chained = |name: &str| lookup(name).or_else(|| vars.get(name).cloned());
        match interpolate::interpolate(value, &chained) {
            Ok(out) => {
                self.parsed.unset.extend(out.unset);
                Ok(out.value)
            }
            Err(e) => {
                let at = source_offset(e.offset());
                let message = e.to_string();
                let kind = DotenvErrorKind::Interpolation(e.with_offset(at + self.bom));
                Err(self.error(at, kind, message))
            }
        }
    }
}

/// compose-go's `expandEscapes` on a double-quoted value: decodes
/// `\a \b \f \n \r \t \v \" \\`, turns `\$` into `$$` (a literal `$` for the
/// interpolation that follows) and `\0NNN` into the octal byte value, keeping
/// every other sequence. Also maps the source offsets along.
fn expand_escapes(raw: &str, origin: &[usize]) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(raw.len());
    let mut out_origin = Vec::with_capacity(origin.len());
    let mut push = |out: &mut String, s: &str, at: usize| {
        out.push_str(s);
        out_origin.resize(out.len(), at);
    };
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let at = origin.get(i).copied().unwrap_or_default();
        let next = chars.peek().map(|&(_, n)| n);
        if c != '\\' {
            push(&mut out, c.encode_utf8(&mut [0; 4]), at);
            continue;
        }
        let decoded = match next {
            Some('a') => "\u{7}",
            Some('b') => "\u{8}",
            Some('f') => "\u{C}",
            Some('n') => "\n",
            Some('r') => "\r",
            Some('t') => "\t",
            Some('v') => "\u{B}",
            Some('"') => "\"",
            Some('\\') => "\\",
            Some('$') => "$$",
            // Matched by compose-go's pattern but rejected by Go's
            // `strconv.UnquoteChar`: kept as is.
            Some('c') => "\\c",
            Some('0') => {
                chars.next();
                let mut digits = String::new();
                while digits.len() < 3
                    && let Some(&(_, d)) = chars.peek()
                    && d.is_ascii_digit()
                {
                    digits.push(d);
                    chars.next();
                }
                let octal = (digits.len() == 3)
                    .then(|| u32::from_str_radix(&digits, 8).ok())
                    .flatten()
                    .filter(|&v| v <= 0xFF)
                    .and_then(char::from_u32);
                match octal {
                    Some(ch) => push(&mut out, ch.encode_utf8(&mut [0; 4]), at),
                    // compose-go returns its rewritten `\NNN` on failure.
                    None => push(&mut out, &format!("\\{digits}"), at),
                }
                continue;
            }
            _ => {
                push(&mut out, "\\", at);
                continue;
            }
        };
        chars.next();
        push(&mut out, decoded, at);
    }
    (out, out_origin)
}

#[cfg(test)]
mod tests {
    //! Expectations marked "verified" were produced by Docker Compose v2.40.3:
    //! the text was written to `.env` next to a `compose.yaml` and the
    //! variables read back through `${KEY-…}` interpolation and
    //! `docker compose config --environment`, with exactly the given process
    //! environment; error messages are what Compose printed after
    //! `failed to read <path>/.env: `.

    use super::*;
    use proptest::prelude::*;

    fn lookup_from(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn parse(src: &str, env: &[(&str, &str)]) -> Result<ParsedDotenv, DotenvError> {
        parse_dotenv_with_warnings(src, &lookup_from(env))
    }

    #[track_caller]
    fn check(src: &str, env: &[(&str, &str)], expected: &[(&str, &str)]) {
        let vars = parse(src, env).unwrap().vars;
        let got: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, expected, "parsing {src:?}");
    }

    #[track_caller]
    fn check_err(src: &str, message: &str, line: usize, column: usize) -> DotenvError {
        let err = parse(src, &[]).unwrap_err();
        assert_eq!(err.message, message, "message for {src:?}");
        assert_eq!(
            (err.line, err.column),
            (line, column),
            "position for {src:?}"
        );
        err
    }

    #[test]
    fn verified_basic_forms() {
        check("A=1\nB=\"two\"\n", &[], &[("A", "1"), ("B", "two")]);
        check(
            "export A=1\nexport  B = 2 \n",
            &[],
            &[("A", "1"), ("B", "2")],
        );
        check("A: x\nB :y\n", &[], &[("A", "x"), ("B", "y")]);
        check("A=  x  \nB=\n", &[], &[("A", "x"), ("B", "")]);
        check(
            "A==1\nB=1=2\nC:=1\nD= #x\n",
            &[],
            &[("A", "=1"), ("B", "1=2"), ("C", "=1"), ("D", "#x")],
        );
        check(
            "A-B=1\nA.B=2\nA[0]=3\n",
            &[],
            &[("A-B", "1"), ("A.B", "2"), ("A[0]", "3")],
        );
        check("É=1\n日本=2\n", &[], &[("É", "1"), ("日本", "2")]);
        check("1A=x\n", &[], &[("1A", "x")]);
        check("A\tB=1\n", &[], &[("A\tB", "1")]);
        check(
            "export=1\nexportA=2\n",
            &[],
            &[("export", "1"), ("exportA", "2")],
        );
        check("export\nA=1\n", &[], &[("A", "1")]);
        check("export \n", &[], &[]);
        check("=foo\n", &[], &[("", "foo")]);
        check("A=1\nFOO", &[], &[("A", "1"), ("", "FOO")]);
        check("A=`x`\n", &[], &[("A", "`x`")]);
    }

    #[test]
    fn verified_whitespace_comments_and_line_ends() {
        check("", &[], &[]);
        check("#c", &[], &[]);
        check("  # c\n A=1", &[], &[("A", "1")]);
        check("A=x\n  B=y  # c\n", &[], &[("A", "x"), ("B", "y")]);
        check(
            "A=x#y\nB=x #y\nC=x\t#y\nD='x' #c\nE=\"x\" #c\n",
            &[],
            &[
                ("A", "x#y"),
                ("B", "x"),
                ("C", "x\t#y"),
                ("D", "x"),
                ("E", "x"),
            ],
        );
        check(
            "A=1\r\nB=2\r\nC='3'\r\n",
            &[],
            &[("A", "1"), ("B", "2"), ("C", "3")],
        );
        check("\u{FEFF}A=1\n", &[], &[("A", "1")]);
        check("A=x\u{A0}\n\u{3000}B=1\n", &[], &[("A", "x"), ("B", "1")]);
        check("A=x\u{85}\n", &[], &[("A", "x")]);
        check("A= 'x' \n", &[], &[("A", "x")]);
    }

    #[test]
    fn verified_quotes_and_escapes() {
        check(
            "A='$B \\n x'\nB=\"a\\nb\\tc\\\\d\\$e\\\"f\"\n",
            &[],
            &[("A", "$B \\n x"), ("B", "a\nb\tc\\d$e\"f")],
        );
        check("A=\"a\\\\\"\n", &[], &[("A", "a\\")]);
        check("A='it\\'s'\n", &[], &[("A", "it's")]);
        check("A=\"x\\'y\"\n", &[], &[("A", "x\\'y")]);
        check("A=\"x\\\"y\"\n", &[], &[("A", "x\"y")]);
        check("A=\"a\\\\\\\"b\"\n", &[], &[("A", "a\\\"b")]);
        check("A='a\\\\b'\n", &[], &[("A", "a\\\\b")]);
        check(
            "A=\"\\0123|\\0|\\01|\\c|\\a|\\0377|\\08|\\u0041|\\x41\"\n",
            &[],
            &[("A", "S|\\|\\1|\\c|\u{7}|ÿ|\\8|\\u0041|\\x41")],
        );
        check(
            "A=\"l1\nl2\"\nB='s1\ns2'\n",
            &[],
            &[("A", "l1\nl2"), ("B", "s1\ns2")],
        );
        check("A=x\\\\y\\n\n", &[], &[("A", "x\\\\y\\n")]);
        check("A=\"1\" B=2\n", &[], &[("A", "1"), ("B", "2")]);
        check("A=\"x\"y=1\n", &[], &[("A", "x"), ("y", "1")]);
        // after a closing quote, a bare word is an inherited key
        check(
            "A=\"x\"junk\n",
            &[("junk", "J")],
            &[("A", "x"), ("junk", "J")],
        );
        check("A=\"x\" B\n", &[("B", "osb")], &[("A", "x"), ("B", "osb")]);
    }

    #[test]
    fn verified_interpolation_and_precedence() {
        // the lookup (process env) wins over earlier entries of the file
        check("A=1\nB=${A}\n", &[("A", "os")], &[("A", "1"), ("B", "os")]);
        check("A=1\nB=${A}\n", &[], &[("A", "1"), ("B", "1")]);
        let parsed = parse("B=${A}\nA=1\n", &[]).unwrap();
        assert_eq!(parsed.vars["B"], "");
        assert_eq!(parsed.unset, ["A"]);
        // bare keys copy the lookup, or are skipped
        check("A\nB=2\n", &[("A", "os")], &[("A", "os"), ("B", "2")]);
        check("A\nB=2\n", &[], &[("B", "2")]);
        check("A  \nB=1\n", &[("A", "os")], &[("A", "os"), ("B", "1")]);
        check(
            "A=x # c ${B\nB=$$B\nC='$$'\nD=\"$$\"\n",
            &[],
            &[("A", "x"), ("B", "$B"), ("C", "$$"), ("D", "$")],
        );
        check(
            "A=\"${B:-def}\"\nC=${B:-a b}\n",
            &[],
            &[("A", "def"), ("C", "a b")],
        );
        check("A=\"\\${A}\"\n", &[], &[("A", "${A}")]);
        check("A=1\nB=\"$A-${A}\"\n", &[], &[("A", "1"), ("B", "1-1")]);
        check("A='${'\n", &[], &[("A", "${")]);
        // unquoted backslashes are literal: `\$B` is `\` then `$B`
        check("C=\\$B\n", &[("B", "osb")], &[("C", "\\osb")]);
        let parsed = parse("A=\"${B}\"\nC='${D}'\n", &[]).unwrap();
        assert_eq!(parsed.unset, ["B"]);
    }

    #[test]
    fn verified_errors() {
        let e = check_err("A B=1\n", "key cannot contain a space", 1, 2);
        assert_eq!(e.to_string(), "line 1: key cannot contain a space");
        check_err("A B\n", "key cannot contain a space", 1, 2);
        let e = check_err(
            "A$=1\n",
            r#"unexpected character "$" in variable name "A$=1""#,
            1,
            2,
        );
        assert_eq!(e.kind, DotenvErrorKind::UnexpectedCharacter('$'));
        check_err(
            "X=1\nexport A$=1\n",
            r#"unexpected character "$" in variable name "A$=1""#,
            2,
            9,
        );
        check_err(
            "Aé$=1\n",
            r#"unexpected character "$" in variable name "Aé$=1""#,
            1,
            3,
        );
        check_err(
            "A\u{1}B=1\n",
            r#"unexpected character "\x01" in variable name "A\x01B=1""#,
            1,
            2,
        );
        check_err(
            "A\u{3000}B=1\n",
            r#"unexpected character "\u3000" in variable name "A\u3000B=1""#,
            1,
            2,
        );
        check_err(
            "A\"B=1\r\n",
            r#"unexpected character "\"" in variable name "A\"B=1\r""#,
            1,
            2,
        );
        check_err(
            "FO$O",
            r#"unexpected character "$" in variable name "FO$O""#,
            1,
            3,
        );
        // Compose says "line 3" here (it counts the lines it scanned).
        let e = check_err(
            "A=\"unterminated\nB=2\n",
            "unterminated quoted value \"unterminated",
            1,
            3,
        );
        assert_eq!(e.kind, DotenvErrorKind::UnterminatedQuote);
        check_err("A=\"x", "unterminated quoted value \"x", 1, 3);
        check_err("A='x\ny", "unterminated quoted value 'x", 1, 3);
        let e = check_err("A=1\nexport ", "zero length string", 2, 1);
        assert_eq!(e.kind, DotenvErrorKind::ZeroLengthString);
        check_err("A=1\nexport\t", "zero length string", 2, 1);
    }

    #[test]
    fn verified_interpolation_errors() {
        // Compose prints these without a line number.
        let e = check_err("\n\nA=${\n", "Invalid template: \"${\"", 3, 3);
        assert_eq!(e.offset, 4);
        assert!(matches!(
            e.kind,
            DotenvErrorKind::Interpolation(InterpolationError::InvalidTemplate { offset: 4, .. })
        ));
        check_err("A=\"x\n${\"\n", "Invalid template: \"x\\n${\"", 2, 1);
        check_err(
            "A=${B:?need B}\n",
            "required variable B is missing a value: need B",
            1,
            3,
        );
        // offsets survive escape decoding and the byte order mark
        let e = check_err(
            "\u{FEFF}A=\"\\t\\$\\\"${\"",
            "Invalid template: \"\\t$$\\\"${\"",
            1,
            10,
        );
        assert_eq!(e.offset, 3 + 9);
    }

    #[test]
    fn later_definitions_replace_earlier_ones() {
        check("A=1\nB=2\nA=3\n", &[], &[("A", "3"), ("B", "2")]);
    }

    fn dotenv_strategy() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            Just("A".to_owned()),
            Just("B".to_owned()),
            Just("export".to_owned()),
            Just(" ".to_owned()),
            Just("\t".to_owned()),
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            Just("=".to_owned()),
            Just(":".to_owned()),
            Just("#".to_owned()),
            Just("\"".to_owned()),
            Just("'".to_owned()),
            Just("\\".to_owned()),
            Just("\\0".to_owned()),
            Just("$".to_owned()),
            Just("${".to_owned()),
            Just("}".to_owned()),
            Just(":-".to_owned()),
            Just("?".to_owned()),
            Just("é".to_owned()),
            Just("\u{FEFF}".to_owned()),
            Just("\u{3000}".to_owned()),
            "\\PC{0,2}",
        ];
        prop::collection::vec(atom, 0..32).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics_and_positions_are_consistent(
            src in prop_oneof![dotenv_strategy(), "\\PC*", any::<String>()]
        ) {
            let env = lookup_from(&[("A", "os")]);
            if let Err(e) = parse_dotenv(&src, &env) {
                prop_assert!(src.is_char_boundary(e.offset));
                let stripped = src.strip_prefix('\u{FEFF}').unwrap_or(&src);
                let bom = src.len() - stripped.len();
                let before = &stripped[..e.offset - bom];
                prop_assert_eq!(e.line, before.matches('\n').count() + 1);
                let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
                prop_assert_eq!(e.column, col);
                if let DotenvErrorKind::Interpolation(ie) = &e.kind {
                    prop_assert_eq!(ie.offset(), e.offset);
                }
            }
        }
    }
}
