//! The policy model: documents, statements, principals and conditions, with spans.
//!
//! [`parse_policy`] turns a policy document (a graph [`Value`]) into a [`Policy`] and a list of
//! [`Problem`]s. It never fails: a malformed statement becomes a problem, and is left out when
//! AWS would reject it outright (bad `Effect`, no `Action`).

use crate::eval::Glob;
use iamlint_core::value::ValueKind;
use iamlint_core::{Span, SymStr, Symbol, Value};
use serde::Serialize;

mod condition;
mod statements;

pub use condition::{ConditionOp, Operator, SetQualifier};
pub(crate) use statements::Candidates;
pub use statements::Statements;

/// Where a policy is attached; decides which elements it must and must not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    Identity,
    Resource,
    Trust,
    Boundary,
    ServiceControl,
    ResourceControl,
    Session,
    Endpoint,
}

impl PolicyKind {
    /// Policies that name the principal they apply to.
    fn needs_principal(self) -> bool {
        matches!(
            self,
            PolicyKind::Resource
                | PolicyKind::Trust
                | PolicyKind::ResourceControl
                | PolicyKind::Endpoint
        )
    }

    fn forbids_principal(self) -> bool {
        matches!(
            self,
            PolicyKind::Identity
                | PolicyKind::Boundary
                | PolicyKind::Session
                | PolicyKind::ServiceControl
        )
    }

    fn needs_resource(self) -> bool {
        matches!(
            self,
            PolicyKind::Identity | PolicyKind::Boundary | PolicyKind::Session
        )
    }
}

/// Turns a graph value into the string(s) it may stand for. A CloudFormation
/// `!Sub "${Bucket.Arn}/*"` arrives as `ValueKind::Template`/`Ref`/`Unknown`/`Choice`; the caller
/// (rules crate) knows how to turn those into symbolic ARNs.
pub trait Resolve {
    fn strings(&self, value: &Value) -> Vec<SymStr>;
}

/// Resolves only literal scalars (String, Number, Bool) and Templates made only of literal
/// parts; everything else is one opaque symbol; `Choice` gives the strings of both branches;
/// `NoValue` gives none.
#[derive(Clone, Copy, Debug, Default)]
pub struct LiteralResolver;

impl Resolve for LiteralResolver {
    fn strings(&self, value: &Value) -> Vec<SymStr> {
        match &value.kind {
            ValueKind::String(s) | ValueKind::Number(s) => vec![SymStr::lit(s.as_str())],
            ValueKind::Bool(b) => vec![SymStr::lit(if *b { "true" } else { "false" })],
            ValueKind::Template(parts) => {
                let mut out = SymStr::new();
                for part in parts {
                    match part {
                        iamlint_core::value::Part::Lit(s) => out.push_lit(s.as_str()),
                        _ => return vec![SymStr::sym(Symbol::Opaque)],
                    }
                }
                vec![out]
            }
            ValueKind::Choice(c) => {
                let mut out = self.strings(&c.if_true);
                out.extend(self.strings(&c.if_false));
                out
            }
            ValueKind::NoValue => Vec::new(),
            _ => vec![SymStr::sym(Symbol::Opaque)],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// A parsed policy document.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Read like a `Vec<Statement>`; kept with an index by action (see [`Statements`]).
    pub statements: Statements,
    pub span: Span,
    /// The `Version` element; policy variables are only recognised with `2012-10-17`.
    pub version: Option<String>,
}

impl Policy {
    /// True when `${...}` in this policy are policy variables rather than literal text
    /// (SEMANTICS.md §A.6: only with `"Version": "2012-10-17"`).
    pub fn variables_enabled(&self) -> bool {
        self.version.as_deref() == Some("2012-10-17")
    }
}

/// One statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub sid: Option<std::sync::Arc<str>>,
    pub effect: Effect,
    pub actions: ActionSet,
    /// `Resource`/`NotResource`; `None` where absent (trust policies).
    pub resources: Option<ResourceSet>,
    pub principals: Option<PrincipalSet>,
    pub conditions: Vec<Condition>,
    pub span: Span,
    /// False when the statement (or a part of it) sits under an undecidable `Fn::If`.
    pub certain: bool,
}

/// A pattern with the span it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub value: SymStr,
    pub span: Span,
}

