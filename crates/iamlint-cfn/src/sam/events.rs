//! Function event sources (`model/eventsources/pull.py`, `push.py`, `scheduler.py`,
//! `cloudwatchlogs.py`): the event source mappings and permissions they create and what they
//! add to the generated role.

use super::Context;
use super::function::{FunctionInfo, destination_policy, service_trust};
use super::policies::{Role, aws_managed_arn};
use super::value::{get_att, key, list, obj, reference, resource_shell, s, sub, truthy};
use iamlint_core::{Key, Map, Span, Value};

/// The EC2 actions SAM grants for Kafka/DocumentDB sources reached through a VPC.
const VPC_ACTIONS: &[&str] = &[
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
];

/// Expands one entry of a function's `Events`.
pub(super) fn expand(
    function: &FunctionInfo<'_>,
    name: &Key,
    event: &Value,
    role: &mut Role,
    ctx: &mut Context<'_>,
) -> Vec<(Key, Value)> {
    let Some(kind) = event.get("Type").and_then(Value::as_str) else {
        return Vec::new();
    };
    let props = event
        .get("Properties")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let id = format!("{}{}", function.logical_id, name.name);
    let span = event.span;
    match kind {
        "SQS" | "Kinesis" | "DynamoDB" | "MSK" | "MQ" | "SelfManagedKafka" | "DocumentDB" => {
            pull(function, &id, kind, &props, role, span, ctx)
        }
        "S3" => {
            let permission = permission(
                function,
                &format!("{id}Permission"),
                "s3.amazonaws.com",
                None,
                Some(reference("AWS::AccountId", span)),
                span,
            );
            s3_notification(function, &format!("{id}Permission"), &props, span, ctx);
            vec![permission]
        }
        "SNS" if truthy(props.get("SqsSubscription")) => {
            sns_via_sqs(function, &id, &props, role, span)
        }
        "SNS" => {
            let topic = props.get("Topic").cloned();
            let mut out = vec![permission(
                function,
                &format!("{id}Permission"),
                "sns.amazonaws.com",
                topic.clone(),
                None,
                span,
            )];
            let mut subscription =
                resource_shell("AWS::SNS::Subscription", function.resource, span);
            set_props(
                &mut subscription,
                vec![
                    ("Protocol", s("lambda", span)),
                    ("Endpoint", invoked_arn(function, span)),
                    ("TopicArn", topic.unwrap_or_else(|| Value::null(span))),
                ],
                span,
            );
            out.push((key(&id, span), subscription));
            out
        }
        "Schedule" | "CloudWatchEvent" | "EventBridgeRule" => {
            let mut rule = resource_shell("AWS::Events::Rule", function.resource, span);
            let mut rule_props = vec![(
                "Targets",
                list(
                    vec![obj(
                        vec![
                            ("Arn", invoked_arn(function, span)),
                            ("Id", s(format!("{id}LambdaTarget"), span)),
                        ],
                        span,
                    )],
                    span,
                ),
            )];
            if let Some(bus) = props.get("EventBusName") {
                rule_props.push(("EventBusName", bus.clone()));
            }
            set_props(&mut rule, rule_props, span);
            vec![
                (key(&id, span), rule),
                permission(
                    function,
                    &format!("{id}Permission"),
                    "events.amazonaws.com",
                    Some(get_att(&id, "Arn", span)),
                    None,
                    span,
                ),
            ]
        }
        "CloudWatchLogs" => {
            let group = props.get("LogGroupName").cloned();
            let source = group.as_ref().map(|g| {
                obj(
                    vec![(
                        "Fn::Sub",
                        list(
                            vec![
                                s(
                                    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${__LogGroupName__}:*",
                                    span,
                                ),
                                obj(vec![("__LogGroupName__", g.clone())], span),
                            ],
                            span,
                        ),
                    )],
                    span,
                )
            });
            vec![permission(
                function,
                &format!("{id}Permission"),
                "logs.amazonaws.com",
                source,
                None,
                span,
            )]
        }
        "IoTRule" => vec![permission(
            function,
            &format!("{id}Permission"),
            "iot.amazonaws.com",
            Some(obj(
                vec![(
                    "Fn::Sub",
                    list(
                        vec![
                            s(
                                "arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:rule/${RuleName}",
                                span,
                            ),
                            obj(vec![("RuleName", reference(&id, span))], span),
                        ],
                        span,
                    ),
                )],
                span,
            )),
            Some(sub("${AWS::AccountId}", span)),
            span,
        )],
        "Cognito" => {
            let pool = props.get("UserPool");
            let source = pool.map(|p| {
                let pool_id = match super::value::intrinsic(p) {
                    Some(("Ref", arg)) => arg.as_str().map(str::to_owned),
                    _ => None,
                };
                match pool_id {
                    Some(pool_id) => get_att(&pool_id, "Arn", span),
                    None => p.clone(),
                }
            });
            vec![permission(
                function,
                &format!("{}CognitoPermission", function.logical_id),
                "cognito-idp.amazonaws.com",
                source,
                None,
                span,
            )]
        }
        "AlexaSkill" => vec![permission(
            function,
            &format!("{id}Permission"),
            "alexa-appkit.amazon.com",
            None,
            None,
            span,
        )],
        "Api" | "HttpApi" => api_permission(function, &id, kind, &props, span),
        "ScheduleV2" => schedule_v2(function, &id, &props, span),
        _ => Vec::new(),
    }
}

