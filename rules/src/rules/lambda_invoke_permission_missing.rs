use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::function_named;
use iamlint_core::{
    Attribute, Diagnostic, Part, Pseudo, Reference, Resource, Severity, Span, SymStr, Symbol,
    Value, ValueKind,
};
use iamlint_policy::eval::{Tri, match_action, match_arn, sym_eq};
use std::borrow::Cow;

declare_rule! {
    /// ## What it does
    /// Finds AWS services wired to invoke a Lambda function — S3 bucket notifications, SNS
    /// subscriptions with `Protocol: lambda`, EventBridge rule targets without `RoleArn`, API
    /// Gateway Lambda integrations and authorizers without credentials (REST methods, HTTP API
    /// routes), CloudWatch Logs subscription filters, IoT topic rule actions, Cognito user
    /// pool triggers and Secrets Manager rotation schedules — while no `AWS::Lambda::Permission`
    /// (`aws_lambda_permission`) of the function allows that service, from that source, to call
    /// `lambda:InvokeFunction`.
    ///
    /// ## Why is this bad?
    /// These services invoke the function as a service principal, which only the function's
    /// resource policy can authorize. S3 checks it when the notification is configured:
    /// `PutBucketNotificationConfiguration` fails with "Unable to validate the following
    /// destination configurations" and the stack does not deploy; so do CloudWatch Logs when
    /// the subscription filter is created ("Could not execute the lambda function") and Secrets
    /// Manager when rotation is configured. API Gateway answers every request with 500
    /// ("Invalid permissions on Lambda function"); SNS, EventBridge, IoT and Cognito fail every
    /// invocation at run time. A permission whose `SourceArn` or `SourceAccount` names another
    /// source does not help: API Gateway invokes from
    /// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}` (an authorizer
    /// from `…/{apiId}/authorizers/{id}`), CloudWatch Logs from the log group's ARN ending in
    /// `:*`. A permission whose `execute-api` ARN can never match is IAM041's finding.
    ///
    /// ## Example
    /// ```yaml
    /// Uploads:
    ///   Type: AWS::S3::Bucket
    ///   Properties:
    ///     NotificationConfiguration:
    ///       LambdaConfigurations:
    ///         - Event: s3:ObjectCreated:*
    ///           Function: !GetAtt Processor.Arn
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// ProcessorInvokePermission:
    ///   Type: AWS::Lambda::Permission
    ///   Properties:
    ///     FunctionName: !GetAtt Processor.Arn
    ///     Action: lambda:InvokeFunction
    ///     Principal: s3.amazonaws.com
    ///     SourceAccount: !Ref AWS::AccountId
    /// Uploads:
    ///   Type: AWS::S3::Bucket
    ///   DependsOn: ProcessorInvokePermission
    /// ```
    ///
    /// ## How to fix
    /// Add a permission for the service principal, limited to the source with `SourceArn`
    /// (the bucket, topic or rule ARN) or `SourceAccount`. SAM adds these permissions itself
    /// for a function's `Events`. Step Functions, EventBridge Scheduler, event source mappings
    /// and targets with a role invoke with a role instead and are not checked here.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
    /// - https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html
    /// - https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-permission.html
    /// - https://repost.aws/knowledge-center/api-gateway-rest-api-lambda-integrations
    /// - https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
    /// - https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot_rotation.html
    pub struct LambdaInvokePermissionMissing {
        code: "IAM021",
        name: "lambda-invoke-permission-missing",
        severity: Error,
        summary: "S3, SNS, API Gateway, EventBridge, Logs, IoT, Cognito or Secrets Manager invokes a function without an AWS::Lambda::Permission",
    }
}

/// A function version or alias a request names.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Qualifier {
    /// The unqualified function ARN.
    None,
    /// An alias or version by its name (`live`, `3`).
    Named(String),
    /// An alias or version resource of the stack whose name is not literal.
    Resource(String),
    /// Not known.
    Unknown,
}

impl Qualifier {
    fn same(&self, other: &Qualifier) -> Tri {
        match (self, other) {
            (Qualifier::Unknown, _) | (_, Qualifier::Unknown) => Tri::Maybe,
            (Qualifier::None, Qualifier::None) => Tri::Yes,
            (Qualifier::None, _) | (_, Qualifier::None) => Tri::No,
            (Qualifier::Named(a), Qualifier::Named(b)) => Tri::from(a == b),
            (Qualifier::Resource(a), Qualifier::Resource(b)) if a == b => Tri::Yes,
            _ => Tri::Maybe,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Qualifier::None => "the unqualified function".to_string(),
            Qualifier::Named(q) => format!("qualifier {q}"),
            Qualifier::Resource(r) => format!("the version or alias {r}"),
            Qualifier::Unknown => "an unknown qualifier".to_string(),
        }
    }
}

