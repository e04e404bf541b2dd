//! Service principals that deliver to a queue or topic of the stack (SNS subscriptions, S3
//! bucket notifications, EventBridge rule targets and dead-letter queues), and whether the
//! target's resource policy lets them (SEMANTICS.md IAM022, IAM023). Shared by the rules about
//! queue policies and topic policies.

use crate::context::Context;
use crate::resource_grant::{ResourcePolicy, referenced, resource_policy_of};
use iamlint_core::{Attribute, Format, Pseudo, Reference, Resource, SymStr, Symbol, Value};
use iamlint_policy::eval::{self, Layers, MissingKeys, Outcome, Request, RequestContext};
use iamlint_policy::policy::{PolicyKind, parse_policy};

/// One service delivering to a queue or topic of the stack.
#[derive(Clone)]
pub struct Delivery<'a> {
    /// The resource that configures the delivery (subscription, bucket, rule, topic).
    pub source: &'a Resource,
    /// What sends, for messages: "SNS topic Orders (subscription OrdersToQueue)".
    pub sender: String,
    /// The service principal that makes the request.
    pub service: &'static str,
    /// The source ARN the service sends as `aws:SourceArn`, written as the user would.
    pub source_arn: Option<(SymStr, String)>,
    /// The account the source belongs to, when it is the stack's.
    pub same_account: bool,
    /// The value that names the queue or topic (where the delivery is configured).
    pub target_value: &'a Value,
    /// The queue or topic.
    pub target: &'a Resource,
    /// S3 checks the destination when the notification configuration is written.
    pub deploy_time: bool,
    /// A dead-letter queue: used only when delivery to the target fails.
    pub dead_letter: bool,
}

/// How a delivery fares against the target's resource policy.
pub enum Verdict<'a> {
    /// The policy of the stack that applies, and it does not allow the delivery.
    Refused {
        policy: &'a Resource,
        document: &'a Value,
        explicit: bool,
        /// The policy grants the request to an account principal only: AWS does not count
        /// that for a service principal, but that is not confirmed.
        account_grant: bool,
    },
    /// No resource policy of the stack applies to the target.
    NoPolicy,
}

