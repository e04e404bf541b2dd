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
    // CloudFormation rejects the loop; the rest of the template is still read.
    assert_eq!(
        messages,
        ["circular reference between conditions: `Loop` → `Loop`"]
    );
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

fn messages(doc: serde_json::Value, params: &[(&str, &str)]) -> Vec<String> {
    stack_with(doc, params).1
}

/// Rule functions are valid in the `Rules` section, and only there: "Rule functions are
/// special functions that work only in the Rules section of a CloudFormation template."
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-rules.html>
/// (and the section's syntax:
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html>).
#[test]
fn rule_functions_are_accepted_in_rules_only() {
    let rules = json!({
        "Parameters": {"Env": {"Type": "String"}, "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"}},
        "Rules": {
            "ProdInstanceType": {
                "RuleCondition": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                "Assertions": [
                    {"Assert": {"Fn::Contains": [["m5.large"], {"Ref": "Env"}]}},
                    {"Assert": {"Fn::EachMemberEquals": [
                        {"Fn::ValueOfAll": ["AWS::EC2::Subnet::Id", "VpcId"]}, {"Ref": "Env"}]}},
                    {"Assert": {"Fn::EachMemberIn": [
                        {"Fn::ValueOf": ["Subnets", "VpcId"]},
                        {"Fn::RefAll": "AWS::EC2::VPC::Id"}]},
                     "AssertDescription": "subnets in the VPC"}
                ]
            }
        },
        "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}
    });
    assert_eq!(messages(rules, &[]), Vec::<String>::new());

    let outside = json!({
        "Parameters": {"Env": {"Type": "String"}},
        "Conditions": {"C": {"Fn::Contains": [["a"], {"Ref": "Env"}]}},
        "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": {"Fn::ValueOf": ["Env", "Name"]}}}}
    });
    let m = messages(outside, &[]);
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(
        m.iter()
            .all(|m| m.contains("rule function") && m.contains("`Rules` section")),
        "{m:?}"
    );
}

fn language_extensions(resources: serde_json::Value) -> serde_json::Value {
    json!({
        "Transform": "AWS::LanguageExtensions",
        "Parameters": {
            "Names": {"Type": "CommaDelimitedList", "Default": "Success, Failure"},
            "Open": {"Type": "CommaDelimitedList"}
        },
        "Resources": resources
    })
}

/// `Fn::ForEach` replicates its fragment for each item, replacing `${Identifier}` and
/// `&{Identifier}` (the item without non-alphanumeric characters) in the output key and value,
/// and `Ref: Identifier` by the item; the collection is a list or a `Ref` to a
/// `CommaDelimitedList`.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-foreach.html>,
/// example "Replicate an Amazon SNS resource" (`SnsTopic${TopicName}`, `TopicName: !Ref TopicName`).
#[test]
fn for_each_replicates_resources_with_their_own_logical_ids() {
    let s = stack(language_extensions(json!({
        "Fn::ForEach::Topics": ["TopicName", ["Success", "Failure"], {
            "SnsTopic${TopicName}": {"Type": "AWS::SNS::Topic", "Properties": {
                "TopicName": {"Ref": "TopicName"},
                "DisplayName": {"Fn::Sub": "${TopicName}-${AWS::Region}"}
            }}
        }],
        "Fn::ForEach::Cidrs": ["Cidr", ["10.0.2.0/24", "10.0.3.0/24"], {
            "Subnet&{Cidr}": {"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": {"Ref": "Cidr"}}}
        }],
        "Reader": {"Type": "AWS::IAM::Policy", "Properties": {
            "Resource": {"Fn::GetAtt": [{"Fn::Sub": "SnsTopic${Which}"}, "TopicArn"]}
        }}
    })));
    let ids: Vec<&str> = s.resources().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "SnsTopicSuccess",
            "SnsTopicFailure",
            "Subnet1002024",
            "Subnet1003024",
            "Reader"
        ]
    );
    assert_eq!(
        prop(&s, "SnsTopicFailure", "TopicName"),
        &ValueKind::String("Failure".into())
    );
    assert_eq!(
        prop(&s, "SnsTopicSuccess", "DisplayName"),
        &ValueKind::Template(vec![
            Part::Lit("Success-".into()),
            Part::Unknown(Unknown::Pseudo(Pseudo::Region))
        ])
    );
    assert_eq!(
        prop(&s, "Subnet1003024", "CidrBlock"),
        &ValueKind::String("10.0.3.0/24".into())
    );
}

