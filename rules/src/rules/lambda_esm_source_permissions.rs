use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, arn_service, function_role, needs};
use crate::rules::dynamodb_stream_arn_mismatch::grants_stream_actions_on_table;
use iamlint_core::{
    Diagnostic, Pseudo, Resource, Severity, Stack, SymPart, SymStr, Symbol, Value, ValueKind,
};

declare_rule! {
    /// ## What it does
    /// Finds event source mappings (`AWS::Lambda::EventSourceMapping`, and SAM `Events` of
    /// type SQS, Kinesis, DynamoDB, MSK, MQ, SelfManagedKafka and DocumentDB) whose function's
    /// execution role cannot read the source:
    ///
    /// - SQS: `sqs:ReceiveMessage`, `sqs:DeleteMessage` and `sqs:GetQueueAttributes` on the
    ///   queue;
    /// - Kinesis: `kinesis:GetRecords`, `GetShardIterator` and `DescribeStream` on the stream;
    /// - DynamoDB: `dynamodb:GetRecords`, `GetShardIterator`, `DescribeStream` and
    ///   `ListStreams` on the table's stream;
    /// - Amazon MSK: `kafka:DescribeClusterV2` (or `DescribeCluster`) and
    ///   `kafka:GetBootstrapBrokers` on the cluster;
    /// - Amazon MQ: `mq:DescribeBroker` on the broker;
    /// - DocumentDB: `rds:DescribeDBClusters` on the cluster, `rds:DescribeDBClusterParameters`
    ///   and `rds:DescribeDBSubnetGroups`;
    /// - MSK, MQ and DocumentDB, and self-managed Kafka given a `VPC_SUBNET` or
    ///   `VPC_SECURITY_GROUP`: the EC2 network interface actions (`ec2:CreateNetworkInterface`,
    ///   `DescribeNetworkInterfaces`, `DeleteNetworkInterface`, `DescribeVpcs`,
    ///   `DescribeSubnets`, `DescribeSecurityGroups`) on `"*"`;
    /// - `secretsmanager:GetSecretValue` on each secret of `SourceAccessConfigurations`
    ///   (`BASIC_AUTH`, `SASL_SCRAM_*`, `CLIENT_CERTIFICATE_TLS_AUTH`,
    ///   `SERVER_ROOT_CA_CERTIFICATE`).
    ///
    /// ## Why is this bad?
    /// Lambda polls the source with the function's execution role, and checks the role when
    /// the mapping is created: CloudFormation fails with "The provided execution role does not
    /// have permissions to call ReceiveMessage on SQS" and rolls the stack back. Kafka, MQ and
    /// DocumentDB mappings without the permissions cannot connect to the source.
    ///
    /// ## Example
    /// ```yaml
    /// Mapping:
    ///   Type: AWS::Lambda::EventSourceMapping
    ///   Properties:
    ///     EventSourceArn: !GetAtt Queue.Arn
    ///     FunctionName: !Ref Consumer   # its role may only sqs:SendMessage
    /// ```
    ///
    /// ## How to fix
    /// Attach the AWS managed policy for the source (`AWSLambdaSQSQueueExecutionRole`,
    /// `AWSLambdaKinesisExecutionRole`, `AWSLambdaDynamoDBExecutionRole`,
    /// `AWSLambdaMSKExecutionRole`), or grant the actions on the source's ARN. SAM attaches
    /// these policies itself only to roles it generates: a function with its own `Role` gets
    /// nothing. For an MQ event SAM grants `mq:DescribeBroker` and the secret but not the EC2
    /// actions, and for a self-managed Kafka root CA certificate it does not grant the
    /// certificate's secret: add those to the function's `Policies`.
    ///
    /// SQS gaps are errors; for Kinesis and DynamoDB streams a missing `GetRecords` is an
    /// error and other gaps are warnings; gaps for MSK, MQ, self-managed Kafka and DocumentDB
    /// are warnings. A grant only in the queue's policy is a warning, since Lambda's
    /// create-time check reads the execution role. When the role grants the DynamoDB stream
    /// actions on the table's ARN instead of the stream's, IAM018 reports it and this rule
    /// stays silent.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions
    /// - https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-permissions
    /// - https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#services-dynamodb-permissions
    /// - https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html
    /// - https://docs.aws.amazon.com/lambda/latest/dg/with-mq.html
    /// - https://docs.aws.amazon.com/lambda/latest/dg/with-kafka.html
    /// - https://docs.aws.amazon.com/lambda/latest/dg/with-documentdb.html
    pub struct LambdaEsmSourcePermissions {
        code: "IAM004",
        name: "lambda-esm-source-permissions",
        severity: Error,
        summary: "event source mapping; role lacks the polling actions on the source (SQS, Kinesis, DynamoDB Streams, MSK, MQ, Kafka, DocumentDB)",
    }
}

