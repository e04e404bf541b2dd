use crate::context::Context;
use crate::declare_rule;
use crate::evaluate::{Levels, Scope, decide_with, locate, parsed_role};
use crate::principal::{DocOrigin, Role};
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, all_required};
use iamlint_core::{Diagnostic, Span};
use iamlint_policy::eval::{Layer, Outcome, Tri};
use iamlint_policy::policy::Effect;
use std::collections::HashMap;

declare_rule! {
    /// ## What it does
    /// Finds actions the stack's wiring needs (the requirements of IAM001–IAM028) that a
    /// role's own policies allow but its permissions boundary does not, or that a level of the
    /// service control policies given with `--scp` does not allow.
    ///
    /// ## Why is this bad?
    /// A permissions boundary and every level of an organisation's SCPs cap what a role may
    /// do: the effective permission is the intersection. A grant in the role's policy that
    /// the boundary does not also allow has no effect, and the request fails with
    /// `AccessDenied` ("... because no permissions boundary allows the ... action") although
    /// the role's policy reads right.
    ///
    /// ## Example
    /// ```yaml
    /// Boundary:
    ///   Type: AWS::IAM::ManagedPolicy
    ///   Properties:
    ///     PolicyDocument:
    ///       Statement:
    ///         - Effect: Allow
    ///           Action: [logs:*, s3:*]
    ///           Resource: "*"
    /// FunctionRole:
    ///   Type: AWS::IAM::Role
    ///   Properties:
    ///     PermissionsBoundary: !Ref Boundary
    ///     ManagedPolicyArns:
    ///       - !Sub arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole
    /// Function:
    ///   Type: AWS::Lambda::Function
    ///   Properties:
    ///     Role: !GetAtt FunctionRole.Arn
    ///     VpcConfig: { SubnetIds: [subnet-1], SecurityGroupIds: [sg-1] }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    ///         - Effect: Allow
    ///           Action: [logs:*, s3:*, ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DeleteNetworkInterface]
    ///           Resource: "*"
    /// ```
    ///
    /// ## How to fix
    /// Add the actions to the boundary (or choose a boundary that allows them), or to an
    /// `Allow` of every SCP level that lacks them. The role's own policy needs no change; the
    /// wiring rule that requires the action stays silent so that the one root cause is
    /// reported once.
    ///
    /// A boundary given by parameter or otherwise out of sight is not reported. SCPs are only
    /// checked when given with `--scp` (or `scp` in `iamlint.toml`): iamlint never assumes an
    /// organisation has them. A level whose files hold no `Allow` at all is taken to keep AWS's
    /// default `FullAWSAccess`.
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    /// - https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
    pub struct BoundaryOrScpMissingAllow {
        code: "IAM030",
        name: "boundary-or-scp-missing-allow",
        severity: Error,
        summary: "a permissions boundary or supplied SCP does not allow a required action",
    }
}

/// What takes a requirement's actions away.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Limit {
    Boundary,
    /// The SCP level at this index.
    Scp(usize),
}

/// Actions a limit takes away, with the statements of the role's policies that grant them.
struct Limited {
    limit: Limit,
    actions: Vec<&'static str>,
    grants: Vec<(Span, String)>,
}

impl Rule for BoundaryOrScpMissingAllow {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let all = all_required(ctx);
        let mut reports: Vec<(usize, Limited)> = Vec::new();
        for (index, required) in all.iter().enumerate() {
            let req = &required.req;
            let context = required.context.as_slice();
            let Some(role) = ctx.role(&req.role) else {
                continue;
            };
            let parsed = parsed_role(ctx, role);
            let mut found: Vec<Limited> = Vec::new();
            for &action in &req.actions {
                let Some(own) = decide_with(
                    ctx,
                    role,
                    action,
                    &req.resource,
                    Scope::IDENTITY,
                    None,
                    context,
                ) else {
                    continue;
                };
                if own.outcome != Outcome::Allowed {
                    continue;
                }
                let mut limits = Vec::new();
                // Only a boundary iamlint can read (`Some(Some(_))`) is checked.
                if matches!(role.boundary, Some(Some(_)))
                    && decide_with(
                        ctx,
                        role,
                        action,
                        &req.resource,
                        Scope {
                            boundary: true,
                            ..Scope::IDENTITY
                        },
                        None,
                        context,
                    )
                    .is_some_and(|d| d.outcome == Outcome::ImplicitlyDenied)
                {
                    limits.push(Limit::Boundary);
                }
                for level in 0..ctx.options.scps.len() {
                    let scope = Scope {
                        scps: Levels::Only(level),
                        ..Scope::IDENTITY
                    };
                    if decide_with(ctx, role, action, &req.resource, scope, None, context)
                        .is_some_and(|d| d.outcome == Outcome::ImplicitlyDenied)
                    {
                        limits.push(Limit::Scp(level));
                    }
                }
                if limits.is_empty() {
                    continue;
                }
                let grants: Vec<(Span, String)> = own
                    .trace
                    .iter()
                    .filter(|e| {
                        e.layer == Layer::Identity
                            && e.effect == Effect::Allow
                            && e.matched == Tri::Yes
                    })
                    .map(|e| (e.span, locate(ctx, role, &parsed, None, e).policy))
                    .collect();
                for limit in limits {
                    match found.iter_mut().find(|l| l.limit == limit) {
                        Some(l) => {
                            l.actions.push(action);
                            for g in &grants {
                                if !l.grants.iter().any(|(s, _)| *s == g.0) {
                                    l.grants.push(g.clone());
                                }
                            }
                        }
                        None => found.push(Limited {
                            limit,
                            actions: vec![action],
                            grants: grants.clone(),
                        }),
                    }
                }
            }
            reports.extend(found.into_iter().map(|l| (index, l)));
        }
        // One root cause, one finding: a boundary that leaves the same actions out for several
        // functions of one role gets one statement covering every resource they need, so their
        // findings have the same fix at the same place and merge (`merge`).
        let mut resources: HashMap<(String, String), Vec<String>> = HashMap::new();
        for (index, limited) in &reports {
            let req = &all[*index].req;
            if limited.limit == Limit::Boundary {
                let list = resources
                    .entry((req.role.clone(), limited.actions.join(",")))
                    .or_default();
                let r = resource_yaml(ctx, req);
                if !list.contains(&r) {
                    list.push(r);
                }
            }
        }
        for (index, limited) in reports {
            let req = &all[index].req;
            let Some(role) = ctx.role(&req.role) else {
                continue;
            };
            let shared = resources
                .get(&(req.role.clone(), limited.actions.join(",")))
                .cloned()
                .unwrap_or_else(|| vec![resource_yaml(ctx, req)]);
            out.push(report(ctx, req, role, &limited, &shared));
        }
    }
}