/// One service invoking one function of the stack.
pub(crate) struct Invocation<'a> {
    /// What invokes (`bucket Uploads`).
    pub source: String,
    pub principal: &'static str,
    /// The ARN of the source, when known.
    pub source_arn: Option<SymStr>,
    /// How to write the source ARN in a fix (`!GetAtt Uploads.Arn`), when it can be written
    /// without a dependency cycle.
    pub source_written: Option<String>,
    pub function: &'a Resource,
    /// The value naming the function (the line to change); for API Gateway, the function ARN
    /// inside the integration URI, spanning the URI.
    pub function_value: Cow<'a, Value>,
    pub qualifier: Qualifier,
    pub severity: Severity,
}

/// How the function's permissions relate to one invocation.
pub(crate) enum Verdict {
    /// Some permission allows it, or iamlint cannot tell.
    Allowed,
    /// No permission of the function allows the service from this source; the spans are the
    /// `SourceArn`/`SourceAccount` of its permissions for the service that name other sources
    /// (and whether SAM generated the permission); and whether one of them names an
    /// `execute-api` source that can never match (IAM041 reports the cause).
    Missing(Vec<(Span, bool)>, bool),
    /// Permissions allow the service from this source, but for other qualifiers only.
    OtherQualifier(Vec<(Qualifier, Span)>),
}

/// Every invocation by a service principal of a function of the stack.
pub(crate) fn invocations<'a>(ctx: &Context<'a>) -> Vec<Invocation<'a>> {
    let stack = ctx.stack;
    let mut out = Vec::new();
    // S3 bucket notifications (validated when the notification is configured).
    for bucket in stack.resources_of("AWS::S3::Bucket") {
        out.extend(bucket_invocations(ctx, bucket));
    }
    // SNS subscriptions.
    for subscription in stack.resources_of("AWS::SNS::Subscription") {
        if subscription.is_generated() {
            // SAM's SNS event adds its own permission.
            continue;
        }
        let protocol = subscription.property("Protocol").and_then(Value::as_str);
        if !protocol.is_some_and(|p| p.eq_ignore_ascii_case("lambda")) {
            continue;
        }
        let Some(function_value) = subscription.property("Endpoint") else {
            continue;
        };
        let topic = subscription.property("TopicArn");
        let source_arn = topic.and_then(|t| ctx.resolver.string(t));
        let source_written = topic
            .zip(source_arn.as_ref())
            .map(|(t, s)| ctx.written(t, s));
        let topic_name = topic
            .and_then(|t| crate::resource_grant::referenced(ctx, t))
            .map_or_else(|| "a topic".to_string(), |r| format!("topic {}", r.id));
        push(
            ctx,
            &mut out,
            format!("SNS subscription {} of {topic_name}", subscription.id),
            "sns.amazonaws.com",
            source_arn,
            source_written,
            Cow::Borrowed(function_value),
            Severity::Error,
        );
    }
    // EventBridge rule targets without a role.
    for rule in stack.resources_of("AWS::Events::Rule") {
        if rule.is_generated() {
            continue;
        }
        let Some(targets) = rule.property("Targets").and_then(Value::as_list) else {
            continue;
        };
        // A rule on a custom bus has the bus name in its ARN.
        let on_default_bus = rule
            .property("EventBusName")
            .is_none_or(|b| b.as_str() == Some("default"));
        let source_arn = on_default_bus.then(|| {
            ctx.resolver
                .reference(&Reference::get_att(rule.id.clone(), "Arn"), 0)
        });
        let source_written =
            on_default_bus.then(|| ctx.written_ref(&Reference::get_att(rule.id.clone(), "Arn")));
        for target in targets {
            if target.get("RoleArn").is_some_and(|r| !r.is_no_value()) {
                continue;
            }
            let Some(function_value) = target.get("Arn") else {
                continue;
            };
            push(
                ctx,
                &mut out,
                format!("EventBridge rule {}", rule.id),
                "events.amazonaws.com",
                source_arn.clone(),
                source_written.clone(),
                Cow::Borrowed(function_value),
                Severity::Warning,
            );
        }
    }
    api_gateway_invocations(ctx, &mut out);
    other_invocations(ctx, &mut out);
    out
}

/// The invocations a bucket's notification configuration makes (`LambdaConfigurations`), one
/// per entry.
pub(crate) fn bucket_invocations<'a>(
    ctx: &Context<'a>,
    bucket: &'a Resource,
) -> Vec<Invocation<'a>> {
    let mut out = Vec::new();
    let Some(configs) = bucket
        .property_path(&["NotificationConfiguration", "LambdaConfigurations"])
        .and_then(Value::as_list)
    else {
        return out;
    };
    let source_arn = ctx
        .resolver
        .reference(&Reference::get_att(bucket.id.clone(), "Arn"), 0);
    // In CloudFormation, a permission naming the bucket's ARN and the bucket depending
    // on the permission make a cycle: name the account instead (as SAM does).
    let source_written = if ctx.stack.format.is_cloudformation() {
        None
    } else {
        Some(ctx.written_ref(&Reference::get_att(bucket.id.clone(), "Arn")))
    };
    for config in configs {
        let Some(function_value) = config.get("Function") else {
            continue;
        };
        push(
            ctx,
            &mut out,
            format!("S3 bucket {}", bucket.id),
            "s3.amazonaws.com",
            Some(source_arn.clone()),
            source_written.clone(),
            Cow::Borrowed(function_value),
            Severity::Error,
        );
    }
    out
}

