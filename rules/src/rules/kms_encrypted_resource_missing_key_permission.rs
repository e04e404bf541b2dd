use crate::context::Context;
use crate::declare_rule;
use crate::kms::{self, Direction, Encrypted, EncryptedService, KeyRef};
use crate::policies::{is_allow, items, statements};
use crate::registry::{Rule, RuleMeta};
use crate::requests::{RunsAs, closed_role};
use iamlint_core::{Diagnostic, Part, Resource, Severity, Span, Value, ValueKind};
use iamlint_policy::eval::{Outcome, Uncertainty, match_action};
use std::collections::BTreeSet;

declare_rule! {
    /// ## What it does
    /// Finds roles that read or write a queue, topic, bucket, secret or stream encrypted with a
    /// customer managed KMS key of the template, but cannot use the key: their policies lack
    /// the KMS actions the service calls on their behalf, or the key policy neither allows
    /// them nor delegates to IAM.
    ///
    /// A role reads or writes a resource when AWS wires it to (a Lambda event source mapping
    /// polls a queue or stream with the function's role; a dead-letter queue or topic receives
    /// the function's failed events) or when its policies grant it the data action on that
    /// resource by name (`sqs:SendMessage`, `sqs:ReceiveMessage`, `sns:Publish`,
    /// `s3:GetObject`, `s3:PutObject`, `secretsmanager:GetSecretValue`, `kinesis:PutRecord`,
    /// `kinesis:GetRecords`).
    ///
    /// | operation | KMS actions on the key |
    /// |---|---|
    /// | SQS `SendMessage` | `kms:GenerateDataKey`, `kms:Decrypt` |
    /// | SQS `ReceiveMessage` (event source mappings too) | `kms:Decrypt` |
    /// | SNS `Publish` | `kms:GenerateDataKey`, `kms:Decrypt` |
    /// | S3 `PutObject` (bucket default SSE-KMS) | `kms:GenerateDataKey` |
    /// | S3 `GetObject` | `kms:Decrypt` |
    /// | Secrets Manager `GetSecretValue` | `kms:Decrypt` |
    /// | Kinesis `PutRecord(s)` / `GetRecords` | `kms:GenerateDataKey` / `kms:Decrypt` (warning) |
    ///
    /// ## Why is this bad?
    /// The service calls KMS with the caller's credentials to encrypt or decrypt the data. When
    /// the role cannot use the key, every request fails with a KMS access-denied error
    /// (`KMS.AccessDeniedException`), although the role is allowed the SQS, SNS, S3 or Secrets
    /// Manager action itself. An event source mapping on such a queue never delivers a message.
    ///
    /// KMS key policies are mandatory: a role can use a key only when the key policy names it,
    /// or names the account root (as the default key policy does) and the role's IAM policies
    /// allow it.
    ///
    /// ## Example
    /// ```yaml
    /// Key:
    ///   Type: AWS::KMS::Key           # default key policy: delegates to IAM
    /// Queue:
    ///   Type: AWS::SQS::Queue
    ///   Properties:
    ///     KmsMasterKeyId: !Ref Key
    /// ProducerRole:
    ///   Type: AWS::IAM::Role
    ///   Properties:
    ///     Policies:
    ///       - PolicyName: send
    ///         PolicyDocument:
    ///           Statement:
    ///             - Effect: Allow
    ///               Action: sqs:SendMessage
    ///               Resource: !GetAtt Queue.Arn
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///             - Effect: Allow
    ///               Action: [kms:GenerateDataKey, kms:Decrypt]
    ///               Resource: !GetAtt Key.Arn
    /// ```
    ///
    /// ## How to fix
    /// Allow the KMS actions on the key's ARN (never its alias) in the role's policies; in SAM,
    /// the `KMSDecryptPolicy` and `KMSEncryptPolicy` templates take the key id. When the key
    /// policy does not delegate to IAM, add a statement naming the role to the key policy
    /// instead.
    ///
    /// AWS managed keys (`alias/aws/sqs`...) are usable by every principal of the account
    /// through the service and are not reported; neither are keys given by parameter or
    /// imported, nor roles whose policies are not all visible. A role using a key outside the
    /// template whose policies lack the KMS actions is a warning (the key policy may name the
    /// role).
    ///
    /// An explicit `Deny` that takes the action away from a function's role is reported by
    /// `explicit-deny-blocks-required-action` (IAM029), and a permissions boundary or SCP that
    /// does not allow what the role's own policies grant by `boundary-or-scp-missing-allow`
    /// (IAM030), with the statement to change: not here.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
    /// - https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
    /// - https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
    /// - https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
    pub struct KmsEncryptedResourceMissingKeyPermission {
        code: "IAM013",
        name: "kms-encrypted-resource-missing-key-permission",
        severity: Error,
        summary: "principal reads/writes a resource encrypted with a customer managed key it cannot use",
    }
}

