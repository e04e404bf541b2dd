//! Principals: which role a resource runs as, and every policy that applies to that role.
//!
//! A role created in the stack is *closed* when every policy attached to it is visible
//! (inline, attached customer managed policies of the stack, AWS managed policies from the
//! bundled data, SAM's generated policies). Anything out of sight — a policy ARN given by
//! parameter, a customer managed policy of another stack, a policy attached to a role whose
//! name is not known — makes it *open*, and rules stay silent about missing permissions of an
//! open role (SEMANTICS.md §0.3).

use crate::resolve::Resolver;
use iamlint_core::{Attribute, Resource, Span, Stack, SymStr, Symbol, Value, ValueKind};
use std::borrow::Cow;

/// Where a policy document comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocOrigin {
    /// `Policies` of the role itself.
    Inline,
    /// An `AWS::IAM::Policy`, `AWS::IAM::RolePolicy` or `AWS::IAM::ManagedPolicy` resource.
    Attached { resource: String },
    /// An AWS managed policy, by ARN.
    AwsManaged { arn: String },
}

/// One policy document that applies to a role.
#[derive(Clone, Debug)]
pub struct PolicyDoc<'a> {
    /// The policy's name (`PolicyName`, the managed policy's name, or the resource id).
    pub name: String,
    pub document: Cow<'a, Value>,
    /// Where the policy is declared or attached: the place a finding about it points at.
    pub span: Span,
    pub origin: DocOrigin,
}

/// Why a role's policy set is not fully visible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenReason {
    pub span: Span,
    pub message: String,
}

/// An IAM role of the stack with every policy that applies to it.
#[derive(Clone, Debug)]
pub struct Role<'a> {
    pub resource: &'a Resource,
    /// The role's ARN (symbolic where the name is generated).
    pub arn: SymStr,
    pub identity: Vec<PolicyDoc<'a>>,
    /// The permissions boundary: `None` when there is none; `Some(None)` when there is one
    /// that cannot be seen.
    pub boundary: Option<Option<PolicyDoc<'a>>>,
    pub trust: Option<&'a Value>,
    /// Empty when the role is closed.
    pub open: Vec<OpenReason>,
}

impl Role<'_> {
    pub fn is_closed(&self) -> bool {
        self.open.is_empty()
    }

    pub fn id(&self) -> &str {
        &self.resource.id
    }

    /// Where a new permission for this role should go: the `Policies` or `ManagedPolicyArns`
    /// key if the role has one, else the role's logical id.
    pub fn fix_span(&self) -> Span {
        if self.resource.is_generated() {
            // A role SAM generates: its resource span is the SAM resource's `Policies` key
            // (or logical id), where the user adds permissions.
            return self.resource.span;
        }
        self.resource
            .properties
            .as_map()
            .and_then(|m| {
                m.get_entry("ManagedPolicyArns")
                    .or_else(|| m.get_entry("Policies"))
            })
            .map_or(self.resource.span, |(k, _)| k.span)
    }
}

/// The role a resource runs as, given the value of its role property (`Role`, `RoleArn`,
/// `ExecutionRoleArn`...).
#[derive(Clone, Debug)]
pub enum RoleRef<'a> {
    /// A role created in this stack.
    InStack(&'a Resource),
    /// A role iamlint cannot see (parameter, import, literal ARN, condition): stay silent.
    External,
}

/// Resolves a role property to a role of the stack. Only a plain reference to a role
/// resource (`!GetAtt Role.Arn`, `!Ref Role` where a name is accepted, or a `Fn::Sub` of the
/// role's ARN) counts; everything else is external.
pub fn role_ref<'a>(stack: &'a Stack, value: &Value) -> RoleRef<'a> {
    let target = match &value.kind {
        ValueKind::Ref(r) => Some(r),
        ValueKind::Template(parts) => {
            let refs: Vec<_> = parts
                .iter()
                .filter_map(|p| match p {
                    iamlint_core::Part::Ref(r) => Some(r),
                    _ => None,
                })
                .collect();
            match refs.as_slice() {
                [r] if matches!(r.attribute, Attribute::Get(ref a) if a == "Arn") => Some(*r),
                _ => None,
            }
        }
        _ => None,
    };
    match target.and_then(|r| stack.resource(&r.resource)) {
        Some(res) if res.kind == "AWS::IAM::Role" => RoleRef::InStack(res),
        _ => RoleRef::External,
    }
}

