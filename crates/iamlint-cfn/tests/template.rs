//! The template layer: parameters, conditions and intrinsic functions resolved into typed
//! values (documents built with `serde_json`, so these tests need no parser).

#![allow(clippy::expect_used, clippy::unwrap_used)] // test helpers outside #[test] functions

use iamlint_cfn::{Options, parse_document};
use iamlint_core::{
    Attribute, FileId, Part, Pseudo, Reference, SourceFile, Span, Stack, Unknown, Value, ValueKind,
};
use serde_json::json;
use std::collections::HashMap;

fn stack_with(doc: serde_json::Value, params: &[(&str, &str)]) -> (Stack, Vec<String>) {
    let file = SourceFile::new(FileId(0), "t.json", "");
    let mut root = Value::from_json(&doc, Span::file_start(FileId(0)));
    let options = Options {
        parameters: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
    };
    let parsed = parse_document(&mut root, &file, &options);
    let messages = parsed
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect();
    (parsed.stack.expect("a stack"), messages)
}

fn stack(doc: serde_json::Value) -> Stack {
    let (stack, messages) = stack_with(doc, &[]);
    assert!(messages.is_empty(), "{messages:?}");
    stack
}

fn prop<'a>(stack: &'a Stack, id: &str, name: &str) -> &'a ValueKind {
    &stack
        .resource(id)
        .expect("resource")
        .property(name)
        .expect("property")
        .kind
}

#[test]
fn ref_and_getatt_become_typed_references() {
    let s = stack(json!({"Resources": {
        "Q": {"Type": "AWS::SQS::Queue"},
        "F": {"Type": "AWS::Lambda::Function", "Properties": {
            "A": {"Ref": "Q"}, "B": {"Fn::GetAtt": "Q.Arn"}, "C": {"Fn::GetAtt": ["Q", "QueueName"]},
            "D": {"Ref": "AWS::Region"}, "E": {"Fn::GetAtt": "Db.Endpoint.Address"}
        }}
    }}));
    assert_eq!(prop(&s, "F", "A"), &ValueKind::Ref(Reference::to_ref("Q")));
    assert_eq!(
        prop(&s, "F", "B"),
        &ValueKind::Ref(Reference::get_att("Q", "Arn"))
    );
    assert_eq!(
        prop(&s, "F", "C"),
        &ValueKind::Ref(Reference::get_att("Q", "QueueName"))
    );
    assert_eq!(
        prop(&s, "F", "D"),
        &ValueKind::Unknown(Unknown::Pseudo(Pseudo::Region))
    );
    assert_eq!(
        prop(&s, "F", "E"),
        &ValueKind::Ref(Reference::new(
            "Db",
            Attribute::Get("Endpoint.Address".into())
        ))
    );
}

#[test]
fn sub_keeps_known_and_unknown_parts() {
    let s = stack(json!({"Resources": {
        "B": {"Type": "AWS::S3::Bucket"},
        "P": {"Type": "AWS::IAM::Policy", "Properties": {
            "R": {"Fn::Sub": "${B.Arn}/*"},
            "S": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${B}/${!Literal}"},
            "T": {"Fn::Sub": ["${X}-suffix", {"X": "plain"}]},
            "U": {"Fn::Sub": "no variables"}
        }}
    }}));
    assert_eq!(
        prop(&s, "P", "R"),
        &ValueKind::Template(vec![
            Part::Ref(Reference::get_att("B", "Arn")),
            Part::Lit("/*".into())
        ])
    );
    assert_eq!(
        prop(&s, "P", "S"),
        &ValueKind::Template(vec![
            Part::Lit("arn:".into()),
            Part::Unknown(Unknown::Pseudo(Pseudo::Partition)),
            Part::Lit(":s3:::".into()),
            Part::Ref(Reference::to_ref("B")),
            Part::Lit("/${Literal}".into()),
        ])
    );
    assert_eq!(
        prop(&s, "P", "T"),
        &ValueKind::String("plain-suffix".into())
    );
    assert_eq!(
        prop(&s, "P", "U"),
        &ValueKind::String("no variables".into())
    );
}

