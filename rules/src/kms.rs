//! AWS KMS as rules see it: which resources of a stack are encrypted with which key, what a
//! key reference (`!Ref Key`, `!GetAtt Key.Arn`, an alias, a literal ARN) names, the key's
//! policy (the default one when none is declared), which KMS actions each service operation
//! needs on the key, and the evaluator's decision for a role using a key.
//!
//! KMS is one of the two services whose resource policy is mandatory: a role can use a key only
//! when the key policy names the role, or names the account root (delegating to IAM) and the
//! role's IAM policies allow it (SEMANTICS.md §A.2 step 5, KMS-KP).

use crate::context::Context;
use crate::evaluate::parsed_role;
use crate::principal::Role;
use iamlint_core::{
    Attribute, Part, Pseudo, Reference, Resource, Span, Stack, SymPart, SymStr, Symbol, Unknown,
    Value, ValueKind,
};
use iamlint_policy::eval::{
    self, Decision, Layers, MissingKeys, Request, RequestContext, RequestPrincipal,
};
use iamlint_policy::policy::{LiteralResolver, Policy, PolicyKind, PrincipalKind, parse_policy};

/// A service whose resources can be encrypted with a KMS key named in the template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EncryptedService {
    Sqs,
    Sns,
    S3,
    SecretsManager,
    Kinesis,
    Logs,
    DynamoDb,
}

impl EncryptedService {
    /// The service's endpoint prefix: the `{prefix}.{region}.amazonaws.com` of `kms:ViaService`.
    pub fn prefix(self) -> &'static str {
        match self {
            EncryptedService::Sqs => "sqs",
            EncryptedService::Sns => "sns",
            EncryptedService::S3 => "s3",
            EncryptedService::SecretsManager => "secretsmanager",
            EncryptedService::Kinesis => "kinesis",
            EncryptedService::Logs => "logs",
            EncryptedService::DynamoDb => "dynamodb",
        }
    }

    /// What a resource of the service is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            EncryptedService::Sqs => "queue",
            EncryptedService::Sns => "topic",
            EncryptedService::S3 => "bucket",
            EncryptedService::SecretsManager => "secret",
            EncryptedService::Kinesis => "stream",
            EncryptedService::Logs => "log group",
            EncryptedService::DynamoDb => "table",
        }
    }

    /// The resource type of the service's encrypted resources.
    pub fn resource_type(self) -> &'static str {
        match self {
            EncryptedService::Sqs => "AWS::SQS::Queue",
            EncryptedService::Sns => "AWS::SNS::Topic",
            EncryptedService::S3 => "AWS::S3::Bucket",
            EncryptedService::SecretsManager => "AWS::SecretsManager::Secret",
            EncryptedService::Kinesis => "AWS::Kinesis::Stream",
            EncryptedService::Logs => "AWS::Logs::LogGroup",
            EncryptedService::DynamoDb => "AWS::DynamoDB::Table",
        }
    }

    fn of_type(kind: &str) -> Option<EncryptedService> {
        ALL_SERVICES
            .iter()
            .copied()
            .find(|s| s.resource_type() == kind)
    }

    /// The property holding the resource's name (for finding grants that name it).
    fn name_property(self) -> &'static str {
        match self {
            EncryptedService::Sqs => "QueueName",
            EncryptedService::Sns => "TopicName",
            EncryptedService::S3 => "BucketName",
            EncryptedService::SecretsManager | EncryptedService::Kinesis => "Name",
            EncryptedService::Logs => "LogGroupName",
            EncryptedService::DynamoDb => "TableName",
        }
    }
}

const ALL_SERVICES: &[EncryptedService] = &[
    EncryptedService::Sqs,
    EncryptedService::Sns,
    EncryptedService::S3,
    EncryptedService::SecretsManager,
    EncryptedService::Kinesis,
    EncryptedService::Logs,
    EncryptedService::DynamoDb,
];

/// Whether an operation reads or writes the encrypted data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    Reads,
    Writes,
}

impl Direction {
    pub fn verb(self) -> &'static str {
        match self {
            Direction::Reads => "reads",
            Direction::Writes => "writes to",
        }
    }
}

