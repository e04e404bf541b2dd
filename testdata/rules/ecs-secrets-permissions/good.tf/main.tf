# The execution role reads the secret and decrypts it with its key; the container definitions
# are a heredoc.

resource "aws_kms_key" "secrets" {
  description         = "Application secrets"
  enable_key_rotation = true
}

resource "aws_secretsmanager_secret" "db" {
  name       = "orders/database"
  kms_key_id = aws_kms_key.secrets.arn
}

resource "aws_iam_role" "execution" {
  name = "orders-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "secrets" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.db.arn]
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.secrets.arn]
  }
  statement {
    actions   = ["ssm:GetParameters"]
    resources = ["arn:aws:ssm:*:*:parameter/orders/*"]
  }
}

resource "aws_iam_role_policy" "secrets" {
  role   = aws_iam_role.execution.id
  name   = "secrets"
  policy = data.aws_iam_policy_document.secrets.json
}

resource "aws_ecs_task_definition" "orders" {
  family                   = "orders"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions    = <<JSON
[
  {
    "name": "web",
    "image": "nginx:1.27",
    "secrets": [
      { "name": "DB_PASSWORD", "valueFrom": "${aws_secretsmanager_secret.db.arn}:password::" },
      { "name": "API_TOKEN", "valueFrom": "/orders/api-token" }
    ]
  }
]
JSON
}
