use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, function_role, needs};
use iamlint_core::{Diagnostic, Pseudo, Reference, SymStr, Symbol};
use std::collections::HashMap;

declare_rule! {
    /// ## What it does
    /// Finds Lambda functions whose execution role cannot create log streams and put log
    /// events (`logs:CreateLogStream`, `logs:PutLogEvents`) in the function's log group: the
    /// group of `LoggingConfig.LogGroup`, or `/aws/lambda/<function name>` by default.
    ///
    /// ## Why is this bad?
    /// Lambda writes the function's output to CloudWatch Logs with the execution role. When
    /// the role cannot, the function still runs, but nothing it prints and none of its
    /// errors are ever delivered — which is usually found out during an incident.
    ///
    /// ## Example
    /// ```yaml
    /// FunctionRole:
    ///   Type: AWS::IAM::Role
    ///   Properties:
    ///     AssumeRolePolicyDocument: ...
    ///     Policies:
    ///       - PolicyName: data
    ///         PolicyDocument:
    ///           Statement:
    ///             - Effect: Allow
    ///               Action: s3:GetObject
    ///               Resource: !Sub ${Bucket.Arn}/*
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///     ManagedPolicyArns:
    ///       - !Sub arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
    /// ```
    ///
    /// ## How to fix
    /// Attach `service-role/AWSLambdaBasicExecutionRole`, or allow `logs:CreateLogStream` and
    /// `logs:PutLogEvents` on the log group's streams (`arn:…:log-group:NAME:*`; in
    /// CloudFormation `!GetAtt LogGroup.Arn` already ends in `:*`). `logs:CreateLogGroup` is
    /// needed only when no template creates the group.
    ///
    /// Functions that share a role make one finding, whose fix covers all their log groups.
    ///
    /// A role that denies the logs actions on purpose (to turn logging off) is not reported.
    /// Neither is a role whose only grants of an action are on ARNs it can never apply to (the
    /// log group's ARN without `:*`): `action-resource-type-mismatch` (IAM010) reports that
    /// grant with the ARN to use instead.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html#monitoring-cloudwatchlogs-prereqs
    /// - https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html
    pub struct LambdaLogsPermissions {
        code: "IAM003",
        name: "lambda-logs-permissions",
        severity: Warning,
        summary: "function role cannot create log streams / put log events in its log group",
    }
}

const REQUIRED: &[&str] = &["logs:CreateLogStream", "logs:PutLogEvents"];

impl LambdaLogsPermissions {
    /// Each function's requirement, with the name of its log group.
    fn wired<'a>(ctx: &Context<'a>) -> Vec<(Requirement<'a>, SymStr)> {
        let mut out = Vec::new();
        for function in ctx.stack.resources_of("AWS::Lambda::Function") {
            let Some((role, role_value)) = function_role(ctx, function) else {
                continue;
            };
            let Some(group) = log_group(ctx, function) else {
                continue;
            };
            let span = function
                .property_path(&["LoggingConfig", "LogGroup"])
                .map_or(function.span, |v| v.span);
            out.push((
                Requirement {
                    role: role.id().to_string(),
                    role_value,
                    actions: REQUIRED.to_vec(),
                    resource: log_stream_arn(&group),
                    code: Self::META.code,
                    why: format!(
                        "Lambda function {} writes its logs to {}",
                        function.id,
                        ctx.sub_text(&group)
                    ),
                    span,
                    cite: None,
                    subject: function.id.clone(),
                    severity: Self::META.severity,
                    via_service: true,
                },
                group,
            ));
        }
        out
    }
}

