//! What a target of an EventBridge rule, an EventBridge Scheduler schedule or an EventBridge
//! pipe asks of the role the service uses to reach it (IAM027, IAM028): the action the service
//! calls on the target with that role's credentials, and for a pipe what it reads its source
//! with.
//!
//! Sources: EventBridge "IAM roles for sending events to targets"
//! (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-iam-roles.html: API
//! destinations `events:InvokeApiDestination`, Kinesis `kinesis:PutRecord`, Run Command
//! `ssm:SendCommand`), the ECS EventBridge role
//! (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/CWE_IAM_role.html: `ecs:RunTask`
//! and `iam:PassRole` on the task and execution roles), the roles SAM generates
//! (`samtranslator/model/eventsources/scheduler.py`, `model/stepfunctions/events.py`:
//! `states:StartExecution`, `lambda:InvokeFunction`, `sqs:SendMessage` on the dead-letter
//! queue), Scheduler templated and universal targets
//! (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets.html,
//! https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html).

use crate::context::Context;
use crate::requests::{arn_service, function_named};
use crate::resource_grant::{ResourcePolicy, referenced, resource_policy_of};
use iamlint_core::{Attribute, Reference, Resource, SymPart, SymStr, Symbol, Value, ValueKind};
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// The service that reaches the target with the role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    EventBridge,
    Scheduler,
    /// An EventBridge pipe's enrichment or target.
    Pipes,
}

/// One request the service makes on a target with the role.
pub struct Reach<'a> {
    /// What the target is, for messages: "Kinesis stream", "state machine".
    pub noun: &'static str,
    pub actions: Vec<&'static str>,
    pub resource: SymStr,
    /// Where the template names what the request is made on.
    pub value: &'a Value,
    /// The resource in the template's own syntax, for the fix.
    pub written: String,
    /// Condition keys the request carries beyond the role's own.
    pub context: Vec<(&'static str, Vec<SymStr>)>,
    /// What messages call the resource: the stack resource's id, or its ARN.
    pub name: String,
}

/// The logical id of the stack resource a value names, else the ARN as `Fn::Sub` writes it.
fn name_of(ctx: &Context<'_>, value: &Value, arn: &SymStr) -> String {
    referenced(ctx, value).map_or_else(|| ctx.sub_text(arn), |r| r.id.clone())
}

/// What the target's kind asks: its noun, the actions, and whether the target has resource
/// policies of its own that may grant the role instead (then only a target of the stack whose
/// policies are all visible is checked).
struct Kind {
    noun: &'static str,
    actions: &'static [&'static str],
    resource_policies: bool,
}

const fn kind(
    noun: &'static str,
    actions: &'static [&'static str],
    resource_policies: bool,
) -> Option<Kind> {
    Some(Kind {
        noun,
        actions,
        resource_policies,
    })
}