/// The resource as a YAML value for a statement.
fn resource_yaml(ctx: &Context<'_>, req: &Requirement<'_>) -> String {
    match req.cite {
        Some(v) => ctx.written(v, &req.resource),
        None if req.resource_text(ctx) == "*" => "\"*\"".to_string(),
        None => ctx.written_str(&req.resource),
    }
}

fn report(
    ctx: &Context<'_>,
    req: &Requirement<'_>,
    role: &Role<'_>,
    limited: &Limited,
    resources: &[String],
) -> Diagnostic {
    let role_name = role.id();
    let actions = limited.actions.join(", ");
    let arn = req.resource_text(ctx);
    let them = if limited.actions.len() == 1 {
        "it"
    } else {
        "them"
    };
    let granted_by = limited
        .grants
        .first()
        .map_or_else(|| format!("role {role_name}'s policy"), |(_, p)| p.clone());
    let (span, message, label, help) = match limited.limit {
        Limit::Boundary => {
            let Some(Some(boundary)) = &role.boundary else {
                // Only readable boundaries are reported (checked above).
                return Diagnostic::new(
                    BoundaryOrScpMissingAllow::META.code,
                    BoundaryOrScpMissingAllow::META.name,
                    req.severity,
                    role.resource.span,
                    format!("role {role_name}'s permissions boundary does not allow {actions}"),
                );
            };
            let span = role
                .resource
                .properties
                .as_map()
                .and_then(|m| m.get_entry("PermissionsBoundary"))
                .map_or(role.resource.span, |(k, _)| k.span);
            let help = match &boundary.origin {
                DocOrigin::AwsManaged { .. } => format!(
                    "use a permissions boundary that also allows {actions} on {arn}: the AWS managed policy {} does not",
                    boundary.name
                ),
                DocOrigin::Attached { .. } | DocOrigin::Inline => {
                    let name = match &boundary.origin {
                        // The logical id: what the user finds in the template.
                        DocOrigin::Attached { resource } => resource.clone(),
                        _ => boundary.name.clone(),
                    };
                    format!(
                        "add this statement to the boundary policy {name}:\n{}",
                        crate::fix::statement_on(
                            ctx.stack.format,
                            &limited.actions,
                            &resources.iter().map(String::as_str).collect::<Vec<_>>(),
                            2
                        )
                    )
                }
            };
            (
                span,
                format!(
                    "Role {role_name} has permissions boundary {}, which does not allow {actions} on {arn}. Even though {granted_by} grants {them}, the effective permission is denied. {}",
                    boundary.name,
                    req.because(limited.actions.len())
                ),
                format!("this boundary does not allow {actions}"),
                help,
            )
        }
        Limit::Scp(level) => {
            let org = ctx.options.scps.get(level);
            let name = org.map_or("", |l| l.name.as_str());
            // Point at the level's first `Allow`: the allow list that leaves the action out.
            let span = org
                .and_then(|l| {
                    l.policies
                        .iter()
                        .flat_map(|p| &p.statements)
                        .find(|s| s.effect == Effect::Allow)
                        .map(|s| s.span)
                        .or_else(|| l.policies.first().map(|p| p.span))
                })
                .unwrap_or(role.resource.span);
            let list = limited
                .actions
                .iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ");
            (
                span,
                format!(
                    "The SCPs of organisation level {} ({name}) do not allow {actions} on {arn} for role {role_name}. Even though {granted_by} grants {them}, the effective permission is denied. {}",
                    level + 1,
                    req.because(limited.actions.len())
                ),
                format!("no Allow at this level covers {actions}"),
                format!(
                    "add this statement to an SCP of organisation level {} ({name}):\n  {{\"Effect\": \"Allow\", \"Action\": [{list}], \"Resource\": \"*\"}}",
                    level + 1
                ),
            )
        }
    };
    let mut d = Diagnostic::new(
        BoundaryOrScpMissingAllow::META.code,
        BoundaryOrScpMissingAllow::META.name,
        req.severity,
        span,
        message,
    )
    .with_label(label);
    for (grant_span, policy) in &limited.grants {
        d = d.with_secondary(*grant_span, format!("{policy} grants {them} here"));
    }
    d.with_secondary(req.span, format!("{}: needs {actions}", req.why))
        .with_runs_as(role, req.role_value, &req.subject)
        .with_help(help)
        .with_resource(req.subject.clone())
}
