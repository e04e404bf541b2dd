//! Terraform plan JSON (`terraform show -json`) into the resource graph.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

use iamlint_core::{
    Attribute, FileId, Format, Reference, SourceFile, Stack, Unknown, Value, ValueKind,
};
use iamlint_terraform::{analyse_plan, detect_plan};

fn file(text: &str) -> SourceFile {
    SourceFile::new(FileId(0), "plan.json", text)
}

fn stack(text: &str) -> (Stack, SourceFile) {
    let f = file(text);
    let s = analyse_plan(&f).unwrap_or_else(|d| panic!("{}", d.message));
    (s, f)
}

fn reference(v: &Value) -> (&str, &Attribute) {
    match &v.kind {
        ValueKind::Ref(Reference {
            resource,
            attribute,
        }) => (resource, attribute),
        other => panic!("not a reference: {other:?}"),
    }
}

fn get(name: &str) -> Attribute {
    Attribute::Get(name.to_string())
}

const TRUST: &str = r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"#;

/// A plan creating a role and a function in a VPC that runs as it (the role's ARN is known
/// only after apply), in the root module or in module `app`.
fn function_plan(module: &str) -> String {
    let prefix = if module.is_empty() {
        String::new()
    } else {
        format!("module.{module}.")
    };
    let resources = format!(
        r#"[
      {{"address": "{prefix}aws_iam_role.fn", "mode": "managed", "type": "aws_iam_role", "name": "fn",
        "values": {{"name": "fn", "assume_role_policy": "{TRUST}", "path": "/"}}}},
      {{"address": "{prefix}aws_lambda_function.fn", "mode": "managed", "type": "aws_lambda_function", "name": "fn",
        "values": {{"function_name": "fn", "runtime": "python3.12",
          "vpc_config": [{{"subnet_ids": ["subnet-1", null], "security_group_ids": ["sg-1"]}}]}}}},
      {{"address": "{prefix}data.aws_caller_identity.me", "mode": "data", "type": "aws_caller_identity", "name": "me",
        "values": {{"account_id": "123456789012"}}}}
    ]"#
    );
    let planned = if module.is_empty() {
        format!(r#"{{"root_module": {{"resources": {resources}}}}}"#)
    } else {
        format!(
            r#"{{"root_module": {{"child_modules": [{{"address": "module.{module}", "resources": {resources}}}]}}}}"#
        )
    };
    let config_resources = r#"[
      {"address": "aws_iam_role.fn", "mode": "managed", "type": "aws_iam_role", "name": "fn",
       "expressions": {"name": {"constant_value": "fn"}, "assume_role_policy": {}}},
      {"address": "aws_lambda_function.fn", "mode": "managed", "type": "aws_lambda_function", "name": "fn",
       "expressions": {
         "function_name": {"constant_value": "fn"},
         "role": {"references": ["aws_iam_role.fn.arn", "aws_iam_role.fn"]},
         "vpc_config": [{"subnet_ids": {"references": ["aws_subnet.a.id", "aws_subnet.a"]},
                         "security_group_ids": {"constant_value": ["sg-1"]}}]}}
    ]"#;
    let config = if module.is_empty() {
        format!(r#"{{"root_module": {{"resources": {config_resources}}}}}"#)
    } else {
        format!(
            r#"{{"root_module": {{"module_calls": {{"{module}": {{"source": "./app", "module": {{"resources": {config_resources}}}}}}}}}}}"#
        )
    };
    format!(
        r#"{{
  "format_version": "1.2",
  "terraform_version": "1.9.8",
  "planned_values": {planned},
  "resource_changes": [
    {{"address": "{prefix}aws_iam_role.fn", "mode": "managed", "type": "aws_iam_role", "name": "fn",
      "change": {{"actions": ["create"], "after_unknown": {{"arn": true, "id": true, "unique_id": true, "managed_policy_arns": true, "inline_policy": true}}}}}},
    {{"address": "{prefix}aws_lambda_function.fn", "mode": "managed", "type": "aws_lambda_function", "name": "fn",
      "change": {{"actions": ["create"], "after_unknown": {{"arn": true, "role": true, "vpc_config": [{{"subnet_ids": [false, true], "vpc_id": true}}]}}}}}}
  ],
  "configuration": {config}
}}"#
    )
}

