//! What rules share while checking one stack: the stack, its resolver, the roles with their
//! policies (resolved once), and the questions rules ask the evaluator.

use crate::principal::{self, Role};
use crate::resolve::Resolver;
use iamlint_core::{Stack, SymStr, Symbol};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

/// The answer to "does this role's policy set allow the action?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// Allowed in every resolution of what is unknown.
    Allowed,
    /// Allowed only if conditions hold that iamlint cannot decide.
    Conditional,
    /// Cannot be told (symbols iamlint cannot resolve).
    Unknown,
    /// No statement can allow it, even under lenient matching.
    NotAllowed,
}

pub struct Context<'a> {
    pub stack: &'a Stack,
    pub resolver: Resolver<'a>,
    roles: OnceLock<HashMap<String, Role<'a>>>,
    /// Each role's policies parsed for the evaluator, on first use.
    pub(crate) parsed: RefCell<HashMap<String, Rc<crate::evaluate::ParsedRole>>>,
}

impl<'a> Context<'a> {
    pub fn new(stack: &'a Stack) -> Self {
        Context {
            stack,
            resolver: Resolver::new(stack),
            roles: OnceLock::new(),
            parsed: RefCell::new(HashMap::new()),
        }
    }

    /// The role with this logical id, with all its policies.
    pub fn role(&self, id: &str) -> Option<&Role<'a>> {
        self.roles
            .get_or_init(|| {
                self.stack
                    .resources_of("AWS::IAM::Role")
                    .map(|r| (r.id.clone(), principal::resolve_role(self.stack, r)))
                    .collect()
            })
            .get(id)
    }

    /// A resource standing for "whatever the action is called on": `*` for actions without a
    /// resource type; an unknown ARN otherwise.
    pub fn any_resource_of(&self, action: &str) -> SymStr {
        let _ = action;
        SymStr::sym(Symbol::Opaque)
    }

    /// Whether the role's identity policies (with its boundary) allow `action` on `resource`.
    pub fn identity_allows(&self, role: &Role<'a>, action: &str, resource: &SymStr) -> Grant {
        crate::evaluate::identity_allows(self, role, action, resource)
    }

    /// Help text that attaches an AWS managed policy, or adds the equivalent statement, in the
    /// stack's own syntax.
    pub fn fix_attach_managed_policy(
        &self,
        role: &Role<'a>,
        managed_policy: &str,
        actions: &[&str],
        resource: &str,
    ) -> String {
        crate::fix::attach_managed_policy(
            self.stack.format,
            role,
            managed_policy,
            actions,
            resource,
        )
    }
}
