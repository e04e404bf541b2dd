//! Suppressions written in the templates: a reviewed finding is accepted where it is.
//!
//! - A comment `# iamlint: ignore[IAM010] reason` (also `# iamlint:ignore IAM010 reason`,
//!   several rules `ignore[IAM010,IAM012]`, rule names as well as codes; `//` in HCL too) on
//!   the finding's line, or on its own line(s) right above it.
//! - The same comment on a resource's first line (its logical id, or the `resource "…" "…" {`
//!   line of a block), or right above it, covers the whole resource: every finding inside it
//!   and every finding about it.
//! - In CloudFormation (JSON templates have no comments; YAML may use it too), the resource's
//!   `Metadata: {iamlint: {ignore: [{id: IAM010, reason: …}]}}`, as cfn-lint and checkov do.
//!
//! A suppression that matches no finding of a rule that ran is reported as an `IAM000` note
//! (like ruff's unused `noqa`), so suppressions do not outlive what they were written for.
//! Input errors are never suppressed.
//!
//! Comments are found by scanning the source text, knowing the quoting of each language: a
//! `#` inside a YAML or HCL string, a YAML block scalar or an HCL heredoc is not a comment.

use iamlint_core::{Diagnostic, FileId, SourceFile, SourceMap, Span, Stack};
use std::collections::HashMap;
use std::sync::Arc;

/// Where a resource is declared, kept from its stack for suppressions once the stack is gone.
#[derive(Debug, Clone)]
pub struct Site {
    /// The logical id or address findings name it by.
    pub id: String,
    /// Its first line: the logical id or block header (for a resource a SAM transform
    /// generated, the SAM resource's).
    pub header: Span,
    /// The files of its stack.
    pub files: Arc<[FileId]>,
}

/// The declared resources of a stack.
pub fn sites(stack: &Stack) -> Vec<Site> {
    let files: Arc<[FileId]> = stack.files.clone().into();
    stack
        .resources()
        .iter()
        .map(|r| {
            let header = match &r.origin {
                iamlint_core::Origin::Generated { source } => {
                    stack.resource(source).map_or(r.span, |s| s.span)
                }
                iamlint_core::Origin::Declared => r.span,
            };
            Site {
                id: r.id.clone(),
                header,
                files: Arc::clone(&files),
            }
        })
        .collect()
}

/// How a finding was suppressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// An `# iamlint: ignore[…]` comment.
    Comment,
    /// A resource's `Metadata: {iamlint: {ignore: […]}}`.
    Metadata,
}

impl Kind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Comment => "comment",
            Kind::Metadata => "metadata",
        }
    }
}

/// A finding suppressed in the source.
#[derive(Debug, Clone)]
pub struct Suppressed {
    pub diagnostic: Diagnostic,
    /// The reason written beside the suppression, if any.
    pub reason: Option<String>,
    pub kind: Kind,
    /// The suppression.
    pub span: Span,
}

