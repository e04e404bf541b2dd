//! The Terraform front end on small modules written here: expressions, variables, modules and
//! the mapping onto the CloudFormation model, as the Terraform language documentation
//! describes them (https://developer.hashicorp.com/terraform/language).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

use iamlint_core::{Attribute, Diagnostic, Stack, Value, ValueKind};
use iamlint_terraform::{Options, Workspace, analyse_root};
use std::path::{Path, PathBuf};

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str, files: &[(&str, &str)]) -> Dir {
    let root = std::env::temp_dir().join(format!("iamlint-tf-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    Dir(root)
}

fn analyse_with(d: &Dir, options: &Options) -> (Stack, Vec<Diagnostic>, Workspace) {
    let ws = Workspace::new(0, &[]);
    let a = analyse_root(&ws, &d.0, options).expect("a module");
    let mut diags = ws.parse_diagnostics();
    diags.extend(a.diagnostics);
    (a.stack, diags, ws)
}

fn analyse(d: &Dir) -> Stack {
    let (stack, diags, _) = analyse_with(d, &Options::default());
    assert!(diags.is_empty(), "{diags:?}");
    stack
}

fn prop<'a>(stack: &'a Stack, id: &str, path: &[&str]) -> &'a Value {
    stack
        .resource(id)
        .unwrap_or_else(|| {
            panic!(
                "no {id}: {:?}",
                stack.resources().iter().map(|r| &r.id).collect::<Vec<_>>()
            )
        })
        .property_path(path)
        .unwrap_or_else(|| panic!("{id} has no {path:?}"))
}

