//! One Terraform module: the `.tf` files of a folder, parsed with spans into its declarations.

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use hcl_edit::{Ident, Span as _};
use iamlint_core::{Diagnostic, FileId, SourceFile, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An expression with the file it was written in.
#[derive(Clone, Debug)]
pub struct Expr {
    pub expr: Expression,
    pub file: FileId,
}

impl Expr {
    pub fn span(&self) -> Span {
        span_of(self.file, self.expr.span())
    }
}

pub fn span_of(file: FileId, range: Option<std::ops::Range<usize>>) -> Span {
    match range {
        Some(r) => Span::new(file, r.start, r.end),
        None => Span::file_start(file),
    }
}

/// A `variable` block.
#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    pub default: Option<Expr>,
    pub span: Span,
}

/// Whether a resource block is a managed resource or a data source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Managed,
    Data,
}

/// A `resource` or `data` block.
#[derive(Clone, Debug)]
pub struct ResourceDecl {
    pub mode: Mode,
    pub tf_type: String,
    pub name: String,
    pub body: Body,
    pub file: FileId,
    /// The block's header (`resource "aws_iam_role" "fn"`): where findings about the resource
    /// as a whole point.
    pub span: Span,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
}

/// A `module` block.
#[derive(Clone, Debug)]
pub struct ModuleCall {
    pub name: String,
    /// The `source` argument, when it is a literal string.
    pub source: Option<String>,
    pub body: Body,
    pub file: FileId,
    pub span: Span,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
}

/// A `provider "aws"` block.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// `alias`, when the block has one (`None` for the default configuration).
    pub alias: Option<String>,
    pub body: Body,
    pub file: FileId,
}

/// A parsed module folder. Its files have ids local to the module (`0..files.len()`) until the
/// unit that uses it assigns them ([`crate::unit`]).
#[derive(Debug, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub files: Vec<Arc<SourceFile>>,
    pub variables: Vec<Variable>,
    pub locals: HashMap<String, Expr>,
    pub resources: Vec<ResourceDecl>,
    pub modules: Vec<ModuleCall>,
    pub outputs: HashMap<String, Expr>,
    /// `provider "aws" { region = ... }` without an alias.
    pub provider_region: Option<Expr>,
    /// Every `provider "aws"` block, aliased or not.
    pub aws_providers: Vec<ProviderConfig>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Meta-arguments of `resource`, `data` and `module` blocks: not part of the resource's
/// configuration.
pub const META_ARGUMENTS: &[&str] = &[
    "count",
    "for_each",
    "provider",
    "providers",
    "depends_on",
    "lifecycle",
    "provisioner",
    "connection",
    "source",
    "version",
];

impl Module {
    /// Parses the given files (all of one folder). File ids are `first_id..`.
    pub fn parse(dir: &Path, files: Vec<Arc<SourceFile>>) -> Module {
        let mut module = Module {
            dir: dir.to_path_buf(),
            ..Module::default()
        };
        // Override files are merged into the blocks they override, after every other file
        // ("Override Files" in the Terraform language documentation).
        let (overrides, normal): (Vec<_>, Vec<_>) =
            files.iter().partition(|f| is_override_file(&f.path));
        for file in normal {
            module.read_file(file);
        }
        for file in overrides {
            let mut over = Module {
                dir: dir.to_path_buf(),
                ..Module::default()
            };
            over.read_file(file);
            module.diagnostics.append(&mut over.diagnostics);
            module.merge_override(over);
        }
        module.files = files;
        module
    }

    fn read_file(&mut self, file: &SourceFile) {
        {
            let is_json = file.path.to_string_lossy().ends_with(".json");
            if is_json {
                self.read_json(file);
                return;
            }
            match hcl_edit::parser::parse_body(&file.text) {
                Ok(body) => self.read_body(&body, file.id),
                Err(e) => {
                    let loc = e.location();
                    let offset = file.offset_of(
                        u32::try_from(loc.line()).unwrap_or(u32::MAX),
                        u32::try_from(loc.column()).unwrap_or(u32::MAX),
                    );
                    self.diagnostics.push(Diagnostic::input_error(
                        Span::point(file.id, offset),
                        format!("invalid HCL: {}", e.message()),
                    ));
                }
            }
        }
    }

