use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Required, Requirement, closed_role};
use crate::rules::dynamodb_stream_arn_mismatch::grants_stream_actions_on_table;
use crate::targets::{Reach, Told, Via, Wired, dead_letter, pipe_source, reach, reach_arn, report};
use iamlint_core::{Diagnostic, Resource, Value};

declare_rule! {
    /// ## What it does
    /// Finds EventBridge rule targets with a `RoleArn` (Terraform `aws_cloudwatch_event_target`
    /// `role_arn`) whose role cannot reach the target: `kinesis:PutRecord` on a Kinesis stream,
    /// `firehose:PutRecord`/`PutRecordBatch` on a Firehose stream, `states:StartExecution` on
    /// a state machine, `ecs:RunTask` on the task definition of an ECS target and
    /// `iam:PassRole` on its task and execution roles, `codebuild:StartBuild`,
    /// `codepipeline:StartPipelineExecution`, `batch:SubmitJob` on a job queue,
    /// `events:PutEvents` on an event bus, `events:InvokeApiDestination` on an API destination,
    /// `ssm:SendCommand` on a Run Command document, and `lambda:InvokeFunction`,
    /// `sqs:SendMessage` or `sns:Publish` when a role is given for a function, queue or topic
    /// that no resource policy of the stack opens to EventBridge.
    ///
    /// EventBridge rules and pipes: an EventBridge pipe (`AWS::Pipes::Pipe`, Terraform
    /// `aws_pipes_pipe`) makes every call with its `RoleArn`, so the rule also checks that role
    /// for reading the pipe's `Source` (an SQS queue: `sqs:ReceiveMessage`, `DeleteMessage`,
    /// `GetQueueAttributes`; a Kinesis stream: `kinesis:DescribeStream`, `GetRecords`,
    /// `GetShardIterator`; a DynamoDB stream: `dynamodb:DescribeStream`, `GetRecords`,
    /// `GetShardIterator`), `sqs:SendMessage` on the source's dead-letter queue, invoking its
    /// `Enrichment` (`lambda:InvokeFunction`, `states:StartSyncExecution` on an express state
    /// machine, `events:InvokeApiDestination`), and delivering to its `Target` with the
    /// actions above (`states:StartSyncExecution` for a `REQUEST_RESPONSE` state machine,
    /// `states:StartExecution` for `FIRE_AND_FORGET`, either one when the pipe does not say;
    /// `kinesis:PutRecord` or `PutRecords`, `firehose:PutRecord` or `PutRecordBatch`).
    /// Amazon MQ, MSK and self-managed Kafka sources and API Gateway enrichments and targets
    /// are not checked.
    ///
    /// ## Why is this bad?
    /// EventBridge assumes the target's role and calls the target with it. Nothing checks the
    /// role when the rule is created: every matching event then fails to reach the target,
    /// which shows only as the rule's `FailedInvocations` metric (or in its dead-letter
    /// queue). A pipe whose role lacks a permission stops at that step: it cannot poll its
    /// source, or every batch fails at the enrichment or the target.
    ///
    /// Targets reached through their own resource policy (a function's permission, a queue or
    /// topic policy, CloudWatch Logs) are IAM021, IAM022 and IAM023's; the role's trust policy
    /// is IAM002's. iamlint stays silent when the role or the target is outside the stack, or
    /// when a resource policy of the target (or of a pipe's source) could grant the call
    /// instead. A pipe's source encrypted with a customer managed key is IAM013's: it follows
    /// the role's grant of the read actions to the key.
    ///
    /// ## Example
    /// ```yaml
    /// Nightly:
    ///   Type: AWS::Events::Rule
    ///   Properties:
    ///     ScheduleExpression: rate(1 day)
    ///     Targets:
    ///       - Id: Report
    ///         Arn: !Ref ReportMachine
    ///         RoleArn: !GetAtt NightlyRole.Arn   # no states:StartExecution
    /// ```
    ///
    /// ## How to fix
    /// Allow the action on the target in the role's policies. SAM adds that statement itself
    /// to the role it generates for a state machine's `Schedule` or `EventBridgeRule` event.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-iam-roles.html
    /// - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/CWE_IAM_role.html
    /// - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-permissions.html
    /// - https://docs.aws.amazon.com/eventbridge/latest/userguide/pipes-enrichment.html
    pub struct EventbridgeTargetPermissions {
        code: "IAM027",
        name: "eventbridge-target-permissions",
        severity: Warning,
        summary: "rule target the rule's role cannot reach",
    }
}

