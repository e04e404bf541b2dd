//! ARN shapes: whether a grant's `Resource` can ever name a resource of the type an action is
//! authorized against, and the five fixed parts of an ARN.
//!
//! The question "can `arn:aws:s3:::b/*` ever be a bucket?" compares two patterns: the policy's
//! (with `*`, `?`, policy variables and the stack's symbols) and the catalog's
//! (`arn:${Partition}:s3:::${BucketName}`). Both are regular languages over characters; they
//! share an ARN when the product of their automata reaches the end of both, which
//! [`could_match`] decides by a search over pairs of positions.
//!
//! Matching is lenient (SEMANTICS.md §0.4): a policy `*` matches any text, `:` and `/`
//! included; letters compare ignoring ASCII case; a symbol iamlint cannot see (a parameter, an
//! import) matches anything. What is known is used: pseudo parameters never hold `:` or `/`,
//! and the names CloudFormation gives buckets, tables, queues, topics, functions, roles and
//! streams never hold `/` (so `${Bucket.Arn}` is never an object ARN). Catalog placeholders
//! stand for one or more characters (a KMS key ARN always has a region).

use iamlint_core::{Attribute, Pseudo, Reference, Stack, SymPart, SymStr, Symbol, Value};
use iamlint_policy::catalog::{self, Action, ArnPatternPiece};

/// A set of characters one position of a pattern may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// This character (compared ignoring ASCII case).
    Ch(char),
    /// Any character, `:` and `/` only when allowed.
    Any { colon: bool, slash: bool },
}

/// One position: a character of the class, or (when `repeat`) any number of them.
#[derive(Clone, Copy, Debug)]
struct Atom {
    class: Class,
    repeat: bool,
}

const ANYTHING: Class = Class::Any {
    colon: true,
    slash: true,
};

/// What a symbol of the stack may stand for: which characters, and whether never empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shape {
    colon: bool,
    slash: bool,
    nonempty: bool,
}

const ANY_TEXT: Shape = Shape {
    colon: true,
    slash: true,
    nonempty: false,
};

/// A name or id without `:` or `/`.
const SEGMENT: Shape = Shape {
    colon: false,
    slash: false,
    nonempty: true,
};

/// Resource types whose name (the property `Ref` or the name attribute gives) never holds `/`
/// or `:`, by the naming rules of each service.
const SLASH_FREE_NAMES: &[(&str, &str)] = &[
    ("AWS::S3::Bucket", "BucketName"),
    ("AWS::DynamoDB::Table", "TableName"),
    ("AWS::SQS::Queue", "QueueName"),
    ("AWS::SNS::Topic", "TopicName"),
    ("AWS::Lambda::Function", "FunctionName"),
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
    ("AWS::Kinesis::Stream", "Name"),
    ("AWS::KMS::Key", "KeyId"),
    ("AWS::StepFunctions::StateMachine", "StateMachineName"),
    ("AWS::Events::Rule", "Name"),
];

fn shape(stack: &Stack, symbol: &Symbol) -> Shape {
    match symbol {
        Symbol::Pseudo(
            Pseudo::Partition
            | Pseudo::Region
            | Pseudo::AccountId
            | Pseudo::UrlSuffix
            | Pseudo::StackName,
        ) => SEGMENT,
        Symbol::Pseudo(_) => ANY_TEXT,
        Symbol::Attr(r) => attr_shape(stack, r),
        Symbol::Param(_) | Symbol::Opaque => ANY_TEXT,
    }
}

fn attr_shape(stack: &Stack, r: &Reference) -> Shape {
    let Attribute::Get(attribute) = &r.attribute else {
        return ANY_TEXT;
    };
    let kind = stack.resource(&r.resource).map(|res| res.kind.as_str());
    if let Some(kind) = kind
        && SLASH_FREE_NAMES
            .iter()
            .any(|(k, a)| *k == kind && a == attribute)
    {
        return SEGMENT;
    }
    match attribute.as_str() {
        // The random suffix of a secret ARN: six letters or digits.
        "Suffix" => SEGMENT,
        // A stream label is a timestamp (`2015-05-11T21:21:33.291`): it holds `:`.
        "StreamLabel" => Shape {
            colon: true,
            slash: false,
            nonempty: true,
        },
        "Path" => ANY_TEXT,
        a if generated_name(a) => Shape {
            colon: false,
            slash: true,
            nonempty: true,
        },
        _ => ANY_TEXT,
    }
}

