//! Terraform plan JSON (`terraform show -json planfile`) into the resource graph.
//!
//! A plan is one unit of analysis. Every managed resource of `planned_values` (the root module
//! and its child modules) becomes the attribute map the HCL front end would give, with spans
//! into the plan file: the values the plan knows as they are, and the values it marks
//! unknown (`resource_changes[].change.after_unknown`) as the typed reference the
//! configuration shows them to be (`"role": {"references": ["aws_iam_role.fn.arn", …]}` is
//! `GetAtt aws_iam_role.fn.Arn`), else as unknown. Policies, which a plan holds as JSON text,
//! are read as documents whose nodes point at their place inside the string. The maps then go
//! through the same table ([`crate::mapping`]) as HCL, so rules cannot tell the two apart.

use crate::eval::reference;
use crate::mapping;
use crate::template::{Seg, json_from_pieces};
use iamlint_core::{
    Diagnostic, Format, Key, Map, SourceFile, Span, Stack, Unknown, Value, ValueKind,
};
use std::collections::HashMap;

/// Whether the text is a Terraform plan in JSON: an object with `format_version` and the
/// sections of a plan. Cheap: no parsing.
pub fn detect_plan(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    t.starts_with('{')
        && t.contains("\"format_version\"")
        && ["\"planned_values\"", "\"resource_changes\""]
            .iter()
            .any(|k| t.contains(k))
}

/// Reads a plan file into one stack. A file that is not valid JSON, or not a plan in a format
/// version iamlint reads, is an input error.
pub fn analyse_plan(file: &SourceFile) -> Result<Stack, Box<Diagnostic>> {
    let root = iamlint_cfn::syntax::parse_json(file).map_err(|e| {
        invalid(
            e.span,
            format!("not a valid Terraform plan (JSON): {}", e.message),
        )
    })?;
    let start = Span::file_start(file.id);
    let Some(top) = root.as_map() else {
        return Err(invalid(root.span, "a Terraform plan is a JSON object"));
    };
    match top.get("format_version") {
        Some(v) => {
            let version = v.as_str().unwrap_or("");
            let major = version.split('.').next().unwrap_or("");
            if !matches!(major, "0" | "1") {
                return Err(invalid(
                    v.span,
                    format!(
                        "Terraform plan format version {version:?} is not one iamlint reads (1.x)"
                    ),
                ));
            }
        }
        None => {
            return Err(invalid(start, "a Terraform plan has a `format_version`"));
        }
    }
    for section in ["planned_values", "configuration"] {
        if let Some(v) = top.get(section)
            && !matches!(v.kind, ValueKind::Map(_))
        {
            return Err(invalid(
                v.span,
                format!("`{section}` of a Terraform plan is an object"),
            ));
        }
    }
    if let Some(v) = top.get("resource_changes")
        && !matches!(v.kind, ValueKind::List(_))
    {
        return Err(invalid(
            v.span,
            "`resource_changes` of a Terraform plan is a list",
        ));
    }

    let mut plan = Plan {
        file,
        resources: Vec::new(),
        by_address: HashMap::new(),
        changes: HashMap::new(),
        config: top.get_path_map(&["configuration", "root_module"]),
    };
    for change in top
        .get("resource_changes")
        .and_then(Value::as_list)
        .unwrap_or_default()
    {
        if let Some(address) = change.get("address").and_then(Value::as_str) {
            plan.changes.insert(address, change);
        }
    }
    match top.get("planned_values").and_then(|p| p.get("root_module")) {
        Some(module) => plan.collect(module, "", 0),
        None => plan.collect_changes(),
    }
    for (i, r) in plan.resources.iter().enumerate() {
        plan.by_address.insert(r.address, i);
    }

    let mut stack = Stack::new(Format::TerraformPlan, file.id);
    let mut tf_resources = Vec::new();
    for r in &plan.resources {
        let value = plan.resource_value(r);
        for res in mapping::to_resources(r.tf_type, r.address, &value, r.span) {
            stack.add_resource(res);
        }
        tf_resources.push((r.tf_type.to_string(), r.address.to_string(), value));
    }
    mapping::attach(&mut stack, &tf_resources);
    Ok(stack)
}

fn invalid(span: Span, message: impl Into<String>) -> Box<Diagnostic> {
    Box::new(Diagnostic::input_error(span, message))
}

/// Entries of a map along a path of keys.
trait MapPath {
    fn get_path_map(&self, path: &[&str]) -> Option<&Map>;
}

