//! Unit tests of the SAM expansion on JSON-shaped raw templates.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use super::*;
use iamlint_core::{FileId, Span};
use serde_json::{Value as Json, json};

fn run(template: Json) -> (Json, Expansion, Vec<Diagnostic>) {
    let mut value = Value::from_json(&template, Span::file_start(FileId(0)));
    let mut diagnostics = Vec::new();
    let expansion = expand(&mut value, &mut diagnostics);
    (
        value.to_json().expect("expanded template is plain data"),
        expansion,
        diagnostics,
    )
}

fn sam(resources: Json) -> Json {
    json!({"Transform": "AWS::Serverless-2016-10-31", "Resources": resources})
}

fn function(props: Json) -> Json {
    json!({"Type": "AWS::Serverless::Function", "Properties": props})
}

fn managed(out: &Json, role: &str) -> Vec<String> {
    out["Resources"][role]["Properties"]["ManagedPolicyArns"]
        .as_array()
        .expect("managed policies")
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string())
        })
        .collect()
}

fn inline(out: &Json, role: &str) -> Vec<Json> {
    out["Resources"][role]["Properties"]["Policies"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

const BASIC: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

#[test]
fn generated_role_with_basic_execution() {
    let (out, expansion, diags) = run(sam(
        json!({"Fn": function(json!({"Runtime": "python3.12"}))}),
    ));
    assert!(diags.is_empty());
    assert_eq!(out["Resources"]["Fn"]["Type"], "AWS::Lambda::Function");
    assert_eq!(
        out["Resources"]["Fn"]["Properties"]["Role"],
        json!({"Fn::GetAtt": ["FnRole", "Arn"]})
    );
    assert_eq!(out["Resources"]["FnRole"]["Type"], "AWS::IAM::Role");
    assert_eq!(managed(&out, "FnRole"), vec![BASIC]);
    assert_eq!(
        out["Resources"]["FnRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
            ["Service"],
        json!(["lambda.amazonaws.com"])
    );
    assert!(out.get("Transform").is_none());
    assert!(
        expansion
            .generated
            .contains(&("FnRole".to_owned(), "Fn".to_owned()))
    );
}

#[test]
fn transform_list_keeps_other_transforms() {
    let (out, _, _) = run(json!({
        "Transform": ["AWS::Serverless-2016-10-31", "AWS::LanguageExtensions"],
        "Resources": {}
    }));
    assert_eq!(out["Transform"], json!(["AWS::LanguageExtensions"]));
    assert!(is_sam(&Value::from_json(
        &json!({"Transform": ["X", "AWS::Serverless-2016-10-31"]}),
        Span::default()
    )));
    assert!(!is_sam(&Value::from_json(
        &json!({"Resources": {}}),
        Span::default()
    )));
}

#[test]
fn vpc_config_adds_vpc_access_policy() {
    let (out, _, _) = run(sam(json!({"Fn": function(json!({
        "VpcConfig": {"SubnetIds": ["s"], "SecurityGroupIds": ["g"]}
    }))})));
    assert!(managed(&out, "FnRole").contains(
        &"arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole".to_owned()
    ));
    assert_eq!(
        out["Resources"]["Fn"]["Properties"]["VpcConfig"]["SubnetIds"],
        json!(["s"])
    );
}

#[test]
fn active_tracing_adds_xray() {
    let (out, _, _) = run(sam(json!({"Fn": function(json!({"Tracing": "Active"}))})));
    assert!(
        managed(&out, "FnRole")
            .contains(&"arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess".to_owned())
    );
    assert_eq!(
        out["Resources"]["Fn"]["Properties"]["TracingConfig"],
        json!({"Mode": "Active"})
    );
    let (out, _, _) = run(sam(json!({"Fn": function(json!({"Tracing": "Disabled"}))})));
    assert_eq!(managed(&out, "FnRole"), vec![BASIC]);
}

#[test]
fn given_role_means_no_generated_role() {
    let role = json!({"Fn::GetAtt": ["MyRole", "Arn"]});
    let (out, expansion, _) = run(sam(json!({"Fn": function(json!({
        "Role": role, "VpcConfig": {"SubnetIds": []}, "Events": {"Q": {"Type": "SQS", "Properties": {"Queue": "arn:aws:sqs:us-east-1:1:q"}}}
    }))})));
    assert_eq!(out["Resources"]["Fn"]["Properties"]["Role"], role);
    assert!(out["Resources"].get("FnRole").is_none());
    assert!(!expansion.generated.iter().any(|(id, _)| id == "FnRole"));
    // The event source mapping is still created.
    assert_eq!(
        out["Resources"]["FnQ"]["Type"],
        "AWS::Lambda::EventSourceMapping"
    );
}

#[test]
fn conditional_role_generates_conditional_role() {
    let (out, _, _) = run(sam(json!({"Fn": function(json!({
        "Role": {"Fn::If": ["UseOwn", "arn:aws:iam::1:role/r", {"Ref": "AWS::NoValue"}]}
    }))})));
    assert_eq!(out["Resources"]["FnRole"]["Condition"], "NOTUseOwn");
    assert_eq!(
        out["Conditions"]["NOTUseOwn"],
        json!({"Fn::Not": [{"Condition": "UseOwn"}]})
    );
}

#[test]
fn policies_name_arn_statement_and_intrinsic() {
    let (out, _, diags) = run(sam(json!({"Fn": function(json!({
        "Policies": [
            "AmazonS3ReadOnlyAccess",
            "arn:aws:iam::123456789012:policy/Custom",
            "AWSLambdaRole",
            {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
            {"Ref": "PolicyArnParam"}
        ]
    }))})));
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        managed(&out, "FnRole"),
        vec![
            BASIC.to_owned(),
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".to_owned(),
            "arn:aws:iam::123456789012:policy/Custom".to_owned(),
            "arn:aws:iam::aws:policy/service-role/AWSLambdaRole".to_owned(),
            json!({"Ref": "PolicyArnParam"}).to_string(),
        ]
    );
    let policies = inline(&out, "FnRole");
    assert_eq!(policies.len(), 1);
    // The index counts every entry of `Policies`, not only statements.
    assert_eq!(policies[0]["PolicyName"], "FnRolePolicy3");
    assert_eq!(
        policies[0]["PolicyDocument"]["Statement"][0]["Action"],
        "s3:GetObject"
    );
}

#[test]
fn single_policy_may_be_written_bare() {
    let (out, _, _) = run(sam(
        json!({"Fn": function(json!({"Policies": "AWSLambdaExecute"}))}),
    ));
    assert_eq!(
        managed(&out, "FnRole"),
        vec![BASIC, "arn:aws:iam::aws:policy/AWSLambdaExecute"]
    );
}

#[test]
fn bad_policy_entry_is_an_input_error() {
    let (_, _, diags) = run(sam(json!({"Fn": function(json!({
        "Policies": [{"NoSuchTemplate": {}}]
    }))})));
    assert_eq!(diags.len(), 1);
    assert!(diags[0].is_input_error());
}

#[test]
fn policy_template_substitution_fills_sub_variables() {
    // SQSPollerPolicy's definition, as the translator ships it.
    let definition = json!({"Statement": [{
        "Effect": "Allow",
        "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
        "Resource": {"Fn::Sub": [
            "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${queueName}",
            {"queueName": {"Ref": "QueueName"}}
        ]}
    }]});
    let span = Span::new(FileId(0), 10, 20);
    let given = Value::from_json(
        &json!({"QueueName": {"Fn::GetAtt": ["Q", "QueueName"]}, "Extra": "x"}),
        span,
    );
    let out = policies::substitute(
        &definition,
        &["QueueName".to_owned()],
        given.as_map().expect("map"),
        Span::default(),
    );
    let resource = &out.to_json().expect("json")["Statement"][0]["Resource"];
    assert_eq!(
        resource["Fn::Sub"][1]["queueName"],
        json!({"Fn::GetAtt": ["Q", "QueueName"]})
    );
    // The substituted value keeps the user's span.
    let sub = out
        .get_path(&["Statement"])
        .and_then(|s| s.as_list())
        .expect("statements")[0]
        .get("Resource")
        .and_then(|r| r.get("Fn::Sub"))
        .and_then(|s| s.as_list())
        .expect("sub")[1]
        .get("queueName")
        .expect("var");
    assert_eq!(sub.span, span);
    // Pseudo parameters and unknown refs are kept.
    let kept = policies::substitute(
        &json!({"Ref": "AWS::Region"}),
        &["QueueName".to_owned()],
        given.as_map().expect("map"),
        Span::default(),
    );
    assert_eq!(kept.to_json(), Some(json!({"Ref": "AWS::Region"})));
}

#[test]
fn globals_are_merged() {
    let (out, _, diags) = run(json!({
        "Transform": "AWS::Serverless-2016-10-31",
        "Globals": {"Function": {
            "VpcConfig": {"SubnetIds": ["s"], "SecurityGroupIds": ["g"]},
            "Layers": ["arn:layer:1"],
            "Environment": {"Variables": {"A": "1", "B": "2"}},
            "Tracing": "Active"
        }},
        "Resources": {"Fn": function(json!({
            "Layers": ["arn:layer:2"],
            "Environment": {"Variables": {"B": "3"}},
            "Tracing": "Disabled"
        }))}
    }));
    assert!(diags.is_empty(), "{diags:?}");
    assert!(out.get("Globals").is_none());
    let props = &out["Resources"]["Fn"]["Properties"];
    assert_eq!(props["Layers"], json!(["arn:layer:1", "arn:layer:2"]));
    assert_eq!(
        props["Environment"]["Variables"],
        json!({"A": "1", "B": "3"})
    );
    assert_eq!(
        managed(&out, "FnRole"),
        vec![
            BASIC,
            "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
        ]
    );
}

#[test]
fn globals_reject_unknown_keys_and_honour_ignore_globals() {
    let (_, _, diags) = run(json!({
        "Transform": "AWS::Serverless-2016-10-31",
        "Globals": {"Function": {"Policies": ["X"]}},
        "Resources": {}
    }));
    assert_eq!(diags.len(), 1);
    assert!(diags[0].is_input_error());
    let (out, _, _) = run(json!({
        "Transform": "AWS::Serverless-2016-10-31",
        "Globals": {"Function": {"Tracing": "Active"}},
        "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "IgnoreGlobals": "*", "Properties": {}}}
    }));
    assert_eq!(managed(&out, "FnRole"), vec![BASIC]);
}

#[test]
fn sqs_event_adds_managed_policy_and_mapping() {
    let queue = json!({"Fn::GetAtt": ["Q", "Arn"]});
    let (out, expansion, _) = run(sam(json!({"Fn": function(json!({
        "Events": {"Poll": {"Type": "SQS", "Properties": {"Queue": queue, "BatchSize": 5}}}
    }))})));
    assert!(managed(&out, "FnRole").contains(
        &"arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole".to_owned()
    ));
    let esm = &out["Resources"]["FnPoll"];
    assert_eq!(esm["Type"], "AWS::Lambda::EventSourceMapping");
    assert_eq!(esm["Properties"]["EventSourceArn"], queue);
    assert_eq!(esm["Properties"]["FunctionName"], json!({"Ref": "Fn"}));
    assert!(
        expansion
            .generated
            .contains(&("FnPoll".to_owned(), "Fn".to_owned()))
    );
}

#[test]
fn pull_event_failure_destination_adds_policy() {
    let (out, _, _) = run(sam(json!({"Fn": function(json!({
        "Events": {"S": {"Type": "Kinesis", "Properties": {
            "Stream": "arn:aws:kinesis:us-east-1:1:stream/s", "StartingPosition": "LATEST",
            "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": "arn:aws:sqs:us-east-1:1:dlq"}}
        }}}
    }))})));
    let policies = inline(&out, "FnRole");
    assert_eq!(policies[0]["PolicyName"], "FnSSQSPolicy");
    assert_eq!(
        policies[0]["PolicyDocument"]["Statement"][0]["Action"],
        "sqs:SendMessage"
    );
}

#[test]
fn pull_event_failure_destination_types() {
    let event = |kind: &str| {
        json!({"Fn": function(json!({
            "Events": {"S": {"Type": "Kinesis", "Properties": {
                "Stream": "arn:aws:kinesis:us-east-1:1:stream/s", "StartingPosition": "LATEST",
                "DestinationConfig": {"OnFailure": {"Type": kind, "Destination": "arn:aws:s3:::records"}}
            }}}
        }))})
    };
    let (out, _, diagnostics) = run(sam(event("S3")));
    assert!(diagnostics.is_empty());
    let policies = inline(&out, "FnRole");
    assert_eq!(policies[0]["PolicyName"], "FnSS3Policy");
    let (_, _, diagnostics) = run(sam(event("Bucket")));
    assert_eq!(diagnostics.len(), 1);
    assert!(
        diagnostics[0]
            .message
            .ends_with("The only valid values for 'Type' are 'SQS', 'SNS', 'S3', and 'Kafka'")
    );
}

#[test]
fn push_events_create_permissions() {
    let (out, _, _) = run(sam(json!({"Fn": function(json!({
        "Events": {
            "Up": {"Type": "S3", "Properties": {"Bucket": {"Ref": "B"}, "Events": "s3:ObjectCreated:*"}},
            "Tick": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}
        }
    }))})));
    let s3 = &out["Resources"]["FnUpPermission"]["Properties"];
    assert_eq!(s3["Principal"], "s3.amazonaws.com");
    assert_eq!(s3["SourceAccount"], json!({"Ref": "AWS::AccountId"}));
    let tick = &out["Resources"]["FnTickPermission"]["Properties"];
    assert_eq!(tick["Principal"], "events.amazonaws.com");
    assert_eq!(tick["SourceArn"], json!({"Fn::GetAtt": ["FnTick", "Arn"]}));
    assert_eq!(out["Resources"]["FnTick"]["Type"], "AWS::Events::Rule");
}

