use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Required, Requirement, closed_role};
use crate::targets::{Told, Via, Wired, dead_letter, payload_key, reach, report};
use iamlint_core::Diagnostic;

declare_rule! {
    /// ## What it does
    /// Finds EventBridge Scheduler schedules (`AWS::Scheduler::Schedule`, Terraform
    /// `aws_scheduler_schedule`, SAM `ScheduleV2` events with a `RoleArn`) whose execution
    /// role cannot reach the target: `lambda:InvokeFunction` on a function,
    /// `states:StartExecution` on a state machine, `sqs:SendMessage` on a queue,
    /// `sns:Publish` on a topic, the other templated targets (Kinesis, Firehose, CodeBuild,
    /// CodePipeline, ECS with `iam:PassRole` on the task's roles, event buses), and for a
    /// universal target `arn:aws:scheduler:::aws-sdk:{service}:{apiAction}` the IAM action
    /// `{service}:{ApiAction}` when the service name is an IAM service prefix. It also checks
    /// `sqs:SendMessage` on the target's dead-letter queue and `kms:Decrypt` on the schedule's
    /// `KmsKeyArn` when that is a key of the stack.
    ///
    /// ## Why is this bad?
    /// Scheduler calls the target with the execution role every time the schedule fires, and
    /// never through a resource policy: a Lambda function's permission does not help. Nothing
    /// checks the role when the schedule is created; each invocation fails, is retried, and
    /// ends in the dead-letter queue if it has one.
    ///
    /// The role's trust policy (`scheduler.amazonaws.com`) is IAM002's. iamlint stays silent
    /// when the role or the target is outside the stack, when a queue or topic policy of the
    /// target could grant the role instead, and for universal targets whose service name is
    /// not an IAM prefix.
    ///
    /// ## Example
    /// ```yaml
    /// Hourly:
    ///   Type: AWS::Scheduler::Schedule
    ///   Properties:
    ///     ScheduleExpression: rate(1 hour)
    ///     FlexibleTimeWindow: { Mode: "OFF" }
    ///     Target:
    ///       Arn: !GetAtt Cleanup.Arn
    ///       RoleArn: !GetAtt SchedulerRole.Arn   # no lambda:InvokeFunction
    /// ```
    ///
    /// ## How to fix
    /// Allow the action on the target in the execution role. SAM's `ScheduleV2` event adds
    /// exactly that when it generates the role (no `RoleArn`).
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
    /// - https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets.html
    /// - https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html
    /// - https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html
    /// - https://docs.aws.amazon.com/scheduler/latest/UserGuide/encryption-rest.html
    pub struct SchedulerTargetPermissions {
        code: "IAM028",
        name: "scheduler-target-permissions",
        severity: Warning,
        summary: "schedule target the schedule's role cannot reach",
    }
}

impl SchedulerTargetPermissions {
    fn wired<'a>(ctx: &Context<'a>) -> Vec<Wired<'a>> {
        let mut out = Vec::new();
        for schedule in ctx.stack.resources_of("AWS::Scheduler::Schedule") {
            let Some(target) = schedule.property("Target") else {
                continue;
            };
            let Some(role_value) = target.get("RoleArn").filter(|v| !v.is_no_value()) else {
                continue;
            };
            let Some(role) = closed_role(ctx, role_value) else {
                continue;
            };
            let id = &schedule.id;
            let mut reached = reach(ctx, target, Via::Scheduler);
            reached.extend(dead_letter(ctx, target));
            reached.extend(payload_key(ctx, schedule));
            for r in reached {
                let resource_text = &r.name;
                let (doing, consequence, label) = match r.noun {
                    "dead-letter queue" => (
                        format!(
                            "Schedule {id} sends failed invocations to the dead-letter queue {resource_text}"
                        ),
                        "Events the target cannot take will be lost instead of kept in the queue.",
                        format!("{id} sends failed invocations here"),
                    ),
                    "KMS key" => (
                        format!(
                            "Schedule {id} decrypts its payload with the KMS key {resource_text}"
                        ),
                        "Scheduler cannot decrypt the payload to invoke the target.",
                        format!("{id} encrypts its payload with this key"),
                    ),
                    "task role" => (
                        format!("Schedule {id} passes the task role {resource_text} to ECS"),
                        "Every invocation of the schedule will fail.",
                        format!("the task of {id} uses this role"),
                    ),
                    "API" => (
                        format!(
                            "Schedule {id} calls {} (universal target)",
                            r.actions.join(", ")
                        ),
                        "Every invocation of the schedule will fail.",
                        format!("{id} calls this API"),
                    ),
                    noun => (
                        format!("Schedule {id} invokes the {noun} {resource_text}"),
                        "Every invocation of the schedule will fail.",
                        format!("{id} invokes this target"),
                    ),
                };
                let why = format!("schedule {id} reaches its {} with this role", r.noun);
                out.push(r.wired(
                    Self::META.code,
                    role.id(),
                    role_value,
                    id,
                    Told {
                        why,
                        doing,
                        consequence,
                        label,
                        service: "Scheduler",
                    },
                ));
            }
        }
        out
    }
}

impl Rule for SchedulerTargetPermissions {
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
