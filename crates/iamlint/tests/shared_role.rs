//! One root cause, one finding: a role shared by many functions that lacks a permission is
//! reported once, at the role, naming every function.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

use iamlint::run::{RunOptions, run};
use iamlint_rules::Selection;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Checks `template` (written to a folder named `name`) with every rule.
fn check(name: &str, template: String) -> Vec<iamlint_core::Diagnostic> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("template.yaml");
    std::fs::write(&file, template).unwrap();
    run(&RunOptions {
        paths: vec![file],
        parameters: HashMap::new(),
        terraform: Default::default(),
        rules: Selection::new(&[], &[]).unwrap(),
        ..Default::default()
    })
    .diagnostics
}

#[test]
fn a_role_shared_by_two_thousand_functions_makes_one_finding_per_rule() {
    let mut template = String::from(
        r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Shared:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
      Policies:
        - PolicyName: nothing-useful
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: s3:ListAllMyBuckets
                Resource: "*"
"#,
    );
    for i in 0..2000 {
        write!(
            template,
            "  Fn{i}:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python3.12\n      Handler: index.handler\n      Role: !GetAtt Shared.Arn\n      Code: {{ ZipFile: \"x\" }}\n      TracingConfig: {{ Mode: Active }}\n      VpcConfig: {{ SubnetIds: [subnet-1], SecurityGroupIds: [sg-1] }}\n"
        )
        .unwrap();
    }
    let diagnostics = check("shared_role", template);
    let mut by_code: HashMap<&str, usize> = HashMap::new();
    for d in &diagnostics {
        *by_code.entry(d.code).or_default() += 1;
    }
    for code in ["IAM001", "IAM003", "IAM007"] {
        assert_eq!(by_code.get(code), Some(&1), "{code}: {by_code:?}");
    }
    let logs = diagnostics.iter().find(|d| d.code == "IAM003").unwrap();
    assert!(logs.message.contains("Fn1, Fn2"), "{}", logs.message);
    assert!(logs.message.ends_with("Fn1999."), "{}", logs.message);
    // Many default log groups: the suggested statement names them with one wildcard.
    assert!(
        logs.help
            .as_deref()
            .unwrap()
            .contains("log-group:/aws/lambda/*:*"),
        "{:?}",
        logs.help
    );
}

/// A permissions boundary that leaves the logs actions out for a role shared by many
/// functions: one IAM030 finding at the boundary, whose statement covers every function's log
/// group (each function needs its own group's streams).
#[test]
fn a_boundary_limiting_a_shared_role_makes_one_finding() {
    let mut template = String::from(
        r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Boundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: s3:*
            Resource: "*"
  Shared:
    Type: AWS::IAM::Role
    Properties:
      PermissionsBoundary: !Ref Boundary
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
      Policies:
        - PolicyName: logs
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents]
                Resource: "*"
"#,
    );
    for i in 0..50 {
        write!(
            template,
            "  Fn{i}:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python3.12\n      Handler: index.handler\n      Role: !GetAtt Shared.Arn\n      Code: {{ ZipFile: \"x\" }}\n"
        )
        .unwrap();
    }
    let diagnostics = check("shared_boundary", template);
    let boundary: Vec<_> = diagnostics.iter().filter(|d| d.code == "IAM030").collect();
    assert_eq!(boundary.len(), 1, "{boundary:#?}");
    assert!(
        boundary[0].message.contains("Fn49."),
        "{}",
        boundary[0].message
    );
}

/// An explicit deny taking a shared role's network-interface actions away from functions in a
/// VPC: one IAM029 finding at the deny.
#[test]
fn an_explicit_deny_on_a_shared_role_makes_one_finding() {
    let mut template = String::from(
        r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Shared:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
      Policies:
        - PolicyName: logs
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents, ec2:*]
                Resource: "*"
              - Effect: Deny
                Action: ec2:CreateNetworkInterface
                Resource: "*"
"#,
    );
    for i in 0..50 {
        write!(
            template,
            "  Fn{i}:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python3.12\n      Handler: index.handler\n      Role: !GetAtt Shared.Arn\n      Code: {{ ZipFile: \"x\" }}\n      VpcConfig: {{ SubnetIds: [subnet-1], SecurityGroupIds: [sg-1] }}\n"
        )
        .unwrap();
    }
    let diagnostics = check("shared_deny", template);
    let deny: Vec<_> = diagnostics.iter().filter(|d| d.code == "IAM029").collect();
    assert_eq!(deny.len(), 1, "{deny:#?}");
}