/// Nested loops, and a collection from a `CommaDelimitedList` parameter: its default, or the
/// value given with `--param`.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-foreach.html>
/// (example "Replicate multiple resources using a nested Fn::ForEach loops").
#[test]
fn for_each_nests_and_reads_list_parameters() {
    let doc = language_extensions(json!({
        "Fn::ForEach::Outer": ["Name", {"Ref": "Names"}, {
            "Fn::ForEach::Inner": ["Kind", ["Queue", "Dlq"], {
                "${Name}${Kind}": {"Type": "AWS::SQS::Queue", "Properties": {
                    "QueueName": {"Fn::Sub": "${Name}-${Kind}"}
                }}
            }]
        }]
    }));
    let s = stack(doc.clone());
    let ids: Vec<&str> = s.resources().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["SuccessQueue", "SuccessDlq", "FailureQueue", "FailureDlq"]
    );
    assert_eq!(
        prop(&s, "FailureDlq", "QueueName"),
        &ValueKind::String("Failure-Dlq".into())
    );
    let (s, m) = stack_with(doc, &[("Names", "Jobs")]);
    assert!(m.is_empty(), "{m:?}");
    let ids: Vec<&str> = s.resources().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["JobsQueue", "JobsDlq"]);
}

/// A collection iamlint cannot know (a parameter without value) generates nothing it can see:
/// no resource, an unknown property map, conditions that may exist. Never an error.
#[test]
fn for_each_over_an_unknown_collection_is_unknown() {
    let (s, m) = stack_with(
        json!({
            "Transform": "AWS::LanguageExtensions",
            "Parameters": {"Open": {"Type": "CommaDelimitedList"}},
            "Conditions": {
                "Fn::ForEach::Conds": ["N", {"Ref": "Open"}, {
                    "Is${N}": {"Fn::Equals": [{"Ref": "N"}, "x"]}
                }]
            },
            "Resources": {
                "Fn::ForEach::Topics": ["N", {"Ref": "Open"}, {
                    "Topic${N}": {"Type": "AWS::SNS::Topic"}
                }],
                "Q": {"Type": "AWS::SQS::Queue", "Condition": "IsA", "Properties": {
                    "Tags": {"Fn::ForEach::Tags": ["N", {"Ref": "Open"}, {"${N}": "x"}]},
                    "Policy": {"Fn::ForEach::P": ["N", {"Ref": "Open"}, {"${N}": "x"}], "Kept": "y"}
                }}
            }
        }),
        &[],
    );
    assert!(m.is_empty(), "{m:?}");
    let ids: Vec<&str> = s.resources().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["Q"]);
    assert!(matches!(prop(&s, "Q", "Tags"), ValueKind::Unknown(_)));
    assert!(matches!(prop(&s, "Q", "Policy"), ValueKind::Unknown(_)));
}

