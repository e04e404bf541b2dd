//! What rules share about principals and the requests they make: the execution role of a
//! function, and the outcome of a set of required actions on one resource.

use crate::context::Context;
use crate::principal::{Role, RoleRef, role_ref};
use iamlint_core::{Diagnostic, Resource, SymPart, SymStr, Value};
use iamlint_policy::eval::{Outcome, Uncertainty};

/// The closed role a resource runs as, with the value that names it. `None` when the role is
/// outside the stack or not fully visible (rules stay silent then).
pub fn closed_role<'c, 'a>(ctx: &'c Context<'a>, role_value: &'a Value) -> Option<&'c Role<'a>> {
    let RoleRef::InStack(resource) = role_ref(ctx.stack, role_value) else {
        return None;
    };
    ctx.role(&resource.id).filter(|role| role.is_closed())
}

/// The execution role of a Lambda function, when closed.
pub fn function_role<'c, 'a>(
    ctx: &'c Context<'a>,
    function: &'a Resource,
) -> Option<(&'c Role<'a>, &'a Value)> {
    let value = function.property("Role")?;
    Some((closed_role(ctx, value)?, value))
}

/// How a role fares on a set of actions it needs on one resource.
#[derive(Debug, Default)]
pub struct Needs {
    /// Denied in every resolution of what is unknown, with no explicit deny.
    pub missing: Vec<&'static str>,
    /// Allowed only under conditions iamlint cannot decide.
    pub conditional: Vec<&'static str>,
    /// Denied by an explicit `Deny`.
    pub denied: Vec<&'static str>,
}

impl Needs {
    /// Nothing is missing or in doubt.
    pub fn is_met(&self) -> bool {
        self.missing.is_empty() && self.conditional.is_empty() && self.denied.is_empty()
    }
}

/// Asks the evaluator about each action of `actions` on `resource` for `role`.
pub fn needs(
    ctx: &Context<'_>,
    role: &Role<'_>,
    actions: &[&'static str],
    resource: &SymStr,
) -> Needs {
    let mut out = Needs::default();
    for action in actions {
        match crate::evaluate::identity_outcome(ctx, role, action, resource) {
            Outcome::Allowed | Outcome::Unknown(Uncertainty::Value) => {}
            Outcome::Unknown(Uncertainty::Condition) => out.conditional.push(action),
            Outcome::ImplicitlyDenied => out.missing.push(action),
            Outcome::ExplicitlyDenied => out.denied.push(action),
        }
    }
    out
}

/// The service of an ARN (`sqs` in `arn:aws:sqs:…`), when its literal text says.
pub fn arn_service(arn: &SymStr) -> Option<&str> {
    let [SymPart::Lit(first), rest @ ..] = arn.parts() else {
        return None;
    };
    let after = first.strip_prefix("arn:")?;
    // `arn:${AWS::Partition}:sqs:…`: the service follows the partition symbol.
    let text = if after.is_empty() {
        match rest {
            [SymPart::Sym(_), SymPart::Lit(next), ..] => next.strip_prefix(':')?,
            _ => return None,
        }
    } else {
        after.split_once(':')?.1
    };
    text.split(':').next().filter(|s| !s.is_empty())
}

/// Labels where a resource names its role, unless SAM generated the role (then there is no
/// such place in the user's template).
pub trait RunsAs {
    fn with_runs_as(self, role: &Role<'_>, role_value: &Value, who: &str) -> Self;
}

impl RunsAs for Diagnostic {
    fn with_runs_as(self, role: &Role<'_>, role_value: &Value, who: &str) -> Self {
        if role.resource.is_generated() {
            self
        } else {
            self.with_secondary(role_value.span, format!("{who} runs as {}", role.id()))
        }
    }
}
