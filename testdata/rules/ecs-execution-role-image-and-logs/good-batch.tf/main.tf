# Batch job definitions whose image pulls and awslogs streams are allowed, or out of sight:
# on Fargate the execution role has AmazonECSTaskExecutionRolePolicy; on EC2 the container
# instance role (not in the configuration) may pull the image and write the logs.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html

resource "aws_ecr_repository" "report" {
  name = "nightly-report"
}

resource "aws_cloudwatch_log_group" "report" {
  name = "/batch/nightly-report"
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

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role" "bare" {
  name = "nightly-report-bare"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_batch_job_definition" "fargate" {
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
        "awslogs-group" = aws_cloudwatch_log_group.report.name
      }
    }
  })
}

resource "aws_batch_job_definition" "ec2" {
  name = "nightly-report-ec2"
  type = "container"
  container_properties = jsonencode({
    image            = "${aws_ecr_repository.report.repository_url}:latest"
    executionRoleArn = aws_iam_role.bare.arn
    vcpus            = 1
    memory           = 2048
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group" = aws_cloudwatch_log_group.report.name
      }
    }
  })
}
