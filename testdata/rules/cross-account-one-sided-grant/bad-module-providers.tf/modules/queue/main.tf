resource "aws_sqs_queue" "this" {
  name = "jobs"
}

data "aws_caller_identity" "current" {}

resource "aws_sqs_queue_policy" "this" {
  queue_url = aws_sqs_queue.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "sqs:*"
      Resource  = aws_sqs_queue.this.arn
    }]
  })
}

output "arn" {
  value = aws_sqs_queue.this.arn
}
