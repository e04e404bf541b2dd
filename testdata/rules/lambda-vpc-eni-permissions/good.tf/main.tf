# Functions in a VPC whose roles can manage network interfaces, each in a way people write
# it, and a role iamlint cannot see.

variable "subnet_ids" {
  type    = list(string)
  default = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
}

variable "security_group_ids" {
  type    = list(string)
  default = ["sg-0123456789abcdef0"]
}

variable "shared_role_arn" {
  type        = string
  description = "A role managed by the platform team."
  default     = "arn:aws:iam::123456789012:role/shared-lambda-role"
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_partition" "current" {}

# The AWS managed policy.
resource "aws_iam_role" "managed" {
  name               = "managed-vpc-fn"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "managed_vpc" {
  role       = aws_iam_role.managed.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_lambda_function" "managed" {
  function_name = "managed-vpc-fn"
  role          = aws_iam_role.managed.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }
}

# An inline policy written with jsonencode.
resource "aws_iam_role" "inline" {
  name               = "inline-vpc-fn"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  inline_policy {
    name = "eni"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect = "Allow"
        Action = [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DeleteNetworkInterface",
        ]
        Resource = "*"
      }]
    })
  }
}

resource "aws_lambda_function" "inline" {
  function_name = "inline-vpc-fn"
  role          = aws_iam_role.inline.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }
}

# A customer managed policy from a policy document, attached separately.
data "aws_iam_policy_document" "eni" {
  statement {
    sid       = "ManageNetworkInterfaces"
    actions   = ["ec2:*NetworkInterface*"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "eni" {
  name   = "lambda-eni"
  policy = data.aws_iam_policy_document.eni.json
}

resource "aws_iam_role" "wildcard" {
  name               = "wildcard-vpc-fn"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "wildcard_eni" {
  role       = aws_iam_role.wildcard.name
  policy_arn = aws_iam_policy.eni.arn
}

resource "aws_lambda_function" "wildcard" {
  function_name = "wildcard-vpc-fn"
  role          = aws_iam_role.wildcard.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }
}

# A role outside this configuration: iamlint cannot see its policies and stays silent.
resource "aws_lambda_function" "external" {
  function_name = "external-vpc-fn"
  role          = var.shared_role_arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }
}

# Empty lists detach the function from its VPC.
resource "aws_iam_role" "plain" {
  name               = "plain-fn"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_lambda_function" "detached" {
  function_name = "detached-fn"
  role          = aws_iam_role.plain.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"

  vpc_config {
    subnet_ids         = []
    security_group_ids = []
  }
}

# Only attached to a VPC when a flag is set, and it is not.
variable "in_vpc" {
  type    = bool
  default = false
}

resource "aws_lambda_function" "optional" {
  function_name = "optional-vpc-fn"
  role          = aws_iam_role.plain.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"

  dynamic "vpc_config" {
    for_each = var.in_vpc ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }
}