/// Every delivery of the stack by a service principal to a queue or topic of the stack.
pub fn deliveries<'a>(ctx: &Context<'a>) -> Vec<Delivery<'a>> {
    let mut out = Vec::new();
    let stack = ctx.stack;
    let target_of = |value: &'a Value| -> Option<&'a Resource> {
        referenced(ctx, value)
            .filter(|r| matches!(r.kind.as_str(), "AWS::SQS::Queue" | "AWS::SNS::Topic"))
    };
    let arn_of = |resource: &Resource, attribute: Attribute| -> (SymStr, String) {
        let reference = Reference {
            resource: resource.id.clone(),
            attribute,
        };
        (
            ctx.resolver.reference(&reference, 0),
            ctx.written_ref(&reference),
        )
    };
    // SNS subscriptions, standalone or inline in the topic.
    for subscription in stack.resources_of("AWS::SNS::Subscription") {
        if !is_sqs(subscription.property("Protocol")) {
            continue;
        }
        let (Some(endpoint), Some(topic_value)) = (
            subscription.property("Endpoint"),
            subscription.property("TopicArn"),
        ) else {
            continue;
        };
        let Some(target) = target_of(endpoint) else {
            continue;
        };
        let topic = referenced(ctx, topic_value).filter(|r| r.kind == "AWS::SNS::Topic");
        let source_arn = ctx
            .resolver
            .string(topic_value)
            .map(|s| (s.clone(), ctx.written(topic_value, &s)));
        out.push(Delivery {
            source: subscription,
            sender: format!(
                "SNS topic {} (subscription {})",
                topic.map_or_else(
                    || source_arn
                        .as_ref()
                        .map_or_else(|| "?".to_string(), |(s, _)| ctx.sub_text(s)),
                    |t| t.id.clone()
                ),
                subscription.id
            ),
            service: "sns.amazonaws.com",
            source_arn,
            same_account: topic.is_some(),
            target_value: endpoint,
            target,
            deploy_time: false,
            dead_letter: false,
        });
    }
    for topic in stack.resources_of("AWS::SNS::Topic") {
        for entry in items(topic.property("Subscription")) {
            if !is_sqs(entry.get("Protocol")) {
                continue;
            }
            let Some(endpoint) = entry.get("Endpoint") else {
                continue;
            };
            let Some(target) = target_of(endpoint) else {
                continue;
            };
            out.push(Delivery {
                source: topic,
                sender: format!("SNS topic {}", topic.id),
                service: "sns.amazonaws.com",
                source_arn: Some(arn_of(topic, Attribute::Ref)),
                same_account: true,
                target_value: endpoint,
                target,
                deploy_time: false,
                dead_letter: false,
            });
        }
    }
    // S3 bucket notifications.
    for bucket in stack.resources_of("AWS::S3::Bucket") {
        for (list, field) in [
            ("QueueConfigurations", "Queue"),
            ("TopicConfigurations", "Topic"),
        ] {
            for entry in items(bucket.property_path(&["NotificationConfiguration", list])) {
                let Some(value) = entry.get(field) else {
                    continue;
                };
                let Some(target) = target_of(value) else {
                    continue;
                };
                out.push(Delivery {
                    source: bucket,
                    sender: format!("S3 bucket {}", bucket.id),
                    service: "s3.amazonaws.com",
                    source_arn: Some(arn_of(bucket, Attribute::Get("Arn".into()))),
                    same_account: true,
                    target_value: value,
                    target,
                    deploy_time: true,
                    dead_letter: false,
                });
            }
        }
    }
    // EventBridge rule targets (a target with a role is sent with the role) and their
    // dead-letter queues (always sent by EventBridge itself).
    for rule in stack.resources_of("AWS::Events::Rule") {
        for target_entry in items(rule.property("Targets")) {
            let mut values = Vec::new();
            if target_entry.get("RoleArn").is_none_or(Value::is_no_value) {
                values.push((target_entry.get("Arn"), "target"));
            }
            values.push((
                target_entry
                    .get("DeadLetterConfig")
                    .and_then(|d| d.get("Arn")),
                "dead-letter queue",
            ));
            for (value, what) in values {
                let Some(value) = value else { continue };
                let Some(target) = target_of(value) else {
                    continue;
                };
                if what == "dead-letter queue" && target.kind != "AWS::SQS::Queue" {
                    continue;
                }
                out.push(Delivery {
                    source: rule,
                    sender: format!("EventBridge rule {}", rule.id),
                    service: "events.amazonaws.com",
                    source_arn: Some(arn_of(rule, Attribute::Get("Arn".into()))),
                    same_account: true,
                    target_value: value,
                    target,
                    deploy_time: false,
                    dead_letter: what != "target",
                });
            }
        }
    }
    out
}

/// [`deliveries`] and, besides, CloudWatch alarms publishing to topics of the stack
/// (`AlarmActions`, `OKActions`, `InsufficientDataActions`). Alarms publish through SNS's
/// default topic policy, which the queue- and topic-policy rules leave to their own checks;
/// the key of an encrypted topic must let `cloudwatch.amazonaws.com` use it all the same
/// (SNS Developer Guide, "Enable compatibility between event sources from AWS services and
/// encrypted topics").
pub fn deliveries_with_alarms<'a>(ctx: &Context<'a>) -> Vec<Delivery<'a>> {
    let mut out = deliveries(ctx);
    for kind in ["AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"] {
        for alarm in ctx.stack.resources_of(kind) {
            let mut seen: Vec<&str> = Vec::new();
            for list in ["AlarmActions", "OKActions", "InsufficientDataActions"] {
                for value in items(alarm.property(list)) {
                    let Some(target) =
                        referenced(ctx, value).filter(|r| r.kind == "AWS::SNS::Topic")
                    else {
                        continue;
                    };
                    // One alarm publishing to one topic on several state changes is one sender.
                    if seen.contains(&target.id.as_str()) {
                        continue;
                    }
                    seen.push(&target.id);
                    let reference = Reference {
                        resource: alarm.id.clone(),
                        attribute: Attribute::Get("Arn".into()),
                    };
                    out.push(Delivery {
                        source: alarm,
                        sender: format!("CloudWatch alarm {}", alarm.id),
                        service: "cloudwatch.amazonaws.com",
                        source_arn: Some((
                            ctx.resolver.reference(&reference, 0),
                            ctx.written_ref(&reference),
                        )),
                        same_account: true,
                        target_value: value,
                        target,
                        deploy_time: false,
                        dead_letter: false,
                    });
                }
            }
        }
    }
    out
}