impl EventbridgeTargetPermissions {
    fn wired<'a>(ctx: &Context<'a>) -> Vec<Wired<'a>> {
        let mut out = Vec::new();
        for rule in ctx.stack.resources_of("AWS::Events::Rule") {
            let targets = rule
                .property("Targets")
                .and_then(Value::as_list)
                .unwrap_or_default();
            for target in targets {
                let Some(role_value) = target.get("RoleArn").filter(|v| !v.is_no_value()) else {
                    continue;
                };
                let Some(role) = closed_role(ctx, role_value) else {
                    continue;
                };
                for r in reach(ctx, target, Via::EventBridge) {
                    let resource_text = &r.name;
                    let (doing, label) = if r.actions == ["iam:PassRole"] {
                        (
                            format!(
                                "EventBridge rule {} passes the task role {resource_text} to ECS",
                                rule.id
                            ),
                            format!("the task of {} uses this role", rule.id),
                        )
                    } else {
                        (
                            format!(
                                "EventBridge rule {} sends events to the {} {resource_text}",
                                rule.id, r.noun
                            ),
                            format!("{} sends events here", rule.id),
                        )
                    };
                    let why = format!(
                        "EventBridge rule {} reaches its {} with this role",
                        rule.id, r.noun
                    );
                    out.push(r.wired(
                        Self::META.code,
                        role.id(),
                        role_value,
                        &rule.id,
                        Told {
                            why,
                            doing,
                            consequence: "Every event the rule matches will fail to reach this target (the rule's FailedInvocations metric).",
                            label,
                            service: "EventBridge",
                        },
                    ));
                }
            }
        }
        for pipe in ctx.stack.resources_of("AWS::Pipes::Pipe") {
            Self::pipe(ctx, pipe, &mut out);
        }
        out
    }

    /// What a pipe's role must be allowed: reading its source (and sending failed batches
    /// to the source's dead-letter queue), invoking its enrichment, and delivering to its
    /// target. Pipes makes every one of these calls with the pipe's role
    /// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-permissions.html).
    fn pipe<'a>(ctx: &Context<'a>, pipe: &'a Resource, out: &mut Vec<Wired<'a>>) {
        let Some(role_value) = pipe.property("RoleArn").filter(|v| !v.is_no_value()) else {
            return;
        };
        let Some(role) = closed_role(ctx, role_value) else {
            return;
        };
        let mut reaches: Vec<(Step, Reach<'a>)> = Vec::new();
        let invocation_unset = pipe
            .property("TargetParameters")
            .and_then(|p| p.get_path(&["StepFunctionStateMachineParameters", "InvocationType"]))
            .and_then(Value::as_str)
            .is_none();
        if let Some(source) = pipe.property("Source").filter(|v| !v.is_no_value())
            && let Some(r) = pipe_source(ctx, source)
            // The role grants the stream actions on the table: IAM018's finding.
            && !(r.noun == "DynamoDB stream"
                && grants_stream_actions_on_table(ctx, role, &r.resource))
        {
            reaches.push((Step::Source, r));
        }
        for parameters in ["KinesisStreamParameters", "DynamoDBStreamParameters"] {
            if let Some(p) = pipe
                .property("SourceParameters")
                .and_then(|s| s.get(parameters))
                && let Some(r) = dead_letter(ctx, p)
            {
                reaches.push((Step::DeadLetter, r));
            }
        }
        if let Some(enrichment) = pipe.property("Enrichment").filter(|v| !v.is_no_value()) {
            for mut r in reach_arn(ctx, enrichment, None, Via::Pipes) {
                match r.noun {
                    // Pipes waits for the enrichment's answer: only express workflows, run
                    // synchronously (https://docs.aws.amazon.com/eventbridge/latest/userguide/pipes-enrichment.html).
                    "state machine" => r.actions = vec!["states:StartSyncExecution"],
                    "Lambda function" | "API destination" => {}
                    _ => continue,
                }
                reaches.push((Step::Enrichment, r));
            }
        }
        if let Some(target) = pipe.property("Target").filter(|v| !v.is_no_value()) {
            let parameters = pipe.property("TargetParameters");
            let task =
                parameters.and_then(|p| p.get_path(&["EcsTaskParameters", "TaskDefinitionArn"]));
            let invocation = parameters
                .and_then(|p| p.get_path(&["StepFunctionStateMachineParameters", "InvocationType"]))
                .and_then(Value::as_str);
            for mut r in reach_arn(ctx, target, task, Via::Pipes) {
                // REQUEST_RESPONSE, the documented default, runs the machine with
                // StartSyncExecution; FIRE_AND_FORGET with StartExecution
                // (https://docs.aws.amazon.com/eventbridge/latest/pipes-reference/API_PipeTargetStateMachineParameters.html).
                // Without it, a role allowed either is taken to work: a standard workflow
                // cannot run synchronously.
                if r.noun == "state machine" && invocation != Some("FIRE_AND_FORGET") {
                    r.actions = vec!["states:StartSyncExecution"];
                }
                reaches.push((Step::Target, r));
            }
        }
        for (step, r) in reaches {
            // Batching targets: which of the two write APIs Pipes calls is not documented,
            // so a role allowed either one is taken to work.
            let alternative = match r.actions.as_slice() {
                ["kinesis:PutRecord"] => Some("kinesis:PutRecords"),
                ["firehose:PutRecord"] => Some("firehose:PutRecordBatch"),
                ["states:StartSyncExecution"] if step == Step::Target && invocation_unset => {
                    Some("states:StartExecution")
                }
                _ => None,
            };
            if let Some(alternative) = alternative
                && crate::requests::needs(ctx, role, &[alternative], &r.resource)
                    .missing
                    .is_empty()
            {
                continue;
            }
            let name = &r.name;
            let (doing, label, why, consequence) = match step {
                Step::Source => (
                    format!(
                        "EventBridge pipe {} reads from the {} {name}",
                        pipe.id, r.noun
                    ),
                    format!("{} reads from here", pipe.id),
                    format!(
                        "EventBridge pipe {} reads its source with this role",
                        pipe.id
                    ),
                    "The pipe cannot consume its source, so no event goes through it.",
                ),
                Step::DeadLetter => (
                    format!(
                        "EventBridge pipe {} sends failed batches to the dead-letter queue {name}",
                        pipe.id
                    ),
                    format!("{} sends failed batches here", pipe.id),
                    format!(
                        "EventBridge pipe {} reaches its dead-letter queue with this role",
                        pipe.id
                    ),
                    "Records of failed batches will not reach the dead-letter queue.",
                ),
                Step::Enrichment => (
                    format!(
                        "EventBridge pipe {} enriches events with the {} {name}",
                        pipe.id, r.noun
                    ),
                    format!("{} enriches events here", pipe.id),
                    format!(
                        "EventBridge pipe {} calls its enrichment with this role",
                        pipe.id
                    ),
                    "Every batch will fail at the enrichment and never reach the target.",
                ),
                Step::Target if r.actions == ["iam:PassRole"] => (
                    format!(
                        "EventBridge pipe {} passes the task role {name} to ECS",
                        pipe.id
                    ),
                    format!("the task of {} uses this role", pipe.id),
                    format!(
                        "EventBridge pipe {} reaches its ECS task with this role",
                        pipe.id
                    ),
                    "Every event the pipe reads will fail to reach its target.",
                ),
                Step::Target => (
                    format!(
                        "EventBridge pipe {} sends events to the {} {name}",
                        pipe.id, r.noun
                    ),
                    format!("{} sends events here", pipe.id),
                    format!(
                        "EventBridge pipe {} reaches its {} with this role",
                        pipe.id, r.noun
                    ),
                    "Every event the pipe reads will fail to reach its target.",
                ),
            };
            out.push(r.wired(
                Self::META.code,
                role.id(),
                role_value,
                &pipe.id,
                Told {
                    why,
                    doing,
                    consequence,
                    label,
                    service: "EventBridge Pipes",
                },
            ));
        }
    }
}

/// Which of a pipe's calls a request is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Source,
    DeadLetter,
    Enrichment,
    Target,
}

impl Rule for EventbridgeTargetPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        Self::wired(ctx).into_iter().map(|w| w.req).collect()
    }

    fn required<'a>(&self, ctx: &Context<'a>) -> Vec<Required<'a>> {
        Self::wired(ctx).into_iter().map(Wired::required).collect()
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        report(ctx, &Self::META, Self::wired(ctx), out);
    }
}
