# The function lives in a module; the module call's depends_on orders everything in it after
# the attachment.
# https://developer.hashicorp.com/terraform/language/meta-arguments/depends_on
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "worker" {
  name               = "worker"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "vpc" {
  role       = aws_iam_role.worker.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

module "function" {
  source   = "./function"
  role_arn = aws_iam_role.worker.arn

  depends_on = [aws_iam_role_policy_attachment.vpc]
}
