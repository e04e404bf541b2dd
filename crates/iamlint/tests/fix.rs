//! Safe fixes (`--fix`, `--diff`): for each rule with one, in YAML, JSON and HCL, the fixed text
//! re-checks clean for that rule, and every byte outside the edits is unchanged (comments and
//! formatting included). Fixtures: `testdata/fix/<rule>/`, each citing the AWS page behind it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod common;

use common::{iamlint, stderr, stdout, workspace};
use iamlint::run::{RunOptions, run};
use iamlint_core::Edit;
use iamlint_rules::Selection;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    common::scratch("fix", name)
}

fn options(path: &Path, code: &str) -> RunOptions {
    RunOptions {
        paths: vec![path.to_path_buf()],
        parameters: HashMap::new(),
        terraform: Default::default(),
        rules: Selection::new(&[code.to_string()], &[]).unwrap(),
        ..RunOptions::default()
    }
}

/// Fixes one fixture (a template, or a Terraform folder) for one rule, checks the result and
/// returns the fixed texts.
fn fixes_cleanly(rule: &str, code: &str, fixture: &str) -> String {
    let source = workspace().join("testdata/fix").join(rule).join(fixture);
    let dir = scratch(&format!("{rule}-{fixture}"));
    let target = dir.join(fixture);
    if source.is_dir() {
        common::copy_tree(&source, &target);
    } else {
        std::fs::copy(&source, &target).unwrap();
    }
    let before = run(&options(&target, code));
    let findings: Vec<_> = before
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .collect();
    assert!(!findings.is_empty(), "{rule}/{fixture}: no finding");
    // Every finding carries a safe fix, and its edits replace nothing but whitespace.
    let mut by_file: HashMap<PathBuf, (String, Vec<&Edit>)> = HashMap::new();
    for d in &findings {
        let fix = d
            .fix
            .as_ref()
            .unwrap_or_else(|| panic!("{rule}/{fixture}: no fix for {}", d.message));
        assert!(fix.is_safe(), "{rule}/{fixture}: {}", fix.message);
        for edit in &fix.edits {
            let file = before.sources.get(edit.span.file).unwrap();
            assert!(
                file.snippet(edit.span).trim().is_empty(),
                "{rule}/{fixture}: an edit replaces {:?}",
                file.snippet(edit.span)
            );
            by_file
                .entry(file.path.clone())
                .or_insert_with(|| (file.text.to_string(), Vec::new()))
                .1
                .push(edit);
        }
    }

    let fixed = iamlint::apply::fix(&options(&target, code), &Default::default());
    assert_eq!(fixed.fixed, findings.len(), "{rule}/{fixture}");
    let remaining: Vec<_> = fixed
        .output
        .diagnostics
        .iter()
        .filter(|d| d.code == code || d.is_input_error())
        .map(|d| d.message.clone())
        .collect();
    assert!(
        remaining.is_empty(),
        "{rule}/{fixture}: after the fix: {remaining:#?}"
    );
    // The fixed text is exactly the original with the edits applied: every other byte kept.
    assert_eq!(fixed.changes.len(), by_file.len());
    for change in &fixed.changes {
        let (text, edits) = &by_file[&change.path];
        assert_eq!(&*change.before, text.as_str());
        let expected = iamlint_core::fix::apply_edits(text, edits).unwrap();
        assert_eq!(&*change.after, expected, "{rule}/{fixture}");
    }
    // Comments survive.
    for (text, _) in by_file.values() {
        for line in text.lines().filter(|l| l.contains('#')) {
            let comment = &line[line.find('#').unwrap()..];
            assert!(
                fixed.changes.iter().any(|c| c.after.contains(comment)),
                "{rule}/{fixture}: lost {comment}"
            );
        }
    }
    // Nothing was written.
    for change in &fixed.changes {
        assert_eq!(
            std::fs::read_to_string(&change.path).unwrap(),
            &*change.before
        );
    }
    fixed.changes.iter().map(|c| c.after.to_string()).collect()
}

#[test]
fn secret_arn_suffix() {
    for fixture in ["template.cfn.yaml", "template.cfn.json", "hcl.tf"] {
        fixes_cleanly("secret-arn-missing-suffix", "IAM012", fixture);
    }
}

