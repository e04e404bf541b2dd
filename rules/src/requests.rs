//! What rules share about principals and the requests they make: the execution role of a
//! function, what the stack's wiring requires of each role ([`Requirement`]), and the outcome
//! of a set of required actions on one resource.

use crate::context::Context;
use crate::principal::{Role, RoleRef, role_ref};
use iamlint_core::{
    Attribute, Diagnostic, Part, Resource, Severity, Span, Stack, SymPart, SymStr, Value, ValueKind,
};
use iamlint_policy::eval::{Outcome, Uncertainty};

/// Something a role must be allowed to do because of how the stack wires it: a Lambda
/// function in a VPC needs its role to manage network interfaces, an event source mapping
/// needs it to read the queue. Rules own their requirements ([`crate::registry::Rule::requirements`]);
/// the rules about denies, boundaries and SCPs check every rule's requirements.
#[derive(Clone, Debug)]
pub struct Requirement<'a> {
    /// The logical id of the role that makes the request.
    pub role: String,
    /// Where the resource names its role (`Role: !GetAtt FunctionRole.Arn`).
    pub role_value: &'a Value,
    pub actions: Vec<&'static str>,
    /// The resource the actions are called on (`*` for actions without a resource type).
    pub resource: SymStr,
    /// The code of the rule that requires it.
    pub code: &'static str,
    /// Why, in a few words: "Lambda function App is attached to a VPC".
    pub why: String,
    /// What causes the requirement (the `VpcConfig` key, the event source ARN).
    pub span: Span,
    /// The value naming the resource in the template, quoted in fixes; `None` when the
    /// resource is `*` or an ARN iamlint builds.
    pub cite: Option<&'a Value>,
    /// The resource the requirement belongs to (function, mapping, state machine).
    pub subject: String,
    /// How bad it is when the requirement is not met: the severity the requiring rule reports
    /// for a certain failure (runtime-only failures are warnings).
    pub severity: Severity,
    /// The service makes the request with the role's credentials (Lambda creating network
    /// interfaces, polling a queue, decrypting the environment), rather than the resource's
    /// own code: the request never comes through the user's VPC endpoints.
    pub via_service: bool,
}

impl Requirement<'_> {
    /// "Lambda function App is attached to a VPC and needs them (IAM001)": the sentence that
    /// ends a finding about the requirement, for `count` of its actions.
    pub fn because(&self, count: usize) -> String {
        let mut why = self.why.clone();
        if let Some(first) = why.get(..1) {
            why = first.to_ascii_uppercase() + &why[1..];
        }
        let them = if count == 1 { "it" } else { "them" };
        format!("{why} and needs {them} ({}).", self.code)
    }

    /// The resource as `Fn::Sub` writes it, for messages.
    pub fn resource_text(&self, ctx: &Context<'_>) -> String {
        ctx.sub_text(&self.resource)
    }
}

/// A [`Requirement`] with the condition keys its requests carry beyond the role's own
/// (`kms:ViaService` when a service uses a key for the role, the access point of an EFS
/// mount): a deny or a boundary conditioned on them is judged with them.
#[derive(Clone, Debug)]
pub struct Required<'a> {
    pub req: Requirement<'a>,
    /// (condition key, values) pairs added to the role's request context.
    pub context: Vec<(&'static str, Vec<SymStr>)>,
}

impl<'a> From<Requirement<'a>> for Required<'a> {
    fn from(req: Requirement<'a>) -> Self {
        Required {
            req,
            context: Vec::new(),
        }
    }
}

/// Every rule's requirements with their request context, for the rules about denies,
/// boundaries and SCPs (whatever rules are selected).
pub fn all_required<'a>(ctx: &Context<'a>) -> Vec<Required<'a>> {
    crate::registry::rules()
        .iter()
        .flat_map(|rule| rule.required(ctx))
        .collect()
}