/// The refused deliveries to targets of `kind`, grouped by target, service and verdict: several
/// sources sending to one queue make one finding, fixed by one statement.
pub fn refused<'a>(
    ctx: &Context<'a>,
    kind: &str,
    action: &str,
) -> Vec<(Vec<Delivery<'a>>, Verdict<'a>)> {
    refused_of(ctx, deliveries(ctx), kind, action)
}

/// [`refused`] among `deliveries`.
pub fn refused_of<'a>(
    ctx: &Context<'a>,
    deliveries: Vec<Delivery<'a>>,
    kind: &str,
    action: &str,
) -> Vec<(Vec<Delivery<'a>>, Verdict<'a>)> {
    let mut groups: Vec<(Vec<Delivery<'a>>, Verdict<'a>)> = Vec::new();
    for delivery in deliveries {
        if delivery.target.kind != kind {
            continue;
        }
        let Some(verdict) = verdict(ctx, &delivery, action) else {
            continue;
        };
        let same = |(group, v): &&mut (Vec<Delivery<'a>>, Verdict<'a>)| {
            let first = &group[0];
            first.target.id == delivery.target.id
                && first.service == delivery.service
                && first.dead_letter == delivery.dead_letter
                && match (v, &verdict) {
                    (Verdict::NoPolicy, Verdict::NoPolicy) => true,
                    (
                        Verdict::Refused {
                            policy: a,
                            explicit: x,
                            ..
                        },
                        Verdict::Refused {
                            policy: b,
                            explicit: y,
                            ..
                        },
                    ) => a.id == b.id && x == y,
                    _ => false,
                }
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(group) => group.0.push(delivery),
            None => groups.push((vec![delivery], verdict)),
        }
    }
    groups
}

/// The senders of a group, for messages ("EventBridge rule A", "EventBridge rules A and B"),
/// and whether there are several.
pub fn senders(group: &[Delivery<'_>]) -> (String, bool) {
    let mut names: Vec<&str> = Vec::new();
    for d in group {
        if !names.contains(&d.sender.as_str()) {
            names.push(&d.sender);
        }
    }
    let join = |items: &[&str]| match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    if names.len() < 2 {
        return (join(&names), false);
    }
    let split: Vec<Option<(&str, &str)>> = names
        .iter()
        .map(|n| n.rsplit_once(' ').filter(|_| !n.contains('(')))
        .collect();
    if let Some(Some((kind, _))) = split.first()
        && split.iter().all(|s| s.is_some_and(|(k, _)| k == *kind))
    {
        let ids: Vec<&str> = split.iter().filter_map(|s| s.map(|(_, id)| id)).collect();
        return (format!("{kind}s {}", join(&ids)), true);
    }
    (join(&names), true)
}

/// The source ARNs of a group as `Fn::Sub` text, for messages.
pub fn sources_text(ctx: &Context<'_>, group: &[Delivery<'_>]) -> String {
    let mut texts: Vec<String> = Vec::new();
    for d in group {
        match &d.source_arn {
            Some((arn, _)) => {
                let t = ctx.sub_text(arn);
                if !texts.contains(&t) {
                    texts.push(t);
                }
            }
            None => return String::new(),
        }
    }
    format!(" with aws:SourceArn {}", texts.join(", "))
}

fn is_sqs(protocol: Option<&Value>) -> bool {
    protocol
        .and_then(Value::as_str)
        .is_some_and(|p| p.eq_ignore_ascii_case("sqs"))
}

