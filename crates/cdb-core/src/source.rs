//! Source files and locations: every value a check may point at carries a [`Location`] into a
//! file held by a [`SourceMap`], so diagnostics can print `file:line:col` and a snippet.

use std::fmt;
use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A position in a source file: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Location {
    /// The file.
    pub file: FileId,
    /// Line, starting at 1.
    pub line: u32,
    /// Column, starting at 1.
    pub col: u32,
}

impl Location {
    /// A location in `file` at `line`:`col` (both 1-based).
    pub fn new(file: FileId, line: u32, col: u32) -> Self {
        Location { file, line, col }
    }
}

/// One loaded file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as it should be shown to the user.
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
}

/// The files a command has read, so that locations can be turned into `path:line:col` and
/// snippets long after parsing.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id. The same path added twice gets two ids.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile {
            path: path.into(),
            text: text.into(),
        });
        id
    }

    /// The file behind `id`.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The path of `id`, or `<unknown>`.
    pub fn path(&self, id: FileId) -> &Path {
        self.get(id)
            .map_or(Path::new("<unknown>"), |f| f.path.as_path())
    }

    /// `path:line:col` for a location.
    pub fn display(&self, loc: Location) -> DisplayLocation<'_> {
        DisplayLocation { map: self, loc }
    }

    /// All files, in the order they were added.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// Byte offset of a location in its file's text (clamped to the text).
    pub fn byte_offset(&self, loc: Location) -> usize {
        let Some(file) = self.get(loc.file) else {
            return 0;
        };
        let mut offset = 0;
        for (index, line) in file.text.split_inclusive('\n').enumerate() {
            if index + 1 == loc.line as usize {
                let col = (loc.col.max(1) - 1) as usize;
                return offset
                    + line
                        .char_indices()
                        .nth(col)
                        .map_or(line.trim_end_matches('\n').len(), |(i, _)| i);
            }
            offset += line.len();
        }
        file.text.len()
    }
}

/// `path:line:col`, see [`SourceMap::display`].
#[derive(Debug)]
pub struct DisplayLocation<'a> {
    map: &'a SourceMap,
    loc: Location,
}

impl fmt::Display for DisplayLocation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.map.path(self.loc.file).display(),
            self.loc.line,
            self.loc.col
        )
    }
}