/// API Gateway integrations and authorizers that invoke a function without credentials (with
/// `Credentials`, API Gateway invokes with that role instead).
fn api_gateway_invocations<'a>(ctx: &Context<'a>, out: &mut Vec<Invocation<'a>>) {
    use crate::api_gateway::{
        execute_api_arn, id_of, invoked_function, refers_to, rest_resource_path, route_key_suffix,
        route_suffix,
    };
    let stack = ctx.stack;
    let has_role = |v: Option<&Value>| v.is_some_and(|r| !r.is_no_value());
    // REST API methods: `Integration.Type` `AWS_PROXY` or `AWS` with a Lambda URI.
    for method in stack.resources_of("AWS::ApiGateway::Method") {
        let Some(integration) = method.property("Integration") else {
            continue;
        };
        let kind = integration.get("Type").and_then(Value::as_str);
        if !matches!(kind, Some("AWS_PROXY" | "AWS")) || has_role(integration.get("Credentials")) {
            continue;
        }
        let (Some(uri), Some(api)) = (integration.get("Uri"), method.property("RestApiId")) else {
            continue;
        };
        let Some(function_value) = invoked_function(uri) else {
            continue;
        };
        let Some(api_id) = ctx.resolver.string(api) else {
            continue;
        };
        let http_method = method.property("HttpMethod").and_then(Value::as_str);
        let path = method
            .property("ResourceId")
            .and_then(|r| rest_resource_path(ctx, r));
        let source = execute_api_arn(api_id, route_suffix(http_method, path.as_ref()));
        push(
            ctx,
            out,
            format!("API Gateway method {}", method.id),
            "apigateway.amazonaws.com",
            Some(source),
            Some(execute_api_written(ctx, api, "/*/*")),
            Cow::Owned(function_value),
            Severity::Error,
        );
    }
    // HTTP (and WebSocket) API integrations, invoked through the routes that target them.
    for integration in stack.resources_of("AWS::ApiGatewayV2::Integration") {
        let kind = integration
            .property("IntegrationType")
            .and_then(Value::as_str);
        if !matches!(kind, Some("AWS_PROXY" | "AWS"))
            || has_role(integration.property("CredentialsArn"))
        {
            continue;
        }
        let (Some(uri), Some(api)) = (
            integration.property("IntegrationUri"),
            integration.property("ApiId"),
        ) else {
            continue;
        };
        let Some(function_value) = invoked_function(uri) else {
            continue;
        };
        let Some(api_id) = ctx.resolver.string(api) else {
            continue;
        };
        // Routes may also come from an OpenAPI body iamlint does not read: only an API of
        // the stack without one is closed.
        let api_resource = crate::resource_grant::referenced(ctx, api);
        if api_resource.is_none_or(|a| {
            a.property("Body").is_some()
                || a.property("BodyS3Location").is_some()
                || a.property("Target").is_some()
        }) {
            continue;
        }
        for route in stack.resources_of("AWS::ApiGatewayV2::Route") {
            if !route
                .property("Target")
                .is_some_and(|t| refers_to(t, &integration.id))
            {
                continue;
            }
            let Some(key) = route.property("RouteKey").and_then(Value::as_str) else {
                continue;
            };
            let source = execute_api_arn(api_id.clone(), route_key_suffix(key));
            push(
                ctx,
                out,
                format!("API Gateway route {} ({key})", route.id),
                "apigateway.amazonaws.com",
                Some(source),
                Some(execute_api_written(ctx, api, "/*/*")),
                Cow::Owned(function_value.clone()),
                Severity::Error,
            );
        }
    }
    // Lambda authorizers: invoked from `{apiId}/authorizers/{authorizerId}`.
    for (kind, api_property, role_property) in [
        (
            "AWS::ApiGateway::Authorizer",
            "RestApiId",
            "AuthorizerCredentials",
        ),
        (
            "AWS::ApiGatewayV2::Authorizer",
            "ApiId",
            "AuthorizerCredentialsArn",
        ),
    ] {
        for authorizer in stack.resources_of(kind) {
            if has_role(authorizer.property(role_property)) {
                continue;
            }
            let (Some(uri), Some(api)) = (
                authorizer.property("AuthorizerUri"),
                authorizer.property(api_property),
            ) else {
                continue;
            };
            let Some(function_value) = invoked_function(uri) else {
                continue;
            };
            let Some(api_id) = ctx.resolver.string(api) else {
                continue;
            };
            let mut rest = SymStr::lit("/authorizers/");
            rest.push(id_of(ctx, &authorizer.id));
            push(
                ctx,
                out,
                format!("API Gateway authorizer {}", authorizer.id),
                "apigateway.amazonaws.com",
                Some(execute_api_arn(api_id, rest)),
                Some(execute_api_written(ctx, api, "/authorizers/*")),
                Cow::Owned(function_value),
                // The authorizer's source ARN form is reported by AWS support answers, not
                // the reference pages.
                Severity::Warning,
            );
        }
    }
}

