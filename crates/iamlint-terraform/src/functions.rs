//! Terraform's built-in functions, as far as policies and ARNs are built with them.
//!
//! Each function computes its result where its arguments are known and gives an unknown value
//! otherwise; a function iamlint does not know gives an unknown value, never an error.

use crate::eval::{
    EvalError, Evaluator, ScopeRef, fmt_num, from_parts, scalar_text, string_parts, unknown,
    values_equal,
};
use crate::template;
use hcl_edit::expr::FuncArgs;
use iamlint_core::{FileId, Key, Map, Part, Span, Value, ValueKind};

type Eval = Result<Value, EvalError>;

pub fn call(
    ev: &Evaluator<'_>,
    scope: ScopeRef,
    name: &str,
    args: &FuncArgs,
    file: FileId,
    span: Span,
) -> Eval {
    // Functions whose arguments are evaluated one by one, catching errors.
    match name {
        "try" => {
            for arg in args.iter() {
                if let Ok(v) = ev.eval_arg(&scope, arg, file) {
                    return Ok(v);
                }
            }
            return Err(EvalError);
        }
        "can" => {
            return Ok(Value::new(
                ValueKind::Bool(
                    args.iter()
                        .next()
                        .is_some_and(|a| ev.eval_arg(&scope, a, file).is_ok()),
                ),
                span,
            ));
        }
        _ => {}
    }
    let mut values = Vec::new();
    for arg in args.iter() {
        values.push(ev.eval_arg(&scope, arg, file)?);
    }
    // `f(list...)`: the last argument expanded.
    if args.expand_final()
        && let Some(last) = values.pop()
    {
        match last.kind {
            ValueKind::List(items) => values.extend(items),
            _ => return Ok(unknown(format!("{name}(...)"), span)),
        }
    }
    let unknown_result = || Ok(unknown(format!("{name}(...)"), span));
    let arg = |i: usize| values.get(i);
    let text = |i: usize| arg(i).and_then(scalar_text);
    match name {
        "jsonencode" | "yamlencode" | "tolist" | "tomap" | "tostring" | "tonumber" | "tobool"
        | "sensitive" | "nonsensitive" | "type" => match values.into_iter().next() {
            Some(v) => Ok(v),
            None => unknown_result(),
        },
        "jsondecode" => match arg(0) {
            Some(v) if matches!(v.kind, ValueKind::Map(_) | ValueKind::List(_)) => Ok(v.clone()),
            Some(v) => {
                Ok(template::parse_json_string(v)
                    .unwrap_or_else(|| unknown("jsondecode(...)", span)))
            }
            None => unknown_result(),
        },
        "file" => {
            let Some(path) = text(0) else {
                return unknown_result();
            };
            match ev.read_file(&path) {
                Some(f) => {
                    let segs = vec![template::Seg::Lit {
                        text: f.text.to_string(),
                        span: Span::new(f.id, 0, f.text.len()),
                    }];
                    Ok(template::build(
                        ev,
                        segs,
                        f.id,
                        Span::new(f.id, 0, f.text.len()),
                    ))
                }
                None => unknown_result(),
            }
        }
        "templatefile" => {
            let Some(path) = text(0) else {
                return unknown_result();
            };
            let vars: Vec<(String, Value)> = match arg(1).map(|v| &v.kind) {
                Some(ValueKind::Map(m)) => {
                    m.iter().map(|(k, v)| (k.name.clone(), v.clone())).collect()
                }
                _ => Vec::new(),
            };
            match ev.read_file(&path) {
                Some(f) => ev.eval_file_template(&f, &vars, span),
                None => unknown_result(),
            }
        }
        "format" => {
            let Some(fmt) = arg(0).and_then(|v| v.as_str().map(str::to_string)) else {
                return unknown_result();
            };
            let mut parts = Vec::new();
            let mut next = 1;
            let mut chars = fmt.chars().peekable();
            let mut lit = String::new();
            while let Some(c) = chars.next() {
                if c != '%' {
                    lit.push(c);
                    continue;
                }
                // Flags and width are skipped; the verb decides.
                let mut verb = None;
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() || d == '%' {
                        verb = Some(d);
                        break;
                    }
                }
                match verb {
                    Some('%') => lit.push('%'),
                    Some(_) => {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                        match values.get(next).and_then(string_parts) {
                            Some(p) => parts.extend(p),
                            None => return unknown_result(),
                        }
                        next += 1;
                    }
                    None => return unknown_result(),
                }
            }
            parts.push(Part::Lit(lit));
            Ok(from_parts(parts, span))
        }
        "join" => {
            let (Some(sep), Some(list)) = (text(0), arg(1)) else {
                return unknown_result();
            };
            let mut items = Vec::new();
            for l in &values[1..] {
                match &l.kind {
                    ValueKind::List(x) => items.extend(x.iter()),
                    _ => return unknown_result(),
                }
            }
            let _ = list;
            let mut parts = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    parts.push(Part::Lit(sep.clone()));
                }
                match string_parts(item) {
                    Some(p) => parts.extend(p),
                    None => return unknown_result(),
                }
            }
            Ok(from_parts(parts, span))
        }
        "split" => match (text(0), text(1)) {
            (Some(sep), Some(s)) if !sep.is_empty() => Ok(list(
                s.split(sep.as_str())
                    .map(|p| Value::string(p, span))
                    .collect(),
                span,
            )),
            _ => unknown_result(),
        },
        "concat" | "setunion" => {
            let mut out: Vec<Value> = Vec::new();
            for v in &values {
                match &v.kind {
                    ValueKind::List(items) => {
                        for i in items {
                            if name == "concat" || !out.iter().any(|o| values_equal(o, i)) {
                                out.push(i.clone());
                            }
                        }
                    }
                    _ => return unknown_result(),
                }
            }
            Ok(list(out, span))
        }
        "merge" => {
            let mut out = Map::default();
            for v in &values {
                match &v.kind {
                    ValueKind::Map(m) => {
                        for (k, val) in m.iter() {
                            out.insert(k.clone(), val.clone());
                        }
                    }
                    ValueKind::Null => {}
                    _ => return unknown_result(),
                }
            }
            Ok(Value::new(ValueKind::Map(out), span))
        }
        "lookup" => match (arg(0).map(|v| &v.kind), text(1)) {
            (Some(ValueKind::Map(m)), Some(k)) => match m.get(&k) {
                Some(v) => Ok(v.clone()),
                None => arg(2).cloned().ok_or(EvalError),
            },
            _ => unknown_result(),
        },
        "element" => match (arg(0).map(|v| &v.kind), arg(1).and_then(scalar_text)) {
            (Some(ValueKind::List(items)), Some(i)) if !items.is_empty() => {
                match i.parse::<usize>() {
                    Ok(i) => Ok(items[i % items.len()].clone()),
                    Err(_) => unknown_result(),
                }
            }
            _ => unknown_result(),
        },
        "toset" | "distinct" => match arg(0).map(|v| &v.kind) {
            Some(ValueKind::List(items)) => {
                let mut out: Vec<Value> = Vec::new();
                for i in items {
                    if !out.iter().any(|o| values_equal(o, i)) {
                        out.push(i.clone());
                    }
                }
                Ok(list(out, span))
            }
            _ => unknown_result(),
        },
        "flatten" => match arg(0) {
            Some(v) => match flatten(v) {
                Some(items) => Ok(list(items, span)),
                None => unknown_result(),
            },
            None => unknown_result(),
        },
        "compact" => match arg(0).map(|v| &v.kind) {
            Some(ValueKind::List(items)) => Ok(list(
                items
                    .iter()
                    .filter(|i| !matches!(&i.kind, ValueKind::Null) && i.as_str() != Some(""))
                    .cloned()
                    .collect(),
                span,
            )),
            _ => unknown_result(),
        },
        "one" => match arg(0).map(|v| &v.kind) {
            Some(ValueKind::List(items)) if items.is_empty() => Ok(Value::null(span)),
            Some(ValueKind::List(items)) if items.len() == 1 => Ok(items[0].clone()),
            Some(ValueKind::List(_)) => Err(EvalError),
            _ => unknown_result(),
        },
        "replace" => match (text(0), text(1), text(2)) {
            (Some(s), Some(from), Some(to)) if !(from.starts_with('/') && from.ends_with('/')) => {
                Ok(Value::string(s.replace(&from, &to), span))
            }
            _ => unknown_result(),
        },
        "lower" | "upper" | "trimspace" | "title" | "chomp" => match text(0) {
            Some(s) => Ok(Value::string(
                match name {
                    "lower" => s.to_lowercase(),
                    "upper" => s.to_uppercase(),
                    "chomp" => s.trim_end_matches(['\n', '\r']).to_string(),
                    "title" => s
                        .split(' ')
                        .map(|w| {
                            let mut c = w.chars();
                            c.next()
                                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                                .unwrap_or_default()
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                    _ => s.trim().to_string(),
                },
                span,
            )),
            None => unknown_result(),
        },
        "trimprefix" | "trimsuffix" | "startswith" | "endswith" => match (text(0), text(1)) {
            (Some(s), Some(p)) => Ok(match name {
                "trimprefix" => Value::string(s.strip_prefix(&p).unwrap_or(&s), span),
                "trimsuffix" => Value::string(s.strip_suffix(&p).unwrap_or(&s), span),
                "startswith" => Value::new(ValueKind::Bool(s.starts_with(&p)), span),
                _ => Value::new(ValueKind::Bool(s.ends_with(&p)), span),
            }),
            _ => unknown_result(),
        },
        "substr" => match (
            text(0),
            text(1).and_then(|t| t.parse::<i64>().ok()),
            text(2).and_then(|t| t.parse::<i64>().ok()),
        ) {
            (Some(s), Some(off), Some(len)) if off >= 0 => {
                let chars: Vec<char> = s.chars().collect();
                let start = (off as usize).min(chars.len());
                let end = if len < 0 {
                    chars.len()
                } else {
                    (start + len as usize).min(chars.len())
                };
                Ok(Value::string(
                    chars[start..end].iter().collect::<String>(),
                    span,
                ))
            }
            _ => unknown_result(),
        },
        "coalesce" => {
            for v in &values {
                match &v.kind {
                    ValueKind::Null => continue,
                    ValueKind::String(s) if s.is_empty() => continue,
                    _ => return Ok(v.clone()),
                }
            }
            Err(EvalError)
        }
        "coalescelist" => {
            for v in &values {
                match &v.kind {
                    ValueKind::List(items) if items.is_empty() => continue,
                    ValueKind::Null => continue,
                    _ => return Ok(v.clone()),
                }
            }
            Err(EvalError)
        }
        "length" => match arg(0).map(|v| &v.kind) {
            Some(ValueKind::List(items)) => {
                Ok(Value::new(ValueKind::Number(items.len().to_string()), span))
            }
            Some(ValueKind::Map(m)) => Ok(Value::new(
                ValueKind::Number(
                    m.keys()
                        .filter(|k| *k != crate::eval::RESOURCE_MARKER)
                        .count()
                        .to_string(),
                ),
                span,
            )),
            Some(ValueKind::String(s)) => Ok(Value::new(
                ValueKind::Number(s.chars().count().to_string()),
                span,
            )),
            _ => unknown_result(),
        },
        "keys" | "values" => match arg(0).map(|v| &v.kind) {
            Some(ValueKind::Map(m)) => {
                let mut entries: Vec<(&Key, &Value)> = m
                    .iter()
                    .filter(|(k, _)| k.name != crate::eval::RESOURCE_MARKER)
                    .collect();
                entries.sort_by(|a, b| a.0.name.cmp(&b.0.name));
                Ok(list(
                    entries
                        .into_iter()
                        .map(|(k, v)| {
                            if name == "keys" {
                                Value::string(k.name.clone(), k.span)
                            } else {
                                v.clone()
                            }
                        })
                        .collect(),
                    span,
                ))
            }
            _ => unknown_result(),
        },
        "contains" => match arg(0).map(|v| &v.kind) {
            Some(ValueKind::List(items)) if arg(1).is_some_and(is_scalar) => {
                let needle = arg(1).cloned().unwrap_or_else(|| Value::null(span));
                if items.iter().all(is_scalar) {
                    Ok(Value::new(
                        ValueKind::Bool(items.iter().any(|i| values_equal(i, &needle))),
                        span,
                    ))
                } else {
                    unknown_result()
                }
            }
            _ => unknown_result(),
        },
        "zipmap" => match (arg(0).map(|v| &v.kind), arg(1).map(|v| &v.kind)) {
            (Some(ValueKind::List(ks)), Some(ValueKind::List(vs))) if ks.len() == vs.len() => {
                let mut out = Map::default();
                for (k, v) in ks.iter().zip(vs) {
                    let Some(name) = scalar_text(k) else {
                        return unknown_result();
                    };
                    out.insert(Key { name, span: k.span }, v.clone());
                }
                Ok(Value::new(ValueKind::Map(out), span))
            }
            _ => unknown_result(),
        },
        "slice" => match (
            arg(0).map(|v| &v.kind),
            text(1).and_then(|t| t.parse::<usize>().ok()),
            text(2).and_then(|t| t.parse::<usize>().ok()),
        ) {
            (Some(ValueKind::List(items)), Some(a), Some(b)) if a <= b && b <= items.len() => {
                Ok(list(items[a..b].to_vec(), span))
            }
            _ => unknown_result(),
        },
        "reverse" => match arg(0).map(|v| &v.kind) {
            Some(ValueKind::List(items)) => Ok(list(items.iter().rev().cloned().collect(), span)),
            _ => unknown_result(),
        },
        "sort" => match arg(0).map(|v| &v.kind) {
            Some(ValueKind::List(items)) if items.iter().all(|i| i.as_str().is_some()) => {
                let mut sorted = items.clone();
                sorted.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                Ok(list(sorted, span))
            }
            _ => unknown_result(),
        },
        "range" => {
            let nums: Option<Vec<f64>> = values
                .iter()
                .map(|v| scalar_text(v).and_then(|t| t.parse().ok()))
                .collect();
            match nums.as_deref() {
                Some([end]) => range(0.0, *end, 1.0, span),
                Some([start, end]) => range(*start, *end, 1.0, span),
                Some([start, end, step]) => range(*start, *end, *step, span),
                _ => unknown_result(),
            }
        }
        "max" | "min" => {
            let nums: Option<Vec<f64>> = values
                .iter()
                .map(|v| scalar_text(v).and_then(|t| t.parse().ok()))
                .collect();
            match nums {
                Some(n) if !n.is_empty() => {
                    let r = if name == "max" {
                        n.iter().cloned().fold(f64::MIN, f64::max)
                    } else {
                        n.iter().cloned().fold(f64::MAX, f64::min)
                    };
                    Ok(Value::new(ValueKind::Number(fmt_num(r)), span))
                }
                _ => unknown_result(),
            }
        }
        _ => unknown_result(),
    }
}

fn is_scalar(v: &Value) -> bool {
    scalar_text(v).is_some() || matches!(v.kind, ValueKind::Null)
}

fn list(items: Vec<Value>, span: Span) -> Value {
    Value::new(ValueKind::List(items), span)
}

fn range(start: f64, end: f64, step: f64, span: Span) -> Eval {
    if step == 0.0 || ((end - start) / step) > 1024.0 {
        return Ok(unknown("range(...)", span));
    }
    let mut out = Vec::new();
    let mut x = start;
    while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
        out.push(Value::new(ValueKind::Number(fmt_num(x)), span));
        x += step;
    }
    Ok(list(out, span))
}

fn flatten(v: &Value) -> Option<Vec<Value>> {
    match &v.kind {
        ValueKind::List(items) => {
            let mut out = Vec::new();
            for i in items {
                match &i.kind {
                    ValueKind::List(_) => out.extend(flatten(i)?),
                    ValueKind::Unknown(_) | ValueKind::Choice(_) => return None,
                    _ => out.push(i.clone()),
                }
            }
            Some(out)
        }
        _ => None,
    }
}
