//! `iamlint why '<AccessDenied message>' [PATH…]`, on the message forms AWS documents in the
//! IAM User Guide, "Troubleshoot access denied error messages"
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html), and
//! Lambda's deploy-time check of an execution role
//! (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod common;

use common::{iamlint, stderr, stdout, workspace};
use serde_json::Value;

const TEMPLATES: &str = "testdata/why";

fn why_json(message: &str, paths: &[&str]) -> Value {
    let mut args = vec!["why", "--format", "json", message];
    args.extend_from_slice(paths);
    let o = iamlint(&args, &workspace());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn only_principal(v: &Value) -> &Value {
    let principals = v["principals"].as_array().unwrap();
    assert_eq!(principals.len(), 1, "{v:#}");
    &principals[0]
}

#[test]
fn no_identity_based_policy_allows_names_the_role_and_the_statement_to_add() {
    let v = why_json(
        "User: arn:aws:sts::123456789012:assumed-role/orders-api/orders-fn is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/orders because no identity-based policy allows the dynamodb:PutItem action",
        &[TEMPLATES],
    );
    assert_eq!(v["message"]["role"], "orders-api");
    assert_eq!(v["message"]["reason"], "no_allow");
    assert_eq!(v["message"]["policy_type"], "identity");
    let p = only_principal(&v);
    assert_eq!(p["principal"], "role ApiRole");
    assert_eq!(p["outcome"], "implicitly_denied");
    assert_eq!(p["denied_by"], serde_json::json!(["identity"]));
    // The statement to add, in YAML, where the role's policies are.
    assert_eq!(p["fix_location"], "testdata/why/orders.cfn.yaml:27:7");
    let fix = p["fix"].as_str().unwrap();
    assert!(fix.contains("- dynamodb:PutItem"), "{fix}");
    assert!(
        fix.contains("Resource: !Sub arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders"),
        "{fix}"
    );
}

#[test]
fn explicit_deny_in_an_identity_based_policy_points_at_the_deny() {
    let v = why_json(
        "User: arn:aws:sts::123456789012:assumed-role/orders-admin/x is not authorized to perform: dynamodb:DeleteItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/orders with an explicit deny in an identity-based policy",
        &[TEMPLATES],
    );
    let p = only_principal(&v);
    assert_eq!(p["outcome"], "explicitly_denied");
    assert_eq!(p["denied_by"], serde_json::json!(["identity"]));
    let s = &p["statements"][0];
    assert_eq!(s["statement"], "statement `NoDeletes`");
    assert_eq!(s["policy"], "policy write-orders of role AdminRole");
    assert_eq!(s["location"], "testdata/why/orders.cfn.yaml:58:17");
}

#[test]
fn no_permissions_boundary_allows_fixes_the_boundary() {
    let v = why_json(
        "User: arn:aws:sts::123456789012:assumed-role/orders-admin/x is not authorized to perform: dynamodb:BatchWriteItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/orders because no permissions boundary allows the dynamodb:BatchWriteItem action",
        &[TEMPLATES],
    );
    let p = only_principal(&v);
    assert_eq!(p["outcome"], "implicitly_denied");
    assert_eq!(p["denied_by"], serde_json::json!(["boundary"]));
    assert!(
        p["fix"]
            .as_str()
            .unwrap()
            .starts_with("add this statement to the permissions boundary Boundary:"),
        "{p}"
    );
}

#[test]
fn explicit_deny_in_a_resource_based_policy_points_at_the_bucket_policy() {
    let v = why_json(
        "User: arn:aws:sts::123456789012:assumed-role/orders-admin/x is not authorized to perform: s3:DeleteObject on resource: arn:aws:s3:::orders-reports/2024.csv with an explicit deny in a resource-based policy",
        &[TEMPLATES],
    );
    let p = only_principal(&v);
    assert_eq!(p["outcome"], "explicitly_denied");
    assert_eq!(p["denied_by"], serde_json::json!(["resource"]));
    assert_eq!(p["statements"][0]["statement"], "statement `KeepReports`");
    assert_eq!(
        p["statements"][0]["policy"],
        "the resource policy of Reports"
    );
}

#[test]
fn explicit_deny_in_a_service_control_policy_with_scp() {
    let message = "User: arn:aws:sts::123456789012:assumed-role/orders-admin/x is not authorized to perform: dynamodb:DeleteTable on resource: arn:aws:dynamodb:us-east-1:123456789012:table/orders with an explicit deny in a service control policy";
    let v = why_json(message, &["--scp", "testdata/why/scp.json", TEMPLATES]);
    let p = only_principal(&v);
    assert_eq!(p["outcome"], "explicitly_denied");
    assert_eq!(p["denied_by"], serde_json::json!(["scp"]));
    assert_eq!(p["statements"][0]["location"], "testdata/why/scp.json:4:5");
    // Without the SCP, the templates alone do not deny it by a Deny: the boundary leaves it
    // out, and the message is what says an SCP denied.
    let v = why_json(message, &[TEMPLATES]);
    assert_eq!(only_principal(&v)["outcome"], "implicitly_denied");
    assert!(
        v["explanation"]
            .as_str()
            .unwrap()
            .contains("service control policy")
    );
}

#[test]
fn a_function_session_finds_the_role_it_runs_as() {
    // A role without a name of its own: found through the function its session is named for.
    let v = why_json(
        "User: arn:aws:sts::123456789012:assumed-role/team-role-x/orders-report is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:123456789012:jobs because no identity-based policy allows the sqs:SendMessage action",
        &[TEMPLATES],
    );
    let p = only_principal(&v);
    assert_eq!(p["principal"], "role ReporterRole");
    assert!(
        p["matched_because"]
            .as_str()
            .unwrap()
            .contains("function Reporter"),
        "{p}"
    );
}

#[test]
fn a_generated_role_name_of_a_cdk_stack() {
    let v = why_json(
        "User: arn:aws:sts::123456789012:assumed-role/OrdersStack-HandlerServiceRoleFCDC14AE-Xk2mP0qLr7Ab/OrdersStack-Handler886CB40B-q1w2e3 is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::ordersstack-receipts59c0d3e0-1a2b3c/r.json because no identity-based policy allows the s3:PutObject action",
        &["testdata/cdk/orders/cdk.out"],
    );
    let p = only_principal(&v);
    assert_eq!(
        p["principal"],
        "role OrdersStack/Handler/ServiceRole/Resource"
    );
    assert_eq!(p["outcome"], "implicitly_denied");
    assert!(
        p["fix"]
            .as_str()
            .unwrap()
            .contains("on construct OrdersStack/Handler/ServiceRole"),
        "{p}"
    );
}

#[test]
fn terraform_roles_are_found_by_name_and_fixed_in_hcl() {
    let v = why_json(
        "User: arn:aws:sts::123456789012:assumed-role/orders-worker/w is not authorized to perform: sqs:DeleteMessage on resource: arn:aws:sqs:eu-west-1:123456789012:jobs because no identity-based policy allows the sqs:DeleteMessage action",
        &["testdata/why/terraform"],
    );
    let p = only_principal(&v);
    assert_eq!(p["principal"], "role aws_iam_role.worker");
    let fix = p["fix"].as_str().unwrap();
    assert!(
        fix.contains("actions   = [\"sqs:DeleteMessage\"]")
            && fix.contains("resources = [\"arn:aws:sqs:eu-west-1:123456789012:jobs\"]"),
        "{fix}"
    );
}

#[test]
fn an_unknown_role_is_explained_from_the_message() {
    let o = iamlint(
        &[
            "why",
            "User: arn:aws:iam::777788889999:user/MaryMajor is not authorized to perform: codecommit:ListRepositories because no identity-based policy allows the codecommit:ListRepositories action",
            TEMPLATES,
        ],
        &workspace(),
    );
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("MaryMajor is not found in these templates."),
        "{out}"
    );
    assert!(
        out.contains("From the message: No identity-based policy of the principal allows codecommit:ListRepositories"),
        "{out}"
    );
}

