variable "role_arn" {
  type = string
}

resource "aws_cloudwatch_log_group" "orders" {
  name = "/aws/vendedlogs/states/orders"
}

resource "aws_sfn_state_machine" "orders" {
  name     = "orders"
  role_arn = var.role_arn
  definition = jsonencode({
    StartAt = "Done"
    States  = { Done = { Type = "Succeed" } }
  })

  logging_configuration {
    log_destination = "${aws_cloudwatch_log_group.orders.arn}:*"
    level           = "ERROR"
  }
}
