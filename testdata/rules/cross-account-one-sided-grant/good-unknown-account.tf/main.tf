# The aliased provider uses a named profile: its account is not known, so the queue may be in
# the role's own account, where the role's grant alone is enough. Silent.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["111111111111"]
}

provider "aws" {
  alias   = "other"
  region  = "eu-west-1"
  profile = "data"
}

resource "aws_iam_role" "app" {
  name = "app"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_sqs_queue" "jobs" {
  provider = aws.other
  name     = "jobs"
}

resource "aws_iam_role_policy" "send" {
  name = "send"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "sqs:SendMessage"
      Resource = aws_sqs_queue.jobs.arn
    }]
  })
}
