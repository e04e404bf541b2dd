//! `iamlint why '<AccessDenied message>' [PATH…]`: reads the error AWS printed, finds the
//! principal in the templates, asks the evaluator about the same request with every policy
//! layer iamlint knows, and says which layer denies, the statement responsible, and the
//! statement to add, in the template's own syntax.
//!
//! The message formats are the ones AWS documents in the IAM User Guide, "Troubleshoot access
//! denied error messages"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html>), S3's
//! `AccessDenied` XML (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html>)
//! and Lambda's deploy-time checks of an execution role
//! (<https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html>).

use crate::run;
use clap::{Args, ValueEnum};
use iamlint_core::{Pseudo, SourceMap, Span, Stack, SymStr, Symbol, Value};
use iamlint_policy::eval::{Layer, Outcome, Tri, Uncertainty};
use iamlint_policy::policy::{Effect, Policy, PolicyKind, parse_policy};
use iamlint_rules::Context;
use iamlint_rules::evaluate::{self, Scope};
use serde_json::{Value as Json, json};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The error message, as AWS printed it (quote it; line breaks are fine).
    #[arg(value_name = "MESSAGE")]
    pub message: String,

    /// Files or directories holding the templates the principal comes from.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    #[arg(long, value_enum, default_value_t = WhyFormat::Human)]
    pub format: WhyFormat,

    /// A service control policy file: one organisation level, root first when repeated (as
    /// for `iamlint check --scp`).
    #[arg(long = "scp", value_name = "FILE")]
    pub scps: Vec<PathBuf>,

    /// A resource control policy file: one organisation level, root first when repeated.
    #[arg(long = "rcp", value_name = "FILE")]
    pub rcps: Vec<PathBuf>,

    /// A template parameter value, KEY=VALUE (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub params: Vec<(String, String)>,

    /// A Terraform input variable, NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub vars: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhyFormat {
    Human,
    Json,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}

/// The policy type an error message names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyType {
    Identity,
    Resource,
    Boundary,
    Scp,
    Rcp,
    Session,
    VpcEndpoint,
}

impl PolicyType {
    /// The phrases AWS writes, longest first.
    const PHRASES: &'static [(&'static str, PolicyType)] = &[
        ("identity-based policy", PolicyType::Identity),
        ("resource-based policy", PolicyType::Resource),
        ("permissions boundary", PolicyType::Boundary),
        ("service control policy", PolicyType::Scp),
        ("resource control policy", PolicyType::Rcp),
        ("session policy", PolicyType::Session),
        ("VPC endpoint policy", PolicyType::VpcEndpoint),
    ];

    fn parse(text: &str) -> Option<PolicyType> {
        let text = text.trim_start_matches("a ").trim_start_matches("an ");
        Self::PHRASES
            .iter()
            .find(|(phrase, _)| text.starts_with(phrase))
            .map(|(_, t)| *t)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity",
            PolicyType::Resource => "resource",
            PolicyType::Boundary => "boundary",
            PolicyType::Scp => "scp",
            PolicyType::Rcp => "rcp",
            PolicyType::Session => "session",
            PolicyType::VpcEndpoint => "endpoint",
        }
    }

    /// "an identity-based policy", "a permissions boundary".
    fn with_article(self) -> String {
        let phrase = self.phrase();
        let article = if phrase.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {phrase}")
    }

    fn phrase(self) -> &'static str {
        Self::PHRASES
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("policy", |(p, _)| p)
    }
}

/// Why AWS says it denied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// "because no identity-based policy allows the … action".
    NoAllow(PolicyType),
    /// "with an explicit deny in a service control policy[: arn]"; `None` in the older form
    /// that does not say where.
    ExplicitDeny(Option<PolicyType>),
    /// The message gives no reason (older messages, S3's "Access Denied").
    Unspecified,
}

/// What kind of principal made the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` (a role's session: a Lambda function's
    /// session is named after the function).
    AssumedRole {
        account: String,
        role: String,
        session: String,
    },
    /// `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    Role {
        account: String,
        path: String,
        name: String,
    },
    /// `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    User { account: String, name: String },
    /// Something else (`root`, a federated user, `anonymous`).
    Other(String),
}

impl Principal {
    fn parse(text: &str) -> Principal {
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        if let [arn, _partition, service, _region, account, resource] = parts.as_slice()
            && *arn == "arn"
        {
            let account = (*account).to_string();
            let segments: Vec<&str> = resource.split('/').collect();
            match (*service, segments.as_slice()) {
                ("sts", ["assumed-role", role, session @ ..]) => {
                    return Principal::AssumedRole {
                        account,
                        role: (*role).to_string(),
                        session: session.join("/"),
                    };
                }
                ("iam", ["role", path @ .., name]) => {
                    return Principal::Role {
                        account,
                        path: if path.is_empty() {
                            "/".to_string()
                        } else {
                            format!("/{}/", path.join("/"))
                        },
                        name: (*name).to_string(),
                    };
                }
                ("iam", ["user", .., name]) => {
                    return Principal::User {
                        account,
                        name: (*name).to_string(),
                    };
                }
                _ => {}
            }
        }
        Principal::Other(text.to_string())
    }

