use crate::context::Context;
use crate::declare_rule;
use crate::deliveries;
use crate::registry::{Rule, RuleMeta};
use crate::rules::lambda_invoke_permission_missing::{bucket_invocations, candidate_permissions};
use iamlint_core::{Diagnostic, Part, Resource, Severity, Span, Value, ValueKind};

declare_rule! {
    /// ## What it does
    /// Finds S3 bucket notifications (`NotificationConfiguration` of an `AWS::S3::Bucket`,
    /// Terraform `aws_s3_bucket_notification`) to a Lambda function, queue or topic whose
    /// permission for S3 exists — an `AWS::Lambda::Permission`, `AWS::SQS::QueuePolicy` or
    /// `AWS::SNS::TopicPolicy` (`aws_lambda_permission`, `aws_sqs_queue_policy`,
    /// `aws_sns_topic_policy`) — while nothing orders that permission before the notification
    /// configuration.
    ///
    /// ## Why is this bad?
    /// S3 checks every destination when the notification configuration is written: it must be
    /// allowed to invoke the function or send to the queue or topic at that moment, or the
    /// configuration fails with "Unable to validate the following destination configurations"
    /// and the deploy with it. The notification refers to the function, queue or topic, not to
    /// the permission, so CloudFormation (or Terraform) creates the two in parallel, and the
    /// deploy fails whenever the notification comes first. SAM adds the `DependsOn` itself for
    /// the permissions it generates for an `S3` event.
    ///
    /// When the permission refers to the bucket (`SourceArn: !GetAtt Bucket.Arn`, an
    /// `aws:SourceArn` condition on `!Ref Bucket`), CloudFormation creates it after the bucket,
    /// so the notification certainly comes first, and `DependsOn` would make a circular
    /// dependency: name the account (`SourceAccount`, `aws:SourceAccount`) instead, or build the
    /// bucket ARN with `Fn::Sub` from a literal `BucketName`. In Terraform the notification is
    /// a resource of its own, so its `depends_on` is enough. A permission that does not allow
    /// the delivery at all is reported by IAM021, IAM022 or IAM023 instead.
    ///
    /// ## Example
    /// ```yaml
    /// Resources:
    ///   ProcessorPermission:
    ///     Type: AWS::Lambda::Permission
    ///     Properties:
    ///       FunctionName: !GetAtt Processor.Arn
    ///       Action: lambda:InvokeFunction
    ///       Principal: s3.amazonaws.com
    ///       SourceAccount: !Ref AWS::AccountId
    ///   Uploads:
    ///     Type: AWS::S3::Bucket
    ///     Properties:
    ///       NotificationConfiguration:
    ///         LambdaConfigurations:
    ///           - Event: s3:ObjectCreated:*
    ///             Function: !GetAtt Processor.Arn
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///   Uploads:
    ///     Type: AWS::S3::Bucket
    ///     DependsOn: ProcessorPermission
    /// ```
    ///
    /// ## How to fix
    /// Add `DependsOn: <permission>` to the bucket; in Terraform, `depends_on =
    /// [aws_lambda_permission.x]` to the `aws_s3_bucket_notification`. When the permission refers
    /// to the bucket, make it name the account or a `Fn::Sub` ARN from the bucket's literal
    /// name first.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html
    /// - https://repost.aws/knowledge-center/unable-validate-circular-dependency-cloudformation
    /// - https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html
    /// - https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_bucket_notification
    pub struct NotificationPermissionOrdering {
        code: "IAM024",
        name: "notification-permission-ordering",
        severity: Warning,
        summary: "bucket notification may be created before the permission it needs",
    }
}

/// One destination of a bucket's notification configuration and the permissions of the stack
/// that let S3 deliver to it, or may: when the deploy works, one of them is what allows it
/// (when none does, IAM021, IAM022 or IAM023 report the missing grant).
struct Destination<'a> {
    /// How messages name the destination ("Lambda function Processor", "queue Jobs").
    target: String,
    /// The value naming the destination in the notification entry.
    span: Span,
    /// The grants that allow the delivery (or, when none is certain, those that may).
    grants: Vec<&'a Resource>,
    /// Other permissions that may allow it, besides certain ones: reported only if ordered
    /// neither.
    others: Vec<&'a Resource>,
}

/// The resource whose creation puts a grant in effect: the queue or topic for the policy
/// Terraform declares in its `policy` argument (`aws_sqs_queue.q#policy`).
fn creator(grant: &Resource) -> &str {
    grant.id.strip_suffix("#policy").unwrap_or(&grant.id)
}

