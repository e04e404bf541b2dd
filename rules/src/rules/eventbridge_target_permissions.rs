use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Required, Requirement, closed_role};
use crate::targets::{Via, Wired, reach, report};
use iamlint_core::{Diagnostic, Severity, Value};

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
    /// ## Why is this bad?
    /// EventBridge assumes the target's role and calls the target with it. Nothing checks the
    /// role when the rule is created: every matching event then fails to reach the target,
    /// which shows only as the rule's `FailedInvocations` metric (or in its dead-letter
    /// queue).
    ///
    /// Targets reached through their own resource policy (a function's permission, a queue or
    /// topic policy, CloudWatch Logs) are IAM021, IAM022 and IAM023's; the role's trust policy
    /// is IAM002's. iamlint stays silent when the role or the target is outside the stack, or
    /// when a resource policy of the target could grant the call instead.
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
                    out.push(Wired {
                        req: Requirement {
                            role: role.id().to_string(),
                            role_value,
                            actions: r.actions,
                            resource: r.resource,
                            code: Self::META.code,
                            why: format!(
                                "EventBridge rule {} reaches its {} with this role",
                                rule.id, r.noun
                            ),
                            span: r.value.span,
                            cite: Some(r.value),
                            subject: rule.id.clone(),
                            severity: Severity::Warning,
                            via_service: true,
                        },
                        context: r.context,
                        doing,
                        consequence: "Every event the rule matches will fail to reach this target (the rule's FailedInvocations metric).",
                        written: r.written,
                        label,
                        service: "EventBridge",
                    });
                }
            }
        }
        out
    }
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
