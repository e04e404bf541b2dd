# The same deliveries, allowed by the queues' own policy argument.
resource "aws_s3_bucket" "uploads" {
  bucket = "uploads-example"
}

data "aws_iam_policy_document" "uploads" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = ["arn:aws:sqs:*:*:uploads"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.uploads.arn]
    }
  }
}

resource "aws_sqs_queue" "uploads" {
  name   = "uploads"
  policy = data.aws_iam_policy_document.uploads.json
}

resource "aws_s3_bucket_notification" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  queue {
    queue_arn = aws_sqs_queue.uploads.arn
    events    = ["s3:ObjectCreated:*"]
  }
}

resource "aws_cloudwatch_event_rule" "nightly" {
  name                = "nightly"
  schedule_expression = "rate(1 day)"
}

resource "aws_sqs_queue" "nightly" {
  name = "nightly"
  policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = "*"
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.nightly.arn } }
    }]
  })
}

resource "aws_cloudwatch_event_target" "nightly" {
  rule = aws_cloudwatch_event_rule.nightly.name
  arn  = aws_sqs_queue.nightly.arn
}
