//! The bridge between the rules and the evaluator: a role's policy documents parsed into
//! policies (with the stack's symbolic values), and requests decided three-valued.

use crate::context::{Context, Grant};
use crate::principal::{PolicyDoc, Role};
use crate::resolve::Resolver;
use iamlint_core::{Pseudo, SymStr, Symbol, Value};
use iamlint_policy::eval::{
    self, Layers, MissingKeys, Outcome, Request, RequestContext, RequestPrincipal, Uncertainty,
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
/// policies and boundary (no resource policy; SCPs are not known to iamlint).
pub fn identity_outcome(
    ctx: &Context<'_>,
    role: &Role<'_>,
    action: &str,
    resource: &SymStr,
) -> Outcome {
    let parsed = parsed_role(ctx, role);
    let Some(boundaries) = &parsed.boundary else {
        // A boundary iamlint cannot see may deny anything.
        return Outcome::Unknown(Uncertainty::Value);
    };
    let layers = Layers {
        identity: parsed.identity.iter().collect(),
        boundaries: boundaries.iter().collect(),
        ..Layers::default()
    };
    let request = Request {
        principal: RequestPrincipal::Arn(role.arn.clone()),
        action: action.to_string(),
        resource: resource.clone(),
        // Rules ask about resources of the role's own account (the stack's account).
        resource_account: Some(SymStr::sym(Symbol::Pseudo(Pseudo::AccountId))),
        context: RequestContext::new(MissingKeys::Unknown),
    };
    eval::evaluate(&request, &layers).outcome
}

fn grant(outcome: Outcome) -> Grant {
    match outcome {
        Outcome::Allowed => Grant::Allowed,
        Outcome::ImplicitlyDenied | Outcome::ExplicitlyDenied => Grant::NotAllowed,
        Outcome::Unknown(Uncertainty::Condition) => Grant::Conditional,
        Outcome::Unknown(Uncertainty::Value) => Grant::Unknown,
    }
}
