//! Evaluating Terraform expressions, partially and three-valued.
//!
//! Every expression becomes a [`Value`] of the format-neutral tree: what is known is a literal
//! with its span; a computed attribute of a resource (`aws_iam_role.x.arn`) is a typed
//! [`Reference`] to it, whose kind the rules know even though its value is unknown; what cannot
//! be known (a variable without a value, most data sources, an unknown function) is
//! [`Unknown`]; a conditional whose condition is unknown keeps both sides ([`Choice`]).
//!
//! Evaluation is lazy and memoised: a local, a variable, a resource instance or a module
//! output is evaluated when first referenced, once. A reference that comes back to itself is a
//! cycle: the value is unknown and, for locals, an input error at its line.

use crate::mapping;
use crate::module::{Expr, META_ARGUMENTS, Mode, Module, ResourceDecl, span_of};
use crate::unit::UnitLoader;
use hcl_edit::Span as _;
use hcl_edit::expr::{BinaryOperator, Expression, TraversalOperator, UnaryOperator};
use hcl_edit::structure::Body;
use hcl_edit::template::{Directive, Element, Template};
use iamlint_core::{
    Account, Attribute, Choice, Diagnostic, FileId, Key, Map, Part, Pseudo, Reference, SourceFile,
    Span, Unknown, Value, ValueKind,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

/// How deep expressions may nest before evaluation gives up (unknown) instead of recursing.
const MAX_DEPTH: usize = 200;
/// The most instances one `count`/`for_each` expands to; more are one symbolic instance.
const MAX_INSTANCES: usize = 256;
/// The most module instances one unit holds (each call's count/for_each multiplies them).
const MAX_MODULE_INSTANCES: usize = 512;
/// The deepest chain of module calls followed.
const MAX_MODULE_DEPTH: usize = 16;
/// A key that marks a map as a resource instance: a missing attribute there is a computed
/// value Terraform knows after apply (unknown), not an error.
pub const RESOURCE_MARKER: &str = "\u{0}resource";

/// An evaluation error: what Terraform itself would reject (an index out of range, a missing
/// key). `try` and `can` catch it; elsewhere it becomes an unknown value.
#[derive(Debug, Clone)]
pub struct EvalError;

type Eval = Result<Value, EvalError>;

/// `count.index`, `each.key` and `each.value` of one instance.
#[derive(Clone, Debug, Default)]
pub struct Binding {
    pub count_index: Option<Value>,
    pub each: Option<(Value, Value)>,
}

/// One instance of a resource block.
#[derive(Clone, Debug)]
pub struct Instance {
    /// `""`, `[0]` or `["key"]`, or `[*]` for the one symbolic instance of an unknown
    /// count/for_each.
    pub suffix: String,
    /// The key as a value, for matching an index (`None` for the symbolic instance).
    pub key: Option<Value>,
    pub binding: Binding,
}

/// Instances of each `module` call of a module instance, by call index: each instance's
/// `for_each` key or `count` index, and its index in [`Evaluator::insts`].
pub type ChildInstances = HashMap<usize, Vec<(Option<Value>, usize)>>;

/// One instance of a module: the root, or a call of a child module.
pub struct ModuleInst {
    pub module: Arc<Module>,
    /// `""` for the root, `module.api.` or `module.api["x"].` for a child.
    pub prefix: String,
    /// The calling instance and the index of the call in its module.
    pub caller: Option<(usize, usize)>,
    pub binding: Binding,
    /// Instances of each `module` call, by call index (created on first use).
    pub children: RefCell<ChildInstances>,
    pub depth: usize,
    /// False when the module's source could not be found: its outputs are unknown.
    pub resolved: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum MemoKey {
    Local(usize, String),
    Var(usize, String),
    Output(usize, String),
    Instances(usize, usize),
    Resource(usize, usize, String),
}

enum Slot {
    InProgress,
    Done(Result<Value, EvalError>),
    Instances(Vec<Instance>),
}

/// What the user told iamlint about the deployment.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--var name=value`, highest precedence.
    pub vars: HashMap<String, String>,
    /// `--var-file FILE`, in order (later files win).
    pub var_files: Vec<PathBuf>,
    /// The root module's variables are set from outside the configuration (Terragrunt's
    /// `inputs`): each is unknown, not its default, unless a variable definitions file or
    /// `--var` sets it.
    pub inputs_from_outside: bool,
}

/// The evaluation of one unit: a root module and every module it calls.
pub struct Evaluator<'a> {
    pub insts: RefCell<Vec<Rc<ModuleInst>>>,
    memo: RefCell<HashMap<MemoKey, Slot>>,
    pub loader: &'a dyn UnitLoader,
    /// Values of the root module's variables from `--var`, `--var-file` and `*.tfvars`.
    root_vars: HashMap<String, Value>,
    pub diagnostics: RefCell<Vec<Diagnostic>>,
    depth: RefCell<usize>,
    /// The account of each (module instance, provider name) asked about.
    accounts: RefCell<HashMap<(usize, String), Account>>,
}

/// What a provider configuration tells about the account it deploys into.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Creds {
    /// No credentials of its own: the environment's, the same for every such configuration.
    Ambient,
    /// This account, for certain.
    Known(String),
    /// Credentials of its own that do not tell the account (a profile, keys, a role ARN
    /// iamlint cannot compute).
    Unknown,
}

/// Where a provider name used in a module instance leads.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ProviderSource {
    /// A `provider "aws"` block (module instance, alias).
    Block(usize, Option<String>),
    /// The root's default configuration, with no block: the environment's credentials.
    ImplicitDefault,
    /// Nothing iamlint can follow.
    Unresolvable,
}

/// Arguments of the AWS provider that choose credentials (terraform-provider-aws
/// `website/docs/index.html.markdown`, "Authentication and Configuration").
const CREDENTIAL_ARGUMENTS: &[&str] = &[
    "access_key",
    "secret_key",
    "token",
    "profile",
    "shared_credentials_file",
    "shared_credentials_files",
    "shared_config_files",
    "assume_role",
    "assume_role_with_web_identity",
];

/// Variables bound by `for` expressions, `dynamic` blocks and template `for` directives.
#[derive(Clone, Default)]
pub struct Scope {
    inst: usize,
    binding: Binding,
    names: Vec<(String, Value)>,
}

