//! A YAML reader on top of saphyr-parser's event stream.
//!
//! The tree is built with an explicit stack of open maps and lists (no recursion), short-form
//! CloudFormation tags become their long form, anchors are expanded into copies under a node
//! budget, and saphyr's character positions are turned into byte offsets.

use super::{MAX_ALIAS_NODES, MAX_DEPTH, MapBuilder, ParseError, depth_error, size_and_height};
use iamlint_core::{FileId, Key, Map, SourceFile, Span, Value, ValueKind};
use saphyr_parser::{Event, Parser, ScalarStyle, Tag};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};

/// Reads the YAML document of `file` into a [`Value`] with byte spans.
///
/// An empty file (or one with only comments) is a `Null` value. A second document in the same
/// file is an error: CloudFormation reads exactly one.
///
/// saphyr follows YAML 1.2 in requiring the lines of a flow collection or of a multi-line
/// quoted scalar to be indented further than the block they sit in; libyaml (PyYAML, cfn-lint)
/// and CloudFormation do not, and real templates rely on it (a JSON policy in `!Sub '{ … }'`
/// closed at the key's column). In those two places leading whitespace carries no meaning
/// (line folding discards it), so when saphyr rejects a file for it, the offending construct's
/// lines are indented in a copy, the copy is read, and every position is mapped back to the
/// file as written.
pub fn parse_yaml(file: &SourceFile) -> Result<Value, ParseError> {
    let text: &str = &file.text;
    // saphyr would skip the BOM too, but stripping it here keeps the offset arithmetic simple.
    let (base, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (text.len() - rest.len(), rest),
        None => (0, text),
    };
    let mut padding = Padding::default();
    let mut padded = std::borrow::Cow::Borrowed(body);
    let mut repairs = 0;
    loop {
        let builder = Builder {
            file,
            id: file.id,
            body: &padded,
            base,
            padding: &padding,
            positions: Positions::new(&padded, base),
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
            root: None,
        };
        match builder.run() {
            Ok(value) => return Ok(value),
            Err(Failure::Parse(error)) => return Err(error),
            Err(Failure::Indentation { error, repair }) => {
                let Some(repair) = repair else {
                    return Err(error);
                };
                if repairs >= MAX_REPAIRS
                    || (repairs + 1).saturating_mul(body.len()) > MAX_REPAIR_BYTES
                    || !padding.repair(&padded, repair)
                {
                    return Err(error);
                }
                repairs += 1;
                padded = std::borrow::Cow::Owned(padding.apply(body));
            }
        }
    }
}

/// How many under-indented constructs one file may have repaired (each costs a re-read).
const MAX_REPAIRS: usize = 64;

/// The most text re-read for indentation repairs of one file, all repairs together: a
/// template of a few hundred KiB gets every repair it needs, a huge file one or two, so a
/// hostile file cannot multiply the time spent reading it.
const MAX_REPAIR_BYTES: usize = 16 << 20;

/// Why reading stopped.
enum Failure {
    Parse(ParseError),
    /// saphyr's indentation check failed inside a flow collection or quoted scalar, whose
    /// opening character `repair` locates (an offset in the text that was read).
    Indentation {
        error: ParseError,
        repair: Option<usize>,
    },
}

impl From<ParseError> for Failure {
    fn from(error: ParseError) -> Self {
        Failure::Parse(error)
    }
}

/// Spaces inserted at line starts: original body offset → how many.
#[derive(Default)]
struct Padding {
    inserts: std::collections::BTreeMap<usize, usize>,
}

impl Padding {
    /// The offset in the original body of `padded`, an offset in the padded text (inserted
    /// spaces map to the line start they were inserted at).
    fn to_original(&self, padded: usize) -> usize {
        let mut shift = 0;
        for (&at, &count) in &self.inserts {
            if padded < at + shift {
                break;
            }
            if padded < at + shift + count {
                return at;
            }
            shift += count;
        }
        padded - shift
    }

    /// The offset in the padded text of `original`.
    fn to_padded(&self, original: usize) -> usize {
        original
            + self
                .inserts
                .range(..=original)
                .map(|(_, count)| count)
                .sum::<usize>()
    }