/// Collects every policy of `role` (a resource of type `AWS::IAM::Role` in `stack`).
pub fn resolve_role<'a>(stack: &'a Stack, role: &'a Resource) -> Role<'a> {
    let resolver = Resolver::new(stack);
    let arn = resolver.reference(&iamlint_core::Reference::get_att(role.id.clone(), "Arn"), 0);
    let mut out = Role {
        resource: role,
        arn,
        identity: Vec::new(),
        boundary: None,
        trust: role.property("AssumeRolePolicyDocument"),
        open: Vec::new(),
    };
    if role.condition.is_some() {
        // A role created only under a condition is still the role its users name; nothing to
        // do here, the users carry the same condition.
    }

    // Inline policies.
    if let Some(policies) = role.property("Policies") {
        for alt in policies.alternatives() {
            let Some(items) = alt.as_list() else {
                if !alt.is_no_value() {
                    out.open
                        .push(open(alt.span, "`Policies` is not a list iamlint can read"));
                }
                continue;
            };
            for item in items {
                for entry in item.alternatives() {
                    if entry.is_no_value() {
                        continue;
                    }
                    match entry.get("PolicyDocument").filter(|d| readable(d)) {
                        Some(doc) => out.identity.push(PolicyDoc {
                            name: entry
                                .get("PolicyName")
                                .and_then(Value::as_str)
                                .unwrap_or("inline policy")
                                .to_string(),
                            document: Cow::Borrowed(doc),
                            span: entry.span,
                            origin: DocOrigin::Inline,
                        }),
                        None => out.open.push(open(
                            entry.span,
                            "inline policy without a readable PolicyDocument",
                        )),
                    }
                }
            }
        }
    }

    // SAM connectors whose source is this role add policies to it that iamlint does not
    // expand (`AWS::Serverless::Connector` stays in the template as written).
    for connector in stack.resources_of("AWS::Serverless::Connector") {
        if connector
            .property("Source")
            .is_some_and(|source| connector_source_is(stack, source, role))
        {
            out.open.push(open(
                connector.span,
                "an AWS::Serverless::Connector adds policies to this role",
            ));
        }
    }

    // Managed policies listed on the role.
    if let Some(arns) = role.property("ManagedPolicyArns") {
        for alt in arns.alternatives() {
            if alt.is_no_value() {
                continue;
            }
            let Some(items) = alt.as_list() else {
                out.open.push(open(
                    alt.span,
                    "`ManagedPolicyArns` is not a list iamlint can read",
                ));
                continue;
            };
            for item in items {
                for entry in item.alternatives() {
                    if entry.is_no_value() {
                        continue;
                    }
                    match managed_policy(stack, &resolver, entry) {
                        Some(doc) => out.identity.push(doc),
                        None => out.open.push(open(
                            entry.span,
                            "a managed policy iamlint cannot see is attached",
                        )),
                    }
                }
            }
        }
    }

    // Policies of the stack attached to the role by name.
    let role_name = resolver.reference(&iamlint_core::Reference::to_ref(role.id.clone()), 0);
    for res in stack.resources() {
        let (list_key, is_managed) = match res.kind.as_str() {
            "AWS::IAM::Policy" => ("Roles", false),
            "AWS::IAM::ManagedPolicy" => ("Roles", true),
            "AWS::IAM::RolePolicy" => ("RoleName", false),
            _ => continue,
        };
        let Some(targets) = res.property(list_key) else {
            continue;
        };
        let mut attached = false;
        for alt in targets.alternatives() {
            for target in alt.as_one_or_many() {
                for t in target.alternatives() {
                    match names_role(&resolver, t, &role.id, &role_name) {
                        Some(true) => attached = true,
                        Some(false) => {}
                        None => out.open.push(open(
                            t.span,
                            format!(
                                "policy {} is attached to a role iamlint cannot identify",
                                res.id
                            ),
                        )),
                    }
                }
            }
        }
        if attached {
            match res.property("PolicyDocument").filter(|d| readable(d)) {
                Some(doc) => out.identity.push(PolicyDoc {
                    name: res
                        .property(if is_managed {
                            "ManagedPolicyName"
                        } else {
                            "PolicyName"
                        })
                        .and_then(Value::as_str)
                        .unwrap_or(&res.id)
                        .to_string(),
                    document: Cow::Borrowed(doc),
                    span: res.span,
                    origin: DocOrigin::Attached {
                        resource: res.id.clone(),
                    },
                }),
                None => out
                    .open
                    .push(open(res.span, "attached policy without a PolicyDocument")),
            }
        }
    }

    // Permissions boundary.
    if let Some(boundary) = role.property("PermissionsBoundary") {
        let alts: Vec<_> = boundary
            .alternatives()
            .into_iter()
            .filter(|v| !v.is_no_value())
            .collect();
        out.boundary = match alts.as_slice() {
            [] => None,
            [one] => Some(managed_policy(stack, &resolver, one)),
            _ => Some(None),
        };
    }
    out
}

