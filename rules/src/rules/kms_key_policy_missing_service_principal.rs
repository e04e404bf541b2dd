use crate::context::Context;
use crate::declare_rule;
use crate::deliveries::{self, Delivery};
use crate::kms::{self, KeyRef};
use crate::registry::{Rule, RuleMeta};
use crate::service_keys::{self, KeyVerdict, LOGS_PRINCIPAL, ServiceUse, Via};
use iamlint_core::{Diagnostic, Resource, Severity};

declare_rule! {
    /// ## What it does
    /// Finds customer managed KMS keys of the stack whose key policy does not let an AWS
    /// service use the key where the stack makes the service use it: a service delivering to
    /// an encrypted queue or topic (an S3 bucket notification, an SNS subscription with
    /// protocol `sqs`, an EventBridge rule target without a role or a target's dead-letter
    /// queue, a CloudWatch alarm action), CloudWatch Logs writing to a log group with
    /// `KmsKeyId`, EventBridge encrypting a bus with `KmsKeyIdentifier`.
    ///
    /// ## Why is this bad?
    /// The service calls KMS as its service principal (`sns.amazonaws.com`,
    /// `s3.amazonaws.com`, `events.amazonaws.com`, `cloudwatch.amazonaws.com`,
    /// `logs.REGION.amazonaws.com`). A service principal is not an IAM principal of the
    /// account: a key policy that only enables IAM policies (the account root, as the default
    /// key policy does) does not let it in; only a statement naming the service does. The key
    /// policy is evaluated as AWS does, for the service principal, with and without the source
    /// condition keys (`aws:SourceArn`, `aws:SourceAccount`, the encryption context), and a
    /// finding is made only when it denies both ways.
    ///
    /// Deliveries to an encrypted queue or topic need `kms:GenerateDataKey` and `kms:Decrypt`:
    /// without them every message is lost (a dead-letter queue, used only when delivery fails,
    /// is a warning). A log group whose key CloudWatch Logs cannot use is not created
    /// ("The specified KMS key does not exist or is not allowed to be used with Arn …"); when
    /// the key policy names the service but misses some of the actions, the finding is a
    /// warning, since AWS does not list the minimal set. An event bus needs
    /// `kms:DescribeKey`, `kms:GenerateDataKey` and `kms:Decrypt`.
    ///
    /// A key-policy statement that lets `events.amazonaws.com` in only with
    /// `aws:SourceArn`/`aws:SourceAccount` conditions is reported as a note: EventBridge is
    /// not known to send them to KMS when it delivers to a target. Keys outside the stack
    /// (a parameter, an import, a literal ARN) and key policies iamlint cannot read are left
    /// alone.
    ///
    /// ## Example
    /// ```yaml
    /// Key:
    ///   Type: AWS::KMS::Key        # default key policy: the account root only
    /// Queue:
    ///   Type: AWS::SQS::Queue
    ///   Properties:
    ///     KmsMasterKeyId: !Ref Key
    /// Subscription:
    ///   Type: AWS::SNS::Subscription
    ///   Properties:
    ///     Protocol: sqs
    ///     TopicArn: !Ref Topic
    ///     Endpoint: !GetAtt Queue.Arn
    /// ```
    ///
    /// Use instead, in the key's `KeyPolicy`:
    /// ```yaml
    /// - Effect: Allow
    ///   Principal:
    ///     Service: sns.amazonaws.com
    ///   Action:
    ///     - kms:GenerateDataKey*
    ///     - kms:Decrypt
    ///   Resource: "*"
    /// ```
    ///
    /// ## How to fix
    /// Add a statement to the key policy (`KeyPolicy`, `aws_kms_key.policy` or
    /// `aws_kms_key_policy`) allowing the service principal the actions it needs. A key without
    /// a declared policy has the default one: declare it with its "Enable IAM User
    /// Permissions" statement and the service's statement.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
    /// - https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
    /// - https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    /// - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html
    /// - https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
    pub struct KmsKeyPolicyMissingServicePrincipal {
        code: "IAM016",
        name: "kms-key-policy-missing-service-principal",
        severity: Error,
        summary: "customer managed key policy does not let the delivering service use the key",
    }
}

