# ListBucket is authorized against the bucket, GetObject against objects:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
resource "aws_s3_bucket" "reports" {
  bucket = "reports"
}

resource "aws_iam_role" "app" {
  name = "app"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

data "aws_iam_policy_document" "list" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = ["${aws_s3_bucket.reports.arn}/*"] # objects, by mistake
  }
  statement {
    actions = ["s3:GetObject"]
    resources = [
      aws_s3_bucket.reports.arn,
    ]
  }
}

resource "aws_iam_role_policy" "list" {
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.list.json
}

resource "aws_iam_role_policy" "put" {
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "s3:PutObject"
      Resource = aws_s3_bucket.reports.arn
    }]
  })
}

variable "archive_bucket" {
  type    = string
  default = "acme-archive"
}

resource "aws_iam_role_policy" "archive" {
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:ListBucket", "s3:GetObject"]
      Resource = "arn:aws:s3:::${var.archive_bucket}/*" # stays a variable
    }]
  })
}
