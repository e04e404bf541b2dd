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
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("shared_role");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("template.yaml");
    std::fs::write(&file, template).unwrap();
    let output = run(&RunOptions {
        paths: vec![file],
        parameters: HashMap::new(),
        terraform: Default::default(),
        rules: Selection::new(&[], &[]).unwrap(),
    });
    let mut by_code: HashMap<&str, usize> = HashMap::new();
    for d in &output.diagnostics {
        *by_code.entry(d.code).or_default() += 1;
    }
    for code in ["IAM001", "IAM003", "IAM007"] {
        assert_eq!(by_code.get(code), Some(&1), "{code}: {by_code:?}");
    }
    let logs = output
        .diagnostics
        .iter()
        .find(|d| d.code == "IAM003")
        .unwrap();
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