    fn account(&self) -> Option<&str> {
        match self {
            Principal::AssumedRole { account, .. }
            | Principal::Role { account, .. }
            | Principal::User { account, .. } => Some(account),
            Principal::Other(_) => None,
        }
    }

    fn role_name(&self) -> Option<&str> {
        match self {
            Principal::AssumedRole { role, .. } => Some(role),
            Principal::Role { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// Which kind of message it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `User: … is not authorized to perform: …`.
    Iam,
    /// S3's `<Error><Code>AccessDenied</Code>…` without the principal.
    S3,
    /// Lambda's check of the execution role when a function or event source is created.
    LambdaExecutionRole,
}

/// What an `AccessDenied` message says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub source: Source,
    /// The principal ARN as written.
    pub principal_arn: Option<String>,
    pub principal: Option<Principal>,
    /// `service:Action`.
    pub action: Option<String>,
    pub resource: Option<String>,
    pub reason: Reason,
    /// The policy the newer messages name (`…: arn:aws:iam::123456789012:policy/Deny`).
    pub policy_arn: Option<String>,
}

/// Reads an `AccessDenied` message. `None` when it is none of the documented forms.
pub fn parse(message: &str) -> Option<Denial> {
    let text = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(inner) = xml_element(&text, "Message") {
        let code = xml_element(&text, "Code").unwrap_or_default();
        if inner.contains("is not authorized to perform") {
            return parse_iam(&inner);
        }
        if code == "AccessDenied" || inner.eq_ignore_ascii_case("Access Denied") {
            return Some(Denial {
                source: Source::S3,
                principal_arn: None,
                principal: None,
                action: None,
                resource: None,
                reason: Reason::Unspecified,
                policy_arn: None,
            });
        }
    }
    if let Some(denial) = parse_iam(&text) {
        return Some(denial);
    }
    parse_lambda(&text)
}

fn xml_element(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&close)?;
    Some(
        text[start..end]
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

fn parse_iam(text: &str) -> Option<Denial> {
    const MARK: &str = " is not authorized to perform: ";
    let at = text.find(MARK)?;
    let before = &text[..at];
    let principal_arn = before
        .rfind("User: ")
        .map(|i| before[i + "User: ".len()..].trim().to_string())
        .filter(|p| !p.is_empty());
    let mut rest = &text[at + MARK.len()..];
    let action_end = rest.find(' ').unwrap_or(rest.len());
    let action = rest[..action_end].trim_end_matches(['.', ',']).to_string();
    rest = rest[action_end..].trim_start();
    let mut resource = None;
    if let Some(after) = rest.strip_prefix("on resource: ") {
        let end = after.find(' ').unwrap_or(after.len());
        resource = Some(
            after[..end]
                .trim_end_matches(['.', ','])
                .trim_matches('"')
                .to_string(),
        );
        rest = after[end..].trim_start();
    }
    // The newer messages end with a link to the authorization details.
    if let Some(i) = rest.find(". Go to ") {
        rest = &rest[..i];
    }
    let rest = rest.trim_end_matches('.');
    let mut policy_arn = None;
    let reason = if let Some(kind) = rest.strip_prefix("because no ") {
        PolicyType::parse(kind).map_or(Reason::Unspecified, Reason::NoAllow)
    } else if let Some(kind) = rest.strip_prefix("with an explicit deny") {
        let kind = kind.trim_start().trim_start_matches("in ").trim();
        if let Some((_, arn)) = kind.split_once(": ") {
            policy_arn = Some(arn.trim().to_string());
        }
        Reason::ExplicitDeny(PolicyType::parse(kind))
    } else {
        Reason::Unspecified
    };
    Some(Denial {
        source: Source::Iam,
        principal: principal_arn.as_deref().map(Principal::parse),
        principal_arn,
        action: Some(action).filter(|a| a.contains(':')),
        resource,
        reason,
        policy_arn,
    })
}

/// "The provided execution role does not have permissions to call CreateNetworkInterface on
/// EC2" (and the same for SQS, Kinesis, DynamoDB streams and Kafka sources).
fn parse_lambda(text: &str) -> Option<Denial> {
    const MARK: &str = "execution role does not have permissions to call ";
    let at = text.find(MARK)?;
    let rest = &text[at + MARK.len()..];
    let mut words = rest.split_whitespace();
    let operation = words.next()?.trim_end_matches(['.', ',']);
    let service = match (words.next(), words.next()) {
        (Some("on"), Some(service)) => service.trim_end_matches(['.', ',', ';']),
        _ => "",
    };
    let prefix = service.to_ascii_lowercase();
    let action = format!("{prefix}:{operation}");
    Some(Denial {
        source: Source::LambdaExecutionRole,
        principal_arn: None,
        principal: None,
        action: iamlint_policy::catalog::action(&action)
            .is_some()
            .then_some(action),
        resource: None,
        reason: Reason::NoAllow(PolicyType::Identity),
        policy_arn: None,
    })
}

/// A principal of the templates that the message names.
struct Match<'s> {
    stack: &'s Stack,
    /// The role or user's resource id.
    id: String,
    /// How it was recognised.
    how: String,
}

/// Finds the roles (or users) the principal of `denial` names in `stacks`.
fn find_principals<'s>(denial: &Denial, stacks: &'s [Stack]) -> Vec<Match<'s>> {
    let mut out = Vec::new();
    let Some(principal) = &denial.principal else {
        return out;
    };
    for stack in stacks {
        let (kind, name, session) = match principal {
            Principal::AssumedRole { role, session, .. } => {
                ("AWS::IAM::Role", role.as_str(), Some(session.as_str()))
            }
            Principal::Role { name, .. } => ("AWS::IAM::Role", name.as_str(), None),
            Principal::User { name, .. } => ("AWS::IAM::User", name.as_str(), None),
            Principal::Other(_) => continue,
        };
        let name_key = if kind == "AWS::IAM::User" {
            "UserName"
        } else {
            "RoleName"
        };
        let mut found = false;
        for resource in stack.resources_of(kind) {
            let declared = resource.property(name_key).and_then(Value::as_str);
            let how = if declared == Some(name) {
                Some(if stack.format.is_cloudformation() {
                    format!("its {name_key} is {name}")
                } else {
                    format!("its name is {name}")
                })
            } else if resource.id == name || stack.display_name(&resource.id) == name {
                Some(format!("it is {name}"))
            } else if declared.is_none() && generated_name_of(name, &resource.id) {
                Some(format!(
                    "{name} is the name CloudFormation generates for {}",
                    resource.id
                ))
            } else {
                None
            };
            if let Some(how) = how {
                found = true;
                out.push(Match {
                    stack,
                    id: resource.id.clone(),
                    how,
                });
            }
        }
        // A Lambda function's session is named after the function: its role, whatever the
        // role is called.
        if !found && let Some(session) = session {
            for function in stack.resources_of("AWS::Lambda::Function") {
                let function_name = function.property("FunctionName").and_then(Value::as_str);
                let named = function_name == Some(session)
                    || function.id == session
                    || (function_name.is_none() && generated_name_of(session, &function.id));
                if !named {
                    continue;
                }
                if let Some(role) = function.property("Role")
                    && let iamlint_rules::principal::RoleRef::InStack(role) =
                        iamlint_rules::principal::role_ref(stack, role)
                {
                    out.push(Match {
                        stack,
                        id: role.id.clone(),
                        how: format!(
                            "the session {session} is function {}, which runs as it",
                            stack.display_name(&function.id)
                        ),
                    });
                }
            }
        }
    }
    out
}

