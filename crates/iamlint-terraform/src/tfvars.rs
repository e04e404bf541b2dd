//! Values of the root module's variables: `terraform.tfvars`, `*.auto.tfvars` (and their
//! `.json` forms), `--var-file` and `--var`, in Terraform's order of precedence (later wins;
//! "Variable Definition Precedence" in the Terraform language documentation), above Terragrunt's
//! `inputs` (environment variables), which are unknown.
//!
//! Terraform reads other variable definitions files only when `-var-file` names them
//! (<https://developer.hashicorp.com/terraform/language/values/variables#variable-definitions-tfvars-files>),
//! and a root module that ships some (`prod.tfvars`, `env/dev.tfvars`) is deployed with one of
//! them. So when no `--var-file` is given, a variable such a file sets has no certain value:
//! it is unknown, not its default, and nothing that depends on it is reported as certain.

use crate::eval::Options;
use crate::module::{Module, object_key_name, span_of};
use crate::unit::UnitLoader;
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use iamlint_core::{FileId, Key, Map, Unknown, Value, ValueKind};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub fn root_values(
    root: &Module,
    loader: &dyn UnitLoader,
    options: &Options,
) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    // Terragrunt passes `inputs` as `TF_VAR_` environment variables, below every variable
    // definitions file in precedence.
    if options.inputs_from_outside {
        for v in &root.variables {
            let value = Value::new(
                ValueKind::Unknown(Unknown::Parameter {
                    name: v.name.clone(),
                    default: None,
                }),
                v.span,
            );
            out.insert(v.name.clone(), value);
        }
    }
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
            if let Ok(Expression::Object(obj)) =
                hcl_edit::parser::parse_expr(&crate::json_syntax::native(text))
            {
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
    if options.var_files.is_empty() {
        for path in var_file_candidates(&root.dir) {
            let Some(file) = loader.read_file(&path) else {
                continue;
            };
            for (name, span) in assigned_names(&path, &file.text, file.id) {
                let value = Value::new(
                    ValueKind::Unknown(Unknown::Parameter {
                        name: name.clone(),
                        default: None,
                    }),
                    span,
                );
                out.insert(name, value);
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

/// Whether Terraform loads this variable definitions file without being told to.
fn auto_loaded(name: &str) -> bool {
    matches!(name, "terraform.tfvars" | "terraform.tfvars.json")
        || name.ends_with(".auto.tfvars")
        || name.ends_with(".auto.tfvars.json")
}

fn is_var_file(name: &str) -> bool {
    name.ends_with(".tfvars") || name.ends_with(".tfvars.json")
}

/// The variable definitions files a root module ships for `-var-file`: those in its folder that
/// Terraform does not load by itself, and every one in its subfolders (two levels down) that
/// hold no Terraform configuration (`env/prod.tfvars`, `environments/dev/terraform.tfvars`).
fn var_file_candidates(dir: &Path) -> Vec<PathBuf> {
    fn entries(dir: &Path) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        out.sort();
        out
    }
    fn name(p: &Path) -> &str {
        p.file_name().and_then(|n| n.to_str()).unwrap_or("")
    }
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        let items = entries(dir);
        if items
            .iter()
            .any(|p| p.is_file() && crate::is_terraform_file(p))
        {
            return;
        }
        for p in &items {
            if p.is_file() && is_var_file(name(p)) {
                out.push(p.clone());
            } else if depth > 0 && p.is_dir() && !name(p).starts_with('.') {
                walk(p, depth - 1, out);
            }
        }
    }
    let mut out = Vec::new();
    for p in entries(dir) {
        let n = name(&p);
        if p.is_file() && is_var_file(n) && !auto_loaded(n) {
            out.push(p);
        } else if p.is_dir() && !n.starts_with('.') {
            walk(&p, 1, &mut out);
        }
    }
    out
}

/// The variables a variable definitions file sets, with where.
fn assigned_names(path: &Path, text: &str, file: FileId) -> Vec<(String, iamlint_core::Span)> {
    let text = text.trim_start_matches('\u{feff}');
    let mut out = Vec::new();
    if path.to_string_lossy().ends_with(".json") {
        if let Ok(Expression::Object(obj)) =
            hcl_edit::parser::parse_expr(&crate::json_syntax::native(text))
        {
            for (k, _) in obj.iter() {
                if let Some(name) = object_key_name(k) {
                    out.push((name, span_of(file, k.span())));
                }
            }
        }
    } else if let Ok(body) = hcl_edit::parser::parse_body(text) {
        for attr in body.attributes() {
            out.push((
                attr.key.as_str().to_string(),
                span_of(file, attr.key.span()),
            ));
        }
    }
    out
}
