use crate::api_gateway::{PatternProblem, api_of, pattern_problem};
use crate::arn::{self, Grant};
use crate::context::Context;
use crate::declare_rule;
use crate::principal::DocOrigin;
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Span, SymStr, Value};

declare_rule! {
    /// ## What it does
    /// Finds `AWS::Lambda::Permission`s (`aws_lambda_permission`) for
    /// `apigateway.amazonaws.com` whose `SourceArn` can never be the source of an API Gateway
    /// request: an ARN in API Gateway's management namespace (`arn:aws:apigateway:…`), or an
    /// `execute-api` ARN that stops before the method and path (`{apiId}/prod`,
    /// `{apiId}/prod/GET`) without a wildcard. Finds the same ARNs in identity-based grants of
    /// `execute-api:Invoke` (a role, user or group calling an API with IAM authorization) when
    /// no other grant of the principal covers that API.
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
    /// A caller's `execute-api:Invoke` (and `execute-api:ManageConnections`,
    /// `execute-api:InvalidateCache`) is authorized against the same request ARN: a grant in
    /// the management namespace or without the method and path matches no request, and a
    /// method with `AWS_IAM` authorization answers 403 ("User … is not authorized to perform:
    /// execute-api:Invoke"). An API's own resource policy may write `execute-api:/*`, a short
    /// form only resource policies accept: it is not checked.
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
    /// In Terraform, `"${aws_api_gateway_rest_api.api.execution_arn}/*/*"`. In an identity
    /// policy, `…:{apiId}/*` grants every stage, method and path (`*` crosses `/`).
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
    /// - https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
    /// - https://repost.aws/knowledge-center/api-gateway-rest-api-lambda-integrations
    /// - https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-iam-policy-examples-for-api-execution.html
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
        identity_grants(ctx, out);
    }
}

/// `execute-api:Invoke` granted to a role, user or group only on ARNs no request has.
fn identity_grants(ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<Span> = Vec::new();
    for holder in ctx.policy_holders() {
        let docs = holder.role.identity.iter().map(|d| {
            (
                &*d.document,
                !matches!(d.origin, DocOrigin::AwsManaged { .. }),
            )
        });
        let grants = arn::allow_statements(&ctx.resolver, docs);
        let invoking: Vec<&Grant<'_>> = grants
            .iter()
            .filter(|g| g.allows_action("execute-api:Invoke"))
            .collect();
        if invoking.iter().any(|g| g.any_resource) {
            continue;
        }
        // The grants that may match a request, by the API they name (`None`: unknown, which
        // may cover any API).
        let working: Vec<Option<String>> = invoking
            .iter()
            .flat_map(|g| &g.resources)
            .filter(|(pattern, _)| pattern_problem(ctx, pattern).is_none())
            .map(|(pattern, _)| api_of(ctx, pattern))
            .collect();
        for grant in invoking.iter().filter(|g| g.own) {
            for (pattern, value) in &grant.resources {
                let Some(problem) = pattern_problem(ctx, pattern) else {
                    continue;
                };
                let api = api_of(ctx, pattern);
                let covered = working
                    .iter()
                    .any(|w| w.is_none() || (api.is_some() && *w == api));
                if covered || seen.contains(&value.span) {
                    continue;
                }
                seen.push(value.span);
                out.push(identity_finding(
                    ctx,
                    &holder.who(),
                    pattern,
                    value,
                    &problem,
                    api.as_deref(),
                ));
            }
        }
    }
}

fn identity_finding(
    ctx: &Context<'_>,
    who: &str,
    pattern: &SymStr,
    value: &Value,
    problem: &PatternProblem,
    api: Option<&str>,
) -> Diagnostic {
    let why = match problem {
        PatternProblem::ManagementNamespace => {
            "is in API Gateway's management namespace (arn:…:apigateway:…), the ARNs of API Gateway's own resources and never of a request to an API".to_string()
        }
        PatternProblem::TooFewSegments(n) => format!(
            "has {n} path segment{} and no wildcard, while every request is {{apiId}}/{{stage}}/{{METHOD}}/{{path}}",
            if *n == 1 { "" } else { "s" }
        ),
    };
    let message = format!(
        "{who} is granted execute-api:Invoke on {}, which {why}: the grant matches no request, and calls to methods with IAM authorization are denied (403 \"not authorized to perform: execute-api:Invoke\").",
        ctx.sub_text(pattern),
    );
    Diagnostic::new(
        ExecuteApiArnMismatch::META.code,
        ExecuteApiArnMismatch::META.name,
        ExecuteApiArnMismatch::META.severity,
        value.span,
        message,
    )
    .with_label("no request to the API has this ARN")
    .with_help(crate::api_gateway::execute_api_fix(ctx, api, true))
}