/// `Action` (negated = false) or `NotAction` (negated = true).
#[derive(Clone, Debug, PartialEq)]
pub struct ActionSet {
    pub negated: bool,
    pub patterns: Vec<Pattern>,
    pub span: Span,
    /// Each literal pattern ASCII-lower-cased, computed once so that evaluating a request does
    /// not fold case again for every statement; `None` for symbolic patterns.
    lowered: Vec<Option<Glob>>,
    /// A one-word filter over the services the patterns name (see [`service_bit`]): most
    /// statements of a policy name other services than the request's, and this rules them out
    /// without reading their patterns.
    services: u64,
}

/// Two bits standing for the service of a lower-cased action or action pattern (the text before
/// its first `:`); every bit when the service is not a literal (`*`, `s3*:Get`, no `:`). Two
/// bits rather than one keep unrelated services from colliding (`s3` and `sts` share one).
pub(crate) fn service_bit(lowered: &str) -> u64 {
    let Some((service, _)) = lowered.split_once(':') else {
        return u64::MAX;
    };
    if service.contains(['*', '?']) {
        return u64::MAX;
    }
    // FNV-1a: cheap, and stable from run to run (the filter never decides an answer alone).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in service.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (1 << (h % 64)) | (1 << ((h >> 32) % 64))
}

impl ActionSet {
    pub fn new(negated: bool, patterns: Vec<Pattern>, span: Span) -> Self {
        let lowered: Vec<Option<Glob>> = patterns
            .iter()
            .map(|p| {
                p.value
                    .as_literal()
                    .map(|s| Glob::new(&s.to_ascii_lowercase()))
            })
            .collect();
        let services = lowered.iter().fold(0, |acc, l| {
            acc | l.as_ref().map_or(u64::MAX, |g| service_bit(g.text()))
        });
        ActionSet {
            negated,
            patterns,
            span,
            lowered,
            services,
        }
    }

    /// False when no pattern can match an action whose [`service_bit`] is `bits`.
    pub(crate) fn may_match_service(&self, bits: u64) -> bool {
        self.lowered().is_none() || self.services & bits == bits
    }

    /// The lower-cased literal patterns, index for index with `patterns`; `None` when
    /// `patterns` was changed after construction and they no longer correspond.
    pub(crate) fn lowered(&self) -> Option<&[Option<Glob>]> {
        (self.lowered.len() == self.patterns.len()).then_some(self.lowered.as_slice())
    }
}

/// `Resource` or `NotResource`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceSet {
    pub negated: bool,
    pub patterns: Vec<Pattern>,
    pub span: Span,
    /// Per pattern, its text when it is plain: literal ASCII without `${` whose every `*` may
    /// cross `:`, so that a plain glob decides it (the usual case). Held apart from `patterns`
    /// so that the evaluator reads it without going through the symbolic string.
    plain: Vec<Option<Glob>>,
}

impl ResourceSet {
    pub fn new(negated: bool, patterns: Vec<Pattern>, span: Span) -> Self {
        let plain = patterns
            .iter()
            .map(|p| {
                p.value
                    .as_literal()
                    .filter(|s| {
                        s.is_ascii() && !s.contains("${") && crate::eval::resource_glob_is_plain(s)
                    })
                    .map(Glob::new)
            })
            .collect();
        ResourceSet {
            negated,
            patterns,
            span,
            plain,
        }
    }

    /// The plain pattern texts, index for index with `patterns`; `None` when `patterns` was
    /// changed after construction and they no longer correspond.
    pub(crate) fn plain(&self) -> Option<&[Option<Glob>]> {
        (self.plain.len() == self.patterns.len()).then_some(self.plain.as_slice())
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Clone, Debug, PartialEq)]
pub struct PrincipalSet {
    pub negated: bool,
    pub principals: Vec<Principal>,
    pub span: Span,
}

/// The kind of a principal entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// `"Principal": "*"` or `{"AWS": "*"}`: everyone, anonymous included.
    Everyone,
    /// An account id, account root, role, user, session or federated-user ARN.
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub value: SymStr,
    pub span: Span,
}

/// One key under one operator: `"StringEquals": {"aws:SourceAccount": ["1", "2"]}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub operator: Operator,
    /// The key as written (matching is case-insensitive).
    pub key: String,
    pub values: Vec<Pattern>,
    pub span: Span,
    /// `key` ASCII-lower-cased, as the request context stores keys.
    key_lower: String,
    /// For `IpAddress`/`NotIpAddress`, each value parsed once as an address range.
    cidrs: Vec<Option<(std::net::IpAddr, u8)>>,
}