/// A data-plane operation on an encrypted resource and the KMS actions the caller needs on the
/// resource's key for it (SEMANTICS.md §B IAM013, "Required KMS actions").
#[derive(Debug)]
pub struct Operation {
    pub service: EncryptedService,
    pub direction: Direction,
    /// The IAM actions that authorize the operation (a grant of one of them is intent to call
    /// it).
    pub actions: &'static [&'static str],
    /// The KMS actions the service calls on the key with the caller's credentials.
    pub kms: &'static [&'static str],
    /// Whether the requirement is documented by AWS (tags [V]/[P]); an undocumented one ([U])
    /// never makes an error.
    pub documented: bool,
}

/// Which KMS actions each operation needs on a customer managed key. CloudWatch Logs (the
/// service principal uses the key, not the caller: IAM016) and DynamoDB (the service uses
/// grants on the key; callers need no KMS permission, SEMANTICS.md §F) have no entry.
pub const OPERATIONS: &[Operation] = &[
    // "The call to kms:Decrypt is to verify the integrity of the new data key" (SQS developer
    // guide, key management).
    Operation {
        service: EncryptedService::Sqs,
        direction: Direction::Writes,
        actions: &["sqs:SendMessage"],
        kms: &["kms:GenerateDataKey", "kms:Decrypt"],
        documented: true,
    },
    Operation {
        service: EncryptedService::Sqs,
        direction: Direction::Reads,
        actions: &["sqs:ReceiveMessage"],
        kms: &["kms:Decrypt"],
        documented: true,
    },
    Operation {
        service: EncryptedService::Sns,
        direction: Direction::Writes,
        actions: &["sns:Publish"],
        kms: &["kms:GenerateDataKey", "kms:Decrypt"],
        documented: true,
    },
    Operation {
        service: EncryptedService::S3,
        direction: Direction::Writes,
        actions: &["s3:PutObject"],
        kms: &["kms:GenerateDataKey"],
        documented: true,
    },
    Operation {
        service: EncryptedService::S3,
        direction: Direction::Reads,
        actions: &["s3:GetObject", "s3:GetObjectVersion"],
        kms: &["kms:Decrypt"],
        documented: true,
    },
    Operation {
        service: EncryptedService::SecretsManager,
        direction: Direction::Reads,
        actions: &["secretsmanager:GetSecretValue"],
        kms: &["kms:Decrypt"],
        documented: true,
    },
    Operation {
        service: EncryptedService::Kinesis,
        direction: Direction::Writes,
        actions: &["kinesis:PutRecord", "kinesis:PutRecords"],
        kms: &["kms:GenerateDataKey"],
        documented: false,
    },
    Operation {
        service: EncryptedService::Kinesis,
        direction: Direction::Reads,
        actions: &["kinesis:GetRecords"],
        kms: &["kms:Decrypt"],
        documented: false,
    },
];

/// The operation of `service` in `direction`, when it needs KMS permissions of the caller.
pub fn operation(service: EncryptedService, direction: Direction) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|o| o.service == service && o.direction == direction)
}

/// What a key reference names.
#[derive(Clone, Debug)]
pub enum KeyRef<'a> {
    /// A customer managed key of the stack (`AWS::KMS::Key`).
    InStack(&'a Resource),
    /// A customer managed key outside the stack, by ARN: its key policy cannot be seen.
    External(SymStr),
    /// An AWS managed key (`alias/aws/sqs`...).
    AwsManaged(String),
    /// Not known (a parameter, an import, an alias of another stack...).
    Unknown,
}

/// A resource encrypted with a key, as its template says.
#[derive(Clone, Debug)]
pub struct Encrypted<'a> {
    pub resource: &'a Resource,
    pub service: EncryptedService,
    pub key: KeyRef<'a>,
    /// The value naming the key (`KmsMasterKeyId: ...`): where a finding points to show it.
    pub key_value: &'a Value,
}

