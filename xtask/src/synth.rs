//! `cargo xtask synth N [DIR]`: writes a synthetic repository of N units — CloudFormation YAML
//! and JSON templates, SAM templates and Terraform root modules (each with a local module) — in
//! the shapes real repositories have: roles with inline and managed policies, functions in VPCs
//! with queues, event sources, encrypted queues and keys, buckets and their policies, and a
//! realistic share of the mistakes iamlint reports. The same N always gives the same files
//! (a fixed pseudo-random sequence), so measurements can be repeated.
//!
//! Units are spread over folders of 500 so that no folder is unreasonably large.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let n: usize = args
        .first()
        .ok_or("usage: cargo xtask synth N [DIR]")?
        .replace('_', "")
        .parse()
        .map_err(|e| format!("N: {e}"))?;
    let dir = args
        .get(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(format!("target/synth-{n}")));
    let (files, bytes) = write(&dir, n)?;
    println!(
        "{n} units ({files} files, {:.1} MB) in {}",
        bytes as f64 / 1e6,
        dir.display()
    );
    Ok(())
}

/// Writes `n` units below `dir` (emptied first); returns the number of files and bytes.
pub fn write(dir: &Path, n: usize) -> Result<(usize, u64), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut rng = Rng(0x1a31_1e57 ^ n as u64);
    let mut files = 0;
    let mut bytes = 0u64;
    let mut put = |path: PathBuf, text: String| -> Result<(), String> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        bytes += text.len() as u64;
        files += 1;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    for i in 0..n {
        let group = dir.join(format!("group-{:04}", i / 500));
        match i % 5 {
            0 | 1 => put(group.join(format!("stack-{i}.yaml")), cfn_yaml(i, &mut rng))?,
            2 => put(group.join(format!("stack-{i}.json")), cfn_json(i, &mut rng))?,
            3 => put(
                group.join(format!("sam-{i}/template.yaml")),
                sam(i, &mut rng),
            )?,
            _ => {
                let unit = group.join(format!("tf-{i}"));
                let (main, module) = terraform(i, &mut rng);
                put(unit.join("main.tf"), main)?;
                put(unit.join("modules/worker/main.tf"), module)?;
            }
        }
    }
    Ok((files, bytes))
}

/// A CloudFormation YAML template: a VPC function with a queue event source, a bucket and a
/// managed policy; sometimes missing the ENI actions, granting ListBucket on objects, or naming
/// a secret without its suffix.
fn cfn_yaml(i: usize, rng: &mut Rng) -> String {
    let eni = if rng.chance(85) {
        "                  - ec2:CreateNetworkInterface\n                  - ec2:DescribeNetworkInterfaces\n                  - ec2:DeleteNetworkInterface\n"
    } else {
        ""
    };
    let list_resource = if rng.chance(90) {
        "!GetAtt Bucket.Arn"
    } else {
        "!Sub '${Bucket.Arn}/*'"
    };
    let secret = if rng.chance(90) {
        format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:app-{i}-AbCdEf")
    } else {
        format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:app-{i}")
    };
    let mut extra = String::new();
    for k in 0..rng.below(6) {
        let _ = write!(
            extra,
            r"  Table{k}:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: pk
          AttributeType: S
      KeySchema:
        - AttributeName: pk
          KeyType: HASH
"
        );
    }
    format!(
        r"AWSTemplateFormatVersion: '2010-09-09'
Description: synthetic service {i}
Parameters:
  SubnetId:
    Type: AWS::EC2::Subnet::Id
  SecurityGroupId:
    Type: AWS::EC2::SecurityGroup::Id
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 120
  Bucket:
    Type: AWS::S3::Bucket
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              Service: lambda.amazonaws.com
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
      Policies:
        - PolicyName: app
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action:
                  - sqs:ReceiveMessage
                  - sqs:DeleteMessage
                  - sqs:GetQueueAttributes
{eni}                Resource: '*'
              - Effect: Allow
                Action: s3:ListBucket
                Resource: {list_resource}
              - Effect: Allow
                Action: s3:GetObject
                Resource: !Sub '${{Bucket.Arn}}/*'
              - Effect: Allow
                Action: secretsmanager:GetSecretValue
                Resource: {secret}
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: 'def handler(event, context): return None'
      VpcConfig:
        SubnetIds:
          - !Ref SubnetId
        SecurityGroupIds:
          - !Ref SecurityGroupId
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Function
      EventSourceArn: !GetAtt Queue.Arn
{extra}Outputs:
  FunctionArn:
    Value: !GetAtt Function.Arn
"
    )
}

