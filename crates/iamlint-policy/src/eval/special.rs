//! Requests AWS decides outside the policy language (SEMANTICS.md §A.10 items 11, 13, 14): a
//! call that needs no permission, resources no account principal may change whatever its
//! policies say, and which KMS requests the key policy governs.

use super::matching::glob_greedy;

/// `sts:GetCallerIdentity` needs no permission and succeeds even when a policy explicitly
/// denies it, "because the same information is returned when access is denied"
/// (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
pub fn needs_no_permission(action: &str) -> bool {
    action.eq_ignore_ascii_case("sts:GetCallerIdentity")
}

/// Whether the resource policy must itself allow the request: a role's trust policy for the
/// role-assumption actions, and a KMS key policy for requests on a key. Requests on an alias
/// (`kms:CreateAlias`, `kms:UpdateAlias`, `kms:DeleteAlias` are authorised on the alias by IAM
/// policies, and separately on the key by its key policy) and requests whose resource is `*`
/// (`kms:ListKeys`, `kms:ListAliases`, `kms:CreateKey`) are decided by IAM policies alone
/// (https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html).
pub fn resource_policy_is_mandatory(action: &str, resource: &str) -> bool {
    let a = action.to_ascii_lowercase();
    if a.starts_with("kms:") {
        // `arn:partition:kms:region:account:key/id`: only a key has a key policy.
        return resource
            .splitn(6, ':')
            .nth(5)
            .is_some_and(|r| r.starts_with("key/"));
    }
    a.starts_with("sts:assumerole") || a == "sts:tagsession" || a == "sts:setsourceidentity"
}

/// A resource that AWS owns inside (or alongside) an account: the listed actions on it are
/// refused to every account principal, whatever its policies allow.
pub struct Protected {
    /// Resource ARN pattern (glob, `*` crosses every separator).
    pub resource: &'static str,
    /// Lower-cased actions refused on it.
    pub actions: &'static [&'static str],
    /// Why, in the words of the AWS documentation that says so.
    pub why: &'static str,
    /// The AWS page that says so.
    pub source: &'static str,
}

/// The resources AWS reserves. Each action is listed only where the cited page covers it:
/// AWS managed policies are "created and administered by AWS" and their permissions cannot be
/// modified, and `iam:TagPolicy`/`UntagPolicy` apply to customer managed policies only; roles IAM
/// Identity Center creates for permission sets are "only modifiable by AWS" (changed through
/// the permission set, never through IAM) and take no tags.
pub const PROTECTED: &[Protected] = &[
    Protected {
        resource: "arn:*:iam::aws:policy/*",
        actions: &[
            "iam:createpolicy",
            "iam:createpolicyversion",
            "iam:deletepolicy",
            "iam:deletepolicyversion",
            "iam:setdefaultpolicyversion",
            "iam:tagpolicy",
            "iam:untagpolicy",
        ],
        why: "AWS managed policies are created and administered by AWS: no account principal can create, version, delete or tag them, or set their default version",
        source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies",
    },
    Protected {
        resource: "arn:*:iam::*:role/aws-reserved/*",
        actions: &[
            "iam:createrole",
            "iam:deleterole",
            "iam:updaterole",
            "iam:updateroledescription",
            "iam:updateassumerolepolicy",
            "iam:putrolepolicy",
            "iam:deleterolepolicy",
            "iam:attachrolepolicy",
            "iam:detachrolepolicy",
            "iam:putrolepermissionsboundary",
            "iam:deleterolepermissionsboundary",
            "iam:tagrole",
            "iam:untagrole",
        ],
        why: "roles under /aws-reserved/ are created by IAM Identity Center for permission sets and are only modifiable by AWS: change the permission set instead",
        source: "https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html",
    },
];

/// The reserved resource `action` on `resource` touches, if any.
pub fn protected(action: &str, resource: &str) -> Option<&'static Protected> {
    let action = action.to_ascii_lowercase();
    PROTECTED.iter().find(|p| {
        p.actions.contains(&action.as_str())
            && glob_greedy(p.resource.as_bytes(), resource.as_bytes(), false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_key_policy_governs_keys_only() {
        let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let alias = "arn:aws:kms:us-east-1:111122223333:alias/app";
        assert!(resource_policy_is_mandatory("kms:Decrypt", key));
        assert!(resource_policy_is_mandatory("KMS:CreateAlias", key));
        assert!(!resource_policy_is_mandatory("kms:CreateAlias", alias));
        assert!(!resource_policy_is_mandatory("kms:ListKeys", "*"));
        assert!(resource_policy_is_mandatory(
            "sts:AssumeRole",
            "arn:aws:iam::111122223333:role/r"
        ));
        assert!(!resource_policy_is_mandatory(
            "s3:GetObject",
            "arn:aws:s3:::b/k"
        ));
    }

    #[test]
    fn reserved_resources() {
        assert!(
            protected(
                "iam:CreatePolicyVersion",
                "arn:aws:iam::aws:policy/ReadOnlyAccess"
            )
            .is_some()
        );
        assert!(
            protected(
                "iam:AttachRolePolicy",
                "arn:aws:iam::aws:policy/ReadOnlyAccess"
            )
            .is_none()
        );
        assert!(
            protected(
                "iam:CreatePolicyVersion",
                "arn:aws:iam::111122223333:policy/Mine"
            )
            .is_none()
        );
        let sso = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-2/AWSReservedSSO_Admin_1234567890abcdef";
        assert!(protected("iam:AttachRolePolicy", sso).is_some());
        assert!(protected("iam:GetRole", sso).is_none());
        assert!(protected("iam:AttachRolePolicy", "arn:aws:iam::111122223333:role/app").is_none());
    }
}