/// What an `S3` event adds to its bucket (`S3._inject_notification_configuration` and
/// `_depend_on_lambda_permissions` in `push.py`): a `LambdaConfigurations` entry per event type
/// invoking the function, and an ordering after the permission, "because when S3 adds a
/// Notification Configuration, it will check whether it has permissions to access Lambda". The
/// bucket must be a `Ref` to a resource of the template (the translator rejects anything
/// else); the change is made once every resource is expanded ([`super::inject_notifications`]).
fn s3_notification(
    function: &FunctionInfo<'_>,
    permission: &str,
    props: &Map,
    span: Span,
    ctx: &mut Context<'_>,
) {
    let Some(("Ref", bucket)) = props.get("Bucket").and_then(super::value::intrinsic) else {
        return;
    };
    let Some(bucket) = bucket.as_str() else {
        return;
    };
    let condition = function
        .resource
        .get("Condition")
        .filter(|c| c.as_str().is_some());
    let mut entries = Vec::new();
    for event_type in props
        .get("Events")
        .map(Value::as_one_or_many)
        .unwrap_or_default()
    {
        let mut entry = vec![("Function", invoked_arn(function, span))];
        if let Some(filter) = props.get("Filter") {
            entry.push(("Filter", filter.clone()));
        }
        entry.push(("Event", event_type.clone()));
        let entry = obj(entry, span);
        entries.push(match condition {
            Some(c) => super::value::make_if(c, entry, reference("AWS::NoValue", span), span),
            None => entry,
        });
    }
    ctx.s3_notifications.push(super::S3Notification {
        bucket: bucket.to_string(),
        entries,
        permission: permission.to_string(),
        condition: condition.cloned(),
        span,
    });
}

fn set_props(resource: &mut Value, props: Vec<(&str, Value)>, span: Span) {
    if let Some(m) = resource.as_map_mut() {
        m.insert(key("Properties", span), obj(props, span));
    }
}

