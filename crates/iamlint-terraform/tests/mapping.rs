//! What Terraform configurations become in the resource graph the rules read: properties,
//! computed attributes and spans of mapped resources.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

use iamlint_core::{Attribute, Part, Pseudo, Stack, Unknown, Value, ValueKind};

/// A root module (`main.tf`, and any other files such as a child module's `mod/main.tf`) in a
/// fresh folder, analysed; with the text of `main.tf`.
fn analyse(name: &str, main_tf: &str) -> (Stack, String) {
    analyse_files(name, &[("main.tf", main_tf)])
}

fn analyse_files(name: &str, files: &[(&str, &str)]) -> (Stack, String) {
    let dir = std::env::temp_dir().join(format!(
        "iamlint-terraform-mapping-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let mut walked = Vec::new();
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        walked.push(path);
    }
    let ws = iamlint_terraform::Workspace::new(0, &walked);
    let analysed =
        iamlint_terraform::analyse_root(&ws, &dir, &iamlint_terraform::Options::default())
            .expect("a root module");
    let _ = std::fs::remove_dir_all(&dir);
    (analysed.stack, files[0].1.to_string())
}

fn statement_resource<'a>(stack: &'a Stack, policy: &str) -> &'a Value {
    let doc = stack
        .resource(policy)
        .and_then(|r| r.property("PolicyDocument"))
        .expect("a policy document");
    let statement = doc.get("Statement").expect("statements");
    let first = statement.as_list().map_or(statement, |s| &s[0]);
    first.get("Resource").expect("a Resource")
}

fn offset_of(text: &str, needle: &str) -> u32 {
    u32::try_from(text.find(needle).expect("the needle")).unwrap()
}

const LOG_GROUP: &str = r#"
resource "aws_cloudwatch_log_group" "app" {
  name = "/app/orders"
}

resource "aws_iam_role" "fn" {
  name               = "fn"
  assume_role_policy = "{}"
}

resource "aws_iam_role_policy" "bare" {
  role = aws_iam_role.fn.id
  policy = jsonencode({
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = aws_cloudwatch_log_group.app.arn
    }]
  })
}

resource "aws_iam_role_policy" "streams" {
  role = aws_iam_role.fn.id
  policy = jsonencode({
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${aws_cloudwatch_log_group.app.arn}:*"
    }]
  })
}
"#;

/// Terraform's `aws_cloudwatch_log_group.arn` drops the `:*` that CloudFormation's
/// `!GetAtt LogGroup.Arn` ends in: it names the group, not its streams.
#[test]
fn log_group_arn_is_the_group_arn_without_streams() {
    let (stack, _) = analyse("log-group-arn", LOG_GROUP);
    let bare = statement_resource(&stack, "aws_iam_role_policy.bare");
    let ValueKind::Template(parts) = &bare.kind else {
        panic!("expected an ARN built from parts, got {bare:?}");
    };
    assert_eq!(parts.first(), Some(&Part::Lit("arn:".into())));
    assert!(parts.contains(&Part::Unknown(Unknown::Pseudo(Pseudo::Partition))));
    assert!(parts.contains(&Part::Lit(":logs:".into())));
    assert!(parts.contains(&Part::Unknown(Unknown::Pseudo(Pseudo::AccountId))));
    assert_eq!(parts[parts.len() - 2], Part::Lit(":log-group:".into()));
    let Part::Ref(r) = &parts[parts.len() - 1] else {
        panic!("expected the group's name last, got {parts:?}");
    };
    assert_eq!(r.resource, "aws_cloudwatch_log_group.app");
    assert_eq!(r.attribute, Attribute::Ref);

    let streams = statement_resource(&stack, "aws_iam_role_policy.streams");
    let ValueKind::Template(parts) = &streams.kind else {
        panic!("expected an ARN built from parts, got {streams:?}");
    };
    assert_eq!(parts.last(), Some(&Part::Lit(":*".into())));
}

/// A computed attribute read in a policy points at where it is read, not at the resource
/// it belongs to: findings about the grant land on the grant's line.
#[test]
fn computed_attribute_has_the_span_of_its_use() {
    let (stack, text) = analyse("use-span", LOG_GROUP);
    let bare = statement_resource(&stack, "aws_iam_role_policy.bare");
    let used = offset_of(&text, "aws_cloudwatch_log_group.app.arn");
    assert!(
        bare.span.start <= used && used < bare.span.end,
        "span {:?} should cover the use at {used}",
        bare.span
    );
    let role = stack
        .resource("aws_iam_role_policy.bare")
        .and_then(|r| r.property("RoleName"))
        .unwrap();
    let used = offset_of(&text, "aws_iam_role.fn.id");
    assert!(role.span.start <= used && used < role.span.end);
}