fn text(v: &Value) -> String {
    match &v.kind {
        ValueKind::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

#[test]
fn variables_locals_and_templates() {
    // Variable defaults, terraform.tfvars and --var, in Terraform's precedence
    // (https://developer.hashicorp.com/terraform/language/values/variables#variable-definition-precedence).
    let d = dir(
        "vars",
        &[
            (
                "main.tf",
                r#"
variable "prefix" { default = "dev" }
variable "suffix" { default = "x" }
variable "env" {}
locals {
  name = "${var.prefix}-${var.env}-${var.suffix}"
  tags = merge({ a = "1" }, { b = "2" })
}
resource "aws_s3_bucket" "b" {
  bucket = lower(format("%s-%s", local.name, length(keys(local.tags))))
}
"#,
            ),
            (
                "terraform.tfvars",
                "suffix = \"fromfile\"\nenv = \"file\"\n",
            ),
        ],
    );
    let options = Options {
        vars: [("env".to_string(), "Prod".to_string())].into(),
        ..Options::default()
    };
    let (stack, diags, _) = analyse_with(&d, &options);
    assert!(diags.is_empty());
    assert_eq!(
        text(prop(&stack, "aws_s3_bucket.b", &["BucketName"])),
        "dev-prod-fromfile-2"
    );
}

#[test]
fn a_variable_without_a_value_is_unknown() {
    let d = dir(
        "unknown-var",
        &[(
            "main.tf",
            r#"
variable "bucket" {}
resource "aws_s3_bucket" "b" { bucket = "${var.bucket}-logs" }
"#,
        )],
    );
    let stack = analyse(&d);
    let v = prop(&stack, "aws_s3_bucket.b", &["BucketName"]);
    assert!(matches!(v.kind, ValueKind::Template(_)), "{v:?}");
}

#[test]
fn a_variable_a_shipped_var_file_sets_is_unknown_without_var_file() {
    // Terraform loads only terraform.tfvars and *.auto.tfvars by itself; any other variable
    // definitions file is read when `-var-file` names it
    // (https://developer.hashicorp.com/terraform/language/values/variables#variable-definitions-tfvars-files).
    // A root module that ships `prod.tfvars` or `envs/dev.tfvars` is deployed with one of them,
    // so the variables they set have no certain value unless `--var-file` says which.
    let d = dir(
        "shipped-var-files",
        &[
            (
                "main.tf",
                r#"
variable "prefix" { default = "dev" }
variable "suffix" { default = "x" }
variable "other" { default = "o" }
resource "aws_s3_bucket" "b1" { bucket = var.prefix }
resource "aws_s3_bucket" "b2" { bucket = var.suffix }
resource "aws_s3_bucket" "b3" { bucket = var.other }
module "m" { source = "./modules/m" }
"#,
            ),
            ("terraform.tfvars", "prefix = \"tf\"\n"),
            ("prod.tfvars", "prefix = \"p\"\n"),
            ("envs/prod.tfvars", "suffix = \"prod\"\n"),
            ("envs/dev.tfvars.json", "{ \"suffix\": \"dev\" }"),
            (
                "modules/m/main.tf",
                "variable \"other\" { default = \"m\" }\n",
            ),
            // In a folder of Terraform configuration: not a file for the root's -var-file.
            ("modules/m/test.tfvars", "other = \"nope\"\n"),
        ],
    );
    let stack = analyse(&d);
    for id in ["aws_s3_bucket.b1", "aws_s3_bucket.b2"] {
        let v = prop(&stack, id, &["BucketName"]);
        assert!(matches!(v.kind, ValueKind::Unknown(_)), "{id}: {v:?}");
    }
    assert_eq!(text(prop(&stack, "aws_s3_bucket.b3", &["BucketName"])), "o");

    // Named with --var-file, the files give the values, as `terraform plan -var-file` does.
    let options = Options {
        vars: Default::default(),
        var_files: vec![d.0.join("envs/prod.tfvars")],
        ..Options::default()
    };
    let (stack, diags, _) = analyse_with(&d, &options);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        text(prop(&stack, "aws_s3_bucket.b1", &["BucketName"])),
        "tf"
    );
    assert_eq!(
        text(prop(&stack, "aws_s3_bucket.b2", &["BucketName"])),
        "prod"
    );
}

#[test]
fn json_var_files_with_json_escapes_are_read() {
    // `\/` is a JSON escape (RFC 8259, section 7) that the native syntax does not have: a
    // shipped `.tfvars.json` writing one still sets its variables, which are then unknown.
    let d = dir(
        "json-var-file-escapes",
        &[
            (
                "main.tf",
                "variable \"path\" { default = \"dflt\" }\nresource \"aws_s3_bucket\" \"b\" { bucket = var.path }\n",
            ),
            ("envs/prod.tfvars.json", r#"{ "path": "reports\/prod" }"#),
        ],
    );
    let stack = analyse(&d);
    let v = prop(&stack, "aws_s3_bucket.b", &["BucketName"]);
    assert!(matches!(v.kind, ValueKind::Unknown(_)), "{v:?}");
    let options = Options {
        var_files: vec![d.0.join("envs/prod.tfvars.json")],
        ..Options::default()
    };
    let (stack, _, _) = analyse_with(&d, &options);
    assert_eq!(
        text(prop(&stack, "aws_s3_bucket.b", &["BucketName"])),
        "reports/prod"
    );
}

#[test]
fn references_are_typed_as_cloudformation_attributes() {
    let d = dir(
        "refs",
        &[(
            "main.tf",
            r#"
resource "aws_sqs_queue" "q" { name = "jobs" }
resource "aws_iam_role" "r" { name = "worker" }
resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = aws_iam_role.r.arn
  dead_letter_config { target_arn = aws_sqs_queue.q.url }
}
"#,
        )],
    );
    let stack = analyse(&d);
    let role = prop(&stack, "aws_lambda_function.f", &["Role"]);
    match &role.kind {
        ValueKind::Ref(r) => {
            assert_eq!(r.resource, "aws_iam_role.r");
            assert_eq!(r.attribute, Attribute::Get("Arn".into()));
        }
        other => panic!("{other:?}"),
    }
    // A queue's url is what `Ref` of a queue returns: a URL, never an ARN (IAM011).
    let dlq = prop(
        &stack,
        "aws_lambda_function.f",
        &["DeadLetterConfig", "TargetArn"],
    );
    assert!(
        matches!(&dlq.kind, ValueKind::Ref(r) if r.attribute == Attribute::Ref),
        "{dlq:?}"
    );
}

#[test]
fn count_and_for_each_make_one_resource_per_instance() {
    // https://developer.hashicorp.com/terraform/language/meta-arguments/count and for_each
    let d = dir(
        "instances",
        &[(
            "main.tf",
            r#"
variable "create" { default = true }
variable "unknown_count" {}
resource "aws_sqs_queue" "c" {
  count = var.create ? 2 : 0
  name  = "q-${count.index}"
}
resource "aws_sqs_queue" "none" {
  count = var.create ? 0 : 1
  name  = "never"
}
resource "aws_sqs_queue" "e" {
  for_each = toset(["a", "b"])
  name     = "q-${each.key}"
}
resource "aws_sqs_queue" "u" {
  count = var.unknown_count
  name  = "maybe"
}
"#,
        )],
    );
    let stack = analyse(&d);
    let ids: Vec<&str> = stack.resources().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "aws_sqs_queue.c[0]",
            "aws_sqs_queue.c[1]",
            "aws_sqs_queue.e[\"a\"]",
            "aws_sqs_queue.e[\"b\"]",
            "aws_sqs_queue.u[*]"
        ]
    );
    assert_eq!(
        text(prop(&stack, "aws_sqs_queue.e[\"b\"]", &["QueueName"])),
        "q-b"
    );
}

