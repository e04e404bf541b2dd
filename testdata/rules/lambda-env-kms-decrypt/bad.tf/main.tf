# Environment variables encrypted with a customer managed key the role cannot decrypt with.

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "config_key" {
  statement {
    sid       = "Enable IAM User Permissions"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "config" {
  description         = "Lambda environment variables"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.config_key.json
}

resource "aws_iam_role" "api" {
  name = "api"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "api_logs" {
  role       = aws_iam_role.api.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
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
      API_URL   = "https://example.com"
      LOG_LEVEL = "info"
    }
  }
}
