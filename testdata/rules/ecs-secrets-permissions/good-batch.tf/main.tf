# The execution role reads the secret the Batch job injects (and its customer managed key) and
# the parameter given to its log driver.
# https://docs.aws.amazon.com/batch/latest/userguide/specifying-sensitive-data-secrets.html

resource "aws_kms_key" "secrets" {
  description         = "Report secrets"
  enable_key_rotation = true
}

resource "aws_secretsmanager_secret" "db" {
  name       = "reports/database"
  kms_key_id = aws_kms_key.secrets.arn
}

resource "aws_iam_role" "execution" {
  name = "reports-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "secrets" {
  name = "secrets"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = "secretsmanager:GetSecretValue"
        Resource = aws_secretsmanager_secret.db.arn
      },
      {
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = aws_kms_key.secrets.arn
      },
      {
        Effect   = "Allow"
        Action   = "ssm:GetParameters"
        Resource = "arn:aws:ssm:*:*:parameter/reports/*"
      }
    ]
  })
}

resource "aws_batch_job_definition" "report" {
  name                  = "nightly-report"
  type                  = "container"
  platform_capabilities = ["FARGATE"]
  container_properties = jsonencode({
    image            = "public.ecr.aws/docker/library/python:3.12"
    executionRoleArn = aws_iam_role.execution.arn
    resourceRequirements = [
      { type = "VCPU", value = "1" },
      { type = "MEMORY", value = "2048" }
    ]
    secrets = [
      { name = "DB_PASSWORD", valueFrom = "${aws_secretsmanager_secret.db.arn}:password::" }
    ]
    logConfiguration = {
      logDriver = "splunk"
      options   = { "splunk-url" = "https://splunk.example.com:8088" }
      secretOptions = [
        { name = "splunk-token", valueFrom = "/reports/splunk-token" }
      ]
    }
  })
}