#[test]
fn allowed_by_the_templates_says_the_cause_is_elsewhere() {
    let v = why_json(
        "User: arn:aws:sts::123456789012:assumed-role/orders-api/s is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        &[TEMPLATES],
    );
    assert_eq!(v["message"]["reason"], "unspecified");
    assert_eq!(only_principal(&v)["outcome"], "allowed");
}

#[test]
fn lambda_deploy_time_message_shows_the_functions_that_fail_it() {
    let v = why_json(
        "Resource handler returned message: \"The provided execution role does not have permissions to call CreateNetworkInterface on EC2 (Service: Lambda, Status Code: 400)\"",
        &["testdata/rules/lambda-vpc-eni-permissions/bad.cfn.yaml"],
    );
    assert_eq!(v["message"]["source"], "lambda_execution_role");
    assert_eq!(v["message"]["action"], "ec2:CreateNetworkInterface");
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{v:#}");
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("Lambda function Worker")
    );
}

#[test]
fn s3_xml_without_a_principal_is_explained() {
    let v = why_json(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>656c76696e672</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9p</HostId></Error>",
        &[TEMPLATES],
    );
    assert_eq!(v["message"]["source"], "s3");
    assert_eq!(v["found"], false);
    assert!(v["explanation"].as_str().unwrap().contains("bucket policy"));
}

#[test]
fn a_message_that_is_not_a_denial_is_a_usage_error() {
    let o = iamlint(
        &["why", "Task timed out after 3.00 seconds", TEMPLATES],
        &workspace(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not an AccessDenied message"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn human_output() {
    let o = iamlint(
        &[
            "why",
            "User: arn:aws:sts::123456789012:assumed-role/orders-api/orders-fn is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/orders because no identity-based policy allows the dynamodb:PutItem action",
            TEMPLATES,
        ],
        &workspace(),
    );
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn a_user_is_found_but_not_decided() {
    let v = why_json(
        "User: arn:aws:iam::123456789012:user/orders-analyst is not authorized to perform: dynamodb:Scan on resource: arn:aws:dynamodb:us-east-1:123456789012:table/orders because no identity-based policy allows the dynamodb:Scan action",
        &[TEMPLATES],
    );
    let p = only_principal(&v);
    assert_eq!(p["principal"], "user Analyst");
    assert_eq!(p["outcome"], "unknown");
    assert_eq!(p["fix"], Value::Null);
}
