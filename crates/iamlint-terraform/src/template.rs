//! Strings built from templates, and JSON documents written inside them.
//!
//! Policies in Terraform are often JSON text: a heredoc, a `file()`, a `templatefile()`, with
//! `${...}` interpolations inside. Such text is read as JSON with every node's span pointing
//! into the `.tf` (or policy) file, and each interpolation kept as the typed value it is, so a
//! policy written as a heredoc is checked like one written with `jsonencode`.

use crate::eval::{Evaluator, from_parts, string_parts};
use iamlint_core::{FileId, Part, SourceFile, Span, Unknown, Value, ValueKind};

/// One piece of a template.
#[derive(Clone, Debug)]
pub enum Seg {
    /// Literal text and where it was written.
    Lit { text: String, span: Span },
    /// An interpolated value and the span of the interpolation.
    Value(Value, Span),
}

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';
/// Templates with more undecidable conditionals than this are unknown.
const MAX_CHOICES: usize = 4;

/// The value of a template: a JSON document when the text is one, else a string.
pub fn build(ev: &Evaluator<'_>, segs: Vec<Seg>, file: FileId, span: Span) -> Value {
    // An interpolation that is an undecidable conditional: both templates.
    if let Some(i) = segs
        .iter()
        .position(|s| matches!(s, Seg::Value(v, _) if matches!(v.kind, ValueKind::Choice(_))))
    {
        let choices = segs
            .iter()
            .filter(|s| matches!(s, Seg::Value(v, _) if matches!(v.kind, ValueKind::Choice(_))))
            .count();
        if choices > MAX_CHOICES {
            return Value::new(
                ValueKind::Unknown(Unknown::External("a template with many conditions".into())),
                span,
            );
        }
        let Seg::Value(v, s) = &segs[i] else {
            return Value::null(span);
        };
        let ValueKind::Choice(choice) = &v.kind else {
            return Value::null(span);
        };
        let branch = |b: &Value| {
            let mut copy = segs.clone();
            copy[i] = Seg::Value(b.clone(), *s);
            build(ev, copy, file, span)
        };
        return Value::new(
            ValueKind::Choice(Box::new(iamlint_core::Choice {
                condition: choice.condition.clone(),
                if_true: branch(&choice.if_true),
                if_false: branch(&choice.if_false),
            })),
            span,
        );
    }
    if let Some(doc) = json_document(Some(ev), &segs, file) {
        return doc;
    }
    let mut parts = Vec::new();
    for seg in segs {
        match seg {
            Seg::Lit { text, .. } => parts.push(Part::Lit(text)),
            Seg::Value(v, _) => match string_parts(&v) {
                Some(p) => parts.extend(p),
                None => parts.push(Part::Unknown(Unknown::External(
                    "a collection interpolated into a string".into(),
                ))),
            },
        }
    }
    from_parts(parts, span)
}

/// A map from offsets in the text handed to the JSON reader back to the source.
struct Piece {
    synthetic: usize,
    source: Span,
}

/// Reads literal pieces of text, each with where it was written, as one JSON document (a
/// JSON string whose escapes are pieces of their own, so every node points at its place).
pub fn json_from_pieces(segs: &[Seg], file: FileId) -> Option<Value> {
    json_document(None, segs, file)
}

/// Reads the template as a JSON document, when its text is one.
fn json_document(ev: Option<&Evaluator<'_>>, segs: &[Seg], file: FileId) -> Option<Value> {
    let first = segs.iter().find_map(|s| match s {
        Seg::Lit { text, .. } => Some(text.trim_start()).filter(|t| !t.is_empty()),
        Seg::Value(..) => Some(""),
    })?;
    if !(first.starts_with('{') || first.starts_with('[')) {
        return None;
    }
    let mut text = String::new();
    let mut pieces = Vec::new();
    let mut values = Vec::new();
    let mut in_string = false;
    for seg in segs {
        let start = text.len();
        match seg {
            Seg::Lit { text: t, span } => {
                text.push_str(t);
                in_string = string_state(t, in_string);
                line_pieces(ev, start, t, *span, &mut pieces);
            }
            Seg::Value(v, span) => {
                let scalar = match &v.kind {
                    ValueKind::String(s) if in_string => Some(escape_json(s)),
                    ValueKind::Number(s) => Some(s.clone()),
                    ValueKind::Bool(b) => Some(b.to_string()),
                    _ => None,
                };
                match scalar {
                    Some(s) => text.push_str(&s),
                    None => {
                        let placeholder = format!("{OPEN}{}{CLOSE}", values.len());
                        values.push(v.clone());
                        if in_string {
                            text.push_str(&placeholder);
                        } else {
                            text.push('"');
                            text.push_str(&placeholder);
                            text.push('"');
                        }
                    }
                }
                pieces.push(Piece {
                    synthetic: start,
                    source: *span,
                });
            }
        }
    }
    let synthetic = SourceFile::new(file, "", text.as_str());
    let mut doc = iamlint_cfn::syntax::parse_json(&synthetic).ok()?;
    if !matches!(doc.kind, ValueKind::Map(_) | ValueKind::List(_)) {
        return None;
    }
    remap(&mut doc, &pieces, &values, 0);
    Some(doc)
}