/// Whether a policy document can be read: a map in every alternative. A document that is
/// unknown (a parameter, a file or a Terraform value iamlint cannot compute) may grant
/// anything, so the role that holds it is open.
fn readable(doc: &Value) -> bool {
    doc.alternatives()
        .iter()
        .all(|d| d.is_no_value() || d.as_map().is_some())
}

/// Whether a connector's `Source` is (or runs as) `role`; `true` when it cannot be told.
fn connector_source_is(stack: &Stack, source: &Value, role: &Resource) -> bool {
    if let Some(name) = source.get("RoleName") {
        return match name.as_str() {
            Some(name) => {
                name == role.id || role.property("RoleName").and_then(Value::as_str) == Some(name)
            }
            None => true,
        };
    }
    let target = match (source.get("Id"), source.get("Arn")) {
        (Some(id), _) => match id.as_str() {
            Some(id) => stack.resource(id),
            None => return true,
        },
        (None, Some(arn)) => match &arn.kind {
            ValueKind::Ref(r) => stack.resource(&r.resource),
            _ => return false,
        },
        (None, None) => return false,
    };
    let Some(target) = target else {
        return false;
    };
    let is_role = |v: &Value| matches!(role_ref(stack, v), RoleRef::InStack(r) if r.id == role.id);
    // An EventBridge rule acts with its targets' roles: SAM attaches the connector's policy to
    // the `RoleArn` of the rule's target (the translator's `connector_rule_to_eventbus` test).
    let target_roles = target.kind == "AWS::Events::Rule"
        && target
            .property("Targets")
            .and_then(Value::as_list)
            .unwrap_or_default()
            .iter()
            .filter_map(|t| t.get("RoleArn"))
            .any(is_role);
    target_roles
        || ["Role", "RoleArn"]
            .iter()
            .any(|p| target.property(p).is_some_and(is_role))
}

fn open(span: Span, message: impl Into<String>) -> OpenReason {
    OpenReason {
        span,
        message: message.into(),
    }
}

/// Whether an entry of `Roles`/`RoleName` names the role: `None` when it cannot be told.
fn names_role(
    resolver: &Resolver<'_>,
    entry: &Value,
    role_id: &str,
    role_name: &SymStr,
) -> Option<bool> {
    if let ValueKind::Ref(r) = &entry.kind {
        if r.resource == role_id {
            return Some(true);
        }
        if resolver.stack.resource(&r.resource).is_some() {
            return Some(false);
        }
    }
    let name = resolver.string(entry)?;
    match (name.as_literal(), role_name.as_literal()) {
        (Some(a), Some(b)) => Some(a == b),
        // A literal name cannot equal a name CloudFormation generates for a role of this
        // stack (generated names carry the stack name and a random suffix).
        (Some(_), None) if !role_name.has_symbols_other_than_attr() => None,
        (Some(_), None) => Some(false),
        _ if &name == role_name => Some(true),
        _ => None,
    }
}

trait SymStrExt {
    fn has_symbols_other_than_attr(&self) -> bool;
}

impl SymStrExt for SymStr {
    fn has_symbols_other_than_attr(&self) -> bool {
        self.parts()
            .iter()
            .any(|p| matches!(p, iamlint_core::SymPart::Sym(s) if !matches!(s, Symbol::Attr(_))))
    }
}

