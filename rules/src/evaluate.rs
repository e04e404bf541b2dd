//! The bridge between the rules and the evaluator: a role's policy documents parsed into
//! policies (with the stack's symbolic values), and requests decided three-valued.

use crate::context::{Context, Grant};
use crate::principal::{PolicyDoc, Role};
use crate::resolve::Resolver;
use iamlint_core::{SymStr, Value};
use iamlint_policy::eval::{
    self, Layers, MissingKeys, Outcome, Request, RequestContext, RequestPrincipal, Uncertainty,
};
use iamlint_policy::policy::{Policy, PolicyKind, Resolve, parse_policy};

impl Resolve for Resolver<'_> {
    fn strings(&self, value: &Value) -> Vec<SymStr> {
        Resolver::strings(self, value)
    }
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
    let identity = parse_docs(ctx, &role.identity, PolicyKind::Identity);
    let boundary: Vec<Policy> = match &role.boundary {
        None => Vec::new(),
        Some(Some(doc)) => parse_docs(ctx, std::slice::from_ref(doc), PolicyKind::Boundary),
        // A boundary iamlint cannot see may deny anything.
        Some(None) => return Grant::Unknown,
    };
    let layers = Layers {
        identity: identity.iter().collect(),
        boundaries: boundary.iter().collect(),
        ..Layers::default()
    };
    let request = Request {
        principal: RequestPrincipal::Arn(role.arn.clone()),
        action: action.to_string(),
        resource: resource.clone(),
        resource_account: None,
        context: RequestContext::new(MissingKeys::Unknown),
    };
    grant(eval::evaluate(&request, &layers).outcome)
}

fn grant(outcome: Outcome) -> Grant {
    match outcome {
        Outcome::Allowed => Grant::Allowed,
        Outcome::ImplicitlyDenied | Outcome::ExplicitlyDenied => Grant::NotAllowed,
        Outcome::Unknown(Uncertainty::Condition) => Grant::Conditional,
        Outcome::Unknown(Uncertainty::Value) => Grant::Unknown,
    }
}
