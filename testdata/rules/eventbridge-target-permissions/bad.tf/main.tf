# The event target's role may start the state machine but cannot write to the Kinesis stream
# (kinesis:PutRecord, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-iam-roles.html).
resource "aws_kinesis_stream" "events" {
  name        = "events"
  shard_count = 1
}

resource "aws_iam_role" "machine" {
  name = "machine"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "states.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_sfn_state_machine" "report" {
  name     = "report"
  role_arn = aws_iam_role.machine.arn
  definition = jsonencode({
    StartAt = "Done"
    States  = { Done = { Type = "Succeed" } }
  })
}

resource "aws_iam_role" "events" {
  name = "events"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "events.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "events" {
  name = "targets"
  role = aws_iam_role.events.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "states:StartExecution", Resource = aws_sfn_state_machine.report.arn }]
  })
}

resource "aws_cloudwatch_event_rule" "nightly" {
  name                = "nightly"
  schedule_expression = "rate(1 day)"
}

resource "aws_cloudwatch_event_target" "report" {
  rule     = aws_cloudwatch_event_rule.nightly.name
  arn      = aws_sfn_state_machine.report.arn
  role_arn = aws_iam_role.events.arn
}

resource "aws_cloudwatch_event_target" "stream" {
  rule     = aws_cloudwatch_event_rule.nightly.name
  arn      = aws_kinesis_stream.events.arn
  role_arn = aws_iam_role.events.arn
  kinesis_target {
    partition_key_path = "$.id"
  }
}
