//! What rules share while checking one stack: the stack, its resolver, the roles with their
//! policies (resolved once), and the questions rules ask the evaluator.

use crate::principal::{self, Role};
use crate::requests::Requirement;
use crate::resolve::Resolver;
use iamlint_core::{FileId, SourceFile, Span, Stack, SymStr, Symbol, Value};
use iamlint_policy::policy::{LiteralResolver, Policy, PolicyKind, parse_policy};
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

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

/// One level of an AWS Organizations hierarchy (root, an OU, the account) with the service or
/// resource control policies attached there. Every level must allow a request.
#[derive(Clone, Debug)]
pub struct OrgLevel {
    /// Where the level's policies come from (the file, as the user named it).
    pub name: String,
    pub policies: Vec<Policy>,
    /// The level holds no `Allow` of its own, so the AWS default full-access policy
    /// (`FullAWSAccess`, `RCPFullAWSAccess`) stands in for it.
    pub implicit_full_access: bool,
}

impl OrgLevel {
    /// A level of service control policies. A level without any `Allow` statement is a
    /// deny-list level: AWS attaches `FullAWSAccess` to every level by default, and a user who
    /// only supplies the denies has kept it.
    pub fn scp(name: impl Into<String>, policies: Vec<Policy>, span: Span) -> Self {
        let has_allow = policies.iter().any(|p| {
            p.statements
                .iter()
                .any(|s| s.effect == iamlint_policy::policy::Effect::Allow)
        });
        OrgLevel::build(name.into(), policies, span, !has_allow, false)
    }

    /// A level of resource control policies: `RCPFullAWSAccess` is attached to every level and
    /// cannot be detached, so every level allows what its denies do not take away.
    pub fn rcp(name: impl Into<String>, policies: Vec<Policy>, span: Span) -> Self {
        OrgLevel::build(name.into(), policies, span, true, true)
    }

