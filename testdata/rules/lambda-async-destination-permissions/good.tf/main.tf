# Destinations the function's role can deliver to: an asynchronous invoke configuration and
# an event source mapping's on-failure destination.

resource "aws_sns_topic" "succeeded" {
  name = "import-succeeded"
}

resource "aws_sqs_queue" "failed" {
  name = "import-failed"
}

resource "aws_s3_bucket" "records" {
  bucket = "acme-import-failures"
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "destinations" {
  statement {
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.succeeded.arn]
  }

  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failed.arn]
  }

  statement {
    actions = ["s3:PutObject", "s3:ListBucket"]
    resources = [
      aws_s3_bucket.records.arn,
      "${aws_s3_bucket.records.arn}/failures/*",
    ]
  }
}

resource "aws_iam_role" "importer" {
  name               = "importer"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy_attachment" "importer_basic" {
  role       = aws_iam_role.importer.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_iam_policy" "destinations" {
  name   = "importer-destinations"
  policy = data.aws_iam_policy_document.destinations.json
}

resource "aws_iam_role_policy_attachment" "importer_destinations" {
  role       = aws_iam_role.importer.name
  policy_arn = aws_iam_policy.destinations.arn
}

resource "aws_lambda_function" "importer" {
  function_name = "importer"
  role          = aws_iam_role.importer.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
}

resource "aws_lambda_function_event_invoke_config" "importer" {
  function_name = aws_lambda_function.importer.function_name

  destination_config {
    on_success {
      destination = aws_sns_topic.succeeded.arn
    }

    on_failure {
      destination = aws_sqs_queue.failed.arn
    }
  }
}

resource "aws_kinesis_stream" "imports" {
  name        = "imports"
  shard_count = 1
}

resource "aws_iam_role_policy_attachment" "importer_kinesis" {
  role       = aws_iam_role.importer.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole"
}

resource "aws_lambda_event_source_mapping" "imports" {
  event_source_arn  = aws_kinesis_stream.imports.arn
  function_name     = aws_lambda_function.importer.arn
  starting_position = "LATEST"

  destination_config {
    on_failure {
      destination_arn = aws_s3_bucket.records.arn
    }
  }
}