#[test]
fn an_unknown_condition_keeps_both_branches() {
    let d = dir(
        "choice",
        &[(
            "main.tf",
            r#"
variable "prod" {}
resource "aws_sqs_queue" "q" { name = var.prod ? "prod" : "dev" }
"#,
        )],
    );
    let stack = analyse(&d);
    let v = prop(&stack, "aws_sqs_queue.q", &["QueueName"]);
    let alts: Vec<String> = v.alternatives().into_iter().map(text).collect();
    assert_eq!(alts, ["prod", "dev"]);
}

#[test]
fn functions_policies_are_built_with() {
    let d = dir(
        "functions",
        &[(
            "main.tf",
            r#"
locals {
  arns  = concat(["a"], ["b", "c"])
  m     = { x = "1" }
  items = [for s in local.arns : upper(s) if s != "b"]
}
resource "aws_sqs_queue" "q" {
  name = join("-", [
    element(local.arns, 4),
    lookup(local.m, "y", "dflt"),
    replace("a.b.c", ".", "_"),
    coalesce("", "first"),
    try(local.m.missing, "caught"),
    tostring(can(local.m.missing)),
    join("+", local.items),
    length(distinct(flatten([["a"], ["a", "b"]]))),
    one(values(local.m)),
  ])
}
"#,
        )],
    );
    let stack = analyse(&d);
    assert_eq!(
        text(prop(&stack, "aws_sqs_queue.q", &["QueueName"])),
        "b-dflt-a_b_c-first-caught-false-A+C-2-1"
    );
}

