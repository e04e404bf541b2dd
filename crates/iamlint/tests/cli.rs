//! The command as users run it: exit codes, formats, bad input, discovery.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod common;

use common::{iamlint, stdout, workspace};
use std::path::PathBuf;

/// A scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    common::scratch("cli", name)
}

/// Writes `text` to `path` under `dir`, with the folders it needs.
fn put(dir: &std::path::Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const BROKEN: &str = "testdata/rules/lambda-vpc-eni-permissions/bad.cfn.yaml";

#[test]
fn findings_exit_1_and_clean_exit_0() {
    let o = iamlint(&["--format", "compact", BROKEN], &workspace());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("error[IAM001]"), "{}", stdout(&o));

    let good = "testdata/rules/lambda-vpc-eni-permissions/good.cfn.yaml";
    let o = iamlint(
        &["--format", "compact", "--select", "IAM001", good],
        &workspace(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn fail_on_and_ignore() {
    let o = iamlint(
        &["--ignore", "lambda-vpc-eni-permissions", BROKEN],
        &workspace(),
    );
    assert_eq!(o.status.code(), Some(0));
    let o = iamlint(&["--select", "IAM999", BROKEN], &workspace());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn json_shape() {
    let o = iamlint(&["--format", "json", BROKEN], &workspace());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], 1);
    let d = &v["diagnostics"][0];
    let mut keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "code",
            "column",
            "end_column",
            "end_line",
            "file",
            "fingerprint",
            "fix",
            "help",
            "line",
            "message",
            "name",
            "resource",
            "severity"
        ]
    );
    assert_eq!(d["code"], "IAM001");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], BROKEN);
    assert_eq!(d["resource"], "Worker");
    assert_eq!(v["summary"]["errors"], 1);
}

