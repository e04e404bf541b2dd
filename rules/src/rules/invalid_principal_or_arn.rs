use crate::context::Context;
use crate::declare_rule;
use crate::lint;
use crate::policies::{self, DocKind, Located};
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Attribute, Diagnostic, Severity, Span, SymPart, Symbol, Value, ValueKind};
use iamlint_policy::catalog;

declare_rule! {
    /// ## What it does
    /// Finds policy elements AWS cannot use:
    ///
    /// - a principal ARN with a wildcard in part of it (`arn:aws:iam::123456789012:role/app-*`);
    /// - a service principal that is not an AWS service's (`lambda.amazon.com`, `lambda`);
    /// - a `Resource` or `NotResource` that is neither `*` nor an ARN
    ///   (`my-bucket/*`, `!Sub ${Bucket}/*`);
    /// - `NotPrincipal` with `Effect: Allow`, or in a role trust policy;
    /// - `Principal` in an identity policy, and a trust or resource policy statement without
    ///   `Principal`.
    ///
    /// ## Why is this bad?
    /// IAM rejects such a policy when the stack is deployed (`MalformedPolicyDocument`: "Policy
    /// document should not specify a principal", "Missing required field Principal",
    /// "Resource … must be in ARN format or \"*\"", "Invalid principal in policy"), and so do
    /// S3 and KMS for bucket and key policies. Where a service accepts the policy, the element
    /// never matches: AWS does not expand wildcards inside principal ARNs, and no request is
    /// for a resource that is not an ARN.
    ///
    /// ## Example
    /// ```yaml
    /// AssumeRolePolicyDocument:
    ///   Version: "2012-10-17"
    ///   Statement:
    ///     - Effect: Allow
    ///       Principal:
    ///         AWS: arn:aws:iam::123456789012:role/app-*
    ///       Action: sts:AssumeRole
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///     - Effect: Allow
    ///       Principal:
    ///         AWS: arn:aws:iam::123456789012:root
    ///       Action: sts:AssumeRole
    ///       Condition:
    ///         ArnLike:
    ///           aws:PrincipalArn: arn:aws:iam::123456789012:role/app-*
    /// ```
    ///
    /// ## How to fix
    /// Name whole principals (or the account root, `*`) and narrow them with an
    /// `aws:PrincipalArn` condition; write service principals as `SERVICE.amazonaws.com`;
    /// write resources as ARNs (`!GetAtt Bucket.Arn`, `!Sub arn:${AWS::Partition}:s3:::${Bucket}/*`);
    /// replace `NotPrincipal` with a `Deny` and an `ArnNotEquals` condition on
    /// `aws:PrincipalArn`; remove `Principal` from identity policies (the principal is whoever
    /// the policy is attached to).
    ///
    /// Errors are reported where AWS documents the rejection; an unknown service principal is
    /// a warning, since iamlint carries no list of every service principal and only checks
    /// the form.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
    pub struct InvalidPrincipalOrArn {
        code: "IAM033",
        name: "invalid-principal-or-arn",
        severity: Error,
        summary: "partial-wildcard principal, unknown service principal, malformed ARN, NotPrincipal with Allow",
    }
}

impl Rule for InvalidPrincipalOrArn {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let mut seen: Vec<Span> = Vec::new();
        let mut push = |d: Diagnostic, out: &mut Vec<Diagnostic>| {
            if !seen.contains(&d.span) {
                seen.push(d.span);
                out.push(d);
            }
        };
        for located in policies::documents(ctx.stack) {
            let document_branch = lint::document_in_branch(&located);
            for (statement, statement_branch) in lint::statements_with_branch(located.document) {
                let branch = document_branch || statement_branch;
                let mut found = principal_element(ctx, &located, statement);
                found.extend(principals(ctx, &located, statement));
                for element in ["Resource", "NotResource"] {
                    for item in statement
                        .get(element)
                        .map(policies::items)
                        .unwrap_or_default()
                    {
                        if item.span == statement.span {
                            continue;
                        }
                        found.extend(resource_problem(ctx, &located, element, item));
                    }
                }
                for mut d in found {
                    // Under an undecidable `Fn::If` or resource `Condition`: the deploy
                    // fails only when it is true (SEMANTICS 0.5).
                    if branch && d.severity == Severity::Error {
                        d.severity = Severity::Warning;
                        d.message.push_str(
                            " This holds only when the condition that creates the statement is true.",
                        );
                    }
                    push(d, out);
                }
            }
        }
    }
}

fn diagnostic(
    severity: Severity,
    span: Span,
    message: String,
    located: &Located<'_>,
) -> Diagnostic {
    Diagnostic::new(
        InvalidPrincipalOrArn::META.code,
        InvalidPrincipalOrArn::META.name,
        severity,
        span,
        message,
    )
    .with_resource(located.resource.id.clone())
}