/// `push.py` `S3.to_cloudformation`: the event adds a notification entry per event type to
/// the bucket and orders the bucket after the permission (`_depend_on_lambda_permissions`), or,
/// for a function under a condition, refers to the permission from a tag
/// (`_depend_on_lambda_permissions_using_tag`).
#[test]
fn s3_event_adds_notification_and_ordering_to_the_bucket() {
    let (out, _, diagnostics) = run(sam(json!({
        "B": {"Type": "AWS::S3::Bucket", "DependsOn": "Other"},
        "Other": {"Type": "AWS::SNS::Topic"},
        "Fn": function(json!({"Events": {
            "Up": {"Type": "S3", "Properties": {
                "Bucket": {"Ref": "B"},
                "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "in/"}]}}
            }}
        }}))
    })));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let bucket = &out["Resources"]["B"];
    assert_eq!(bucket["DependsOn"], json!(["Other", "FnUpPermission"]));
    let configs = &bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"];
    assert_eq!(
        configs[0],
        json!({
            "Function": {"Fn::GetAtt": ["Fn", "Arn"]},
            "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "in/"}]}},
            "Event": "s3:ObjectCreated:*"
        })
    );
    assert_eq!(configs[1]["Event"], "s3:ObjectRemoved:*");

    let mut conditional = function(json!({"Events": {
        "Up": {"Type": "S3", "Properties": {"Bucket": {"Ref": "B"}, "Events": "s3:ObjectCreated:*"}}
    }}));
    conditional["Condition"] = json!("On");
    let (out, _, _) = run(sam(
        json!({"B": {"Type": "AWS::S3::Bucket"}, "Fn": conditional}),
    ));
    let bucket = &out["Resources"]["B"];
    assert!(bucket.get("DependsOn").is_none());
    assert_eq!(
        bucket["Properties"]["Tags"][0],
        json!({
            "Key": "sam:ConditionalDependsOn:FnUpPermission",
            "Value": {"Fn::If": ["On", {"Ref": "FnUpPermission"}, "no dependency"]}
        })
    );
    assert_eq!(
        bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"][0],
        json!({"Fn::If": ["On", {"Function": {"Fn::GetAtt": ["Fn", "Arn"]}, "Event": "s3:ObjectCreated:*"}, {"Ref": "AWS::NoValue"}]})
    );
}

