//! Malformed policy documents become problems, never panics.

use iamlint_core::value::{Choice, ValueKind};
use iamlint_core::{FileId, Span, Value};
use iamlint_policy::policy::{Effect, LiteralResolver, Policy, PolicyKind, Problem, parse_policy};
use serde_json::json;

fn parse(doc: serde_json::Value, kind: PolicyKind) -> (Policy, Vec<Problem>) {
    let v = Value::from_json(&doc, Span::file_start(FileId(0)));
    parse_policy(&v, kind, &LiteralResolver)
}

fn has(problems: &[Problem], needle: &str) -> bool {
    problems.iter().any(|p| p.message.contains(needle))
}

#[test]
fn bad_effect_drops_the_statement() {
    let (p, problems) = parse(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "s3:*", "Resource": "*"}]}),
        PolicyKind::Identity,
    );
    assert!(p.statements.is_empty());
    assert!(has(&problems, "`Effect` must be"));
}

#[test]
fn missing_action_is_a_problem() {
    let (p, problems) = parse(
        json!({"Statement": {"Effect": "Allow", "Resource": "*"}}),
        PolicyKind::Identity,
    );
    assert!(p.statements.is_empty());
    assert!(has(&problems, "no `Action`"));
}

#[test]
fn unknown_condition_operator_makes_the_statement_uncertain() {
    let (p, problems) = parse(
        json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringEqualz": {"aws:SourceAccount": "1"}}}}),
        PolicyKind::Identity,
    );
    assert!(has(&problems, "unknown condition operator `StringEqualz`"));
    assert_eq!(p.statements.len(), 1);
    assert!(!p.statements[0].certain);
}

#[test]
fn resource_must_be_an_arn_or_star() {
    let (p, problems) = parse(
        json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["my-bucket/*", "*", "arn:aws:s3:::b"]}}),
        PolicyKind::Identity,
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(has(&problems, "`my-bucket/*` is not a resource ARN"));
    let rs = p.statements[0].resources.as_ref().expect("resources");
    assert_eq!(rs.patterns.len(), 3);
}

#[test]
fn garbage_never_panics() {
    for doc in [
        json!(null),
        json!("text"),
        json!([1, 2]),
        json!({"Statement": 5}),
        json!({"Statement": [1, "x", null, {"Effect": 3}]}),
        json!({"Statement": {"Effect": "Deny", "Action": 7, "Resource": {"a": 1}, "Condition": [1]}}),
        json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Principal": 5, "Condition": {"Null": 3}}}),
        json!({"Version": 2012, "Statement": []}),
    ] {
        for kind in [
            PolicyKind::Identity,
            PolicyKind::Resource,
            PolicyKind::Trust,
        ] {
            let (_, problems) = parse(doc.clone(), kind);
            assert!(!problems.is_empty(), "{doc} should have problems");
        }
    }
}

#[test]
fn principal_rules() {
    let (_, problems) = parse(
        json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Principal": {"AWS": "arn:aws:iam::111122223333:role/app-*"}}}),
        PolicyKind::Resource,
    );
    assert!(has(&problems, "cannot use a wildcard"));
    let (_, problems) = parse(
        json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}}),
        PolicyKind::Identity,
    );
    assert!(has(&problems, "`Principal` is not allowed"));
    let (_, problems) = parse(
        json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}),
        PolicyKind::Resource,
    );
    assert!(has(&problems, "no `Principal`"));
    let (p, problems) = parse(
        json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": ["lambda.amazonaws.com"], "AWS": "111122223333"}}}),
        PolicyKind::Trust,
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        p.statements[0]
            .principals
            .as_ref()
            .map(|p| p.principals.len()),
        Some(2)
    );
}

#[test]
fn statements_under_fn_if_are_uncertain() {
    let s = Span::file_start(FileId(0));
    let st = Value::from_json(
        &json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
        s,
    );
    let doc = Value::from_json(&json!({"Version": "2012-10-17", "Statement": []}), s);
    let mut doc = doc;
    let choice = Value::new(
        ValueKind::Choice(Box::new(Choice {
            condition: "IsProd".into(),
            if_true: st.clone(),
            if_false: Value::new(ValueKind::NoValue, s),
        })),
        s,
    );
    if let Some(m) = doc.as_map_mut() {
        m.get_mut("Statement").expect("statement").kind = ValueKind::List(vec![st, choice]);
    }
    let (p, problems) = parse_policy(&doc, PolicyKind::Identity, &LiteralResolver);
    assert!(problems.is_empty());
    assert_eq!(p.statements.len(), 2);
    assert!(p.statements[0].certain);
    assert!(!p.statements[1].certain);
    assert_eq!(p.statements[1].effect, Effect::Allow);
}
