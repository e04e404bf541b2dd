//! `iamlint simulate` input errors and output shapes.

use iamlint_policy::eval::Outcome;
use iamlint_policy::simulate::{SimulateError, simulate};

#[test]
fn json_errors_carry_line_and_column() {
    let err = simulate("{\n  \"request\": {,}\n}").expect_err("invalid");
    match &err {
        SimulateError::Json { line, column, .. } => {
            assert_eq!(*line, 2);
            assert!(*column > 0);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("line 2"));
}

#[test]
fn missing_request_and_fields() {
    assert_eq!(
        simulate("{}").expect_err("no request"),
        SimulateError::MissingRequest
    );
    assert_eq!(
        simulate("[]").expect_err("array"),
        SimulateError::NotAnObject
    );
    let e = simulate(r#"{"request": {"principal": "anonymous", "resource": "*"}}"#)
        .expect_err("no action");
    assert_eq!(e, SimulateError::MissingField("action"));
    let e = simulate(r#"{"request": {"principal": "arn:aws:iam:role", "action": "s3:GetObject", "resource": "*"}}"#)
        .expect_err("bad arn");
    assert!(e.to_string().contains("is not an ARN"), "{e}");
    let e = simulate(r#"{"request": {"principal": "anonymous", "action": "s3:GetObject", "resource": "bucket/key"}}"#)
        .expect_err("bad resource");
    assert!(matches!(
        e,
        SimulateError::BadArn {
            field: "request.resource",
            ..
        }
    ));
    let e = simulate(r#"{"request": {"principal": "anonymous", "action": "s3:GetObject", "resource": "*"}, "identity_policy": []}"#)
        .expect_err("typo");
    assert!(
        e.to_string().contains("unknown key \"identity_policy\""),
        "{e}"
    );
    let e = simulate(r#"{"request": {"principal": "anonymous", "action": "s3:GetObject", "resource": "*"}, "scps": [{}]}"#)
        .expect_err("bad scps");
    assert!(e.to_string().contains("organisation levels"), "{e}");
}

#[test]
fn json_output_shape() {
    let sim = simulate(
        r#"{"request": {"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k", "resource_account": "111122223333"},
           "identity_policies": [{"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}],
           "permission_boundaries": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}]}"#,
    )
    .expect("valid");
    assert_eq!(sim.decision().outcome, Outcome::ImplicitlyDenied);
    let json = sim.to_json();
    assert_eq!(json["decision"], "implicitly_denied");
    assert_eq!(json["denied_by"], serde_json::json!(["boundary"]));
    assert_eq!(json["trace"][0]["layer"], "identity");
    assert_eq!(json["trace"][0]["sid"], "Read");
    assert_eq!(json["trace"][0]["effect"], "Allow");
    assert_eq!(json["trace"][0]["matched"], "yes");
    let human = sim.render_human();
    assert!(
        human.contains("because no permissions boundary allows the s3:GetObject action"),
        "{human}"
    );
    assert!(human.contains("What to change"), "{human}");
}

#[test]
fn explicit_deny_human_output() {
    let sim = simulate(
        r#"{"request": {"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"},
           "identity_policies": [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}]}"#,
    )
    .expect("valid");
    assert_eq!(sim.to_json()["decision"], "explicitly_denied");
    assert!(
        sim.render_human()
            .contains("with an explicit deny in an identity-based policy")
    );
}
