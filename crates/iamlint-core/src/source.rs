//! Source files and byte spans.
//!
//! Every value the front ends produce carries a [`Span`] into the [`SourceFile`] it came from,
//! so a diagnostic can point at the exact line to change. Spans are small (`Copy`, 12 bytes);
//! line and column are computed only when a diagnostic is rendered.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        let start = u32::try_from(start).unwrap_or(u32::MAX);
        let end = u32::try_from(end).unwrap_or(u32::MAX).max(start);
        Span { file, start, end }
    }

    /// A zero-length span at `offset`.
    pub fn point(file: FileId, offset: usize) -> Self {
        Span::new(file, offset, offset)
    }

    /// A span that stands for "somewhere in this file" when nothing more precise is known.
    pub fn file_start(file: FileId) -> Self {
        Span::new(file, 0, 0)
    }

    /// The smallest span covering both (they must be in the same file; otherwise `self`).
    pub fn join(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// A one-based line and column (the column counts characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

/// One file read from disk (or given in memory, for tests and `simulate`).
#[derive(Debug)]
pub struct SourceFile {
    pub id: FileId,
    /// The path as the user gave it (or as the walker found it below a path the user gave).
    pub path: PathBuf,
    /// The text. Empty when the file could not be read or was not valid UTF-8.
    pub text: Arc<str>,
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(id: FileId, path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0u32];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        SourceFile {
            id,
            path: path.into(),
            text,
            line_starts,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The one-based line and column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let line_start = self.line_starts[line_index] as usize;
        let end = (offset as usize).min(self.text.len());
        let column = self
            .text
            .get(line_start..end)
            .map_or(end - line_start, |s| s.chars().count());
        LineCol {
            line: u32::try_from(line_index + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }

    /// The byte offset of a one-based line and column (column counted in characters).
    pub fn offset_of(&self, line: u32, column: u32) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1) as usize) else {
            return self.text.len();
        };
        let start = start as usize;
        let rest = self.text.get(start..).unwrap_or("");
        rest.char_indices()
            .nth(column.saturating_sub(1) as usize)
            .map_or(self.text.len(), |(i, _)| start + i)
    }

    /// The text of a span (empty if the span is outside the file).
    pub fn snippet(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

/// All files of one run, indexed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    /// Sorted by id. Usually every id from 0 on (then `files[i].id == i`); a map may also hold
    /// only some files of a run, such as those one unit's findings point into.
    files: Vec<Arc<SourceFile>>,
}

impl SourceMap {
    pub fn new() -> Self {
        SourceMap::default()
    }

    /// Adds a file and returns it with its new id (one more than the largest so far).
    pub fn add(&mut self, path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Arc<SourceFile> {
        let next = self.files.last().map_or(0, |f| f.id.0.saturating_add(1));
        let file = Arc::new(SourceFile::new(FileId(next), path, text));
        self.files.push(Arc::clone(&file));
        file
    }

    /// Adds a file that was built elsewhere, with its own id; a file with the same id already
    /// here is kept.
    pub fn insert(&mut self, file: Arc<SourceFile>) {
        if self.files.last().is_none_or(|last| last.id < file.id) {
            self.files.push(file);
            return;
        }
        if let Err(at) = self.files.binary_search_by_key(&file.id, |f| f.id) {
            self.files.insert(at, file);
        }
    }

    pub fn get(&self, id: FileId) -> Option<&Arc<SourceFile>> {
        match self.files.get(id.0 as usize) {
            Some(f) if f.id == id => Some(f),
            _ => self
                .files
                .binary_search_by_key(&id, |f| f.id)
                .ok()
                .map(|i| &self.files[i]),
        }
    }

    /// The files, in id order.
    pub fn files(&self) -> impl Iterator<Item = &Arc<SourceFile>> {
        self.files.iter()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new(FileId(0), "a.yaml", "ab\nçd: x\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        // 'ç' is two bytes; 'd' is the second character of line 2.
        assert_eq!(f.line_col(5), LineCol { line: 2, column: 2 });
        assert_eq!(f.offset_of(2, 2), 5);
        assert_eq!(f.line_col(999), LineCol { line: 3, column: 1 });
    }

    #[test]
    fn a_map_may_hold_some_files_of_a_run() {
        let file = |id: u32| Arc::new(SourceFile::new(FileId(id), format!("{id}.yaml"), ""));
        let mut map = SourceMap::new();
        for id in [7, 3, 12, 3] {
            map.insert(file(id));
        }
        assert_eq!(map.len(), 3);
        assert_eq!(map.files().map(|f| f.id.0).collect::<Vec<_>>(), [3, 7, 12]);
        assert_eq!(map.get(FileId(12)).map(|f| f.id), Some(FileId(12)));
        assert!(map.get(FileId(0)).is_none() && map.get(FileId(8)).is_none());
        assert_eq!(map.add("13.yaml", "").id, FileId(13));
    }
}
