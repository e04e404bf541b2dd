# The notification is made in a child module while the queue policy it needs is made by the
# caller: the module's resources are ordered only by what they refer to, so the caller must
# order the whole module after the policy with depends_on on the module call.
# https://developer.hashicorp.com/terraform/language/meta-arguments/depends_on
resource "aws_s3_bucket" "uploads" {
  bucket = "example-uploads"
}

resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

data "aws_iam_policy_document" "jobs" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.jobs.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
  }
}

resource "aws_sqs_queue_policy" "jobs" {
  queue_url = aws_sqs_queue.jobs.id
  policy    = data.aws_iam_policy_document.jobs.json
}

module "notify" {
  source    = "./notify"
  bucket    = aws_s3_bucket.uploads.id
  queue_arn = aws_sqs_queue.jobs.arn
}