/// Every resource of the stack encrypted with a KMS key named in its properties, in resource
/// order. Resources without a key id that use the service's AWS managed key by default (S3
/// `aws:kms` without `KMSMasterKeyID`) are listed with [`KeyRef::AwsManaged`] when the key is
/// named by a property; resources with no KMS encryption are left out.
pub fn encrypted_resources<'a>(ctx: &Context<'a>) -> Vec<Encrypted<'a>> {
    let mut out = Vec::new();
    for resource in ctx.stack.resources() {
        let Some(service) = EncryptedService::of_type(&resource.kind) else {
            continue;
        };
        let key_value = match service {
            EncryptedService::Sqs | EncryptedService::Sns => resource.property("KmsMasterKeyId"),
            EncryptedService::SecretsManager | EncryptedService::Logs => {
                resource.property("KmsKeyId")
            }
            EncryptedService::Kinesis => resource
                .property("StreamEncryption")
                .filter(|e| e.get("EncryptionType").and_then(Value::as_str) == Some("KMS"))
                .and_then(|e| e.get("KeyId")),
            EncryptedService::DynamoDb => resource
                .property("SSESpecification")
                .filter(|e| {
                    e.get("SSEEnabled").and_then(Value::as_bool) == Some(true)
                        && e.get("SSEType").and_then(Value::as_str) != Some("AES256")
                })
                .and_then(|e| e.get("KMSMasterKeyId")),
            EncryptedService::S3 => s3_key(resource),
        };
        let Some(key_value) = key_value else {
            continue;
        };
        if key_value.is_no_value() {
            continue;
        }
        out.push(Encrypted {
            resource,
            service,
            key: resolve_key(ctx, key_value),
            key_value,
        });
    }
    out
}

/// The `KMSMasterKeyID` of a bucket's default encryption, when the only rule is SSE-KMS.
fn s3_key(bucket: &Resource) -> Option<&Value> {
    let rules = bucket
        .property_path(&["BucketEncryption", "ServerSideEncryptionConfiguration"])?
        .as_list()?;
    let [rule] = rules else {
        return None;
    };
    let default = rule.get("ServerSideEncryptionByDefault")?;
    match default.get("SSEAlgorithm").and_then(Value::as_str)? {
        "aws:kms" | "aws:kms:dsse" => default.get("KMSMasterKeyID"),
        _ => None,
    }
}

/// What a key reference names: the key, alias, key id or ARN of a key of the stack, an alias
/// of the stack resolved through `AWS::KMS::Alias.TargetKeyId`, an AWS managed alias, or a
/// literal key ARN or id of a key outside the stack.
pub fn resolve_key<'a>(ctx: &Context<'a>, value: &Value) -> KeyRef<'a> {
    resolve_key_depth(ctx, value, 0)
}

fn resolve_key_depth<'a>(ctx: &Context<'a>, value: &Value, depth: usize) -> KeyRef<'a> {
    if depth > 4 {
        return KeyRef::Unknown;
    }
    let stack: &'a Stack = ctx.stack;
    if let ValueKind::Ref(r) = &value.kind {
        let Some(resource) = stack.resource(&r.resource) else {
            return KeyRef::Unknown;
        };
        return match resource.kind.as_str() {
            "AWS::KMS::Key" => KeyRef::InStack(resource),
            "AWS::KMS::Alias" => match resource.property("TargetKeyId") {
                Some(target) => resolve_key_depth(ctx, target, depth + 1),
                None => KeyRef::Unknown,
            },
            _ => KeyRef::Unknown,
        };
    }
    let Some(text) = ctx.resolver.string(value) else {
        return KeyRef::Unknown;
    };
    // `!Sub arn:…:key/${Key}`, `!Sub ${Key.Arn}` and the like name a key of the stack.
    for part in text.parts() {
        if let SymPart::Sym(Symbol::Attr(r)) = part
            && let Some(resource) = stack.resource(&r.resource)
            && resource.kind == "AWS::KMS::Key"
        {
            return KeyRef::InStack(resource);
        }
    }
    let Some(literal) = pseudo_literal(&text) else {
        return KeyRef::Unknown;
    };
    if let Some(at) = literal.find("alias/") {
        let alias = &literal[at..];
        if alias.starts_with("alias/aws/") {
            return KeyRef::AwsManaged(alias.to_string());
        }
        // An alias of the stack, by name.
        for a in stack.resources_of("AWS::KMS::Alias") {
            if a.property("AliasName").and_then(Value::as_str) == Some(alias) {
                return match a.property("TargetKeyId") {
                    Some(target) => resolve_key_depth(ctx, target, depth + 1),
                    None => KeyRef::Unknown,
                };
            }
        }
        return KeyRef::Unknown;
    }
    if literal.starts_with("arn:") && literal.contains(":key/") {
        return KeyRef::External(text);
    }
    if is_key_id(&literal) {
        // A bare key id names a key of the stack's own account and region.
        let mut arn = SymStr::lit("arn:");
        arn.push_sym(Symbol::Pseudo(Pseudo::Partition));
        arn.push_lit(":kms:");
        arn.push_sym(Symbol::Pseudo(Pseudo::Region));
        arn.push_lit(":");
        arn.push_sym(Symbol::Pseudo(Pseudo::AccountId));
        arn.push_lit(format!(":key/{literal}"));
        return KeyRef::External(arn);
    }
    KeyRef::Unknown
}