/// Attributes that are generated names or ids (never holding `:`), as the evaluator reads
/// them: ending in `Name` or `Id`, not ARNs.
fn generated_name(attribute: &str) -> bool {
    let lower = attribute.to_ascii_lowercase();
    attribute.len() > 2
        && !attribute.contains('.')
        && !lower.ends_with("arn")
        && (lower.ends_with("name") || lower.ends_with("id"))
}

fn push_shape(atoms: &mut Vec<Atom>, shape: Shape) {
    let class = Class::Any {
        colon: shape.colon,
        slash: shape.slash,
    };
    if shape.nonempty {
        atoms.push(Atom {
            class,
            repeat: false,
        });
    }
    atoms.push(Atom {
        class,
        repeat: true,
    });
}

/// The atoms of a policy `Resource` pattern: `*` any text, `?` one character, a policy
/// variable (`${aws:username}`) any text.
fn resource_atoms(stack: &Stack, resource: &SymStr) -> Vec<Atom> {
    let mut atoms = Vec::new();
    for part in resource.parts() {
        match part {
            SymPart::Lit(text) => {
                let mut chars = text.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '*' => atoms.push(Atom {
                            class: ANYTHING,
                            repeat: true,
                        }),
                        '?' => atoms.push(Atom {
                            class: ANYTHING,
                            repeat: false,
                        }),
                        '$' if chars.peek() == Some(&'{') => {
                            for c in chars.by_ref() {
                                if c == '}' {
                                    break;
                                }
                            }
                            atoms.push(Atom {
                                class: ANYTHING,
                                repeat: true,
                            });
                        }
                        c => atoms.push(Atom {
                            class: Class::Ch(c),
                            repeat: false,
                        }),
                    }
                }
            }
            SymPart::Sym(symbol) => push_shape(&mut atoms, shape(stack, symbol)),
        }
    }
    atoms
}

/// The atoms of a catalog ARN pattern. With `optional_scope`, the region and account
/// placeholders may also be empty (resources a service owns itself, such as AWS-owned SSM
/// documents `arn:aws:ssm:us-east-1::document/AWS-RunShellScript`, have no account).
fn catalog_atoms(pattern: &str, optional_scope: bool) -> Vec<Atom> {
    let mut atoms = Vec::new();
    let mut colons = 0;
    for piece in catalog::arn_pattern_pieces(pattern) {
        match piece {
            ArnPatternPiece::Lit(text) => {
                colons += text.matches(':').count();
                atoms.extend(text.chars().map(|c| Atom {
                    class: Class::Ch(c),
                    repeat: false,
                }));
            }
            ArnPatternPiece::Hole { colon, slash } => push_shape(
                &mut atoms,
                Shape {
                    colon,
                    slash,
                    nonempty: !(optional_scope && (colons == 3 || colons == 4)),
                },
            ),
        }
    }
    atoms
}

fn intersects(a: Class, b: Class) -> bool {
    match (a, b) {
        (Class::Ch(x), Class::Ch(y)) => x.eq_ignore_ascii_case(&y),
        (Class::Ch(c), Class::Any { colon, slash })
        | (Class::Any { colon, slash }, Class::Ch(c)) => (c != ':' || colon) && (c != '/' || slash),
        // Letters are always allowed.
        (Class::Any { .. }, Class::Any { .. }) => true,
    }
}

/// Whether some string is in both languages.
fn languages_meet(a: &[Atom], b: &[Atom]) -> bool {
    let width = b.len() + 1;
    let mut seen = vec![false; (a.len() + 1) * width];
    let mut todo = vec![(0usize, 0usize)];
    while let Some((i, j)) = todo.pop() {
        let Some(slot) = seen.get_mut(i * width + j) else {
            continue;
        };
        if *slot {
            continue;
        }
        *slot = true;
        if i == a.len() && j == b.len() {
            return true;
        }
        let x = a.get(i);
        let y = b.get(j);
        if x.is_some_and(|x| x.repeat) {
            todo.push((i + 1, j));
        }
        if y.is_some_and(|y| y.repeat) {
            todo.push((i, j + 1));
        }
        if let (Some(x), Some(y)) = (x, y)
            && intersects(x.class, y.class)
        {
            let next = (
                if x.repeat { i } else { i + 1 },
                if y.repeat { j } else { j + 1 },
            );
            if next != (i, j) {
                todo.push(next);
            }
        }
    }
    false
}

/// Whether the policy resource pattern `resource` can name some resource whose ARN fits the
/// catalog ARN pattern `pattern`, under lenient matching.
pub fn could_match(stack: &Stack, resource: &SymStr, pattern: &str) -> bool {
    languages_meet(
        &resource_atoms(stack, resource),
        &catalog_atoms(pattern, false),
    )
}

