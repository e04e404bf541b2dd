use crate::context::Context;
use crate::declare_rule;
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Attribute, Diagnostic, Resource, Severity, Span, Value, ValueKind};
use iamlint_policy::policy::{
    Condition, Effect, PolicyKind, PrincipalKind, Statement, parse_policy,
};

declare_rule! {
    /// ## What it does
    /// Finds bucket policies that are public by Amazon S3's definition — an `Allow` to
    /// `Principal: "*"` (or `{AWS: "*"}`) not limited to fixed values of `aws:SourceArn`,
    /// `aws:SourceVpc`, `aws:SourceVpce`, `aws:SourceOwner`, `aws:SourceAccount`,
    /// `aws:userid`, `s3:DataAccessPointArn`, `s3:DataAccessPointAccount`,
    /// `s3:x-amz-server-side-encryption-aws-kms-key-id`, a principal key such as
    /// `aws:PrincipalOrgID`, or a set of narrow `aws:SourceIp` ranges — on a bucket created in
    /// the same template or configuration whose Block Public Access setting
    /// `BlockPublicPolicy` is on.
    ///
    /// ## Why is this bad?
    /// Every bucket created since April 2023 has all four Block Public Access settings on
    /// unless its configuration turns them off. With `BlockPublicPolicy` on, S3 rejects the
    /// `PutBucketPolicy` call of a public policy with 403 Access Denied, and the deploy fails.
    ///
    /// A bucket whose own setting is off may still be blocked by the account's (or the
    /// organization's) Block Public Access, which iamlint cannot see: that is a note. In
    /// Terraform, an `aws_s3_bucket_public_access_block` that turns the setting off must be
    /// applied before the policy: a policy that does not depend on it is a warning.
    ///
    /// A policy for a CloudFront origin access control (service principal
    /// `cloudfront.amazonaws.com` with a fixed `aws:SourceArn`) or origin access identity is
    /// not public.
    ///
    /// ## Example
    /// ```yaml
    /// Resources:
    ///   Site:
    ///     Type: AWS::S3::Bucket
    ///   SitePolicy:
    ///     Type: AWS::S3::BucketPolicy
    ///     Properties:
    ///       Bucket: !Ref Site
    ///       PolicyDocument:
    ///         Statement:
    ///           - Effect: Allow
    ///             Principal: "*"
    ///             Action: s3:GetObject
    ///             Resource: !Sub "${Site.Arn}/*"
    /// ```
    ///
    /// Use instead (when the bucket is meant to be public):
    /// ```yaml
    ///   Site:
    ///     Type: AWS::S3::Bucket
    ///     Properties:
    ///       PublicAccessBlockConfiguration:
    ///         BlockPublicPolicy: false
    ///         RestrictPublicBuckets: false
    /// ```
    ///
    /// ## How to fix
    /// If the bucket is meant to be public, turn `BlockPublicPolicy` (and
    /// `RestrictPublicBuckets`, which otherwise makes S3 ignore the public grant) off on the
    /// bucket, and make sure the account's settings allow it. Otherwise grant fixed
    /// principals, or limit the statement with a fixed value of one of the keys above; serve
    /// a website through CloudFront with an origin access control.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
    /// - https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html
    /// - https://aws.amazon.com/blogs/aws/heads-up-amazon-s3-security-changes-are-coming-in-april-of-2023/
    pub struct S3PublicPolicyBlocked {
        code: "IAM038",
        name: "s3-public-policy-blocked",
        severity: Error,
        summary: "public bucket policy that Block Public Access will reject",
    }
}

/// Condition keys whose fixed values make a grant to everyone non-public ("The meaning of
/// public", S3 User Guide). The principal keys stand for "an AWS principal, user, role, or
/// service principal (e.g. aws:PrincipalOrgID)".
const LIMITING_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
];

/// Keys whose values may hold a wildcard and still limit (`s3:DataAccessPointArn` with a
/// fixed account; `aws:userid` in the `AROLEID:*` form).
const WILDCARD_OK: &[&str] = &["s3:dataaccesspointarn", "aws:userid"];

/// Whether a condition limits a grant to everyone, as S3 judges it. Values iamlint cannot
/// read (parameters, references) count as fixed: silence rather than a guess.
fn limits(condition: &Condition) -> bool {
    let key = condition.key.to_ascii_lowercase();
    if key == "aws:sourceip" {
        return condition.values.iter().all(|v| match v.value.as_literal() {
            Some(cidr) => narrow_cidr(cidr).unwrap_or(true),
            None => true,
        });
    }
    if !LIMITING_KEYS.contains(&key.as_str()) {
        return false;
    }
    if WILDCARD_OK.contains(&key.as_str()) {
        return true;
    }
    condition.values.iter().all(|v| {
        v.value
            .as_literal()
            .is_none_or(|s| !s.contains(['*', '?']) && !s.contains("${"))
    })
}

