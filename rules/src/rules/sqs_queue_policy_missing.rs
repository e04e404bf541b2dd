use crate::context::Context;
use crate::declare_rule;
use crate::deliveries::{self, Verdict};
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Severity};

declare_rule! {
    /// ## What it does
    /// Finds queues that an AWS service delivers to — an SNS subscription with protocol
    /// `sqs`, an S3 bucket notification (`QueueConfigurations`), an EventBridge rule target
    /// without a role or a rule target's dead-letter queue — when the queue's policy does not
    /// allow that service `sqs:SendMessage` from that source.
    ///
    /// ## Why is this bad?
    /// SQS has no default queue policy, and a service principal is authorised only by the
    /// queue policy: identity policies do not apply to it. The policy is evaluated as AWS does,
    /// with the service principal (`sns.amazonaws.com`, `s3.amazonaws.com`,
    /// `events.amazonaws.com`) and the real source as `aws:SourceArn`/`aws:SourceAccount`.
    /// Without a grant, SNS and EventBridge drop every message; S3 validates the destination
    /// when the notification configuration is written and the deployment fails with "Unable
    /// to validate the following destination configurations".
    ///
    /// ## Example
    /// ```yaml
    /// Subscription:
    ///   Type: AWS::SNS::Subscription
    ///   Properties:
    ///     Protocol: sqs
    ///     TopicArn: !Ref Orders
    ///     Endpoint: !GetAtt OrdersQueue.Arn   # OrdersQueue has no queue policy
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// OrdersQueuePolicy:
    ///   Type: AWS::SQS::QueuePolicy
    ///   Properties:
    ///     Queues:
    ///       - !Ref OrdersQueue
    ///     PolicyDocument:
    ///       Version: "2012-10-17"
    ///       Statement:
    ///         - Effect: Allow
    ///           Principal:
    ///             Service: sns.amazonaws.com
    ///           Action: sqs:SendMessage
    ///           Resource: !GetAtt OrdersQueue.Arn
    ///           Condition:
    ///             ArnEquals:
    ///               aws:SourceArn: !Ref Orders
    /// ```
    ///
    /// ## How to fix
    /// Add a statement to the queue policy (`AWS::SQS::QueuePolicy`, `aws_sqs_queue_policy`
    /// or `aws_sqs_queue.policy`) allowing the service principal `sqs:SendMessage` on the
    /// queue, with `aws:SourceArn` set to the topic, bucket or rule. SAM writes this policy
    /// itself for an `SNS` event with `SqsSubscription`.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html
    /// - https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html
    /// - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html
    pub struct SqsQueuePolicyMissing {
        code: "IAM022",
        name: "sqs-queue-policy-missing",
        severity: Error,
        summary: "a service sends to a queue whose policy does not allow it",
    }
}

const ACTION: &str = "sqs:SendMessage";

impl Rule for SqsQueuePolicyMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for delivery in deliveries::deliveries(ctx) {
            if delivery.target.kind != "AWS::SQS::Queue" {
                continue;
            }
            let Some(verdict) = deliveries::verdict(ctx, &delivery, ACTION) else {
                continue;
            };
            let queue = &delivery.target.id;
            let service = delivery.service;
            let with_source = delivery
                .source_arn
                .as_ref()
                .map(|(arn, _)| format!(" with aws:SourceArn {}", ctx.sub_text(arn)))
                .unwrap_or_default();
            let consequence = if delivery.deploy_time {
                " S3 will reject the notification configuration (\"Unable to validate the following destination configurations\") and the deployment fails."
            } else {
                " Every message will be dropped."
            };
            let (span, why, severity, label, policy) = match &verdict {
                Verdict::NoPolicy => (
                    delivery.target.span,
                    "no queue policy allows".to_string(),
                    Severity::Error,
                    format!("no queue policy allows {service} {ACTION}"),
                    None,
                ),
                Verdict::Refused {
                    policy,
                    document,
                    explicit,
                    account_grant,
                } => {
                    let name = deliveries::policy_name(ctx.stack.format, policy);
                    (
                        deliveries::statement_span(document),
                        if *explicit {
                            format!("{name} explicitly denies")
                        } else {
                            format!("{name} does not allow")
                        },
                        if *account_grant {
                            Severity::Warning
                        } else {
                            Severity::Error
                        },
                        format!("does not allow {service} {ACTION}{with_source}"),
                        Some(*policy),
                    )
                }
            };
            let mut message = format!(
                "{} sends to queue {queue}, but {why} {service} {ACTION} on it{with_source}.",
                delivery.sender
            );
            if matches!(verdict, Verdict::NoPolicy) {
                message.push_str(" SQS has no default queue policy, and a service principal can send only through the queue policy.");
            }
            message.push_str(consequence);
            if matches!(
                verdict,
                Verdict::Refused {
                    account_grant: true,
                    ..
                }
            ) {
                message.push_str(
                    " (The policy grants an account principal, which is not known to cover a service.)",
                );
            }
            out.push(
                Diagnostic::new(Self::META.code, Self::META.name, severity, span, message)
                    .with_label(label)
                    .with_secondary(
                        delivery.target_value.span,
                        format!("{} sends here", delivery.sender),
                    )
                    .with_help(deliveries::help(ctx, &delivery, ACTION, policy))
                    .with_resource(delivery.source.id.clone()),
            );
        }
    }
}