/// The kind of a target from the type of the stack resource it names, or from its ARN.
fn classify(target: Option<&Resource>, arn: &SymStr, via: Via) -> Option<Kind> {
    let firehose: &'static [&'static str] = match via {
        // EventBridge batches records to Firehose; Scheduler's templated target is PutRecord.
        Via::EventBridge => &["firehose:PutRecord", "firehose:PutRecordBatch"],
        // Pipes: PutRecord, or PutRecordBatch instead (the rule accepts either).
        Via::Scheduler | Via::Pipes => &["firehose:PutRecord"],
    };
    if let Some(resource) = target {
        return match resource.kind.as_str() {
            "AWS::Kinesis::Stream" => kind("Kinesis stream", &["kinesis:PutRecord"], true),
            "AWS::KinesisFirehose::DeliveryStream" => kind("Firehose stream", firehose, false),
            "AWS::StepFunctions::StateMachine" => {
                kind("state machine", &["states:StartExecution"], false)
            }
            "AWS::CodeBuild::Project" => {
                kind("CodeBuild project", &["codebuild:StartBuild"], false)
            }
            "AWS::CodePipeline::Pipeline" => {
                kind("pipeline", &["codepipeline:StartPipelineExecution"], false)
            }
            "AWS::Batch::JobQueue" => kind("Batch job queue", &["batch:SubmitJob"], false),
            "AWS::Events::EventBus" => kind("event bus", &["events:PutEvents"], true),
            "AWS::Events::ApiDestination" => {
                kind("API destination", &["events:InvokeApiDestination"], false)
            }
            "AWS::Lambda::Function" => kind("Lambda function", &["lambda:InvokeFunction"], true),
            "AWS::SQS::Queue" => kind("queue", &["sqs:SendMessage"], true),
            "AWS::SNS::Topic" => kind("topic", &["sns:Publish"], true),
            _ => None,
        };
    }
    let text = literal_text(arn);
    match arn_service(arn)? {
        "kinesis" if text.contains(":stream/") => {
            kind("Kinesis stream", &["kinesis:PutRecord"], true)
        }
        "firehose" if text.contains(":deliverystream/") => kind("Firehose stream", firehose, false),
        "states" if text.contains(":stateMachine:") => {
            kind("state machine", &["states:StartExecution"], false)
        }
        "codebuild" if text.contains(":project/") => {
            kind("CodeBuild project", &["codebuild:StartBuild"], false)
        }
        "codepipeline" => kind("pipeline", &["codepipeline:StartPipelineExecution"], false),
        "batch" if text.contains(":job-queue/") => {
            kind("Batch job queue", &["batch:SubmitJob"], false)
        }
        "events" if text.contains(":event-bus/") => kind("event bus", &["events:PutEvents"], true),
        "events" if text.contains(":api-destination/") => {
            kind("API destination", &["events:InvokeApiDestination"], false)
        }
        "ssm" if text.contains(":document/") => {
            kind("Run Command document", &["ssm:SendCommand"], false)
        }
        "lambda" if text.contains(":function:") => {
            kind("Lambda function", &["lambda:InvokeFunction"], true)
        }
        "sqs" => kind("queue", &["sqs:SendMessage"], true),
        "sns" => kind("topic", &["sns:Publish"], true),
        _ => None,
    }
}

/// The literal text of a symbolic string, with `*` for each symbol.
fn literal_text(s: &SymStr) -> String {
    s.parts()
        .iter()
        .map(|p| match p {
            SymPart::Lit(l) => l.as_str(),
            SymPart::Sym(_) => "*",
        })
        .collect()
}

/// Whether the value names an ARN: an ARN whose text iamlint can read, or the `Arn` attribute
/// of a resource of the stack (or the `Ref` of a type whose `Ref` is its ARN).
fn is_arn(ctx: &Context<'_>, value: &Value, arn: &SymStr) -> bool {
    if arn_service(arn).is_some() {
        return true;
    }
    match &value.kind {
        ValueKind::Ref(Reference {
            attribute,
            resource,
        }) => match attribute {
            Attribute::Get(a) => a == "Arn",
            Attribute::Ref => ctx
                .stack
                .resource(resource)
                .is_some_and(|r| r.kind == "AWS::Batch::JobQueue"),
        },
        _ => false,
    }
}

/// Every request the service makes with the role to reach the target `target` (an entry of a
/// rule's `Targets`, a schedule's `Target`). Targets iamlint cannot identify, and targets
/// whose own resource policy may grant the role out of sight, ask nothing.
pub fn reach<'a>(ctx: &Context<'a>, target: &'a Value, via: Via) -> Vec<Reach<'a>> {
    let Some(arn_value) = target.get("Arn").filter(|v| !v.is_no_value()) else {
        return Vec::new();
    };
    let task = target.get_path(&["EcsParameters", "TaskDefinitionArn"]);
    reach_arn(ctx, arn_value, task, via)
}

/// Every request the service makes with the role to reach the target whose ARN is
/// `arn_value`; `task` is the task definition of an ECS cluster target.
pub fn reach_arn<'a>(
    ctx: &Context<'a>,
    arn_value: &'a Value,
    task: Option<&'a Value>,
    via: Via,
) -> Vec<Reach<'a>> {
    if arn_value.is_no_value() {
        return Vec::new();
    }
    let Some(arn) = ctx.resolver.string(arn_value) else {
        return Vec::new();
    };
    if via == Via::Scheduler
        && let Some(universal) = universal(ctx, arn_value, &arn)
    {
        return vec![universal];
    }
    let in_stack = referenced(ctx, arn_value);
    // An ECS cluster: the task definition is what RunTask is allowed on.
    let is_cluster = match in_stack {
        Some(r) => r.kind == "AWS::ECS::Cluster",
        None => arn_service(&arn) == Some("ecs") && literal_text(&arn).contains(":cluster/"),
    };
    if is_cluster {
        return ecs(ctx, task, &arn);
    }
    if !is_arn(ctx, arn_value, &arn) {
        return Vec::new();
    }
    let Some(kind) = classify(in_stack, &arn, via) else {
        return Vec::new();
    };
    if kind.resource_policies && !resource_policies_absent(ctx, arn_value, in_stack, via) {
        return Vec::new();
    }
    vec![Reach {
        noun: kind.noun,
        actions: kind.actions.to_vec(),
        name: name_of(ctx, arn_value, &arn),
        written: ctx.written(arn_value, &arn),
        resource: arn,
        value: arn_value,
        context: Vec::new(),
    }]
}

