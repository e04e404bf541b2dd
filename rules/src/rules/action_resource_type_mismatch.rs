use crate::arn::{self, Fit, Grant};
use crate::context::Context;
use crate::declare_rule;
use crate::policies::{self, DocKind};
use crate::principal::DocOrigin;
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{
    Attribute, Diagnostic, Fix, Part, Pseudo, Safety, Severity, Span, SymPart, SymStr, Symbol,
    Value, ValueKind,
};
use iamlint_policy::catalog::{self, Action};
use std::collections::BTreeSet;

declare_rule! {
    /// ## What it does
    /// Finds actions granted only on resources they can never apply to: `s3:ListBucket` on
    /// `bucket/*`, `s3:GetObject` on the bucket's ARN, KMS key actions on an alias ARN or on a
    /// key ARN without a region, `logs:PutLogEvents` on a log group ARN without `:*`, and
    /// actions that take no resource (`s3:ListAllMyBuckets`, `ec2:Describe*`) scoped to
    /// specific ARNs.
    ///
    /// Each action is checked against the ARN formats of the resource types the IAM service
    /// authorization reference lists for it, across every statement that grants the action to
    /// the same principal: a second statement granting it on a fitting ARN makes the first
    /// harmless. Only actions named without wildcards are checked (`s3:Get*` on a bucket is
    /// meant for the bucket-level `Get` actions).
    ///
    /// ## Why is this bad?
    /// IAM authorizes each action against the ARN of a specific resource type: `ListBucket`
    /// against the bucket (`arn:aws:s3:::b`), `GetObject` against an object (`arn:aws:s3:::b/key`).
    /// A grant whose every ARN is of another type matches no request, so the call is denied
    /// with `AccessDenied` although the policy looks right.
    ///
    /// ## Example
    /// ```yaml
    /// - Effect: Allow
    ///   Action:
    ///     - s3:ListBucket
    ///     - s3:GetObject
    ///   Resource: !Sub "${Bucket.Arn}/*"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// - Effect: Allow
    ///   Action: s3:ListBucket
    ///   Resource: !GetAtt Bucket.Arn
    /// - Effect: Allow
    ///   Action: s3:GetObject
    ///   Resource: !Sub "${Bucket.Arn}/*"
    /// ```
    ///
    /// ## How to fix
    /// Grant the action on the ARN of the resource type it needs (the help shows it). KMS
    /// aliases cannot be used in `Resource` for key operations: name the key's ARN, or use
    /// `"*"` with a `kms:RequestAlias` or `kms:ResourceAliases` condition. Actions without
    /// resource types need `Resource: "*"`, except where the service authorizes them against
    /// an ARN of its own: CloudWatch Logs' `DescribeLogGroups`, `DescribeResourcePolicies` and
    /// `PutResourcePolicy` (on `log-group:*`), and Step Functions' `InvokeHTTPEndpoint` (on
    /// the state machine, as the HTTP Task guide grants it).
    ///
    /// For S3, `iamlint --fix` adds the bucket ARN or the `/*` objects ARN beside the
    /// mismatched one (turning a single `Resource` into a list). It leaves the fix to you when
    /// another action of the statement would also gain the new ARN, and in a bucket policy,
    /// whose principals may be anyone.
    ///
    /// An error for S3 buckets and objects, KMS keys and aliases, CloudWatch Logs groups and
    /// streams, DynamoDB tables and Secrets Manager secrets; a warning for other services
    /// (their catalog ARN formats are less well tried) and for actions that take only `"*"`.
    /// Stream actions on a DynamoDB table ARN are reported by `dynamodb-stream-arn-mismatch`,
    /// an S3 or IAM ARN with a region or account by `arn-scope-mismatch`.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
    /// - https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
    /// - https://docs.aws.amazon.com/step-functions/latest/dg/call-https-apis.html#connect-http-task-permissions
    /// - https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html
    pub struct ActionResourceTypeMismatch {
        code: "IAM010",
        name: "action-resource-type-mismatch",
        severity: Error,
        summary: "an action granted only on resources it can never apply to",
    }
}

/// The statements that grant actions to one principal, and what to call it in messages.
struct Principal<'v> {
    who: String,
    grants: Vec<Grant<'v>>,
    /// A resource-based policy (a bucket policy...): its principals may be anyone.
    resource_policy: bool,
}

