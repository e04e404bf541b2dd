//! The `Policies` property and the generated execution role
//! (`model/resource_policies.py`, `model/role_utils/role_constructor.py`,
//! `plugins/policies/policy_templates_plugin.py`, `policy_template_processor/template.py`).

use super::Context;
use super::value::{fn_if, intrinsic, is_no_value, key, list, make_if, obj, respan, s, same};
use iamlint_core::{Map, Span, Value, ValueKind};

/// The partition the translator writes literal ARNs for (it runs in the stack's partition; the
/// commercial one is what templates are deployed to unless told otherwise).
const PARTITION: &str = "aws";

/// The ARN of an AWS managed policy given its path and name (`service-role/AWSLambdaRole`),
/// as `ArnGenerator.generate_aws_managed_policy_arn` writes it.
pub(super) fn aws_managed_arn(path_and_name: &str, span: Span) -> Value {
    s(
        format!("arn:{PARTITION}:iam::aws:policy/{path_and_name}"),
        span,
    )
}

/// Resolves a `Policies` string the way the translator does: a known AWS managed policy name
/// becomes its ARN; anything else (an ARN, a customer policy name) is kept as written.
pub(super) fn resolve_managed_name(name: &str) -> Option<String> {
    iamlint_policy::sam_templates::managed_policy_arn(name).map(str::to_string)
}

/// The kind of one `Policies` entry (`ResourcePolicies._get_type`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum PolicyType {
    Managed,
    Statement,
    Template,
    Unknown,
}

/// The role being generated for a SAM resource.
#[derive(Debug)]
pub(super) struct Role {
    pub logical_id: String,
    pub span: Span,
    pub trust: Value,
    pub managed: Vec<Value>,
    /// `{"PolicyName", "PolicyDocument"}` entries (or `Fn::If` of them).
    pub inline: Vec<Value>,
    pub path: Option<Value>,
    pub boundary: Option<Value>,
    /// `Tags` as CloudFormation writes them (a list of `{Key, Value}`).
    pub tags: Option<Value>,
}

impl Role {
    pub(super) fn new(owner: &str, trust: Value, span: Span) -> Role {
        Role {
            logical_id: format!("{owner}Role"),
            span,
            trust,
            managed: Vec::new(),
            inline: Vec::new(),
            path: None,
            boundary: None,
            tags: None,
        }
    }

    /// Adds a managed policy ARN unless an equal one is already attached (the translator
    /// de-duplicates).
    pub(super) fn add_managed(&mut self, arn: Value) {
        if !self.managed.iter().any(|m| same(m, &arn)) {
            self.managed.push(arn);
        }
    }

    /// Adds an inline policy the way event sources do (`_link_policy`): skipped when an
    /// identical policy or one with the same document is present.
    pub(super) fn link_inline(&mut self, policy: Value) {
        let doc = policy.get("PolicyDocument");
        let duplicate = self.inline.iter().any(|p| {
            same(p, &policy)
                || match (p.get("PolicyDocument"), doc) {
                    (Some(a), Some(b)) => same(a, b),
                    _ => false,
                }
        });
        if !duplicate {
            self.inline.push(policy);
        }
    }

    /// Adds the resource's `Policies` (after policy-template expansion), as
    /// `construct_role_for_resource` does: statements become `<Role>Policy<index>`, strings and
    /// intrinsics become managed policy ARNs.
    pub(super) fn add_policies(&mut self, entries: &[Value], owner: &str, ctx: &mut Context<'_>) {
        for (index, entry) in entries.iter().enumerate() {
            let name = format!("{}Policy{index}", self.logical_id);
            match classify(entry, false) {
                Some(PolicyType::Statement) => {
                    let named = |doc: &Value| {
                        obj(
                            vec![
                                ("PolicyName", s(name.clone(), doc.span)),
                                ("PolicyDocument", doc.clone()),
                            ],
                            doc.span,
                        )
                    };
                    let policy = match fn_if(entry) {
                        Some((c, t, f)) => make_if(
                            c,
                            if is_no_value(t) { t.clone() } else { named(t) },
                            if is_no_value(f) { f.clone() } else { named(f) },
                            entry.span,
                        ),
                        None => named(entry),
                    };
                    self.inline.push(policy);
                }
                Some(PolicyType::Managed) => {
                    let arn = match (&entry.kind, fn_if(entry)) {
                        (ValueKind::String(name), _) => managed_from_name(name, entry.span),
                        (_, Some((c, t, f))) => {
                            let convert = |v: &Value| match v.as_str() {
                                Some(n) if !is_no_value(v) => managed_from_name(n, v.span),
                                _ => v.clone(),
                            };
                            make_if(c, convert(t), convert(f), entry.span)
                        }
                        _ => entry.clone(),
                    };
                    self.add_managed(arn);
                }
                Some(PolicyType::Template) | Some(PolicyType::Unknown) | None => {
                    ctx.error(
                        entry.span,
                        owner,
                        format!(
                            "Resource with id [{owner}] is invalid. Policy at index {index} in the 'Policies' property is not valid"
                        ),
                    );
                }
            }
        }
    }

    /// The `AWS::IAM::Role` resource.
    pub(super) fn into_resource(self, attributes_from: &Value) -> Value {
        let span = self.span;
        let mut props = Map::default();
        props.insert(key("AssumeRolePolicyDocument", span), self.trust);
        props.insert(key("ManagedPolicyArns", span), list(self.managed, span));
        if !self.inline.is_empty() {
            props.insert(key("Policies", span), list(self.inline, span));
        }
        if let Some(path) = self.path {
            props.insert(key("Path", path.span), path);
        }
        if let Some(boundary) = self.boundary {
            props.insert(key("PermissionsBoundary", boundary.span), boundary);
        }
        if let Some(tags) = self.tags {
            props.insert(key("Tags", tags.span), tags);
        }
        let mut role = super::value::resource_shell("AWS::IAM::Role", attributes_from, span);
        if let Some(m) = role.as_map_mut() {
            m.insert(
                key("Properties", span),
                Value::new(ValueKind::Map(props), span),
            );
        }
        role
    }
}

