use crate::context::Context;
use crate::declare_rule;
use crate::principal::RoleRef;
use crate::registry::{Rule, RuleMeta};
use crate::requests::RunsAs;
use iamlint_core::{Diagnostic, Pseudo, Reference, SymStr, Symbol};
use iamlint_policy::eval::{Outcome, Uncertainty};

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
    /// A role that denies the logs actions on purpose (to turn logging off) is not reported.
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

impl Rule for LambdaLogsPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for function in ctx.stack.resources_of("AWS::Lambda::Function") {
            let Some(role_value) = function.property("Role") else {
                continue;
            };
            let RoleRef::InStack(role_resource) = crate::principal::role_ref(ctx.stack, role_value)
            else {
                continue;
            };
            let Some(role) = ctx.role(&role_resource.id) else {
                continue;
            };
            if !role.is_closed() {
                continue;
            }
            let Some(group) = log_group(ctx, function) else {
                continue;
            };
            let stream = log_stream_arn(&group);
            let mut missing = Vec::new();
            let mut denied_on_purpose = false;
            for action in REQUIRED {
                match crate::evaluate::identity_outcome(ctx, role, action, &stream) {
                    Outcome::ImplicitlyDenied => missing.push(*action),
                    Outcome::ExplicitlyDenied => denied_on_purpose = true,
                    Outcome::Allowed
                    | Outcome::Unknown(Uncertainty::Condition | Uncertainty::Value) => {}
                }
            }
            if missing.is_empty() || denied_on_purpose {
                continue;
            }
            let function_name = &function.id;
            let role_name = role.id();
            let group_arn = log_group_arn(&group);
            let message = format!(
                "Lambda function {function_name} cannot write logs: its execution role {role_name} lacks {} on {}:*. The function will run, but none of its logs will be delivered.",
                missing.join(" and "),
                ctx.sub_text(&group_arn),
            );
            let help = ctx.fix_attach_managed_policy(
                role,
                "service-role/AWSLambdaBasicExecutionRole",
                REQUIRED,
                &ctx.yaml_value(&{
                    let mut streams = group_arn.clone();
                    streams.push_lit(":*");
                    streams
                }),
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
                .with_runs_as(role, role_value, function_name)
                .with_help(help)
                .with_resource(function_name.clone()),
            );
        }
    }
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
