//! AWS services that use a KMS key of the stack as a service principal (IAM015, IAM016): a
//! service delivering to an encrypted queue or topic (S3 notifications, SNS subscriptions,
//! EventBridge targets and dead-letter queues, CloudWatch alarms), CloudWatch Logs writing to
//! an encrypted log group, EventBridge encrypting the events of a bus.
//!
//! A service principal is not an IAM principal of the account: only a statement of the key
//! policy that names it lets it use the key. A key policy that only delegates to the account
//! root (the default key policy) enables IAM policies for IAM principals, and a service has
//! none (SQS Developer Guide, "sqs-key-management": "you must create a customer managed CMK and
//! add permissions in the key policy for the service"; SNS Developer Guide,
//! "sns-key-management", "Enable compatibility between event sources from AWS services and
//! encrypted topics"). An AWS managed key's policy cannot be changed, so no service can use it.

use crate::context::Context;
use crate::deliveries::{self, Delivery};
use crate::kms::{self, EncryptedService, KeyRef};
use iamlint_core::{Pseudo, Reference, Resource, SymStr, Symbol, Value};
use iamlint_policy::eval::{
    self, Layers, MissingKeys, Outcome, Request, RequestContext, RequestPrincipal,
};
use iamlint_policy::policy::{Policy, PrincipalKind};

/// What the service does with the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Sends to a queue or publishes to a topic.
    Delivery,
    /// CloudWatch Logs encrypts a log group's events.
    LogGroup,
    /// EventBridge encrypts the events of a bus.
    EventBus,
}

/// One service using the key of one resource of the stack.
pub struct ServiceUse<'a> {
    /// The queue, topic, log group or event bus.
    pub target: &'a Resource,
    pub key: KeyRef<'a>,
    /// Where the target names its key.
    pub key_value: &'a Value,
    /// The service principal, as AWS names it (`logs.${AWS::Region}.amazonaws.com`).
    pub service: String,
    /// The KMS actions the service calls on the key.
    pub actions: &'static [&'static str],
    pub via: Via,
    /// The delivery, for [`Via::Delivery`].
    pub delivery: Option<Delivery<'a>>,
}

/// A producer to an encrypted queue needs `kms:GenerateDataKey` and `kms:Decrypt` ("The call
/// to kms:Decrypt is to verify the integrity of the new data key", SQS Developer Guide,
/// sqs-key-management); a service publishing to an encrypted topic needs
/// `kms:GenerateDataKey*` and `kms:Decrypt` (SNS Developer Guide, sns-key-management).
const DELIVERY_ACTIONS: &[&str] = &["kms:GenerateDataKey", "kms:Decrypt"];

/// CloudWatch Logs encrypts with data keys and decrypts what it returns (CloudWatch Logs User
/// Guide, encrypt-log-data-kms; its statement grants `kms:Encrypt*`, `kms:Decrypt*`,
/// `kms:ReEncrypt*`, `kms:GenerateDataKey*`, `kms:Describe*`).
const LOGS_ACTIONS: &[&str] = &["kms:GenerateDataKey", "kms:Decrypt"];

/// What CloudWatch Logs is granted at all when none of these is allowed: the key policy does
/// not name the service.
const LOGS_ANY: &[&str] = &[
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:Decrypt",
    "kms:DescribeKey",
];

/// EventBridge needs `kms:DescribeKey`, `kms:GenerateDataKey` and `kms:Decrypt` on a bus's
/// customer managed key (EventBridge User Guide, eb-encryption-key-policy).
const BUS_ACTIONS: &[&str] = &["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"];

/// The CloudWatch Logs service principal, regional.
pub const LOGS_PRINCIPAL: &str = "logs.${AWS::Region}.amazonaws.com";