/// The text of a string made of literals and pseudo parameters (written `${AWS::Region}`).
fn pseudo_literal(s: &SymStr) -> Option<String> {
    let mut out = String::new();
    for part in s.parts() {
        match part {
            SymPart::Lit(l) => out.push_str(l),
            SymPart::Sym(Symbol::Pseudo(p)) => out.push_str(&format!("${{{}}}", p.name())),
            SymPart::Sym(_) => return None,
        }
    }
    Some(out)
}

/// A KMS key id: a UUID, or `mrk-` and 32 hex digits for multi-Region keys.
fn is_key_id(s: &str) -> bool {
    let hex = |t: &str| t.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(rest) = s.strip_prefix("mrk-") {
        return rest.len() == 32 && hex(rest);
    }
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]) && groups.iter().all(|g| hex(g))
}

/// The ARN of a key of the stack: `arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${Key.KeyId}`.
pub fn key_arn(ctx: &Context<'_>, key: &Resource) -> SymStr {
    ctx.resolver
        .reference(&Reference::get_att(key.id.clone(), "Arn"), 0)
}

/// The symbol of a key's id, which every reference to the key carries.
pub fn key_id_symbol(key: &Resource) -> Symbol {
    Symbol::Attr(Reference::get_att(key.id.clone(), "KeyId"))
}

/// A key's policy parsed for the evaluator: the declared `KeyPolicy`, or the default key
/// policy when none is declared (its one statement lets the account root use the key with
/// `kms:*`, delegating to IAM). `None` when the declared policy cannot be read completely (a
/// JSON string, an undecidable `Fn::If` around it, statements iamlint had to leave out).
pub fn key_policy(ctx: &Context<'_>, key: &Resource) -> Option<Policy> {
    let declared = key.property("KeyPolicy");
    let document = match declared {
        None => default_key_policy(key.span),
        Some(doc) => {
            let alternatives = doc.alternatives();
            let [one] = alternatives.as_slice() else {
                return None;
            };
            if one.as_map().is_none() || one.get("Statement").is_none() {
                return None;
            }
            (*one).clone()
        }
    };
    let (policy, problems) = parse_policy(&document, PolicyKind::Resource, &ctx.resolver);
    if !problems.is_empty() {
        return None;
    }
    Some(policy)
}

/// Where a statement goes in a key's policy: the `Statement` key, else `KeyPolicy`, else the
/// key's logical id.
pub fn key_policy_statement_span(key: &Resource) -> Span {
    let Some((policy_key, policy)) = key
        .properties
        .as_map()
        .and_then(|m| m.get_entry("KeyPolicy"))
    else {
        return key.span;
    };
    policy
        .as_map()
        .and_then(|m| m.get_entry("Statement"))
        .map_or(policy_key.span, |(k, _)| k.span)
}

/// Whether the key's policy is the declared one (`false`: the default key policy applies).
pub fn has_declared_policy(key: &Resource) -> bool {
    key.property("KeyPolicy").is_some()
}