/// Whether a CIDR is narrow enough not to be public: `/8` or narrower for IPv4, `/32` or
/// narrower for IPv6, or inside an RFC 1918 private range. `None` when it does not parse.
fn narrow_cidr(cidr: &str) -> Option<bool> {
    let (addr, len) = match cidr.split_once('/') {
        Some((a, l)) => (a.trim(), l.trim().parse::<u8>().ok()?),
        None => (cidr.trim(), 128),
    };
    match addr.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            let private = (o[0] == 10 && len >= 8)
                || (o[0] == 172 && (16..32).contains(&o[1]) && len >= 12)
                || (o[0] == 192 && o[1] == 168 && len >= 16);
            Some(len.min(32) >= 8 || private)
        }
        std::net::IpAddr::V6(_) => Some(len >= 32),
    }
}

/// Whether an action pattern covers one of S3's "bad actions" (`s3:Get*`, `s3:List*`,
/// `s3:Put*`, `s3:Delete*`, `s3:AbortMultipartUpload`, `s3:RestoreObject`): those that
/// expose the data.
fn covers_bad_action(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    iamlint_policy::catalog::expand_action_pattern(pattern)
        .iter()
        .any(|a| {
            a.service == "s3"
                && (["Get", "List", "Put", "Delete"]
                    .iter()
                    .any(|p| a.name.starts_with(p))
                    || a.name == "AbortMultipartUpload"
                    || a.name == "RestoreObject")
        })
}

/// Whether a statement grants everyone a bad action without a limiting condition, certainly.
fn is_public(statement: &Statement) -> bool {
    if statement.effect != Effect::Allow || !statement.certain || statement.actions.negated {
        return false;
    }
    let everyone = statement.principals.as_ref().is_some_and(|p| {
        !p.negated
            && p.principals
                .iter()
                .any(|p| p.kind == PrincipalKind::Everyone)
    });
    everyone
        && statement
            .actions
            .patterns
            .iter()
            .any(|p| p.value.as_literal().is_some_and(covers_bad_action))
        && !statement.conditions.iter().any(limits)
}

/// The bucket's `BlockPublicPolicy`, as S3 will apply it.
enum Block {
    /// On: no configuration (the default of new buckets), or set true. The span is the
    /// setting's, or the bucket's.
    On(Span),
    /// Set false (or left out of a configuration that is given); the span of the
    /// configuration.
    Off(Span),
    Unknown,
}

fn block_public_policy(bucket: &Resource) -> Block {
    let Some((key, config)) = bucket
        .properties
        .as_map()
        .and_then(|m| m.get_entry("PublicAccessBlockConfiguration"))
    else {
        return Block::On(bucket.span);
    };
    if config.as_map().is_none() {
        return Block::Unknown;
    }
    let setting = config
        .as_map()
        .and_then(|m| m.get_entry("BlockPublicPolicy"));
    match setting.map(|(k, v)| (k, &v.kind)) {
        None => Block::Off(key.span),
        Some((k, ValueKind::Bool(true))) => Block::On(k.span),
        Some((_, ValueKind::Bool(false))) => Block::Off(key.span),
        Some((k, ValueKind::String(s))) => match s.to_ascii_lowercase().as_str() {
            "true" => Block::On(k.span),
            "false" => Block::Off(key.span),
            _ => Block::Unknown,
        },
        Some(_) => Block::Unknown,
    }
}

/// The bucket of the stack a bucket policy's `Bucket` names.
fn bucket_of<'a>(ctx: &Context<'a>, policy: &Resource) -> Option<&'a Resource> {
    let ValueKind::Ref(r) = &policy.property("Bucket")?.kind else {
        return None;
    };
    if !matches!(r.attribute, Attribute::Ref) {
        return None;
    }
    ctx.stack
        .resource(&r.resource)
        .filter(|b| b.kind == "AWS::S3::Bucket")
}

