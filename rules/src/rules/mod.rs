//! One file per rule, named for the pattern it flags. Adding a rule: the file, a `mod` line and
//! an entry in [`ALL`].

mod action_resource_type_mismatch;
mod arn_scope_mismatch;
mod aws_managed_key_blocks_service_delivery;
mod boundary_or_scp_missing_allow;
mod condition_never_satisfiable;
mod cross_account_one_sided_grant;
mod dynamodb_index_arn_missing;
mod dynamodb_stream_arn_mismatch;
mod ecs_execution_role_image_and_logs;
mod ecs_secrets_permissions;
mod eventbridge_target_permissions;
mod execute_api_arn_mismatch;
mod explicit_deny_blocks_required_action;
mod invalid_principal_or_arn;
mod kms_encrypted_resource_missing_key_permission;
mod kms_key_policy_does_not_delegate;
mod kms_key_policy_missing_service_principal;
mod lambda_async_destination_permissions;
mod lambda_dlq_permissions;
mod lambda_efs_permissions;
mod lambda_env_kms_decrypt;
mod lambda_esm_source_permissions;
mod lambda_invoke_permission_missing;
mod lambda_logs_permissions;
mod lambda_qualifier_mismatch;
mod lambda_vpc_eni_permissions;
mod lambda_xray_permissions;
mod notification_permission_ordering;
mod passrole_missing;
mod policy_attachment_race;
mod policy_variable_not_interpolated;
mod ref_is_not_an_arn;
mod role_trust_service_mismatch;
mod s3_public_policy_blocked;
mod scheduler_target_permissions;
mod secret_arn_missing_suffix;
mod sns_topic_policy_missing;
mod sqs_queue_policy_missing;
mod stepfunctions_logging_permissions;
mod stepfunctions_task_permissions;
mod unknown_action_or_service;

pub use action_resource_type_mismatch::ActionResourceTypeMismatch;
pub use arn_scope_mismatch::ArnScopeMismatch;
pub use aws_managed_key_blocks_service_delivery::AwsManagedKeyBlocksServiceDelivery;
pub use boundary_or_scp_missing_allow::BoundaryOrScpMissingAllow;
pub use condition_never_satisfiable::ConditionNeverSatisfiable;
pub use cross_account_one_sided_grant::CrossAccountOneSidedGrant;
pub use dynamodb_index_arn_missing::DynamodbIndexArnMissing;
pub use dynamodb_stream_arn_mismatch::DynamodbStreamArnMismatch;
pub use ecs_execution_role_image_and_logs::EcsExecutionRoleImageAndLogs;
pub use ecs_secrets_permissions::EcsSecretsPermissions;
pub use eventbridge_target_permissions::EventbridgeTargetPermissions;
pub use execute_api_arn_mismatch::ExecuteApiArnMismatch;
pub use explicit_deny_blocks_required_action::ExplicitDenyBlocksRequiredAction;
pub use invalid_principal_or_arn::InvalidPrincipalOrArn;
pub use kms_encrypted_resource_missing_key_permission::KmsEncryptedResourceMissingKeyPermission;
pub use kms_key_policy_does_not_delegate::KmsKeyPolicyDoesNotDelegate;
pub use kms_key_policy_missing_service_principal::KmsKeyPolicyMissingServicePrincipal;
pub use lambda_async_destination_permissions::LambdaAsyncDestinationPermissions;
pub use lambda_dlq_permissions::LambdaDlqPermissions;
pub use lambda_efs_permissions::LambdaEfsPermissions;
pub use lambda_env_kms_decrypt::LambdaEnvKmsDecrypt;
pub use lambda_esm_source_permissions::LambdaEsmSourcePermissions;
pub use lambda_invoke_permission_missing::LambdaInvokePermissionMissing;
pub use lambda_logs_permissions::LambdaLogsPermissions;
pub use lambda_qualifier_mismatch::LambdaQualifierMismatch;
pub use lambda_vpc_eni_permissions::LambdaVpcEniPermissions;
pub use lambda_xray_permissions::LambdaXrayPermissions;
pub use notification_permission_ordering::NotificationPermissionOrdering;
pub use passrole_missing::PassroleMissing;
pub use policy_attachment_race::PolicyAttachmentRace;
pub use policy_variable_not_interpolated::PolicyVariableNotInterpolated;
pub use ref_is_not_an_arn::RefIsNotAnArn;
pub use role_trust_service_mismatch::RoleTrustServiceMismatch;
pub use s3_public_policy_blocked::S3PublicPolicyBlocked;
pub use scheduler_target_permissions::SchedulerTargetPermissions;
pub use secret_arn_missing_suffix::SecretArnMissingSuffix;
pub use sns_topic_policy_missing::SnsTopicPolicyMissing;
pub use sqs_queue_policy_missing::SqsQueuePolicyMissing;
pub use stepfunctions_logging_permissions::StepfunctionsLoggingPermissions;
pub use stepfunctions_task_permissions::StepfunctionsTaskPermissions;
pub use unknown_action_or_service::UnknownActionOrService;

use crate::registry::Rule;

/// Every rule, in code order.
pub static ALL: &[&dyn Rule] = &[
    &LambdaVpcEniPermissions,
    &RoleTrustServiceMismatch,
    &LambdaLogsPermissions,
    &LambdaEsmSourcePermissions,
    &LambdaDlqPermissions,
    &LambdaAsyncDestinationPermissions,
    &LambdaXrayPermissions,
    &LambdaEfsPermissions,
    &LambdaEnvKmsDecrypt,
    &ActionResourceTypeMismatch,
    &RefIsNotAnArn,
    &SecretArnMissingSuffix,
    &KmsEncryptedResourceMissingKeyPermission,
    &KmsKeyPolicyDoesNotDelegate,
    &AwsManagedKeyBlocksServiceDelivery,
    &KmsKeyPolicyMissingServicePrincipal,
    &DynamodbIndexArnMissing,
    &DynamodbStreamArnMismatch,
    &EcsExecutionRoleImageAndLogs,
    &EcsSecretsPermissions,
    &LambdaInvokePermissionMissing,
    &SqsQueuePolicyMissing,
    &SnsTopicPolicyMissing,
    &NotificationPermissionOrdering,
    &StepfunctionsTaskPermissions,
    &StepfunctionsLoggingPermissions,
    &EventbridgeTargetPermissions,
    &SchedulerTargetPermissions,
    &ExplicitDenyBlocksRequiredAction,
    &BoundaryOrScpMissingAllow,
    &UnknownActionOrService,
    &ConditionNeverSatisfiable,
    &InvalidPrincipalOrArn,
    &ArnScopeMismatch,
    &PolicyVariableNotInterpolated,
    &CrossAccountOneSidedGrant,
    &PassroleMissing,
    &S3PublicPolicyBlocked,
    &PolicyAttachmentRace,
    &LambdaQualifierMismatch,
    &ExecuteApiArnMismatch,
];