#[test]
fn s3_bucket_or_object_arn_beside_the_mismatched_one() {
    // A bucket named by a parameter or variable stays so (not its current value).
    for (fixture, expected) in [
        (
            "template.cfn.yaml",
            "- !Sub 'arn:${AWS::Partition}:s3:::${ArchiveBucket}'\n",
        ),
        (
            "template.cfn.json",
            "{ \"Fn::Sub\": \"arn:${AWS::Partition}:s3:::${ArchiveBucket}\" }]",
        ),
        ("hcl.tf", "\"arn:aws:s3:::${var.archive_bucket}\"]"),
    ] {
        let fixed = fixes_cleanly("action-resource-type-mismatch", "IAM010", fixture);
        assert!(fixed.contains(expected), "{fixed}");
    }
}

#[test]
fn dynamodb_index_arn_beside_the_table() {
    for fixture in ["template.cfn.yaml", "template.cfn.json", "hcl.tf"] {
        fixes_cleanly("dynamodb-index-arn-missing", "IAM017", fixture);
    }
}

#[test]
fn vpc_access_managed_policy_on_the_role() {
    for fixture in ["template.cfn.yaml", "template.cfn.json", "hcl.tf"] {
        fixes_cleanly("lambda-vpc-eni-permissions", "IAM001", fixture);
    }
}

/// A statement whose other actions would gain the new ARN's resource type gets an unsafe fix,
/// which `--fix` leaves alone.
#[test]
fn a_fix_that_widens_another_action_is_unsafe() {
    let dir = scratch("unsafe");
    let path = dir.join("t.yaml");
    std::fs::write(
        &path,
        "\
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [s3:ListBucket, \"s3:Get*\"]
                Resource: !Sub \"${Bucket.Arn}/*\"
",
    )
    .unwrap();
    let output = run(&options(&path, "IAM010"));
    let fix = output.diagnostics[0].fix.as_ref().unwrap();
    assert!(!fix.is_safe(), "{}", fix.message);
    let fixed = iamlint::apply::fix(&options(&path, "IAM010"), &Default::default());
    assert_eq!(fixed.fixed, 0);
    assert!(fixed.changes.is_empty());
}

#[test]
fn the_command_line_writes_only_with_fix_and_reports_what_remains() {
    let dir = scratch("cli");
    let source = workspace().join("testdata/fix/secret-arn-missing-suffix/template.cfn.yaml");
    let path = dir.join("template.yaml");
    std::fs::copy(&source, &path).unwrap();
    let original = std::fs::read_to_string(&path).unwrap();

    let diff = iamlint(&["--diff", "template.yaml"], &dir);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    assert!(
        stdout(&diff).starts_with("--- a/template.yaml\n+++ b/template.yaml\n"),
        "{}",
        stdout(&diff)
    );
    assert!(stdout(&diff).contains("+                Resource: \"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/queue-??????\"\n"));
    assert!(stderr(&diff).contains("Would fix 4 findings (0 remaining)."));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);

    let fix = iamlint(&["--fix", "--format", "compact", "template.yaml"], &dir);
    assert_eq!(fix.status.code(), Some(0), "{}", stderr(&fix));
    assert!(stderr(&fix).contains("Fixed 4 findings (0 remaining)."));
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written.matches("-??????").count(), 4);

    let again = iamlint(&["--diff", "template.yaml"], &dir);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(stdout(&again), "");
}

#[test]
fn json_and_sarif_carry_the_fix() {
    let root = workspace().canonicalize().unwrap();
    let out = iamlint(
        &[
            "--format",
            "json",
            "--select",
            "IAM017",
            "testdata/fix/dynamodb-index-arn-missing/template.cfn.yaml",
        ],
        &root,
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let fix = &json["diagnostics"][0]["fix"];
    assert_eq!(fix["safety"], "safe");
    let edit = &fix["edits"][0];
    assert_eq!(
        edit["file"],
        "testdata/fix/dynamodb-index-arn-missing/template.cfn.yaml"
    );
    assert_eq!(edit["start"], edit["end"]);
    assert_eq!(edit["line"], 38);
    assert_eq!(
        edit["replacement"],
        "\n                  - !Sub \"${Orders.Arn}/index/*\""
    );

    let out = iamlint(
        &[
            "--format",
            "sarif",
            "--select",
            "IAM017",
            "testdata/fix/dynamodb-index-arn-missing/template.cfn.yaml",
        ],
        &root,
    );
    let sarif: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let change = &sarif["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0];
    assert_eq!(
        change["artifactLocation"]["uri"],
        "testdata/fix/dynamodb-index-arn-missing/template.cfn.yaml"
    );
    let replacement = &change["replacements"][0];
    assert_eq!(replacement["deletedRegion"]["byteOffset"], edit["start"]);
    assert_eq!(replacement["deletedRegion"]["byteLength"], 0);
    assert_eq!(replacement["insertedContent"]["text"], edit["replacement"]);
}