/// Whether `name` is what CloudFormation names a resource of logical id `id` that has no name
/// of its own: `{stack name}-{logical id, maybe cut short}-{random suffix}`.
fn generated_name_of(name: &str, id: &str) -> bool {
    let Some((head, suffix)) = name.rsplit_once('-') else {
        return false;
    };
    if suffix.is_empty() || !suffix.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let Some((_, logical)) = head.rsplit_once('-') else {
        return false;
    };
    !logical.is_empty() && id.starts_with(logical) && logical.len() >= id.len().min(8)
}

/// The resource of the message as the evaluator sees a resource of the stack's own account:
/// its partition, region and account written as the stack's pseudo parameters when the
/// account is the principal's, so `!GetAtt Table.Arn` and the ARN AWS printed are one value.
fn request_resource(resource: &str, account: Option<&str>) -> SymStr {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let [arn, partition, service, region, res_account, rest] = parts.as_slice() else {
        return SymStr::lit(resource);
    };
    if *arn != "arn"
        || (account.is_some() && !res_account.is_empty() && account != Some(res_account))
    {
        return SymStr::lit(resource);
    }
    let mut s = SymStr::lit("arn:");
    if !partition.is_empty() {
        s.push_sym(Symbol::Pseudo(Pseudo::Partition));
    }
    s.push_lit(format!(":{service}:"));
    if !region.is_empty() {
        s.push_sym(Symbol::Pseudo(Pseudo::Region));
    }
    s.push_lit(":");
    if !res_account.is_empty() {
        s.push_sym(Symbol::Pseudo(Pseudo::AccountId));
    }
    s.push_lit(format!(":{rest}"));
    s
}

/// One principal of the templates, and what the evaluator says about the request.
struct Verdict {
    who: String,
    how: String,
    at: String,
    outcome: Outcome,
    /// The layers that deny, in the evaluator's words.
    denied_by: Vec<Layer>,
    /// The statements responsible: (layer, policy, statement, file:line).
    statements: Vec<(Layer, String, String, String)>,
    /// Policies iamlint cannot see.
    open: Vec<String>,
    /// What to do.
    fix: Option<String>,
    fix_at: Option<String>,
}

fn location(sources: &SourceMap, span: Span) -> String {
    match sources.get(span.file) {
        Some(file) => {
            let lc = file.line_col(span.start);
            format!("{}:{}:{}", file.path().display(), lc.line, lc.column)
        }
        None => "?".to_string(),
    }
}

/// The request's resource as AWS printed it, then as a resource of the stack's own account
/// (see [`request_resource`]): the first that gives a definite answer is used.
fn verdict(
    loaded: &run::Loaded,
    m: &Match<'_>,
    action: &str,
    resources: &[SymStr],
) -> Option<Verdict> {
    let mut last = None;
    // CloudFormation names the resource with its pseudo parameters (the symbolic form,
    // first); Terraform with the ARN as AWS printed it (last).
    let written = if m.stack.format.is_cloudformation() {
        resources.first()?
    } else {
        resources.last()?
    };
    for resource in resources {
        let v = verdict_on(loaded, m, action, resource, written, resources)?;
        if !matches!(v.outcome, Outcome::Unknown(_)) {
            return Some(v);
        }
        last = Some(v);
    }
    last
}

