# Traced functions whose roles can send segments, and a function that only passes the
# trace header through.

variable "tracing_mode" {
  type    = string
  default = "Active"
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

# The AWS managed policy for the X-Ray daemon.
resource "aws_iam_role" "managed" {
  name               = "managed-traced"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy_attachment" "managed" {
  for_each = toset([
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
  ])
  role       = aws_iam_role.managed.name
  policy_arn = each.value
}

resource "aws_lambda_function" "managed" {
  function_name = "managed-traced"
  role          = aws_iam_role.managed.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"

  tracing_config {
    mode = var.tracing_mode
  }
}

# The two actions, inline.
resource "aws_iam_role" "inline" {
  name               = "inline-traced"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  inline_policy {
    name = "xray"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        Resource = "*"
      }]
    })
  }
}

resource "aws_lambda_function" "inline" {
  function_name = "inline-traced"
  role          = aws_iam_role.inline.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"

  tracing_config {
    mode = "Active"
  }
}

# PassThrough sends no segments of its own.
resource "aws_iam_role" "plain" {
  name               = "plain"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_lambda_function" "pass_through" {
  function_name = "pass-through"
  role          = aws_iam_role.plain.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"

  tracing_config {
    mode = "PassThrough"
  }
}