impl Condition {
    pub fn new(operator: Operator, key: String, values: Vec<Pattern>, span: Span) -> Self {
        let cidrs = if operator.base.positive() == ConditionOp::IpAddress {
            values
                .iter()
                .map(|p| p.value.as_literal().and_then(crate::eval::parse_cidr))
                .collect()
        } else {
            Vec::new()
        };
        Condition {
            key_lower: key.to_ascii_lowercase(),
            operator,
            key,
            values,
            span,
            cidrs,
        }
    }

    /// The lower-cased key; `None` when `key` was changed after construction.
    pub(crate) fn key_lower(&self) -> Option<&str> {
        (self.key_lower.len() == self.key.len()).then_some(self.key_lower.as_str())
    }

    /// The parsed range of the `index`-th value of an `IpAddress` condition, when it is
    /// literal and parses; `None` otherwise.
    pub(crate) fn cidr(&self, index: usize) -> Option<Option<(std::net::IpAddr, u8)>> {
        if self.cidrs.len() != self.values.len() {
            return None;
        }
        self.cidrs.get(index).copied()
    }
}

/// Something wrong in a policy document.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub message: String,
    pub span: Span,
}

struct Parser<'r> {
    kind: PolicyKind,
    resolve: &'r dyn Resolve,
    problems: Vec<Problem>,
}

/// Parses a policy document. Statements AWS would reject are reported and left out; everything
/// else is kept, with problems for what AWS would also flag.
pub fn parse_policy(
    doc: &Value,
    kind: PolicyKind,
    resolve: &dyn Resolve,
) -> (Policy, Vec<Problem>) {
    let mut p = Parser {
        kind,
        resolve,
        problems: Vec::new(),
    };
    let mut policy = Policy {
        statements: Statements::default(),
        span: doc.span,
        version: None,
    };
    let Some(map) = doc.as_map() else {
        p.problem(doc.span, "a policy document must be a JSON object");
        return (policy, p.problems);
    };
    if let Some(v) = map.get("Version") {
        match v.as_str() {
            Some(s @ ("2012-10-17" | "2008-10-17")) => policy.version = Some(s.to_string()),
            _ => p.problem(
                v.span,
                "`Version` must be \"2012-10-17\" (or the legacy \"2008-10-17\")",
            ),
        }
    }
    for (k, _) in map.iter() {
        if !matches!(k.name.as_str(), "Version" | "Statement" | "Id") {
            p.problem(k.span, format!("unknown policy element `{}`", k.name));
        }
    }
    match map.get("Statement") {
        None => p.problem(doc.span, "the policy has no `Statement`"),
        Some(st) => {
            let mut items = Vec::new();
            collect_alternatives(st, true, &mut items);
            for (item, certain) in items {
                for (s, c) in expand_list(item, certain) {
                    if let Some(statement) = p.statement(s, c) {
                        policy.statements.push(statement);
                    }
                }
            }
        }
    }
    (policy, p.problems)
}

/// Every branch of nested `Choice`s, each with whether it is reached for certain.
fn collect_alternatives<'v>(v: &'v Value, certain: bool, out: &mut Vec<(&'v Value, bool)>) {
    match &v.kind {
        ValueKind::Choice(c) => {
            collect_alternatives(&c.if_true, false, out);
            collect_alternatives(&c.if_false, false, out);
        }
        ValueKind::NoValue => {}
        _ => out.push((v, certain)),
    }
}

/// The items of a list (or the value itself), with `Choice` items expanded.
fn expand_list(v: &Value, certain: bool) -> Vec<(&Value, bool)> {
    let mut out = Vec::new();
    match &v.kind {
        ValueKind::List(items) => {
            for i in items {
                collect_alternatives(i, certain, &mut out);
            }
        }
        _ => out.push((v, certain)),
    }
    out
}

fn has_choice(v: &Value) -> bool {
    match &v.kind {
        ValueKind::Choice(_) => true,
        ValueKind::List(items) => items.iter().any(has_choice),
        ValueKind::Map(m) => m.iter().any(|(_, v)| has_choice(v)),
        _ => false,
    }
}

