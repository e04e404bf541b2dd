//! Adopting iamlint in a repository that has findings: suppressions in the templates, a
//! baseline, the config file's `[severity]` and `exclude`, `--show-config`, and a progress
//! line that never reaches a pipe. Each test edits a copy of a real rule fixture the way a
//! user would.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod common;

use common::{iamlint, stderr, stdout, workspace};
use std::path::{Path, PathBuf};

/// A scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    common::scratch("adopt", name)
}

const FIXTURES: &str = "testdata/rules/lambda-vpc-eni-permissions";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(workspace().join(FIXTURES).join(name)).unwrap()
}

/// `text` with `from` replaced by `to`, which must occur in it.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` not in the fixture");
    text.replacen(from, to, 1)
}

fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let o = iamlint(&all, dir);
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)))
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}:{} {}",
                d["file"].as_str().unwrap(),
                d["line"],
                d["code"].as_str().unwrap()
            )
        })
        .collect()
}

/// In `bad.cfn.yaml` the IAM001 finding is on `Policies:` of `WorkerRole` (line 13), about
/// the function `Worker`. Every written form of a suppression accepts it.
#[test]
fn yaml_suppressions_in_every_form() {
    let dir = scratch("yaml");
    let bad = fixture("bad.cfn.yaml");
    let forms = [
        // On the finding's line.
        edit(
            &bad,
            "      Policies:\n",
            "      Policies: # iamlint: ignore[IAM001] reviewed by security\n",
        ),
        // On the line above (the bare form, with the rule's name).
        edit(
            &bad,
            "      Policies:\n",
            "      # iamlint:ignore lambda-vpc-eni-permissions\n      Policies:\n",
        ),
        // On the first line of the resource the finding is about.
        edit(
            &bad,
            "  Worker:\n",
            "  Worker: # iamlint: ignore[IAM001] the platform attaches the VPC policy\n",
        ),
        // Above the first line of the resource the finding is in.
        edit(
            &bad,
            "  WorkerRole:\n",
            "  # iamlint: ignore[IAM001] reviewed\n  WorkerRole:\n",
        ),
        // The resource's Metadata, as JSON templates must write it.
        edit(
            &bad,
            "    Type: AWS::Lambda::Function\n",
            "    Type: AWS::Lambda::Function\n    Metadata:\n      iamlint:\n        ignore:\n          - id: IAM001\n            reason: reviewed\n",
        ),
    ];
    let before = json(
        &dir,
        &[&workspace()
            .join(FIXTURES)
            .join("bad.cfn.yaml")
            .to_string_lossy()],
    );
    assert_eq!(codes(&before).len(), 1, "{before}");
    for (i, text) in forms.iter().enumerate() {
        let file = format!("form{i}.yaml");
        std::fs::write(dir.join(&file), text).unwrap();
        let o = iamlint(&["--format", "compact", &file], &dir);
        assert_eq!(o.status.code(), Some(0), "form {i}: {}", stdout(&o));
        assert_eq!(stdout(&o), "", "form {i}");
        let v = json(&dir, &[&file]);
        assert_eq!(v["summary"]["suppressed"], 1, "form {i}");
    }
}