/// Like [`could_match`], letting the region and account of the catalog pattern be empty.
fn could_match_loosely(stack: &Stack, resource: &SymStr, pattern: &str) -> bool {
    languages_meet(
        &resource_atoms(stack, resource),
        &catalog_atoms(pattern, true),
    )
}

/// Services whose ARNs iamlint trusts the catalog about, down to the region and account
/// always being there (S3 buckets and objects, KMS keys and aliases, log groups and streams,
/// DynamoDB tables and streams, secrets). Elsewhere the catalog's formats are read loosely.
pub const WELL_KNOWN_SERVICES: &[&str] = &["s3", "kms", "logs", "dynamodb", "secretsmanager"];

/// How a grant's resource fits an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// It can name a resource the action is authorized against (or iamlint cannot tell).
    Fits,
    /// It can never be such a resource.
    Never,
    /// The action takes only `"*"` (it has no resource types), and this is a specific ARN.
    NeedsStar,
}

/// The catalog patterns of every resource type `action` is authorized against, with the type's
/// name; `None` when a type is not in the catalog (so nothing can be told).
pub fn action_patterns(action: &Action) -> Option<Vec<(&'static str, &'static str)>> {
    let service = catalog::service(action.service)?;
    let mut out = Vec::new();
    for r in &action.resource_types {
        let ty = service.resource_type(&r.resource_type)?;
        for p in &ty.arn_patterns {
            out.push((ty.name.as_str(), p.as_str()));
        }
    }
    Some(out)
}

/// Actions the service authorization reference lists without a resource type that AWS
/// nonetheless authorizes against an ARN of their own rather than `"*"`, with that ARN (in the
/// catalog's pattern syntax).
///
/// CloudWatch Logs checks `DescribeLogGroups` against `arn:…:log-group::log-stream:`: its
/// AccessDenied names that resource
/// (<https://github.com/hashicorp/terraform-provider-aws/issues/8804>), and a grant on
/// `log-group:NAME:*` is denied (<https://github.com/maxbanton/cwh/pull/83>). Its guide grants
/// `DescribeLogGroups`, `DescribeResourcePolicies` and `PutResourcePolicy` on
/// `arn:aws:logs:REGION:ACCOUNT:log-group:*` ("Logs sent to CloudWatch Logs",
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html>),
/// which that ARN matches.
const UNSCOPED_REQUEST_ARNS: &[(&str, &str)] = &[
    (
        "logs:DescribeLogGroups",
        "arn:${Partition}:logs:${Region}:${Account}:log-group::log-stream:",
    ),
    (
        "logs:DescribeResourcePolicies",
        "arn:${Partition}:logs:${Region}:${Account}:log-group::log-stream:",
    ),
    (
        "logs:PutResourcePolicy",
        "arn:${Partition}:logs:${Region}:${Account}:log-group::log-stream:",
    ),
];

/// Actions the service authorization reference lists without a resource type that the
/// service's own guide grants on an ARN of one of its resource types, with the service and
/// that type's name in the catalog. Only grants are read this way: no request for the action
/// is ever built from this table.
///
/// Step Functions' HTTP Task: the guide grants the state machine's role
/// `states:InvokeHTTPEndpoint` on the state machine's own ARN, narrowed by
/// `states:HTTPMethod` and `states:HTTPEndpoint` ("IAM permissions to run an HTTP Task",
/// <https://docs.aws.amazon.com/step-functions/latest/dg/call-https-apis.html#connect-http-task-permissions>).
const UNLISTED_RESOURCE_TYPES: &[(&str, &str, &str)] =
    &[("states:InvokeHTTPEndpoint", "states", "statemachine")];

/// Whether `resource` can be an ARN of the resource type the service's guide grants `action`
/// on although the reference lists none (see [`UNLISTED_RESOURCE_TYPES`]).
fn fits_unlisted_type(stack: &Stack, resource: &SymStr, action: &Action) -> bool {
    let name = action.full_name();
    let Some((_, service, ty)) = UNLISTED_RESOURCE_TYPES
        .iter()
        .find(|(a, _, _)| a.eq_ignore_ascii_case(&name))
    else {
        return false;
    };
    let Some(ty) = catalog::service(service).and_then(|s| s.resource_type(ty)) else {
        return false;
    };
    ty.arn_patterns
        .iter()
        .any(|p| could_match_loosely(stack, resource, p))
}

