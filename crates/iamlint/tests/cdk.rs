//! CDK: `cdk synth && iamlint cdk.out`. The fixture `testdata/cdk/orders/cdk.out` is what
//! `cdk synth` wrote for `testdata/cdk/orders/app.js` (a stack with a nested stack, and a
//! stage synthesised into its own assembly, as CDK Pipelines deploys it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod common;

use common::{iamlint, stderr, stdout, workspace};

const APP: &str = "testdata/cdk/orders";
const ASSEMBLY: &str = "testdata/cdk/orders/cdk.out";

#[test]
fn the_assembly_is_read_through_its_manifest() {
    let o = iamlint(&["--format", "compact", ASSEMBLY], &workspace());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    // The stack, its nested stack and the stage's stack; never the asset folder.
    let o_json = iamlint(&["--format", "json", ASSEMBLY], &workspace());
    let v: serde_json::Value = serde_json::from_slice(&o_json.stdout).unwrap();
    assert_eq!(v["summary"]["templates"], 3, "{v}");
    assert!(!out.contains("asset."), "{out}");
    // Findings in the stack and in the nested stack, each naming resources by construct path.
    assert!(
        out.contains("OrdersStack.template.json:")
            && out.contains(
                "error[IAM012] OrdersStack/Handler/ServiceRole/DefaultPolicy/Resource grants"
            ),
        "{out}"
    );
    assert!(
        out.contains("OrdersStackStorage3AD7B3B3.nested.template.json:")
            && out.contains("role OrdersStack/Storage/Reader/ServiceRole/Resource can Query table OrdersStack/Storage/Orders/Resource"),
        "{out}"
    );
    // The `resource` of a finding is the construct path too.
    let resources: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["resource"].as_str())
        .collect();
    assert!(
        resources.iter().all(|r| r.starts_with("OrdersStack/")),
        "{resources:?}"
    );
}

#[test]
fn a_cdk_app_folder_checks_its_synthesised_stacks() {
    // `iamlint .` in a CDK app: cdk.out is read through its manifest, the same as naming it.
    let app = iamlint(&["--format", "compact", APP], &workspace());
    let assembly = iamlint(&["--format", "compact", ASSEMBLY], &workspace());
    assert_eq!(stdout(&app), stdout(&assembly));
    assert_eq!(app.status.code(), Some(1));
}

#[test]
fn human_output_names_constructs() {
    let o = iamlint(&["--color", "never", ASSEMBLY], &workspace());
    insta::assert_snapshot!(stdout(&o));
}
