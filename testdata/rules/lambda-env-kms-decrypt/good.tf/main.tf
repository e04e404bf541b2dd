# A role that may decrypt with the key of its function's variables; a key iamlint cannot
# see; a function with a key but no variables.

variable "env_key_arn" {
  type        = string
  description = "A key managed by the security team."
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

resource "aws_kms_key" "config" {
  description = "Lambda environment variables"
}

resource "aws_iam_role" "api" {
  name               = "api"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "api_kms" {
  statement {
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.config.arn]
  }
}

resource "aws_iam_role_policy" "api_kms" {
  name   = "kms"
  role   = aws_iam_role.api.id
  policy = data.aws_iam_policy_document.api_kms.json
}

resource "aws_lambda_function" "api" {
  function_name = "api"
  role          = aws_iam_role.api.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
  kms_key_arn   = aws_kms_key.config.arn

  environment {
    variables = {
      API_URL = "https://example.com"
    }
  }
}

resource "aws_iam_role" "plain" {
  name               = "plain"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_lambda_function" "external_key" {
  function_name = "external-key"
  role          = aws_iam_role.plain.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
  kms_key_arn   = var.env_key_arn

  environment {
    variables = { A = "b" }
  }
}

resource "aws_lambda_function" "no_variables" {
  function_name = "no-variables"
  role          = aws_iam_role.plain.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
  kms_key_arn   = aws_kms_key.config.arn
}