/// The ARN AWS authorizes `action` against when it has no resource type but is not checked
/// against `"*"` (see [`UNSCOPED_REQUEST_ARNS`]), in the catalog's pattern syntax.
pub fn unscoped_request_pattern(action: &str) -> Option<&'static str> {
    UNSCOPED_REQUEST_ARNS
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(action))
        .map(|(_, p)| *p)
}

/// The resource of a request for `action` on `resource`: `resource`, except that an action
/// AWS authorizes against an ARN of its own although it has no resource type is asked about on
/// that ARN (in the stack's partition, region and account) rather than on `"*"`.
pub fn request_resource(action: &str, resource: &SymStr) -> SymStr {
    let Some(pattern) =
        unscoped_request_pattern(action).filter(|_| resource.as_literal() == Some("*"))
    else {
        return resource.clone();
    };
    let mut out = SymStr::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_lit(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let pseudo = match &rest[start + 2..start + end] {
            "Partition" => Pseudo::Partition,
            "Region" => Pseudo::Region,
            _ => Pseudo::AccountId,
        };
        out.push_sym(Symbol::Pseudo(pseudo));
        rest = &rest[start + end + 1..];
    }
    out.push_lit(rest);
    out
}

/// Whether `resource` of a grant can ever be a resource `action` applies to.
pub fn fit(stack: &Stack, resource: &SymStr, action: &Action) -> Fit {
    if resource.as_literal() == Some("*") || !arn_shaped(stack, resource) {
        // Text that is not an ARN at all is `invalid-principal-or-arn`'s to report.
        return Fit::Fits;
    }
    if action.resource_types.is_empty() {
        let own = unscoped_request_pattern(&action.full_name())
            .is_some_and(|p| could_match(stack, resource, p))
            || fits_unlisted_type(stack, resource, action);
        return if own || wildcard_only(stack, resource) {
            Fit::Fits
        } else {
            Fit::NeedsStar
        };
    }
    let Some(patterns) = action_patterns(action) else {
        return Fit::Fits;
    };
    let strict = WELL_KNOWN_SERVICES.contains(&action.service);
    if patterns.iter().any(|(_, p)| {
        if strict {
            could_match(stack, resource, p)
        } else {
            could_match_loosely(stack, resource, p)
        }
    }) {
        Fit::Fits
    } else {
        Fit::Never
    }
}

/// Whether the resource may be an ARN at all: whether some text it stands for starts with
/// `arn:`. A bare name (`!Ref Table`, `Dummy Secret Arn`) is not: `ref-is-not-an-arn` and
/// `invalid-principal-or-arn` report those.
fn arn_shaped(stack: &Stack, resource: &SymStr) -> bool {
    let mut arn_prefix: Vec<Atom> = "arn:"
        .chars()
        .map(|c| Atom {
            class: Class::Ch(c),
            repeat: false,
        })
        .collect();
    arn_prefix.push(Atom {
        class: ANYTHING,
        repeat: true,
    });
    languages_meet(&resource_atoms(stack, resource), &arn_prefix)
}

/// A resource that may well mean "everything": a value iamlint cannot see, or an ARN whose
/// resource part is only wildcards (`arn:aws:ec2:*:*:*`).
fn wildcard_only(stack: &Stack, resource: &SymStr) -> bool {
    if let [SymPart::Sym(symbol)] = resource.parts() {
        return shape(stack, symbol) == ANY_TEXT;
    }
    match split(stack, resource) {
        Some(parts) => parts.resource.parts().iter().all(|p| match p {
            SymPart::Lit(text) => text.chars().all(|c| c == '*'),
            SymPart::Sym(symbol) => shape(stack, symbol) == ANY_TEXT,
        }),
        None => !resource.literal_prefix().starts_with("arn:"),
    }
}

/// The six parts of an ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArnParts {
    pub partition: SymStr,
    pub service: SymStr,
    pub region: SymStr,
    pub account: SymStr,
    /// Everything after the fifth `:` (it may hold more `:`).
    pub resource: SymStr,
}

impl ArnParts {
    /// The service prefix when it is literal (`s3`).
    pub fn service(&self) -> Option<&str> {
        self.service.as_literal()
    }

    /// The ARN written back from its parts.
    pub fn join(&self) -> SymStr {
        let mut out = SymStr::lit("arn:");
        for part in [&self.partition, &self.service, &self.region, &self.account] {
            out.push(part.clone());
            out.push_lit(":");
        }
        out.push(self.resource.clone());
        out
    }
}