/// A role built in a child module and read through its output points at the root's
/// `module.role.arn`, where the function uses it.
#[test]
fn module_output_reference_has_the_span_of_its_use() {
    let root = r#"
module "role" {
  source = "./role"
}

resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = module.role.arn
}
"#;
    let child = r#"
resource "aws_iam_role" "this" {
  name               = "f"
  assume_role_policy = "{}"
}

output "arn" {
  value = aws_iam_role.this.arn
}
"#;
    let (stack, text) = analyse_files("module-span", &[("main.tf", root), ("role/main.tf", child)]);
    let role = stack
        .resource("aws_lambda_function.f")
        .and_then(|r| r.property("Role"))
        .unwrap();
    let ValueKind::Ref(r) = &role.kind else {
        panic!("expected a reference to the role, got {role:?}");
    };
    assert_eq!(r.resource, "module.role.aws_iam_role.this");
    let used = offset_of(&text, "module.role.arn");
    assert_eq!(
        role.span.file,
        stack.resource("aws_lambda_function.f").unwrap().span.file
    );
    assert!(role.span.start <= used && used < role.span.end);
}

/// A policy attachment names its role by a name the analyser cannot compute (a variable
/// without a default): it is folded into the one role whose name is that same expression,
/// so the role is not taken for one without the policy.
#[test]
fn attachment_to_a_role_with_an_unknown_name_is_folded_into_it() {
    let (stack, _) = analyse(
        "unknown-role-name",
        r#"
variable "prefix" {
  type = string
}

resource "aws_iam_role" "fn" {
  name               = "${var.prefix}-fn"
  assume_role_policy = "{}"
}

resource "aws_iam_role" "other" {
  name               = "other"
  assume_role_policy = "{}"
}

resource "aws_iam_role_policy_attachment" "basic" {
  role       = aws_iam_role.fn.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}
"#,
    );
    let arns = stack
        .resource("aws_iam_role.fn")
        .and_then(|r| r.property("ManagedPolicyArns"))
        .and_then(Value::as_list)
        .expect("the attached policy");
    assert_eq!(
        arns[0].as_str(),
        Some("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    );
    assert!(
        stack
            .resource("aws_iam_role.other")
            .and_then(|r| r.property("ManagedPolicyArns"))
            .is_none()
    );
}

const NOTIFICATIONS: &str = r#"
resource "aws_lambda_function" "fn" {
  function_name = "fn"
  role          = "arn:aws:iam::123456789012:role/fn"
}

resource "aws_s3_bucket" "b" {
  bucket = "b"
}

resource "aws_s3_bucket_notification" "b" {
  bucket = aws_s3_bucket.b.id
  lambda_function {
    lambda_function_arn = aws_lambda_function.fn.arn
    events              = ["s3:ObjectCreated:*"]
  }
}

resource "aws_cloudwatch_event_rule" "r" {
  name = "nightly"
}

resource "aws_cloudwatch_event_target" "t" {
  rule = aws_cloudwatch_event_rule.r.name
  arn  = aws_lambda_function.fn.arn
}
"#;

#[test]
fn bucket_notification_and_event_target_are_folded_into_bucket_and_rule() {
    let (stack, text) = analyse("notifications", NOTIFICATIONS);
    let bucket = stack.resource("aws_s3_bucket.b").expect("the bucket");
    let configs = bucket
        .property_path(&["NotificationConfiguration", "LambdaConfigurations"])
        .and_then(Value::as_list)
        .expect("lambda configurations");
    assert_eq!(configs.len(), 1);
    let function = configs[0].get("Function").expect("Function");
    assert!(matches!(
        &function.kind,
        ValueKind::Ref(r) if r.resource == "aws_lambda_function.fn"
            && r.attribute == Attribute::Get("Arn".into())
    ));
    // At the argument that names the function, in the notification block.
    assert_eq!(
        function.span.start,
        offset_of(&text, "aws_lambda_function.fn.arn\n    events")
    );

    let rule = stack
        .resource("aws_cloudwatch_event_rule.r")
        .expect("the rule");
    let targets = rule
        .property("Targets")
        .and_then(Value::as_list)
        .expect("targets");
    assert_eq!(targets.len(), 1);
    assert!(targets[0].get("Arn").is_some());
    assert!(targets[0].get("RoleArn").is_none());
}

#[test]
fn bucket_notification_is_folded_into_the_bucket() {
    let (stack, _) = analyse(
        "bucket-notification",
        r#"
resource "aws_s3_bucket" "uploads" {
  bucket = "uploads-example"
}

resource "aws_sqs_queue" "q" {
  name = "q"
}

resource "aws_sns_topic" "t" {
  name = "t"
}

resource "aws_s3_bucket_notification" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  queue {
    queue_arn = aws_sqs_queue.q.arn
    events    = ["s3:ObjectCreated:*"]
  }
  topic {
    topic_arn = aws_sns_topic.t.arn
    events    = ["s3:ObjectRemoved:*"]
  }
}
"#,
    );
    let bucket = stack.resource("aws_s3_bucket.uploads").expect("the bucket");
    let queue = bucket
        .property_path(&["NotificationConfiguration", "QueueConfigurations"])
        .and_then(Value::as_list)
        .expect("the queue configurations");
    assert!(matches!(
        &queue[0].get("Queue").expect("a queue").kind,
        ValueKind::Ref(r) if r.resource == "aws_sqs_queue.q" && r.attribute == Attribute::Get("Arn".into())
    ));
    let topic = bucket
        .property_path(&["NotificationConfiguration", "TopicConfigurations"])
        .and_then(Value::as_list)
        .expect("the topic configurations");
    assert!(matches!(
        &topic[0].get("Topic").expect("a topic").kind,
        ValueKind::Ref(r) if r.resource == "aws_sns_topic.t"
    ));
}

/// The folded notification takes effect when `aws_s3_bucket_notification` is applied, so it is
/// ordered by that resource's references and `depends_on`, not by the bucket's (the provider's
/// example orders it with `depends_on = [aws_lambda_permission.allow_bucket]`,
/// website/docs/r/s3_bucket_notification.html.markdown).
#[test]
fn folded_values_are_ordered_by_the_resource_that_applies_them() {
    let (stack, _) = analyse(
        "applied-after",
        r#"
resource "aws_s3_bucket" "uploads" {
  bucket = "uploads-example"
}

resource "aws_sqs_queue" "q" {
  name = "q"
}

resource "aws_sqs_queue_policy" "q" {
  queue_url = aws_sqs_queue.q.id
  policy    = "{}"
}

resource "aws_sns_topic" "t" {
  name = "t"
}

resource "aws_s3_bucket_notification" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  queue {
    queue_arn = aws_sqs_queue.q.arn
    events    = ["s3:ObjectCreated:*"]
  }
  depends_on = [aws_sqs_queue_policy.q]
}
"#,
    );
    let bucket = stack.resource("aws_s3_bucket.uploads").expect("the bucket");
    let config = bucket
        .property("NotificationConfiguration")
        .expect("the notification");
    let applied = stack
        .applied
        .iter()
        .find(|a| a.resource == bucket.id && a.span == config.span)
        .expect("applied by the notification resource");
    assert_eq!(applied.by, "aws_s3_bucket_notification.uploads");
    assert_eq!(
        applied.after,
        [
            "aws_s3_bucket.uploads",
            "aws_sqs_queue.q",
            "aws_sqs_queue_policy.q"
        ]
    );
    assert!(bucket.depends_on.is_empty());
}