/// A `#` inside a quoted scalar or a block scalar is not a comment.
#[test]
fn yaml_hash_in_strings_is_not_a_suppression() {
    let dir = scratch("yaml-strings");
    let text = edit(
        &fixture("bad.cfn.yaml"),
        "      Policies:\n",
        "      Description: \"x # iamlint: ignore[IAM001]\"\n      Tags:\n        - Key: note\n          Value: |\n            # iamlint: ignore[IAM001]\n      Policies:\n",
    );
    std::fs::write(dir.join("t.yaml"), text).unwrap();
    let o = iamlint(&["--format", "compact", "t.yaml"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("error[IAM001]"), "{}", stdout(&o));
}

/// JSON templates have no comments: the resource's `Metadata` (checkov and cfn-lint use the
/// same place, https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-metadata.html).
#[test]
fn json_metadata_suppression_and_its_unused_note() {
    let dir = scratch("json");
    let mut template: serde_json::Value = serde_json::from_str(&fixture("bad.cfn.json")).unwrap();
    template["Resources"]["Api"]["Metadata"] = serde_json::json!({
        "iamlint": {"ignore": [{"id": "IAM001", "reason": "ENIs come from the platform's policy"}]}
    });
    std::fs::write(
        dir.join("t.json"),
        serde_json::to_string_pretty(&template).unwrap(),
    )
    .unwrap();
    let o = iamlint(&["--format", "compact", "t.json"], &dir);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), ""));

    template["Resources"]["Api"]["Metadata"]["iamlint"]["ignore"] =
        serde_json::json!([{"id": "IAM010", "reason": "stale"}, "IAM999"]);
    std::fs::write(dir.join("t.json"), template.to_string()).unwrap();
    let o = iamlint(&["--format", "compact", "t.json"], &dir);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("error[IAM001]"), "{out}");
    assert!(
        out.contains("note[IAM000] unused suppression: no IAM010 (action-resource-type-mismatch) finding here"),
        "{out}"
    );
    assert!(out.contains("note[IAM000] unknown rule `IAM999`"), "{out}");
}

/// In `bad.tf` the finding is in the policy attachment (folded into the role), about
/// `aws_lambda_function.worker`.
#[test]
fn hcl_suppressions_in_every_form() {
    let dir = scratch("hcl");
    let bad = fixture("bad.tf/main.tf");
    let attachment = "resource \"aws_iam_role_policy_attachment\" \"logs\" {\n";
    let function = "resource \"aws_lambda_function\" \"worker\" {\n";
    let policy_arn =
        "  policy_arn = \"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole\"\n";
    let forms = [
        edit(
            &bad,
            function,
            &format!("// iamlint: ignore[IAM001] the platform attaches the VPC policy\n{function}"),
        ),
        edit(
            &bad,
            policy_arn,
            &format!("{} # iamlint:ignore IAM001\n", policy_arn.trim_end()),
        ),
        edit(
            &bad,
            attachment,
            &format!(
                "{} # iamlint: ignore[lambda-vpc-eni-permissions]\n",
                attachment.trim_end()
            ),
        ),
    ];
    for (i, text) in forms.iter().enumerate() {
        let module = dir.join(format!("form{i}"));
        std::fs::create_dir_all(&module).unwrap();
        std::fs::write(module.join("main.tf"), text).unwrap();
        let o = iamlint(&["--format", "compact", &format!("form{i}")], &dir);
        assert_eq!(
            (o.status.code(), stdout(&o).as_str()),
            (Some(0), ""),
            "form {i}"
        );
    }
    // Inside a string, `#` is text.
    let module = dir.join("string");
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        module.join("main.tf"),
        edit(
            &bad,
            "  function_name = local.name\n",
            "  description   = \"x # iamlint: ignore[IAM001]\"\n  function_name = local.name\n",
        ),
    )
    .unwrap();
    let o = iamlint(&["--format", "compact", "string"], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}

#[test]
fn unused_suppressions_are_notes_for_the_rules_that_ran() {
    let dir = scratch("unused");
    let text = edit(
        &fixture("bad.cfn.yaml"),
        "  WorkerRole:\n",
        "  WorkerRole: # iamlint: ignore[IAM001, IAM010]\n",
    );
    std::fs::write(dir.join("t.yaml"), text).unwrap();
    let o = iamlint(&["--format", "compact", "t.yaml"], &dir);
    assert_eq!(
        stdout(&o),
        "t.yaml:4:41: note[IAM000] unused suppression: no IAM010 (action-resource-type-mismatch) finding here; remove `IAM010` from this suppression comment\n"
    );
    // A note does not fail the run unless asked to.
    assert_eq!(o.status.code(), Some(0));
    let o = iamlint(
        &["--format", "compact", "--fail-on", "note", "t.yaml"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(1));
    // IAM010 did not run: nothing to say about its suppression.
    let o = iamlint(
        &["--format", "compact", "--select", "IAM001", "t.yaml"],
        &dir,
    );
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), ""));
}