#[test]
fn heredoc_json_policies_keep_their_lines_and_references() {
    let d = dir(
        "heredoc",
        &[(
            "main.tf",
            r#"resource "aws_s3_bucket" "b" { bucket = "reports" }
resource "aws_iam_role" "r" {
  name = "r"
  assume_role_policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"
  }]
}
EOF
}
resource "aws_iam_role_policy" "p" {
  role   = aws_iam_role.r.id
  policy = <<-POLICY
    {
      "Version": "2012-10-17",
      "Statement": [{
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "${aws_s3_bucket.b.arn}/*"
      }]
    }
  POLICY
}
"#,
        )],
    );
    let (stack, diags, ws) = analyse_with(&d, &Options::default());
    assert!(diags.is_empty());
    let trust = prop(&stack, "aws_iam_role.r", &["AssumeRolePolicyDocument"]);
    let principal = trust.get("Statement").unwrap().as_list().unwrap()[0]
        .get_path(&["Principal", "Service"])
        .unwrap();
    assert_eq!(text(principal), "lambda.amazonaws.com");
    let file = ws.get(principal.span.file).unwrap();
    assert_eq!(file.line_col(principal.span.start).line, 9);
    let resource = prop(&stack, "aws_iam_role_policy.p", &["PolicyDocument"])
        .get("Statement")
        .unwrap()
        .as_list()
        .unwrap()[0]
        .get("Resource")
        .unwrap();
    match &resource.kind {
        ValueKind::Template(parts) => {
            assert!(
                matches!(&parts[0], iamlint_core::Part::Ref(r) if r.resource == "aws_s3_bucket.b")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(file.line_col(resource.span.start).line, 23);
}

#[test]
fn policy_documents_merge_source_and_override_by_sid() {
    // https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/iam_policy_document
    let d = dir(
        "policy-document",
        &[(
            "main.tf",
            r#"
data "aws_iam_policy_document" "base" {
  statement {
    sid       = "Read"
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
}
data "aws_iam_policy_document" "override" {
  statement {
    sid       = "Read"
    actions   = ["s3:GetObjectVersion"]
    resources = ["*"]
  }
}
data "aws_iam_policy_document" "p" {
  source_policy_documents   = [data.aws_iam_policy_document.base.json]
  override_policy_documents = [data.aws_iam_policy_document.override.json]
  statement {
    actions   = ["sqs:SendMessage"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = ["111122223333"]
    }
  }
  dynamic "statement" {
    for_each = ["kms:Decrypt"]
    content {
      actions   = [statement.value]
      resources = ["*"]
    }
  }
}
resource "aws_iam_policy" "p" { policy = data.aws_iam_policy_document.p.json }
"#,
        )],
    );
    let stack = analyse(&d);
    let doc = prop(&stack, "aws_iam_policy.p", &["PolicyDocument"]);
    let statements = doc.get("Statement").unwrap().as_list().unwrap();
    let actions: Vec<String> = statements
        .iter()
        .map(|s| text(&s.get("Action").unwrap().as_list().unwrap()[0]))
        .collect();
    assert_eq!(
        actions,
        ["s3:GetObjectVersion", "sqs:SendMessage", "kms:Decrypt"]
    );
    assert!(
        statements[1]
            .get_path(&["Condition", "StringEquals", "aws:SourceAccount"])
            .is_some()
    );
}

#[test]
fn local_modules_pass_inputs_and_outputs() {
    // https://developer.hashicorp.com/terraform/language/modules/syntax
    let d = dir(
        "modules",
        &[
            (
                "main.tf",
                r#"
module "queue" {
  source = "./queue"
  name   = "orders"
}
resource "aws_lambda_event_source_mapping" "m" {
  event_source_arn = module.queue.arn
  function_name    = "f"
}
"#,
            ),
            (
                "queue/main.tf",
                r#"
variable "name" {}
resource "aws_sqs_queue" "this" { name = var.name }
output "arn" { value = aws_sqs_queue.this.arn }
"#,
            ),
        ],
    );
    let stack = analyse(&d);
    assert_eq!(
        text(prop(
            &stack,
            "module.queue.aws_sqs_queue.this",
            &["QueueName"]
        )),
        "orders"
    );
    let source = prop(
        &stack,
        "aws_lambda_event_source_mapping.m",
        &["EventSourceArn"],
    );
    assert!(
        matches!(&source.kind, ValueKind::Ref(r) if r.resource == "module.queue.aws_sqs_queue.this"),
        "{source:?}"
    );
}

#[test]
fn registry_modules_are_open_until_terraform_init_downloads_them() {
    let main = r#"
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.0.0"
}
resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = "arn:aws:iam::111122223333:role/x"
  vpc_config {
    subnet_ids         = module.vpc.private_subnets
    security_group_ids = []
  }
}
"#;
    let d = dir("registry", &[("main.tf", main)]);
    let stack = analyse(&d);
    let subnets = prop(&stack, "aws_lambda_function.f", &["VpcConfig", "SubnetIds"]);
    assert!(subnets.is_unknown(), "{subnets:?}");

    // After `terraform init`: .terraform/modules/modules.json names the downloaded folder.
    let d = dir(
        "registry-init",
        &[
            ("main.tf", main),
            (
                ".terraform/modules/modules.json",
                r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"vpc","Source":"registry.terraform.io/terraform-aws-modules/vpc/aws","Version":"5.0.0","Dir":".terraform/modules/vpc"}]}"#,
            ),
            (
                ".terraform/modules/vpc/main.tf",
                r#"output "private_subnets" { value = ["subnet-1", "subnet-2"] }"#,
            ),
        ],
    );
    let stack = analyse(&d);
    let subnets = prop(&stack, "aws_lambda_function.f", &["VpcConfig", "SubnetIds"]);
    assert_eq!(subnets.as_list().unwrap().len(), 2);
}