/// The default key policy (KMS-KP "Default key policy"; the CloudFormation schema's default
/// for `KeyPolicy`).
fn default_key_policy(span: Span) -> Value {
    let s = |t: &str| Value::string(t, span);
    let mut statement = iamlint_core::Map::default();
    let key = |name: &str| iamlint_core::Key {
        name: name.to_string(),
        span,
    };
    let mut principal = iamlint_core::Map::default();
    principal.insert(key("AWS"), root_principal_value(span));
    statement.insert(key("Sid"), s("Enable IAM User Permissions"));
    statement.insert(key("Effect"), s("Allow"));
    statement.insert(
        key("Principal"),
        Value::new(ValueKind::Map(principal), span),
    );
    statement.insert(key("Action"), s("kms:*"));
    statement.insert(key("Resource"), s("*"));
    let mut doc = iamlint_core::Map::default();
    doc.insert(key("Version"), s("2012-10-17"));
    doc.insert(
        key("Statement"),
        Value::new(
            ValueKind::List(vec![Value::new(ValueKind::Map(statement), span)]),
            span,
        ),
    );
    Value::new(ValueKind::Map(doc), span)
}

/// `arn:${AWS::Partition}:iam::${AWS::AccountId}:root` as a template value.
fn root_principal_value(span: Span) -> Value {
    Value::new(
        ValueKind::Template(vec![
            Part::Lit("arn:".into()),
            Part::Unknown(Unknown::Pseudo(Pseudo::Partition)),
            Part::Lit(":iam::".into()),
            Part::Unknown(Unknown::Pseudo(Pseudo::AccountId)),
            Part::Lit(":root".into()),
        ]),
        span,
    )
}

/// The account root of the stack's account as a principal ARN.
pub fn root_arn() -> SymStr {
    let mut s = SymStr::lit("arn:");
    s.push_sym(Symbol::Pseudo(Pseudo::Partition));
    s.push_lit(":iam::");
    s.push_sym(Symbol::Pseudo(Pseudo::AccountId));
    s.push_lit(":root");
    s
}

/// An identity policy allowing everything: stands in for the role's own policies when asking
/// whether the key policy lets the role use the key at all.
static ALLOW_ALL: std::sync::LazyLock<Policy> = std::sync::LazyLock::new(allow_all);

fn allow_all() -> Policy {
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    });
    parse_policy(
        &Value::from_json(&doc, Span::default()),
        PolicyKind::Identity,
        &LiteralResolver,
    )
    .0
}

/// The request context of a role calling KMS, through `via` when a service calls KMS on the
/// role's behalf (SEMANTICS.md §A.9).
fn kms_context(role: &Role<'_>, via: Option<EncryptedService>) -> RequestContext {
    let account = || SymStr::sym(Symbol::Pseudo(Pseudo::AccountId));
    let mut context = RequestContext::new(MissingKeys::Unknown)
        .with("kms:CallerAccount", [account()])
        .with("aws:PrincipalAccount", [account()])
        .with("aws:PrincipalArn", [role.arn.clone()]);
    if let Some(service) = via {
        let mut endpoint = SymStr::lit(format!("{}.", service.prefix()));
        endpoint.push_sym(Symbol::Pseudo(Pseudo::Region));
        endpoint.push_lit(".amazonaws.com");
        context.insert("kms:ViaService", [endpoint]);
    }
    context
}

/// The condition keys a KMS request made for a role carries beyond the role's own context
/// (for [`crate::requests::Required`]): the caller's account and, when a service uses the key
/// on the role's behalf, `kms:ViaService`.
pub fn request_keys(
    role: &Role<'_>,
    via: Option<EncryptedService>,
) -> Vec<(&'static str, Vec<SymStr>)> {
    let context = kms_context(role, via);
    ["kms:CallerAccount", "kms:ViaService"]
        .into_iter()
        .filter_map(|key| match context.lookup(key) {
            eval::CtxValue::Known(values) => Some((key, values.to_vec())),
            _ => None,
        })
        .collect()
}