/// An `execute-api` ARN pattern for a fix: the API's ARN followed by `suffix`.
fn execute_api_written(ctx: &Context<'_>, api: &Value, suffix: &str) -> String {
    let api_text = match &api.kind {
        ValueKind::Ref(r) => r.resource.clone(),
        _ => String::new(),
    };
    if ctx.stack.format.is_cloudformation() {
        if api_text.is_empty() {
            return format!(
                "!Sub arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:*{suffix}"
            );
        }
        format!(
            "!Sub arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{api_text}}}{suffix}"
        )
    } else {
        match &api.kind {
            ValueKind::Ref(r) => {
                let reference = crate::fix::hcl_reference(ctx.stack, r);
                let execution_arn = reference
                    .rsplit_once('.')
                    .map_or(reference.clone(), |(base, _)| {
                        format!("{base}.execution_arn")
                    });
                format!("\"${{{execution_arn}}}{suffix}\"")
            }
            _ => format!("\"arn:aws:execute-api:*:*:*{suffix}\""),
        }
    }
}

/// CloudWatch Logs subscription filters, IoT topic rules, Cognito user pool triggers and
/// Secrets Manager rotation schedules.
fn other_invocations<'a>(ctx: &Context<'a>, out: &mut Vec<Invocation<'a>>) {
    let stack = ctx.stack;
    let pseudo = |p: Pseudo| Symbol::Pseudo(p);
    // Logs: PutSubscriptionFilter checks that Logs may invoke the function ("Could not
    // execute the lambda function. Make sure you have given CloudWatch Logs permission to
    // execute your function."), so the deploy fails.
    for filter in stack.resources_of("AWS::Logs::SubscriptionFilter") {
        if filter.is_generated() || filter.property("RoleArn").is_some_and(|r| !r.is_no_value()) {
            continue;
        }
        let Some(function_value) = filter.property("DestinationArn") else {
            continue;
        };
        let group = filter.property("LogGroupName");
        let source_arn = group.and_then(|g| ctx.resolver.string(g)).map(|name| {
            let mut arn = SymStr::lit("arn:");
            arn.push_sym(pseudo(Pseudo::Partition));
            arn.push_lit(":logs:");
            arn.push_sym(pseudo(Pseudo::Region));
            arn.push_lit(":");
            arn.push_sym(pseudo(Pseudo::AccountId));
            arn.push_lit(":log-group:");
            arn.push(name);
            arn.push_lit(":*");
            arn
        });
        let source_written = source_arn.as_ref().map(|s| ctx.written_str(s));
        push(
            ctx,
            out,
            format!("log subscription filter {}", filter.id),
            "logs.amazonaws.com",
            source_arn,
            source_written,
            Cow::Borrowed(function_value),
            Severity::Error,
        );
    }
    // IoT topic rules: the rule's Lambda actions (and its error action).
    for rule in stack.resources_of("AWS::IoT::TopicRule") {
        if rule.is_generated() {
            continue;
        }
        let Some(payload) = rule.property("TopicRulePayload") else {
            continue;
        };
        let mut actions: Vec<&Value> = payload
            .get("Actions")
            .and_then(Value::as_list)
            .map(|l| l.iter().collect())
            .unwrap_or_default();
        actions.extend(payload.get("ErrorAction"));
        let arn = ctx
            .resolver
            .reference(&Reference::get_att(rule.id.clone(), "Arn"), 0);
        for action in actions {
            let Some(function_value) = action.get("Lambda").and_then(|l| l.get("FunctionArn"))
            else {
                continue;
            };
            push(
                ctx,
                out,
                format!("IoT topic rule {}", rule.id),
                "iot.amazonaws.com",
                Some(arn.clone()),
                Some(ctx.written_ref(&Reference::get_att(rule.id.clone(), "Arn"))),
                Cow::Borrowed(function_value),
                Severity::Warning,
            );
        }
    }
    // Cognito user pool triggers.
    for pool in stack.resources_of("AWS::Cognito::UserPool") {
        let Some(config) = pool.property("LambdaConfig").and_then(Value::as_map) else {
            continue;
        };
        let source_arn = ctx
            .resolver
            .reference(&Reference::get_att(pool.id.clone(), "Arn"), 0);
        for (key, value) in config.iter() {
            let function_value = match key.name.as_str() {
                "KMSKeyID" => continue,
                "CustomEmailSender" | "CustomSMSSender" | "PreTokenGenerationConfig" => {
                    match value.get("LambdaArn") {
                        Some(v) => v,
                        None => continue,
                    }
                }
                _ => value,
            };
            push(
                ctx,
                out,
                format!("Cognito user pool {} ({} trigger)", pool.id, key.name),
                "cognito-idp.amazonaws.com",
                Some(source_arn.clone()),
                Some(ctx.written_ref(&Reference::get_att(pool.id.clone(), "Arn"))),
                Cow::Borrowed(function_value),
                Severity::Warning,
            );
        }
    }
    // Secrets Manager rotation: configuring it checks that Secrets Manager may invoke the
    // function (https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot_rotation.html).
    for schedule in stack.resources_of("AWS::SecretsManager::RotationSchedule") {
        let Some(function_value) = schedule.property("RotationLambdaARN") else {
            continue;
        };
        let secret = schedule.property("SecretId");
        let secret_resource = secret
            .and_then(|s| crate::resource_grant::referenced(ctx, s))
            .filter(|r| r.kind == "AWS::SecretsManager::Secret");
        let source_arn = secret_resource.and_then(|_| secret.and_then(|s| ctx.resolver.string(s)));
        let source_written = secret_resource
            .zip(secret)
            .zip(source_arn.as_ref())
            .map(|((_, v), s)| ctx.written(v, s));
        push(
            ctx,
            out,
            format!("rotation schedule {}", schedule.id),
            "secretsmanager.amazonaws.com",
            source_arn,
            source_written,
            Cow::Borrowed(function_value),
            Severity::Error,
        );
    }
}