/// The destinations of the bucket's notification configuration that have grants in the stack.
fn destinations<'a>(
    ctx: &Context<'a>,
    bucket: &'a Resource,
    deliveries: &[deliveries::Delivery<'a>],
) -> Vec<Destination<'a>> {
    let mut out = Vec::new();
    for invocation in bucket_invocations(ctx, bucket) {
        let Some(candidates) = candidate_permissions(ctx, &invocation) else {
            continue;
        };
        // The permissions to name: those that allow it, else those of the function that may;
        // a permission that may be of another function is never named, but ordering it
        // first is enough for silence.
        let (grants, mut others) = if candidates.allowing.is_empty() {
            (candidates.possible, Vec::new())
        } else {
            (candidates.allowing, candidates.possible)
        };
        if grants.is_empty() {
            continue;
        }
        others.extend(candidates.uncertain);
        out.push(Destination {
            target: format!("Lambda function {}", invocation.function.id),
            span: invocation.function_value.span,
            grants,
            others,
        });
    }
    for delivery in deliveries {
        if delivery.source.id != bucket.id || !delivery.deploy_time {
            continue;
        }
        let (noun, action) = match delivery.target.kind.as_str() {
            "AWS::SQS::Queue" => ("queue", "sqs:SendMessage"),
            "AWS::SNS::Topic" => ("topic", "sns:Publish"),
            _ => continue,
        };
        let Some(grant) = deliveries::granted_by(ctx, delivery, action) else {
            continue;
        };
        out.push(Destination {
            target: format!("{noun} {}", delivery.target.id),
            span: delivery.target_value.span,
            grants: vec![grant],
            others: Vec::new(),
        });
    }
    out
}

/// The first value in `resource`'s properties that refers to `to` (where it comes to depend
/// on it).
fn reference_to(resource: &Resource, to: &str) -> Option<Span> {
    let mut values: Vec<&Value> = vec![&resource.properties];
    while let Some(v) = values.pop() {
        match &v.kind {
            ValueKind::Ref(r) if r.resource == to => return Some(v.span),
            ValueKind::Template(parts)
                if parts
                    .iter()
                    .any(|p| matches!(p, Part::Ref(r) if r.resource == to)) =>
            {
                return Some(v.span);
            }
            ValueKind::Map(m) => {
                let mut entries: Vec<&Value> = m.iter().map(|(_, v)| v).collect();
                entries.reverse();
                values.extend(entries);
            }
            ValueKind::List(items) => values.extend(items.iter().rev()),
            ValueKind::Choice(c) => {
                values.push(&c.if_false);
                values.push(&c.if_true);
            }
            _ => {}
        }
    }
    None
}

/// One finding: a bucket's notification and the unordered grants its destinations need.
struct Unordered<'a> {
    bucket: &'a Resource,
    /// The resource applying the notification, when it is not the bucket (Terraform).
    applied_by: Option<String>,
    /// The grants refer to the bucket: they are created after it.
    circular: bool,
    grants: Vec<&'a Resource>,
    /// (destination, where the notification names it, the grant it needs).
    destinations: Vec<(String, Span, String)>,
}

impl NotificationPermissionOrdering {
    fn findings<'a>(ctx: &Context<'a>) -> Vec<Unordered<'a>> {
        let mut found: Vec<Unordered<'a>> = Vec::new();
        let deliveries = deliveries::deliveries(ctx);
        for bucket in ctx.stack.resources_of("AWS::S3::Bucket") {
            let Some(config) = bucket.property("NotificationConfiguration") else {
                continue;
            };
            let applied_by = ctx
                .stack
                .applied_by(&bucket.id, config.span)
                .map(str::to_string);
            for destination in destinations(ctx, bucket, &deliveries) {
                // Silent when one grant is ordered first, or when the order is not known.
                if destination
                    .grants
                    .iter()
                    .chain(&destination.others)
                    .any(|g| ctx.applied_after(&bucket.id, config.span, creator(g)) != Some(false))
                {
                    continue;
                }
                let Some(grant) = destination.grants.first().copied() else {
                    continue;
                };
                let circular = applied_by.is_none()
                    && ctx.created_after(creator(grant), &bucket.id) == Some(true);
                let entry = (destination.target, destination.span, grant.id.clone());
                match found
                    .iter_mut()
                    .find(|f| f.bucket.id == bucket.id && f.circular == circular)
                {
                    Some(f) => {
                        if !f.grants.iter().any(|g| g.id == grant.id) {
                            f.grants.push(grant);
                        }
                        f.destinations.push(entry);
                    }
                    None => found.push(Unordered {
                        bucket,
                        applied_by: applied_by.clone(),
                        circular,
                        grants: vec![grant],
                        destinations: vec![entry],
                    }),
                }
            }
        }
        found
    }
}