    fn build(name: String, mut policies: Vec<Policy>, span: Span, full: bool, rcp: bool) -> Self {
        if full {
            let (doc, kind) = if rcp {
                (
                    serde_json::json!({"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}),
                    PolicyKind::ResourceControl,
                )
            } else {
                (
                    serde_json::json!({"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
                    PolicyKind::ServiceControl,
                )
            };
            let (policy, _) = parse_policy(&Value::from_json(&doc, span), kind, &LiteralResolver);
            policies.push(policy);
        }
        OrgLevel {
            name,
            policies,
            implicit_full_access: full,
        }
    }
}

/// What a check knows beyond the stack: the organisation's policies the user supplied.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Service control policies, root level first. Empty: no SCP is a layer at all (AWS's
    /// default `FullAWSAccess` allows everything).
    pub scps: Vec<OrgLevel>,
    /// Resource control policies, root level first.
    pub rcps: Vec<OrgLevel>,
}

/// A set of identity policies evaluated together: a role of the stack, or policies attached
/// to no role of the stack standing in for whoever they are attached to (a [`Role`] whose
/// resource is the policy, user or group that holds them, closed, without trust or boundary).
#[derive(Clone, Copy, Debug)]
pub struct Holder<'c, 'a> {
    pub role: &'c Role<'a>,
    /// Attached to no role of the stack.
    pub standalone: bool,
}

impl Holder<'_, '_> {
    /// What to call the holder in messages (`role AppRole`, `managed policy ReadTables`).
    pub fn who(&self) -> String {
        let id = self.role.id();
        let noun = match self.role.resource.kind.as_str() {
            "AWS::IAM::Role" => "role",
            "AWS::IAM::ManagedPolicy" => "managed policy",
            "AWS::IAM::User" => "user",
            "AWS::IAM::Group" => "group",
            "AWS::SSO::PermissionSet" => "permission set",
            _ => "policy",
        };
        format!("{noun} {id}")
    }
}

pub struct Context<'a> {
    pub stack: &'a Stack,
    pub resolver: Resolver<'a>,
    /// The organisation's policies.
    pub options: &'a Options,
    roles: OnceLock<HashMap<String, Role<'a>>>,
    /// Identity policies attached to no role of the stack, as principals of their own.
    standalone: OnceLock<Vec<Role<'a>>>,
    /// Each role's policies parsed for the evaluator, on first use.
    pub(crate) parsed: RefCell<HashMap<String, Rc<crate::evaluate::ParsedRole>>>,
    /// Every rule's requirements, on first use.
    requirements: OnceCell<Vec<Requirement<'a>>>,
    /// The text of the stack's files, when the caller gave it: fixes are made from it.
    sources: &'a [Arc<SourceFile>],
}

/// The options of a check given no organisation policies.
static NO_OPTIONS: Options = Options {
    scps: Vec::new(),
    rcps: Vec::new(),
};

impl<'a> Context<'a> {
    pub fn new(stack: &'a Stack) -> Self {
        Context::with_options(stack, &NO_OPTIONS)
    }

    /// A context for a check with the organisation's policies.
    pub fn with_options(stack: &'a Stack, options: &'a Options) -> Self {
        Context {
            stack,
            resolver: Resolver::new(stack),
            options,
            roles: OnceLock::new(),
            standalone: OnceLock::new(),
            parsed: RefCell::new(HashMap::new()),
            requirements: OnceCell::new(),
            sources: &[],
        }
    }

    /// This context with the text of the stack's files, from which rules make fixes.
    pub fn with_sources(mut self, sources: &'a [Arc<SourceFile>]) -> Self {
        self.sources = sources;
        self
    }

    /// The text of one of the stack's files, when the caller gave it.
    pub fn source(&self, file: FileId) -> Option<&'a SourceFile> {
        self.sources.iter().find(|f| f.id == file).map(|f| &**f)
    }

    /// What every rule requires principals of the stack to be allowed to do, whatever rules
    /// are selected (a rule about denies must see the requests of the rules that are not).
    pub fn requirements(&self) -> &[Requirement<'a>] {
        self.requirements.get_or_init(|| {
            crate::registry::rules()
                .iter()
                .flat_map(|rule| rule.requirements(self))
                .collect()
        })
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

    /// Every set of identity policies of the stack that AWS evaluates together, in resource
    /// order: each role with all its policies, then each holder of policies attached to no
    /// role of the stack (a managed policy attached from another stack, a policy of users or
    /// groups only, a user's inline policies). Policy-level rules check them all, whether or
    /// not iamlint sees who they are attached to.
    pub fn policy_holders(&self) -> Vec<Holder<'_, 'a>> {
        let roles: Vec<&Role<'a>> = self
            .stack
            .resources_of("AWS::IAM::Role")
            .filter_map(|r| self.role(&r.id))
            .collect();
        let standalone = self
            .standalone
            .get_or_init(|| principal::standalone_policies(self.stack, &roles));
        roles
            .into_iter()
            .map(|role| Holder {
                role,
                standalone: false,
            })
            .chain(standalone.iter().map(|role| Holder {
                role,
                standalone: true,
            }))
            .collect()
    }

    /// Whether the resource `from` is certainly created after `to`: `to` is reached from
    /// `from` through `depends_on` and the references in properties (every branch of a
    /// condition), transitively. `None` when the stack's creation order is not known
    /// ([`Stack::ordering_known`](iamlint_core::Stack)).
    pub fn created_after(&self, from: &str, to: &str) -> Option<bool> {
        if !self.stack.ordering_known {
            return None;
        }
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::from([from]);
        let mut work = vec![from];
        while let Some(id) = work.pop() {
            let Some(resource) = self.stack.resource(id) else {
                continue;
            };
            let mut next: Vec<&str> = resource.depends_on.iter().map(String::as_str).collect();
            let mut values = vec![&resource.properties];
            while let Some(v) = values.pop() {
                match &v.kind {
                    iamlint_core::ValueKind::Ref(r) => next.push(&r.resource),
                    iamlint_core::ValueKind::Template(parts) => {
                        next.extend(parts.iter().filter_map(|p| match p {
                            iamlint_core::Part::Ref(r) => Some(r.resource.as_str()),
                            _ => None,
                        }));
                    }
                    iamlint_core::ValueKind::Map(m) => values.extend(m.iter().map(|(_, v)| v)),
                    iamlint_core::ValueKind::List(items) => values.extend(items.iter()),
                    iamlint_core::ValueKind::Choice(c) => {
                        values.push(&c.if_true);
                        values.push(&c.if_false);
                    }
                    _ => {}
                }
            }
            for n in next {
                if n == to {
                    return Some(true);
                }
                if seen.insert(n) {
                    work.push(n);
                }
            }
        }
        Some(false)
    }

    /// Whether the value at `span` of `resource` certainly takes effect after `to` exists: when
    /// a separate resource applies it ([`AppliedBy`](iamlint_core::AppliedBy), a Terraform
    /// `aws_s3_bucket_notification` folded into its bucket), that resource's own ordering
    /// decides; otherwise `resource`'s ([`Context::created_after`]).
    pub fn applied_after(
        &self,
        resource: &str,
        span: iamlint_core::Span,
        to: &str,
    ) -> Option<bool> {
        let Some(applied) = self
            .stack
            .applied
            .iter()
            .find(|a| a.resource == resource && a.span == span)
        else {
            return self.created_after(resource, to);
        };
        if !self.stack.ordering_known {
            return None;
        }
        if applied.by == to {
            return Some(true);
        }
        for after in &applied.after {
            if after == to || self.created_after(after, to) == Some(true) {
                return Some(true);
            }
        }
        Some(false)
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
    ///
    /// For Terraform, the string as an HCL template would write it (`aws_sqs_queue.q.arn`,
    /// `arn:aws:s3:::${var.bucket}/*`, `${data.aws_caller_identity.current.account_id}`).
    pub fn sub_text(&self, s: &SymStr) -> String {
        use iamlint_core::{Attribute, SymPart};
        if !self.stack.format.is_cloudformation() {
            let hcl = crate::fix::hcl_string(self.stack, s);
            return match hcl.strip_prefix('"').and_then(|h| h.strip_suffix('"')) {
                Some(inner) => inner.replace("\\\"", "\"").replace("$${", "${"),
                None => hcl,
            };
        }
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

    /// A symbolic string written in the stack's own syntax: YAML ([`Context::yaml_value`]) or
    /// an HCL expression.
    pub fn written_str(&self, s: &SymStr) -> String {
        if self.stack.format.is_cloudformation() {
            self.yaml_value(s)
        } else {
            crate::fix::hcl_string(self.stack, s)
        }
    }

    /// The value (whose string is `resolved`) written in the stack's own syntax, as the user
    /// wrote it when it is a reference: `!GetAtt Queue.Arn` or `aws_sqs_queue.q.arn`.
    pub fn written(&self, value: &iamlint_core::Value, resolved: &SymStr) -> String {
        if self.stack.format.is_cloudformation() {
            self.yaml_of(value, resolved)
        } else {
            crate::fix::hcl_of(self.stack, value, resolved)
        }
    }

    /// A reference written in the stack's own syntax: `!GetAtt Queue.Arn`, `!Ref Secret`, or
    /// `aws_sqs_queue.q.arn`.
    pub fn written_ref(&self, reference: &iamlint_core::Reference) -> String {
        use iamlint_core::Attribute;
        if self.stack.format.is_cloudformation() {
            match &reference.attribute {
                Attribute::Ref => format!("!Ref {}", reference.resource),
                Attribute::Get(a) => format!("!GetAtt {}.{a}", reference.resource),
            }
        } else {
            crate::fix::hcl_reference(self.stack, reference)
        }
    }

    /// A reference followed by literal text, in the stack's own syntax:
    /// `!Sub "${Bucket.Arn}/*"` or `"${aws_s3_bucket.b.arn}/*"`.
    pub fn written_ref_with(&self, reference: &iamlint_core::Reference, suffix: &str) -> String {
        use iamlint_core::Attribute;
        if self.stack.format.is_cloudformation() {
            match &reference.attribute {
                Attribute::Ref => format!("!Sub \"${{{}}}{suffix}\"", reference.resource),
                Attribute::Get(a) => format!("!Sub \"${{{}.{a}}}{suffix}\"", reference.resource),
            }
        } else {
            format!(
                "\"${{{}}}{suffix}\"",
                crate::fix::hcl_reference(self.stack, reference)
            )
        }
    }

    /// A policy statement in the stack's own syntax; `resource` is written in it
    /// ([`Context::written`]).
    pub fn fix_statement(&self, actions: &[&str], resource: &str) -> String {
        crate::fix::statement(self.stack.format, actions, resource, 2)
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
