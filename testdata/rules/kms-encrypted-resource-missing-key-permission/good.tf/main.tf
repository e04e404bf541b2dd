# Consumers of encrypted queues that can use the keys: a customer managed key the role may
# decrypt with, the AWS managed key for SQS, and SSE-SQS (no KMS at all).

resource "aws_kms_key" "orders" {
  description         = "orders queue"
  enable_key_rotation = true
}

resource "aws_sqs_queue" "orders" {
  name              = "orders"
  kms_master_key_id = aws_kms_key.orders.id
}

resource "aws_sqs_queue" "audit" {
  name              = "audit"
  kms_master_key_id = "alias/aws/sqs"
}

resource "aws_sqs_queue" "events" {
  name                    = "events"
  sqs_managed_sse_enabled = true
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

resource "aws_iam_role" "consumer" {
  name               = "queue-consumer"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy_attachment" "consumer_sqs" {
  role       = aws_iam_role.consumer.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
}

data "aws_iam_policy_document" "consumer_kms" {
  statement {
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.orders.arn]
  }
}

resource "aws_iam_role_policy" "consumer_kms" {
  name   = "decrypt"
  role   = aws_iam_role.consumer.id
  policy = data.aws_iam_policy_document.consumer_kms.json
}

resource "aws_lambda_function" "consumer" {
  function_name = "queue-consumer"
  role          = aws_iam_role.consumer.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

resource "aws_lambda_event_source_mapping" "queues" {
  for_each = {
    orders = aws_sqs_queue.orders.arn
    audit  = aws_sqs_queue.audit.arn
    events = aws_sqs_queue.events.arn
  }
  event_source_arn = each.value
  function_name    = aws_lambda_function.consumer.arn
}
