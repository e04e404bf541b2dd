data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

resource "aws_iam_role" "app" {
  name               = "app"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

data "aws_iam_policy_document" "send" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = ["arn:aws:sqs:us-east-1:111122223333:jobs"]
  }
}

resource "aws_iam_role_policy" "send" {
  name   = "send"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.send.json
}
