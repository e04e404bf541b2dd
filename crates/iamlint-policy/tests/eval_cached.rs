//! What the parser precomputes for the evaluator (lower-cased actions, a service filter, plain
//! resource patterns, parsed address ranges, the index of statements by action) gives the same
//! answers as matching from scratch, also when a policy is edited after parsing.

use iamlint_core::{FileId, Span, SymStr, Symbol, Value};
use iamlint_policy::eval::{
    Decision, Layer, Layers, MissingKeys, Outcome, Request, RequestContext, RequestPrincipal,
    Uncertainty, evaluate,
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

/// Statements of every shape the action index files differently: exact actions, a literal first
/// letter, a wildcard first letter, `?`, `*`, a wildcard service, `NotAction`, upper case,
/// non-ASCII, and several patterns in one statement.
fn varied_statements() -> Vec<serde_json::Value> {
    let actions = [
        json!("s3:GetObject"),
        json!("s3:Get*"),
        json!("s3:*"),
        json!("S3:PUT?bject"),
        json!("*"),
        json!("s*:Get*"),
        json!("sqs:*Message"),
        json!(["sqs:SendMessage", "sqs:ReceiveMessage", "s3:ListBucket"]),
        json!("kms:Decrypt"),
        json!("kms:é*"),
        json!("sts:AssumeRole"),
        json!("iam:?etRole"),
        json!(["logs:CreateLogStream", "logs:PutLogEvents"]),
    ];
    let resources = [
        "*",
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::b",
        "arn:aws:sqs:us-east-1:111122223333:q",
        "arn:aws:kms:*:*:key/*",
    ];
    let mut out = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        for (j, resource) in resources.iter().enumerate() {
            let effect = if (i + j) % 5 == 0 { "Deny" } else { "Allow" };
            let element = if (i * 7 + j) % 11 == 0 {
                "NotAction"
            } else {
                "Action"
            };
            out.push(json!({
                "Sid": format!("S{i}x{j}"),
                "Effect": effect,
                element: action,
                "Resource": resource,
            }));
        }
    }
    out
}

fn requests() -> Vec<Request> {
    let actions = [
        "s3:GetObject",
        "s3:getobjectacl",
        "S3:PutObject",
        "s3:ListBucket",
        "sqs:SendMessage",
        "sqs:DeleteMessage",
        "sns:Publish",
        "kms:Decrypt",
        "kms:éclair",
        "sts:AssumeRole",
        "sts:GetCallerIdentity",
        "iam:GetRole",
        "iam:PassRole",
        "logs:PutLogEvents",
        "ec2:DescribeNetworkInterfaces",
        "s3:*",
        "*",
    ];
    let resources = [
        "*",
        "arn:aws:s3:::b/k",
        "arn:aws:s3:::b",
        "arn:aws:sqs:us-east-1:111122223333:q",
        "arn:aws:kms:us-east-1:111122223333:key/k",
    ];
    let mut out = Vec::new();
    for action in actions {
        for resource in resources {
            out.push(request(action, resource, "10.0.0.1"));
        }
    }
    out
}

/// A decision with each traced statement numbered across the whole statement list, so that one
/// policy and the same statements split over several policies compare equal.
fn numbered(d: &Decision, chunk: usize) -> (Outcome, Vec<Layer>, Vec<String>) {
    let trace = d
        .trace
        .iter()
        .map(|t| {
            format!(
                "{:?} #{} {:?} {:?} {:?} {}",
                t.layer,
                t.policy * chunk + t.statement,
                t.sid,
                t.effect,
                t.matched,
                t.note
            )
        })
        .collect();
    (d.outcome, d.denied_by.clone(), trace)
}

#[test]
fn indexed_policy_decides_and_traces_like_a_scan() {
    let statements = varied_statements();
    assert!(statements.len() > 32, "large enough to be indexed");
    let whole = policy(json!({"Version": "2012-10-17", "Statement": statements}));
    // Policies of 8 statements are below the size that gets an index: they are scanned.
    let chunk = 8;
    let parts: Vec<Policy> = statements
        .chunks(chunk)
        .map(|c| policy(json!({"Version": "2012-10-17", "Statement": c})))
        .collect();
    let mut compared = 0;
    for r in requests() {
        for as_boundary in [false, true] {
            let (indexed, scanned) = if as_boundary {
                let allow = policy(json!({"Statement":
                    {"Effect": "Allow", "Action": "*", "Resource": "*"}}));
                (
                    evaluate(
                        &r,
                        &Layers {
                            identity: vec![&allow],
                            boundaries: vec![&whole],
                            ..Layers::default()
                        },
                    ),
                    None,
                )
            } else {
                (
                    evaluate(
                        &r,
                        &Layers {
                            identity: vec![&whole],
                            ..Layers::default()
                        },
                    ),
                    Some(evaluate(
                        &r,
                        &Layers {
                            identity: parts.iter().collect(),
                            ..Layers::default()
                        },
                    )),
                )
            };
            if let Some(scanned) = scanned {
                assert_eq!(
                    numbered(&indexed, usize::MAX / 2),
                    numbered(&scanned, chunk),
                    "{} on {}",
                    r.action,
                    r.resource
                );
                compared += 1;
            } else {
                // The same policy evaluated again (index already built) answers the same.
                let again = evaluate(
                    &r,
                    &Layers {
                        identity: vec![&policy(json!({"Statement":
                            {"Effect": "Allow", "Action": "*", "Resource": "*"}}))],
                        boundaries: vec![&whole],
                        ..Layers::default()
                    },
                );
                assert_eq!(indexed, again);
            }
        }
    }
    assert!(compared > 50);
}

#[test]
fn edited_large_policy_is_reindexed() {
    let statements: Vec<serde_json::Value> = (0..40)
        .map(|i| json!({"Effect": "Allow", "Action": format!("sqs:Op{i}"), "Resource": "*"}))
        .collect();
    let mut p = policy(json!({"Version": "2012-10-17", "Statement": statements}));
    let r = request("s3:GetObject", "arn:aws:s3:::b/k", "10.0.0.1");
    // The first decision builds the index; the edit must not be hidden by it.
    assert_eq!(outcome(&p, &r), Outcome::ImplicitlyDenied);
    let span = p.statements[7].span;
    p.statements[7].actions.patterns.push(Pattern {
        value: SymStr::lit("s3:Get*"),
        span,
    });
    assert_eq!(outcome(&p, &r), Outcome::Allowed);
    // Through the iterator as well.
    for st in &mut p.statements {
        st.actions.patterns.clear();
    }
    assert_eq!(outcome(&p, &r), Outcome::ImplicitlyDenied);
    // Statements added after the index was built are found.
    let mut extra = p.statements[0].clone();
    extra.actions = iamlint_policy::policy::ActionSet::new(
        false,
        vec![Pattern {
            value: SymStr::lit("s3:GetObject"),
            span,
        }],
        span,
    );
    p.statements.push(extra);
    assert_eq!(outcome(&p, &r), Outcome::Allowed);
}
