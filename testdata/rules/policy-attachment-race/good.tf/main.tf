# Ordered three ways: depends_on on the attachment, a chain through a resource no rule reads
# (time_sleep, the usual wait for IAM to propagate), and a reference through a local.
# https://developer.hashicorp.com/terraform/language/meta-arguments/depends_on
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "worker" {
  name               = "worker"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "vpc" {
  role       = aws_iam_role.worker.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_lambda_function" "worker" {
  function_name = "worker"
  role          = aws_iam_role.worker.arn
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "worker.zip"

  vpc_config {
    subnet_ids         = ["subnet-0a1b2c3d4e5f60718"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }

  depends_on = [aws_iam_role_policy_attachment.vpc]
}

resource "aws_sqs_queue" "failed" {
  name = "failed-events"
}

resource "aws_iam_role" "consumer" {
  name               = "consumer"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "dlq" {
  role = aws_iam_role.consumer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "sqs:SendMessage"
      Resource = aws_sqs_queue.failed.arn
    }]
  })
}

resource "time_sleep" "iam" {
  create_duration = "10s"
  depends_on      = [aws_iam_role_policy.dlq]
}

resource "aws_lambda_function" "consumer" {
  function_name = "consumer"
  role          = aws_iam_role.consumer.arn
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "consumer.zip"

  dead_letter_config {
    target_arn = aws_sqs_queue.failed.arn
  }

  depends_on = [time_sleep.iam]
}

resource "aws_iam_role" "third" {
  name               = "third"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "third_vpc" {
  role       = aws_iam_role.third.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

locals {
  # The role's name read through the attachment: a reference orders as depends_on does.
  third_role = aws_iam_role_policy_attachment.third_vpc.role
}

resource "aws_lambda_function" "third" {
  function_name = "third-${local.third_role}"
  role          = aws_iam_role.third.arn
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "third.zip"

  vpc_config {
    subnet_ids         = ["subnet-0a1b2c3d4e5f60718"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }
}
