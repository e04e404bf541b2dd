# Dead-letter targets the roles can send to, and one iamlint cannot see.

variable "dlq_arn" {
  type        = string
  description = "A dead-letter queue shared by several functions."
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_sqs_queue" "failed" {
  name = "resize-failed"
}

resource "aws_iam_role" "resize" {
  name               = "resize"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "resize_dlq" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failed.arn]
  }
}

resource "aws_iam_role_policy" "resize_dlq" {
  name   = "dlq"
  role   = aws_iam_role.resize.id
  policy = data.aws_iam_policy_document.resize_dlq.json
}

resource "aws_lambda_function" "resize" {
  function_name = "resize"
  role          = aws_iam_role.resize.arn
  runtime       = "nodejs20.x"
  handler       = "index.handler"
  filename      = "resize.zip"

  dead_letter_config {
    target_arn = aws_sqs_queue.failed.arn
  }
}

# A topic as the dead-letter target.
resource "aws_sns_topic" "alarms" {
  name = "lambda-failures"
}

resource "aws_iam_role" "notify" {
  name               = "notify"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  inline_policy {
    name = "dlq"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = "sns:Publish"
        Resource = aws_sns_topic.alarms.arn
      }]
    })
  }
}

resource "aws_lambda_function" "notify" {
  function_name = "notify"
  role          = aws_iam_role.notify.arn
  runtime       = "nodejs20.x"
  handler       = "index.handler"
  filename      = "notify.zip"

  dead_letter_config {
    target_arn = aws_sns_topic.alarms.arn
  }
}

# The target comes from a variable and the grant covers every queue of the account.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

resource "aws_iam_role" "wide" {
  name               = "wide"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "wide" {
  role = aws_iam_role.wide.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "sqs:SendMessage"
      Resource = "arn:aws:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:*"
    }]
  })
}

resource "aws_lambda_function" "wide" {
  function_name = "wide"
  role          = aws_iam_role.wide.arn
  runtime       = "nodejs20.x"
  handler       = "index.handler"
  filename      = "wide.zip"

  dead_letter_config {
    target_arn = var.dlq_arn
  }
}
