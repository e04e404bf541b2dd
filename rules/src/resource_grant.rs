//! Same-account access through the identity policies *or* the target's own resource policy
//! (SEMANTICS.md A.10 #1): the resource policies of the stack that apply to one target, and the
//! evaluator's outcome with both layers.

use crate::context::Context;
use crate::principal::Role;
use iamlint_core::{Part, Pseudo, Resource, SymStr, Symbol, Value, ValueKind};
use iamlint_policy::eval::{
    self, Layers, MissingKeys, Outcome, Request, RequestContext, RequestPrincipal, Uncertainty,
};
use iamlint_policy::policy::{PolicyKind, parse_policy};

/// The resource policy that applies to a target.
#[derive(Debug)]
pub enum ResourcePolicy<'a> {
    /// None in the stack (the target may still be outside it).
    None,
    /// This one document.
    Known(&'a Value),
    /// One may apply that iamlint cannot evaluate or cannot tell apart: stay silent.
    Undecidable,
}

/// The stack resource a value names through its one reference (`!Ref X`, `!GetAtt X.Arn`,
/// `!Sub "${X.Arn}"`).
pub fn referenced<'a>(ctx: &Context<'a>, value: &Value) -> Option<&'a Resource> {
    let name = match &value.kind {
        ValueKind::Ref(r) => &r.resource,
        ValueKind::Template(parts) => {
            let mut refs = parts.iter().filter_map(|p| match p {
                Part::Ref(r) => Some(r),
                _ => None,
            });
            let first = refs.next()?;
            if refs.any(|r| r.resource != first.resource) {
                return None;
            }
            &first.resource
        }
        _ => return None,
    };
    ctx.stack.resource(name)
}

/// How a list (or single value) of policy targets relates to resource `target`.
enum Targets {
    Names,
    Others,
    Maybe,
}

fn targets(ctx: &Context<'_>, value: Option<&Value>, target: &Resource) -> Targets {
    let Some(value) = value else {
        return Targets::Maybe;
    };
    let mut out = Targets::Others;
    for alt in value.alternatives() {
        let items: Vec<&Value> = match alt.as_list() {
            Some(items) => items.iter().collect(),
            None => vec![alt],
        };
        for item in items {
            if item.is_no_value() {
                continue;
            }
            match referenced(ctx, item) {
                Some(r) if r.id == target.id => return Targets::Names,
                // A reference to another resource of the stack names that resource.
                Some(_) => {}
                // A literal, a parameter, an import: it could be the target.
                None => out = Targets::Maybe,
            }
        }
    }
    out
}

/// The resource policy of the stack that applies to the resource `target_value` names.
pub fn resource_policy_of<'a>(ctx: &Context<'a>, target_value: &Value) -> ResourcePolicy<'a> {
    let Some(target) = referenced(ctx, target_value) else {
        return ResourcePolicy::None;
    };
    // (policy type, property naming the targets, property holding the document)
    let holders: &[(&str, &str, &str)] = match target.kind.as_str() {
        "AWS::SQS::Queue" => &[("AWS::SQS::QueuePolicy", "Queues", "PolicyDocument")],
        "AWS::SNS::Topic" => &[
            ("AWS::SNS::TopicPolicy", "Topics", "PolicyDocument"),
            ("AWS::SNS::TopicInlinePolicy", "TopicArn", "PolicyDocument"),
        ],
        "AWS::S3::Bucket" => &[("AWS::S3::BucketPolicy", "Bucket", "PolicyDocument")],
        "AWS::EFS::FileSystem" => {
            return match target.property("FileSystemPolicy") {
                None => ResourcePolicy::None,
                Some(doc) if doc.as_map().is_some() => ResourcePolicy::Known(doc),
                Some(_) => ResourcePolicy::Undecidable,
            };
        }
        "AWS::Events::EventBus" => {
            if target.property("Policy").is_some() {
                return ResourcePolicy::Undecidable;
            }
            // `AWS::Events::EventBusPolicy` holds one statement or a condition form iamlint
            // does not evaluate: any that may apply makes the answer undecidable.
            return if ctx
                .stack
                .resources_of("AWS::Events::EventBusPolicy")
                .any(|p| {
                    !matches!(
                        targets(ctx, p.property("EventBusName"), target),
                        Targets::Others
                    )
                }) {
                ResourcePolicy::Undecidable
            } else {
                ResourcePolicy::None
            };
        }
        "AWS::Lambda::Function" => {
            // A permission for an IAM principal (not a service) may grant the caller.
            return if ctx.stack.resources_of("AWS::Lambda::Permission").any(|p| {
                !matches!(
                    targets(ctx, p.property("FunctionName"), target),
                    Targets::Others
                ) && !p
                    .property("Principal")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.ends_with(".amazonaws.com") || s.ends_with(".amazon.com"))
            }) {
                ResourcePolicy::Undecidable
            } else {
                ResourcePolicy::None
            };
        }
        _ => return ResourcePolicy::None,
    };
    let mut found = Vec::new();
    for (kind, targets_property, document) in holders {
        for policy in ctx.stack.resources_of(kind) {
            match targets(ctx, policy.property(targets_property), target) {
                Targets::Others => {}
                Targets::Maybe => return ResourcePolicy::Undecidable,
                Targets::Names => match policy.property(document) {
                    Some(doc) if doc.as_map().is_some() && policy.condition.is_none() => {
                        found.push(doc);
                    }
                    _ => return ResourcePolicy::Undecidable,
                },
            }
        }
    }
    match found.as_slice() {
        [] => ResourcePolicy::None,
        [one] => ResourcePolicy::Known(one),
        // Several policies for one target: which one is in effect depends on order.
        _ => ResourcePolicy::Undecidable,
    }
}

/// The evaluator's outcome for `role` calling `action` on `resource` of its own account, with
/// its identity policies, boundary and (when given) the target's resource policy, in `context`
/// (unknown keys stay unknown).
pub fn outcome(
    ctx: &Context<'_>,
    role: &Role<'_>,
    action: &str,
    resource: &SymStr,
    resource_policy: Option<&Value>,
    context: &RequestContext,
) -> Outcome {
    let parsed = crate::evaluate::parsed_role(ctx, role);
    let Some(boundaries) = &parsed.boundary else {
        return Outcome::Unknown(Uncertainty::Value);
    };
    let resource_policy =
        resource_policy.map(|doc| parse_policy(doc, PolicyKind::Resource, &ctx.resolver).0);
    let layers = Layers {
        identity: parsed.identity.iter().collect(),
        boundaries: boundaries.iter().collect(),
        resource: resource_policy.as_ref(),
        ..Layers::default()
    };
    let request = Request {
        principal: RequestPrincipal::Arn(role.arn.clone()),
        action: action.to_string(),
        resource: resource.clone(),
        resource_account: Some(SymStr::sym(Symbol::Pseudo(Pseudo::AccountId))),
        context: context.clone(),
    };
    eval::evaluate(&request, &layers).outcome
}

/// A request context where every key is unknown.
pub fn unknown_context() -> RequestContext {
    RequestContext::new(MissingKeys::Unknown)
}
