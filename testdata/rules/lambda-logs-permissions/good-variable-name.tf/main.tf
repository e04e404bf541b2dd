# The role's name comes from a variable without a default, and the managed policy is
# attached by that name: the attachment still belongs to the role.

variable "prefix" {
  type        = string
  description = "Prefix of every name, per environment."
}

resource "aws_iam_role" "processor" {
  name = "${var.prefix}-processor"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Action    = "sts:AssumeRole"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "basic" {
  role       = aws_iam_role.processor.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_cloudwatch_log_group" "processor" {
  name              = "/aws/lambda/${var.prefix}-processor"
  retention_in_days = 7
}

resource "aws_lambda_function" "processor" {
  function_name = "${var.prefix}-processor"
  role          = aws_iam_role.processor.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
  depends_on    = [aws_cloudwatch_log_group.processor]
}