    /// The original body with the spaces inserted.
    fn apply(&self, body: &str) -> String {
        let extra: usize = self.inserts.values().sum();
        let mut out = String::with_capacity(body.len() + extra);
        let mut from = 0;
        for (&at, &count) in &self.inserts {
            out.push_str(body.get(from..at).unwrap_or_default());
            out.extend(std::iter::repeat_n(' ', count));
            from = at;
        }
        out.push_str(body.get(from..).unwrap_or_default());
        out
    }

    /// Indents the continuation lines of the flow collection or quoted scalar opening at
    /// `opener` (an offset in `padded`) to the opener's column. False when nothing changed.
    fn repair(&mut self, padded: &str, opener: usize) -> bool {
        let bytes = padded.as_bytes();
        let Some(&open) = bytes.get(opener) else {
            return false;
        };
        let end = match open {
            b'[' | b'{' => flow_end(bytes, opener),
            b'\'' | b'"' => quoted_end(bytes, opener),
            _ => return false,
        };
        let line_start = bytes[..opener]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let target = padded
            .get(line_start..opener)
            .map_or(0, |prefix| prefix.chars().count());
        // Positions are mapped with the padding `padded` was made with, so new inserts are
        // gathered first and added after.
        let mut new = Vec::new();
        let mut pos = opener;
        while let Some(newline) = bytes[pos..end].iter().position(|&b| b == b'\n') {
            let start = pos + newline + 1;
            let indent = bytes[start..]
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            let blank = matches!(bytes.get(start + indent), None | Some(b'\n' | b'\r'));
            if !blank && indent < target {
                new.push((self.to_original(start), target - indent));
            }
            pos = start;
        }
        let changed = !new.is_empty();
        for (at, count) in new {
            *self.inserts.entry(at).or_default() += count;
        }
        changed
    }
}

/// The offset just past the bracket closing the flow collection opened at `opener` (or the
/// end of the text), skipping quoted scalars and comments.
fn flow_end(bytes: &[u8], opener: usize) -> usize {
    let mut depth = 0usize;
    let mut pos = opener;
    let mut token_start = true;
    while let Some(&b) = bytes.get(pos) {
        match b {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return pos + 1;
                }
            }
            b'\'' | b'"' if token_start => {
                pos = quoted_end(bytes, pos);
                token_start = false;
                continue;
            }
            b'#' if token_start => {
                pos += bytes[pos..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .unwrap_or(bytes.len() - pos);
                continue;
            }
            _ => {}
        }
        token_start = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b',' | b'[' | b'{' | b':');
        pos += 1;
    }
    bytes.len()
}

/// The offset just past the quote closing the quoted scalar opened at `opener`.
fn quoted_end(bytes: &[u8], opener: usize) -> usize {
    let quote = bytes.get(opener).copied().unwrap_or(b'"');
    let mut pos = opener + 1;
    while let Some(&b) = bytes.get(pos) {
        if quote == b'"' && b == b'\\' {
            pos += 2;
            continue;
        }
        if b == quote {
            // `''` is an escaped quote inside a single-quoted scalar.
            if quote == b'\'' && bytes.get(pos + 1) == Some(&b'\'') {
                pos += 2;
                continue;
            }
            return pos + 1;
        }
        pos += 1;
    }
    bytes.len()
}

/// The CloudFormation intrinsic functions that have a YAML short form, with their long names.
const SHORT_FORMS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("GetAtt", "Fn::GetAtt"),
    ("Sub", "Fn::Sub"),
    ("Join", "Fn::Join"),
    ("If", "Fn::If"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("FindInMap", "Fn::FindInMap"),
    ("ImportValue", "Fn::ImportValue"),
    ("Base64", "Fn::Base64"),
    ("Cidr", "Fn::Cidr"),
    ("GetAZs", "Fn::GetAZs"),
    ("Equals", "Fn::Equals"),
    ("And", "Fn::And"),
    ("Or", "Fn::Or"),
    ("Not", "Fn::Not"),
    ("Transform", "Fn::Transform"),
    ("Length", "Fn::Length"),
    ("ToJsonString", "Fn::ToJsonString"),
    ("ForEach", "Fn::ForEach"),
    // The rule-specific functions of the `Rules` section.
    ("Contains", "Fn::Contains"),
    ("EachMemberEquals", "Fn::EachMemberEquals"),
    ("EachMemberIn", "Fn::EachMemberIn"),
    ("RefAll", "Fn::RefAll"),
    ("ValueOf", "Fn::ValueOf"),
    ("ValueOfAll", "Fn::ValueOfAll"),
];

