//! Structured fixes: edits of the user's source text at the spans of the graph's values.
//!
//! Each builder reads the text around a span and returns the edits only for the shapes it
//! recognises for certain (a quoted or plain string, an item of a block or bracketed list, a
//! `Resource: X` line); for anything else it returns `None` and the finding keeps its help
//! text alone. Nothing is re-serialised: the bytes outside an edit stay as written.

use crate::context::Context;
use iamlint_core::{Edit, Format, Resource, SourceFile, Span, Value, ValueKind};

/// The syntax of the text a span is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Yaml,
    Json,
    Hcl,
}

/// The syntax of `file` for a stack of `format` (`None` for a Terraform plan, which nobody
/// edits).
pub fn syntax(format: Format, file: &SourceFile) -> Option<Syntax> {
    match format {
        Format::CloudFormation | Format::Sam => {
            if file.text.trim_start().starts_with('{') {
                Some(Syntax::Json)
            } else {
                Some(Syntax::Yaml)
            }
        }
        Format::Terraform => Some(Syntax::Hcl),
        Format::TerraformPlan => None,
    }
}

/// The source file and syntax of a value's span, when the context has its text.
fn located<'a>(ctx: &Context<'a>, span: Span) -> Option<(&'a SourceFile, Syntax)> {
    let file = ctx.source(span.file)?;
    Some((file, syntax(ctx.stack.format, file)?))
}

/// Appends `suffix` at the end of the string `value` (whose text ends with `tail`), inside its
/// quotes: a YAML plain or quoted scalar (also after `!Sub` or `Fn::Sub:`), a JSON string or
/// `{"Fn::Sub": "…"}`, an HCL quoted string or template.
pub fn append_to_string(
    ctx: &Context<'_>,
    value: &Value,
    tail: &str,
    suffix: &str,
) -> Option<Edit> {
    if !matches!(value.kind, ValueKind::String(_) | ValueKind::Template(_)) || tail.is_empty() {
        return None;
    }
    let (file, syntax) = located(ctx, value.span)?;
    let text = file.snippet(value.span);
    if text.is_empty() || text.contains('\n') {
        return None;
    }
    let start = value.span.start as usize;
    let end = string_end(text, syntax)?;
    let before = &text[..end];
    if !before.ends_with(tail) || before.ends_with('\\') {
        return None;
    }
    Some(Edit::insert(
        Span::point(value.span.file, start + end),
        suffix,
    ))
}

/// The byte offset in `text` (a one-line value) where the string's characters end: before its
/// closing quote, or at the end of a plain scalar.
fn string_end(text: &str, syntax: Syntax) -> Option<usize> {
    let trimmed = text.trim_end();
    match syntax {
        Syntax::Hcl => (trimmed.starts_with('"') && trimmed.ends_with('"') && trimmed.len() >= 2)
            .then(|| trimmed.len() - 1),
        Syntax::Json => {
            if trimmed.starts_with('"') && trimmed.ends_with('"') && trimmed.len() >= 2 {
                return Some(trimmed.len() - 1);
            }
            // {"Fn::Sub": "…"}
            let inner = trimmed.strip_prefix('{')?.strip_suffix('}')?.trim();
            let rest = inner
                .strip_prefix("\"Fn::Sub\"")?
                .trim_start()
                .strip_prefix(':')?
                .trim_start();
            if !(rest.starts_with('"') && rest.ends_with('"') && rest.len() >= 2) {
                return None;
            }
            let close = trimmed.rfind('"')?;
            Some(close)
        }
        Syntax::Yaml => {
            let offset = text.len() - text.trim_start().len();
            let body = text.trim_start();
            let (skip, scalar) = if let Some(rest) = body.strip_prefix("!Sub") {
                let after = rest.trim_start();
                if after.len() == rest.len() {
                    return None;
                }
                (body.len() - after.len(), after)
            } else if let Some(rest) = body.strip_prefix("Fn::Sub:") {
                let after = rest.trim_start();
                (body.len() - after.len(), after)
            } else {
                (0, body)
            };
            let scalar = scalar.trim_end();
            let first = scalar.chars().next()?;
            let end = if first == '"' || first == '\'' {
                // The closing quote; what follows may only be a comment (a span may reach it).
                let close = closing_quote(scalar, first)?;
                let rest = scalar[close + 1..].trim_start();
                if !(rest.is_empty() || rest.starts_with('#')) {
                    return None;
                }
                close
            } else {
                if "!&*[]{}|>#%@`,".contains(first) || scalar.contains(" #") {
                    return None;
                }
                scalar.len()
            };
            Some(offset + skip + end)
        }
    }
}