/// How a role fares with one KMS action on a key.
#[derive(Debug)]
pub struct KeyUse {
    /// The decision with every layer: the role's policies, its boundary and the key policy.
    pub decision: Decision,
    /// The decision with the key policy alone (the role's policies replaced by an allow of
    /// everything): denied when the key policy neither names the role nor delegates to IAM.
    pub key_policy_only: Decision,
    /// The decision with the role's policies and boundary alone (as if the key policy
    /// delegated to IAM).
    pub identity_only: Decision,
}

/// Decides `action` on a key of the stack for `role`, with the key policy as the mandatory
/// resource policy. `key_policy` comes from [`key_policy`].
pub fn key_use(
    ctx: &Context<'_>,
    role: &Role<'_>,
    action: &str,
    key_arn: &SymStr,
    key_policy: &Policy,
    via: Option<EncryptedService>,
) -> KeyUse {
    let parsed = parsed_role(ctx, role);
    let request = Request {
        principal: RequestPrincipal::Arn(role.arn.clone()),
        action: action.to_string(),
        resource: key_arn.clone(),
        resource_account: Some(SymStr::sym(Symbol::Pseudo(Pseudo::AccountId))),
        context: kms_context(role, via),
    };
    let unknown = || Decision {
        outcome: eval::Outcome::Unknown(eval::Uncertainty::Value),
        denied_by: Vec::new(),
        trace: Vec::new(),
    };
    let with_role = |resource: Option<&Policy>| match &parsed.boundary {
        Some(boundaries) => eval::evaluate(
            &request,
            &Layers {
                identity: parsed.identity.iter().collect(),
                boundaries: boundaries.iter().collect(),
                resource,
                resource_must_allow: resource.is_some(),
                ..Layers::default()
            },
        ),
        // A boundary iamlint cannot see may deny anything.
        None => unknown(),
    };
    let key_policy = for_role(key_policy, role);
    let key_policy = &*key_policy;
    let decision = with_role(Some(key_policy));
    let identity_only = with_role(None);
    let everything = &*ALLOW_ALL;
    let key_policy_only = eval::evaluate(
        &request,
        &Layers {
            identity: vec![everything],
            resource: Some(key_policy),
            resource_must_allow: true,
            ..Layers::default()
        },
    );
    KeyUse {
        decision,
        key_policy_only,
        identity_only,
    }
}

/// The key policy as it applies to `role`: when CloudFormation generates the role's name
/// (`{stack}-{logical id}-{random}`), a principal naming a role by a literal name
/// (`arn:…:role/Admin`) cannot be this role, which the evaluator, seeing a symbol for the name,
/// would otherwise leave undecided. Such entries are dropped from `Principal` lists.
fn for_role<'p>(policy: &'p Policy, role: &Role<'_>) -> std::borrow::Cow<'p, Policy> {
    let generated = Symbol::Attr(Reference::get_att(role.id(), "RoleName"));
    let name_is_generated =
        matches!(role.arn.parts().last(), Some(SymPart::Sym(s)) if *s == generated);
    let literal_role = |value: &SymStr| matches!(value.parts().last(), Some(SymPart::Lit(l)) if l.contains(":role/"));
    let affected = name_is_generated
        && policy.statements.iter().any(|st| {
            st.principals.as_ref().is_some_and(|set| {
                !set.negated
                    && set
                        .principals
                        .iter()
                        .any(|p| p.kind == PrincipalKind::Aws && literal_role(&p.value))
            })
        });
    if !affected {
        return std::borrow::Cow::Borrowed(policy);
    }
    let mut owned = policy.clone();
    for statement in &mut owned.statements {
        if let Some(set) = &mut statement.principals
            && !set.negated
        {
            set.principals
                .retain(|p| !(p.kind == PrincipalKind::Aws && literal_role(&p.value)));
        }
    }
    std::borrow::Cow::Owned(owned)
}

