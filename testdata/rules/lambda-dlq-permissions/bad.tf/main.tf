# The function's dead-letter queue lets the role send in its queue policy, but Lambda's
# create-time check only looks at the execution role.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_sqs_queue" "failed" {
  name                      = "resize-failed"
  message_retention_seconds = 1209600
}

resource "aws_sqs_queue_policy" "failed" {
  queue_url = aws_sqs_queue.failed.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = aws_iam_role.resize.arn }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.failed.arn
    }]
  })
}

resource "aws_iam_role" "resize" {
  name               = "resize"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy_attachment" "resize_logs" {
  role       = aws_iam_role.resize.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_lambda_function" "resize" {
  function_name = "resize"
  role          = aws_iam_role.resize.arn
  runtime       = "nodejs20.x"
  handler       = "index.handler"
  filename      = "resize.zip"

  dead_letter_config {
    target_arn = aws_sqs_queue.failed.arn
  }
}