impl MapPath for Map {
    fn get_path_map(&self, path: &[&str]) -> Option<&Map> {
        let (first, rest) = path.split_first()?;
        self.get(first)?.get_path(rest)?.as_map()
    }
}

/// One managed resource instance of the plan.
struct Planned<'a> {
    address: &'a str,
    /// The module instance it belongs to (`module.a[0].module.b`), empty for the root.
    module: &'a str,
    tf_type: &'a str,
    name: &'a str,
    /// The instance key as written in the address (`[0]`, `["k"]`), empty without one.
    key: &'a str,
    values: Option<&'a Value>,
    /// The address in the plan: where findings about the resource point.
    span: Span,
}

struct Plan<'a> {
    file: &'a SourceFile,
    resources: Vec<Planned<'a>>,
    by_address: HashMap<&'a str, usize>,
    changes: HashMap<&'a str, &'a Value>,
    config: Option<&'a Map>,
}

/// How deep modules (and values) are followed.
const MAX_DEPTH: usize = 64;

impl<'a> Plan<'a> {
    /// The managed resources of a module of `planned_values` and its child modules.
    fn collect(&mut self, module: &'a Value, module_address: &'a str, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for r in module
            .get("resources")
            .and_then(Value::as_list)
            .unwrap_or_default()
        {
            if r.get("mode").and_then(Value::as_str) != Some("managed") {
                continue;
            }
            if let Some(p) = planned(r, module_address, r.get("values")) {
                self.resources.push(p);
            }
        }
        for child in module
            .get("child_modules")
            .and_then(Value::as_list)
            .unwrap_or_default()
        {
            let address = child.get("address").and_then(Value::as_str).unwrap_or("");
            self.collect(child, address, depth + 1);
        }
    }

    /// Without `planned_values`: the state after each change.
    fn collect_changes(&mut self) {
        let mut changes: Vec<&Value> = self.changes.values().copied().collect();
        changes.sort_by_key(|c| c.span.start);
        for c in changes {
            if c.get("mode").and_then(Value::as_str) != Some("managed") {
                continue;
            }
            let after = c.get_path(&["change", "after"]);
            if after.is_none_or(|a| matches!(a.kind, ValueKind::Null)) {
                continue;
            }
            let module = c
                .get("module_address")
                .and_then(Value::as_str)
                .unwrap_or("");
            if let Some(p) = planned(c, module, after) {
                self.resources.push(p);
            }
        }
    }

    /// The attribute map of a resource: known values from the plan, unknown ones as the
    /// configuration shows them.
    fn resource_value(&self, r: &Planned<'a>) -> Value {
        let unknown = self
            .changes
            .get(r.address)
            .and_then(|c| c.get_path(&["change", "after_unknown"]));
        let config = self.config_resource(r);
        let ctx = Ctx::Body(config);
        let empty = Value::new(ValueKind::Map(Map::default()), r.span);
        let values = r.values.unwrap_or(&empty);
        self.build(r, Some(values), unknown, &ctx, None, 0)
            .unwrap_or(empty)
    }