/// Whether the target is a resource of the stack that no visible or invisible resource policy
/// may let the role (or the service) reach: only then is the role's own grant the one that
/// counts.
fn resource_policies_absent(
    ctx: &Context<'_>,
    arn_value: &Value,
    target: Option<&Resource>,
    via: Via,
) -> bool {
    let Some(target) = target else {
        return false;
    };
    match target.kind.as_str() {
        // EventBridge reaches functions through their resource policy (the documented way);
        // with a role and a permission both present, which one it uses is not documented.
        "AWS::Lambda::Function" if via == Via::EventBridge => {
            !ctx.stack.resources_of("AWS::Lambda::Permission").any(|p| {
                p.property("FunctionName").is_none_or(|name| {
                    function_named(ctx.stack, name).is_none_or(|f| f.id == target.id)
                })
            })
        }
        "AWS::Kinesis::Stream" => ctx
            .stack
            .resources_of("AWS::Kinesis::ResourcePolicy")
            .next()
            .is_none(),
        _ => matches!(resource_policy_of(ctx, arn_value), ResourcePolicy::None),
    }
}

/// An ECS task target: `ecs:RunTask` on the task definition (in the cluster), and
/// `iam:PassRole` on the task definition's task and execution roles.
fn ecs<'a>(ctx: &Context<'a>, task: Option<&'a Value>, cluster: &SymStr) -> Vec<Reach<'a>> {
    let Some(task_value) = task.filter(|v| !v.is_no_value()) else {
        return Vec::new();
    };
    let Some(task_arn) = ctx.resolver.string(task_value) else {
        return Vec::new();
    };
    let task = referenced(ctx, task_value).filter(|r| r.kind == "AWS::ECS::TaskDefinition");
    if task.is_none() && !literal_text(&task_arn).contains(":task-definition/") {
        return Vec::new();
    }
    let mut out = vec![Reach {
        noun: "ECS task definition",
        actions: vec!["ecs:RunTask"],
        name: name_of(ctx, task_value, &task_arn),
        written: ctx.written(task_value, &task_arn),
        resource: task_arn,
        value: task_value,
        context: vec![("ecs:cluster", vec![cluster.clone()])],
    }];
    let Some(task) = task else {
        return out;
    };
    for property in ["TaskRoleArn", "ExecutionRoleArn"] {
        let Some(role_value) = task.property(property) else {
            continue;
        };
        let crate::principal::RoleRef::InStack(role) =
            crate::principal::role_ref(ctx.stack, role_value)
        else {
            continue;
        };
        let reference = Reference::get_att(role.id.clone(), "Arn");
        out.push(Reach {
            noun: "task role",
            actions: vec!["iam:PassRole"],
            name: role.id.clone(),
            resource: ctx.resolver.reference(&reference, 0),
            value: role_value,
            written: ctx.written_ref(&reference),
            context: vec![(
                "iam:PassedToService",
                vec![SymStr::lit("ecs-tasks.amazonaws.com")],
            )],
        });
    }
    out
}

/// A Scheduler universal target `arn:aws:scheduler:::aws-sdk:{service}:{apiAction}`: the IAM
/// action `{service}:{ApiAction}` when the catalog knows it (SDK service names that are not
/// IAM prefixes ask nothing), on whatever resource the input names.
fn universal<'a>(ctx: &Context<'a>, value: &'a Value, arn: &SymStr) -> Option<Reach<'a>> {
    let text = literal_text(arn);
    let (_, rest) = text.split_once(":scheduler:::aws-sdk:")?;
    let (service, api) = rest.split_once(':')?;
    if service.contains('*') || api.contains('*') || api.is_empty() {
        return None;
    }
    let (_, action) = iamlint_policy::catalog::lookup(&format!("{service}:{api}"))?;
    let name = intern(format!("{}:{}", action.service, action.name));
    Some(Reach {
        noun: "API",
        actions: vec![name],
        name: name.to_string(),
        resource: ctx.any_resource_of(name),
        value,
        written: "\"*\"".to_string(),
        context: Vec::new(),
    })
}

