# The key policy in account 222222222222 allows the app role of 111111111111 to decrypt, but
# the role's own policies do not: the role's side is missing.
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

resource "aws_kms_key" "shared" {
  provider = aws.data
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "Owner"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::222222222222:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "App"
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.app.arn }
        Action    = ["kms:Decrypt"]
        Resource  = "*"
      },
    ]
  })
}