#[test]
fn event_targets_are_folded_into_the_rule() {
    let (stack, _) = analyse(
        "event-targets",
        r#"
resource "aws_cloudwatch_event_rule" "nightly" {
  name                = "nightly"
  schedule_expression = "rate(1 day)"
}

resource "aws_sqs_queue" "q" {
  name = "q"
}

resource "aws_sqs_queue" "dlq" {
  name = "dlq"
}

resource "aws_cloudwatch_event_target" "by_name" {
  rule = aws_cloudwatch_event_rule.nightly.name
  arn  = aws_sqs_queue.q.arn
  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

resource "aws_cloudwatch_event_target" "by_literal" {
  rule     = "nightly"
  arn      = aws_sqs_queue.q.arn
  role_arn = "arn:aws:iam::111122223333:role/events"
}
"#,
    );
    let targets = stack
        .resource("aws_cloudwatch_event_rule.nightly")
        .and_then(|r| r.property("Targets"))
        .and_then(Value::as_list)
        .expect("the targets");
    assert_eq!(targets.len(), 2);
    assert!(targets[0].get("RoleArn").is_none());
    assert!(
        targets[0]
            .get("DeadLetterConfig")
            .and_then(|d| d.get("Arn"))
            .is_some()
    );
    assert!(targets[1].get("RoleArn").is_some());
}

/// `container_definitions` is the ECS API's JSON; the rules read CloudFormation's
/// `ContainerDefinitions`, whose member names are capitalised. Log driver options keep their
/// keys.
fn container_definitions_read_as_cloudformation(name: &str, main_tf: &str) {
    let (stack, text) = analyse(name, main_tf);
    let containers = stack
        .resource("aws_ecs_task_definition.app")
        .and_then(|r| r.property("ContainerDefinitions"))
        .and_then(Value::as_list)
        .expect("a list of container definitions");
    let secret = containers[0]
        .get_path(&["Secrets"])
        .and_then(Value::as_list)
        .map(|s| &s[0])
        .and_then(|s| s.get("ValueFrom"))
        .expect("Secrets[0].ValueFrom");
    assert_eq!(secret.span.start, offset_of(&text, "\"/app/db-password\""));
    let group = containers[0]
        .get_path(&["LogConfiguration", "Options", "awslogs-group"])
        .expect("LogConfiguration.Options.awslogs-group");
    assert_eq!(group.as_str(), Some("/ecs/app"));
    assert_eq!(
        containers[0]
            .get_path(&["LogConfiguration", "LogDriver"])
            .and_then(Value::as_str),
        Some("awslogs")
    );
}

#[test]
fn container_definitions_from_jsonencode() {
    container_definitions_read_as_cloudformation(
        "ecs-jsonencode",
        r#"
resource "aws_ecs_task_definition" "app" {
  family = "app"
  container_definitions = jsonencode([
    {
      name  = "app"
      image = "nginx"
      secrets = [
        { name = "DB_PASSWORD", valueFrom = "/app/db-password" }
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options   = { "awslogs-group" = "/ecs/app" }
      }
    }
  ])
}
"#,
    );
}

#[test]
fn container_definitions_from_a_heredoc() {
    container_definitions_read_as_cloudformation(
        "ecs-heredoc",
        r#"
resource "aws_ecs_task_definition" "app" {
  family                = "app"
  container_definitions = <<EOF
[
  {
    "name": "app",
    "image": "nginx",
    "secrets": [{ "name": "DB_PASSWORD", "valueFrom": "/app/db-password" }],
    "logConfiguration": {
      "logDriver": "awslogs",
      "options": { "awslogs-group": "/ecs/app" }
    }
  }
]
EOF
}
"#,
    );
}

/// `container_properties` and `ecs_properties` of `aws_batch_job_definition` are the Batch
/// API's JSON, read as CloudFormation's `ContainerProperties` and `EcsProperties`.
/// https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/batch_job_definition
#[test]
fn batch_job_definition_properties_read_as_cloudformation() {
    let (stack, text) = analyse(
        "batch",
        r#"
resource "aws_batch_job_definition" "job" {
  name                  = "job"
  type                  = "container"
  platform_capabilities = ["FARGATE"]
  container_properties = jsonencode({
    image            = "nginx"
    executionRoleArn = "arn:aws:iam::123456789012:role/exec"
    secrets          = [{ name = "TOKEN", valueFrom = "/job/token" }]
    logConfiguration = {
      logDriver = "awslogs"
      options   = { "awslogs-group" = "/batch/job" }
    }
  })
}

resource "aws_batch_job_definition" "ecs" {
  name = "ecs"
  type = "container"
  ecs_properties = <<EOF
{
  "taskProperties": [
    {
      "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
      "containers": [{ "name": "main", "image": "nginx" }]
    }
  ]
}
EOF
}
"#,
    );
    let job = stack
        .resource("aws_batch_job_definition.job")
        .expect("the job definition");
    assert_eq!(job.kind, "AWS::Batch::JobDefinition");
    assert_eq!(
        job.property("PlatformCapabilities")
            .and_then(Value::as_list)
            .and_then(|l| l[0].as_str()),
        Some("FARGATE")
    );
    let secret = job
        .property_path(&["ContainerProperties", "Secrets"])
        .and_then(Value::as_list)
        .and_then(|s| s[0].get("ValueFrom"))
        .expect("ContainerProperties.Secrets[0].ValueFrom");
    assert_eq!(secret.span.start, offset_of(&text, "\"/job/token\""));
    assert!(
        job.property_path(&[
            "ContainerProperties",
            "LogConfiguration",
            "Options",
            "awslogs-group"
        ])
        .is_some()
    );
    assert!(
        job.property_path(&["ContainerProperties", "ExecutionRoleArn"])
            .is_some()
    );
    let task = stack
        .resource("aws_batch_job_definition.ecs")
        .and_then(|r| r.property_path(&["EcsProperties", "TaskProperties"]))
        .and_then(Value::as_list)
        .map(|t| &t[0])
        .expect("EcsProperties.TaskProperties[0]");
    assert!(task.get("ExecutionRoleArn").is_some());
    assert_eq!(
        task.get_path(&["Containers"])
            .and_then(Value::as_list)
            .and_then(|c| c[0].get("Image"))
            .and_then(Value::as_str),
        Some("nginx")
    );
}

#[test]
fn state_machine_logging_and_definition_are_mapped() {
    let (stack, _) = analyse(
        "sfn",
        r#"
resource "aws_cloudwatch_log_group" "sfn" {
  name = "/aws/vendedlogs/states/orders"
}

resource "aws_lambda_function" "charge" {
  function_name = "charge"
  role          = "arn:aws:iam::123456789012:role/x"
}

resource "aws_sfn_state_machine" "orders" {
  name     = "orders"
  role_arn = "arn:aws:iam::123456789012:role/x"
  definition = jsonencode({
    StartAt = "Charge"
    States = {
      Charge = {
        Type       = "Task"
        Resource   = "arn:aws:states:::lambda:invoke"
        Parameters = { FunctionName = aws_lambda_function.charge.arn }
        End        = true
      }
    }
  })

  logging_configuration {
    log_destination = "${aws_cloudwatch_log_group.sfn.arn}:*"
    level           = "ERROR"
  }
}
"#,
    );
    let machine = stack
        .resource("aws_sfn_state_machine.orders")
        .expect("the state machine");
    let logging = machine
        .property("LoggingConfiguration")
        .expect("LoggingConfiguration");
    assert_eq!(logging.get("Level").and_then(Value::as_str), Some("ERROR"));
    let destinations = logging
        .get("Destinations")
        .and_then(Value::as_list)
        .expect("Destinations");
    assert_eq!(destinations.len(), 1);
    assert!(
        destinations[0]
            .get_path(&["CloudWatchLogsLogGroup", "LogGroupArn"])
            .is_some()
    );
    let function = machine
        .property("Definition")
        .and_then(|d| d.get_path(&["States", "Charge", "Parameters", "FunctionName"]))
        .expect("the task's FunctionName");
    let ValueKind::Ref(r) = &function.kind else {
        panic!("a typed reference, got {function:?}");
    };
    assert_eq!(r.resource, "aws_lambda_function.charge");
    assert_eq!(r.attribute, Attribute::Get("Arn".to_string()));
}

/// Alarm actions and an event bus's key: what IAM015/IAM016 read.
/// https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/cloudwatch_event_bus
/// (`kms_key_identifier`), .../cloudwatch_metric_alarm (`alarm_actions`, `ok_actions`,
/// `insufficient_data_actions`).
#[test]
fn alarms_and_event_buses_keep_their_topics_and_keys() {
    let (stack, _) = analyse(
        "alarms-buses",
        r#"
resource "aws_kms_key" "k" {}
resource "aws_sns_topic" "alerts" {
  name = "alerts"
}
resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name    = "errors"
  alarm_actions = [aws_sns_topic.alerts.arn]
  ok_actions    = [aws_sns_topic.alerts.arn]
}
resource "aws_cloudwatch_composite_alarm" "all" {
  alarm_name                = "all"
  alarm_rule                = "ALARM(errors)"
  insufficient_data_actions = [aws_sns_topic.alerts.arn]
}
resource "aws_cloudwatch_event_bus" "orders" {
  name               = "orders"
  kms_key_identifier = aws_kms_key.k.arn
}
"#,
    );
    let alarm = stack
        .resource("aws_cloudwatch_metric_alarm.errors")
        .unwrap();
    assert_eq!(alarm.kind, "AWS::CloudWatch::Alarm");
    for list in ["AlarmActions", "OKActions"] {
        let actions = alarm.property(list).and_then(Value::as_list).unwrap();
        assert!(matches!(
            &actions[0].kind,
            ValueKind::Ref(r) if r.resource == "aws_sns_topic.alerts" && r.attribute == Attribute::Ref
        ));
    }
    let composite = stack
        .resource("aws_cloudwatch_composite_alarm.all")
        .unwrap();
    assert_eq!(composite.kind, "AWS::CloudWatch::CompositeAlarm");
    assert!(composite.property("InsufficientDataActions").is_some());
    let bus = stack.resource("aws_cloudwatch_event_bus.orders").unwrap();
    assert_eq!(bus.kind, "AWS::Events::EventBus");
    assert!(matches!(
        &bus.property("KmsKeyIdentifier").unwrap().kind,
        ValueKind::Ref(r) if r.resource == "aws_kms_key.k" && r.attribute == Attribute::Get("Arn".into())
    ));
}

