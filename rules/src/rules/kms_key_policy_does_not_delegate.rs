use crate::context::Context;
use crate::declare_rule;
use crate::kms;
use crate::kms::key_policy_statement_span;
use crate::policies::{is_allow, items, statements};
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Severity, Span, Value};
use iamlint_policy::eval::{Outcome, Uncertainty, match_action};

declare_rule! {
    /// ## What it does
    /// Finds KMS keys whose key policy neither names a role of the template nor the account
    /// root (`arn:${AWS::Partition}:iam::${AWS::AccountId}:root`), while that role's IAM
    /// policies grant it KMS actions on the key.
    ///
    /// ## Why is this bad?
    /// Key policies are mandatory: "Unless the key policy explicitly allows it, you cannot use
    /// IAM policies to allow access to a KMS key. Without permission from the key policy, IAM
    /// policies that allow permissions have no effect." A key policy that does not enable IAM
    /// policies (no statement for the account root) makes every IAM grant on the key useless,
    /// and the role's requests fail with KMS access denied.
    ///
    /// ## Example
    /// ```yaml
    /// Key:
    ///   Type: AWS::KMS::Key
    ///   Properties:
    ///     KeyPolicy:
    ///       Version: "2012-10-17"
    ///       Statement:
    ///         - Effect: Allow
    ///           Principal: { AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/Admin" }
    ///           Action: kms:*
    ///           Resource: "*"
    /// AppRole:
    ///   Type: AWS::IAM::Role
    ///   Properties:
    ///     Policies:
    ///       - PolicyName: decrypt
    ///         PolicyDocument:
    ///           Statement:
    ///             - Effect: Allow
    ///               Action: kms:Decrypt
    ///               Resource: !GetAtt Key.Arn
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///       Statement:
    ///         - Sid: Enable IAM User Permissions
    ///           Effect: Allow
    ///           Principal: { AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root" }
    ///           Action: kms:*
    ///           Resource: "*"
    /// ```
    ///
    /// ## How to fix
    /// Add the "Enable IAM User Permissions" statement of the default key policy, or name the
    /// role in a key-policy statement. A key without `KeyPolicy` gets the default key policy,
    /// which delegates to IAM, and is not reported. Statements for `"AWS": "*"` limited with
    /// `kms:CallerAccount` to the stack's account count as allowing the role.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
    /// - https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
    pub struct KmsKeyPolicyDoesNotDelegate {
        code: "IAM014",
        name: "kms-key-policy-does-not-delegate",
        severity: Error,
        summary: "key policy names neither the principal nor the account root, so IAM grants on the key have no effect",
    }
}

impl Rule for KmsKeyPolicyDoesNotDelegate {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for key in ctx.stack.resources_of("AWS::KMS::Key") {
            // Without `KeyPolicy` the default key policy delegates to IAM.
            if !kms::has_declared_policy(key) {
                continue;
            }
            let Some(policy) = kms::key_policy(ctx, key) else {
                continue;
            };
            let arn = kms::key_arn(ctx, key);
            for role_resource in ctx.stack.resources_of("AWS::IAM::Role") {
                let Some(role) = ctx.role(&role_resource.id) else {
                    continue;
                };
                let grants = key_grants(ctx, role, key);
                if grants.is_empty() {
                    continue;
                }
                let mut ineffective: Vec<String> = Vec::new();
                let mut spans: Vec<Span> = Vec::new();
                for grant in &grants {
                    // A wildcard (`kms:*`) shows intent for no particular action: only when it
                    // is useless for every action it covers is it reported.
                    let denied: Vec<&'static str> = grant
                        .actions
                        .iter()
                        .copied()
                        .filter(|action| {
                            let u = kms::key_use(ctx, role, action, &arn, &policy, None);
                            u.decision.outcome == Outcome::ImplicitlyDenied
                                && u.key_policy_only.outcome == Outcome::ImplicitlyDenied
                                && matches!(
                                    u.identity_only.outcome,
                                    Outcome::Allowed | Outcome::Unknown(Uncertainty::Condition)
                                )
                        })
                        .collect();
                    // A wildcard is reported as written, when it is useless for every action
                    // it covers.
                    let reported: Vec<String> = if grant.wildcard {
                        if denied.len() == grant.actions.len() {
                            vec![grant.written.clone()]
                        } else {
                            Vec::new()
                        }
                    } else {
                        denied.iter().map(|a| (*a).to_string()).collect()
                    };
                    if reported.is_empty() {
                        continue;
                    }
                    for a in reported {
                        if !ineffective.contains(&a) {
                            ineffective.push(a);
                        }
                    }
                    if !spans.contains(&grant.span) {
                        spans.push(grant.span);
                    }
                }
                if ineffective.is_empty() {
                    continue;
                }
                let role_name = role.id();
                let actions = ineffective.join(", ");
                let message = format!(
                    "Key {}'s policy does not allow {role_name} {actions} and does not enable IAM policies (no statement for arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:root). The IAM grant of {actions} to {role_name} has no effect: its requests will fail with KMS access denied. Add the \"Enable IAM User Permissions\" statement or name {role_name} in the key policy.",
                    key.id
                );
                let role_arn = ctx.written_ref(&iamlint_core::Reference {
                    resource: role_name.to_string(),
                    attribute: iamlint_core::Attribute::Get("Arn".to_string()),
                });
                let help = crate::fix::enable_iam_policies(
                    ctx.stack.format,
                    &key.id,
                    &role_arn,
                    &ineffective.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                let mut d = Diagnostic::new(
                    Self::META.code,
                    Self::META.name,
                    Severity::Error,
                    key_policy_statement_span(key),
                    message,
                )
                .with_label(format!("no statement for the account root or {role_name}"));
                for span in spans {
                    d = d.with_secondary(
                        span,
                        format!("{role_name} is granted {actions} on {} here", key.id),
                    );
                }
                out.push(d.with_help(help).with_resource(key.id.clone()));
            }
        }
    }
}

/// One IAM statement granting a role KMS actions on one key by name.
struct KeyGrant {
    /// The key actions it grants (for a wildcard, every key-use action it covers).
    actions: Vec<&'static str>,
    wildcard: bool,
    /// The action pattern as written.
    written: String,
    span: Span,
}

/// The statements of the role's policies that allow KMS actions on this key by name (not on
/// `*` or every key: such grants show no intent to use this key).
fn key_grants(
    ctx: &Context<'_>,
    role: &crate::principal::Role<'_>,
    key: &iamlint_core::Resource,
) -> Vec<KeyGrant> {
    let mut out = Vec::new();
    for doc in &role.identity {
        for statement in statements(&doc.document) {
            if !is_allow(statement) {
                continue;
            }
            let (Some(action_element), Some(resource_element)) =
                (statement.get("Action"), statement.get("Resource"))
            else {
                continue;
            };
            let names_key = items(resource_element)
                .into_iter()
                .flat_map(|v| ctx.resolver.strings(v))
                .any(|p| kms::pattern_names_key(&p, key));
            if !names_key {
                continue;
            }
            for pattern in items(action_element).into_iter().filter_map(Value::as_str) {
                let wildcard = pattern.contains(['*', '?']);
                let actions: Vec<&'static str> = kms::KEY_USE_ACTIONS
                    .iter()
                    .copied()
                    .filter(|a| match_action(pattern, a))
                    .collect();
                if actions.is_empty() {
                    continue;
                }
                out.push(KeyGrant {
                    actions,
                    wildcard,
                    written: pattern.to_string(),
                    span: statement.span,
                });
            }
        }
    }
    out
}