    /// The `expressions` of the resource's block in `configuration`.
    fn config_resource(&self, r: &Planned<'a>) -> Option<&'a Map> {
        let mut module = self.config?;
        for call in module_names(r.module) {
            module = module
                .get("module_calls")?
                .get(call)?
                .get("module")?
                .as_map()?;
        }
        let rel = format!("{}.{}", r.tf_type, r.name);
        module
            .get("resources")?
            .as_list()?
            .iter()
            .find(|c| {
                c.get("address").and_then(Value::as_str) == Some(rel.as_str())
                    && c.get("mode").and_then(Value::as_str) != Some("data")
            })?
            .get("expressions")?
            .as_map()
    }

    fn build(
        &self,
        r: &Planned<'a>,
        value: Option<&'a Value>,
        unknown: Option<&'a Value>,
        ctx: &Ctx<'a>,
        key: Option<&str>,
        depth: usize,
    ) -> Option<Value> {
        if depth > MAX_DEPTH {
            return value.cloned();
        }
        if matches!(unknown.map(|u| &u.kind), Some(ValueKind::Bool(true))) {
            let span = match ctx {
                Ctx::Expr(e) => e.span,
                _ => value.map_or(r.span, |v| v.span),
            };
            return self.unknown_value(r, ctx, key, depth, span);
        }
        let value = value?;
        match &value.kind {
            ValueKind::Map(m) => {
                let mut out = Map::default();
                for (k, v) in m.iter() {
                    let child = self.build(
                        r,
                        Some(v),
                        unknown.and_then(|u| u.get(&k.name)),
                        &ctx.child_of_known(&k.name),
                        Some(&k.name),
                        depth + 1,
                    );
                    if let Some(child) = child {
                        out.insert(k.clone(), child);
                    }
                }
                // Attributes the plan leaves out because they are known only after apply.
                if let Some(u) = unknown.and_then(Value::as_map) {
                    for (k, u) in u.iter() {
                        if !matches!(u.kind, ValueKind::Bool(true)) || out.get(&k.name).is_some() {
                            continue;
                        }
                        let child_ctx = ctx.child(&k.name);
                        let span = match &child_ctx {
                            Ctx::Expr(e) => e.span,
                            _ => value.span,
                        };
                        let Some(v) =
                            self.unknown_value(r, &child_ctx, Some(&k.name), depth + 1, span)
                        else {
                            continue;
                        };
                        out.insert(
                            Key {
                                name: k.name.clone(),
                                span,
                            },
                            v,
                        );
                    }
                }
                Some(Value::new(ValueKind::Map(out), value.span))
            }
            ValueKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let u = unknown.and_then(Value::as_list).and_then(|l| l.get(i));
                    let item_ctx = ctx.item(i);
                    // An element of a list attribute is not one of its own keys.
                    let item_key = if matches!(ctx, Ctx::Blocks(_)) {
                        None
                    } else {
                        key
                    };
                    if let Some(v) = self.build(r, Some(item), u, &item_ctx, item_key, depth + 1) {
                        out.push(v);
                    }
                }
                Some(Value::new(ValueKind::List(out), value.span))
            }
            ValueKind::String(s) => {
                if key.is_some_and(mapping::is_policy_arg)
                    && let Some(doc) = json_string_document(self.file, value)
                {
                    return Some(doc);
                }
                // A known value that is exactly another resource's attribute: the reference,
                // as the HCL front end makes it.
                if let Ctx::Expr(e) = ctx
                    && let Some((target, attr)) = self.referenced(r, e)
                    && let Some(t) = self.by_address.get(target).map(|&i| &self.resources[i])
                    && t.values.and_then(|v| v.get(attr)).and_then(Value::as_str) == Some(s)
                    && let Some(attribute) = mapping::computed_attribute(t.tf_type, attr)
                {
                    return Some(reference(t.address, attribute, value.span));
                }
                Some(value.clone())
            }
            _ => Some(value.clone()),
        }
    }

    /// A value the plan knows only after apply. `None` for an argument the configuration
    /// does not set: what the provider computes for it (`managed_policy_arns` of a role
    /// without that argument) is not part of the configuration the HCL front end reads either.
    fn unknown_value(
        &self,
        r: &Planned<'a>,
        ctx: &Ctx<'a>,
        key: Option<&str>,
        depth: usize,
        span: Span,
    ) -> Option<Value> {
        Some(match self.unknown_or_ref(r, ctx, key, depth, span) {
            Some(v) => v,
            None if matches!(ctx, Ctx::Unset) => return None,
            None => external(
                format!(
                    "{}.{} (known after apply)",
                    r.address,
                    key.unwrap_or("a value")
                ),
                span,
            ),
        })
    }

    fn unknown_or_ref(
        &self,
        r: &Planned<'a>,
        ctx: &Ctx<'a>,
        key: Option<&str>,
        depth: usize,
        span: Span,
    ) -> Option<Value> {
        // A policy built from other resources' attributes is not any one of them.
        let policy = key.is_some_and(mapping::is_policy_arg);
        if !policy
            && let Ctx::Expr(e) = ctx
            && let Some((target, attr)) = self.referenced(r, e)
        {
            if let Some(t) = self.by_address.get(target).map(|&i| &self.resources[i])
                && let Some(attribute) = mapping::computed_attribute(t.tf_type, attr)
            {
                return Some(reference(t.address, attribute, span));
            }
            return Some(external(
                format!("{target}.{attr} (known after apply)"),
                span,
            ));
        }
        // The resource's own computed attribute (`arn` of a role), as `add_computed` makes it.
        if depth == 1
            && let Some(key) = key
            && let Some(attribute) = mapping::computed_attribute(r.tf_type, key)
        {
            return Some(reference(r.address, attribute, span));
        }
        None
    }

    /// The one resource attribute an expression of the configuration refers to, as the
    /// address of the planned instance and the attribute name.
    fn referenced(&self, r: &Planned<'a>, expr: &'a Value) -> Option<(&'a str, &'a str)> {
        let refs = expr.get("references")?.as_list()?;
        let texts: Vec<&str> = refs
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| {
                !["count.", "each.", "path.", "terraform."]
                    .iter()
                    .any(|p| t.starts_with(p))
            })
            .collect();
        // `references` lists each traversal with its prefixes; keep the longest ones.
        let longest: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| {
                !texts.iter().any(|o| {
                    o.len() > t.len()
                        && o.starts_with(t)
                        && matches!(o.as_bytes()[t.len()], b'.' | b'[')
                })
            })
            .collect();
        let [one] = longest.as_slice() else {
            return None;
        };
        let parsed = parse_reference(one)?;
        let attr = parsed.attr?;
        let address = self.instance(r, parsed.resource)?;
        Some((address, attr))
    }

    /// The planned instance a module-relative resource address names, from resource `r`.
    fn instance(&self, r: &Planned<'a>, resource: &str) -> Option<&'a str> {
        let full = if r.module.is_empty() {
            resource.to_string()
        } else {
            format!("{}.{resource}", r.module)
        };
        if let Some(&i) = self.by_address.get(full.as_str()) {
            return Some(self.resources[i].address);
        }
        if resource.ends_with(']') {
            return None;
        }
        // No key given: the instance with the referrer's key, or the only instance.
        let same_key = format!("{full}{}", r.key);
        if !r.key.is_empty()
            && let Some(&i) = self.by_address.get(same_key.as_str())
        {
            return Some(self.resources[i].address);
        }
        let prefix = format!("{full}[");
        let mut found = self
            .resources
            .iter()
            .filter(|p| p.address.starts_with(&prefix));
        let first = found.next()?;
        found.next().is_none().then_some(first.address)
    }
}