/// The directives of the Rain preprocessor (`rain pkg`), which real repositories deploy
/// through Rain: read as the single-key map `{"Rain::Embed": node}`, which the template layer
/// treats as unknown (<https://aws-cloudformation.github.io/rain/rain_pkg.html>).
const PREPROCESSOR_TAGS: &[&str] = &[
    "Rain::Constant",
    "Rain::Embed",
    "Rain::Env",
    "Rain::Include",
    "Rain::Module",
    "Rain::S3",
    "Rain::S3Http",
];

const CORE_PREFIX: &str = "tag:yaml.org,2002:";

/// What a node's tag asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum TagKind {
    /// No tag.
    Plain,
    /// The non-specific tag `!` (the node is a string, a map or a list, never resolved).
    NonSpecific,
    /// A CloudFormation short form: wrap the node in `{long_name: node}`.
    Intrinsic(&'static str),
    Str,
    Int,
    Float,
    Bool,
    Null,
    Map,
    Seq,
}

fn classify_tag(tag: Option<&Tag>) -> Result<TagKind, String> {
    let Some(tag) = tag else {
        return Ok(TagKind::Plain);
    };
    if tag.handle == CORE_PREFIX || (tag.handle.is_empty() && tag.suffix.starts_with(CORE_PREFIX)) {
        let name = tag.suffix.strip_prefix(CORE_PREFIX).unwrap_or(&tag.suffix);
        return match name {
            "str" | "binary" => Ok(TagKind::Str),
            "int" => Ok(TagKind::Int),
            "float" => Ok(TagKind::Float),
            "bool" => Ok(TagKind::Bool),
            "null" => Ok(TagKind::Null),
            "map" => Ok(TagKind::Map),
            "seq" => Ok(TagKind::Seq),
            _ => Err(format!("unknown tag !!{name}")),
        };
    }
    if tag.handle.is_empty() && tag.suffix == "!" {
        return Ok(TagKind::NonSpecific);
    }
    if tag.handle == "!"
        && let Some((_, long)) = SHORT_FORMS.iter().find(|(short, _)| *short == tag.suffix)
    {
        return Ok(TagKind::Intrinsic(long));
    }
    if tag.handle == "!"
        && let Some(name) = PREPROCESSOR_TAGS.iter().find(|name| **name == tag.suffix)
    {
        return Ok(TagKind::Intrinsic(name));
    }
    Err(format!("unknown tag {}{}", tag.handle, tag.suffix))
}

/// Converts saphyr's character indices into byte offsets of the file.
struct Positions {
    base: usize,
    len: usize,
    /// `None` for ASCII text, where characters and bytes coincide.
    checkpoints: Option<Vec<usize>>,
    /// The last conversion (character index, body offset): saphyr's positions mostly move
    /// forward, so walking on from the last one is usually a step or two.
    last: Cell<(usize, usize)>,
}

/// Characters between two checkpoints: small enough that the walk from one is cheap, large
/// enough that the table stays a fraction of the text's size.
const STRIDE: usize = 64;

impl Positions {
    fn new(body: &str, base: usize) -> Self {
        let checkpoints = (!body.is_ascii()).then(|| {
            body.char_indices()
                .step_by(STRIDE)
                .map(|(i, _)| i)
                .collect()
        });
        Positions {
            base,
            len: body.len(),
            checkpoints,
            last: Cell::new((0, 0)),
        }
    }

    /// The offset in `body` (not yet shifted by the BOM) of the character at `index`.
    fn body_offset(&self, body: &str, index: usize) -> usize {
        let Some(checkpoints) = &self.checkpoints else {
            return index.min(self.len);
        };
        let Some(&checkpoint) = checkpoints.get(index / STRIDE) else {
            return self.len;
        };
        let (last_index, last_offset) = self.last.get();
        let (from_index, from) = if last_index <= index && last_index >= index / STRIDE * STRIDE {
            (last_index, last_offset)
        } else {
            (index / STRIDE * STRIDE, checkpoint)
        };
        let offset = body
            .get(from..)
            .and_then(|rest| rest.char_indices().nth(index - from_index))
            .map_or(self.len, |(i, _)| from + i);
        self.last.set((index, offset));
        offset
    }
}

/// A node's properties (anchor and tag) as written before its content.
struct Properties {
    tag: TagKind,
    /// Where the tag is written (a point at the node when there is none).
    tag_span: Span,
    /// Where the node starts, tag and anchor included.
    outer_start: usize,
    /// Where the node's content starts, after its tag and anchor.
    content_start: usize,
    anchor: usize,
}

