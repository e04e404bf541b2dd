use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, arn_service, function_role, needs};
use iamlint_core::{Diagnostic, Severity, Value};

declare_rule! {
    /// ## What it does
    /// Finds Lambda functions with a dead-letter queue (`DeadLetterConfig.TargetArn`, SAM
    /// `DeadLetterQueue`) whose execution role cannot send to it: `sqs:SendMessage` on a
    /// queue, `sns:Publish` on a topic.
    ///
    /// ## Why is this bad?
    /// Lambda sends failed asynchronous events to the dead-letter target with the function's
    /// execution role, and checks the role when the function is created or updated:
    /// CloudFormation fails with "The provided execution role does not have permissions to
    /// call SendMessage on SQS". A grant in the queue's policy does not satisfy that check.
    ///
    /// ## Example
    /// ```yaml
    /// Function:
    ///   Type: AWS::Lambda::Function
    ///   Properties:
    ///     Role: !GetAtt FunctionRole.Arn   # only AWSLambdaBasicExecutionRole
    ///     DeadLetterConfig:
    ///       TargetArn: !GetAtt FailedEvents.Arn
    /// ```
    ///
    /// ## How to fix
    /// Allow `sqs:SendMessage` on the queue (or `sns:Publish` on the topic) in the execution
    /// role. SAM adds that statement itself when it generates the role.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq
    /// - https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-deadletterqueue.html
    pub struct LambdaDlqPermissions {
        code: "IAM005",
        name: "lambda-dlq-permissions",
        severity: Error,
        summary: "DeadLetterConfig target the role cannot send to",
    }
}

/// One function's dead-letter requirement, with what its messages need.
struct Wired<'a> {
    req: Requirement<'a>,
    action: &'static str,
    service: &'static str,
    kind: &'static str,
    target_value: &'a Value,
}

impl LambdaDlqPermissions {
    fn wired<'a>(ctx: &Context<'a>) -> Vec<Wired<'a>> {
        let mut out = Vec::new();
        for function in ctx.stack.resources_of("AWS::Lambda::Function") {
            let Some(target_value) = function.property_path(&["DeadLetterConfig", "TargetArn"])
            else {
                continue;
            };
            let Some(target) = ctx.resolver.string(target_value) else {
                continue;
            };
            let (action, service, kind): (&'static str, &'static str, &'static str) =
                match arn_service(&target) {
                    Some("sqs") => ("sqs:SendMessage", "SQS", "queue"),
                    Some("sns") => ("sns:Publish", "SNS", "topic"),
                    _ => continue,
                };
            let Some((role, role_value)) = function_role(ctx, function) else {
                continue;
            };
            out.push(Wired {
                req: Requirement {
                    role: role.id().to_string(),
                    role_value,
                    actions: vec![action],
                    why: format!(
                        "Lambda function {} sends failed asynchronous events to this {kind}",
                        function.id
                    ),
                    resource: target,
                    code: Self::META.code,
                    span: target_value.span,
                    cite: Some(target_value),
                    subject: function.id.clone(),
                    severity: Self::META.severity,
                    via_service: true,
                },
                action,
                service,
                kind,
                target_value,
            });
        }
        out
    }
}

impl Rule for LambdaDlqPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        Self::wired(ctx).into_iter().map(|w| w.req).collect()
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for Wired {
            req,
            action,
            service,
            kind,
            target_value,
        } in Self::wired(ctx)
        {
            let Some(role) = ctx.role(&req.role) else {
                continue;
            };
            let target = &req.resource;
            let result = needs(ctx, role, &req.actions, target);
            if result.is_met() || !result.denied.is_empty() {
                continue;
            }
            let certain = !result.missing.is_empty();
            let role_name = role.id();
            let short = action.split(':').nth(1).unwrap_or(action);
            let mut message = format!(
                "Lambda function {} sends failed asynchronous events to the {kind} {}, but its execution role {role_name} cannot call {action} on it.",
                req.subject,
                ctx.sub_text(target)
            );
            if certain {
                message.push_str(&format!(
                    " CreateFunction and UpdateFunctionConfiguration will fail (\"The provided execution role does not have permissions to call {short} on {service}\")."
                ));
            } else {
                message
                    .push_str(" It is granted only under conditions Lambda's check may not meet.");
            }
            let help = format!(
                "add this statement to one of {role_name}'s policies:\n{}",
                ctx.fix_statement(&[action], &ctx.written(target_value, target))
            );
            out.push(
                Diagnostic::new(
                    Self::META.code,
                    Self::META.name,
                    if certain {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    role.fix_span(),
                    message,
                )
                .with_label(format!("role {role_name} lacks {action}"))
                .with_secondary(
                    target_value.span,
                    format!("{} sends failed events here", req.subject),
                )
                .with_runs_as(role, req.role_value, &req.subject)
                .with_help(help)
                .with_resource(req.subject.clone()),
            );
        }
    }
}