impl Parser<'_> {
    fn problem(&mut self, span: Span, message: impl Into<String>) {
        self.problems.push(Problem {
            message: message.into(),
            span,
        });
    }

    /// The strings of a one-or-many element, with spans; `certain` turns false on a `Choice`.
    fn patterns(&self, v: &Value, certain: &mut bool) -> Vec<Pattern> {
        let mut out = Vec::new();
        let mut items = Vec::new();
        collect_alternatives(v, true, &mut items);
        for (item, c) in items {
            for (scalar, c2) in expand_list(item, c) {
                *certain &= c2;
                for value in self.resolve.strings(scalar) {
                    out.push(Pattern {
                        value,
                        span: scalar.span,
                    });
                }
            }
        }
        out
    }

    fn statement(&mut self, v: &Value, certain: bool) -> Option<Statement> {
        let Some(map) = v.as_map() else {
            self.problem(v.span, "a statement must be a JSON object");
            return None;
        };
        let mut certain = certain && !has_choice(v);
        for (k, _) in map.iter() {
            if !matches!(
                k.name.as_str(),
                "Sid"
                    | "Effect"
                    | "Action"
                    | "NotAction"
                    | "Resource"
                    | "NotResource"
                    | "Principal"
                    | "NotPrincipal"
                    | "Condition"
            ) {
                self.problem(k.span, format!("unknown statement element `{}`", k.name));
            }
        }
        let sid = map
            .get("Sid")
            .and_then(|s| s.as_scalar_str())
            .map(|s| std::sync::Arc::<str>::from(s.as_ref()));
        let effect = match map.get("Effect") {
            None => {
                self.problem(v.span, "the statement has no `Effect`");
                return None;
            }
            Some(e) => match e.as_str() {
                Some("Allow") => Effect::Allow,
                Some("Deny") => Effect::Deny,
                _ => {
                    self.problem(
                        e.span,
                        "`Effect` must be \"Allow\" or \"Deny\" (case-sensitive)",
                    );
                    return None;
                }
            },
        };
        let actions = match (map.get_entry("Action"), map.get_entry("NotAction")) {
            (Some(_), Some((k, _))) => {
                self.problem(
                    k.span,
                    "a statement cannot have both `Action` and `NotAction`",
                );
                return None;
            }
            (None, None) => {
                self.problem(v.span, "the statement has no `Action` or `NotAction`");
                return None;
            }
            (Some((_, a)), None) => ActionSet::new(false, self.patterns(a, &mut certain), a.span),
            (None, Some((_, a))) => ActionSet::new(true, self.patterns(a, &mut certain), a.span),
        };
        for pat in &actions.patterns {
            if let Some(s) = pat.value.as_literal()
                && s != "*"
                && !s.contains(':')
            {
                self.problem(
                    pat.span,
                    format!("`{s}` is not an action: expected `service:Action`"),
                );
            }
        }
        let resources = match (map.get_entry("Resource"), map.get_entry("NotResource")) {
            (Some(_), Some((k, _))) => {
                self.problem(
                    k.span,
                    "a statement cannot have both `Resource` and `NotResource`",
                );
                return None;
            }
            (None, None) => {
                if self.kind.needs_resource() {
                    self.problem(v.span, "the statement has no `Resource` or `NotResource`");
                }
                None
            }
            (Some((_, r)), None) => Some(ResourceSet::new(
                false,
                self.patterns(r, &mut certain),
                r.span,
            )),
            (None, Some((_, r))) => Some(ResourceSet::new(
                true,
                self.patterns(r, &mut certain),
                r.span,
            )),
        };
        if let Some(rs) = &resources {
            for pat in &rs.patterns {
                if let Some(s) = pat.value.as_literal()
                    && s != "*"
                    && !s.starts_with("arn:")
                {
                    self.problem(
                        pat.span,
                        format!(
                            "`{s}` is not a resource ARN or `*`: it can never match a resource"
                        ),
                    );
                }
            }
        }
        let principals = match (map.get_entry("Principal"), map.get_entry("NotPrincipal")) {
            (Some(_), Some((k, _))) => {
                self.problem(
                    k.span,
                    "a statement cannot have both `Principal` and `NotPrincipal`",
                );
                return None;
            }
            (None, None) => {
                if self.kind.needs_principal() && self.kind != PolicyKind::ResourceControl {
                    self.problem(v.span, "the statement has no `Principal` or `NotPrincipal`");
                }
                None
            }
            (Some((k, p)), None) | (None, Some((k, p))) => {
                if self.kind.forbids_principal() {
                    self.problem(
                        k.span,
                        format!("`{}` is not allowed in this kind of policy", k.name),
                    );
                }
                Some(PrincipalSet {
                    negated: k.name == "NotPrincipal",
                    principals: self.principals(p, &mut certain),
                    span: p.span,
                })
            }
        };
        let conditions = match map.get("Condition") {
            Some(c) => self.conditions(c, &mut certain),
            None => Vec::new(),
        };
        Some(Statement {
            sid,
            effect,
            actions,
            resources,
            principals,
            conditions,
            span: v.span,
            certain,
        })
    }

    fn principals(&mut self, v: &Value, certain: &mut bool) -> Vec<Principal> {
        let mut out = Vec::new();
        if v.as_str() == Some("*") {
            out.push(Principal {
                kind: PrincipalKind::Everyone,
                value: SymStr::lit("*"),
                span: v.span,
            });
            return out;
        }
        let mut alts = Vec::new();
        collect_alternatives(v, true, &mut alts);
        for (alt, c) in alts {
            *certain &= c;
            let Some(map) = alt.as_map() else {
                self.problem(
                    alt.span,
                    "`Principal` must be \"*\" or an object with AWS, Service, Federated or CanonicalUser",
                );
                continue;
            };
            for (k, vals) in map.iter() {
                let kind = match k.name.as_str() {
                    "AWS" => PrincipalKind::Aws,
                    "Service" => PrincipalKind::Service,
                    "Federated" => PrincipalKind::Federated,
                    "CanonicalUser" => PrincipalKind::CanonicalUser,
                    other => {
                        self.problem(k.span, format!("unknown principal type `{other}`"));
                        continue;
                    }
                };
                for pat in self.patterns(vals, certain) {
                    let lit = pat.value.as_literal();
                    let kind = if kind == PrincipalKind::Aws && lit == Some("*") {
                        PrincipalKind::Everyone
                    } else {
                        kind
                    };
                    if let Some(s) = lit
                        && s != "*"
                        && (s.contains('*') || s.contains('?'))
                    {
                        self.problem(
                            pat.span,
                            format!(
                                "`{s}`: a principal cannot use a wildcard for part of its name or ARN; use `aws:PrincipalArn` with `ArnLike` instead"
                            ),
                        );
                    }
                    if kind == PrincipalKind::Aws
                        && let Some(s) = lit
                        && !s.starts_with("arn:")
                        && !(s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()))
                    {
                        self.problem(
                            pat.span,
                            format!("`{s}` is not an AWS account id or principal ARN"),
                        );
                    }
                    out.push(Principal {
                        kind,
                        value: pat.value,
                        span: pat.span,
                    });
                }
            }
        }
        out
    }

    fn conditions(&mut self, v: &Value, certain: &mut bool) -> Vec<Condition> {
        let mut out = Vec::new();
        let Some(map) = v.as_map() else {
            *certain &= !matches!(v.kind, ValueKind::Choice(_) | ValueKind::Unknown(_));
            self.problem(v.span, "`Condition` must be an object of operators");
            return out;
        };
        for (op_key, block) in map.iter() {
            let Some(operator) = Operator::parse(&op_key.name) else {
                self.problem(
                    op_key.span,
                    format!("unknown condition operator `{}`", op_key.name),
                );
                // The statement is rejected by AWS; keep it, but never claim it matches for sure.
                *certain = false;
                continue;
            };
            let Some(keys) = block.as_map() else {
                self.problem(
                    block.span,
                    format!("`{}` must be an object of condition keys", op_key.name),
                );
                *certain = false;
                continue;
            };
            for (key, vals) in keys.iter() {
                let values = self.patterns(vals, certain);
                if operator.base == ConditionOp::Null
                    && values.iter().any(|p| {
                        p.value.as_literal().is_some_and(|s| {
                            !s.eq_ignore_ascii_case("true") && !s.eq_ignore_ascii_case("false")
                        })
                    })
                {
                    self.problem(vals.span, "`Null` takes \"true\" or \"false\"");
                }
                out.push(Condition::new(
                    operator.clone(),
                    key.name.clone(),
                    values,
                    key.span.join(vals.span),
                ));
            }
        }
        out
    }
}