#[test]
fn dead_letter_queue_adds_inline_policy() {
    let target = json!({"Fn::GetAtt": ["Dlq", "Arn"]});
    let (out, _, _) = run(sam(json!({"Fn": function(json!({
        "DeadLetterQueue": {"Type": "SQS", "TargetArn": target}
    }))})));
    let policies = inline(&out, "FnRole");
    assert_eq!(policies[0]["PolicyName"], "DeadLetterQueuePolicy");
    let statement = &policies[0]["PolicyDocument"]["Statement"][0];
    assert_eq!(statement["Action"], "sqs:SendMessage");
    assert_eq!(statement["Resource"], target);
    assert_eq!(
        out["Resources"]["Fn"]["Properties"]["DeadLetterConfig"],
        json!({"TargetArn": target})
    );
    let (_, _, diags) = run(sam(json!({"Fn": function(json!({
        "DeadLetterQueue": {"Type": "Kinesis", "TargetArn": "x"}
    }))})));
    assert_eq!(diags.len(), 1);
}

#[test]
fn event_invoke_destinations_add_policies() {
    let (out, _, _) = run(sam(json!({"Fn": function(json!({
        "EventInvokeConfig": {"DestinationConfig": {
            "OnSuccess": {"Type": "SQS"},
            "OnFailure": {"Type": "Lambda", "Destination": "arn:aws:lambda:us-east-1:1:function:f"}
        }}
    }))})));
    let names: Vec<Json> = inline(&out, "FnRole")
        .iter()
        .map(|p| p["PolicyName"].clone())
        .collect();
    assert_eq!(
        names,
        vec![
            json!("FnEventInvokeConfigOnSuccessSQSPolicy"),
            json!("FnEventInvokeConfigOnFailureLambdaPolicy")
        ]
    );
    assert_eq!(
        out["Resources"]["FnEventInvokeConfigOnSuccessQueue"]["Type"],
        "AWS::SQS::Queue"
    );
}

