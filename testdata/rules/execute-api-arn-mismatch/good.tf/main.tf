# The forms of the Terraform docs (website/docs/r/lambda_permission.html.markdown, "Usage with
# API Gateway"): execution_arn followed by /*/* or /*/METHOD/path.

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

resource "aws_lambda_permission" "any" {
  statement_id  = "AllowAny"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.handler.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.orders.execution_arn}/*/*"
}

resource "aws_lambda_permission" "route" {
  statement_id  = "AllowRoute"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.handler.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.orders.execution_arn}/*/GET/orders"
}