#[expect(clippy::too_many_arguments, reason = "one invocation's fields")]
fn push<'a>(
    ctx: &Context<'a>,
    out: &mut Vec<Invocation<'a>>,
    source: String,
    principal: &'static str,
    source_arn: Option<SymStr>,
    source_written: Option<String>,
    function_value: Cow<'a, Value>,
    severity: Severity,
) {
    // Only a function of the stack, named by an ARN (not a name or a parameter).
    if function_value.alternatives().len() != 1 {
        return;
    }
    let Some(function) = function_named(ctx.stack, &function_value) else {
        return;
    };
    out.push(Invocation {
        source,
        principal,
        source_arn,
        source_written,
        function,
        qualifier: qualifier_of(ctx, &function_value),
        function_value,
        severity,
    });
}

/// The qualifier a value naming a function carries: a reference to an alias or version, an
/// ARN ending in `:qualifier`.
pub(crate) fn qualifier_of(ctx: &Context<'_>, value: &Value) -> Qualifier {
    match &value.kind {
        ValueKind::Ref(r) => qualifier_of_reference(ctx, r),
        ValueKind::Template(parts) => {
            let refs: Vec<&Reference> = parts
                .iter()
                .filter_map(|p| match p {
                    Part::Ref(r) => Some(r),
                    _ => None,
                })
                .collect();
            match (refs.as_slice(), parts.last()) {
                // `${Function.Arn}` alone or followed by `:qualifier`.
                ([r], _) if matches!(parts.first(), Some(Part::Ref(_))) => {
                    let base = qualifier_of_reference(ctx, r);
                    match parts.as_slice() {
                        [Part::Ref(_)] => base,
                        [Part::Ref(_), Part::Lit(rest)] if base == Qualifier::None => {
                            match rest.strip_prefix(':') {
                                Some(q) if !q.is_empty() && !q.contains(':') => {
                                    Qualifier::Named(q.to_string())
                                }
                                _ => Qualifier::Unknown,
                            }
                        }
                        _ => Qualifier::Unknown,
                    }
                }
                // `arn:…:function:${Function}` and an optional `:qualifier`.
                ([r], Some(last)) => {
                    let function_ref = matches!(
                        ctx.stack.resource(&r.resource).map(|x| x.kind.as_str()),
                        Some("AWS::Lambda::Function")
                    ) && r.attribute == Attribute::Ref;
                    if !function_ref {
                        return Qualifier::Unknown;
                    }
                    match last {
                        Part::Ref(_) => Qualifier::None,
                        Part::Lit(rest) => match rest.strip_prefix(':') {
                            Some(q) if !q.is_empty() && !q.contains(':') => {
                                Qualifier::Named(q.to_string())
                            }
                            _ if rest.is_empty() => Qualifier::None,
                            _ => Qualifier::Unknown,
                        },
                        Part::Unknown(_) => Qualifier::Unknown,
                    }
                }
                _ => Qualifier::Unknown,
            }
        }
        ValueKind::String(s) => {
            let rest = s.split_once(":function:").map_or(s.as_str(), |(_, r)| r);
            match rest.split_once(':') {
                None => Qualifier::None,
                Some((_, q)) if !q.is_empty() && !q.contains(':') => {
                    Qualifier::Named(q.to_string())
                }
                Some(_) => Qualifier::Unknown,
            }
        }
        _ => Qualifier::Unknown,
    }
}