fn verdict_on(
    loaded: &run::Loaded,
    m: &Match<'_>,
    action: &str,
    resource: &SymStr,
    written: &SymStr,
    forms: &[SymStr],
) -> Option<Verdict> {
    let sources = &loaded.sources;
    let resource_of_match = m.stack.resource(&m.id)?;
    if resource_of_match.kind == "AWS::IAM::User" {
        // A user's permissions also come from its groups and the policies attached to it
        // elsewhere, which iamlint does not gather: say where it is, decide nothing.
        return Some(Verdict {
            who: format!("user {}", m.stack.display_name(&m.id)),
            how: m.how.clone(),
            at: location(sources, resource_of_match.span),
            outcome: Outcome::Unknown(Uncertainty::Value),
            denied_by: Vec::new(),
            statements: Vec::new(),
            open: vec![
                "a user's groups and the policies attached to it: iamlint why evaluates roles"
                    .to_string(),
            ],
            fix: None,
            fix_at: None,
        });
    }
    let ctx = Context::with_options(m.stack, &loaded.org);
    let holders = ctx.policy_holders();
    let holder = holders.iter().find(|h| h.role.id() == m.id)?;
    let role = holder.role;
    let who = format!(
        "{} {}",
        if role.resource.kind == "AWS::IAM::User" {
            "user"
        } else {
            "role"
        },
        m.stack.display_name(role.id())
    );
    let at = location(sources, role.resource.span);
    let open: Vec<String> = role
        .open
        .iter()
        .map(|o| format!("{} ({})", o.message, location(sources, o.span)))
        .collect();
    let target = target_policy(&ctx, forms);
    let resource_policy = target.as_ref().map(|(p, _)| p);
    let Some(decision) =
        evaluate::decide(&ctx, role, action, resource, Scope::ALL, resource_policy)
    else {
        return Some(Verdict {
            who,
            how: m.how.clone(),
            at,
            outcome: Outcome::Unknown(Uncertainty::Value),
            denied_by: vec![Layer::Boundary],
            statements: Vec::new(),
            open: vec!["its permissions boundary is not in these templates".to_string()],
            fix: None,
            fix_at: None,
        });
    };
    let parsed = evaluate::parsed_role(&ctx, role);
    let mut statements = Vec::new();
    for entry in &decision.trace {
        // The Deny statements that deny it, or that may, when the answer is undecided.
        let relevant = entry.effect == Effect::Deny
            && match decision.outcome {
                Outcome::ExplicitlyDenied => entry.matched == Tri::Yes,
                Outcome::Unknown(_) => entry.matched == Tri::Maybe,
                _ => false,
            };
        if !relevant {
            continue;
        }
        let located = evaluate::locate(
            &ctx,
            role,
            &parsed,
            target.as_ref().map(|(p, n)| (p, n.as_str())),
            entry,
        );
        let statement = entry.sid.as_deref().map_or_else(
            || "a Deny statement".to_string(),
            |s| format!("statement `{s}`"),
        );
        statements.push((
            entry.layer,
            located.policy,
            statement,
            location(sources, entry.span),
        ));
    }
    // The fix names the resource the way the template would: in its own account and region.
    let written = ctx.written_str(written);
    let (fix, fix_at) = match decision.outcome {
        Outcome::ImplicitlyDenied if decision.denied_by.contains(&Layer::Identity) => (
            Some(format!(
                "add this statement to one of the policies of {who}:\n{}",
                ctx.fix_statement(&[action], &written)
            )),
            Some(location(sources, role.fix_span())),
        ),
        Outcome::ImplicitlyDenied if decision.denied_by.contains(&Layer::Boundary) => {
            match &role.boundary {
                Some(Some(doc)) => (
                    Some(format!(
                        "add this statement to the permissions boundary {}:\n{}",
                        doc.name,
                        ctx.fix_statement(&[action], &written)
                    )),
                    Some(location(sources, doc.span)),
                ),
                _ => (None, None),
            }
        }
        Outcome::ExplicitlyDenied => (
            Some(
                "narrow the Deny statement above (its Action, Resource or Condition), or move the request out of its scope: no Allow can override it"
                    .to_string(),
            ),
            statements.first().map(|s| s.3.clone()),
        ),
        _ => (None, None),
    };
    // A synthesised template is not where the change is made: the construct path says where
    // in the app's code it is.
    let fix = fix.map(|fix| {
        let path = m.stack.display_name(role.id());
        if path == role.id() {
            fix
        } else {
            let construct = path.strip_suffix("/Resource").unwrap_or(path);
            format!(
                "{fix}\n(this template is synthesised: make the change in the app, on construct {construct})"
            )
        }
    });
    Some(Verdict {
        who,
        how: m.how.clone(),
        at,
        outcome: decision.outcome,
        denied_by: decision.denied_by.clone(),
        statements,
        open,
        fix,
        fix_at,
    })
}

