# Key policies that let IAM policies grant the key: the "Enable IAM User Permissions"
# statement (account root), the default key policy, and a policy naming the role itself.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_iam_policy_document" "ecs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "key" {
  statement {
    sid       = "Admins"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/Admin"]
    }
  }

  statement {
    sid       = "Enable IAM User Permissions"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "reports" {
  description = "report exports"
  policy      = data.aws_iam_policy_document.key.json
}

# No policy: the default key policy delegates to IAM.
resource "aws_kms_key" "defaults" {
  description = "default key policy"
}

resource "aws_iam_role" "app" {
  name               = "report-exporter"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

resource "aws_iam_role_policy" "app_kms" {
  name = "kms"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "kms:Decrypt"
      Resource = [aws_kms_key.reports.arn, aws_kms_key.defaults.arn]
    }]
  })
}

# A key policy that names the role that uses it, set by a separate resource.
resource "aws_iam_role" "worker" {
  name               = "worker"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

resource "aws_kms_key" "worker" {
  description = "worker data"
}

resource "aws_kms_key_policy" "worker" {
  key_id = aws_kms_key.worker.key_id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Worker"
      Effect    = "Allow"
      Principal = { AWS = aws_iam_role.worker.arn }
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = "*"
    }]
  })
}

resource "aws_iam_role_policy" "worker_kms" {
  role = aws_iam_role.worker.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "kms:Decrypt"
      Resource = aws_kms_key.worker.arn
    }]
  })
}