#[test]
fn join_select_split_and_find_in_map() {
    let s = stack(json!({
        "Mappings": {"Env": {"prod": {"Queue": "orders"}}},
        "Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {
            "J": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sqs"]]},
            "K": {"Fn::Join": [",", ["a", "b"]]},
            "S": {"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]},
            "M": {"Fn::FindInMap": ["Env", "prod", "Queue"]},
            "N": {"Fn::FindInMap": ["Env", {"Ref": "AWS::Region"}, "Queue"]}
        }}}
    }));
    assert_eq!(
        prop(&s, "F", "J"),
        &ValueKind::Template(vec![
            Part::Lit("arn:".into()),
            Part::Unknown(Unknown::Pseudo(Pseudo::Partition)),
            Part::Lit(":sqs".into())
        ])
    );
    assert_eq!(prop(&s, "F", "K"), &ValueKind::String("a,b".into()));
    assert_eq!(prop(&s, "F", "S"), &ValueKind::String("y".into()));
    assert_eq!(prop(&s, "F", "M"), &ValueKind::String("orders".into()));
    assert!(matches!(prop(&s, "F", "N"), ValueKind::Unknown(_)));
}

#[test]
fn parameters_are_unknown_unless_given() {
    let doc = json!({
        "Parameters": {"Name": {"Type": "String", "Default": "dev"},
                       "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"}},
        "Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {
            "N": {"Ref": "Name"}, "S": {"Ref": "Subnets"}
        }}}
    });
    let (s, _) = stack_with(doc.clone(), &[]);
    assert_eq!(
        prop(&s, "F", "N"),
        &ValueKind::Unknown(Unknown::Parameter {
            name: "Name".into(),
            default: Some("dev".into())
        })
    );
    assert_eq!(
        s.parameter("Subnets").and_then(|p| p.kind.as_deref()),
        Some("List<AWS::EC2::Subnet::Id>")
    );
    let (s, _) = stack_with(doc, &[("Name", "prod"), ("Subnets", "subnet-1,subnet-2")]);
    assert_eq!(prop(&s, "F", "N"), &ValueKind::String("prod".into()));
    let ValueKind::List(items) = prop(&s, "F", "S") else {
        panic!("a list")
    };
    assert_eq!(items.len(), 2);
}

#[test]
fn conditions_decide_or_keep_both_branches() {
    let doc = json!({
        "Parameters": {"Env": {"Type": "String"}},
        "Conditions": {
            "Always": {"Fn::Equals": ["a", "a"]},
            "Never": {"Fn::Not": [{"Condition": "Always"}]},
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "ProdOrAlways": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "Always"}]},
            "Loop": {"Condition": "Loop"}
        },
        "Resources": {
            "Gone": {"Type": "AWS::SQS::Queue", "Condition": "Never"},
            "Maybe": {"Type": "AWS::SQS::Queue", "Condition": "IsProd"},
            "F": {"Type": "AWS::Lambda::Function", "Properties": {
                "A": {"Fn::If": ["Always", "yes", "no"]},
                "B": {"Fn::If": ["IsProd", "yes", {"Ref": "AWS::NoValue"}]},
                "C": {"Fn::If": ["Never", "x", {"Ref": "AWS::NoValue"}]},
                "D": {"Fn::If": ["ProdOrAlways", "yes", "no"]},
                "E": {"Fn::If": ["Loop", "yes", "no"]},
                "L": ["a", {"Fn::If": ["Never", "b", {"Ref": "AWS::NoValue"}]}]
            }}
        }
    });
    let (s, messages) = stack_with(doc.clone(), &[]);
    assert!(messages.is_empty(), "{messages:?}");
    assert!(s.resource("Gone").is_none());
    assert_eq!(
        s.resource("Maybe").and_then(|r| r.condition.as_deref()),
        Some("IsProd")
    );
    assert_eq!(prop(&s, "F", "A"), &ValueKind::String("yes".into()));
    let ValueKind::Choice(choice) = prop(&s, "F", "B") else {
        panic!("a choice")
    };
    assert!(choice.if_false.is_no_value());
    assert!(s.resource("F").and_then(|f| f.property("C")).is_none());
    assert_eq!(prop(&s, "F", "D"), &ValueKind::String("yes".into()));
    assert!(matches!(prop(&s, "F", "E"), ValueKind::Choice(_)));
    let ValueKind::List(items) = prop(&s, "F", "L") else {
        panic!("a list")
    };
    assert_eq!(items.len(), 1);

    let (s, _) = stack_with(doc, &[("Env", "prod")]);
    assert_eq!(prop(&s, "F", "B"), &ValueKind::String("yes".into()));
    assert_eq!(
        s.resource("Maybe").and_then(|r| r.condition.as_deref()),
        None
    );
}

