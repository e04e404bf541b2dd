# An orders service: a function in a VPC that reads a bucket and a secret, and a worker that
# consumes a KMS-encrypted queue. Every mistake here passes `terraform validate` and
# `terraform plan`, and fails at run time with AccessDenied (or at apply time, for the VPC).

provider "aws" {
  region = "eu-west-1"
}

data "aws_caller_identity" "current" {}

variable "reports_bucket" {
  type    = string
  default = "acme-orders-reports"
}

resource "aws_iam_role" "api" {
  name = "orders-api"
  # The trust policy names EC2, but the role is a Lambda function's execution role.
  assume_role_policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Service": "ec2.amazonaws.com"},
      "Action": "sts:AssumeRole"
    }
  ]
}
EOF
}

resource "aws_iam_role_policy_attachment" "api_logs" {
  role       = aws_iam_role.api.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_iam_role_policy" "api" {
  name = "orders-api"
  role = aws_iam_role.api.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["s3:ListBucket", "s3:GetObject"]
        Resource = "arn:aws:s3:::${var.reports_bucket}/*"
      },
      {
        Effect   = "Allow"
        Action   = "secretsmanager:GetSecretValue"
        Resource = "arn:aws:secretsmanager:eu-west-1:${data.aws_caller_identity.current.account_id}:secret:orders/db"
      },
    ]
  })
}

resource "aws_lambda_function" "api" {
  function_name = "orders-api"
  role          = aws_iam_role.api.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "build/api.zip"

  vpc_config {
    subnet_ids         = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }
}

resource "aws_kms_key" "orders" {
  description = "orders queue"
}

resource "aws_sqs_queue" "orders" {
  name              = "orders"
  kms_master_key_id = aws_kms_key.orders.arn
}

module "worker" {
  source    = "./worker"
  queue_arn = aws_sqs_queue.orders.arn
}