/// Splits `diagnostics` into those reported and those suppressed, and adds an `IAM000` note
/// for each suppression that matches no finding of a rule `selection` runs.
pub fn apply(
    sources: &SourceMap,
    sites: &[Site],
    selection: &iamlint_rules::Selection,
    diagnostics: Vec<Diagnostic>,
) -> (Vec<Diagnostic>, Vec<Suppressed>) {
    let mut by_file: HashMap<FileId, Vec<&Site>> = HashMap::new();
    for site in sites {
        by_file.entry(site.header.file).or_default().push(site);
    }
    let mut directives: Vec<Directive> = Vec::new();
    for file in sources.files() {
        if !file.text.contains("iamlint") {
            continue;
        }
        let file_sites = by_file.get(&file.id).map_or(&[][..], Vec::as_slice);
        directives.extend(file_directives(file, file_sites));
    }
    if directives.is_empty() {
        return (diagnostics, Vec::new());
    }
    let lines = |span: Span| sources.get(span.file).map(|f| f.line_col(span.start).line);
    let index = Index::new(&directives);
    // Files a template could not be read from: their suppressions are not judged.
    let unread: Vec<FileId> = diagnostics
        .iter()
        .filter(|d| d.is_input_error())
        .map(|d| d.span.file)
        .collect();
    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    for d in diagnostics {
        if d.is_input_error() {
            kept.push(d);
            continue;
        }
        let line = lines(d.span);
        let mut hit: Option<(usize, usize)> = None;
        for i in index.candidates(&d, line) {
            let directive = &mut directives[i];
            if !directive.covers(&d, line) {
                continue;
            }
            for (j, code) in directive.codes.iter_mut().enumerate() {
                if code.code == Some(d.code) {
                    code.used = true;
                    hit.get_or_insert((i, j));
                }
            }
        }
        match hit {
            Some((i, j)) => {
                let directive = &directives[i];
                suppressed.push(Suppressed {
                    diagnostic: d,
                    reason: directive.reason.clone(),
                    kind: directive.kind.clone(),
                    span: directive.codes[j].span,
                });
            }
            None => kept.push(d),
        }
    }
    for directive in &directives {
        if unread.contains(&directive.file) {
            continue;
        }
        let how = match directive.kind {
            Kind::Comment => "suppression comment",
            Kind::Metadata => "suppression in Metadata",
        };
        if directive.codes.is_empty() {
            kept.push(Diagnostic::input_not_expanded(
                directive.span,
                format!(
                    "this {how} names no rule: write the codes or names of the findings it accepts, as in `# iamlint: ignore[IAM010] reason`"
                ),
            ));
        }
        for code in &directive.codes {
            let note = match code.code {
                None => format!(
                    "unknown rule `{}` in this {how} (see `iamlint rules` for the codes and names)",
                    code.key
                ),
                Some(c) if !code.used && selection.enabled(c) => {
                    let name = iamlint_rules::find_rule(c).map_or("", |m| m.name);
                    format!(
                        "unused suppression: no {c} ({name}) finding here; remove `{}` from this {how}",
                        code.key
                    )
                }
                Some(_) => continue,
            };
            let d = Diagnostic::input_not_expanded(code.span, note);
            if selection.reports(&d) {
                kept.push(d);
            }
        }
    }
    (kept, suppressed)
}

/// Which suppressions may cover a finding, found without looking at every one: those on its
/// line, those whose resource's range holds it, and those of the resource it is about (which
/// may be in another file of a Terraform module).
/// Resource ranges of one file (start, end, directive), sorted by start, and the longest.
type Ranges = (Vec<(u32, u32, usize)>, u32);

struct Index {
    lines: HashMap<(FileId, u32), Vec<usize>>,
    /// Per file, resource ranges (start, end, directive) sorted by start, and the longest.
    ranges: HashMap<FileId, Ranges>,
    resources: HashMap<String, Vec<usize>>,
}

impl Index {
    fn new(directives: &[Directive]) -> Index {
        let mut index = Index {
            lines: HashMap::new(),
            ranges: HashMap::new(),
            resources: HashMap::new(),
        };
        for (i, directive) in directives.iter().enumerate() {
            match &directive.scope {
                Scope::Line(line) => index
                    .lines
                    .entry((directive.file, *line))
                    .or_default()
                    .push(i),
                Scope::Resource { start, end, sites } => {
                    let (ranges, longest) = index.ranges.entry(directive.file).or_default();
                    ranges.push((*start, *end, i));
                    *longest = (*longest).max(end - start);
                    for site in sites {
                        index.resources.entry(site.id.clone()).or_default().push(i);
                    }
                }
            }
        }
        for (ranges, _) in index.ranges.values_mut() {
            ranges.sort_unstable();
        }
        index
    }

