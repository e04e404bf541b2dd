use crate::context::Context;
use crate::declare_rule;
use crate::deliveries::{self, Delivery};
use crate::kms::KeyRef;
use crate::registry::{Rule, RuleMeta};
use crate::service_keys::{self, ServiceUse, Via};
use iamlint_core::{Diagnostic, Severity};

declare_rule! {
    /// ## What it does
    /// Finds queues and topics encrypted with an AWS managed KMS key (`alias/aws/sqs`,
    /// `alias/aws/sns`, by alias name or alias ARN) that an AWS service delivers to: an S3
    /// bucket notification, an SNS subscription with protocol `sqs`, an EventBridge rule target
    /// without a role or a rule target's dead-letter queue, a CloudWatch alarm action.
    ///
    /// ## Why is this bad?
    /// The service sends as its service principal (`s3.amazonaws.com`, `sns.amazonaws.com`,
    /// `events.amazonaws.com`, `cloudwatch.amazonaws.com`), and it must call
    /// `kms:GenerateDataKey` and `kms:Decrypt` on the queue's or topic's key. A service
    /// principal can use a key only when the key policy names it, and the policy of an AWS
    /// managed key cannot be changed: every message is lost. Lambda destinations and
    /// dead-letter queues are sent with the function's role and are not affected. A
    /// dead-letter queue of an EventBridge target is used only when delivery fails, so it is
    /// reported as a warning.
    ///
    /// ## Example
    /// ```yaml
    /// Queue:
    ///   Type: AWS::SQS::Queue
    ///   Properties:
    ///     KmsMasterKeyId: alias/aws/sqs   # S3 can't use this key
    /// Bucket:
    ///   Type: AWS::S3::Bucket
    ///   Properties:
    ///     NotificationConfiguration:
    ///       QueueConfigurations:
    ///         - Event: s3:ObjectCreated:*
    ///           Queue: !GetAtt Queue.Arn
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// Queue:
    ///   Type: AWS::SQS::Queue
    ///   Properties:
    ///     SqsManagedSseEnabled: true
    /// ```
    ///
    /// ## How to fix
    /// For a queue, use SSE-SQS (`SqsManagedSseEnabled: true`, `sqs_managed_sse_enabled =
    /// true`), which needs no KMS permission. Otherwise encrypt the queue or topic with a
    /// customer managed key whose key policy allows the service principal
    /// `kms:GenerateDataKey*` and `kms:Decrypt`.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
    /// - https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
    /// - https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html
    /// - https://repost.aws/knowledge-center/sns-not-getting-eventbridge-notification
    pub struct AwsManagedKeyBlocksServiceDelivery {
        code: "IAM015",
        name: "aws-managed-key-blocks-service-delivery",
        severity: Error,
        summary: "a service delivers to a queue/topic encrypted with an AWS managed key",
    }
}

impl Rule for AwsManagedKeyBlocksServiceDelivery {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        // One finding per queue or topic (and per dead-letter use): the key is changed once.
        let mut groups: Vec<(String, Vec<ServiceUse<'_>>)> = Vec::new();
        for service_use in service_keys::service_uses(ctx) {
            if service_use.via != Via::Delivery {
                continue;
            }
            let KeyRef::AwsManaged(alias) = &service_use.key else {
                continue;
            };
            let alias = alias.clone();
            let dead_letter = service_use.delivery.as_ref().is_some_and(|d| d.dead_letter);
            match groups.iter_mut().find(|(_, g)| {
                g[0].target.id == service_use.target.id
                    && g[0].delivery.as_ref().is_some_and(|d| d.dead_letter) == dead_letter
            }) {
                Some((_, g)) => g.push(service_use),
                None => groups.push((alias, vec![service_use])),
            }
        }
        for (alias, group) in groups {
            out.push(diagnostic(ctx, &alias, &group));
        }
    }
}

fn diagnostic(ctx: &Context<'_>, alias: &str, group: &[ServiceUse<'_>]) -> Diagnostic {
    let first = &group[0];
    let target = first.target;
    let queue = target.kind == "AWS::SQS::Queue";
    let noun = if queue { "queue" } else { "topic" };
    let deliveries: Vec<Delivery<'_>> = group
        .iter()
        .filter_map(|u| u.delivery.as_ref())
        .cloned()
        .collect();
    let (senders, several) = deliveries::senders(&deliveries);
    let dead_letter = deliveries.iter().any(|d| d.dead_letter);
    let verb = match (dead_letter, several) {
        (true, true) => "dead-letter to",
        (true, false) => "dead-letters to",
        (false, true) => {
            if queue {
                "send to"
            } else {
                "publish to"
            }
        }
        (false, false) => {
            if queue {
                "sends to"
            } else {
                "publishes to"
            }
        }
    };
    let mut services: Vec<&str> = Vec::new();
    for d in &deliveries {
        if !services.contains(&d.service) {
            services.push(d.service);
        }
    }
    let services_text = join_and(&services);
    let consequence = if dead_letter {
        "Events that fail to reach their target will be lost instead of dead-lettered."
    } else {
        "Every message will fail to be delivered."
    };
    let message = format!(
        "{senders} {verb} {noun} {}, which is encrypted with the AWS managed key {alias}. {services_text} must use the key (kms:GenerateDataKey, kms:Decrypt), but an AWS managed key's policy cannot be changed to allow a service principal. {consequence}",
        target.id
    );
    let severity = if dead_letter {
        Severity::Warning
    } else {
        Severity::Error
    };
    let statements: String = services
        .iter()
        .map(|s| {
            service_keys::key_policy_statement(
                ctx,
                s,
                &["kms:GenerateDataKey*", "kms:Decrypt"],
                None,
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let cfn = ctx.stack.format.is_cloudformation();
    let customer_key = format!(
        "encrypt {} with a customer managed key whose key policy, besides its administrators, holds:\n{statements}",
        target.id
    );
    let help = if queue {
        let sse_sqs = if cfn {
            "SqsManagedSseEnabled: true"
        } else {
            "sqs_managed_sse_enabled = true"
        };
        format!(
            "use SSE-SQS, which needs no KMS permission: replace the key with `{sse_sqs}`; or {customer_key}"
        )
    } else {
        customer_key
    };
    let mut d = Diagnostic::new(
        AwsManagedKeyBlocksServiceDelivery::META.code,
        AwsManagedKeyBlocksServiceDelivery::META.name,
        severity,
        first.key_value.span,
        message,
    )
    .with_label(format!("AWS managed key: {services_text} can't use it"));
    for delivery in &deliveries {
        d = d.with_secondary(
            delivery.target_value.span,
            if delivery.dead_letter {
                format!("{} dead-letters here", delivery.sender)
            } else {
                format!("{} delivers here", delivery.sender)
            },
        );
    }
    d.with_help(help).with_resource(target.id.clone())
}

fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
