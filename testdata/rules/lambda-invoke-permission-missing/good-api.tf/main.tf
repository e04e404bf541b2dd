# Both APIs may invoke the function: `${execution_arn}/*/*` covers every stage, method and path
# (`*` crosses `/`), the form the Terraform docs use
# (website/docs/r/lambda_permission.html.markdown, "Usage with API Gateway"); an integration
# with `credentials` invokes with its role; an authorizer is covered by `/authorizers/*`.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "handler" {
  name               = "handler"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_lambda_function" "handler" {
  function_name = "handler"
  role          = aws_iam_role.handler.arn
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "handler.zip"
}

resource "aws_lambda_function" "authorize" {
  function_name = "authorize"
  role          = aws_iam_role.handler.arn
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "authorize.zip"
}

resource "aws_api_gateway_rest_api" "orders" {
  name = "orders"
}

resource "aws_api_gateway_resource" "orders" {
  rest_api_id = aws_api_gateway_rest_api.orders.id
  parent_id   = aws_api_gateway_rest_api.orders.root_resource_id
  path_part   = "orders"
}

resource "aws_api_gateway_authorizer" "token" {
  name           = "token"
  rest_api_id    = aws_api_gateway_rest_api.orders.id
  authorizer_uri = aws_lambda_function.authorize.invoke_arn
}

resource "aws_lambda_permission" "authorizer" {
  statement_id  = "AllowAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.authorize.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.orders.execution_arn}/authorizers/${aws_api_gateway_authorizer.token.id}"
}

resource "aws_api_gateway_method" "get_orders" {
  rest_api_id   = aws_api_gateway_rest_api.orders.id
  resource_id   = aws_api_gateway_resource.orders.id
  http_method   = "GET"
  authorization = "CUSTOM"
  authorizer_id = aws_api_gateway_authorizer.token.id
}

resource "aws_api_gateway_integration" "get_orders" {
  rest_api_id             = aws_api_gateway_rest_api.orders.id
  resource_id             = aws_api_gateway_resource.orders.id
  http_method             = aws_api_gateway_method.get_orders.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.handler.invoke_arn
}

resource "aws_lambda_permission" "rest_api" {
  statement_id  = "AllowRestApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.handler.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.orders.execution_arn}/*/*"
}

resource "aws_apigatewayv2_api" "items" {
  name          = "items"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "items" {
  api_id                 = aws_apigatewayv2_api.items.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.handler.arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "items" {
  api_id    = aws_apigatewayv2_api.items.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.items.id}"
}

resource "aws_lambda_permission" "http_api" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.handler.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.items.execution_arn}/*/$default"
}

resource "aws_iam_role" "invoke" {
  name = "api-invoke"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "apigateway.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  inline_policy {
    name = "invoke"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = "lambda:InvokeFunction"
        Resource = aws_lambda_function.authorize.arn
      }]
    })
  }
}

resource "aws_apigatewayv2_integration" "with_role" {
  api_id           = aws_apigatewayv2_api.items.id
  integration_type = "AWS_PROXY"
  integration_uri  = aws_lambda_function.authorize.arn
  credentials_arn  = aws_iam_role.invoke.arn
}

resource "aws_apigatewayv2_route" "with_role" {
  api_id    = aws_apigatewayv2_api.items.id
  route_key = "POST /check"
  target    = "integrations/${aws_apigatewayv2_integration.with_role.id}"
}