/// `SNS` with `SqsSubscription`: the topic delivers to a queue (new, or the one given) and the
/// function polls the queue through an injected SQS event source.
fn sns_via_sqs(
    function: &FunctionInfo<'_>,
    id: &str,
    props: &Map,
    role: &mut Role,
    span: Span,
) -> Vec<(Key, Value)> {
    let topic = props
        .get("Topic")
        .cloned()
        .unwrap_or_else(|| Value::null(span));
    let subscription = props.get("SqsSubscription");
    let mut out = Vec::new();
    let (queue_arn, queue_url, policy_id) = match subscription.and_then(Value::as_map) {
        Some(existing) => {
            let (Some(arn), Some(url)) = (existing.get("QueueArn"), existing.get("QueueUrl"))
            else {
                return Vec::new();
            };
            let policy_id = existing
                .get("QueuePolicyLogicalId")
                .and_then(Value::as_str)
                .map(str::to_owned);
            (arn.clone(), url.clone(), policy_id)
        }
        None => {
            let queue_id = format!("{id}Queue");
            out.push((
                key(&queue_id, span),
                resource_shell("AWS::SQS::Queue", function.resource, span),
            ));
            (
                get_att(&queue_id, "Arn", span),
                reference(&queue_id, span),
                None,
            )
        }
    };
    let policy_id = policy_id.unwrap_or_else(|| format!("{id}QueuePolicy"));
    let mut policy = resource_shell("AWS::SQS::QueuePolicy", function.resource, span);
    let statement = obj(
        vec![
            ("Action", s("sqs:SendMessage", span)),
            ("Effect", s("Allow", span)),
            ("Principal", s("*", span)),
            ("Resource", queue_arn.clone()),
            (
                "Condition",
                obj(
                    vec![(
                        "ArnEquals",
                        obj(vec![("aws:SourceArn", topic.clone())], span),
                    )],
                    span,
                ),
            ),
        ],
        span,
    );
    set_props(
        &mut policy,
        vec![
            (
                "PolicyDocument",
                obj(
                    vec![
                        ("Version", s("2012-10-17", span)),
                        ("Statement", list(vec![statement], span)),
                    ],
                    span,
                ),
            ),
            ("Queues", list(vec![queue_url], span)),
        ],
        span,
    );
    out.push((key(&policy_id, span), policy));
    let mut sub = resource_shell("AWS::SNS::Subscription", function.resource, span);
    set_props(
        &mut sub,
        vec![
            ("Protocol", s("sqs", span)),
            ("Endpoint", queue_arn.clone()),
            ("TopicArn", topic),
        ],
        span,
    );
    out.push((key(id, span), sub));
    let mut esm = resource_shell("AWS::Lambda::EventSourceMapping", function.resource, span);
    set_props(
        &mut esm,
        vec![
            ("FunctionName", function.target.clone()),
            ("EventSourceArn", queue_arn),
        ],
        span,
    );
    out.insert(0, (key(&format!("{id}EventSourceMapping"), span), esm));
    role.add_managed(aws_managed_arn(
        "service-role/AWSLambdaSQSQueueExecutionRole",
        span,
    ));
    out
}

/// The ARN a push event source invokes: the alias's (`Ref` of an alias is its ARN) with
/// `AutoPublishAlias`, the function's otherwise (SAM: `lambda_alias or lambda_function`).
fn invoked_arn(function: &FunctionInfo<'_>, span: Span) -> Value {
    let is_function = super::value::intrinsic(&function.target)
        .is_some_and(|(f, arg)| f == "Ref" && arg.as_str() == Some(function.logical_id));
    if is_function {
        get_att(function.logical_id, "Arn", span)
    } else {
        function.target.clone()
    }
}

/// An `AWS::Lambda::Permission` for `principal` on the function (or its alias).
fn permission(
    function: &FunctionInfo<'_>,
    id: &str,
    principal: &str,
    source_arn: Option<Value>,
    source_account: Option<Value>,
    span: Span,
) -> (Key, Value) {
    let mut p = resource_shell("AWS::Lambda::Permission", function.resource, span);
    let mut props = vec![
        ("Action", s("lambda:InvokeFunction", span)),
        ("FunctionName", function.target.clone()),
        ("Principal", s(principal, span)),
    ];
    if let Some(arn) = source_arn {
        props.push(("SourceArn", arn));
    }
    if let Some(account) = source_account {
        props.push(("SourceAccount", account));
    }
    set_props(&mut p, props, span);
    (key(id, span), p)
}