/// Loops in `Conditions` generate conditions by name; `Fn::Length`, `Fn::ToJsonString` and
/// `Fn::FindInMap` with `DefaultValue` resolve; functions in `DeletionPolicy` and
/// `UpdateReplacePolicy` are accepted.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/transform-aws-languageextensions.html>,
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-length.html>,
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-ToJsonString.html>,
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-findinmap.html>.
#[test]
fn language_extension_functions_resolve() {
    let (s, m) = stack_with(
        json!({
            "Transform": "AWS::LanguageExtensions",
            "Parameters": {
                "Names": {"Type": "CommaDelimitedList", "Default": "a,b,c"},
                "Env": {"Type": "String", "Default": "dev"}
            },
            "Mappings": {"Sizes": {"prod": {"Count": "3"}}},
            "Conditions": {
                "Fn::ForEach::Envs": ["E", ["dev", "prod"], {
                    "Is${E}": {"Fn::Equals": [{"Ref": "Env"}, {"Ref": "E"}]}
                }]
            },
            "Resources": {
                "Q": {"Type": "AWS::SQS::Queue", "Condition": "Isprod",
                      "DeletionPolicy": {"Fn::If": ["Isprod", "Retain", "Delete"]},
                      "UpdateReplacePolicy": {"Fn::FindInMap": ["Sizes", "dev", "Policy", {"DefaultValue": "Delete"}]},
                      "Properties": {
                    "Count": {"Fn::Length": {"Ref": "Names"}},
                    "Literal": {"Fn::Length": ["x", "y"]},
                    "Json": {"Fn::ToJsonString": {"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}},
                    "Unknown": {"Fn::ToJsonString": {"Queue": {"Fn::GetAtt": ["Other", "Arn"]}}},
                    "Size": {"Fn::FindInMap": ["Sizes", "dev", "Count", {"DefaultValue": "1"}]},
                    "NoMappings": {"Fn::FindInMap": ["Other", "a", "b", {"DefaultValue": "z"}]}
                }}
            }
        }),
        &[("Env", "prod")],
    );
    assert!(m.is_empty(), "{m:?}");
    assert_eq!(prop(&s, "Q", "Count"), &ValueKind::Number("3".into()));
    assert_eq!(prop(&s, "Q", "Literal"), &ValueKind::Number("2".into()));
    assert_eq!(
        prop(&s, "Q", "Json"),
        &ValueKind::String(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#.into())
    );
    assert!(matches!(prop(&s, "Q", "Unknown"), ValueKind::Unknown(_)));
    assert_eq!(prop(&s, "Q", "Size"), &ValueKind::String("1".into()));
    assert_eq!(prop(&s, "Q", "NoMappings"), &ValueKind::String("z".into()));
    // The generated condition decided the resource: created, so no condition left on it.
    assert_eq!(s.resource("Q").expect("Q").condition, None);
}

/// CloudFormation rejects a loop that generates a logical id already declared.
#[test]
fn for_each_duplicate_ids_and_bad_shapes_are_input_errors() {
    let m = messages(
        language_extensions(json!({
            "TopicA": {"Type": "AWS::SNS::Topic"},
            "Fn::ForEach::Topics": ["N", ["A", "B"], {"Topic${N}": {"Type": "AWS::SNS::Topic"}}],
            "Fn::ForEach::Bad": ["N", ["A"]]
        })),
        &[],
    );
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(
        m.iter()
            .any(|m| m.contains("`TopicA` is generated by Fn::ForEach")),
        "{m:?}"
    );
    assert!(m.iter().any(|m| m.contains("Fn::ForEach takes")), "{m:?}");
}

/// A condition that refers to itself through other conditions is rejected by CloudFormation
/// ("Circular condition dependency"); so are resources that depend on each other
/// ("Circular dependency between resources"):
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html>,
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-dependency-error>.
#[test]
fn cycles_between_conditions_and_between_resources_are_input_errors() {
    let m = messages(
        json!({
            "Parameters": {"Env": {"Type": "String"}},
            "Conditions": {
                "A": {"Fn::And": [{"Condition": "B"}, {"Fn::Equals": [{"Ref": "Env"}, "x"]}]},
                "B": {"Fn::Or": [{"Condition": "A"}, {"Condition": "C"}]},
                "C": {"Fn::Equals": [{"Ref": "Env"}, "y"]},
                "Self": {"Fn::Not": [{"Condition": "Self"}]}
            },
            "Resources": {
                "Role": {"Type": "AWS::IAM::Role", "Properties": {
                    "Policies": [{"PolicyDocument": {"Statement": [{"Resource": {"Fn::Sub": "arn:aws:s3:::${Bucket}"}}]}}]
                }},
                "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
                    "ReplicationConfiguration": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}
                }},
                "Waiter": {"Type": "AWS::CloudFormation::WaitConditionHandle", "DependsOn": "Waiter"},
                "Fine": {"Type": "AWS::SQS::Queue", "Properties": {"Name": {"Ref": "Bucket"}}}
            }
        }),
        &[],
    );
    assert_eq!(
        m,
        [
            "circular reference between conditions: `A` → `B` → `A`",
            "circular reference between conditions: `Self` → `Self`",
            "circular dependency between resources: `Role` → `Bucket` → `Role`",
            "circular dependency between resources: `Waiter` → `Waiter`",
        ]
    );
}

