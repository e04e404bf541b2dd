variable "role_arn" {
  type = string
}

resource "aws_lambda_function" "worker" {
  function_name = "worker"
  role          = var.role_arn
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "worker.zip"

  vpc_config {
    subnet_ids         = ["subnet-0a1b2c3d4e5f60718"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }
}