#[test]
fn permissions_boundary_and_path_are_propagated() {
    let (out, _, _) = run(sam(json!({"Fn": function(json!({
        "PermissionsBoundary": "arn:aws:iam::1:policy/boundary",
        "RolePath": "/app/"
    }))})));
    let props = &out["Resources"]["FnRole"]["Properties"];
    assert_eq!(
        props["PermissionsBoundary"],
        "arn:aws:iam::1:policy/boundary"
    );
    assert_eq!(props["Path"], "/app/");
}

#[test]
fn state_machine_role() {
    let (out, _, _) = run(sam(json!({"Sm": {
        "Type": "AWS::Serverless::StateMachine",
        "Properties": {
            "Definition": {"StartAt": "A", "States": {}},
            "Tracing": {"Enabled": true},
            "Policies": ["AWSLambdaRole", {"Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]}]
        }
    }})));
    assert_eq!(
        out["Resources"]["Sm"]["Type"],
        "AWS::StepFunctions::StateMachine"
    );
    assert_eq!(
        out["Resources"]["Sm"]["Properties"]["RoleArn"],
        json!({"Fn::GetAtt": ["SmRole", "Arn"]})
    );
    let role = &out["Resources"]["SmRole"]["Properties"];
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        json!(["states.amazonaws.com"])
    );
    assert_eq!(
        managed(&out, "SmRole"),
        vec![
            "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
            "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
        ]
    );
    assert_eq!(inline(&out, "SmRole")[0]["PolicyName"], "SmRolePolicy1");
}

#[test]
fn simple_table_becomes_dynamodb_table() {
    let (out, _, _) = run(sam(json!({"T": {
        "Type": "AWS::Serverless::SimpleTable",
        "Properties": {"SSESpecification": {"SSEEnabled": true}}
    }})));
    assert_eq!(out["Resources"]["T"]["Type"], "AWS::DynamoDB::Table");
    assert_eq!(
        out["Resources"]["T"]["Properties"]["SSESpecification"],
        json!({"SSEEnabled": true})
    );
}

#[test]
fn unknown_serverless_types_are_left_alone() {
    let app = json!({"Type": "AWS::Serverless::Application", "Properties": {"Location": "x"}});
    let (out, _, _) = run(sam(json!({"App": app})));
    assert_eq!(out["Resources"]["App"], app);
}

#[test]
fn generated_values_point_at_the_sam_source() {
    let file = FileId(0);
    let mut template = Value::from_json(&sam(json!({})), Span::new(file, 0, 1));
    let fn_span = Span::new(file, 100, 200);
    let policy_span = Span::new(file, 150, 160);
    let mut function = Value::from_json(&function(json!({"Policies": []})), fn_span);
    if let Some(list) = function
        .as_map_mut()
        .and_then(|m| m.get_mut("Properties"))
        .and_then(|p| p.as_map_mut())
        .and_then(|p| p.get_mut("Policies"))
        && let ValueKind::List(items) = &mut list.kind
    {
        items.push(Value::string("AmazonS3ReadOnlyAccess", policy_span));
    }
    if let Some(res) = template
        .as_map_mut()
        .and_then(|m| m.get_mut("Resources"))
        .and_then(|r| r.as_map_mut())
    {
        res.insert(value::key("Fn", fn_span), function);
    }
    let mut diags = Vec::new();
    expand(&mut template, &mut diags);
    let role = template.get_path(&["Resources", "FnRole"]).expect("role");
    assert_eq!(role.span, fn_span);
    let arns = role
        .get_path(&["Properties", "ManagedPolicyArns"])
        .and_then(Value::as_list)
        .expect("arns");
    assert_eq!(arns[1].span, policy_span);
}

#[test]
fn sha1_names_match_the_translator() {
    assert_eq!(
        value::logical_id_hash("MyTestFunctionEventInvokeConfig"),
        "2da03e5b6f"
    );
    assert_eq!(value::logical_id_hash(""), "da39a3ee5e");
    // More than one 64-byte block (hashlib.sha1(b"a" * 200) = e61cfffe0d…).
    assert_eq!(value::logical_id_hash(&"a".repeat(200)), "e61cfffe0d");
}

#[test]
fn destination_created_unless_condition_gets_a_hashed_not_condition() {
    let (out, _, diags) = run(sam(json!({"Fn": function(json!({
        "AutoPublishAlias": "live",
        "EventInvokeConfig": {"DestinationConfig": {
            "OnSuccess": {"Type": "SQS", "Destination": {"Fn::If": ["UseExisting", "arn:q", {"Ref": "AWS::NoValue"}]}}
        }}
    }))})));
    assert!(diags.is_empty(), "{diags:?}");
    let policy = &inline(&out, "FnRole")[0];
    let name = format!(
        "NOTUseExisting{}",
        value::logical_id_hash("FnEventInvokeConfig")
    );
    assert_eq!(
        policy["PolicyDocument"]["Statement"][0]["Resource"],
        json!({"Fn::If": [name, {"Fn::GetAtt": ["FnEventInvokeConfigOnSuccessQueue", "Arn"]}, "arn:q"]})
    );
    assert_eq!(
        out["Conditions"][&name],
        json!({"Fn::Not": [{"Condition": "UseExisting"}]})
    );
    assert_eq!(
        out["Resources"]["FnEventInvokeConfigOnSuccessQueue"]["Condition"],
        json!(name)
    );
}

#[test]
fn codedeploy_service_role_once_unless_every_preference_has_a_role() {
    let pref = |extra: Json| {
        let mut p = json!({"Type": "AllAtOnce"});
        if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        function(json!({"AutoPublishAlias": "live", "DeploymentPreference": p}))
    };
    let (out, expansion, diags) = run(sam(json!({
        "A": pref(json!({})),
        "B": pref(json!({"Role": "arn:role"})),
        "C": pref(json!({"Enabled": false}))
    })));
    assert!(diags.is_empty(), "{diags:?}");
    let role = &out["Resources"]["CodeDeployServiceRole"];
    assert_eq!(
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        json!(["codedeploy.amazonaws.com"])
    );
    assert_eq!(
        managed(&out, "CodeDeployServiceRole"),
        vec!["arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"]
    );
    assert!(role.get("Condition").is_none());
    assert!(
        expansion
            .generated
            .contains(&("CodeDeployServiceRole".to_owned(), "A".to_owned()))
    );

    let (out, _, _) = run(sam(json!({"B": pref(json!({"Role": "arn:role"}))})));
    assert!(out["Resources"].get("CodeDeployServiceRole").is_none());

    // Every enabled preference passes its function's condition through.
    let mut a = pref(json!({"PassthroughCondition": true}));
    a["Condition"] = json!("C1");
    let mut b = pref(json!({"PassthroughCondition": "true"}));
    b["Condition"] = json!("C2");
    let (out, _, _) = run(sam(json!({"A": a, "B": b})));
    assert_eq!(
        out["Resources"]["CodeDeployServiceRole"]["Condition"],
        "ServerlessCodeDeployCondition"
    );
    assert_eq!(
        out["Conditions"]["ServerlessCodeDeployCondition"],
        json!({"Fn::Or": [{"Condition": "C1"}, {"Condition": "C2"}]})
    );
}

#[test]
fn deployment_preference_without_alias_is_rejected() {
    let (_, _, diags) = run(sam(json!({"Fn": function(json!({
        "DeploymentPreference": {"Type": "AllAtOnce"}
    }))})));
    assert_eq!(diags.len(), 1);
    assert!(diags[0].message.contains("requires AutoPublishAlias"));
}

#[test]
fn capacity_provider_operator_role() {
    let (out, _, diags) = run(sam(json!({
        "Cp": {"Type": "AWS::Serverless::CapacityProvider", "Properties": {"VpcConfig": {"SubnetIds": ["s"]}}},
        "Given": {"Type": "AWS::Serverless::CapacityProvider", "Properties": {"VpcConfig": {"SubnetIds": ["s"]}, "OperatorRole": "arn:r"}}
    })));
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        managed(&out, "CpOperatorRole"),
        vec!["arn:aws:iam::aws:policy/AWSLambdaManagedEC2ResourceOperator"]
    );
    assert_eq!(
        out["Resources"]["Cp"]["Properties"]["PermissionsConfig"],
        json!({"CapacityProviderOperatorRoleArn": {"Fn::GetAtt": ["CpOperatorRole", "Arn"]}})
    );
    assert!(out["Resources"].get("GivenOperatorRole").is_none());
    assert_eq!(
        out["Resources"]["Given"]["Type"],
        "AWS::Lambda::CapacityProvider"
    );
}