/// `Principal` where it must not be, missing where it must be, and `NotPrincipal` with Allow.
fn principal_element(
    ctx: &Context<'_>,
    located: &Located<'_>,
    statement: &Value,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(map) = statement.as_map() else {
        return out;
    };
    let principal = map
        .get_entry("Principal")
        .or_else(|| map.get_entry("NotPrincipal"));
    let where_ = format!(
        "{} of {} ({})",
        lint::statement_name(statement),
        located.resource.id,
        located.path
    );
    match (located.kind, principal) {
        (DocKind::Identity, Some((key, _))) if key.span != statement.span => out.push(
            diagnostic(
                Severity::Error,
                key.span,
                format!(
                    "`{}` in {where_}, an identity policy: IAM rejects the policy at deploy (MalformedPolicyDocument: \"Policy document should not specify a principal\").",
                    key.name
                ),
                located,
            )
            .with_label("not allowed in an identity policy")
            .with_help(format!(
                "remove `{}`: an identity policy applies to the role, user or group it is attached to; to let another principal in, grant it in a resource or trust policy",
                key.name
            )),
        ),
        (DocKind::Trust | DocKind::Resource, None) => {
            let (severity, consequence) = match (located.kind, located.resource.kind.as_str()) {
                (DocKind::Trust, _) => (
                    Severity::Error,
                    "IAM rejects the role at deploy (MalformedPolicyDocument: \"Missing required field Principal\")",
                ),
                (_, "AWS::S3::BucketPolicy") => (
                    Severity::Error,
                    "S3 rejects the bucket policy at deploy (MalformedPolicy: \"Missing required field Principal\")",
                ),
                _ => (
                    Severity::Warning,
                    "AWS requires a principal in every statement of a resource-based policy, so the service rejects the policy at deploy or the statement never matches",
                ),
            };
            out.push(
                diagnostic(
                    severity,
                    statement.span,
                    format!(
                        "{} has no `Principal`: {consequence}.",
                        lint::capitalized(&where_)
                    ),
                    located,
                )
                .with_label("statement without `Principal`")
                .with_help(
                    match (
                        located.kind == DocKind::Trust,
                        ctx.stack.format.is_cloudformation(),
                    ) {
                        (true, true) => {
                            "add the principal that assumes the role, e.g. `Principal: { Service: lambda.amazonaws.com }`"
                        }
                        (false, true) => {
                            "add the principal the statement is about, e.g. `Principal: { AWS: !Sub \"arn:${AWS::Partition}:iam::${AWS::AccountId}:root\" }` or `Principal: { Service: sns.amazonaws.com }`"
                        }
                        (true, false) => {
                            "add the principal that assumes the role, e.g. `principals { type = \"Service\", identifiers = [\"lambda.amazonaws.com\"] }` (in jsonencode: `Principal = { Service = \"lambda.amazonaws.com\" }`)"
                        }
                        (false, false) => {
                            "add the principal the statement is about, e.g. `principals { type = \"AWS\", identifiers = [\"arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root\"] }` or `principals { type = \"Service\", identifiers = [\"sns.amazonaws.com\"] }`"
                        }
                    },
                ),
            );
        }
        _ => {}
    }
    if let Some((key, _)) = map.get_entry("NotPrincipal")
        && key.span != statement.span
        && matches!(located.kind, DocKind::Trust | DocKind::Resource)
    {
        let allow = policies::is_allow(statement);
        if located.kind == DocKind::Trust || allow {
            let why = if located.kind == DocKind::Trust {
                "IAM does not support `NotPrincipal` in a role trust policy"
            } else {
                "AWS supports `NotPrincipal` only with `Effect: Deny` (with Allow it would grant everyone else, anonymous users included)"
            };
            out.push(
                diagnostic(
                    Severity::Error,
                    key.span,
                    format!("`NotPrincipal` in {where_}: {why}; the policy is rejected or does not do what it says."),
                    located,
                )
                .with_label(if allow { "`NotPrincipal` with Allow" } else { "`NotPrincipal` in a trust policy" })
                .with_help(
                    "name the principals in `Principal`; to exclude principals, use a `Deny` statement with `Principal: \"*\"` and an `ArnNotEquals` condition on `aws:PrincipalArn`",
                ),
            );
        }
    }
    out
}