/// The pieces of one literal. Where the literal is shorter than its source (a `<<-` heredoc
/// whose indentation was removed, escapes in a quoted string), it is mapped line by line, each
/// line to the end of its source line, so spans keep their lines.
fn line_pieces(
    ev: Option<&Evaluator<'_>>,
    start: usize,
    t: &str,
    span: Span,
    pieces: &mut Vec<Piece>,
) {
    let source = ev
        .filter(|_| t.len() != span.len())
        .and_then(|ev| ev.loader.source(span.file));
    let Some(source) = source else {
        pieces.push(Piece {
            synthetic: start,
            source: span,
        });
        return;
    };
    let src = source.snippet(span);
    if src.matches('\n').count() != t.matches('\n').count() {
        pieces.push(Piece {
            synthetic: start,
            source: span,
        });
        return;
    }
    let mut syn = start;
    let mut src_offset = span.start as usize;
    for (line, src_line) in t.split_inclusive('\n').zip(src.split_inclusive('\n')) {
        let indent = src_line.len().saturating_sub(line.len());
        let begin = src_offset + indent;
        pieces.push(Piece {
            synthetic: syn,
            source: Span::new(span.file, begin, src_offset + src_line.len()),
        });
        syn += line.len();
        src_offset += src_line.len();
    }
}

/// Whether the JSON text is inside a string after `t`, given the state before it.
fn string_state(t: &str, mut in_string: bool) -> bool {
    let mut escaped = false;
    for c in t.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
    }
    in_string
}

fn escape_json(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or("")
        .to_string()
}

fn map_offset(pieces: &[Piece], offset: u32) -> Option<Span> {
    let offset = offset as usize;
    let i = match pieces.binary_search_by(|p| p.synthetic.cmp(&offset)) {
        Ok(i) => i,
        Err(0) => return None,
        Err(i) => i - 1,
    };
    let p = &pieces[i];
    let delta = (offset - p.synthetic).min(p.source.len());
    Some(Span {
        file: p.source.file,
        start: p.source.start + u32::try_from(delta).unwrap_or(0),
        end: p.source.start + u32::try_from(delta).unwrap_or(0),
    })
}

fn remap_span(span: Span, pieces: &[Piece]) -> Span {
    let (Some(s), Some(e)) = (
        map_offset(pieces, span.start),
        map_offset(pieces, span.end.saturating_sub(1).max(span.start)),
    ) else {
        return span;
    };
    Span {
        file: s.file,
        start: s.start,
        end: (e.end + 1).max(s.start),
    }
}

fn remap(v: &mut Value, pieces: &[Piece], values: &[Value], depth: usize) {
    v.span = remap_span(v.span, pieces);
    if depth > 256 {
        return;
    }
    match &mut v.kind {
        ValueKind::Map(m) => {
            for (k, val) in m.entries.iter_mut() {
                k.span = remap_span(k.span, pieces);
                remap(val, pieces, values, depth + 1);
            }
        }
        ValueKind::List(items) => {
            for item in items {
                remap(item, pieces, values, depth + 1);
            }
        }
        ValueKind::String(s) if s.contains(OPEN) => {
            let parts = substitute(s, values);
            let span = v.span;
            *v = match parts {
                Substituted::Whole(value) => {
                    let mut value = value.clone();
                    // A collection keeps its own spans; a scalar points at the interpolation.
                    if !matches!(value.kind, ValueKind::Map(_) | ValueKind::List(_)) {
                        value.span = span;
                    }
                    value
                }
                Substituted::Parts(parts) => from_parts(parts, span),
            };
        }
        _ => {}
    }
}

enum Substituted<'a> {
    Whole(&'a Value),
    Parts(Vec<Part>),
}

fn substitute<'a>(s: &str, values: &'a [Value]) -> Substituted<'a> {
    let mut parts = Vec::new();
    let mut rest = s;
    let mut only: Option<&Value> = None;
    let mut count = 0;
    let mut has_text = false;
    while let Some(open) = rest.find(OPEN) {
        let (before, after) = rest.split_at(open);
        if !before.is_empty() {
            parts.push(Part::Lit(before.to_string()));
            has_text = true;
        }
        let after = &after[OPEN.len_utf8()..];
        let Some(close) = after.find(CLOSE) else {
            parts.push(Part::Lit(after.to_string()));
            rest = "";
            break;
        };
        let index: usize = after[..close].parse().unwrap_or(usize::MAX);
        match values.get(index) {
            Some(v) => {
                only = Some(v);
                count += 1;
                match string_parts(v) {
                    Some(p) => parts.extend(p),
                    None => parts.push(Part::Unknown(Unknown::External(
                        "a collection interpolated into a string".into(),
                    ))),
                }
            }
            None => parts.push(Part::Unknown(Unknown::External("an interpolation".into()))),
        }
        rest = &after[close + CLOSE.len_utf8()..];
    }
    if !rest.is_empty() {
        parts.push(Part::Lit(rest.to_string()));
        has_text = true;
    }
    match only {
        Some(v) if count == 1 && !has_text => Substituted::Whole(v),
        _ => Substituted::Parts(parts),
    }
}

/// A JSON string value (`jsondecode`, a policy attribute given as a string) as a document,
/// with spans pointing at the string.
pub fn parse_json_string(value: &Value) -> Option<Value> {
    let ValueKind::String(s) = &value.kind else {
        return None;
    };
    let segs = vec![Seg::Lit {
        text: s.clone(),
        span: value.span,
    }];
    json_document(None, &segs, value.span.file)
}
