//! Inputs nobody meant for a linter: each run ends, with the usual exit codes (never a panic,
//! exit 101, or a hang), and what can be reported is reported at the right place.
//! (Issue: robust and lean at any size, adversarial inputs. The 10,000-deep HCL file and
//! cyclic Terraform locals and modules are in `crates/iamlint-terraform/tests/front_end.rs`
//! and `cli.rs`; deep and huge YAML/JSON in `cli.rs`.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod common;

use common::{iamlint, stderr, stdout, workspace};
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    common::scratch("adversarial", name)
}

const BROKEN: &str = "examples/cloudformation/vpc-function-broken.yaml";

fn ended(o: &std::process::Output) {
    assert!(
        matches!(o.status.code(), Some(0..=2)),
        "exit {:?}\n{}\n{}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

/// Compact lines for one file name.
fn lines_for<'a>(out: &'a str, file: &str) -> Vec<&'a str> {
    out.lines()
        .filter(|l| l.starts_with(&format!("{file}:")) || l.starts_with(&format!("./{file}:")))
        .collect()
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_links_out_of_the_tree_are_not_followed() {
    let dir = scratch("links");
    let tree = dir.join("tree");
    let outside = dir.join("outside");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(workspace().join(BROKEN), tree.join("sub/in.yaml")).unwrap();
    std::fs::copy(workspace().join(BROKEN), outside.join("out.yaml")).unwrap();
    std::os::unix::fs::symlink(&tree, tree.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink("..", tree.join("sub/up")).unwrap();
    std::os::unix::fs::symlink(&outside, tree.join("escape")).unwrap();
    std::os::unix::fs::symlink(outside.join("out.yaml"), tree.join("linked.yaml")).unwrap();
    let o = iamlint(&["--format", "compact", "."], &tree);
    ended(&o);
    let out = stdout(&o);
    assert_eq!(lines_for(&out, "sub/in.yaml").len(), 1, "{out}");
    assert!(
        !out.contains("out.yaml") && !out.contains("escape"),
        "{out}"
    );
    assert!(!out.contains("loop/") && !out.contains("up/"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn unreadable_files_and_folders_are_reported_and_the_run_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("perm");
    std::fs::copy(workspace().join(BROKEN), dir.join("ok.yaml")).unwrap();
    std::fs::copy(workspace().join(BROKEN), dir.join("secret.yaml")).unwrap();
    std::fs::create_dir_all(dir.join("closed")).unwrap();
    std::fs::copy(workspace().join(BROKEN), dir.join("closed/inner.yaml")).unwrap();
    std::fs::set_permissions(
        dir.join("secret.yaml"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    std::fs::set_permissions(dir.join("closed"), std::fs::Permissions::from_mode(0o000)).unwrap();
    // Permissions mean nothing to root (as in many CI containers): then there is nothing to
    // test beyond the run ending.
    let enforced = std::fs::read(dir.join("secret.yaml")).is_err();
    let o = iamlint(&["--format", "compact", "."], &dir);
    std::fs::set_permissions(dir.join("closed"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        dir.join("secret.yaml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    ended(&o);
    let out = stdout(&o);
    assert_eq!(lines_for(&out, "ok.yaml").len(), 1, "{out}");
    if enforced {
        assert_eq!(o.status.code(), Some(2), "{out}");
        let secret = lines_for(&out, "secret.yaml");
        assert!(secret.len() == 1 && secret[0].contains("IAM000"), "{out}");
        assert!(
            stderr(&o).contains("closed") || out.contains("closed"),
            "the unreadable folder is named: {}{out}",
            stderr(&o)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_folder_of_100_000_empty_files() {
    let dir = scratch("empty");
    for i in 0..100_000 {
        let ext = ["yaml", "json", "tf", "template", "txt"][i % 5];
        std::fs::File::create(dir.join(format!("f{i}.{ext}"))).unwrap();
    }
    std::fs::copy(workspace().join(BROKEN), dir.join("real.yaml")).unwrap();
    let o = iamlint(&["--format", "compact", "."], &dir);
    ended(&o);
    let out = stdout(&o);
    // Empty YAML and JSON files are not templates; an empty folder of .tf files is an empty
    // configuration, as Terraform reads it.
    assert_eq!(out.lines().count(), 1, "{}", &out[..out.len().min(2000)]);
    assert_eq!(lines_for(&out, "real.yaml").len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn binary_files_with_template_extensions() {
    let dir = scratch("binary");
    // A deterministic byte soup, with NULs and invalid UTF-8, under every extension read.
    let mut bytes = Vec::with_capacity(64 * 1024);
    let mut x: u32 = 0x2545_f491;
    for _ in 0..64 * 1024 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push((x >> 24) as u8);
    }
    for ext in ["yaml", "yml", "json", "template", "tf", "tf.json", "tfvars"] {
        std::fs::write(dir.join(format!("blob.{ext}")), &bytes).unwrap();
    }
    // A template whose head says "template" followed by binary garbage.
    let mut head = b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n".to_vec();
    head.extend_from_slice(&bytes[..4096]);
    std::fs::write(dir.join("half.yaml"), head).unwrap();
    let o = iamlint(&["--format", "compact", "."], &dir);
    ended(&o);
    let out = stdout(&o);
    // The HCL front end reads .tf whatever its content: a clear input error with its line.
    for line in out.lines() {
        assert!(line.contains("[IAM000]"), "{line}");
        let mut parts = line.splitn(3, ':');
        let _file = parts.next();
        assert!(
            parts.next().is_some_and(|l| l.parse::<usize>().is_ok()),
            "a line number: {line}"
        );
    }
    assert_eq!(lines_for(&out, "half.yaml").len(), 1, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The finding of a template is at the same line and column with a byte order mark and
/// Windows line endings as without them; the same for Terraform.
#[test]
fn byte_order_marks_and_crlf_keep_spans_right() {
    let dir = scratch("crlf");
    let lf = std::fs::read_to_string(workspace().join(BROKEN)).unwrap();
    std::fs::write(dir.join("lf.yaml"), &lf).unwrap();
    std::fs::write(
        dir.join("crlf.yaml"),
        format!("\u{feff}{}", lf.replace('\n', "\r\n")),
    )
    .unwrap();
    let tf = workspace().join("examples/terraform/broken");
    for (name, crlf) in [("tf-lf", false), ("tf-crlf", true)] {
        let to = dir.join(name);
        copy_tf(&tf, &to, crlf);
    }
    let o = iamlint(&["--format", "compact", "."], &dir);
    ended(&o);
    let out = stdout(&o);
    let positions = |file: &str| -> Vec<String> {
        lines_for(&out, file)
            .iter()
            .map(|l| {
                let mut p = l.splitn(2, ':');
                p.next();
                p.next().unwrap().to_string()
            })
            .collect()
    };
    assert!(!positions("lf.yaml").is_empty(), "{out}");
    assert_eq!(positions("lf.yaml"), positions("crlf.yaml"), "{out}");
    let tf_lf: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("tf-lf/") || l.starts_with("./tf-lf/"))
        .map(|l| l.replacen("tf-lf/", "", 1))
        .collect();
    let tf_crlf: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("tf-crlf/") || l.starts_with("./tf-crlf/"))
        .map(|l| l.replacen("tf-crlf/", "", 1))
        .collect();
    assert!(!tf_lf.is_empty(), "{out}");
    assert_eq!(tf_lf, tf_crlf);
    let _ = std::fs::remove_dir_all(&dir);
}

fn copy_tf(from: &Path, to: &Path, crlf: bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tf(&entry.path(), &target, crlf);
        } else {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let text = if crlf {
                text.replace('\n', "\r\n")
            } else {
                text
            };
            std::fs::write(target, text).unwrap();
        }
    }
}

#[test]
fn a_policy_of_10_000_statements() {
    let dir = scratch("statements");
    let mut t = String::from(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            Principal: {Service: lambda.amazonaws.com}\n            Action: sts:AssumeRole\n      Policies:\n        - PolicyName: big\n          PolicyDocument:\n            Version: '2012-10-17'\n            Statement:\n",
    );
    for i in 0..10_000 {
        t.push_str(&format!(
            "              - Effect: Allow\n                Action: s3:GetObject\n                Resource: arn:aws:s3:::bucket-{i}/*\n"
        ));
    }
    // One mistake among them, reported at its line.
    t.push_str("              - Effect: Allow\n                Action: s3:ListBucket\n                Resource: arn:aws:s3:::bucket-0/*\n");
    std::fs::write(dir.join("big.yaml"), t).unwrap();
    let o = iamlint(&["--format", "compact", "."], &dir);
    ended(&o);
    let out = stdout(&o);
    let hits = lines_for(&out, "big.yaml");
    assert_eq!(hits.len(), 1, "{out}");
    assert!(hits[0].contains("[IAM010]"), "{out}");
    assert!(
        hits[0].starts_with("big.yaml:30019:") || hits[0].starts_with("./big.yaml:30019:"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `count = 100000` is not expanded into 100,000 resources: instances beyond what iamlint
/// expands stand for one symbolic instance, and findings are still made.
#[test]
fn a_terraform_count_of_100_000() {
    let dir = scratch("count");
    std::fs::write(
        dir.join("main.tf"),
        r#"resource "aws_iam_role" "r" {
  count = 100000
  name  = "r-${count.index}"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_lambda_function" "f" {
  count         = 100000
  function_name = "f-${count.index}"
  role          = aws_iam_role.r[count.index].arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "app.zip"
  vpc_config {
    subnet_ids         = ["subnet-0a1b2c3d"]
    security_group_ids = ["sg-0a1b2c3d"]
  }
}
"#,
    )
    .unwrap();
    let o = iamlint(&["--format", "compact", "--select", "IAM001", "."], &dir);
    ended(&o);
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("[IAM001]"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A 100 MB template and a 100 MB Terraform file are skipped with a note (not an input
/// error: the files are not broken) above `max-file-size`, which the config file and the
/// command line set; the run goes on with the other files.
#[test]
fn files_above_max_file_size_are_skipped_with_a_note() {
    use std::io::Write as _;
    let dir = scratch("max-file-size");
    std::fs::create_dir_all(dir.join("tf")).unwrap();
    std::fs::copy(workspace().join(BROKEN), dir.join("a-broken.yaml")).unwrap();
    // Sparse files: a template's (and a module's) first bytes, then zeros to 100 MiB.
    for (name, head) in [
        (
            "huge.yaml",
            "AWSTemplateFormatVersion: '2010-09-09'\nDescription: |\n  x\n",
        ),
        ("tf/huge.tf", "# generated\n"),
    ] {
        let mut file = std::fs::File::create(dir.join(name)).unwrap();
        file.write_all(head.as_bytes()).unwrap();
        file.set_len(100 * 1024 * 1024).unwrap();
    }
    std::fs::write(
        dir.join("tf/main.tf"),
        "resource \"aws_sqs_queue\" \"q\" {\n  name = \"q\"\n}\n",
    )
    .unwrap();

    let o = iamlint(&["--format", "compact", "."], &dir);
    ended(&o);
    let out = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the broken template still fails:\n{out}"
    );
    assert_eq!(lines_for(&out, "a-broken.yaml").len(), 1, "{out}");
    for name in ["huge.yaml", "tf/huge.tf"] {
        let hits = lines_for(&out, name);
        assert_eq!(hits.len(), 1, "{name}:\n{out}");
        assert!(
            hits[0].contains("note[IAM000]")
                && hits[0].contains("104857600 bytes")
                && hits[0].contains("max-file-size (10MiB)"),
            "{}",
            hits[0]
        );
    }

    // Set lower in the config file: the broken template (about 1 KB) is skipped too, and
    // only notes are left (exit 0).
    std::fs::write(dir.join("iamlint.toml"), "max-file-size = \"500B\"\n").unwrap();
    let o = iamlint(&["--format", "compact", "."], &dir);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let hits = lines_for(&out, "a-broken.yaml");
    assert!(
        hits.len() == 1 && hits[0].contains("note[IAM000]") && hits[0].contains("(500B)"),
        "{out}"
    );
    // The command line wins over the file.
    let o = iamlint(
        &["--format", "compact", "--max-file-size", "1MiB", "."],
        &dir,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let o = iamlint(&["--show-config"], &dir);
    assert!(
        stdout(&o).contains("max-file-size = \"500B\""),
        "{}",
        stdout(&o)
    );
    // A size that is not one is a usage error.
    std::fs::write(dir.join("iamlint.toml"), "max-file-size = \"big\"\n").unwrap();
    let o = iamlint(&["--format", "compact", "."], &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("line 1") && stderr(&o).contains("not a size"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