/// The resource policy of the stack for the request's resource: a bucket, queue or topic of
/// the stack whose ARN the resource is (an object of the bucket), with its policy parsed and
/// named for messages. `None` when there is none, or when which one applies is undecidable.
fn target_policy(ctx: &Context<'_>, resources: &[SymStr]) -> Option<(Policy, String)> {
    use iamlint_core::{Reference, ValueKind};
    use iamlint_rules::resource_grant::{ResourcePolicy, resource_policy_of};
    let targets = ["AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::SNS::Topic"];
    for target in ctx
        .stack
        .resources()
        .iter()
        .filter(|r| targets.contains(&r.kind.as_str()))
    {
        let attribute = if target.kind == "AWS::SNS::Topic" {
            "TopicArn"
        } else {
            "Arn"
        };
        let reference = Reference::get_att(target.id.clone(), attribute);
        let arn = ctx.resolver.reference(&reference, 0);
        let mut patterns = vec![arn.clone()];
        if target.kind == "AWS::S3::Bucket" {
            let mut objects = arn;
            objects.push_lit("/*");
            patterns.push(objects);
        }
        if !patterns.iter().any(|p| {
            resources
                .iter()
                .any(|r| iamlint_policy::eval::match_arn(p, r) == Tri::Yes)
        }) {
            continue;
        }
        let value = Value::new(ValueKind::Ref(reference), target.span);
        return match resource_policy_of(ctx, &value) {
            ResourcePolicy::Known(doc) => Some((
                parse_policy(doc, PolicyKind::Resource, &ctx.resolver).0,
                format!(
                    "the resource policy of {}",
                    ctx.stack.display_name(&target.id)
                ),
            )),
            ResourcePolicy::None | ResourcePolicy::Undecidable => None,
        };
    }
    None
}

/// What the message alone says, for a principal outside the templates (or a layer iamlint
/// cannot see).
fn explain_reason(denial: &Denial) -> String {
    let action = denial.action.as_deref().unwrap_or("the action");
    match (&denial.source, &denial.reason) {
        (Source::S3, _) => "S3 answered with its bare \"Access Denied\": it does not say which policy denied. The usual causes are a bucket policy Deny, no identity policy allowing the action, the object's KMS key (kms:Decrypt for reads, kms:GenerateDataKey for writes), Block Public Access, or an object owned by another account.".to_string(),
        (Source::LambdaExecutionRole, _) => format!(
            "Lambda checks the execution role when the function or event source mapping is created: the role's policies must allow {action} at that moment (a policy attached in a separate resource may not be attached yet)."
        ),
        (_, Reason::NoAllow(PolicyType::Identity)) => format!(
            "No identity-based policy of the principal allows {action} on this resource: add an Allow for it to one of the principal's policies."
        ),
        (_, Reason::NoAllow(PolicyType::Boundary)) => format!(
            "The principal's permissions boundary does not allow {action}: the identity policy may allow it, but the boundary caps what it grants. Add {action} to the boundary."
        ),
        (_, Reason::NoAllow(PolicyType::Scp)) => format!(
            "A service control policy of the account's organisation does not allow {action}: only the organisation's management account can change it (check it with --scp)."
        ),
        (_, Reason::NoAllow(PolicyType::Session)) => format!(
            "The session policy passed when the role was assumed does not allow {action}: change the policy the caller passes to AssumeRole/GetFederationToken."
        ),
        (_, Reason::NoAllow(PolicyType::Resource)) => format!(
            "The resource-based policy does not allow {action} for this principal (a resource whose policy must allow, such as a KMS key or a role trust policy, or a cross-account request)."
        ),
        (_, Reason::NoAllow(kind)) => format!("No {} allows {action}.", kind.phrase()),
        (_, Reason::ExplicitDeny(Some(kind))) => format!(
            "A Deny statement in {} matches {action}: explicit denies win over every Allow, so only changing that Deny (or the request) helps{}.",
            kind.with_article(),
            denial.policy_arn.as_deref().map(|a| format!(" (AWS names it: {a})")).unwrap_or_default()
        ),
        (_, Reason::ExplicitDeny(None)) => format!(
            "A Deny statement matches {action} in one of the policies that apply (identity, resource, boundary, SCP/RCP or session): only changing that Deny helps."
        ),
        (_, Reason::Unspecified) => format!(
            "The message does not say which policy denied {action}: no policy allows it, or a Deny matches it."
        ),
    }
}

