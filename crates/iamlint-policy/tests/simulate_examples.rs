//! The request files shipped in examples/simulate and the README example decide as their names
//! say.
#![expect(clippy::expect_used, reason = "tests fail loudly")]

use iamlint_policy::simulate::simulate;
use std::path::PathBuf;

fn decide(path: &str) -> (String, Vec<String>) {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    let text = std::fs::read_to_string(&file).expect("example exists");
    let sim = simulate(&text).expect("valid request file");
    assert!(sim.problems().is_empty(), "{path}: {:?}", sim.problems());
    let json = sim.to_json();
    let denied_by = json["denied_by"]
        .as_array()
        .expect("list")
        .iter()
        .map(|v| v.as_str().expect("layer").to_string())
        .collect();
    (
        json["decision"].as_str().expect("decision").to_string(),
        denied_by,
    )
}

#[test]
fn shipped_examples() {
    assert_eq!(
        decide("examples/simulate/cross-account-allowed.json").0,
        "allowed"
    );
    let (d, by) = decide("examples/simulate/boundary-denies.json");
    assert_eq!(
        (d.as_str(), by),
        ("implicitly_denied", vec!["boundary".to_string()])
    );
    assert_eq!(
        decide("examples/simulate/explicit-deny.json").0,
        "explicitly_denied"
    );
}

#[test]
fn readme_example() {
    let text = r#"{
  "request": {
    "principal": "arn:aws:iam::111122223333:role/app",
    "action": "s3:GetObject",
    "resource": "arn:aws:s3:::reports/2024/summary.csv",
    "context": {"aws:SourceIp": "10.0.0.1"}
  },
  "identity_policies": [{"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]}],
  "permission_boundaries": [{"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}]
}"#;
    let sim = simulate(text).expect("valid");
    let json = sim.to_json();
    assert_eq!(json["decision"], "implicitly_denied");
    assert_eq!(json["denied_by"], serde_json::json!(["boundary"]));
}