/// One role reading or writing one encrypted resource, with the evidence.
struct Use<'a> {
    role_id: String,
    /// Index into the encrypted resources.
    target: usize,
    directions: BTreeSet<Direction>,
    /// Where the use shows: the wiring or the grant, with a label.
    evidence: Vec<(Span, String)>,
    /// The function that runs as the role and the value naming the role, for wired uses.
    runs_as: Option<(&'a Value, String)>,
}

/// Why a role cannot use the key.
enum Gap {
    /// The key policy lets IAM decide, and the role's policies do not allow it.
    Identity,
    /// The key policy neither names the role nor delegates to IAM, and the role's policies do
    /// not allow it either.
    KeyPolicyAndIdentity,
    /// The key is outside the template and the role's policies do not allow it.
    IdentityExternalKey,
}

impl Rule for KmsEncryptedResourceMissingKeyPermission {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<crate::requests::Requirement<'a>> {
        self.required(ctx).into_iter().map(|r| r.req).collect()
    }

    /// The KMS actions the service calls on the key of a resource a function's role reads
    /// or writes through AWS's wiring (event source mappings, dead-letter targets,
    /// destinations). Uses shown only by grants are not requirements: the stack does not make
    /// the role call them.
    fn required<'a>(&self, ctx: &Context<'a>) -> Vec<crate::requests::Required<'a>> {
        let encrypted: Vec<Encrypted<'a>> = kms::encrypted_resources(ctx)
            .into_iter()
            .filter(|e| matches!(e.key, KeyRef::InStack(_)))
            .collect();
        if encrypted.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for u in collect_uses(ctx, &encrypted) {
            let target = &encrypted[u.target];
            let (KeyRef::InStack(key), Some((role_value, function))) = (&target.key, &u.runs_as)
            else {
                continue;
            };
            let Some(role) = ctx.role(&u.role_id) else {
                continue;
            };
            let (operations, actions) = operations_of(target, &u);
            if actions.is_empty() {
                continue;
            }
            let verbs: Vec<&str> = u.directions.iter().map(|d| d.verb()).collect();
            out.push(crate::requests::Required {
                req: crate::requests::Requirement {
                    role: u.role_id.clone(),
                    role_value,
                    actions,
                    resource: kms::key_arn(ctx, key),
                    code: Self::META.code,
                    why: format!(
                        "Lambda function {function} {} {} {} (encrypted with KMS key {})",
                        verbs.join(" and "),
                        target.service.noun(),
                        target.resource.id,
                        key.id
                    ),
                    span: u
                        .evidence
                        .first()
                        .map_or(target.key_value.span, |(s, _)| *s),
                    cite: None,
                    subject: function.clone(),
                    severity: if operations.iter().all(|o| o.documented) {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    via_service: true,
                },
                context: kms::request_keys(role, Some(target.service)),
            });
        }
        out
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let encrypted: Vec<Encrypted<'_>> = kms::encrypted_resources(ctx)
            .into_iter()
            .filter(|e| matches!(e.key, KeyRef::InStack(_) | KeyRef::External(_)))
            .collect();
        if encrypted.is_empty() {
            return;
        }
        let uses = collect_uses(ctx, &encrypted);
        for u in &uses {
            if let Some(d) = check_use(ctx, &encrypted[u.target], u) {
                out.push(d);
            }
        }
    }
}

