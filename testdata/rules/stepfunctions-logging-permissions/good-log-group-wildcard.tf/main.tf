# The resource-policy and log-group actions granted on every log group of the account instead
# of "*", as the CloudWatch Logs guide writes them:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html
# CloudWatch Logs authorizes them against arn:...:log-group::log-stream:, which log-group:*
# matches (https://github.com/hashicorp/terraform-provider-aws/issues/8804).
data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_cloudwatch_log_group" "audit" {
  name = "/aws/vendedlogs/states/audit"
}

resource "aws_iam_role" "audit" {
  name = "audit-machine"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

data "aws_iam_policy_document" "log_delivery" {
  statement {
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
    ]
    resources = ["*"]
  }
  statement {
    actions = [
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
  }
}

resource "aws_iam_role_policy" "log_delivery" {
  role   = aws_iam_role.audit.id
  policy = data.aws_iam_policy_document.log_delivery.json
}

resource "aws_sfn_state_machine" "audit" {
  name     = "audit"
  role_arn = aws_iam_role.audit.arn
  definition = jsonencode({
    StartAt = "Record"
    States  = { Record = { Type = "Pass", End = true } }
  })
  logging_configuration {
    level           = "ERROR"
    log_destination = "${aws_cloudwatch_log_group.audit.arn}:*"
  }
  depends_on = [aws_iam_role_policy.log_delivery]
}
