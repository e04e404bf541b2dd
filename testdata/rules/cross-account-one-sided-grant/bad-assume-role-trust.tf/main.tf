# The app role may assume a role of account 222222222222 whose trust policy names only Lambda:
# the trust side is missing.
# Two accounts, each certain: the default provider allows only 111111111111, the aliased one
# assumes a role of 222222222222.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["111111111111"]
}

variable "data_account" {
  default = "222222222222"
}

provider "aws" {
  alias  = "data"
  region = "us-east-1"
  assume_role {
    role_arn = "arn:aws:iam::${var.data_account}:role/deployer"
  }
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

resource "aws_iam_role" "reader" {
  provider = aws.data
  name     = "reader"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "assume" {
  name = "assume"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "sts:AssumeRole"
      Resource = aws_iam_role.reader.arn
    }]
  })
}