#[test]
fn graphql_api_logging_and_data_source_roles() {
    let (out, _, diags) = run(sam(json!({
        "Gql": {"Type": "AWS::Serverless::GraphQLApi", "Properties": {
            "DataSources": {
                "DynamoDb": {"Table": {"TableName": "t"}},
                "Lambda": {"Fn": {"FunctionArn": "arn:f", "ServiceRoleArn": "arn:r"}}
            }
        }},
        "Quiet": {"Type": "AWS::Serverless::GraphQLApi", "Properties": {"Logging": false}}
    })));
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        out["Resources"]["GqlCloudWatchRole"]["Properties"]["ManagedPolicyArns"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSAppSyncPushToCloudWatchLogs"}])
    );
    assert_eq!(
        out["Resources"]["GqlTableDynamoDBDataSourceRole"]["Properties"]["AssumeRolePolicyDocument"]
            ["Statement"][0]["Principal"]["Service"],
        json!(["appsync.amazonaws.com"])
    );
    assert!(out["Resources"].get("GqlFnLambdaDataSourceRole").is_none());
    assert_eq!(
        out["Resources"]["GqlFnLambdaDataSource"]["Properties"]["ServiceRoleArn"],
        "arn:r"
    );
    assert!(out["Resources"].get("QuietCloudWatchRole").is_none());
}