fn managed_from_name(name: &str, span: Span) -> Value {
    s(
        resolve_managed_name(name).unwrap_or_else(|| name.to_owned()),
        span,
    )
}

/// `ResourcePolicies._get_type`; `templates` says whether policy templates are recognised
/// (only the policy-template plugin recognises them). `None` when an `Fn::If` mixes kinds.
fn classify(policy: &Value, templates: bool) -> Option<PolicyType> {
    if policy.as_str().is_some() {
        return Some(PolicyType::Managed);
    }
    if let Some((_, t, f)) = fn_if(policy) {
        let (tt, ft) = (classify(t, templates)?, classify(f, templates)?);
        if tt == ft {
            return Some(tt);
        }
        if is_no_value(t) {
            return Some(ft);
        }
        if is_no_value(f) {
            return Some(tt);
        }
        return None;
    }
    if intrinsic(policy).is_some() {
        return Some(PolicyType::Managed);
    }
    if let Some(m) = policy.as_map() {
        if m.get("Statement").is_some() {
            return Some(PolicyType::Statement);
        }
        if templates && m.len() == 1 && m.keys().next().is_some_and(|n| template(n).is_some()) {
            return Some(PolicyType::Template);
        }
    }
    Some(PolicyType::Unknown)
}

/// The `Policies` property as a list of entries (a single entry may be written bare).
pub(super) fn entries(policies: Option<&Value>) -> Vec<Value> {
    match policies {
        None => Vec::new(),
        Some(v) if !super::value::truthy(Some(v)) => Vec::new(),
        Some(v) => match &v.kind {
            ValueKind::List(items) => items.clone(),
            _ => vec![v.clone()],
        },
    }
}

/// Replaces the policy-template entries of `entries` with the statements they stand for (the
/// policy-templates plugin, which runs before the resource is translated).
pub(super) fn expand_templates(
    entries: Vec<Value>,
    owner: &str,
    ctx: &mut Context<'_>,
) -> Vec<Value> {
    entries
        .into_iter()
        .map(|entry| {
            if classify(&entry, true) != Some(PolicyType::Template) {
                return entry;
            }
            if let Some((c, t, f)) = fn_if(&entry) {
                let t = if is_no_value(t) {
                    t.clone()
                } else {
                    convert_template(t, owner, ctx)
                };
                let f = if is_no_value(f) {
                    f.clone()
                } else {
                    convert_template(f, owner, ctx)
                };
                return make_if(c, t, f, entry.span);
            }
            convert_template(&entry, owner, ctx)
        })
        .collect()
}

/// One `{TemplateName: {Param: value}}` entry → `{"Statement": [...]}`.
fn convert_template(entry: &Value, owner: &str, ctx: &mut Context<'_>) -> Value {
    let Some((name_key, params)) = entry.as_map().and_then(|m| m.entries.first()) else {
        return entry.clone();
    };
    let name = name_key.name.as_str();
    let Some(tpl) = template(name) else {
        return entry.clone();
    };
    let Some(values) = params.as_map() else {
        ctx.error(
            params.span,
            owner,
            format!(
                "Resource with id [{owner}] is invalid. Must specify valid parameter values for policy template '{name}'"
            ),
        );
        return entry.clone();
    };
    let mut missing: Vec<&str> = tpl
        .parameters
        .iter()
        .map(String::as_str)
        .filter(|p| values.get(p).is_none())
        .collect();
    if !missing.is_empty() {
        missing.sort_unstable();
        ctx.error(
            entry.span,
            owner,
            format!(
                "Resource with id [{owner}] is invalid. Following required parameters of template '{name}' don't have values: {missing:?}"
            ),
        );
        return entry.clone();
    }
    substitute(&tpl.definition, &tpl.parameters, values, entry.span)
}

/// A policy template as the policy-template data describes it.
pub(super) struct TemplateDef {
    pub parameters: Vec<String>,
    pub definition: serde_json::Value,
}

/// The policy template called `name`.
fn template(name: &str) -> Option<TemplateDef> {
    iamlint_policy::sam_templates::template(name).map(|t| TemplateDef {
        parameters: t.parameters.clone(),
        definition: t.definition.clone(),
    })
}

/// Instantiates a template definition: every `{"Ref": P}` for a declared parameter `P` is
/// replaced with the value given for it (only `Ref` is resolved, so `Fn::Sub` variable maps
/// such as `{"queueName": {"Ref": "QueueName"}}` receive the value). Other `Ref`s (pseudo
/// parameters) are kept. The result spans `span` except for the substituted values, which
/// keep their own spans.
pub(super) fn substitute(
    definition: &serde_json::Value,
    parameters: &[String],
    values: &Map,
    span: Span,
) -> Value {
    match definition {
        serde_json::Value::Object(o) => {
            if o.len() == 1
                && let Some(serde_json::Value::String(p)) = o.get("Ref")
                && parameters.iter().any(|q| q == p)
                && let Some(v) = values.get(p)
            {
                return v.clone();
            }
            Value::new(
                ValueKind::Map(Map {
                    entries: o
                        .iter()
                        .map(|(k, v)| (key(k, span), substitute(v, parameters, values, span)))
                        .collect(),
                }),
                span,
            )
        }
        serde_json::Value::Array(items) => list(
            items
                .iter()
                .map(|i| substitute(i, parameters, values, span))
                .collect(),
            span,
        ),
        other => respan(other, span),
    }
}
