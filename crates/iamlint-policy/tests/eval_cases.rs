//! Table-driven evaluator cases: every `testdata/evaluator/*.json` is a `simulate` request file
//! plus `"expect": {"decision", "denied_by"}` and `"source"`, the AWS page the case comes from.
//! A case about a policy IAM would reject lists the problems it expects in `"expect":
//! {"problems": [...]}`; any other case must have none.

use iamlint_policy::simulate::simulate;
use std::path::PathBuf;

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/evaluator")
}

#[test]
fn evaluator_cases() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("testdata/evaluator exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 50,
        "expected the full case table, found {}",
        paths.len()
    );
    let mut failures = Vec::new();
    for path in &paths {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_string();
        let text = std::fs::read_to_string(path).expect("readable case");
        let mut case: serde_json::Value = serde_json::from_str(&text).expect("case is JSON");
        let obj = case.as_object_mut().expect("case is an object");
        let mut expect = obj.remove("expect").expect("case has expect");
        let expected_problems: Vec<String> = expect
            .as_object_mut()
            .and_then(|e| e.remove("problems"))
            .map(|p| serde_json::from_value(p).expect("problems is a list of strings"))
            .unwrap_or_default();
        let source = obj.remove("source").expect("case has source");
        obj.remove("description");
        assert!(
            source
                .as_str()
                .is_some_and(|s| s.starts_with("https://docs.aws.amazon.com/")),
            "{name}: source must cite the AWS documentation"
        );
        let request = serde_json::to_string(&case).expect("serializable");
        let sim = match simulate(&request) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{name}: simulate failed: {e}"));
                continue;
            }
        };
        if sim.problems() != expected_problems.as_slice() {
            failures.push(format!(
                "{name}: policy problems {:?}, expected {expected_problems:?}",
                sim.problems()
            ));
        }
        let out = sim.to_json();
        let got = serde_json::json!({"decision": out["decision"], "denied_by": out["denied_by"]});
        if got != expect {
            failures.push(format!(
                "{name}: expected {expect}, got {got}\n{}",
                sim.render_human()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
