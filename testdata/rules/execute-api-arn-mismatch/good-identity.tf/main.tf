# The caller's policy grants the execution ARN for every stage, method and path.

resource "aws_api_gateway_rest_api" "orders" {
  name = "orders"
}

resource "aws_iam_role" "caller" {
  name = "caller"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

data "aws_iam_policy_document" "call" {
  statement {
    actions   = ["execute-api:Invoke"]
    resources = ["${aws_api_gateway_rest_api.orders.execution_arn}/*"]
  }
}

resource "aws_iam_role_policy" "call" {
  role   = aws_iam_role.caller.id
  policy = data.aws_iam_policy_document.call.json
}