impl Scope {
    fn lookup(&self, name: &str) -> Option<&Value> {
        self.names
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn with(&self, bindings: &[(String, Value)]) -> Scope {
        let mut s = self.clone();
        s.names.extend(bindings.iter().cloned());
        s
    }
}

pub fn unknown(why: impl Into<String>, span: Span) -> Value {
    Value::new(ValueKind::Unknown(Unknown::External(why.into())), span)
}

fn number(n: impl ToString, span: Span) -> Value {
    Value::new(ValueKind::Number(n.to_string()), span)
}

fn key(name: impl Into<String>, span: Span) -> Key {
    Key {
        name: name.into(),
        span,
    }
}

/// Whether `id` is an AWS account id (twelve digits).
fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a value is known to be true or false.
pub fn truth(v: &Value) -> Option<bool> {
    match &v.kind {
        ValueKind::Bool(b) => Some(*b),
        ValueKind::String(s) if s == "true" => Some(true),
        ValueKind::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

fn as_index(v: &Value) -> Option<usize> {
    match &v.kind {
        ValueKind::Number(n) | ValueKind::String(n) => n
            .parse::<f64>()
            .ok()
            .filter(|f| *f >= 0.0)
            .map(|f| f as usize),
        _ => None,
    }
}

/// The text of a known scalar, as Terraform converts it to a string.
pub fn scalar_text(v: &Value) -> Option<String> {
    match &v.kind {
        ValueKind::String(s) | ValueKind::Number(s) => Some(s.clone()),
        ValueKind::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether the value is fully known (no reference, unknown or choice anywhere inside).
fn is_known(v: &Value) -> bool {
    match &v.kind {
        ValueKind::List(items) => items.iter().all(is_known),
        ValueKind::Map(m) => m.iter().all(|(_, v)| is_known(v)),
        ValueKind::Ref(_)
        | ValueKind::Template(_)
        | ValueKind::Unknown(_)
        | ValueKind::Choice(_) => false,
        _ => true,
    }
}

impl<'a> Evaluator<'a> {
    pub fn new(root: Arc<Module>, loader: &'a dyn UnitLoader, options: &Options) -> Self {
        let root_vars = crate::tfvars::root_values(&root, loader, options);
        Evaluator {
            insts: RefCell::new(vec![Rc::new(ModuleInst {
                module: root,
                prefix: String::new(),
                caller: None,
                binding: Binding::default(),
                children: RefCell::new(HashMap::new()),
                depth: 0,
                resolved: true,
            })]),
            memo: RefCell::new(HashMap::new()),
            loader,
            root_vars,
            diagnostics: RefCell::new(Vec::new()),
            depth: RefCell::new(0),
            accounts: RefCell::new(HashMap::new()),
        }
    }

    // ---- provider configurations and accounts ---------------------------------------------

    /// The account `AWS::AccountId` stands for: the root's default provider's, when it is
    /// certain.
    pub fn stack_account(&self) -> Option<String> {
        match self.provider_source(0, "aws") {
            ProviderSource::Block(i, alias) => match self.creds(i, alias.as_deref()) {
                Creds::Known(id) => Some(id),
                _ => None,
            },
            _ => None,
        }
    }

    /// The account a resource or data source of module instance `inst` is created in or
    /// reads from, through its `provider` argument (or the default `aws` provider).
    pub fn decl_account(&self, inst: usize, decl: &ResourceDecl) -> Account {
        if !decl.tf_type.starts_with("aws_") {
            return Account::Stack;
        }
        let name = decl
            .body
            .get_attribute("provider")
            .map_or(Some("aws".to_string()), |a| {
                crate::module::provider_name(&a.value)
            });
        match name {
            Some(name) if name == "aws" || name.starts_with("aws.") => {
                self.provider_account(inst, &name)
            }
            _ => Account::Unknown,
        }
    }

    /// The account of the provider `name` (`aws`, `aws.prod`) as module instance `inst`
    /// sees it, relative to the stack's account.
    fn provider_account(&self, inst: usize, name: &str) -> Account {
        let key = (inst, name.to_string());
        if let Some(a) = self.accounts.borrow().get(&key) {
            return a.clone();
        }
        let default = self.provider_source(0, "aws");
        let source = self.provider_source(inst, name);
        let creds_of = |source: &ProviderSource| match source {
            ProviderSource::Block(i, alias) => self.creds(*i, alias.as_deref()),
            ProviderSource::ImplicitDefault => Creds::Ambient,
            ProviderSource::Unresolvable => Creds::Unknown,
        };
        let account = if source == default {
            Account::Stack
        } else {
            match (creds_of(&source), creds_of(&default)) {
                (Creds::Known(id), Creds::Known(stack)) if id == stack => Account::Stack,
                (Creds::Known(id), _) => Account::Id(id),
                // Two configurations with the environment's credentials reach one account.
                (Creds::Ambient, Creds::Ambient) => Account::Stack,
                _ => Account::Unknown,
            }
        };
        self.accounts.borrow_mut().insert(key, account.clone());
        account
    }

    /// The configuration the provider `name` of module instance `inst` is: a block of the
    /// instance's own module, or what its caller passes (`providers = { aws = aws.prod }`, or
    /// the caller's default `aws` when the call passes none).
    fn provider_source(&self, inst: usize, name: &str) -> ProviderSource {
        let mut inst = inst;
        let mut name = name.to_string();
        for _ in 0..=MAX_MODULE_DEPTH {
            let module_inst = self.inst(inst);
            let alias = name.strip_prefix("aws.").map(str::to_string);
            if module_inst
                .module
                .aws_providers
                .iter()
                .any(|p| p.alias == alias)
            {
                return ProviderSource::Block(inst, alias);
            }
            let Some((caller, call)) = module_inst.caller else {
                return if alias.is_none() {
                    ProviderSource::ImplicitDefault
                } else {
                    ProviderSource::Unresolvable
                };
            };
            let caller_inst = self.inst(caller);
            let decl = &caller_inst.module.modules[call];
            match decl.body.get_attribute("providers") {
                Some(attr) => {
                    let Some(object) = attr.value.as_object() else {
                        return ProviderSource::Unresolvable;
                    };
                    let passed = object.iter().find_map(|(k, v)| {
                        (crate::module::provider_key_name(k).as_deref() == Some(name.as_str()))
                            .then(|| crate::module::provider_name(v.expr()))
                            .flatten()
                    });
                    match passed {
                        Some(p) => name = p,
                        None => return ProviderSource::Unresolvable,
                    }
                }
                // A call without `providers` passes its caller's default configuration.
                None if alias.is_none() => {}
                None => return ProviderSource::Unresolvable,
            }
            inst = caller;
        }
        ProviderSource::Unresolvable
    }

    /// What the `provider "aws"` block with `alias` of module instance `inst` tells about its
    /// account: one literal `allowed_account_ids`, else the account of a literal
    /// `assume_role.role_arn` (the last, for a chain).
    fn creds(&self, inst: usize, alias: Option<&str>) -> Creds {
        let module_inst = self.inst(inst);
        let Some(config) = module_inst
            .module
            .aws_providers
            .iter()
            .find(|p| p.alias.as_deref() == alias)
        else {
            return Creds::Unknown;
        };
        let scope = Scope {
            inst,
            binding: module_inst.binding.clone(),
            names: Vec::new(),
        };
        let span = Span::file_start(config.file);
        let Ok(value) = self.eval_body(&scope, &config.body, config.file, span) else {
            return Creds::Unknown;
        };
        let allowed = value.get("allowed_account_ids").map(|v| {
            v.as_list()
                .map(|items| items.iter().map(scalar_text).collect::<Vec<_>>())
        });
        if let Some(Some(ids)) = &allowed
            && let [Some(id)] = ids.as_slice()
            && is_account_id(id)
        {
            return Creds::Known(id.clone());
        }
        let assumed = value.get("assume_role").map(|v| {
            let last = match v.as_list() {
                Some(items) => items.last(),
                None => Some(v),
            };
            last.and_then(|r| r.get("role_arn"))
                .and_then(scalar_text)
                .and_then(|arn| arn.split(':').nth(4).map(str::to_string))
                .filter(|id| is_account_id(id))
        });
        match assumed {
            Some(Some(id)) if value.get("assume_role_with_web_identity").is_none() => {
                Creds::Known(id)
            }
            _ if CREDENTIAL_ARGUMENTS.iter().any(|a| value.get(a).is_some()) => Creds::Unknown,
            _ => Creds::Ambient,
        }
    }

    pub fn inst(&self, i: usize) -> Rc<ModuleInst> {
        Rc::clone(&self.insts.borrow()[i])
    }

    /// Evaluates an expression of module instance `inst` with the instance binding `binding`.
    pub fn eval_in(&self, inst: usize, binding: &Binding, expr: &Expr) -> Value {
        let scope = Scope {
            inst,
            binding: binding.clone(),
            names: Vec::new(),
        };
        let span = expr.span();
        self.eval(&scope, &expr.expr, expr.file)
            .unwrap_or_else(|_| unknown("an expression Terraform would reject", span))
    }

    fn eval(&self, scope: &Scope, expr: &Expression, file: FileId) -> Eval {
        {
            let mut d = self.depth.borrow_mut();
            if *d >= MAX_DEPTH {
                return Ok(unknown(
                    "an expression nested too deeply",
                    span_of(file, expr.span()),
                ));
            }
            *d += 1;
        }
        let out = self.eval_inner(scope, expr, file);
        *self.depth.borrow_mut() -= 1;
        out
    }

    fn eval_inner(&self, scope: &Scope, expr: &Expression, file: FileId) -> Eval {
        let span = span_of(file, expr.span());
        Ok(match expr {
            Expression::Null(_) => Value::null(span),
            Expression::Bool(b) => Value::new(ValueKind::Bool(**b), span),
            Expression::Number(n) => number(n.as_ref(), span),
            Expression::String(s) => Value::string(s.as_str(), span),
            Expression::Array(items) => {
                let mut out = Vec::new();
                for item in items.iter() {
                    out.push(self.eval(scope, item, file)?);
                }
                Value::new(ValueKind::List(out), span)
            }
            Expression::Object(obj) => {
                let mut map = Map::default();
                for (k, v) in obj.iter() {
                    let name = match k {
                        hcl_edit::expr::ObjectKey::Ident(i) => Some(i.as_str().to_string()),
                        hcl_edit::expr::ObjectKey::Expression(e) => {
                            // `(var.x) = ...` and `"literal" = ...`; a bare variable is a name.
                            match e {
                                Expression::Variable(v) => Some(v.as_str().to_string()),
                                _ => scalar_text(&self.eval(scope, e, file)?),
                            }
                        }
                    };
                    let value = self.eval(scope, v.expr(), file)?;
                    match name {
                        Some(name) => map.insert(key(name, span_of(file, k.span())), value),
                        None => {
                            return Ok(unknown("an object with a computed key", span));
                        }
                    }
                }
                Value::new(ValueKind::Map(map), span)
            }
            Expression::StringTemplate(t) => self.eval_template(scope, t, file, span)?,
            Expression::HeredocTemplate(h) => self.eval_template(scope, &h.template, file, span)?,
            Expression::Parenthesis(p) => self.eval(scope, p.inner(), file)?,
            Expression::Variable(v) => {
                let name = v.as_str();
                match scope.lookup(name) {
                    Some(value) => value.clone(),
                    None => unknown(format!("`{name}`"), span),
                }
            }
            Expression::Conditional(c) => {
                let cond = self.eval(scope, &c.cond_expr, file)?;
                match truth(&cond) {
                    Some(true) => self.eval(scope, &c.true_expr, file)?,
                    Some(false) => self.eval(scope, &c.false_expr, file)?,
                    None => {
                        let if_true = self.eval(scope, &c.true_expr, file)?;
                        let if_false = self.eval(scope, &c.false_expr, file)?;
                        if if_true == if_false {
                            if_true
                        } else {
                            let condition = source_text(self, file, c.cond_expr.span());
                            Value::new(
                                ValueKind::Choice(Box::new(Choice {
                                    condition,
                                    if_true,
                                    if_false,
                                })),
                                span,
                            )
                        }
                    }
                }
            }
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                crate::functions::call(self, scope_ref(scope), name, &call.args, file, span)?
            }
            Expression::Traversal(t) => self.eval_traversal(scope, t, file, span)?,
            Expression::UnaryOp(op) => {
                let v = self.eval(scope, &op.expr, file)?;
                match *op.operator {
                    UnaryOperator::Not => match truth(&v) {
                        Some(b) => Value::new(ValueKind::Bool(!b), span),
                        None => unknown("a negated unknown", span),
                    },
                    UnaryOperator::Neg => match &v.kind {
                        ValueKind::Number(n) => number(
                            n.strip_prefix('-')
                                .map_or_else(|| format!("-{n}"), str::to_string),
                            span,
                        ),
                        _ => unknown("a negated unknown", span),
                    },
                }
            }
            Expression::BinaryOp(op) => {
                let lhs = self.eval(scope, &op.lhs_expr, file)?;
                let rhs = self.eval(scope, &op.rhs_expr, file)?;
                binary(*op.operator, &lhs, &rhs, span)
            }
            Expression::ForExpr(f) => self.eval_for(scope, f, file, span)?,
        })
    }

    /// Evaluates an expression in a scope handed to a function (its arguments).
    pub fn eval_arg(&self, scope: &ScopeRef, expr: &Expression, file: FileId) -> Eval {
        self.eval(&scope.0, expr, file)
    }

    fn eval_for(
        &self,
        scope: &Scope,
        f: &hcl_edit::expr::ForExpr,
        file: FileId,
        span: Span,
    ) -> Eval {
        let coll = self.eval(scope, &f.intro.collection_expr, file)?;
        let Some(pairs) = iteration_pairs(&coll) else {
            return Ok(unknown("a `for` over an unknown collection", span));
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_string());
        let value_var = f.intro.value_var.as_str().to_string();
        let mut list = Vec::new();
        let mut map = Map::default();
        for (k, v) in pairs.into_iter().take(MAX_INSTANCES) {
            let mut bindings = vec![(value_var.clone(), v)];
            if let Some(kv) = &key_var {
                bindings.push((kv.clone(), k));
            }
            let inner = scope.with(&bindings);
            if let Some(cond) = &f.cond {
                match truth(&self.eval(&inner, &cond.expr, file)?) {
                    Some(true) => {}
                    Some(false) => continue,
                    None => return Ok(unknown("a `for` with an unknown condition", span)),
                }
            }
            let value = self.eval(&inner, &f.value_expr, file)?;
            match &f.key_expr {
                Some(key_expr) => {
                    let k = self.eval(&inner, key_expr, file)?;
                    let Some(name) = scalar_text(&k) else {
                        return Ok(unknown("a `for` with an unknown key", span));
                    };
                    if f.grouping {
                        match map.get_mut(&name).map(|g| &mut g.kind) {
                            Some(ValueKind::List(items)) => items.push(value),
                            _ => map.insert(
                                key(name, k.span),
                                Value::new(ValueKind::List(vec![value]), span),
                            ),
                        }
                    } else {
                        map.insert(key(name, k.span), value);
                    }
                }
                None => list.push(value),
            }
        }
        Ok(if f.key_expr.is_some() {
            Value::new(ValueKind::Map(map), span)
        } else {
            Value::new(ValueKind::List(list), span)
        })
    }

    // ---- templates ----------------------------------------------------------------------

    fn eval_template(&self, scope: &Scope, template: &Template, file: FileId, span: Span) -> Eval {
        // `"${expr}"` alone is the value of `expr`, of whatever type: a list stays a list and
        // `"${jsonencode(...)}"` the document jsonencode gives (HCL's template wrap; the form
        // Terraform 0.11 and CDK for Terraform write). A scalar is still made a string below,
        // as the string argument it is written for converts it.
        // https://developer.hashicorp.com/terraform/language/expressions/strings#interpolation
        let mut elements = template.iter();
        if let (Some(Element::Interpolation(i)), None) = (elements.next(), elements.next()) {
            let v = self.eval(scope, &i.expr, file)?;
            if matches!(v.kind, ValueKind::Map(_) | ValueKind::List(_)) {
                return Ok(v);
            }
            let segs = vec![crate::template::Seg::Value(v, span_of(file, i.span()))];
            return Ok(crate::template::build(self, segs, file, span));
        }
        let mut segs = Vec::new();
        if !self.template_segments(scope, template, file, &mut segs)? {
            return Ok(unknown("a template with an unknown directive", span));
        }
        Ok(crate::template::build(self, segs, file, span))
    }

    /// Appends the segments of a template; false when a directive cannot be decided.
    fn template_segments(
        &self,
        scope: &Scope,
        template: &Template,
        file: FileId,
        segs: &mut Vec<crate::template::Seg>,
    ) -> Result<bool, EvalError> {
        use crate::template::Seg;
        for element in template.iter() {
            match element {
                Element::Literal(lit) => segs.push(Seg::Lit {
                    text: lit.as_str().to_string(),
                    span: span_of(file, lit.span()),
                }),
                Element::Interpolation(i) => {
                    let v = self.eval(scope, &i.expr, file)?;
                    segs.push(Seg::Value(v, span_of(file, i.span())));
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(ifd) => {
                        let cond = self.eval(scope, &ifd.if_expr.cond_expr, file)?;
                        match truth(&cond) {
                            Some(true) => {
                                if !self.template_segments(
                                    scope,
                                    &ifd.if_expr.template,
                                    file,
                                    segs,
                                )? {
                                    return Ok(false);
                                }
                            }
                            Some(false) => {
                                if let Some(e) = &ifd.else_expr
                                    && !self.template_segments(scope, &e.template, file, segs)?
                                {
                                    return Ok(false);
                                }
                            }
                            None => return Ok(false),
                        }
                    }
                    Directive::For(ford) => {
                        let coll = self.eval(scope, &ford.for_expr.collection_expr, file)?;
                        let Some(pairs) = iteration_pairs(&coll) else {
                            return Ok(false);
                        };
                        let key_var = ford
                            .for_expr
                            .key_var
                            .as_ref()
                            .map(|k| k.as_str().to_string());
                        let value_var = ford.for_expr.value_var.as_str().to_string();
                        for (k, v) in pairs.into_iter().take(MAX_INSTANCES) {
                            let mut bindings = vec![(value_var.clone(), v)];
                            if let Some(kv) = &key_var {
                                bindings.push((kv.clone(), k));
                            }
                            if !self.template_segments(
                                &scope.with(&bindings),
                                &ford.for_expr.template,
                                file,
                                segs,
                            )? {
                                return Ok(false);
                            }
                        }
                    }
                },
            }
        }
        Ok(true)
    }

    /// Evaluates a template read from a file (`templatefile`) with the given variables.
    pub fn eval_file_template(
        &self,
        file: &SourceFile,
        vars: &[(String, Value)],
        span: Span,
    ) -> Eval {
        let Ok(template) = hcl_edit::parser::parse_template(&file.text) else {
            return Ok(unknown(
                "a template file that is not a valid template",
                span,
            ));
        };
        let scope = Scope {
            inst: 0,
            binding: Binding::default(),
            names: vars.to_vec(),
        };
        let mut segs = Vec::new();
        if !self.template_segments(&scope, &template, file.id, &mut segs)? {
            return Ok(unknown("a template with an unknown directive", span));
        }
        let whole = Span::new(file.id, 0, file.text.len());
        Ok(crate::template::build(self, segs, file.id, whole))
    }

    // ---- references -----------------------------------------------------------------------

    fn eval_traversal(
        &self,
        scope: &Scope,
        t: &hcl_edit::expr::Traversal,
        file: FileId,
        span: Span,
    ) -> Eval {
        let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| &**o).collect();
        let Expression::Variable(root) = &t.expr else {
            let base = self.eval(scope, &t.expr, file)?;
            return self.apply(scope, base, &ops, file, span);
        };
        let root = root.as_str();
        if let Some(v) = scope.lookup(root) {
            return self.apply(scope, v.clone(), &ops, file, span);
        }
        let attr = |i: usize| match ops.get(i) {
            Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
            _ => None,
        };
        let inst = scope.inst;
        match root {
            "var" => {
                let Some(name) = attr(0) else {
                    return Ok(unknown("`var`", span));
                };
                let v = self.var(inst, name, span);
                self.apply(scope, v, &ops[1..], file, span)
            }
            "local" => {
                let Some(name) = attr(0) else {
                    return Ok(unknown("`local`", span));
                };
                let v = self.local(inst, name, span)?;
                self.apply(scope, v, &ops[1..], file, span)
            }
            "count" => {
                let v = scope
                    .binding
                    .count_index
                    .clone()
                    .unwrap_or_else(|| unknown("`count.index`", span));
                self.apply(scope, v, &ops[1..], file, span)
            }
            "each" => {
                let v = match (&scope.binding.each, attr(0)) {
                    (Some((k, _)), Some("key")) => k.clone(),
                    (Some((_, v)), Some("value")) => v.clone(),
                    _ => unknown("`each`", span),
                };
                self.apply(scope, v, &ops[1..], file, span)
            }
            "path" => {
                let dir = self.inst(inst).module.dir.display().to_string();
                let v = match attr(0) {
                    Some("module") => Value::string(dir, span),
                    Some("root") => {
                        Value::string(self.inst(0).module.dir.display().to_string(), span)
                    }
                    Some("cwd") => Value::string(".", span),
                    _ => unknown("`path`", span),
                };
                self.apply(scope, v, &ops[1..], file, span)
            }
            "terraform" => Ok(unknown("`terraform`", span)),
            "self" => Ok(unknown("`self`", span)),
            "module" => {
                let Some(name) = attr(0) else {
                    return Ok(unknown("`module`", span));
                };
                self.module_ref(scope, name, &ops[1..], file, span)
            }
            "data" => {
                let (Some(tf_type), Some(name)) = (attr(0), attr(1)) else {
                    return Ok(unknown("`data`", span));
                };
                self.resource_ref(scope, Mode::Data, tf_type, name, &ops[2..], file, span)
            }
            tf_type => {
                let Some(name) = attr(0) else {
                    return Ok(unknown(format!("`{tf_type}`"), span));
                };
                self.resource_ref(scope, Mode::Managed, tf_type, name, &ops[1..], file, span)
            }
        }
    }

    /// Applies traversal operators to a value.
    fn apply(
        &self,
        scope: &Scope,
        mut value: Value,
        ops: &[&TraversalOperator],
        file: FileId,
        span: Span,
    ) -> Eval {
        for (i, op) in ops.iter().enumerate() {
            value = match op {
                TraversalOperator::GetAttr(name) => {
                    let mut v = get_attr(value, name.as_str(), span)?;
                    // A computed attribute is a reference written here (`aws_sqs_queue.q.url`),
                    // not at the resource it names: a finding about it points at this line.
                    if matches!(v.kind, ValueKind::Ref(_)) {
                        v.span = span;
                    }
                    v
                }
                TraversalOperator::Index(e) => {
                    let k = self.eval(scope, e, file)?;
                    index(value, &k, span)?
                }
                TraversalOperator::LegacyIndex(n) => index(value, &number(**n, span), span)?,
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let items = match value.kind {
                        ValueKind::List(items) => items,
                        ValueKind::Null => Vec::new(),
                        ValueKind::Unknown(_) | ValueKind::Choice(_) => {
                            return Ok(unknown("a splat over an unknown list", span));
                        }
                        _ => vec![value],
                    };
                    let rest = &ops[i + 1..];
                    let mut out = Vec::new();
                    for item in items {
                        out.push(self.apply(scope, item, rest, file, span)?);
                    }
                    return Ok(Value::new(ValueKind::List(out), span));
                }
            };
        }
        Ok(value)
    }

    pub fn var(&self, inst: usize, name: &str, span: Span) -> Value {
        let key = MemoKey::Var(inst, name.to_string());
        if let Some(v) = self.memo_get(&key) {
            return v.unwrap_or_else(|_| unknown(format!("var.{name}"), span));
        }
        self.memo.borrow_mut().insert(key.clone(), Slot::InProgress);
        let module_inst = self.inst(inst);
        let decl = module_inst.module.variables.iter().find(|v| v.name == name);
        let given = match module_inst.caller {
            None => self.root_vars.get(name).cloned(),
            Some((caller, call)) => {
                let caller_inst = self.inst(caller);
                let call = &caller_inst.module.modules[call];
                call.body.get_attribute(name).map(|a| {
                    self.eval_in(
                        caller,
                        &module_inst.binding,
                        &Expr {
                            expr: a.value.clone(),
                            file: call.file,
                        },
                    )
                })
            }
        };
        let value = given.or_else(|| {
            decl.and_then(|d| d.default.as_ref())
                .map(|d| self.eval_in(inst, &Binding::default(), d))
        });
        let value = value.unwrap_or_else(|| {
            Value::new(
                ValueKind::Unknown(Unknown::Parameter {
                    // A root module's variable by its name (`var.NAME`); a child module's
                    // with the module's address, so two modules' variables stay distinct.
                    name: format!("{}{name}", module_inst.prefix),
                    default: None,
                }),
                decl.map_or(span, |d| d.span),
            )
        });
        self.memo
            .borrow_mut()
            .insert(key, Slot::Done(Ok(value.clone())));
        value
    }

    fn local(&self, inst: usize, name: &str, span: Span) -> Eval {
        let key = MemoKey::Local(inst, name.to_string());
        if let Some(v) = self.memo_get(&key) {
            return v;
        }
        let module_inst = self.inst(inst);
        let Some(expr) = module_inst.module.locals.get(name) else {
            return Ok(unknown(format!("local.{name}"), span));
        };
        if matches!(self.memo.borrow().get(&key), Some(Slot::InProgress)) {
            self.diagnostics.borrow_mut().push(Diagnostic::input_error(
                expr.span(),
                format!("local.{name} refers to itself (a cycle between locals)"),
            ));
            let v = unknown(format!("local.{name} (a cycle)"), span);
            self.memo
                .borrow_mut()
                .insert(key, Slot::Done(Ok(v.clone())));
            return Ok(v);
        }
        self.memo.borrow_mut().insert(key.clone(), Slot::InProgress);
        let scope = Scope {
            inst,
            ..Scope::default()
        };
        let value = self.eval(&scope, &expr.expr, expr.file);
        // A cycle found while evaluating recorded its own result; keep that one.
        let mut memo = self.memo.borrow_mut();
        if let Some(Slot::Done(v)) = memo.get(&key) {
            return v.clone();
        }
        memo.insert(key, Slot::Done(value.clone()));
        value
    }

    fn memo_get(&self, key: &MemoKey) -> Option<Eval> {
        match self.memo.borrow().get(key) {
            Some(Slot::Done(v)) => Some(v.clone()),
            _ => None,
        }
    }

    /// The instances of a resource block (its `count` or `for_each`).
    pub fn instances(&self, inst: usize, decl_index: usize) -> Vec<Instance> {
        let key = MemoKey::Instances(inst, decl_index);
        if let Some(Slot::Instances(v)) = self.memo.borrow().get(&key) {
            return v.clone();
        }
        if matches!(self.memo.borrow().get(&key), Some(Slot::InProgress)) {
            return vec![symbolic_instance()];
        }
        self.memo.borrow_mut().insert(key.clone(), Slot::InProgress);
        let module_inst = self.inst(inst);
        let decl = &module_inst.module.resources[decl_index];
        let out = self.expand(
            inst,
            &module_inst.binding,
            decl.count.as_ref(),
            decl.for_each.as_ref(),
        );
        self.memo
            .borrow_mut()
            .insert(key, Slot::Instances(out.clone()));
        out
    }

    /// The instances a `count`/`for_each` pair makes (evaluated in `inst` with `binding`).
    pub fn expand(
        &self,
        inst: usize,
        binding: &Binding,
        count: Option<&Expr>,
        for_each: Option<&Expr>,
    ) -> Vec<Instance> {
        if let Some(count) = count {
            let v = self.eval_in(inst, binding, count);
            return match as_index(&v) {
                Some(n) if n <= MAX_INSTANCES => (0..n)
                    .map(|i| {
                        let k = number(i, v.span);
                        Instance {
                            suffix: format!("[{i}]"),
                            key: Some(k.clone()),
                            binding: Binding {
                                count_index: Some(k),
                                each: None,
                            },
                        }
                    })
                    .collect(),
                _ => vec![symbolic_instance()],
            };
        }
        if let Some(for_each) = for_each {
            let v = self.eval_in(inst, binding, for_each);
            let pairs: Option<Vec<(Value, Value)>> = match &v.kind {
                ValueKind::Map(m) => Some(
                    m.iter()
                        .map(|(k, v)| (Value::string(k.name.clone(), k.span), v.clone()))
                        .collect(),
                ),
                ValueKind::List(items) if items.iter().all(|i| scalar_text(i).is_some()) => Some(
                    items
                        .iter()
                        .map(|i| {
                            let text = scalar_text(i).unwrap_or_default();
                            (
                                Value::string(text.clone(), i.span),
                                Value::string(text, i.span),
                            )
                        })
                        .collect(),
                ),
                _ => None,
            };
            return match pairs {
                Some(pairs) if pairs.len() <= MAX_INSTANCES => pairs
                    .into_iter()
                    .map(|(k, v)| {
                        let text = scalar_text(&k).unwrap_or_default();
                        Instance {
                            suffix: format!("[{}]", quote(&text)),
                            key: Some(k.clone()),
                            binding: Binding {
                                count_index: None,
                                each: Some((k, v)),
                            },
                        }
                    })
                    .collect(),
                _ => vec![symbolic_instance()],
            };
        }
        vec![Instance {
            suffix: String::new(),
            key: None,
            binding: Binding::default(),
        }]
    }

    /// The address of a resource instance.
    pub fn address(&self, inst: usize, decl: &ResourceDecl, instance: &Instance) -> String {
        let prefix = &self.inst(inst).prefix;
        match decl.mode {
            Mode::Managed => format!("{prefix}{}.{}{}", decl.tf_type, decl.name, instance.suffix),
            Mode::Data => format!(
                "{prefix}data.{}.{}{}",
                decl.tf_type, decl.name, instance.suffix
            ),
        }
    }

    /// A resource's (or data source's) value or attribute. A computed attribute carries the
    /// span of the resource's declaration, which says nothing about where it is used: it is
    /// given the span of the expression that reads it, so a finding about
    /// `Resource = aws_sqs_queue.q.arn` points at that line, not at the queue.
    #[expect(
        clippy::too_many_arguments,
        reason = "the traversal's parts, passed through"
    )]
    fn resource_ref(
        &self,
        scope: &Scope,
        mode: Mode,
        tf_type: &str,
        name: &str,
        ops: &[&TraversalOperator],
        file: FileId,
        span: Span,
    ) -> Eval {
        let mut value = self.resource_ref_value(scope, mode, tf_type, name, ops, file, span)?;
        let declared = self
            .inst(scope.inst)
            .module
            .resources
            .iter()
            .find(|r| r.mode == mode && r.tf_type == tf_type && r.name == name)
            .map(|r| r.span);
        if declared == Some(value.span)
            && matches!(
                value.kind,
                ValueKind::Ref(_) | ValueKind::Template(_) | ValueKind::Unknown(_)
            )
        {
            value.span = span;
        }
        Ok(value)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the traversal's parts, passed through"
    )]
    fn resource_ref_value(
        &self,
        scope: &Scope,
        mode: Mode,
        tf_type: &str,
        name: &str,
        ops: &[&TraversalOperator],
        file: FileId,
        span: Span,
    ) -> Eval {
        let inst = scope.inst;
        let module_inst = self.inst(inst);
        let Some(decl_index) = module_inst
            .module
            .resources
            .iter()
            .position(|r| r.mode == mode && r.tf_type == tf_type && r.name == name)
        else {
            return Ok(unknown(format!("{tf_type}.{name}"), span));
        };
        let decl = &module_inst.module.resources[decl_index];
        let instances = self.instances(inst, decl_index);
        let single = decl.count.is_none() && decl.for_each.is_none();
        if single {
            let v = self.resource_value(inst, decl_index, &instances[0], span)?;
            return self.apply(scope, v, ops, file, span);
        }
        match ops.first() {
            Some(TraversalOperator::Index(e)) => {
                let k = self.eval(scope, e, file)?;
                let chosen = instances.iter().find(|i| {
                    i.key.as_ref().is_some_and(|ik| {
                        scalar_text(ik).is_some() && scalar_text(ik) == scalar_text(&k)
                    })
                });
                let chosen = match chosen {
                    Some(c) => c,
                    None if instances.iter().any(|i| i.key.is_none()) => {
                        &instances[instances.len() - 1]
                    }
                    None if scalar_text(&k).is_none() => {
                        return Ok(unknown(format!("{tf_type}.{name}[…]"), span));
                    }
                    None => return Err(EvalError),
                };
                let v = self.resource_value(inst, decl_index, chosen, span)?;
                self.apply(scope, v, &ops[1..], file, span)
            }
            Some(TraversalOperator::LegacyIndex(n)) => {
                let k = number(**n, span);
                let chosen = instances
                    .iter()
                    .find(|i| i.key.as_ref().and_then(scalar_text) == scalar_text(&k))
                    .or_else(|| instances.iter().find(|i| i.key.is_none()));
                let Some(chosen) = chosen else {
                    return Err(EvalError);
                };
                let v = self.resource_value(inst, decl_index, chosen, span)?;
                self.apply(scope, v, &ops[1..], file, span)
            }
            _ => {
                // The whole collection: a list (count) or a map (for_each) of instances.
                if instances.iter().any(|i| i.key.is_none()) {
                    if matches!(
                        ops.first(),
                        Some(TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_))
                    ) {
                        let v = self.resource_value(inst, decl_index, &instances[0], span)?;
                        let list = Value::new(ValueKind::List(vec![v]), span);
                        return self.apply(scope, list, ops, file, span);
                    }
                    return Ok(unknown(format!("{tf_type}.{name}"), span));
                }
                let collection = if decl.count.is_some() {
                    let mut items = Vec::new();
                    for i in &instances {
                        items.push(self.resource_value(inst, decl_index, i, span)?);
                    }
                    Value::new(ValueKind::List(items), span)
                } else {
                    let mut map = Map::default();
                    for i in &instances {
                        let k = i.key.as_ref().and_then(scalar_text).unwrap_or_default();
                        map.insert(
                            key(k, span),
                            self.resource_value(inst, decl_index, i, span)?,
                        );
                    }
                    Value::new(ValueKind::Map(map), span)
                };
                self.apply(scope, collection, ops, file, span)
            }
        }
    }

    /// The value of one resource instance: its configuration, with the computed attributes
    /// the mapping table knows as typed references.
    pub fn resource_value(
        &self,
        inst: usize,
        decl_index: usize,
        instance: &Instance,
        span: Span,
    ) -> Eval {
        let key = MemoKey::Resource(inst, decl_index, instance.suffix.clone());
        if let Some(v) = self.memo_get(&key) {
            return v;
        }
        let module_inst = self.inst(inst);
        let decl = &module_inst.module.resources[decl_index];
        let address = self.address(inst, decl, instance);
        if matches!(self.memo.borrow().get(&key), Some(Slot::InProgress)) {
            return Ok(unknown(address, span));
        }
        self.memo.borrow_mut().insert(key.clone(), Slot::InProgress);
        let scope = Scope {
            inst,
            binding: instance.binding.clone(),
            names: Vec::new(),
        };
        let mut value = self
            .eval_body(&scope, &decl.body, decl.file, decl.span)
            .unwrap_or_else(|_| Value::new(ValueKind::Map(Map::default()), decl.span));
        if let Some(map) = value.as_map_mut() {
            let region = self.region(span);
            let account = match self.decl_account(inst, decl) {
                Account::Stack => {
                    Value::new(ValueKind::Unknown(Unknown::Pseudo(Pseudo::AccountId)), span)
                }
                Account::Id(id) => Value::string(id, decl.span),
                Account::Unknown => unknown("the account of a provider configuration", span),
            };
            mapping::add_computed(
                decl.mode,
                &decl.tf_type,
                &address,
                map,
                decl.span,
                &region,
                &account,
            );
            let identity = match decl.mode {
                Mode::Managed => vec![
                    Value::string(decl.tf_type.clone(), decl.span),
                    Value::string(address.clone(), decl.span),
                ],
                Mode::Data => Vec::new(),
            };
            map.insert(
                key_marker(decl.span),
                Value::new(ValueKind::List(identity), decl.span),
            );
        }
        self.memo
            .borrow_mut()
            .insert(key, Slot::Done(Ok(value.clone())));
        Ok(value)
    }

    /// The region resources are deployed in: the root provider's literal `region`, else the
    /// pseudo parameter.
    pub fn region(&self, span: Span) -> Value {
        let root = self.inst(0);
        if let Some(r) = &root.module.provider_region {
            let v = self.eval_in(0, &Binding::default(), r);
            if scalar_text(&v).is_some() {
                return v;
            }
        }
        Value::new(ValueKind::Unknown(Unknown::Pseudo(Pseudo::Region)), span)
    }

    /// A block body as a map: attributes by name, nested blocks as lists of maps (as
    /// Terraform exposes them), `dynamic` blocks expanded.
    fn eval_body(&self, scope: &Scope, body: &Body, file: FileId, span: Span) -> Eval {
        let mut map = Map::default();
        for structure in body.iter() {
            if let Some(attr) = structure.as_attribute() {
                let name = attr.key.as_str();
                if META_ARGUMENTS.contains(&name) {
                    continue;
                }
                let v = match self.eval(scope, &attr.value, file) {
                    Ok(v) => v,
                    Err(_) => unknown(
                        "an expression Terraform would reject",
                        span_of(file, attr.value.span()),
                    ),
                };
                map.insert(key(name, span_of(file, attr.key.span())), v);
            } else if let Some(block) = structure.as_block() {
                let ident = block.ident.as_str();
                if META_ARGUMENTS.contains(&ident) {
                    continue;
                }
                let block_span = span_of(file, block.span());
                if ident == "dynamic" {
                    let Some(label) = block.labels.first().map(|l| l.as_str().to_string()) else {
                        continue;
                    };
                    let items = self.eval_dynamic(scope, block, &label, file, block_span)?;
                    push_block(&mut map, &label, block_span, items);
                    continue;
                }
                let v = self.eval_body(scope, &block.body, file, block_span)?;
                push_block(&mut map, ident, block_span, vec![v]);
            }
        }
        Ok(Value::new(ValueKind::Map(map), span))
    }

    fn eval_dynamic(
        &self,
        scope: &Scope,
        block: &hcl_edit::structure::Block,
        label: &str,
        file: FileId,
        span: Span,
    ) -> Result<Vec<Value>, EvalError> {
        let Some(for_each) = block.body.get_attribute("for_each") else {
            return Ok(Vec::new());
        };
        let iterator = block
            .body
            .get_attribute("iterator")
            .and_then(|a| a.value.as_variable().map(|v| v.as_str().to_string()))
            .unwrap_or_else(|| label.to_string());
        let Some(content) = block.body.blocks().find(|b| b.ident.as_str() == "content") else {
            return Ok(Vec::new());
        };
        let coll = self.eval(scope, &for_each.value, file)?;
        let pairs = match iteration_pairs(&coll) {
            Some(p) => p,
            None => {
                // Unknown collection: any number of blocks, each unknown. The consumer
                // decides what an unknown block means (an unknown statement makes the policy
                // document unknown; an unknown principal block an unknown principal).
                return Ok(vec![unknown(format!("dynamic \"{label}\" blocks"), span)]);
            }
        };
        let mut out = Vec::new();
        for (k, v) in pairs.into_iter().take(MAX_INSTANCES) {
            let mut obj = Map::default();
            obj.insert(key("key", span), k);
            obj.insert(key("value", span), v);
            let inner = scope.with(&[(iterator.clone(), Value::new(ValueKind::Map(obj), span))]);
            out.push(self.eval_body(&inner, &content.body, file, span)?);
        }
        Ok(out)
    }

    // ---- modules --------------------------------------------------------------------------

    /// The instances of module call `call` of instance `inst`: (key, instance index).
    pub fn module_instances(&self, inst: usize, call: usize) -> Vec<(Option<Value>, usize)> {
        let module_inst = self.inst(inst);
        if let Some(v) = module_inst.children.borrow().get(&call) {
            return v.clone();
        }
        // Mark in progress (an empty list) so a call whose count refers to itself ends.
        module_inst.children.borrow_mut().insert(call, Vec::new());
        let decl = &module_inst.module.modules[call];
        let mut out = Vec::new();
        if module_inst.depth < MAX_MODULE_DEPTH && self.insts.borrow().len() < MAX_MODULE_INSTANCES
        {
            let loaded = decl.source.as_deref().and_then(|s| {
                self.loader
                    .module(&module_inst.module, &decl.name, s, &module_inst.prefix)
            });
            let cyclic = loaded.as_ref().is_some_and(|m| {
                let mut cur = Some(inst);
                while let Some(i) = cur {
                    let mi = self.inst(i);
                    if Arc::ptr_eq(&mi.module, m) {
                        return true;
                    }
                    cur = mi.caller.map(|(c, _)| c);
                }
                false
            });
            if cyclic {
                self.diagnostics.borrow_mut().push(Diagnostic::input_error(
                    decl.span,
                    format!(
                        "module \"{}\" calls a module that is already being called (a cycle between modules)",
                        decl.name
                    ),
                ));
            }
            let instances = self.expand(
                inst,
                &module_inst.binding,
                decl.count.as_ref(),
                decl.for_each.as_ref(),
            );
            for instance in instances {
                let module = match (&loaded, cyclic) {
                    (Some(m), false) => Arc::clone(m),
                    _ => Arc::new(Module::default()),
                };
                let prefix = format!(
                    "{}module.{}{}.",
                    module_inst.prefix, decl.name, instance.suffix
                );
                let mut insts = self.insts.borrow_mut();
                let index = insts.len();
                insts.push(Rc::new(ModuleInst {
                    module,
                    prefix,
                    caller: Some((inst, call)),
                    binding: instance.binding.clone(),
                    children: RefCell::new(HashMap::new()),
                    depth: module_inst.depth + 1,
                    resolved: loaded.is_some() && !cyclic,
                }));
                out.push((instance.key.clone(), index));
            }
        }
        module_inst.children.borrow_mut().insert(call, out.clone());
        out
    }

    fn module_ref(
        &self,
        scope: &Scope,
        name: &str,
        ops: &[&TraversalOperator],
        file: FileId,
        span: Span,
    ) -> Eval {
        let inst = scope.inst;
        let module_inst = self.inst(inst);
        let Some(call) = module_inst
            .module
            .modules
            .iter()
            .position(|m| m.name == name)
        else {
            return Ok(unknown(format!("module.{name}"), span));
        };
        let decl = &module_inst.module.modules[call];
        let instances = self.module_instances(inst, call);
        let single = decl.count.is_none() && decl.for_each.is_none();
        let (child, rest) = if single {
            match instances.first() {
                Some((_, i)) => (*i, ops),
                None => return Ok(unknown(format!("module.{name}"), span)),
            }
        } else {
            match ops.first() {
                Some(TraversalOperator::Index(e)) => {
                    let k = self.eval(scope, e, file)?;
                    let found = instances
                        .iter()
                        .find(|(ik, _)| {
                            ik.as_ref()
                                .and_then(scalar_text)
                                .is_some_and(|t| Some(t) == scalar_text(&k))
                        })
                        .or_else(|| instances.iter().find(|(ik, _)| ik.is_none()));
                    match found {
                        Some((_, i)) => (*i, &ops[1..]),
                        None if instances.is_empty() => return Err(EvalError),
                        None => return Ok(unknown(format!("module.{name}[…]"), span)),
                    }
                }
                _ => return Ok(unknown(format!("module.{name}"), span)),
            }
        };
        let Some(TraversalOperator::GetAttr(output)) = rest.first() else {
            return Ok(unknown(format!("module.{name}"), span));
        };
        let v = self.output(child, output.as_str(), span)?;
        let mut v = self.apply(scope, v, &rest[1..], file, span)?;
        // A reference to a resource of the child module is read here: like a computed
        // attribute read in this module, it points at the expression that reads it.
        if matches!(v.kind, ValueKind::Ref(_)) {
            v.span = span;
        }
        Ok(v)
    }

    fn output(&self, inst: usize, name: &str, span: Span) -> Eval {
        let module_inst = self.inst(inst);
        let address = format!("{}{name}", module_inst.prefix);
        if !module_inst.resolved {
            return Ok(unknown(address, span));
        }
        let key = MemoKey::Output(inst, name.to_string());
        if let Some(v) = self.memo_get(&key) {
            return v;
        }
        if matches!(self.memo.borrow().get(&key), Some(Slot::InProgress)) {
            return Ok(unknown(address, span));
        }
        let Some(expr) = module_inst.module.outputs.get(name) else {
            return Ok(unknown(address, span));
        };
        self.memo.borrow_mut().insert(key.clone(), Slot::InProgress);
        let scope = Scope {
            inst,
            ..Scope::default()
        };
        let v = self.eval(&scope, &expr.expr, expr.file);
        self.memo.borrow_mut().insert(key, Slot::Done(v.clone()));
        v
    }

    /// Registers a file read by a function (`file`, `templatefile`), relative to instance
    /// `inst`'s module folder.
    /// Terraform runs in the root module's folder, so a relative path that is not already
    /// relative to where iamlint runs (as `path.module` is) is relative to the root module.
    pub fn read_file(&self, path: &str) -> Option<Arc<SourceFile>> {
        let path = std::path::Path::new(path);
        if path.is_relative() {
            let from_root = self.inst(0).module.dir.join(path);
            if from_root.is_file() {
                return self.loader.read_file(&from_root);
            }
        }
        self.loader.read_file(path)
    }

    pub fn file_text(&self, file: FileId, range: Option<std::ops::Range<usize>>) -> String {
        source_text(self, file, range)
    }
}