enum Pending {
    Key(Key),
    Merge(Span),
}

enum Entry {
    Pair(Key, Value),
    Merge(Vec<Map>),
}

enum Open {
    List(Vec<Value>),
    Map {
        builder: MapBuilder,
        entries: Vec<Entry>,
        pending: Option<Pending>,
    },
}

struct Frame {
    open: Open,
    props: Properties,
    /// Depth of this node in the tree (the root map is 1; a tag wrapper adds one).
    depth: usize,
    /// Flow collections end at their closing bracket; block ones at their last child.
    flow: bool,
    last_end: usize,
}

struct Anchored {
    value: Value,
    nodes: usize,
    height: usize,
}

struct Builder<'a> {
    file: &'a SourceFile,
    id: FileId,
    /// The text saphyr reads: the file's body after the BOM, with any indentation repairs.
    body: &'a str,
    /// Where the body starts in the file (after a BOM).
    base: usize,
    padding: &'a Padding,
    positions: Positions,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    alias_nodes: usize,
    root: Option<Value>,
}

impl Builder<'_> {
    fn run(mut self) -> Result<Value, Failure> {
        let mut parser = Parser::new_from_str(self.body);
        let mut documents = 0usize;
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| {
                let offset = self.offset(e.marker().index());
                // saphyr caps flow nesting itself (at 256 levels), ahead of our own check.
                match e.info() {
                    "recursion limit exceeded" => Failure::Parse(depth_error(self.id, offset)),
                    info @ ("invalid indentation"
                    | "invalid indentation in quoted scalar"
                    | "invalid indentation in flow construct") => {
                        let repair = if info.ends_with("quoted scalar") {
                            // Reported at the scalar's opening quote.
                            Some(self.positions.body_offset(self.body, e.marker().index()))
                        } else {
                            // Inside a flow collection only: in block context indentation
                            // is structure, and the file is malformed.
                            self.stack.last().filter(|f| f.flow).map(|f| {
                                self.padding
                                    .to_padded(f.props.content_start.saturating_sub(self.base))
                            })
                        };
                        Failure::Indentation {
                            error: ParseError::at(info, self.id, offset),
                            repair,
                        }
                    }
                    info => Failure::Parse(ParseError::at(info, self.id, offset)),
                }
            })?;
            let start = self.offset(span.start.index());
            let end = self.offset(span.end.index()).max(start);
            match event {
                Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
                Event::StreamEnd => break,
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(Failure::Parse(ParseError::at(
                            "a template must be a single YAML document, but a second one starts here",
                            self.id,
                            start,
                        )));
                    }
                }
                Event::Alias(id) => self.alias(id, start, end)?,
                Event::Scalar(text, style, anchor, tag) => {
                    self.scalar(&text, style, anchor, tag.as_deref(), start, end)?;
                }
                Event::SequenceStart(anchor, tag) => {
                    self.open(false, anchor, tag.as_deref(), start)?
                }
                Event::MappingStart(anchor, tag) => {
                    self.open(true, anchor, tag.as_deref(), start)?
                }
                Event::SequenceEnd | Event::MappingEnd => self.close(end)?,
            }
        }
        Ok(self
            .root
            .unwrap_or_else(|| Value::null(Span::point(self.id, self.positions.base))))
    }

    fn offset(&self, char_index: usize) -> usize {
        self.positions.base
            + self
                .padding
                .to_original(self.positions.body_offset(self.body, char_index))
    }

    fn depth(&self) -> usize {
        self.stack.last().map_or(0, |f| f.depth)
    }

    /// Whether the next node is the key of an open map.
    fn expects_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                open: Open::Map { pending: None, .. },
                ..
            })
        )
    }

    /// Reads the anchor and tag written at `start` (`&a !Ref x`, `!Sub &a x`).
    fn properties(
        &self,
        start: usize,
        anchor: usize,
        tag: Option<&Tag>,
    ) -> Result<Properties, ParseError> {
        let kind = classify_tag(tag);
        let mut props = Properties {
            tag: TagKind::Plain,
            tag_span: Span::point(self.id, start),
            outer_start: start,
            content_start: start,
            anchor,
        };
        if tag.is_none() && anchor == 0 {
            return Ok(props);
        }
        let bytes = self.file.text.as_bytes();
        let mut pos = start;
        loop {
            pos = skip_blank(bytes, pos);
            match bytes.get(pos) {
                Some(b'&') => pos = skip_token(bytes, pos),
                Some(b'!') => {
                    let tag_end = skip_token(bytes, pos);
                    props.tag_span = Span::new(self.id, pos, tag_end);
                    pos = tag_end;
                }
                _ => break,
            }
        }
        props.content_start = pos;
        props.tag = kind.map_err(|message| ParseError::new(message, props.tag_span))?;
        Ok(props)
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        start: usize,
        end: usize,
    ) -> Result<(), ParseError> {
        let props = self.properties(start, anchor, tag)?;
        // An empty scalar after a tag ends where the tag does.
        let content_start = props.content_start.min(end);
        // A quoted scalar ends at its closing quote (saphyr's span may run on over the
        // blanks and a comment after it).
        let end = match style {
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => closing_quote(
                &self.file.text,
                content_start,
                style == ScalarStyle::DoubleQuoted,
            )
            .filter(|&e| e <= end)
            .unwrap_or(end),
            _ => end,
        };
        let span = Span::new(self.id, content_start, end);
        if self.expects_key() {
            if let TagKind::Intrinsic(_) = props.tag {
                return Err(ParseError::new(
                    "an intrinsic function cannot be a map key",
                    props.tag_span,
                ));
            }
            let merge = style == ScalarStyle::Plain && props.tag == TagKind::Plain && text == "<<";
            let key = Key {
                name: text.to_owned(),
                span,
            };
            if anchor != 0 {
                self.register(anchor, &Value::string(text, span));
            }
            return self.key(key, merge);
        }
        let kind = scalar_kind(text, style, props.tag).map_err(|m| ParseError::new(m, span))?;
        let mut value = Value::new(kind, span);
        if let TagKind::Intrinsic(name) = props.tag {
            if self.depth() + 1 > MAX_DEPTH {
                return Err(depth_error(self.id, props.outer_start));
            }
            value = wrap(name, props.tag_span, value, props.outer_start);
        }
        if anchor != 0 {
            self.register(anchor, &value);
        }
        self.attach(value)
    }

    fn alias(&mut self, id: usize, start: usize, end: usize) -> Result<(), ParseError> {
        let Some(anchored) = self.anchors.get(&id) else {
            return Err(ParseError::new(
                "alias refers to a node that contains it (recursive alias)",
                Span::new(self.id, start, end),
            ));
        };
        self.alias_nodes = self.alias_nodes.saturating_add(anchored.nodes);
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(ParseError::new(
                format!("YAML aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                Span::new(self.id, start, end),
            ));
        }
        if self.depth() + anchored.height > MAX_DEPTH {
            return Err(depth_error(self.id, start));
        }
        let value = anchored.value.clone();
        if self.expects_key() {
            let Some(name) = value.as_scalar_str().map(|s| s.into_owned()) else {
                return Err(ParseError::new(
                    "a map key must be a string",
                    Span::new(self.id, start, end),
                ));
            };
            let key = Key {
                name,
                span: Span::new(self.id, start, end),
            };
            return self.key(key, false);
        }
        // Copies keep the anchored node's spans; the list or map they end up in ends here.
        self.attach_ending(value, end)
    }

    fn open(
        &mut self,
        is_map: bool,
        anchor: usize,
        tag: Option<&Tag>,
        start: usize,
    ) -> Result<(), ParseError> {
        if self.expects_key() {
            return Err(ParseError::at(
                "a map key must be a string, not a map or list",
                self.id,
                start,
            ));
        }
        let props = self.properties(start, anchor, tag)?;
        let wrappers = usize::from(matches!(props.tag, TagKind::Intrinsic(_)));
        let depth = self.depth() + 1 + wrappers;
        if depth > MAX_DEPTH {
            return Err(depth_error(self.id, props.content_start));
        }
        let allowed = match props.tag {
            TagKind::Plain | TagKind::NonSpecific | TagKind::Intrinsic(_) => true,
            TagKind::Map => is_map,
            TagKind::Seq => !is_map,
            _ => false,
        };
        if !allowed {
            let what = if is_map { "a map" } else { "a list" };
            return Err(ParseError::new(
                format!(
                    "tag {} cannot be used on {what}",
                    self.file.snippet(props.tag_span)
                ),
                props.tag_span,
            ));
        }
        let flow = matches!(
            self.file.text.as_bytes().get(props.content_start),
            Some(b'[' | b'{')
        );
        let open = if is_map {
            Open::Map {
                builder: MapBuilder::default(),
                entries: Vec::new(),
                pending: None,
            }
        } else {
            Open::List(Vec::new())
        };
        let last_end = props.content_start;
        self.stack.push(Frame {
            open,
            props,
            depth,
            flow,
            last_end,
        });
        Ok(())
    }

    fn close(&mut self, end: usize) -> Result<(), ParseError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let end = if frame.flow { end } else { frame.last_end };
        let span = Span::new(self.id, frame.props.content_start, end);
        let kind = match frame.open {
            Open::List(items) => ValueKind::List(items),
            Open::Map {
                builder,
                entries,
                pending,
            } => {
                if let Some(Pending::Key(key)) = pending {
                    // saphyr always sends a value for a key; keep the key rather than lose it.
                    return Err(ParseError::new("map key without a value", key.span));
                }
                ValueKind::Map(merge_entries(builder, entries))
            }
        };
        let mut value = Value::new(kind, span);
        if let TagKind::Intrinsic(name) = frame.props.tag {
            value = wrap(name, frame.props.tag_span, value, frame.props.outer_start);
        }
        if frame.props.anchor != 0 {
            self.register(frame.props.anchor, &value);
        }
        self.attach(value)
    }

    fn key(&mut self, key: Key, merge: bool) -> Result<(), ParseError> {
        if let Some(Frame {
            open: Open::Map { pending, .. },
            ..
        }) = self.stack.last_mut()
        {
            *pending = Some(if merge {
                Pending::Merge(key.span)
            } else {
                Pending::Key(key)
            });
        }
        Ok(())
    }

    fn attach(&mut self, value: Value) -> Result<(), ParseError> {
        let end = value.span.end as usize;
        self.attach_ending(value, end)
    }

    /// Adds a finished node to the open list or map (or makes it the document).
    fn attach_ending(&mut self, value: Value, end: usize) -> Result<(), ParseError> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(value);
            return Ok(());
        };
        frame.last_end = frame.last_end.max(end);
        match &mut frame.open {
            Open::List(items) => items.push(value),
            Open::Map {
                entries, pending, ..
            } => match pending.take() {
                Some(Pending::Key(key)) => entries.push(Entry::Pair(key, value)),
                Some(Pending::Merge(span)) => {
                    entries.push(Entry::Merge(merge_sources(value, span)?))
                }
                // A value always follows a key in saphyr's event stream.
                None => {}
            },
        }
        Ok(())
    }

    fn register(&mut self, anchor: usize, value: &Value) {
        let (nodes, height) = size_and_height(value);
        self.anchors.insert(
            anchor,
            Anchored {
                value: value.clone(),
                nodes,
                height,
            },
        );
    }
}

