# The permission names the API's management ARN (aws_api_gateway_rest_api.arn is
# arn:aws:apigateway:REGION::/restapis/ID, website/docs/r/api_gateway_rest_api.html.markdown)
# instead of its execution_arn.

resource "aws_lambda_function" "handler" {
  function_name = "handler"
  role          = "arn:aws:iam::123456789012:role/handler"
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "handler.zip"
}

resource "aws_api_gateway_rest_api" "orders" {
  name = "orders"
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.handler.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "arn:aws:apigateway:us-east-1::/restapis/${aws_api_gateway_rest_api.orders.id}/*"
}

resource "aws_lambda_permission" "stage" {
  statement_id  = "AllowStage"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.handler.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.orders.execution_arn}/prod"
}