impl Rule for S3PublicPolicyBlocked {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let cfn = ctx.stack.format.is_cloudformation();
        for policy in ctx.stack.resources_of("AWS::S3::BucketPolicy") {
            if policy.condition.is_some() {
                continue;
            }
            let Some(bucket) = bucket_of(ctx, policy).filter(|b| b.condition.is_none()) else {
                continue;
            };
            let Some(document) = policy.property("PolicyDocument") else {
                continue;
            };
            let (parsed, _) = parse_policy(document, PolicyKind::Resource, &ctx.resolver);
            let public: Vec<&Statement> =
                parsed.statements.iter().filter(|s| is_public(s)).collect();
            let Some(first) = public.first() else {
                continue;
            };
            let at = first.principals.as_ref().map_or(first.span, |p| p.span);
            let (severity, why, setting_span, help) = match block_public_policy(bucket) {
                Block::Unknown => continue,
                Block::On(span) => (
                    Severity::Error,
                    format!(
                        "Block Public Access setting BlockPublicPolicy of bucket {} is on{}, so S3 rejects the PutBucketPolicy call with 403 Access Denied",
                        bucket.id,
                        if span == bucket.span {
                            " (the default for new buckets)"
                        } else {
                            ""
                        }
                    ),
                    span,
                    turn_off_help(ctx, bucket, cfn),
                ),
                Block::Off(span) => {
                    let applied = ctx
                        .stack
                        .applied_by(&bucket.id, span_of_config(bucket).unwrap_or(span));
                    match applied {
                        Some(by) if ctx.created_after(&policy.id, by) == Some(false) => (
                            Severity::Warning,
                            format!(
                                "nothing orders {by} (which turns BlockPublicPolicy off) before the policy: until it is applied, the new bucket's default Block Public Access rejects the policy with 403 Access Denied"
                            ),
                            span,
                            format!(
                                "add to {}:\n  depends_on = [{}]",
                                policy.id,
                                by.split('[').next().unwrap_or(by)
                            ),
                        ),
                        _ => (
                            Severity::Note,
                            format!(
                                "bucket {} turns BlockPublicPolicy off, but the account's or organization's Block Public Access (which iamlint cannot see) still rejects it when on",
                                bucket.id
                            ),
                            span,
                            "make sure the account's Block Public Access setting BlockPublicPolicy is off (s3control PutPublicAccessBlock), or limit the statement to fixed principals or a fixed aws:SourceArn / aws:SourceVpce".to_string(),
                        ),
                    }
                }
            };
            let message = format!(
                "Bucket policy {} grants public access to bucket {}: {why}.",
                policy.id, bucket.id
            );
            let mut d = Diagnostic::new(Self::META.code, Self::META.name, severity, at, message)
                .with_label(
                    "a grant to everyone, not limited by a fixed source, VPC, account or principal",
                );
            for s in public.iter().skip(1) {
                let span = s.principals.as_ref().map_or(s.span, |p| p.span);
                d = d.with_secondary(span, "another grant to everyone");
            }
            d = d.with_secondary(
                setting_span,
                if setting_span == bucket.span {
                    format!(
                        "bucket {} is created with Block Public Access on",
                        bucket.id
                    )
                } else {
                    "Block Public Access setting".to_string()
                },
            );
            out.push(d.with_help(help).with_resource(policy.id.clone()));
        }
    }
}

/// The span of the bucket's `PublicAccessBlockConfiguration` value (what a separate resource
/// applies).
fn span_of_config(bucket: &Resource) -> Option<Span> {
    bucket
        .property("PublicAccessBlockConfiguration")
        .map(|v: &Value| v.span)
}

fn turn_off_help(ctx: &Context<'_>, bucket: &Resource, cfn: bool) -> String {
    let limit = "otherwise grant fixed principals, or limit the statement with a fixed aws:SourceArn, aws:SourceVpce or aws:SourceAccount (for CloudFront, an origin access control: Principal Service cloudfront.amazonaws.com with the distribution's aws:SourceArn)";
    if cfn {
        format!(
            "if bucket {} is meant to be public, add to it:\n  PublicAccessBlockConfiguration:\n    BlockPublicPolicy: false\n    RestrictPublicBuckets: false\n{limit}",
            bucket.id
        )
    } else {
        let reference = ctx.written_ref(&iamlint_core::Reference::to_ref(bucket.id.clone()));
        format!(
            "if bucket {} is meant to be public, turn its setting off and apply it before the policy:\n  resource \"aws_s3_bucket_public_access_block\" \"public\" {{\n    bucket                  = {reference}\n    block_public_policy     = false\n    restrict_public_buckets = false\n  }}\nwith depends_on = [aws_s3_bucket_public_access_block.public] on the policy;\n{limit}",
            bucket.id
        )
    }
}
