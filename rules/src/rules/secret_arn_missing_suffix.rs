use crate::context::Context;
use crate::declare_rule;
use crate::policies::{self, DocKind};
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Fix, Safety, Severity, SymPart, SymStr, Value};

declare_rule! {
    /// ## What it does
    /// Finds Secrets Manager secret ARNs in identity policies that end with the secret's
    /// name: `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME` without the random suffix
    /// and without a wildcard.
    ///
    /// ## Why is this bad?
    /// Secrets Manager appends a hyphen and six random characters to every secret's ARN
    /// (`…:secret:prod/db-AbCdEf`). A policy naming the ARN without them matches no secret, so
    /// `GetSecretValue` is denied at run time although the policy looks right.
    ///
    /// ## Example
    /// ```yaml
    /// - Effect: Allow
    ///   Action: secretsmanager:GetSecretValue
    ///   Resource: !Sub arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:prod/db
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///   Resource: !Sub arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:prod/db-??????
    /// ```
    ///
    /// ## How to fix
    /// Use `!Ref Secret` (a secret's `Ref` is its full ARN) when the secret is in the
    /// template, or end the ARN with `-??????` (six `?`, not `-*`, which would also match
    /// `prod/db-admin`). `iamlint --fix` appends `-??????` inside the string as you wrote it
    /// (plain or quoted YAML, JSON, HCL); written in a variable or module input instead of the
    /// statement, the fix is offered but not applied (the value may serve more than this policy).
    ///
    /// An error whether or not the template creates the secret: every secret's ARN has the
    /// suffix, so an ARN without it and without a wildcard matches nothing. No Secrets Manager
    /// action is authorized against the name alone: even `CreateSecret` is authorized against
    /// the new secret's full ARN, which is why AWS grants it on `NAME-??????`.
    ///
    /// A name that itself ends like a suffix (`-` and six letters or digits) is taken for a
    /// full ARN, except when the template creates a secret with exactly that name: then it is
    /// a warning (AWS advises against such names because partial ARNs become ambiguous).
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html#auth-and-access_examples_wildcard
    /// - https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen
    /// - https://docs.aws.amazon.com/secretsmanager/latest/userguide/permissions_grant-limited-resources.html
    pub struct SecretArnMissingSuffix {
        code: "IAM012",
        name: "secret-arn-missing-suffix",
        severity: Error,
        summary: "Secrets Manager ARN without the random 6-character suffix or a wildcard",
    }
}

impl Rule for SecretArnMissingSuffix {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let mut seen = Vec::new();
        for located in policies::documents(ctx.stack) {
            if located.kind != DocKind::Identity {
                continue;
            }
            for statement in policies::statements(located.document) {
                if !policies::is_allow(statement) {
                    continue;
                }
                for item in statement
                    .get("Resource")
                    .map(policies::items)
                    .unwrap_or_default()
                {
                    if seen.contains(&item.span) {
                        continue;
                    }
                    for arn in ctx.resolver.strings(item) {
                        let Some((name, severity)) = unsuffixed_name(ctx, &arn) else {
                            continue;
                        };
                        seen.push(item.span);
                        let fix = match name.parts().last() {
                            Some(SymPart::Lit(tail)) => {
                                crate::edits::append_to_string(ctx, item, tail, "-??????")
                            }
                            _ => None,
                        }
                        .map(|edit| {
                            // Six `?` match exactly the suffix AWS appends: the ARN then names
                            // this secret and nothing else. Written elsewhere (a variable, a
                            // module input) the text may serve more than this policy.
                            let in_policy = within(item.span, statement.span);
                            Fix::new(
                                "end the secret ARN with `-??????`",
                                if in_policy {
                                    Safety::Safe
                                } else {
                                    Safety::Unsafe
                                },
                                vec![edit],
                            )
                        });
                        let mut message = format!(
                            "{} grants access to {}, but Secrets Manager secret ARNs end with a hyphen and 6 random characters ({}-AbCdEf): this ARN matches no secret.",
                            located.resource.id,
                            ctx.sub_text(&arn),
                            ctx.sub_text(&name),
                        );
                        if severity == Severity::Warning {
                            message.push_str(" The template creates a secret with exactly this name, which itself ends like a suffix; the ARN lacks the suffix AWS appends to it.");
                        }
                        out.push(
                            Diagnostic::new(
                                Self::META.code,
                                Self::META.name,
                                severity,
                                item.span,
                                message,
                            )
                            .with_label("secret ARN without its random suffix")
                            .with_help(if ctx.stack.format.is_cloudformation() {
                                format!(
                                    "use the secret's full ARN (`!Ref` of the secret resource), or end the ARN with `-??????`: {}-??????",
                                    ctx.sub_text(&arn)
                                )
                            } else {
                                let mut wildcard = arn.clone();
                                wildcard.push_lit("-??????");
                                format!(
                                    "use the secret's full ARN (the `arn` of the aws_secretsmanager_secret resource), or end the ARN with `-??????`: {}",
                                    ctx.written_str(&wildcard)
                                )
                            })
                            .with_resource(located.resource.id.clone())
                            .with_fix(fix),
                        );
                        break;
                    }
                }
            }
        }
    }
}

