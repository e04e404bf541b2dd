use crate::context::Context;
use crate::declare_rule;
use crate::evaluate::{parsed_role, role_request};
use crate::principal::{DocOrigin, PolicyDoc, Role};
use crate::registry::{Rule, RuleMeta};
use iamlint_core::{Diagnostic, Origin, Severity, Span};
use iamlint_policy::eval::{self, Layers, Outcome};
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it does
    /// Finds resources whose creation checks their role's permissions — a Lambda function
    /// attached to a VPC or with a dead-letter queue, an event source mapping, a state machine
    /// that logs — where the permission that check needs is granted only by a policy that is a
    /// separate resource (`AWS::IAM::Policy`, `AWS::IAM::RolePolicy`, an
    /// `AWS::IAM::ManagedPolicy` attached through its `Roles`; Terraform's
    /// `aws_iam_role_policy` and `aws_iam_role_policy_attachment`), and nothing orders that
    /// policy before the resource.
    ///
    /// ## Why is this bad?
    /// The resource refers to the role, not to the policy, so CloudFormation (or Terraform)
    /// creates the policy and the resource in parallel. When the resource comes first, its
    /// create-time check runs against a role without the permission, and the deploy fails
    /// intermittently: "The provided execution role does not have permissions to call
    /// CreateNetworkInterface on EC2".
    ///
    /// IAM is eventually consistent and services retry, so the failure is likely rather than
    /// certain: this rule reports warnings only. A policy in the role's own `Policies` or
    /// `ManagedPolicyArns` (Terraform `inline_policy`, `managed_policy_arns`) is attached
    /// when the role is created and has no such race; neither do the roles SAM generates.
    ///
    /// ## Example
    /// ```yaml
    /// Resources:
    ///   VpcAccess:
    ///     Type: AWS::IAM::Policy
    ///     Properties:
    ///       PolicyName: vpc-access
    ///       Roles: [!Ref FunctionRole]
    ///       PolicyDocument:
    ///         Statement:
    ///           - Effect: Allow
    ///             Action: [ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DeleteNetworkInterface]
    ///             Resource: "*"
    ///   Function:
    ///     Type: AWS::Lambda::Function
    ///     Properties:
    ///       Role: !GetAtt FunctionRole.Arn
    ///       VpcConfig:
    ///         SubnetIds: [subnet-0123456789abcdef0]
    ///         SecurityGroupIds: [sg-0123456789abcdef0]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///   Function:
    ///     Type: AWS::Lambda::Function
    ///     DependsOn: VpcAccess
    /// ```
    ///
    /// ## How to fix
    /// Add `DependsOn: <policy>` to the resource (Terraform: `depends_on =
    /// [aws_iam_role_policy_attachment.x]`), or move the statements into the role's inline
    /// `Policies`. In Terraform a `depends_on` names only what its own module declares: when
    /// the policy is attached in another module, the help puts it on the `module` block
    /// (`depends_on = [module.role]`).
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html
    /// - https://developer.hashicorp.com/terraform/language/meta-arguments/depends_on
    /// - https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
    pub struct PolicyAttachmentRace {
        code: "IAM039",
        name: "policy-attachment-race",
        severity: Warning,
        summary: "a create-time-validated permission sits in a separate policy nothing orders first",
    }
}

/// The rules whose requirements the service checks when the resource is created (the
/// function's network interfaces and dead-letter target, the mapping's source, the state
/// machine's log delivery).
const CREATE_TIME_CHECKED: &[&str] = &["IAM001", "IAM004", "IAM005", "IAM026"];

/// One finding: a resource, and the separately created policies its check needs.
struct Race {
    subject: String,
    /// The resources that put the needed policies in effect, with where each is declared.
    carriers: Vec<(String, Span)>,
    actions: Vec<&'static str>,
    /// What requires them: (span, why).
    causes: Vec<(Span, String)>,
    role: String,
}