/// Splits an ARN into its parts. `None` when it is not an ARN, or when a symbol that may hold
/// `:` stands before the resource part (so where the parts end cannot be told).
pub fn split(stack: &Stack, arn: &SymStr) -> Option<ArnParts> {
    let mut segments: Vec<SymStr> = vec![SymStr::new()];
    for part in arn.parts() {
        match part {
            SymPart::Lit(text) => {
                let mut rest = text.as_str();
                while segments.len() < 6 {
                    match rest.split_once(':') {
                        Some((before, after)) => {
                            segments.last_mut()?.push_lit(before);
                            segments.push(SymStr::new());
                            rest = after;
                        }
                        None => break,
                    }
                }
                segments.last_mut()?.push_lit(rest);
            }
            SymPart::Sym(symbol) => {
                if segments.len() < 6 && shape(stack, symbol).colon {
                    return None;
                }
                segments.last_mut()?.push_sym(symbol.clone());
            }
        }
    }
    let mut it = segments.into_iter();
    if it.next()?.as_literal() != Some("arn") {
        return None;
    }
    Some(ArnParts {
        partition: it.next()?,
        service: it.next()?,
        region: it.next()?,
        account: it.next()?,
        resource: it.next()?,
    })
}

/// The DynamoDB actions authorized against a table's stream, not the table
/// (`dynamodb-stream-arn-mismatch` reports them on a table ARN).
pub const DYNAMODB_STREAM_ACTIONS: &[&str] = &[
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
];

/// Whether `resource` can name a DynamoDB table (or something under it).
pub fn could_be_table(stack: &Stack, resource: &SymStr) -> bool {
    could_match(
        stack,
        resource,
        "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}",
    )
}

/// The ARN with its region and/or account removed, when the ARN as written fits no resource
/// type of its service and the corrected one does (`arn:aws:s3:us-east-1:123456789012:b/*`
/// → `arn:aws:s3:::b/*`; `arn:aws:iam:us-east-1:…:role/r` → `arn:aws:iam::…:role/r`).
pub fn scope_corrected(stack: &Stack, resource: &SymStr) -> Option<SymStr> {
    let parts = split(stack, resource)?;
    if parts.region.parts().is_empty() && parts.account.parts().is_empty() {
        return None;
    }
    let service = catalog::service(parts.service()?)?;
    let patterns: Vec<&str> = service
        .resource_types
        .iter()
        .flat_map(|t| t.arn_patterns.iter().map(String::as_str))
        // Only the service's own ARNs: some types are another service's (`ssm` lists S3
        // buckets and EC2 instances).
        .filter(|p| p.split(':').nth(2) == Some(service.prefix.as_str()))
        // A resource part that starts with a name (`${Bucket}/*`) is not a type word
        // (`accesspoint/…`), although a symbol could spell one.
        .filter(|p| {
            let word = p.splitn(6, ':').nth(5).unwrap_or("");
            let word = word.split("${").next().unwrap_or("");
            let ours = parts.resource.literal_prefix();
            word.is_empty() || ours.contains(['*', '?']) || ours.starts_with(word)
        })
        .collect();
    if patterns.is_empty() || patterns.iter().any(|p| could_match(stack, resource, p)) {
        return None;
    }
    let region_only = ArnParts {
        region: SymStr::new(),
        ..parts.clone()
    };
    let both = ArnParts {
        region: SymStr::new(),
        account: SymStr::new(),
        ..parts
    };
    [region_only, both]
        .into_iter()
        .map(|p| p.join())
        .find(|arn| arn != resource && patterns.iter().any(|p| could_match(stack, arn, p)))
}

/// Whether `resource` of a grant fits `action`, as written or once the region or account
/// `arn-scope-mismatch` reports is corrected.
pub fn fits_or_scope(stack: &Stack, resource: &SymStr, action: &Action) -> bool {
    fit(stack, resource, action) == Fit::Fits
        || scope_corrected(stack, resource)
            .is_some_and(|fixed| fit(stack, &fixed, action) == Fit::Fits)
}

/// Whether `action-resource-type-mismatch` (IAM010) reports this grant of `action`: the user
/// wrote it, names the action literally, and none of its resources can ever be one the action
/// applies to (a log-group ARN without `:*` for `logs:PutLogEvents`, an alias ARN for
/// `kms:Decrypt`).
pub fn never_matching_grant(stack: &Stack, grant: &Grant<'_>, action: &Action) -> bool {
    let full = action.full_name();
    if !grant.own
        || grant.any_resource
        || grant.resources.is_empty()
        || !grant
            .literal_actions()
            .any(|(name, _)| name.eq_ignore_ascii_case(&full))
    {
        return false;
    }
    // A table ARN for a stream action is IAM018's finding, not IAM010's.
    if DYNAMODB_STREAM_ACTIONS
        .iter()
        .any(|a| a.eq_ignore_ascii_case(&full))
        && grant
            .resources
            .iter()
            .any(|(r, _)| could_be_table(stack, r))
    {
        return false;
    }
    grant
        .resources
        .iter()
        .all(|(r, _)| !fits_or_scope(stack, r, action))
}

