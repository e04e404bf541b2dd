//! The CloudFormation and SAM front end: reads YAML and JSON templates with spans, resolves
//! intrinsic functions into the format-neutral value tree, and expands the SAM transform.

pub mod sam;