impl Rule for ActionResourceTypeMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let mut principals = Vec::new();
        for holder in ctx.policy_holders() {
            let docs = holder.role.identity.iter().map(|d| {
                (
                    &*d.document,
                    !matches!(d.origin, DocOrigin::AwsManaged { .. }),
                )
            });
            principals.push(Principal {
                who: holder.who(),
                grants: arn::allow_statements(&ctx.resolver, docs),
                resource_policy: false,
            });
        }
        // Resource policies stand alone.
        for located in policies::documents(ctx.stack) {
            if located.kind == DocKind::Resource {
                principals.push(Principal {
                    who: format!("{} {}", located.resource.id, located.path),
                    grants: arn::allow_statements(&ctx.resolver, [(located.document, true)]),
                    resource_policy: true,
                });
            }
        }

        let mut reported: BTreeSet<(Span, String)> = BTreeSet::new();
        for principal in &principals {
            for grant in principal.grants.iter().filter(|g| g.own && !g.any_resource) {
                let Some(resource_value) = grant.statement.get("Resource") else {
                    continue;
                };
                let mut dead: Vec<(&'static Action, Fit, Span)> = Vec::new();
                for (name, action_value) in grant.literal_actions() {
                    let Some(action) = catalog::action(name) else {
                        continue;
                    };
                    let full = action.full_name();
                    if reported.contains(&(resource_value.span, full.to_ascii_lowercase())) {
                        continue;
                    }
                    let Some(fit) = statement_fit(ctx, grant, action) else {
                        continue;
                    };
                    if arn::DYNAMODB_STREAM_ACTIONS
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(&full))
                        && grant
                            .resources
                            .iter()
                            .any(|(r, _)| arn::could_be_table(ctx.stack, r))
                    {
                        continue;
                    }
                    let elsewhere = principal.grants.iter().any(|other| {
                        !std::ptr::eq(other, grant)
                            && other.allows_action(&full)
                            && (other.any_resource
                                || other
                                    .resources
                                    .iter()
                                    .any(|(r, _)| fits_or_scope(ctx, r, action)))
                    });
                    if elsewhere {
                        continue;
                    }
                    reported.insert((resource_value.span, full.to_ascii_lowercase()));
                    dead.push((action, fit, action_value.span));
                }
                if dead.is_empty() {
                    continue;
                }
                report(ctx, principal, grant, resource_value, &dead, out);
            }
        }
    }
}

/// How the statement's resources fit `action`: `None` when one of them may (also counting an
/// S3 or IAM ARN whose region or account `arn-scope-mismatch` reports).
fn statement_fit(ctx: &Context<'_>, grant: &Grant<'_>, action: &Action) -> Option<Fit> {
    let mut worst = None;
    for (resource, _) in &grant.resources {
        match arn::fit(ctx.stack, resource, action) {
            Fit::Fits => return None,
            fit => {
                if arn::scope_corrected(ctx.stack, resource)
                    .is_some_and(|fixed| arn::fit(ctx.stack, &fixed, action) == Fit::Fits)
                {
                    return None;
                }
                worst = Some(fit);
            }
        }
    }
    worst
}

fn fits_or_scope(ctx: &Context<'_>, resource: &SymStr, action: &Action) -> bool {
    arn::fits_or_scope(ctx.stack, resource, action)
}

