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

    /// A symbolic string as `Fn::Sub` writes it, with generated names written as the `Ref`
    /// that returns them (`${Function}` rather than `${Function.FunctionName}`).
    pub fn sub_text(&self, s: &SymStr) -> String {
        use iamlint_core::{Attribute, SymPart};
        let mut out = String::new();
        for part in s.parts() {
            match part {
                SymPart::Lit(l) => out.push_str(l),
                SymPart::Sym(Symbol::Attr(r)) => {
                    let by_ref = match (&r.attribute, self.stack.resource(&r.resource)) {
                        (Attribute::Get(a), Some(res)) => {
                            crate::resolve::ref_returns(&res.kind)
                                == Some(crate::resolve::Returns::Name)
                                && crate::resolve::name_property(&res.kind) == Some(a.as_str())
                        }
                        _ => false,
                    };
                    if by_ref {
                        out.push_str(&format!("${{{}}}", r.resource));
                    } else {
                        out.push_str(&Symbol::Attr(r.clone()).to_string());
                    }
                }
                SymPart::Sym(Symbol::Opaque) => out.push('*'),
                SymPart::Sym(other) => out.push_str(&other.to_string()),
            }
        }
        out
    }

    /// A symbolic string as a YAML value: `!Sub …` when it has unknown parts.
    pub fn yaml_value(&self, s: &SymStr) -> String {
        match s.as_literal() {
            Some("*") => "\"*\"".to_string(),
            Some(l) => l.to_string(),
            None => format!("!Sub {}", self.sub_text(s)),
        }
    }

    /// The YAML that names the same thing as `value` (whose string is `resolved`): the
    /// user's own `!GetAtt`/`!Ref` when it is one, else [`Context::yaml_value`].
    pub fn yaml_of(&self, value: &iamlint_core::Value, resolved: &SymStr) -> String {
        use iamlint_core::{Attribute, ValueKind};
        match &value.kind {
            ValueKind::Ref(r) => match &r.attribute {
                Attribute::Ref => format!("!Ref {}", r.resource),
                Attribute::Get(a) => format!("!GetAtt {}.{a}", r.resource),
            },
            _ => self.yaml_value(resolved),
        }
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
