use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{self, RunsAs, arn_service, function_role};
use crate::resource_grant::{self, ResourcePolicy};
use iamlint_core::{
    Attribute, Diagnostic, Resource, Severity, SymPart, SymStr, Symbol, Value, ValueKind,
};
use iamlint_policy::eval::Outcome;

declare_rule! {
    /// ## What it does
    /// Finds Lambda destinations the function's execution role cannot deliver to: the
    /// `OnSuccess`/`OnFailure` destinations of an `AWS::Lambda::EventInvokeConfig` (SAM
    /// `EventInvokeConfig`) and the `OnFailure` destination of an event source mapping. The
    /// role needs `sqs:SendMessage` on a queue, `sns:Publish` on a topic,
    /// `lambda:InvokeFunction` on a function, `events:PutEvents` on an event bus, and
    /// `s3:PutObject` on the bucket's objects plus `s3:ListBucket` on an S3 bucket.
    ///
    /// ## Why is this bad?
    /// Lambda sends invocation records to the destination with the function's execution role.
    /// When the role may not, the records are dropped: the function's
    /// `DestinationDeliveryFailures` metric rises and nothing arrives. The deploy succeeds.
    ///
    /// ## Example
    /// ```yaml
    /// InvokeConfig:
    ///   Type: AWS::Lambda::EventInvokeConfig
    ///   Properties:
    ///     FunctionName: !Ref Function      # its role has only AWSLambdaBasicExecutionRole
    ///     Qualifier: $LATEST
    ///     DestinationConfig:
    ///       OnFailure:
    ///         Destination: !GetAtt FailedEvents.Arn
    /// ```
    ///
    /// Use instead: give the role the statement
    /// ```yaml
    /// - Effect: Allow
    ///   Action: sqs:SendMessage
    ///   Resource: !GetAtt FailedEvents.Arn
    /// ```
    ///
    /// ## How to fix
    /// Allow the delivery action on the destination in one of the execution role's policies.
    /// SAM adds that statement itself for `EventInvokeConfig` and event destinations with a
    /// `Type` when it generates the role; a function with its own `Role` gets nothing, and
    /// `AWSLambdaSQSQueueExecutionRole` (for reading queues) does not allow
    /// `sqs:SendMessage`. A grant in the target's own policy (queue, topic or bucket policy
    /// naming the role) also works, and is taken into account.
    ///
    /// An explicit `Deny` that takes the action away is reported by
    /// `explicit-deny-blocks-required-action` (IAM029), and a permissions boundary or SCP that
    /// does not allow what the role's own policies grant by `boundary-or-scp-missing-allow`
    /// (IAM030), with the statement to change: not here.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    /// - https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-async-destinations
    /// - https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-eventinvokeconfiguration.html
    pub struct LambdaAsyncDestinationPermissions {
        code: "IAM006",
        name: "lambda-async-destination-permissions",
        severity: Warning,
        summary: "async invoke destination the role cannot deliver to",
    }
}

/// The kinds of destination, with what the execution role must be allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Queue,
    Topic,
    Function,
    EventBus,
    Bucket,
}

impl Kind {
    fn of(arn: &SymStr) -> Option<Kind> {
        let text: String = arn
            .parts()
            .iter()
            .filter_map(|p| match p {
                SymPart::Lit(l) => Some(l.as_str()),
                SymPart::Sym(_) => None,
            })
            .collect();
        Some(match arn_service(arn)? {
            "sqs" => Kind::Queue,
            "sns" => Kind::Topic,
            "lambda" if text.contains(":function:") => Kind::Function,
            "events" if text.contains(":event-bus/") => Kind::EventBus,
            "s3" => Kind::Bucket,
            _ => return None,
        })
    }

    /// The SAM destination `Type` for this kind: `EventInvokeConfig` calls a bucket
    /// `S3Bucket`, an event's `DestinationConfig` calls it `S3`.
    fn sam_type(self, event_source: bool) -> &'static str {
        match self {
            Kind::Queue => "SQS",
            Kind::Topic => "SNS",
            Kind::Function => "Lambda",
            Kind::EventBus => "EventBridge",
            Kind::Bucket if event_source => "S3",
            Kind::Bucket => "S3Bucket",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Queue => "SQS queue",
            Kind::Topic => "SNS topic",
            Kind::Function => "Lambda function",
            Kind::EventBus => "event bus",
            Kind::Bucket => "S3 bucket",
        }
    }
}

