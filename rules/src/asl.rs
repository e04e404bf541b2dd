//! Amazon States Language definitions of state machines: the definition as a value tree
//! (`Definition`, `DefinitionString` JSON text, possibly `Fn::Sub`), with
//! `DefinitionSubstitutions` applied, and its `Task` states wherever they are nested
//! (`Parallel` branches, `Map` iterators and item processors).

use iamlint_core::{Key, Map, Part, Resource, Span, Value, ValueKind};

/// Marks an interpolation of `Fn::Sub` text while the text is read as JSON.
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';
/// State machines nest Parallel and Map states; deeper than this is not a real definition.
const MAX_DEPTH: usize = 16;

/// One `Task` state: its name and its value (`Type`, `Resource`, `Parameters`/`Arguments`).
pub struct TaskState {
    pub name: Key,
    pub state: Value,
}

/// The definition of an `AWS::StepFunctions::StateMachine`, with its substitutions made.
/// `None` when there is none iamlint can read (an S3 location, unparsable text).
pub fn definition(machine: &Resource) -> Option<Value> {
    let mut definition = match machine.property("Definition") {
        Some(d) if d.as_map().is_some() => d.clone(),
        Some(d) => parse_text(d)?,
        None => parse_text(machine.property("DefinitionString")?)?,
    };
    if let Some(subs) = machine
        .property("DefinitionSubstitutions")
        .and_then(Value::as_map)
    {
        substitute(&mut definition, subs, 0);
    }
    Some(definition)
}

/// JSON text (a string, or a template whose interpolations are kept as typed parts).
fn parse_text(value: &Value) -> Option<Value> {
    match &value.kind {
        ValueKind::String(s) => {
            let json: serde_json::Value = serde_json::from_str(s).ok()?;
            Some(Value::from_json(&json, value.span))
        }
        ValueKind::Template(parts) => {
            let mut text = String::new();
            let mut holes = Vec::new();
            for part in parts {
                match part {
                    Part::Lit(l) => text.push_str(l),
                    other => {
                        text.push(OPEN);
                        text.push_str(&holes.len().to_string());
                        text.push(CLOSE);
                        holes.push(other.clone());
                    }
                }
            }
            let json: serde_json::Value = serde_json::from_str(&text).ok()?;
            let mut out = Value::from_json(&json, value.span);
            fill_holes(&mut out, &holes, 0);
            Some(out)
        }
        _ => None,
    }
}

/// Turns strings holding interpolation marks back into templates.
fn fill_holes(value: &mut Value, holes: &[Part], depth: usize) {
    if depth > 64 {
        return;
    }
    match &mut value.kind {
        ValueKind::String(s) if s.contains(OPEN) => {
            let mut parts = Vec::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find(OPEN) {
                let (lit, tail) = rest.split_at(start);
                if !lit.is_empty() {
                    parts.push(Part::Lit(lit.to_string()));
                }
                let tail = &tail[OPEN.len_utf8()..];
                let Some(end) = tail.find(CLOSE) else {
                    return;
                };
                let Some(hole) = tail[..end].parse::<usize>().ok().and_then(|i| holes.get(i))
                else {
                    return;
                };
                parts.push(hole.clone());
                rest = &tail[end + CLOSE.len_utf8()..];
            }
            if !rest.is_empty() {
                parts.push(Part::Lit(rest.to_string()));
            }
            value.kind = match parts.as_slice() {
                [Part::Ref(r)] => ValueKind::Ref(r.clone()),
                _ => ValueKind::Template(parts),
            };
        }
        ValueKind::List(items) => {
            for item in items {
                fill_holes(item, holes, depth + 1);
            }
        }
        ValueKind::Map(map) => {
            for (_, v) in &mut map.entries {
                fill_holes(v, holes, depth + 1);
            }
        }
        _ => {}
    }
}