/// Only certain dependencies make a cycle: a reference in an undecided `Fn::If`, a resource
/// under an undecided condition and SAM resources iamlint does not expand are left out; so is
/// everything the SAM expansion generates from a valid template.
#[test]
fn uncertain_and_sam_references_make_no_cycle() {
    let m = messages(
        json!({
            "Parameters": {"Env": {"Type": "String"}},
            "Conditions": {"Prod": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
            "Resources": {
                "A": {"Type": "AWS::SQS::Queue", "Properties": {
                    "X": {"Fn::If": ["Prod", {"Ref": "B"}, "none"]}}},
                "B": {"Type": "AWS::SQS::Queue", "Properties": {"X": {"Ref": "A"}}},
                "C": {"Type": "AWS::SQS::Queue", "Condition": "Prod", "Properties": {"X": {"Ref": "D"}}},
                "D": {"Type": "AWS::SQS::Queue", "Properties": {"X": {"Ref": "C"}}},
                "Api": {"Type": "AWS::Serverless::Api", "Properties": {
                    "DefinitionBody": {"uri": {"Fn::Sub": "${Fn.Arn}"}}}},
                "Fn": {"Type": "AWS::Serverless::Function", "Properties": {
                    "Events": {"Get": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "Api"}}}}}}
            }
        }),
        &[],
    );
    assert!(m.is_empty(), "{m:?}");

    let sam = json!({
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Api": {"Type": "AWS::Serverless::Api", "Properties": {
                "StageName": "Prod",
                "DefinitionBody": {"paths": {"/": {"get": {"x-amazon-apigateway-integration": {
                    "uri": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}}}}}}
            }},
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {
                "Runtime": "python3.12", "Handler": "index.handler", "InlineCode": "x",
                "Policies": [{"SQSPollerPolicy": {"QueueName": {"Fn::GetAtt": ["Queue", "QueueName"]}}}],
                "Events": {
                    "Get": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "Api"}, "Path": "/", "Method": "get"}},
                    "Jobs": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["Queue", "Arn"]}}}
                }
            }},
            "Queue": {"Type": "AWS::SQS::Queue"}
        }
    });
    let m = messages(sam, &[]);
    assert!(m.is_empty(), "{m:?}");
}

/// Instances of a loop point into the loop body: the generated logical id at the output key,
/// its values at their lines in the body.
#[test]
fn for_each_instances_keep_the_spans_of_the_loop_body() {
    let text = "Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Queues:
    - Name
    - [Jobs, Mail]
    - ${Name}Queue:
        Type: AWS::SQS::Queue
        Properties:
          QueueName: !Ref Name
";
    let file = SourceFile::new(FileId(0), "t.yaml", text);
    let parsed = iamlint_cfn::parse_template(&file, &Options::default());
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let s = parsed.stack.expect("a stack");
    let mail = s.resource("MailQueue").expect("MailQueue");
    assert_eq!(file.snippet(mail.span), "${Name}Queue");
    let name = mail.property("QueueName").expect("QueueName");
    assert_eq!(name.kind, ValueKind::String("Mail".into()));
    assert_eq!(file.line_col(name.span.start).line, 9);
}

/// Rain directives and `AWS::Include` are not CloudFormation's to reject: one note (IAM000 at note severity)
/// per file, never an input error, and the values they stand for are unknown.
/// <https://aws-cloudformation.github.io/rain/rain_pkg.html>,
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/transform-aws-include.html>.
#[test]
fn preprocessor_directives_and_includes_are_one_note() {
    let text = "Transform:
  Name: AWS::Include
  Parameters: {Location: s3://bucket/common.yaml}
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Code:
        ZipFile: !Rain::Embed handler.py
      Environment:
        Variables:
          PREFIX: !Sub '${Rain::Prefix}-x'
  Module:
    Type: !Rain::Module ./bucket.yaml
  Snippet:
    Fn::Transform:
      Name: AWS::Include
      Parameters: {Location: s3://bucket/snippet.yaml}
";
    let file = SourceFile::new(FileId(0), "t.yaml", text);
    let parsed = iamlint_cfn::parse_template(&file, &Options::default());
    assert_eq!(parsed.diagnostics.len(), 1, "{:?}", parsed.diagnostics);
    let note = &parsed.diagnostics[0];
    assert_eq!(note.code, "IAM000");
    assert_eq!(note.severity, iamlint_core::Severity::Note);
    assert!(!note.is_input_error());
    assert_eq!(file.line_col(note.span.start).line, 1);
    assert!(
        note.message.contains("and 3 more places"),
        "{}",
        note.message
    );
    let s = parsed.stack.expect("a stack");
    let ids: Vec<&str> = s.resources().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["Fn"]);
    let f = s.resource("Fn").expect("Fn");
    assert!(
        f.property_path(&["Code", "ZipFile"])
            .expect("ZipFile")
            .is_unknown()
    );
    assert!(matches!(
        &f.property_path(&["Environment", "Variables", "PREFIX"]).expect("PREFIX").kind,
        ValueKind::Template(parts) if matches!(parts[0], Part::Unknown(_))
    ));

    let rain_only = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Rain::Constant Name\n";
    let file = SourceFile::new(FileId(0), "t.yaml", rain_only);
    let parsed = iamlint_cfn::parse_template(&file, &Options::default());
    assert_eq!(parsed.diagnostics.len(), 1);
    assert!(
        parsed.diagnostics[0]
            .message
            .starts_with("`Rain::Constant` is a Rain directive"),
        "{}",
        parsed.diagnostics[0].message
    );
}