#[test]
fn suppressed_findings_are_counted_and_shown_on_request() {
    let dir = scratch("show");
    let text = edit(
        &fixture("bad.cfn.yaml"),
        "      Policies:\n",
        "      Policies: # iamlint: ignore[IAM001] reviewed by security\n",
    );
    std::fs::write(dir.join("t.yaml"), text).unwrap();
    let human = stdout(&iamlint(&["t.yaml"], &dir));
    assert!(
        human.ends_with("1 template checked, 0 findings: 0 errors, 0 warnings, 0 notes; 1 suppressed (--show-suppressed shows them).\n"),
        "{human}"
    );
    let o = iamlint(&["--show-suppressed", "t.yaml"], &dir);
    assert_eq!(
        o.status.code(),
        Some(0),
        "a suppressed finding fails nothing"
    );
    assert!(
        stdout(&o).contains("[suppressed: reviewed by security]"),
        "{}",
        stdout(&o)
    );
    let v = json(&dir, &["--show-suppressed", "t.yaml"]);
    assert_eq!(
        v["diagnostics"][0]["suppressed"],
        serde_json::json!({"kind": "comment", "reason": "reviewed by security"})
    );
    assert_eq!(v["summary"]["errors"], 0);
    // SARIF: a suppression of kind inSource, with the reason as its justification
    // (https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/sarif-v2.1.0-os.html#_Toc34317864).
    let o = iamlint(&["--format", "sarif", "--show-suppressed", "t.yaml"], &dir);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["runs"][0]["results"][0]["suppressions"],
        serde_json::json!([{"kind": "inSource", "justification": "reviewed by security"}])
    );
    assert_eq!(v["runs"][0]["properties"]["suppressed"], 1);
    let junit = stdout(&iamlint(
        &["--format", "junit", "--show-suppressed", "t.yaml"],
        &dir,
    ));
    assert!(
        junit.contains(r#"<skipped message="suppressed: reviewed by security"/>"#),
        "{junit}"
    );
}