/// The module names of a Terraform address and its block (`module.a[0].aws_x.y["k"]` is
/// `(["a"], "aws_x.y")`).
fn module_path(address: &str) -> (Vec<String>, String) {
    let plain = crate::fix::hcl_without_keys(address);
    let parts: Vec<&str> = plain.split('.').collect();
    let mut modules = Vec::new();
    let mut i = 0;
    while i + 1 < parts.len() && parts[i] == "module" {
        modules.push(parts[i + 1].to_string());
        i += 2;
    }
    (modules, parts[i..].join("."))
}

/// Where Terraform's `depends_on` goes so that the resource `notification` is applied after
/// `grants`, and what it names: the notification's own block when all are in its module;
/// otherwise the call of the module that holds it, from the module both share (`depends_on`
/// can name only what its module sees, and naming a module orders everything in it).
fn terraform_ordering(notification: &str, grants: &[&str]) -> (String, Vec<String>) {
    let (n_path, n_block) = module_path(notification);
    let paths: Vec<(Vec<String>, String)> = grants.iter().map(|g| module_path(g)).collect();
    let common = paths
        .iter()
        .map(|(g, _)| g.iter().zip(&n_path).take_while(|(a, b)| a == b).count())
        .min()
        .unwrap_or(n_path.len());
    let at = match n_path.get(common) {
        Some(m) => format!("module \"{m}\""),
        None => n_block,
    };
    let mut names: Vec<String> = Vec::new();
    for (g_path, g_block) in paths {
        let name = match g_path.get(common) {
            Some(m) => format!("module.{m}"),
            None => g_block,
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    (at, names)
}

/// Names joined for prose: "A", "A and B", "A, B and C".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The bucket's ARN as `Fn::Sub` builds it from its `BucketName`, when that does not refer to
/// a resource (`arn:${AWS::Partition}:s3:::my-uploads`).
fn literal_arn(ctx: &Context<'_>, bucket: &Resource) -> Option<String> {
    let name = bucket.property("BucketName")?;
    if reference_to_any(name) {
        return None;
    }
    let name = ctx.resolver.string(name)?;
    Some(format!(
        "arn:${{AWS::Partition}}:s3:::{}",
        ctx.sub_text(&name)
    ))
}

fn reference_to_any(value: &Value) -> bool {
    match &value.kind {
        ValueKind::Ref(_) => true,
        ValueKind::Template(parts) => parts.iter().any(|p| matches!(p, Part::Ref(_))),
        ValueKind::Map(m) => m.iter().any(|(_, v)| reference_to_any(v)),
        ValueKind::List(items) => items.iter().any(reference_to_any),
        ValueKind::Choice(c) => reference_to_any(&c.if_true) || reference_to_any(&c.if_false),
        _ => false,
    }
}

/// How to make the grants independent of the bucket, in CloudFormation.
fn circular_help(ctx: &Context<'_>, f: &Unordered<'_>) -> String {
    let bucket = &f.bucket.id;
    let arn = literal_arn(ctx, f.bucket);
    let mut out = String::new();
    for grant in &f.grants {
        let id = &grant.id;
        let lambda = grant.kind == "AWS::Lambda::Permission";
        if lambda {
            out.push_str(&format!(
                "make {id} independent of {bucket}: replace its SourceArn with\n  SourceAccount: !Ref AWS::AccountId\n"
            ));
        } else {
            out.push_str(&format!(
                "make {id} independent of {bucket}: replace its aws:SourceArn condition with\n  StringEquals:\n    aws:SourceAccount: !Ref AWS::AccountId\n"
            ));
        }
        let key = if lambda { "SourceArn" } else { "aws:SourceArn" };
        match &arn {
            Some(arn) => out.push_str(&format!(
                "or write the bucket ARN from its name:\n  {key}: !Sub {arn}\n"
            )),
            None => out.push_str(&format!(
                "or give {bucket} a literal BucketName and write the ARN from it:\n  {key}: !Sub arn:${{AWS::Partition}}:s3:::<bucket-name>\n"
            )),
        }
    }
    out.push_str(&format!(
        "then add to {bucket}:\n  DependsOn: {}",
        depends_on_list(&f.grants.iter().map(|g| g.id.clone()).collect::<Vec<_>>())
    ));
    out
}

/// A `DependsOn` value: one id, or a list.
fn depends_on_list(ids: &[String]) -> String {
    match ids {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

impl Rule for NotificationPermissionOrdering {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let cfn = ctx.stack.format.is_cloudformation();
        let name = |grant: &Resource| {
            if cfn {
                grant.id.clone()
            } else {
                crate::fix::hcl_block_name(creator(grant))
            }
        };
        for f in Self::findings(ctx) {
            let bucket = &f.bucket.id;
            let mut targets: Vec<String> = Vec::new();
            for (t, _, _) in &f.destinations {
                if !targets.contains(t) {
                    targets.push(t.clone());
                }
            }
            let targets = and_list(&targets);
            let names: Vec<String> = f.grants.iter().map(|g| name(g)).collect();
            let grants = and_list(&names);
            let (message, help) = match (&f.applied_by, f.circular) {
                (Some(by), _) => {
                    let creators: Vec<&str> = f.grants.iter().map(|g| creator(g)).collect();
                    let (at, order) = terraform_ordering(by, &creators);
                    let by = crate::fix::hcl_block_name(by);
                    let list = order.join(", ");
                    (
                        format!(
                            "Bucket {bucket} configures notifications to {targets} in {by}, but Terraform may apply {by} before {grants}. S3 validates destinations and the apply can fail with \"Unable to validate the following destination configurations\". Add depends_on = [{list}] to {at}."
                        ),
                        format!("add to {at}:\n  depends_on = [{list}]"),
                    )
                }
                (None, false) => {
                    let (tool, fix) = if cfn {
                        (
                            "CloudFormation",
                            format!("DependsOn: {}", depends_on_list(&names)),
                        )
                    } else {
                        ("Terraform", format!("depends_on = [{}]", names.join(", ")))
                    };
                    (
                        format!(
                            "Bucket {bucket} configures notifications to {targets}, but {tool} may create the bucket before {grants}. S3 validates destinations and the deploy can fail with \"Unable to validate the following destination configurations\". Add {fix}."
                        ),
                        format!("add to {bucket}:\n  {fix}"),
                    )
                }
                (None, true) => {
                    let (verb, it) = if names.len() == 1 {
                        ("refers", "it")
                    } else {
                        ("refer", "them")
                    };
                    (
                        format!(
                            "Bucket {bucket} configures notifications to {targets}, but {grants} {verb} to {bucket}, so CloudFormation creates {it} after the bucket. S3 validates destinations when the bucket is created and the deploy fails with \"Unable to validate the following destination configurations\"; DependsOn: {} would make a circular dependency.",
                            depends_on_list(&names)
                        ),
                        circular_help(ctx, &f),
                    )
                }
            };
            let Some((_, first, first_grant)) = f.destinations.first() else {
                continue;
            };
            let label_of = |grant_id: &str| {
                let grant = f.grants.iter().find(|g| g.id == grant_id);
                format!(
                    "not ordered after {}",
                    grant.map_or_else(|| grant_id.to_string(), |g| name(g))
                )
            };
            let mut d = Diagnostic::new(
                Self::META.code,
                Self::META.name,
                Severity::Warning,
                *first,
                message,
            )
            .with_label(label_of(first_grant));
            for (_, span, grant) in f.destinations.iter().skip(1) {
                d = d.with_secondary(*span, label_of(grant));
            }
            for (grant, grant_name) in f.grants.iter().zip(&names) {
                let (span, label) = if f.circular {
                    reference_to(grant, bucket).map_or_else(
                        || {
                            (
                                grant.span,
                                format!("{grant_name} is created after {bucket}"),
                            )
                        },
                        |span| (span, format!("{grant_name} refers to {bucket}")),
                    )
                } else {
                    (grant.span, format!("{grant_name} grants this delivery"))
                };
                d = d.with_secondary(span, label);
            }
            out.push(d.with_help(help).with_resource(f.bucket.id.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::terraform_ordering;

    #[test]
    fn depends_on_goes_where_the_grant_can_be_named() {
        // Same module: on the notification itself.
        assert_eq!(
            terraform_ordering(
                "aws_s3_bucket_notification.n",
                &["aws_lambda_permission.p[\"a\"]"]
            ),
            (
                "aws_s3_bucket_notification.n".to_string(),
                vec!["aws_lambda_permission.p".to_string()]
            )
        );
        // The notification in a child module, the grant in the root: on the module call.
        assert_eq!(
            terraform_ordering(
                "module.notify.aws_s3_bucket_notification.this[0]",
                &["aws_sqs_queue_policy.q"]
            ),
            (
                "module \"notify\"".to_string(),
                vec!["aws_sqs_queue_policy.q".to_string()]
            )
        );
        // The grant in a sibling module: name that module.
        assert_eq!(
            terraform_ordering(
                "module.app.aws_s3_bucket_notification.n",
                &["module.app.module.perm.aws_lambda_permission.p"]
            ),
            (
                "aws_s3_bucket_notification.n".to_string(),
                vec!["module.perm".to_string()]
            )
        );
    }
}
