//! One file per rule, named for the pattern it flags. Adding a rule: the file, a `mod` line and
//! an entry in [`ALL`].

mod condition_never_satisfiable;
mod invalid_principal_or_arn;
mod lambda_dlq_permissions;
mod lambda_env_kms_decrypt;
mod lambda_esm_source_permissions;
mod lambda_logs_permissions;
mod lambda_vpc_eni_permissions;
mod lambda_xray_permissions;
mod policy_variable_not_interpolated;
mod ref_is_not_an_arn;
mod role_trust_service_mismatch;
mod secret_arn_missing_suffix;
mod unknown_action_or_service;

pub use condition_never_satisfiable::ConditionNeverSatisfiable;
pub use invalid_principal_or_arn::InvalidPrincipalOrArn;
pub use lambda_dlq_permissions::LambdaDlqPermissions;
pub use lambda_env_kms_decrypt::LambdaEnvKmsDecrypt;
pub use lambda_esm_source_permissions::LambdaEsmSourcePermissions;
pub use lambda_logs_permissions::LambdaLogsPermissions;
pub use lambda_vpc_eni_permissions::LambdaVpcEniPermissions;
pub use lambda_xray_permissions::LambdaXrayPermissions;
pub use policy_variable_not_interpolated::PolicyVariableNotInterpolated;
pub use ref_is_not_an_arn::RefIsNotAnArn;
pub use role_trust_service_mismatch::RoleTrustServiceMismatch;
pub use secret_arn_missing_suffix::SecretArnMissingSuffix;
pub use unknown_action_or_service::UnknownActionOrService;

use crate::registry::Rule;

/// Every rule, in code order.
pub static ALL: &[&dyn Rule] = &[
    &LambdaVpcEniPermissions,
    &RoleTrustServiceMismatch,
    &LambdaLogsPermissions,
    &LambdaEsmSourcePermissions,
    &LambdaDlqPermissions,
    &LambdaXrayPermissions,
    &LambdaEnvKmsDecrypt,
    &RefIsNotAnArn,
    &SecretArnMissingSuffix,
    &UnknownActionOrService,
    &ConditionNeverSatisfiable,
    &InvalidPrincipalOrArn,
    &PolicyVariableNotInterpolated,
];