/// The scope of a function call's arguments, opaque to the functions module.
pub struct ScopeRef(Scope);

impl ScopeRef {
    pub fn inst(&self) -> usize {
        self.0.inst
    }
}

fn scope_ref(scope: &Scope) -> ScopeRef {
    ScopeRef(scope.clone())
}

fn source_text(ev: &Evaluator<'_>, file: FileId, range: Option<std::ops::Range<usize>>) -> String {
    let Some(r) = range else {
        return "a condition".to_string();
    };
    ev.loader
        .source(file)
        .and_then(|f| f.text.get(r).map(|s| s.trim().to_string()))
        .unwrap_or_else(|| "a condition".to_string())
}

fn key_marker(span: Span) -> Key {
    key(RESOURCE_MARKER, span)
}

fn symbolic_instance() -> Instance {
    Instance {
        suffix: "[*]".to_string(),
        key: None,
        binding: Binding::default(),
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn push_block(map: &mut Map, name: &str, span: Span, items: Vec<Value>) {
    match map.get_mut(name).map(|v| &mut v.kind) {
        Some(ValueKind::List(list)) => list.extend(items),
        _ => map.insert(key(name, span), Value::new(ValueKind::List(items), span)),
    }
}

/// The (key, value) pairs a `for` iterates over: index and element of a list, key and value
/// of a map. `None` when the collection is not known.
fn iteration_pairs(coll: &Value) -> Option<Vec<(Value, Value)>> {
    match &coll.kind {
        ValueKind::List(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (number(i, v.span), v.clone()))
                .collect(),
        ),
        ValueKind::Map(m) => Some(
            m.iter()
                .filter(|(k, _)| k.name != RESOURCE_MARKER)
                .map(|(k, v)| (Value::string(k.name.clone(), k.span), v.clone()))
                .collect(),
        ),
        ValueKind::Null => Some(Vec::new()),
        _ => None,
    }
}

pub fn get_attr(value: Value, name: &str, span: Span) -> Eval {
    match value.kind {
        ValueKind::Map(mut m) => {
            let marker = m.get(RESOURCE_MARKER);
            let is_resource = marker.is_some();
            if let Some([tf_type, address]) = marker.and_then(Value::as_list)
                && let (Some(tf_type), Some(address)) = (tf_type.as_str(), address.as_str())
                && let Some(r) = mapping::computed_reference(tf_type, address, name, span)
            {
                return Ok(r);
            }
            match m.remove(name) {
                Some(v) => Ok(v),
                None if is_resource => Ok(unknown(name.to_string(), span)),
                None => Err(EvalError),
            }
        }
        ValueKind::Null => Err(EvalError),
        // `block.0.attr` through a list of one block (`vpc_config[0]` written as an attribute
        // access is an error in Terraform too, but lists of blocks are read that way by the
        // mapping, never by user expressions).
        _ => Ok(unknown(name.to_string(), span)),
    }
}

pub fn index(value: Value, k: &Value, span: Span) -> Eval {
    match value.kind {
        ValueKind::List(mut items) => match as_index(k) {
            Some(i) if i < items.len() => Ok(items.swap_remove(i)),
            Some(_) => Err(EvalError),
            None => Ok(unknown("an element at an unknown index", span)),
        },
        ValueKind::Map(mut m) => match scalar_text(k) {
            Some(name) => m.remove(&name).ok_or(EvalError),
            None => Ok(unknown("an element at an unknown key", span)),
        },
        ValueKind::Null => Err(EvalError),
        _ => Ok(unknown("an element of an unknown collection", span)),
    }
}

fn binary(op: BinaryOperator, lhs: &Value, rhs: &Value, span: Span) -> Value {
    use BinaryOperator as B;
    let boolean = |b: bool| Value::new(ValueKind::Bool(b), span);
    match op {
        B::And => match (truth(lhs), truth(rhs)) {
            (Some(false), _) | (_, Some(false)) => boolean(false),
            (Some(true), Some(true)) => boolean(true),
            _ => unknown("an unknown condition", span),
        },
        B::Or => match (truth(lhs), truth(rhs)) {
            (Some(true), _) | (_, Some(true)) => boolean(true),
            (Some(false), Some(false)) => boolean(false),
            _ => unknown("an unknown condition", span),
        },
        B::Eq | B::NotEq => {
            let eq = if is_known(lhs) && is_known(rhs) {
                Some(values_equal(lhs, rhs))
            } else if matches!(lhs.kind, ValueKind::Null) != matches!(rhs.kind, ValueKind::Null)
                && (matches!(lhs.kind, ValueKind::Ref(_)) || matches!(rhs.kind, ValueKind::Ref(_)))
            {
                // A reference to a resource attribute is never null once applied.
                Some(false)
            } else {
                None
            };
            match eq {
                Some(e) => boolean(if op == B::Eq { e } else { !e }),
                None => unknown("an unknown comparison", span),
            }
        }
        _ => {
            let (Some(a), Some(b)) = (num(lhs), num(rhs)) else {
                return unknown("an unknown arithmetic result", span);
            };
            match op {
                B::Less => boolean(a < b),
                B::LessEq => boolean(a <= b),
                B::Greater => boolean(a > b),
                B::GreaterEq => boolean(a >= b),
                B::Plus => number(fmt_num(a + b), span),
                B::Minus => number(fmt_num(a - b), span),
                B::Mul => number(fmt_num(a * b), span),
                B::Div if b != 0.0 => number(fmt_num(a / b), span),
                B::Mod if b != 0.0 => number(fmt_num(a % b), span),
                _ => unknown("an unknown arithmetic result", span),
            }
        }
    }
}

fn num(v: &Value) -> Option<f64> {
    match &v.kind {
        ValueKind::Number(n) | ValueKind::String(n) => n.parse().ok(),
        _ => None,
    }
}

pub fn fmt_num(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Equality of two fully known values, as Terraform compares them (spans ignored).
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (&a.kind, &b.kind) {
        (ValueKind::Null, ValueKind::Null) => true,
        (ValueKind::List(x), ValueKind::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (ValueKind::Map(x), ValueKind::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(&k.name).is_some_and(|w| values_equal(v, w)))
        }
        (ValueKind::Number(x), ValueKind::Number(y)) => {
            x == y || x.parse::<f64>().ok() == y.parse::<f64>().ok()
        }
        _ => match (scalar_text(a), scalar_text(b)) {
            (Some(x), Some(y)) => {
                x == y
                    && matches!(a.kind, ValueKind::String(_))
                        == matches!(b.kind, ValueKind::String(_))
            }
            _ => false,
        },
    }
}

/// A part of a string: literal text of a known scalar, or a reference or unknown.
pub fn string_parts(v: &Value) -> Option<Vec<Part>> {
    Some(match &v.kind {
        ValueKind::String(s) | ValueKind::Number(s) => vec![Part::Lit(s.clone())],
        ValueKind::Bool(b) => vec![Part::Lit(b.to_string())],
        ValueKind::Ref(r) => vec![Part::Ref(r.clone())],
        ValueKind::Template(parts) => parts.clone(),
        ValueKind::Unknown(u) => vec![Part::Unknown(u.clone())],
        _ => return None,
    })
}

/// A string value from parts: a plain string when every part is literal.
pub fn from_parts(parts: Vec<Part>, span: Span) -> Value {
    let mut merged: Vec<Part> = Vec::new();
    for p in parts {
        match (merged.last_mut(), p) {
            (Some(Part::Lit(a)), Part::Lit(b)) => a.push_str(&b),
            (_, Part::Lit(b)) if b.is_empty() => {}
            (_, p) => merged.push(p),
        }
    }
    match merged.as_slice() {
        [] => Value::string("", span),
        [Part::Lit(s)] => Value::string(s.clone(), span),
        [Part::Ref(r)] => Value::new(ValueKind::Ref(r.clone()), span),
        [Part::Unknown(u)] => Value::new(ValueKind::Unknown(u.clone()), span),
        _ => Value::new(ValueKind::Template(merged), span),
    }
}

/// A typed reference to a computed attribute.
pub fn reference(address: &str, attribute: Attribute, span: Span) -> Value {
    Value::new(
        ValueKind::Ref(Reference {
            resource: address.to_string(),
            attribute,
        }),
        span,
    )
}