/// An action name built at run time, kept for the life of the process (the catalog's actions
/// are finite, so this is bounded).
fn intern(name: String) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| Mutex::new(HashSet::new()));
    let Ok(mut names) = names.lock() else {
        return "";
    };
    if let Some(found) = names.get(name.as_str()) {
        return found;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    leaked
}

/// What a pipe's role needs to read its source, from "Event source permissions for Amazon
/// EventBridge Pipes" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-permissions.html).
/// The page also lists, for Kinesis, `DescribeStreamSummary`, `ListShards`, `ListStreams` and
/// `SubscribeToShard` (enhanced fan-out only), and for DynamoDB `ListStreams`. Like IAM004, only
/// the set a poller cannot do without is checked: AWS's own published pipe patterns
/// (serverless-patterns `kinesis-eventbridge-pipes-filter-enrichment-sfn`,
/// `eventbridge-pipes-ddbstream-to-eventbridge`) work without `ListShards`, and grant the
/// resource-less `ListStreams` only on the stream's ARN, where it cannot match.
const PIPE_SQS: &[&str] = &[
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
];
const PIPE_KINESIS: &[&str] = &[
    "kinesis:DescribeStream",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
];
const PIPE_DYNAMODB: &[&str] = &[
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
];

/// The read request a pipe makes with its role on its `Source`: an SQS queue, a Kinesis
/// stream or a DynamoDB table's stream of the stack that no resource policy of the stack may
/// open to the role. MSK, MQ and self-managed Kafka sources ask nothing here.
pub fn pipe_source<'a>(ctx: &Context<'a>, value: &'a Value) -> Option<Reach<'a>> {
    let arn = ctx.resolver.string(value)?;
    let source = referenced(ctx, value)?;
    let (noun, actions) = match source.kind.as_str() {
        "AWS::SQS::Queue" if arn_service(&arn) == Some("sqs") => ("queue", PIPE_SQS),
        "AWS::Kinesis::Stream" if arn_service(&arn) == Some("kinesis") => {
            ("Kinesis stream", PIPE_KINESIS)
        }
        "AWS::DynamoDB::Table" if literal_text(&arn).contains("/stream/") => {
            // A stream's own resource policy may grant the role.
            if source
                .property("StreamSpecification")
                .and_then(|s| s.get("ResourcePolicy"))
                .is_some()
            {
                return None;
            }
            ("DynamoDB stream", PIPE_DYNAMODB)
        }
        _ => return None,
    };
    if !resource_policies_absent(ctx, value, Some(source), Via::Pipes) {
        return None;
    }
    Some(Reach {
        noun,
        actions: actions.to_vec(),
        name: name_of(ctx, value, &arn),
        written: ctx.written(value, &arn),
        resource: arn,
        value,
        context: Vec::new(),
    })
}

/// `arn:…:sqs:…` dead-letter queue of a schedule target: `sqs:SendMessage` with the role.
pub fn dead_letter<'a>(ctx: &Context<'a>, target: &'a Value) -> Option<Reach<'a>> {
    let value = target
        .get_path(&["DeadLetterConfig", "Arn"])
        .filter(|v| !v.is_no_value())?;
    let arn = ctx.resolver.string(value)?;
    let queue = referenced(ctx, value).filter(|r| r.kind == "AWS::SQS::Queue")?;
    if arn_service(&arn) != Some("sqs")
        || !resource_policies_absent(ctx, value, Some(queue), Via::Scheduler)
    {
        return None;
    }
    Some(Reach {
        noun: "dead-letter queue",
        actions: vec!["sqs:SendMessage"],
        name: name_of(ctx, value, &arn),
        written: ctx.written(value, &arn),
        resource: arn,
        value,
        context: Vec::new(),
    })
}