/// Whether some of `grants` allow `action` (`logs:PutLogEvents`) and every one that does is a
/// grant IAM010 reports as never matching: the principal's only grants of the action are on
/// the wrong kind of ARN. A wiring rule that finds the action missing stays silent then:
/// IAM010's finding names the wrong ARN and the right one, one finding for one root cause.
pub fn only_never_matching_grants(stack: &Stack, grants: &[Grant<'_>], action: &str) -> bool {
    let Some(entry) = catalog::action(action) else {
        return false;
    };
    let mut allowing = grants.iter().filter(|g| g.allows_action(action)).peekable();
    allowing.peek().is_some() && allowing.all(|g| never_matching_grant(stack, g, entry))
}

/// One `Allow` statement of a principal's policies, read for the ARN rules.
#[derive(Debug)]
pub struct Grant<'v> {
    pub statement: &'v Value,
    /// The `Action` patterns with their values; a value that is not a literal string is `*`.
    pub actions: Vec<(String, &'v Value)>,
    /// `NotAction`: the statement allows every action except `actions`.
    pub not_action: bool,
    /// The `Resource` items with every string each may be.
    pub resources: Vec<(SymStr, &'v Value)>,
    /// `NotResource`, or a `Resource` iamlint cannot read: any resource may be meant.
    pub any_resource: bool,
    /// Whether the user wrote it (not an AWS managed policy), so a finding may point at it.
    pub own: bool,
}

impl Grant<'_> {
    /// Whether the statement allows `action` (`s3:GetObject`).
    pub fn allows_action(&self, action: &str) -> bool {
        let listed = self
            .actions
            .iter()
            .any(|(p, _)| iamlint_policy::eval::match_action(p, action));
        listed != self.not_action
    }

    /// Whether `action` is named literally (no wildcard), with the value that names it.
    pub fn literal_actions(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.actions
            .iter()
            .filter(|(p, _)| !self.not_action && !p.contains(['*', '?']))
            .map(|(p, v)| (p.as_str(), *v))
    }
}

/// The `Allow` statements of policy documents (`own` says whether the user wrote each).
pub fn allow_statements<'v>(
    resolver: &crate::resolve::Resolver<'_>,
    documents: impl IntoIterator<Item = (&'v Value, bool)>,
) -> Vec<Grant<'v>> {
    let mut out = Vec::new();
    for (document, own) in documents {
        for statement in crate::policies::statements(document) {
            if !crate::policies::is_allow(statement) {
                continue;
            }
            let (action_value, not_action) =
                match (statement.get("Action"), statement.get("NotAction")) {
                    (Some(a), _) => (a, false),
                    (None, Some(a)) => (a, true),
                    (None, None) => continue,
                };
            let actions = crate::policies::items(action_value)
                .into_iter()
                .map(|v| (v.as_str().unwrap_or("*").to_string(), v))
                .collect();
            let mut resources = Vec::new();
            let mut any_resource = statement.get("NotResource").is_some();
            match statement.get("Resource") {
                Some(value) => {
                    for item in crate::policies::items(value) {
                        let strings = resolver.strings(item);
                        if strings.is_empty() {
                            any_resource = true;
                        }
                        resources.extend(strings.into_iter().map(|s| (s, item)));
                    }
                }
                None => any_resource = true,
            }
            // SAM policy templates expand into statements whose every element carries the
            // template's span: AWS wrote them, the user cannot change them.
            let synthesized = action_value.span == statement.span;
            out.push(Grant {
                statement,
                actions,
                not_action,
                resources,
                any_resource,
                own: own && !synthesized,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamlint_core::{FileId, Format, Origin, Resource, Span, Value};

    fn stack() -> Stack {
        let mut stack = Stack::new(Format::CloudFormation, FileId(0));
        for (id, kind) in [
            ("Bucket", "AWS::S3::Bucket"),
            ("Group", "AWS::Logs::LogGroup"),
        ] {
            stack.add_resource(Resource {
                id: id.to_string(),
                kind: kind.to_string(),
                properties: Value::from_json(&serde_json::json!({}), Span::default()),
                span: Span::default(),
                condition: None,
                depends_on: Vec::new(),
                origin: Origin::Declared,
                account: iamlint_core::Account::Stack,
            });
        }
        stack
    }

    fn fits(resource: &SymStr, action: &str) -> Fit {
        let action = catalog::action(action).unwrap();
        fit(&stack(), resource, action)
    }

    fn bucket_arn(rest: &str) -> SymStr {
        let mut s = SymStr::lit("arn:");
        s.push_sym(Symbol::Pseudo(Pseudo::Partition));
        s.push_lit(":s3:::");
        s.push_sym(Symbol::Attr(Reference::get_att("Bucket", "BucketName")));
        s.push_lit(rest);
        s
    }

    #[test]
    fn bucket_and_object() {
        let lit = |s: &str| SymStr::lit(s);
        assert_eq!(fits(&lit("arn:aws:s3:::b/*"), "s3:ListBucket"), Fit::Never);
        assert_eq!(fits(&lit("arn:aws:s3:::b"), "s3:ListBucket"), Fit::Fits);
        assert_eq!(fits(&lit("arn:aws:s3:::b*"), "s3:ListBucket"), Fit::Fits);
        assert_eq!(fits(&lit("arn:aws:s3:::b"), "s3:GetObject"), Fit::Never);
        assert_eq!(fits(&lit("arn:aws:s3:::b*"), "s3:GetObject"), Fit::Fits);
        assert_eq!(fits(&lit("arn:aws:s3:::*"), "s3:GetObject"), Fit::Fits);
        assert_eq!(fits(&bucket_arn(""), "s3:GetObject"), Fit::Never);
        assert_eq!(fits(&bucket_arn("/*"), "s3:GetObject"), Fit::Fits);
        assert_eq!(fits(&bucket_arn("/*"), "s3:ListBucket"), Fit::Never);
        let mut param = SymStr::lit("arn:aws:s3:::");
        param.push_sym(Symbol::Param("BucketName".into()));
        assert_eq!(fits(&param, "s3:GetObject"), Fit::Fits);
    }

    #[test]
    fn kms_logs_and_resource_less_actions() {
        let lit = |s: &str| SymStr::lit(s);
        assert_eq!(
            fits(&lit("arn:aws:kms::123456789012:key/*"), "kms:Decrypt"),
            Fit::Never
        );
        assert_eq!(
            fits(
                &lit("arn:aws:kms:us-east-1:123456789012:alias/a"),
                "kms:Decrypt"
            ),
            Fit::Never
        );
        assert_eq!(
            fits(&lit("arn:aws:kms:*:123456789012:key/*"), "kms:Decrypt"),
            Fit::Fits
        );
        assert_eq!(
            fits(
                &lit("arn:aws:logs:us-east-1:1:log-group:/x:*"),
                "logs:CreateLogGroup"
            ),
            Fit::Fits
        );
        assert_eq!(
            fits(
                &lit("arn:aws:logs:us-east-1:1:log-group:/x:*"),
                "logs:PutLogEvents"
            ),
            Fit::Fits
        );
        assert_eq!(
            fits(
                &lit("arn:aws:logs:us-east-1:1:log-group:/x"),
                "logs:PutLogEvents"
            ),
            Fit::Never
        );
        assert_eq!(
            fits(&lit("arn:aws:ec2:*:*:*"), "ec2:DescribeNetworkInterfaces"),
            Fit::Fits
        );
        assert_eq!(
            fits(&lit("arn:aws:s3:::b"), "s3:ListAllMyBuckets"),
            Fit::NeedsStar
        );
        // CloudWatch Logs authorizes DescribeLogGroups against `log-group::log-stream:`, which
        // `log-group:*` matches and `log-group:NAME:*` does not (UNSCOPED_REQUEST_ARNS).
        assert_eq!(
            fits(
                &lit("arn:aws:logs:us-east-1:111122223333:log-group:*"),
                "logs:DescribeLogGroups"
            ),
            Fit::Fits
        );
        assert_eq!(
            fits(
                &lit("arn:aws:logs:us-east-1:111122223333:*"),
                "logs:PutResourcePolicy"
            ),
            Fit::Fits
        );
        assert_eq!(
            fits(
                &lit("arn:aws:logs:us-east-1:111122223333:log-group:app:*"),
                "logs:DescribeLogGroups"
            ),
            Fit::NeedsStar
        );
        assert_eq!(
            fits(
                &lit("arn:aws:logs:us-east-1:111122223333:log-group:*"),
                "logs:DescribeDestinations"
            ),
            Fit::NeedsStar
        );
        // The Step Functions guide grants the HTTP Task's action on the state machine
        // (UNLISTED_RESOURCE_TYPES); an ARN of another type still needs "*".
        assert_eq!(
            fits(
                &lit("arn:aws:states:us-east-1:111122223333:stateMachine:orders"),
                "states:InvokeHTTPEndpoint"
            ),
            Fit::Fits
        );
        assert_eq!(
            fits(
                &lit("arn:aws:events:us-east-1:111122223333:connection/stripe/x"),
                "states:InvokeHTTPEndpoint"
            ),
            Fit::NeedsStar
        );
        assert_eq!(
            fits(&lit("arn:aws:iam::1:role/a/b"), "iam:PassRole"),
            Fit::Fits
        );
    }

    #[test]
    fn unscoped_requests_use_the_services_own_arn() {
        let star = SymStr::lit("*");
        let r = request_resource("logs:DescribeLogGroups", &star);
        assert_eq!(r.literal_prefix(), "arn:");
        assert!(r.as_literal().is_none());
        assert_eq!(request_resource("logs:CreateLogDelivery", &star), star);
        let named = SymStr::lit("arn:aws:logs:us-east-1:1:log-group:a");
        assert_eq!(request_resource("logs:DescribeLogGroups", &named), named);
    }

    #[test]
    fn scope_corrections() {
        let s = stack();
        let lit = |t: &str| SymStr::lit(t);
        assert_eq!(
            scope_corrected(&s, &lit("arn:aws:s3:us-east-1:111122223333:b/*")),
            Some(lit("arn:aws:s3:::b/*"))
        );
        assert_eq!(
            scope_corrected(&s, &lit("arn:aws:iam:us-east-1:111122223333:role/r")),
            Some(lit("arn:aws:iam::111122223333:role/r"))
        );
        assert_eq!(scope_corrected(&s, &lit("arn:aws:s3:::b/*")), None);
        assert_eq!(
            scope_corrected(&s, &lit("arn:aws:s3:us-east-1:111122223333:accesspoint/a")),
            None
        );
        // A KMS key ARN without region is not fixed by removing more.
        assert_eq!(
            scope_corrected(&s, &lit("arn:aws:kms::111122223333:key/k")),
            None
        );
        let mut object = SymStr::lit("arn:aws:s3:us-east-1:111122223333:");
        object.push_sym(Symbol::Attr(Reference::get_att("Bucket", "BucketName")));
        object.push_lit("/*");
        assert!(scope_corrected(&s, &object).is_some());
    }

    #[test]
    fn tables_and_streams() {
        let s = stack();
        let lit = |t: &str| SymStr::lit(t);
        let table = "arn:aws:dynamodb:us-east-1:111122223333:table/t";
        assert!(could_be_table(&s, &lit(table)));
        assert!(!could_be_table(
            &s,
            &lit("arn:aws:sqs:us-east-1:111122223333:q")
        ));
        assert_eq!(fits(&lit(table), "dynamodb:GetRecords"), Fit::Never);
        assert_eq!(
            fits(&lit(&format!("{table}/stream/*")), "dynamodb:GetRecords"),
            Fit::Fits
        );
        assert_eq!(
            fits(&lit(&format!("{table}*")), "dynamodb:GetRecords"),
            Fit::Fits
        );
    }

    #[test]
    fn text_that_is_not_an_arn_is_left_alone() {
        let lit = |t: &str| SymStr::lit(t);
        assert_eq!(
            fits(&lit("Dummy Secret Arn"), "secretsmanager:GetSecretValue"),
            Fit::Fits
        );
        assert_eq!(
            fits(&lit("execute-api:/*"), "execute-api:Invoke"),
            Fit::Fits
        );
        assert_eq!(fits(&lit("arn"), "sqs:SendMessage"), Fit::Fits);
        let name = SymStr::sym(Symbol::Attr(Reference::get_att("Bucket", "BucketName")));
        assert_eq!(fits(&name, "s3:GetObject"), Fit::Fits);
    }

    #[test]
    fn splits_arns() {
        let s = stack();
        let parts = split(&s, &bucket_arn("/a:b")).unwrap();
        assert_eq!(parts.service(), Some("s3"));
        assert_eq!(parts.region, SymStr::new());
        assert_eq!(parts.resource.to_string(), "${Bucket.BucketName}/a:b");
        assert_eq!(parts.join(), bucket_arn("/a:b"));
        assert!(split(&s, &SymStr::lit("*")).is_none());
        let mut param = SymStr::lit("arn:");
        param.push_sym(Symbol::Param("P".into()));
        assert!(split(&s, &param).is_none());
    }
}