/// A source Lambda polls, with what the role needs on it.
struct Source {
    name: &'static str,
    service: &'static str,
    /// The actions on the source's own ARN.
    actions: &'static [&'static str],
    /// Without these, the mapping certainly fails; other gaps are warnings.
    core: &'static [&'static str],
    managed_policy: Option<&'static str>,
    /// Lambda reaches the source through network interfaces in its VPC, with the EC2 set.
    vpc: bool,
}

const SQS: Source = Source {
    name: "SQS queue",
    service: "SQS",
    actions: &[
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ],
    core: &[
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ],
    managed_policy: Some("service-role/AWSLambdaSQSQueueExecutionRole"),
    vpc: false,
};

const KINESIS: Source = Source {
    name: "Kinesis stream",
    service: "Kinesis",
    // Lambda's documentation also lists DescribeStreamSummary, ListShards and
    // SubscribeToShard, but mappings whose roles lack them work (they are newer than the
    // original AWSLambdaKinesisExecutionRole); only the long-standing set is checked.
    actions: &[
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
    ],
    core: &["kinesis:GetRecords"],
    managed_policy: Some("service-role/AWSLambdaKinesisExecutionRole"),
    vpc: false,
};

const DYNAMODB: Source = Source {
    name: "DynamoDB stream",
    service: "DynamoDB",
    actions: &[
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:DescribeStream",
        "dynamodb:ListStreams",
    ],
    core: &["dynamodb:GetRecords"],
    managed_policy: Some("service-role/AWSLambdaDynamoDBExecutionRole"),
    vpc: false,
};

const MSK: Source = Source {
    name: "MSK cluster",
    service: "Kafka",
    actions: &[
        "kafka:DescribeCluster",
        "kafka:DescribeClusterV2",
        "kafka:GetBootstrapBrokers",
    ],
    // Lambda's create-time validation for these sources is not documented: gaps are warnings.
    core: &[],
    managed_policy: Some("service-role/AWSLambdaMSKExecutionRole"),
    vpc: true,
};

const MQ: Source = Source {
    name: "Amazon MQ broker",
    service: "MQ",
    actions: &["mq:DescribeBroker"],
    core: &[],
    managed_policy: None,
    vpc: true,
};

const DOCUMENTDB: Source = Source {
    name: "DocumentDB cluster",
    service: "RDS",
    actions: &["rds:DescribeDBClusters"],
    core: &[],
    managed_policy: None,
    vpc: true,
};

const SELF_MANAGED_KAFKA: Source = Source {
    name: "self-managed Kafka cluster",
    service: "Secrets Manager",
    actions: &[],
    core: &[],
    managed_policy: None,
    // Only when its SourceAccessConfigurations name a subnet or security group.
    vpc: false,
};

/// What Lambda needs to reach a source in a VPC: the AWSLambdaMSKExecutionRole EC2 set.
const VPC_ACTIONS: &[&str] = &[
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
];

/// `SourceAccessConfigurations` types whose URI is a secret Lambda reads.
const SECRET_TYPES: &[&str] = &[
    "BASIC_AUTH",
    "SASL_SCRAM_256_AUTH",
    "SASL_SCRAM_512_AUTH",
    "CLIENT_CERTIFICATE_TLS_AUTH",
    "SERVER_ROOT_CA_CERTIFICATE",
];

/// One set of actions a mapping needs on one resource.
struct Need<'a> {
    actions: Vec<&'static str>,
    resource: SymStr,
    /// The value naming the resource (the source ARN, the secret's URI).
    cite: Option<&'a Value>,
    /// Whether this is the source's own ARN.
    on_source: bool,
}

/// One event source mapping, with what its function's role needs.
struct Wired<'a> {
    mapping: &'a Resource,
    source: Source,
    /// The `EventSourceArn` (or `SelfManagedEventSource`) value.
    source_value: &'a Value,
    source_arn: Option<SymStr>,
    function: &'a Resource,
    role: String,
    role_value: &'a Value,
    resource_policy: bool,
    needs: Vec<Need<'a>>,
}

