//! The evaluator on random policies and requests: it never panics, and a policy evaluated whole
//! (indexed by action once it has 16 statements or more) gives the same outcome as the same
//! statements split over several small policies (scanned statement by statement) — AWS unions
//! the statements of a principal's identity policies, so the two must agree.
#![no_main]

use arbitrary::Arbitrary;
use iamlint_core::{FileId, Span, SymStr, Value};
use iamlint_policy::eval::{
    Layers, MissingKeys, Request, RequestContext, RequestPrincipal, evaluate,
};
use iamlint_policy::policy::{LiteralResolver, Policy, PolicyKind, parse_policy};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value as Json, json};

const ACTIONS: &[&str] = &[
    "*", "s3:*", "s3:GetObject", "s3:Get*", "S3:getobject", "s3:?etObject", "s3:ListBucket",
    "s3:List*", "sqs:SendMessage", "sqs:Send*", "sqs:*", "kms:Decrypt", "kms:*", "kms:Gen*",
    "dynamodb:Query", "dynamodb:*Item", "ec2:CreateNetworkInterface", "ec2:*NetworkInterface*",
    "logs:PutLogEvents", "iam:PassRole", "sts:AssumeRole", "*:*", "s3:Get?bject*", "lambda:*",
];
const RESOURCES: &[&str] = &[
    "*", "arn:aws:s3:::b/*", "arn:aws:s3:::b", "arn:aws:s3:::b*", "arn:aws:s3:::*/k",
    "arn:aws:sqs:us-east-1:111122223333:q", "arn:aws:sqs:*:*:*", "arn:aws:sqs:*:111122223333:q?",
    "arn:aws:kms:us-east-1:111122223333:key/k", "arn:aws:kms:*:*:key/*",
    "arn:aws:dynamodb:us-east-1:111122223333:table/t", "arn:aws:dynamodb:us-east-1:111122223333:table/t/index/*",
    "arn:aws:s3:::b/${aws:username}/*", "arn:aws:logs:us-east-1:111122223333:log-group:g:*",
    "arn:aws:iam::111122223333:role/*", "arn:*:*:*:*:*",
];
const KEYS: &[&str] = &[
    "aws:SourceIp", "aws:SourceArn", "aws:SourceAccount", "aws:username", "s3:prefix",
    "aws:SecureTransport", "aws:PrincipalTag/team", "kms:ViaService", "aws:CurrentTime",
];
const OPERATORS: &[&str] = &[
    "StringEquals", "StringLike", "StringNotEquals", "StringNotLike", "ArnLike", "ArnEquals",
    "IpAddress", "NotIpAddress", "Bool", "Null", "NumericLessThan", "DateGreaterThan",
    "StringEqualsIgnoreCase", "ForAnyValue:StringLike", "ForAllValues:StringEquals",
    "StringLikeIfExists", "ArnNotLike",
];
const VALUES: &[&str] = &[
    "10.0.0.0/8", "10.0.0.1", "192.168.0.0/16", "true", "false", "111122223333", "alice", "a*",
    "arn:aws:s3:::b", "arn:aws:sns:*:*:t", "home/*", "2020-01-01T00:00:00Z", "42", "",
    "sqs.us-east-1.amazonaws.com", "*", "${aws:username}",
];

#[derive(Arbitrary, Debug)]
struct Stmt {
    deny: bool,
    not_action: bool,
    actions: Vec<u8>,
    not_resource: bool,
    resources: Vec<u8>,
    conditions: Vec<(u8, u8, Vec<u8>)>,
}

#[derive(Arbitrary, Debug)]
struct Req {
    action: u8,
    resource: u8,
    context: Vec<(u8, u8)>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    statements: Vec<Stmt>,
    requests: Vec<Req>,
}

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

fn one_or_many(items: Vec<Json>) -> Json {
    if items.len() == 1 { items.into_iter().next().unwrap_or(Json::Null) } else { Json::Array(items) }
}

fn statement(s: &Stmt) -> Json {
    let mut st = serde_json::Map::new();
    st.insert("Effect".into(), json!(if s.deny { "Deny" } else { "Allow" }));
    let actions: Vec<Json> = s.actions.iter().take(4).map(|&i| json!(pick(ACTIONS, i))).collect();
    let actions = if actions.is_empty() { json!("*") } else { one_or_many(actions) };
    st.insert(if s.not_action { "NotAction" } else { "Action" }.into(), actions);
    let resources: Vec<Json> =
        s.resources.iter().take(4).map(|&i| json!(pick(RESOURCES, i))).collect();
    let resources = if resources.is_empty() { json!("*") } else { one_or_many(resources) };
    st.insert(if s.not_resource { "NotResource" } else { "Resource" }.into(), resources);
    if !s.conditions.is_empty() {
        let mut block = serde_json::Map::new();
        for (op, key, values) in s.conditions.iter().take(3) {
            let values: Vec<Json> = values.iter().take(3).map(|&v| json!(pick(VALUES, v))).collect();
            let entry = block
                .entry(pick(OPERATORS, *op).to_string())
                .or_insert_with(|| json!({}));
            if let Some(map) = entry.as_object_mut() {
                map.insert(pick(KEYS, *key).to_string(), one_or_many(values));
            }
        }
        st.insert("Condition".into(), Json::Object(block));
    }
    Json::Object(st)
}

fn policy(statements: &[Json]) -> Policy {
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    let value = Value::from_json(&doc, Span::file_start(FileId(0)));
    parse_policy(&value, PolicyKind::Identity, &LiteralResolver).0
}

fuzz_target!(|input: Input| {
    let mut statements: Vec<Json> = input.statements.iter().take(40).map(statement).collect();
    // Enough statements for the whole policy to be indexed by action (16 or more).
    while statements.len() < 17 {
        statements.push(json!({"Effect": "Allow", "Action": "ec2:DescribeNothing",
                               "Resource": "arn:aws:ec2:us-east-1:111122223333:nothing/x"}));
    }
    let whole = policy(&statements);
    let parts: Vec<Policy> = statements.chunks(5).map(policy).collect();
    for r in input.requests.iter().take(8) {
        let mut context = RequestContext::new(MissingKeys::Absent);
        for (k, v) in r.context.iter().take(4) {
            context.insert(pick(KEYS, *k), [pick(VALUES, *v)]);
        }
        let request = Request {
            principal: RequestPrincipal::Arn(SymStr::lit("arn:aws:iam::111122223333:user/alice")),
            action: pick(ACTIONS, r.action).replace(['*', '?'], "x"),
            resource: SymStr::lit(pick(RESOURCES, r.resource).replace(['*', '?'], "x")),
            resource_account: None,
            context,
        };
        let a = evaluate(&request, &Layers { identity: vec![&whole], ..Layers::default() });
        let b = evaluate(&request, &Layers { identity: parts.iter().collect(), ..Layers::default() });
        assert_eq!(a.outcome, b.outcome, "indexed and scanned disagree on {request:?}");
    }
});
