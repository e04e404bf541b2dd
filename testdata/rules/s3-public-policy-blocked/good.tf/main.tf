# A CloudFront origin access control policy is not public; the bucket keeps Block Public
# Access on.
resource "aws_s3_bucket" "site" {
  bucket = "example-site-bucket"
}

resource "aws_cloudfront_origin_access_control" "site" {
  name                              = "site"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_s3_bucket_policy" "site" {
  bucket = aws_s3_bucket.site.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "cloudfront.amazonaws.com" }
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.site.arn}/*"
      Condition = {
        StringEquals = {
          "aws:SourceArn" = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE"
        }
      }
    }]
  })
}