impl LambdaEsmSourcePermissions {
    fn wired<'a>(ctx: &Context<'a>) -> Vec<Wired<'a>> {
        let mut out = Vec::new();
        for mapping in ctx.stack.resources_of("AWS::Lambda::EventSourceMapping") {
            let (source, source_value, source_arn) =
                if let Some(source_value) = mapping.property("EventSourceArn") {
                    let Some(source_arn) = ctx.resolver.string(source_value) else {
                        continue;
                    };
                    let Some(source) = source_kind(&source_arn) else {
                        continue;
                    };
                    (source, source_value, Some(source_arn))
                } else if let Some(value) = mapping.property("SelfManagedEventSource") {
                    (SELF_MANAGED_KAFKA, value, None)
                } else {
                    continue;
                };
            let Some(function) = mapping
                .property("FunctionName")
                .and_then(|v| crate::requests::function_named(ctx.stack, v))
            else {
                continue;
            };
            let Some((role, role_value)) = function_role(ctx, function) else {
                continue;
            };
            let mut needs = Vec::new();
            if let Some(arn) = &source_arn
                && !source.actions.is_empty()
            {
                needs.push(Need {
                    actions: source.actions.to_vec(),
                    resource: arn.clone(),
                    cite: Some(source_value),
                    on_source: true,
                });
            }
            if source.name == DOCUMENTDB.name {
                // Lambda reads the cluster's parameter group and subnet group, whose names
                // it learns from the cluster: any of the account's.
                for (action, kind) in [
                    ("rds:DescribeDBClusterParameters", "cluster-pg"),
                    ("rds:DescribeDBSubnetGroups", "subgrp"),
                ] {
                    needs.push(Need {
                        actions: vec![action],
                        resource: rds_arn(kind),
                        cite: None,
                        on_source: false,
                    });
                }
            }
            let configs = access_configs(mapping);
            let vpc = source.vpc
                || configs
                    .iter()
                    .any(|(kind, _)| matches!(*kind, "VPC_SUBNET" | "VPC_SECURITY_GROUP"));
            if vpc {
                needs.push(Need {
                    actions: VPC_ACTIONS.to_vec(),
                    resource: SymStr::lit("*"),
                    cite: None,
                    on_source: false,
                });
            }
            for (kind, uri) in &configs {
                if !SECRET_TYPES.contains(kind) {
                    continue;
                }
                // A secret given by a value iamlint cannot follow stays unknown: silent.
                let Some(secret) = uri.and_then(|u| ctx.resolver.string(u)) else {
                    continue;
                };
                needs.push(Need {
                    actions: vec!["secretsmanager:GetSecretValue"],
                    resource: secret,
                    cite: *uri,
                    on_source: false,
                });
            }
            let resource_policy =
                source.service == "SQS" && queue_has_policy(ctx.stack, source_value);
            out.push(Wired {
                mapping,
                source,
                source_value,
                source_arn,
                function,
                role: role.id().to_string(),
                role_value,
                resource_policy,
                needs,
            });
        }
        out
    }
}

