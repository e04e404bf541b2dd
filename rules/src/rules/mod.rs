//! One file per rule, named for the pattern it flags. Adding a rule: the file, a `mod` line and
//! an entry in [`ALL`].

mod lambda_vpc_eni_permissions;

pub use lambda_vpc_eni_permissions::LambdaVpcEniPermissions;

use crate::registry::Rule;

/// Every rule, in code order.
pub static ALL: &[&dyn Rule] = &[&LambdaVpcEniPermissions];