#[test]
fn cycles_between_locals_and_modules_are_input_errors() {
    let d = dir(
        "cycles",
        &[
            (
                "main.tf",
                "locals {\n  a = local.b\n  b = local.a\n}\nresource \"aws_sqs_queue\" \"q\" { name = local.a }\nmodule \"self\" { source = \"./m\" }\n",
            ),
            ("m/main.tf", "module \"back\" { source = \"../m\" }\n"),
        ],
    );
    let (stack, diags, _) = analyse_with(&d, &Options::default());
    assert!(stack.resource("aws_sqs_queue.q").is_some());
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("cycle between locals")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("cycle between modules")),
        "{messages:?}"
    );
    assert!(diags.iter().all(Diagnostic::is_input_error));
}

#[test]
fn attachments_fold_into_the_role_and_unknown_dynamic_blocks_stay_unknown() {
    let d = dir(
        "attach",
        &[(
            "main.tf",
            r#"
variable "statements" {}
resource "aws_iam_role" "r" { name = "r" }
resource "aws_iam_role_policy_attachment" "a" {
  role       = aws_iam_role.r.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}
data "aws_iam_policy_document" "d" {
  dynamic "statement" {
    for_each = var.statements
    content {
      actions   = statement.value.actions
      resources = ["*"]
    }
  }
}
resource "aws_iam_policy" "p" { policy = data.aws_iam_policy_document.d.json }
"#,
        )],
    );
    let stack = analyse(&d);
    let arns = prop(&stack, "aws_iam_role.r", &["ManagedPolicyArns"]);
    assert_eq!(
        text(&arns.as_list().unwrap()[0]),
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    );
    assert!(prop(&stack, "aws_iam_policy.p", &["PolicyDocument"]).is_unknown());
}

#[test]
fn invalid_hcl_is_an_input_error_with_its_line() {
    let d = dir(
        "invalid",
        &[(
            "main.tf",
            "resource \"aws_sqs_queue\" \"q\" {\n  name = \n}\n",
        )],
    );
    let ws = Workspace::new(0, &[]);
    let _ = analyse_root(&ws, Path::new(&d.0), &Options::default());
    let diags = ws.parse_diagnostics();
    assert_eq!(diags.len(), 1, "{diags:?}");
    let file = ws.get(diags[0].span.file).unwrap();
    assert!(file.line_col(diags[0].span.start).line >= 2);
}

#[test]
fn json_configuration_files_are_read_like_hcl() {
    // https://developer.hashicorp.com/terraform/language/syntax/json: the same blocks as
    // nested objects, strings as templates.
    let d = dir(
        "json",
        &[(
            "main.tf.json",
            "{\n  \"resource\": {\n    \"aws_iam_role\": {\"r\": {\"name\": \"r\"}},\n    \"aws_lambda_function\": {\n      \"f\": {\n        \"function_name\": \"f\",\n        \"role\": \"${aws_iam_role.r.arn}\",\n        \"vpc_config\": {\"subnet_ids\": [\"subnet-1\"]}\n      }\n    }\n  }\n}\n",
        )],
    );
    let stack = analyse(&d);
    let role = prop(&stack, "aws_lambda_function.f", &["Role"]);
    assert!(
        matches!(&role.kind, ValueKind::Ref(r) if r.resource == "aws_iam_role.r"),
        "{role:?}"
    );
    let subnets = prop(&stack, "aws_lambda_function.f", &["VpcConfig", "SubnetIds"]);
    assert_eq!(subnets.as_list().unwrap().len(), 1);
}

