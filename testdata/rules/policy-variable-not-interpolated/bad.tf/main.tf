# Terraform escapes IAM policy variables as `$${...}`; in a document without
# Version "2012-10-17" IAM takes them literally.
resource "aws_iam_policy" "home" {
  name = "home-directories"
  policy = jsonencode({
    Statement = [{
      Effect   = "Allow"
      Action   = "s3:PutObject"
      Resource = "arn:aws:s3:::shared-bucket/home/$${aws:username}/*"
    }]
  })
}