/// The entries of a list property (nothing when it is absent or not a list).
fn items(value: Option<&Value>) -> Vec<&Value> {
    value
        .and_then(Value::as_list)
        .map(|l| l.iter().filter(|v| !v.is_no_value()).collect())
        .unwrap_or_default()
}

/// The ARN of the queue or topic a delivery goes to.
pub fn target_arn(target: &Resource) -> Reference {
    Reference {
        resource: target.id.clone(),
        attribute: if target.kind == "AWS::SQS::Queue" {
            Attribute::Get("Arn".into())
        } else {
            Attribute::Ref
        },
    }
}

/// Whether the delivery is refused by the target's resource policy, as AWS evaluates it for
/// the service principal with the real source. `None` when it is allowed or iamlint cannot
/// tell (a policy it cannot evaluate, a connector that generates one, unknown values).
pub fn verdict<'a>(
    ctx: &Context<'a>,
    delivery: &Delivery<'a>,
    action: &str,
) -> Option<Verdict<'a>> {
    let (policy, document, outcome) = match evaluate(ctx, delivery, action)? {
        Evaluated::NoPolicy => return Some(Verdict::NoPolicy),
        Evaluated::Policy {
            policy,
            document,
            outcome,
        } => (policy, document, outcome),
    };
    let explicit = match outcome {
        Outcome::ImplicitlyDenied => false,
        Outcome::ExplicitlyDenied => true,
        Outcome::Allowed | Outcome::Unknown(_) => return None,
    };
    Some(Verdict::Refused {
        policy,
        document,
        explicit,
        account_grant: !explicit && grants_account(document, action),
    })
}

/// The resource of the stack whose policy is the one that applies to the target and allows
/// the delivery or may (a queue policy, a topic policy, or the queue or topic holding its
/// own): when the delivery works, that policy is what allows it. `None` when there is none,
/// it refuses the delivery, or iamlint cannot tell which policy applies.
pub fn granted_by<'a>(
    ctx: &Context<'a>,
    delivery: &Delivery<'a>,
    action: &str,
) -> Option<&'a Resource> {
    match evaluate(ctx, delivery, action)? {
        Evaluated::Policy {
            policy,
            outcome: Outcome::Allowed | Outcome::Unknown(_),
            ..
        } => Some(policy),
        _ => None,
    }
}

/// What the target's resource policy says about a delivery.
enum Evaluated<'a> {
    /// No resource policy of the stack applies to the target.
    NoPolicy,
    /// The one policy of the stack that applies, and its outcome for the delivery.
    Policy {
        policy: &'a Resource,
        document: &'a Value,
        outcome: Outcome,
    },
}

/// The delivery evaluated against the target's resource policy, as AWS evaluates it for the
/// service principal with the real source. `None` when iamlint cannot evaluate it (a policy it
/// cannot tell apart or parse, a connector that generates one).
fn evaluate<'a>(ctx: &Context<'a>, delivery: &Delivery<'a>, action: &str) -> Option<Evaluated<'a>> {
    if connector_targets(ctx, delivery.target) {
        return None;
    }
    let target_value = delivery.target_value;
    let document = match resource_policy_of(ctx, target_value) {
        ResourcePolicy::Undecidable => return None,
        ResourcePolicy::None => return Some(Evaluated::NoPolicy),
        ResourcePolicy::Known(doc) => doc,
    };
    let policy_resource = policy_holding(ctx, document)?;
    let (policy, problems) = parse_policy(document, PolicyKind::Resource, &ctx.resolver);
    if !problems.is_empty() {
        return None;
    }
    let mut context = RequestContext::new(MissingKeys::Unknown);
    context.insert("aws:SecureTransport", ["true"]);
    // A rule on a custom event bus is `rule/{bus}/{name}`, which iamlint does not build.
    let custom_bus = delivery.source.kind == "AWS::Events::Rule"
        && delivery
            .source
            .property("EventBusName")
            .is_some_and(|b| b.as_str() != Some("default"));
    if let Some((arn, _)) = &delivery.source_arn
        && !custom_bus
    {
        context.insert("aws:SourceArn", [arn.clone()]);
    }
    if delivery.same_account {
        context.insert(
            "aws:SourceAccount",
            [SymStr::sym(Symbol::Pseudo(Pseudo::AccountId))],
        );
    }
    let request = Request {
        principal: eval::RequestPrincipal::Service(delivery.service.to_string()),
        action: action.to_string(),
        resource: ctx.resolver.reference(&target_arn(delivery.target), 0),
        resource_account: Some(SymStr::sym(Symbol::Pseudo(Pseudo::AccountId))),
        context,
    };
    let layers = Layers {
        resource: Some(&policy),
        ..Layers::default()
    };
    Some(Evaluated::Policy {
        policy: policy_resource,
        document,
        outcome: eval::evaluate(&request, &layers).outcome,
    })
}