/// What `why` found: its text in the format asked for.
pub fn run(args: &WhyArgs) -> Result<String, String> {
    let Some(denial) = parse(&args.message) else {
        return Err("the message is not an AccessDenied message iamlint can read: expected `User: ARN is not authorized to perform: ACTION on resource: ARN …`, S3's `<Error><Code>AccessDenied</Code>…`, or Lambda's `The provided execution role does not have permissions to call …`".to_string());
    };
    let org = crate::config::read_org_files(&crate::config::Settings {
        scps: args.scps.iter().map(|p| vec![p.clone()]).collect(),
        rcps: args.rcps.iter().map(|p| vec![p.clone()]).collect(),
        ..Default::default()
    })?;
    let loaded = run::load_stacks(
        &run::RunOptions {
            paths: args.paths.clone(),
            parameters: args.params.iter().cloned().collect(),
            terraform: iamlint_terraform::Options {
                vars: args.vars.iter().cloned().collect(),
                ..iamlint_terraform::Options::default()
            },
            rules: iamlint_rules::Selection::default(),
            ..run::RunOptions::default()
        },
        &org,
    );
    let account = denial.principal.as_ref().and_then(Principal::account);
    let verdicts: Vec<Verdict> = match (&denial.action, denial.source) {
        (Some(action), Source::Iam) => {
            let resources = match denial.resource.as_deref() {
                // The stack's own ARNs are written with its pseudo parameters: the
                // same-account form first, then the ARN exactly as printed.
                Some(r) if r.starts_with("arn:") => {
                    vec![request_resource(r, account), SymStr::lit(r)]
                }
                _ => vec![SymStr::lit("*")],
            };
            find_principals(&denial, &loaded.stacks)
                .iter()
                .filter_map(|m| verdict(&loaded, m, action, &resources))
                .collect()
        }
        _ => Vec::new(),
    };
    // Lambda's deploy-time messages name no role: the rules that model those checks say
    // which functions would fail.
    let lambda_findings = if denial.source == Source::LambdaExecutionRole {
        lambda_findings(&denial, &loaded)
    } else {
        Vec::new()
    };
    Ok(match args.format {
        WhyFormat::Json => {
            serde_json::to_string_pretty(&to_json(&denial, &verdicts, &lambda_findings))
                .unwrap_or_default()
                + "\n"
        }
        WhyFormat::Human => render_human(&denial, &verdicts, &lambda_findings),
    })
}

/// Findings of the rules that model Lambda's checks of an execution role (IAM001 for the VPC
/// network interfaces, IAM004 for event sources), with their places and fixes.
fn lambda_findings(denial: &Denial, loaded: &run::Loaded) -> Vec<(String, String, String)> {
    let code = match denial.action.as_deref().and_then(|a| a.split_once(':')) {
        Some(("ec2", _)) => "IAM001",
        Some(_) => "IAM004",
        None => return Vec::new(),
    };
    let Ok(selection) = iamlint_rules::Selection::new(&[code.to_string()], &[]) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for stack in &loaded.stacks {
        for d in iamlint_rules::check_stack(stack, &selection) {
            if d.code == code {
                out.push((
                    location(&loaded.sources, d.span),
                    d.message,
                    d.help.unwrap_or_default(),
                ));
            }
        }
    }
    out
}

fn outcome_text(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allowed => "allowed",
        Outcome::ImplicitlyDenied => "denied: no policy allows it",
        Outcome::ExplicitlyDenied => "denied: a Deny statement matches it",
        Outcome::Unknown(Uncertainty::Condition) => {
            "undecided: it depends on conditions iamlint cannot evaluate offline"
        }
        Outcome::Unknown(Uncertainty::Value) => {
            "undecided: it depends on values iamlint cannot resolve"
        }
    }
}

fn layer_text(layer: Layer) -> &'static str {
    match layer {
        Layer::Identity => "the identity policies",
        Layer::Boundary => "the permissions boundary",
        Layer::Scp => "the service control policies",
        Layer::Rcp => "the resource control policies",
        Layer::Resource => "the resource-based policy",
        Layer::Session => "the session policy",
        Layer::Endpoint => "the VPC endpoint policy",
    }
}

fn render_human(
    denial: &Denial,
    verdicts: &[Verdict],
    lambda: &[(String, String, String)],
) -> String {
    let mut out = String::new();
    let unknown = "(not in the message)";
    out.push_str(&format!(
        "principal: {}\naction:    {}\nresource:  {}\nreason:    {}\n\n",
        denial.principal_arn.as_deref().unwrap_or(unknown),
        denial.action.as_deref().unwrap_or(unknown),
        denial.resource.as_deref().unwrap_or(unknown),
        reason_text(&denial.reason),
    ));
    if denial.source == Source::LambdaExecutionRole {
        if lambda.is_empty() {
            out.push_str("No function in these templates fails this check.\n");
        }
        for (at, message, help) in lambda {
            out.push_str(&format!("{at}: {message}\n"));
            if !help.is_empty() {
                out.push_str(&format!("  fix: {}\n", indent(help, "       ")));
            }
        }
        out.push('\n');
    } else if verdicts.is_empty() {
        let name = denial
            .principal
            .as_ref()
            .and_then(|p| match p {
                Principal::User { name, .. } => Some(name.as_str()),
                _ => p.role_name(),
            })
            .unwrap_or("the principal");
        if denial.principal.is_some() {
            out.push_str(&format!("{name} is not found in these templates.\n\n"));
        }
    }
    for v in verdicts {
        out.push_str(&format!("{} ({}), {}\n", v.who, v.at, v.how));
        out.push_str(&format!("  iamlint: {}\n", outcome_text(v.outcome)));
        if v.outcome.is_denied() && !v.denied_by.is_empty() {
            let layers: Vec<&str> = v.denied_by.iter().map(|l| layer_text(*l)).collect();
            out.push_str(&format!("  denied by: {}\n", layers.join(", ")));
        }
        for (_, policy, statement, at) in &v.statements {
            out.push_str(&format!("  {statement} of {policy} at {at}\n"));
        }
        for o in &v.open {
            out.push_str(&format!("  not visible: {o}\n"));
        }
        if let Some(fix) = &v.fix {
            match &v.fix_at {
                Some(at) => out.push_str(&format!("  fix ({at}): {}\n", indent(fix, "    "))),
                None => out.push_str(&format!("  fix: {}\n", indent(fix, "    "))),
            }
        }
        if v.outcome == Outcome::Allowed {
            out.push_str("  The templates allow this request, so what denied it is outside them: a policy attached elsewhere, a permissions boundary or SCP set by the account, a session policy, or a resource policy. The deployed role may also differ from these templates.\n");
        }
        out.push('\n');
    }
    out.push_str(&format!("From the message: {}\n", explain_reason(denial)));
    out
}