impl Rule for LambdaLogsPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        Self::wired(ctx).into_iter().map(|(req, _)| req).collect()
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        // Functions whose role lacks the actions, with the log groups they write to.
        let mut lacking = Vec::new();
        for (req, group) in Self::wired(ctx) {
            let Some(role) = ctx.role(&req.role) else {
                continue;
            };
            let result = needs(ctx, role, &req.actions, &req.resource);
            // A role that denies the logs actions turns logging off on purpose.
            if result.missing.is_empty() || !result.denied.is_empty() {
                continue;
            }
            // A grant of the action only on ARNs it can never apply to (a log-group ARN
            // without `:*`) is IAM010's finding, which names the right ARN.
            let grants = crate::arn::allow_statements(
                &ctx.resolver,
                role.identity.iter().map(|d| {
                    (
                        &*d.document,
                        !matches!(d.origin, crate::principal::DocOrigin::AwsManaged { .. }),
                    )
                }),
            );
            let missing: Vec<&str> = result
                .missing
                .into_iter()
                .filter(|a| !crate::arn::only_never_matching_grants(ctx.stack, &grants, a))
                .collect();
            if !missing.is_empty() {
                lacking.push((req, role, missing, group));
            }
        }
        // One fix per role: the statement covers the log groups of every function that runs
        // as it, so functions sharing a role make one finding (see `merge`).
        let mut streams_of_role: HashMap<&str, Vec<String>> = HashMap::new();
        for (_, role, _, group) in &lacking {
            let mut streams = log_group_arn(group);
            streams.push_lit(":*");
            let streams = ctx.written_str(&streams);
            let list = streams_of_role.entry(role.id()).or_default();
            if !list.contains(&streams) {
                list.push(streams);
            }
        }
        for (req, role, missing, group) in lacking {
            let function_name = &req.subject;
            let role_name = role.id();
            let group_arn = log_group_arn(&group);
            let message = format!(
                "Lambda function {function_name} cannot write logs: its execution role {role_name} lacks {} on {}:*. The function will run, but none of its logs will be delivered.",
                missing.join(" and "),
                ctx.sub_text(&group_arn),
            );
            let streams = streams_of_role
                .get(role_name)
                .map(|list| fix_resources(list))
                .unwrap_or_default();
            let help = crate::fix::attach_managed_policy_on(
                ctx.stack.format,
                role,
                "service-role/AWSLambdaBasicExecutionRole",
                REQUIRED,
                &streams,
            );
            out.push(
                Diagnostic::new(
                    Self::META.code,
                    Self::META.name,
                    Self::META.severity,
                    role.fix_span(),
                    message,
                )
                .with_label(format!("role {role_name} lacks {}", missing.join(", ")))
                .with_runs_as(role, req.role_value, function_name)
                .with_help(help)
                .with_resource(function_name.clone()),
            );
        }
    }
}

/// How many log groups a suggested statement lists before it names them by a wildcard.
const MAX_LISTED_GROUPS: usize = 5;

/// The resources of the suggested statement: the streams of each log group, or of every
/// default Lambda log group (`/aws/lambda/*`) when there are many and all are default ones.
fn fix_resources(streams: &[String]) -> Vec<&str> {
    const DEFAULT_GROUPS: &str = ":log-group:/aws/lambda/";
    if streams.len() > MAX_LISTED_GROUPS && streams.iter().all(|s| s.contains(DEFAULT_GROUPS)) {
        return vec![
            "!Sub arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/*:*",
        ];
    }
    streams.iter().map(String::as_str).collect()
}

/// The name of the function's log group: `LoggingConfig.LogGroup`, or `/aws/lambda/<name>`.
/// `None` when it cannot be told (a condition chooses).
fn log_group(ctx: &Context<'_>, function: &iamlint_core::Resource) -> Option<SymStr> {
    if let Some(group) = function.property_path(&["LoggingConfig", "LogGroup"]) {
        return ctx.resolver.string(group);
    }
    let mut name = SymStr::lit("/aws/lambda/");
    name.push(
        ctx.resolver
            .reference(&Reference::to_ref(function.id.clone()), 0),
    );
    Some(name)
}

/// `arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:NAME`.
fn log_group_arn(group: &SymStr) -> SymStr {
    let mut arn = SymStr::lit("arn:");
    arn.push_sym(Symbol::Pseudo(Pseudo::Partition));
    arn.push_lit(":logs:");
    arn.push_sym(Symbol::Pseudo(Pseudo::Region));
    arn.push_lit(":");
    arn.push_sym(Symbol::Pseudo(Pseudo::AccountId));
    arn.push_lit(":log-group:");
    arn.push(group.clone());
    arn
}

/// The ARN of one of the group's log streams (the resource both actions are authorized on).
fn log_stream_arn(group: &SymStr) -> SymStr {
    let mut arn = log_group_arn(group);
    arn.push_lit(":log-stream:");
    arn.push_sym(Symbol::Opaque);
    arn
}