#[test]
fn other_yaml_and_json_produce_no_output() {
    let dir = scratch("other");
    std::fs::write(
        dir.join("ci.yml"),
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps: [{run: make}]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("package.json"),
        "{\"name\": \"x\", \"version\": \"1.0.0\"}",
    )
    .unwrap();
    std::fs::write(
        dir.join("compose.yaml"),
        "services:\n  web:\n    image: nginx\n",
    )
    .unwrap();
    std::fs::write(dir.join("broken.yaml"), "key: [unclosed\n").unwrap();
    let o = iamlint(&["--format", "compact", "."], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
}

/// Each bad input gives one IAM000 with its file and line, the run goes on with the other
/// files, and the exit status is 2.
#[test]
fn bad_inputs_are_reported_and_the_run_goes_on() {
    let dir = scratch("bad");
    std::fs::copy(workspace().join(BROKEN), dir.join("a-broken.yaml")).unwrap();
    std::fs::write(
        dir.join("malformed.yaml"),
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: [unclosed\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("malformed.json"),
        "{\"AWSTemplateFormatVersion\": \"2010-09-09\",\n \"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\",}}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("intrinsic.yaml"),
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sbu '${AWS::StackName}-q'\n",
    )
    .unwrap();
    let mut latin1 = b"AWSTemplateFormatVersion: '2010-09-09'\nDescription: caf".to_vec();
    latin1.extend_from_slice(&[0xe9, b'\n']);
    latin1.extend_from_slice(b"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n");
    std::fs::write(dir.join("latin1.yaml"), latin1).unwrap();
    let mut bomb = String::from(
        "AWSTemplateFormatVersion: '2010-09-09'\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    bomb.push_str(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Tags: *a11\n",
    );
    std::fs::write(dir.join("bomb.yaml"), bomb).unwrap();
    let deep = format!(
        "{{\"AWSTemplateFormatVersion\": \"2010-09-09\", \"Resources\": {{\"Q\": {{\"Type\": \"AWS::SQS::Queue\", \"Properties\": {{\"Tags\": {}{}}}}}}}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    std::fs::write(dir.join("deep.json"), deep).unwrap();
    let deep_yaml = format!(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Tags: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    std::fs::write(dir.join("deep.yaml"), deep_yaml).unwrap();

    let o = iamlint(&["--format", "compact", "."], &dir);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("a-broken.yaml:") && out.contains("[IAM001]"),
        "{out}"
    );
    for (file, line) in [
        // The parser notices the unclosed list at the end of the file.
        ("malformed.yaml", 6),
        ("malformed.json", 2),
        ("intrinsic.yaml", 6),
        ("latin1.yaml", 2),
        ("bomb.yaml", 0),
        ("deep.json", 1),
        ("deep.yaml", 6),
    ] {
        let hits: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with(&format!("./{file}:")) || l.starts_with(&format!("{file}:")))
            .collect();
        assert_eq!(hits.len(), 1, "{file} should give one diagnostic:\n{out}");
        assert!(hits[0].contains("error[IAM000]"), "{}", hits[0]);
        if line > 0 {
            let at = hits[0].split(':').nth(1).unwrap();
            assert_eq!(at, line.to_string(), "{file} line: {}", hits[0]);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `terraform show -json` plan named on the command line is read as a Terraform plan; a
/// JSON file that is not a plan (nor a template) is not, and a broken plan is an input error.
#[test]
fn terraform_plan_json_is_a_unit() {
    let dir = scratch("plan");
    let plan = "testdata/rules/lambda-vpc-eni-permissions/bad.tfplan.json";
    std::fs::copy(workspace().join(plan), dir.join("tfplan.json")).unwrap();
    let o = iamlint(&["--format", "compact", "tfplan.json"], &dir);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.starts_with("tfplan.json:"), "{out}");
    assert!(
        out.contains("error[IAM001]") && out.contains("aws_lambda_function.worker"),
        "{out}"
    );

    // `terraform providers schema -json` has a format version but is no plan.
    std::fs::write(
        dir.join("schema.json"),
        "{\"format_version\": \"1.0\", \"provider_schemas\": {}}\n",
    )
    .unwrap();
    let o = iamlint(&["--format", "compact", "schema.json"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");

    std::fs::write(
        dir.join("broken.json"),
        "{\"format_version\": \"1.2\",\n \"planned_values\": {\"root_module\": {\"resources\": [}}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("future.json"),
        "{\"format_version\": \"2.0\", \"planned_values\": {}}\n",
    )
    .unwrap();
    for (file, line) in [("broken.json", 2), ("future.json", 1)] {
        let o = iamlint(&["--format", "compact", file], &dir);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(2), "{out}");
        assert!(
            out.starts_with(&format!("{file}:{line}:")) && out.contains("error[IAM000]"),
            "{out}"
        );
    }
    // Found by walking a folder too.
    std::fs::remove_file(dir.join("broken.json")).unwrap();
    std::fs::remove_file(dir.join("future.json")).unwrap();
    let o = iamlint(&["--format", "compact", "."], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("error[IAM001]"), "{}", stdout(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_path_exits_2() {
    let o = iamlint(&["no/such/dir"], &workspace());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn explicit_file_is_checked_even_when_ignored() {
    let dir = scratch("ignored");
    std::fs::create_dir_all(dir.join("build")).unwrap();
    std::fs::write(dir.join(".gitignore"), "build/\n").unwrap();
    std::fs::copy(workspace().join(BROKEN), dir.join("build/t.yaml")).unwrap();
    let o = iamlint(&["--format", "compact", "."], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = iamlint(&["--format", "compact", "build/t.yaml"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}

#[test]
fn rules_and_explain() {
    let o = iamlint(&["rules"], &workspace());
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("IAM001  lambda-vpc-eni-permissions"));
    let o = iamlint(&["explain", "IAM001"], &workspace());
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    for section in [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## How to fix",
        "## References",
    ] {
        assert!(text.contains(section), "missing {section}:\n{text}");
    }
    let o = iamlint(&["explain", "IAM999"], &workspace());
    assert_eq!(o.status.code(), Some(2));
}

/// The README's first command runs iamlint on `examples/`: every broken template must report
/// something, every fixed one nothing (with all rules on).
#[test]
fn bundled_examples_broken_report_and_fixed_are_clean() {
    let o = iamlint(&["--format", "compact", "examples"], &workspace());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    let mut templates = Vec::new();
    for dir in ["examples/cloudformation", "examples/sam"] {
        for entry in std::fs::read_dir(workspace().join(dir)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            templates.push(format!("{dir}/{name}"));
        }
    }
    assert!(templates.len() >= 4);
    for template in templates {
        let reported = out.lines().any(|l| l.starts_with(&format!("{template}:")));
        if template.contains("broken") {
            assert!(reported, "{template} reports nothing:\n{out}");
        } else {
            assert!(!reported, "{template} reports:\n{out}");
        }
    }
}

/// The bundled Terraform example: each mistake the Terraform issue names is reported at the
/// `.tf` line to change (a VPC function without ENI permissions, `s3:ListBucket` on
/// `"arn:aws:s3:::${var.bucket}/*"`, a secret ARN without its suffix inside `jsonencode`, a
/// heredoc trust policy for the wrong service, and a KMS-encrypted queue's consumer whose
/// permissions boundary, set inside a local module, leaves out `kms:Decrypt`); the fixed
/// version reports nothing.
#[test]
fn bundled_terraform_example_reports_each_mistake_at_its_line() {
    let o = iamlint(
        &["--format", "compact", "examples/terraform/broken"],
        &workspace(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    for expected in [
        "examples/terraform/broken/main.tf:20:1: error[IAM002]",
        "examples/terraform/broken/main.tf:35:16: error[IAM001]",
        "examples/terraform/broken/main.tf:47:20: error[IAM010]",
        "examples/terraform/broken/main.tf:52:20: ",
        "examples/terraform/broken/worker/main.tf:",
    ] {
        assert!(out.contains(expected), "missing {expected}:\n{out}");
    }
    assert!(
        out.contains("[IAM012]") && out.contains("[IAM030]"),
        "{out}"
    );
    let o = iamlint(
        &["--format", "compact", "examples/terraform/fixed"],
        &workspace(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
}
/// Templates CloudFormation accepts are read, whatever they use: `Rules` functions,
/// `Fn::ForEach` (expanded when its collection is known, unknown otherwise), Rain directives and
/// `AWS::Include` (a note, IAM000 at note severity, never exit 2).
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-rules.html>,
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-foreach.html>,
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/transform-aws-include.html>.
#[test]
fn valid_templates_are_never_input_errors() {
    let dir = scratch("valid");
    let role = std::fs::read_to_string(workspace().join(BROKEN)).unwrap();
    let role_only: String = role
        .lines()
        .take_while(|l| !l.starts_with("  Worker:"))
        .collect::<Vec<_>>()
        .join("\n");
    let looped = format!(
        "{role_only}
  Fn::ForEach::Workers:
    - Name
    - !Ref Workers
    - ${{Name}}Function:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: !GetAtt WorkerRole.Arn
          Code:
            ZipFile: \"def handler(e, c): return e\"
          VpcConfig:
            SubnetIds: [subnet-0a1b2c3d4e5f60718]
            SecurityGroupIds: [sg-0123456789abcdef0]
Rules:
  OneWorker:
    Assertions:
      - Assert: !Not [!Contains [!Ref Workers, \"\"]]
Parameters:
  Workers:
    Type: CommaDelimitedList
"
    )
    .replacen(
        "Resources:",
        "Transform: AWS::LanguageExtensions\nResources:",
        1,
    );
    std::fs::write(dir.join("looped.yaml"), &looped).unwrap();

    // The collection is unknown: nothing is said about the functions.
    let o = iamlint(
        &["--format", "compact", "--select", "IAM001", "looped.yaml"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // Known from --param: both instances are checked (one finding at the role, the fix).
    let o = iamlint(
        &[
            "--format",
            "compact",
            "--select",
            "IAM001",
            "--param",
            "Workers=Mail,Jobs",
            "looped.yaml",
        ],
        &dir,
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("MailFunction") && out.contains("JobsFunction"),
        "{out}"
    );

    std::fs::write(
        dir.join("rain.yaml"),
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Rain::Constant Name\n  M:\n    Type: !Rain::Module ./m.yaml\n",
    )
    .unwrap();
    let o = iamlint(&["--format", "compact", "rain.yaml"], &dir);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("rain.yaml:5:"), "{out}");
    assert!(out.contains("note[IAM000]"), "{out}");
    let o = iamlint(&["--fail-on", "note", "rain.yaml"], &dir);
    assert_eq!(o.status.code(), Some(1));
    let o = iamlint(&["--fail-on", "warning", "rain.yaml"], &dir);
    assert_eq!(o.status.code(), Some(0));
}

/// Invalid templates stay input errors, at the line: a cycle between conditions or between
/// resources, which CloudFormation rejects before creating anything.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-dependency-error>.
#[test]
fn cycles_are_input_errors_at_their_line() {
    let dir = scratch("cycles");
    std::fs::write(
        dir.join("cycle.yaml"),
        "AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Env: {Type: String}
Conditions:
  A: !And [!Condition B, !Equals [!Ref Env, x]]
  B: !Or [!Condition A, !Equals [!Ref Env, y]]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !GetAtt Queue.QueueName
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub '${Topic}-q'
",
    )
    .unwrap();
    let o = iamlint(&["--format", "compact", "cycle.yaml"], &dir);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("cycle.yaml:5:3: error[IAM000] circular reference between conditions"),
        "{out}"
    );
    assert!(
        out.contains("cycle.yaml:8:3: error[IAM000] circular dependency between resources: `Topic` → `Queue` → `Topic`"),
        "{out}"
    );
}

/// `--format gitlab`: GitLab's code-quality report shape
/// (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format): an array of
/// issues with description, check_name, a fingerprint unique per issue, a GitLab severity and
/// the path and first line; nothing for a clean template.
#[test]
fn gitlab_code_quality_shape() {
    let o = iamlint(&["--format", "gitlab", BROKEN], &workspace());
    assert_eq!(o.status.code(), Some(1));
    let issues: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let issues = issues.as_array().unwrap();
    assert!(!issues.is_empty());
    let mut fingerprints = std::collections::HashSet::new();
    for issue in issues {
        let mut keys: Vec<&str> = issue
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "check_name",
                "description",
                "fingerprint",
                "location",
                "severity"
            ]
        );
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&issue["severity"].as_str().unwrap())
        );
        assert_eq!(issue["location"]["path"], BROKEN);
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() > 0);
        assert!(fingerprints.insert(issue["fingerprint"].as_str().unwrap().to_string()));
    }
    assert!(issues.iter().any(|i| {
        i["severity"] == "critical" && i["check_name"].as_str().unwrap().starts_with("IAM001 ")
    }));
    let clean = iamlint(
        &[
            "--format",
            "gitlab",
            "examples/cloudformation/vpc-function-fixed.yaml",
        ],
        &workspace(),
    );
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(stdout(&clean).trim(), "[]");
}

/// `iamlint .` in the usual Terraform layout — environments calling `../../modules/x` —
/// resolves each call as Terraform does, lexically against the calling module's folder
/// (<https://developer.hashicorp.com/terraform/language/modules/sources#local-paths>): the
/// module is checked as `module.consumer` of the environment, never as a root of its own, and
/// the findings are the same from every folder the command is run in. Before, a `..` that
/// emptied a relative path went one folder too high (`env/prod/../../modules/x` became
/// `../modules/x`), so the call was lost and the module was checked alone; run from inside a
/// module repository (`examples/complete` calling `../..`), nothing at all was reported.
#[test]
fn local_modules_above_the_caller_resolve_from_any_folder() {
    let dir = scratch("tf-layout");
    let write = |path: &str, text: &str| put(&dir, path, text);
    write(
        "env/prod/main.tf",
        r#"resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

module "consumer" {
  source    = "../../modules/consumer"
  queue_arn = aws_sqs_queue.jobs.arn
}
"#,
    );
    write(
        "modules/consumer/main.tf",
        r#"variable "queue_arn" {
  type = string
}

resource "aws_iam_role" "consumer" {
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_lambda_function" "consumer" {
  function_name = "consumer"
  role          = aws_iam_role.consumer.arn
  handler       = "index.handler"
  runtime       = "python3.12"
  filename      = "consumer.zip"
}

resource "aws_lambda_event_source_mapping" "jobs" {
  event_source_arn = var.queue_arn
  function_name    = aws_lambda_function.consumer.arn
}
"#,
    );
    let run = |args: &[&str], cwd: &std::path::Path| {
        let o = iamlint(
            &[&["--format", "compact", "--select", "IAM004"], args].concat(),
            cwd,
        );
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}{}",
            stdout(&o),
            common::stderr(&o)
        );
        stdout(&o)
    };
    let from_top = run(&["."], &dir);
    assert_eq!(from_top.lines().count(), 1, "{from_top}");
    assert!(
        from_top.starts_with("modules/consumer/main.tf:")
            && from_top.contains("module.consumer.aws_lambda_event_source_mapping.jobs")
            && from_top.contains(":jobs)"),
        "{from_top}"
    );
    assert_eq!(run(&["env/prod"], &dir), from_top);
    assert_eq!(run(&["./env/prod/main.tf"], &dir), from_top);
    let from_env = run(&["."], &dir.join("env/prod"));
    assert_eq!(from_env, from_top.replacen("modules/", "../../modules/", 1));
    assert_eq!(
        run(&["prod"], &dir.join("env")),
        from_env.replacen("../../", "../", 1)
    );
}

/// A Terraform folder is one unit however its files come: with a subfolder between them in the
/// walk (`a.tf`, `m/`, `z.tf`), or named one by one on the command line, as pre-commit names
/// the changed files; and a folder that another one calls as a local module is no unit of its
/// own.
#[test]
fn a_terraform_folder_is_one_unit_however_its_files_come() {
    let dir = scratch("tf-one-unit");
    let write = |path: &str, text: &str| put(&dir, path, text);
    write(
        "a.tf",
        r#"resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

resource "aws_lambda_event_source_mapping" "jobs" {
  event_source_arn = aws_sqs_queue.jobs.arn
  function_name    = aws_lambda_function.consumer.arn
}

module "names" {
  source = "./names"
}
"#,
    );
    write(
        "m/x.yaml",
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n",
    );
    write(
        "names/main.tf",
        "output \"name\" {\n  value = \"consumer\"\n}\n",
    );
    write(
        "z.tf",
        r#"resource "aws_iam_role" "consumer" {
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_lambda_function" "consumer" {
  function_name = module.names.name
  role          = aws_iam_role.consumer.arn
  handler       = "index.handler"
  runtime       = "python3.12"
  filename      = "consumer.zip"
}
"#,
    );
    for args in [
        &["."][..],
        &["a.tf", "m/x.yaml", "names/main.tf", "z.tf"][..],
        &["z.tf", "a.tf", "m/x.yaml"][..],
    ] {
        let o = iamlint(
            &[&["--format", "json", "--select", "IAM004"], args].concat(),
            &dir,
        );
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stdout(&o));
        let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let found = report["diagnostics"].as_array().unwrap();
        assert_eq!(found.len(), 1, "{args:?}: {found:?}");
        assert_eq!(found[0]["file"], "z.tf", "{args:?}");
        // The root folder and the template; `names` is called, so it is no root of its own,
        // unless named through one of its files.
        let units = if args.contains(&"names/main.tf") {
            3
        } else {
            2
        };
        assert_eq!(report["summary"]["templates"], units, "{args:?}");
    }
}

/// A module folder that a `terragrunt.hcl` of the tree deploys (`terraform { source =
/// "../../../modules//consumer" }`) gets its variables from Terragrunt's `inputs`, passed as
/// `TF_VAR_` environment variables
/// (<https://terragrunt.gruntwork.io/docs/reference/config-blocks-and-attributes/#inputs>): they
/// are unknown, never their defaults, so a grant switched off by a default is not reported as
/// missing. The same module deployed by plain Terraform takes its defaults, and is reported.
#[test]
fn a_module_terragrunt_deploys_has_no_certain_variables() {
    let dir = scratch("terragrunt");
    let write = |path: &str, text: &str| put(&dir, path, text);
    write(
        "modules/consumer/main.tf",
        r#"variable "grant_receive" {
  type    = bool
  default = false
}

resource "aws_sqs_queue" "jobs" {
  name = "jobs"
}

resource "aws_iam_role" "consumer" {
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "receive" {
  count = var.grant_receive ? 1 : 0
  role  = aws_iam_role.consumer.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource = aws_sqs_queue.jobs.arn }]
  })
}

resource "aws_lambda_function" "consumer" {
  function_name = "consumer"
  role          = aws_iam_role.consumer.arn
  handler       = "index.handler"
  runtime       = "python3.12"
  filename      = "consumer.zip"
}

resource "aws_lambda_event_source_mapping" "jobs" {
  event_source_arn = aws_sqs_queue.jobs.arn
  function_name    = aws_lambda_function.consumer.arn
}
"#,
    );
    let run =
        |cwd: &std::path::Path| iamlint(&["--format", "compact", "--select", "IAM004", "."], cwd);
    // Deployed by plain Terraform, the default holds: the grant is off.
    let o = run(&dir);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("error[IAM004]"), "{}", stdout(&o));
    // A remote source deploys another module: this one still takes its defaults.
    write(
        "live/dev/other/terragrunt.hcl",
        "terraform {\n  source = \"git::https://example.com/modules.git//consumer?ref=v1\"\n}\n",
    );
    assert_eq!(run(&dir).status.code(), Some(1));
    // Deployed by Terragrunt with inputs, the variable has no certain value.
    write(
        "live/prod/consumer/terragrunt.hcl",
        "include \"root\" {\n  path = find_in_parent_folders()\n}\n\nterraform {\n  source = \"../../../modules//consumer\"\n}\n\ninputs = {\n  grant_receive = true\n}\n",
    );
    let o = run(&dir);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
}

/// One root cause, one finding (RULES.md): the instances `for_each` makes of a module share the
/// module's lines, so the finding of a rule at one place about instances of one declaration is
/// reported once, its help naming the other instances
/// (<https://developer.hashicorp.com/terraform/language/meta-arguments/for_each>).
#[test]
fn instances_of_one_declaration_give_one_finding() {
    let dir = scratch("tf-instances");
    put(
        &dir,
        "main.tf",
        "module \"consumer\" {\n  source   = \"./consumer\"\n  for_each = toset([\"a\", \"b\", \"c\"])\n  name     = each.key\n}\n",
    );
    put(
        &dir,
        "consumer/main.tf",
        r#"variable "name" {
  type = string
}

resource "aws_sqs_queue" "jobs" {
  name = var.name
}

resource "aws_iam_role" "consumer" {
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_lambda_function" "consumer" {
  function_name = var.name
  role          = aws_iam_role.consumer.arn
  handler       = "index.handler"
  runtime       = "python3.12"
  filename      = "consumer.zip"
}

resource "aws_lambda_event_source_mapping" "jobs" {
  event_source_arn = aws_sqs_queue.jobs.arn
  function_name    = aws_lambda_function.consumer.arn
}
"#,
    );
    let o = iamlint(&["--format", "json", "--select", "IAM004", "."], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let found = report["diagnostics"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0]["resource"],
        "module.consumer[\"a\"].aws_lambda_event_source_mapping.jobs"
    );
    let help = found[0]["help"].as_str().unwrap();
    assert!(
        help.contains("The same holds for 2 more instances of this declaration (module.consumer[\"b\"].aws_lambda_event_source_mapping.jobs, module.consumer[\"c\"].aws_lambda_event_source_mapping.jobs)"),
        "{help}"
    );
}
