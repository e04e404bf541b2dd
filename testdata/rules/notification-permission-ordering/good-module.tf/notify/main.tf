variable "bucket" {
  type = string
}

variable "queue_arn" {
  type = string
}

resource "aws_s3_bucket_notification" "this" {
  bucket = var.bucket

  queue {
    queue_arn = var.queue_arn
    events    = ["s3:ObjectCreated:*"]
  }
}