/// Decides `action` on a key outside the stack with the role's own policies only (the key
/// policy is not visible).
pub fn identity_key_use(
    ctx: &Context<'_>,
    role: &Role<'_>,
    action: &str,
    key_arn: &SymStr,
    via: Option<EncryptedService>,
) -> eval::Outcome {
    let parsed = parsed_role(ctx, role);
    let Some(boundaries) = &parsed.boundary else {
        return eval::Outcome::Unknown(eval::Uncertainty::Value);
    };
    let request = Request {
        principal: RequestPrincipal::Arn(role.arn.clone()),
        action: action.to_string(),
        resource: key_arn.clone(),
        resource_account: Some(SymStr::sym(Symbol::Pseudo(Pseudo::AccountId))),
        context: kms_context(role, via),
    };
    eval::evaluate(
        &request,
        &Layers {
            identity: parsed.identity.iter().collect(),
            boundaries: boundaries.iter().collect(),
            ..Layers::default()
        },
    )
    .outcome
}

/// The symbolic name of a resource: its name property's value, or the symbol of the name
/// CloudFormation generates (as [`crate::resolve::Resolver`] writes it in ARNs).
fn name_token(ctx: &Context<'_>, resource: &Resource, service: EncryptedService) -> Option<SymStr> {
    let property = service.name_property();
    match resource.property(property) {
        None => Some(SymStr::sym(Symbol::Attr(Reference::get_att(
            resource.id.clone(),
            property,
        )))),
        Some(v) => ctx.resolver.string(v),
    }
}

/// The ARN of an encrypted resource (for S3, of the bucket).
pub fn resource_arn(ctx: &Context<'_>, resource: &Resource, service: EncryptedService) -> SymStr {
    let attribute = match service {
        EncryptedService::Sns | EncryptedService::SecretsManager => Attribute::Ref,
        _ => Attribute::Get("Arn".into()),
    };
    ctx.resolver.reference(
        &Reference {
            resource: resource.id.clone(),
            attribute,
        },
        0,
    )
}

/// Whether a `Resource` pattern of a grant names this encrypted resource itself (not just any
/// resource, as `*` or `arn:aws:sqs:*:*:*` do): it may match the resource (or, for S3, an
/// object in it) and it carries the resource's name.
pub fn pattern_names(
    ctx: &Context<'_>,
    pattern: &SymStr,
    resource: &Resource,
    service: EncryptedService,
) -> bool {
    let Some(name) = name_token(ctx, resource, service) else {
        return false;
    };
    if !contains(pattern, &name) {
        return false;
    }
    let arn = resource_arn(ctx, resource, service);
    if eval::match_arn(pattern, &arn) != eval::Tri::No {
        return true;
    }
    if service == EncryptedService::S3 {
        let mut object = arn;
        object.push_lit("/");
        object.push_sym(Symbol::Opaque);
        return eval::match_arn(pattern, &object) != eval::Tri::No;
    }
    false
}

/// Whether `needle` occurs in `haystack`: a symbol as one of its parts, a literal in the text
/// of one of its literal parts.
fn contains(haystack: &SymStr, needle: &SymStr) -> bool {
    match needle.parts() {
        [SymPart::Sym(s)] => haystack
            .parts()
            .iter()
            .any(|p| matches!(p, SymPart::Sym(h) if h == s)),
        [SymPart::Lit(l)] if !l.is_empty() => haystack
            .parts()
            .iter()
            .any(|p| matches!(p, SymPart::Lit(h) if h.contains(l.as_str()))),
        // A name built from several parts: compare whole texts.
        _ => haystack.to_string().contains(&needle.to_string()),
    }
}

/// Whether a resource pattern names this key of the stack (carries its id symbol), rather than
/// every key (`*`, `arn:aws:kms:*:*:key/*`).
pub fn pattern_names_key(pattern: &SymStr, key: &Resource) -> bool {
    let symbol = key_id_symbol(key);
    pattern
        .parts()
        .iter()
        .any(|p| matches!(p, SymPart::Sym(s) if *s == symbol))
}

