# A queue consumer whose role can only send, and a stream reader without GetRecords.

locals {
  lambda_assume_role = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_sqs_queue" "orders" {
  name                       = "orders"
  visibility_timeout_seconds = 180
}

resource "aws_iam_role" "consumer" {
  name               = "orders-consumer"
  assume_role_policy = local.lambda_assume_role
}

resource "aws_iam_role_policy_attachment" "consumer_logs" {
  role       = aws_iam_role.consumer.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_iam_role_policy" "consumer_queue" {
  name = "queue"
  role = aws_iam_role.consumer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "sqs:SendMessage"
      Resource = aws_sqs_queue.orders.arn
    }]
  })
}

resource "aws_lambda_function" "consumer" {
  function_name = "orders-consumer"
  role          = aws_iam_role.consumer.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
  timeout       = 30
}

resource "aws_lambda_event_source_mapping" "orders" {
  event_source_arn = aws_sqs_queue.orders.arn
  function_name    = aws_lambda_function.consumer.function_name
  batch_size       = 10
}

resource "aws_kinesis_stream" "clicks" {
  name             = "clicks"
  shard_count      = 1
  retention_period = 24
}

resource "aws_iam_role" "clicks" {
  name               = "clicks-reader"
  assume_role_policy = local.lambda_assume_role
}

data "aws_iam_policy_document" "clicks" {
  statement {
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:ListShards",
    ]
    resources = [aws_kinesis_stream.clicks.arn]
  }
}

resource "aws_iam_role_policy" "clicks" {
  name   = "stream"
  role   = aws_iam_role.clicks.id
  policy = data.aws_iam_policy_document.clicks.json
}

resource "aws_lambda_function" "clicks" {
  function_name = "clicks-reader"
  role          = aws_iam_role.clicks.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

resource "aws_lambda_event_source_mapping" "clicks" {
  event_source_arn  = aws_kinesis_stream.clicks.arn
  function_name     = aws_lambda_function.clicks.arn
  starting_position = "LATEST"
}