/// A CloudFormation JSON template: a KMS key, an encrypted queue and a consumer whose role may
/// lack `kms:Decrypt`.
fn cfn_json(i: usize, rng: &mut Rng) -> String {
    let decrypt = if rng.chance(85) {
        r#", {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Fn::GetAtt": ["Key", "Arn"]}}"#
    } else {
        ""
    };
    format!(
        r#"{{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Description": "synthetic consumer {i}",
  "Resources": {{
    "Key": {{
      "Type": "AWS::KMS::Key",
      "Properties": {{
        "KeyPolicy": {{
          "Version": "2012-10-17",
          "Statement": [{{
            "Effect": "Allow",
            "Principal": {{"AWS": {{"Fn::Sub": "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:root"}}}},
            "Action": "kms:*",
            "Resource": "*"
          }}]
        }}
      }}
    }},
    "Queue": {{
      "Type": "AWS::SQS::Queue",
      "Properties": {{"KmsMasterKeyId": {{"Ref": "Key"}}}}
    }},
    "Role": {{
      "Type": "AWS::IAM::Role",
      "Properties": {{
        "AssumeRolePolicyDocument": {{
          "Version": "2012-10-17",
          "Statement": [{{"Effect": "Allow", "Principal": {{"Service": "lambda.amazonaws.com"}}, "Action": "sts:AssumeRole"}}]
        }},
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
        "Policies": [{{
          "PolicyName": "consume",
          "PolicyDocument": {{
            "Version": "2012-10-17",
            "Statement": [
              {{"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], "Resource": {{"Fn::GetAtt": ["Queue", "Arn"]}}}}{decrypt}
            ]
          }}
        }}]
      }}
    }},
    "Function": {{
      "Type": "AWS::Lambda::Function",
      "Properties": {{
        "Runtime": "nodejs20.x",
        "Handler": "index.handler",
        "Role": {{"Fn::GetAtt": ["Role", "Arn"]}},
        "Code": {{"ZipFile": "exports.handler = async () => null;"}}
      }}
    }},
    "Mapping": {{
      "Type": "AWS::Lambda::EventSourceMapping",
      "Properties": {{
        "FunctionName": {{"Ref": "Function"}},
        "EventSourceArn": {{"Fn::GetAtt": ["Queue", "Arn"]}}
      }}
    }}
  }}
}}
"#
    )
}

/// A SAM template: functions with policy templates, an API and a table with an index.
fn sam(i: usize, rng: &mut Rng) -> String {
    let index_arn = if rng.chance(80) {
        "\n                  - !Sub '${Table.Arn}/index/*'"
    } else {
        ""
    };
    let mut functions = String::new();
    for k in 0..1 + rng.below(4) {
        let _ = write!(
            functions,
            r"  Handler{k}:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler{k}
      Policies:
        - SQSSendMessagePolicy:
            QueueName: !GetAtt Queue.QueueName
        - Statement:
            - Effect: Allow
              Action:
                - dynamodb:Query
              Resource:
                - !GetAtt Table.Arn{index_arn}
      Events:
        Get:
          Type: Api
          Properties:
            Path: /items/{k}
            Method: get
"
        );
    }
    format!(
        r"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: synthetic API {i}
Globals:
  Function:
    Runtime: python3.12
    CodeUri: src/
    Tracing: Active
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: pk
          AttributeType: S
        - AttributeName: sk
          AttributeType: S
      KeySchema:
        - AttributeName: pk
          KeyType: HASH
      GlobalSecondaryIndexes:
        - IndexName: by-sk
          KeySchema:
            - AttributeName: sk
              KeyType: HASH
          Projection:
            ProjectionType: ALL
{functions}"
    )
}

/// A Terraform root module and the local module it calls: a role and policy document, a
/// function in a VPC, a queue with its event source mapping, a bucket with a notification.
fn terraform(i: usize, rng: &mut Rng) -> (String, String) {
    let eni = if rng.chance(85) {
        r#"
  statement {
    actions   = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"]
    resources = ["*"]
  }
"#
    } else {
        ""
    };
    let workers = 1 + rng.below(3);
    let main = format!(
        r#"terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws", version = "~> 5.0" }}
  }}
}}

variable "subnet_ids" {{
  type    = list(string)
  default = ["subnet-0a1b2c3d"]
}}

variable "env" {{
  type    = string
  default = "dev"
}}

locals {{
  name = "svc-{i}-${{var.env}}"
  tags = {{ service = "svc-{i}", env = var.env }}
}}

resource "aws_security_group" "fn" {{
  name   = "${{local.name}}-fn"
  vpc_id = "vpc-0123456789abcdef0"
  tags   = local.tags
}}

data "aws_iam_policy_document" "assume" {{
  statement {{
    actions = ["sts:AssumeRole"]
    principals {{
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }}
  }}
}}

data "aws_iam_policy_document" "fn" {{
  statement {{
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.jobs.arn]
  }}
  statement {{
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${{aws_cloudwatch_log_group.fn.arn}}:*"]
  }}
{eni}}}

resource "aws_iam_role" "fn" {{
  name               = local.name
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}}

resource "aws_iam_role_policy" "fn" {{
  role   = aws_iam_role.fn.id
  policy = data.aws_iam_policy_document.fn.json
}}

resource "aws_cloudwatch_log_group" "fn" {{
  name              = "/aws/lambda/${{local.name}}"
  retention_in_days = 14
}}

resource "aws_sqs_queue" "jobs" {{
  name                       = "${{local.name}}-jobs"
  visibility_timeout_seconds = 120
}}

resource "aws_lambda_function" "fn" {{
  function_name = local.name
  role          = aws_iam_role.fn.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "build/app.zip"
  vpc_config {{
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.fn.id]
  }}
  depends_on = [aws_iam_role_policy.fn, aws_cloudwatch_log_group.fn]
}}

resource "aws_lambda_event_source_mapping" "jobs" {{
  function_name    = aws_lambda_function.fn.arn
  event_source_arn = aws_sqs_queue.jobs.arn
}}

module "worker" {{
  source = "./modules/worker"
  count  = {workers}
  name   = "${{local.name}}-w${{count.index}}"
  queue  = aws_sqs_queue.jobs.arn
}}
"#
    );
    let module = r#"variable "name" {
  type = string
}

variable "queue" {
  type = string
}

resource "aws_iam_role" "worker" {
  name = var.name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "worker" {
  role = aws_iam_role.worker.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = var.queue
    }]
  })
}

output "role_arn" {
  value = aws_iam_role.worker.arn
}
"#
    .to_string();
    (main, module)
}
