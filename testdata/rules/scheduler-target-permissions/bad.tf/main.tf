# The schedule's execution role cannot invoke the function nor send to the dead-letter queue
# (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets.html).
resource "aws_iam_role" "function" {
  name = "cleanup"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_lambda_function" "cleanup" {
  function_name = "cleanup"
  role          = aws_iam_role.function.arn
  runtime       = "python3.12"
  handler       = "index.handler"
  filename      = "cleanup.zip"
}

resource "aws_sqs_queue" "failed" {
  name = "failed"
}

resource "aws_iam_role" "scheduler" {
  name = "scheduler"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "scheduler.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "scheduler" {
  name = "targets"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "lambda:GetFunction", Resource = aws_lambda_function.cleanup.arn }]
  })
}

resource "aws_scheduler_schedule" "hourly" {
  name                = "hourly"
  schedule_expression = "rate(1 hour)"
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_lambda_function.cleanup.arn
    role_arn = aws_iam_role.scheduler.arn
    dead_letter_config {
      arn = aws_sqs_queue.failed.arn
    }
  }
}