fn indent(text: &str, pad: &str) -> String {
    text.replace('\n', &format!("\n{pad}"))
}

fn reason_text(reason: &Reason) -> String {
    match reason {
        Reason::NoAllow(kind) => format!("no {} allows it", kind.phrase()),
        Reason::ExplicitDeny(Some(kind)) => format!("explicit deny in {}", kind.with_article()),
        Reason::ExplicitDeny(None) => "explicit deny".to_string(),
        Reason::Unspecified => "not given".to_string(),
    }
}

fn to_json(denial: &Denial, verdicts: &[Verdict], lambda: &[(String, String, String)]) -> Json {
    let (reason_kind, policy_type) = match &denial.reason {
        Reason::NoAllow(t) => ("no_allow", Some(t.as_str())),
        Reason::ExplicitDeny(t) => ("explicit_deny", t.map(PolicyType::as_str)),
        Reason::Unspecified => ("unspecified", None),
    };
    json!({
        "version": 1,
        "message": {
            "source": match denial.source {
                Source::Iam => "iam",
                Source::S3 => "s3",
                Source::LambdaExecutionRole => "lambda_execution_role",
            },
            "principal": denial.principal_arn,
            "role": denial.principal.as_ref().and_then(Principal::role_name),
            "action": denial.action,
            "resource": denial.resource,
            "reason": reason_kind,
            "policy_type": policy_type,
            "policy_arn": denial.policy_arn,
        },
        "found": !verdicts.is_empty() || !lambda.is_empty(),
        "principals": verdicts.iter().map(|v| json!({
            "principal": v.who,
            "location": v.at,
            "matched_because": v.how,
            "outcome": v.outcome.as_str(),
            "denied_by": v.denied_by.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            "statements": v.statements.iter().map(|(layer, policy, statement, at)| json!({
                "layer": layer.as_str(),
                "policy": policy,
                "statement": statement,
                "location": at,
            })).collect::<Vec<_>>(),
            "not_visible": v.open,
            "fix": v.fix,
            "fix_location": v.fix_at,
        })).collect::<Vec<_>>(),
        "findings": lambda.iter().map(|(at, message, help)| json!({
            "location": at,
            "message": message,
            "help": help,
        })).collect::<Vec<_>>(),
        "explanation": explain_reason(denial),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The message forms of the IAM User Guide, "Troubleshoot access denied error messages":
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html

    #[test]
    fn no_identity_based_policy_allows() {
        let d = parse("User: arn:aws:sts::123456789012:assumed-role/orders-api/session-1 is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/orders because no identity-based policy allows the dynamodb:PutItem action").unwrap();
        assert_eq!(d.source, Source::Iam);
        assert_eq!(
            d.principal,
            Some(Principal::AssumedRole {
                account: "123456789012".into(),
                role: "orders-api".into(),
                session: "session-1".into()
            })
        );
        assert_eq!(d.action.as_deref(), Some("dynamodb:PutItem"));
        assert_eq!(
            d.resource.as_deref(),
            Some("arn:aws:dynamodb:us-east-1:123456789012:table/orders")
        );
        assert_eq!(d.reason, Reason::NoAllow(PolicyType::Identity));
    }

    #[test]
    fn every_documented_policy_type() {
        let base = "User: arn:aws:iam::777788889999:user/MaryMajor is not authorized to perform: codecommit:ListRepositories";
        for (tail, reason) in [
            (
                "because no identity-based policy allows the codecommit:ListRepositories action",
                Reason::NoAllow(PolicyType::Identity),
            ),
            (
                "because no resource-based policy allows the codecommit:ListRepositories action",
                Reason::NoAllow(PolicyType::Resource),
            ),
            (
                "because no permissions boundary allows the codecommit:ListRepositories action",
                Reason::NoAllow(PolicyType::Boundary),
            ),
            (
                "because no service control policy allows the codecommit:ListRepositories action",
                Reason::NoAllow(PolicyType::Scp),
            ),
            (
                "because no session policy allows the codecommit:ListRepositories action",
                Reason::NoAllow(PolicyType::Session),
            ),
            (
                "because no VPC endpoint policy allows the codecommit:ListRepositories action",
                Reason::NoAllow(PolicyType::VpcEndpoint),
            ),
            (
                "with an explicit deny in an identity-based policy",
                Reason::ExplicitDeny(Some(PolicyType::Identity)),
            ),
            (
                "with an explicit deny in a resource-based policy",
                Reason::ExplicitDeny(Some(PolicyType::Resource)),
            ),
            (
                "with an explicit deny in a permissions boundary",
                Reason::ExplicitDeny(Some(PolicyType::Boundary)),
            ),
            (
                "with an explicit deny in a service control policy",
                Reason::ExplicitDeny(Some(PolicyType::Scp)),
            ),
            (
                "with an explicit deny in a resource control policy",
                Reason::ExplicitDeny(Some(PolicyType::Rcp)),
            ),
            (
                "with an explicit deny in a session policy",
                Reason::ExplicitDeny(Some(PolicyType::Session)),
            ),
            (
                "with an explicit deny in a VPC endpoint policy",
                Reason::ExplicitDeny(Some(PolicyType::VpcEndpoint)),
            ),
            ("with an explicit deny", Reason::ExplicitDeny(None)),
        ] {
            let d = parse(&format!("{base} {tail}")).unwrap();
            assert_eq!(d.reason, reason, "{tail}");
            assert_eq!(d.action.as_deref(), Some("codecommit:ListRepositories"));
            assert_eq!(d.resource, None);
            assert_eq!(
                d.principal,
                Some(Principal::User {
                    account: "777788889999".into(),
                    name: "MaryMajor".into()
                })
            );
        }
    }

    #[test]
    fn the_older_form_without_a_reason() {
        let d = parse("An error occurred (AccessDenied) when calling the GetObject operation: User: arn:aws:iam::123456789012:user/mateojackson is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::my-bucket/report.csv").unwrap();
        assert_eq!(d.reason, Reason::Unspecified);
        assert_eq!(d.action.as_deref(), Some("s3:GetObject"));
        assert_eq!(
            d.resource.as_deref(),
            Some("arn:aws:s3:::my-bucket/report.csv")
        );
    }

    #[test]
    fn the_policy_arn_and_link_of_the_newer_form() {
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied-authorization-id.html
        let d = parse("User: arn:aws:iam::123456789012:user/janedoe is not authorized to perform: iam:CreateInstanceProfile on resource: arn:aws:iam::123456789012:instance-profile/my-instance-profile with an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/ExampleDenyPolicy. Go to https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/EXAMPLE1a2b3c4d5e").unwrap();
        assert_eq!(d.reason, Reason::ExplicitDeny(Some(PolicyType::Identity)));
        assert_eq!(
            d.policy_arn.as_deref(),
            Some("arn:aws:iam::123456789012:policy/ExampleDenyPolicy")
        );
    }

    #[test]
    fn wrapped_lines_are_one_message() {
        let d = parse("User: arn:aws:iam::123456789012:user/infra-admin is not authorized\nto perform: s3:GetObject on resource:\narn:aws:s3:::backups/prod.tar.gz").unwrap();
        assert_eq!(
            d.resource.as_deref(),
            Some("arn:aws:s3:::backups/prod.tar.gz")
        );
    }

    #[test]
    fn s3_access_denied_xml() {
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html
        let d = parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>656c76696e6727732072657175657374</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>").unwrap();
        assert_eq!(d.source, Source::S3);
        assert_eq!(d.reason, Reason::Unspecified);
        // S3's newer messages carry the IAM form inside the XML.
        let d = parse("<Error><Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/reader/i-0abc is not authorized to perform: s3:GetObject on resource: &quot;arn:aws:s3:::amzn-s3-demo-bucket/key&quot; because no identity-based policy allows the s3:GetObject action</Message></Error>").unwrap();
        assert_eq!(d.source, Source::Iam);
        assert_eq!(
            d.principal.as_ref().and_then(Principal::role_name),
            Some("reader")
        );
        assert_eq!(d.reason, Reason::NoAllow(PolicyType::Identity));
    }

    #[test]
    fn lambda_execution_role_messages() {
        let d = parse("Resource handler returned message: \"The provided execution role does not have permissions to call CreateNetworkInterface on EC2 (Service: Lambda, Status Code: 400)\"").unwrap();
        assert_eq!(d.source, Source::LambdaExecutionRole);
        assert_eq!(d.action.as_deref(), Some("ec2:CreateNetworkInterface"));
        let d = parse("InvalidParameterValueException: The provided execution role does not have permissions to call ReceiveMessage on SQS").unwrap();
        assert_eq!(d.action.as_deref(), Some("sqs:ReceiveMessage"));
    }

    #[test]
    fn other_text_is_not_a_denial() {
        assert!(parse("ResourceNotFoundException: Requested resource not found").is_none());
    }

    #[test]
    fn generated_names() {
        assert!(generated_name_of(
            "OrdersStack-HandlerServiceRoleFCDC14AE-Xk2mP0qLr7Ab",
            "HandlerServiceRoleFCDC14AE"
        ));
        // CloudFormation cuts long logical ids short.
        assert!(generated_name_of(
            "my-app-WorkerFunctionRoleAB-1A2B3C4D5E6F",
            "WorkerFunctionRoleABCDEF12"
        ));
        assert!(!generated_name_of(
            "my-app-Other-1A2B3C4D5E6F",
            "WorkerRole"
        ));
        assert!(!generated_name_of("orders-api", "Api"));
    }

    #[test]
    fn same_account_resources_match_the_stack_pseudo_parameters() {
        let s = request_resource(
            "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
            Some("123456789012"),
        );
        assert!(s.has_symbols());
        let s = request_resource("arn:aws:s3:::bucket/key", Some("123456789012"));
        assert!(s.literal_suffix().ends_with(":s3:::bucket/key"), "{s:?}");
        let other = request_resource(
            "arn:aws:dynamodb:us-east-1:999999999999:table/orders",
            Some("123456789012"),
        );
        assert!(other.is_literal());
    }
}