/// The resource, other than the role, whose creation puts `doc` in effect for the role:
/// a policy resource that names the role in its `Roles`/`RoleName`, or the resource that
/// applies an entry of the role's `ManagedPolicyArns` (a Terraform policy attachment).
/// `None` when the policy is part of the role itself.
fn carrier(ctx: &Context<'_>, role: &Role<'_>, doc: &PolicyDoc<'_>) -> Option<(String, Span)> {
    if let Some(by) = ctx.stack.applied_by(role.id(), doc.span) {
        return Some((by.to_string(), doc.span));
    }
    match &doc.origin {
        DocOrigin::Attached { resource } => {
            let res = ctx.stack.resource(resource)?;
            // A managed policy listed in the role's `ManagedPolicyArns` is attached by the
            // role (which refers to it); one naming the role in its `Roles` attaches itself.
            (doc.span == res.span).then(|| (resource.clone(), res.span))
        }
        _ => None,
    }
}

impl PolicyAttachmentRace {
    fn races(ctx: &Context<'_>) -> Vec<Race> {
        let mut found: BTreeMap<(String, Vec<String>), Race> = BTreeMap::new();
        for req in ctx.requirements() {
            if !CREATE_TIME_CHECKED.contains(&req.code) {
                continue;
            }
            let Some(role) = ctx.role(&req.role).filter(|r| r.is_closed()) else {
                continue;
            };
            let unordered: Vec<Option<(String, Span)>> = role
                .identity
                .iter()
                .map(|doc| {
                    carrier(ctx, role, doc)
                        .filter(|(by, _)| ctx.created_after(&req.subject, by) == Some(false))
                })
                .collect();
            if unordered.iter().all(Option::is_none) {
                continue;
            }
            let parsed = parsed_role(ctx, role);
            let allowed = |include: &dyn Fn(usize) -> bool, action: &str| {
                let layers = Layers {
                    identity: parsed
                        .identity
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| include(*i))
                        .map(|(_, p)| p)
                        .collect(),
                    ..Layers::default()
                };
                let request = role_request(role, action, &req.resource);
                eval::evaluate(&request, &layers).outcome == Outcome::Allowed
            };
            let mut carriers: Vec<(String, Span)> = Vec::new();
            let mut actions = Vec::new();
            for &action in &req.actions {
                // Only a permission AWS grants once everything exists (else the rule that
                // requires it reports), and that the policies created first do not.
                if crate::evaluate::identity_outcome(ctx, role, action, &req.resource)
                    != Outcome::Allowed
                    || allowed(&|i| unordered[i].is_none(), action)
                {
                    continue;
                }
                let supplying: Vec<&(String, Span)> = unordered
                    .iter()
                    .enumerate()
                    .filter_map(|(j, c)| c.as_ref().map(|c| (j, c)))
                    .filter(|(j, _)| allowed(&|i| unordered[i].is_none() || i == *j, action))
                    .map(|(_, c)| c)
                    .collect();
                let supplying = if supplying.is_empty() {
                    unordered.iter().flatten().collect()
                } else {
                    supplying
                };
                for c in supplying {
                    if !carriers.iter().any(|(id, _)| id == &c.0) {
                        carriers.push(c.clone());
                    }
                }
                actions.push(action);
            }
            if actions.is_empty() {
                continue;
            }
            carriers.sort();
            let key = (
                req.subject.clone(),
                carriers.iter().map(|(id, _)| id.clone()).collect(),
            );
            let race = found.entry(key).or_insert_with(|| Race {
                subject: req.subject.clone(),
                carriers: carriers.clone(),
                actions: Vec::new(),
                causes: Vec::new(),
                role: role.id().to_string(),
            });
            for a in actions {
                if !race.actions.contains(&a) {
                    race.actions.push(a);
                }
            }
            if !race.causes.iter().any(|(s, _)| *s == req.span) {
                race.causes.push((req.span, req.why.clone()));
            }
        }
        found.into_values().collect()
    }
}