#[test]
fn imports_and_dynamic_references_are_unknown() {
    let s = stack(
        json!({"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {
            "I": {"Fn::ImportValue": "shared-role-arn"},
            "D": "{{resolve:ssm:/my/param}}",
            "E": "prefix-{{resolve:secretsmanager:s:SecretString:k}}"
        }}}}),
    );
    assert_eq!(prop(&s, "F", "I"), &ValueKind::Unknown(Unknown::Import));
    assert_eq!(prop(&s, "F", "D"), &ValueKind::Unknown(Unknown::Dynamic));
    assert_eq!(
        prop(&s, "F", "E"),
        &ValueKind::Template(vec![
            Part::Lit("prefix-".into()),
            Part::Unknown(Unknown::Dynamic)
        ])
    );
}

#[test]
fn unknown_intrinsic_and_undefined_condition_are_input_errors() {
    let (s, messages) = stack_with(
        json!({"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {
            "A": {"Fn::Sbu": "x"}, "B": {"Fn::If": ["Missing", "a", "b"]}
        }}}}),
        &[],
    );
    assert!(
        s.resource("F").is_some(),
        "the run goes on with the rest of the template"
    );
    assert_eq!(
        messages,
        vec![
            "unknown intrinsic function `Fn::Sbu`".to_string(),
            "condition `Missing` is not defined in Conditions".to_string()
        ]
    );
}

#[test]
fn a_document_without_resources_is_not_a_template() {
    let file = SourceFile::new(FileId(0), "x.json", "");
    let mut root = Value::from_json(&json!({"name": "pkg"}), Span::file_start(FileId(0)));
    let parsed = parse_document(&mut root, &file, &Options::default());
    assert!(parsed.stack.is_none());
    assert!(parsed.diagnostics.is_empty());
}

#[test]
fn detection_is_by_content() {
    use iamlint_cfn::{Detection, detect};
    use std::path::Path;
    let p = Path::new("x.yaml");
    assert_eq!(
        detect(p, "AWSTemplateFormatVersion: '2010-09-09'\n"),
        Detection::Template
    );
    assert_eq!(
        detect(p, "Transform: AWS::Serverless-2016-10-31\nResources: {}\n"),
        Detection::Template
    );
    assert_eq!(
        detect(p, "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"),
        Detection::Template
    );
    assert_eq!(
        detect(
            p,
            "{\n  \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}\n}"
        ),
        Detection::Template
    );
    assert_eq!(
        detect(p, "name: CI\non: push\njobs: {}\n"),
        Detection::NotTemplate
    );
    assert_eq!(
        detect(p, "services:\n  web:\n    image: nginx\n"),
        Detection::NotTemplate
    );
    assert_eq!(
        detect(p, "{\"name\": \"pkg\", \"version\": \"1.0.0\"}"),
        Detection::NotTemplate
    );
}