/// `aws_scheduler_schedule` becomes `AWS::Scheduler::Schedule` with its target's ARN, role,
/// dead-letter queue and ECS task definition, and the schedule's `KmsKeyArn`
/// (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/scheduler_schedule).
#[test]
fn scheduler_schedule_target() {
    let (stack, _) = analyse(
        "scheduler",
        r#"
resource "aws_sqs_queue" "failed" {
  name = "failed"
}
resource "aws_kms_key" "payload" {}
resource "aws_scheduler_schedule" "hourly" {
  name                = "hourly"
  schedule_expression = "rate(1 hour)"
  kms_key_arn         = aws_kms_key.payload.arn
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = "arn:aws:ecs:us-east-1:123456789012:cluster/jobs"
    role_arn = "arn:aws:iam::123456789012:role/scheduler"
    dead_letter_config {
      arn = aws_sqs_queue.failed.arn
    }
    ecs_parameters {
      task_definition_arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/job:1"
    }
  }
}
"#,
    );
    let schedule = stack.resource("aws_scheduler_schedule.hourly").unwrap();
    assert_eq!(schedule.kind, "AWS::Scheduler::Schedule");
    let target = schedule.property("Target").unwrap();
    assert_eq!(
        target.get("RoleArn").and_then(Value::as_str),
        Some("arn:aws:iam::123456789012:role/scheduler")
    );
    assert!(matches!(
        &target.get_path(&["DeadLetterConfig", "Arn"]).unwrap().kind,
        ValueKind::Ref(r) if r.resource == "aws_sqs_queue.failed"
    ));
    assert_eq!(
        target
            .get_path(&["EcsParameters", "TaskDefinitionArn"])
            .and_then(Value::as_str),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/job:1")
    );
    assert!(matches!(
        &schedule.property("KmsKeyArn").unwrap().kind,
        ValueKind::Ref(r) if r.resource == "aws_kms_key.payload"
    ));
}

/// `aws_cloudwatch_event_target` blocks fold into the rule's `Targets` with the ECS task
/// definition and input
/// (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/cloudwatch_event_target).
#[test]
fn event_target_ecs_and_input() {
    let (stack, _) = analyse(
        "event-target",
        r#"
resource "aws_cloudwatch_event_rule" "nightly" {
  name                = "nightly"
  schedule_expression = "rate(1 day)"
}
resource "aws_cloudwatch_event_target" "task" {
  rule     = aws_cloudwatch_event_rule.nightly.name
  arn      = "arn:aws:ecs:us-east-1:123456789012:cluster/jobs"
  role_arn = "arn:aws:iam::123456789012:role/events"
  input    = "{}"
  ecs_target {
    task_definition_arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/job:1"
    task_count          = 1
  }
}
"#,
    );
    let rule = stack.resource("aws_cloudwatch_event_rule.nightly").unwrap();
    let targets = rule.property("Targets").and_then(Value::as_list).unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].get("Input").and_then(Value::as_str), Some("{}"));
    assert_eq!(
        targets[0]
            .get_path(&["EcsParameters", "TaskDefinitionArn"])
            .and_then(Value::as_str),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/job:1")
    );
}
