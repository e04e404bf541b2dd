//! `AWS::Serverless::Function` (`SamFunction.to_cloudformation` in `model/sam_resources.py`).

use super::Context;
use super::events;
use super::policies::{self, Role, aws_managed_arn};
use super::value::{
    copy_attributes, fn_if, get_att, is_no_value, key, list, logical_id_hash, make_if,
    not_condition, obj, properties, reference, s, truthy,
};
use iamlint_core::{Key, Map, Span, Value, ValueKind};

/// Properties copied unchanged from the SAM function to `AWS::Lambda::Function`.
const PASSTHROUGH: &[&str] = &[
    "FunctionName",
    "Handler",
    "Runtime",
    "Description",
    "MemorySize",
    "Timeout",
    "Role",
    "VpcConfig",
    "Environment",
    "KmsKeyArn",
    "Layers",
    "ReservedConcurrentExecutions",
    "FileSystemConfigs",
    "CodeSigningConfigArn",
    "ImageConfig",
    "PackageType",
    "Architectures",
    "EphemeralStorage",
    "SnapStart",
    "RuntimeManagementConfig",
    "LoggingConfig",
    "RecursiveLoop",
    "SourceKMSKeyArn",
    "TenancyConfig",
    "DurableConfig",
];

/// The SAM function's data the event sources need.
pub(super) struct FunctionInfo<'a> {
    pub logical_id: &'a str,
    pub resource: &'a Value,
    /// What event sources point their `FunctionName` at: the alias when `AutoPublishAlias`
    /// is set, the function otherwise.
    pub target: Value,
}