/// The permission an `Api`/`HttpApi` event grants API Gateway: invocation from the API's
/// `execute-api` ARN for the event's method and path, any stage.
fn api_permission(
    function: &FunctionInfo<'_>,
    id: &str,
    kind: &str,
    props: &Map,
    span: Span,
) -> Vec<(Key, Value)> {
    let (api, default_api) = if kind == "Api" {
        ("ServerlessRestApi", "ServerlessRestApi")
    } else {
        ("ServerlessHttpApi", "ServerlessHttpApi")
    };
    let api_ref = match props.get("RestApiId").or_else(|| props.get("ApiId")) {
        Some(v) => v.clone(),
        None => reference(api, span),
    };
    let _ = default_api;
    let method = props
        .get("Method")
        .and_then(Value::as_str)
        .map(|m| {
            if m.eq_ignore_ascii_case("any") {
                "*".to_owned()
            } else {
                m.to_uppercase()
            }
        })
        .unwrap_or_else(|| "*".to_owned());
    let path = props
        .get("Path")
        .and_then(Value::as_str)
        .map(|p| {
            // Path parameters (`{id}`, `{proxy+}`) match any segment.
            p.split('/')
                .map(|seg| {
                    if seg.starts_with('{') && seg.ends_with('}') {
                        "*"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_else(|| "/*".to_owned());
    let resource_path =
        if kind == "HttpApi" && props.get("Method").is_none() && props.get("Path").is_none() {
            "*".to_owned()
        } else {
            format!("{method}{path}")
        };
    let arn = obj(
        vec![(
            "Fn::Sub",
            list(
                vec![
                    s(
                        format!(
                            "arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{__ApiId__}}/${{__Stage__}}/{resource_path}"
                        ),
                        span,
                    ),
                    obj(
                        vec![("__ApiId__", api_ref), ("__Stage__", s("*", span))],
                        span,
                    ),
                ],
                span,
            ),
        )],
        span,
    );
    vec![permission(
        function,
        &format!("{id}Permission"),
        "apigateway.amazonaws.com",
        Some(arn),
        None,
        span,
    )]
}

/// `ScheduleV2`: an `AWS::Scheduler::Schedule` and, unless `RoleArn` is given, a role trusting
/// EventBridge Scheduler that may invoke the function.
fn schedule_v2(
    function: &FunctionInfo<'_>,
    id: &str,
    props: &Map,
    span: Span,
) -> Vec<(Key, Value)> {
    let mut out = Vec::new();
    // `_get_dlq_queue_arn_and_resources`: the given ARN, or a new queue when only `Type` is.
    let dlq = props
        .get("DeadLetterConfig")
        .and_then(|dlq| match dlq.get("Arn") {
            Some(arn) => Some(arn.clone()),
            None if dlq.get("Type").is_some() => {
                let queue = dlq
                    .get("QueueLogicalId")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("{id}Queue"), str::to_owned);
                out.push((
                    key(&queue, span),
                    resource_shell("AWS::SQS::Queue", function.resource, span),
                ));
                Some(get_att(&queue, "Arn", span))
            }
            None => None,
        });
    let role_arn = match props.get("RoleArn").filter(|r| truthy(Some(r))) {
        Some(r) => r.clone(),
        None => {
            let role_id = format!("{id}Role");
            let mut role = Role::new(id, service_trust("scheduler.amazonaws.com", span), span);
            role.inline.push(super::function::single_statement_policy(
                &format!("{id}LambdaPolicy"),
                "lambda:InvokeFunction",
                get_att(function.logical_id, "Arn", span),
                span,
            ));
            if let Some(arn) = &dlq {
                role.inline.push(super::function::single_statement_policy(
                    &format!("{id}SQSPolicy"),
                    "sqs:SendMessage",
                    arn.clone(),
                    span,
                ));
            }
            role.boundary = props.get("PermissionsBoundary").cloned();
            let mut res = role.into_resource(function.resource);
            // Scheduler roles carry no managed policies.
            if let Some(p) = res
                .as_map_mut()
                .and_then(|m| m.get_mut("Properties"))
                .and_then(Value::as_map_mut)
            {
                p.remove("ManagedPolicyArns");
            }
            out.push((key(&role_id, span), res));
            get_att(&role_id, "Arn", span)
        }
    };
    let mut target = vec![
        ("Arn", get_att(function.logical_id, "Arn", span)),
        ("RoleArn", role_arn),
    ];
    if let Some(arn) = dlq {
        target.push(("DeadLetterConfig", obj(vec![("Arn", arn)], span)));
    }
    let mut schedule_props = vec![("Target", obj(target, span))];
    if let Some(key_arn) = props.get("KmsKeyArn") {
        schedule_props.push(("KmsKeyArn", key_arn.clone()));
    }
    let mut schedule = resource_shell("AWS::Scheduler::Schedule", function.resource, span);
    set_props(&mut schedule, schedule_props, span);
    out.insert(0, (key(id, span), schedule));
    out
}

/// A pull event: the event source mapping and the role additions.
fn pull(
    function: &FunctionInfo<'_>,
    id: &str,
    kind: &str,
    props: &Map,
    role: &mut Role,
    span: Span,
    ctx: &mut Context<'_>,
) -> Vec<(Key, Value)> {
    let source = match kind {
        "SQS" => props.get("Queue"),
        "Kinesis" | "DynamoDB" | "MSK" => props.get("Stream"),
        "MQ" => props.get("Broker"),
        "DocumentDB" => props.get("Cluster"),
        _ => None,
    };
    let mut esm_props = vec![("FunctionName", function.target.clone())];
    if let Some(source) = source {
        esm_props.push(("EventSourceArn", source.clone()));
    }
    for name in [
        "SourceAccessConfigurations",
        "Topics",
        "Queues",
        "DestinationConfig",
        "FilterCriteria",
        "KmsKeyArn",
        "StartingPosition",
        "BatchSize",
        "Enabled",
    ] {
        if let Some(v) = props.get(name) {
            esm_props.push((name, v.clone()));
        }
    }
    if let Some(servers) = props.get("KafkaBootstrapServers") {
        esm_props.push((
            "SelfManagedEventSource",
            obj(
                vec![(
                    "Endpoints",
                    obj(vec![("KafkaBootstrapServers", servers.clone())], span),
                )],
                span,
            ),
        ));
    }
    let mut esm = resource_shell("AWS::Lambda::EventSourceMapping", function.resource, span);
    set_props(&mut esm, esm_props, span);

    // Managed policy.
    let managed = match kind {
        "SQS" => Some("service-role/AWSLambdaSQSQueueExecutionRole"),
        "Kinesis" => Some("service-role/AWSLambdaKinesisExecutionRole"),
        "DynamoDB" => Some("service-role/AWSLambdaDynamoDBExecutionRole"),
        "MSK" => Some("service-role/AWSLambdaMSKExecutionRole"),
        _ => None,
    };
    if let Some(m) = managed {
        role.add_managed(aws_managed_arn(m, span));
    }
    // Inline statements.
    let statements = match kind {
        "MSK" => msk_statements(props, span),
        "MQ" => mq_statements(props, id, span, ctx),
        "SelfManagedKafka" => kafka_statements(props, span),
        "DocumentDB" => documentdb_statements(props, id, span, ctx),
        _ => None,
    };
    if let Some(policy) = statements {
        role.link_inline(policy);
    }
    // Failure destination.
    if let Some(on_failure) = props
        .get("DestinationConfig")
        .and_then(|d| d.get("OnFailure"))
        && let Some(kind) = on_failure.get("Type").and_then(Value::as_str)
    {
        // `pull.py` accepts only these destination types.
        if !["SQS", "SNS", "S3", "Kafka"].contains(&kind) {
            ctx.error(
                on_failure.span,
                function.logical_id,
                format!(
                    "Resource with id [{}] is invalid. Event with id [{id}] is invalid. The only valid values for 'Type' are 'SQS', 'SNS', 'S3', and 'Kafka'",
                    function.logical_id
                ),
            );
        }
        let dest = on_failure
            .get("Destination")
            .cloned()
            .unwrap_or_else(|| Value::null(span));
        if let Some(policy) = destination_policy(kind, id, dest, on_failure.span) {
            role.link_inline(policy);
        }
    }
    vec![(key(id, span), esm)]
}

fn statement(actions: &[&str], resource: Value, span: Span) -> Value {
    obj(
        vec![
            (
                "Action",
                list(actions.iter().map(|a| s(*a, span)).collect(), span),
            ),
            ("Effect", s("Allow", span)),
            ("Resource", resource),
        ],
        span,
    )
}

fn policy(name: &str, statements: Vec<Value>, version: bool, span: Span) -> Value {
    let mut doc = vec![("Statement", list(statements, span))];
    if version {
        doc.push(("Version", s("2012-10-17", span)));
    }
    obj(
        vec![
            ("PolicyName", s(name, span)),
            ("PolicyDocument", obj(doc, span)),
        ],
        span,
    )
}

fn kms_key_statement(key_id: &Value, span: Span) -> Option<Value> {
    let id = key_id.as_scalar_str()?;
    Some(statement(
        &["kms:Decrypt"],
        sub(
            format!("arn:${{AWS::Partition}}:kms:${{AWS::Region}}:${{AWS::AccountId}}:key/{id}"),
            span,
        ),
        span,
    ))
}

fn access_configs(props: &Map) -> Vec<(&str, Option<&Value>)> {
    props
        .get("SourceAccessConfigurations")
        .and_then(Value::as_list)
        .map(|items| {
            items
                .iter()
                .filter_map(|c| Some((c.get("Type")?.as_str()?, c.get("URI"))))
                .collect()
        })
        .unwrap_or_default()
}

fn schema_registry_statements(props: &Map, span: Span) -> Vec<Value> {
    let Some(config) = props.get("SchemaRegistryConfig") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(access) = config.get("AccessConfigs").and_then(Value::as_list) {
        for c in access {
            if let Some(uri) = c.get("URI") {
                out.push(statement(
                    &["secretsmanager:GetSecretValue"],
                    uri.clone(),
                    span,
                ));
            }
        }
    }
    if let Some(uri) = config.get("SchemaRegistryURI") {
        let text = match super::value::intrinsic(uri) {
            Some(("Fn::Sub", arg)) => arg.as_str(),
            _ => uri.as_str(),
        };
        let registry = text.and_then(|t| {
            // The translator resolves pseudo parameters before splitting the ARN, so their
            // `::` does not count as separators.
            let t = ["Partition", "Region", "AccountId", "URLSuffix", "StackName"]
                .iter()
                .fold(t.to_owned(), |t, p| t.replace(&format!("${{AWS::{p}}}"), p));
            let parts: Vec<&str> = t.split(':').collect();
            if t.starts_with("arn") && parts.len() >= 6 {
                parts.get(5)?.strip_prefix("registry/").map(str::to_owned)
            } else {
                None
            }
        });
        if let Some(name) = registry {
            out.push(statement(&["glue:GetRegistry"], uri.clone(), span));
            out.push(statement(
                &["glue:GetSchemaVersion"],
                list(
                    vec![sub(
                        format!(
                            "arn:${{AWS::Partition}}:glue:${{AWS::Region}}:${{AWS::AccountId}}:schema/{name}/*"
                        ),
                        span,
                    )],
                    span,
                ),
                span,
            ));
        }
    }
    out
}

fn msk_statements(props: &Map, span: Span) -> Option<Value> {
    let mut statements = schema_registry_statements(props, span);
    for (kind, uri) in access_configs(props) {
        if kind == "CLIENT_CERTIFICATE_TLS_AUTH"
            && let Some(uri) = uri.filter(|u| truthy(Some(u)))
        {
            statements.push(statement(
                &["secretsmanager:GetSecretValue"],
                uri.clone(),
                span,
            ));
        }
    }
    (!statements.is_empty()).then(|| policy("MSKExecutionRolePolicy", statements, false, span))
}

fn basic_auth_uri<'a>(
    props: &'a Map,
    id: &str,
    span: Span,
    ctx: &mut Context<'_>,
) -> Option<&'a Value> {
    let uri = access_configs(props)
        .into_iter()
        .find(|(k, _)| *k == "BASIC_AUTH")
        .and_then(|(_, u)| u);
    if uri.is_none() {
        ctx.error(
            span,
            id,
            format!("Event with id [{id}] is invalid. No BASIC_AUTH property specified in SourceAccessConfigurations."),
        );
    }
    uri
}

fn mq_statements(props: &Map, id: &str, span: Span, ctx: &mut Context<'_>) -> Option<Value> {
    let uri = basic_auth_uri(props, id, span, ctx)?;
    let broker = props
        .get("Broker")
        .cloned()
        .unwrap_or_else(|| Value::null(span));
    let mut statements = vec![
        statement(&["secretsmanager:GetSecretValue"], uri.clone(), span),
        statement(&["mq:DescribeBroker"], broker, span),
    ];
    if let Some(k) = props
        .get("SecretsManagerKmsKeyId")
        .and_then(|k| kms_key_statement(k, span))
    {
        // MQ writes this one action as a plain string.
        let mut k = k;
        if let Some(m) = k.as_map_mut() {
            m.insert(key("Action", span), s("kms:Decrypt", span));
        }
        statements.push(k);
    }
    let dynamic = props.get("DynamicPolicyName").and_then(Value::as_bool) == Some(true);
    let name = if dynamic {
        format!("{id}AMQPolicy")
    } else {
        "SamAutoGeneratedAMQPolicy".to_owned()
    };
    Some(policy(&name, statements, false, span))
}

fn kafka_statements(props: &Map, span: Span) -> Option<Value> {
    const AUTH: &[&str] = &[
        "SASL_SCRAM_256_AUTH",
        "SASL_SCRAM_512_AUTH",
        "BASIC_AUTH",
        "CLIENT_CERTIFICATE_TLS_AUTH",
        "OAUTHBEARER_AUTH",
    ];
    let mut statements = Vec::new();
    let (mut subnet, mut group) = (false, false);
    let mut auth = None;
    let mut root_ca = None;
    for (kind, uri) in access_configs(props) {
        match kind {
            "VPC_SUBNET" => subnet = true,
            "VPC_SECURITY_GROUP" => group = true,
            "SERVER_ROOT_CA_CERTIFICATE" => root_ca = uri,
            k if AUTH.contains(&k) => auth = uri,
            _ => {}
        }
    }
    // The translator grants the authentication secret a second time for a root CA
    // certificate, not the certificate's own secret (translator output
    // self_managed_kafka_with_SERVER_ROOT_CA_CERTIFICATE_and_auth_mechanism): Lambda then
    // cannot read the certificate, which IAM004 reports.
    let root_ca = root_ca.and(auth);
    for uri in [auth, root_ca].into_iter().flatten() {
        statements.push(statement(
            &["secretsmanager:GetSecretValue"],
            uri.clone(),
            span,
        ));
    }
    if subnet && group {
        statements.push(statement(VPC_ACTIONS, s("*", span), span));
    }
    if let Some(k) = props
        .get("SecretsManagerKmsKeyId")
        .and_then(|k| kms_key_statement(k, span))
    {
        statements.push(k);
    }
    statements.extend(schema_registry_statements(props, span));
    (!statements.is_empty()).then(|| {
        policy(
            "SelfManagedKafkaExecutionRolePolicy",
            statements,
            true,
            span,
        )
    })
}

fn documentdb_statements(
    props: &Map,
    id: &str,
    span: Span,
    ctx: &mut Context<'_>,
) -> Option<Value> {
    let uri = basic_auth_uri(props, id, span, ctx)?;
    let cluster = props
        .get("Cluster")
        .cloned()
        .unwrap_or_else(|| Value::null(span));
    let mut statements = vec![
        statement(&["secretsmanager:GetSecretValue"], uri.clone(), span),
        statement(
            &["rds:DescribeDBClusterParameters"],
            sub(
                "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster-pg:*",
                span,
            ),
            span,
        ),
        statement(
            &["rds:DescribeDBSubnetGroups"],
            sub(
                "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:subgrp:*",
                span,
            ),
            span,
        ),
        statement(&["rds:DescribeDBClusters"], cluster, span),
        statement(VPC_ACTIONS, s("*", span), span),
    ];
    if let Some(k) = props
        .get("SecretsManagerKmsKeyId")
        .and_then(|k| kms_key_statement(k, span))
    {
        statements.push(k);
    }
    Some(policy(
        "SamAutoGeneratedDocumentDBPolicy",
        statements,
        false,
        span,
    ))
}
