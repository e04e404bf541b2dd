resource "aws_dynamodb_table" "events" {
  name             = "events"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "id"
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"

  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_iam_role" "fn" {
  name               = "stream-reader"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.fn.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_iam_role_policy" "stream" {
  name = "stream"
  role = aws_iam_role.fn.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      Action = [
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:DescribeStream",
        "dynamodb:ListStreams",
      ]
      Resource = aws_dynamodb_table.events.arn
    }]
  })
}

resource "aws_lambda_function" "fn" {
  function_name = "stream-reader"
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "app.zip"
  role          = aws_iam_role.fn.arn
}

resource "aws_lambda_event_source_mapping" "events" {
  function_name     = aws_lambda_function.fn.function_name
  event_source_arn  = aws_dynamodb_table.events.stream_arn
  starting_position = "LATEST"
}