    /// Merges the blocks of an override file into this module: an argument replaces the
    /// argument of the same name, a nested block replaces every nested block of its type, a
    /// block that overrides nothing is added.
    fn merge_override(&mut self, over: Module) {
        for r in over.resources {
            match self
                .resources
                .iter_mut()
                .find(|d| d.mode == r.mode && d.tf_type == r.tf_type && d.name == r.name)
            {
                Some(d) => {
                    merge_body(&mut d.body, &r.body);
                    if r.count.is_some() {
                        d.count = r.count;
                    }
                    if r.for_each.is_some() {
                        d.for_each = r.for_each;
                    }
                }
                None => self.resources.push(r),
            }
        }
        for m in over.modules {
            match self.modules.iter_mut().find(|d| d.name == m.name) {
                Some(d) => {
                    merge_body(&mut d.body, &m.body);
                    if m.source.is_some() {
                        d.source = m.source;
                    }
                    if m.count.is_some() {
                        d.count = m.count;
                    }
                    if m.for_each.is_some() {
                        d.for_each = m.for_each;
                    }
                }
                None => self.modules.push(m),
            }
        }
        for v in over.variables {
            match self.variables.iter_mut().find(|d| d.name == v.name) {
                Some(d) if v.default.is_some() => d.default = v.default,
                Some(_) => {}
                None => self.variables.push(v),
            }
        }
        self.locals.extend(over.locals);
        self.outputs.extend(over.outputs);
        if over.provider_region.is_some() {
            self.provider_region = over.provider_region;
        }
        for p in over.aws_providers {
            match self.aws_providers.iter_mut().find(|d| d.alias == p.alias) {
                Some(d) => merge_body(&mut d.body, &p.body),
                None => self.aws_providers.push(p),
            }
        }
    }

