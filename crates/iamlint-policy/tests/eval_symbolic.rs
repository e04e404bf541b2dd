//! Three-valued decisions for static analysis: symbolic ARNs, unknown context keys, template
//! conditions.

use iamlint_core::value::Pseudo;
use iamlint_core::{FileId, Span, SymStr, Symbol, Value};
use iamlint_policy::eval::{
    Layer, Layers, MissingKeys, Outcome, Request, RequestContext, RequestPrincipal, Tri,
    Uncertainty, evaluate, match_arn,
};
use iamlint_policy::policy::{LiteralResolver, Policy, PolicyKind, parse_policy};
use serde_json::json;

fn policy(doc: serde_json::Value) -> Policy {
    let v = Value::from_json(&doc, Span::file_start(FileId(0)));
    let (p, problems) = parse_policy(&v, PolicyKind::Identity, &LiteralResolver);
    assert!(problems.is_empty(), "{problems:?}");
    p
}

fn account_arn(before: &str, after: &str) -> SymStr {
    let mut s = SymStr::lit(before);
    s.push_sym(Symbol::Pseudo(Pseudo::AccountId));
    s.push_lit(after);
    s
}

fn request(resource: SymStr) -> Request {
    Request {
        principal: RequestPrincipal::Arn(account_arn("arn:aws:iam::", ":role/fn-role")),
        action: "sqs:ReceiveMessage".into(),
        resource,
        resource_account: Some(SymStr::sym(Symbol::Pseudo(Pseudo::AccountId))),
        context: RequestContext::new(MissingKeys::Unknown),
    }
}

#[test]
fn same_symbol_in_same_place_is_allowed() {
    let q = account_arn("arn:aws:sqs:us-east-1:", ":queue");
    let mut p = policy(
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}}),
    );
    p.statements[0]
        .resources
        .as_mut()
        .expect("resources")
        .patterns[0]
        .value = q.clone();
    let d = evaluate(
        &request(q),
        &Layers {
            identity: vec![&p],
            ..Layers::default()
        },
    );
    assert_eq!(d.outcome, Outcome::Allowed);
    assert_eq!(d.trace.len(), 1);
    assert_eq!(d.trace[0].layer, Layer::Identity);
}

#[test]
fn literal_grant_on_symbolic_resource_is_unknown_value() {
    let q = account_arn("arn:aws:sqs:us-east-1:", ":queue");
    let p = policy(
        json!({"Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:us-east-1:123456789012:queue"}}),
    );
    let d = evaluate(
        &request(q.clone()),
        &Layers {
            identity: vec![&p],
            ..Layers::default()
        },
    );
    assert_eq!(d.outcome, Outcome::Unknown(Uncertainty::Value));
    let other = policy(
        json!({"Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:us-east-1:123456789012:other"}}),
    );
    let d = evaluate(
        &request(q),
        &Layers {
            identity: vec![&other],
            ..Layers::default()
        },
    );
    assert_eq!(d.outcome, Outcome::ImplicitlyDenied);
    assert_eq!(d.denied_by, vec![Layer::Identity]);
}

#[test]
fn unknown_condition_key_gives_unknown_condition() {
    let q = SymStr::lit("arn:aws:sqs:us-east-1:123456789012:queue");
    let cond = policy(
        json!({"Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}}),
    );
    let d = evaluate(
        &request(q.clone()),
        &Layers {
            identity: vec![&cond],
            ..Layers::default()
        },
    );
    assert_eq!(d.outcome, Outcome::Unknown(Uncertainty::Condition));

    // Another allow that is certain settles it.
    let plain = policy(
        json!({"Statement": {"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": "*"}}),
    );
    let d = evaluate(
        &request(q.clone()),
        &Layers {
            identity: vec![&cond, &plain],
            ..Layers::default()
        },
    );
    assert_eq!(d.outcome, Outcome::Allowed);

    // A deny that only may match makes an allowed request unknown.
    let deny = policy(
        json!({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}}}),
    );
    let d = evaluate(
        &request(q.clone()),
        &Layers {
            identity: vec![&plain, &deny],
            ..Layers::default()
        },
    );
    assert_eq!(d.outcome, Outcome::Unknown(Uncertainty::Condition));

    // Known context decides it.
    let mut r = request(q);
    r.context.insert("aws:RequestedRegion", ["eu-west-1"]);
    let d = evaluate(
        &r,
        &Layers {
            identity: vec![&plain, &deny],
            ..Layers::default()
        },
    );
    assert_eq!(d.outcome, Outcome::Allowed);
}