/// `{name: value}` with the key at the tag.
fn wrap(name: &str, tag_span: Span, value: Value, outer_start: usize) -> Value {
    let span = Span::new(tag_span.file, outer_start, value.span.end as usize);
    let key = Key {
        name: name.to_owned(),
        span: tag_span,
    };
    Value::new(
        ValueKind::Map(Map {
            entries: vec![(key, value)],
        }),
        span,
    )
}

/// The maps a merge key (`<<: *base` or `<<: [*a, *b]`) brings in.
fn merge_sources(value: Value, key_span: Span) -> Result<Vec<Map>, ParseError> {
    let error = || ParseError::new("the merge key `<<` needs a map or a list of maps", key_span);
    match value.kind {
        ValueKind::Map(m) => Ok(vec![m]),
        ValueKind::List(items) => items
            .into_iter()
            .map(|i| match i.kind {
                ValueKind::Map(m) => Ok(m),
                _ => Err(error()),
            })
            .collect(),
        _ => Err(error()),
    }
}

/// The entries of a finished map: merged keys come in where the `<<` key was written, unless
/// the map sets them itself; among merged maps the first one listed wins.
fn merge_entries(builder: MapBuilder, entries: Vec<Entry>) -> Map {
    if !entries.iter().any(|e| matches!(e, Entry::Merge(_))) {
        let mut b = builder;
        b.entries = entries
            .into_iter()
            .filter_map(|e| match e {
                Entry::Pair(k, v) => Some((k, v)),
                Entry::Merge(_) => None,
            })
            .collect();
        return b.finish();
    }
    let explicit: HashSet<String> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Pair(k, _) => Some(k.name.clone()),
            Entry::Merge(_) => None,
        })
        .collect();
    let mut merged: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for entry in entries {
        match entry {
            Entry::Pair(k, v) => out.push((k, v)),
            Entry::Merge(maps) => {
                for (k, v) in maps.into_iter().flat_map(|m| m.entries) {
                    if !explicit.contains(&k.name) && merged.insert(k.name.clone()) {
                        out.push((k, v));
                    }
                }
            }
        }
    }
    Map {
        entries: super::last_wins(out),
    }
}

