# Functions whose roles cannot write to their log groups.

provider "aws" {
  region = "eu-west-1"
}

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

resource "aws_s3_bucket" "uploads" {
  bucket = "acme-uploads"
}

# Reads the bucket, writes no logs.
resource "aws_iam_role" "reader" {
  name               = "upload-reader"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "reader" {
  name   = "read-uploads"
  role   = aws_iam_role.reader.id
  policy = <<-EOT
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Effect": "Allow",
          "Action": "s3:GetObject",
          "Resource": "${aws_s3_bucket.uploads.arn}/*"
        }
      ]
    }
  EOT
}

resource "aws_lambda_function" "reader" {
  function_name = "upload-reader"
  role          = aws_iam_role.reader.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

# Logs granted, but on another function's group (copied from the billing function).
resource "aws_iam_role" "reports" {
  name               = "reports"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "reports_logs" {
  statement {
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "arn:aws:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/billing:*",
    ]
  }
}

resource "aws_iam_role_policy" "reports_logs" {
  name   = "logs"
  role   = aws_iam_role.reports.name
  policy = data.aws_iam_policy_document.reports_logs.json
}

resource "aws_lambda_function" "reports" {
  function_name = "reports"
  role          = aws_iam_role.reports.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}