impl Rule for LambdaEsmSourcePermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        // Without the core actions the mapping cannot be created (an error); without the
        // others Lambda may fail to poll (a warning): one requirement each, for each resource.
        let mut out = Vec::new();
        for w in Self::wired(ctx) {
            for need in &w.needs {
                let (core, rest): (Vec<&'static str>, Vec<&'static str>) = need
                    .actions
                    .iter()
                    .partition(|a| need.on_source && w.source.core.contains(a));
                let req = Requirement {
                    role: w.role.clone(),
                    role_value: w.role_value,
                    actions: Vec::new(),
                    why: format!(
                        "event source mapping {} polls this {} for {}",
                        w.mapping.id, w.source.name, w.function.id
                    ),
                    resource: need.resource.clone(),
                    code: Self::META.code,
                    span: need.cite.unwrap_or(w.source_value).span,
                    cite: need.cite,
                    subject: w.mapping.id.clone(),
                    severity: Severity::Warning,
                    via_service: true,
                };
                if !rest.is_empty() {
                    out.push(Requirement {
                        actions: rest,
                        ..req.clone()
                    });
                }
                if !core.is_empty() {
                    out.push(Requirement {
                        actions: core,
                        severity: Severity::Error,
                        ..req
                    });
                }
            }
        }
        out
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for w in Self::wired(ctx) {
            let Some(role) = ctx.role(&w.role) else {
                continue;
            };
            let source = &w.source;
            if source.name == DYNAMODB.name
                && let Some(stream) = &w.source_arn
                && grants_stream_actions_on_table(ctx, role, stream)
            {
                // The role grants the stream actions on the table: IAM018's error, with the
                // grant to change. One root cause, one finding.
                continue;
            }
            // What each need lacks: (need, missing, conditional).
            let mut gaps: Vec<(&Need<'_>, Vec<&'static str>, Vec<&'static str>)> = Vec::new();
            for need in &w.needs {
                let result = needs(ctx, role, &need.actions, &need.resource);
                if result.is_met() || !result.denied.is_empty() {
                    // An explicit deny is IAM029's finding, with the deny statement to change.
                    continue;
                }
                let (mut missing, mut conditional) = (result.missing, result.conditional);
                if need.on_source && source.name == MSK.name {
                    // Lambda describes the cluster with either action (DescribeClusterV2 in
                    // newer documentation, DescribeCluster in older roles): one suffices.
                    let describe = ["kafka:DescribeCluster", "kafka:DescribeClusterV2"];
                    let lacks = |a: &&str| missing.contains(a) || conditional.contains(a);
                    if describe.iter().any(|a| !lacks(a)) {
                        missing.retain(|a| !describe.contains(a));
                        conditional.retain(|a| !describe.contains(a));
                    }
                }
                if !missing.is_empty() || !conditional.is_empty() {
                    gaps.push((need, missing, conditional));
                }
            }
            if gaps.is_empty() {
                continue;
            }
            let core_missing = gaps.iter().any(|(need, missing, _)| {
                need.on_source && missing.iter().any(|a| source.core.contains(a))
            });
            let severity = if core_missing && !w.resource_policy {
                Severity::Error
            } else {
                Severity::Warning
            };
            let role_name = role.id();
            let lacking: Vec<&str> = gaps
                .iter()
                .flat_map(|(_, m, c)| m.iter().chain(c))
                .copied()
                .collect();
            let first = lacking
                .first()
                .map_or("", |a| a.split(':').nth(1).unwrap_or(a));
            let what = gaps
                .iter()
                .map(|(need, m, c)| {
                    let acts: Vec<&str> = m.iter().chain(c).copied().collect();
                    let on = if need.on_source {
                        "it".to_string()
                    } else if need.actions.first() == Some(&"secretsmanager:GetSecretValue") {
                        format!("the secret {}", ctx.sub_text(&need.resource))
                    } else {
                        format!("\"{}\"", ctx.sub_text(&need.resource))
                    };
                    format!("{} on {on}", acts.join(", "))
                })
                .collect::<Vec<_>>()
                .join("; ");
            let described = match &w.source_arn {
                Some(arn) => format!("{} {}", source.name, ctx.sub_text(arn)),
                None => source.name.to_string(),
            };
            let mut message = format!(
                "Event source mapping {} ({described}) invokes {}, but its execution role {role_name} cannot call {what}. ",
                w.mapping.id, w.function.id,
            );
            if core_missing {
                message.push_str(&format!(
                    "{} will fail to create the mapping (\"The provided execution role does not have permissions to call {first} on {}\").",
                    if ctx.stack.format.is_cloudformation() {
                        "CloudFormation"
                    } else {
                        "Terraform"
                    },
                    source.service
                ));
            } else if source.core.is_empty() {
                message
                    .push_str("Lambda may fail to create the mapping or to connect to the source.");
            } else {
                message.push_str("Lambda may fail to poll the source.");
            }
            if w.resource_policy {
                message.push_str(" (The queue's policy may grant it, but Lambda's create-time check reads the execution role.)");
            }
            if gaps.iter().any(|(_, _, c)| !c.is_empty()) {
                message.push_str(" Some of these are granted only under conditions.");
            }
            let help = help(ctx, role, &w, &gaps);
            let mut d = Diagnostic::new(
                Self::META.code,
                Self::META.name,
                severity,
                role.fix_span(),
                message,
            )
            .with_label(format!("role {role_name} lacks {}", lacking.join(", ")))
            .with_secondary(
                w.source_value.span,
                format!("{} reads from this {}", w.mapping.id, source.name),
            );
            for (need, _, _) in &gaps {
                if let Some(cite) = need.cite
                    && !need.on_source
                {
                    d = d.with_secondary(cite.span, format!("{} reads this secret", w.mapping.id));
                }
            }
            out.push(
                d.with_runs_as(role, w.role_value, &w.function.id)
                    .with_help(help)
                    .with_resource(w.mapping.id.clone()),
            );
        }
    }
}