/// Partial-wildcard principal ARNs and service principals that are not AWS's.
fn principals(ctx: &Context<'_>, located: &Located<'_>, statement: &Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if !matches!(located.kind, DocKind::Trust | DocKind::Resource) {
        return out;
    }
    for element in ["Principal", "NotPrincipal"] {
        let Some(principal) = statement.get(element) else {
            continue;
        };
        for alt in principal.alternatives() {
            if let Some(aws) = alt.get("AWS") {
                for item in policies::items(aws) {
                    let Some(arn) = principal_text(ctx, item) else {
                        continue;
                    };
                    if item.span == statement.span || arn == "*" {
                        continue;
                    }
                    let arn = arn.as_str();
                    out.push(
                        diagnostic(
                            Severity::Error,
                            item.span,
                            format!(
                                "`{element}.AWS` `{arn}` in {} of {} has a wildcard in part of the ARN: AWS does not expand wildcards in principals, so IAM, S3 and KMS reject the policy at deploy (\"Invalid principal in policy\") and other services never match it.",
                                lint::statement_name(statement),
                                located.resource.id,
                            ),
                            located,
                        )
                        .with_label("wildcard inside a principal ARN")
                        .with_help(principal_wildcard_help(arn)),
                    );
                }
            }
            if let Some(services) = alt.get("Service") {
                for item in policies::items(services) {
                    let Some(service) = item.as_str() else {
                        continue;
                    };
                    if item.span == statement.span {
                        continue;
                    }
                    let Some(suggestion) = service_principal_problem(service) else {
                        continue;
                    };
                    let help = match suggestion {
                        Some(s) => format!("did you mean `{s}`? Service principals are written `SERVICE.amazonaws.com` (see the service's documentation for its principal)"),
                        None => "service principals are written `SERVICE.amazonaws.com` (see the service's documentation for its principal)".to_string(),
                    };
                    out.push(
                        diagnostic(
                            Severity::Warning,
                            item.span,
                            format!(
                                "`{element}.Service` `{service}` in {} of {} is not the form of an AWS service principal: IAM rejects the policy (\"Invalid principal in policy\") or the statement never matches, so the service is denied.",
                                lint::statement_name(statement),
                                located.resource.id,
                            ),
                            located,
                        )
                        .with_label("not an AWS service principal")
                        .with_help(help),
                    );
                }
            }
        }
    }
    out
}

/// The principal as written, when it holds a wildcard in its literal text (symbols such as
/// `${AWS::AccountId}` never hold one).
fn principal_text(ctx: &Context<'_>, item: &Value) -> Option<String> {
    match &item.kind {
        ValueKind::String(s) => s.contains('*').then(|| s.clone()),
        ValueKind::Template(_) => {
            let resolved = ctx.resolver.string(item)?;
            resolved
                .parts()
                .iter()
                .any(|p| matches!(p, SymPart::Lit(l) if l.contains('*')))
                .then(|| ctx.sub_text(&resolved))
        }
        _ => None,
    }
}

fn principal_wildcard_help(arn: &str) -> String {
    let account = arn
        .split(':')
        .nth(4)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    match account {
        Some(account) => {
            let partition = arn.split(':').nth(1).unwrap_or("aws");
            format!(
                "name the account (`arn:{partition}:iam::{account}:root`) or `*` as the principal and narrow it with a condition: `ArnLike: {{ aws:PrincipalArn: \"{arn}\" }}`"
            )
        }
        None => format!(
            "use `*` (or the account root) as the principal and narrow it with a condition: `ArnLike: {{ aws:PrincipalArn: \"{arn}\" }}`"
        ),
    }
}

/// DNS suffixes of AWS service principals in the AWS partitions (commercial, China, the ISO
/// partitions and the European Sovereign Cloud); `amazon.com` for the few Alexa principals.
const SERVICE_SUFFIXES: &[&str] = &[
    ".amazonaws.com",
    ".amazonaws.com.cn",
    ".c2s.ic.gov",
    ".sc2s.sgov.gov",
    ".cloud.adc-e.uk",
    ".csp.hci.ic.gov",
    ".amazonaws.eu",
];

/// Why a literal service principal is not one: `Some(suggestion)` when it is not. iamlint has
/// no list of every service principal (no registry package carries one), so only the form is
/// checked: a known AWS suffix, or `amazon.com` for principals that are not an IAM service
/// prefix (`alexa-appkit.amazon.com` is real; `lambda.amazon.com` is a typo).
fn service_principal_problem(principal: &str) -> Option<Option<String>> {
    let lower = principal.to_ascii_lowercase();
    if lower == "*" || SERVICE_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        return None;
    }
    if let Some(name) = lower.strip_suffix(".amazon.com") {
        let first = name.split('.').next().unwrap_or(name);
        // Only a known IAM service name is a typo; `alexa-appkit.amazon.com` is real.
        catalog::service(first)?;
        return Some(Some(format!("{name}.amazonaws.com")));
    }
    // The service name is what precedes a misspelt `amazonaws` (or everything, when there is
    // no domain at all).
    let name = match lower.find(".amaz").or_else(|| lower.find(".aws")) {
        Some(i) => &lower[..i],
        None if !lower.contains('.') => lower.as_str(),
        None => return Some(None),
    };
    if name.is_empty() {
        return Some(None);
    }
    Some(Some(format!("{name}.amazonaws.com")))
}