#[test]
fn key_declared_absent_is_absent_even_in_static_mode() {
    let p = policy(
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sqs:*",
        "Resource": "arn:aws:sqs:us-east-1:123456789012:${aws:username}"}}),
    );
    let q = SymStr::lit("arn:aws:sqs:us-east-1:123456789012:queue");
    let d = evaluate(
        &request(q.clone()),
        &Layers {
            identity: vec![&p],
            ..Layers::default()
        },
    );
    assert_eq!(d.outcome, Outcome::Unknown(Uncertainty::Value));
    let mut r = request(q);
    r.context.set_absent("aws:username");
    let d = evaluate(
        &r,
        &Layers {
            identity: vec![&p],
            ..Layers::default()
        },
    );
    assert_eq!(d.outcome, Outcome::ImplicitlyDenied);
}

#[test]
fn uncertain_statement_acts_as_maybe() {
    let mut p =
        policy(json!({"Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}}));
    p.statements[0].certain = false;
    let q = SymStr::lit("arn:aws:sqs:us-east-1:123456789012:queue");
    let d = evaluate(
        &request(q),
        &Layers {
            identity: vec![&p],
            ..Layers::default()
        },
    );
    assert_eq!(d.outcome, Outcome::Unknown(Uncertainty::Value));
}

#[test]
fn symbolic_resource_policy_principal() {
    // A queue policy naming the role by !GetAtt Role.Arn, the request made by that role.
    let role = SymStr::sym(Symbol::Attr(iamlint_core::value::Reference::get_att(
        "Role", "Arn",
    )));
    let mut rp = {
        let v = Value::from_json(
            &json!({"Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*", "Principal": {"AWS": "x"}}}),
            Span::file_start(FileId(0)),
        );
        parse_policy(&v, PolicyKind::Resource, &LiteralResolver).0
    };
    rp.statements[0]
        .principals
        .as_mut()
        .expect("principals")
        .principals[0]
        .value = role.clone();
    let mut r = request(SymStr::lit("arn:aws:sqs:us-east-1:123456789012:queue"));
    r.principal = RequestPrincipal::Arn(role);
    r.resource_account = None;
    let d = evaluate(
        &r,
        &Layers {
            resource: Some(&rp),
            ..Layers::default()
        },
    );
    // The role's account is unknown (an opaque ARN), so same- vs cross-account is undecided, but
    // a principal-level grant does not need the identity side in the same account only.
    assert!(matches!(d.outcome, Outcome::Unknown(_)), "{:?}", d.outcome);
}

#[test]
fn match_arn_symbols() {
    let opaque = SymStr::sym(Symbol::Opaque);
    assert_eq!(match_arn(&SymStr::lit("*"), &opaque), Tri::Yes);
    assert_eq!(
        match_arn(&opaque, &SymStr::lit("arn:aws:s3:::b")),
        Tri::Maybe
    );
    let b = account_arn("arn:aws:sqs:us-east-1:", ":q");
    assert_eq!(
        match_arn(&SymStr::lit("arn:aws:sqs:us-east-1:*:q"), &b),
        Tri::Yes
    );
    assert_eq!(
        match_arn(&SymStr::lit("arn:aws:sns:us-east-1:*:q"), &b),
        Tri::No
    );
}

#[test]
fn account_id_pseudo_parameter_as_principal_names_the_account() {
    // A key policy `"Principal": {"AWS": !Ref AWS::AccountId}` delegates to IAM exactly as the
    // literal id or the root ARN does: the role's own allow then decides.
    let key = account_arn("arn:aws:kms:us-east-1:", ":key/k");
    let mut kp = {
        let v = Value::from_json(
            &json!({"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Principal": {"AWS": "x"}}}),
            Span::file_start(FileId(0)),
        );
        parse_policy(&v, PolicyKind::Resource, &LiteralResolver).0
    };
    kp.statements[0]
        .principals
        .as_mut()
        .expect("principals")
        .principals[0]
        .value = SymStr::sym(Symbol::Pseudo(Pseudo::AccountId));
    let identity = policy(
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}}),
    );
    let mut r = request(key);
    r.action = "kms:Decrypt".into();
    let with_identity = Layers {
        identity: vec![&identity],
        resource: Some(&kp),
        resource_must_allow: true,
        ..Layers::default()
    };
    assert_eq!(evaluate(&r, &with_identity).outcome, Outcome::Allowed);
    // Delegation alone grants nothing: without the role's allow the key stays closed.
    let key_policy_only = Layers {
        resource: Some(&kp),
        resource_must_allow: true,
        ..Layers::default()
    };
    assert_eq!(
        evaluate(&r, &key_policy_only).outcome,
        Outcome::ImplicitlyDenied
    );
}
