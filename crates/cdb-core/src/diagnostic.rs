//! Diagnostics a user can act on: what is wrong, where (`file:line:col` with a snippet), and
//! what to do. Rendered with codespan-reporting, plain text (no colour) unless asked.

use std::fmt;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};

use crate::source::{Location, SourceMap};

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; never fails anything.
    Note,
    /// Something probably wrong; the command goes on.
    Warning,
    /// The command cannot go on.
    Error,
}

/// A message about the user's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// How serious it is.
    pub severity: Severity,
    /// A stable code naming the kind of problem (e.g. `compose::unknown-key`).
    pub code: &'static str,
    /// One line saying what is wrong.
    pub message: String,
    /// Where, if the problem is in a file.
    pub location: Option<Location>,
    /// A short label shown under the snippet.
    pub label: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            location: None,
            label: None,
            help: None,
        }
    }

    /// A warning diagnostic.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Points the diagnostic at a location.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Points the diagnostic at a location, if there is one.
    pub fn at_opt(mut self, location: Option<Location>) -> Self {
        self.location = location.or(self.location);
        self
    }

    /// Adds the label shown under the snippet.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds what to do about it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic as plain text: `error[code]: message`, then `--> file:line:col`,
    /// the snippet and the help.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut files = SimpleFiles::new();
        let mut ids = Vec::new();
        for (_, file) in sources.files() {
            ids.push(files.add(file.path.display().to_string(), file.text.clone()));
        }
        let mut diagnostic = match self.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
            Severity::Note => CsDiagnostic::note(),
        }
        .with_code(self.code)
        .with_message(&self.message);
        if let Some(loc) = self.location
            && let Some(&id) = ids.get(loc.file.0 as usize)
        {
            let start = sources.byte_offset(loc);
            let text = sources.get(loc.file).map_or("", |f| f.text.as_str());
            let end = token_end(text, start);
            let mut label = Label::primary(id, start..end);
            if let Some(l) = &self.label {
                label = label.with_message(l);
            }
            diagnostic = diagnostic.with_labels(vec![label]);
        }
        if let Some(help) = &self.help {
            diagnostic = diagnostic.with_notes(vec![format!("help: {help}")]);
        }
        term::emit_into_string(&Config::default(), &files, &diagnostic)
            .unwrap_or_else(|_| self.to_string())
    }
}

/// The end of the token that starts at `start`, so the label underlines the value or key the
/// diagnostic is about: a quoted string to its closing quote, else up to `: `, `,`, `]`, `}`, a
/// comment or the end of the line.
fn token_end(text: &str, start: usize) -> usize {
    let rest = text.get(start..).unwrap_or("");
    let line = rest.split('\n').next().unwrap_or("");
    let mut chars = line.char_indices();
    let len = match chars.next() {
        Some((_, quote @ ('"' | '\''))) => line[1..].find(quote).map_or(line.len(), |i| i + 2),
        _ => {
            let bytes = line.as_bytes();
            let mut end = line.len();
            for (i, c) in line.char_indices() {
                let next_is_space = bytes.get(i + 1).is_none_or(|b| *b == b' ');
                if matches!(c, ',' | ']' | '}' | '#') || (c == ':' && next_is_space) {
                    end = i;
                    break;
                }
            }
            line[..end].trim_end().len()
        }
    };
    start + len.max(1).min(rest.len().max(1))
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}
