# A scheduled ECS task: the target's role may run the task definition but not pass its task
# role to ECS. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/CWE_IAM_role.html

data "aws_iam_policy_document" "events_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_ecs_cluster" "main" {
  name = "main"
}

resource "aws_iam_role" "task" {
  name               = "report-task"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
}

resource "aws_ecs_task_definition" "report" {
  family        = "report"
  task_role_arn = aws_iam_role.task.arn
  container_definitions = jsonencode([
    { name = "report", image = "public.ecr.aws/docker/library/busybox:latest" }
  ])
}

resource "aws_iam_role" "events" {
  name               = "report-events"
  assume_role_policy = data.aws_iam_policy_document.events_assume.json
}

data "aws_iam_policy_document" "events" {
  statement {
    actions   = ["ecs:RunTask"]
    resources = [aws_ecs_task_definition.report.arn]
  }
}

resource "aws_iam_role_policy" "events" {
  role   = aws_iam_role.events.id
  policy = data.aws_iam_policy_document.events.json
}

resource "aws_cloudwatch_event_rule" "hourly" {
  name                = "hourly"
  schedule_expression = "rate(1 hour)"
}

resource "aws_cloudwatch_event_target" "report" {
  rule     = aws_cloudwatch_event_rule.hourly.name
  arn      = aws_ecs_cluster.main.arn
  role_arn = aws_iam_role.events.arn
  ecs_target {
    task_definition_arn = aws_ecs_task_definition.report.arn
    launch_type         = "FARGATE"
  }
}
