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
    /// to validate the following destination configurations". An EventBridge dead-letter
    /// queue is used only when delivery to the target fails, so it is reported as a warning,
    /// as is a policy that grants the sending only to an account principal.
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
        for (group, verdict) in deliveries::refused(ctx, "AWS::SQS::Queue", ACTION) {
            let Some(first) = group.first() else {
                continue;
            };
            let queue = &first.target.id;
            let service = first.service;
            let (senders, several) = deliveries::senders(&group);
            let verb = if several { "send" } else { "sends" };
            let with_source = deliveries::sources_text(ctx, &group);
            let consequence = if first.deploy_time {
                " S3 will reject the notification configuration (\"Unable to validate the following destination configurations\") and the deployment fails."
            } else if first.dead_letter {
                " Events that fail to reach the target will be lost instead of dead-lettered."
            } else {
                " Every message will be dropped."
            };
            // A dead-letter queue is used only when delivery to the target fails.
            let runtime_path = if first.dead_letter {
                Severity::Warning
            } else {
                Severity::Error
            };
            let (span, why, severity, label, policy) = match &verdict {
                Verdict::NoPolicy => (
                    first.target.span,
                    "no queue policy allows".to_string(),
                    runtime_path,
                    format!("no queue policy allows {service} {ACTION}"),
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
                        if *account_grant {
                            Severity::Warning
                        } else {
                            runtime_path
                        },
                        format!("does not allow {service} {ACTION}{with_source}"),
                        Some(*policy),
                    )
                }
            };
            let mut message = format!(
                "{senders} {verb} to queue {queue}, but {why} {service} {ACTION} on it{with_source}."
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
            let mut diagnostic =
                Diagnostic::new(Self::META.code, Self::META.name, severity, span, message)
                    .with_label(label);
            for d in &group {
                diagnostic = diagnostic.with_secondary(
                    d.target_value.span,
                    if d.dead_letter {
                        format!("{} dead-letters here", d.sender)
                    } else {
                        format!("{} sends here", d.sender)
                    },
                );
            }
            out.push(
                diagnostic
                    .with_help(deliveries::help(ctx, &group, ACTION, policy))
                    .with_resource(first.source.id.clone()),
            );
        }
    }
}