/// Whether `inner` lies inside `outer` (same file).
fn within(inner: iamlint_core::Span, outer: iamlint_core::Span) -> bool {
    inner.file == outer.file && outer.start <= inner.start && inner.end <= outer.end
}

/// The secret name of a secret ARN lacking the random suffix, with the finding's severity: an
/// error for a name without wildcard or suffix (it can never match a secret); a warning for a
/// name that itself ends like a suffix when the stack creates a secret with exactly that name.
fn unsuffixed_name(ctx: &Context<'_>, arn: &SymStr) -> Option<(SymStr, Severity)> {
    let name = secret_name(arn)?;
    let last = match name.parts().last() {
        Some(SymPart::Lit(text)) => text,
        _ => return None,
    };
    if !ends_like_suffix(last) {
        return Some((name, Severity::Error));
    }
    created_secret(ctx, &name).then_some((name, Severity::Warning))
}

/// The secret name of a secret ARN that ends with a literal name without wildcard. `None` for
/// other ARNs, partial ARNs with wildcards and names ending in symbols.
fn secret_name(arn: &SymStr) -> Option<SymStr> {
    let parts = arn.parts();
    // The ARN's text up to the secret name must say it is a secret ARN.
    let mut name = SymStr::new();
    let mut found = false;
    for part in parts {
        match part {
            SymPart::Lit(text) if !found => {
                if let Some((before, after)) = text.split_once(":secret:") {
                    if !before.contains("secretsmanager") && !arn_prefix_is_secretsmanager(arn) {
                        return None;
                    }
                    found = true;
                    name.push_lit(after);
                }
            }
            SymPart::Lit(text) => name.push_lit(text.clone()),
            SymPart::Sym(s) if found => name.push_sym(s.clone()),
            SymPart::Sym(_) => {}
        }
    }
    if !found {
        return None;
    }
    let last = match name.parts().last() {
        Some(SymPart::Lit(text)) => text,
        _ => return None,
    };
    if last.contains(['*', '?'])
        || name
            .parts()
            .iter()
            .any(|p| matches!(p, SymPart::Lit(t) if t.contains(['*', '?'])))
    {
        return None;
    }
    if last.is_empty() {
        return None;
    }
    Some(name)
}

/// Whether the ARN's literal text names the `secretsmanager` service.
fn arn_prefix_is_secretsmanager(arn: &SymStr) -> bool {
    arn.parts()
        .iter()
        .any(|p| matches!(p, SymPart::Lit(t) if t.contains(":secretsmanager:")))
}

/// `-` followed by six letters or digits at the end.
fn ends_like_suffix(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 7
        && bytes[bytes.len() - 7] == b'-'
        && bytes[bytes.len() - 6..]
            .iter()
            .all(u8::is_ascii_alphanumeric)
}

/// Whether the stack creates a secret with this name.
fn created_secret(ctx: &Context<'_>, name: &SymStr) -> bool {
    ctx.stack
        .resources_of("AWS::SecretsManager::Secret")
        .filter_map(|s| s.property("Name"))
        .any(|n: &Value| ctx.resolver.string(n).as_ref() == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamlint_core::{Pseudo, Symbol};

    fn arn(name: &str) -> SymStr {
        let mut s = SymStr::lit("arn:");
        s.push_sym(Symbol::Pseudo(Pseudo::Partition));
        s.push_lit(":secretsmanager:");
        s.push_sym(Symbol::Pseudo(Pseudo::Region));
        s.push_lit(":");
        s.push_sym(Symbol::Pseudo(Pseudo::AccountId));
        s.push_lit(format!(":secret:{name}"));
        s
    }

    #[test]
    fn names_without_suffix_or_wildcard() {
        assert_eq!(secret_name(&arn("prod/db")), Some(SymStr::lit("prod/db")));
        assert_eq!(secret_name(&arn("prod/db-??????")), None);
        assert_eq!(secret_name(&arn("prod/db-*")), None);
        assert_eq!(
            secret_name(&arn("prod/db-AbCdEf")),
            Some(SymStr::lit("prod/db-AbCdEf"))
        );
        assert!(ends_like_suffix("prod/db-AbCdEf"));
        assert!(!ends_like_suffix("prod/db-admin"));
        assert_eq!(
            secret_name(&SymStr::lit(
                "arn:aws:secretsmanager:us-east-1:111122223333:secret:app"
            )),
            Some(SymStr::lit("app"))
        );
        assert_eq!(
            secret_name(&SymStr::lit(
                "arn:aws:ssm:us-east-1:111122223333:parameter/secret:app"
            )),
            None
        );
        assert_eq!(secret_name(&SymStr::lit("*")), None);
    }
}
