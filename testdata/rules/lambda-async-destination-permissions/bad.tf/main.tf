# Asynchronous invocation destinations of a function alias; the role can publish to the
# success topic but cannot send to the failure queue.

resource "aws_sns_topic" "succeeded" {
  name = "import-succeeded"
}

resource "aws_sqs_queue" "failed" {
  name = "import-failed"
}

resource "aws_iam_role" "importer" {
  name = "importer"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

# AWSLambdaSQSQueueExecutionRole reads queues (ReceiveMessage, DeleteMessage,
# GetQueueAttributes): it does not allow sqs:SendMessage.
resource "aws_iam_role_policy_attachment" "importer_sqs" {
  role       = aws_iam_role.importer.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
}

resource "aws_iam_role_policy" "importer_publish" {
  name = "publish"
  role = aws_iam_role.importer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "sns:Publish"
      Resource = aws_sns_topic.succeeded.arn
    }]
  })
}

resource "aws_lambda_function" "importer" {
  function_name = "importer"
  role          = aws_iam_role.importer.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
  publish       = true
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.importer.function_name
  function_version = aws_lambda_function.importer.version
}

# The alias's configuration: Lambda still delivers with the function's role.
resource "aws_lambda_function_event_invoke_config" "importer" {
  function_name          = aws_lambda_alias.live.function_name
  qualifier              = aws_lambda_alias.live.name
  maximum_retry_attempts = 1

  destination_config {
    on_success {
      destination = aws_sns_topic.succeeded.arn
    }

    on_failure {
      destination = aws_sqs_queue.failed.arn
    }
  }
}
