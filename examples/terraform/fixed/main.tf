# The orders service of broken/, fixed.

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
  assume_role_policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Service": "lambda.amazonaws.com"},
      "Action": "sts:AssumeRole"
    }
  ]
}
EOF
}

resource "aws_iam_role_policy_attachment" "api_logs" {
  role       = aws_iam_role.api.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_iam_role_policy" "api" {
  name = "orders-api"
  role = aws_iam_role.api.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = "arn:aws:s3:::${var.reports_bucket}"
      },
      {
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "arn:aws:s3:::${var.reports_bucket}/*"
      },
      {
        Effect   = "Allow"
        Action   = "secretsmanager:GetSecretValue"
        Resource = "arn:aws:secretsmanager:eu-west-1:${data.aws_caller_identity.current.account_id}:secret:orders/db-??????"
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

  # Lambda checks the network-interface permissions when it creates the function: the
  # attachment that grants them must exist first (IAM039).
  depends_on = [aws_iam_role_policy_attachment.api_logs]
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
