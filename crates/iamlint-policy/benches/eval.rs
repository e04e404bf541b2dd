//! One request against 20 identity policies of 10 statements, each with conditions
//! (issue 3 target: under 10 µs); and one request against a single policy of 20,000 statements
//! of which only a few can match (issue 9: cost must follow the statements that can match, not
//! the size of the policy).

use criterion::{Criterion, criterion_group, criterion_main};
use iamlint_core::{FileId, Span, SymStr, Value};
use iamlint_policy::eval::{
    Layers, MissingKeys, Request, RequestContext, RequestPrincipal, evaluate,
};
use iamlint_policy::policy::{LiteralResolver, Policy, PolicyKind, parse_policy};
use serde_json::json;
use std::hint::black_box;

fn policies() -> Vec<Policy> {
    let services = [
        "s3", "sqs", "sns", "dynamodb", "kms", "logs", "lambda", "ec2", "iam", "sts",
    ];
    (0..20)
        .map(|p| {
            let statements: Vec<serde_json::Value> = (0..10)
                .map(|s| {
                    let svc = services[(p + s) % services.len()];
                    json!({
                        "Sid": format!("S{p}x{s}"),
                        "Effect": if s == 9 { "Deny" } else { "Allow" },
                        "Action": [format!("{svc}:Get*"), format!("{svc}:Put*"), format!("{svc}:List*")],
                        "Resource": [format!("arn:aws:{svc}:us-east-1:111122223333:thing-{p}-{s}/*"), format!("arn:aws:{svc}:*:*:shared/*")],
                        "Condition": {
                            "StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]},
                            "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                            "Bool": {"aws:SecureTransport": "true"}
                        }
                    })
                })
                .collect();
            let doc = json!({"Version": "2012-10-17", "Statement": statements});
            let v = Value::from_json(&doc, Span::file_start(FileId(0)));
            parse_policy(&v, PolicyKind::Identity, &LiteralResolver).0
        })
        .collect()
}

/// One policy of `n` statements over 25 services: nine in ten grant one named action, one in
/// ten a `Get*` wildcard of its service, each on its own resource, so that a request names the
/// action of a few statements only.
fn large_policy(n: usize) -> Policy {
    let services = [
        "s3",
        "sqs",
        "sns",
        "dynamodb",
        "kms",
        "logs",
        "lambda",
        "ec2",
        "iam",
        "sts",
        "ecr",
        "ecs",
        "states",
        "events",
        "kinesis",
        "firehose",
        "glue",
        "athena",
        "rds",
        "ssm",
        "secretsmanager",
        "cloudwatch",
        "xray",
        "apigateway",
        "elasticfilesystem",
    ];
    let statements: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let svc = services[i % services.len()];
            let action = if i % 10 == 0 {
                format!("{svc}:Get*")
            } else {
                format!("{svc}:Operation{}", i % 997)
            };
            json!({
                "Effect": "Allow",
                "Action": action,
                "Resource": format!("arn:aws:{svc}:us-east-1:111122223333:thing-{i}/*"),
            })
        })
        .collect();
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    let v = Value::from_json(&doc, Span::file_start(FileId(0)));
    parse_policy(&v, PolicyKind::Identity, &LiteralResolver).0
}

fn bench_large(c: &mut Criterion) {
    let policy = large_policy(20_000);
    let layers = Layers {
        identity: vec![&policy],
        ..Layers::default()
    };
    // `s3:Operation25` is named by statement 25 alone; 400 more grant `s3:Get*`.
    let request = Request {
        principal: RequestPrincipal::Arn(SymStr::lit(
            "arn:aws:sts::111122223333:assumed-role/app/s",
        )),
        action: "s3:Operation25".into(),
        resource: SymStr::lit("arn:aws:s3:us-east-1:111122223333:thing-25/key"),
        resource_account: None,
        context: RequestContext::new(MissingKeys::Absent),
    };
    assert!(evaluate(&request, &layers).outcome == iamlint_policy::eval::Outcome::Allowed);
    c.bench_function("evaluate 1 policy x 20000 statements, few match", |b| {
        b.iter(|| evaluate(black_box(&request), black_box(&layers)))
    });
}

fn bench(c: &mut Criterion) {
    let policies = policies();
    let layers = Layers {
        identity: policies.iter().collect(),
        ..Layers::default()
    };
    let context = RequestContext::new(MissingKeys::Absent)
        .with("aws:RequestedRegion", ["us-east-1"])
        .with("aws:SourceIp", ["10.1.2.3"])
        .with("aws:SecureTransport", ["true"]);
    let request = Request {
        principal: RequestPrincipal::Arn(SymStr::lit(
            "arn:aws:sts::111122223333:assumed-role/app/s",
        )),
        action: "s3:GetObject".into(),
        resource: SymStr::lit("arn:aws:s3:us-east-1:111122223333:shared/key"),
        resource_account: None,
        context,
    };
    c.bench_function("evaluate 20 policies x 10 statements", |b| {
        b.iter(|| evaluate(black_box(&request), black_box(&layers)))
    });
}

criterion_group!(benches, bench, bench_large);
criterion_main!(benches);
