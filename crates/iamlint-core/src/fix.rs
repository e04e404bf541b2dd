//! Structured fixes: the text to insert or replace, at byte ranges of the user's files.
//!
//! A fix is made by the rule that found the problem, from the source text at the spans it
//! knows; the binary applies it (`--fix`, `--diff`), prints it (JSON, SARIF) or offers it
//! (the language server's code actions). Edits never re-serialise a file: every byte outside
//! an edit's range is kept as written, comments and formatting included.

use crate::source::Span;

/// Whether applying a fix can change more than the finding it fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Safety {
    /// Only makes AWS allow the request the finding is about: `--fix` applies it.
    Safe,
    /// Grants more, or needs a decision: shown, offered in the editor, never applied by `--fix`.
    Unsafe,
}

impl Safety {
    pub fn as_str(self) -> &'static str {
        match self {
            Safety::Safe => "safe",
            Safety::Unsafe => "unsafe",
        }
    }
}

/// Replace the bytes of `span` (empty for an insertion) with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

impl Edit {
    pub fn insert(span_at: Span, text: impl Into<String>) -> Self {
        Edit {
            span: Span {
                file: span_at.file,
                start: span_at.start,
                end: span_at.start,
            },
            replacement: text.into(),
        }
    }

    pub fn replace(span: Span, text: impl Into<String>) -> Self {
        Edit {
            span,
            replacement: text.into(),
        }
    }
}

/// One fix: a message saying what it does and the edits that do it (non-overlapping).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub message: String,
    pub safety: Safety,
    pub edits: Vec<Edit>,
}

impl Fix {
    pub fn new(message: impl Into<String>, safety: Safety, edits: Vec<Edit>) -> Self {
        let mut edits = edits;
        edits.sort_by_key(|e| (e.span.file, e.span.start, e.span.end));
        Fix {
            message: message.into(),
            safety,
            edits,
        }
    }

    pub fn safe(message: impl Into<String>, edits: Vec<Edit>) -> Self {
        Fix::new(message, Safety::Safe, edits)
    }

    pub fn unsafe_(message: impl Into<String>, edits: Vec<Edit>) -> Self {
        Fix::new(message, Safety::Unsafe, edits)
    }

    pub fn is_safe(&self) -> bool {
        self.safety == Safety::Safe
    }

    /// Whether two fixes touch overlapping bytes of a file (two insertions at one offset
    /// overlap: their order would be a guess).
    pub fn overlaps(&self, other: &Fix) -> bool {
        self.edits.iter().any(|a| {
            other.edits.iter().any(|b| {
                a.span.file == b.span.file
                    && a.span.start <= b.span.end
                    && b.span.start <= a.span.end
            })
        })
    }
}

/// `text` with the edits applied (edits in this text's file, sorted, non-overlapping), from the
/// end backwards so earlier offsets stay valid. `None` when an edit is outside the text, not
/// on a character boundary, or overlaps another.
pub fn apply_edits(text: &str, edits: &[&Edit]) -> Option<String> {
    let mut sorted: Vec<&Edit> = edits.to_vec();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    for pair in sorted.windows(2) {
        if pair[0].span.end > pair[1].span.start {
            return None;
        }
    }
    let mut out = text.to_string();
    for edit in sorted.iter().rev() {
        let (start, end) = (edit.span.start as usize, edit.span.end as usize);
        if end > out.len() || !out.is_char_boundary(start) || !out.is_char_boundary(end) {
            return None;
        }
        out.replace_range(start..end, &edit.replacement);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn edits_apply_from_the_end_and_keep_the_rest() {
        let f = FileId(0);
        let a = Edit::insert(Span::point(f, 3), "X");
        let b = Edit::replace(Span::new(f, 5, 7), "YY");
        assert_eq!(
            apply_edits("abcdefgh", &[&b, &a]).as_deref(),
            Some("abcXdeYYh")
        );
        let c = Edit::replace(Span::new(f, 2, 6), "");
        assert_eq!(apply_edits("abcdefgh", &[&b, &c]), None);
        assert_eq!(apply_edits("ab", &[&b]), None);
    }

    #[test]
    fn fixes_overlap_when_they_touch_the_same_bytes() {
        let f = FileId(0);
        let one = Fix::safe("a", vec![Edit::insert(Span::point(f, 3), "x")]);
        let two = Fix::safe("b", vec![Edit::insert(Span::point(f, 3), "y")]);
        let three = Fix::safe("c", vec![Edit::insert(Span::point(f, 9), "y")]);
        assert!(one.overlaps(&two));
        assert!(!one.overlaps(&three));
    }
}