/// The document of a managed policy named by `value`: an AWS managed policy from the bundled
/// data, or a customer managed policy of the stack. `None` when it cannot be seen.
fn managed_policy<'a>(
    stack: &'a Stack,
    resolver: &Resolver<'_>,
    value: &Value,
) -> Option<PolicyDoc<'a>> {
    if let ValueKind::Ref(r) = &value.kind
        && let Some(res) = stack.resource(&r.resource)
    {
        if res.kind != "AWS::IAM::ManagedPolicy" {
            return None;
        }
        let doc = res.property("PolicyDocument").filter(|d| readable(d))?;
        return Some(PolicyDoc {
            name: res
                .property("ManagedPolicyName")
                .and_then(Value::as_str)
                .unwrap_or(&res.id)
                .to_string(),
            document: Cow::Borrowed(doc),
            span: value.span,
            origin: DocOrigin::Attached {
                resource: res.id.clone(),
            },
        });
    }
    let arn = resolver.string(value)?;
    let arn = aws_managed_arn(&arn)?;
    let policy = iamlint_policy::managed::by_arn(&arn)?;
    Some(PolicyDoc {
        name: policy.name.to_string(),
        document: Cow::Owned(Value::from_json(&policy.document(), value.span)),
        span: value.span,
        origin: DocOrigin::AwsManaged { arn },
    })
}

/// `arn:${AWS::Partition}:iam::aws:policy/...` or a literal AWS managed policy ARN, as a
/// literal ARN in the `aws` partition (AWS managed policies are the same in every partition).
fn aws_managed_arn(arn: &SymStr) -> Option<String> {
    let mut out = String::new();
    for part in arn.parts() {
        match part {
            iamlint_core::SymPart::Lit(s) => out.push_str(s),
            iamlint_core::SymPart::Sym(Symbol::Pseudo(iamlint_core::Pseudo::Partition))
                if out == "arn:" =>
            {
                out.push_str("aws");
            }
            iamlint_core::SymPart::Sym(_) => return None,
        }
    }
    let rest = out
        .strip_prefix("arn:aws:iam::aws:policy/")
        .or_else(|| out.strip_prefix("arn:aws-cn:iam::aws:policy/"))
        .or_else(|| out.strip_prefix("arn:aws-us-gov:iam::aws:policy/"))?;
    Some(format!("arn:aws:iam::aws:policy/{rest}"))
}

/// Identity policies attached to no role of the stack, grouped by the resource that holds them
/// (an `AWS::IAM::ManagedPolicy` attached from another stack, an `AWS::IAM::Policy` of users
/// or groups, a user's or group's inline policies), each group standing as a principal of its
/// own: whoever they are attached to is granted what they grant. `roles` are the stack's
/// roles; the policies they hold are theirs.
pub fn standalone_policies<'a>(stack: &'a Stack, roles: &[&Role<'a>]) -> Vec<Role<'a>> {
    let attached: std::collections::BTreeSet<&str> = roles
        .iter()
        .flat_map(|role| &role.identity)
        .filter_map(|doc| match &doc.origin {
            DocOrigin::Attached { resource } => Some(resource.as_str()),
            _ => None,
        })
        .collect();
    let mut out: Vec<Role<'a>> = Vec::new();
    for located in crate::policies::documents(stack) {
        let resource = located.resource;
        if located.kind != crate::policies::DocKind::Identity
            || resource.kind == "AWS::IAM::Role"
            || attached.contains(resource.id.as_str())
        {
            continue;
        }
        let origin = if located.path.starts_with("Policies[") {
            DocOrigin::Inline
        } else {
            DocOrigin::Attached {
                resource: resource.id.clone(),
            }
        };
        let doc = PolicyDoc {
            name: resource
                .property("ManagedPolicyName")
                .or_else(|| resource.property("PolicyName"))
                .and_then(Value::as_str)
                .unwrap_or(&resource.id)
                .to_string(),
            document: Cow::Borrowed(located.document),
            span: resource.span,
            origin,
        };
        match out.last_mut() {
            Some(holder) if std::ptr::eq(holder.resource, resource) => holder.identity.push(doc),
            _ => out.push(Role {
                resource,
                arn: holder_arn(),
                identity: vec![doc],
                boundary: None,
                trust: None,
                open: Vec::new(),
            }),
        }
    }
    out
}

/// The ARN of whoever standalone policies are attached to: a principal of the stack's
/// account (identity policies apply only in their own account), otherwise unknown.
fn holder_arn() -> SymStr {
    use iamlint_core::Pseudo;
    let mut arn = SymStr::lit("arn:");
    arn.push_sym(Symbol::Pseudo(Pseudo::Partition));
    arn.push_lit(":iam::");
    arn.push_sym(Symbol::Pseudo(Pseudo::AccountId));
    arn.push_lit(":");
    arn.push_sym(Symbol::Opaque);
    arn
}
