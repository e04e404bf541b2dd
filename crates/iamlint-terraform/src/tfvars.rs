//! Values of the root module's variables: `terraform.tfvars`, `*.auto.tfvars` (and their
//! `.json` forms), `--var-file` and `--var`, in Terraform's order of precedence (later wins;
//! "Variable Definition Precedence" in the Terraform language documentation).

use crate::eval::Options;
use crate::module::{Module, object_key_name, span_of};
use crate::unit::UnitLoader;
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use iamlint_core::{FileId, Key, Map, Value, ValueKind};
use std::collections::HashMap;

pub fn root_values(
    root: &Module,
    loader: &dyn UnitLoader,
    options: &Options,
) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    let mut files = Vec::new();
    for name in ["terraform.tfvars", "terraform.tfvars.json"] {
        files.push(root.dir.join(name));
    }
    let mut auto: Vec<_> = std::fs::read_dir(&root.dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json"))
        })
        .collect();
    auto.sort();
    files.extend(auto);
    files.extend(options.var_files.iter().cloned());
    for path in files {
        if !path.is_file() {
            continue;
        }
        let Some(file) = loader.read_file(&path) else {
            continue;
        };
        let text = file.text.trim_start_matches('\u{feff}');
        if path.to_string_lossy().ends_with(".json") {
            if let Ok(Expression::Object(obj)) = hcl_edit::parser::parse_expr(text) {
                for (k, v) in obj.iter() {
                    if let Some(name) = object_key_name(k) {
                        out.insert(name, literal(v.expr(), file.id));
                    }
                }
            }
            continue;
        }
        if let Ok(body) = hcl_edit::parser::parse_body(text) {
            for attr in body.attributes() {
                out.insert(attr.key.as_str().to_string(), literal(&attr.value, file.id));
            }
        }
    }
    for (name, raw) in &options.vars {
        // `-var 'name=value'`: a string, or HCL for lists and maps.
        let span = root
            .files
            .first()
            .map_or_else(iamlint_core::Span::default, |f| {
                iamlint_core::Span::file_start(f.id)
            });
        let value = match hcl_edit::parser::parse_expr(raw) {
            Ok(e @ (Expression::Array(_) | Expression::Object(_))) => {
                let mut v = literal(&e, FileId(u32::MAX));
                clear_spans(&mut v, span);
                v
            }
            _ => Value::string(raw.clone(), span),
        };
        out.insert(name.clone(), value);
    }
    out
}

fn clear_spans(v: &mut Value, span: iamlint_core::Span) {
    v.span = span;
    match &mut v.kind {
        ValueKind::List(items) => items.iter_mut().for_each(|i| clear_spans(i, span)),
        ValueKind::Map(m) => m.entries.iter_mut().for_each(|(k, v)| {
            k.span = span;
            clear_spans(v, span);
        }),
        _ => {}
    }
}

/// A constant expression (a variable definitions file holds only those).
fn literal(expr: &Expression, file: FileId) -> Value {
    let span = span_of(file, expr.span());
    match expr {
        Expression::Null(_) => Value::null(span),
        Expression::Bool(b) => Value::new(ValueKind::Bool(**b), span),
        Expression::Number(n) => Value::new(ValueKind::Number(n.as_ref().to_string()), span),
        Expression::String(s) => Value::string(s.as_str(), span),
        Expression::Array(items) => Value::new(
            ValueKind::List(items.iter().map(|i| literal(i, file)).collect()),
            span,
        ),
        Expression::Object(obj) => {
            let mut map = Map::default();
            for (k, v) in obj.iter() {
                if let Some(name) = object_key_name(k) {
                    map.insert(
                        Key {
                            name,
                            span: span_of(file, k.span()),
                        },
                        literal(v.expr(), file),
                    );
                }
            }
            Value::new(ValueKind::Map(map), span)
        }
        _ => crate::eval::unknown("a variable value that is not a constant", span),
    }
}
