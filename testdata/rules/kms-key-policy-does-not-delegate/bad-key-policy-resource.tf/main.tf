# The key policy is set by a separate aws_kms_key_policy resource (heredoc JSON) and names
# only the key administrators.

variable "admin_role_arn" {
  type    = string
  default = "arn:aws:iam::123456789012:role/KeyAdmins"
}

resource "aws_kms_key" "uploads" {
  description = "uploads bucket"
}

resource "aws_kms_key_policy" "uploads" {
  key_id = aws_kms_key.uploads.id
  policy = <<-POLICY
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Sid": "KeyAdministrators",
          "Effect": "Allow",
          "Principal": { "AWS": "${var.admin_role_arn}" },
          "Action": "kms:*",
          "Resource": "*"
        }
      ]
    }
  POLICY
}

resource "aws_iam_role" "uploader" {
  name = "uploader"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

data "aws_iam_policy_document" "uploader" {
  statement {
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.uploads.arn]
  }
}

resource "aws_iam_role_policy" "uploader" {
  role   = aws_iam_role.uploader.id
  policy = data.aws_iam_policy_document.uploader.json
}
