//! Reading YAML and JSON into spanned values.
//!
//! Both readers produce the same [`Value`] tree with byte spans into the file, so the template
//! layer never needs to know which format a template was written in. YAML short-form
//! intrinsic functions (`!Ref X`) are rewritten into their long form (`{"Ref": "X"}`) here.
//!
//! Both readers build the tree with an explicit stack and cap nesting at [`MAX_DEPTH`], so
//! hostile input cannot overflow the stack (neither here nor in later stages that recurse over
//! the tree), and YAML alias expansion is capped at [`MAX_ALIAS_NODES`].

mod json;
mod yaml;

pub use json::parse_json;
pub use yaml::parse_yaml;

use iamlint_core::{FileId, Key, Map, Span, Value};
use std::collections::HashSet;

/// Why a file could not be read as YAML or JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// What is wrong, in the parser's words (no position: the span carries it).
    pub message: String,
    /// Where the problem is (often a zero-length span at the offending character).
    pub span: Span,
}

impl ParseError {
    fn new(message: impl Into<String>, span: Span) -> Self {
        ParseError {
            message: message.into(),
            span,
        }
    }

    fn at(message: impl Into<String>, file: FileId, offset: usize) -> Self {
        ParseError::new(message, Span::point(file, offset))
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// The deepest nesting of maps and lists accepted (YAML tag wrappers count as a map).
/// Real templates stay far below; the cap keeps every recursive pass over the tree safe.
pub const MAX_DEPTH: usize = 200;

/// The most nodes YAML alias expansion may produce in one document ("billion laughs" guard).
pub const MAX_ALIAS_NODES: usize = 100_000;

fn depth_error(file: FileId, offset: usize) -> ParseError {
    ParseError::at(
        format!("nesting deeper than {MAX_DEPTH} levels"),
        file,
        offset,
    )
}

/// Collects the entries of one map.
///
/// A key written twice is not an error: CloudFormation accepts duplicate keys in YAML and
/// JSON and keeps the last value (as PyYAML and `JSON.parse` do), so iamlint reads such a
/// template the way it is deployed.
#[derive(Debug, Default)]
struct MapBuilder {
    entries: Vec<(Key, Value)>,
}

impl MapBuilder {
    fn push(&mut self, key: Key, value: Value) {
        self.entries.push((key, value));
    }

    fn finish(self) -> Map {
        Map {
            entries: last_wins(self.entries),
        }
    }
}

/// Drops every entry whose key is written again later in the same map.
fn last_wins(entries: Vec<(Key, Value)>) -> Vec<(Key, Value)> {
    if entries.len() < 2 {
        return entries;
    }
    let mut seen: HashSet<String> = HashSet::with_capacity(entries.len());
    let mut kept: Vec<(Key, Value)> = entries
        .into_iter()
        .rev()
        .filter(|(k, _)| seen.insert(k.name.clone()))
        .collect();
    kept.reverse();
    kept
}

/// How many nodes a value holds, and how deep its maps and lists nest (0 for a scalar).
fn size_and_height(value: &Value) -> (usize, usize) {
    use iamlint_core::ValueKind;
    let mut nodes = 0usize;
    let mut height = 0usize;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        nodes += 1;
        match &v.kind {
            ValueKind::List(items) => {
                height = height.max(depth + 1);
                stack.extend(items.iter().map(|i| (i, depth + 1)));
            }
            ValueKind::Map(m) => {
                height = height.max(depth + 1);
                stack.extend(m.entries.iter().map(|(_, v)| (v, depth + 1)));
            }
            _ => {}
        }
    }
    (nodes, height)
}
