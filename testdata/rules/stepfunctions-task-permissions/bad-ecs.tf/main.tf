# An ECS task run synchronously whose role may run the task definition but not follow the task
# (ecs:StopTask, ecs:DescribeTasks, the EventBridge managed rule):
# https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
  }
}

resource "aws_ecs_task_definition" "report" {
  family = "report"
  container_definitions = jsonencode([
    { name = "report", image = "public.ecr.aws/docker/library/busybox:latest" }
  ])
}

resource "aws_iam_role" "flow" {
  name               = "flow"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
}

data "aws_iam_policy_document" "flow" {
  statement {
    actions   = ["ecs:RunTask"]
    resources = [aws_ecs_task_definition.report.arn]
  }
}

resource "aws_iam_role_policy" "flow" {
  role   = aws_iam_role.flow.id
  policy = data.aws_iam_policy_document.flow.json
}

resource "aws_sfn_state_machine" "flow" {
  name     = "flow"
  role_arn = aws_iam_role.flow.arn
  definition = jsonencode({
    StartAt = "Report"
    States = {
      Report = {
        Type     = "Task"
        Resource = "arn:aws:states:::ecs:runTask.sync"
        Parameters = {
          TaskDefinition = aws_ecs_task_definition.report.arn
          LaunchType     = "FARGATE"
        }
        End = true
      }
    }
  })
}
