//! `data "aws_iam_policy_document"`: the JSON document the provider builds from its blocks.
//!
//! Statements keep the spans of the blocks and arguments they come from, so a finding about a
//! `Resource` points at the `resources = [...]` line. The merge order is the provider's
//! (`website/docs/d/iam_policy_document.html.markdown` in terraform-provider-aws):
//! `source_policy_documents` first, then this document's statements (replacing source
//! statements with the same `sid`), then `override_policy_documents` (replacing statements
//! with the same `sid`, else appended).

use iamlint_core::{Key, Map, Span, Value, ValueKind};

fn key(name: &str, span: Span) -> Key {
    Key {
        name: name.to_string(),
        span,
    }
}

fn present(v: &Value) -> bool {
    !matches!(v.kind, ValueKind::Null)
}

/// The document a data source's configuration makes.
pub fn document(config: &Map, span: Span) -> Value {
    let mut statements: Vec<Value> = Vec::new();
    let mut unknown_part = false;
    // `source_policy_documents`/`override_policy_documents` (lists), and the older
    // `source_json`/`override_json` (one document each). A list or document iamlint cannot
    // read makes the whole document unknown: it may hold any statement.
    let docs = |list: &str, single: &str, unknown_part: &mut bool| -> Vec<Value> {
        let mut out = Vec::new();
        let mut push = |d: &Value, unknown_part: &mut bool| {
            let d = match &d.kind {
                ValueKind::String(_) => crate::template::parse_json_string(d),
                ValueKind::Map(_) => Some(d.clone()),
                ValueKind::Null => return,
                _ => None,
            };
            match d {
                Some(d) => out.push(d),
                None => *unknown_part = true,
            }
        };
        match config.get(list).map(|v| &v.kind) {
            Some(ValueKind::List(items)) => {
                for d in items {
                    push(d, unknown_part);
                }
            }
            None | Some(ValueKind::Null) => {}
            Some(_) => *unknown_part = true,
        }
        if let Some(d) = config.get(single) {
            push(d, unknown_part);
        }
        out
    };
    for source in docs("source_policy_documents", "source_json", &mut unknown_part) {
        match source.get("Statement") {
            Some(s) => statements.extend(s.as_one_or_many().into_iter().cloned()),
            None => unknown_part = true,
        }
    }
    if let Some(ValueKind::List(blocks)) = config.get("statement").map(|v| &v.kind) {
        for block in blocks {
            let Some(b) = block.as_map() else {
                unknown_part = true;
                continue;
            };
            let st = statement(b, block.span);
            merge_by_sid(&mut statements, st);
        }
    }
    for over in docs(
        "override_policy_documents",
        "override_json",
        &mut unknown_part,
    ) {
        match over.get("Statement") {
            Some(s) => {
                for st in s.as_one_or_many() {
                    merge_by_sid(&mut statements, st.clone());
                }
            }
            None => unknown_part = true,
        }
    }
    if unknown_part {
        return crate::eval::unknown("a policy document merged from unknown documents", span);
    }
    let mut doc = Map::default();
    let version = config
        .get("version")
        .filter(|v| present(v))
        .cloned()
        .unwrap_or_else(|| Value::string("2012-10-17", span));
    doc.insert(key("Version", version.span), version);
    if let Some(id) = config.get("policy_id").filter(|v| present(v)) {
        doc.insert(key("Id", id.span), id.clone());
    }
    doc.insert(
        key("Statement", span),
        Value::new(ValueKind::List(statements), span),
    );
    Value::new(ValueKind::Map(doc), span)
}

fn merge_by_sid(statements: &mut Vec<Value>, st: Value) {
    let sid = st
        .get("Sid")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    if let Some(sid) = sid
        && let Some(existing) = statements
            .iter_mut()
            .find(|s| s.get("Sid").and_then(Value::as_str) == Some(sid))
    {
        *existing = st;
        return;
    }
    statements.push(st);
}

fn statement(b: &Map, span: Span) -> Value {
    let mut st = Map::default();
    let copy = |st: &mut Map, from: &str, to: &str| {
        if let Some(v) = b.get(from).filter(|v| present(v)) {
            st.insert(key(to, v.span), v.clone());
        }
    };
    copy(&mut st, "sid", "Sid");
    match b.get("effect").filter(|v| present(v)) {
        Some(e) => st.insert(key("Effect", e.span), e.clone()),
        None => st.insert(key("Effect", span), Value::string("Allow", span)),
    }
    copy(&mut st, "actions", "Action");
    copy(&mut st, "not_actions", "NotAction");
    copy(&mut st, "resources", "Resource");
    copy(&mut st, "not_resources", "NotResource");
    for (block, element) in [
        ("principals", "Principal"),
        ("not_principals", "NotPrincipal"),
    ] {
        if let Some(p) = principals(b.get(block)) {
            st.insert(key(element, p.span), p);
        }
    }
    if let Some(ValueKind::List(conditions)) = b.get("condition").map(|v| &v.kind) {
        if let Some(u) = conditions.iter().find(|c| c.as_map().is_none()) {
            // Conditions iamlint cannot see: the statement applies or not, unknown.
            st.insert(key("Condition", u.span), u.clone());
            return Value::new(ValueKind::Map(st), span);
        }
        let mut cond = Map::default();
        for c in conditions {
            let (Some(test), Some(variable), Some(values)) = (
                c.get("test").and_then(|v| v.as_str().map(str::to_string)),
                c.get("variable")
                    .and_then(|v| v.as_str().map(str::to_string)),
                c.get("values"),
            ) else {
                continue;
            };
            let entry = match cond.get_mut(&test) {
                Some(e) => e,
                None => {
                    cond.insert(
                        key(&test, c.span),
                        Value::new(ValueKind::Map(Map::default()), c.span),
                    );
                    let Some(e) = cond.get_mut(&test) else {
                        continue;
                    };
                    e
                }
            };
            if let Some(m) = entry.as_map_mut() {
                m.insert(key(&variable, c.span), values.clone());
            }
        }
        if !cond.is_empty() {
            st.insert(
                key("Condition", span),
                Value::new(ValueKind::Map(cond), span),
            );
        }
    }
    Value::new(ValueKind::Map(st), span)
}

/// `principals { type = "AWS", identifiers = [...] }` blocks as a `Principal` element; the
/// type `*` with identifiers `["*"]` is `"Principal": "*"`.
fn principals(blocks: Option<&Value>) -> Option<Value> {
    let ValueKind::List(blocks) = &blocks?.kind else {
        return None;
    };
    let first = blocks.first()?;
    if let Some(u) = blocks.iter().find(|b| b.as_map().is_none()) {
        return Some(u.clone());
    }
    let mut out = Map::default();
    for b in blocks {
        let (Some(t), Some(ids)) = (
            b.get("type").and_then(|v| v.as_str().map(str::to_string)),
            b.get("identifiers"),
        ) else {
            continue;
        };
        if t == "*" {
            return Some(Value::string("*", b.span));
        }
        match out.get_mut(&t).map(|v| &mut v.kind) {
            Some(ValueKind::List(existing)) => {
                existing.extend(ids.as_one_or_many().into_iter().cloned());
            }
            _ => out.insert(
                key(&t, b.span),
                Value::new(
                    ValueKind::List(ids.as_one_or_many().into_iter().cloned().collect()),
                    ids.span,
                ),
            ),
        }
    }
    Some(Value::new(ValueKind::Map(out), first.span))
}