/// The resource (queue policy, topic policy, queue or topic) whose property is `document`.
fn policy_holding<'a>(ctx: &Context<'a>, document: &Value) -> Option<&'a Resource> {
    ctx.stack.resources().iter().find(|r| {
        ["PolicyDocument", "Policy"]
            .iter()
            .any(|p| r.property(p).is_some_and(|d| std::ptr::eq(d, document)))
    })
}

/// Whether an `Allow` statement of the document names an `AWS` principal (an account or
/// role) for `action`: AWS does not let that grant stand for a service principal
/// (SEMANTICS.md IAM022, unconfirmed), so a refusal is only likely.
fn grants_account(document: &Value, action: &str) -> bool {
    let service = action.split(':').next().unwrap_or(action);
    items_or_one(document.get("Statement"))
        .into_iter()
        .any(|s| {
            s.get("Effect").and_then(Value::as_str) == Some("Allow")
                && s.get("Principal").and_then(|p| p.get("AWS")).is_some()
                && items_or_one(s.get("Action")).into_iter().any(|a| {
                    a.as_str().is_none_or(|a| {
                        let a = a.to_ascii_lowercase();
                        a == "*" || a == format!("{service}:*") || a == action.to_ascii_lowercase()
                    })
                })
        })
}

fn items_or_one(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None => Vec::new(),
        Some(v) => match v.as_list() {
            Some(l) => l.iter().collect(),
            None => vec![v],
        },
    }
}

/// Whether a SAM connector (`AWS::Serverless::Connector`, which iamlint does not expand)
/// may write the target's resource policy.
pub(crate) fn connector_targets(ctx: &Context<'_>, target: &Resource) -> bool {
    ctx.stack
        .resources_of("AWS::Serverless::Connector")
        .any(|c| {
            items_or_one(c.property("Destination"))
                .into_iter()
                .any(|d| match d.get("Id").and_then(Value::as_str) {
                    Some(id) => id == target.id,
                    None => true,
                })
        })
}

/// The span a refused delivery is reported at: the policy's statements, or the target when
/// it has no policy.
/// Where a finding about a policy that refuses a delivery points (its `Statement`), and what
/// the message says the policy does ("queue policy X does not allow", "… explicitly denies").
pub fn refusal(
    format: Format,
    policy: &Resource,
    document: &Value,
    explicit: bool,
) -> (iamlint_core::Span, String) {
    let name = policy_name(format, policy);
    let why = if explicit {
        format!("{name} explicitly denies")
    } else {
        format!("{name} does not allow")
    };
    (statement_span(document), why)
}

pub fn statement_span(document: &Value) -> iamlint_core::Span {
    document.get("Statement").map_or(document.span, |s| s.span)
}

