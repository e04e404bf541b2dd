//! Terraform resource types onto the CloudFormation resource model the rules read.
//!
//! One table entry per resource type: the CloudFormation type it becomes, its properties
//! (CloudFormation name ← Terraform argument or nested block), and the computed attributes
//! Terraform exposes as the CloudFormation `Ref`/`GetAtt` that returns the same thing
//! (`aws_sqs_queue.q.url` is what `!Ref Queue` returns; `aws_sqs_queue.q.arn` is
//! `!GetAtt Queue.Arn`). Resources that only attach something to another resource in
//! Terraform (`aws_iam_role_policy_attachment`, `aws_kms_key_policy`, …) are folded into it by
//! [`attach`], so a rule sees the same role whichever way the user wrote it.

use crate::eval::reference;
use crate::module::Mode;
use iamlint_core::{
    AppliedBy, Attribute, Key, Map, Origin, Part, Pseudo, Reference, Resource, Span, Stack,
    Unknown, Value, ValueKind,
};

/// A CloudFormation attribute a Terraform attribute stands for.
#[derive(Clone, Copy)]
pub enum Attr {
    /// What `Ref` returns.
    Ref,
    /// `Fn::GetAtt` of this attribute.
    Get(&'static str),
    /// An ARN Terraform builds differently from the CloudFormation attribute, made of the
    /// resource's `Ref` (its name): `arn:PARTITION:SERVICE:REGION:ACCOUNT:PREFIX<Ref>`.
    /// `aws_cloudwatch_log_group.g.arn` is `…:log-group:NAME`, without the `:*` that
    /// `!GetAtt LogGroup.Arn` ends in, so it does not cover the group's log streams.
    ArnOfRef {
        service: &'static str,
        prefix: &'static str,
    },
    /// An ARN in a namespace without an account, made of the resource's `Ref`:
    /// `arn:PARTITION:SERVICE:REGION::PREFIX<Ref>` (`aws_api_gateway_rest_api.arn` is API
    /// Gateway's management ARN `arn:aws:apigateway:REGION::/restapis/ID`).
    AccountlessArnOfRef {
        service: &'static str,
        prefix: &'static str,
    },
    /// The URI API Gateway invokes a function (or alias) by, made of its `Arn` (`Ref` for an
    /// alias): `arn:PARTITION:apigateway:REGION:lambda:path/2015-03-31/functions/ARN/invocations`
    /// (`invoke_arn` of `aws_lambda_function` and `aws_lambda_alias`).
    InvokeUri(Attribute0),
}

/// A core attribute in a `const` table (`Attribute` owns a `String`).
#[derive(Clone, Copy)]
pub enum Attribute0 {
    Ref,
    Arn,
}

/// How one CloudFormation property is made from the Terraform configuration.
pub enum Field {
    /// The argument's value as it is.
    Arg(&'static str),
    /// A policy document: a `jsonencode` value, or JSON text.
    Policy(&'static str),
    /// A single value made a one-element list.
    ListOf(&'static str),
    /// JSON (a `jsonencode` value, or JSON text) written with the API's camelCase member
    /// names, as CloudFormation names them (`logConfiguration` becomes `LogConfiguration`);
    /// the maps of user keys named in the list (`options`) keep their keys as written.
    ApiJson(&'static str, &'static [&'static str]),
    /// The first nested block of this name, mapped by the inner table.
    Block(&'static str, &'static [(&'static str, Field)]),
    /// Every nested block of this name, each mapped by the inner table.
    Blocks(&'static str, &'static [(&'static str, Field)]),
    /// A fixed value.
    Const(&'static str),
    /// Present (as `Const`) only when the argument is true.
    IfTrue(&'static str, &'static str),
}

pub struct Mapping {
    pub tf_type: &'static str,
    pub kind: &'static str,
    pub computed: &'static [(&'static str, Attr)],
    pub props: &'static [(&'static str, Field)],
}

use Field::{ApiJson, Arg, Block, Blocks, Const, IfTrue, ListOf, Policy};

/// The table. Types not listed here are not part of the graph (no rule reads them).
pub const TABLE: &[Mapping] = &[
    // ---- IAM ----------------------------------------------------------------------------
    Mapping {
        tf_type: "aws_iam_role",
        kind: "AWS::IAM::Role",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("name", Attr::Ref),
            ("id", Attr::Ref),
            ("unique_id", Attr::Get("RoleId")),
        ],
        props: &[
            ("RoleName", Arg("name")),
            ("Path", Arg("path")),
            ("AssumeRolePolicyDocument", Policy("assume_role_policy")),
            ("ManagedPolicyArns", Arg("managed_policy_arns")),
            ("PermissionsBoundary", Arg("permissions_boundary")),
            (
                "Policies",
                Blocks(
                    "inline_policy",
                    &[
                        ("PolicyName", Arg("name")),
                        ("PolicyDocument", Policy("policy")),
                    ],
                ),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_iam_policy",
        kind: "AWS::IAM::ManagedPolicy",
        computed: &[
            ("arn", Attr::Ref),
            ("id", Attr::Ref),
            ("policy_id", Attr::Get("PolicyId")),
        ],
        props: &[
            ("ManagedPolicyName", Arg("name")),
            ("Path", Arg("path")),
            ("PolicyDocument", Policy("policy")),
        ],
    },
    Mapping {
        tf_type: "aws_iam_role_policy",
        kind: "AWS::IAM::RolePolicy",
        computed: &[],
        props: &[
            ("RoleName", Arg("role")),
            ("PolicyName", Arg("name")),
            ("PolicyDocument", Policy("policy")),
        ],
    },
    Mapping {
        tf_type: "aws_iam_user",
        kind: "AWS::IAM::User",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("name", Attr::Ref),
            ("id", Attr::Ref),
        ],
        props: &[
            ("UserName", Arg("name")),
            ("Path", Arg("path")),
            ("PermissionsBoundary", Arg("permissions_boundary")),
        ],
    },
    Mapping {
        tf_type: "aws_iam_group",
        kind: "AWS::IAM::Group",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("name", Attr::Ref),
            ("id", Attr::Ref),
        ],
        props: &[("GroupName", Arg("name")), ("Path", Arg("path"))],
    },
    Mapping {
        tf_type: "aws_iam_user_policy",
        kind: "AWS::IAM::Policy",
        computed: &[],
        props: &[
            ("Users", ListOf("user")),
            ("PolicyName", Arg("name")),
            ("PolicyDocument", Policy("policy")),
        ],
    },
    Mapping {
        tf_type: "aws_iam_group_policy",
        kind: "AWS::IAM::Policy",
        computed: &[],
        props: &[
            ("Groups", ListOf("group")),
            ("PolicyName", Arg("name")),
            ("PolicyDocument", Policy("policy")),
        ],
    },
    Mapping {
        tf_type: "aws_iam_instance_profile",
        kind: "AWS::IAM::InstanceProfile",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("name", Attr::Ref),
            ("id", Attr::Ref),
        ],
        props: &[
            ("InstanceProfileName", Arg("name")),
            ("Roles", ListOf("role")),
        ],
    },
    // ---- Lambda -------------------------------------------------------------------------
    Mapping {
        tf_type: "aws_lambda_function",
        kind: "AWS::Lambda::Function",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("function_name", Attr::Ref),
            ("id", Attr::Ref),
            ("qualified_arn", Attr::Get("Arn")),
            ("invoke_arn", Attr::InvokeUri(Attribute0::Arn)),
        ],
        props: &[
            ("FunctionName", Arg("function_name")),
            ("Role", Arg("role")),
            ("Runtime", Arg("runtime")),
            ("KmsKeyArn", Arg("kms_key_arn")),
            (
                "VpcConfig",
                Block(
                    "vpc_config",
                    &[
                        ("SubnetIds", Arg("subnet_ids")),
                        ("SecurityGroupIds", Arg("security_group_ids")),
                    ],
                ),
            ),
            (
                "DeadLetterConfig",
                Block("dead_letter_config", &[("TargetArn", Arg("target_arn"))]),
            ),
            (
                "TracingConfig",
                Block("tracing_config", &[("Mode", Arg("mode"))]),
            ),
            (
                "FileSystemConfigs",
                Blocks(
                    "file_system_config",
                    &[
                        ("Arn", Arg("arn")),
                        ("LocalMountPath", Arg("local_mount_path")),
                    ],
                ),
            ),
            (
                "Environment",
                Block("environment", &[("Variables", Arg("variables"))]),
            ),
            (
                "LoggingConfig",
                Block("logging_config", &[("LogGroup", Arg("log_group"))]),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_lambda_event_source_mapping",
        kind: "AWS::Lambda::EventSourceMapping",
        computed: &[("uuid", Attr::Ref), ("id", Attr::Ref)],
        props: &[
            ("EventSourceArn", Arg("event_source_arn")),
            ("FunctionName", Arg("function_name")),
            ("Topics", Arg("topics")),
            ("Queues", Arg("queues")),
            ("StartingPosition", Arg("starting_position")),
            (
                "DestinationConfig",
                Block(
                    "destination_config",
                    &[(
                        "OnFailure",
                        Block("on_failure", &[("Destination", Arg("destination_arn"))]),
                    )],
                ),
            ),
            (
                "SourceAccessConfigurations",
                Blocks(
                    "source_access_configuration",
                    &[("Type", Arg("type")), ("URI", Arg("uri"))],
                ),
            ),
            (
                "SelfManagedEventSource",
                Block(
                    "self_managed_event_source",
                    &[("Endpoints", Arg("endpoints"))],
                ),
            ),
            (
                "DocumentDBEventSourceConfig",
                Block(
                    "document_db_event_source_config",
                    &[
                        ("DatabaseName", Arg("database_name")),
                        ("CollectionName", Arg("collection_name")),
                    ],
                ),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_lambda_function_event_invoke_config",
        kind: "AWS::Lambda::EventInvokeConfig",
        computed: &[],
        props: &[
            ("FunctionName", Arg("function_name")),
            ("Qualifier", Arg("qualifier")),
            (
                "DestinationConfig",
                Block(
                    "destination_config",
                    &[
                        (
                            "OnFailure",
                            Block("on_failure", &[("Destination", Arg("destination"))]),
                        ),
                        (
                            "OnSuccess",
                            Block("on_success", &[("Destination", Arg("destination"))]),
                        ),
                    ],
                ),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_lambda_permission",
        kind: "AWS::Lambda::Permission",
        computed: &[],
        props: &[
            ("Action", Arg("action")),
            ("FunctionName", Arg("function_name")),
            ("Principal", Arg("principal")),
            ("SourceArn", Arg("source_arn")),
            ("SourceAccount", Arg("source_account")),
            ("Qualifier", Arg("qualifier")),
        ],
    },
    Mapping {
        tf_type: "aws_lambda_alias",
        kind: "AWS::Lambda::Alias",
        computed: &[
            ("arn", Attr::Ref),
            ("invoke_arn", Attr::InvokeUri(Attribute0::Ref)),
        ],
        props: &[
            ("Name", Arg("name")),
            ("FunctionName", Arg("function_name")),
            ("FunctionVersion", Arg("function_version")),
        ],
    },
    // ---- Storage and messaging -----------------------------------------------------------
    Mapping {
        tf_type: "aws_s3_bucket",
        kind: "AWS::S3::Bucket",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("id", Attr::Ref),
            ("bucket", Attr::Ref),
            ("bucket_domain_name", Attr::Get("DomainName")),
            (
                "bucket_regional_domain_name",
                Attr::Get("RegionalDomainName"),
            ),
        ],
        props: &[("BucketName", Arg("bucket"))],
    },
    Mapping {
        tf_type: "aws_s3_bucket_policy",
        kind: "AWS::S3::BucketPolicy",
        computed: &[],
        props: &[
            ("Bucket", Arg("bucket")),
            ("PolicyDocument", Policy("policy")),
        ],
    },
    Mapping {
        tf_type: "aws_sqs_queue",
        kind: "AWS::SQS::Queue",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("url", Attr::Ref),
            ("id", Attr::Ref),
            ("name", Attr::Get("QueueName")),
        ],
        props: &[
            ("QueueName", Arg("name")),
            ("KmsMasterKeyId", Arg("kms_master_key_id")),
            ("SqsManagedSseEnabled", Arg("sqs_managed_sse_enabled")),
            ("FifoQueue", Arg("fifo_queue")),
        ],
    },
    Mapping {
        tf_type: "aws_sqs_queue_policy",
        kind: "AWS::SQS::QueuePolicy",
        computed: &[],
        props: &[
            ("Queues", ListOf("queue_url")),
            ("PolicyDocument", Policy("policy")),
        ],
    },
    Mapping {
        tf_type: "aws_sns_topic",
        kind: "AWS::SNS::Topic",
        computed: &[
            ("arn", Attr::Ref),
            ("id", Attr::Ref),
            ("name", Attr::Get("TopicName")),
        ],
        props: &[
            ("TopicName", Arg("name")),
            ("KmsMasterKeyId", Arg("kms_master_key_id")),
            ("FifoTopic", Arg("fifo_topic")),
        ],
    },
    Mapping {
        tf_type: "aws_sns_topic_policy",
        kind: "AWS::SNS::TopicPolicy",
        computed: &[],
        props: &[
            ("Topics", ListOf("arn")),
            ("PolicyDocument", Policy("policy")),
        ],
    },
    Mapping {
        tf_type: "aws_sns_topic_subscription",
        kind: "AWS::SNS::Subscription",
        computed: &[("arn", Attr::Ref)],
        props: &[
            ("TopicArn", Arg("topic_arn")),
            ("Protocol", Arg("protocol")),
            ("Endpoint", Arg("endpoint")),
        ],
    },
    Mapping {
        tf_type: "aws_dynamodb_table",
        kind: "AWS::DynamoDB::Table",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("id", Attr::Ref),
            ("name", Attr::Ref),
            ("stream_arn", Attr::Get("StreamArn")),
        ],
        props: &[
            ("TableName", Arg("name")),
            (
                "GlobalSecondaryIndexes",
                Blocks("global_secondary_index", &[("IndexName", Arg("name"))]),
            ),
            (
                "LocalSecondaryIndexes",
                Blocks("local_secondary_index", &[("IndexName", Arg("name"))]),
            ),
            (
                "StreamSpecification",
                IfTrue("stream_enabled", "stream_view_type"),
            ),
            (
                "SSESpecification",
                Block(
                    "server_side_encryption",
                    &[
                        ("SSEEnabled", Arg("enabled")),
                        ("KMSMasterKeyId", Arg("kms_key_arn")),
                        ("SSEType", Const("KMS")),
                    ],
                ),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_kinesis_stream",
        kind: "AWS::Kinesis::Stream",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("name", Attr::Ref),
            ("id", Attr::Get("Arn")),
        ],
        props: &[
            ("Name", Arg("name")),
            ("StreamEncryption", IfTrue("encryption_type", "kms_key_id")),
        ],
    },
    Mapping {
        tf_type: "aws_secretsmanager_secret",
        kind: "AWS::SecretsManager::Secret",
        computed: &[("arn", Attr::Ref), ("id", Attr::Ref)],
        props: &[("Name", Arg("name")), ("KmsKeyId", Arg("kms_key_id"))],
    },
    Mapping {
        tf_type: "aws_secretsmanager_secret_policy",
        kind: "AWS::SecretsManager::ResourcePolicy",
        computed: &[],
        props: &[
            ("SecretId", Arg("secret_arn")),
            ("ResourcePolicy", Policy("policy")),
        ],
    },
    Mapping {
        tf_type: "aws_cloudwatch_log_group",
        kind: "AWS::Logs::LogGroup",
        computed: &[
            (
                "arn",
                Attr::ArnOfRef {
                    service: "logs",
                    prefix: "log-group:",
                },
            ),
            ("name", Attr::Ref),
            ("id", Attr::Ref),
        ],
        props: &[
            ("LogGroupName", Arg("name")),
            ("KmsKeyId", Arg("kms_key_id")),
        ],
    },
    Mapping {
        tf_type: "aws_efs_file_system",
        kind: "AWS::EFS::FileSystem",
        computed: &[("arn", Attr::Get("Arn")), ("id", Attr::Ref)],
        props: &[
            ("Encrypted", Arg("encrypted")),
            ("KmsKeyId", Arg("kms_key_id")),
        ],
    },
    Mapping {
        tf_type: "aws_efs_access_point",
        kind: "AWS::EFS::AccessPoint",
        computed: &[("arn", Attr::Get("Arn")), ("id", Attr::Ref)],
        props: &[("FileSystemId", Arg("file_system_id"))],
    },
    Mapping {
        tf_type: "aws_efs_mount_target",
        kind: "AWS::EFS::MountTarget",
        computed: &[("id", Attr::Ref)],
        props: &[
            ("FileSystemId", Arg("file_system_id")),
            ("SubnetId", Arg("subnet_id")),
        ],
    },
    // ---- KMS ----------------------------------------------------------------------------
    Mapping {
        tf_type: "aws_kms_key",
        kind: "AWS::KMS::Key",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("key_id", Attr::Ref),
            ("id", Attr::Ref),
        ],
        props: &[
            ("KeyPolicy", Policy("policy")),
            ("Description", Arg("description")),
        ],
    },
    Mapping {
        tf_type: "aws_kms_alias",
        kind: "AWS::KMS::Alias",
        computed: &[("id", Attr::Ref), ("name", Attr::Ref)],
        props: &[
            ("AliasName", Arg("name")),
            ("TargetKeyId", Arg("target_key_id")),
        ],
    },
    // ---- Compute and orchestration --------------------------------------------------------
    Mapping {
        tf_type: "aws_sfn_state_machine",
        kind: "AWS::StepFunctions::StateMachine",
        computed: &[
            ("arn", Attr::Ref),
            ("id", Attr::Ref),
            ("name", Attr::Get("Name")),
        ],
        props: &[
            ("StateMachineName", Arg("name")),
            ("RoleArn", Arg("role_arn")),
            ("Definition", Policy("definition")),
            (
                "LoggingConfiguration",
                Block(
                    "logging_configuration",
                    &[
                        ("Level", Arg("level")),
                        (
                            "Destinations",
                            Blocks(
                                "\u{0}self",
                                &[(
                                    "CloudWatchLogsLogGroup",
                                    Block("\u{0}self", &[("LogGroupArn", Arg("log_destination"))]),
                                )],
                            ),
                        ),
                    ],
                ),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_ecs_task_definition",
        kind: "AWS::ECS::TaskDefinition",
        computed: &[("arn", Attr::Ref)],
        props: &[
            ("Family", Arg("family")),
            ("TaskRoleArn", Arg("task_role_arn")),
            ("ExecutionRoleArn", Arg("execution_role_arn")),
            ("RequiresCompatibilities", Arg("requires_compatibilities")),
            (
                "ContainerDefinitions",
                ApiJson("container_definitions", &["options", "dockerLabels"]),
            ),
        ],
    },
    // `container_properties` / `ecs_properties` are the API's JSON (camelCase), as
    // `container_definitions` is.
    // https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/batch_job_definition
    Mapping {
        tf_type: "aws_batch_job_definition",
        kind: "AWS::Batch::JobDefinition",
        computed: &[("arn", Attr::Ref), ("id", Attr::Ref)],
        props: &[
            ("JobDefinitionName", Arg("name")),
            ("Type", Arg("type")),
            ("PlatformCapabilities", Arg("platform_capabilities")),
            (
                "ContainerProperties",
                ApiJson("container_properties", &["options"]),
            ),
            (
                "EcsProperties",
                ApiJson("ecs_properties", &["options", "dockerLabels"]),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_ecr_repository",
        kind: "AWS::ECR::Repository",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("name", Attr::Ref),
            ("id", Attr::Ref),
            ("repository_url", Attr::Get("RepositoryUri")),
        ],
        props: &[("RepositoryName", Arg("name"))],
    },
    Mapping {
        tf_type: "aws_launch_template",
        kind: "AWS::EC2::LaunchTemplate",
        computed: &[("id", Attr::Ref)],
        props: &[(
            "LaunchTemplateData",
            Block(
                "iam_instance_profile",
                &[(
                    "IamInstanceProfile",
                    Block("\u{0}self", &[("Arn", Arg("arn")), ("Name", Arg("name"))]),
                )],
            ),
        )],
    },
    Mapping {
        tf_type: "aws_instance",
        kind: "AWS::EC2::Instance",
        computed: &[("id", Attr::Ref)],
        props: &[("IamInstanceProfile", Arg("iam_instance_profile"))],
    },
    Mapping {
        tf_type: "aws_codebuild_project",
        kind: "AWS::CodeBuild::Project",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("name", Attr::Ref),
            ("id", Attr::Get("Arn")),
        ],
        props: &[("Name", Arg("name")), ("ServiceRole", Arg("service_role"))],
    },
    Mapping {
        tf_type: "aws_api_gateway_account",
        kind: "AWS::ApiGateway::Account",
        computed: &[],
        props: &[("CloudWatchRoleArn", Arg("cloudwatch_role_arn"))],
    },
    Mapping {
        tf_type: "aws_scheduler_schedule",
        kind: "AWS::Scheduler::Schedule",
        computed: &[("arn", Attr::Get("Arn"))],
        props: &[
            ("Name", Arg("name")),
            ("KmsKeyArn", Arg("kms_key_arn")),
            (
                "Target",
                Block(
                    "target",
                    &[
                        ("Arn", Arg("arn")),
                        ("RoleArn", Arg("role_arn")),
                        ("Input", Arg("input")),
                        (
                            "DeadLetterConfig",
                            Block("dead_letter_config", &[("Arn", Arg("arn"))]),
                        ),
                        (
                            "EcsParameters",
                            Block(
                                "ecs_parameters",
                                &[("TaskDefinitionArn", Arg("task_definition_arn"))],
                            ),
                        ),
                    ],
                ),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_cloudwatch_event_api_destination",
        kind: "AWS::Events::ApiDestination",
        computed: &[("arn", Attr::Get("Arn")), ("name", Attr::Ref)],
        props: &[
            ("Name", Arg("name")),
            ("ConnectionArn", Arg("connection_arn")),
            ("InvocationEndpoint", Arg("invocation_endpoint")),
            ("HttpMethod", Arg("http_method")),
        ],
    },
    // https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/pipes_pipe
    Mapping {
        tf_type: "aws_pipes_pipe",
        kind: "AWS::Pipes::Pipe",
        computed: &[("arn", Attr::Get("Arn")), ("name", Attr::Ref)],
        props: &[
            ("Name", Arg("name")),
            ("RoleArn", Arg("role_arn")),
            ("Source", Arg("source")),
            ("Enrichment", Arg("enrichment")),
            ("Target", Arg("target")),
            (
                "SourceParameters",
                Block(
                    "source_parameters",
                    &[
                        (
                            "KinesisStreamParameters",
                            Block(
                                "kinesis_stream_parameters",
                                &[(
                                    "DeadLetterConfig",
                                    Block("dead_letter_config", &[("Arn", Arg("arn"))]),
                                )],
                            ),
                        ),
                        (
                            "DynamoDBStreamParameters",
                            Block(
                                "dynamodb_stream_parameters",
                                &[(
                                    "DeadLetterConfig",
                                    Block("dead_letter_config", &[("Arn", Arg("arn"))]),
                                )],
                            ),
                        ),
                    ],
                ),
            ),
            (
                "TargetParameters",
                Block(
                    "target_parameters",
                    &[
                        (
                            "EcsTaskParameters",
                            Block(
                                "ecs_task_parameters",
                                &[("TaskDefinitionArn", Arg("task_definition_arn"))],
                            ),
                        ),
                        (
                            "StepFunctionStateMachineParameters",
                            Block(
                                "step_function_state_machine_parameters",
                                &[("InvocationType", Arg("invocation_type"))],
                            ),
                        ),
                    ],
                ),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_cloudwatch_event_rule",
        kind: "AWS::Events::Rule",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("id", Attr::Ref),
            ("name", Attr::Ref),
        ],
        props: &[
            ("Name", Arg("name")),
            ("RoleArn", Arg("role_arn")),
            ("EventBusName", Arg("event_bus_name")),
        ],
    },
    Mapping {
        tf_type: "aws_cloudwatch_event_bus",
        kind: "AWS::Events::EventBus",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("id", Attr::Ref),
            ("name", Attr::Ref),
        ],
        props: &[
            ("Name", Arg("name")),
            ("KmsKeyIdentifier", Arg("kms_key_identifier")),
        ],
    },
    // ---- CloudWatch alarms (their actions publish to SNS topics) ---------------------------
    Mapping {
        tf_type: "aws_cloudwatch_metric_alarm",
        kind: "AWS::CloudWatch::Alarm",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("id", Attr::Ref),
            ("alarm_name", Attr::Ref),
        ],
        props: &[
            ("AlarmName", Arg("alarm_name")),
            ("AlarmActions", Arg("alarm_actions")),
            ("OKActions", Arg("ok_actions")),
            ("InsufficientDataActions", Arg("insufficient_data_actions")),
        ],
    },
    Mapping {
        tf_type: "aws_cloudwatch_composite_alarm",
        kind: "AWS::CloudWatch::CompositeAlarm",
        computed: &[
            ("arn", Attr::Get("Arn")),
            ("id", Attr::Ref),
            ("alarm_name", Attr::Ref),
        ],
        props: &[
            ("AlarmName", Arg("alarm_name")),
            ("AlarmActions", Arg("alarm_actions")),
            ("OKActions", Arg("ok_actions")),
            ("InsufficientDataActions", Arg("insufficient_data_actions")),
        ],
    },
    // ---- Services that invoke functions (website/docs/r/<type>.html.markdown of
    // hashicorp/terraform-provider-aws) ----------------------------------------------------
    Mapping {
        tf_type: "aws_api_gateway_rest_api",
        kind: "AWS::ApiGateway::RestApi",
        computed: &[
            ("id", Attr::Ref),
            ("root_resource_id", Attr::Get("RootResourceId")),
            (
                "arn",
                Attr::AccountlessArnOfRef {
                    service: "apigateway",
                    prefix: "/restapis/",
                },
            ),
            (
                "execution_arn",
                Attr::ArnOfRef {
                    service: "execute-api",
                    prefix: "",
                },
            ),
        ],
        props: &[("Name", Arg("name")), ("Body", Arg("body"))],
    },
    Mapping {
        tf_type: "aws_api_gateway_resource",
        kind: "AWS::ApiGateway::Resource",
        computed: &[("id", Attr::Ref)],
        props: &[
            ("RestApiId", Arg("rest_api_id")),
            ("ParentId", Arg("parent_id")),
            ("PathPart", Arg("path_part")),
        ],
    },
    // The method's integration is a resource of its own in Terraform; it stands for the
    // `AWS::ApiGateway::Method` whose `Integration` it is.
    Mapping {
        tf_type: "aws_api_gateway_integration",
        kind: "AWS::ApiGateway::Method",
        computed: &[],
        props: &[
            ("RestApiId", Arg("rest_api_id")),
            ("ResourceId", Arg("resource_id")),
            ("HttpMethod", Arg("http_method")),
            (
                "Integration",
                Block(
                    "\u{0}self",
                    &[
                        ("Type", Arg("type")),
                        ("Uri", Arg("uri")),
                        ("Credentials", Arg("credentials")),
                        ("IntegrationHttpMethod", Arg("integration_http_method")),
                    ],
                ),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_api_gateway_authorizer",
        kind: "AWS::ApiGateway::Authorizer",
        computed: &[("id", Attr::Ref)],
        props: &[
            ("RestApiId", Arg("rest_api_id")),
            ("Type", Arg("type")),
            ("AuthorizerUri", Arg("authorizer_uri")),
            ("AuthorizerCredentials", Arg("authorizer_credentials")),
        ],
    },
    Mapping {
        tf_type: "aws_apigatewayv2_api",
        kind: "AWS::ApiGatewayV2::Api",
        computed: &[
            ("id", Attr::Ref),
            (
                "execution_arn",
                Attr::ArnOfRef {
                    service: "execute-api",
                    prefix: "",
                },
            ),
        ],
        props: &[
            ("Name", Arg("name")),
            ("ProtocolType", Arg("protocol_type")),
            ("Body", Arg("body")),
            ("Target", Arg("target")),
        ],
    },
    Mapping {
        tf_type: "aws_apigatewayv2_integration",
        kind: "AWS::ApiGatewayV2::Integration",
        computed: &[("id", Attr::Ref)],
        props: &[
            ("ApiId", Arg("api_id")),
            ("IntegrationType", Arg("integration_type")),
            ("IntegrationUri", Arg("integration_uri")),
            ("CredentialsArn", Arg("credentials_arn")),
        ],
    },
    Mapping {
        tf_type: "aws_apigatewayv2_route",
        kind: "AWS::ApiGatewayV2::Route",
        computed: &[("id", Attr::Ref)],
        props: &[
            ("ApiId", Arg("api_id")),
            ("RouteKey", Arg("route_key")),
            ("Target", Arg("target")),
        ],
    },
    Mapping {
        tf_type: "aws_apigatewayv2_authorizer",
        kind: "AWS::ApiGatewayV2::Authorizer",
        computed: &[("id", Attr::Ref)],
        props: &[
            ("ApiId", Arg("api_id")),
            ("AuthorizerType", Arg("authorizer_type")),
            ("AuthorizerUri", Arg("authorizer_uri")),
            (
                "AuthorizerCredentialsArn",
                Arg("authorizer_credentials_arn"),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_cloudwatch_log_subscription_filter",
        kind: "AWS::Logs::SubscriptionFilter",
        computed: &[],
        props: &[
            ("FilterName", Arg("name")),
            ("LogGroupName", Arg("log_group_name")),
            ("DestinationArn", Arg("destination_arn")),
            ("RoleArn", Arg("role_arn")),
        ],
    },
    Mapping {
        tf_type: "aws_iot_topic_rule",
        kind: "AWS::IoT::TopicRule",
        computed: &[("name", Attr::Ref), ("arn", Attr::Get("Arn"))],
        props: &[
            ("RuleName", Arg("name")),
            (
                "TopicRulePayload",
                Block(
                    "\u{0}self",
                    &[(
                        "Actions",
                        Blocks(
                            "lambda",
                            &[(
                                "Lambda",
                                Block("\u{0}self", &[("FunctionArn", Arg("function_arn"))]),
                            )],
                        ),
                    )],
                ),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_cognito_user_pool",
        kind: "AWS::Cognito::UserPool",
        computed: &[("id", Attr::Ref), ("arn", Attr::Get("Arn"))],
        props: &[
            ("UserPoolName", Arg("name")),
            (
                "LambdaConfig",
                Block(
                    "lambda_config",
                    &[
                        ("CreateAuthChallenge", Arg("create_auth_challenge")),
                        ("CustomMessage", Arg("custom_message")),
                        ("DefineAuthChallenge", Arg("define_auth_challenge")),
                        ("PostAuthentication", Arg("post_authentication")),
                        ("PostConfirmation", Arg("post_confirmation")),
                        ("PreAuthentication", Arg("pre_authentication")),
                        ("PreSignUp", Arg("pre_sign_up")),
                        ("PreTokenGeneration", Arg("pre_token_generation")),
                        ("UserMigration", Arg("user_migration")),
                        (
                            "VerifyAuthChallengeResponse",
                            Arg("verify_auth_challenge_response"),
                        ),
                        ("KMSKeyID", Arg("kms_key_id")),
                        (
                            "CustomEmailSender",
                            Block("custom_email_sender", &[("LambdaArn", Arg("lambda_arn"))]),
                        ),
                        (
                            "CustomSMSSender",
                            Block("custom_sms_sender", &[("LambdaArn", Arg("lambda_arn"))]),
                        ),
                        (
                            "PreTokenGenerationConfig",
                            Block(
                                "pre_token_generation_config",
                                &[("LambdaArn", Arg("lambda_arn"))],
                            ),
                        ),
                    ],
                ),
            ),
        ],
    },
    Mapping {
        tf_type: "aws_secretsmanager_secret_rotation",
        kind: "AWS::SecretsManager::RotationSchedule",
        computed: &[],
        props: &[
            ("SecretId", Arg("secret_id")),
            ("RotationLambdaARN", Arg("rotation_lambda_arn")),
        ],
    },
];

pub fn lookup(tf_type: &str) -> Option<&'static Mapping> {
    TABLE.iter().find(|m| m.tf_type == tf_type)
}

impl Attr {
    /// The attribute of the core model.
    /// (An ARN built from the resource's `Ref` stands as its `Arn` attribute here: what a
    /// plan names by reference.)
    pub fn attribute(self) -> Attribute {
        match self {
            Attr::Ref => Attribute::Ref,
            Attr::Get(a) => Attribute::Get(a.to_string()),
            Attr::ArnOfRef { .. } | Attr::AccountlessArnOfRef { .. } => {
                Attribute::Get("Arn".to_string())
            }
            // A plan names the function itself, which an integration may name too.
            Attr::InvokeUri(a) => a.attribute(),
        }
    }
}

impl Attribute0 {
    fn attribute(self) -> Attribute {
        match self {
            Attribute0::Ref => Attribute::Ref,
            Attribute0::Arn => Attribute::Get("Arn".to_string()),
        }
    }
}

/// The CloudFormation attribute the computed Terraform attribute `name` of a mapped resource
/// type stands for (`aws_iam_role` `arn` is `GetAtt Arn`).
pub fn computed_attribute(tf_type: &str, name: &str) -> Option<Attribute> {
    lookup(tf_type)?
        .computed
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, a)| a.attribute())
}

/// Whether a Terraform argument of this name is read as a policy document (JSON text) by
/// some entry of the table or by [`attach`].
pub fn is_policy_arg(name: &str) -> bool {
    fn any(fields: &[(&str, Field)], name: &str) -> bool {
        fields.iter().any(|(_, f)| match f {
            Field::Policy(a) | Field::ApiJson(a, _) => *a == name,
            Field::Block(_, inner) | Field::Blocks(_, inner) => any(inner, name),
            _ => false,
        })
    }
    name == "policy" || TABLE.iter().any(|m| any(m.props, name))
}

/// Adds the computed attributes of a resource instance (or data source) to its value, where
/// the configuration does not set them.
pub fn add_computed(
    mode: Mode,
    tf_type: &str,
    address: &str,
    map: &mut Map,
    span: Span,
    region: &Value,
    account: &Value,
) {
    let set = |map: &mut Map, name: &str, value: Value| {
        if map.get(name).is_none() {
            map.insert(
                Key {
                    name: name.to_string(),
                    span,
                },
                value,
            );
        }
    };
    let pseudo = |p: Pseudo| Value::new(ValueKind::Unknown(Unknown::Pseudo(p)), span);
    match mode {
        Mode::Managed => {
            if let Some(m) = lookup(tf_type) {
                for (name, attr) in m.computed {
                    let value = match attr {
                        Attr::ArnOfRef { service, prefix } => {
                            arn_of_ref(address, service, prefix, region, Some(account), span)
                        }
                        Attr::AccountlessArnOfRef { service, prefix } => {
                            arn_of_ref(address, service, prefix, region, None, span)
                        }
                        Attr::InvokeUri(a) => invoke_uri(address, a.attribute(), region, span),
                        _ => reference(address, attr.attribute(), span),
                    };
                    // Where the configuration sets the attribute (`name`), a reference to it
                    // still reads as a typed reference ([`computed_reference`]); the
                    // configured value stays here for the mapping.
                    set(map, name, value);
                }
            }
        }
        Mode::Data => match tf_type {
            "aws_caller_identity" => {
                set(map, "account_id", account.clone());
                set(map, "id", account.clone());
            }
            "aws_region" => {
                set(map, "name", region.clone());
                set(map, "region", region.clone());
                set(map, "id", region.clone());
            }
            "aws_partition" => {
                set(map, "partition", pseudo(Pseudo::Partition));
                set(map, "id", pseudo(Pseudo::Partition));
                set(map, "dns_suffix", pseudo(Pseudo::UrlSuffix));
            }
            "aws_iam_policy_document" => {
                let doc = crate::policy_document::document(map, span);
                set(map, "json", doc.clone());
                set(map, "minified_json", doc);
            }
            _ => {}
        },
    }
}

/// What a reference to `name` of a managed resource of `tf_type` at `address` is, when the
/// table knows it: a typed reference even where the configuration sets the attribute
/// (`aws_iam_role.x.name`), so that an attachment naming the role finds it; the rules resolve
/// it to the configured value anyway. ARNs built from the name are left to the value.
pub fn computed_reference(tf_type: &str, address: &str, name: &str, span: Span) -> Option<Value> {
    let (_, attr) = lookup(tf_type)?.computed.iter().find(|(n, _)| *n == name)?;
    if matches!(
        attr,
        Attr::ArnOfRef { .. } | Attr::AccountlessArnOfRef { .. } | Attr::InvokeUri(_)
    ) {
        return None;
    }
    Some(reference(address, attr.attribute(), span))
}

/// `arn:PARTITION:apigateway:REGION:lambda:path/2015-03-31/functions/<ARN>/invocations`
/// (<https://docs.aws.amazon.com/apigateway/latest/api/API_Integration.html>, `uri`).
fn invoke_uri(address: &str, attribute: Attribute, region: &Value, span: Span) -> Value {
    let pseudo = |p: Pseudo| Part::Unknown(Unknown::Pseudo(p));
    let mut parts = vec![
        Part::Lit("arn:".into()),
        pseudo(Pseudo::Partition),
        Part::Lit(":apigateway:".into()),
    ];
    match &region.kind {
        ValueKind::String(s) => parts.push(Part::Lit(s.clone())),
        ValueKind::Template(p) => parts.extend(p.iter().cloned()),
        ValueKind::Ref(r) => parts.push(Part::Ref(r.clone())),
        ValueKind::Unknown(u) => parts.push(Part::Unknown(u.clone())),
        _ => parts.push(pseudo(Pseudo::Region)),
    }
    parts.push(Part::Lit(":lambda:path/2015-03-31/functions/".into()));
    parts.push(Part::Ref(Reference {
        resource: address.to_string(),
        attribute,
    }));
    parts.push(Part::Lit("/invocations".into()));
    Value::new(ValueKind::Template(parts), span)
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:PREFIX<Ref of the resource>`, in the resource's region
/// and account (`arn:PARTITION:SERVICE:REGION::PREFIX<Ref>` without an account).
fn arn_of_ref(
    address: &str,
    service: &str,
    prefix: &str,
    region: &Value,
    account: Option<&Value>,
    span: Span,
) -> Value {
    let pseudo = |p: Pseudo| Part::Unknown(Unknown::Pseudo(p));
    let mut parts = vec![
        Part::Lit("arn:".into()),
        pseudo(Pseudo::Partition),
        Part::Lit(format!(":{service}:")),
    ];
    match &region.kind {
        ValueKind::String(s) => parts.push(Part::Lit(s.clone())),
        ValueKind::Template(p) => parts.extend(p.iter().cloned()),
        ValueKind::Ref(r) => parts.push(Part::Ref(r.clone())),
        ValueKind::Unknown(u) => parts.push(Part::Unknown(u.clone())),
        _ => parts.push(pseudo(Pseudo::Region)),
    }
    parts.push(Part::Lit(":".into()));
    // No account for a namespace without one (API Gateway's management ARNs).
    match account.map(|a| &a.kind) {
        None => {}
        Some(ValueKind::String(s)) => parts.push(Part::Lit(s.clone())),
        Some(ValueKind::Unknown(u)) => parts.push(Part::Unknown(u.clone())),
        Some(_) => parts.push(pseudo(Pseudo::AccountId)),
    }
    parts.push(Part::Lit(format!(":{prefix}")));
    parts.push(Part::Ref(Reference {
        resource: address.to_string(),
        attribute: Attribute::Ref,
    }));
    Value::new(ValueKind::Template(parts), span)
}

/// The CloudFormation resources for one Terraform resource instance, when its type is
/// mapped: the resource itself, and the resource policy a queue, topic or bucket declares
/// with its `policy` argument (a separate resource in CloudFormation).
pub fn to_resources(tf_type: &str, address: &str, value: &Value, span: Span) -> Vec<Resource> {
    let Some(m) = lookup(tf_type) else {
        return Vec::new();
    };
    let Some(config) = value.as_map() else {
        return Vec::new();
    };
    let mut props = Map::default();
    map_fields(config, m.props, &mut props, span);
    let mut out = vec![resource(address, m.kind, props, span)];
    let inline_policy = match tf_type {
        "aws_sqs_queue" => Some(("AWS::SQS::QueuePolicy", "Queues", Attribute::Ref)),
        "aws_sns_topic" => Some(("AWS::SNS::TopicPolicy", "Topics", Attribute::Ref)),
        "aws_s3_bucket" => Some(("AWS::S3::BucketPolicy", "Bucket", Attribute::Ref)),
        _ => None,
    };
    if let Some((kind, target, attribute)) = inline_policy
        && let Some(policy) = map_field(config, &Field::Policy("policy"), span)
    {
        let this = reference(address, attribute, span);
        let target_value = if target == "Bucket" {
            this
        } else {
            Value::new(ValueKind::List(vec![this]), span)
        };
        let mut p = Map::default();
        p.insert(
            Key {
                name: target.into(),
                span,
            },
            target_value,
        );
        p.insert(
            Key {
                name: "PolicyDocument".into(),
                span: policy.span,
            },
            policy,
        );
        out.push(resource(&format!("{address}#policy"), kind, p, span));
    }
    out
}

fn resource(id: &str, kind: &str, props: Map, span: Span) -> Resource {
    Resource {
        id: id.to_string(),
        kind: kind.to_string(),
        properties: Value::new(ValueKind::Map(props), span),
        span,
        condition: None,
        depends_on: Vec::new(),
        origin: Origin::Declared,
        account: iamlint_core::Account::Stack,
    }
}

fn map_fields(config: &Map, fields: &[(&str, Field)], out: &mut Map, span: Span) {
    for (name, field) in fields {
        if let Some(v) = map_field(config, field, span) {
            out.insert(
                Key {
                    name: (*name).to_string(),
                    span: v.span,
                },
                v,
            );
        }
    }
}

fn present(v: &Value) -> bool {
    !matches!(v.kind, ValueKind::Null)
}

fn map_field(config: &Map, field: &Field, span: Span) -> Option<Value> {
    match field {
        Field::Arg(a) => config.get(a).filter(|v| present(v)).cloned(),
        Field::Policy(a) => {
            let v = config.get(a).filter(|v| present(v))?;
            Some(match &v.kind {
                ValueKind::String(_) => {
                    crate::template::parse_json_string(v).unwrap_or_else(|| v.clone())
                }
                _ => v.clone(),
            })
        }
        Field::ApiJson(a, user_keyed) => {
            let mut v = map_field(config, &Field::Policy(a), span)?;
            capitalise_keys(&mut v, user_keyed);
            Some(v)
        }
        Field::ListOf(a) => {
            let v = config.get(a).filter(|v| present(v))?;
            Some(Value::new(ValueKind::List(vec![v.clone()]), v.span))
        }
        Field::Block(b, inner) => {
            // `\u{0}self`: the block's own attributes, one level down.
            let block = if *b == "\u{0}self" {
                return {
                    let mut out = Map::default();
                    map_fields(config, inner, &mut out, span);
                    (!out.is_empty()).then(|| Value::new(ValueKind::Map(out), span))
                };
            } else {
                first_block(config.get(b)?)?
            };
            let mut out = Map::default();
            map_fields(block.as_map()?, inner, &mut out, block.span);
            Some(Value::new(ValueKind::Map(out), block.span))
        }
        Field::Blocks(b, inner) => {
            // `\u{0}self`: the block itself as a one-element list (when it has one of the
            // inner table's arguments).
            if *b == "\u{0}self" {
                let mut entry = Map::default();
                map_fields(config, inner, &mut entry, span);
                return (!entry.is_empty()).then(|| {
                    Value::new(
                        ValueKind::List(vec![Value::new(ValueKind::Map(entry), span)]),
                        span,
                    )
                });
            }
            let blocks = config.get(b)?;
            let items: Vec<&Value> = match &blocks.kind {
                ValueKind::List(items) => items.iter().collect(),
                ValueKind::Map(_) => vec![blocks],
                _ => return None,
            };
            let mut out = Vec::new();
            for item in items {
                let Some(m) = item.as_map() else { continue };
                let mut entry = Map::default();
                map_fields(m, inner, &mut entry, item.span);
                out.push(Value::new(ValueKind::Map(entry), item.span));
            }
            Some(Value::new(ValueKind::List(out), blocks.span))
        }
        Field::Const(c) => Some(Value::string(*c, span)),
        Field::IfTrue(flag, then) => {
            let v = config.get(flag)?;
            let on = match &v.kind {
                ValueKind::Bool(b) => *b,
                ValueKind::String(s) => s != "NONE" && s != "false",
                _ => return None,
            };
            if !on {
                return None;
            }
            let mut m = Map::default();
            match *flag {
                "stream_enabled" => {
                    let view = config
                        .get(then)
                        .cloned()
                        .unwrap_or_else(|| Value::string("NEW_AND_OLD_IMAGES", v.span));
                    m.insert(
                        Key {
                            name: "StreamViewType".into(),
                            span: v.span,
                        },
                        view,
                    );
                }
                _ => {
                    m.insert(
                        Key {
                            name: "EncryptionType".into(),
                            span: v.span,
                        },
                        v.clone(),
                    );
                    if let Some(k) = config.get(then) {
                        m.insert(
                            Key {
                                name: "KeyId".into(),
                                span: k.span,
                            },
                            k.clone(),
                        );
                    }
                }
            }
            Some(Value::new(ValueKind::Map(m), v.span))
        }
    }
}

/// Capitalises the member names of an API document (`valueFrom` → `ValueFrom`), except inside
/// the maps of user keys named `user_keyed`.
fn capitalise_keys(value: &mut Value, user_keyed: &[&str]) {
    match &mut value.kind {
        ValueKind::Map(map) => {
            for (key, v) in &mut map.entries {
                if !user_keyed.contains(&key.name.as_str()) {
                    capitalise_keys(v, user_keyed);
                }
                let mut chars = key.name.chars();
                if let Some(first) = chars.next() {
                    key.name = first.to_ascii_uppercase().to_string() + chars.as_str();
                }
            }
        }
        ValueKind::List(items) => {
            for item in items {
                capitalise_keys(item, user_keyed);
            }
        }
        ValueKind::Choice(choice) => {
            capitalise_keys(&mut choice.if_true, user_keyed);
            capitalise_keys(&mut choice.if_false, user_keyed);
        }
        _ => {}
    }
}

fn first_block(v: &Value) -> Option<&Value> {
    match &v.kind {
        ValueKind::List(items) => items.first(),
        ValueKind::Map(_) => Some(v),
        _ => None,
    }
}

/// One Terraform resource that changes another: where to put what.
struct Attachment {
    /// The resource that is changed (by the value that names it).
    target: Value,
    target_kind: &'static str,
    property: &'static str,
    value: Value,
    /// Append to a list (else set).
    append: bool,
}

/// Folds the Terraform resources that attach something to another resource into it:
/// policy attachments into the role's (user's, group's) `ManagedPolicyArns`, a separate key
/// policy into the key, a separate file-system policy into the file system, bucket
/// encryption into the bucket. An attachment to a resource that is not in the unit changes
/// nothing here (that resource is out of sight).
pub fn attach(stack: &mut Stack, tf_resources: &[(String, String, Value)]) {
    let mut attachments = Vec::new();
    // The address of the Terraform resource each attachment comes from.
    let mut sources: Vec<&str> = Vec::new();
    let mut previous: Option<&str> = None;
    for (tf_type, address, value) in tf_resources {
        if let Some(p) = previous {
            sources.resize(attachments.len(), p);
        }
        previous = Some(address);
        let Some(config) = value.as_map() else {
            continue;
        };
        let get = |k: &str| config.get(k).filter(|v| present(v)).cloned();
        match tf_type.as_str() {
            "aws_iam_role_policy_attachment" => {
                if let (Some(role), Some(arn)) = (get("role"), get("policy_arn")) {
                    attachments.push(Attachment {
                        target: role,
                        target_kind: "AWS::IAM::Role",
                        property: "ManagedPolicyArns",
                        value: arn,
                        append: true,
                    });
                }
            }
            "aws_iam_user_policy_attachment" | "aws_iam_group_policy_attachment" => {
                let (k, kind) = if tf_type == "aws_iam_user_policy_attachment" {
                    ("user", "AWS::IAM::User")
                } else {
                    ("group", "AWS::IAM::Group")
                };
                if let (Some(t), Some(arn)) = (get(k), get("policy_arn")) {
                    attachments.push(Attachment {
                        target: t,
                        target_kind: kind,
                        property: "ManagedPolicyArns",
                        value: arn,
                        append: true,
                    });
                }
            }
            "aws_iam_policy_attachment" => {
                let Some(arn) = get("policy_arn") else {
                    continue;
                };
                for (k, kind) in [
                    ("roles", "AWS::IAM::Role"),
                    ("users", "AWS::IAM::User"),
                    ("groups", "AWS::IAM::Group"),
                ] {
                    if let Some(list) = get(k)
                        .as_ref()
                        .and_then(|l| l.as_list().map(<[Value]>::to_vec))
                    {
                        for t in list {
                            attachments.push(Attachment {
                                target: t,
                                target_kind: kind,
                                property: "ManagedPolicyArns",
                                value: arn.clone(),
                                append: true,
                            });
                        }
                    }
                }
            }
            "aws_iam_role_policy_attachments_exclusive" => {
                if let (Some(role), Some(arns)) = (get("role_name"), get("policy_arns"))
                    && let Some(list) = arns.as_list()
                {
                    for arn in list {
                        attachments.push(Attachment {
                            target: role.clone(),
                            target_kind: "AWS::IAM::Role",
                            property: "ManagedPolicyArns",
                            value: arn.clone(),
                            append: true,
                        });
                    }
                }
            }
            "aws_kms_key_policy" => {
                if let (Some(key), Some(policy)) = (get("key_id"), get("policy")) {
                    attachments.push(Attachment {
                        target: key,
                        target_kind: "AWS::KMS::Key",
                        property: "KeyPolicy",
                        value: as_document(policy),
                        append: false,
                    });
                }
            }
            "aws_efs_file_system_policy" => {
                if let (Some(fs), Some(policy)) = (get("file_system_id"), get("policy")) {
                    attachments.push(Attachment {
                        target: fs,
                        target_kind: "AWS::EFS::FileSystem",
                        property: "FileSystemPolicy",
                        value: as_document(policy),
                        append: false,
                    });
                }
            }
            // Terraform's default for each setting is false, as S3's is for one left out of
            // `PutPublicAccessBlock`.
            "aws_s3_bucket_public_access_block" => {
                let Some(bucket) = get("bucket") else {
                    continue;
                };
                let mut block = Map::default();
                map_fields(config, PUBLIC_ACCESS_BLOCK, &mut block, value.span);
                attachments.push(Attachment {
                    target: bucket,
                    target_kind: "AWS::S3::Bucket",
                    property: "PublicAccessBlockConfiguration",
                    value: Value::new(ValueKind::Map(block), value.span),
                    append: false,
                });
            }
            // The bucket's whole notification configuration (S3 replaces it as a whole).
            "aws_s3_bucket_notification" => {
                let Some(bucket) = get("bucket") else {
                    continue;
                };
                let mut notification = Map::default();
                map_fields(config, BUCKET_NOTIFICATION, &mut notification, value.span);
                attachments.push(Attachment {
                    target: bucket,
                    target_kind: "AWS::S3::Bucket",
                    property: "NotificationConfiguration",
                    value: Value::new(ValueKind::Map(notification), value.span),
                    append: false,
                });
            }
            "aws_cloudwatch_event_target" => {
                let Some(rule) = get("rule") else {
                    continue;
                };
                let mut target = Map::default();
                map_fields(config, EVENT_TARGET, &mut target, value.span);
                attachments.push(Attachment {
                    target: rule,
                    target_kind: "AWS::Events::Rule",
                    property: "Targets",
                    value: Value::new(ValueKind::Map(target), value.span),
                    append: true,
                });
            }
            "aws_s3_bucket_server_side_encryption_configuration" => {
                let Some(bucket) = get("bucket") else {
                    continue;
                };
                let rule = config
                    .get("rule")
                    .and_then(first_block)
                    .and_then(|r| r.get("apply_server_side_encryption_by_default"))
                    .and_then(first_block);
                let Some(rule) = rule else { continue };
                let mut by_default = Map::default();
                for (cfn, tf) in [
                    ("SSEAlgorithm", "sse_algorithm"),
                    ("KMSMasterKeyID", "kms_master_key_id"),
                ] {
                    if let Some(v) = rule.get(tf).filter(|v| present(v)) {
                        by_default.insert(
                            Key {
                                name: cfn.into(),
                                span: v.span,
                            },
                            v.clone(),
                        );
                    }
                }
                let span = rule.span;
                let mut entry = Map::default();
                entry.insert(
                    Key {
                        name: "ServerSideEncryptionByDefault".into(),
                        span,
                    },
                    Value::new(ValueKind::Map(by_default), span),
                );
                let mut enc = Map::default();
                enc.insert(
                    Key {
                        name: "ServerSideEncryptionConfiguration".into(),
                        span,
                    },
                    Value::new(
                        ValueKind::List(vec![Value::new(ValueKind::Map(entry), span)]),
                        span,
                    ),
                );
                attachments.push(Attachment {
                    target: bucket,
                    target_kind: "AWS::S3::Bucket",
                    property: "BucketEncryption",
                    value: Value::new(ValueKind::Map(enc), span),
                    append: false,
                });
            }
            _ => {}
        }
    }
    if let Some(p) = previous {
        sources.resize(attachments.len(), p);
    }
    for (tf_type, address, value) in tf_resources {
        if tf_type == "aws_kms_grant"
            && let Some(grantee) = value.get("grantee_principal")
        {
            open_principals(
                stack,
                address,
                &format!("the operations KMS grant {address} allows"),
                std::slice::from_ref(grantee),
            );
        }
    }
    for (a, source) in attachments.into_iter().zip(sources) {
        let Some(id) = target_id(stack, &a.target, a.target_kind) else {
            unidentified_attachment(stack, source, &a);
            continue;
        };
        let Some(res) = stack.resource_mut(&id) else {
            continue;
        };
        let Some(props) = res.properties.as_map_mut() else {
            continue;
        };
        let applied = AppliedBy {
            resource: id.clone(),
            span: a.value.span,
            by: source.to_string(),
            after: Vec::new(),
        };
        if a.append {
            match props.get_mut(a.property).map(|v| &mut v.kind) {
                Some(ValueKind::List(items)) => items.push(a.value),
                _ => props.insert(
                    Key {
                        name: a.property.into(),
                        span: a.value.span,
                    },
                    Value::new(ValueKind::List(vec![a.value.clone()]), a.value.span),
                ),
            }
        } else {
            props.insert(
                Key {
                    name: a.property.into(),
                    span: a.value.span,
                },
                a.value,
            );
        }
        stack.applied.push(applied);
    }
}

/// A policy attached to a role, user or group named by a value that names none of the unit
/// (a variable, a computed name): it may be any of them, so they are open, as a CloudFormation
/// policy whose `Roles` iamlint cannot identify makes them open. A literal name is a principal
/// of another stack, and changes nothing here.
fn unidentified_attachment(stack: &mut Stack, source: &str, a: &Attachment) {
    let list = match a.target_kind {
        "AWS::IAM::Role" => "Roles",
        "AWS::IAM::User" => "Users",
        "AWS::IAM::Group" => "Groups",
        _ => return,
    };
    if a.target.as_str().is_some() || a.property != "ManagedPolicyArns" {
        return;
    }
    let span = a.target.span;
    let mut props = Map::default();
    props.insert(
        Key {
            name: list.into(),
            span,
        },
        Value::new(ValueKind::List(vec![a.target.clone()]), span),
    );
    props.insert(
        Key {
            name: "PolicyDocument".into(),
            span,
        },
        Value::new(
            ValueKind::Unknown(Unknown::External(format!("the policy {source} attaches"))),
            span,
        ),
    );
    stack.add_resource(resource(
        &format!("{source}#unidentified"),
        "AWS::IAM::Policy",
        props,
        span,
    ));
}

/// Principals handed to a module iamlint cannot read (a registry or git module not
/// downloaded), or the grantees of a KMS grant (which allows its operations outside every
/// policy): what they may do is more than their policies say, so they are open. Each role
/// (user, group) referenced by `inputs` gets a policy of unknown content, `why`.
pub fn open_principals(stack: &mut Stack, id: &str, why: &str, inputs: &[Value]) {
    let mut refs = Vec::new();
    for v in inputs {
        collect_refs(v, &mut refs, 0);
    }
    refs.sort();
    refs.dedup();
    for (i, (target, span)) in refs.into_iter().enumerate() {
        let Some(kind) = stack.resource(&target).map(|r| r.kind.clone()) else {
            continue;
        };
        let list = match kind.as_str() {
            "AWS::IAM::Role" => "Roles",
            "AWS::IAM::User" => "Users",
            "AWS::IAM::Group" => "Groups",
            _ => continue,
        };
        let mut props = Map::default();
        props.insert(
            Key {
                name: list.into(),
                span,
            },
            Value::new(
                ValueKind::List(vec![reference(&target, Attribute::Ref, span)]),
                span,
            ),
        );
        props.insert(
            Key {
                name: "PolicyDocument".into(),
                span,
            },
            Value::new(ValueKind::Unknown(Unknown::External(why.to_string())), span),
        );
        stack.add_resource(resource(
            &format!("{id}#open{i}"),
            "AWS::IAM::Policy",
            props,
            span,
        ));
    }
}

fn collect_refs(v: &Value, out: &mut Vec<(String, Span)>, depth: usize) {
    if depth > 64 {
        return;
    }
    match &v.kind {
        ValueKind::Ref(r) => out.push((r.resource.clone(), v.span)),
        ValueKind::Template(parts) => {
            for p in parts {
                if let Part::Ref(r) = p {
                    out.push((r.resource.clone(), v.span));
                }
            }
        }
        ValueKind::List(items) => items.iter().for_each(|i| collect_refs(i, out, depth + 1)),
        ValueKind::Map(m) => m.iter().for_each(|(_, i)| collect_refs(i, out, depth + 1)),
        ValueKind::Choice(c) => {
            collect_refs(&c.if_true, out, depth + 1);
            collect_refs(&c.if_false, out, depth + 1);
        }
        _ => {}
    }
}
/// `aws_s3_bucket_notification` as the bucket's `NotificationConfiguration`: every kind of
/// destination block.
const BUCKET_NOTIFICATION: &[(&str, Field)] = &[
    (
        "QueueConfigurations",
        Blocks(
            "queue",
            &[("Queue", Arg("queue_arn")), ("Events", Arg("events"))],
        ),
    ),
    (
        "TopicConfigurations",
        Blocks(
            "topic",
            &[("Topic", Arg("topic_arn")), ("Events", Arg("events"))],
        ),
    ),
    (
        "LambdaConfigurations",
        Blocks(
            "lambda_function",
            &[
                ("Function", Arg("lambda_function_arn")),
                ("Events", Arg("events")),
            ],
        ),
    ),
];

/// `aws_s3_bucket_public_access_block` as the bucket's `PublicAccessBlockConfiguration`.
const PUBLIC_ACCESS_BLOCK: &[(&str, Field)] = &[
    ("BlockPublicAcls", Arg("block_public_acls")),
    ("BlockPublicPolicy", Arg("block_public_policy")),
    ("IgnorePublicAcls", Arg("ignore_public_acls")),
    ("RestrictPublicBuckets", Arg("restrict_public_buckets")),
];

/// `aws_cloudwatch_event_target` as one entry of the rule's `Targets`.
const EVENT_TARGET: &[(&str, Field)] = &[
    ("Id", Arg("target_id")),
    ("Arn", Arg("arn")),
    ("RoleArn", Arg("role_arn")),
    ("Input", Arg("input")),
    ("InputPath", Arg("input_path")),
    (
        "InputTransformer",
        Block(
            "input_transformer",
            &[
                ("InputPathsMap", Arg("input_paths")),
                ("InputTemplate", Arg("input_template")),
            ],
        ),
    ),
    (
        "DeadLetterConfig",
        Block("dead_letter_config", &[("Arn", Arg("arn"))]),
    ),
    (
        "EcsParameters",
        Block(
            "ecs_target",
            &[
                ("TaskDefinitionArn", Arg("task_definition_arn")),
                ("TaskCount", Arg("task_count")),
                ("LaunchType", Arg("launch_type")),
            ],
        ),
    ),
    (
        "KinesisParameters",
        Block(
            "kinesis_target",
            &[("PartitionKeyPath", Arg("partition_key_path"))],
        ),
    ),
    (
        "SqsParameters",
        Block("sqs_target", &[("MessageGroupId", Arg("message_group_id"))]),
    ),
    (
        "BatchParameters",
        Block(
            "batch_target",
            &[
                ("JobDefinition", Arg("job_definition")),
                ("JobName", Arg("job_name")),
            ],
        ),
    ),
];

fn as_document(v: Value) -> Value {
    match &v.kind {
        ValueKind::String(_) => crate::template::parse_json_string(&v).unwrap_or(v),
        _ => v,
    }
}

/// The resource of the stack a value names: a reference to it (any attribute), or the
/// literal name one resource of that kind is given.
fn target_id(stack: &Stack, value: &Value, kind: &str) -> Option<String> {
    match &value.kind {
        ValueKind::Ref(Reference { resource, .. }) => stack
            .resource(resource)
            .filter(|r| r.kind == kind)
            .map(|r| r.id.clone()),
        // A literal name, or a name the analyser cannot compute (`"${var.prefix}-role"`,
        // `var.role_name`): the resource whose name is that same value, when only one is.
        ValueKind::String(_) | ValueKind::Template(_) | ValueKind::Unknown(_) => {
            let name_prop = match kind {
                "AWS::IAM::Role" => "RoleName",
                "AWS::IAM::User" => "UserName",
                "AWS::IAM::Group" => "GroupName",
                "AWS::S3::Bucket" => "BucketName",
                "AWS::Events::Rule" => "Name",
                _ => return None,
            };
            let mut found = stack
                .resources_of(kind)
                .filter(|r| r.property(name_prop).is_some_and(|n| n.kind == value.kind));
            let first = found.next()?;
            found.next().is_none().then(|| first.id.clone())
        }
        _ => None,
    }
}
