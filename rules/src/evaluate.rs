//! The bridge between the rules and the evaluator: a role's policy documents parsed into
//! policies (with the stack's symbolic values), and requests decided three-valued.

use crate::context::{Context, Grant};
use crate::principal::{PolicyDoc, Role};
use crate::resolve::Resolver;
use iamlint_core::{SymStr, Value};
use iamlint_policy::eval::{
    self, Decision, Layers, MissingKeys, Outcome, Request, RequestContext, RequestPrincipal,
    Uncertainty,
};
use iamlint_policy::policy::{Policy, PolicyKind, Resolve, parse_policy};
use std::rc::Rc;

impl Resolve for Resolver<'_> {
    fn strings(&self, value: &Value) -> Vec<SymStr> {
        Resolver::strings(self, value)
    }
}

/// A role's policies, parsed once per check.
pub struct ParsedRole {
    pub identity: Vec<Policy>,
    /// The boundary (empty when there is none); `None` when there is one iamlint cannot see.
    pub boundary: Option<Vec<Policy>>,
}

/// The role's parsed policies (cached in the context).
pub fn parsed_role(ctx: &Context<'_>, role: &Role<'_>) -> Rc<ParsedRole> {
    if let Some(p) = ctx.parsed.borrow().get(role.id()) {
        return Rc::clone(p);
    }
    let parsed = Rc::new(ParsedRole {
        identity: parse_docs(ctx, &role.identity, PolicyKind::Identity),
        boundary: match &role.boundary {
            None => Some(Vec::new()),
            Some(Some(doc)) => Some(parse_docs(
                ctx,
                std::slice::from_ref(doc),
                PolicyKind::Boundary,
            )),
            Some(None) => None,
        },
    });
    ctx.parsed
        .borrow_mut()
        .insert(role.id().to_string(), Rc::clone(&parsed));
    parsed
}

/// Parses the documents of `docs` as policies of `kind`.
pub fn parse_docs(ctx: &Context<'_>, docs: &[PolicyDoc<'_>], kind: PolicyKind) -> Vec<Policy> {
    docs.iter()
        .map(|doc| parse_policy(&doc.document, kind, &ctx.resolver).0)
        .collect()
}

/// Whether the role's identity policies, within its permissions boundary, allow `action` on
/// `resource`, for any value of the request's context keys.
pub fn identity_allows(
    ctx: &Context<'_>,
    role: &Role<'_>,
    action: &str,
    resource: &SymStr,
) -> Grant {
    grant(identity_outcome(ctx, role, action, resource))
}

/// The evaluator's outcome for the role calling `action` on `resource` with its identity
/// policies, its boundary and the organisation's SCPs/RCPs the user supplied (no resource
/// policy).
pub fn identity_outcome(
    ctx: &Context<'_>,
    role: &Role<'_>,
    action: &str,
    resource: &SymStr,
) -> Outcome {
    match decide(ctx, role, action, resource, Scope::ALL, None) {
        Some(decision) => decision.outcome,
        // A boundary iamlint cannot see may deny anything.
        None => Outcome::Unknown(Uncertainty::Value),
    }
}

/// Which of the layers around a role a decision takes into account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope {
    /// The role's permissions boundary.
    pub boundary: bool,
    /// The SCP levels (all, or only the one at this index).
    pub scps: Levels,
    /// The RCP levels.
    pub rcps: Levels,
}

/// Which organisation levels a decision takes into account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Levels {
    None,
    All,
    Only(usize),
}

impl Scope {
    /// Every layer.
    pub const ALL: Scope = Scope {
        boundary: true,
        scps: Levels::All,
        rcps: Levels::All,
    };
    /// The identity policies alone: what the role's own policies grant.
    pub const IDENTITY: Scope = Scope {
        boundary: false,
        scps: Levels::None,
        rcps: Levels::None,
    };
}

/// The request context of the role's sessions, with what is known statically
/// (SEMANTICS.md §A.9); every other key is unknown.
pub fn request_context(role: &Role<'_>) -> RequestContext {
    let mut context = RequestContext::new(MissingKeys::Unknown);
    // SDKs and AWS services call AWS over TLS only.
    context.insert("aws:SecureTransport", ["true"]);
    context.insert("aws:PrincipalArn", [role.arn.clone()]);
    context.insert(
        "aws:PrincipalAccount",
        [crate::resolve::own_account(role.resource)],
    );
    context
}

/// AWS's decision, with its trace, for the role calling `action` on `resource` with the
/// layers of `scope` and the resource policy given. `None` when the scope includes a
/// boundary iamlint cannot see.
pub fn decide(
    ctx: &Context<'_>,
    role: &Role<'_>,
    action: &str,
    resource: &SymStr,
    scope: Scope,
    resource_policy: Option<&Policy>,
) -> Option<Decision> {
    decide_with(ctx, role, action, resource, scope, resource_policy, &[])
}

/// [`decide`] for a request that carries condition keys beyond the role's own (the
/// `kms:ViaService` of a service's call, the access point of an EFS mount).
pub fn decide_with(
    ctx: &Context<'_>,
    role: &Role<'_>,
    action: &str,
    resource: &SymStr,
    scope: Scope,
    resource_policy: Option<&Policy>,
    context: &[(&str, Vec<SymStr>)],
) -> Option<Decision> {
    let parsed = parsed_role(ctx, role);
    let boundaries: Vec<&Policy> = if scope.boundary {
        parsed.boundary.as_ref()?.iter().collect()
    } else {
        Vec::new()
    };
    fn levels(all: &[crate::context::OrgLevel], which: Levels) -> Vec<Vec<&Policy>> {
        all.iter()
            .enumerate()
            .filter(|(i, _)| match which {
                Levels::None => false,
                Levels::All => true,
                Levels::Only(n) => *i == n,
            })
            .map(|(_, level)| level.policies.iter().collect())
            .collect()
    }
    let layers = Layers {
        identity: parsed.identity.iter().collect(),
        boundaries,
        scps: levels(&ctx.options.scps, scope.scps),
        rcps: if rcps_apply(action) {
            levels(&ctx.options.rcps, scope.rcps)
        } else {
            Vec::new()
        },
        resource: resource_policy,
        ..Layers::default()
    };
    let mut request = role_request(role, action, resource);
    for (key, values) in context {
        request.context.insert(key, values.iter().cloned());
    }
    Some(eval::evaluate(&request, &layers))
}