/// The KMS actions a principal uses a key with (for key-policy checks of IAM grants).
pub const KEY_USE_ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:DescribeKey",
    "kms:CreateGrant",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids() {
        assert!(is_key_id("1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(is_key_id("mrk-1234abcd12ab34cd56ef1234567890ab"));
        assert!(!is_key_id("alias/app"));
        assert!(!is_key_id("1234abcd"));
    }

    fn stack_with(resources: &[(&str, &str, serde_json::Value)]) -> Stack {
        use iamlint_core::{FileId, Format, Origin};
        let mut stack = Stack::new(Format::CloudFormation, FileId(0));
        for (id, kind, props) in resources {
            stack.add_resource(Resource {
                id: (*id).to_string(),
                kind: (*kind).to_string(),
                properties: Value::from_json(props, Span::default()),
                span: Span::default(),
                condition: None,
                depends_on: Vec::new(),
                origin: Origin::Declared,
                account: iamlint_core::Account::Stack,
            });
        }
        stack
    }

    fn reference(r: Reference) -> Value {
        Value::new(ValueKind::Ref(r), Span::default())
    }

    fn resolved(ctx: &Context<'_>, value: &Value) -> String {
        match resolve_key(ctx, value) {
            KeyRef::InStack(r) => format!("stack:{}", r.id),
            KeyRef::External(arn) => format!("external:{arn}"),
            KeyRef::AwsManaged(alias) => format!("managed:{alias}"),
            KeyRef::Unknown => "unknown".to_string(),
        }
    }

    #[test]
    fn key_references_resolve() {
        let mut stack = stack_with(&[
            ("Key", "AWS::KMS::Key", serde_json::json!({})),
            (
                "Alias",
                "AWS::KMS::Alias",
                serde_json::json!({"AliasName": "alias/app"}),
            ),
        ]);
        if let Some(alias) = stack.resource_mut("Alias")
            && let Some(map) = alias.properties.as_map_mut()
        {
            map.insert(
                iamlint_core::Key {
                    name: "TargetKeyId".into(),
                    span: Span::default(),
                },
                reference(Reference::to_ref("Key")),
            );
        }
        let ctx = Context::new(&stack);
        let s = |t: &str| Value::string(t, Span::default());
        assert_eq!(
            resolved(&ctx, &reference(Reference::to_ref("Key"))),
            "stack:Key"
        );
        assert_eq!(
            resolved(&ctx, &reference(Reference::get_att("Key", "Arn"))),
            "stack:Key"
        );
        assert_eq!(
            resolved(&ctx, &reference(Reference::to_ref("Alias"))),
            "stack:Key"
        );
        assert_eq!(resolved(&ctx, &s("alias/app")), "stack:Key");
        assert_eq!(resolved(&ctx, &s("alias/other")), "unknown");
        assert_eq!(resolved(&ctx, &s("alias/aws/sqs")), "managed:alias/aws/sqs");
        assert_eq!(
            resolved(&ctx, &s("arn:aws:kms:us-east-1:111122223333:alias/aws/sns")),
            "managed:alias/aws/sns"
        );
        assert_eq!(
            resolved(
                &ctx,
                &s("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
            ),
            "external:arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        );
        assert!(
            resolved(&ctx, &s("1234abcd-12ab-34cd-56ef-1234567890ab")).starts_with("external:arn:")
        );
        let parameter = Value::new(
            ValueKind::Unknown(Unknown::Parameter {
                name: "KeyArn".into(),
                default: None,
            }),
            Span::default(),
        );
        assert_eq!(resolved(&ctx, &parameter), "unknown");
    }

    #[test]
    fn default_key_policy_delegates_to_root() {
        let stack = stack_with(&[("Key", "AWS::KMS::Key", serde_json::json!({}))]);
        let ctx = Context::new(&stack);
        let Some(key) = stack.resource("Key") else {
            panic!("no key");
        };
        let Some(policy) = key_policy(&ctx, key) else {
            panic!("no default policy");
        };
        let principals = &policy.statements[0]
            .principals
            .as_ref()
            .map(|p| p.principals[0].value.clone());
        assert_eq!(principals.as_ref(), Some(&root_arn()));
    }

    #[test]
    fn operations_are_unique_per_service_and_direction() {
        for (i, a) in OPERATIONS.iter().enumerate() {
            for b in &OPERATIONS[i + 1..] {
                assert!(!(a.service == b.service && a.direction == b.direction));
            }
        }
    }
}