    /// `.tf.json` files: JSON syntax of the same configuration language. They are read as
    /// HCL (a JSON object is a valid HCL expression), so the structure is the same; strings
    /// are first put in the native form of their templates ([`crate::json_syntax`]).
    fn read_json(&mut self, file: &SourceFile) {
        // Spans stay right: only the end is trimmed (the expression parser takes no trailing
        // newline), and a byte-order mark is blanked to spaces of the same length.
        let text = file.text.replacen('\u{feff}', "   ", 1);
        let text = crate::json_syntax::native(&text);
        let expr = match hcl_edit::parser::parse_expr(text.trim_end()) {
            Ok(e) => e,
            Err(e) => {
                self.diagnostics.push(Diagnostic::input_error(
                    Span::file_start(file.id),
                    format!("invalid JSON: {}", e.message()),
                ));
                return;
            }
        };
        let Some(top) = expr.as_object() else { return };
        for (key, value) in top.iter() {
            let block_type = object_key_name(key);
            let Some(obj) = value.expr().as_object() else {
                continue;
            };
            match block_type.as_deref() {
                Some("resource") | Some("data") => {
                    let mode = if block_type.as_deref() == Some("data") {
                        Mode::Data
                    } else {
                        Mode::Managed
                    };
                    for (tkey, tval) in obj.iter() {
                        let Some(tf_type) = object_key_name(tkey) else {
                            continue;
                        };
                        let Some(by_name) = tval.expr().as_object() else {
                            continue;
                        };
                        for (nkey, nval) in by_name.iter() {
                            let Some(name) = object_key_name(nkey) else {
                                continue;
                            };
                            let Some(body_obj) = nval.expr().as_object() else {
                                continue;
                            };
                            let body = json_object_to_body(body_obj);
                            let span = span_of(file.id, nval.expr().span());
                            let count = attr_expr(&body, "count", file.id);
                            let for_each = attr_expr(&body, "for_each", file.id);
                            self.resources.push(ResourceDecl {
                                mode,
                                tf_type: tf_type.clone(),
                                name,
                                body,
                                file: file.id,
                                span,
                                count,
                                for_each,
                            });
                        }
                    }
                }
                Some("locals") => {
                    for (k, v) in obj.iter() {
                        if let Some(name) = object_key_name(k) {
                            self.locals.insert(
                                name,
                                Expr {
                                    expr: v.expr().clone(),
                                    file: file.id,
                                },
                            );
                        }
                    }
                }
                Some("variable") => {
                    for (k, v) in obj.iter() {
                        if let Some(name) = object_key_name(k) {
                            let default = v.expr().as_object().and_then(|o| {
                                o.iter()
                                    .find(|(k, _)| object_key_name(k).as_deref() == Some("default"))
                                    .map(|(_, v)| Expr {
                                        expr: v.expr().clone(),
                                        file: file.id,
                                    })
                            });
                            self.variables.push(Variable {
                                name,
                                default,
                                span: span_of(file.id, v.expr().span()),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn read_body(&mut self, body: &Body, file: FileId) {
        for block in body.blocks() {
            self.read_block(block, file);
        }
    }

    fn read_block(&mut self, block: &Block, file: FileId) {
        let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
        let header = header_span(block, file);
        match (block.ident.as_str(), labels.as_slice()) {
            ("resource", [tf_type, name]) | ("data", [tf_type, name]) => {
                let mode = if block.ident.as_str() == "data" {
                    Mode::Data
                } else {
                    Mode::Managed
                };
                self.resources.push(ResourceDecl {
                    mode,
                    tf_type: (*tf_type).to_string(),
                    name: (*name).to_string(),
                    count: attr_expr(&block.body, "count", file),
                    for_each: attr_expr(&block.body, "for_each", file),
                    body: block.body.clone(),
                    file,
                    span: header,
                });
            }
            ("module", [name]) => {
                self.modules.push(ModuleCall {
                    name: (*name).to_string(),
                    source: block
                        .body
                        .get_attribute("source")
                        .and_then(|a| a.value.as_str())
                        .map(str::to_string),
                    count: attr_expr(&block.body, "count", file),
                    for_each: attr_expr(&block.body, "for_each", file),
                    body: block.body.clone(),
                    file,
                    span: header,
                });
            }
            ("variable", [name]) => self.variables.push(Variable {
                name: (*name).to_string(),
                default: attr_expr(&block.body, "default", file),
                span: header,
            }),
            ("output", [name]) => {
                if let Some(value) = attr_expr(&block.body, "value", file) {
                    self.outputs.insert((*name).to_string(), value);
                }
            }
            ("locals", []) => {
                for attr in block.body.attributes() {
                    self.locals.insert(
                        attr.key.as_str().to_string(),
                        Expr {
                            expr: attr.value.clone(),
                            file,
                        },
                    );
                }
            }
            ("provider", ["aws"]) => {
                let alias = block
                    .body
                    .get_attribute("alias")
                    .and_then(|a| a.value.as_str())
                    .map(str::to_string);
                if block.body.get_attribute("alias").is_none() {
                    self.provider_region = attr_expr(&block.body, "region", file);
                }
                self.aws_providers.push(ProviderConfig {
                    alias,
                    body: block.body.clone(),
                    file,
                });
            }
            _ => {}
        }
    }

    /// The local child-module sources this module calls (`./x`, `../x`), as folders.
    pub fn local_sources(&self) -> Vec<PathBuf> {
        self.modules
            .iter()
            .filter_map(|m| m.source.as_deref())
            .filter(|s| is_local_source(s))
            .map(|s| normalize(&self.dir.join(s)))
            .collect()
    }
}

/// `override.tf`, `*_override.tf` and their `.tf.json` forms.
pub fn is_override_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let stem = name
        .strip_suffix(".tf.json")
        .or_else(|| name.strip_suffix(".tf"))
        .unwrap_or("");
    stem == "override" || stem.ends_with("_override")
}

fn merge_body(base: &mut Body, over: &Body) {
    for attr in over.attributes() {
        base.remove_attribute(attr.key.as_str());
        base.push(attr.clone());
    }
    let mut replaced = std::collections::HashSet::new();
    for block in over.blocks() {
        if replaced.insert(block.ident.as_str().to_string()) {
            base.remove_blocks(block.ident.as_str());
        }
        base.push(block.clone());
    }
}

pub fn is_local_source(source: &str) -> bool {
    source.starts_with("./") || source.starts_with("../") || source == "." || source == ".."
}

/// `a/b/../c` → `a/c` without touching the file system (symlinks are not followed, as
/// Terraform resolves local sources lexically).
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            // `..` takes away the folder before it; at the start of a relative path (or after
            // other `..`) it stays, and above the root it is the root.
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::CurDir | Component::ParentDir) | None => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn header_span(block: &Block, file: FileId) -> Span {
    let start = block.ident.span().map(|r| r.start);
    let end = block
        .labels
        .last()
        .and_then(|l| l.span())
        .map(|r| r.end)
        .or_else(|| block.ident.span().map(|r| r.end));
    match (start, end) {
        (Some(s), Some(e)) => Span::new(file, s, e),
        _ => span_of(file, block.span()),
    }
}

pub fn attr_expr(body: &Body, name: &str, file: FileId) -> Option<Expr> {
    body.get_attribute(name).map(|a| Expr {
        expr: a.value.clone(),
        file,
    })
}

/// The provider a `provider = aws.prod` argument or a `providers = { aws = aws.prod }` entry
/// names, as written (`aws.prod`, `aws`).
pub fn provider_name(expr: &Expression) -> Option<String> {
    match expr {
        Expression::Variable(v) => Some(v.as_str().to_string()),
        Expression::Traversal(t) => {
            let mut name = provider_name(&t.expr)?;
            for op in &t.operators {
                match op.value() {
                    hcl_edit::expr::TraversalOperator::GetAttr(a) => {
                        name.push('.');
                        name.push_str(a.as_str());
                    }
                    _ => return None,
                }
            }
            Some(name)
        }
        Expression::String(s) => Some(s.as_str().to_string()),
        _ => None,
    }
}

/// The provider an object key of `providers = { ... }` names (`aws`, `aws.west`).
pub fn provider_key_name(key: &hcl_edit::expr::ObjectKey) -> Option<String> {
    match key {
        hcl_edit::expr::ObjectKey::Ident(i) => Some(i.as_str().to_string()),
        hcl_edit::expr::ObjectKey::Expression(e) => provider_name(e),
    }
}

pub fn object_key_name(key: &hcl_edit::expr::ObjectKey) -> Option<String> {
    match key {
        hcl_edit::expr::ObjectKey::Ident(i) => Some(i.as_str().to_string()),
        hcl_edit::expr::ObjectKey::Expression(e) => e.as_str().map(str::to_string),
    }
}

/// A `.tf.json` resource body (a JSON object) as an HCL body: keys whose values are objects
/// or lists of objects are nested blocks only where the provider schema says so, which a
/// JSON body cannot tell; they are kept as attributes, and the evaluator reads an attribute
/// holding an object where it expects a block.
fn json_object_to_body(obj: &hcl_edit::expr::Object) -> Body {
    let mut body = Body::new();
    for (key, value) in obj.iter() {
        if let Some(name) = object_key_name(key)
            && let Ok(ident) = Ident::try_new(name)
        {
            body.push(hcl_edit::structure::Attribute::new(
                ident,
                value.expr().clone(),
            ));
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use std::path::Path;

    /// Terraform resolves a local module source lexically against the calling module's folder
    /// (developer.hashicorp.com/terraform/language/modules/sources#local-paths): `env` calling
    /// `../modules/x` calls `modules/x`. It used to give `../modules/x` whenever the `..` emptied
    /// the path, so `iamlint .` in the usual `env/` + `modules/` layout lost the call and
    /// checked the module as a root of its own.
    #[test]
    fn parent_folders_are_taken_away_lexically() {
        for (path, want) in [
            ("env/../modules/x", "modules/x"),
            ("./env/prod/../../modules/x", "modules/x"),
            ("examples/complete/../..", "."),
            ("a/..", "."),
            ("../modules/x", "../modules/x"),
            ("./../../m", "../../m"),
            ("a/../../m", "../m"),
            ("/a/../../m", "/m"),
            ("/a/b/../c", "/a/c"),
            (".", "."),
        ] {
            assert_eq!(normalize(Path::new(path)), Path::new(want), "{path}");
        }
    }
}
