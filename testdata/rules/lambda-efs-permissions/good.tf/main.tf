# Without a file system policy, EFS's default policy lets any client that reaches a mount
# target in; with one, a role statement on the file system for this access point allows it.

variable "subnet_ids" {
  type    = list(string)
  default = ["subnet-0a1b2c3d4e5f60718"]
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

resource "aws_efs_file_system" "open" {
  creation_token = "open"
}

resource "aws_efs_access_point" "open" {
  file_system_id = aws_efs_file_system.open.id
}

resource "aws_iam_role" "open" {
  name               = "open-efs"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy_attachment" "open_vpc" {
  role       = aws_iam_role.open.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_lambda_function" "open" {
  function_name = "open-efs"
  role          = aws_iam_role.open.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = ["sg-0123456789abcdef0"]
  }

  file_system_config {
    arn              = aws_efs_access_point.open.arn
    local_mount_path = "/mnt/data"
  }
}

# A file system with a policy, and a role allowed to mount and write through the access point.
resource "aws_efs_file_system" "guarded" {
  creation_token = "guarded"
  encrypted      = true
}

data "aws_iam_policy_document" "guarded_fs" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_efs_file_system_policy" "guarded" {
  file_system_id = aws_efs_file_system.guarded.id
  policy         = data.aws_iam_policy_document.guarded_fs.json
}

resource "aws_efs_access_point" "guarded" {
  file_system_id = aws_efs_file_system.guarded.id
}

data "aws_iam_policy_document" "guarded_mount" {
  statement {
    actions = [
      "elasticfilesystem:ClientMount",
      "elasticfilesystem:ClientWrite",
    ]
    resources = [aws_efs_file_system.guarded.arn]
    condition {
      test     = "StringEquals"
      variable = "elasticfilesystem:AccessPointArn"
      values   = [aws_efs_access_point.guarded.arn]
    }
  }
}

resource "aws_iam_role" "guarded" {
  name               = "guarded-efs"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  inline_policy {
    name   = "efs"
    policy = data.aws_iam_policy_document.guarded_mount.json
  }
}

resource "aws_iam_role_policy_attachment" "guarded_vpc" {
  role       = aws_iam_role.guarded.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_lambda_function" "guarded" {
  function_name = "guarded-efs"
  role          = aws_iam_role.guarded.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = ["sg-0123456789abcdef0"]
  }

  file_system_config {
    arn              = aws_efs_access_point.guarded.arn
    local_mount_path = "/mnt/data"
  }
}
