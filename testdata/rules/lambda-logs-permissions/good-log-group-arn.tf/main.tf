# The role grants the logs actions on the log group's Terraform `arn`, which has no ":*" and
# so can never match a log stream. The function cannot write logs, but that is
# action-resource-type-mismatch's finding (IAM010), which names the ARN to use instead
# ("${aws_cloudwatch_log_group.app.arn}:*"): one root cause, one finding.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/aws/lambda/app"
  retention_in_days = 30
}

data "aws_iam_policy_document" "logs" {
  statement {
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = [aws_cloudwatch_log_group.app.arn]
  }
}

resource "aws_iam_role" "app" {
  name               = "app"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "logs" {
  name   = "logs"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.logs.json
}

resource "aws_lambda_function" "app" {
  function_name = "app"
  role          = aws_iam_role.app.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
  depends_on    = [aws_cloudwatch_log_group.app]
}