/// Every use of a KMS key by a service principal in the stack, in resource order.
pub fn service_uses<'a>(ctx: &Context<'a>) -> Vec<ServiceUse<'a>> {
    let encrypted = kms::encrypted_resources(ctx);
    let mut out = Vec::new();
    for delivery in deliveries::deliveries_with_alarms(ctx) {
        let Some(e) = encrypted.iter().find(|e| {
            e.resource.id == delivery.target.id
                && matches!(e.service, EncryptedService::Sqs | EncryptedService::Sns)
        }) else {
            continue;
        };
        // SSE-SQS uses no KMS key.
        if e.resource
            .property("SqsManagedSseEnabled")
            .and_then(Value::as_bool)
            == Some(true)
        {
            continue;
        }
        out.push(ServiceUse {
            target: e.resource,
            key: e.key.clone(),
            key_value: e.key_value,
            service: delivery.service.to_string(),
            actions: DELIVERY_ACTIONS,
            via: Via::Delivery,
            delivery: Some(delivery),
        });
    }
    for e in encrypted
        .iter()
        .filter(|e| e.service == EncryptedService::Logs)
    {
        out.push(ServiceUse {
            target: e.resource,
            key: e.key.clone(),
            key_value: e.key_value,
            service: LOGS_PRINCIPAL.to_string(),
            actions: LOGS_ACTIONS,
            via: Via::LogGroup,
            delivery: None,
        });
    }
    for bus in ctx.stack.resources_of("AWS::Events::EventBus") {
        let Some(key_value) = bus
            .property("KmsKeyIdentifier")
            .filter(|v| !v.is_no_value())
        else {
            continue;
        };
        out.push(ServiceUse {
            target: bus,
            key: kms::resolve_key(ctx, key_value),
            key_value,
            service: "events.amazonaws.com".to_string(),
            actions: BUS_ACTIONS,
            via: Via::EventBus,
            delivery: None,
        });
    }
    out
}

/// How a key policy of the stack treats a service's use of the key.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyVerdict {
    /// The key policy denies these actions, whether or not the service sends the source
    /// condition keys.
    Refused {
        missing: Vec<&'static str>,
        explicit: bool,
        /// The key policy names the service for none of the key's uses (for CloudWatch Logs,
        /// whose minimal set of actions AWS does not spell out: only then is it certain).
        nothing_granted: bool,
    },
    /// The key policy lets EventBridge use the key only when the request carries
    /// `aws:SourceArn`/`aws:SourceAccount`, which EventBridge may not send to KMS when it
    /// delivers to a target (SEMANTICS.md IAM016, unconfirmed).
    NeedsSourceKeys { actions: Vec<&'static str> },
}

/// How the key policy (`policy`, of a key of the stack) treats the use; `None` when it allows
/// it or iamlint cannot tell.
pub fn verdict(
    ctx: &Context<'_>,
    service_use: &ServiceUse<'_>,
    key: &Resource,
    policy: &Policy,
) -> Option<KeyVerdict> {
    let key_arn = kms::key_arn(ctx, key);
    let policy = &*regional_logs_principal(policy, service_use);
    let candidates = principals(service_use, policy);
    let source_keys = source_keys(ctx, service_use);
    let decide = |principal: &str, action: &str, with_source: bool| {
        let mut context = RequestContext::new(MissingKeys::Unknown);
        context.insert("aws:SecureTransport", ["true"]);
        for (key, value) in &source_keys {
            if with_source {
                context.insert(key, [value.clone()]);
            } else {
                context.set_absent(key);
            }
        }
        let request = Request {
            principal: RequestPrincipal::Service(principal.to_string()),
            action: action.to_string(),
            resource: key_arn.clone(),
            resource_account: Some(SymStr::sym(Symbol::Pseudo(Pseudo::AccountId))),
            context,
        };
        eval::evaluate(
            &request,
            &Layers {
                resource: Some(policy),
                resource_must_allow: true,
                ..Layers::default()
            },
        )
        .outcome
    };
    // Denied for every spelling of the principal, with and without the source keys.
    let refused = |action: &str| -> Option<bool> {
        let mut explicit = false;
        for principal in &candidates {
            for with_source in [true, false] {
                match decide(principal, action, with_source) {
                    Outcome::ExplicitlyDenied => explicit = true,
                    Outcome::ImplicitlyDenied => {}
                    _ => return None,
                }
            }
        }
        Some(explicit)
    };
    let mut missing = Vec::new();
    let mut explicit = false;
    for action in service_use.actions {
        if let Some(e) = refused(action) {
            missing.push(*action);
            explicit |= e;
        }
    }
    if !missing.is_empty() {
        let nothing_granted = match service_use.via {
            Via::LogGroup => LOGS_ANY.iter().all(|a| refused(a).is_some()),
            _ => true,
        };
        return Some(KeyVerdict::Refused {
            missing,
            explicit,
            nothing_granted,
        });
    }
    // EventBridge delivering to a target: a grant that holds only with the source keys.
    let events_delivery =
        service_use.via == Via::Delivery && service_use.service == "events.amazonaws.com";
    if events_delivery && !source_keys.is_empty() {
        let actions: Vec<&'static str> = service_use
            .actions
            .iter()
            .copied()
            .filter(|action| {
                candidates.iter().all(|p| {
                    decide(p, action, true) == Outcome::Allowed
                        && decide(p, action, false).is_denied()
                })
            })
            .collect();
        if !actions.is_empty() {
            return Some(KeyVerdict::NeedsSourceKeys { actions });
        }
    }
    None
}