/// A resource-policy statement allowing `service` `action` on the target from the sources of
/// the group, in the stack's syntax.
pub fn grant_statement(ctx: &Context<'_>, group: &[Delivery<'_>], action: &str) -> String {
    let Some(first) = group.first() else {
        return String::new();
    };
    let resource = ctx.written_ref(&target_arn(first.target));
    let service = first.service;
    let mut sources: Vec<&str> = Vec::new();
    for d in group {
        match &d.source_arn {
            Some((_, written)) => {
                if !sources.contains(&written.as_str()) {
                    sources.push(written);
                }
            }
            None => {
                sources.clear();
                break;
            }
        }
    }
    if ctx.stack.format.is_cloudformation() {
        let mut out = format!(
            "  - Effect: Allow\n    Principal:\n      Service: {service}\n    Action: {action}\n    Resource: {resource}"
        );
        match sources.as_slice() {
            [] => {}
            [one] => out.push_str(&format!(
                "\n    Condition:\n      ArnEquals:\n        aws:SourceArn: {one}"
            )),
            many => {
                out.push_str("\n    Condition:\n      ArnEquals:\n        aws:SourceArn:");
                for s in many {
                    out.push_str(&format!("\n          - {s}"));
                }
            }
        }
        out
    } else {
        let mut out = format!(
            "  statement {{\n    actions   = [\"{action}\"]\n    resources = [{resource}]\n    principals {{\n      type        = \"Service\"\n      identifiers = [\"{service}\"]\n    }}"
        );
        if !sources.is_empty() {
            out.push_str(&format!(
                "\n    condition {{\n      test     = \"ArnEquals\"\n      variable = \"aws:SourceArn\"\n      values   = [{}]\n    }}",
                sources.join(", ")
            ));
        }
        out.push_str("\n  }");
        out
    }
}

/// Help for a delivery the target's policy refuses: the statement to add, to the policy that
/// exists or to a new one.
pub fn help(
    ctx: &Context<'_>,
    group: &[Delivery<'_>],
    action: &str,
    policy: Option<&Resource>,
) -> String {
    let Some(delivery) = group.first() else {
        return String::new();
    };
    let statement = grant_statement(ctx, group, action);
    let queue = delivery.target.kind == "AWS::SQS::Queue";
    let noun = if queue {
        "queue policy"
    } else {
        "topic policy"
    };
    match policy {
        Some(p) => {
            let name = policy_name(ctx.stack.format, p);
            format!("add this statement to {name}:\n{statement}")
        }
        None => {
            let target = &delivery.target.id;
            if ctx.stack.format.is_cloudformation() {
                let (kind, list, reference) = if queue {
                    ("AWS::SQS::QueuePolicy", "Queues", format!("!Ref {target}"))
                } else {
                    ("AWS::SNS::TopicPolicy", "Topics", format!("!Ref {target}"))
                };
                let indented: String = statement
                    .lines()
                    .map(|l| format!("        {l}\n"))
                    .collect();
                format!(
                    "add a {noun} for {target}:\n  {target}Policy:\n    Type: {kind}\n    Properties:\n      {list}:\n        - {reference}\n      PolicyDocument:\n        Version: \"2012-10-17\"\n        Statement:\n{}",
                    indented.trim_end()
                )
            } else {
                let (kind, arg, reference) = if queue {
                    (
                        "aws_sqs_queue_policy",
                        "queue_url",
                        ctx.written_ref(&Reference {
                            resource: target.clone(),
                            attribute: Attribute::Ref,
                        }),
                    )
                } else {
                    (
                        "aws_sns_topic_policy",
                        "arn",
                        ctx.written_ref(&Reference {
                            resource: target.clone(),
                            attribute: Attribute::Ref,
                        }),
                    )
                };
                format!(
                    "add an {kind} with {arg} = {reference} whose policy (an aws_iam_policy_document) holds this statement:\n{statement}"
                )
            }
        }
    }
}

/// A policy resource named for messages: `queue policy QueuePolicy`, `queue policy
/// aws_sqs_queue_policy.q`, or `the policy argument of aws_sqs_queue.q`.
pub fn policy_name(format: Format, policy: &Resource) -> String {
    let noun = if policy.kind == "AWS::SQS::QueuePolicy" {
        "queue policy"
    } else {
        "topic policy"
    };
    match policy.id.strip_suffix("#policy") {
        Some(owner) if !format.is_cloudformation() => format!("the policy argument of {owner}"),
        _ => format!("{noun} {}", policy.id),
    }
}
