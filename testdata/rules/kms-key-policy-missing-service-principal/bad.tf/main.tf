# A key without a policy gets the default key policy (account root only), which doesn't let
# service principals use it.
# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
#   (hashicorp/terraform-provider-aws#29282: "The specified KMS key does not exist or is not
#   allowed to be used with Arn")
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "queue" {
  description = "uploads queue"
}

resource "aws_s3_bucket" "uploads" {
  bucket = "example-uploads"
}

resource "aws_sqs_queue" "uploads" {
  name              = "uploads"
  kms_master_key_id = aws_kms_key.queue.arn
}

resource "aws_s3_bucket_notification" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  queue {
    queue_arn = aws_sqs_queue.uploads.arn
    events    = ["s3:ObjectCreated:*"]
  }
}

resource "aws_kms_key" "logs" {
  description = "logs"
}

resource "aws_kms_key_policy" "logs" {
  key_id = aws_kms_key.logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Enable IAM User Permissions"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_cloudwatch_log_group" "app" {
  name       = "/app/orders"
  kms_key_id = aws_kms_key.logs.arn
}

resource "aws_cloudwatch_event_bus" "orders" {
  name               = "orders"
  kms_key_identifier = aws_kms_key.queue.arn
}
