//! AWS managed policies (generated data), looked up by ARN or name.

/// One AWS managed policy.
pub struct ManagedPolicy {
    /// The policy name, e.g. `AWSLambdaBasicExecutionRole`.
    pub name: &'static str,
}

impl ManagedPolicy {
    /// The default version's policy document.
    pub fn document(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// The AWS managed policy with this ARN (in the `aws` partition).
pub fn by_arn(arn: &str) -> Option<&'static ManagedPolicy> {
    let _ = arn;
    None
}
