use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, closed_role, needs};
use iamlint_core::{Diagnostic, SymStr, Value};

declare_rule! {
    /// ## What it does
    /// Finds Lambda functions with active tracing (`TracingConfig.Mode: Active`, SAM
    /// `Tracing: Active`) and state machines with tracing enabled
    /// (`TracingConfiguration.Enabled: true`) whose role cannot send traces
    /// (`xray:PutTraceSegments`, `xray:PutTelemetryRecords`).
    ///
    /// ## Why is this bad?
    /// The service sends trace segments to X-Ray with the resource's role. Without the
    /// permission nothing fails at deploy time, but no traces arrive: tracing looks switched
    /// on and shows nothing.
    ///
    /// ## Example
    /// ```yaml
    /// Function:
    ///   Type: AWS::Lambda::Function
    ///   Properties:
    ///     Role: !GetAtt FunctionRole.Arn   # only AWSLambdaBasicExecutionRole
    ///     TracingConfig:
    ///       Mode: Active
    /// ```
    ///
    /// ## How to fix
    /// Attach `AWSXRayDaemonWriteAccess` (or `AWSXrayWriteOnlyAccess`), or allow the two
    /// actions on `"*"`. SAM attaches the policy itself to roles it generates.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html#services-xray-permissions
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/xray-iam.html
    pub struct LambdaXrayPermissions {
        code: "IAM007",
        name: "lambda-xray-permissions",
        severity: Warning,
        summary: "active tracing without X-Ray write permissions",
    }
}

const REQUIRED: &[&str] = &["xray:PutTraceSegments", "xray:PutTelemetryRecords"];

/// One traced resource's requirement, with the value that turns tracing on.
struct Wired<'a> {
    req: Requirement<'a>,
    what: &'static str,
    tracing: &'a Value,
}

impl LambdaXrayPermissions {
    fn wired<'a>(ctx: &Context<'a>) -> Vec<Wired<'a>> {
        let mut out = Vec::new();
        for resource in ctx.stack.resources() {
            let (tracing, role_value, what) = match resource.kind.as_str() {
                "AWS::Lambda::Function" => (
                    resource.property_path(&["TracingConfig", "Mode"]),
                    resource.property("Role"),
                    "Lambda function",
                ),
                "AWS::StepFunctions::StateMachine" => (
                    resource.property_path(&["TracingConfiguration", "Enabled"]),
                    resource.property("RoleArn"),
                    "state machine",
                ),
                _ => continue,
            };
            let Some(tracing) = tracing else {
                continue;
            };
            let active = match resource.kind.as_str() {
                "AWS::Lambda::Function" => tracing.as_str() == Some("Active"),
                _ => tracing.as_bool() == Some(true),
            };
            let Some(role_value) = role_value.filter(|_| active) else {
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
                    why: format!("{what} {} has active tracing", resource.id),
                    span: tracing.span,
                    cite: None,
                    subject: resource.id.clone(),
                    severity: Self::META.severity,
                    // Lambda's X-Ray daemon runs in the function's environment (and its
                    // network); Step Functions sends its own traces.
                    via_service: resource.kind == "AWS::StepFunctions::StateMachine",
                },
                what,
                tracing,
            });
        }
        out
    }
}

impl Rule for LambdaXrayPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        Self::wired(ctx).into_iter().map(|w| w.req).collect()
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for Wired { req, what, tracing } in Self::wired(ctx) {
            let Some(role) = ctx.role(&req.role) else {
                continue;
            };
            let result = needs(ctx, role, &req.actions, &req.resource);
            if result.missing.is_empty() || !result.denied.is_empty() {
                continue;
            }
            let role_name = role.id();
            let message = format!(
                "{what} {} has active tracing, but its role {role_name} cannot call {}: no traces will be recorded.",
                req.subject,
                result.missing.join(" or "),
            );
            let help =
                ctx.fix_attach_managed_policy(role, "AWSXRayDaemonWriteAccess", REQUIRED, "*");
            out.push(
                Diagnostic::new(
                    Self::META.code,
                    Self::META.name,
                    Self::META.severity,
                    role.fix_span(),
                    message,
                )
                .with_label(format!(
                    "role {role_name} lacks {}",
                    result.missing.join(", ")
                ))
                .with_secondary(
                    tracing.span,
                    format!("tracing of {} is active here", req.subject),
                )
                .with_runs_as(role, req.role_value, &req.subject)
                .with_help(help)
                .with_resource(req.subject.clone()),
            );
        }
    }
}
