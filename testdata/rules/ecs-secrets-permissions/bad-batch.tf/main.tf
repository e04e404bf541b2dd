# The execution role has only AmazonECSTaskExecutionRolePolicy: it cannot read the database
# secret, encrypted with a customer managed key, that the Batch job reads a JSON key of, nor the
# parameter its log driver is given.
# https://docs.aws.amazon.com/batch/latest/userguide/specifying-sensitive-data-secrets.html
# https://docs.aws.amazon.com/batch/latest/userguide/specifying-sensitive-data-parameters.html
# container_properties is the Batch API's JSON:
# https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/batch_job_definition

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

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
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