fn qualifier_of_reference(ctx: &Context<'_>, r: &Reference) -> Qualifier {
    let Some(resource) = ctx.stack.resource(&r.resource) else {
        return Qualifier::Unknown;
    };
    match resource.kind.as_str() {
        "AWS::Lambda::Function" => Qualifier::None,
        "AWS::Lambda::Alias" => match resource.property("Name").and_then(Value::as_str) {
            Some(name) => Qualifier::Named(name.to_string()),
            None => Qualifier::Resource(resource.id.clone()),
        },
        "AWS::Lambda::Version" => Qualifier::Resource(resource.id.clone()),
        _ => Qualifier::Unknown,
    }
}

/// Whether the function's permissions allow the invocation (SEMANTICS.md IAM021 "Matching a
/// permission"): the permissions are OR'ed; each one is a statement with the service
/// principal, `lambda:InvokeFunction`, and `ArnLike aws:SourceArn` / `StringEquals
/// aws:SourceAccount` conditions evaluated against the real source.
pub(crate) fn verdict(ctx: &Context<'_>, invocation: &Invocation<'_>) -> Verdict {
    let found = permissions_for(ctx, invocation);
    if found.maybe || !found.allowing.is_empty() {
        Verdict::Allowed
    } else if found.other_qualifiers.is_empty() {
        Verdict::Missing(found.other_sources, found.malformed_source)
    } else {
        Verdict::OtherQualifier(found.other_qualifiers)
    }
}

/// The permissions of the stack that may be what allows an invocation when the deploy works.
pub(crate) struct Candidates<'a> {
    /// Permissions that certainly allow it.
    pub allowing: Vec<&'a Resource>,
    /// Permissions certainly of the function and the service that may allow it (a source, a
    /// qualifier or a condition iamlint cannot decide).
    pub possible: Vec<&'a Resource>,
    /// Other permissions that may allow it (one naming a function iamlint cannot identify).
    pub uncertain: Vec<&'a Resource>,
}

/// The permissions of the stack that allow the invocation or may (qualifier included).
/// `None` when a SAM connector may write one.
pub(crate) fn candidate_permissions<'a>(
    ctx: &Context<'a>,
    invocation: &Invocation<'_>,
) -> Option<Candidates<'a>> {
    if crate::deliveries::connector_targets(ctx, invocation.function) {
        return None;
    }
    let found = permissions_for(ctx, invocation);
    Some(Candidates {
        allowing: found.allowing,
        possible: found.possible,
        uncertain: found.uncertain,
    })
}

/// How the function's permissions relate to one invocation, permission by permission.
#[derive(Default)]
struct Permissions<'a> {
    /// Permissions that certainly allow it.
    allowing: Vec<&'a Resource>,
    /// Some permission (or a connector) may allow it.
    maybe: bool,
    /// Permissions of the function and the service that may allow it.
    possible: Vec<&'a Resource>,
    /// Other permissions that may allow it.
    uncertain: Vec<&'a Resource>,
    other_qualifiers: Vec<(Qualifier, Span)>,
    other_sources: Vec<(Span, bool)>,
    malformed_source: bool,
}

fn permissions_for<'a>(ctx: &Context<'a>, invocation: &Invocation<'_>) -> Permissions<'a> {
    let mut found = Permissions::default();
    // A SAM connector to the function (which iamlint does not expand) may write the permission.
    if crate::deliveries::connector_targets(ctx, invocation.function) {
        found.maybe = true;
        return found;
    }
    for permission in ctx.stack.resources_of("AWS::Lambda::Permission") {
        let Some(function_value) = permission.property("FunctionName") else {
            continue;
        };
        // Which function it names.
        let mut names = Tri::No;
        for alt in function_value.alternatives() {
            if alt.is_no_value() {
                continue;
            }
            match function_named(ctx.stack, alt) {
                Some(f) if f.id == invocation.function.id => names = names.or(Tri::Yes),
                Some(_) => {}
                None => {
                    // A reference to another resource names that resource; anything else
                    // (a parameter, an import, a name iamlint cannot compute) may name this
                    // function.
                    let other = crate::resource_grant::referenced(ctx, alt).is_some()
                        || (alt.as_str().is_some()
                            && invocation.function.property("FunctionName").is_some());
                    if !other {
                        names = names.or(Tri::Maybe);
                    }
                }
            }
        }
        if names == Tri::No {
            continue;
        }
        let (service, source) = permission_allows(ctx, permission, invocation);
        if names == Tri::Yes
            && service == Tri::Yes
            && source == Tri::No
            && let Some(v) = permission
                .property("SourceArn")
                .or_else(|| permission.property("SourceAccount"))
        {
            found
                .other_sources
                .push((v.span, permission.is_generated()));
            found.malformed_source |= invocation.principal == "apigateway.amazonaws.com"
                && permission
                    .property("SourceArn")
                    .and_then(|a| ctx.resolver.string(a))
                    .is_some_and(|a| crate::api_gateway::pattern_problem(ctx, &a).is_some());
        }
        let matches = names
            .and(service)
            .and(source)
            .and(Tri::from(permission.condition.is_none()).or(Tri::Maybe));
        match matches {
            Tri::No => {}
            Tri::Maybe => {
                found.maybe = true;
                if names == Tri::Yes && service == Tri::Yes {
                    found.possible.push(permission);
                } else {
                    found.uncertain.push(permission);
                }
            }
            Tri::Yes => {
                let qualifier = permission_qualifier(ctx, permission, function_value);
                match qualifier.same(&invocation.qualifier) {
                    Tri::Yes => found.allowing.push(permission),
                    Tri::Maybe => {
                        found.maybe = true;
                        found.possible.push(permission);
                    }
                    Tri::No => found
                        .other_qualifiers
                        .push((qualifier, function_value.span)),
                }
            }
        }
    }
    found
}

