//! What the parser precomputes for the evaluator (lower-cased actions, a service filter, plain
//! resource patterns, parsed address ranges) gives the same answers as matching from scratch,
//! also when a policy is edited after parsing.

use iamlint_core::{FileId, Span, SymStr, Symbol, Value};
use iamlint_policy::eval::{
    Layers, MissingKeys, Outcome, Request, RequestContext, RequestPrincipal, Uncertainty, evaluate,
};
use iamlint_policy::policy::{
    Condition, LiteralResolver, Operator, Pattern, Policy, PolicyKind, parse_policy,
};
use serde_json::json;

fn policy(doc: serde_json::Value) -> Policy {
    let v = Value::from_json(&doc, Span::file_start(FileId(0)));
    let (p, problems) = parse_policy(&v, PolicyKind::Identity, &LiteralResolver);
    assert!(problems.is_empty(), "{problems:?}");
    p
}

fn request(action: &str, resource: &str, ip: &str) -> Request {
    Request {
        principal: RequestPrincipal::Arn(SymStr::lit("arn:aws:iam::111122223333:role/r")),
        action: action.into(),
        resource: SymStr::lit(resource),
        resource_account: None,
        context: RequestContext::new(MissingKeys::Absent).with("AWS:SourceIp", [ip]),
    }
}

fn outcome(p: &Policy, r: &Request) -> Outcome {
    evaluate(
        r,
        &Layers {
            identity: vec![p],
            ..Layers::default()
        },
    )
    .outcome
}

#[test]
fn actions_fold_case_and_filter_by_service() {
    let p = policy(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["SQS:Receive*", "s3:Get?bject"], "Resource": "*"},
        {"Effect": "Allow", "NotAction": ["kms:*", "iam:*"], "Resource": "arn:aws:logs:*"}
    ]}));
    let r = |action: &str, resource: &str| outcome(&p, &request(action, resource, "10.0.0.1"));
    assert_eq!(
        r("sqs:receivemessage", "arn:aws:sqs:us-east-1:111122223333:q"),
        Outcome::Allowed
    );
    assert_eq!(r("S3:GETOBJECT", "arn:aws:s3:::b/k"), Outcome::Allowed);
    assert_eq!(
        r("s3:GetObjects", "arn:aws:s3:::b/k"),
        Outcome::ImplicitlyDenied
    );
    assert_eq!(
        r("sns:Publish", "arn:aws:sns:us-east-1:111122223333:t"),
        Outcome::ImplicitlyDenied
    );
    // `NotAction` grants every other service.
    assert_eq!(
        r(
            "logs:PutLogEvents",
            "arn:aws:logs:us-east-1:111122223333:log-group:g"
        ),
        Outcome::Allowed
    );
    assert_eq!(
        r(
            "KMS:Decrypt",
            "arn:aws:logs:us-east-1:111122223333:log-group:g"
        ),
        Outcome::ImplicitlyDenied
    );
}

#[test]
fn edited_patterns_are_matched_as_edited() {
    let mut p = policy(json!({"Version": "2012-10-17", "Statement":
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:*:q"}}));
    let span = p.statements[0].span;
    let r = request("s3:GetObject", "arn:aws:s3:::b/k", "10.0.0.1");
    assert_eq!(outcome(&p, &r), Outcome::ImplicitlyDenied);
    p.statements[0].actions.patterns.push(Pattern {
        value: SymStr::lit("s3:*"),
        span,
    });
    if let Some(rs) = p.statements[0].resources.as_mut() {
        rs.patterns.push(Pattern {
            value: SymStr::lit("arn:aws:s3:::b/*"),
            span,
        });
    }
    assert_eq!(outcome(&p, &r), Outcome::Allowed);
}

#[test]
fn address_ranges() {
    let p = policy(json!({"Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": ["192.168.0.0/16", " 10.0.0.0/8 "]}}},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"]}}}
    ]}));
    let r = |ip: &str| outcome(&p, &request("s3:GetObject", "arn:aws:s3:::b", ip));
    assert_eq!(r("10.1.2.3"), Outcome::Allowed);
    assert_eq!(r("192.168.7.7"), Outcome::Allowed);
    assert_eq!(r("172.16.0.1"), Outcome::ExplicitlyDenied);
    assert_eq!(r("not an address"), Outcome::ExplicitlyDenied);
}

#[test]
fn symbolic_address_ranges_stay_unknown() {
    let mut p = policy(json!({"Statement":
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}}));
    let span = p.statements[0].span;
    let operator = Operator::parse("IpAddress").expect("operator");
    p.statements[0].conditions = vec![Condition::new(
        operator,
        "aws:SourceIp".into(),
        vec![Pattern {
            value: SymStr::sym(Symbol::Param("AllowedCidr".into())),
            span,
        }],
        span,
    )];
    let r = request("s3:GetObject", "arn:aws:s3:::b", "10.1.2.3");
    assert_eq!(outcome(&p, &r), Outcome::Unknown(Uncertainty::Condition));
}