/// A baseline survives lines inserted above a finding and the template reformatted, and
/// still reports a new finding.
#[test]
fn baseline_round_trip() {
    let dir = scratch("baseline");
    std::fs::create_dir_all(dir.join("stacks/network")).unwrap();
    std::fs::write(dir.join("stacks/worker.yaml"), fixture("bad.cfn.yaml")).unwrap();
    std::fs::write(
        dir.join("stacks/network/main.tf"),
        fixture("bad.tf/main.tf"),
    )
    .unwrap();
    std::fs::write(dir.join("iamlint.toml"), "").unwrap();
    let o = iamlint(&["--write-baseline", "baseline.json", "stacks"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("iamlint: wrote 2 findings to baseline.json"),
        "{}",
        stderr(&o)
    );
    let written = std::fs::read_to_string(dir.join("baseline.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(v["version"], 1);
    let files: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["stacks/network/main.tf", "stacks/worker.yaml"]);
    // Writing it again, from another folder, gives the same bytes.
    let o = iamlint(
        &["--write-baseline", "../baseline.json", "."],
        &dir.join("stacks"),
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.join("baseline.json")).unwrap(),
        written
    );

    // Lines inserted above, a list reflowed, a key reindented: the same findings.
    let moved = format!(
        "# Owned by the orders team.\n# Reviewed 2024-05.\n\n{}",
        edit(
            &edit(
                &fixture("bad.cfn.yaml"),
                "                Action: [logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents]\n",
                "                Action:\n                  - logs:CreateLogGroup\n                  - logs:CreateLogStream\n                  - logs:PutLogEvents\n",
            ),
            "      Code:\n        ZipFile: \"def handler(e, c): return e\"\n",
            "      Code: {ZipFile: \"def handler(e, c): return e\"}\n",
        )
    );
    std::fs::write(dir.join("stacks/worker.yaml"), &moved).unwrap();
    let tf = format!("\n\n{}", fixture("bad.tf/main.tf").replace("  ", "    "));
    std::fs::write(dir.join("stacks/network/main.tf"), tf).unwrap();
    let o = iamlint(&["--baseline", "baseline.json", "stacks"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).ends_with("0 findings: 0 errors, 0 warnings, 0 notes; 2 in the baseline.\n"),
        "{}",
        stdout(&o)
    );
    let v = json(&dir, &["--baseline", "baseline.json", "stacks"]);
    assert_eq!(v["summary"]["baselined"], 2);

    // A second function in the same state is new: reported.
    let second = moved.replace("Worker", "Reporter");
    std::fs::write(dir.join("stacks/reporter.yaml"), second).unwrap();
    let o = iamlint(
        &[
            "--format",
            "compact",
            "--baseline",
            "baseline.json",
            "stacks",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).starts_with("stacks/reporter.yaml:16:7: error[IAM001]"),
        "{}",
        stdout(&o)
    );
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));

    // A file that is not a baseline is an input error.
    std::fs::write(dir.join("bad.json"), "[]").unwrap();
    let o = iamlint(&["--baseline", "bad.json", "stacks"], &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not an iamlint baseline"),
        "{}",
        stderr(&o)
    );
}

/// SARIF `partialFingerprints` do not change when lines move, so code-scanning alerts
/// survive edits (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#providing-data-to-track-code-scanning-alerts-across-runs).
#[test]
fn sarif_partial_fingerprints_survive_moved_lines() {
    let dir = scratch("sarif");
    let fingerprint = |dir: &Path| {
        let o = iamlint(&["--format", "sarif", "t.yaml"], dir);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let result = &v["runs"][0]["results"][0];
        (
            result["partialFingerprints"]["iamlint/v1"]
                .as_str()
                .unwrap()
                .to_string(),
            result["locations"][0]["physicalLocation"]["region"]["startLine"].clone(),
        )
    };
    std::fs::write(dir.join("t.yaml"), fixture("bad.cfn.yaml")).unwrap();
    let (before, line_before) = fingerprint(&dir);
    assert!(before.ends_with(":1"), "{before}");
    std::fs::write(
        dir.join("t.yaml"),
        format!("# a comment\n\n{}", fixture("bad.cfn.yaml")),
    )
    .unwrap();
    let (after, line_after) = fingerprint(&dir);
    assert_eq!(before, after);
    assert_ne!(line_before, line_after);
    // The JSON output carries the same fingerprint, without the occurrence.
    let v = json(&dir, &["t.yaml"]);
    assert_eq!(
        format!("{}:1", v["diagnostics"][0]["fingerprint"].as_str().unwrap()),
        after
    );
}

#[test]
fn severity_overrides_from_the_config_file() {
    let dir = scratch("severity");
    std::fs::write(dir.join("t.yaml"), fixture("bad.cfn.yaml")).unwrap();
    std::fs::write(
        dir.join("iamlint.toml"),
        "fail-on = \"error\"\n\n[severity]\nIAM001 = \"warning\"\n",
    )
    .unwrap();
    let o = iamlint(&["--format", "compact", "t.yaml"], &dir);
    assert!(
        stdout(&o).contains("t.yaml:13:7: warning[IAM001]"),
        "{}",
        stdout(&o)
    );
    assert_eq!(o.status.code(), Some(0), "a warning under fail-on = error");
    std::fs::write(
        dir.join("iamlint.toml"),
        "[severity]\nlambda-vpc-eni-permissions = \"off\"\n",
    )
    .unwrap();
    let o = iamlint(&["--format", "compact", "t.yaml"], &dir);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), ""));
}

