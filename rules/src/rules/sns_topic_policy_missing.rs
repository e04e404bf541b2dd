use crate::context::Context;
use crate::declare_rule;
use crate::deliveries::{self, Verdict};
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Severity};

declare_rule! {
    /// ## What it does
    /// Finds SNS topics that an AWS service publishes to — an S3 bucket notification
    /// (`TopicConfigurations`), an EventBridge rule target without a role, or a CloudWatch
    /// alarm's actions — when the topic's policy does not allow that service `sns:Publish`
    /// from that source.
    ///
    /// ## Why is this bad?
    /// A service principal is authorised only by the topic policy. The policy is evaluated as
    /// AWS does, with the service principal (`s3.amazonaws.com`, `events.amazonaws.com`) and
    /// the real source as `aws:SourceArn`/`aws:SourceAccount`. S3 validates the destination
    /// when the notification configuration is written, so the deployment fails ("Unable to
    /// validate the following destination configurations"): an error. EventBridge fails at
    /// run time (the rule's `FailedInvocations`), and so does an alarm's notification: a
    /// warning.
    ///
    /// A topic without a declared policy has SNS's default policy, which lets only principals
    /// of the owner's account publish (condition `AWS:SourceOwner`). S3 documents that the
    /// topic needs an explicit grant: a warning. For EventBridge the rule reports a note. A
    /// CloudWatch alarm of the same account publishes under the default policy: silent. A
    /// declared `AWS::SNS::TopicPolicy` replaces the default policy, and must then allow
    /// `cloudwatch.amazonaws.com` for the alarm's notifications.
    ///
    /// ## Example
    /// ```yaml
    /// Bucket:
    ///   Type: AWS::S3::Bucket
    ///   Properties:
    ///     NotificationConfiguration:
    ///       TopicConfigurations:
    ///         - Event: s3:ObjectCreated:*
    ///           Topic: !Ref Uploads      # Uploads' policy grants only the account
    /// ```
    ///
    /// Use instead, in the topic policy:
    /// ```yaml
    /// - Effect: Allow
    ///   Principal:
    ///     Service: s3.amazonaws.com
    ///   Action: sns:Publish
    ///   Resource: !Ref Uploads
    ///   Condition:
    ///     ArnEquals:
    ///       aws:SourceArn: !GetAtt Bucket.Arn
    /// ```
    ///
    /// ## How to fix
    /// Add a statement to the topic policy (`AWS::SNS::TopicPolicy`, `aws_sns_topic_policy` or
    /// `aws_sns_topic.policy`) allowing the service principal `sns:Publish` on the topic, with
    /// `aws:SourceArn` set to the bucket or rule.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html
    /// - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html
    /// - https://repost.aws/knowledge-center/sns-not-getting-eventbridge-notification
    /// - https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger
    pub struct SnsTopicPolicyMissing {
        code: "IAM023",
        name: "sns-topic-policy-missing",
        severity: Error,
        summary: "a service publishes to a topic whose policy does not allow it",
    }
}

const ACTION: &str = "sns:Publish";

/// The service principal CloudWatch alarms publish as.
const ALARMS: &str = "cloudwatch.amazonaws.com";

impl Rule for SnsTopicPolicyMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let all = deliveries::deliveries_with_alarms(ctx);
        for (group, verdict) in deliveries::refused_of(ctx, all, "AWS::SNS::Topic", ACTION) {
            let Some(first) = group.first() else {
                continue;
            };
            let alarm = first.service == ALARMS;
            // An alarm of the account publishes under the topic's default policy.
            if alarm && matches!(verdict, Verdict::NoPolicy) {
                continue;
            }
            let topic = &first.target.id;
            let service = first.service;
            let (senders, several) = deliveries::senders(&group);
            let verb = if several { "publish" } else { "publishes" };
            let with_source = deliveries::sources_text(ctx, &group);
            let consequence = if first.deploy_time {
                " S3 will reject the notification configuration (\"Unable to validate the following destination configurations\") and the deployment fails."
            } else if alarm {
                " The alarm changes state, but its notifications are never delivered."
            } else {
                " Every event will fail to deliver (the rule's FailedInvocations)."
            };
            let (span, why, severity, label, policy) = match &verdict {
                Verdict::NoPolicy => (
                    first.target.span,
                    "no topic policy allows".to_string(),
                    if first.deploy_time {
                        Severity::Warning
                    } else {
                        Severity::Note
                    },
                    format!("no topic policy allows {service} {ACTION}"),
                    None,
                ),
                Verdict::Refused {
                    policy,
                    document,
                    explicit,
                    account_grant,
                } => {
                    let (span, why) =
                        deliveries::refusal(ctx.stack.format, policy, document, *explicit);
                    (
                        span,
                        why,
                        if first.deploy_time && !*account_grant {
                            Severity::Error
                        } else {
                            Severity::Warning
                        },
                        format!("does not allow {service} {ACTION}{with_source}"),
                        Some(*policy),
                    )
                }
            };
            let mut message = format!(
                "{senders} {verb} to topic {topic}, but {why} {service} {ACTION} on it{with_source}."
            );
            match &verdict {
                Verdict::NoPolicy => message.push_str(if first.deploy_time {
                    " The topic keeps SNS's default policy, which grants only principals of the account; S3 needs the topic policy to grant s3.amazonaws.com, or it rejects the notification configuration (\"Unable to validate the following destination configurations\")."
                } else {
                    " The topic keeps SNS's default policy, which grants only principals of the account; EventBridge needs the topic policy to grant events.amazonaws.com, or its deliveries fail (the rule's FailedInvocations)."
                }),
                Verdict::Refused { account_grant, .. } => {
                    message.push_str(consequence);
                    if *account_grant {
                        message.push_str(" (The policy grants an account principal, which is not known to cover a service.)");
                    }
                }
            }
            let mut diagnostic =
                Diagnostic::new(Self::META.code, Self::META.name, severity, span, message)
                    .with_label(label);
            for d in &group {
                diagnostic = diagnostic
                    .with_secondary(d.target_value.span, format!("{} publishes here", d.sender));
            }
            out.push(
                diagnostic
                    .with_help(deliveries::help(ctx, &group, ACTION, policy))
                    .with_resource(first.source.id.clone()),
            );
        }
    }
}
