//! AWS managed policies (generated data), looked up by ARN or name.
//!
//! `data/managed/policies.tsv` holds one policy per line (`name`, `ARN`, default version's
//! document as minified JSON), sorted by name. Lines are indexed on first use without parsing
//! JSON; a document is decoded only when a rule asks for it.

use std::sync::OnceLock;

static POLICIES: &str = include_str!("../data/managed/policies.tsv");

/// One AWS managed policy.
#[derive(Debug)]
pub struct ManagedPolicy {
    /// The policy name, e.g. `AWSLambdaBasicExecutionRole`.
    pub name: &'static str,
    /// The ARN in the `aws` partition.
    pub arn: &'static str,
    /// The IAM path (`/`, `/service-role/`).
    pub path: &'static str,
    document_json: &'static str,
    document: OnceLock<serde_json::Value>,
}

impl ManagedPolicy {
    /// The default version's policy document (decoded on first use, then cloned).
    pub fn document(&self) -> serde_json::Value {
        self.document_ref().clone()
    }

    /// The default version's policy document, decoded on first use and kept. `Null` only if
    /// the embedded data were corrupt, which the data tests rule out.
    pub fn document_ref(&self) -> &serde_json::Value {
        self.document
            .get_or_init(|| serde_json::from_str(self.document_json).unwrap_or_default())
    }

    /// The default version's policy document as minified JSON text.
    pub fn document_json(&self) -> &'static str {
        self.document_json
    }
}

fn all_policies() -> &'static [ManagedPolicy] {
    static INDEX: OnceLock<Vec<ManagedPolicy>> = OnceLock::new();
    INDEX.get_or_init(|| {
        POLICIES
            .lines()
            .filter_map(|line| {
                let mut fields = line.splitn(3, '\t');
                let name = fields.next()?;
                let arn = fields.next()?;
                let document = fields.next()?;
                let path = arn
                    .strip_prefix("arn:aws:iam::aws:policy")
                    .and_then(|rest| rest.strip_suffix(name))
                    .unwrap_or("/");
                Some(ManagedPolicy {
                    name,
                    arn,
                    path,
                    document_json: document,
                    document: OnceLock::new(),
                })
            })
            .collect()
    })
}

/// Every AWS managed policy, sorted by name.
pub fn all() -> impl Iterator<Item = &'static ManagedPolicy> {
    all_policies().iter()
}

/// The AWS managed policy with this name.
pub fn by_name(name: &str) -> Option<&'static ManagedPolicy> {
    let policies = all_policies();
    policies
        .binary_search_by(|p| p.name.cmp(name))
        .ok()
        .map(|i| &policies[i])
}

/// The AWS managed policy with this ARN, in any partition (`aws`, `aws-cn`, `aws-us-gov`):
/// AWS managed policies are the same in every partition.
pub fn by_arn(arn: &str) -> Option<&'static ManagedPolicy> {
    let rest = arn.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    let path_and_name = rest.strip_prefix("iam::aws:policy")?;
    let name = path_and_name.rsplit('/').next()?;
    by_name(name).filter(|p| p.arn.strip_prefix("arn:aws:iam::aws:policy") == Some(path_and_name))
}
