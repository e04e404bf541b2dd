use crate::arn::{self, ArnParts};
use crate::context::Context;
use crate::declare_rule;
use crate::policies::{self, DocKind};
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Pseudo, Reference, Severity, Span, SymPart, SymStr, Symbol};

declare_rule! {
    /// ## What it does
    /// Finds ARNs in policy grants whose region or account cannot be right:
    ///
    /// - an S3 bucket or object ARN, or an IAM ARN, with a region (or, for S3, an account):
    ///   `arn:aws:s3:us-east-1:123456789012:reports/*`;
    /// - an ARN naming a resource this template creates, with a hard-coded region or account
    ///   (`arn:aws:sqs:us-east-1:123456789012:jobs` for the stack's queue `jobs`): the stack
    ///   creates the resource in the region and account it is deployed to.
    ///
    /// ## Why is this bad?
    /// S3 bucket and object ARNs have neither region nor account (`arn:aws:s3:::bucket/key`),
    /// and IAM ARNs have no region, so an ARN that carries them matches nothing and the grant
    /// has no effect. A hard-coded region or account for a resource of the stack breaks the
    /// grant as soon as the template is deployed to another region or account.
    ///
    /// ## Example
    /// ```yaml
    /// - Effect: Allow
    ///   Action: s3:GetObject
    ///   Resource: !Sub arn:aws:s3:${AWS::Region}:${AWS::AccountId}:${Bucket}/*
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///   Resource: !Sub arn:${AWS::Partition}:s3:::${Bucket}/*
    /// ```
    ///
    /// ## How to fix
    /// Leave the region and account of S3 bucket and object ARNs empty, and the region of IAM
    /// ARNs. For a resource of the stack, use `!GetAtt Resource.Arn` or `${AWS::Region}` and
    /// `${AWS::AccountId}`.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
    /// - https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-arn-format.html
    pub struct ArnScopeMismatch {
        code: "IAM034",
        name: "arn-scope-mismatch",
        severity: Warning,
        summary: "ARN with the wrong region/account for a resource created in the same stack, S3 ARN with region or account",
    }
}

/// The services whose ARNs leave the region (IAM) or both region and account (S3 buckets and
/// objects) empty, checked against the catalog's formats.
const GLOBAL_SERVICES: &[&str] = &["s3", "iam"];

impl Rule for ArnScopeMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let created = created_arns(ctx);
        let mut seen: Vec<Span> = Vec::new();
        for located in policies::documents(ctx.stack) {
            if !matches!(located.kind, DocKind::Identity | DocKind::Resource) {
                continue;
            }
            let grants = arn::allow_statements(&ctx.resolver, [(located.document, true)]);
            for grant in grants.iter().filter(|g| g.own) {
                for (resource, item) in &grant.resources {
                    if seen.contains(&item.span) {
                        continue;
                    }
                    let Some(parts) = arn::split(ctx.stack, resource) else {
                        continue;
                    };
                    let diagnostic = match parts.service() {
                        Some(s) if GLOBAL_SERVICES.contains(&s) => {
                            arn::scope_corrected(ctx.stack, resource).map(|fixed| {
                                global_finding(ctx, resource, &parts, &fixed, item.span)
                            })
                        }
                        _ => hard_coded_finding(ctx, resource, &parts, &created, item.span),
                    };
                    if let Some(d) = diagnostic {
                        seen.push(item.span);
                        out.push(d.with_resource(located.resource.id.clone()));
                    }
                }
            }
        }
    }
}

fn global_finding(
    ctx: &Context<'_>,
    resource: &SymStr,
    parts: &ArnParts,
    fixed: &SymStr,
    span: Span,
) -> Diagnostic {
    let what = match parts.service() {
        Some("s3") => "S3 bucket and object ARNs have no region or account",
        _ => "IAM ARNs have no region",
    };
    Diagnostic::new(
        ArnScopeMismatch::META.code,
        ArnScopeMismatch::META.name,
        Severity::Warning,
        span,
        format!(
            "{} names a region or account, but {what}: it matches no resource, and the grant has no effect.",
            ctx.sub_text(resource)
        ),
    )
    .with_label("region or account where the ARN has none")
    .with_help(format!("write the ARN as {}", ctx.written_str(fixed)))
}

/// The ARNs of the stack's resources whose names are literal, with the resource's id: their
/// region and account are the stack's.
fn created_arns(ctx: &Context<'_>) -> Vec<(String, ArnParts)> {
    let mut out = Vec::new();
    for resource in ctx.stack.resources() {
        let arn = ctx
            .resolver
            .reference(&Reference::get_att(&resource.id, "Arn"), 0);
        let Some(parts) = arn::split(ctx.stack, &arn) else {
            continue;
        };
        let stack_scoped = |s: &SymStr, p: Pseudo| {
            s.parts().is_empty() || s.parts() == [SymPart::Sym(Symbol::Pseudo(p))]
        };
        if parts.resource.as_literal().is_some()
            && parts.service().is_some()
            && stack_scoped(&parts.region, Pseudo::Region)
            && stack_scoped(&parts.account, Pseudo::AccountId)
            && !(parts.region.parts().is_empty() && parts.account.parts().is_empty())
        {
            out.push((resource.id.clone(), parts));
        }
    }
    out
}

/// A literal region or account (no wildcard, no symbol).
fn hard_coded(s: &SymStr) -> Option<&str> {
    s.as_literal()
        .filter(|t| !t.is_empty() && !t.contains(['*', '?']))
}

fn hard_coded_finding(
    ctx: &Context<'_>,
    resource: &SymStr,
    parts: &ArnParts,
    created: &[(String, ArnParts)],
    span: Span,
) -> Option<Diagnostic> {
    let region = hard_coded(&parts.region);
    let account = hard_coded(&parts.account);
    if region.is_none() && account.is_none() {
        return None;
    }
    let named = parts.resource.as_literal()?;
    let (id, created_parts) = created.iter().find(|(_, c)| {
        c.service() == parts.service()
            && c.resource.as_literal().is_some_and(|own| {
                named == own
                    || named
                        .strip_prefix(own)
                        .is_some_and(|rest| rest.starts_with(['/', ':']))
            })
            // Only where the stack's ARN has the part that is hard-coded.
            && (region.is_none() || !c.region.parts().is_empty())
            && (account.is_none() || !c.account.parts().is_empty())
    })?;
    let mut hard = Vec::new();
    if let Some(r) = region {
        hard.push(format!("region {r}"));
    }
    if let Some(a) = account {
        hard.push(format!("account {a}"));
    }
    let mut fixed = parts.clone();
    if region.is_some() {
        fixed.region = created_parts.region.clone();
    }
    if account.is_some() {
        fixed.account = created_parts.account.clone();
    }
    Some(
        Diagnostic::new(
            ArnScopeMismatch::META.code,
            ArnScopeMismatch::META.name,
            Severity::Warning,
            span,
            format!(
                "{} hard-codes {} for {id}, which this template creates in the region and account it is deployed to: deployed anywhere else, the grant matches nothing.",
                ctx.sub_text(resource),
                hard.join(" and "),
            ),
        )
        .with_label(format!("hard-coded {}", hard.join(" and ")))
        .with_help(format!(
            "use the stack's own region and account: {}",
            ctx.written_str(&fixed.join())
        )),
    )
}
