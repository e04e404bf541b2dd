# A function attached to a VPC needs the ENI actions, which AWSLambdaVPCAccessExecutionRole grants:
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
resource "aws_iam_role" "worker" {
  name = "worker"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  }) # trusted by Lambda
}

resource "aws_lambda_function" "worker" {
  function_name = "worker"
  role          = aws_iam_role.worker.arn
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "worker.zip"
  vpc_config {
    subnet_ids         = ["subnet-0a1b2c3d4e5f60718"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }
}