/// One destination and the requests Lambda makes with the function's execution role to
/// deliver to it.
pub(crate) struct Requirement<'a> {
    /// The function whose execution role delivers.
    pub function: &'a Resource,
    /// The resource that configures the destination (EventInvokeConfig, event source mapping).
    pub via: &'a Resource,
    /// `OnSuccess` or `OnFailure`.
    pub which: &'static str,
    /// The value naming the destination.
    pub target: &'a Value,
    kind: Kind,
    /// (actions, resource) pairs, each needed.
    pub requests: Vec<(&'static [&'static str], SymStr)>,
    /// Why Lambda makes the requests, for messages.
    pub why: String,
}

/// Every destination of the stack with the requests it needs (independent of any role).
pub(crate) fn required<'a>(ctx: &Context<'a>) -> Vec<Requirement<'a>> {
    let mut out = Vec::new();
    for config in ctx.stack.resources_of("AWS::Lambda::EventInvokeConfig") {
        let Some(function) = config
            .property("FunctionName")
            .and_then(|v| crate::requests::function_named(ctx.stack, v))
        else {
            continue;
        };
        for which in ["OnSuccess", "OnFailure"] {
            let Some(target) = config.property_path(&["DestinationConfig", which, "Destination"])
            else {
                continue;
            };
            let what = if which == "OnSuccess" {
                "records of successful asynchronous invocations"
            } else {
                "records of failed asynchronous invocations"
            };
            out.extend(requirement(ctx, function, config, which, target, what));
        }
    }
    for mapping in ctx.stack.resources_of("AWS::Lambda::EventSourceMapping") {
        let Some(function) = mapping
            .property("FunctionName")
            .and_then(|v| crate::requests::function_named(ctx.stack, v))
        else {
            continue;
        };
        let Some(target) =
            mapping.property_path(&["DestinationConfig", "OnFailure", "Destination"])
        else {
            continue;
        };
        out.extend(requirement(
            ctx,
            function,
            mapping,
            "OnFailure",
            target,
            "records of batches that failed processing",
        ));
    }
    out
}

fn requirement<'a>(
    ctx: &Context<'a>,
    function: &'a Resource,
    via: &'a Resource,
    which: &'static str,
    target: &'a Value,
    what: &str,
) -> Option<Requirement<'a>> {
    let arn = ctx.resolver.string(target)?;
    let kind = Kind::of(&arn)?;
    let requests: Vec<(&'static [&'static str], SymStr)> = match kind {
        Kind::Queue => vec![(&["sqs:SendMessage"], arn)],
        Kind::Topic => vec![(&["sns:Publish"], arn)],
        Kind::Function => vec![(&["lambda:InvokeFunction"], arn)],
        Kind::EventBus => vec![(&["events:PutEvents"], arn)],
        Kind::Bucket => {
            // Lambda writes one object per record under a key it chooses.
            let mut objects = arn.clone();
            objects.push_lit("/");
            objects.push_sym(Symbol::Opaque);
            vec![(&["s3:PutObject"], objects), (&["s3:ListBucket"], arn)]
        }
    };
    Some(Requirement {
        function,
        via,
        which,
        target,
        kind,
        requests,
        why: format!("sends {what}"),
    })
}

impl LambdaAsyncDestinationPermissions {
    /// Each destination's requests as requirements of the function's execution role, for the
    /// rules about denies, boundaries and SCPs.
    fn wiring<'a>(ctx: &Context<'a>) -> Vec<crate::requests::Requirement<'a>> {
        let mut out = Vec::new();
        for req in required(ctx) {
            let Some((role, role_value)) = function_role(ctx, req.function) else {
                continue;
            };
            for (actions, resource) in &req.requests {
                // The destination's own value names the resource only when it is the ARN
                // itself (not the objects of a bucket).
                let cite = ctx
                    .resolver
                    .string(req.target)
                    .is_some_and(|arn| arn == *resource)
                    .then_some(req.target);
                out.push(crate::requests::Requirement {
                    role: role.id().to_string(),
                    role_value,
                    actions: actions.to_vec(),
                    resource: resource.clone(),
                    code: Self::META.code,
                    why: format!(
                        "Lambda function {} {} to this {}",
                        req.function.id,
                        req.why,
                        req.kind.noun()
                    ),
                    span: req.target.span,
                    cite,
                    subject: req.function.id.clone(),
                    severity: Self::META.severity,
                    via_service: true,
                });
            }
        }
        out
    }
}

impl Rule for LambdaAsyncDestinationPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<crate::requests::Requirement<'a>> {
        Self::wiring(ctx)
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for req in required(ctx) {
            let Some((role, role_value)) = function_role(ctx, req.function) else {
                continue;
            };
            let resource_policy = match resource_grant::resource_policy_of(ctx, req.target) {
                ResourcePolicy::Undecidable => continue,
                ResourcePolicy::Known(doc) => Some(doc),
                ResourcePolicy::None => None,
            };
            let context = resource_grant::unknown_context();
            let mut missing: Vec<(&'static str, &SymStr)> = Vec::new();
            let mut silent = false;
            for (actions, resource) in &req.requests {
                for action in *actions {
                    match resource_grant::outcome(
                        ctx,
                        role,
                        action,
                        resource,
                        resource_policy,
                        &context,
                    ) {
                        // Allowed by the role's own policies and taken away by its
                        // boundary: IAM030's finding.
                        Outcome::ImplicitlyDenied
                            if requests::limited(ctx, role, action, resource, &[]) => {}
                        Outcome::ImplicitlyDenied => missing.push((action, resource)),
                        // An explicit deny is IAM029's finding; a grant under conditions
                        // iamlint cannot decide is not reported (SEMANTICS.md A.8).
                        Outcome::ExplicitlyDenied => silent = true,
                        Outcome::Allowed | Outcome::Unknown(_) => {}
                    }
                }
            }
            if silent || missing.is_empty() {
                continue;
            }
            let role_name = role.id();
            // A destination of the stack by its logical id; others by their ARN.
            let target_name = match resource_grant::referenced(ctx, req.target) {
                Some(r) => r.id.clone(),
                None => req
                    .requests
                    .last()
                    .map(|(_, r)| ctx.sub_text(r))
                    .unwrap_or_default(),
            };
            let actions: Vec<&str> = missing.iter().map(|(a, _)| *a).collect();
            let event_source = req.via.kind == "AWS::Lambda::EventSourceMapping";
            let via = if event_source {
                format!("event source mapping {}", req.via.id)
            } else {
                format!("{} of {}", req.which, req.via.id)
            };
            let mut message = format!(
                "Lambda function {} {} to the {} {target_name} ({via}), but its execution role {role_name} cannot call {} on it. Lambda cannot deliver them (DestinationDeliveryFailures).",
                req.function.id,
                req.why,
                req.kind.noun(),
                actions.join(" and "),
            );
            if resource_policy.is_some() {
                message.push_str(" The destination's resource policy does not grant it either.");
            }
            if role.resource.is_generated() {
                // SAM grants what the destination's `Type` says, whatever the ARN is.
                message.push_str(&format!(
                    " SAM adds the delivery permission for the destination's Type only, and this destination needs Type: {}.",
                    req.kind.sam_type(event_source)
                ));
            }
            let target_yaml = ctx.written(req.target, &req.requests[req.requests.len() - 1].1);
            let mut statements = Vec::new();
            for (action, _) in &missing {
                let yaml = if req.kind == Kind::Bucket && action.ends_with("PutObject") {
                    match &req.target.kind {
                        ValueKind::Ref(r) if ctx.stack.format.is_cloudformation() => {
                            format!("!Sub ${{{}}}/*", ref_text(r))
                        }
                        ValueKind::Ref(r) => ctx.written_ref_with(r, "/*"),
                        _ => {
                            let mut objects = req.requests[req.requests.len() - 1].1.clone();
                            objects.push_lit("/*");
                            ctx.written_str(&objects)
                        }
                    }
                } else {
                    target_yaml.clone()
                };
                statements.push(ctx.fix_statement(&[action], &yaml));
            }
            let these = if statements.len() == 1 {
                "this statement"
            } else {
                "these statements"
            };
            let help = if role.resource.is_generated() {
                format!(
                    "set the destination's Type to {}, or add {these} to the function's Policies (SAM puts them in {role_name}):\n  Policies:\n    - Statement:\n{}",
                    req.kind.sam_type(event_source),
                    statements
                        .iter()
                        .map(|s| indent(s, 6))
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            } else {
                format!(
                    "add {these} to one of {role_name}'s policies:\n{}",
                    statements.join("\n")
                )
            };
            out.push(
                Diagnostic::new(
                    Self::META.code,
                    Self::META.name,
                    Severity::Warning,
                    role.fix_span(),
                    message,
                )
                .with_label(format!("role {role_name} lacks {}", actions.join(", ")))
                .with_secondary(
                    req.target.span,
                    format!("{} {} here", req.function.id, req.why),
                )
                .with_runs_as(role, role_value, &req.function.id)
                .with_help(help)
                .with_resource(req.via.id.clone()),
            );
        }
    }
}

/// `text` with every line indented by `by` more spaces.
fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A reference as `Fn::Sub` writes it.
fn ref_text(r: &iamlint_core::Reference) -> String {
    match &r.attribute {
        Attribute::Ref => r.resource.clone(),
        Attribute::Get(a) => format!("{}.{a}", r.resource),
    }
}