#[test]
fn detects_plans_by_content() {
    assert!(detect_plan(&function_plan("")));
    assert!(detect_plan(
        "\u{feff}  {\"format_version\":\"1.0\",\"resource_changes\":[]}"
    ));
    // A CloudFormation template, a provider schema, a state file: not plans.
    assert!(!detect_plan(
        "{\"AWSTemplateFormatVersion\":\"2010-09-09\",\"Resources\":{}}"
    ));
    assert!(!detect_plan(
        "{\"format_version\":\"1.0\",\"provider_schemas\":{}}"
    ));
    assert!(!detect_plan("planned_values: {}\nformat_version: 1"));
}

#[test]
fn unknown_values_referenced_in_the_configuration_are_typed_references() {
    let (s, f) = stack(&function_plan(""));
    assert_eq!(s.format, Format::TerraformPlan);
    let function = s.resource("aws_lambda_function.fn").unwrap();
    assert_eq!(function.kind, "AWS::Lambda::Function");
    assert_eq!(f.snippet(function.span), "\"aws_lambda_function.fn\"");
    let role = function.property("Role").unwrap();
    assert_eq!(reference(role), ("aws_iam_role.fn", &get("Arn")));
    // The reference points at the configuration that makes it.
    assert!(f.snippet(role.span).starts_with("{\"references\""));

    // Known list items keep their spans; an unknown one is unknown (a subnet is not mapped).
    let subnets = function.property_path(&["VpcConfig", "SubnetIds"]).unwrap();
    let items = subnets.as_list().unwrap();
    assert_eq!(f.snippet(items[0].span), "\"subnet-1\"");
    assert!(items[1].is_unknown(), "{:?}", items[1]);

    // Data sources are not resources of the graph; the role is.
    assert_eq!(s.resources().len(), 2);
    let role = s.resource("aws_iam_role.fn").unwrap();
    // `managed_policy_arns` and `inline_policy` are computed by the provider when the
    // configuration does not set them: absent, as in HCL.
    assert!(role.property("ManagedPolicyArns").is_none());
    assert!(role.property("Policies").is_none());
}

#[test]
fn child_module_references_are_module_relative() {
    let (s, _) = stack(&function_plan("app"));
    let function = s.resource("module.app.aws_lambda_function.fn").unwrap();
    assert_eq!(
        reference(function.property("Role").unwrap()),
        ("module.app.aws_iam_role.fn", &get("Arn"))
    );
}

/// A plan of one policy string and the role/attachment/instances that use it.
fn plan_of(resources: &str, changes: &str, config: &str) -> String {
    format!(
        r#"{{"format_version": "1.2",
 "planned_values": {{"root_module": {{"resources": [{resources}]}}}},
 "resource_changes": [{changes}],
 "configuration": {{"root_module": {{"resources": [{config}]}}}}}}"#
    )
}