/// Every (role, encrypted resource) pair the stack wires or grants, in a stable order.
fn collect_uses<'a>(ctx: &Context<'a>, encrypted: &[Encrypted<'a>]) -> Vec<Use<'a>> {
    let mut uses: Vec<Use<'a>> = Vec::new();
    let mut add = |role_id: &str,
                   target: usize,
                   direction: Direction,
                   evidence: (Span, String),
                   runs_as: Option<(&'a Value, String)>| {
        if let Some(u) = uses
            .iter_mut()
            .find(|u| u.role_id == role_id && u.target == target)
        {
            u.directions.insert(direction);
            if !u.evidence.iter().any(|(s, _)| *s == evidence.0) {
                u.evidence.push(evidence);
            }
            if u.runs_as.is_none() {
                u.runs_as = runs_as;
            }
            return;
        }
        uses.push(Use {
            role_id: role_id.to_string(),
            target,
            directions: BTreeSet::from([direction]),
            evidence: vec![evidence],
            runs_as,
        });
    };
    let target_of = |value: &Value| -> Option<usize> {
        let id = referenced_resource(value)?;
        encrypted.iter().position(|e| e.resource.id == id)
    };

    // Wiring AWS exercises with a function's role: event source mappings read their source,
    // dead-letter targets receive failed events.
    for mapping in ctx.stack.resources_of("AWS::Lambda::EventSourceMapping") {
        let Some(source) = mapping.property("EventSourceArn") else {
            continue;
        };
        let Some(target) = target_of(source) else {
            continue;
        };
        if !matches!(
            encrypted[target].service,
            EncryptedService::Sqs | EncryptedService::Kinesis
        ) {
            continue;
        }
        let Some(function) = mapping
            .property("FunctionName")
            .and_then(|v| crate::requests::function_named(ctx.stack, v))
        else {
            continue;
        };
        let Some(role_value) = function.property("Role") else {
            continue;
        };
        let Some(role) = closed_role(ctx, role_value) else {
            continue;
        };
        add(
            role.id(),
            target,
            Direction::Reads,
            (
                source.span,
                format!(
                    "{} polls this {} with {}'s role",
                    mapping.id,
                    encrypted[target].service.noun(),
                    function.id
                ),
            ),
            Some((role_value, function.id.clone())),
        );
    }
    // Targets a function's role sends to: its dead-letter queue or topic, its asynchronous
    // invocation destinations, the on-failure destinations of its event source mappings.
    let mut sends: Vec<(&'a Resource, &'a Value, String)> = Vec::new();
    for function in ctx.stack.resources_of("AWS::Lambda::Function") {
        if let Some(dlq) = function.property_path(&["DeadLetterConfig", "TargetArn"]) {
            sends.push((
                function,
                dlq,
                format!("{} sends failed events here", function.id),
            ));
        }
    }
    // Asynchronous invocation and event-source failure destinations, as IAM006 finds them.
    for destination in super::lambda_async_destination_permissions::required(ctx) {
        let label = if destination.via.kind == "AWS::Lambda::EventSourceMapping" {
            format!(
                "{} sends records that failed to process here",
                destination.via.id
            )
        } else if destination.which == "OnSuccess" {
            format!(
                "{} sends successful asynchronous invocations here",
                destination.function.id
            )
        } else {
            format!(
                "{} sends failed asynchronous invocations here",
                destination.function.id
            )
        };
        sends.push((destination.function, destination.target, label));
    }
    for (function, target_value, label) in sends {
        let Some(target) = target_of(target_value) else {
            continue;
        };
        if !matches!(
            encrypted[target].service,
            EncryptedService::Sqs | EncryptedService::Sns
        ) {
            continue;
        }
        let Some(role_value) = function.property("Role") else {
            continue;
        };
        let Some(role) = closed_role(ctx, role_value) else {
            continue;
        };
        add(
            role.id(),
            target,
            Direction::Writes,
            (target_value.span, label),
            Some((role_value, function.id.clone())),
        );
    }

    // Intent shown by the grants: an Allow of a data action on the resource by name.
    for resource in ctx.stack.resources_of("AWS::IAM::Role") {
        let Some(role) = ctx.role(&resource.id) else {
            continue;
        };
        if !role.is_closed() {
            continue;
        }
        for doc in &role.identity {
            for statement in statements(&doc.document) {
                if !is_allow(statement) {
                    continue;
                }
                let Some(action_element) = statement.get("Action") else {
                    continue;
                };
                let actions: Vec<&str> = items(action_element)
                    .into_iter()
                    .filter_map(Value::as_str)
                    .collect();
                let Some(resource_element) = statement.get("Resource") else {
                    continue;
                };
                let patterns: Vec<_> = items(resource_element)
                    .into_iter()
                    .flat_map(|v| ctx.resolver.strings(v))
                    .collect();
                for (index, e) in encrypted.iter().enumerate() {
                    if !patterns
                        .iter()
                        .any(|p| kms::pattern_names(ctx, p, e.resource, e.service))
                    {
                        continue;
                    }
                    for (direction, action) in granted_operations(&actions, e.service) {
                        add(
                            role.id(),
                            index,
                            direction,
                            (
                                statement.span,
                                format!(
                                    "{} is granted {action} on {} here",
                                    role.id(),
                                    e.resource.id
                                ),
                            ),
                            None,
                        );
                    }
                }
            }
        }
    }
    uses
}

/// The operations of `service` a statement's actions grant, each with the action as written.
/// A wildcard that covers both reading and writing (`sqs:*`) shows no particular intent and
/// counts for neither.
fn granted_operations<'s>(
    actions: &[&'s str],
    service: EncryptedService,
) -> Vec<(Direction, &'s str)> {
    let mut out: Vec<(Direction, &'s str)> = Vec::new();
    for pattern in actions {
        let matched: Vec<Direction> = kms::OPERATIONS
            .iter()
            .filter(|o| o.service == service)
            .filter(|o| o.actions.iter().any(|a| match_action(pattern, a)))
            .map(|o| o.direction)
            .collect();
        if let [direction] = matched.as_slice()
            && !out.iter().any(|(d, _)| d == direction)
        {
            out.push((*direction, pattern));
        }
    }
    out
}

/// The operations a use makes on an encrypted resource, and the KMS actions they need (each
/// once, in table order).
fn operations_of(
    target: &Encrypted<'_>,
    u: &Use<'_>,
) -> (Vec<&'static kms::Operation>, Vec<&'static str>) {
    let operations: Vec<&'static kms::Operation> = u
        .directions
        .iter()
        .filter_map(|d| kms::operation(target.service, *d))
        .collect();
    let mut actions: Vec<&'static str> = Vec::new();
    for op in &operations {
        for a in op.kms {
            if !actions.contains(a) {
                actions.push(a);
            }
        }
    }
    (operations, actions)
}

fn check_use(ctx: &Context<'_>, target: &Encrypted<'_>, u: &Use<'_>) -> Option<Diagnostic> {
    let role = ctx.role(&u.role_id)?;
    let (operations, needed) = operations_of(target, u);
    if needed.is_empty() {
        return None;
    }
    let documented = operations.iter().all(|o| o.documented);

    let mut missing = Vec::new();
    let mut conditional = Vec::new();
    let mut gap = None;
    let (key_name, key_yaml, key_policy_span) = match &target.key {
        KeyRef::InStack(key) => {
            let policy = kms::key_policy(ctx, key)?;
            let arn = kms::key_arn(ctx, key);
            for action in &needed {
                let use_ = kms::key_use(ctx, role, action, &arn, &policy, Some(target.service));
                match use_.decision.outcome {
                    Outcome::Allowed | Outcome::Unknown(Uncertainty::Value) => {}
                    // An explicit deny is IAM029's finding.
                    Outcome::ExplicitlyDenied => return None,
                    Outcome::Unknown(Uncertainty::Condition) => conditional.push(*action),
                    Outcome::ImplicitlyDenied => {
                        let identity = use_.identity_only.outcome;
                        match use_.key_policy_only.outcome {
                            // The key policy delegates to IAM, the role's own policies allow
                            // it and its boundary takes it away: IAM030's finding (for the
                            // requirements of wired uses it sees).
                            Outcome::Allowed
                                if u.runs_as.is_some()
                                    && crate::requests::limited(
                                        ctx,
                                        role,
                                        action,
                                        &arn,
                                        &kms::request_keys(role, Some(target.service)),
                                    ) => {}
                            Outcome::Allowed if identity.is_denied() => {
                                missing.push(*action);
                                gap.get_or_insert(Gap::Identity);
                            }
                            // With an IAM grant, only the key policy is wrong: IAM014.
                            Outcome::ImplicitlyDenied if identity.is_denied() => {
                                missing.push(*action);
                                gap = Some(Gap::KeyPolicyAndIdentity);
                            }
                            Outcome::Unknown(Uncertainty::Condition) => conditional.push(*action),
                            _ => {}
                        }
                    }
                }
            }
            (
                key.id.clone(),
                ctx.written_ref(&iamlint_core::Reference {
                    resource: key.id.to_string(),
                    attribute: iamlint_core::Attribute::Get("Arn".to_string()),
                }),
                Some(kms::key_policy_statement_span(key)),
            )
        }
        KeyRef::External(arn) => {
            for action in &needed {
                match kms::identity_key_use(ctx, role, action, arn, Some(target.service)) {
                    Outcome::ImplicitlyDenied => {
                        missing.push(*action);
                        gap = Some(Gap::IdentityExternalKey);
                    }
                    Outcome::ExplicitlyDenied => return None,
                    _ => {}
                }
            }
            (ctx.sub_text(arn), ctx.written_str(arn), None)
        }
        KeyRef::AwsManaged(_) | KeyRef::Unknown => return None,
    };
    if missing.is_empty() && conditional.is_empty() {
        return None;
    }
    let certain = !missing.is_empty()
        && documented
        && matches!(target.key, KeyRef::InStack(_))
        && !matches!(gap, Some(Gap::IdentityExternalKey));
    let lacking: Vec<&str> = missing.iter().chain(&conditional).copied().collect();
    let lacking_text = lacking.join(", ");
    let role_name = role.id();
    let who = match &u.runs_as {
        Some((_, function)) => format!("Lambda function {function} (role {role_name})"),
        None => format!("Role {role_name}"),
    };
    let verbs: Vec<&str> = u.directions.iter().map(|d| d.verb()).collect();
    let mut message = format!(
        "{who} {} {} {}, which is encrypted with the customer managed KMS key {key_name}, but ",
        verbs.join(" and "),
        target.service.noun(),
        target.resource.id,
    );
    match (&gap, missing.is_empty()) {
        (Some(Gap::KeyPolicyAndIdentity), false) => message.push_str(&format!(
            "the key policy neither allows {role_name} nor delegates to IAM, and {role_name}'s policies do not allow {lacking_text} on the key either."
        )),
        (Some(Gap::IdentityExternalKey), false) => message.push_str(&format!(
            "{role_name}'s policies do not allow {lacking_text} on the key. The key policy is outside the template; unless it names {role_name} directly, requests will fail with KMS access denied."
        )),
        (_, false) => message.push_str(&format!(
            "{role_name}'s policies do not allow {lacking_text} on the key."
        )),
        (_, true) => message.push_str(&format!(
            "{role_name} may use the key for {lacking_text} only under conditions iamlint cannot check."
        )),
    }
    if certain {
        message.push_str(" Requests will fail with KMS access denied.");
    } else if !documented && !missing.is_empty() {
        message.push_str(
            " Requests will likely fail with KMS access denied (AWS documents this requirement less firmly for this service).",
        );
    }

    let key_policy_fix = matches!(gap, Some(Gap::KeyPolicyAndIdentity)) && !missing.is_empty();
    let (primary, label, help) = match (key_policy_fix, key_policy_span) {
        (true, Some(span)) => (
            span,
            format!("the key policy names neither {role_name} nor the account root"),
            format!(
                "add this statement to the key policy of {key_name}:\n{}",
                crate::fix::key_policy_statement(
                    ctx.stack.format,
                    &ctx.written_ref(&iamlint_core::Reference {
                        resource: role_name.to_string(),
                        attribute: iamlint_core::Attribute::Get("Arn".to_string())
                    }),
                    &lacking
                )
            ),
        ),
        _ => {
            let mut help = format!(
                "add this statement to one of {role_name}'s policies:\n{}",
                ctx.fix_statement(&lacking, &key_yaml)
            );
            if role.resource.is_generated()
                && let KeyRef::InStack(key) = &target.key
            {
                // KMSEncryptPolicy grants only kms:Encrypt; its _v2 adds kms:GenerateDataKey.
                let templates: Vec<&str> = [
                    ("KMSDecryptPolicy", "kms:Decrypt"),
                    ("KMSEncryptPolicy_v2", "kms:GenerateDataKey"),
                ]
                .into_iter()
                .filter(|(_, action)| lacking.contains(action))
                .map(|(t, _)| t)
                .collect();
                if !templates.is_empty() {
                    help.push_str(&format!(
                        "\nor the SAM policy template{}:",
                        if templates.len() > 1 { "s" } else { "" }
                    ));
                    for t in templates {
                        help.push_str(&format!("\n  - {t}:\n      KeyId: !Ref {}", key.id));
                    }
                }
            }
            (
                role.fix_span(),
                format!("role {role_name} lacks {lacking_text} on {key_name}"),
                help,
            )
        }
    };
    let mut d = Diagnostic::new(
        KmsEncryptedResourceMissingKeyPermission::META.code,
        KmsEncryptedResourceMissingKeyPermission::META.name,
        if certain {
            Severity::Error
        } else {
            Severity::Warning
        },
        primary,
        message,
    )
    .with_label(label)
    .with_secondary(
        target.key_value.span,
        format!("{} is encrypted with this key", target.resource.id),
    );
    for (span, text) in &u.evidence {
        d = d.with_secondary(*span, text.clone());
    }
    if let Some((role_value, function)) = &u.runs_as {
        d = d.with_runs_as(role, role_value, function);
    }
    let mut d = d.with_help(help).with_resource(target.resource.id.clone());
    d.labels.dedup_by(|a, b| a.span == b.span);
    Some(d)
}

/// The logical id a value references: `!GetAtt X.Arn`, `!Ref X`, or a `Fn::Sub` with a single
/// reference.
fn referenced_resource(value: &Value) -> Option<&str> {
    match &value.kind {
        ValueKind::Ref(r) => Some(&r.resource),
        ValueKind::Template(parts) => {
            let mut refs = parts.iter().filter_map(|p| match p {
                Part::Ref(r) => Some(r),
                _ => None,
            });
            let first = refs.next()?;
            refs.next().is_none().then_some(first.resource.as_str())
        }
        _ => None,
    }
}
