use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, closed_role, needs};
use iamlint_core::{Diagnostic, Severity, SymStr, Value};

declare_rule! {
    /// ## What it does
    /// Finds state machines that log to CloudWatch Logs (`LoggingConfiguration.Destinations`
    /// with a `Level` other than `OFF`; SAM `Logging`; Terraform `logging_configuration`) whose
    /// role cannot set up the log delivery: `logs:CreateLogDelivery`, `logs:GetLogDelivery`,
    /// `logs:UpdateLogDelivery`, `logs:DeleteLogDelivery`, `logs:ListLogDeliveries`,
    /// `logs:PutResourcePolicy`, `logs:DescribeResourcePolicies` and `logs:DescribeLogGroups`
    /// on `"*"`.
    ///
    /// ## Why is this bad?
    /// Step Functions creates the log delivery with the state machine's role when the state
    /// machine is created or updated. Without these actions CreateStateMachine fails with
    /// "The state machine IAM Role is not authorized to access the Log Destination". SAM does
    /// not add them to the role it generates for `Logging`.
    ///
    /// ## Example
    /// ```yaml
    /// Orders:
    ///   Type: AWS::StepFunctions::StateMachine
    ///   Properties:
    ///     RoleArn: !GetAtt OrdersRole.Arn   # no logs:*LogDelivery
    ///     LoggingConfiguration:
    ///       Level: ALL
    ///       Destinations:
    ///         - CloudWatchLogsLogGroup:
    ///             LogGroupArn: !GetAtt OrdersLogs.Arn
    /// ```
    ///
    /// ## How to fix
    /// Allow the eight actions on `"*"` in the state machine's role (they have no resource
    /// type). `logs:PutResourcePolicy`, `logs:DescribeResourcePolicies` and
    /// `logs:DescribeLogGroups` may instead be granted on every log group of the account
    /// (`arn:…:logs:REGION:ACCOUNT:log-group:*`), as the CloudWatch Logs guide writes them:
    /// CloudWatch Logs authorizes them against `arn:…:log-group::log-stream:`. The same error
    /// appears when the account's CloudWatch Logs resource policy is full; log groups named
    /// `/aws/vendedlogs/…` avoid that.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
    /// - https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html
    /// - https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html
    pub struct StepfunctionsLoggingPermissions {
        code: "IAM026",
        name: "stepfunctions-logging-permissions",
        severity: Error,
        summary: "state machine logging without the log-delivery actions",
    }
}

const REQUIRED: &[&str] = &[
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
];

/// One logging state machine's requirement, with the log group it logs to.
struct Wired<'a> {
    req: Requirement<'a>,
    log_group: &'a Value,
}

impl StepfunctionsLoggingPermissions {
    fn wired<'a>(ctx: &Context<'a>) -> Vec<Wired<'a>> {
        let mut out = Vec::new();
        for machine in ctx.stack.resources_of("AWS::StepFunctions::StateMachine") {
            let Some(logging) = machine.property("LoggingConfiguration") else {
                continue;
            };
            // Level defaults to OFF; an unknown level may be OFF.
            if logging
                .get("Level")
                .and_then(Value::as_str)
                .is_none_or(|level| level == "OFF")
            {
                continue;
            }
            let Some(log_group) = logging
                .get("Destinations")
                .and_then(Value::as_list)
                .unwrap_or_default()
                .iter()
                .find_map(|d| d.get_path(&["CloudWatchLogsLogGroup", "LogGroupArn"]))
            else {
                continue;
            };
            let Some(role_value) = machine.property("RoleArn") else {
                continue;
            };
            let Some(role) = closed_role(ctx, role_value) else {
                continue;
            };
            out.push(Wired {
                req: Requirement {
                    role: role.id().to_string(),
                    role_value,
                    actions: REQUIRED.to_vec(),
                    resource: SymStr::lit("*"),
                    code: Self::META.code,
                    why: format!("state machine {} logs to CloudWatch Logs", machine.id),
                    span: log_group.span,
                    cite: None,
                    subject: machine.id.clone(),
                    severity: Self::META.severity,
                    via_service: true,
                },
                log_group,
            });
        }
        out
    }
}

impl Rule for StepfunctionsLoggingPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        Self::wired(ctx).into_iter().map(|w| w.req).collect()
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for Wired { req, log_group } in Self::wired(ctx) {
            let Some(role) = ctx.role(&req.role) else {
                continue;
            };
            let result = needs(ctx, role, &req.actions, &req.resource);
            if result.is_met() || !result.denied.is_empty() {
                continue;
            }
            let certain = !result.missing.is_empty();
            let role_name = role.id();
            let lacking: Vec<&str> = result
                .missing
                .iter()
                .chain(&result.conditional)
                .copied()
                .collect();
            let group = ctx
                .resolver
                .string(log_group)
                .map_or_else(|| "its log group".to_string(), |s| ctx.sub_text(&s));
            let mut message = format!(
                "State machine {} logs to {group}, but its role {role_name} lacks {} on \"*\".",
                req.subject,
                lacking.join(", ")
            );
            if certain {
                message.push_str(" CreateStateMachine will fail with \"The state machine IAM Role is not authorized to access the Log Destination\".");
            } else {
                message.push_str(" They are granted only under conditions that may not hold.");
            }
            let help = format!(
                "add this statement to one of {role_name}'s policies:\n{}\n(with these permissions, the same error means the account's CloudWatch Logs resource policy is full: name the log group /aws/vendedlogs/states/…)",
                ctx.fix_statement(REQUIRED, "*")
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
                .with_label(format!("role {role_name} lacks the log-delivery actions"))
                .with_secondary(log_group.span, format!("{} logs here", req.subject))
                .with_runs_as(role, req.role_value, &req.subject)
                .with_help(help)
                .with_resource(req.subject.clone()),
            );
        }
    }
}