#[test]
fn implicit_api_replaces_a_resource_of_its_name() {
    let (out, _, _) = run(sam(json!({
        "Fn": function(json!({"Events": {"Get": {"Type": "Api", "Properties": {"Path": "/", "Method": "get"}}}})),
        "ServerlessRestApi": function(json!({}))
    })));
    assert_eq!(
        out["Resources"]["ServerlessRestApi"]["Type"],
        "AWS::ApiGateway::RestApi"
    );
    assert!(out["Resources"].get("ServerlessRestApiRole").is_none());
}

#[test]
fn state_machine_events_target_the_alias_when_asked() {
    let (out, _, diags) = run(sam(
        json!({"Sm": {"Type": "AWS::Serverless::StateMachine", "Properties": {
            "AutoPublishAlias": "live",
            "UseAliasAsEventTarget": true,
            "Events": {"Tick": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}}
        }}}),
    ));
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        inline(&out, "SmTickRole")[0]["PolicyDocument"]["Statement"][0]["Resource"],
        json!({"Ref": "SmAliaslive"})
    );
    assert_eq!(
        out["Resources"]["SmTick"]["Properties"]["Targets"][0]["Arn"],
        json!({"Ref": "SmAliaslive"})
    );
    assert_eq!(
        out["Resources"]["SmAliaslive"]["Type"],
        "AWS::StepFunctions::StateMachineAlias"
    );
}