#[test]
fn json_strings_are_decoded_before_their_templates_are_read() {
    // https://developer.hashicorp.com/terraform/language/syntax/json#expression-mapping: a
    // JSON string is decoded, then parsed as a template, so quotes inside `${…}` are JSON
    // escapes (CDK for Terraform writes every jsonencode so), and `\/` is a JSON escape.
    let d = dir(
        "json-escapes",
        &[(
            "cdk.tf.json",
            r#"{
  "resource": {
    "aws_sqs_queue": {"q": {"name": "jobs\/in"}},
    "aws_iam_role": {
      "r": {
        "name": "${format(\"%s-role\", \"worker\")}",
        "assume_role_policy": "${jsonencode({\"Version\" = \"2012-10-17\", \"Statement\" = [{\"Effect\" = \"Allow\", \"Action\" = \"sts:AssumeRole\", \"Principal\" = {\"Service\" = \"lambda.amazonaws.com\"}}]})}"
      }
    }
  }
}
"#,
        )],
    );
    let stack = analyse(&d);
    assert_eq!(
        text(prop(&stack, "aws_sqs_queue.q", &["QueueName"])),
        "jobs/in"
    );
    assert_eq!(
        text(prop(&stack, "aws_iam_role.r", &["RoleName"])),
        "worker-role"
    );
    let trust = prop(&stack, "aws_iam_role.r", &["AssumeRolePolicyDocument"]);
    let principal = trust.get("Statement").unwrap().as_list().unwrap()[0]
        .get_path(&["Principal", "Service"])
        .unwrap();
    assert_eq!(text(principal), "lambda.amazonaws.com");
}

#[test]
fn override_files_merge_into_the_blocks_they_override() {
    // https://developer.hashicorp.com/terraform/language/files/override: an argument replaces
    // the argument, a nested block replaces the blocks of its type, the rest is kept.
    let d = dir(
        "override",
        &[
            (
                "main.tf",
                "resource \"aws_lambda_function\" \"f\" {\n  function_name = \"f\"\n  role = \"arn:aws:iam::111122223333:role/r\"\n  vpc_config {\n    subnet_ids = [\"subnet-1\"]\n  }\n}\n",
            ),
            (
                "main_override.tf",
                "resource \"aws_lambda_function\" \"f\" {\n  function_name = \"g\"\n  vpc_config {\n    subnet_ids = [\"subnet-2\", \"subnet-3\"]\n  }\n}\n",
            ),
        ],
    );
    let stack = analyse(&d);
    assert_eq!(stack.resources().len(), 1);
    assert_eq!(
        text(prop(&stack, "aws_lambda_function.f", &["FunctionName"])),
        "g"
    );
    assert!(
        prop(&stack, "aws_lambda_function.f", &["Role"])
            .as_str()
            .is_some()
    );
    let subnets = prop(&stack, "aws_lambda_function.f", &["VpcConfig", "SubnetIds"]);
    assert_eq!(subnets.as_list().unwrap().len(), 2);
}

#[test]
fn principals_out_of_sight_are_opened_not_guessed() {
    // A role handed to a module iamlint cannot read, a policy attached to a role named by an
    // unknown value, and a KMS grant to a role may change what the role may do: each becomes a policy of unknown
    // content on the role (which the rules treat as an open role, and stay silent on).
    let d = dir(
        "open",
        &[(
            "main.tf",
            r#"
variable "role_name" {}
resource "aws_iam_role" "r" { name = "r" }
module "policies" {
  source    = "git::https://example.com/policies.git"
  role_name = aws_iam_role.r.name
}
resource "aws_iam_role_policy_attachment" "a" {
  role       = var.role_name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
data "aws_iam_policy_document" "d" {
  source_json = var.base_policy
  statement {
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
}
resource "aws_iam_policy" "p" { policy = data.aws_iam_policy_document.d.json }
resource "aws_kms_key" "k" {}
resource "aws_kms_grant" "g" {
  key_id            = aws_kms_key.k.key_id
  grantee_principal = aws_iam_role.r.arn
  operations        = ["Decrypt"]
}
"#,
        )],
    );
    let stack = analyse(&d);
    let opened: Vec<&str> = stack
        .resources_of("AWS::IAM::Policy")
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(
        opened,
        [
            "aws_kms_grant.g#open0",
            "aws_iam_role_policy_attachment.a#unidentified",
            "module.policies#open0"
        ]
    );
    for id in opened {
        assert!(prop(&stack, id, &["PolicyDocument"]).is_unknown());
    }
    assert!(prop(&stack, "aws_iam_policy.p", &["PolicyDocument"]).is_unknown());
}