/// Replaces `${name}` in the definition's strings by the value `DefinitionSubstitutions`
/// gives `name`, keeping references typed.
fn substitute(value: &mut Value, subs: &Map, depth: usize) {
    if depth > 64 {
        return;
    }
    let span = value.span;
    match &mut value.kind {
        ValueKind::String(s) if s.contains("${") => {
            if let Some(replaced) = substituted(s, subs, span) {
                *value = replaced;
            }
        }
        ValueKind::Template(parts) => {
            let mut out = Vec::new();
            for part in parts.iter() {
                match part {
                    Part::Lit(l) if l.contains("${") => match substituted(l, subs, span) {
                        Some(v) => match v.kind {
                            ValueKind::String(s) => out.push(Part::Lit(s)),
                            ValueKind::Ref(r) => out.push(Part::Ref(r)),
                            ValueKind::Template(p) => out.extend(p),
                            _ => return,
                        },
                        None => out.push(part.clone()),
                    },
                    other => out.push(other.clone()),
                }
            }
            *parts = out;
        }
        ValueKind::List(items) => {
            for item in items {
                substitute(item, subs, depth + 1);
            }
        }
        ValueKind::Map(map) => {
            for (_, v) in &mut map.entries {
                substitute(v, subs, depth + 1);
            }
        }
        _ => {}
    }
}

/// `s` with its `${name}` placeholders replaced; `None` when it names no substitution.
fn substituted(s: &str, subs: &Map, span: Span) -> Option<Value> {
    let mut parts: Vec<Part> = Vec::new();
    let mut rest = s;
    let mut any = false;
    let mut whole: Option<Value> = None;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        let name = &after[..end];
        let Some(sub) = subs.get(name) else {
            parts.push(Part::Lit(rest[..start + 2 + end + 1].to_string()));
            rest = &after[end + 1..];
            continue;
        };
        any = true;
        if start > 0 {
            parts.push(Part::Lit(rest[..start].to_string()));
        }
        if s == format!("${{{name}}}") {
            whole = Some(sub.clone());
        }
        match &sub.kind {
            ValueKind::String(v) | ValueKind::Number(v) => parts.push(Part::Lit(v.clone())),
            ValueKind::Ref(r) => parts.push(Part::Ref(r.clone())),
            ValueKind::Template(p) => parts.extend(p.iter().cloned()),
            ValueKind::Unknown(u) => parts.push(Part::Unknown(u.clone())),
            _ => return None,
        }
        rest = &after[end + 1..];
    }
    if !any {
        return None;
    }
    if let Some(whole) = whole {
        return Some(whole);
    }
    if !rest.is_empty() {
        parts.push(Part::Lit(rest.to_string()));
    }
    // Adjacent literals read more simply merged.
    let mut merged: Vec<Part> = Vec::new();
    for part in parts {
        match (merged.last_mut(), part) {
            (Some(Part::Lit(a)), Part::Lit(b)) => a.push_str(&b),
            (_, p) => merged.push(p),
        }
    }
    Some(Value::new(
        match merged.as_slice() {
            [Part::Lit(l)] => ValueKind::String(l.clone()),
            _ => ValueKind::Template(merged),
        },
        span,
    ))
}

/// Every `Task` state of a definition, in written order, nested ones included.
pub fn tasks(definition: &Value) -> Vec<TaskState> {
    let mut out = Vec::new();
    walk(definition, &mut out, 0);
    out
}

fn walk(machine: &Value, out: &mut Vec<TaskState>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some(states) = machine.get("States").and_then(Value::as_map) else {
        return;
    };
    for (name, state) in states.iter() {
        match state.get("Type").and_then(Value::as_str) {
            Some("Task") => out.push(TaskState {
                name: name.clone(),
                state: state.clone(),
            }),
            Some("Parallel") => {
                for branch in state
                    .get("Branches")
                    .and_then(Value::as_list)
                    .unwrap_or_default()
                {
                    walk(branch, out, depth + 1);
                }
            }
            Some("Map") => {
                for key in ["Iterator", "ItemProcessor"] {
                    if let Some(inner) = state.get(key) {
                        walk(inner, out, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }
}
