# Pipe roles with the permissions of
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-permissions.html: an SQS
# source and a state machine target started synchronously (REQUEST_RESPONSE:
# states:StartSyncExecution), an API destination enrichment
# (events:InvokeApiDestination), and a pipe whose role comes from outside the module (silent).
variable "external_role_arn" {
  type = string
}

resource "aws_sqs_queue" "orders" {
  name = "orders"
}

resource "aws_iam_role" "machine" {
  name = "machine"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "states.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_sfn_state_machine" "process" {
  name     = "process"
  type     = "EXPRESS"
  role_arn = aws_iam_role.machine.arn
  definition = jsonencode({
    StartAt = "Done"
    States  = { Done = { Type = "Succeed" } }
  })
}

resource "aws_cloudwatch_event_connection" "crm" {
  name               = "crm"
  authorization_type = "API_KEY"
  auth_parameters {
    api_key {
      key   = "x-api-key"
      value = "example"
    }
  }
}

resource "aws_cloudwatch_event_api_destination" "crm" {
  name                = "crm"
  invocation_endpoint = "https://crm.example.com/lookup"
  http_method         = "POST"
  connection_arn      = aws_cloudwatch_event_connection.crm.arn
}

resource "aws_iam_role" "pipe" {
  name = "pipe"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "pipes.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "pipe" {
  name = "pipe"
  role = aws_iam_role.pipe.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        Resource = aws_sqs_queue.orders.arn
      },
      {
        Effect   = "Allow"
        Action   = "events:InvokeApiDestination"
        Resource = aws_cloudwatch_event_api_destination.crm.arn
      },
      {
        Effect   = "Allow"
        Action   = "states:StartSyncExecution"
        Resource = aws_sfn_state_machine.process.arn
      },
    ]
  })
}

resource "aws_pipes_pipe" "orders" {
  name       = "orders"
  role_arn   = aws_iam_role.pipe.arn
  source     = aws_sqs_queue.orders.arn
  enrichment = aws_cloudwatch_event_api_destination.crm.arn
  target     = aws_sfn_state_machine.process.arn

  target_parameters {
    step_function_state_machine_parameters {
      invocation_type = "REQUEST_RESPONSE"
    }
  }
}

resource "aws_pipes_pipe" "external" {
  name     = "external"
  role_arn = var.external_role_arn
  source   = aws_sqs_queue.orders.arn
  target   = aws_sfn_state_machine.process.arn
}