/// Where in the configuration a value is.
enum Ctx<'a> {
    /// The arguments of a resource or nested block: name → expression or blocks.
    Body(Option<&'a Map>),
    /// One argument's expression (`constant_value` or `references`).
    Expr(&'a Value),
    /// The nested blocks of one name.
    Blocks(&'a [Value]),
    /// An argument the configuration does not set (the configuration being known).
    Unset,
    None,
}

impl<'a> Ctx<'a> {
    /// The place of an argument the plan leaves out (unknown): [`Ctx::Unset`] when the
    /// configuration is known and does not set it.
    fn child(&self, name: &str) -> Ctx<'a> {
        match self {
            Ctx::Body(Some(m)) => match m.get(name).map(|v| (&v.kind, v)) {
                Some((ValueKind::List(blocks), _)) => Ctx::Blocks(blocks),
                Some((ValueKind::Map(_), v)) => Ctx::Expr(v),
                Some(_) => Ctx::None,
                None => Ctx::Unset,
            },
            _ => Ctx::None,
        }
    }

    /// The place of an argument the plan has a value for.
    fn child_of_known(&self, name: &str) -> Ctx<'a> {
        match self.child(name) {
            Ctx::Unset => Ctx::None,
            c => c,
        }
    }

    fn item(&self, i: usize) -> Ctx<'a> {
        match self {
            Ctx::Blocks(blocks) => Ctx::Body(blocks.get(i).and_then(Value::as_map)),
            _ => Ctx::None,
        }
    }
}

fn external(why: String, span: Span) -> Value {
    Value::new(ValueKind::Unknown(Unknown::External(why)), span)
}

fn planned<'a>(r: &'a Value, module: &'a str, values: Option<&'a Value>) -> Option<Planned<'a>> {
    let address_value = r.get("address")?;
    let address = address_value.as_str()?;
    let tf_type = r.get("type")?.as_str()?;
    let name = r.get("name")?.as_str()?;
    // The key is what follows `type.name` in the address.
    let local = address
        .strip_prefix(module)
        .map_or(address, |a| a.trim_start_matches('.'));
    let key = local
        .strip_prefix(tf_type)
        .and_then(|l| l.strip_prefix('.'))
        .and_then(|l| l.strip_prefix(name))
        .unwrap_or("");
    Some(Planned {
        address,
        module,
        tf_type,
        name,
        key,
        values,
        span: address_value.span,
    })
}