#[test]
fn exclude_globs_are_relative_to_the_config_file() {
    let dir = scratch("exclude");
    for sub in ["infra/generated", "infra/stacks"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::write(dir.join("infra/generated/t.yaml"), fixture("bad.cfn.yaml")).unwrap();
    std::fs::write(dir.join("infra/stacks/t.yaml"), fixture("bad.cfn.yaml")).unwrap();
    std::fs::write(
        dir.join("infra/stacks/t.test.yaml"),
        fixture("bad.cfn.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.join("infra/iamlint.toml"),
        "exclude = [\"/generated/\", \"*.test.yaml\"]\n",
    )
    .unwrap();
    let o = iamlint(&["--format", "compact", "."], &dir.join("infra"));
    assert_eq!(
        stdout(&o)
            .lines()
            .map(|l| l.split(':').next().unwrap())
            .collect::<Vec<_>>(),
        ["./stacks/t.yaml"]
    );
    // From a sub-folder (the config file is found above it), and a file named on the
    // command line (as pre-commit names changed files), the patterns still apply.
    let o = iamlint(
        &["--format", "compact", "t.test.yaml", "t.yaml"],
        &dir.join("infra/stacks"),
    );
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));
    assert!(stdout(&o).starts_with("t.yaml:"), "{}", stdout(&o));
}

#[test]
fn show_config_names_where_each_setting_came_from() {
    let dir = scratch("show-config");
    std::fs::write(
        dir.join(".iamlint.toml"),
        "ignore = [\"IAM003\"]\nexclude = [\"generated/\"]\n\n[severity]\nlambda-xray-permissions = \"note\"\n",
    )
    .unwrap();
    let o = iamlint(&["--show-config", "--fail-on", "error"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let shown = stdout(&o);
    let config = dir.join(".iamlint.toml").display().to_string();
    assert!(
        shown.starts_with(&format!("# config file: {config}\n")),
        "{shown}"
    );
    for (setting, origin) in [
        ("ignore = [\"IAM003\"]", config.as_str()),
        ("exclude = [\"generated/\"]", config.as_str()),
        ("fail-on = \"error\"", "command line"),
        ("select = []", "default"),
    ] {
        let line = shown
            .lines()
            .find(|l| l.starts_with(setting))
            .unwrap_or_else(|| panic!("{setting} not in {shown}"));
        assert!(line.ends_with(&format!("# {origin}")), "{line}");
    }
    let xray = shown
        .lines()
        .find(|l| l.contains("lambda-xray-permissions"))
        .unwrap();
    assert!(xray.contains("= \"note\""), "{xray}");
    // What it prints is a config file iamlint reads.
    std::fs::write(dir.join("shown.toml"), &shown).unwrap();
    let o = iamlint(&["--show-config", "--config", "shown.toml"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn unknown_config_keys_are_errors_with_their_line() {
    let dir = scratch("unknown-key");
    std::fs::write(
        dir.join("iamlint.toml"),
        "select = [\"IAM001\"]\n\n[severity]\nIAM003 = \"note\"\nIAM404 = \"off\"\n",
    )
    .unwrap();
    let o = iamlint(&["."], &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("iamlint.toml, line 5: unknown rule `IAM404` in [severity]"),
        "{}",
        stderr(&o)
    );
    std::fs::write(dir.join("iamlint.toml"), "select = []\nexlude = [\"x\"]\n").unwrap();
    let o = iamlint(&["."], &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("iamlint.toml, line 2: unknown key `exlude`"),
        "{}",
        stderr(&o)
    );
}

/// The progress line is for terminals: a run whose stderr is a pipe prints nothing there.
#[test]
fn no_progress_line_in_a_pipe() {
    let o = iamlint(&["--format", "compact", "testdata/rules"], &workspace());
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "");
}
