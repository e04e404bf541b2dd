//! IAM policies: the policy model with spans, AWS-faithful matching, the IAM service catalog,
//! the AWS managed policies, and the evaluator that decides a request the way AWS does.

pub mod catalog;
pub mod eval;
pub mod managed;
pub mod policy;
pub mod sam_templates;
pub mod simulate;

/// The sources and dates of the AWS data iamlint carries, one line each (for `--version`).
pub fn data_sources() -> Vec<String> {
    catalog::data_sources()
}