/// The offset of the quote closing the YAML scalar that `quote` opens at offset 0 (`''` is a
/// quote inside single quotes, `\"` inside double quotes).
fn closing_quote(scalar: &str, quote: char) -> Option<usize> {
    let bytes = scalar.as_bytes();
    let q = u8::try_from(quote).ok()?;
    let mut i = 1;
    while i < bytes.len() {
        if q == b'"' && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == q {
            if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Adds an item beside `anchor` in the list `element` (a statement's `Resource`), or turns
/// the scalar `element` (then `anchor` itself) into a list of both. `item` is written in the
/// stack's help syntax: YAML for CloudFormation (converted for a JSON template), HCL for
/// Terraform.
pub fn add_beside(
    ctx: &Context<'_>,
    element: &Value,
    anchor: &Value,
    item: &str,
) -> Option<Vec<Edit>> {
    add_item(ctx, element, anchor, item, &["Resource", "resources"])
}

/// [`add_beside`] with `item` already written in the file's own syntax (JSON in a JSON
/// template), as [`with_suffix`] and [`without_suffix`] make it.
pub fn add_written_beside(
    ctx: &Context<'_>,
    element: &Value,
    anchor: &Value,
    item: &str,
) -> Option<Vec<Edit>> {
    add_item_written(ctx, element, anchor, item, &["Resource", "resources"], true)
}

/// The user's string `value` with `suffix` added inside it, in its own syntax
/// (`"arn:aws:s3:::${var.b}"` → `"arn:aws:s3:::${var.b}/*"`).
pub fn with_suffix(ctx: &Context<'_>, value: &Value, suffix: &str) -> Option<String> {
    let (text, end, value_end) = string_text(ctx, value)?;
    Some(format!("{}{suffix}{}", &text[..end], &text[end..value_end]))
}

/// The user's string `value` without `suffix` at its end, in its own syntax
/// (`"arn:aws:s3:::${var.b}/*"` → `"arn:aws:s3:::${var.b}"`).
pub fn without_suffix(ctx: &Context<'_>, value: &Value, suffix: &str) -> Option<String> {
    let (text, end, value_end) = string_text(ctx, value)?;
    let kept = text[..end].strip_suffix(suffix)?;
    Some(format!("{kept}{}", &text[end..value_end]))
}

/// The one-line source text of a string value, where its characters end, and where the
/// value ends (after its closing quote or brace; a comment the span reaches left out).
fn string_text<'a>(ctx: &Context<'a>, value: &Value) -> Option<(&'a str, usize, usize)> {
    if !matches!(value.kind, ValueKind::String(_) | ValueKind::Template(_)) {
        return None;
    }
    let (file, syntax) = located(ctx, value.span)?;
    let text = file.snippet(value.span);
    if text.is_empty() || text.contains('\n') {
        return None;
    }
    let end = string_end(text, syntax)?;
    let rest = &text[end..];
    let value_end = if rest.starts_with(['"', '\'']) {
        // The closing quote, and the `}` of a JSON `{"Fn::Sub": "…"}`.
        let after_quote = end + 1;
        match text[after_quote..].trim_start().strip_prefix('}') {
            Some(tail) if syntax == Syntax::Json => text.len() - tail.len(),
            _ => after_quote,
        }
    } else {
        end
    };
    Some((text, end, value_end))
}

/// [`add_beside`] for the list (or scalar) `element` written after one of the keys `keys`.
pub fn add_item(
    ctx: &Context<'_>,
    element: &Value,
    anchor: &Value,
    item: &str,
    keys: &[&str],
) -> Option<Vec<Edit>> {
    add_item_written(ctx, element, anchor, item, keys, false)
}

fn add_item_written(
    ctx: &Context<'_>,
    element: &Value,
    anchor: &Value,
    item: &str,
    keys: &[&str],
    written: bool,
) -> Option<Vec<Edit>> {
    let (file, syntax) = located(ctx, element.span)?;
    if anchor.span.file != element.span.file
        || anchor.span.start < element.span.start
        || anchor.span.end > element.span.end
    {
        return None;
    }
    let item = match syntax {
        Syntax::Json if !written => json_of_yaml(item)?,
        _ => item.to_string(),
    };
    let text = &*file.text;
    let span_file = element.span.file;
    let (a_start, a_end) = (anchor.span.start as usize, anchor.span.end as usize);
    let line_start = text[..a_start].rfind('\n').map_or(0, |i| i + 1);
    let prefix = &text[line_start..a_start];
    let nl = newline(text);
    let element_text = file.snippet(element.span);
    // Only a `Resource` the user wrote (not one a SAM policy template or a Terraform
    // attachment made).
    if !after_key(&text[..element.span.start as usize], keys) {
        return None;
    }
    match &element.kind {
        ValueKind::List(items) => {
            if !items.iter().any(|i| i.span == anchor.span) {
                return None;
            }
            if element_text.starts_with('[') {
                let own_line = prefix.trim().is_empty();
                let insert = if own_line {
                    format!(",{nl}{prefix}{item}")
                } else {
                    format!(", {item}")
                };
                return Some(vec![Edit::insert(Span::point(span_file, a_end), insert)]);
            }
            if syntax != Syntax::Yaml {
                return None;
            }
            // A block sequence item: `<indent>- <anchor>`.
            let dash = prefix.trim_end();
            let indent = dash.strip_suffix('-')?;
            if !indent.chars().all(|c| c == ' ') {
                return None;
            }
            let at = line_end(text, a_end);
            Some(vec![Edit::insert(
                Span::point(span_file, at),
                format!("{nl}{indent}- {item}"),
            )])
        }
        _ => {
            if element.span != anchor.span
                || (syntax == Syntax::Yaml && element_text.contains('\n'))
            {
                return None;
            }
            match syntax {
                Syntax::Json | Syntax::Hcl => Some(vec![
                    Edit::insert(Span::point(span_file, a_start), "["),
                    Edit::insert(Span::point(span_file, a_end), format!(", {item}]")),
                ]),
                Syntax::Yaml => {
                    // `<indent>[- ]Resource: <anchor>` becomes a block sequence under the key.
                    let before = prefix.trim_end();
                    let key_line = before.strip_suffix(':')?;
                    let key = key_line.trim_start().trim_start_matches("- ").trim_start();
                    if !keys.contains(&key.trim_matches(['"', '\''])) {
                        return None;
                    }
                    let key_column = key_line.len() - key.len();
                    let pad = " ".repeat(key_column + sequence_offset(&text[..a_start]));
                    let colon = line_start + before.len();
                    let at = line_end(text, a_end);
                    Some(vec![
                        Edit::replace(Span::new(span_file, colon, a_start), format!("{nl}{pad}- ")),
                        Edit::insert(Span::point(span_file, at), format!("{nl}{pad}- {item}")),
                    ])
                }
            }
        }
    }
}

/// Whether a resource of type `resource_type` added to `grant`'s statement would also widen an
/// action other than `fixed` (which the finding is about): an action named with a wildcard or
/// by `NotAction`, one the catalog does not know, or one that applies to that type.
pub fn widens_others(grant: &crate::arn::Grant<'_>, resource_type: &str, fixed: &[&str]) -> bool {
    grant.not_action
        || grant.actions.iter().any(|(name, _)| {
            if name.contains(['*', '?']) {
                return true;
            }
            if fixed.iter().any(|a| a.eq_ignore_ascii_case(name)) {
                return false;
            }
            iamlint_policy::catalog::action(name)
                .and_then(crate::arn::action_patterns)
                .is_none_or(|p| p.iter().any(|(t, _)| *t == resource_type))
        })
}

/// Attaches the AWS managed policy `policy` (`service-role/AWSLambdaVPCAccessExecutionRole`)
/// to a role the user wrote: a new `ManagedPolicyArns` item (or the property, first of the
/// role's `Properties`) in CloudFormation; in Terraform a new item of the role's
/// `managed_policy_arns` when it has one (that list is exclusive), else a new
/// `aws_iam_role_policy_attachment` resource after the role's block.
pub fn attach_managed_policy(
    ctx: &Context<'_>,
    role: &Resource,
    policy: &str,
) -> Option<Vec<Edit>> {
    if role.is_generated() {
        return None;
    }
    let properties = role.properties.as_map()?;
    let (file, syntax) = located(ctx, role.properties.span)?;
    match syntax {
        Syntax::Yaml | Syntax::Json => {
            let item = format!("!Sub arn:${{AWS::Partition}}:iam::aws:policy/{policy}");
            if let Some(list) = properties.get("ManagedPolicyArns") {
                let last = list.as_list()?.last()?;
                return add_item(ctx, list, last, &item, &["ManagedPolicyArns"]);
            }
            let (first_key, _) = properties.entries.first()?;
            let at = first_key.span.start as usize;
            let text = &*file.text;
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let indent = &text[line_start..at];
            let nl = newline(text);
            let insert = if syntax == Syntax::Json {
                let sep = if indent.trim().is_empty() {
                    format!("{nl}{indent}")
                } else {
                    " ".to_string()
                };
                format!("\"ManagedPolicyArns\": [{}],{sep}", json_of_yaml(&item)?)
            } else {
                if !indent.chars().all(|c| c == ' ') {
                    return None;
                }
                let pad = " ".repeat(sequence_offset(&text[..at]));
                format!("ManagedPolicyArns:{nl}{indent}{pad}- {item}{nl}{indent}")
            };
            Some(vec![Edit::insert(
                Span::point(first_key.span.file, at),
                insert,
            )])
        }
        Syntax::Hcl => {
            let arn = format!("\"arn:aws:iam::aws:policy/{policy}\"");
            let name = role.id.rsplit('.').next()?;
            let text = &*file.text;
            let header = format!("resource \"aws_iam_role\" \"{name}\"");
            let at = role.span.start as usize;
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            if !text[line_start..].starts_with(&header) {
                return None;
            }
            let open = line_start + text[line_start..].find('{')?;
            let close = block_end(text, open)?;
            let body = &text[open..close];
            if body.contains("count") || body.contains("for_each") || body.contains("<<") {
                return None;
            }
            if body.contains("managed_policy_arns") {
                // Exclusive: an attachment beside it would be removed; add to the list.
                let list = properties.get("ManagedPolicyArns")?;
                let last = list.as_list()?.last()?;
                return add_item(ctx, list, last, &arn, &["managed_policy_arns"]);
            }
            let attachment = format!("{name}_vpc_access");
            let taken = ctx
                .stack
                .files
                .iter()
                .filter_map(|f| ctx.source(*f))
                .any(|f| {
                    f.text.contains(&format!(
                        "\"aws_iam_role_policy_attachment\" \"{attachment}\""
                    ))
                });
            if taken {
                return None;
            }
            let nl = newline(text);
            Some(vec![Edit::insert(
                Span::point(role.properties.span.file, close + 1),
                format!(
                    "{nl}{nl}resource \"aws_iam_role_policy_attachment\" \"{attachment}\" {{{nl}  role       = aws_iam_role.{name}.name{nl}  policy_arn = {arn}{nl}}}"
                ),
            )])
        }
    }
}

/// The offset of the `}` closing the HCL block whose `{` is at `open` (strings and comments
/// skipped); `None` when it cannot be told.
fn block_end(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'"' => {
                // A quoted string; `${…}` inside may hold braces and quotes of its own.
                i += 1;
                let mut inner = 0usize;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 1,
                        b'$' if bytes.get(i + 1) == Some(&b'{') => {
                            inner += 1;
                            i += 1;
                        }
                        b'}' if inner > 0 => inner -= 1,
                        b'"' if inner == 0 => break,
                        b'\n' => return None,
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'#' => i += text[i..].find('\n')?,
            b'/' if bytes.get(i + 1) == Some(&b'/') => i += text[i..].find('\n')?,
            b'/' if bytes.get(i + 1) == Some(&b'*') => i += text[i..].find("*/")? + 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether `before` (the text before a value) ends with a statement's resource key:
/// `Resource:` (YAML, also before a block sequence's first `-`), `"Resource":` (JSON),
/// `Resource =` (HCL `jsonencode`) or `resources =` (`aws_iam_policy_document`).
fn after_key(before: &str, keys: &[&str]) -> bool {
    let before = before.trim_end();
    let before = before.strip_suffix('-').unwrap_or(before).trim_end();
    let Some(key) = before
        .strip_suffix(':')
        .or_else(|| before.strip_suffix('='))
    else {
        return false;
    };
    let key = key.trim_end();
    let key = key
        .strip_suffix('"')
        .or_else(|| key.strip_suffix('\''))
        .unwrap_or(key);
    keys.iter().any(|name| {
        key.strip_suffix(name).is_some_and(|rest| {
            !rest
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

/// The file's line break (`\r\n` when its first line ends so).
fn newline(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// The offset of the end of the line holding `offset` (before its `\r\n` or `\n`).
fn line_end(text: &str, offset: usize) -> usize {
    match text[offset..].find('\n') {
        Some(i) => {
            let at = offset + i;
            if at > 0 && text.as_bytes()[at - 1] == b'\r' {
                at - 1
            } else {
                at
            }
        }
        None => text.len(),
    }
}

/// How far a block sequence's `-` is indented from its key in `text` (the file up to the
/// edit), as the nearest list before the edit does it (`Key:` then `  - item` is 2, `- item`
/// under the key is 0); 2 when there is none.
fn sequence_offset(text: &str) -> usize {
    let mut previous: Option<&str> = None;
    let mut found = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(key_line) = previous
            && trimmed.starts_with("- ")
        {
            let key_indent = key_line.len() - key_line.trim_start().len();
            let key_indent = key_indent
                + if key_line.trim_start().starts_with("- ") {
                    2
                } else {
                    0
                };
            let dash_indent = line.len() - trimmed.len();
            found = Some(dash_indent.saturating_sub(key_indent));
        }
        let t = line.trim_end();
        previous = (t.ends_with(':') && !t.trim_start().starts_with('#')).then_some(line);
    }
    found.unwrap_or(2)
}

/// A YAML item as iamlint's help writes it (`!Sub "…"`, `!GetAtt A.B`, `!Ref A`, a plain or
/// double-quoted string) in JSON. `None` for anything else.
pub fn json_of_yaml(yaml: &str) -> Option<String> {
    let yaml = yaml.trim();
    let string = |s: &str| -> Option<String> {
        let s = s.trim();
        let inner = if s.starts_with('"') {
            s.strip_prefix('"')?.strip_suffix('"')?
        } else {
            s
        };
        if inner.contains(['"', '\\']) {
            return None;
        }
        Some(serde_json::Value::String(inner.to_string()).to_string())
    };
    if let Some(rest) = yaml.strip_prefix("!Sub ") {
        return Some(format!("{{\"Fn::Sub\": {}}}", string(rest)?));
    }
    if let Some(rest) = yaml.strip_prefix("!GetAtt ") {
        let (resource, attribute) = rest.trim().split_once('.')?;
        return Some(format!(
            "{{\"Fn::GetAtt\": [{}, {}]}}",
            string(resource)?,
            string(attribute)?
        ));
    }
    if let Some(rest) = yaml.strip_prefix("!Ref ") {
        return Some(format!("{{\"Ref\": {}}}", string(rest)?));
    }
    if yaml.starts_with(['!', '[', '{', '\'', '|', '>']) {
        return None;
    }
    string(yaml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_ends_inside_quotes() {
        assert_eq!(string_end("\"a:b\"", Syntax::Hcl), Some(4));
        assert_eq!(string_end("var.x", Syntax::Hcl), None);
        assert_eq!(string_end("\"a\"", Syntax::Json), Some(2));
        assert_eq!(
            string_end("{\"Fn::Sub\": \"a${X}\"}", Syntax::Json),
            Some(18)
        );
        assert_eq!(string_end("{\"Fn::Join\": [\"\", []]}", Syntax::Json), None);
        assert_eq!(string_end("arn:aws:x", Syntax::Yaml), Some(9));
        assert_eq!(string_end("!Sub 'arn:${X}'", Syntax::Yaml), Some(14));
        assert_eq!(string_end("!Sub arn:${X}", Syntax::Yaml), Some(13));
        assert_eq!(string_end("Fn::Sub: arn:${X}", Syntax::Yaml), Some(17));
        assert_eq!(string_end("!Ref Secret", Syntax::Yaml), None);
        assert_eq!(string_end("'a''b'   # c", Syntax::Yaml), Some(5));
        assert_eq!(string_end("\"a\\\"b\" x", Syntax::Yaml), None);
        assert_eq!(string_end("!Join [x]", Syntax::Yaml), None);
    }

    const RESOURCE: &[&str] = &["Resource", "resources"];

    #[test]
    fn resource_keys() {
        assert!(after_key("  Resource: ", RESOURCE));
        assert!(after_key("  Resource:\n    - ", RESOURCE));
        assert!(after_key("\"Resource\": ", RESOURCE));
        assert!(after_key("    resources = ", RESOURCE));
        assert!(after_key("    Resource  = ", RESOURCE));
        assert!(!after_key("    BucketName: ", RESOURCE));
        assert!(!after_key("    NotResource: ", RESOURCE));
    }

    #[test]
    fn hcl_blocks_end_at_their_brace() {
        let text = "resource \"a\" \"b\" {\n  x = \"${f({})}\" # }\n  y = { z = 1 }\n}\nrest";
        let open = text.find('{').unwrap();
        assert_eq!(block_end(text, open), Some(text.find("}\nrest").unwrap()));
    }

    #[test]
    fn yaml_items_in_json() {
        assert_eq!(
            json_of_yaml("!Sub \"${Bucket.Arn}/*\"").as_deref(),
            Some("{\"Fn::Sub\": \"${Bucket.Arn}/*\"}")
        );
        assert_eq!(
            json_of_yaml("!GetAtt Bucket.Arn").as_deref(),
            Some("{\"Fn::GetAtt\": [\"Bucket\", \"Arn\"]}")
        );
        assert_eq!(
            json_of_yaml("arn:aws:s3:::b").as_deref(),
            Some("\"arn:aws:s3:::b\"")
        );
        assert_eq!(json_of_yaml("!If [a, b, c]"), None);
    }

    #[test]
    fn sequence_offsets() {
        assert_eq!(sequence_offset("a:\n  - x\n"), 2);
        assert_eq!(sequence_offset("a:\n- x\nb:\n  - y\n"), 2);
        assert_eq!(sequence_offset("a:\n- x\n"), 0);
        assert_eq!(sequence_offset("  - b:\n      - x\n"), 2);
        assert_eq!(sequence_offset("a: 1\n"), 2);
    }
}