    fn candidates(&self, d: &Diagnostic, line: Option<u32>) -> Vec<usize> {
        let mut out = Vec::new();
        if let Some(found) = line.and_then(|l| self.lines.get(&(d.span.file, l))) {
            out.extend(found);
        }
        if let Some((ranges, longest)) = self.ranges.get(&d.span.file) {
            let at = d.span.start;
            let upto = ranges.partition_point(|&(start, _, _)| start <= at);
            for &(start, end, i) in ranges[..upto].iter().rev() {
                if start.saturating_add(*longest) < at {
                    break;
                }
                if at <= end {
                    out.push(i);
                }
            }
        }
        if let Some(found) = d.resource.as_ref().and_then(|r| self.resources.get(r)) {
            out.extend(found);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// One rule a suppression names.
#[derive(Debug)]
struct Code {
    /// As written.
    key: String,
    /// The rule's code; `None` when no rule has this code or name.
    code: Option<&'static str>,
    span: Span,
    used: bool,
}

#[derive(Debug)]
enum Scope {
    /// Findings whose primary span starts on this (one-based) line.
    Line(u32),
    /// Findings inside the byte range, or about one of the resources (in their stack).
    Resource {
        start: u32,
        end: u32,
        sites: Vec<Site>,
    },
}

#[derive(Debug)]
struct Directive {
    file: FileId,
    span: Span,
    codes: Vec<Code>,
    reason: Option<String>,
    scope: Scope,
    kind: Kind,
}

impl Directive {
    fn covers(&self, d: &Diagnostic, line: Option<u32>) -> bool {
        match &self.scope {
            Scope::Line(l) => d.span.file == self.file && line == Some(*l),
            Scope::Resource { start, end, sites } => {
                (d.span.file == self.file && (*start..=*end).contains(&d.span.start))
                    || d.resource.as_deref().is_some_and(|r| {
                        sites
                            .iter()
                            .any(|s| s.id == r && s.files.contains(&d.span.file))
                    })
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Language {
    Yaml,
    Json,
    Hcl,
}

fn language(file: &SourceFile) -> Language {
    let ext = file
        .path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "tf" {
        Language::Hcl
    } else if ext == "json"
        || file
            .text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('{')
    {
        Language::Json
    } else {
        Language::Yaml
    }
}

/// A comment found in a source text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Comment {
    /// Byte offset of the comment's text (after `#` or `//`).
    start: usize,
    /// Byte offset of the comment marker.
    marker: usize,
    /// Whether only whitespace comes before it on its line.
    own_line: bool,
}

/// What a scan of a text finds: its comments, and the code braces at the top level (offset,
/// whether it opens) of HCL and JSON, from which a block's extent is found.
#[derive(Debug, Default)]
struct Scan {
    comments: Vec<Comment>,
    braces: Vec<(usize, bool)>,
}

fn file_directives(file: &SourceFile, sites: &[&Site]) -> Vec<Directive> {
    let text: &str = &file.text;
    let lang = language(file);
    let scan = match lang {
        Language::Yaml => scan_yaml(text),
        Language::Hcl => scan_hcl(text),
        Language::Json => scan_json(text),
    };
    let line_of = |offset: usize| {
        file.line_col(u32::try_from(offset).unwrap_or(u32::MAX))
            .line
    };
    let own_lines: std::collections::HashSet<u32> = scan
        .comments
        .iter()
        .filter(|c| c.own_line)
        .map(|c| line_of(c.marker))
        .collect();
    let line_count = u32::try_from(text.lines().count()).unwrap_or(u32::MAX);
    let mut site_lines: HashMap<u32, Vec<&Site>> = HashMap::new();
    for site in sites {
        site_lines
            .entry(line_of(site.header.start as usize))
            .or_default()
            .push(site);
    }
    let blank = |line: u32| {
        let start = file.offset_of(line, 1);
        text.get(start..)
            .and_then(|rest| rest.lines().next())
            .is_none_or(|l| l.trim().is_empty())
    };
    let mut out = Vec::new();
    for comment in &scan.comments {
        let end = text[comment.start..]
            .find('\n')
            .map_or(text.len(), |i| comment.start + i);
        let body = text[comment.start..end].trim_end_matches('\r');
        let Some(parsed) = parse_directive(body) else {
            continue;
        };
        let mut target = line_of(comment.marker);
        if comment.own_line {
            // The next line that is neither blank nor another comment of its own.
            target += 1;
            while target <= line_count && (own_lines.contains(&target) || blank(target)) {
                target += 1;
            }
        }
        let codes = parsed
            .codes
            .into_iter()
            .map(|(key, from, to)| Code {
                code: iamlint_rules::find_rule(&key).map(|m| m.code),
                key,
                span: Span::new(file.id, comment.start + from, comment.start + to),
                used: false,
            })
            .collect();
        let header_sites: Vec<Site> = site_lines
            .get(&target)
            .map(|found| found.iter().map(|s| (*s).clone()).collect())
            .unwrap_or_default();
        let target_offset = file.offset_of(target, 1);
        let block = if header_sites.is_empty() {
            // An HCL block the graph does not hold (a data source, an attachment folded
            // into its target) is still a block.
            (lang == Language::Hcl && is_hcl_block_header(text, &scan, target_offset))
                .then(|| extent(lang, text, &scan, target_offset))
        } else {
            Some(extent(lang, text, &scan, target_offset))
        };
        let scope = match block {
            Some((start, end)) => Scope::Resource {
                start: u32::try_from(start).unwrap_or(u32::MAX),
                end: u32::try_from(end).unwrap_or(u32::MAX),
                sites: header_sites,
            },
            None => Scope::Line(target),
        };
        out.push(Directive {
            file: file.id,
            span: Span::new(file.id, comment.marker, end),
            codes,
            reason: parsed.reason,
            scope,
            kind: Kind::Comment,
        });
    }
    if lang != Language::Hcl && text.contains("Metadata") {
        out.extend(metadata_directives(file, lang, &scan, sites));
    }
    out
}

/// `Metadata: {iamlint: {ignore: [{id: IAM010, reason: …}]}}` on CloudFormation resources
/// (an entry may also be just the code or name).
fn metadata_directives(
    file: &SourceFile,
    lang: Language,
    scan: &Scan,
    sites: &[&Site],
) -> Vec<Directive> {
    use iamlint_core::Value;
    let parsed = match lang {
        Language::Json => iamlint_cfn::syntax::parse_json(file),
        _ => iamlint_cfn::syntax::parse_yaml(file),
    };
    let Ok(root) = parsed else {
        return Vec::new();
    };
    let Some(resources) = root.get("Resources").and_then(Value::as_map) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, resource) in resources.iter() {
        let Some((_, settings)) = resource
            .get("Metadata")
            .and_then(Value::as_map)
            .and_then(|m| m.get_entry("iamlint"))
        else {
            continue;
        };
        let (entries, span) = match settings.get("ignore") {
            Some(list) => (list.as_one_or_many(), list.span),
            None => (Vec::new(), settings.span),
        };
        let mut codes = Vec::new();
        let mut reasons = Vec::new();
        for entry in entries {
            let (id, reason) = match entry.as_map() {
                Some(_) => (entry.get("id"), entry.get("reason")),
                None => (Some(entry), None),
            };
            if let Some(id) = id.and_then(|v| v.as_str().map(|s| (s.to_string(), v.span))) {
                codes.push(Code {
                    code: iamlint_rules::find_rule(&id.0).map(|m| m.code),
                    key: id.0,
                    span: id.1,
                    used: false,
                });
            }
            if let Some(reason) = reason.and_then(Value::as_str) {
                reasons.push(reason.to_string());
            }
        }
        let header = key.span.start as usize;
        let (start, end) = extent(lang, &file.text, scan, header);
        out.push(Directive {
            file: file.id,
            span,
            codes,
            reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
            scope: Scope::Resource {
                start: u32::try_from(start).unwrap_or(u32::MAX),
                end: u32::try_from(end).unwrap_or(u32::MAX),
                sites: sites
                    .iter()
                    .filter(|s| s.header.start == key.span.start || s.id == key.name)
                    .map(|s| (*s).clone())
                    .collect(),
            },
            kind: Kind::Metadata,
        });
    }
    out
}

/// A parsed `iamlint: ignore…` comment: the rules it names (with their byte range in the
/// comment text) and its reason.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    codes: Vec<(String, usize, usize)>,
    reason: Option<String>,
}

/// Parses the text of a comment (after its marker); `None` when it is not an iamlint
/// suppression.
fn parse_directive(body: &str) -> Option<Parsed> {
    let skip_ws = |s: &str, i: usize| i + (s[i..].len() - s[i..].trim_start().len());
    let mut i = skip_ws(body, 0);
    if !body.get(i..i + 7)?.eq_ignore_ascii_case("iamlint") {
        return None;
    }
    i = skip_ws(body, i + 7);
    if !body[i..].starts_with(':') {
        return None;
    }
    i = skip_ws(body, i + 1);
    if !body.get(i..i + 6)?.eq_ignore_ascii_case("ignore") {
        return None;
    }
    i += 6;
    let rest = &body[i..];
    if !(rest.is_empty() || rest.starts_with('[') || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let mut codes = Vec::new();
    let mut push_codes = |list: &str, at: usize| {
        let mut offset = at;
        for part in list.split(',') {
            let trimmed = part.trim();
            if !trimmed.is_empty() {
                let lead = part.len() - part.trim_start().len();
                codes.push((
                    trimmed.to_string(),
                    offset + lead,
                    offset + lead + trimmed.len(),
                ));
            }
            offset += part.len() + 1;
        }
    };
    let reason_from;
    if rest.starts_with('[') {
        let close = rest.find(']').unwrap_or(rest.len());
        push_codes(&rest[1..close], i + 1);
        reason_from = (i + close + 1).min(body.len());
    } else {
        // `ignore IAM010` or `ignore IAM010,IAM012` (or `IAM010, IAM012`), then the reason.
        let mut j = skip_ws(body, i);
        loop {
            let token_end = body[j..]
                .find(char::is_whitespace)
                .map_or(body.len(), |k| j + k);
            let token = &body[j..token_end];
            if token.is_empty() || !looks_like_rule(token.trim_end_matches(',')) {
                break;
            }
            push_codes(token, j);
            j = skip_ws(body, token_end);
            if !token.ends_with(',') {
                break;
            }
        }
        reason_from = j;
    }
    let reason = body[reason_from..]
        .trim()
        .trim_start_matches([':', '-', '\u{2014}', '\u{2013}'])
        .trim();
    Some(Parsed {
        codes,
        reason: (!reason.is_empty()).then(|| reason.to_string()),
    })
}

/// A rule code (`IAM010`) or kebab-case name, as opposed to the first word of a reason.
fn looks_like_rule(token: &str) -> bool {
    let code = token.len() > 3
        && token[..3].eq_ignore_ascii_case("iam")
        && token[3..].bytes().all(|b| b.is_ascii_digit());
    code || (token.contains('-')
        && token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b','))
        || iamlint_rules::find_rule(token).is_some()
}

/// The byte range of the block that starts on the line at `line_start`: in YAML the lines
/// indented below it, in HCL and JSON up to the brace that closes the first one opened there.
fn extent(lang: Language, text: &str, scan: &Scan, line_start: usize) -> (usize, usize) {
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    match lang {
        Language::Yaml => {
            let line = &text[line_start..line_end];
            let indent = line.len() - line.trim_start().len();
            let mut end = line_end;
            let mut offset = (line_end + 1).min(text.len());
            for next in text[offset..].split_inclusive('\n') {
                let trimmed = next.trim();
                let next_indent = next.len() - next.trim_start().len();
                if !trimmed.is_empty() && !trimmed.starts_with('#') {
                    if next_indent <= indent {
                        break;
                    }
                    end = offset + next.trim_end().len();
                }
                offset += next.len();
            }
            (line_start, end)
        }
        Language::Hcl | Language::Json => {
            let Some(open) = scan
                .braces
                .iter()
                .position(|&(at, opens)| at >= line_start && opens)
            else {
                return (line_start, line_end);
            };
            let mut depth = 0usize;
            for &(at, opens) in &scan.braces[open..] {
                if opens {
                    depth += 1;
                } else {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return (line_start, at + 1);
                    }
                }
            }
            (line_start, text.len())
        }
    }
}

/// Whether the line at `line_start` opens a top-level HCL block (`data "t" "n" {`): a brace
/// opens on it at depth 0.
fn is_hcl_block_header(text: &str, scan: &Scan, line_start: usize) -> bool {
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let mut depth = 0usize;
    for &(at, opens) in &scan.braces {
        if at >= line_end {
            break;
        }
        if at >= line_start && opens && depth == 0 {
            return true;
        }
        if opens {
            depth += 1;
        } else {
            depth = depth.saturating_sub(1);
        }
    }
    false
}

/// The comments of a YAML text. A `#` is a comment at a line's start or after whitespace,
/// outside quoted scalars (which may span lines) and block scalars (`|`, `>`).
fn scan_yaml(text: &str) -> Scan {
    let mut scan = Scan::default();
    let mut quote: Option<u8> = None;
    // The indentation a block scalar's lines must exceed, while inside one.
    let mut block: Option<usize> = None;
    let mut flow = 0usize;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start_matches(' ').len();
        if let Some(parent) = block {
            if body.trim().is_empty() || indent > parent {
                continue;
            }
            block = None;
        }
        let bytes = body.as_bytes();
        let mut in_plain = false;
        let mut in_token = false;
        // Where the current node starts on this line: a block scalar's lines are indented
        // more than it.
        let mut node = indent;
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            let next = bytes.get(i + 1).copied();
            let prev_ws = i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t';
            match quote {
                Some(b'\'') => {
                    if c == b'\'' {
                        if next == Some(b'\'') {
                            i += 1;
                        } else {
                            quote = None;
                        }
                    }
                }
                Some(_) => {
                    if c == b'\\' {
                        i += 1;
                    } else if c == b'"' {
                        quote = None;
                    }
                }
                None if c == b' ' || c == b'\t' => in_token = false,
                None if c == b'#' && prev_ws => {
                    scan.comments.push(Comment {
                        start: start + i + 1,
                        marker: start + i,
                        own_line: body[..i].trim().is_empty(),
                    });
                    break;
                }
                None if in_token => {}
                None if in_plain => {
                    if c == b':' && next.is_none_or(|n| n == b' ' || n == b'\t') {
                        in_plain = false;
                    } else if flow > 0 && matches!(c, b',' | b']' | b'}') {
                        in_plain = false;
                        if c != b',' {
                            flow = flow.saturating_sub(1);
                        }
                    }
                }
                None => match c {
                    b'\'' | b'"' => quote = Some(c),
                    b'[' | b'{' => flow += 1,
                    b']' | b'}' => flow = flow.saturating_sub(1),
                    b',' => {}
                    b'-' | b'?' | b':' if next.is_none_or(|n| n == b' ' || n == b'\t') => {
                        if c == b'-' {
                            node = i + 2;
                        }
                    }
                    b'!' | b'&' | b'*' => in_token = true,
                    b'|' | b'>' if is_block_indicator(&body[i..]) => {
                        block = Some(node);
                        in_token = true;
                    }
                    _ => {
                        if flow == 0 {
                            node = i;
                        }
                        in_plain = true;
                    }
                },
            }
            i += 1;
        }
    }
    scan
}

/// Whether `rest` (from a `|` or `>`) is a block scalar header: the indicator, its optional
/// chomping and indentation indicators, then nothing but a comment.
fn is_block_indicator(rest: &str) -> bool {
    let after =
        rest[1..].trim_start_matches(['+', '-', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    let after = after.trim_start();
    after.is_empty() || after.starts_with('#')
}

/// The comments (`#`, `//`) and top-level braces of an HCL text, outside strings (with their
/// `${…}` interpolations), heredocs and `/* */` comments.
fn scan_hcl(text: &str) -> Scan {
    #[derive(Clone, Copy, PartialEq)]
    enum Frame {
        /// Code inside a string's `${…}` or `%{…}`, with its open braces.
        Template(usize),
        Str,
    }
    let mut scan = Scan::default();
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut heredoc: Option<String> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        match stack.last().copied() {
            Some(Frame::Str) => match c {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' | b'%' if next == Some(c) && bytes.get(i + 2) == Some(&b'{') => i += 2,
                b'$' | b'%' if next == Some(b'{') => {
                    stack.push(Frame::Template(0));
                    i += 1;
                }
                b'\n' => stack.clear(),
                _ => {}
            },
            top => match c {
                b'#' => {
                    comment(&mut scan, text, i, 1);
                    i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                    continue;
                }
                b'/' if next == Some(b'/') => {
                    comment(&mut scan, text, i, 2);
                    i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                    continue;
                }
                b'/' if next == Some(b'*') => {
                    i = text[i + 2..]
                        .find("*/")
                        .map_or(bytes.len(), |n| i + 2 + n + 2);
                    continue;
                }
                b'"' => stack.push(Frame::Str),
                b'<' if next == Some(b'<') => {
                    let rest = &text[i + 2..];
                    let rest = rest.strip_prefix('-').unwrap_or(rest);
                    let ident: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !ident.is_empty() {
                        heredoc = Some(ident);
                    }
                }
                b'{' => match top {
                    Some(Frame::Template(n)) => {
                        stack.pop();
                        stack.push(Frame::Template(n + 1));
                    }
                    _ => scan.braces.push((i, true)),
                },
                b'}' => match top {
                    Some(Frame::Template(0)) => {
                        stack.pop();
                    }
                    Some(Frame::Template(n)) => {
                        stack.pop();
                        stack.push(Frame::Template(n - 1));
                    }
                    _ => scan.braces.push((i, false)),
                },
                b'\n' => {
                    if let Some(ident) = heredoc.take() {
                        // Skip the heredoc's lines, up to and with the one that closes it.
                        let mut at = i + 1;
                        for line in text[i + 1..].split_inclusive('\n') {
                            at += line.len();
                            if line.trim() == ident {
                                break;
                            }
                        }
                        i = at;
                        continue;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    scan
}

fn comment(scan: &mut Scan, text: &str, marker: usize, len: usize) {
    let before = text[..marker].trim_end_matches([' ', '\t']);
    scan.comments.push(Comment {
        start: marker + len,
        marker,
        own_line: before.is_empty() || before.ends_with('\n'),
    });
}

/// The braces of a JSON text, outside strings (JSON has no comments).
fn scan_json(text: &str) -> Scan {
    let mut scan = Scan::default();
    let bytes = text.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        match (in_string, bytes[i]) {
            (true, b'\\') => i += 1,
            (true, b'"') | (false, b'"') => in_string = !in_string,
            (false, b'{') => scan.braces.push((i, true)),
            (false, b'}') => scan.braces.push((i, false)),
            _ => {}
        }
        i += 1;
    }
    scan
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn codes(body: &str) -> (Vec<String>, Option<String>) {
        let p = parse_directive(body).unwrap();
        for (code, from, to) in &p.codes {
            assert_eq!(&body[*from..*to], code, "{body}");
        }
        (p.codes.into_iter().map(|c| c.0).collect(), p.reason)
    }

    #[test]
    fn parses_every_written_form() {
        assert_eq!(
            codes(" iamlint: ignore[IAM010] reviewed by sec"),
            (vec!["IAM010".into()], Some("reviewed by sec".into()))
        );
        assert_eq!(
            codes(" iamlint:ignore IAM010"),
            (vec!["IAM010".into()], None)
        );
        assert_eq!(
            codes(" iamlint: ignore[IAM010, lambda-xray-permissions] - tracing is off"),
            (
                vec!["IAM010".into(), "lambda-xray-permissions".into()],
                Some("tracing is off".into())
            )
        );
        assert_eq!(
            codes("iamlint: ignore IAM010, IAM012 the bucket is public"),
            (
                vec!["IAM010".into(), "IAM012".into()],
                Some("the bucket is public".into())
            )
        );
        assert_eq!(codes(" iamlint: ignore"), (vec![], None));
        assert_eq!(parse_directive(" iamlint: ignores IAM010"), None);
        assert_eq!(parse_directive(" checked by iamlint: ignore IAM010"), None);
        assert_eq!(parse_directive(" iamlint is great"), None);
    }

    fn comment_texts(text: &str, scan: &Scan) -> Vec<String> {
        scan.comments
            .iter()
            .map(|c| {
                let end = text[c.start..]
                    .find('\n')
                    .map_or(text.len(), |n| c.start + n);
                text[c.start..end].trim().to_string()
            })
            .collect()
    }

    #[test]
    fn yaml_comments_skip_strings_and_block_scalars() {
        let text = "\
# top
Resources:
  Fn: # header
    Properties:
      A: \"x # not\" # yes 1
      B: 'it''s # not' # yes 2
      C: plain#not # yes 3
      D: it's # yes 4
      Code: |
        # not, code
        x = 1 # not
      E: >-   # yes 5
        folded # not
      - !Sub 'a # not' # yes 6
      F: [a, 'b # not', c] # yes 7
      G: \"multi
        line # not
        end\" # yes 8
";
        let scan = scan_yaml(text);
        assert_eq!(
            comment_texts(text, &scan),
            [
                "top", "header", "yes 1", "yes 2", "yes 3", "yes 4", "yes 5", "yes 6", "yes 7",
                "yes 8"
            ]
        );
        assert!(scan.comments[0].own_line);
        assert!(!scan.comments[1].own_line);
    }

    #[test]
    fn hcl_comments_skip_strings_and_heredocs() {
        let text = r#"# one
resource "aws_iam_role" "r" { // two
  name = "a # not ${lookup(var.m, "k # not")} // not" # three
  policy = <<EOF
# not, heredoc
{"x": "}"}
EOF
  /* # not */ tags = {} # four
}
"#;
        let scan = scan_hcl(text);
        assert_eq!(comment_texts(text, &scan), ["one", "two", "three", "four"]);
        let (start, end) = extent(Language::Hcl, text, &scan, text.find("resource").unwrap());
        assert_eq!(&text[end - 1..end], "}");
        assert_eq!(text[start..end].lines().count(), 8);
    }

    #[test]
    fn yaml_extent_is_the_indented_block() {
        let text = "Resources:\n  A:\n    Type: x\n\n    # c\n    P: 1\n  B:\n    Type: y\n";
        let scan = scan_yaml(text);
        let (start, end) = extent(Language::Yaml, text, &scan, text.find("  A:").unwrap());
        assert_eq!(&text[start..end], "  A:\n    Type: x\n\n    # c\n    P: 1");
    }
}
