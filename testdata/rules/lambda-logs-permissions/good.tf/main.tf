# Every way a role can let a function write its logs, and roles iamlint cannot see.

variable "function_name" {
  type    = string
  default = "orders"
}

variable "extra_policy_arn" {
  type        = string
  description = "A policy managed elsewhere."
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# The AWS managed policy.
resource "aws_iam_role" "managed" {
  name               = "managed-fn"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy_attachment" "managed_basic" {
  role       = aws_iam_role.managed.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_lambda_function" "managed" {
  function_name = "managed-fn"
  role          = aws_iam_role.managed.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

# All logs, everywhere.
resource "aws_iam_role" "wildcard" {
  name               = "wildcard-fn"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  inline_policy {
    name = "logs"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = "logs:*"
        Resource = "arn:aws:logs:*:*:*"
      }]
    })
  }
}

resource "aws_lambda_function" "wildcard" {
  function_name = "wildcard-fn"
  role          = aws_iam_role.wildcard.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

# The function's own default group, named through the same variable.
resource "aws_iam_role" "named" {
  name               = "${var.function_name}-role"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "named_logs" {
  statement {
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${var.function_name}:*",
    ]
  }
}

resource "aws_iam_role_policy" "named_logs" {
  role   = aws_iam_role.named.id
  policy = data.aws_iam_policy_document.named_logs.json
}

resource "aws_lambda_function" "named" {
  function_name = var.function_name
  role          = aws_iam_role.named.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

# A custom log group: its streams are "${arn}:*" (Terraform's arn has no ":*").
resource "aws_cloudwatch_log_group" "app" {
  name              = "/app/orders"
  retention_in_days = 14
}

resource "aws_iam_role" "grouped" {
  name               = "grouped-fn"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "grouped_logs" {
  role = aws_iam_role.grouped.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${aws_cloudwatch_log_group.app.arn}:*"
    }]
  })
}

resource "aws_lambda_function" "grouped" {
  function_name = "grouped-fn"
  role          = aws_iam_role.grouped.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.app.name
  }
}

# Logging turned off on purpose with an explicit deny.
resource "aws_iam_role" "quiet" {
  name               = "quiet-fn"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  inline_policy {
    name = "no-logs"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Deny"
        Action   = "logs:*"
        Resource = "*"
      }]
    })
  }
}

resource "aws_lambda_function" "quiet" {
  function_name = "quiet-fn"
  role          = aws_iam_role.quiet.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

# A policy iamlint cannot see: silent.
resource "aws_iam_role" "open" {
  name               = "open-fn"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy_attachment" "open_extra" {
  role       = aws_iam_role.open.name
  policy_arn = var.extra_policy_arn
}

resource "aws_lambda_function" "open" {
  function_name = "open-fn"
  role          = aws_iam_role.open.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}
