variable "queue_arn" {
  type = string
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "worker" {
  statement {
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [var.queue_arn]
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = ["*"]
  }
  statement {
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["*"]
  }
}

# The boundary allows queue, log and decrypt actions.
data "aws_iam_policy_document" "boundary" {
  statement {
    actions   = ["sqs:*", "logs:*", "kms:Decrypt"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "boundary" {
  name   = "orders-worker-boundary"
  policy = data.aws_iam_policy_document.boundary.json
}

resource "aws_iam_role" "worker" {
  name                 = "orders-worker"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = aws_iam_policy.boundary.arn
}

resource "aws_iam_role_policy" "worker" {
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.worker.json
}

resource "aws_lambda_function" "worker" {
  function_name = "orders-worker"
  role          = aws_iam_role.worker.arn
  runtime       = "python3.12"
  handler       = "worker.handler"
  filename      = "build/worker.zip"
}

resource "aws_lambda_event_source_mapping" "orders" {
  event_source_arn = var.queue_arn
  function_name    = aws_lambda_function.worker.arn

  # Lambda checks that the role can read the queue when it creates the mapping (IAM039).
  depends_on = [aws_iam_role_policy.worker]
}
