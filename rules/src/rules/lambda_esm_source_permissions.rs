use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, arn_service, function_role, needs};
use iamlint_core::{
    Attribute, Diagnostic, Part, Resource, Severity, Stack, SymPart, SymStr, Value, ValueKind,
};

declare_rule! {
    /// ## What it does
    /// Finds event source mappings (`AWS::Lambda::EventSourceMapping`, and SAM `Events` of
    /// type SQS, Kinesis and DynamoDB) whose function's execution role cannot read the
    /// source: `sqs:ReceiveMessage`, `sqs:DeleteMessage` and `sqs:GetQueueAttributes` on the
    /// queue; `kinesis:GetRecords`, `GetShardIterator` and `DescribeStream` on the stream;
    /// `dynamodb:GetRecords`, `GetShardIterator`, `DescribeStream` and `ListStreams` on the
    /// table's stream.
    ///
    /// ## Why is this bad?
    /// Lambda polls the source with the function's execution role, and checks the role when
    /// the mapping is created: CloudFormation fails with "The provided execution role does not
    /// have permissions to call ReceiveMessage on SQS" and rolls the stack back.
    ///
    /// ## Example
    /// ```yaml
    /// Mapping:
    ///   Type: AWS::Lambda::EventSourceMapping
    ///   Properties:
    ///     EventSourceArn: !GetAtt Queue.Arn
    ///     FunctionName: !Ref Consumer   # its role may only sqs:SendMessage
    /// ```
    ///
    /// ## How to fix
    /// Attach the AWS managed policy for the source (`AWSLambdaSQSQueueExecutionRole`,
    /// `AWSLambdaKinesisExecutionRole`, `AWSLambdaDynamoDBExecutionRole`), or grant the actions
    /// on the source's ARN. SAM attaches these policies itself only to roles it generates: a
    /// function with its own `Role` gets nothing.
    ///
    /// SQS gaps are errors; for Kinesis and DynamoDB streams a missing `GetRecords` is an
    /// error and other gaps are warnings. A grant only in the queue's policy is a warning,
    /// since Lambda's create-time check reads the execution role.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions
    /// - https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-permissions
    /// - https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#services-dynamodb-permissions
    pub struct LambdaEsmSourcePermissions {
        code: "IAM004",
        name: "lambda-esm-source-permissions",
        severity: Error,
        summary: "event source mapping; role lacks the polling actions on the source (SQS, Kinesis, DynamoDB Streams, MSK, MQ, Kafka, DocumentDB)",
    }
}

/// A source Lambda polls, with what the role needs on it.
struct Source {
    name: &'static str,
    service: &'static str,
    actions: &'static [&'static str],
    /// Without these, the mapping certainly fails; other gaps are warnings.
    core: &'static [&'static str],
    managed_policy: &'static str,
}

const SQS: Source = Source {
    name: "SQS queue",
    service: "SQS",
    actions: &[
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ],
    core: &[
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ],
    managed_policy: "service-role/AWSLambdaSQSQueueExecutionRole",
};

const KINESIS: Source = Source {
    name: "Kinesis stream",
    service: "Kinesis",
    // Lambda's documentation also lists DescribeStreamSummary, ListShards and
    // SubscribeToShard, but mappings whose roles lack them work (they are newer than the
    // original AWSLambdaKinesisExecutionRole); only the long-standing set is checked.
    actions: &[
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
    ],
    core: &["kinesis:GetRecords"],
    managed_policy: "service-role/AWSLambdaKinesisExecutionRole",
};

const DYNAMODB: Source = Source {
    name: "DynamoDB stream",
    service: "DynamoDB",
    actions: &[
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:DescribeStream",
        "dynamodb:ListStreams",
    ],
    core: &["dynamodb:GetRecords"],
    managed_policy: "service-role/AWSLambdaDynamoDBExecutionRole",
};

/// One event source mapping's requirement, with what its messages need.
struct Wired<'a> {
    req: Requirement<'a>,
    source: Source,
    source_value: &'a Value,
    function: &'a Resource,
    resource_policy: bool,
}

impl LambdaEsmSourcePermissions {
    fn wired<'a>(ctx: &Context<'a>) -> Vec<Wired<'a>> {
        let mut out = Vec::new();
        for mapping in ctx.stack.resources_of("AWS::Lambda::EventSourceMapping") {
            let Some(source_value) = mapping.property("EventSourceArn") else {
                continue;
            };
            let Some(source_arn) = ctx.resolver.string(source_value) else {
                continue;
            };
            let Some(source) = source_kind(&source_arn) else {
                continue;
            };
            let Some(function) = mapping
                .property("FunctionName")
                .and_then(|v| function_of(ctx.stack, v, 0))
            else {
                continue;
            };
            let Some((role, role_value)) = function_role(ctx, function) else {
                continue;
            };
            let resource_policy =
                source.service == "SQS" && queue_has_policy(ctx.stack, source_value);
            out.push(Wired {
                req: Requirement {
                    role: role.id().to_string(),
                    role_value,
                    actions: source.actions.to_vec(),
                    why: format!(
                        "event source mapping {} polls this {} for {}",
                        mapping.id, source.name, function.id
                    ),
                    resource: source_arn,
                    code: Self::META.code,
                    span: source_value.span,
                    cite: Some(source_value),
                    subject: mapping.id.clone(),
                    // Without the core actions the mapping cannot be created.
                    severity: Severity::Error,
                    via_service: true,
                },
                source,
                source_value,
                function,
                resource_policy,
            });
        }
        out
    }
}