/// The qualifier a permission applies to: its `Qualifier`, or the one its `FunctionName`
/// carries.
fn permission_qualifier(ctx: &Context<'_>, permission: &Resource, function: &Value) -> Qualifier {
    let from_name = qualifier_of(ctx, function);
    match permission.property("Qualifier") {
        None => from_name,
        Some(q) => match (q.as_scalar_str(), from_name) {
            (Some(q), Qualifier::None) => Qualifier::Named(q.into_owned()),
            (Some(q), Qualifier::Named(n)) if n == q => Qualifier::Named(n),
            _ => Qualifier::Unknown,
        },
    }
}

/// Whether one permission allows the service's request: its action and principal (first),
/// and its source conditions for the invocation's source (second).
fn permission_allows(
    ctx: &Context<'_>,
    permission: &Resource,
    invocation: &Invocation<'_>,
) -> (Tri, Tri) {
    let text = |name: &str| -> Option<Vec<SymStr>> {
        permission.property(name).map(|v| ctx.resolver.strings(v))
    };
    let any = |values: Vec<SymStr>, f: &dyn Fn(&SymStr) -> Tri| {
        values.iter().fold(Tri::No, |acc, v| acc.or(f(v)))
    };
    // Action.
    let action = match text("Action") {
        None => Tri::Maybe,
        Some(values) => any(values, &|a| match a.as_literal() {
            Some(a) => Tri::from(match_action(a, "lambda:InvokeFunction")),
            None => Tri::Maybe,
        }),
    };
    // Principal.
    let principal = match text("Principal") {
        None => Tri::Maybe,
        Some(values) => any(values, &|p| match p.as_literal() {
            Some("*") => Tri::Yes,
            Some(p) if p.eq_ignore_ascii_case(invocation.principal) => Tri::Yes,
            // CloudWatch Logs also invokes as its regional principal (`logs.{region}.amazonaws.com`).
            Some(p)
                if invocation.principal == "logs.amazonaws.com"
                    && p.strip_prefix("logs.")
                        .and_then(|r| r.strip_suffix(".amazonaws.com"))
                        .is_some_and(|r| !r.contains('.')) =>
            {
                Tri::Yes
            }
            // Another service principal never matches.
            Some(p) if p.ends_with(".amazonaws.com") || p.ends_with(".amazon.com") => Tri::No,
            // An account or an ARN: authorizes IAM principals, not the service (kept
            // undecided).
            _ => Tri::Maybe,
        }),
    };
    // `SourceArn`: `ArnLike aws:SourceArn`.
    let source_arn = match text("SourceArn") {
        None => Tri::Yes,
        Some(values) => match &invocation.source_arn {
            None => Tri::Maybe,
            Some(source) => {
                let (source, source_pinned) = crate::api_gateway::pin_ids(ctx, source);
                any(values, &|pattern| {
                    let (pattern, pinned) = crate::api_gateway::pin_ids(ctx, pattern);
                    match match_arn(&pattern, &source) {
                        // A pattern that names no API of the stack by reference (a literal
                        // id) may name this one.
                        Tri::No if source_pinned && !pinned => Tri::Maybe,
                        other => other,
                    }
                })
            }
        },
    };
    // `SourceAccount`: `StringEquals aws:SourceAccount`; the source is in the stack's account.
    let account = SymStr::sym(Symbol::Pseudo(Pseudo::AccountId));
    let source_account = match text("SourceAccount") {
        None => Tri::Yes,
        Some(values) => any(values, &|a| sym_eq(a, &account)),
    };
    // Conditions iamlint does not evaluate here.
    let other = if permission.property("PrincipalOrgID").is_some()
        || permission.property("EventSourceToken").is_some()
    {
        Tri::Maybe
    } else {
        Tri::Yes
    };
    (
        action.and(principal).and(other),
        source_arn.and(source_account),
    )
}