/// A `Resource` that is neither `*` nor an ARN.
fn resource_problem(
    ctx: &Context<'_>,
    located: &Located<'_>,
    element: &str,
    item: &Value,
) -> Option<Diagnostic> {
    // A whole `!Ref` is IAM011's (a name) or an ARN; parameters and imports are unknown.
    let text = match &item.kind {
        ValueKind::String(s) => s.clone(),
        ValueKind::Template(_) => {
            let resolved = ctx.resolver.string(item)?;
            match resolved.parts().first()? {
                SymPart::Lit(prefix) if resolved.has_symbols() => {
                    if prefix.starts_with("arn:") || "arn:".starts_with(prefix.as_str()) {
                        return None;
                    }
                }
                SymPart::Lit(_) => {}
                // A generated name (`${Bucket}` without a BucketName) never starts with `arn:`.
                SymPart::Sym(Symbol::Attr(r)) => match &r.attribute {
                    Attribute::Get(a) if a.ends_with("Name") => {}
                    _ => return None,
                },
                SymPart::Sym(_) => return None,
            }
            ctx.sub_text(&resolved)
        }
        _ => return None,
    };
    if text == "*" || text.starts_with("execute-api:") {
        // API Gateway resource policies may abbreviate their own ARNs as `execute-api:/...`.
        return None;
    }
    let problem = if let Some(rest) = text.strip_prefix("arn:") {
        if rest.split(':').count() >= 5 || text.contains(['*', '?', '$']) {
            return None;
        }
        "has fewer than the six colon-separated parts of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`)"
    } else {
        "is neither `*` nor an ARN"
    };
    let consequence = if located.kind == DocKind::Identity {
        format!(
            "IAM rejects the policy at deploy (MalformedPolicyDocument: \"Resource {text} must be in ARN format or \\\"*\\\"\")"
        )
    } else {
        "AWS rejects the policy or the statement never matches, since requests are for ARNs"
            .to_string()
    };
    let help = suggestion(&text, ctx.stack.format.is_cloudformation());
    Some(
        diagnostic(
            Severity::Error,
            item.span,
            format!(
                "{element} `{text}` in {} ({}) {problem}: {consequence}.",
                located.resource.id, located.path
            ),
            located,
        )
        .with_label("not an ARN")
        .with_help(help),
    )
}

fn suggestion(text: &str, cloudformation: bool) -> String {
    if text.starts_with("${") {
        let name = text
            .trim_start_matches("${")
            .split('}')
            .next()
            .unwrap_or_default();
        let rest = text.split_once('}').map(|(_, r)| r).unwrap_or_default();
        if !cloudformation {
            return format!(
                "`${{{name}}}` is a name, not an ARN: use the resource's ARN, e.g. `\"${{{name}.arn}}{rest}\"`, or build it: `\"arn:${{data.aws_partition.current.partition}}:SERVICE:${{data.aws_region.current.name}}:${{data.aws_caller_identity.current.account_id}}:...\"`"
            );
        }
        return format!(
            "`${{{name}}}` is a name, not an ARN: use the resource's ARN, e.g. `!Sub \"${{{name}.Arn}}{rest}\"`, or build it: `!Sub \"arn:${{AWS::Partition}}:SERVICE:${{AWS::Region}}:${{AWS::AccountId}}:...\"`"
        );
    }
    if !cloudformation {
        return "write the full ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, e.g. `\"arn:${data.aws_partition.current.partition}:s3:::my-bucket/*\"`), use the resource's `arn` attribute (`aws_s3_bucket.b.arn`), or `\"*\"`".to_string();
    }
    "write the full ARN (`arn:${AWS::Partition}:SERVICE:REGION:ACCOUNT:RESOURCE`, e.g. `!Sub \"arn:${AWS::Partition}:s3:::my-bucket/*\"`), use `!GetAtt X.Arn`, or `\"*\"`".to_string()
}

#[cfg(test)]
mod tests {
    use super::service_principal_problem;

    #[test]
    fn service_principals_by_form() {
        for ok in [
            "lambda.amazonaws.com",
            "logs.us-east-1.amazonaws.com",
            "states.amazonaws.com.cn",
            "alexa-appkit.amazon.com",
            "Lambda.AmazonAWS.com",
        ] {
            assert!(service_principal_problem(ok).is_none(), "{ok}");
        }
        assert_eq!(
            service_principal_problem("lambda.amazon.com"),
            Some(Some("lambda.amazonaws.com".to_string()))
        );
        assert_eq!(
            service_principal_problem("lambda"),
            Some(Some("lambda.amazonaws.com".to_string()))
        );
        assert_eq!(
            service_principal_problem("sqs.amazonws.com"),
            Some(Some("sqs.amazonaws.com".to_string()))
        );
    }
}