/// Help for a mapping's gaps: the source's AWS managed policy (or a statement for its ARN),
/// then a statement for each other resource the managed policy does not cover.
fn help<'a>(
    ctx: &Context<'a>,
    role: &crate::principal::Role<'a>,
    w: &Wired<'_>,
    gaps: &[(&Need<'_>, Vec<&'static str>, Vec<&'static str>)],
) -> String {
    let statement = |actions: &[&str], resource: &str| ctx.fix_statement(actions, resource);
    let yaml = |need: &Need<'_>| match need.cite {
        Some(v) => ctx.written(v, &need.resource),
        None => ctx.written_str(&need.resource),
    };
    let covered = |need: &Need<'_>| {
        w.source.managed_policy.is_some()
            && (need.on_source
                || (w.source.name == MSK.name && need.resource.as_literal() == Some("*")))
    };
    let mut parts = Vec::new();
    if let Some(managed) = w.source.managed_policy
        && let Some((need, _, _)) = gaps.iter().find(|(n, _, _)| covered(n))
    {
        // The managed policy grants on "*", so its statement is the source's own one.
        let (actions, resource) = match gaps.iter().find(|(n, _, _)| n.on_source) {
            Some((n, _, _)) => (n.actions.clone(), yaml(n)),
            None => (need.actions.clone(), yaml(need)),
        };
        parts.push(ctx.fix_attach_managed_policy(role, managed, &actions, &resource));
    }
    let rest: Vec<String> = gaps
        .iter()
        .filter(|(n, _, _)| parts.is_empty() || !covered(n))
        .map(|(n, m, c)| {
            let acts: Vec<&str> = if n.on_source || n.resource.as_literal() == Some("*") {
                n.actions.clone()
            } else {
                m.iter().chain(c).copied().collect()
            };
            statement(&acts, &yaml(n))
        })
        .collect();
    if !parts.is_empty() {
        // The managed policy grants the EC2 actions too; the statement alternative does not.
        let ec2: Vec<String> = gaps
            .iter()
            .filter(|(n, _, _)| covered(n) && !n.on_source)
            .map(|(n, _, _)| statement(&n.actions, &yaml(n)))
            .collect();
        if !ec2.is_empty() {
            parts.push(format!(
                "and, with the statement instead of the managed policy:\n{}",
                ec2.join("\n")
            ));
        }
    }
    if !rest.is_empty() {
        let lead = if parts.is_empty() {
            format!("add to one of the policies of role {}:", role.id())
        } else {
            "and add:".to_string()
        };
        parts.push(format!("{lead}\n{}", rest.join("\n")));
    }
    parts.join("\n")
}

/// The `(Type, URI)` pairs of a mapping's `SourceAccessConfigurations`.
fn access_configs(mapping: &Resource) -> Vec<(&str, Option<&Value>)> {
    mapping
        .property("SourceAccessConfigurations")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| Some((c.get("Type")?.as_str()?, c.get("URI"))))
        .collect()
}

/// `arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:{kind}:NAME`, with a name
/// iamlint does not know.
fn rds_arn(kind: &str) -> SymStr {
    let mut s = SymStr::lit("arn:");
    s.push_sym(Symbol::Pseudo(Pseudo::Partition));
    s.push_lit(":rds:");
    s.push_sym(Symbol::Pseudo(Pseudo::Region));
    s.push_lit(":");
    s.push_sym(Symbol::Pseudo(Pseudo::AccountId));
    s.push_lit(format!(":{kind}:"));
    s.push_sym(Symbol::Opaque);
    s
}

/// The kind of source an event source ARN names, from the ARN's service (and, for DynamoDB,
/// its `/stream/` part).
fn source_kind(arn: &SymStr) -> Option<Source> {
    let has = |text: &str| {
        arn.parts()
            .iter()
            .any(|p| matches!(p, SymPart::Lit(s) if s.contains(text)))
    };
    match arn_service(arn)? {
        "sqs" => Some(SQS),
        "kinesis" if !has("/consumer/") => Some(KINESIS),
        "dynamodb" if has("/stream/") => Some(DYNAMODB),
        "kafka" if has(":cluster/") => Some(MSK),
        "mq" if has(":broker:") => Some(MQ),
        // Lambda reads only DocumentDB clusters among RDS ARNs.
        "rds" if has(":cluster:") => Some(DOCUMENTDB),
        _ => None,
    }
}

/// Whether an `AWS::SQS::QueuePolicy` of the stack applies to the queue whose ARN is `queue`.
fn queue_has_policy(stack: &Stack, queue: &Value) -> bool {
    let ValueKind::Ref(target) = &queue.kind else {
        return false;
    };
    stack.resources_of("AWS::SQS::QueuePolicy").any(|policy| {
        policy
            .property("Queues")
            .and_then(Value::as_list)
            .unwrap_or_default()
            .iter()
            .any(|q| matches!(&q.kind, ValueKind::Ref(r) if r.resource == target.resource))
    })
}
