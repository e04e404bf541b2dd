# The key policy names only an administrator role, so the IAM grant of kms:Decrypt to the
# application's role has no effect.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
}

data "aws_iam_policy_document" "key" {
  statement {
    sid       = "Admins"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:role/Admin"]
    }
  }
}

resource "aws_kms_key" "reports" {
  description = "report exports"
  policy      = data.aws_iam_policy_document.key.json
}

resource "aws_iam_role" "app" {
  name = "report-exporter"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "app_kms" {
  name = "kms"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:DescribeKey"]
      Resource = aws_kms_key.reports.arn
    }]
  })
}