/// The key policy with `logs.${AWS::Region}.amazonaws.com` (`!Sub`, or
/// `data.aws_region.current.name` in Terraform) written as the literal name the request is made
/// with, so that the evaluator compares it with the request's principal.
fn regional_logs_principal<'p>(
    policy: &'p Policy,
    service_use: &ServiceUse<'_>,
) -> std::borrow::Cow<'p, Policy> {
    let regional = |value: &SymStr| !value.is_literal() && value.to_string() == LOGS_PRINCIPAL;
    let affected = service_use.via == Via::LogGroup
        && policy.statements.iter().any(|st| {
            st.principals.as_ref().is_some_and(|set| {
                set.principals
                    .iter()
                    .any(|p| p.kind == PrincipalKind::Service && regional(&p.value))
            })
        });
    if !affected {
        return std::borrow::Cow::Borrowed(policy);
    }
    let mut owned = policy.clone();
    for statement in &mut owned.statements {
        if let Some(set) = &mut statement.principals {
            for p in &mut set.principals {
                if p.kind == PrincipalKind::Service && regional(&p.value) {
                    p.value = SymStr::lit(LOGS_PRINCIPAL);
                }
            }
        }
    }
    std::borrow::Cow::Owned(owned)
}

/// The names the service principal may go by in the key policy. CloudWatch Logs' principal is
/// regional (`logs.us-east-1.amazonaws.com`); a template deployed to one region may name it
/// literally, so every literal `logs.…` principal of the policy is tried as well.
fn principals(service_use: &ServiceUse<'_>, policy: &Policy) -> Vec<String> {
    let mut out = vec![service_use.service.clone()];
    if service_use.via == Via::LogGroup {
        for statement in policy.statements.iter() {
            let Some(set) = &statement.principals else {
                continue;
            };
            for p in &set.principals {
                if p.kind == PrincipalKind::Service
                    && let Some(name) = p.value.as_literal()
                    && name.starts_with("logs.")
                    && !out.iter().any(|o| o == name)
                {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

/// The condition keys the service may send with its KMS requests, and their values: the
/// source of a delivery, the log group's ARN as encryption context (CloudWatch Logs User Guide,
/// encrypt-log-data-kms), the bus's ARN and account (EventBridge User Guide,
/// eb-encryption-key-policy). Each is tried present and absent.
fn source_keys(ctx: &Context<'_>, service_use: &ServiceUse<'_>) -> Vec<(&'static str, SymStr)> {
    let account = || SymStr::sym(Symbol::Pseudo(Pseudo::AccountId));
    let mut out = Vec::new();
    match service_use.via {
        Via::Delivery => {
            let Some(delivery) = &service_use.delivery else {
                return out;
            };
            // A rule on a custom event bus is `rule/{bus}/{name}`, which iamlint does not
            // build: its source ARN stays unknown.
            let custom_bus = delivery.source.kind == "AWS::Events::Rule"
                && delivery
                    .source
                    .property("EventBusName")
                    .is_some_and(|b| b.as_str() != Some("default"));
            if let Some((arn, _)) = &delivery.source_arn
                && !custom_bus
            {
                out.push(("aws:SourceArn", arn.clone()));
            }
            if delivery.same_account {
                out.push(("aws:SourceAccount", account()));
            }
        }
        Via::LogGroup => {
            out.push((
                "kms:EncryptionContext:aws:logs:arn",
                log_group_arn(ctx, service_use.target),
            ));
        }
        Via::EventBus => {
            let arn = ctx
                .resolver
                .reference(&Reference::get_att(service_use.target.id.clone(), "Arn"), 0);
            out.push(("aws:SourceArn", arn.clone()));
            out.push(("aws:SourceAccount", account()));
            out.push(("kms:EncryptionContext:aws:events:event-bus:arn", arn));
        }
    }
    out
}

/// `arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:NAME`, without the
/// `:*` of `!GetAtt LogGroup.Arn`: the encryption context CloudWatch Logs sends.
fn log_group_arn(ctx: &Context<'_>, group: &Resource) -> SymStr {
    let mut arn = SymStr::lit("arn:");
    arn.push_sym(Symbol::Pseudo(Pseudo::Partition));
    arn.push_lit(":logs:");
    arn.push_sym(Symbol::Pseudo(Pseudo::Region));
    arn.push_lit(":");
    arn.push_sym(Symbol::Pseudo(Pseudo::AccountId));
    arn.push_lit(":log-group:");
    arn.push(
        ctx.resolver
            .reference(&Reference::to_ref(group.id.clone()), 0),
    );
    arn
}

/// The service principal in the stack's syntax.
pub fn written_service(ctx: &Context<'_>, service: &str) -> String {
    match (
        service == LOGS_PRINCIPAL,
        ctx.stack.format.is_cloudformation(),
    ) {
        (false, true) => service.to_string(),
        (false, false) => format!("\"{service}\""),
        (true, true) => format!("!Sub {service}"),
        (true, false) => "\"logs.${data.aws_region.current.name}.amazonaws.com\"".to_string(),
    }
}

/// A key-policy statement letting `service` use the key for `actions`, in the stack's syntax,
/// with an optional condition (`test`, `variable`, value written in the stack's syntax).
pub fn key_policy_statement(
    ctx: &Context<'_>,
    service: &str,
    actions: &[&str],
    condition: Option<(&str, &str, String)>,
) -> String {
    let principal = written_service(ctx, service);
    if ctx.stack.format.is_cloudformation() {
        let mut out =
            format!("  - Effect: Allow\n    Principal:\n      Service: {principal}\n    Action:\n");
        for a in actions {
            out.push_str(&format!("      - {a}\n"));
        }
        out.push_str("    Resource: \"*\"");
        if let Some((test, variable, value)) = condition {
            out.push_str(&format!(
                "\n    Condition:\n      {test}:\n        {variable}: {value}"
            ));
        }
        out
    } else {
        let list = actions
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let mut out = format!(
            "  statement {{\n    actions   = [{list}]\n    resources = [\"*\"]\n    principals {{\n      type        = \"Service\"\n      identifiers = [{principal}]\n    }}"
        );
        if let Some((test, variable, value)) = condition {
            out.push_str(&format!(
                "\n    condition {{\n      test     = \"{test}\"\n      variable = \"{variable}\"\n      values   = [{value}]\n    }}"
            ));
        }
        out.push_str("\n  }");
        out
    }
}

/// The statement CloudWatch Logs documents for a log group's key (encrypt-log-data-kms), its
/// condition on the stack's log groups.
pub fn logs_statement(ctx: &Context<'_>) -> String {
    let groups = if ctx.stack.format.is_cloudformation() {
        "!Sub arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*".to_string()
    } else {
        "\"arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*\"".to_string()
    };
    key_policy_statement(
        ctx,
        LOGS_PRINCIPAL,
        &[
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
        ],
        Some(("ArnLike", "kms:EncryptionContext:aws:logs:arn", groups)),
    )
}
