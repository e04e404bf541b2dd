//! The IAM service catalog (generated data): services, actions, resource types, condition keys.

/// The sources and dates of the generated data, one line each.
pub fn data_sources() -> Vec<String> {
    Vec::new()
}