#[test]
fn policy_strings_are_documents_with_spans_inside_the_string() {
    let policy = r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/\u003cx\u003e/*\"}]}"#;
    let text = plan_of(
        &format!(
            r#"{{"address": "aws_iam_policy.p", "mode": "managed", "type": "aws_iam_policy", "name": "p",
  "values": {{"name": "p", "policy": "{policy}"}}}}"#
        ),
        "",
        "",
    );
    let (s, f) = stack(&text);
    let p = s.resource("aws_iam_policy.p").unwrap();
    let doc = p.property("PolicyDocument").unwrap();
    let statement = &doc.get("Statement").unwrap().as_list().unwrap()[0];
    let action = statement.get("Action").unwrap();
    assert_eq!(action.as_str(), Some("s3:GetObject"));
    assert!(
        f.snippet(action.span).starts_with("\\\"s3:GetObject\\"),
        "{}",
        f.snippet(action.span)
    );
    // Escapes decode; the span still covers the written text.
    let resource = statement.get("Resource").unwrap();
    assert_eq!(resource.as_str(), Some("arn:aws:s3:::b/<x>/*"));
    assert!(
        f.snippet(resource.span)
            .starts_with("\\\"arn:aws:s3:::b/\\u003cx\\u003e/*"),
        "{}",
        f.snippet(resource.span)
    );
    // Same line as the string (and inside it).
    let line = |span: iamlint_core::Span| f.line_col(span.start).line;
    assert_eq!(line(action.span), line(p.span) + 1);
}

#[test]
fn known_values_equal_to_the_referenced_attribute_are_references_and_attachments_fold() {
    // An update plan: the role exists (its ARN is known), the policy is new.
    let resources = r#"
 {"address": "aws_iam_role.fn", "mode": "managed", "type": "aws_iam_role", "name": "fn",
  "values": {"name": "fn", "arn": "arn:aws:iam::123456789012:role/fn"}},
 {"address": "aws_iam_policy.p", "mode": "managed", "type": "aws_iam_policy", "name": "p",
  "values": {"name": "p", "policy": "{}"}},
 {"address": "aws_iam_role_policy_attachment.a", "mode": "managed", "type": "aws_iam_role_policy_attachment", "name": "a",
  "values": {"role": "fn"}},
 {"address": "aws_lambda_function.fn[0]", "mode": "managed", "type": "aws_lambda_function", "name": "fn", "index": 0,
  "values": {"function_name": "fn", "role": "arn:aws:iam::123456789012:role/fn"}},
 {"address": "aws_lambda_function.other", "mode": "managed", "type": "aws_lambda_function", "name": "other",
  "values": {"function_name": "other", "role": "arn:aws:iam::123456789012:role/fn-other"}}"#;
    let changes = r#"
 {"address": "aws_iam_policy.p", "change": {"after_unknown": {"arn": true}}},
 {"address": "aws_iam_role_policy_attachment.a", "change": {"after_unknown": {"policy_arn": true, "id": true}}}"#;
    let config = r#"
 {"address": "aws_iam_role_policy_attachment.a", "mode": "managed", "type": "aws_iam_role_policy_attachment", "name": "a",
  "expressions": {"role": {"references": ["aws_iam_role.fn.name", "aws_iam_role.fn"]},
                  "policy_arn": {"references": ["aws_iam_policy.p.arn", "aws_iam_policy.p"]}}},
 {"address": "aws_lambda_function.fn", "mode": "managed", "type": "aws_lambda_function", "name": "fn",
  "expressions": {"role": {"references": ["aws_iam_role.fn.arn", "aws_iam_role.fn"]}}},
 {"address": "aws_lambda_function.other", "mode": "managed", "type": "aws_lambda_function", "name": "other",
  "expressions": {"role": {"references": ["aws_iam_role.fn.arn", "aws_iam_role.fn"]}}}"#;
    let (s, _) = stack(&plan_of(resources, changes, config));
    let f = s.resource("aws_lambda_function.fn[0]").unwrap();
    assert_eq!(
        reference(f.property("Role").unwrap()),
        ("aws_iam_role.fn", &get("Arn"))
    );
    // A value that differs from the attribute is kept as written (a template around it).
    let other = s.resource("aws_lambda_function.other").unwrap();
    assert_eq!(
        other.property("Role").unwrap().as_str(),
        Some("arn:aws:iam::123456789012:role/fn-other")
    );
    // The attachment (its policy ARN known only after apply) is folded into the role.
    let role = s.resource("aws_iam_role.fn").unwrap();
    let arns = role
        .property("ManagedPolicyArns")
        .unwrap()
        .as_list()
        .unwrap();
    assert_eq!(arns.len(), 1);
    assert_eq!(reference(&arns[0]), ("aws_iam_policy.p", &Attribute::Ref));
}

#[test]
fn an_unknown_policy_is_unknown_not_the_resource_it_mentions() {
    // `policy = jsonencode({... Resource = aws_s3_bucket.b.arn ...})` with the bucket new.
    let resources = r#"
 {"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b", "values": {"bucket": "b"}},
 {"address": "aws_iam_policy.p", "mode": "managed", "type": "aws_iam_policy", "name": "p", "values": {"name": "p"}}"#;
    let changes = r#"
 {"address": "aws_iam_policy.p", "change": {"after_unknown": {"policy": true, "arn": true}}}"#;
    let config = r#"
 {"address": "aws_iam_policy.p", "mode": "managed", "type": "aws_iam_policy", "name": "p",
  "expressions": {"name": {"constant_value": "p"},
                  "policy": {"references": ["aws_s3_bucket.b.arn", "aws_s3_bucket.b"]}}}"#;
    let (s, _) = stack(&plan_of(resources, changes, config));
    let doc = s
        .resource("aws_iam_policy.p")
        .unwrap()
        .property("PolicyDocument")
        .unwrap();
    assert!(
        matches!(&doc.kind, ValueKind::Unknown(Unknown::External(_))),
        "{doc:?}"
    );
}

#[test]
fn instances_of_counted_resources_pair_by_key() {
    let resources = r#"
 {"address": "aws_iam_role.r[0]", "mode": "managed", "type": "aws_iam_role", "name": "r", "index": 0, "values": {"name": "r0"}},
 {"address": "aws_iam_role.r[1]", "mode": "managed", "type": "aws_iam_role", "name": "r", "index": 1, "values": {"name": "r1"}},
 {"address": "aws_lambda_function.f[1]", "mode": "managed", "type": "aws_lambda_function", "name": "f", "index": 1, "values": {"function_name": "f1"}},
 {"address": "aws_lambda_function.g", "mode": "managed", "type": "aws_lambda_function", "name": "g", "values": {"function_name": "g"}}"#;
    let changes = r#"
 {"address": "aws_lambda_function.f[1]", "change": {"after_unknown": {"role": true}}},
 {"address": "aws_lambda_function.g", "change": {"after_unknown": {"role": true}}}"#;
    let config = r#"
 {"address": "aws_lambda_function.f", "mode": "managed", "type": "aws_lambda_function", "name": "f",
  "expressions": {"role": {"references": ["aws_iam_role.r", "count.index"]}}},
 {"address": "aws_lambda_function.g", "mode": "managed", "type": "aws_lambda_function", "name": "g",
  "expressions": {"role": {"references": ["aws_iam_role.r[0].arn", "aws_iam_role.r[0]", "aws_iam_role.r"]}}}"#;
    let (s, _) = stack(&plan_of(resources, changes, config));
    // `aws_iam_role.r[count.index].arn`: the attribute is not in the references: unknown.
    let f = s.resource("aws_lambda_function.f[1]").unwrap();
    assert!(f.property("Role").unwrap().is_unknown());
    let g = s.resource("aws_lambda_function.g").unwrap();
    assert_eq!(
        reference(g.property("Role").unwrap()),
        ("aws_iam_role.r[0]", &get("Arn"))
    );
}

#[test]
fn resource_changes_alone_are_enough() {
    let text = r#"{"format_version": "0.1", "resource_changes": [
 {"address": "aws_iam_role.gone", "mode": "managed", "type": "aws_iam_role", "name": "gone",
  "change": {"actions": ["delete"], "before": {"name": "gone"}, "after": null}},
 {"address": "aws_iam_role.r", "mode": "managed", "type": "aws_iam_role", "name": "r",
  "change": {"actions": ["create"], "after": {"name": "r"}, "after_unknown": {"arn": true}}}]}"#;
    let (s, _) = stack(text);
    assert!(s.resource("aws_iam_role.gone").is_none());
    assert_eq!(
        s.resource("aws_iam_role.r")
            .unwrap()
            .property("RoleName")
            .unwrap()
            .as_str(),
        Some("r")
    );
}

#[test]
fn malformed_plans_are_input_errors() {
    for (text, line) in [
        ("{\"format_version\": \"1.2\",\n \"planned_values\": [}", 2),
        ("{\"format_version\": \"2.0\", \"planned_values\": {}}", 1),
        ("{\"format_version\": \"1.2\",\n \"planned_values\": []}", 2),
        (
            "{\"format_version\": \"1.2\",\n \"resource_changes\": {}}",
            2,
        ),
    ] {
        let f = file(text);
        let d = analyse_plan(&f).err().unwrap_or_else(|| panic!("{text}"));
        assert_eq!(d.code, "IAM000");
        assert_eq!(f.line_col(d.span.start).line, line, "{text}: {}", d.message);
    }
}
