# A Fargate Batch job whose execution role has no policy: the Fargate agent cannot pull the
# image from the ECR repository nor write to the awslogs log group.
# https://docs.aws.amazon.com/batch/latest/userguide/execution-IAM-role.html
# container_properties is the Batch API's JSON:
# https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/batch_job_definition

resource "aws_ecr_repository" "report" {
  name = "nightly-report"
}

resource "aws_cloudwatch_log_group" "report" {
  name              = "/batch/nightly-report"
  retention_in_days = 30
}

resource "aws_iam_role" "execution" {
  name = "nightly-report-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_batch_job_definition" "report" {
  name                  = "nightly-report"
  type                  = "container"
  platform_capabilities = ["FARGATE"]
  container_properties = jsonencode({
    image            = "${aws_ecr_repository.report.repository_url}:latest"
    executionRoleArn = aws_iam_role.execution.arn
    resourceRequirements = [
      { type = "VCPU", value = "1" },
      { type = "MEMORY", value = "2048" }
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.report.name
        "awslogs-stream-prefix" = "report"
      }
    }
  })
}
