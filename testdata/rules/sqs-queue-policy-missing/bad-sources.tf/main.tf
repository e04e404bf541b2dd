# An S3 notification and an EventBridge target to queues without a queue policy.
resource "aws_s3_bucket" "uploads" {
  bucket = "uploads-example"
}

resource "aws_sqs_queue" "uploads" {
  name = "uploads"
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
}

resource "aws_cloudwatch_event_target" "nightly" {
  rule = aws_cloudwatch_event_rule.nightly.name
  arn  = aws_sqs_queue.nightly.arn
}