/// The module call names of a module instance address: `module.a[0].module.b` → `a`, `b`.
fn module_names(address: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = address;
    while let Some(r) = rest.strip_prefix("module.") {
        let end = r
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(r.len());
        out.push(&r[..end]);
        rest = &r[end..];
        if rest.starts_with('[') {
            rest = &rest[bracket_end(rest)..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    out
}

/// The length of the `[...]` at the start of `s` (quotes respected), or all of `s`.
fn bracket_end(s: &str) -> usize {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
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
        } else if c == ']' {
            return i + 1;
        }
    }
    s.len()
}

/// A reference of the configuration to a managed resource: `aws_iam_role.fn[0].arn` →
/// resource `aws_iam_role.fn[0]`, attribute `arn`.
struct ParsedRef<'a> {
    resource: &'a str,
    attr: Option<&'a str>,
}

fn parse_reference(text: &str) -> Option<ParsedRef<'_>> {
    let ident_end = |s: &str| {
        s.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(s.len())
    };
    let ty_end = ident_end(text);
    let ty = &text[..ty_end];
    if ty.is_empty()
        || !ty.contains('_')
        || [
            "data",
            "var",
            "local",
            "module",
            "self",
            "count",
            "each",
            "path",
            "terraform",
        ]
        .contains(&ty)
    {
        return None;
    }
    let rest = text[ty_end..].strip_prefix('.')?;
    let mut end = ty_end + 1 + ident_end(rest);
    if end == ty_end + 1 {
        return None;
    }
    if text[end..].starts_with('[') {
        end += bracket_end(&text[end..]);
    }
    let resource = &text[..end];
    let attr = text[end..].strip_prefix('.').map(|a| &a[..ident_end(a)]);
    Some(ParsedRef {
        resource,
        attr: attr.filter(|a| !a.is_empty()),
    })
}

/// A JSON string of the plan holding a JSON document (a policy), read with every node
/// pointing at its own place inside the string: each escape sequence of the plan's encoding
/// stands for the character it decodes to.
pub fn json_string_document(file: &SourceFile, value: &Value) -> Option<Value> {
    let ValueKind::String(decoded) = &value.kind else {
        return None;
    };
    let trimmed = decoded.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    let span = value.span;
    let raw = file.text.get(span.start as usize..span.end as usize);
    let segs = match raw
        .and_then(|r| r.strip_prefix('"'))
        .and_then(|r| r.strip_suffix('"'))
    {
        Some(inner) => escape_pieces(inner, span.start as usize + 1, file.id),
        None => None,
    };
    match segs {
        Some(segs) => json_from_pieces(&segs, file.id),
        None => crate::template::parse_json_string(value),
    }
    .filter(|doc| matches!(doc.kind, ValueKind::Map(_) | ValueKind::List(_)))
}

/// The decoded text of the inside of a JSON string at `base`, as pieces: runs of plain text,
/// and each escape with the character it stands for. `None` when the text has an escape the
/// JSON reader would not have accepted.
fn escape_pieces(inner: &str, base: usize, file: iamlint_core::FileId) -> Option<Vec<Seg>> {
    let mut segs = Vec::new();
    let bytes = inner.as_bytes();
    let mut run_start = 0;
    let mut i = 0;
    let span = |s: usize, e: usize| Span::new(file, base + s, base + e);
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        if run_start < i {
            segs.push(Seg::Lit {
                text: inner[run_start..i].to_string(),
                span: span(run_start, i),
            });
        }
        let (text, len) = match bytes.get(i + 1)? {
            b'"' => ("\"".to_string(), 2),
            b'\\' => ("\\".to_string(), 2),
            b'/' => ("/".to_string(), 2),
            b'b' => ("\u{8}".to_string(), 2),
            b'f' => ("\u{c}".to_string(), 2),
            b'n' => ("\n".to_string(), 2),
            b'r' => ("\r".to_string(), 2),
            b't' => ("\t".to_string(), 2),
            b'u' => {
                let hex = |at: usize| {
                    inner
                        .get(at..at + 4)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                };
                let hi = hex(i + 2)?;
                if (0xD800..0xDC00).contains(&hi) && inner.get(i + 6..i + 8) == Some("\\u") {
                    let lo = hex(i + 8)?;
                    let c = char::from_u32(
                        0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00)),
                    )?;
                    (c.to_string(), 12)
                } else {
                    (char::from_u32(hi).unwrap_or('\u{FFFD}').to_string(), 6)
                }
            }
            _ => return None,
        };
        segs.push(Seg::Lit {
            text,
            span: span(i, i + len),
        });
        i += len;
        run_start = i;
    }
    if run_start < bytes.len() {
        segs.push(Seg::Lit {
            text: inner[run_start..].to_string(),
            span: span(run_start, bytes.len()),
        });
    }
    Some(segs)
}