pub(super) fn expand(key_: &Key, resource: &Value, ctx: &mut Context<'_>) -> Vec<(Key, Value)> {
    let id = key_.name.as_str();
    let span = resource.span;
    let props = properties(resource);
    let mut out: Vec<(Key, Value)> = Vec::new();

    let dlq = dead_letter_queue(&props, id, ctx);

    // The Lambda function itself.
    let mut fn_props = Map::default();
    for name in PASSTHROUGH {
        if let Some((k, v)) = props.get_entry(name) {
            fn_props.insert(k.clone(), v.clone());
        }
    }
    if let Some((_, target)) = &dlq {
        fn_props.insert(
            key("DeadLetterConfig", target.span),
            obj(vec![("TargetArn", target.clone())], target.span),
        );
    }
    if let Some((k, tracing)) = props.get_entry("Tracing")
        && truthy(Some(tracing))
    {
        fn_props.insert(
            key("TracingConfig", k.span),
            obj(vec![("Mode", tracing.clone())], tracing.span),
        );
    }

    // AutoPublishAlias: event sources target the alias.
    let alias = props
        .get("AutoPublishAlias")
        .and_then(|v| ctx.resolve_string(v));
    let target = match &alias {
        Some(name) => reference(&format!("{id}Alias{name}"), span),
        None => reference(id, span),
    };

    super::deployment::record(id, resource, &props, alias.is_some(), ctx);

    // The generated role.
    let mut role = function_role(id, resource, &props, dlq.as_ref(), ctx);
    if let Some(config) = props.get("EventInvokeConfig") {
        event_invoke_config(
            id,
            config,
            alias.as_deref(),
            &mut role,
            &mut out,
            ctx,
            resource,
        );
    }
    let entries = policies::entries(props.get("Policies"));
    let entries = policies::expand_templates(entries, id, ctx);
    role.add_policies(&entries, id, ctx);

    let info = FunctionInfo {
        logical_id: id,
        resource,
        target,
    };
    let mut event_resources = Vec::new();
    if let Some(events) = props.get("Events").and_then(Value::as_map) {
        for (name, event) in events.iter() {
            event_resources.extend(events::expand(&info, name, event, &mut role, ctx));
        }
    }

    let role_arn = get_att(&role.logical_id, "Arn", span);
    let mut emit_role = false;
    let mut role_condition: Option<Value> = None;
    match props.get("Role") {
        None => {
            fn_props.insert(key("Role", span), role_arn);
            emit_role = true;
        }
        Some(given) => {
            if let Some((c, t, f)) = fn_if(given) {
                // `Role: !If [C, !Ref AWS::NoValue, X]`: the role exists only when `C` holds.
                if is_no_value(t) && is_no_value(f) {
                    fn_props.insert(key("Role", given.span), role_arn);
                    emit_role = true;
                } else if is_no_value(t) {
                    fn_props.insert(
                        key("Role", given.span),
                        make_if(c, role_arn, f.clone(), given.span),
                    );
                    emit_role = true;
                    role_condition = Some(c.clone());
                } else if is_no_value(f) {
                    fn_props.insert(
                        key("Role", given.span),
                        make_if(c, t.clone(), role_arn, given.span),
                    );
                    emit_role = true;
                    if let Some(name) = c.as_str() {
                        role_condition = Some(s(format!("NOT{name}"), c.span));
                        ctx.add_not_condition(name, c.span);
                    }
                }
            }
        }
    }

    let mut function = super::value::resource_shell("AWS::Lambda::Function", resource, span);
    if let Some(m) = function.as_map_mut() {
        if let Some(src) = resource.as_map() {
            for attr in ["DependsOn", "Metadata"] {
                if let Some((k, v)) = src.get_entry(attr) {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        m.insert(
            key("Properties", span),
            Value::new(ValueKind::Map(fn_props), span),
        );
    }
    out.insert(0, (key_.clone(), function));

    if let Some(name) = &alias {
        let alias_id = format!("{id}Alias{name}");
        let mut alias_res = super::value::resource_shell("AWS::Lambda::Alias", resource, span);
        if let Some(m) = alias_res.as_map_mut() {
            m.insert(
                key("Properties", span),
                obj(
                    vec![
                        ("Name", s(name.clone(), span)),
                        ("FunctionName", reference(id, span)),
                        (
                            "FunctionVersion",
                            get_att(&format!("{id}Version"), "Version", span),
                        ),
                    ],
                    span,
                ),
            );
        }
        out.push((key(&alias_id, span), alias_res));
    }

    if emit_role {
        let role_id = role.logical_id.clone();
        let mut role_res = role.into_resource(resource);
        if let (Some(cond), Some(m)) = (role_condition, role_res.as_map_mut()) {
            m.insert(key("Condition", cond.span), cond);
        }
        out.push((key(&role_id, span), role_res));
    }
    out.extend(event_resources);
    out
}

/// `DeadLetterQueue: {Type, TargetArn}` validated as the translator does: the type and the
/// target.
fn dead_letter_queue(props: &Map, id: &str, ctx: &mut Context<'_>) -> Option<(String, Value)> {
    let dlq = props.get("DeadLetterQueue")?;
    if !truthy(Some(dlq)) {
        return None;
    }
    let (Some(kind), Some(target)) = (dlq.get("Type"), dlq.get("TargetArn")) else {
        ctx.error(
            dlq.span,
            id,
            format!(
                "Resource with id [{id}] is invalid. 'DeadLetterQueue' requires Type and TargetArn properties to be specified."
            ),
        );
        return None;
    };
    match kind.as_str() {
        Some(k @ ("SQS" | "SNS")) => Some((k.to_owned(), target.clone())),
        _ => {
            ctx.error(
                kind.span,
                id,
                format!(
                    "Resource with id [{id}] is invalid. 'DeadLetterQueue' requires Type of ['SQS', 'SNS']"
                ),
            );
            None
        }
    }
}

/// The role `_construct_role` builds before `Policies` and events are added.
fn function_role(
    id: &str,
    resource: &Value,
    props: &Map,
    dlq: Option<&(String, Value)>,
    ctx: &mut Context<'_>,
) -> Role {
    let span = resource.span;
    let trust = match props.get("AssumeRolePolicyDocument") {
        Some(doc) => doc.clone(),
        None => service_trust("lambda.amazonaws.com", span),
    };
    let mut role = Role::new(id, trust, span);
    let basic = if truthy(props.get("DurableConfig")) {
        "service-role/AWSLambdaBasicDurableExecutionRolePolicy"
    } else {
        "service-role/AWSLambdaBasicExecutionRole"
    };
    role.managed.push(aws_managed_arn(basic, span));
    if let Some(tracing) = props.get("Tracing")
        && truthy(Some(tracing))
    {
        let resolved = ctx.resolve_parameter_refs(tracing);
        if resolved.as_str() != Some("Disabled") {
            role.managed
                .push(aws_managed_arn("AWSXrayWriteOnlyAccess", tracing.span));
        }
    }
    if let Some(vpc) = props.get("VpcConfig")
        && truthy(Some(vpc))
    {
        role.managed.push(aws_managed_arn(
            "service-role/AWSLambdaVPCAccessExecutionRole",
            vpc.span,
        ));
    }
    if let Some((kind, target)) = dlq {
        let action = if kind == "SQS" {
            "sqs:SendMessage"
        } else {
            "sns:Publish"
        };
        let sp = target.span;
        role.inline.push(obj(
            vec![
                ("PolicyName", s("DeadLetterQueuePolicy", sp)),
                (
                    "PolicyDocument",
                    obj(
                        vec![
                            ("Version", s("2012-10-17", sp)),
                            (
                                "Statement",
                                list(
                                    vec![obj(
                                        vec![
                                            ("Action", s(action, sp)),
                                            ("Resource", target.clone()),
                                            ("Effect", s("Allow", sp)),
                                        ],
                                        sp,
                                    )],
                                    sp,
                                ),
                            ),
                        ],
                        sp,
                    ),
                ),
            ],
            sp,
        ));
    }
    role.path = props.get("RolePath").cloned();
    role.boundary = props.get("PermissionsBoundary").cloned();
    role
}

/// The trust policy SAM writes for a role assumed by `service`.
pub(super) fn service_trust(service: &str, span: Span) -> Value {
    obj(
        vec![
            ("Version", s("2012-10-17", span)),
            (
                "Statement",
                list(
                    vec![obj(
                        vec![
                            ("Action", list(vec![s("sts:AssumeRole", span)], span)),
                            ("Effect", s("Allow", span)),
                            (
                                "Principal",
                                obj(vec![("Service", list(vec![s(service, span)], span))], span),
                            ),
                        ],
                        span,
                    )],
                    span,
                ),
            ),
        ],
        span,
    )
}

/// A one-statement inline policy `{PolicyName, PolicyDocument: {Statement: [...]}}`.
pub(super) fn single_statement_policy(
    name: &str,
    action: &str,
    resource: Value,
    span: Span,
) -> Value {
    obj(
        vec![
            ("PolicyName", s(name, span)),
            (
                "PolicyDocument",
                obj(
                    vec![(
                        "Statement",
                        list(
                            vec![obj(
                                vec![
                                    ("Action", s(action, span)),
                                    ("Effect", s("Allow", span)),
                                    ("Resource", resource),
                                ],
                                span,
                            )],
                            span,
                        ),
                    )],
                    span,
                ),
            ),
        ],
        span,
    )
}

/// The inline policy `_add_event_invoke_managed_policy` (and pull-event destinations) grant for
/// a destination of `kind`; `None` for kinds without one.
pub(super) fn destination_policy(
    kind: &str,
    prefix: &str,
    arn: Value,
    span: Span,
) -> Option<Value> {
    Some(match kind {
        "SQS" => {
            single_statement_policy(&format!("{prefix}SQSPolicy"), "sqs:SendMessage", arn, span)
        }
        "SNS" => single_statement_policy(&format!("{prefix}SNSPolicy"), "sns:publish", arn, span),
        "EventBridge" => single_statement_policy(
            &format!("{prefix}EventBridgePolicy"),
            "events:PutEvents",
            arn,
            span,
        ),
        "Lambda" => single_statement_policy(
            &format!("{prefix}LambdaPolicy"),
            "lambda:InvokeFunction",
            arn,
            span,
        ),
        "S3Bucket" | "S3" => {
            let wildcard = obj(
                vec![(
                    "Fn::Join",
                    list(
                        vec![s("/", span), list(vec![arn.clone(), s("*", span)], span)],
                        span,
                    ),
                )],
                span,
            );
            let statement = |action: &str, resource: Value| {
                obj(
                    vec![
                        ("Action", s(action, span)),
                        ("Effect", s("Allow", span)),
                        ("Resource", resource),
                    ],
                    span,
                )
            };
            obj(
                vec![
                    ("PolicyName", s(format!("{prefix}S3Policy"), span)),
                    (
                        "PolicyDocument",
                        obj(
                            vec![(
                                "Statement",
                                list(
                                    vec![
                                        statement("s3:PutObject", wildcard),
                                        statement("s3:ListBucket", arn),
                                    ],
                                    span,
                                ),
                            )],
                            span,
                        ),
                    ),
                ],
                span,
            )
        }
        _ => return None,
    })
}

/// `EventInvokeConfig`: the `AWS::Lambda::EventInvokeConfig`, queues/topics SAM creates for
/// destinations without an ARN, and the role's policies for each destination.
#[allow(clippy::too_many_arguments)]
fn event_invoke_config(
    id: &str,
    config: &Value,
    alias: Option<&str>,
    role: &mut Role,
    out: &mut Vec<(Key, Value)>,
    ctx: &mut Context<'_>,
    resource: &Value,
) {
    let span = config.span;
    let config = ctx.resolve_parameter_refs(config);
    let logical_id = format!("{id}EventInvokeConfig");
    let mut dest_config = Map::default();
    if let Some(dests) = config.get("DestinationConfig").filter(|d| truthy(Some(d))) {
        for which in ["OnSuccess", "OnFailure"] {
            let Some(dest) = dests.get(which) else {
                continue;
            };
            let kind = dest.get("Type").and_then(Value::as_str);
            let Some(kind) =
                kind.filter(|k| ["SQS", "SNS", "EventBridge", "Lambda", "S3Bucket"].contains(k))
            else {
                ctx.error(
                    dest.span,
                    id,
                    format!(
                        "Resource with id [{id}] is invalid. 'Type: {}' must be one of ['SQS', 'SNS', 'EventBridge', 'Lambda', 'S3Bucket']",
                        dest.get("Type").and_then(Value::as_str).unwrap_or("None")
                    ),
                );
                continue;
            };
            let prefix = format!("{logical_id}{which}");
            let given = dest.get("Destination");
            // A destination that is absent (or absent under a condition) makes SAM create a
            // queue or topic for it.
            // `!If [C, NoValue, X]` creates the queue when `C` holds; `!If [C, X, NoValue]`
            // when it does not, under a generated `NOT<C><hash>` condition
            // (`_get_or_make_condition`).
            let (condition, explicit) = match given.and_then(fn_if) {
                Some((c, t, f)) if is_no_value(t) && !is_no_value(f) => {
                    (Some(c.clone()), Some(f.clone()))
                }
                Some((c, t, f)) if is_no_value(f) && !is_no_value(t) => {
                    let negated = match c.as_str() {
                        Some(name) => {
                            let not = format!("NOT{name}{}", logical_id_hash(&logical_id));
                            ctx.add_condition(&not, not_condition(c, c.span));
                            s(not, c.span)
                        }
                        None => c.clone(),
                    };
                    (Some(negated), Some(t.clone()))
                }
                _ => (None, given.cloned()),
            };
            // The created queue or topic exists under the destination's condition, and the
            // function's own (`_make_and_conditions`).
            let created_condition = match (resource.get("Condition"), &condition) {
                (Some(rc), Some(pc)) => match (rc.as_str(), pc.as_str()) {
                    (Some(r), Some(p)) => {
                        let name = format!("{r}AND{p}{}", logical_id_hash(id));
                        ctx.add_condition(
                            &name,
                            obj(
                                vec![(
                                    "Fn::And",
                                    list(
                                        vec![
                                            obj(vec![("Condition", rc.clone())], rc.span),
                                            obj(vec![("Condition", pc.clone())], pc.span),
                                        ],
                                        rc.span,
                                    ),
                                )],
                                rc.span,
                            ),
                        );
                        Some(s(name, rc.span))
                    }
                    _ => None,
                },
                (Some(rc), None) => Some(rc.clone()),
                (None, pc) => pc.clone(),
            };
            let destination = if given.is_none() || condition.is_some() {
                let with_condition = |mut r: Value| {
                    if let (Some(c), Some(m)) = (&created_condition, r.as_map_mut()) {
                        m.insert(key("Condition", c.span), c.clone());
                    }
                    r
                };
                let created = match kind {
                    "SQS" => {
                        let qid = format!("{prefix}Queue");
                        let q =
                            super::value::resource_shell("AWS::SQS::Queue", resource, dest.span);
                        out.push((key(&qid, dest.span), with_condition(q)));
                        get_att(&qid, "Arn", dest.span)
                    }
                    "SNS" => {
                        let tid = format!("{prefix}Topic");
                        let t =
                            super::value::resource_shell("AWS::SNS::Topic", resource, dest.span);
                        out.push((key(&tid, dest.span), with_condition(t)));
                        reference(&tid, dest.span)
                    }
                    _ => {
                        ctx.error(
                            dest.span,
                            id,
                            format!(
                                "Resource with id [{id}] is invalid. Destination is required if Type is not ['SQS', 'SNS']"
                            ),
                        );
                        continue;
                    }
                };
                match (&condition, explicit) {
                    (Some(c), Some(other)) => make_if(c, created, other, dest.span),
                    _ => created,
                }
            } else {
                explicit.unwrap_or_else(|| Value::null(dest.span))
            };
            if let Some(policy) = destination_policy(kind, &prefix, destination.clone(), dest.span)
            {
                role.inline.push(policy);
            }
            dest_config.insert(
                key(which, dest.span),
                obj(vec![("Destination", destination)], dest.span),
            );
        }
    }
    let mut eic = super::value::resource_shell("AWS::Lambda::EventInvokeConfig", resource, span);
    if let Some(m) = eic.as_map_mut() {
        m.insert(
            key("Properties", span),
            obj(
                vec![
                    ("FunctionName", reference(id, span)),
                    ("Qualifier", s(alias.unwrap_or("$LATEST"), span)),
                    (
                        "DestinationConfig",
                        Value::new(ValueKind::Map(dest_config), span),
                    ),
                ],
                span,
            ),
        );
        copy_attributes(resource, m);
    }
    out.push((key(&logical_id, span), eic));
}
