//! The IAM service catalog (generated data): actions, resource types, ARN patterns, condition keys.