/// Uses of one key by one service that one statement fixes.
struct Group<'a> {
    key: &'a Resource,
    uses: Vec<ServiceUse<'a>>,
    verdict: KeyVerdict,
    severity: Severity,
}

impl Rule for KmsKeyPolicyMissingServicePrincipal {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let mut groups: Vec<Group<'_>> = Vec::new();
        for service_use in service_keys::service_uses(ctx) {
            let KeyRef::InStack(key) = service_use.key else {
                continue;
            };
            // An unreadable key policy: nothing is certain.
            let Some(policy) = kms::key_policy(ctx, key) else {
                continue;
            };
            let Some(verdict) = service_keys::verdict(ctx, &service_use, key, &policy) else {
                continue;
            };
            let dead_letter = service_use.delivery.as_ref().is_some_and(|d| d.dead_letter);
            let severity = match &verdict {
                KeyVerdict::Refused {
                    nothing_granted, ..
                } if *nothing_granted && !dead_letter => Severity::Error,
                KeyVerdict::Refused { .. } => Severity::Warning,
                KeyVerdict::NeedsSourceKeys { .. } => Severity::Note,
            };
            match groups.iter_mut().find(|g| {
                g.key.id == key.id
                    && g.uses[0].service == service_use.service
                    && g.uses[0].via == service_use.via
                    && g.severity == severity
                    && g.verdict == verdict
            }) {
                Some(g) => g.uses.push(service_use),
                None => groups.push(Group {
                    key,
                    uses: vec![service_use],
                    verdict,
                    severity,
                }),
            }
        }
        for group in &groups {
            out.push(diagnostic(ctx, group));
        }
    }
}

fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn diagnostic(ctx: &Context<'_>, group: &Group<'_>) -> Diagnostic {
    let first = &group.uses[0];
    let key = group.key;
    let service = if first.service == LOGS_PRINCIPAL && !ctx.stack.format.is_cloudformation() {
        "logs.<region>.amazonaws.com"
    } else {
        first.service.as_str()
    };
    let shown_service = if first.service == LOGS_PRINCIPAL {
        format!("CloudWatch Logs ({service})")
    } else {
        service.to_string()
    };
    let mut targets: Vec<String> = Vec::new();
    for u in &group.uses {
        let noun = match u.target.kind.as_str() {
            "AWS::SQS::Queue" => "queue",
            "AWS::SNS::Topic" => "topic",
            "AWS::Logs::LogGroup" => "log group",
            _ => "event bus",
        };
        let t = format!("{noun} {}", u.target.id);
        if !targets.contains(&t) {
            targets.push(t);
        }
    }
    let targets_text = join(&targets);
    let several_targets = targets.len() > 1;
    let deliveries: Vec<Delivery<'_>> = group
        .uses
        .iter()
        .filter_map(|u| u.delivery.as_ref())
        .cloned()
        .collect();
    let dead_letter = deliveries.iter().any(|d| d.dead_letter);
    let encrypted = if several_targets {
        "which are encrypted"
    } else {
        "which is encrypted"
    };
    let key_text = format!("customer managed KMS key {}", key.id);
    let declared = kms::has_declared_policy(key);
    let policy_text = if declared {
        "its key policy".to_string()
    } else {
        "its key policy (the default one, which only enables IAM policies through the account root)"
            .to_string()
    };
    let subject = match first.via {
        Via::Delivery => {
            let (senders, several) = deliveries::senders(&deliveries);
            let verb = match (dead_letter, several) {
                (true, true) => "dead-letter to",
                (true, false) => "dead-letters to",
                (false, true) => "deliver to",
                (false, false) => "delivers to",
            };
            format!("{senders} {verb} {targets_text}, {encrypted} with {key_text}")
        }
        Via::LogGroup | Via::EventBus => {
            let mut t = targets_text.clone();
            if let Some(c) = t.get(..1) {
                t = c.to_uppercase() + &t[1..];
            }
            format!(
                "{t} {} encrypted with {key_text}",
                if several_targets { "are" } else { "is" }
            )
        }
    };
    let (message, label, help) = match &group.verdict {
        KeyVerdict::Refused {
            missing,
            explicit,
            nothing_granted,
        } => {
            let missing_text = missing.join(", ");
            let what = if *explicit {
                "explicitly denies"
            } else {
                "does not allow"
            };
            let consequence = match first.via {
                Via::Delivery if dead_letter => {
                    " Events that fail to reach their target will be lost instead of dead-lettered."
                }
                Via::Delivery => " Every message will fail to be delivered.",
                Via::LogGroup if !*nothing_granted => {
                    " The key policy grants the service other KMS actions; without these, CloudWatch Logs likely can't encrypt or read the group's events."
                }
                Via::LogGroup => {
                    " Creating the log group (or associating the key) fails: \"The specified KMS key does not exist or is not allowed to be used with Arn …\"."
                }
                Via::EventBus => " EventBridge can't encrypt or decrypt the bus's events.",
            };
            let why_service = if *explicit {
                ""
            } else {
                " A service principal is not an IAM principal of the account: only a key-policy statement naming the service lets it use the key."
            };
            let message = format!(
                "{subject}, but {policy_text} {what} {shown_service} {missing_text}.{why_service}{consequence}"
            );
            let label = format!("{what} {service} {missing_text}");
            let statement = match first.via {
                Via::LogGroup => service_keys::logs_statement(ctx),
                Via::EventBus => service_keys::key_policy_statement(
                    ctx,
                    service,
                    &["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"],
                    None,
                ),
                Via::Delivery => service_keys::key_policy_statement(
                    ctx,
                    service,
                    &["kms:GenerateDataKey*", "kms:Decrypt"],
                    None,
                ),
            };
            let help = if *explicit {
                format!(
                    "change the Deny statement of {}'s key policy so that it does not cover {service}; the service then needs this statement:\n{statement}",
                    key.id
                )
            } else if declared {
                format!(
                    "add this statement to the key policy of {}:\n{statement}",
                    key.id
                )
            } else {
                let root = root_statement(ctx);
                if ctx.stack.format.is_cloudformation() {
                    format!(
                        "give {} a KeyPolicy with the default statement and this one (a declared policy replaces the default):\n  Version: \"2012-10-17\"\n  Statement:\n{}\n{}",
                        key.id,
                        indent(&root),
                        indent(&statement)
                    )
                } else {
                    format!(
                        "give {} a policy (an aws_iam_policy_document) with the default statement and this one (a declared policy replaces the default):\n{root}\n{statement}",
                        key.id
                    )
                }
            };
            (message, label, help)
        }
        KeyVerdict::NeedsSourceKeys { actions } => {
            let actions_text = actions.join(", ");
            let message = format!(
                "{subject}, whose key policy allows {service} {actions_text} only when the request carries aws:SourceArn or aws:SourceAccount. EventBridge is not known to send these keys to KMS when it delivers to a target; if it does not, deliveries fail."
            );
            let label =
                format!("{service} may use the key only with aws:SourceArn/aws:SourceAccount");
            let help = format!(
                "if deliveries fail, drop the aws:SourceArn/aws:SourceAccount condition from the statement of {}'s key policy that allows {service}",
                key.id
            );
            (message, label, help)
        }
    };
    let mut d = Diagnostic::new(
        KmsKeyPolicyMissingServicePrincipal::META.code,
        KmsKeyPolicyMissingServicePrincipal::META.name,
        group.severity,
        kms::key_policy_statement_span(key),
        message,
    )
    .with_label(label);
    let mut shown = Vec::new();
    for u in &group.uses {
        if !shown.contains(&u.target.id) {
            shown.push(u.target.id.clone());
            d = d.with_secondary(
                u.key_value.span,
                format!("{} is encrypted with this key", u.target.id),
            );
        }
    }
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
    let mut d = d.with_help(help).with_resource(first.target.id.clone());
    d.labels.dedup_by(|a, b| a.span == b.span);
    d
}

/// The default key policy's statement, in the stack's syntax.
fn root_statement(ctx: &Context<'_>) -> String {
    if ctx.stack.format.is_cloudformation() {
        "  - Sid: Enable IAM User Permissions\n    Effect: Allow\n    Principal:\n      AWS: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root\n    Action: kms:*\n    Resource: \"*\"".to_string()
    } else {
        "  statement {\n    sid       = \"Enable IAM User Permissions\"\n    actions   = [\"kms:*\"]\n    resources = [\"*\"]\n    principals {\n      type        = \"AWS\"\n      identifiers = [\"arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root\"]\n    }\n  }".to_string()
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