/// The module path of a Terraform address (`["a", "b"]` for `module.a[0].module.b.aws_x.y`)
/// and its resource part (`aws_x.y`).
fn module_path(address: &str) -> (Vec<String>, String) {
    let plain = crate::fix::hcl_without_keys(address);
    let parts: Vec<&str> = plain.split('.').collect();
    let mut path = Vec::new();
    let mut i = 0;
    while i + 1 < parts.len() && parts[i] == "module" {
        path.push(parts[i + 1].to_string());
        i += 2;
    }
    (path, parts[i..].join("."))
}

/// Where `depends_on` goes and what it lists, for `subject` to wait for `carriers` in
/// Terraform. A `depends_on` names only what its own module declares
/// (<https://developer.hashicorp.com/terraform/language/meta-arguments/depends_on>), so it is
/// written in the module the subject and the carriers share: on the subject, or on the
/// `module` block that holds it, listing each carrier, or the `module` block that holds it.
fn hcl_depends_on(subject: &str, carriers: &[&str]) -> (String, Vec<String>) {
    let (s_path, _) = module_path(subject);
    let shared = carriers
        .iter()
        .map(|c| {
            let (c_path, _) = module_path(c);
            s_path
                .iter()
                .zip(&c_path)
                .take_while(|(a, b)| a == b)
                .count()
        })
        .min()
        .unwrap_or(s_path.len());
    let target = if shared == s_path.len() {
        subject.to_string()
    } else {
        let mut block = String::new();
        for m in &s_path[..=shared] {
            if !block.is_empty() {
                block.push('.');
            }
            block.push_str("module.");
            block.push_str(m);
        }
        format!("the module block {block}")
    };
    let mut refs: Vec<String> = Vec::new();
    for c in carriers {
        let (c_path, resource) = module_path(c);
        let r = if c_path.len() == shared {
            resource
        } else {
            format!("module.{}", c_path[shared])
        };
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    (target, refs)
}

impl Rule for PolicyAttachmentRace {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let cfn = ctx.stack.format.is_cloudformation();
        for race in Self::races(ctx) {
            let Some(subject) = ctx.stack.resource(&race.subject) else {
                continue;
            };
            // A resource SAM generates takes `DependsOn` through the SAM resource it comes from.
            let owner = match &subject.origin {
                Origin::Generated { source } => source.clone(),
                Origin::Declared => subject.id.clone(),
            };
            // In Terraform the message names each policy by its full address; `depends_on`
            // is written in the module both sit under (see `hcl_depends_on`).
            let names: Vec<String> = race.carriers.iter().map(|(id, _)| id.clone()).collect();
            let policies = names.join(", ");
            let tool = if cfn { "CloudFormation" } else { "Terraform" };
            let message = format!(
                "{} needs {} from {policies}, but nothing orders {policies} before {}: {tool} may create {} first, and its create-time check of role {} fails.",
                subject.id,
                race.actions.join(", "),
                subject.id,
                subject.id,
                race.role,
            );
            let help = if cfn {
                let list = if names.len() == 1 {
                    names[0].clone()
                } else {
                    format!("[{}]", names.join(", "))
                };
                format!(
                    "add to {owner}:\n  DependsOn: {list}\nor move the statements into the Policies of role {}",
                    race.role
                )
            } else {
                let carriers: Vec<&str> = race.carriers.iter().map(|(id, _)| id.as_str()).collect();
                let (target, refs) = hcl_depends_on(&owner, &carriers);
                format!(
                    "add to {target}:\n  depends_on = [{}]\nor move the statements into an inline_policy of role {}",
                    refs.join(", "),
                    race.role
                )
            };
            let mut d = Diagnostic::new(
                Self::META.code,
                Self::META.name,
                Severity::Warning,
                subject.span,
                message,
            )
            .with_label(format!("{} is not ordered after {policies}", subject.id));
            for ((_, span), name) in race.carriers.iter().zip(&names) {
                d = d.with_secondary(*span, format!("{name} grants {}", race.actions.join(", ")));
            }
            for (span, why) in &race.causes {
                d = d.with_secondary(*span, format!("checked at creation: {why}"));
            }
            d.labels.dedup_by(|a, b| a.span == b.span);
            out.push(d.with_help(help).with_resource(subject.id.clone()));
        }
    }
}
