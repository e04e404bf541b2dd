# Secrets Manager appends "-" and six random characters to every secret's ARN:
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html#auth-and-access_examples_wildcard
data "aws_caller_identity" "current" {}

resource "aws_iam_role" "app" {
  name = "app"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

data "aws_iam_policy_document" "secrets" {
  statement {
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      "arn:aws:secretsmanager:us-east-1:${data.aws_caller_identity.current.account_id}:secret:prod/db", # the database
    ]
  }
}

resource "aws_iam_role_policy" "secrets" {
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.secrets.json
}

resource "aws_iam_role_policy" "api" {
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "secretsmanager:GetSecretValue"
      Resource = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/api"
    }]
  })
}
