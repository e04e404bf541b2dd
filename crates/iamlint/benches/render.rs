//! Rendering cost per output format on a template at CloudFormation's limits: 500 resources
//! and a third as many findings. The human format must cost little more than compact.
//!
//! `cargo bench -p iamlint --bench render`. The template is written to
//! `target/tmp/render/template-500.yaml` for timing the binary on it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark set-up fails loudly"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use iamlint::cli::OutputFormat;
use iamlint::report::{self, Report};
use iamlint::run::{RunOptions, RunOutput, run};
use iamlint_rules::Selection;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;

/// A template of exactly `resources` resources: groups of a role, a function running as it
/// and a bucket the role reads. Each role grants `s3:GetObject` but no logs and no X-Ray
/// actions while its function has active tracing, so each function makes two findings
/// (IAM003, IAM007): two findings per three resources.
pub fn template(resources: usize) -> String {
    let mut out = String::from("AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n");
    let groups = resources / 3;
    for i in 0..groups {
        write!(
            out,
            r#"  Data{i}:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "data-{i}-${{AWS::AccountId}}"
  Role{i}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{ Service: lambda.amazonaws.com }}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: read-data
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                Resource: !Sub "${{Data{i}.Arn}}/*"
  Function{i}:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      MemorySize: 256
      Timeout: 30
      Role: !GetAtt Role{i}.Arn
      TracingConfig:
        Mode: Active
      Environment:
        Variables:
          BUCKET: !Ref Data{i}
      Code:
        ZipFile: |
          import os
          def handler(event, context):
              return os.environ["BUCKET"]
"#
        )
        .unwrap();
    }
    for i in groups * 3..resources {
        write!(out, "  Extra{i}:\n    Type: AWS::SQS::Queue\n").unwrap();
    }
    out
}

fn checked(resources: usize) -> RunOutput {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("render");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("template-{resources}.yaml"));
    std::fs::write(&file, template(resources)).unwrap();
    run(&RunOptions {
        paths: vec![file],
        parameters: HashMap::new(),
        terraform: Default::default(),
        rules: Selection::new(&[], &[]).unwrap(),
        ..Default::default()
    })
}

fn render(c: &mut Criterion) {
    let output = checked(500);
    assert!(
        output.diagnostics.len() >= 300,
        "{} findings",
        output.diagnostics.len()
    );
    let report = Report {
        sources: &output.sources,
        diagnostics: &output.diagnostics,
        files: output.files,
        templates: output.templates,
        filtered: &Default::default(),
    };
    let mut group = c.benchmark_group("render-500-resources");
    group.sample_size(20);
    for (name, format) in [
        ("human", OutputFormat::Human),
        ("compact", OutputFormat::Compact),
        ("json", OutputFormat::Json),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(1 << 20);
                report::write(format, &report, &report::Options { color: false }, &mut out)
                    .unwrap();
                black_box(out)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
