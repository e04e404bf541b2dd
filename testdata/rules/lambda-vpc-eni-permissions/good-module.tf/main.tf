# The execution role is built by a local module; the root attaches the function to a VPC
# but the module asks it for the VPC access policy too.

locals {
  name = "payments-sync"
  vpc = {
    subnet_ids         = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }
}

module "role" {
  source = "./lambda_role"
  name   = local.name
  managed_policies = [
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
  ]
}

resource "aws_lambda_function" "sync" {
  function_name = local.name
  role          = module.role.arn
  runtime       = "nodejs20.x"
  handler       = "index.handler"
  filename      = "${path.module}/dist/sync.zip"
  timeout       = 30

  vpc_config {
    subnet_ids         = local.vpc.subnet_ids
    security_group_ids = local.vpc.security_group_ids
  }
}