/// The permission to add, in the stack's own syntax. Its `FunctionName` is the ARN the
/// service invokes, qualifier included.
pub(crate) fn fix(ctx: &Context<'_>, invocation: &Invocation<'_>) -> String {
    let function = ctx.written(
        &invocation.function_value,
        &ctx.resolver
            .string(&invocation.function_value)
            .unwrap_or_else(|| SymStr::sym(Symbol::Opaque)),
    );
    let service = invocation.principal.split('.').next().unwrap_or("service");
    let id = match service {
        "s3" => "S3".to_string(),
        "sns" => "Sns".to_string(),
        "apigateway" => "ApiGateway".to_string(),
        "iot" => "IoT".to_string(),
        "cognito-idp" => "Cognito".to_string(),
        "secretsmanager" => "SecretsManager".to_string(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
    };
    match ctx.stack.format {
        f if f.is_cloudformation() => {
            let mut out = format!(
                "add this resource:\n{}{id}InvokePermission:\n  Type: AWS::Lambda::Permission\n  Properties:\n    FunctionName: {function}\n    Action: lambda:InvokeFunction\n    Principal: {}",
                invocation.function.id, invocation.principal
            );
            match &invocation.source_written {
                Some(source) => out.push_str(&format!("\n    SourceArn: {source}")),
                None => out.push_str("\n    SourceAccount: !Ref AWS::AccountId"),
            }
            if invocation.principal == "s3.amazonaws.com" {
                out.push_str(&format!(
                    "\nand make the bucket depend on it (DependsOn: {}{id}InvokePermission), so that the permission exists when S3 validates the notification",
                    invocation.function.id
                ));
            }
            out
        }
        _ => {
            let name = format!("allow_{}", service.replace('-', "_"));
            let mut out = format!(
                "add this resource:\nresource \"aws_lambda_permission\" \"{name}\" {{\n  statement_id  = \"Allow{id}Invoke\"\n  action        = \"lambda:InvokeFunction\"\n  function_name = {function}\n  principal     = \"{}\"",
                invocation.principal
            );
            match &invocation.source_written {
                Some(source) => out.push_str(&format!("\n  source_arn    = {source}")),
                None => {
                    out.push_str("\n  source_account = data.aws_caller_identity.current.account_id")
                }
            }
            out.push_str("\n}");
            if invocation.principal == "s3.amazonaws.com" {
                out.push_str(&format!(
                    "\nand add depends_on = [aws_lambda_permission.{name}] to the notification"
                ));
            }
            out
        }
    }
}

impl Rule for LambdaInvokePermissionMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        // Several routes through one integration are one finding at the integration.
        let mut reported: Vec<(Span, &str)> = Vec::new();
        for invocation in invocations(ctx) {
            let Verdict::Missing(other_sources, malformed_source) = verdict(ctx, &invocation)
            else {
                continue;
            };
            // IAM041 reports the permission whose source ARN can never match.
            if malformed_source {
                continue;
            }
            let key = (invocation.function_value.span, invocation.principal);
            if reported.contains(&key) {
                continue;
            }
            reported.push(key);
            let function = &invocation.function.id;
            let with_source = invocation
                .source_arn
                .as_ref()
                .map(|s| format!(" from {}", ctx.sub_text(s)))
                .unwrap_or_default();
            let consequence = match invocation.principal {
                "s3.amazonaws.com" => {
                    " Configuring the notification will fail (\"Unable to validate the following destination configurations\") and the deployment with it."
                }
                "sns.amazonaws.com" => " Every delivery to the function will fail.",
                "apigateway.amazonaws.com" => {
                    " Every request will fail with 500 (\"Execution failed due to configuration error: Invalid permissions on Lambda function\")."
                }
                "logs.amazonaws.com" => {
                    " Creating the subscription filter will fail (\"Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function.\") and the deployment with it."
                }
                "secretsmanager.amazonaws.com" => {
                    " Configuring rotation will fail with access denied: Secrets Manager checks that it may invoke the function."
                }
                "iot.amazonaws.com" => " Every invocation by the rule's action will fail.",
                "cognito-idp.amazonaws.com" => {
                    " Every user pool operation that runs the trigger will fail."
                }
                _ => " Every invocation by the rule will fail (FailedInvocations).",
            };
            let permission_type = if ctx.stack.format.is_cloudformation() {
                "AWS::Lambda::Permission"
            } else {
                "aws_lambda_permission"
            };
            let message = format!(
                "{} invokes Lambda function {function}, but no permission of {function} allows {} to call lambda:InvokeFunction{with_source}.{consequence} Add an {permission_type} for {}.",
                invocation.source, invocation.principal, invocation.principal
            );
            let mut d = Diagnostic::new(
                Self::META.code,
                Self::META.name,
                invocation.severity,
                invocation.function_value.span,
                message,
            )
            .with_label(format!(
                "{} may not invoke {function}",
                invocation.principal
            ));
            if other_sources.is_empty() {
                d = d.with_secondary(
                    invocation.function.span,
                    format!("{function}'s resource policy has no statement for it"),
                );
            }
            for (span, generated) in other_sources {
                let label = if generated {
                    format!(
                        "SAM's permission for this event lets {} invoke from this source only",
                        invocation.principal
                    )
                } else {
                    format!(
                        "this permission for {} names another source",
                        invocation.principal
                    )
                };
                d = d.with_secondary(span, label);
            }
            out.push(
                d.with_help(fix(ctx, &invocation))
                    .with_resource(function.clone()),
            );
        }
    }
}