fn report(
    ctx: &Context<'_>,
    principal: &Principal<'_>,
    grant: &Grant<'_>,
    resource_value: &Value,
    dead: &[(&'static Action, Fit, Span)],
    out: &mut Vec<Diagnostic>,
) {
    let resources: Vec<String> = grant
        .resources
        .iter()
        .map(|(r, _)| ctx.sub_text(r))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let names: Vec<String> = dead.iter().map(|(a, _, _)| a.full_name()).collect();
    let certain = dead
        .iter()
        .all(|(a, fit, _)| *fit == Fit::Never && arn::WELL_KNOWN_SERVICES.contains(&a.service));
    let severity = if certain {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut needs = Vec::new();
    let mut help = Vec::new();
    // The S3 ARN to add beside the statement's, when every dead action needs the same one.
    let mut items: Vec<Option<(String, &'static str)>> = Vec::new();
    for (action, fit, _) in dead {
        let name = action.full_name();
        match fit {
            Fit::NeedsStar => {
                items.push(None);
                needs.push(format!("{name} takes no resource type (only \"*\")"));
                help.push(format!(
                    "grant {name} in a statement of its own with {}",
                    crate::fix::resource_line(ctx.stack.format, "\"*\"")
                ));
            }
            _ => {
                let patterns = arn::action_patterns(action).unwrap_or_default();
                // Types by name here; their ARN formats go in the help.
                let types: Vec<&str> = patterns
                    .iter()
                    .map(|(t, _)| *t)
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                needs.push(format!(
                    "{name} applies only to {} resources",
                    types.join(" or ")
                ));
                let (advice, item) = suggestion(ctx, action, grant, &patterns);
                items.push(item);
                if advice.starts_with("grant ") {
                    help.push(advice);
                } else {
                    help.push(format!(
                        "{advice}\n({name} is authorized against {})",
                        patterns_text(&patterns)
                    ));
                }
            }
        }
    }
    let sid = grant
        .statement
        .get("Sid")
        .and_then(Value::as_str)
        .map(|s| format!("statement {s}"))
        .unwrap_or_else(|| "a statement".to_string());
    let message = format!(
        "{} has {sid} granting {} only on {}, but {}: the grant can never take effect, and the call is denied.",
        principal.who,
        names.join(", "),
        resources.join(", "),
        needs.join("; "),
    );
    let mut d = Diagnostic::new(
        ActionResourceTypeMismatch::META.code,
        ActionResourceTypeMismatch::META.name,
        severity,
        resource_value.span,
        message,
    )
    .with_label(format!(
        "no {} resource can match these ARNs",
        names.join(", ")
    ));
    for (action, _, span) in dead {
        d = d.with_secondary(*span, format!("{} granted here", action.full_name()));
    }
    d = d.with_help(help.join("\n"));
    let fixed: Vec<String> = dead.iter().map(|(a, _, _)| a.full_name()).collect();
    d = d.with_fix(
        s3_fix(ctx, grant, resource_value, &items, &fixed).map(|mut fix| {
            if principal.resource_policy {
                // The grant comes alive for the policy's principals, who may be anyone
                // (`Principal: "*"` would make the objects public): a decision, not a fix.
                fix.safety = Safety::Unsafe;
            }
            fix
        }),
    );
    out.push(d);
}

/// Adds the object ARN (`…/*`) or the bucket ARN beside the statement's S3 resource. Safe when
/// no other action of the statement applies to the added resource type.
fn s3_fix(
    ctx: &Context<'_>,
    grant: &Grant<'_>,
    element: &Value,
    items: &[Option<(String, &'static str)>],
    fixed: &[String],
) -> Option<Fix> {
    let (item, resource_type) = items.first()?.as_ref()?;
    if items
        .iter()
        .any(|i| i.as_ref() != Some(&(item.clone(), *resource_type)))
    {
        return None;
    }
    let (_, anchor) = grant.resources.first()?;
    // The help names the bucket by reference when the user did (`!GetAtt Bucket.Arn`);
    // otherwise the new ARN is the user's own text with `/*` added or removed, so variables
    // stay variables (the help shows their current value).
    let by_reference = match &anchor.kind {
        ValueKind::Ref(_) => true,
        ValueKind::Template(parts) => matches!(parts.as_slice(), [Part::Ref(_), Part::Lit(_)]),
        _ => false,
    };
    let (edits, shown) = if by_reference {
        (
            crate::edits::add_beside(ctx, element, anchor, item)?,
            item.clone(),
        )
    } else {
        let written = match *resource_type {
            "object" => crate::edits::with_suffix(ctx, anchor, "/*")?,
            _ => crate::edits::without_suffix(ctx, anchor, "/*")?,
        };
        (
            crate::edits::add_written_beside(ctx, element, anchor, &written)?,
            written,
        )
    };
    let fixed: Vec<&str> = fixed.iter().map(String::as_str).collect();
    let message = format!("add {shown} to the statement's resources");
    Some(
        if crate::edits::widens_others(grant, resource_type, &fixed) {
            Fix::unsafe_(message, edits)
        } else {
            Fix::safe(message, edits)
        },
    )
}

/// The ARN the action needs, in the template's syntax, derived from what the user wrote when
/// a well-known mistake explains the mismatch.
fn suggestion(
    ctx: &Context<'_>,
    action: &Action,
    grant: &Grant<'_>,
    patterns: &[(&str, &str)],
) -> (String, Option<(String, &'static str)>) {
    let name = action.full_name();
    let types: BTreeSet<&str> = patterns.iter().map(|(t, _)| *t).collect();
    let Some((resource, value)) = grant.resources.first() else {
        return (
            format!(
                "grant {name} on an ARN of the form {}",
                patterns_text(patterns)
            ),
            None,
        );
    };
    let service = arn::split(ctx.stack, resource);
    let service = service.as_ref().and_then(|p| p.service());
    if action.service == "s3" && service == Some("s3") {
        if types.contains("object") {
            let mut object = resource.clone();
            object.push_lit("/*");
            let yaml = match &value.kind {
                ValueKind::Ref(r) if r.attribute == Attribute::Get("Arn".into()) => {
                    ctx.written_ref_with(r, "/*")
                }
                _ => ctx.written_str(&object),
            };
            return (
                format!(
                    "{name} applies to objects: grant it on the objects of the bucket, {}",
                    crate::fix::resource_line(ctx.stack.format, &yaml)
                ),
                Some((yaml, "object")),
            );
        }
        if types.contains("bucket")
            && let Some(bucket) = bucket_of(resource)
        {
            let yaml = match &value.kind {
                ValueKind::Template(parts) => match parts.as_slice() {
                    [Part::Ref(r), Part::Lit(_)] if r.attribute == Attribute::Get("Arn".into()) => {
                        ctx.written_ref(r)
                    }
                    _ => ctx.written_str(&bucket),
                },
                _ => ctx.written_str(&bucket),
            };
            return (
                format!(
                    "{name} applies to the bucket itself: grant it on the bucket's ARN, {}",
                    crate::fix::resource_line(ctx.stack.format, &yaml)
                ),
                Some((yaml, "bucket")),
            );
        }
    }
    if action.service == "kms"
        && types.contains("key")
        && let Some(parts) = arn::split(ctx.stack, resource)
        && parts.service() == Some("kms")
        && parts.region.parts().is_empty()
        && parts.resource.literal_prefix().starts_with("key/")
    {
        let fixed = arn::ArnParts {
            region: SymStr::sym(Symbol::Pseudo(Pseudo::Region)),
            ..parts
        };
        return (
            format!(
                "a KMS key ARN always has a region: {}",
                crate::fix::resource_line(ctx.stack.format, &ctx.written_str(&fixed.join()))
            ),
            None,
        );
    }
    if action.service == "kms" && types.contains("key") && !types.contains("alias") {
        let text = if ctx.stack.format.is_cloudformation() {
            format!(
                "KMS authorizes {name} against the key's ARN (arn:${{AWS::Partition}}:kms:${{AWS::Region}}:${{AWS::AccountId}}:key/KEY-ID, or !GetAtt Key.Arn), never an alias; to grant by alias use Resource: \"*\" with a kms:ResourceAliases or kms:RequestAlias condition"
            )
        } else {
            format!(
                "KMS authorizes {name} against the key's ARN (aws_kms_key.KEY.arn, or \"arn:${{data.aws_partition.current.partition}}:kms:${{data.aws_region.current.name}}:${{data.aws_caller_identity.current.account_id}}:key/KEY-ID\"), never an alias; to grant by alias use resources = [\"*\"] with a kms:ResourceAliases or kms:RequestAlias condition"
            )
        };
        return (text, None);
    }
    if action.service == "logs" && types.contains("log-stream") {
        return (
            format!(
                "{name} applies to log streams: end the log group ARN with :* (…:log-group:NAME:*) or :log-stream:*"
            ),
            None,
        );
    }
    (
        format!(
            "grant {name} on an ARN of the form {}",
            patterns_text(patterns)
        ),
        None,
    )
}

fn patterns_text(patterns: &[(&str, &str)]) -> String {
    patterns
        .iter()
        .map(|(_, p)| (*p).to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The bucket ARN of an object ARN: everything before the first `/` of the resource part.
fn bucket_of(resource: &SymStr) -> Option<SymStr> {
    let mut out = SymStr::new();
    let mut colons = 0;
    for part in resource.parts() {
        match part {
            SymPart::Lit(text) => {
                for (i, c) in text.char_indices() {
                    if c == ':' {
                        colons += 1;
                    } else if c == '/' && colons >= 5 {
                        out.push_lit(&text[..i]);
                        return Some(out);
                    }
                }
                out.push_lit(text.clone());
            }
            SymPart::Sym(s) => out.push_sym(s.clone()),
        }
    }
    None
}