/// The value of a scalar under the YAML 1.2 core schema (and the tag, when there is one).
/// The offset just after the quote closing the quoted scalar that opens at `start` (`''` is
/// an escaped quote in single quotes, `\"` in double quotes); `None` when `start` is not a
/// quote or the scalar does not close.
fn closing_quote(text: &str, start: usize, double: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = if double { b'"' } else { b'\'' };
    if bytes.get(start) != Some(&quote) {
        return None;
    }
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if double => i += 2,
            b if b == quote => {
                if !double && bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return Some(i + 1);
                }
            }
            _ => i += 1,
        }
    }
    None
}

fn scalar_kind(text: &str, style: ScalarStyle, tag: TagKind) -> Result<ValueKind, String> {
    let string = || ValueKind::String(text.to_owned());
    Ok(match tag {
        TagKind::Plain | TagKind::Intrinsic(_) if style == ScalarStyle::Plain => plain_kind(text),
        TagKind::Plain | TagKind::Intrinsic(_) | TagKind::NonSpecific | TagKind::Str => string(),
        TagKind::Int if is_int(text) => ValueKind::Number(text.to_owned()),
        TagKind::Float if is_int(text) || is_float(text) => ValueKind::Number(text.to_owned()),
        TagKind::Bool => match text {
            "true" | "True" | "TRUE" => ValueKind::Bool(true),
            "false" | "False" | "FALSE" => ValueKind::Bool(false),
            _ => return Err(format!("`{text}` is not a boolean (tagged !!bool)")),
        },
        TagKind::Null if is_null(text) => ValueKind::Null,
        TagKind::Int => return Err(format!("`{text}` is not an integer (tagged !!int)")),
        TagKind::Float => return Err(format!("`{text}` is not a number (tagged !!float)")),
        TagKind::Null => return Err(format!("`{text}` is not null (tagged !!null)")),
        TagKind::Map => return Err("tag !!map cannot be used on a scalar".to_owned()),
        TagKind::Seq => return Err("tag !!seq cannot be used on a scalar".to_owned()),
    })
}

