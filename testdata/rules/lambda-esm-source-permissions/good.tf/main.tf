# Consumers whose roles can poll their sources, and sources and functions iamlint cannot see.

variable "external_queue_arn" {
  type        = string
  description = "A queue owned by another team."
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_sqs_queue" "orders" {
  name = "orders"
}

# The AWS managed policy for SQS consumers.
resource "aws_iam_role" "managed" {
  name               = "managed-consumer"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy_attachment" "managed" {
  role       = aws_iam_role.managed.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
}

resource "aws_lambda_function" "managed" {
  function_name = "managed-consumer"
  role          = aws_iam_role.managed.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

resource "aws_lambda_event_source_mapping" "managed" {
  event_source_arn = aws_sqs_queue.orders.arn
  function_name    = aws_lambda_function.managed.function_name
}

# The actions on the queue, from a policy document.
data "aws_iam_policy_document" "consume" {
  statement {
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ChangeMessageVisibility",
    ]
    resources = [aws_sqs_queue.orders.arn]
  }
}

resource "aws_iam_role" "inline" {
  name               = "inline-consumer"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  inline_policy {
    name   = "queue"
    policy = data.aws_iam_policy_document.consume.json
  }
}

resource "aws_lambda_function" "inline" {
  function_name = "inline-consumer"
  role          = aws_iam_role.inline.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

resource "aws_lambda_event_source_mapping" "inline" {
  event_source_arn = aws_sqs_queue.orders.arn
  function_name    = aws_lambda_function.inline.arn
}

# A queue iamlint cannot see, read through a wildcard grant.
resource "aws_iam_role" "wildcard" {
  name               = "wildcard-consumer"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "wildcard" {
  role = aws_iam_role.wildcard.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "sqs:*"
      Resource = "*"
    }]
  })
}

resource "aws_lambda_function" "wildcard" {
  function_name = "wildcard-consumer"
  role          = aws_iam_role.wildcard.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

resource "aws_lambda_event_source_mapping" "wildcard" {
  event_source_arn = var.external_queue_arn
  function_name    = aws_lambda_function.wildcard.function_name
}

# A DynamoDB stream, read with the AWS managed policy.
resource "aws_dynamodb_table" "events" {
  name             = "events"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "pk"
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"

  attribute {
    name = "pk"
    type = "S"
  }
}

resource "aws_iam_role" "stream" {
  name               = "events-reader"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy_attachment" "stream" {
  role       = aws_iam_role.stream.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"
}

resource "aws_lambda_function" "stream" {
  function_name = "events-reader"
  role          = aws_iam_role.stream.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

resource "aws_lambda_event_source_mapping" "stream" {
  event_source_arn  = aws_dynamodb_table.events.stream_arn
  function_name     = aws_lambda_function.stream.arn
  starting_position = "TRIM_HORIZON"
}

# A Kinesis stream, read with the AWS managed policy attached through a list.
resource "aws_kinesis_stream" "clicks" {
  name        = "clicks"
  shard_count = 1
}

resource "aws_iam_role" "kinesis" {
  name               = "clicks-reader"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy_attachment" "kinesis" {
  for_each = toset([
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
  ])
  role       = aws_iam_role.kinesis.name
  policy_arn = each.value
}

resource "aws_lambda_function" "kinesis" {
  function_name = "clicks-reader"
  role          = aws_iam_role.kinesis.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

resource "aws_lambda_event_source_mapping" "kinesis" {
  event_source_arn  = aws_kinesis_stream.clicks.arn
  function_name     = aws_lambda_function.kinesis.arn
  starting_position = "LATEST"
}

# A function outside this configuration.
resource "aws_lambda_event_source_mapping" "external" {
  event_source_arn = aws_sqs_queue.orders.arn
  function_name    = "arn:aws:lambda:us-east-1:111122223333:function:elsewhere"
}
