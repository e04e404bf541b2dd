//! A reference to a computed attribute (`aws_sqs_queue.q.url`) keeps the span where the user
//! wrote it, so a finding about it points at the line to change, not at the resource it names.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use iamlint_core::ValueKind;
use iamlint_terraform::{Options, Workspace, analyse_root};
use std::path::{Path, PathBuf};

/// A fresh folder under the target directory holding `files`.
fn module(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const MAIN: &str = r#"resource "aws_sqs_queue" "q" {
  name = "jobs"
}

resource "aws_iam_role_policy" "send" {
  name = "send"
  role = "worker"
  policy = jsonencode({
    Statement = [{
      Effect   = "Allow"
      Action   = "sqs:SendMessage"
      Resource = aws_sqs_queue.q.url
    }]
  })
}
"#;

#[test]
fn a_reference_has_the_span_of_the_expression_that_writes_it() {
    let dir = module("reference_spans", &[("main.tf", MAIN)]);
    let main = dir.join("main.tf");
    let ws = Workspace::new(0, std::slice::from_ref(&main));
    let analysed = analyse_root(&ws, &dir, &Options::default()).unwrap();
    let policy = analysed.stack.resource("aws_iam_role_policy.send").unwrap();
    let resource = policy
        .property_path(&["PolicyDocument", "Statement"])
        .and_then(|s| s.as_list())
        .and_then(|s| s.first())
        .and_then(|s| s.get("Resource"))
        .unwrap();
    assert!(matches!(resource.kind, ValueKind::Ref(_)), "{resource:?}");
    let start = MAIN.find("aws_sqs_queue.q.url").unwrap();
    assert_eq!(resource.span.start as usize, start);
    assert_eq!(
        resource.span.end as usize,
        start + "aws_sqs_queue.q.url".len()
    );
}
