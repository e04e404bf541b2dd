# A pipe from an SQS queue to a state machine, started asynchronously (FIRE_AND_FORGET, the
# default: states:StartExecution). The role reads the queue with the permissions of
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-permissions.html but may
# not start the state machine.
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
  role_arn = aws_iam_role.machine.arn
  definition = jsonencode({
    StartAt = "Done"
    States  = { Done = { Type = "Succeed" } }
  })
}

resource "aws_iam_role" "pipe" {
  name = "pipe"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "pipes.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "source" {
  name = "source"
  role = aws_iam_role.pipe.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      Resource = aws_sqs_queue.orders.arn
    }]
  })
}

resource "aws_pipes_pipe" "orders" {
  name     = "orders"
  role_arn = aws_iam_role.pipe.arn
  source   = aws_sqs_queue.orders.arn
  target   = aws_sfn_state_machine.process.arn

  target_parameters {
    step_function_state_machine_parameters {
      invocation_type = "FIRE_AND_FORGET"
    }
  }
}