fn plain_kind(text: &str) -> ValueKind {
    match text {
        _ if is_null(text) => ValueKind::Null,
        "true" | "True" | "TRUE" => ValueKind::Bool(true),
        "false" | "False" | "FALSE" => ValueKind::Bool(false),
        _ if is_int(text) || is_float(text) => ValueKind::Number(text.to_owned()),
        _ => ValueKind::String(text.to_owned()),
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+`.
fn is_int(text: &str) -> bool {
    if let Some(oct) = text.strip_prefix("0o") {
        return !oct.is_empty() && oct.bytes().all(|b| matches!(b, b'0'..=b'7'));
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?.inf` or `.nan`.
fn is_float(text: &str) -> bool {
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => all_digits(int) && all_digits(f) && !(int.is_empty() && f.is_empty()),
        None => !int.is_empty() && all_digits(int),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok
}

/// Skips spaces, line breaks and comments.
fn skip_blank(bytes: &[u8], mut pos: usize) -> usize {
    loop {
        match bytes.get(pos) {
            Some(b' ' | b'\t' | b'\n' | b'\r') => pos += 1,
            Some(b'#') => {
                while bytes.get(pos).is_some_and(|&b| b != b'\n') {
                    pos += 1;
                }
            }
            _ => return pos,
        }
    }
}

/// Skips an anchor or tag token (up to a blank or a flow indicator).
fn skip_token(bytes: &[u8], mut pos: usize) -> usize {
    while bytes.get(pos).is_some_and(|&b| {
        !matches!(
            b,
            b' ' | b'\t' | b'\n' | b'\r' | b',' | b'[' | b']' | b'{' | b'}'
        )
    }) {
        pos += 1;
    }
    pos
}
