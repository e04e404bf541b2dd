# A log subscription filter, a Secrets Manager rotation, an IoT topic rule and a Cognito user
# pool trigger invoke the function; no aws_lambda_permission allows them. Arguments from
# website/docs/r/{cloudwatch_log_subscription_filter,secretsmanager_secret_rotation,
# iot_topic_rule,cognito_user_pool}.html.markdown of hashicorp/terraform-provider-aws.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "processor" {
  name               = "processor"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_lambda_function" "processor" {
  function_name = "processor"
  role          = aws_iam_role.processor.arn
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "processor.zip"
}

resource "aws_cloudwatch_log_group" "app" {
  name = "/app/orders"
}

# The Logs principal is right, but the source ARN lacks the `:*` that the log group's ARN
# carries when Logs invokes (aws_cloudwatch_log_group.arn has none; reported in
# YumaInaura/YumaInaura#3460 with "Could not execute the lambda function").
resource "aws_lambda_permission" "logs" {
  statement_id  = "AllowLogs"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.processor.function_name
  principal     = "logs.amazonaws.com"
  source_arn    = aws_cloudwatch_log_group.app.arn
}

resource "aws_cloudwatch_log_subscription_filter" "errors" {
  name            = "errors"
  log_group_name  = aws_cloudwatch_log_group.app.name
  filter_pattern  = "ERROR"
  destination_arn = aws_lambda_function.processor.arn
  depends_on      = [aws_lambda_permission.logs]
}

resource "aws_secretsmanager_secret" "database" {
  name = "database"
}

resource "aws_secretsmanager_secret_rotation" "database" {
  secret_id           = aws_secretsmanager_secret.database.id
  rotation_lambda_arn = aws_lambda_function.processor.arn
  rotation_rules {
    automatically_after_days = 30
  }
}

resource "aws_iot_topic_rule" "telemetry" {
  name        = "telemetry"
  enabled     = true
  sql         = "SELECT * FROM 'devices/+/telemetry'"
  sql_version = "2016-03-23"
  lambda {
    function_arn = aws_lambda_function.processor.arn
  }
}

resource "aws_cognito_user_pool" "users" {
  name = "users"
  lambda_config {
    pre_sign_up = aws_lambda_function.processor.arn
  }
}
