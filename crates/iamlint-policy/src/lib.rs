//! IAM policies: the policy model with spans, AWS-faithful matching, the IAM service catalog,
//! the AWS managed policies, and the evaluator that decides a request the way AWS does.

pub mod catalog;
pub mod managed;