/// A schedule's `KmsKeyArn` naming a customer managed key of the stack by its ARN:
/// `kms:Decrypt` with the role, to read the payload it encrypts.
pub fn payload_key<'a>(ctx: &Context<'a>, schedule: &'a Resource) -> Option<Reach<'a>> {
    let value = schedule.property("KmsKeyArn")?;
    let ValueKind::Ref(Reference {
        resource,
        attribute: Attribute::Get(attribute),
    }) = &value.kind
    else {
        return None;
    };
    let key = ctx.stack.resource(resource)?;
    if key.kind != "AWS::KMS::Key" || attribute != "Arn" {
        return None;
    }
    let arn = ctx.resolver.string(value)?;
    if arn
        .parts()
        .iter()
        .any(|p| matches!(p, SymPart::Sym(Symbol::Opaque)))
    {
        return None;
    }
    Some(Reach {
        noun: "KMS key",
        actions: vec!["kms:Decrypt"],
        name: name_of(ctx, value, &arn),
        written: ctx.written(value, &arn),
        resource: arn,
        value,
        context: Vec::new(),
    })
}

/// One request a rule's or schedule's role must be allowed to make, with what the finding
/// says about it.
pub struct Wired<'a> {
    pub req: crate::requests::Requirement<'a>,
    pub context: Vec<(&'static str, Vec<SymStr>)>,
    /// "EventBridge rule Nightly sends events to the Kinesis stream ${Stream.Arn}".
    pub doing: String,
    /// What fails when the role lacks it.
    pub consequence: &'static str,
    /// The resource in the template's own syntax, for the fix.
    pub written: String,
    /// The label on where the template names the resource.
    pub label: String,
    /// The service that uses the role ("EventBridge", "Scheduler").
    pub service: &'static str,
}

/// How a wired request is told: the requirement's reason and the finding's texts.
pub struct Told {
    /// "EventBridge rule Nightly reaches its Kinesis stream with this role".
    pub why: String,
    pub doing: String,
    pub consequence: &'static str,
    pub label: String,
    pub service: &'static str,
}

impl<'a> Reach<'a> {
    /// The request `role` (named by `role_value`) makes for `subject` (the rule, schedule or
    /// pipe) to reach this target, a warning of rule `code`.
    pub fn wired(
        self,
        code: &'static str,
        role: &str,
        role_value: &'a Value,
        subject: &str,
        told: Told,
    ) -> Wired<'a> {
        Wired {
            req: crate::requests::Requirement {
                role: role.to_string(),
                role_value,
                actions: self.actions,
                resource: self.resource,
                code,
                why: told.why,
                span: self.value.span,
                cite: Some(self.value),
                subject: subject.to_string(),
                severity: iamlint_core::Severity::Warning,
                via_service: true,
            },
            context: self.context,
            doing: told.doing,
            consequence: told.consequence,
            written: self.written,
            label: told.label,
            service: told.service,
        }
    }
}

impl<'a> Wired<'a> {
    pub fn required(self) -> crate::requests::Required<'a> {
        crate::requests::Required {
            req: self.req,
            context: self.context,
        }
    }
}

/// Reports each wired request the role's own policies do not allow (denies, boundaries and
/// SCPs are IAM029's and IAM030's).
pub fn report(
    ctx: &Context<'_>,
    meta: &crate::registry::RuleMeta,
    wired: Vec<Wired<'_>>,
    out: &mut Vec<iamlint_core::Diagnostic>,
) {
    for w in wired {
        let req = &w.req;
        let Some(role) = ctx.role(&req.role) else {
            continue;
        };
        let result = crate::requests::needs_in(ctx, role, &req.actions, &req.resource, &w.context);
        if result.is_met() || !result.denied.is_empty() {
            continue;
        }
        let lacking: Vec<&str> = result
            .missing
            .iter()
            .chain(&result.conditional)
            .copied()
            .collect();
        let action = lacking.join(", ");
        let role_name = role.id();
        let mut message = format!(
            "{} with role {role_name}, which lacks {action} on it.",
            w.doing
        );
        if result.missing.is_empty() {
            message.push_str(" It is granted only under conditions that may not hold.");
        } else {
            message.push(' ');
            message.push_str(w.consequence);
        }
        let help = format!(
            "add this statement to one of {role_name}'s policies:\n{}",
            ctx.fix_statement(&lacking, &w.written)
        );
        let mut d = iamlint_core::Diagnostic::new(
            meta.code,
            meta.name,
            req.severity,
            role.fix_span(),
            message,
        )
        .with_label(format!("role {role_name} lacks {action}"))
        .with_secondary(req.span, w.label.clone());
        if !role.resource.is_generated() {
            d = d.with_secondary(
                req.role_value.span,
                format!("{} uses role {role_name} here", w.service),
            );
        }
        out.push(d.with_help(help).with_resource(req.subject.clone()));
    }
}