/// Services whose resources resource control policies govern. RCPs cover only some services
/// (the five they launched with are certain; later additions are not modelled yet), and an
/// RCP applied to a service it does not govern would report denies AWS never makes.
const RCP_SERVICES: &[&str] = &["s3", "sts", "kms", "sqs", "secretsmanager"];

fn rcps_apply(action: &str) -> bool {
    action
        .split_once(':')
        .is_some_and(|(service, _)| RCP_SERVICES.iter().any(|s| service.eq_ignore_ascii_case(s)))
}

/// The request of the role's sessions calling `action` on `resource` in the stack's account.
pub fn role_request(role: &Role<'_>, action: &str, resource: &SymStr) -> Request {
    Request {
        principal: RequestPrincipal::Arn(role.arn.clone()),
        action: action.to_string(),
        resource: crate::arn::request_resource(action, resource),
        // Rules ask about resources of the role's own account (the stack's account).
        resource_account: Some(crate::resolve::own_account(role.resource)),
        context: request_context(role),
    }
}

/// Whether the role's own policies allow `action` on `resource` and only its boundary or an
/// SCP/RCP level takes it away (IAM030's finding rather than a missing grant).
pub fn only_limits_deny(
    ctx: &Context<'_>,
    role: &Role<'_>,
    action: &str,
    resource: &SymStr,
) -> bool {
    decide(ctx, role, action, resource, Scope::IDENTITY, None)
        .is_some_and(|d| d.outcome == Outcome::Allowed)
}

fn grant(outcome: Outcome) -> Grant {
    match outcome {
        Outcome::Allowed => Grant::Allowed,
        Outcome::ImplicitlyDenied | Outcome::ExplicitlyDenied => Grant::NotAllowed,
        Outcome::Unknown(Uncertainty::Condition) => Grant::Conditional,
        Outcome::Unknown(Uncertainty::Value) => Grant::Unknown,
    }
}

/// Where a statement of a decision's trace lives: the policy it belongs to, named for
/// messages, and the statement itself.
pub struct Located<'p> {
    /// "policy Guardrails of role AppRole", "permissions boundary Boundary", "the SCPs of
    /// organisation level 1 (scp/root.json)".
    pub policy: String,
    pub statement: Option<&'p iamlint_policy::policy::Statement>,
}

/// Finds a traced statement among the layers [`decide`] used with [`Scope::ALL`] (or a scope
/// whose organisation levels are all or none), and the resource policy named `resource_name`.
pub fn locate<'p>(
    ctx: &'p Context<'_>,
    role: &Role<'_>,
    parsed: &'p ParsedRole,
    resource: Option<(&'p Policy, &str)>,
    entry: &eval::TraceEntry,
) -> Located<'p> {
    use iamlint_policy::eval::Layer;
    let org = |levels: &'p [crate::context::OrgLevel], kind: &str| -> Located<'p> {
        let mut index = entry.policy;
        for (n, level) in levels.iter().enumerate() {
            if index < level.policies.len() {
                return Located {
                    policy: format!(
                        "the {kind}s of organisation level {} ({})",
                        n + 1,
                        level.name
                    ),
                    statement: level
                        .policies
                        .get(index)
                        .and_then(|p| p.statements.get(entry.statement)),
                };
            }
            index -= level.policies.len();
        }
        Located {
            policy: format!("the {kind}s"),
            statement: None,
        }
    };
    let doc_name = |doc: &crate::principal::PolicyDoc<'_>| match &doc.origin {
        crate::principal::DocOrigin::Inline => format!("policy {} of role {}", doc.name, role.id()),
        crate::principal::DocOrigin::Attached { resource } => {
            if *resource == doc.name {
                format!("policy {resource}")
            } else {
                format!("policy {} ({resource})", doc.name)
            }
        }
        crate::principal::DocOrigin::AwsManaged { .. } => {
            format!("AWS managed policy {}", doc.name)
        }
    };
    match entry.layer {
        Layer::Identity => Located {
            policy: role
                .identity
                .get(entry.policy)
                .map_or_else(|| format!("a policy of role {}", role.id()), doc_name),
            statement: parsed
                .identity
                .get(entry.policy)
                .and_then(|p| p.statements.get(entry.statement)),
        },
        Layer::Boundary => Located {
            policy: match &role.boundary {
                Some(Some(doc)) => format!("permissions boundary {}", doc.name),
                _ => "the permissions boundary".to_string(),
            },
            statement: parsed
                .boundary
                .as_ref()
                .and_then(|b| b.get(entry.policy))
                .and_then(|p| p.statements.get(entry.statement)),
        },
        Layer::Scp => org(&ctx.options.scps, "SCP"),
        Layer::Rcp => org(&ctx.options.rcps, "RCP"),
        Layer::Resource => Located {
            policy: resource
                .map_or_else(|| "the resource policy".to_string(), |(_, n)| n.to_string()),
            statement: resource.and_then(|(p, _)| p.statements.get(entry.statement)),
        },
        Layer::Session | Layer::Endpoint => Located {
            policy: format!("the {} policy", entry.layer.as_str()),
            statement: None,
        },
    }
}
