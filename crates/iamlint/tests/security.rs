//! The README's security statement, tested: iamlint writes nothing into the tree it checks and
//! never executes anything a repository asks for (Terraform `external` data sources and
//! provisioners, SAM/CDK build commands, scripts named by templates).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod common;

use common::{iamlint, workspace};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

fn scratch(name: &str) -> PathBuf {
    common::scratch("security", name)
}

/// Every path below `dir` with its contents and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, Option<SystemTime>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let entry = entry.expect("entry");
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                out.insert(entry.path(), (Vec::new(), None));
                stack.push(entry.path());
            } else {
                let bytes = std::fs::read(entry.path()).expect("read");
                out.insert(entry.path(), (bytes, meta.modified().ok()));
            }
        }
    }
    out
}

#[test]
fn a_check_writes_nothing_into_the_tree_or_the_working_directory() {
    let dir = scratch("writes");
    let tree = dir.join("repo");
    common::copy_tree(&workspace().join("examples"), &tree);
    let before = snapshot(&dir);
    for format in ["human", "compact", "json", "sarif", "github", "junit"] {
        let out = iamlint(&["--format", format, "repo"], &dir);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: the broken examples report"
        );
        let out = iamlint(&["--format", format, "."], &tree);
        assert_eq!(out.status.code(), Some(1), "{format}");
    }
    for args in [
        &["rules"][..],
        &["explain", "IAM001"][..],
        &["--var", "x=1", "repo/terraform/broken"][..],
    ] {
        let _ = iamlint(args, &dir);
    }
    assert_eq!(
        before,
        snapshot(&dir),
        "a check must not create, change or touch any file"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nothing_a_repository_asks_for_is_executed() {
    let dir = scratch("exec");
    let marker = |name: &str| dir.join(format!("EXECUTED-{name}"));
    let touch = |name: &str| format!("touch {}", marker(name).display());
    // Terraform: an external data source and local-exec provisioners run programs under
    // `terraform plan/apply`; iamlint reads them as configuration only.
    let tf = dir.join("tf");
    std::fs::create_dir_all(&tf).expect("mkdir");
    std::fs::write(
        tf.join("main.tf"),
        format!(
            r#"data "external" "probe" {{
  program = ["sh", "-c", "{external}; echo '{{}}'"]
}}

resource "null_resource" "probe" {{
  provisioner "local-exec" {{
    command = "{local_exec}"
  }}
}}

resource "aws_iam_role" "r" {{
  name               = "r-${{data.external.probe.result.suffix}}"
  assume_role_policy = jsonencode({{ Version = "2012-10-17", Statement = [] }})
}}

locals {{
  generated = file("${{path.module}}/generated.json")
}}
"#,
            external = touch("external"),
            local_exec = touch("local-exec"),
        ),
    )
    .expect("write");
    // SAM/CloudFormation: a makefile build and a CDK app command are commands of other tools.
    let sam = dir.join("sam");
    std::fs::create_dir_all(&sam).expect("mkdir");
    std::fs::write(
        sam.join("Makefile"),
        format!("build-Fn:\n\t{}\n", touch("makefile")),
    )
    .expect("write");
    std::fs::write(
        sam.join("template.yaml"),
        r"Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: .
",
    )
    .expect("write");
    std::fs::write(
        sam.join("cdk.json"),
        format!(r#"{{"app": "{}"}}"#, touch("cdk")),
    )
    .expect("write");
    let out = iamlint(&["."], &dir);
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "ran to completion: {:?}",
        out.status
    );
    for name in ["external", "local-exec", "makefile", "cdk"] {
        assert!(
            !marker(name).exists(),
            "iamlint executed the repository's {name} command"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