/// Whether the role's own identity policies allow `action` on `resource` in `context` and
/// only its boundary or an SCP/RCP level can take it away: then a denial is IAM030's
/// finding (or IAM029's), and the wiring rule that requires the action stays silent.
pub fn limited(
    ctx: &Context<'_>,
    role: &Role<'_>,
    action: &str,
    resource: &SymStr,
    context: &[(&'static str, Vec<SymStr>)],
) -> bool {
    crate::evaluate::decide_with(
        ctx,
        role,
        action,
        resource,
        crate::evaluate::Scope::IDENTITY,
        None,
        context,
    )
    .is_some_and(|d| d.outcome == Outcome::Allowed)
}

/// The resource policy of a resource of the stack that `arn` names (`!GetAtt Queue.Arn`,
/// `!Ref Topic`, `!GetAtt Key.Arn`, `${Bucket.Arn}/*`), with a name for messages: the queue
/// policy, topic policy, key policy or bucket policy that applies to it.
pub fn resource_policy<'a>(ctx: &Context<'a>, arn: &SymStr) -> Option<(&'a Value, String)> {
    let target = arn.parts().iter().find_map(|p| match p {
        SymPart::Sym(iamlint_core::Symbol::Attr(r)) => Some(r.resource.clone()),
        _ => None,
    })?;
    let resource = ctx.stack.resource(&target)?;
    let names = |list: Option<&Value>| -> bool {
        list.map(Value::as_one_or_many)
            .unwrap_or_default()
            .iter()
            .any(|v| matches!(&v.kind, ValueKind::Ref(r) if r.resource == target))
    };
    match resource.kind.as_str() {
        "AWS::EFS::FileSystem" => resource
            .property("FileSystemPolicy")
            .map(|doc| (doc, format!("the file system policy of {target}"))),
        "AWS::KMS::Key" => resource
            .property("KeyPolicy")
            .map(|doc| (doc, format!("the key policy of {target}"))),
        "AWS::SQS::Queue" => ctx
            .stack
            .resources_of("AWS::SQS::QueuePolicy")
            .find(|p| names(p.property("Queues")))
            .and_then(|p| {
                p.property("PolicyDocument")
                    .map(|d| (d, format!("queue policy {}", p.id)))
            }),
        "AWS::SNS::Topic" => ctx
            .stack
            .resources_of("AWS::SNS::TopicPolicy")
            .find(|p| names(p.property("Topics")))
            .and_then(|p| {
                p.property("PolicyDocument")
                    .map(|d| (d, format!("topic policy {}", p.id)))
            }),
        "AWS::S3::Bucket" => ctx
            .stack
            .resources_of("AWS::S3::BucketPolicy")
            .find(|p| names(p.property("Bucket")))
            .and_then(|p| {
                p.property("PolicyDocument")
                    .map(|d| (d, format!("bucket policy {}", p.id)))
            }),
        _ => None,
    }
}

/// The closed role a resource runs as, with the value that names it. `None` when the role is
/// outside the stack or not fully visible (rules stay silent then).
pub fn closed_role<'c, 'a>(ctx: &'c Context<'a>, role_value: &'a Value) -> Option<&'c Role<'a>> {
    let RoleRef::InStack(resource) = role_ref(ctx.stack, role_value) else {
        return None;
    };
    ctx.role(&resource.id).filter(|role| role.is_closed())
}

/// The execution role of a Lambda function, when closed.
pub fn function_role<'c, 'a>(
    ctx: &'c Context<'a>,
    function: &'a Resource,
) -> Option<(&'c Role<'a>, &'a Value)> {
    let value = function.property("Role")?;
    Some((closed_role(ctx, value)?, value))
}

/// How a role fares on a set of actions it needs on one resource.
#[derive(Debug, Default)]
pub struct Needs {
    /// Denied in every resolution of what is unknown, with no explicit deny.
    pub missing: Vec<&'static str>,
    /// Allowed only under conditions iamlint cannot decide.
    pub conditional: Vec<&'static str>,
    /// Denied by an explicit `Deny`.
    pub denied: Vec<&'static str>,
    /// Allowed by the identity policies but not by the permissions boundary or an SCP/RCP
    /// level: IAM030's finding (the identity policy needs no change), so not in `missing`.
    pub limited: Vec<&'static str>,
}

impl Needs {
    /// Nothing is missing or in doubt for the role's own policies (what a boundary or SCP
    /// takes away is in `limited`, reported by IAM030).
    pub fn is_met(&self) -> bool {
        self.missing.is_empty() && self.conditional.is_empty() && self.denied.is_empty()
    }
}

/// Asks the evaluator about each action of `actions` on `resource` for `role`.
pub fn needs(
    ctx: &Context<'_>,
    role: &Role<'_>,
    actions: &[&'static str],
    resource: &SymStr,
) -> Needs {
    needs_in(ctx, role, actions, resource, &[])
}

/// [`needs`] for requests that carry condition keys beyond the role's own
/// (`iam:PassedToService` when a service passes a role on, `ecs:cluster` for `RunTask`).
pub fn needs_in(
    ctx: &Context<'_>,
    role: &Role<'_>,
    actions: &[&'static str],
    resource: &SymStr,
    context: &[(&'static str, Vec<SymStr>)],
) -> Needs {
    let mut out = Needs::default();
    for action in actions {
        let outcome = if context.is_empty() {
            crate::evaluate::identity_outcome(ctx, role, action, resource)
        } else {
            crate::evaluate::decide_with(
                ctx,
                role,
                action,
                resource,
                crate::evaluate::Scope::ALL,
                None,
                context,
            )
            .map_or(Outcome::Unknown(Uncertainty::Value), |d| d.outcome)
        };
        let only_limits = || {
            if context.is_empty() {
                crate::evaluate::only_limits_deny(ctx, role, action, resource)
            } else {
                limited(ctx, role, action, resource, context)
            }
        };
        match outcome {
            Outcome::Allowed | Outcome::Unknown(Uncertainty::Value) => {}
            Outcome::Unknown(Uncertainty::Condition) => {
                // When the role's own policies allow it, the doubt comes from a deny, a
                // boundary or an SCP/RCP level: IAM029's or IAM030's to judge, not a
                // conditional grant.
                if !only_limits() {
                    out.conditional.push(action);
                }
            }
            Outcome::ImplicitlyDenied => {
                if only_limits() {
                    out.limited.push(action);
                } else {
                    out.missing.push(action);
                }
            }
            Outcome::ExplicitlyDenied => out.denied.push(action),
        }
    }
    out
}

/// The service of an ARN (`sqs` in `arn:aws:sqs:…`), when its literal text says.
pub fn arn_service(arn: &SymStr) -> Option<&str> {
    let [SymPart::Lit(first), rest @ ..] = arn.parts() else {
        return None;
    };
    let after = first.strip_prefix("arn:")?;
    // `arn:${AWS::Partition}:sqs:…`: the service follows the partition symbol.
    let text = if after.is_empty() {
        match rest {
            [SymPart::Sym(_), SymPart::Lit(next), ..] => next.strip_prefix(':')?,
            _ => return None,
        }
    } else {
        after.split_once(':')?.1
    };
    text.split(':').next().filter(|s| !s.is_empty())
}

/// Labels where a resource names its role, unless SAM generated the role (then there is no
/// such place in the user's template).
pub trait RunsAs {
    fn with_runs_as(self, role: &Role<'_>, role_value: &Value, who: &str) -> Self;
}

impl RunsAs for Diagnostic {
    fn with_runs_as(self, role: &Role<'_>, role_value: &Value, who: &str) -> Self {
        if role.resource.is_generated() {
            self
        } else {
            self.with_secondary(role_value.span, format!("{who} runs as {}", role.id()))
        }
    }
}

/// The function a `FunctionName` (of an event source mapping, an invoke config, a permission)
/// names: a function of the stack by reference (`!Ref`, `!GetAtt .Arn`, an ARN built with
/// `Fn::Sub`), through an alias or version, or by its literal name. The execution role is the
/// function's whatever the qualifier.
pub fn function_named<'a>(stack: &'a Stack, value: &Value) -> Option<&'a Resource> {
    function_of_at(stack, value, 0)
}

fn function_of_at<'a>(stack: &'a Stack, value: &Value, depth: usize) -> Option<&'a Resource> {
    if depth > 4 {
        return None;
    }
    let reference = match &value.kind {
        ValueKind::Ref(r) => r,
        ValueKind::Template(parts) => {
            let mut refs = parts.iter().filter_map(|p| match p {
                Part::Ref(r) => Some(r),
                _ => None,
            });
            let first = refs.next()?;
            if refs.next().is_some() {
                return None;
            }
            first
        }
        ValueKind::String(name) => {
            // A literal name, or an ARN whose function segment is the name.
            let name = name
                .split_once(":function:")
                .map_or(name.as_str(), |(_, rest)| rest);
            let name = name.split(':').next().unwrap_or(name);
            let mut functions = stack
                .resources_of("AWS::Lambda::Function")
                .filter(|f| f.property("FunctionName").and_then(Value::as_str) == Some(name));
            let found = functions.next()?;
            return if functions.next().is_none() {
                Some(found)
            } else {
                None
            };
        }
        _ => return None,
    };
    let resource = stack.resource(&reference.resource)?;
    match resource.kind.as_str() {
        "AWS::Lambda::Function"
            if matches!(&reference.attribute, Attribute::Ref)
                || matches!(&reference.attribute, Attribute::Get(a) if a == "Arn") =>
        {
            Some(resource)
        }
        "AWS::Lambda::Alias" | "AWS::Lambda::Version" => {
            function_of_at(stack, resource.property("FunctionName")?, depth + 1)
        }
        _ => None,
    }
}
