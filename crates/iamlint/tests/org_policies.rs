//! Service and resource control policies given with `--scp`/`--rcp` or in `iamlint.toml`:
//! what IAM029 and IAM030 make of them, and how bad files and settings are refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod common;

use common::{iamlint, stderr, stdout, workspace};

/// A VPC function whose role has every permission it needs.
const TEMPLATE: &str = "testdata/scp/vpc-function.cfn.yaml";

fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn without_scps_the_stack_is_clean() {
    let o = iamlint(&["--format", "compact", TEMPLATE], &workspace());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn full_access_and_tls_enforcement_allow_the_stack() {
    // root.json is a JSON array: FullAWSAccess and a TLS-only deny attached at the root.
    let o = iamlint(
        &[
            "--format",
            "compact",
            "--scp",
            "testdata/scp/root.json",
            TEMPLATE,
        ],
        &workspace(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn scp_deny_is_iam029_and_the_wiring_rule_stays_silent() {
    let o = iamlint(
        &[
            "--color",
            "never",
            "--scp",
            "testdata/scp/root.json",
            "--scp",
            "testdata/scp/deny-network.json",
            TEMPLATE,
        ],
        &workspace(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(text.contains("IAM029"), "{text}");
    assert!(
        !text.contains("IAM001(lambda-vpc-eni-permissions)"),
        "{text}"
    );
    assert!(text.contains("organisation level 2"), "{text}");
    snapshot("org_policies__scp_deny", &text);
}

#[test]
fn scp_allow_list_without_the_action_is_iam030() {
    let o = iamlint(
        &[
            "--color",
            "never",
            "--scp",
            "testdata/scp/allow-list.json",
            TEMPLATE,
        ],
        &workspace(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(text.contains("IAM030"), "{text}");
    assert!(
        !text.contains("IAM001(lambda-vpc-eni-permissions)"),
        "{text}"
    );
    snapshot("org_policies__scp_allow_list", &text);
}

#[test]
fn rcps_keep_their_default_full_access() {
    // An RCP level of denies only still allows the rest: RCPFullAWSAccess cannot be detached.
    let o = iamlint(
        &[
            "--format",
            "compact",
            "--rcp",
            "testdata/scp/rcp-tls.json",
            TEMPLATE,
        ],
        &workspace(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o), "");

    // RCPs govern the resources of a few services (S3, STS, KMS, SQS, Secrets Manager), not
    // EC2: the same deny that blocks as an SCP does nothing as an RCP.
    let o = iamlint(
        &[
            "--format",
            "compact",
            "--rcp",
            "testdata/scp/deny-network.json",
            TEMPLATE,
        ],
        &workspace(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn config_file_supplies_scps_and_settings() {
    let o = iamlint(
        &[
            "--format",
            "compact",
            "--config",
            "testdata/scp/config/iamlint.toml",
            TEMPLATE,
        ],
        &workspace(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("error[IAM029]"), "{}", stdout(&o));

    // Found in the current directory; flags win over the file.
    let dir = workspace().join("testdata/scp/config");
    let template = workspace().join(TEMPLATE);
    let template = template.to_str().unwrap();
    let o = iamlint(&["--format", "compact", template], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("error[IAM029]"), "{}", stdout(&o));
    let o = iamlint(
        &["--format", "compact", "--ignore", "IAM029", template],
        &dir,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn bad_files_and_settings_exit_2() {
    for (args, message) in [
        (
            vec!["--scp", "testdata/scp/missing.json"],
            "cannot read SCP file",
        ),
        (
            vec!["--scp", "testdata/scp/invalid.json"],
            "is not valid JSON",
        ),
        (
            vec!["--scp", "testdata/scp/not-a-policy.json"],
            "expected a policy document",
        ),
        (
            vec!["--config", "testdata/scp/config/bad-key.toml"],
            "unknown key `scps`",
        ),
        (
            vec!["--config", "testdata/scp/config/missing.toml"],
            "cannot read config file",
        ),
    ] {
        let mut all = args.clone();
        all.push(TEMPLATE);
        let o = iamlint(&all, &workspace());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn a_boundary_that_takes_a_grant_away_is_reported_once() {
    // The role's own policies grant what the wiring needs; the boundary takes it away. IAM030
    // reports it; the wiring rules (IAM001, IAM005) do not report it again.
    for (file, wiring) in [
        ("bad.cfn.yaml", "IAM001"),
        ("bad.sam.yaml", "IAM001"),
        ("bad.cfn.json", "IAM005"),
    ] {
        let path = format!("testdata/rules/boundary-or-scp-missing-allow/{file}");
        let o = iamlint(&["--format", "compact", &path], &workspace());
        let text = stdout(&o);
        assert!(text.contains("error[IAM030]"), "{file}: {text}");
        assert!(!text.contains(&format!("[{wiring}]")), "{file}: {text}");
    }
}
