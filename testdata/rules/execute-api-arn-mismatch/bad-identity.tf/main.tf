# The caller's policy names the API's management ARN (aws_api_gateway_rest_api.arn is
# arn:aws:apigateway:REGION::/restapis/ID) and the execution ARN stopped at the stage: no
# request matches either (website/docs/r/api_gateway_rest_api.html.markdown: execution_arn is
# the prefix "to be used ... with /stage/method/path").

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

resource "aws_iam_role_policy" "call" {
  role = aws_iam_role.caller.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      Action = "execute-api:Invoke"
      Resource = [
        "${aws_api_gateway_rest_api.orders.arn}/*",
        "${aws_api_gateway_rest_api.orders.execution_arn}/prod",
      ]
    }]
  })
}
