variable "name" {
  type = string
}

variable "managed_policies" {
  type    = list(string)
  default = ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
}

resource "aws_iam_role" "this" {
  name = "${var.name}-exec"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each   = toset(var.managed_policies)
  role       = aws_iam_role.this.name
  policy_arn = each.value
}

output "arn" {
  value = aws_iam_role.this.arn
}