impl Rule for LambdaEsmSourcePermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        // Without the core actions the mapping cannot be created (an error); without the
        // others Lambda may fail to poll (a warning): one requirement each.
        let mut out = Vec::new();
        for w in Self::wired(ctx) {
            let (core, rest): (Vec<&'static str>, Vec<&'static str>) = w
                .req
                .actions
                .iter()
                .partition(|a| w.source.core.contains(a));
            if !rest.is_empty() {
                out.push(Requirement {
                    actions: rest,
                    severity: Severity::Warning,
                    ..w.req.clone()
                });
            }
            out.push(Requirement {
                actions: core,
                ..w.req
            });
        }
        out
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for Wired {
            req,
            source,
            source_value,
            function,
            resource_policy,
        } in Self::wired(ctx)
        {
            let Some(role) = ctx.role(&req.role) else {
                continue;
            };
            let source_arn = &req.resource;
            let result = needs(ctx, role, source.actions, source_arn);
            if result.is_met() || !result.denied.is_empty() {
                // An explicit deny is IAM029's finding, with the deny statement to change.
                continue;
            }
            let lacking: Vec<&str> = result
                .missing
                .iter()
                .chain(&result.conditional)
                .copied()
                .collect();
            let core_missing = result.missing.iter().any(|a| source.core.contains(a));
            let severity = if core_missing && !resource_policy {
                Severity::Error
            } else {
                Severity::Warning
            };
            let role_name = role.id();
            let first = lacking
                .first()
                .map_or("", |a| a.split(':').nth(1).unwrap_or(a));
            let mut message = format!(
                "Event source mapping {} ({} {}) invokes {}, but its execution role {role_name} cannot call {} on it. ",
                req.subject,
                source.name,
                ctx.sub_text(source_arn),
                function.id,
                lacking.join(", "),
            );
            if core_missing {
                message.push_str(&format!(
                    "CloudFormation will fail to create the mapping (\"The provided execution role does not have permissions to call {first} on {}\").",
                    source.service
                ));
            } else {
                message.push_str("Lambda may fail to poll the source.");
            }
            if resource_policy {
                message.push_str(" (The queue's policy may grant it, but Lambda's create-time check reads the execution role.)");
            }
            if !result.conditional.is_empty() {
                message.push_str(" Some of these are granted only under conditions.");
            }
            let help = ctx.fix_attach_managed_policy(
                role,
                source.managed_policy,
                source.actions,
                &ctx.yaml_of(source_value, source_arn),
            );
            out.push(
                Diagnostic::new(
                    Self::META.code,
                    Self::META.name,
                    severity,
                    role.fix_span(),
                    message,
                )
                .with_label(format!("role {role_name} lacks {}", lacking.join(", ")))
                .with_secondary(
                    source_value.span,
                    format!("{} reads from this {}", req.subject, source.name),
                )
                .with_runs_as(role, req.role_value, &function.id)
                .with_help(help)
                .with_resource(req.subject.clone()),
            );
        }
    }
}

/// The kind of source an event source ARN names, from the ARN's service (and, for DynamoDB,
/// its `/stream/` part).
fn source_kind(arn: &SymStr) -> Option<Source> {
    let stream = arn
        .parts()
        .iter()
        .any(|p| matches!(p, SymPart::Lit(s) if s.contains("/stream/")));
    let consumer = arn
        .parts()
        .iter()
        .any(|p| matches!(p, SymPart::Lit(s) if s.contains("/consumer/")));
    match arn_service(arn)? {
        "sqs" => Some(SQS),
        "kinesis" if !consumer => Some(KINESIS),
        "dynamodb" if stream => Some(DYNAMODB),
        _ => None,
    }
}

/// The function a `FunctionName` names: a function of the stack by reference (`!Ref`,
/// `!GetAtt .Arn`, a qualified ARN built with `Fn::Sub`), or through an alias or version.
fn function_of<'a>(stack: &'a Stack, value: &Value, depth: usize) -> Option<&'a Resource> {
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
            function_of(stack, resource.property("FunctionName")?, depth + 1)
        }
        _ => None,
    }
}

/// Whether an `AWS::SQS::QueuePolicy` of the stack applies to the queue whose ARN is `queue`.
fn queue_has_policy(stack: &Stack, queue: &Value) -> bool {
    let ValueKind::Ref(target) = &queue.kind else {
        return false;
    };
    stack.resources_of("AWS::SQS::QueuePolicy").any(|policy| {
        policy
            .property("Queues")
            .and_then(Value::as_list)
            .unwrap_or_default()
            .iter()
            .any(|q| matches!(&q.kind, ValueKind::Ref(r) if r.resource == target.resource))
    })
}
