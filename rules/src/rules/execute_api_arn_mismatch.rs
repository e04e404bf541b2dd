use crate::api_gateway::{PatternProblem, pattern_problem};
use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Value};

declare_rule! {
    /// ## What it does
    /// Finds `AWS::Lambda::Permission`s (`aws_lambda_permission`) for
    /// `apigateway.amazonaws.com` whose `SourceArn` can never be the source of an API Gateway
    /// request: an ARN in API Gateway's management namespace (`arn:aws:apigateway:…`), or an
    /// `execute-api` ARN that stops before the method and path (`{apiId}/prod`,
    /// `{apiId}/prod/GET`) without a wildcard.
    ///
    /// ## Why is this bad?
    /// API Gateway invokes a function from
    /// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`
    /// (`…/{apiId}/authorizers/{id}` for an authorizer). The permission's `SourceArn` is
    /// compared with that ARN (`ArnLike`): the management namespace never matches it, and a
    /// pattern without a wildcard that ends at the stage or the method matches no request.
    /// Every request through the API then fails with 500 "Invalid permissions on Lambda
    /// function". This finding replaces IAM021's for the same invocation: the permission
    /// exists, its ARN is what has to change.
    ///
    /// ## Example
    /// ```yaml
    /// ApiPermission:
    ///   Type: AWS::Lambda::Permission
    ///   Properties:
    ///     FunctionName: !Ref Handler
    ///     Action: lambda:InvokeFunction
    ///     Principal: apigateway.amazonaws.com
    ///     SourceArn: !Sub arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/*
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///     SourceArn: !Sub arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/*
    /// ```
    ///
    /// ## How to fix
    /// Name the `execute-api` ARN of the API followed by `/*/*` (any stage, method and path),
    /// or by `/{stage}/{METHOD}/{path}` for one route; `{apiId}/*` also covers authorizers.
    /// In Terraform, `"${aws_api_gateway_rest_api.api.execution_arn}/*/*"`.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
    /// - https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
    /// - https://repost.aws/knowledge-center/api-gateway-rest-api-lambda-integrations
    pub struct ExecuteApiArnMismatch {
        code: "IAM041",
        name: "execute-api-arn-mismatch",
        severity: Error,
        summary: "API Gateway SourceArn or grant using the wrong ARN namespace or too few path segments",
    }
}

impl Rule for ExecuteApiArnMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for permission in ctx.stack.resources_of("AWS::Lambda::Permission") {
            let principal = permission.property("Principal").and_then(Value::as_str);
            if !principal.is_some_and(|p| p.eq_ignore_ascii_case("apigateway.amazonaws.com")) {
                continue;
            }
            let Some(source) = permission.property("SourceArn") else {
                continue;
            };
            let Some(pattern) = ctx.resolver.string(source) else {
                continue;
            };
            let Some(problem) = pattern_problem(ctx, &pattern) else {
                continue;
            };
            let text = ctx.sub_text(&pattern);
            let (why, label) = match problem {
                PatternProblem::ManagementNamespace => (
                    "uses API Gateway's management namespace (arn:…:apigateway:…), which names API Gateway's own resources; API Gateway invokes functions from execute-api ARNs".to_string(),
                    "the management namespace is never the source of a request",
                ),
                PatternProblem::TooFewSegments(n) => (
                    format!(
                        "has {n} path segment{} and no wildcard; API Gateway invokes from {{apiId}}/{{stage}}/{{METHOD}}/{{path}}",
                        if n == 1 { "" } else { "s" }
                    ),
                    "no request ARN ends here",
                ),
            };
            let message = format!(
                "The SourceArn {text} of Lambda permission {} {why}, so the permission never matches and API Gateway may not invoke the function: every request fails with 500 (\"Invalid permissions on Lambda function\").",
                permission.id
            );
            let api = crate::api_gateway::api_of(ctx, &pattern);
            let help = crate::api_gateway::source_arn_fix(ctx, api.as_deref());
            out.push(
                Diagnostic::new(
                    Self::META.code,
                    Self::META.name,
                    Self::META.severity,
                    source.span,
                    message,
                )
                .with_label(label)
                .with_help(help)
                .with_resource(permission.id.clone()),
            );
        }
    }
}
